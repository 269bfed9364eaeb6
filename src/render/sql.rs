//! `plan --format sql`: an idempotent psql script that provisions the plan —
//! what NixOS's `ensureUsers`/`ensureDatabases`/`ensureDBOwnership` do, plus
//! isolation: no role can connect to a database it does not own.

use crate::report::{HostReport, Report};

/// `"name"`, with embedded quotes doubled: identifiers are always quoted.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'`, with embedded quotes doubled.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// One database to provision, and its owner (`None`: the superuser, as NixOS
/// leaves a database no ensured user owns).
pub struct Planned {
    pub name: String,
    pub owner: Option<String>,
    pub origin: String,
}

fn comment(text: &str) -> String {
    text.lines().map(|l| format!("-- {l}\n")).collect()
}

/// The script for a list of roles and databases.
pub fn script(title: &str, roles: &[String], databases: &[Planned], notes: &[String]) -> String {
    let mut out = String::new();
    out.push_str(&comment(&format!(
        "dbprov provisioning plan: {title}\nApply with: psql -v ON_ERROR_STOP=1 -f <this file>\nIdempotent: applying it again changes nothing."
    )));
    if !notes.is_empty() {
        out.push('\n');
        out.push_str(&comment("Not provisioned:"));
        for n in notes {
            out.push_str(&comment(&format!("  {n}")));
        }
    }
    for role in roles {
        out.push_str(&format!("\n-- role {}\n", ident(role)));
        // LOGIN without a password: the password is set from SOPS at deploy.
        out.push_str(&format!(
            "SELECT {} WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {})\\gexec\n",
            literal(&format!("CREATE ROLE {} LOGIN", ident(role))),
            literal(role)
        ));
    }
    for db in databases {
        out.push_str(&format!(
            "\n-- database {} ({})\n",
            ident(&db.name),
            db.origin
        ));
        let create = match &db.owner {
            Some(o) => format!("CREATE DATABASE {} OWNER {}", ident(&db.name), ident(o)),
            None => format!("CREATE DATABASE {}", ident(&db.name)),
        };
        // CREATE DATABASE cannot run in a transaction or a DO block: \gexec it.
        out.push_str(&format!(
            "SELECT {} WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = {})\\gexec\n",
            literal(&create),
            literal(&db.name)
        ));
        if let Some(o) = &db.owner {
            out.push_str(&format!(
                "ALTER DATABASE {} OWNER TO {};\n",
                ident(&db.name),
                ident(o)
            ));
        }
        // Isolation: only the owner may connect.
        out.push_str(&format!(
            "REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC;\n",
            ident(&db.name)
        ));
        if let Some(o) = &db.owner {
            out.push_str(&format!(
                "GRANT CONNECT, TEMPORARY ON DATABASE {} TO {};\n",
                ident(&db.name),
                ident(o)
            ));
        }
    }
    out
}

/// Contract mode: the report's PostgreSQL databases.
pub fn contract(report: &Report) -> String {
    let pg: Vec<_> = report
        .databases
        .iter()
        .filter(|d| d.db_type == "postgresql")
        .collect();
    let mut roles: Vec<String> = Vec::new();
    for d in &pg {
        if let Some(u) = &d.user {
            if !roles.contains(u) {
                roles.push(u.clone());
            }
        }
    }
    let databases: Vec<Planned> = pg
        .iter()
        .map(|d| Planned {
            name: d.name.clone(),
            owner: d.user.clone(),
            origin: format!(
                "service '{}', {}:{}",
                d.service, d.source.file, d.source.line
            ),
        })
        .collect();
    let mut notes: Vec<String> = report
        .skipped
        .iter()
        .map(|s| {
            format!(
                "service '{}' database {} ({}): {}",
                s.service,
                s.name
                    .as_deref()
                    .map(ident)
                    .unwrap_or_else(|| "?".to_string()),
                s.db_type.as_deref().unwrap_or("?"),
                s.reason
            )
        })
        .collect();
    notes.extend(report.unresolved.iter().map(|u| {
        format!(
            "{}{} unresolved ({}): {}",
            u.service
                .as_deref()
                .map(|s| format!("service '{s}' "))
                .unwrap_or_default(),
            u.what,
            u.reason,
            u.message
        )
    }));
    notes.extend(
        report
            .databases
            .iter()
            .filter(|d| d.db_type != "postgresql")
            .map(|d| {
                format!(
                    "service '{}' {} database {}: not PostgreSQL",
                    d.service,
                    d.db_type,
                    ident(&d.name)
                )
            }),
    );
    script("services", &roles, &databases, &notes)
}

/// Ensure mode: one host's `ensureUsers` and `ensureDatabases`.
pub fn host(h: &HostReport) -> String {
    let mut roles: Vec<String> = Vec::new();
    for u in &h.postgresql.ensure_users {
        if !roles.contains(&u.name) {
            roles.push(u.name.clone());
        }
    }
    let databases: Vec<Planned> = h
        .databases
        .iter()
        .map(|d| Planned {
            name: d.name.clone(),
            owner: d.owner.clone(),
            origin: format!("host '{}', {}:{}", h.name, d.source.file, d.source.line),
        })
        .collect();
    let mut notes: Vec<String> = h
        .unresolved
        .iter()
        .map(|u| format!("{} unresolved ({}): {}", u.what, u.reason, u.message))
        .collect();
    if h.postgresql.enable != Some(true) && !h.postgresql.ensure_databases.is_empty() {
        notes.push(
            "services.postgresql is not enabled on this host: NixOS creates nothing".to_string(),
        );
    }
    let (roles, databases) = if h.postgresql.enable == Some(true) {
        (roles, databases)
    } else {
        (Vec::new(), Vec::new())
    };
    script(&format!("host '{}'", h.name), &roles, &databases, &notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_literals_are_quoted() {
        assert_eq!(ident("immich"), "\"immich\"");
        assert_eq!(ident("my-db"), "\"my-db\"");
        assert_eq!(ident("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(
            literal(&format!("CREATE ROLE {} LOGIN", ident("o'neil"))),
            "'CREATE ROLE \"o''neil\" LOGIN'"
        );
    }
}
