//! What the fuzz targets share: a small fixed tree written once per process,
//! and the checks every analysis must pass whatever the input.
//!
//! The fuzzed content always replaces `modules/server/fuzz.nix` (through the
//! editor-buffer override, as `check --stdin-filename` does), which the tree's
//! entry module imports, so it takes part in the module system.

pub mod known_bugs;
pub mod nix;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use dbprov::analysis::{analyse, Analysis, Override};
use dbprov::render;
use dbprov::report;
use dbprov::rules::Selection;
use dbprov::settings::Settings;
use dbprov::source::Span;

/// The file the fuzzed content replaces.
pub const FUZZ_FILE: &str = "modules/server/fuzz.nix";

/// Which fixed tree the content is analysed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, arbitrary::Arbitrary)]
pub enum Tree {
    /// The contract tree of `fixtures/seed` (immich, authelia, jellyfin) whose
    /// entry module also imports `fuzz.nix`.
    Modules,
    /// The same modules as one host of a flake (`nixosConfigurations`), with a
    /// host configuration declaring PostgreSQL databases and a container:
    /// ensure mode.
    Hosts,
}

const DEFAULT_NIX: &str = r#"{ ... }:
{
  imports = [
    ./settings.nix
    ./media/photo/immich
    ./media/video/jellyfin.nix
    ./auth/authelia.nix
    ./fuzz.nix
  ];
}
"#;

// The seed fixture's own files (the entry module differs: it imports fuzz.nix).
const SETTINGS_NIX: &str = include_str!("../../fixtures/seed/modules/server/settings.nix");
const AUTHELIA_NIX: &str = include_str!("../../fixtures/seed/modules/server/auth/authelia.nix");
const IMMICH_NIX: &str =
    include_str!("../../fixtures/seed/modules/server/media/photo/immich/default.nix");
const JELLYFIN_NIX: &str =
    include_str!("../../fixtures/seed/modules/server/media/video/jellyfin.nix");

const SECRETS_YAML: &str = r#"server:
    authelia:
        db_password: ENC[AES256_GCM,data:cQ==,iv:cQ==,tag:cQ==,type:str]
    immich:
        admin_password: ENC[AES256_GCM,data:cQ==,iv:cQ==,tag:cQ==,type:str]
sops:
    version: 3.8.1
"#;

const SEED_FLAKE: &str = include_str!("../../fixtures/seed/flake.nix");

const HOSTS_FLAKE: &str = r#"{
  description = "fuzz: one host";
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";
  outputs = { self, nixpkgs }: {
    nixosConfigurations.server = nixpkgs.lib.nixosSystem {
      system = "x86_64-linux";
      modules = [
        ./hosts/server/configuration.nix
        ./modules/server
      ];
    };
  };
}
"#;

const HOST_CONFIGURATION_NIX: &str = r#"{ config, lib, pkgs, ... }:
{
  services.postgresql = {
    enable = true;
    package = pkgs.postgresql_16;
    ensureDatabases = [ "grafana" ];
    ensureUsers = [
      {
        name = "grafana";
        ensureDBOwnership = true;
      }
    ];
  };
  containers.wiki = {
    autoStart = true;
    config = {
      services.postgresql.enable = true;
      services.postgresql.ensureDatabases = [ "hedgedoc" ];
      services.postgresql.ensureUsers = [
        { name = "hedgedoc"; ensureDBOwnership = true; }
      ];
    };
  };
  system.stateVersion = "24.11";
}
"#;

fn write_tree(root: &Path, tree: Tree) {
    let mut files: Vec<(&str, &str)> = vec![
        ("modules/server/default.nix", DEFAULT_NIX),
        ("modules/server/settings.nix", SETTINGS_NIX),
        ("modules/server/auth/authelia.nix", AUTHELIA_NIX),
        ("modules/server/media/photo/immich/default.nix", IMMICH_NIX),
        ("modules/server/media/video/jellyfin.nix", JELLYFIN_NIX),
        (FUZZ_FILE, "{ }\n"),
        ("secrets/secrets.yaml", SECRETS_YAML),
    ];
    match tree {
        Tree::Modules => files.push(("flake.nix", SEED_FLAKE)),
        Tree::Hosts => {
            files.push(("flake.nix", HOSTS_FLAKE));
            files.push(("hosts/server/configuration.nix", HOST_CONFIGURATION_NIX));
        }
    }
    for (rel, text) in files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("a file has a parent"))
            .expect("create the fuzz tree");
        std::fs::write(&path, text).expect("write the fuzz tree");
    }
}

/// The root of `tree`, written on first use (one directory per process, so
/// that parallel fuzzing jobs do not share it).
pub fn root(tree: Tree) -> &'static Path {
    static MODULES: OnceLock<PathBuf> = OnceLock::new();
    static HOSTS: OnceLock<PathBuf> = OnceLock::new();
    let (cell, name) = match tree {
        Tree::Modules => (&MODULES, "modules"),
        Tree::Hosts => (&HOSTS, "hosts"),
    };
    cell.get_or_init(|| {
        remove_stale_trees();
        let dir = std::env::temp_dir()
            .join(format!("{TREE_PREFIX}{}", std::process::id()))
            .join(name);
        let _ = std::fs::remove_dir_all(&dir);
        write_tree(&dir, tree);
        dir
    })
}

const TREE_PREFIX: &str = "dbprov-fuzz-";

/// libFuzzer ends the process with `exit`, so a tree outlives its process:
/// the trees of processes that are gone are removed by the next one.
fn remove_stale_trees() {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(TREE_PREFIX)) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Analyses `content` as `modules/server/fuzz.nix` of `tree` and checks what
/// must hold for any input. Panics (a crash for libFuzzer) when it does not.
pub fn check(tree: Tree, content: &[u8]) {
    if known_bugs::known_bug(content).is_some() {
        return;
    }
    let settings = Settings::default();
    let buffer = Override {
        rel_path: FUZZ_FILE.to_string(),
        content: content.to_vec(),
    };
    let analysis = match analyse(root(tree), &settings, Selection::all(), Some(buffer)) {
        Ok(a) => a,
        // The tree is fixed and readable: the only failure left is a panic
        // of the analysis thread.
        Err(e) => panic!("analysis failed: {e}"),
    };
    check_spans(&analysis);
    let report = report::build(&analysis, &settings, &analysis.diagnostics);
    let json = serde_json::to_string_pretty(&report).expect("the report serializes");
    assert!(!json.is_empty());
    render::sql::contract(&report);
    for h in &report.hosts {
        render::sql::host(h);
    }
    let (diags, files) = (&analysis.diagnostics, &analysis.files);
    render::human::render(diags, files, false);
    render::human::summary_line(diags, files.len());
    render::json::render(diags, files);
    render::sarif::render(diags, files);
    render::short::render(diags, files);
    render::github::render(diags, files);
}

/// Every span of every diagnostic lies within its file's text.
fn check_spans(analysis: &Analysis) {
    for d in &analysis.diagnostics {
        let spans = std::iter::once((&d.primary.span, "primary"))
            .chain(d.secondary.iter().map(|l| (&l.span, "secondary")))
            .chain(d.subject.iter().map(|s| (s, "subject")));
        for (span, which) in spans {
            check_span(analysis, span, which, d.code, &d.message);
        }
    }
}

fn check_span(analysis: &Analysis, span: &Span, which: &str, code: &str, message: &str) {
    if span.is_detached() {
        return;
    }
    let Some(file) = analysis.files.get(span.file as usize) else {
        panic!(
            "{code} ({message}): {which} span {span:?} names file {} of {}",
            span.file,
            analysis.files.len()
        );
    };
    let len = file.text.len();
    assert!(
        span.start <= span.end && span.end as usize <= len,
        "{code} ({message}): {which} span {span:?} is outside {} ({len} bytes)",
        file.rel_path
    );
    assert!(
        file.text.is_char_boundary(span.start as usize)
            && file.text.is_char_boundary(span.end as usize),
        "{code} ({message}): {which} span {span:?} splits a character of {}",
        file.rel_path
    );
}
