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

    /// Child nodes and tokens, with their offsets.
    pub fn elements(self) -> impl Iterator<Item = NodeOrToken<Node<'g>, &'g GreenTokenData>> {
        let mut offset = self.offset;
        self.green.children().map(move |child| {
            let at = offset;
            offset += u32::from(child.text_len());
            match child {
                NodeOrToken::Node(green) => NodeOrToken::Node(Node { green, offset: at }),
                NodeOrToken::Token(t) => NodeOrToken::Token(t),
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
        self.elements()
            .filter_map(NodeOrToken::into_token)
            .find(|t| NixLanguage::kind_from_raw(t.kind()) == kind)
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

impl<'g> Node<'g> {
    /// Child tokens, each with where it starts in the file.
    pub fn tokens_at(self) -> impl Iterator<Item = (u32, &'g GreenTokenData)> {
        let mut offset = self.offset;
        self.green.children().filter_map(move |child| {
            let at = offset;
            offset += u32::from(child.text_len());
            child.into_token().map(|t| (at, t))
        })
    }

    /// The first child token whose kind `f` accepts, with its offset.
    pub fn find_token<T>(
        self,
        f: impl Fn(SyntaxKind) -> Option<T>,
    ) -> Option<(u32, &'g GreenTokenData, T)> {
        self.tokens_at()
            .find_map(|(at, t)| f(NixLanguage::kind_from_raw(t.kind())).map(|x| (at, t, x)))
    }
}
