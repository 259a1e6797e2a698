#!/usr/bin/env bash
# One measurement of the scale benchmark at one size: generate the data (once), copy
# benches/scale.toml into its folder, then run, one after the other, segmenta's `run`, the
# pandas + scikit-learn notebook and the polars-Python aggregation, each with its timings.
#
#   bash benches/reference/measure.sh 100000            # → $SEGMENTA_BENCH_DIR/100000/results/
#
# Environment: SEGMENTA (the segmenta binary; default: segmenta on PATH, e.g. target/release/segmenta),
# SEGMENTA_BENCH_DIR (data and results; default /tmp/segmenta-bench — never inside the repository),
# SEGMENTA_BENCH_VENV (as setup.sh; run setup.sh first), FORMAT (parquet | csv; default parquet:
# the CSV run reads the same data written as CSV, segmenta through a copy of the job naming .csv).
set -euo pipefail

customers="${1:?usage: measure.sh CUSTOMERS}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
segmenta="${SEGMENTA:-segmenta}"
format="${FORMAT:-parquet}"
base="${SEGMENTA_BENCH_DIR:-/tmp/segmenta-bench}"
python="${SEGMENTA_BENCH_VENV:-$HOME/.cache/segmenta-bench-venv}/bin/python"
data="$base/$customers-$format"
results="$data/results"
timed() { if [ -x /usr/bin/time ]; then /usr/bin/time -f "wall %e s, max RSS %M KB" "$@"; else "$@"; fi; }

[ -x "$python" ] || { echo "measure.sh: run benches/reference/setup.sh first ($python missing)" >&2; exit 2; }
if [ ! -f "$data/transactions.$format" ]; then
  timed "$segmenta" generate --customers "$customers" --seed 7 --output "$data" --format "$format"
fi
mkdir -p "$results"
# The job's paths are relative to its folder, so the job goes beside the data.
sed "s/\.parquet\"/.$format\"/" "$here/../scale.toml" > "$data/scale.toml"

echo "== segmenta run" >&2
rm -rf "$results/reports"
timed "$segmenta" --verbose run "$data/scale.toml" --output "$results/reports" 2>&1 | tee "$results/segmenta.log" >&2
echo "== pandas + scikit-learn" >&2
timed "$python" "$here/notebook.py" --data "$data" --format "$format" \
  --out "$results/assignments-pandas.csv" --timings "$results/pandas.json" 2>&1 | tee "$results/pandas.log" >&2
echo "== polars-Python aggregation" >&2
timed "$python" "$here/aggregate_polars.py" --data "$data" --format "$format" \
  --out "$results/features-polars.parquet" --timings "$results/polars.json" 2>&1 | tee "$results/polars.log" >&2
echo "results in $results" >&2
