"""DM: one record per screened subject (SDTMIG 3.4 5.2), screen failures included."""
from __future__ import annotations

import numpy as np
import pandas as pd

from converters.sdtm.common import with_subject
from converters.sdtm.derive import date_bounds_series
from schemas.config import StudyConfig
from specs import value_map


def latest_of(a: pd.Series, b: pd.Series) -> pd.Series:
    """The later of two (possibly partial) ISO dates by their latest possible day, as written."""
    _, a_hi = date_bounds_series(a)
    _, b_hi = date_bounds_series(b)
    pick_b = b_hi.notna() & (a_hi.isna() | (b_hi > a_hi))
    return a.where(~pick_b, b)


def exposure_span(exposure: pd.DataFrame) -> pd.DataFrame:
    """RFXSTDTC/RFXENDTC: first and last exposure to any protocol-specified treatment (SDTMIG 3.4 DM)."""
    end = exposure["end_date"].fillna(exposure["start_date"])
    keys = exposure["subject_id"]
    span = pd.DataFrame({"RFXSTDTC": _extreme(keys, exposure["start_date"], "min"), "RFXENDTC": _extreme(keys, end, "max")})
    return span.rename_axis("subject_id").reset_index()


def _extreme(keys: pd.Series, texts: pd.Series, how: str) -> pd.Series:
    """groupby(keys)[texts].min() or .max() of text values, computed on their sort ranks (integer
    group reductions instead of comparing strings)."""
    ranks, distinct = pd.factorize(texts, sort=True)
    per_key = pd.Series(np.where(ranks < 0, np.nan, ranks)).groupby(keys.to_numpy()).agg(how)
    picked = np.append(np.asarray(distinct, dtype=object), np.nan)[np.nan_to_num(per_key.to_numpy(), nan=-1).astype(np.int64)]
    return pd.Series(picked, index=per_key.index, dtype=object)


def actual_arm(subjects: pd.DataFrame, exposure: pd.DataFrame, config: StudyConfig) -> pd.DataFrame:
    """ACTARMCD/ACTARM from the investigational dose actually given (subject_id, ACTARMCD, ACTARM, ACTARMUD)."""
    inv = exposure[exposure["treatment"].isin(config.investigational())]
    given = inv.sort_values(["subject_id", "start_date"]).drop_duplicates("subject_id")
    arms = pd.DataFrame([{"treatment": a.treatment, "dose": a.dose, "dose_unit": a.dose_unit,
                          "ACTARMCD": a.armcd, "ACTARM": a.arm} for a in config.arms])
    out = given.merge(arms, on=["treatment", "dose", "dose_unit"], how="left")
    unplanned = out["ACTARMCD"].isna()
    out["ACTARMUD"] = np.where(unplanned, out["treatment"] + " " + out["dose"].map("{:g}".format) + " " + out["dose_unit"], None)
    return out[["subject_id", "ACTARMCD", "ACTARM", "ACTARMUD"]]


def map_dm(subjects: pd.DataFrame, exposure: pd.DataFrame, config: StudyConfig) -> pd.DataFrame:
    dm = with_subject(subjects, config.study.studyid, "DM")
    arms = {a.armcd: a.arm for a in config.arms}
    armnrs = value_map("SCREENING->ARMNRS")
    dm = dm.merge(actual_arm(subjects, exposure, config), on="subject_id", how="left")
    treated = dm["ACTARMCD"].notna() | dm["ACTARMUD"].notna()
    last = latest_of(dm["last_known_alive_date"].fillna(dm["informed_consent_date"]), dm["death_date"])
    dm["SUBJID"] = dm["subject_id"]
    dm["RFSTDTC"] = dm["infusion_date"]
    dm = dm.merge(exposure_span(exposure), on="subject_id", how="left")
    # CG0530 (CORE-000192): RFENDTC is null when ARMNRS is populated, i.e. for untreated subjects
    dm["RFENDTC"] = last.where(treated)
    dm["RFICDTC"] = dm["informed_consent_date"]
    dm["RFPENDTC"] = last
    dm["DTHDTC"] = dm["death_date"]
    dm["DTHFL"] = np.where(dm["death_date"].notna(), "Y", None)
    dm["SITEID"] = dm["site_id"]
    dm["AGE"] = dm["age"].astype("float64")
    dm["AGEU"] = dm["age_unit"]
    dm["SEX"] = dm["sex"]
    dm["RACE"] = dm["race"]
    dm["ETHNIC"] = dm["ethnicity"]
    dm["ARMCD"] = dm["arm_code"]
    dm["ARM"] = dm["arm_code"].map(arms)
    failed = dm["screening_outcome"] == "FAILED"
    # SDTMIG 3.4 5.2 assumption 4: ARMCD/ARM null with ARMNRS for screen failures; ACTARM null when untreated
    dm["ARMNRS"] = np.select([failed, ~treated], [armnrs["FAILED"], armnrs["NOT TREATED"]], default=None)
    dm.loc[dm["ACTARMUD"].notna(), "ARMNRS"] = armnrs["UNPLANNED"]
    dm["COUNTRY"] = dm["country"]
    return dm.sort_values("USUBJID", kind="mergesort").reset_index(drop=True)
