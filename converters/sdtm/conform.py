"""Apply the dataset spec to a mapped frame: variables, order, types, required values, CT."""
from __future__ import annotations

import numpy as np
import pandas as pd

from converters.problems import ERROR, WARNING, Problem
from converters.sdtm.derive import _slow
from specs import Dataset, codelist

SAS_EPOCH = pd.Timestamp("1960-01-01")


def _as_text(col: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Object column of str/None, and where it is None. Values already text skip the per-element
    str() (most columns)."""
    if _slow():
        col = col.astype(object).where(col.notna(), None).map(lambda v: v if v is None else str(v))
        return col, col.isna().to_numpy()
    if isinstance(col.dtype, pd.StringDtype):  # str or NA by construction: no type scan needed
        missing = col.isna().to_numpy()
        return pd.Series(col.to_numpy(dtype=object, na_value=None), index=col.index, dtype=object), missing
    values = col.to_numpy(dtype=object)
    missing = pd.isna(values)
    if missing.any():
        values = values.copy()
        values[missing] = None
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        values = np.array([v if v is None else str(v) for v in values] + [None], dtype=object)[:-1]
    return pd.Series(values, index=col.index, dtype=object), missing


def _as_number(col: pd.Series) -> pd.Series:
    """float64; an object column holding nothing but missing values needs no parsing."""
    if col.dtype == object and not _slow() and pd.isna(col.to_numpy()).all():
        return pd.Series(np.full(len(col), np.nan), index=col.index)
    return pd.to_numeric(col, errors="raise").astype("float64")


def conform(frame: pd.DataFrame, spec: Dataset, *, req_non_null: bool = True) -> tuple[pd.DataFrame, list[Problem]]:
    """Keep the spec's variables in spec order with spec types.

    Permissible variables with no value at all are dropped (core "Perm": submitted only when
    collected or derived); Required and Expected ones always stay. ``req_non_null``: SDTM "Req" also
    means never null; ADaM "Req" only means present (ADaMIG 1.3 section 3.1.1). Values of
    controlled variables are checked against their codelist: a value outside a non-extensible list is
    an error, outside an extensible one a warning.
    """
    problems: list[Problem] = []
    file = f"{spec.name.lower()}.xpt"
    out = {}
    for var in spec.variables:
        if var.name not in frame.columns:
            if var.core in ("Req", "Exp"):
                raise KeyError(f"{spec.name}: mapping produced no {var.name} ({var.core})")
            continue
        col = frame[var.name]
        missing = None
        if var.is_char:
            col, missing = _as_text(col)
        elif pd.api.types.is_datetime64_any_dtype(col):
            # SAS date: days since 1960-01-01, shown with the spec's DATE9. format
            col = (col - SAS_EPOCH).dt.days.astype("float64")
        else:
            col = _as_number(col)
        if missing is None:
            missing = col.isna().to_numpy()
        if var.core == "Perm" and missing.all():
            continue
        if var.core == "Req" and req_non_null:
            for i in col.index[missing]:
                problems.append(Problem(file, int(i) + 1, var.name, "", "SDTM-REQUIRED",
                                        f"{var.name} is required and empty"))
        if var.codelist and var.is_char:
            cl = codelist(var.codelist)
            allowed = cl.values()
            bad = ~missing & ~col.isin(allowed)
            for i in col.index[bad]:
                problems.append(Problem(file, int(i) + 1, var.name, col[i], "SDTM-CT",
                                        f"'{col[i]}' is not in codelist {cl.name}" + (" (extensible)" if cl.extensible else ""),
                                        WARNING if cl.extensible else ERROR))
        out[var.name] = col
    if _slow() or not out:
        return pd.DataFrame(out, index=frame.index).reset_index(drop=True), problems
    return _frame(out, len(frame)), problems


def _frame(columns: dict[str, pd.Series], rows: int) -> pd.DataFrame:
    """pd.DataFrame(columns).reset_index(drop=True) with one copy: the object columns written into
    one 2-D block, the numeric ones inserted beside it in their places."""
    text = [name for name, c in columns.items() if c.dtype == object]
    block = np.empty((len(text), rows), dtype=object)
    for j, name in enumerate(text):
        block[j] = columns[name].to_numpy()
    frame = pd.DataFrame(block.T, columns=text, dtype=object, copy=False)
    for k, (name, c) in enumerate(columns.items()):
        if name not in text:
            frame.insert(k, name, c.to_numpy())
    return frame
