use super::{about_decl, declarations, Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};

/// Databases every PostgreSQL cluster has.
const RESERVED_DATABASES: &[&str] = &["postgres", "template0", "template1"];
/// Roles that exist, or are keywords, in every cluster.
const RESERVED_ROLES: &[&str] = &[
    "postgres",
    "public",
    "none",
    "current_user",
    "session_user",
    "current_role",
];

/// Whether PostgreSQL reserves this database name.
pub fn is_reserved_database(name: &str) -> bool {
    RESERVED_DATABASES.contains(&name)
}

/// Whether PostgreSQL reserves this role name.
pub fn is_reserved_role(name: &str) -> bool {
    RESERVED_ROLES.contains(&name) || name.starts_with("pg_")
}

/// DB009: a reserved database or role name.
pub struct ReservedName;

impl Rule for ReservedName {
    fn code(&self) -> &'static str {
        "DB009"
    }
    fn name(&self) -> &'static str {
        "reserved-name"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "a reserved database (postgres, template0/1) or role (postgres, public, pg_*, ...) name"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        for (service, decl) in declarations(cx.model) {
            if decl.str_field("type") != Some("postgresql") {
                continue;
            }
            let own = service.name.replace('-', "_");
            for (key, what) in [("name", "database"), ("user", "role")] {
                let Some(field) = decl.field(key) else {
                    continue;
                };
                let Some(v) = field.value.as_str() else {
                    continue;
                };
                let reserved = if key == "name" {
                    is_reserved_database(v)
                } else {
                    is_reserved_role(v)
                };
                if !reserved {
                    continue;
                }
                let d = self
                    .diagnostic(
                        format!("Service '{}' uses the reserved {what} name \"{v}\"", service.name),
                        field.value_span,
                        "reserved by PostgreSQL",
                    )
                    .with_field(key)
                    .with_help(format!(
                        "PostgreSQL creates or reserves \"{v}\" itself; give the service its own {what}:\n\n  {key} = \"{own}\";"
                    ));
                out.push(about_decl(d, service, decl));
            }
        }
    }
}
