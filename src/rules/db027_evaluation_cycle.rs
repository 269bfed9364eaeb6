use std::collections::BTreeMap;

use super::{Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{DeclStatus, Enable, Entry, FieldValue, Reason, Unresolved};
use crate::source::Span;

/// The services (and where) a cycle makes unknown.
type Affected<'a> = Vec<(Option<&'a str>, Span)>;

/// DB027: the module system would recurse infinitely.
pub struct EvaluationCycle;

/// Every unresolved value of the model whose reason is a cycle, with the
/// service it was met in.
fn cycles<'a>(cx: &'a Context) -> Vec<(Option<&'a str>, Span, &'a Unresolved)> {
    let mut out = Vec::new();
    for item in &cx.model.unresolved {
        out.push((item.service.as_deref(), Span::DETACHED, &item.unresolved));
    }
    for host in &cx.model.hosts {
        for item in &host.unresolved {
            out.push((item.service.as_deref(), host.span, &item.unresolved));
        }
    }
    for s in &cx.model.services {
        if let Enable::Unresolved(u) = &s.enable {
            out.push((Some(s.name.as_str()), s.span, u));
        }
        for u in &s.databases_unresolved {
            out.push((Some(s.name.as_str()), s.span, u));
        }
        for d in &s.databases {
            if let DeclStatus::Uncertain(u) = &d.status {
                out.push((Some(s.name.as_str()), d.span, u));
            }
            match &d.entry {
                Entry::Unresolved(u) => out.push((Some(s.name.as_str()), d.span, u)),
                Entry::Fields(fields) => {
                    for f in fields.values() {
                        if let FieldValue::Unresolved(u) = &f.value {
                            out.push((Some(s.name.as_str()), f.value_span, u));
                        }
                    }
                }
                Entry::NotASet { .. } => {}
            }
        }
    }
    out.retain(|(_, _, u)| u.reason == Reason::Cycle);
    out
}

impl Rule for EvaluationCycle {
    fn code(&self) -> &'static str {
        "DB027"
    }
    fn name(&self) -> &'static str {
        "evaluation-cycle"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "the module system would recurse infinitely here"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        // One diagnostic per place where the recursion closes.
        let mut by_span: BTreeMap<Span, (String, Affected)> = BTreeMap::new();
        let mut guarded_defs: BTreeMap<Span, Span> = BTreeMap::new();
        for (service, span, u) in cycles(cx) {
            if let Some(g) = u.guarded {
                guarded_defs.entry(u.span).or_insert(g);
            }
            let entry = by_span
                .entry(u.span)
                .or_insert_with(|| (u.detail.clone(), Vec::new()));
            if !entry.1.contains(&(service, span)) {
                entry.1.push((service, span));
            }
        }
        let path = cx.settings.service_path.join(".");
        for (span, (detail, affected)) in by_span {
            // The service whose guard closes the cycle, read from "config.<path>.<service>...".
            let prefix = format!("config.{path}.");
            let guarded = detail
                .strip_prefix(&prefix)
                .and_then(|rest| rest.split('.').next())
                .map(str::to_string);
            let first = guarded
                .clone()
                .or_else(|| affected.iter().find_map(|(s, _)| s.map(str::to_string)));
            let primary = if span.is_detached() {
                affected
                    .iter()
                    .map(|(_, s)| *s)
                    .find(|s| !s.is_detached())
                    .unwrap_or(span)
            } else {
                span
            };
            let name = first.clone().unwrap_or_else(|| "x".to_string());
            let mut d = self
                .diagnostic(
                    format!("Infinite recursion in the module system: {detail}"),
                    primary,
                    "this guard needs the value it guards",
                )
                .with_help(format!(
                    "`{path}` is declared as a submodule or `attrsOf (submodule ...)`, so the module system evaluates \
                     every guard on a definition under it before it knows any service's `enable`. Keep the \
                     contract definition out of the service's own `mkIf`:\n\n  config = lib.mkMerge [\n    {{ {path}.{name}.databases = [ ... ]; }}\n    (lib.mkIf cfg.enable {{ /* the service itself */ }})\n  ];"
                ));
            if let Some(s) = &first {
                d = d.with_service(s);
            }
            if let Some(g) = guarded_defs.get(&span) {
                d = d.with_label(*g, "the definition it guards");
            }
            let mut labelled: Vec<Option<&str>> = Vec::new();
            for (s, at) in &affected {
                if *at != primary && !at.is_detached() && !labelled.contains(s) {
                    labelled.push(*s);
                    let what = match s {
                        Some(s) => format!("so service '{s}' cannot be evaluated"),
                        None => "so this cannot be evaluated".to_string(),
                    };
                    d = d.with_label(*at, what);
                }
            }
            out.push(d);
        }
    }
}
