use super::{matching, Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};

/// DB026: a suppression comment that suppresses nothing, or names no known rule.
pub struct UnusedSuppression;

impl Rule for UnusedSuppression {
    fn code(&self) -> &'static str {
        "DB026"
    }
    fn name(&self) -> &'static str {
        "unused-suppression"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "a suppression comment that suppresses nothing, or names no known rule"
    }
    /// Runs once the other rules' diagnostics were filtered by the suppressions.
    fn after_suppression(&self) -> bool {
        true
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        for s in &cx.model.suppressions {
            let scope = if s.file_level {
                "ignore-file"
            } else {
                "ignore"
            };
            for sel in &s.selectors {
                if sel.used.get() {
                    continue;
                }
                let known = !matching(&sel.text).is_empty();
                let (message, label) = if known {
                    (
                        format!("`# dbprov: {scope} {}` suppresses nothing", sel.text),
                        "no such diagnostic here",
                    )
                } else {
                    (
                        format!("`{}` in a suppression comment is not a rule", sel.text),
                        "unknown rule",
                    )
                };
                let help = if known {
                    "Remove the suppression: the problem it hid is gone (or it is on another line)."
                        .to_string()
                } else {
                    let candidates: Vec<&str> = super::all()
                        .iter()
                        .flat_map(|r| [r.code(), r.name()])
                        .collect();
                    match super::nearest(&sel.text, &candidates) {
                        Some(n) => format!("Did you mean `{n}`?\n\n  # dbprov: {scope} {n}"),
                        None => "`dbprov rules` lists every rule.".to_string(),
                    }
                };
                out.push(self.diagnostic(message, sel.span, label).with_help(help));
            }
        }
    }
}
