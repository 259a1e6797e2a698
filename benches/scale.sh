#!/usr/bin/env bash
# The scale benchmark in one command: builds segmenta (the dev profile `cargo run` uses),
# installs the reference's Python packages in a venv outside the repository, and at each size
# generates the data (once; kept in $SEGMENTA_BENCH_DIR), runs segmenta, the pandas +
# scikit-learn notebook and the polars-Python aggregation one after the other, then runs the
# criterion stage benchmarks and writes BENCHMARKS.md from all the results.
#
#   bash benches/scale.sh                       # 10,000, 100,000 and 1,000,000 customers
#   bash benches/scale.sh 10000 100000          # other sizes
#
# Needs about 12 GB of free memory at 1M customers (the pandas notebook peaks near 10 GB) and
# 4 GB of disk per million customers in $SEGMENTA_BENCH_DIR (default /tmp/segmenta-bench).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
export SEGMENTA_BENCH_DIR="${SEGMENTA_BENCH_DIR:-/tmp/segmenta-bench}"

command -v /usr/bin/time >/dev/null || {
  echo "scale.sh: /usr/bin/time is needed for peak memory (Debian package 'time')" >&2; exit 2; }
cargo build --quiet
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
export SEGMENTA="$target/debug/segmenta"
export SEGMENTA_BENCH_VENV="${SEGMENTA_BENCH_VENV:-$HOME/.cache/segmenta-bench-venv}"
bash benches/reference/setup.sh >/dev/null

for n in "${sizes[@]}"; do
  echo "== $n customers" >&2
  bash benches/reference/measure.sh "$n"
done
echo "== criterion stage benchmarks (benches/stages.rs)" >&2
cargo bench --quiet --profile dev --bench stages >&2
# The "Fit on a sample", "Test suite build and run time" and "Past one machine" sections are
# measured by hand;
# they are carried over.
kept="$(awk '/^## /{keep = ($0 == "## Fit on a sample" || $0 == "## Test suite build and run time" || $0 == "## Past one machine: a feature table of 10 million customers")} keep' BENCHMARKS.md 2>/dev/null || true)"
python3 benches/reference/tabulate.py --bench-dir "$SEGMENTA_BENCH_DIR" --sizes "${sizes[@]}" \
  --date "$(date +%Y-%m-%d)" --criterion-dir "$target/criterion" > BENCHMARKS.md.new
if [ -n "$kept" ]; then printf '\n%s\n' "$kept" >> BENCHMARKS.md.new; fi
mv BENCHMARKS.md.new BENCHMARKS.md
echo "wrote $root/BENCHMARKS.md" >&2
