//! Merging the definitions of one option, as nixpkgs' `mergeDefinitions`:
//! `dischargeProperties` (mkMerge, mkIf), then `filterOverrides` (only the
//! smallest priority number counts), then `sortProperties` (mkOrder).

use std::rc::Rc;

use super::definitions::{type_tag, Collected};
use crate::eval::prim::{ORDER_PLAIN, PRIORITY_OPTION_DEFAULT, PRIORITY_PLAIN};
use crate::eval::{join_path, Evaluator, Item, List, Reason, Thunk, Unresolved, Val, V};
use crate::source::{FileId, Span};

/// A definition after `mkMerge` and `mkIf` are discharged.
#[derive(Clone, Debug)]
pub enum Piece {
    /// Dropped at an enclosing option by a definition with a smaller priority number.
    Dropped {
        value: Val,
        file: FileId,
        def_span: Span,
        by: Span,
    },
    /// Its guards hold: it takes part in the priority filter.
    Active {
        value: Val,
        file: FileId,
        def_span: Span,
    },
    /// A guard is false: the module system ignores it.
    Inactive {
        content: Thunk,
        guard: Span,
        file: FileId,
        def_span: Span,
    },
    /// A guard cannot be evaluated: it may or may not count.
    Maybe {
        content: Thunk,
        guard: Unresolved,
        file: FileId,
        def_span: Span,
    },
    /// The definition's shape itself cannot be known.
    Unknown {
        unresolved: Unresolved,
        file: FileId,
    },
}

/// A definition that counts, with its value stripped of `mkOverride`/`mkOrder`.
#[derive(Clone, Debug)]
pub struct Counted {
    pub value: Val,
    pub file: FileId,
    /// The right-hand side that defined it.
    pub def_span: Span,
    pub priority: i64,
    pub order: i64,
    /// True for the option's declared `default`.
    pub is_default: bool,
}

/// A definition that might count, or whose effect is unknown.
#[derive(Clone, Debug)]
pub struct Uncertain {
    pub unresolved: Unresolved,
    pub content: Option<Thunk>,
    pub file: FileId,
    /// The priority it would have, when known.
    pub priority: Option<i64>,
}

#[derive(Clone, Debug, Default)]
pub struct Merged {
    /// The definitions that count, sorted by `mkOrder` priority, then module order.
    pub counted: Vec<Counted>,
    /// Active definitions dropped by a definition with a smaller priority number.
    pub overridden: Vec<Counted>,
    /// Definitions whose guard is false.
    pub inactive: Vec<Piece>,
    /// Definitions that may change the result.
    pub uncertain: Vec<Uncertain>,
}

impl Merged {
    pub fn priority(&self) -> Option<i64> {
        self.counted.first().map(|c| c.priority)
    }

    /// True when an uncertain definition could take precedence over (and so
    /// drop) the counted ones.
    pub fn counted_may_be_dropped(&self) -> bool {
        let min = self.priority();
        self.uncertain.iter().any(|u| match (u.priority, min) {
            (Some(p), Some(m)) => p < m,
            _ => true,
        })
    }
}

fn discharge(ev: &Evaluator, v: Val, file: FileId, def_span: Span, out: &mut Vec<Piece>) {
    let v = ev.whnf(v);
    let r = ev.guarded(v.span, || {
        discharge_inner(ev, &v, file, def_span, out);
        Val::new(V::Null, v.span)
    });
    if let V::Unresolved(u) = r.v {
        out.push(Piece::Unknown {
            unresolved: (*u).clone(),
            file,
        });
    }
}

fn discharge_inner(ev: &Evaluator, v: &Val, file: FileId, def_span: Span, out: &mut Vec<Piece>) {
    if let V::Unresolved(u) = &v.v {
        out.push(Piece::Unknown {
            unresolved: (**u).clone(),
            file,
        });
        return;
    }
    let V::Attrs(a) = &v.v else {
        out.push(Piece::Active {
            value: v.clone(),
            file,
            def_span,
        });
        return;
    };
    match type_tag(ev, a).as_deref() {
        Some("merge") => {
            let contents = a.get("contents").map(|c| ev.force(&c.value));
            match contents.as_ref().map(|c| &c.v) {
                Some(V::List(l)) => {
                    for item in &l.items {
                        match item {
                            Item::Known(t) => discharge(ev, ev.force_raw(t), file, t.span(), out),
                            Item::Unknown(u) => out.push(Piece::Unknown {
                                unresolved: (**u).clone(),
                                file,
                            }),
                        }
                    }
                }
                Some(V::Unresolved(u)) => out.push(Piece::Unknown {
                    unresolved: (**u).clone(),
                    file,
                }),
                _ => out.push(Piece::Unknown {
                    unresolved: Unresolved::new(
                        Reason::EvalError,
                        "mkMerge expects a list",
                        v.span,
                    ),
                    file,
                }),
            }
        }
        Some("if") => {
            let (Some(cond), Some(content)) = (a.get("condition"), a.get("content")) else {
                out.push(Piece::Unknown {
                    unresolved: Unresolved::new(Reason::EvalError, "malformed mkIf", v.span),
                    file,
                });
                return;
            };
            let c = ev.force(&cond.value);
            match &c.v {
                V::Bool(true) => discharge(ev, ev.force_raw(&content.value), file, def_span, out),
                V::Bool(false) => out.push(Piece::Inactive {
                    content: content.value.clone(),
                    guard: cond.value.span(),
                    file,
                    def_span,
                }),
                V::Unresolved(u) => out.push(Piece::Maybe {
                    content: content.value.clone(),
                    guard: Unresolved {
                        guarded: Some(content.value.span()),
                        ..Unresolved::new(u.reason, u.detail.clone(), guard_span(&cond.value, u))
                    },
                    file,
                    def_span,
                }),
                other => out.push(Piece::Unknown {
                    unresolved: Unresolved::new(
                        Reason::EvalError,
                        format!(
                            "mkIf called with a non-Boolean condition ({})",
                            other.type_name()
                        ),
                        cond.value.span(),
                    ),
                    file,
                }),
            }
        }
        _ => out.push(Piece::Active {
            value: v.clone(),
            file,
            def_span,
        }),
    }
}

/// The guard's own span is more useful than the span deep inside where it failed.
fn guard_span(cond: &Thunk, u: &Unresolved) -> Span {
    let s = cond.span();
    if s.is_detached() {
        u.span
    } else {
        s
    }
}

/// Unwraps one `{ _type = tag; priority; content; }` layer (`mkOverride`,
/// `mkOrder`): its priority and the value it wraps; `plain` when `v` is not
/// so wrapped.
fn strip_priority(ev: &Evaluator, v: Val, tag: &str, plain: i64) -> Result<(i64, Val), Unresolved> {
    let V::Attrs(a) = &v.v else {
        return Ok((plain, v));
    };
    if type_tag(ev, a).as_deref() != Some(tag) {
        return Ok((plain, v));
    }
    let (Some(p), Some(c)) = (a.get("priority"), a.get("content")) else {
        return Err(Unresolved::new(
            Reason::EvalError,
            format!("malformed `{tag}` wrapper"),
            v.span,
        ));
    };
    match &ev.force(&p.value).v {
        V::Int(n) => Ok((*n, ev.force(&c.value))),
        V::Unresolved(u) => Err((**u).clone()),
        _ => Err(Unresolved::new(
            Reason::EvalError,
            format!("the priority of a `{tag}` wrapper is not an integer"),
            v.span,
        )),
    }
}

/// The `mkOverride` priority of a value, and the value it wraps.
fn strip_override(ev: &Evaluator, v: Val) -> Result<(i64, Val), Unresolved> {
    strip_priority(ev, v, "override", PRIORITY_PLAIN)
}

/// The `mkOrder` priority of a value, and the value it wraps.
fn strip_order(ev: &Evaluator, v: Val) -> Result<(i64, Val), Unresolved> {
    strip_priority(ev, v, "order", ORDER_PLAIN)
}

/// The priority a guarded definition would have if its guard held, when it can
/// be read without evaluating the guard.
fn maybe_priority(ev: &Evaluator, content: &Thunk) -> Option<i64> {
    let v = ev.force(content);
    match &v.v {
        V::Attrs(a) => match type_tag(ev, a).as_deref() {
            Some("merge") | Some("if") => None,
            Some("override") => strip_override(ev, v.clone()).ok().map(|(p, _)| p),
            _ => Some(PRIORITY_PLAIN),
        },
        V::Unresolved(_) => None,
        _ => Some(PRIORITY_PLAIN),
    }
}

/// Discharges every definition into pieces, in module order.
pub fn pieces(ev: &Evaluator, collected: &[Collected]) -> Vec<Piece> {
    let mut out = Vec::new();
    for c in collected {
        match c {
            Collected::Def(d) => discharge(ev, ev.force_raw(&d.value), d.file, d.span, &mut out),
            Collected::Dropped(d, by) => {
                let mut inner = Vec::new();
                discharge(ev, ev.force_raw(&d.value), d.file, d.span, &mut inner);
                for p in inner {
                    if let Piece::Active {
                        value,
                        file,
                        def_span,
                    } = p
                    {
                        out.push(Piece::Dropped {
                            value,
                            file,
                            def_span,
                            by: *by,
                        });
                    }
                }
            }
            Collected::Unknown(file, u) => out.push(Piece::Unknown {
                unresolved: u.clone(),
                file: *file,
            }),
        }
    }
    out
}

/// Merges one option's definitions; `default` is the declared default, which
/// takes part as an `mkOptionDefault` definition.
pub fn merge(ev: &Evaluator, collected: &[Collected], default: Option<Thunk>) -> Merged {
    merge_pieces(ev, pieces(ev, collected), default)
}

pub fn merge_pieces(ev: &Evaluator, pieces: Vec<Piece>, default: Option<Thunk>) -> Merged {
    let mut merged = Merged::default();
    let mut active = Vec::new();
    let mut maybes = Vec::new();
    for p in pieces {
        match p {
            Piece::Active {
                value,
                file,
                def_span,
            } => match strip_override(ev, value) {
                Ok((priority, value)) => active.push(Counted {
                    value,
                    file,
                    def_span,
                    priority,
                    order: ORDER_PLAIN,
                    is_default: false,
                }),
                Err(u) => merged.uncertain.push(Uncertain {
                    unresolved: u,
                    content: None,
                    file,
                    priority: None,
                }),
            },
            Piece::Maybe { ref content, .. } => {
                let prio = maybe_priority(ev, content);
                maybes.push((prio, p));
            }
            Piece::Inactive { .. } => merged.inactive.push(p),
            Piece::Dropped {
                value,
                file,
                def_span,
                ..
            } => {
                if let Ok((priority, value)) = strip_override(ev, value) {
                    merged.overridden.push(Counted {
                        value,
                        file,
                        def_span,
                        priority,
                        order: ORDER_PLAIN,
                        is_default: false,
                    });
                }
            }
            Piece::Unknown { unresolved, file } => merged.uncertain.push(Uncertain {
                unresolved,
                content: None,
                file,
                priority: None,
            }),
        }
    }
    if let Some(d) = default {
        let value = ev.force(&d);
        let def_span = value.span;
        // nixpkgs puts the default before the definitions.
        active.insert(
            0,
            Counted {
                value,
                file: def_span.file,
                def_span,
                priority: PRIORITY_OPTION_DEFAULT,
                order: ORDER_PLAIN,
                is_default: true,
            },
        );
    }
    let min = active.iter().map(|c| c.priority).min();
    for (prio, p) in maybes {
        let Piece::Maybe {
            content,
            guard,
            file,
            ..
        } = p
        else {
            continue;
        };
        // A guarded definition matters unless a definition that surely counts
        // has a strictly smaller priority number.
        let matters = match (prio, min) {
            (Some(p), Some(m)) => p <= m,
            _ => true,
        };
        if matters {
            merged.uncertain.push(Uncertain {
                unresolved: guard,
                content: Some(content),
                file,
                priority: prio,
            });
        }
    }
    for c in active {
        if Some(c.priority) == min {
            merged.counted.push(c);
        } else {
            merged.overridden.push(c);
        }
    }
    for c in &mut merged.counted {
        match strip_order(ev, c.value.clone()) {
            Ok((order, value)) => {
                c.order = order;
                c.value = value;
            }
            Err(u) => merged.uncertain.push(Uncertain {
                unresolved: u,
                content: None,
                file: c.file,
                priority: None,
            }),
        }
    }
    // Stable: equal orders keep module order.
    merged.counted.sort_by_key(|c| c.order);
    merged
}

/// The value of an option whose type is not declared in the scanned files:
/// lists concatenate, equal values agree, anything else is not guessed.
pub fn generic_value(ev: &Evaluator, merged: &Merged, path: &[Rc<str>], span: Span) -> Val {
    if let Some(u) = merged.uncertain.first() {
        return Val::new(V::Unresolved(Rc::new(u.unresolved.clone())), span);
    }
    let Some(first) = merged.counted.first() else {
        return Val::unresolved(
            Reason::DefinedElsewhere,
            format!(
                "config.{} has no definition in the scanned files",
                join_path(path)
            ),
            span,
        );
    };
    if merged
        .counted
        .iter()
        .all(|c| matches!(c.value.v, V::List(_)))
    {
        let mut items = Vec::new();
        for c in &merged.counted {
            if let V::List(l) = &c.value.v {
                items.extend(l.items.iter().cloned());
            }
        }
        return Val::new(V::List(Rc::new(List { items })), first.value.span);
    }
    for c in &merged.counted[1..] {
        match ev.equal(&first.value, &c.value, span) {
            Ok(true) => {}
            Ok(false) => {
                return Val::error(
                    format!(
                        "config.{} has conflicting definition values",
                        join_path(path)
                    ),
                    c.def_span,
                )
            }
            Err(u) => return u,
        }
    }
    first.value.clone()
}
