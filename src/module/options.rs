//! Option declarations found in the scanned modules' `options`, including the
//! options of submodules (`submodule`, `attrsOf (submodule …)`), whose paths
//! hold a wildcard for the attribute name.

use std::collections::BTreeMap;
use std::rc::Rc;

use rustc_hash::FxHashMap as HashMap;

use super::definitions::type_tag;
use super::Module;
use crate::eval::{Attr, Attrs, Evaluator, Item, Reason, Thunk, ThunkCell, Unresolved, Val, V};
use crate::source::{FileId, Span};

/// The path segment standing for any attribute name (`attrsOf`'s `<name>`).
pub const ANY: &str = "<name>";

/// What a declared option's type means for merging.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionKind {
    /// `types.submodule`: definitions are merged (priorities, guards) at this
    /// level as whole sets, then their attributes are options again.
    Submodule,
    /// `types.attrsOf`/`lazyAttrsOf`: merged at this level, then per name.
    AttrsOf { elem_submodule: bool },
    /// Any other type (a leaf: bool, list, string, ...), by its name.
    Leaf(String),
}

/// A declared option: where, its type's kind, and its `default` if any.
#[derive(Clone, Debug)]
pub struct OptionDecl {
    pub file: FileId,
    pub span: Span,
    pub kind: OptionKind,
    pub default: Option<Thunk>,
}

#[derive(Default)]
pub struct Declarations {
    map: HashMap<Vec<Rc<str>>, OptionDecl>,
}

/// Option trees are small; this bounds a pathological one.
const MAX_DECLARATIONS: usize = 200_000;

impl Declarations {
    pub fn collect<'m>(
        ev: &Evaluator,
        modules: impl IntoIterator<Item = &'m Module>,
    ) -> Declarations {
        let mut decls = Declarations::default();
        for m in modules {
            if let Some(options) = &m.options {
                ev.reset_budget();
                let mut path = Vec::new();
                decls.walk(ev, m.file, options, &mut path);
            }
        }
        decls
    }

    fn walk(&mut self, ev: &Evaluator, file: FileId, t: &Thunk, path: &mut Vec<Rc<str>>) {
        if self.map.len() >= MAX_DECLARATIONS {
            return;
        }
        let v = ev.force(t);
        let V::Attrs(a) = &v.v else { return };
        if type_tag(ev, a).as_deref() == Some("option") {
            self.declare(ev, file, &v, a, path);
            return;
        }
        for (k, attr) in &a.map {
            path.push(k.clone());
            self.walk_guarded(ev, file, &attr.value, path, v.span);
            path.pop();
        }
    }

    fn walk_guarded(
        &mut self,
        ev: &Evaluator,
        file: FileId,
        t: &Thunk,
        path: &mut Vec<Rc<str>>,
        span: Span,
    ) {
        let _ = ev.guarded(span, || {
            self.walk(ev, file, t, path);
            Val::new(V::Null, span)
        });
    }

    fn declare(
        &mut self,
        ev: &Evaluator,
        file: FileId,
        v: &Val,
        a: &Attrs,
        path: &mut Vec<Rc<str>>,
    ) {
        let ty = a.get("type").map(|t| ev.force(&t.value));
        let (kind, submodules) = match ty.as_ref().map(|t| type_info(ev, t)) {
            Some((name, Some(modules))) if name == "submodule" => {
                (OptionKind::Submodule, Some((modules, false)))
            }
            Some((name, elem)) if name == "attrsOf" || name == "lazyAttrsOf" => match elem {
                Some(m) => (
                    OptionKind::AttrsOf {
                        elem_submodule: true,
                    },
                    Some((m, true)),
                ),
                None => (
                    OptionKind::AttrsOf {
                        elem_submodule: false,
                    },
                    None,
                ),
            },
            Some((name, _)) => (OptionKind::Leaf(name), None),
            None => (OptionKind::Leaf("unspecified".to_string()), None),
        };
        let decl = OptionDecl {
            file,
            span: v.span,
            kind,
            default: a.get("default").map(|d| d.value.clone()),
        };
        // The first declaration wins; nixpkgs rejects conflicting ones anyway.
        self.map.entry(path.clone()).or_insert(decl);
        if let Some((modules, with_name)) = submodules {
            if with_name {
                path.push(Rc::from(ANY));
                // Each attribute of an `attrsOf (submodule …)` is itself a submodule option.
                let elem = OptionDecl {
                    file,
                    span: v.span,
                    kind: OptionKind::Submodule,
                    default: None,
                };
                self.map.entry(path.clone()).or_insert(elem);
            }
            for m in modules {
                if let Some(options) = submodule_options(ev, &m, v.span) {
                    self.walk_guarded(ev, file, &options, path, v.span);
                }
            }
            if with_name {
                path.pop();
            }
        }
    }

    /// The declaration of `path`, matching `<name>` wildcards of `attrsOf`.
    pub fn get(&self, path: &[Rc<str>]) -> Option<&OptionDecl> {
        if let Some(d) = self.map.get(path) {
            return Some(d);
        }
        if path.len() > 12 {
            return None;
        }
        // Try every combination of wildcards, fewest first.
        let n = path.len();
        let mut masks: Vec<u32> = (1..(1u32 << n)).collect();
        masks.sort_by_key(|m| m.count_ones());
        for mask in masks {
            let candidate: Vec<Rc<str>> = path
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    if mask & (1 << i) != 0 {
                        Rc::from(ANY)
                    } else {
                        s.clone()
                    }
                })
                .collect();
            if let Some(d) = self.map.get(&candidate) {
                return Some(d);
            }
        }
        None
    }

    /// Service names declared directly below `prefix` (not wildcards).
    pub fn names_below(&self, prefix: &[Rc<str>]) -> BTreeMap<Rc<str>, Span> {
        let mut out = BTreeMap::new();
        for (p, d) in &self.map {
            if p.len() > prefix.len() && p.starts_with(prefix) && &*p[prefix.len()] != ANY {
                out.entry(p[prefix.len()].clone()).or_insert(d.span);
            }
        }
        out
    }
}

/// A type descriptor's name, and the modules of a submodule (directly, or as
/// the element type of `attrsOf`).
fn type_info(ev: &Evaluator, t: &Val) -> (String, Option<Vec<Thunk>>) {
    let V::Attrs(a) = &t.v else {
        return ("unspecified".to_string(), None);
    };
    let name = a
        .get("name")
        .map(|n| ev.force(&n.value))
        .and_then(|n| match n.v {
            V::Str(s) => Some(s.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| "unspecified".to_string());
    let modules_of = |a: &Attrs| -> Option<Vec<Thunk>> {
        let l = ev.force(&a.get("modules")?.value);
        match &l.v {
            V::List(l) => Some(
                l.items
                    .iter()
                    .filter_map(|i| match i {
                        Item::Known(t) => Some(t.clone()),
                        Item::Unknown(_) => None,
                    })
                    .collect(),
            ),
            _ => None,
        }
    };
    match name.as_str() {
        "submodule" => (name, modules_of(a)),
        "attrsOf" | "lazyAttrsOf" => {
            let elem = a.get("elemType").map(|e| ev.force(&e.value));
            let modules = elem.and_then(|e| {
                let (elem_name, m) = type_info(ev, &e);
                (elem_name == "submodule").then_some(m).flatten()
            });
            (name, modules)
        }
        _ => (name, None),
    }
}

/// The `options` of a submodule module (a set or a function of `{ name, config, lib, ... }`).
fn submodule_options(ev: &Evaluator, m: &Thunk, span: Span) -> Option<Thunk> {
    let mut v = ev.force(m);
    if matches!(v.v, V::Lambda(_) | V::Prim(_)) {
        let mut map = crate::eval::AttrMap::new();
        map.insert(
            Rc::from("lib"),
            Attr {
                value: ev.lib(),
                key_span: Span::DETACHED,
            },
        );
        let args = Val::new(
            V::Attrs(Rc::new(Attrs {
                map,
                open: Some(Rc::new(Unresolved::new(
                    Reason::DefinedElsewhere,
                    "submodule argument",
                    span,
                ))),
            })),
            span,
        );
        v = ev.whnf(ev.apply(v, ThunkCell::done(args), span));
    }
    match &v.v {
        V::Attrs(a) => a.get("options").map(|o| o.value.clone()),
        _ => None,
    }
}
