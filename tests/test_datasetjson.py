"""Dataset-JSON v1.1 (.json, .ndjson, .dsjc) writing and reading, against CDISC's own example files and
by round trips through XPORT v5."""
from __future__ import annotations

import datetime as dt
import json
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from converters import datasets
from converters.cli import main
from converters.datasets import Column, DatasetError, DatasetMeta, datasetjson
from converters.datasets.define import apply_define, read_define

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "dataset-json-1.1"
EXAMPLES = REFERENCE / "examples" / "adam"
SHIPPED_SCHEMA = Path(__file__).resolve().parents[1] / "specs" / "dataset-json-1.1" / "dataset.schema.json"
needs_examples = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="../shared Dataset-JSON examples absent")
NAMES = ("adsl", "adae", "adtte")
# Attributes that name the file's maker and moment, not the data: they differ by construction.
SOURCE_FIELDS = {"datasetJSONCreationDateTime", "fileOID", "originator", "sourceSystem", "rows"}
# CDISC's files omit the length of ADSL's ISO 8601 datetime text; ours carry the XPORT width (20), which an
# XPORT file written back needs. The specification allows length on any column.
OUR_LENGTHS = {("ADSL", "RFSTDTC"): 20, ("ADSL", "RFENDTC"): 20}


def schema_validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SHIPPED_SCHEMA.read_bytes())
    return jsonschema.Draft201909Validator(schema)


def ndjson_document(text: str) -> dict:
    lines = [line for line in text.split("\n") if line]
    return {**json.loads(lines[0]), "rows": [json.loads(line) for line in lines[1:]]}


def parsed(path: Path) -> dict:
    raw = path.read_bytes()
    if path.suffix == ".json":
        return json.loads(raw)
    if path.suffix == ".dsjc":
        raw = zlib.decompress(raw, 47)
    return ndjson_document(raw.decode("utf-8"))


def same_values(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    for col in a.columns:
        x, y = a[col].to_numpy(), b[col].to_numpy()
        if x.dtype == object or y.dtype == object:
            assert list(x) == list(y), col
        else:  # same bits: -0.0 differs from 0.0, NaN equals NaN
            assert x.astype(np.float64).tobytes() == y.astype(np.float64).tobytes(), col


# --- CDISC's example files -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def transcoded(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dsj")
    if EXAMPLES.is_dir():
        result = CliRunner().invoke(main, ["transcode", str(EXAMPLES), "-o", str(out), "--format", "json,ndjson,dsjc"])
        assert result.exit_code == 0, result.output
    return out


@needs_examples
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["json", "ndjson", "dsjc"])
def test_transcoded_xpt_matches_cdisc_file(transcoded: Path, name: str, kind: str):
    ours, theirs = parsed(transcoded / f"{name}.{kind}"), parsed(EXAMPLES / f"{name}.{kind}")
    assert {k: v for k, v in ours.items() if k not in SOURCE_FIELDS | {"columns"}} == \
           {k: v for k, v in theirs.items() if k not in SOURCE_FIELDS | {"columns"}}
    assert ours["rows"] == theirs["rows"]
    assert len(ours["rows"]) == ours["records"] == theirs["records"]
    expected = [dict(c, length=OUR_LENGTHS[(theirs["name"], c["name"])])
                if (theirs["name"], c["name"]) in OUR_LENGTHS else c for c in theirs["columns"]]
    assert ours["columns"] == expected


@needs_examples
def test_adam_dates_are_iso_text_with_integer_target(transcoded: Path):
    doc = parsed(transcoded / "adsl.json")
    trtsdt = next(c for c in doc["columns"] if c["name"] == "TRTSDT")
    assert trtsdt == {"itemOID": "IT.ADSL.TRTSDT", "name": "TRTSDT", "label": "Date of First Exposure to Treatment",
                      "dataType": "date", "targetDataType": "integer", "displayFormat": "DATE9."}
    assert doc["rows"][0][doc["columns"].index(trtsdt)] == "2014-01-02"


@needs_examples
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["json", "ndjson", "dsjc"])
def test_reading_cdisc_file_gives_the_xpt_values(name: str, kind: str):
    xpt_frame, _ = datasets.read(EXAMPLES / f"{name}.xpt")
    frame, meta = datasets.read(EXAMPLES / f"{name}.{kind}")
    same_values(xpt_frame, frame)
    assert meta.name == name.upper() and len(frame) == meta.extra["records"]


@needs_examples
def test_cdisc_dsjc_is_gzip_ours_is_zlib(transcoded: Path):
    """The DSJC specification says zlib; CDISC's example files are gzip streams. Both read; ours are zlib."""
    assert (EXAMPLES / "adsl.dsjc").read_bytes()[:2] == b"\x1f\x8b"
    assert (transcoded / "adsl.dsjc").read_bytes()[:1] == b"\x78"
    assert zlib.decompress((transcoded / "adsl.dsjc").read_bytes()) == (transcoded / "adsl.ndjson").read_bytes()


@needs_examples
@pytest.mark.parametrize("name", NAMES)
def test_outputs_validate_against_official_schema(transcoded: Path, name: str):
    validator = schema_validator()
    for kind in ("json", "ndjson", "dsjc"):
        errors = list(validator.iter_errors(parsed(transcoded / f"{name}.{kind}")))
        assert errors == [], (kind, errors[:3])


@needs_examples
def test_shipped_schema_is_the_official_one():
    assert SHIPPED_SCHEMA.read_bytes() == (REFERENCE / "schema" / "dataset.schema.json").read_bytes()


@needs_examples
@pytest.mark.parametrize("name", NAMES)
def test_cdisc_json_to_xpt_to_json_keeps_rows_and_columns(tmp_path: Path, name: str):
    runner = CliRunner()
    assert runner.invoke(main, ["transcode", str(EXAMPLES / f"{name}.json"), "-o", str(tmp_path / "x"),
                                "--format", "xpt"]).exit_code == 0
    result = runner.invoke(main, ["transcode", str(tmp_path / "x" / f"{name}.xpt"), "-o", str(tmp_path / "back.json"),
                                  "--format", "json", "--define", str(EXAMPLES / "define.xml")])
    assert result.exit_code == 0, result.output
    back, theirs = parsed(tmp_path / "back.json"), parsed(EXAMPLES / f"{name}.json")
    assert back["rows"] == theirs["rows"]
    assert [c["name"] for c in back["columns"]] == [c["name"] for c in theirs["columns"]]


# --- frames made here ------------------------------------------------------------------------------------

def small_meta(**changes) -> DatasetMeta:
    columns = (Column("IT.AE.USUBJID", "USUBJID", "Unique Subject Identifier", "string", length=12, key_sequence=1),
               Column("IT.AE.AESEQ", "AESEQ", "Sequence Number", "integer", key_sequence=2),
               Column("IT.AE.AETERM", "AETERM", "Reported Term", "string", length=40),
               Column("IT.AE.ASTDT", "ASTDT", "Start Date", "date", "integer", display_format="DATE9."),
               Column("IT.AE.ADTM", "ADTM", "Start Datetime", "datetime", "integer", display_format="E8601DT19."),
               Column("IT.AE.DOSE", "DOSE", "Dose", "decimal", "decimal", length=10),
               Column("IT.AE.VALUE", "VALUE", "Value", "float"))
    return DatasetMeta("AE", "Adverse Events", columns, dt.datetime(2024, 12, 31), **changes)


def small_frame() -> pd.DataFrame:
    return pd.DataFrame({"USUBJID": ["S-001", "S-002", None], "AESEQ": [1.0, np.nan, 3.0],
                         "AETERM": ["Übelkeit", "", "headache"], "ASTDT": [19724.0, np.nan, 0.0],
                         "ADTM": [1704153600.0, 1.5, np.nan], "DOSE": [0.1, 2.5e-7, np.nan],
                         "VALUE": [1e-300, -0.0, 25.1]})


def test_json_rows_are_typed_as_declared():
    doc = json.loads(datasetjson.encode(small_frame(), small_meta(), "json"))
    assert doc["rows"] == [["S-001", 1, "Übelkeit", "2014-01-01", "2014-01-01T00:00:00", "0.1", 1e-300],
                           ["S-002", None, "", None, "1960-01-01T00:00:01.5", "0.00000025", -0.0],
                           [None, 3, "headache", "1960-01-01", None, None, 25.1]]
    assert doc["records"] == 3 and list(doc)[:2] == ["datasetJSONCreationDateTime", "datasetJSONVersion"]
    assert doc["datasetJSONCreationDateTime"] == "2024-12-31T00:00:00"
    assert doc["columns"][3] == {"itemOID": "IT.AE.ASTDT", "name": "ASTDT", "label": "Start Date",
                                 "dataType": "date", "targetDataType": "integer", "displayFormat": "DATE9."}
    assert "-0.0" in datasetjson.encode(small_frame(), small_meta(), "json").decode()


@pytest.mark.parametrize("kind", ["json", "ndjson", "dsjc"])
def test_frame_round_trip_is_exact_and_bytes_stable(tmp_path: Path, kind: str):
    path = tmp_path / f"ae.{kind}"
    datasets.write(path, small_frame(), small_meta())
    frame, meta = datasets.read(path)
    same_values(small_frame(), frame)
    again = tmp_path / f"again.{kind}"
    datasets.write(again, frame, meta)
    assert again.read_bytes() == path.read_bytes()


def test_ndjson_layout_is_metadata_line_then_one_row_per_line():
    text = datasetjson.encode(small_frame(), small_meta(), "ndjson").decode()
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == 5
    assert "rows" not in json.loads(lines[0]) and json.loads(lines[3])[0] is None
    assert " " not in lines[0].replace("Unique Subject Identifier", "").replace("Adverse Events", "") \
        .replace("Sequence Number", "").replace("Reported Term", "").replace("Start Date", "")


def test_empty_dataset_has_records_zero(tmp_path: Path):
    meta = small_meta()
    datasets.write(tmp_path / "ae.json", small_frame().iloc[:0], meta)
    doc = json.loads((tmp_path / "ae.json").read_text())
    assert doc["records"] == 0 and doc["rows"] == []
    frame, _ = datasets.read(tmp_path / "ae.json")
    assert len(frame) == 0 and list(frame.columns) == [c.name for c in meta.columns]


def test_infinite_value_is_refused_naming_the_column():
    frame = small_frame().assign(VALUE=[1.0, np.inf, 2.0])
    with pytest.raises(DatasetError, match=r"AE\.VALUE: infinite"):
        datasetjson.encode(frame, small_meta(), "json")


def test_fractional_sas_date_is_refused():
    frame = small_frame().assign(ASTDT=[1.5, 2.0, 3.0])
    with pytest.raises(DatasetError, match=r"AE\.ASTDT: SAS date 1.5"):
        datasetjson.encode(frame, small_meta(), "json")


# --- bad input --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    (b"{not json", "malformed JSON"),
    (b"[1, 2]", "one JSON object"),
    (b'{"name": "AE"}', "lacks a required attribute"),
])
def test_bad_json_file_gives_clear_error(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "ae.json"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=message):
        datasets.read(path)


def test_row_of_wrong_width_is_an_error(tmp_path: Path):
    text = datasetjson.encode(small_frame(), small_meta(), "ndjson").decode().split("\n")
    text[2] = "[1,2]"
    (tmp_path / "ae.ndjson").write_text("\n".join(text))
    with pytest.raises(DatasetError, match="a row has 2 values, the metadata 7 columns"):
        datasets.read(tmp_path / "ae.ndjson")


def test_text_in_numeric_column_is_an_error(tmp_path: Path):
    doc = json.loads(datasetjson.encode(small_frame(), small_meta(), "json"))
    doc["rows"][0][1] = "one"
    (tmp_path / "ae.json").write_text(json.dumps(doc))
    with pytest.raises(DatasetError, match="column AESEQ"):
        datasets.read(tmp_path / "ae.json")


@pytest.mark.parametrize("damage", ["truncate", "garble"])
def test_damaged_dsjc_is_an_error(tmp_path: Path, damage: str):
    raw = datasetjson.encode(small_frame(), small_meta(), "dsjc")
    raw = raw[: len(raw) // 2] if damage == "truncate" else raw[:2] + bytes(b ^ 0x55 for b in raw[2:])
    (tmp_path / "ae.dsjc").write_bytes(raw)
    with pytest.raises(DatasetError, match="compressed|DSJC|malformed"):
        datasets.read(tmp_path / "ae.dsjc")


def test_transcode_of_bad_file_exits_1_and_writes_nothing(tmp_path: Path):
    (tmp_path / "ae.json").write_text("{broken")
    result = CliRunner().invoke(main, ["transcode", str(tmp_path / "ae.json"), "-o", str(tmp_path / "out"),
                                       "--format", "xpt"])
    assert result.exit_code == 1 and "malformed JSON" in result.output
    assert not list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True


def test_transcode_unknown_format_is_usage_error(tmp_path: Path):
    (tmp_path / "ae.json").write_bytes(datasetjson.encode(small_frame(), small_meta(), "json"))
    result = CliRunner().invoke(main, ["transcode", str(tmp_path / "ae.json"), "-o", str(tmp_path / "o"),
                                       "--format", "parquet"])
    assert result.exit_code == 2 and "unknown format parquet" in result.output


def test_transcode_file_name_must_match_format(tmp_path: Path):
    (tmp_path / "ae.json").write_bytes(datasetjson.encode(small_frame(), small_meta(), "json"))
    result = CliRunner().invoke(main, ["transcode", str(tmp_path / "ae.json"), "-o", str(tmp_path / "ae.dsjc"),
                                       "--format", "xpt"])
    assert result.exit_code == 1 and "extension must match" in result.output
    assert not (tmp_path / "ae.dsjc").exists()


def test_define_gives_oids_types_and_keys(tmp_path: Path):
    define = tmp_path / "define.xml"
    define.write_text("""<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" xmlns:def="http://www.cdisc.org/ns/def/v2.1">
 <Study OID="STDY.X"><MetaDataVersion OID="MDV.X">
  <ItemGroupDef OID="IG.AE" Name="AE"><Description><TranslatedText>Adverse Events</TranslatedText></Description>
   <ItemRef ItemOID="IT.AE.USUBJID" OrderNumber="1" KeySequence="1"/>
   <ItemRef ItemOID="IT.AE.ASTDT" OrderNumber="2"/></ItemGroupDef>
  <ItemDef OID="IT.AE.USUBJID" Name="USUBJID" DataType="text" Length="12"><Description><TranslatedText>Subject</TranslatedText></Description></ItemDef>
  <ItemDef OID="IT.AE.ASTDT" Name="ASTDT" DataType="integer" Length="8" def:DisplayFormat="E8601DA10."><Description><TranslatedText>Start</TranslatedText></Description></ItemDef>
 </MetaDataVersion></Study></ODM>""")
    stored = DatasetMeta("AE", "x", (Column("IT.AE.USUBJID", "USUBJID", "u", "string", length=8),
                                     Column("IT.AE.ASTDT", "ASTDT", "s", "integer")), dt.datetime(2024, 1, 1))
    meta = apply_define(stored, read_define(define))
    assert (meta.study_oid, meta.metadata_version_oid, meta.metadata_ref, meta.label) == \
           ("STDY.X", "MDV.X", "define.xml", "Adverse Events")
    assert meta.columns == (Column("IT.AE.USUBJID", "USUBJID", "Subject", "string", None, 12, None, 1),
                            Column("IT.AE.ASTDT", "ASTDT", "Start", "date", "integer", None, "E8601DA10.", None))
