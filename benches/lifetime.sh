#!/usr/bin/env bash
# The lifetime models' fit against the Python `lifetimes` package (0.11.3) on the same summary
# table, for BENCHMARKS.md ("Lifetime fit against lifetimes"): at each size,
# benches/reference/lifetimes_fit.py simulates the table, writes it and times lifetimes' fits and
# predictions; then the criterion bench benches/lifetime.rs fits and scores the same file. Prints
# the section's table (markdown) on stdout.
#
#   bash benches/lifetime.sh                 # 100,000 and 1,000,000 customers
#   bash benches/lifetime.sh 3000000         # other sizes
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
dir="${SEGMENTA_LIFETIME_BENCH_DIR:-/tmp/lifetime-bench}"
venv="${SEGMENTA_LIFETIMES_VENV:-$HOME/.cache/lifetimes-venv}"
mkdir -p "$dir"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet lifetimes==0.11.3
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"

for n in "${sizes[@]}"; do
  echo "== $n customers: lifetimes" >&2
  (cd benches/reference && "$venv/bin/python" lifetimes_fit.py --customers "$n" \
    --out "$dir/summary-$n.csv" --json "$dir/lifetimes-$n.json" >&2)
  echo "== $n customers: segmenta (criterion, dev profile)" >&2
  SEGMENTA_LIFETIME_SUMMARY="$dir/summary-$n.csv" \
    cargo bench --quiet --profile dev --bench lifetime >&2
done

python3 - "$dir" "$target/criterion" "${sizes[@]}" <<'PY'
import json, sys
from pathlib import Path

out, criterion, sizes = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
def mean_s(n, step):
    estimates = criterion / f"lifetime_{n}" / step / "new" / "estimates.json"
    return json.loads(estimates.read_text())["mean"]["point_estimate"] / 1e9
print("| customers | lifetimes: BG/NBD fit | Gamma-Gamma fit | both | segmenta: both fits | ÷ lifetimes | lifetimes: predict | segmenta: score | ÷ |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for n in sizes:
    steps = json.loads((out / f"lifetimes-{n}.json").read_text())["steps"]
    bg, gg, predict = (steps[k]["wall_s"] for k in ("fit_bgnbd", "fit_gg", "predict"))
    fit, score = mean_s(n, "fit"), mean_s(n, "score")
    print(f"| {int(n):,} | {bg:.2f} s | {gg:.2f} s | {bg + gg:.2f} s | {fit:.3f} s | {fit / (bg + gg):.3f} | {predict:.3f} s | {score:.3f} s | {score / predict:.2f} |")
PY
