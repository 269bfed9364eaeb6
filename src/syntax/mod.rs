//! dbprov's own syntax tree of a file, what the evaluator walks: a flat arena
//! of nodes with spans, built from rnix's tree in the parallel parse phase
//! (`lower`). Rowan's trees take about nine times their source in memory and
//! allocate a cursor for each step; this one takes 24 bytes a node, and
//! identifiers and plain strings are slices of the source it keeps.

pub mod green;
mod lower;

use std::sync::Arc;

pub use lower::lower;
pub use rnix::ast::{BinOpKind, UnaryOpKind};

use crate::source::{FileId, Span};

/// Index of a node in its file's [`FileAst`].
pub type NodeId = u32;

/// "No node" in an optional slot.
const NONE: u32 = u32::MAX;

/// Deeper expressions than this are not lowered: the evaluator stops far
/// earlier (its depth bound), and the parse-time checks stop here too.
pub const MAX_DEPTH: usize = 4_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Kind {
    Int,
    IntOutOfRange,
    Float,
    BadFloat,
    Uri,
    /// A string without interpolation whose text is the source's `a..b`.
    StrSource,
    /// A string without interpolation whose decoded text is `strings[a..b]`.
    StrDecoded,
    /// A string with interpolations: parts `lists[a..a + b]`.
    StrParts,
    /// A literal piece of a string or path: the source's `a..b`.
    TextSource,
    /// A literal piece of a string: `strings[a..b]`.
    TextDecoded,
    /// `${a}`, in a string, a path or as an attribute name.
    Interpol,
    /// A path with parts `lists[a..a + b]` (text pieces and interpolations).
    Path,
    PathHome,
    PathSearch,
    /// Its name is the source's `a..b` (empty when rnix found no identifier token).
    Ident,
    /// `a.path or c`: `b` is an `AttrPath` node.
    Select,
    /// `a ? path`: `b` is an `AttrPath` node.
    HasAttr,
    /// Keys `lists[a..a + b]`.
    AttrPath,
    Apply,
    /// `a: b`, `a` an `IdentParam` or `Pattern` node.
    Lambda,
    /// The name is the source's `a..b`.
    IdentParam,
    /// Entries `lists[a..a + b]` (`PatEntry` nodes), `@` name `c` (an `Ident` node).
    Pattern,
    /// A `Pattern` with `...`.
    PatternEllipsis,
    /// The name is the source's `a..b`, default expression `c`.
    PatEntry,
    /// Entries `lists[a..a + b]`, body `c`.
    LetIn,
    LegacyLet,
    /// Entries `lists[a..a + b]`.
    AttrSet,
    RecAttrSet,
    /// `inherit (a) lists[b..b + c];`
    Inherit,
    /// `lists[a..a + b] = c;`
    Binding,
    List,
    /// `a op b`, the operator's index in `BINARY_OPS` in `c`.
    BinOp,
    /// `op a`, the operator's index in `UNARY_OPS` in `c`.
    UnaryOp,
    Paren,
    With,
    IfElse,
    Assert,
    Error,
    CurPos,
    /// Beyond [`MAX_DEPTH`].
    TooDeep,
}

/// Every kind, by its number (for reading trees back from the cache).
const ALL_KINDS: [Kind; 40] = [
    Kind::Int,
    Kind::IntOutOfRange,
    Kind::Float,
    Kind::BadFloat,
    Kind::Uri,
    Kind::StrSource,
    Kind::StrDecoded,
    Kind::StrParts,
    Kind::TextSource,
    Kind::TextDecoded,
    Kind::Interpol,
    Kind::Path,
    Kind::PathHome,
    Kind::PathSearch,
    Kind::Ident,
    Kind::Select,
    Kind::HasAttr,
    Kind::AttrPath,
    Kind::Apply,
    Kind::Lambda,
    Kind::IdentParam,
    Kind::Pattern,
    Kind::PatternEllipsis,
    Kind::PatEntry,
    Kind::LetIn,
    Kind::LegacyLet,
    Kind::AttrSet,
    Kind::RecAttrSet,
    Kind::Inherit,
    Kind::Binding,
    Kind::List,
    Kind::BinOp,
    Kind::UnaryOp,
    Kind::Paren,
    Kind::With,
    Kind::IfElse,
    Kind::Assert,
    Kind::Error,
    Kind::CurPos,
    Kind::TooDeep,
];

const BINARY_OPS: [BinOpKind; 17] = [
    BinOpKind::Concat,
    BinOpKind::Update,
    BinOpKind::Add,
    BinOpKind::Sub,
    BinOpKind::Mul,
    BinOpKind::Div,
    BinOpKind::And,
    BinOpKind::Equal,
    BinOpKind::Implication,
    BinOpKind::Less,
    BinOpKind::LessOrEq,
    BinOpKind::More,
    BinOpKind::MoreOrEq,
    BinOpKind::NotEqual,
    BinOpKind::Or,
    BinOpKind::PipeRight,
    BinOpKind::PipeLeft,
];

const UNARY_OPS: [UnaryOpKind; 2] = [UnaryOpKind::Invert, UnaryOpKind::Negate];

/// Reads the little-endian encoding of [`FileAst::encode`].
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let piece = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(piece)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    /// A count of items of `size` bytes each, no more than the bytes left hold.
    fn count(&mut self, size: usize) -> Option<usize> {
        let n = self.u32()? as usize;
        (n.checked_mul(size)? <= self.bytes.len() - self.at).then_some(n)
    }
}

#[derive(Clone, Copy, Debug)]
struct Node {
    kind: Kind,
    start: u32,
    end: u32,
    a: u32,
    b: u32,
    c: u32,
}

/// A node as stored, in 16 bytes: `meta` holds the kind (6 bits), two flags
/// and the span's length (24 bits). Most nodes have at most two fields; one
/// with a third (`c`), or a span of 16 MiB or more, keeps `b`, `c` (and its
/// end) in `extra`, where its `b` then points.
#[derive(Clone, Copy, Debug)]
struct Stored {
    start: u32,
    meta: u32,
    a: u32,
    b: u32,
}

const KIND_BITS: u32 = 0x3f;
const HAS_EXTRA: u32 = 1 << 6;
const LONG: u32 = 1 << 7;
const MAX_SHORT_LEN: u32 = (1 << 24) - 1;

/// Identifiers and plain strings are two thirds of the nodes (attribute
/// names, variables, values): one that is short and early enough in its file
/// is not stored — its id holds it. The top bit marks such an id, the next
/// one says which (an identifier: its span is its name; a string in `"`:
/// its text is its span without the quotes), then the text's start (23
/// bits) and length (7 bits).
const INLINE: u32 = 1 << 31;
const INLINE_STRING: u32 = 1 << 30;
const INLINE_MAX_LEN: u32 = (1 << 7) - 1;
/// One less than 23 bits: the last string's id would be `NONE`.
const INLINE_MAX_START: u32 = (1 << 23) - 2;

/// The id of text `start..end` as an identifier or string, when it fits in one.
fn inline_id(string: bool, start: u32, end: u32) -> Option<NodeId> {
    let len = end.checked_sub(start)?;
    let tag = if string {
        INLINE | INLINE_STRING
    } else {
        INLINE
    };
    ((1..=INLINE_MAX_LEN).contains(&len) && start <= INLINE_MAX_START)
        .then_some(tag | start << 7 | len)
}

/// What a node id out of range (only in a forged tree) reads as.
const ERROR_NODE: Node = Node {
    kind: Kind::Error,
    start: 0,
    end: 0,
    a: NONE,
    b: NONE,
    c: NONE,
};

/// The syntax tree of one file that parsed without errors.
pub struct FileAst {
    file: FileId,
    source: Arc<str>,
    /// Decoded string contents that are not slices of the source (escapes,
    /// indented strings).
    strings: String,
    nodes: Vec<Stored>,
    /// The fields of nodes that do not fit in 16 bytes (see [`Stored`]).
    extra: Vec<u32>,
    /// Children of nodes that have many, as ranges into this list.
    lists: Vec<NodeId>,
    /// The file's expression; `None` for a file with none (empty).
    root: Option<NodeId>,
}

/// An expression, as the evaluator sees it.
#[derive(Clone, Copy, Debug)]
pub enum Expr<'a> {
    Int(i64),
    IntOutOfRange,
    Float(f64),
    BadFloat,
    Uri(&'a str),
    Str(Str<'a>),
    /// Absolute or relative: literal pieces and interpolations (see [`FileAst::part`]).
    Path(&'a [NodeId]),
    PathHome,
    PathSearch,
    Ident(&'a str),
    Select {
        base: NodeId,
        path: &'a [NodeId],
        default: Option<NodeId>,
    },
    HasAttr {
        base: NodeId,
        path: &'a [NodeId],
    },
    Apply {
        function: NodeId,
        argument: NodeId,
    },
    Lambda {
        param: NodeId,
        body: NodeId,
    },
    LetIn {
        entries: &'a [NodeId],
        body: NodeId,
    },
    LegacyLet,
    AttrSet {
        recursive: bool,
        entries: &'a [NodeId],
    },
    List(&'a [NodeId]),
    BinOp {
        op: BinOpKind,
        lhs: NodeId,
        rhs: NodeId,
    },
    UnaryOp {
        op: UnaryOpKind,
        operand: NodeId,
    },
    Paren(NodeId),
    With {
        namespace: NodeId,
        body: NodeId,
    },
    IfElse {
        condition: NodeId,
        then: NodeId,
        otherwise: NodeId,
    },
    Assert {
        condition: NodeId,
        body: NodeId,
    },
    Error,
    CurPos,
    TooDeep,
}

/// A string literal.
#[derive(Clone, Copy, Debug)]
pub enum Str<'a> {
    /// No interpolation: the decoded text.
    Plain(&'a str),
    /// Literal pieces and interpolations (see [`FileAst::part`]).
    Parts(&'a [NodeId]),
}

/// A piece of a string or path.
#[derive(Clone, Copy, Debug)]
pub enum Part<'a> {
    Text(&'a str),
    Interpolation(NodeId),
}

/// An attribute name in a binding, a selection or an `inherit`.
#[derive(Clone, Copy, Debug)]
pub enum Attr<'a> {
    Ident(&'a str),
    Str(Str<'a>),
    /// `${e}`.
    Dynamic(NodeId),
}

/// One entry of a binding block.
#[derive(Clone, Copy, Debug)]
pub enum Entry<'a> {
    /// `inherit (from) attrs;`
    Inherit {
        from: Option<NodeId>,
        attrs: &'a [NodeId],
    },
    /// `path = value;`
    Binding { path: &'a [NodeId], value: NodeId },
}

/// A function's parameter.
#[derive(Clone, Copy, Debug)]
pub enum Param<'a> {
    /// `x:`; the name is empty when rnix found none.
    Ident(&'a str),
    /// `{ a, b ? d, ... } @ bind:`
    Pattern {
        entries: &'a [NodeId],
        bind: Option<&'a str>,
        ellipsis: bool,
    },
}

impl FileAst {
    /// The file this tree is of.
    pub fn file(&self) -> FileId {
        self.file
    }

    /// The file's expression; `None` when it has none.
    pub fn root(&self) -> Option<NodeId> {
        self.root
    }

    /// A tree of no file, for the built-in scope.
    pub fn empty(file: FileId) -> FileAst {
        FileAst {
            file,
            source: Arc::from(""),
            strings: String::new(),
            nodes: Vec::new(),
            extra: Vec::new(),
            lists: Vec::new(),
            root: None,
        }
    }

    /// Appends a node (or, for an identifier that fits, makes its id): its id.
    fn push_node(&mut self, n: Node) -> NodeId {
        let inline = match n.kind {
            Kind::Ident if n.a == n.start && n.b == n.end => inline_id(false, n.a, n.b),
            Kind::StrSource if n.a == n.start.wrapping_add(1) && n.end == n.b.wrapping_add(1) => {
                inline_id(true, n.a, n.b)
            }
            _ => None,
        };
        if let Some(id) = inline {
            return id;
        }
        let id = self.nodes.len() as NodeId;
        let len = n.end.saturating_sub(n.start);
        let long = len > MAX_SHORT_LEN;
        let mut meta = n.kind as u32;
        let b = if n.c == NONE && !long {
            meta |= len << 8;
            n.b
        } else {
            let at = self.extra.len() as u32;
            self.extra.extend_from_slice(&[n.b, n.c]);
            meta |= HAS_EXTRA;
            if long {
                meta |= LONG;
                self.extra.push(n.end);
            } else {
                meta |= len << 8;
            }
            at
        };
        self.nodes.push(Stored {
            start: n.start,
            meta,
            a: n.a,
            b,
        });
        id
    }

    fn shrink(&mut self) {
        self.nodes.shrink_to_fit();
        self.extra.shrink_to_fit();
        self.lists.shrink_to_fit();
        self.strings.shrink_to_fit();
    }

    // The accessors are total: a tree read back from the cache is checked
    // only by a checksum, and a forged one must not crash the evaluator.
    fn node(&self, id: NodeId) -> Node {
        if id & INLINE != 0 && id != NONE {
            let a = (id >> 7) & 0x007f_ffff;
            let b = a + (id & INLINE_MAX_LEN);
            return match id & INLINE_STRING {
                0 => Node {
                    kind: Kind::Ident,
                    start: a,
                    end: b,
                    a,
                    b,
                    c: NONE,
                },
                _ => Node {
                    kind: Kind::StrSource,
                    start: a.saturating_sub(1),
                    end: b + 1,
                    a,
                    b,
                    c: NONE,
                },
            };
        }
        let Some(s) = self.nodes.get(id as usize) else {
            return ERROR_NODE;
        };
        let kind = ALL_KINDS
            .get((s.meta & KIND_BITS) as usize)
            .copied()
            .unwrap_or(Kind::Error);
        let short_end = s.start.saturating_add(s.meta >> 8);
        if s.meta & HAS_EXTRA == 0 {
            return Node {
                kind,
                start: s.start,
                end: short_end,
                a: s.a,
                b: s.b,
                c: NONE,
            };
        }
        let extra = |i: u32| {
            (s.b as usize)
                .checked_add(i as usize)
                .and_then(|i| self.extra.get(i))
                .copied()
                .unwrap_or(NONE)
        };
        Node {
            kind,
            start: s.start,
            end: if s.meta & LONG != 0 {
                extra(2)
            } else {
                short_end
            },
            a: s.a,
            b: extra(0),
            c: extra(1),
        }
    }

    pub fn span(&self, id: NodeId) -> Span {
        let n = self.node(id);
        Span {
            file: self.file,
            start: n.start,
            end: n.end,
        }
    }

    fn list(&self, start: u32, len: u32) -> &[NodeId] {
        let end = (start as usize).saturating_add(len as usize);
        self.lists.get(start as usize..end).unwrap_or(&[])
    }

    fn source_text(&self, start: u32, end: u32) -> &str {
        self.source.get(start as usize..end as usize).unwrap_or("")
    }

    fn decoded(&self, start: u32, end: u32) -> &str {
        self.strings.get(start as usize..end as usize).unwrap_or("")
    }

    fn optional(id: u32) -> Option<NodeId> {
        (id != NONE).then_some(id)
    }

    pub fn expr(&self, id: NodeId) -> Expr<'_> {
        let n = self.node(id);
        match n.kind {
            Kind::Int => Expr::Int(((n.b as u64) << 32 | n.a as u64) as i64),
            Kind::IntOutOfRange => Expr::IntOutOfRange,
            Kind::Float => Expr::Float(f64::from_bits((n.b as u64) << 32 | n.a as u64)),
            Kind::BadFloat => Expr::BadFloat,
            Kind::Uri => Expr::Uri(self.source_text(n.start, n.end)),
            Kind::StrSource | Kind::StrDecoded | Kind::StrParts => Expr::Str(self.string(id)),
            Kind::Path => Expr::Path(self.list(n.a, n.b)),
            Kind::PathHome => Expr::PathHome,
            Kind::PathSearch => Expr::PathSearch,
            Kind::Ident => Expr::Ident(self.source_text(n.a, n.b)),
            Kind::Select => Expr::Select {
                base: n.a,
                path: self.attr_path(n.b),
                default: Self::optional(n.c),
            },
            Kind::HasAttr => Expr::HasAttr {
                base: n.a,
                path: self.attr_path(n.b),
            },
            Kind::Apply => Expr::Apply {
                function: n.a,
                argument: n.b,
            },
            Kind::Lambda => Expr::Lambda {
                param: n.a,
                body: n.b,
            },
            Kind::LetIn => Expr::LetIn {
                entries: self.list(n.a, n.b),
                body: n.c,
            },
            Kind::LegacyLet => Expr::LegacyLet,
            Kind::AttrSet | Kind::RecAttrSet => Expr::AttrSet {
                recursive: n.kind == Kind::RecAttrSet,
                entries: self.list(n.a, n.b),
            },
            Kind::List => Expr::List(self.list(n.a, n.b)),
            Kind::BinOp => match BINARY_OPS.get(n.c as usize) {
                Some(&op) => Expr::BinOp {
                    op,
                    lhs: n.a,
                    rhs: n.b,
                },
                None => Expr::Error,
            },
            Kind::UnaryOp => match UNARY_OPS.get(n.c as usize) {
                Some(&op) => Expr::UnaryOp { op, operand: n.a },
                None => Expr::Error,
            },
            Kind::Paren => Expr::Paren(n.a),
            Kind::With => Expr::With {
                namespace: n.a,
                body: n.b,
            },
            Kind::IfElse => Expr::IfElse {
                condition: n.a,
                then: n.b,
                otherwise: n.c,
            },
            Kind::Assert => Expr::Assert {
                condition: n.a,
                body: n.b,
            },
            Kind::CurPos => Expr::CurPos,
            Kind::TooDeep => Expr::TooDeep,
            // Not expressions: only reached through a malformed tree.
            Kind::Error
            | Kind::TextSource
            | Kind::TextDecoded
            | Kind::Interpol
            | Kind::AttrPath
            | Kind::IdentParam
            | Kind::Pattern
            | Kind::PatternEllipsis
            | Kind::PatEntry
            | Kind::Inherit
            | Kind::Binding => Expr::Error,
        }
    }

    fn attr_path(&self, id: NodeId) -> &[NodeId] {
        let n = self.node(id);
        self.list(n.a, n.b)
    }

    /// A string node's content.
    pub fn string(&self, id: NodeId) -> Str<'_> {
        let n = self.node(id);
        match n.kind {
            Kind::StrSource => Str::Plain(self.source_text(n.a, n.b)),
            Kind::StrDecoded => Str::Plain(self.decoded(n.a, n.b)),
            Kind::StrParts => Str::Parts(self.list(n.a, n.b)),
            _ => Str::Plain(""),
        }
    }

    /// A piece of a string or a path.
    pub fn part(&self, id: NodeId) -> Part<'_> {
        let n = self.node(id);
        match n.kind {
            Kind::TextSource => Part::Text(self.source_text(n.a, n.b)),
            Kind::TextDecoded => Part::Text(self.decoded(n.a, n.b)),
            _ => Part::Interpolation(n.a),
        }
    }

    pub fn attr(&self, id: NodeId) -> Attr<'_> {
        let n = self.node(id);
        match n.kind {
            Kind::Ident => Attr::Ident(self.source_text(n.a, n.b)),
            Kind::Interpol => Attr::Dynamic(n.a),
            _ => Attr::Str(self.string(id)),
        }
    }

    pub fn entry(&self, id: NodeId) -> Entry<'_> {
        let n = self.node(id);
        match n.kind {
            Kind::Inherit => Entry::Inherit {
                from: Self::optional(n.a),
                attrs: self.list(n.b, n.c),
            },
            _ => Entry::Binding {
                path: self.list(n.a, n.b),
                value: n.c,
            },
        }
    }

    pub fn param(&self, id: NodeId) -> Param<'_> {
        let n = self.node(id);
        match n.kind {
            Kind::Pattern | Kind::PatternEllipsis => Param::Pattern {
                entries: self.list(n.a, n.b),
                bind: Self::optional(n.c).map(|b| {
                    let b = self.node(b);
                    self.source_text(b.a, b.b)
                }),
                ellipsis: n.kind == Kind::PatternEllipsis,
            },
            _ => Param::Ident(self.source_text(n.a, n.b)),
        }
    }

    /// The `@` name of a pattern parameter (an identifier node).
    pub fn pattern_bind(&self, param: NodeId) -> Option<NodeId> {
        let n = self.node(param);
        match n.kind {
            Kind::Pattern | Kind::PatternEllipsis => Self::optional(n.c),
            _ => None,
        }
    }

    /// An identifier node's name (empty when rnix found none).
    pub fn ident_name(&self, id: NodeId) -> &str {
        let n = self.node(id);
        match n.kind {
            Kind::Ident => self.source_text(n.a, n.b),
            _ => "",
        }
    }

    /// A pattern entry's name and default.
    pub fn pat_entry(&self, id: NodeId) -> (&str, Option<NodeId>) {
        let n = self.node(id);
        (self.source_text(n.a, n.b), Self::optional(n.c))
    }

    /// Appends the tree (without its source) to `out`, for the cache: its
    /// arrays as they are in memory (little-endian words).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let words = |out: &mut Vec<u8>, ws: &mut dyn Iterator<Item = u32>, n: usize| {
            out.extend_from_slice(&(n as u32).to_le_bytes());
            for w in ws {
                out.extend_from_slice(&w.to_le_bytes());
            }
        };
        let nodes = &mut self.nodes.iter().flat_map(|n| [n.start, n.meta, n.a, n.b]);
        words(out, nodes, self.nodes.len());
        words(out, &mut self.extra.iter().copied(), self.extra.len());
        words(out, &mut self.lists.iter().copied(), self.lists.len());
        out.extend_from_slice(&(self.strings.len() as u32).to_le_bytes());
        out.extend_from_slice(self.strings.as_bytes());
        out.extend_from_slice(&self.root.unwrap_or(NONE).to_le_bytes());
    }

    /// Reads a tree written by [`FileAst::encode`] for `file`, whose text is
    /// `source`; also how many bytes it took. `None` when it is malformed.
    /// Nothing in it is trusted: the accessors read any value safely.
    pub fn decode(bytes: &[u8], file: FileId, source: Arc<str>) -> Option<(FileAst, usize)> {
        let mut r = Reader { bytes, at: 0 };
        let words = |r: &mut Reader, per_item: usize| -> Option<Vec<u32>> {
            let n = r.count(4 * per_item)?;
            let raw = r.take(n * 4 * per_item)?;
            Some(
                raw.chunks_exact(4)
                    .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
                    .collect(),
            )
        };
        let nodes = words(&mut r, 4)?
            .chunks_exact(4)
            .map(|w| Stored {
                start: w[0],
                meta: w[1],
                a: w[2],
                b: w[3],
            })
            .collect::<Vec<_>>();
        let extra = words(&mut r, 1)?;
        let lists = words(&mut r, 1)?;
        let len = r.u32()? as usize;
        let strings = String::from_utf8(r.take(len)?.to_vec()).ok()?;
        let root = match r.u32()? {
            NONE => None,
            id if (id as usize) < nodes.len() || id & INLINE != 0 => Some(id),
            _ => return None,
        };
        let tree = FileAst {
            file,
            source,
            strings,
            nodes,
            extra,
            lists,
            root,
        };
        Some((tree, r.at))
    }

    /// Memory this tree takes, in bytes (without the source it shares).
    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Stored>()
            + self.extra.capacity() * 4
            + self.lists.capacity() * 4
            + self.strings.capacity()
    }
}

/// Parses `text` as file `file` on its own (tests, standalone evaluation):
/// rnix's errors when it has any.
pub fn parse(file: FileId, text: &str) -> Result<FileAst, String> {
    let parse = rnix::Root::parse(text);
    if let Some(e) = parse.errors().first() {
        return Err(e.to_string());
    }
    Ok(lower(file, Arc::from(text), parse.syntax().green()))
}

#[cfg(test)]
mod tests;
