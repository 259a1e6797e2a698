#!/usr/bin/env python3
"""The scale benchmark's job (benches/scale.toml) done the way an analyst would in a notebook:
pandas + scikit-learn, vectorised groupbys, no loops over rows.

    python notebook.py --data /tmp/scale100k --out /tmp/py-assignments.csv --timings /tmp/py.json

Steps, each timed (wall seconds, and the process's peak RSS after the step):
  read        both tables (Parquet through pyarrow, or CSV), dates parsed, the columns the
              aggregation needs derived (day, hour, weekday, peak month, order key)
  aggregate   one row per customer: RFM and the other features of src/features/aggregate/ and
              demographic.rs, customers without a purchase kept
  prepare     imputation (median; recency of non-buyers = max), sign-keeping log1p, winsorising,
              StandardScaler, on the clustered columns (all computed minus the job's `exclude`)
  kmeans      KMeans(k, n_init = n_runs, random_state = seed, algorithm = "lloyd")
  silhouette  silhouette_score on a seeded sample of `silhouette_sample` customers
  dbscan      DBSCAN on a seeded sample of `dbscan_sample` customers, eps from the knee of the
              k-distance curve (segmenta's rule), the other customers joining the cluster of
              their nearest clustered sample customer within eps
  write       the assignments CSV: customer_id, cluster (0 = largest), dbscan_cluster (blank =
              outlier)

The settings (k, n_runs, samples, min points, seed, and the [features] section) are read from
the job file (default: ../scale.toml beside this folder); the command line overrides them.
The timings go to stdout as one JSON object, or to --timings FILE.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before the heavy imports, which are timed as the step "imports"

import argparse
import os
import sys
import tomllib
from pathlib import Path

from common import Stopwatch, slug, write_results

import numpy as np
import pandas as pd
import sklearn
from sklearn.cluster import DBSCAN, KMeans
from sklearn.metrics import silhouette_score
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).resolve().parent
DEFAULT_JOB = HERE.parent / "scale.toml"

# segmenta's defaults (src/job/options.rs) for the keys a job may leave out.
DEFAULT_LOG1P = ["monetary", "frequency", "avg_order_value", "recency_days", "tenure_days",
                 "mean_interpurchase_days", "visits_30d", "visits_90d", "income"]
# Shares are never given log1p; indicators are never clipped (src/features/prepare.rs).
SHARE_SUFFIX = "_share"
K_DISTANCE_SAMPLE = 3000  # src/cluster/dbscan/mod.rs


def job_settings(path: Path | None) -> dict:
    """The job file's settings that this script mirrors; an unsupported setting is an error."""
    job = tomllib.loads(path.read_text()) if path else {}
    features = job.get("features", {})
    discovery = job.get("discovery", {})
    if features.get("scale", "zscore") != "zscore":
        sys.exit("notebook.py mirrors scale = \"zscore\" only")
    if features.get("balance_groups", True) or any(
            w != 1.0 for w in features.get("weights", {}).values()):
        sys.exit("notebook.py mirrors balance_groups = false with every weight 1 only")
    k = discovery.get("k", 6)
    if not isinstance(k, int):
        sys.exit("notebook.py needs a fixed k (k = \"auto\" is not mirrored)")
    eps = discovery.get("dbscan_eps", "auto")
    return {
        "seed": job.get("seed", 42),
        "as_of": job.get("as_of"),
        "k": k,
        "n_runs": discovery.get("n_runs", 10),
        "silhouette_sample": discovery.get("silhouette_sample", 5000),
        "dbscan_sample": discovery.get("dbscan_sample", 20000),
        "dbscan_min_points": discovery.get("dbscan_min_points"),
        "dbscan_eps": None if eps == "auto" else float(eps),
        "log1p": features.get("log1p", DEFAULT_LOG1P),
        "winsorize": features.get("winsorize", [0.01, 0.99]),
        "top_n": features.get("top_n", 8),
        "exclude": features.get("exclude", []),
        "peak_months": features.get("peak_months", [11, 12]),
    }


# ---------------------------------------------------------------------------------------------
# read

def read_tables(data: Path, fmt: str, peak_months: list[int]):
    tx_cols = ["customer_id", "timestamp", "amount", "order_id", "category", "channel", "discount"]
    cu_cols = ["customer_id", "birth_year", "income", "signup_date"]
    if fmt == "parquet":
        tx = pd.read_parquet(data / "transactions.parquet", columns=tx_cols, engine="pyarrow")
        cu = pd.read_parquet(data / "customers.parquet", columns=cu_cols, engine="pyarrow")
    else:
        ids = {"customer_id": "str", "order_id": "str"}
        tx = pd.read_csv(data / "transactions.csv", usecols=tx_cols, dtype=ids)
        cu = pd.read_csv(data / "customers.csv", usecols=cu_cols, dtype={"customer_id": "str"})
    # Parse dates (a no-op for Parquet's typed timestamps).
    tx["timestamp"] = pd.to_datetime(tx["timestamp"])
    cu["signup_date"] = pd.to_datetime(cu["signup_date"])

    # Lines without customer, timestamp or amount are unusable (segmenta drops and counts them).
    tx = tx.dropna(subset=["customer_id", "timestamp", "amount"])
    ts = tx["timestamp"]
    tx["day"] = ts.dt.normalize()
    tx["hour"] = ts.dt.hour
    tx["weekday"] = ts.dt.day_of_week + 1         # 1 = Monday, as polars
    tx["peak"] = ts.dt.month.isin(peak_months)
    tx["discount"] = tx["discount"].fillna(0.0).abs()
    for col in ["category", "channel"]:
        tx[col] = tx[col].fillna("unknown")
    # A line without an order id is its customer's order of that day.
    missing = tx["order_id"].isna()
    if missing.any():
        tx.loc[missing, "order_id"] = "day:" + tx.loc[missing, "day"].dt.strftime("%Y-%m-%d")
    has_time = bool((tx["day"] != ts).any())

    cu = cu.dropna(subset=["customer_id"]).drop_duplicates("customer_id", keep="first")
    return tx, cu, has_time


# ---------------------------------------------------------------------------------------------
# aggregate

def spend_shares(lines: pd.DataFrame, column: str, top_n: int) -> pd.DataFrame:
    """Share of each customer's gross (positive-line) spend per value: top-N values by spend
    (ties by name), the rest in '<column>_other' when there are more values."""
    positive = lines[lines["amount"] > 0]
    spend = positive.groupby(column, observed=True)["amount"].sum()
    ranked = spend.reset_index().sort_values(["amount", column], ascending=[False, True])
    top = list(ranked[column].head(top_n))
    by_value = positive.pivot_table(index="customer_id", columns=column, values="amount",
                                    aggfunc="sum", fill_value=0.0, observed=True)
    gross = by_value.sum(axis=1)
    shares = by_value[top].div(gross, axis=0)
    shares.columns = [f"{column}_{slug(v)}" for v in top]
    if lines[column].nunique() > len(top):
        shares[f"{column}_other"] = 1.0 - by_value[top].sum(axis=1) / gross
    return shares


def aggregate(tx: pd.DataFrame, cu: pd.DataFrame, as_of: pd.Timestamp, has_time: bool,
              top_n: int) -> pd.DataFrame:
    # Every customer of either table (sorted), whether or not they bought in the window.
    universe = pd.Index(np.union1d(tx["customer_id"].unique(), cu["customer_id"].unique()),
                        name="customer_id")
    lines = tx[tx["day"] < as_of]

    # Lines → orders. An order's hour, weekday and peak flag are those of its first line.
    lines = lines.assign(gross=lines["amount"].clip(lower=0.0),
                         refunded=(-lines["amount"]).clip(lower=0.0))
    orders = lines.groupby(["customer_id", "order_id"], sort=False).agg(
        net=("amount", "sum"), gross=("gross", "sum"), refunded=("refunded", "sum"),
        discount=("discount", "sum"), day=("day", "min"), hour=("hour", "first"),
        weekday=("weekday", "first"), peak=("peak", "first"),
    ).reset_index()

    # Orders → customers. A purchase is an order with a positive net amount.
    bought = orders["net"] > 0
    discounted = bought & (orders["discount"] > 0)
    hour = orders["hour"]
    orders = orders.assign(
        bought=bought,
        bought_net=orders["net"].where(bought),
        bought_day=orders["day"].where(bought),
        discounted=discounted,
        depth=(orders["discount"] / (orders["net"] + orders["discount"])).where(discounted),
        weekend=bought & (orders["weekday"] >= 6),
        morning=bought & hour.between(5, 11),
        afternoon=bought & hour.between(12, 17),
        evening=bought & ((hour >= 18) | (hour < 5)),
        peak_net=orders["net"].where(bought & orders["peak"], 0.0),
    )
    c = orders.groupby("customer_id", sort=False).agg(
        monetary=("net", "sum"),
        frequency=("bought", "sum"),
        avg_order_value=("bought_net", "mean"),
        gross=("gross", "sum"),
        refunded=("refunded", "sum"),
        last_day=("bought_day", "max"),
        first_day=("bought_day", "min"),
        purchase_days=("bought_day", "nunique"),
        discounted_orders=("discounted", "sum"),
        discount_depth=("depth", "mean"),
        weekend_orders=("weekend", "sum"),
        morning_orders=("morning", "sum"),
        afternoon_orders=("afternoon", "sum"),
        evening_orders=("evening", "sum"),
        peak_spend=("peak_net", "sum"),
        purchase_spend=("bought_net", "sum"),
    )

    def ratio(numerator: str, denominator: str) -> pd.Series:
        return (c[numerator] / c[denominator]).where(c[denominator] > 0)

    f = pd.DataFrame(index=c.index)
    f["recency_days"] = (as_of - c["last_day"]).dt.days
    f["frequency"] = c["frequency"].astype(float)
    f["monetary"] = c["monetary"]
    f["avg_order_value"] = c["avg_order_value"]
    f["tenure_days"] = (as_of - c["first_day"]).dt.days
    f["mean_interpurchase_days"] = ((c["last_day"] - c["first_day"]).dt.days
                                    / (c["purchase_days"] - 1)).where(c["purchase_days"] > 1)
    f["refund_share"] = ratio("refunded", "gross")
    f["discount_share"] = ratio("discounted_orders", "frequency")
    f["discount_depth"] = c["discount_depth"]
    f["weekend_share"] = ratio("weekend_orders", "frequency")
    if has_time:
        for part in ["morning", "afternoon", "evening"]:
            f[f"{part}_share"] = ratio(f"{part}_orders", "frequency")
    f["peak_season_share"] = ratio("peak_spend", "purchase_spend")
    f = f.join(spend_shares(lines, "category", top_n)).join(spend_shares(lines, "channel", top_n))

    f = f.reindex(universe)
    # Counts and sums of customers without an order in the window are 0, not missing.
    f[["frequency", "monetary", "tenure_days"]] = f[["frequency", "monetary", "tenure_days"]].fillna(0.0)

    # Demographics from the customers table.
    d = cu.set_index("customer_id").reindex(universe)
    age = as_of.year - d["birth_year"]
    f["age"] = age.where(age.between(0, 120))
    f["income"] = d["income"]
    f["days_since_signup"] = (as_of - d["signup_date"]).dt.days.clip(lower=0)
    return f.astype(float)


# ---------------------------------------------------------------------------------------------
# prepare

def prepare(f: pd.DataFrame, settings: dict) -> tuple[pd.DataFrame, np.ndarray]:
    columns = [c for c in f.columns if c not in settings["exclude"]]
    x = f[columns].copy()
    fill = x.median()
    if "recency_days" in x:
        fill["recency_days"] = x["recency_days"].max()  # non-buyers: as lapsed as the most lapsed
    x = x.fillna(fill)
    logged = [c for c in settings["log1p"] if c in x and not c.endswith(SHARE_SUFFIX)]
    x[logged] = np.sign(x[logged]) * np.log1p(x[logged].abs())
    lo, hi = x.quantile(settings["winsorize"][0]), x.quantile(settings["winsorize"][1])
    clipping = hi > lo  # a sparse share that would collapse to a constant is left unclipped
    x = x.clip(lower=lo.where(clipping), upper=hi.where(clipping), axis=1)
    x = x.loc[:, x.std(ddof=0) > 1e-12 * x.mean().abs().clip(lower=1.0)]  # zero variance
    return x, StandardScaler().fit_transform(x.to_numpy())


# ---------------------------------------------------------------------------------------------
# discovery

def by_size(labels: np.ndarray) -> np.ndarray:
    """Cluster ids renumbered by size, 0 = largest (noise, -1, stays -1)."""
    ids, counts = np.unique(labels[labels >= 0], return_counts=True)
    order = ids[np.argsort(-counts, kind="stable")]
    mapping = np.full(labels.max() + 2 if labels.size else 1, -1)
    mapping[order] = np.arange(len(order))
    return np.where(labels >= 0, mapping[labels], -1)


def knee(sorted_distances: np.ndarray) -> int:
    """src/cluster/dbscan/mod.rs knee: the point farthest below the chord, both axes scaled to 0-1."""
    n = len(sorted_distances)
    if n < 3:
        return max(n - 1, 0)
    lo, hi = sorted_distances[0], sorted_distances[-1]
    diff = np.arange(n) / (n - 1) - (sorted_distances - lo) / max(hi - lo, 1e-12)
    return int(np.argmax(diff))  # ties: the earlier point, as segmenta


def dbscan(x: np.ndarray, sample_size: int, min_points: int | None, eps: float | None,
           seed: int) -> dict:
    n, d = x.shape
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n, sample_size, replace=False)) if n > sample_size else np.arange(n)
    sample = x[rows]
    if min_points is None:
        min_points = max(min(2 * d, len(rows) // 100), 4)
    if eps is None:
        queries = sample[np.sort(rng.choice(len(rows), K_DISTANCE_SAMPLE, replace=False))] \
            if len(rows) > K_DISTANCE_SAMPLE else sample
        # Distance to the (min_points - 1)-th nearest other customer (column 0 is the query itself).
        dist, _ = NearestNeighbors(n_neighbors=min_points).fit(sample).kneighbors(queries)
        curve = np.sort(dist[:, -1])
        eps = float(curve[knee(curve)])
    sample_labels = DBSCAN(eps=eps, min_samples=min_points).fit_predict(sample)
    labels = np.full(n, -1)
    labels[rows] = sample_labels
    rest = np.setdiff1d(np.arange(n), rows, assume_unique=True)
    clustered = sample_labels >= 0
    if len(rest) and clustered.any():
        dist, nearest = NearestNeighbors(n_neighbors=1).fit(sample[clustered]).kneighbors(x[rest])
        joined = sample_labels[clustered][nearest[:, 0]]
        labels[rest] = np.where(dist[:, 0] <= eps, joined, -1)
    labels = by_size(labels)
    return {"labels": labels, "eps": eps, "min_points": min_points, "sample": int(len(rows)),
            "clusters": int(labels.max() + 1), "noise": int((labels < 0).sum())}


# ---------------------------------------------------------------------------------------------

def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="folder of `segmenta generate`")
    p.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    p.add_argument("--job", type=Path, default=DEFAULT_JOB if DEFAULT_JOB.exists() else None,
                   help="job file whose settings are mirrored (default: benches/scale.toml)")
    p.add_argument("--k", type=int)
    p.add_argument("--n-init", type=int, help="KMeans n_init (default: the job's n_runs)")
    p.add_argument("--silhouette-sample", type=int)
    p.add_argument("--dbscan-sample", type=int)
    p.add_argument("--min-samples", type=int, help="DBSCAN min_samples (default: the job's "
                   "dbscan_min_points, else segmenta's default 2 × columns)")
    p.add_argument("--eps", type=float, help="DBSCAN eps (default: the job's, else the knee)")
    p.add_argument("--seed", type=int)
    p.add_argument("--as-of", help="YYYY-MM-DD (default: the day after the latest transaction)")
    p.add_argument("--out", type=Path, default=Path("assignments-pandas.csv"))
    p.add_argument("--timings", type=Path, help="write the timings JSON here instead of stdout")
    p.add_argument("--features-out", type=Path,
                   help="also write the per-customer features (Parquet, untimed) for comparisons")
    a = p.parse_args()

    s = job_settings(a.job)
    for key, value in [("k", a.k), ("n_runs", a.n_init), ("silhouette_sample", a.silhouette_sample),
                       ("dbscan_sample", a.dbscan_sample), ("dbscan_min_points", a.min_samples),
                       ("dbscan_eps", a.eps), ("seed", a.seed), ("as_of", a.as_of)]:
        if value is not None:
            s[key] = value

    clock = Stopwatch(STARTED)
    clock.lap("imports", "python modules loaded")
    tx, cu, has_time = read_tables(a.data, a.format, s["peak_months"])
    clock.lap("read", f"{len(tx)} transaction lines, {len(cu)} customers ({a.format})")

    as_of = pd.Timestamp(s["as_of"]) if s["as_of"] else tx["day"].max() + pd.Timedelta(days=1)
    f = aggregate(tx, cu, as_of, has_time, s["top_n"])
    after = int((tx["day"] >= as_of).sum())
    del tx
    clock.lap("aggregate", f"{len(f)} customers × {f.shape[1]} features (as of {as_of.date()}; "
                           f"{after} lines on or after it ignored)")
    if a.features_out:
        f.reset_index().to_parquet(a.features_out, index=False)
        clock.start = time.perf_counter()  # untimed

    prepared, x = prepare(f, s)
    clock.lap("prepare", f"{x.shape[0]} × {x.shape[1]}: {', '.join(prepared.columns)}")

    km = KMeans(n_clusters=s["k"], n_init=s["n_runs"], random_state=s["seed"],
                algorithm="lloyd").fit(x)
    labels = by_size(km.labels_)
    sizes = np.bincount(labels).tolist()
    clock.lap("kmeans", f"k = {s['k']}, inertia {km.inertia_:.2f}, sizes {sizes}")

    sil = float(silhouette_score(x, labels, sample_size=min(s["silhouette_sample"], len(x)),
                                 random_state=s["seed"]))
    clock.lap("silhouette", f"{sil:.4f} on {min(s['silhouette_sample'], len(x))} customers")

    db = dbscan(x, s["dbscan_sample"], s["dbscan_min_points"], s["dbscan_eps"], s["seed"])
    clock.lap("dbscan", f"eps {db['eps']:.3f}, min_samples {db['min_points']}, "
                        f"{db['clusters']} clusters, {db['noise']} outliers")

    out = pd.DataFrame({"customer_id": f.index, "cluster": labels,
                        "dbscan_cluster": pd.array(db["labels"], dtype="Int64")})
    out.loc[out["dbscan_cluster"] < 0, "dbscan_cluster"] = pd.NA
    out.to_csv(a.out, index=False)
    clock.lap("write", str(a.out))

    report = {
        "tool": "pandas + scikit-learn",
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__,
                     "pandas": pd.__version__, "scikit-learn": sklearn.__version__,
                     "pyarrow": __import__("pyarrow").__version__},
        "data": str(a.data), "format": a.format, "customers": int(len(f)),
        "as_of": str(as_of.date()), "threads": os.cpu_count(),
        "features": list(f.columns), "clustered": list(prepared.columns),
        "steps": clock.steps, "total_wall_s": clock.total(),
        "peak_rss_mb": max(v["peak_rss_mb"] for v in clock.steps.values()),
        "kmeans": {"k": s["k"], "n_init": s["n_runs"], "seed": s["seed"],
                   "inertia": float(km.inertia_), "n_iter": int(km.n_iter_), "sizes": sizes},
        "silhouette": {"value": sil, "sample": min(s["silhouette_sample"], len(x))},
        "dbscan": {k: v for k, v in db.items() if k != "labels"},
    }
    print(f"k-means inertia (scaled matrix): {km.inertia_:.4f}", file=sys.stderr)
    write_results(report, a.timings)


if __name__ == "__main__":
    main()
