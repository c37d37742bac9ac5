"""A large synthetic study in the source contract, deterministic by seed, for benchmarks and scale tests.

    python -m benchmarks.generate --subjects 10000 --out /tmp/bigstudy

Per subject: ~``ae`` adverse events and ~``rs`` response assessments (infused subjects), ``ex``
exposure records (lymphodepletion days plus the CAR-T infusion). Screen failures and subjects never
infused carry AEs only. Every record passes the field and cross-record rules, so the whole pipeline
runs; a few percent of AE dates are partial to exercise the partial-date paths. ``bad_rows`` > 0
breaks that many AE rows (unknown codelist value, impossible date, grade 7, in turn) for the
failure path.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

STUDYID = "BENCH-01"
CUTOFF = "2027-12-31"
ARMS = (("DL1", 1.0), ("DL2", 5.0), ("DL3", 10.0))
PRODUCT = "ssCART-19"
LYMPHODEPLETION = (("FLUDARABINE", 30.0, "INJECTION, POWDER, LYOPHILIZED, FOR SOLUTION"),
                   ("CYCLOPHOSPHAMIDE", 300.0, "INJECTION, POWDER, FOR SOLUTION"))
FOLLOW_UP_DAYS = 900  # infusion -> last known alive

CONFIG = f"""\
[study]
studyid = "{STUDYID}"
title = "Synthetic benchmark study"
sponsor = "Benchmark sponsor"
registry_id = "NCT99999999"
phase = "PHASE I TRIAL"
indication = "Relapsed or Refractory B-cell Acute Lymphoblastic Leukemia"
age_min = "P18Y"
age_max = "P65Y"
planned_subjects = {{n}}
study_start_date = "2021-01-04"
data_cutoff = "{CUTOFF}"
ct_version = "2025-03-28"
package_datetime = "2028-01-31T00:00:00"

{"".join(f'''[[arms]]
armcd = "{c}"
arm = "{PRODUCT} {d:g}x10^6 CAR-T cells/kg"
treatment = "{PRODUCT}"
dose = {d}
dose_unit = "10^6/kg"

''' for c, d in ARMS)}[[treatments]]
name = "{PRODUCT}"
category = "INVESTIGATIONAL"

[[treatments]]
name = "FLUDARABINE"
category = "LYMPHODEPLETION"

[[treatments]]
name = "CYCLOPHOSPHAMIDE"
category = "LYMPHODEPLETION"

[adam]
landmark_visit = "MONTH 3"

[sources.subjects]
path = "source/subjects.csv"
rename = {{ SUBJNO = "subject_id" }}

[sources.adverse_events]
path = "source/adverse_events.csv"
rename = {{ SUBJNO = "subject_id" }}

[sources.response]
path = "source/response.csv"

[sources.exposure]
path = "source/exposure.jsonl"
"""

# (verbatim, preferred term, SOC, SOC code)
TERMS = (
    ("Fever", "Pyrexia", "General disorders and administration site conditions", 10018065),
    ("CRS", "Cytokine release syndrome", "Immune system disorders", 10021428),
    ("Neutropenia", "Neutropenia", "Blood and lymphatic system disorders", 10005329),
    ("Lymphocytopenia", "Lymphopenia", "Blood and lymphatic system disorders", 10005329),
    ("Anemia", "Anaemia", "Blood and lymphatic system disorders", 10005329),
    ("Hypotension", "Hypotension", "Vascular disorders", 10047065),
    ("Hypokalemia", "Hypokalaemia", "Metabolism and nutrition disorders", 10027433),
    ("ALT increased", "Alanine aminotransferase increased", "Investigations", 10022891),
    ("Pulmonary infection", "Pneumonia", "Infections and infestations", 10021881),
    ("Headache", "Headache", "Nervous system disorders", 10029205),
    ("Diarrhea", "Diarrhoea", "Gastrointestinal disorders", 10017947),
    ("Sinus tachycardia", "Sinus tachycardia", "Cardiac disorders", 10007541),
)
RELATIONSHIP = ("RELATED", "POSSIBLY RELATED", "UNLIKELY RELATED", "NOT RELATED")
OUTCOME = ("RECOVERED/RESOLVED", "RECOVERING/RESOLVING", "NOT RECOVERED/NOT RESOLVED")
RESPONSE = ("CR", "CRi", "NR", "PD", "RELAPSE")
RACES = ("ASIAN", "WHITE", "BLACK OR AFRICAN AMERICAN")
ETHNIC = ("NOT HISPANIC OR LATINO", "HISPANIC OR LATINO")


def _iso(days: np.ndarray) -> np.ndarray:
    """datetime64[D] -> 'YYYY-MM-DD' object array."""
    return np.datetime_as_string(days.astype("datetime64[D]"), unit="D").astype(object)


def _pick(rng: np.random.Generator, values: tuple, n: int, p=None) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.choice(len(values), n, p=p)]


def subjects_frame(n: int, rng: np.random.Generator) -> pd.DataFrame:
    ids = np.char.zfill(np.arange(1, n + 1).astype(str), 6).astype(object)
    consent = np.datetime64("2021-01-04") + rng.integers(0, 700, n)
    status = rng.choice(3, n, p=[0.93, 0.05, 0.02])  # 0 infused, 1 screen failure, 2 enrolled, not infused
    infused, failed, not_infused = status == 0, status == 1, status == 2
    enrolled = ~failed
    infusion = consent + 35
    last = np.where(infused, infusion + FOLLOW_UP_DAYS, consent + 60)
    dead = infused & (rng.random(n) < 0.1)
    arm = _pick(rng, tuple(a for a, _ in ARMS), n)
    frame = pd.DataFrame({
        "SUBJNO": ids,
        "site_id": np.char.zfill(rng.integers(1, 51, n).astype(str), 2).astype(object),
        "informed_consent_date": _iso(consent),
        "age": rng.integers(18, 66, n),
        "age_unit": "YEARS",
        "sex": _pick(rng, ("F", "M"), n),
        "race": _pick(rng, RACES, n),
        "ethnicity": _pick(rng, ETHNIC, n),
        "country": _pick(rng, ("CHN", "USA", "DEU"), n),
        "screening_outcome": np.where(failed, "FAILED", "PASSED").astype(object),
        "screen_failure_reason": np.where(failed, "Did not meet inclusion criteria", None),
        "arm_code": np.where(enrolled, arm, None),
        "cohort": np.where(enrolled, _pick(rng, ("ESCALATION", "EXPANSION"), n), None),
        "apheresis_date": np.where(enrolled, _iso(consent + 7), None),
        "infusion_date": np.where(infused, _iso(infusion), None),
        "not_infused_reason": np.where(not_infused, "Progressive disease before infusion", None),
        "cns_status": np.where(enrolled, _pick(rng, ("CNS1", "CNS2", "CNS3"), n, p=[0.8, 0.15, 0.05]), None),
        "death_date": np.where(dead, _iso(last), None),
        "death_cause": np.where(dead, "Disease progression", None),
        "last_known_alive_date": _iso(last),
    })
    frame.attrs.update(consent=consent, last=last, infused=infused, infusion=infusion, arm=arm)
    return frame


def _per_subject(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Subject index of each record and its 1-based number within the subject."""
    subj = np.repeat(np.arange(len(counts)), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return subj, np.arange(len(subj)) - starts + 1


def adverse_events_frame(subjects: pd.DataFrame, per_subject: int, rng: np.random.Generator,
                         total: int | None = None) -> pd.DataFrame:
    n = len(subjects)
    counts = np.full(n, per_subject)
    if total is not None:  # exact row count, spread over the subjects
        counts = np.full(n, total // n)
        counts[: total % n] += 1
    subj, number = _per_subject(counts)
    m = len(subj)
    consent, last = subjects.attrs["consent"][subj], subjects.attrs["last"][subj]
    span = (last - consent).astype(int)
    start = consent + (rng.random(m) * span).astype(int)
    end = np.minimum(start + rng.integers(0, 30, m), last)
    term = rng.integers(0, len(TERMS), m)
    start_s, end_s = _iso(start), _iso(end)
    partial = rng.random(m) < 0.03
    # a partial start keeps year-month; its end moves to a later month so it cannot end before it starts
    start_s[partial] = [s[:7] for s in start_s[partial]]
    end_s[partial] = None
    ongoing = rng.random(m) < 0.05
    end_s[ongoing] = None
    serious = rng.random(m) < 0.08
    grade = rng.integers(1, 5, m)
    terms = np.asarray(TERMS, dtype=object)
    return pd.DataFrame({
        "SUBJNO": subjects["SUBJNO"].to_numpy()[subj],
        "ae_id": number.astype(str).astype(object),
        "verbatim_term": terms[term, 0],
        "preferred_term": terms[term, 1],
        "system_organ_class": terms[term, 2],
        "soc_code": terms[term, 3].astype(np.int64),
        "start_date": start_s,
        "end_date": end_s,
        "grade": grade,
        "grading_scale": np.where(term == 1, "ASTCT", "CTCAE v5.0").astype(object),
        "serious": np.where(serious, "Y", "N").astype(object),
        "serious_hospitalization": np.where(serious, "Y", None),
        "relationship": _pick(rng, RELATIONSHIP, m),
        "action_taken": "NOT APPLICABLE",
        "outcome": _pick(rng, OUTCOME, m),
    })


def response_frame(subjects: pd.DataFrame, per_subject: int, rng: np.random.Generator) -> pd.DataFrame:
    infused = subjects.attrs["infused"]
    counts = np.where(infused, per_subject, 0)
    subj, number = _per_subject(counts)
    m = len(subj)
    # assessments every 7 days from day 7: distinct dates, all inside the follow-up
    step = max(1, min(7, FOLLOW_UP_DAYS // max(per_subject, 1)))
    date = subjects.attrs["infusion"][subj] + number * step
    mrd_done = rng.random(m) < 0.8
    visit = np.char.add("VISIT ", number.astype(str)).astype(object)
    visit[number * step == 91] = "MONTH 3"  # the landmark visit of the analysis
    return pd.DataFrame({
        "subject_id": subjects["SUBJNO"].to_numpy()[subj],
        "visit": visit,
        "visit_number": number.astype(np.float64),
        "assessment_date": _iso(date),
        "overall_response": _pick(rng, RESPONSE, m, p=[0.5, 0.1, 0.2, 0.1, 0.1]),
        "mrd_status": np.where(mrd_done, _pick(rng, ("NEGATIVE", "POSITIVE"), m), None),
        "mrd_method": np.where(mrd_done, "FLOW CYTOMETRY", None),
        "marrow_blasts_pct": np.round(rng.random(m) * 50, 1),
        "evaluator": "INVESTIGATOR",
    })


def exposure_frame(subjects: pd.DataFrame, per_subject: int, rng: np.random.Generator) -> pd.DataFrame:
    """``per_subject - 1`` lymphodepletion days (alternating drugs) before the infusion record."""
    infused = subjects.attrs["infused"]
    counts = np.where(infused, per_subject, 0)
    subj, number = _per_subject(counts)
    infusion = subjects.attrs["infusion"][subj]
    is_product = number == per_subject
    drug = number % 2
    day = infusion - 1 - (number - 1) // 2  # two drugs share a day, each at most once
    ld = np.asarray(LYMPHODEPLETION, dtype=object)
    dose = {a: d for a, d in ARMS}
    arm_dose = np.array([dose[a] for a in subjects.attrs["arm"]])[subj]
    return pd.DataFrame({
        "subject_id": subjects["SUBJNO"].to_numpy()[subj],
        "treatment": np.where(is_product, PRODUCT, ld[drug, 0]),
        "start_date": _iso(np.where(is_product, infusion, day)),
        "dose": np.where(is_product, arm_dose, ld[drug, 1].astype(float)),
        "dose_unit": np.where(is_product, "10^6/kg", "mg/m2"),
        "route": "INTRAVENOUS",
        "dose_form": np.where(is_product, "SUSPENSION", ld[drug, 2]),
    })


def _break_rows(ae: pd.DataFrame, count: int, rng: np.random.Generator) -> None:
    rows = rng.choice(len(ae), min(count, len(ae)), replace=False)
    for k, i in enumerate(rows):
        col, value = (("outcome", "FINE"), ("start_date", "2021-02-30"), ("grade", 7))[k % 3]
        ae.at[ae.index[i], col] = value


def _write_jsonl(path: Path, frame: pd.DataFrame) -> None:
    frame.to_json(path, orient="records", lines=True)


def generate(out: Path, subjects: int = 10_000, *, ae: int = 100, rs: int = 100, ex: int = 20,
             ae_rows: int | None = None, seed: int = 20261125, bad_rows: int = 0) -> Path:
    """Write study.toml and source/ under ``out``; returns ``out``. Same arguments -> same bytes."""
    out = Path(out)
    rng = np.random.default_rng(seed)
    subj = subjects_frame(subjects, rng)
    events = adverse_events_frame(subj, ae, rng, ae_rows)
    resp = response_frame(subj, max(rs, 1), rng)
    expo = exposure_frame(subj, max(ex, 2), rng)
    if bad_rows:
        _break_rows(events, bad_rows, rng)
    src = out / "source"
    src.mkdir(parents=True, exist_ok=True)
    (out / "study.toml").write_text(CONFIG.replace("{n}", str(subjects)), encoding="utf-8")
    subj.to_csv(src / "subjects.csv", index=False, encoding="utf-8-sig")
    events.to_csv(src / "adverse_events.csv", index=False)
    resp.to_csv(src / "response.csv", index=False)
    _write_jsonl(src / "exposure.jsonl", expo)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--subjects", type=int, default=10_000)
    p.add_argument("--ae", type=int, default=100, help="AE records per subject")
    p.add_argument("--ae-rows", type=int, default=None, help="exact AE row count (overrides --ae)")
    p.add_argument("--rs", type=int, default=100, help="response assessments per infused subject")
    p.add_argument("--ex", type=int, default=20, help="exposure records per infused subject")
    p.add_argument("--seed", type=int, default=20261125)
    p.add_argument("--bad-rows", type=int, default=0)
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    out = a.out or Path(tempfile.mkdtemp(prefix="cdisc-bench-"))
    generate(out, a.subjects, ae=a.ae, rs=a.rs, ex=a.ex, ae_rows=a.ae_rows, seed=a.seed, bad_rows=a.bad_rows)
    print(out)


if __name__ == "__main__":
    main()
