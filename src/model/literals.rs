//! Literal secrets written in a Nix file, found syntactically (no evaluation):
//! string literals bound to password-like attributes, and URIs that carry
//! credentials (`postgresql://user:secret@host/db`) in any string literal.
//!
//! Option declarations (the arguments of `mkOption` and friends, and anything
//! under an attribute named `options`) are skipped: their `example`,
//! `default` and `description` texts document values, they do not configure
//! them. Comments are never looked at.

use std::collections::HashSet;

use rnix::ast::{self, AstToken};
use rnix::{SyntaxKind, SyntaxNode, WalkEvent};
use rowan::ast::AstNode;

use crate::source::{FileId, Span};

/// What makes a string literal a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretKind {
    /// `…password… = "literal";` — `key` is the binding's last attribute name.
    PasswordAttribute { key: String },
    /// A URI with a literal password: `scheme://user:secret@host`. `scheme` is
    /// as written (`postgresql`, `postgresql+psycopg2`, `redis`…); `user` may be
    /// empty (`redis://:secret@host`) and shows an interpolated user as written
    /// (`${cfg.user}`).
    DsnWithCredentials { scheme: String, user: String },
}

/// One literal secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiteralSecret {
    /// For a password attribute, the whole string literal (quotes included);
    /// for a URI, the `user:secret` part inside the literal.
    pub span: Span,
    /// The binding's last attribute name, when the literal is the value of a
    /// binding (always for a password attribute).
    pub key_span: Option<Span>,
    pub kind: SecretKind,
}

/// Prefixes of password hashes, which are not the password itself: crypt(3)
/// schemes and PostgreSQL's own stored formats.
const HASH_PREFIXES: &[&str] = &[
    "$2a$",
    "$2b$",
    "$2y$",
    "$argon2",
    "$pbkdf2",
    "$scrypt$",
    "$1$",
    "$5$",
    "$6$",
    "$7$",
    "$y$",
    "$gy$",
    "SCRAM-SHA-256$",
];

/// Whether `value` is a password hash rather than a password: a crypt(3)
/// string (`$1$`, `$5$`, `$6$`, `$y$`, `$2b$`…, `$argon2…`, `$pbkdf2…`,
/// `$scrypt$`), PostgreSQL's `SCRAM-SHA-256$…`, or `md5` and 32 hex digits.
pub fn is_hash(value: &str) -> bool {
    HASH_PREFIXES.iter().any(|p| value.starts_with(p))
        || (value.len() == 35
            && value.starts_with("md5")
            && value[3..].bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Endings of password-like names that point to the secret (a file, a
/// command, a directory) or configure password handling rather than hold one.
const REFERENCE_SUFFIXES: &[&str] = &[
    "file",
    "path",
    "dir",
    "command",
    "cmd",
    "eval",
    "authentication",
];

/// Whether an attribute named `key` holds a password: the name contains
/// `password` or `passwd` (any case), does not end in `File`, `Path`, `Dir`,
/// `Command`, `Cmd`, `Eval` or `Authentication` (any case, `_FILE` too), and
/// does not name a hash (`hashedPassword`, `initialHashedPassword`,
/// `passwordHash`).
pub fn is_password_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    (lower.contains("password") || lower.contains("passwd"))
        && !lower.contains("hash")
        && !REFERENCE_SUFFIXES.iter().any(|s| lower.ends_with(s))
}

/// Whether `s` stands for a secret supplied elsewhere rather than being one:
/// `$NAME`, `${NAME}`, `$(cmd)`, `$__file{…}` (Grafana), `%NAME%`, `@NAME@`
/// (`replaceVars`), `<password>`, `{password}`, `{{ .Password }}`, or only
/// `*`/`.`/`…` characters.
pub fn is_placeholder(s: &str) -> bool {
    let s = s.trim();
    if s.is_empty() {
        return false;
    }
    if s.chars().all(|c| c == '*') || s.chars().all(|c| c == '.' || c == '…') {
        return true;
    }
    let enclosed =
        |open: char, close: char| s.len() > 2 && s.starts_with(open) && s.ends_with(close);
    let is_word = |w: &str| {
        !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
    };
    if enclosed('<', '>') || enclosed('{', '}') {
        return true;
    }
    for delim in ['%', '@'] {
        if enclosed(delim, delim) && is_word(&s[1..s.len() - 1]) {
            return true;
        }
    }
    if let Some(rest) = s.strip_prefix('$') {
        // `$$` is how Nix strings write a literal `${`.
        let rest = rest.strip_prefix('$').unwrap_or(rest);
        let ident_len = rest
            .char_indices()
            .take_while(|&(i, c)| {
                c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
            })
            .count();
        let (ident, tail) = rest.split_at(ident_len);
        let group = (tail.starts_with('{') && tail.ends_with('}'))
            || (tail.starts_with('(') && tail.ends_with(')'));
        return (tail.is_empty() && !ident.is_empty()) || (group && tail.len() >= 2);
    }
    false
}

/// URI schemes whose credentials are reported. A scheme with a driver suffix
/// (`postgresql+psycopg2`, `mysql+pymysql`) counts by the part before `+`.
const DSN_SCHEMES: &[&str] = &[
    "postgresql",
    "postgres",
    "mysql",
    "mariadb",
    "mongodb",
    "mongodb+srv",
    "redis",
    "rediss",
    "amqp",
    "amqps",
    "http",
    "https",
    "ftp",
    "smtp",
    "smtps",
    "ldap",
    "ldaps",
];

fn is_dsn_scheme(scheme: &str) -> bool {
    let lower = scheme.to_ascii_lowercase();
    DSN_SCHEMES.contains(&lower.as_str())
        || lower
            .split_once('+')
            .is_some_and(|(base, _)| DSN_SCHEMES.contains(&base))
}

/// Functions whose arguments declare or document options.
const OPTION_FUNCTIONS: &[&str] = &[
    "mkOption",
    "mkEnableOption",
    "mkPackageOption",
    "literalExpression",
    "literalExample",
    "literalMD",
    "mdDoc",
];

/// The literal secrets in one parsed file, in source order.
pub fn scan(file: FileId, root: &SyntaxNode) -> Vec<LiteralSecret> {
    let mut out = Vec::new();
    // String literals already reported as a password attribute's value.
    let mut reported: HashSet<rnix::TextRange> = HashSet::new();
    let mut walk = root.preorder();
    while let Some(event) = walk.next() {
        let WalkEvent::Enter(node) = event else {
            continue;
        };
        match node.kind() {
            SyntaxKind::NODE_APPLY
                if ast::Apply::cast(node.clone()).is_some_and(|a| calls_option_function(&a)) =>
            {
                walk.skip_subtree();
            }
            SyntaxKind::NODE_ATTRPATH_VALUE => {
                let Some(binding) = ast::AttrpathValue::cast(node) else {
                    continue;
                };
                let attrs: Vec<ast::Attr> = binding
                    .attrpath()
                    .map(|p| p.attrs().collect())
                    .unwrap_or_default();
                if attrs
                    .iter()
                    .any(|a| static_name(a).as_deref() == Some("options"))
                {
                    walk.skip_subtree();
                    continue;
                }
                let (Some(last), Some(value)) = (attrs.last(), binding.value()) else {
                    continue;
                };
                if let Some(found) = password_value(file, last, &value) {
                    reported.insert(found.1);
                    out.push(found.0);
                }
            }
            SyntaxKind::NODE_PAT_ENTRY => {
                let Some(entry) = ast::PatEntry::cast(node) else {
                    continue;
                };
                let (Some(ident), Some(value)) = (entry.ident(), entry.default()) else {
                    continue;
                };
                let Some(name) = ident.ident_token().map(|t| t.text().to_string()) else {
                    continue;
                };
                if let Some(found) =
                    password_literal(file, name, Span::of(file, ident.syntax()), &value)
                {
                    reported.insert(found.1);
                    out.push(found.0);
                }
            }
            SyntaxKind::NODE_STRING => {
                let in_attrpath = node
                    .parent()
                    .is_some_and(|p| p.kind() == SyntaxKind::NODE_ATTRPATH);
                if in_attrpath || reported.contains(&node.text_range()) {
                    continue;
                }
                let key_span = node
                    .parent()
                    .and_then(ast::AttrpathValue::cast)
                    .and_then(|b| b.attrpath())
                    .and_then(|p| p.attrs().last())
                    .map(|a| Span::of(file, a.syntax()));
                if let Some(s) = ast::Str::cast(node) {
                    dsn_credentials(file, &s, key_span, &mut out);
                }
            }
            _ => {}
        }
    }
    out
}

/// Whether the innermost function of `apply` (`f` in `f a b`) is one of
/// [`OPTION_FUNCTIONS`], called by name or as `lib.…`.
fn calls_option_function(apply: &ast::Apply) -> bool {
    let mut head = apply.lambda();
    while let Some(e) = head {
        head = match e {
            ast::Expr::Apply(a) => a.lambda(),
            ast::Expr::Paren(p) => p.expr(),
            ast::Expr::Ident(i) => {
                return i
                    .ident_token()
                    .is_some_and(|t| OPTION_FUNCTIONS.contains(&t.text()));
            }
            ast::Expr::Select(s) => {
                return s
                    .attrpath()
                    .and_then(|p| p.attrs().last())
                    .and_then(|a| static_name(&a))
                    .is_some_and(|n| OPTION_FUNCTIONS.contains(&n.as_str()));
            }
            _ => return false,
        };
    }
    false
}

/// A static attribute name (`a`, `"a"`); `None` for `${…}` and interpolated strings.
fn static_name(a: &ast::Attr) -> Option<String> {
    match a {
        ast::Attr::Ident(i) => i.ident_token().map(|t| t.text().to_string()),
        ast::Attr::Str(s) => match s.normalized_parts().as_slice() {
            [] => Some(String::new()),
            [ast::InterpolPart::Literal(l)] => Some(l.clone()),
            _ => None,
        },
        ast::Attr::Dynamic(_) => None,
    }
}

/// A password attribute: `attr` names a password and `value` is a literal.
fn password_value(
    file: FileId,
    attr: &ast::Attr,
    value: &ast::Expr,
) -> Option<(LiteralSecret, rnix::TextRange)> {
    let key = static_name(attr)?;
    password_literal(file, key, Span::of(file, attr.syntax()), value)
}

/// The secret when `key` names a password and `value` (through parentheses)
/// is a non-empty, interpolation-free string that is neither a hash nor a
/// placeholder; with the string's range.
fn password_literal(
    file: FileId,
    key: String,
    key_span: Span,
    value: &ast::Expr,
) -> Option<(LiteralSecret, rnix::TextRange)> {
    if !is_password_key(&key) {
        return None;
    }
    let mut value = value.clone();
    while let ast::Expr::Paren(p) = &value {
        value = p.expr()?;
    }
    let ast::Expr::Str(s) = value else {
        return None;
    };
    let text = match s.normalized_parts().as_slice() {
        [ast::InterpolPart::Literal(l)] => l.clone(),
        _ => return None,
    };
    let trimmed = text.trim();
    if trimmed.is_empty() || is_hash(trimmed) || is_placeholder(trimmed) {
        return None;
    }
    let range = s.syntax().text_range();
    Some((
        LiteralSecret {
            span: Span::new(file, range),
            key_span: Some(key_span),
            kind: SecretKind::PasswordAttribute { key },
        },
        range,
    ))
}

/// One character of a string's value with the source bytes it comes from
/// (an escape spans several), or a whole interpolation.
enum Piece {
    Char { c: char, start: u32, end: u32 },
    Interpolation { text: String, start: u32, end: u32 },
}

impl Piece {
    fn char(&self) -> Option<char> {
        match self {
            Piece::Char { c, .. } => Some(*c),
            Piece::Interpolation { .. } => None,
        }
    }
    fn start(&self) -> u32 {
        match self {
            Piece::Char { start, .. } | Piece::Interpolation { start, .. } => *start,
        }
    }
    fn end(&self) -> u32 {
        match self {
            Piece::Char { end, .. } | Piece::Interpolation { end, .. } => *end,
        }
    }
}

/// The value of a string literal as [`Piece`]s. Escapes are decoded as Nix
/// does; the indentation of `''` strings is kept (it cannot be part of a URI).
fn pieces(s: &ast::Str) -> Vec<Piece> {
    let multiline = s
        .syntax()
        .first_token()
        .is_some_and(|t| t.kind() == SyntaxKind::TOKEN_STRING_START && t.text() == "''");
    let mut out = Vec::new();
    for part in s.parts() {
        match part {
            ast::InterpolPart::Literal(content) => {
                let token = content.syntax();
                let base: u32 = token.text_range().start().into();
                decode(token.text(), base, multiline, &mut out);
            }
            ast::InterpolPart::Interpolation(i) => {
                let range = i.syntax().text_range();
                out.push(Piece::Interpolation {
                    text: i.syntax().text().to_string(),
                    start: range.start().into(),
                    end: range.end().into(),
                });
            }
        }
    }
    out
}

/// Decodes one string-content token (as rnix's `unescape` does), keeping
/// every character's source range.
fn decode(raw: &str, base: u32, multiline: bool, out: &mut Vec<Piece>) {
    let chars: Vec<(usize, char)> = raw.char_indices().collect();
    let at = |k: usize| chars.get(k).map(|&(_, c)| c);
    let offset = |k: usize| base + chars.get(k).map_or(raw.len(), |&(i, _)| i) as u32;
    let escaped = |c: char| match c {
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        c => c,
    };
    let mut k = 0;
    while k < chars.len() {
        let c = chars[k].1;
        let (value, len) = if !multiline && c == '\\' && at(k + 1).is_some() {
            (vec![escaped(at(k + 1).unwrap_or_default())], 2)
        } else if multiline && c == '\'' && at(k + 1) == Some('\'') {
            match at(k + 2) {
                Some('\'') => (vec!['\'', '\''], 3),
                Some('$') => (vec!['$'], 3),
                Some('\\') if at(k + 3).is_some() => {
                    (vec![escaped(at(k + 3).unwrap_or_default())], 4)
                }
                _ => (vec!['\'', '\''], 2),
            }
        } else {
            (vec![c], 1)
        };
        let (start, end) = (offset(k), offset(k + len));
        for c in value {
            out.push(Piece::Char { c, start, end });
        }
        k += len;
    }
}

/// Characters that end a URI's authority (`user:secret@host:port`): those
/// that end it in RFC 3986, and the quotes that cannot appear in it (`'` can).
fn ends_authority(c: char) -> bool {
    c.is_whitespace() || matches!(c, '/' | '?' | '#' | '"' | '`')
}

/// Reports every `scheme://user:secret@…` in `s` whose secret is literal.
fn dsn_credentials(
    file: FileId,
    s: &ast::Str,
    key_span: Option<Span>,
    out: &mut Vec<LiteralSecret>,
) {
    let p = pieces(s);
    let is = |k: usize, c: char| p.get(k).and_then(Piece::char) == Some(c);
    let mut i = 0;
    while i + 3 <= p.len() {
        if !(is(i, ':') && is(i + 1, '/') && is(i + 2, '/')) {
            i += 1;
            continue;
        }
        // The scheme: the run of scheme characters before `://`, from its
        // first letter.
        let mut j = i;
        while j > 0
            && p[j - 1]
                .char()
                .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
        {
            j -= 1;
        }
        while j < i && !p[j].char().is_some_and(|c| c.is_ascii_alphabetic()) {
            j += 1;
        }
        let scheme: String = p[j..i].iter().filter_map(Piece::char).collect();
        let auth_start = i + 3;
        let auth_end = (auth_start..p.len())
            .find(|&k| p[k].char().is_some_and(ends_authority))
            .unwrap_or(p.len());
        let at = (auth_start..auth_end).rev().find(|&k| is(k, '@'));
        let colon = at.and_then(|at| (auth_start..at).find(|&k| is(k, ':')));
        let (Some(at), Some(colon)) = (at, colon) else {
            i = auth_start;
            continue;
        };
        let secret_pieces = &p[colon + 1..at];
        let secret: Option<String> = secret_pieces.iter().map(Piece::char).collect();
        let literal_secret = secret.is_some_and(|s| !s.is_empty() && !is_placeholder(&s));
        if is_dsn_scheme(&scheme) && literal_secret {
            let user: String = p[auth_start..colon]
                .iter()
                .map(|piece| match piece {
                    Piece::Char { c, .. } => c.to_string(),
                    Piece::Interpolation { text, .. } => text.clone(),
                })
                .collect();
            let start = p[auth_start].start();
            let end = p[at - 1].end();
            out.push(LiteralSecret {
                span: Span { file, start, end },
                key_span,
                kind: SecretKind::DsnWithCredentials { scheme, user },
            });
        }
        i = at + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_src(src: &str) -> Vec<LiteralSecret> {
        let parse = rnix::Root::parse(src);
        assert!(parse.errors().is_empty(), "{:?}", parse.errors());
        scan(7, &parse.syntax())
    }

    fn text(src: &str, span: Span) -> &str {
        &src[span.start as usize..span.end as usize]
    }

    /// `(key, literal text)` of every password attribute found.
    fn passwords(src: &str) -> Vec<(String, String)> {
        scan_src(src)
            .into_iter()
            .filter_map(|s| match s.kind {
                SecretKind::PasswordAttribute { key } => Some((key, text(src, s.span).to_string())),
                _ => None,
            })
            .collect()
    }

    /// `(scheme, user, credentials text)` of every URI found.
    fn dsns(src: &str) -> Vec<(String, String, String)> {
        scan_src(src)
            .into_iter()
            .filter_map(|s| match s.kind {
                SecretKind::DsnWithCredentials { scheme, user } => {
                    Some((scheme, user, text(src, s.span).to_string()))
                }
                _ => None,
            })
            .collect()
    }

    fn pw(key: &str, lit: &str) -> (String, String) {
        (key.to_string(), lit.to_string())
    }

    fn dsn(scheme: &str, user: &str, cred: &str) -> (String, String, String) {
        (scheme.to_string(), user.to_string(), cred.to_string())
    }

    // ---- hashes and names ----

    #[test]
    fn hashes_are_recognised() {
        for h in [
            "$1$salt$hash",
            "$5$rounds=5000$salt$hash",
            "$6$salt$hash",
            "$y$j9T$salt$hash",
            "$2a$12$abcdefghijklmnopqrstuv",
            "$2b$12$abcdefghijklmnopqrstuv",
            "$2y$12$abcdefghijklmnopqrstuv",
            "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
            "$pbkdf2-sha256$29000$salt$hash",
            "$scrypt$ln=16,r=8,p=1$salt$hash",
            "SCRAM-SHA-256$4096:c2FsdA==$a2V5:c2VydmVy",
            "md5d41d8cd98f00b204e9800998ecf8427e",
        ] {
            assert!(is_hash(h), "{h}");
        }
        for p in [
            "hunter2",
            "md5",
            "md5d41d8cd98f00b204e9800998ecf8427",
            "md5d41d8cd98f00b204e9800998ecf842zz",
            "$PASSWORD",
            "6$salt$hash",
            "",
        ] {
            assert!(!is_hash(p), "{p}");
        }
    }

    #[test]
    fn password_keys() {
        for k in [
            "password",
            "adminPassword",
            "DB_PASSWORD",
            "initialRootPassword",
            "initialPassword",
            "passwd",
            "db_passwd",
            "PASSWORD",
        ] {
            assert!(is_password_key(k), "{k}");
        }
        for k in [
            "passwordFile",
            "hashedPasswordFile",
            "DB_PASSWORD_FILE",
            "password_file",
            "passwordPath",
            "passwordCommand",
            "password_command",
            "passwordeval",
            "PASSWORD_STORE_DIR",
            "PasswordAuthentication",
            "hashedPassword",
            "initialHashedPassword",
            "passwordHash",
            "pass",
            "user",
            "secret",
        ] {
            assert!(!is_password_key(k), "{k}");
        }
    }

    #[test]
    fn placeholders() {
        for p in [
            "$PASSWORD",
            "$DB_PASS",
            "${PASSWORD}",
            "$${PASSWORD}",
            "$(cat /run/secrets/db)",
            "$__file{/run/secrets/grafana}",
            "%PASSWORD%",
            "@dbPassword@",
            "<password>",
            "{password}",
            "{{ .Password }}",
            "*****",
            "...",
            "…",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for p in [
            "hunter2", "pa$$word", "$ecret!", "%", "%%", "@", "<>", "p%40ss", "*a*", "x",
        ] {
            assert!(!is_placeholder(p), "{p}");
        }
    }

    // ---- password attributes ----

    #[test]
    fn password_attributes_with_literal_values() {
        let src = r#"{
  services.foo.password = "hunter2";
  adminPassword = "s3cret";
  environment.DB_PASSWORD = "dbpw";
  "initialRootPassword" = "root";
  users.users.alice.initialPassword = "changeme";
}"#;
        assert_eq!(
            passwords(src),
            vec![
                pw("password", "\"hunter2\""),
                pw("adminPassword", "\"s3cret\""),
                pw("DB_PASSWORD", "\"dbpw\""),
                pw("initialRootPassword", "\"root\""),
                pw("initialPassword", "\"changeme\""),
            ]
        );
    }

    #[test]
    fn password_attribute_spans_the_literal_and_the_key() {
        let src = r#"{ services.foo.adminPassword = "hunter2"; }"#;
        let found = scan_src(src);
        assert_eq!(found.len(), 1);
        let s = &found[0];
        assert_eq!(s.span.file, 7);
        assert_eq!(text(src, s.span), "\"hunter2\"");
        assert_eq!(text(src, s.key_span.unwrap()), "adminPassword");
        assert_eq!(
            s.kind,
            SecretKind::PasswordAttribute {
                key: "adminPassword".into()
            }
        );
    }

    #[test]
    fn password_attributes_in_lists_lets_and_nested_sets() {
        let src = r#"
let
  dbPassword = "fromlet";
in {
  accounts = [ { name = "a"; password = "inlist"; } { password = "second"; } ];
  nested = { deeper = { mysql_passwd = "n"; }; };
  quoted = { password = ''multi''; };
  paren = { password = ("inparen"); };
}"#;
        assert_eq!(
            passwords(src),
            vec![
                pw("dbPassword", "\"fromlet\""),
                pw("password", "\"inlist\""),
                pw("password", "\"second\""),
                pw("mysql_passwd", "\"n\""),
                pw("password", "''multi''"),
                pw("password", "\"inparen\""),
            ]
        );
    }

    #[test]
    fn password_default_arguments() {
        let src = r#"{ lib, password ? "dflt", passwordFile ? "/x", ... }: { }"#;
        assert_eq!(passwords(src), vec![pw("password", "\"dflt\"")]);
    }

    #[test]
    fn password_names_that_point_elsewhere_are_not_counted() {
        let src = r#"{
  passwordFile = "/run/secrets/db";
  hashedPasswordFile = "/run/secrets/h";
  DB_PASSWORD_FILE = "/run/secrets/db";
  passwordPath = "/run/secrets/db";
  passwordCommand = "pass show db";
  hashedPassword = "plainbutnamedhashed";
  initialHashedPassword = "";
  settings.PasswordAuthentication = "no";
  environment.PASSWORD_STORE_DIR = "/home/a/.password-store";
  user = "hunter2";
}"#;
        assert_eq!(passwords(src), vec![]);
    }

    #[test]
    fn password_values_that_are_not_literals_are_not_counted() {
        let src = r#"{ config, lib, ... }: {
  a.password = ./secret.txt;
  b.password = /run/secrets/db;
  c.password = "${config.sops.secrets.db.path}";
  d.password = "pre-${toString 1}";
  e.password = null;
  f.password = true;
  g.password = builtins.readFile ./pw;
  h.password = lib.mkForce "forced";
  i.password = config.x.y;
  j.password = "";
  k.password = "   ";
  l.password = 1234;
  m.password = if true then "a" else "b";
}"#;
        assert_eq!(passwords(src), vec![]);
    }

    #[test]
    fn hashes_and_placeholders_are_not_plaintext() {
        let src = r#"{
  a.password = "$6$salt$abcdefgh";
  b.password = "$y$j9T$salt$hash";
  c.password = "$2b$12$abcdefghijklmnopqrstuv";
  d.password = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA";
  e.password = "$pbkdf2-sha256$29000$salt$hash";
  f.password = "$scrypt$ln=16,r=8,p=1$salt$hash";
  g.password = "SCRAM-SHA-256$4096:c2FsdA==$a2V5:c2VydmVy";
  h.password = "md5d41d8cd98f00b204e9800998ecf8427e";
  i.password = "$__file{/run/secrets/grafana}";
  j.password = "$DB_PASSWORD";
  k.password = "@password@";
}"#;
        assert_eq!(passwords(src), vec![]);
    }

    #[test]
    fn option_declarations_are_skipped() {
        let src = r#"{ lib, ... }: with lib; {
  options.services.foo = {
    password = mkOption { type = types.str; example = "hunter2"; };
    adminPassword = "directly-under-options";
  };
  options = { x.password = "underoptions"; };
  decl = mkOption { default = "hunter2"; example = "postgres://u:p@h/db"; };
  decl2 = lib.mkOption {
    type = lib.types.submodule { password = "insub"; };
    description = "e.g. postgresql://admin:hunter2@localhost/db";
  };
  decl3 = lib.mkEnableOption "postgres://u:p@h";
  decl4 = literalExpression ''{ password = "x"; }'';
  config.services.foo.password = "real";
}"#;
        assert_eq!(passwords(src), vec![pw("password", "\"real\"")]);
        assert_eq!(dsns(src), vec![]);
    }

    #[test]
    fn submodule_options_are_skipped_at_any_level() {
        let src = r#"{ lib, ... }: {
  config.x = lib.types.submodule {
    options.password = lib.mkOption { default = "hunter2"; };
    options = { adminPassword = "deep"; url = "mysql://u:p@h"; };
  };
}"#;
        assert_eq!(scan_src(src), vec![]);
    }

    #[test]
    fn comments_are_not_looked_at() {
        let src = r#"{
  # password = "hunter2";
  /* url = "postgres://admin:hunter2@db/x"; */
  a = 1; # postgres://admin:hunter2@db/x
}"#;
        assert_eq!(scan_src(src), vec![]);
    }

    #[test]
    fn dynamic_keys_are_not_password_keys() {
        let src = r#"{ k }: { ${k} = "v"; "${k}password" = "v"; }"#;
        assert_eq!(passwords(src), vec![]);
    }

    // ---- URIs with credentials ----

    #[test]
    fn dsn_in_a_binding_reports_the_credentials() {
        let src = r#"{ DATABASE_URL = "postgresql://immich:hunter2@localhost:5432/immich"; }"#;
        let found = scan_src(src);
        assert_eq!(found.len(), 1);
        let s = &found[0];
        assert_eq!(text(src, s.span), "immich:hunter2");
        assert_eq!(text(src, s.key_span.unwrap()), "DATABASE_URL");
        assert_eq!(
            s.kind,
            SecretKind::DsnWithCredentials {
                scheme: "postgresql".into(),
                user: "immich".into()
            }
        );
    }

    #[test]
    fn every_listed_scheme_counts() {
        for scheme in DSN_SCHEMES {
            let src = format!(r#"{{ u = "{scheme}://usr:pw@host"; }}"#);
            assert_eq!(dsns(&src), vec![dsn(scheme, "usr", "usr:pw")], "{scheme}");
        }
    }

    #[test]
    fn scheme_case_and_driver_suffixes() {
        let src = r#"[
  "POSTGRES://a:b@h"
  "postgresql+psycopg2://a:b@h/db"
  "mysql+pymysql://a:b@h/db"
  "jdbc:postgresql://a:b@h/db"
  "sqlite://a:b@h"
  "s3://key:secret@bucket"
  "xhttp://a:b@h"
]"#;
        assert_eq!(
            dsns(src),
            vec![
                dsn("POSTGRES", "a", "a:b"),
                dsn("postgresql+psycopg2", "a", "a:b"),
                dsn("mysql+pymysql", "a", "a:b"),
                dsn("postgresql", "a", "a:b"),
            ]
        );
    }

    #[test]
    fn dsn_anywhere_in_values() {
        let src = r#"
let url = "redis://default:letmein@cache:6379/0";
in {
  list = [ "x" "amqp://guest:guest@rabbit/" ];
  cmd = "psql postgres://bob:pw@db/app -c 'select 1'";
  script = ''
    export A=1
    curl https://admin:adm1n@example.org/api
  '';
  f = builtins.toJSON { dsn = "mongodb+srv://m:pw@cluster0.example.net/?retryWrites=true"; };
}"#;
        assert_eq!(
            dsns(src),
            vec![
                dsn("redis", "default", "default:letmein"),
                dsn("amqp", "guest", "guest:guest"),
                dsn("postgres", "bob", "bob:pw"),
                dsn("https", "admin", "admin:adm1n"),
                dsn("mongodb+srv", "m", "m:pw"),
            ]
        );
    }

    #[test]
    fn dsn_span_is_exact_with_escapes_and_non_ascii() {
        let src = r#"{ a = "é ½ postgres://us\er:p\$w@h/x"; }"#;
        let found = scan_src(src);
        assert_eq!(found.len(), 1);
        assert_eq!(text(src, found[0].span), r"us\er:p\$w");
        assert_eq!(
            found[0].kind,
            SecretKind::DsnWithCredentials {
                scheme: "postgres".into(),
                user: "user".into()
            }
        );
        // An escaped newline or quote ends the authority.
        assert_eq!(
            dsns(r#"[ "postgres://us\ner:pw@h" "postgres://u\":pw@h" ]"#),
            vec![]
        );
    }

    #[test]
    fn dsn_span_in_indented_strings_with_escapes() {
        let src = "{ a = ''\n    url=mysql://root:''${x}y@h\n    u2=mysql://root:a'''b@h\n  ''; }";
        // `''${x}y` is the literal `${x}y`: not a placeholder as a whole.
        let found = dsns(src);
        assert_eq!(
            found,
            vec![
                dsn("mysql", "root", "root:''${x}y"),
                dsn("mysql", "root", "root:a'''b"),
            ]
        );
    }

    #[test]
    fn quoted_dsns_in_scripts() {
        let src =
            "{ a = ''\n  psql 'postgres://u:pw@h/db' -c \"x\" && curl \"http://a:b@h\"\n''; }";
        assert_eq!(
            dsns(src),
            vec![dsn("postgres", "u", "u:pw"), dsn("http", "a", "a:b")]
        );
    }

    #[test]
    fn several_dsns_in_one_string() {
        let src = r#"{ a = "postgres://a:1@h,redis://:2@r ldap://cn=admin:3@l"; }"#;
        assert_eq!(
            dsns(src),
            vec![
                dsn("postgres", "a", "a:1"),
                dsn("redis", "", ":2"),
                dsn("ldap", "cn=admin", "cn=admin:3"),
            ]
        );
    }

    #[test]
    fn interpolated_user_with_literal_secret_counts() {
        let src = r#"{ cfg }: { a = "postgresql://${cfg.user}:hunter2@${cfg.host}/db"; }"#;
        assert_eq!(
            dsns(src),
            vec![dsn("postgresql", "${cfg.user}", "${cfg.user}:hunter2")]
        );
    }

    #[test]
    fn dsns_without_a_literal_secret_are_not_counted() {
        let src = r#"{ cfg, pw }: [
  "postgresql://user:${pw}@host/db"
  "postgresql://user:pre${pw}@host/db"
  "postgresql://user:${pw}post@host/db"
  "postgresql://user@host/db"
  "postgresql://user:@host/db"
  "postgresql://host:5432/db"
  "postgresql:///db?host=/run/postgresql"
  "postgresql://user:$PASSWORD@host/db"
  "postgresql://user:\${PASSWORD}@host/db"
  ''postgresql://user:''${PASSWORD}@host/db''
  "postgresql://user:$${PASSWORD}@host/db"
  "postgresql://user:%PASSWORD%@host/db"
  "postgresql://user:<password>@host/db"
  "postgresql://user:*****@host/db"
  "postgresql://user:@dbpass@@host/db"
  "https://example.org/@user:x"
  "https://example.org/path?u=a:b@c"
  "mailto:user:pw@example.org"
  "postgresql://us er:pw@h"
]"#;
        assert_eq!(dsns(src), vec![]);
    }

    #[test]
    fn user_may_be_empty_and_secret_may_contain_at() {
        let src = r#"[ "redis://:s3cret@cache" "postgres://u:p@ss@h/db" ]"#;
        assert_eq!(
            dsns(src),
            vec![dsn("redis", "", ":s3cret"), dsn("postgres", "u", "u:p@ss")]
        );
    }

    #[test]
    fn password_attribute_with_a_dsn_value_is_reported_once() {
        let src = r#"{ dbPassword = "postgres://u:p@h"; url = "postgres://u:p@h"; }"#;
        let found = scan_src(src);
        assert_eq!(found.len(), 2);
        assert!(matches!(
            found[0].kind,
            SecretKind::PasswordAttribute { .. }
        ));
        assert!(matches!(
            found[1].kind,
            SecretKind::DsnWithCredentials { .. }
        ));
        assert_eq!(text(src, found[1].key_span.unwrap()), "url");
    }

    #[test]
    fn dsn_nested_in_an_interpolation_is_found_once() {
        let src = r#"{ a = "x${"postgres://u:p@h"}y"; }"#;
        let found = scan_src(src);
        assert_eq!(found.len(), 1);
        assert_eq!(text(src, found[0].span), "u:p");
        // Not the direct value of a binding.
        assert_eq!(found[0].key_span, None);
    }

    #[test]
    fn dsn_in_a_list_has_no_key() {
        let src = r#"{ urls = [ "ftp://a:b@h" ]; }"#;
        let found = scan_src(src);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].key_span, None);
    }

    #[test]
    fn attribute_names_are_not_values() {
        let src = r#"{ "postgres://u:p@h" = 1; x = y."ftp://a:b@h"; }"#;
        assert_eq!(dsns(src), vec![]);
    }

    #[test]
    fn results_are_in_source_order() {
        let src = r#"{ a = "smtp://m:1@h"; b.password = "x"; c = [ "ldaps://n:2@h" ]; }"#;
        let starts: Vec<u32> = scan_src(src).iter().map(|s| s.span.start).collect();
        let mut sorted = starts.clone();
        sorted.sort();
        assert_eq!(starts.len(), 3);
        assert_eq!(starts, sorted);
    }
}
