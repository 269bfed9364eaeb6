//! Option declarations found in the scanned modules' `options`.

use std::collections::HashMap;
use std::rc::Rc;

use super::definitions::type_tag;
use super::Module;
use crate::eval::{Evaluator, Thunk, Val, V};
use crate::source::{FileId, Span};

/// A declared option: where, and its `default` if it has one.
#[derive(Clone, Debug)]
pub struct OptionDecl {
    pub file: FileId,
    pub span: Span,
    pub default: Option<Thunk>,
}

#[derive(Default)]
pub struct Declarations {
    map: HashMap<Vec<Rc<str>>, OptionDecl>,
}

/// Option trees are small; this bounds a pathological one.
const MAX_DECLARATIONS: usize = 100_000;

impl Declarations {
    pub fn collect(ev: &Evaluator, modules: &[Module]) -> Declarations {
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
            let decl = OptionDecl {
                file,
                span: v.span,
                default: a.get("default").map(|d| d.value.clone()),
            };
            // The first declaration wins; nixpkgs rejects a second one anyway.
            self.map.entry(path.clone()).or_insert(decl);
            return;
        }
        for (k, attr) in &a.map {
            path.push(k.clone());
            let _ = ev.guarded(v.span, || {
                self.walk(ev, file, &attr.value, path);
                Val::new(V::Null, v.span)
            });
            path.pop();
        }
    }

    pub fn get(&self, path: &[Rc<str>]) -> Option<&OptionDecl> {
        self.map.get(path)
    }

    /// Declared option paths strictly below `prefix` (e.g. services).
    pub fn below<'a>(
        &'a self,
        prefix: &'a [Rc<str>],
    ) -> impl Iterator<Item = (&'a [Rc<str>], &'a OptionDecl)> + 'a {
        self.map
            .iter()
            .filter(move |(p, _)| p.len() > prefix.len() && p.starts_with(prefix))
            .map(|(p, d)| (p.as_slice(), d))
    }
}
