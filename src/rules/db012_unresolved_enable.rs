use super::{Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Enable;

/// DB012: whether a service is enabled cannot be known statically.
pub struct UnresolvedEnable;

impl Rule for UnresolvedEnable {
    fn code(&self) -> &'static str {
        "DB012"
    }
    fn name(&self) -> &'static str {
        "unresolved-enable"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "whether the service is enabled cannot be known statically; says why"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        for service in &cx.model.services {
            let Enable::Unresolved(u) = &service.enable else {
                continue;
            };
            // A cycle is DB027's.
            if !service.declares_databases() || u.reason == crate::model::Reason::Cycle {
                continue;
            }
            let span = if u.span.is_detached() {
                service.span
            } else {
                u.span
            };
            let d = self
                .diagnostic(
                    format!(
                        "Whether service '{}' is enabled cannot be known statically ({}): {}",
                        service.name, u.reason, u.detail
                    ),
                    span,
                    "cannot be evaluated without running Nix",
                )
                .with_service(&service.name)
                .with_field("enable")
                .with_label(service.span, format!("service '{}'", service.name))
                .with_help(format!(
                    "Its databases are left out of the plan. Define `enable` with a value dbprov can evaluate, e.g. in the settings file:\n\n  {}.{}.enable = true;",
                    cx.settings.service_path.join("."),
                    service.name
                ));
            out.push(d);
        }
    }
}
