"""Render the source contract as Markdown (the README's contract section is checked against this).

    python -m schemas.contract              # print it
    python -m schemas.contract README.md    # rewrite the section between the contract markers
"""
from __future__ import annotations

import types
import typing

from schemas.dates import IsoFullDate, IsoPartialDate, _check_full, _check_partial
from schemas.source import FORMS


DATE_CHECKS = {_check_full.__name__: "ISO 8601 date", _check_partial.__name__: "ISO 8601 date, partial allowed"}


def _allowed(field) -> str:
    """Allowed values of a field, from its type and constraints (never restated by hand)."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if "codelist" in extra:
        return f"codelist {extra['codelist']}"
    ann = field.annotation
    options = [a for a in typing.get_args(ann) if a is not type(None)] if typing.get_origin(ann) in (typing.Union, types.UnionType) else [ann]
    for arg in options:
        if typing.get_origin(arg) is typing.Literal:
            return " / ".join(typing.get_args(arg))
        if arg == IsoFullDate:
            return "ISO 8601 date"
        if arg == IsoPartialDate:
            return "ISO 8601 date, partial allowed"
        for m in getattr(arg, "__metadata__", ()):
            cl = (getattr(m, "json_schema_extra", None) or {}).get("codelist")
            if cl:
                return f"codelist {cl}"
            if getattr(m, "pattern", None):
                return f"pattern `{m.pattern}`"
    bounds = {}
    for m in field.metadata:
        func = getattr(getattr(m, "func", None), "__name__", "")
        if func in DATE_CHECKS:
            return DATE_CHECKS[func]
        for attr in ("ge", "gt", "le", "lt", "pattern"):
            if getattr(m, attr, None) is not None:
                bounds[attr] = getattr(m, attr)
    if "pattern" in bounds:
        return f"pattern `{bounds['pattern']}`"
    low = f"{bounds['ge']}" if "ge" in bounds else (f">{bounds['gt']}" if "gt" in bounds else "")
    high = f"{bounds['le']}" if "le" in bounds else ""
    type_name = getattr(options[0], "__name__", "")
    if low and high:
        return f"{type_name} {low}..{high}"
    return f"{type_name} {'>=' + low if low and not low.startswith('>') else low}".strip()


def render() -> str:
    out = []
    for form, (model, keys) in FORMS.items():
        out.append(f"### `{form}` — {model.__doc__.strip().splitlines()[0]}")
        out.append(f"Record key: {', '.join(keys)}.\n")
        out.append("| field | required | allowed | SDTM | description |")
        out.append("| --- | --- | --- | --- | --- |")
        for name, f in model.model_fields.items():
            sdtm = (f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}).get("sdtm") or ""
            out.append(f"| {name} | {'yes' if f.is_required() else 'no'} | {_allowed(f)} | {sdtm} | {f.description} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


START, END = "<!-- contract:start -->", "<!-- contract:end -->"


def update(path: str) -> None:
    text = open(path, encoding="utf-8").read()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    open(path, "w", encoding="utf-8").write(f"{head}{START}\n{render()}{END}{tail}")


if __name__ == "__main__":
    import sys

    if len(sys.argv) > 1:
        update(sys.argv[1])
    else:
        print(render(), end="")
