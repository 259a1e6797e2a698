#!/usr/bin/env python3
"""A synthetic per-customer feature table at any size, as a SQL engine would write it for
`[inputs.features]`, and the scale benchmark of fitting on a sample (BENCHMARKS.md, "Past one
machine: a feature table of 10 million customers").

    python3 benches/fit_sample_scale.py generate --customers 10000000 --out /tmp/fs-scale/10m
    python3 benches/fit_sample_scale.py measure  --customers 1000000 3000000 10000000 \
        --dir /tmp/fs-scale          # generates what is missing, runs each size under
                                     # /usr/bin/time -v (and 1M also with fit_sample = 250000)
    python3 benches/fit_sample_scale.py timeline --job /tmp/fs-scale/n10000000/default.toml \
        --output /tmp/fs-scale/tl    # resident memory per stage of one run (`run -v`)
    python3 benches/fit_sample_scale.py inertia --features /tmp/fs-scale/n1000000/features \
        --full /tmp/fs-scale/n1000000/out-default/scale-features/2025-01-01 \
        --sampled /tmp/fs-scale/n1000000/out-fit_sample_250000/scale-features/2025-01-01

The table has the columns `segmenta sql features` writes for a CDNOW-shaped log (customer_id, a
date-only timestamp, amount): customer_id and ten Float64 columns (recency_days, frequency,
monetary, avg_order_value, tenure_days, mean_interpurchase_days, refund_share, weekend_share,
peak_season_share, previous_gap_days). It is written as a Spark-like folder
(`part-00000-<uuid>-c000.snappy.parquet`, 1,000,000 rows a part, and an empty `_SUCCESS`),
deterministic from --seed (each part from its own stream, so parts can be made independently).

Customers are a mixture of types with their own distributions, so that there is cluster
structure: champions, loyal, regulars, lapsed, new, one-timers and customers with no purchase
(only refunds or nothing net). Values keep the query's semantics and its arithmetic:
frequency = purchase days; tenure_days >= recency_days >= 1; tenure - recency is the span
between the first and last purchase day (>= frequency - 1 days);
mean_interpurchase_days = span / (frequency - 1); previous_gap_days in [1, span - (frequency - 2)]
(= span when frequency = 2); avg_order_value = purchase spend / frequency; monetary = purchase
spend - refunds; refund_share = refunds / purchase spend; weekend_share = k / frequency;
peak_season_share a spend share in [0, 1]. NULLs as the query leaves them: with no purchase,
recency, avg_order_value, the shares and both gaps are NULL and tenure is 0; with one purchase
day, both gaps are NULL.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

PART_ROWS = 1_000_000
HISTORY_DAYS = 1827  # 2020-01-01 .. 2024-12-31, the job's as_of is 2025-01-01
COLUMNS = [
    "recency_days", "frequency", "monetary", "avg_order_value", "tenure_days",
    "mean_interpurchase_days", "refund_share", "weekend_share", "peak_season_share",
    "previous_gap_days",
]

# name: share of customers, frequency (min, extra ~ negative binomial mean), recency (days,
# lognormal median, sigma), days between purchases (lognormal median, sigma), order value
# (lognormal median, sigma), chance of a refund, weekend lean (beta a, b), peak-season lean.
TYPES = {
    "champions":  dict(share=0.07, f_min=10, f_extra=14.0, rec=(12, 0.8), gap=(25, 0.4),
                       aov=(95, 0.35), refund=0.35, weekend=(3, 6), peak=(2, 6)),
    "loyal":      dict(share=0.13, f_min=5, f_extra=4.0, rec=(45, 0.7), gap=(70, 0.4),
                       aov=(60, 0.35), refund=0.20, weekend=(2, 5), peak=(2, 7)),
    "regulars":   dict(share=0.20, f_min=2, f_extra=2.0, rec=(160, 0.6), gap=(150, 0.5),
                       aov=(40, 0.4), refund=0.10, weekend=(2, 5), peak=(2, 5)),
    "lapsed":     dict(share=0.17, f_min=2, f_extra=2.5, rec=(900, 0.3), gap=(90, 0.5),
                       aov=(45, 0.4), refund=0.12, weekend=(2, 5), peak=(2, 6)),
    "new":        dict(share=0.05, f_min=1, f_extra=0.6, rec=(20, 0.7), gap=(10, 0.5),
                       aov=(55, 0.5), refund=0.05, weekend=(3, 4), peak=(3, 3)),
    "one_timers": dict(share=0.35, f_min=1, f_extra=0.0, rec=(700, 0.6), gap=(1, 0.0),
                       aov=(30, 0.6), refund=0.06, weekend=(2, 5), peak=(3, 6)),
    "no_purchase": dict(share=0.03),
}


def part_name(seed: int, part: int) -> str:
    """A Spark-like part file name whose uuid is fixed by the seed (one uuid per write job)."""
    job = uuid.UUID(bytes=hashlib.sha256(f"segmenta-fit-sample-{seed}".encode()).digest()[:16])
    return f"part-{part:05d}-{job}-c000.snappy.parquet"


def generate_part(seed: int, first: int, rows: int) -> pa.Table:
    rng = np.random.default_rng([seed, first])
    names = list(TYPES)
    shares = np.array([TYPES[t]["share"] for t in names])
    kind = rng.choice(len(names), size=rows, p=shares / shares.sum())
    nan = np.nan
    out = {c: np.full(rows, nan) for c in COLUMNS}
    for t, name in enumerate(names):
        idx = np.flatnonzero(kind == t)
        n = idx.size
        if n == 0:
            continue
        p = TYPES[name]
        if name == "no_purchase":
            # Only refunds (net spend below zero) or lines that net to nothing.
            refunds = np.round(rng.lognormal(np.log(35), 0.6, n), 2)
            out["monetary"][idx] = np.where(rng.random(n) < 0.7, -refunds, 0.0)
            out["frequency"][idx] = 0.0
            out["tenure_days"][idx] = 0.0
            continue
        extra = (rng.negative_binomial(2, 2 / (2 + p["f_extra"]), n)
                 if p["f_extra"] > 0 else np.zeros(n, dtype=np.int64))
        f = p["f_min"] + extra
        recency = np.clip(np.rint(rng.lognormal(np.log(p["rec"][0]), p["rec"][1], n)),
                          1, HISTORY_DAYS - 30).astype(np.int64)
        max_span = HISTORY_DAYS - recency
        if name == "new":
            max_span = np.minimum(max_span, 90)
        f = np.minimum(f, max_span + 1)  # at most one purchase a day
        gap = rng.lognormal(np.log(p["gap"][0]), p["gap"][1], n) if p["gap"][1] > 0 else np.ones(n)
        span = np.where(f >= 2, np.clip(np.rint(gap * (f - 1)), f - 1, max_span), 0).astype(np.int64)
        tenure = recency + span
        # Spend: order value per customer, purchase spend rounded to cents.
        aov = rng.lognormal(np.log(p["aov"][0]), p["aov"][1], n) * (1 + 0.02 * np.log1p(f))
        spend = np.maximum(np.round(aov * f, 2), 0.01)
        refunded = np.where(rng.random(n) < p["refund"],
                            np.round(spend * rng.beta(1.2, 7.0, n), 2), 0.0)
        monetary = np.round(spend - refunded, 2)
        weekend = rng.binomial(f, rng.beta(*p["weekend"], n)) / f
        peak_days = rng.binomial(f, rng.beta(*p["peak"], n))
        mixed = (peak_days > 0) & (peak_days < f)
        peak = np.where(peak_days == f, 1.0, 0.0)
        peak[mixed] = rng.beta(2.0 * peak_days[mixed], 2.0 * (f - peak_days)[mixed])
        # The last gap: all of the span with two purchase days, else a share of what is left
        # once every other gap has its one day.
        slack = span - (f - 1)
        several = f >= 3
        prev = np.where(f == 2, span, nan).astype(float)
        share = rng.beta(1.5, 1.5 * np.maximum(f[several] - 2, 1))
        prev[several] = 1 + np.floor(share * (slack[several] + 1)).clip(0, slack[several])
        out["recency_days"][idx] = recency
        out["frequency"][idx] = f
        out["monetary"][idx] = monetary
        out["avg_order_value"][idx] = spend / f
        out["tenure_days"][idx] = tenure
        out["mean_interpurchase_days"][idx] = np.where(f >= 2, span / np.maximum(f - 1, 1), nan)
        out["refund_share"][idx] = refunded / spend
        out["weekend_share"][idx] = weekend
        out["peak_season_share"][idx] = peak
        out["previous_gap_days"][idx] = prev
    ids = pa.array([f"C{i:09d}" for i in range(first, first + rows)], pa.string())
    arrays = [ids] + [pa.array(out[c], pa.float64(), from_pandas=True) for c in COLUMNS]
    return pa.Table.from_arrays(arrays, names=["customer_id"] + COLUMNS)


def generate(customers: int, out: Path, seed: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    for part, first in enumerate(range(0, customers, PART_ROWS)):
        table = generate_part(seed, first, min(PART_ROWS, customers - first))
        pq.write_table(table, out / part_name(seed, part), compression="snappy")
    (out / "_SUCCESS").touch()
    print(f"generated {customers:,} customers in {out} ({time.time() - started:.0f} s)",
          file=sys.stderr)


JOB = """name = "scale-features"
as_of = "2025-01-01"
seed = 42
[inputs.transactions]
table = "transactions"          # only describes the log; not read
customer_id = "customer_id"
timestamp = "date"
timestamp_format = "%Y-%m-%d"   # dates only: no time-of-day shares
amount = "amount"
[inputs.features]
path = "features/"              # a folder of Parquet part files
[discovery]
k = 8
"""


def run_one(segmenta: str, job: Path, out: Path, log: Path) -> dict:
    if out.exists():
        shutil.rmtree(out)
    binary = os.stat(segmenta)  # the build run (it may be rebuilt between runs)
    before = os.getloadavg()
    started = time.time()
    with open(log, "w") as err:
        proc = subprocess.run(["/usr/bin/time", "-v", segmenta, "run", str(job), "--output",
                               str(out), "-q"], stderr=err, stdout=err)
    wall = time.time() - started
    after = os.getloadavg()
    text = log.read_text()
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    elapsed = re.search(r"Elapsed \(wall clock\) time.*: (.+)", text)
    return dict(job=str(job), code=proc.returncode, wall_s=round(wall, 1),
                time_elapsed=elapsed.group(1) if elapsed else None,
                max_rss_kb=int(rss.group(1)) if rss else None,
                load_before=before, load_after=after,
                binary=dict(mtime=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(binary.st_mtime)),
                            size=binary.st_size, changed_during_run=os.stat(segmenta).st_mtime != binary.st_mtime))


def measure(args) -> None:
    root = Path(args.dir)
    results = []
    for n in args.customers:
        data = root / f"n{n}"
        if not (data / "features" / "_SUCCESS").exists():
            generate(n, data / "features", args.seed)
        jobs = [("default", JOB)]
        if n in args.sampled_at:
            jobs.append(("fit_sample_250000", JOB.replace("k = 8", "k = 8\nfit_sample = 250000")))
        for label, text in jobs:
            job = data / f"{label}.toml"
            job.write_text(text)
            result = run_one(args.segmenta, job, data / f"out-{label}", data / f"time-{label}.log")
            result.update(customers=n, variant=label, parts=-(-n // PART_ROWS))
            print(json.dumps(result), flush=True)
            results.append(result)
    (root / "results.json").write_text(json.dumps(results, indent=1))


def timeline(args) -> None:
    """Where the memory goes: `segmenta run -v` with its resident memory sampled every 0.2 s;
    each sample is put in the stage that was running (the verbose log prints a stage's line
    when it ends; after the last stage, the outputs are written)."""
    import threading

    out = Path(args.output)
    if out.exists():
        shutil.rmtree(out)
    proc = subprocess.Popen([args.segmenta, "run", args.job, "--output", str(out), "-v"],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    started = time.time()
    ends = []  # (seconds, stage)

    def read():
        for line in proc.stderr:
            m = re.match(r"\s+(\S+)\s+[\d.]+ s\s", line)
            if m:
                ends.append((time.time() - started, m.group(1)))

    reader = threading.Thread(target=read)
    reader.start()
    samples = []
    status = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None:
        try:
            rss = int(re.search(r"VmRSS:\s+(\d+)", status.read_text()).group(1))
            samples.append((time.time() - started, rss / 1024))
        except (OSError, AttributeError):
            pass
        time.sleep(0.2)
    reader.join()
    wall = time.time() - started
    stages, previous = [], 0.0
    for end, stage in ends + [(wall, "write outputs")]:
        inside = [mb for t, mb in samples if previous <= t < end]
        stages.append(dict(stage=stage, from_s=round(previous, 1), to_s=round(end, 1),
                           max_rss_mb=round(max(inside)) if inside else None))
        previous = end
    print(json.dumps(dict(job=args.job, code=proc.returncode, wall_s=round(wall, 1),
                          load=os.getloadavg(), stages=stages), indent=1))


def prepare(features: dict, preparation: dict) -> np.ndarray:
    """model.json's `preparation` applied to every customer, as segmenta's
    `PreparedColumn::apply` does: fill a missing value, shrink a share towards its base rate by
    the customer's number of trials, signed log1p, clip, centre, scale, weight."""
    columns = []
    for c in preparation["columns"]:
        v = features[c["name"]]
        x = np.where(np.isnan(v), c["fill"], v)
        if c.get("shrink"):
            shrink = c["shrink"]
            n = np.maximum(np.nan_to_num(features[shrink["trials"]], nan=0.0), 1.0)
            shrunk = (v * n + shrink["base"] * shrink["strength"]) / (n + shrink["strength"])
            x = np.where(np.isnan(v), c["fill"], shrunk)
        if c["log1p"]:
            x = np.sign(x) * np.log1p(np.abs(x))
        if c.get("clip"):
            x = np.clip(x, *c["clip"])
        columns.append((x - c["center"]) / c["scale"] * c["weight"])
    return np.column_stack(columns)


def nearest(x: np.ndarray, centroids: np.ndarray, batch: int = 500_000):
    labels = np.empty(len(x), dtype=np.int64)
    distance = np.empty(len(x))
    for start in range(0, len(x), batch):
        d = ((x[start:start + batch, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
        labels[start:start + batch] = d.argmin(axis=1)
        distance[start:start + batch] = d.min(axis=1)
    return labels, distance


def lloyd(x: np.ndarray, centroids: np.ndarray, iterations: int = 300):
    """Plain k-means from the given centroids to convergence; returns (inertia, iterations)."""
    previous = None
    for i in range(iterations):
        labels, distance = nearest(x, centroids)
        if previous is not None and np.array_equal(labels, previous):
            return distance.sum(), i
        previous = labels
        counts = np.bincount(labels, minlength=len(centroids))
        sums = np.column_stack([np.bincount(labels, weights=x[:, d], minlength=len(centroids))
                                for d in range(x.shape[1])])
        keep = counts > 0
        centroids = centroids.copy()
        centroids[keep] = sums[keep] / counts[keep, None]
    return nearest(x, centroids)[1].sum(), iterations


def inertia(args) -> None:
    """The full-data inertia of a sample-fitted run's centroids against a k-means fit on every
    customer, both in the sample run's prepared space (what the integration test
    `fit_sample::inertia_at_scale` measures), from the two runs' report folders."""
    import duckdb

    full_dir, sampled_dir = Path(args.full), Path(args.sampled)
    table = pq.read_table(args.features)  # a folder: _SUCCESS is skipped
    features = {c: table.column(c).to_numpy(zero_copy_only=False).astype(float) for c in COLUMNS}
    full_model = json.loads((full_dir / "model.json").read_text())
    sampled_model = json.loads((sampled_dir / "model.json").read_text())
    full_summary = json.loads((full_dir / "summary.json").read_text())
    # The re-implemented preparation checked against the full run's own inertia.
    own = nearest(prepare(features, full_model["preparation"]),
                  np.array(full_model["kmeans"]["centroids"]))[1].sum()
    x = prepare(features, sampled_model["preparation"])
    sample_centroids = np.array(sampled_model["kmeans"]["centroids"])
    sampled = nearest(x, sample_centroids)[1].sum()
    # A fit on everyone in this space: Lloyd from the full run's partition (its segments'
    # means here) and from the sample's centroids; the lower is taken.
    assignments = duckdb.sql(
        f"SELECT kmeans_cluster FROM read_parquet('{full_dir}/assignments.parquet') "
        "ORDER BY customer_id").fetchnumpy()["kmeans_cluster"].astype(np.int64)
    ids_sorted = np.argsort(table.column("customer_id").to_numpy(zero_copy_only=False))
    x_sorted = x[ids_sorted]
    k = len(sample_centroids)
    start = np.array([x_sorted[assignments == j].mean(axis=0) for j in range(k)])
    fits = {"from the full run's segments": lloyd(x, start[np.isfinite(start).all(axis=1)]),
            "from the sample's centroids": lloyd(x, sample_centroids)}
    full = min(v[0] for v in fits.values())
    print(json.dumps({
        "customers": len(x),
        "full_run_inertia_reported": full_summary["kmeans"]["inertia"],
        "full_run_inertia_recomputed": own,
        "sample_centroids_over_everyone": sampled,
        "full_fit_over_everyone": {key: {"inertia": v[0], "lloyd_iterations": v[1]}
                                   for key, v in fits.items()},
        "ratio": sampled / full,
    }, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="write the feature table of N customers")
    g.add_argument("--customers", type=int, required=True)
    g.add_argument("--out", required=True, help="the folder of part files to write")
    g.add_argument("--seed", type=int, default=7)
    m = sub.add_parser("measure", help="generate (if missing) and time `segmenta run` at each N")
    m.add_argument("--customers", type=int, nargs="+", default=[1_000_000, 3_000_000, 10_000_000])
    m.add_argument("--sampled-at", type=int, nargs="*", default=[1_000_000],
                   help="sizes also run with fit_sample = 250000")
    m.add_argument("--dir", default="/tmp/segmenta-fit-sample-scale")
    m.add_argument("--seed", type=int, default=7)
    m.add_argument("--segmenta", default=os.environ.get(
        "SEGMENTA", os.path.expanduser("~/.cache/segmenta-target/debug/segmenta")))
    t = sub.add_parser("timeline", help="peak memory of each stage of one run")
    t.add_argument("--job", required=True)
    t.add_argument("--output", required=True)
    t.add_argument("--segmenta", default=m.get_default("segmenta"))
    i = sub.add_parser("inertia", help="full-data inertia of a sampled fit vs a full fit")
    i.add_argument("--features", required=True, help="the folder of part files")
    i.add_argument("--full", required=True, help="report folder of the run fitted on everyone")
    i.add_argument("--sampled", required=True, help="report folder of the sample-fitted run")
    args = parser.parse_args()
    if args.command == "generate":
        generate(args.customers, Path(args.out), args.seed)
    elif args.command == "measure":
        measure(args)
    elif args.command == "timeline":
        timeline(args)
    else:
        inertia(args)


if __name__ == "__main__":
    main()
