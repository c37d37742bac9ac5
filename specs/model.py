"""What the spec files describe, and the typed row models every spec row (shipped or override) must meet."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


@dataclass(frozen=True)
class SpecFinding:
    """One reason a spec file cannot be used."""
    file: str
    message: str
    row: int | None = None  # CSV line, header = 1
    key: str = ""  # the row's key, e.g. AE.AETERM
    field: str = ""
    value: str = ""

    def __str__(self) -> str:
        where = self.file + (f", row {self.row}" if self.row else "") + (f" ({self.key})" if self.key else "")
        what = f"{self.field}: " if self.field else ""
        shown = f" (value {self.value!r})" if self.value else ""
        return f"{where}: {what}{self.message}{shown}"


class SpecError(ValueError):
    """A spec file (usually a study's override) cannot be used; each finding names file, row and key."""

    def __init__(self, findings: list[SpecFinding]):
        self.findings = list(findings)
        more = len(self.findings) - 10
        super().__init__("; ".join(map(str, self.findings[:10])) + (f"; and {more} more" if more > 0 else ""))


@dataclass(frozen=True)
class Term:
    value: str
    code: str  # NCI C-code; empty for sponsor terms
    decode: str
    synonyms: tuple[str, ...] = ()  # CDISC synonyms (NCI CT), e.g. ('Female',) for SEX F


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
    origin: str  # Collected | Derived | Assigned | Protocol | Predecessor
    source: str  # source field or description of where the value comes from
    codelist: str
    method: str
    display_format: str
    comment: str = ""  # reviewer comment (def:CommentDef)
    crf_pages: tuple[int, ...] = ()  # annotated CRF pages of a Collected variable

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
    comment: str = ""

    def variable(self, name: str) -> Variable:
        return next(v for v in self.variables if v.name == name)

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]


# --- row models: one spec row each, as read from CSV (text cells, empty = not given) -----------------

def _none_if_empty(value):
    return None if value == "" else value


SasName = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{0,7}$")]
Label = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[\x20-\x7e]+$")]
OptionalInt = Annotated[int | None, BeforeValidator(_none_if_empty)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class VariableRow(_Row):
    dataset: SasName
    order: int = Field(ge=1)
    variable: SasName
    label: Label
    type: Literal["Char", "Num"]
    length: OptionalInt = Field(default=None, ge=1, le=200)
    core: Literal["Req", "Exp", "Perm", "Cond"]
    role: str = ""
    origin: Literal["Collected", "Derived", "Assigned", "Protocol", "Predecessor"]
    source: str = ""
    codelist: str = ""
    method: str = ""
    display_format: str = ""
    comment: str = ""
    crf_pages: str = Field(default="", pattern=r"^([1-9]\d*( [1-9]\d*)*)?$")  # "6" or "6 7"


class DatasetRow(_Row):
    dataset: SasName
    label: Label
    # CSV column "class" (a Python keyword)
    cls: str = Field(alias="class", min_length=1)
    structure: str = Field(min_length=1)
    keys: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,7}( [A-Z][A-Z0-9_]{0,7})*$")
    comment: str = ""


class MethodRow(_Row):
    method: str = Field(pattern=r"^MT\.[A-Za-z0-9_.]+$")
    name: str = Field(min_length=1)
    type: Literal["Computation", "Imputation", "Transpose", "Other", ""] = ""
    description: str = Field(min_length=1)


class SponsorTermRow(_Row):
    codelist: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    codelist_code: str = ""
    codelist_name: str = ""
    extensible: Literal["Yes", "No", ""] = ""
    term: str = Field(min_length=1)
    term_code: str = ""
    decode: str = ""


class DocumentRow(_Row):
    """A document define.xml links to (Define-XML 2.1 sections 5.3.3-5.3.4); href relative to define.xml."""
    document: str = Field(pattern=r"^[a-z][a-z0-9]*$")  # def:leaf ID is LF.<document>
    kind: Literal["AnnotatedCRF", "SupplementalDoc"]
    href: str = Field(min_length=1)
    title: str = Field(min_length=1)


def variable_of(row: VariableRow) -> Variable:
    return Variable(dataset=row.dataset, order=row.order, name=row.variable, label=row.label, type=row.type,
                    length=row.length, core=row.core, role=row.role, origin=row.origin, source=row.source,
                    codelist=row.codelist, method=row.method, display_format=row.display_format,
                    comment=row.comment, crf_pages=tuple(int(p) for p in row.crf_pages.split()))
