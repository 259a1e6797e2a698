#!/usr/bin/env bash
# The table of README.md beside this script (docs/methods.md, "What the defaults do on real
# data"): each real export's job run as it is and with one default changed, printing k,
# silhouette, both stabilities and the segment names.
#
#   SEGMENTA_REAL_DATA=/path/to/data bash benches/real-data/variants.sh
#
# The folder holds the exports under the file names the jobs here use (each job says where the
# data comes from); jobs whose file is missing are skipped. CDNOW is also read from
# ../shared/data. Results go to $SEGMENTA_REAL_DATA/reports.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="${SEGMENTA_REAL_DATA:?set SEGMENTA_REAL_DATA to the folder holding the exports}"
segmenta="${SEGMENTA:-$here/../../target/debug/segmenta}"
shared="$here/../../../shared/data/cdnow_transactions.csv"
[ -f "$data/cdnow_transactions.csv" ] || { [ -f "$shared" ] && cp "$shared" "$data/"; } || true

echo "| data | job | k | silhouette | seeds | bootstrap | verdict | segments |"
echo "|---|---|---:|---:|---:|---:|---|---|"
for job in "$here"/*.toml; do
  name="$(basename "$job" .toml)"
  file="$(sed -n 's/^path = "\(.*\)"/\1/p' "$job" | head -1)"
  [ -f "$data/$file" ] || { echo "skipped $name: no $data/$file" >&2; continue; }
  for variant in default "shrink_shares = false" "weights = { habits = 0.0 }" \
      "winsorize = [0.0, 1.0]" "balance_groups = false"; do
    tag="$(echo "$variant" | tr -c 'a-z0-9\n' '_' | cut -c1-20)"
    run="$data/$name-$tag.toml"
    sed "s/^name = .*/name = \"$name-$tag\"/" "$job" > "$run"
    [ "$variant" = default ] || printf '\n[features]\n%s\n' "$variant" >> "$run"
    "$segmenta" run "$run" --output "$data/reports" --quiet
    python3 - "$data/reports/$name-$tag" "$name" "$variant" <<'PY'
import glob, json, sys
summary = json.load(open(sorted(glob.glob(sys.argv[1] + "/*/summary.json"))[-1]))
km = summary["kmeans"]
chosen = next(s for s in km["k_scores"] if s["k"] == km["k"])
num = lambda v: "–" if v is None else f"{v:.2f}"
names = "; ".join(c["title"] for c in summary["clusters"])
print(f"| {sys.argv[2]} | {sys.argv[3]} | {km['k']} | {num(chosen['silhouette'])} | "
      f"{num(chosen['stability'])} | {num(chosen['bootstrap_stability'])} | "
      f"{'yes' if km.get('verdict') else ''} | {names} |")
PY
  done
done
