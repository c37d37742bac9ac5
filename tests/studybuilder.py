"""A small valid study folder built in code, for tests to break one thing at a time."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

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
