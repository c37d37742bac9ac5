"""Steps every domain shares: study day, epoch and sequence from the subject reference."""
from __future__ import annotations

import pandas as pd

from converters.sdtm.derive import derive_epoch, derive_seq, derive_study_day, derive_usubjid


def with_subject(frame: pd.DataFrame, studyid: str, domain: str) -> pd.DataFrame:
    out = derive_usubjid(frame, studyid)
    out["DOMAIN"] = domain
    return out


def add_timing(frame: pd.DataFrame, ref: pd.DataFrame, days: dict[str, str], epoch_from: str | None) -> pd.DataFrame:
    """Add --DY for each ``{dtc: dy}`` pair and EPOCH from ``epoch_from``; ref columns do not leak out."""
    out = frame.merge(ref[["USUBJID", "RFSTDTC"]], on="USUBJID", how="left")
    for dtc, dy in days.items():
        out = derive_study_day(out, dtc, dy)
    if epoch_from:
        out = derive_epoch(out, epoch_from, ref[["USUBJID", "TRTSTART", "INFUSION"]])
    return out.drop(columns=["RFSTDTC"])


def sequence(frame: pd.DataFrame, domain: str, order: list[str]) -> pd.DataFrame:
    return derive_seq(frame, f"{domain}SEQ", ["USUBJID", *order])
