"""Steps every domain shares: study day, epoch and sequence from the subject reference."""
from __future__ import annotations

import numpy as np
import pandas as pd

from converters.sdtm.coded import constant, is_coded, positions, same_kind
from converters.sdtm.derive import derive_epoch, derive_seq, derive_study_day, derive_usubjid
from converters.slowpath import slow_path as _slow


def with_subject(frame: pd.DataFrame, studyid: str, domain: str) -> pd.DataFrame:
    out = derive_usubjid(frame, studyid)
    out["DOMAIN"] = constant(domain, len(out)) if is_coded(out["USUBJID"]) else domain
    return out


def add_timing(frame: pd.DataFrame, ref: pd.DataFrame, days: dict[str, str], epoch_from: str | None) -> pd.DataFrame:
    """Add --DY for each ``{dtc: dy}`` pair and EPOCH from ``epoch_from``; ref columns do not leak out."""
    out = _with_reference(frame, ref)
    for dtc, dy in days.items():
        out = derive_study_day(out, dtc, dy)
    if epoch_from:
        out = derive_epoch(out, epoch_from, ref[["USUBJID", "TRTSTART", "INFUSION"]])
    return out.drop(columns=["RFSTDTC"])


def _with_reference(frame: pd.DataFrame, ref: pd.DataFrame) -> pd.DataFrame:
    """frame.merge(ref[["USUBJID", "RFSTDTC"]], on="USUBJID", how="left"). With one ref row per subject
    that is a lookup, done here without the merge's copy of every column of ``frame``."""
    key, value = ref["USUBJID"], ref["RFSTDTC"]
    if (_slow() or "RFSTDTC" in frame.columns or frame.columns.has_duplicates or not key.is_unique
            or value.dtype != object or not same_kind(key, frame["USUBJID"])
            or key.isna().any() or frame["USUBJID"].isna().any()):
        return frame.merge(ref[["USUBJID", "RFSTDTC"]], on="USUBJID", how="left")
    position = positions(key, frame["USUBJID"])
    out = frame.copy(deep=False)
    out.index = pd.RangeIndex(len(out))
    out["RFSTDTC"] = np.append(value.to_numpy(dtype=object), np.nan)[position]  # no match (-1) -> NaN, as merge
    return out


def sequence(frame: pd.DataFrame, domain: str, order: list[str]) -> pd.DataFrame:
    return derive_seq(frame, f"{domain}SEQ", ["USUBJID", *order])
