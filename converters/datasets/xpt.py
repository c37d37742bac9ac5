"""SAS XPORT v5 behind the dataset interface: the fast vectorised reader (pyreadstat for the files it
declines) and the package's XPT writer."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .model import Column, DatasetError, DatasetMeta

REC = 80
_DATE_FORMATS = ("DATE", "YYMMDD", "E8601DA", "IS8601DA", "MMDDYY", "DDMMYY")
_DATETIME_FORMATS = ("DATETIME", "E8601DT", "IS8601DT")
_TIME_FORMATS = ("TIME", "E8601TM", "IS8601TM", "TOD", "HHMM")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def timing_type(display_format: str | None) -> str | None:
    """'date', 'datetime' or 'time' for a SAS numeric shown through a date/time format, else None."""
    name = (display_format or "").upper().rstrip("0123456789.")
    for kind, names in (("datetime", _DATETIME_FORMATS), ("date", _DATE_FORMATS), ("time", _TIME_FORMATS)):
        if name in names:
            return kind
    return None


def _header_facts(path: Path) -> tuple[dt.datetime, dict[str, str]] | None:
    """(member creation time, {variable: SAS format}) from a one-member V5 file's headers."""
    with open(path, "rb") as fh:
        head = fh.read(8 * REC)
        if not head.startswith(b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!") or len(head) < 8 * REC:
            return None
        nvar = int(head[7 * REC + 54:7 * REC + 58])
        block = fh.read(140 * nvar)
    created = sas_moment(head[5 * REC + 64:5 * REC + 80].decode("ascii", "replace"))
    formats = {}
    for i in range(nvar):
        ns = block[140 * i:140 * (i + 1)]
        name = ns[8:16].rstrip(b" \x00").decode("latin1")
        fname = ns[56:64].rstrip(b" \x00").decode("latin1")
        width, decimals = int.from_bytes(ns[64:66], "big"), int.from_bytes(ns[66:68], "big")
        if fname or width:
            formats[name] = f"{fname}{width or ''}.{decimals or ''}"
    return created, formats


def sas_moment(stamp: str) -> dt.datetime:
    """'16APR22:20:09:03' -> 2022-04-16 20:09:03 (two-digit years from 1960 on, as SAS reads them)."""
    try:
        day, month, year = int(stamp[0:2]), _MONTHS.index(stamp[2:5].upper()) + 1, int(stamp[5:7])
        hh, mm, ss = int(stamp[8:10]), int(stamp[11:13]), int(stamp[14:16])
    except ValueError:
        return dt.datetime(1960, 1, 1)
    return dt.datetime(2000 + year if year < 60 else 1900 + year, month, day, hh, mm, ss)


def read(path: str | os.PathLike) -> tuple[pd.DataFrame, DatasetMeta]:
    """(frame, metadata) of an XPORT file; blank text reads as "" (XPORT has no missing text)."""
    from . import xport5

    path = Path(path)
    facts = _header_facts(path)
    if facts is None:
        raise DatasetError(f"{path}: not a SAS transport (XPORT) file")
    got = xport5.read(path, encodings=("utf-8", "cp1252"), empty="")
    if got is not None:
        frame, m = got
        name, label, labels, widths, types = m.table_name, m.file_label, m.labels, m.widths, m.types
        created, formats = facts
    else:
        frame, name, label, labels, widths, types, created, formats = _pyreadstat(path)
    columns = tuple(_column(name, col, labels[col], types[col] == "Char", widths[col], formats.get(col, ""),
                            frame[col]) for col in frame.columns)
    meta = DatasetMeta(name=name, label=label, columns=columns, created=created, db_last_modified=created,
                       extra={"widths": dict(widths)})
    return frame, meta


def _pyreadstat(path: Path):
    import pyreadstat

    try:
        frame, m = pyreadstat.read_xport(os.fspath(path), disable_datetime_conversion=True)
    except Exception as exc:  # pyreadstat's own error types
        raise DatasetError(f"{path}: not a readable SAS transport file ({exc})") from None
    types = {c: "Char" if m.readstat_variable_types[c] == "string" else "Num" for c in frame.columns}
    for col, kind in types.items():
        if kind == "Char":
            frame[col] = frame[col].fillna("").astype(object)
    formats = {c: f for c, f in m.original_variable_types.items() if f and not f.startswith("$")}
    created = m.creation_time if isinstance(m.creation_time, dt.datetime) else dt.datetime(1960, 1, 1)
    return (frame, (m.table_name or path.stem).upper(), m.file_label or "", m.column_names_to_labels,
            m.variable_storage_width, types, created, formats)


def _column(dataset: str, name: str, label: str, is_char: bool, width: int, fmt: str,
            values: pd.Series) -> Column:
    oid = f"IT.{dataset}.{name}"
    if is_char:
        return Column(oid, name, label, "string", length=width, display_format=None)
    timing = timing_type(fmt)
    if timing:
        return Column(oid, name, label, timing, "integer", display_format=fmt)
    numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = numbers[~np.isnan(numbers)]
    whole = bool(np.all(np.mod(finite, 1) == 0) and np.all(np.abs(finite) < 2 ** 53))
    return Column(oid, name, label, "integer" if whole else "float", display_format=fmt or None)


def write(path: str | os.PathLike, frame: pd.DataFrame, meta: DatasetMeta) -> dict:
    """The dataset as XPORT v5 with the package's writer (its FDA checks apply; XptError lists problems).
    The header time is the source's own: dbLastModifiedDateTime, else datasetJSONCreationDateTime."""
    from converters.xpt import XptVariable, write_xpt

    variables = [XptVariable(c.name, c.label, "Num" if c.numeric else "Char", None if c.numeric else c.length,
                             c.display_format or "") for c in meta.columns]
    created = meta.db_last_modified or meta.created
    return write_xpt(path, frame, dataset=meta.name, label=meta.label, variables=variables, created=created)
