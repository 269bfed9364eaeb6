//! A small Nix AST for structure-aware fuzzing: what service modules are made
//! of (attribute sets with dotted keys, lists, `let`, lambdas, `lib` calls,
//! `config.qgroget.server.<name>.enable` references, strings with
//! interpolation, `if`/`with`/`or`/`?`, database entries), derived with
//! `arbitrary` and rendered to Nix source.
//!
//! Rendering keeps the output mostly valid: every compound expression is
//! parenthesised, variables are only used where they are bound (outside
//! `with`), and nesting is cut at [`MAX_DEPTH`], so that the inputs get past
//! the parser and the scope check into evaluation and merging.

use arbitrary::Arbitrary;

use crate::Tree;

/// Deeper expressions are rendered as a leaf.
const MAX_DEPTH: usize = 10;

/// One fuzz input: which tree, and the module put at `modules/server/fuzz.nix`.
#[derive(Arbitrary, Debug)]
pub struct Input {
    pub tree: Tree,
    pub module: Module,
}

#[derive(Arbitrary, Debug)]
pub struct Module {
    header: Header,
    lets: Vec<(Var, Expr)>,
    defs: Vec<Def>,
    shape: Shape,
}

/// The module's arguments.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Header {
    /// `{ config, lib, ... }:`
    ConfigLib,
    /// `{ config, lib, pkgs, ... }:`
    ConfigLibPkgs,
    /// `{ lib, ... }:`
    Lib,
    /// `args@{ config, lib, ... }:`
    At,
    /// `{ config, lib, ... }: with lib;`
    WithLib,
    /// No function: a plain attribute set.
    Plain,
    /// `{ config, lib }:` (no `...`: the module system passes more).
    Closed,
}

/// Where the definitions go.
#[derive(Arbitrary, Debug, Clone)]
enum Shape {
    /// `{ defs }`
    TopLevel,
    /// `{ options = ...; config = { defs }; }` (options stay at top level)
    Config,
    /// `config = lib.mkIf cond { defs };`
    ConfigMkIf(Expr),
    /// `config = lib.mkMerge [ { first half } (lib.mkIf cond { second half }) ];`
    ConfigMkMerge(Expr),
}

#[derive(Arbitrary, Debug, Clone)]
enum Def {
    /// `qgroget.server.<svc>.enable = e;`
    Enable(Svc, Expr),
    /// `qgroget.server.<svc>.databases = [ ... ];`
    Databases(Svc, DbList),
    /// `qgroget.server.<svc> = { enable = ...; databases = ...; };`
    Service(Svc, Option<Expr>, Option<DbList>),
    /// `qgroget.server = { <svc>.enable = ...; ... };`
    Server(Vec<(Svc, Expr)>),
    /// `options.qgroget.server.<svc> = { ... };`
    Options(Svc, OptionDecl),
    /// `services.postgresql.<field> = e;`
    Postgres(PgField, Expr),
    /// `services.postgresql = { enable; ensureDatabases; ensureUsers; };`
    PostgresBlock(Option<Expr>, Vec<Str>, Vec<EnsureUser>),
    /// `containers.<name>.config = { defs };`
    Container(Word, Vec<Def>),
    /// `imports = [ ... ];`
    Imports(Vec<Import>),
    /// `a.b."c".${e} = e;`
    Generic(Vec<Key>, Expr),
    /// `inherit (e) a b;` / `inherit a;`
    Inherit(Option<Expr>, Vec<Var>),
    /// A suppression comment before the next definition.
    Comment(Suppression),
    /// The same path twice: a duplicate (`a = 1; a = 2;`) or a merge of sets.
    Twice(Vec<Key>, Expr, Expr),
}

#[derive(Arbitrary, Debug, Clone)]
enum DbList {
    Literal(Vec<DbEntry>),
    Expr(Expr),
    /// `[ ... ] ++ e`
    Concat(Vec<DbEntry>, Expr),
    /// `lib.optionals cond [ ... ]`
    Optionals(Expr, Vec<DbEntry>),
    /// `map (name: { ... }) [ "a" "b" ]`
    Map(Vec<(DbField, Expr)>, Vec<Str>),
    /// `lib.mkIf cond [ ... ]` etc.
    Wrapped(Wrapper, Vec<DbEntry>),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Wrapper {
    If,
    Default,
    Force,
    Before,
    After,
    Override,
    Merge,
}

#[derive(Arbitrary, Debug, Clone)]
struct DbEntry {
    fields: Vec<(DbField, Expr)>,
    /// Fields with literal values, as most modules write them.
    simple: Vec<(DbField, Str)>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum DbField {
    Type,
    Name,
    User,
    Owner,
    Password,
    PasswordFile,
    Host,
    Port,
    Extensions,
    Unknown,
    Comment,
}

#[derive(Arbitrary, Debug, Clone)]
struct EnsureUser {
    name: Str,
    ownership: Option<Expr>,
    clauses: Option<Expr>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum PgField {
    Enable,
    EnsureDatabases,
    EnsureUsers,
    Package,
    Port,
    Authentication,
    Settings,
}

#[derive(Arbitrary, Debug, Clone)]
enum OptionDecl {
    /// `{ enable = lib.mkEnableOption "..."; databases = lib.mkOption { ... }; }`
    Standard(Str, TypeExpr, Option<Expr>),
    /// `{ enable = e; databases = e; }`
    Custom(Option<Expr>, Option<Expr>),
    /// `lib.mkOption { type = types.attrsOf (types.submodule { ... }); }`
    Submodule(TypeExpr),
    Expr(Expr),
}

#[derive(Arbitrary, Debug, Clone)]
enum TypeExpr {
    Attrs,
    Str,
    Bool,
    Int,
    Port,
    ListOf(Box<TypeExpr>),
    AttrsOf(Box<TypeExpr>),
    LazyAttrsOf(Box<TypeExpr>),
    NullOr(Box<TypeExpr>),
    Enum(Vec<Str>),
    OneOf(Vec<TypeExpr>),
    Either(Box<TypeExpr>, Box<TypeExpr>),
    Submodule(Vec<(Word, TypeExpr, Option<Expr>)>),
    Anything,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Import {
    Settings,
    Immich,
    Jellyfin,
    Authelia,
    Default,
    Itself,
    Missing,
    HostConfiguration,
    Call,
    Dir,
    Inline,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Suppression {
    IgnoreDb003,
    IgnoreDb005,
    IgnoreDb010,
    IgnoreFileDb005,
    IgnoreFileAll,
    IgnoreBadCode,
    IgnoreName,
    IgnoreNothing,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Svc {
    Immich,
    Authelia,
    Jellyfin,
    Fuzz,
    Vaultwarden,
    Hyphenated,
    Upper,
    Spaced,
    Empty,
    Digit,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum SvcField {
    Enable,
    Databases,
    Other,
}

/// Variable names: a few, so that bindings and uses meet.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
enum Var {
    A,
    B,
    Cfg,
    Name,
    MkDb,
    Db,
    X,
    Config,
    Lib,
    Pkgs,
    Builtins,
    Args,
    True,
    Null,
}

#[derive(Arbitrary, Debug, Clone)]
enum Key {
    Word(Word),
    Quoted(Str),
    Dynamic(Box<Expr>),
}

/// Identifiers that mean something to dbprov or to the module system.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Word {
    Enable,
    Databases,
    Type,
    Name,
    User,
    Qgroget,
    Server,
    Services,
    Postgresql,
    EnsureDatabases,
    EnsureUsers,
    EnsureDbOwnership,
    Options,
    Config,
    Imports,
    Port,
    Password,
    Containers,
    Settings,
    Database,
    CreateLocally,
    Default,
    UnderscoreType,
    Content,
    Condition,
    Priority,
    A,
    B,
    Immich,
    Fuzz,
    Hyphen,
}

/// String contents.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Text {
    Postgresql,
    Redis,
    Mongodb,
    Mysql,
    Sqlite,
    Immich,
    Authelia,
    Jellyfin,
    ImmichUpper,
    Postgres,
    Template0,
    Root,
    Hyphenated,
    Underscored,
    Space,
    Empty,
    X,
    Secret,
    SecretPath,
    PortNumber,
    Localhost,
    Unicode,
    Quote,
    Dollar,
    Newline,
    Url,
    Long,
    Sql,
}

#[derive(Arbitrary, Debug, Clone)]
enum Str {
    Lit(Text),
    Interp(Vec<StrPart>),
    Indented(Vec<StrPart>),
}

#[derive(Arbitrary, Debug, Clone)]
enum StrPart {
    Text(Text),
    Interp(Expr),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Int {
    Zero,
    One,
    MinusOne,
    Pg,
    Redis,
    Max16,
    Over16,
    Prio,
    Big,
    Max,
    Small(i8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Path {
    Dot,
    Settings,
    Fuzz,
    Secret,
    Missing,
    Parent,
    Absolute,
    Search,
    Home,
}

#[derive(Arbitrary, Debug, Clone)]
enum Param {
    Ident(Var),
    Pattern(Vec<(Var, Option<Expr>)>, bool),
    At(Var, Vec<Var>),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Concat,
    Update,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Implies,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Lib {
    MkIf,
    MkMerge,
    MkDefault,
    MkForce,
    MkOverride,
    MkOptionDefault,
    MkBefore,
    MkAfter,
    MkOrder,
    MkEnableOption,
    MkOption,
    Optional,
    Optionals,
    OptionalAttrs,
    Map,
    Filter,
    ConcatLists,
    Flatten,
    GenAttrs,
    MapAttrs,
    ListToAttrs,
    NameValuePair,
    AttrNames,
    AttrValues,
    Elem,
    Head,
    Length,
    ToString,
    ToLower,
    ToUpper,
    ReplaceStrings,
    ConcatStringsSep,
    HasPrefix,
    HasSuffix,
    Throw,
    // Not evaluated by dbprov: unresolved.
    RecursiveUpdate,
    Foldl,
    MapAttrsToList,
    ConcatMap,
    FilterAttrs,
}

/// The kind of an argument, for filling arguments the input did not give.
#[derive(Clone, Copy)]
enum Kind {
    Bool,
    List,
    Attrs,
    Fn,
    Fn2,
    Str,
    Int,
    Any,
    Option,
}

impl Lib {
    fn name(self) -> &'static str {
        use Lib::*;
        match self {
            MkIf => "mkIf",
            MkMerge => "mkMerge",
            MkDefault => "mkDefault",
            MkForce => "mkForce",
            MkOverride => "mkOverride",
            MkOptionDefault => "mkOptionDefault",
            MkBefore => "mkBefore",
            MkAfter => "mkAfter",
            MkOrder => "mkOrder",
            MkEnableOption => "mkEnableOption",
            MkOption => "mkOption",
            Optional => "optional",
            Optionals => "optionals",
            OptionalAttrs => "optionalAttrs",
            Map => "map",
            Filter => "filter",
            ConcatLists => "concatLists",
            Flatten => "flatten",
            GenAttrs => "genAttrs",
            MapAttrs => "mapAttrs",
            ListToAttrs => "listToAttrs",
            NameValuePair => "nameValuePair",
            AttrNames => "attrNames",
            AttrValues => "attrValues",
            Elem => "elem",
            Head => "head",
            Length => "length",
            ToString => "toString",
            ToLower => "toLower",
            ToUpper => "toUpper",
            ReplaceStrings => "replaceStrings",
            ConcatStringsSep => "concatStringsSep",
            HasPrefix => "hasPrefix",
            HasSuffix => "hasSuffix",
            Throw => "throw",
            RecursiveUpdate => "recursiveUpdate",
            Foldl => "foldl'",
            MapAttrsToList => "mapAttrsToList",
            ConcatMap => "concatMap",
            FilterAttrs => "filterAttrs",
        }
    }

    fn args(self) -> &'static [Kind] {
        use Kind::*;
        use Lib as L;
        match self {
            L::MkIf => &[Bool, Any],
            L::MkMerge => &[List],
            L::MkDefault | L::MkForce | L::MkOptionDefault | L::MkBefore | L::MkAfter => &[Any],
            L::MkOverride | L::MkOrder => &[Int, Any],
            L::MkEnableOption => &[Str],
            L::MkOption => &[Option],
            L::Optional => &[Bool, Any],
            L::Optionals => &[Bool, List],
            L::OptionalAttrs => &[Bool, Attrs],
            L::Map | L::Filter | L::ConcatMap => &[Fn, List],
            L::ConcatLists | L::Flatten | L::ListToAttrs | L::Head | L::Length => &[List],
            L::GenAttrs => &[List, Fn],
            L::MapAttrs | L::MapAttrsToList | L::FilterAttrs => &[Fn2, Attrs],
            L::NameValuePair => &[Str, Any],
            L::AttrNames | L::AttrValues => &[Attrs],
            L::Elem => &[Any, List],
            L::ToString | L::ToLower | L::ToUpper | L::Throw => &[Str],
            L::ReplaceStrings => &[List, List, Str],
            L::ConcatStringsSep => &[Str, List],
            L::HasPrefix | L::HasSuffix => &[Str, Str],
            L::RecursiveUpdate => &[Attrs, Attrs],
            L::Foldl => &[Fn2, Any, List],
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
enum Expr {
    // Leaves first: when the input runs out, `arbitrary` picks the first.
    Str(Str),
    Int(Int),
    Bool(bool),
    Null,
    Var(Var),
    Path(Path),
    /// `config.qgroget.server.<svc>.<field>`
    ConfigRef(Svc, SvcField),
    /// `config.services.postgresql.<field>`
    ConfigPg(PgField),
    List(Vec<Expr>),
    Attrs(bool, Vec<(Vec<Key>, Expr)>),
    DbEntry(Box<DbEntry>),
    /// `e.a.b or d`
    Select(Box<Expr>, Vec<Key>, Option<Box<Expr>>),
    /// `e ? a.b`
    Has(Box<Expr>, Vec<Key>),
    /// `lib.<f> args...` (`partial`: fewer arguments than it takes)
    Lib(Lib, Vec<Expr>, bool),
    /// `builtins.<f> args...`
    Builtin(Lib, Vec<Expr>),
    Apply(Box<Expr>, Box<Expr>),
    Lambda(Box<Param>, Box<Expr>),
    Let(Vec<(Var, Expr)>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    With(Box<Expr>, Box<Expr>),
    Assert(Box<Expr>, Box<Expr>),
    BinOp(BinOp, Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    /// `(mkDb "name")` with the helper bound around it.
    Helper(Str),
    /// `import ./file.nix` and friends.
    Import(Import),
    /// Self-reference and other things that loop.
    Loop(LoopKind),
    /// `lib.types.<t>` as a value.
    Type(Box<TypeExpr>),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum LoopKind {
    LetSelf,
    RecSelf,
    ConfigSelf,
    Omega,
    DeepList,
}

/// Renders to Nix source.
pub fn render(m: &Module) -> String {
    let mut r = Renderer {
        out: String::new(),
        scope: Vec::new(),
        with_depth: 0,
        depth: 0,
    };
    r.module(m);
    r.out
}

struct Renderer {
    out: String,
    scope: Vec<Var>,
    with_depth: usize,
    depth: usize,
}

impl Var {
    fn name(self) -> &'static str {
        match self {
            Var::A => "a",
            Var::B => "b",
            Var::Cfg => "cfg",
            Var::Name => "name",
            Var::MkDb => "mkDb",
            Var::Db => "db",
            Var::X => "x",
            Var::Config => "config",
            Var::Lib => "lib",
            Var::Pkgs => "pkgs",
            Var::Builtins => "builtins",
            Var::Args => "args",
            Var::True => "true",
            Var::Null => "null",
        }
    }

    /// Bound everywhere.
    fn global(self) -> bool {
        matches!(self, Var::Builtins | Var::True | Var::Null)
    }

    /// Names that are not bound anew: `let true = ...` is an error in Nix,
    /// and shadowing `lib` or `builtins` only breaks every later call.
    fn bindable(self) -> bool {
        !matches!(self, Var::True | Var::Null | Var::Lib | Var::Builtins)
    }
}

impl Word {
    fn text(self) -> &'static str {
        match self {
            Word::Enable => "enable",
            Word::Databases => "databases",
            Word::Type => "type",
            Word::Name => "name",
            Word::User => "user",
            Word::Qgroget => "qgroget",
            Word::Server => "server",
            Word::Services => "services",
            Word::Postgresql => "postgresql",
            Word::EnsureDatabases => "ensureDatabases",
            Word::EnsureUsers => "ensureUsers",
            Word::EnsureDbOwnership => "ensureDBOwnership",
            Word::Options => "options",
            Word::Config => "config",
            Word::Imports => "imports",
            Word::Port => "port",
            Word::Password => "password",
            Word::Containers => "containers",
            Word::Settings => "settings",
            Word::Database => "database",
            Word::CreateLocally => "createLocally",
            Word::Default => "default",
            Word::UnderscoreType => "_type",
            Word::Content => "content",
            Word::Condition => "condition",
            Word::Priority => "priority",
            Word::A => "a",
            Word::B => "b",
            Word::Immich => "immich",
            Word::Fuzz => "fuzz",
            Word::Hyphen => "home-assistant",
        }
    }
}

impl Text {
    fn text(self) -> &'static str {
        match self {
            Text::Postgresql => "postgresql",
            Text::Redis => "redis",
            Text::Mongodb => "mongodb",
            Text::Mysql => "mysql",
            Text::Sqlite => "sqlite",
            Text::Immich => "immich",
            Text::Authelia => "authelia",
            Text::Jellyfin => "jellyfin",
            Text::ImmichUpper => "Immich",
            Text::Postgres => "postgres",
            Text::Template0 => "template0",
            Text::Root => "root",
            Text::Hyphenated => "my-db",
            Text::Underscored => "my_db",
            Text::Space => "a b",
            Text::Empty => "",
            Text::X => "x",
            Text::Secret => "hunter2-secret",
            Text::SecretPath => "/run/secrets/db_password",
            Text::PortNumber => "5432",
            Text::Localhost => "localhost",
            Text::Unicode => "bäse-é",
            Text::Quote => "it\\\"s",
            Text::Dollar => "$x \\${not}",
            Text::Newline => "a\\nb",
            Text::Url => "postgres://u:pw@host/db",
            Text::Long => {
                "a_name_that_is_longer_than_sixty_three_characters_which_postgres_truncates"
            }
            Text::Sql => "x'; DROP TABLE y; --",
        }
    }
}

impl Svc {
    /// As an attribute name.
    fn key(self) -> &'static str {
        match self {
            Svc::Immich => "immich",
            Svc::Authelia => "authelia",
            Svc::Jellyfin => "jellyfin",
            Svc::Fuzz => "fuzz",
            Svc::Vaultwarden => "vaultwarden",
            Svc::Hyphenated => "home-assistant",
            Svc::Upper => "Nextcloud",
            Svc::Spaced => "\"my service\"",
            Svc::Empty => "\"\"",
            Svc::Digit => "\"1st\"",
        }
    }
}

impl DbField {
    fn key(self) -> &'static str {
        match self {
            DbField::Type => "type",
            DbField::Name => "name",
            DbField::User => "user",
            DbField::Owner => "owner",
            DbField::Password => "password",
            DbField::PasswordFile => "passwordFile",
            DbField::Host => "host",
            DbField::Port => "port",
            DbField::Extensions => "extensions",
            DbField::Unknown => "nmae",
            DbField::Comment => "\"comment\"",
        }
    }
}

impl PgField {
    fn key(self) -> &'static str {
        match self {
            PgField::Enable => "enable",
            PgField::EnsureDatabases => "ensureDatabases",
            PgField::EnsureUsers => "ensureUsers",
            PgField::Package => "package",
            PgField::Port => "settings.port",
            PgField::Authentication => "authentication",
            PgField::Settings => "settings",
        }
    }
}

impl Renderer {
    fn push(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn bound(&self, v: Var) -> bool {
        v.global() || self.with_depth > 0 || self.scope.contains(&v)
    }

    fn has_lib(&self) -> bool {
        self.bound(Var::Lib)
    }

    /// `lib.` where `lib` is bound, else a path to nixpkgs' lib through the
    /// module's arguments is not there: `(import <nixpkgs/lib>).`.
    fn lib_prefix(&self) -> &'static str {
        if self.has_lib() {
            "lib."
        } else {
            "(import <nixpkgs/lib>)."
        }
    }

    fn module(&mut self, m: &Module) {
        let with_lib = matches!(m.header, Header::WithLib);
        match m.header {
            Header::ConfigLib | Header::WithLib => {
                self.push("{ config, lib, ... }:\n");
                self.scope.extend([Var::Config, Var::Lib]);
            }
            Header::ConfigLibPkgs => {
                self.push("{ config, lib, pkgs, ... }:\n");
                self.scope.extend([Var::Config, Var::Lib, Var::Pkgs]);
            }
            Header::Lib => {
                self.push("{ lib, ... }:\n");
                self.scope.push(Var::Lib);
            }
            Header::At => {
                self.push("args@{ config, lib, ... }:\n");
                self.scope.extend([Var::Args, Var::Config, Var::Lib]);
            }
            Header::Closed => {
                self.push("{ config, lib }:\n");
                self.scope.extend([Var::Config, Var::Lib]);
            }
            Header::Plain => {}
        }
        if with_lib {
            self.push("with lib;\n");
        }
        let lets: Vec<&(Var, Expr)> = m.lets.iter().filter(|(v, _)| v.bindable()).collect();
        if !lets.is_empty() {
            self.push("let\n");
            self.scope.extend(lets.iter().map(|(v, _)| *v));
            let mut seen = Vec::new();
            for (v, e) in lets {
                if seen.contains(v) {
                    continue;
                }
                seen.push(*v);
                self.push("  ");
                self.push(v.name());
                self.push(" = ");
                self.expr(e);
                self.push(";\n");
            }
            self.push("in\n");
        }
        self.push("{\n");
        let (options, rest): (Vec<&Def>, Vec<&Def>) = match m.shape {
            Shape::TopLevel => (Vec::new(), m.defs.iter().collect()),
            _ => m.defs.iter().partition(|d| matches!(d, Def::Options(..))),
        };
        for d in &options {
            self.def(d);
        }
        match &m.shape {
            Shape::TopLevel => {
                for d in &rest {
                    self.def(d);
                }
            }
            Shape::Config => {
                self.push("config = {\n");
                for d in &rest {
                    self.def(d);
                }
                self.push("};\n");
            }
            Shape::ConfigMkIf(cond) => {
                self.push("config = ");
                self.push(self.lib_prefix());
                self.push("mkIf ");
                self.atom(cond);
                self.push(" {\n");
                for d in &rest {
                    self.def(d);
                }
                self.push("};\n");
            }
            Shape::ConfigMkMerge(cond) => {
                let half = rest.len() / 2;
                let lib = self.lib_prefix();
                self.push("config = ");
                self.push(lib);
                self.push("mkMerge [\n{\n");
                for d in &rest[..half] {
                    self.def(d);
                }
                self.push("}\n(");
                self.push(lib);
                self.push("mkIf ");
                self.atom(cond);
                self.push(" {\n");
                for d in &rest[half..] {
                    self.def(d);
                }
                self.push("})\n];\n");
            }
        }
        self.push("}\n");
    }

    fn def(&mut self, d: &Def) {
        match d {
            Def::Enable(svc, e) => {
                self.push("qgroget.server.");
                self.push(svc.key());
                self.push(".enable = ");
                self.expr(e);
                self.push(";\n");
            }
            Def::Databases(svc, list) => {
                self.push("qgroget.server.");
                self.push(svc.key());
                self.push(".databases = ");
                self.db_list(list);
                self.push(";\n");
            }
            Def::Service(svc, enable, dbs) => {
                self.push("qgroget.server.");
                self.push(svc.key());
                self.push(" = {\n");
                if let Some(e) = enable {
                    self.push("enable = ");
                    self.expr(e);
                    self.push(";\n");
                }
                if let Some(l) = dbs {
                    self.push("databases = ");
                    self.db_list(l);
                    self.push(";\n");
                }
                self.push("};\n");
            }
            Def::Server(entries) => {
                self.push("qgroget.server = {\n");
                let mut seen = Vec::new();
                for (svc, e) in entries {
                    if seen.contains(&svc.key()) {
                        continue;
                    }
                    seen.push(svc.key());
                    self.push(svc.key());
                    self.push(".enable = ");
                    self.expr(e);
                    self.push(";\n");
                }
                self.push("};\n");
            }
            Def::Options(svc, decl) => {
                self.push("options.qgroget.server.");
                self.push(svc.key());
                self.push(" = ");
                self.option_decl(decl);
                self.push(";\n");
            }
            Def::Postgres(field, e) => {
                self.push("services.postgresql.");
                self.push(field.key());
                self.push(" = ");
                self.expr(e);
                self.push(";\n");
            }
            Def::PostgresBlock(enable, dbs, users) => {
                self.push("services.postgresql = {\n");
                if let Some(e) = enable {
                    self.push("enable = ");
                    self.expr(e);
                    self.push(";\n");
                }
                self.push("ensureDatabases = [ ");
                for s in dbs {
                    self.string(s);
                    self.push(" ");
                }
                self.push("];\nensureUsers = [\n");
                for u in users {
                    self.push("{ name = ");
                    self.string(&u.name);
                    self.push("; ");
                    if let Some(o) = &u.ownership {
                        self.push("ensureDBOwnership = ");
                        self.expr(o);
                        self.push("; ");
                    }
                    if let Some(c) = &u.clauses {
                        self.push("ensureClauses = ");
                        self.expr(c);
                        self.push("; ");
                    }
                    self.push("}\n");
                }
                self.push("];\n};\n");
            }
            Def::Container(name, defs) => {
                self.push("containers.");
                self.push(name.text());
                self.push(".config = {\n");
                if self.depth < MAX_DEPTH {
                    self.depth += 1;
                    for d in defs {
                        self.def(d);
                    }
                    self.depth -= 1;
                }
                self.push("};\n");
            }
            Def::Imports(list) => {
                self.push("imports = [\n");
                for i in list {
                    self.import(*i);
                    self.push("\n");
                }
                self.push("];\n");
            }
            Def::Generic(path, e) => {
                self.attr_path(path);
                self.push(" = ");
                self.expr(e);
                self.push(";\n");
            }
            Def::Inherit(from, vars) => {
                let vars: Vec<Var> = vars
                    .iter()
                    .copied()
                    .filter(|v| from.is_some() || self.bound(*v))
                    .filter(|v| v.bindable())
                    .collect();
                if vars.is_empty() {
                    return;
                }
                self.push("inherit ");
                if let Some(e) = from {
                    self.push("(");
                    self.expr(e);
                    self.push(") ");
                }
                let mut seen = Vec::new();
                for v in vars {
                    if !seen.contains(&v) {
                        seen.push(v);
                        self.push(v.name());
                        self.push(" ");
                    }
                }
                self.push(";\n");
            }
            Def::Comment(s) => {
                self.push(match s {
                    Suppression::IgnoreDb003 => "# dbprov: ignore DB003\n",
                    Suppression::IgnoreDb005 => "# dbprov: ignore DB005\n",
                    Suppression::IgnoreDb010 => "# dbprov: ignore DB010 shared-user\n",
                    Suppression::IgnoreFileDb005 => "# dbprov: ignore-file DB005\n",
                    Suppression::IgnoreFileAll => "# dbprov: ignore-file DB0\n",
                    Suppression::IgnoreBadCode => "# dbprov: ignore DB0O5\n",
                    Suppression::IgnoreName => "# dbprov: ignore invalid-name\n",
                    Suppression::IgnoreNothing => "# dbprov: ignore\n",
                });
            }
            Def::Twice(path, a, b) => {
                for e in [a, b] {
                    self.attr_path(path);
                    self.push(" = ");
                    self.expr(e);
                    self.push(";\n");
                }
            }
        }
    }

    fn import(&mut self, i: Import) {
        self.push(match i {
            Import::Settings => "./settings.nix",
            Import::Immich => "./media/photo/immich",
            Import::Jellyfin => "./media/video/jellyfin.nix",
            Import::Authelia => "./auth/authelia.nix",
            Import::Default => "./default.nix",
            Import::Itself => "./fuzz.nix",
            Import::Missing => "./missing.nix",
            Import::HostConfiguration => "../../hosts/server/configuration.nix",
            Import::Call => "(import ./settings.nix)",
            Import::Dir => "./.",
            Import::Inline => "{ qgroget.server.jellyfin.enable = true; }",
        });
    }

    fn db_list(&mut self, l: &DbList) {
        match l {
            DbList::Literal(entries) => self.entries(entries),
            DbList::Expr(e) => self.expr(e),
            DbList::Concat(entries, e) => {
                self.push("(");
                self.entries(entries);
                self.push(" ++ ");
                self.atom(e);
                self.push(")");
            }
            DbList::Optionals(cond, entries) => {
                self.push("(");
                self.push(self.lib_prefix());
                self.push("optionals ");
                self.atom(cond);
                self.push(" ");
                self.entries(entries);
                self.push(")");
            }
            DbList::Map(fields, names) => {
                self.push("(map (name: ");
                self.scope.push(Var::Name);
                self.push("{ ");
                for (f, e) in fields {
                    self.push(f.key());
                    self.push(" = ");
                    self.expr(e);
                    self.push("; ");
                }
                self.push("}) [ ");
                self.scope.pop();
                for n in names {
                    self.string(n);
                    self.push(" ");
                }
                self.push("])");
            }
            DbList::Wrapped(w, entries) => {
                self.push("(");
                self.push(self.lib_prefix());
                self.push(match w {
                    Wrapper::If => "mkIf config.qgroget.server.immich.enable ",
                    Wrapper::Default => "mkDefault ",
                    Wrapper::Force => "mkForce ",
                    Wrapper::Before => "mkBefore ",
                    Wrapper::After => "mkAfter ",
                    Wrapper::Override => "mkOverride 900 ",
                    Wrapper::Merge => "mkMerge [ ",
                });
                if !self.bound(Var::Config) && matches!(w, Wrapper::If) {
                    // No `config` here: replace what was written with a plain condition.
                    let cut = self.out.len() - "config.qgroget.server.immich.enable ".len();
                    self.out.truncate(cut);
                    self.push("true ");
                }
                self.entries(entries);
                if matches!(w, Wrapper::Merge) {
                    self.push(" ]");
                }
                self.push(")");
            }
        }
    }

    fn entries(&mut self, entries: &[DbEntry]) {
        self.push("[\n");
        for e in entries {
            self.entry(e);
            self.push("\n");
        }
        self.push("]");
    }

    fn entry(&mut self, e: &DbEntry) {
        self.push("{ ");
        let mut seen: Vec<&str> = Vec::new();
        for (f, s) in &e.simple {
            if seen.contains(&f.key()) {
                continue;
            }
            seen.push(f.key());
            self.push(f.key());
            self.push(" = ");
            self.string(s);
            self.push("; ");
        }
        for (f, v) in &e.fields {
            if seen.contains(&f.key()) {
                continue;
            }
            seen.push(f.key());
            self.push(f.key());
            self.push(" = ");
            self.expr(v);
            self.push("; ");
        }
        self.push("}");
    }

    fn option_decl(&mut self, d: &OptionDecl) {
        let lib = self.lib_prefix();
        match d {
            OptionDecl::Standard(desc, ty, default) => {
                self.push("{\nenable = ");
                self.push(lib);
                self.push("mkEnableOption ");
                self.string(desc);
                self.push(";\ndatabases = ");
                self.push(lib);
                self.push("mkOption {\ntype = ");
                self.type_expr(ty);
                self.push(";\ndefault = ");
                match default {
                    Some(e) => self.expr(e),
                    None => self.push("[ ]"),
                }
                self.push(";\n};\n}");
            }
            OptionDecl::Custom(enable, dbs) => {
                self.push("{ ");
                if let Some(e) = enable {
                    self.push("enable = ");
                    self.expr(e);
                    self.push("; ");
                }
                if let Some(e) = dbs {
                    self.push("databases = ");
                    self.expr(e);
                    self.push("; ");
                }
                self.push("}");
            }
            OptionDecl::Submodule(ty) => {
                self.push(lib);
                self.push("mkOption { type = ");
                self.type_expr(ty);
                self.push("; default = { }; }");
            }
            OptionDecl::Expr(e) => self.expr(e),
        }
    }

    fn type_expr(&mut self, t: &TypeExpr) {
        let types = if self.has_lib() {
            "lib.types."
        } else {
            "(import <nixpkgs/lib>).types."
        };
        if self.depth >= MAX_DEPTH {
            self.push(types);
            self.push("attrs");
            return;
        }
        self.depth += 1;
        self.push("(");
        self.push(types);
        match t {
            TypeExpr::Attrs => self.push("attrs"),
            TypeExpr::Str => self.push("str"),
            TypeExpr::Bool => self.push("bool"),
            TypeExpr::Int => self.push("int"),
            TypeExpr::Port => self.push("port"),
            TypeExpr::Anything => self.push("anything"),
            TypeExpr::ListOf(t) => {
                self.push("listOf ");
                self.type_expr(t);
            }
            TypeExpr::AttrsOf(t) => {
                self.push("attrsOf ");
                self.type_expr(t);
            }
            TypeExpr::LazyAttrsOf(t) => {
                self.push("lazyAttrsOf ");
                self.type_expr(t);
            }
            TypeExpr::NullOr(t) => {
                self.push("nullOr ");
                self.type_expr(t);
            }
            TypeExpr::Enum(values) => {
                self.push("enum [ ");
                for v in values {
                    self.string(v);
                    self.push(" ");
                }
                self.push("]");
            }
            TypeExpr::OneOf(ts) => {
                self.push("oneOf [ ");
                for t in ts {
                    self.type_expr(t);
                    self.push(" ");
                }
                self.push("]");
            }
            TypeExpr::Either(a, b) => {
                self.push("either ");
                self.type_expr(a);
                self.push(" ");
                self.type_expr(b);
            }
            TypeExpr::Submodule(fields) => {
                let lib = self.lib_prefix();
                self.push("submodule { options = {\n");
                let mut seen = Vec::new();
                for (name, ty, default) in fields {
                    if seen.contains(&name.text()) {
                        continue;
                    }
                    seen.push(name.text());
                    self.push(name.text());
                    self.push(" = ");
                    self.push(lib);
                    self.push("mkOption { type = ");
                    self.type_expr(ty);
                    if let Some(d) = default {
                        self.push("; default = ");
                        self.expr(d);
                    }
                    self.push("; };\n");
                }
                self.push("}; }");
            }
        }
        self.push(")");
        self.depth -= 1;
    }

    fn attr_path(&mut self, path: &[Key]) {
        if path.is_empty() {
            self.push("a");
            return;
        }
        for (i, k) in path.iter().enumerate() {
            if i > 0 {
                self.push(".");
            }
            self.key(k);
        }
    }

    fn key(&mut self, k: &Key) {
        match k {
            Key::Word(w) => self.push(w.text()),
            // `''…''` is no attribute name: render it as `"…"`.
            Key::Quoted(Str::Indented(parts)) => self.string(&Str::Interp(parts.clone())),
            Key::Quoted(s) => self.string(s),
            Key::Dynamic(e) => {
                self.push("${");
                self.expr(e);
                self.push("}");
            }
        }
    }

    fn string(&mut self, s: &Str) {
        match s {
            Str::Lit(t) => {
                self.push("\"");
                self.push(t.text());
                self.push("\"");
            }
            Str::Interp(parts) => {
                self.push("\"");
                for p in parts {
                    match p {
                        StrPart::Text(t) => self.push(t.text()),
                        StrPart::Interp(e) => {
                            self.push("${");
                            self.expr(e);
                            self.push("}");
                        }
                    }
                }
                self.push("\"");
            }
            Str::Indented(parts) => {
                self.push("''\n  ");
                for p in parts {
                    match p {
                        // `''` ends the string, `''$` escapes `$`: keep text plain.
                        StrPart::Text(t) => self.push(&t.text().replace(['\'', '$', '\\'], "_")),
                        StrPart::Interp(e) => {
                            self.push("${");
                            self.expr(e);
                            self.push("}");
                        }
                    }
                }
                self.push("\n''");
            }
        }
    }

    fn int(&mut self, i: Int) {
        let v: i64 = match i {
            Int::Zero => 0,
            Int::One => 1,
            Int::MinusOne => -1,
            Int::Pg => 5432,
            Int::Redis => 6379,
            Int::Max16 => 65535,
            Int::Over16 => 65536,
            Int::Prio => 1000,
            Int::Big => 4_294_967_296,
            Int::Max => i64::MAX,
            Int::Small(n) => n as i64,
        };
        if v < 0 {
            self.push(&format!("({v})"));
        } else {
            self.push(&v.to_string());
        }
    }

    /// An expression in a position that needs an atom (an argument).
    fn atom(&mut self, e: &Expr) {
        self.push("(");
        self.expr(e);
        self.push(")");
    }

    /// A variable, or a bound stand-in when it is not bound here.
    fn var(&mut self, v: Var) {
        if self.bound(v) {
            self.push(v.name());
        } else if let Some(b) = self.scope.last() {
            self.push(b.name());
        } else {
            self.push("null");
        }
    }

    fn fill(&mut self, k: Kind) {
        self.push(match k {
            Kind::Bool => "true",
            Kind::List => "[ ]",
            Kind::Attrs => "{ }",
            Kind::Fn => "(x: x)",
            Kind::Fn2 => "(n: v: v)",
            Kind::Str => "\"x\"",
            Kind::Int => "1",
            Kind::Any => "{ }",
            Kind::Option => "{ default = [ ]; }",
        });
    }

    fn call(&mut self, prefix: &str, f: Lib, args: &[Expr], partial: bool) {
        let kinds = f.args();
        let n = if partial {
            args.len().min(kinds.len().saturating_sub(1))
        } else {
            kinds.len()
        };
        self.push("(");
        self.push(prefix);
        self.push(f.name());
        for (i, k) in kinds.iter().enumerate().take(n) {
            self.push(" ");
            match args.get(i) {
                Some(a) => self.atom(a),
                None => self.fill(*k),
            }
        }
        self.push(")");
    }

    fn expr(&mut self, e: &Expr) {
        if self.depth >= MAX_DEPTH {
            self.push("null");
            return;
        }
        self.depth += 1;
        self.expr_inner(e);
        self.depth -= 1;
    }

    fn expr_inner(&mut self, e: &Expr) {
        match e {
            Expr::Str(s) => self.string(s),
            Expr::Int(i) => self.int(*i),
            Expr::Bool(b) => self.push(if *b { "true" } else { "false" }),
            Expr::Null => self.push("null"),
            Expr::Var(v) => self.var(*v),
            Expr::Path(p) => self.push(match p {
                Path::Dot => "./.",
                Path::Settings => "./settings.nix",
                Path::Fuzz => "./fuzz.nix",
                Path::Secret => "../../secrets/secrets.yaml",
                Path::Missing => "./no/such/file",
                Path::Parent => "../..",
                Path::Absolute => "/etc/passwd",
                Path::Search => "<nixpkgs>",
                Path::Home => "~/x",
            }),
            Expr::ConfigRef(svc, field) => {
                if !self.bound(Var::Config) {
                    self.push("null");
                    return;
                }
                self.push("config.qgroget.server.");
                self.push(svc.key());
                self.push(match field {
                    SvcField::Enable => ".enable",
                    SvcField::Databases => ".databases",
                    SvcField::Other => ".port",
                });
            }
            Expr::ConfigPg(field) => {
                if !self.bound(Var::Config) {
                    self.push("null");
                    return;
                }
                self.push("config.services.postgresql.");
                self.push(field.key());
            }
            Expr::List(items) => {
                self.push("[ ");
                for i in items {
                    self.atom(i);
                    self.push(" ");
                }
                self.push("]");
            }
            Expr::Attrs(rec, binds) => {
                if *rec {
                    self.push("rec ");
                }
                self.push("{ ");
                for (path, v) in binds {
                    self.attr_path(path);
                    self.push(" = ");
                    self.expr(v);
                    self.push("; ");
                }
                self.push("}");
            }
            Expr::DbEntry(entry) => self.entry(entry),
            Expr::Select(e, path, default) => {
                self.push("(");
                self.atom(e);
                self.push(".");
                self.attr_path(path);
                if let Some(d) = default {
                    self.push(" or ");
                    self.atom(d);
                }
                self.push(")");
            }
            Expr::Has(e, path) => {
                self.push("(");
                self.atom(e);
                self.push(" ? ");
                self.attr_path(path);
                self.push(")");
            }
            Expr::Lib(f, args, partial) => {
                let prefix = self.lib_prefix();
                self.call(prefix, *f, args, *partial);
            }
            Expr::Builtin(f, args) => self.call("builtins.", *f, args, false),
            Expr::Apply(f, a) => {
                self.push("(");
                self.atom(f);
                self.push(" ");
                self.atom(a);
                self.push(")");
            }
            Expr::Lambda(param, body) => {
                let before = self.scope.len();
                self.push("(");
                match &**param {
                    Param::Ident(v) if v.bindable() => {
                        self.push(v.name());
                        self.scope.push(*v);
                    }
                    Param::Ident(_) => {
                        self.push("x");
                        self.scope.push(Var::X);
                    }
                    Param::Pattern(fields, ellipsis) => {
                        self.push("{ ");
                        let mut seen = Vec::new();
                        let names: Vec<Var> = fields
                            .iter()
                            .map(|(v, _)| *v)
                            .filter(|v| v.bindable())
                            .collect();
                        self.scope.extend(names.iter().copied());
                        for (v, default) in fields {
                            if !v.bindable() || seen.contains(v) {
                                continue;
                            }
                            seen.push(*v);
                            self.push(v.name());
                            if let Some(d) = default {
                                self.push(" ? ");
                                self.atom(d);
                            }
                            self.push(", ");
                        }
                        if *ellipsis {
                            self.push("... ");
                        }
                        self.push("}");
                    }
                    Param::At(name, fields) => {
                        let name = if name.bindable() { *name } else { Var::Args };
                        self.push(name.name());
                        self.push("@{ ");
                        self.scope.push(name);
                        let mut seen = vec![name];
                        for v in fields {
                            if !v.bindable() || seen.contains(v) {
                                continue;
                            }
                            seen.push(*v);
                            self.scope.push(*v);
                            self.push(v.name());
                            self.push(", ");
                        }
                        self.push("... }");
                    }
                }
                self.push(": ");
                self.expr(body);
                self.push(")");
                self.scope.truncate(before);
            }
            Expr::Let(binds, body) => {
                let binds: Vec<&(Var, Expr)> = binds.iter().filter(|(v, _)| v.bindable()).collect();
                if binds.is_empty() {
                    self.expr(body);
                    return;
                }
                let before = self.scope.len();
                self.scope.extend(binds.iter().map(|(v, _)| *v));
                self.push("(let ");
                let mut seen = Vec::new();
                for (v, e) in binds {
                    if seen.contains(v) {
                        continue;
                    }
                    seen.push(*v);
                    self.push(v.name());
                    self.push(" = ");
                    self.expr(e);
                    self.push("; ");
                }
                self.push("in ");
                self.expr(body);
                self.push(")");
                self.scope.truncate(before);
            }
            Expr::If(c, t, f) => {
                self.push("(if ");
                self.expr(c);
                self.push(" then ");
                self.expr(t);
                self.push(" else ");
                self.expr(f);
                self.push(")");
            }
            Expr::With(env, body) => {
                self.push("(with ");
                self.expr(env);
                self.push("; ");
                self.with_depth += 1;
                self.expr(body);
                self.with_depth -= 1;
                self.push(")");
            }
            Expr::Assert(c, body) => {
                self.push("(assert ");
                self.expr(c);
                self.push("; ");
                self.expr(body);
                self.push(")");
            }
            Expr::BinOp(op, a, b) => {
                self.push("(");
                self.atom(a);
                self.push(match op {
                    BinOp::Add => " + ",
                    BinOp::Sub => " - ",
                    BinOp::Mul => " * ",
                    BinOp::Div => " / ",
                    BinOp::Concat => " ++ ",
                    BinOp::Update => " // ",
                    BinOp::Eq => " == ",
                    BinOp::Ne => " != ",
                    BinOp::Lt => " < ",
                    BinOp::Le => " <= ",
                    BinOp::Gt => " > ",
                    BinOp::Ge => " >= ",
                    BinOp::And => " && ",
                    BinOp::Or => " || ",
                    BinOp::Implies => " -> ",
                });
                self.atom(b);
                self.push(")");
            }
            Expr::Not(e) => {
                self.push("(!");
                self.atom(e);
                self.push(")");
            }
            Expr::Neg(e) => {
                self.push("(-");
                self.atom(e);
                self.push(")");
            }
            Expr::Helper(name) => {
                self.push("(let mkDb = name: { type = \"postgresql\"; inherit name; user = name; }; in mkDb ");
                self.string(name);
                self.push(")");
            }
            Expr::Import(i) => match i {
                Import::Inline | Import::Call => self.import(*i),
                _ => {
                    self.push("(import ");
                    self.import(*i);
                    self.push(")");
                }
            },
            Expr::Loop(kind) => self.push(match kind {
                LoopKind::LetSelf => "(let x = x; in x)",
                LoopKind::RecSelf => "(rec { a = b; b = a; }).a",
                LoopKind::ConfigSelf if self.bound(Var::Config) => {
                    "config.qgroget.server.fuzz.enable"
                }
                LoopKind::ConfigSelf => "null",
                LoopKind::Omega => "((x: x x) (x: x x))",
                LoopKind::DeepList => {
                    "(let f = n: if n == 0 then [ ] else [ (f (n - 1)) ]; in f 100000)"
                }
            }),
            Expr::Type(t) => self.type_expr(t),
        }
    }
}
