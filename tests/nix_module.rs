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

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Value as Json};

const NIX: &str = "nix-instantiate";
const FILES: [&str; 3] = ["nix/module.nix", "nix/collector.nix", "nix/lib.nix"];

fn skip(test: &str) -> bool {
    if std::env::var_os("DBPROV_SKIP_NIX").is_some_and(|v| v == "1") {
        eprintln!("{test}: skipped (DBPROV_SKIP_NIX=1)");
        return true;
    }
    false
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dbprov-nix-module-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["state", "conf", "cache"] {
            std::fs::create_dir_all(dir.join(sub)).expect("create a temporary directory for Nix");
        }
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `nix-instantiate --store dummy:// ARGS` in the repository, in a
/// private environment: no daemon, no store, no user configuration, no
/// `NIX_PATH`.
fn nix(args: &[&str]) -> Output {
    let tmp = TempDir::new();
    let out = Command::new(NIX)
        .args(["--store", "dummy://"])
        .args(args)
        .current_dir(repo())
        .env("NIX_STATE_DIR", tmp.0.join("state"))
        .env("NIX_CONF_DIR", tmp.0.join("conf"))
        .env("NIX_USER_CONF_FILES", tmp.0.join("conf/none.conf"))
        .env("XDG_CACHE_HOME", tmp.0.join("cache"))
        .env("NIX_PATH", "")
        .env_remove("NIX_REMOTE")
        .stdin(Stdio::null())
        .output();
    match out {
        Ok(out) => out,
        Err(e) => panic!(
            "`{NIX}` cannot be run ({e}). The NixOS module test needs real Nix: install Debian's \
             nix-bin (`apt-get install -y nix-bin`), or set DBPROV_SKIP_NIX=1 to skip this test."
        ),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
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
