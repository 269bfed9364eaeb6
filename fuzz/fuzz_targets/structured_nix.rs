//! Structure-aware: a small Nix AST of service modules (attribute sets with
//! dotted keys, `let`, lambdas, `lib.mkIf`/`mkMerge`/`mkDefault`/`mkForce`,
//! `optionals`, `map`, `genAttrs`, `config.qgroget.server.<name>.enable`,
//! interpolated strings, `if`/`with`/`or`/`?`, database entries), rendered
//! to Nix and analysed as `modules/server/fuzz.nix` of the contract tree or
//! of a flake's host (ensure mode), with the same checks as
//! `parse_check_bytes`. Set `DBPROV_FUZZ_PRINT=1` to see the rendered module.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: dbprov_fuzz::nix::Input| {
    let source = dbprov_fuzz::nix::render(&input.module);
    if std::env::var_os("DBPROV_FUZZ_PRINT").is_some() {
        eprintln!("--- {:?}\n{source}", input.tree);
    }
    dbprov_fuzz::check(input.tree, source.as_bytes());
});
