"""Time converters.xpt.write_xpt against pyreadstat.write_xport on one mixed frame.

    python -m benchmarks.xpt_writer --rows 1000000

Prints one JSON line: rows, columns, seconds for each writer, their ratio, output sizes.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from converters.xpt import XptVariable, write_xpt

N_CHAR = 12
N_NUM = 13


def build_frame(rows: int, seed: int = 20261125) -> tuple[pd.DataFrame, list[XptVariable]]:
    """25 columns shaped like SDTM findings: ids, short codes, free text, results, study days."""
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {}
    variables: list[XptVariable] = []
    words = np.array(["ALPHA", "BETA", "GAMMA", "DELTA", "HEADACHE", "NAUSEA", "MILD", "SEVERE",
                      "NOT RECOVERED", "RECOVERED/RESOLVED", "Placebo", "Xanomeline High Dose"])
    widths = [12, 2, 11, 8, 40, 200, 1, 20, 8, 60, 3, 25]
    for i, width in enumerate(widths):
        phrases = (" ".join(rng.choice(words, 12))[: rng.integers(1, width + 1)].strip() for _ in range(500))
        pool = np.array([p or "X" for p in phrases], dtype=object)
        col = pool[rng.integers(0, len(pool), rows)]
        col[rng.random(rows) < 0.05] = None
        data[f"C{i:02d}"] = col
        variables.append(XptVariable(f"C{i:02d}", f"Character column {i}", "Char"))
    for i in range(N_NUM):
        if i % 3 == 0:
            col = rng.integers(-500, 5000, rows).astype(np.float64)  # study days, sequence numbers
        else:
            col = rng.standard_normal(rows) * 10.0 ** rng.integers(-3, 6)
        col[rng.random(rows) < 0.1] = np.nan
        data[f"N{i:02d}"] = col
        variables.append(XptVariable(f"N{i:02d}", f"Numeric column {i}", "Num"))
    return pd.DataFrame(data), variables


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-pyreadstat", action="store_true")
    args = parser.parse_args(argv)
    frame, variables = build_frame(args.rows)
    result: dict[str, object] = {"rows": args.rows, "columns": len(variables)}
    with tempfile.TemporaryDirectory() as folder:
        ours = Path(folder) / "lb.xpt"
        start = time.perf_counter()
        write_xpt(ours, frame, dataset="LB", label="Benchmark", variables=variables,
                  created=dt.datetime(2026, 11, 25))
        result["ours_s"] = round(time.perf_counter() - start, 3)
        result["ours_bytes"] = ours.stat().st_size
        if not args.skip_pyreadstat:
            import pyreadstat

            theirs = Path(folder) / "lb_pyreadstat.xpt"
            start = time.perf_counter()
            pyreadstat.write_xport(frame, str(theirs), file_label="Benchmark", table_name="LB",
                                   column_labels=[v.label for v in variables], file_format_version=5)
            result["pyreadstat_s"] = round(time.perf_counter() - start, 3)
            result["pyreadstat_bytes"] = theirs.stat().st_size
            result["ratio"] = round(result["pyreadstat_s"] / result["ours_s"], 2)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
