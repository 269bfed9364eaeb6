//! Test of the repository's `flake.nix` without nixpkgs, a daemon or a store.
//!
//! - `nix-instantiate --parse flake.nix` must succeed.
//! - The flake's `outputs` are called with a stub `nixpkgs` input (the few
//!   `lib` functions the flake uses, with nixpkgs' semantics, and a package set
//!   whose `buildRustPackage`, `runCommand` and `mkShell` record their
//!   arguments) and evaluated with `nix-instantiate --eval --strict --json`;
//!   the test checks the recorded package, apps, checks, dev shell and overlay.
//! - The build script `lib.mkCheck` produces is run the way stdenv runs a
//!   `runCommand` (`set -eu -o pipefail; eval "$buildCommand"`), with a fake
//!   `dbprov` that records its arguments and with the real one on the
//!   repository's fixtures: a failing check must fail the build and leave
//!   dbprov's diagnostics in the log, a passing one must create `$out`.
//!
//! Nix runs as in `tests/differential.rs`: `--store dummy://`, private
//! state/configuration/cache directories, empty `NIX_PATH`, no `NIX_REMOTE`;
//! it needs only the `nix-instantiate` binary (Debian's `nix-bin`). The stub
//! never copies anything to the store: sources are passed through as paths.
//!
//! Environment: `DBPROV_SKIP_NIX=1` skips these tests.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{repo, skip, text, TempDir};
use std::sync::OnceLock;

use serde_json::{json, Value as Json};

/// The stub nixpkgs and the expression that calls the flake with it. `root` is
/// the repository root (passed with `--argstr`).
const EXPR: &str = r##"
{ root }:
let
  flake = import (/. + root + "/flake.nix");
  systems = [ "x86_64-linux" "aarch64-linux" ];

  # The parts of nixpkgs' lib the flake uses, with nixpkgs' semantics, except
  # that sources are not copied to the store (the store is dummy://).
  lib = rec {
    genAttrs = names: f:
      builtins.listToAttrs (map (name: { inherit name; value = f name; }) names);
    escapeShellArg = arg:
      let string = toString arg; in
      if builtins.match "[[:alnum:],._+:@%/-]+" string == null
      then "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] string + "'"
      else string;
    escapeShellArgs = args: builtins.concatStringsSep " " (map escapeShellArg args);
    cleanSourceFilter = path: type:
      let base = baseNameOf (toString path); in
      !(base == ".git" || (type == "symlink" && builtins.substring 0 6 base == "result"));
    cleanSourceWith = { src, filter ? _: _: true, name ? null }:
      let
        isFiltered = src ? _isLibCleanSourceWith;
        origSrc = if isFiltered then src.origSrc else src;
        origFilter = if isFiltered then src.filter else _: _: true;
      in {
        _isLibCleanSourceWith = true;
        inherit origSrc;
        filter = path: type: filter path type && origFilter path type;
        name = if name != null then name else if isFiltered then src.name else "source";
        # nixpkgs: builtins.path { path = origSrc; ... }, a store path.
        outPath = toString origSrc;
      };
    cleanSource = src: cleanSourceWith { filter = cleanSourceFilter; inherit src; };
    licenses.mit = { spdxId = "MIT"; };
  };

  tool = pname: { inherit pname; outPath = "/stub-store/${pname}"; };
  pkgsFor = system: {
    inherit system lib;
    rustPlatform = {
      buildRustPackage = attrs: attrs // {
        stub = "buildRustPackage";
        inherit system;
        outPath = "/stub-store/${attrs.pname}-${attrs.version}-${system}";
      };
      rustLibSrc = "/stub-store/rust-lib-src";
    };
    runCommand = name: env: script: env // {
      stub = "runCommand";
      inherit name script system;
      outPath = "/stub-store/${name}-${system}";
    };
    mkShell = attrs: attrs // { stub = "mkShell"; inherit system; };
    cargo = tool "cargo";
    rustc = tool "rustc";
    clippy = tool "clippy";
    rustfmt = tool "rustfmt";
    rust-analyzer = tool "rust-analyzer";
    nix = tool "nix";
  };
  nixpkgs = {
    inherit lib;
    legacyPackages = lib.genAttrs systems pkgsFor;
    outPath = "/stub-nixpkgs";
  };
  outputs = flake.outputs { self = outputs; inherit nixpkgs; };

  describePkg = p: {
    inherit (p) stub pname version doCheck system;
    lockFile = toString p.cargoLock.lockFile;
    path = toString p; # not `outPath`: --json would print only that
    meta = {
      inherit (p.meta) mainProgram description;
      license = p.meta.license.spdxId;
    };
  };
  describeCheck = c: {
    inherit (c) stub name script system;
    nativeBuildInputs = map describePkg c.nativeBuildInputs;
  };
  mkCheck = system: src: args:
    describeCheck (outputs.lib.mkCheck { pkgs = pkgsFor system; inherit src args; });
  source = outputs.packages.x86_64-linux.default.src;
  keeps = rel: type: source.filter (root + "/" + rel) type;
in {
  inputs = builtins.attrNames flake.inputs;
  nixpkgsUrl = flake.inputs.nixpkgs.url;
  outputs = builtins.attrNames outputs;
  lib = builtins.attrNames outputs.lib;
  packages = builtins.mapAttrs (_: builtins.mapAttrs (_: describePkg)) outputs.packages;
  source = {
    origSrc = toString source.origSrc;
    inherit (source) name;
    keeps = {
      target = keeps "target" "directory";
      git = keeps ".git" "directory";
      ci = keeps ".ci" "directory";
      flakeNix = keeps "flake.nix" "regular";
      result = keeps "result" "symlink";
      src = keeps "src" "directory";
      lib = keeps "src/lib.rs" "regular";
      rules = keeps "rules" "directory";
      cargoToml = keeps "Cargo.toml" "regular";
      cargoLock = keeps "Cargo.lock" "regular";
      srcTarget = keeps "src/target" "directory";
    };
  };
  apps = builtins.mapAttrs (_: apps: apps.default) outputs.apps;
  checks = builtins.mapAttrs (_: checks: {
    names = builtins.attrNames checks;
    dbprov = describePkg checks.dbprov;
    seed = describeCheck checks.seed;
  }) outputs.checks;
  devShells = builtins.mapAttrs (_: shells: {
    inherit (shells.default) stub system RUST_SRC_PATH;
    packages = map (p: p.pname) shells.default.packages;
  }) outputs.devShells;
  overlay = describePkg
    (outputs.overlays.default (pkgsFor "aarch64-linux") (pkgsFor "aarch64-linux")).dbprov;
  mkCheck = mkCheck "x86_64-linux" "/some/src" [ "--deny-warnings" ];
  mkCheckQuoted = mkCheck "aarch64-linux" "/some dir/it's" [ "--select" "DB001 DB002" "--config=$HOME/x" ];
  mkCheckDefaultArgs =
    describeCheck (outputs.lib.mkCheck { pkgs = pkgsFor "x86_64-linux"; src = "/some/src"; });
  fixtures = lib.genAttrs [ "seed" "db001-missing-field" ]
    (name: mkCheck "x86_64-linux" (root + "/fixtures/" + name) [ ]);
}
"##;

fn nix(args: &[&str]) -> Output {
    common::nix(args, "The flake test")
}

/// The flake's outputs, evaluated once with the stub nixpkgs.
fn evaluated() -> &'static Json {
    static VALUE: OnceLock<Json> = OnceLock::new();
    VALUE.get_or_init(|| {
        let root = repo().to_str().expect("the repository path is UTF-8");
        let out = nix(&[
            "--eval", "--strict", "--json", "--argstr", "root", root, "-E", EXPR,
        ]);
        assert!(
            out.status.success(),
            "evaluating flake.nix with the stub nixpkgs failed ({}):\n{}",
            out.status,
            text(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "nix-instantiate did not print JSON ({e}):\n{}",
                text(&out.stdout)
            )
        })
    })
}

fn get<'a>(value: &'a Json, path: &str) -> &'a Json {
    path.split('.').fold(value, |v, key| {
        v.get(key)
            .unwrap_or_else(|| panic!("`{path}`: no `{key}` in {v}"))
    })
}

fn str_at<'a>(value: &'a Json, path: &str) -> &'a str {
    get(value, path)
        .as_str()
        .unwrap_or_else(|| panic!("`{path}` is not a string: {}", get(value, path)))
}

/// Runs a `runCommand` build script as stdenv does (`set -eu -o pipefail`, then
/// `eval "$buildCommand"`), in a clean environment whose `PATH` starts with
/// `bin` (standing for `nativeBuildInputs`). Returns the output and whether
/// `$out` was created.
fn build(script: &str, bin: &Path) -> (Output, bool) {
    let tmp = TempDir::new("build");
    let out_path = tmp.0.join("out");
    let output = Command::new("bash")
        .args([
            "--noprofile",
            "--norc",
            "-c",
            "set -eu -o pipefail; eval \"$buildCommand\"",
        ])
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("HOME", "/homeless-shelter")
        .env("TMPDIR", &tmp.0)
        .env("out", &out_path)
        .env("buildCommand", script)
        .current_dir(&tmp.0)
        .stdin(Stdio::null())
        .output()
        .expect("bash runs");
    let created = out_path.exists();
    (output, created)
}

/// A directory holding an executable `dbprov` with the given shell body.
fn fake_dbprov(body: &str) -> TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("bin");
    let exe = dir.0.join("dbprov");
    std::fs::write(&exe, format!("#!/bin/sh\n{body}\n")).expect("write the fake dbprov");
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755))
        .expect("make the fake dbprov executable");
    dir
}

/// A directory whose `dbprov` is the binary under test.
fn real_dbprov() -> TempDir {
    let dir = TempDir::new("real-bin");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_dbprov"), dir.0.join("dbprov"))
        .expect("link the dbprov binary");
    dir
}

/// Runs `script` with a fake `dbprov` that records its arguments, prints a
/// diagnostic to stderr and exits with `code`. Returns the recorded arguments,
/// the build's output and whether `$out` was created.
fn build_with_fake(script: &str, code: i32) -> (Vec<String>, Output, bool) {
    let record = TempDir::new("args");
    let args_file = record.0.join("args");
    let bin = fake_dbprov(&format!(
        "printf '%s\\n' \"$@\" > '{}'\necho 'FAKE DIAGNOSTIC DB001 missing-field' >&2\nexit {code}",
        args_file.display()
    ));
    let (output, created) = build(script, &bin.0);
    let args = std::fs::read_to_string(&args_file)
        .unwrap_or_else(|e| {
            panic!(
                "the build script never ran dbprov ({e}); stderr:\n{}",
                text(&output.stderr)
            )
        })
        .lines()
        .map(str::to_string)
        .collect();
    (args, output, created)
}

#[test]
fn flake_nix_parses() {
    if skip("flake_nix_parses") {
        return;
    }
    let out = nix(&["--parse", "flake.nix"]);
    assert!(
        out.status.success(),
        "`nix-instantiate --parse flake.nix` failed ({}):\n{}",
        out.status,
        text(&out.stderr)
    );
}

#[test]
fn flake_outputs_with_a_stub_nixpkgs() {
    if skip("flake_outputs_with_a_stub_nixpkgs") {
        return;
    }
    let v = evaluated();
    let root = repo().to_str().expect("UTF-8");
    let lock = repo().join("Cargo.lock");
    let version = env!("CARGO_PKG_VERSION");

    assert_eq!(
        get(v, "inputs"),
        &json!(["nixpkgs"]),
        "inputs: nixpkgs only"
    );
    assert!(str_at(v, "nixpkgsUrl").contains("NixOS/nixpkgs"));
    for output in [
        "apps",
        "checks",
        "devShells",
        "lib",
        "nixosModules",
        "overlays",
        "packages",
    ] {
        assert!(
            get(v, "outputs")
                .as_array()
                .expect("a list")
                .contains(&json!(output)),
            "flake outputs lack `{output}`: {}",
            get(v, "outputs")
        );
    }
    assert_eq!(
        get(v, "lib"),
        &json!(["databaseType", "mkCheck", "mkCollectorModule"])
    );

    // Packages: dbprov and default, for both systems, built with
    // buildRustPackage from Cargo.lock, with the version of Cargo.toml.
    let systems = ["aarch64-linux", "x86_64-linux"];
    let packages = get(v, "packages").as_object().expect("an attribute set");
    assert_eq!(packages.keys().collect::<Vec<_>>(), systems);
    for system in systems {
        let set = &packages[system];
        assert_eq!(set["default"], set["dbprov"], "{system}: default is dbprov");
        let pkg = &set["default"];
        assert_eq!(pkg["stub"], "buildRustPackage", "{pkg}");
        assert_eq!(pkg["system"], system, "{pkg}");
        assert_eq!(pkg["pname"], "dbprov");
        assert_eq!(pkg["version"], version, "version from Cargo.toml");
        assert_eq!(
            pkg["lockFile"],
            lock.to_str().expect("UTF-8"),
            "cargoLock.lockFile is Cargo.lock"
        );
        assert_eq!(pkg["doCheck"], false);
        assert_eq!(pkg["meta"]["mainProgram"], "dbprov");
        assert_eq!(pkg["meta"]["license"], "MIT");
        assert_eq!(pkg["meta"]["description"], env!("CARGO_PKG_DESCRIPTION"));
    }

    // The source: the repository, without target/ and Nix/CI-only files.
    let source = get(v, "source");
    assert_eq!(source["origSrc"], root);
    let keeps = &source["keeps"];
    for (entry, kept) in [
        ("target", false),
        ("git", false),
        ("ci", false),
        ("flakeNix", false),
        ("result", false),
        ("src", true),
        ("lib", true),
        ("rules", true),
        ("cargoToml", true),
        ("cargoLock", true),
        ("srcTarget", true),
    ] {
        assert_eq!(keeps[entry], kept, "source filter on `{entry}`: {keeps}");
    }

    // Apps run the package's binary.
    for system in systems {
        let app = &get(v, "apps")[system];
        assert_eq!(app["type"], "app");
        assert_eq!(
            app["program"],
            format!(
                "{}/bin/dbprov",
                packages[system]["default"]["path"]
                    .as_str()
                    .expect("a path")
            ),
        );
    }

    // Checks: the package, and mkCheck on fixtures/seed.
    for system in systems {
        let checks = &get(v, "checks")[system];
        assert_eq!(checks["names"], json!(["dbprov", "seed"]));
        assert_eq!(checks["dbprov"], packages[system]["dbprov"]);
        let seed = &checks["seed"];
        assert_eq!(seed["stub"], "runCommand");
        assert_eq!(seed["name"], "dbprov-check");
        assert_eq!(seed["system"], system);
        let script = seed["script"].as_str().expect("a string");
        assert!(
            script.contains(&format!("--root {root}/fixtures/seed")),
            "the seed check does not check fixtures/seed:\n{script}"
        );
    }

    // Dev shell.
    for system in systems {
        let shell = &get(v, "devShells")[system];
        assert_eq!(shell["stub"], "mkShell");
        for tool in [
            "cargo",
            "rustc",
            "clippy",
            "rustfmt",
            "rust-analyzer",
            "nix",
        ] {
            assert!(
                shell["packages"]
                    .as_array()
                    .expect("a list")
                    .contains(&json!(tool)),
                "{system}: the dev shell lacks {tool}: {shell}"
            );
        }
    }

    // The overlay builds dbprov with the package set it is applied to.
    let overlay = get(v, "overlay");
    assert_eq!(overlay["pname"], "dbprov");
    assert_eq!(overlay["system"], "aarch64-linux");
}

#[test]
fn mk_check_runs_dbprov_check_and_fails_the_build_when_it_fails() {
    if skip("mk_check_runs_dbprov_check_and_fails_the_build_when_it_fails") {
        return;
    }
    let v = evaluated();
    let check = get(v, "mkCheck");
    assert_eq!(check["stub"], "runCommand");
    assert_eq!(check["name"], "dbprov-check");
    // dbprov comes from nativeBuildInputs, built with the caller's pkgs.
    let inputs = check["nativeBuildInputs"].as_array().expect("a list");
    assert_eq!(inputs.len(), 1, "{inputs:?}");
    assert_eq!(inputs[0]["pname"], "dbprov");
    assert_eq!(inputs[0]["system"], "x86_64-linux");
    assert_eq!(
        inputs[0]["lockFile"],
        repo().join("Cargo.lock").to_str().expect("UTF-8")
    );

    let script = str_at(check, "script");
    assert!(
        script.contains("dbprov check --no-color --no-cache --root /some/src --deny-warnings"),
        "{script}"
    );
    for swallow in ["|| true", "|| :", "|| exit 0", "set +e"] {
        assert!(
            !script.contains(swallow),
            "the script ignores failures (`{swallow}`):\n{script}"
        );
    }

    // Run it: the exact command line, and the build's verdict per exit code.
    let expected = [
        "check",
        "--no-color",
        "--no-cache",
        "--root",
        "/some/src",
        "--deny-warnings",
    ];
    let (args, output, created) = build_with_fake(script, 0);
    assert_eq!(args, expected);
    assert!(
        output.status.success() && created,
        "exit 0 must pass and create $out ({}):\n{}",
        output.status,
        text(&output.stderr)
    );
    for code in [1, 2] {
        let (args, output, created) = build_with_fake(script, code);
        assert_eq!(args, expected);
        assert!(
            !output.status.success(),
            "dbprov exiting {code} must fail the build"
        );
        assert!(!created, "dbprov exiting {code} must not create $out");
        assert!(
            text(&output.stderr).contains("FAKE DIAGNOSTIC DB001 missing-field"),
            "dbprov's diagnostics must reach the build log:\n{}",
            text(&output.stderr)
        );
    }

    // Without args: nothing but the root.
    let (args, _, created) = build_with_fake(str_at(v, "mkCheckDefaultArgs.script"), 0);
    assert_eq!(
        args,
        ["check", "--no-color", "--no-cache", "--root", "/some/src"]
    );
    assert!(created);

    // A root and arguments that need quoting reach dbprov unchanged.
    let quoted = get(v, "mkCheckQuoted");
    assert_eq!(quoted["nativeBuildInputs"][0]["system"], "aarch64-linux");
    let (args, output, created) = build_with_fake(str_at(quoted, "script"), 0);
    assert_eq!(
        args,
        [
            "check",
            "--no-color",
            "--no-cache",
            "--root",
            "/some dir/it's",
            "--select",
            "DB001 DB002",
            "--config=$HOME/x",
        ],
        "{}",
        text(&output.stderr)
    );
    assert!(created);
}

#[test]
fn mk_check_with_the_real_dbprov_on_the_fixtures() {
    if skip("mk_check_with_the_real_dbprov_on_the_fixtures") {
        return;
    }
    let v = evaluated();
    let bin = real_dbprov();

    // The flake's own check on fixtures/seed passes.
    for system in ["x86_64-linux", "aarch64-linux"] {
        let script = str_at(get(v, "checks"), &format!("{system}.seed.script"));
        let (output, created) = build(script, &bin.0);
        assert!(
            output.status.success() && created,
            "{system}: checks.seed must pass ({}):\n{}",
            output.status,
            text(&output.stderr)
        );
    }
    let (output, created) = build(str_at(v, "fixtures.seed.script"), &bin.0);
    assert!(
        output.status.success() && created,
        "{}",
        text(&output.stderr)
    );

    // A fixture with an error fails the build, with the diagnostic in the log.
    let (output, created) = build(str_at(v, "fixtures.db001-missing-field.script"), &bin.0);
    let log = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert!(!created);
    assert!(
        log.contains("DB001"),
        "the log lacks dbprov's diagnostic:\n{log}"
    );
    assert!(
        !log.contains('\u{1b}'),
        "--no-color: no escape codes:\n{log}"
    );
}
