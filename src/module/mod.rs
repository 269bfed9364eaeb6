//! The NixOS module system, statically: module shapes, definitions collected
//! across modules (with `mkIf`/`mkMerge`/`mkOverride` pushed down as
//! `pushDownProperties` does), option declarations, and the merge of an
//! option's definitions (`dischargeProperties`, `filterOverrides`,
//! `sortProperties`).

pub mod definitions;
pub mod imports;
pub mod merge;
pub mod options;

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use rustc_hash::FxHashMap as HashMap;

use crate::eval::{
    join_path, Attrs, ConfigResolver, Evaluator, Item, Reason, SystemId, Thunk, ThunkCell,
    Unresolved, Val, V,
};
use crate::source::{FileId, Span};
use crate::syntax::NodeId;

pub use definitions::{Collected, Definition};
pub use merge::{Merged, Piece};
pub use options::OptionDecl;

/// One scanned file seen as a NixOS module.
pub struct Module {
    pub file: FileId,
    /// The module's `config` (or the whole set, for the shorthand form).
    pub config: Result<Thunk, Unresolved>,
    /// The module's `options`, if any.
    pub options: Option<Thunk>,
    /// The entries of `imports` that could be computed, in order.
    pub imports: Vec<Import>,
    /// Entries of `imports` that could not be computed.
    pub unresolved_imports: Vec<Unresolved>,
}

/// One entry of a module's `imports`.
#[derive(Clone, Debug)]
pub enum Import {
    /// A file (or a directory, meaning its `default.nix`).
    File(PathBuf, Span),
    /// An inline module: its index in [`ModuleSystem::modules`].
    Inline(usize),
}

/// Keys of a module that are not configuration (nixpkgs lib/modules.nix).
const MODULE_KEYS: &[&str] = &[
    "_class",
    "_file",
    "key",
    "disabledModules",
    "imports",
    "options",
    "config",
    "meta",
    "freeformType",
];

pub struct ModuleSystem {
    /// Its id for `config` references.
    pub system: SystemId,
    pub modules: Vec<Module>,
    /// Modules given as values rather than files (indices into `modules`).
    pub extra: Vec<usize>,
    /// Modules that take part in the merge (those the entry module imports).
    active: Vec<bool>,
    /// The order in which the module system sees the definitions (indices
    /// into `modules`).
    order: Vec<usize>,
    /// Each file's own module (not its inline ones), by file.
    pub tops: HashMap<FileId, usize>,
    options: options::Declarations,
    resolving: RefCell<HashMap<Vec<Rc<str>>, Option<Val>>>,
    /// Memoised walks: the values at a path, and what is below it by name.
    levels: RefCell<HashMap<Vec<Rc<str>>, Rc<definitions::Level>>>,
    indexes: RefCell<HashMap<Vec<Rc<str>>, Rc<definitions::Index>>>,
}

impl ModuleSystem {
    /// Evaluates each file's module shape: the function is applied to the
    /// module arguments, and `config`/`options`/`imports` are separated.
    pub fn load(ev: &Evaluator, roots: &[(FileId, NodeId)]) -> ModuleSystem {
        Self::load_system(ev, 0, roots, Vec::new())
    }

    /// Loads a module system of id `system`: the files, plus modules given as
    /// values (a host's inline modules; `extra` records their indices).
    pub fn load_system(
        ev: &Evaluator,
        system: SystemId,
        roots: &[(FileId, NodeId)],
        values: Vec<(FileId, Val)>,
    ) -> ModuleSystem {
        let mut modules = Vec::new();
        let mut tops = Vec::new();
        for (file, expr) in roots {
            ev.reset_budget();
            let env = ev.file_env(*file);
            let value = ev.eval_whnf(*expr, &env);
            let top = load_module(ev, system, *file, value, 0, &mut modules);
            tops.push((*file, top));
        }
        let mut extra = Vec::new();
        for (file, value) in values {
            ev.reset_budget();
            extra.push(load_module(ev, system, file, value, 0, &mut modules));
        }
        let options = options::Declarations::collect(ev, &modules);
        let active = vec![
            true;
            modules
                .iter()
                .map(|m| m.file as usize + 1)
                .max()
                .unwrap_or(0)
        ];
        ModuleSystem {
            system,
            extra,
            order: (0..modules.len()).collect(),
            tops: tops.into_iter().collect(),
            modules,
            active,
            options,
            resolving: RefCell::new(HashMap::default()),
            levels: RefCell::new(HashMap::default()),
            indexes: RefCell::new(HashMap::default()),
        }
    }

    /// The active modules, in the order the module system merges them.
    pub fn ordered_modules(&self) -> impl Iterator<Item = &Module> {
        self.order
            .iter()
            .map(|i| &self.modules[*i])
            .filter(|m| self.is_active(m.file))
    }

    pub fn is_active(&self, file: FileId) -> bool {
        self.active.get(file as usize).copied().unwrap_or(false)
    }

    pub fn declaration(&self, path: &[Rc<str>]) -> Option<&OptionDecl> {
        self.options.get(path)
    }

    pub fn declarations(&self) -> &options::Declarations {
        &self.options
    }
}

fn module_args(ev: &Evaluator, system: SystemId, span: Span) -> Thunk {
    let mut map = crate::eval::AttrMap::new();
    let attr = |t: Thunk| crate::eval::Attr {
        value: t,
        key_span: Span::DETACHED,
    };
    map.insert(
        Rc::from("config"),
        attr(ThunkCell::done(Val::new(
            V::Config(system, Rc::from(vec![])),
            span,
        ))),
    );
    map.insert(Rc::from("lib"), attr(ev.lib()));
    ThunkCell::done(Val::new(
        V::Attrs(Rc::new(Attrs {
            map,
            open: Some(Rc::new(Unresolved::new(
                Reason::DefinedElsewhere,
                "module argument supplied by NixOS or the flake",
                span,
            ))),
        })),
        span,
    ))
}

/// Inline modules nested deeper than this in `imports` are not followed.
const MAX_INLINE_DEPTH: usize = 32;

/// Loads one module value (a file's, or an inline module from `imports`), and
/// the inline modules it imports, into `out`.
fn load_module(
    ev: &Evaluator,
    system: SystemId,
    file: FileId,
    value: Val,
    depth: usize,
    out: &mut Vec<Module>,
) -> usize {
    let mut inline = Vec::new();
    let index = out.len();
    out.push(load_one(ev, system, file, value, &mut inline));
    // `Import::Inline(k)` first counts the inline modules of this one; it
    // becomes the index of the loaded module.
    let mut loaded = Vec::new();
    if depth < MAX_INLINE_DEPTH {
        for v in inline {
            loaded.push(load_module(ev, system, file, v, depth + 1, out));
        }
    }
    let imports = std::mem::take(&mut out[index].imports);
    out[index].imports = imports
        .into_iter()
        .filter_map(|i| match i {
            Import::Inline(k) => loaded.get(k).map(|j| Import::Inline(*j)),
            file => Some(file),
        })
        .collect();
    index
}

fn load_one(
    ev: &Evaluator,
    system: SystemId,
    file: FileId,
    value: Val,
    inline: &mut Vec<Val>,
) -> Module {
    let span = value.span;
    let mut value = value;
    if matches!(value.v, V::Lambda(_) | V::Prim(_)) {
        value = ev.whnf(ev.apply(value, module_args(ev, system, span), span));
    }
    let mut module = Module {
        file,
        config: Err(Unresolved::new(Reason::EvalError, "not a module", span)),
        options: None,
        imports: Vec::new(),
        unresolved_imports: Vec::new(),
    };
    let attrs = match &value.v {
        V::Attrs(a) => a.clone(),
        V::Unresolved(u) => {
            module.config = Err(Unresolved::new(
                u.reason,
                format!("the module itself cannot be evaluated: {}", u.detail),
                u.span,
            ));
            return module;
        }
        other => {
            module.config = Err(Unresolved::new(
                Reason::EvalError,
                format!(
                    "a module must be a set or a function returning one, not {}",
                    other.type_name()
                ),
                value.span,
            ));
            return module;
        }
    };
    if let Some(imports) = attrs.get("imports") {
        collect_imports(ev, &imports.value, &mut module, inline);
    }
    module.options = attrs.get("options").map(|a| a.value.clone());
    let structured = attrs.get("config").is_some() || attrs.get("options").is_some();
    module.config = if structured {
        match attrs.get("config") {
            Some(c) => Ok(c.value.clone()),
            None => Ok(ThunkCell::done(Val::new(V::Attrs(Rc::default()), span))),
        }
    } else {
        // The shorthand module: everything but the module keys is config.
        let map = attrs
            .map
            .iter()
            .filter(|(k, _)| !MODULE_KEYS.contains(&k.as_ref()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(ThunkCell::done(Val::new(
            V::Attrs(Rc::new(Attrs {
                map,
                open: attrs.open.clone(),
            })),
            value.span,
        )))
    };
    if let (true, Some(open)) = (structured, &attrs.open) {
        module.unresolved_imports.push((**open).clone());
    }
    module
}

fn collect_imports(ev: &Evaluator, t: &Thunk, module: &mut Module, inline: &mut Vec<Val>) {
    let v = ev.force(t);
    let list = match &v.v {
        V::List(l) => l.clone(),
        V::Unresolved(u) => {
            module.unresolved_imports.push((**u).clone());
            return;
        }
        _ => return,
    };
    for item in &list.items {
        match item {
            Item::Known(t) => {
                let v = ev.force(t);
                match &v.v {
                    V::Path(p) => module.imports.push(Import::File((**p).clone(), v.span)),
                    V::Str(s) if s.starts_with('/') => module
                        .imports
                        .push(Import::File(PathBuf::from(&**s), v.span)),
                    V::Unresolved(u) => module.unresolved_imports.push((**u).clone()),
                    // Inline modules (sets, functions) are loaded as modules of this file.
                    V::Attrs(_) | V::Lambda(_) | V::Prim(_) => {
                        module.imports.push(Import::Inline(inline.len()));
                        inline.push(v.clone());
                    }
                    _ => {}
                }
            }
            Item::Unknown(u) => module.unresolved_imports.push((**u).clone()),
        }
    }
}

impl ConfigResolver for ModuleSystem {
    /// `config.<path>`: the merged value of every definition of that path.
    fn resolve(&self, ev: &Evaluator, path: &[Rc<str>], span: Span) -> Val {
        let key = path.to_vec();
        match self.resolving.borrow().get(&key) {
            Some(Some(v)) => return v.clone(),
            Some(None) => {
                return Val::unresolved(
                    Reason::Cycle,
                    format!("config.{} depends on itself", join_path(path)),
                    span,
                )
            }
            None => {}
        }
        self.resolving.borrow_mut().insert(key.clone(), None);
        let v = self.resolve_uncached(ev, path, span);
        self.resolving.borrow_mut().insert(key, Some(v.clone()));
        v
    }
}

impl ModuleSystem {
    fn resolve_uncached(&self, ev: &Evaluator, path: &[Rc<str>], span: Span) -> Val {
        let decl = self.declaration(path);
        let collected = self.definitions(ev, path);
        if decl.is_none() {
            // Not a declared option: a namespace when every definition is a set.
            let children = self.children(ev, path);
            if children.leaf.is_none() {
                if !children.names.is_empty() {
                    let map = children
                        .names
                        .iter()
                        .map(|(name, key_span)| {
                            let mut p = path.to_vec();
                            p.push(name.clone());
                            let value = ThunkCell::done(Val::new(
                                V::Config(self.system, p.into()),
                                *key_span,
                            ));
                            (
                                name.clone(),
                                crate::eval::Attr {
                                    value,
                                    key_span: *key_span,
                                },
                            )
                        })
                        .collect();
                    return Val::new(
                        V::Attrs(Rc::new(Attrs {
                            map,
                            open: children.unknown.map(Rc::new),
                        })),
                        span,
                    );
                }
                if let Some(u) = children.unknown {
                    return Val::new(V::Unresolved(Rc::new(u)), span);
                }
            }
        }
        let merged = merge::merge(ev, &collected, decl.and_then(|d| d.default.clone()));
        merge::generic_value(ev, &merged, path, span)
    }
}

#[cfg(test)]
mod tests;
