//! `--format sarif`: SARIF 2.1.0, with the whole rule catalogue in
//! `tool.driver.rules`.

use serde_json::{json, Value};

use crate::diagnostic::{Diagnostic, Severity};
use crate::report::Locator;
use crate::rules;
use crate::source::{SourceFile, Span};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn location(loc: &Locator, span: Span) -> Option<Value> {
    let (s, e) = loc.range(span)?;
    Some(json!({
        "physicalLocation": {
            "artifactLocation": { "uri": s.file, "uriBaseId": "%SRCROOT%" },
            "region": {
                "startLine": s.line,
                "startColumn": s.column,
                "endLine": e.line,
                "endColumn": e.column,
            }
        }
    }))
}

pub fn render(diags: &[Diagnostic], files: &[SourceFile]) -> String {
    let loc = Locator::new(files);
    let catalogue = rules::all();
    let rule_objects: Vec<Value> = catalogue
        .iter()
        .map(|r| {
            json!({
                "id": r.code(),
                "name": r.name(),
                "shortDescription": { "text": r.summary() },
                "help": { "text": rules::doc(r.code()), "markdown": rules::doc(r.code()) },
                "defaultConfiguration": { "level": level(r.default_severity()) },
            })
        })
        .collect();
    let results: Vec<Value> = diags
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            for n in &d.notes {
                text.push_str(&format!("\nnote: {n}"));
            }
            if let Some(h) = &d.help {
                text.push_str(&format!("\nhelp: {h}"));
            }
            let mut result = json!({
                "ruleId": d.code,
                "level": level(d.severity),
                "message": { "text": text },
            });
            if let Some(i) = catalogue.iter().position(|r| r.code() == d.code) {
                result["ruleIndex"] = json!(i);
            }
            if let Some(l) = location(&loc, d.primary.span) {
                result["locations"] = json!([l]);
            }
            let related: Vec<Value> = d
                .secondary
                .iter()
                .enumerate()
                .filter_map(|(i, l)| {
                    let mut v = location(&loc, l.span)?;
                    v["id"] = json!(i);
                    v["message"] = json!({ "text": l.message });
                    Some(v)
                })
                .collect();
            if !related.is_empty() {
                result["relatedLocations"] = json!(related);
            }
            let mut props = serde_json::Map::new();
            if let Some(s) = &d.service {
                props.insert("service".to_string(), json!(s));
            }
            if let Some(f) = &d.field {
                props.insert("field".to_string(), json!(f));
            }
            if !props.is_empty() {
                result["properties"] = Value::Object(props);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "dbprov",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rule_objects,
                }
            },
            // Columns count characters, as everywhere in dbprov's output.
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    let mut s = serde_json::to_string_pretty(&log).expect("sarif serializes");
    s.push('\n');
    s
}
