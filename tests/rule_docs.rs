//! The rule documentation in `rules/*.md` is executable (SPEC §4): each doc's
//! `## Example` is a small flake tree that must raise exactly that rule, and
//! its `## Fix` the same tree with nothing to report. `dbprov explain` must
//! print every listed rule's doc.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_dbprov");

/// The sections every doc has, in this order; `## Notes` may follow.
const SECTIONS: &[&str] = &["What it checks", "Why", "Example", "Fix"];
const OPTIONAL_SECTIONS: &[&str] = &["Notes"];

/// One `rules/<CODE>-<name>.md`.
struct Doc {
    /// `rules/DB001-missing-field.md`, for messages.
    display: String,
    code: String,
    name: String,
    text: String,
}

fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")
}

/// Every doc, sorted by file name.
fn docs() -> Vec<Doc> {
    let dir = rules_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no rule docs in {}", dir.display());
    paths
        .into_iter()
        .map(|path| {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("UTF-8 file name")
                .to_string();
            let (code, name) = stem.split_once('-').unwrap_or_else(|| {
                panic!("rules/{stem}.md: the file name is not <CODE>-<name>.md")
            });
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            Doc {
                display: format!("rules/{stem}.md"),
                code: code.to_string(),
                name: name.to_string(),
                text,
            }
        })
        .collect()
}

/// Whether `line` opens or closes a code fence, and with how many backticks.
fn fence(line: &str) -> Option<usize> {
    let n = line.chars().take_while(|c| *c == '`').count();
    (n >= 3).then_some(n)
}

/// The level-2 headings of a doc (outside code blocks), with the line each
/// section's body starts at.
fn headings(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut open: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(n) = fence(line) {
            match open {
                None => open = Some(n),
                Some(m) if n >= m && line.trim_end().chars().all(|c| c == '`') => open = None,
                Some(_) => {}
            }
            continue;
        }
        if open.is_none() {
            if let Some(title) = line.strip_prefix("## ") {
                out.push((title.trim().to_string(), i + 1));
            }
        }
    }
    out
}

/// The body of `## <title>`: the lines up to the next level-2 heading.
fn section<'a>(text: &'a str, title: &str) -> Option<Vec<&'a str>> {
    let heads = headings(text);
    let pos = heads.iter().position(|(t, _)| t == title)?;
    let start = heads[pos].1;
    let end = heads
        .get(pos + 1)
        .map(|(_, line)| line - 1)
        .unwrap_or(usize::MAX);
    Some(
        text.lines()
            .enumerate()
            .filter(|(i, _)| *i >= start && *i < end)
            .map(|(_, l)| l)
            .collect(),
    )
}

/// A file of an example tree.
struct Block {
    path: String,
    content: String,
}

/// The code blocks of a section; each must be ```` ```nix file=<relative path> ````
/// (or ```` ```yaml file=... ```` for a non-Nix file of the tree, such as the
/// SOPS secrets file).
fn blocks(lines: &[&str]) -> Result<Vec<Block>, String> {
    let mut out: Vec<Block> = Vec::new();
    let mut iter = lines.iter();
    while let Some(line) = iter.next() {
        let Some(ticks) = fence(line) else { continue };
        let info = line[ticks..].trim();
        let path = ["nix file=", "yaml file="]
            .iter()
            .find_map(|prefix| info.strip_prefix(prefix))
            .filter(|p| !p.is_empty() && !p.contains(char::is_whitespace))
            .ok_or_else(|| {
                format!(
                    "a code block has the info string `{info}`, not `nix file=<relative path>` (or `yaml file=...`)"
                )
            })?;
        let relative = Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
        if !relative {
            return Err(format!(
                "`file={path}` is not a plain relative path inside the tree"
            ));
        }
        if out.iter().any(|b| b.path == path) {
            return Err(format!("`file={path}` appears twice"));
        }
        let mut content = String::new();
        let mut closed = false;
        for line in iter.by_ref() {
            if fence(line).is_some_and(|n| n >= ticks) && line.trim_end().chars().all(|c| c == '`')
            {
                closed = true;
                break;
            }
            content.push_str(line);
            content.push('\n');
        }
        if !closed {
            return Err(format!("the code block for `file={path}` is not closed"));
        }
        out.push(Block {
            path: path.to_string(),
            content,
        });
    }
    if out.is_empty() {
        return Err("no ```nix file=...``` code block".to_string());
    }
    Ok(out)
}

/// A fresh, empty directory under the system's temporary directory.
fn fresh_dir(label: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "dbprov-rule-docs-{}-{}-{nanos}-{label}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

fn write_tree(dir: &Path, blocks: &[Block]) {
    for b in blocks {
        let path = dir.join(&b.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
        }
        std::fs::write(&path, &b.content)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}

fn dbprov(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"))
}

/// What `dbprov check --format json` said about one tree.
struct CheckRun {
    exit: Option<i32>,
    stdout: String,
    stderr: String,
    diagnostics: Result<Vec<Value>, String>,
}

impl CheckRun {
    /// The run, for a failure message: exit code, diagnostics, stderr.
    fn describe(&self) -> String {
        let mut s = format!("exit code: {:?}\n", self.exit);
        match &self.diagnostics {
            Ok(d) => {
                let pretty = serde_json::to_string_pretty(d).unwrap_or_default();
                let _ = writeln!(s, "diagnostics:\n{pretty}");
            }
            Err(e) => {
                let _ = writeln!(s, "stdout is not a JSON array ({e}):\n{}", self.stdout);
            }
        }
        if !self.stderr.trim().is_empty() {
            let _ = writeln!(s, "stderr:\n{}", self.stderr);
        }
        s
    }
}

fn check_tree(dir: &Path) -> CheckRun {
    let root = dir.to_str().expect("UTF-8 temporary path");
    let out = dbprov(&["check", "--format", "json", "--root", root]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let diagnostics = serde_json::from_str::<Value>(&stdout)
        .map_err(|e| e.to_string())
        .and_then(|v| match v {
            Value::Array(items) => Ok(items),
            other => Err(format!("got {other}")),
        });
    CheckRun {
        exit: out.status.code(),
        stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        diagnostics,
    }
}

/// Writes a section's tree, checks it, and returns the run (the directory is
/// removed again unless the caller keeps it for a failure).
fn run_section(doc: &Doc, title: &str) -> Result<(CheckRun, PathBuf), String> {
    let lines =
        section(&doc.text, title).ok_or_else(|| format!("there is no `## {title}` section"))?;
    let blocks = blocks(&lines)?;
    let dir = fresh_dir(&format!("{}-{}", doc.code, title.to_lowercase()));
    write_tree(&dir, &blocks);
    Ok((check_tree(&dir), dir))
}

fn codes(diags: &[Value]) -> Vec<&str> {
    diags
        .iter()
        .map(|d| d.get("code").and_then(Value::as_str).unwrap_or("<no code>"))
        .collect()
}

/// Problems with the `## Example` of a doc: it must raise only its own rule.
fn example_problems(doc: &Doc, run: &CheckRun) -> Option<String> {
    let diags = match &run.diagnostics {
        Ok(d) => d,
        Err(_) => return Some("dbprov did not print a JSON array of diagnostics".to_string()),
    };
    if diags.is_empty() {
        return Some(format!(
            "expected at least one {} diagnostic, got none",
            doc.code
        ));
    }
    let foreign: Vec<&str> = codes(diags)
        .into_iter()
        .filter(|c| *c != doc.code)
        .collect();
    if !foreign.is_empty() {
        return Some(format!(
            "expected only {} diagnostics, also got {}",
            doc.code,
            foreign.join(", ")
        ));
    }
    let has_error = diags
        .iter()
        .any(|d| d.get("severity").and_then(Value::as_str) == Some("error"));
    let want_exit = i32::from(has_error);
    if run.exit != Some(want_exit) {
        return Some(format!(
            "expected exit code {want_exit} ({}), got {:?}",
            if has_error {
                "errors found"
            } else {
                "no errors"
            },
            run.exit
        ));
    }
    None
}

/// Problems with the `## Fix` of a doc: nothing to report, exit code 0.
fn fix_problems(run: &CheckRun) -> Option<String> {
    match &run.diagnostics {
        Err(_) => Some("dbprov did not print a JSON array of diagnostics".to_string()),
        Ok(d) if !d.is_empty() => Some(format!(
            "expected no diagnostics, got {}",
            codes(d).join(", ")
        )),
        Ok(_) if run.exit != Some(0) => Some(format!("expected exit code 0, got {:?}", run.exit)),
        Ok(_) => None,
    }
}

#[test]
fn examples_raise_their_rule_and_fixes_are_clean() {
    let mut failures = Vec::new();
    for doc in docs() {
        for title in ["Example", "Fix"] {
            let (run, dir) = match run_section(&doc, title) {
                Ok(r) => r,
                Err(e) => {
                    failures.push(format!("{}, section `## {title}`: {e}", doc.display));
                    continue;
                }
            };
            let problem = if title == "Example" {
                example_problems(&doc, &run)
            } else {
                fix_problems(&run)
            };
            match problem {
                Some(p) => failures.push(format!(
                    "{}, section `## {title}`: {p}\ntree kept at {}\n{}",
                    doc.display,
                    dir.display(),
                    run.describe()
                )),
                None => {
                    let _ = std::fs::remove_dir_all(&dir);
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} rule doc example(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// `dbprov rules --format json`: (code, name, severity) of every rule.
fn listed_rules() -> Vec<(String, String, String)> {
    let out = dbprov(&["rules", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "`dbprov rules --format json` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Vec<Value> = serde_json::from_slice(&out.stdout)
        .expect("`dbprov rules --format json` prints a JSON array");
    list.iter()
        .map(|r| {
            let field = |k: &str| {
                r.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| panic!("rule {r} has no string `{k}`"))
                    .to_string()
            };
            (field("code"), field("name"), field("severity"))
        })
        .collect()
}

#[test]
fn every_rule_has_a_doc_that_explain_prints() {
    let rules = listed_rules();
    assert!(!rules.is_empty(), "`dbprov rules` lists no rule");
    let docs = docs();
    let mut failures = Vec::new();
    for (code, name, _) in &rules {
        let display = format!("rules/{code}-{name}.md");
        let Some(doc) = docs.iter().find(|d| &d.code == code && &d.name == name) else {
            failures.push(format!(
                "rule {code} ({name}) has no doc: {display} is missing"
            ));
            continue;
        };
        for key in [code, name] {
            let out = dbprov(&["explain", key]);
            let printed = String::from_utf8_lossy(&out.stdout);
            if out.status.code() != Some(0) {
                failures.push(format!(
                    "`dbprov explain {key}` exited with {:?}: {}",
                    out.status.code(),
                    String::from_utf8_lossy(&out.stderr)
                ));
            } else if printed.trim_end() != doc.text.trim_end() {
                failures.push(format!(
                    "`dbprov explain {key}` does not print {display}; it printed:\n{printed}"
                ));
            }
        }
    }
    for doc in &docs {
        if !rules
            .iter()
            .any(|(c, n, _)| *c == doc.code && *n == doc.name)
        {
            failures.push(format!(
                "{} documents no rule that `dbprov rules` lists (code {}, name {})",
                doc.display, doc.code, doc.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn rule_docs_have_the_documented_structure() {
    let rules = listed_rules();
    let mut failures = Vec::new();
    for doc in docs() {
        let mut problems = Vec::new();
        let mut lines = doc.text.lines().filter(|l| !l.trim().is_empty());
        let title = format!("# {} {}", doc.code, doc.name);
        if lines.next() != Some(title.as_str()) {
            problems.push(format!("the first line must be `{title}`"));
        }
        match rules.iter().find(|(c, _, _)| *c == doc.code) {
            Some((_, _, severity)) => {
                let want = format!("Default severity: {severity}");
                if lines.next() != Some(want.as_str()) {
                    problems.push(format!("the line after the title must be `{want}`"));
                }
            }
            None => problems.push(format!("{} is not a listed rule", doc.code)),
        }
        let titles: Vec<String> = headings(&doc.text).into_iter().map(|(t, _)| t).collect();
        let required: Vec<String> = SECTIONS.iter().map(|s| s.to_string()).collect();
        let optional_ok = titles.len() >= required.len()
            && titles[required.len()..]
                .iter()
                .all(|t| OPTIONAL_SECTIONS.contains(&t.as_str()));
        if titles.get(..required.len()) != Some(&required[..]) || !optional_ok {
            problems.push(format!(
                "the sections must be {} (then optionally {}), found {titles:?}",
                SECTIONS.join(", "),
                OPTIONAL_SECTIONS.join(", ")
            ));
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", doc.display, problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
