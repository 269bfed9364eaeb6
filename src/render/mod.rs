//! Renderers of diagnostics. Each reads the diagnostic model only.

pub mod github;
pub mod human;
pub mod json;
pub mod sarif;
pub mod short;
pub mod sql;

use std::path::Path;

use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;

/// Keeps the diagnostics that concern files under one of `paths` (relative
/// to the root): their primary place, or a place they point to (enabling a
/// broken service in `settings.nix` shows that service's error when only
/// `settings.nix` is checked). All of them when `paths` is empty; diagnostics
/// without a file are kept.
pub fn restrict(diags: Vec<Diagnostic>, files: &[SourceFile], paths: &[String]) -> Vec<Diagnostic> {
    if paths.is_empty() {
        return diags;
    }
    let selected = |file: u32| -> Option<bool> {
        let f = files.get(file as usize)?;
        Some(paths.iter().any(|p| {
            p.is_empty() || p == "." || f.rel_path == *p || Path::new(&f.rel_path).starts_with(p)
        }))
    };
    diags
        .into_iter()
        .filter(|d| match selected(d.primary.span.file) {
            None => true,
            Some(true) => true,
            Some(false) => d
                .secondary
                .iter()
                .any(|l| selected(l.span.file) == Some(true)),
        })
        .collect()
}

/// A configuration error as miette's graphical report, pointing into the file.
pub fn config_error(e: &crate::config::ConfigError, color: bool) -> String {
    use miette::{
        GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource,
    };
    let mut diag = MietteDiagnostic::new(e.message.clone()).with_code("dbprov::config");
    if let Some(h) = &e.help {
        diag = diag.with_help(h.clone());
    }
    if let Some(span) = &e.span {
        diag = diag.with_label(LabeledSpan::new_primary_with_span(
            Some("here".to_string()),
            span.clone(),
        ));
    }
    let name = e.path.display().to_string();
    let report =
        miette::Report::new(diag).with_source_code(NamedSource::new(name.clone(), e.text.clone()));
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut out = format!("invalid configuration in {name}: {}\n", e.message);
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    if handler.render_report(&mut out, report.as_ref()).is_err() {
        out.push_str(&e.message);
    }
    out
}
