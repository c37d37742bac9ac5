"""Property tests: arbitrary frames survive Dataset-JSON exactly, and XPT -> Dataset-JSON -> XPT gives the
same bytes, for random frames and for a converted package."""
from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converters import datasets
from converters.cli import main
from converters.datasets import Column, DatasetMeta, datasetjson
from converters.xpt import XptVariable, write_xpt
from converters.xpt.ibm import IBM_MAX, IBM_MIN
from studybuilder import make_study

CREATED = dt.datetime(2024, 2, 29, 13, 5, 9)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

any_float = st.one_of(st.just(-0.0), st.just(1e-300), st.just(-5e-324), st.just(np.nan),
                      st.floats(allow_nan=False, allow_infinity=False))
any_text = st.one_of(st.none(), st.just(""), st.text(max_size=500))  # any Unicode, long values too
ibm_float = st.one_of(st.just(0.0), st.just(np.nan), st.floats(min_value=IBM_MIN, max_value=IBM_MAX),
                      st.floats(min_value=-IBM_MAX, max_value=-IBM_MIN))
ascii_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=200).map(str.rstrip)


@st.composite
def json_frames(draw):
    rows = draw(st.integers(0, 12))
    kinds = draw(st.lists(st.sampled_from(["string", "float", "integer", "decimal"]), min_size=1, max_size=5))
    data, columns = {}, []
    for i, kind in enumerate(kinds):
        name = f"V{i}"
        if kind == "string":
            data[name] = pd.Series(draw(st.lists(any_text, min_size=rows, max_size=rows)), dtype=object)
        elif kind == "integer":
            ints = draw(st.lists(st.one_of(st.none(), st.integers(-(2**53) + 1, 2**53 - 1)), min_size=rows, max_size=rows))
            data[name] = pd.Series([np.nan if v is None else float(v) for v in ints], dtype=np.float64)
        else:
            data[name] = pd.Series(draw(st.lists(any_float, min_size=rows, max_size=rows)), dtype=np.float64)
        target = "decimal" if kind == "decimal" else None
        columns.append(Column(f"IT.X.{name}", name, f"Label {i}", kind, target))
    meta = DatasetMeta("X", "Random", tuple(columns), CREATED)
    return pd.DataFrame(data, columns=[c.name for c in columns]), meta


def same_bits(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    for col in a.columns:
        if a[col].dtype == object:
            assert list(a[col]) == list(b[col]), col
        else:
            assert a[col].to_numpy(np.float64).tobytes() == b[col].to_numpy(np.float64).tobytes(), col


@SETTINGS
@given(json_frames(), st.sampled_from(["json", "ndjson", "dsjc"]))
def test_any_frame_survives_dataset_json(case, kind):
    frame, meta = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"x.{kind}"
        datasets.write(path, frame, meta)
        back, back_meta = datasets.read(path)
        same_bits(frame, back)
        assert back_meta.columns == meta.columns
        datasets.write(Path(tmp) / f"y.{kind}", back, back_meta)  # JSON -> frame -> JSON
        assert (Path(tmp) / f"y.{kind}").read_bytes() == path.read_bytes()


@st.composite
def xpt_frames(draw):
    rows = draw(st.integers(0, 10))
    nchar, nnum = draw(st.integers(0, 3)), draw(st.integers(1, 3))
    data, variables = {}, []
    for i in range(nchar):
        data[f"C{i}"] = pd.Series(draw(st.lists(ascii_text, min_size=rows, max_size=rows)), dtype=object)
        variables.append(XptVariable(f"C{i}", f"Text {i}", "Char", None))
    for i in range(nnum):
        data[f"N{i}"] = pd.Series(draw(st.lists(ibm_float, min_size=rows, max_size=rows)), dtype=np.float64)
        fmt = draw(st.sampled_from(["", "8.2", "BEST12."]))
        variables.append(XptVariable(f"N{i}", f"Number {i}", "Num", None, fmt))
    return pd.DataFrame(data), variables


@SETTINGS
@given(xpt_frames(), st.sampled_from(["json", "ndjson", "dsjc"]))
def test_xpt_to_dataset_json_to_xpt_is_byte_identical(case, kind):
    frame, variables = case
    with tempfile.TemporaryDirectory() as tmp:
        first, middle, last = Path(tmp) / "x.xpt", Path(tmp) / f"x.{kind}", Path(tmp) / "y" / "x.xpt"
        write_xpt(first, frame, dataset="X", label="Random", variables=variables, created=CREATED)
        datasets.write(middle, *datasets.read(first))
        last.parent.mkdir()
        datasets.write(last, *datasets.read(middle))
        assert last.read_bytes() == first.read_bytes()


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("pkg")
    result = CliRunner().invoke(main, ["convert", str(make_study(tmp / "study")), "-o", str(tmp / "pkg"), "-q"])
    assert result.exit_code == 0, result.output
    return tmp / "pkg"


@pytest.mark.parametrize("sub", ["sdtm", "adam"])
@pytest.mark.parametrize("kind", ["json", "dsjc"])
def test_package_xpt_to_json_to_xpt_is_byte_identical(package: Path, tmp_path: Path, sub: str, kind: str):
    runner = CliRunner()
    result = runner.invoke(main, ["transcode", str(package / sub), "-o", str(tmp_path / "j"), "--format", kind])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["transcode", str(tmp_path / "j"), "-o", str(tmp_path / "x"), "--format", "xpt"])
    assert result.exit_code == 0, result.output
    originals = sorted((package / sub).glob("*.xpt"))
    assert originals
    for path in originals:
        assert (tmp_path / "x" / path.name).read_bytes() == path.read_bytes(), path.name
    # and the Dataset-JSON made from the written-back XPT is the same file again
    result = runner.invoke(main, ["transcode", str(tmp_path / "x"), "-o", str(tmp_path / "j2"), "--format", kind,
                                  "--define", str(package / sub / "define.xml")])
    assert result.exit_code == 0, result.output
    for path in sorted((tmp_path / "j").glob(f"*.{kind}")):
        assert (tmp_path / "j2" / path.name).read_bytes() == path.read_bytes(), path.name


def test_package_json_carries_define_oids(package: Path, tmp_path: Path):
    import json

    CliRunner().invoke(main, ["transcode", str(package / "sdtm" / "ae.xpt"), "-o", str(tmp_path), "--format", "json"])
    doc = json.loads((tmp_path / "ae.json").read_text())
    define = (package / "sdtm" / "define.xml").read_text()
    assert doc["itemGroupOID"] == "IG.AE" and f'OID="{doc["metaDataVersionOID"]}"' in define
    assert all(f'<ItemDef OID="{c["itemOID"]}"' in define for c in doc["columns"])
    keys = [c["name"] for c in sorted((c for c in doc["columns"] if "keySequence" in c), key=lambda c: c["keySequence"])]
    assert keys[:2] == ["STUDYID", "USUBJID"]
