//! Repeated analyses in one process (an editor integration, the fuzzers)
//! must not keep memory: recursive scopes and their thunks form `Rc` cycles
//! that the evaluator breaks when it is dropped. A counting allocator
//! measures the bytes still allocated after each analysis.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicIsize, Ordering};

use dbprov::analysis::analyse;
use dbprov::eval::strict::{eval_source, Strict};
use dbprov::rules::Selection;
use dbprov::settings::Settings;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The counter is global: the tests take turns, or each would count the
/// other's allocations.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn run(root: &Path) {
    let analysis = analyse(root, &Settings::default(), Selection::all(), None).expect("analysis");
    assert!(!analysis.files.is_empty());
}

/// Bytes still allocated after `runs` more analyses of `root`.
fn growth(root: &Path, runs: usize) -> isize {
    let before = settled();
    for _ in 0..runs {
        run(root);
    }
    settled() - before
}

/// The live byte count once the parse pool's threads, which a dropped
/// rayon pool does not wait for, have had time to exit.
fn settled() -> isize {
    std::thread::sleep(std::time::Duration::from_millis(100));
    LIVE.load(Ordering::SeqCst)
}

#[test]
fn repeated_analyses_free_their_memory() {
    let _turn = serial();
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Trees with `let`, `rec`, functions with defaults, imports and hosts.
    for case in [
        "seed",
        "eval-language",
        "eval-helpers-and-lib",
        "ensure-two-hosts-shared",
    ] {
        let root = here.join("fixtures").join(case);
        // Warm-up: thread pools and other one-time allocations.
        growth(&root, 2);
        let runs = 10;
        let grown = growth(&root, runs);
        // Before the cycles were broken each run kept 50–150 KB here.
        assert!(
            grown < (runs as isize) * 2_000,
            "{case}: {grown} bytes still allocated after {runs} analyses"
        );
    }
}

/// Expressions whose scopes refer to themselves: `let`, `rec`, default
/// arguments that read other arguments, closures kept in a set.
#[test]
fn repeated_evaluations_free_their_memory() {
    let _turn = serial();
    let exprs = [
        "let a = { x = b; }; b = [ a ]; in builtins.length b",
        "let r = rec { a = b + 1; b = 2; f = x: x + a; }; in r.f 1",
        "let f = { a, b ? a + 1, c ? b * 2 }: a + b + c; in f { a = 1; }",
        // A default never forced keeps pointing at the call's scope.
        "let f = { a, b ? a }: a; in f { a = 1; }",
        "let fib = n: if n < 2 then n else fib (n - 1) + fib (n - 2); in fib 15",
        "let s = { g = y: { h = z: y + z; }; }; in (s.g 1).h 2",
    ];
    let run = || {
        for e in exprs {
            let out = std::thread::scope(|s| {
                std::thread::Builder::new()
                    .stack_size(64 << 20)
                    .spawn_scoped(s, || matches!(eval_source(e), Strict::Value(_)))
                    .expect("thread")
                    .join()
                    .expect("join")
            });
            assert!(out, "{e} did not evaluate");
        }
    };
    run();
    let before = LIVE.load(Ordering::SeqCst);
    for _ in 0..20 {
        run();
    }
    let grown = LIVE.load(Ordering::SeqCst) - before;
    assert!(
        grown < 20_000,
        "{grown} bytes still allocated after 20 rounds"
    );
}
