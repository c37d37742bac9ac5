"""The synthetic ssCART-19 export reproduces the published figures (Xue et al., NCT04825496).

Reads examples/sscart19/source with the standard library only, so it checks the data itself,
independently of the converter. Time-to-event rules are those of examples/sscart19/README.md:
AVAL = ADT - STARTDT + 1 days, months = AVAL / 30.4375, KM median = first t with S(t) <= 1/2.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import statistics
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

STUDY = Path(__file__).resolve().parents[1] / "examples" / "sscart19"
SRC = STUDY / "source"
FILES = ("subjects.csv", "adverse_events.csv", "response.csv", "exposure.jsonl")
MONTH = 30.4375
CUTOFF = "2024-11-30"
ARM_DOSE = {"DL1": 1.0, "DL2": 5.0, "DL3": 10.0}


def _csv(name: str, encoding: str = "utf-8") -> list[dict]:
    with open(SRC / name, newline="", encoding=encoding) as fh:
        return [{k: (v or None) for k, v in row.items()} for row in csv.DictReader(fh)]


@pytest.fixture(scope="module")
def data():
    subjects = _csv("subjects.csv", "utf-8-sig")
    aes = _csv("adverse_events.csv")
    rs = _csv("response.csv")
    with open(SRC / "exposure.jsonl", encoding="utf-8") as fh:
        ex = [json.loads(line) for line in fh]
    return subjects, aes, rs, ex


@pytest.fixture(scope="module")
def infused(data):
    return {s["SUBJNO"]: s for s in data[0] if s["infusion_date"]}


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def km(data: list[tuple[int, bool]]):
    s, at_risk, steps = Fraction(1), len(data), []
    for t in sorted({t for t, _ in data}):
        events = sum(1 for u, e in data if u == t and e)
        if events:
            s *= Fraction(at_risk - events, at_risk)
            steps.append((t, s))
        at_risk -= sum(1 for u, _ in data if u == t)
    return next((t for t, v in steps if v <= Fraction(1, 2)), None), steps


def months(days) -> float:
    return round(days / MONTH, 1)


def tte(subjects: dict, rs: list[dict]) -> dict[str, list[tuple[int, bool]]]:
    out = {"OS": [], "PFS": [], "DOR": []}
    for sid, s in subjects.items():
        st = d(s["infusion_date"])
        death = d(s["death_date"]) if s["death_date"] else None
        own = sorted((r for r in rs if r["SUBJNO"] == sid), key=lambda r: r["assessment_date"])
        out["OS"].append(((death - st).days + 1, True) if death else ((d(s["last_known_alive_date"]) - st).days + 1, False))
        prog = next((d(r["assessment_date"]) for r in own if r["overall_response"] in ("RELAPSE", "PD")), None)
        last = d(own[-1]["assessment_date"]) if own else st
        ev = min([x for x in (prog, death) if x], default=None)
        out["PFS"].append(((ev - st).days + 1, True) if ev else ((last - st).days + 1, False))
        cr = next((d(r["assessment_date"]) for r in own if r["overall_response"] in ("CR", "CRi")), None)
        if cr:
            out["DOR"].append(((ev - cr).days + 1, True) if ev else ((last - cr).days + 1, False))
    return out


def test_km_helper_on_a_known_case():
    # 4 subjects, events at 1 and 3, censored at 2: S = 3/4, then 3/4 * 1/2 = 3/8
    med, steps = km([(1, True), (2, False), (3, True), (4, False)])
    assert steps == [(1, Fraction(3, 4)), (3, Fraction(3, 8))] and med == 3


def test_encoding_and_line_endings():
    assert (SRC / "subjects.csv").read_bytes().startswith(b"\xef\xbb\xbfSUBJNO,SITENO,")
    for name in FILES:
        raw = (SRC / name).read_bytes()
        assert b"\r" not in raw, name
        if name != "subjects.csv":
            assert not raw.startswith(b"\xef\xbb\xbf"), name


def test_disposition(data, infused):
    subjects = data[0]
    assert len(subjects) == 31
    assert [s["SUBJNO"] for s in subjects] == [f"{i:03d}" for i in range(1, 32)]
    assert {s["SITENO"] for s in subjects} == {"01"}
    consents = sorted(s["informed_consent_date"] for s in subjects)
    assert consents[0] == "2021-04-09" and consents[-1] <= "2023-10-31"
    fails = [s for s in subjects if s["screening_outcome"] == "FAILED"]
    assert len(fails) == 10
    assert sum(s["screen_failure_reason"].startswith("Met exclusion criteria") for s in fails) == 4
    assert sum(s["screen_failure_reason"].startswith("Did not meet inclusion criteria") for s in fails) == 6
    assert all(not (s["arm_code"] or s["cohort"] or s["apheresis_date"] or s["infusion_date"]) for s in fails)
    dropped = [s for s in subjects if s["screening_outcome"] == "PASSED" and not s["infusion_date"]]
    reasons = sorted(s["not_infused_reason"].lower() for s in dropped)
    assert len(dropped) == 4 and all(s["arm_code"] and s["cohort"] and s["apheresis_date"] for s in dropped)
    assert sum("lung infection" in r for r in reasons) == 2
    assert sum("intracerebral haemorrhage" in r for r in reasons) == 1
    assert sum("progressive disease" in r for r in reasons) == 1
    order = [(s["cohort"], s["arm_code"]) for s in sorted(infused.values(), key=lambda s: s["infusion_date"])]
    assert order == ([("ESCALATION", "DL1")] * 3 + [("ESCALATION", "DL2")] * 6 + [("ESCALATION", "DL3")]
                     + [("EXPANSION", "DL1")] * 7)


def test_demographics(infused):
    ages = sorted(int(s["age"]) for s in infused.values())
    assert len(ages) == 17 and 18 <= ages[0] and ages[-1] <= 65
    assert statistics.median(ages) == 39
    for method in ("exclusive", "inclusive"):
        q = statistics.quantiles(ages, n=4, method=method)
        assert (q[0], q[2]) == (20, 51), method
    assert sum(s["sex"] == "M" for s in infused.values()) == 9
    assert sum(s["sex"] == "F" for s in infused.values()) == 8
    assert {s["race"] for s in infused.values()} == {"ASIAN"} and {s["country"] for s in infused.values()} == {"CHN"}
    assert sorted(s["cns_status"] for s in infused.values()).count("CNS3") == 1
    assert {s["cns_status"] for s in infused.values()} == {"CNS1", "CNS3"}


def test_exposure(data, infused):
    _, _, _, ex = data
    assert {e["subject_id"] for e in ex} == set(infused)
    for sid, s in infused.items():
        own = [e for e in ex if e["subject_id"] == sid]
        car = [e for e in own if e["treatment"] == "ssCART-19"]
        assert len(car) == 1 and car[0]["start_date"] == s["infusion_date"]
        assert car[0]["dose"] == ARM_DOSE[s["arm_code"]] and car[0]["dose_unit"] == "10^6/kg"
        inf = d(s["infusion_date"])
        for name, dose in (("FLUDARABINE", 30), ("CYCLOPHOSPHAMIDE", 300)):
            days = sorted((d(e["start_date"]) - inf).days for e in own if e["treatment"] == name)
            assert days == [-5, -4, -3], (sid, name)
            assert {(e["dose"], e["dose_unit"], e["route"]) for e in own if e["treatment"] == name} == {
                (dose, "mg/m2", "INTRAVENOUS")}
    keys = [(e["subject_id"], e["treatment"], e["start_date"]) for e in ex]
    assert len(keys) == len(set(keys))


def test_adverse_event_figures(data, infused):
    _, aes, _, _ = data
    assert {a["SUBJNO"] for a in aes} <= set(infused)

    def subjects(pt, min_grade=1, arm=None):
        return {a["SUBJNO"] for a in aes if a["preferred_term"] == pt and int(a["grade"]) >= min_grade
                and (arm is None or infused[a["SUBJNO"]]["arm_code"] == arm)}

    for pt, n in (("Lymphopenia", 16), ("Neutropenia", 15), ("Leukopenia", 15), ("Anaemia", 12), ("Thrombocytopenia", 10)):
        assert len(subjects(pt, 3)) == n, pt
        assert {a["system_organ_class"] for a in aes if a["preferred_term"] == pt} == {"Blood and lymphatic system disorders"}
    assert len(subjects("Cytokine release syndrome")) == 13
    assert (len(subjects("Cytokine release syndrome", 3, "DL1")), len(subjects("Cytokine release syndrome", 3, "DL2")),
            len(subjects("Cytokine release syndrome", 3, "DL3"))) == (1, 2, 0)
    assert {(a["grading_scale"], a["system_organ_class"]) for a in aes if a["preferred_term"] == "Cytokine release syndrome"} == {
        ("ASTCT", "Immune system disorders")}
    assert {a["grading_scale"] for a in aes if a["preferred_term"] != "Cytokine release syndrome"} == {"CTCAE v5.0"}
    assert not any("neurotoxicity" in (a["preferred_term"] + a["verbatim_term"]).lower() for a in aes)
    fatal = [a for a in aes if a["outcome"] == "FATAL"]
    assert len(fatal) == 2 and all(
        (a["preferred_term"], a["grade"], a["serious"], a["serious_death"], a["relationship"])
        == ("Septic shock", "5", "Y", "Y", "NOT RELATED") for a in fatal)
    crit = ("serious_death", "serious_life_threatening", "serious_hospitalization", "serious_disability",
            "serious_congenital", "serious_other")
    assert all(any(a[c] == "Y" for c in crit) for a in aes if a["serious"] == "Y")
    assert sum(len(a["start_date"]) == 7 for a in aes) >= 2 and any(a["end_date"] and len(a["end_date"]) == 7 for a in aes)
    keys = [(a["SUBJNO"], a["ae_id"]) for a in aes]
    assert len(keys) == len(set(keys))


def test_dates_are_consistent(data, infused):
    _, aes, rs, _ = data
    for a in aes:
        s = infused[a["SUBJNO"]]
        end_of_life = s["death_date"] or s["last_known_alive_date"]
        assert a["start_date"] >= s["infusion_date"][: len(a["start_date"])]
        for v in filter(None, (a["start_date"], a["end_date"])):
            assert v <= end_of_life[: len(v)] and v <= CUTOFF[: len(v)], a
        if a["end_date"]:
            n = min(len(a["start_date"]), len(a["end_date"]))
            assert a["end_date"][:n] >= a["start_date"][:n], a
    for r in rs:
        s = infused[r["SUBJNO"]]
        assert s["infusion_date"] < r["assessment_date"] <= s["last_known_alive_date"] <= CUTOFF
        assert not s["death_date"] or r["assessment_date"] <= s["death_date"]
    for s in infused.values():
        assert s["last_known_alive_date"] <= CUTOFF
        assert s["informed_consent_date"] < s["apheresis_date"] < s["infusion_date"]


def test_month3_response(data, infused):
    _, _, rs, _ = data
    m3 = {r["SUBJNO"]: r for r in rs if r["visit"] == "MONTH 3"}
    responders = {k for k, r in m3.items() if r["overall_response"] in ("CR", "CRi")}
    assert len(m3) == 15 and len(responders) == 11  # ORR 73%
    assert all(m3[k]["mrd_status"] == "NEGATIVE" and m3[k]["mrd_method"] == "FLOW CYTOMETRY" for k in responders)
    dl1 = {k for k in m3 if infused[k]["arm_code"] == "DL1"}
    assert (len(dl1), len(dl1 & responders)) == (8, 7)  # ORR 88% (7/8) at 1x10^6/kg
    assert {m3[k]["overall_response"] for k in set(m3) - responders} == {"NR"}
    for r in rs:
        blasts = float(r["marrow_blasts_pct"])
        assert blasts < 5 if r["overall_response"] in ("CR", "CRi") else blasts >= 5, r
    ever = {r["SUBJNO"] for r in rs if r["overall_response"] in ("CR", "CRi")}
    assert ever == responders
    keys = [(r["SUBJNO"], r["assessment_date"]) for r in rs]
    assert len(keys) == len(set(keys))


def test_deaths(infused):
    deaths = {k: s for k, s in infused.items() if s["death_date"]}
    septic = sorted((d(s["death_date"]) - d(s["infusion_date"])).days for s in deaths.values()
                    if s["death_cause"] == "Septic shock")
    assert septic == [12, 42]
    assert all(s["death_cause"] in ("Septic shock", "Disease progression") for s in deaths.values())
    assert len(deaths) <= 5


def test_time_to_event_medians(data, infused):
    t = tte(infused, data[2])
    os_median, os_steps = km(t["OS"])
    assert os_median is None and min(v for _, v in os_steps) > Fraction(1, 2)
    pfs_median, pfs_steps = km(t["PFS"])
    assert months(pfs_median) == 22.2
    assert len(t["DOR"]) == 11
    dor_median, dor_steps = km(t["DOR"])
    assert months(dor_median) == 25.8
    for steps in (pfs_steps, dor_steps):
        assert Fraction(1, 2) not in {v for _, v in steps}  # every median convention agrees


def test_follow_up(data, infused):
    fu = sorted(a for a, _ in tte(infused, data[2])["OS"])
    assert months(statistics.median(fu)) == 20.1
    assert fu[3] == fu[4] and fu[12] == fu[13]
    for method in ("exclusive", "inclusive"):
        q = statistics.quantiles(fu, n=4, method=method)
        assert (months(q[0]), months(q[2])) == (4.0, 36.4), method


def test_regeneration_is_byte_identical(tmp_path):
    pytest.importorskip("numpy")
    subprocess.run([sys.executable, str(STUDY / "generate.py"), "--out", str(tmp_path)], check=True,
                   capture_output=True)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (SRC / name).read_bytes(), name
