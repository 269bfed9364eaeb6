use super::ensure::{about_host_entry, host_users};
use super::identifier::ensure_identifier_problem;
use super::{about_decl, corrected_identifier, declarations, identifier_problem, Context, Rule};
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
        for (service, decl) in declarations(cx.model) {
            if decl.str_field("type") != Some("postgresql") {
                continue;
            }
            let Some(field) = decl.field("user") else {
                continue;
            };
            let Some(user) = field.value.as_str() else {
                continue;
            };
            let Some(problem) = identifier_problem(user) else {
                continue;
            };
            let fixed = corrected_identifier(user);
            let d = self
                .diagnostic(
                    format!(
                        "Service '{}' declares role \"{user}\" that is not a valid PostgreSQL identifier: {problem}",
                        service.name
                    ),
                    field.value_span,
                    &format!("try \"{fixed}\""),
                )
                .with_field("user")
                .with_help(format!(
                    "A role name starts with a letter or '_', continues with letters, digits or '_', and has at most 63 bytes:\n\n  user = \"{fixed}\";"
                ));
            out.push(about_decl(d, service, decl));
        }
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
