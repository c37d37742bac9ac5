"""Cross-record rules: relations between forms that no single row can show.

Partial dates are compared by the interval of days they can denote: a rule fires only when
every possible reading of the dates breaks it (e.g. end "2021-05" is not before start "2021-05-10").
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

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
