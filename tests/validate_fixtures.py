"""A small valid SDTM + ADaM package (DM, AE, TS, ADSL, ADTTE) as frames, written with write_xpt,
plus a matching minimal Define-XML, for the `cdisc validate` rule tests."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

import specs
from converters.xpt import XptVariable, write_xpt

CREATED = dt.datetime(2026, 1, 1)
S1, S2 = "ST-001", "ST-002"
LABELS = {"DM": "Demographics", "AE": "Adverse Events", "TS": "Trial Summary",
          "ADSL": "Subject-Level Analysis Dataset", "ADTTE": "Time-to-Event Analysis Dataset"}
FOLDER = {"DM": "sdtm", "AE": "sdtm", "TS": "sdtm", "ADSL": "adam", "ADTTE": "adam"}


def _ts() -> pd.DataFrame:
    parmcd, parm = specs.codelist("TSPARMCD"), specs.codelist("TSPARM")
    values = {"SSTDTC": "2021-01-01", "SDTMVER": "2.0", "SDTIGVER": "3.4", "ADDON": "N", "AGEMAX": "P65Y",
              "AGEMIN": "P18Y", "RANDOM": "N", "PLANSUB": "2", "SEXPOP": "BOTH", "STYPE": "INTERVENTIONAL",
              "TBLIND": "OPEN LABEL", "TCNTRL": "NONE", "TINDTP": "TREATMENT", "TPHASE": "PHASE I TRIAL",
              "TTYPE": "SAFETY", "INTTYPE": "BIOLOGIC", "INDIC": "Leukaemia", "REGID": "NCT0", "SPONSOR": "Acme",
              "TITLE": "A trial", "TRT": "Drug"}
    rows = []
    for i, (code, val) in enumerate(values.items(), start=1):
        term = parmcd.term(code)
        rows.append({"STUDYID": "ST", "DOMAIN": "TS", "TSSEQ": 1.0, "TSPARMCD": code,
                     "TSPARM": next(t.value for t in parm.terms if t.code == term.code), "TSVAL": val,
                     "TSVALCD": "", "TSVCDREF": "", "TSVCDVER": ""})
    return pd.DataFrame(rows)


def frames() -> dict[str, pd.DataFrame]:
    dm = pd.DataFrame({
        "STUDYID": "ST", "DOMAIN": "DM", "USUBJID": [S1, S2], "SUBJID": ["001", "002"],
        "RFSTDTC": ["2021-02-01", "2021-03-01"], "RFENDTC": ["2021-06-01", "2021-07-01"],
        "RFXSTDTC": ["2021-02-01", "2021-03-01"], "RFXENDTC": ["2021-02-01", "2021-03-01"],
        "RFICDTC": ["2021-01-10", "2021-02-10"], "RFPENDTC": ["2021-06-01", "2021-07-01"],
        "DTHDTC": ["2021-06-01", ""], "DTHFL": ["Y", ""], "SITEID": "01", "AGE": [40.0, 50.0], "AGEU": "YEARS",
        "SEX": ["F", "M"], "RACE": "ASIAN", "ETHNIC": "NOT HISPANIC OR LATINO", "ARMCD": "A", "ARM": "Arm A",
        "ACTARMCD": "A", "ACTARM": "Arm A", "ARMNRS": "", "ACTARMUD": "", "COUNTRY": "CHN"})
    ae = pd.DataFrame({
        "STUDYID": "ST", "DOMAIN": "AE", "USUBJID": [S1, S1, S2], "AESEQ": [1.0, 2.0, 1.0],
        "AETERM": ["Headache", "Fever", "Rash"], "AELLT": ["Headache", "Fever", "Rash"],
        "AELLTCD": [1.0, 2.0, 3.0], "AEDECOD": ["Headache", "Pyrexia", "Rash"], "AEPTCD": [1.0, 2.0, 3.0],
        "AEHLT": "H", "AEHLTCD": 1.0, "AEHLGT": "G", "AEHLGTCD": 1.0, "AEBODSYS": "B", "AEBDSYCD": 1.0,
        "AESOC": "B", "AESOCCD": 1.0, "AESER": ["N", "Y", "N"], "AEACN": "DOSE NOT CHANGED",
        "AEREL": "NOT RELATED", "AEOUT": "RECOVERED/RESOLVED", "EPOCH": "TREATMENT",
        "AESTDTC": ["2021-02-01", "2021-01-31T10:00", "2021-03-05"], "AEENDTC": ["2021-02-03", "2021-02-02", ""],
        "AESTDY": [1.0, -1.0, 5.0], "AEENDY": [3.0, 2.0, np.nan]})
    adsl = pd.DataFrame({
        "STUDYID": "ST", "USUBJID": [S1, S2], "SUBJID": ["001", "002"], "SITEID": "01", "AGE": [40.0, 50.0],
        "AGEU": "YEARS", "SEX": ["F", "M"], "RACE": "ASIAN", "ARM": "Arm A", "ACTARM": "Arm A",
        "TRT01P": "Arm A", "TRT01A": "Arm A"})
    adtte = pd.DataFrame({
        "STUDYID": "ST", "USUBJID": [S1, S2], "PARAMCD": "OS", "PARAM": "Overall Survival", "AVAL": [120.0, 122.0],
        "STARTDT": [22312.0, 22340.0], "ADT": [22432.0, 22462.0], "CNSR": [0.0, 1.0],
        "EVNTDESC": ["DEATH", ""], "CNSDTDSC": ["", "LAST KNOWN ALIVE"], "SRCDOM": ["AE", ""],
        "SRCSEQ": [2.0, np.nan]})
    return {"DM": dm, "AE": ae, "TS": _ts(), "ADSL": adsl, "ADTTE": adtte}


def variables(frame: pd.DataFrame, lengths: dict[str, int] | None = None) -> list[XptVariable]:
    lengths = lengths or {}
    return [XptVariable(c, c.title()[:40], "Num" if frame[c].dtype.kind in "fi" else "Char", lengths.get(c))
            for c in frame.columns]


def write_package(root: Path, data: dict[str, pd.DataFrame], lengths: dict[str, dict[str, int]] | None = None,
                  flat: bool = False) -> Path:
    for name, frame in data.items():
        folder = root if flat else root / FOLDER[name]
        folder.mkdir(parents=True, exist_ok=True)
        write_xpt(folder / f"{name.lower()}.xpt", frame, dataset=name, label=LABELS.get(name, name),
                  variables=variables(frame, (lengths or {}).get(name)), created=CREATED)
    return root


def char_length(frame: pd.DataFrame, col: str) -> int:
    return max(1, int(frame[col].astype(str).str.len().max()))


def define_xml(data: dict[str, pd.DataFrame], codelists: dict[str, list[str]] | None = None,
               where: list[tuple[str, str, str]] | None = None) -> str:
    """A minimal Define-XML 2.1 describing the frames (model checks; not meant to be schema-valid)."""
    codelists = codelists if codelists is not None else {"SEX": ["F", "M"]}
    groups, items, cls, wcs = [], [], [], []
    for name, f in data.items():
        refs = "".join(f'<ItemRef ItemOID="IT.{name}.{c}" OrderNumber="{i}" Mandatory="No"/>'
                       for i, c in enumerate(f.columns, start=1))
        groups.append(f'<ItemGroupDef OID="IG.{name}" Name="{name}" Repeating="Yes" Domain="{name}">{refs}</ItemGroupDef>')
        for c in f.columns:
            num = f[c].dtype.kind in "fi"
            length = "" if num else f' Length="{char_length(f, c)}"'
            cl = f'<CodeListRef CodeListOID="CL.{c}"/>' if c in codelists else ""
            items.append(f'<ItemDef OID="IT.{name}.{c}" Name="{c}" DataType="{"float" if num else "text"}"{length}>{cl}</ItemDef>')
    for c, values in codelists.items():
        terms = "".join(f'<EnumeratedItem CodedValue={quoteattr(v)}/>' for v in values)
        cls.append(f'<CodeList OID="CL.{c}" Name="{c}" DataType="text">{terms}</CodeList>')
    for oid, item, value in where or []:
        wcs.append(f'<def:WhereClauseDef OID="{oid}"><RangeCheck Comparator="EQ" SoftHard="Soft" def:ItemOID="{item}">'
                   f'<CheckValue>{value}</CheckValue></RangeCheck></def:WhereClauseDef>')
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" '
            'xmlns:def="http://www.cdisc.org/ns/def/v2.1" ODMVersion="1.3.2" FileType="Snapshot" FileOID="F">'
            '<Study OID="S"><MetaDataVersion OID="M" Name="M" def:DefineVersion="2.1.0">'
            + "".join(groups) + "".join(wcs) + "".join(items) + "".join(cls)
            + "</MetaDataVersion></Study></ODM>\n")
