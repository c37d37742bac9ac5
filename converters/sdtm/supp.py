"""SUPP--: non-standard variables kept as supplemental qualifiers (SDTMIG 3.4 8.4), listed in the spec."""
from __future__ import annotations

import numpy as np
import pandas as pd

from converters.sdtm.derive import sort_rows
from specs import table


def idvar_values(col: pd.Series) -> pd.Series:
    """IDVARVAL: the text of the parent's identifying value (--SEQ 3.0 -> "3"), once per distinct value."""
    codes, uniques = pd.factorize(col)
    texts = np.array([f"{v:g}" if isinstance(v, float) else str(v) for v in uniques] + ["nan"], dtype=object)
    return pd.Series(texts[codes], index=col.index, dtype=object)


def map_supp(parent: pd.DataFrame, rdomain: str) -> pd.DataFrame:
    """One SUPP-- record per non-empty qualifier value of each parent record.

    ``parent`` is the mapped domain frame still carrying the source fields.
    """
    parts = []
    for q in (q for q in table("supp_qualifiers") if q["rdomain"] == rdomain):
        field = q["source_field"].split(".")[-1]
        rows = parent[parent[field].notna()]
        idvar = q.get("idvar", "")
        part = pd.DataFrame({
            "STUDYID": rows["STUDYID"], "RDOMAIN": rdomain, "USUBJID": rows["USUBJID"],
            "IDVAR": idvar or None,
            "IDVARVAL": idvar_values(rows[idvar]) if idvar else None,
            "QNAM": q["qnam"], "QLABEL": q["qlabel"], "QVAL": rows[field].astype("string"),
            "QORIG": q["qorig"], "QEVAL": q.get("qeval") or None,
        })
        parts.append(part)
    if not parts:
        return pd.DataFrame()
    supp = pd.concat(parts, ignore_index=True)
    return sort_rows(supp, ["USUBJID", "IDVARVAL", "QNAM"])
