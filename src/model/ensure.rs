//! Ensure mode (SPEC §8): what the NixOS PostgreSQL module of one host will
//! ensure — the merged `services.postgresql.enable`, `ensureDatabases` and
//! `ensureUsers` — and the nixpkgs services that create their own database.

use std::rc::Rc;

use super::extract::{extract_enable, extract_entry, list_items};
use super::{DeclStatus, Enable, Entry, Field, FieldValue, Unresolved, UnresolvedItem};
use crate::eval::{Evaluator, Reason, V};
use crate::module::{merge, Collected, ModuleSystem};
use crate::source::Span;

/// One element of `ensureDatabases`.
#[derive(Clone, Debug)]
pub struct EnsuredDatabase {
    pub name: FieldValue,
    pub span: Span,
    pub status: DeclStatus,
}

/// One element of `ensureUsers`.
#[derive(Clone, Debug)]
pub struct EnsuredUser {
    pub span: Span,
    pub status: DeclStatus,
    /// The entry's fields (`name`, `ensureDBOwnership`, `ensureClauses`,
    /// `ensurePermissions`, …), or why it cannot be read.
    pub entry: Entry,
    /// The fields of its `ensureClauses` set (`createdb`, `superuser`, …),
    /// when it has one.
    pub clauses: Option<Entry>,
}

impl EnsuredUser {
    pub fn field(&self, name: &str) -> Option<&Field> {
        match &self.entry {
            Entry::Fields(f) => f.get(name),
            _ => None,
        }
    }
    pub fn name(&self) -> Option<&str> {
        self.field("name").and_then(|f| f.value.as_str())
    }
    /// `ensureDBOwnership`, `false` when not set (the NixOS default).
    pub fn owns_database(&self) -> Option<bool> {
        match self.field("ensureDBOwnership").map(|f| &f.value) {
            None => Some(false),
            Some(FieldValue::Bool(b)) => Some(*b),
            Some(_) => None,
        }
    }
}

/// A nixpkgs service option that makes the service create its own database.
#[derive(Clone, Debug)]
pub struct Implicit {
    pub service: String,
    /// The option path, e.g. `services.nextcloud.database.createLocally`.
    pub option: String,
    pub span: Span,
}

/// One NixOS configuration, as its PostgreSQL sees it.
#[derive(Clone, Debug)]
pub struct HostModel {
    pub name: String,
    pub span: Span,
    /// `services.postgresql.enable`; `Undefined` means never set (NixOS: false).
    pub enable: Enable,
    pub databases: Vec<EnsuredDatabase>,
    pub users: Vec<EnsuredUser>,
    pub implicit: Vec<Implicit>,
    pub unresolved: Vec<UnresolvedItem>,
    /// Per file: part of this configuration.
    pub reached: Vec<bool>,
    /// Part of its module list or imports cannot be evaluated and could
    /// lead to any file of the repository, so `reached` may miss some.
    pub reach_unknown: bool,
}

impl HostModel {
    pub fn postgresql_enabled(&self) -> bool {
        self.enable.is_enabled()
    }
}

fn path(parts: &[&str]) -> Vec<Rc<str>> {
    parts.iter().map(|p| Rc::from(*p)).collect()
}

/// Options of nixpkgs service modules that create a database locally.
const IMPLICIT_OPTIONS: &[&[&str]] = &[
    &["database", "createLocally"],
    &["database", "createDatabase"],
    &["database", "createDB"],
    &["createDatabase"],
    &["createLocally"],
    &["createDatabaseLocally"],
];

/// Extracts what the host's PostgreSQL will ensure.
pub fn extract_host(
    ev: &Evaluator,
    ms: &ModuleSystem,
    name: &str,
    span: Span,
    reached: Vec<bool>,
) -> HostModel {
    let mut host = HostModel {
        name: name.to_string(),
        span,
        enable: Enable::Undefined,
        databases: Vec::new(),
        users: Vec::new(),
        implicit: Vec::new(),
        unresolved: Vec::new(),
        reached,
        reach_unknown: false,
    };
    let unresolved = |what: &str, u: Unresolved| UnresolvedItem {
        service: None,
        what: what.to_string(),
        unresolved: u,
    };
    ev.reset_budget();
    host.enable = extract_enable(ev, ms, &path(&["services", "postgresql", "enable"]));
    if let Enable::Unresolved(u) = &host.enable {
        host.unresolved
            .push(unresolved("services.postgresql.enable", u.clone()));
    }

    ev.reset_budget();
    let merged = merge::merge(
        ev,
        &ms.definitions(ev, &path(&["services", "postgresql", "ensureDatabases"])),
        None,
    );
    let items = list_items(ev, &merged);
    for item in items.items {
        let v = ev.force(&item.thunk);
        let name = match &v.v {
            V::Str(s) => FieldValue::Str(s.to_string()),
            V::Unresolved(u) => FieldValue::Unresolved((**u).clone()),
            other => FieldValue::Unresolved(Unresolved::new(
                Reason::EvalError,
                format!(
                    "an element of ensureDatabases is {}, not a string",
                    other.type_name()
                ),
                v.span,
            )),
        };
        host.databases.push(EnsuredDatabase {
            name,
            span: item.span,
            status: item.status,
        });
    }
    for u in items.unresolved {
        host.unresolved
            .push(unresolved("services.postgresql.ensureDatabases", u));
    }
    for (got, at) in items.wrong_type {
        host.unresolved.push(unresolved(
            "services.postgresql.ensureDatabases",
            Unresolved::new(
                Reason::EvalError,
                format!("defined as {got}, not a list"),
                at,
            ),
        ));
    }

    ev.reset_budget();
    let merged = merge::merge(
        ev,
        &ms.definitions(ev, &path(&["services", "postgresql", "ensureUsers"])),
        None,
    );
    let items = list_items(ev, &merged);
    for item in items.items {
        let entry = extract_entry(ev, &item.thunk);
        let clauses = match &entry {
            Entry::Fields(f)
                if f.get("ensureClauses").map(|c| &c.value) == Some(&FieldValue::Attrs) =>
            {
                match &ev.force(&item.thunk).v {
                    V::Attrs(a) => a.get("ensureClauses").map(|c| extract_entry(ev, &c.value)),
                    _ => None,
                }
            }
            _ => None,
        };
        host.users.push(EnsuredUser {
            span: item.span,
            status: item.status,
            entry,
            clauses,
        });
    }
    for u in items.unresolved {
        host.unresolved
            .push(unresolved("services.postgresql.ensureUsers", u));
    }
    for (got, at) in items.wrong_type {
        host.unresolved.push(unresolved(
            "services.postgresql.ensureUsers",
            Unresolved::new(
                Reason::EvalError,
                format!("defined as {got}, not a list"),
                at,
            ),
        ));
    }

    extract_implicit(ev, ms, &mut host);
    host
}

/// Services whose own module creates a database (`createLocally`, …): listed
/// with the option and its definition, never as invented database names.
fn extract_implicit(ev: &Evaluator, ms: &ModuleSystem, host: &mut HostModel) {
    ev.reset_budget();
    let services = ms.children(ev, &path(&["services"]));
    for (service, _) in services.names.iter().filter(|(n, _)| &***n != "postgresql") {
        for option in IMPLICIT_OPTIONS {
            let mut p = path(&["services"]);
            p.push(service.clone());
            p.extend(option.iter().map(|s| Rc::from(*s)));
            let collected = ms.definitions(ev, &p);
            if !collected.iter().any(|c| matches!(c, Collected::Def(_))) {
                continue;
            }
            let option_path = p.iter().map(|s| s.as_ref()).collect::<Vec<_>>().join(".");
            let merged = merge::merge(ev, &collected, None);
            // Every definition under a false guard: NixOS does nothing.
            if merged.counted.is_empty() && merged.uncertain.is_empty() {
                continue;
            }
            let value = merge::generic_value(ev, &merged, &p, Span::DETACHED);
            let span = merged
                .counted
                .first()
                .map(|c| c.def_span)
                .unwrap_or(Span::DETACHED);
            match &value.v {
                V::Bool(true) => {
                    // The service's module creates it only when the service runs.
                    let mut enable = path(&["services"]);
                    enable.push(service.clone());
                    enable.push(Rc::from("enable"));
                    match extract_enable(ev, ms, &enable) {
                        Enable::Known { value: true, .. } => host.implicit.push(Implicit {
                            service: service.to_string(),
                            option: option_path,
                            span,
                        }),
                        Enable::Unresolved(u) => host.unresolved.push(UnresolvedItem {
                            service: Some(service.to_string()),
                            what: format!(
                                "services.{service}.enable (it would create its own database)"
                            ),
                            unresolved: u,
                        }),
                        _ => {}
                    }
                }
                V::Unresolved(u) => host.unresolved.push(UnresolvedItem {
                    service: Some(service.to_string()),
                    what: option_path,
                    unresolved: (**u).clone(),
                }),
                _ => {}
            }
        }
    }
}
