"""Output paths never escape the chosen output folder, and never destroy what they should not.

Every test snapshots the whole temporary tree before and after the run: the only paths that may
change are the output folder (and, for several studies, its per-study subfolders) and the problem
list beside it (OUT.problems.json).
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import tree_digest
from converters.cli import main
from studybuilder import make_study


@pytest.fixture(autouse=True)
def light_pipeline(monkeypatch):
    """Only the XPT writing and the folder handling run: ADaM, define, survival report and
    conformance writers are stubbed (each has its own tests) to keep these tests fast."""
    import converters.pipeline as pipeline
    monkeypatch.setattr(pipeline, "write_adam", lambda *a, **k: {}, raising=False)
    for name in ("write_define", "write_report", "write_conformance"):
        monkeypatch.setattr(pipeline, name, lambda *a, **k: None, raising=False)


def snapshot(root: Path) -> dict[str, str]:
    """Every path under root (folders too), with file digests: shows created, deleted, changed."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() and not p.is_symlink() else "dir"
    return out


def changed_outside(before: dict, after: dict, *allowed: str) -> list[str]:
    allowed += tuple(f"{a}.problems.json" for a in allowed)
    keys = set(before) | set(after)
    diff = [k for k in keys if before.get(k) != after.get(k)]
    return sorted(k for k in diff if not any(k == a or k.startswith(a + "/") for a in allowed))


def convert(*args) -> "object":
    return CliRunner().invoke(main, ["convert", *map(str, args), "-q"])


def test_study_path_through_dotdot(tmp_path: Path, monkeypatch):
    make_study(tmp_path / "a")
    make_study(tmp_path / "b")
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    result = convert("a/../b", "a", "-o", "OUT")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "OUT").iterdir()) == ["a", "b"]
    assert changed_outside(before, snapshot(tmp_path), "OUT") == []


def test_study_folder_given_as_dotdot(tmp_path: Path, monkeypatch):
    study = make_study(tmp_path / "trial")
    (study / "sub").mkdir()
    other = make_study(tmp_path / "other")
    monkeypatch.chdir(study / "sub")
    before = snapshot(tmp_path)
    result = convert("..", os.path.relpath(other), "-o", tmp_path / "OUT")
    assert result.exit_code == 0, result.output
    # each package is named after the real folder, never '..' (which would land beside OUT)
    assert sorted(p.name for p in (tmp_path / "OUT").iterdir()) == ["other", "trial"]
    assert changed_outside(before, snapshot(tmp_path), "OUT") == []


def test_summary_names_the_study_not_dotdot(tmp_path: Path, monkeypatch):
    study = make_study(tmp_path / "trial")
    (study / "sub").mkdir()
    monkeypatch.chdir(study / "sub")
    result = convert("..", "-o", tmp_path / "OUT")
    assert result.exit_code == 0
    assert result.stdout.strip().splitlines()[-1].split()[:2] == ["trial", "ok"]


def test_output_path_with_dotdot_creates_nothing_on_the_way(tmp_path: Path):
    study = make_study(tmp_path / "s")
    before = snapshot(tmp_path)
    result = convert(study, "-o", tmp_path / "nowhere" / ".." / "OUT")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "OUT" / "reports" / "manifest.json").is_file()
    assert changed_outside(before, snapshot(tmp_path), "OUT") == []  # no empty 'nowhere' folder left


def test_output_whose_parent_is_a_file_is_a_usage_error(tmp_path: Path):
    study = make_study(tmp_path / "s")
    (tmp_path / "f.txt").write_text("x")
    before = snapshot(tmp_path)
    result = convert(study, "-o", tmp_path / "f.txt" / "pkg")
    assert result.exit_code == 2, result.output  # not 3 (internal error)
    assert "f.txt" in result.output
    assert snapshot(tmp_path) == before


def test_several_studies_into_an_output_that_is_a_file(tmp_path: Path):
    a, b = make_study(tmp_path / "a"), make_study(tmp_path / "b")
    (tmp_path / "f.txt").write_text("x")
    before = snapshot(tmp_path)
    result = convert(a, b, "-o", tmp_path / "f.txt")
    assert result.exit_code == 2, result.output
    assert snapshot(tmp_path) == before


def test_output_folder_equal_to_the_study_is_refused(tmp_path: Path):
    study = make_study(tmp_path / "s")
    before = snapshot(tmp_path)
    result = convert(study, "-o", study)
    assert result.exit_code == 2
    assert snapshot(tmp_path) == before


def test_output_package_containing_the_study_is_not_replaced(tmp_path: Path):
    """Replacing OUT would delete OUT/study, the very source being converted."""
    study = make_study(tmp_path / "s")
    out = tmp_path / "OUT"
    assert convert(study, "-o", out).exit_code == 0
    inside = out / "study"
    shutil.copytree(study, inside)
    source = tree_digest(inside)
    result = convert(inside, "-o", out)
    assert inside.is_dir() and tree_digest(inside) == source, "the study folder was deleted"
    assert result.exit_code == 2, result.output


def test_output_inside_the_study_folder_is_not_read_as_source(tmp_path: Path):
    study = make_study(tmp_path / "s")
    before = snapshot(tmp_path)
    for _ in range(2):  # the second run sees the first package inside the study folder
        result = convert(study, "-o", study / "out")
        assert result.exit_code == 0, result.output
    assert changed_outside(before, snapshot(tmp_path), "s/out") == []


def test_two_studies_with_the_same_folder_name_write_nothing(tmp_path: Path):
    a = make_study(tmp_path / "x" / "study")
    b = make_study(tmp_path / "y" / "study")
    before = snapshot(tmp_path)
    result = convert(a, b, "-o", tmp_path / "OUT")
    assert result.exit_code == 2
    assert "same name" in result.output
    assert snapshot(tmp_path) == before


def test_the_same_study_twice_is_refused(tmp_path: Path):
    a = make_study(tmp_path / "study")
    result = convert(a, tmp_path / "." / "study", "-o", tmp_path / "OUT")
    assert result.exit_code == 2
    assert not (tmp_path / "OUT").exists()


def test_non_ascii_study_folder_name(tmp_path: Path):
    a, b = make_study(tmp_path / "étude-α"), make_study(tmp_path / "b")
    before = snapshot(tmp_path)
    result = convert(a, b, "-o", tmp_path / "OUT")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "OUT" / "étude-α" / "sdtm" / "dm.xpt").is_file()
    assert changed_outside(before, snapshot(tmp_path), "OUT") == []


def test_dataset_files_stay_in_their_folders(tmp_path: Path, monkeypatch):
    """Every file of a package is under sdtm/, adam/ or reports/ with a plain lower-case name."""
    monkeypatch.undo()  # the real writers: every file they make is checked
    out = tmp_path / "OUT"
    assert convert(make_study(tmp_path / "s"), "-o", out).exit_code == 0
    files = [p for p in out.rglob("*")]
    assert any(p.suffix == ".xpt" for p in files)
    for p in files:
        rel = p.relative_to(out)
        assert rel.parts[0] in ("sdtm", "adam", "reports"), rel
        assert ".." not in rel.parts and p.resolve().is_relative_to(out.resolve())
        assert rel.name == rel.name.lower(), rel
