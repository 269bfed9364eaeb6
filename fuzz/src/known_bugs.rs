//! Inputs that hit a bug already found by fuzzing and not fixed yet are
//! skipped, so that fuzzing (and CI) goes on finding new ones. Each entry
//! names its reproducer in `fuzz/regressions/`; when the bug is fixed, delete
//! the entry, and the reproducer checks the fix (`fuzz/run.sh` replays every
//! target's `regressions/` directory).
//!
//! None is open: the four bugs found so far (`regressions/parse_check_bytes/`:
//! `literal-scan-unterminated-string.nix`, `oom-list-doubling.nix`,
//! `oom-string-doubling.nix`, `timeout-budget-per-service.nix`) are fixed, and
//! their reproducers are replayed as they are.
//!
//! Setting `DBPROV_FUZZ_NO_SKIP=1` disables every entry (to reproduce).

/// Why `content` is skipped, if it hits a known bug.
pub fn known_bug(content: &[u8]) -> Option<&'static str> {
    if std::env::var_os("DBPROV_FUZZ_NO_SKIP").is_some() {
        return None;
    }
    SAVED
        .iter()
        .find(|(_, saved)| *saved == content)
        .map(|(name, _)| *name)
}

/// Reproducers skipped as they are (exact content), for bugs no cheap
/// predicate recognises: `("name", include_bytes!("../regressions/<target>/name"))`.
/// A bug that a predicate recognises (say, from rnix's tree of the input)
/// gets a function called from [`known_bug`] instead.
const SAVED: &[(&str, &[u8])] = &[];
