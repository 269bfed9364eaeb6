use super::ensure::{about_host_entry, host_databases};
use super::identifier::{check_declared, ensure_identifier_problem};
use super::{corrected_identifier, Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};

/// DB003: a PostgreSQL database name that breaks identifier rules.
pub struct InvalidName;

impl Rule for InvalidName {
    fn code(&self) -> &'static str {
        "DB003"
    }
    fn name(&self) -> &'static str {
        "invalid-name"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "database name breaks PostgreSQL identifier rules; suggests a corrected name"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        check_declared(self, cx, "name", ("database name", "database name"), out);
        // Ensure mode: NixOS quotes the name, so only what quoting cannot fix counts.
        for (host, db) in host_databases(&cx.model.hosts) {
            let Some(name) = db.name.as_str() else {
                continue;
            };
            let Some(problem) = ensure_identifier_problem(name) else {
                continue;
            };
            let fixed = corrected_identifier(name);
            let d = self
                .diagnostic(
                    format!(
                        "On host '{}', services.postgresql.ensureDatabases holds the database name \"{name}\", which NixOS cannot create as written: {problem}",
                        host.name
                    ),
                    db.span,
                    &format!("try \"{fixed}\""),
                )
                .with_field("ensureDatabases")
                .with_help(format!(
                    "Use a name of at most 63 bytes, best a plain identifier (letters, digits, '_'):\n\n  services.postgresql.ensureDatabases = [ \"{fixed}\" ];"
                ));
            out.push(about_host_entry(d, host, &db.status));
        }
    }
}
