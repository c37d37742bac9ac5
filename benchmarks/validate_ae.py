"""Time `validate_package` on a package with a 1M-row AE (plus DM and TS), reading included.

    python -m benchmarks.validate_ae --rows 1000000

Prints one JSON line: rows, seconds to write the XPT files (setup), seconds to validate, findings.
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

from converters.validate import validate_package
from converters.xpt import XptVariable, write_xpt

CREATED = dt.datetime(2026, 1, 1)
SUBJECTS = 2000


def _dates(start: np.ndarray, offset: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(start + offset.astype("timedelta64[D]"), unit="D").astype(object)


def build(folder: Path, rows: int, seed: int = 20261125) -> None:
    rng = np.random.default_rng(seed)
    subj = np.array([f"BENCH-{i:05d}" for i in range(SUBJECTS)], dtype=object)
    rf = np.datetime64("2021-01-01") + rng.integers(0, 700, SUBJECTS).astype("timedelta64[D]")
    dm = pd.DataFrame({"STUDYID": "BENCH", "DOMAIN": "DM", "USUBJID": subj, "SUBJID": subj,
                       "RFSTDTC": np.datetime_as_string(rf, unit="D").astype(object), "SITEID": "01",
                       "AGE": rng.integers(18, 80, SUBJECTS).astype(float), "AGEU": "YEARS",
                       "SEX": rng.choice(["F", "M"], SUBJECTS), "RACE": "ASIAN", "ETHNIC": "NOT HISPANIC OR LATINO",
                       "ARMCD": "A", "ARM": "Arm A", "ACTARMCD": "A", "ACTARM": "Arm A", "COUNTRY": "CHN",
                       "DTHFL": "", "DTHDTC": ""})
    _write(folder, "DM", "Demographics", dm)
    who = rng.integers(0, SUBJECTS, rows)
    who.sort()
    seq = pd.Series(who).groupby(who).cumcount().to_numpy() + 1
    st = rng.integers(-10, 300, rows)
    dur = rng.integers(0, 30, rows)
    terms = np.array(["HEADACHE", "NAUSEA", "PYREXIA", "FATIGUE", "CYTOKINE RELEASE SYNDROME", "ANAEMIA"], dtype=object)
    ae = pd.DataFrame({
        "STUDYID": "BENCH", "DOMAIN": "AE", "USUBJID": subj[who], "AESEQ": seq.astype(float),
        "AETERM": terms[rng.integers(0, len(terms), rows)],
        "AEDECOD": terms[rng.integers(0, len(terms), rows)], "AEBODSYS": "GENERAL DISORDERS",
        "AESEV": rng.choice(["MILD", "MODERATE", "SEVERE"], rows).astype(object),
        "AESER": rng.choice(["N", "Y"], rows).astype(object), "AEACN": "DOSE NOT CHANGED",
        "AEREL": "NOT RELATED", "AEOUT": "RECOVERED/RESOLVED", "EPOCH": "TREATMENT",
        "AESTDTC": _dates(rf[who], st), "AEENDTC": _dates(rf[who], st + dur),
        "AESTDY": np.where(st >= 0, st + 1, st).astype(float),
        "AEENDY": np.where(st + dur >= 0, st + dur + 1, st + dur).astype(float)})
    _write(folder, "AE", "Adverse Events", ae)
    ts = pd.DataFrame({"STUDYID": "BENCH", "DOMAIN": "TS", "TSSEQ": 1.0, "TSPARMCD": ["SSTDTC"],
                       "TSPARM": ["Study Start Date"], "TSVAL": ["2021-01-01"]})
    _write(folder, "TS", "Trial Summary", ts)


def _write(folder: Path, name: str, label: str, frame: pd.DataFrame) -> None:
    variables = [XptVariable(c, c.title(), "Num" if frame[c].dtype.kind == "f" else "Char") for c in frame.columns]
    write_xpt(folder / f"{name.lower()}.xpt", frame, dataset=name, label=label, variables=variables,
              created=CREATED)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        build(folder, args.rows)
        t1 = time.perf_counter()
        report = validate_package(folder)
        t2 = time.perf_counter()
    print(json.dumps({"rows": args.rows, "setup_seconds": round(t1 - t0, 2), "validate_seconds": round(t2 - t1, 2),
                      "errors": report.errors, "warnings": report.warnings,
                      "by_rule": {f"{r}/{d}": n for (r, d), n in sorted(report.counts.items())}}))


if __name__ == "__main__":
    main()
