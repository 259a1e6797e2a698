#!/usr/bin/env python3
"""Writes BENCHMARKS.md from the results of benches/scale.sh (one measure.sh run per size).

    python tabulate.py --bench-dir /tmp/segmenta-bench --sizes 10000 100000 1000000 > BENCHMARKS.md

Reads, per size, <bench-dir>/<size>-parquet/results/: segmenta.log (`segmenta --verbose run`
with /usr/bin/time's last line), pandas.json (notebook.py) and polars.json (aggregate_polars.py);
with --criterion-dir, the criterion stage benchmarks' estimates (benches/stages.rs).
With --no-header, only the sections (under one "## Full job against the heavy notebook"
heading, the sizes' tables a level down), for benches/scale.sh to put after the lean sections
of lean_tabulate.py, which writes the file's title and machine lines; --sizes may then be empty
(the criterion section only). Standard library only, so it runs with the system python3.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
from pathlib import Path

STAGE = re.compile(r"^\s{2}(load|features|rules|prepare|k-means|dbscan|label)\s+([\d.]+) s\s+(.*)$")
PEAK = re.compile(r"\(peak memory (\d+) MB\)")
RESTARTS = re.compile(r"k =\s*\d+: .* inertia ([\d.]+), .* restarts ([\d.]+) s")
TIME = re.compile(r"wall ([\d.]+) s, max RSS (\d+) KB")

TARGETS = """\
Targets at 1M customers (ours ÷ reference, same run): whole job ≤ 0.5; aggregation
≤ 0.3 of pandas and ≤ 1.2 of polars-Python; one k-means fit (10 restarts) ≤ 1.0 of
scikit-learn at an inertia within 1 %; peak memory ≤ 0.5; time no worse than linear from 100k
to 1M."""


def segmenta_run(results: Path) -> dict:
    out = {"stages": {}, "peak_mb": {}}
    for run_log in results.glob("reports/*/*/run.log"):
        for line in run_log.read_text().splitlines():
            if line.startswith("transaction lines used:"):
                out["lines"] = int(line.split(":")[1])
    log = results / "segmenta.log"
    for line in log.read_text().splitlines():
        if m := STAGE.match(line):
            out["stages"][m[1]] = float(m[2])
            if p := PEAK.search(m[3]):
                out["peak_mb"][m[1]] = float(p[1])
        elif m := RESTARTS.search(line):
            out["inertia"], out["restarts"] = float(m[1]), float(m[2])
        elif m := TIME.search(line):
            out["wall"], out["rss_mb"] = float(m[1]), int(m[2]) / 1024
    return out


def ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or not theirs:
        return "–"
    return f"{ours / theirs:.2f}"


def seconds(v: float | None) -> str:
    return "–" if v is None else (f"{v:.2f}" if v < 10 else f"{v:.1f}")


def machine() -> list[str]:
    def run(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "?"
    cpu = next((l.split(":", 1)[1].strip() for l in run("lscpu").splitlines()
                if l.startswith("Model name")), platform.processor() or "?")
    mem = next((l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines()
                if l.startswith("MemTotal")), "0")
    return [f"- CPU: {cpu}, {run('nproc')} cores; memory {int(mem) / 1024 / 1024:.0f} GiB; "
            f"{platform.system()} {platform.release()}",
            f"- {run('rustc', '--version')}; segmenta at commit {run('git', 'rev-parse', '--short', 'HEAD')}"
            " (dev profile — the build `cargo run` makes: every crate at opt-level 3)"]


def verdict(value: float | None, limit: float) -> str:
    if value is None:
        return "not measured"
    return "met" if value <= limit else "**missed**"


def targets(n: int, ours: dict, pandas: dict, polars: dict, smaller: tuple | None,
            heading: str = "## Targets") -> list[str]:
    """The issue's targets against the largest size measured, each met or missed."""
    ps, qs, st = pandas["steps"], polars["steps"], ours["stages"]
    features = st.get("features")
    whole = ours["wall"] / pandas["total_wall_s"] if ours.get("wall") else None
    agg_pandas = features / ps["aggregate"]["wall_s"] if features else None
    agg_polars = features / qs["aggregate"]["wall_s"] if features else None
    fit = ours["restarts"] / ps["kmeans"]["wall_s"] if ours.get("restarts") else None
    inertia = ours["inertia"] / pandas["kmeans"]["inertia"] if ours.get("inertia") else None
    memory = ours["rss_mb"] / pandas["peak_rss_mb"] if ours.get("rss_mb") else None
    rows = [f"{heading} at {n:,} customers", "",
            "| target | measured | |", "|---|---:|---|",
            f"| whole job ≤ 0.5 of pandas + scikit-learn | {ratio(ours.get('wall'), pandas['total_wall_s'])} | {verdict(whole, 0.5)} |",
            f"| aggregation ≤ 0.3 of pandas | {ratio(features, ps['aggregate']['wall_s'])} | {verdict(agg_pandas, 0.3)} |",
            f"| aggregation ≤ 1.2 of polars-Python | {ratio(features, qs['aggregate']['wall_s'])} | {verdict(agg_polars, 1.2)} |",
            f"| one k-means fit (10 restarts) ≤ 1.0 of scikit-learn | {ratio(ours.get('restarts'), ps['kmeans']['wall_s'])} | {verdict(fit, 1.0)} |",
            f"| … at an inertia within 1 % of scikit-learn's | {inertia:.5f} | {verdict(abs(inertia - 1) if inertia else None, 0.01)} |" if inertia else "| … inertia | – | not measured |",
            f"| peak memory ≤ 0.5 of the reference's | {ratio(ours.get('rss_mb'), pandas['peak_rss_mb'])} | {verdict(memory, 0.5)} |"]
    if smaller and smaller[1].get("wall") and ours.get("wall"):
        m, before = smaller[0], smaller[1]
        growth = ours["wall"] / before["wall"]
        rows.append(f"| time from {m:,} to {n:,} customers no worse than linear (≤ {n / m:.0f}×) | "
                    f"{growth:.1f}× | {verdict(growth, n / m)} |")
    rows += ["", "Aggregation is the features stage (per-customer RFM, behaviour, demographics) against the",
             "reference's aggregate step; reading the files is the row above it in each table.", ""]
    return rows


CRITERION_NAMES = {
    "load": "load (read the Parquet tables, map columns, index customers)",
    "aggregate": "aggregate (per-customer features)",
    "prepare": "prepare (fit and transform the preparation)",
    "kmeans_one_fit": "one k-means fit, 1 restart",
    "kmeans_job_fit": "one k-means fit, the job's 10 restarts",
    "automatic_k_2_to_10": "automatic k over 2…10 (restarts, stability, metrics)",
    "silhouette_sample": "silhouette on the job's sample",
    "dbscan": "DBSCAN (eps at the knee, sample, rest joined)",
}


def criterion(directory: Path | None) -> list[str]:
    """Mean time per stage benchmark from criterion's estimates, when the benchmarks ran."""
    if directory is None or not (directory / "stages").is_dir():
        return []
    rows, size = [], None
    for name, words in CRITERION_NAMES.items():
        for estimates in sorted((directory / "stages" / name).glob("*/new/estimates.json")):
            size = estimates.parent.parent.name
            e = json.loads(estimates.read_text())
            mean = e["mean"]["point_estimate"] / 1e9
            low = e["mean"]["confidence_interval"]["lower_bound"] / 1e9
            high = e["mean"]["confidence_interval"]["upper_bound"] / 1e9
            rows.append(f"| {words} | {mean:.3f} | {low:.3f} – {high:.3f} |")
    if not rows:
        return []
    return ["## Stage benchmarks (criterion)", "",
            f"`cargo bench --profile dev --bench stages` on {int(size):,} generated customers "
            "(`SEGMENTA_BENCH_CUSTOMERS` for another size), 10 samples each:", "",
            "| stage | mean s | 95 % interval s |", "|---|---:|---:|", *rows, ""]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--bench-dir", type=Path, required=True)
    p.add_argument("--sizes", type=int, nargs="*", required=True)
    p.add_argument("--date", help="the date of the measurement, for the title paragraph")
    p.add_argument("--criterion-dir", type=Path)
    p.add_argument("--no-header", action="store_true",
                   help="the sections only, without the title, intro and machine lines")
    a = p.parse_args()
    if not a.no_header and (not a.sizes or not a.date):
        p.error("--sizes and --date are needed unless --no-header")
    rows = []
    for n in a.sizes:
        results = a.bench_dir / f"{n}-parquet" / "results"
        rows.append((n, segmenta_run(results),
                     json.loads((results / "pandas.json").read_text()),
                     json.loads((results / "polars.json").read_text())))
    job = ["The job is `benches/scale.toml` on `segmenta generate --seed 7` data (about 25 order",
           "lines per customer): 28 features per customer, 13 clustered; k-means with k = 6 and 10",
           "restarts; silhouette on 5,000 customers; DBSCAN on a sample of 20,000 with eps at the",
           "knee, the other customers joined to their nearest clustered sample customer. The",
           "reference (`benches/reference/notebook.py`) does the same steps the way an analyst",
           "writes them in pandas; segmenta does more in the same run (stability over seeds and",
           "bootstrap samples, five rule sets, profiles, charts, the HTML report).", ""]
    h = "###" if a.no_header else "##"
    if a.no_header:
        out = ["## Full job against the heavy notebook (benches/scale.toml)", "",
               "`benches/reference/measure.sh N` at each size up to 1,000,000 (`benches/scale.sh`",
               "runs it no further: the heavy pandas notebook peaks near 10 GB per million",
               "customers, so 3,000,000 would not fit in this machine's 24 GB), Parquet input, one",
               "after the other: segmenta `run`, the heavy pandas + scikit-learn notebook and the",
               "polars-Python aggregation.", "", *job,
               TARGETS, ""] if rows else []
    else:
        versions = rows[-1][2]["versions"] | rows[-1][3]["versions"]
        out = ["# Benchmarks", "",
               f"Measured {a.date} by `bash benches/scale.sh` (one command: builds segmenta, installs the",
               "reference's Python packages in a venv outside the repository, generates the data, runs",
               "segmenta, the pandas + scikit-learn notebook and the polars-Python aggregation one after",
               "the other at each size, then the criterion stage benchmarks, and writes this file). Single",
               "runs on a shared machine: a guide with some noise (the same reference step has varied by",
               "up to a third between runs on this machine), not a promise.", "", *machine(),
               "- reference: " + ", ".join(f"{k} {v}" for k, v in versions.items()), "", *job,
               TARGETS, ""]
    for n, ours, pandas, polars in rows:
        ps, qs, st = pandas["steps"], polars["steps"], ours["stages"]
        load_agg = st.get("load", 0) + st.get("features", 0)
        pandas_load_agg = ps["read"]["wall_s"] + ps["aggregate"]["wall_s"]
        polars_load_agg = qs["read"]["wall_s"] + qs["aggregate"]["wall_s"]
        out += [f"{h} {'Heavy notebook: ' if a.no_header else ''}{n:,} customers, "
                f"{ours.get('lines', 0):,} order lines",
                "",
                "| step | segmenta s | pandas + sklearn s | ours ÷ pandas | polars-Python s | ours ÷ polars |",
                "|---|---:|---:|---:|---:|---:|",
                f"| read / load | {seconds(st.get('load'))} | {seconds(ps['read']['wall_s'])} | "
                f"{ratio(st.get('load'), ps['read']['wall_s'])} | {seconds(qs['read']['wall_s'])} | "
                f"{ratio(st.get('load'), qs['read']['wall_s'])} |",
                f"| aggregate / features | {seconds(st.get('features'))} | {seconds(ps['aggregate']['wall_s'])} | "
                f"{ratio(st.get('features'), ps['aggregate']['wall_s'])} | {seconds(qs['aggregate']['wall_s'])} | "
                f"{ratio(st.get('features'), qs['aggregate']['wall_s'])} |",
                f"| read + aggregate | {seconds(load_agg)} | {seconds(pandas_load_agg)} | "
                f"{ratio(load_agg, pandas_load_agg)} | {seconds(polars_load_agg)} | {ratio(load_agg, polars_load_agg)} |",
                f"| prepare | {seconds(st.get('prepare'))} | {seconds(ps['prepare']['wall_s'])} | "
                f"{ratio(st.get('prepare'), ps['prepare']['wall_s'])} | | |",
                f"| k-means fit, 10 restarts | {seconds(ours.get('restarts'))} | {seconds(ps['kmeans']['wall_s'])} | "
                f"{ratio(ours.get('restarts'), ps['kmeans']['wall_s'])} | | |",
                f"| k-means stage (+ bootstrap stability, silhouette, CH, DB) | {seconds(st.get('k-means'))} | "
                f"{seconds(ps['kmeans']['wall_s'] + ps['silhouette']['wall_s'])} | "
                f"{ratio(st.get('k-means'), ps['kmeans']['wall_s'] + ps['silhouette']['wall_s'])} | | |",
                f"| DBSCAN | {seconds(st.get('dbscan'))} | {seconds(ps['dbscan']['wall_s'])} | "
                f"{ratio(st.get('dbscan'), ps['dbscan']['wall_s'])} | | |",
                f"| whole job (process wall time) | {seconds(ours.get('wall'))} | {seconds(pandas['total_wall_s'])} | "
                f"**{ratio(ours.get('wall'), pandas['total_wall_s'])}** | | |",
                f"| peak memory, MB | {ours.get('rss_mb', 0):,.0f} | {pandas['peak_rss_mb']:,.0f} | "
                f"**{ratio(ours.get('rss_mb'), pandas['peak_rss_mb'])}** | {polars['peak_rss_mb']:,.0f} | "
                f"{ratio(ours.get('rss_mb'), polars['peak_rss_mb'])} |", ""]
        inertia = ours.get("inertia")
        sk = pandas["kmeans"]["inertia"]
        out += [f"k-means inertia: segmenta {inertia:,.1f}, scikit-learn {sk:,.1f} "
                f"(ratio {inertia / sk:.5f}). DBSCAN: segmenta eps and clusters in the report; "
                f"scikit-learn eps {pandas['dbscan']['eps']:.3f}, {pandas['dbscan']['clusters']} "
                f"clusters, {pandas['dbscan']['noise']:,} outliers. segmenta's peak memory after each "
                "stage: " + ", ".join(f"{s} {mb:,.0f} MB" for s, mb in ours["peak_mb"].items()) + ".",
                ""] if inertia else [""]
    if not rows:
        out += criterion(a.criterion_dir)
        print("\n".join(out).rstrip() + "\n", end="")
        return
    out += [f"{h} {'Heavy notebook: growth' if a.no_header else 'Growth'}", "",
            "Whole-job wall time per customer (linear growth keeps it flat):", "",
            "| customers | segmenta s | µs per customer | pandas + sklearn s | µs per customer |",
            "|---:|---:|---:|---:|---:|"]
    for n, ours, pandas, _ in rows:
        out.append(f"| {n:,} | {seconds(ours.get('wall'))} | {ours.get('wall', 0) / n * 1e6:,.0f} | "
                   f"{seconds(pandas['total_wall_s'])} | {pandas['total_wall_s'] / n * 1e6:,.0f} |")
    out.append("")
    n, ours, pandas, polars = rows[-1]
    smaller = next(((m, o) for m, o, _, _ in reversed(rows[:-1])), None)
    out += targets(n, ours, pandas, polars, smaller,
                   "### Heavy notebook: targets" if a.no_header else "## Targets")
    out += criterion(a.criterion_dir)
    print("\n".join(out).rstrip() + "\n", end="")


if __name__ == "__main__":
    sys.exit(main())
