use std::collections::BTreeMap;

use super::{about_decl, declarations, Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::DeclStatus;

/// DB005: the same database declared twice among enabled services.
pub struct DuplicateDatabase;

impl Rule for DuplicateDatabase {
    fn code(&self) -> &'static str {
        "DB005"
    }
    fn name(&self) -> &'static str {
        "duplicate-database"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "the same database name declared twice among enabled services"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        let mut seen: BTreeMap<(&str, &str), (&str, crate::source::Span)> = BTreeMap::new();
        for (service, decl) in declarations(cx.model) {
            if !service.enable.is_enabled() || !matches!(decl.status, DeclStatus::Active) {
                continue;
            }
            let (Some(t), Some(field)) = (decl.str_field("type"), decl.field("name")) else {
                continue;
            };
            let Some(name) = field.value.as_str() else {
                continue;
            };
            match seen.get(&(t, name)) {
                None => {
                    seen.insert((t, name), (&service.name, field.value_span));
                }
                Some((first_service, first_span)) => {
                    let where_ = if *first_service == service.name {
                        format!("twice by service '{}'", service.name)
                    } else {
                        format!("by services '{first_service}' and '{}'", service.name)
                    };
                    let d = self
                        .diagnostic(
                            format!("{t} database \"{name}\" is declared {where_}"),
                            field.value_span,
                            "declared again here",
                        )
                        .with_field("name")
                        .with_label(
                            *first_span,
                            format!("first declared by service '{first_service}'"),
                        )
                        .with_help(if *first_service == service.name {
                            format!(
                                "Remove the repeated entry, or give it another name, e.g.:\n\n  name = \"{}_2\";",
                                name
                            )
                        } else {
                            format!(
                                "Give each service its own database, e.g.:\n\n  name = \"{}\";",
                                service.name.replace('-', "_")
                            )
                        });
                    out.push(about_decl(d, service, decl));
                }
            }
        }
    }
}
