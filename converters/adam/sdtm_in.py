"""Read an SDTM folder (any tool's) into frames: upper-case names, blanks as missing."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from converters.datasets import xport5
from converters.xpt.lazy import LazyDatasets

REQUIRED = ("DM", "EX", "RS", "TS")
_LIBRARY_HEADER = b"HEADER RECORD*******LIB"


class SdtmInputError(Exception):
    """The SDTM folder lacks a dataset or variable the ADaM derivations need."""


def _read_fast(path: Path) -> pd.DataFrame | None:
    """The numpy v5 reader (latin1, as pyreadstat is asked for below); None when it declines the file
    or a numeric variable carries a format, which pyreadstat would turn into dates."""
    try:
        got = xport5.read(path, encodings=("latin1",), empty=None)  # blank text is missing
    except xport5.CorruptXpt as exc:
        raise SdtmInputError(f"{path.name}: corrupt SAS transport file: {exc}") from None
    except Exception:  # anything odd: the careful reader decides
        return None
    if got is None:
        return None
    df, meta = got
    if any(_has_format(path, meta)):
        return None
    return df


def _has_format(path: Path, meta) -> list[bool]:
    with open(path, "rb") as fh:
        data = fh.read(8 * xport5.REC + 140 * len(meta.types))[8 * xport5.REC:]
    return [data[140 * i + 56:140 * i + 64].strip(b" \x00") != b"" and t == "Num"
            for i, t in enumerate(meta.types.values())]


def _read_dataset_json(path: Path) -> pd.DataFrame:
    from converters.datasets import DatasetError, format_of

    try:
        df, meta = format_of(path).read(path)
    except DatasetError as exc:
        raise SdtmInputError(str(exc)) from None
    for col in meta.columns:
        if not col.numeric:  # blank text is missing, as in XPT files
            df[col.name] = df[col.name].where(df[col.name].notna() & (df[col.name] != ""), None)
    df.columns = [c.upper() for c in df.columns]
    return df


def _read(path: Path) -> pd.DataFrame:
    if path.suffix.lower() != ".xpt":
        return _read_dataset_json(path)
    df = _read_fast(path)
    if df is None:
        try:
            df, _ = pyreadstat.read_xport(str(path), encoding="latin1")
        except Exception as exc:  # pyreadstat raises its own error types
            raise SdtmInputError(f"{path.name}: not a readable SAS transport file ({exc})") from None
        for col in df.columns:
            if df[col].dtype == object or pd.api.types.is_string_dtype(df[col]):
                values = df[col].to_numpy(dtype=object)
                df[col] = pd.Series(np.where(values == "", None, values), index=df.index, dtype=object)
    df.columns = [c.upper() for c in df.columns]
    return df


def read_sdtm(folder: Path) -> LazyDatasets:
    """The SDTM datasets of a folder: .xpt files, or Dataset-JSON (.json, .ndjson, .dsjc) where a dataset
    has no .xpt."""
    from converters.datasets import dataset_files

    paths = {}
    for path in dataset_files(folder).values():
        if path.suffix.lower() != ".xpt":
            paths[path.stem.upper()] = path
            continue
        with open(path, "rb") as fh:
            if not fh.read(xport5.REC).startswith(_LIBRARY_HEADER):  # V5 and V8 library headers
                raise SdtmInputError(f"{path.name}: not a readable SAS transport file (no library header record)")
        paths[path.stem.upper()] = path
    missing = [d for d in REQUIRED if d not in paths]
    if missing:
        raise SdtmInputError(f"{folder}: missing SDTM dataset(s) {', '.join(missing)} (need {', '.join(REQUIRED)})")
    return LazyDatasets(paths, _read)
