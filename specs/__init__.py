"""Standards metadata as data: dataset/variable specs, controlled terminology, methods, value maps.

Everything that names a label, a codelist or a value-level rule lives in the CSV/TOML files
beside this module; code reads it through these functions only.
"""
from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).parent
CT_VERSION = "2025-03-28"


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


@dataclass(frozen=True)
class Term:
    value: str
    code: str  # NCI C-code; empty for sponsor terms
    decode: str


@dataclass(frozen=True)
class Codelist:
    name: str  # short name (CDISC submission value of the codelist, e.g. SEX)
    code: str  # NCI C-code of the codelist; empty for sponsor-defined lists
    label: str
    extensible: bool
    terms: tuple[Term, ...]
    sponsor: bool = False

    def values(self) -> frozenset[str]:
        return frozenset(t.value for t in self.terms)

    def term(self, value: str) -> Term | None:
        return next((t for t in self.terms if t.value == value), None)


@lru_cache(maxsize=None)
def codelists() -> dict[str, Codelist]:
    """All codelists: the CDISC CT subset of the package's CT version plus sponsor-defined lists."""
    out: dict[str, Codelist] = {}
    for fname, sponsor in ((f"ct/sdtm-ct-{CT_VERSION}.csv", False), ("ct/sponsor.csv", True)):
        grouped: dict[str, list[dict[str, str]]] = {}
        for row in _rows(HERE / fname):
            grouped.setdefault(row["codelist"], []).append(row)
        for name, rows in grouped.items():
            first = rows[0]
            if sponsor and name in out:  # sponsor extension of an extensible CDISC codelist
                base = out[name]
                if not base.extensible:
                    raise ValueError(f"sponsor.csv extends non-extensible codelist {name}")
                extra = tuple(Term(r["term"], "", r["decode"]) for r in rows)
                out[name] = Codelist(base.name, base.code, base.label, True, base.terms + extra)
                continue
            out[name] = Codelist(
                name=name,
                code=first["codelist_code"],
                label=first["codelist_name"],
                extensible=first["extensible"] == "Yes",
                terms=tuple(Term(r["term"], r["term_code"], r["decode"]) for r in rows),
                sponsor=sponsor,
            )
    return out


def codelist(name: str) -> Codelist:
    try:
        return codelists()[name]
    except KeyError:
        raise KeyError(f"codelist {name} is not in specs/ct") from None


@lru_cache(maxsize=None)
def codelist_values(name: str) -> frozenset[str]:
    return codelist(name).values()


@dataclass(frozen=True)
class Variable:
    dataset: str
    order: int
    name: str
    label: str
    type: str  # "Char" | "Num"
    length: int | None  # fixed length, or None = longest value (FDA TCG 4.1.5)
    core: str  # Req | Exp | Perm
    role: str
    origin: str  # Collected | Derived | Assigned | Protocol
    source: str  # source field or description of where the value comes from
    codelist: str
    method: str
    display_format: str

    @property
    def is_char(self) -> bool:
        return self.type == "Char"


@dataclass(frozen=True)
class Dataset:
    name: str
    label: str
    cls: str
    structure: str
    keys: tuple[str, ...]
    variables: tuple[Variable, ...]

    def variable(self, name: str) -> Variable:
        return next(v for v in self.variables if v.name == name)

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]


@lru_cache(maxsize=None)
def datasets(standard: str = "sdtmig-3.4") -> dict[str, Dataset]:
    """Dataset specs of a standard, variables in spec order."""
    base = HERE / standard
    by_ds: dict[str, list[Variable]] = {}
    for r in _rows(base / "variables.csv"):
        by_ds.setdefault(r["dataset"], []).append(Variable(
            dataset=r["dataset"], order=int(r["order"]), name=r["variable"], label=r["label"],
            type=r["type"], length=int(r["length"]) if r["length"] else None, core=r["core"],
            role=r["role"], origin=r["origin"], source=r["source"], codelist=r["codelist"],
            method=r["method"], display_format=r["display_format"],
        ))
    out = {}
    for r in _rows(base / "datasets.csv"):
        vs = tuple(sorted(by_ds.get(r["dataset"], []), key=lambda v: v.order))
        out[r["dataset"]] = Dataset(r["dataset"], r["label"], r["class"], r["structure"],
                                    tuple(r["keys"].split()), vs)
    return out


def dataset(name: str, standard: str = "sdtmig-3.4") -> Dataset:
    return datasets(standard)[name]


@lru_cache(maxsize=None)
def table(name: str, standard: str = "sdtmig-3.4") -> tuple[dict[str, str], ...]:
    """Any other spec table of a standard (methods, value maps, TS parameters, SUPP-- qualifiers, tests)."""
    return tuple(_rows(HERE / standard / f"{name}.csv"))


def value_map(name: str, standard: str = "sdtmig-3.4") -> dict[str, str]:
    """A source-value -> submission-value map from value_maps.csv."""
    return {r["source_value"]: r["target_value"] for r in table("value_maps", standard) if r["map"] == name}


@lru_cache(maxsize=None)
def toml_spec(name: str, standard: str = "adamig-1.3") -> dict:
    """A TOML spec of a standard (analysis definitions, time-to-event sources and parameters)."""
    with open(HERE / standard / f"{name}.toml", "rb") as fh:
        return tomllib.load(fh)
