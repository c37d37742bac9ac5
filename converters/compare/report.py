"""A comparison as text (the terminal summary), JSON, HTML and XLSX."""
from __future__ import annotations

import html
import json
from pathlib import Path

from converters.compare.diff import Comparison, DatasetDiff


def format_value(v) -> str:
    if v is None:
        return "."
    if isinstance(v, float):
        return f"{v:.15g}"
    return repr(v) if isinstance(v, str) and (v == "" or v != v.strip()) else str(v)


def format_keys(keys: dict) -> str:
    return ", ".join(f"{k}={format_value(v)}" for k, v in keys.items())


def format_pct(v: float) -> str:
    """A match percentage that never shows 100 unless everything matched."""
    if v >= 100.0:
        return "100%"
    return ">99.99%" if v > 99.99 else f"{v:.2f}%"


def summary_line(d: DatasetDiff) -> str:
    if d.equal:
        return f"{d.name}: equal ({d.matched} records)"
    return (f"{d.name}: {format_pct(d.records_pct)} of records identical, {format_pct(d.cells_pct)} of cells equal "
            f"(base {d.base_rows}, compare {d.compare_rows}, matched {d.matched})")


def format_dataset(d: DatasetDiff) -> list[str]:
    lines = [summary_line(d)]
    if d.equal:
        return lines
    lines.append(f"  keys: {' '.join(d.keys) or '(record position)'}" + (f"; {d.note}" if d.note else ""))
    for side, n, ex in (("base", d.only_base, d.only_base_examples), ("compare", d.only_compare, d.only_compare_examples)):
        if n:
            lines.append(f"  records only in {side}: {n}")
            lines += [f"    {format_keys(k)}" for k in ex]
    if d.only_base_vars:
        lines.append(f"  variables only in base: {' '.join(d.only_base_vars)}")
    if d.only_compare_vars:
        lines.append(f"  variables only in compare: {' '.join(d.only_compare_vars)}")
    for a in d.attributes:
        lines.append(f"  {a.attribute} of {a.variable or 'the dataset'}: "
                     f"{format_value(a.base)} (base) vs {format_value(a.compare)} (compare)")
    if d.cells:
        lines.append("  cell differences by variable:")
        for c in d.cells:
            lines.append(f"    {c.variable}: {c.count}")
            lines += [f"      {format_keys(e['keys'])}: {format_value(e['base'])} -> {format_value(e['compare'])}"
                      for e in c.examples]
    return lines


def format_comparison(result: Comparison, quiet: bool = False) -> str:
    """The terminal report; ``quiet``: one line per dataset."""
    lines = [] if quiet else [f"base:    {result.base}", f"compare: {result.compare}", ""]
    for d in result.datasets:
        lines += [summary_line(d)] if quiet else format_dataset(d)
    if result.only_base:
        lines.append(f"datasets only in base: {' '.join(result.only_base)}")
    if result.only_compare:
        lines.append(f"datasets only in compare: {' '.join(result.only_compare)}")
    differ = sum(not d.equal for d in result.datasets) + len(result.only_base) + len(result.only_compare)
    lines += ([] if quiet else [""]) + ["EQUAL" if result.equal else f"DIFFERENT: {differ} dataset(s) differ"]
    return "\n".join(lines)


def comparison_json(result: Comparison) -> dict:
    out = {"base": result.base, "compare": result.compare, "equal": result.equal,
           "datasets_only_in_base": result.only_base, "datasets_only_in_compare": result.only_compare,
           "datasets": []}
    for d in result.datasets:
        out["datasets"].append({
            "dataset": d.name, "equal": d.equal, "keys": d.keys, "note": d.note,
            "base_records": d.base_rows, "compare_records": d.compare_rows, "matched": d.matched,
            "records_identical_pct": round(d.records_pct, 3), "cells_equal_pct": round(d.cells_pct, 3),
            "records_only_in_base": {"count": d.only_base, "examples": d.only_base_examples},
            "records_only_in_compare": {"count": d.only_compare, "examples": d.only_compare_examples},
            "variables_only_in_base": d.only_base_vars, "variables_only_in_compare": d.only_compare_vars,
            "attributes": [{"variable": a.variable, "attribute": a.attribute, "base": a.base, "compare": a.compare}
                           for a in d.attributes],
            "cells": [{"variable": c.variable, "count": c.count, "examples": c.examples} for c in d.cells],
        })
    return out


def dump_json(path: Path, data: dict) -> None:
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _table(head: list[str], rows: list[list]) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(format_value(v) if not isinstance(v, str) else v)}</td>"
                                    for v in r) + "</tr>" for r in rows)
    return f"<table><tr>{cells}</tr>{body}</table>"


STYLE = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:.5em 0}"
         "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}.eq{color:#060}.ne{color:#a00}")


def comparison_html(result: Comparison, prefix: str = "") -> str:
    """The report page; ``prefix`` (an HTML fragment, e.g. the data-cut view) comes first."""
    parts = [prefix, f"<h1>Comparison</h1><p>base: {html.escape(result.base)}<br>compare: {html.escape(result.compare)}</p>",
             _table(["dataset", "result", "base", "compare", "matched", "records identical %", "cells equal %"],
                    [[d.name, "equal" if d.equal else "different", d.base_rows, d.compare_rows, d.matched,
                      format_pct(d.records_pct), format_pct(d.cells_pct)] for d in result.datasets])]
    for side, names in (("base", result.only_base), ("compare", result.only_compare)):
        if names:
            parts.append(f"<p>Datasets only in {side}: {html.escape(' '.join(names))}</p>")
    for d in result.datasets:
        if d.equal:
            continue
        parts.append(f"<h2>{html.escape(d.name)}</h2><p>keys: {html.escape(' '.join(d.keys) or '(record position)')}"
                     f"{html.escape('; ' + d.note) if d.note else ''}</p>")
        for side, n, ex in (("base", d.only_base, d.only_base_examples),
                            ("compare", d.only_compare, d.only_compare_examples)):
            if n:
                parts.append(f"<h3>Records only in {side}: {n}</h3>" + _table(["keys"], [[format_keys(k)] for k in ex]))
        if d.only_base_vars or d.only_compare_vars:
            parts.append(_table(["variables only in base", "variables only in compare"],
                                [[" ".join(d.only_base_vars), " ".join(d.only_compare_vars)]]))
        if d.attributes:
            parts.append("<h3>Attributes</h3>" + _table(["variable", "attribute", "base", "compare"],
                         [[a.variable or "(dataset)", a.attribute, a.base, a.compare] for a in d.attributes]))
        if d.cells:
            parts.append("<h3>Cell differences</h3>" + _table(["variable", "count", "keys", "base", "compare"],
                         [[c.variable, c.count, format_keys(e["keys"]), e["base"], e["compare"]]
                          for c in d.cells for e in c.examples]))
    verdict = '<p class="eq">EQUAL</p>' if result.equal else '<p class="ne">DIFFERENT</p>'
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Comparison</title><style>{STYLE}</style>"
            f"</head><body>{''.join(parts)}{verdict}</body></html>\n")


def write_xlsx(result: Comparison, path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    ws.append(["dataset", "result", "base records", "compare records", "matched", "only in base",
               "only in compare", "records identical %", "cells equal %"])
    for d in result.datasets:
        ws.append([d.name, "equal" if d.equal else "different", d.base_rows, d.compare_rows, d.matched,
                   d.only_base, d.only_compare, round(d.records_pct, 3), round(d.cells_pct, 3)])
    for name in result.only_base + result.only_compare:
        ws.append([name, "only in " + ("base" if name in result.only_base else "compare")])
    cells = wb.create_sheet("Differences")
    cells.append(["dataset", "kind", "variable", "keys", "base", "compare"])
    for d in result.datasets:
        for side, ex in (("record only in base", d.only_base_examples), ("record only in compare", d.only_compare_examples)):
            for k in ex:
                cells.append([d.name, side, "", format_keys(k), "", ""])
        for a in d.attributes:
            cells.append([d.name, a.attribute, a.variable, "", _cell(a.base), _cell(a.compare)])
        for c in d.cells:
            for e in c.examples:
                cells.append([d.name, "value", c.variable, format_keys(e["keys"]), _cell(e["base"]), _cell(e["compare"])])
    wb.save(path)


def _cell(v):
    return v if isinstance(v, (int, float, str)) or v is None else str(v)
