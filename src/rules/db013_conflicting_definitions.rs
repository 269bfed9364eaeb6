use super::{about_decl, declarations, Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Enable, Entry, FieldValue};

/// DB013: `enable` or an entry field defined with different values at the same priority.
pub struct ConflictingDefinitions;

impl Rule for ConflictingDefinitions {
    fn code(&self) -> &'static str {
        "DB013"
    }
    fn name(&self) -> &'static str {
        "conflicting-definitions"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "`enable` (or an entry field) defined with different values at the same priority"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        for service in &cx.model.services {
            let Enable::Conflict(defs) = &service.enable else {
                continue;
            };
            let values: Vec<&str> = defs.iter().map(|(v, _)| v.as_str()).collect();
            let mut d = self
                .diagnostic(
                    format!(
                        "Service '{}' has conflicting definitions of `enable` at the same priority: {}",
                        service.name,
                        values.join(", ")
                    ),
                    defs[1].1,
                    &format!("defined as {}", defs[1].0),
                )
                .with_service(&service.name)
                .with_field("enable")
                .with_help(format!(
                    "Keep one definition. To let this one win, raise its priority (or lower the others' with lib.mkDefault):\n\n  {}.{}.enable = lib.mkForce {};",
                    cx.settings.service_path.join("."),
                    service.name,
                    defs[1].0
                ));
            for (i, (v, span)) in defs.iter().enumerate() {
                if i != 1 {
                    d = d.with_label(*span, format!("defined as {v}"));
                }
            }
            out.push(d);
        }
        for (service, decl) in declarations(cx.model) {
            let Entry::Fields(fields) = &decl.entry else {
                continue;
            };
            for (key, field) in fields {
                let FieldValue::Conflict(spans) = &field.value else {
                    continue;
                };
                let mut d = self
                    .diagnostic(
                        format!(
                            "Service '{}' declares database field '{key}' with conflicting definitions at the same priority",
                            service.name
                        ),
                        spans[1],
                        "conflicting definition",
                    )
                    .with_field(key)
                    .with_help(format!(
                        "Keep one value, or mark the fallback as a default:\n\n  {key} = lib.mkDefault \"{}\";",
                        service.name
                    ));
                for (i, span) in spans.iter().enumerate() {
                    if i != 1 {
                        d = d.with_label(*span, "definition");
                    }
                }
                out.push(about_decl(d, service, decl));
            }
        }
    }
}
