"""Write the synthetic ssCART-19 EDC export in ``source/`` (stdlib + numpy, fixed seed).

    python examples/sscart19/generate.py [--out DIR]

The records are invented. Only the aggregate figures of the published abstract (Xue et al.,
SSRN 5205125, NCT04825496) are reproduced: disposition, demographics, grade >= 3 cytopenias,
CRS, deaths, month-3 response and the time-to-event medians. The time-to-event figures are
*solved* (the infusion, relapse and last-contact days in ``INFUSED`` were chosen so the
Kaplan-Meier medians land on the published values) and then re-derived from the written
records by ``check_figures``; the script refuses to write a file set that misses any figure.
Rerunning rewrites the files byte-identically.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np

SEED = 20210409
HERE = Path(__file__).resolve().parent
CUTOFF = dt.date(2024, 11, 30)
SITE = "01"
MONTH = 30.4375  # days per month used for every month figure
ARM_DOSE = {"DL1": 1.0, "DL2": 5.0, "DL3": 10.0}  # 10^6 CAR-T cells/kg, as in study.toml

# Planned disease assessments: (visit, visit_number, days after infusion).
VISITS = (
    ("DAY 14", 1, 14), ("MONTH 1", 2, 28), ("MONTH 2", 3, 56), ("MONTH 3", 4, 90),
    ("MONTH 6", 5, 180), ("MONTH 9", 6, 270), ("MONTH 12", 7, 360), ("MONTH 18", 8, 540),
    ("MONTH 24", 9, 720), ("MONTH 30", 10, 900), ("MONTH 36", 11, 1080), ("MONTH 42", 12, 1260),
)
MONTH3_VISIT = "MONTH 3"

# The 17 infused subjects in infusion order (escalation first). Days are counted from the
# infusion (day 0). role: R = CR/CRi from day 14 on, NR = never CR/CRi, SEPTIC = dies of
# septic shock before month 3. prog = day of the RELAPSE (R) or PD (NR) assessment;
# last = last day known alive (None: a death); death = day of death.
# Why these days (AVAL = day + 1; see README.md for the arithmetic):
#   follow-up sorted 13 43 101 122 122 355 441 533 [612] 922 1001 1076 1108 1108 1226 1261 1297
#     -> median 612 d = 20.1 mo, quartiles 122 d = 4.0 mo and 1108 d = 36.4 mo;
#   PFS events 13 43 106 181 201 301 451 [676] 799 1001 -> KM median 676 d = 22.2 mo;
#   DOR (from the day-14 CR) events 187 287 437 662 [785] 987 -> KM median 785 d = 25.8 mo.
INFUSED = (
    # subj, consent,     infusion,     arm,  cohort,       role,    prog, last, death, death_cause
    ("001", "2021-04-09", "2021-05-14", "DL1", "ESCALATION", "R", None, "2024-11-30", None, None),
    ("003", "2021-05-07", "2021-06-11", "DL1", "ESCALATION", "R", None, "2024-11-22", None, None),
    ("004", "2021-06-04", "2021-07-09", "DL1", "ESCALATION", "R", None, "2024-11-15", None, None),
    ("006", "2021-07-02", "2021-08-06", "DL2", "ESCALATION", "R", 798, 1107, None, None),
    ("007", "2021-07-30", "2021-09-03", "DL2", "ESCALATION", "R", 1000, 1107, None, None),
    ("009", "2021-09-03", "2021-10-08", "DL2", "ESCALATION", "NR", 105, None, 121, "Disease progression"),
    ("011", "2021-10-08", "2021-11-12", "DL2", "ESCALATION", "NR", None, 121, None, None),
    ("013", "2021-11-12", "2021-12-17", "DL2", "ESCALATION", "R", 675, "2024-11-26", None, None),
    ("014", "2021-12-17", "2022-01-21", "DL2", "ESCALATION", "NR", None, 100, None, None),
    ("016", "2022-01-28", "2022-03-04", "DL3", "ESCALATION", "R", 300, "2024-11-28", None, None),
    ("017", "2022-04-08", "2022-05-13", "DL1", "EXPANSION", "R", 450, "2024-11-19", None, None),
    ("020", "2022-08-12", "2022-09-16", "DL1", "EXPANSION", "SEPTIC", None, None, 12, "Septic shock"),
    ("023", "2022-12-09", "2023-01-13", "DL1", "EXPANSION", "SEPTIC", None, None, 42, "Septic shock"),
    ("025", "2023-02-17", "2023-03-24", "DL1", "EXPANSION", "R", None, 611, None, None),
    ("027", "2023-05-12", "2023-06-16", "DL1", "EXPANSION", "R", None, "2024-11-29", None, None),
    ("029", "2023-08-04", "2023-09-08", "DL1", "EXPANSION", "R", 200, "2024-11-21", None, None),
    ("030", "2023-10-20", "2023-11-24", "DL1", "EXPANSION", "NR", 180, "2024-11-12", None, None),
)
CNS3_SUBJECT = "017"  # the one patient with CNS leukaemia

# Apheresed, never infused: subj, consent, arm, cohort, reason.
NOT_INFUSED = (
    ("010", "2021-09-24", "DL2", "ESCALATION", "Progressive disease before infusion"),
    ("019", "2022-06-24", "DL1", "EXPANSION", "Active lung infection before infusion"),
    ("022", "2022-11-04", "DL1", "EXPANSION", "Intracerebral haemorrhage before infusion"),
    ("026", "2023-04-14", "DL1", "EXPANSION", "Active lung infection before infusion"),
)

# Screen failures: subj, consent, reason, age (None = drawn).
SCREEN_FAILURES = (
    ("002", "2021-04-26", "Did not meet inclusion criteria: CD19-negative leukaemic blasts", None),
    ("005", "2021-06-18", "Met exclusion criteria: active hepatitis B virus infection", None),
    ("008", "2021-08-20", "Did not meet inclusion criteria: ECOG performance status 2", None),
    ("012", "2021-10-29", "Did not meet inclusion criteria: age above 65 years", 67),
    ("015", "2022-01-07", "Met exclusion criteria: active graft-versus-host disease", None),
    ("018", "2022-05-20", "Did not meet inclusion criteria: total bilirubin above 2 x ULN", None),
    ("021", "2022-10-14", "Met exclusion criteria: uncontrolled active infection", None),
    ("024", "2023-01-20", "Did not meet inclusion criteria: bone marrow blasts below 5%", None),
    ("028", "2023-07-07", "Met exclusion criteria: prior anti-CD19 CAR-T therapy", None),
    ("031", "2023-10-31", "Did not meet inclusion criteria: creatinine clearance below 60 mL/min", None),
)

# Ages of the infused 17, sorted: a[3]=a[4]=20, a[8]=39, a[12]=a[13]=51 keep median 39 and
# IQR 20-51 identical under every quartile definition.
INFUSED_AGES = (18, 19, 19, 20, 20, 23, 27, 33, 39, 42, 45, 47, 51, 51, 55, 59, 63)
N_MALE_INFUSED = 9

# Subjects whose grade >= 3 count is below 17 get a grade 1-2 event of that PT instead.
# PT -> number of infused subjects with a grade >= 3 event (published counts).
HEME_G3 = (
    ("Lymphopenia", "Lymphocytopenia", 16, (0, 2), (14, 45), (4, 4, 3)),
    ("Neutropenia", "Neutropenia", 15, (1, 5), (7, 35), (3, 4)),
    ("Leukopenia", "Leukopenia", 15, (1, 4), (7, 30), (3, 4)),
    ("Anaemia", "Anemia", 12, (2, 10), (10, 40), (3,)),
    ("Thrombocytopenia", "Thrombocytopenia", 10, (2, 8), (10, 50), (3, 4)),
)
HEME_SOC = "Blood and lymphatic system disorders"

# CRS (ASTCT): 13 of 17 subjects; grade >= 3 in 1 of 10 at DL1, 2 of 6 at DL2, 0 at DL3.
NO_CRS = ("003", "014", "017", "030")
CRS_GRADE3 = ("027", "007", "011")

# Other events: PT, SOC, verbatim, grades, onset days, duration days, relationships.
OTHER_AES = (
    ("Pyrexia", "General disorders and administration site conditions", "Fever", (1, 2), (1, 10), (1, 4), ("POSSIBLY RELATED", "RELATED")),
    ("Hypotension", "Vascular disorders", "Hypotension", (1, 2), (2, 8), (1, 4), ("POSSIBLY RELATED", "RELATED")),
    ("Hypokalaemia", "Metabolism and nutrition disorders", "Hypokalemia", (1, 2, 3), (2, 20), (3, 14), ("POSSIBLY RELATED", "UNLIKELY RELATED")),
    ("Hypoalbuminaemia", "Metabolism and nutrition disorders", "Hypoalbuminemia", (1, 2), (3, 15), (7, 30), ("POSSIBLY RELATED", "UNLIKELY RELATED")),
    ("Hyponatraemia", "Metabolism and nutrition disorders", "Hyponatremia", (1, 2), (2, 15), (3, 10), ("UNLIKELY RELATED", "POSSIBLY RELATED")),
    ("Alanine aminotransferase increased", "Investigations", "ALT increased", (1, 2), (3, 20), (5, 21), ("POSSIBLY RELATED", "UNLIKELY RELATED")),
    ("Aspartate aminotransferase increased", "Investigations", "AST elevated", (1, 2), (3, 20), (5, 21), ("POSSIBLY RELATED", "UNLIKELY RELATED")),
    ("Hypofibrinogenaemia", HEME_SOC, "Hypofibrinogenemia", (1, 2), (3, 12), (3, 14), ("POSSIBLY RELATED", "RELATED")),
    ("Febrile neutropenia", HEME_SOC, "Febrile neutropenia", (3,), (4, 14), (3, 10), ("POSSIBLY RELATED", "UNLIKELY RELATED")),
    ("Pneumonia", "Infections and infestations", "Pulmonary infection", (2, 3), (20, 80), (7, 21), ("UNLIKELY RELATED", "NOT RELATED")),
    ("Upper respiratory tract infection", "Infections and infestations", "Upper respiratory infection", (1, 2), (30, 120), (5, 14), ("NOT RELATED", "UNLIKELY RELATED")),
    ("Sinus tachycardia", "Cardiac disorders", "Sinus tachycardia", (1, 2), (1, 8), (1, 5), ("POSSIBLY RELATED", "RELATED")),
    ("Diarrhoea", "Gastrointestinal disorders", "Diarrhea", (1, 2), (2, 20), (2, 7), ("UNLIKELY RELATED", "POSSIBLY RELATED")),
    ("Nausea", "Gastrointestinal disorders", "Nausea", (1,), (1, 10), (1, 5), ("UNLIKELY RELATED", "POSSIBLY RELATED")),
    ("Headache", "Nervous system disorders", "Headache", (1,), (1, 10), (1, 3), ("UNLIKELY RELATED", "POSSIBLY RELATED")),
)

# Events with a partial start date, placed where the month is unambiguously after infusion
# (SDTMIG 3.4 section 4.4.2: keep the known components only, never impute in the source).
PARTIAL_AES = {
    "013": ("Upper respiratory tract infection", "Infections and infestations", "Upper respiratory infection",
            1, "2022-03", "2022-03-24", "NOT RELATED"),
    "014": ("Hypokalaemia", "Metabolism and nutrition disorders", "Hypokalemia",
            2, "2022-03", "2022-04", "UNLIKELY RELATED"),
}
SEPTIC_ONSET = {"020": 9, "023": 38}

LYMPHODEPLETION = (("FLUDARABINE", 30, "INJECTION, POWDER, LYOPHILIZED, FOR SOLUTION"),
                   ("CYCLOPHOSPHAMIDE", 300, "INJECTION, POWDER, FOR SOLUTION"))
LD_DAYS = (-5, -4, -3)

SUBJECT_COLUMNS = ("SUBJNO", "SITENO", "informed_consent_date", "age", "age_unit", "sex", "race", "ethnicity",
                   "country", "screening_outcome", "screen_failure_reason", "arm_code", "cohort", "apheresis_date",
                   "infusion_date", "not_infused_reason", "cns_status", "death_date", "death_cause",
                   "last_known_alive_date")
AE_COLUMNS = ("SUBJNO", "ae_id", "verbatim_term", "preferred_term", "system_organ_class", "soc_code", "start_date", "end_date",
              "grade", "grading_scale", "serious", "serious_death", "serious_life_threatening",
              "serious_hospitalization", "serious_disability", "serious_congenital", "serious_other",
              "relationship", "action_taken", "outcome")
RS_COLUMNS = ("SUBJNO", "visit", "visit_number", "assessment_date", "overall_response", "mrd_status", "mrd_method",
              "marrow_blasts_pct", "evaluator")
# MedDRA primary SOC codes (the coding export carries them; AEBDSYCD/AESOCCD are Expected in SDTMIG 3.4)
SOC_CODES = {
    "Blood and lymphatic system disorders": 10005329, "Cardiac disorders": 10007541,
    "Gastrointestinal disorders": 10017947, "General disorders and administration site conditions": 10018065,
    "Immune system disorders": 10021428, "Infections and infestations": 10021881, "Investigations": 10022891,
    "Metabolism and nutrition disorders": 10027433, "Nervous system disorders": 10029205,
    "Vascular disorders": 10047065,
}
SERIOUS_FIELDS = ("serious_death", "serious_life_threatening", "serious_hospitalization", "serious_disability",
                  "serious_congenital", "serious_other")


class Rand:
    """Draws built on uniform doubles only, whose stream numpy keeps stable across releases."""

    def __init__(self, seed: int):
        self._g = np.random.default_rng(seed)

    def u(self) -> float:
        return float(self._g.random())

    def randint(self, lo: int, hi: int) -> int:  # inclusive
        return lo + min(int(self.u() * (hi - lo + 1)), hi - lo)

    def pick(self, seq):
        return seq[self.randint(0, len(seq) - 1)]

    def chance(self, p: float) -> bool:
        return self.u() < p

    def permute(self, seq) -> list:
        keys = [self.u() for _ in seq]
        return [x for _, x in sorted(zip(keys, seq), key=lambda kx: kx[0])]


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def iso(day: dt.date) -> str:
    return day.isoformat()


# --------------------------------------------------------------------------- subjects
def build_subjects(rng: Rand) -> list[dict]:
    ages = dict(zip([p[0] for p in INFUSED], rng.permute(list(INFUSED_AGES))))
    sexes = dict(zip([p[0] for p in INFUSED], rng.permute(["M"] * N_MALE_INFUSED + ["F"] * (17 - N_MALE_INFUSED))))
    rows = []
    for subj, consent, inf, arm, cohort, role, prog, last, death, cause in INFUSED:
        start = d(inf)
        death_date = iso(start + dt.timedelta(days=death)) if death is not None else None
        if death_date:
            last_alive = death_date  # known alive up to the day of death
        elif isinstance(last, int):
            last_alive = iso(start + dt.timedelta(days=last))
        else:
            last_alive = last
        rows.append(_subject(subj, consent, ages[subj], sexes[subj], "PASSED", arm_code=arm, cohort=cohort,
                             apheresis_date=iso(d(consent) + dt.timedelta(days=rng.randint(5, 9))), infusion_date=inf,
                             cns_status="CNS3" if subj == CNS3_SUBJECT else "CNS1", death_date=death_date,
                             death_cause=cause, last_known_alive_date=last_alive))
    for subj, consent, arm, cohort, reason in NOT_INFUSED:
        aph = d(consent) + dt.timedelta(days=rng.randint(5, 9))
        rows.append(_subject(subj, consent, rng.randint(19, 64), rng.pick(("M", "F")), "PASSED", arm_code=arm,
                             cohort=cohort, apheresis_date=iso(aph), not_infused_reason=reason, cns_status="CNS1",
                             last_known_alive_date=iso(aph + dt.timedelta(days=rng.randint(10, 25)))))
    for subj, consent, reason, age in SCREEN_FAILURES:
        rows.append(_subject(subj, consent, age if age is not None else rng.randint(18, 65), rng.pick(("M", "F")),
                             "FAILED", screen_failure_reason=reason,
                             last_known_alive_date=iso(d(consent) + dt.timedelta(days=rng.randint(3, 12)))))
    return sorted(rows, key=lambda r: r["SUBJNO"])


def _subject(subj, consent, age, sex, outcome, **kw) -> dict:
    row = dict.fromkeys(SUBJECT_COLUMNS)
    row.update(SUBJNO=subj, SITENO=SITE, informed_consent_date=consent, age=age, age_unit="YEARS", sex=sex,
               race="ASIAN", ethnicity="NOT HISPANIC OR LATINO", country="CHN", screening_outcome=outcome)
    row.update(kw)
    return row


# --------------------------------------------------------------------------- exposure
def build_exposure() -> list[dict]:
    out = []
    for subj, _, inf, arm, *_ in INFUSED:
        start = d(inf)
        for day in LD_DAYS:
            for name, dose, form in LYMPHODEPLETION:
                out.append({"subject_id": subj, "treatment": name, "start_date": iso(start + dt.timedelta(days=day)),
                            "dose": dose, "dose_unit": "mg/m2", "route": "INTRAVENOUS", "dose_form": form})
        out.append({"subject_id": subj, "treatment": "ssCART-19", "start_date": inf, "dose": ARM_DOSE[arm],
                    "dose_unit": "10^6/kg", "route": "INTRAVENOUS", "dose_form": "INJECTION, SUSPENSION"})
    return out


# --------------------------------------------------------------------------- response
def _last_day(plan) -> int:
    """Last day (from infusion) the subject was followed: death or last contact."""
    _, _, inf, _, _, _, _, last, death, _ = plan
    if death is not None:
        return death
    if isinstance(last, int):
        return last
    return (d(last) - d(inf)).days


def build_response(rng: Rand) -> list[dict]:
    rows = []
    for plan in INFUSED:
        subj, _, inf, _, _, role, prog, _, _, _ = plan
        start, stop = d(inf), min(_last_day(plan), (CUTOFF - d(inf)).days)
        prev_num, blasts = 0, float(rng.randint(15, 80))
        for visit, num, day in VISITS:
            if prog is not None and day >= prog:
                break
            if day > stop:
                break
            if role == "R":
                resp = ("CR", "CRi")[rng.chance(0.35)] if day == 14 else "CR"
                mrd = "POSITIVE" if day == 14 and rng.chance(0.3) else "NEGATIVE"
                pct = round(rng.u() * 2.5, 1)
            else:
                resp, mrd = "NR", "POSITIVE"
                blasts = min(95.0, max(6.0, blasts + rng.randint(-10, 12)))
                pct = blasts
            rows.append(_rs(subj, visit, num, start + dt.timedelta(days=day), resp, mrd, pct))
            prev_num = num
        if prog is not None and prog <= stop:
            sched = next((v for v in VISITS if v[2] == prog), None)
            visit, num = (sched[0], sched[1]) if sched else ("UNSCHEDULED", prev_num + 0.1)
            resp = "RELAPSE" if role == "R" else "PD"
            pct = float(rng.randint(8, 60)) if role == "R" else min(98.0, blasts + rng.randint(8, 20))
            rows.append(_rs(subj, visit, num, start + dt.timedelta(days=prog), resp, "POSITIVE", pct))
    return rows


def _rs(subj, visit, num, day, resp, mrd, pct) -> dict:
    return {"SUBJNO": subj, "visit": visit, "visit_number": f"{num:g}", "assessment_date": iso(day),
            "overall_response": resp, "mrd_status": mrd, "mrd_method": "FLOW CYTOMETRY",
            "marrow_blasts_pct": f"{pct:.1f}", "evaluator": "INVESTIGATOR"}


# --------------------------------------------------------------------------- adverse events
def build_adverse_events(rng: Rand) -> list[dict]:
    infused = [p[0] for p in INFUSED]
    # who has a grade >= 3 event of each cytopenia PT (published subject counts)
    heme_high = {pt: set(rng.permute(infused)[:n]) for pt, _, n, *_ in HEME_G3}
    rows = []
    for plan in INFUSED:
        subj, _, inf, _, _, _, _, _, death, _ = plan
        start, stop = d(inf), min(_last_day(plan), (CUTOFF - d(inf)).days)
        events = []  # (start_day, end_day|None, pt, soc, verbatim, grade, scale, rel, serious_flags)

        def add(pt, soc, verb, grade, on, dur, rel, scale="CTCAE v5.0", serious=()):
            if on > stop:
                return
            events.append((on, on + dur, pt, soc, verb, grade, scale, rel, serious))

        for pt, verb, _, onset, dur, grades in HEME_G3:
            rel = rng.pick(("RELATED", "POSSIBLY RELATED"))
            grade = rng.pick(grades) if subj in heme_high[pt] else rng.randint(1, 2)
            add(pt, HEME_SOC, verb, grade, rng.randint(*onset), rng.randint(*dur), rel)
            if rng.chance(0.25):  # a later second episode: subjects still count once per PT
                again = rng.pick((2, 3)) if subj in heme_high[pt] else rng.randint(1, 2)
                add(pt, HEME_SOC, verb, again, rng.randint(50, 90), rng.randint(7, 21), rel)
        if subj not in NO_CRS:
            grade = 3 if subj in CRS_GRADE3 else rng.randint(1, 2)
            on = rng.randint(1, 5)
            add("Cytokine release syndrome", "Immune system disorders", "CRS", grade, on, rng.randint(3, 9), "RELATED",
                scale="ASTCT", serious=("serious_hospitalization",) if grade >= 3 else ())
            if grade >= 3:
                add("Hypotension", "Vascular disorders", "Hypotension", 3, on + 1, rng.randint(2, 4), "RELATED",
                    serious=("serious_other",))
        pool = [a for a in OTHER_AES if not (a[0] == "Hypotension" and subj in CRS_GRADE3)]
        for pt, soc, verb, grades, onset, dur, rels in rng.permute(pool)[: rng.randint(3, 6)]:
            grade = rng.pick(grades)
            serious = ("serious_hospitalization",) if pt == "Pneumonia" and grade >= 3 else ()
            add(pt, soc, verb, grade, rng.randint(*onset), rng.randint(*dur), rng.pick(rels), serious=serious)
        if subj in SEPTIC_ONSET:
            on = SEPTIC_ONSET[subj]
            add("Septic shock", "Infections and infestations", "Septic shock", 5, on, death - on, "NOT RELATED",
                serious=("serious_death", "serious_life_threatening"))
        rows += _ae_rows(subj, start, stop, death, sorted(events, key=lambda e: (e[0], e[2])), rng)
    return rows


def _ae_rows(subj, start, stop, death, events, rng) -> list[dict]:
    rows = []
    for n, (on, end, pt, soc, verb, grade, scale, rel, serious) in enumerate(events, 1):
        if grade == 5:
            end_txt, outcome = iso(start + dt.timedelta(days=end)), "FATAL"
        elif end > stop:  # still present at death or last contact: ongoing, no end date
            end_txt = None
            outcome = "NOT RECOVERED/NOT RESOLVED" if death is not None or rng.chance(0.5) else "RECOVERING/RESOLVING"
        else:
            end_txt, outcome = iso(start + dt.timedelta(days=end)), "RECOVERED/RESOLVED"
        row = dict.fromkeys(AE_COLUMNS)
        row.update(SUBJNO=subj, ae_id=str(n), verbatim_term=verb, preferred_term=pt, system_organ_class=soc,
                   soc_code=SOC_CODES[soc], start_date=iso(start + dt.timedelta(days=on)), end_date=end_txt, grade=grade, grading_scale=scale,
                   serious="Y" if serious else "N", relationship=rel,
                   # single infusion already given: nothing left to change (CDISC ACN "NOT APPLICABLE")
                   action_taken="NOT APPLICABLE", outcome=outcome)
        if serious:
            row.update({f: ("Y" if f in serious else "N") for f in SERIOUS_FIELDS})
        rows.append(row)
    if subj in PARTIAL_AES:
        pt, soc, verb, grade, st, en, rel = PARTIAL_AES[subj]
        row = dict.fromkeys(AE_COLUMNS)
        row.update(SUBJNO=subj, ae_id=str(len(rows) + 1), verbatim_term=verb, preferred_term=pt,
                   system_organ_class=soc, soc_code=SOC_CODES[soc], start_date=st, end_date=en, grade=grade, grading_scale="CTCAE v5.0",
                   serious="N", relationship=rel, action_taken="NOT APPLICABLE", outcome="RECOVERED/RESOLVED")
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- figures
def km(data: list[tuple[int, bool]]) -> tuple[int | None, list[tuple[int, Fraction]]]:
    """Kaplan-Meier steps (exact fractions) and median = first time with S(t) <= 1/2."""
    s, at_risk, steps = Fraction(1), len(data), []
    for t in sorted({t for t, _ in data}):
        events = sum(1 for u, e in data if u == t and e)
        if events:
            s *= Fraction(at_risk - events, at_risk)
            steps.append((t, s))
        at_risk -= sum(1 for u, _ in data if u == t)
    return next((t for t, v in steps if v <= Fraction(1, 2)), None), steps


def tte(subjects, response) -> dict[str, list[tuple[int, bool]]]:
    """OS, PFS, DOR, EFS (AVAL = ADT - STARTDT + 1 days) from the source records."""
    by_subj: dict[str, list[dict]] = {}
    for r in sorted(response, key=lambda r: r["assessment_date"]):
        by_subj.setdefault(r["SUBJNO"], []).append(r)
    out = {"OS": [], "PFS": [], "DOR": [], "EFS": []}
    for s in subjects:
        if not s["infusion_date"]:
            continue
        st = d(s["infusion_date"])
        death = d(s["death_date"]) if s["death_date"] else None
        aval = lambda day: (day - st).days + 1  # noqa: E731
        out["OS"].append((aval(death), True) if death else (aval(d(s["last_known_alive_date"])), False))
        rs = by_subj.get(s["SUBJNO"], [])
        prog = next((d(r["assessment_date"]) for r in rs if r["overall_response"] in ("RELAPSE", "PD")), None)
        last = d(rs[-1]["assessment_date"]) if rs else st
        ev = min([x for x in (prog, death) if x], default=None)
        out["PFS"].append((aval(ev), True) if ev else (aval(last), False))
        cr = next((d(r["assessment_date"]) for r in rs if r["overall_response"] in ("CR", "CRi")), None)
        if cr:
            out["DOR"].append(((ev - cr).days + 1, True) if ev else ((last - cr).days + 1, False))
        m3 = next((r for r in rs if r["visit"] == MONTH3_VISIT), None)
        if not cr or (m3 is not None and cr > d(m3["assessment_date"])):
            out["EFS"].append((1, True))  # no CR/CRi by month 3: event on day 1
        else:
            out["EFS"].append((aval(ev), True) if ev else (aval(last), False))
    return out


def months(days: float) -> float:
    return round(days / MONTH, 1)


def check_figures(subjects, aes, response, exposure) -> list[str]:
    """Every published figure, recomputed from the records; returns the failures."""
    bad: list[str] = []

    def want(label, got, expected):
        if got != expected:
            bad.append(f"{label}: got {got!r}, expected {expected!r}")

    infused = [s for s in subjects if s["infusion_date"]]
    fails = [s for s in subjects if s["screening_outcome"] == "FAILED"]
    want("screened", len(subjects), 31)
    want("first consent", min(s["informed_consent_date"] for s in subjects), "2021-04-09")
    want("last consent", max(s["informed_consent_date"] for s in subjects), "2023-10-31")
    want("screen failures", len(fails), 10)
    want("exclusion", sum(s["screen_failure_reason"].startswith("Met exclusion criteria") for s in fails), 4)
    want("inclusion", sum(s["screen_failure_reason"].startswith("Did not meet inclusion criteria") for s in fails), 6)
    want("not infused", sum(bool(s["apheresis_date"]) and not s["infusion_date"] for s in subjects), 4)
    want("infused", len(infused), 17)
    by_part = sorted((s["infusion_date"], s["cohort"], s["arm_code"]) for s in infused)
    want("order", [(c, a) for _, c, a in by_part],
         [("ESCALATION", "DL1")] * 3 + [("ESCALATION", "DL2")] * 6 + [("ESCALATION", "DL3")] + [("EXPANSION", "DL1")] * 7)
    ages = sorted(s["age"] for s in infused)
    want("age quartiles", (ages[3], ages[4], ages[8], ages[12], ages[13]), (20, 20, 39, 51, 51))
    want("sex", sum(s["sex"] == "M" for s in infused), 9)
    want("CNS3", sum(s["cns_status"] == "CNS3" for s in infused), 1)
    ids = {s["SUBJNO"]: s for s in infused}
    for pt, _, n, *_ in HEME_G3:
        want(f"grade>=3 {pt}", len({a["SUBJNO"] for a in aes if a["preferred_term"] == pt and a["grade"] >= 3}), n)
    crs = [a for a in aes if a["preferred_term"] == "Cytokine release syndrome"]
    want("CRS subjects", len({a["SUBJNO"] for a in crs}), 13)
    for arm, n in (("DL1", 1), ("DL2", 2), ("DL3", 0)):
        want(f"CRS>=3 {arm}", len({a["SUBJNO"] for a in crs if a["grade"] >= 3 and ids[a["SUBJNO"]]["arm_code"] == arm}), n)
    septic = sorted((d(s["death_date"]) - d(s["infusion_date"])).days for s in infused if s["death_cause"] == "Septic shock")
    want("septic deaths", septic, [12, 42])
    m3 = {r["SUBJNO"]: r for r in response if r["visit"] == MONTH3_VISIT}
    resp = {k for k, r in m3.items() if r["overall_response"] in ("CR", "CRi")}
    want("evaluable", len(m3), 15)
    want("responders", len(resp), 11)
    want("MRD- responders", sum(m3[k]["mrd_status"] == "NEGATIVE" for k in resp), 11)
    want("DL1 evaluable/resp", (sum(ids[k]["arm_code"] == "DL1" for k in m3), sum(ids[k]["arm_code"] == "DL1" for k in resp)), (8, 7))
    t = tte(subjects, response)
    for name, med in (("PFS", 22.2), ("DOR", 25.8)):
        m, steps = km(t[name])
        want(f"{name} median", months(m) if m else None, med)
        if any(v == Fraction(1, 2) for _, v in steps):
            bad.append(f"{name}: a KM step equals exactly 0.5")
    want("DOR n", len(t["DOR"]), 11)
    want("OS median", km(t["OS"])[0], None)
    fu = sorted(a for a, _ in t["OS"])
    want("follow-up", (months(float(np.median(fu))), months(float(np.percentile(fu, 25))), months(float(np.percentile(fu, 75)))), (20.1, 4.0, 36.4))
    want("follow-up ties", (fu[3] == fu[4], fu[12] == fu[13]), (True, True))
    want("ssCART-19 records", sorted(e["subject_id"] for e in exposure if e["treatment"] == "ssCART-19"), sorted(ids))
    return bad


# --------------------------------------------------------------------------- output
def write_csv(path: Path, columns, rows, encoding: str) -> None:
    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow(["" if r[c] is None else r[c] for c in columns])


def write_jsonl(path: Path, rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps({k: v for k, v in r.items() if v is not None}, ensure_ascii=False) + "\n")


def build():
    rng = Rand(SEED)
    return build_subjects(rng), build_adverse_events(rng), build_response(rng), build_exposure()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "source", help="output folder (default: source/ here)")
    args = ap.parse_args(argv)
    subjects, aes, response, exposure = build()
    bad = check_figures(subjects, aes, response, exposure)
    if bad:
        print("published figures not met:\n  " + "\n  ".join(bad), file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "subjects.csv", SUBJECT_COLUMNS, subjects, "utf-8-sig")  # BOM on purpose
    write_csv(args.out / "adverse_events.csv", AE_COLUMNS, aes, "utf-8")
    write_csv(args.out / "response.csv", RS_COLUMNS, response, "utf-8")
    write_jsonl(args.out / "exposure.jsonl", exposure)
    print(f"wrote {len(subjects)} subjects, {len(aes)} AEs, {len(response)} assessments, "
          f"{len(exposure)} administrations to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
