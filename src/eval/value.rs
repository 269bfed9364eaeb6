//! Values of the static evaluator: known values carry the span of the expression
//! that produced them; what cannot be known is `Unresolved`, with a reason.

use std::cell::RefCell;

use std::fmt;
use std::path::PathBuf;
use std::rc::Rc;

use super::env::Env;
use super::prim::Prim;
use crate::source::Span;

/// Why a value could not be computed statically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The value depends on something outside the scanned files.
    DefinedElsewhere,
    /// The value depends on itself.
    Cycle,
    /// Evaluation exceeded its depth or step bound.
    Limit,
    /// A function or construct dbprov does not evaluate statically.
    Unsupported,
    /// The answer depends on option declarations that are not in the scanned files.
    UndeclaredOption,
    /// Nix itself would fail here (type error, missing attribute, `throw`, ...).
    EvalError,
}

impl Reason {
    pub fn as_str(&self) -> &'static str {
        match self {
            Reason::DefinedElsewhere => "defined-elsewhere",
            Reason::Cycle => "cycle",
            Reason::Limit => "limit",
            Reason::Unsupported => "unsupported",
            Reason::UndeclaredOption => "undeclared-option",
            Reason::EvalError => "eval-error",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value that could not be computed, with the reason and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unresolved {
    pub reason: Reason,
    pub detail: String,
    pub span: Span,
    /// For a guard that cannot be evaluated: the definition it guards.
    pub guarded: Option<Span>,
}

impl Unresolved {
    /// True when Nix itself certainly fails here (an error or infinite
    /// recursion), as opposed to a value dbprov merely cannot compute.
    pub fn is_failure(&self) -> bool {
        matches!(self.reason, Reason::EvalError | Reason::Cycle)
    }

    pub fn new(reason: Reason, detail: impl Into<String>, span: Span) -> Unresolved {
        Unresolved {
            reason,
            detail: detail.into(),
            span,
            guarded: None,
        }
    }
}

/// Lists longer than this are not built: doubling `a ++ a` thirty times
/// would exhaust memory long before the step budget.
pub const MAX_LIST_LEN: usize = 1 << 20;

/// Strings longer than this (in bytes) are not built, for the same reason.
pub const MAX_STRING_LEN: usize = 16 << 20;

/// Identifies a module system (one NixOS configuration) for `config` references.
pub type SystemId = u32;

/// A lazily evaluated value.
pub type Thunk = Rc<ThunkCell>;

pub struct ThunkCell(pub(super) RefCell<ThunkState>, Span);

pub(super) enum ThunkState {
    Expr(crate::syntax::NodeId, Env),
    /// Boxed: the other states are half its size, and thunks are many.
    Apply(Box<(Val, Thunk, Span)>),
    /// A set written as several bindings (`a.b = 1; a.c = 2;`), built when forced.
    Nested(Box<super::bindings::NestedSet>),
    Done(Val),
    /// Being forced right now: forcing it again is a cycle.
    Forcing,
}

impl ThunkCell {
    pub fn done(v: Val) -> Thunk {
        let span = v.span;
        Rc::new(ThunkCell(RefCell::new(ThunkState::Done(v)), span))
    }
    /// Expression `e` of `env`'s file, evaluated in `env` when forced.
    pub fn expr(e: crate::syntax::NodeId, env: Env) -> Thunk {
        let span = env.ast.span(e);
        Rc::new(ThunkCell(RefCell::new(ThunkState::Expr(e, env)), span))
    }
    pub fn apply(f: Val, arg: Thunk, span: Span) -> Thunk {
        Rc::new(ThunkCell(
            RefCell::new(ThunkState::Apply(Box::new((f, arg, span)))),
            span,
        ))
    }
    pub(super) fn nested(set: super::bindings::NestedSet, span: Span) -> Thunk {
        Rc::new(ThunkCell(
            RefCell::new(ThunkState::Nested(Box::new(set))),
            span,
        ))
    }
    /// The span of the expression behind this thunk, without forcing it.
    pub fn span(&self) -> Span {
        self.1
    }
}

impl fmt::Debug for ThunkCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0.borrow() {
            ThunkState::Done(v) => write!(f, "{:?}", v.v),
            _ => f.write_str("<thunk>"),
        }
    }
}

/// A value with the span of the expression that produced it.
#[derive(Clone, Debug)]
pub struct Val {
    pub v: V,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum V {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Path(Rc<PathBuf>),
    List(Rc<List>),
    Attrs(Rc<Attrs>),
    Lambda(Rc<Closure>),
    Prim(Rc<PrimCall>),
    /// `config.<path>` of one module system: resolved only when forced.
    Config(SystemId, Rc<[Rc<str>]>),
    Unresolved(Rc<Unresolved>),
}

impl Val {
    pub fn new(v: V, span: Span) -> Val {
        Val { v, span }
    }
    pub fn unresolved(reason: Reason, detail: impl Into<String>, span: Span) -> Val {
        Val::new(
            V::Unresolved(Rc::new(Unresolved::new(reason, detail, span))),
            span,
        )
    }
    pub fn error(detail: impl Into<String>, span: Span) -> Val {
        Val::unresolved(Reason::EvalError, detail, span)
    }
    pub fn str(s: &str, span: Span) -> Val {
        Val::new(V::Str(Rc::from(s)), span)
    }
    /// Gives a value (and, if unresolved, its reason) this span when it has none:
    /// built-in values get the span of the expression that used them.
    pub fn placed(mut self, span: Span) -> Val {
        if self.span.is_detached() {
            self.span = span;
        }
        if let V::Unresolved(u) = &self.v {
            if u.span.is_detached() {
                let mut u = (**u).clone();
                u.span = span;
                self.v = V::Unresolved(Rc::new(u));
            }
        }
        self
    }

    pub fn as_unresolved(&self) -> Option<&Unresolved> {
        match &self.v {
            V::Unresolved(u) => Some(u),
            _ => None,
        }
    }
    pub fn type_name(&self) -> &'static str {
        self.v.type_name()
    }
}

impl V {
    pub fn type_name(&self) -> &'static str {
        match self {
            V::Null => "null",
            V::Bool(_) => "a Boolean",
            V::Int(_) => "an integer",
            V::Float(_) => "a float",
            V::Str(_) => "a string",
            V::Path(_) => "a path",
            V::List(_) => "a list",
            V::Attrs(_) => "a set",
            V::Lambda(_) | V::Prim(_) => "a function",
            V::Config(..) => "a config reference",
            V::Unresolved(_) => "an unresolved value",
        }
    }
}

/// One element of a list: known, or a part whose length and content are unknown
/// (`[ a ] ++ somethingUnknown` keeps `a` and marks the rest).
#[derive(Clone, Debug)]
pub enum Item {
    Known(Thunk),
    Unknown(Rc<Unresolved>),
}

#[derive(Debug, Default)]
pub struct List {
    pub items: Vec<Item>,
}

impl List {
    pub fn is_partial(&self) -> bool {
        self.items.iter().any(|i| matches!(i, Item::Unknown(_)))
    }
    pub fn first_unknown(&self) -> Option<&Rc<Unresolved>> {
        self.items.iter().find_map(|i| match i {
            Item::Unknown(u) => Some(u),
            _ => None,
        })
    }
}

/// One attribute: its value and the span of its key.
#[derive(Clone, Debug)]
pub struct Attr {
    pub value: Thunk,
    pub key_span: Span,
}

/// An attribute set. `open` is set when some keys could not be computed: a
/// missing key then means "unknown", not "absent".
#[derive(Debug, Default)]
pub struct Attrs {
    pub map: super::AttrMap,
    pub open: Option<Rc<Unresolved>>,
}

impl Attrs {
    pub fn get(&self, key: &str) -> Option<&Attr> {
        self.map.get(key)
    }
}

/// A lambda defined in a scanned file, with its environment.
#[derive(Debug)]
pub struct Closure {
    /// A `Lambda` node of `env`'s file.
    pub lambda: crate::syntax::NodeId,
    pub env: Env,
}

/// A built-in function applied to some of its arguments.
#[derive(Debug)]
pub struct PrimCall {
    pub prim: Prim,
    pub args: Vec<Thunk>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Thunks are the most numerous values: keep them small (an `Rc` of
    /// this, 16 bytes more, is one allocation per thunk).
    #[test]
    fn a_thunk_takes_64_bytes() {
        assert_eq!(std::mem::size_of::<ThunkCell>(), 64);
        assert_eq!(std::mem::size_of::<Val>(), 40);
    }
}
