"""Bad mapping-spec input: a clear message naming the spec key or the raw file/row/column, nothing written."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from converters.cli import main
from converters.pipeline import convert_study

PILOT = Path(__file__).resolve().parents[1] / "examples" / "cdiscpilot01"


@pytest.fixture
def study(tmp_path) -> Path:
    dest = tmp_path / "pilot"
    shutil.copytree(PILOT, dest, ignore=shutil.ignore_patterns("README.md"))
    return dest


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def failed(study: Path, tmp_path: Path):
    out = tmp_path / "out"
    result = convert_study(study, out)
    assert not result.ok and not out.exists()
    return result.problems


def test_unknown_variable_names_its_key(study, tmp_path):
    edit(study / "mapping.toml", "AGEU = {", "AGEX = {")
    [p] = failed(study, tmp_path)
    assert p.file == "mapping.toml" and p.field == "domains.DM.variables.AGEX" and "unknown variable AGEX" in p.message


def test_unknown_algorithm_lists_the_allowed_ones(study, tmp_path):
    edit(study / "mapping.toml", 'SEX = { algorithm = "assign_ct"', 'SEX = { algorithm = "assign_cts"')
    [p] = failed(study, tmp_path)
    assert p.field == "domains.DM.variables.SEX" and "'assign_cts'" in p.message and "assign_no_ct" in p.message


def test_unknown_codelist(study, tmp_path):
    edit(study / "mapping.toml", 'codelist = "SEX"', 'codelist = "GENDER"')
    [p] = failed(study, tmp_path)
    assert p.field == "domains.DM.variables.SEX.codelist" and "GENDER" in p.message


def test_unknown_verb_lists_the_verbs(study, tmp_path):
    edit(study / "mapping.toml", 'verb = "study_day", date = "DMDTC"', 'verb = "studyday", date = "DMDTC"')
    [p] = failed(study, tmp_path)
    assert p.field == "domains.DM.variables.DMDY.verb" and "first_date" in p.message


def test_collected_value_outside_ct_and_term_map(study, tmp_path):
    edit(study / "source" / "dm_raw.csv", "701-1015,63,Female", "701-1015,63,Femme")
    problems = failed(study, tmp_path)
    [p] = [p for p in problems if p.severity == "error"]
    assert (p.file, p.row, p.field, p.value, p.rule) == ("source/dm_raw.csv", 2, "IT.SEX", "Femme", "MAP-CT-UNRESOLVED")


def test_raw_column_missing_from_the_file(study, tmp_path):
    edit(study / "source" / "ec_raw.csv", "DOSFRQ", "DOSFREQ")
    problems = failed(study, tmp_path)
    assert {(p.file, p.field, p.rule) for p in problems} == {
        ("source/ec_raw.csv", "DOSFRQ", "MAP-COLUMN-MISSING"), ("source/ec_raw.csv", "DOSFREQ", "MAP-COLUMN-UNDECLARED")}


def test_date_not_matching_its_declared_format(study, tmp_path):
    edit(study / "source" / "ec_raw.csv", "02-Jan-2014,16-Jan-2014", "2014-01-02,16-Jan-2014")
    [p] = failed(study, tmp_path)
    assert (p.file, p.row, p.field, p.rule) == ("source/ec_raw.csv", 2, "IT.ECSTDAT", "MAP-DATE-FORMAT")
    assert "dd-MMM-yyyy" in p.message


def test_value_not_of_its_declared_type(study, tmp_path):
    edit(study / "source" / "dm_raw.csv", "701-1015,63,Female", "701-1015,sixty-three,Female")
    [p] = failed(study, tmp_path)
    assert (p.file, p.row, p.field, p.value, p.rule) == ("source/dm_raw.csv", 2, "IT.AGE", "sixty-three", "MAP-TYPE")


def test_duplicate_key_is_a_cross_record_error(study, tmp_path):
    edit(study / "source" / "dm_raw.csv", "701-1023,64", "701-1015,64")
    [p] = failed(study, tmp_path)
    assert (p.file, p.row, p.field, p.value, p.rule) == ("source/dm_raw.csv", 3, "PATNUM", "701-1015", "MAP-KEY-DUPLICATE")


def test_column_neither_mapped_nor_excused(study, tmp_path):
    edit(study / "mapping.toml", 'COUNTRY = { algorithm = "assign_no_ct", column = "COUNTRY" }\n', "")
    [p] = failed(study, tmp_path)
    assert p.field == "forms.dm_raw.columns.COUNTRY" and "not_submitted" in p.message


def test_cli_exit_status_1_and_nothing_written(study, tmp_path):
    edit(study / "mapping.toml", "AGEU = {", "AGEX = {")
    out = tmp_path / "cli-out"
    res = CliRunner().invoke(main, ["convert", str(study), "-o", str(out)])
    assert res.exit_code == 1 and not out.exists()
    assert "unknown variable AGEX of DM" in res.output
    listed = json.loads((tmp_path / "cli-out.problems.json").read_text())["problems"]
    assert [(p["file"], p["field"]) for p in listed] == [("mapping.toml", "domains.DM.variables.AGEX")]


def test_plan_prints_the_mapping_and_writes_nothing(study, tmp_path):
    out = tmp_path / "plan-out"
    res = CliRunner().invoke(main, ["convert", str(study), "-o", str(out), "--plan"])
    assert res.exit_code == 0, res.output
    assert not out.exists()
    assert "ae_raw -> AE" in res.output
    assert "AESEV <- IT.AESEV  assign_ct AESEV (Mild Adverse Event -> MILD" in res.output
    assert "not submitted: FOLDER (EDC folder name" in res.output


def test_spec_init_types_the_columns_and_leaves_todos(tmp_path):
    study = tmp_path / "new"
    shutil.copytree(PILOT / "source", study / "source")
    res = CliRunner().invoke(main, ["spec", "init", str(study / "source"), "-o", str(study / "mapping.toml")])
    assert res.exit_code == 0, res.output
    text = (study / "mapping.toml").read_text()
    assert 'file = "source/ds_raw.csv"' in text
    assert '"DSTMCOL" = { type = "time", formats = ["HH:nn"] }' in text
    assert '"IT.AESTDAT" = { type = "date", formats = ["mm/dd/yyyy", "yyyy"] }' in text
    assert '"IT.ECSTDAT" = { type = "date", formats = ["dd-MMM-yyyy"] }' in text
    assert '"IT.AGE" = "integer"' in text
    plan = CliRunner().invoke(main, ["convert", str(study), "-o", str(tmp_path / "o"), "--plan"])
    assert plan.exit_code == 1 and "study.usubjid: still a TODO" in plan.output


def test_spec_init_guesses_no_ambiguous_date_layout(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "f.csv").write_text("ID,D\n1,03/04/2014\n2,01/02/2013\n")
    res = CliRunner().invoke(main, ["spec", "init", str(tmp_path / "raw"), "-o", str(tmp_path / "m.toml")])
    assert res.exit_code == 0
    assert '"D" = "text"  # TODO: a date in one of mm/dd/yyyy | dd/mm/yyyy' in (tmp_path / "m.toml").read_text()


def test_visit_missing_from_the_visit_map(study, tmp_path):
    edit(study / "source" / "ec_raw.csv", "701-1015,Week 2,", "701-1015,Week 3,")
    [p] = failed(study, tmp_path)
    assert (p.file, p.row, p.field, p.value, p.rule) == ("source/ec_raw.csv", 3, "VISITNAME", "Week 3", "MAP-VISIT-UNKNOWN")


def test_subject_level_verb_outside_dm(study, tmp_path):
    edit(study / "mapping.toml", 'AESTDY = { algorithm = "derive", verb = "study_day", date = "AESTDTC" }',
         'AESTDY = { algorithm = "derive", verb = "first_date", of = ["EX.EXSTDTC"] }')
    [p] = failed(study, tmp_path)
    assert p.field == "domains.AE.variables.AESTDY.verb" and "DM only" in p.message


def test_unknown_trial_summary_parameter(study, tmp_path):
    edit(study / "mapping.toml", 'TPHASE = "PHASE II TRIAL"', 'TPHAZE = "PHASE II TRIAL"')
    [p] = failed(study, tmp_path)
    assert p.field == "trial_summary.TPHAZE" and "TPHASE" in p.message


def test_a_form_in_json_lines_maps_like_its_csv(study, tmp_path):
    import pandas as pd
    raw = pd.read_csv(study / "source" / "ec_raw.csv", dtype=str, keep_default_na=False)
    raw.to_json(study / "source" / "ec_raw.jsonl", orient="records", lines=True)
    (study / "source" / "ec_raw.csv").unlink()
    edit(study / "mapping.toml", 'file = "source/ec_raw.csv"', 'file = "source/ec_raw.jsonl"')
    result = convert_study(study, tmp_path / "out")
    assert result.ok, result.problems[:3]
    assert result.records["EX"] == 591
