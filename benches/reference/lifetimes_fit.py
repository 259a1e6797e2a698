#!/usr/bin/env python3
"""How long `lifetimes` takes to fit BG/NBD and Gamma-Gamma on a large summary table, and to
predict per customer with them, for BENCHMARKS.md.

    python3 -m venv ~/.cache/lifetimes-venv
    ~/.cache/lifetimes-venv/bin/pip install lifetimes==0.11.3
    ~/.cache/lifetimes-venv/bin/python benches/reference/lifetimes_fit.py --customers 1000000 \
        --out /tmp/lifetime-bench/summary-1m.csv --json /tmp/lifetime-bench/lifetimes-1m.json

The summary table is simulated (vectorised numpy, --seed) from the models with CDNOW-like
parameters, time unit = week:
  BG/NBD       lambda ~ Gamma(r 0.25, scale 1/alpha 4.8), dropout p ~ Beta(a 0.72, b 2.16);
               first purchase at 0, repeat purchases a Poisson(lambda) process, dropout with
               probability p after each repeat purchase; T ~ Uniform(27, 39) weeks.
               With N ~ Poisson(lambda T) events in (0, T] and J ~ Geometric(p) the repeat
               purchase after which the customer drops out: x = min(N, J), and t_x, the x-th of
               N uniform event times, is T * Beta(x, N - x + 1).
  Gamma-Gamma  nu ~ Gamma(q 3.6, scale 1/gamma 15), each repeat spend ~ Gamma(p 6.3, scale
               1/nu); m = their mean, drawn as Gamma(p x, scale 1/nu) / x (a sum of x such
               spends is Gamma(p x)).
It is written to --out as `x,t_x,T,m` (m blank where x == 0; floats round-trip) for the Rust
side to fit the same table, and read back from there. Steps, each timed once (wall seconds and
the process's peak RSS after it; common.Stopwatch):
  simulate, write, read
  fit_bgnbd    BetaGeoFitter().fit(x, t_x, T)
  fit_gg       GammaGammaFitter().fit(x, m) on the customers with x > 0
  predict      per customer: conditional_probability_alive, conditional expected purchases over
               90/7 weeks, conditional_expected_average_profit (frequency 0 where x == 0)
The timings, fitted parameters and versions go to --json, or to stdout without it.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before the heavy imports

import argparse
import warnings
from importlib.metadata import version
from pathlib import Path

from common import Stopwatch, write_results

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

BGNBD = {"r": 0.25, "alpha": 4.8, "a": 0.72, "b": 2.16}
GAMMA_GAMMA = {"p": 6.3, "q": 3.6, "v": 15.0}
T_WEEKS = (27.0, 39.0)
HORIZON_WEEKS = 90 / 7


def simulate(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    T = rng.uniform(*T_WEEKS, n)
    lam = rng.gamma(BGNBD["r"], 1 / BGNBD["alpha"], n)
    dropout = rng.beta(BGNBD["a"], BGNBD["b"], n)
    events = rng.poisson(lam * T)
    x = np.minimum(events, rng.geometric(dropout))
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), events - x + 1), 0.0)
    nu = rng.gamma(GAMMA_GAMMA["q"], 1 / GAMMA_GAMMA["v"], n)
    m = np.where(x > 0, rng.gamma(GAMMA_GAMMA["p"] * np.maximum(x, 1), 1 / nu) / np.maximum(x, 1), np.nan)
    return pd.DataFrame({"x": x, "t_x": t_x, "T": T, "m": m})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("/tmp/lifetime-bench/summary.csv"),
                   help="the simulated summary table (CSV)")
    p.add_argument("--json", type=Path, help="write the results JSON here instead of stdout")
    a = p.parse_args()
    warnings.simplefilter("ignore", FutureWarning)

    clock = Stopwatch(STARTED)
    clock.start = time.perf_counter()
    table = simulate(a.customers, a.seed)
    clock.lap("simulate", f"{a.customers} customers, {(table['x'] > 0).sum()} with x > 0")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(a.out, index=False)
    clock.lap("write", str(a.out))
    table = pd.read_csv(a.out)
    clock.lap("read")

    bgf = BetaGeoFitter().fit(table["x"], table["t_x"], table["T"])
    clock.lap("fit_bgnbd", ", ".join(f"{k} {v:.4f}" for k, v in bgf.params_.items()))
    repeat = table[table["x"] > 0]
    ggf = GammaGammaFitter().fit(repeat["x"], repeat["m"])
    clock.lap("fit_gg", ", ".join(f"{k} {v:.4f}" for k, v in ggf.params_.items()))

    x, t_x, T = table["x"], table["t_x"], table["T"]
    p_alive = bgf.conditional_probability_alive(x, t_x, T)
    purchases = bgf.conditional_expected_number_of_purchases_up_to_time(HORIZON_WEEKS, x, t_x, T)
    order_value = ggf.conditional_expected_average_profit(x, table["m"].fillna(0.0))
    clock.lap("predict", f"mean p_alive {p_alive.mean():.4f}, expected purchases {purchases.sum():.1f}, "
                         f"mean order value {order_value.mean():.4f}")

    write_results({
        "script": "benches/reference/lifetimes_fit.py",
        "customers": a.customers,
        "repeat_customers": len(repeat),
        "seed": a.seed,
        "summary_csv": str(a.out),
        "simulated": {"bgnbd": BGNBD, "gamma_gamma": GAMMA_GAMMA, "T_weeks": T_WEEKS},
        "fitted": {"bgnbd": bgf.params_.to_dict(), "gamma_gamma": ggf.params_.to_dict()},
        "steps": clock.steps,
        "total_wall_s": clock.total(),
        "versions": {k: version(k) for k in ("lifetimes", "numpy", "scipy", "pandas", "autograd")},
    }, a.json)


if __name__ == "__main__":
    main()
