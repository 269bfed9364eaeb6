//! What Nix rejects before evaluating anything, though rnix parses it:
//! undefined variables (outside any `with`), attributes or `let` bindings
//! defined twice, and duplicate function arguments. Nix reports these as
//! errors of the whole file, so dbprov does too.
//!
//! Every file is checked, in the parse phase: the walk goes over dbprov's own
//! flat syntax tree (one array lookup a step), and names are slices of it
//! hashed with a fast non-keyed hash (the input is the file itself).

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::parse::SyntaxError;
use crate::syntax::{Attr, Entry, Expr, FileAst, NodeId, Param, Part, Str};

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

/// Errors Nix raises while binding names in the file of `ast`.
pub fn binding_errors(ast: &FileAst) -> Vec<SyntaxError> {
    let mut c = Checker {
        ast,
        scopes: Vec::new(),
        with_depth: 0,
        errors: Vec::new(),
        depth: 0,
    };
    if let Some(root) = ast.root() {
        c.expr(root);
    }
    c.errors
}

/// A static attribute name (`a`, `"a"`); `None` for `${...}` and interpolated strings.
fn static_name(ast: &FileAst, key: NodeId) -> Option<&str> {
    match ast.attr(key) {
        Attr::Ident(name) => Some(name),
        Attr::Str(Str::Plain(text)) => Some(text),
        Attr::Str(Str::Parts(_)) | Attr::Dynamic(_) => None,
    }
}

/// The static shape of an attribute set, for Nix's duplicate rules.
enum Shape<'a> {
    /// A set written literally (or created by a dotted path): it can merge.
    Set(FxHashMap<&'a str, Shape<'a>>),
    Other,
}

struct Checker<'a> {
    ast: &'a FileAst,
    scopes: Vec<FxHashSet<&'a str>>,
    with_depth: usize,
    errors: Vec<SyntaxError>,
    depth: usize,
}

/// The syntax tree holds no deeper expressions (see `syntax::MAX_DEPTH`);
/// this keeps the checker's own recursion bounded whatever tree it is given.
const MAX_DEPTH: usize = 4_000;

impl<'a> Checker<'a> {
    fn error(&mut self, node: NodeId, message: String) {
        self.errors.push(SyntaxError {
            span: self.ast.span(node),
            message,
        });
    }

    fn bound(&self, name: &str) -> bool {
        name.starts_with("__")
            || GLOBALS.contains(&name)
            || self.scopes.iter().any(|s| s.contains(name))
    }

    fn expr(&mut self, e: NodeId) {
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        self.expr_inner(e);
        self.depth -= 1;
    }

    fn exprs(&mut self, es: &[NodeId]) {
        for &e in es {
            self.expr(e);
        }
    }

    fn expr_inner(&mut self, e: NodeId) {
        let ast = self.ast;
        match ast.expr(e) {
            Expr::Ident(name) => {
                if !name.is_empty() && self.with_depth == 0 && !self.bound(name) {
                    self.error(e, format!("undefined variable '{name}'"));
                }
            }
            Expr::LetIn { entries, body } => {
                let names = self.bindings(entries, true);
                self.scopes.push(names);
                self.binding_values(entries);
                self.expr(body);
                self.scopes.pop();
            }
            Expr::AttrSet { recursive, entries } => {
                let names = self.bindings(entries, recursive);
                if recursive {
                    self.scopes.push(names);
                    self.binding_values(entries);
                    self.scopes.pop();
                } else {
                    self.binding_values(entries);
                }
            }
            Expr::Lambda { param, body } => self.lambda(param, body),
            Expr::With { namespace, body } => {
                self.expr(namespace);
                self.with_depth += 1;
                self.expr(body);
                self.with_depth -= 1;
            }
            // Everything else: the expressions below, in this scope, in source order.
            Expr::Str(s) => self.string(s),
            Expr::Path(parts) => self.parts(parts),
            Expr::Select {
                base,
                path,
                default,
            } => {
                self.expr(base);
                self.attr_path(path);
                if let Some(d) = default {
                    self.expr(d);
                }
            }
            Expr::HasAttr { base, path } => {
                self.expr(base);
                self.attr_path(path);
            }
            Expr::Apply { function, argument } => {
                self.expr(function);
                self.expr(argument);
            }
            Expr::List(items) => self.exprs(items),
            Expr::BinOp { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            Expr::UnaryOp { operand, .. } => self.expr(operand),
            Expr::Paren(inner) => self.expr(inner),
            Expr::IfElse {
                condition,
                then,
                otherwise,
            } => self.exprs(&[condition, then, otherwise]),
            Expr::Assert { condition, body } => self.exprs(&[condition, body]),
            // `let { ... }` binds its own names: not checked (nor evaluated).
            Expr::LegacyLet
            | Expr::Int(_)
            | Expr::IntOutOfRange
            | Expr::Float(_)
            | Expr::BadFloat
            | Expr::Uri(_)
            | Expr::PathHome
            | Expr::PathSearch
            | Expr::Error
            | Expr::CurPos
            | Expr::TooDeep => {}
        }
    }

    fn string(&mut self, s: Str<'a>) {
        if let Str::Parts(parts) = s {
            self.parts(parts);
        }
    }

    fn parts(&mut self, parts: &'a [NodeId]) {
        for &p in parts {
            if let Part::Interpolation(e) = self.ast.part(p) {
                self.expr(e);
            }
        }
    }

    /// Attribute names are not variables; only `${...}` and interpolations are.
    fn attr_path(&mut self, keys: &'a [NodeId]) {
        for &k in keys {
            match self.ast.attr(k) {
                Attr::Dynamic(e) => self.expr(e),
                Attr::Str(s) => self.string(s),
                Attr::Ident(_) => {}
            }
        }
    }

    fn lambda(&mut self, param: NodeId, body: NodeId) {
        let ast = self.ast;
        let mut names = FxHashSet::default();
        match ast.param(param) {
            Param::Ident(n) => {
                if !n.is_empty() {
                    names.insert(n);
                }
            }
            Param::Pattern { entries, .. } => {
                for &entry in entries {
                    let (n, _) = ast.pat_entry(entry);
                    if !n.is_empty() && !names.insert(n) {
                        self.error(entry, format!("duplicate formal function argument '{n}'"));
                    }
                }
                if let Some(b) = ast.pattern_bind(param) {
                    let (n, at) = (ast.ident_name(b), b);
                    if !n.is_empty() && !names.insert(n) {
                        self.error(at, format!("duplicate formal function argument '{n}'"));
                    }
                }
                self.scopes.push(names.clone());
                for &entry in entries {
                    if let (_, Some(default)) = ast.pat_entry(entry) {
                        self.expr(default);
                    }
                }
                self.scopes.pop();
            }
        }
        self.scopes.push(names);
        self.expr(body);
        self.scopes.pop();
    }

    /// The names a binding block binds, reporting names defined twice; the
    /// names are collected only when `scope` (the block is a scope: `let`, `rec`).
    fn bindings(&mut self, entries: &'a [NodeId], scope: bool) -> FxHashSet<&'a str> {
        let ast = self.ast;
        let mut shape = FxHashMap::default();
        for &entry in entries {
            match ast.entry(entry) {
                Entry::Inherit { attrs, .. } => {
                    for &attr in attrs {
                        if let Some(n) = static_name(ast, attr) {
                            if shape.contains_key(n) {
                                self.error(attr, format!("attribute '{n}' already defined"));
                            } else {
                                shape.insert(n, Shape::Other);
                            }
                        }
                    }
                }
                Entry::Binding { path, value } => {
                    self.add_path(&mut shape, path, value, entry, &mut Vec::new());
                }
            }
        }
        if scope {
            shape.into_keys().collect()
        } else {
            FxHashSet::default()
        }
    }

    /// Nix's `addAttr`: intermediate names descend into sets; a final name
    /// already defined is an error unless both are sets, which merge one level.
    /// `path` holds the names before `keys`, for messages: like Nix, a name
    /// defined twice is reported with its whole path, a name two merged sets
    /// share with its own name only.
    fn add_path(
        &mut self,
        shape: &mut FxHashMap<&'a str, Shape<'a>>,
        keys: &'a [NodeId],
        value: NodeId,
        at: NodeId,
        path: &mut Vec<&'a str>,
    ) {
        let Some((&first, rest)) = keys.split_first() else {
            return;
        };
        // Dynamic names are checked at evaluation time.
        let Some(name) = static_name(self.ast, first) else {
            return;
        };
        path.push(name);
        self.add_path_inner(shape, name, rest, value, at, path);
        path.pop();
    }

    fn add_path_inner(
        &mut self,
        shape: &mut FxHashMap<&'a str, Shape<'a>>,
        name: &'a str,
        rest: &'a [NodeId],
        value: NodeId,
        at: NodeId,
        path: &mut Vec<&'a str>,
    ) {
        if rest.is_empty() {
            match (shape.get_mut(name), value_shape(self.ast, value)) {
                (None, s) => {
                    shape.insert(name, s);
                }
                (Some(Shape::Set(existing)), Shape::Set(new)) => {
                    // In name order, as Nix reports them.
                    let new: BTreeMap<&str, Shape> = new.into_iter().collect();
                    for (k, v) in new {
                        if existing.contains_key(k) {
                            self.error(at, format!("attribute '{k}' already defined"));
                        } else {
                            existing.insert(k, v);
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
        match shape
            .entry(name)
            .or_insert_with(|| Shape::Set(FxHashMap::default()))
        {
            Shape::Set(inner) => self.add_path(inner, rest, value, at, path),
            Shape::Other => self.error(
                at,
                format!("attribute '{}' already defined", path.join(".")),
            ),
        }
    }

    /// Checks the values of a binding block (and `inherit (e)` sources).
    fn binding_values(&mut self, entries: &'a [NodeId]) {
        let ast = self.ast;
        for &entry in entries {
            match ast.entry(entry) {
                Entry::Inherit {
                    from: Some(src), ..
                } => self.expr(src),
                // `inherit x;` reads `x` from the enclosing scope.
                Entry::Inherit { from: None, attrs } => {
                    for &attr in attrs {
                        if let Some(n) = static_name(ast, attr) {
                            if self.with_depth == 0 && !self.bound(n) {
                                self.error(attr, format!("undefined variable '{n}'"));
                            }
                        }
                    }
                }
                Entry::Binding { path, value } => {
                    self.attr_path(path);
                    self.expr(value);
                }
            }
        }
    }
}

/// The shape of a value: a literal set's own names, or opaque.
fn value_shape<'a>(ast: &'a FileAst, v: NodeId) -> Shape<'a> {
    let Expr::AttrSet { entries, .. } = ast.expr(v) else {
        return Shape::Other;
    };
    let mut shape = FxHashMap::default();
    for &entry in entries {
        match ast.entry(entry) {
            Entry::Inherit { attrs, .. } => {
                for &attr in attrs {
                    if let Some(n) = static_name(ast, attr) {
                        shape.entry(n).or_insert(Shape::Other);
                    }
                }
            }
            Entry::Binding { path, .. } => {
                if let Some(n) = path.first().and_then(|&k| static_name(ast, k)) {
                    // Its own duplicates are reported when it is checked.
                    shape.entry(n).or_insert(Shape::Set(FxHashMap::default()));
                }
            }
        }
    }
    Shape::Set(shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        let ast = crate::syntax::parse(0, text).expect(text);
        binding_errors(&ast)
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
        assert_eq!(
            errors("{ a = { x = 1; y = 2; }; a = { y = 3; x = 4; }; }"),
            vec![
                "attribute 'x' already defined",
                "attribute 'y' already defined"
            ]
        );
        assert_eq!(
            errors(r#"{ s = "${u}"; p = ./a/${v}; q = w.${"x${y}"}; }"#),
            vec![
                "undefined variable 'u'",
                "undefined variable 'v'",
                "undefined variable 'w'",
                "undefined variable 'y'"
            ]
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

    #[test]
    fn errors_point_at_the_offending_node() {
        let text = "{ a = 1; a = 2; }";
        let ast = crate::syntax::parse(0, text).unwrap();
        let e = &binding_errors(&ast)[0];
        assert_eq!(&text[e.span.start as usize..e.span.end as usize], "a = 2;");
        let text = "{ x, x }: x";
        let ast = crate::syntax::parse(0, text).unwrap();
        let e = &binding_errors(&ast)[0];
        assert_eq!(&text[e.span.start as usize..e.span.end as usize], "x");
        assert_eq!(e.span.start, 5);
    }
}
