//! What an analysis is configured with. Defaults follow SPEC §3; `dbprov.toml`
//! will fill the same structure.

use std::collections::BTreeMap;

/// A database type the contract accepts, with its connection defaults.
#[derive(Clone, Debug)]
pub struct DatabaseType {
    pub name: String,
    pub host: String,
    pub port: i64,
}

#[derive(Clone, Debug)]
pub struct Settings {
    /// Globs (relative to the root) of the files to analyse.
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// The module that imports the others.
    pub entry: String,
    /// Where services live in `config`, e.g. `qgroget.server`.
    pub service_path: Vec<String>,
    pub database_types: BTreeMap<String, DatabaseType>,
    /// The SOPS key of a service's password; `{service}` is replaced.
    pub secrets_key: String,
    pub secrets_file: String,
    /// Hosts listed in dbprov.toml: name → module files (relative to the root).
    pub hosts: BTreeMap<String, Vec<String>>,
}

impl Default for Settings {
    fn default() -> Settings {
        let types = [("postgresql", 5432), ("redis", 6379), ("mongodb", 27017)]
            .into_iter()
            .map(|(name, port)| {
                (
                    name.to_string(),
                    DatabaseType {
                        name: name.to_string(),
                        host: "localhost".to_string(),
                        port,
                    },
                )
            })
            .collect();
        Settings {
            include: vec!["modules/server/**/*.nix".to_string()],
            exclude: Vec::new(),
            entry: "modules/server/default.nix".to_string(),
            service_path: vec!["qgroget".to_string(), "server".to_string()],
            database_types: types,
            secrets_key: "server/{service}/db_password".to_string(),
            secrets_file: "secrets/secrets.yaml".to_string(),
            hosts: BTreeMap::new(),
        }
    }
}

impl Settings {
    pub fn password_secret(&self, service: &str) -> String {
        self.secrets_key.replace("{service}", service)
    }
}
