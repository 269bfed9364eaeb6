use super::{about_decl, declarations, nearest, Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};

/// DB002: `type` is not one of the allowed database types.
pub struct UnknownType;

impl Rule for UnknownType {
    fn code(&self) -> &'static str {
        "DB002"
    }
    fn name(&self) -> &'static str {
        "unknown-type"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "`type` is not an allowed database type; suggests the nearest"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        let allowed: Vec<&str> = cx
            .settings
            .database_types
            .keys()
            .map(|s| s.as_str())
            .collect();
        for (service, decl) in declarations(cx.model) {
            let Some(field) = decl.field("type") else {
                continue;
            };
            let Some(t) = field.value.as_str() else {
                continue;
            };
            if allowed.contains(&t) {
                continue;
            }
            let suggestion = nearest(t, &allowed);
            let label = match suggestion {
                Some(s) => format!("did you mean \"{s}\"?"),
                None => "unknown database type".to_string(),
            };
            // Without a near match, show the type most services use.
            let fixed = suggestion
                .or_else(|| allowed.iter().copied().find(|t| *t == "postgresql"))
                .or_else(|| allowed.first().copied())
                .unwrap_or("postgresql");
            let name = decl.str_field("name").unwrap_or(&service.name);
            let d = self
                .diagnostic(
                    format!(
                        "Service '{}' declares database '{name}' with unknown type \"{t}\"; allowed: {}",
                        service.name,
                        allowed.join(", ")
                    ),
                    field.value_span,
                    &label,
                )
                .with_field("type")
                .with_help(format!(
                    "Use one of the allowed types:\n\n  {{ type = \"{fixed}\"; name = \"{name}\"; ... }}"
                ));
            out.push(about_decl(d, service, decl));
        }
    }
}
