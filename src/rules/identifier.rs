//! PostgreSQL identifier rules for database and role names.

use super::{about_decl, declarations, Context, Rule};
use crate::diagnostic::Diagnostic;

/// PostgreSQL truncates identifiers longer than this many bytes (NAMEDATALEN - 1).
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// What is wrong with an identifier, if anything: it must start with a letter or
/// `_`, continue with letters, digits or `_`, and fit in 63 bytes.
pub fn identifier_problem(name: &str) -> Option<String> {
    let Some(first) = name.chars().next() else {
        return Some("it is empty".to_string());
    };
    if !(first.is_ascii_alphabetic() || first == '_') {
        return Some(format!("it starts with '{first}', not a letter or '_'"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Some(format!(
            "it contains '{bad}'; only letters, digits and '_' are allowed"
        ));
    }
    if name.len() > MAX_IDENTIFIER_BYTES {
        return Some(format!(
            "it is {} bytes long; PostgreSQL allows at most {MAX_IDENTIFIER_BYTES}",
            name.len()
        ));
    }
    None
}

/// Characters NixOS's postgresql setup script writes into shell and SQL
/// quotes without escaping (`psql -tAc "SELECT 1 FROM pg_database WHERE datname
/// = '${database}'" … || psql -tAc 'CREATE DATABASE "${database}"'`): a name
/// holding one breaks the script, or is looked up under another name.
pub const SCRIPT_BREAKING: &[char] = &['\'', '"', '$', '`', '\\'];

/// What makes an `ensureDatabases`/`ensureUsers` name unusable although NixOS
/// quotes it (ensure mode): empty, a character the setup script does not
/// escape, or longer than 63 bytes.
pub fn ensure_identifier_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".to_string());
    }
    if let Some(bad) = name.chars().find(|c| SCRIPT_BREAKING.contains(c)) {
        return Some(format!(
            "it contains `{bad}`, which NixOS's setup script does not escape"
        ));
    }
    if name.len() > MAX_IDENTIFIER_BYTES {
        return Some(format!(
            "it is {} bytes long; PostgreSQL truncates identifiers to {MAX_IDENTIFIER_BYTES}",
            name.len()
        ));
    }
    None
}

/// Whether SQL can name it without quotes and mean the same name:
/// `[a-z_][a-z0-9_]*`.
pub fn is_plain_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A valid identifier close to `name`: invalid characters become `_`, a leading
/// digit gets a `_` prefix, and the result is cut to 63 bytes on a character
/// boundary.
pub fn corrected_identifier(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    let mut end = out.len().min(MAX_IDENTIFIER_BYTES);
    while !out.is_char_boundary(end) {
        end -= 1;
    }
    out.truncate(end);
    out
}

/// The contract half of DB003 and DB004: the `field` (`name` or `user`) of
/// each postgresql entry must be a plain PostgreSQL identifier. `noun` is how
/// the message calls it ("database name", "role"), `help_noun` how the help
/// does ("database name", "role name").
pub fn check_declared(
    rule: &dyn Rule,
    cx: &Context,
    field: &'static str,
    (noun, help_noun): (&str, &str),
    out: &mut Vec<Diagnostic>,
) {
    for (service, decl) in declarations(cx.model) {
        if decl.str_field("type") != Some("postgresql") {
            continue;
        }
        let Some(value) = decl.field(field) else {
            continue;
        };
        let Some(name) = value.value.as_str() else {
            continue;
        };
        let Some(problem) = identifier_problem(name) else {
            continue;
        };
        let fixed = corrected_identifier(name);
        let d = rule
            .diagnostic(
                format!(
                    "Service '{}' declares {noun} \"{name}\" that is not a valid PostgreSQL identifier: {problem}",
                    service.name
                ),
                value.value_span,
                &format!("try \"{fixed}\""),
            )
            .with_field(field)
            .with_help(format!(
                "A {help_noun} starts with a letter or '_', continues with letters, digits or '_', and has at most 63 bytes:\n\n  {field} = \"{fixed}\";"
            ));
        out.push(about_decl(d, service, decl));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_identifiers_pass() {
        assert_eq!(identifier_problem("immich"), None);
        assert_eq!(identifier_problem("_x1"), None);
        assert_eq!(identifier_problem(&"a".repeat(63)), None);
    }

    #[test]
    fn invalid_identifiers_are_explained() {
        assert!(identifier_problem("my-db").unwrap().contains("'-'"));
        assert!(identifier_problem("1db")
            .unwrap()
            .contains("starts with '1'"));
        assert!(identifier_problem(&"a".repeat(64))
            .unwrap()
            .contains("64 bytes"));
        assert!(identifier_problem("").is_some());
    }

    #[test]
    fn ensure_names_are_checked_for_what_nixos_cannot_quote() {
        assert_eq!(ensure_identifier_problem("My-Wiki"), None);
        assert_eq!(ensure_identifier_problem("1db"), None);
        assert!(ensure_identifier_problem("").is_some());
        assert!(ensure_identifier_problem("it's").unwrap().contains("`'`"));
        assert!(ensure_identifier_problem("a$b").is_some());
        assert!(ensure_identifier_problem(&"a".repeat(64))
            .unwrap()
            .contains("64 bytes"));
        assert!(is_plain_identifier("gitea_2"));
        assert!(is_plain_identifier("_x"));
        for n in ["Gitea", "my-db", "1db", "", "é"] {
            assert!(!is_plain_identifier(n), "{n}");
        }
    }

    #[test]
    fn corrections_are_valid() {
        assert_eq!(corrected_identifier("my-db"), "my_db");
        assert_eq!(corrected_identifier("1db"), "_1db");
        assert_eq!(corrected_identifier(&"a".repeat(70)).len(), 63);
        for n in ["my-db", "1db", "é", "", "a b.c"] {
            assert_eq!(identifier_problem(&corrected_identifier(n)), None, "{n}");
        }
    }
}
