//! Repeated analyses in one process (an editor integration, the fuzzers)
//! must not keep memory: recursive scopes and their thunks form `Rc` cycles
//! that the evaluator breaks when it is dropped. A counting allocator
//! measures the bytes still allocated after each analysis.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicIsize, Ordering};

use dbprov::analysis::analyse;
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

fn run(root: &Path) {
    let analysis = analyse(root, &Settings::default(), Selection::all(), None).expect("analysis");
    assert!(!analysis.files.is_empty());
}

/// Bytes still allocated after `runs` more analyses of `root`.
fn growth(root: &Path, runs: usize) -> isize {
    let before = LIVE.load(Ordering::SeqCst);
    for _ in 0..runs {
        run(root);
    }
    LIVE.load(Ordering::SeqCst) - before
}

#[test]
fn repeated_analyses_free_their_memory() {
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
