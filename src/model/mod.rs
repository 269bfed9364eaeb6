//! The extracted model: services, their `enable`, and their database
//! declarations, as plain data with spans. Rules read only this.

pub mod ensure;
mod extract;
pub mod literals;

use std::collections::BTreeMap;

pub use crate::eval::{Reason, Unresolved};
use crate::parse::SyntaxError;
use crate::source::Span;
pub use extract::extract;

/// Whether a service is enabled, as the module system would merge it.
#[derive(Clone, Debug)]
pub enum Enable {
    /// The counted definition (or the declared default).
    Known {
        value: bool,
        span: Span,
        is_default: bool,
    },
    Unresolved(Unresolved),
    /// Definitions at the same priority disagree.
    Conflict(Vec<(String, Span)>),
    /// No definition and no known default.
    Undefined,
    /// Defined with a value that is not a Boolean.
    WrongType {
        got: String,
        span: Span,
    },
}

impl Enable {
    pub fn is_enabled(&self) -> bool {
        matches!(self, Enable::Known { value: true, .. })
    }
    pub fn is_disabled(&self) -> bool {
        matches!(self, Enable::Known { value: false, .. })
    }
}

/// A field's value, reduced to what the rules need.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    List,
    Attrs,
    Function,
    Path(String),
    Unresolved(Unresolved),
    /// Several definitions at the same priority with different values.
    Conflict(Vec<Span>),
}

impl FieldValue {
    pub fn type_name(&self) -> &'static str {
        match self {
            FieldValue::Str(_) => "a string",
            FieldValue::Int(_) => "an integer",
            FieldValue::Float(_) => "a float",
            FieldValue::Bool(_) => "a Boolean",
            FieldValue::Null => "null",
            FieldValue::List => "a list",
            FieldValue::Attrs => "a set",
            FieldValue::Function => "a function",
            FieldValue::Path(_) => "a path",
            FieldValue::Unresolved(_) => "unresolved",
            FieldValue::Conflict(_) => "conflicting",
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            FieldValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Field {
    pub key_span: Span,
    pub value_span: Span,
    pub value: FieldValue,
}

/// Why a declaration does or does not take part in the merged `databases`.
#[derive(Clone, Debug)]
pub enum DeclStatus {
    /// Counted by the module system.
    Active,
    /// Under an `mkIf` whose condition is false.
    GuardFalse(Span),
    /// Dropped by a definition with a smaller priority number.
    Overridden(Span),
    /// Under a guard, or beside a definition, that cannot be evaluated.
    Uncertain(Unresolved),
}

#[derive(Clone, Debug)]
pub enum Entry {
    Fields(BTreeMap<String, Field>),
    /// The list element is not a set.
    NotASet {
        got: String,
    },
    Unresolved(Unresolved),
}

/// One element of a service's `databases`.
#[derive(Clone, Debug)]
pub struct DatabaseDecl {
    pub service: String,
    pub span: Span,
    pub status: DeclStatus,
    pub entry: Entry,
}

impl DatabaseDecl {
    pub fn field(&self, name: &str) -> Option<&Field> {
        match &self.entry {
            Entry::Fields(f) => f.get(name),
            _ => None,
        }
    }
    pub fn str_field(&self, name: &str) -> Option<&str> {
        self.field(name).and_then(|f| f.value.as_str())
    }
}

#[derive(Clone, Debug)]
pub struct Service {
    pub name: String,
    /// Where the service is first defined (or declared).
    pub span: Span,
    pub enable: Enable,
    pub databases: Vec<DatabaseDecl>,
    /// Parts of `databases` that cannot be computed.
    pub databases_unresolved: Vec<Unresolved>,
    /// `databases` defined with a value that is not a list.
    pub databases_wrong_type: Vec<(String, Span)>,
}

impl Service {
    pub fn declares_databases(&self) -> bool {
        !self.databases.is_empty() || !self.databases_unresolved.is_empty()
    }
}

/// Something outside any one service that cannot be known.
#[derive(Clone, Debug)]
pub struct UnresolvedItem {
    pub service: Option<String>,
    pub what: String,
    pub unresolved: Unresolved,
}

/// A scanned file, as the rules see it.
#[derive(Clone, Debug)]
pub struct FileInfo {
    pub rel_path: String,
    pub syntax_errors: Vec<SyntaxError>,
}

/// A file the entry module does not import, though it declares databases.
#[derive(Clone, Debug)]
pub struct Unimported {
    pub file: crate::source::FileId,
    /// The services it declares databases for, with the declaration's span.
    pub services: Vec<(String, Span)>,
}

/// Ensure mode: a file no host reaches, though it defines
/// `services.postgresql.<option>` (`ensureDatabases`, `ensureUsers`).
#[derive(Clone, Debug)]
pub struct Unreached {
    pub file: crate::source::FileId,
    pub option: String,
    pub span: Span,
}

pub struct Model {
    pub files: Vec<FileInfo>,
    pub services: Vec<Service>,
    pub unresolved: Vec<UnresolvedItem>,
    /// The entry module's path, when it exists.
    pub entry: Option<String>,
    pub unimported: Vec<Unimported>,
    /// Suppression comments of every file.
    pub suppressions: Vec<crate::suppress::Suppression>,
    /// The flake's NixOS configurations (ensure mode), each analysed on its own.
    pub hosts: Vec<ensure::HostModel>,
    /// Files no host reaches that ensure databases or roles (DB018).
    pub unreached: Vec<Unreached>,
    /// Passwords and credentials written literally in files a host reaches.
    pub literal_secrets: Vec<literals::LiteralSecret>,
}

impl Model {
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }
}
