"""Define-XML reading: safe parse, schema check, and the dataset/variable/codelist/where-clause model."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lxml import etree

DEF21 = "http://www.cdisc.org/ns/def/v2.1"
SHARED_XSD = Path(__file__).resolve().parents[3] / "shared" / "reference" / "define-xml-2.1" / "schema" \
    / "cdisc-define-2.1" / "define2-1-0.xsd"


class UnsafeXml(Exception):
    """The XML declares a DTD or entities, which a define.xml never needs."""


def safe_parser() -> etree.XMLParser:
    # Defines may come from outside: never expand entities, load a DTD or touch the network.
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def parse(path: Path) -> etree._ElementTree:
    """Parse, refusing any DTD (entity declarations are the billion-laughs and XXE vectors)."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:14].lower().startswith((b"<!doctype html", b"<html")):
        raise UnsafeXml("it is an HTML page, not Define-XML (give define.xml, not define.html)")
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:  # the prolog, where a DTD must stand
        raise UnsafeXml("it declares a DTD (entity declarations are not allowed in Define-XML)")
    try:
        tree = etree.parse(str(path), safe_parser())
    except etree.XMLSyntaxError as exc:
        raise UnsafeXml(f"not well-formed XML ({exc})") from None
    info = tree.docinfo
    if info.internalDTD is not None or info.externalDTD is not None or info.doctype:
        raise UnsafeXml("it declares a DTD (entity declarations are not allowed in Define-XML)")
    if etree.QName(tree.getroot()).localname != "ODM":
        raise UnsafeXml(f"not a Define-XML document: its root element is <{etree.QName(tree.getroot()).localname}>, "
                        "not <ODM>")
    return tree


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema | None:
    """The Define-XML 2.1 XSD: from the defineutils distribution (as converters/define uses it), else
    the copy in the shared reference folder beside the repository; None when neither is available."""
    path = None
    try:
        from converters.define.resources import schema_path
        path = schema_path()
    except Exception:  # defineutils missing or broken: fall back to the shared copy
        path = None
    if path is None or not Path(path).is_file():
        path = SHARED_XSD if SHARED_XSD.is_file() else None
    return None if path is None else etree.XMLSchema(etree.parse(str(path), safe_parser()))


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _attr(el: etree._Element, name: str) -> str:
    """An attribute by local name, whatever its namespace (Define-XML 2.0 and 2.1 use def: prefixes)."""
    for k, v in el.attrib.items():
        if k == name or k.endswith("}" + name):
            return v
    return ""


@dataclass
class ItemDef:
    oid: str
    name: str
    data_type: str
    length: int | None
    codelist: str  # CodeList OID


@dataclass
class Define:
    version: str  # "2.1.0", "2.0.0", "1.0.0" ...
    is21: bool
    datasets: dict[str, list[str]] = field(default_factory=dict)  # dataset -> ItemOIDs
    items: dict[str, ItemDef] = field(default_factory=dict)
    codelists: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)  # oid -> (name, values)
    where: dict[str, list[tuple[str, str, list[str]]]] = field(default_factory=dict)  # oid -> [(item, op, values)]
    ct_version: str = ""


def read_define(tree: etree._ElementTree) -> Define:
    root = tree.getroot()
    mdv = next((e for e in root.iter() if isinstance(e.tag, str) and _local(e) == "MetaDataVersion"), None)
    version = _attr(mdv, "DefineVersion") if mdv is not None else ""
    nsmap = {v for v in root.nsmap.values()}
    d = Define(version=version or ("1.0.0" if "http://www.cdisc.org/ns/def/v1.0" in nsmap else "unknown"),
               is21=DEF21 in nsmap)
    if mdv is None:
        return d
    for el in mdv.iter():
        if not isinstance(el.tag, str):
            continue
        tag = _local(el)
        if tag == "ItemGroupDef":
            d.datasets[_attr(el, "Name").upper()] = [_attr(r, "ItemOID") for r in el if _local(r) == "ItemRef"]
        elif tag == "ItemDef":
            ref = next((c for c in el if _local(c) == "CodeListRef"), None)
            length = _attr(el, "Length")
            d.items[_attr(el, "OID")] = ItemDef(_attr(el, "OID"), _attr(el, "Name"), _attr(el, "DataType"),
                                                int(length) if length.isdigit() else None,
                                                _attr(ref, "CodeListOID") if ref is not None else "")
        elif tag == "CodeList":
            values = frozenset(_attr(i, "CodedValue") for i in el if _local(i) in ("CodeListItem", "EnumeratedItem"))
            if values:  # an external dictionary (MedDRA) has no items to check against
                d.codelists[_attr(el, "OID")] = (_attr(el, "Name"), values)
        elif tag == "WhereClauseDef":
            d.where[_attr(el, "OID")] = [
                (_attr(rc, "ItemOID"), _attr(rc, "Comparator"),
                 [cv.text or "" for cv in rc if _local(cv) == "CheckValue"])
                for rc in el if _local(rc) == "RangeCheck"]
        elif tag == "Standard" and _attr(el, "Type") == "CT":
            d.ct_version = d.ct_version or _attr(el, "Version")
    return d


NUMERIC = {"integer", "float"}
