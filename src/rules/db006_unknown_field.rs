use super::db008_plaintext_password::is_plaintext_password;
use super::{about_decl, declarations, nearest, Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Entry;

/// The fields of a database entry (SPEC §1).
pub const ENTRY_FIELDS: &[&str] = &["type", "name", "user", "port", "extraConfig"];

/// DB006: a field the entry schema lacks.
pub struct UnknownField;

impl Rule for UnknownField {
    fn code(&self) -> &'static str {
        "DB006"
    }
    fn name(&self) -> &'static str {
        "unknown-field"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "a field the entry schema lacks; suggests the nearest"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        for (service, decl) in declarations(cx.model) {
            let Entry::Fields(fields) = &decl.entry else {
                continue;
            };
            for (key, field) in fields {
                if ENTRY_FIELDS.contains(&key.as_str()) || key == "<unknown>" {
                    continue;
                }
                // A password in clear is DB008's, which says where it belongs.
                if is_plaintext_password(key, &field.value) {
                    continue;
                }
                let suggestion = nearest(key, ENTRY_FIELDS);
                let label = match suggestion {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "not a field of a database entry".to_string(),
                };
                let help = match suggestion {
                    Some(s) => format!(
                        "Rename the field:\n\n  {s} = ...;\n\nA database entry has: {}",
                        ENTRY_FIELDS.join(", ")
                    ),
                    None => format!(
                        "Remove the field; a database entry has: {} (extra settings go in `extraConfig`)",
                        ENTRY_FIELDS.join(", ")
                    ),
                };
                let d = self
                    .diagnostic(
                        format!(
                            "Service '{}' declares database with unknown field '{key}'",
                            service.name
                        ),
                        field.key_span,
                        &label,
                    )
                    .with_field(key)
                    .with_help(help);
                out.push(about_decl(d, service, decl));
            }
        }
    }
}
