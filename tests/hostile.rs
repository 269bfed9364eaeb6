//! Hostile inputs (SPEC §7 "Failure behaviour", §2 "No input may crash it,
//! hang it, or overflow the stack").
//!
//! Every test builds a small flake in a temporary directory — a copy of
//! `fixtures/seed` (immich, authelia, jellyfin) plus the hostile file — runs the
//! built binary on it under a wall-clock guard, and asserts:
//!
//! - it ends: a run still going after the guard is killed and the test fails
//!   as a hang (the guard is not a speed limit, which is the benchmark's job:
//!   it only tells "slow" from "never");
//! - no panic, abort or signal: the exit code is 0 or 1, and 2 only where the
//!   run cannot proceed (missing root, invalid configuration);
//! - a clear diagnostic for the bad file (DB000 for what cannot be read or
//!   parsed, DB017/DB012 with reason `limit` past an evaluation bound, DB027
//!   for a cycle);
//! - every other file is still checked and planned: the seed's databases
//!   (`immich`, `immich_cache`, `authelia`) are in the plan.
//!
//! The hostile file is imported from `modules/server/default.nix`, so that it
//! is part of the module system and not only of the parse.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::RwLock;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Past this a run is a hang. Inputs here take milliseconds to a few seconds
/// (a debug build, tests running side by side).
const GUARD: Duration = Duration::from_secs(60);

/// The guard for the few inputs that are big on purpose (50 MB, 2,000,000
/// evaluation steps): in a debug build with tests running side by side they
/// take tens of seconds.
const HEAVY_GUARD: Duration = Duration::from_secs(180);

/// Tests that start thousands of threads run alone: they would starve the
/// others of CPU and push them past their guards.
static EXCLUSIVE: RwLock<()> = RwLock::new(());

fn shared() -> std::sync::RwLockReadGuard<'static, ()> {
    EXCLUSIVE.read().unwrap_or_else(|e| e.into_inner())
}

/// What a finished run printed, and its exit code.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// The last `n` characters of `s`, for failure messages.
fn tail(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// Runs the built `dbprov` with `args`; fails the test as a hang if it is still
/// running after `guard` (it is killed), and as a crash if a signal ended it.
fn dbprov(args: &[&OsStr], guard: Duration) -> Run {
    let shown = args
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dbprov"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("DBPROV_TIMINGS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run dbprov {shown}: {e}"));
    let drain = |mut r: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("stdout")));
    let err = drain(Box::new(child.stderr.take().expect("stderr")));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for dbprov") {
            break status;
        }
        if start.elapsed() > guard {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = err.join().unwrap_or_default();
            panic!(
                "HANG: `dbprov {shown}` was still running after {}s and was killed\nstderr (end):\n{}",
                guard.as_secs(),
                tail(&stderr, 2000)
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let Some(code) = status.code() else {
        panic!(
            "CRASH: `dbprov {shown}` was killed by signal {:?} after {:.1}s\nstderr (end):\n{}",
            status.signal(),
            start.elapsed().as_secs_f64(),
            tail(&stderr, 2000)
        );
    };
    assert!(
        code != 101,
        "PANIC: `dbprov {shown}` panicked (exit 101)\nstderr (end):\n{}",
        tail(&stderr, 4000)
    );
    Run {
        code,
        stdout,
        stderr,
    }
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("read fixture") {
        let e = e.expect("fixture entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("file type").is_dir() {
            if e.file_name() != "expected" {
                copy_dir(&e.path(), &target);
            }
        } else {
            fs::copy(e.path(), target).expect("copy");
        }
    }
}

/// A flake root in a temporary directory: `fixtures/seed` plus hostile files.
/// Removed when dropped (symlinks are removed, not followed).
struct Tree {
    root: PathBuf,
}

impl Tree {
    fn seed(name: &str) -> Tree {
        let root =
            std::env::temp_dir().join(format!("dbprov-hostile-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        copy_dir(&manifest_dir().join("fixtures/seed"), &root);
        Tree { root }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn root_arg(&self) -> &OsStr {
        self.root.as_os_str()
    }

    fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(&p, content).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
    }

    /// Adds `./<rel>` (relative to `modules/server`) to the entry module's imports.
    fn import(&self, rel: &str) {
        let entry = self.path("modules/server/default.nix");
        let text = fs::read_to_string(&entry).expect("read default.nix");
        let text = text.replacen(
            "./settings.nix\n",
            &format!("./settings.nix\n    ./{rel}\n"),
            1,
        );
        fs::write(&entry, text).expect("write default.nix");
    }

    /// Writes `modules/server/<rel>` and imports it.
    fn module(&self, rel: &str, content: impl AsRef<[u8]>) {
        self.write(&format!("modules/server/{rel}"), content);
        self.import(rel);
    }

    fn report_path(&self) -> PathBuf {
        let mut p = self.root.clone().into_os_string();
        p.push(".report.json");
        PathBuf::from(p)
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
        let _ = fs::remove_file(self.report_path());
    }
}

/// One `check --format json --report FILE` run: exit code, diagnostics and
/// the report (the same JSON `plan` prints).
struct Analysis {
    code: i32,
    diagnostics: Vec<Value>,
    report: Value,
}

fn analyse(tree: &Tree, guard: Duration) -> Analysis {
    let report = tree.report_path();
    let _ = fs::remove_file(&report);
    let args: Vec<&OsStr> = vec![
        OsStr::new("check"),
        OsStr::new("--no-color"),
        OsStr::new("--format"),
        OsStr::new("json"),
        OsStr::new("--report"),
        report.as_os_str(),
        OsStr::new("--root"),
        tree.root_arg(),
    ];
    let run = dbprov(&args, guard);
    assert!(
        run.code == 0 || run.code == 1,
        "check exited {} (expected 0 or 1)\nstdout:\n{}\nstderr:\n{}",
        run.code,
        tail(&run.stdout, 3000),
        tail(&run.stderr, 3000)
    );
    let diagnostics: Vec<Value> = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "check --format json is not JSON: {e}\n{}",
            tail(&run.stdout, 2000)
        )
    });
    let text = fs::read_to_string(&report).expect("check --report wrote the report");
    let report: Value = serde_json::from_str(&text).expect("the report is JSON");
    Analysis {
        code: run.code,
        diagnostics,
        report,
    }
}

/// `dbprov plan --root`: must exit 0 with a JSON report.
fn plan(tree: &Tree, guard: Duration) -> Value {
    let run = dbprov(
        &[OsStr::new("plan"), OsStr::new("--root"), tree.root_arg()],
        guard,
    );
    assert_eq!(
        run.code,
        0,
        "plan exited {}\nstderr:\n{}",
        run.code,
        tail(&run.stderr, 3000)
    );
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("plan is not JSON: {e}"))
}

fn summary(diags: &[Value]) -> String {
    diags
        .iter()
        .map(|d| {
            format!(
                "{} {}:{}: {}",
                d["code"].as_str().unwrap_or("?"),
                d["file"].as_str().unwrap_or("?"),
                d["line"],
                d["message"].as_str().unwrap_or("?")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The diagnostics with this code for this file.
fn diags_for<'a>(diags: &'a [Value], code: &str, file: &str) -> Vec<&'a Value> {
    diags
        .iter()
        .filter(|d| d["code"] == code && d["file"] == file)
        .collect()
}

/// The message of the one `code` diagnostic for `file` that contains one of
/// `phrases`; fails with every diagnostic listed otherwise.
fn expect_diag(diags: &[Value], code: &str, file: &str, phrases: &[&str]) -> String {
    let found = diags_for(diags, code, file);
    let hit = found.iter().find_map(|d| {
        let m = d["message"].as_str().unwrap_or_default();
        phrases.iter().any(|p| m.contains(p)).then(|| m.to_string())
    });
    hit.unwrap_or_else(|| {
        panic!(
            "expected {code} for {file} mentioning one of {phrases:?}; diagnostics:\n{}",
            summary(diags)
        )
    })
}

fn database_names(report: &Value) -> Vec<String> {
    report["databases"]
        .as_array()
        .expect("report.databases")
        .iter()
        .map(|d| d["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The seed's databases are still planned, and PostgreSQL still provisions
/// them: the hostile file cost nothing else.
fn assert_seed_planned(report: &Value) {
    let names = database_names(report);
    for want in ["immich", "immich_cache", "authelia"] {
        assert!(
            names.iter().any(|n| n == want),
            "database {want:?} is no longer planned; planned: {names:?}\nunresolved: {}",
            report["unresolved"]
        );
    }
    let ensure = &report["postgresql"]["ensureDatabases"];
    for want in ["immich", "authelia"] {
        assert!(
            ensure
                .as_array()
                .is_some_and(|a| a.iter().any(|v| v == want)),
            "PostgreSQL no longer provisions {want:?}: {ensure}"
        );
    }
    assert!(
        !names.iter().any(|n| n == "jellyfin"),
        "jellyfin is disabled: {names:?}"
    );
}

/// The unresolved entries of the report for `service`, as (what, reason).
fn unresolved_for(report: &Value, service: &str) -> Vec<(String, String)> {
    report["unresolved"]
        .as_array()
        .expect("report.unresolved")
        .iter()
        .filter(|u| u["service"] == service)
        .map(|u| {
            (
                u["what"].as_str().unwrap_or_default().to_string(),
                u["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// A file that rnix must not be given: it ends in DB000 naming why, at exit
/// code 1, and the rest of the tree is still planned — by `check --report`
/// and by `plan`.
fn refused_by_the_parser(name: &str, content: &str, phrases: &[&str]) {
    let _g = shared();
    let tree = Tree::seed(name);
    tree.module("hostile.nix", content);
    let a = analyse(&tree, GUARD);
    let msg = expect_diag(
        &a.diagnostics,
        "DB000",
        "modules/server/hostile.nix",
        phrases,
    );
    assert!(
        msg.starts_with("modules/server/hostile.nix does not parse: "),
        "{msg}"
    );
    assert_eq!(a.code, 1, "DB000 is an error\n{}", summary(&a.diagnostics));
    assert_seed_planned(&a.report);
    assert_seed_planned(&plan(&tree, GUARD));
}

const N: usize = 100_000;
const NESTED: &[&str] = &["nested too deeply"];
const CHAIN: &[&str] = &["too long a chain"];
const DEEP_OR_CHAIN: &[&str] = &["nested too deeply", "too long a chain"];

// ---------------------------------------------------------------------------
// Deep nesting and long chains, refused before rnix sees them.

#[test]
fn brackets_nested_30_000_deep() {
    let n = 30_000;
    refused_by_the_parser(
        "brackets-30k",
        &format!("{}{}", "[".repeat(n), "]".repeat(n)),
        NESTED,
    );
}

#[test]
fn brackets_nested_100_000_deep() {
    refused_by_the_parser(
        "brackets-100k",
        &format!("{}{}", "[".repeat(N), "]".repeat(N)),
        NESTED,
    );
}

#[test]
fn parentheses_nested_100_000_deep() {
    refused_by_the_parser(
        "parens-100k",
        &format!("{}1{}", "(".repeat(N), ")".repeat(N)),
        NESTED,
    );
}

#[test]
fn attrsets_nested_100_000_deep() {
    refused_by_the_parser(
        "attrsets-100k",
        &format!("{}1{}", "{ a = ".repeat(N), "; }".repeat(N)),
        NESTED,
    );
}

#[test]
fn operator_chain_of_100_000_without_spaces() {
    refused_by_the_parser("chain-nospace-100k", &format!("1{}", "+1".repeat(N)), CHAIN);
}

#[test]
fn operator_chain_of_100_000_with_spaces() {
    refused_by_the_parser(
        "chain-spaced-100k",
        &format!("1{}", " + 1".repeat(N)),
        CHAIN,
    );
}

#[test]
fn negation_chain_of_100_000() {
    refused_by_the_parser("not-100k", &format!("{}true", "! ".repeat(N)), CHAIN);
}

/// 10,000,000 `!` without a space (10 MB): refused as too long a run of code,
/// as 100,000 are — the scan that refuses it must not itself cost
/// `MAX_RUN` steps per character.
#[test]
fn negation_run_of_10_million_without_spaces() {
    refused_by_the_parser(
        "not-nospace-10m",
        &format!("{}true", "!".repeat(10_000_000)),
        DEEP_OR_CHAIN,
    );
}

/// 1,000,000 nested `!` in lines of 4,000: no line is a 4,096-character run,
/// and a run of `!` counts once towards the operator chain, so neither bound
/// applies — yet it is a million nested unary operators, which rnix's tree
/// building (rowan's node hashing) handles in quadratic time.
#[test]
fn negation_nested_1_000_000_deep_over_lines() {
    refused_by_the_parser(
        "not-lines-1m",
        &format!("{}true", format!("{}\n", "!".repeat(4_000)).repeat(250)),
        DEEP_OR_CHAIN,
    );
}

/// The same with unary minus: 1,000,000 nested `-` in lines of 4,000, then `1`.
#[test]
fn unary_minus_nested_1_000_000_deep_over_lines() {
    refused_by_the_parser(
        "minus-lines-1m",
        &format!("{}1", format!("{}\n", "-".repeat(4_000)).repeat(250)),
        DEEP_OR_CHAIN,
    );
}

#[test]
fn attribute_selection_chain_of_100_000() {
    refused_by_the_parser("select-100k", &format!("x{}", ".a".repeat(N)), CHAIN);
}

#[test]
fn lambda_chain_of_100_000() {
    refused_by_the_parser("lambda-100k", &format!("{}1", "a: ".repeat(N)), NESTED);
}

#[test]
fn let_chain_of_100_000() {
    refused_by_the_parser(
        "let-100k",
        &format!("{}a", "let a = 1; in ".repeat(N)),
        NESTED,
    );
}

#[test]
fn if_chain_of_100_000() {
    refused_by_the_parser(
        "if-100k",
        &format!("{}1", "if true then 1 else ".repeat(N)),
        NESTED,
    );
}

// ---------------------------------------------------------------------------
// Just inside the parser's bounds: evaluated, so the evaluator's own bounds
// (depth 2,000, 2,000,000 steps per unit) must hold.

const DEEP_ENTRY: &str = r#"{ type = "postgresql"; name = "deep"; user = "deep"; }"#;

/// A module enabling service `deep` with `databases = <databases>`.
fn deep_service(databases: &str) -> String {
    format!(
        "{{ config, lib, ... }}:\n{{\n  qgroget.server.deep.enable = true;\n  qgroget.server.deep.databases = {databases};\n}}\n"
    )
}

#[test]
fn list_nested_999_deep_as_databases() {
    let _g = shared();
    let tree = Tree::seed("list-999");
    let n = 998;
    tree.module(
        "deep.nix",
        deep_service(&format!("{}{DEEP_ENTRY}{}", "[".repeat(n), "]".repeat(n))),
    );
    let a = analyse(&tree, GUARD);
    // A list of lists is not a list of entries.
    expect_diag(
        &a.diagnostics,
        "DB007",
        "modules/server/deep.nix",
        &["is a list, not a set"],
    );
    assert!(!database_names(&a.report).contains(&"deep".to_string()));
    assert_seed_planned(&a.report);
    assert_seed_planned(&plan(&tree, GUARD));
}

#[test]
fn operator_chain_of_9_999_evaluated_as_a_port() {
    let _g = shared();
    let tree = Tree::seed("port-chain");
    let sum = vec!["1"; 9_999].join(" + ");
    tree.module(
        "deep.nix",
        deep_service(&format!(
            r#"[ {{ type = "postgresql"; name = "deep"; user = "deep"; port = {sum}; }} ]"#
        )),
    );
    let a = analyse(&tree, GUARD);
    expect_diag(
        &a.diagnostics,
        "DB017",
        "modules/server/deep.nix",
        &["(limit)"],
    );
    assert!(
        unresolved_for(&a.report, "deep")
            .iter()
            .any(|(_, r)| r == "limit"),
        "{}",
        a.report["unresolved"]
    );
    assert_seed_planned(&a.report);
}

#[test]
fn negation_chain_of_9_998_evaluated_as_enable() {
    let _g = shared();
    let tree = Tree::seed("not-chain");
    tree.module(
        "deep.nix",
        format!(
            "{{ ... }}: {{ qgroget.server.deep.enable = {}true; qgroget.server.deep.databases = [ {DEEP_ENTRY} ]; }}\n",
            "! ".repeat(9_998)
        ),
    );
    let a = analyse(&tree, GUARD);
    expect_diag(
        &a.diagnostics,
        "DB012",
        "modules/server/deep.nix",
        &["(limit)"],
    );
    assert!(!database_names(&a.report).contains(&"deep".to_string()));
    assert_seed_planned(&a.report);
}

#[test]
fn let_bindings_chained_100_000_long() {
    let _g = shared();
    let tree = Tree::seed("let-bindings");
    let mut s = String::from("{ ... }:\nlet\n");
    for i in 0..N {
        writeln!(s, "  a{i} = a{};", i + 1).expect("write");
    }
    write!(
        s,
        "  a{N} = true;\nin {{\n  qgroget.server.deep.enable = a0;\n  qgroget.server.deep.databases = [ {DEEP_ENTRY} ];\n}}\n"
    )
    .expect("write");
    tree.module("deep.nix", s);
    let a = analyse(&tree, GUARD);
    expect_diag(
        &a.diagnostics,
        "DB012",
        "modules/server/deep.nix",
        &["(limit)"],
    );
    assert_seed_planned(&a.report);
}

/// `config.c0.v` is `config.c1.v`, … 120,000 times: each link is resolved
/// through the module system, not only through `eval`, so the evaluator's
/// depth bound must apply there too (it once did not, and this
/// overflowed the 512 MB analysis stack). Either answer is right — `deep` enabled, or
/// unresolved with reason `limit` — a crash is not.
#[test]
fn config_reference_chain_120_000_long() {
    let _g = shared();
    let tree = Tree::seed("config-chain");
    let n = 120_000;
    let mut s = String::from("{ config, ... }:\n{\n  qgroget.server.deep.enable = config.c0.v;\n");
    for i in 0..n {
        writeln!(s, "  c{i}.v = config.c{}.v;", i + 1).expect("write");
    }
    write!(
        s,
        "  c{n}.v = true;\n  qgroget.server.deep.databases = [ {DEEP_ENTRY} ];\n}}\n"
    )
    .expect("write");
    tree.module("deep.nix", s);
    let a = analyse(&tree, HEAVY_GUARD);
    let planned = database_names(&a.report).contains(&"deep".to_string());
    let limited = unresolved_for(&a.report, "deep")
        .iter()
        .any(|(_, r)| r == "limit");
    assert!(
        planned || limited,
        "deep is neither planned nor unresolved (limit)\n{}",
        summary(&a.diagnostics)
    );
    assert_seed_planned(&a.report);
}

#[test]
fn import_cycle() {
    let _g = shared();
    let tree = Tree::seed("import-cycle");
    tree.write(
        "modules/server/cyc-b.nix",
        "{ imports = [ ./cyc-a.nix ./deep.nix ]; }\n",
    );
    tree.write(
        "modules/server/cyc-a.nix",
        "{ imports = [ ./cyc-b.nix ]; }\n",
    );
    tree.write(
        "modules/server/deep.nix",
        format!("{{ imports = [ ./cyc-a.nix ./deep.nix ]; qgroget.server.deep.enable = true; qgroget.server.deep.databases = [ {DEEP_ENTRY} ]; }}\n"),
    );
    tree.import("cyc-a.nix");
    let a = analyse(&tree, GUARD);
    assert!(
        database_names(&a.report).contains(&"deep".to_string()),
        "{}",
        summary(&a.diagnostics)
    );
    assert_seed_planned(&a.report);
    assert_seed_planned(&plan(&tree, GUARD));
}

// ---------------------------------------------------------------------------
// Size.

/// A valid 50 MB module: a service with a database, and an `environment.etc`
/// nothing forces. Generated in memory.
#[test]
fn file_of_50_mb() {
    let _g = shared();
    let tree = Tree::seed("50mb");
    const SIZE: usize = 50 * 1024 * 1024;
    let mut s = String::with_capacity(SIZE + 4096);
    s.push_str("{ config, lib, ... }:\n{\n  environment.etc = {\n");
    let mut i = 0usize;
    while s.len() < SIZE {
        writeln!(
            s,
            "    \"hostile/file-{i}.conf\".text = \"line {i} of a very large generated configuration block\";"
        )
        .expect("write");
        i += 1;
    }
    s.push_str("  };\n  qgroget.server.big.enable = true;\n");
    writeln!(
        s,
        "  qgroget.server.big.databases = [ {{ type = \"postgresql\"; name = \"big\"; user = \"big\"; }} ];\n}}"
    )
    .expect("write");
    assert!(s.len() >= SIZE);
    tree.module("big.nix", &s);
    drop(s);
    let a = analyse(&tree, HEAVY_GUARD);
    assert_eq!(a.code, 0, "{}", summary(&a.diagnostics));
    assert!(
        database_names(&a.report).contains(&"big".to_string()),
        "{}",
        summary(&a.diagnostics)
    );
    assert_seed_planned(&a.report);
}

// ---------------------------------------------------------------------------
// Bytes that are not Nix.

#[test]
fn non_utf8_bytes() {
    let _g = shared();
    let tree = Tree::seed("non-utf8");
    tree.module("bad.nix", b"{ x = 1;\n  y = \"caf\xe9\xff\xfe\"; }\n");
    let a = analyse(&tree, GUARD);
    expect_diag(
        &a.diagnostics,
        "DB000",
        "modules/server/bad.nix",
        &["not valid UTF-8"],
    );
    // At the first bad byte, after `  y = "caf`.
    let d = diags_for(&a.diagnostics, "DB000", "modules/server/bad.nix")[0];
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(2), Some(11)),
        "{d}"
    );
    assert_eq!(a.code, 1);
    assert_seed_planned(&a.report);
    assert_seed_planned(&plan(&tree, GUARD));
}

#[test]
fn binary_file_with_nul_bytes() {
    let _g = shared();
    let tree = Tree::seed("binary");
    let mut bytes = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
    bytes.extend((0..=255u8).cycle().take(64 * 1024));
    tree.module("bin.nix", bytes);
    let a = analyse(&tree, GUARD);
    expect_diag(
        &a.diagnostics,
        "DB000",
        "modules/server/bin.nix",
        &["binary file"],
    );
    assert_eq!(a.code, 1);
    assert_seed_planned(&a.report);
    assert_seed_planned(&plan(&tree, GUARD));
}

#[test]
fn empty_file() {
    let _g = shared();
    let tree = Tree::seed("empty");
    tree.module("empty.nix", "");
    let a = analyse(&tree, GUARD);
    expect_diag(
        &a.diagnostics,
        "DB000",
        "modules/server/empty.nix",
        &["unexpected end of file"],
    );
    assert_eq!(a.code, 1);
    assert_seed_planned(&a.report);
    assert_seed_planned(&plan(&tree, GUARD));
}

#[test]
fn file_names_that_are_not_utf8_or_hold_a_newline() {
    let _g = shared();
    let tree = Tree::seed("file-names");
    let dir = tree.path("modules/server");
    let mut bad = dir.as_os_str().as_bytes().to_vec();
    bad.extend_from_slice(b"/bad\xffname.nix");
    fs::write(OsStr::from_bytes(&bad), "{ qgroget.server.x.enable = ; }\n").expect("write");
    fs::write(
        dir.join("new\nline.nix"),
        "{ qgroget.server.y.enable = ; }\n",
    )
    .expect("write");
    let a = analyse(&tree, GUARD);
    assert_eq!(
        a.diagnostics
            .iter()
            .filter(|d| d["code"] == "DB000")
            .count(),
        2,
        "{}",
        summary(&a.diagnostics)
    );
    assert_seed_planned(&a.report);
    for format in ["short", "github", "sarif", "human"] {
        let run = dbprov(
            &[
                OsStr::new("check"),
                OsStr::new("--format"),
                OsStr::new(format),
                OsStr::new("--root"),
                tree.root_arg(),
            ],
            GUARD,
        );
        assert_eq!(
            run.code,
            1,
            "--format {format}: {}",
            tail(&run.stderr, 2000)
        );
    }
}

// ---------------------------------------------------------------------------
// Files that cannot be read.

/// Tests run as root in CI, where permissions stop nothing: a dangling
/// symlink is the unreadable file.
#[test]
fn dangling_symlink() {
    let _g = shared();
    let tree = Tree::seed("dangling");
    std::os::unix::fs::symlink("/nonexistent/x.nix", tree.path("modules/server/x.nix"))
        .expect("symlink");
    tree.import("x.nix");
    let a = analyse(&tree, GUARD);
    expect_diag(
        &a.diagnostics,
        "DB000",
        "modules/server/x.nix",
        &["x.nix cannot be read: a broken symbolic link (its target /nonexistent/x.nix does not exist)"],
    );
    assert_eq!(a.code, 1);
    assert_seed_planned(&a.report);
    assert_seed_planned(&plan(&tree, GUARD));
}

#[test]
fn symlink_loop_between_two_files() {
    let _g = shared();
    let tree = Tree::seed("symlink-loop");
    std::os::unix::fs::symlink("b.nix", tree.path("modules/server/a.nix")).expect("symlink");
    std::os::unix::fs::symlink("a.nix", tree.path("modules/server/b.nix")).expect("symlink");
    tree.import("a.nix");
    let a = analyse(&tree, GUARD);
    for f in ["modules/server/a.nix", "modules/server/b.nix"] {
        expect_diag(
            &a.diagnostics,
            "DB000",
            f,
            &["cannot be read: a symbolic link loop"],
        );
    }
    assert_eq!(a.code, 1);
    assert_seed_planned(&a.report);
    assert_seed_planned(&plan(&tree, GUARD));
}

#[test]
fn directory_symlink_to_its_parent() {
    let _g = shared();
    let tree = Tree::seed("dir-loop");
    std::os::unix::fs::symlink("..", tree.path("modules/server/media/up")).expect("symlink");
    std::os::unix::fs::symlink(".", tree.path("modules/server/auth/self")).expect("symlink");
    let a = analyse(&tree, GUARD);
    expect_diag(
        &a.diagnostics,
        "DB000",
        "modules/server/media/up",
        &["cannot be read: a symbolic link loop"],
    );
    expect_diag(
        &a.diagnostics,
        "DB000",
        "modules/server/auth/self",
        &["cannot be read: a symbolic link loop"],
    );
    assert_eq!(a.code, 1);
    assert_seed_planned(&a.report);
    assert_seed_planned(&plan(&tree, GUARD));
}

/// A FIFO would block a reader forever; dbprov only reads regular files, so
/// it is passed over (the guard catches it if it ever is read).
#[test]
fn fifo_is_not_read() {
    let _g = shared();
    let tree = Tree::seed("fifo");
    let fifo = tree.path("modules/server/pipe.nix");
    match Command::new("mkfifo").arg(&fifo).status() {
        Ok(s) if s.success() => {}
        other => {
            eprintln!("skipped: mkfifo is not available ({other:?})");
            return;
        }
    }
    let a = analyse(&tree, GUARD);
    assert_eq!(a.code, 0, "{}", summary(&a.diagnostics));
    assert_seed_planned(&a.report);
    assert_seed_planned(&plan(&tree, GUARD));
}

// ---------------------------------------------------------------------------
// Runs that cannot proceed: exit 2 with a message.

fn cannot_run(args: &[&OsStr], phrase: &str) {
    let run = dbprov(args, GUARD);
    assert_eq!(run.code, 2, "stderr:\n{}", run.stderr);
    assert!(
        run.stderr.contains(phrase),
        "stderr does not mention {phrase:?}:\n{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "stdout: {}", run.stdout);
}

#[test]
fn missing_root() {
    let _g = shared();
    for cmd in ["check", "plan"] {
        cannot_run(
            &[
                OsStr::new(cmd),
                OsStr::new("--root"),
                OsStr::new("/nonexistent/dbprov-hostile"),
            ],
            "root `/nonexistent/dbprov-hostile` is not a directory",
        );
    }
}

#[test]
fn missing_config_file() {
    let _g = shared();
    let tree = Tree::seed("missing-config");
    cannot_run(
        &[
            OsStr::new("check"),
            OsStr::new("--config"),
            OsStr::new("/nonexistent/dbprov.toml"),
            OsStr::new("--root"),
            tree.root_arg(),
        ],
        "cannot read /nonexistent/dbprov.toml",
    );
}

fn invalid_config(name: &str, toml: &str, phrase: &str) {
    let _g = shared();
    let tree = Tree::seed(name);
    tree.write("dbprov.toml", toml);
    for cmd in ["check", "plan"] {
        cannot_run(
            &[OsStr::new(cmd), OsStr::new("--root"), tree.root_arg()],
            phrase,
        );
    }
}

#[test]
fn dbprov_toml_that_is_not_toml() {
    invalid_config("toml-syntax", "include = [\n", "invalid TOML");
}

#[test]
fn dbprov_toml_with_an_unknown_key() {
    invalid_config("toml-unknown", "bogus = 1\n", "unknown key `bogus`");
}

#[test]
fn dbprov_toml_with_a_wrong_type() {
    invalid_config(
        "toml-type",
        "include = 5\n",
        "`include` must be a list of strings",
    );
}

#[test]
fn dbprov_toml_with_binary_content() {
    let _g = shared();
    let tree = Tree::seed("toml-binary");
    tree.write("dbprov.toml", b"\0\xff\xfe[[[\n");
    let run = dbprov(
        &[OsStr::new("check"), OsStr::new("--root"), tree.root_arg()],
        GUARD,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("dbprov.toml"), "{}", run.stderr);
}

/// `--threads` is input too: an absurd count must be clamped or refused, not
/// turn a 5-file run into minutes of thread contention.
#[test]
fn absurd_thread_count() {
    let _only = EXCLUSIVE.write().unwrap_or_else(|e| e.into_inner());
    let tree = Tree::seed("threads");
    let run = dbprov(
        &[
            OsStr::new("check"),
            OsStr::new("--threads"),
            OsStr::new("10000"),
            OsStr::new("--format"),
            OsStr::new("json"),
            OsStr::new("--root"),
            tree.root_arg(),
        ],
        Duration::from_secs(30),
    );
    assert!(run.code == 0 || run.code == 2, "{}", run.stderr);
}

// ---------------------------------------------------------------------------
// Cycles and runaway evaluation.

/// `let x = x; in x` as a module: infinite recursion in Nix, DB027 here. The
/// module could define anything, so nothing about the other services is
/// proven: they are listed as unresolved (reason `cycle`), never guessed.
#[test]
fn module_that_is_its_own_value() {
    let _g = shared();
    let tree = Tree::seed("let-x-x");
    tree.module("cyc.nix", "let x = x; in x\n");
    let a = analyse(&tree, GUARD);
    expect_diag(
        &a.diagnostics,
        "DB027",
        "modules/server/cyc.nix",
        &["infinite recursion"],
    );
    assert_eq!(a.code, 1);
    for service in ["immich", "authelia"] {
        assert!(
            unresolved_for(&a.report, service)
                .iter()
                .any(|(_, r)| r == "cycle"),
            "{service}: {}",
            a.report["unresolved"]
        );
    }
    plan(&tree, GUARD);

    // Not imported, it is nothing to NixOS, and nothing to dbprov either.
    let tree = Tree::seed("let-x-x-unimported");
    tree.write("modules/server/cyc.nix", "let x = x; in x\n");
    let a = analyse(&tree, GUARD);
    assert_eq!(a.code, 0, "{}", summary(&a.diagnostics));
    assert_seed_planned(&a.report);
}

#[test]
fn enable_defined_as_itself() {
    let _g = shared();
    let tree = Tree::seed("enable-cycle");
    tree.module(
        "cyc.nix",
        format!(
            "{{ config, ... }}:\n{{\n  qgroget.server.x.enable = config.qgroget.server.x.enable;\n  qgroget.server.x.databases = [ {} ];\n}}\n",
            r#"{ type = "postgresql"; name = "x"; user = "x"; }"#
        ),
    );
    let a = analyse(&tree, GUARD);
    expect_diag(
        &a.diagnostics,
        "DB027",
        "modules/server/cyc.nix",
        &["depends on itself"],
    );
    assert_eq!(a.code, 1);
    assert!(
        unresolved_for(&a.report, "x")
            .iter()
            .any(|(w, r)| w == "enable" && r == "cycle"),
        "{}",
        a.report["unresolved"]
    );
    assert!(!database_names(&a.report).contains(&"x".to_string()));
    assert_seed_planned(&a.report);
    assert_seed_planned(&plan(&tree, GUARD));
}

/// Analyses a module whose `databases` is `f N` for the recursive `f` in
/// `let f = …;`: the step bound must end it, as DB017 `limit`.
fn expect_exponential_limited(case: &str, f: &str, n: u32) {
    let _g = shared();
    let tree = Tree::seed(case);
    tree.module(
        "exp.nix",
        format!(
            "{{ ... }}:\nlet f = {f}; in\n{{\n  qgroget.server.exp.enable = true;\n  qgroget.server.exp.databases = f {n};\n}}\n"
        ),
    );
    let a = analyse(&tree, HEAVY_GUARD);
    expect_diag(
        &a.diagnostics,
        "DB017",
        "modules/server/exp.nix",
        &["(limit)"],
    );
    assert!(
        unresolved_for(&a.report, "exp")
            .iter()
            .any(|(w, r)| w == "databases" && r == "limit"),
        "{}",
        a.report["unresolved"]
    );
    assert_seed_planned(&a.report);
}

/// 2^40 calls with no base case.
#[test]
fn exponential_recursion_without_base_case() {
    expect_exponential_limited("exp-40", "n: (f (n - 1)) ++ (f (n - 1))", 40);
}

/// 2^60 calls that would end, long after the universe.
#[test]
fn exponential_recursion_with_base_case() {
    expect_exponential_limited(
        "exp-60",
        "n: if n == 0 then [] else (f (n - 1)) ++ (f (n - 1))",
        60,
    );
}
