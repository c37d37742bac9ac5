"""Cross-record rules (converters/source/cross.py): one failing case each; the base study has none."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from converters.cli import main
from converters.problems import ERROR, WARNING
from converters.source.load import load_study
from studybuilder import AES, EX, RS, SUBJECTS, changed, make_study

DEAD_001 = changed(SUBJECTS, 0, death_date="2021-04-01", death_cause="Septic shock", last_known_alive_date="2021-04-01")

# rule, make_study keywords, expected (file, row, field, value) of the single problem of that rule
CASES = [
    ("SRC-SUBJECT-UNKNOWN", dict(aes=changed(AES, 1, subject_id="999")), ("ae.csv", 3, "subject_id", "999")),
    ("SRC-SUBJECT-UNKNOWN", dict(ex=changed(EX, 0, subject_id="999")), ("ex.jsonl", 1, "subject_id", "999")),
    ("SRC-END-BEFORE-START", dict(aes=changed(AES, 0, end_date="2021-02-01")), ("ae.csv", 2, "end_date", "2021-02-01")),
    ("SRC-END-BEFORE-START", dict(aes=changed(AES, 0, end_date="2021-01")), ("ae.csv", 2, "end_date", "2021-01")),
    ("SRC-AFTER-CUTOFF", dict(rs=changed(RS, 1, assessment_date="2023-01-05")),
     ("rs.csv", 3, "assessment_date", "2023-01-05")),
    ("SRC-AFTER-CUTOFF", dict(aes=changed(AES, 1, start_date="2023")), ("ae.csv", 3, "start_date", "2023")),
    ("SRC-AFTER-DEATH", dict(subjects=DEAD_001), ("rs.csv", 3, "assessment_date", "2021-05-01")),
    ("SRC-DOSE-COHORT", dict(ex=changed(EX, 3, dose=5.0)), ("ex.jsonl", 4, "dose", "5 10^6/kg")),
    ("SRC-DOSE-COHORT", dict(ex=changed(EX, 3, dose_unit="mg/m2")), ("ex.jsonl", 4, "dose", "1 mg/m2")),
    ("SRC-DUPLICATE", dict(subjects=SUBJECTS + [dict(SUBJECTS[1])]), ("subjects.csv", 5, "subject_id", "002")),
    ("SRC-DUPLICATE", dict(aes=AES + [dict(AES[1], verbatim_term="neutropenia again")]),
     ("ae.csv", 4, "subject_id+ae_id", "001/2")),
    ("SRC-INFUSION-MISSING", dict(ex=EX[:3]), ("subjects.csv", 2, "infusion_date", "2021-02-01")),
    ("SRC-INFUSION-DATE", dict(ex=changed(EX, 3, start_date="2021-02-02")), ("ex.jsonl", 4, "start_date", "2021-02-02")),
    ("SRC-SCREEN-FAILURE", dict(subjects=changed(SUBJECTS, 1, apheresis_date="2021-01-15")),
     ("subjects.csv", 3, "apheresis_date", "2021-01-15")),
    ("SRC-SCREEN-FAILURE", dict(subjects=changed(SUBJECTS, 1, arm_code="DL1")), ("subjects.csv", 3, "arm_code", "DL1")),
    ("SRC-ARM-UNKNOWN", dict(subjects=changed(SUBJECTS, 2, arm_code="DL9")), ("subjects.csv", 4, "arm_code", "DL9")),
    ("SRC-FATAL-NO-DEATH", dict(aes=changed(AES, 0, outcome="FATAL", grade="5")), ("ae.csv", 2, "outcome", "FATAL")),
    ("SRC-TREATMENT-UNKNOWN", dict(ex=changed(EX, 0, treatment="CYCLOPHOSPHAMIDE")),
     ("ex.jsonl", 1, "treatment", "CYCLOPHOSPHAMIDE")),
]


def test_base_study_has_no_problems(study: Path):
    src = load_study(study)
    assert src.ok and src.problems == []
    assert src.rows_read == {"subjects": 3, "adverse_events": 2, "response": 2, "exposure": 4}


@pytest.mark.parametrize("rule, kw, where", CASES, ids=[f"{c[0]}-{c[2][0]}-{c[2][1]}" for c in CASES])
def test_cross_rule(tmp_path: Path, rule, kw, where):
    src = load_study(make_study(tmp_path / "s", **kw))
    hits = [p for p in src.problems if p.rule == rule]
    assert len(hits) == 1, src.problems
    p = hits[0]
    assert (p.file, p.row, p.field, p.value) == where
    assert p.severity == ERROR and p.message and "\n" not in p.message
    assert not src.ok


def test_end_date_partial_month_of_start_is_not_before_start(tmp_path: Path):
    """End "2021-02" may be any day of February, so it is not before a start of 2021-02-10."""
    aes = changed(AES, 0, start_date="2021-02-10", end_date="2021-02")
    src = load_study(make_study(tmp_path / "s", aes=aes))
    assert src.problems == []


def test_end_date_in_the_year_of_a_partial_start_is_not_before_start(tmp_path: Path):
    aes = changed(AES, 1, start_date="2021-03", end_date="2021")
    assert load_study(make_study(tmp_path / "s", aes=aes)).problems == []


def test_partial_date_in_the_cutoff_month_is_not_after_cutoff(tmp_path: Path):
    """Cutoff 2022-12-31: "2022-12" can be on or before it."""
    aes = changed(AES, 1, start_date="2022-12")
    assert [p.rule for p in load_study(make_study(tmp_path / "s", aes=aes)).problems] == []


def test_records_on_the_day_of_death_are_not_after_death(tmp_path: Path):
    subjects = changed(SUBJECTS, 0, death_date="2021-05-01", death_cause="Septic shock",
                       last_known_alive_date="2021-05-01")
    src = load_study(make_study(tmp_path / "s", subjects=subjects))
    assert [p.rule for p in src.problems] == []


def test_partial_death_date_in_the_month_of_a_record_is_not_before_it(tmp_path: Path):
    subjects = changed(SUBJECTS, 0, death_date="2021-05", death_cause="Septic shock",
                       last_known_alive_date="2021-04-20")
    src = load_study(make_study(tmp_path / "s", subjects=subjects))
    assert "SRC-AFTER-DEATH" not in [p.rule for p in src.problems]


def test_fatal_outcome_with_a_death_date_is_fine(tmp_path: Path):
    subjects = changed(SUBJECTS, 0, death_date="2021-05-01", death_cause="Cytokine release syndrome",
                       last_known_alive_date="2021-05-01")
    aes = changed(AES, 0, outcome="FATAL", grade="5", serious="Y", serious_death="Y", end_date="2021-05-01")
    assert load_study(make_study(tmp_path / "s", subjects=subjects, aes=aes)).problems == []


def test_serious_without_criteria_is_a_warning_that_does_not_block(tmp_path: Path):
    aes = changed(AES, 1, serious_hospitalization=None)
    folder = make_study(tmp_path / "s", aes=aes)
    src = load_study(folder)
    assert [(p.file, p.row, p.field, p.rule, p.severity) for p in src.problems] == [
        ("ae.csv", 3, "serious", "SRC-SERIOUS-CRITERIA", WARNING)]
    assert src.ok
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["convert", str(folder), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "sdtm" / "ae.xpt").is_file()
    assert "SRC-SERIOUS-CRITERIA" in result.stdout  # the warning is shown even on success
    summary = result.stdout.strip().splitlines()[-1].split()
    assert summary[:4] == ["s", "ok", "0", "1"]
