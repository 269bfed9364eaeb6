use std::collections::BTreeSet;

use super::db009_reserved_name::{is_reserved_database, is_reserved_role};
use super::db010_shared_user::shared;
use super::{about_decl, declarations, identifier_problem, Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::DeclStatus;
use crate::source::Span;

/// DB011: a PostgreSQL database whose role has another name.
pub struct OwnerMismatch;

impl Rule for OwnerMismatch {
    fn code(&self) -> &'static str {
        "DB011"
    }
    fn name(&self) -> &'static str {
        "owner-mismatch"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "`user` differs from `name`: NixOS's ensureDBOwnership cannot make the user owner"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        let shared: Vec<(&str, Span)> = shared(cx.model)
            .iter()
            .map(|s| (s.service.name.as_str(), s.decl.span))
            .collect();
        // Databases provisioned so far: a later declaration of one is DB005's,
        // whose fix (a database of its own) decides the owner.
        let mut provisioned: BTreeSet<&str> = BTreeSet::new();
        for (service, decl) in declarations(cx.model) {
            if decl.str_field("type") != Some("postgresql") {
                continue;
            }
            if service.enable.is_enabled() && matches!(decl.status, DeclStatus::Active) {
                if let Some(name) = decl.str_field("name") {
                    if !provisioned.insert(name) {
                        continue;
                    }
                }
            }
            let (Some(name), Some(user)) = (decl.str_field("name"), decl.field("user")) else {
                continue;
            };
            let Some(role) = user.value.as_str() else {
                continue;
            };
            if name == role {
                continue;
            }
            // A name or role that is an error already (DB003, DB004, DB009):
            // its fix decides the owner.
            let valid_db = identifier_problem(name).is_none() && !is_reserved_database(name);
            let valid_role = identifier_problem(role).is_none() && !is_reserved_role(role);
            if !valid_db || !valid_role {
                continue;
            }
            // Names that differ only in case are DB016's, a role another
            // service uses first is DB010's: fixing those fixes this.
            if name.eq_ignore_ascii_case(role)
                || shared.contains(&(service.name.as_str(), decl.span))
            {
                continue;
            }
            let fix = if is_reserved_role(name) {
                format!("name the database like its role:\n\n  name = \"{role}\";")
            } else {
                format!("name the role like the database:\n\n  user = \"{name}\";")
            };
            let d = self
                .diagnostic(
                    format!(
                        "Service '{}' declares PostgreSQL database \"{name}\" owned by role \"{role}\": NixOS's `ensureDBOwnership` cannot make a role the owner of a database with another name",
                        service.name
                    ),
                    user.value_span,
                    &format!("not \"{name}\""),
                )
                .with_field("user")
                .with_help(format!(
                    "The plan makes \"{role}\" the owner with `ALTER DATABASE \"{name}\" OWNER TO \"{role}\"` (\"ownership\": \"alter-owner\"). To let NixOS do it, {fix}"
                ));
            out.push(about_decl(d, service, decl));
        }
    }
}
