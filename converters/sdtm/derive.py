"""SDTM derivations as pure functions (frame in, frame out), in the manner of admiral's verbs."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from schemas.dates import date_bounds


def to_date(dtc: pd.Series) -> pd.Series:
    """Complete ISO 8601 dates (a time part allowed) -> datetime64; partial or empty -> NaT."""
    text = dtc.astype("string").str.slice(0, 10)
    return pd.to_datetime(text.where(text.str.len() == 10), format="%Y-%m-%d", errors="coerce")


def derive_usubjid(frame: pd.DataFrame, studyid: str, subjid: str = "subject_id") -> pd.DataFrame:
    """USUBJID = STUDYID-SUBJID, unique across the submission (SDTMIG 3.4 5.2 DM).

    >>> derive_usubjid(pd.DataFrame({"subject_id": ["001"]}), "S1")["USUBJID"].tolist()
    ['S1-001']
    """
    out = frame.copy()
    out["STUDYID"] = studyid
    out["USUBJID"] = studyid + "-" + out[subjid].astype("string")
    return out


def derive_study_day(frame: pd.DataFrame, dtc: str, out: str, ref: str = "RFSTDTC") -> pd.DataFrame:
    """--DY = date - RFSTDTC + 1 on or after the reference day, date - RFSTDTC before it: no day 0
    (SDTMIG 3.4 4.4.4). Null when either date is partial or missing.

    >>> f = pd.DataFrame({"RFSTDTC": ["2021-05-10"] * 3, "AESTDTC": ["2021-05-10", "2021-05-09", "2021-05"]})
    >>> derive_study_day(f, "AESTDTC", "AESTDY")["AESTDY"].tolist()
    [1.0, -1.0, nan]
    """
    result = frame.copy()
    days = (to_date(frame[dtc]) - to_date(frame[ref])).dt.days.astype("float64")
    result[out] = np.where(days >= 0, days + 1, days)
    return result


def derive_seq(frame: pd.DataFrame, out: str, order: list[str]) -> pd.DataFrame:
    """--SEQ: 1, 2, ... within USUBJID after a stable sort by ``order`` (which starts with USUBJID).

    >>> f = pd.DataFrame({"USUBJID": ["A", "A", "B"], "X": [2, 1, 5]})
    >>> derive_seq(f, "XXSEQ", ["USUBJID", "X"])["XXSEQ"].tolist()
    [1.0, 2.0, 1.0]
    """
    result = frame.sort_values(order, kind="mergesort", na_position="first").reset_index(drop=True)
    result[out] = (result.groupby("USUBJID", sort=False).cumcount() + 1).astype("float64")
    return result


@lru_cache(maxsize=65536)
def _bounds(value: str):
    return date_bounds(value)


def derive_epoch(frame: pd.DataFrame, dtc: str, milestones: pd.DataFrame, out: str = "EPOCH") -> pd.DataFrame:
    """EPOCH of an observation from its date and the subject's milestones.

    ``milestones`` has USUBJID, TRTSTART (first dose of any protocol treatment: lymphodepletion) and
    INFUSION (investigational product). SCREENING before TRTSTART, TREATMENT from TRTSTART through the
    infusion day, FOLLOW-UP after it. A partial date gets the epoch only when every day it can denote
    falls in the same epoch; otherwise EPOCH is null (SDTMIG 3.4 4.1.3.1: EPOCH is not imputed).
    """
    m = frame[["USUBJID", dtc]].merge(milestones, on="USUBJID", how="left")
    lo, hi = date_bounds_series(m[dtc])
    trtstart = pd.to_datetime(m["TRTSTART"])
    infusion = pd.to_datetime(m["INFUSION"])

    def epoch_at(day: pd.Series) -> np.ndarray:
        return np.select(
            [day.isna(), trtstart.isna() | (day < trtstart), infusion.isna() | (day <= infusion)],
            [None, "SCREENING", "TREATMENT"], default="FOLLOW-UP").astype(object)

    first, last = epoch_at(lo), epoch_at(hi)
    result = frame.copy()
    result[out] = np.where(first == last, first, None)
    return result


def date_bounds_series(dtc: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Earliest and latest day each (possibly partial) ISO 8601 date can denote, as datetime64 series."""
    uniq = pd.unique(dtc.dropna())
    lo = {v: _bounds(v)[0] for v in uniq if v}
    hi = {v: _bounds(v)[1] for v in uniq if v}
    return pd.to_datetime(dtc.map(lo)), pd.to_datetime(dtc.map(hi))
