//! Source files, spans and line/column conversion.

use std::path::PathBuf;
use std::sync::Arc;

/// Index of a file in the analysis' file table.
pub type FileId = u32;

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// A span for values that have no place in the scanned sources (built-in defaults).
    pub const DETACHED: Span = Span {
        file: FileId::MAX,
        start: 0,
        end: 0,
    };

    pub fn new(file: FileId, range: rnix::TextRange) -> Span {
        Span {
            file,
            start: range.start().into(),
            end: range.end().into(),
        }
    }

    pub fn of(file: FileId, node: &rnix::SyntaxNode) -> Span {
        Span::new(file, node.text_range())
    }

    pub fn is_detached(&self) -> bool {
        self.file == FileId::MAX
    }
}

/// One scanned file: its path relative to the root and its text.
#[derive(Debug)]
pub struct SourceFile {
    pub id: FileId,
    /// Path relative to the root, with `/` separators.
    pub rel_path: String,
    pub abs_path: PathBuf,
    pub text: Arc<str>,
    /// Where each line starts, computed when first asked: most files get
    /// no diagnostic.
    line_starts: std::sync::OnceLock<Vec<u32>>,
}

/// A 1-based line and column (columns count characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
}

impl SourceFile {
    fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| {
            let mut starts = vec![0u32];
            starts.extend(
                self.text
                    .bytes()
                    .enumerate()
                    .filter(|(_, b)| *b == b'\n')
                    .map(|(i, _)| i as u32 + 1),
            );
            starts
        })
    }

    pub fn new(id: FileId, rel_path: String, abs_path: PathBuf, text: Arc<str>) -> SourceFile {
        SourceFile {
            id,
            rel_path,
            abs_path,
            text,
            line_starts: std::sync::OnceLock::new(),
        }
    }

    /// The 0-based line holding a byte offset.
    pub fn line_index(&self, offset: u32) -> usize {
        let offset = offset.min(self.text.len() as u32);
        match self.line_starts().binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// The byte range of lines `first..=last` (0-based, clamped), newlines included.
    pub fn lines_range(&self, first: usize, last: usize) -> std::ops::Range<usize> {
        let count = self.line_starts().len();
        let start = self.line_starts()[first.min(count - 1)] as usize;
        let end = self
            .line_starts()
            .get(last.saturating_add(1))
            .map_or(self.text.len(), |&e| e as usize);
        start..end.max(start)
    }

    /// Converts a byte offset to a 1-based line and character column.
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = offset.min(self.text.len() as u32);
        let line = self.line_index(offset);
        let start = self.line_starts()[line] as usize;
        let mut end = offset as usize;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let column = self.text[start..end].chars().count() as u32 + 1;
        LineCol {
            line: line as u32 + 1,
            column,
        }
    }

    /// The directory holding this file, for resolving relative paths.
    pub fn dir(&self) -> PathBuf {
        self.abs_path
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_from_one() {
        let f = SourceFile::new(0, "a.nix".into(), "a.nix".into(), "ab\né x\n".into());
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(3), LineCol { line: 2, column: 1 });
        // 'é' is two bytes but one column.
        assert_eq!(f.line_col(6), LineCol { line: 2, column: 3 });
    }
}
