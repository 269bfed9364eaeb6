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
        let file = escape_controls(&file);
        let message = escape_controls(&d.message.replace('\n', " "));
        out.push_str(&format!(
            "{file}:{line}:{col}: {}[{}] {message}\n",
            d.severity.as_str(),
            d.code
        ));
    }
    out
}

/// Control characters (a newline in a file name, say) written as escapes,
/// so that each diagnostic stays on one line.
fn escape_controls(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_controls("a\nb.nix"), "a\\nb.nix");
        assert_eq!(escape_controls("tab\there\r"), "tab\\there\\r");
        assert_eq!(escape_controls("\u{1b}[31m"), "\\u{1b}[31m");
        assert_eq!(escape_controls("plain é.nix"), "plain é.nix");
    }
}
