#!/usr/bin/env bash
# Creates (or updates) the virtual environment for the reference scripts, outside the repository:
#   bash benches/reference/setup.sh            # venv in ${SEGMENTA_BENCH_VENV:-$HOME/.cache/segmenta-bench-venv}
#   SEGMENTA_BENCH_VENV=/tmp/venv bash benches/reference/setup.sh
# Idempotent: an existing venv is reused, and pip is skipped when requirements.txt has not changed
# since the last successful install (its SHA-256 is kept in the venv). Needs python3 (3.10+) with
# the venv module and access to PyPI. Prints the venv's python at the end.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${SEGMENTA_BENCH_VENV:-$HOME/.cache/segmenta-bench-venv}"
python="${PYTHON:-python3}"
requirements="$here/requirements.txt"
stamp="$venv/.segmenta-requirements.sha256"

root="$(cd "$here/../.." && pwd)"
case "$(realpath -m "$venv")" in
  "$root"/*) echo "setup.sh: put the venv outside the repository (SEGMENTA_BENCH_VENV=$venv)" >&2; exit 2 ;;
esac

if [ ! -x "$venv/bin/python" ]; then
  echo "creating venv $venv" >&2
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv"
fi

want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
  && "$venv/bin/python" -c "import numpy, pandas, pyarrow, sklearn, polars" 2>/dev/null; then
  echo "venv $venv is up to date" >&2
else
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -r "$requirements"
  echo "$want" > "$stamp"
fi
"$venv/bin/python" - <<'PY'
import numpy, pandas, pyarrow, sklearn, polars, sys
print(f"python {sys.version.split()[0]}: numpy {numpy.__version__}, pandas {pandas.__version__}, "
      f"pyarrow {pyarrow.__version__}, scikit-learn {sklearn.__version__}, polars {polars.__version__}",
      file=sys.stderr)
PY
echo "$venv/bin/python"
