"""Packages in Dataset-JSON: `cdisc convert --format`, and `cdisc validate`, `cdisc adam` and `cdisc define`
on a package whose datasets are .json/.ndjson/.dsjc files."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from converters import datasets
from converters.cli import main
from studybuilder import make_study
from test_datasetjson import parsed, same_values, schema_validator

KINDS = ("json", "ndjson", "dsjc")


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("dj")
    result = run("convert", make_study(tmp / "study"), "-o", tmp / "pkg", "-q", "--format", "xpt,json,ndjson,dsjc")
    assert result.exit_code == 0, result.output
    return tmp / "pkg"


@pytest.fixture(scope="module")
def json_only(package: Path, tmp_path_factory) -> Path:
    """The package with its .xpt files removed: Dataset-JSON only."""
    out = tmp_path_factory.mktemp("jo") / "pkg"
    for sub in ("sdtm", "adam"):
        shutil.copytree(package / sub, out / sub)
        for path in (out / sub).glob("*.xpt"):
            path.unlink()
        for kind in ("ndjson", "dsjc"):
            for path in (out / sub).glob(f"*.{kind}"):
                path.unlink()
    return out


def test_convert_writes_every_format_with_the_same_values(package: Path):
    validator = schema_validator()
    for sub in ("sdtm", "adam"):
        xpts = sorted((package / sub).glob("*.xpt"))
        assert xpts
        for xpt in xpts:
            frame, _ = datasets.read(xpt)
            for kind in KINDS:
                other = xpt.with_suffix(f".{kind}")
                doc = parsed(other)
                assert list(validator.iter_errors(doc)) == [], other.name
                assert doc["records"] == len(frame) and doc["metaDataRef"] == "define.xml"
                back, _ = datasets.read(other)
                # a blank XPT date is null in Dataset-JSON: both are missing
                same_values(frame, back.fillna({c: "" for c in back.columns if back[c].dtype == object}))


def test_manifest_and_conformance_cover_dataset_json(package: Path):
    manifest = json.loads((package / "reports" / "manifest.json").read_text())
    files = {o["file"] for o in manifest["outputs"]}
    assert {"sdtm/dm.json", "sdtm/dm.ndjson", "sdtm/dm.dsjc", "adam/adsl.json"} <= files
    conformance = json.loads((package / "reports" / "conformance.json").read_text())
    ids = [r["id"] for r in conformance["rules"]]
    assert {"DJ0001", "DJ0002", "DJ0003", "DJ0004", "DJ0005"} <= set(ids)
    assert not [f for f in conformance["findings"] if f["rule"].startswith("DJ")]


def test_convert_format_must_be_known_and_include_xpt(tmp_path: Path):
    study = make_study(tmp_path / "study")
    result = run("convert", study, "-o", tmp_path / "a", "--format", "xpt,parquet")
    assert result.exit_code == 2 and "unknown format parquet" in result.output
    result = run("convert", study, "-o", tmp_path / "b", "--format", "json")
    assert result.exit_code == 2 and "must include xpt" in result.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_validate_reads_a_dataset_json_package(package: Path, json_only: Path, tmp_path: Path):
    result = run("validate", json_only, "--report", tmp_path / "j.json")
    assert result.exit_code == 0, result.output
    run("validate", package, "--report", tmp_path / "x.json")
    ours, xpt = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("j", "x"))
    assert {n: d["records"] for n, d in ours["datasets"].items()} == {n: d["records"] for n, d in xpt["datasets"].items()}
    assert all(d["file"].endswith(".json") for d in ours["datasets"].values())


def test_adam_from_dataset_json_sdtm_is_the_same_adam(package: Path, json_only: Path, tmp_path: Path):
    for name, src in (("x", package), ("j", json_only)):
        result = run("adam", src / "sdtm", "-o", tmp_path / name, "-q")
        assert result.exit_code == 0, result.output
    for path in sorted((tmp_path / "x" / "adam").glob("*.xpt")):
        assert (tmp_path / "j" / "adam" / path.name).read_bytes() == path.read_bytes(), path.name


def test_define_of_dataset_json_package_points_at_its_files(package: Path, json_only: Path, tmp_path: Path):
    shutil.copytree(json_only, tmp_path / "j")
    result = run("define", tmp_path / "j")
    assert result.exit_code == 0, result.output
    ours = (tmp_path / "j" / "sdtm" / "define.xml").read_text()
    theirs = (package / "sdtm" / "define.xml").read_text()
    assert 'xlink:href="dm.json"' in ours and "dm.xpt" not in ours
    assert ours.replace(".json", ".xpt") == theirs


# --- Dataset-JSON rules on damaged files ----------------------------------------------------------------

def damaged(json_only: Path, tmp_path: Path, change) -> Path:
    out = tmp_path / "pkg"
    shutil.copytree(json_only, out)
    path = out / "sdtm" / "ae.json"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))
    return out


def findings(pkg: Path, tmp_path: Path) -> tuple[int, list[dict]]:
    result = run("validate", pkg, "--report", tmp_path / "r.json")
    report = json.loads((tmp_path / "r.json").read_text())
    return result.exit_code, [f for f in report["findings"] if f["rule"].startswith("DJ")]


def column(doc: dict, name: str) -> int:
    return [c["name"] for c in doc["columns"]].index(name)


@pytest.mark.parametrize("change, rule, text", [
    (lambda d: d.update(records=d["records"] + 1), "DJ0002", "but the file has"),
    (lambda d: d["columns"][column(d, "AETERM")].update(label="Something else"), "DJ0003", "label 'Something else'"),
    (lambda d: d["columns"][column(d, "AETERM")].update(length=3), "DJ0003", "length 3 but define.xml says"),
    (lambda d: d["rows"][0].__setitem__(column(d, "AETERM"), 5), "DJ0004", "AETERM = '5' is not a string value"),
    (lambda d: d["rows"][1].__setitem__(column(d, "AESTDTC"), "05/01/2024"), "DJ0004", "is not a date"),
    (lambda d: d.update(itemGroupOID="IG.XX"), "DJ0005", "IG.XX"),
    (lambda d: d["columns"][0].update(itemOID="IT.AE.NOPE"), "DJ0005", "IT.AE.NOPE"),
    (lambda d: d["columns"][0].pop("label"), "DJ0001 DJ0003", "'label' is a required property"),
])
def test_dataset_json_rule_finds_the_damage(json_only: Path, tmp_path: Path, change, rule: str, text: str):
    status, found = findings(damaged(json_only, tmp_path, change), tmp_path)
    assert status == 1
    assert [f["rule"] for f in found] == rule.split(), found
    assert text in found[0]["message"]


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sscart19"


@pytest.mark.skipif(not (EXAMPLE / "source" / "subjects.csv").is_file(),
                    reason="examples/sscart19/source not generated (run examples/sscart19/generate.py)")
def test_example_converts_with_xpt_json_dsjc_valid_against_schema(tmp_path: Path):
    result = run("convert", EXAMPLE, "-o", tmp_path / "pkg", "-q", "--format", "xpt,json,dsjc")
    assert result.exit_code == 0, result.output
    validator = schema_validator()
    checked = 0
    for sub in ("sdtm", "adam"):
        for xpt in sorted((tmp_path / "pkg" / sub).glob("*.xpt")):
            for kind in ("json", "dsjc"):
                doc = parsed(xpt.with_suffix(f".{kind}"))
                assert list(validator.iter_errors(doc)) == [], xpt.with_suffix(f".{kind}").name
                checked += 1
    assert checked == 2 * 10  # 7 SDTM and 3 ADaM datasets
    conformance = json.loads((tmp_path / "pkg" / "reports" / "conformance.json").read_text())
    assert conformance["errors"] == 0
