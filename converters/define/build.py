"""Assemble define.xml (Define-XML 2.1.0) for one package folder from specs/ metadata and the data.

Structure and OID conventions follow CDISC's Define-XML 2.1 SDTM/ADaM examples: STD., IG., IT., VL.,
WC., CL., MT., COM., LF. prefixes; ItemDefs are per dataset (IT.<DS>.<VAR>) because lengths are.
Everything is emitted in a fixed order (spec order for datasets and variables, OID order for the
rest), so identical inputs give identical bytes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

import specs
from converters import __version__
from schemas.config import StudyConfig
from specs import Dataset, Variable

from . import items
from .package import DefineError, StudyInfo, XptFile, read_dataset_json, read_folder, read_xpt, study_info
from .valuelevel import Slice, slices
from .xmlns import description, el

DEFINE_VERSION = "2.1.0"
# Coded against MedDRA in SDTMIG 3.4 section 6.2 (AE) and ADaMIG OCCDS; version when not configured
MEDDRA_VARIABLES = frozenset({"AEDECOD", "AEBODSYS", "AELLT", "AEHLT", "AEHLGT", "AESOC"})
MEDDRA_DEFAULT_VERSION = "27.0"
# A variable with no data keeps its CodeListRef only when the whole list is short enough to print
MAX_UNUSED_LIST = 20
# The annotated CRF's def:leaf (specs/<standard>/documents.csv, document acrf)
ACRF_LEAF = "LF.acrf"


@dataclass(frozen=True)
class StandardRef:
    """A specs/ folder name read as an implementation guide: sdtmig-3.4 -> SDTMIG 3.4."""
    folder: str  # specs/ folder, e.g. sdtmig-3.4
    name: str  # def:Standard Name
    version: str
    subdir: str  # package subfolder holding its datasets
    purpose: str  # ItemGroupDef Purpose

    @property
    def oid(self) -> str:
        return f"STD.{self.name}.{self.version}"


_IGS = {"sdtmig": ("SDTMIG", "sdtm", "Tabulation"), "sendig": ("SENDIG", "send", "Tabulation"),
        "adamig": ("ADaMIG", "adam", "Analysis")}


def standard_ref(standard: str) -> StandardRef:
    prefix, _, version = standard.rpartition("-")
    if prefix not in _IGS or not version:
        raise DefineError(f"unknown standard folder '{standard}' (expected e.g. sdtmig-3.4 or adamig-1.3)")
    name, subdir, purpose = _IGS[prefix]
    return StandardRef(standard, name, version, subdir, purpose)


CT_OID = f"STD.CT.SDTM.{specs.CT_VERSION}"


def oid_part(value: str) -> str:
    """A data value made safe and readable inside an OID."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", value.strip()) or "_"


@dataclass
class _Doc:
    """Definitions collected while walking the datasets, emitted in OID order at the end."""
    std: StandardRef
    item_defs: dict[str, etree._Element] = field(default_factory=dict)
    value_lists: dict[str, list[etree._Element]] = field(default_factory=dict)
    where_clauses: dict[str, etree._Element] = field(default_factory=dict)
    codelist_use: dict[str, set[str]] = field(default_factory=dict)
    codelist_num: dict[str, bool] = field(default_factory=dict)
    methods: set[str] = field(default_factory=set)
    comments: dict[str, str] = field(default_factory=dict)
    meddra_version: str = MEDDRA_DEFAULT_VERSION
    cites_crf: bool = False  # some def:Origin points into the annotated CRF

    def use_codelist(self, name: str, values, numeric: bool) -> str:
        self.codelist_use.setdefault(name, set()).update(_coded(v) for v in values)
        self.codelist_num[name] = self.codelist_num.get(name, True) and numeric
        return f"CL.{name}"


def _coded(v) -> str:
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else items._positional(v)
    return str(v)


def _class_names(spec: Dataset, file: XptFile) -> tuple[str, str | None]:
    """def:Class from datasets.csv (e.g. Special-Purpose -> SPECIAL PURPOSE); an optional
    'CLASS: SUBCLASS' form gives def:SubClass, and a BDS dataset with CNSR is TIME-TO-EVENT (ADaMIG 1.3
    section 3.3.8)."""
    cls, _, sub = spec.cls.partition(":")
    cls = cls.strip().upper().replace("-", " ")
    sub = sub.strip().upper() or None
    if sub is None and cls == "BASIC DATA STRUCTURE" and "CNSR" in file.frame.columns:
        sub = "TIME-TO-EVENT"
    return cls, sub


def _item_ref(item_oid: str, order: int, mandatory: bool, *, key: int | None = None, method: str = "",
              role: str | None = None, no_data: bool = False) -> etree._Element:
    return el("ItemRef", {"ItemOID": item_oid, "Mandatory": "Yes" if mandatory else "No", "OrderNumber": order,
                          "KeySequence": key, "MethodOID": method or None, "Role": role,
                          "def:HasNoData": "Yes" if no_data and not mandatory else None})


def _origin(doc: _Doc, kind: str, source_text: str = "", crf_pages: tuple[int, ...] = ()) -> etree._Element | None:
    """def:Origin; a Collected value cites its annotated CRF pages (Define-XML 2.1 section 5.3.11.2)."""
    if not kind:
        return None
    typ, source = items.origin(kind)
    node = el("def:Origin", {"Type": typ, "Source": source})
    if typ == "Predecessor" and source_text:
        node.append(description(source_text))
    if typ == "Collected" and crf_pages:
        doc.cites_crf = True
        el("def:DocumentRef", {"leafID": ACRF_LEAF}, el("def:PDFPageRef", {
            "PageRefs": " ".join(str(p) for p in crf_pages), "Type": "PhysicalRef"}), parent=node)
    return node


def _item_def(oid: str, name: str, label: str, dt: items.DataType, *, display_format: str = "",
              codelist_oid: str | None = None, origin: etree._Element | None = None,
              value_list: str | None = None, comment: str | None = None) -> etree._Element:
    node = el("ItemDef", {"OID": oid, "Name": name, "DataType": dt.name, "Length": dt.length,
                          "SignificantDigits": dt.significant_digits, "SASFieldName": name[:8],
                          "def:DisplayFormat": display_format or None, "def:CommentOID": comment})
    node.append(description(label))
    if codelist_oid:
        el("CodeListRef", {"CodeListOID": codelist_oid}, parent=node)
    if origin is not None:
        node.append(origin)
    if value_list:
        el("def:ValueListRef", {"ValueListOID": value_list}, parent=node)
    return node


def _variable_codelist(doc: _Doc, var: Variable, file: XptFile, vals: list) -> str | None:
    if var.codelist and (len(vals) or len(specs.codelist(var.codelist).terms) <= MAX_UNUSED_LIST):
        return doc.use_codelist(var.codelist, vals, not file.char[var.name])
    if var.name in MEDDRA_VARIABLES:
        return "CL.MEDDRA"
    return None


def _method_of(doc: _Doc, var: Variable) -> str:
    if var.method:
        doc.methods.add(var.method)
    return var.method


def _comment_of(doc: _Doc, ds: str, var: Variable) -> str | None:
    """The spec's comment on the variable; Define-XML 2.1 section 5.3.11.2: a derived value with no
    method still needs a word on where it comes from."""
    text = var.comment or ("Derived by the sponsor." if var.origin == "Derived" and not var.method else "")
    return _comment(doc, f"COM.{ds}.{var.name}", text)


def _comment(doc: _Doc, oid: str, text: str) -> str | None:
    if not text:
        return None
    doc.comments[oid] = text
    return oid


def _slice_item(doc: _Doc, spec: Dataset, file: XptFile, sl: Slice) -> tuple[str, str]:
    """ItemDef of one value-level slice; returns (ItemOID, MethodOID)."""
    parent = spec.variable(sl.target)
    oid = f"IT.{spec.name}.{sl.target}.{oid_part(sl.value)}"
    vals = file.distinct(sl.target, (sl.key, sl.value))
    char = file.char[sl.target]
    if char and items.is_iso8601_variable(sl.name):
        dt = items.DataType(items.iso8601_type(vals, sl.name.endswith("DUR")), None)
    elif char:
        dt = items.DataType("text", items.text_length(vals))
    else:
        dt = items.numeric_type(vals)
    cl = None
    if sl.codelist and sl.codelist in specs.codelists():
        cl = doc.use_codelist(sl.codelist, vals, not char)
    elif parent.codelist:
        cl = doc.use_codelist(parent.codelist, vals, not char)
    kind = sl.origin or parent.origin
    method = _method_of(doc, parent) if kind == "Derived" else ""
    doc.item_defs[oid] = _item_def(oid, sl.name, sl.label, dt, codelist_oid=cl,
                                   origin=_origin(doc, kind, parent.source, parent.crf_pages),
                                   display_format=parent.display_format)
    return oid, method


def _value_lists(doc: _Doc, spec: Dataset, file: XptFile) -> set[str]:
    """ValueListDefs and WhereClauseDefs of a dataset; returns the variables that have one."""
    by_target: dict[str, list[Slice]] = {}
    for sl in slices(spec, file, doc.std.folder):
        by_target.setdefault(sl.target, []).append(sl)
    for target, group in by_target.items():
        refs = []
        for order, sl in enumerate(group, start=1):
            item_oid, method = _slice_item(doc, spec, file, sl)
            wc = f"WC.{spec.name}.{sl.key}.{oid_part(sl.value)}"
            doc.where_clauses[wc] = el("def:WhereClauseDef", {"OID": wc}, el(
                "RangeCheck", {"Comparator": "EQ", "SoftHard": "Soft", "def:ItemOID": f"IT.{spec.name}.{sl.key}"},
                el("CheckValue", text=sl.value)))
            ref = _item_ref(item_oid, order, False, method=method)
            el("def:WhereClauseRef", {"WhereClauseOID": wc}, parent=ref)
            refs.append(ref)
        doc.value_lists[f"VL.{spec.name}.{target}"] = refs
    return set(by_target)


def _item_group(doc: _Doc, spec: Dataset, file: XptFile, labels: dict[str, str]) -> etree._Element:
    cols = list(file.frame.columns)
    unknown = [c for c in cols if c not in spec.names]
    if unknown:
        raise DefineError(f"{file.path.name}: variable(s) {', '.join(unknown)} not in specs/{doc.std.folder}")
    tabulation = doc.std.purpose == "Tabulation"
    with_vlm = _value_lists(doc, spec, file)
    # Repeating="No": at most one record per subject (DM, ADSL) or no subjects at all (trial design)
    one_per_subject = spec.structure.lower().rstrip(". ") == "one record per subject" or "USUBJID" not in cols
    domain = (spec.name[4:] if spec.name.startswith("SUPP") else spec.name) if tabulation else None
    group = el("ItemGroupDef", {
        "OID": f"IG.{spec.name}", "Domain": domain, "Name": spec.name,
        "Repeating": "No" if one_per_subject else "Yes",
        "IsReferenceData": "Yes" if spec.cls.upper() == "TRIAL DESIGN" else "No",
        "SASDatasetName": spec.name, "def:Structure": spec.structure, "Purpose": doc.std.purpose,
        "def:StandardOID": doc.std.oid, "def:ArchiveLocationID": f"LF.{spec.name}",
        "def:CommentOID": _comment(doc, f"COM.{spec.name}", spec.comment)})
    group.append(description(spec.label))
    for order, col in enumerate(cols, start=1):
        var = spec.variable(col)
        vals = file.distinct(col)  # facts below need each distinct value once, not every record
        oid = f"IT.{spec.name}.{col}"
        key = spec.keys.index(col) + 1 if col in spec.keys else None
        method = _method_of(doc, var) if var.origin == "Derived" else ""
        group.append(_item_ref(oid, order, var.core == "Req", key=key, method=method,
                               role=var.role if tabulation and var.role else None, no_data=len(vals) == 0))
        dt = items.item_type(col, file.char[col], vals, file.widths[col], var.display_format)
        doc.item_defs[oid] = _item_def(
            oid, col, var.label, dt, display_format=var.display_format,
            codelist_oid=_variable_codelist(doc, var, file, vals),
            origin=_origin(doc, var.origin, var.source, var.crf_pages),
            value_list=f"VL.{spec.name}.{col}" if col in with_vlm else None,
            comment=_comment_of(doc, spec.name, var))
    if spec.name.startswith("SUPP") and spec.name[4:] in labels:
        el("Alias", {"Context": "DomainDescription", "Name": labels[spec.name[4:]]}, parent=group)
    cls, sub = _class_names(spec, file)
    klass = el("def:Class", {"Name": cls}, parent=group)
    if sub:
        el("def:SubClass", {"Name": sub}, parent=klass)
    leaf = el("def:leaf", {"ID": f"LF.{spec.name}", "xlink:href": file.path.name}, parent=group)
    el("def:title", text=file.path.name, parent=leaf)
    return group


def _codelist(doc: _Doc, name: str) -> etree._Element:
    cl = specs.codelist(name)
    terms = items.listed_terms(cl, doc.codelist_use.get(name, set()))
    numeric = doc.codelist_num.get(name, False) and all(re.fullmatch(r"-?\d+", t.term.value) for t in terms)
    node = el("CodeList", {"OID": f"CL.{name}", "Name": cl.label, "DataType": "integer" if numeric else "text",
                           "def:StandardOID": None if cl.sponsor else CT_OID})
    decoded = items.needs_decode(terms)
    for t in terms:
        attrs = {"CodedValue": t.term.value, "def:ExtendedValue": "Yes" if t.extended else None}
        item = el("CodeListItem" if decoded else "EnumeratedItem", attrs, parent=node)
        if decoded:
            item.append(description(t.term.decode or t.term.value, "Decode"))
        if t.term.code:
            el("Alias", {"Context": "nci:ExtCodeID", "Name": t.term.code}, parent=item)
    if cl.code:
        el("Alias", {"Context": "nci:ExtCodeID", "Name": cl.code}, parent=node)
    return node


def _meddra(doc: _Doc) -> etree._Element:
    return el("CodeList", {"OID": "CL.MEDDRA", "Name": "Medical Dictionary for Regulatory Activities", "DataType": "text"},
              el("ExternalCodeList", {"Dictionary": "MedDRA", "Version": doc.meddra_version,
                                      "href": "https://www.meddra.org/"}))


def _methods(doc: _Doc) -> list[etree._Element]:
    table = {r["method"]: r for r in specs.table("methods", doc.std.folder)}
    missing = sorted(doc.methods - set(table))
    if missing:
        raise DefineError(f"method(s) {', '.join(missing)} not in specs/{doc.std.folder}/methods.csv")
    return [el("MethodDef", {"OID": oid, "Name": table[oid]["name"], "Type": table[oid]["type"] or "Computation"},
               description(table[oid]["description"])) for oid in sorted(doc.methods)]


def _documents(std: StandardRef, folder: Path, cites_crf: bool) -> tuple[list[etree._Element], list[etree._Element]]:
    """(def:AnnotatedCRF / def:SupplementalDoc elements, their def:leaf elements) for the documents of
    documents.csv present beside define.xml, and the annotated CRF whenever a variable cites it."""
    docs = [d for d in specs.table("documents", std.folder)
            if (folder / d["href"]).is_file() or (cites_crf and d["kind"] == "AnnotatedCRF")]
    refs = [el(f"def:{kind}", {}, *[el("def:DocumentRef", {"leafID": f"LF.{d['document']}"})
                                    for d in docs if d["kind"] == kind])
            for kind in ("AnnotatedCRF", "SupplementalDoc") if any(d["kind"] == kind for d in docs)]
    leaves = [el("def:leaf", {"ID": f"LF.{d['document']}", "xlink:href": d["href"]}, el("def:title", text=d["title"]))
              for d in sorted(docs, key=lambda d: d["kind"] != "AnnotatedCRF")]
    return refs, leaves


def _ordered(std: StandardRef, files: list[XptFile]) -> list[tuple[Dataset, XptFile]]:
    spec_all = specs.datasets(std.folder)
    unknown = [f.path.name for f in files if f.name not in spec_all]
    if unknown:
        raise DefineError(f"dataset(s) {', '.join(unknown)} have no spec in specs/{std.folder}/datasets.csv")
    names = [f.name for f in files]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DefineError(f"dataset(s) {', '.join(twice)} stored in more than one file")
    order = list(spec_all)
    return [(spec_all[f.name], f) for f in sorted(files, key=lambda f: order.index(f.name))]


def build_define(folder: Path, standard: str, config: StudyConfig | None = None,
                 ts_path: Path | None = None, meddra_version: str | None = None) -> etree._ElementTree:
    """The define.xml tree of the datasets in ``folder`` (a package's sdtm/ or adam/ subfolder).

    ``ts_path``: a TS dataset to take the study title from when there is no configuration and the
    folder has no TS of its own (ADaM packages).
    """
    folder = Path(folder)
    std = standard_ref(standard)
    files = read_folder(folder)
    if not files:
        raise DefineError(f"{folder}: no datasets (.xpt, .json, .ndjson, .dsjc) to describe")
    ts = next((f for f in files if f.name == "TS"), None)
    if ts is None and ts_path is not None and Path(ts_path).is_file():
        ts = read_xpt(Path(ts_path)) if Path(ts_path).suffix.lower() == ".xpt" else read_dataset_json(Path(ts_path))
    info: StudyInfo = study_info(config, files, ts)
    doc = _Doc(std, meddra_version=meddra_version or MEDDRA_DEFAULT_VERSION)
    ordered = _ordered(std, files)
    labels = {s.name: s.label for s, _ in ordered}
    groups = [_item_group(doc, spec, file, labels) for spec, file in ordered]

    root = el("ODM", {"ODMVersion": "1.3.2", "FileType": "Snapshot",
                      "FileOID": f"{info.studyid}.{std.subdir}.Define-XML_{DEFINE_VERSION}",
                      "CreationDateTime": info.created, "SourceSystem": "cdisc-converter",
                      "SourceSystemVersion": __version__, "def:Context": "Submission"})
    study = el("Study", {"OID": f"STDY.{info.studyid}"}, parent=root)
    gv = el("GlobalVariables", parent=study)
    el("StudyName", text=info.name, parent=gv)
    el("StudyDescription", text=info.description, parent=gv)
    el("ProtocolName", text=info.protocol, parent=gv)
    mdv = el("MetaDataVersion", {
        "OID": f"MDV.{info.studyid}.{std.name}.{std.version}",
        "Name": f"Study {info.studyid}, {std.name} {std.version} Data Definitions",
        "Description": f"{std.name} {std.version} data definitions for study {info.studyid}",
        "def:DefineVersion": DEFINE_VERSION}, parent=study)
    standards = el("def:Standards", parent=mdv)
    el("def:Standard", {"OID": std.oid, "Name": std.name, "Type": "IG", "Version": std.version,
                        "Status": "Final"}, parent=standards)
    el("def:Standard", {"OID": CT_OID, "Name": "CDISC/NCI", "Type": "CT", "PublishingSet": "SDTM",
                        "Version": specs.CT_VERSION, "Status": "Final"}, parent=standards)
    doc_refs, doc_leaves = _documents(std, folder, doc.cites_crf)
    for node in doc_refs:
        mdv.append(node)
    for oid in sorted(doc.value_lists):
        mdv.append(el("def:ValueListDef", {"OID": oid}, *doc.value_lists[oid]))
    for oid in sorted(doc.where_clauses):
        mdv.append(doc.where_clauses[oid])
    for g in groups:
        mdv.append(g)
    for oid in sorted(doc.item_defs):
        mdv.append(doc.item_defs[oid])
    for name in sorted(doc.codelist_use):
        mdv.append(_codelist(doc, name))
    if any(node.find("{*}CodeListRef[@CodeListOID='CL.MEDDRA']") is not None for node in doc.item_defs.values()):
        mdv.append(_meddra(doc))
    for node in _methods(doc):
        mdv.append(node)
    for oid in sorted(doc.comments):
        mdv.append(el("def:CommentDef", {"OID": oid}, description(doc.comments[oid])))
    for leaf in doc_leaves:
        mdv.append(leaf)
    etree.cleanup_namespaces(root)
    return etree.ElementTree(root)


def standard_for_folder(subdir: str) -> str:
    """The specs/ folder describing a package subfolder (sdtm -> sdtmig-3.4); newest version wins."""
    prefixes = [p for p, (_, sub, _) in _IGS.items() if sub == subdir]
    found = sorted((d for d in specs.sets.standards() if d.rpartition("-")[0] in prefixes),
                   key=lambda n: [int(x) if x.isdigit() else x for x in re.split(r"[.-]", n)])
    if not found:
        raise DefineError(f"no specs/ folder for package subfolder '{subdir}'")
    return found[-1]
