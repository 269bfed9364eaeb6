//! What Nix rejects before evaluating anything, though rnix parses it:
//! undefined variables (outside any `with`), attributes or `let` bindings
//! defined twice, and duplicate function arguments. Nix reports these as
//! errors of the whole file, so dbprov does too.
//!
//! Every file is checked, so the walk goes over rowan's green tree directly:
//! its cursors (the typed AST) allocate a node for each step, which cost as
//! much as parsing. Child positions follow rnix's typed accessors.

use std::borrow::Cow;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashSet};

use rnix::ast;
use rnix::SyntaxKind::*;

use crate::parse::SyntaxError;
use crate::source::FileId;
use crate::syntax::green::{is_expr, Node};

/// Names bound outside every file (Nix's global builtins).
const GLOBALS: &[&str] = &[
    "abort",
    "baseNameOf",
    "break",
    "builtins",
    "derivation",
    "derivationStrict",
    "dirOf",
    "false",
    "fetchGit",
    "fetchMercurial",
    "fetchTarball",
    "fetchTree",
    "fromTOML",
    "import",
    "isNull",
    "map",
    "null",
    "placeholder",
    "removeAttrs",
    "scopedImport",
    "throw",
    "toString",
    "true",
];

/// Errors Nix raises while binding names in `root`.
pub fn binding_errors(root: &ast::Root, file: FileId) -> Vec<SyntaxError> {
    let syntax = rowan::ast::AstNode::syntax(root);
    let green = syntax.green();
    let root = Node {
        green,
        offset: u32::from(syntax.text_range().start()),
    };
    let mut c = Checker {
        file,
        scopes: Vec::new(),
        with_depth: 0,
        errors: Vec::new(),
        depth: 0,
    };
    if let Some(e) = root.nth_expr(0) {
        c.expr(e);
    }
    c.errors
}

/// A static attribute name (`a`, `"a"`); `None` for `${...}` and interpolated strings.
fn static_name<'g>(attr: Node<'g>) -> Option<Cow<'g, str>> {
    match attr.kind() {
        NODE_IDENT => attr.ident_name().map(Cow::Borrowed),
        NODE_STRING => {
            if let Some(plain) = crate::source::plain_string_green(attr.green) {
                return Some(Cow::Borrowed(plain));
            }
            // Escapes and indented strings: rnix's own normalisation, on a
            // tree of just this string.
            let node = rnix::SyntaxNode::new_root(attr.green.to_owned());
            let s = <ast::Str as rowan::ast::AstNode>::cast(node)?;
            match s.normalized_parts().as_slice() {
                [] => Some(Cow::Borrowed("")),
                [ast::InterpolPart::Literal(l)] => Some(Cow::Owned(l.clone())),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The static shape of an attribute set, for Nix's duplicate rules.
enum Shape<'g> {
    /// A set written literally (or created by a dotted path): it can merge.
    Set(BTreeMap<Cow<'g, str>, Shape<'g>>),
    Other,
}

struct Checker<'g> {
    file: FileId,
    scopes: Vec<HashSet<Cow<'g, str>>>,
    with_depth: usize,
    errors: Vec<SyntaxError>,
    depth: usize,
}

/// Deeper syntax trees are bounded by the parser's nesting guard; this keeps
/// the checker's own recursion bounded too.
const MAX_DEPTH: usize = 4_000;

impl<'g> Checker<'g> {
    fn error(&mut self, node: Node<'g>, message: String) {
        self.errors.push(SyntaxError {
            span: node.span(self.file),
            message,
        });
    }

    fn bound(&self, name: &str) -> bool {
        name.starts_with("__")
            || GLOBALS.contains(&name)
            || self.scopes.iter().any(|s| s.contains(name))
    }

    fn expr(&mut self, e: Node<'g>) {
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        self.expr_inner(e);
        self.depth -= 1;
    }

    fn expr_inner(&mut self, e: Node<'g>) {
        match e.kind() {
            NODE_IDENT => {
                if let Some(name) = e.ident_name() {
                    if self.with_depth == 0 && !self.bound(name) {
                        self.error(e, format!("undefined variable '{name}'"));
                    }
                }
            }
            NODE_LET_IN => {
                let names = self.bindings(e, true);
                self.scopes.push(names);
                self.binding_values(e);
                if let Some(body) = e.nth_expr(0) {
                    self.expr(body);
                }
                self.scopes.pop();
            }
            NODE_ATTR_SET => {
                let recursive = e.token(TOKEN_REC).is_some();
                let names = self.bindings(e, recursive);
                if recursive {
                    self.scopes.push(names);
                    self.binding_values(e);
                    self.scopes.pop();
                } else {
                    self.binding_values(e);
                }
            }
            NODE_LAMBDA => self.lambda(e),
            NODE_WITH => {
                if let Some(ns) = e.nth_expr(0) {
                    self.expr(ns);
                }
                self.with_depth += 1;
                if let Some(body) = e.nth_expr(1) {
                    self.expr(body);
                }
                self.with_depth -= 1;
            }
            _ => {
                // Everything else: check the expressions below, in this scope.
                for child in e.children() {
                    if is_expr(child.kind()) {
                        self.expr(child);
                    } else {
                        self.descend(child);
                    }
                }
            }
        }
    }

    fn lambda(&mut self, l: Node<'g>) {
        let mut names = HashSet::new();
        let param = l
            .children()
            .find(|c| matches!(c.kind(), NODE_IDENT_PARAM | NODE_PATTERN));
        match param {
            Some(p) if p.kind() == NODE_IDENT_PARAM => {
                if let Some(n) = p.child(NODE_IDENT).and_then(Node::ident_name) {
                    names.insert(Cow::Borrowed(n));
                }
            }
            Some(p) => {
                let entries: Vec<Node<'g>> = p
                    .children()
                    .filter(|c| c.kind() == NODE_PAT_ENTRY)
                    .collect();
                for entry in &entries {
                    if let Some(n) = entry.child(NODE_IDENT).and_then(Node::ident_name) {
                        if !names.insert(Cow::Borrowed(n)) {
                            self.error(*entry, format!("duplicate formal function argument '{n}'"));
                        }
                    }
                }
                if let Some(b) = p.child(NODE_PAT_BIND).and_then(|b| b.child(NODE_IDENT)) {
                    if let Some(n) = b.ident_name() {
                        if !names.insert(Cow::Borrowed(n)) {
                            self.error(b, format!("duplicate formal function argument '{n}'"));
                        }
                    }
                }
                self.scopes.push(names.clone());
                for entry in &entries {
                    // The identifier is the entry's first expression, its default the second.
                    if let Some(d) = entry.nth_expr(1) {
                        self.expr(d);
                    }
                }
                self.scopes.pop();
            }
            None => {}
        }
        self.scopes.push(names);
        if let Some(body) = l.nth_expr(0) {
            self.expr(body);
        }
        self.scopes.pop();
    }

    /// Expressions inside non-expression nodes (attribute paths, interpolations).
    fn descend(&mut self, node: Node<'g>) {
        if node.kind() == NODE_ATTRPATH {
            // Attribute names are not variables; only `${...}` and interpolations are.
            for attr in node.attrs() {
                match attr.kind() {
                    NODE_DYNAMIC => {
                        if let Some(e) = attr.nth_expr(0) {
                            self.expr(e);
                        }
                    }
                    NODE_STRING => self.expr(attr),
                    _ => {}
                }
            }
            return;
        }
        for child in node.children() {
            if is_expr(child.kind()) {
                self.expr(child);
            } else {
                self.descend(child);
            }
        }
    }

    /// The names a binding block binds, reporting names defined twice; the
    /// names are collected only when `scope` (the block is a scope: `let`, `rec`).
    fn bindings(&mut self, node: Node<'g>, scope: bool) -> HashSet<Cow<'g, str>> {
        let mut shape = BTreeMap::new();
        for entry in node.entries() {
            if entry.kind() == NODE_INHERIT {
                for attr in entry.attrs() {
                    if let Some(n) = static_name(attr) {
                        match shape.entry(n) {
                            Entry::Occupied(o) => {
                                let message = format!("attribute '{}' already defined", o.key());
                                self.error(attr, message);
                            }
                            Entry::Vacant(v) => {
                                v.insert(Shape::Other);
                            }
                        }
                    }
                }
                continue;
            }
            let Some(path) = entry.child(NODE_ATTRPATH) else {
                continue;
            };
            let keys: Vec<Node<'g>> = path.attrs().collect();
            let value = entry.nth_expr(0);
            self.add_path(&mut shape, &keys, value, entry, &mut Vec::new());
        }
        if scope {
            shape.into_keys().collect()
        } else {
            HashSet::new()
        }
    }

    /// Nix's `addAttr`: intermediate names descend into sets; a final name
    /// already defined is an error unless both are sets, which merge one level.
    /// `path` holds the names before `keys`, for messages: like Nix, a name
    /// defined twice is reported with its whole path, a name two merged sets
    /// share with its own name only.
    fn add_path(
        &mut self,
        shape: &mut BTreeMap<Cow<'g, str>, Shape<'g>>,
        keys: &[Node<'g>],
        value: Option<Node<'g>>,
        at: Node<'g>,
        path: &mut Vec<Cow<'g, str>>,
    ) {
        let Some((first, rest)) = keys.split_first() else {
            return;
        };
        // Dynamic names are checked at evaluation time.
        let Some(name) = static_name(*first) else {
            return;
        };
        path.push(name.clone());
        self.add_path_inner(shape, name, rest, value, at, path);
        path.pop();
    }

    fn add_path_inner(
        &mut self,
        shape: &mut BTreeMap<Cow<'g, str>, Shape<'g>>,
        name: Cow<'g, str>,
        rest: &[Node<'g>],
        value: Option<Node<'g>>,
        at: Node<'g>,
        path: &mut Vec<Cow<'g, str>>,
    ) {
        if rest.is_empty() {
            let new_shape = value.map(value_shape).unwrap_or(Shape::Other);
            match (shape.get_mut(&name), new_shape) {
                (None, s) => {
                    shape.insert(name, s);
                }
                (Some(Shape::Set(existing)), Shape::Set(new)) => {
                    for (k, v) in new {
                        match existing.entry(k) {
                            Entry::Occupied(o) => {
                                let message = format!("attribute '{}' already defined", o.key());
                                self.error(at, message);
                            }
                            Entry::Vacant(slot) => {
                                slot.insert(v);
                            }
                        }
                    }
                }
                _ => self.error(
                    at,
                    format!("attribute '{}' already defined", path.join(".")),
                ),
            }
            return;
        }
        let entry = shape
            .entry(name.clone())
            .or_insert_with(|| Shape::Set(BTreeMap::new()));
        match entry {
            Shape::Set(inner) => {
                let mut inner = std::mem::take(inner);
                self.add_path(&mut inner, rest, value, at, path);
                if let Some(Shape::Set(slot)) = shape.get_mut(&name) {
                    *slot = inner;
                }
            }
            Shape::Other => self.error(
                at,
                format!("attribute '{}' already defined", path.join(".")),
            ),
        }
    }

    /// Checks the values of a binding block (and `inherit (e)` sources).
    fn binding_values(&mut self, node: Node<'g>) {
        for entry in node.entries() {
            if entry.kind() == NODE_INHERIT {
                match entry.child(NODE_INHERIT_FROM).and_then(|f| f.nth_expr(0)) {
                    Some(src) => self.expr(src),
                    None => {
                        // `inherit x;` reads `x` from the enclosing scope.
                        for attr in entry.attrs() {
                            if let Some(n) = static_name(attr) {
                                let outer_bound = self.scopes.iter().any(|s| s.contains(&n));
                                if self.with_depth == 0
                                    && !outer_bound
                                    && !GLOBALS.contains(&n.as_ref())
                                    && !n.starts_with("__")
                                {
                                    self.error(attr, format!("undefined variable '{n}'"));
                                }
                            }
                        }
                    }
                }
                continue;
            }
            if let Some(p) = entry.child(NODE_ATTRPATH) {
                self.descend(p);
            }
            if let Some(v) = entry.nth_expr(0) {
                self.expr(v);
            }
        }
    }
}

/// The shape of a value: a literal set's own names, or opaque.
fn value_shape(v: Node<'_>) -> Shape<'_> {
    if v.kind() != NODE_ATTR_SET {
        return Shape::Other;
    }
    let mut shape = BTreeMap::new();
    for entry in v.entries() {
        if entry.kind() == NODE_INHERIT {
            for attr in entry.attrs() {
                if let Some(n) = static_name(attr) {
                    shape.entry(n).or_insert(Shape::Other);
                }
            }
        } else if let Some(first) = entry.child(NODE_ATTRPATH).and_then(|p| p.attrs().next()) {
            if let Some(n) = static_name(first) {
                // Its own duplicates are reported when it is checked.
                shape.entry(n).or_insert(Shape::Set(BTreeMap::new()));
            }
        }
    }
    Shape::Set(shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        let parse = rnix::Root::parse(text);
        assert!(parse.errors().is_empty(), "{text}");
        binding_errors(&parse.tree(), 0)
            .into_iter()
            .map(|e| e.message)
            .collect()
    }

    #[test]
    fn what_nix_rejects() {
        assert_eq!(
            errors("if true then 1 else undefinedvar"),
            vec!["undefined variable 'undefinedvar'"]
        );
        assert_eq!(
            errors("let x = 1; x = 2; in x"),
            vec!["attribute 'x' already defined"]
        );
        assert_eq!(
            errors("{ a.b.c = 1; a = { b.d = 2; }; }"),
            vec!["attribute 'b' already defined"]
        );
        assert_eq!(
            errors("{ a.b.c = 1; a.b.c = 2; }"),
            vec!["attribute 'a.b.c' already defined"]
        );
        assert_eq!(
            errors("{ a.b = 1; a = 2; }"),
            vec!["attribute 'a' already defined"]
        );
        assert_eq!(
            errors("let f = a@{ a }: a; in 1"),
            vec!["duplicate formal function argument 'a'"]
        );
        assert_eq!(errors("let a = 0; in { a = 1; inherit a; }").len(), 1);
        // Messages as `nix-instantiate --parse` (Nix 2.8) words them.
        assert_eq!(errors(r#"{ "a\nb" = 1; "a\nb" = 2; }"#).len(), 1);
        assert_eq!(
            errors("{ a, b ? a, c ? d }: 1"),
            vec!["undefined variable 'd'"]
        );
        assert_eq!(
            errors(r#"x: { x."y" = 1; x.y = 2; }"#),
            vec!["attribute 'x.y' already defined"]
        );
    }

    #[test]
    fn what_nix_accepts() {
        for ok in [
            "{ a = { x = 1; }; a = { y = 2; }; }",
            "{ a = { b.d = 2; }; a.b.c = 1; }",
            "{ a = rec { x = 1; }; a.y = 2; }",
            "with {}; undefinedvar",
            "__add 1 2",
            "{ lib, ... }: let x = y; y = 1; in rec { a = b; b = x; inherit (lib) mkIf; }",
            "let inherit (builtins) map; in map",
            "x: { inherit x; }",
            "{ a ? b, b ? 1 }: a",
            "let inherit ({ x = 1; }) x; in x",
            r#"{ "${"a"}" = 1; a = 2; }"#,
            "a: a.or or 1",
            "with { }; let y = z; in y",
            "let a = { or = 1; }; in a.or",
        ] {
            assert!(errors(ok).is_empty(), "{ok}: {:?}", errors(ok));
        }
    }
}
