#!/usr/bin/env bash
# dbprov's benchmark: synthetic trees of 100, 1,000 and 10,000 services
# (generate.py), timed with the release build. Prints wall time, files/s,
# MB/s and peak memory for `dbprov check` and `dbprov plan` on each tree, a
# single-file editor check (--stdin-filename) inside the 1,000 tree, rnix
# alone parsing each tree on all cores (`dbprov bench-parse`), and deadnix on
# the same trees as a reference (installed from crates.io into $BENCH_DIR if
# missing). Usage: tests/bench/run.sh [BENCH_DIR]   (default /tmp/dbprov-bench)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dir=${1:-/tmp/dbprov-bench}
mkdir -p "$dir"
cargo build --release --locked --manifest-path "$repo/Cargo.toml" >/dev/null 2>&1
dbprov="$repo/target/release/dbprov"
deadnix=$(command -v deadnix || true)
if [ -z "$deadnix" ]; then
  [ -x "$dir/deadnix/bin/deadnix" ] || cargo install deadnix --locked --root "$dir/deadnix" >/dev/null 2>&1 || true
  [ -x "$dir/deadnix/bin/deadnix" ] && deadnix="$dir/deadnix/bin/deadnix"
fi

# measure NAME BYTES FILES COMMAND...: best wall time of 3 runs, peak RSS of the last.
measure() {
  local name=$1 bytes=$2 files=$3; shift 3
  local best="" mem="" stats
  stats=$(mktemp)
  for _ in 1 2 3; do
    /usr/bin/time -o "$stats" -f "%e %M" "$@" >/dev/null 2>&1 || true
    local out t
    out=$(tail -1 "$stats")
    t=${out% *}; mem=${out#* }
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
  done
  rm -f "$stats"
  awk -v n="$name" -v t="$best" -v b="$bytes" -v f="$files" -v m="$mem" 'BEGIN {
    if (t == 0) t = 0.001;
    printf "%-34s %8.3f s %10.0f files/s %8.1f MB/s %8.1f MB peak\n", n, t, f / t, b / 1e6 / t, m / 1024 }'
}

printf "machine: %s, %s cores, %s\n" "$(uname -m)" "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for n in 100 1000 10000; do
  tree="$dir/tree$n"
  [ -d "$tree" ] || python3 "$here/generate.py" "$n" "$tree"
  files=$(find -L "$tree" -name '*.nix' | wc -l)
  bytes=$(find -L "$tree" -name '*.nix' -printf '%s\n' | awk '{s+=$1} END {print s}')
  echo "== $n services: $files files, $((bytes / 1000000)) MB"
  measure "dbprov check" "$bytes" "$files" "$dbprov" check --root "$tree"
  measure "dbprov check --format json" "$bytes" "$files" "$dbprov" check --format json --root "$tree"
  measure "dbprov plan" "$bytes" "$files" "$dbprov" plan --root "$tree"
  measure "rnix alone (bench-parse)" "$bytes" "$files" "$dbprov" bench-parse "$tree"
  if [ -n "$deadnix" ]; then
    measure "deadnix (reference)" "$bytes" "$files" "$deadnix" --fail "$tree"
  fi
  if [ "$n" = 1000 ]; then
    one=$(find -L "$tree/modules/server" -name 'svc00500.nix')
    rel=${one#"$tree/"}
    measure "editor check (--stdin-filename)" "$(stat -c %s "$one")" 1 \
      sh -c "\"$dbprov\" check --format short --root \"$tree\" --stdin-filename \"$rel\" \"$rel\" < \"$one\""
  fi
done
