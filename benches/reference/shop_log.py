#!/usr/bin/env python3
"""A second, independently shaped transaction log for the lean benchmark: a shop's order-line
export, nothing like `segmenta generate`'s tables.

    python shop_log.py --customers 100000 --seed 7 --output /tmp/shop100k    # → orders.csv

One file, DIR/orders.csv, one row per order line:

    client_ref,purchased_at,total,product_line,payment
    CL-0001234,2025-06-14 18:42,37.90,Home & Garden,card

- client_ref    string ids with a prefix, CL-0000001 …
- purchased_at  ISO datetimes to the minute (no seconds), from 2024-01-01 to 2025-12-31
- total         the line's money, 2 decimals; refunds (5 % of the lines) are negative totals
- product_line  10 lines of unequal popularity (Groceries the most bought, Jewellery the least)
- payment       card, paypal, apple_pay, invoice, gift_card
- no order id:  lines bought together share a minute; segmenta makes one order per customer and day

The shape: 18-19 lines per customer on average, skewed (1 + floor of a lognormal: the median
customer has about 11 lines, one in a hundred more than 120); every customer has an activity
window (a start anywhere in the two years, 40 % from the beginning, and an exponential span) and
their own habits — a favourite product line, a preferred payment, a preferred time of day, a
weekend leaning. Lines come in baskets (1.8 lines on average, all at one minute); a refund
returns a line of a basket the same day (30 %) or 1-30 days later.

Deterministic: the same --customers and --seed give the same bytes. Customers are generated in
blocks of 100,000 (each block from its own seeded stream, rows sorted by time within a block) and
appended to the file, so memory is that of one block at any size: 100,000 customers (1.84
million lines, 93 MB) took 1.2-1.5 s and 0.5 GB here, so 3 million (~56 million lines) should
take under a minute or two.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

BLOCK = 100_000              # customers per block; part of the output's definition (seeding)
DAYS = 731                   # 2024-01-01 … 2025-12-31 (2024 is a leap year)
START = np.datetime64("2024-01-01T00:00", "m")
MEAN_BASKET = 1.8            # lines per basket
REFUND_RATE = 0.05

PRODUCT_LINES = ["Groceries", "Fashion", "Home & Garden", "Beauty", "Electronics", "Sports",
                 "Toys", "Books", "Pet Supplies", "Jewellery"]
POPULARITY = np.array([0.22, 0.16, 0.12, 0.11, 0.09, 0.08, 0.07, 0.06, 0.05, 0.04])
MEDIAN_PRICE = np.array([18.0, 45.0, 60.0, 25.0, 180.0, 55.0, 30.0, 15.0, 28.0, 120.0])
PAYMENTS = ["card", "paypal", "apple_pay", "invoice", "gift_card"]
PAYMENT_SHARE = np.array([0.46, 0.24, 0.15, 0.11, 0.04])
# Hour of day of a purchase that does not follow the customer's own habit (a web shop's curve:
# quiet at night, a lunch bump, the evening peak).
HOURLY = np.array([1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.0, 2.0, 3.0, 4.0, 4.5, 5.0,
                   5.5, 5.0, 4.5, 4.5, 5.0, 5.5, 6.5, 7.5, 8.0, 7.0, 5.0, 2.5])
HOURLY = HOURLY / HOURLY.sum()
HABIT_HOURS = np.array([8.0, 12.5, 17.0, 20.5, 23.0])       # early, lunch, after work, evening, late
HABIT_SHARE = np.array([0.15, 0.20, 0.20, 0.35, 0.10])


def block(first: int, customers: int, seed: int) -> pl.DataFrame:
    """The order lines of customers first+1 … first+customers, sorted by time."""
    rng = np.random.default_rng([seed, first // BLOCK])
    n = customers

    # Per customer: how many lines, when active, and their habits.
    lines = 1 + np.minimum(np.floor(rng.lognormal(2.34, 1.05, n)), 2000).astype(np.int64)
    start = np.where(rng.random(n) < 0.4, 0, rng.integers(0, DAYS, n))
    span = np.maximum(1, rng.exponential(420.0, n)).astype(np.int64)
    end = np.minimum(start + span, DAYS)                       # exclusive
    favourite = rng.choice(len(PRODUCT_LINES), n, p=POPULARITY)
    loyalty = rng.beta(2.0, 2.5, n)                            # share of lines of the favourite
    pays_with = rng.choice(len(PAYMENTS), n, p=PAYMENT_SHARE)
    habit_hour = rng.choice(HABIT_HOURS, n, p=HABIT_SHARE)
    habit_strength = rng.beta(3.0, 2.0, n)
    weekend_lean = rng.beta(1.0, 3.5, n)                       # chance a basket moves to a weekend
    spend_level = rng.lognormal(0.0, 0.35, n)

    # Lines → baskets: a line starts a new basket with probability 1 / MEAN_BASKET, the first of
    # each customer always.
    total_lines = int(lines.sum())
    owner = np.repeat(np.arange(n), lines)
    first_line = np.zeros(total_lines, dtype=bool)
    first_line[np.cumsum(lines) - lines] = True
    starts = first_line | (rng.random(total_lines) < 1.0 / MEAN_BASKET)
    basket = np.cumsum(starts) - 1
    b_owner = owner[starts]
    b = len(b_owner)

    # Each basket's minute: a day in the customer's window (moved to the next Saturday or Sunday
    # when the customer leans that way and it stays in the window), an hour from their habit or
    # the shop's curve.
    day = start[b_owner] + np.floor(rng.random(b) * (end - start)[b_owner]).astype(np.int64)
    weekday = day % 7                                          # 2024-01-01 was a Monday: 0
    to_weekend = np.where(weekday < 5, 5 - weekday + rng.integers(0, 2, b), 0)
    moved = day + to_weekend
    day = np.where((rng.random(b) < weekend_lean[b_owner]) & (moved < end[b_owner]), moved, day)
    own_hour = np.round(rng.normal(habit_hour[b_owner], 1.5)).astype(np.int64) % 24
    hour = np.where(rng.random(b) < habit_strength[b_owner], own_hour,
                    rng.choice(24, b, p=HOURLY))
    minute = day * 1440 + hour * 60 + rng.integers(0, 60, b)

    # Per line: product line, money, payment; 5 % are refunds of a line like it.
    line_minute = minute[basket]
    product = np.where(rng.random(total_lines) < loyalty[owner], favourite[owner],
                       rng.choice(len(PRODUCT_LINES), total_lines, p=POPULARITY))
    price = MEDIAN_PRICE[product] * spend_level[owner] * rng.lognormal(0.0, 0.6, total_lines)
    total = np.maximum(np.round(price, 2), 0.5)
    refund = rng.random(total_lines) < REFUND_RATE
    later = np.where(rng.random(total_lines) < 0.3, 0, rng.integers(1, 31, total_lines))
    refund_minute = np.minimum(line_minute + later * 1440, DAYS * 1440 - 1)
    line_minute = np.where(refund, refund_minute, line_minute)
    total = np.where(refund, -total, total)
    payment = np.where(rng.random(total_lines) < 0.8, pays_with[owner],
                       rng.choice(len(PAYMENTS), total_lines, p=PAYMENT_SHARE))

    order = np.argsort(line_minute, kind="stable")
    timestamps = (START + line_minute[order]).astype("datetime64[us]")
    return pl.DataFrame({
        "client_ref": (owner[order] + first + 1),
        "purchased_at": timestamps,
        "total": total[order],
        "product_line": pl.Series(product[order].astype(np.uint32)),
        "payment": pl.Series(payment[order].astype(np.uint32)),
    }).with_columns(
        pl.format("CL-{}", pl.col("client_ref").cast(pl.String).str.zfill(7)).alias("client_ref"),
        pl.col("product_line").replace_strict(list(range(len(PRODUCT_LINES))), PRODUCT_LINES,
                                              return_dtype=pl.String),
        pl.col("payment").replace_strict(list(range(len(PAYMENTS))), PAYMENTS,
                                         return_dtype=pl.String),
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--customers", type=int, required=True)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--output", type=Path, required=True, help="folder; orders.csv is written there")
    a = p.parse_args()
    started = time.perf_counter()
    a.output.mkdir(parents=True, exist_ok=True)
    path = a.output / "orders.csv"
    partial = path.with_name(path.name + ".partial")
    rows = 0
    with open(partial, "wb") as out:
        for first in range(0, a.customers, BLOCK):
            frame = block(first, min(BLOCK, a.customers - first), a.seed)
            frame.write_csv(out, include_header=first == 0, datetime_format="%Y-%m-%d %H:%M",
                            float_precision=2)
            rows += frame.height
    partial.replace(path)
    print(f"{path}: {a.customers} customers, {rows} lines ({rows / max(a.customers, 1):.1f} per "
          f"customer) in {time.perf_counter() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
