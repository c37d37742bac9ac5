"""Pydantic validation errors in the words of the person fixing the export or study.toml.

Pydantic's own texts ("Input should be a valid integer, unable to parse string as an integer")
describe Python types; these say what is wrong with the value and, where it helps, what to do.
"""
from __future__ import annotations

from schemas.config import CONFIG_NAMES

CONFIG_FILE = CONFIG_NAMES[0]
CONFIG_HELP = "see examples/sscart19/study.toml"


def _shown(raw: object) -> str:
    return f"'{raw}'" if isinstance(raw, str) else repr(raw)


def _bound(err: dict, key: str) -> str:
    value = (err.get("ctx") or {}).get(key)
    return f"{value:g}" if isinstance(value, float) else str(value)


# pydantic error type -> plain text; {v} is the value as shown, {field} the field name
_FIELD_TEXTS = {
    "int_parsing": "{v} is not a whole number",
    "int_from_float": "{v} is not a whole number",
    "int_type": "{v} is not a whole number",
    "float_parsing": "{v} is not a number",
    "float_type": "{v} is not a number",
    "finite_number": "{v} is not a finite number",
    "bool_type": "{v} is not yes/no (true or false)",
    "bool_parsing": "{v} is not yes/no (true or false)",
    "string_type": "{v} is not text: write it as text (in JSON Lines, in double quotes)",
    "string_too_short": "{field} is empty",
}
_BOUNDS = {  # range errors: text, pydantic's context key of the bound
    "greater_than_equal": ("{v} is below the smallest allowed {field}, {bound}", "ge"),
    "greater_than": ("{v} is too small: {field} must be greater than {bound}", "gt"),
    "less_than_equal": ("{v} is above the largest allowed {field}, {bound}", "le"),
    "less_than": ("{v} is too large: {field} must be less than {bound}", "lt"),
}


def field_message(err: dict, field: str, raw: object) -> str:
    """One plain sentence for a field error of a source row (``raw``: the value as read)."""
    kind, v = err["type"], _shown(raw)
    ctx = err.get("ctx") or {}
    if kind in _FIELD_TEXTS:
        return _FIELD_TEXTS[kind].format(v=v, field=field)
    if kind in _BOUNDS:
        text, key = _BOUNDS[kind]
        return text.format(v=v, field=field, bound=_bound(err, key))
    if kind == "string_too_long":
        return f"{v} is longer than {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        return f"{v} is not a valid {field} (expected the form {ctx.get('pattern')}; see the contract in README.md)"
    if kind == "literal_error":
        return f"{v} is not an allowed {field}: use {ctx.get('expected')}"
    return _plain(err["msg"], v)


def config_message(err: dict) -> str:
    """One plain sentence for a study.toml error, naming the key as written in the file."""
    loc = [str(p) for p in err["loc"]]
    key, kind = ".".join(loc), err["type"]
    if kind == "extra_forbidden":
        table = f"[{'.'.join(loc[:-1])}]" if len(loc) > 1 else "the top level"
        return (f"'{loc[-1]}' is not a setting of {table} in {CONFIG_FILE}: remove it or correct its name "
                f"({CONFIG_HELP})")
    if kind == "missing":
        return f"required setting '{key}' is missing from {CONFIG_FILE} ({CONFIG_HELP})"
    if kind in _FIELD_TEXTS or kind.startswith(("greater_", "less_", "string_", "literal")):
        text = field_message(err, key, err.get("input"))
        return f"{key}: {text}" if not text.startswith(key) else text
    return f"{key}: {_plain(err['msg'], _shown(err.get('input')))}" if key else _plain(err["msg"], "")


def _plain(msg: str, v: str) -> str:
    """Pydantic's generic text without its Python vocabulary, as a last resort."""
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix):]
    text = msg.replace("Input should be", f"{v} should be" if v else "should be")
    return text.replace("a valid dictionary", "a table")


def unknown_column(column: str, form: str, what: str = "column") -> str:
    """A column (JSON Lines: key) that is not a field of the form, with the two ways out."""
    return (f"{what} '{column}' is not part of the {form} form: remove it, or rename it to a form field "
            f"with [sources.{form}] rename in {CONFIG_FILE}")


def missing_column(column: str, form: str) -> str:
    return (f"required column '{column}' is missing: add it, or map your column to it with "
            f"[sources.{form}] rename in {CONFIG_FILE}")
