//! `--format short`: `file:line:col: severity[CODE] message`, one a line —
//! what editors' error formats and problem matchers read.

use crate::diagnostic::Diagnostic;
use crate::report::Locator;
use crate::source::SourceFile;

pub fn render(diags: &[Diagnostic], files: &[SourceFile]) -> String {
    let loc = Locator::new(files);
    let mut out = String::new();
    for d in diags {
        let (file, line, col) = match loc.start(d.primary.span) {
            Some(l) => (l.file, l.line, l.column),
            None => ("<unknown>".to_string(), 1, 1),
        };
        let message = d.message.replace('\n', " ");
        out.push_str(&format!(
            "{file}:{line}:{col}: {}[{}] {message}\n",
            d.severity.as_str(),
            d.code
        ));
    }
    out
}
