"""What a package folder holds: the XPT files with their data and storage metadata, study identity."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from converters.datasets import xport5
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
    _coded: dict = field(default_factory=dict, compare=False, repr=False)

    def values(self, var: str) -> pd.Series:
        """Non-missing values of a column (blank Char values are missing in XPT)."""
        col = self.frame[var]
        if self.char[var]:
            col = col.astype(object).where(col.notna(), "").map(str)
            return col[col != ""]
        return col.dropna().astype(float)

    def coded(self, var: str) -> tuple[np.ndarray, list]:
        """(row codes, distinct non-missing values) of a column, as `values` sees them; code -1 is a
        missing value. Computed once per column: define facts depend on distinct values only, and a
        column of a million records has a few thousand of them at most."""
        if var not in self._coded:
            col = self.frame[var]
            if self.char[var]:
                codes, uniq = pd.factorize(col.to_numpy(dtype=object))
                self._coded[var] = _text_codes(codes, uniq)
            else:
                codes, uniq = pd.factorize(col.astype(float).to_numpy())
                self._coded[var] = (codes, [float(v) for v in uniq])
        return self._coded[var]

    def distinct(self, var: str, where: tuple[str, str] | None = None) -> list:
        """Distinct non-missing values of a column, in the records whose ``where`` = (key, value) when given."""
        codes, uniq = self.coded(var)
        if where is None:
            return uniq
        rows = self.rows(*where)
        return [uniq[i] for i in np.unique(codes[rows]) if i >= 0]

    def rows(self, key: str, value: str) -> np.ndarray:
        """Positions of the records whose key column holds value."""
        codes, uniq = self.coded(key)
        try:
            return np.flatnonzero(codes == uniq.index(value))
        except ValueError:
            return np.empty(0, dtype=np.int64)

    def first(self, var: str, where: tuple[str, str] | None = None):
        """The first non-null value of a column in record order (within ``where``), or None."""
        col = self.frame[var]
        if where is not None:
            col = col.iloc[self.rows(*where)]
        hit = col.dropna()
        return hit.iloc[0] if len(hit) else None


@dataclass(frozen=True)
class StudyInfo:
    studyid: str
    name: str
    description: str
    protocol: str
    created: str  # ISO 8601 datetime of the package, never the clock


def _text_codes(codes: np.ndarray, uniq) -> tuple[np.ndarray, list[str]]:
    """Codes of str(value) from codes of raw values: blank and null are missing (-1), and raw values
    with the same text share a code."""
    index: dict[str, int] = {}
    remap = np.full(len(uniq) + 1, -1, dtype=np.int64)  # the last slot keeps -1 as -1
    for i, u in enumerate(uniq):
        if u is not None and u == u:  # None and NaN are missing
            text = str(u)
            if text != "":
                remap[i] = index.setdefault(text, len(index))
    if (remap[:-1] == np.arange(len(uniq))).all():
        return codes, list(index)  # no blank value and no two raw values with one text: codes stay
    return remap[codes], list(index)


def _fast_frame(path: Path, columns: list[str], char: dict[str, bool]) -> tuple[pd.DataFrame, dict] | None:
    """The data through the vectorised v5 reader when it reads the file exactly as pyreadstat would
    (same columns, plain ASCII text), with the Char columns' codes; None otherwise."""
    got = xport5.read(path, encodings=("utf-8",), empty=None, factors=True)
    if got is None or not got[1].plain or list(got[0].columns) != columns:
        return None
    frame, meta = got
    frame = frame.astype({c: object for c, is_char in char.items() if is_char and frame[c].dtype != object})
    return frame, {c: _text_codes(*meta.factors[c]) for c, is_char in char.items() if is_char}


def read_xpt(path: Path) -> XptFile:
    # raw numbers: SAS dates stay day counts, their DATE9. format is metadata (def:DisplayFormat)
    try:
        _, meta = pyreadstat.read_xport(str(path), metadataonly=True)
    except Exception as exc:  # pyreadstat raises its own error types for damaged files
        raise DefineError(f"{path}: not a readable SAS transport file ({exc})") from None
    char = {c: meta.readstat_variable_types[c] == "string" for c in meta.column_names}
    fast = _fast_frame(path, list(meta.column_names), char)
    frame, coded = fast if fast is not None else (None, {})
    if frame is None:
        frame, meta = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
        char = {c: meta.readstat_variable_types[c] == "string" for c in meta.column_names}
        frame = frame.astype({c: object for c, is_char in char.items() if is_char})
        for c, is_char in char.items():
            if is_char:
                frame[c] = frame[c].map(lambda v: None if v is None or (isinstance(v, float) and v != v) or v == "" else str(v))
    return XptFile(meta.table_name.upper(), path, frame, dict(meta.variable_storage_width), char,
                   meta.creation_time, coded)


def read_folder(folder: Path) -> list[XptFile]:
    """Every dataset file of the folder (.xpt, else .json, .ndjson or .dsjc), by file name (lower case
    per FDA TCG 4.1.2.1)."""
    from converters.datasets import dataset_files

    paths = sorted(dataset_files(folder).values())
    return [read_xpt(p) if p.suffix.lower() == ".xpt" else read_dataset_json(p) for p in paths]


def read_dataset_json(path: Path) -> XptFile:
    """A Dataset-JSON file seen as the define builder sees an XPT: blank text missing, SAS dates as numbers."""
    from converters.datasets import DatasetError, format_of

    try:
        frame, meta = format_of(path).read(path)
    except DatasetError as exc:
        raise DefineError(str(exc)) from None
    char = {c.name: not c.numeric for c in meta.columns}
    for c, is_char in char.items():
        if is_char:
            frame[c] = frame[c].where(frame[c].notna() & (frame[c] != ""), None)
    widths = {c.name: 8 if c.numeric else c.length or max((len(str(v).encode("utf-8"))
                                                          for v in frame[c.name].dropna()), default=1)
              for c in meta.columns}
    return XptFile(meta.name.upper(), path, frame, widths, char, meta.db_last_modified or meta.created)


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
    studyid = next((_first_value(f, "STUDYID") for f in [*files, *([ts] if ts else [])]
                    if "STUDYID" in f.frame.columns and f.distinct("STUDYID")), None)
    if studyid is None:
        raise DefineError("no study configuration and no STUDYID value in the package")
    title = studyid
    if ts is not None and {"TSPARMCD", "TSVAL"} <= set(ts.frame.columns):
        hit = ts.frame.loc[ts.frame["TSPARMCD"] == "TITLE", "TSVAL"].dropna()
        title = str(hit.iloc[0]) if len(hit) else title
    return StudyInfo(studyid, studyid, title, studyid, created)


def _first_value(file: XptFile, var: str) -> str:
    """str of the first non-missing value in record order."""
    codes, uniq = file.coded(var)
    return str(uniq[codes[np.argmax(codes >= 0)]])
