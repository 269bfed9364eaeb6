use super::ensure::{about_host_entry, host_users};
use super::identifier::{check_declared, ensure_identifier_problem};
use super::{corrected_identifier, Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};

/// DB004: a PostgreSQL role name that breaks identifier rules.
pub struct InvalidUser;

impl Rule for InvalidUser {
    fn code(&self) -> &'static str {
        "DB004"
    }
    fn name(&self) -> &'static str {
        "invalid-user"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "role name breaks PostgreSQL identifier rules; suggests a corrected name"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        check_declared(self, cx, "user", ("role", "role name"), out);
        // Ensure mode: NixOS quotes the name, so only what quoting cannot fix counts.
        for (host, user) in host_users(&cx.model.hosts) {
            let Some(field) = user.field("name") else {
                continue;
            };
            let Some(name) = field.value.as_str() else {
                continue;
            };
            let Some(problem) = ensure_identifier_problem(name) else {
                continue;
            };
            let fixed = corrected_identifier(name);
            let d = self
                .diagnostic(
                    format!(
                        "On host '{}', services.postgresql.ensureUsers holds the role name \"{name}\", which NixOS cannot create as written: {problem}",
                        host.name
                    ),
                    field.value_span,
                    &format!("try \"{fixed}\""),
                )
                .with_field("name")
                .with_help(format!(
                    "Use a name of at most 63 bytes, best a plain identifier (letters, digits, '_'):\n\n  name = \"{fixed}\";"
                ));
            out.push(about_host_entry(d, host, &user.status));
        }
    }
}
