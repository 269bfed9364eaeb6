use super::ensure::{about_host_entry, field_span, host_users};
use super::{Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};

/// DB023: `ensurePermissions` in an `ensureUsers` entry; NixOS 24.05 removed it.
pub struct RemovedOption;

impl Rule for RemovedOption {
    fn code(&self) -> &'static str {
        "DB023"
    }
    fn name(&self) -> &'static str {
        "removed-option"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "`ensurePermissions` in an `ensureUsers` entry, an option NixOS 24.05 removed"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        for (host, user) in host_users(&cx.model.hosts) {
            let Some(field) = user.field("ensurePermissions") else {
                continue;
            };
            let role = user.name().unwrap_or("app");
            let who = match user.name() {
                Some(n) => format!("role '{n}'"),
                None => "an ensureUsers entry".to_string(),
            };
            let has_database = host.databases.iter().any(|d| d.name.as_str() == Some(role));
            let ensure_db = if has_database {
                String::new()
            } else {
                format!("  services.postgresql.ensureDatabases = [ \"{role}\" ];\n")
            };
            let d = self
                .diagnostic(
                    format!(
                        "On host '{}', {who} sets `ensurePermissions`, which NixOS 24.05 removed from services.postgresql.ensureUsers: evaluation fails because the option does not exist",
                        host.name
                    ),
                    field_span(field),
                    "removed in NixOS 24.05",
                )
                .with_field("ensurePermissions")
                .with_help(format!(
                    "Make the role the owner of a database of its own name instead:\n\n{ensure_db}  services.postgresql.ensureUsers = [{{\n    name = \"{role}\";\n    ensureDBOwnership = true;\n  }}];\n\nOther privileges have to be granted in SQL of your own, run after PostgreSQL has started (see the PostgreSQL chapter of the NixOS manual)."
                ))
                .with_note(
                    "NixOS stops with: The option `services.postgresql.ensureUsers.\"[definition 1-entry 1]\".ensurePermissions' does not exist.",
                );
            out.push(about_host_entry(d, host, &user.status));
        }
    }
}
