"""Cross-record rules: relations between forms that no single row can show.

Partial dates are compared by the interval of days they can denote: a rule fires only when
every possible reading of the dates breaks it (e.g. end "2021-05" is not before start "2021-05-10").
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from converters.problems import ERROR, WARNING, Problem
from schemas.config import StudyConfig
from schemas.dates import date_bounds
from schemas.source import FORMS, SourceRecord


@dataclass
class FormRecords:
    file: str
    records: list[SourceRecord]
    rows: list[int]

    def __iter__(self):
        return iter(zip(self.records, self.rows))


def _p(form: FormRecords, row: int, field: str, value, rule: str, message: str, severity: str = ERROR) -> Problem:
    return Problem(form.file, row, field, "" if value is None else str(value), rule, message, severity)


def _earliest(value):
    b = date_bounds(value)
    return b[0] if b else None


def _latest(value):
    b = date_bounds(value)
    return b[1] if b else None


DATE_FIELDS = {
    "subjects": ("informed_consent_date", "apheresis_date", "infusion_date", "death_date", "last_known_alive_date"),
    "adverse_events": ("start_date", "end_date"),
    "response": ("assessment_date",),
    "exposure": ("start_date", "end_date"),
}
START_END = {"adverse_events": ("start_date", "end_date"), "exposure": ("start_date", "end_date")}


def check_cross_records(config: StudyConfig, forms: dict[str, FormRecords],
                        rejected_subjects: frozenset[str] = frozenset()) -> list[Problem]:
    """``rejected_subjects``: ids of subject rows that failed field rules (already reported there)."""
    problems: list[Problem] = []
    problems += _duplicates(forms)
    subjects = {s.subject_id: s for s, _ in forms["subjects"]}
    problems += _subjects(config, forms["subjects"])
    cutoff = dt.date.fromisoformat(config.study.data_cutoff)
    for name, form in forms.items():
        for rec, row in form:
            if name != "subjects" and rec.subject_id not in subjects and rec.subject_id not in rejected_subjects:
                problems.append(_p(form, row, "subject_id", rec.subject_id, "SRC-SUBJECT-UNKNOWN",
                                   f"subject '{rec.subject_id}' is not in the subjects file"))
            for f in DATE_FIELDS[name]:
                value = getattr(rec, f)
                if value and _earliest(value) > cutoff:
                    problems.append(_p(form, row, f, value, "SRC-AFTER-CUTOFF",
                                       f"date is after the data cutoff {config.study.data_cutoff}"))
            if name in START_END:
                s, e = START_END[name]
                start, end = getattr(rec, s), getattr(rec, e)
                if start and end and _latest(end) < _earliest(start):
                    problems.append(_p(form, row, e, end, "SRC-END-BEFORE-START", f"ends before it starts ({start})"))
            subj = subjects.get(rec.subject_id)
            if name != "subjects" and subj is not None and subj.death_date:
                for f in DATE_FIELDS[name]:
                    value = getattr(rec, f)
                    if value and _earliest(value) > _latest(subj.death_date):
                        problems.append(_p(form, row, f, value, "SRC-AFTER-DEATH",
                                           f"date is after the subject's death ({subj.death_date})"))
    problems += _adverse_events(forms["adverse_events"], subjects)
    problems += _exposure(config, forms["exposure"], forms["subjects"])
    return problems


def _duplicates(forms: dict[str, FormRecords]) -> list[Problem]:
    out = []
    for name, form in forms.items():
        keys = FORMS[name][1]
        counts = Counter(tuple(getattr(r, k) for k in keys) for r in form.records)
        seen: set = set()
        for rec, row in form:
            key = tuple(getattr(rec, k) for k in keys)
            if counts[key] > 1:
                if key in seen:
                    out.append(_p(form, row, "+".join(keys), "/".join(map(str, key)), "SRC-DUPLICATE",
                                  f"duplicate record: another row has the same {', '.join(keys)}"))
                seen.add(key)
    return out


def _subjects(config: StudyConfig, form: FormRecords) -> list[Problem]:
    out = []
    for s, row in form:
        if s.screening_outcome == "FAILED":
            for f in ("arm_code", "apheresis_date", "infusion_date"):
                if getattr(s, f):
                    out.append(_p(form, row, f, getattr(s, f), "SRC-SCREEN-FAILURE",
                                  f"a screen failure has no {f.replace('_', ' ')}"))
        else:
            if not s.arm_code:
                out.append(_p(form, row, "arm_code", None, "SRC-ARM-MISSING",
                              "an enrolled subject (screening PASSED) needs an arm_code"))
            if not s.infusion_date and not s.not_infused_reason:
                out.append(_p(form, row, "not_infused_reason", None, "SRC-NOT-INFUSED-REASON",
                              "an enrolled subject who was not infused needs not_infused_reason", WARNING))
        if s.arm_code and config.arm(s.arm_code) is None:
            out.append(_p(form, row, "arm_code", s.arm_code, "SRC-ARM-UNKNOWN",
                          f"arm_code is not an arm of study.toml ({', '.join(a.armcd for a in config.arms)})"))
        if s.death_cause and not s.death_date:
            out.append(_p(form, row, "death_cause", s.death_cause, "SRC-DEATH-DATE",
                          "a cause of death is given without a death date"))
        consent = _earliest(s.informed_consent_date)
        for f in ("apheresis_date", "infusion_date", "death_date", "last_known_alive_date"):
            value = getattr(s, f)
            if value and _latest(value) < consent:
                out.append(_p(form, row, f, value, "SRC-BEFORE-CONSENT",
                              f"date is before informed consent ({s.informed_consent_date})"))
        if s.death_date and s.last_known_alive_date and _earliest(s.last_known_alive_date) > _latest(s.death_date):
            out.append(_p(form, row, "last_known_alive_date", s.last_known_alive_date, "SRC-ALIVE-AFTER-DEATH",
                          f"known alive after the death date ({s.death_date})"))
    return out


def _adverse_events(form: FormRecords, subjects: dict) -> list[Problem]:
    out = []
    for ae, row in form:
        subj = subjects.get(ae.subject_id)
        if ae.outcome == "FATAL" and subj is not None and not subj.death_date:
            out.append(_p(form, row, "outcome", ae.outcome, "SRC-FATAL-NO-DEATH",
                          "outcome FATAL but the subject has no death date"))
        if ae.grade == 5 and ae.outcome != "FATAL":
            out.append(_p(form, row, "outcome", ae.outcome, "SRC-GRADE5-OUTCOME", "a grade 5 event has outcome FATAL"))
        criteria = (ae.serious_death, ae.serious_life_threatening, ae.serious_hospitalization,
                    ae.serious_disability, ae.serious_congenital, ae.serious_other)
        if ae.serious == "Y" and "Y" not in criteria:
            out.append(_p(form, row, "serious", ae.serious, "SRC-SERIOUS-CRITERIA",
                          "a serious event needs at least one serious_* criterion = Y", WARNING))
        if ae.serious == "N" and "Y" in criteria:
            out.append(_p(form, row, "serious", ae.serious, "SRC-SERIOUS-CRITERIA",
                          "a serious_* criterion is Y but serious is N"))
        if subj is not None and subj.informed_consent_date and _latest(ae.start_date) < _earliest(subj.informed_consent_date):
            out.append(_p(form, row, "start_date", ae.start_date, "SRC-BEFORE-CONSENT",
                          "event starts before informed consent (medical history?)", WARNING))
    return out


def _exposure(config: StudyConfig, form: FormRecords, subject_form: FormRecords) -> list[Problem]:
    out = []
    subjects = {s.subject_id: s for s in subject_form.records}
    known = {t.name for t in config.treatments}
    investigational = config.investigational()
    infusions: Counter = Counter()
    for ex, row in form:
        if ex.treatment not in known:
            out.append(_p(form, row, "treatment", ex.treatment, "SRC-TREATMENT-UNKNOWN",
                          f"treatment is not in study.toml ({', '.join(sorted(known))})"))
            continue
        subj = subjects.get(ex.subject_id)
        if subj is None or ex.treatment not in investigational:
            continue
        infusions[ex.subject_id] += 1
        if not subj.infusion_date:
            out.append(_p(form, row, "subject_id", ex.subject_id, "SRC-INFUSION-UNEXPECTED",
                          "investigational exposure for a subject with no infusion date"))
        elif ex.start_date[:10] != subj.infusion_date[:10]:
            out.append(_p(form, row, "start_date", ex.start_date, "SRC-INFUSION-DATE",
                          f"infusion record date differs from the subject's infusion_date {subj.infusion_date}"))
        arm = config.arm(subj.arm_code) if subj.arm_code else None
        if arm is not None and arm.treatment == ex.treatment and (ex.dose != arm.dose or ex.dose_unit != arm.dose_unit):
            out.append(_p(form, row, "dose", f"{ex.dose:g} {ex.dose_unit}", "SRC-DOSE-COHORT",
                          f"dose does not match the subject's arm {arm.armcd} ({arm.dose:g} {arm.dose_unit})"))
    for subj, row in subject_form:
        if subj.infusion_date and infusions[subj.subject_id] == 0:
            out.append(_p(subject_form, row, "infusion_date", subj.infusion_date, "SRC-INFUSION-MISSING",
                          "infused subject has no investigational exposure record"))
    return out


# --- The same rules over whole columns (the fast path of load_study) -----------------------------
#
# Each rule becomes a boolean mask over a form's frame; Problems are made only for the flagged rows
# and then put in the order the record-by-record version above reports them (that order is part of
# the output). Partial dates get their day bounds once per distinct value.

def _bounds(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Earliest and latest day of each (possibly partial) date as datetime64[D]; NaT where empty."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    lo = np.full(len(uniques) + 1, np.datetime64("NaT"), "datetime64[D]")
    hi = lo.copy()
    for i, v in enumerate(uniques):
        if v:
            b = date_bounds(v)
            lo[i], hi[i] = b
    return lo[codes], hi[codes]


class _Found:
    """Problems with the sort key that reproduces the record-by-record order."""

    def __init__(self):
        self.items: list[tuple[tuple, Problem]] = []

    def add(self, key: tuple, mask: np.ndarray, make) -> None:
        for i in np.flatnonzero(mask):
            self.items.append(((*key[:-1], int(i), key[-1]), make(int(i))))

    def sorted(self) -> list[Problem]:
        return [p for _, p in sorted(self.items, key=lambda kp: kp[0])]


def check_cross_frames(config: StudyConfig, frames: dict[str, pd.DataFrame], files: dict[str, str],
                       rejected_subjects: frozenset[str] = frozenset()) -> list[Problem]:
    """``check_cross_records`` over validated frames (``_row`` + model fields per form), same Problems
    in the same order. ``files``: form -> file name as reported."""
    found = _Found()
    names = list(frames)
    for k, name in enumerate(names):  # 1. duplicates, form by form
        keys = list(FORMS[name][1])
        frame, file = frames[name], files[name]
        dup = frame.duplicated(subset=keys, keep="first").to_numpy() if len(frame) else np.zeros(0, bool)
        rows, cols = frame["_row"].to_numpy(), [frame[c].to_numpy(dtype=object) for c in keys]
        found.add((0, k, 0), dup, lambda i, f=file, r=rows, c=cols, ks=keys: Problem(
            f, int(r[i]), "+".join(ks), "/".join(str(x[i]) for x in c), "SRC-DUPLICATE",
            f"duplicate record: another row has the same {', '.join(ks)}"))
    subjects = frames["subjects"]
    last = subjects.drop_duplicates("subject_id", keep="last").set_index("subject_id")  # a dict keeps the last
    _subject_rules(config, subjects, files["subjects"], found)
    cutoff = np.datetime64(config.study.data_cutoff, "D")
    death_lo, death_hi = _bounds(last["death_date"])
    death_hi = pd.Series(death_hi, index=last.index)
    for k, name in enumerate(names):  # 2. subject, cutoff, start/end and death rules, record by record
        frame, file = frames[name], files[name]
        rows = frame["_row"].to_numpy()
        sid = frame["subject_id"]
        known = sid.isin(last.index).to_numpy()
        p = _maker(file, rows, frame)
        if name != "subjects":
            unknown = ~known & ~sid.isin(list(rejected_subjects)).to_numpy()
            found.add((1, k, 0), unknown, lambda i, p=p, s=sid.to_numpy(dtype=object): p(
                i, "subject_id", s[i], "SRC-SUBJECT-UNKNOWN", f"subject '{s[i]}' is not in the subjects file"))
        bounds = {f: _bounds(frame[f]) for f in DATE_FIELDS[name]}
        for j, f in enumerate(DATE_FIELDS[name]):
            found.add((1, k, 1 + j), bounds[f][0] > cutoff, lambda i, p=p, f=f: p(
                i, f, None, "SRC-AFTER-CUTOFF", f"date is after the data cutoff {config.study.data_cutoff}"))
        if name in START_END:
            s, e = START_END[name]
            starts = frame[s].to_numpy(dtype=object)
            found.add((1, k, 10), bounds[e][1] < bounds[s][0], lambda i, p=p, e=e, st=starts: p(
                i, e, None, "SRC-END-BEFORE-START", f"ends before it starts ({st[i]})"))
        if name != "subjects":
            dhi = sid.map(death_hi).to_numpy(dtype="datetime64[D]")
            ddate = sid.map(last["death_date"]).to_numpy(dtype=object)
            for j, f in enumerate(DATE_FIELDS[name]):
                found.add((1, k, 20 + j), bounds[f][0] > dhi, lambda i, p=p, f=f, d=ddate: p(
                    i, f, None, "SRC-AFTER-DEATH", f"date is after the subject's death ({d[i]})"))
    _ae_rules(frames["adverse_events"], files["adverse_events"], last, found)
    _exposure_rules(config, frames["exposure"], files["exposure"], subjects, files["subjects"], last, found)
    return found.sorted()


def _maker(file: str, rows: np.ndarray, frame: pd.DataFrame):
    """p(i, field, value, rule, message[, severity]); value None = the row's own value of field."""
    cache: dict[str, np.ndarray] = {}

    def p(i, field, value, rule, message, severity=ERROR):
        if value is None and field in frame.columns:
            col = cache.setdefault(field, frame[field].to_numpy(dtype=object))
            value = col[i]
        return Problem(file, int(rows[i]), field, "" if value is None else str(value), rule, message, severity)

    return p


def _subject_rules(config: StudyConfig, s: pd.DataFrame, file: str, found: _Found) -> None:
    p = _maker(file, s["_row"].to_numpy(), s)
    failed = (s["screening_outcome"] == "FAILED").to_numpy()
    has = {f: s[f].notna().to_numpy() for f in ("arm_code", "apheresis_date", "infusion_date", "not_infused_reason",
                                               "death_cause", "death_date", "last_known_alive_date")}
    for j, f in enumerate(("arm_code", "apheresis_date", "infusion_date")):
        found.add((0.5, 0, j), failed & has[f], lambda i, f=f: p(
            i, f, None, "SRC-SCREEN-FAILURE", f"a screen failure has no {f.replace('_', ' ')}"))
    found.add((0.5, 0, 3), ~failed & ~has["arm_code"], lambda i: p(
        i, "arm_code", "", "SRC-ARM-MISSING", "an enrolled subject (screening PASSED) needs an arm_code"))
    found.add((0.5, 0, 4), ~failed & ~has["infusion_date"] & ~has["not_infused_reason"], lambda i: p(
        i, "not_infused_reason", "", "SRC-NOT-INFUSED-REASON",
        "an enrolled subject who was not infused needs not_infused_reason", WARNING))
    armcds = [a.armcd for a in config.arms]
    found.add((0.5, 0, 5), has["arm_code"] & ~s["arm_code"].isin(armcds).to_numpy(), lambda i: p(
        i, "arm_code", None, "SRC-ARM-UNKNOWN", f"arm_code is not an arm of study.toml ({', '.join(armcds)})"))
    found.add((0.5, 0, 6), has["death_cause"] & ~has["death_date"], lambda i: p(
        i, "death_cause", None, "SRC-DEATH-DATE", "a cause of death is given without a death date"))
    consent_lo, _ = _bounds(s["informed_consent_date"])
    consent = s["informed_consent_date"].to_numpy(dtype=object)
    for j, f in enumerate(("apheresis_date", "infusion_date", "death_date", "last_known_alive_date")):
        found.add((0.5, 0, 7 + j), _bounds(s[f])[1] < consent_lo, lambda i, f=f: p(
            i, f, None, "SRC-BEFORE-CONSENT", f"date is before informed consent ({consent[i]})"))
    death = s["death_date"].to_numpy(dtype=object)
    found.add((0.5, 0, 11), _bounds(s["last_known_alive_date"])[0] > _bounds(s["death_date"])[1], lambda i: p(
        i, "last_known_alive_date", None, "SRC-ALIVE-AFTER-DEATH", f"known alive after the death date ({death[i]})"))


def _ae_rules(ae: pd.DataFrame, file: str, last: pd.DataFrame, found: _Found) -> None:
    p = _maker(file, ae["_row"].to_numpy(), ae)
    sid = ae["subject_id"]
    known = sid.isin(last.index).to_numpy()
    fatal = (ae["outcome"] == "FATAL").to_numpy()
    dead = sid.map(last["death_date"]).notna().to_numpy()
    found.add((2, 0, 0), fatal & known & ~dead, lambda i: p(
        i, "outcome", None, "SRC-FATAL-NO-DEATH", "outcome FATAL but the subject has no death date"))
    found.add((2, 0, 1), (ae["grade"] == 5).to_numpy() & ~fatal, lambda i: p(
        i, "outcome", None, "SRC-GRADE5-OUTCOME", "a grade 5 event has outcome FATAL"))
    crit = np.zeros(len(ae), bool)
    for c in ("serious_death", "serious_life_threatening", "serious_hospitalization", "serious_disability",
              "serious_congenital", "serious_other"):
        crit |= (ae[c] == "Y").to_numpy()
    found.add((2, 0, 2), (ae["serious"] == "Y").to_numpy() & ~crit, lambda i: p(
        i, "serious", None, "SRC-SERIOUS-CRITERIA", "a serious event needs at least one serious_* criterion = Y",
        WARNING))
    found.add((2, 0, 3), (ae["serious"] == "N").to_numpy() & crit, lambda i: p(
        i, "serious", None, "SRC-SERIOUS-CRITERIA", "a serious_* criterion is Y but serious is N"))
    consent_lo, _ = _bounds(last["informed_consent_date"])
    lo = sid.map(pd.Series(consent_lo, index=last.index)).to_numpy(dtype="datetime64[D]")
    found.add((2, 0, 4), known & (_bounds(ae["start_date"])[1] < lo), lambda i: p(
        i, "start_date", None, "SRC-BEFORE-CONSENT", "event starts before informed consent (medical history?)",
        WARNING))


def _exposure_rules(config: StudyConfig, ex: pd.DataFrame, file: str, subjects: pd.DataFrame, subject_file: str,
                    last: pd.DataFrame, found: _Found) -> None:
    p = _maker(file, ex["_row"].to_numpy(), ex)
    known = {t.name for t in config.treatments}
    sid = ex["subject_id"]
    listed = ex["treatment"].isin(list(known)).to_numpy()
    found.add((3, 0, 0), ~listed, lambda i: p(
        i, "treatment", None, "SRC-TREATMENT-UNKNOWN", f"treatment is not in study.toml ({', '.join(sorted(known))})"))
    counted = listed & sid.isin(last.index).to_numpy() & ex["treatment"].isin(list(config.investigational())).to_numpy()
    infusion = sid.map(last["infusion_date"]).to_numpy(dtype=object)
    no_infusion = counted & pd.isna(infusion)
    found.add((3, 0, 1), no_infusion, lambda i: p(
        i, "subject_id", None, "SRC-INFUSION-UNEXPECTED", "investigational exposure for a subject with no infusion date"))
    start10 = ex["start_date"].str.slice(0, 10).to_numpy(dtype=object)
    inf10 = pd.Series(infusion, dtype=object).str.slice(0, 10).to_numpy(dtype=object)
    found.add((3, 0, 1), counted & ~no_infusion & (start10 != inf10), lambda i: p(
        i, "start_date", None, "SRC-INFUSION-DATE",
        f"infusion record date differs from the subject's infusion_date {infusion[i]}"))
    arms = pd.DataFrame([(a.armcd, a.treatment, a.dose, a.dose_unit) for a in config.arms],
                        columns=["armcd", "treatment", "dose", "dose_unit"]).drop_duplicates("armcd").set_index("armcd")
    armcd = sid.map(last["arm_code"])
    arm_treatment = armcd.map(arms["treatment"]).to_numpy(dtype=object)
    arm_dose, arm_unit = armcd.map(arms["dose"]).to_numpy(), armcd.map(arms["dose_unit"]).to_numpy(dtype=object)
    dose, unit = ex["dose"].to_numpy(dtype=float), ex["dose_unit"].to_numpy(dtype=object)
    same_treatment = arm_treatment == ex["treatment"].to_numpy(dtype=object)
    wrong = counted & same_treatment & ((dose != arm_dose) | (unit != arm_unit))
    code = armcd.to_numpy(dtype=object)
    found.add((3, 0, 2), wrong, lambda i: p(
        i, "dose", f"{dose[i]:g} {unit[i]}", "SRC-DOSE-COHORT",
        f"dose does not match the subject's arm {code[i]} ({arms.at[code[i], 'dose']:g} {arms.at[code[i], 'dose_unit']})"))
    given = set(sid[counted])
    ps = _maker(subject_file, subjects["_row"].to_numpy(), subjects)
    missing = subjects["infusion_date"].notna().to_numpy() & ~subjects["subject_id"].isin(list(given)).to_numpy()
    found.add((3, 1, 0), missing, lambda i: ps(
        i, "infusion_date", None, "SRC-INFUSION-MISSING", "infused subject has no investigational exposure record"))
