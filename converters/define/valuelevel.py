"""Value-level metadata: which (variable, key value) slices of a dataset get their own definition.

Data-driven: a slice exists only for key values present in the data, so every WhereClause selects
records. Three shapes are recognised:
- SUPP-- QVAL by QNAM (Define-XML 2.1 section 5.3.7: required for supplemental qualifiers),
- findings --ORRES/--STRESC/--STRESN by --TESTCD, with test names and collected/standard codelists
  from specs/<standard>/<domain>_tests.csv when present,
- ADaM BDS AVAL/AVALC by PARAMCD, labelled with the data's PARAM (ADaMIG 1.3 section 3.3).
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

import specs
from specs import Dataset

from .package import XptFile


@dataclass(frozen=True)
class Slice:
    dataset: str
    target: str  # the variable whose values this slice describes
    key: str  # the variable the WhereClause tests
    value: str  # the key value
    name: str  # ItemDef Name
    label: str
    codelist: str  # codelist name, "" for none
    origin: str  # spec origin kind, "" to inherit the target variable's
    method: str  # MethodOID, "" for none


def _spec_table(name: str, standard: str) -> tuple[dict[str, str], ...]:
    return specs.table(name, standard) if specs.active().has_table(name, standard) else ()


def _present(file: XptFile, key: str) -> list[str]:
    return sorted(file.distinct(key))


def rows_for(file: XptFile, key: str, value: str) -> pd.DataFrame:
    return file.frame[file.frame[key] == value]


def _first(file: XptFile, var: str, where: tuple[str, str], default):
    hit = file.first(var, where)
    return default if hit is None else hit


def _has_values(file: XptFile, key: str, value: str, target: str) -> bool:
    return bool(file.distinct(target, (key, value)))


def supp_slices(spec: Dataset, file: XptFile, standard: str) -> list[Slice]:
    if not spec.name.startswith("SUPP") or not {"QNAM", "QVAL"} <= set(file.frame.columns):
        return []
    rdomain = spec.name[4:]
    meta = {r["qnam"]: r for r in _spec_table("supp_qualifiers", standard) if r["rdomain"] == rdomain}
    out = []
    cols = set(file.frame.columns)
    for qnam in _present(file, "QNAM"):
        row = meta.get(qnam, {})
        label = row.get("qlabel") or (_first(file, "QLABEL", ("QNAM", qnam), qnam) if "QLABEL" in cols else qnam)
        origin = row.get("qorig") or (_first(file, "QORIG", ("QNAM", qnam), "") if "QORIG" in cols else "")
        out.append(Slice(spec.name, "QVAL", "QNAM", qnam, qnam, label, "", origin, ""))
    return out


def findings_slices(spec: Dataset, file: XptFile, standard: str) -> list[Slice]:
    dom = spec.name
    key = f"{dom}TESTCD"
    if key not in file.frame.columns:
        return []
    tests = {r[f"{dom.lower()}testcd"]: r for r in _spec_table(f"{dom.lower()}_tests", standard)}
    out = []
    for value in _present(file, key):
        row = tests.get(value, {})
        src, _, std = (row.get("value_map") or "").partition("->")
        # the test name as submitted (--TEST), else as specified
        name = _first(file, f"{dom}TEST", (key, value), "") if f"{dom}TEST" in file.frame.columns else ""
        label = str(name) or row.get(f"{dom.lower()}test") or value
        for suffix, cl, what in (("ORRES", src, "result as collected"), ("STRESC", std, "standardized result"),
                                 ("STRESN", "", "numeric standardized result")):
            target = f"{dom}{suffix}"
            if target in file.frame.columns and _has_values(file, key, value, target):
                out.append(Slice(dom, target, key, value, target, f"{label}, {what}", cl.strip(), "", ""))
    return out


def param_slices(spec: Dataset, file: XptFile, standard: str) -> list[Slice]:
    if "PARAMCD" not in file.frame.columns:
        return []
    out = []
    for value in _present(file, "PARAMCD"):
        label = _first(file, "PARAM", ("PARAMCD", value), value) if "PARAM" in file.frame.columns else value
        for target in ("AVAL", "AVALC"):
            if target in file.frame.columns and _has_values(file, "PARAMCD", value, target):
                out.append(Slice(spec.name, target, "PARAMCD", value, target, label, "", "", ""))
    return out


def slices(spec: Dataset, file: XptFile, standard: str) -> list[Slice]:
    return supp_slices(spec, file, standard) + findings_slices(spec, file, standard) + param_slices(spec, file, standard)
