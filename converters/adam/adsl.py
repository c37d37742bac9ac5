"""ADSL: one record per subject in DM (ADaMIG 1.3 section 3.1)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from converters.adam.dates import days_between, impute_first
from converters.sdtm.derive import to_date
from converters.adam.sdtm_in import SdtmInputError


def data_cutoff(ts: pd.DataFrame) -> pd.Timestamp:
    row = ts.loc[ts["TSPARMCD"] == "DCUTDTC", "TSVAL"]
    if row.empty or row.iloc[0] is None:
        raise SdtmInputError("TS has no DCUTDTC (data cutoff date); ADaM needs it to honour the cutoff")
    return pd.Timestamp(row.iloc[0][:10])


def investigational_exposure(ex: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """EX records of the investigational product (all of EX when EXCAT is not used)."""
    if "EXCAT" in ex.columns and ex["EXCAT"].notna().any():
        return ex[ex["EXCAT"] == analysis["investigational_excat"]]
    return ex


def derive_treatment_dates(ex: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """TRTSDT/TRTEDT: first start and last end of the investigational product, per USUBJID.

    >>> ex = pd.DataFrame({"USUBJID": ["A"], "EXSTDTC": ["2021-05-10"], "EXENDTC": ["2021-05-10"]})
    >>> derive_treatment_dates(ex, {})["TRTSDT"].dt.strftime("%Y-%m-%d").tolist()
    ['2021-05-10']
    """
    inv = investigational_exposure(ex, analysis).assign(
        start=lambda f: to_date(f["EXSTDTC"]), end=lambda f: to_date(f["EXENDTC"].fillna(f["EXSTDTC"])))
    return inv.groupby("USUBJID", as_index=False).agg(TRTSDT=("start", "min"), TRTEDT=("end", "max"))


def arm_rank(dm: pd.DataFrame, ex: pd.DataFrame, analysis: dict) -> dict[str, int]:
    """Arm codes numbered 1, 2, ... by increasing investigational dose (ties and unknown doses by code)."""
    inv = investigational_exposure(ex, analysis)
    dose = inv.merge(dm[["USUBJID", "ACTARMCD"]], on="USUBJID").groupby("ACTARMCD")["EXDOSE"].median()
    codes = sorted(set(dm["ARMCD"].dropna()) | set(dm["ACTARMCD"].dropna()),
                   key=lambda c: (dose.get(c, np.inf), c))
    return {c: i for i, c in enumerate(codes, start=1)}


def derive_age_group(adsl: pd.DataFrame, groups: list[dict]) -> pd.DataFrame:
    out = adsl.copy()
    conditions = []
    low = -np.inf
    for g in groups:
        conditions.append((out["AGE"] > low) & (out["AGE"] <= g["max"]))
        low = g["max"]
    out["AGEGR1"] = np.select(conditions, [g["label"] for g in groups], default=None)
    out["AGEGR1N"] = np.select(conditions, [float(i) for i in range(1, len(groups) + 1)], default=np.nan)
    out.loc[out["AGE"].isna(), ["AGEGR1", "AGEGR1N"]] = [None, np.nan]
    return out


def derive_adsl(sdtm: dict[str, pd.DataFrame], analysis: dict, dose_groups: dict[str, str]) -> pd.DataFrame:
    dm, ex, ts, rs = sdtm["DM"], sdtm["EX"], sdtm["TS"], sdtm["RS"]
    cutoff = data_cutoff(ts)
    keep = ["STUDYID", "USUBJID", "SUBJID", "SITEID", "AGE", "AGEU", "SEX", "RACE", "ETHNIC", "COUNTRY",
            "ARM", "ARMCD", "ACTARM", "ACTARMCD", "ARMNRS", "DTHFL", "DTHDTC", "RFPENDTC"]
    adsl = dm[[c for c in keep if c in dm.columns]].copy()
    for col in keep:
        if col not in adsl.columns:
            adsl[col] = None
    adsl = derive_age_group(adsl, analysis["age_groups"])
    rank = arm_rank(dm, ex, analysis)
    adsl["TRT01P"], adsl["TRT01PN"] = adsl["ARM"], adsl["ARMCD"].map(rank).astype("float64")
    adsl["TRT01A"], adsl["TRT01AN"] = adsl["ACTARM"], adsl["ACTARMCD"].map(rank).astype("float64")
    if dose_groups:
        order = {g: i for i, g in enumerate(dict.fromkeys(dose_groups.values()), start=1)}
        adsl["TRT01AG1"] = adsl["ACTARMCD"].map(dose_groups)
        adsl["TR01AG1N"] = adsl["TRT01AG1"].map(order).astype("float64")
    else:
        adsl["TRT01AG1"], adsl["TR01AG1N"] = adsl["TRT01A"], adsl["TRT01AN"]
    adsl = adsl.merge(derive_treatment_dates(ex, analysis), on="USUBJID", how="left")
    adsl["ENRLFL"] = np.where(adsl["ARMCD"].notna(), "Y", "N")
    adsl["SAFFL"] = np.where(adsl["TRTSDT"].notna(), "Y", "N")
    adsl["DCUTDT"] = cutoff
    death = impute_first(adsl["DTHDTC"])
    adsl["DTHDT"] = death.where(death.isna() | adsl["TRTSDT"].isna() | (death >= adsl["TRTSDT"]), adsl["TRTSDT"])
    adsl["LSTALVDT"] = adsl["DTHDT"].fillna(last_known_alive(adsl, rs))
    # follow-up ends at death or last contact, and never runs past the data cutoff
    adsl["FUPDUR"] = days_between(adsl["LSTALVDT"].clip(upper=cutoff), adsl["TRTSDT"]).where(adsl["TRTSDT"].notna())
    adsl = adsl.merge(death_cause(sdtm.get("SUPPDM")), on="USUBJID", how="left")
    adsl["EFFFL"] = np.where(adsl["SAFFL"].eq("Y") & adsl["USUBJID"].isin(landmark_assessed(rs, analysis, cutoff)), "Y", "N")
    return adsl.drop(columns=["DTHDTC", "RFPENDTC"]).sort_values("USUBJID", kind="mergesort").reset_index(drop=True)


def last_known_alive(adsl: pd.DataFrame, rs: pd.DataFrame) -> pd.Series:
    """Latest date the subject was seen alive: DM.RFPENDTC, the last dose, or the last response assessment
    (admiral derive_vars_extreme_event style), so a subject missing RFPENDTC still has a censoring date."""
    # grouping the date column alone: assign() would copy every RS column first
    last_rs = to_date(rs["RSDTC"]).groupby(rs["USUBJID"].to_numpy()).max()
    dates = pd.concat([to_date(adsl["RFPENDTC"]), adsl["TRTEDT"], adsl["USUBJID"].map(last_rs)], axis=1)
    return pd.to_datetime(dates.max(axis=1))


def death_cause(supp: pd.DataFrame | None) -> pd.DataFrame:
    if supp is None or supp.empty:
        return pd.DataFrame({"USUBJID": pd.Series(dtype=object), "DTHCAUS": pd.Series(dtype=object)})
    rows = supp[supp["QNAM"] == "DTHCAUS"]
    return rows[["USUBJID", "QVAL"]].rename(columns={"QVAL": "DTHCAUS"}).drop_duplicates("USUBJID")


def landmark_assessed(rs: pd.DataFrame, analysis: dict, cutoff: pd.Timestamp) -> set[str]:
    """Subjects with an overall response assessment at the landmark visit, on or before the cutoff."""
    at = rs[(rs["RSTESTCD"] == analysis["response_test"]) & (rs["VISIT"] == analysis["landmark_visit"])]
    return set(at.loc[to_date(at["RSDTC"]) <= cutoff, "USUBJID"])
