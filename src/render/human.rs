//! `--format human`: miette's graphical report.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::SourceFile;

/// A diagnostic as miette sees it: labels in the primary file are drawn in
/// one snippet; labels in other files become related diagnostics.
struct Rendered<'f> {
    message: String,
    code: String,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<FileSource<'f>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Rendered<'f>>,
}

impl fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered<'_> {}

impl miette::Diagnostic for Rendered<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.code.is_empty()).then(|| Box::new(&self.code) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        (!self.labels.is_empty())
            .then(|| Box::new(self.labels.iter().cloned()) as Box<dyn Iterator<Item = LabeledSpan>>)
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        (!self.related.is_empty()).then(|| {
            Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic))
                as Box<dyn Iterator<Item = &dyn miette::Diagnostic>>
        })
    }
}

fn severity(s: Severity) -> miette::Severity {
    match s {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
    }
}

/// A file as miette reads it. miette's own sources find a span's lines by
/// scanning from the top of the file, once per diagnostic: hundreds of
/// diagnostics in a settings file of thousands of lines made rendering
/// quadratic. This one cuts the window of lines from the file's line index
/// and lets miette scan only that.
struct FileSource<'f> {
    file: &'f SourceFile,
}

impl SourceCode for FileSource<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let f = self.file;
        let start = span.offset().min(f.text.len());
        let end = (span.offset() + span.len()).min(f.text.len());
        let first = f
            .line_index(start as u32)
            .saturating_sub(context_lines_before);
        let last = f.line_index(end as u32) + context_lines_after;
        let window = f.lines_range(first, last);
        let local = SourceSpan::new((start - window.start).into(), end - start);
        let text: &'a str = &f.text[window.clone()];
        let inner = text.read_span(&local, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            f.rel_path.clone(),
            inner.data(),
            SourceSpan::new(
                (inner.span().offset() + window.start).into(),
                inner.span().len(),
            ),
            inner.line() + first,
            inner.column(),
            inner.line_count(),
        )))
    }
}

fn named(f: &SourceFile) -> FileSource<'_> {
    FileSource { file: f }
}

fn label(text: &str, span: crate::source::Span, primary: bool) -> LabeledSpan {
    let len = (span.end - span.start) as usize;
    let msg = (!text.is_empty()).then(|| text.to_string());
    if primary {
        LabeledSpan::new_primary_with_span(msg, (span.start as usize, len))
    } else {
        LabeledSpan::new_with_span(msg, (span.start as usize, len))
    }
}

fn to_rendered<'f>(d: &Diagnostic, files: &'f [SourceFile]) -> Rendered<'f> {
    let primary_file = d.primary.span.file;
    let mut labels = Vec::new();
    let mut related = Vec::new();
    if files.get(primary_file as usize).is_some() {
        labels.push(label(&d.primary.message, d.primary.span, true));
    }
    for l in &d.secondary {
        if l.span.file == primary_file {
            labels.push(label(&l.message, l.span, false));
        } else if let Some(f) = files.get(l.span.file as usize) {
            related.push(Rendered {
                message: l.message.clone(),
                code: String::new(),
                severity: miette::Severity::Advice,
                help: None,
                source: Some(named(f)),
                labels: vec![label("", l.span, true)],
                related: Vec::new(),
            });
        }
    }
    let mut help = d.help.clone();
    if !d.notes.is_empty() {
        let notes = d
            .notes
            .iter()
            .map(|n| format!("note: {n}"))
            .collect::<Vec<_>>()
            .join("\n");
        help = Some(match help {
            Some(h) => format!("{notes}\n\n{h}"),
            None => notes,
        });
    }
    Rendered {
        message: d.message.clone(),
        code: format!("{}({})", d.code, d.rule),
        severity: severity(d.severity),
        help,
        source: files.get(primary_file as usize).map(named),
        labels,
        related,
    }
}

/// The graphical report of every diagnostic.
pub fn render(diags: &[Diagnostic], files: &[SourceFile], color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    for d in diags {
        let r = to_rendered(d, files);
        if handler.render_report(&mut out, &r).is_err() {
            out.push_str(&format!("{}: {}\n", d.code, d.message));
        }
        out.push('\n');
    }
    out
}

/// `2 errors, 1 warning in 37 files`.
pub fn summary_line(diags: &[Diagnostic], files: usize) -> String {
    let count = |s: Severity| diags.iter().filter(|d| d.severity == s).count();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut parts = vec![
        plural(count(Severity::Error), "error"),
        plural(count(Severity::Warning), "warning"),
    ];
    let infos = count(Severity::Info);
    if infos > 0 {
        parts.push(plural(infos, "info"));
    }
    format!("{} in {}", parts.join(", "), plural(files, "file"))
}
