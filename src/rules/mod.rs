//! The rule catalogue. Each rule is a small type in its own file: its code,
//! name, default severity and a check over the extracted model.

mod db000_syntax_error;
mod db001_missing_field;
mod db002_unknown_type;
mod db003_invalid_name;
mod db004_invalid_user;
mod db005_duplicate_database;
mod db006_unknown_field;
mod db007_wrong_type;
mod db008_plaintext_password;
mod db009_reserved_name;
mod db010_shared_user;
mod db011_owner_mismatch;
mod db012_unresolved_enable;
mod db013_conflicting_definitions;
mod db014_undefined_enable;
mod db015_unprovisioned_type;
mod db016_identifier_case;
mod db017_unresolved_value;
mod db018_unimported_module;
mod db019_missing_secret;
mod db020_invalid_port;
mod db021_ownership_without_database;
mod db022_postgresql_disabled;
mod db023_removed_option;
mod db024_duplicate_user;
mod db025_role_without_database;
mod db026_unused_suppression;
mod db027_evaluation_cycle;
mod ensure;
mod identifier;
mod suggest;

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::model::{DatabaseDecl, DeclStatus, Enable, Model, Service};
use crate::secrets::Secrets;
use crate::settings::Settings;
use std::collections::BTreeMap;

use crate::source::{SourceFile, Span};
use crate::suppress;

pub use identifier::{corrected_identifier, identifier_problem};
pub use suggest::nearest;

/// What a rule may read.
pub struct Context<'a> {
    pub model: &'a Model,
    pub settings: &'a Settings,
    /// The key names of the SOPS secrets file, when it could be read.
    pub secrets: &'a Secrets,
}

pub trait Rule: Sync {
    fn code(&self) -> &'static str;
    fn name(&self) -> &'static str;
    fn default_severity(&self) -> Severity;
    /// One line for `dbprov rules`.
    fn summary(&self) -> &'static str;
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>);

    /// True for a rule that reads what suppression comments did, so it runs
    /// after them.
    fn after_suppression(&self) -> bool {
        false
    }

    /// A diagnostic of this rule with its primary label.
    fn diagnostic(&self, message: String, span: Span, label: &str) -> Diagnostic {
        Diagnostic {
            code: self.code(),
            rule: self.name(),
            severity: self.default_severity(),
            message,
            service: None,
            field: None,
            primary: Label::new(span, label),
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
            subject: None,
            inactive: None,
        }
    }
}

/// Every rule, in code order.
pub fn all() -> Vec<&'static dyn Rule> {
    vec![
        &db000_syntax_error::SyntaxError,
        &db001_missing_field::MissingField,
        &db002_unknown_type::UnknownType,
        &db003_invalid_name::InvalidName,
        &db004_invalid_user::InvalidUser,
        &db005_duplicate_database::DuplicateDatabase,
        &db006_unknown_field::UnknownField,
        &db007_wrong_type::WrongType,
        &db008_plaintext_password::PlaintextPassword,
        &db009_reserved_name::ReservedName,
        &db010_shared_user::SharedUser,
        &db011_owner_mismatch::OwnerMismatch,
        &db012_unresolved_enable::UnresolvedEnable,
        &db013_conflicting_definitions::ConflictingDefinitions,
        &db014_undefined_enable::UndefinedEnable,
        &db015_unprovisioned_type::UnprovisionedType,
        &db016_identifier_case::IdentifierCase,
        &db017_unresolved_value::UnresolvedValue,
        &db018_unimported_module::UnimportedModule,
        &db019_missing_secret::MissingSecret,
        &db020_invalid_port::InvalidPort,
        &db021_ownership_without_database::OwnershipWithoutDatabase,
        &db022_postgresql_disabled::PostgresqlDisabled,
        &db023_removed_option::RemovedOption,
        &db024_duplicate_user::DuplicateUser,
        &db025_role_without_database::RoleWithoutDatabase,
        &db026_unused_suppression::UnusedSuppression,
        &db027_evaluation_cycle::EvaluationCycle,
    ]
}

/// The rules a selector names: a code (`DB001`), a code prefix (`DB01`) or a
/// name (`missing-field`), case-insensitively.
pub fn matching(selector: &str) -> Vec<&'static dyn Rule> {
    let upper = selector.to_ascii_uppercase();
    all()
        .into_iter()
        .filter(|r| {
            r.name().eq_ignore_ascii_case(selector)
                || (upper.len() >= 2 && upper.starts_with("DB") && r.code().starts_with(&upper))
        })
        .collect()
}

/// A rule by code (`DB001`) or name (`missing-field`), case-insensitively.
pub fn find(key: &str) -> Option<&'static dyn Rule> {
    all()
        .into_iter()
        .find(|r| r.code().eq_ignore_ascii_case(key) || r.name().eq_ignore_ascii_case(key))
}

/// The rules to run and their severities.
pub struct Selection {
    pub rules: Vec<&'static dyn Rule>,
    /// Severity overrides by rule code (`[rules.severity]`).
    pub severity: BTreeMap<&'static str, Severity>,
}

impl Selection {
    pub fn all() -> Selection {
        Selection {
            rules: all(),
            severity: BTreeMap::new(),
        }
    }
}

/// Runs the rules, drops what suppression comments cover, then reports errors
/// in declarations that do not count today (a disabled service, a false
/// guard) as warnings.
pub fn run(selection: &Selection, cx: &Context, files: &[SourceFile]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for r in selection.rules.iter().filter(|r| !r.after_suppression()) {
        r.check(cx, &mut out);
    }
    let mut out = suppress::apply(out, &cx.model.suppressions, files);
    for r in selection.rules.iter().filter(|r| r.after_suppression()) {
        r.check(cx, &mut out);
    }
    for d in &mut out {
        if let Some(s) = selection.severity.get(d.code) {
            d.severity = *s;
        }
        if let (Severity::Error, Some(why)) = (d.severity, &d.inactive) {
            d.severity = Severity::Warning;
            let why = why.clone();
            d.notes.push(why);
        }
    }
    out
}

/// Why an error in this declaration does not fail the build today, if it doesn't.
pub fn inactive_reason(service: &Service, decl: &DatabaseDecl) -> Option<String> {
    match (&service.enable, &decl.status) {
        (Enable::Known { value: false, .. }, _) => Some(format!(
            "service '{}' is disabled; this fails once it is enabled",
            service.name
        )),
        (_, DeclStatus::GuardFalse(_)) => Some(
            "this declaration's `mkIf` condition is false; this fails once it holds".to_string(),
        ),
        (_, DeclStatus::Overridden(_)) => Some(
            "this definition is overridden by one with higher priority; this fails once it counts"
                .to_string(),
        ),
        _ => None,
    }
}

/// Every database declaration, with its service.
pub fn declarations<'a>(
    model: &'a Model,
) -> impl Iterator<Item = (&'a Service, &'a DatabaseDecl)> + 'a {
    model
        .services
        .iter()
        .flat_map(|s| s.databases.iter().map(move |d| (s, d)))
}

/// A diagnostic about one declaration: service, subject, the disabled note,
/// and, for an enabled service, where it is enabled.
pub fn about_decl(d: Diagnostic, service: &Service, decl: &DatabaseDecl) -> Diagnostic {
    let d = match &service.enable {
        Enable::Known {
            value: true,
            span,
            is_default,
        } => {
            let how = if *is_default {
                "is enabled by this default"
            } else {
                "is enabled here"
            };
            d.with_label(*span, format!("service '{}' {how}", service.name))
        }
        _ => d,
    };
    d.with_service(&service.name)
        .about(decl.span)
        .inactive_because(inactive_reason(service, decl))
}

/// An example `databases` list for a service, as the help texts show it.
pub fn example_entry(db_type: &str, name: &str, user: Option<&str>) -> String {
    let mut s =
        format!("Example:\n  databases = [{{\n    type = \"{db_type}\";\n    name = \"{name}\";\n");
    if let Some(u) = user {
        s.push_str(&format!("    user = \"{u}\";\n"));
    }
    s.push_str("  }];");
    s
}

/// A rule's documentation (`rules/<CODE>-<name>.md`), embedded at build time.
pub fn doc(code: &str) -> &'static str {
    match code {
        "DB000" => include_str!("../../rules/DB000-syntax-error.md"),
        "DB001" => include_str!("../../rules/DB001-missing-field.md"),
        "DB002" => include_str!("../../rules/DB002-unknown-type.md"),
        "DB003" => include_str!("../../rules/DB003-invalid-name.md"),
        "DB004" => include_str!("../../rules/DB004-invalid-user.md"),
        "DB005" => include_str!("../../rules/DB005-duplicate-database.md"),
        "DB006" => include_str!("../../rules/DB006-unknown-field.md"),
        "DB007" => include_str!("../../rules/DB007-wrong-type.md"),
        "DB008" => include_str!("../../rules/DB008-plaintext-password.md"),
        "DB009" => include_str!("../../rules/DB009-reserved-name.md"),
        "DB010" => include_str!("../../rules/DB010-shared-user.md"),
        "DB011" => include_str!("../../rules/DB011-owner-mismatch.md"),
        "DB012" => include_str!("../../rules/DB012-unresolved-enable.md"),
        "DB013" => include_str!("../../rules/DB013-conflicting-definitions.md"),
        "DB014" => include_str!("../../rules/DB014-undefined-enable.md"),
        "DB015" => include_str!("../../rules/DB015-unprovisioned-type.md"),
        "DB016" => include_str!("../../rules/DB016-identifier-case.md"),
        "DB017" => include_str!("../../rules/DB017-unresolved-value.md"),
        "DB018" => include_str!("../../rules/DB018-unimported-module.md"),
        "DB019" => include_str!("../../rules/DB019-missing-secret.md"),
        "DB020" => include_str!("../../rules/DB020-invalid-port.md"),
        "DB021" => include_str!("../../rules/DB021-ownership-without-database.md"),
        "DB022" => include_str!("../../rules/DB022-postgresql-disabled.md"),
        "DB023" => include_str!("../../rules/DB023-removed-option.md"),
        "DB024" => include_str!("../../rules/DB024-duplicate-user.md"),
        "DB025" => include_str!("../../rules/DB025-role-without-database.md"),
        "DB026" => include_str!("../../rules/DB026-unused-suppression.md"),
        "DB027" => include_str!("../../rules/DB027-evaluation-cycle.md"),
        _ => "",
    }
}
