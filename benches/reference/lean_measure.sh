#!/usr/bin/env bash
# The lean benchmark at one size, on both data shapes: `segmenta generate --format csv`
# (transactions.csv, job benches/lean.toml) and shop_log.py (orders.csv, job
# benches/shop_log.toml). For each shape, one after the other: segmenta `run` of the job (k = 8),
# segmenta `run` of a copy of it with k = "auto" (k_range's default, 2…10), the lean pandas +
# scikit-learn notebook and the lean polars aggregation, each with its timings; then segmenta's
# `features` of the same job, compared column by column with both scripts' features
# (compare_features.py --shared-only: equal to 1e-9 relative, or the script exits 1).
# benches/reference/lean_tabulate.py makes the tables of BENCHMARKS.md from the results.
#
#   bash benches/reference/lean_measure.sh 100000      # → $SEGMENTA_BENCH_DIR/lean-100000/{gen,shop}/results/
#
# Environment: SEGMENTA (the segmenta binary; default: segmenta on PATH), SEGMENTA_BENCH_DIR (data
# and results; default /tmp/segmenta-bench — never inside the repository), SEGMENTA_BENCH_VENV
# (as setup.sh; run setup.sh first), SHAPES (default "gen shop").
set -euo pipefail

customers="${1:?usage: lean_measure.sh CUSTOMERS}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
segmenta="${SEGMENTA:-segmenta}"
base="${SEGMENTA_BENCH_DIR:-/tmp/segmenta-bench}/lean-$customers"
python="${SEGMENTA_BENCH_VENV:-$HOME/.cache/segmenta-bench-venv}/bin/python"
timed() { if [ -x /usr/bin/time ]; then /usr/bin/time -f "wall %e s, max RSS %M KB" "$@"; else "$@"; fi; }

[ -x "$python" ] || { echo "lean_measure.sh: run benches/reference/setup.sh first ($python missing)" >&2; exit 2; }
status=0
for shape in ${SHAPES:-gen shop}; do
  data="$base/$shape"
  results="$data/results"
  if [ "$shape" = gen ]; then
    job=lean.toml; log=transactions.csv; columns=(); format="%Y-%m-%dT%H:%M:%S%.f"
    [ -f "$data/$log" ] || timed "$segmenta" generate --customers "$customers" --seed 7 --output "$data" --format csv
  else
    job=shop_log.toml; log=orders.csv; format="%Y-%m-%d %H:%M"
    columns=(--customer-id client_ref --timestamp purchased_at --amount total --category product_line)
    [ -f "$data/$log" ] || timed "$python" "$here/shop_log.py" --customers "$customers" --seed 7 --output "$data"
  fi
  mkdir -p "$results"
  # The job's paths are relative to its folder, so the job goes beside the data; so does its copy
  # with automatic k (k = "auto" over k_range's default, 2…10).
  cp "$here/../$job" "$data/$job"
  auto="${job%.toml}-auto.toml"
  sed 's/^k = 8$/k = "auto"/' "$here/../$job" > "$data/$auto"
  grep -q '^k = "auto"$' "$data/$auto" || { echo "lean_measure.sh: no 'k = 8' line in $job" >&2; exit 2; }

  echo "== $shape: segmenta run (k = 8)" >&2
  rm -rf "$results/reports"
  timed "$segmenta" --verbose run "$data/$job" --output "$results/reports" 2>&1 | tee "$results/segmenta.log" >&2
  echo "== $shape: segmenta run (automatic k, 2…10)" >&2
  rm -rf "$results/reports-auto"
  timed "$segmenta" --verbose run "$data/$auto" --output "$results/reports-auto" 2>&1 | tee "$results/segmenta-auto.log" >&2
  echo "== $shape: lean pandas + scikit-learn" >&2
  # OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are set on this machine for old OpenBLAS builds; the
  # OpenBLAS in current numpy wheels runs slower with them (they override its own CPU detection),
  # so the notebook runs without them — in this command only.
  timed env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$python" "$here/lean_notebook.py" \
    --transactions "$data/$log" "${columns[@]}" \
    --out "$results/assignments-lean-pandas.csv" --timings "$results/lean-pandas.json" \
    --features-out "$results/features-lean-pandas.parquet" 2>&1 | tee "$results/lean-pandas.log" >&2
  echo "== $shape: lean polars" >&2
  timed "$python" "$here/lean_polars.py" --transactions "$data/$log" "${columns[@]}" \
    --timestamp-format "$format" --out "$results/features-lean-polars.parquet" --timings "$results/lean-polars.json" \
    2>&1 | tee "$results/lean-polars.log" >&2

  echo "== $shape: features compared with segmenta's" >&2
  "$segmenta" --quiet features "$data/$job" -o "$results/features-segmenta.parquet"
  id=customer_id
  [ "$shape" = shop ] && id=client_ref
  for tool in polars pandas; do
    echo "-- lean $tool" >&2
    "$python" "$here/compare_features.py" "$results/features-lean-$tool.parquet" \
      --segmenta-features "$results/features-segmenta.parquet" --shared-only --customer-id "$id" \
      | tee "$results/compare-$tool.txt" >&2 || status=1
  done
  echo "results in $results" >&2
done
exit "$status"
