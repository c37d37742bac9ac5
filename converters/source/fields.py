"""Field rules: each row checked against its Pydantic model; errors become Problems with rule ids."""
from __future__ import annotations

from pydantic import TypeAdapter, ValidationError

from converters.problems import Problem
from converters.source.read import SourceTable
from schemas.source import SourceRecord

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
}


def required_fields(model: type[SourceRecord]) -> dict[str, bool]:
    return {name: f.is_required() for name, f in model.model_fields.items()}


def validate_rows(table: SourceTable, model: type[SourceRecord]) -> tuple[list[SourceRecord], list[int], list[Problem]]:
    """Validate every row; return the valid records, their row numbers, and the problems of the others."""
    adapter = _adapter(model)
    try:
        return adapter.validate_python(table.rows), list(table.row_numbers), []
    except ValidationError as exc:
        bad: dict[int, list[Problem]] = {}
        for err in exc.errors(include_url=False):
            index, *loc = err["loc"]
            field = ".".join(str(p) for p in loc)
            raw = table.rows[index].get(loc[0]) if loc else None
            rows = bad.setdefault(index, [])
            if loc and loc[0] in table.missing_columns:
                continue  # the row is rejected; the missing column was reported once
            rule, message = RULES.get(err["type"], "SRC-VALUE"), err["msg"]
            if err["type"] == "missing" or (raw is None and loc and model.model_fields[loc[0]].is_required()):
                rule, message = RULES["missing"], f"required field '{field}' is empty"
            rows.append(Problem(table.file, table.row_numbers[index], field, "" if raw is None else str(raw),
                                rule, message))
    good = [i for i in range(len(table.rows)) if i not in bad]
    records = adapter.validate_python([table.rows[i] for i in good])
    return records, [table.row_numbers[i] for i in good], [p for ps in bad.values() for p in ps]


_ADAPTERS: dict[type, TypeAdapter] = {}


def _adapter(model: type[SourceRecord]) -> TypeAdapter:
    if model not in _ADAPTERS:
        _ADAPTERS[model] = TypeAdapter(list[model])
    return _ADAPTERS[model]
