"""What both reference scripts share: the timer (wall seconds per step and the process's peak
RSS after it, printed as the script goes and kept for its JSON results), the column slug and writing the results."""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


class Stopwatch:
    """Wall seconds per step and the process's peak RSS (ru_maxrss) after it."""

    def __init__(self, started: float) -> None:
        """`started`: time.perf_counter() at the script's start, before its heavy imports."""
        self.steps: dict[str, dict[str, float]] = {}
        self.start = started
        self.total_start = started

    def lap(self, step: str, detail: str = "") -> None:
        now = time.perf_counter()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        self.steps[step] = {"wall_s": round(now - self.start, 3), "peak_rss_mb": round(peak_mb, 1)}
        print(f"  {step:<11}{now - self.start:8.2f} s  peak RSS {peak_mb:8.1f} MB  {detail}",
              file=sys.stderr, flush=True)
        self.start = time.perf_counter()

    def total(self) -> float:
        return round(time.perf_counter() - self.total_start, 3)


def add_log_arguments(parser) -> None:
    """The lean scripts' shared arguments: the transaction log and the names of its columns."""
    parser.add_argument("--transactions", type=Path, required=True,
                        help="the transaction log (CSV)")
    parser.add_argument("--customer-id", default="customer_id")
    parser.add_argument("--timestamp", default="timestamp")
    parser.add_argument("--amount", default="amount")
    parser.add_argument("--category", default="category")


def slug(value: str) -> str:
    """src/features/aggregate/ slug: lowercase, runs of non-alphanumerics become one '_'."""
    out = []
    for c in value.strip().lower():
        if c.isalnum():
            out.append(c)
        elif not out or out[-1] != "_":
            out.append("_")
    s = "".join(out).strip("_")
    return s or "blank"


def write_results(report: dict, path: Path | None) -> None:
    """The run's results as JSON into `path`, or on stdout without one."""
    text = json.dumps(report, indent=2)
    if path:
        path.write_text(text + "\n")
    else:
        print(text)
