//! Finding the files to analyse: the include globs under the root, minus the
//! exclude globs, in a stable order.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use walkdir::WalkDir;

use crate::settings::Settings;

/// A file found under the root, or a problem met while walking.
#[derive(Debug)]
pub enum Found {
    File { rel_path: String, abs_path: PathBuf },
    Error { rel_path: String, message: String },
}

fn glob_set(patterns: &[String]) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let g = Glob::new(p).map_err(|e| format!("invalid glob `{p}`: {e}"))?;
        b.add(g);
    }
    b.build().map_err(|e| e.to_string())
}

fn rel(root: &Path, p: &Path) -> String {
    let r = p.strip_prefix(root).unwrap_or(p);
    r.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Every included file, sorted by relative path.
pub fn discover(root: &Path, settings: &Settings) -> Result<Vec<Found>, String> {
    let include = glob_set(&settings.include)?;
    let exclude = glob_set(&settings.exclude)?;
    let mut out = Vec::new();
    // Symlinks are followed; walkdir reports loops as errors instead of recursing.
    let walker = WalkDir::new(root).follow_links(true).sort_by_file_name();
    for entry in walker.into_iter().filter_entry(|e| {
        e.depth() == 0
            || !(e.file_type().is_dir() && e.file_name().to_string_lossy().starts_with('.'))
    }) {
        match entry {
            Ok(e) => {
                if !e.file_type().is_file() {
                    continue;
                }
                let rel_path = rel(root, e.path());
                if include.is_match(&rel_path) && !exclude.is_match(&rel_path) {
                    out.push(Found::File {
                        rel_path,
                        abs_path: e.path().to_path_buf(),
                    });
                }
            }
            Err(err) => {
                let path = err.path().map(|p| rel(root, p)).unwrap_or_default();
                if include.is_match(&path) || err.loop_ancestor().is_some() {
                    let message = walk_error_message(&err);
                    out.push(Found::Error {
                        rel_path: path,
                        message,
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| key(a).cmp(key(b)));
    Ok(out)
}

/// Why an entry could not be walked, without the absolute path walkdir puts
/// in front (the diagnostic already names the file, relative to the root).
fn walk_error_message(err: &walkdir::Error) -> String {
    if err.loop_ancestor().is_some() {
        return "a symbolic link loop".to_string();
    }
    let Some(io) = err.io_error() else {
        return err.to_string();
    };
    // ELOOP: a chain of symbolic links that comes back on itself.
    if io.raw_os_error() == Some(40) {
        return "a symbolic link loop".to_string();
    }
    if io.kind() == std::io::ErrorKind::NotFound {
        if let Some(target) = err.path().and_then(|p| std::fs::read_link(p).ok()) {
            return format!(
                "a broken symbolic link (its target {} does not exist)",
                target.display()
            );
        }
    }
    io.to_string()
}

fn key(f: &Found) -> &str {
    match f {
        Found::File { rel_path, .. } | Found::Error { rel_path, .. } => rel_path,
    }
}

/// The root: the nearest ancestor of `start` holding `flake.nix` or `.git`,
/// else `start` itself.
pub fn find_root(start: &Path) -> PathBuf {
    let mut cur = Some(start);
    while let Some(dir) = cur {
        if dir.join("flake.nix").exists() || dir.join(".git").exists() {
            return dir.to_path_buf();
        }
        cur = dir.parent();
    }
    start.to_path_buf()
}
