use super::{about_decl, declarations, example_entry, Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Entry;

/// DB001: an entry lacks `type`, `name`, or (for PostgreSQL) `user`.
pub struct MissingField;

impl Rule for MissingField {
    fn code(&self) -> &'static str {
        "DB001"
    }
    fn name(&self) -> &'static str {
        "missing-field"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "an entry lacks `type`, `name`, or (postgresql) `user`"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        for (service, decl) in declarations(cx.model) {
            let Entry::Fields(fields) = &decl.entry else {
                continue;
            };
            let db_type = decl.str_field("type");
            let is_pg = db_type == Some("postgresql");
            let mut required = vec!["type", "name"];
            if is_pg {
                required.push("user");
            }
            let name = decl.str_field("name").unwrap_or(&service.name);
            for field in required {
                if fields.contains_key(field) {
                    continue;
                }
                let help = if is_pg {
                    format!(
                        "All PostgreSQL databases require: type, name, user\n\n{}",
                        example_entry("postgresql", name, Some(name))
                    )
                } else {
                    let t = db_type.unwrap_or("postgresql");
                    let user = (t == "postgresql").then_some(name);
                    format!(
                        "All databases require: type, name (and user for PostgreSQL)\n\n{}",
                        example_entry(t, name, user)
                    )
                };
                let d = self
                    .diagnostic(
                        format!(
                            "Service '{}' declares database with missing required field '{field}'",
                            service.name
                        ),
                        decl.span,
                        &format!("this entry has no `{field}`"),
                    )
                    .with_field(field)
                    .with_help(help);
                out.push(about_decl(d, service, decl));
            }
        }
    }
}
