"""EX: one record per administration, as collected (SDTMIG 3.4 6.1 EX)."""
from __future__ import annotations

import pandas as pd

from converters.sdtm.common import add_timing, sequence, with_subject
from converters.sdtm.coded import encode_text
from schemas.config import StudyConfig


def map_ex(exposure: pd.DataFrame, ref: pd.DataFrame, config: StudyConfig) -> pd.DataFrame:
    ex = with_subject(encode_text(exposure), config.study.studyid, "EX")
    category = {t.name: t.category for t in config.treatments}
    ex["EXTRT"] = ex["treatment"]
    ex["EXCAT"] = ex["treatment"].map(category)
    ex["EXDOSE"] = ex["dose"].astype("float64")
    ex["EXDOSU"] = ex["dose_unit"]
    ex["EXDOSFRM"] = ex["dose_form"]
    ex["EXROUTE"] = ex["route"]
    ex["EXSTDTC"] = ex["start_date"]
    # a single administration ends the day it starts
    ex["EXENDTC"] = ex["end_date"].astype(object).where(ex["end_date"].notna(), ex["start_date"].astype(object))
    ex = add_timing(ex, ref, {"EXSTDTC": "EXSTDY", "EXENDTC": "EXENDY"}, epoch_from="EXSTDTC")
    return sequence(ex, "EX", ["EXSTDTC", "EXTRT"])
