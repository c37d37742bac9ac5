"""Datasets of a written package for the report: ADaM (and, where the abstract needs it, SDTM) XPT
files as analysis frames, dates as datetime64 and blank character values as missing."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyreadstat

from converters.xpt.lazy import LazyDatasets


def _normalise(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df.columns = [c.upper() for c in df.columns]
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
            continue
        obj = s.astype(object)
        first = obj.dropna()
        if not first.empty and isinstance(first.iloc[0], (dt.date, dt.datetime)):
            # pyreadstat turns DATE9.-formatted numerics into datetime.date objects
            df[col] = pd.to_datetime(obj)
        else:
            df[col] = obj.where(obj.notna() & obj.ne(""), None)
    return df


def read_xpt(path: Path) -> pd.DataFrame:
    df, _ = pyreadstat.read_xport(str(path), encoding="latin1")
    return _normalise(df)


def read_folder(folder: Path) -> Mapping[str, pd.DataFrame]:
    """{DATASET: frame} of every *.xpt in ``folder`` (empty when the folder is absent), read lazily."""
    return LazyDatasets({p.stem.upper(): p for p in sorted(Path(folder).glob("*.xpt"))}, read_xpt)


def as_analysis(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """In-memory ADaM frames (e.g. from converters.adam.build.derive_adam) in the same shape."""
    return {name.upper(): _normalise(df) for name, df in frames.items()}


def transpose_supp(supp: pd.DataFrame) -> pd.DataFrame:
    """SUPP-- of a subject-level parent (RDOMAIN DM, no IDVAR) as one row per USUBJID, a column per QNAM
    (SDTMIG 3.4 section 8.4: QNAM/QVAL pairs are the non-standard variables of the parent record)."""
    rows = supp[supp["IDVAR"].isna()] if "IDVAR" in supp.columns else supp
    wide = rows.pivot_table(index="USUBJID", columns="QNAM", values="QVAL", aggfunc="first")
    wide.columns.name = None
    return wide.reset_index()


def with_subject_vars(frame: pd.DataFrame, adsl: pd.DataFrame) -> pd.DataFrame:
    """Rows of any dataset carrying their subject's ADSL variables (the dataset's own values win),
    as in ADaM BDS/OCCDS where ADSL variables are copied onto each record."""
    extra = [c for c in adsl.columns if c not in frame.columns or c == "USUBJID"]
    return frame.merge(adsl[extra], on="USUBJID", how="left")
