use super::ensure::{pg_state, PgState};
use super::{Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::DeclStatus;
use crate::source::Span;

/// DB022: databases or roles ensured on a host whose PostgreSQL is not enabled.
pub struct PostgresqlDisabled;

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Rule for PostgresqlDisabled {
    fn code(&self) -> &'static str {
        "DB022"
    }
    fn name(&self) -> &'static str {
        "postgresql-disabled"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "databases or roles ensured on a host where `services.postgresql.enable` is false or never set"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        for host in &cx.model.hosts {
            let PgState::Off(disabled_at) = pg_state(host) else {
                continue;
            };
            let active = |s: &DeclStatus| matches!(s, DeclStatus::Active);
            let mut entries: Vec<(Span, &str)> = Vec::new();
            let mut databases = Vec::new();
            for d in host.databases.iter().filter(|d| active(&d.status)) {
                entries.push((d.span, "database"));
                if let Some(n) = d.name.as_str().filter(|n| !databases.contains(n)) {
                    databases.push(n);
                }
            }
            let mut roles = Vec::new();
            for u in host.users.iter().filter(|u| active(&u.status)) {
                entries.push((u.span, "role"));
                if let Some(n) = u.name().filter(|n| !roles.contains(n)) {
                    roles.push(n);
                }
            }
            entries.sort();
            let Some(&(first, _)) = entries.first() else {
                continue;
            };
            let mut what = Vec::new();
            let plural = |n: usize| if n == 1 { "" } else { "s" };
            if !databases.is_empty() {
                let s = plural(databases.len());
                what.push(format!("database{s} {}", quoted(&databases)));
            }
            if !roles.is_empty() {
                let s = plural(roles.len());
                what.push(format!("role{s} {}", quoted(&roles)));
            }
            if what.is_empty() {
                what.push("entries".to_string());
            }
            let why = match disabled_at {
                Some(_) => "services.postgresql.enable is false",
                None => "services.postgresql.enable is never set (NixOS's default is false)",
            };
            let mut d = self
                .diagnostic(
                    format!(
                        "On host '{}', services.postgresql ensures {} but {why}: NixOS creates none of them",
                        host.name,
                        what.join(" and ")
                    ),
                    first,
                    "ensured, but never created",
                )
                .with_help(format!(
                    "Enable PostgreSQL on host '{}':\n\n  services.postgresql.enable = true;\n\nor remove the ensureDatabases/ensureUsers entries if this host should run no PostgreSQL.",
                    host.name
                ));
            if let Some(at) = disabled_at {
                d = d.with_label(at, "PostgreSQL is disabled here");
            }
            for (span, kind) in &entries[1..] {
                d = d.with_label(*span, format!("this {kind} is not created either"));
            }
            if disabled_at.is_none() {
                let unseen: Vec<&str> = host
                    .unresolved
                    .iter()
                    .filter(|u| u.what.starts_with("a module of host"))
                    .map(|u| u.unresolved.detail.as_str())
                    .collect();
                let also = if unseen.is_empty() {
                    String::new()
                } else {
                    format!(", nor modules it cannot read ({})", unseen.join("; "))
                };
                d = d.with_note(format!(
                    "dbprov does not see nixpkgs' own service modules{also}: if one of them enables PostgreSQL on this host, say so with `services.postgresql.enable = true;`"
                ));
            }
            out.push(d);
        }
    }
}
