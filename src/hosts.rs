//! Hosts: the NixOS configurations of a flake. Found statically in
//! `flake.nix` (`nixosConfigurations.<host> = <input>.lib.nixosSystem { modules = [ … ]; }`,
//! also through `let` bindings, helper functions and flake-parts' `mkFlake`),
//! or listed in `dbprov.toml` (`[hosts.<name>] modules = [ … ]`).

use std::path::PathBuf;
use std::rc::Rc;

use crate::eval::{Attr, Attrs, Evaluator, Item, Reason, ThunkCell, Unresolved, Val, V};
use crate::module::definitions::type_tag;
use crate::source::{FileId, Span};
use crate::syntax::{Expr, NodeId, Param};

/// One module of a host's list.
#[derive(Clone, Debug)]
pub enum HostModule {
    /// A file (or a directory: its `default.nix`), absolute.
    File(PathBuf, Span),
    /// A module written inline, or a value the evaluator computed.
    Value(Val),
}

/// A NixOS configuration to analyse on its own.
#[derive(Clone, Debug)]
pub struct HostSpec {
    pub name: String,
    /// Where the host is declared.
    pub span: Span,
    pub modules: Vec<HostModule>,
    /// Entries of the module list that cannot be evaluated (often modules of
    /// other flakes): they may define anything, and are reported.
    pub unresolved: Vec<Unresolved>,
}

/// A flake input as dbprov sees it: its `lib` is nixpkgs' lib with
/// `nixosSystem` and `mkFlake`; anything else is defined elsewhere.
fn input_stub(ev: &Evaluator, name: &str, span: Span) -> Val {
    let mut map = crate::eval::AttrMap::new();
    map.insert(
        Rc::from("lib"),
        Attr {
            value: ev.flake_lib(),
            key_span: span,
        },
    );
    Val::new(
        V::Attrs(Rc::new(Attrs {
            map,
            open: Some(Rc::new(Unresolved::new(
                Reason::DefinedElsewhere,
                format!("flake input '{name}'"),
                span,
            ))),
        })),
        span,
    )
}

/// The hosts `flake.nix` declares, and what about them cannot be known.
pub fn from_flake(ev: &Evaluator, file: FileId, expr: NodeId) -> (Vec<HostSpec>, Vec<Unresolved>) {
    ev.reset_budget();
    let env = ev.file_env(file);
    let flake = ev.eval_whnf(expr, &env);
    let mut problems = Vec::new();
    let V::Attrs(flake_attrs) = &flake.v else {
        return (Vec::new(), problems);
    };
    let Some(outputs) = flake_attrs.get("outputs") else {
        return (Vec::new(), problems);
    };
    let outputs_fn = ev.force(&outputs.value);
    // Every input (declared in `inputs`, or named by `outputs`' arguments) is a stub.
    let mut names: Vec<String> = vec!["self".to_string()];
    if let Some(inputs) = flake_attrs.get("inputs") {
        if let V::Attrs(a) = ev.force(&inputs.value).v {
            names.extend(a.map.keys().map(|k| k.to_string()));
        }
    }
    if let V::Lambda(c) = &outputs_fn.v {
        let ast = &c.env.ast;
        if let Expr::Lambda { param, .. } = ast.expr(c.lambda) {
            if let Param::Pattern { entries, .. } = ast.param(param) {
                names.extend(entries.iter().map(|&e| ast.pat_entry(e).0.to_string()));
            }
        }
    }
    let span = flake.span;
    let mut map = crate::eval::AttrMap::new();
    for n in names {
        map.insert(
            Rc::from(n.as_str()),
            Attr {
                value: ThunkCell::done(input_stub(ev, &n, span)),
                key_span: span,
            },
        );
    }
    let inputs = Val::new(
        V::Attrs(Rc::new(Attrs {
            map,
            open: Some(Rc::new(Unresolved::new(
                Reason::DefinedElsewhere,
                "flake input",
                span,
            ))),
        })),
        span,
    );
    let result = ev.whnf(ev.apply(outputs_fn, ThunkCell::done(inputs), span));
    let configurations = match &result.v {
        V::Attrs(a) => match a.get("nixosConfigurations") {
            Some(c) => ev.force(&c.value),
            None => return (Vec::new(), problems),
        },
        V::Unresolved(u) => {
            problems.push(Unresolved::new(
                u.reason,
                format!("the flake's outputs: {}", u.detail),
                u.span,
            ));
            return (Vec::new(), problems);
        }
        _ => return (Vec::new(), problems),
    };
    let hosts_attrs = match &configurations.v {
        V::Attrs(a) => a.clone(),
        V::Unresolved(u) => {
            problems.push(Unresolved::new(
                u.reason,
                format!("nixosConfigurations: {}", u.detail),
                u.span,
            ));
            return (Vec::new(), problems);
        }
        _ => return (Vec::new(), problems),
    };
    if let Some(open) = &hosts_attrs.open {
        problems.push(Unresolved::new(
            open.reason,
            format!("some hosts: {}", open.detail),
            open.span,
        ));
    }
    let mut hosts = Vec::new();
    for (name, attr) in &hosts_attrs.map {
        ev.reset_budget();
        let v = ev.force(&attr.value);
        let mut host = HostSpec {
            name: name.to_string(),
            span: attr.key_span,
            modules: Vec::new(),
            unresolved: Vec::new(),
        };
        match &v.v {
            V::Attrs(a) if type_tag(ev, a).as_deref() == Some("dbprov-nixos-system") => {
                let modules = a.get("modules").map(|m| ev.force(&m.value));
                collect_modules(ev, modules, &mut host);
            }
            V::Unresolved(u) => {
                problems.push(Unresolved::new(
                    u.reason,
                    format!("host '{name}': {}", u.detail),
                    attr.key_span,
                ));
                continue;
            }
            _ => {
                problems.push(Unresolved::new(
                    Reason::Unsupported,
                    format!("host '{name}' is not built with nixosSystem"),
                    attr.key_span,
                ));
                continue;
            }
        }
        hosts.push(host);
    }
    (hosts, problems)
}

fn collect_modules(ev: &Evaluator, modules: Option<Val>, host: &mut HostSpec) {
    let Some(list) = modules else { return };
    match &list.v {
        V::List(l) => {
            for item in &l.items {
                match item {
                    Item::Known(t) => {
                        let v = ev.force(t);
                        match &v.v {
                            V::Path(p) => {
                                host.modules.push(HostModule::File((**p).clone(), v.span))
                            }
                            V::Str(s) if s.starts_with('/') => host
                                .modules
                                .push(HostModule::File(PathBuf::from(&**s), v.span)),
                            V::Attrs(_) | V::Lambda(_) => host.modules.push(HostModule::Value(v)),
                            V::Unresolved(u) => host.unresolved.push((**u).clone()),
                            other => host.unresolved.push(Unresolved::new(
                                Reason::EvalError,
                                format!(
                                    "a module of host '{}' is {}",
                                    host.name,
                                    other.type_name()
                                ),
                                v.span,
                            )),
                        }
                    }
                    Item::Unknown(u) => host.unresolved.push((**u).clone()),
                }
            }
        }
        V::Unresolved(u) => host.unresolved.push((**u).clone()),
        _ => {}
    }
}
