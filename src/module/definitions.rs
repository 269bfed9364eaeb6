//! Collecting the definitions of a config path across modules. Above the
//! option level, `mkMerge`, `mkIf` and `mkOverride` are pushed down to the
//! attributes they wrap (nixpkgs `pushDownProperties`), without evaluating
//! any condition — which is why a guard may read the option it guards.

use std::collections::BTreeMap;
use std::rc::Rc;

use rustc_hash::FxHashMap as HashMap;

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
#[derive(Clone)]
pub(super) struct Cur {
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

/// A contribution at an option whose guard cannot be evaluated.
#[derive(Clone, Debug)]
pub(super) struct Doubt {
    file: FileId,
    unresolved: Unresolved,
    content: Option<Thunk>,
}

impl Doubt {
    /// A cycle breaks the whole option in Nix; another unknown guard matters
    /// only where its content could define `key`.
    fn relevant(&self, ev: &Evaluator, key: Option<&str>) -> bool {
        self.unresolved.reason == Reason::Cycle
            || match (&self.content, key) {
                (Some(content), Some(key)) => may_define(ev, content, key),
                _ => true,
            }
    }
}

/// The values defined at one path, with what could not be known on the way.
#[derive(Default)]
pub(super) struct Level {
    curs: Vec<Cur>,
    unknown: Vec<Collected>,
}

/// What is defined below one path, by attribute name.
#[derive(Default)]
pub(super) struct Index {
    /// Each name defined, in name order (an index exists for every service
    /// and field read: a sorted vector keeps them small), with the span of
    /// its first key outside dropped definitions, and its definitions.
    names: Vec<(Rc<str>, Option<Span>, Vec<Cur>)>,
    /// Contributions that could define any name (open sets, unknown values).
    any_key: Vec<Collected>,
    doubts: Vec<Doubt>,
    /// Set when a definition here is not a set.
    leaf: Option<Span>,
}

impl Index {
    /// The definitions of `key` below the path.
    fn curs(&self, key: &str) -> &[Cur] {
        match self.names.binary_search_by(|(k, _, _)| (**k).cmp(key)) {
            Ok(i) => &self.names[i].2,
            Err(_) => &[],
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
    fn merge_boundary(&self, ev: &Evaluator, current: Vec<Cur>) -> (Vec<Cur>, Vec<Doubt>) {
        let (dropped, live): (Vec<Cur>, Vec<Cur>) =
            current.into_iter().partition(|c| c.dropped_by.is_some());
        let collected: Vec<Collected> = live
            .iter()
            .map(|c| Collected::Def(c.definition()))
            .collect();
        let merged = merge::merge(ev, &collected, None);
        let doubts = merged
            .uncertain
            .into_iter()
            .map(|u| Doubt {
                file: u.file,
                unresolved: u.unresolved,
                content: u.content,
            })
            .collect();
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
        (next, doubts)
    }

    /// The values the active modules define at `path` (memoised per path).
    fn level(&self, ev: &Evaluator, path: &[Rc<str>]) -> Rc<Level> {
        if let Some(l) = self.levels.borrow().get(path) {
            return l.clone();
        }
        let level = match path.split_last() {
            None => {
                let mut level = Level::default();
                for m in self.ordered_modules() {
                    match &m.config {
                        Ok(t) => level.curs.push(Cur {
                            thunk: t.clone(),
                            wrappers: Vec::new(),
                            file: m.file,
                            dropped_by: None,
                        }),
                        Err(u) => level.unknown.push(Collected::Unknown(m.file, u.clone())),
                    }
                }
                level
            }
            Some((key, parent_path)) => {
                let parent = self.level(ev, parent_path);
                let index = self.index(ev, parent_path);
                let mut unknown = parent.unknown.clone();
                unknown.extend(index.any_key.iter().cloned());
                for d in &index.doubts {
                    if d.relevant(ev, Some(key)) {
                        unknown.push(Collected::Unknown(d.file, d.unresolved.clone()));
                    }
                }
                Level {
                    curs: index.curs(key).to_vec(),
                    unknown,
                }
            }
        };
        let level = Rc::new(level);
        self.levels
            .borrow_mut()
            .insert(path.to_vec(), level.clone());
        level
    }

    /// What is defined directly below `path`, by attribute name (memoised).
    /// At a declared option the definitions are merged first.
    fn index(&self, ev: &Evaluator, path: &[Rc<str>]) -> Rc<Index> {
        if let Some(i) = self.indexes.borrow().get(path) {
            return i.clone();
        }
        let level = self.level(ev, path);
        let (curs, doubts) = if !path.is_empty() && self.is_boundary(path) {
            self.merge_boundary(ev, level.curs.clone())
        } else {
            (level.curs.clone(), Vec::new())
        };
        let mut index = Index {
            doubts,
            ..Index::default()
        };
        let mut names: HashMap<Rc<str>, (Option<Span>, Vec<Cur>)> = HashMap::default();
        for cur in curs {
            let mut pushed = Vec::new();
            pushdown(
                ev,
                &cur.thunk,
                cur.wrappers.clone(),
                path.len(),
                &mut pushed,
            );
            for p in pushed {
                match p {
                    Pushed::Set(a, ws) => {
                        for (k, attr) in &a.map {
                            let (key_span, curs) = names.entry(k.clone()).or_default();
                            if cur.dropped_by.is_none() {
                                key_span.get_or_insert(attr.key_span);
                            }
                            curs.push(Cur {
                                thunk: attr.value.clone(),
                                wrappers: ws.clone(),
                                file: cur.file,
                                dropped_by: cur.dropped_by,
                            });
                        }
                        if let Some(open) = &a.open {
                            index
                                .any_key
                                .push(Collected::Unknown(cur.file, (**open).clone()));
                        }
                    }
                    Pushed::Leaf(span) => {
                        if cur.dropped_by.is_none() {
                            index.leaf.get_or_insert(span);
                        }
                        index.any_key.push(Collected::Unknown(
                            cur.file,
                            Unresolved::new(
                                Reason::EvalError,
                                "a value that is not a set is defined where attributes are looked up",
                                span,
                            ),
                        ));
                    }
                    Pushed::Unknown(u) => index.any_key.push(Collected::Unknown(cur.file, u)),
                }
            }
        }
        index.names = names
            .into_iter()
            .map(|(k, (span, mut curs))| {
                curs.shrink_to_fit();
                (k, span, curs)
            })
            .collect();
        index.names.sort_by(|a, b| a.0.cmp(&b.0));
        let index = Rc::new(index);
        self.indexes
            .borrow_mut()
            .insert(path.to_vec(), index.clone());
        index
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
        for m in self.ordered_modules() {
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
                let (merged, doubts) = self.merge_boundary(ev, current);
                current = merged;
                for d in doubts {
                    if d.relevant(ev, Some(key)) {
                        out.push(Collected::Unknown(d.file, d.unresolved));
                    }
                }
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
        let current = if assumed.is_empty() {
            let level = self.level(ev, path);
            out.extend(level.unknown.iter().cloned());
            level.curs.clone()
        } else {
            self.walk(ev, path, assumed, &mut out)
        };
        out.extend(current.iter().map(|c| match c.dropped_by {
            None => Collected::Def(c.definition()),
            Some(by) => Collected::Dropped(c.definition(), by),
        }));
        out
    }

    /// The names defined directly below `path`, across modules.
    pub fn children(&self, ev: &Evaluator, path: &[Rc<str>]) -> Children {
        let level = self.level(ev, path);
        let index = self.index(ev, path);
        let mut children = Children {
            names: index
                .names
                .iter()
                .filter_map(|(k, span, _)| span.map(|s| (k.clone(), s)))
                .collect(),
            leaf: index.leaf,
            unknown: None,
        };
        let unknowns = level.unknown.iter().chain(index.any_key.iter());
        for c in unknowns {
            if let Collected::Unknown(_, u) = c {
                children.unknown.get_or_insert_with(|| u.clone());
            }
        }
        if children.unknown.is_none() {
            if let Some(d) = index.doubts.iter().find(|d| d.relevant(ev, None)) {
                children.unknown = Some(d.unresolved.clone());
            }
        }
        children
    }
}
