use super::{about_decl, declarations, Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{DeclStatus, Entry, FieldValue, Unresolved};
use crate::source::Span;

/// DB017: a field or a part of `databases` cannot be computed statically.
pub struct UnresolvedValue;

impl UnresolvedValue {
    fn make(&self, message: String, u: &Unresolved, fallback: Span) -> Diagnostic {
        let span = if u.span.is_detached() {
            fallback
        } else {
            u.span
        };
        self.diagnostic(
            format!("{message} ({}): {}", u.reason, u.detail),
            span,
            "cannot be evaluated statically",
        )
        .with_help(
            "dbprov leaves what it cannot compute out of the plan and lists it under `unresolved`. \
             Write the value literally, or with the lib functions dbprov evaluates (see `dbprov explain DB017`).",
        )
    }
}

impl Rule for UnresolvedValue {
    fn code(&self) -> &'static str {
        "DB017"
    }
    fn name(&self) -> &'static str {
        "unresolved-value"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "a field or a part of `databases` cannot be computed statically"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        for item in &cx.model.unresolved {
            let mut d = self.make(
                format!("{} cannot be known", item.what),
                &item.unresolved,
                Span::DETACHED,
            );
            if let Some(s) = &item.service {
                d = d.with_service(s);
            }
            out.push(d);
        }
        for service in &cx.model.services {
            for u in &service.databases_unresolved {
                let d = self
                    .make(
                        format!(
                            "Part of service '{}''s `databases` cannot be computed",
                            service.name
                        ),
                        u,
                        service.span,
                    )
                    .with_service(&service.name)
                    .with_field("databases");
                out.push(d);
            }
        }
        for (service, decl) in declarations(cx.model) {
            if let DeclStatus::Uncertain(u) = &decl.status {
                let d = self
                    .make(
                        format!(
                            "Whether this database of service '{}' is declared cannot be known",
                            service.name
                        ),
                        u,
                        decl.span,
                    )
                    .with_service(&service.name)
                    .with_field("databases")
                    .with_label(decl.span, "this declaration")
                    .about(decl.span);
                out.push(d);
            }
            match &decl.entry {
                Entry::Unresolved(u) => {
                    let d = self
                        .make(
                            format!(
                                "A database entry of service '{}' cannot be computed",
                                service.name
                            ),
                            u,
                            decl.span,
                        )
                        .with_field("databases");
                    out.push(about_decl(d, service, decl));
                }
                Entry::Fields(fields) => {
                    for (key, field) in fields {
                        let FieldValue::Unresolved(u) = &field.value else {
                            continue;
                        };
                        let what = if key == "<unknown>" {
                            "Some fields".to_string()
                        } else {
                            format!("Field '{key}'")
                        };
                        let d = self
                            .make(
                                format!(
                                    "{what} of a database of service '{}' cannot be computed",
                                    service.name
                                ),
                                u,
                                field.value_span,
                            )
                            .with_field(key);
                        out.push(about_decl(d, service, decl));
                    }
                }
                Entry::NotASet { .. } => {}
            }
        }
    }
}
