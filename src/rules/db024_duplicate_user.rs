use super::{Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::ensure::EnsuredUser;
use crate::model::{DeclStatus, Entry, FieldValue};
use std::collections::{BTreeMap, HashMap};

/// DB024: the same role listed twice in one host's `ensureUsers`.
pub struct DuplicateUser;

impl Rule for DuplicateUser {
    fn code(&self) -> &'static str {
        "DB024"
    }
    fn name(&self) -> &'static str {
        "duplicate-user"
    }
    fn default_severity(&self) -> Severity {
        Severity::Info
    }
    fn summary(&self) -> &'static str {
        "the same role listed twice in one host's `ensureUsers`"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        for host in &cx.model.hosts {
            let mut first: HashMap<&str, &EnsuredUser> = HashMap::new();
            let active: Vec<&EnsuredUser> = host
                .users
                .iter()
                .filter(|u| matches!(u.status, DeclStatus::Active))
                .collect();
            for &user in &active {
                let Some(name) = user.name() else { continue };
                let Some(earlier) = first.get(name) else {
                    first.insert(name, user);
                    continue;
                };
                let at = user
                    .field("name")
                    .map(|f| f.value_span)
                    .unwrap_or(user.span);
                let earlier_at = earlier
                    .field("name")
                    .map(|f| f.value_span)
                    .unwrap_or(earlier.span);
                let all: Vec<&EnsuredUser> = active
                    .iter()
                    .copied()
                    .filter(|u| u.name() == Some(name))
                    .collect();
                let owns = all.iter().any(|u| u.owns_database() == Some(true));
                let mut settings = String::new();
                if owns {
                    settings.push_str("    ensureDBOwnership = true;\n");
                }
                // Every entry's clauses, the later ones last, as NixOS applies them.
                let mut clauses: BTreeMap<&str, bool> = BTreeMap::new();
                for u in &all {
                    if let Some(Entry::Fields(f)) = &u.clauses {
                        for (k, v) in f {
                            if let FieldValue::Bool(b) = v.value {
                                clauses.insert(k, b);
                            }
                        }
                    }
                }
                for (k, b) in clauses {
                    settings.push_str(&format!("    ensureClauses.{k} = {b};\n"));
                }
                let d = self
                    .diagnostic(
                        format!(
                            "On host '{}', role '{name}' is listed more than once in services.postgresql.ensureUsers",
                            host.name
                        ),
                        at,
                        "listed again here",
                    )
                    .with_field("name")
                    .with_label(earlier_at, "first listed here")
                    .with_help(format!(
                        "Keep one entry per role, with the settings of all of them:\n\n  services.postgresql.ensureUsers = [{{\n    name = \"{name}\";\n{settings}  }}];"
                    ))
                    .with_note(
                        "NixOS runs every entry in turn: the role is created once, and each entry's ensureClauses and ensureDBOwnership are applied, the later ones last",
                    );
                out.push(d);
            }
        }
    }
}
