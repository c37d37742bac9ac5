"""The mapping engine's pieces on small inputs: spec typing, if/else, wide findings, derivation verbs."""
from __future__ import annotations

import pandas as pd
import pytest

from converters.mapping.engine import actual_subjects, expand_tests, if_else, usubjids
from converters.mapping.forms import RawForm
from converters.mapping.spec import IfElse, MappingSpecError, FindingsTest, parse_spec
from converters.mapping.verbs import (BaselineArgs, DatesArgs, baseline_flag, first_date, last_date,
                                      treatment_emergent, EmergentArgs)


def minimal(**domain) -> dict:
    return {"study": {"studyid": "S1", "usubjid": "S1-{ID}"},
            "forms": {"f": {"file": "f.csv", "columns": {"ID": "text", "D": {"type": "date", "formats": ["ddMMMyyyy"]}}}},
            "domains": {"DM": {"form": "f", "variables": domain}}}


def test_spec_error_names_the_key_and_the_allowed_date_formats():
    data = minimal()
    data["forms"]["f"]["columns"]["D"]["formats"] = ["dd.mm.yyyy"]
    with pytest.raises(MappingSpecError) as exc:
        parse_spec(data)
    [(key, message)] = exc.value.problems
    assert key == "forms.f.columns.D" and "dd.mm.yyyy" in message and "mm/dd/yyyy" in message


def test_spec_error_for_a_condition_without_its_value():
    data = minimal(ARMNRS={"algorithm": "if_else", "cases": [{"when": {"column": "ID", "op": "eq"}, "value": "X"}]})
    with pytest.raises(MappingSpecError) as exc:
        parse_spec(data)
    assert ("domains.DM.variables.ARMNRS.cases.0.when", "op eq needs one text value") in exc.value.problems


def test_if_else_takes_the_first_case_that_holds():
    frame = pd.DataFrame({"T": ["Randomized", "", "Adverse Event"], "O": ["", "Final Lab Visit", ""]})
    alg = IfElse.model_validate({"algorithm": "if_else", "cases": [
        {"when": {"column": "T", "op": "eq", "value": "Randomized"}, "value": "PROTOCOL MILESTONE"},
        {"when": {"column": "O", "op": "not_blank"}, "column": "O", "upper": True}],
        "else": {"value": "DISPOSITION EVENT"}})
    assert if_else(frame, alg).tolist() == ["PROTOCOL MILESTONE", "FINAL LAB VISIT", "DISPOSITION EVENT"]


def test_wide_form_gives_one_record_per_test_with_not_done_and_units():
    raw = pd.DataFrame({"ID": ["1", "1"], "TPT": ["after 5 min", ""], "SYS": ["", ""], "WT": ["", "0150.0"]})
    base = pd.DataFrame({"USUBJID": ["S1-1", "S1-1"]})
    tests = (FindingsTest(testcd="SYSBP", test="Systolic Blood Pressure", column="SYS", unit="mmHg",
                  when={"column": "TPT", "op": "not_blank"}),
             FindingsTest(testcd="WEIGHT", test="Weight", column="WT", unit="LB", std_unit="kg", factor=0.4536, decimals=2))
    out = expand_tests("VS", base, RawForm("f", "f.csv", raw, [2, 3]), tests)
    assert out[["VSTESTCD", "VSORRES", "VSORRESU", "VSSTRESC", "VSSTRESU", "VSSTAT"]].values.tolist() == [
        ["SYSBP", None, None, None, None, "NOT DONE"], ["WEIGHT", "150.0", "LB", "68.04", "kg", None]]
    assert out["VSSTRESN"].tolist()[1] == 68.04


def test_usubjid_from_the_study_template():
    raw = RawForm("f", "f.csv", pd.DataFrame({"PATNUM": ["701-1015 "]}), [2])
    assert usubjids(raw, "01-{PATNUM}").tolist() == ["01-701-1015"]


def test_reference_dates_from_other_domains():
    dm = pd.DataFrame({"USUBJID": ["A", "B"]})
    ex = pd.DataFrame({"USUBJID": ["A", "A"], "EXSTDTC": ["2014-01-17", "2014-01-02"], "EXENDTC": ["2014-06-18", None]})
    ds = pd.DataFrame({"USUBJID": ["A", "A", "B"], "DSDTC": ["2014-07-02", "2014-07-02T11:45", "2013-12-20"],
                       "DSCAT": ["DISPOSITION EVENT", "OTHER EVENT", "DISPOSITION EVENT"]})
    domains = {"EX": ex, "DS": ds}
    assert first_date(dm, domains, DatesArgs(of=("EX.EXSTDTC",))).iloc[0] == "2014-01-02"
    assert pd.isna(first_date(dm, domains, DatesArgs(of=("EX.EXSTDTC",))).iloc[1])
    assert last_date(dm, domains, DatesArgs(of=("DS.DSDTC",))).tolist() == ["2014-07-02T11:45", "2013-12-20"]
    where = DatesArgs(of=("DS.DSDTC",), where=({"column": "DSCAT", "op": "eq", "value": "DISPOSITION EVENT"},))
    assert last_date(dm, domains, where).tolist() == ["2014-07-02", "2013-12-20"]


def test_baseline_flag_is_the_last_result_on_or_before_the_reference_start():
    frame = pd.DataFrame({"USUBJID": ["A"] * 4, "VSTESTCD": ["SYSBP"] * 4, "RFSTDTC": ["2014-01-02"] * 4,
                          "VSDTC": ["2013-12-26", "2014-01-02", "2014-01-02", "2014-01-16"],
                          "VSORRES": ["131", "128", None, "120"]})
    got = baseline_flag(frame, BaselineArgs(date="VSDTC", result="VSORRES", by=("VSTESTCD",)))
    assert got.tolist() == [None, "Y", None, None]


def test_treatment_emergent_with_partial_start_dates():
    frame = pd.DataFrame({"AESTDTC": ["2014-01-01", "2014-01", "2013", "2014-02-01"], "RFXSTDTC": ["2014-01-11"] * 4})
    assert treatment_emergent(frame, EmergentArgs(date="AESTDTC")).tolist() == ["N", "Y", "N", "Y"]


def test_condition_as_an_expression_is_checked_at_load():
    data = minimal(ARMNRS={"algorithm": "if_else", "cases": [{"when": "ID == ", "value": "X"}]})
    with pytest.raises(MappingSpecError) as exc:
        parse_spec(data)
    [(key, message)] = exc.value.problems
    assert key == "domains.DM.variables.ARMNRS.cases.0.when" and "ID == " in message


def test_if_else_with_an_expression():
    frame = pd.DataFrame({"ARMCD": ["Scrnfail", "Pbo", ""]})
    alg = IfElse.model_validate({"algorithm": "if_else", "cases": [{"when": "ARMCD == 'Scrnfail'",
                                                                     "value": "SCREEN FAILURE"}]})
    assert if_else(frame, alg).tolist() == ["SCREEN FAILURE", None, None]


def test_actual_subjects_counts_assigned_subjects_and_is_unknown_without_armcd():
    dm = pd.DataFrame({"ARMCD": ["A", "B", "Scrnfail", None], "ARMNRS": [None, None, "SCREEN FAILURE", None]})
    assert actual_subjects(dm) == 2
    assert actual_subjects(dm.drop(columns=["ARMCD"])) is None
