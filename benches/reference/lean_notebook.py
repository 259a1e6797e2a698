#!/usr/bin/env python3
"""The lean notebook: what an analyst actually writes to segment customers from one transaction
log with pandas + scikit-learn — read, one row per customer, log1p, clip, scale, k-means,
silhouette, write. benches/lean.toml and benches/shop_log.toml are the same job for segmenta.

    python lean_notebook.py --transactions /tmp/gen100k/transactions.csv \
        --out /tmp/lean-assignments.csv --timings /tmp/lean-pandas.json
    python lean_notebook.py --transactions /tmp/shop100k/orders.csv --customer-id client_ref \
        --timestamp purchased_at --amount total --category product_line --out … --timings …

Steps, each timed (wall seconds and the process's peak RSS after it):
  read        pd.read_csv of the four columns, the timestamp parsed
  aggregate   one row per customer: recency_days, frequency, monetary, tenure_days,
              refund_share, weekend_share, evening_share and one spend share per category
  prepare     log1p, clipping at the 1st/99th percentiles, StandardScaler
  kmeans      KMeans(n_clusters=k, n_init, random_state=seed)
  silhouette  silhouette_score on a 10,000-customer sample
  write       customer id + cluster as CSV

The features are segmenta's (docs/methods.md, "Features") for a log without order ids, where a
customer's lines of one day are one order:
  - a day is a purchase when its net amount is positive (a day of refunds only is not), so the
    lines go through one groupby on customer × day (net, gross, refunded, first time) before the
    groupby on customer; frequency counts purchase days, recency_days and tenure_days run from the
    last and first purchase day to as_of (tenure 0 and recency missing without a purchase);
  - monetary is the net of every line, refunds subtracted; refund_share = refunded / gross spend;
  - weekend_share and evening_share are shares of the purchase days, a day's time of day being its
    first line's (evening = 18:00-04:59);
  - category shares are shares of the gross (positive-line) spend, one column per category
    (segmenta: the top_n categories by spend, the rest in category_other — the jobs set top_n to
    cover every category, so the columns are the same).
Preparation as segmenta's, except: log1p on values clipped at 0 (segmenta keeps the sign:
sign(x)·log1p(|x|), which differs only for a negative monetary, a customer whose refunds exceed
their purchases); a column clipped to a constant is kept (segmenta leaves such a sparse column
unclipped, and drops zero-variance columns). Missing values (shares and recency of customers
without a purchase) are filled as segmenta does: recency with the largest recency, the rest with
the column's median. The timings go to stdout as one JSON object, or to --timings FILE.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before the heavy imports

import argparse
import os
import sys
from pathlib import Path

from common import Stopwatch, add_log_arguments, write_results

import numpy as np
import pandas as pd
import sklearn
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

LOG1P = ["recency_days", "frequency", "monetary", "tenure_days"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_log_arguments(p)
    p.add_argument("--k", type=int, default=8)
    p.add_argument("--n-init", type=int, default=10)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", type=Path, default=Path("assignments-lean.csv"))
    p.add_argument("--timings", type=Path, help="write the timings JSON here instead of stdout")
    p.add_argument("--features-out", type=Path,
                   help="also write the per-customer features (Parquet, untimed) for comparisons")
    a = p.parse_args()
    cid, ts, amount, category = a.customer_id, a.timestamp, a.amount, a.category

    imports = time.perf_counter() - STARTED
    clock = Stopwatch(STARTED)           # total_wall_s counts the imports, the steps do not
    clock.start = time.perf_counter()

    # -- read
    tx = pd.read_csv(a.transactions, usecols=[cid, ts, amount, category], parse_dates=[ts])
    clock.lap("read", f"{len(tx)} lines")

    # -- aggregate
    tx["day"] = tx[ts].dt.normalize()
    as_of = tx["day"].max() + pd.Timedelta(days=1)
    tx["gross"] = tx[amount].clip(lower=0)
    tx["refunded"] = (-tx[amount]).clip(lower=0)
    # Without an order id a customer's lines of one day are one order.
    days = (tx.groupby([cid, "day"], sort=False)
            .agg(net=(amount, "sum"), gross=("gross", "sum"), refunded=("refunded", "sum"),
                 first=(ts, "min"))
            .reset_index())
    bought = days["net"].round(6) > 0     # refunds cancelling a day's purchases leave ±1e-17
    hour = days["first"].dt.hour
    days["purchase_day"] = days["day"].where(bought)
    days["bought"] = bought
    days["weekend"] = bought & (days["day"].dt.day_of_week >= 5)
    days["evening"] = bought & ((hour >= 18) | (hour < 5))
    c = days.groupby(cid).agg(
        monetary=("net", "sum"), gross=("gross", "sum"), refunded=("refunded", "sum"),
        frequency=("bought", "sum"), last=("purchase_day", "max"), first=("purchase_day", "min"),
        weekend=("weekend", "sum"), evening=("evening", "sum"))
    f = pd.DataFrame({
        "recency_days": (as_of - c["last"]).dt.days,
        "frequency": c["frequency"],
        "monetary": c["monetary"],
        "tenure_days": (as_of - c["first"]).dt.days.fillna(0),
        "refund_share": c["refunded"] / c["gross"].where(c["gross"] > 0),
        "weekend_share": c["weekend"] / c["frequency"].where(c["frequency"] > 0),
        "evening_share": c["evening"] / c["frequency"].where(c["frequency"] > 0),
    })
    spend = tx[tx[amount] > 0].pivot_table(index=cid, columns=category, values=amount,
                                            aggfunc="sum", fill_value=0)
    shares = spend.div(spend.sum(axis=1), axis=0).add_prefix("category_")
    f = f.join(shares).astype(float)
    clock.lap("aggregate", f"{len(f)} customers × {f.shape[1]} features (as of {as_of.date()})")
    if a.features_out:
        f.reset_index().to_parquet(a.features_out, index=False)
        clock.start = time.perf_counter()  # untimed

    # -- prepare
    x = f.copy()
    x["recency_days"] = x["recency_days"].fillna(x["recency_days"].max())
    x = x.fillna(x.median())
    x[LOG1P] = np.log1p(x[LOG1P].clip(lower=0))
    x = x.clip(x.quantile(0.01), x.quantile(0.99), axis=1)
    matrix = StandardScaler().fit_transform(x)
    clock.lap("prepare", f"{matrix.shape[0]} × {matrix.shape[1]}")

    # -- kmeans
    km = KMeans(n_clusters=a.k, n_init=a.n_init, random_state=a.seed).fit(matrix)
    clock.lap("kmeans", f"k = {a.k}, inertia {km.inertia_:.2f}")

    # -- silhouette
    sample = min(10_000, len(matrix))
    sil = float(silhouette_score(matrix, km.labels_, sample_size=sample, random_state=a.seed))
    clock.lap("silhouette", f"{sil:.4f} on {sample} customers")

    # -- write
    pd.DataFrame({cid: f.index, "cluster": km.labels_}).to_csv(a.out, index=False)
    clock.lap("write", str(a.out))

    report = {
        "tool": "pandas + scikit-learn (lean notebook)",
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__,
                     "pandas": pd.__version__, "scikit-learn": sklearn.__version__},
        "transactions": str(a.transactions), "lines": int(len(tx)), "customers": int(len(f)),
        "as_of": str(as_of.date()), "threads": os.cpu_count(),
        "features": int(matrix.shape[1]), "clustered": list(x.columns),
        "imports_s": round(imports, 3), "steps": clock.steps, "total_wall_s": clock.total(),
        "peak_rss_mb": max(v["peak_rss_mb"] for v in clock.steps.values()),
        "kmeans": {"k": a.k, "n_init": a.n_init, "seed": a.seed, "inertia": float(km.inertia_),
                   "n_iter": int(km.n_iter_)},
        "silhouette": {"value": sil, "sample": sample},
    }
    write_results(report, a.timings)


if __name__ == "__main__":
    main()
