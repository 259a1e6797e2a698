#!/usr/bin/env python3
"""Compares the per-customer features of notebook.py (or aggregate_polars.py) with segmenta's.

    python compare_features.py PYTHON_FEATURES.parquet \
        [--segmenta-features features.parquet]        # from `segmenta features JOB -o …`
        [--assignments reports/scale/<as-of>/assignments.csv --summary …/summary.json]

--segmenta-features: every common column, customer by customer (same customers? both missing
in the same cells? largest difference; a cell differs when |a - b| > 1e-9 · max(1, |a|)).
--shared-only (for the lean scripts, which compute a subset of segmenta's features): the python
table's column names are slugged as segmenta names features ("category_Home & Garden" →
category_home_garden) and only the columns both tables have are compared; the others are listed.
--customer-id NAME: the python table's customer id column (default customer_id).
--assignments/--summary: R, F and M scores recomputed from the Python recency_days, frequency
and monetary (buyers' quantiles at 1/5 … 4/5, linear interpolation, inclusive upper bounds —
pandas qcut, as docs/methods.md "RFM scores" says) against segmenta's r_score, f_score, m_score and
the cut points in summary.json. Prints a report; exits 1 when anything differs.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import pandas as pd

from common import slug


def compare_features(ours: pd.DataFrame, theirs: pd.DataFrame, shared_only: bool = False) -> bool:
    ok = True
    only_py = ours.index.difference(theirs.index)
    only_seg = theirs.index.difference(ours.index)
    print(f"customers: {len(ours)} (python) vs {len(theirs)} (segmenta); "
          f"{len(only_py)} only in python, {len(only_seg)} only in segmenta")
    ok &= len(only_py) == 0 and len(only_seg) == 0
    common = ours.index.intersection(theirs.index)
    cols = [c for c in ours.columns if c in theirs.columns]
    missing_cols = [c for c in theirs.columns if c not in ours.columns and not c.startswith("fact_")]
    if missing_cols:
        print(f"segmenta columns the python table lacks: {missing_cols}")
        ok &= shared_only
    extra = [c for c in ours.columns if c not in theirs.columns]
    if extra:
        print(f"python columns segmenta lacks: {extra}")
        ok &= shared_only
    print(f"{'column':<26}{'equal':>9}{'differ':>8}{'null py':>9}{'null seg':>9}  largest |diff|")
    for c in cols:
        a = ours.loc[common, c].astype(float).to_numpy()
        b = theirs.loc[common, c].astype(float).to_numpy()
        na, nb = np.isnan(a), np.isnan(b)
        both = ~na & ~nb
        diff = np.abs(a[both] - b[both])
        bad = diff > 1e-9 * np.maximum(1.0, np.abs(a[both]))
        null_mismatch = int((na != nb).sum())
        worst = float(diff.max()) if diff.size else 0.0
        print(f"{c:<26}{int((~bad).sum()) + int((na & nb).sum()):>9}{int(bad.sum()) + null_mismatch:>8}"
              f"{int(na.sum()):>9}{int(nb.sum()):>9}  {worst:.3g}")
        ok &= not bad.any() and null_mismatch == 0
    return ok


def scores(values: pd.Series, higher_is_better: bool, bins: int = 5):
    buyers = values.dropna()
    cuts = np.quantile(buyers.to_numpy(), np.arange(1, bins) / bins)  # linear, as numpy/pandas
    below = np.searchsorted(cuts, values.to_numpy(), side="left")   # cut points < value
    s = (1 + below) if higher_is_better else (bins - below)
    return pd.Series(np.where(values.isna(), np.nan, s), index=values.index), cuts


def compare_scores(ours: pd.DataFrame, assignments: pd.DataFrame, summary: dict) -> bool:
    ok = True
    bought = ours["recency_days"].notna()
    facts = {
        "r": ours["recency_days"],
        "f": ours["frequency"].where(bought),
        "m": ours["monetary"].where(bought),
    }
    seg = assignments.set_index("customer_id").reindex(ours.index)
    for letter, values in facts.items():
        cut = summary["rfm_cut_points"][letter]
        mine, cuts = scores(values, cut["higher_is_better"], cut["bins"])
        theirs = seg[f"{letter}_score"].astype(float)
        same = (mine == theirs) | (mine.isna() & theirs.isna())
        edges_equal = np.allclose(cuts, cut["upper_bounds"], rtol=1e-12, atol=1e-9)
        print(f"{letter.upper()} score: {int(same.sum())} of {len(same)} customers equal; "
              f"cut points python {np.round(cuts, 4).tolist()} vs segmenta "
              f"{np.round(cut['upper_bounds'], 4).tolist()} ({'equal' if edges_equal else 'DIFFER'})")
        ok &= bool(same.all()) and edges_equal
    return ok


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("python_features", help="--features-out of notebook.py or aggregate_polars.py")
    p.add_argument("--segmenta-features", help="Parquet written by `segmenta features`")
    p.add_argument("--assignments", help="assignments.csv of a segmenta run")
    p.add_argument("--summary", help="summary.json of the same run")
    p.add_argument("--shared-only", action="store_true",
                   help="compare only the columns both tables have (names slugged)")
    p.add_argument("--customer-id", default="customer_id",
                   help="the python table's customer id column")
    a = p.parse_args()
    ours = pd.read_parquet(a.python_features).set_index(a.customer_id).sort_index()
    ours.index.name = "customer_id"
    if a.shared_only:
        ours.columns = [slug(c) for c in ours.columns]
    ok = True
    if a.segmenta_features:
        theirs = pd.read_parquet(a.segmenta_features).set_index("customer_id").sort_index()
        ok &= compare_features(ours, theirs, a.shared_only)
    if a.assignments and a.summary:
        assignments = pd.read_csv(a.assignments, dtype={"customer_id": "str"})
        with open(a.summary) as fh:
            summary = json.load(fh)
        ok &= compare_scores(ours, assignments, summary)
    print("all equal" if ok else "DIFFERENCES FOUND")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
