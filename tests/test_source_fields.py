"""Field rules (converters/source/fields.py RULES): one test per rule id the source models can produce.

Each breaks one value of the small valid study and checks the Problem names the file, the row as a
spreadsheet shows it (CSV header = row 1; JSON Lines: line number), the field, the value and the rule,
in a one-line message. Subject-level breaks use the screen failure (002, CSV row 3), who has no
records in other forms, so nothing else is affected.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from converters.problems import ERROR
from converters.source.fields import RULES
from converters.source.load import load_study
from studybuilder import AES, EX, RS, SUBJECTS, changed, make_study

LONG = "x" * 201

# rule, make_study keyword, rows, file, row, field, value as reported
CASES = [
    ("SRC-DATE", "subjects", changed(SUBJECTS, 1, informed_consent_date="2023-02-30"),
     "subjects.csv", 3, "informed_consent_date", "2023-02-30"),
    ("SRC-DATE", "aes", changed(AES, 0, start_date="2021-13"), "ae.csv", 2, "start_date", "2021-13"),
    ("SRC-DATE", "aes", changed(AES, 1, end_date="2021-02-31"), "ae.csv", 3, "end_date", "2021-02-31"),
    ("SRC-DATE", "rs", changed(RS, 1, assessment_date="01/05/2021"), "rs.csv", 3, "assessment_date", "01/05/2021"),
    ("SRC-DATE-COMPLETE", "subjects", changed(SUBJECTS, 1, informed_consent_date="2021-01"),
     "subjects.csv", 3, "informed_consent_date", "2021-01"),
    ("SRC-CODELIST", "subjects", changed(SUBJECTS, 1, sex="MALE"), "subjects.csv", 3, "sex", "MALE"),
    ("SRC-CODELIST", "aes", changed(AES, 1, outcome="RESOLVED"), "ae.csv", 3, "outcome", "RESOLVED"),
    ("SRC-ENUM", "subjects", changed(SUBJECTS, 1, screening_outcome="MAYBE"),
     "subjects.csv", 3, "screening_outcome", "MAYBE"),
    ("SRC-PATTERN", "subjects", changed(SUBJECTS, 1, country="China"), "subjects.csv", 3, "country", "China"),
    ("SRC-PATTERN", "subjects", changed(SUBJECTS, 1, site_id="01-A"), "subjects.csv", 3, "site_id", "01-A"),
    ("SRC-LENGTH", "aes", changed(AES, 0, verbatim_term=LONG), "ae.csv", 2, "verbatim_term", LONG),
    ("SRC-TYPE", "subjects", changed(SUBJECTS, 1, age="abc"), "subjects.csv", 3, "age", "abc"),
    ("SRC-TYPE", "aes", changed(AES, 0, grade="2.5"), "ae.csv", 2, "grade", "2.5"),
    ("SRC-TYPE", "ex", changed(EX, 0, route=5), "ex.jsonl", 1, "route", "5"),
    ("SRC-TYPE", "ex", changed(EX, 1, dose="thirty"), "ex.jsonl", 2, "dose", "thirty"),
    ("SRC-RANGE", "subjects", changed(SUBJECTS, 1, age="130"), "subjects.csv", 3, "age", "130"),
    ("SRC-RANGE", "aes", changed(AES, 0, grade="6"), "ae.csv", 2, "grade", "6"),
    ("SRC-RANGE", "ex", changed(EX, 0, dose=0), "ex.jsonl", 1, "dose", "0"),
    ("SRC-RANGE", "rs", changed(RS, 0, marrow_blasts_pct="101"), "rs.csv", 2, "marrow_blasts_pct", "101"),
    ("SRC-REQUIRED", "ex", changed(EX, 2, route=None), "ex.jsonl", 3, "route", ""),
    ("SRC-REQUIRED", "subjects", changed(SUBJECTS, 1, sex=""), "subjects.csv", 3, "sex", ""),
    ("SRC-REQUIRED", "aes", changed(AES, 1, preferred_term=""), "ae.csv", 3, "preferred_term", ""),
    ("SRC-REQUIRED", "subjects", changed(SUBJECTS, 1, age=""), "subjects.csv", 3, "age", ""),
]


def _id(case) -> str:
    return f"{case[0]}-{case[3]}-{case[5]}"


@pytest.mark.parametrize("rule, kw, rows, file, row, field, value", CASES, ids=[_id(c) for c in CASES])
def test_field_rule(tmp_path: Path, rule, kw, rows, file, row, field, value):
    src = load_study(make_study(tmp_path / "s", **{kw: rows}))
    assert not src.ok
    # the broken value is the only problem: no cascade into other rules or rows
    assert len(src.problems) == 1, src.problems
    p = src.problems[0]
    assert (p.file, p.row, p.field, p.value, p.rule, p.severity) == (file, row, field, value, rule, ERROR)
    assert p.message and "\n" not in p.message
    # the row is rejected, the others of its form are kept
    form = {"subjects": "subjects", "aes": "adverse_events", "rs": "response", "ex": "exposure"}[kw]
    assert row not in src.frames[form]["_row"].tolist()
    assert len(src.frames[form]) == src.rows_read[form] - 1


def test_every_producible_rule_is_covered():
    """The cases above exercise every rule id of RULES (string_too_short is unreachable: blank -> None)."""
    assert set(RULES.values()) == {c[0] for c in CASES}


def test_impossible_date_message_names_the_date(tmp_path: Path):
    src = load_study(make_study(tmp_path / "s", subjects=changed(SUBJECTS, 1, informed_consent_date="2023-02-30")))
    assert "2023-02-30 is not a calendar date" in src.problems[0].message


def test_month_13_message_names_the_month(tmp_path: Path):
    src = load_study(make_study(tmp_path / "s", aes=changed(AES, 0, start_date="2021-13")))
    assert "month 13" in src.problems[0].message


def test_codelist_message_lists_allowed_values(tmp_path: Path):
    src = load_study(make_study(tmp_path / "s", subjects=changed(SUBJECTS, 1, sex="MALE")))
    assert src.problems[0].message.startswith("'MALE' is not in codelist SEX")
    assert "M" in src.problems[0].message.split("(")[1]


def test_partial_dates_are_accepted_where_allowed(tmp_path: Path):
    """AE dates may be partial (YYYY, YYYY-MM, YYYY---DD); they stay as written."""
    aes = changed(AES, 0, start_date="2021-02", end_date="2021")
    src = load_study(make_study(tmp_path / "s", aes=aes))
    assert src.problems == []
    first = src.frames["adverse_events"].set_index("_row").loc[2]
    assert (first["start_date"], first["end_date"]) == ("2021-02", "2021")


def test_several_bad_fields_in_one_row_are_all_reported(tmp_path: Path):
    src = load_study(make_study(tmp_path / "s", subjects=changed(SUBJECTS, 1, age="abc", sex="MALE")))
    assert sorted((p.row, p.field, p.rule) for p in src.problems) == [
        (3, "age", "SRC-TYPE"), (3, "sex", "SRC-CODELIST")]


def test_rejected_subject_row_is_not_reported_as_unknown_subject(tmp_path: Path):
    """Subject 001's row has one bad value; the AE/RS/EX rows of 001 must not be told that 001 'is not in
    the subjects file' (it is: its row was rejected). One problem, not ten."""
    src = load_study(make_study(tmp_path / "s", subjects=changed(SUBJECTS, 0, age="abc")))
    assert [(p.file, p.row, p.rule) for p in src.problems] == [("subjects.csv", 2, "SRC-TYPE")]
