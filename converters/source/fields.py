"""Field rules: each row checked against its Pydantic model; errors become Problems with rule ids."""
from __future__ import annotations

import calendar
import inspect
import math
import operator
import re
import types
import typing
from dataclasses import dataclass
from functools import lru_cache

import annotated_types
import numpy as np
import pandas as pd
from pydantic import AfterValidator, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from converters.problems import Problem
from converters.source.messages import field_message
from converters.source.read import ABSENT, ColumnTable, SourceTable
from schemas.dates import _check_full, _check_partial
from schemas.source import SourceRecord
from specs import codelist_values

# pydantic error type -> rule id (the rule a clinical programmer can look up in the README)
RULES = {
    "missing": "SRC-REQUIRED",
    "iso8601": "SRC-DATE",
    "iso8601_complete": "SRC-DATE-COMPLETE",
    "codelist": "SRC-CODELIST",
    "literal_error": "SRC-ENUM",
    "string_pattern_mismatch": "SRC-PATTERN",
    "string_too_long": "SRC-LENGTH",
    "string_too_short": "SRC-REQUIRED",
    "int_parsing": "SRC-TYPE",
    "int_from_float": "SRC-TYPE",
    "float_parsing": "SRC-TYPE",
    "string_type": "SRC-TYPE",
    "int_type": "SRC-TYPE",
    "float_type": "SRC-TYPE",
    "greater_than": "SRC-RANGE",
    "greater_than_equal": "SRC-RANGE",
    "less_than": "SRC-RANGE",
    "less_than_equal": "SRC-RANGE",
    "finite_number": "SRC-RANGE",
    "bool_type": "SRC-TYPE",
}


def required_fields(model: type[SourceRecord]) -> dict[str, bool]:
    return {name: f.is_required() for name, f in model.model_fields.items()}


def validate_rows(table: SourceTable, model: type[SourceRecord]) -> tuple[list[SourceRecord], list[int], list[Problem]]:
    """Validate every row; return the valid records, their row numbers, and the problems of the others."""
    adapter = _adapter(model)
    try:
        return adapter.validate_python(table.rows), list(table.row_numbers), []
    except ValidationError as exc:
        bad = _problems_of(exc.errors(include_url=False), table.rows, table.row_numbers, table.file,
                           table.missing_columns, model)
    good = [i for i in range(len(table.rows)) if i not in bad]
    records = adapter.validate_python([table.rows[i] for i in good])
    return records, [table.row_numbers[i] for i in good], [p for ps in bad.values() for p in ps]


_ADAPTERS: dict[type, TypeAdapter] = {}


def _adapter(model: type[SourceRecord]) -> TypeAdapter:
    if model not in _ADAPTERS:
        _ADAPTERS[model] = TypeAdapter(list[model])
    return _ADAPTERS[model]


# --- Bulk validation (the fast path of load_study) ----------------------------------------------
#
# The checks below are generated from the models' own annotations (types, required/default,
# Literal values, length/pattern/range constraints, codelist and ISO 8601 validators). They accept
# only values they can judge with certainty, each distinct value once, and broadcast the verdict to
# the rows with numpy. Every row they do not accept is validated by Pydantic itself, which gives
# the exact messages (or accepts the row after all). So Pydantic stays the one definition of the
# contract: the fast checks are a conservative pre-filter, never a second rulebook.

_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?)?)?", re.ASCII)
_INT = re.compile(r"-?[0-9]{1,15}", re.ASCII)
_FLOAT = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,15})?", re.ASCII)
# config keys that cannot make Pydantic accept or change a value the fast checks accept
_SAFE_CONFIG = {"extra", "str_strip_whitespace", "frozen", "title", "allow_inf_nan"}
_LIST_OF_STR_IS_OBJECT = pd.Series(["a", None]).dtype == object  # pandas < 3 (no default string dtype)


@dataclass(frozen=True)
class FieldRule:
    """What the fast checks know about one model field; kind "opaque" = always ask Pydantic."""

    name: str
    required: bool
    default: object
    nullable: bool
    kind: str  # "str" | "int" | "float" | "opaque"
    literals: frozenset | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: re.Pattern | None = None
    bounds: tuple = ()  # ("ge", 0), ("le", 100), ...
    codelists: tuple[str, ...] = ()
    date: str | None = None  # "partial" | "full"
    before: tuple = ()  # the model's mode="before" field validators on this field, f(value) -> value


def _codelist_name(func) -> str | None:
    if getattr(func, "__qualname__", "") != "_in_codelist.<locals>.check" or not func.__closure__:
        return None
    cells = dict(zip(func.__code__.co_freevars, func.__closure__))
    return cells["name"].cell_contents if "name" in cells else None


def _collect(meta, found: dict) -> bool:
    """Fold one metadata item into ``found``; False when it is not understood."""
    if isinstance(meta, FieldInfo):
        if meta.alias or meta.validation_alias or meta.discriminator:
            return False
        return all(_collect(m, found) for m in meta.metadata)
    if isinstance(meta, annotated_types.MinLen):
        found["min_length"] = meta.min_length
    elif isinstance(meta, annotated_types.MaxLen):
        found["max_length"] = meta.max_length
    elif isinstance(meta, (annotated_types.Ge, annotated_types.Gt, annotated_types.Le, annotated_types.Lt)):
        op = type(meta).__name__.lower()
        found.setdefault("bounds", []).append((op, getattr(meta, op)))
    elif isinstance(meta, AfterValidator):
        if meta.func is _check_partial or meta.func is _check_full:
            found["date"] = "partial" if meta.func is _check_partial else "full"
        elif _codelist_name(meta.func):
            found.setdefault("codelists", []).append(_codelist_name(meta.func))
        else:
            return False
    elif type(meta).__name__ == "_PydanticGeneralMetadata":
        extra = dict(vars(meta))
        pattern = extra.pop("pattern", None)
        if extra or not isinstance(pattern, str) or re.search(r"\\[DWSZAbB]|\[\^|\(\?", pattern):
            return False  # classes whose ASCII and Unicode readings differ, anchors, flags: ask Pydantic
        found["pattern"] = re.compile(pattern, re.ASCII)
    else:
        return False
    return True


def _rule(name: str, info: FieldInfo, safe_config: bool, before: tuple) -> FieldRule:
    required = info.is_required()
    default = None if required else info.default
    ann, nullable = info.annotation, False
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        args = typing.get_args(ann)
        if len(args) == 2 and type(None) in args:
            ann, nullable = next(a for a in args if a is not type(None)), True
    found: dict = {}
    metas = list(info.metadata)
    if typing.get_origin(ann) is typing.Annotated:
        ann, *inner = typing.get_args(ann)
        metas = inner + metas
    understood = safe_config and info.default_factory is None and all(_collect(m, found) for m in metas)
    literals = None
    if typing.get_origin(ann) is typing.Literal and all(type(a) is str for a in typing.get_args(ann)):
        kind, literals = "str", frozenset(typing.get_args(ann))
    else:
        kind = {str: "str", int: "int", float: "float"}.get(ann, "opaque")
    if not understood or (kind != "str" and ({"min_length", "max_length", "pattern", "codelists", "date"} & set(found))):
        kind = "opaque"
    return FieldRule(name, required, default, nullable, kind, literals, found.get("min_length"),
                     found.get("max_length"), found.get("pattern"), tuple(found.get("bounds", ())),
                     tuple(found.get("codelists", ())), found.get("date"), before)


@lru_cache(maxsize=None)
def field_rules(model: type[SourceRecord]) -> tuple[FieldRule, ...]:
    """The fast checks of every field of ``model``, generated from its annotations.

    A mode="before" field validator taking just the value is run on each distinct value: the value
    is accepted only if the validator returns that very object. Any other validator (after, wrap,
    plain, model-level) makes the fields it touches "opaque": Pydantic validates them, row by row.
    """
    decorators = model.__pydantic_decorators__
    safe = set(model.model_config) <= _SAFE_CONFIG and not decorators.model_validators
    before: dict[str, list] = {}
    opaque: set[str] = set()
    for dec in decorators.field_validators.values():
        fields = set(model.model_fields) if "*" in dec.info.fields else set(dec.info.fields)
        try:
            simple = list(inspect.signature(dec.func).parameters) == ["value"]
        except (TypeError, ValueError):
            simple = False
        for f in fields:
            if dec.info.mode == "before" and simple:
                before.setdefault(f, []).append(dec.func)
            else:
                opaque.add(f)
    return tuple(_rule(n, f, safe and n not in opaque, tuple(before.get(n, ()))) for n, f in model.model_fields.items())


def _date_ok(v: str, full: bool) -> bool:
    m = _DATE.fullmatch(v)
    if not m:
        return False  # includes the unknown-month form YYYY---DD: Pydantic decides
    y, mo, d, hh, mi, ss = m.groups()
    year = int(y)
    if year < 1 or (full and d is None):
        return False
    if mo is not None:
        month = int(mo)
        if not 1 <= month <= 12:
            return False
        if d is not None and not 1 <= int(d) <= calendar.monthrange(year, month)[1]:
            return False
    return hh is None or (int(hh) <= 23 and int(mi) <= 59 and int(ss or 0) <= 59)


_OPS = {"ge": operator.ge, "gt": operator.gt, "le": operator.le, "lt": operator.lt}


def _accept(rule: FieldRule, value) -> tuple[bool, object]:
    """(True, validated value) when ``value`` is certainly valid for the field, else (False, None)."""
    if rule.kind == "opaque":
        return False, None
    for check in rule.before:
        try:
            if check(value) is not value:
                return False, None
        except Exception:  # Pydantic will report it
            return False, None
    if value is None:
        return rule.nullable, None
    t = type(value)
    if rule.kind == "str":
        if t is not str or value != value.strip() or not value:
            return False, None  # whitespace to strip: let Pydantic strip it
        if rule.literals is not None and value not in rule.literals:
            return False, None
        if (rule.min_length is not None and len(value) < rule.min_length) or \
                (rule.max_length is not None and len(value) > rule.max_length):
            return False, None
        if rule.pattern is not None and not (value.isascii() and rule.pattern.fullmatch(value)):
            return False, None
        if any(value not in codelist_values(cl) for cl in rule.codelists):
            return False, None
        if rule.date and not _date_ok(value, rule.date == "full"):
            return False, None
        return True, value
    if rule.kind == "int":
        if t is str and _INT.fullmatch(value):
            number = int(value)
        elif t is int and abs(value) < 2 ** 53:
            number = value
        else:
            return False, None
    elif rule.kind == "float":
        if t is str and _FLOAT.fullmatch(value):
            number = float(value)
        elif t is int and abs(value) < 2 ** 53:
            number = float(value)
        elif t is float and math.isfinite(value):
            number = value
        else:
            return False, None
    else:
        return False, None
    return all(_OPS[op](number, bound) for op, bound in rule.bounds), number


def _problems_of(errors: list[dict], rows: list[dict], row_numbers, file: str, missing_columns: set[str],
                 model: type[SourceRecord]) -> dict[int, list[Problem]]:
    """Pydantic errors -> Problems per row index (rows whose only errors are missing columns: empty)."""
    bad: dict[int, list[Problem]] = {}
    for err in errors:
        index, *loc = err["loc"]
        field = ".".join(str(p) for p in loc)
        raw = rows[index].get(loc[0]) if loc else None
        found = bad.setdefault(index, [])
        if loc and loc[0] in missing_columns:
            continue  # the row is rejected; the missing column was reported once
        rule, message = RULES.get(err["type"], "SRC-VALUE"), field_message(err, field, raw)
        if err["type"] == "missing" or (raw is None and loc and model.model_fields[loc[0]].is_required()):
            rule, message = RULES["missing"], f"required field '{field}' is empty"
        found.append(Problem(file, int(row_numbers[index]), field, "" if raw is None else str(raw), rule, message))
    return bad


def _column(rule: FieldRule, table: np.ndarray, codes: np.ndarray) -> np.ndarray | pd.Series:
    """``table[codes]`` as pd.DataFrame(list of model_dump dicts) would type it: an object array
    for text (pandas < 3) and for all-empty columns, int64 for whole numbers without gaps, float64
    (NaN) for numbers with gaps; anything else through pandas' own inference."""
    used = np.zeros(len(table), bool)
    used[codes] = True
    entries = table[used]
    if rule.kind == "str" and _LIST_OF_STR_IS_OBJECT:
        return table  # taken into the object block by _frame
    none = np.fromiter((v is None for v in entries), bool, len(entries))
    if none.all():
        return table
    number = {"int": int, "float": float}.get(rule.kind)
    present = entries[~none]
    if number is not None and all(type(v) is number for v in present) and (
            number is float or -2**63 <= min(present) and max(present) < 2**63):
        if number is int and not none.any():
            numbers = np.zeros(len(table), np.int64)
            numbers[used] = entries.astype(np.int64)
        else:
            numbers = np.full(len(table), np.nan)
            numbers[used] = np.where(none, np.nan, entries).astype(np.float64)
        return pd.Series(numbers[codes])
    return pd.Series(table[codes].tolist())


def _frame(columns: dict[str, np.ndarray | pd.Series], codes: dict[str, np.ndarray], rows: int) -> pd.DataFrame:
    """A DataFrame of these columns, built without pandas' consolidation copies: the object columns
    (value tables) are taken once into one 2-D block, the others inserted beside it in their places."""
    text = [name for name, c in columns.items() if isinstance(c, np.ndarray) or c.dtype == object]
    block = np.empty((len(text), rows), dtype=object)
    for j, name in enumerate(text):
        c = columns[name]
        if isinstance(c, np.ndarray):
            np.take(c, codes[name], out=block[j])
        else:
            block[j] = c.to_numpy()
    frame = pd.DataFrame(block.T, columns=text, dtype=object, copy=False)
    for k, (name, c) in enumerate(columns.items()):
        if name not in text:
            frame.insert(k, name, c)
    return frame


def validate_columns(table: ColumnTable, model: type[SourceRecord]) -> tuple[pd.DataFrame, list[Problem]]:
    """``validate_rows`` for a column-wise table: the frame of valid records (``_row`` + model fields,
    as load_study builds it) and the problems of the others, identical to validate_rows'."""
    rules = field_rules(model)
    n = len(table)
    suspect = np.zeros(n, bool)
    rejected = np.zeros(n, bool)
    if table.missing_columns:
        rejected[:] = True  # every row lacks a required field; reported once against the header
    tables: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}  # field -> (value per code + default, codes)
    for rule in rules:
        col = table.columns.get(rule.name)
        uniques = col.uniques if col is not None else []
        verdicts = [_accept(rule, u) for u in uniques]
        value = np.empty(len(verdicts) + 1, dtype=object)
        value[:-1] = [v[1] for v in verdicts]
        value[-1] = rule.default  # ABSENT (-1) picks the default
        # a missing required column rejects every row (reported once); a missing key is Pydantic's to report
        absent_ok = not rule.required or rule.name in table.missing_columns
        ok = np.append(np.fromiter((v[0] for v in verdicts), bool, len(verdicts)), absent_ok)
        if col is None:
            suspect |= not absent_ok
        elif not ok.all():
            suspect |= ~ok[col.codes]
        tables[rule.name] = (value, col.codes if col is not None else None)
    slow = np.flatnonzero(suspect)
    rows = [table.row(int(i)) for i in slow]
    adapter = _adapter(model)
    good_slow: list[int] = []
    problems: list[Problem] = []
    if rows:
        try:
            adapter.validate_python(rows)
            bad: dict[int, list[Problem]] = {}
        except ValidationError as exc:
            bad = _problems_of(exc.errors(include_url=False), rows, table.row_numbers[slow], table.file,
                               table.missing_columns, model)
        problems = [p for ps in bad.values() for p in ps]
        good_slow = [k for k in range(len(rows)) if k not in bad]
    keep = ~suspect & ~rejected
    keep[slow[good_slow]] = True
    index = None if keep.all() else np.flatnonzero(keep)
    kept = n if index is None else len(index)
    if not kept:
        frame = pd.DataFrame([], columns=list(model.model_fields))
    else:
        dumped = [r.model_dump() for r in adapter.validate_python([rows[k] for k in good_slow])] if good_slow else []
        columns, codes = {}, {}
        for rule in rules:
            value, c = tables[rule.name]
            c = np.full(n, ABSENT, np.int64) if c is None else c
            if dumped:  # rows Pydantic accepted after all: their values as extra table entries
                extra = np.empty(len(dumped), dtype=object)
                extra[:] = [d[rule.name] for d in dumped]
                c = c.astype(np.int64)
                c[c == ABSENT] = len(value) - 1
                c[slow[good_slow]] = len(value) + np.arange(len(dumped))
                value = np.concatenate([value, extra])
            codes[rule.name] = c if index is None else c[index]
            columns[rule.name] = _column(rule, value, codes[rule.name])
        frame = _frame(columns, codes, kept)
    numbers = table.row_numbers if index is None else table.row_numbers[index]
    frame.insert(0, "_row", pd.Series(numbers, dtype="int64"))
    return frame, problems
