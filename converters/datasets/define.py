"""Dataset-JSON metadata from a Define-XML 2.x document: OIDs, labels, data types, lengths, display
formats and key sequences, so that a dataset written from a package agrees with its define.xml."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from .model import Column, DatasetError, DatasetMeta
from .xpt import timing_type

ODM = "{http://www.cdisc.org/ns/odm/v1.3}"
DEF = "{http://www.cdisc.org/ns/def/v2.1}"
DEF20 = "{http://www.cdisc.org/ns/def/v2.0}"

# Define-XML DataType -> Dataset-JSON dataType for text values. Partial and incomplete ISO 8601 values
# are still dates/datetimes/times as text; durations and intervals have no Dataset-JSON type.
_TEXT_TYPES = {"text": "string", "date": "date", "datetime": "datetime", "time": "time",
               "partialDate": "date", "partialDatetime": "datetime", "partialTime": "time",
               "incompleteDatetime": "datetime", "durationDatetime": "string", "intervalDatetime": "string",
               "URI": "URI"}


@dataclass(frozen=True)
class DefineItem:
    oid: str
    name: str
    label: str
    data_type: str  # as in define.xml
    length: int | None
    display_format: str | None
    key_sequence: int | None


@dataclass(frozen=True)
class DefineDataset:
    oid: str
    name: str
    label: str
    items: tuple[DefineItem, ...]

    def item(self, name: str) -> DefineItem | None:
        return next((i for i in self.items if i.name == name), None)


@dataclass(frozen=True)
class Define:
    path: Path
    study_oid: str
    metadata_version_oid: str
    datasets: dict[str, DefineDataset]  # by upper-case name
    item_oids: frozenset[str] = frozenset()  # every ItemDef OID


def _text(node) -> str:
    if node is None:
        return ""
    found = node.find(f"{ODM}Description/{ODM}TranslatedText")
    return (found.text or "").strip() if found is not None else ""


def _attr(node, name: str) -> str | None:
    return node.get(f"{DEF}{name}", node.get(f"{DEF20}{name}"))


def read_define(path: str | Path) -> Define:
    from lxml import etree

    from converters.define.resources import safe_parser

    path = Path(path)
    try:
        root = etree.parse(str(path), safe_parser()).getroot()
    except (OSError, etree.XMLSyntaxError) as exc:
        raise DatasetError(f"{path}: not a readable define.xml ({exc})") from None
    study = root.find(f"{ODM}Study")
    mdv = study.find(f"{ODM}MetaDataVersion") if study is not None else None
    if mdv is None:
        raise DatasetError(f"{path}: no Study/MetaDataVersion element")
    defs = {n.get("OID"): n for n in mdv.iter(f"{ODM}ItemDef")}
    datasets = {}
    for group in mdv.iter(f"{ODM}ItemGroupDef"):
        items = []
        for ref in group.iter(f"{ODM}ItemRef"):
            item = defs.get(ref.get("ItemOID"))
            if item is None:
                continue
            length, key = item.get("Length"), ref.get("KeySequence")
            items.append(DefineItem(item.get("OID"), item.get("Name", ""), _text(item), item.get("DataType", "text"),
                                    int(length) if length else None, _attr(item, "DisplayFormat"),
                                    int(key) if key else None))
        name = (group.get("Name") or "").upper()
        datasets[name] = DefineDataset(group.get("OID"), name, _text(group), tuple(items))
    return Define(path, study.get("OID"), mdv.get("OID"), datasets, frozenset(defs))


def define_column(item: DefineItem, stored: Column) -> Column:
    """A column as define.xml describes it; ``stored`` is what the data file itself says (XPORT type,
    width and format), used where define.xml is silent."""
    display = item.display_format  # define.xml is the authority: a format only the file has is not carried
    if stored.numeric:
        timing = timing_type(display) or (item.data_type if item.data_type in ("date", "datetime", "time") else None)
        if timing:
            return Column(item.oid, item.name, item.label, timing, "integer", None, display, item.key_sequence)
        kind = "integer" if item.data_type == "integer" else "float" if item.data_type == "float" else stored.data_type
        return Column(item.oid, item.name, item.label, kind, None, None, display, item.key_sequence)
    kind = _TEXT_TYPES.get(item.data_type, "string")
    # the text's width travels with every text column: an XPORT file written back needs it
    return Column(item.oid, item.name, item.label, kind, None, item.length or stored.length, None, item.key_sequence)


def apply_define(meta: DatasetMeta, define: Define, ref: str | None = "define.xml") -> DatasetMeta:
    """``meta`` (as read from a data file) with define.xml's OIDs and column metadata; a dataset that
    define.xml does not describe keeps its own."""
    group = define.datasets.get(meta.name.upper())
    common = dict(study_oid=define.study_oid, metadata_version_oid=define.metadata_version_oid, metadata_ref=ref)
    if group is None:
        return replace(meta, **common)
    columns = []
    for col in meta.columns:
        item = group.item(col.name)
        columns.append(col if item is None else define_column(item, col))
    return replace(meta, columns=tuple(columns), item_group_oid=group.oid, label=group.label or meta.label, **common)


def find_define(folder: Path) -> Path | None:
    path = Path(folder) / "define.xml"
    return path if path.is_file() else None
