//! End-to-end test of the pre-commit hook (`.pre-commit-hooks.yaml`) with the
//! real client.
//!
//! In a temporary directory the test
//!
//! 1. creates a Python virtual environment (`python3 -m venv`) and installs
//!    `pre-commit` from PyPI into it;
//! 2. snapshots this repository's working tree (tracked and untracked,
//!    not ignored files, so an uncommitted `.pre-commit-hooks.yaml` or source
//!    change is tested too) into a git repository of its own with one commit —
//!    `pre-commit try-repo` on the checkout itself would see only committed
//!    files plus changes to tracked ones;
//! 3. for a fixture tree, creates a throwaway git repository holding a copy of
//!    it, commits, and runs `pre-commit try-repo <snapshot> dbprov --all-files`
//!    there: `fixtures/db001-missing-field` must fail and show `DB001`,
//!    `fixtures/seed` must pass. Then, without `--all-files`, a change staged
//!    in the invalid tree's offending file alone must fail too (pre-commit
//!    passes just that file as PATHS).
//!
//! `try-repo` installs the hook into a fresh store of its own on every run (it
//! does not use `PRE_COMMIT_HOME`'s cache), so each run builds it
//! (`cargo install --path .` in its clone of the snapshot). The runs share one
//! `CARGO_TARGET_DIR`, so the dependencies are compiled once — the first run
//! takes a few minutes, later ones rebuild only dbprov itself.
//! `PRE_COMMIT_HOME` points into the temporary directory all the same, leaving
//! the user's cache alone. Every command has a deadline; on expiry its whole
//! process group is killed and the test fails.
//!
//! Needs `python3` (with the `venv` module), `git`, `cargo`, and PyPI and
//! crates.io reachable. `DBPROV_SKIP_PRE_COMMIT=1` skips the test.

#![cfg(unix)]

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SKIP_VAR: &str = "DBPROV_SKIP_PRE_COMMIT";

/// Environment variables that would point git or pre-commit elsewhere when the
/// tests themselves run inside a git hook or a customised shell.
const CLEARED_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "PRE_COMMIT",
    "PRE_COMMIT_CONFIG",
    "PRE_COMMIT_COLOR",
    "PRE_COMMIT_ALLOW_NO_CONFIG",
    "SKIP",
    // The hook's `cargo install` builds in the test's own target directory
    // (`Env::command`), never in one the running `cargo test` may hold locked.
    "CARGO_BUILD_TARGET_DIR",
    "VIRTUAL_ENV",
];

const VENV_TIMEOUT: Duration = Duration::from_secs(180);
const PIP_TIMEOUT: Duration = Duration::from_secs(600);
const GIT_TIMEOUT: Duration = Duration::from_secs(120);
/// The first run builds dbprov in release mode.
const FIRST_RUN_TIMEOUT: Duration = Duration::from_secs(1800);
const RUN_TIMEOUT: Duration = Duration::from_secs(600);

/// Prints a line that `cargo test`'s output capture does not swallow.
fn report(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// A temporary directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("dbprov-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// How a command ended: its exit code (`None`: killed by a signal) and its
/// standard output and error, interleaved.
struct Ran {
    code: Option<i32>,
    output: String,
}

impl Ran {
    fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// The environment shared by every command the test runs.
struct Env {
    tmp: PathBuf,
    gitconfig: PathBuf,
    pre_commit_home: PathBuf,
    cargo_target: PathBuf,
    counter: std::cell::Cell<usize>,
}

impl Env {
    fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        for var in CLEARED_ENV {
            cmd.env_remove(var);
        }
        cmd.env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", &self.gitconfig)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("PRE_COMMIT_HOME", &self.pre_commit_home)
            .env("CARGO_TARGET_DIR", &self.cargo_target)
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env("PIP_NO_INPUT", "1")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `cmd` with a deadline. Its output goes to a file (no pipe to fill
    /// up while we wait); on expiry the process group is killed. `Err` when it
    /// cannot be started.
    fn run(&self, mut cmd: Command, timeout: Duration) -> std::io::Result<Ran> {
        let n = self.counter.get() + 1;
        self.counter.set(n);
        let log = self.tmp.join(format!("cmd-{n}.log"));
        let out = File::create(&log)?;
        let err = out.try_clone()?;
        // Its own process group, so that a timeout also stops what it spawned
        // (pip, git, cargo, rustc).
        cmd.stdout(out).stderr(err).process_group(0);
        let mut child = cmd.spawn()?;
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break Some(status);
            }
            if Instant::now() >= deadline {
                let _ = Command::new("kill")
                    .args(["-s", "KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let mut output = String::from_utf8_lossy(&fs::read(&log)?).into_owned();
        let _ = fs::remove_file(&log);
        match status {
            Some(status) => Ok(Ran {
                code: status.code(),
                output,
            }),
            None => {
                output.push_str(&format!(
                    "\n[killed: still running after {}s]",
                    timeout.as_secs()
                ));
                Ok(Ran { code: None, output })
            }
        }
    }

    /// Runs a git command that must succeed.
    fn git(&self, dir: &Path, args: &[&str]) -> String {
        let mut cmd = self.command("git");
        cmd.arg("-C").arg(dir).args(args);
        let ran = self.run(cmd, GIT_TIMEOUT).unwrap_or_else(|e| {
            panic!("cannot run `git` ({e}); this test needs git, or set {SKIP_VAR}=1 to skip it")
        });
        assert!(
            ran.success(),
            "`git {}` in {} failed (exit {:?}):\n{}",
            args.join(" "),
            dir.display(),
            ran.code,
            ran.output
        );
        ran.output
    }

    /// `git init` in `dir`, then commit everything in it.
    fn commit_all(&self, dir: &Path) {
        self.git(dir, &["init", "-q"]);
        self.git(dir, &["config", "user.name", "dbprov test"]);
        self.git(
            dir,
            &["config", "user.email", "dbprov-test@example.invalid"],
        );
        self.git(dir, &["add", "-A"]);
        self.git(
            dir,
            &[
                "commit",
                "-q",
                "--no-verify",
                "--no-gpg-sign",
                "-m",
                "snapshot",
            ],
        );
    }
}

/// Copies the directory tree `from` to `to`, leaving out the top-level names
/// in `skip`.
fn copy_tree(from: &Path, to: &Path, skip: &[&str]) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("creating {}: {e}", to.display()));
    let entries = fs::read_dir(from).unwrap_or_else(|e| panic!("reading {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.expect("directory entry");
        let name = entry.file_name();
        if skip.iter().any(|s| name == OsStr::new(s)) {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target, &[]);
        } else {
            fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copying {}: {e}", entry.path().display()));
        }
    }
}

/// A git repository with one commit holding this repository's working tree:
/// the files git lists as tracked or untracked-but-not-ignored (without git,
/// everything but `target/` and `.git/`).
fn snapshot_repository(env: &Env, to: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = env.command("git");
    cmd.arg("-C").arg(root).args([
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
    ]);
    match env.run(cmd, GIT_TIMEOUT) {
        Ok(ran) if ran.success() => {
            fs::create_dir_all(to).expect("snapshot directory");
            for file in ran.output.split('\0').filter(|f| !f.is_empty()) {
                let source = root.join(file);
                // Listed but deleted in the working tree, or a submodule.
                if !source.is_file() {
                    continue;
                }
                let target = to.join(file);
                fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
                fs::copy(&source, &target)
                    .unwrap_or_else(|e| panic!("copying {}: {e}", source.display()));
            }
        }
        _ => copy_tree(root, to, &["target", ".git"]),
    }
    assert!(
        to.join(".pre-commit-hooks.yaml").is_file(),
        "the repository has no .pre-commit-hooks.yaml"
    );
    env.commit_all(to);
}

/// Creates the virtual environment and installs pre-commit; returns the
/// `pre-commit` executable.
fn install_pre_commit(env: &Env) -> PathBuf {
    let venv = env.tmp.join("venv");
    let mut cmd = env.command("python3");
    cmd.args(["-m", "venv"]).arg(&venv);
    let ran = env.run(cmd, VENV_TIMEOUT).unwrap_or_else(|e| {
        panic!(
            "cannot run `python3` ({e}). This test installs pre-commit into a Python virtual \
             environment: install Python 3, or set {SKIP_VAR}=1 to skip it."
        )
    });
    assert!(
        ran.success(),
        "`python3 -m venv` failed (exit {:?}); on Debian/Ubuntu the system Python needs the \
         python3-venv package (`apt-get install -y python3-venv`), or set {SKIP_VAR}=1 to skip \
         this test:\n{}",
        ran.code,
        ran.output
    );

    let mut cmd = env.command(venv.join("bin/python"));
    cmd.args(["-m", "pip", "install", "--quiet", "pre-commit"]);
    let ran = env
        .run(cmd, PIP_TIMEOUT)
        .unwrap_or_else(|e| panic!("cannot run the virtual environment's python: {e}"));
    assert!(
        ran.success(),
        "`pip install pre-commit` failed (exit {:?}): is PyPI (or the index pip.conf names) \
         reachable? Set {SKIP_VAR}=1 to skip this test.\n{}",
        ran.code,
        ran.output
    );
    let pre_commit = venv.join("bin/pre-commit");
    assert!(
        pre_commit.is_file(),
        "pip installed no {}",
        pre_commit.display()
    );
    pre_commit
}

/// `pre-commit try-repo <hook_repo> dbprov [extra...]` in `work`.
fn try_repo(
    env: &Env,
    pre_commit: &Path,
    hook_repo: &Path,
    work: &Path,
    extra: &[&str],
    timeout: Duration,
) -> Ran {
    let mut cmd = env.command(pre_commit);
    cmd.current_dir(work)
        .arg("try-repo")
        .arg(hook_repo)
        .args(["dbprov", "--color", "never"])
        .args(extra);
    env.run(cmd, timeout)
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", pre_commit.display()))
}

/// A throwaway git repository holding a committed copy of `fixtures/<name>`
/// (without its `expected/` directory).
fn fixture_repo(env: &Env, name: &str) -> PathBuf {
    let work = env.tmp.join(format!("work-{name}"));
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    copy_tree(&fixture, &work, &["expected"]);
    env.commit_all(&work);
    work
}

#[test]
fn pre_commit_hook_with_the_real_client() {
    if std::env::var_os(SKIP_VAR).is_some_and(|v| v == "1") {
        report(&format!("pre_commit: skipped ({SKIP_VAR}=1)"));
        return;
    }
    let started = Instant::now();
    let tmp = TempDir::new("pre-commit");
    let env = Env {
        tmp: tmp.0.clone(),
        gitconfig: tmp.0.join("gitconfig"),
        pre_commit_home: tmp.0.join("pre-commit-home"),
        cargo_target: tmp.0.join("cargo-target"),
        counter: std::cell::Cell::new(0),
    };
    fs::write(
        &env.gitconfig,
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n",
    )
    .expect("gitconfig");

    let pre_commit = install_pre_commit(&env);
    report(&format!(
        "pre_commit: pre-commit installed ({}s)",
        started.elapsed().as_secs()
    ));

    let hook_repo = env.tmp.join("hook-repo");
    snapshot_repository(&env, &hook_repo);

    // The invalid tree first: this run compiles the dependencies.
    let invalid = fixture_repo(&env, "db001-missing-field");
    let ran = try_repo(
        &env,
        &pre_commit,
        &hook_repo,
        &invalid,
        &["--all-files"],
        FIRST_RUN_TIMEOUT,
    );
    report(&format!(
        "pre_commit: hook built and run on the invalid tree ({}s)",
        started.elapsed().as_secs()
    ));
    assert_eq!(
        ran.code,
        Some(1),
        "pre-commit on fixtures/db001-missing-field must fail:\n{}",
        ran.output
    );
    for expected in [
        "Failed",
        // dbprov found errors; 2 would mean it could not run.
        "- exit code: 1",
        "DB001",
        "modules/server/auth/authelia.nix",
    ] {
        assert!(
            ran.output.contains(expected),
            "pre-commit's output on fixtures/db001-missing-field lacks {expected:?}:\n{}",
            ran.output
        );
    }

    // Only the changed file is passed: a change staged in the offending file
    // alone still fails with its diagnostic.
    let offending = invalid.join("modules/server/auth/authelia.nix");
    let mut text = fs::read_to_string(&offending).expect("read authelia.nix");
    text.push_str("# touched\n");
    fs::write(&offending, text).expect("write authelia.nix");
    env.git(&invalid, &["add", "modules/server/auth/authelia.nix"]);
    let ran = try_repo(&env, &pre_commit, &hook_repo, &invalid, &[], RUN_TIMEOUT);
    assert_eq!(
        ran.code,
        Some(1),
        "pre-commit on a staged change to authelia.nix must fail:\n{}",
        ran.output
    );
    assert!(
        ran.output.contains("DB001"),
        "pre-commit's output on a staged change to authelia.nix lacks DB001:\n{}",
        ran.output
    );

    // The valid tree passes.
    let valid = fixture_repo(&env, "seed");
    let ran = try_repo(
        &env,
        &pre_commit,
        &hook_repo,
        &valid,
        &["--all-files"],
        RUN_TIMEOUT,
    );
    assert_eq!(
        ran.code,
        Some(0),
        "pre-commit on fixtures/seed must pass:\n{}",
        ran.output
    );
    assert!(
        ran.output.contains("Passed"),
        "pre-commit's output on fixtures/seed lacks \"Passed\":\n{}",
        ran.output
    );
    report(&format!(
        "pre_commit: done ({}s)",
        started.elapsed().as_secs()
    ));
}
