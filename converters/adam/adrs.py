"""ADRS: response per assessment and the derived response parameters (ADaMIG 1.3 BDS).

Every row keeps SRCDOM/SRCVAR/SRCSEQ pointing at the RS record (or ADSL variable) it comes from.
Nothing after the data cutoff (ADSL.DCUTDT) is used.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from converters.sdtm.derive import to_date

SUBJECT_VARS = ["USUBJID", "TRT01A", "TRT01AG1", "TRTSDT", "DCUTDT"]


def assessments(rs: pd.DataFrame, adsl: pd.DataFrame, testcd: str) -> pd.DataFrame:
    """One ADRS row per RS record of ``testcd`` on or before the cutoff, in date order."""
    rows = rs[rs["RSTESTCD"] == testcd].merge(adsl[SUBJECT_VARS], on="USUBJID", how="inner")
    rows = rows.assign(ADT=to_date(rows["RSDTC"]))
    rows = rows[rows["ADT"].notna() & (rows["ADT"] <= rows["DCUTDT"])]
    out = pd.DataFrame({
        "USUBJID": rows["USUBJID"], "PARAMCD": testcd, "AVALC": rows["RSSTRESC"], "ADT": rows["ADT"],
        "AVISIT": rows["VISIT"], "AVISITN": rows["VISITNUM"],
        "SRCDOM": "RS", "SRCVAR": "RSSTRESC", "SRCSEQ": rows["RSSEQ"].astype("float64"),
    })
    return out.sort_values(["USUBJID", "ADT", "SRCSEQ"], kind="mergesort").reset_index(drop=True)


def _pick(frame: pd.DataFrame, paramcd: str, avalc=None) -> pd.DataFrame:
    out = frame.copy()
    out["PARAMCD"] = paramcd
    if avalc is not None:
        out["AVALC"] = avalc
    return out


def derive_best_response(ovr: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """BOR: the best response (response_order) before the first relapse/progression, first date of it."""
    order = {v: i for i, v in enumerate(analysis["response_order"])}
    first_rel = ovr[ovr["AVALC"].isin(analysis["relapse_or_progression"])].groupby("USUBJID")["ADT"].min()
    upto = ovr[ovr["ADT"] <= ovr["USUBJID"].map(first_rel).fillna(pd.Timestamp.max)]
    ranked = upto.assign(_rank=upto["AVALC"].map(order)).sort_values(["USUBJID", "_rank", "ADT"], kind="mergesort")
    return _pick(ranked.drop_duplicates("USUBJID").drop(columns="_rank"), "BOR")


def derive_landmark_response(ovr: pd.DataFrame, analysis: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """RSPM3 (the response at the landmark visit) and RSPM3FL (Y for a responder, else N)."""
    at = ovr[ovr["AVISIT"] == analysis["landmark_visit"]].drop_duplicates("USUBJID")
    flag = _pick(at, "RSPM3FL", np.where(at["AVALC"].isin(analysis["responder"]), "Y", "N"))
    return _pick(at, "RSPM3"), flag


def derive_first(ovr: pd.DataFrame, values: list[str], paramcd: str) -> pd.DataFrame:
    """The first assessment whose response is in ``values`` (FRESP, RELPROG)."""
    return _pick(ovr[ovr["AVALC"].isin(values)].drop_duplicates("USUBJID"), paramcd)


def derive_mrd_negative_response(ovr: pd.DataFrame, mrd: pd.DataFrame, analysis: dict, subjects: pd.Series) -> pd.DataFrame:
    """MRDNCR: Y at the first CR/CRi assessment with MRD negative the same day; N for other subjects."""
    resp = ovr[ovr["AVALC"].isin(analysis["responder"])]
    neg = mrd[mrd["AVALC"] == analysis["mrd_negative"]][["USUBJID", "ADT", "SRCSEQ"]].rename(columns={"SRCSEQ": "_mrdseq"})
    hit = resp.merge(neg, on=["USUBJID", "ADT"]).drop_duplicates("USUBJID")
    hit = _pick(hit.assign(SRCSEQ=hit["_mrdseq"]).drop(columns="_mrdseq"), "MRDNCR", "Y")
    rest = pd.DataFrame({"USUBJID": subjects[~subjects.isin(hit["USUBJID"])], "PARAMCD": "MRDNCR", "AVALC": "N"})
    return pd.concat([hit, rest], ignore_index=True)


def derive_death(adsl: pd.DataFrame) -> pd.DataFrame:
    dead = adsl[adsl["DTHFL"].eq("Y") & adsl["SAFFL"].eq("Y") & (adsl["DTHDT"] <= adsl["DCUTDT"])]
    return pd.DataFrame({"USUBJID": dead["USUBJID"], "PARAMCD": "DEATH", "AVALC": "Y", "ADT": dead["DTHDT"],
                         "SRCDOM": "ADSL", "SRCVAR": "DTHDT"})


def derive_adrs(rs: pd.DataFrame, adsl: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    treated = adsl[adsl["SAFFL"] == "Y"]
    ovr = assessments(rs, treated, analysis["response_test"])
    mrd = assessments(rs, treated, analysis["mrd_test"])
    # derived parameters look only at assessments after the infusion (on or after TRTSDT)
    post = ovr[ovr["ADT"] >= ovr["USUBJID"].map(treated.set_index("USUBJID")["TRTSDT"])]
    m3, m3fl = derive_landmark_response(post, analysis)
    parts = [ovr, mrd, derive_best_response(post, analysis), m3, m3fl,
             derive_mrd_negative_response(post, mrd, analysis, treated["USUBJID"]),
             derive_first(post, analysis["responder"], "FRESP"),
             derive_first(post, analysis["relapse_or_progression"], "RELPROG"), derive_death(treated)]
    parts = [p for p in parts if not p.empty]
    if not parts:  # nobody infused by the cutoff: an empty ADRS with its variables
        return pd.DataFrame(columns=["STUDYID", "USUBJID", "ASEQ", "TRT01A", "TRT01AG1", "PARAMCD", "PARAM", "AVALC",
                                     "AVAL", "ADT", "ADY", "AVISIT", "AVISITN", "SRCDOM", "SRCVAR", "SRCSEQ", "TRTSDT"])
    adrs = pd.concat(parts, ignore_index=True)
    order = {p["paramcd"]: i for i, p in enumerate(analysis["adrs_params"])}
    names = {p["paramcd"]: p["param"] for p in analysis["adrs_params"]}
    resp_order = {v: float(i) for i, v in enumerate(analysis["response_order"], start=1)}
    adrs["PARAM"] = adrs["PARAMCD"].map(names)
    adrs["AVAL"] = np.where(adrs["AVALC"].isin(["Y", "N"]), adrs["AVALC"].map({"Y": 1.0, "N": 0.0}),
                            adrs["AVALC"].map(resp_order))
    adrs.loc[adrs["PARAMCD"] == analysis["mrd_test"], "AVAL"] = np.nan  # MRD status has no ordinal value
    adrs = adrs.merge(adsl[["USUBJID", "STUDYID", "TRT01A", "TRT01AG1", "TRTSDT"]], on="USUBJID", how="left",
                      suffixes=("_drop", ""))
    adrs = adrs[[c for c in adrs.columns if not c.endswith("_drop")]]
    days = (adrs["ADT"] - adrs["TRTSDT"]).dt.days.astype("float64")
    adrs["ADY"] = np.where(days >= 0, days + 1, days)
    adrs["_order"] = adrs["PARAMCD"].map(order)
    adrs = adrs.sort_values(["USUBJID", "_order", "ADT", "SRCSEQ"], kind="mergesort", na_position="first")
    adrs["ASEQ"] = (adrs.groupby("USUBJID").cumcount() + 1).astype("float64")
    return adrs.drop(columns=["_order"]).reset_index(drop=True)
