#!/usr/bin/env bash
# dbprov's benchmark: synthetic trees of 100, 1,000 and 10,000 services
# (generate.py), timed with the release build. Prints wall time, files/s,
# MB/s and peak memory for `dbprov check` and `dbprov plan` on each tree, a
# single-file editor check (--stdin-filename) inside the 1,000 tree, rnix
# alone parsing each tree on all cores (`dbprov bench-parse`), and deadnix on
# the same trees as a reference (installed from crates.io into $BENCH_DIR if
# missing). Usage: tests/bench/run.sh [BENCH_DIR]   (default /tmp/dbprov-bench)
#
# `check`, `check --format json` and `plan` run with --no-cache: every file
# is parsed, as deadnix and rnix parse every file. "check, warm cache" and the
# editor check read unchanged files' parse results from a cache in
# BENCH_DIR/cache, filled by the run before (as on every save but the first).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dir=${1:-/tmp/dbprov-bench}
mkdir -p "$dir"
export DBPROV_CACHE_DIR="$dir/cache"
rm -rf "$DBPROV_CACHE_DIR"
cargo build --release --locked --manifest-path "$repo/Cargo.toml" >/dev/null 2>&1
dbprov="$repo/target/release/dbprov"
deadnix=$(command -v deadnix || true)
if [ -z "$deadnix" ]; then
  [ -x "$dir/deadnix/bin/deadnix" ] || cargo install deadnix --locked --root "$dir/deadnix" >/dev/null 2>&1 || true
  [ -x "$dir/deadnix/bin/deadnix" ] && deadnix="$dir/deadnix/bin/deadnix"
fi

# measure NAME BYTES FILES COMMAND...: best wall time of 3 runs (standard
# input from $STDIN_FILE, else /dev/null), peak RSS of
# the last; also left in $last_t (seconds) and $last_mb for the targets below.
measure() {
  local name=$1 bytes=$2 files=$3; shift 3
  local best="" mem="" stats
  stats=$(mktemp)
  for _ in 1 2 3; do
    # Wall time from the clock in nanoseconds (time(1)'s %e has 10 ms steps).
    local t0 t1 t
    t0=$(date +%s%N)
    /usr/bin/time -o "$stats" -f "%M" "$@" <"${STDIN_FILE:-/dev/null}" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
    mem=$(tail -1 "$stats")
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
  done
  rm -f "$stats"
  last_t=$best
  last_mb=$(awk -v m="$mem" 'BEGIN { printf "%.1f", m / 1024 }')
  awk -v n="$name" -v t="$best" -v b="$bytes" -v f="$files" -v m="$mem" 'BEGIN {
    if (t == 0) t = 0.001;
    printf "%-34s %8.4f s %10.0f files/s %8.1f MB/s %8.1f MB peak\n", n, t, f / t, b / 1e6 / t, m / 1024 }'
}

declare -A check_t check_mb source_mb rnix_t deadnix_t
editor_t=0
printf "machine: %s, %s cores, %s\n" "$(uname -m)" "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for n in 100 1000 10000; do
  tree="$dir/tree$n"
  [ -d "$tree" ] || python3 "$here/generate.py" "$n" "$tree"
  files=$(find -L "$tree" -name '*.nix' | wc -l)
  bytes=$(find -L "$tree" -name '*.nix' -printf '%s\n' | awk '{s+=$1} END {print s}')
  echo "== $n services: $files files, $((bytes / 1000000)) MB"
  measure "dbprov check" "$bytes" "$files" "$dbprov" check --no-cache --root "$tree"
  check_t[$n]=$last_t
  check_mb[$n]=$last_mb
  source_mb[$n]=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
  measure "dbprov check --format json" "$bytes" "$files" "$dbprov" check --no-cache --format json --root "$tree"
  measure "dbprov plan" "$bytes" "$files" "$dbprov" plan --no-cache --root "$tree"
  "$dbprov" check --root "$tree" >/dev/null 2>&1 || true
  measure "dbprov check, warm cache" "$bytes" "$files" "$dbprov" check --root "$tree"
  measure "rnix alone (bench-parse)" "$bytes" "$files" "$dbprov" bench-parse "$tree"
  rnix_t[$n]=$last_t
  if [ -n "$deadnix" ]; then
    measure "deadnix (reference)" "$bytes" "$files" "$deadnix" --fail "$tree"
    deadnix_t[$n]=$last_t
  fi
  if [ "$n" = 1000 ]; then
    one=$(find -L "$tree/modules/server" -name 'svc00500.nix')
    rel=${one#"$tree/"}
    # As an editor runs it on save: the buffer on standard input.
    STDIN_FILE=$one measure "editor check (--stdin-filename)" "$(stat -c %s "$one")" 1 \
      "$dbprov" check --format short --root "$tree" --stdin-filename "$rel" "$rel"
    editor_t=$last_t
  fi
done

# The targets of issue 8, as ratios measured in this run.
verdict() { # NAME VALUE LIMIT
  awk -v n="$1" -v v="$2" -v l="$3" 'BEGIN {
    printf "%-58s %10.3f  limit %10.3f  %s\n", n, v, l, (v < l ? "met" : "NOT MET") }'
}
echo "== targets"
if [ -n "${deadnix_t[10000]:-}" ]; then
  verdict "10,000 tree: check time / deadnix time" \
    "$(awk -v a="${check_t[10000]}" -v b="${deadnix_t[10000]}" 'BEGIN { print a / b }')" 0.5
fi
verdict "10,000 tree: check time / rnix-alone time" \
  "$(awk -v a="${check_t[10000]}" -v b="${rnix_t[10000]}" 'BEGIN { print a / b }')" 1.5
verdict "1,000 tree: editor check (s)" "$editor_t" 0.050
verdict "10,000 tree: peak MB / (3 x source MB + 50)" \
  "$(awk -v m="${check_mb[10000]}" -v s="${source_mb[10000]}" 'BEGIN { print m / (3 * s + 50) }')" 1
verdict "linearity: check time per service, 10,000 / 1,000 tree" \
  "$(awk -v a="${check_t[10000]}" -v b="${check_t[1000]}" 'BEGIN { print (a / 10000) / (b / 1000) }')" 1.25
