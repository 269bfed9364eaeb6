use std::collections::BTreeMap;

use super::db009_reserved_name::is_reserved_role;
use super::{about_decl, declarations, identifier_problem, Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{DatabaseDecl, DeclStatus, Model, Service};
use crate::source::Span;

/// DB010: one PostgreSQL role used by several enabled services.
pub struct SharedUser;

/// A declaration whose role an earlier service already uses.
pub struct Shared<'a> {
    pub service: &'a Service,
    pub decl: &'a DatabaseDecl,
    pub role: &'a str,
    /// The `user` value of this declaration.
    pub span: Span,
    pub first_service: &'a str,
    /// The `user` value of the first declaration of the role.
    pub first_span: Span,
}

/// Every provisioned PostgreSQL declaration (enabled service, counted
/// definition) whose role a declaration of another service used first, in
/// model order. Roles that cannot be created (DB004, DB009) are left out.
pub fn shared(model: &Model) -> Vec<Shared<'_>> {
    let mut first: BTreeMap<&str, (&str, Span)> = BTreeMap::new();
    let mut out = Vec::new();
    for (service, decl) in declarations(model) {
        if !service.enable.is_enabled()
            || !matches!(decl.status, DeclStatus::Active)
            || decl.str_field("type") != Some("postgresql")
        {
            continue;
        }
        let Some(field) = decl.field("user") else {
            continue;
        };
        let Some(role) = field.value.as_str() else {
            continue;
        };
        if identifier_problem(role).is_some() || is_reserved_role(role) {
            continue;
        }
        let Some((first_service, first_span)) = first.get(role).copied() else {
            first.insert(role, (&service.name, field.value_span));
            continue;
        };
        if first_service != service.name {
            out.push(Shared {
                service,
                decl,
                role,
                span: field.value_span,
                first_service,
                first_span,
            });
        }
    }
    out
}

impl Rule for SharedUser {
    fn code(&self) -> &'static str {
        "DB010"
    }
    fn name(&self) -> &'static str {
        "shared-user"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "one PostgreSQL role used by several enabled services: each can read the other's data"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        for s in shared(cx.model) {
            let own = s
                .decl
                .str_field("name")
                .filter(|n| {
                    *n != s.role
                        && identifier_problem(n).is_none()
                        && !is_reserved_role(n)
                        && !n.bytes().any(|b| b.is_ascii_uppercase())
                })
                .map(str::to_string)
                .unwrap_or_else(|| s.service.name.replace('-', "_"));
            let d = self
                .diagnostic(
                    format!(
                        "PostgreSQL role \"{}\" is used by services '{}' and '{}'",
                        s.role, s.first_service, s.service.name
                    ),
                    s.span,
                    &format!("also used by service '{}'", s.first_service),
                )
                .with_field("user")
                .with_label(
                    s.first_span,
                    format!("used by service '{}'", s.first_service),
                )
                .with_help(format!(
                    "Give each service its own role, so that each can reach only its own database:\n\n  user = \"{own}\";"
                ));
            out.push(about_decl(d, s.service, s.decl));
        }
    }
}
