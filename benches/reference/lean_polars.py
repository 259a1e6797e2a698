#!/usr/bin/env python3
"""The lean notebook's features (lean_notebook.py) the polars way: a lazy scan of the CSV,
lines → customer-days → customers, collected on the streaming engine, written as Parquet.

    python lean_polars.py --transactions /tmp/gen100k/transactions.csv \
        --out /tmp/lean-features.parquet --timings /tmp/lean-polars.json
    python lean_polars.py --transactions /tmp/shop100k/orders.csv --customer-id client_ref \
        --timestamp purchased_at --amount total --category product_line --out … --timings …

Steps, each timed (wall seconds and the process's peak RSS after it):
  read_aggregate  the plan collected: pl.scan_csv → one row per customer (a lazy plan reads
                  while it aggregates, so reading cannot be timed apart); timestamps parsed by
                  the reader (try_parse_dates=True) or, with --timestamp-format, by
                  str.to_datetime(format) — the user who knows the export's format. On
                  `segmenta generate`'s 2024-01-02T09:34:50.000 the whole step took 1.0 s with
                  the reader's parsing and 0.6 s with the format (100,000 customers), so
                  lean_measure.sh gives the format for both shapes.
  write           the feature table as Parquet

The features and their names are segmenta's (`segmenta features` on benches/lean.toml or
benches/shop_log.toml gives the same numbers; docs/methods.md, "Features"), for a log without
order ids, where a customer's lines of one day are one order:
  recency_days, frequency, monetary, tenure_days, refund_share, weekend_share, evening_share,
  category_<value> (one per category, named as segmenta slugs them: "Home & Garden" →
  category_home_garden).
A day is a purchase when its net is positive, and its time of day is that of its first line, so
the customer group_by runs over a group_by on customer × day. That is the polars way to say it:
the same features in ONE group_by on the customer need window expressions (`.over(customer,
day)`) for the day's net and first time, which took 2.5 times as long on 100,000 customers. The
category spend goes through its own group_by on customer × category, collected together with
the customers (pl.collect_all), and an eager pivot of that small table: the lazy API cannot pivot
onto values it has not seen. as_of is the day after the latest line, as segmenta's default.
The timings go to stdout as one JSON object, or to --timings FILE.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before the heavy imports

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from common import Stopwatch, add_log_arguments, slug, write_results

import polars as pl


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_log_arguments(p)
    p.add_argument("--timestamp-format",
                   help="the timestamp's format for str.to_datetime, e.g. %%Y-%%m-%%d %%H:%%M "
                        "(default: the CSV reader's try_parse_dates)")
    p.add_argument("--out", type=Path, default=Path("features-lean-polars.parquet"))
    p.add_argument("--timings", type=Path, help="write the timings JSON here instead of stdout")
    a = p.parse_args()
    cid, ts, category = a.customer_id, a.timestamp, a.category
    amount = pl.col(a.amount)

    imports = time.perf_counter() - STARTED
    clock = Stopwatch(STARTED)           # total_wall_s counts the imports, the steps do not
    clock.start = time.perf_counter()

    time_ = pl.col(ts).str.to_datetime(a.timestamp_format) if a.timestamp_format else pl.col(ts)
    lines = (pl.scan_csv(a.transactions, try_parse_dates=not a.timestamp_format,
                         schema_overrides={cid: pl.String})
             .select(cid, time_, a.amount, category)
             .with_columns(pl.col(ts).dt.date().alias("day")))
    # Without an order id a customer's lines of one day are one order.
    days = lines.group_by(cid, "day").agg(
        amount.sum().alias("net"),
        amount.clip(lower_bound=0).sum().alias("gross"),
        (-amount).clip(lower_bound=0).sum().alias("refunded"),
        pl.col(ts).min().alias("first_time"),
    )
    # A day whose refunds cancel its purchases sums to ±1e-17 in floats: its net is compared to 0
    # in millionths, segmenta's unit of money.
    bought = pl.col("net").round(6) > 0
    hour = pl.col("first_time").dt.hour()
    customers = days.group_by(cid).agg(
        pl.col("net").sum().alias("monetary"),
        pl.col("gross").sum(),
        pl.col("refunded").sum(),
        bought.sum().alias("frequency"),
        pl.col("day").filter(bought).max().alias("last_purchase"),
        pl.col("day").filter(bought).min().alias("first_purchase"),
        (bought & (pl.col("day").dt.weekday() >= 6)).sum().alias("weekend"),
        (bought & ((hour >= 18) | (hour < 5))).sum().alias("evening"),
        pl.col("day").max().alias("last_day"),
    )
    spend = lines.filter(amount > 0).group_by(cid, category).agg(amount.sum())
    customers, spend = pl.collect_all([customers, spend], engine="streaming")

    as_of = customers["last_day"].max() + timedelta(days=1)
    per_purchase = pl.when(pl.col("frequency") > 0).then(pl.col("frequency"))
    features = customers.select(
        cid,
        (pl.lit(as_of) - pl.col("last_purchase")).dt.total_days().alias("recency_days"),
        pl.col("frequency"),
        pl.col("monetary"),
        (pl.lit(as_of) - pl.col("first_purchase")).dt.total_days().fill_null(0).alias("tenure_days"),
        (pl.col("refunded") / pl.when(pl.col("gross") > 0).then(pl.col("gross"))).alias("refund_share"),
        (pl.col("weekend") / per_purchase).alias("weekend_share"),
        (pl.col("evening") / per_purchase).alias("evening_share"),
    )
    values = sorted(spend[category].unique().to_list())
    shares = (spend.pivot(on=category, index=cid, values=a.amount, on_columns=values)
              .fill_null(0.0)
              .with_columns(pl.col(values) / pl.sum_horizontal(values))
              .rename({v: f"category_{slug(v)}" for v in values}))
    features = (features.join(shares, on=cid, how="left")
                .with_columns(pl.exclude(cid).cast(pl.Float64)))
    clock.lap("read_aggregate", f"{features.height} customers × {features.width - 1} features "
                                f"(as of {as_of})")

    features.write_parquet(a.out)
    clock.lap("write", str(a.out))

    report = {
        "tool": "polars-python (lean, streaming engine)",
        "versions": {"python": sys.version.split()[0], "polars": pl.__version__},
        "transactions": str(a.transactions), "customers": features.height, "as_of": str(as_of),
        "threads": pl.thread_pool_size(), "features": features.columns[1:],
        "imports_s": round(imports, 3), "steps": clock.steps, "total_wall_s": clock.total(),
        "peak_rss_mb": max(v["peak_rss_mb"] for v in clock.steps.values()),
    }
    write_results(report, a.timings)


if __name__ == "__main__":
    main()
