#!/usr/bin/env python3
"""The read + per-customer aggregation steps of the scale job (benches/scale.toml) with
polars-Python's lazy API: the same engine as segmenta's (polars 1.43.2 ~ the Rust crate 0.55),
the same expressions as src/load/mod.rs and src/features/aggregate/ / demographic.rs, so the
difference to segmenta's `load` + `features` stages is segmenta's own overhead.

    python aggregate_polars.py --data /tmp/scale100k --out /tmp/pl-features.parquet --timings /tmp/pl.json

Steps, each timed (wall seconds, and the process's peak RSS after the step):
  read       both tables scanned, unusable lines dropped and the canonical columns derived
             (order key, day number, hour, weekday, month, discount), collected into memory —
             as segmenta's load stage holds them
  aggregate  lines → orders → customers (RFM and the other features, top-N category and
             channel spend shares), demographics joined, aligned on every customer of either
             table (sorted), in segmenta's column order
  write      the feature table as Parquet (only with --out)

--streaming runs the collects on polars' streaming engine instead of the in-memory one.
The timings go to stdout as one JSON object, or to --timings FILE.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before the heavy imports, which are timed as the step "imports"

import argparse
import sys
import tomllib
from datetime import date
from pathlib import Path

from common import Stopwatch, slug, write_results

import polars as pl

HERE = Path(__file__).resolve().parent
DEFAULT_JOB = HERE.parent / "scale.toml"
EPOCH = date(1970, 1, 1)


def job_settings(path: Path | None) -> dict:
    job = tomllib.loads(path.read_text()) if path else {}
    features = job.get("features", {})
    return {"as_of": job.get("as_of"), "top_n": features.get("top_n", 8),
            "peak_months": features.get("peak_months", [11, 12])}


# ---------------------------------------------------------------------------------------------
# read (src/load/mod.rs: usable_lines)

def read(data: Path, fmt: str, engine: str) -> tuple[pl.DataFrame, pl.DataFrame, bool]:
    tx_cols = ["customer_id", "timestamp", "amount", "order_id", "category", "channel", "discount"]
    cu_cols = ["customer_id", "birth_year", "income", "signup_date"]
    if fmt == "parquet":
        tx = pl.scan_parquet(data / "transactions.parquet").select(tx_cols)
        cu = pl.scan_parquet(data / "customers.parquet").select(cu_cols)
    else:
        text = {"customer_id": pl.String, "order_id": pl.String}
        tx = pl.scan_csv(data / "transactions.csv", schema_overrides=text,
                         try_parse_dates=True).select(tx_cols)
        cu = pl.scan_csv(data / "customers.csv", schema_overrides={"customer_id": pl.String},
                         try_parse_dates=True).select(cu_cols)
    # A Datetime column carries a time of day, a Date column does not (segmenta's rule for typed
    # timestamps; CSV dates are typed by try_parse_dates).
    has_time = isinstance(tx.collect_schema()["timestamp"], pl.Datetime)
    time_ = pl.col("timestamp").cast(pl.Datetime("ms"))
    day = time_.cast(pl.Date).cast(pl.Int32)
    discount = pl.col("discount").fill_null(0.0)
    tx = (
        tx.filter(pl.col("customer_id").is_not_null() & pl.col("timestamp").is_not_null()
                  & pl.col("amount").is_not_null())
        .select(
            pl.col("customer_id"),
            pl.when(pl.col("order_id").is_null())
            .then(pl.lit("day:") + day.cast(pl.String))
            .otherwise(pl.col("order_id")).alias("order_key"),
            day.alias("day"),
            time_.dt.hour().cast(pl.Int32).alias("hour"),
            time_.dt.weekday().cast(pl.Int32).alias("weekday"),
            time_.dt.month().cast(pl.Int32).alias("month"),
            pl.col("amount").cast(pl.Float64),
            pl.when(discount < 0).then(-discount).otherwise(discount).alias("discount"),
            pl.col("category").fill_null("unknown"),
            pl.col("channel").fill_null("unknown"),
        )
        .collect(engine=engine)
    )
    cu = (
        cu.filter(pl.col("customer_id").is_not_null())
        .select(
            pl.col("customer_id"),
            pl.col("birth_year").cast(pl.Float64),
            pl.col("income").cast(pl.Float64),
            pl.col("signup_date").cast(pl.Date).cast(pl.Int32).cast(pl.Float64).alias("signup_day"),
        )
        .unique(subset=["customer_id"], keep="first", maintain_order=True)
        .collect(engine=engine)
    )
    return tx, cu, has_time


# ---------------------------------------------------------------------------------------------
# aggregate (src/features/aggregate/, demographic.rs)

def flag(condition: pl.Expr) -> pl.Expr:
    return condition.cast(pl.Float64)


def ratio(numerator: str, denominator: str) -> pl.Expr:
    return (pl.when(pl.col(denominator) > 0)
            .then(pl.col(numerator).cast(pl.Float64) / pl.col(denominator).cast(pl.Float64))
            .otherwise(None))



def spend_shares(lines: pl.LazyFrame, column: str, top_n: int, engine: str
                 ) -> tuple[pl.LazyFrame, list[str]]:
    positive = lines.filter(pl.col("amount") > 0)
    top = (positive.group_by(column).agg(pl.col("amount").sum().alias("spend"))
           .sort(["spend", column], descending=[True, False]).head(top_n)
           .collect(engine=engine)[column].to_list())
    distinct = lines.select(pl.col(column).n_unique()).collect(engine=engine).item()
    aggs = [pl.col("amount").sum().alias("__gross")]
    aggs += [pl.col("amount").filter(pl.col(column) == v).sum().alias(f"__v{i}")
             for i, v in enumerate(top)]
    names = [f"{column}_{slug(v)}" for v in top]
    shares = [ratio(f"__v{i}", "__gross").alias(name) for i, name in enumerate(names)]
    if distinct > len(top):
        top_sum = pl.sum_horizontal([pl.col(f"__v{i}") for i in range(len(top))])
        shares.append(pl.when(pl.col("__gross") > 0).then(1.0 - top_sum / pl.col("__gross"))
                      .otherwise(None).alias(f"{column}_other"))
        names.append(f"{column}_other")
    frame = positive.group_by("customer_id").agg(aggs).select(["customer_id", *shares])
    return frame, names


def aggregate(tx: pl.DataFrame, cu: pl.DataFrame, as_of_day: int, as_of: date, has_time: bool,
              top_n: int, peak_months: list[int], engine: str) -> pl.DataFrame:
    universe = (pl.concat([tx.lazy().select("customer_id"), cu.lazy().select("customer_id")])
                .unique().sort("customer_id"))
    lines = tx.lazy().filter(pl.col("day") < as_of_day)

    amount = pl.col("amount")
    orders = lines.group_by("customer_id", "order_key").agg(
        amount.sum().alias("net"),
        pl.when(amount > 0).then(amount).otherwise(0.0).sum().alias("gross"),
        pl.when(amount < 0).then(-amount).otherwise(0.0).sum().alias("refunded"),
        pl.col("discount").sum().alias("discount"),
        pl.col("day").min().alias("day"),
        pl.col("hour").first().alias("hour"),
        pl.col("weekday").first().alias("weekday"),
        pl.col("month").is_in(peak_months).first().alias("peak"),
    )
    bought = pl.col("net") > 0

    def purchase_count(condition: pl.Expr) -> pl.Expr:
        return flag(bought & condition).sum()

    def hour_in(lo: int, hi: int) -> pl.Expr:
        return (pl.col("hour") >= lo) & (pl.col("hour") < hi)

    per_customer = orders.group_by("customer_id").agg(
        pl.col("net").sum().alias("monetary"),
        flag(bought).sum().alias("frequency"),
        pl.col("net").filter(bought).mean().alias("avg_order_value"),
        pl.col("gross").sum().alias("gross"),
        pl.col("refunded").sum().alias("refunded"),
        pl.col("day").filter(bought).max().alias("last_day"),
        pl.col("day").filter(bought).min().alias("first_day"),
        pl.col("day").filter(bought).n_unique().alias("purchase_days"),
        purchase_count(pl.col("discount") > 0).alias("discounted_orders"),
        (pl.col("discount") / (pl.col("net") + pl.col("discount")))
        .filter(bought & (pl.col("discount") > 0)).mean().alias("discount_depth"),
        purchase_count(pl.col("weekday") >= 6).alias("weekend_orders"),
        purchase_count(hour_in(5, 12)).alias("morning_orders"),
        purchase_count(hour_in(12, 18)).alias("afternoon_orders"),
        purchase_count(hour_in(18, 24) | hour_in(0, 5)).alias("evening_orders"),
        pl.col("net").filter(bought & pl.col("peak")).sum().alias("peak_spend"),
        pl.col("net").filter(bought).sum().alias("purchase_spend"),
    ).with_columns(
        (pl.lit(as_of_day) - pl.col("last_day")).cast(pl.Float64).alias("recency_days"),
        (pl.lit(as_of_day) - pl.col("first_day")).cast(pl.Float64).alias("tenure_days"),
        pl.when(pl.col("purchase_days") > 1)
        .then((pl.col("last_day") - pl.col("first_day")).cast(pl.Float64)
              / (pl.col("purchase_days") - 1).cast(pl.Float64))
        .otherwise(None).alias("mean_interpurchase_days"),
        ratio("refunded", "gross").alias("refund_share"),
        ratio("discounted_orders", "frequency").alias("discount_share"),
        ratio("weekend_orders", "frequency").alias("weekend_share"),
        ratio("morning_orders", "frequency").alias("morning_share"),
        ratio("afternoon_orders", "frequency").alias("afternoon_share"),
        ratio("evening_orders", "frequency").alias("evening_share"),
        ratio("peak_spend", "purchase_spend").alias("peak_season_share"),
    )
    names = ["recency_days", "frequency", "monetary", "avg_order_value", "tenure_days",
             "mean_interpurchase_days", "refund_share", "discount_share", "discount_depth",
             "weekend_share"]
    if has_time:
        names += ["morning_share", "afternoon_share", "evening_share"]
    names += ["peak_season_share"]
    categories, category_names = spend_shares(lines, "category", top_n, engine)
    channels, channel_names = spend_shares(lines, "channel", top_n, engine)

    year = float(as_of.year)
    age = year - pl.col("birth_year")
    demographics = cu.lazy().select(
        "customer_id",
        pl.when(age.is_between(0.0, 120.0)).then(age).otherwise(None).alias("age"),
        pl.col("income"),
        (float(as_of_day) - pl.col("signup_day")).clip(lower_bound=0.0).alias("days_since_signup"),
    )
    zero_if_missing = ["frequency", "monetary", "tenure_days"]
    return (
        universe
        .join(per_customer.select("customer_id", *names), on="customer_id", how="left")
        .join(categories, on="customer_id", how="left")
        .join(channels, on="customer_id", how="left")
        .join(demographics, on="customer_id", how="left")
        .with_columns([pl.col(c).fill_null(0.0) for c in zero_if_missing])
        .select("customer_id", *[pl.col(c).cast(pl.Float64) for c in
                                 names + category_names + channel_names
                                 + ["age", "income", "days_since_signup"]])
        .collect(engine=engine)
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="folder of `segmenta generate`")
    p.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    p.add_argument("--job", type=Path, default=DEFAULT_JOB if DEFAULT_JOB.exists() else None,
                   help="job file whose [features] settings are mirrored (default: benches/scale.toml)")
    p.add_argument("--as-of", help="YYYY-MM-DD (default: the day after the latest transaction)")
    p.add_argument("--streaming", action="store_true", help="polars' streaming engine")
    p.add_argument("--out", type=Path, help="write the feature table here (Parquet, timed)")
    p.add_argument("--timings", type=Path, help="write the timings JSON here instead of stdout")
    a = p.parse_args()
    s = job_settings(a.job)
    if a.as_of:
        s["as_of"] = a.as_of
    engine = "streaming" if a.streaming else "in-memory"

    clock = Stopwatch(STARTED)
    clock.lap("imports", "python modules loaded")
    tx, cu, has_time = read(a.data, a.format, engine)
    clock.lap("read", f"{tx.height} transaction lines, {cu.height} customers ({a.format})")

    if s["as_of"]:
        as_of = date.fromisoformat(str(s["as_of"]))
        as_of_day = (as_of - EPOCH).days
    else:
        as_of_day = int(tx["day"].max()) + 1
        as_of = date.fromordinal(EPOCH.toordinal() + as_of_day)
    f = aggregate(tx, cu, as_of_day, as_of, has_time, s["top_n"], s["peak_months"], engine)
    clock.lap("aggregate", f"{f.height} customers × {f.width - 1} features (as of {as_of})")

    if a.out:
        f.write_parquet(a.out)
        clock.lap("write", str(a.out))

    report = {
        "tool": f"polars-python ({engine} engine)",
        "versions": {"python": sys.version.split()[0], "polars": pl.__version__},
        "data": str(a.data), "format": a.format, "customers": f.height, "as_of": str(as_of),
        "threads": pl.thread_pool_size(), "features": f.columns[1:],
        "steps": clock.steps, "total_wall_s": clock.total(),
        "peak_rss_mb": max(v["peak_rss_mb"] for v in clock.steps.values()),
    }
    write_results(report, a.timings)


if __name__ == "__main__":
    main()
