"""RS: per assessment, one overall-response record and one MRD record (SDTMIG 3.4 6.3 RS, oncology)."""
from __future__ import annotations

import pandas as pd

from converters.sdtm.common import add_timing, sequence, with_subject
from schemas.config import StudyConfig
from specs import table, value_map


def map_rs(response: pd.DataFrame, ref: pd.DataFrame, config: StudyConfig) -> pd.DataFrame:
    base = with_subject(response, config.study.studyid, "RS")
    parts = []
    for order, test in enumerate(table("rs_tests")):
        field = test["source_field"].split(".")[-1]
        rows = base[base[field].notna()].copy()
        rows["RSTESTCD"], rows["RSTEST"], rows["RSCAT"] = test["rstestcd"], test["rstest"], test["rscat"]
        mapping = value_map(test["value_map"]) if test["value_map"] else None
        rows["RSORRES"] = rows[field].astype("string")
        rows["RSSTRESC"] = rows[field].map(mapping) if mapping else rows["RSORRES"]
        rows["RSMETHOD"] = rows["mrd_method"] if field == "mrd_status" else None
        rows["_test"] = order
        parts.append(rows)
    rs = pd.concat(parts, ignore_index=True)
    rs = rs.rename(columns={"visit_number": "VISITNUM", "visit": "VISIT", "assessment_date": "RSDTC", "evaluator": "RSEVAL"})
    rs = add_timing(rs, ref, {"RSDTC": "RSDY"}, epoch_from="RSDTC")
    return sequence(rs, "RS", ["VISITNUM", "RSDTC", "_test"])
