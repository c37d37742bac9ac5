"""Reproducible packages and a manifest that reconciles every source row.

The same study converted on "another day" gives the same bytes: faketime is not available, so the
runs differ in what a clock-, locale- or path-dependent build would leak: the time zone (Etc/GMT+12
and Etc/GMT-14 are 26 hours apart, so their local calendar days always differ), the working folder,
the output path (relative and absolute), the study folder's location and name, and the hash seed
(PYTHONHASHSEED 0, 1 and random: set/dict iteration order).
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT, tree_digest
from converters.cli import main
from converters.xpt import read_xpt
from studybuilder import AES, SUBJECTS, changed, make_study

RUNS = {
    # name: (TZ, PYTHONHASHSEED, working folder, output given as)
    "a": ("UTC", "0", "root", "absolute"),
    "b": ("Etc/GMT-14", "1", "tmp", "relative"),
    "c": ("Etc/GMT+12", "random", "study", "absolute"),
}


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("repro")
    study = make_study(base / "study")
    elsewhere = base / "deeper" / "copy"
    elsewhere.parent.mkdir()
    shutil.copytree(study, elsewhere)  # same inputs, another location and folder name
    procs, outs = {}, {}
    for name, (tz, seed, cwd_kind, out_kind) in RUNS.items():
        cwd = {"root": ROOT, "tmp": base, "study": study}[cwd_kind]
        src = elsewhere if name == "c" else study
        out = base / f"out-{name}" / "nested" / "pkg"
        out_arg = os.path.relpath(out, cwd) if out_kind == "relative" else str(out)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TZ": tz, "PYTHONHASHSEED": seed}
        env.pop("SOURCE_DATE_EPOCH", None)
        procs[name] = subprocess.Popen([sys.executable, "-m", "converters.cli", "convert", str(src), "-o", out_arg, "-q"],
                                       cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        outs[name] = out
    for name, proc in procs.items():
        output, _ = proc.communicate(timeout=180)
        assert proc.returncode == 0, (name, output)
    return outs


def test_packages_are_byte_identical_across_days_zones_paths_and_hash_seeds(packages):
    digests = {name: tree_digest(out) for name, out in packages.items()}
    assert any(f.endswith("define.xml") for f in digests["a"]) and any(f.endswith(".xpt") for f in digests["a"])
    assert any(f.endswith("define.html") for f in digests["a"])
    for name in ("b", "c"):
        differing = sorted(f for f in set(digests["a"]) | set(digests[name])
                           if digests["a"].get(f) != digests[name].get(f))
        assert differing == [], f"run {name} differs in {differing}"


def test_manifest_hashes_prove_it(packages):
    manifests = {n: json.loads((p / "reports" / "manifest.json").read_text()) for n, p in packages.items()}
    for name, m in manifests.items():
        for entry in m["outputs"]:
            data = (packages[name] / entry["file"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"], (name, entry["file"])
    assert manifests["a"] == manifests["b"] == manifests["c"]
    # nothing of the machine or the run leaks into the manifest
    text = (packages["a"] / "reports" / "manifest.json").read_text()
    assert str(packages["a"].parent) not in text and "/tmp" not in text


def test_package_holds_no_local_paths(packages):
    """Absolute paths of the build machine would make the package differ per run and leak layout."""
    for p in packages["a"].rglob("*"):
        if p.is_file():
            assert str(packages["a"].parents[2]).encode() not in p.read_bytes(), p


# --- reconciliation: every source row is accounted for --------------------------------------------

def count_csv_records(path: Path) -> int:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    return sum(1 for r in rows[1:] if any(c.strip() for c in r))


def count_jsonl_records(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def test_manifest_reconciles_every_row_of_a_run_with_warnings(tmp_path: Path):
    subjects = changed(SUBJECTS, 2, not_infused_reason=None)  # warning SRC-NOT-INFUSED-REASON
    aes = changed(AES, 1, serious_hospitalization=None)  # warning SRC-SERIOUS-CRITERIA
    aes = aes + [dict(AES[0], ae_id="3", verbatim_term="fever, \"high\"", preferred_term="Pyrexia",
                      system_organ_class="General disorders and administration site conditions")]
    folder = make_study(tmp_path / "s", subjects=subjects, aes=aes)
    with open(folder / "rs.csv", "a", encoding="utf-8") as fh:
        fh.write("\n\n")  # blank lines are not records
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["convert", str(folder), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1].split()[:4] == ["s", "ok", "0", "2"]

    m = json.loads((out / "reports" / "manifest.json").read_text())
    rec = m["reconciliation"]
    source = {"subjects": count_csv_records(folder / "subjects.csv"), "adverse_events": count_csv_records(folder / "ae.csv"),
              "response": count_csv_records(folder / "rs.csv"), "exposure": count_jsonl_records(folder / "ex.jsonl")}
    assert {f: r["rows_read"] for f, r in rec.items()} == source
    for form, r in rec.items():
        assert r["rows_read"] == r["rows_mapped"] + r["rows_rejected"], form
        assert r["rows_rejected"] == 0  # a rejected row is an error, and an error writes nothing
    # every SDTM record written is claimed by exactly one source form, and the counts are the files'
    claimed: dict[str, int] = {}
    for r in rec.values():
        for ds, n in r["records_written"].items():
            claimed[ds] = claimed.get(ds, 0) + n
    for ds, n in claimed.items():
        frame, _ = read_xpt(out / "sdtm" / f"{ds.lower()}.xpt")
        assert len(frame) == n, ds
    assert claimed["DM"] == source["subjects"]
    assert claimed["AE"] == source["adverse_events"]
    assert claimed["EX"] == source["exposure"]
    # one OVRLRESP record per assessment plus one MRDRESP record per assessment with an MRD status
    assert claimed["RS"] == 2 * source["response"]
    # the warnings are in the package, each with its file and row
    report = json.loads((out / "reports" / "source-validation.json").read_text())
    assert report["errors"] == 0 and report["warnings"] == 2
    assert {(p["file"], p["row"], p["rule"]) for p in report["problems"]} == {
        ("subjects.csv", 4, "SRC-NOT-INFUSED-REASON"), ("ae.csv", 3, "SRC-SERIOUS-CRITERIA")}
    # fields read but not mapped are declared, not dropped silently
    assert m["unmapped_fields"]
