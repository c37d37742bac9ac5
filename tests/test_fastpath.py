"""The column-wise fast path (read_columns, validate_columns, check_cross_frames, the vectorised SDTM
derivations) gives exactly what the record-by-record path gives: same frames, same Problems in the
same order, byte-identical packages."""
from __future__ import annotations

import hashlib
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.generate import generate
from converters.pipeline import convert_study
from converters.source.fields import field_rules, validate_columns, validate_rows
from converters.source.load import load_study
from converters.source.read import SourceTable, columns_of, read_columns, read_source
from schemas.source import FORMS
from specs import codelist_values
from studybuilder import AES, EXAMPLE, SUBJECTS, changed, make_study


def _same_source(folder: Path) -> list:
    fast, slow = load_study(folder, fast=True), load_study(folder, fast=False)
    assert fast.problems == slow.problems
    assert fast.rows_read == slow.rows_read and fast.files == slow.files
    assert list(fast.frames) == list(slow.frames)
    for form in slow.frames:
        pd.testing.assert_frame_equal(fast.frames[form], slow.frames[form], check_exact=True)
    return fast.problems


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _packages(study: Path, tmp: Path, monkeypatch) -> tuple[dict, dict]:
    out = {}
    for mode in ("0", "1"):
        monkeypatch.setenv("CDISC_SLOW_PATH", mode)
        result = convert_study(study, tmp / mode / "package")
        assert result.ok, result.problems[:5]
        out[mode] = _digest(tmp / mode / "package")
    return out["0"], out["1"]


def test_every_contract_field_has_fast_checks():
    # an unrecognised validator would silently send every row to Pydantic: fast, but no longer bulk
    opaque = [(form, r.name) for form, (model, _) in FORMS.items() for r in field_rules(model) if r.kind == "opaque"]
    assert opaque == []


def test_example_source_is_read_and_checked_identically():
    assert _same_source(EXAMPLE) == []


def test_generated_study_with_broken_rows_gives_identical_problems(tmp_path):
    study = generate(tmp_path / "s", 40, ae=6, rs=3, ex=4, bad_rows=12, seed=7)
    problems = _same_source(study)
    assert {p.rule for p in problems} == {"SRC-CODELIST", "SRC-DATE", "SRC-RANGE"}
    assert len(problems) == 12


def test_cross_record_problems_come_in_the_same_order(tmp_path):
    subjects = changed(SUBJECTS, 1, arm_code="DL9", infusion_date="2020-01-01", death_cause="x")
    subjects = changed(subjects, 2, screening_outcome="FAILED", last_known_alive_date="2023-06-30")
    aes = AES + [dict(AES[0], ae_id="9", subject_id="777", outcome="FATAL", grade="5", start_date="2023-02")]
    aes = changed(aes, 1, serious="N", serious_death="Y", end_date="2021-01")
    aes = aes + [dict(AES[0])]  # a duplicate key
    problems = _same_source(make_study(tmp_path / "s", subjects=subjects, aes=aes))
    assert len({p.rule for p in problems}) >= 8


def test_example_package_is_byte_identical(tmp_path, monkeypatch):
    fast, slow = _packages(EXAMPLE, tmp_path, monkeypatch)
    assert fast == slow and any(name.endswith("ae.xpt") for name in fast)


def test_generated_package_is_byte_identical(tmp_path, monkeypatch):
    study = generate(tmp_path / "s", 30, ae=8, rs=6, ex=4, seed=3)
    fast, slow = _packages(study, tmp_path, monkeypatch)
    assert fast == slow and len(fast) > 10


# --- property: the fast checks accept and reject exactly what the models do --------------------

EDGE = [None, "", " ", "\t", "  x ", "x", "Y", "N", "y", " Y", "Y\n", "\u00a0Y", "Ｙ", "é", "001", "A_1", "-x",
        "a" * 21, "0", "7", "007", "+5", "-1", "-0", "1.5", "2.", ".5", "1e3", "1_000", "\u0663", "nan", "inf",
        " 5", "5 ", "10000000", "99999999", "100000000", "12345678901234567890", "2021", "2021-02", "2021-02-29",
        "2020-02-29", "2021-13", "2021---15", "2021--", "2021-05-10T10:30", "2021-05-10T10:30:59", "2021-05-10T24:00",
        "2021-05-10T10:60", "0000", "0001-01-01", "2021-5-1", "\uff12\uff10\uff12\uff11", "2021-04-31", "CHN", "chn",
        "PASSED", "FAILED", "CNS1", "ESCALATION", "YEARS"]
JSON_ONLY = [1, 0, -3, 30, 1.0, 2.5, 1e300, float("nan"), float("inf"), True, False, 10 ** 20, [1], {"a": 1}]


def _values(model, name: str, json: bool):
    rule = next(r for r in field_rules(model) if r.name == name)
    own = sorted(codelist_values(rule.codelists[0]))[:6] if rule.codelists else []
    own += sorted(rule.literals or ())
    pool = EDGE + own + [v + " " for v in own[:2]] + (JSON_ONLY if json else [])
    text = st.text(alphabet="0129-T: aY.\u0663", max_size=12)
    return st.one_of(st.sampled_from(pool), text if not json else st.one_of(text, st.integers(-5, 10 ** 9)))


def _rows(model, json: bool):
    fields = {name: _values(model, name, json) for name in model.model_fields}
    if json:  # a JSON Lines record may lack any key
        return st.lists(st.fixed_dictionaries({}, optional=fields), min_size=1, max_size=6)
    return st.lists(st.fixed_dictionaries(fields), min_size=1, max_size=6).map(
        lambda rows: [{k: (None if v is None or (isinstance(v, str) and not v.strip()) else v) for k, v in r.items()}
                      for r in rows if all(v is None or isinstance(v, str) for v in r.values())] or rows[:0])


def _slow_frame(model, records, rows) -> pd.DataFrame:
    frame = pd.DataFrame([r.model_dump() for r in records], columns=list(model.model_fields))
    frame.insert(0, "_row", pd.Series(rows, dtype="int64"))
    return frame


def _check(model, rows: list[dict], missing: set[str]) -> None:
    if missing:
        rows = [{k: v for k, v in r.items() if k not in missing} for r in rows]
    table = SourceTable(form="f", file="f.csv", rows=rows, row_numbers=list(range(2, len(rows) + 2)),
                        rows_read=len(rows), missing_columns=set(missing))
    records, numbers, problems = validate_rows(table, model)
    frame, fast_problems = validate_columns(columns_of(table), model)
    assert fast_problems == problems
    pd.testing.assert_frame_equal(frame, _slow_frame(model, records, numbers), check_exact=True)


MODELS = [model for model, _ in FORMS.values()]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), model=st.sampled_from(MODELS), json=st.booleans())
def test_fast_checks_accept_and_reject_exactly_what_the_models_do(data, model, json):
    rows = data.draw(_rows(model, json))
    required = [n for n, f in model.model_fields.items() if f.is_required()]
    missing = set(data.draw(st.lists(st.sampled_from(required), max_size=1))) if not json else set()
    _check(model, rows, missing)


GOOD = {"subject_id": "001", "site_id": "01", "informed_consent_date": "2021-01-04", "age": "30", "sex": "F",
        "race": "ASIAN", "ethnicity": "NOT HISPANIC OR LATINO", "country": "CHN", "screening_outcome": "PASSED",
        "ae_id": "1", "verbatim_term": "x", "preferred_term": "x", "system_organ_class": "x",
        "start_date": "2021-02", "grade": "2", "grading_scale": "ASTCT", "serious": "N", "relationship": "RELATED",
        "action_taken": "NOT APPLICABLE", "outcome": "FATAL", "visit": "V1", "visit_number": "1.5",
        "assessment_date": "2021-03-01", "overall_response": "CR", "treatment": "DRUG", "dose": "2",
        "dose_unit": "mg", "route": "INTRAVENOUS", "llt_code": "10000001", "marrow_blasts_pct": "0.5"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=st.sampled_from(MODELS), json=st.booleans(), data=st.data())
def test_one_bad_field_at_a_time(model, json, data):
    # valid records with one field changed: the rows where the fast checks alone decide
    base = {k: v for k, v in GOOD.items() if k in model.model_fields}
    names = list(model.model_fields)
    changes = data.draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(EDGE + (JSON_ONLY if json else []))),
                                 min_size=1, max_size=10))
    rows = [dict(base)]
    for name, value in changes:
        if not json and (value is None or not value.strip()):
            value = None
        rows.append({**base, name: value})
    if json and data.draw(st.booleans()):
        rows.append({k: v for k, v in base.items() if k != changes[0][0]})  # a key left out
    _check(model, rows, set())


# --- the reader: the same records whichever parser reads the file ------------------------------

CELLS = st.text(alphabet='ab1 ,"\t-é', max_size=4)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.lists(st.sampled_from(["subject_id", "site_id", "age", "sex", "extra", "SUBJNO"]), min_size=1,
                       max_size=4),
       body=st.lists(st.lists(CELLS, min_size=1, max_size=5), max_size=5),
       newline=st.sampled_from(["\n", "\r\n"]), bom=st.booleans(), trailing=st.booleans())
def test_csv_read_column_wise_equals_the_careful_reader(tmp_path, header, body, newline, bom, trailing):
    text = newline.join([",".join(header)] + [",".join(r) for r in body]) + (newline if trailing else "")
    path = tmp_path / "f.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    fields = {n: f.is_required() for n, f in FORMS["subjects"][0].model_fields.items()}
    slow = read_source(path, "f.csv", "subjects", {"SUBJNO": "subject_id"}, fields)
    fast = read_columns(path, "f.csv", "subjects", {"SUBJNO": "subject_id"}, fields)
    assert fast.problems == slow.problems and fast.rows_read == slow.rows_read
    assert fast.missing_columns == slow.missing_columns
    assert list(fast.row_numbers) == slow.row_numbers
    assert [fast.row(i) for i in range(len(fast))] == slow.rows


def test_plain_csv_takes_the_fast_reader(tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")
    path = tmp_path / "f.csv"
    path.write_text("subject_id,age\n001,30\n002, \n", encoding="utf-8")
    fields = {"subject_id": True, "age": True}
    import converters.source.read as read

    monkeypatch.setattr(read, "read_source", lambda *a: pytest.fail("fell back to the careful reader"))
    table = read.read_columns(path, "f.csv", "subjects", {}, fields)
    assert [table.row(i) for i in range(2)] == [{"subject_id": "001", "age": "30"}, {"subject_id": "002", "age": None}]
    assert list(table.row_numbers) == [2, 3]


def test_jsonl_values_keep_their_json_types(tmp_path):
    path = tmp_path / "ex.jsonl"
    path.write_text('{"dose": 1}\n\n{"dose": 1.0}\n{"dose": true}\n{"dose": "1"}\n', encoding="utf-8")
    table = read_columns(path, "ex.jsonl", "exposure", {}, {"dose": True})
    values = [table.row(i)["dose"] for i in range(4)]
    assert [type(v) for v in values] == [int, float, bool, str]
    assert list(table.row_numbers) == [1, 3, 4, 5]
    assert not any(isinstance(v, float) and math.isnan(v) for v in values)


JSON_VALUES = st.sampled_from([0, 1, 2, -0.0, 0.0, 1.0, 2.5, float("nan"), True, False, None, "", " ", "a", "1", "A ",
                              [1], {"k": 1}])


def _typed(value):
    return (type(value).__name__, repr(value))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(st.dictionaries(st.sampled_from(["subject_id", "dose", "SUBJNO", "route", "extra"]),
                                        JSON_VALUES, max_size=4), min_size=1, max_size=8),
       blank_lines=st.booleans())
def test_jsonl_read_column_wise_equals_the_careful_reader(tmp_path, records, blank_lines):
    import json as json_module

    lines = [json_module.dumps(r) for r in records]
    text = ("\n\n" if blank_lines else "\n").join(lines) + "\n"
    path = tmp_path / "ex.jsonl"
    path.write_text(text, encoding="utf-8")
    fields = {"subject_id": True, "dose": True, "route": False}
    slow = columns_of(read_source(path, "ex.jsonl", "exposure", {"SUBJNO": "subject_id"}, fields))
    fast = read_columns(path, "ex.jsonl", "exposure", {"SUBJNO": "subject_id"}, fields)
    assert fast.problems == slow.problems and fast.rows_read == slow.rows_read
    assert list(fast.row_numbers) == list(slow.row_numbers)
    assert list(fast.columns) == list(slow.columns)
    for name, column in slow.columns.items():  # the same codes and the same values, JSON types included
        assert fast.columns[name].codes.tolist() == column.codes.tolist(), name
        assert [_typed(u) for u in fast.columns[name].uniques] == [_typed(u) for u in column.uniques], name


def test_plain_jsonl_is_read_a_column_at_a_time(tmp_path, monkeypatch):
    import converters.source.read as read

    path = tmp_path / "ex.jsonl"
    path.write_text('{"subject_id": "001", "dose": 1}\n{"subject_id": "002", "dose": 1.0, "route": " "}\n',
                    encoding="utf-8")
    monkeypatch.setattr(read, "columns_of", lambda *a: pytest.fail("fell back to the per-record path"))
    table = read.read_columns(path, "ex.jsonl", "exposure", {}, {"subject_id": True, "dose": True, "route": False})
    assert [table.row(i) for i in range(2)] == [{"subject_id": "001", "dose": 1},
                                                {"subject_id": "002", "dose": 1.0, "route": None}]
    assert [type(table.row(i)["dose"]) for i in range(2)] == [int, float]
