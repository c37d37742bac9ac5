"""Per-subject reference points every domain derives from: RFSTDTC and the epoch milestones."""
from __future__ import annotations

import pandas as pd

from converters.sdtm.derive import derive_usubjid, to_date
from schemas.config import StudyConfig


def subject_reference(subjects: pd.DataFrame, exposure: pd.DataFrame, config: StudyConfig) -> pd.DataFrame:
    """USUBJID, RFSTDTC (infusion date: the study reference start), TRTSTART (first protocol treatment,
    lymphodepletion included) and INFUSION, one row per subject.
    """
    ref = derive_usubjid(subjects[["subject_id", "infusion_date"]], config.study.studyid)
    ref["RFSTDTC"] = ref["infusion_date"]
    ref["INFUSION"] = to_date(ref["infusion_date"])
    ex = derive_usubjid(exposure[["subject_id", "start_date"]], config.study.studyid)
    ex["day"] = to_date(ex["start_date"])
    first = ex.groupby("USUBJID", as_index=False)["day"].min().rename(columns={"day": "TRTSTART"})
    ref = ref.merge(first, on="USUBJID", how="left")
    return ref[["USUBJID", "RFSTDTC", "TRTSTART", "INFUSION"]]
