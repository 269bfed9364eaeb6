use super::{about_decl, corrected_identifier, declarations, identifier_problem, Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};

/// DB016: upper-case letters in a PostgreSQL database or role name.
pub struct IdentifierCase;

impl Rule for IdentifierCase {
    fn code(&self) -> &'static str {
        "DB016"
    }
    fn name(&self) -> &'static str {
        "identifier-case"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "upper-case letters in a PostgreSQL database or role name; suggests the lower-case name"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        for (service, decl) in declarations(cx.model) {
            if decl.str_field("type") != Some("postgresql") {
                continue;
            }
            for (key, what) in [("name", "database"), ("user", "role")] {
                let Some(field) = decl.field(key) else {
                    continue;
                };
                let Some(v) = field.value.as_str() else {
                    continue;
                };
                if !v.bytes().any(|b| b.is_ascii_uppercase()) {
                    continue;
                }
                let lower = v.to_ascii_lowercase();
                // A name invalid for other reasons too (DB003, DB004) gets a
                // suggestion that fixes both.
                let (message, fixed) = if identifier_problem(v).is_none() {
                    (
                        format!(
                            "Service '{}' declares the {what} name \"{v}\" with upper-case letters; unquoted, PostgreSQL reads it as \"{lower}\"",
                            service.name
                        ),
                        lower,
                    )
                } else {
                    (
                        format!(
                            "Service '{}' declares the {what} name \"{v}\" with upper-case letters, which PostgreSQL folds to lower case unless the name is quoted",
                            service.name
                        ),
                        corrected_identifier(&lower),
                    )
                };
                let d = self
                    .diagnostic(message, field.value_span, &format!("try \"{fixed}\""))
                    .with_field(key)
                    .with_help(format!(
                        "PostgreSQL folds unquoted identifiers to lower case, so every SQL statement that names this {what} must quote it. Use the lower-case name:\n\n  {key} = \"{fixed}\";"
                    ));
                out.push(about_decl(d, service, decl));
            }
        }
    }
}
