//! What the tests that run real Nix share: a private `nix-instantiate` (no
//! daemon, no store, no user configuration, no `NIX_PATH`), temporary
//! directories, and the switch that skips them.
#![allow(dead_code)] // each test binary uses its own part of this module

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const NIX: &str = "nix-instantiate";

/// `DBPROV_SKIP_NIX=1` skips the tests that need Nix.
pub fn skip(test: &str) -> bool {
    if std::env::var_os("DBPROV_SKIP_NIX").is_some_and(|v| v == "1") {
        eprintln!("{test}: skipped (DBPROV_SKIP_NIX=1)");
        return true;
    }
    false
}

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(what: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dbprov-{what}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `nix-instantiate --store dummy://` whose state, configuration and cache
/// live under `dir` (created here).
pub fn private_nix(dir: &Path) -> Command {
    for sub in ["state", "conf", "cache"] {
        std::fs::create_dir_all(dir.join(sub)).expect("create a directory for Nix");
    }
    let mut cmd = Command::new(NIX);
    cmd.args(["--store", "dummy://"])
        .env("NIX_STATE_DIR", dir.join("state"))
        .env("NIX_CONF_DIR", dir.join("conf"))
        .env("NIX_USER_CONF_FILES", dir.join("conf/none.conf"))
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("NIX_PATH", "")
        .env_remove("NIX_REMOTE")
        .stdin(Stdio::null());
    cmd
}

/// Runs the private `nix-instantiate ARGS` in the repository; `who` names
/// the test in the message when Nix is missing.
pub fn nix(args: &[&str], who: &str) -> Output {
    let tmp = TempDir::new("nix");
    match private_nix(&tmp.0).args(args).current_dir(repo()).output() {
        Ok(out) => out,
        Err(e) => panic!(
            "`{NIX}` cannot be run ({e}). {who} needs real Nix: install Debian's nix-bin \
             (`apt-get install -y nix-bin`), or set DBPROV_SKIP_NIX=1 to skip it."
        ),
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
