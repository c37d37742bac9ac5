"""`cdisc explain`: one value walked back to where it came from.

ADaM record -> the record its SRCDOM/SRCVAR/SRCSEQ name (ADaM or SDTM), or for a variable copied or
derived from SDTM (the spec's source and method) the subject's records in the domains it names, dated
like the value when it is a date -> for an SDTM record, its source file and line (reports/
lineage.parquet and the manifest) -> with ``study``, that line's raw values. The method texts come from
the package's define.xml, else from the specs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from converters.compare.lineage import read_lineage, source_row
from converters.compare.raw import RawSource
from converters.compare.tables import Table, TableError, find_datasets, read_table

SDTM_DOMAINS = ("DM", "AE", "RS", "EX", "TS")
MAX_DEPTH = 6
MAX_RECORDS = 5  # records of one domain shown for a derivation's input


class ExplainError(TableError):
    """The value cannot be found (unknown dataset, variable or key): exit status 2."""


@dataclass
class Hop:
    depth: int
    where: str  # "ADTTE", "SDTM RS", "source/response.csv line 14"
    keys: dict
    variable: str | None
    value: object
    how: str = ""  # origin, method or rule that made the value
    values: dict = field(default_factory=dict)  # the rest of the record (raw rows: every column)


class Walker:
    def __init__(self, package: Path, study: Path | None = None):
        self.package = Path(package)
        self.files = find_datasets(self.package)
        self.tables: dict[str, Table] = {}
        self.lineage = read_lineage(self.package)
        self.raw = RawSource(self.package, study)
        self.methods = MethodTexts(self.package)

    def table(self, name: str) -> Table:
        if name not in self.tables:
            if name not in self.files:
                raise ExplainError(f"{self.package} has no dataset {name}")
            self.tables[name] = read_table(self.files[name])
        return self.tables[name]

    # ------------------------------------------------------------------ entry
    def explain(self, dataset: str, keys: dict[str, str], variable: str | None) -> list[Hop]:
        dataset = dataset.upper()
        t = self.table(dataset)
        if variable and variable not in t.frame.columns:
            raise ExplainError(f"{dataset} has no variable {variable}")
        rows = select(t, keys)
        if len(rows) != 1:
            found = "no record" if not len(rows) else f"{len(rows)} records"
            from converters.compare.keys import spec_keys

            named = " ".join(k for k in spec_keys(dataset) if k != "STUDYID")
            raise ExplainError(f"{dataset}: {found} where {format_keys(keys)}; "
                               f"give the dataset's key variables{f' ({named})' if named else ''}")
        hops: list[Hop] = []
        self.walk(dataset, int(rows[0]), variable, 0, hops, set())
        return hops

    def walk(self, dataset: str, row: int, variable: str | None, depth: int, hops: list[Hop], seen: set) -> None:
        if (dataset, row, variable) in seen or depth > MAX_DEPTH:
            return
        seen.add((dataset, row, variable))
        t = self.table(dataset)
        rec = t.frame.iloc[row]
        hop = Hop(depth, dataset, identity(t, rec), variable, shown(t, variable, rec.get(variable)) if variable else None,
                  self.methods.text(dataset, variable) if variable else "", record_values(t, rec, variable))
        hops.append(hop)
        if dataset in SDTM_DOMAINS or dataset.startswith("SUPP"):
            self.to_source(dataset, rec, variable, depth + 1, hops)
            return
        for name, idx, var in self.inputs(dataset, rec, variable):
            self.walk(name, idx, var, depth + 1, hops, seen)

    # ------------------------------------------------------------------ ADaM -> its inputs
    def inputs(self, dataset: str, rec: pd.Series, variable: str | None) -> list[tuple[str, int, str | None]]:
        out = []
        srcdom = text(rec.get("SRCDOM"))
        if srcdom and variable in (None, *TRACED_BY_SRC):
            found = self.source_record(srcdom, rec)
            if found is not None:
                out.append((srcdom, found, text(rec.get("SRCVAR")) or None))
        if variable and not out:
            out += self.spec_inputs(dataset, rec, variable)
        return out

    def source_record(self, srcdom: str, rec: pd.Series) -> int | None:
        if srcdom not in self.files:
            return None
        t = self.table(srcdom)
        keys = {"USUBJID": rec["USUBJID"]}
        seq = rec.get("SRCSEQ")
        if seq is not None and seq == seq:
            keys["ASEQ" if srcdom.startswith("AD") else f"{srcdom}SEQ"] = seq
        rows = select(t, keys)
        return int(rows[0]) if len(rows) == 1 else None

    def spec_inputs(self, dataset: str, rec: pd.Series, variable: str) -> list[tuple[str, int, str | None]]:
        """Records the spec names for a variable: its predecessor (DM.AGE), else the domains its method
        names, the subject's records there (dated like the value when it is a date)."""
        spec = spec_variable(dataset, variable)
        if spec is None:
            return []
        m = re.match(r"(SUPP)?([A-Z]{2,8})\.([A-Z0-9]+)", spec.source or "")
        if m and (m.group(1) or "") + m.group(2) in self.files:
            name = (m.group(1) or "") + m.group(2)
            if name.startswith("SUPP"):
                rows = select(self.table(name), {"USUBJID": rec["USUBJID"], "QNAM": variable})
                return [(name, int(r), "QVAL") for r in rows[:1]]
            if text(rec.get("SRCDOM")) == name:  # the record this one was made from (AVISIT <- RS.VISIT)
                found = self.source_record(name, rec)
                return [(name, found, m.group(3))] if found is not None else []
            rows = select(self.table(name), {"USUBJID": rec["USUBJID"]})
            return [(name, int(rows[0]), m.group(3))] if len(rows) == 1 else []
        method = self.methods.text(dataset, variable)
        out = []
        for name, var in named_inputs(method, [n for n in self.files if n in SDTM_DOMAINS]):
            rows = select(self.table(name), {"USUBJID": rec["USUBJID"]}) if "USUBJID" in self.table(name).frame else \
                np.arange(len(self.table(name).frame))
            date = sas_date(rec.get(variable)) if is_date_variable(self.table(dataset), variable) else None
            picked = [(name, int(r), v) for r in rows
                      for v in ([var] if var else dated_variables(self.table(name)))
                      if date is None or text(self.table(name).frame[v].iat[int(r)])[:10] == date]
            out += picked[:MAX_RECORDS]
        return out

    # ------------------------------------------------------------------ SDTM -> raw row
    def to_source(self, dataset: str, rec: pd.Series, variable: str | None, depth: int, hops: list[Hop]) -> None:
        if dataset.startswith("SUPP"):  # a qualifier of a parent record
            parent = text(rec.get("RDOMAIN"))
            keys = {"USUBJID": rec["USUBJID"]}
            if text(rec.get("IDVAR")):
                keys[text(rec["IDVAR"])] = text(rec.get("IDVARVAL"))
            if parent in self.files:
                rows = select(self.table(parent), keys)
                if len(rows) == 1:
                    self.walk(parent, int(rows[0]), None, depth, hops, set())
            return
        if dataset == "TS":
            hops.append(Hop(depth, "study.toml", {}, None, None, "trial summary parameters come from the study configuration"))
            return
        if self.lineage is None:
            hops.append(Hop(depth, "(no lineage)", {}, None, None, "the package has no reports/lineage.parquet"))
            return
        seq_var = f"{dataset}SEQ"
        seq = rec.get(seq_var) if seq_var in rec.index else None
        found = source_row(self.lineage, dataset, text(rec["USUBJID"]), seq)
        if found is None:
            hops.append(Hop(depth, "(no lineage)", {}, None, None, f"reports/lineage.parquet has no row for this {dataset} record"))
            return
        form, line = found
        hops.append(self.raw.hop(depth, form, line, dataset, variable, rec))


TRACED_BY_SRC = ("AVAL", "AVALC", "ADT", "CNSR", "EVNTDESC", "CNSDTDSC", "SRCDOM", "SRCVAR", "SRCSEQ")


def named_inputs(method: str, domains: list[str]) -> list[tuple[str, str | None]]:
    """(domain, variable or None) a method text names: 'DM.RFPENDTC', 'EXSTDTC', 'the last RS date'."""
    out: list[tuple[str, str | None]] = []
    for d in domains:
        vars_ = re.findall(rf"\b{d}\.([A-Z0-9]+)", method) + [v for v in re.findall(rf"\b({d}[A-Z0-9]{{2,6}})\b", method)]
        for v in dict.fromkeys(vars_):
            out.append((d, v))
        if not vars_ and re.search(rf"\b{d}\b", method):
            out.append((d, None))
    return out


def dated_variables(t: Table) -> list[str]:
    return [c for c in t.frame.columns if c.endswith("DTC")]


def is_date_variable(t: Table, variable: str) -> bool:
    return t.types.get(variable) == "Num" and (t.formats.get(variable, "").startswith(("DATE", "E8601DA", "YYMMDD"))
                                               or variable.endswith("DT"))


def sas_date(v) -> str | None:
    if v is None or v != v or isinstance(v, str):
        return None
    return (pd.Timestamp("1960-01-01") + pd.Timedelta(days=int(v))).strftime("%Y-%m-%d")


def text(v) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def shown(t: Table, variable: str, v):
    date = sas_date(v) if is_date_variable(t, variable) else None
    return f"{text(v)} ({date})" if date else text(v)


def select(t: Table, keys: dict) -> np.ndarray:
    mask = np.ones(len(t.frame), bool)
    for k, v in keys.items():
        if k not in t.frame.columns:
            raise ExplainError(f"{t.name} has no variable {k}")
        col = t.frame[k]
        if t.types.get(k) == "Num":
            try:
                mask &= col.to_numpy(dtype="float64") == float(v)
            except (TypeError, ValueError):
                raise ExplainError(f"{t.name}.{k} is numeric; '{v}' is not a number") from None
        else:
            mask &= col.astype(str).to_numpy() == text(v)
    return np.flatnonzero(mask)


def identity(t: Table, rec: pd.Series) -> dict:
    from converters.compare.keys import spec_keys

    names = [k for k in spec_keys(t.name) if k in rec.index and k != "STUDYID"]
    seq = [c for c in rec.index if c in (f"{t.name}SEQ", "ASEQ")]
    return {k: text(rec[k]) for k in dict.fromkeys(names + seq)}


def record_values(t: Table, rec: pd.Series, variable: str | None) -> dict:
    wanted = [c for c in ("PARAMCD", "AVALC", "AVAL", "ADT", "CNSR", "EVNTDESC", "CNSDTDSC", "SRCDOM", "SRCVAR",
                          "SRCSEQ", "VISIT", "RSTESTCD", "RSORRES", "RSDTC", "AETERM", "AEDECOD", "AESTDTC",
                          "EXTRT", "EXCAT", "EXSTDTC", "RFSTDTC", "RFPENDTC", "DTHDTC", "QNAM", "QVAL")
              if c in rec.index and c != variable]
    return {c: shown(t, c, rec[c]) for c in wanted if text(rec[c])}


def format_keys(keys: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in keys.items())


def parse_keys(textual: str) -> dict[str, str]:
    keys = {}
    for part in textual.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise ExplainError(f"key '{part.strip()}' is not VARIABLE=value")
        k, v = part.split("=", 1)
        keys[k.strip().upper()] = v.strip()
    if not keys:
        raise ExplainError("no key given (e.g. USUBJID=S-001,PARAMCD=PFS)")
    return keys


def spec_variable(dataset: str, variable: str):
    from specs import datasets

    for standard in ("sdtmig-3.4", "adamig-1.3"):
        spec = datasets(standard).get(dataset)
        if spec is not None and variable in spec.names:
            return spec.variable(variable)
    return None


class MethodTexts:
    """Origin and method text of a variable: define.xml's MethodDef, else the specs' methods."""

    def __init__(self, package: Path):
        self.package = package
        self._define: dict[tuple[str, str], str] | None = None

    def text(self, dataset: str, variable: str | None) -> str:
        if not variable:
            return ""
        found = self.from_define().get((dataset, variable))
        if found:
            return found
        spec = spec_variable(dataset, variable)
        if spec is None:
            return ""
        parts = [spec.origin]
        if spec.source:
            parts.append(f"from {spec.source}")
        if spec.method:
            parts.append(method_description(spec.method, "adamig-1.3" if dataset.startswith("AD") else "sdtmig-3.4"))
        return ": ".join(p for p in parts if p)

    def from_define(self) -> dict[tuple[str, str], str]:
        if self._define is None:
            self._define = {}
            for folder in ("sdtm", "adam", ""):
                path = self.package / folder / "define.xml"
                if path.is_file():
                    self._define.update(define_methods(path))
        return self._define


def method_description(method: str, standard: str) -> str:
    from specs import table

    return next((r["description"] for r in table("methods", standard) if r["method"] == method), method)


def define_methods(path: Path) -> dict[tuple[str, str], str]:
    """{(dataset, variable): 'Derived: method text'} from a Define-XML file (none from an unreadable one:
    the specs' texts are used instead)."""
    from converters.validate.define import UnsafeXml, parse

    try:
        tree = parse(path)
    except UnsafeXml:
        return {}
    ns = {"o": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}
    methods = {m.get("OID"): " ".join(m.xpath("string(o:Description)", namespaces=ns).split())
               for m in tree.iterfind(".//o:MethodDef", ns)}
    items = {i.get("OID"): i for i in tree.iterfind(".//o:ItemDef", ns)}
    out = {}
    for group in tree.iterfind(".//o:ItemGroupDef", ns):
        for ref in group.iterfind("o:ItemRef", ns):
            item = items.get(ref.get("ItemOID"))
            text_ = methods.get(ref.get("MethodOID"), "")
            if item is None or not text_:
                continue
            origin = item.find("def:Origin", ns)
            kind = origin.get("Type") if origin is not None else ""
            out[(group.get("Name"), item.get("Name"))] = f"{kind}: {text_}" if kind else text_
    return out


def format_hops(hops: list[Hop]) -> str:
    lines = []
    for h in hops:
        pad = "  " * h.depth + ("<- " if h.depth else "")
        head = f"{pad}{h.where}" + (f" {format_keys(h.keys)}" if h.keys else "")
        if h.variable:
            head += f": {h.variable}" if h.value is None else f": {h.variable} = {h.value if h.value != '' else '(empty)'}"
        lines.append(head)
        inner = "  " * h.depth + ("   " if h.depth else "")
        if h.how:
            lines.append(f"{inner}  how: {h.how}")
        if h.values:
            lines.append(f"{inner}  record: " + ", ".join(f"{k}={v}" for k, v in h.values.items()))
    return "\n".join(lines)
