use super::{about_decl, declarations, Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::FieldValue;

/// DB020: a port outside 1–65535.
pub struct InvalidPort;

impl Rule for InvalidPort {
    fn code(&self) -> &'static str {
        "DB020"
    }
    fn name(&self) -> &'static str {
        "invalid-port"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "a port outside 1–65535"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        for (service, decl) in declarations(cx.model) {
            let Some(field) = decl.field("port") else {
                continue;
            };
            // A port that is not an integer is DB007's.
            let FieldValue::Int(port) = field.value else {
                continue;
            };
            if (1..=65535).contains(&port) {
                continue;
            }
            let default = decl
                .str_field("type")
                .and_then(|t| cx.settings.database_types.get(t))
                .map(|t| (t.name.as_str(), t.port));
            let help = match default {
                Some((t, p)) => format!(
                    "A TCP port is between 1 and 65535. Use the port the server listens on, or leave `port` out for the {t} default ({p}):\n\n  port = {p};"
                ),
                None => "A TCP port is between 1 and 65535; use the port the server listens on.".to_string(),
            };
            let d = self
                .diagnostic(
                    format!(
                        "Service '{}' declares database port {port}, outside 1–65535",
                        service.name
                    ),
                    field.value_span,
                    "not a TCP port",
                )
                .with_field("port")
                .with_help(help);
            out.push(about_decl(d, service, decl));
        }
    }
}
