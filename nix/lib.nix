# The database contract of dbprov, for Nix: the entry type services can use
# for their `databases` option, and the checks and the plan of the NixOS
# collector module (./collector.nix).
#
#   dbprovLib = import ./nix/lib.nix { inherit lib; };
#   options.qgroget.server.immich.databases = lib.mkOption {
#     type = lib.types.listOf dbprovLib.databaseType;
#     default = [ ];
#   };
#
# Everything here is pure: `plan` takes the services and returns what to
# provision, the connection data and the diagnostics. Its messages and help
# texts are dbprov's, word for word (src/rules/db0*.rs), so that an assertion
# at build time reads exactly like the diagnostic `dbprov check` printed before.
{ lib }:
let
  inherit (builtins)
    attrNames
    concatStringsSep
    elem
    elemAt
    filter
    foldl'
    genList
    head
    isAttrs
    isBool
    isInt
    isList
    isString
    length
    stringLength
    substring
    typeOf
    ;
  inherit (lib)
    concatMap
    findFirst
    hasInfix
    hasPrefix
    hasSuffix
    optional
    optionals
    toLower
    ;

  # --- strings -------------------------------------------------------------

  # UTF-8 continuation bytes (0x80-0xBF), taken from the encodings of U+0080
  # and U+00BF: Nix compares strings byte by byte, unsigned.
  byteOf = escape: builtins.fromJSON ''"${escape}"'';
  continuationLow = substring 1 1 (byteOf "\\u0080");
  continuationHigh = substring 1 1 (byteOf "\\u00bf");
  isContinuation = b: continuationLow <= b && b <= continuationHigh;

  # The characters of a UTF-8 string (Nix strings are bytes; dbprov counts
  # characters where Rust does).
  chars =
    s:
    let
      n = stringLength s;
      starts = filter (i: !isContinuation (substring i 1 s)) (genList (i: i) n);
      k = length starts;
    in
    genList (
      j:
      let
        start = elemAt starts j;
        end = if j + 1 < k then elemAt starts (j + 1) else n;
      in
      substring start (end - start) s
    ) k;

  isAsciiAlpha = c: builtins.match "[A-Za-z]" c != null;
  isIdentChar = c: builtins.match "[A-Za-z0-9_]" c != null;
  hasAsciiUpper = s: builtins.match ".*[A-Z].*" s != null;
  min = a: b: if a < b then a else b;
  max = a: b: if a > b then a else b;
  # A value in double quotes, as dbprov writes names in its messages.
  quoted = s: ''"${s}"'';

  # --- PostgreSQL identifiers (src/rules/identifier.rs) ----------------------

  maxIdentifierBytes = 63;

  identifierProblem =
    name:
    let
      cs = chars name;
      first = head cs;
      bad = findFirst (c: !isIdentChar c) null cs;
    in
    if name == "" then
      "it is empty"
    else if !(isAsciiAlpha first || first == "_") then
      "it starts with '${first}', not a letter or '_'"
    else if bad != null then
      "it contains '${bad}'; only letters, digits and '_' are allowed"
    else if stringLength name > maxIdentifierBytes then
      "it is ${toString (stringLength name)} bytes long; PostgreSQL allows at most ${toString maxIdentifierBytes}"
    else
      null;

  correctedIdentifier =
    name:
    let
      mapped = lib.concatStrings (map (c: if isIdentChar c then c else "_") (chars name));
      first = substring 0 1 mapped;
      prefixed = if mapped == "" || !(isAsciiAlpha first || first == "_") then "_" + mapped else mapped;
    in
    # Every character is ASCII now: bytes and characters agree.
    substring 0 maxIdentifierBytes prefixed;

  reservedDatabases = [
    "postgres"
    "template0"
    "template1"
  ];
  reservedRoles = [
    "postgres"
    "public"
    "none"
    "current_user"
    "session_user"
    "current_role"
  ];
  isReservedRole = r: elem r reservedRoles || hasPrefix "pg_" r;

  # --- suggestions (src/rules/suggest.rs) -----------------------------------

  # Edit distance over characters, a swap of two neighbours counting as one
  # edit (optimal string alignment).
  distance =
    a: b:
    let
      as = chars a;
      bs = chars b;
      lb = length bs;
      nextRow =
        {
          pp,
          p,
          i,
        }:
        let
          ai = elemAt as (i - 1);
          row = foldl' (
            cur: j:
            let
              bj = elemAt bs (j - 1);
              cost = if ai == bj then 0 else 1;
              best = min (min (elemAt p j + 1) (elemAt cur (j - 1) + 1)) (elemAt p (j - 1) + cost);
              swapped = i > 1 && j > 1 && ai == elemAt bs (j - 2) && elemAt as (i - 2) == bj;
            in
            cur ++ [ (if swapped then min best (elemAt pp (j - 2) + 1) else best) ]
          ) [ i ] (genList (j: j + 1) lb);
        in
        {
          pp = p;
          p = row;
          i = i + 1;
        };
      last = foldl' (st: _: nextRow st) {
        pp = [ ];
        p = genList (j: j) (lb + 1);
        i = 1;
      } as;
    in
    elemAt last.p lb;

  # The candidate nearest to `input`: one that `input` is a prefix of (or the
  # reverse), else the smallest edit distance within a third of the longer word.
  nearest =
    input: candidates:
    let
      lower = toLower input;
      prefixHit =
        if stringLength lower >= 3 then
          findFirst (c: hasPrefix lower c || hasPrefix c lower) null candidates
        else
          null;
      scored = map (c: {
        inherit c;
        d = distance lower (toLower c);
      }) candidates;
      close = filter (x: x.d <= max (max (length (chars x.c)) (length (chars input)) / 3) 1) scored;
      best = foldl' (
        acc: x: if acc == null || x.d < acc.d || (x.d == acc.d && x.c < acc.c) then x else acc
      ) null close;
    in
    if prefixHit != null then
      prefixHit
    else if best == null then
      null
    else
      best.c;

  # --- passwords (src/rules/db008_plaintext_password.rs, src/model/literals.rs)

  hashPrefixes = [
    "$2a$"
    "$2b$"
    "$2y$"
    "$argon2"
    "$pbkdf2"
    "$scrypt$"
    "$1$"
    "$5$"
    "$6$"
    "$7$"
    "$y$"
    "$gy$"
    "SCRAM-SHA-256$"
  ];
  isHash =
    v:
    lib.any (p: hasPrefix p v) hashPrefixes
    || (
      stringLength v == 35
      && hasPrefix "md5" v
      && builtins.match "[0-9a-fA-F]*" (substring 3 32 v) != null
    );
  isPlaintextPassword =
    key: value:
    let
      k = toLower key;
    in
    (hasInfix "password" k || hasInfix "passwd" k)
    && !(hasSuffix "file" k)
    && !(hasSuffix "path" k)
    && isString value
    && value != ""
    && !(isHash value);

  yamlExample =
    key:
    let
      parts = lib.splitString "/" key;
      n = length parts;
    in
    concatStringsSep "\n" (
      lib.imap0 (
        i: part:
        lib.concatStrings (lib.replicate (i + 1) "  ")
        + (if i + 1 == n then "${part}: <the password>" else "${part}:")
      ) parts
    );

  # --- the schema ------------------------------------------------------------

  typeName =
    v:
    {
      string = "a string";
      int = "an integer";
      float = "a float";
      bool = "a Boolean";
      null = "null";
      list = "a list";
      set = "a set";
      lambda = "a function";
      path = "a path";
    }
    .${typeOf v} or (typeOf v);

  # Expected type of each field, as DB007 names it.
  expected = {
    type = "a string";
    name = "a string";
    user = "a string";
    port = "an integer";
    extraConfig = "a set";
  };
  fieldMatches =
    field: v:
    if field == "port" then
      isInt v
    else if field == "extraConfig" then
      isAttrs v
    else
      isString v;
  fieldExample =
    field: service:
    if field == "port" then
      "port = 5432;"
    else if field == "extraConfig" then
      "extraConfig = { };"
    else if field == "type" then
      ''type = "postgresql";''
    else
      ''${field} = "${service}";'';

  exampleEntry =
    dbType: name: user:
    "Example:\n  databases = [{\n    type = \"${dbType}\";\n    name = \"${name}\";\n"
    + lib.optionalString (user != null) "    user = \"${user}\";\n"
    + "  }];";

  diag = code: rule: message: help: {
    inherit
      code
      rule
      message
      help
      ;
    # What an assertion or a warning prints: dbprov's message, a blank line,
    # dbprov's help (as SPEC §4 shows DB001).
    text = "${message}\n\n${help}";
  };
in
rec {
  # The database types dbprov knows, in the order its messages list them.
  databaseTypes = [
    "mongodb"
    "postgresql"
    "redis"
  ];

  # Per type: where the server listens (dbprov.toml's `[defaults.<type>]`).
  defaults = {
    postgresql = {
      host = "localhost";
      port = 5432;
    };
    redis = {
      host = "localhost";
      port = 6379;
    };
    mongodb = {
      host = "localhost";
      port = 27017;
    };
  };

  # The fields of a database entry (SPEC §1), in dbprov's order.
  entryFields = [
    "type"
    "name"
    "user"
    "port"
    "extraConfig"
  ];

  # The entry type, for a service's `databases` option:
  #
  #   databases = lib.mkOption { type = lib.types.listOf databaseType; default = [ ]; };
  #
  # `type`, `name` and `user` default to null rather than having no default:
  # a missing field then reaches the collector, whose assertion says what dbprov
  # says (DB001), instead of the module system's "used but not defined". For the
  # same reason `type` is a string, not an enum (DB002 names the nearest type),
  # `port` any integer (DB020), and unknown fields are kept (freeform) so that
  # DB006/DB008 can name them. Fields of the wrong type are the module system's
  # own errors. The collector accepts plain attribute sets (`listOf attrs`) too.
  databaseType = lib.types.submodule (
    { config, ... }:
    {
      freeformType = lib.types.lazyAttrsOf lib.types.raw;
      options = {
        type = lib.mkOption {
          type = lib.types.nullOr lib.types.str;
          default = null;
          example = "postgresql";
          description = "The database type: one of ${concatStringsSep ", " databaseTypes}. Required.";
        };
        name = lib.mkOption {
          type = lib.types.nullOr lib.types.str;
          default = null;
          example = "immich";
          description = "The database name. Required. For PostgreSQL a plain identifier: a letter or `_`, then letters, digits, `_`; at most 63 bytes.";
        };
        user = lib.mkOption {
          type = lib.types.nullOr lib.types.str;
          default = null;
          example = "immich";
          description = "The role that owns the database. Required for PostgreSQL; same rules as `name`.";
        };
        port = lib.mkOption {
          type = lib.types.nullOr lib.types.int;
          default =
            if config.type != null && defaults ? ${config.type} then defaults.${config.type}.port else null;
          defaultText = lib.literalExpression "5432, 6379 or 27017, by type";
          description = "The port the database server listens on (1-65535).";
        };
        extraConfig = lib.mkOption {
          type = lib.types.attrsOf lib.types.anything;
          default = { };
          description = "Further settings, passed through unchanged.";
        };
      };
    }
  );

  inherit
    chars
    identifierProblem
    correctedIdentifier
    nearest
    distance
    isPlaintextPassword
    yamlExample
    ;

  # Diagnostics of one entry of an enabled service, in dbprov's words.
  # A field that is absent or null counts as missing: an entry of
  # `databaseType` has every declared field, null when not given.
  entryDiagnostics =
    {
      service,
      entry,
      secretKey,
      secretsFile,
    }:
    let
      e = entry;
      has = f: e ? ${f} && e.${f} != null;
      str = f: if e ? ${f} && isString e.${f} then e.${f} else null;
      t = str "type";
      isPg = t == "postgresql";
      nameOrService = if str "name" != null then str "name" else service;
      own = lib.replaceStrings [ "-" ] [ "_" ] service;

      db001 = map (
        field:
        diag "DB001" "missing-field" "Service '${service}' declares database with missing required field '${field}'" (
          if isPg then
            "All PostgreSQL databases require: type, name, user\n\n"
            + exampleEntry "postgresql" nameOrService nameOrService
          else
            let
              t' = if t != null then t else "postgresql";
            in
            "All databases require: type, name (and user for PostgreSQL)\n\n"
            + exampleEntry t' nameOrService (if t' == "postgresql" then nameOrService else null)
        )
      ) (filter (f: !has f) ([ "type" "name" ] ++ optional isPg "user"));

      db002 = optionals (t != null && !elem t databaseTypes) (
        let
          suggestion = nearest t databaseTypes;
          fixed = if suggestion != null then suggestion else "postgresql";
        in
        [
          (diag "DB002" "unknown-type"
            "Service '${service}' declares database '${nameOrService}' with unknown type \"${t}\"; allowed: ${concatStringsSep ", " databaseTypes}"
            "Use one of the allowed types:\n\n  { type = \"${fixed}\"; name = \"${nameOrService}\"; ... }"
          )
        ]
      );

      identifierRule =
        {
          code,
          rule,
          field,
          what,
          article,
        }:
        let
          v = str field;
          problem = if isPg && v != null then identifierProblem v else null;
          fixed = correctedIdentifier v;
        in
        optional (problem != null) (
          diag code rule
            "Service '${service}' declares ${what} ${quoted v} that is not a valid PostgreSQL identifier: ${problem}"
            "${article} starts with a letter or '_', continues with letters, digits or '_', and has at most 63 bytes:\n\n  ${field} = ${quoted fixed};"
        );
      db003 = identifierRule {
        code = "DB003";
        rule = "invalid-name";
        field = "name";
        what = "database name";
        article = "A database name";
      };
      db004 = identifierRule {
        code = "DB004";
        rule = "invalid-user";
        field = "user";
        what = "role";
        article = "A role name";
      };

      keys = filter (k: e.${k} != null) (attrNames e);

      db006 = map (
        key:
        let
          suggestion = nearest key entryFields;
        in
        diag "DB006" "unknown-field" "Service '${service}' declares database with unknown field '${key}'" (
          if suggestion != null then
            "Rename the field:\n\n  ${suggestion} = ...;\n\nA database entry has: ${concatStringsSep ", " entryFields}"
          else
            "Remove the field; a database entry has: ${concatStringsSep ", " entryFields} (extra settings go in `extraConfig`)"
        )
      ) (filter (k: !(elem k entryFields) && !(isPlaintextPassword k e.${k})) (attrNames e));

      db007 = map (
        key:
        diag "DB007" "wrong-type"
          "Service '${service}' declares database field '${key}' as ${typeName e.${key}}, expected ${expected.${key}}"
          (fieldExample key service)
      ) (filter (k: expected ? ${k} && !(fieldMatches k e.${k})) keys);

      db008 = map (
        key:
        diag "DB008" "plaintext-password"
          "Service '${service}' declares a database password in clear in field '${key}'"
          "Remove `${key}` and keep the password in SOPS, at `${secretKey}` in ${secretsFile}:\n\n${yamlExample secretKey}\n\nThe password is already in the repository's history: change it too."
      ) (filter (k: isPlaintextPassword k e.${k}) (attrNames e));

      db009 = concatMap (
        {
          field,
          what,
        }:
        let
          v = str field;
          reserved = if field == "name" then elem v reservedDatabases else isReservedRole v;
        in
        optional (isPg && v != null && reserved) (
          diag "DB009" "reserved-name" "Service '${service}' uses the reserved ${what} name ${quoted v}"
            "PostgreSQL creates or reserves ${quoted v} itself; give the service its own ${what}:\n\n  ${field} = ${quoted own};"
        )
      ) [
        {
          field = "name";
          what = "database";
        }
        {
          field = "user";
          what = "role";
        }
      ];

      db016 = concatMap (
        {
          field,
          what,
        }:
        let
          v = str field;
          lower = toLower v;
          valid = identifierProblem v == null;
        in
        optional (isPg && v != null && hasAsciiUpper v) (
          diag "DB016" "identifier-case"
            (
              if valid then
                "Service '${service}' declares the ${what} name ${quoted v} with upper-case letters; unquoted, PostgreSQL reads it as ${quoted lower}"
              else
                "Service '${service}' declares the ${what} name ${quoted v} with upper-case letters, which PostgreSQL folds to lower case unless the name is quoted"
            )
            "PostgreSQL folds unquoted identifiers to lower case, so every SQL statement that names this ${what} must quote it. Use the lower-case name:\n\n  ${field} = ${
              quoted (if valid then lower else correctedIdentifier lower)
            };"
        )
      ) [
        {
          field = "name";
          what = "database";
        }
        {
          field = "user";
          what = "role";
        }
      ];

      db020 =
        let
          port = e.port or null;
          default = if t != null && defaults ? ${t} then defaults.${t}.port else null;
        in
        optional (isInt port && (port < 1 || port > 65535)) (
          diag "DB020" "invalid-port" "Service '${service}' declares database port ${toString port}, outside 1–65535" (
            if default != null then
              "A TCP port is between 1 and 65535. Use the port the server listens on, or leave `port` out for the ${t} default (${toString default}):\n\n  port = ${toString default};"
            else
              "A TCP port is between 1 and 65535; use the port the server listens on."
          )
        );
    in
    if !isAttrs e then
      {
        errors = [
          (diag "DB007" "wrong-type" "Service '${service}' declares a database entry that is ${typeName e}, not a set"
            "Each element of `databases` is a set:\n\n  { type = \"postgresql\"; name = \"${service}\"; user = \"${service}\"; }"
          )
        ];
        warnings = [ ];
      }
    else
      {
        errors = db001 ++ db002 ++ db003 ++ db004 ++ db006 ++ db007 ++ db008 ++ db009 ++ db020;
        warnings = db016;
      };

  # The plan: what to provision, and every diagnostic.
  #
  # services: [ { name; enable; enableDefined; databases; } ], sorted by name.
  #   `enable` is only read when `enableDefined`; `databases` only when the
  #   service is enabled, or when `enable` is undefined (DB014) - a disabled
  #   service's declarations are never forced, as Nix would not force them.
  # servicePath: for messages. secretKey: service -> SOPS key.
  # passwordFile: SOPS key -> path of the decrypted secret, or null.
  plan =
    {
      services,
      servicePath,
      secretKey,
      secretsFile ? "secrets/secrets.yaml",
      passwordFile ? _: null,
    }:
    let
      path = concatStringsSep "." servicePath;

      serviceDiagnostics =
        s:
        let
          p = "${path}.${s.name}";
        in
        if !s.enableDefined then
          optional (isList s.databases && s.databases != [ ]) (
            diag "DB014" "undefined-enable"
              "Service '${s.name}' declares databases but `${p}.enable` is never defined and has no default"
              "Enable or disable it in the settings file:\n\n  ${p}.enable = true;\n\nor declare the option with a default:\n\n  options.${p}.enable = lib.mkEnableOption \"${s.name}\";"
          )
        else
          optional (!isBool s.enable) (
            diag "DB007" "wrong-type" "Service '${s.name}' defines `enable` as ${typeName s.enable}, not a Boolean"
              "${p}.enable = true;"
          )
          ++ optional (s.enable == true && !isList s.databases) (
            diag "DB007" "wrong-type" "Service '${s.name}' defines `databases` as ${typeName s.databases}, not a list"
              "`databases` is a list, even for one database:\n\n  databases = [{ type = \"postgresql\"; name = \"${s.name}\"; user = \"${s.name}\"; }];"
          );

      enabled = filter (s: s.enableDefined && s.enable == true && isList s.databases) services;

      # Every entry of every enabled service, in order, with its own diagnostics.
      entries = concatMap (
        s:
        lib.imap0 (
          index: entry:
          let
            d = entryDiagnostics {
              service = s.name;
              inherit entry secretsFile;
              secretKey = secretKey s.name;
            };
            str = f: if isAttrs entry && entry ? ${f} && isString entry.${f} then entry.${f} else null;
          in
          {
            service = s.name;
            inherit index entry;
            type = str "type";
            name = str "name";
            user = str "user";
            inherit (d) errors warnings;
          }
        ) s.databases
      ) enabled;

      # DB005: the same (type, name) twice among enabled services; the later
      # declaration is the error, the first one is provisioned.
      withDuplicates =
        (foldl' (
          acc: x:
          let
            key = "${x.type}\n${x.name}";
            first = acc.seen.${key} or null;
          in
          if x.type == null || x.name == null then
            acc // { out = acc.out ++ [ x ]; }
          else if first == null then
            {
              seen = acc.seen // {
                ${key} = x.service;
              };
              out = acc.out ++ [ x ];
            }
          else
            acc
            // {
              out = acc.out ++ [
                (
                  x
                  // {
                    errors = x.errors ++ [
                      (diag "DB005" "duplicate-database"
                        "${x.type} database ${quoted x.name} is declared ${
                          if first == x.service then "twice by service '${x.service}'" else "by services '${first}' and '${x.service}'"
                        }"
                        (
                          if first == x.service then
                            "Remove the repeated entry, or give it another name, e.g.:\n\n  name = \"${x.name}_2\";"
                          else
                            "Give each service its own database, e.g.:\n\n  name = \"${lib.replaceStrings [ "-" ] [ "_" ] x.service}\";"
                        )
                      )
                    ];
                  }
                )
              ];
            }
        ) {
          seen = { };
          out = [ ];
        } entries).out;

      # DB010: a role a declaration of another service used first.
      sharedUsers =
        (foldl' (
          acc: x:
          let
            role = x.user;
            first = acc.first.${role} or null;
            usable = x.type == "postgresql" && role != null && identifierProblem role == null && !(isReservedRole role);
            ownName = x.name;
            own =
              if
                ownName != null
                && ownName != role
                && identifierProblem ownName == null
                && !(isReservedRole ownName)
                && !(hasAsciiUpper ownName)
              then
                ownName
              else
                lib.replaceStrings [ "-" ] [ "_" ] x.service;
          in
          if !usable then
            acc
          else if first == null then
            acc
            // {
              first = acc.first // {
                ${role} = x.service;
              };
            }
          else if first != x.service then
            acc
            // {
              out = acc.out ++ [
                (diag "DB010" "shared-user" "PostgreSQL role ${quoted role} is used by services '${first}' and '${x.service}'"
                  "Give each service its own role, so that each can reach only its own database:\n\n  user = ${quoted own};"
                )
              ];
            }
          else
            acc
        ) {
          first = { };
          out = [ ];
        } entries).out;

      # What is provisioned: entries of enabled services without errors,
      # sorted as dbprov's report sorts them (service, type, name).
      byServiceTypeName =
        a: b:
        if a.service != b.service then
          a.service < b.service
        else if a.type != b.type then
          a.type < b.type
        else
          a.name < b.name;
      databases = lib.sort byServiceTypeName (map (
        x:
        let
          port = if isInt (x.entry.port or null) then x.entry.port else defaults.${x.type}.port;
          key = secretKey x.service;
        in
        {
          inherit (x) service type name;
          inherit (x) user;
          inherit (defaults.${x.type}) host;
          inherit port;
          passwordSecret = key;
          passwordFile = passwordFile key;
          owner = if x.type == "postgresql" then x.user else null;
          ownership =
            if x.type != "postgresql" then
              null
            else if x.user == x.name then
              "ensureDBOwnership"
            else
              "alter-owner";
        }
      ) (filter (x: x.errors == [ ]) withDuplicates));

      pg = filter (d: d.type == "postgresql") databases;
      sortedUnique = xs: lib.sort (a: b: a < b) (lib.unique xs);
      ensureDatabases = sortedUnique (map (d: d.name) pg);
      roles = sortedUnique (map (d: d.user) pg);

      errors =
        concatMap serviceDiagnostics services ++ concatMap (x: x.errors) withDuplicates;
      warnings = concatMap (x: x.warnings) entries ++ sharedUsers;
    in
    {
      inherit databases errors warnings;
      postgresql = {
        enable = pg != [ ];
        inherit ensureDatabases;
        # NixOS asserts that a user with ensureDBOwnership has a database of
        # its name; every other owner is made owner explicitly (ALTER DATABASE).
        ensureUsers = map (u: {
          name = u;
          ensureDBOwnership = elem u ensureDatabases;
        }) roles;
      };
      # The databases PostgreSQL serves, and each one's owner.
      owners = map (d: {
        inherit (d) name owner service;
      }) pg;
      # Per role, the SOPS key of the first service that uses it.
      rolePasswords = lib.foldl' (
        acc: d: if acc ? ${d.user} then acc else acc // { ${d.user} = d.passwordSecret; }
      ) { } pg;
      # dbprov's `connections`: per service, what it connects to.
      connections = lib.foldl' (
        acc: d:
        acc
        // {
          ${d.service} = (acc.${d.service} or [ ]) ++ [
            {
              inherit (d)
                type
                host
                port
                user
                passwordSecret
                passwordFile
                ;
              database = d.name;
            }
          ];
        }
      ) { } databases;
    };
}
