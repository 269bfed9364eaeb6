//! The cache gives back exactly what parsing produced, and a damaged entry is
//! a miss.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::*;
use crate::parse::{parse_all, Input, ParsedFile};

/// A directory of its own under the system's temporary one, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("dbprov-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a scratch directory");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How many entries the cache in `dir` holds.
fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|d| d.path().is_dir())
        .map(|d| std::fs::read_dir(d.path()).into_iter().flatten().count())
        .sum()
}

const MODULE: &str = r#"{ config, lib, ... }:
# dbprov: ignore DB010
let cfg = config.services.app; in {
  options.services.app.enable = lib.mkEnableOption "app";
  config = lib.mkIf cfg.enable {
    services.app.password = "hunter2";  # dbprov: ignore-file DB011
    services.app.url = "postgresql://app:secret@db/app";
    services.app.text = ''
      indented ${cfg.name} "quoted" \n
    '';
    databases = [ { type = "postgresql"; name = "app"; user = "app"; } ];
    path = ./data/${cfg.name};
  };
}
"#;

fn parse_file(dir: &Scratch, cache: Option<&Cache>, name: &str, text: &str) -> ParsedFile {
    let path = dir.0.join(name);
    std::fs::write(&path, text).expect("write the module");
    let input = Input {
        rel_path: name.to_string(),
        abs_path: path,
        content: None,
    };
    parse_all(vec![input], cache).pop().expect("one file")
}

/// Everything a parse produced, as comparable text (the tree as its encoding).
fn summary(p: &ParsedFile) -> String {
    let mut tree = Vec::new();
    if let Some(ast) = &p.syntax {
        ast.encode(&mut tree);
    }
    let suppressions: Vec<_> = p
        .suppressions
        .iter()
        .map(|s| {
            let selectors: Vec<_> = s.selectors.iter().map(|x| (&x.text, x.span)).collect();
            format!(
                "{} {} {} {} {selectors:?}",
                s.file, s.line, s.standalone, s.file_level
            )
        })
        .collect();
    format!(
        "{:?}\n{suppressions:?}\n{:?}\n{tree:?}",
        p.errors
            .iter()
            .map(|e| (e.span, &e.message))
            .collect::<Vec<_>>(),
        p.literal_secrets
    )
}

#[test]
fn a_cached_file_reads_back_as_it_parsed() {
    let scratch = Scratch::new("roundtrip");
    let cache = Cache::at(scratch.0.join("cache"));
    let cold = parse_file(&scratch, Some(&cache), "m.nix", MODULE);
    assert_eq!(entries(&scratch.0.join("cache")), 1);
    assert!(cold.syntax.is_some() && cold.literal_secrets.len() == 2);
    assert_eq!(cold.suppressions.len(), 2);
    let warm = parse_file(&scratch, Some(&cache), "m.nix", MODULE);
    let uncached = parse_file(&scratch, None, "m.nix", MODULE);
    assert_eq!(summary(&warm), summary(&cold));
    assert_eq!(summary(&uncached), summary(&cold));
    // A file with syntax errors is cached too, errors and all.
    let broken = "{ a = ; }";
    let cold = parse_file(&scratch, Some(&cache), "b.nix", broken);
    let warm = parse_file(&scratch, Some(&cache), "b.nix", broken);
    assert!(!cold.errors.is_empty());
    assert_eq!(summary(&warm), summary(&cold));
}

#[test]
fn a_changed_file_is_parsed_again() {
    let scratch = Scratch::new("changed");
    let cache = Cache::at(scratch.0.join("cache"));
    parse_file(&scratch, Some(&cache), "m.nix", "{ a = 1; }");
    let changed = parse_file(&scratch, Some(&cache), "m.nix", "{ a = 1; b = ; }");
    assert!(
        !changed.errors.is_empty(),
        "the new content's error is found"
    );
    assert_eq!(entries(&scratch.0.join("cache")), 2);
}

#[test]
fn a_damaged_entry_is_a_miss() {
    let text: Arc<str> = Arc::from(MODULE);
    let key = Cache::key(text.as_bytes());
    let scratch = Scratch::new("damaged");
    let cache = Cache::at(scratch.0.join("cache"));
    parse_file(&scratch, Some(&cache), "m.nix", MODULE);
    let path = cache.path(key);
    let good = std::fs::read(&path).expect("the entry was written");
    assert!(decode(&good, key, 0, &text).is_some());
    // Truncated, a flipped byte, another key, another format: all misses.
    assert!(decode(&good[..good.len() - 3], key, 0, &text).is_none());
    let mut flipped = good.clone();
    let last = flipped.len() - 10;
    flipped[last] ^= 0x40;
    assert!(decode(&flipped, key, 0, &text).is_none());
    assert!(decode(&good, Key(key.0, key.1 ^ 1), 0, &text).is_none());
    assert!(decode(b"not a cache entry", key, 0, &text).is_none());
    std::fs::write(&path, &flipped).expect("damage the entry");
    let reparsed = parse_file(&scratch, Some(&cache), "m.nix", MODULE);
    assert_eq!(
        summary(&reparsed),
        summary(&parse_file(&scratch, None, "m.nix", MODULE))
    );
}

#[test]
fn a_forged_tree_cannot_crash_the_evaluator() {
    // A well-formed entry whose nodes point anywhere: every accessor is total.
    let text: Arc<str> = Arc::from("{ a = [ 1 2 ]; b = x: x; }");
    let ast = crate::syntax::parse(0, &text).expect("parses");
    let mut tree = Vec::new();
    ast.encode(&mut tree);
    let node_count = u32::from_le_bytes(tree[..4].try_into().unwrap()) as usize;
    for seed in 0..200u32 {
        let mut forged = tree.clone();
        // Overwrite one field of one node with a wild value.
        let node = (seed as usize * 7) % node_count;
        let field = 1 + (seed as usize % 5) * 4;
        let at = 4 + node * 21 + field;
        let wild = [u32::MAX, u32::MAX - 1, 1 << 30, seed, 0][seed as usize % 5];
        forged[at..at + 4].copy_from_slice(&wild.to_le_bytes());
        let Some((forged, _)) = FileAst::decode(&forged, 0, text.clone()) else {
            continue;
        };
        let ev = crate::eval::Evaluator::new(vec![PathBuf::from("/")], Default::default());
        let root = forged.root();
        ev.add_syntax(std::rc::Rc::new(forged));
        if let Some(root) = root {
            let env = ev.file_env(0);
            let v = ev.eval_whnf(root, &env);
            if let crate::eval::V::Attrs(a) = &v.v {
                for attr in a.map.values() {
                    let _ = ev.force(&attr.value);
                }
            }
        }
    }
}

/// Sets a file's modification time to `age` before `now`.
fn age(path: &Path, now: std::time::SystemTime, age: std::time::Duration) {
    let f = std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open to set its time");
    f.set_modified(now - age)
        .expect("set the modification time");
}

/// The entry files under `dir`, by path.
fn entry_paths(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|d| d.path().is_dir())
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

#[test]
fn the_daily_sweep_removes_old_entries_only() {
    let dir = Scratch::new("sweep");
    let cache = Cache::at(dir.0.join("cache"));
    parse_file(&dir, Some(&cache), "a.nix", MODULE);
    parse_file(&dir, Some(&cache), "b.nix", "{ x = 1; }");
    let paths = entry_paths(cache.dir());
    assert_eq!(paths.len(), 2);
    let now = std::time::SystemTime::now();
    let day = std::time::Duration::from_secs(24 * 3600);
    age(&paths[0], now, MAX_AGE + day);
    age(&paths[1], now, MAX_AGE - day);
    // A temporary file a killed run left behind.
    let tmp = paths[1].parent().unwrap().join(".tmp-1-ThreadId(1)");
    std::fs::write(&tmp, b"partial").unwrap();
    age(&tmp, now, 2 * day);
    // Something that is not the cache's: never touched.
    let foreign = dir.0.join("cache").join("notes.txt");
    std::fs::write(&foreign, b"mine").unwrap();

    cache.sweep_if_due(now);
    assert_eq!(entry_paths(cache.dir()), vec![paths[1].clone()]);
    assert!(foreign.exists());
    // The next sweep is a day away: an entry turning old meanwhile stays.
    age(&paths[1], now, MAX_AGE + day);
    cache.sweep_if_due(now + std::time::Duration::from_secs(3600));
    assert_eq!(entry_paths(cache.dir()).len(), 1);
    cache.sweep_if_due(now + day + std::time::Duration::from_secs(60));
    assert!(entry_paths(cache.dir()).is_empty());
    assert!(foreign.exists());
}

#[test]
fn clean_removes_the_entries_and_nothing_else() {
    let dir = Scratch::new("clean");
    let cache = Cache::at(dir.0.join("cache"));
    parse_file(&dir, Some(&cache), "a.nix", MODULE);
    parse_file(&dir, Some(&cache), "b.nix", "{ x = 1; }");
    let cleaned = cache.clean();
    assert_eq!(cleaned.files, 2);
    assert!(cleaned.bytes > 0);
    assert!(!cache.dir().exists());

    // A directory holding other files keeps them, and itself.
    parse_file(&dir, Some(&cache), "a.nix", MODULE);
    let foreign = cache.dir().join("ab");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("README"), b"not an entry").unwrap();
    assert_eq!(cache.clean().files, 1);
    assert!(foreign.join("README").exists());
    assert_eq!(cache.clean(), Cleaned::default());
}
