use super::ensure::{about_host_entry, databases_incomplete, field_span, host_users};
use super::{Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{DeclStatus, FieldValue};

/// DB021: `ensureDBOwnership = true` for a role with no database of its name
/// on that host; the NixOS postgresql module's assertion fails.
pub struct OwnershipWithoutDatabase;

impl Rule for OwnershipWithoutDatabase {
    fn code(&self) -> &'static str {
        "DB021"
    }
    fn name(&self) -> &'static str {
        "ownership-without-database"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "`ensureDBOwnership = true` for a role with no database of the same name on that host"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        for (host, user) in host_users(&cx.model.hosts) {
            let Some(owns) = user.field("ensureDBOwnership") else {
                continue;
            };
            if owns.value != FieldValue::Bool(true) {
                continue;
            }
            let Some(name) = user.name() else { continue };
            // A name dbprov cannot see could be the one.
            if databases_incomplete(host) {
                continue;
            }
            let active = matches!(user.status, DeclStatus::Active);
            let same: Vec<_> = host
                .databases
                .iter()
                .filter(|d| d.name.as_str() == Some(name))
                .collect();
            if same.iter().any(|d| match d.status {
                DeclStatus::Active => true,
                DeclStatus::Uncertain(_) => true,
                // Once this entry counts, so may the database.
                _ => !active,
            }) {
                continue;
            }
            let mut d = self
                .diagnostic(
                    format!(
                        "On host '{}', role '{name}' has `ensureDBOwnership = true` but no database '{name}' is in services.postgresql.ensureDatabases: the NixOS postgresql module's assertion fails",
                        host.name
                    ),
                    field_span(owns),
                    &format!("no database '{name}' is ensured on host '{}'", host.name),
                )
                .with_field("ensureDBOwnership")
                .with_help(format!(
                    "Ensure the database as well, so that the role can own it:\n\n  services.postgresql.ensureDatabases = [ \"{name}\" ];\n\nor remove `ensureDBOwnership = true;` if '{name}' should own no database."
                ))
                .with_note(format!(
                    "NixOS stops with: For each database user defined with `services.postgresql.ensureUsers` and `ensureDBOwnership = true;`, a database with the same name must be defined in `services.postgresql.ensureDatabases`. Offender: {name} has not been found among databases."
                ));
            for other in &same {
                d = d.with_label(
                    other.span,
                    format!("'{name}' is ensured here, but this definition does not count"),
                );
            }
            if let Some(near) = host.databases.iter().find_map(|d| {
                d.name
                    .as_str()
                    .filter(|n| *n != name && n.eq_ignore_ascii_case(name))
                    .map(|n| (n, d.span))
            }) {
                d = d
                    .with_label(near.1, format!("'{}' differs only in case", near.0))
                    .with_note("NixOS compares the names exactly, case included");
            }
            out.push(about_host_entry(d, host, &user.status));
        }
    }
}
