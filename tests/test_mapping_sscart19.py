"""The ssCART-19 example mapped by a mapping spec (tests/fixtures/sscart19-mapping.toml) and the verbs
it needs: its SDTM equals the built-in mapping's byte for byte."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from converters.mapping.engine import actual_subjects, check_spec, expand_tests
from converters.mapping.forms import RawForm, read_form
from converters.mapping.spec import FindingsTest, Form, parse_spec
from converters.mapping.verbs import (CaseArgs, EpochArgs, LatestArgs, LookupArgs, ValueWhereArgs, case_when, epoch,
                                      first_record_lookup, latest_date, value_where)
from converters.pipeline import convert_study

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "sscart19"
SPEC = ROOT / "tests" / "fixtures" / "sscart19-mapping.toml"
SDTM = ("ae", "dm", "ex", "rs", "suppae", "suppdm", "ts")


def _copy(tmp_path: Path, name: str, spec: str | None = None) -> Path:
    folder = shutil.copytree(EXAMPLE, tmp_path / name)
    if spec is not None:
        (folder / "mapping.toml").write_text(spec, encoding="utf-8")
    return folder


def test_the_spec_reproduces_the_example_sdtm_byte_for_byte(tmp_path, light_pipeline):
    built_in = convert_study(_copy(tmp_path, "built-in"), tmp_path / "out-built-in")
    mapped = convert_study(_copy(tmp_path, "mapped", SPEC.read_text(encoding="utf-8")), tmp_path / "out-mapped")
    assert built_in.ok and mapped.ok, [p.message for p in built_in.problems + mapped.problems][:5]
    assert sorted(p.stem for p in (tmp_path / "out-mapped" / "sdtm").glob("*.xpt")) == list(SDTM)
    for name in SDTM:
        ours = (tmp_path / "out-mapped" / "sdtm" / f"{name}.xpt").read_bytes()
        assert ours == (tmp_path / "out-built-in" / "sdtm" / f"{name}.xpt").read_bytes(), name
    assert mapped.records["DM"] == 31 and mapped.records["RS"] == 242 and mapped.records["TS"] == 30


def test_a_bad_date_in_the_raw_export_stops_the_mapped_conversion(tmp_path):
    folder = _copy(tmp_path, "bad", SPEC.read_text(encoding="utf-8"))
    subjects = folder / "source" / "subjects.csv"
    subjects.write_text(subjects.read_text(encoding="utf-8-sig").replace("2021-05-14", "14.05.2021", 1),
                        encoding="utf-8")
    result = convert_study(folder, tmp_path / "out")
    assert not result.ok and not (tmp_path / "out").exists()
    [bad] = [p for p in result.problems if p.severity == "error"]
    assert (bad.file, bad.field, bad.value) == ("source/subjects.csv", "infusion_date", "14.05.2021")


def _spec_data() -> dict:
    import tomllib
    return tomllib.loads(SPEC.read_text(encoding="utf-8"))


def test_an_epoch_boundary_must_be_a_variable_mapped_in_dm():
    data = _spec_data()
    data["domains"]["AE"]["variables"]["EPOCH"]["boundaries"][0]["variable"] = "RFENDTC2"
    problems = check_spec(parse_spec(data))
    assert ("domains.AE.variables.EPOCH.boundaries", "RFENDTC2: not a variable the spec maps in DM") in problems


def test_a_lookup_in_an_unmapped_domain_and_a_latest_date_over_text_are_refused():
    data = _spec_data()
    data["domains"]["DM"]["variables"]["ACTARMCD"]["domain"] = "EC"
    data["domains"]["DM"]["variables"]["RFPENDTC"]["columns"] = ["cohort", "death_date"]
    problems = dict(check_spec(parse_spec(data)))
    assert problems["domains.DM.variables.ACTARMCD.domain"] == "EC is not a mapped domain"
    assert problems["domains.DM.variables.RFPENDTC.columns"] == "cohort: not declared as date columns"


def test_renamed_columns_and_a_byte_order_mark(tmp_path):
    (tmp_path / "s.csv").write_bytes("\ufeffSUBJNO,AGE\n001,45\n".encode("utf-8"))
    form = Form.model_validate({"file": "s.csv", "rename": {"SUBJNO": "subject_id"},
                                "columns": {"subject_id": "text", "AGE": "integer"}})
    raw, problems = read_form(tmp_path, "s", form)
    assert problems == [] and raw.frame.to_dict("records") == [{"subject_id": "001", "AGE": "45"}]


def test_epoch_from_ordered_boundaries():
    f = pd.DataFrame({"D": ["2021-05-08", "2021-05-09", "2021-05-14", "2021-05-15", "2021-05", "", "2021-05-20"],
                      "RFXSTDTC": ["2021-05-09"] * 6 + [None], "RFSTDTC": ["2021-05-14"] * 5 + [None, None]})
    args = EpochArgs(date="D", first="SCREENING", boundaries=[{"variable": "RFXSTDTC", "epoch": "TREATMENT"},
                                                               {"variable": "RFSTDTC", "epoch": "FOLLOW-UP", "after": True}])
    # a partial date spanning two epochs has none; without a first treatment date nothing has begun
    assert epoch(f, args).tolist() == ["SCREENING", "TREATMENT", "TREATMENT", "FOLLOW-UP", None, None, "SCREENING"]


def test_latest_date_by_the_latest_day_each_can_denote():
    d = pd.DataFrame({"ALIVE": ["2024-11-30", "", "2021-04"], "DEATH": ["", "2021-04-29", "2021-04-15"]})
    assert latest_date(d, LatestArgs(columns=("ALIVE", "DEATH"))).tolist() == ["2024-11-30", "2021-04-29", "2021-04"]


def test_first_record_lookup_with_numbers_as_written_and_an_unmatched_template():
    ex = pd.DataFrame({"USUBJID": ["A", "A", "B", "C"], "EXTRT": ["LD", "CAR", "CAR", "CAR"],
                       "EXDOSE": ["30.0", "5.0", "2.5", "1"], "EXSTDTC": ["2021-01-01", "2021-01-05", "2021-02-01", ""]})
    dm = pd.DataFrame({"USUBJID": ["A", "B", "C", "D"]})
    known = {"CAR 5": "DL2", "CAR 1": "DL1"}
    code = LookupArgs(domain="EX", key="{EXTRT} {EXDOSE}", values=known, where=["EXTRT == 'CAR'"], order=["EXSTDTC"])
    other = LookupArgs(domain="EX", key="{EXTRT} {EXDOSE}", values={k: "" for k in known}, unmatched="{EXTRT} {EXDOSE}",
                       where=["EXTRT == 'CAR'"])
    assert first_record_lookup(dm, {"EX": ex}, code).tolist() == ["DL2", None, "DL1", None]
    assert first_record_lookup(dm, {"EX": ex}, other).tolist() == [None, "CAR 2.5", None, None]


def test_case_when_and_value_where_on_the_mapped_record():
    dm = pd.DataFrame({"ARMCD": [None, "DL1", "DL1", "DL2"], "ACTARMCD": [None, None, "DL1", None],
                       "ACTARMUD": [None, None, None, "CAR 2.5"], "RFPENDTC": ["2021-04-29", "2022", "2024-11-30", "2023"]})
    cases = CaseArgs(cases=[{"when": "ACTARMUD is not missing", "value": "UNPLANNED TREATMENT"},
                            {"when": "ARMCD is missing", "value": "SCREEN FAILURE"},
                            {"when": "ACTARMCD is missing", "value": "ASSIGNED, NOT TREATED"}])
    assert case_when(dm, cases).tolist() == ["SCREEN FAILURE", "ASSIGNED, NOT TREATED", None, "UNPLANNED TREATMENT"]
    treated = ValueWhereArgs(variable="RFPENDTC", where=["ACTARMCD is not missing or ACTARMUD is not missing"])
    assert value_where(dm, treated).tolist() == [None, None, "2024-11-30", "2023"]
    dm["ARMNRS"] = case_when(dm, cases)
    assert actual_subjects(dm) == 3  # entered: the screen failure does not count, the untreated do


def test_text_results_with_category_recoding_and_method():
    raw = pd.DataFrame({"R": ["CR", "RELAPSE", ""], "M": ["NEGATIVE", "", "POSITIVE"], "HOW": ["FLOW", "", "PCR"]})
    tests = (FindingsTest(testcd="OVRLRESP", test="Overall Response", column="R", category="PROTOCOL",
                          term_map={"RELAPSE": "RELAPSED DISEASE"}),
             FindingsTest(testcd="MRDRESP", test="MRD Response", column="M", category="MRD", method="HOW"))
    out = expand_tests("RS", pd.DataFrame({"USUBJID": ["A", "A", "A"]}), RawForm("f", "f.csv", raw, [2, 3, 4]), tests)
    got = out[["RSTESTCD", "RSCAT", "RSORRES", "RSSTRESC", "RSMETHOD"]].astype(object)
    assert got.where(got.notna(), None).values.tolist() == [
        ["OVRLRESP", "PROTOCOL", "CR", "CR", None], ["OVRLRESP", "PROTOCOL", "RELAPSE", "RELAPSED DISEASE", None],
        ["MRDRESP", "MRD", "NEGATIVE", "NEGATIVE", "FLOW"], ["MRDRESP", "MRD", "POSITIVE", "POSITIVE", "PCR"]]
    assert out["RSSTRESN"].isna().all()


def test_trial_summary_codes_must_name_a_parameter():
    data = _spec_data()
    data["trial_summary_codes"] = {"INDICATION": "91857003"}
    problems = dict(check_spec(parse_spec(data)))
    assert problems["trial_summary.INDICATION"].startswith("not a parameter of ts_parameters.csv")


@pytest.mark.parametrize("verb, args, key", [
    ("epoch", {"date": "AESTDTC", "first": "SCREENING", "boundaries": []}, "boundaries"),
    ("case_when", {"cases": [{"when": "AESER ==", "value": "X"}]}, "cases.0.when"),
])
def test_bad_verb_arguments_name_their_key(verb, args, key):
    data = _spec_data()
    data["domains"]["AE"]["variables"]["EPOCH"] = {"algorithm": "derive", "verb": verb, **args}
    problems = dict(check_spec(parse_spec(data)))
    assert any(k.startswith(f"domains.AE.variables.EPOCH.{key}") for k in problems), problems
