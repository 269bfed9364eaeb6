//! `dbprov.toml`: reads the configuration into [`Settings`] and the rule
//! selection. Every error carries the span of the offending TOML and, for an
//! unknown key or rule, the nearest valid one.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::diagnostic::Severity;
use crate::rules::{self, nearest};
use crate::settings::{DatabaseType, Settings};

/// A problem in the configuration file, with where it is.
#[derive(Debug)]
pub struct ConfigError {
    pub path: PathBuf,
    pub text: String,
    pub message: String,
    pub span: Option<Range<usize>>,
    pub help: Option<String>,
}

/// Rule selection from the configuration.
#[derive(Clone, Debug, Default)]
pub struct RuleConfig {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    /// Severity overrides by rule code.
    pub severity: BTreeMap<&'static str, Severity>,
}

#[derive(Clone, Debug, Default)]
pub struct Config {
    pub settings: Settings,
    pub rules: RuleConfig,
    /// The file it was read from, if any.
    pub path: Option<PathBuf>,
}

const TOP_KEYS: &[&str] = &[
    "include",
    "exclude",
    "entry",
    "service-path",
    "database-types",
    "defaults",
    "secrets",
    "rules",
    "hosts",
];
const HOST_KEYS: &[&str] = &["modules"];
const DEFAULT_KEYS: &[&str] = &["host", "port"];
const SECRETS_KEYS: &[&str] = &["file", "key"];
const RULES_KEYS: &[&str] = &["select", "ignore", "severity"];

struct Reader<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Reader<'_> {
    fn error(&self, message: String, span: Range<usize>, help: Option<String>) -> ConfigError {
        ConfigError {
            path: self.path.to_path_buf(),
            text: self.text.to_string(),
            message,
            span: Some(span),
            help,
        }
    }

    /// Rejects keys not in `allowed`, naming the nearest valid one.
    fn check_keys(
        &self,
        table: &DeTable,
        allowed: &[&str],
        section: &str,
    ) -> Result<(), ConfigError> {
        for (k, _) in table.iter() {
            let key: &str = k.get_ref();
            if !allowed.contains(&key) {
                let hint = nearest(key, allowed);
                let message = match hint {
                    Some(h) => format!("unknown key `{key}` in {section}; did you mean `{h}`?"),
                    None => format!("unknown key `{key}` in {section}"),
                };
                return Err(self.error(
                    message,
                    k.span(),
                    Some(format!("valid keys: {}", allowed.join(", "))),
                ));
            }
        }
        Ok(())
    }

    fn string(&self, v: &Spanned<DeValue>, what: &str) -> Result<String, ConfigError> {
        match v.get_ref() {
            DeValue::String(s) => Ok(s.to_string()),
            _ => Err(self.error(format!("`{what}` must be a string"), v.span(), None)),
        }
    }

    fn strings(
        &self,
        v: &Spanned<DeValue>,
        what: &str,
    ) -> Result<Vec<Spanned<String>>, ConfigError> {
        match v.get_ref() {
            DeValue::Array(items) => items
                .iter()
                .map(|i| self.string(i, what).map(|s| Spanned::new(i.span(), s)))
                .collect(),
            _ => Err(self.error(
                format!("`{what}` must be a list of strings"),
                v.span(),
                None,
            )),
        }
    }

    fn table<'t>(
        &self,
        v: &'t Spanned<DeValue<'t>>,
        what: &str,
    ) -> Result<&'t DeTable<'t>, ConfigError> {
        match v.get_ref() {
            DeValue::Table(t) => Ok(t),
            _ => Err(self.error(format!("`{what}` must be a table"), v.span(), None)),
        }
    }

    /// A rule code, code prefix or name; an unknown one is an error.
    fn rule_selector(&self, s: &Spanned<String>) -> Result<String, ConfigError> {
        if rules::matching(s.get_ref()).is_empty() {
            let candidates: Vec<&str> = rules::all()
                .iter()
                .flat_map(|r| [r.code(), r.name()])
                .collect();
            let hint = nearest(s.get_ref(), &candidates);
            return Err(self.error(
                format!(
                    "unknown rule `{}`{}",
                    s.get_ref(),
                    hint.map(|h| format!("; did you mean `{h}`?"))
                        .unwrap_or_default()
                ),
                s.span(),
                Some("`dbprov rules` lists every rule".to_string()),
            ));
        }
        Ok(s.get_ref().clone())
    }
}

/// Reads the configuration: `explicit` if given (it must exist), else
/// `dbprov.toml` at the root if it exists, else the defaults.
pub fn load(root: &Path, explicit: Option<&Path>) -> Result<Config, ConfigError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = root.join("dbprov.toml");
            if !p.exists() {
                return Ok(Config::default());
            }
            p
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
        path: path.clone(),
        text: String::new(),
        message: format!("cannot read {}: {e}", path.display()),
        span: None,
        help: None,
    })?;
    let mut config = parse(&path, &text)?;
    config.path = Some(path);
    Ok(config)
}

/// Parses the text of a configuration file.
pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let r = Reader { path, text };
    let doc = DeTable::parse(text).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        text: text.to_string(),
        message: format!("invalid TOML: {}", e.message()),
        span: e.span(),
        help: None,
    })?;
    let top = doc.get_ref();
    r.check_keys(top, TOP_KEYS, "dbprov.toml")?;
    let mut settings = Settings::default();
    let mut rules = RuleConfig::default();
    for (k, v) in top.iter() {
        match k.get_ref().as_ref() {
            "include" => {
                settings.include = r
                    .strings(v, "include")?
                    .into_iter()
                    .map(Spanned::into_inner)
                    .collect()
            }
            "exclude" => {
                settings.exclude = r
                    .strings(v, "exclude")?
                    .into_iter()
                    .map(Spanned::into_inner)
                    .collect()
            }
            "entry" => settings.entry = r.string(v, "entry")?,
            "service-path" => {
                let s = r.string(v, "service-path")?;
                let parts: Vec<String> = s.split('.').map(str::to_string).collect();
                if parts.iter().any(|p| p.is_empty()) {
                    return Err(r.error(
                        format!("`service-path` must be a dotted attribute path, not `{s}`"),
                        v.span(),
                        Some("e.g. service-path = \"qgroget.server\"".to_string()),
                    ));
                }
                settings.service_path = parts;
            }
            "database-types" => {
                let names = r.strings(v, "database-types")?;
                let mut types = BTreeMap::new();
                for n in names {
                    let name = n.into_inner();
                    let known = settings.database_types.get(&name).cloned();
                    types.insert(
                        name.clone(),
                        known.unwrap_or(DatabaseType {
                            name,
                            host: "localhost".to_string(),
                            port: 0,
                        }),
                    );
                }
                settings.database_types = types;
            }
            _ => {}
        }
    }
    if let Some(v) = top.get("defaults") {
        let defaults = r.table(v, "defaults")?;
        for (type_key, tv) in defaults.iter() {
            let type_name: &str = type_key.get_ref();
            let Some(entry) = settings.database_types.get_mut(type_name) else {
                let known: Vec<String> = settings.database_types.keys().cloned().collect();
                let allowed: Vec<&str> = known.iter().map(|s| s.as_str()).collect();
                return Err(r.error(
                    format!("`defaults.{type_name}`: `{type_name}` is not a database type"),
                    type_key.span(),
                    nearest(type_name, &allowed).map(|h| format!("did you mean `{h}`?")),
                ));
            };
            let t = r.table(tv, &format!("defaults.{type_name}"))?;
            r.check_keys(t, DEFAULT_KEYS, &format!("[defaults.{type_name}]"))?;
            if let Some(h) = t.get("host") {
                entry.host = r.string(h, "host")?;
            }
            if let Some(p) = t.get("port") {
                entry.port = match p.get_ref() {
                    DeValue::Integer(i) => i
                        .as_str()
                        .parse::<i64>()
                        .ok()
                        .filter(|n| (1..=65535).contains(n))
                        .ok_or_else(|| {
                            r.error(
                                "`port` must be between 1 and 65535".to_string(),
                                p.span(),
                                None,
                            )
                        })?,
                    _ => {
                        return Err(r.error(
                            "`port` must be an integer".to_string(),
                            p.span(),
                            None,
                        ))
                    }
                };
            }
        }
    }
    if let Some((k, t)) = settings.database_types.iter().find(|(_, t)| t.port == 0) {
        return Err(ConfigError {
            path: path.to_path_buf(),
            text: text.to_string(),
            message: format!("database type `{k}` has no default port"),
            span: top.get("database-types").map(|v| v.span()),
            help: Some(format!("add:\n\n[defaults.{}]\nport = 1234", t.name)),
        });
    }
    if let Some(v) = top.get("secrets") {
        let t = r.table(v, "secrets")?;
        r.check_keys(t, SECRETS_KEYS, "[secrets]")?;
        if let Some(f) = t.get("file") {
            settings.secrets_file = r.string(f, "secrets.file")?;
        }
        if let Some(k) = t.get("key") {
            settings.secrets_key = r.string(k, "secrets.key")?;
        }
    }
    if let Some(v) = top.get("hosts") {
        let hosts = r.table(v, "hosts")?;
        for (name, hv) in hosts.iter() {
            let section = format!("[hosts.{}]", name.get_ref());
            let t = r.table(hv, &section)?;
            r.check_keys(t, HOST_KEYS, &section)?;
            let modules = match t.get("modules") {
                Some(m) => r
                    .strings(m, "modules")?
                    .into_iter()
                    .map(Spanned::into_inner)
                    .collect(),
                None => {
                    return Err(r.error(
                        format!("{section} needs `modules`, the host's module files"),
                        hv.span(),
                        Some("modules = [\"hosts/server/configuration.nix\"]".to_string()),
                    ))
                }
            };
            settings.hosts.insert(name.get_ref().to_string(), modules);
        }
    }
    if let Some(v) = top.get("rules") {
        let t = r.table(v, "rules")?;
        r.check_keys(t, RULES_KEYS, "[rules]")?;
        if let Some(s) = t.get("select") {
            for sel in r.strings(s, "rules.select")? {
                rules.select.push(r.rule_selector(&sel)?);
            }
        }
        if let Some(s) = t.get("ignore") {
            for sel in r.strings(s, "rules.ignore")? {
                rules.ignore.push(r.rule_selector(&sel)?);
            }
        }
        if let Some(s) = t.get("severity") {
            let sev = r.table(s, "rules.severity")?;
            for (rk, rv) in sev.iter() {
                let key = Spanned::new(rk.span(), rk.get_ref().to_string());
                r.rule_selector(&key)?;
                let level = match r.string(rv, "severity")?.as_str() {
                    "error" => Severity::Error,
                    "warning" => Severity::Warning,
                    "info" => Severity::Info,
                    other => {
                        return Err(r.error(
                            format!("unknown severity `{other}`"),
                            rv.span(),
                            Some("use \"error\", \"warning\" or \"info\"".to_string()),
                        ))
                    }
                };
                for rule in rules::matching(key.get_ref()) {
                    rules.severity.insert(rule.code(), level);
                }
            }
        }
    }
    Ok(Config {
        settings,
        rules,
        path: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Config, ConfigError> {
        parse(Path::new("dbprov.toml"), text)
    }

    #[test]
    fn reads_every_key() {
        let c = parse_str(
            r#"
include = ["nix/**/*.nix"]
exclude = ["nix/old/**"]
entry = "nix/default.nix"
service-path = "qgroget.serviceModules"
database-types = ["postgresql", "redis"]

[defaults.postgresql]
host = "db.internal"
port = 5433

[secrets]
file = "secrets/prod.yaml"
key = "db/{service}"

[hosts.server]
modules = ["hosts/server/configuration.nix"]

[rules]
select = ["DB0"]
ignore = ["unresolved-value"]
severity = { DB017 = "error" }
"#,
        )
        .unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(c.settings.include, vec!["nix/**/*.nix"]);
        assert_eq!(c.settings.service_path, vec!["qgroget", "serviceModules"]);
        assert_eq!(c.settings.database_types.len(), 2);
        assert_eq!(c.settings.database_types["postgresql"].port, 5433);
        assert_eq!(c.settings.database_types["postgresql"].host, "db.internal");
        assert_eq!(c.settings.password_secret("immich"), "db/immich");
        assert_eq!(c.rules.select, vec!["DB0"]);
        assert_eq!(
            c.settings.hosts["server"],
            vec!["hosts/server/configuration.nix"]
        );
        assert_eq!(c.rules.severity.get("DB017"), Some(&Severity::Error));
    }

    #[test]
    fn unknown_key_names_the_nearest() {
        let e = parse_str("servce-path = \"a.b\"\n").expect_err("an error");
        assert!(e.message.contains("`servce-path`"), "{}", e.message);
        assert!(
            e.message.contains("did you mean `service-path`"),
            "{}",
            e.message
        );
        assert_eq!(e.span, Some(0..11));
    }

    #[test]
    fn unknown_rule_is_an_error() {
        let e = parse_str("[rules]\nignore = [\"DB999\"]\n").expect_err("an error");
        assert!(e.message.contains("unknown rule `DB999`"), "{}", e.message);
    }

    #[test]
    fn invalid_toml_has_a_span() {
        let e = parse_str("include = [\n").expect_err("an error");
        assert!(e.message.starts_with("invalid TOML"));
        assert!(e.span.is_some());
    }
}
