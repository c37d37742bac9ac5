"""Apply the dataset spec to a mapped frame: variables, order, types, required values, CT."""
from __future__ import annotations

import pandas as pd

from converters.problems import ERROR, WARNING, Problem
from specs import Dataset, codelist

SAS_EPOCH = pd.Timestamp("1960-01-01")


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
        if var.is_char:
            col = col.astype(object).where(col.notna(), None).map(lambda v: v if v is None else str(v))
        elif pd.api.types.is_datetime64_any_dtype(col):
            # SAS date: days since 1960-01-01, shown with the spec's DATE9. format
            col = (col - SAS_EPOCH).dt.days.astype("float64")
        else:
            col = pd.to_numeric(col, errors="raise").astype("float64")
        if var.core == "Perm" and col.isna().all():
            continue
        if var.core == "Req" and req_non_null:
            for i in col.index[col.isna()]:
                problems.append(Problem(file, int(i) + 1, var.name, "", "SDTM-REQUIRED",
                                        f"{var.name} is required and empty"))
        if var.codelist and var.is_char:
            cl = codelist(var.codelist)
            allowed = cl.values()
            bad = col.notna() & ~col.isin(allowed)
            for i in col.index[bad]:
                problems.append(Problem(file, int(i) + 1, var.name, col[i], "SDTM-CT",
                                        f"'{col[i]}' is not in codelist {cl.name}" + (" (extensible)" if cl.extensible else ""),
                                        WARNING if cl.extensible else ERROR))
        out[var.name] = col
    return pd.DataFrame(out, index=frame.index).reset_index(drop=True), problems
