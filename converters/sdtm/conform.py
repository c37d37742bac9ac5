"""Apply the dataset spec to a mapped frame: variables, order, types, required values, CT."""
from __future__ import annotations

import numpy as np
import pandas as pd

from converters.problems import ERROR, WARNING, Problem
from converters.sdtm.coded import codes_of, is_coded
from converters.slowpath import slow_path as _slow
from specs import Dataset, codelist

SAS_EPOCH = pd.Timestamp("1960-01-01")


def _as_text(col: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """The column as text (str or missing) and where it is missing.

    Fast path: dictionary-encoded (a pandas Categorical of its distinct values), so the type check,
    the codelist check and the XPT writer each work on the few distinct values, not on every row.
    """
    if _slow():
        col = col.astype(object).where(col.notna(), None).map(lambda v: v if v is None else str(v))
        return col, col.isna().to_numpy()
    codes, uniques = codes_of(col)  # missing (None, NaN, NA) -> -1
    if not all(isinstance(u, str) for u in uniques):
        # factorize holds 1, 1.0 and True for one value, but their texts differ: str() row by row
        values = col.to_numpy(dtype=object)
        missing = pd.isna(values)
        codes, uniques = pd.factorize(np.array([None if m else str(v) for v, m in zip(values, missing)] + [None],
                                               dtype=object)[:-1])
    values = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(pd.Index(uniques, dtype=object)), validate=False)
    return pd.Series(values, index=col.index), codes < 0


def _not_in(col: pd.Series, allowed) -> np.ndarray:
    """Rows whose value is present and not in ``allowed``, checked once per distinct value."""
    if is_coded(col):
        codes = col.cat.codes.to_numpy()
        outside = ~col.cat.categories.isin(allowed)
        return (codes >= 0) & np.append(outside, False)[codes]
    return col.notna().to_numpy() & ~col.isin(allowed).to_numpy()


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
            for i in col.index[_not_in(col, allowed)]:
                problems.append(Problem(file, int(i) + 1, var.name, col[i], "SDTM-CT",
                                        f"'{col[i]}' is not in codelist {cl.name}" + (" (extensible)" if cl.extensible else ""),
                                        WARNING if cl.extensible else ERROR))
        out[var.name] = col
    if _slow() or not out:
        return pd.DataFrame(out, index=frame.index).reset_index(drop=True), problems
    return _frame(out, len(frame)), problems


def _frame(columns: dict[str, pd.Series], rows: int) -> pd.DataFrame:
    """pd.DataFrame(columns).reset_index(drop=True) without copying the text columns' values."""
    data = {name: c.array if isinstance(c.dtype, pd.CategoricalDtype) else c.to_numpy() for name, c in columns.items()}
    return pd.DataFrame(data, index=pd.RangeIndex(rows), copy=False)
