//! Rowan's green tree read directly, with offsets: its cursors (rnix's typed
//! AST) allocate a node for every step. Child positions follow rnix's typed
//! accessors (`nth::<Expr>`, `children::<Attr>`, …).

use rnix::{NixLanguage, SyntaxKind, SyntaxKind::*};
use rowan::{GreenNodeData, GreenTokenData, Language, NodeOrToken};

/// A green node and where it starts in the file.
#[derive(Clone, Copy)]
pub struct Node<'g> {
    pub green: &'g GreenNodeData,
    pub offset: u32,
}

impl<'g> Node<'g> {
    pub fn kind(self) -> SyntaxKind {
        NixLanguage::kind_from_raw(self.green.kind())
    }

    /// Child nodes and tokens, each with where it starts in the file.
    pub fn elements(
        self,
    ) -> impl Iterator<Item = NodeOrToken<Node<'g>, (u32, &'g GreenTokenData)>> {
        let mut offset = self.offset;
        self.green.children().map(move |child| {
            let at = offset;
            offset += u32::from(child.text_len());
            match child {
                NodeOrToken::Node(green) => NodeOrToken::Node(Node { green, offset: at }),
                NodeOrToken::Token(t) => NodeOrToken::Token((at, t)),
            }
        })
    }

    pub fn children(self) -> impl Iterator<Item = Node<'g>> {
        self.elements().filter_map(NodeOrToken::into_node)
    }

    pub fn child(self, kind: SyntaxKind) -> Option<Node<'g>> {
        self.children().find(|c| c.kind() == kind)
    }

    pub fn token(self, kind: SyntaxKind) -> Option<&'g GreenTokenData> {
        self.find_token(|k| (k == kind).then_some(()))
            .map(|(_, t, ())| t)
    }

    /// The first child token whose kind `f` accepts, with its offset.
    pub fn find_token<T>(
        self,
        f: impl Fn(SyntaxKind) -> Option<T>,
    ) -> Option<(u32, &'g GreenTokenData, T)> {
        self.elements()
            .filter_map(NodeOrToken::into_token)
            .find_map(|(at, t)| f(NixLanguage::kind_from_raw(t.kind())).map(|x| (at, t, x)))
    }

    /// The `n`th child that is an expression (rnix's `nth::<Expr>`).
    pub fn nth_expr(self, n: usize) -> Option<Node<'g>> {
        self.children().filter(|c| is_expr(c.kind())).nth(n)
    }

    /// Children that are attribute names (`Attr`: identifiers, strings, `${…}`).
    pub fn attrs(self) -> impl Iterator<Item = Node<'g>> {
        self.children()
            .filter(|c| matches!(c.kind(), NODE_IDENT | NODE_DYNAMIC | NODE_STRING))
    }

    /// Children that are bindings (`Entry`: `inherit` or `path = value;`).
    pub fn entries(self) -> impl Iterator<Item = Node<'g>> {
        self.children()
            .filter(|c| matches!(c.kind(), NODE_INHERIT | NODE_ATTRPATH_VALUE))
    }
}

/// The node kinds rnix's `Expr` casts from.
pub fn is_expr(kind: SyntaxKind) -> bool {
    matches!(
        kind,
        NODE_APPLY
            | NODE_ASSERT
            | NODE_ERROR
            | NODE_IF_ELSE
            | NODE_SELECT
            | NODE_STRING
            | NODE_PATH_ABS
            | NODE_PATH_REL
            | NODE_PATH_HOME
            | NODE_PATH_SEARCH
            | NODE_LITERAL
            | NODE_LAMBDA
            | NODE_LEGACY_LET
            | NODE_LET_IN
            | NODE_LIST
            | NODE_BIN_OP
            | NODE_PAREN
            | NODE_ROOT
            | NODE_ATTR_SET
            | NODE_UNARY_OP
            | NODE_IDENT
            | NODE_WITH
            | NODE_HAS_ATTR
            | NODE_CUR_POS
    )
}

/// The text of a plain double-quoted string literal (`"abc"`: no escapes, no
/// interpolation), read straight from its green node's token — the common
/// case, without rnix's general (and slower) normalisation. `None` for
/// anything else.
pub fn plain_string(s: &GreenNodeData) -> Option<&str> {
    let kind = |t: &GreenTokenData| NixLanguage::kind_from_raw(t.kind());
    let mut children = s.children();
    let start = children.next()?.into_token()?;
    if kind(start) != TOKEN_STRING_START || start.text() != "\"" {
        return None;
    }
    let next = children.next()?.into_token()?;
    let (content, end) = if kind(next) == TOKEN_STRING_END {
        (None, next)
    } else {
        (Some(next), children.next()?.into_token()?)
    };
    if kind(end) != TOKEN_STRING_END || children.next().is_some() {
        return None;
    }
    match content {
        None => Some(""),
        Some(c) if kind(c) == TOKEN_STRING_CONTENT && !c.text().contains(['\\', '$']) => {
            Some(c.text())
        }
        _ => None,
    }
}

#[cfg(test)]
mod plain_string_tests {
    use super::plain_string as plain_string_green;
    use rnix::ast;

    fn first_str(text: &str) -> ast::Str {
        let root = rnix::Root::parse(text).tree();
        match root.expr() {
            Some(ast::Expr::Str(s)) => s,
            other => panic!("{other:?}"),
        }
    }

    fn plain_string(s: &ast::Str) -> Option<String> {
        plain_string_green(rowan::ast::AstNode::syntax(s).green()).map(str::to_string)
    }

    #[test]
    fn only_plain_strings_take_the_fast_path() {
        assert_eq!(plain_string(&first_str("\"abc\"")), Some("abc".to_string()));
        assert_eq!(plain_string(&first_str("\"\"")), Some(String::new()));
        assert_eq!(plain_string(&first_str("\"a\\nb\"")), None);
        assert_eq!(plain_string(&first_str("\"a${x}b\"")), None);
        assert_eq!(plain_string(&first_str("''abc''")), None);
    }
}
