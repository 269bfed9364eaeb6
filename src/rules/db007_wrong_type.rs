use super::{about_decl, declarations, Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Enable, Entry, FieldValue};

/// DB007: a field, an entry, `databases` or `enable` has the wrong type.
pub struct WrongType;

fn expected(field: &str) -> Option<&'static str> {
    match field {
        "type" | "name" | "user" => Some("a string"),
        "port" => Some("an integer"),
        "extraConfig" => Some("a set"),
        _ => None,
    }
}

fn matches(field: &str, v: &FieldValue) -> bool {
    match field {
        "type" | "name" | "user" => matches!(v, FieldValue::Str(_)),
        "port" => matches!(v, FieldValue::Int(_)),
        "extraConfig" => matches!(v, FieldValue::Attrs),
        _ => true,
    }
}

fn example(field: &str, service: &str) -> String {
    match field {
        "port" => "port = 5432;".to_string(),
        "extraConfig" => "extraConfig = { };".to_string(),
        "type" => "type = \"postgresql\";".to_string(),
        _ => format!("{field} = \"{service}\";"),
    }
}

impl Rule for WrongType {
    fn code(&self) -> &'static str {
        "DB007"
    }
    fn name(&self) -> &'static str {
        "wrong-type"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn summary(&self) -> &'static str {
        "a field, an entry or `databases` itself has the wrong type"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        let disabled = |s: &crate::model::Service| {
            s.enable.is_disabled().then(|| {
                format!(
                    "service '{}' is disabled; this fails once it is enabled",
                    s.name
                )
            })
        };
        for service in &cx.model.services {
            for (got, span) in &service.databases_wrong_type {
                let d = self
                    .diagnostic(
                        format!("Service '{}' defines `databases` as {got}, not a list", service.name),
                        *span,
                        "expected a list of database entries",
                    )
                    .with_service(&service.name)
                    .with_field("databases")
                    .with_help(format!(
                        "`databases` is a list, even for one database:\n\n  databases = [{{ type = \"postgresql\"; name = \"{0}\"; user = \"{0}\"; }}];",
                        service.name
                    ))
                    .inactive_because(disabled(service));
                out.push(d);
            }
            if let Enable::WrongType { got, span } = &service.enable {
                let d = self
                    .diagnostic(
                        format!(
                            "Service '{}' defines `enable` as {got}, not a Boolean",
                            service.name
                        ),
                        *span,
                        "expected true or false",
                    )
                    .with_service(&service.name)
                    .with_field("enable")
                    .with_help(format!(
                        "{}.{}.enable = true;",
                        cx.settings.service_path.join("."),
                        service.name
                    ));
                out.push(d);
            }
        }
        for (service, decl) in declarations(cx.model) {
            match &decl.entry {
                Entry::NotASet { got } => {
                    let d = self
                        .diagnostic(
                            format!("Service '{}' declares a database entry that is {got}, not a set", service.name),
                            decl.span,
                            "expected { type = ...; name = ...; }",
                        )
                        .with_field("databases")
                        .with_help(format!(
                            "Each element of `databases` is a set:\n\n  {{ type = \"postgresql\"; name = \"{0}\"; user = \"{0}\"; }}",
                            service.name
                        ));
                    out.push(about_decl(d, service, decl));
                }
                Entry::Fields(fields) => {
                    for (key, field) in fields {
                        let Some(want) = expected(key) else { continue };
                        if matches!(
                            field.value,
                            FieldValue::Unresolved(_) | FieldValue::Conflict(_)
                        ) || matches(key, &field.value)
                        {
                            continue;
                        }
                        let d = self
                            .diagnostic(
                                format!(
                                    "Service '{}' declares database field '{key}' as {}, expected {want}",
                                    service.name,
                                    field.value.type_name()
                                ),
                                field.value_span,
                                &format!("expected {want}"),
                            )
                            .with_field(key)
                            .with_help(example(key, &service.name));
                        out.push(about_decl(d, service, decl));
                    }
                }
                Entry::Unresolved(_) => {}
            }
        }
    }
}
