"""Raw forms from a CDISC ODM 1.3 XML export (REDCap, OpenClinica, Rave, Castor): one record per ItemGroupData.

Each record has the keys of its place in the file (SubjectKey, StudyEventOID, StudyEventRepeatKey,
FormOID, FormRepeatKey, ItemGroupOID, ItemGroupRepeatKey; SiteRef and vendor attributes such as
``redcap:RecordIdField`` where the file has them) and a column per item of its ItemGroupDef. The
metadata (MetaDataVersion) types each item: a value that does not fit its DataType, or an ItemOID
without an ItemDef, is a Problem with the file and line. Absent and ``IsNull`` items are missing
(None), not empty text. Transactions (Insert, Update, Upsert, Remove) are applied in file order, so
the records are the snapshot they describe. Audit records, signatures and annotations are skipped.
A file that is not ODM 1.3 (ODM 2.0, another root or namespace), is not well-formed or has a DOCTYPE
is refused with one line naming file and line. The file is streamed (each ItemGroupData is dropped
once read), so memory follows the records kept, not the file size.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
from lxml import etree

from converters.problems import Problem

NS13 = "http://www.cdisc.org/ns/odm/v1.3"
NS20 = "http://www.cdisc.org/ns/odm/v2.0"
KEYS = ("SubjectKey", "StudyEventOID", "StudyEventRepeatKey", "FormOID", "FormRepeatKey", "ItemGroupOID",
        "ItemGroupRepeatKey")
_LEVELS = ("SubjectData", "StudyEventData", "FormData", "ItemGroupData")
_LEVEL_KEYS = {"SubjectData": ("SubjectKey",), "StudyEventData": ("StudyEventOID", "StudyEventRepeatKey"),
               "FormData": ("FormOID", "FormRepeatKey"), "ItemGroupData": ("ItemGroupOID", "ItemGroupRepeatKey")}
_PREFIXES = {"https://projectredcap.org": "redcap", "http://www.openclinica.org/ns/odm_ext_v130/v3.1": "OpenClinica"}

# ODM 1.3 DataType -> what a value must look like (the ISO 8601 forms of the ODM specification)
_DATE = r"\d{4}-\d{2}-\d{2}"
_TIME = r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?"
DATATYPES = {
    "integer": re.compile(r"[+-]?\d+"),
    "float": re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"),
    "double": re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"),
    "date": re.compile(_DATE),
    "time": re.compile(_TIME),
    "datetime": re.compile(_DATE + "T" + _TIME),
    "partialDate": re.compile(r"\d{4}(-\d{2}(-\d{2})?)?"),
    "partialDatetime": re.compile(r"\d{4}(-\d{2}(-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?)?)?)?"),
    "boolean": re.compile(r"true|false|1|0|yes|no", re.IGNORECASE),
}


class OdmError(ValueError):
    """The file cannot be read as ODM 1.3 at all: one line, naming the file (and line when known)."""

    def __init__(self, file: str, line: int | None, message: str, rule: str = "ODM-READ"):
        super().__init__(f"{file}" + (f":{line}" if line else "") + f": {message}")
        self.problem = Problem(file, line, "", "", rule, message)
        self.unsupported = rule == "ODM-VERSION"  # a format this tool does not read yet, not a faulty file


@dataclass
class ItemDef:
    oid: str
    name: str
    data_type: str
    codelist: str | None


@dataclass
class Metadata:
    """One MetaDataVersion: what the clinical data may hold."""
    oid: str = ""
    study_events: dict[str, str] = field(default_factory=dict)  # OID -> Name
    forms: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # OID -> (Name, ItemGroupOIDs)
    item_groups: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # OID -> (Name, ItemOIDs)
    items: dict[str, ItemDef] = field(default_factory=dict)
    codelists: dict[str, dict[str, str]] = field(default_factory=dict)  # OID -> coded value -> decode


def _local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _decode_text(item) -> str:
    texts = item.findall(f"{{{NS13}}}Decode/{{{NS13}}}TranslatedText")
    english = [t for t in texts if t.get("{http://www.w3.org/XML/1998/namespace}lang", "en").startswith("en")]
    return ((english or texts)[0].text or "").strip() if texts else ""


def metadata_of(mdv) -> Metadata:
    """A MetaDataVersion element, read into its definitions."""
    ns = f"{{{NS13}}}"
    meta = Metadata(oid=mdv.get("OID", ""))
    for se in mdv.iterfind(ns + "StudyEventDef"):
        meta.study_events[se.get("OID")] = se.get("Name", "")
    for fd in mdv.iterfind(ns + "FormDef"):
        meta.forms[fd.get("OID")] = (fd.get("Name", ""), [r.get("ItemGroupOID") for r in fd.iterfind(ns + "ItemGroupRef")])
    for ig in mdv.iterfind(ns + "ItemGroupDef"):
        meta.item_groups[ig.get("OID")] = (ig.get("Name", ""), [r.get("ItemOID") for r in ig.iterfind(ns + "ItemRef")])
    for it in mdv.iterfind(ns + "ItemDef"):
        ref = it.find(ns + "CodeListRef")
        meta.items[it.get("OID")] = ItemDef(it.get("OID"), it.get("Name", it.get("OID")), it.get("DataType", "text"),
                                            ref.get("CodeListOID") if ref is not None else None)
    for cl in mdv.iterfind(ns + "CodeList"):
        codes = {i.get("CodedValue"): _decode_text(i) for i in cl.iterfind(ns + "CodeListItem")}
        codes.update({i.get("CodedValue"): i.get("CodedValue") for i in cl.iterfind(ns + "EnumeratedItem")})
        meta.codelists[cl.get("OID")] = codes
    return meta


def _vendor_attributes(elem) -> dict[str, str]:
    """Attributes outside the ODM namespace (``redcap:RecordIdField``), named by their usual prefix."""
    out = {}
    for key, value in elem.attrib.items():
        q = etree.QName(key)
        if q.namespace and q.namespace != NS13:
            prefix = _PREFIXES.get(q.namespace) or next((p for p, u in elem.nsmap.items() if u == q.namespace and p), "ext")
            out[f"{prefix}:{q.localname}"] = value
    return out


_WATCHED = [f"{{{NS13}}}{t}" for t in ("MetaDataVersion", "ClinicalData", "SiteRef") + _LEVELS]


def _events(path: Path, tags=None, events=("start", "end")):
    # entities, DTDs and the network off, as for every XML the tool reads; only the watched elements
    # come to Python (items are read from their ItemGroupData), which keeps a large file fast
    return etree.iterparse(str(path), events=events, tag=tags, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass
class Odm:
    """What one pass over a file gives: its metadata and, for each wanted bucket, its records by key."""
    metadata: Metadata
    records: dict[str, dict[tuple, dict]]  # bucket -> record key -> {column: value, "__line": n}
    problems: list[Problem]


def _check_root(root, file: str) -> None:
    if root.getroottree().docinfo.doctype:  # ODM is defined by an XML Schema: a DTD only brings entities
        raise OdmError(file, 1, "has a DOCTYPE (DTD and entities); an ODM file has none, so it is refused", "ODM-DTD")
    q = etree.QName(root.tag)
    if q.localname == "ODM" and q.namespace == NS20:
        raise OdmError(file, root.sourceline, "ODM 2.0 is not supported yet (ODM 1.3.1 and 1.3.2 are)", "ODM-VERSION")
    if q.localname != "ODM":
        raise OdmError(file, root.sourceline, f"not an ODM file (root element {q.localname}, expected ODM)")
    if q.namespace != NS13:
        raise OdmError(file, root.sourceline, f"ODM root in namespace {q.namespace or '(none)'}, expected {NS13}")


def _root(path: Path, file: str) -> None:
    """The root element must be ODM 1.3, checked before anything else is read."""
    try:
        for _, elem in _events(path, events=("start",)):
            _check_root(elem, file)
            return
    except etree.XMLSyntaxError as exc:
        raise OdmError(file, exc.lineno or None, f"not well-formed XML ({exc.msg})", "ODM-XML") from None
    except OSError as exc:
        raise OdmError(file, None, f"cannot be read ({exc})") from None


def scan(path: Path, file: str, want: Callable[[str, str], str | None]) -> Odm:
    """Stream ``path``; ``want(FormOID, ItemGroupOID)`` names the bucket an ItemGroupData goes to (None: skip)."""
    _root(path, file)
    metas: dict[str, Metadata] = {}
    meta = Metadata()
    records: dict[str, dict[tuple, dict]] = {}
    problems: list[Problem] = []
    context: dict[str, str | None] = {}
    extra: dict[str, dict[str, str]] = {}
    removing = None  # the level a Remove transaction deletes, with all it holds, until its end
    try:
        for event, elem in _events(path, _WATCHED):
            name = _local(elem.tag)
            if event == "start":
                if name == "ClinicalData":
                    mdv = elem.get("MetaDataVersionOID", "")
                    meta = metas.get(mdv) or (next(iter(metas.values())) if len(metas) == 1 else Metadata())
                elif name in _LEVELS:
                    for lower in _LEVELS[_LEVELS.index(name):]:
                        for k in _LEVEL_KEYS[lower]:
                            context[k] = None
                        extra.pop(lower, None)
                    for k in _LEVEL_KEYS[name]:
                        context[k] = elem.get(k)
                    extra[name] = _vendor_attributes(elem)
                    if elem.get("TransactionType") == "Remove" and name != "ItemGroupData" and removing is None:
                        _remove_under(records, tuple(context[k] for k in KEYS[:_key_width(name)]))
                        removing = name
            elif name == "MetaDataVersion":
                metas[elem.get("OID", "")] = metadata_of(elem)
                _drop(elem)
            elif name == "SiteRef":
                extra.setdefault("SubjectData", {})["SiteRef"] = elem.get("LocationOID")
            elif name == "ItemGroupData":
                bucket = want(context.get("FormOID") or "", context.get("ItemGroupOID") or "")
                if bucket is not None and removing is None:
                    problems += _apply(records.setdefault(bucket, {}), elem, context, extra, meta, file)
                _drop(elem)
            elif name in ("FormData", "StudyEventData", "SubjectData"):
                removing = None if removing == name else removing
                _drop(elem)
    except etree.XMLSyntaxError as exc:
        raise OdmError(file, exc.lineno or None, f"not well-formed XML ({exc.msg})", "ODM-XML") from None
    except OSError as exc:
        raise OdmError(file, None, f"cannot be read ({exc})") from None
    return Odm(next(iter(metas.values())) if len(metas) == 1 and not meta.oid else meta, records, problems)


def _key_width(level: str) -> int:
    return {"SubjectData": 1, "StudyEventData": 3, "FormData": 5, "ItemGroupData": 7}[level]


def _remove_under(records: dict[str, dict[tuple, dict]], prefix: tuple) -> None:
    for rows in records.values():
        for key in [k for k in rows if k[:len(prefix)] == prefix]:
            del rows[key]


def _drop(elem) -> None:
    """Free what is read: the element's content and the siblings before it."""
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    while parent is not None and elem.getprevious() is not None:
        del parent[0]


def _item_value(item) -> str | None:
    if item.get("IsNull") == "Yes":
        return None
    if _local(item.tag) == "ItemData":
        return item.get("Value")
    return item.text  # ODM 1.3 typed items (ItemDataString, ItemDataInteger, ...) hold the value as text


def _apply(rows: dict[tuple, dict], elem, context: dict, extra: dict, meta: Metadata, file: str) -> list[Problem]:
    """One ItemGroupData into the records, as its transaction type says; its faults as Problems."""
    key = tuple(context[k] for k in KEYS)
    if elem.get("TransactionType") == "Remove":
        rows.pop(key, None)
        return []
    problems = []
    record = rows.get(key)
    if record is None or elem.get("TransactionType") not in ("Update", "Upsert", "Context"):
        record = {**{k: context[k] for k in KEYS}, "__line": elem.sourceline}
        for level in _LEVELS:
            record.update(extra.get(level, {}))
        rows[key] = record
    for item in elem:
        tag = _local(item.tag)
        if not tag.startswith("ItemData") or item.get("ItemOID") is None:
            continue
        oid = item.get("ItemOID")
        # REDCap files an item under another ItemGroupOID of its form: an ItemDef is what must exist
        if meta.items and oid not in meta.items:
            problems.append(Problem(file, item.sourceline, oid, "", "ODM-ITEM-UNDECLARED",
                                    f"item {oid} (in ItemGroupData {key[5]}) has no ItemDef in the metadata"))
            continue
        if item.get("TransactionType") == "Remove":
            record.pop(oid, None)
            continue
        value = _item_value(item)
        record[oid] = value
        unit = item.find(f"{{{NS13}}}MeasurementUnitRef")
        if unit is not None or item.get("MeasurementUnitOID"):
            record[f"{oid}.MeasurementUnitOID"] = unit.get("MeasurementUnitOID") if unit is not None else item.get("MeasurementUnitOID")
        itemdef = meta.items.get(oid)
        pattern = DATATYPES.get(itemdef.data_type) if itemdef else None
        if value is not None and value.strip() and pattern is not None and not pattern.fullmatch(value.strip()):
            problems.append(Problem(file, item.sourceline, oid, value, "ODM-DATATYPE",
                                    f"{oid} is not a(n) {itemdef.data_type} (its ItemDef DataType)"))
    return problems


def item_columns(meta: Metadata, groups: list[str]) -> list[str]:
    """The ItemOIDs of item groups, in metadata order, each once."""
    return list(dict.fromkeys(oid for g in groups for oid in meta.item_groups.get(g, ("", []))[1]))


def frame_of(rows: dict[tuple, dict], items: list[str], meta: Metadata, item_names: str, decode: bool,
             file: str) -> tuple[pd.DataFrame, list[int], list[Problem]]:
    """Records -> a frame (keys, vendor columns, items; missing is None) and each record's line."""
    records = list(rows.values())
    seen = list(dict.fromkeys(k for r in records for k in r if k not in KEYS and k != "__line"))
    # the declared items, then any the data files under this group although another group declares them
    items = list(dict.fromkeys(items + [k for k in seen if not k.endswith(".MeasurementUnitOID") and ":" not in k
                                        and k != "SiteRef"]))
    vendor = [k for k in seen if (":" in k or k == "SiteRef") and k not in items]
    units = [f"{i}.MeasurementUnitOID" for i in items if f"{i}.MeasurementUnitOID" in seen]
    columns = list(KEYS) + vendor + [c for i in items for c in (i, f"{i}.MeasurementUnitOID") if c in set(items) | set(units)]
    frame = pd.DataFrame([[r.get(c) for c in columns] for r in records], columns=columns, dtype=object)
    problems = []
    if decode:
        for oid in items:
            itemdef = meta.items.get(oid)
            codes = meta.codelists.get(itemdef.codelist) if itemdef and itemdef.codelist else None
            if codes is None:
                continue
            col = frame[oid]
            for i in col.index[col.notna() & ~col.isin(list(codes))]:
                problems.append(Problem(file, records[i]["__line"], oid, col.iat[i], "ODM-CODELIST",
                                        f"{col.iat[i]!r} is not a coded value of CodeList {itemdef.codelist}"))
            frame[oid] = col.map(lambda v: codes.get(v, v) if v is not None else None)
    if item_names == "name":
        frame = frame.rename(columns=_names(meta, items))
    return frame, [r["__line"] for r in records], problems


def _names(meta: Metadata, items: list[str]) -> dict[str, str]:
    out = {}
    for oid in items:
        name = meta.items[oid].name if oid in meta.items else oid
        out[oid], out[f"{oid}.MeasurementUnitOID"] = name, f"{name}.MeasurementUnitOID"
    return out


def read_odm(path: Path, file: str, item_group_oid: str | None, form_oid: str | None, item_names: str = "oid",
             decode: bool = False) -> tuple[pd.DataFrame, list[int], list[Problem]]:
    """The records of one ItemGroupOID (or every item group of one FormOID) of an ODM file."""
    if item_group_oid is not None:
        odm = scan(path, file, lambda f, g: "" if g == item_group_oid else None)
        groups = [item_group_oid]
        known = not odm.metadata.item_groups or item_group_oid in odm.metadata.item_groups
        what = f"ItemGroupOID {item_group_oid}"
    else:
        odm = scan(path, file, lambda f, g: "" if f == form_oid else None)
        groups = odm.metadata.forms.get(form_oid, ("", []))[1]
        known = not odm.metadata.forms or form_oid in odm.metadata.forms
        what = f"FormOID {form_oid}"
    if not known:
        raise OdmError(file, None, f"{what} is not in the file's metadata", "ODM-SELECT")
    frame, lines, problems = frame_of(odm.records.get("", {}), item_columns(odm.metadata, groups), odm.metadata,
                                      item_names, decode, file)
    return frame, lines, odm.problems + problems
