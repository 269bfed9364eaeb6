//! The diagnostic model every renderer reads.

use serde::Serialize;

use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// A span with what it shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

impl Label {
    pub fn new(span: Span, message: impl Into<String>) -> Label {
        Label {
            span,
            message: message.into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    pub service: Option<String>,
    pub field: Option<String>,
    pub primary: Label,
    pub secondary: Vec<Label>,
    /// An example fix, written with the user's own names.
    pub help: Option<String>,
    pub notes: Vec<String>,
    /// The declaration this diagnostic is about, if any: an error there keeps
    /// the declaration out of the plan.
    pub subject: Option<Span>,
    /// Why an error here does not fail the build today (the service is
    /// disabled, a guard is false): it is then reported as a warning.
    pub inactive: Option<String>,
}

impl Diagnostic {
    pub fn with_service(mut self, service: &str) -> Self {
        self.service = Some(service.to_string());
        self
    }
    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_string());
        self
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        if !span.is_detached() {
            self.secondary.push(Label::new(span, message));
        }
        self
    }
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
    pub fn about(mut self, subject: Span) -> Self {
        self.subject = Some(subject);
        self
    }
    pub fn inactive_because(mut self, why: Option<String>) -> Self {
        self.inactive = why;
        self
    }
}
