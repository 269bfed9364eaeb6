use super::{Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};

/// DB000: the file cannot be read or parsed.
pub struct SyntaxError;

impl Rule for SyntaxError {
    fn code(&self) -> &'static str {
        "DB000"
    }
    fn name(&self) -> &'static str {
        "syntax-error"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "the file does not parse; other files are still checked"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        for f in &cx.model.files {
            // One diagnostic per file: after the first error rnix's recovery
            // mostly reports consequences of it.
            if let Some(e) = f.syntax_errors.first() {
                let more = f.syntax_errors.len() - 1;
                // Files that could not be read say so rather than "does not parse".
                let (message, help) = match e.message.strip_prefix(crate::parse::UNREADABLE) {
                    Some(why) => (
                        format!("{} cannot be read: {why}", f.rel_path),
                        "Make the file readable, or exclude it in dbprov.toml; until then nothing it defines is known to dbprov.",
                    ),
                    None => (
                        format!("{} does not parse: {}", f.rel_path, e.message),
                        "Fix the syntax; until then nothing this file defines is known to dbprov (or to Nix).",
                    ),
                };
                let mut d = self.diagnostic(message, e.span, &e.message).with_help(help);
                if more > 0 {
                    d = d.with_note(format!("{more} more syntax error(s) in this file"));
                }
                out.push(d);
            }
        }
    }
}
