//! Fixture-based integration tests.
//!
//! Every directory `fixtures/<case>/` is a small flake root. The built binary
//! is run on it as `plan --root fixtures/<case>` and
//! `check --format json --root fixtures/<case>`; stdout must equal
//! `fixtures/<case>/expected/plan.json` and `expected/check.json` byte for
//! byte, and the exit code of `check` must equal the number in
//! `expected/check.exit`.
//!
//! `DBPROV_BLESS=1 cargo test --test fixtures` rewrites the expected files from
//! what the tool prints, and fails, listing them, whenever it rewrote one. A
//! blessed file is only a draft: every value in it must be checked by hand
//! against what the NixOS module system would really do (which services are
//! enabled, which databases are provisioned or skipped and why,
//! `ensureDBOwnership`, every line and column) before it is committed.
//! Output copied from the tool's own run without that check proves nothing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BLESS_ENV: &str = "DBPROV_BLESS";

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The fixture cases: every directory under `fixtures/`, sorted by name.
fn cases() -> Vec<String> {
    let dir = manifest_dir().join("fixtures");
    let mut cases: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("fixture directory entry"))
        .filter(|entry| entry.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no fixture in {}", dir.display());
    cases
}

/// Runs the built `dbprov` from the package root with `args`.
fn dbprov(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dbprov"))
        .args(args)
        .current_dir(manifest_dir())
        .env_remove("NO_COLOR")
        .output()
        .unwrap_or_else(|e| panic!("cannot run dbprov {args:?}: {e}"))
}

fn root_arg(case: &str) -> String {
    format!("fixtures/{case}")
}

fn expected_path(case: &str, file: &str) -> PathBuf {
    manifest_dir()
        .join("fixtures")
        .join(case)
        .join("expected")
        .join(file)
}

fn bless_mode() -> bool {
    std::env::var_os(BLESS_ENV).is_some_and(|v| v == "1")
}

/// A readable account of where `actual` first departs from `expected`.
fn first_difference(expected: &str, actual: &str) -> String {
    let exp: Vec<&str> = expected.split('\n').collect();
    let act: Vec<&str> = actual.split('\n').collect();
    let line = exp
        .iter()
        .zip(&act)
        .position(|(e, a)| e != a)
        .unwrap_or(exp.len().min(act.len()));
    let mut out = format!(
        "first differing line: {} (expected {} lines, got {})\n",
        line + 1,
        exp.len(),
        act.len()
    );
    for (i, l) in exp
        .iter()
        .enumerate()
        .take(line)
        .skip(line.saturating_sub(3))
    {
        out.push_str(&format!("    {:>5} | {l}\n", i + 1));
    }
    match exp.get(line) {
        Some(l) => out.push_str(&format!("  - {:>5} | {l}\n", line + 1)),
        None => out.push_str("  -       | <end of expected>\n"),
    }
    match act.get(line) {
        Some(l) => out.push_str(&format!("  + {:>5} | {l}\n", line + 1)),
        None => out.push_str("  +       | <end of output>\n"),
    }
    out
}

/// Compares one output with its expected file, or writes it in bless mode.
/// Returns a failure message, if any.
fn compare(case: &str, file: &str, actual: &str, blessed: &mut Vec<String>) -> Option<String> {
    let path = expected_path(case, file);
    let expected = fs::read_to_string(&path);
    if bless_mode() {
        if expected.as_deref().ok() != Some(actual) {
            fs::create_dir_all(path.parent().expect("expected/ has a parent"))
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
            fs::write(&path, actual)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
            blessed.push(format!("fixtures/{case}/expected/{file}"));
        }
        return None;
    }
    match expected {
        Err(e) => Some(format!(
            "[{case}] {file}: cannot read {}: {e} (run with {BLESS_ENV}=1 to write it, then check every value by hand)",
            path.display()
        )),
        Ok(expected) if expected == actual => None,
        Ok(expected) => Some(format!(
            "[{case}] expected/{file} differs from the output\n{}",
            first_difference(&expected, actual)
        )),
    }
}

fn stdout_of(case: &str, what: &str, out: &Output) -> Result<String, String> {
    String::from_utf8(out.stdout.clone())
        .map_err(|e| format!("[{case}] {what}: stdout is not UTF-8: {e}"))
}

/// The run itself failed: exit 2, a panic, or a signal.
fn did_not_run(case: &str, what: &str, out: &Output) -> Option<String> {
    match out.status.code() {
        Some(0) | Some(1) => None,
        code => Some(format!(
            "[{case}] `{what}` did not run: exit {code:?}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )),
    }
}

#[test]
fn fixtures_match_expected_output() {
    let mut failures = Vec::new();
    let mut blessed = Vec::new();
    for case in cases() {
        let root = root_arg(&case);
        let expected_dir = manifest_dir().join("fixtures").join(&case).join("expected");
        if !bless_mode() && !expected_dir.is_dir() {
            failures.push(format!(
                "[{case}] has no expected/ directory: write expected/plan.json, check.json and \
                 check.exit by reasoning out what the NixOS module system does \
                 ({BLESS_ENV}=1 writes drafts from the tool's output, to be checked by hand)"
            ));
            continue;
        }

        let plan = dbprov(&["plan", "--root", &root]);
        if let Some(f) = did_not_run(&case, "plan", &plan) {
            failures.push(f);
        } else {
            match stdout_of(&case, "plan", &plan) {
                Ok(s) => failures.extend(compare(&case, "plan.json", &s, &mut blessed)),
                Err(f) => failures.push(f),
            }
        }

        let check = dbprov(&["check", "--format", "json", "--root", &root]);
        if let Some(f) = did_not_run(&case, "check --format json", &check) {
            failures.push(f);
            continue;
        }
        match stdout_of(&case, "check", &check) {
            Ok(s) => failures.extend(compare(&case, "check.json", &s, &mut blessed)),
            Err(f) => failures.push(f),
        }
        let code = check.status.code().expect("exit code checked above");
        if bless_mode() {
            failures.extend(compare(
                &case,
                "check.exit",
                &format!("{code}\n"),
                &mut blessed,
            ));
            continue;
        }
        let exit_path = expected_path(&case, "check.exit");
        match fs::read_to_string(&exit_path) {
            Err(e) => failures.push(format!(
                "[{case}] check.exit: cannot read {}: {e}",
                exit_path.display()
            )),
            Ok(s) => match s.trim().parse::<i32>() {
                Err(e) => failures.push(format!(
                    "[{case}] check.exit: `{}` is not a number: {e}",
                    s.trim()
                )),
                Ok(want) if want == code => {}
                Ok(want) => failures.push(format!(
                    "[{case}] check.exit: `check --format json` exited {code}, expected {want}"
                )),
            },
        }
    }
    // Blessing never passes: the rewritten files are drafts, and the run that
    // wrote them must not look like a green one.
    assert!(
        blessed.is_empty(),
        "{BLESS_ENV}=1 rewrote {} file(s) from the tool's own output:\n  {}\n\
         They are drafts: check every value in them by hand against what the NixOS \
         module system would do (SPEC, Standards), then run again without {BLESS_ENV}.",
        blessed.len(),
        blessed.join("\n  ")
    );
    assert!(
        failures.is_empty(),
        "{} fixture problem(s):\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn plan_is_identical_whatever_the_thread_count() {
    let run = |case: &str, threads: &str| {
        let out = dbprov(&["plan", "--root", &root_arg(case), "--threads", threads]);
        assert!(
            did_not_run(case, "plan", &out).is_none(),
            "[{case}] plan --threads {threads} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let one = run("seed", "1");
    let two = run("seed", "2");
    assert!(!one.is_empty(), "plan printed nothing");
    assert!(
        one == two,
        "plan differs between --threads 1 and --threads 2 on fixtures/seed\n{}",
        first_difference(
            &String::from_utf8_lossy(&one),
            &String::from_utf8_lossy(&two)
        )
    );
    for case in cases() {
        let one = run(&case, "1");
        let two = run(&case, "2");
        assert!(
            one == two,
            "plan differs between --threads 1 and --threads 2 on fixtures/{case}\n{}",
            first_difference(
                &String::from_utf8_lossy(&one),
                &String::from_utf8_lossy(&two)
            )
        );
    }
}

// The DB001 done-when (SPEC §4): authelia's PostgreSQL entry has no `user`.

const DB001_CASE: &str = "db001-missing-field";
const DB001_FILE: &str = "modules/server/auth/authelia.nix";
const DB001_ENTRY: &str = r#"{ type = "postgresql"; name = "authelia"; }"#;
const DB001_MESSAGE: &str =
    "Service 'authelia' declares database with missing required field 'user'";
const DB001_HELP: &str = "All PostgreSQL databases require: type, name, user

Example:
  databases = [{
    type = \"postgresql\";
    name = \"authelia\";
    user = \"authelia\";
  }];";

/// The 1-based line and column (in characters) where the entry starts and
/// just after it ends, found in the fixture's text independently of dbprov.
fn db001_entry_range() -> ((usize, usize), (usize, usize)) {
    let path = manifest_dir()
        .join("fixtures")
        .join(DB001_CASE)
        .join(DB001_FILE);
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert_eq!(
        text.matches(DB001_ENTRY).count(),
        1,
        "the entry occurs once in {DB001_FILE}"
    );
    for (i, line) in text.lines().enumerate() {
        if let Some(byte) = line.find(DB001_ENTRY) {
            let column = line[..byte].chars().count() + 1;
            return (
                (i + 1, column),
                (i + 1, column + DB001_ENTRY.chars().count()),
            );
        }
    }
    unreachable!("the entry was found above")
}

#[test]
fn db001_human_report_names_the_service_field_and_fix() {
    let out = dbprov(&["check", "--no-color", "--root", &root_arg(DB001_CASE)]);
    let stderr = String::from_utf8(out.stderr).expect("stderr is UTF-8");
    assert_eq!(
        out.status.code(),
        Some(1),
        "check exits 1 on an error; stderr:\n{stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}'),
        "--no-color output contains escape sequences:\n{stderr}"
    );
    let lines: Vec<&str> = stderr.lines().collect();

    // The message, exactly, after miette's severity marker.
    let message_at = lines
        .iter()
        .position(|l| {
            let t = l.trim();
            t == DB001_MESSAGE
                || t.strip_suffix(DB001_MESSAGE)
                    .is_some_and(|p| p.trim() == "×")
        })
        .unwrap_or_else(|| panic!("no line with exactly the DB001 message in:\n{stderr}"));

    // A label on the entry: the snippet header names the entry's file, line
    // and column; the entry's source line is shown and underlined over its
    // whole width, with a label below.
    let ((line, column), _) = db001_entry_range();
    let header = format!("[{DB001_FILE}:{line}:{column}]");
    assert!(
        lines[message_at..].iter().any(|l| l.contains(&header)),
        "no snippet header {header} after the message:\n{stderr}"
    );
    let source_at = message_at
        + lines[message_at..]
            .iter()
            .position(|l| {
                l.contains(DB001_ENTRY) && l.trim_start().starts_with(&format!("{line} "))
            })
            .unwrap_or_else(|| panic!("the entry's source line {line} is not shown:\n{stderr}"));
    let source: Vec<char> = lines[source_at].chars().collect();
    let prefix = lines[source_at][..lines[source_at]
        .find(DB001_ENTRY)
        .expect("entry on the line")]
        .chars()
        .count();
    let width = DB001_ENTRY.chars().count();
    let underline: Vec<char> = lines
        .get(source_at + 1)
        .unwrap_or_else(|| panic!("nothing after the source line:\n{stderr}"))
        .chars()
        .collect();
    assert!(
        underline.len() >= prefix + width
            && underline[prefix..prefix + width]
                .iter()
                .all(|c| !c.is_whitespace())
            && underline[source.iter().position(|c| *c == '│').unwrap_or(0) + 1..prefix]
                .iter()
                .all(|c| c.is_whitespace()),
        "the entry is not underlined over exactly its width:\n{}\n{}",
        lines[source_at],
        lines[source_at + 1]
    );
    assert!(
        lines[source_at + 2..]
            .iter()
            .take(3)
            .any(|l| l.contains("╰──") && l.contains("user")),
        "no label about `user` under the entry:\n{stderr}"
    );

    // The help, line by line and in order, each indented as miette indents it.
    let help: Vec<&str> = DB001_HELP.lines().collect();
    let first_at = message_at
        + lines[message_at..]
            .iter()
            .position(|l| l.trim_end().ends_with(&format!("help: {}", help[0])))
            .unwrap_or_else(|| panic!("no `help: {}` line:\n{stderr}", help[0]));
    let indent = lines[first_at]
        .find(help[0])
        .expect("help text on its line");
    for (i, want) in help.iter().enumerate().skip(1) {
        let got = lines
            .get(first_at + i)
            .unwrap_or_else(|| panic!("help line {} missing:\n{stderr}", i + 1));
        let (pad, rest) = got.split_at(indent.min(got.len()));
        assert!(
            pad.chars().all(char::is_whitespace) && rest.trim_end() == *want,
            "help line {} is `{got}`, expected `{want}` indented by {indent}:\n{stderr}",
            i + 1
        );
    }
}

#[test]
fn db001_json_report_names_the_service_field_and_entry() {
    let out = dbprov(&["check", "--format", "json", "--root", &root_arg(DB001_CASE)]);
    assert_eq!(out.status.code(), Some(1), "check exits 1 on an error");
    let diags: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("check --format json prints JSON");
    let diags = diags.as_array().expect("a JSON array of diagnostics");
    let db001: Vec<&serde_json::Value> = diags.iter().filter(|d| d["code"] == "DB001").collect();
    assert_eq!(db001.len(), 1, "exactly one DB001 in {diags:#?}");
    let d = db001[0];
    let ((line, column), (end_line, end_column)) = db001_entry_range();
    assert_eq!(d["rule"], "missing-field");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["message"], DB001_MESSAGE);
    assert_eq!(d["help"], DB001_HELP);
    assert_eq!(d["service"], "authelia");
    assert_eq!(d["field"], "user");
    assert_eq!(d["file"], DB001_FILE);
    assert_eq!(d["line"], line, "1-based line of the entry");
    assert_eq!(d["column"], column, "1-based column of the entry");
    assert_eq!(d["endLine"], end_line);
    assert_eq!(
        d["endColumn"], end_column,
        "the column just after the entry's `}}`"
    );
}
