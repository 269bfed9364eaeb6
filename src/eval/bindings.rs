//! Builds attribute sets and `let` scopes from their bindings: nested and dotted
//! keys merged, `inherit`, `inherit (x)`, `rec`, dynamic keys.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use rnix::ast::{self, HasEntry};
use rowan::ast::AstNode;

use super::env::{Env, Scope};
use super::value::{Attr, Attrs, Reason, Thunk, ThunkCell, Unresolved, Val, V};
use super::Evaluator;
use crate::source::Span;

/// An attribute before it becomes a thunk: nested keys are merged first.
enum Pending {
    Expr(ast::Expr),
    Thunk(Thunk),
    Nested(BTreeMap<Rc<str>, (Pending, Span)>),
    /// `a = 1; a = 2;`: Nix rejects the whole file.
    Duplicate(Span),
}

/// What a binding block produces: its attributes, plus whether some keys could
/// not be computed.
pub(super) struct Bound {
    pub attrs: BTreeMap<Rc<str>, Attr>,
    pub open: Option<Rc<Unresolved>>,
}

impl Evaluator<'_> {
    /// Evaluates the bindings of `node`. Values are evaluated in `value_env`
    /// (the recursive scope for `rec`/`let`); plain `inherit x` reads `outer_env`.
    fn collect_pending(
        &self,
        node: &impl HasEntry,
        key_env: &Env,
        outer_env: &Env,
        value_env: &Env,
        map: &mut BTreeMap<Rc<str>, (Pending, Span)>,
        open: &mut Option<Rc<Unresolved>>,
    ) {
        let file = key_env.file;
        for entry in node.entries() {
            match entry {
                ast::Entry::Inherit(inh) => {
                    let from = inh
                        .from()
                        .and_then(|f| f.expr())
                        .map(|e| ThunkCell::expr(e, value_env.clone()));
                    for attr in inh.attrs() {
                        let span = Span::of(file, attr.syntax());
                        let name = match self.attr_name(&attr, key_env) {
                            Ok(Some(n)) => n,
                            Ok(None) => continue,
                            Err(u) => {
                                *open = Some(Rc::new(u));
                                continue;
                            }
                        };
                        let thunk = match &from {
                            Some(src) => self.select_thunk(src.clone(), name.clone(), span),
                            None => self.lookup_thunk(&name, outer_env, span),
                        };
                        insert(map, name, Pending::Thunk(thunk), span);
                    }
                }
                ast::Entry::AttrpathValue(apv) => {
                    let (Some(path), Some(value)) = (apv.attrpath(), apv.value()) else {
                        continue;
                    };
                    let mut keys = Vec::new();
                    let mut skip = false;
                    for attr in path.attrs() {
                        let span = Span::of(file, attr.syntax());
                        match self.attr_name(&attr, key_env) {
                            Ok(Some(n)) => keys.push((n, span)),
                            Ok(None) => {
                                skip = true;
                                break;
                            }
                            Err(u) => {
                                *open = Some(Rc::new(u));
                                skip = true;
                                break;
                            }
                        }
                    }
                    if skip || keys.is_empty() {
                        continue;
                    }
                    self.insert_path(map, &keys, value, key_env, outer_env, value_env, open);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn insert_path(
        &self,
        map: &mut BTreeMap<Rc<str>, (Pending, Span)>,
        keys: &[(Rc<str>, Span)],
        value: ast::Expr,
        key_env: &Env,
        outer_env: &Env,
        value_env: &Env,
        open: &mut Option<Rc<Unresolved>>,
    ) {
        let (name, span) = &keys[0];
        if keys.len() == 1 {
            match map.get_mut(name) {
                None => {
                    map.insert(name.clone(), (Pending::Expr(value), *span));
                }
                Some((existing @ Pending::Nested(_), _)) => {
                    // `a.b = 1; a = { c = 2; };` merges when the value is a literal set.
                    match literal_set(&value) {
                        Some(set) => {
                            if let Pending::Nested(inner) = existing {
                                self.collect_pending(
                                    &set, key_env, outer_env, value_env, inner, open,
                                );
                            }
                        }
                        None => *existing = Pending::Duplicate(*span),
                    }
                }
                Some((existing, _)) => *existing = Pending::Duplicate(*span),
            }
            return;
        }
        let entry = map.entry(name.clone()).or_insert_with(|| {
            // The set a dotted key creates spans the key to the end of the value.
            let end = u32::from(value.syntax().text_range().end()).max(span.end);
            (Pending::Nested(BTreeMap::new()), Span { end, ..*span })
        });
        if let Pending::Expr(e) = &entry.0 {
            // `a = { b = 1; }; a.c = 2;`: expand the literal set, then merge.
            match literal_set(e) {
                Some(set) => {
                    let mut inner = BTreeMap::new();
                    self.collect_pending(&set, key_env, outer_env, value_env, &mut inner, open);
                    entry.0 = Pending::Nested(inner);
                }
                None => {
                    entry.0 = Pending::Duplicate(*span);
                    return;
                }
            }
        }
        match &mut entry.0 {
            Pending::Nested(inner) => self.insert_path(
                inner,
                &keys[1..],
                value,
                key_env,
                outer_env,
                value_env,
                open,
            ),
            other => *other = Pending::Duplicate(*span),
        }
    }

    fn materialize(&self, pending: Pending, span: Span, value_env: &Env) -> Thunk {
        match pending {
            Pending::Expr(e) => ThunkCell::expr(e, value_env.clone()),
            Pending::Thunk(t) => t,
            Pending::Nested(map) => {
                let mut attrs = BTreeMap::new();
                for (k, (p, s)) in map {
                    attrs.insert(
                        k,
                        Attr {
                            value: self.materialize(p, s, value_env),
                            key_span: s,
                        },
                    );
                }
                ThunkCell::done(Val::new(
                    V::Attrs(Rc::new(Attrs {
                        map: attrs,
                        open: None,
                    })),
                    span,
                ))
            }
            Pending::Duplicate(s) => ThunkCell::done(Val::error("attribute already defined", s)),
        }
    }

    /// Bindings of an attribute set or `let`. For recursive blocks the returned
    /// scope holds the bindings themselves.
    pub(super) fn bind(&self, node: &impl HasEntry, env: &Env, recursive: bool) -> (Bound, Env) {
        let value_env = if recursive {
            Scope::child(env, HashMap::new())
        } else {
            env.clone()
        };
        let mut map = BTreeMap::new();
        let mut open = None;
        self.collect_pending(node, env, env, &value_env, &mut map, &mut open);
        let mut attrs = BTreeMap::new();
        for (k, (p, s)) in map {
            let value = self.materialize(p, s, &value_env);
            if recursive {
                value_env.insert(k.clone(), value.clone());
            }
            attrs.insert(k, Attr { value, key_span: s });
        }
        (Bound { attrs, open }, value_env)
    }

    /// The name of an attribute key; `Ok(None)` for a dynamic key that is `null`
    /// (Nix skips such bindings).
    pub(super) fn attr_name(
        &self,
        attr: &ast::Attr,
        env: &Env,
    ) -> Result<Option<Rc<str>>, Unresolved> {
        let span = Span::of(env.file, attr.syntax());
        let val = match attr {
            ast::Attr::Ident(id) => {
                return Ok(Some(Rc::from(
                    id.ident_token()
                        .map(|t| t.text().to_string())
                        .unwrap_or_default(),
                )))
            }
            ast::Attr::Str(s) => self.eval_str(s, env),
            ast::Attr::Dynamic(d) => match d.expr() {
                Some(e) => self.eval_whnf(&e, env),
                None => Val::error("empty dynamic attribute", span),
            },
        };
        match val.v {
            V::Str(s) => Ok(Some(s)),
            V::Null => Ok(None),
            V::Unresolved(u) => Err(Unresolved::new(
                u.reason,
                format!("attribute name cannot be computed: {}", u.detail),
                u.span,
            )),
            other => Err(Unresolved::new(
                Reason::EvalError,
                format!("attribute name is {}, expected a string", other.type_name()),
                span,
            )),
        }
    }
}

fn literal_set(e: &ast::Expr) -> Option<ast::AttrSet> {
    match e {
        ast::Expr::AttrSet(s) if s.rec_token().is_none() => Some(s.clone()),
        _ => None,
    }
}

fn insert(map: &mut BTreeMap<Rc<str>, (Pending, Span)>, name: Rc<str>, p: Pending, span: Span) {
    match map.entry(name) {
        std::collections::btree_map::Entry::Vacant(v) => {
            v.insert((p, span));
        }
        std::collections::btree_map::Entry::Occupied(mut o) => {
            o.get_mut().0 = Pending::Duplicate(span)
        }
    }
}
