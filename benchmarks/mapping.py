"""Time the mapping blocks on a million raw values (best of three runs, seconds; one JSON line).

    python -m benchmarks.mapping [--rows 1000000]

dates: ``dd-MMM-yyyy`` over 15 years of days (5,479 distinct values); date_time: the same dates
joined to an ``HH:nn`` column (288 distinct times, so nearly every row is a distinct date-time);
terms: SEX, UNIT and LOC display values (a few distinct values each, LOC has ~1,400 terms).
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from converters.mapping.raw_dates import assign_datetime
from converters.mapping.terms import assign_ct


def best_of(fn, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return round(best, 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    n = parser.parse_args(argv).rows
    rng = np.random.default_rng(0)
    days = pd.date_range("2010-01-01", "2024-12-31").strftime("%d-%b-%Y").str.upper().to_numpy(dtype=object)
    clock = np.array([f"{h:02d}:{m:02d}" for h in range(24) for m in range(0, 60, 5)], dtype=object)
    dates, times = pd.Series(rng.choice(days, n), name="DAT"), pd.Series(rng.choice(clock, n), name="TIM")
    collected = {"SEX": ["Female", "Male", "F", " female ", ""], "UNIT": ["Milligram", "mg", "Kilogram", "Pound"],
                 "LOC": ["ORAL CAVITY", "Ear", "Forearm", "axilla"]}
    columns = {cl: pd.Series(rng.choice(np.array(v, dtype=object), n), name=cl) for cl, v in collected.items()}
    figures = {"rows": n,
               "dates_s": best_of(lambda: assign_datetime(dates, "dd-MMM-yyyy")),
               "date_time_s": best_of(lambda: assign_datetime(dates, "dd-MMM-yyyy", times, "HH:nn"))}
    figures.update({f"terms_{cl}_s": best_of(lambda s=s, cl=cl: assign_ct(s, cl)) for cl, s in columns.items()})
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
