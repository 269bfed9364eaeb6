//! Lexical scopes: `let`, `rec`, lambda arguments and `with`.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use rustc_hash::FxHashMap as HashMap;

use super::value::Thunk;
use crate::source::FileId;
use crate::syntax::FileAst;

pub type Env = Rc<Scope>;

pub enum ScopeKind {
    Vars(RefCell<HashMap<Rc<str>, Thunk>>),
    /// `with e;`: consulted only after every lexical variable.
    With(Thunk),
}

pub struct Scope {
    pub kind: ScopeKind,
    pub parent: Option<Env>,
    /// The file whose expressions this scope evaluates (for spans and relative paths).
    pub file: FileId,
    /// That file's syntax tree: the expressions of thunks made in this scope are its nodes.
    pub ast: Rc<FileAst>,
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<scope>")
    }
}

impl Scope {
    pub fn root(file: FileId, vars: HashMap<Rc<str>, Thunk>) -> Env {
        Rc::new(Scope {
            kind: ScopeKind::Vars(RefCell::new(vars)),
            parent: None,
            file,
            ast: Rc::new(FileAst::empty(file)),
        })
    }

    pub fn child(parent: &Env, vars: HashMap<Rc<str>, Thunk>) -> Env {
        Rc::new(Scope {
            kind: ScopeKind::Vars(RefCell::new(vars)),
            parent: Some(parent.clone()),
            file: parent.file,
            ast: parent.ast.clone(),
        })
    }

    pub fn with(parent: &Env, ns: Thunk) -> Env {
        Rc::new(Scope {
            kind: ScopeKind::With(ns),
            parent: Some(parent.clone()),
            file: parent.file,
            ast: parent.ast.clone(),
        })
    }

    /// The same builtins scope, re-rooted for a file.
    pub fn for_file(builtins: &Env, ast: Rc<FileAst>) -> Env {
        Rc::new(Scope {
            kind: ScopeKind::Vars(RefCell::new(HashMap::default())),
            parent: Some(builtins.clone()),
            file: ast.file(),
            ast,
        })
    }

    /// Drops every variable (see `Evaluator`'s `Drop`).
    pub fn clear(&self) {
        if let ScopeKind::Vars(vars) = &self.kind {
            vars.borrow_mut().clear();
        }
    }

    pub fn insert(&self, name: Rc<str>, value: Thunk) {
        if let ScopeKind::Vars(vars) = &self.kind {
            vars.borrow_mut().insert(name, value);
        }
    }

    /// Looks a name up among lexical variables only.
    pub fn lookup_lexical(&self, name: &str) -> Option<Thunk> {
        let mut scope = Some(self);
        while let Some(s) = scope {
            if let ScopeKind::Vars(vars) = &s.kind {
                if let Some(t) = vars.borrow().get(name) {
                    return Some(t.clone());
                }
            }
            scope = s.parent.as_deref();
        }
        None
    }

    /// The `with` namespaces, innermost first.
    pub fn with_scopes(&self) -> Vec<Thunk> {
        let mut out = Vec::new();
        let mut scope = Some(self);
        while let Some(s) = scope {
            if let ScopeKind::With(t) = &s.kind {
                out.push(t.clone());
            }
            scope = s.parent.as_deref();
        }
        out
    }
}
