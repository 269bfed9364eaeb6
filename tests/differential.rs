//! Differential test of the static evaluator against real Nix.
//!
//! Every expression of `tests/differential/cases.nix-list` is evaluated by
//! dbprov (`eval::strict::eval_source`) and by
//! `nix-instantiate --eval --strict --json`. Verdicts:
//!
//! - Nix succeeds: dbprov gives the same JSON value (numbers compared
//!   numerically, since Nix prints floats with 6 significant digits) or is
//!   unresolved;
//! - Nix fails: dbprov is unresolved (any reason).
//!
//! Anything else is a disagreement, and the test fails listing each one.
//!
//! Nix runs with a `dummy://` store and private state/configuration
//! directories, so it needs nothing but the `nix-instantiate` binary (Debian's
//! `nix-bin` package): no daemon, no `/nix` store, no `NIX_PATH`.
//!
//! Environment: `DBPROV_SKIP_NIX=1` skips the test when Nix is not installed;
//! `DBPROV_DIFFERENTIAL_TABLE=FILE` runs another table;
//! `DBPROV_DIFFERENTIAL_VERBOSE=1` also lists the cases dbprov leaves
//! unresolved where Nix gives a value.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use dbprov::eval::strict::{eval_source, Strict};
use serde_json::Value as Json;

use common::NIX;

const TABLE: &str = "tests/differential/cases.nix-list";
/// One Nix evaluation may not take longer than this.
const NIX_TIMEOUT: Duration = Duration::from_secs(60);
const STACK_BYTES: usize = 256 * 1024 * 1024;

/// One expression of the table, with the line its record starts on.
struct Case {
    line: usize,
    expr: String,
}

/// What one evaluator made of an expression.
#[derive(Clone, Debug)]
enum Outcome {
    Value(Json),
    /// dbprov: unresolved, with its reason and detail; Nix: an error message.
    Failed(String),
    /// dbprov panicked: a bug whatever Nix says.
    Panicked(String),
}

/// Splits the table into records at lines that are exactly `---`; records made
/// only of blank lines and `#` comments are headings, not cases.
fn parse_table(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut start = 1;
    let mut flush = |lines: &mut Vec<&str>, start: usize| {
        let is_heading = lines
            .iter()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
        if !is_heading {
            // Skip leading blank lines so the reported line is the first line of code.
            let skipped = lines.iter().take_while(|l| l.trim().is_empty()).count();
            cases.push(Case {
                line: start + skipped,
                expr: lines.join("\n").trim().to_string(),
            });
        }
        lines.clear();
    };
    for (i, line) in text.lines().enumerate() {
        if line.trim_end() == "---" {
            flush(&mut current, start);
            start = i + 2;
        } else {
            current.push(line);
        }
    }
    flush(&mut current, start);
    cases
}

/// Runs dbprov's strict evaluator over every case, on one thread with a large
/// stack (as the CLI does). A panic is recorded against its case.
fn eval_all_dbprov(exprs: Vec<String>) -> Vec<Outcome> {
    std::thread::Builder::new()
        .name("dbprov-eval".into())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            exprs
                .iter()
                .map(|e| {
                    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| eval_source(e)))
                    {
                        Ok(Strict::Value(v)) => Outcome::Value(v),
                        Ok(Strict::Unresolved(u)) => {
                            Outcome::Failed(format!("unresolved ({}): {}", u.reason, u.detail))
                        }
                        Err(panic) => Outcome::Panicked(
                            panic
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_default(),
                        ),
                    }
                })
                .collect()
        })
        .expect("spawn the evaluation thread")
        .join()
        .expect("the evaluation thread")
}

/// A private environment for Nix: no daemon, no store, no user configuration.
struct NixEnv {
    dir: PathBuf,
}

impl NixEnv {
    fn new() -> NixEnv {
        let dir = std::env::temp_dir().join(format!("dbprov-differential-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("work")).expect("create a temporary directory for Nix");
        NixEnv { dir }
    }

    fn command(&self, expr: &str) -> Command {
        let mut cmd = common::private_nix(&self.dir);
        // The leading space keeps an expression such as `-1 + 2` from being
        // taken for a command-line flag.
        let expr = format!(" {expr}");
        cmd.args(["--eval", "--strict", "--json", "-E", &expr])
            .current_dir(self.dir.join("work"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Evaluates one expression; `Err` when Nix itself cannot be run.
    fn eval(&self, expr: &str) -> Result<Outcome, String> {
        let mut child = self.command(expr).spawn().map_err(|e| e.to_string())?;
        // Drain the pipes on their own threads so a chatty Nix cannot block.
        let mut stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let out_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        });
        let err_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let started = Instant::now();
        let status = loop {
            match child.try_wait().map_err(|e| e.to_string())? {
                Some(status) => break Some(status),
                None if started.elapsed() > NIX_TIMEOUT => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                None => std::thread::sleep(Duration::from_millis(2)),
            }
        };
        let out = out_reader.join().unwrap_or_default();
        let err = err_reader.join().unwrap_or_default();
        let Some(status) = status else {
            return Ok(Outcome::Failed(format!("timed out after {NIX_TIMEOUT:?}")));
        };
        if !status.success() {
            let msg = err
                .lines()
                .find(|l| l.contains("error"))
                .unwrap_or_else(|| err.lines().next().unwrap_or("(no message)"))
                .trim()
                .to_string();
            return Ok(Outcome::Failed(format!("{status}: {msg}")));
        }
        match parse_json(out.trim()) {
            Ok(v) => Ok(Outcome::Value(v)),
            // Nix printed something that is not JSON (e.g. `inf`): a value no
            // JSON can express, which dbprov must not claim to know.
            Err(_) => Ok(Outcome::Failed(format!("not JSON: {}", out.trim()))),
        }
    }
}

impl Drop for NixEnv {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Parses JSON without serde_json's nesting limit of 128 (deep cases nest
/// further); scalars are handed to serde_json.
fn parse_json(text: &str) -> Result<Json, String> {
    let mut p = JsonParser {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("trailing text at byte {}", p.i));
    }
    Ok(v)
}

struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected `{}` at byte {}", c as char, self.i))
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.s.get(self.i) {
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value()?);
                        if self.eat(b']') {
                            break;
                        }
                        self.expect(b',')?;
                    }
                }
                Ok(Json::Array(items))
            }
            Some(b'{') => {
                self.i += 1;
                let mut map = serde_json::Map::new();
                if !self.eat(b'}') {
                    loop {
                        self.ws();
                        let key = match self.scalar()? {
                            Json::String(k) => k,
                            other => return Err(format!("object key {other} is not a string")),
                        };
                        self.expect(b':')?;
                        let v = self.value()?;
                        map.insert(key, v);
                        if self.eat(b'}') {
                            break;
                        }
                        self.expect(b',')?;
                    }
                }
                Ok(Json::Object(map))
            }
            Some(_) => self.scalar(),
            None => Err("unexpected end of JSON".into()),
        }
    }

    /// A string, number or literal, parsed by serde_json.
    fn scalar(&mut self) -> Result<Json, String> {
        let start = self.i;
        if self.s.get(self.i) == Some(&b'"') {
            self.i += 1;
            while self.i < self.s.len() && self.s[self.i] != b'"' {
                self.i += if self.s[self.i] == b'\\' { 2 } else { 1 };
            }
            self.i += 1;
        } else {
            while self.i < self.s.len() && !b",]}: \t\r\n".contains(&self.s[self.i]) {
                self.i += 1;
            }
        }
        let token = std::str::from_utf8(&self.s[start..self.i.min(self.s.len())])
            .map_err(|e| e.to_string())?;
        serde_json::from_str(token).map_err(|e| format!("{e}: {token}"))
    }
}

/// Evaluates every case with Nix, on a few threads.
fn eval_all_nix(env: &NixEnv, exprs: &[String]) -> Vec<Outcome> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 8)
        * 4;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; exprs.len()]);
    std::thread::scope(|s| {
        for _ in 0..threads {
            let worker = std::thread::Builder::new().stack_size(64 * 1024 * 1024);
            let spawned = worker.spawn_scoped(s, || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= exprs.len() {
                    break;
                }
                let outcome = env
                    .eval(&exprs[i])
                    .unwrap_or_else(|e| panic!("cannot run {NIX}: {e}"));
                results.lock().expect("results lock")[i] = Some(outcome);
            });
            spawned.expect("spawn a Nix worker thread");
        }
    });
    results
        .into_inner()
        .expect("results lock")
        .into_iter()
        .map(|o| o.expect("every case evaluated"))
        .collect()
}

/// JSON equality with numbers compared numerically: integers exactly, floats
/// to the 6 significant digits Nix prints.
fn same_json(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => {
                let (Some(f), Some(g)) = (x.as_f64(), y.as_f64()) else {
                    return false;
                };
                f == g || (f - g).abs() <= 1e-5 * f.abs().max(g.abs())
            }
        },
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(i, j)| same_json(i, j))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

fn show(o: &Outcome) -> String {
    match o {
        Outcome::Value(v) => truncate(&v.to_string(), 400),
        Outcome::Failed(m) => format!("failed: {m}"),
        Outcome::Panicked(m) => format!("PANICKED: {m}"),
    }
}

/// Cuts long text at a character boundary, saying how long it was.
fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

/// Prints a line that `cargo test`'s output capture does not swallow.
fn report(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "\n{line}");
}

/// Fails unless `nix-instantiate` runs and evaluates `1 + 1` to `2`.
fn check_nix(env: &NixEnv) -> Result<(), String> {
    match env.eval("1 + 1") {
        Err(e) => Err(format!(
            "`{NIX}` cannot be run ({e}). The differential test needs real Nix: install Debian's \
             nix-bin (`apt-get install -y nix-bin`), or set DBPROV_SKIP_NIX=1 to skip this test."
        )),
        Ok(Outcome::Value(v)) if v == 2 => Ok(()),
        Ok(other) => Err(format!(
            "`{NIX} --store dummy:// --eval --strict --json -E '1 + 1'` did not print 2 but {}; \
             the differential test needs a working Nix (Debian's nix-bin).",
            show(&other)
        )),
    }
}

#[test]
fn differential() {
    if std::env::var_os("DBPROV_SKIP_NIX").is_some_and(|v| v == "1") {
        report("differential: skipped (DBPROV_SKIP_NIX=1)");
        return;
    }
    // DBPROV_DIFFERENTIAL_TABLE runs another table (e.g. a few cases while debugging).
    let custom = std::env::var_os("DBPROV_DIFFERENTIAL_TABLE").map(PathBuf::from);
    let table = custom
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(TABLE));
    let text = std::fs::read_to_string(&table)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", table.display()));
    let cases = parse_table(&text);
    if custom.is_none() {
        assert!(
            cases.len() >= 600,
            "the table holds only {} cases",
            cases.len()
        );
    }
    let table_name = custom.map_or_else(|| TABLE.to_string(), |p| p.display().to_string());

    let env = NixEnv::new();
    if let Err(msg) = check_nix(&env) {
        panic!("{msg}");
    }
    let exprs: Vec<String> = cases.iter().map(|c| c.expr.clone()).collect();
    let started = Instant::now();
    let dbprov_exprs = exprs.clone();
    let dbprov = std::thread::spawn(move || eval_all_dbprov(dbprov_exprs));
    let nix = eval_all_nix(&env, &exprs);
    let dbprov = dbprov.join().expect("dbprov evaluation");

    let mut resolved = 0;
    let mut nix_values = 0;
    let mut both_values = 0;
    let mut disagreements = Vec::new();
    for ((case, ours), theirs) in cases.iter().zip(&dbprov).zip(&nix) {
        let ok = match (ours, theirs) {
            (Outcome::Panicked(_), _) => false,
            (Outcome::Failed(_), _) => true,
            (Outcome::Value(a), Outcome::Value(b)) => same_json(a, b),
            (Outcome::Value(_), _) => false,
        };
        if matches!(ours, Outcome::Value(_)) {
            resolved += 1;
        }
        if matches!(theirs, Outcome::Value(_)) {
            nix_values += 1;
            if matches!(ours, Outcome::Value(_)) {
                both_values += 1;
            }
        }
        if !ok {
            disagreements.push(format!(
                "{table_name}:{}:\n  expression: {}\n  dbprov:     {}\n  nix:        {}",
                case.line,
                truncate(&case.expr, 600).replace('\n', "\n              "),
                show(ours),
                show(theirs),
            ));
        }
    }
    if std::env::var_os("DBPROV_DIFFERENTIAL_VERBOSE").is_some() {
        for ((case, ours), theirs) in cases.iter().zip(&dbprov).zip(&nix) {
            if let (Outcome::Failed(m), Outcome::Value(v)) = (ours, theirs) {
                report(&format!(
                    "unresolved where nix succeeds: {table_name}:{}: {}\n  dbprov: {m}\n  nix: {}",
                    case.line,
                    truncate(&case.expr, 600),
                    show(&Outcome::Value(v.clone()))
                ));
            }
        }
    }
    let n = cases.len();
    let pct = 100.0 * resolved as f64 / n as f64;
    let summary = format!(
        "differential: {n} cases, {resolved} resolved ({pct:.1}%), {} disagreements",
        disagreements.len()
    );
    let share = format!(
        "(Nix gives a value for {nix_values} of the {n} cases; dbprov resolves {:.1}% of those; the evaluations took {:.1?})",
        100.0 * both_values as f64 / nix_values.max(1) as f64,
        started.elapsed()
    );
    if !disagreements.is_empty() {
        panic!(
            "dbprov and Nix disagree on {} of {n} expressions:\n\n{}\n\n{share}\n{summary}\n",
            disagreements.len(),
            disagreements.join("\n\n")
        );
    }
    report(&share);
    report(&summary);
}

#[test]
fn table_format() {
    let cases = parse_table("# heading\n---\n1\n---\n# a\n\n---\n\n''\n  x\n''\n---\n# c\n2\n");
    let exprs: Vec<&str> = cases.iter().map(|c| c.expr.as_str()).collect();
    assert_eq!(exprs, ["1", "''\n  x\n''", "# c\n2"]);
    assert_eq!(cases.iter().map(|c| c.line).collect::<Vec<_>>(), [3, 9, 13]);
    assert!(same_json(
        &serde_json::json!(1.23457e8),
        &serde_json::json!(123456789.0)
    ));
    assert!(same_json(&serde_json::json!(1), &serde_json::json!(1.0)));
    assert!(!same_json(&serde_json::json!(1), &serde_json::json!(2)));
    assert!(!same_json(
        &serde_json::json!({"a": 1}),
        &serde_json::json!({"a": 1, "b": 2})
    ));
    assert!(!same_json(
        &serde_json::json!(0.3333),
        &serde_json::json!(0.3334)
    ));
    let deep = format!("{}1{}", "[".repeat(1000), "]".repeat(1000));
    assert!(parse_json(&deep).is_ok());
    assert_eq!(
        parse_json(r#" {"a b":[1,-2.5e+3,"x\"y\\",null,true,{}], "c" : [ ] } "#),
        Ok(serde_json::json!({"a b": [1, -2500.0, "x\"y\\", null, true, {}], "c": []}))
    );
    assert!(parse_json("inf").is_err());
    assert!(parse_json("[1,").is_err());
}
