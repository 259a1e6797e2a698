#!/usr/bin/env bash
# The scale benchmark in one command: builds segmenta (the dev profile `cargo run` uses),
# installs the reference's Python packages in a venv outside the repository, and at each size
# generates the data (once; kept in $SEGMENTA_BENCH_DIR) and runs, one after the other:
#   - the lean comparison of issue 21 (benches/reference/lean_measure.sh), on both data shapes:
#     segmenta's lean job with k = 8 and with automatic k, the lean pandas + scikit-learn notebook
#     and the lean polars aggregation;
#   - up to 1,000,000 customers only, the full job against the heavy pandas notebook and the
#     polars-Python aggregation (benches/reference/measure.sh);
# then runs the criterion stage benchmarks and writes BENCHMARKS.md from all the results: a
# short intro with the machine (lean_tabulate.py --header), the lean sections, the heavy
# sections (tabulate.py --no-header) and the hand-measured sections carried over.
#
#   bash benches/scale.sh                       # 100,000, 1,000,000 and 3,000,000 customers
#   bash benches/scale.sh 10000 100000          # other sizes
#
# Memory: the heavy pandas notebook (measure.sh) peaks near 10 GB per million customers, so it
# needs about 12 GB free at 1M and would not fit in this 24 GB machine at 3M — it is not run
# above 1,000,000. The lean notebook peaks near 7 GB per million (about 20 GB at 3M: the 3M run
# needs the machine to itself). Disk in $SEGMENTA_BENCH_DIR (default /tmp/segmenta-bench), per
# million customers: about 3.5 GB for the lean CSVs of both shapes and their results, 1 GB for
# the heavy notebook's Parquet data and results.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000 3000000)
# The heavy notebook's sizes: at most 1,000,000 customers (see above).
heavy=()
for n in "${sizes[@]}"; do
  if [ "$n" -le 1000000 ]; then heavy+=("$n"); fi
done
export SEGMENTA_BENCH_DIR="${SEGMENTA_BENCH_DIR:-/tmp/segmenta-bench}"

command -v /usr/bin/time >/dev/null || {
  echo "scale.sh: /usr/bin/time is needed for peak memory (Debian package 'time')" >&2; exit 2; }
cargo build --quiet
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
export SEGMENTA="$target/debug/segmenta"
export SEGMENTA_BENCH_VENV="${SEGMENTA_BENCH_VENV:-$HOME/.cache/segmenta-bench-venv}"
bash benches/reference/setup.sh >/dev/null

status=0
for n in "${sizes[@]}"; do
  echo "== $n customers: lean job, both data shapes" >&2
  # A feature comparison that fails (exit 1) is reported, and the tables are still written.
  bash benches/reference/lean_measure.sh "$n" || status=$?
  if [ "$n" -le 1000000 ]; then
    echo "== $n customers: full job against the heavy notebook" >&2
    bash benches/reference/measure.sh "$n"
  else
    echo "== $n customers: no heavy notebook above 1,000,000 customers (it would not fit in memory)" >&2
  fi
done
echo "== criterion stage benchmarks (benches/stages.rs)" >&2
cargo bench --quiet --profile dev --bench stages >&2
# The "Where the time goes", "Fit on a sample", "Lifetime fit against lifetimes" (benches/lifetime.sh),
# "Test suite build and run time" and "Past one machine" sections are measured apart; they are
# carried over.
kept="$(awk '/^## /{keep = ($0 == "## Where the time goes at 1,000,000 customers" || $0 == "## Fit on a sample" || $0 == "## Lifetime fit against lifetimes" || $0 == "## Test suite build and run time" || $0 == "## Past one machine: a feature table of 10 million customers")} keep' BENCHMARKS.md 2>/dev/null || true)"
{
  python3 benches/reference/lean_tabulate.py --bench-dir "$SEGMENTA_BENCH_DIR" --sizes "${sizes[@]}" \
    --header --date "$(date +%Y-%m-%d)"
  echo
  python3 benches/reference/tabulate.py --bench-dir "$SEGMENTA_BENCH_DIR" --sizes "${heavy[@]}" \
    --no-header --criterion-dir "$target/criterion"
  if [ -n "$kept" ]; then printf '\n%s\n' "$kept"; fi
} > BENCHMARKS.md.new
mv BENCHMARKS.md.new BENCHMARKS.md
echo "wrote $root/BENCHMARKS.md" >&2
exit "$status"
