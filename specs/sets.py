"""The specs in force: the shipped spec files with a study's overrides merged over them, checked once.

A study's ``specs/`` folder mirrors the shipped layout (``ct/sponsor.csv``, ``sdtmig-3.4/variables.csv``,
...). Each override row is matched to a shipped row by the table's key columns: the cells it fills
replace the shipped ones, and a row with a new key adds a row (it must then be complete). Every row,
shipped or overridden, is validated by the same row model, and cross-references (codelists, methods,
datasets) are checked after the merge, so a bad override fails at load with its file, row and key.
"""
from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ValidationError

from .model import (Codelist, Dataset, DatasetRow, DocumentRow, MethodRow, SpecError, SpecFinding, SponsorTermRow, Term,
                    VariableRow, variable_of)

HERE = Path(__file__).parent
CT_VERSION = "2025-03-28"
SPONSOR = "ct/sponsor.csv"

# Key columns of each table an override may touch; the typed ones are validated by their row model
KEYS: dict[str, tuple[str, ...]] = {
    "variables": ("dataset", "variable"), "datasets": ("dataset",), "methods": ("method",),
    "value_maps": ("map", "source_value"), "supp_qualifiers": ("rdomain", "qnam"),
    "ts_parameters": ("tsparmcd",), "rs_tests": ("rstestcd",), "documents": ("document",),
}
MODELS: dict[str, type[BaseModel]] = {"variables": VariableRow, "datasets": DatasetRow, "methods": MethodRow,
                                       "documents": DocumentRow, "sponsor": SponsorTermRow}


@dataclass(frozen=True)
class OverrideFile:
    path: str  # relative to the override folder, e.g. sdtmig-3.4/variables.csv
    sha256: str


@dataclass
class _Row:
    cells: dict[str, str]
    file: str  # the file and CSV line of the cells last written
    line: int
    key: str

    def error(self, message: str, field: str = "") -> SpecError:
        return SpecError([SpecFinding(self.file, message, self.line, self.key, field, self.cells.get(field, ""))])


def _error(file: Path | str, message: str) -> SpecError:
    return SpecError([SpecFinding(str(file), message)])


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            rows = []
            for row in reader:
                if None in row:  # more cells than the header names
                    raise SpecError([SpecFinding(str(path), "more cells than columns", reader.line_num)])
                rows.append({k: (v or "").strip() for k, v in row.items()})
            return list(reader.fieldnames or []), rows
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise _error(path, f"cannot be read as UTF-8 CSV ({exc})") from None


@lru_cache(maxsize=None)
def _shipped(relpath: str) -> tuple[tuple[str, ...], tuple[dict[str, str], ...]]:
    header, rows = _read_csv(HERE / relpath)
    return tuple(header), tuple(rows)


def standards() -> tuple[str, ...]:
    """Shipped standard folders (those with a datasets.csv), e.g. ('adamig-1.3', 'sdtmig-3.4')."""
    return tuple(sorted(d.name for d in HERE.iterdir() if (d / "datasets.csv").is_file()))


def _overridable() -> set[str]:
    return {SPONSOR} | {f"{std}/{name}.csv" for std in standards() for name in KEYS
                        if (HERE / std / f"{name}.csv").is_file()}


def _columns(name: str, shipped_header: tuple[str, ...]) -> set[str]:
    """Columns an override of table ``name`` may have: its row model's, else the shipped file's."""
    model = MODELS.get(name)
    return _columns_of(model) if model else set(shipped_header)


def _merge(relpath: str, override: Path | None, keys: tuple[str, ...]) -> list[_Row]:
    """Shipped rows of ``relpath`` with the override file's rows merged over them, by key."""
    header, shipped = _shipped(relpath)
    rows: dict[tuple[str, ...], _Row] = {}
    for n, r in enumerate(shipped, start=2):
        key = tuple(r.get(k, "") for k in keys)
        rows[key] = _Row(dict(r), f"specs/{relpath}", n, ".".join(key))
    if override is None:
        return list(rows.values())
    name = Path(relpath).stem
    over_header, over_rows = _read_csv(override)
    allowed = _columns(name, header)
    unknown = [c for c in over_header if c not in allowed]
    if unknown:
        raise _error(override, f"unknown column(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")
    missing = [k for k in keys if k not in over_header]
    if missing:
        raise _error(override, f"key column(s) {', '.join(missing)} missing")
    seen: set[tuple[str, ...]] = set()
    for n, r in enumerate(over_rows, start=2):
        key = tuple(r[k] for k in keys)
        row = _Row(dict(r), str(override), n, ".".join(key))
        if not all(key):
            raise row.error(f"key column(s) {', '.join(keys)} must be filled")
        if key in seen:
            raise row.error("the same key appears twice in the file")
        seen.add(key)
        if key in rows:
            row.cells = {**rows[key].cells, **{c: v for c, v in r.items() if v != ""}}
        rows[key] = row
    return list(rows.values())


def _validated(model: type[BaseModel], rows: list[_Row]) -> list[BaseModel]:
    out, errors, columns = [], [], _columns_of(model)
    for row in rows:
        try:
            out.append(model.model_validate({k: v for k, v in row.cells.items() if k in columns}))
        except ValidationError as exc:
            for e in exc.errors():
                field = ".".join(str(p) for p in e["loc"])
                errors += row.error(e["msg"], field).findings
    if errors:
        raise SpecError(errors)
    return out


def _columns_of(model: type[BaseModel]) -> set[str]:
    return {f.alias or n for n, f in model.model_fields.items()}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _synonyms(cell: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in cell.split(";") if s.strip())


@lru_cache(maxsize=1)
def _cdisc_codelists() -> dict[str, Codelist]:
    """The CDISC CT subset (built and checked by ct/build_subset.py; not overridable)."""
    grouped: dict[str, list[dict[str, str]]] = {}
    for row in _shipped(f"ct/sdtm-ct-{CT_VERSION}.csv")[1]:
        grouped.setdefault(row["codelist"], []).append(row)
    return {name: Codelist(name=name, code=rows[0]["codelist_code"], label=rows[0]["codelist_name"],
                           extensible=rows[0]["extensible"] == "Yes",
                           terms=tuple(Term(r["term"], r["term_code"], r["decode"], _synonyms(r["synonyms"]))
                                       for r in rows))
            for name, rows in grouped.items()}


def _check_documents(rows: list[_Row]) -> None:
    for row, d in zip(rows, _validated(DocumentRow, rows)):
        if (d.kind == "AnnotatedCRF") != (d.document == "acrf"):
            raise row.error("the annotated CRF is the document 'acrf', and only it", "kind")


class SpecSet:
    """Every spec table of every standard, resolved and validated once; read-only afterwards."""

    def __init__(self, overrides: Path | None = None):
        self.folder = Path(overrides) if overrides is not None else None
        found = self._override_paths()
        self.override_files = tuple(OverrideFile(rel, _sha256(p)) for rel, p in sorted(found.items()))
        self._tables: dict[tuple[str, str], tuple[dict[str, str], ...]] = {}
        rows: dict[tuple[str, str], list[_Row]] = {}
        for std in standards():
            for name, keys in KEYS.items():
                rel = f"{std}/{name}.csv"
                if (HERE / rel).is_file():
                    rows[std, name] = _merge(rel, found.get(rel), keys)
                    self._tables[std, name] = tuple(r.cells for r in rows[std, name])
        self._codelists = self._build_codelists(_merge(SPONSOR, found.get(SPONSOR), ("codelist", "term")))
        self._values = {name: cl.values() for name, cl in self._codelists.items()}
        self._datasets = {std: self._build_datasets(std, rows) for std in standards()}
        for std in standards():
            _check_documents(rows.get((std, "documents"), []))

    # --- loading ---------------------------------------------------------------------------------

    def _override_paths(self) -> dict[str, Path]:
        if self.folder is None:
            return {}
        if not self.folder.is_dir():
            raise _error(self.folder, "spec override folder not found")
        allowed = _overridable()
        found = {}
        for p in sorted(self.folder.rglob("*")):
            rel = p.relative_to(self.folder).as_posix()
            if p.is_dir() or any(part.startswith(".") for part in p.relative_to(self.folder).parts):
                continue
            if rel not in allowed:
                raise _error(p, f"not a spec file that a study can override (one of: {', '.join(sorted(allowed))})")
            found[rel] = p
        return found

    def _build_codelists(self, sponsor_rows: list[_Row]) -> dict[str, Codelist]:
        out = dict(_cdisc_codelists())
        validated = _validated(SponsorTermRow, sponsor_rows)
        grouped: dict[str, list[tuple[_Row, SponsorTermRow]]] = {}
        for row, t in zip(sponsor_rows, validated):
            grouped.setdefault(t.codelist, []).append((row, t))
        for name, group in grouped.items():
            terms = tuple(Term(t.term, t.term_code, t.decode) for _, t in group)
            base = out.get(name)
            if base is not None and not base.sponsor:  # sponsor terms added to a CDISC list
                if not base.extensible:
                    row = next((r for r, t in group if t.term not in base.values()), group[0][0])
                    raise row.error(f"{name} is a non-extensible CDISC codelist; terms cannot be added to it",
                                    "codelist")
                extra = tuple(Term(t.value, "", t.decode) for t in terms if t.value not in base.values())
                out[name] = Codelist(base.name, base.code, base.label, True, base.terms + extra)
                continue
            first_row, first = group[0]
            if not first.codelist_name:
                raise first_row.error(f"a new sponsor codelist {name} needs a name", "codelist_name")
            out[name] = Codelist(name, first.codelist_code, first.codelist_name, first.extensible == "Yes",
                                 terms, sponsor=True)
        return out

    def _build_datasets(self, std: str, rows: dict[tuple[str, str], list[_Row]]) -> dict[str, Dataset]:
        methods = {m.method for m in _validated(MethodRow, rows.get((std, "methods"), []))}
        by_ds: dict[str, list] = {}
        var_rows = rows.get((std, "variables"), [])
        for row, v in zip(var_rows, map(variable_of, _validated(VariableRow, var_rows))):
            field, problem = self._variable_problem(v, methods)
            if problem:
                raise row.error(problem, field)
            by_ds.setdefault(v.dataset, []).append(v)
        ds_rows = rows[std, "datasets"]
        out = {}
        for row, d in zip(ds_rows, _validated(DatasetRow, ds_rows)):
            variables = tuple(sorted(by_ds.pop(d.dataset, []), key=lambda v: v.order))
            absent = [k for k in d.keys.split() if k not in {v.name for v in variables}]
            if absent:
                raise row.error(f"{', '.join(absent)} not variables of {d.dataset}", "keys")
            out[d.dataset] = Dataset(d.dataset, d.label, d.cls, d.structure, tuple(d.keys.split()), variables,
                                     d.comment)
        if by_ds:
            row = next(r for r in var_rows if r.cells["dataset"] in by_ds)
            raise row.error(f"{row.cells['dataset']} is not a dataset of {std}/datasets.csv", "dataset")
        return out

    def _variable_problem(self, v, methods: set[str]) -> tuple[str, str]:
        """(field, message) of a cross-reference that does not hold; ("", "") when all do."""
        if v.codelist and v.codelist not in self._codelists:
            return "codelist", "not a codelist of specs/ct or of the study's ct/sponsor.csv"
        if v.method and v.method not in methods:
            return "method", "not a method of methods.csv"
        if v.crf_pages and v.origin != "Collected":
            return "crf_pages", f"only Collected variables cite CRF pages ({v.name} is {v.origin})"
        return "", ""

    # --- reading ---------------------------------------------------------------------------------

    def codelists(self) -> dict[str, Codelist]:
        return self._codelists

    def codelist(self, name: str) -> Codelist:
        try:
            return self._codelists[name]
        except KeyError:
            raise KeyError(f"codelist {name} is not in specs/ct") from None

    def codelist_values(self, name: str) -> frozenset[str]:
        try:
            return self._values[name]
        except KeyError:
            raise KeyError(f"codelist {name} is not in specs/ct") from None

    def datasets(self, standard: str) -> dict[str, Dataset]:
        return self._datasets[standard]

    def has_table(self, name: str, standard: str) -> bool:
        return (standard, name) in self._tables or (HERE / standard / f"{name}.csv").is_file()

    def table(self, name: str, standard: str) -> tuple[dict[str, str], ...]:
        if (standard, name) in self._tables:
            return self._tables[standard, name]
        return _shipped(f"{standard}/{name}.csv")[1]

    def manifest_entries(self) -> list[dict[str, str]]:
        """The override files used, for reports/manifest.json."""
        return [{"file": f.path, "sha256": f.sha256} for f in self.override_files]
