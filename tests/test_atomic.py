"""Atomic output: a `cdisc convert` killed at any moment leaves the previous package byte-identical.

The package is built in a hidden sibling `.OUT.staging-<pid>` and renamed into place when complete
(converters/package/atomic.py). These tests start a real process, wait for a given moment of the
build (staging folder created, SDTM written, define.xml written), kill it with SIGKILL or SIGINT, and
check the previous package; then a following run must succeed and leave no staging folder behind.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import converters.package.atomic as atomic
from conftest import ROOT, tree_digest
from converters.cli import main
from studybuilder import AES, changed, make_study

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")

# moment -> file inside the staging folder whose appearance triggers the kill ("" = the folder itself)
# (SDTM XPT files are written first, then ADaM, then the two define.xml files)
MOMENTS = {"staging": "", "sdtm": "sdtm/dm.xpt", "adam": "adam/adsl.xpt", "define": "sdtm/define.xml"}
SCENARIOS = [(signal.SIGKILL, "staging"), (signal.SIGKILL, "adam"), (signal.SIGKILL, "define"),
             (signal.SIGINT, "sdtm")]


def hidden_siblings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


@pytest.fixture(scope="module")
def previous(tmp_path_factory) -> tuple[Path, Path, dict[str, str]]:
    """A study (whose next run gives a different package) and the package of its previous version."""
    base = tmp_path_factory.mktemp("previous")
    old = make_study(base / "old")
    pkg = base / "pkg"
    assert CliRunner().invoke(main, ["convert", str(old), "-o", str(pkg), "-q"]).exit_code == 0
    new = make_study(base / "study", aes=changed(AES, 0, verbatim_term="CRS (updated)"))
    return new, pkg, tree_digest(pkg)


def start(study: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "converters.cli", "convert", str(study), "-o", str(out)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kill_at(proc: subprocess.Popen, out: Path, moment: str, sig: int) -> bool:
    """Poll for the moment and send ``sig``; False if the process finished first."""
    target = out.parent / f".{out.name}.staging-{proc.pid}" / MOMENTS[moment]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if target.exists():
            proc.send_signal(sig)
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.002)
    proc.kill()
    raise AssertionError("the run neither reached the moment nor finished in 60 s")


_RUNS: dict = {}


@pytest.fixture
def killed(request, previous, tmp_path_factory):
    """Each scenario runs once; both tests below read its outcome."""
    sig, moment = request.param
    key = (sig, moment)
    if key not in _RUNS:
        study, pkg, before = previous
        base = tmp_path_factory.mktemp(f"kill-{sig.name}-{moment}")
        out = base / "pkg"
        shutil.copytree(pkg, out)
        proc = start(study, out)
        hit = kill_at(proc, out, moment, sig)
        stdout, stderr = proc.communicate(timeout=60)
        _RUNS[key] = dict(study=study, out=out, before=before, hit=hit, code=proc.returncode,
                          output=stdout + stderr, pid=proc.pid)
    return _RUNS[key]


IDS = [f"{s.name}-{m}" for s, m in SCENARIOS]


@pytest.mark.parametrize("killed", SCENARIOS, ids=IDS, indirect=True)
def test_killed_run_leaves_the_previous_package_intact(killed):
    # every moment is a file the run creates well before it ends: missing it means the staging
    # layout changed, which must fail rather than pass unseen
    assert killed["hit"], "the run finished before the moment was seen"
    assert killed["code"] != 0
    assert tree_digest(killed["out"]) == killed["before"]
    assert "Traceback" not in killed["output"], killed["output"][-2000:]


@pytest.mark.parametrize("killed", [s for s in SCENARIOS if s[0] == signal.SIGINT],
                         ids=[i for i, s in zip(IDS, SCENARIOS) if s[0] == signal.SIGINT], indirect=True)
def test_interrupted_run_removes_its_own_staging_folder(killed):
    assert killed["hit"], "the run finished before the moment was seen"
    assert hidden_siblings(killed["out"]) == []


@pytest.mark.parametrize("killed", [(signal.SIGKILL, "define")], ids=["SIGKILL-define"], indirect=True)
def test_run_after_a_kill_succeeds_and_removes_stale_staging(killed):
    """The dead process cannot clean up after SIGKILL; the next run must (its pid is gone)."""
    out = killed["out"]
    result = CliRunner().invoke(main, ["convert", str(killed["study"]), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert tree_digest(out) != killed["before"]  # the new package replaced the previous one
    assert hidden_siblings(out) == [], "stale staging/old folders left beside the package"


def test_stale_staging_of_a_dead_process_is_removed(study: Path, tmp_path: Path, light_pipeline):
    """Deterministic form of the above: a staging folder whose pid no longer exists."""
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # a pid that has just exited
    stale = tmp_path / f".out.staging-{proc.pid}"
    (stale / "sdtm").mkdir(parents=True)
    (stale / "sdtm" / "dm.xpt").write_bytes(b"half written")
    assert CliRunner().invoke(main, ["convert", str(study), "-o", str(out), "-q"]).exit_code == 0
    assert hidden_siblings(out) == []


def test_interrupt_between_the_two_renames_keeps_the_previous_package(study: Path, tmp_path: Path, light_pipeline,
                                                                        monkeypatch):
    """Ctrl-C after the old package was moved aside and before the new one is moved in: the old one
    must be put back at OUT (not left hidden in `.OUT.old-<pid>`)."""
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["convert", str(study), "-o", str(out), "-q"]).exit_code == 0
    before = tree_digest(out)
    (study / "ae.csv").write_text((study / "ae.csv").read_text().replace("low neutrophils", "neutropenia"))
    real = os.replace
    calls = []

    def replace(src, dst):
        calls.append((Path(src).name, Path(dst).name))
        if Path(src).name.startswith(".out.staging-"):
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    with pytest.raises((KeyboardInterrupt, click.exceptions.Abort)):  # click turns Ctrl-C into Abort
        CliRunner().invoke(main, ["convert", str(study), "-o", str(out), "-q"], catch_exceptions=False,
                           standalone_mode=False)
    monkeypatch.setattr(atomic.os, "replace", real)
    assert any(src == "out" for src, _ in calls), calls  # the window was reached
    assert out.is_dir() and tree_digest(out) == before
    assert hidden_siblings(out) == []


def test_failed_run_after_a_crash_between_renames_restores_the_package(study: Path, tmp_path: Path, light_pipeline):
    """A crash left the previous package only in `.OUT.old-<pid>`; a following run that fails on its
    input must still leave the package at OUT (recovery must not wait for a successful run)."""
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["convert", str(study), "-o", str(out), "-q"]).exit_code == 0
    before = tree_digest(out)
    os.replace(out, tmp_path / ".out.old-999999")
    (study / "rs.csv").write_text((study / "rs.csv").read_text().replace("2021-05-01", "2021-05-32"))
    assert CliRunner().invoke(main, ["convert", str(study), "-o", str(out), "-q"]).exit_code == 1
    assert out.is_dir() and tree_digest(out) == before


def test_package_files_are_readable_like_the_xpt_files(previous):
    """Files moved into place keep ordinary permissions: define.xml/define.html are written via
    mkstemp (mode 0600) and must be chmod-ed like the XPT files (0644), or a reviewer on a shared
    drive cannot open them."""
    out = previous[1]
    modes = {p.relative_to(out).as_posix(): p.stat().st_mode & 0o777 for p in out.rglob("*") if p.is_file()}
    xpt = {m for f, m in modes.items() if f.endswith(".xpt")}
    assert len(xpt) == 1
    assert {f: m for f, m in modes.items() if m != next(iter(xpt))} == {}
