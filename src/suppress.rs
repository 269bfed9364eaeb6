//! Suppression comments: `# dbprov: ignore DB010` (this line, or the next when
//! the comment stands alone) and `# dbprov: ignore-file DB010`, found through
//! rnix's comment tokens.

use std::cell::Cell;

use rnix::{NodeOrToken, SyntaxKind, SyntaxNode};

use crate::diagnostic::Diagnostic;
use crate::rules;
use crate::source::{FileId, SourceFile, Span};

/// One rule named in a suppression comment.
#[derive(Debug)]
pub struct Selector {
    pub text: String,
    pub span: Span,
    /// Set once it suppressed a diagnostic.
    pub used: Cell<bool>,
}

#[derive(Debug)]
pub struct Suppression {
    pub file: FileId,
    /// 1-based line of the comment.
    pub line: u32,
    /// The comment is alone on its line: it also covers the next line.
    pub standalone: bool,
    pub file_level: bool,
    pub selectors: Vec<Selector>,
}

const MARKER: &str = "dbprov:";

/// The suppression comments of one parsed file.
pub fn scan(file: &SourceFile, root: &SyntaxNode) -> Vec<Suppression> {
    let mut out = Vec::new();
    // Most files have none: skip the walk over their tokens.
    if !file.text.contains(MARKER) {
        return out;
    }
    for element in root.descendants_with_tokens() {
        let NodeOrToken::Token(token) = element else {
            continue;
        };
        if token.kind() != SyntaxKind::TOKEN_COMMENT {
            continue;
        }
        let text = token.text();
        let start: usize = token.text_range().start().into();
        let Some(at) = text.find(MARKER) else {
            continue;
        };
        // Only the marker at the start of the comment's text counts.
        let lead = text[..at].trim_start_matches(['#', '/', '*']).trim();
        if !lead.is_empty() {
            continue;
        }
        let rest_start = at + MARKER.len();
        let rest = text[rest_start..].trim_end_matches("*/");
        let trimmed = rest.trim_start();
        let (file_level, after) = if let Some(r) = trimmed.strip_prefix("ignore-file") {
            (true, r)
        } else if let Some(r) = trimmed.strip_prefix("ignore") {
            (false, r)
        } else {
            continue;
        };
        let after_offset =
            rest_start + (rest.len() - trimmed.len()) + (trimmed.len() - after.len());
        let mut selectors = Vec::new();
        let mut offset = after_offset;
        for piece in after.split(|c: char| c == ',' || c.is_whitespace()) {
            if !piece.is_empty() {
                let s = start + offset;
                selectors.push(Selector {
                    text: piece.to_string(),
                    span: Span {
                        file: file.id,
                        start: s as u32,
                        end: (s + piece.len()) as u32,
                    },
                    used: Cell::new(false),
                });
            }
            offset += piece.len() + 1;
        }
        let line_start = file.text[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
        let standalone = file.text[line_start..start].trim().is_empty();
        out.push(Suppression {
            file: file.id,
            line: file.line_col(start as u32).line,
            standalone,
            file_level,
            selectors,
        });
    }
    out
}

fn selects(selector: &str, d: &Diagnostic) -> bool {
    rules::matching(selector).iter().any(|r| r.code() == d.code)
}

/// Drops the diagnostics a suppression covers, marking what was used.
pub fn apply(
    diags: Vec<Diagnostic>,
    sups: &[Suppression],
    files: &[SourceFile],
) -> Vec<Diagnostic> {
    diags
        .into_iter()
        .filter(|d| {
            let span = d.primary.span;
            let Some(f) = files.get(span.file as usize) else {
                return true;
            };
            let line = f.line_col(span.start).line;
            let mut suppressed = false;
            for s in sups.iter().filter(|s| s.file == span.file) {
                let covers = s.file_level || s.line == line || (s.standalone && s.line + 1 == line);
                if !covers {
                    continue;
                }
                for sel in &s.selectors {
                    if selects(&sel.text, d) {
                        sel.used.set(true);
                        suppressed = true;
                    }
                }
            }
            !suppressed
        })
        .collect()
}
