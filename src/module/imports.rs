//! The import graph: which modules the entry module reaches through `imports`.
//! Modules it does not reach take no part in the merge, as in NixOS.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::ModuleSystem;
use crate::eval::{Evaluator, Unresolved};
use crate::source::{FileId, Span};

/// What the import graph says about the scanned files.
#[derive(Debug, Default)]
pub struct Reachability {
    /// Per file: reached from the entry module.
    pub reached: Vec<bool>,
    /// Imports of reached modules that could not be computed: reachability
    /// is then not known, and no file is left out.
    pub unresolved: Vec<Unresolved>,
}

fn key(p: &Path) -> PathBuf {
    p.to_path_buf()
}

/// Follows `imports` from `entry` (`./dir` means `./dir/default.nix`).
pub fn reachability(ms: &ModuleSystem, entry: FileId, abs_paths: &[PathBuf]) -> Reachability {
    let by_path: HashMap<PathBuf, FileId> = abs_paths
        .iter()
        .enumerate()
        .map(|(i, p)| (key(p), i as FileId))
        .collect();
    let by_file: HashMap<FileId, &super::Module> = ms.modules.iter().map(|m| (m.file, m)).collect();
    let mut reached = vec![false; abs_paths.len()];
    let mut unresolved = Vec::new();
    let mut queue = VecDeque::from([entry]);
    reached[entry as usize] = true;
    while let Some(f) = queue.pop_front() {
        let Some(m) = by_file.get(&f) else { continue };
        unresolved.extend(m.unresolved_imports.iter().cloned());
        for (p, _) in &m.imports {
            let target = by_path
                .get(&key(p))
                .or_else(|| by_path.get(&key(&p.join("default.nix"))));
            if let Some(&t) = target {
                if !reached[t as usize] {
                    reached[t as usize] = true;
                    queue.push_back(t);
                }
            }
        }
    }
    Reachability {
        reached,
        unresolved,
    }
}

impl ModuleSystem {
    /// Restricts the merge, and the option declarations, to the given modules.
    pub fn set_active(&mut self, ev: &Evaluator, active: Vec<bool>) {
        self.active = active;
        let modules: Vec<&super::Module> = self.modules.iter().filter(|m| self.is_active(m.file)).collect();
        self.options = super::options::Declarations::collect(ev, modules);
    }

    /// The services under `base` for which module `file`, on its own, defines
    /// `field` (e.g. `databases`), with the span of each definition.
    pub fn defines_in_module(
        &self,
        ev: &Evaluator,
        file: FileId,
        base: &[Rc<str>],
        field: &str,
    ) -> Vec<(String, Span)> {
        let Some(m) = self.modules.iter().find(|m| m.file == file) else {
            return Vec::new();
        };
        let Ok(root) = &m.config else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut level = vec![root.clone()];
        for key in base {
            level = level
                .iter()
                .flat_map(|t| super::definitions::sets(ev, t))
                .filter_map(|a| a.get(key).map(|x| x.value.clone()))
                .collect();
        }
        for t in level {
            for services in super::definitions::sets(ev, &t) {
                for (name, attr) in &services.map {
                    for fields in super::definitions::sets(ev, &attr.value) {
                        if let Some(f) = fields.get(field) {
                            out.push((name.to_string(), f.value.span()));
                        }
                    }
                }
            }
        }
        out.retain(|(_, s)| !s.is_detached());
        out.sort();
        out.dedup_by(|a, b| a.0 == b.0);
        out
    }
}
