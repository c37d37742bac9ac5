"""SUPP--: non-standard variables kept as supplemental qualifiers (SDTMIG 3.4 8.4), listed in the spec."""
from __future__ import annotations

import numpy as np
import pandas as pd

from converters.sdtm.coded import constant, stack, text_of
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
        rows = np.flatnonzero(parent[field].notna().to_numpy())
        n, idvar = len(rows), q.get("idvar", "")
        parts.append({
            "STUDYID": parent["STUDYID"].take(rows), "RDOMAIN": constant(rdomain, n),
            "USUBJID": parent["USUBJID"].take(rows), "IDVAR": constant(idvar or None, n),
            "IDVARVAL": idvar_values(parent[idvar].take(rows)) if idvar else constant(None, n),
            "QNAM": constant(q["qnam"], n), "QLABEL": constant(q["qlabel"], n),
            "QVAL": text_of(parent[field].take(rows)), "QORIG": constant(q["qorig"], n),
            "QEVAL": constant(q.get("qeval") or None, n),
        })
    if not parts:
        return pd.DataFrame()
    supp = pd.DataFrame({name: stack([pd.Series(p[name]).reset_index(drop=True) for p in parts]) for name in parts[0]})
    return sort_rows(supp, ["USUBJID", "IDVARVAL", "QNAM"])
