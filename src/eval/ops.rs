//! Operators: arithmetic, `++`, `//`, comparisons and Boolean logic.

use std::rc::Rc;

use crate::syntax::{BinOpKind, NodeId, UnaryOpKind};

use super::env::Env;
use super::value::{Attrs, Item, List, Reason, Val, MAX_LIST_LEN, MAX_STRING_LEN, V};
use super::Evaluator;
use crate::source::Span;

impl Evaluator {
    pub(super) fn eval_unary(&self, op: UnaryOpKind, e: NodeId, env: &Env, span: Span) -> Val {
        let v = self.eval_whnf(e, env);
        match (op, &v.v) {
            (_, V::Unresolved(u)) => Val::new(V::Unresolved(u.clone()), span),
            (UnaryOpKind::Invert, V::Bool(b)) => Val::new(V::Bool(!b), span),
            (UnaryOpKind::Negate, V::Int(i)) => match 0i64.checked_sub(*i) {
                Some(n) => Val::new(V::Int(n), span),
                None => Val::error("integer overflow", span),
            },
            (UnaryOpKind::Negate, V::Float(f)) => Val::new(V::Float(-f), span),
            (UnaryOpKind::Invert, other) => Val::error(
                format!(
                    "value is {} while a Boolean was expected",
                    other.type_name()
                ),
                span,
            ),
            (UnaryOpKind::Negate, other) => Val::error(
                format!("value is {} while a number was expected", other.type_name()),
                span,
            ),
        }
    }

    pub(super) fn eval_binop(
        &self,
        op: BinOpKind,
        l: NodeId,
        r: NodeId,
        env: &Env,
        span: Span,
    ) -> Val {
        match op {
            BinOpKind::And | BinOpKind::Or | BinOpKind::Implication => {
                let lv = self.eval_whnf(l, env);
                let lb = match &lv.v {
                    V::Bool(b) => *b,
                    V::Unresolved(u) => return Val::new(V::Unresolved(u.clone()), span),
                    other => return bool_expected(other, span),
                };
                let short = match op {
                    BinOpKind::And => (!lb).then_some(false),
                    BinOpKind::Or => lb.then_some(true),
                    _ => (!lb).then_some(true),
                };
                if let Some(result) = short {
                    return Val::new(V::Bool(result), span);
                }
                let rv = self.eval_whnf(r, env);
                match &rv.v {
                    V::Bool(b) => Val::new(V::Bool(*b), span),
                    V::Unresolved(u) => Val::new(V::Unresolved(u.clone()), span),
                    other => bool_expected(other, span),
                }
            }
            BinOpKind::PipeLeft | BinOpKind::PipeRight => {
                Val::unresolved(Reason::Unsupported, "pipe operators are experimental", span)
            }
            _ => {
                let lv = self.eval_whnf(l, env);
                let rv = self.eval_whnf(r, env);
                self.binop(op, lv, rv, span)
            }
        }
    }

    pub fn binop(&self, op: BinOpKind, lv: Val, rv: Val, span: Span) -> Val {
        match op {
            BinOpKind::Concat => return self.concat(lv, rv, span),
            BinOpKind::Update => return update(lv, rv, span),
            BinOpKind::Equal | BinOpKind::NotEqual => {
                return match self.equal(&lv, &rv, span) {
                    Ok(eq) => Val::new(V::Bool(eq == (op == BinOpKind::Equal)), span),
                    Err(u) => u,
                }
            }
            _ => {}
        }
        if let V::Unresolved(u) = &lv.v {
            return Val::new(V::Unresolved(u.clone()), span);
        }
        if let V::Unresolved(u) = &rv.v {
            return Val::new(V::Unresolved(u.clone()), span);
        }
        match op {
            BinOpKind::Add => add(lv, rv, span),
            BinOpKind::Sub | BinOpKind::Mul | BinOpKind::Div => arith(op, &lv.v, &rv.v, span),
            BinOpKind::Less | BinOpKind::LessOrEq | BinOpKind::More | BinOpKind::MoreOrEq => {
                let ord = match op {
                    BinOpKind::Less | BinOpKind::MoreOrEq => self.less(&lv, &rv, span),
                    _ => self.less(&rv, &lv, span),
                };
                match ord {
                    Ok(lt) => {
                        let result = match op {
                            BinOpKind::Less | BinOpKind::More => lt,
                            _ => !lt,
                        };
                        Val::new(V::Bool(result), span)
                    }
                    Err(u) => u,
                }
            }
            _ => Val::error("unsupported operator", span),
        }
    }

    /// `++`: a part that cannot be computed stays in the list as unknown.
    pub fn concat(&self, lv: Val, rv: Val, span: Span) -> Val {
        let mut items = Vec::new();
        for v in [lv, rv] {
            match &v.v {
                V::List(l) => {
                    // `++` forces both lists: a part that fails fails the whole.
                    if let Some(u) = l.first_unknown().filter(|u| u.is_failure()) {
                        return Val::new(V::Unresolved(u.clone()), span);
                    }
                    items.extend(l.items.iter().cloned())
                }
                V::Unresolved(u) if u.is_failure() => {
                    return Val::new(V::Unresolved(u.clone()), span)
                }
                V::Unresolved(u) => items.push(Item::Unknown(u.clone())),
                other => {
                    return Val::error(
                        format!("value is {} while a list was expected", other.type_name()),
                        v.span,
                    )
                }
            }
        }
        if items.len() > MAX_LIST_LEN {
            return too_large("list", span);
        }
        Val::new(V::List(Rc::new(List { items })), span)
    }

    /// Nix's `==`: numbers compare across int/float, sets and lists deeply,
    /// functions never equal.
    pub fn equal(&self, a: &Val, b: &Val, span: Span) -> Result<bool, Val> {
        let a = self.whnf(a.clone());
        let b = self.whnf(b.clone());
        match (&a.v, &b.v) {
            (V::Unresolved(u), _) | (_, V::Unresolved(u)) => {
                Err(Val::new(V::Unresolved(u.clone()), span))
            }
            (V::Null, V::Null) => Ok(true),
            (V::Bool(x), V::Bool(y)) => Ok(x == y),
            (V::Int(x), V::Int(y)) => Ok(x == y),
            (V::Float(x), V::Float(y)) => Ok(x == y),
            (V::Int(x), V::Float(y)) | (V::Float(y), V::Int(x)) => Ok((*x as f64) == *y),
            (V::Str(x), V::Str(y)) => Ok(x == y),
            (V::Path(x), V::Path(y)) => Ok(x == y),
            (V::List(x), V::List(y)) => {
                if x.is_partial() || y.is_partial() {
                    let u = x.first_unknown().or(y.first_unknown()).expect("partial");
                    return Err(Val::new(V::Unresolved(u.clone()), span));
                }
                if x.items.len() != y.items.len() {
                    return Ok(false);
                }
                for (i, j) in x.items.iter().zip(y.items.iter()) {
                    let (Item::Known(i), Item::Known(j)) = (i, j) else {
                        unreachable!()
                    };
                    let iv = self.force(i);
                    let jv = self.force(j);
                    if !self.guarded_equal(&iv, &jv, span)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            // Nix compares functions by identity in some places and not in
            // others: never guess.
            (V::Lambda(_) | V::Prim(_), _) | (_, V::Lambda(_) | V::Prim(_)) => Err(
                Val::unresolved(Reason::Unsupported, "comparing functions", span),
            ),
            (V::Attrs(x), V::Attrs(y)) => {
                if let Some(u) = x.open.as_ref().or(y.open.as_ref()) {
                    return Err(Val::new(V::Unresolved(u.clone()), span));
                }
                if x.map.contains_key("outPath") && y.map.contains_key("outPath") {
                    return Err(Val::unresolved(
                        Reason::Unsupported,
                        "comparing derivations",
                        span,
                    ));
                }
                if x.map.len() != y.map.len() || !x.map.keys().eq(y.map.keys()) {
                    return Ok(false);
                }
                for (i, j) in x.map.values().zip(y.map.values()) {
                    let iv = self.force(&i.value);
                    let jv = self.force(&j.value);
                    if !self.guarded_equal(&iv, &jv, span)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn guarded_equal(&self, a: &Val, b: &Val, span: Span) -> Result<bool, Val> {
        let mut out = Ok(false);
        let r = self.guarded(span, || {
            out = self.equal(a, b, span);
            Val::new(V::Null, span)
        });
        if let V::Unresolved(u) = r.v {
            return Err(Val::new(V::Unresolved(u), span));
        }
        out
    }

    /// Nix's `<`: numbers, strings, paths, and lists lexicographically.
    pub fn less(&self, a: &Val, b: &Val, span: Span) -> Result<bool, Val> {
        match (&a.v, &b.v) {
            (V::Unresolved(u), _) | (_, V::Unresolved(u)) => {
                Err(Val::new(V::Unresolved(u.clone()), span))
            }
            (V::Int(x), V::Int(y)) => Ok(x < y),
            (V::Float(x), V::Float(y)) => Ok(x < y),
            (V::Int(x), V::Float(y)) => Ok((*x as f64) < *y),
            (V::Float(x), V::Int(y)) => Ok(*x < (*y as f64)),
            (V::Str(x), V::Str(y)) => Ok(x.as_bytes() < y.as_bytes()),
            (V::Path(x), V::Path(y)) => Ok(x.as_os_str() < y.as_os_str()),
            (V::List(x), V::List(y)) => {
                if let Some(u) = x.first_unknown().or(y.first_unknown()) {
                    return Err(Val::new(V::Unresolved(u.clone()), span));
                }
                for (i, j) in x.items.iter().zip(y.items.iter()) {
                    let (Item::Known(i), Item::Known(j)) = (i, j) else {
                        unreachable!()
                    };
                    let iv = self.force(i);
                    let jv = self.force(j);
                    if self.less(&iv, &jv, span)? {
                        return Ok(true);
                    }
                    if self.less(&jv, &iv, span)? {
                        return Ok(false);
                    }
                }
                Ok(x.items.len() < y.items.len())
            }
            (x, y) => Err(Val::error(
                format!("cannot compare {} with {}", x.type_name(), y.type_name()),
                span,
            )),
        }
    }
}

/// The error of a condition or operand that is not a Boolean.
pub(super) fn bool_expected(other: &V, span: Span) -> Val {
    Val::error(
        format!(
            "value is {} while a Boolean was expected",
            other.type_name()
        ),
        span,
    )
}

fn update(lv: Val, rv: Val, span: Span) -> Val {
    let (l, r) = match (&lv.v, &rv.v) {
        (V::Attrs(l), V::Attrs(r)) => (l, r),
        (V::Unresolved(u), _) | (_, V::Unresolved(u)) => {
            return Val::new(V::Unresolved(u.clone()), span)
        }
        (V::Attrs(_), other) | (other, _) => {
            return Val::error(
                format!("value is {} while a set was expected", other.type_name()),
                span,
            )
        }
    };
    let map = l.map.updated(&r.map);
    // An unknown key on the right could shadow anything on the left.
    let open = r.open.clone().or_else(|| l.open.clone());
    Val::new(V::Attrs(Rc::new(Attrs { map, open })), span)
}

/// A value too large to build: unresolved with reason `limit`.
pub(super) fn too_large(what: &str, span: Span) -> Val {
    Val::unresolved(
        Reason::Limit,
        format!("the {what} would be too large to compute"),
        span,
    )
}

fn add(lv: Val, rv: Val, span: Span) -> Val {
    match (&lv.v, &rv.v) {
        (V::Str(a), V::Str(b)) if a.len() + b.len() > MAX_STRING_LEN => too_large("string", span),
        (V::Str(a), V::Str(b)) => Val::str(&format!("{a}{b}"), span),
        (V::Path(a), V::Str(b)) => {
            let joined = format!("{}{}", a.display(), b);
            Val::new(V::Path(Rc::new(joined.into())), span)
        }
        (V::Path(a), V::Path(b)) => {
            let joined = format!("{}{}", a.display(), b.display());
            Val::new(V::Path(Rc::new(joined.into())), span)
        }
        (V::Str(_), V::Path(_)) => Val::unresolved(
            Reason::Unsupported,
            "string + path copies the path to the Nix store",
            span,
        ),
        _ => arith(BinOpKind::Add, &lv.v, &rv.v, span),
    }
}

fn arith(op: BinOpKind, a: &V, b: &V, span: Span) -> Val {
    match (a, b) {
        (V::Int(x), V::Int(y)) => {
            let r = match op {
                BinOpKind::Add => x.checked_add(*y),
                BinOpKind::Sub => x.checked_sub(*y),
                BinOpKind::Mul => x.checked_mul(*y),
                _ => {
                    if *y == 0 {
                        return Val::error("division by zero", span);
                    }
                    x.checked_div(*y)
                }
            };
            match r {
                Some(n) => Val::new(V::Int(n), span),
                None => Val::error("integer overflow", span),
            }
        }
        (V::Int(_) | V::Float(_), V::Int(_) | V::Float(_)) => {
            let x = as_f64(a);
            let y = as_f64(b);
            let r = match op {
                BinOpKind::Add => x + y,
                BinOpKind::Sub => x - y,
                BinOpKind::Mul => x * y,
                _ => {
                    if y == 0.0 {
                        return Val::error("division by zero", span);
                    }
                    x / y
                }
            };
            Val::new(V::Float(r), span)
        }
        (x, y) => Val::error(
            format!(
                "cannot apply arithmetic to {} and {}",
                x.type_name(),
                y.type_name()
            ),
            span,
        ),
    }
}

fn as_f64(v: &V) -> f64 {
    match v {
        V::Int(i) => *i as f64,
        V::Float(f) => *f,
        _ => f64::NAN,
    }
}
