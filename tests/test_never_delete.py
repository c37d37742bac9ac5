"""Writing commands never delete what is not theirs, and runs on one package do not interleave: each
case runs the real `cdisc` in a subprocess and checks what is left on disk."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, tree_digest
from converters.package.atomic import is_our_package, output_lock
from studybuilder import make_study

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX locks and signals")


def cdisc(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "converters.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=600, **kw)


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("pkg")
    study = make_study(base / "study")
    (study / "published.toml").write_text('[[figure]]\nfigure = "Treated"\npublished = 3\nunit = "patients"\n'
                                          'derive = { dataset = "ADSL", filter = "SAFFL == \'Y\'" }\n')
    run = cdisc("convert", study, "-o", base / "pkg", "-q")
    assert run.returncode == 0, run.stdout + run.stderr
    return base / "pkg"


def copy_of(package: Path, where: Path) -> Path:
    shutil.copytree(package, where)
    return where


def test_published_toml_is_hashed_in_the_manifest(package: Path):
    manifest = json.loads((package / "reports" / "manifest.json").read_text())
    files = {f["file"]: f["sha256"] for f in manifest["inputs"]}
    study = package.parent / "study"
    import hashlib
    assert files["published.toml"] == hashlib.sha256((study / "published.toml").read_bytes()).hexdigest()


def test_adam_refuses_an_output_folder_holding_its_input(package: Path, tmp_path: Path):
    pkg = copy_of(package, tmp_path / "pkg")
    before = tree_digest(pkg)
    run = cdisc("adam", pkg / "sdtm", "-o", pkg, "-q")
    assert run.returncode == 2
    assert "is inside the output folder" in run.stderr
    assert tree_digest(pkg) == before


def test_folder_with_a_foreign_manifest_is_not_replaced(package: Path, tmp_path: Path):
    out = tmp_path / "thesis"
    (out / "reports").mkdir(parents=True)
    (out / "reports" / "manifest.json").write_text('{"chapters": 3}')
    (out / "chapter1.tex").write_text("\\chapter{One}")
    before = tree_digest(out)
    run = cdisc("convert", package.parent / "study", "-o", out, "-q")
    assert run.returncode == 2
    assert "is not a cdisc-converter package" in run.stderr
    assert tree_digest(out) == before
    assert not is_our_package(out) and is_our_package(package)


def test_glob_characters_in_out_do_not_touch_another_packages_backup(package: Path, tmp_path: Path):
    """`.pkgA.old-<pid>` (another package's backup after a killed run) must not be taken as the
    backup of `pkg[A]`, which as a pattern matches it."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    backup = copy_of(package, tmp_path / f".pkgA.old-{proc.pid}")
    before = tree_digest(backup)
    run = cdisc("convert", package.parent / "study", "-o", tmp_path / "pkg[A]", "-q")
    assert run.returncode == 0, run.stderr
    assert backup.is_dir() and tree_digest(backup) == before
    assert is_our_package(tmp_path / "pkg[A]")


def test_a_second_writer_is_refused_while_the_first_holds_out(package: Path, tmp_path: Path):
    pkg = copy_of(package, tmp_path / "pkg")
    before = tree_digest(pkg)
    with output_lock(pkg):  # this process plays the first run
        run = cdisc("convert", package.parent / "study", "-o", pkg, "-q")
        define = cdisc("define", pkg)
    assert run.returncode == 2 and f"is being written by process {os.getpid()}" in run.stderr
    assert define.returncode == 2 and f"is being written by process {os.getpid()}" in define.stderr
    assert tree_digest(pkg) == before
    assert not (tmp_path / ".pkg.lock").exists()  # the last holder removes the lock file


def test_validate_waits_for_the_writer(package: Path, tmp_path: Path):
    pkg = copy_of(package, tmp_path / "pkg")
    with output_lock(pkg):
        proc = subprocess.Popen([sys.executable, "-m", "converters.cli", "validate", str(pkg), "-q"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        time.sleep(3)
        assert proc.poll() is None  # still waiting
    out, err = proc.communicate(timeout=300)
    assert f"waiting for process {os.getpid()}" in err
    assert proc.returncode == 0, out + err
    with output_lock(pkg):  # its sdtm/ folder alone is part of the package too
        proc = subprocess.Popen([sys.executable, "-m", "converters.cli", "validate", str(pkg / "sdtm"), "-q"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        time.sleep(3)
        assert proc.poll() is None
    out, err = proc.communicate(timeout=300)
    assert f"waiting for process {os.getpid()}" in err


@pytest.mark.parametrize("command", [("compare", "{pkg}", "{pkg}/sdtm/dm.xpt", "-d", "DM", "-q"),
                                     ("explain", "{pkg}", "DM", "USUBJID=NOBODY")])
def test_compare_and_explain_wait_for_the_writer(package: Path, tmp_path: Path, command):
    pkg = copy_of(package, tmp_path / "pkg")
    args = [a.format(pkg=pkg) for a in command]
    with output_lock(pkg):
        proc = subprocess.Popen([sys.executable, "-m", "converters.cli", *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        time.sleep(3)
        assert proc.poll() is None  # still waiting
    out, err = proc.communicate(timeout=300)
    assert f"waiting for process {os.getpid()}" in err
    assert proc.returncode in (0, 1, 2) and "internal error" not in err, out + err


def test_sigterm_stops_the_pool_workers_and_their_staging(tmp_path: Path):
    studies = [make_study(tmp_path / name) for name in ("s1", "s2")]
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "converters.cli", "convert", *map(str, studies), "-o", str(out),
                             "-j", "2", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    workers: set[int] = set()
    deadline = time.time() + 120
    while len(workers) < 2 and time.time() < deadline and proc.poll() is None:
        if out.is_dir():
            workers |= {int(p.name.rsplit("-", 1)[1]) for p in out.iterdir() if ".staging-" in p.name}
        time.sleep(0.05)
    assert workers, "no worker reached its staging folder"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    time.sleep(1)
    alive = [pid for pid in workers if Path(f"/proc/{pid}").exists()
             and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()]
    assert alive == []
    assert [p.name for p in out.iterdir() if ".staging-" in p.name] == []


def test_adam_config_is_hashed_in_the_manifest(package: Path, tmp_path: Path):
    import hashlib
    config = package.parent / "study" / "study.toml"
    run = cdisc("adam", package / "sdtm", "-o", tmp_path / "adam", "--config", config, "-q")
    assert run.returncode == 0, run.stdout + run.stderr
    inputs = {f["file"]: f["sha256"] for f in json.loads((tmp_path / "adam" / "reports" / "manifest.json").read_text())["inputs"]}
    assert inputs["study.toml"] == hashlib.sha256(config.read_bytes()).hexdigest()
    assert "dm.xpt" in inputs
