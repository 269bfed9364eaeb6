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
