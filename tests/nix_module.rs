//! The NixOS collector module (`nix/`) must be valid Nix.
//!
//! - `nix-instantiate --parse` accepts `nix/module.nix`, `nix/collector.nix`
//!   and `nix/lib.nix`.
//! - The layout holds: `import ./nix/module.nix` is a NixOS module (a function
//!   of `config`, `options` and `lib`), and `import ./nix/collector.nix` is
//!   `mkCollectorModule`, a function whose arguments all have defaults
//!   (`servicePath` among them), so that `mkCollectorModule { }` is the module.
//!
//! The module's evaluation needs nixpkgs' `lib`, which CI does not have: it is
//! checked by hand with `lib.evalModules` (see README, "The NixOS collector
//! module").
//!
//! Nix runs as in `tests/differential.rs`: `--store dummy://`, private
//! state/configuration/cache directories, empty `NIX_PATH`, no `NIX_REMOTE`;
//! it needs only the `nix-instantiate` binary (Debian's `nix-bin`).
//!
//! Environment: `DBPROV_SKIP_NIX=1` skips these tests.

mod common;

use std::process::Output;

use common::{repo, skip, text, NIX};

use serde_json::{json, Value as Json};

const FILES: [&str; 3] = ["nix/module.nix", "nix/collector.nix", "nix/lib.nix"];

fn nix(args: &[&str]) -> Output {
    common::nix(args, "The NixOS module test")
}

/// Evaluates `expr` strictly (it may `import` the repository's files by
/// relative path) and returns its JSON value.
fn eval_json(expr: &str) -> Json {
    let out = nix(&["--eval", "--strict", "--json", "-E", expr]);
    assert!(
        out.status.success(),
        "`{NIX} --eval {expr}` failed ({}):\n{}",
        out.status,
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{NIX} did not print JSON ({e}):\n{}", text(&out.stdout)))
}

#[test]
fn module_files_parse() {
    if skip("module_files_parse") {
        return;
    }
    for file in FILES {
        assert!(repo().join(file).is_file(), "{file} is missing");
        let out = nix(&["--parse", file]);
        assert!(
            out.status.success(),
            "`{NIX} --parse {file}` failed ({}):\n{}",
            out.status,
            text(&out.stderr)
        );
    }
}

#[test]
fn module_is_a_nixos_module_and_collector_makes_one() {
    if skip("module_is_a_nixos_module_and_collector_makes_one") {
        return;
    }
    // A NixOS module function: its arguments come from the module system
    // (true: the argument has a default, false: it has none).
    let module = eval_json("builtins.functionArgs (import ./nix/module.nix)");
    for arg in ["config", "options", "lib"] {
        assert_eq!(
            module.get(arg),
            Some(&json!(false)),
            "nix/module.nix must be a module taking `{arg}`: {module}"
        );
    }

    // mkCollectorModule: every argument optional, servicePath among them.
    let collector = eval_json("builtins.functionArgs (import ./nix/collector.nix)");
    let args = collector.as_object().expect("an attribute set");
    assert!(
        args.contains_key("servicePath"),
        "collector.nix takes servicePath: {collector}"
    );
    assert!(
        args.values().all(|has_default| has_default == &json!(true)),
        "every argument of collector.nix has a default: {collector}"
    );
    // ... and applying it gives the same kind of module as module.nix.
    let made = eval_json(
        "builtins.functionArgs (import ./nix/collector.nix { servicePath = [ \"qgroget\" \"serviceModules\" ]; })",
    );
    assert_eq!(made, module, "mkCollectorModule {{ … }} is a module");

    // lib.nix is a function of nixpkgs' lib.
    let lib = eval_json("builtins.functionArgs (import ./nix/lib.nix)");
    assert_eq!(lib, json!({ "lib": false }), "nix/lib.nix takes {{ lib }}");
}
