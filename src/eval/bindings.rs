//! Builds attribute sets and `let` scopes from their bindings, with Nix's
//! rules: dotted keys descend into sets written literally; a name defined
//! twice is an error unless both definitions are literal sets, which merge one
//! level; dynamic names come after the static ones (in a `rec` set they are
//! evaluated in its scope) and may not repeat any name.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::env::Env;
use super::value::{Attr, Attrs, Reason, Thunk, ThunkCell, Unresolved, Val, V};
use super::{AttrMap, Evaluator};
use crate::source::Span;
use crate::syntax::{Attr as Key, Entry, Expr, FileAst, NodeId, Str};

/// An attribute before it becomes a thunk.
enum Pending {
    Expr(NodeId),
    Thunk(Thunk),
    /// A set built from several bindings (`a.b = 1; a.c = 2;`). Its own
    /// names are worked out only when it is forced: most nested config
    /// (`environment.etc."x".text = …`) is never read.
    Nested(Vec<Part>),
    /// Defined twice (the static check reports it for the file).
    Duplicate(Span),
}

/// One binding that contributes to a nested set.
pub(super) enum Part {
    /// `a = { … };`: a literal set (its node), merged one level with the others.
    Set(NodeId),
    /// `a.b.c = value;`: the binding and the index of its next key; the
    /// keys from there on are not computed yet.
    Path(NodeId, u32),
}

/// A nested set waiting to be built. Like Nix's nested set expressions it
/// is evaluated where the values of its binding block are: in a `rec` set
/// or `let`, its keys and `inherit`s see the block's own names.
pub(super) struct NestedSet {
    parts: Box<[Part]>,
    env: Env,
}

/// What a binding block produces: its attributes, whether some names could not
/// be computed, and whether building it fails outright (as Nix would).
pub(super) struct Bound {
    pub attrs: AttrMap,
    pub open: Option<Rc<Unresolved>>,
    pub failure: Option<Rc<Unresolved>>,
}

/// The environments of one binding block.
struct Envs<'e> {
    /// Where names are computed.
    key: &'e Env,
    /// Where `inherit x` looks.
    outer: &'e Env,
    /// Where values are evaluated.
    value: &'e Env,
}

#[derive(Default)]
struct Collected {
    map: BTreeMap<Rc<str>, (Pending, Span)>,
    open: Option<Rc<Unresolved>>,
    failure: Option<Rc<Unresolved>>,
}

/// One entry of a binding block, its parts looked up once.
enum EntryParts<'a> {
    Inherit {
        from: Option<NodeId>,
        attrs: &'a [NodeId],
    },
    /// `first.… = value;`, with `nested` when more keys follow `first`.
    Binding {
        binding: NodeId,
        first: NodeId,
        nested: bool,
        value: NodeId,
    },
}

/// Whether a key is computed (`${e}`, `"${e}"`).
fn is_dynamic(ast: &FileAst, attr: NodeId) -> bool {
    match ast.attr(attr) {
        Key::Dynamic(_) | Key::Str(Str::Parts(_)) => true,
        Key::Str(Str::Plain(_)) | Key::Ident(_) => false,
    }
}

/// The entries of a binding block: those with static first names, then
/// those with computed ones (Nix adds these after the others).
fn split_entries<'a>(
    ast: &'a FileAst,
    entries: &[NodeId],
) -> (Vec<EntryParts<'a>>, Vec<EntryParts<'a>>) {
    let mut statics = Vec::new();
    let mut dynamics = Vec::new();
    for &entry in entries {
        match ast.entry(entry) {
            Entry::Inherit { from, attrs } => statics.push(EntryParts::Inherit { from, attrs }),
            Entry::Binding { path, value } => {
                let Some(&first) = path.first() else { continue };
                let parts = EntryParts::Binding {
                    binding: entry,
                    first,
                    nested: path.len() > 1,
                    value,
                };
                if is_dynamic(ast, first) {
                    dynamics.push(parts);
                } else {
                    statics.push(parts);
                }
            }
        }
    }
    (statics, dynamics)
}

/// The node of `e` when it is a literal (non-`rec`) set.
fn literal_set(ast: &FileAst, e: NodeId) -> Option<NodeId> {
    match ast.expr(e) {
        Expr::AttrSet {
            recursive: false, ..
        } => Some(e),
        _ => None,
    }
}

impl Evaluator {
    /// Adds entries of one kind (static or dynamic first names) to `out`.
    fn collect(&self, entries: Vec<EntryParts>, envs: &Envs, dynamic: bool, out: &mut Collected) {
        let ast = &envs.key.ast;
        for entry in entries {
            match entry {
                EntryParts::Inherit { from, attrs } => {
                    let from = from.map(|e| ThunkCell::expr(e, envs.value.clone()));
                    for &attr in attrs {
                        let span = ast.span(attr);
                        let name = match self.attr_name(attr, envs.key) {
                            Ok(Some(n)) => n,
                            Ok(None) => continue,
                            Err(u) => {
                                out.open = Some(Rc::new(u));
                                continue;
                            }
                        };
                        let thunk = match &from {
                            Some(src) => self.select_thunk(src.clone(), name.clone(), span),
                            None => self.lookup_thunk(&name, envs.outer, span),
                        };
                        match out.map.get_mut(&name) {
                            None => {
                                out.map.insert(name, (Pending::Thunk(thunk), span));
                            }
                            Some(existing) => existing.0 = Pending::Duplicate(span),
                        }
                    }
                }
                EntryParts::Binding {
                    binding,
                    first,
                    nested,
                    value,
                } => {
                    let Some(key) = self.key_of(first, envs.key, out) else {
                        continue;
                    };
                    if dynamic && out.map.contains_key(&key.0) {
                        // "dynamic attribute 'a' already defined": the whole set fails.
                        out.failure.get_or_insert_with(|| {
                            Rc::new(Unresolved::new(
                                Reason::EvalError,
                                format!("dynamic attribute '{}' already defined", key.0),
                                key.1,
                            ))
                        });
                        continue;
                    }
                    let rest = nested.then_some((binding, 1));
                    self.insert_path(&mut out.map, key, rest, value, ast);
                }
            }
        }
    }

    /// The name of one key, or `None` when the binding is skipped: a `null`
    /// dynamic key (as Nix does), or a name that cannot be computed (noted
    /// in `out`).
    fn key_of(&self, attr: NodeId, env: &Env, out: &mut Collected) -> Option<(Rc<str>, Span)> {
        let span = env.ast.span(attr);
        match self.attr_name(attr, env) {
            Ok(Some(n)) => Some((n, span)),
            Ok(None) => None,
            Err(u) => {
                let u = Rc::new(u);
                if u.is_failure() {
                    out.failure.get_or_insert(u.clone());
                }
                out.open = Some(u);
                None
            }
        }
    }

    /// Nix's `addAttr` for one binding `name.rest… = value`, one level: the
    /// keys in `rest` are computed when the nested set is forced.
    fn insert_path(
        &self,
        map: &mut BTreeMap<Rc<str>, (Pending, Span)>,
        (name, span): (Rc<str>, Span),
        rest: Option<(NodeId, usize)>,
        value: NodeId,
        ast: &FileAst,
    ) {
        let Some((binding, next)) = rest else {
            let Some(existing) = map.get_mut(&name) else {
                map.insert(name, (Pending::Expr(value), span));
                return;
            };
            // Both literal sets: merge one level; any name in both is a duplicate.
            let Some(new_set) = literal_set(ast, value) else {
                existing.0 = Pending::Duplicate(span);
                return;
            };
            match &mut existing.0 {
                Pending::Nested(parts) => parts.push(Part::Set(new_set)),
                Pending::Expr(e) => match literal_set(ast, *e) {
                    Some(old) => {
                        existing.0 = Pending::Nested(vec![Part::Set(old), Part::Set(new_set)])
                    }
                    None => existing.0 = Pending::Duplicate(span),
                },
                other => *other = Pending::Duplicate(span),
            }
            return;
        };
        let entry = map.entry(name).or_insert_with(|| {
            // The set a dotted key creates spans the key to the end of the value.
            let end = ast.span(value).end.max(span.end);
            (Pending::Nested(Vec::new()), Span { end, ..span })
        });
        // A key path's length fits the tree's 32-bit list lengths.
        let path = Part::Path(binding, next as u32);
        match &mut entry.0 {
            Pending::Nested(parts) => parts.push(path),
            // `a = { b = 1; }; a.c = 2;`: descend into the literal set.
            Pending::Expr(e) => match literal_set(ast, *e) {
                Some(set) => entry.0 = Pending::Nested(vec![Part::Set(set), path]),
                None => entry.0 = Pending::Duplicate(span),
            },
            other => *other = Pending::Duplicate(span),
        }
    }

    /// The bindings of a literal (non-`rec`) set, evaluated in the same scope.
    fn expand(&self, set: NodeId, envs: &Envs, out: &mut Collected) {
        let ast = &envs.key.ast;
        let Expr::AttrSet { entries, .. } = ast.expr(set) else {
            return;
        };
        let (statics, dynamics) = split_entries(ast, entries);
        self.collect(statics, envs, false, out);
        self.collect(dynamics, envs, true, out);
    }

    /// Builds a nested set from its parts, in binding order: the first
    /// literal set is its start, a later one may add only new names.
    pub(super) fn build_nested(&self, nested: NestedSet, span: Span) -> Val {
        let envs = Envs {
            key: &nested.env,
            outer: &nested.env,
            value: &nested.env,
        };
        let mut out = Collected::default();
        for (i, part) in nested.parts.into_vec().into_iter().enumerate() {
            match part {
                Part::Set(set) if i == 0 => self.expand(set, &envs, &mut out),
                Part::Set(set) => {
                    let mut added = Collected::default();
                    self.expand(set, &envs, &mut added);
                    for (k, (p, s)) in added.map {
                        match out.map.get_mut(&k) {
                            Some(slot) => slot.0 = Pending::Duplicate(s),
                            None => {
                                out.map.insert(k, (p, s));
                            }
                        }
                    }
                    out.open = added.open.or(out.open);
                    out.failure = out.failure.or(added.failure);
                }
                Part::Path(binding, next) => {
                    let next = next as usize;
                    let ast = &envs.key.ast;
                    let Entry::Binding { path, value } = ast.entry(binding) else {
                        continue;
                    };
                    let Some(&first) = path.get(next) else {
                        continue;
                    };
                    let rest = (path.len() > next + 1).then_some((binding, next + 1));
                    if let Some(key) = self.key_of(first, envs.key, &mut out) {
                        self.insert_path(&mut out.map, key, rest, value, ast);
                    }
                }
            }
        }
        if let Some(f) = out.failure {
            return Val::new(V::Unresolved(f), span);
        }
        let mut attrs = AttrMap::with_capacity(out.map.len());
        for (k, (p, s)) in out.map {
            let value = self.materialize(p, s, &envs);
            attrs.insert(k, Attr { value, key_span: s });
        }
        Val::new(
            V::Attrs(Rc::new(Attrs {
                map: attrs,
                open: out.open,
            })),
            span,
        )
    }

    fn materialize(&self, pending: Pending, span: Span, envs: &Envs) -> Thunk {
        match pending {
            Pending::Expr(e) => ThunkCell::expr(e, envs.value.clone()),
            Pending::Thunk(t) => t,
            Pending::Nested(parts) => ThunkCell::nested(
                NestedSet {
                    parts: parts.into_boxed_slice(),
                    env: envs.value.clone(),
                },
                span,
            ),
            Pending::Duplicate(s) => ThunkCell::done(Val::error("attribute already defined", s)),
        }
    }

    /// Bindings of an attribute set or `let`. For recursive blocks the returned
    /// scope holds the bindings themselves.
    pub(super) fn bind(&self, entries: &[NodeId], env: &Env, recursive: bool) -> (Bound, Env) {
        let value_env = if recursive {
            self.child_scope(env)
        } else {
            env.clone()
        };
        let mut out = Collected::default();
        let statics = Envs {
            key: env,
            outer: env,
            value: &value_env,
        };
        let (static_entries, dynamic_entries) = split_entries(&env.ast, entries);
        self.collect(static_entries, &statics, false, &mut out);
        let mut attrs = AttrMap::with_capacity(out.map.len());
        for (k, (p, s)) in std::mem::take(&mut out.map) {
            let value = self.materialize(p, s, &statics);
            if recursive {
                value_env.insert(k.clone(), value.clone());
            }
            attrs.insert(k, Attr { value, key_span: s });
        }
        // Dynamic names: in a `rec` set they see its static bindings.
        let dynamics = Envs {
            key: if recursive { &value_env } else { env },
            outer: env,
            value: &value_env,
        };
        if !dynamic_entries.is_empty() {
            out.map = attrs
                .keys()
                .map(|k| {
                    (
                        k.clone(),
                        (Pending::Duplicate(Span::DETACHED), Span::DETACHED),
                    )
                })
                .collect();
            let statics_count = out.map.len();
            self.collect(dynamic_entries, &dynamics, true, &mut out);
            if out.map.len() > statics_count {
                for (k, (p, s)) in out.map {
                    attrs.insert_if_absent(&k, || Attr {
                        value: self.materialize(p, s, &dynamics),
                        key_span: s,
                    });
                }
            }
        }
        (
            Bound {
                attrs,
                open: out.open,
                failure: out.failure,
            },
            value_env,
        )
    }

    /// The name of an attribute key; `Ok(None)` for a dynamic key that is `null`
    /// (Nix skips such bindings).
    pub(super) fn attr_name(&self, attr: NodeId, env: &Env) -> Result<Option<Rc<str>>, Unresolved> {
        let span = env.ast.span(attr);
        let val = match env.ast.attr(attr) {
            Key::Ident(name) => return Ok(Some(self.name(name))),
            Key::Str(Str::Plain(text)) => return Ok(Some(self.name(text))),
            Key::Str(s) => self.eval_str(s, env, span),
            Key::Dynamic(e) => self.eval_whnf(e, env),
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
