"""RS: per assessment, one overall-response record and one MRD record (SDTMIG 3.4 6.3 RS, oncology)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from converters.sdtm.common import add_timing, sequence, with_subject
from converters.sdtm.coded import constant, encode_text, map_values, stack
from schemas.config import StudyConfig
from specs import table, value_map


def map_rs(response: pd.DataFrame, ref: pd.DataFrame, config: StudyConfig) -> pd.DataFrame:
    """One record per assessment and test (``rs_tests`` in the spec) whose source field has a value,
    test by test in spec order."""
    base = with_subject(encode_text(response), config.study.studyid, "RS")
    tests = table("rs_tests")
    fields = [t["source_field"].split(".")[-1] for t in tests]
    picks = [np.flatnonzero(base[f].notna().to_numpy()) for f in fields]
    rs = base.take(np.concatenate(picks)).reset_index(drop=True)
    test_no = np.repeat(np.arange(len(tests)), [len(p) for p in picks])
    for column in ("rstestcd", "rstest", "rscat"):
        rs[column.upper()] = stack([pd.Series(constant(t[column], len(p))) for t, p in zip(tests, picks)])
    found = [base[f].take(p).reset_index(drop=True) for f, p in zip(fields, picks)]
    rs["RSORRES"] = stack(found)
    rs["RSSTRESC"] = stack([map_values(v, value_map(t["value_map"])) if t["value_map"] else v
                            for t, v in zip(tests, found)])
    rs["RSMETHOD"] = stack([base["mrd_method"].take(p).reset_index(drop=True) if f == "mrd_status"
                            else pd.Series(constant(None, len(p))) for f, p in zip(fields, picks)])
    rs["_test"] = test_no
    rs = rs.rename(columns={"visit_number": "VISITNUM", "visit": "VISIT", "assessment_date": "RSDTC", "evaluator": "RSEVAL"})
    rs = add_timing(rs, ref, {"RSDTC": "RSDY"}, epoch_from="RSDTC")
    return sequence(rs, "RS", ["VISITNUM", "RSDTC", "_test"])
