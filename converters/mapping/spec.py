"""The mapping spec (``mapping.toml`` in a study folder): raw forms and how each SDTM variable is made.

It is data, typed here and checked once at load: a mistake is reported with the spec file, the key
path (``domains.DM.variables.SEX.codelist``) and the allowed choices. The vocabulary of algorithms
follows pharmaverse sdtm.oak (``assign_no_ct``, ``assign_ct``, ``hardcode_no_ct``, ``hardcode_ct``,
``assign_datetime``) plus ``if_else`` (conditions on other raw columns) and ``derive`` (a named
derivation verb of ``converters.mapping.verbs``).
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, ValidationError,
                      model_validator)

from converters.expr import ExpressionError, parse
from converters.mapping.raw_dates import DATE_LAYOUTS, TIME_LAYOUTS

SPEC_NAME = "mapping.toml"
Op = Literal["eq", "ne", "in", "not_in", "blank", "not_blank"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Condition(_Model):
    """``{column, op, value}``: a test on one column of the same record, never evaluated as code."""
    column: str
    op: Op
    value: str | list[str] | None = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> "Condition":
        if self.op in ("blank", "not_blank") and self.value is not None:
            raise ValueError(f"op {self.op} takes no value")
        if self.op in ("eq", "ne") and not isinstance(self.value, str):
            raise ValueError(f"op {self.op} needs one text value")
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"op {self.op} needs a list of values")
        return self


def _expression(text: str) -> str:
    try:
        parse(text)
    except ExpressionError as exc:
        raise ValueError(str(exc)) from None
    return text


# A condition on columns of the same record: an expression of ``converters.expr`` ("ARMCD == 'Scrnfail'",
# "TMPTC is not missing"), or, for a column whose name the language cannot spell (IT.DSTERM), the table.
When = Annotated[Union[Annotated[Annotated[str, AfterValidator(_expression)], Tag("expression")],
                       Annotated[Condition, Tag("table")]],
                 Discriminator(lambda v: "expression" if isinstance(v, str) else "table")]


def condition_columns(when: "When") -> list[str]:
    """The columns a condition reads."""
    return sorted(parse(when).columns) if isinstance(when, str) else [when.column]


def _typed(value: Any) -> Any:
    return {"type": value} if isinstance(value, str) else value


class Column(_Model):
    """A raw column: its type, whether it must be filled, and for dates and times the raw layouts."""
    type: Literal["text", "integer", "number", "date", "time"] = "text"
    required: bool = False
    formats: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _formats_fit_type(self) -> "Column":
        allowed = {"date": DATE_LAYOUTS, "time": TIME_LAYOUTS}.get(self.type)
        if allowed is None and self.formats:
            raise ValueError(f"a {self.type} column has no formats")
        if allowed is not None:
            if not self.formats:
                raise ValueError(f"a {self.type} column needs formats (allowed: {', '.join(allowed)})")
            bad = [f for f in self.formats if f not in allowed]
            if bad:
                raise ValueError(f"unknown {self.type} format {', '.join(bad)} (allowed: {', '.join(allowed)})")
        return self


class Form(_Model):
    """A raw form: its file (CSV, JSON Lines, or CDISC ODM XML), typed columns and the columns not
    submitted, with why. From ODM, the records are the ItemGroupData of one ItemGroupOID or FormOID."""
    file: str = Field(pattern=r"\.(csv|jsonl|xml)$")
    format: Literal["csv", "jsonl", "odm"] | None = None  # default: the file's extension
    item_group_oid: str | None = None
    form_oid: str | None = None
    item_names: Literal["oid", "name"] = "oid"  # an item's column: its ItemOID or its ItemDef Name
    decode: bool = False  # a coded item's value: its CodeList Decode instead of the coded value
    keys: tuple[str, ...] = ()
    columns: dict[str, Annotated[Column, BeforeValidator(_typed)]]
    not_submitted: dict[str, str] = {}
    rename: dict[str, str] = {}  # the file's column -> the name used here (an EDC's own names, e.g. SUBJNO)

    @model_validator(mode="after")
    def _odm_selects_records(self) -> "Form":
        odm = self.format == "odm"
        if self.file.endswith(".xml") and not odm:
            raise ValueError('an .xml file is read as format = "odm"')
        if odm and (self.item_group_oid is None) == (self.form_oid is None):
            raise ValueError("an odm form gives exactly one of item_group_oid or form_oid")
        if not odm and (self.item_group_oid or self.form_oid or self.decode or self.item_names != "oid"):
            raise ValueError("item_group_oid, form_oid, item_names and decode are for format = \"odm\"")
        return self


class _Algorithm(_Model):
    def columns(self) -> list[str]:
        """Raw columns this algorithm reads."""
        return []


class AssignNoCt(_Algorithm):
    algorithm: Literal["assign_no_ct"]
    column: str
    term_map: dict[str, str] = {}  # collected -> submitted, for variables without a codelist
    upper: bool = False
    extract: str | None = None  # a regular expression; its first group is kept ("^(\\d+)-" -> site)
    numeric: bool = False  # leading zeros dropped ("058.0" -> "58.0")

    @model_validator(mode="after")
    def _extract_has_a_group(self) -> "AssignNoCt":
        if self.extract is not None:
            try:
                groups = re.compile(self.extract).groups
            except re.error as exc:
                raise ValueError(f"extract {self.extract!r} is not a regular expression ({exc})") from None
            if groups < 1:
                raise ValueError(f"extract {self.extract!r} needs a group in parentheses: the part kept")
        return self

    def columns(self) -> list[str]:
        return [self.column]


class AssignCt(_Algorithm):
    algorithm: Literal["assign_ct"]
    column: str
    codelist: str
    term_map: dict[str, str] = {}
    sponsor_terms: bool = False

    def columns(self) -> list[str]:
        return [self.column]


class HardcodeNoCt(_Algorithm):
    algorithm: Literal["hardcode_no_ct"]
    value: str


class HardcodeCt(_Algorithm):
    algorithm: Literal["hardcode_ct"]
    value: str
    codelist: str


class AssignDatetime(_Algorithm):
    algorithm: Literal["assign_datetime"]
    column: str
    time: str | None = None

    def columns(self) -> list[str]:
        return [self.column] + ([self.time] if self.time else [])


class Case(_Model):
    when: When
    value: str | None = None
    column: str | None = None
    upper: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> "Case":
        if (self.value is None) == (self.column is None):
            raise ValueError("give exactly one of value or column")
        return self


class Otherwise(_Model):
    value: str | None = None
    column: str | None = None
    upper: bool = False


class IfElse(_Algorithm):
    algorithm: Literal["if_else"]
    cases: tuple[Case, ...] = Field(min_length=1)
    otherwise: Otherwise = Field(default=Otherwise(), alias="else")

    def columns(self) -> list[str]:
        used = [col for c in self.cases for col in condition_columns(c.when)] + [c.column for c in self.cases if c.column]
        return used + ([self.otherwise.column] if self.otherwise.column else [])


class Derive(_Algorithm):
    """A named derivation verb; its own arguments are checked by the verb's argument model."""
    model_config = ConfigDict(extra="allow", frozen=True)
    algorithm: Literal["derive"]
    verb: str

    @property
    def args(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def columns(self) -> list[str]:
        args = self.args
        return ([args["column"]] if isinstance(args.get("column"), str) else []) + \
            [c for c in args.get("columns", ()) if isinstance(c, str)]


Algorithm = Annotated[Union[AssignNoCt, AssignCt, HardcodeNoCt, HardcodeCt, AssignDatetime, IfElse, Derive],
                      Field(discriminator="algorithm")]
ALGORITHMS = ("assign_no_ct", "assign_ct", "hardcode_no_ct", "hardcode_ct", "assign_datetime", "if_else", "derive")


class FindingsTest(_Model):
    """One test of a wide findings form: a column holding its result on each raw row."""
    testcd: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,7}$")
    test: str = Field(min_length=1, max_length=40)
    column: str
    unit: str | None = None  # --ORRESU
    std_unit: str | None = None  # --STRESU; defaults to the unit
    factor: float = 1.0  # standard = (original + offset) * factor
    offset: float = 0.0
    decimals: int | None = None
    when: When | None = None  # rows where the test was planned; a blank result there is NOT DONE
    category: str | None = None  # --CAT
    term_map: dict[str, str] = {}  # a text result (--ORRES) -> its standard form (--STRESC)
    method: str | None = None  # the raw column giving --METHOD on this test's records

    def columns(self) -> list[str]:
        return [self.column] + ([self.method] if self.method else []) + \
            (condition_columns(self.when) if self.when is not None else [])


class Supp(_Model):
    """A supplemental qualifier (SUPP--) by QNAM."""
    label: str = Field(min_length=1, max_length=40)
    origin: Literal["Collected", "Derived", "Assigned", "Protocol", "Predecessor"] = "Collected"  # QORIG
    evaluator: str = ""
    value: Algorithm


class Domain(_Model):
    form: str
    variables: dict[str, Algorithm]
    tests: tuple[FindingsTest, ...] = ()  # findings from a wide form: one record per test per raw row
    supp: dict[str, Supp] = {}


class Visit(_Model):
    visitnum: float
    visit: str
    visitdy: int | None = None


class Study(_Model):
    studyid: str = Field(pattern=r"^[A-Za-z0-9_-]{1,20}$")
    usubjid: str = Field(min_length=1)  # a template over raw columns present in every form: "01-{PATNUM}"
    package_datetime: str = "2000-01-01T00:00:00"


class MappingSpec(_Model):
    study: Study
    forms: dict[str, Form]
    visits: dict[str, Visit] = {}  # collected visit name -> VISITNUM, VISIT, VISITDY
    domains: dict[str, Domain]
    trial_summary: dict[str, str | list[str]] = {}  # TSPARMCD -> TSVAL(s), the parameters of ts_parameters.csv
    trial_summary_codes: dict[str, str] = {}  # TSPARMCD -> TSVALCD from a dictionary outside CT (INDIC: SNOMED)

    @model_validator(mode="after")
    def _forms_exist(self) -> "MappingSpec":
        for name, d in self.domains.items():
            if d.form not in self.forms:
                raise ValueError(f"domains.{name}.form: {d.form!r} is not a form (forms: {', '.join(self.forms)})")
        return self


class MappingSpecError(ValueError):
    """Problems of a mapping spec: (key path, message) pairs, reported with the spec file."""

    def __init__(self, file: str, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{file}: {k}: {m}" for k, m in problems))
        self.file, self.problems = file, problems


def _key(loc: tuple) -> str:
    # a discriminated union adds its tag as a path step ("assign_ct", "table"): it is not a key of the file
    parts = [str(p) for p in loc if str(p) not in ALGORITHMS + ("expression", "table")]
    return ".".join(parts)


def _message(err: dict) -> str:
    if err["type"] == "union_tag_invalid":
        return f"unknown algorithm {err['input'].get('algorithm')!r} (allowed: {', '.join(ALGORITHMS)})"
    if err["type"] == "union_tag_not_found":
        return f"no algorithm given (allowed: {', '.join(ALGORITHMS)})"
    if err["type"] == "extra_forbidden":
        return "unknown key"
    return err["msg"].removeprefix("Value error, ")


def parse_spec(data: dict, file: str = SPEC_NAME) -> MappingSpec:
    """A mapping spec from its parsed TOML; MappingSpecError names each bad key and the allowed choices."""
    try:
        return MappingSpec.model_validate(data)
    except ValidationError as exc:
        found = [(_key(e["loc"]), _message(e), e["type"]) for e in exc.errors()]
        # a list whose item failed is also reported as too short: the item's own error says it all
        problems = [(k, m) for k, m, t in found if not (t == "too_short" and any(
            o.startswith(k + ".") for o, _, _ in found))]
        raise MappingSpecError(file, problems) from None


def load_spec(path: Path) -> MappingSpec:
    """Read and check ``mapping.toml``."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MappingSpecError(str(path), [("", f"cannot be read as TOML ({exc})")]) from None
    return parse_spec(data, str(path))
