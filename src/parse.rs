//! Reading and parsing files with rnix, in parallel. A file that cannot be read
//! or parsed is reported and left out of the module system; the rest go on.

use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;
use rnix::ParseError;
use rowan::GreenNode;

use crate::source::{FileId, SourceFile, Span};

/// A syntax problem, with its span (byte range) in the file.
#[derive(Clone, Debug)]
pub struct SyntaxError {
    pub span: Span,
    pub message: String,
}

/// One file, read and parsed.
pub struct ParsedFile {
    pub source: SourceFile,
    /// The syntax tree, when the file was read.
    pub green: Option<GreenNode>,
    pub errors: Vec<SyntaxError>,
    /// Its `# dbprov: ignore` comments.
    pub suppressions: Vec<crate::suppress::Suppression>,
    /// Passwords and credentials written in it literally.
    pub literal_secrets: Vec<crate::model::literals::LiteralSecret>,
}

/// Deeper bracket nesting than this is refused before rnix sees it: its
/// recursive descent is slow there and can overflow the stack.
pub const MAX_NESTING: usize = 1_000;

/// What to parse: a path, and optionally content that replaces the disk's.
pub struct Input {
    pub rel_path: String,
    pub abs_path: PathBuf,
    pub content: Option<Result<Vec<u8>, String>>,
}

pub fn parse_all(inputs: Vec<Input>) -> Vec<ParsedFile> {
    inputs
        .into_par_iter()
        .enumerate()
        .map(|(i, input)| parse_one(i as FileId, input))
        .collect()
}

fn parse_one(id: FileId, input: Input) -> ParsedFile {
    let bytes = match input.content {
        Some(c) => c,
        None => std::fs::read(&input.abs_path).map_err(|e| e.to_string()),
    };
    let whole = |len: usize| Span {
        file: id,
        start: 0,
        end: len as u32,
    };
    let fail = |text: Arc<str>, message: String| {
        let len = text.len();
        ParsedFile {
            source: SourceFile::new(id, input.rel_path.clone(), input.abs_path.clone(), text),
            green: None,
            errors: vec![SyntaxError {
                span: whole(len).with_end(0),
                message,
            }],
            suppressions: Vec::new(),
            literal_secrets: Vec::new(),
        }
    };
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => return fail(Arc::from(""), format!("cannot read file: {e}")),
    };
    if bytes.contains(&0) {
        return fail(
            Arc::from(""),
            "binary file: it contains NUL bytes".to_string(),
        );
    }
    let text: Arc<str> = match String::from_utf8(bytes) {
        Ok(s) => Arc::from(s),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let prefix = String::from_utf8_lossy(&e.as_bytes()[..at]).into_owned();
            return fail(
                Arc::from(prefix),
                format!("the file is not valid UTF-8 (invalid byte at offset {at})"),
            );
        }
    };
    if let Some(offset) = too_deep(&text) {
        let f = fail(
            text,
            format!("nested too deeply (more than {MAX_NESTING} levels)"),
        );
        let mut f = f;
        f.errors[0].span = Span {
            file: id,
            start: offset as u32,
            end: offset as u32 + 1,
        };
        return f;
    }
    let parse = rnix::Root::parse(&text);
    let len = text.len() as u32;
    let errors = parse
        .errors()
        .iter()
        .map(|e| syntax_error(id, len, e))
        .collect();
    let mut errors: Vec<SyntaxError> = errors;
    if errors.is_empty() {
        // What Nix rejects before evaluating: undefined variables, duplicates.
        errors = crate::scope_check::binding_errors(&parse.tree(), id);
    }
    let source = SourceFile::new(id, input.rel_path, input.abs_path, text);
    let root = parse.syntax();
    let suppressions = crate::suppress::scan(&source, &root);
    // Only files with something that could be a literal secret are walked.
    let lower = source.text.to_ascii_lowercase();
    let literal_secrets = if lower.contains("passw") || lower.contains("://") {
        crate::model::literals::scan(id, &root)
    } else {
        Vec::new()
    };
    ParsedFile {
        source,
        green: Some(root.green().to_owned()),
        errors,
        suppressions,
        literal_secrets,
    }
}

impl Span {
    fn with_end(mut self, end: u32) -> Span {
        self.end = end;
        self
    }
}

/// The offset where bracket nesting first exceeds the bound, if it does.
fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn kind_name(k: rnix::SyntaxKind) -> String {
    let s = format!("{k:?}");
    s.trim_start_matches("TOKEN_")
        .trim_start_matches("NODE_")
        .to_lowercase()
        .replace('_', " ")
}

fn syntax_error(file: FileId, len: u32, e: &ParseError) -> SyntaxError {
    let at = |r: rnix::TextRange| Span::new(file, r);
    let eof = Span {
        file,
        start: len,
        end: len,
    };
    let (span, message) = match e {
        ParseError::Unexpected(r) => (at(*r), "unexpected input".to_string()),
        ParseError::UnexpectedExtra(r) => {
            (at(*r), "unexpected input after the expression".to_string())
        }
        ParseError::UnexpectedWanted(got, r, wanted) => (
            at(*r),
            format!(
                "unexpected {}, expected {}",
                kind_name(*got),
                wanted
                    .iter()
                    .map(|k| kind_name(*k))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        ),
        ParseError::UnexpectedDoubleBind(r) => (at(*r), "pattern bound twice".to_string()),
        ParseError::UnexpectedEOF => (eof, "unexpected end of file".to_string()),
        ParseError::UnexpectedEOFWanted(wanted) => (
            eof,
            format!(
                "unexpected end of file, expected {}",
                wanted
                    .iter()
                    .map(|k| kind_name(*k))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        ),
        ParseError::DuplicatedArgs(r, name) => (at(*r), format!("duplicated argument '{name}'")),
        ParseError::RecursionLimitExceeded => (eof, "nested too deeply".to_string()),
        other => (eof, other.to_string()),
    };
    SyntaxError { span, message }
}
