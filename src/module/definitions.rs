//! Collecting the definitions of a config path across modules. Above the
//! option level, `mkMerge`, `mkIf` and `mkOverride` are pushed down to the
//! attributes they wrap (nixpkgs `pushDownProperties`), without evaluating
//! any condition — which is why a guard may read the option it guards.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::ModuleSystem;
use crate::eval::prim::{mk_if, mk_override};
use crate::eval::{Attrs, Evaluator, Item, Reason, Thunk, ThunkCell, Unresolved, Val, V};
use crate::source::{FileId, Span};

/// One definition of an option path, in one module. Its value keeps the
/// wrappers pushed down from above (as `mkIf`/`mkOverride` sets).
#[derive(Clone, Debug)]
pub struct Definition {
    pub file: FileId,
    pub value: Thunk,
    /// The span of the defining expression (the right-hand side).
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum Collected {
    Def(Definition),
    /// A module whose contribution at this path cannot be known.
    Unknown(FileId, Unresolved),
}

/// A wrapper met on the way down, re-applied to what it wrapped.
#[derive(Clone)]
enum Wrapper {
    If(Thunk, Span),
    Override(Thunk, Span),
}

enum Pushed {
    Set(Rc<Attrs>, Vec<Wrapper>),
    Leaf(Span),
    Unknown(Unresolved),
}

/// The attribute names defined directly below a path.
#[derive(Debug, Default)]
pub struct Children {
    /// Each name with the span of its first key.
    pub names: BTreeMap<Rc<str>, Span>,
    pub unknown: Option<Unresolved>,
    /// Set when some definition at the path is not a set.
    pub leaf: Option<Span>,
}

/// Reads `_type` of a set, forcing only that attribute.
pub fn type_tag(ev: &Evaluator, a: &Attrs) -> Option<Rc<str>> {
    let t = a.get("_type")?;
    match ev.force(&t.value).v {
        V::Str(s) => Some(s),
        _ => None,
    }
}

fn pushdown(ev: &Evaluator, t: &Thunk, wrappers: Vec<Wrapper>, out: &mut Vec<Pushed>) {
    let v = ev.force(t);
    let r = ev.guarded(v.span, || {
        pushdown_value(ev, &v, wrappers, out);
        Val::new(V::Null, v.span)
    });
    if let V::Unresolved(u) = r.v {
        out.push(Pushed::Unknown((*u).clone()));
    }
}

fn pushdown_value(ev: &Evaluator, v: &Val, wrappers: Vec<Wrapper>, out: &mut Vec<Pushed>) {
    match &v.v {
        V::Attrs(a) => match type_tag(ev, a).as_deref() {
            Some("merge") => {
                let Some(contents) = a.get("contents") else {
                    out.push(Pushed::Unknown(Unresolved::new(
                        Reason::EvalError,
                        "mkMerge without contents",
                        v.span,
                    )));
                    return;
                };
                let list = ev.force(&contents.value);
                match &list.v {
                    V::List(l) => {
                        for item in &l.items {
                            match item {
                                Item::Known(t) => pushdown(ev, t, wrappers.clone(), out),
                                Item::Unknown(u) => out.push(Pushed::Unknown((**u).clone())),
                            }
                        }
                    }
                    V::Unresolved(u) => out.push(Pushed::Unknown((**u).clone())),
                    other => out.push(Pushed::Unknown(Unresolved::new(
                        Reason::EvalError,
                        format!("mkMerge expects a list, got {}", other.type_name()),
                        v.span,
                    ))),
                }
            }
            Some(tag @ ("if" | "override")) => {
                let (Some(content), Some(arg)) = (
                    a.get("content"),
                    a.get(if tag == "if" { "condition" } else { "priority" }),
                ) else {
                    out.push(Pushed::Unknown(Unresolved::new(
                        Reason::EvalError,
                        "malformed wrapper",
                        v.span,
                    )));
                    return;
                };
                let mut ws = wrappers;
                ws.push(if tag == "if" {
                    Wrapper::If(arg.value.clone(), v.span)
                } else {
                    Wrapper::Override(arg.value.clone(), v.span)
                });
                pushdown(ev, &content.value, ws, out);
            }
            Some("order") => out.push(Pushed::Unknown(Unresolved::new(
                Reason::EvalError,
                "mkOrder on a set of options is not pushed down by the module system",
                v.span,
            ))),
            _ => out.push(Pushed::Set(a.clone(), wrappers)),
        },
        V::Unresolved(u) => out.push(Pushed::Unknown((**u).clone())),
        _ => out.push(Pushed::Leaf(v.span)),
    }
}

fn wrap(t: Thunk, wrappers: &[Wrapper]) -> Thunk {
    let mut value = t;
    for w in wrappers.iter().rev() {
        value = ThunkCell::done(match w {
            Wrapper::If(c, s) => mk_if(c.clone(), value, *s),
            Wrapper::Override(p, s) => mk_override(p.clone(), value, *s),
        });
    }
    value
}

impl ModuleSystem {
    /// Every definition of `path`, in module order.
    pub fn definitions(&self, ev: &Evaluator, path: &[Rc<str>]) -> Vec<Collected> {
        let mut out = Vec::new();
        for m in &self.modules {
            let root = match &m.config {
                Ok(t) => t.clone(),
                Err(u) => {
                    out.push(Collected::Unknown(m.file, u.clone()));
                    continue;
                }
            };
            let mut current = vec![(root, Vec::new())];
            for key in path {
                let mut next = Vec::new();
                for (t, ws) in current {
                    let mut pushed = Vec::new();
                    pushdown(ev, &t, ws, &mut pushed);
                    for p in pushed {
                        match p {
                            Pushed::Set(a, ws) => match a.get(key) {
                                Some(attr) => next.push((attr.value.clone(), ws)),
                                None => {
                                    if let Some(open) = &a.open {
                                        out.push(Collected::Unknown(m.file, (**open).clone()));
                                    }
                                }
                            },
                            Pushed::Leaf(span) => out.push(Collected::Unknown(
                                m.file,
                                Unresolved::new(
                                    Reason::EvalError,
                                    format!("a value that is not a set is defined where '{key}' is looked up"),
                                    span,
                                ),
                            )),
                            Pushed::Unknown(u) => out.push(Collected::Unknown(m.file, u)),
                        }
                    }
                }
                current = next;
            }
            for (t, ws) in current {
                let span = t.span();
                out.push(Collected::Def(Definition {
                    file: m.file,
                    value: wrap(t, &ws),
                    span,
                }));
            }
        }
        out
    }

    /// The names defined directly below `path`, across modules.
    pub fn children(&self, ev: &Evaluator, path: &[Rc<str>]) -> Children {
        let mut children = Children::default();
        for c in self.definitions(ev, path) {
            match c {
                Collected::Def(d) => {
                    let mut pushed = Vec::new();
                    pushdown(ev, &d.value, Vec::new(), &mut pushed);
                    for p in pushed {
                        match p {
                            Pushed::Set(a, _) => {
                                for (k, attr) in &a.map {
                                    children.names.entry(k.clone()).or_insert(attr.key_span);
                                }
                                if let Some(open) = &a.open {
                                    children.unknown.get_or_insert_with(|| (**open).clone());
                                }
                            }
                            Pushed::Leaf(span) => {
                                children.leaf.get_or_insert(span);
                            }
                            Pushed::Unknown(u) => {
                                children.unknown.get_or_insert(u);
                            }
                        }
                    }
                }
                Collected::Unknown(_, u) => {
                    children.unknown.get_or_insert(u);
                }
            }
        }
        children
    }
}
