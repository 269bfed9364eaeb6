//! Builds a [`FileAst`] from rnix's green tree, one walk, in the parse thread.
//! Children are found where rnix's typed accessors find them.

use std::sync::Arc;

use rnix::SyntaxKind::*;
use rowan::{GreenNodeData, NodeOrToken};

use super::green::{is_expr, Node as Green};
use super::{FileAst, Kind, Node, NodeId, BINARY_OPS, MAX_DEPTH, NONE, UNARY_OPS};
use crate::source::FileId;

/// Lowers the tree of a file that parsed without errors (`root` is its
/// `NODE_ROOT`, `source` its text).
pub fn lower(file: FileId, source: Arc<str>, root: &GreenNodeData) -> FileAst {
    let mut l = Lowering {
        ast: FileAst {
            source,
            ..FileAst::empty(file)
        },
        depth: 0,
    };
    let root = Green {
        green: root,
        offset: 0,
    };
    if let Some(e) = root.nth_expr(0) {
        let id = l.expr(e);
        l.ast.root = Some(id);
    }
    l.ast.shrink();
    l.ast
}

struct Lowering {
    ast: FileAst,
    depth: usize,
}

impl Lowering {
    fn push(&mut self, kind: Kind, at: Green, a: u32, b: u32, c: u32) -> NodeId {
        let end = at.offset + u32::from(at.green.text_len());
        self.push_at(kind, at.offset, end, a, b, c)
    }

    fn push_at(&mut self, kind: Kind, start: u32, end: u32, a: u32, b: u32, c: u32) -> NodeId {
        self.ast.push_node(Node {
            kind,
            start,
            end,
            a,
            b,
            c,
        })
    }

    /// Appends `ids` to the shared list: `(start, len)`.
    fn list(&mut self, ids: Vec<NodeId>) -> (u32, u32) {
        let start = self.ast.lists.len() as u32;
        self.ast.lists.extend_from_slice(&ids);
        (start, ids.len() as u32)
    }

    fn decoded(&mut self, text: &str) -> (u32, u32) {
        let start = self.ast.strings.len() as u32;
        self.ast.strings.push_str(text);
        (start, self.ast.strings.len() as u32)
    }

    /// An expression child that may be missing (a malformed tree).
    fn expr_opt(&mut self, e: Option<Green>, parent: Green) -> NodeId {
        match e {
            Some(e) => self.expr(e),
            None => self.push_at(Kind::Error, parent.offset, parent.offset, 0, 0, 0),
        }
    }

    fn expr(&mut self, e: Green) -> NodeId {
        if self.depth >= MAX_DEPTH {
            return self.push(Kind::TooDeep, e, 0, 0, 0);
        }
        self.depth += 1;
        let id = self.expr_inner(e);
        self.depth -= 1;
        id
    }

    fn expr_inner(&mut self, e: Green) -> NodeId {
        match e.kind() {
            NODE_LITERAL => self.literal(e),
            NODE_STRING => self.string(e),
            NODE_PATH_ABS | NODE_PATH_REL => self.path(e),
            NODE_PATH_HOME => self.push(Kind::PathHome, e, 0, 0, 0),
            NODE_PATH_SEARCH => self.push(Kind::PathSearch, e, 0, 0, 0),
            NODE_IDENT => self.ident(e),
            NODE_SELECT => {
                let base = self.expr_opt(e.nth_expr(0), e);
                let path = self.attr_path(e.child(NODE_ATTRPATH), e);
                let default = e.nth_expr(1).map_or(NONE, |d| self.expr(d));
                self.push(Kind::Select, e, base, path, default)
            }
            NODE_HAS_ATTR => {
                let base = self.expr_opt(e.nth_expr(0), e);
                let path = self.attr_path(e.child(NODE_ATTRPATH), e);
                self.push(Kind::HasAttr, e, base, path, NONE)
            }
            NODE_APPLY => {
                let f = self.expr_opt(e.nth_expr(0), e);
                let arg = self.expr_opt(e.nth_expr(1), e);
                self.push(Kind::Apply, e, f, arg, NONE)
            }
            NODE_LAMBDA => {
                let param = match e
                    .children()
                    .find(|c| matches!(c.kind(), NODE_IDENT_PARAM | NODE_PATTERN))
                {
                    Some(p) => self.param(p),
                    None => self.push_at(Kind::Error, e.offset, e.offset, 0, 0, 0),
                };
                let body = self.expr_opt(e.nth_expr(0), e);
                self.push(Kind::Lambda, e, param, body, NONE)
            }
            NODE_LET_IN => {
                let (start, len) = self.entries(e);
                let body = self.expr_opt(e.nth_expr(0), e);
                self.push(Kind::LetIn, e, start, len, body)
            }
            NODE_LEGACY_LET => self.push(Kind::LegacyLet, e, 0, 0, 0),
            NODE_ATTR_SET => {
                let (start, len) = self.entries(e);
                let kind = match e.token(TOKEN_REC) {
                    Some(_) => Kind::RecAttrSet,
                    None => Kind::AttrSet,
                };
                self.push(kind, e, start, len, NONE)
            }
            NODE_LIST => {
                let items: Vec<Green> = e.children().filter(|c| is_expr(c.kind())).collect();
                let ids = items.into_iter().map(|i| self.expr(i)).collect();
                let (start, len) = self.list(ids);
                self.push(Kind::List, e, start, len, NONE)
            }
            NODE_BIN_OP => {
                let op = e.find_token(|k| {
                    rnix::ast::BinOpKind::from_kind(k)
                        .and_then(|op| BINARY_OPS.iter().position(|o| *o == op))
                });
                let lhs = self.expr_opt(e.nth_expr(0), e);
                let rhs = self.expr_opt(e.nth_expr(1), e);
                match op {
                    Some((_, _, op)) => self.push(Kind::BinOp, e, lhs, rhs, op as u32),
                    None => self.push(Kind::Error, e, 0, 0, 0),
                }
            }
            NODE_UNARY_OP => {
                let op = e.find_token(|k| {
                    rnix::ast::UnaryOpKind::from_kind(k)
                        .and_then(|op| UNARY_OPS.iter().position(|o| *o == op))
                });
                let operand = self.expr_opt(e.nth_expr(0), e);
                match op {
                    Some((_, _, op)) => self.push(Kind::UnaryOp, e, operand, NONE, op as u32),
                    None => self.push(Kind::Error, e, 0, 0, 0),
                }
            }
            NODE_PAREN => {
                let inner = self.expr_opt(e.nth_expr(0), e);
                self.push(Kind::Paren, e, inner, NONE, NONE)
            }
            NODE_ROOT => self.expr_opt(e.nth_expr(0), e),
            NODE_WITH => {
                let ns = self.expr_opt(e.nth_expr(0), e);
                let body = self.expr_opt(e.nth_expr(1), e);
                self.push(Kind::With, e, ns, body, NONE)
            }
            NODE_IF_ELSE => {
                let c = self.expr_opt(e.nth_expr(0), e);
                let t = self.expr_opt(e.nth_expr(1), e);
                let f = self.expr_opt(e.nth_expr(2), e);
                self.push(Kind::IfElse, e, c, t, f)
            }
            NODE_ASSERT => {
                let c = self.expr_opt(e.nth_expr(0), e);
                let body = self.expr_opt(e.nth_expr(1), e);
                self.push(Kind::Assert, e, c, body, NONE)
            }
            NODE_CUR_POS => self.push(Kind::CurPos, e, 0, 0, 0),
            _ => self.push(Kind::Error, e, 0, 0, 0),
        }
    }

    fn literal(&mut self, e: Green) -> NodeId {
        let token = e.find_token(|k| match k {
            TOKEN_INTEGER | TOKEN_FLOAT | TOKEN_URI => Some(k),
            _ => None,
        });
        let Some((_, token, kind)) = token else {
            return self.push(Kind::Error, e, 0, 0, 0);
        };
        match kind {
            TOKEN_INTEGER => match token.text().parse::<i64>() {
                Ok(n) => {
                    let bits = n as u64;
                    self.push(Kind::Int, e, bits as u32, (bits >> 32) as u32, NONE)
                }
                Err(_) => self.push(Kind::IntOutOfRange, e, 0, 0, 0),
            },
            TOKEN_FLOAT => match token.text().parse::<f64>() {
                Ok(x) => {
                    let bits = x.to_bits();
                    self.push(Kind::Float, e, bits as u32, (bits >> 32) as u32, NONE)
                }
                Err(_) => self.push(Kind::BadFloat, e, 0, 0, 0),
            },
            _ => self.push(Kind::Uri, e, 0, 0, 0),
        }
    }

    /// An identifier (an expression or an attribute name): its name is its
    /// `TOKEN_IDENT`, empty without one (as rnix's `ident_token`).
    fn ident(&mut self, e: Green) -> NodeId {
        let (a, b) = match e.find_token(|k| (k == TOKEN_IDENT).then_some(())) {
            Some((at, t, ())) => (at, at + u32::from(t.text_len())),
            None => (e.offset, e.offset),
        };
        self.push(Kind::Ident, e, a, b, NONE)
    }

    fn string(&mut self, e: Green) -> NodeId {
        if let Some(plain) = super::green::plain_string(e.green) {
            // The content token (if any) is the string's text as written.
            let at = e
                .find_token(|k| (k == TOKEN_STRING_CONTENT).then_some(()))
                .map_or(e.offset, |(at, _, ())| at);
            return self.push(Kind::StrSource, e, at, at + plain.len() as u32, NONE);
        }
        // Escapes, indentation, interpolation: rnix's own normalisation, on
        // a tree of just this string; its interpolations are this node's
        // `NODE_INTERPOL` children, in order.
        let node = rnix::SyntaxNode::new_root(e.green.to_owned());
        let Some(s) = <rnix::ast::Str as rowan::ast::AstNode>::cast(node) else {
            return self.push(Kind::Error, e, 0, 0, 0);
        };
        let mut interpolations = e.children().filter(|c| c.kind() == NODE_INTERPOL);
        let parts = s.normalized_parts();
        if let [] | [rnix::ast::InterpolPart::Literal(_)] = parts.as_slice() {
            let text = match parts.first() {
                Some(rnix::ast::InterpolPart::Literal(l)) => l.as_str(),
                _ => "",
            };
            let (a, b) = self.decoded(text);
            return self.push(Kind::StrDecoded, e, a, b, NONE);
        }
        let mut ids = Vec::with_capacity(parts.len());
        for part in parts {
            match part {
                rnix::ast::InterpolPart::Literal(l) => {
                    let (a, b) = self.decoded(&l);
                    ids.push(self.push_at(Kind::TextDecoded, e.offset, e.offset, a, b, NONE));
                }
                rnix::ast::InterpolPart::Interpolation(_) => match interpolations.next() {
                    Some(i) => ids.push(self.interpolation(i)),
                    None => return self.push(Kind::Error, e, 0, 0, 0),
                },
            }
        }
        let (start, len) = self.list(ids);
        self.push(Kind::StrParts, e, start, len, NONE)
    }

    /// `${e}` (a `NODE_INTERPOL` or `NODE_DYNAMIC`).
    fn interpolation(&mut self, i: Green) -> NodeId {
        let inner = self.expr_opt(i.nth_expr(0), i);
        self.push(Kind::Interpol, i, inner, NONE, NONE)
    }

    /// A path's pieces: its tokens as written, and interpolations.
    fn path(&mut self, e: Green) -> NodeId {
        let mut ids = Vec::new();
        let mut offset = e.offset;
        let children: Vec<_> = e.green.children().collect();
        for child in children {
            let at = offset;
            offset += u32::from(child.text_len());
            match child {
                NodeOrToken::Token(_) => {
                    ids.push(self.push_at(Kind::TextSource, at, offset, at, offset, NONE))
                }
                NodeOrToken::Node(green) => {
                    ids.push(self.interpolation(Green { green, offset: at }))
                }
            }
        }
        let (start, len) = self.list(ids);
        self.push(Kind::Path, e, start, len, NONE)
    }

    /// An attribute name: an identifier, a string, or `${e}`.
    fn attr(&mut self, a: Green) -> NodeId {
        match a.kind() {
            NODE_IDENT => self.ident(a),
            NODE_STRING => self.string(a),
            NODE_DYNAMIC => self.interpolation(a),
            _ => self.push(Kind::Error, a, 0, 0, 0),
        }
    }

    fn attrs(&mut self, parent: Green) -> (u32, u32) {
        let attrs: Vec<Green> = parent.attrs().collect();
        let ids = attrs.into_iter().map(|a| self.attr(a)).collect();
        self.list(ids)
    }

    fn attr_path(&mut self, path: Option<Green>, parent: Green) -> NodeId {
        match path {
            Some(p) => {
                let (start, len) = self.attrs(p);
                self.push(Kind::AttrPath, p, start, len, NONE)
            }
            None => self.push_at(Kind::AttrPath, parent.offset, parent.offset, 0, 0, NONE),
        }
    }

    /// The entries of a binding block, as a list.
    fn entries(&mut self, block: Green) -> (u32, u32) {
        let entries: Vec<Green> = block.entries().collect();
        let ids = entries.into_iter().map(|e| self.entry(e)).collect();
        self.list(ids)
    }

    fn entry(&mut self, e: Green) -> NodeId {
        if e.kind() == NODE_INHERIT {
            let from = match e.child(NODE_INHERIT_FROM).and_then(|f| f.nth_expr(0)) {
                Some(f) => self.expr(f),
                None => NONE,
            };
            let (start, len) = self.attrs(e);
            return self.push(Kind::Inherit, e, from, start, len);
        }
        let (start, len) = match e.child(NODE_ATTRPATH) {
            Some(p) => self.attrs(p),
            None => (0, 0),
        };
        let value = self.expr_opt(e.nth_expr(0), e);
        self.push(Kind::Binding, e, start, len, value)
    }

    fn param(&mut self, p: Green) -> NodeId {
        if p.kind() == NODE_IDENT_PARAM {
            let (a, b) = self.name_of(p.nth_expr(0), p);
            return self.push(Kind::IdentParam, p, a, b, NONE);
        }
        let entries: Vec<Green> = p
            .children()
            .filter(|c| c.kind() == NODE_PAT_ENTRY)
            .collect();
        let ids = entries
            .into_iter()
            .map(|entry| {
                let (a, b) = self.name_of(entry.nth_expr(0), entry);
                let default = entry.nth_expr(1).map_or(NONE, |d| self.expr(d));
                self.push(Kind::PatEntry, entry, a, b, default)
            })
            .collect();
        let (start, len) = self.list(ids);
        let bind = match p.child(NODE_PAT_BIND).and_then(|b| b.nth_expr(0)) {
            Some(ident) if ident.kind() == NODE_IDENT => self.ident(ident),
            _ => NONE,
        };
        let kind = match p.token(TOKEN_ELLIPSIS) {
            Some(_) => Kind::PatternEllipsis,
            None => Kind::Pattern,
        };
        self.push(kind, p, start, len, bind)
    }

    /// The source range of an identifier's name (empty when there is none).
    fn name_of(&self, ident: Option<Green>, parent: Green) -> (u32, u32) {
        ident
            .filter(|i| i.kind() == NODE_IDENT)
            .and_then(|i| i.find_token(|k| (k == TOKEN_IDENT).then_some(())))
            .map_or((parent.offset, parent.offset), |(at, t, ())| {
                (at, at + u32::from(t.text_len()))
            })
    }
}
