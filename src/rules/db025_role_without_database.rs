use super::ensure::{pg_state, PgState};
use super::{Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::ensure::EnsuredUser;
use crate::model::{DeclStatus, Entry, FieldValue};

/// DB025: a role that owns nothing and is granted nothing declaratively.
pub struct RoleWithoutDatabase;

/// `ensureClauses` that give a role a privilege: a role with `login` or
/// `inherit` alone can do no more than any other role.
const GRANTING_CLAUSES: &[&str] = &[
    "superuser",
    "createrole",
    "createdb",
    "replication",
    "bypassrls",
];

/// Whether the entry grants the role something (`Some(true)`), nothing
/// (`Some(false)`), or that cannot be known (`None`).
fn grants(user: &EnsuredUser) -> Option<bool> {
    // Removed, but it means the role is meant to be granted something (DB023).
    if user.field("ensurePermissions").is_some() {
        return Some(true);
    }
    match user.owns_database() {
        Some(true) => return Some(true),
        Some(false) => {}
        None => return None,
    }
    let Some(clauses) = &user.clauses else {
        // No set: either absent, or something other than a set.
        return match user.field("ensureClauses").map(|f| &f.value) {
            None => Some(false),
            Some(_) => None,
        };
    };
    let Entry::Fields(fields) = clauses else {
        return None;
    };
    let mut known = true;
    for (key, f) in fields {
        match &f.value {
            FieldValue::Bool(true) if GRANTING_CLAUSES.contains(&key.as_str()) => {
                return Some(true)
            }
            FieldValue::Bool(_) | FieldValue::Null => {}
            _ => known = false,
        }
    }
    known.then_some(false)
}

impl Rule for RoleWithoutDatabase {
    fn code(&self) -> &'static str {
        "DB025"
    }
    fn name(&self) -> &'static str {
        "role-without-database"
    }
    fn default_severity(&self) -> Severity {
        Severity::Info
    }
    fn summary(&self) -> &'static str {
        "an ensured role that owns no database and is granted nothing declaratively"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        for host in &cx.model.hosts {
            if !matches!(pg_state(host), PgState::On) {
                continue;
            }
            let active: Vec<&EnsuredUser> = host
                .users
                .iter()
                .filter(|u| matches!(u.status, DeclStatus::Active))
                .collect();
            let mut seen: Vec<&str> = Vec::new();
            for user in &active {
                let Some(name) = user.name() else { continue };
                if seen.contains(&name) {
                    continue;
                }
                seen.push(name);
                // nixpkgs' module for this service adds its own entry for the role.
                if host.implicit.iter().any(|i| i.service == name) {
                    continue;
                }
                let entries = active.iter().filter(|u| u.name() == Some(name));
                let mut nothing = true;
                for u in entries {
                    if grants(u) != Some(false) {
                        nothing = false;
                        break;
                    }
                }
                if !nothing {
                    continue;
                }
                let at = user
                    .field("name")
                    .map(|f| f.value_span)
                    .unwrap_or(user.span);
                let same_db = host.databases.iter().find(|d| {
                    d.name.as_str() == Some(name) && matches!(d.status, DeclStatus::Active)
                });
                let mut d = self.diagnostic(
                    format!(
                        "On host '{}', role '{name}' is ensured but owns no database and is granted nothing declaratively",
                        host.name
                    ),
                    at,
                    "owns nothing, granted nothing",
                )
                .with_field("name");
                d = match same_db {
                    Some(db) => d
                        .with_label(db.span, format!("database '{name}' is ensured here"))
                        .with_help(format!(
                            "A database '{name}' is ensured on this host; make the role its owner:\n\n  services.postgresql.ensureUsers = [{{\n    name = \"{name}\";\n    ensureDBOwnership = true;\n  }}];"
                        )),
                    None => d.with_help(format!(
                        "If the role is to own a database, ensure one of the same name and make it the owner:\n\n  services.postgresql.ensureDatabases = [ \"{name}\" ];\n  services.postgresql.ensureUsers = [{{\n    name = \"{name}\";\n    ensureDBOwnership = true;\n  }}];\n\nIf it is granted privileges in SQL elsewhere, silence this with `# dbprov: ignore DB025`."
                    )),
                };
                out.push(d.with_note(
                    "NixOS creates the role with CREATE USER and applies its ensureClauses; beyond that it has only what PostgreSQL grants to every role (PUBLIC)",
                ));
            }
        }
    }
}
