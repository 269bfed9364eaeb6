//! PostgreSQL identifier rules for database and role names.

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
    fn corrections_are_valid() {
        assert_eq!(corrected_identifier("my-db"), "my_db");
        assert_eq!(corrected_identifier("1db"), "_1db");
        assert_eq!(corrected_identifier(&"a".repeat(70)).len(), 63);
        for n in ["my-db", "1db", "é", "", "a b.c"] {
            assert_eq!(identifier_problem(&corrected_identifier(n)), None, "{n}");
        }
    }
}
