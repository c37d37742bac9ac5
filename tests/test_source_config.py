"""Configuration problems (study.toml): reported as Problems, exit 1, nothing written."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from converters.cli import main
from converters.source.load import load_study
from studybuilder import CONFIG, make_study


def convert(folder: Path, out: Path):
    return CliRunner().invoke(main, ["convert", str(folder), "-o", str(out)])


def assert_failed_cleanly(result, out: Path, *needles: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]  # no staging left
    for n in needles:
        assert n in result.stdout, result.stdout


def test_missing_study_toml(study: Path, tmp_path: Path):
    (study / "study.toml").unlink()
    (p,) = load_study(study).problems
    assert (p.file, p.rule) == ("study.toml", "CFG-MISSING")
    assert_failed_cleanly(convert(study, tmp_path / "out"), tmp_path / "out", "study.toml", "CFG-MISSING")


def test_toml_syntax_error_names_the_line(tmp_path: Path):
    config = CONFIG.replace('phase = "PHASE I TRIAL"', 'phase = "PHASE I TRIAL')  # unclosed string, line 6
    folder = make_study(tmp_path / "s", config=config)
    (p,) = load_study(folder).problems
    assert (p.file, p.row, p.rule) == ("study.toml", 6, "CFG-SYNTAX")
    assert "\n" not in p.message
    assert_failed_cleanly(convert(folder, tmp_path / "out"), tmp_path / "out", "CFG-SYNTAX")


def test_missing_key_names_the_field(tmp_path: Path):
    folder = make_study(tmp_path / "s", config=re.sub(r"data_cutoff = .*\n", "", CONFIG))
    (p,) = load_study(folder).problems
    assert (p.file, p.field, p.rule) == ("study.toml", "study.data_cutoff", "CFG-VALUE")
    assert_failed_cleanly(convert(folder, tmp_path / "out"), tmp_path / "out", "study.data_cutoff", "CFG-VALUE")


def test_bad_value_names_the_field_and_value(tmp_path: Path):
    folder = make_study(tmp_path / "s", config=CONFIG.replace('data_cutoff = "2022-12-31"', 'data_cutoff = "2022-13-01"'))
    (p,) = load_study(folder).problems
    assert (p.field, p.value, p.rule) == ("study.data_cutoff", "2022-13-01", "CFG-VALUE")


def test_unknown_key_is_an_error(tmp_path: Path):
    folder = make_study(tmp_path / "s", config=CONFIG.replace("[study]\n", "[study]\ncutoff = \"2022-12-31\"\n"))
    (p,) = load_study(folder).problems
    assert (p.field, p.rule) == ("study.cutoff", "CFG-VALUE")


@pytest.mark.parametrize("path", ["../rs.csv", "sub/../../rs.csv", "/tmp/rs.csv"])
def test_source_path_outside_the_study_folder(tmp_path: Path, path: str):
    folder = make_study(tmp_path / "s", config=CONFIG.replace('path = "rs.csv"', f'path = "{path}"'))
    (tmp_path / "rs.csv").write_bytes((folder / "rs.csv").read_bytes())  # the file exists out there
    problems = load_study(folder).problems
    assert len(problems) == 1 and problems[0].rule in ("CFG-VALUE", "CFG-PATH")
    assert "sources.response.path" in problems[0].message + problems[0].field
    assert_failed_cleanly(convert(folder, tmp_path / "out"), tmp_path / "out", "sources.response.path")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_source_path_through_a_symlink_leaving_the_folder(tmp_path: Path):
    folder = make_study(tmp_path / "s", config=CONFIG.replace('path = "rs.csv"', 'path = "link/rs.csv"'))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "rs.csv").write_bytes((folder / "rs.csv").read_bytes())
    (folder / "link").symlink_to(outside, target_is_directory=True)
    (p,) = load_study(folder).problems
    assert (p.field, p.rule) == ("sources.response.path", "CFG-PATH")
    assert_failed_cleanly(convert(folder, tmp_path / "out"), tmp_path / "out", "CFG-PATH")


def test_missing_form_in_sources(tmp_path: Path):
    config = CONFIG.replace('[sources.response]\npath = "rs.csv"\n', "")
    (p,) = load_study(make_study(tmp_path / "s", config=config)).problems
    assert p.rule == "CFG-VALUE" and "response" in p.message


def test_arm_naming_an_unknown_treatment(tmp_path: Path):
    config = CONFIG.replace('treatment = "DRUG"', 'treatment = "OTHER"')
    (p,) = load_study(make_study(tmp_path / "s", config=config)).problems
    assert p.rule == "CFG-VALUE" and "OTHER" in p.message


def test_config_not_utf8(tmp_path: Path):
    folder = make_study(tmp_path / "s", config=CONFIG.replace("Test sponsor", "Test sponsor \u00e9"))
    (folder / "study.toml").write_bytes(CONFIG.replace("Test sponsor", "Test sponsor \u00e9").encode("cp1252"))
    (p,) = load_study(folder).problems
    assert (p.file, p.rule) == ("study.toml", "CFG-ENCODING")
