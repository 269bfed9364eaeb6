//! Deep evaluation of a standalone expression to JSON, as
//! `nix-instantiate --eval --strict --json` does: for tests that compare the
//! evaluator with real Nix.

use std::rc::Rc;

use super::{Evaluator, Item, Limits, Reason, Unresolved, Val, V};
use crate::source::Span;

/// The result of evaluating an expression strictly.
#[derive(Debug, PartialEq)]
pub enum Strict {
    Value(serde_json::Value),
    Unresolved(Unresolved),
}

/// Parses and evaluates `text` (no files, no `config`), forcing everything.
pub fn eval_source(text: &str) -> Strict {
    let Ok(ast) = crate::syntax::parse(0, text) else {
        return Strict::Unresolved(Unresolved::new(
            Reason::EvalError,
            "syntax error",
            Span::DETACHED,
        ));
    };
    if let Some(e) = crate::scope_check::binding_errors(&ast).into_iter().next() {
        return Strict::Unresolved(Unresolved::new(
            Reason::EvalError,
            e.message,
            Span::DETACHED,
        ));
    }
    let Some(expr) = ast.root() else {
        return Strict::Unresolved(Unresolved::new(Reason::EvalError, "empty", Span::DETACHED));
    };
    let ev = Evaluator::new(vec![std::path::PathBuf::from("/")], Limits::default());
    ev.add_syntax(Rc::new(ast));
    let env = ev.file_env(0);
    let v = ev.eval_whnf(expr, &env);
    match to_json(&ev, &v) {
        Ok(j) => Strict::Value(j),
        Err(u) => Strict::Unresolved(u),
    }
}

fn to_json(ev: &Evaluator, v: &Val) -> Result<serde_json::Value, Unresolved> {
    let mut out = Err(Unresolved::new(Reason::Limit, "too deep", v.span));
    let r = ev.guarded(v.span, || {
        out = to_json_inner(ev, v);
        Val::new(V::Null, v.span)
    });
    if let V::Unresolved(u) = r.v {
        return Err((*u).clone());
    }
    out
}

fn to_json_inner(ev: &Evaluator, v: &Val) -> Result<serde_json::Value, Unresolved> {
    use serde_json::Value as J;
    Ok(match &v.v {
        V::Null => J::Null,
        V::Bool(b) => J::Bool(*b),
        V::Int(i) => J::from(*i),
        V::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .ok_or_else(|| Unresolved::new(Reason::Unsupported, "non-finite float", v.span))?,
        V::Str(s) => J::String(s.to_string()),
        V::List(l) => {
            let mut out = Vec::new();
            for i in &l.items {
                match i {
                    Item::Known(t) => out.push(to_json(ev, &ev.force(t))?),
                    Item::Unknown(u) => return Err((**u).clone()),
                }
            }
            J::Array(out)
        }
        V::Attrs(a) => {
            if let Some(u) = &a.open {
                return Err((**u).clone());
            }
            if a.get("outPath").is_some() || a.get("__toString").is_some() {
                return Err(Unresolved::new(
                    Reason::Unsupported,
                    "set converted through outPath/__toString",
                    v.span,
                ));
            }
            let mut out = serde_json::Map::new();
            for (k, attr) in &a.map {
                out.insert(k.to_string(), to_json(ev, &ev.force(&attr.value))?);
            }
            J::Object(out)
        }
        V::Unresolved(u) => return Err((**u).clone()),
        V::Path(_) => {
            return Err(Unresolved::new(
                Reason::Unsupported,
                "a path is copied to the store",
                v.span,
            ))
        }
        V::Lambda(_) | V::Prim(_) => {
            return Err(Unresolved::new(
                Reason::EvalError,
                "cannot convert a function to JSON",
                v.span,
            ))
        }
        V::Config(..) => return Err(Unresolved::new(Reason::DefinedElsewhere, "config", v.span)),
    })
}
