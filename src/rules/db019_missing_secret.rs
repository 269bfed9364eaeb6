use super::db008_plaintext_password::yaml_example;
use super::{about_decl, Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::DeclStatus;
use crate::secrets::Lookup;

/// DB019: the SOPS file lacks an enabled service's password key.
pub struct MissingSecret;

impl Rule for MissingSecret {
    fn code(&self) -> &'static str {
        "DB019"
    }
    fn name(&self) -> &'static str {
        "missing-secret"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "the SOPS file exists but lacks the service's password key"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        for service in &cx.model.services {
            if !service.enable.is_enabled() {
                continue;
            }
            // The first PostgreSQL database that will be provisioned needs the password.
            let Some(decl) = service.databases.iter().find(|d| {
                matches!(d.status, DeclStatus::Active) && d.str_field("type") == Some("postgresql")
            }) else {
                continue;
            };
            let key = cx.settings.password_secret(&service.name);
            let Some(Lookup::Missing { found }) = cx.secrets.lookup(&key) else {
                continue;
            };
            let file = &cx.secrets.file;
            let parts: Vec<&str> = key.split('/').collect();
            let detail = match found {
                0 => String::new(),
                n => format!(
                    " (`{}` is there, without `{}`)",
                    parts[..n].join("/"),
                    parts[n]
                ),
            };
            let d = self
                .diagnostic(
                    format!(
                        "Service '{}' has no database password in {file}: the key `{key}` is missing{detail}",
                        service.name
                    ),
                    decl.span,
                    &format!("needs the password at `{key}`"),
                )
                .with_help(format!(
                    "Add the password with `sops {file}`:\n\n{}",
                    yaml_example(&key)
                ));
            out.push(about_decl(d, service, decl));
        }
    }
}
