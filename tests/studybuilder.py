"""A small valid study folder built in code, for tests to break one thing at a time."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sscart19"

CONFIG = """\
[study]
studyid = "TST-01"
title = "Test study"
sponsor = "Test sponsor"
registry_id = "NCT00000001"
phase = "PHASE I TRIAL"
indication = "B-ALL"
age_min = "P18Y"
age_max = "P65Y"
planned_subjects = 3
study_start_date = "2021-01-04"
data_cutoff = "2022-12-31"
ct_version = "2025-03-28"
package_datetime = "2023-01-31T00:00:00"

[[arms]]
armcd = "DL1"
arm = "Drug 1x10^6 cells/kg"
treatment = "DRUG"
dose = 1.0
dose_unit = "10^6/kg"

[[treatments]]
name = "DRUG"
category = "INVESTIGATIONAL"

[[treatments]]
name = "FLUDARABINE"
category = "LYMPHODEPLETION"

[sources.subjects]
path = "subjects.csv"

[sources.adverse_events]
path = "ae.csv"

[sources.response]
path = "rs.csv"

[sources.exposure]
path = "ex.jsonl"
"""

SUBJECTS = [
    dict(subject_id="001", site_id="01", informed_consent_date="2021-01-04", age="30", sex="M", race="ASIAN",
         ethnicity="NOT HISPANIC OR LATINO", country="CHN", screening_outcome="PASSED", arm_code="DL1",
         cohort="ESCALATION", apheresis_date="2021-01-10", infusion_date="2021-02-01", cns_status="CNS1",
         last_known_alive_date="2022-06-30"),
    dict(subject_id="002", site_id="01", informed_consent_date="2021-01-05", age="45", sex="F", race="ASIAN",
         ethnicity="NOT HISPANIC OR LATINO", country="CHN", screening_outcome="FAILED",
         screen_failure_reason="Did not meet inclusion criteria", last_known_alive_date="2021-01-20"),
    dict(subject_id="003", site_id="01", informed_consent_date="2021-01-06", age="52", sex="F", race="ASIAN",
         ethnicity="NOT HISPANIC OR LATINO", country="CHN", screening_outcome="PASSED", arm_code="DL1",
         cohort="ESCALATION", apheresis_date="2021-01-12", not_infused_reason="Active lung infection",
         last_known_alive_date="2021-03-01"),
]
AES = [
    dict(subject_id="001", ae_id="1", verbatim_term="CRS", preferred_term="Cytokine release syndrome",
         system_organ_class="Immune system disorders", start_date="2021-02-02", end_date="2021-02-08", grade="2",
         grading_scale="ASTCT", serious="N", relationship="RELATED", action_taken="NOT APPLICABLE",
         outcome="RECOVERED/RESOLVED"),
    dict(subject_id="001", ae_id="2", verbatim_term="low neutrophils", preferred_term="Neutropenia",
         system_organ_class="Blood and lymphatic system disorders", start_date="2021-02", grade="4",
         grading_scale="CTCAE v5.0", serious="Y", serious_hospitalization="Y", relationship="POSSIBLY RELATED",
         action_taken="NOT APPLICABLE", outcome="RECOVERED/RESOLVED"),
]
RS = [
    dict(subject_id="001", visit="MONTH 1", visit_number="2", assessment_date="2021-03-01", overall_response="CR",
         mrd_status="NEGATIVE", mrd_method="FLOW CYTOMETRY", marrow_blasts_pct="0.5"),
    dict(subject_id="001", visit="MONTH 3", visit_number="4", assessment_date="2021-05-01", overall_response="CR",
         mrd_status="NEGATIVE", mrd_method="FLOW CYTOMETRY", marrow_blasts_pct="0.2"),
]
EX = [
    dict(subject_id="001", treatment="FLUDARABINE", start_date=f"2021-01-{d}", dose=30, dose_unit="mg/m2",
         route="INTRAVENOUS") for d in ("27", "28", "29")
] + [dict(subject_id="001", treatment="DRUG", start_date="2021-02-01", dose=1.0, dose_unit="10^6/kg",
          route="INTRAVENOUS")]


def write_csv(path: Path, rows: list[dict], encoding: str = "utf-8") -> None:
    fields: list[str] = []
    for r in rows:
        fields += [k for k in r if k not in fields]
    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def make_study(folder: Path, *, subjects=None, aes=None, rs=None, ex=None, config: str = CONFIG) -> Path:
    """Write a valid small study into ``folder`` (rows may be replaced to break one thing)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "study.toml").write_text(config, encoding="utf-8")
    write_csv(folder / "subjects.csv", SUBJECTS if subjects is None else subjects)
    write_csv(folder / "ae.csv", AES if aes is None else aes)
    write_csv(folder / "rs.csv", RS if rs is None else rs)
    write_jsonl(folder / "ex.jsonl", EX if ex is None else ex)
    return folder


def copy_example(dest: Path) -> Path:
    shutil.copytree(EXAMPLE, dest)
    return dest


def changed(rows: list[dict], index: int, **changes) -> list[dict]:
    """A copy of ``rows`` with row ``index`` updated (a value of None removes the key)."""
    out = [dict(r) for r in rows]
    out[index].update(changes)
    out[index] = {k: v for k, v in out[index].items() if v is not None}
    return out


def without_field(rows: list[dict], name: str) -> list[dict]:
    """A copy of ``rows`` with the column ``name`` removed from every row."""
    return [{k: v for k, v in r.items() if k != name} for r in rows]


# --- SDTM frames built by hand, for the ADaM derivations (converters.adam) -------------------------

def sdtm_subject(subjid: str, *, infused: str | None = "2021-02-01", last: str | None = "2022-06-30",
                 death: str | None = None, age: float | None = 30, armcd: str | None = "DL1",
                 arm: str = "Drug 1x10^6 cells/kg", screen_failure: bool = False, studyid: str = "S1") -> dict:
    """One subject: a DM row plus the investigational EX record of ``infused`` (None: not treated)."""
    if screen_failure:
        armcd, infused = None, None
    treated = infused is not None
    return dict(STUDYID=studyid, USUBJID=f"{studyid}-{subjid}", SUBJID=subjid, SITEID="01", AGE=age,
                AGEU="YEARS", SEX="F", RACE="ASIAN", ETHNIC="NOT HISPANIC OR LATINO", COUNTRY="CHN",
                ARMCD=armcd, ARM=arm if armcd else None, ACTARMCD=armcd if treated else None,
                ACTARM=arm if armcd and treated else None,
                ARMNRS="SCREEN FAILURE" if screen_failure else (None if treated else "ASSIGNED, NOT TREATED"),
                DTHFL="Y" if death else None, DTHDTC=death, RFPENDTC=death or last, _infused=infused)


def _object_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as object with None for missing, as converters.adam.sdtm_in.read_sdtm gives them."""
    out = frame.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


def sdtm_frames(subjects: list[dict], assessments: list[tuple] = (), *, cutoff: str = "2022-12-31",
                death_causes: dict[str, str] | None = None, doses: dict[str, float] | None = None,
                lymphodepletion: bool = True) -> dict[str, pd.DataFrame]:
    """DM, EX, RS, TS and SUPPDM frames with the variables the ADaM derivations read.

    ``assessments``: (subjid, visit, visitnum, date, overall response[, MRD status]) tuples; each gives
    an OVRLRESP RS record and, when an MRD status is given, an MRDRESP record, RSSEQ numbered per subject
    in the order given. ``doses``: EXDOSE per ARMCD (default 1.0).
    """
    studyid = subjects[0]["STUDYID"]
    dm = _object_columns(pd.DataFrame([{k: v for k, v in s.items() if not k.startswith("_")} for s in subjects]))
    dm["AGE"] = dm["AGE"].astype("float64")
    ex_rows = []
    for s in subjects:
        if s["_infused"] is None:
            continue
        if lymphodepletion:  # fludarabine days before the infusion: never the treatment start
            ld = (pd.Timestamp(s["_infused"][:10]) - pd.Timedelta(days=5)).strftime("%Y-%m-%d")
            ex_rows.append(dict(USUBJID=s["USUBJID"], EXTRT="FLUDARABINE", EXCAT="LYMPHODEPLETION",
                                EXDOSE=30.0, EXSTDTC=ld, EXENDTC=ld))
        ex_rows.append(dict(USUBJID=s["USUBJID"], EXTRT="DRUG", EXCAT="INVESTIGATIONAL",
                            EXDOSE=(doses or {}).get(s["ACTARMCD"], 1.0), EXSTDTC=s["_infused"],
                            EXENDTC=s["_infused"]))
    ex = pd.DataFrame(ex_rows, columns=["USUBJID", "EXTRT", "EXCAT", "EXDOSE", "EXSTDTC", "EXENDTC"])
    ex.insert(0, "STUDYID", studyid)
    ex["EXSEQ"] = (ex.groupby("USUBJID").cumcount() + 1).astype("float64")
    rs_rows, seq = [], {}
    for subjid, visit, visitnum, date, ovrl, *mrd in assessments:
        usubjid = f"{studyid}-{subjid}"
        for testcd, value in (("OVRLRESP", ovrl), ("MRDRESP", mrd[0] if mrd else None)):
            if value is None:
                continue
            seq[usubjid] = seq.get(usubjid, 0) + 1
            rs_rows.append(dict(STUDYID=studyid, USUBJID=usubjid, RSSEQ=float(seq[usubjid]), RSTESTCD=testcd,
                                RSORRES=value, RSSTRESC=value, VISITNUM=float(visitnum), VISIT=visit, RSDTC=date))
    rs = pd.DataFrame(rs_rows, columns=["STUDYID", "USUBJID", "RSSEQ", "RSTESTCD", "RSORRES", "RSSTRESC",
                                        "VISITNUM", "VISIT", "RSDTC"])
    rs["RSSEQ"], rs["VISITNUM"] = rs["RSSEQ"].astype("float64"), rs["VISITNUM"].astype("float64")
    ts = pd.DataFrame({"STUDYID": studyid, "TSSEQ": 1.0, "TSPARMCD": ["SSTDTC", "DCUTDTC"],
                       "TSVAL": ["2021-01-04", cutoff]})
    supp = pd.DataFrame([dict(STUDYID=studyid, RDOMAIN="DM", USUBJID=f"{studyid}-{k}", QNAM="DTHCAUS",
                              QLABEL="Cause of Death", QVAL=v) for k, v in (death_causes or {}).items()],
                        columns=["STUDYID", "RDOMAIN", "USUBJID", "QNAM", "QLABEL", "QVAL"])
    return {"DM": dm, "EX": _object_columns(ex), "RS": _object_columns(rs), "TS": _object_columns(ts),
            "SUPPDM": _object_columns(supp)}
