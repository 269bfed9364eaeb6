//! Renderers of diagnostics. Each reads the diagnostic model only.

pub mod human;
pub mod json;

use std::path::Path;

use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;

/// Keeps the diagnostics of files under one of `paths` (relative to the root);
/// all of them when `paths` is empty. Diagnostics without a file are kept.
pub fn restrict(diags: Vec<Diagnostic>, files: &[SourceFile], paths: &[String]) -> Vec<Diagnostic> {
    if paths.is_empty() {
        return diags;
    }
    diags
        .into_iter()
        .filter(|d| match files.get(d.primary.span.file as usize) {
            None => true,
            Some(f) => paths.iter().any(|p| {
                p.is_empty()
                    || p == "."
                    || f.rel_path == *p
                    || Path::new(&f.rel_path).starts_with(p)
            }),
        })
        .collect()
}
