#!/usr/bin/env bash
# Bounded fuzzing, for CI and by hand: builds the fuzz targets, checks every
# saved reproducer in fuzz/regressions/, then fuzzes each target for
# FUZZ_SECONDS (60) from the committed corpus. Exits non-zero on any crash
# (panic, failed assertion, stack overflow, timeout, out-of-memory).
#
#   bash fuzz/run.sh                      # every target, 60 s each
#   FUZZ_SECONDS=0 bash fuzz/run.sh       # replay the saved reproducers only (CI)
#   FUZZ_SECONDS=0 FUZZ_REPLAY_CORPUS=1 bash fuzz/run.sh   # and the corpus
#   FUZZ_SECONDS=600 bash fuzz/run.sh structured_nix
#   FUZZ_SANITIZER=address bash fuzz/run.sh   # slower; see fuzz/README.md
#
# cargo-fuzz drives libFuzzer through nightly-only compiler flags
# (-Zsanitizer, sanitizer coverage); RUSTC_BOOTSTRAP=1 lets the stable
# toolchain accept them. New corpus entries go to a temporary directory: the
# committed corpus is only read (see fuzz/README.md to grow it).
set -euo pipefail
cd "$(dirname "$0")"

export RUSTC_BOOTSTRAP=1
seconds="${FUZZ_SECONDS:-60}"
sanitizer="${FUZZ_SANITIZER:-none}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(parse_check_bytes structured_nix)

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --version 0.13.2 --locked
fi

# Per-target libFuzzer options: a generous RSS limit (the fuzz trees' values
# are bounded well below it) and, under AddressSanitizer, no leak detection
# (see fuzz/README.md).
common=(-timeout=10 -rss_limit_mb=4096 -print_final_stats=1)
[ "$sanitizer" = none ] || common+=(-detect_leaks=0)
# parse_check_bytes: a dictionary of Nix tokens and the names dbprov reads.
# structured_nix: the input's length is the module's size, so inputs are
# allowed their full length at once (len_control=0).
options() {
  case "$1" in
    parse_check_bytes) echo "-dict=dict/nix.dict" ;;
    structured_nix) echo "-max_len=4096 -len_control=0" ;;
  esac
}

cargo fuzz build --sanitizer "$sanitizer"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
touch "$work/start"
failed=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "regressions/$t" "$work/$t"
  echo "== $t: saved reproducers (regressions/$t)"
  if ! cargo fuzz run --sanitizer "$sanitizer" "$t" "regressions/$t" -- -runs=0 "${common[@]}"; then
    failed+=("$t (a reproducer in regressions/$t)")
    continue
  fi
  if [ "$seconds" = 0 ]; then
    # Replay only (deterministic): the reproducers above, and with
    # FUZZ_REPLAY_CORPUS=1 every committed corpus entry once.
    if [ "${FUZZ_REPLAY_CORPUS:-0}" = 1 ]; then
      echo "== $t: replaying corpus/$t"
      if ! cargo fuzz run --sanitizer "$sanitizer" "$t" "corpus/$t" -- -runs=0 "${common[@]}"; then
        failed+=("$t (an input of corpus/$t)")
      fi
    fi
    continue
  fi
  echo "== $t: fuzzing for ${seconds}s"
  # shellcheck disable=SC2046
  if ! cargo fuzz run --sanitizer "$sanitizer" "$t" "$work/$t" "corpus/$t" -- \
    -max_total_time="$seconds" "${common[@]}" $(options "$t"); then
    failed+=("$t")
    for f in artifacts/"$t"/*; do
      [ "$f" -nt "$work/start" ] || continue
      echo "-- reproducer $f (base64):"
      base64 -w0 "$f"
      echo
    done
  fi
  echo "== $t: $(find "$work/$t" -type f | wc -l) new corpus entries (not kept)"
done

# The closing line counts targets: each passed when no input crashed it.
echo "fuzz: ${seconds}s per target; reproducers of a crash are in fuzz/artifacts/"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: CRASH in ${failed[*]}" >&2
fi
echo "fuzz: $((${#targets[@]} - ${#failed[@]})) passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
