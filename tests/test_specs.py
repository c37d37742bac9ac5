"""The standards metadata in specs/ is internally consistent and agrees with its published sources."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

import specs
from schemas.config import Study
from schemas.source import FORMS
from specs.ct import build_subset

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
NCI_FILE = SHARED / "reference" / "ct" / "SDTM_Terminology_2025Q1.txt"
LIBRARY = SHARED / "core" / "core-cache" / "src"
CT_CSV = Path(specs.__file__).parent / "ct" / f"sdtm-ct-{specs.CT_VERSION}.csv"

needs_nci = pytest.mark.skipif(not NCI_FILE.exists(), reason="../shared CT reference file absent")
needs_library = pytest.mark.skipif(not (LIBRARY / "sdtmig-3-4-Variables.csv").exists(),
                                   reason="../shared CDISC Library export absent")

NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,7}$")  # SAS V5 / FDA TCG 4.1.5.1: <= 8, letters/digits/_
ORIGINS = {"Collected", "Derived", "Assigned", "Protocol"}  # Define-XML 2.1 origin types used here
# Variables whose codelist deliberately differs from the one the CDISC Library export names.
# RSMETHOD: the export lists C158113 (QRS Method, an ECG list); the method of an MRD assessment
# (e.g. FLOW CYTOMETRY) is in METHOD.
CODELIST_EXCEPTIONS = {("RS", "RSMETHOD"): "C85492"}

EXPECTED_VARIABLES = {
    "DM": "STUDYID DOMAIN USUBJID SUBJID RFSTDTC RFENDTC RFXSTDTC RFXENDTC RFICDTC RFPENDTC DTHDTC DTHFL "
          "SITEID AGE AGEU SEX RACE ETHNIC ARMCD ARM ACTARMCD ACTARM ARMNRS ACTARMUD COUNTRY",
    "AE": "STUDYID DOMAIN USUBJID AESEQ AESPID AETERM AELLT AELLTCD AEDECOD AEPTCD AEHLT AEHLTCD AEHLGT "
          "AEHLGTCD AEBODSYS AEBDSYCD AESOC AESOCCD AESER AEACN AEREL AEOUT AESCONG "
          "AESDISAB AESDTH AESHOSP AESLIFE AESMIE AETOXGR EPOCH AESTDTC AEENDTC AESTDY AEENDY",
    "RS": "STUDYID DOMAIN USUBJID RSSEQ RSTESTCD RSTEST RSCAT RSORRES RSSTRESC RSMETHOD RSEVAL VISITNUM "
          "VISIT EPOCH RSDTC RSDY",
    "EX": "STUDYID DOMAIN USUBJID EXSEQ EXTRT EXCAT EXDOSE EXDOSU EXDOSFRM EXROUTE EPOCH EXSTDTC EXENDTC "
          "EXSTDY EXENDY",
    "TS": "STUDYID DOMAIN TSSEQ TSGRPID TSPARMCD TSPARM TSVAL TSVALNF TSVALCD TSVCDREF TSVCDVER",
    "SUPPDM": "STUDYID RDOMAIN USUBJID IDVAR IDVARVAL QNAM QLABEL QVAL QORIG QEVAL",
    "SUPPAE": "STUDYID RDOMAIN USUBJID IDVAR IDVARVAL QNAM QLABEL QVAL QORIG QEVAL",
}


def all_variables() -> list[specs.Variable]:
    return [v for ds in specs.datasets().values() for v in ds.variables]


def is_label(text: str) -> bool:
    return 0 < len(text) <= 40 and text.isascii()  # SAS V5 label limit, FDA TCG 4.1.5.1


def source_fields() -> set[str]:
    return {f"{form}.{field}" for form, (model, _) in FORMS.items() for field in model.model_fields}


# --- datasets and variables ------------------------------------------------------------------

def test_datasets_hold_the_planned_variables_in_ig_order():
    ds = specs.datasets()
    assert set(ds) == set(EXPECTED_VARIABLES)
    for name, expected in EXPECTED_VARIABLES.items():
        assert ds[name].names == expected.split(), name
        orders = [v.order for v in ds[name].variables]
        assert len(set(orders)) == len(orders), f"{name}: duplicate order"


def test_keys_are_variables_of_their_dataset():
    for ds in specs.datasets().values():
        assert ds.keys, ds.name
        assert set(ds.keys) <= set(ds.names), ds.name
        assert ds.keys[0] == "STUDYID"


def test_names_and_labels_fit_xport_v5():
    for ds in specs.datasets().values():
        assert NAME.match(ds.name), ds.name
        assert is_label(ds.label), ds.name
        for v in ds.variables:
            assert NAME.match(v.name), f"{ds.name}.{v.name}"
            assert is_label(v.label), f"{ds.name}.{v.name}: {v.label!r}"


def test_variable_attributes_are_valid():
    for v in all_variables():
        where = f"{v.dataset}.{v.name}"
        assert v.type in ("Char", "Num"), where
        # Char length is left to the data (longest value, FDA TCG 4.1.5.2); numbers are 8-byte doubles.
        assert v.length == (8 if v.type == "Num" else None), where
        assert v.core in ("Req", "Exp", "Perm"), where
        assert v.origin in ORIGINS, where
        assert v.display_format == "", where
        if v.origin == "Derived":
            assert v.method, f"{where}: derived without a method"
        if v.origin == "Collected":
            assert v.source, f"{where}: collected without a source"


def test_numeric_variables_are_the_expected_ones():
    nums = {f"{v.dataset}.{v.name}" for v in all_variables() if v.type == "Num"}
    assert nums == {"DM.AGE", "AE.AESEQ", "AE.AESTDY", "AE.AEENDY", "AE.AELLTCD", "AE.AEPTCD", "AE.AEHLTCD",
                    "AE.AEHLGTCD", "AE.AEBDSYCD", "AE.AESOCCD", "RS.RSSEQ", "RS.VISITNUM", "RS.RSDY",
                    "EX.EXSEQ", "EX.EXDOSE", "EX.EXSTDY", "EX.EXENDY", "TS.TSSEQ"}


def test_every_variable_codelist_exists():
    known = specs.codelists()
    used = {v.codelist for v in all_variables() if v.codelist}
    assert used, "no codelists referenced"
    assert used <= set(known), sorted(used - set(known))


def test_sources_point_at_real_fields():
    fields = source_fields()
    study_fields = set(Study.model_fields)
    for v in all_variables():
        src, where = v.source, f"{v.dataset}.{v.name}"
        if not src:
            continue
        if src.startswith("config:"):
            path = src.removeprefix("config:")
            assert path in study_fields or path in {"treatments.category", "arms.arm"}, where
        elif src.startswith("spec:"):
            table, column = src.removeprefix("spec:").split(".")
            rows = specs.table(table)
            assert rows and column in rows[0], where
        else:
            assert src in fields, f"{where}: {src} is not a source contract field"


def test_contract_sdtm_targets_are_specified():
    """Every source field's declared SDTM target (json_schema_extra sdtm) is a variable or a SUPP qualifier."""
    ds = specs.datasets()
    qnams = {f"SUPP{r['rdomain']}.{r['qnam']}" for r in specs.table("supp_qualifiers")}
    for form, (model, _) in FORMS.items():
        for field, info in model.model_fields.items():
            target = (info.json_schema_extra or {}).get("sdtm")
            if not target:
                continue
            name = target.split()[0]
            domain, var = name.split(".")
            if domain.startswith("SUPP"):
                assert name in qnams, f"{form}.{field} -> {target}"
            else:
                assert var in ds[domain].names, f"{form}.{field} -> {target}"


def _codelists_in(schema) -> set[str]:
    """Codelist names tagged anywhere in a JSON schema (optional fields nest them under anyOf)."""
    if isinstance(schema, dict):
        found = {schema["codelist"]} if isinstance(schema.get("codelist"), str) else set()
        return found.union(*(_codelists_in(v) for v in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_codelists_in(v) for v in schema))
    return set()


def test_contract_codelists_exist():
    used = set().union(*(_codelists_in(model.model_json_schema()) for model, _ in FORMS.values()))
    assert {"SEX", "NY", "TOXSCALE", "REL", "RESPSRC", "MRDSRC", "METHOD", "EVAL", "UNIT", "FRM"} <= used
    assert used <= set(specs.codelists()), sorted(used - set(specs.codelists()))


# --- methods ---------------------------------------------------------------------------------

def test_every_method_used_exists_and_every_method_is_used():
    methods = {r["method"]: r for r in specs.table("methods")}
    used = {v.method for v in all_variables() if v.method}
    derived_ts = {r["config_field"].removeprefix("derived:") for r in specs.table("ts_parameters")
                  if r["config_field"].startswith("derived:")}
    used |= {f"MT.{name.upper()}" for name in derived_ts}
    assert used <= set(methods), sorted(used - set(methods))
    assert set(methods) <= used, f"unused methods: {sorted(set(methods) - used)}"
    for r in methods.values():
        assert r["type"] in ("Computation", "Imputation"), r["method"]
        assert r["name"] and len(r["description"]) > 40, r["method"]


# --- controlled terminology --------------------------------------------------------------------

def test_ct_codelists_are_well_formed():
    for cl in specs.codelists().values():
        values = [t.value for t in cl.terms]
        assert len(values) == len(set(values)), f"{cl.name}: duplicate term"
        if cl.sponsor:
            assert cl.code == "" and all(t.code == "" for t in cl.terms), cl.name
            assert not cl.extensible, cl.name
            continue
        assert re.match(r"^C\d+$", cl.code), cl.name
        coded = [t.code for t in cl.terms if t.code]
        assert all(re.match(r"^C\d+$", c) for c in coded), cl.name
        assert len(coded) == len(set(coded)), f"{cl.name}: duplicate code"
        if len(coded) < len(cl.terms):  # sponsor extension terms carry no C-code
            assert cl.extensible, f"{cl.name}: extends a non-extensible codelist"


def _names(path: Path) -> set[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {r["codelist"] for r in csv.DictReader(fh)}


def test_sponsor_rows_named_like_cdisc_lists_only_extend_extensible_ones():
    shared = _names(CT_CSV) & _names(CT_CSV.parent / "sponsor.csv")
    for name in shared:
        cl = specs.codelist(name)
        assert cl.extensible and not cl.sponsor, name
        assert any(t.code == "" for t in cl.terms), name
    assert {"TOXSCALE", "REL", "RESPSRC", "MRDSRC", "TOXGR"} <= {
        cl.name for cl in specs.codelists().values() if cl.sponsor}
    # SDTMIG 3.4 TS examples name ISO 8601 as TSVCDREF of dates and durations; DICTNAM lacks it.
    assert specs.codelist("DICTNAM").term("ISO 8601").code == ""


def test_ct_subset_holds_the_build_script_codelists():
    assert {cl.name for cl in specs.codelists().values() if not cl.sponsor} == set(build_subset.CODELISTS)


def test_known_terms():
    assert specs.codelist("SEX").term("F").code == "C16576"
    assert specs.codelist("ONCRSR").term("CRi").code == "C103385"
    assert "RELAPSE" not in specs.codelist_values("ONCRSR")
    assert specs.codelist("EVAL").code == "C78735"
    assert specs.codelist_values("TOXGR") == frozenset("12345")
    with pytest.raises(KeyError):
        specs.codelist("NOSUCHLIST")


@needs_nci
def test_ct_subset_matches_the_nci_file():
    headers, terms = build_subset.read_nci(NCI_FILE)
    by_name = {h["CDISC Submission Value"]: h for h in headers.values()}
    for cl in specs.codelists().values():
        if cl.sponsor:
            continue
        head = by_name[cl.name]
        assert cl.code == head["Code"], cl.name
        assert cl.extensible == (head["Codelist Extensible (Yes/No)"] == "Yes"), cl.name
        nci = {t["CDISC Submission Value"]: t["Code"] for t in terms[cl.code]}
        assert {t.value: t.code for t in cl.terms if t.code} == nci, f"{cl.name}: terms differ from the NCI file"
        extensions = {t.value for t in cl.terms if not t.code}
        assert not extensions & set(nci), f"{cl.name}: extension duplicates a CDISC term"


@needs_nci
def test_ct_subset_build_is_deterministic_and_committed(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    build_subset.main([str(NCI_FILE), str(a)])
    build_subset.main([str(NCI_FILE), str(b)])
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() == CT_CSV.read_bytes(), "committed CT subset is stale: rerun build_subset"


@needs_nci
def test_build_rejects_unknown_codelist():
    with pytest.raises(KeyError, match="NOSUCHLIST"):
        build_subset.build_rows(NCI_FILE, ("SEX", "NOSUCHLIST"))


# --- value maps, RS tests, SUPP qualifiers, TS parameters -----------------------------------------

def _map_codelist(side: str) -> str | None:
    """A value-map side names a codelist, or a variable whose codelist applies (SCREENING->ARMNRS)."""
    if side in specs.codelists():
        return side
    return next((v.codelist for v in all_variables() if v.name == side and v.codelist), None)


def test_value_maps_land_in_their_codelists():
    rows = specs.table("value_maps")
    assert {r["map"] for r in rows} == {"RESPSRC->ONCRSR", "MRDSRC->ONCRSR", "SCREENING->ARMNRS"}
    for r in rows:
        source, target = r["map"].split("->")
        target_cl = _map_codelist(target)
        assert target_cl, r["map"]
        assert r["target_value"] in specs.codelist_values(target_cl), r
        if source in specs.codelists():
            assert r["source_value"] in specs.codelist_values(source), r
    for name in ("RESPSRC", "MRDSRC"):  # every collected value has a mapping
        assert set(specs.value_map(f"{name}->ONCRSR")) == specs.codelist_values(name)
    assert specs.value_map("RESPSRC->ONCRSR")["RELAPSE"] == "RELAPSED DISEASE"
    assert specs.value_map("SCREENING->ARMNRS")["NOT TREATED"] == "ASSIGNED, NOT TREATED"


def test_rs_tests_use_paired_ct_terms():
    testcd, test = specs.codelist("ONCRTSCD"), specs.codelist("ONCRTS")
    fields = set(FORMS["response"][0].model_fields)
    rows = specs.table("rs_tests")
    assert [r["rstestcd"] for r in rows] == ["OVRLRESP", "MRDRESP"]
    for r in rows:
        code = testcd.term(r["rstestcd"]).code
        assert test.term(r["rstest"]).code == code, r  # RSTEST is the ONCRTS term of the same concept
        assert r["rscat"] in specs.codelist_values("ONCRSCAT"), r
        assert r["source_field"] in fields, r
        assert specs.value_map(r["value_map"]), r


def test_supp_qualifiers():
    fields = source_fields()
    ds = specs.datasets()
    rows = specs.table("supp_qualifiers")
    assert {(r["rdomain"], r["qnam"]) for r in rows} == {
        ("DM", q) for q in ("COHORT", "APHDTC", "NTRTREAS", "CNSSTAT", "DTHCAUS", "SFREAS")} | {("AE", "AETOXSCL")}
    for r in rows:
        assert NAME.match(r["qnam"]), r
        assert is_label(r["qlabel"]), r
        assert r["source_field"] in fields, r
        assert r["qorig"] in ORIGINS, r
        assert f"SUPP{r['rdomain']}" in ds, r
        assert r["idvar"] == "" or r["idvar"] in ds[r["rdomain"]].names, r
        assert r["qeval"] == "" or r["qeval"] in specs.codelist_values("EVAL"), r
    assert next(r for r in rows if r["qnam"] == "AETOXSCL")["idvar"] == "AESEQ"


def test_ts_parameters_are_ct_terms_and_resolvable():
    testcd, test = specs.codelist("TSPARMCD"), specs.codelist("TSPARM")
    dictnam = specs.codelist_values("DICTNAM")
    methods = {r["method"] for r in specs.table("methods")}
    study = Study.model_fields
    rows = specs.table("ts_parameters")
    assert len({r["tsparmcd"] for r in rows}) == len(rows)
    for r in rows:
        term = testcd.term(r["tsparmcd"])
        assert term is not None, r
        assert test.term(r["tsparm"]).code == term.code, r
        assert r["required"] in ("Y", "N"), r
        assert r["tsvcdref"] == "" or r["tsvcdref"] in dictnam, r
        if r["codelist"]:
            assert r["codelist"] in specs.codelists() and r["tsvcdref"] == "CDISC CT", r
        field = r["config_field"]
        if field.startswith("derived:"):
            assert f"MT.{field.removeprefix('derived:').upper()}" in methods, r
        elif field.startswith("const:"):
            value = field.removeprefix("const:")
            assert value, r
            if r["codelist"]:
                assert value in specs.codelist_values(r["codelist"]), r
        else:
            assert field in study, r
    required = {r["tsparmcd"] for r in rows if r["required"] == "Y"}
    assert "SSTDTC" in required  # FDA Technical Rejection Criteria 1734


def test_example_study_ts_values_are_in_their_codelists():
    """The sscart19 example configuration's controlled TS values exist in the CT subset."""
    from schemas.config import load_config

    example = Path(__file__).resolve().parents[1] / "examples" / "sscart19"
    study = load_config(example).study
    for r in specs.table("ts_parameters"):
        field = r["config_field"]
        if r["codelist"] and field in Study.model_fields:
            value = getattr(study, field)
            for v in value if isinstance(value, tuple) else (value,):
                assert v in specs.codelist_values(r["codelist"]), (r["tsparmcd"], v)


# --- agreement with the CDISC Library SDTMIG 3.4 export -------------------------------------------

def _library(name: str) -> list[dict[str, str]]:
    with open(LIBRARY / f"sdtmig-3-4-{name}.csv", newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


@needs_library
def test_variables_match_the_cdisc_library():
    lib = {(r["Dataset Name"], r["Variable Name"]): r for r in _library("Variables")}
    ct_codes = {cl.name: cl.code for cl in specs.codelists().values()}
    for v in all_variables():
        ig = "SUPPQUAL" if v.dataset.startswith("SUPP") else v.dataset
        r = lib[(ig, v.name)]
        where = f"{v.dataset}.{v.name}"
        assert v.label == r["Variable Label"], where
        assert v.order == int(r["Variable Order"]), where
        assert v.type == r["Type"], where
        assert v.core == r["Core"], where
        assert v.role == r["Role"], where
        published = {c.strip() for c in r["CDISC CT Codelist Code(s)"].split(";") if c.strip()}
        if v.codelist and published:
            expected = {CODELIST_EXCEPTIONS[(v.dataset, v.name)]} if (v.dataset, v.name) in CODELIST_EXCEPTIONS else published
            assert ct_codes[v.codelist] in expected, f"{where}: {v.codelist} not in {published}"


@needs_library
def test_datasets_match_the_cdisc_library():
    lib = {r["Dataset Name"]: r for r in _library("Datasets")}
    for ds in specs.datasets().values():
        r = lib["SUPPQUAL" if ds.name.startswith("SUPP") else ds.name]
        assert ds.cls == r["Class"], ds.name
        assert ds.structure == r["Structure"], ds.name
        if ds.name.startswith("SUPP"):
            assert ds.label == f"Supplemental Qualifiers for {ds.name[4:]}"
        else:
            assert ds.label == r["Dataset Label"], ds.name
