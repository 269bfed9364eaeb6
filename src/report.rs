//! The JSON report (SPEC §5): what PostgreSQL must provision, what is skipped
//! and why, and what could not be known. Sorted, paths relative to the root.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::analysis::Analysis;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::ensure::HostModel;
use crate::model::{DatabaseDecl, DeclStatus, Enable, Entry, FieldValue, Service, UnresolvedItem};
use crate::settings::Settings;
use crate::source::{SourceFile, Span};

#[derive(Serialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceReport {
    pub name: String,
    /// `null` when it cannot be known statically.
    pub enabled: Option<bool>,
    pub enable_source: Option<Location>,
    pub databases: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Provisioned {
    pub service: String,
    #[serde(rename = "type")]
    pub db_type: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub host: String,
    pub port: i64,
    pub password_secret: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ownership: Option<&'static str>,
    pub source: Location,
}

#[derive(Serialize)]
pub struct Skipped {
    pub service: String,
    #[serde(rename = "type")]
    pub db_type: Option<String>,
    pub name: Option<String>,
    pub reason: &'static str,
    pub source: Location,
}

#[derive(Serialize)]
pub struct UnresolvedReport {
    pub service: Option<String>,
    pub what: String,
    pub reason: String,
    pub message: String,
    pub source: Option<Location>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnsureUser {
    pub name: String,
    #[serde(rename = "ensureDBOwnership")]
    pub ensure_db_ownership: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Postgresql {
    pub enable: bool,
    pub ensure_databases: Vec<String>,
    pub ensure_users: Vec<EnsureUser>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    #[serde(rename = "type")]
    pub db_type: String,
    pub host: String,
    pub port: i64,
    pub database: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub password_secret: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticReport {
    pub code: &'static str,
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    pub service: Option<String>,
    pub field: Option<String>,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub end_line: Option<u32>,
    pub end_column: Option<u32>,
    pub help: Option<String>,
    pub notes: Vec<String>,
    pub related: Vec<RelatedReport>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelatedReport {
    pub message: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

/// One host of ensure mode (SPEC §8).
#[derive(Serialize)]
pub struct HostReport {
    pub name: String,
    pub postgresql: HostPostgresql,
    /// What this host's PostgreSQL creates, when it is enabled.
    pub databases: Vec<HostDatabase>,
    pub implicit: Vec<ImplicitReport>,
    pub unresolved: Vec<UnresolvedReport>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HostPostgresql {
    /// `null` when it cannot be known statically.
    pub enable: Option<bool>,
    pub ensure_databases: Vec<String>,
    pub ensure_users: Vec<EnsureUser>,
}

#[derive(Serialize)]
pub struct HostDatabase {
    pub name: String,
    /// The role `ensureDBOwnership` makes its owner, if any.
    pub owner: Option<String>,
    pub source: Location,
}

#[derive(Serialize)]
pub struct ImplicitReport {
    pub service: String,
    pub option: String,
    pub source: Option<Location>,
}

#[derive(Serialize, Default)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

#[derive(Serialize)]
pub struct Report {
    pub version: u32,
    pub files: usize,
    pub services: Vec<ServiceReport>,
    pub databases: Vec<Provisioned>,
    pub skipped: Vec<Skipped>,
    pub unresolved: Vec<UnresolvedReport>,
    pub postgresql: Postgresql,
    pub connections: BTreeMap<String, Vec<Connection>>,
    /// Ensure mode: each NixOS configuration of the flake.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<HostReport>,
    pub diagnostics: Vec<DiagnosticReport>,
    pub summary: Summary,
}

/// Converts spans to file/line/column.
pub struct Locator<'a> {
    files: &'a [SourceFile],
}

impl<'a> Locator<'a> {
    pub fn new(files: &'a [SourceFile]) -> Locator<'a> {
        Locator { files }
    }
    pub fn file(&self, span: Span) -> Option<&'a SourceFile> {
        self.files.get(span.file as usize)
    }
    pub fn start(&self, span: Span) -> Option<Location> {
        let f = self.file(span)?;
        let lc = f.line_col(span.start);
        Some(Location {
            file: f.rel_path.clone(),
            line: lc.line,
            column: lc.column,
        })
    }
    /// Start and end (end exclusive, as a column after the last character).
    pub fn range(&self, span: Span) -> Option<(Location, Location)> {
        let f = self.file(span)?;
        let s = f.line_col(span.start);
        let e = f.line_col(span.end);
        Some((
            Location {
                file: f.rel_path.clone(),
                line: s.line,
                column: s.column,
            },
            Location {
                file: f.rel_path.clone(),
                line: e.line,
                column: e.column,
            },
        ))
    }
}

pub fn diagnostic_report(loc: &Locator, d: &Diagnostic) -> DiagnosticReport {
    let range = loc.range(d.primary.span);
    DiagnosticReport {
        code: d.code,
        rule: d.rule,
        severity: d.severity,
        message: d.message.clone(),
        service: d.service.clone(),
        field: d.field.clone(),
        file: range.as_ref().map(|r| r.0.file.clone()),
        line: range.as_ref().map(|r| r.0.line),
        column: range.as_ref().map(|r| r.0.column),
        end_line: range.as_ref().map(|r| r.1.line),
        end_column: range.as_ref().map(|r| r.1.column),
        help: d.help.clone(),
        notes: d.notes.clone(),
        related: d
            .secondary
            .iter()
            .filter_map(|l| {
                let (s, e) = loc.range(l.span)?;
                Some(RelatedReport {
                    message: l.message.clone(),
                    file: s.file,
                    line: s.line,
                    column: s.column,
                    end_line: e.line,
                    end_column: e.column,
                })
            })
            .collect(),
    }
}

pub fn summary(diags: &[Diagnostic]) -> Summary {
    let mut s = Summary::default();
    for d in diags {
        match d.severity {
            Severity::Error => s.errors += 1,
            Severity::Warning => s.warnings += 1,
            Severity::Info => s.infos += 1,
        }
    }
    s
}

/// Whether the rules found an error in this declaration (before a disabled
/// service turned it into a warning).
fn invalid(decl: &DatabaseDecl, diags: &[Diagnostic]) -> bool {
    diags.iter().any(|d| {
        d.subject == Some(decl.span)
            && d.service.as_deref() == Some(decl.service.as_str())
            && (d.severity == Severity::Error || d.inactive.is_some())
    })
}

/// The first field of a declaration that cannot be computed, and where it is.
fn unresolved_field(decl: &DatabaseDecl) -> Option<(&str, &crate::model::Unresolved, Span)> {
    match &decl.entry {
        Entry::Unresolved(u) => Some(("entry", u, decl.span)),
        Entry::Fields(f) => f.iter().find_map(|(k, v)| match &v.value {
            FieldValue::Unresolved(u) => Some((k.as_str(), u, v.value_span)),
            _ => None,
        }),
        Entry::NotASet { .. } => None,
    }
}

fn decl_label(decl: &DatabaseDecl, index: usize) -> String {
    match decl.str_field("name") {
        Some(n) => format!("databases[\"{n}\"]"),
        None => format!("databases[{index}]"),
    }
}

pub fn build(analysis: &Analysis, settings: &Settings, diags: &[Diagnostic]) -> Report {
    let loc = Locator::new(&analysis.files);
    let mut services = Vec::new();
    let mut databases = Vec::new();
    let mut skipped = Vec::new();
    let mut unresolved = Vec::new();
    // A file that does not parse defines nothing dbprov can see; NixOS would stop there.
    for f in &analysis.model.files {
        if let Some(e) = f.syntax_errors.first() {
            unresolved.push(UnresolvedReport {
                service: None,
                what: format!("the definitions in {}", f.rel_path),
                reason: "eval-error".to_string(),
                message: e.message.clone(),
                source: loc.start(e.span),
            });
        }
    }
    for item in &analysis.model.unresolved {
        unresolved.push(UnresolvedReport {
            service: item.service.clone(),
            what: item.what.clone(),
            reason: item.unresolved.reason.to_string(),
            message: item.unresolved.detail.clone(),
            source: loc.start(item.unresolved.span),
        });
    }
    for s in &analysis.model.services {
        services.push(service_report(&loc, s));
        if let Enable::Unresolved(u) = &s.enable {
            if s.declares_databases() {
                unresolved.push(UnresolvedReport {
                    service: Some(s.name.clone()),
                    what: "enable".to_string(),
                    reason: u.reason.to_string(),
                    message: u.detail.clone(),
                    source: loc.start(u.span).or_else(|| loc.start(s.span)),
                });
            }
        }
        for u in &s.databases_unresolved {
            unresolved.push(UnresolvedReport {
                service: Some(s.name.clone()),
                what: "databases".to_string(),
                reason: u.reason.to_string(),
                message: u.detail.clone(),
                source: loc.start(u.span).or_else(|| loc.start(s.span)),
            });
        }
        for (i, decl) in s.databases.iter().enumerate() {
            let source = loc
                .start(decl.span)
                .or_else(|| loc.start(s.span))
                .unwrap_or(Location {
                    file: String::new(),
                    line: 0,
                    column: 0,
                });
            // What cannot be computed is listed whatever else happens to the declaration.
            let field_unresolved = unresolved_field(decl);
            if let Some((field, u, at)) = field_unresolved {
                unresolved.push(UnresolvedReport {
                    service: Some(s.name.clone()),
                    what: format!("{}.{field}", decl_label(decl, i)),
                    reason: u.reason.to_string(),
                    message: u.detail.clone(),
                    source: loc.start(at).or(Some(source.clone())),
                });
            }
            let skip = |reason: &'static str| Skipped {
                service: s.name.clone(),
                db_type: decl.str_field("type").map(str::to_string),
                name: decl.str_field("name").map(str::to_string),
                reason,
                source: source.clone(),
            };
            match &decl.status {
                DeclStatus::GuardFalse(_) => {
                    skipped.push(skip("guard-false"));
                    continue;
                }
                DeclStatus::Overridden(_) => {
                    skipped.push(skip("overridden"));
                    continue;
                }
                DeclStatus::Uncertain(u) => {
                    unresolved.push(UnresolvedReport {
                        service: Some(s.name.clone()),
                        what: decl_label(decl, i),
                        reason: u.reason.to_string(),
                        message: u.detail.clone(),
                        source: loc.start(u.span).or(Some(source)),
                    });
                    continue;
                }
                DeclStatus::Active => {}
            }
            match &s.enable {
                Enable::Known { value: false, .. } => {
                    skipped.push(skip("service-disabled"));
                    continue;
                }
                Enable::Unresolved(_) => {
                    skipped.push(skip("unresolved-enable"));
                    continue;
                }
                Enable::Known { value: true, .. } => {}
                _ => {
                    skipped.push(skip("invalid"));
                    continue;
                }
            }
            if invalid(decl, diags) {
                skipped.push(skip("invalid"));
                continue;
            }
            if field_unresolved.is_some() {
                continue;
            }
            if let Some(p) = provisioned(s, decl, settings, source.clone()) {
                databases.push(p);
            } else {
                skipped.push(skip("invalid"));
            }
        }
    }
    databases.sort_by(|a, b| {
        (&a.service, &a.db_type, &a.name, &a.source)
            .cmp(&(&b.service, &b.db_type, &b.name, &b.source))
    });
    skipped.sort_by(|a, b| (&a.service, &a.name, &a.source).cmp(&(&b.service, &b.name, &b.source)));
    unresolved
        .sort_by(|a, b| (&a.service, &a.what, &a.source).cmp(&(&b.service, &b.what, &b.source)));
    let postgresql = postgresql(&databases);
    let mut connections: BTreeMap<String, Vec<Connection>> = BTreeMap::new();
    for d in &databases {
        connections
            .entry(d.service.clone())
            .or_default()
            .push(Connection {
                db_type: d.db_type.clone(),
                host: d.host.clone(),
                port: d.port,
                database: d.name.clone(),
                user: d.user.clone(),
                password_secret: d.password_secret.clone(),
            });
    }
    Report {
        version: 1,
        files: analysis.files.len(),
        services,
        databases,
        skipped,
        unresolved,
        postgresql,
        connections,
        hosts: analysis
            .model
            .hosts
            .iter()
            .map(|h| host_report(&loc, h))
            .collect(),
        diagnostics: diags.iter().map(|d| diagnostic_report(&loc, d)).collect(),
        summary: summary(diags),
    }
}

fn service_report(loc: &Locator, s: &Service) -> ServiceReport {
    let (enabled, enable_source) = match &s.enable {
        Enable::Known { value, span, .. } => (Some(*value), loc.start(*span)),
        _ => (None, None),
    };
    // In the order the module system concatenates them (mkBefore/mkAfter, then module order).
    let mut names: Vec<String> = Vec::new();
    for d in s
        .databases
        .iter()
        .filter(|d| matches!(d.status, DeclStatus::Active))
    {
        if let Some(n) = d.str_field("name") {
            if !names.iter().any(|x| x == n) {
                names.push(n.to_string());
            }
        }
    }
    ServiceReport {
        name: s.name.clone(),
        enabled,
        enable_source,
        databases: names,
    }
}

fn provisioned(
    s: &Service,
    decl: &DatabaseDecl,
    settings: &Settings,
    source: Location,
) -> Option<Provisioned> {
    let db_type = decl.str_field("type")?;
    let kind = settings.database_types.get(db_type)?;
    let name = decl.str_field("name")?.to_string();
    let user = decl.str_field("user").map(str::to_string);
    let port = match decl.field("port").map(|f| &f.value) {
        Some(FieldValue::Int(p)) => *p,
        None => kind.port,
        Some(_) => return None,
    };
    let is_pg = db_type == "postgresql";
    if is_pg && user.is_none() {
        return None;
    }
    let ownership = is_pg.then(|| {
        if user.as_deref() == Some(name.as_str()) {
            "ensureDBOwnership"
        } else {
            "alter-owner"
        }
    });
    Some(Provisioned {
        service: s.name.clone(),
        db_type: db_type.to_string(),
        owner: if is_pg { user.clone() } else { None },
        name,
        user,
        host: kind.host.clone(),
        port,
        password_secret: settings.password_secret(&s.name),
        ownership,
        source,
    })
}

/// What the collector sets on `services.postgresql`.
fn postgresql(databases: &[Provisioned]) -> Postgresql {
    let pg: Vec<&Provisioned> = databases
        .iter()
        .filter(|d| d.db_type == "postgresql")
        .collect();
    let names: BTreeSet<&str> = pg.iter().map(|d| d.name.as_str()).collect();
    let users: BTreeSet<&str> = pg.iter().filter_map(|d| d.user.as_deref()).collect();
    Postgresql {
        enable: !pg.is_empty(),
        ensure_databases: names.iter().map(|s| s.to_string()).collect(),
        ensure_users: users
            .iter()
            .map(|u| EnsureUser {
                name: u.to_string(),
                // NixOS asserts that an ensureDBOwnership user has a database of its name.
                ensure_db_ownership: names.contains(u),
            })
            .collect(),
    }
}

fn unresolved_report(loc: &Locator, item: &UnresolvedItem) -> UnresolvedReport {
    UnresolvedReport {
        service: item.service.clone(),
        what: item.what.clone(),
        reason: item.unresolved.reason.to_string(),
        message: item.unresolved.detail.clone(),
        source: loc.start(item.unresolved.span),
    }
}

/// A host as the report shows it: the merged `services.postgresql` values
/// and what they provision.
fn host_report(loc: &Locator, h: &HostModel) -> HostReport {
    let mut unresolved: Vec<UnresolvedReport> = h
        .unresolved
        .iter()
        .map(|u| unresolved_report(loc, u))
        .collect();
    let mut ensure_databases = Vec::new();
    for d in h
        .databases
        .iter()
        .filter(|d| matches!(d.status, DeclStatus::Active))
    {
        match &d.name {
            FieldValue::Str(n) => ensure_databases.push(n.clone()),
            FieldValue::Unresolved(u) => unresolved.push(UnresolvedReport {
                service: None,
                what: "an element of services.postgresql.ensureDatabases".to_string(),
                reason: u.reason.to_string(),
                message: u.detail.clone(),
                source: loc.start(d.span),
            }),
            _ => {}
        }
    }
    let mut ensure_users = Vec::new();
    for u in h
        .users
        .iter()
        .filter(|u| matches!(u.status, DeclStatus::Active))
    {
        match (u.name(), u.owns_database()) {
            (Some(name), Some(owns)) => ensure_users.push(EnsureUser {
                name: name.to_string(),
                ensure_db_ownership: owns,
            }),
            _ => {
                // The field that cannot be known, with its own reason.
                let (reason, message) =
                    match (&u.entry, u.field("name"), u.field("ensureDBOwnership")) {
                        (Entry::Unresolved(x), _, _) => (x.reason.to_string(), x.detail.clone()),
                        (_, Some(f), _) | (_, _, Some(f))
                            if matches!(f.value, FieldValue::Unresolved(_)) =>
                        {
                            match &f.value {
                                FieldValue::Unresolved(x) => {
                                    (x.reason.to_string(), x.detail.clone())
                                }
                                _ => unreachable!(),
                            }
                        }
                        (Entry::NotASet { got }, _, _) => (
                            "eval-error".to_string(),
                            format!("the entry is {got}, not a set"),
                        ),
                        _ => (
                            "eval-error".to_string(),
                            "its `name` or `ensureDBOwnership` is missing or of the wrong type"
                                .to_string(),
                        ),
                    };
                unresolved.push(UnresolvedReport {
                    service: None,
                    what: "an element of services.postgresql.ensureUsers".to_string(),
                    reason,
                    message,
                    source: loc.start(u.span),
                })
            }
        }
    }
    let enable = match &h.enable {
        Enable::Known { value, .. } => Some(*value),
        // Never set: the NixOS default.
        Enable::Undefined => Some(false),
        _ => None,
    };
    let mut databases: Vec<HostDatabase> = Vec::new();
    if enable == Some(true) {
        for d in h
            .databases
            .iter()
            .filter(|d| matches!(d.status, DeclStatus::Active))
        {
            let FieldValue::Str(name) = &d.name else {
                continue;
            };
            if databases.iter().any(|x| &x.name == name) {
                continue;
            }
            let owner = ensure_users
                .iter()
                .find(|u| u.ensure_db_ownership && &u.name == name)
                .map(|u| u.name.clone());
            if let Some(source) = loc.start(d.span) {
                databases.push(HostDatabase {
                    name: name.clone(),
                    owner,
                    source,
                });
            }
        }
    }
    HostReport {
        name: h.name.clone(),
        postgresql: HostPostgresql {
            enable,
            ensure_databases,
            ensure_users,
        },
        databases,
        implicit: h
            .implicit
            .iter()
            .map(|i| ImplicitReport {
                service: i.service.clone(),
                option: i.option.clone(),
                source: loc.start(i.span),
            })
            .collect(),
        unresolved,
    }
}
