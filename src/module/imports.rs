//! The import graph: which modules the entry module reaches through `imports`.
//! Modules it does not reach take no part in the merge, as in NixOS.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::{Import, ModuleSystem};
use crate::eval::{Evaluator, Unresolved};
use crate::source::{FileId, Span};

/// What the import graph says about the scanned files.
#[derive(Debug, Default)]
pub struct Reachability {
    /// Per file: reached from the entry module.
    pub reached: Vec<bool>,
    /// The modules reached, in nixpkgs' collection order (`genericClosure`:
    /// breadth first, each module once).
    pub order: Vec<usize>,
    /// Imports of reached modules that could not be computed: reachability
    /// is then not known, and no file is left out.
    pub unresolved: Vec<Unresolved>,
}

/// Follows `imports` from `entry` (`./dir` means `./dir/default.nix`).
pub fn reachability(ms: &ModuleSystem, entry: FileId, abs_paths: &[PathBuf]) -> Reachability {
    match ms.tops.get(&entry) {
        Some(&start) => reachability_from(ms, vec![start], abs_paths),
        None => Reachability {
            reached: vec![false; abs_paths.len()],
            ..Reachability::default()
        },
    }
}

/// The module of a file given by path (`./dir` meaning `./dir/default.nix`).
pub fn module_of_path(ms: &ModuleSystem, path: &Path, abs_paths: &[PathBuf]) -> Option<usize> {
    let file = abs_paths.iter().position(|p| p == path).or_else(|| {
        abs_paths
            .iter()
            .position(|p| *p == path.join("default.nix"))
    })?;
    ms.tops.get(&(file as FileId)).copied()
}

/// Follows `imports` from the modules `starts`, breadth first, as nixpkgs'
/// `genericClosure` does.
pub fn reachability_from(
    ms: &ModuleSystem,
    starts: Vec<usize>,
    abs_paths: &[PathBuf],
) -> Reachability {
    let by_path: HashMap<&Path, FileId> = abs_paths
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_path(), i as FileId))
        .collect();
    let mut reached = vec![false; abs_paths.len()];
    let mut seen = vec![false; ms.modules.len()];
    let mut order = Vec::new();
    let mut unresolved = Vec::new();
    let mut queue = VecDeque::new();
    for start in starts {
        if !seen[start] {
            seen[start] = true;
            queue.push_back(start);
        }
    }
    while let Some(i) = queue.pop_front() {
        let m = &ms.modules[i];
        reached[m.file as usize] = true;
        order.push(i);
        unresolved.extend(m.unresolved_imports.iter().cloned());
        for import in &m.imports {
            let target = match import {
                Import::Inline(j) => Some(*j),
                Import::File(p, _) => by_path
                    .get(p.as_path())
                    .or_else(|| by_path.get(p.join("default.nix").as_path()))
                    .and_then(|f| ms.tops.get(f).copied()),
            };
            if let Some(t) = target {
                if !seen[t] {
                    seen[t] = true;
                    queue.push_back(t);
                }
            }
        }
    }
    Reachability {
        reached,
        order,
        unresolved,
    }
}

impl ModuleSystem {
    /// Restricts the merge, and the option declarations, to the modules the
    /// entry module reaches. The module system merges them in the reverse of
    /// their collection order (`reverseList` in nixpkgs' lib/modules.nix).
    pub fn set_reached(&mut self, ev: &Evaluator, reach: &Reachability) {
        self.active = reach.reached.clone();
        self.order = reach.order.iter().rev().copied().collect();
        self.levels.borrow_mut().clear();
        self.indexes.borrow_mut().clear();
        let modules: Vec<&super::Module> = self
            .modules
            .iter()
            .filter(|m| self.is_active(m.file))
            .collect();
        // Usually the entry reaches every module: the declarations collected
        // at loading, from the same modules in the same order, stand.
        if modules.len() < self.modules.len() {
            self.options = super::options::Declarations::collect(ev, modules);
        }
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
