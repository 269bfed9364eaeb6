use super::{Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Enable;

/// DB014: a service declares databases but `enable` is never defined and has no default.
pub struct UndefinedEnable;

impl Rule for UndefinedEnable {
    fn code(&self) -> &'static str {
        "DB014"
    }
    fn name(&self) -> &'static str {
        "undefined-enable"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "a service declares databases but `enable` is never defined and has no default"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        for service in &cx.model.services {
            if !matches!(service.enable, Enable::Undefined) || !service.declares_databases() {
                continue;
            }
            let path = format!("{}.{}", cx.settings.service_path.join("."), service.name);
            let d = self
                .diagnostic(
                    format!(
                        "Service '{}' declares databases but `{path}.enable` is never defined and has no default",
                        service.name
                    ),
                    service.span,
                    "declared here",
                )
                .with_service(&service.name)
                .with_field("enable")
                .with_help(format!(
                    "Enable or disable it in the settings file:\n\n  {path}.enable = true;\n\nor declare the option with a default:\n\n  options.{path}.enable = lib.mkEnableOption \"{}\";",
                    service.name
                ));
            out.push(d);
        }
    }
}
