//! Determinism: `plan` (JSON and SQL), `check --format json` and
//! `check --format sarif` print the same bytes, and exit with the same code,
//! whatever the number of worker threads (`--threads 1`, `2`, `8`), from one run
//! to the next, and whatever the current directory the root is given from.
//!
//! Checked on fixtures chosen for what they exercise (module order, hosts,
//! duplicates across files, helpers), and on a generated tree of 300 services
//! in 300 files, with many diagnostics of many kinds spread over them — where
//! an ordering that depends on threads or hashing would show. The tree is
//! generated in Rust, so the test does not depend on Python.
//!
//! The baseline runs with `--no-cache`; the others read and fill a cache of
//! their own (cold, then warm), so the outputs are also the same whether
//! files were parsed or read back from the cache — for every fixture.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The outputs compared, as `dbprov` arguments before `--root`: `plan`,
/// `check --format json`, `check --format sarif`, then `plan --format sql`
/// (once per host given, or once without `--host`).
fn outputs(hosts: &[&str]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = [
        &["plan"][..],
        &["check", "--format", "json"],
        &["check", "--format", "sarif"],
    ]
    .iter()
    .map(|a| a.iter().map(|s| s.to_string()).collect())
    .collect();
    let sql = ["plan", "--format", "sql"].map(String::from).to_vec();
    if hosts.is_empty() {
        out.push(sql.clone());
    }
    for h in hosts {
        let mut a = sql.clone();
        a.extend(["--host".to_string(), h.to_string()]);
        out.push(a);
    }
    out
}

/// How a run is made: its `--threads`, and whether the root is given as `.`
/// from inside it rather than as an absolute path.
#[derive(Clone, Copy, Debug)]
struct Setup {
    threads: Option<usize>,
    from_inside: bool,
    /// With the test's cache directory, else `--no-cache`.
    cached: bool,
}

const fn threads(n: usize) -> Setup {
    Setup {
        threads: Some(n),
        from_inside: false,
        cached: true,
    }
}

/// `--threads 1 --no-cache` first (the baseline), then with the cache: 1
/// (cold), 2 and 8 threads, then three more runs (8 threads, the default, and
/// from inside the root).
const SETUPS: &[Setup] = &[
    Setup {
        threads: Some(1),
        from_inside: false,
        cached: false,
    },
    threads(1),
    threads(2),
    threads(8),
    threads(8),
    Setup {
        threads: None,
        from_inside: false,
        cached: true,
    },
    Setup {
        threads: Some(8),
        from_inside: true,
        cached: true,
    },
];

/// One output of one run: exit code, stdout, stderr.
struct Output {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

fn run(root: &Path, args: &[String], setup: Setup, cache: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dbprov"));
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env("DBPROV_CACHE_DIR", cache)
        .env_remove("DBPROV_TIMINGS");
    if !setup.cached {
        cmd.arg("--no-cache");
    }
    if let Some(n) = setup.threads {
        cmd.args(["--threads", &n.to_string()]);
    }
    if setup.from_inside {
        cmd.current_dir(root).args(["--root", "."]);
    } else {
        cmd.arg("--root").arg(root);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run dbprov {args:?}: {e}"));
    Output {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Where two outputs first differ, with a few lines of context.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let a = String::from_utf8_lossy(a);
    let b = String::from_utf8_lossy(b);
    let (al, bl): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let i = al
        .iter()
        .zip(&bl)
        .position(|(x, y)| x != y)
        .unwrap_or(al.len().min(bl.len()));
    let from = i.saturating_sub(3);
    let show = |ls: &[&str]| {
        ls.iter()
            .skip(from)
            .take(8)
            .copied()
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "first difference at line {} ({} vs {} lines)\n--- baseline:\n{}\n--- this run:\n{}",
        i + 1,
        al.len(),
        bl.len(),
        show(&al),
        show(&bl)
    )
}

/// Runs every output under every setup and compares each with the first
/// setup's run (the baseline), which it returns.
fn compare_runs(what: &str, root: &Path, setups: &[Setup], outputs: &[Vec<String>]) -> Vec<Output> {
    let cache = common::TempDir::new("determinism-cache");
    let (first, rest) = setups.split_first().expect("a setup");
    let baseline: Vec<Output> = outputs
        .iter()
        .map(|args| run(root, args, *first, &cache.0))
        .collect();
    for setup in rest {
        for (args, base) in outputs.iter().zip(&baseline) {
            let name = args.join(" ");
            let out = run(root, args, *setup, &cache.0);
            assert_eq!(
                out.code, base.code,
                "{what}: `{name}` exits {:?} under {first:?} but {:?} under {setup:?}\n{}",
                base.code, out.code, out.stderr
            );
            assert!(
                out.stdout == base.stdout,
                "{what}: `{name}` differs between {first:?} and {setup:?}: {}",
                first_difference(&base.stdout, &out.stdout)
            );
        }
    }
    baseline
}

/// [`compare_runs`], where every baseline run succeeds and prints something.
fn assert_deterministic(
    what: &str,
    root: &Path,
    setups: &[Setup],
    outputs: &[Vec<String>],
) -> Vec<Output> {
    let baseline = compare_runs(what, root, setups, outputs);
    for (args, out) in outputs.iter().zip(&baseline) {
        let name = args.join(" ");
        assert!(
            matches!(out.code, Some(0 | 1)),
            "{what}: `{name}` exited {:?}\n{}",
            out.code,
            out.stderr
        );
        assert!(!out.stdout.is_empty(), "{what}: `{name}` printed nothing");
    }
    baseline
}

fn fixture_with_hosts(case: &str, hosts: &[&str]) {
    let root = manifest_dir().join("fixtures").join(case);
    assert!(root.is_dir(), "no fixture {}", root.display());
    assert_deterministic(case, &root, SETUPS, &outputs(hosts));
}

fn fixture(case: &str) {
    fixture_with_hosts(case, &[]);
}

#[test]
fn seed() {
    fixture("seed");
}

/// Every fixture gives the same outputs parsed, and read back from a cache
/// filled by the run before (one thread, then the default).
#[test]
fn every_fixture_is_the_same_from_the_cache() {
    let setups = [
        SETUPS[0],
        threads(1),
        threads(1),
        Setup {
            threads: None,
            from_inside: false,
            cached: true,
        },
    ];
    let outputs: Vec<Vec<String>> = [&["plan"][..], &["check", "--format", "json"]]
        .iter()
        .map(|a| a.iter().map(|s| s.to_string()).collect())
        .collect();
    let mut cases: Vec<PathBuf> = fs::read_dir(manifest_dir().join("fixtures"))
        .expect("fixtures")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() > 50, "the fixtures are found");
    for root in cases {
        let name = root.file_name().unwrap().to_string_lossy().into_owned();
        compare_runs(&name, &root, &setups, &outputs);
    }
}

#[test]
fn ordering_module_order() {
    fixture("ordering-module-order");
}

#[test]
fn ordering() {
    fixture("ordering");
}

#[test]
fn ensure_two_hosts_shared() {
    fixture_with_hosts("ensure-two-hosts-shared", &["web", "mon"]);
}

#[test]
fn db005_duplicate_database() {
    fixture("db005-duplicate-database");
}

#[test]
fn db010_shared_user() {
    fixture("db010-shared-user");
}

#[test]
fn eval_helpers_and_lib() {
    fixture("eval-helpers-and-lib");
}

#[test]
fn priorities() {
    fixture("priorities");
}

// ---------------------------------------------------------------------------
// A generated tree.

/// splitmix64: a small deterministic generator, so the tree is the same on
/// every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// In `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// The `databases` of service `i` called `name`: mostly right, and every few
/// services one of the mistakes dbprov reports — so that diagnostics of many
/// rules, about many services in many files, have to be put in order.
fn databases(i: usize, name: &str) -> String {
    let pg = |db: &str, user: &str| {
        format!(r#"{{ type = "postgresql"; name = "{db}"; user = "{user}"; }}"#)
    };
    match i % 12 {
        0 => format!(
            r#"[ {} {{ type = "redis"; name = "{name}_cache"; }} ]"#,
            pg(name, name)
        ),
        // The same database name in several services (DB005).
        1 => format!("[ {} ]", pg(&format!("shared_{}", i / 36), name)),
        // One role for several services (DB010).
        2 => format!("[ {} ]", pg(name, &format!("common_{}", i / 48))),
        // A missing field (DB001).
        3 => format!(r#"[ {{ type = "postgresql"; name = "{name}"; }} ]"#),
        // An unknown type (DB002).
        4 => format!(r#"[ {{ type = "postgres"; name = "{name}"; user = "{name}"; }} ]"#),
        // An invalid name (DB003).
        5 => format!(r#"[ {{ type = "postgresql"; name = "{name}-db"; user = "{name}"; }} ]"#),
        // A value that cannot be computed (DB017).
        6 => format!(
            r#"[ {{ type = "postgresql"; name = builtins.readFile ./{name}.name; user = "{name}"; }} ]"#
        ),
        // A helper from a shared file, applied here.
        7 => format!("[ (helpers.mkDb \"{name}\") ]"),
        // Unknown fields and a plaintext password (DB006, DB008).
        8 => format!(
            r#"[ {{ type = "postgresql"; name = "{name}"; user = "{name}"; password = "hunter2"; extra = 1; }} ]"#
        ),
        // mkBefore / mkAfter / plain definitions, concatenated in order.
        9 => format!(
            "lib.mkMerge [ (lib.mkAfter [ {} ]) [ {} ] (lib.mkBefore [ {} ]) ]",
            pg(&format!("{name}_after"), name),
            pg(name, name),
            pg(&format!("{name}_before"), name)
        ),
        // A port out of range (DB020).
        10 => format!(
            r#"[ {{ type = "postgresql"; name = "{name}"; user = "{name}"; port = 70000; }} ]"#
        ),
        _ => format!("[ {} ]", pg(name, name)),
    }
}

fn service_module(rng: &mut Rng, i: usize, name: &str, declares: bool) -> String {
    let mut s = String::new();
    let port = rng.range(2000, 60000);
    writeln!(
        s,
        "{{ config, lib, pkgs, ... }}:\nlet\n  cfg = config.qgroget.server.{name};\n  helpers = import ../helpers.nix;\n  port = {port};\nin\n{{"
    )
    .unwrap();
    writeln!(
        s,
        "  options.qgroget.server.{name} = {{\n    enable = lib.mkEnableOption \"{name}\";\n    databases = lib.mkOption {{\n      type = lib.types.listOf lib.types.attrs;\n      default = [ ];\n    }};\n    port = lib.mkOption {{\n      type = lib.types.port;\n      default = port;\n    }};\n  }};\n"
    )
    .unwrap();
    s.push_str("  config = lib.mkMerge [\n");
    if declares {
        writeln!(
            s,
            "    {{\n      qgroget.server.{name}.databases = {};\n    }}",
            databases(i, name)
        )
        .unwrap();
    }
    // A second definition of enable elsewhere than the settings file, some
    // agreeing and some not (DB013), some by priority.
    match i % 29 {
        0 => writeln!(
            s,
            "    {{ qgroget.server.{name}.enable = lib.mkForce false; }}"
        )
        .unwrap(),
        1 => writeln!(s, "    {{ qgroget.server.{name}.enable = false; }}").unwrap(),
        2 => writeln!(
            s,
            "    {{ qgroget.server.{name}.enable = lib.mkDefault true; }}"
        )
        .unwrap(),
        _ => {}
    }
    writeln!(
        s,
        "    (lib.mkIf cfg.enable {{\n      systemd.services.{name} = {{\n        description = \"{name} service\";\n        wantedBy = [ \"multi-user.target\" ];\n        serviceConfig.ExecStart = \"${{pkgs.hello}}/bin/hello --port ${{toString cfg.port}}\";\n      }};\n      networking.firewall.allowedTCPPorts = [ cfg.port ];"
    )
    .unwrap();
    for k in 0..rng.range(5, 40) {
        writeln!(
            s,
            "      environment.etc.\"{name}/conf.d/{k:03}.conf\".text = \"key{k} = value{}\";",
            rng.range(0, 1_000_000)
        )
        .unwrap();
    }
    s.push_str("    })\n  ];\n}\n");
    s
}

/// Writes a tree of `n` services under `out`; `reverse` writes the files in
/// the opposite order (directory listings then come in another order).
fn generate(out: &Path, n: usize, reverse: bool) {
    let _ = fs::remove_dir_all(out);
    let base = out.join("modules/server");
    fs::create_dir_all(&base).unwrap();
    let mut rng = Rng(42);
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let mut imports = String::new();
    let mut settings = String::new();
    for i in 0..n {
        let name = format!("svc{i:03}");
        let group = format!("g{:02}", i / 25);
        let declares = i % 5 != 4;
        files.push((
            base.join(&group).join(format!("{name}.nix")),
            service_module(&mut rng, i, &name, declares),
        ));
        writeln!(imports, "    ./{group}/{name}.nix").unwrap();
        // Most services are switched on in the settings file; some are not
        // switched at all (DB014 when they declare databases).
        if i % 31 != 7 {
            let value = match rng.range(0, 9) {
                0 => "false",
                1 => "lib.mkDefault true",
                _ => "true",
            };
            writeln!(settings, "    {name}.enable = {value};").unwrap();
        }
    }
    // An unimported module declaring databases (DB018) and a file that does not
    // parse (DB000).
    files.push((
        base.join("stray/orphan.nix"),
        "{ ... }: { qgroget.server.orphan.enable = true; qgroget.server.orphan.databases = [ { type = \"postgresql\"; name = \"orphan\"; user = \"orphan\"; } ]; }\n".into(),
    ));
    files.push((base.join("stray/broken.nix"), "{ a = ; }\n".into()));
    files.push((
        base.join("helpers.nix"),
        "{\n  mkDb = name: { type = \"postgresql\"; inherit name; user = name; };\n}\n".into(),
    ));
    files.push((
        base.join("default.nix"),
        format!("{{ ... }}:\n{{\n  imports = [\n    ./settings.nix\n{imports}  ];\n}}\n"),
    ));
    files.push((
        base.join("settings.nix"),
        format!("{{ lib, ... }}:\n{{\n  qgroget.server = {{\n{settings}  }};\n}}\n"),
    ));
    files.push((
        out.join("flake.nix"),
        "{ description = \"dbprov determinism tree\"; outputs = { self, nixpkgs }: { }; }\n".into(),
    ));
    if reverse {
        files.reverse();
    }
    for (path, text) in files {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
    }
}

struct TempTree(PathBuf);

impl Drop for TempTree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The distinct rule codes in a `check --format json` output.
fn codes(check_json: &[u8]) -> Vec<String> {
    let diags: serde_json::Value = serde_json::from_slice(check_json).expect("check json");
    let mut codes: Vec<String> = diags
        .as_array()
        .expect("an array")
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

#[test]
fn generated_tree_of_300_services() {
    let tmp = std::env::temp_dir();
    let pid = std::process::id();
    let forward = TempTree(tmp.join(format!("dbprov-determinism-fwd-{pid}")));
    let reverse = TempTree(tmp.join(format!("dbprov-determinism-rev-{pid}")));
    generate(&forward.0, 300, false);
    generate(&reverse.0, 300, true);

    // 1 thread without the cache, then 1, 2, 8 threads with it (cold,
    // then warm), 8 again and the default.
    let setups = [
        SETUPS[0],
        threads(1),
        threads(2),
        threads(8),
        threads(8),
        Setup {
            threads: None,
            from_inside: true,
            cached: true,
        },
    ];
    let outputs = outputs(&[]);
    let baseline = assert_deterministic("generated tree", &forward.0, &setups, &outputs);

    // The tree exercises ordering: many diagnostics, of many rules.
    let check = &baseline[1].stdout;
    let found = codes(check);
    eprintln!(
        "generated tree: {} bytes of check output, rules {found:?}",
        check.len()
    );
    for code in [
        "DB000", "DB001", "DB002", "DB003", "DB005", "DB010", "DB013", "DB017", "DB018",
    ] {
        assert!(
            found.iter().any(|c| c == code),
            "the generated tree was meant to produce {code}; it produced {found:?}"
        );
    }

    // The same files written in the opposite order give the same bytes.
    let cache = common::TempDir::new("determinism-reverse-cache");
    for (args, base) in outputs.iter().zip(&baseline) {
        let out = run(&reverse.0, args, threads(8), &cache.0);
        assert!(
            out.stdout == base.stdout,
            "`{}` differs when the files are written in reverse order: {}",
            args.join(" "),
            first_difference(&base.stdout, &out.stdout)
        );
    }
}
