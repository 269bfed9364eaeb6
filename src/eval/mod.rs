//! The static evaluator: a lazy interpreter over rnix syntax trees whose values
//! are known (with spans) or unresolved (with a reason). It knows nothing of
//! rules; `config.<path>` is answered by a [`ConfigResolver`] (the module system).

mod attr_map;
mod bindings;
pub mod env;
mod ops;
pub mod prim;
pub mod strict;
pub mod value;

use std::cell::{Cell, RefCell};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use rustc_hash::FxHashMap as HashMap;

pub use attr_map::AttrMap;
pub use env::{Env, Scope};
pub use value::SystemId;
pub use value::{Attr, Attrs, Closure, Item, List, Reason, Thunk, ThunkCell, Unresolved, Val, V};

use crate::source::{FileId, Span};
use crate::syntax::{self as ast, Expr, FileAst, NodeId};
use value::ThunkState;

/// Answers `config.<path>` with the merged value of every definition.
pub trait ConfigResolver {
    fn resolve(&self, ev: &Evaluator, path: &[Rc<str>], span: Span) -> Val;
}

/// Bounds that keep any input from hanging or overflowing the stack.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_depth: u32,
    /// Per unit of work (see [`Evaluator::reset_budget`]).
    pub max_steps: u64,
    /// For the whole analysis: many units each spending their budget must
    /// not add up to minutes.
    pub max_total_steps: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 2_000,
            max_steps: 1_000_000,
            max_total_steps: 4_000_000,
        }
    }
}

pub struct Evaluator {
    /// Directory of each file, for relative paths.
    dirs: Vec<PathBuf>,
    /// The module systems `config` references resolve against, by id: each
    /// NixOS configuration (a host, a container) is one.
    resolvers: RefCell<Vec<Option<Rc<dyn ConfigResolver>>>>,
    builtins: Env,
    limits: Limits,
    /// Each file's syntax tree, by id (those that parsed).
    syntax: RefCell<Vec<Option<Rc<FileAst>>>>,
    /// Files `import` may evaluate: the analysed ones, by absolute path.
    importable: RefCell<HashMap<PathBuf, (FileId, NodeId)>>,
    /// Each imported file is evaluated once.
    imported: RefCell<HashMap<FileId, Thunk>>,
    root: RefCell<PathBuf>,
    depth: Cell<u32>,
    steps: Cell<u64>,
    total_steps: Cell<u64>,
    /// Scopes whose variables are added after they are made (`let`, `rec`,
    /// function arguments): their thunks refer back to them, so `Rc` alone
    /// never frees them. Emptied when the evaluator is dropped.
    scopes: RefCell<Vec<std::rc::Weak<Scope>>>,
    /// Attribute and variable names, one allocation each however many
    /// modules write them (`enable`, `databases`, `name`, ...).
    names: RefCell<rustc_hash::FxHashSet<Rc<str>>>,
}

impl Drop for Evaluator {
    fn drop(&mut self) {
        // Break the cycles scope → thunk → environment → scope.
        for scope in self.scopes.get_mut().drain(..) {
            if let Some(scope) = scope.upgrade() {
                scope.clear();
            }
        }
    }
}

impl Evaluator {
    /// A scope whose variables are inserted after it is made; freed with the evaluator.
    pub(super) fn child_scope(&self, parent: &Env) -> Env {
        let scope = Scope::child(parent, HashMap::default());
        self.track(&scope);
        scope
    }

    /// Records a scope that may hold thunks referring back to it.
    fn track(&self, scope: &Env) {
        let mut scopes = self.scopes.borrow_mut();
        // A weak reference keeps its scope's allocation: forget the scopes
        // already freed whenever the list has doubled, so that millions of
        // short-lived ones do not pile up.
        if scopes.len() == scopes.capacity() && scopes.len() >= 1024 {
            scopes.retain(|s| s.strong_count() > 0);
            let live = scopes.len();
            scopes.reserve(live.max(1024));
        }
        scopes.push(Rc::downgrade(scope));
    }
}

impl Evaluator {
    /// The shared copy of a name.
    pub(super) fn name(&self, name: &str) -> Rc<str> {
        let mut names = self.names.borrow_mut();
        match names.get(name) {
            Some(n) => n.clone(),
            None => {
                let n: Rc<str> = Rc::from(name);
                names.insert(n.clone());
                n
            }
        }
    }

    pub fn new(dirs: Vec<PathBuf>, limits: Limits) -> Evaluator {
        Evaluator {
            dirs,
            resolvers: RefCell::new(vec![None]),
            builtins: prim::builtins_scope(),
            limits,
            syntax: RefCell::new(Vec::new()),
            importable: RefCell::new(HashMap::default()),
            imported: RefCell::new(HashMap::default()),
            root: RefCell::new(PathBuf::new()),
            depth: Cell::new(0),
            steps: Cell::new(0),
            total_steps: Cell::new(0),
            scopes: RefCell::new(Vec::new()),
            names: RefCell::new(Default::default()),
        }
    }

    /// Makes `resolver` the module system of id 0 (the default configuration).
    pub fn set_resolver(&self, resolver: Rc<dyn ConfigResolver>) {
        self.register(0, resolver);
    }

    /// A fresh module-system id, for a configuration loaded afterwards.
    pub fn reserve_system(&self) -> SystemId {
        let mut r = self.resolvers.borrow_mut();
        r.push(None);
        (r.len() - 1) as SystemId
    }

    pub fn register(&self, id: SystemId, resolver: Rc<dyn ConfigResolver>) {
        let mut r = self.resolvers.borrow_mut();
        if r.len() <= id as usize {
            r.resize(id as usize + 1, None);
        }
        r[id as usize] = Some(resolver);
    }

    /// Starts a new unit of work: the step budget is per unit, so one runaway
    /// expression cannot starve the rest of the analysis.
    pub fn reset_budget(&self) {
        self.steps.set(0);
    }

    /// Evaluation steps spent so far in the whole analysis.
    pub fn total_steps(&self) -> u64 {
        self.total_steps.get()
    }

    /// Gives the evaluator `ast`, the syntax tree of its file.
    pub fn add_syntax(&self, ast: Rc<FileAst>) {
        let mut syntax = self.syntax.borrow_mut();
        let i = ast.file() as usize;
        if syntax.len() <= i {
            syntax.resize(i + 1, None);
        }
        syntax[i] = Some(ast);
    }

    /// The root scope for expressions of `file`.
    pub fn file_env(&self, file: FileId) -> Env {
        let ast = self
            .syntax
            .borrow()
            .get(file as usize)
            .cloned()
            .flatten()
            .unwrap_or_else(|| Rc::new(FileAst::empty(file)));
        Scope::for_file(&self.builtins, ast)
    }

    /// Makes the analysed files available to `import` (each its root
    /// expression); messages name paths relative to `root`.
    pub fn set_importable(&self, root: &Path, files: HashMap<PathBuf, (FileId, NodeId)>) {
        *self.importable.borrow_mut() = files;
        *self.root.borrow_mut() = root.to_path_buf();
    }

    /// A path as messages show it: relative to the root when under it.
    pub fn display_path(&self, p: &Path) -> String {
        let root = self.root.borrow();
        match p.strip_prefix(&*root) {
            Ok(rel) if !root.as_os_str().is_empty() => rel.display().to_string(),
            _ => p.display().to_string(),
        }
    }

    /// `import path`: an analysed file (or a directory's `default.nix`) is
    /// evaluated once; anything else is defined elsewhere.
    pub fn import(&self, path: &Path, span: Span) -> Val {
        let found = {
            let files = self.importable.borrow();
            files
                .get(path)
                .or_else(|| files.get(&path.join("default.nix")))
                .cloned()
        };
        let Some((file, expr)) = found else {
            return Val::unresolved(
                Reason::DefinedElsewhere,
                format!(
                    "import of {}, which is not among the analysed files",
                    self.display_path(path)
                ),
                span,
            );
        };
        let thunk = self
            .imported
            .borrow_mut()
            .entry(file)
            .or_insert_with(|| ThunkCell::expr(expr, self.file_env(file)))
            .clone();
        self.force_raw(&thunk)
    }

    /// What a flake input's `lib` offers (for host discovery in flake.nix).
    pub fn flake_lib(&self) -> Thunk {
        self.builtins
            .lookup_lexical("__flake_lib")
            .expect("flake lib is always bound")
    }

    /// The `lib` attribute set.
    pub fn lib(&self) -> Thunk {
        self.builtins
            .lookup_lexical("__lib")
            .expect("lib is always bound")
    }

    /// Forces a thunk to a value; a `config.<path>` reference stays a reference.
    pub fn force_raw(&self, t: &Thunk) -> Val {
        // Most forces find the value already there.
        if let ThunkState::Done(v) = &*t.0.borrow() {
            return v.clone();
        }
        let state = std::mem::replace(&mut *t.0.borrow_mut(), ThunkState::Forcing);
        let v = match state {
            ThunkState::Done(v) => v,
            ThunkState::Forcing => {
                *t.0.borrow_mut() = ThunkState::Forcing;
                return Val::unresolved(
                    Reason::Cycle,
                    "infinite recursion: the value depends on itself",
                    Span::DETACHED,
                );
            }
            ThunkState::Expr(e, env) => self.eval(e, &env),
            ThunkState::Apply(call) => {
                let (f, arg, span) = *call;
                self.apply(f, arg, span)
            }
            ThunkState::Nested(set) => self.build_nested(*set, t.span()),
        };
        // A limit hit is not a property of the value: leave it re-evaluable... but
        // caching keeps exponential expressions from being retried forever.
        *t.0.borrow_mut() = ThunkState::Done(v.clone());
        v
    }

    /// Forces a thunk to weak head normal form, resolving `config` references.
    pub fn force(&self, t: &Thunk) -> Val {
        let v = self.force_raw(t);
        self.whnf(v)
    }

    pub fn whnf(&self, v: Val) -> Val {
        match &v.v {
            V::Config(system, path) => match self
                .resolvers
                .borrow()
                .get(*system as usize)
                .cloned()
                .flatten()
            {
                Some(r) => {
                    let path = path.clone();
                    // Each reference resolved counts as a level: a chain of
                    // `config` references cannot exhaust the stack.
                    let out = self.guarded(v.span, || r.resolve(self, &path, v.span));
                    self.whnf(out)
                }
                None => Val::unresolved(
                    Reason::DefinedElsewhere,
                    format!("config.{}", join_path(path)),
                    v.span,
                ),
            },
            _ => v,
        }
    }

    pub fn eval_whnf(&self, e: NodeId, env: &Env) -> Val {
        let v = self.eval(e, env);
        self.whnf(v)
    }

    fn enter(&self, span: Span) -> Result<(), Val> {
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        let total = self.total_steps.get() + 1;
        self.total_steps.set(total);
        if total > self.limits.max_total_steps {
            return Err(Val::unresolved(
                Reason::Limit,
                format!(
                    "the analysis exceeded its total of {} evaluation steps",
                    self.limits.max_total_steps
                ),
                span,
            ));
        }
        if steps > self.limits.max_steps {
            return Err(Val::unresolved(
                Reason::Limit,
                format!("evaluation exceeded {} steps", self.limits.max_steps),
                span,
            ));
        }
        if self.depth.get() >= self.limits.max_depth {
            return Err(Val::unresolved(
                Reason::Limit,
                format!("evaluation nested deeper than {}", self.limits.max_depth),
                span,
            ));
        }
        self.depth.set(self.depth.get() + 1);
        Ok(())
    }

    /// Runs `f` one level deeper, or returns `limit` if the bounds are hit.
    pub fn guarded(&self, span: Span, f: impl FnOnce() -> Val) -> Val {
        if let Err(v) = self.enter(span) {
            return v;
        }
        let out = f();
        self.depth.set(self.depth.get() - 1);
        out
    }

    /// Evaluates expression `e` of `env`'s file (not forcing `config` references).
    pub fn eval(&self, e: NodeId, env: &Env) -> Val {
        let span = env.ast.span(e);
        self.guarded(span, || self.eval_inner(e, env, span))
    }

    fn eval_inner(&self, e: NodeId, env: &Env, span: Span) -> Val {
        match env.ast.expr(e) {
            Expr::Int(n) => Val::new(V::Int(n), span),
            Expr::IntOutOfRange => Val::error("integer literal out of range", span),
            Expr::Float(x) => Val::new(V::Float(x), span),
            Expr::BadFloat => Val::error("invalid float literal", span),
            Expr::Uri(u) => Val::str(u, span),
            Expr::Str(s) => self.eval_str(s, env, span),
            Expr::Path(parts) => self.eval_path(parts, env, span),
            Expr::PathSearch => {
                Val::unresolved(Reason::DefinedElsewhere, "search path <...>", span)
            }
            Expr::PathHome => {
                Val::unresolved(Reason::DefinedElsewhere, "path in the home directory", span)
            }
            Expr::Ident(name) => {
                let t = self.lookup_thunk(name, env, span);
                // Built-in constants (`true`, `null`) are produced here.
                self.force_raw(&t).placed(span)
            }
            Expr::Select {
                base,
                path,
                default,
            } => self.eval_select(base, path, default, env, span),
            Expr::HasAttr { base, path } => self.eval_has_attr(base, path, env, span),
            Expr::Apply { function, argument } => {
                let f = self.eval_whnf(function, env);
                self.apply(f, ThunkCell::expr(argument, env.clone()), span)
            }
            Expr::Lambda { .. } => Val::new(
                V::Lambda(Rc::new(Closure {
                    lambda: e,
                    env: env.clone(),
                })),
                span,
            ),
            Expr::LetIn { entries, body } => {
                let (_, scope) = self.bind(entries, env, true);
                self.eval(body, &scope)
            }
            Expr::LegacyLet => Val::unresolved(
                Reason::Unsupported,
                "legacy `let { }` is not evaluated",
                span,
            ),
            Expr::AttrSet { recursive, entries } => {
                let (bound, _) = self.bind(entries, env, recursive);
                if let Some(f) = bound.failure {
                    return Val::new(V::Unresolved(f), span);
                }
                Val::new(
                    V::Attrs(Rc::new(Attrs {
                        map: bound.attrs,
                        open: bound.open,
                    })),
                    span,
                )
            }
            Expr::List(items) => {
                let items = items
                    .iter()
                    .map(|&i| Item::Known(ThunkCell::expr(i, env.clone())))
                    .collect();
                Val::new(V::List(Rc::new(List { items })), span)
            }
            Expr::BinOp { op, lhs, rhs } => self.eval_binop(op, lhs, rhs, env, span),
            Expr::UnaryOp { op, operand } => self.eval_unary(op, operand, env, span),
            Expr::Paren(inner) => self.eval(inner, env),
            Expr::With { namespace, body } => {
                let scope = Scope::with(env, ThunkCell::expr(namespace, env.clone()));
                self.eval(body, &scope)
            }
            Expr::IfElse {
                condition,
                then,
                otherwise,
            } => match self.eval_whnf(condition, env).v {
                V::Bool(true) => self.eval(then, env),
                V::Bool(false) => self.eval(otherwise, env),
                V::Unresolved(u) => Val::new(V::Unresolved(u), span),
                other => ops::bool_expected(&other, span),
            },
            Expr::Assert { condition, body } => match self.eval_whnf(condition, env).v {
                V::Bool(true) => self.eval(body, env),
                V::Bool(false) => Val::error("assertion failed", span),
                V::Unresolved(u) => Val::new(V::Unresolved(u), span),
                other => ops::bool_expected(&other, span),
            },
            Expr::Error => Val::error("syntax error", span),
            Expr::CurPos => Val::unresolved(Reason::Unsupported, "__curPos", span),
            Expr::TooDeep => Val::unresolved(
                Reason::Limit,
                format!("expression nested deeper than {}", ast::MAX_DEPTH),
                span,
            ),
        }
    }

    /// A variable: lexical scopes first, then `with` namespaces, innermost first.
    pub(crate) fn lookup_thunk(&self, name: &str, env: &Env, span: Span) -> Thunk {
        if let Some(t) = env.lookup_lexical(name) {
            return t;
        }
        for ns in env.with_scopes() {
            match self.force(&ns).v {
                V::Attrs(a) => {
                    if let Some(attr) = a.get(name) {
                        return attr.value.clone();
                    }
                    if let Some(open) = &a.open {
                        return ThunkCell::done(Val::unresolved(
                            open.reason,
                            format!("`{name}` may come from a `with` scope: {}", open.detail),
                            span,
                        ));
                    }
                }
                V::Unresolved(u) => {
                    return ThunkCell::done(Val::unresolved(
                        u.reason,
                        format!(
                            "`{name}` comes from a `with` scope that cannot be evaluated: {}",
                            u.detail
                        ),
                        span,
                    ));
                }
                other => {
                    return ThunkCell::done(Val::error(
                        format!("`with` expects a set, got {}", other.type_name()),
                        span,
                    ))
                }
            }
        }
        ThunkCell::done(Val::error(format!("undefined variable '{name}'"), span))
    }

    /// `src.name`, lazily.
    fn select_thunk(&self, src: Thunk, name: Rc<str>, span: Span) -> Thunk {
        let f = Val::new(
            V::Prim(Rc::new(value::PrimCall {
                prim: prim::Prim::SelectAttr,
                args: vec![ThunkCell::done(Val::str(&name, span))],
            })),
            span,
        );
        ThunkCell::apply(f, src, span)
    }

    /// Selects `name` from a value: `Ok(None)` when the attribute is known to be
    /// absent (or the value is not a set), which `or` catches.
    pub fn select(&self, base: Val, name: &str, span: Span) -> Result<Val, Val> {
        match &base.v {
            V::Config(system, path) => {
                let mut p: Vec<Rc<str>> = path.to_vec();
                p.push(self.name(name));
                return Ok(Val::new(V::Config(*system, p.into()), span));
            }
            V::Unresolved(_) => return Ok(base),
            _ => {}
        }
        let base = self.whnf(base);
        match &base.v {
            V::Attrs(a) => match a.get(name) {
                Some(attr) => Ok(self.force_raw(&attr.value)),
                None => match &a.open {
                    Some(open) => Ok(Val::unresolved(
                        open.reason,
                        format!("{} (attribute '{name}')", open.detail),
                        span,
                    )),
                    None => Err(Val::error(format!("attribute '{name}' missing"), span)),
                },
            },
            V::Unresolved(_) => Ok(base),
            other => Err(Val::error(
                format!(
                    "value is {} while a set was expected (selecting '{name}')",
                    other.type_name()
                ),
                span,
            )),
        }
    }

    fn eval_select(
        &self,
        base: NodeId,
        path: &[NodeId],
        default: Option<NodeId>,
        env: &Env,
        span: Span,
    ) -> Val {
        let mut cur = self.eval(base, env);
        for &attr in path {
            let name = match self.attr_name(attr, env) {
                Ok(Some(n)) => n,
                Ok(None) => return Val::error("attribute name is null", span),
                Err(u) => return Val::new(V::Unresolved(Rc::new(u)), span),
            };
            match self.select(cur, &name, span) {
                Ok(v) => cur = v,
                Err(missing) => {
                    return match default {
                        Some(d) => self.eval(d, env),
                        None => missing,
                    }
                }
            }
        }
        // `config.x.y or d`: a reference is only known to exist once resolved.
        if let (V::Config(..), Some(d)) = (&cur.v, default) {
            let resolved = self.whnf(cur);
            return match &resolved.v {
                V::Unresolved(u) if u.reason == Reason::EvalError => self.eval(d, env),
                _ => resolved,
            };
        }
        cur
    }

    fn eval_has_attr(&self, base: NodeId, path: &[NodeId], env: &Env, span: Span) -> Val {
        let mut cur = self.eval_whnf(base, env);
        for &attr in path {
            let name = match self.attr_name(attr, env) {
                Ok(Some(n)) => n,
                Ok(None) => return Val::error("value is null while a string was expected", span),
                Err(u) => return Val::new(V::Unresolved(Rc::new(u)), span),
            };
            match &cur.v {
                V::Attrs(a) => match a.get(&name) {
                    Some(attr) => cur = self.force(&attr.value),
                    None => {
                        return match &a.open {
                            Some(open) => Val::new(V::Unresolved(open.clone()), span),
                            None => Val::new(V::Bool(false), span),
                        }
                    }
                },
                V::Unresolved(u) => return Val::new(V::Unresolved(u.clone()), span),
                _ => return Val::new(V::Bool(false), span),
            }
        }
        Val::new(V::Bool(true), span)
    }

    /// A string literal of `env`'s file, spanning `span`.
    pub fn eval_str(&self, s: ast::Str, env: &Env, span: Span) -> Val {
        let parts = match s {
            ast::Str::Plain(text) => return Val::str(text, span),
            ast::Str::Parts(parts) => parts,
        };
        let mut out = String::new();
        for &part in parts {
            match env.ast.part(part) {
                ast::Part::Text(l) => out.push_str(l),
                ast::Part::Interpolation(e) => {
                    let v = self.eval_whnf(e, env);
                    match self.coerce_interpolated(&v) {
                        Ok(piece) => out.push_str(&piece),
                        Err(u) => return u,
                    }
                    if out.len() > value::MAX_STRING_LEN {
                        return ops::too_large("string", span);
                    }
                }
            }
        }
        Val::str(&out, span)
    }

    /// `"${v}"`: strings only; a path would be copied to the store.
    pub fn coerce_interpolated(&self, v: &Val) -> Result<Rc<str>, Val> {
        match &v.v {
            V::Str(s) => Ok(s.clone()),
            V::Unresolved(_) => Err(v.clone()),
            V::Path(_) => Err(Val::unresolved(
                Reason::Unsupported,
                "interpolating a path copies it to the Nix store",
                v.span,
            )),
            V::Attrs(a) if a.get("__toString").is_some() || a.get("outPath").is_some() => {
                Err(Val::unresolved(
                    Reason::Unsupported,
                    "string conversion of a set with __toString/outPath",
                    v.span,
                ))
            }
            other => Err(Val::error(
                format!("cannot coerce {} to a string", other.type_name()),
                v.span,
            )),
        }
    }

    fn eval_path(&self, parts: &[NodeId], env: &Env, span: Span) -> Val {
        let mut text = String::new();
        for &part in parts {
            match env.ast.part(part) {
                ast::Part::Text(l) => text.push_str(l),
                ast::Part::Interpolation(e) => {
                    let v = self.eval_whnf(e, env);
                    match &v.v {
                        V::Str(s) => text.push_str(s),
                        V::Unresolved(_) => return v,
                        other => {
                            return Val::error(
                                format!("cannot interpolate {} into a path", other.type_name()),
                                span,
                            )
                        }
                    }
                }
            }
        }
        let base = if text.starts_with('/') {
            PathBuf::from("/")
        } else {
            self.dirs
                .get(env.file as usize)
                .cloned()
                .unwrap_or_default()
        };
        Val::new(V::Path(Rc::new(normalize(&base.join(&text)))), span)
    }

    /// Applies a function value to an argument.
    pub fn apply(&self, f: Val, arg: Thunk, span: Span) -> Val {
        self.guarded(span, || self.apply_inner(f, arg, span))
    }

    fn apply_inner(&self, f: Val, arg: Thunk, span: Span) -> Val {
        let f = self.whnf(f);
        match &f.v {
            V::Lambda(c) => self.apply_lambda(c, arg, span),
            V::Prim(p) => {
                let mut args = p.args.clone();
                args.push(arg);
                if args.len() < p.prim.arity() {
                    Val::new(
                        V::Prim(Rc::new(value::PrimCall { prim: p.prim, args })),
                        span,
                    )
                } else {
                    prim::call(self, p.prim, &args, span)
                }
            }
            V::Attrs(a) if a.get("__functor").is_some() => {
                let functor = self.force(&a.get("__functor").expect("checked").value);
                let with_self = self.apply(functor, ThunkCell::done(f.clone()), span);
                self.apply(with_self, arg, span)
            }
            V::Unresolved(u) => Val::new(V::Unresolved(u.clone()), span).placed(span),
            other => Val::error(
                format!(
                    "attempt to call something which is not a function but {}",
                    other.type_name()
                ),
                span,
            ),
        }
    }

    fn apply_lambda(&self, c: &Closure, arg: Thunk, span: Span) -> Val {
        let ast = &c.env.ast;
        let Expr::Lambda { param, body } = ast.expr(c.lambda) else {
            return Val::error("lambda without body", span);
        };
        // Only a default argument's thunk refers back to the call's scope
        // (it is tracked then); plain calls leave nothing to break.
        let scope = Scope::child(&c.env, HashMap::default());
        let mut tracked = false;
        match ast.param(param) {
            ast::Param::Ident(name) => {
                scope.insert(self.name(name), arg);
            }
            ast::Param::Pattern {
                entries,
                bind,
                ellipsis,
            } => {
                let argv = self.force(&arg);
                let attrs = match &argv.v {
                    V::Attrs(a) => a.clone(),
                    V::Unresolved(u) => return Val::new(V::Unresolved(u.clone()), span),
                    other => {
                        return Val::error(
                            format!("function expects a set argument, got {}", other.type_name()),
                            span,
                        )
                    }
                };
                if let Some(bind) = bind {
                    scope.insert(self.name(bind), arg.clone());
                }
                let mut formals = Vec::new();
                for &entry in entries {
                    let (name, default) = ast.pat_entry(entry);
                    let name: Rc<str> = self.name(name);
                    formals.push(name.clone());
                    let value = match attrs.get(&name) {
                        Some(a) => a.value.clone(),
                        None => match (default, &attrs.open) {
                            (Some(d), _) => {
                                if !std::mem::replace(&mut tracked, true) {
                                    self.track(&scope);
                                }
                                ThunkCell::expr(d, scope.clone())
                            }
                            // Placed where the argument is used, not at the call.
                            (None, Some(open)) => ThunkCell::done(Val::unresolved(
                                open.reason,
                                format!("{} (argument '{name}')", open.detail),
                                Span::DETACHED,
                            )),
                            (None, None) => {
                                return Val::error(
                                    format!("function called without required argument '{name}'"),
                                    span,
                                )
                            }
                        },
                    };
                    scope.insert(name, value);
                }
                if !ellipsis {
                    if let Some(extra) = attrs.map.keys().find(|k| !formals.contains(k)) {
                        return Val::error(
                            format!("function called with unexpected argument '{extra}'"),
                            span,
                        );
                    }
                }
            }
        }
        self.eval(body, &scope)
    }
}

/// Removes `.` and `..` components lexically, as Nix does for path literals.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

pub fn join_path(path: &[Rc<str>]) -> String {
    path.iter()
        .map(|s| s.as_ref())
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests;
