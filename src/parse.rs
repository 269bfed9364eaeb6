//! Reading and parsing files with rnix, in parallel. A file that cannot be read
//! or parsed is reported and left out of the module system; the rest go on.

use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;
use rnix::ParseError;

use crate::cache::{Cache, Entry};
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
    /// The syntax tree, when the file parsed without errors.
    pub syntax: Option<crate::syntax::FileAst>,
    pub errors: Vec<SyntaxError>,
    /// Its `# dbprov: ignore` comments.
    pub suppressions: Vec<crate::suppress::Suppression>,
    /// Passwords and credentials written in it literally.
    pub literal_secrets: Vec<crate::model::literals::LiteralSecret>,
}

impl ParsedFile {
    /// A file and what parsing it produced (now or in the cache).
    fn new(source: SourceFile, parsed: Entry) -> ParsedFile {
        ParsedFile {
            source,
            syntax: parsed.syntax,
            errors: parsed.errors,
            suppressions: parsed.suppressions,
            literal_secrets: parsed.literal_secrets,
        }
    }
}

/// How the message of a file that could not be read begins.
pub const UNREADABLE: &str = "cannot read file: ";

/// Deeper bracket nesting than this is refused before rnix sees it: its
/// recursive descent is slow there and can overflow the stack.
pub const MAX_NESTING: usize = 1_000;

/// Larger files are parsed each time: reading back their entry would cost
/// about as much, and the cache would fill with them.
const MAX_CACHED_BYTES: usize = 4 << 20;

/// What to parse: a path, and optionally content that replaces the disk's.
pub struct Input {
    pub rel_path: String,
    pub abs_path: PathBuf,
    pub content: Option<Result<Vec<u8>, String>>,
}

/// rnix parses recursively: its threads get a large stack (reserved, not used).
const PARSE_STACK_BYTES: usize = 1 << 30;

/// Reads and parses every input in parallel; with a cache, unchanged files
/// are read back from it instead of parsed.
pub fn parse_all(inputs: Vec<Input>, cache: Option<&Cache>) -> Vec<ParsedFile> {
    let work = move || {
        inputs
            .into_par_iter()
            .enumerate()
            .map(|(i, input)| {
                let (rel_path, abs_path) = (input.rel_path.clone(), input.abs_path.clone());
                // A bug on one file must not take the others down with it.
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    parse_one(i as FileId, input, cache)
                }))
                .unwrap_or_else(|_| ParsedFile {
                    source: SourceFile::new(i as FileId, rel_path, abs_path, Arc::from("")),
                    syntax: None,
                    errors: vec![SyntaxError {
                        span: Span {
                            file: i as FileId,
                            start: 0,
                            end: 0,
                        },
                        message: "internal error while reading this file (please report it)"
                            .to_string(),
                    }],
                    suppressions: Vec::new(),
                    literal_secrets: Vec::new(),
                })
            })
            .collect()
    };
    match rayon::ThreadPoolBuilder::new()
        .num_threads(rayon::current_num_threads())
        .stack_size(PARSE_STACK_BYTES)
        .build()
    {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
}

fn parse_one(id: FileId, input: Input, cache: Option<&Cache>) -> ParsedFile {
    // Editor buffers change with every keystroke: not worth an entry.
    let from_disk = input.content.is_none();
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
            syntax: None,
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
        Err(e) => return fail(Arc::from(""), format!("{UNREADABLE}{e}")),
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
            let mut f = fail(
                Arc::from(prefix),
                format!("the file is not valid UTF-8 (invalid byte at offset {at})"),
            );
            // At the bad byte: the end of the valid text kept before it.
            f.errors[0].span = Span {
                file: id,
                start: at as u32,
                end: at as u32,
            };
            return f;
        }
    };
    let cache = cache.filter(|_| text.len() <= MAX_CACHED_BYTES);
    let key = cache.map(|_| Cache::key(text.as_bytes()));
    if let (Some(cache), Some(key)) = (cache, key) {
        if let Some(hit) = cache.load(key, id, &text) {
            let source = SourceFile::new(id, input.rel_path, input.abs_path, text);
            return ParsedFile::new(source, hit);
        }
    }
    if let Some((offset, why)) = too_deep(&text) {
        let f = fail(text, why);
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
    let root = parse.syntax();
    let mut syntax = None;
    if errors.is_empty() {
        let ast = crate::syntax::lower(id, text.clone(), root.green());
        // What Nix rejects before evaluating: undefined variables, duplicates.
        errors = crate::scope_check::binding_errors(&ast);
        // A file Nix rejects is not evaluated.
        syntax = errors.is_empty().then_some(ast);
    }
    let source = SourceFile::new(id, input.rel_path, input.abs_path, text);
    let suppressions = crate::suppress::scan(&source, &root);
    // Only files with something that could be a literal secret are walked.
    // Only well-formed trees: rnix's string accessors assert on broken ones.
    let literal_secrets = if errors.is_empty()
        && (contains_ignore_case(&source.text, b"passw") || source.text.contains("://"))
    {
        crate::model::literals::scan(id, &root)
    } else {
        Vec::new()
    };
    let entry = Entry {
        syntax,
        errors,
        suppressions,
        literal_secrets,
    };
    if let (Some(cache), Some(key), true) = (cache, key, from_disk) {
        cache.store(key, &entry);
    }
    ParsedFile::new(source, entry)
}

/// Whether `text` holds `needle` (lower-case ASCII), in any case.
fn contains_ignore_case(text: &str, needle: &[u8]) -> bool {
    // Every file is scanned: jump between the candidates for the first byte.
    let Some(&first) = needle.first() else {
        return true;
    };
    let bytes = text.as_bytes();
    memchr::memchr2_iter(
        first.to_ascii_lowercase(),
        first.to_ascii_uppercase(),
        bytes,
    )
    .any(|at| {
        bytes
            .get(at..at + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(needle))
    })
}

impl Span {
    fn with_end(mut self, end: u32) -> Span {
        self.end = end;
        self
    }
}

/// Longer runs of code without whitespace than this are refused: rnix's
/// tokenizer and tree building are quadratic on such chains (`1+1+1+…`,
/// `x.a.a.a…`, `!!!…`). Real code never comes close; strings and comments
/// do not count.
pub const MAX_RUN: usize = 4_096;

/// More operators than this in one expression (`1 + 1 + …`, `! ! …`), with no
/// `;`, `,` or bracket between them, are refused for the same reason.
pub const MAX_CHAIN: usize = 10_000;

/// Where the file is beyond what rnix parses safely, and why: bracket
/// nesting deeper than [`MAX_NESTING`], or a run of code longer than
/// [`MAX_RUN`]. A cheap scan that skips strings and comments.
fn too_deep(text: &str) -> Option<(usize, String)> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut run_start: Option<usize> = None;
    let mut chain = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        // Most bytes are names: they only lengthen the run.
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' {
            let start = *run_start.get_or_insert(i);
            let word = bytes[i..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'.')
                .count();
            i += word;
            if i - 1 - start >= MAX_RUN {
                return Some((
                    start,
                    format!(
                        "{MAX_RUN} characters of code without a space: too long a chain to parse"
                    ),
                ));
            }
            continue;
        }
        // Comments and strings (their interpolations are rare enough to skip too).
        if b == b'#' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            run_start = None;
            continue;
        }
        if b == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
            run_start = None;
            continue;
        }
        if b == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            run_start = None;
            continue;
        }
        if b == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
            i += 2;
            while i + 1 < bytes.len()
                && !(bytes[i] == b'\'' && bytes[i + 1] == b'\'' && bytes.get(i + 2) != Some(&b'\''))
            {
                i += 1;
            }
            i += 2;
            run_start = None;
            continue;
        }
        // An operator standing alone between spaces continues a chain.
        let standalone = |len: usize| {
            (i == 0 || bytes[i - 1].is_ascii_whitespace())
                && bytes.get(i + len).is_none_or(|c| c.is_ascii_whitespace())
        };
        match b {
            b';' | b',' | b'(' | b')' | b'[' | b']' | b'{' | b'}' => chain = 0,
            // Every `!` (but `!=`) nests a negation, however it is spaced; so
            // does a `-` that does not continue a name (`foo-bar`).
            b'!' if bytes.get(i + 1) != Some(&b'=') => {
                chain += 1;
                if chain > MAX_CHAIN {
                    return Some((i, format!("more than {MAX_CHAIN} operators in one expression: too long a chain to parse")));
                }
            }
            b'-' if i == 0
                || !(bytes[i - 1].is_ascii_alphanumeric() || b"_'".contains(&bytes[i - 1])) =>
            {
                chain += 1;
                if chain > MAX_CHAIN {
                    return Some((i, format!("more than {MAX_CHAIN} operators in one expression: too long a chain to parse")));
                }
            }
            b'+' | b'-' | b'*' | b'/' | b'!' | b'&' | b'|' | b'=' | b'<' | b'>' | b'?' => {
                // Operators are at most three characters: look no further.
                let len = bytes[i..]
                    .iter()
                    .take(4)
                    .take_while(|c| b"+-*/!&|=<>?".contains(c))
                    .count();
                if len < 4 && standalone(len) {
                    chain += 1;
                    if chain > MAX_CHAIN {
                        return Some((i, format!("more than {MAX_CHAIN} operators in one expression: too long a chain to parse")));
                    }
                }
            }
            _ => {}
        }
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some((
                        i,
                        format!("nested too deeply (more than {MAX_NESTING} levels)"),
                    ));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if b.is_ascii_whitespace() {
            run_start = None;
        } else {
            let start = *run_start.get_or_insert(i);
            if i - start >= MAX_RUN {
                return Some((
                    start,
                    format!(
                        "{MAX_RUN} characters of code without a space: too long a chain to parse"
                    ),
                ));
            }
        }
        i += 1;
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

#[cfg(test)]
mod tests {
    use super::contains_ignore_case;

    #[test]
    fn finds_a_needle_in_any_case() {
        assert!(contains_ignore_case("initialPassword = x;", b"passw"));
        assert!(contains_ignore_case("DB_PASSWORD", b"passw"));
        assert!(!contains_ignore_case("pass word", b"passw"));
        assert!(!contains_ignore_case("pas", b"passw"));
        assert!(contains_ignore_case("xpPASSWord", b"passw"));
        assert!(!contains_ignore_case("", b"passw"));
    }
}
