"""Standards metadata as data: dataset/variable specs, controlled terminology, methods, value maps.

Everything that names a label, a codelist or a value-level rule lives in the CSV/TOML files
beside this module; code reads it through these functions only. They answer from the specs in
force: the shipped files, or a study's overrides merged over them (`SpecSet`) while a command runs
inside ``with using(spec_set):``.
"""
from __future__ import annotations

import tomllib
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache, wraps
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from .model import Codelist, Dataset, SpecError, Term, Variable
from .sets import CT_VERSION, HERE, OverrideFile, SpecSet

__all__ = ["CT_VERSION", "HERE", "Codelist", "Dataset", "OverrideFile", "SpecError", "SpecSet", "Term",
           "Variable", "active", "codelist", "codelist_values", "codelists", "dataset", "datasets",
           "for_study", "load", "per_spec_set", "shipped", "table", "toml_spec", "using", "value_map"]

STUDY_FOLDER = "specs"  # a study folder's override folder

T = TypeVar("T")
_IN_FORCE: ContextVar[SpecSet | None] = ContextVar("specs_in_force", default=None)


@lru_cache(maxsize=1)
def shipped() -> SpecSet:
    """The specs as shipped, without overrides."""
    return SpecSet()


def load(overrides: Path | None) -> SpecSet:
    """The shipped specs with the override folder merged over them; SpecError when it is unusable."""
    return shipped() if overrides is None else SpecSet(Path(overrides))


def for_study(study_dir: Path) -> SpecSet:
    """The specs of a study folder: its ``specs/`` overrides when it has that folder."""
    folder = Path(study_dir) / STUDY_FOLDER
    return load(folder if folder.is_dir() else None)


def active() -> SpecSet:
    return _IN_FORCE.get() or shipped()


@contextmanager
def using(spec_set: SpecSet) -> Iterator[SpecSet]:
    """Make ``spec_set`` the specs in force for the code run inside the block (this thread)."""
    token = _IN_FORCE.set(spec_set)
    try:
        yield spec_set
    finally:
        _IN_FORCE.reset(token)


def per_spec_set(fn: Callable[..., T]) -> Callable[..., T]:
    """Like lru_cache, with the specs in force as part of the key: a value derived from specs is
    never reused under other overrides (bounded: a batch run meets a new spec set per study)."""
    cached = lru_cache(maxsize=256)(lambda spec_set, *args: fn(*args))

    @wraps(fn)
    def wrapper(*args):
        return cached(active(), *args)

    wrapper.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return wrapper


def codelists() -> dict[str, Codelist]:
    """All codelists: the CDISC CT subset of the package's CT version plus sponsor-defined lists."""
    return active().codelists()


def codelist(name: str) -> Codelist:
    return active().codelist(name)


def codelist_values(name: str) -> frozenset[str]:
    return active().codelist_values(name)


def datasets(standard: str = "sdtmig-3.4") -> dict[str, Dataset]:
    """Dataset specs of a standard, variables in spec order."""
    return active().datasets(standard)


def dataset(name: str, standard: str = "sdtmig-3.4") -> Dataset:
    return datasets(standard)[name]


def table(name: str, standard: str = "sdtmig-3.4") -> tuple[dict[str, str], ...]:
    """Any other spec table of a standard (methods, value maps, TS parameters, SUPP-- qualifiers, tests)."""
    return active().table(name, standard)


def value_map(name: str, standard: str = "sdtmig-3.4") -> dict[str, str]:
    """A source-value -> submission-value map from value_maps.csv."""
    return {r["source_value"]: r["target_value"] for r in table("value_maps", standard) if r["map"] == name}


@lru_cache(maxsize=None)
def toml_spec(name: str, standard: str = "adamig-1.3") -> dict:
    """A TOML spec of a standard (analysis definitions, time-to-event sources and parameters)."""
    with open(HERE / standard / f"{name}.toml", "rb") as fh:
        return tomllib.load(fh)
