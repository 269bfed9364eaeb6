//! Extraction: the services under the service path, each one's merged
//! `enable` and the elements of its merged `databases`.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::{DatabaseDecl, DeclStatus, Enable, Entry, Field, FieldValue, Service, UnresolvedItem};
use crate::eval::{Evaluator, Item, Reason, Thunk, Unresolved, Val, V};
use crate::module::merge::{self, Counted, Merged, Piece};
use crate::module::{Collected, Definition, ModuleSystem};
use crate::source::Span;

/// Every service under `service_path`, sorted by name, and what could not be known.
pub fn extract(
    ev: &Evaluator,
    ms: &ModuleSystem,
    service_path: &[String],
) -> (Vec<Service>, Vec<UnresolvedItem>) {
    let base: Vec<Rc<str>> = service_path.iter().map(|s| Rc::from(s.as_str())).collect();
    let mut unresolved = Vec::new();
    ev.reset_budget();
    let children = ms.children(ev, &base);
    let mut names: BTreeMap<Rc<str>, Span> = children.names.clone();
    for (name, span) in ms.declarations().names_below(&base) {
        names.entry(name).or_insert(span);
    }
    if let Some(u) = children.unknown {
        unresolved.push(UnresolvedItem {
            service: None,
            what: format!("the services under `{}`", service_path.join(".")),
            unresolved: u,
        });
    }
    let mut services = Vec::new();
    for (name, span) in names {
        let path = |field: &str| {
            let mut p = base.clone();
            p.push(name.clone());
            p.push(Rc::from(field));
            p
        };
        ev.reset_budget();
        let enable = extract_enable(ev, ms, &path("enable"));
        ev.reset_budget();
        let mut service = Service {
            name: name.to_string(),
            span,
            enable,
            databases: Vec::new(),
            databases_unresolved: Vec::new(),
            databases_wrong_type: Vec::new(),
        };
        extract_databases(ev, ms, &path("databases"), &mut service);
        services.push(service);
    }
    (services, unresolved)
}

pub(crate) fn extract_enable(ev: &Evaluator, ms: &ModuleSystem, path: &[Rc<str>]) -> Enable {
    let default = ms.declaration(path).and_then(|d| d.default.clone());
    let collected = ms.definitions(ev, path);
    if let Some(u) = depends_on_declarations(ev, ms, path, &collected) {
        return Enable::Unresolved(u);
    }
    let merged = merge::merge(ev, &collected, default);
    if let Some(u) = merged.uncertain.first() {
        return Enable::Unresolved(u.unresolved.clone());
    }
    let Some(first) = merged.counted.first() else {
        return Enable::Undefined;
    };
    let mut values = Vec::new();
    for c in &merged.counted {
        match &c.value.v {
            V::Bool(b) => values.push((*b, c.def_span)),
            V::Unresolved(u) => return Enable::Unresolved((**u).clone()),
            other => {
                return Enable::WrongType {
                    got: other.type_name().to_string(),
                    span: c.def_span,
                }
            }
        }
    }
    if values.iter().all(|(b, _)| *b == values[0].0) {
        Enable::Known {
            value: values[0].0,
            span: first.def_span,
            is_default: first.is_default,
        }
    } else {
        Enable::Conflict(
            values
                .into_iter()
                .map(|(b, s)| (b.to_string(), s))
                .collect(),
        )
    }
}

fn extract_databases(ev: &Evaluator, ms: &ModuleSystem, path: &[Rc<str>], service: &mut Service) {
    let collected = ms.definitions(ev, path);
    if let Some(u) = depends_on_declarations(ev, ms, path, &collected) {
        service.databases_unresolved.push(u);
        return;
    }
    let merged: Merged = merge::merge(ev, &collected, None);
    let items = list_items(ev, &merged);
    for item in items.items {
        service.databases.push(DatabaseDecl {
            service: service.name.clone(),
            span: item.span,
            status: item.status,
            entry: extract_entry(ev, &item.thunk),
        });
    }
    service.databases_unresolved.extend(items.unresolved);
    service.databases_wrong_type.extend(items.wrong_type);
}

/// An element of a merged list option, and whether it counts.
pub(crate) struct ListItem {
    pub thunk: Thunk,
    pub span: Span,
    pub status: DeclStatus,
}

/// The elements of a merged list option: those that count (in merge order),
/// those under a false guard or overridden, and what cannot be known.
#[derive(Default)]
pub(crate) struct ListItems {
    pub items: Vec<ListItem>,
    pub unresolved: Vec<Unresolved>,
    /// Definitions that are not lists.
    pub wrong_type: Vec<(String, Span)>,
}

pub(crate) fn list_items(ev: &Evaluator, merged: &Merged) -> ListItems {
    let mut out = ListItems::default();
    let counted_status = match merged
        .uncertain
        .iter()
        .find(|_| merged.counted_may_be_dropped())
    {
        Some(u) => DeclStatus::Uncertain(u.unresolved.clone()),
        None => DeclStatus::Active,
    };
    for c in &merged.counted {
        push_items(c, counted_status.clone(), &mut out);
    }
    for c in &merged.overridden {
        let winner = merged
            .counted
            .first()
            .map(|w| w.def_span)
            .unwrap_or(c.def_span);
        push_items(c, DeclStatus::Overridden(winner), &mut out);
    }
    for u in &merged.uncertain {
        match u
            .content
            .as_ref()
            .and_then(|content| plain_list(ev, content))
        {
            Some((value, def_span)) => {
                let c = Counted {
                    value,
                    file: u.file,
                    def_span,
                    priority: u.priority.unwrap_or_default(),
                    order: 0,
                    is_default: false,
                };
                push_items(&c, DeclStatus::Uncertain(u.unresolved.clone()), &mut out);
            }
            None => out.unresolved.push(u.unresolved.clone()),
        }
    }
    for p in &merged.inactive {
        if let Piece::Inactive { content, guard, .. } = p {
            if let Some((value, def_span)) = plain_list(ev, content) {
                let c = Counted {
                    value,
                    file: guard.file,
                    def_span,
                    priority: 0,
                    order: 0,
                    is_default: false,
                };
                push_items(&c, DeclStatus::GuardFalse(*guard), &mut out);
            }
        }
    }
    out
}

fn push_items(c: &Counted, status: DeclStatus, out: &mut ListItems) {
    let list = match &c.value.v {
        V::List(l) => l.clone(),
        V::Unresolved(u) => {
            out.unresolved.push((**u).clone());
            return;
        }
        other => {
            out.wrong_type
                .push((other.type_name().to_string(), c.def_span));
            return;
        }
    };
    for item in &list.items {
        match item {
            Item::Known(t) => {
                let span = t.span();
                let span = if span.is_detached() { c.def_span } else { span };
                out.items.push(ListItem {
                    thunk: t.clone(),
                    span,
                    status: status.clone(),
                });
            }
            Item::Unknown(u) => out.unresolved.push((**u).clone()),
        }
    }
}

/// Without any declaration of the service in the scanned files, a priority
/// written on a set holding the service (`x = lib.mkDefault { ... }`) means
/// different things: a submodule or `attrsOf` contract drops the whole set
/// when another definition has a smaller priority number, separate options
/// apply it to each field. When those readings disagree, the answer is not
/// known.
fn depends_on_declarations(
    ev: &Evaluator,
    ms: &ModuleSystem,
    leaf: &[Rc<str>],
    collected: &[Collected],
) -> Option<Unresolved> {
    let service = &leaf[..leaf.len() - 1];
    let base = &service[..service.len() - 1];
    if ms.declaration(leaf).is_some()
        || ms.declaration(service).is_some()
        || ms.declaration(base).is_some()
    {
        return None;
    }
    let lifted = collected.iter().find_map(|c| match c {
        Collected::Def(d)
            if d.lifted
                .iter()
                .any(|(is_override, depth)| *is_override && *depth <= service.len()) =>
        {
            Some(d)
        }
        _ => None,
    })?;
    let reading = |collected: &[Collected]| {
        let merged = merge::merge(ev, collected, None);
        let spans: Vec<Span> = merged.counted.iter().map(|c| c.def_span).collect();
        (spans, merged.uncertain.len())
    };
    let separate = reading(collected);
    let submodule = reading(&ms.definitions_assuming(ev, leaf, &[service]));
    let attrs_of = reading(&ms.definitions_assuming(ev, leaf, &[base, service]));
    if separate == submodule && separate == attrs_of {
        return None;
    }
    let path = service
        .iter()
        .map(|s| s.as_ref())
        .collect::<Vec<_>>()
        .join(".");
    Some(Unresolved::new(
        Reason::UndeclaredOption,
        format!(
            "`{path}` is defined as a whole set under a priority (mkDefault/mkForce/mkOverride), and no option \
             declaration for it is in the scanned files: a submodule contract would drop the whole set, separate \
             options would apply the priority to each field, and here the two differ"
        ),
        lifted.span,
    ))
}

/// The list behind a guarded definition, when it is one (wrappers stripped).
fn plain_list(ev: &Evaluator, content: &Thunk) -> Option<(Val, Span)> {
    let span = content.span();
    let pieces = merge::pieces(
        ev,
        &[Collected::Def(Definition {
            file: span.file,
            value: content.clone(),
            span,
            lifted: Vec::new(),
        })],
    );
    let merged = merge::merge_pieces(ev, pieces, None);
    let c = merged.counted.first()?;
    matches!(c.value.v, V::List(_)).then(|| (c.value.clone(), c.def_span))
}

pub(crate) fn extract_entry(ev: &Evaluator, t: &Thunk) -> Entry {
    let v = ev.force(t);
    let attrs = match &v.v {
        V::Attrs(a) => a.clone(),
        V::Unresolved(u) => return Entry::Unresolved((**u).clone()),
        other => {
            return Entry::NotASet {
                got: other.type_name().to_string(),
            }
        }
    };
    if let Some(tag) = crate::module::definitions::type_tag(ev, &attrs) {
        return Entry::Unresolved(Unresolved::new(
            Reason::Unsupported,
            format!("a module-system wrapper (`{tag}`) around a database entry"),
            v.span,
        ));
    }
    let mut fields = BTreeMap::new();
    for (name, attr) in &attrs.map {
        let value_span = attr.value.span();
        let def = Collected::Def(Definition {
            file: value_span.file,
            value: attr.value.clone(),
            span: value_span,
            lifted: Vec::new(),
        });
        let merged = merge::merge(ev, &[def], None);
        let value = if let Some(u) = merged.uncertain.first() {
            FieldValue::Unresolved(u.unresolved.clone())
        } else if merged.counted.is_empty() {
            // Every definition is under a false `mkIf`: the field is absent.
            continue;
        } else {
            field_value(ev, &merged)
        };
        let value_span = merged
            .counted
            .first()
            .map(|c| c.value.span)
            .filter(|s| !s.is_detached())
            .unwrap_or(value_span);
        fields.insert(
            name.to_string(),
            Field {
                key_span: attr.key_span,
                value_span,
                value,
            },
        );
    }
    if let Some(open) = &attrs.open {
        fields.insert(
            "<unknown>".to_string(),
            Field {
                key_span: open.span,
                value_span: open.span,
                value: FieldValue::Unresolved((**open).clone()),
            },
        );
    }
    Entry::Fields(fields)
}

fn field_value(ev: &Evaluator, merged: &Merged) -> FieldValue {
    let first = &merged.counted[0];
    for c in &merged.counted[1..] {
        match ev.equal(&first.value, &c.value, c.def_span) {
            Ok(true) => {}
            Ok(false) => {
                return FieldValue::Conflict(merged.counted.iter().map(|c| c.def_span).collect())
            }
            Err(u) => {
                return FieldValue::Unresolved(u.as_unresolved().cloned().unwrap_or_else(|| {
                    Unresolved::new(Reason::EvalError, "comparison failed", c.def_span)
                }))
            }
        }
    }
    match &first.value.v {
        V::Str(s) => FieldValue::Str(s.to_string()),
        V::Int(i) => FieldValue::Int(*i),
        V::Float(f) => FieldValue::Float(*f),
        V::Bool(b) => FieldValue::Bool(*b),
        V::Null => FieldValue::Null,
        V::List(_) => FieldValue::List,
        V::Attrs(_) => FieldValue::Attrs,
        V::Lambda(_) | V::Prim(_) => FieldValue::Function,
        V::Path(p) => FieldValue::Path(p.display().to_string()),
        V::Unresolved(u) => FieldValue::Unresolved((**u).clone()),
        V::Config(..) => FieldValue::Unresolved(Unresolved::new(
            Reason::DefinedElsewhere,
            "config reference",
            first.value.span,
        )),
    }
}
