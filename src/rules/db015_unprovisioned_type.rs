use std::collections::BTreeSet;

use super::{about_decl, declarations, Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::DeclStatus;

/// DB015: a database of a type PostgreSQL does not provision.
pub struct UnprovisionedType;

impl Rule for UnprovisionedType {
    fn code(&self) -> &'static str {
        "DB015"
    }
    fn name(&self) -> &'static str {
        "unprovisioned-type"
    }
    fn default_severity(&self) -> Severity {
        Severity::Info
    }
    fn summary(&self) -> &'static str {
        "a redis/mongodb database: listed in the report, not provisioned by PostgreSQL"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        // One note per database: a second declaration of it is DB005's.
        let mut seen: BTreeSet<(&str, &str)> = BTreeSet::new();
        for (service, decl) in declarations(cx.model) {
            if !service.enable.is_enabled() || !matches!(decl.status, DeclStatus::Active) {
                continue;
            }
            let Some(field) = decl.field("type") else {
                continue;
            };
            let Some(db_type) = field.value.as_str() else {
                continue;
            };
            // An unknown type is DB002's.
            if db_type == "postgresql" || !cx.settings.database_types.contains_key(db_type) {
                continue;
            }
            let Some(name) = decl.str_field("name") else {
                continue;
            };
            if !seen.insert((db_type, name)) {
                continue;
            }
            let what = format!("{db_type} database \"{name}\"");
            let help = match db_type {
                "redis" => format!(
                    "dbprov lists it in the report's `databases` and `connections`; something else must run it, e.g. NixOS's Redis module:\n\n  services.redis.servers.{} = {{\n    enable = true;\n    port = {};\n  }};\n\nA named Redis server listens on no TCP port unless `port` is set.",
                    nix_attr(name),
                    port(cx, db_type, decl)
                ),
                "mongodb" => "dbprov lists it in the report's `databases` and `connections`; something else must run it, e.g. NixOS's MongoDB module:\n\n  services.mongodb.enable = true;".to_string(),
                _ => "dbprov lists it in the report's `databases` and `connections`; something else must run it.".to_string(),
            };
            let d = self
                .diagnostic(
                    format!(
                        "Service '{}' declares {what}: it is listed in the report but not provisioned by PostgreSQL",
                        service.name
                    ),
                    field.value_span,
                    "not provisioned by the PostgreSQL plan",
                )
                .with_field("type")
                .with_help(help);
            out.push(about_decl(d, service, decl));
        }
    }
}

/// The declared port, or the type's default.
fn port(cx: &Context, db_type: &str, decl: &crate::model::DatabaseDecl) -> i64 {
    match decl.field("port").map(|f| &f.value) {
        Some(crate::model::FieldValue::Int(p)) => *p,
        _ => cx
            .settings
            .database_types
            .get(db_type)
            .map(|t| t.port)
            .unwrap_or(6379),
    }
}

/// `name` as a Nix attribute name: bare when it can be, quoted otherwise.
fn nix_attr(name: &str) -> String {
    let bare = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '\''))
        && !matches!(
            name,
            "if" | "then" | "else" | "assert" | "with" | "let" | "in" | "rec" | "inherit"
        );
    if bare {
        name.to_string()
    } else {
        let mut out = String::from("\"");
        let mut chars = name.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::nix_attr;

    #[test]
    fn attribute_names_are_quoted_when_needed() {
        assert_eq!(nix_attr("immich_cache"), "immich_cache");
        assert_eq!(nix_attr("paperless-ngx"), "paperless-ngx");
        assert_eq!(nix_attr("cache.main"), "\"cache.main\"");
        assert_eq!(nix_attr("1st"), "\"1st\"");
        assert_eq!(nix_attr("let"), "\"let\"");
        assert_eq!(nix_attr("a\"${b}"), "\"a\\\"\\${b}\"");
    }
}
