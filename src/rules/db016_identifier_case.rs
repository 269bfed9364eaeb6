use super::ensure::{host_databases, host_users};
use super::identifier::{is_plain_identifier, SCRIPT_BREAKING};
use super::{about_decl, corrected_identifier, declarations, identifier_problem, Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::Span;
use std::collections::BTreeMap;

/// DB016: upper-case letters in a PostgreSQL database or role name.
pub struct IdentifierCase;

impl Rule for IdentifierCase {
    fn code(&self) -> &'static str {
        "DB016"
    }
    fn name(&self) -> &'static str {
        "identifier-case"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "a PostgreSQL name that needs quoting: upper-case letters (ensure mode: anything outside a-z, 0-9, _); suggests a plain name"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        for (service, decl) in declarations(cx.model) {
            if decl.str_field("type") != Some("postgresql") {
                continue;
            }
            for (key, what) in [("name", "database"), ("user", "role")] {
                let Some(field) = decl.field(key) else {
                    continue;
                };
                let Some(v) = field.value.as_str() else {
                    continue;
                };
                if !v.bytes().any(|b| b.is_ascii_uppercase()) {
                    continue;
                }
                let lower = v.to_ascii_lowercase();
                // A name invalid for other reasons too (DB003, DB004) gets a
                // suggestion that fixes both.
                let (message, fixed) = if identifier_problem(v).is_none() {
                    (
                        format!(
                            "Service '{}' declares the {what} name \"{v}\" with upper-case letters; unquoted, PostgreSQL reads it as \"{lower}\"",
                            service.name
                        ),
                        lower,
                    )
                } else {
                    (
                        format!(
                            "Service '{}' declares the {what} name \"{v}\" with upper-case letters, which PostgreSQL folds to lower case unless the name is quoted",
                            service.name
                        ),
                        corrected_identifier(&lower),
                    )
                };
                let d = self
                    .diagnostic(message, field.value_span, &format!("try \"{fixed}\""))
                    .with_field(key)
                    .with_help(format!(
                        "PostgreSQL folds unquoted identifiers to lower case, so every SQL statement that names this {what} must quote it. Use the lower-case name:\n\n  {key} = \"{fixed}\";"
                    ));
                out.push(about_decl(d, service, decl));
            }
        }
        // Ensure mode: NixOS quotes every name it creates, so any name SQL
        // cannot write unquoted is legal, and needs quoting everywhere else.
        let names = host_databases(&cx.model.hosts)
            .filter_map(|(h, d)| {
                let n = d.name.as_str()?;
                Some((h, n, d.span, "database", "ensureDatabases"))
            })
            .chain(host_users(&cx.model.hosts).filter_map(|(h, u)| {
                let f = u.field("name")?;
                let n = f.value.as_str()?;
                Some((h, n, f.value_span, "role", "name"))
            }));
        // A module shared by several hosts: one diagnostic naming them all.
        let mut found: BTreeMap<(Span, &str), (&str, &str, Vec<&str>)> = BTreeMap::new();
        for (host, name, span, what, field) in names {
            if name.is_empty() || is_plain_identifier(name) {
                continue;
            }
            // What NixOS's script cannot take is DB003/DB004's.
            if name.chars().any(|c| SCRIPT_BREAKING.contains(&c)) {
                continue;
            }
            let hosts = &mut found
                .entry((span, what))
                .or_insert((name, field, Vec::new()))
                .2;
            if !hosts.contains(&host.name.as_str()) {
                hosts.push(&host.name);
            }
        }
        for ((span, what), (name, field, hosts)) in found {
            let ascii_bad = name.starts_with(|c: char| c.is_ascii_digit())
                || name
                    .chars()
                    .any(|c| c.is_ascii() && !(c.is_ascii_alphanumeric() || c == '_'));
            let lower = name.to_ascii_lowercase();
            let why = if ascii_bad {
                "needs quoting by every client: NixOS creates it quoted, but unquoted it is a syntax error in SQL".to_string()
            } else if lower != name {
                format!("needs quoting by every client: NixOS creates it quoted, but unquoted PostgreSQL folds it to \"{lower}\"")
            } else {
                "has characters outside a-z, 0-9 and '_': PostgreSQL takes non-ASCII letters unquoted, but clients in another encoding, and many tools, need it quoted".to_string()
            };
            let fixed = corrected_identifier(&lower);
            let example = if what == "database" {
                format!("services.postgresql.ensureDatabases = [ \"{fixed}\" ];")
            } else {
                format!("name = \"{fixed}\";")
            };
            let d = self
                .diagnostic(
                    format!(
                        "On host{} {}, the {what} name \"{name}\" {why}",
                        if hosts.len() == 1 { "" } else { "s" },
                        hosts
                            .iter()
                            .map(|h| format!("'{h}'"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    span,
                    &format!("try \"{fixed}\""),
                )
                .with_field(field)
                .with_help(format!(
                    "Every SQL statement, script and tool that names this {what} must write it in double quotes, \"{name}\". A name of lower-case letters, digits and '_' needs none:\n\n  {example}"
                ));
            out.push(d);
        }
    }
}
