"""CDISC ODM 1.3 exports read as raw forms: records and values checked against an independent XPath count of
the real EDC files (odmlib snapshot, two REDCap projects), vendor shapes and bad input on small files built here."""
from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
import pyreadstat
from click.testing import CliRunner
from lxml import etree

from conftest import ROOT
from converters.cli import main
from converters.mapping.forms import read_form
from converters.mapping.odm import KEYS, OdmError, read_odm, scan
from converters.mapping.spec import MappingSpecError, load_spec, parse_spec

ODM_DIR = ROOT.parent / "shared" / "reference" / "odm"
SHARED = [ODM_DIR / "odmlib" / "odm-data-snapshot.xml", ODM_DIR / "redcap" / "repeating-instruments.xml",
          ODM_DIR / "redcap" / "longitudinal.xml"]
needs_shared = pytest.mark.skipif(not ODM_DIR.is_dir(), reason="../shared/reference/odm is absent")
NS = {"o": "http://www.cdisc.org/ns/odm/v1.3"}


def xpath_counts(path: Path) -> dict[str, tuple[int, int]]:
    """Per ItemGroupOID: ItemGroupData elements and item values (ItemData Value, typed ItemDataBase64Binary...;
    not IsNull), by XPath over the whole tree."""
    tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    groups = {g.get("ItemGroupOID") for g in tree.xpath("//o:ItemGroupData", namespaces=NS)}
    return {g: (int(tree.xpath(f"count(//o:ItemGroupData[@ItemGroupOID='{g}'])", namespaces=NS)),
                int(tree.xpath(f"count(//o:ItemGroupData[@ItemGroupOID='{g}']/o:ItemData[@Value and not(@IsNull='Yes')])",
                               namespaces=NS))
                + int(tree.xpath(f"count(//o:ItemGroupData[@ItemGroupOID='{g}']/*[starts-with(local-name(), 'ItemData')"
                                 " and local-name() != 'ItemData' and not(@IsNull='Yes')])", namespaces=NS)))
            for g in groups}


@needs_shared
@pytest.mark.parametrize("path", SHARED, ids=lambda p: p.name)
def test_every_item_group_has_the_records_and_values_xpath_counts(path: Path):
    expected = xpath_counts(path)
    assert expected
    for group, (records, values) in expected.items():
        frame, lines, problems = read_odm(path, path.name, group, None)
        items = frame.drop(columns=[c for c in frame.columns if c in KEYS or ":" in c or c == "SiteRef"])
        assert problems == []
        assert (len(frame), int(items.notna().sum().sum())) == (records, values), group
        assert len(lines) == records and all(n > 1 for n in lines)


@needs_shared
def test_odmlib_ae_item_group_array_one_record_per_repeat():
    path = SHARED[0]
    frame, lines, _ = read_odm(path, "odm-data-snapshot.xml", "IG.AE.AE_ARRAY1", None)
    first = frame[frame["SubjectKey"] == "SS_0001"]
    assert first["ItemGroupRepeatKey"].tolist() == [str(n) for n in range(1, 11)]
    assert first["IT.AETERM"].iat[0] == "Constipation"
    assert first["IT.AESPID"].iat[0] is None  # absent item: missing, not ""
    assert set(frame["StudyEventOID"]) == {"SE.VISIT 1"} and set(frame["FormOID"]) == {"AE"}
    assert lines[0] == next(n for n, t in enumerate(path.read_text().splitlines(), 1)
                            if 'ItemGroupOID="IG.AE.AE_ARRAY1"' in t and "<ItemGroupData" in t)


@needs_shared
def test_odmlib_form_oid_reads_every_item_group_of_the_form():
    frame, _, _ = read_odm(SHARED[0], "x", None, "AE")
    assert frame["ItemGroupOID"].value_counts().to_dict() == {"IG.AE.AE_ARRAY1": 20, "IG.AE": 2}
    assert list(frame.columns[-4:]) == ["IT.AEYN", "IT.AESPID", "IT.AETERM", "IT.AETOXGR"]


@needs_shared
def test_redcap_repeating_instrument_without_events():
    frame, _, _ = read_odm(SHARED[1], "x", "bp.date_bp", None)
    assert frame["StudyEventOID"].isna().all()  # a classic project has no StudyEventData
    one = frame[frame["SubjectKey"] == "1"]
    assert one["FormRepeatKey"].tolist() == ["1", "2", "3"]
    assert one["bp_systolic"].tolist() == ["110", "111", "112"]
    assert set(frame["redcap:RecordIdField"]) == {"record_id"}


@needs_shared
def test_redcap_longitudinal_events_and_checkboxes():
    odm = scan(SHARED[2], "x", lambda form, group: group)
    events = {k[1] for rows in odm.records.values() for k in rows}
    assert None not in events and len(events) > 3
    frame, _, _ = read_odm(SHARED[2], "x", None, "Form.demographics")
    assert "redcap:UniqueEventName" in frame.columns
    checkbox = [c for c in frame.columns if "___" in c]
    assert checkbox and frame[checkbox].notna().any().any()
    assert frame["study_id"].notna().sum() == 3


# ---------------------------------------------------------------- small files built here

META = """<Study OID="S"><MetaDataVersion OID="v1" Name="v1">
 <FormDef OID="F.VS" Name="Vitals" Repeating="No"><ItemGroupRef ItemGroupOID="IG.VS" Mandatory="Yes"/></FormDef>
 <ItemGroupDef OID="IG.VS" Name="Vitals" Repeating="Yes">
  <ItemRef ItemOID="IT.SEX" Mandatory="No"/><ItemRef ItemOID="IT.WT" Mandatory="No"/>
  <ItemRef ItemOID="IT.DT" Mandatory="No"/><ItemRef ItemOID="IT.NOTE" Mandatory="No"/></ItemGroupDef>
 <ItemDef OID="IT.SEX" Name="SEX" DataType="text"><CodeListRef CodeListOID="CL.SEX"/></ItemDef>
 <ItemDef OID="IT.WT" Name="WEIGHT" DataType="float"/>
 <ItemDef OID="IT.DT" Name="VSDAT" DataType="date"/>
 <ItemDef OID="IT.NOTE" Name="NOTE" DataType="text"/>
 <CodeList OID="CL.SEX" Name="SEX" DataType="text">
  <CodeListItem CodedValue="1"><Decode><TranslatedText xml:lang="en">Male</TranslatedText></Decode></CodeListItem>
  <CodeListItem CodedValue="2"><Decode><TranslatedText xml:lang="en">Female</TranslatedText></Decode></CodeListItem>
 </CodeList></MetaDataVersion></Study>"""


def odm(clinical: str, meta: str = META, root: str = 'xmlns="http://www.cdisc.org/ns/odm/v1.3" ODMVersion="1.3.2"') -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<ODM {root} FileOID="f" FileType="Snapshot">\n{meta}\n'
            f'<ClinicalData StudyOID="S" MetaDataVersionOID="v1">\n{clinical}\n</ClinicalData>\n</ODM>\n')


def group(key: str, items: str, rep: str = "1", tx: str = "") -> str:
    return (f'<SubjectData SubjectKey="{key}"{tx}><SiteRef LocationOID="SITE9"/>'
            f'<StudyEventData StudyEventOID="SE.BASE"><FormData FormOID="F.VS">\n'
            f'<ItemGroupData ItemGroupOID="IG.VS" ItemGroupRepeatKey="{rep}">{items}</ItemGroupData>'
            f'</FormData></StudyEventData></SubjectData>')


def line_of(text: str, needle: str) -> int:
    """The line of the first occurrence of needle in text (an independent reckoning of what the reader reports)."""
    return text[:text.index(needle)].count("\n") + 1


def write(tmp_path: Path, text: str, name: str = "export.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_isnull_absent_units_site_audit_and_signature(tmp_path: Path):
    items = ('<ItemData ItemOID="IT.SEX" Value="1"><AuditRecord><UserRef UserOID="u"/><LocationRef LocationOID="l"/>'
             '<DateTimeStamp>2020-01-01T00:00:00</DateTimeStamp></AuditRecord></ItemData>'
             '<ItemData ItemOID="IT.WT" Value="70.5"><MeasurementUnitRef MeasurementUnitOID="MU.KG"/></ItemData>'
             '<ItemData ItemOID="IT.NOTE" IsNull="Yes"/>')
    text = odm(group("001", items) + '<Signature><UserRef UserOID="u"/></Signature>')
    path = write(tmp_path, text)
    frame, lines, problems = read_odm(path, "export.xml", "IG.VS", None)
    assert problems == []
    row = frame.iloc[0].to_dict()
    assert row["IT.SEX"] == "1" and row["IT.WT"] == "70.5" and row["IT.WT.MeasurementUnitOID"] == "MU.KG"
    assert row["IT.NOTE"] is None and row["IT.DT"] is None  # IsNull and absent: missing
    assert row["SiteRef"] == "SITE9" and row["StudyEventRepeatKey"] is None
    assert lines == [line_of(text, "<ItemGroupData ")]


def test_decode_and_item_names(tmp_path: Path):
    text = odm(group("001", '<ItemData ItemOID="IT.SEX" Value="2"/>') + group("002", '<ItemData ItemOID="IT.SEX" Value="9"/>'))
    path = write(tmp_path, text)
    frame, _, problems = read_odm(path, "export.xml", "IG.VS", None, item_names="name", decode=True)
    assert frame["SEX"].tolist() == ["Female", "9"] and "IT.SEX" not in frame.columns
    assert [(p.row, p.field, p.value, p.rule) for p in problems] == [(line_of(text, 'Value="9"'), "IT.SEX", "9", "ODM-CODELIST")]


def test_transactions_apply_in_order(tmp_path: Path):
    tx = lambda t: f' TransactionType="{t}"'  # noqa: E731
    clinical = "\n".join([
        group("001", '<ItemData ItemOID="IT.WT" Value="70"/><ItemData ItemOID="IT.NOTE" Value="a"/>', tx=tx("Insert")),
        group("002", '<ItemData ItemOID="IT.WT" Value="80"/>', tx=tx("Insert")),
        group("003", '<ItemData ItemOID="IT.WT" Value="90"/>', tx=tx("Insert")),
        group("001", '<ItemData ItemOID="IT.WT" Value="71"/><ItemData ItemOID="IT.NOTE" TransactionType="Remove"/>',
              tx=tx("Update")).replace('<ItemGroupData ', '<ItemGroupData TransactionType="Update" '),
        group("002", "", tx=tx("Remove")),
        group("003", "").replace('<ItemGroupData ', '<ItemGroupData TransactionType="Remove" '),
        group("003", '<ItemData ItemOID="IT.WT" Value="91"/>', rep="2"),
    ])
    frame, _, problems = read_odm(write(tmp_path, odm(clinical)), "export.xml", "IG.VS", None)
    assert problems == []
    assert frame[["SubjectKey", "ItemGroupRepeatKey", "IT.WT", "IT.NOTE"]].values.tolist() == [
        ["001", "1", "71", None], ["003", "2", "91", None]]


def read_error(path: Path) -> OdmError:
    with pytest.raises(OdmError) as exc:
        read_odm(path, path.name, "IG.VS", None)
    return exc.value


@pytest.mark.parametrize("text, rule, line, words", [
    ('<?xml version="1.0"?>\n<Dataset/>\n', "ODM-READ", 2, "not an ODM file (root element Dataset"),
    (odm("", root='xmlns="http://example.org/odm"'), "ODM-READ", 2, "expected http://www.cdisc.org/ns/odm/v1.3"),
    (odm("", root='xmlns="http://www.cdisc.org/ns/odm/v2.0" ODMVersion="2.0"'), "ODM-VERSION", 2, "not supported yet"),
    ('<?xml version="1.0"?>\n<!DOCTYPE ODM [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'
     '<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"><ClinicalData><SubjectData SubjectKey="&xxe;"/></ClinicalData></ODM>',
     "ODM-DTD", 1, "DOCTYPE"),
])
def test_unreadable_files_are_one_line_errors_naming_file_and_line(tmp_path: Path, text, rule, line, words):
    err = read_error(write(tmp_path, text))
    assert (err.problem.rule, err.problem.row, err.problem.file) == (rule, line, "export.xml")
    assert words in str(err) and str(err).startswith(f"export.xml:{line}: ") and "\n" not in str(err)


def test_truncated_file_is_an_error_at_its_end(tmp_path: Path):
    text = odm(group("001", '<ItemData ItemOID="IT.WT" Value="7"/>'))[:-60]
    err = read_error(write(tmp_path, text))
    assert (err.problem.rule, err.problem.row) == ("ODM-XML", text.rstrip("\n").count("\n") + 1)
    assert str(err).startswith(f"export.xml:{err.problem.row}: not well-formed XML")


def test_billion_laughs_is_refused_quickly(tmp_path: Path):
    laughs = ('<?xml version="1.0"?>\n<!DOCTYPE ODM [\n <!ENTITY lol "lol">\n'
              + "".join(f' <!ENTITY lol{i} "{("&lol%s;" % ("" if i == 1 else i - 1)) * 10}">\n' for i in range(1, 10))
              + ']>\n<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"><ClinicalData><SubjectData SubjectKey="&lol9;"/>'
                '</ClinicalData></ODM>\n')
    start = time.perf_counter()
    err = read_error(write(tmp_path, laughs))
    assert time.perf_counter() - start < 2 and err.problem.rule in ("ODM-DTD", "ODM-XML")


def test_undeclared_item_and_bad_datatype_name_file_and_line(tmp_path: Path):
    items = ('<ItemData ItemOID="IT.WT" Value="heavy"/>\n<ItemData ItemOID="IT.DT" Value="2020-13"/>\n'
             '<ItemData ItemOID="IT.GHOST" Value="x"/>')
    text = odm(group("001", items))
    _, _, problems = read_odm(write(tmp_path, text), "export.xml", "IG.VS", None)
    line = line_of(text, 'Value="heavy"')
    assert [(p.file, p.row, p.field, p.value, p.rule) for p in problems] == [
        ("export.xml", line, "IT.WT", "heavy", "ODM-DATATYPE"), ("export.xml", line + 1, "IT.DT", "2020-13", "ODM-DATATYPE"),
        ("export.xml", line + 2, "IT.GHOST", "", "ODM-ITEM-UNDECLARED")]
    assert "float" in problems[0].message and "no ItemDef" in problems[2].message


def test_a_repeated_key_with_a_missing_part_is_reported(tmp_path: Path):
    # a classic REDCap project has no StudyEventOID: a key naming it is missing on every record
    write(tmp_path, odm(group("001", '<ItemData ItemOID="IT.WT" Value="1"/>', rep="1")
                        + group("001", '<ItemData ItemOID="IT.WT" Value="2"/>', rep="2")))
    columns = {c: "text" for c in KEYS + ("SiteRef", "IT.SEX", "IT.WT", "IT.DT", "IT.NOTE")}
    spec = parse_spec(form_spec(file="export.xml", format="odm", item_group_oid="IG.VS", columns=columns,
                                keys=["SubjectKey", "StudyEventRepeatKey"]))
    _, problems = read_form(tmp_path, "vs", spec.forms["vs"])
    assert [(p.rule, p.value) for p in problems] == [("MAP-KEY-DUPLICATE", "001 / ")]


def test_unknown_item_group_is_an_error(tmp_path: Path):
    path = write(tmp_path, odm(group("001", "")))
    with pytest.raises(OdmError, match="ItemGroupOID IG.NOPE is not in the file's metadata"):
        read_odm(path, "export.xml", "IG.NOPE", None)


# ---------------------------------------------------------------- the spec and the CLI

def form_spec(**form) -> dict:
    return {"study": {"studyid": "S1", "usubjid": "S1-{SubjectKey}"}, "forms": {"vs": form}, "domains": {}}


@pytest.mark.parametrize("form, words", [
    ({"file": "e.xml", "columns": {}}, 'read as format = "odm"'),
    ({"file": "e.xml", "format": "odm", "columns": {}}, "exactly one of item_group_oid or form_oid"),
    ({"file": "e.csv", "item_group_oid": "IG", "columns": {}}, 'are for format = "odm"'),
])
def test_spec_checks_the_odm_keys(form, words):
    with pytest.raises(MappingSpecError, match=words):
        parse_spec(form_spec(**form))


def test_read_form_types_odm_columns_as_declared(tmp_path: Path):
    text = odm(group("001", '<ItemData ItemOID="IT.WT" Value="70"/>'))
    write(tmp_path, text)
    columns = {c: "text" for c in KEYS + ("SiteRef", "IT.SEX", "IT.DT", "IT.NOTE")}
    spec = parse_spec(form_spec(file="export.xml", format="odm", item_group_oid="IG.VS",
                                columns={**columns, "IT.WT": "integer", "IT.DT": {"type": "date", "formats": ["yyyy-mm-dd"]}}))
    raw, problems = read_form(tmp_path, "vs", spec.forms["vs"])
    assert problems == [] and raw.rows == [line_of(text, "<ItemGroupData ")] and raw.frame["IT.WT"].tolist() == ["70"]
    del columns["SiteRef"]
    spec = parse_spec(form_spec(file="export.xml", format="odm", item_group_oid="IG.VS", columns=columns | {"IT.WT": "text"}))
    _, problems = read_form(tmp_path, "vs", spec.forms["vs"])
    assert [(p.field, p.rule) for p in problems] == [("SiteRef", "MAP-COLUMN-UNDECLARED")]


def test_convert_with_a_bad_odm_value_writes_nothing(tmp_path: Path):
    study = tmp_path / "study"
    (study / "source").mkdir(parents=True)
    example = (ROOT / "examples" / "odm-virus" / "mapping.toml").read_text()
    (study / "mapping.toml").write_text(example)
    source = (ROOT / "examples" / "odm-virus" / "source" / "odm-data-snapshot.xml").read_text()
    bad = source.replace('<ItemData ItemOID="IT.AETERM" Value="Diarrhea">', '<ItemData ItemOID="IT.AETERMX" Value="Diarrhea">')
    assert bad != source
    (study / "source" / "odm-data-snapshot.xml").write_text(bad)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["convert", str(study), "-o", str(out), "-q"])
    assert result.exit_code == 1, result.output
    assert not out.exists()
    problems = (tmp_path / "out.problems.json").read_text()
    assert "ODM-ITEM-UNDECLARED" in problems and f'"row": {line_of(bad, "IT.AETERMX")}' in problems


def test_example_converts_to_dm_and_ae(tmp_path: Path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["convert", str(ROOT / "examples" / "odm-virus"), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    ae, _ = pyreadstat.read_xport(str(out / "sdtm" / "ae.xpt"))
    dm, _ = pyreadstat.read_xport(str(out / "sdtm" / "dm.xpt"))
    source = (ROOT / "examples" / "odm-virus" / "source" / "odm-data-snapshot.xml").read_text()
    assert len(ae) == source.count('ItemGroupOID="IG.AE.AE_ARRAY1"') - 1  # less its ItemGroupDef
    assert sorted(ae["AETERM"].unique()) == sorted({t.upper() for t in pd.Series(
        [line.split('Value="')[1].split('"')[0] for line in source.splitlines() if 'ItemOID="IT.AETERM" Value=' in line])})
    assert dm[["USUBJID", "SEX", "ETHNIC", "RACE"]].values.tolist() == [
        ["VIRUS1001-SS_0001", "M", "HISPANIC OR LATINO", "WHITE"], ["VIRUS1001-SS_0002", "U", "", ""]]
    assert dm["AGE"].iat[0] == 56 and pd.isna(dm["AGE"].iat[1])  # SS_0002 has no IT.AGE: missing, not 0
    first = ae[ae["USUBJID"] == "VIRUS1001-SS_0001"].set_index("AETERM")
    assert (first.at["CONSTIPATION", "AESPID"], first.at["DYSURIA", "AETOXGR"]) == ("", "4")
    assert CliRunner().invoke(main, ["validate", str(out)]).exit_code == 0


def test_spec_init_on_odm_gives_forms_typed_from_the_metadata(tmp_path: Path):
    raw = tmp_path / "raw"
    raw.mkdir()
    write(raw, odm(group("001", '<ItemData ItemOID="IT.WT" Value="70"/>')))
    result = CliRunner().invoke(main, ["spec", "init", str(raw), "-o", str(tmp_path / "mapping.toml")])
    assert result.exit_code == 0, result.output
    spec = load_spec(tmp_path / "mapping.toml")
    form = spec.forms["IG_VS"]
    assert (form.format, form.item_group_oid, form.file, form.keys) == ("odm", "IG.VS", "raw/export.xml", KEYS)
    assert {c: form.columns[c].type for c in ("IT.WT", "IT.DT", "IT.SEX", "SiteRef")} == {
        "IT.WT": "number", "IT.DT": "date", "IT.SEX": "text", "SiteRef": "text"}
    _, problems = read_form(tmp_path, "IG_VS", form)
    assert problems == []


def test_spec_init_on_odm_2_exits_2(tmp_path: Path):
    raw = tmp_path / "raw"
    raw.mkdir()
    write(raw, odm("", root='xmlns="http://www.cdisc.org/ns/odm/v2.0" ODMVersion="2.0"'))
    result = CliRunner().invoke(main, ["spec", "init", str(raw), "-o", str(tmp_path / "mapping.toml")])
    assert result.exit_code == 2 and "ODM 2.0 is not supported yet" in result.output
    assert not (tmp_path / "mapping.toml").exists()


@needs_shared
def test_spec_init_on_the_shared_exports_gives_forms_that_read_clean(tmp_path: Path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for path in SHARED:
        (raw / path.name).write_bytes(path.read_bytes())
    result = CliRunner().invoke(main, ["spec", "init", str(raw), "-o", str(tmp_path / "mapping.toml")])
    assert result.exit_code == 0, result.output
    spec = load_spec(tmp_path / "mapping.toml")
    expected = {(path.name, g): n for path in SHARED for g, (n, _) in xpath_counts(path).items()}
    read = {}
    for name, form in spec.forms.items():
        got, problems = read_form(tmp_path, name, form)
        assert problems == [], name
        read[(Path(form.file).name, form.item_group_oid)] = len(got.frame)
    assert read == expected  # one form per item group with data, each with every record
    # the same ItemGroupOID in two files: the second form is named after its file
    assert {"demographics_demographics_complete", "repeating_instruments_demographics_demographics_complete"} <= set(spec.forms)
