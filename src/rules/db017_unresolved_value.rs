use super::{about_decl, declarations, Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{DeclStatus, Entry, FieldValue, Reason, Unresolved};
use crate::source::Span;

/// DB017: a field or a part of `databases` cannot be computed statically.
pub struct UnresolvedValue;

impl UnresolvedValue {
    /// The diagnostic for one unresolved value, at the place evaluation
    /// stopped; none for a cycle, which is DB027's.
    fn make(&self, message: String, u: &Unresolved, fallback: Span) -> Option<Diagnostic> {
        let at = if u.span.is_detached() {
            fallback
        } else {
            u.span
        };
        self.make_at(message, u, at)
    }

    /// The same at `at` (e.g. a field's value), with the place evaluation
    /// stopped as a secondary label when it is elsewhere.
    fn make_at(&self, message: String, u: &Unresolved, at: Span) -> Option<Diagnostic> {
        if u.reason == Reason::Cycle {
            return None;
        }
        let mut d = self
            .diagnostic(
                format!("{message} ({}): {}", u.reason, u.detail),
                at,
                "cannot be evaluated statically",
            )
            .with_help(
                "dbprov leaves what it cannot compute out of the plan and lists it under `unresolved`. \
                 Write the value literally, or with the lib functions dbprov evaluates (see `dbprov explain DB017`).",
            );
        if u.span != at && !u.span.is_detached() {
            d = d.with_label(u.span, format!("evaluation stops here ({})", u.reason));
        }
        Some(d)
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
        // Ensure mode: what a host's configuration leaves unknown.
        for host in &cx.model.hosts {
            for item in &host.unresolved {
                let message = format!("On host '{}', {} cannot be known", host.name, item.what);
                if let Some(mut d) = self.make(message, &item.unresolved, host.span) {
                    if let Some(s) = &item.service {
                        d = d.with_service(s);
                    }
                    out.push(d);
                }
            }
        }
        for item in &cx.model.unresolved {
            let Some(mut d) = self.make(
                format!("{} cannot be known", item.what),
                &item.unresolved,
                Span::DETACHED,
            ) else {
                continue;
            };
            if let Some(s) = &item.service {
                d = d.with_service(s);
            }
            out.push(d);
        }
        for service in &cx.model.services {
            for u in &service.databases_unresolved {
                let message = format!(
                    "Part of the `databases` of service '{}' cannot be computed",
                    service.name
                );
                if let Some(d) = self.make(message, u, service.span) {
                    out.push(d.with_service(&service.name).with_field("databases"));
                }
            }
        }
        for (service, decl) in declarations(cx.model) {
            if let DeclStatus::Uncertain(u) = &decl.status {
                let message = format!(
                    "Whether this database of service '{}' is declared cannot be known",
                    service.name
                );
                if let Some(d) = self.make(message, u, decl.span) {
                    // Uncertain is no inactive reason: about_decl adds no note.
                    out.push(about_decl(
                        d.with_field("databases")
                            .with_label(decl.span, "this declaration"),
                        service,
                        decl,
                    ));
                }
            }
            match &decl.entry {
                Entry::Unresolved(u) => {
                    let message = format!(
                        "A database entry of service '{}' cannot be computed",
                        service.name
                    );
                    if let Some(d) = self.make(message, u, decl.span) {
                        out.push(about_decl(d.with_field("databases"), service, decl));
                    }
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
                        let message = format!(
                            "{what} of a database of service '{}' cannot be computed",
                            service.name
                        );
                        if let Some(d) = self.make_at(message, u, field.value_span) {
                            out.push(about_decl(d.with_field(key), service, decl));
                        }
                    }
                }
                Entry::NotASet { .. } => {}
            }
        }
    }
}
