//! Collecting the definitions of a config path across modules. Above the
//! option level, `mkMerge`, `mkIf` and `mkOverride` are pushed down to the
//! attributes they wrap (nixpkgs `pushDownProperties`), without evaluating
//! any condition — which is why a guard may read the option it guards.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::merge;
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
    /// Wrappers pushed down onto it from enclosing sets: (is `mkOverride`,
    /// path depth where it was written).
    pub lifted: Vec<(bool, usize)>,
}

#[derive(Clone, Debug)]
pub enum Collected {
    Def(Definition),
    /// A definition inside a whole set that a definition with a smaller
    /// priority number dropped at an enclosing option (the span is the winner's).
    Dropped(Definition, Span),
    /// A module whose contribution at this path cannot be known.
    Unknown(FileId, Unresolved),
}

/// A wrapper met on the way down, re-applied to what it wrapped.
#[derive(Clone)]
enum Wrapper {
    /// The condition, the `mkIf` span, and the path depth where it was met.
    If(Thunk, Span, usize),
    Override(Thunk, Span, usize),
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

fn pushdown(
    ev: &Evaluator,
    t: &Thunk,
    wrappers: Vec<Wrapper>,
    depth: usize,
    out: &mut Vec<Pushed>,
) {
    let v = ev.force(t);
    let r = ev.guarded(v.span, || {
        pushdown_value(ev, &v, wrappers, depth, out);
        Val::new(V::Null, v.span)
    });
    if let V::Unresolved(u) = r.v {
        out.push(Pushed::Unknown((*u).clone()));
    }
}

fn pushdown_value(
    ev: &Evaluator,
    v: &Val,
    wrappers: Vec<Wrapper>,
    depth: usize,
    out: &mut Vec<Pushed>,
) {
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
                                Item::Known(t) => pushdown(ev, t, wrappers.clone(), depth, out),
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
                    Wrapper::If(arg.value.clone(), v.span, depth)
                } else {
                    Wrapper::Override(arg.value.clone(), v.span, depth)
                });
                pushdown(ev, &content.value, ws, depth, out);
            }
            // mkOrder is not pushed down: it only means something at an option.
            Some("order") => out.push(Pushed::Leaf(v.span)),
            _ => out.push(Pushed::Set(a.clone(), wrappers)),
        },
        V::Unresolved(u) => out.push(Pushed::Unknown((**u).clone())),
        V::Lambda(_) | V::Prim(_) => out.push(Pushed::Unknown(Unresolved::new(
            Reason::Unsupported,
            "a module written as a function inside a definition",
            v.span,
        ))),
        _ => out.push(Pushed::Leaf(v.span)),
    }
}

fn wrap(t: Thunk, wrappers: &[Wrapper]) -> Thunk {
    let mut value = t;
    for w in wrappers.iter().rev() {
        value = ThunkCell::done(match w {
            Wrapper::If(c, s, _) => mk_if(c.clone(), value, *s),
            Wrapper::Override(p, s, _) => mk_override(p.clone(), value, *s),
        });
    }
    value
}

/// The sets a value stands for once `mkIf`/`mkMerge`/`mkOverride` are pushed
/// down (conditions not evaluated).
pub fn sets(ev: &Evaluator, t: &Thunk) -> Vec<Rc<Attrs>> {
    let mut pushed = Vec::new();
    pushdown(ev, t, Vec::new(), 0, &mut pushed);
    pushed
        .into_iter()
        .filter_map(|p| match p {
            Pushed::Set(a, _) => Some(a),
            _ => None,
        })
        .collect()
}

/// A value on the way down a path, with the wrappers met since the last
/// option boundary.
struct Cur {
    thunk: Thunk,
    wrappers: Vec<Wrapper>,
    file: FileId,
    /// Set when an enclosing option's merge dropped this definition.
    dropped_by: Option<Span>,
}

impl Cur {
    fn definition(&self) -> Definition {
        Definition {
            file: self.file,
            value: wrap(self.thunk.clone(), &self.wrappers),
            span: self.thunk.span(),
            lifted: self
                .wrappers
                .iter()
                .map(|w| match w {
                    Wrapper::If(_, _, d) => (false, *d),
                    Wrapper::Override(_, _, d) => (true, *d),
                })
                .collect(),
        }
    }
}

/// Whether a definition, if its guard held, would define `key` below it.
fn may_define(ev: &Evaluator, content: &Thunk, key: &str) -> bool {
    let mut pushed = Vec::new();
    pushdown(ev, content, Vec::new(), 0, &mut pushed);
    pushed.iter().any(|p| match p {
        Pushed::Set(a, _) => a.get(key).is_some() || a.open.is_some(),
        Pushed::Leaf(_) => false,
        Pushed::Unknown(_) => true,
    })
}

impl ModuleSystem {
    /// Merges the definitions of a declared option that the path goes through
    /// (a submodule, `attrsOf`): guards and priorities apply here to whole
    /// sets, as nixpkgs' `mergeDefinitions` does for that option.
    fn merge_boundary(
        &self,
        ev: &Evaluator,
        current: Vec<Cur>,
        next: Option<&str>,
        out: &mut Vec<Collected>,
    ) -> Vec<Cur> {
        let (dropped, live): (Vec<Cur>, Vec<Cur>) =
            current.into_iter().partition(|c| c.dropped_by.is_some());
        let collected: Vec<Collected> = live
            .iter()
            .map(|c| Collected::Def(c.definition()))
            .collect();
        let merged = merge::merge(ev, &collected, None);
        for u in merged.uncertain {
            // A cycle breaks the whole option in Nix; another unknown guard
            // matters only where its content could define what we look for.
            let relevant = u.unresolved.reason == Reason::Cycle
                || match (&u.content, next) {
                    (Some(content), Some(key)) => may_define(ev, content, key),
                    _ => true,
                };
            if relevant {
                out.push(Collected::Unknown(u.file, u.unresolved));
            }
        }
        let winner = merged.counted.first().map(|c| c.def_span);
        let mut next: Vec<Cur> = merged
            .counted
            .into_iter()
            .map(|c| Cur {
                thunk: ThunkCell::done(c.value),
                wrappers: Vec::new(),
                file: c.file,
                dropped_by: None,
            })
            .collect();
        // Keep what was dropped, marked, so that its declarations can be reported as overridden.
        next.extend(merged.overridden.into_iter().map(|c| Cur {
            thunk: ThunkCell::done(c.value),
            wrappers: Vec::new(),
            file: c.file,
            dropped_by: winner.or(Some(c.def_span)),
        }));
        next.extend(dropped);
        next
    }

    /// Walks every active module down `path`: pushdown at namespaces, merge
    /// at declared option boundaries.
    fn walk(
        &self,
        ev: &Evaluator,
        path: &[Rc<str>],
        assumed: &[&[Rc<str>]],
        out: &mut Vec<Collected>,
    ) -> Vec<Cur> {
        let mut current = Vec::new();
        for m in self.modules.iter().filter(|m| self.is_active(m.file)) {
            match &m.config {
                Ok(t) => current.push(Cur {
                    thunk: t.clone(),
                    wrappers: Vec::new(),
                    file: m.file,
                    dropped_by: None,
                }),
                Err(u) => out.push(Collected::Unknown(m.file, u.clone())),
            }
        }
        for (depth, key) in path.iter().enumerate() {
            if depth > 0 && (self.is_boundary(&path[..depth]) || assumed.contains(&&path[..depth]))
            {
                current = self.merge_boundary(ev, current, Some(key), out);
            }
            let mut next = Vec::new();
            for cur in current {
                let mut pushed = Vec::new();
                pushdown(ev, &cur.thunk, cur.wrappers.clone(), depth, &mut pushed);
                for p in pushed {
                    match p {
                        Pushed::Set(a, ws) => match a.get(key) {
                            Some(attr) => next.push(Cur {
                                thunk: attr.value.clone(),
                                wrappers: ws,
                                file: cur.file,
                                dropped_by: cur.dropped_by,
                            }),
                            None => {
                                if let Some(open) = &a.open {
                                    out.push(Collected::Unknown(cur.file, (**open).clone()));
                                }
                            }
                        },
                        Pushed::Leaf(span) => out.push(Collected::Unknown(
                            cur.file,
                            Unresolved::new(
                                Reason::EvalError,
                                format!("a value that is not a set is defined where '{key}' is looked up"),
                                span,
                            ),
                        )),
                        Pushed::Unknown(u) => out.push(Collected::Unknown(cur.file, u)),
                    }
                }
            }
            current = next;
        }
        current
    }

    fn is_boundary(&self, prefix: &[Rc<str>]) -> bool {
        self.declaration(prefix).is_some()
    }

    /// Every definition of `path`, in module order.
    pub fn definitions(&self, ev: &Evaluator, path: &[Rc<str>]) -> Vec<Collected> {
        self.definitions_assuming(ev, path, &[])
    }

    /// The definitions of `path` as they would be if the `assumed` prefixes
    /// were declared as submodule options (to tell whether an answer depends
    /// on declarations that are not in the scanned files).
    pub fn definitions_assuming(
        &self,
        ev: &Evaluator,
        path: &[Rc<str>],
        assumed: &[&[Rc<str>]],
    ) -> Vec<Collected> {
        let mut out = Vec::new();
        let current = self.walk(ev, path, assumed, &mut out);
        out.extend(current.iter().map(|c| match c.dropped_by {
            None => Collected::Def(c.definition()),
            Some(by) => Collected::Dropped(c.definition(), by),
        }));
        out
    }

    /// The names defined directly below `path`, across modules.
    pub fn children(&self, ev: &Evaluator, path: &[Rc<str>]) -> Children {
        let mut children = Children::default();
        let mut unknown = Vec::new();
        let mut current = self.walk(ev, path, &[], &mut unknown);
        if !path.is_empty() && self.is_boundary(path) {
            current = self.merge_boundary(ev, current, None, &mut unknown);
        }
        for u in unknown {
            if let Collected::Unknown(_, u) = u {
                children.unknown.get_or_insert(u);
            }
        }
        for cur in current.iter().filter(|c| c.dropped_by.is_none()) {
            let mut pushed = Vec::new();
            pushdown(ev, &cur.thunk, Vec::new(), path.len(), &mut pushed);
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
        children
    }
}
