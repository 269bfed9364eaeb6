//! Inputs that hit a bug already found by fuzzing and not fixed yet are
//! skipped, so that fuzzing (and CI's bounded run) goes on finding new ones.
//! Each predicate names its reproducer in `fuzz/regressions/`; when the bug
//! is fixed, delete the predicate, and the reproducer checks the fix
//! (`fuzz/run.sh` runs every target on its `regressions/` directory).
//!
//! Setting `DBPROV_FUZZ_NO_SKIP=1` disables every predicate (to reproduce).

use rnix::SyntaxKind;

/// Why `content` is skipped, if it hits a known bug.
pub fn known_bug(content: &[u8]) -> Option<&'static str> {
    if std::env::var_os("DBPROV_FUZZ_NO_SKIP").is_some() {
        return None;
    }
    let text = std::str::from_utf8(content).ok()?;
    if literal_scan_of_broken_string(text) {
        return Some("literal-scan-unterminated-string");
    }
    SAVED
        .iter()
        .find(|(_, saved)| *saved == content)
        .map(|(name, _)| *name)
}

/// Reproducers of bugs no cheap predicate recognises: skipped as they are.
///
/// - `oom-list-doubling`, `oom-string-doubling`: `a1 = a0 ++ a0; a2 = a1 ++
///   a1; …` (and the same with strings and `+`) doubles a value at each of a
///   few dozen steps; the step budget counts operations, not the size of what
///   they build, so memory grows until the allocator fails (the CLI aborts
///   with "memory allocation of … bytes failed", having taken gigabytes).
/// - `timeout-budget-per-service`: the budget (`Limits::max_steps`) is reset
///   for each service's `enable` and `databases`
///   (`model::extract`), so a module with N services whose `enable` each
///   spends the whole budget runs N times as long: 50 of them take minutes.
const SAVED: &[(&str, &[u8])] = &[
    (
        "oom-list-doubling",
        include_bytes!("../regressions/parse_check_bytes/oom-list-doubling.nix"),
    ),
    (
        "oom-string-doubling",
        include_bytes!("../regressions/parse_check_bytes/oom-string-doubling.nix"),
    ),
    (
        "timeout-budget-per-service",
        include_bytes!("../regressions/parse_check_bytes/timeout-budget-per-service.nix"),
    ),
];

/// `regressions/parse_check_bytes/literal-scan-unterminated-string.nix`
/// (`"://`): the literal-secret scan (`model::literals::scan`, run from
/// `parse::parse_one` when the text contains `passw` or `://`, also on files
/// with syntax errors) calls rnix's `Str::parts`/`normalized_parts`, which
/// assert that a string node holds only string tokens and interpolations; in
/// a file that does not parse, a string can hold an error node or token, and
/// the assertion panics (`left: NODE_ERROR, right: NODE_INTERPOL`).
fn literal_scan_of_broken_string(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    if !(lower.contains("passw") || lower.contains("://")) {
        return false;
    }
    let parse = rnix::Root::parse(text);
    if parse.errors().is_empty() {
        return false;
    }
    parse
        .syntax()
        .descendants()
        .filter(|n| n.kind() == SyntaxKind::NODE_STRING)
        .any(|s| {
            s.children_with_tokens().any(|c| match c {
                rnix::NodeOrToken::Node(n) => n.kind() != SyntaxKind::NODE_INTERPOL,
                rnix::NodeOrToken::Token(t) => !matches!(
                    t.kind(),
                    SyntaxKind::TOKEN_STRING_CONTENT
                        | SyntaxKind::TOKEN_STRING_START
                        | SyntaxKind::TOKEN_STRING_END
                ),
            })
        })
}
