# The NixOS collector module: the build-time twin of dbprov.
#
#   mkCollectorModule = import ./nix/collector.nix;
#   imports = [ (mkCollectorModule { servicePath = [ "qgroget" "serviceModules" ]; }) ];
#
# (`import ./nix/module.nix` is this module for the default service path,
# `qgroget.server`.) It reads the databases the *enabled* services declare at
# `<servicePath>.<service>.databases`, checks them with dbprov's rules (failed
# checks are assertions whose messages are dbprov's), and provisions them:
#
# - `services.postgresql`: `enable`, `ensureDatabases`, `ensureUsers` - exactly
#   the `postgresql` section of `dbprov plan`;
# - after NixOS's own ensure step (PostgreSQL's post-start step): every
#   database owned by its user (`ALTER DATABASE … OWNER TO …`) and closed to
#   everyone else (`REVOKE CONNECT, TEMPORARY … FROM PUBLIC`, `GRANT CONNECT,
#   TEMPORARY … TO` the owner), identifiers quoted - `dbprov plan --format sql`;
# - with sops-nix: the secret `server/<service>/db_password` of each service,
#   and a unit that sets each role's password from it;
# - the connection data back to the services, `<collectorPath>.databaseConfig`.
#
# THE CONTRACT, AND WHY THE COLLECTOR DOES NOT DECLARE IT
#
# The service contract (`<servicePath>.<service>.enable` and `.databases`) is
# declared by whoever owns it, and this module declares none of it:
#
# - In this repository's style each service module declares its own
#   `options.<servicePath>.<service>.{enable,databases}` (see
#   fixtures/seed/modules/server/media/photo/immich/default.nix). Declaring
#   them here as well would be a duplicate declaration, an error.
# - Declaring the whole contract here as `attrsOf (submodule …)` would make
#   the usual guard - `config = lib.mkIf cfg.enable { <servicePath>.x.databases
#   = …; }` - infinite recursion (SPEC §2, DB027): to know whether the guarded
#   definition exists, the module system must evaluate `cfg.enable`, which is
#   an attribute of the very `attrsOf` value the definition is part of.
#
# So the collector only *reads* `config.<servicePath>`, and finds the services
# through the option declarations, whatever declares them:
#
# - a plain namespace of per-service options (the seed style): every
#   `<servicePath>.<service>` that has a `databases` option is a service;
#   `enable` being undefined (no definition, no default) is DB014, found
#   through the option's `isDefined` without forcing it;
# - one `submodule` option per service that declares `databases`;
# - the whole contract as one option, `attrsOf (submodule …)` (as
#   fixtures/config-service-path does): every attribute is a service.
#
# What the collector adds lives beside the contract, in its own namespace
# (`collectorPath`, default `qgroget.collector`): it cannot extend per-service
# option sets it does not know the names of (declaring options from config
# values is infinite recursion too), and one top-level option works with every
# contract style above.
#
# Only enabled services are read: a disabled service's declarations are never
# forced (as Nix would not force them), so dbprov's warnings about disabled
# services have no counterpart here.
{
  # Where the service contracts live.
  servicePath ? [
    "qgroget"
    "server"
  ],
  # Where the collector's own options live; default: beside `servicePath`'s
  # last element (`qgroget.collector` for `qgroget.server`).
  collectorPath ? null,
  # The SOPS key of a service's database password (dbprov.toml `secrets.key`).
  secretKey ? service: "server/${service}/db_password",
  # The SOPS file, as dbprov's DB008 help names it (dbprov.toml `secrets.file`).
  secretsFile ? "secrets/secrets.yaml",
}:
{
  config,
  options,
  lib,
  ...
}:
let
  dbprovLib = import ./lib.nix { inherit lib; };

  ownPath =
    if collectorPath != null then
      collectorPath
    else
      lib.init servicePath ++ [ "collector" ];
  cfg = lib.getAttrFromPath ownPath config;

  # --- the services, from the option declarations ---------------------------

  contractOptions = lib.attrByPath servicePath null options;
  contractConfig = lib.attrByPath servicePath { } config;

  isSubmoduleWithDatabases =
    opt:
    (opt.type.name or null) == "submodule"
    && lib.hasAttr "databases" (opt.type.getSubOptions [ ]);

  fromValue = name: value: {
    inherit name;
    enableDefined = true;
    enable = value.enable or false;
    databases = value.databases or [ ];
  };

  services =
    if contractOptions == null then
      [ ]
    else if lib.isOption contractOptions then
      # `<servicePath> = mkOption { type = attrsOf (submodule …); }`
      lib.mapAttrsToList fromValue contractConfig
    else
      lib.concatMap (
        name:
        let
          opt = contractOptions.${name};
        in
        if lib.isOption opt then
          # `<servicePath>.<service> = mkOption { type = submodule …; }`
          lib.optional (isSubmoduleWithDatabases opt) (fromValue name contractConfig.${name})
        else if lib.isAttrs opt && opt ? databases && lib.isOption opt.databases then
          # `<servicePath>.<service>.{enable,databases}`: separate options
          [
            {
              inherit name;
              enableDefined = opt ? enable && lib.isOption opt.enable && opt.enable.isDefined;
              enable = contractConfig.${name}.enable;
              databases = contractConfig.${name}.databases;
            }
          ]
        else
          [ ]
      ) (lib.attrNames contractOptions);

  hasSops = options ? sops;

  plan = dbprovLib.plan {
    inherit
      services
      servicePath
      secretKey
      secretsFile
      ;
    passwordFile = key: if hasSops then config.sops.secrets.${key}.path else null;
  };

  # --- SQL ------------------------------------------------------------------

  ident = name: ''"${lib.replaceStrings [ ''"'' ] [ ''""'' ] name}"'';
  postgresqlPort = toString config.services.postgresql.settings.port;

  # What NixOS's ensure step does not: ownership for every database (also
  # where the user's name differs from the database's), and isolation. Runs
  # after that step (mkAfter), as the postgres superuser, so every role and
  # database exists. Idempotent.
  isolationSql = lib.concatMapStrings (o: ''
    ALTER DATABASE ${ident o.name} OWNER TO ${ident o.owner};
    REVOKE CONNECT, TEMPORARY ON DATABASE ${ident o.name} FROM PUBLIC;
    GRANT CONNECT, TEMPORARY ON DATABASE ${ident o.name} TO ${ident o.owner};
  '') plan.owners;

  # A quoted here-document: the shell expands nothing in it.
  psqlScript = sql: ''
    psql --port=${postgresqlPort} -d postgres -v ON_ERROR_STOP=1 <<'DBPROV_SQL'
    ${sql}DBPROV_SQL
  '';

  credentialId = role: "dbprov-role-${role}";
  passwordSql = lib.concatStrings (
    lib.mapAttrsToList (role: _key: ''
      \set password `cat "$CREDENTIALS_DIRECTORY/${credentialId role}"`
      ALTER ROLE ${ident role} WITH PASSWORD :'password';
    '') plan.rolePasswords
  );

  setupUnit = cfg.postgresqlSetupUnit;
  passwordUnit = "${lib.concatStringsSep "-" ownPath}-postgresql-passwords";
in
{
  options = lib.setAttrByPath ownPath {
    databaseConfig = lib.mkOption {
      readOnly = true;
      type = lib.types.attrsOf (
        lib.types.attrsOf (
          lib.types.submodule {
            options = {
              type = lib.mkOption {
                type = lib.types.str;
                description = "The database type.";
              };
              host = lib.mkOption {
                type = lib.types.str;
                description = "The host the database server listens on.";
              };
              port = lib.mkOption {
                type = lib.types.int;
                description = "The port the database server listens on.";
              };
              database = lib.mkOption {
                type = lib.types.str;
                description = "The database name.";
              };
              user = lib.mkOption {
                type = lib.types.nullOr lib.types.str;
                description = "The role to connect as (null where the entry has none).";
              };
              passwordSecret = lib.mkOption {
                type = lib.types.str;
                description = "The SOPS key holding the password.";
              };
              passwordFile = lib.mkOption {
                type = lib.types.nullOr lib.types.str;
                description = "The decrypted password file (sops-nix), or null without sops-nix.";
              };
            };
          }
        )
      );
      description = ''
        Connection data of each enabled service's provisioned databases, by
        service and database name: `databaseConfig.<service>.<database>` =
        `{ type, host, port, database, user, passwordSecret, passwordFile }`
        (dbprov's `connections.<service>`, plus the password file).
      '';
    };

    plan = lib.mkOption {
      readOnly = true;
      type = lib.types.raw;
      description = ''
        The collector's plan, in the shape of `dbprov plan`'s report:
        `postgresql` (what is set on `services.postgresql`), `databases`,
        `connections`, and the diagnostics (`errors`, `warnings`, each with
        `code`, `rule`, `message`, `help`). Compare with dbprov:
        `nix eval .#nixosConfigurations.<host>.config.${lib.concatStringsSep "." ownPath}.plan.postgresql --json`.
      '';
    };

    postgresqlSetupUnit = lib.mkOption {
      type = lib.types.str;
      default =
        if lib.versionAtLeast lib.trivial.release "25.11" then "postgresql-setup" else "postgresql";
      defaultText = lib.literalExpression ''if lib.versionAtLeast lib.trivial.release "25.11" then "postgresql-setup" else "postgresql"'';
      description = ''
        The systemd unit whose post-start step runs NixOS's `ensureDatabases`/
        `ensureUsers`: `postgresql` up to NixOS 25.05
        (`systemd.services.postgresql.postStart`), `postgresql-setup` since
        NixOS 25.11. The collector's ownership and isolation SQL is appended
        to that unit's `postStart`.
      '';
    };

    setRolePasswords = lib.mkOption {
      type = lib.types.bool;
      default = hasSops;
      defaultText = lib.literalExpression "options ? sops";
      description = ''
        Whether a oneshot unit sets each PostgreSQL role's password from the
        service's SOPS secret (given to the unit with `LoadCredential`, so the
        postgres user needs no access to /run/secrets). A role used by several
        services takes the first service's secret. Needs sops-nix.
      '';
    };
  };

  config = lib.mkMerge (
    [
      (lib.setAttrByPath ownPath {
        databaseConfig = lib.mapAttrs (
          _service: connections:
          lib.listToAttrs (
            map (c: {
              name = c.database;
              value = {
                inherit (c)
                  type
                  host
                  port
                  database
                  user
                  passwordSecret
                  passwordFile
                  ;
              };
            }) connections
          )
        ) plan.connections;
        inherit plan;
      })

      {
        # One assertion per failed check, its message dbprov's message and help.
        assertions = map (d: {
          assertion = false;
          message = d.text;
        }) plan.errors;
        warnings = map (d: d.text) plan.warnings;
      }

      (lib.mkIf plan.postgresql.enable {
        services.postgresql = {
          enable = true;
          inherit (plan.postgresql) ensureDatabases ensureUsers;
        };

        systemd.services.${setupUnit}.postStart = lib.mkAfter (psqlScript isolationSql);
      })

      (lib.mkIf (plan.postgresql.enable && cfg.setRolePasswords && plan.rolePasswords != { }) {
        assertions = [
          {
            assertion = hasSops;
            message = "${lib.concatStringsSep "." ownPath}.setRolePasswords needs sops-nix: the passwords are its secrets.";
          }
        ];
        systemd.services.${passwordUnit} = {
          description = "Set PostgreSQL role passwords from SOPS secrets";
          after = [ "${setupUnit}.service" ];
          requires = [ "${setupUnit}.service" ];
          wantedBy = [ "multi-user.target" ];
          path = [ config.services.postgresql.package ];
          serviceConfig = {
            Type = "oneshot";
            RemainAfterExit = true;
            User = "postgres";
            Group = "postgres";
            LoadCredential = lib.mapAttrsToList (
              role: key: "${credentialId role}:${config.sops.secrets.${key}.path}"
            ) plan.rolePasswords;
          };
          # psql runs the backquoted `cat` itself: the password never appears on
          # a command line.
          script = psqlScript passwordSql;
        };
      })
    ]
    # `sops.secrets` may only be defined when sops-nix declares it: a
    # definition of an undeclared option is an error even under `mkIf false`.
    # (`options ? sops` depends on option declarations only, never on config.)
    ++ lib.optional hasSops {
      sops.secrets = lib.listToAttrs (
        map (service: {
          name = secretKey service;
          value = { };
        }) (lib.attrNames plan.connections)
      );
    }
  );
}
