#!/usr/bin/env python3
"""Reference BG/NBD + Gamma-Gamma customer-lifetime figures on CDNOW, computed with `lifetimes`.

Reads `../shared/data/cdnow_transactions.csv` (real CDNOW data, kept outside the repository; the
script stops with a clear message when it is absent) and writes (relative to the repository
root):

* `tests/data/lifetime_fixture.json` - package versions, the definitions below, as_of, the number
  of customers and of Gamma-Gamma customers; BG/NBD {r, alpha, a, b, log_likelihood} and
  Gamma-Gamma {p, q, v, log_likelihood} for lifetimes' default fit (tol=1e-7) and a tight fit
  (tol=1e-9); `bgnbd_day` (BG/NBD, tight, time unit = day); `backtest` {weeks, actual,
  predicted} (cumulative repeat transactions in the 39 holdout weeks); `figure4` (rows
  [x label, customers, actual_mean, predicted_mean], Fader, Hardie & Lee 2005, Figure 4).
* `tests/data/lifetime_cdnow.csv` - header
  `customer_id,x,t_x,T,m,p_alive,expected_purchases,expected_order_value,clv`, one row per
  customer sorted by customer_id as a string; m blank when x == 0. Per-customer figures use
  the tight fits.

Floats are written with repr (they round-trip).

Definitions (what segmenta does):

* as_of = 1997-10-01; the calibration window is the lines dated < as_of, its last day
  L = 1997-09-30. Time unit = week (7 days).
* CDNOW has no order id: an order is a customer's lines of one calendar day, its net the sum of
  their amounts. A transaction day is a day whose net >= 0 (zero-amount days count).
* Per customer with a transaction day in the window: first/last = first/last transaction day in
  the window; x = transaction days - 1; t_x = (last - first) days / 7; T = (L - first) days / 7.
  m = mean net of the repeat transaction days (all but the first).
* BetaGeoFitter(penalizer_coef=0.0).fit(x, t_x, T); GammaGammaFitter(penalizer_coef=0.0) fitted
  on the customers with x > 0 and m > 0. log_likelihood = total (summed over customers) at the
  fitted parameters, from the papers' formulas, checked against lifetimes' mean negative LL.
* p_alive = conditional_probability_alive(x, t_x, T); expected_purchases = conditional expected
  purchases over 90 days (90/7 weeks); expected_order_value = conditional_expected_average_profit
  (x, m), the population mean p*v/(q-1) (frequency 0) where x == 0 or m <= 0; clv = margin 1.0
  * expected_order_value * sum over months k = 1..3 of (E[t_k] - E[t_k-1]) / 1.1^(t_k/365),
  t_k = min(30k, 90) days, E[t] = conditional expected purchases up to t, E[0] = 0.
* Backtest: holdout = lines dated as_of..1998-06-30 (39 weeks). Week k: actual = transaction
  days of the calibration customers dated in [as_of, as_of + 7k days), predicted = sum over
  customers of the conditional expected purchases up to k weeks.

lifetimes 0.11.3 runs as is on Python 3.11 with numpy 2, pandas 3, scipy 1.17 and autograd 1.9
(the versions used are recorded in the JSON):

    python3 -m venv ~/.cache/lifetimes-venv
    ~/.cache/lifetimes-venv/bin/pip install lifetimes==0.11.3
    ~/.cache/lifetimes-venv/bin/python tests/reference/lifetime_fixture.py
"""

import json
import math
import pathlib
import sys
import warnings
from importlib.metadata import version

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from scipy.special import betaln, gammaln

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "tests" / "data"
CDNOW = ROOT.parent / "shared" / "data" / "cdnow_transactions.csv"

AS_OF = pd.Timestamp("1997-10-01")
LAST_DAY = AS_OF - pd.Timedelta(days=1)
HOLDOUT_WEEKS = 39
HORIZON_DAYS = 90
MONTH_DAYS = 30
DISCOUNT = 0.1
MARGIN = 1.0
TIGHT_TOL = 1e-9  # BFGS stops on "precision loss" (lifetimes: ConvergenceError) at 1e-10 for BG/NBD
# The expected values (4 decimals) for the definitions above.
EXPECTED = {"r": 0.2516, "alpha": 4.7889, "a": 0.7234, "b": 2.1611, "p": 6.2754, "q": 3.6245, "v": 14.9837}

DEFINITIONS = (
    "order = customer + calendar day, net = sum of its amounts; transaction day = net >= 0; "
    "as_of 1997-10-01, calibration = dates < as_of, L = 1997-09-30, unit = 7 days; "
    "x = transaction days - 1, t_x = (last - first)/7, T = (L - first)/7; "
    "m = mean net of the repeat transaction days; Gamma-Gamma on x > 0 and m > 0; "
    "log_likelihood = sum over customers; expected_purchases over 90/7 weeks; "
    "expected_order_value = population mean p*v/(q-1) where x == 0 or m <= 0; "
    "clv = margin 1.0 * expected_order_value * sum_k (E[t_k] - E[t_k-1]) / 1.1^(t_k/365), "
    "t_k = min(30k, 90) days; backtest week k = transaction days in [as_of, as_of + 7k days)"
)


def transaction_days():
    """One row per customer and transaction day: customer_id, date, net."""
    if not CDNOW.exists():
        sys.exit(f"cdnow: {CDNOW} is absent (see ../shared/data/README.md); cannot write the fixture")
    raw = pd.read_csv(CDNOW, dtype=str, keep_default_na=False)  # ids keep their leading zeros
    lines = pd.DataFrame({
        "customer_id": raw["customer_id"],
        "date": pd.to_datetime(raw["date"], format="%Y-%m-%d"),
        "amount": pd.to_numeric(raw["amount"]),
    })
    days = lines.groupby(["customer_id", "date"], as_index=False).agg(net=("amount", "sum"))
    return days[days["net"] >= 0]


def summary(days, unit_days):
    """x, t_x, T (in units of `unit_days` days) and m per customer, indexed by customer_id."""
    by_customer = days.groupby("customer_id")
    first, last = by_customer["date"].min(), by_customer["date"].max()
    repeat = days[days["date"] > days["customer_id"].map(first)]
    return pd.DataFrame({
        "x": by_customer.size() - 1,
        "t_x": (last - first).dt.days / unit_days,
        "T": (LAST_DAY - first).dt.days / unit_days,
        "m": repeat.groupby("customer_id")["net"].mean(),
    }).sort_index()


def bgnbd_log_likelihood(params, x, t_x, T):
    """Fader, Hardie & Lee (2005), eq. 6, summed over customers."""
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    alive = betaln(a, b + x) + common - (r + x) * np.log(alpha + T)
    dead = betaln(a + 1, b + np.maximum(x, 1) - 1) + common - (r + x) * np.log(alpha + t_x)
    return float(np.where(x > 0, np.logaddexp(alive, dead), alive).sum())


def gamma_gamma_log_likelihood(params, x, m):
    """Fader & Hardie, "The Gamma-Gamma Model of Monetary Value" (2013), eq. 1a, summed."""
    p, q, v = params
    px = p * x
    return float((-betaln(px, q) + q * np.log(v) + (px - 1) * np.log(m) + px * np.log(x)
                  - (px + q) * np.log(v + m * x)).sum())


def fit_bgnbd(c, tol):
    bgf = BetaGeoFitter(penalizer_coef=0.0).fit(c["x"], c["t_x"], c["T"], tol=tol)
    params = bgf.params_[["r", "alpha", "a", "b"]].to_numpy()
    x, t_x, T = (c[k].to_numpy(dtype=float) for k in ("x", "t_x", "T"))
    ll = bgnbd_log_likelihood(params, x, t_x, T)
    # lifetimes minimises the MEAN negative LL, of times scaled by 10 / max(T) (which takes
    # sum(x) * log(scale) off the LL); check both against the sum.
    n = len(c)
    mean_nll = BetaGeoFitter._negative_log_likelihood(np.log(params), x, t_x, T, np.ones(n), 0.0)
    assert math.isclose(ll, -n * mean_nll, rel_tol=1e-12), (ll, -n * mean_nll)
    fitted = -n * bgf._negative_log_likelihood_ + x.sum() * math.log(bgf._scale)
    assert math.isclose(ll, fitted, rel_tol=1e-10), (ll, fitted)
    return bgf, {**{k: float(v) for k, v in bgf.params_.items()}, "log_likelihood": ll}


def fit_gamma_gamma(g, tol):
    ggf = GammaGammaFitter(penalizer_coef=0.0).fit(g["x"], g["m"], tol=tol)
    params = ggf.params_[["p", "q", "v"]].to_numpy()
    ll = gamma_gamma_log_likelihood(params, g["x"].to_numpy(dtype=float), g["m"].to_numpy())
    assert math.isclose(ll, -len(g) * ggf._negative_log_likelihood_, rel_tol=1e-10)
    return ggf, {**{k: float(v) for k, v in ggf.params_.items()}, "log_likelihood": ll}


def max_rel_diff(a, b):
    return max(abs(a[k] / b[k] - 1) for k in a)


def main():
    warnings.simplefilter("ignore", FutureWarning)
    days = transaction_days()
    calibration = days[days["date"] < AS_OF]
    c = summary(calibration, 7)
    n_file = days["customer_id"].nunique()
    assert len(c) == n_file == 23570, (len(c), n_file)
    g = c[(c["x"] > 0) & (c["m"] > 0)]
    x, t_x, T = c["x"], c["t_x"], c["T"]
    print(f"as_of {AS_OF.date()}: {len(c)} customers, {len(g)} with x > 0 and m > 0 "
          f"({int(((c['x'] > 0) & (c['m'] <= 0)).sum())} with x > 0 and m <= 0)")

    fits = {}
    for name, tol in (("default", 1e-7), ("tight", TIGHT_TOL)):
        bgf, bg = fit_bgnbd(c, tol)
        ggf, gg = fit_gamma_gamma(g, tol)
        fits[name] = (bgf, ggf, bg, gg)
        print(f"  {name:<7} (tol {tol:g}): BG/NBD " + ", ".join(f"{k} {v!r}" for k, v in bg.items()))
        print(f"  {'':<7}              GG     " + ", ".join(f"{k} {v!r}" for k, v in gg.items()))
    bgf, ggf, bg, gg = fits["tight"]
    print(f"  default vs tight: max relative difference BG/NBD "
          f"{max_rel_diff(fits['default'][2], bg):.2e}, GG {max_rel_diff(fits['default'][3], gg):.2e}")
    got = {**bg, **gg}
    off = {k: got[k] for k in EXPECTED if round(got[k], 4) != EXPECTED[k]}
    print("  the issue's expected values: " + (f"DIFFER {off}" if off else "reproduced (4 decimals)"))

    day_c = summary(calibration, 1)
    _, bg_day = fit_bgnbd(day_c, TIGHT_TOL)
    print("  day unit: BG/NBD " + ", ".join(f"{k} {v!r}" for k, v in bg_day.items()))
    print(f"            r, a, b vs week: {max(abs(bg_day[k] / bg[k] - 1) for k in 'r a b'.split()):.2e}, "
          f"alpha / 7 vs week: {bg_day['alpha'] / 7 / bg['alpha'] - 1:.2e}")

    # Per customer, at the tight fits.
    def expected(t_days):
        return bgf.conditional_expected_number_of_purchases_up_to_time(t_days / 7, x, t_x, T)

    c["p_alive"] = bgf.conditional_probability_alive(x, t_x, T)
    c["expected_purchases"] = expected(HORIZON_DAYS)
    in_gg = c.index.isin(g.index)
    c["expected_order_value"] = ggf.conditional_expected_average_profit(
        c["x"].where(in_gg, 0), c["m"].where(in_gg, 0.0))
    steps = [min(MONTH_DAYS * k, HORIZON_DAYS) for k in range(1, math.ceil(HORIZON_DAYS / MONTH_DAYS) + 1)]
    previous, discounted = 0.0, 0.0
    for t in steps:
        e = expected(t)
        discounted = discounted + (e - previous) / (1 + DISCOUNT) ** (t / 365)
        previous = e
    c["clv"] = MARGIN * c["expected_order_value"] * discounted

    # Backtest on the holdout weeks.
    holdout = days[(days["date"] >= AS_OF) & days["customer_id"].isin(c.index)]
    week = (holdout["date"] - AS_OF).dt.days // 7 + 1
    assert week.max() == HOLDOUT_WEEKS, week.max()
    weeks = list(range(1, HOLDOUT_WEEKS + 1))
    actual = np.cumsum(np.bincount(week, minlength=HOLDOUT_WEEKS + 1)[1:])
    predicted = [float(bgf.conditional_expected_number_of_purchases_up_to_time(k, x, t_x, T).sum()) for k in weeks]
    error = (np.array(predicted) - actual) / actual
    print(f"  backtest: week {HOLDOUT_WEEKS} actual {actual[-1]}, predicted {predicted[-1]:.1f}, "
          f"error {error[-1]:+.2%}; MAPE over {HOLDOUT_WEEKS} weeks {np.abs(error).mean():.2%}")

    per_customer = pd.DataFrame({
        "label": np.where(x < 7, x.astype(str), "7+"),
        "actual": holdout.groupby("customer_id").size().reindex(c.index, fill_value=0),
        "predicted": bgf.conditional_expected_number_of_purchases_up_to_time(HOLDOUT_WEEKS, x, t_x, T),
    })
    figure4 = [[label, int(len(grp)), float(grp["actual"].mean()), float(grp["predicted"].mean())]
               for label, grp in per_customer.groupby("label")]
    print("  figure 4 (x: customers, actual mean, predicted mean): "
          + "; ".join(f"{r[0]}: {r[1]}, {r[2]:.3f}, {r[3]:.3f}" for r in figure4))

    fixture = {
        "generator": "tests/reference/lifetime_fixture.py",
        "versions": {p: version(p) for p in ("lifetimes", "numpy", "scipy", "pandas", "autograd")},
        "definitions": DEFINITIONS,
        "as_of": str(AS_OF.date()),
        "customers": len(c),
        "gg_customers": len(g),
        "tol": {"default": 1e-7, "tight": TIGHT_TOL},
        "bgnbd": {name: f[2] for name, f in fits.items()},
        "gamma_gamma": {name: f[3] for name, f in fits.items()},
        "bgnbd_day": bg_day,
        "backtest": {"weeks": weeks, "actual": actual.tolist(), "predicted": predicted},
        "figure4": figure4,
    }
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / "lifetime_fixture.json"
    out.write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")

    csv = OUT_DIR / "lifetime_cdnow.csv"
    columns = ["t_x", "T", "m", "p_alive", "expected_purchases", "expected_order_value", "clv"]
    with csv.open("w") as f:
        f.write("customer_id,x," + ",".join(columns) + "\n")
        for row in c.itertuples():
            values = [repr(float(getattr(row, k))) for k in columns]
            if row.x == 0:
                values[2] = ""
            f.write(f"{row.Index},{row.x}," + ",".join(values) + "\n")
    size = csv.stat().st_size
    assert size < 3_500_000, size
    print(f"wrote {csv.relative_to(ROOT)} ({len(c)} rows, {size} bytes)")


if __name__ == "__main__":
    main()
