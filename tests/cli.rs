//! Command-line behaviour: configuration errors, exit codes, rule selection,
//! suppression comments, and the README's rules table.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dbprov(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dbprov"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("dbprov runs")
}

/// A fresh copy of `fixtures/seed` to modify.
fn seed_copy(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dbprov-cli-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    copy(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed"),
        &dir,
    );
    dir
}

fn copy(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("read fixture") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            if e.file_name() != "expected" {
                copy(&e.path(), &target);
            }
        } else {
            fs::copy(e.path(), target).expect("copy");
        }
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn misspelt_config_key_exits_2_naming_the_nearest_key() {
    let root = seed_copy("misspelt");
    fs::write(
        root.join("dbprov.toml"),
        "# settings\nservce-path = \"qgroget.server\"\n",
    )
    .expect("write");
    let out = dbprov(&["check", "--root", root.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("unknown key `servce-path`"), "{err}");
    assert!(err.contains("did you mean `service-path`?"), "{err}");
    // The report points into the TOML: line 2, column 1.
    assert!(err.contains("dbprov.toml:2:1"), "{err}");
    let plan = dbprov(&["plan", "--root", root.to_str().expect("utf-8")]);
    assert_eq!(plan.status.code(), Some(2));
}

#[test]
fn unknown_rule_on_the_command_line_exits_2() {
    let out = dbprov(&["check", "--root", "fixtures/seed", "--select", "DB9999"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown rule `DB9999`"));
}

#[test]
fn missing_root_exits_2() {
    let out = dbprov(&["check", "--root", "/nonexistent/dbprov-root"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a directory"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn select_ignore_and_severity_overrides() {
    let root = seed_copy("select");
    let f = root.join("modules/server/media/photo/immich/default.nix");
    let text = fs::read_to_string(&f).expect("read");
    fs::write(
        &f,
        text.replace("name = \"immich\"; user", "name = \"imm-ich\"; user"),
    )
    .expect("write");
    let r = root.to_str().expect("utf-8");
    let codes = |args: &[&str]| -> Vec<String> {
        let out = dbprov(&[&["check", "--format", "json", "--root", r][..], args].concat());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        v.as_array()
            .expect("array")
            .iter()
            .map(|d| d["code"].as_str().expect("code").to_string())
            .collect()
    };
    // DB015 (info) is the seed's Redis database, which PostgreSQL does not provision.
    assert_eq!(codes(&[]), vec!["DB003", "DB015"]);
    assert_eq!(codes(&["--ignore", "invalid-name"]), vec!["DB015"]);
    assert_eq!(codes(&["--select", "DB01"]), vec!["DB015"]);
    assert_eq!(codes(&["--select", "DB00"]), vec!["DB003"]);
    // A severity override from dbprov.toml: the error becomes a warning and check passes.
    fs::write(
        root.join("dbprov.toml"),
        "[rules.severity]\nDB003 = \"warning\"\n",
    )
    .expect("write");
    let out = dbprov(&["check", "--format", "json", "--root", r]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v[0]["severity"], "warning");
    let denied = dbprov(&["check", "--format", "json", "--deny-warnings", "--root", r]);
    assert_eq!(denied.status.code(), Some(1));
}

#[test]
fn suppression_comments_and_unused_ones() {
    let root = seed_copy("suppress");
    let f = root.join("modules/server/media/photo/immich/default.nix");
    let text = fs::read_to_string(&f).expect("read");
    let broken = text.replace(
        "{ type = \"postgresql\"; name = \"immich\"; user = \"immich\"; }",
        "# dbprov: ignore invalid-name\n        { type = \"postgresql\"; name = \"imm-ich\"; user = \"immich\"; } # dbprov: ignore DB005",
    );
    assert_ne!(broken, text);
    fs::write(&f, broken).expect("write");
    let out = dbprov(&[
        "check",
        "--format",
        "json",
        "--root",
        root.to_str().expect("utf-8"),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    // DB015 (info) is the seed's Redis database, not what this test is about.
    let diags: Vec<&serde_json::Value> = v
        .as_array()
        .expect("array")
        .iter()
        .filter(|d| d["code"] != "DB015")
        .collect();
    // DB003 is suppressed by the comment on the line before; the DB005 one is unused.
    assert_eq!(diags.len(), 1, "{v:#}");
    assert_eq!(diags[0]["code"], "DB026");
    assert_eq!(diags[0]["line"], 18);
    assert_eq!(out.status.code(), Some(0));
}

/// README's rules table lists exactly what `dbprov rules` lists.
#[test]
fn readme_rules_table_matches_dbprov_rules() {
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    // The table of the "## Rules" section (other tables mention rules too).
    let section = readme
        .split("\n## Rules\n")
        .nth(1)
        .expect("README has a Rules section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let rows: Vec<(String, String, String, String)> = section
        .lines()
        .filter(|l| l.starts_with("| DB"))
        .map(|l| {
            let cells: Vec<String> = l
                .trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect();
            (
                cells[0].clone(),
                cells[1].clone(),
                cells[2].clone(),
                cells[3].clone(),
            )
        })
        .collect();
    let out = dbprov(&["rules", "--format", "json"]);
    let rules: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let expected: Vec<(String, String, String, String)> = rules
        .as_array()
        .expect("array")
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().expect("string").to_string();
            (s("code"), s("name"), s("severity"), s("summary"))
        })
        .collect();
    assert_eq!(
        rows, expected,
        "README.md's rules table differs from `dbprov rules`"
    );
}

#[test]
fn check_fills_the_cache_and_clean_empties_it() {
    let root = seed_copy("clean");
    let cache = root.with_extension("cache");
    let _ = fs::remove_dir_all(&cache);
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_dbprov"))
            .args(args)
            .env("NO_COLOR", "1")
            .env("DBPROV_CACHE_DIR", &cache)
            .output()
            .expect("dbprov runs")
    };
    let root_arg = root.to_str().expect("utf-8");
    let first = run(&["check", "--root", root_arg]);
    assert!(cache.join("last-sweep").exists(), "{}", stderr(&first));
    let second = run(&["check", "--root", root_arg]);
    assert_eq!(first.status.code(), second.status.code());
    assert_eq!(stderr(&first), stderr(&second));
    let out = run(&["clean"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.starts_with("removed "), "{said}");
    assert!(!said.starts_with("removed 0 "), "{said}");
    assert!(!cache.exists(), "{said}");
    let _ = fs::remove_dir_all(&root);
}
