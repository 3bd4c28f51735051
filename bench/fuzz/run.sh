#!/usr/bin/env bash
# Long, coverage-guided fuzz runs: every target of crates/fuzz through libFuzzer
# (cargo-fuzz, nightly), started from the targets' seeds, and a table of what ran.
#
#   bash bench/fuzz/run.sh                 # 10M executions per fast target, 1M per slow one
#   RUNS=1000000 SLOW_RUNS=100000 bash bench/fuzz/run.sh
#   MAX_TIME=600 bash bench/fuzz/run.sh tx_decode json_rpc   # also cap each at 600 s
#
# Needs: a nightly toolchain (rustup toolchain install nightly) and cargo-fuzz
# (cargo install cargo-fuzz). Builds without a sanitizer (-s none: safe Rust; the
# findings sought are panics, overflows under debug assertions (-a), hangs and OOMs) and
# with debug assertions. A crash leaves its input in fuzz/artifacts/NAME/; replay it with
# `cargo +nightly fuzz run -O -a -s none NAME fuzz/artifacts/NAME/crash-...`, fix, and add
# the input to the target's seeds (crates/fuzz/src/seeds.rs) so the short run keeps it.
set -uo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-10000000}
SLOW_RUNS=${SLOW_RUNS:-1000000}
MAX_TIME=${MAX_TIME:-0}
# The libFuzzer builds (nightly, instrumented) get their own target dir.
FUZZ_TARGET_DIR=${FUZZ_TARGET_DIR:-/var/cache/verai-fuzz-target}
fuzz() {
  local cmd=$1
  shift
  (cd fuzz && CARGO_TARGET_DIR=$FUZZ_TARGET_DIR cargo +nightly fuzz "$cmd" --fuzz-dir . "$@")
}
OUT=${OUT:-bench/fuzz/results}
mkdir -p "$OUT" fuzz/corpus

cargo run -q -p verai-fuzz --example write_seeds -- fuzz/corpus
slow=$(cargo run -q -p verai-fuzz --example list_targets -- --slow)
targets=${*:-$(cargo run -q -p verai-fuzz --example list_targets)}
fuzz build -O -a -s none || exit 1

printf '%-22s %12s %9s %10s %8s %8s %s\n' target executions seconds "exec/s" cov ft result
for t in $targets; do
  n=$RUNS
  if grep -qw "$t" <<<"$slow"; then n=$SLOW_RUNS; fi
  log="$OUT/$t.log"
  start=$(date +%s.%N)
  mkdir -p "fuzz/artifacts/$t"
  # The binaries built above, run directly: `cargo fuzz run` would rebuild on any source
  # change made while the runs go on.
  "$FUZZ_TARGET_DIR/x86_64-unknown-linux-gnu/release/$t" "fuzz/corpus/$t" \
      -artifact_prefix="fuzz/artifacts/$t/" -runs="$n" -max_total_time="$MAX_TIME" \
      -rss_limit_mb=4096 -timeout=10 -max_len=262144 -print_final_stats=1 >"$log" 2>&1
  rc=$?
  end=$(date +%s.%N)
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  line=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' <<<"$line" | grep -o '[0-9]*')
  ft=$(grep -o 'ft: [0-9]*' <<<"$line" | grep -o '[0-9]*')
  secs=$(echo "$end - $start" | bc)
  rate=$(echo "${execs:-0} / $secs" | bc)
  if [ $rc -eq 0 ]; then result=ok; else result="FAILED (see $log)"; fi
  printf '%-22s %12s %9.0f %10s %8s %8s %s\n' "$t" "${execs:-0}" "$secs" "$rate" "${cov:--}" "${ft:--}" "$result"
done
