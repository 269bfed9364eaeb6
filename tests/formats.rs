//! Output formats: SARIF against the SARIF 2.1.0 schema, GitHub annotations,
//! and the README's editor snippets (VS Code problem matcher, errorformat for
//! nvim-lint and efm-langserver) on real `short` output.

use std::path::Path;
use std::process::Command;

use regex::Regex;

fn dbprov(args: &[&str]) -> (String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_dbprov"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("dbprov runs");
    (
        String::from_utf8(out.stdout).expect("utf-8"),
        out.status.code().unwrap_or(-1),
    )
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README")
}

/// Trees with errors, warnings and infos, in several files.
const TREES: &[&str] = &[
    "fixtures/db001-missing-field",
    "fixtures/disabled-service-errors",
    "fixtures/db005-duplicate-database",
];

#[test]
fn sarif_is_valid_sarif_2_1_0() {
    let schema_text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schema/sarif-schema-2.1.0.json"),
    )
    .expect("schema");
    let schema: serde_json::Value = serde_json::from_str(&schema_text).expect("schema is JSON");
    let validator = jsonschema::draft4::new(&schema).expect("a valid draft-04 schema");
    for tree in TREES {
        let (out, code) = dbprov(&["check", "--format", "sarif", "--root", tree]);
        assert!(code == 0 || code == 1, "{tree}: exit {code}");
        let log: serde_json::Value = serde_json::from_str(&out).expect("SARIF is JSON");
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{tree}: SARIF does not validate:\n{}",
            errors.join("\n")
        );
        let run = &log["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        let (catalogue, _) = dbprov(&["rules", "--format", "json"]);
        let catalogue: serde_json::Value = serde_json::from_str(&catalogue).expect("json");
        assert_eq!(
            rules.len(),
            catalogue.as_array().expect("array").len(),
            "every rule is in the catalogue"
        );
        let results = run["results"].as_array().expect("results");
        assert!(!results.is_empty(), "{tree}: no results");
        for r in results {
            let id = r["ruleId"].as_str().expect("ruleId");
            let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
            assert_eq!(rules[index]["id"], id, "ruleIndex points at the rule");
        }
    }
}

#[test]
fn github_annotations_are_workflow_commands() {
    let (out, code) = dbprov(&[
        "check",
        "--format",
        "github",
        "--root",
        "fixtures/db001-missing-field",
    ]);
    assert_eq!(code, 1);
    let line = Regex::new(r"^::(error|warning|notice) file=[^,]+,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,title=DB\d{3} [a-z-]+::[^\r\n]+$")
        .expect("regex");
    assert!(!out.is_empty());
    for l in out.lines() {
        assert!(line.is_match(l), "not a workflow command: {l}");
    }
    assert!(
        out.starts_with("::error file=modules/server/auth/authelia.nix,line=17,col=9,"),
        "{out}"
    );
}

/// `short` lines of trees with every severity.
fn short_lines() -> Vec<String> {
    let mut lines = Vec::new();
    for tree in TREES {
        let (out, _) = dbprov(&["check", "--format", "short", "--root", tree]);
        lines.extend(out.lines().map(str::to_string));
    }
    assert!(lines.iter().any(|l| l.contains(": error[")));
    assert!(lines.iter().any(|l| l.contains(": warning[")));
    assert!(lines.iter().any(|l| l.contains(": info[")));
    lines
}

/// What every short line must yield: file, line, column, severity, code, message.
fn expected_parts(l: &str) -> (String, u32, u32, String, String, String) {
    let (pos, rest) = l.split_once(": ").expect("position");
    let mut p = pos.rsplitn(3, ':');
    let col = p.next().expect("col").parse().expect("col number");
    let line = p.next().expect("line").parse().expect("line number");
    let file = p.next().expect("file").to_string();
    let (sev, rest) = rest.split_once('[').expect("severity");
    let (code, message) = rest.split_once("] ").expect("code");
    (
        file,
        line,
        col,
        sev.to_string(),
        code.to_string(),
        message.to_string(),
    )
}

#[test]
fn vscode_problem_matcher_reads_short_output() {
    let readme = readme();
    let start = readme
        .find("\"problemMatcher\"")
        .expect("README has the VS Code problem matcher");
    let json_start = readme[..start].rfind("```json").expect("in a json block") + "```json".len();
    let json_end = json_start + readme[json_start..].find("```").expect("block end");
    let task: serde_json::Value =
        serde_json::from_str(&readme[json_start..json_end]).expect("the snippet is JSON");
    let pattern = &task["tasks"][0]["problemMatcher"]["pattern"];
    let re = Regex::new(pattern["regexp"].as_str().expect("regexp")).expect("a valid regex");
    let group = |name: &str| pattern[name].as_u64().expect("group index") as usize;
    for l in short_lines() {
        let caps = re
            .captures(&l)
            .unwrap_or_else(|| panic!("the problem matcher misses: {l}"));
        let (file, line, col, sev, code, message) = expected_parts(&l);
        assert_eq!(&caps[group("file")], file);
        assert_eq!(caps[group("line")].parse::<u32>().expect("line"), line);
        assert_eq!(caps[group("column")].parse::<u32>().expect("col"), col);
        assert_eq!(&caps[group("severity")], sev);
        assert_eq!(&caps[group("code")], code);
        assert_eq!(&caps[group("message")], message);
    }
}

/// Vim's errorformat items used in the README, as regexes: `%f` file, `%l`
/// line, `%c` column, `%t` one character of type, `%*[^]]` a skipped run,
/// `%m` the message.
fn errorformat_regex(format: &str) -> Regex {
    let mut re = String::from("^");
    let mut rest = format;
    while !rest.is_empty() {
        let (token, consumed) = if let Some(r) = rest.strip_prefix("%f") {
            ("(?P<f>.+?)".to_string(), rest.len() - r.len())
        } else if let Some(r) = rest.strip_prefix("%l") {
            ("(?P<l>\\d+)".to_string(), rest.len() - r.len())
        } else if let Some(r) = rest.strip_prefix("%c") {
            ("(?P<c>\\d+)".to_string(), rest.len() - r.len())
        } else if let Some(r) = rest.strip_prefix("%t") {
            ("(?P<t>[A-Za-z])".to_string(), rest.len() - r.len())
        } else if let Some(r) = rest.strip_prefix("%*[^]]") {
            ("[^\\]]*".to_string(), rest.len() - r.len())
        } else if let Some(r) = rest.strip_prefix("%m") {
            ("(?P<m>.*)".to_string(), rest.len() - r.len())
        } else {
            let c = rest.chars().next().expect("non-empty");
            assert!(c != '%', "unsupported errorformat item in {format}");
            (regex::escape(&c.to_string()), c.len_utf8())
        };
        re.push_str(&token);
        rest = &rest[consumed..];
    }
    re.push('$');
    Regex::new(&re).expect("errorformat as regex")
}

fn check_errorformats(formats: &[String], what: &str) {
    let regexes: Vec<Regex> = formats.iter().map(|f| errorformat_regex(f)).collect();
    for l in short_lines() {
        let (file, line, col, sev, _, message) = expected_parts(&l);
        let caps = regexes
            .iter()
            .find_map(|r| r.captures(&l))
            .unwrap_or_else(|| panic!("{what}: no errorformat matches: {l}"));
        assert_eq!(&caps["f"], file);
        assert_eq!(caps["l"].parse::<u32>().expect("line"), line);
        assert_eq!(caps["c"].parse::<u32>().expect("col"), col);
        assert_eq!(
            caps["t"].to_ascii_lowercase(),
            sev[..1].to_string(),
            "{what}: type of {l}"
        );
        assert!(message.ends_with(&caps["m"]), "{what}: message of {l}");
    }
}

#[test]
fn nvim_lint_errorformat_reads_short_output() {
    let readme = readme();
    let at = readme
        .find("from_errorformat('")
        .expect("README has the nvim-lint snippet")
        + "from_errorformat('".len();
    let end = at + readme[at..].find("')").expect("end of the errorformat");
    let formats: Vec<String> = readme[at..end].split(',').map(str::to_string).collect();
    assert_eq!(formats.len(), 3);
    check_errorformats(&formats, "nvim-lint");
}

#[test]
fn efm_langserver_formats_read_short_output() {
    let readme = readme();
    let at = readme
        .find("lint-formats:")
        .expect("README has the efm-langserver snippet");
    let formats: Vec<String> = readme[at..]
        .lines()
        .skip(1)
        .take_while(|l| l.trim_start().starts_with("- '"))
        .map(|l| {
            l.trim()
                .trim_start_matches("- '")
                .trim_end_matches('\'')
                .to_string()
        })
        .collect();
    assert_eq!(formats.len(), 3);
    check_errorformats(&formats, "efm-langserver");
}

#[test]
fn editor_check_of_an_unsaved_buffer() {
    // The buffer replaces the file on disk; only diagnostics are printed.
    let broken = "{ ... }:\n{\n  qgroget.server.immich.databases = [ { type = \"postgresql\"; name = \"immich\"; } ];\n}\n";
    let mut child = Command::new(env!("CARGO_BIN_EXE_dbprov"))
        .args([
            "check",
            "--format",
            "short",
            "--root",
            "fixtures/seed",
            "--stdin-filename",
            "fixtures/seed/modules/server/media/photo/immich/default.nix",
            "fixtures/seed/modules/server/media/photo/immich/default.nix",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("dbprov runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(broken.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("dbprov ends");
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_eq!(
        stdout,
        "modules/server/media/photo/immich/default.nix:3:39: error[DB001] Service 'immich' declares database with missing required field 'user'\n"
    );
    assert!(
        out.stderr.is_empty(),
        "nothing but diagnostics: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
