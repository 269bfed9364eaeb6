//! `--format json`: the diagnostics as a JSON array.

use crate::diagnostic::Diagnostic;
use crate::report::{diagnostic_report, Locator};
use crate::source::SourceFile;

pub fn render(diags: &[Diagnostic], files: &[SourceFile]) -> String {
    let loc = Locator::new(files);
    let out: Vec<_> = diags.iter().map(|d| diagnostic_report(&loc, d)).collect();
    let mut s = serde_json::to_string_pretty(&out).expect("diagnostics serialize");
    s.push('\n');
    s
}
