"""The SDTM an ADaM derivation reads, checked before it runs: a variable it needs is absent, a date it
reads is not ISO 8601, a response it classifies is not a term it knows. Each would otherwise drop or
shorten records silently (an RSDTC of `01MAR2021` reads as no date), so each is an error naming the
dataset, record, variable and value, and nothing is derived.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from converters.problems import WARNING, Problem
from converters.validate.dates import iso_problem

RULE_VARIABLE = "ADAM-INPUT-VARIABLE"
RULE_DATE = "ADAM-INPUT-DATE"
RULE_TERM = "ADAM-INPUT-TERM"
RULE_LANDMARK = "ADAM-INPUT-LANDMARK"

# variables the derivations read (converters/adam/adsl.py, adrs.py)
NEEDED = {
    "DM": ("USUBJID", "ARMCD", "ACTARMCD"),
    "EX": ("USUBJID", "EXSTDTC", "EXENDTC", "EXDOSE"),
    "RS": ("USUBJID", "RSSEQ", "RSTESTCD", "RSSTRESC", "RSDTC", "VISIT"),
    "TS": ("TSPARMCD", "TSVAL"),
}
DATES = {"DM": ("DTHDTC", "RFPENDTC"), "EX": ("EXSTDTC", "EXENDTC"), "RS": ("RSDTC",)}


def _file(name: str) -> str:
    return f"{name.lower()}.xpt"


def missing_variables(sdtm) -> list[Problem]:
    out = []
    for name, variables in NEEDED.items():
        columns = set(sdtm[name].columns)
        out += [Problem(_file(name), None, var, "", RULE_VARIABLE,
                        f"{name} has no {var}, which the ADaM derivation reads") for var in variables if var not in columns]
    return out


def _bad_values(name: str, values: pd.Series, problem_of, rule: str) -> list[Problem]:
    """One problem per record whose value ``problem_of`` rejects (checked once per distinct value);
    records are numbered from 1 by the row labels of the dataset as read. ``values`` is one column
    (or a subset of its rows): subsetting the whole dataset would copy every column."""
    var = str(values.name)
    records = np.asarray(values.index) if pd.api.types.is_integer_dtype(values.index) else np.arange(len(values))
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    out = []
    for code, value in enumerate(uniques):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        why = problem_of(value if isinstance(value, str) else str(value))
        if why:
            out += [Problem(_file(name), int(r) + 1, var, str(value), rule, why) for r in records[codes == code]]
    return out


def _date_problem(text: str) -> str:
    if text.strip() == "":
        return ""
    why = iso_problem(text)
    if not why:
        return ""
    detail = "" if why == "not ISO 8601" else f" ({why})"
    return f"'{text}' is not an ISO 8601 date{detail}: the derivation would read it as no date"


def bad_dates(sdtm) -> list[Problem]:
    out = []
    for name, variables in DATES.items():
        frame = sdtm[name]
        for var in variables:
            if var in frame.columns:
                out += _bad_values(name, frame[var], _date_problem, RULE_DATE)
    ts = sdtm["TS"]
    if {"TSPARMCD", "TSVAL"} <= set(ts.columns):
        out += _bad_values("TS", ts["TSVAL"][(ts["TSPARMCD"] == "DCUTDTC").to_numpy(dtype=bool)], _date_problem, RULE_DATE)
    return out


def unknown_responses(rs: pd.DataFrame, analysis: dict) -> list[Problem]:
    if not {"RSTESTCD", "RSSTRESC"} <= set(rs.columns):
        return []
    known = list(analysis["response_order"])
    testcd, result = rs["RSTESTCD"], rs["RSSTRESC"]
    overall = result[(testcd == analysis["response_test"]).to_numpy(dtype=bool)]

    def problem_of(text: str) -> str:
        if text in known:
            return ""
        return (f"'{text}' is not a response the derivation knows for RSTESTCD {analysis['response_test']} "
                f"({', '.join(known)}; case matters)")
    negative = analysis["mrd_negative"]
    mrd = result[(testcd == analysis["mrd_test"]).to_numpy(dtype=bool)]

    def mrd_problem(text: str) -> str:  # another spelling of the negative term would count as positive
        if text != negative and text.strip().upper() == negative.upper():
            return f"'{text}' is written differently from '{negative}' (RSTESTCD {analysis['mrd_test']}; case matters)"
        return ""
    return (_bad_values("RS", overall, problem_of, RULE_TERM)
            + _bad_values("RS", mrd, mrd_problem, RULE_TERM))


def landmark_missing(rs: pd.DataFrame, analysis: dict) -> list[Problem]:
    if not {"RSTESTCD", "VISIT"} <= set(rs.columns) or rs.empty:
        return []
    visit = analysis["landmark_visit"]
    overall = rs["RSTESTCD"] == analysis["response_test"]
    if (overall & (rs["VISIT"] == visit)).any():
        return []
    return [Problem(_file("RS"), None, "VISIT", visit, RULE_LANDMARK,
                    f"no {analysis['response_test']} record has VISIT '{visit}' (the landmark visit): EFFFL is N "
                    "for every subject and the response at the landmark (RSPM3FL) has no records", WARNING)]


def check_sdtm_input(sdtm, analysis: dict) -> list[Problem]:
    """Problems of the SDTM datasets DM, EX, RS and TS as the ADaM derivation reads them."""
    absent = missing_variables(sdtm)
    if absent:
        return absent
    rs = sdtm["RS"]
    return bad_dates(sdtm) + unknown_responses(rs, analysis) + landmark_missing(rs, analysis)
