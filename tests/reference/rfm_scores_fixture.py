#!/usr/bin/env python3
"""Reference RFM quintile scores (method "quantile"), computed with pandas from raw transactions.

Checks segmenta's R/F/M scores 1-5 against an independent pandas computation on two data sets:

* demo  - `data/transactions.parquet` (the bundled synthetic shop; an order = customer_id +
  order_id);
* cdnow - `../shared/data/cdnow_transactions.csv` (real CDNOW data, kept outside the repository;
  no order id, so an order = customer_id + calendar day). The script stops with a clear message
  when the file is absent.

Writes (relative to the repository root):

* `tests/data/rfm_scores_demo.csv`, `tests/data/rfm_scores_cdnow.csv` - header
  `customer_id,r,f,m`, one row per customer with at least one purchase, sorted by customer_id as
  a string, scores as integers 1-5;
* `tests/data/rfm_scores_fixture.json` - per data set: `as_of` (YYYY-MM-DD), `buyers`,
  `edges` {r, f, m} (the 6 quantile edges in value units) and `score_counts` {r, f, m}
  (customers per score 1..5).

Definitions (mirroring `orders()` / `customer_order_columns()` in src/features/aggregate/):

* day = calendar date of the timestamp; as_of = latest day in the file + 1 (so every line,
  dated day < as_of, counts).
* order net = sum of its line amounts; order day = min day of its lines; a purchase is an order
  with net > 0.
* Scored customers: those with at least one purchase. recency_days = as_of - day of the latest
  purchase; frequency = number of purchases; monetary = sum of net over ALL the customer's orders
  (refund orders included), rounded with round(x, 4).
* Scores: edges = Series.quantile([0, .2, .4, .6, .8, 1]) (numpy "linear"); F and M:
  score = searchsorted(edges[1:5], x, side="left") + 1 (a value equal to an edge falls in the
  lower bin - pandas qcut's right-closed rule; ties are never split). R: the same on
  recency_days, then score = 6 - bin (like `pd.qcut(recency, 5, labels=[5, 4, 3, 2, 1])`).
  Repeated edges leave some scores empty; that is intended.

Cross-check (the script fails loudly otherwise): wherever the 6 edges are strictly increasing,
the scores equal `pd.qcut(x.rank(method="dense"), 5, labels=False) + 1` and
`pd.qcut(x, 5, labels=False) + 1` (reversed for R). Where edges repeat, qcut cannot run; the
repeated edges are printed.

Requirements: Python >= 3.10, pandas >= 2, numpy, pyarrow (for the parquet file).

    pip install pandas pyarrow numpy
    python3 tests/reference/rfm_scores_fixture.py
"""

import json
import pathlib
import sys

import numpy as np
import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "tests" / "data"
DEMO = ROOT / "data" / "transactions.parquet"
CDNOW = ROOT.parent / "shared" / "data" / "cdnow_transactions.csv"

BINS = 5
QUANTILES = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
# Customer ids that segmenta's loader drops as "no customer" (src/load/mod.rs SENTINEL_IDS).
SENTINEL_IDS = {"0", "-1", "na", "n/a", "nan", "null", "none", "unknown", "?", ""}


def check_lines(name, lines):
    """The loader drops blank/sentinel ids and blank timestamps/amounts and trims ids; the
    reference assumes clean input instead of mirroring that, so make sure it is clean."""
    if lines[["customer_id", "day", "amount"]].isna().any().any():
        sys.exit(f"{name}: blank customer_id/timestamp/amount cells; the reference does not handle them")
    ids = lines["customer_id"]
    if ids.str.lower().isin(SENTINEL_IDS).any() or (ids != ids.str.strip()).any():
        sys.exit(f"{name}: sentinel or untrimmed customer ids; the reference does not handle them")


def load_demo():
    raw = pd.read_parquet(DEMO, columns=["customer_id", "order_id", "timestamp", "amount"])
    lines = pd.DataFrame(
        {
            "customer_id": raw["customer_id"].astype(str),
            "order_key": raw["order_id"].astype(str),
            "day": raw["timestamp"].dt.floor("D"),
            "amount": raw["amount"].astype(float),
        }
    )
    check_lines("demo", lines)
    return lines


def load_cdnow():
    if not CDNOW.exists():
        sys.exit(f"cdnow: {CDNOW} is absent (see ../shared/data/README.md); cannot write the fixture")
    # Everything as text first, like segmenta's CSV reader: ids keep their leading zeros.
    raw = pd.read_csv(CDNOW, dtype=str, keep_default_na=False)
    day = pd.to_datetime(raw["date"], format="%Y-%m-%d")
    lines = pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "order_key": day,  # no order id: one order per customer and calendar day
            "day": day,
            "amount": pd.to_numeric(raw["amount"]),
        }
    )
    check_lines("cdnow", lines)
    return lines


def rfm_values(lines):
    """Per-buyer recency_days, frequency, monetary, plus facts about the data."""
    as_of = lines["day"].max() + pd.Timedelta(days=1)
    lines = lines[lines["day"] < as_of]
    orders = lines.groupby(["customer_id", "order_key"], sort=False).agg(
        net=("amount", "sum"), day=("day", "min")
    )
    orders = orders.reset_index()
    purchases = orders[orders["net"] > 0]
    per_buyer = purchases.groupby("customer_id").agg(
        frequency=("net", "size"), last_day=("day", "max")
    )
    monetary = orders.groupby("customer_id")["net"].sum()
    values = pd.DataFrame(
        {
            "recency_days": (as_of - per_buyer["last_day"]).dt.days.astype(int),
            "frequency": per_buyer["frequency"].astype(int),
            "monetary": monetary.reindex(per_buyer.index).map(lambda v: round(v, 4)),
        }
    )
    values = values.sort_index()  # customer_id as a string
    all_customers = orders["customer_id"].nunique()
    facts = {
        "lines": int(len(lines)),
        "orders": int(len(orders)),
        "purchases": int(len(purchases)),
        "orders_net_negative": int((orders["net"] < 0).sum()),
        "orders_net_zero": int((orders["net"] == 0).sum()),
        "customers_in_file": int(all_customers),
        "customers_without_purchase": int(all_customers - len(values)),
        "buyers_monetary_negative": int((values["monetary"] < 0).sum()),
        "buyers_monetary_zero": int((values["monetary"] == 0).sum()),
        "buyers_frequency_1": int((values["frequency"] == 1).sum()),
    }
    return as_of, values, facts


def quantile_scores(x, higher_is_better):
    edges = x.astype(float).quantile(QUANTILES).to_numpy()
    bins = np.searchsorted(edges[1:BINS], x.to_numpy(dtype=float), side="left") + 1
    scores = bins if higher_is_better else BINS + 1 - bins
    return edges, pd.Series(scores.astype(int), index=x.index)


def cross_check(name, letter, x, edges, scores, higher_is_better):
    repeated = sorted({float(e) for i, e in enumerate(edges) if (edges == e).sum() > 1})
    if repeated:
        where = ", ".join(
            f"{e:g} at q={[QUANTILES[i] for i in np.flatnonzero(edges == e)]}" for e in repeated
        )
        print(f"  {letter}: edges repeat ({where}); qcut cannot run, searchsorted rule used")
        return
    for label, target in (("dense rank", x.rank(method="dense")), ("values", x)):
        bins = pd.qcut(target, BINS, labels=False) + 1
        expected = bins if higher_is_better else BINS + 1 - bins
        bad = (expected.astype(int) != scores).sum()
        if bad:
            raise AssertionError(f"{name} {letter}: {bad} scores differ from pd.qcut on {label}")
    print(f"  {letter}: edges strictly increasing; equals pd.qcut on dense rank and on values")


def build(name, lines):
    as_of, values, facts = rfm_values(lines)
    out = {"as_of": as_of.strftime("%Y-%m-%d"), "buyers": int(len(values)), "edges": {}, "score_counts": {}}
    scores = pd.DataFrame(index=values.index)
    print(f"{name}: as_of {out['as_of']}, {out['buyers']} buyers")
    for letter, column, higher in (("r", "recency_days", False), ("f", "frequency", True), ("m", "monetary", True)):
        edges, s = quantile_scores(values[column], higher)
        cross_check(name, letter, values[column], edges, s, higher)
        scores[letter] = s
        out["edges"][letter] = [float(e) for e in edges]
        out["score_counts"][letter] = [int((s == k).sum()) for k in range(1, BINS + 1)]
    for letter in "rfm":
        edges = ", ".join(f"{e:.10g}" for e in out["edges"][letter])
        print(f"  {letter}: edges [{edges}]  counts {out['score_counts'][letter]}")
    print("  facts: " + ", ".join(f"{k}={v}" for k, v in facts.items()))
    csv = OUT_DIR / f"rfm_scores_{name}.csv"
    scores.index.name = "customer_id"
    scores.to_csv(csv, lineterminator="\n")
    print(f"  wrote {csv.relative_to(ROOT)} ({len(scores)} rows)")
    return out


def main():
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    fixture = {
        "generator": "tests/reference/rfm_scores_fixture.py",
        "pandas_version": pd.__version__,
        "numpy_version": np.__version__,
        "demo": build("demo", load_demo()),
        "cdnow": build("cdnow", load_cdnow()),
    }
    out = OUT_DIR / "rfm_scores_fixture.json"
    out.write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
