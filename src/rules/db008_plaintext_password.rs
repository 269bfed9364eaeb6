use super::{about_decl, declarations, Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::literals::{is_hash, SecretKind};
use crate::model::{Entry, FieldValue};

/// DB008: a password written in Nix.
pub struct PlaintextPassword;

/// Whether a field holds a password in clear: its name contains `password` or
/// `passwd` (in any case) but does not name a file or path to one, and its
/// value is a non-empty string that is not a hash. DB006 leaves these fields
/// to this rule.
pub fn is_plaintext_password(key: &str, value: &FieldValue) -> bool {
    let lower = key.to_ascii_lowercase();
    if !(lower.contains("password") || lower.contains("passwd"))
        || lower.ends_with("file")
        || lower.ends_with("path")
    {
        return false;
    }
    matches!(value, FieldValue::Str(s) if !s.is_empty() && !is_hash(s))
}

impl Rule for PlaintextPassword {
    fn code(&self) -> &'static str {
        "DB008"
    }
    fn name(&self) -> &'static str {
        "plaintext-password"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "a password written in Nix (world-readable in the Nix store); points to the SOPS key"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        for (service, decl) in declarations(cx.model) {
            let Entry::Fields(fields) = &decl.entry else {
                continue;
            };
            for (key, field) in fields {
                if !is_plaintext_password(key, &field.value) {
                    continue;
                }
                let secret = cx.settings.password_secret(&service.name);
                let d = self
                    .diagnostic(
                        format!(
                            "Service '{}' declares a database password in clear in field '{key}'",
                            service.name
                        ),
                        field.value_span,
                        "a password in clear text",
                    )
                    .with_field(key)
                    .with_help(format!(
                        "Remove `{key}` and keep the password in SOPS, at `{secret}` in {}:\n\n{}\n\nThe password is already in the repository's history: change it too.",
                        cx.settings.secrets_file,
                        yaml_example(&secret),
                    ));
                out.push(about_decl(d, service, decl));
            }
        }
        // Ensure mode: anything written literally in a host's modules, once.
        let reported: Vec<crate::source::Span> = out
            .iter()
            .filter(|d| d.code == self.code())
            .map(|d| d.primary.span)
            .collect();
        for secret in &cx.model.literal_secrets {
            let s = secret.span;
            if reported
                .iter()
                .any(|r| r.file == s.file && r.start < s.end && s.start < r.end)
            {
                continue;
            }
            let (message, label, help) = match &secret.kind {
                SecretKind::PasswordAttribute { key } => (
                    format!("A password is written in clear in `{key}`"),
                    "a password in clear text",
                    "Anything in a Nix file ends up world-readable in the Nix store. Keep the password in a secret \
                     (sops-nix, agenix) and give the service the secret's path through its file option (often \
                     `passwordFile`, e.g. `passwordFile = config.sops.secrets.db_password.path;`). The password is \
                     already in the repository's history: change it too."
                        .to_string(),
                ),
                SecretKind::DsnWithCredentials { scheme, user } => (
                    format!("A {scheme}:// connection string carries the password of '{user}' in clear"),
                    "credentials in clear text",
                    "Anything in a Nix file ends up world-readable in the Nix store. Leave the password out of the URL \
                     and give it to the service from a secret file (sops-nix, agenix), or use a Unix socket with peer \
                     authentication. The password is already in the repository's history: change it too."
                        .to_string(),
                ),
            };
            let mut d = self.diagnostic(message, secret.span, label).with_help(help);
            if let Some(k) = secret.key_span {
                d = d.with_label(k, "this setting");
            }
            out.push(d);
        }
    }
}

/// The YAML a SOPS key stands for, with a placeholder value, e.g.
/// `server:\n    immich:\n      db_password: ...`, indented for a help text.
pub fn yaml_example(key: &str) -> String {
    let parts: Vec<&str> = key.split('/').collect();
    let mut out = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let indent = "  ".repeat(i + 1);
        if i + 1 == parts.len() {
            out.push(format!("{indent}{part}: <the password>"));
        } else {
            out.push(format!("{indent}{part}:"));
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> FieldValue {
        FieldValue::Str(v.to_string())
    }

    #[test]
    fn password_like_fields_with_literal_strings() {
        assert!(is_plaintext_password("password", &s("hunter2")));
        assert!(is_plaintext_password("dbPassword", &s("hunter2")));
        assert!(is_plaintext_password("PASSWD", &s("hunter2")));
        assert!(is_plaintext_password("db_passwd", &s("hunter2")));
    }

    #[test]
    fn files_hashes_and_non_strings_are_not_passwords() {
        assert!(!is_plaintext_password(
            "passwordFile",
            &s("/run/secrets/db")
        ));
        assert!(!is_plaintext_password(
            "password_path",
            &s("/run/secrets/db")
        ));
        assert!(!is_plaintext_password("password", &s("")));
        assert!(!is_plaintext_password(
            "password",
            &s("$2b$12$abcdefghijklmnopqrstuv")
        ));
        assert!(!is_plaintext_password(
            "password",
            &s("$argon2id$v=19$m=65536")
        ));
        assert!(!is_plaintext_password(
            "password",
            &s("SCRAM-SHA-256$4096:c2FsdA==$a2V5:c2VydmVy")
        ));
        assert!(!is_plaintext_password(
            "password",
            &s("md5d41d8cd98f00b204e9800998ecf8427e")
        ));
        assert!(!is_plaintext_password("password", &FieldValue::Int(1234)));
        assert!(!is_plaintext_password("pass", &s("hunter2")));
        assert!(!is_plaintext_password("user", &s("hunter2")));
    }

    #[test]
    fn yaml_example_nests_the_key() {
        assert_eq!(
            yaml_example("server/immich/db_password"),
            "  server:\n    immich:\n      db_password: <the password>"
        );
        assert_eq!(yaml_example("db"), "  db: <the password>");
    }
}
