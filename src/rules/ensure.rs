//! What the ensure-mode rules (SPEC §8) share: whether a host's PostgreSQL
//! runs, and why an error in one of its entries does not fail the build today.

use crate::diagnostic::Diagnostic;
use crate::model::ensure::{EnsuredDatabase, EnsuredUser, HostModel};
use crate::model::{DeclStatus, Enable, Field, FieldValue};
use crate::source::Span;

/// Whether `services.postgresql.enable` holds on a host, as far as dbprov can tell.
pub enum PgState {
    On,
    /// False, or never set (the NixOS default); the span of a `false` definition.
    Off(Option<Span>),
    /// It cannot be known: why.
    Maybe(String),
}

/// The NixOS postgresql module does its work (creates, asserts, reads
/// `ensureUsers`) only under `mkIf cfg.enable`.
pub fn pg_state(host: &HostModel) -> PgState {
    match &host.enable {
        Enable::Known { value: true, .. } => PgState::On,
        Enable::Known {
            value: false, span, ..
        } => PgState::Off((!span.is_detached()).then_some(*span)),
        // nixpkgs' modules for these services enable PostgreSQL themselves.
        Enable::Undefined if !host.implicit.is_empty() => PgState::Maybe(format!(
            "services.postgresql.enable is not set on host '{}', but {} creates its own database and so usually enables PostgreSQL",
            host.name,
            host.implicit
                .iter()
                .map(|i| format!("`{} = true`", i.option))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Enable::Undefined => PgState::Off(None),
        _ => PgState::Maybe(format!(
            "whether services.postgresql.enable is true on host '{}' cannot be known statically",
            host.name
        )),
    }
}

/// Why an error in an entry of this host does not fail the build today, if
/// it doesn't: the entry does not count, or PostgreSQL is not (known to be)
/// enabled, so the postgresql module never reads it.
pub fn entry_inactive(host: &HostModel, status: &DeclStatus) -> Option<String> {
    match status {
        DeclStatus::GuardFalse(_) => {
            return Some(
                "this entry's `mkIf` condition is false; this fails once it holds".to_string(),
            )
        }
        DeclStatus::Overridden(_) => return Some(
            "this definition is overridden by one with higher priority; this fails once it counts"
                .to_string(),
        ),
        DeclStatus::Uncertain(u) => {
            return Some(format!(
                "whether this entry counts cannot be known statically ({}); this fails if it does",
                u.detail
            ))
        }
        DeclStatus::Active => {}
    }
    match pg_state(host) {
        PgState::On => None,
        PgState::Off(_) => Some(format!(
            "PostgreSQL is not enabled on host '{}'; this fails once it is",
            host.name
        )),
        PgState::Maybe(why) => Some(format!("{why}; this fails if it is enabled")),
    }
}

/// Every host's `ensureDatabases` entries.
pub fn host_databases(
    hosts: &[HostModel],
) -> impl Iterator<Item = (&HostModel, &EnsuredDatabase)> + '_ {
    hosts
        .iter()
        .flat_map(|h| h.databases.iter().map(move |d| (h, d)))
}

/// Every host's `ensureUsers` entries.
pub fn host_users(hosts: &[HostModel]) -> impl Iterator<Item = (&HostModel, &EnsuredUser)> + '_ {
    hosts
        .iter()
        .flat_map(|h| h.users.iter().map(move |u| (h, u)))
}

/// `key = value` of a field, as one span (the value alone when the two are
/// apart or in different files).
pub fn field_span(f: &Field) -> Span {
    let (k, v) = (f.key_span, f.value_span);
    if !k.is_detached() && k.file == v.file && k.start <= v.start {
        Span {
            file: k.file,
            start: k.start,
            end: v.end.max(k.end),
        }
    } else {
        v
    }
}

/// Whether the host's `ensureDatabases` may hold names dbprov cannot see:
/// parts it cannot compute, or a nixpkgs service that creates its own
/// database (`implicit`) and so adds to it.
pub fn databases_incomplete(host: &HostModel) -> bool {
    !host.implicit.is_empty()
        || host
            .unresolved
            .iter()
            .any(|u| u.what == "services.postgresql.ensureDatabases")
        || host
            .databases
            .iter()
            .any(|d| !matches!(d.name, FieldValue::Str(_)))
}

/// Marks a diagnostic about a host entry: inactive when it does not fail today.
pub fn about_host_entry(d: Diagnostic, host: &HostModel, status: &DeclStatus) -> Diagnostic {
    let d = match &host.enable {
        Enable::Known {
            value: true, span, ..
        } => d.with_label(
            *span,
            format!("PostgreSQL is enabled here on host '{}'", host.name),
        ),
        _ => d,
    };
    d.inactive_because(entry_inactive(host, status))
}
