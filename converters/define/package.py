"""What a package folder holds: the XPT files with their data and storage metadata, study identity."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyreadstat

from schemas.config import StudyConfig


class DefineError(Exception):
    """The package cannot be described: a dataset or variable has no spec, or the result is invalid."""


@dataclass(frozen=True)
class XptFile:
    name: str  # dataset name as in the XPT member header (upper case)
    path: Path
    frame: pd.DataFrame  # Char columns: str or None; Num columns: float with NaN
    widths: dict[str, int]  # storage width in bytes (Char) / 8 (Num)
    char: dict[str, bool]
    created: dt.datetime | None

    def values(self, var: str) -> pd.Series:
        """Non-missing values of a column (blank Char values are missing in XPT)."""
        col = self.frame[var]
        if self.char[var]:
            col = col.astype(object).where(col.notna(), "").map(str)
            return col[col != ""]
        return col.dropna().astype(float)


@dataclass(frozen=True)
class StudyInfo:
    studyid: str
    name: str
    description: str
    protocol: str
    created: str  # ISO 8601 datetime of the package, never the clock


def read_xpt(path: Path) -> XptFile:
    # raw numbers: SAS dates stay day counts, their DATE9. format is metadata (def:DisplayFormat)
    frame, meta = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
    char = {c: meta.readstat_variable_types[c] == "string" for c in meta.column_names}
    frame = frame.astype({c: object for c, is_char in char.items() if is_char})
    for c, is_char in char.items():
        if is_char:
            frame[c] = frame[c].map(lambda v: None if v is None or (isinstance(v, float) and v != v) or v == "" else str(v))
    return XptFile(meta.table_name.upper(), path, frame, dict(meta.variable_storage_width), char,
                   meta.creation_time)


def read_folder(folder: Path) -> list[XptFile]:
    """Every .xpt of the folder, by file name (lower case per FDA TCG 4.1.2.1)."""
    return [read_xpt(p) for p in sorted(Path(folder).glob("*.xpt"))]


def package_datetime(config: StudyConfig | None, files: list[XptFile]) -> str:
    """The package timestamp: SOURCE_DATE_EPOCH, else the configured one, else the XPT headers' (which
    the writer filled from the same two sources)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if config is not None:
        return config.study.package_datetime
    stamps = sorted(f.created for f in files if f.created is not None)
    if not stamps:
        raise DefineError("no study configuration and no XPT header timestamp to date the define")
    return stamps[-1].strftime("%Y-%m-%dT%H:%M:%S")


def study_info(config: StudyConfig | None, files: list[XptFile], ts: XptFile | None) -> StudyInfo:
    """GlobalVariables from the configuration, or from TS (TITLE) and STUDYID in the data."""
    created = package_datetime(config, files)
    if config is not None:
        s = config.study
        return StudyInfo(s.studyid, s.studyid, s.title, s.protocol_id or s.studyid, created)
    studyid = next((str(f.values("STUDYID").iloc[0]) for f in [*files, *([ts] if ts else [])]
                    if "STUDYID" in f.frame.columns and len(f.values("STUDYID"))), None)
    if studyid is None:
        raise DefineError("no study configuration and no STUDYID value in the package")
    title = studyid
    if ts is not None and {"TSPARMCD", "TSVAL"} <= set(ts.frame.columns):
        hit = ts.frame.loc[ts.frame["TSPARMCD"] == "TITLE", "TSVAL"].dropna()
        title = str(hit.iloc[0]) if len(hit) else title
    return StudyInfo(studyid, studyid, title, studyid, created)
