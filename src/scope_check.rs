//! What Nix rejects before evaluating anything, though rnix parses it:
//! undefined variables (outside any `with`), attributes or `let` bindings
//! defined twice, and duplicate function arguments. Nix reports these as
//! errors of the whole file, so dbprov does too.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashSet};

use rnix::ast::{self, HasEntry};
use rowan::ast::AstNode;

use crate::parse::SyntaxError;
use crate::source::{FileId, Span};

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
    let mut c = Checker {
        file,
        scopes: Vec::new(),
        with_depth: 0,
        errors: Vec::new(),
        depth: 0,
    };
    if let Some(e) = root.expr() {
        c.expr(&e);
    }
    c.errors
}

/// The static shape of an attribute set, for Nix's duplicate rules.
enum Shape {
    /// A set written literally (or created by a dotted path): it can merge.
    Set(BTreeMap<String, Shape>),
    Other,
}

struct Checker {
    file: FileId,
    scopes: Vec<HashSet<String>>,
    with_depth: usize,
    errors: Vec<SyntaxError>,
    depth: usize,
}

/// Deeper syntax trees are bounded by the parser's nesting guard; this keeps
/// the checker's own recursion bounded too.
const MAX_DEPTH: usize = 4_000;

fn ident_name(i: &ast::Ident) -> Option<String> {
    i.ident_token().map(|t| t.text().to_string())
}

/// A static attribute name (`a`, `"a"`); `None` for `${...}` and interpolated strings.
fn static_name(a: &ast::Attr) -> Option<String> {
    match a {
        ast::Attr::Ident(i) => ident_name(i),
        ast::Attr::Str(s) => {
            if let Some(plain) = crate::source::plain_string(s) {
                return Some(plain);
            }
            let parts = s.normalized_parts();
            match parts.as_slice() {
                [] => Some(String::new()),
                [ast::InterpolPart::Literal(l)] => Some(l.clone()),
                _ => None,
            }
        }
        ast::Attr::Dynamic(_) => None,
    }
}

impl Checker {
    fn error(&mut self, node: &rnix::SyntaxNode, message: String) {
        self.errors.push(SyntaxError {
            span: Span::of(self.file, node),
            message,
        });
    }

    fn bound(&self, name: &str) -> bool {
        name.starts_with("__")
            || GLOBALS.contains(&name)
            || self.scopes.iter().any(|s| s.contains(name))
    }

    fn expr(&mut self, e: &ast::Expr) {
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        self.expr_inner(e);
        self.depth -= 1;
    }

    fn expr_inner(&mut self, e: &ast::Expr) {
        match e {
            ast::Expr::Ident(i) => {
                // Read in place: most identifiers are bound, and need no copy.
                if let Some(token) = i.ident_token() {
                    let name = token.text();
                    if self.with_depth == 0 && !self.bound(name) {
                        self.error(i.syntax(), format!("undefined variable '{name}'"));
                    }
                }
            }
            ast::Expr::LetIn(l) => {
                let names = self.bindings(l, true);
                self.scopes.push(names);
                self.binding_values(l);
                if let Some(b) = l.body() {
                    self.expr(&b);
                }
                self.scopes.pop();
            }
            ast::Expr::AttrSet(s) => {
                let recursive = s.rec_token().is_some();
                let names = self.bindings(s, recursive);
                if recursive {
                    self.scopes.push(names);
                    self.binding_values(s);
                    self.scopes.pop();
                } else {
                    self.binding_values(s);
                }
            }
            ast::Expr::Lambda(l) => {
                let mut names = HashSet::new();
                match l.param() {
                    Some(ast::Param::IdentParam(p)) => {
                        if let Some(n) = p.ident().as_ref().and_then(ident_name) {
                            names.insert(n);
                        }
                    }
                    Some(ast::Param::Pattern(p)) => {
                        for entry in p.pat_entries() {
                            if let Some(n) = entry.ident().as_ref().and_then(ident_name) {
                                if !names.insert(n.clone()) {
                                    self.error(
                                        entry.syntax(),
                                        format!("duplicate formal function argument '{n}'"),
                                    );
                                }
                            }
                        }
                        if let Some(b) = p.pat_bind().and_then(|b| b.ident()) {
                            if let Some(n) = ident_name(&b) {
                                if !names.insert(n.clone()) {
                                    self.error(
                                        b.syntax(),
                                        format!("duplicate formal function argument '{n}'"),
                                    );
                                }
                            }
                        }
                        self.scopes.push(names.clone());
                        for entry in p.pat_entries() {
                            if let Some(d) = entry.default() {
                                self.expr(&d);
                            }
                        }
                        self.scopes.pop();
                    }
                    None => {}
                }
                self.scopes.push(names);
                if let Some(b) = l.body() {
                    self.expr(&b);
                }
                self.scopes.pop();
            }
            ast::Expr::With(w) => {
                if let Some(ns) = w.namespace() {
                    self.expr(&ns);
                }
                self.with_depth += 1;
                if let Some(b) = w.body() {
                    self.expr(&b);
                }
                self.with_depth -= 1;
            }
            _ => {
                // Everything else: check the expressions below, in this scope.
                for child in e.syntax().children() {
                    if let Some(inner) = ast::Expr::cast(child.clone()) {
                        self.expr(&inner);
                    } else {
                        self.descend(&child);
                    }
                }
            }
        }
    }

    /// Expressions inside non-expression nodes (attribute paths, interpolations).
    fn descend(&mut self, node: &rnix::SyntaxNode) {
        if let Some(path) = ast::Attrpath::cast(node.clone()) {
            // Attribute names are not variables; only `${...}` and interpolations are.
            for attr in path.attrs() {
                match attr {
                    ast::Attr::Ident(_) => {}
                    ast::Attr::Dynamic(d) => {
                        if let Some(e) = d.expr() {
                            self.expr(&e);
                        }
                    }
                    ast::Attr::Str(s) => self.expr(&ast::Expr::Str(s)),
                }
            }
            return;
        }
        for child in node.children() {
            match ast::Expr::cast(child.clone()) {
                Some(e) => self.expr(&e),
                None => self.descend(&child),
            }
        }
    }

    /// The names a binding block binds, reporting names defined twice; the
    /// names are collected only when `scope` (the block is a scope: `let`, `rec`).
    fn bindings(&mut self, node: &impl HasEntry, scope: bool) -> HashSet<String> {
        let mut shape = BTreeMap::new();
        for entry in node.entries() {
            match entry {
                ast::Entry::Inherit(inh) => {
                    for attr in inh.attrs() {
                        if let Some(n) = static_name(&attr) {
                            match shape.entry(n) {
                                Entry::Occupied(o) => {
                                    let message =
                                        format!("attribute '{}' already defined", o.key());
                                    self.error(attr.syntax(), message);
                                }
                                Entry::Vacant(v) => {
                                    v.insert(Shape::Other);
                                }
                            }
                        }
                    }
                }
                ast::Entry::AttrpathValue(apv) => {
                    let Some(path) = apv.attrpath() else { continue };
                    let keys: Vec<ast::Attr> = path.attrs().collect();
                    let value = apv.value();
                    self.add_path(&mut shape, &keys, value.as_ref(), apv.syntax());
                }
            }
        }
        if scope {
            shape.into_keys().collect()
        } else {
            HashSet::new()
        }
    }

    /// Nix's `addAttr`: intermediate names descend into sets; a final name
    /// already defined is an error unless both are sets, which merge one level.
    fn add_path(
        &mut self,
        shape: &mut BTreeMap<String, Shape>,
        keys: &[ast::Attr],
        value: Option<&ast::Expr>,
        at: &rnix::SyntaxNode,
    ) {
        let Some((first, rest)) = keys.split_first() else {
            return;
        };
        // Dynamic names are checked at evaluation time.
        let Some(name) = static_name(first) else {
            return;
        };
        if rest.is_empty() {
            let new_shape = value.map(|v| self.value_shape(v)).unwrap_or(Shape::Other);
            match (shape.get_mut(&name), new_shape) {
                (None, s) => {
                    shape.insert(name, s);
                }
                (Some(Shape::Set(existing)), Shape::Set(new)) => {
                    for (k, v) in new {
                        match existing.entry(k) {
                            Entry::Occupied(o) => {
                                let message =
                                    format!("attribute '{name}.{}' already defined", o.key());
                                self.error(at, message);
                            }
                            Entry::Vacant(slot) => {
                                slot.insert(v);
                            }
                        }
                    }
                }
                _ => self.error(at, format!("attribute '{name}' already defined")),
            }
            return;
        }
        let entry = shape
            .entry(name.clone())
            .or_insert_with(|| Shape::Set(BTreeMap::new()));
        match entry {
            Shape::Set(inner) => {
                let mut inner = std::mem::take(inner);
                self.add_path(&mut inner, rest, value, at);
                if let Some(Shape::Set(slot)) = shape.get_mut(&name) {
                    *slot = inner;
                }
            }
            Shape::Other => self.error(at, format!("attribute '{name}' already defined")),
        }
    }

    /// The shape of a value: a literal set's own names, or opaque.
    fn value_shape(&mut self, v: &ast::Expr) -> Shape {
        match v {
            ast::Expr::AttrSet(s) => {
                let mut shape = BTreeMap::new();
                for entry in s.entries() {
                    match entry {
                        ast::Entry::Inherit(inh) => {
                            for attr in inh.attrs() {
                                if let Some(n) = static_name(&attr) {
                                    shape.entry(n).or_insert(Shape::Other);
                                }
                            }
                        }
                        ast::Entry::AttrpathValue(apv) => {
                            if let Some(first) = apv.attrpath().and_then(|p| p.attrs().next()) {
                                if let Some(n) = static_name(&first) {
                                    // Its own duplicates are reported when it is checked.
                                    shape.entry(n).or_insert(Shape::Set(BTreeMap::new()));
                                }
                            }
                        }
                    }
                }
                Shape::Set(shape)
            }
            _ => Shape::Other,
        }
    }

    /// Checks the values of a binding block (and `inherit (e)` sources).
    fn binding_values(&mut self, node: &impl HasEntry) {
        for entry in node.entries() {
            match entry {
                ast::Entry::Inherit(inh) => match inh.from().and_then(|f| f.expr()) {
                    Some(src) => self.expr(&src),
                    None => {
                        // `inherit x;` reads `x` from the enclosing scope.
                        for attr in inh.attrs() {
                            if let Some(n) = static_name(&attr) {
                                let outer_bound = self.scopes
                                    [..self.scopes.len().saturating_sub(0)]
                                    .iter()
                                    .any(|s| s.contains(&n));
                                if self.with_depth == 0
                                    && !outer_bound
                                    && !GLOBALS.contains(&n.as_str())
                                    && !n.starts_with("__")
                                {
                                    self.error(attr.syntax(), format!("undefined variable '{n}'"));
                                }
                            }
                        }
                    }
                },
                ast::Entry::AttrpathValue(apv) => {
                    if let Some(p) = apv.attrpath() {
                        self.descend(p.syntax());
                    }
                    if let Some(v) = apv.value() {
                        self.expr(&v);
                    }
                }
            }
        }
    }
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
            vec!["attribute 'a.b' already defined"]
        );
        assert_eq!(
            errors("let f = a@{ a }: a; in 1"),
            vec!["duplicate formal function argument 'a'"]
        );
        assert_eq!(errors("let a = 0; in { a = 1; inherit a; }").len(), 1);
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
        ] {
            assert!(errors(ok).is_empty(), "{ok}: {:?}", errors(ok));
        }
    }
}
