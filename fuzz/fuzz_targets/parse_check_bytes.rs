//! Arbitrary bytes as the content of one module file of a small tree
//! (`modules/server/fuzz.nix`, imported by the entry module): the whole
//! analysis runs, every diagnostic span lies within its file, and the report
//! builds, serializes and renders.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dbprov_fuzz::check(dbprov_fuzz::Tree::Modules, data);
});
