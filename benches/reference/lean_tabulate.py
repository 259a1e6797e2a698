#!/usr/bin/env python3
"""The lean sections of BENCHMARKS.md (issue 21) from the results of lean_measure.sh, one run
per size: segmenta's lean job against the lean pandas + scikit-learn notebook and the lean polars
aggregation, on both data shapes, stage by stage, the growth with the size and the targets.

    python3 lean_tabulate.py --bench-dir /tmp/segmenta-bench --sizes 100000 1000000 3000000
    python3 lean_tabulate.py --bench-dir … --sizes … --header --date 2026-12-06   # with the file's top

Reads, per size and shape, <bench-dir>/lean-<size>/<gen|shop>/results/:
  segmenta.log, segmenta-auto.log  `segmenta --verbose run` of the job (k = 8) and of its copy
                                   with k = "auto": stage lines, k-score lines, and
                                   /usr/bin/time's `wall … s, max RSS … KB` as the last line
  lean-pandas.json, lean-polars.json  the scripts' common.Stopwatch timings
  lean-pandas.log, lean-polars.log    their output, ending with /usr/bin/time's line
  compare-pandas.txt, compare-polars.txt  compare_features.py against segmenta's features
A size or shape not run, or a file missing, prints "–" or "not measured". With --header, the
file's title, the machine and package versions come first (tabulate.py's machine lines; the
versions from these results and from the heavy notebook's, <bench-dir>/<size>-parquet/results/,
when they are there). Standard library only, so it runs with the system python3.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
import textwrap
from pathlib import Path

from tabulate import machine

STAGE = re.compile(r"^\s{2}(load|features|rules|prepare|k-means|dbscan|label)\s+([\d.]+) s\s+(.*)$")
PEAK = re.compile(r"\(peak memory (\d+) MB\)")
K_LINE = re.compile(r"^\s+k =\s*(\d+): .*inertia ([\d.]+),.* restarts ([\d.]+) s")
CHOSEN = re.compile(r"^k = (\d+)")
CUSTOMERS = re.compile(r"^(\d+) customers ×")
TIME = re.compile(r"wall ([\d.]+) s, max RSS (\d+) KB")

SHAPES = {
    "gen": "gen: `segmenta generate --format csv` transactions.csv, job benches/lean.toml",
    "shop": "shop: shop_log.py orders.csv, job benches/shop_log.toml",
}
# The notebook's steps that the "rest" row leaves out (write, imports and start-up are the rest).
PANDAS_STEPS = ("read", "aggregate", "prepare", "kmeans", "silhouette")
SMALL, MILLION, LARGE = 100_000, 1_000_000, 3_000_000


def time_line(path: Path) -> tuple[float, float] | None:
    """/usr/bin/time's wall seconds and max RSS in MB, the last such line of a log."""
    if not path.is_file():
        return None
    found = None
    for line in path.read_text(errors="replace").splitlines():
        if m := TIME.search(line):
            found = (float(m[1]), int(m[2]) / 1024)
    return found


def segmenta_log(path: Path) -> dict | None:
    """Stages (s), their peaks (MB), the chosen k with its inertia and restarts time, the
    rows read, the customers, the process's wall and max RSS."""
    if not path.is_file():
        return None
    out: dict = {"stages": {}, "peak_mb": {}, "k": {}}
    for line in path.read_text(errors="replace").splitlines():
        if m := STAGE.match(line):
            out["stages"][m[1]] = float(m[2])
            if p := PEAK.search(m[3]):
                out["peak_mb"][m[1]] = float(p[1])
            if m[1] == "load" and (r := re.match(r"(\d+) rows", m[3])):
                out["lines"] = int(r[1])
            if m[1] == "prepare" and (f := re.search(r"fitted on a uniform sample of ([\d,]+)", m[3])):
                out["fit_sample"] = int(f[1].replace(",", ""))
            if m[1] == "features" and (c := CUSTOMERS.match(m[3])):
                out["customers"] = int(c[1])
            if m[1] == "k-means" and (c := CHOSEN.match(m[3])):
                out["chosen_k"] = int(c[1])
        elif m := K_LINE.match(line):
            out["k"][int(m[1])] = (float(m[2]), float(m[3]))
        elif m := TIME.search(line):
            out["wall"], out["rss_mb"] = float(m[1]), int(m[2]) / 1024
    k = out.get("chosen_k") or (next(iter(out["k"])) if len(out["k"]) == 1 else None)
    if k in out["k"]:
        out["inertia"], out["restarts"] = out["k"][k]
    if out.get("wall") is not None:
        out["rest"] = out["wall"] - sum(out["stages"].values())
    return out


def script(results: Path, name: str) -> dict | None:
    """A reference script's timings JSON and its process's wall and max RSS."""
    path = results / f"{name}.json"
    if not path.is_file():
        return None
    out = json.loads(path.read_text())
    out["step"] = {k: v["wall_s"] for k, v in out.get("steps", {}).items()}
    timed = time_line(results / f"{name}.log")
    # Without /usr/bin/time: the script's own total and peak (its start-up not counted).
    out["wall"], out["rss_mb"] = timed or (out.get("total_wall_s"), out.get("peak_rss_mb"))
    return out


def compared(results: Path, tool: str) -> str | None:
    path = results / f"compare-{tool}.txt"
    if not path.is_file():
        return None
    lines = path.read_text(errors="replace").strip().splitlines()
    return lines[-1] if lines else None


def measurement(bench: Path, n: int, shape: str) -> dict | None:
    results = bench / f"lean-{n}" / shape / "results"
    if not results.is_dir():
        return None
    ours, pandas, polars = (segmenta_log(results / "segmenta.log"), script(results, "lean-pandas"),
                            script(results, "lean-polars"))
    if not (ours or pandas or polars):
        return None
    if pandas and pandas.get("wall") is not None:
        # The notebook also writes its feature table for the comparison with segmenta's
        # (--features-out, untimed in its steps): its process wall less that write is the job's.
        untimed = (pandas.get("total_wall_s", 0) - pandas.get("imports_s", 0)
                   - sum(pandas["step"].values()))
        pandas["untimed"] = max(untimed, 0.0)
        pandas["job_wall"] = pandas["wall"] - pandas["untimed"]
        pandas["rest"] = pandas["job_wall"] - sum(pandas["step"].get(s, 0) for s in PANDAS_STEPS)
    return {"ours": ours, "auto": segmenta_log(results / "segmenta-auto.log"), "pandas": pandas,
            "polars": polars, "compare": {t: compared(results, t) for t in ("pandas", "polars")}}


# -- formatting --------------------------------------------------------------------------------

def para(text: str) -> str:
    """A paragraph of prose, wrapped at 100 characters as the rest of BENCHMARKS.md."""
    return textwrap.fill(text, 100, break_on_hyphens=False, break_long_words=False)


def get(d: dict | None, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def add(*values):
    return None if any(v is None for v in values) else sum(values)


def seconds(v: float | None) -> str:
    return "–" if v is None else (f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}")


def megabytes(v: float | None) -> str:
    return "–" if v is None else f"{v:,.0f}"


def count(v: int | None) -> str:
    return "–" if v is None else f"{v:,}"


def quotient(ours: float | None, theirs: float | None) -> float | None:
    return None if ours is None or not theirs else ours / theirs


def ratio(ours: float | None, theirs: float | None, digits: int = 2) -> str:
    q = quotient(ours, theirs)
    return "–" if q is None else f"{q:.{digits}f}"


def verdict(value: float | None, limit: float) -> str:
    if value is None:
        return "not measured"
    return "met" if value <= limit else "**missed**"


# -- sections ----------------------------------------------------------------------------------

def stage_table(n: int, shape: str, m: dict) -> list[str]:
    o, a, p, q = m["ours"], m["auto"], m["pandas"], m["polars"]
    st = get(o, "stages") or {}
    ps = get(p, "step") or {}
    qs = get(q, "step") or {}

    blank = object()  # a tool without that step: an empty cell ("–" is a value not measured)

    def row(step: str, ours=None, pandas=blank, polars=blank, fmt=seconds, digits=2, bold=False):
        r_pd = ratio(ours, pandas, digits) if pandas is not blank else ""
        r_pl = ratio(ours, polars, digits) if polars is not blank else ""
        if bold and r_pd not in ("", "–"):
            r_pd = f"**{r_pd}**"
        return (f"| {step} | {fmt(ours)} | {fmt(pandas) if pandas is not blank else ''} | {r_pd} | "
                f"{fmt(polars) if polars is not blank else ''} | {r_pl} |")

    read_agg = add(st.get("load"), st.get("features"))
    pandas_read_agg = add(ps.get("read"), ps.get("aggregate"))
    pandas_kmeans_stage = add(ps.get("kmeans"), ps.get("silhouette"))
    lines = [f"### {n:,} customers — {SHAPES[shape]}", "",
             "| step | segmenta s | lean pandas + sklearn s | ours ÷ pandas | lean polars s | ours ÷ polars |",
             "|---|---:|---:|---:|---:|---:|",
             row("read + aggregate", read_agg, pandas_read_agg, qs.get("read_aggregate")),
             row("… of which read / load", st.get("load"), ps.get("read")),
             row("… of which aggregate / features", st.get("features"), ps.get("aggregate")),
             row("rules (segmenta only: classic RFM, lifecycle)", st.get("rules")),
             row("prepare", st.get("prepare"), ps.get("prepare")),
             row("k-means fit, 10 restarts (ours: restarts; sklearn: KMeans(n_init=10))"
                 + (f" — ours on its fit sample of {get(o, 'fit_sample'):,} customers"
                    if get(o, "fit_sample") else ""),
                 get(o, "restarts"), ps.get("kmeans")),
             (row("… its inertia (ours ÷ sklearn)", get(o, "inertia"), get(p, "kmeans", "inertia"),
                  fmt=lambda v: "–" if v is None else f"{v:,.1f}", digits=5)
              if not get(o, "fit_sample") else
              "| … its inertia | over the fit sample only: not comparable | "
              f"{get(p, 'kmeans', 'inertia') or 0:,.1f} | | | |"),
             row("k-means stage (ours: + stability over seeds and bootstrap, silhouette, CH, DB; "
                 "pandas: kmeans + silhouette)", st.get("k-means"), pandas_kmeans_stage)]
    if "dbscan" in st:
        lines.append(row("DBSCAN (segmenta only; this build still ran it)", st["dbscan"]))
    lines += [row("label (segmenta only)", st.get("label")),
              row("report and the rest (wall − the stages above; pandas: imports, start-up, write)",
                  get(o, "rest"), get(p, "rest")),
              row("whole job, fixed k = 8, report included (process wall)", get(o, "wall"),
                  get(p, "job_wall"), bold=True),
              row("whole job, automatic k 2…10 (process wall; pandas: its fixed-k job)",
                  get(a, "wall"), get(p, "job_wall"), bold=True),
              row("peak memory, MB (max RSS)", get(o, "rss_mb"), get(p, "rss_mb"), get(q, "rss_mb"),
                  fmt=megabytes, bold=True),
              f"| order lines · customers | {count(get(o, 'lines'))} · {count(get(o, 'customers'))} | "
              f"{count(get(p, 'lines'))} · {count(get(p, 'customers'))} | | "
              f"{count(get(q, 'customers'))} customers | |", ""]
    notes = []
    if a is not None:
        notes.append(f"Automatic k chose k = {get(a, 'chosen_k') or '?'} and peaked at "
                     f"{megabytes(get(a, 'rss_mb'))} MB; its k-means stage took "
                     f"{seconds(get(a, 'stages', 'k-means'))} s.")
    else:
        notes.append("Automatic k: not measured (no segmenta-auto.log).")
    if get(p, "untimed"):
        notes.append(f"The notebook's wall leaves out its untimed write of the feature table for "
                     f"the comparison ({p['untimed']:.2f} s).")
    cmp = m["compare"]
    if cmp["pandas"] or cmp["polars"]:
        notes.append("Features against segmenta's, column by column (compare_features.py "
                     f"--shared-only): lean pandas {cmp['pandas'] or 'not compared'}, "
                     f"lean polars {cmp['polars'] or 'not compared'}.")
    return lines + [para(" ".join(notes)), ""]


def growth(sizes: list[int], data: dict) -> list[str]:
    pairs = list(zip(sizes, sizes[1:]))
    head = (["shape", "tool"] + [f"{n:,}" for n in sizes]
            + [f"{a:,} → {b:,} (linear: ×{b / a:g})" for a, b in pairs])
    out = ["## Lean: growth", "",
           para("Process wall time per customer generated, µs (linear growth keeps it flat), the "
                "wall time in brackets, and the wall time's growth from one size to the next:"), "",
           "| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    tools = (("segmenta, fixed k", lambda m: get(m, "ours", "wall")),
             ("segmenta, automatic k", lambda m: get(m, "auto", "wall")),
             ("lean pandas + sklearn", lambda m: get(m, "pandas", "job_wall")),
             ("lean polars (read + aggregate + write)", lambda m: get(m, "polars", "wall")))
    for shape in SHAPES:
        for name, wall in tools:
            walls = [wall(data.get((n, shape))) for n in sizes]
            cells = [f"{w / n * 1e6:,.1f} ({seconds(w)} s)" if w is not None else "–"
                     for n, w in zip(sizes, walls)]
            cells += [f"×{walls[j] / walls[i]:.2f}" if walls[i] and walls[j] is not None else "–"
                      for i, j in ((i, i + 1) for i in range(len(pairs)))]
            out.append(f"| {shape} | {name} | " + " | ".join(cells) + " |")
    return out + [""]


def targets(data: dict) -> list[str]:
    out = ["## Targets of issue 21", "",
           para("Each target against the reference's run on the same machine, one after the "
                "other; \"not measured\" where that size or shape was not run."), ""]
    for shape in SHAPES:
        small, big, large = (data.get((n, shape)) for n in (SMALL, MILLION, LARGE))
        rows = []

        def times(label, limit, ours, theirs, unit="s"):
            q = quotient(ours, theirs)
            fmt = seconds if unit == "s" else megabytes
            measured = "–" if q is None else f"{q:.2f} × ({fmt(ours)} {unit} ÷ {fmt(theirs)} {unit})"
            rows.append(f"| {label} | {measured} | {verdict(q, limit)} |")

        for n, m in ((SMALL, small), (MILLION, big)):
            times(f"read + aggregate ≤ 1.2 × lean polars, {n:,} customers", 1.2,
                  add(get(m, "ours", "stages", "load"), get(m, "ours", "stages", "features")),
                  get(m, "polars", "step", "read_aggregate"))
        times(f"fixed-k job, report included ≤ 0.3 × the lean notebook, {MILLION:,}", 0.3,
              get(big, "ours", "wall"), get(big, "pandas", "job_wall"))
        times(f"fixed-k job, report included ≤ 0.5 × the lean notebook, {SMALL:,}", 0.5,
              get(small, "ours", "wall"), get(small, "pandas", "job_wall"))
        times(f"automatic-k job (2…10) ≤ 0.6 × the lean notebook (fixed k), {MILLION:,}", 0.6,
              get(big, "auto", "wall"), get(big, "pandas", "job_wall"))
        dbscan = get(big, "ours", "stages", "dbscan")
        rows.append("| DBSCAN no more than a tenth of the job, or opt-in | opt-in since commit "
                    "cb69e01: it cost more than a tenth (5.1 s of 10 s at 100k, 4.5 s of 42 s at 1M)"
                    + (f"; the build measured here still ran it ({seconds(dbscan)} s at 1M)"
                       if dbscan is not None else "") + " | met |")
        times(f"peak memory ≤ 0.5 × the lean notebook, {MILLION:,}", 0.5,
              get(big, "ours", "rss_mb"), get(big, "pandas", "rss_mb"), unit="MB")
        times(f"peak memory ≤ 1.3 × lean polars, {MILLION:,}", 1.3,
              get(big, "ours", "rss_mb"), get(big, "polars", "rss_mb"), unit="MB")
        # k-means: time and inertia both.
        fit = quotient(get(big, "ours", "restarts"), get(big, "pandas", "step", "kmeans"))
        inertia = quotient(get(big, "ours", "inertia"), get(big, "pandas", "kmeans", "inertia"))
        customers, columns = get(big, "pandas", "customers"), get(big, "pandas", "features")
        matrix = (f"{customers:,} × {columns}" if customers and columns else
                  {"gen": "1M × 15", "shop": "1M × 17"}[shape])
        same = ("equal to segmenta's preparation" if shape == "gen" else
                "segmenta's differs in monetary's log1p, which keeps the sign of the ~1 % "
                "negative values")
        if fit is None or inertia is None:
            measured, ok = "–", "not measured"
        else:
            measured = (f"time {fit:.2f} × ({seconds(big['ours']['restarts'])} s ÷ "
                        f"{seconds(big['pandas']['step']['kmeans'])} s); inertia {inertia:.5f} × "
                        "scikit-learn's")
            ok = "met" if fit <= 1.0 and inertia <= 1.001 else "**missed**"
        rows.append(f"| k-means fit (10 restarts) ≤ 1.0 × scikit-learn KMeans(n_init=10) at an "
                    f"inertia at most 0.1 % above its (lower is a better fit), {MILLION:,}; the lean "
                    f"notebook's matrix, {matrix} ({same}) | {measured} | {ok} |")
        for (a, ma), (b, mb), limit in (((SMALL, small), (MILLION, big), 10),
                                        ((MILLION, big), (LARGE, large), 3)):
            g = quotient(get(mb, "ours", "wall"), get(ma, "ours", "wall"))
            measured = "–" if g is None else (f"×{g:.2f} ({seconds(mb['ours']['wall'])} s ÷ "
                                              f"{seconds(ma['ours']['wall'])} s)")
            rows.append(f"| growth {a:,} → {b:,} no worse than linear (wall ×{limit} at most), "
                        f"fixed k | {measured} | {verdict(g, limit)} |")
        out += [f"### {SHAPES[shape]}", "", "| target | measured | |", "|---|---|---|", *rows, ""]
    return out


def intro() -> list[str]:
    return [
        "## Lean: segmenta against the lean notebook (issue 21)", "", para(
        "`benches/reference/lean_measure.sh N` at each size, on both data shapes, one after the "
        "other: segmenta `run` of the lean job (k = 8, 10 restarts, silhouette on 10,000, two "
        "rule sets, the HTML report and every output), the same job with `k = \"auto\"` (2…10), "
        "the lean notebook (`lean_notebook.py`: pandas read, one row per customer, log1p, clip, "
        "scale, scikit-learn KMeans(n_init=10), silhouette on 10,000, write the assignments) and "
        "the lean polars aggregation (`lean_polars.py`: a lazy scan of the CSV to the same "
        "per-customer features on the streaming engine, written as Parquet). Both scripts' "
        "features are checked equal to segmenta's. Times are wall seconds: segmenta's stages "
        "from its `--verbose` lines, the scripts' steps from their own clocks, whole jobs and "
        "peak memory from `/usr/bin/time` around each process. The notebook runs without the "
        "machine's OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which slow current numpy."), ""]


def header(date: str, bench: Path, sizes: list[int], data: dict) -> list[str]:
    versions: dict = {}
    for n in sizes:
        for shape in SHAPES:
            for tool in ("pandas", "polars"):
                versions |= get(data.get((n, shape)), tool, "versions") or {}
        for heavy in ("pandas.json", "polars.json"):
            path = bench / f"{n}-parquet" / "results" / heavy
            if path.is_file():
                versions |= json.loads(path.read_text()).get("versions", {})
    return [
        "# Benchmarks", "", para(
        f"Measured {date} by `bash benches/scale.sh` (one command: builds segmenta, installs the "
        "reference's Python packages in a venv outside the repository, generates the data, then "
        "at each size runs segmenta and the reference scripts one after the other, then the "
        "criterion stage benchmarks, and writes this file). Single runs on a shared machine: a "
        "guide with some noise, not a promise."), "", *machine(),
        "- reference: " + (", ".join(f"{k} {v}" for k, v in versions.items()) or "not measured"),
        "",
        para("Two data shapes, both CSV transaction logs without order ids (a customer's lines of one "
        "day are one order): **gen** = `segmenta generate --format csv` transactions.csv (ISO "
        "timestamps with seconds, `2024-01-02T09:34:50.000`; ids `C000001`; 9 columns, of which "
        "the job maps 5, not the order_id), and **shop** = `benches/reference/shop_log.py` orders.csv (5 columns; "
        "timestamps to the minute, `2025-06-14 18:42`; ids `CL-0001234`; refunds as negative "
        "totals)."), "",
        para("The sections: the lean comparison of issue 21 (first); the full job "
        "(`benches/scale.toml`) against the heavy pandas notebook, at sizes up to 1,000,000 only "
        "— that notebook peaks near 10 GB per million customers, so 3,000,000 would not fit in "
        "this machine's 24 GB; the criterion stage benchmarks; and sections measured by hand, "
        "carried over."), ""]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bench-dir", type=Path, required=True)
    p.add_argument("--sizes", type=int, nargs="+", required=True)
    p.add_argument("--header", action="store_true",
                   help="begin with the file's title, intro, machine and package versions")
    p.add_argument("--date", default=datetime.date.today().isoformat())
    a = p.parse_args()
    sizes = sorted(set(a.sizes))
    data = {(n, s): m for n in sizes for s in SHAPES
            if (m := measurement(a.bench_dir, n, s)) is not None}
    out = header(a.date, a.bench_dir, sizes, data) if a.header else []
    out += intro()
    for n in sizes:
        for shape in SHAPES:
            if (n, shape) in data:
                out += stage_table(n, shape, data[(n, shape)])
            else:
                out += [f"### {n:,} customers — {SHAPES[shape]}", "", "not measured", ""]
    out += growth(sizes, data)
    out += targets(data)
    print("\n".join(out).rstrip() + "\n", end="")


if __name__ == "__main__":
    sys.exit(main())
