//! The `lib` and `builtins` functions configurations use around declarations.
//! The module-system wrappers (`mkIf`, `mkOverride`, ...) build the same
//! `{ _type = ...; }` sets as nixpkgs' lib, so the merge reads them as Nix does.

use std::rc::Rc;

use rustc_hash::FxHashMap as HashMap;

use super::env::{Env, Scope};
use super::value::{
    Attr, Attrs, Item, List, PrimCall, Reason, Thunk, ThunkCell, Unresolved, Val, V,
};
use super::{AttrMap, Evaluator};
use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prim {
    MkIf,
    MkMerge,
    MkOverride,
    MkDefault,
    MkForce,
    MkOptionDefault,
    MkBefore,
    MkAfter,
    MkOrder,
    MkEnableOption,
    MkOption,
    Optional,
    Optionals,
    OptionalAttrs,
    Map,
    Filter,
    ConcatLists,
    Flatten,
    GenAttrs,
    MapAttrs,
    ListToAttrs,
    NameValuePair,
    AttrNames,
    AttrValues,
    Elem,
    Head,
    Length,
    ToString,
    ToLower,
    ToUpper,
    ReplaceStrings,
    ConcatStringsSep,
    HasPrefix,
    HasSuffix,
    Throw,
    /// Internal: `inherit (src) name` selects lazily through this.
    SelectAttr,
    /// Internal: `f a b`, lazily (for `mapAttrs`).
    ApplyTwo,
    /// `<input>.lib.nixosSystem { modules = [ … ]; }` in a flake: a marker
    /// set `{ _type = "dbprov-nixos-system"; modules; }` for host discovery.
    NixosSystem,
    /// `flake-parts.lib.mkFlake { … } module`: the module's `flake` outputs.
    MkFlake,
    /// `import path`: files among the analysed ones are evaluated.
    Import,
    /// `lib.types` constructors taking one type or module: the result is a
    /// `{ _type = "option-type"; name; elemType | modules; }` descriptor.
    TypeListOf,
    TypeAttrsOf,
    TypeLazyAttrsOf,
    TypeNullOr,
    TypeSubmodule,
    TypeSubmoduleWith,
    TypeEnum,
    TypeOneOf,
    TypeEither,
}

/// Priorities of the module system (nixpkgs lib/modules.nix).
pub const PRIORITY_OPTION_DEFAULT: i64 = 1500;
pub const PRIORITY_DEFAULT: i64 = 1000;
pub const PRIORITY_PLAIN: i64 = 100;
pub const PRIORITY_FORCE: i64 = 50;
pub const ORDER_BEFORE: i64 = 500;
pub const ORDER_PLAIN: i64 = 1000;
pub const ORDER_AFTER: i64 = 1500;

impl Prim {
    pub fn arity(self) -> usize {
        use Prim::*;
        match self {
            MkMerge | MkDefault | MkForce | MkOptionDefault | MkBefore | MkAfter
            | MkEnableOption | MkOption | ConcatLists | Flatten | ListToAttrs | AttrNames
            | AttrValues | Head | Length | ToString | ToLower | ToUpper | Throw | TypeListOf
            | TypeAttrsOf | TypeLazyAttrsOf | TypeNullOr | TypeSubmodule | TypeSubmoduleWith
            | TypeEnum | TypeOneOf | NixosSystem | Import => 1,
            MkIf | MkOverride | MkOrder | Optional | Optionals | OptionalAttrs | Map | Filter
            | GenAttrs | MapAttrs | NameValuePair | Elem | ConcatStringsSep | HasPrefix
            | HasSuffix | SelectAttr | TypeEither | MkFlake => 2,
            ReplaceStrings | ApplyTwo => 3,
        }
    }
}

const LIB: &[(&str, Prim)] = &[
    ("mkIf", Prim::MkIf),
    ("mkMerge", Prim::MkMerge),
    ("mkOverride", Prim::MkOverride),
    ("mkDefault", Prim::MkDefault),
    ("mkForce", Prim::MkForce),
    ("mkOptionDefault", Prim::MkOptionDefault),
    ("mkBefore", Prim::MkBefore),
    ("mkAfter", Prim::MkAfter),
    ("mkOrder", Prim::MkOrder),
    ("mkEnableOption", Prim::MkEnableOption),
    ("mkOption", Prim::MkOption),
    ("optional", Prim::Optional),
    ("optionals", Prim::Optionals),
    ("optionalAttrs", Prim::OptionalAttrs),
    ("map", Prim::Map),
    ("filter", Prim::Filter),
    ("concatLists", Prim::ConcatLists),
    ("flatten", Prim::Flatten),
    ("genAttrs", Prim::GenAttrs),
    ("mapAttrs", Prim::MapAttrs),
    ("listToAttrs", Prim::ListToAttrs),
    ("nameValuePair", Prim::NameValuePair),
    ("attrNames", Prim::AttrNames),
    ("attrValues", Prim::AttrValues),
    ("elem", Prim::Elem),
    ("head", Prim::Head),
    ("length", Prim::Length),
    ("toString", Prim::ToString),
    ("toLower", Prim::ToLower),
    ("toUpper", Prim::ToUpper),
    ("replaceStrings", Prim::ReplaceStrings),
    ("concatStringsSep", Prim::ConcatStringsSep),
    ("hasPrefix", Prim::HasPrefix),
    ("hasSuffix", Prim::HasSuffix),
    ("throw", Prim::Throw),
];

/// Builtins that are not `lib` functions.
const NON_LIB: &[(&str, Prim)] = &[("import", Prim::Import)];

/// Functions that exist in `builtins` with the same semantics.
const BUILTINS: &[&str] = &[
    "import",
    "map",
    "filter",
    "concatLists",
    "mapAttrs",
    "listToAttrs",
    "attrNames",
    "attrValues",
    "elem",
    "head",
    "length",
    "toString",
    "replaceStrings",
    "concatStringsSep",
    "throw",
];

/// Names Nix binds at top level without `builtins.`.
const GLOBALS: &[&str] = &["map", "toString", "throw", "import"];

/// Global builtins dbprov does not evaluate: using them is unresolved, not an error.
const UNSUPPORTED_GLOBALS: &[&str] = &[
    "abort",
    "baseNameOf",
    "derivation",
    "dirOf",
    "fetchGit",
    "fetchTarball",
    "fetchTree",
    "fromTOML",
    "isNull",
    "placeholder",
    "removeAttrs",
    "scopedImport",
];

fn prim_val(p: Prim) -> Thunk {
    ThunkCell::done(Val::new(
        V::Prim(Rc::new(PrimCall {
            prim: p,
            args: vec![],
        })),
        Span::DETACHED,
    ))
}

fn lookup_prim(name: &str) -> Option<Prim> {
    LIB.iter()
        .chain(NON_LIB)
        .find(|(n, _)| *n == name)
        .map(|(_, p)| *p)
}

fn open_set(map: AttrMap, detail: &str) -> Thunk {
    ThunkCell::done(Val::new(
        V::Attrs(Rc::new(Attrs {
            map,
            open: Some(Rc::new(Unresolved::new(
                Reason::Unsupported,
                detail,
                Span::DETACHED,
            ))),
        })),
        Span::DETACHED,
    ))
}

fn attr(value: Thunk) -> Attr {
    Attr {
        value,
        key_span: Span::DETACHED,
    }
}

/// The outermost scope: `true`, `false`, `null`, `builtins`, global functions,
/// and `lib` (stored under an internal name; modules receive it as an argument).
pub fn builtins_scope() -> Env {
    let mut vars: HashMap<Rc<str>, Thunk> = HashMap::default();
    let constant = |v: V| ThunkCell::done(Val::new(v, Span::DETACHED));
    vars.insert("true".into(), constant(V::Bool(true)));
    vars.insert("false".into(), constant(V::Bool(false)));
    vars.insert("null".into(), constant(V::Null));
    for g in GLOBALS {
        vars.insert(
            (*g).into(),
            prim_val(lookup_prim(g).expect("global is a prim")),
        );
    }
    for g in UNSUPPORTED_GLOBALS {
        vars.insert(
            (*g).into(),
            ThunkCell::done(Val::unresolved(
                Reason::Unsupported,
                format!("builtin `{g}` is not evaluated statically"),
                Span::DETACHED,
            )),
        );
    }
    let mut builtins = AttrMap::new();
    for b in BUILTINS {
        builtins.insert(
            Rc::from(*b),
            attr(prim_val(lookup_prim(b).expect("builtin is a prim"))),
        );
    }
    for (k, v) in [
        ("true", V::Bool(true)),
        ("false", V::Bool(false)),
        ("null", V::Null),
    ] {
        builtins.insert(Rc::from(k), attr(constant(v)));
    }
    vars.insert(
        "builtins".into(),
        open_set(builtins, "this builtin is not evaluated statically"),
    );
    let mut lib = AttrMap::new();
    for (name, p) in LIB {
        lib.insert(Rc::from(*name), attr(prim_val(*p)));
    }
    lib.insert(Rc::from("types"), attr(types_set()));
    // What a flake input's `lib` offers: nixpkgs' lib, `nixosSystem`, flake-parts' `mkFlake`.
    let mut flake_lib = lib.clone();
    flake_lib.insert(Rc::from("nixosSystem"), attr(prim_val(Prim::NixosSystem)));
    flake_lib.insert(Rc::from("mkFlake"), attr(prim_val(Prim::MkFlake)));
    vars.insert(
        "__lib".into(),
        open_set(lib, "this lib function is not evaluated statically"),
    );
    vars.insert(
        "__flake_lib".into(),
        open_set(
            flake_lib,
            "this function of a flake input is not evaluated statically",
        ),
    );
    Scope::root(crate::source::FileId::MAX, vars)
}

/// Option types without parameters that modules commonly use.
const SIMPLE_TYPES: &[&str] = &[
    "bool",
    "str",
    "int",
    "port",
    "attrs",
    "anything",
    "lines",
    "package",
    "path",
    "raw",
    "unspecified",
    "nonEmptyStr",
    "singleLineStr",
    "commas",
    "float",
    "number",
    "string",
    "envVar",
    "nonEmptyListOf",
    "pathInStore",
];

/// A type descriptor `{ _type = "option-type"; name = ...; }` plus parameters.
fn type_descriptor(name: &'static str, params: Vec<(&'static str, Thunk)>, span: Span) -> Val {
    let mut entries = vec![
        ("_type", tag("option-type", span)),
        ("name", tag(name, span)),
    ];
    entries.extend(params);
    set(entries, span)
}

fn types_set() -> Thunk {
    let mut map = AttrMap::new();
    for t in SIMPLE_TYPES {
        map.insert(
            Rc::from(*t),
            attr(done(type_descriptor(t, vec![], Span::DETACHED))),
        );
    }
    for (name, p) in [
        ("listOf", Prim::TypeListOf),
        ("attrsOf", Prim::TypeAttrsOf),
        ("lazyAttrsOf", Prim::TypeLazyAttrsOf),
        ("nullOr", Prim::TypeNullOr),
        ("submodule", Prim::TypeSubmodule),
        ("submoduleWith", Prim::TypeSubmoduleWith),
        ("enum", Prim::TypeEnum),
        ("oneOf", Prim::TypeOneOf),
        ("either", Prim::TypeEither),
    ] {
        map.insert(Rc::from(name), attr(prim_val(p)));
    }
    open_set(map, "this option type is not evaluated statically")
}

thread_local! {
    /// The names and tags built-in functions write (`_type`, `content`,
    /// `option`, ...): one allocation each per evaluation thread, however
    /// many `mkIf`s and option types a tree has.
    static STATIC_NAMES: std::cell::RefCell<HashMap<&'static str, Rc<str>>> =
        std::cell::RefCell::new(HashMap::default());
}

fn static_name(s: &'static str) -> Rc<str> {
    STATIC_NAMES.with(|names| {
        names
            .borrow_mut()
            .entry(s)
            .or_insert_with(|| Rc::from(s))
            .clone()
    })
}

/// A string the built-in functions write, such as a `_type` tag.
fn tag(s: &'static str, span: Span) -> Thunk {
    done(Val::new(V::Str(static_name(s)), span))
}

fn set(entries: Vec<(&'static str, Thunk)>, span: Span) -> Val {
    let map = entries
        .into_iter()
        .map(|(k, v)| (static_name(k), attr(v)))
        .collect();
    Val::new(V::Attrs(Rc::new(Attrs { map, open: None })), span)
}

fn done(v: Val) -> Thunk {
    ThunkCell::done(v)
}

fn int(n: i64, span: Span) -> Thunk {
    done(Val::new(V::Int(n), span))
}

/// `mkOverride p x` as nixpkgs builds it.
pub fn mk_override(priority: Thunk, content: Thunk, span: Span) -> Val {
    set(
        vec![
            ("_type", tag("override", span)),
            ("priority", priority),
            ("content", content),
        ],
        span,
    )
}

/// `mkIf c x` as nixpkgs builds it.
pub fn mk_if(condition: Thunk, content: Thunk, span: Span) -> Val {
    set(
        vec![
            ("_type", tag("if", span)),
            ("condition", condition),
            ("content", content),
        ],
        span,
    )
}

fn list(items: Vec<Item>, span: Span) -> Val {
    if items.len() > super::value::MAX_LIST_LEN {
        return super::ops::too_large("list", span);
    }
    Val::new(V::List(Rc::new(List { items })), span)
}

fn unknown(v: &Val) -> Option<Val> {
    v.as_unresolved().map(|_| v.clone())
}

fn type_error(expected: &str, got: &Val, span: Span) -> Val {
    Val::error(
        format!("value is {} while {expected} was expected", got.type_name()),
        span,
    )
}

macro_rules! expect {
    ($ev:expr, $t:expr, $pat:ident, $what:expr, $span:expr) => {{
        let v = $ev.force($t);
        match &v.v {
            V::$pat(x) => x.clone(),
            V::Unresolved(_) => return v,
            _ => return type_error($what, &v, $span),
        }
    }};
}

/// Runs a fully applied primitive.
pub fn call(ev: &Evaluator, prim: Prim, args: &[Thunk], span: Span) -> Val {
    use Prim::*;
    match prim {
        MkIf => mk_if(args[0].clone(), args[1].clone(), span),
        MkMerge => set(
            vec![("_type", tag("merge", span)), ("contents", args[0].clone())],
            span,
        ),
        MkOverride => mk_override(args[0].clone(), args[1].clone(), span),
        MkDefault => mk_override(int(PRIORITY_DEFAULT, span), args[0].clone(), span),
        MkForce => mk_override(int(PRIORITY_FORCE, span), args[0].clone(), span),
        MkOptionDefault => mk_override(int(PRIORITY_OPTION_DEFAULT, span), args[0].clone(), span),
        MkOrder => mk_order(args[0].clone(), args[1].clone(), span),
        MkBefore => mk_order(int(ORDER_BEFORE, span), args[0].clone(), span),
        MkAfter => mk_order(int(ORDER_AFTER, span), args[0].clone(), span),
        MkEnableOption => {
            let bool_type = type_descriptor("bool", vec![], span);
            set(
                vec![
                    ("_type", tag("option", span)),
                    ("default", done(Val::new(V::Bool(false), span))),
                    ("type", done(bool_type)),
                ],
                span,
            )
        }
        MkOption => {
            let a = expect!(ev, &args[0], Attrs, "a set", span);
            // Room for `_type`: a clone has none to spare.
            let mut map = AttrMap::with_capacity(a.map.len() + 1);
            for (k, v) in &a.map {
                map.insert(k.clone(), v.clone());
            }
            map.insert(static_name("_type"), attr(tag("option", span)));
            Val::new(
                V::Attrs(Rc::new(Attrs {
                    map,
                    open: a.open.clone(),
                })),
                span,
            )
        }
        Optional | Optionals | OptionalAttrs => {
            let c = expect!(ev, &args[0], Bool, "a Boolean", span);
            match (prim, c) {
                (Optional, true) => list(vec![Item::Known(args[1].clone())], span),
                (Optional, false) | (Optionals, false) => list(vec![], span),
                (OptionalAttrs, false) => set(vec![], span),
                _ => {
                    // `optionals true xs` is `xs` itself.
                    let v = ev.force(&args[1]);
                    let ok = matches!(
                        (&v.v, prim),
                        (V::List(_), Optionals)
                            | (V::Attrs(_), OptionalAttrs)
                            | (V::Unresolved(_), _)
                    );
                    if ok {
                        v
                    } else {
                        type_error(if prim == Optionals { "a list" } else { "a set" }, &v, span)
                    }
                }
            }
        }
        Map => {
            let l = expect!(ev, &args[1], List, "a list", span);
            let f = ev.force(&args[0]);
            let items = l
                .items
                .iter()
                .map(|i| match i {
                    Item::Known(t) => Item::Known(ThunkCell::apply(f.clone(), t.clone(), span)),
                    u => u.clone(),
                })
                .collect();
            list(items, span)
        }
        Filter => {
            let l = expect!(ev, &args[1], List, "a list", span);
            let f = ev.force(&args[0]);
            let mut items = Vec::new();
            for i in &l.items {
                match i {
                    Item::Known(t) => {
                        let keep = ev.whnf(ev.apply(f.clone(), t.clone(), span));
                        match &keep.v {
                            V::Bool(true) => items.push(i.clone()),
                            V::Bool(false) => {}
                            V::Unresolved(u) if u.is_failure() => {
                                return Val::new(V::Unresolved(u.clone()), span)
                            }
                            V::Unresolved(u) => items.push(Item::Unknown(u.clone())),
                            _ => return type_error("a Boolean", &keep, span),
                        }
                    }
                    u => items.push(u.clone()),
                }
            }
            list(items, span)
        }
        ConcatLists => {
            let l = expect!(ev, &args[0], List, "a list", span);
            let mut items = Vec::new();
            for i in &l.items {
                match i {
                    Item::Known(t) => {
                        let inner = ev.force(t);
                        match &inner.v {
                            V::List(x) => items.extend(x.items.iter().cloned()),
                            V::Unresolved(u) if u.is_failure() => {
                                return Val::new(V::Unresolved(u.clone()), span)
                            }
                            V::Unresolved(u) => items.push(Item::Unknown(u.clone())),
                            _ => return type_error("a list", &inner, span),
                        }
                    }
                    u => items.push(u.clone()),
                }
            }
            list(items, span)
        }
        Flatten => {
            let mut items = Vec::new();
            flatten(ev, &args[0], &mut items, span);
            list(items, span)
        }
        GenAttrs => {
            let names = expect!(ev, &args[0], List, "a list", span);
            let f = ev.force(&args[1]);
            let mut pairs = Vec::new();
            let mut open = None;
            for i in &names.items {
                match i {
                    Item::Known(t) => {
                        let n = ev.force(t);
                        match &n.v {
                            V::Str(s) => {
                                pairs.push((
                                    s.clone(),
                                    Attr {
                                        value: ThunkCell::apply(f.clone(), t.clone(), span),
                                        key_span: n.span,
                                    },
                                ));
                            }
                            V::Unresolved(u) => open = Some(u.clone()),
                            _ => return type_error("a string", &n, span),
                        }
                    }
                    Item::Unknown(u) => open = Some(u.clone()),
                }
            }
            // As `listToAttrs`: the first occurrence of a name wins.
            let map = pairs.into_iter().rev().collect();
            Val::new(V::Attrs(Rc::new(Attrs { map, open })), span)
        }
        MapAttrs => {
            let a = expect!(ev, &args[1], Attrs, "a set", span);
            let map = a
                .map
                .iter()
                .map(|(k, v)| {
                    let f_name = Val::new(
                        V::Prim(Rc::new(PrimCall {
                            prim: ApplyTwo,
                            args: vec![args[0].clone(), done(Val::str(k, v.key_span))],
                        })),
                        span,
                    );
                    let value = ThunkCell::apply(f_name, v.value.clone(), span);
                    (
                        k.clone(),
                        Attr {
                            value,
                            key_span: v.key_span,
                        },
                    )
                })
                .collect();
            Val::new(
                V::Attrs(Rc::new(Attrs {
                    map,
                    open: a.open.clone(),
                })),
                span,
            )
        }
        ListToAttrs => {
            let l = expect!(ev, &args[0], List, "a list", span);
            // Every element is forced: an unknown one makes the result unknown.
            if let Some(u) = l.first_unknown() {
                return Val::new(V::Unresolved(u.clone()), span);
            }
            let mut pairs = Vec::new();
            let mut open = None;
            for i in &l.items {
                let Item::Known(t) = i else { continue };
                let pair = ev.force(t);
                let a = match &pair.v {
                    V::Attrs(a) => a.clone(),
                    V::Unresolved(u) => return Val::new(V::Unresolved(u.clone()), span),
                    _ => return type_error("a set", &pair, span),
                };
                let (Some(name), Some(value)) = (a.get("name"), a.get("value")) else {
                    return Val::error("listToAttrs: element lacks `name` or `value`", pair.span);
                };
                let n = ev.force(&name.value);
                match &n.v {
                    V::Str(s) => pairs.push((
                        s.clone(),
                        Attr {
                            value: value.value.clone(),
                            key_span: n.span,
                        },
                    )),
                    V::Unresolved(u) if u.is_failure() => {
                        return Val::new(V::Unresolved(u.clone()), span)
                    }
                    V::Unresolved(u) => open = Some(u.clone()),
                    _ => return type_error("a string", &n, span),
                }
            }
            // The first occurrence of a name wins: collecting keeps the last.
            let map = pairs.into_iter().rev().collect();
            Val::new(V::Attrs(Rc::new(Attrs { map, open })), span)
        }
        NameValuePair => set(
            vec![("name", args[0].clone()), ("value", args[1].clone())],
            span,
        ),
        AttrNames | AttrValues => {
            let a = expect!(ev, &args[0], Attrs, "a set", span);
            if let Some(u) = &a.open {
                return Val::new(V::Unresolved(u.clone()), span);
            }
            let items = a
                .map
                .iter()
                .map(|(k, v)| {
                    Item::Known(if prim == AttrNames {
                        done(Val::str(k, v.key_span))
                    } else {
                        v.value.clone()
                    })
                })
                .collect();
            list(items, span)
        }
        Elem => {
            let l = expect!(ev, &args[1], List, "a list", span);
            if let Some(u) = l.first_unknown() {
                return Val::new(V::Unresolved(u.clone()), span);
            }
            let x = ev.force(&args[0]);
            for i in &l.items {
                if let Item::Known(t) = i {
                    let y = ev.force(t);
                    match ev.equal(&x, &y, span) {
                        Ok(true) => return Val::new(V::Bool(true), span),
                        Ok(false) => {}
                        Err(u) => return u,
                    }
                }
            }
            match l.first_unknown() {
                Some(u) => Val::new(V::Unresolved(u.clone()), span),
                None => Val::new(V::Bool(false), span),
            }
        }
        Head => {
            let l = expect!(ev, &args[0], List, "a list", span);
            // Nix has the whole list; an unknown part could fail it.
            if let Some(u) = l.first_unknown() {
                return Val::new(V::Unresolved(u.clone()), span);
            }
            match l.items.first() {
                Some(Item::Known(t)) => ev.force_raw(t),
                Some(Item::Unknown(u)) => Val::new(V::Unresolved(u.clone()), span),
                None => Val::error("head of an empty list", span),
            }
        }
        Length => {
            let l = expect!(ev, &args[0], List, "a list", span);
            match l.first_unknown() {
                Some(u) => Val::new(V::Unresolved(u.clone()), span),
                None => Val::new(V::Int(l.items.len() as i64), span),
            }
        }
        ToString => {
            let v = ev.force(&args[0]);
            match to_string(ev, &v, span) {
                Ok(s) if s.len() > super::value::MAX_STRING_LEN => {
                    super::ops::too_large("string", span)
                }
                Ok(s) => Val::str(&s, span),
                Err(u) => u,
            }
        }
        ToLower | ToUpper => {
            let s = expect!(ev, &args[0], Str, "a string", span);
            // lib.toLower/toUpper only map ASCII letters.
            let out = if prim == ToLower {
                s.to_ascii_lowercase()
            } else {
                s.to_ascii_uppercase()
            };
            Val::str(&out, span)
        }
        ReplaceStrings => replace_strings(ev, args, span),
        ConcatStringsSep => {
            let sep = expect!(ev, &args[0], Str, "a string", span);
            let l = expect!(ev, &args[1], List, "a list", span);
            if let Some(u) = l.first_unknown() {
                return Val::new(V::Unresolved(u.clone()), span);
            }
            let mut parts = Vec::new();
            for i in &l.items {
                let Item::Known(t) = i else { unreachable!() };
                let v = ev.force(t);
                match ev.coerce_interpolated(&v) {
                    Ok(s) => parts.push(s.to_string()),
                    Err(u) => return u,
                }
            }
            if parts.iter().map(|p| p.len() + sep.len()).sum::<usize>()
                > super::value::MAX_STRING_LEN
            {
                return super::ops::too_large("string", span);
            }
            Val::str(&parts.join(&sep), span)
        }
        HasPrefix | HasSuffix => {
            let affix = expect!(ev, &args[0], Str, "a string", span);
            let s = expect!(ev, &args[1], Str, "a string", span);
            let r = if prim == HasPrefix {
                s.starts_with(&*affix)
            } else {
                s.ends_with(&*affix)
            };
            Val::new(V::Bool(r), span)
        }
        Throw => {
            let v = ev.force(&args[0]);
            let msg = match &v.v {
                V::Str(s) => s.to_string(),
                _ => "throw".to_string(),
            };
            Val::error(format!("throws: {msg}"), span)
        }
        TypeListOf => type_descriptor("listOf", vec![("elemType", args[0].clone())], span),
        TypeAttrsOf => type_descriptor("attrsOf", vec![("elemType", args[0].clone())], span),
        TypeLazyAttrsOf => {
            type_descriptor("lazyAttrsOf", vec![("elemType", args[0].clone())], span)
        }
        TypeNullOr => type_descriptor("nullOr", vec![("elemType", args[0].clone())], span),
        TypeSubmodule => {
            let modules = done(list(vec![Item::Known(args[0].clone())], span));
            type_descriptor("submodule", vec![("modules", modules)], span)
        }
        TypeSubmoduleWith => {
            let a = expect!(ev, &args[0], Attrs, "a set", span);
            let modules = match a.get("modules") {
                Some(m) => m.value.clone(),
                None => done(list(vec![], span)),
            };
            type_descriptor("submodule", vec![("modules", modules)], span)
        }
        TypeEnum => type_descriptor("enum", vec![("values", args[0].clone())], span),
        TypeOneOf => type_descriptor("oneOf", vec![("types", args[0].clone())], span),
        TypeEither => type_descriptor("either", vec![], span),
        NixosSystem => {
            let modules = ThunkCell::apply(
                Val::new(
                    V::Prim(Rc::new(PrimCall {
                        prim: SelectAttr,
                        args: vec![tag("modules", span)],
                    })),
                    span,
                ),
                args[0].clone(),
                span,
            );
            set(
                vec![
                    ("_type", tag("dbprov-nixos-system", span)),
                    ("modules", modules),
                ],
                span,
            )
        }
        MkFlake => {
            // flake-parts passes `inputs` (from the first argument) to its modules.
            let inputs = match ev.force(&args[0]).v {
                V::Attrs(a) => a.get("inputs").map(|i| i.value.clone()),
                _ => None,
            };
            let mut map = AttrMap::new();
            if let Some(i) = inputs {
                map.insert(Rc::from("inputs"), attr(i));
            }
            map.insert(Rc::from("lib"), attr(ev.flake_lib()));
            let module_args = done(Val::new(
                V::Attrs(Rc::new(Attrs {
                    map,
                    open: Some(Rc::new(Unresolved::new(
                        Reason::DefinedElsewhere,
                        "flake-parts module argument",
                        span,
                    ))),
                })),
                span,
            ));
            let mut hosts = AttrMap::new();
            let mut open = None;
            flake_parts_module(ev, &args[1], &module_args, &mut hosts, &mut open, span, 0);
            let configurations = done(Val::new(
                V::Attrs(Rc::new(Attrs {
                    map: hosts,
                    open: open.map(Rc::new),
                })),
                span,
            ));
            set(vec![("nixosConfigurations", configurations)], span)
        }
        Import => {
            let target = ev.force(&args[0]);
            match &target.v {
                V::Path(p) => ev.import(p, span),
                V::Str(s) if s.starts_with('/') => ev.import(std::path::Path::new(&**s), span),
                V::Unresolved(_) => target,
                _ => type_error("a path", &target, span),
            }
        }
        ApplyTwo => {
            let f = ev.force(&args[0]);
            let partial = ev.apply(f, args[1].clone(), span);
            ev.apply(partial, args[2].clone(), span)
        }
        SelectAttr => {
            let name = expect!(ev, &args[0], Str, "a string", span);
            let base = ev.force_raw(&args[1]);
            match ev.select(base, &name, span) {
                Ok(v) => v,
                Err(missing) => missing,
            }
        }
    }
}

fn mk_order(priority: Thunk, content: Thunk, span: Span) -> Val {
    set(
        vec![
            ("_type", tag("order", span)),
            ("priority", priority),
            ("content", content),
        ],
        span,
    )
}

fn flatten(ev: &Evaluator, t: &Thunk, out: &mut Vec<Item>, span: Span) {
    let v = ev.force(t);
    match &v.v {
        V::List(l) => {
            for i in &l.items {
                match i {
                    Item::Known(x) => {
                        let r = ev.guarded(span, || {
                            flatten(ev, x, out, span);
                            Val::new(V::Null, span)
                        });
                        if let V::Unresolved(u) = r.v {
                            out.push(Item::Unknown(u));
                        }
                    }
                    u => out.push(u.clone()),
                }
            }
        }
        V::Unresolved(u) => out.push(Item::Unknown(u.clone())),
        _ => out.push(Item::Known(t.clone())),
    }
}

/// `toString`: strings, numbers, Booleans, null, lists and paths.
pub fn to_string(ev: &Evaluator, v: &Val, span: Span) -> Result<String, Val> {
    match &v.v {
        V::Str(s) => Ok(s.to_string()),
        V::Int(i) => Ok(i.to_string()),
        V::Bool(true) => Ok("1".into()),
        V::Bool(false) | V::Null => Ok(String::new()),
        V::Path(p) => Ok(p.display().to_string()),
        V::List(l) => {
            if let Some(u) = l.first_unknown() {
                return Err(Val::new(V::Unresolved(u.clone()), span));
            }
            // As Nix: a space after each element but the last, and none
            // after an empty list.
            let mut out = String::new();
            let n = l.items.len();
            for (k, i) in l.items.iter().enumerate() {
                let Item::Known(t) = i else { unreachable!() };
                let x = ev.force(t);
                out.push_str(&to_string(ev, &x, span)?);
                if out.len() > super::value::MAX_STRING_LEN {
                    return Err(super::ops::too_large("string", span));
                }
                let empty_list = matches!(&x.v, V::List(inner) if inner.items.is_empty());
                if k + 1 < n && !empty_list {
                    out.push(' ');
                }
            }
            Ok(out)
        }
        V::Unresolved(_) => Err(v.clone()),
        V::Float(_) => Err(Val::unresolved(
            Reason::Unsupported,
            "toString of a float",
            span,
        )),
        V::Attrs(a) if a.get("__toString").is_some() || a.get("outPath").is_some() => {
            Err(Val::unresolved(
                Reason::Unsupported,
                "toString of a set with __toString/outPath",
                span,
            ))
        }
        other => Err(Val::error(
            format!("cannot coerce {} to a string", other.type_name()),
            span,
        )),
    }
}

fn replace_strings(ev: &Evaluator, args: &[Thunk], span: Span) -> Val {
    let mut lists = Vec::new();
    for t in &args[..2] {
        let l = expect!(ev, t, List, "a list", span);
        if let Some(u) = l.first_unknown() {
            return Val::new(V::Unresolved(u.clone()), span);
        }
        let mut strs = Vec::new();
        for i in &l.items {
            let Item::Known(t) = i else { unreachable!() };
            let v = ev.force(t);
            match &v.v {
                V::Str(s) => strs.push(s.clone()),
                _ => return unknown(&v).unwrap_or_else(|| type_error("a string", &v, span)),
            }
        }
        lists.push(strs);
    }
    let (from, to) = (&lists[0], &lists[1]);
    if from.len() != to.len() {
        return Val::error("replaceStrings: lists of different lengths", span);
    }
    let s = expect!(ev, &args[2], Str, "a string", span);
    // Byte-wise, as Nix does: at each position the first matching pattern wins;
    // an empty pattern matches everywhere and keeps the next byte.
    let bytes = s.as_bytes();
    let mut out: Vec<u8> = Vec::new();
    let mut p = 0;
    while p <= bytes.len() {
        if out.len() > super::value::MAX_STRING_LEN {
            return super::ops::too_large("string", span);
        }
        let mut found = false;
        for (f, t) in from.iter().zip(to.iter()) {
            if bytes[p..].starts_with(f.as_bytes()) {
                found = true;
                out.extend_from_slice(t.as_bytes());
                if f.is_empty() {
                    if p < bytes.len() {
                        out.push(bytes[p]);
                    }
                    p += 1;
                } else {
                    p += f.len();
                }
                break;
            }
        }
        if !found {
            if p < bytes.len() {
                out.push(bytes[p]);
            }
            p += 1;
        }
    }
    if out.len() > super::value::MAX_STRING_LEN {
        return super::ops::too_large("string", span);
    }
    match String::from_utf8(out) {
        Ok(s) => Val::str(&s, span),
        Err(_) => Val::unresolved(
            Reason::Unsupported,
            "replaceStrings produced invalid UTF-8",
            span,
        ),
    }
}

/// Flake-parts modules this deep in `imports` are not followed.
const MAX_FLAKE_PARTS_DEPTH: usize = 16;

/// Collects `flake.nixosConfigurations` from a flake-parts module and the
/// modules it imports.
fn flake_parts_module(
    ev: &Evaluator,
    module: &Thunk,
    module_args: &Thunk,
    hosts: &mut AttrMap,
    open: &mut Option<Unresolved>,
    span: Span,
    depth: usize,
) {
    let mut m = ev.force(module);
    if matches!(m.v, V::Lambda(_) | V::Prim(_)) {
        m = ev.whnf(ev.apply(m, module_args.clone(), span));
    }
    let a = match &m.v {
        V::Attrs(a) => a.clone(),
        V::Path(p) if depth < MAX_FLAKE_PARTS_DEPTH => {
            let imported = done(ev.import(p, span));
            flake_parts_module(ev, &imported, module_args, hosts, open, span, depth + 1);
            return;
        }
        V::Unresolved(u) => {
            open.get_or_insert_with(|| (**u).clone());
            return;
        }
        _ => return,
    };
    if let Some(flake) = a.get("flake") {
        match ev.force(&flake.value).v {
            V::Attrs(f) => {
                if let Some(c) = f.get("nixosConfigurations") {
                    match ev.force(&c.value).v {
                        V::Attrs(c) => {
                            for (k, v) in &c.map {
                                hosts.insert_if_absent(k, || v.clone());
                            }
                            if let Some(u) = &c.open {
                                open.get_or_insert_with(|| (**u).clone());
                            }
                        }
                        V::Unresolved(u) => {
                            open.get_or_insert_with(|| (*u).clone());
                        }
                        _ => {}
                    }
                }
            }
            V::Unresolved(u) => {
                open.get_or_insert_with(|| (*u).clone());
            }
            _ => {}
        }
    }
    if depth >= MAX_FLAKE_PARTS_DEPTH {
        return;
    }
    if let Some(imports) = a.get("imports") {
        match ev.force(&imports.value).v {
            V::List(l) => {
                for item in &l.items {
                    match item {
                        Item::Known(t) => {
                            flake_parts_module(ev, t, module_args, hosts, open, span, depth + 1)
                        }
                        Item::Unknown(u) => {
                            open.get_or_insert_with(|| (**u).clone());
                        }
                    }
                }
            }
            V::Unresolved(u) => {
                open.get_or_insert_with(|| (*u).clone());
            }
            _ => {}
        }
    }
}
