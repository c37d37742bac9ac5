"""XLSX conformance report: Summary, Findings (identical findings grouped), Rules (every rule run), Details
(one row per listed finding). Header rows bold and frozen, autofilters, columns sized to their text."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from .model import Report
from .summary import dataset_counts, finding_groups, outcome, rule_rows, standards, title, tool, truncation

FINDINGS = ("Severity", "Rule", "Rule text", "Clause", "Dataset", "Variable", "Value", "Count", "Message",
            "Example USUBJIDs", "Example records")
RULES = ("Rule", "Severity", "Scope", "Rule text", "Clause", "CORE ID", "Findings", "Status")
DETAILS = ("Rule", "Severity", "Dataset", "Record", "USUBJID", "Variable", "Value", "Message")
DATASETS = ("Dataset", "File", "Standard", "Records", "Variables", "Errors", "Warnings", "Notes")
MAX_WIDTH = 60  # wider text wraps
SIZED_ROWS = 2000  # rows looked at to size a column

_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def cell(v: object) -> object:
    """Spreadsheet cell text: a leading = + - @ would make Excel evaluate a formula (CSV/XLSX injection)."""
    if isinstance(v, str):
        v = _ILLEGAL.sub("?", v)
        return "'" + v if v.startswith(_FORMULA) else v
    return v


def _styles():
    from openpyxl.styles import Alignment, Font, PatternFill
    return Font(bold=True), PatternFill("solid", fgColor="DDDDDD"), Alignment(wrap_text=True, vertical="top")


def size_columns(ws, rows: list[tuple], first_row: int = 1) -> None:
    """Each column as wide as its longest text (up to MAX_WIDTH, beyond which the text wraps)."""
    from openpyxl.utils import get_column_letter
    _, _, wrap = _styles()
    sample = rows[:SIZED_ROWS]
    for i in range(max((len(r) for r in sample), default=0)):
        longest = max((len(str(r[i])) for r in sample if i < len(r) and r[i] is not None), default=0)
        ws.column_dimensions[get_column_letter(i + 1)].width = min(MAX_WIDTH, longest + 2)
        if longest > MAX_WIDTH:
            for row in ws.iter_rows(min_row=first_row, min_col=i + 1, max_col=i + 1):
                row[0].alignment = wrap


def table_sheet(wb, name: str, head: tuple, rows: list[tuple], empty: str):
    """A sheet with a bold, frozen header row and an autofilter; `empty` alone when there are no rows.
    Values from the data must come through `cell`; texts from specs/ are written as they are."""
    ws = wb.create_sheet(name)
    bold, fill, _ = _styles()
    if not rows:
        ws.append([empty])
        ws["A1"].font = bold
        size_columns(ws, [(empty,)])
        return ws
    ws.append(list(head))
    for r in rows:
        ws.append(list(r))
    for c in ws[1]:
        c.font, c.fill = bold, fill
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    size_columns(ws, [head, *rows], first_row=2)
    return ws


def summary_sheet(wb, report: Report) -> None:
    ws = wb.active
    ws.title = "Summary"
    bold, fill, _ = _styles()
    facts = [("Study", title(report)), ("Standards", ", ".join(standards(report))),
             ("Datasets created", report.created), ("Checked by", tool()),
             ("Controlled terminology", report.ct_version), ("Package folder", report.package),
             ("define.xml", ", ".join(report.defines) or "none"), ("Result", outcome(report)),
             ("Errors", report.errors), ("Warnings", report.warnings), ("Notes", report.total("info")),
             ("Findings listed per rule and dataset", report.limit)]
    if truncation(report):
        facts.append(("Not all listed", truncation(report)))
    for k, v in facts:
        ws.append([k, cell(v)])
        ws.cell(ws.max_row, 1).font = bold
    ws.append([])
    start = ws.max_row + 1
    ws.append(list(DATASETS))
    for c in ws[start]:
        c.font, c.fill = bold, fill
    counts = dataset_counts(report)
    rows = [(n, d["file"], d["standard"], d["records"], d["variables"],
             *(counts.get(n, {}).get(s, 0) for s in ("error", "warning", "info")))
            for n, d in sorted(report.datasets.items())]
    for r in rows:
        ws.append([cell(v) for v in r])
    size_columns(ws, [*facts, DATASETS, *rows])


def group_rows(report: Report) -> list[tuple]:
    rules = report.rules
    return [(g.severity, g.rule, rules[g.rule].description, rules[g.rule].clause, cell(g.dataset), cell(g.variable),
             cell(g.value), g.count, cell(g.message), cell(", ".join(g.usubjids)), ", ".join(map(str, g.records)))
            for g in finding_groups(report)]


def rule_table(report: Report) -> list[tuple]:
    return [(r["id"], r["severity"], r["scope"], r["description"], r["clause"], r["core_id"], r["findings"],
             r["status"]) for r in rule_rows(report)]


def detail_rows(report: Report) -> list[tuple]:
    return [(f.rule, f.severity, cell(f.dataset), f.record or None, cell(f.usubjid), cell(f.variable), cell(f.value),
             cell(f.message)) for f in report.findings]


def write_xlsx(report: Report, path: Path) -> None:
    try:
        from openpyxl import Workbook
    except ImportError:
        raise RuntimeError("XLSX reports need openpyxl (pip install openpyxl)") from None
    import datetime as dt

    wb = Workbook()
    summary_sheet(wb, report)
    clean = outcome(report)
    table_sheet(wb, "Findings", FINDINGS, group_rows(report), clean)
    table_sheet(wb, "Rules", RULES, rule_table(report), "No rules were run.")
    table_sheet(wb, "Details", DETAILS, detail_rows(report), clean)
    fixed = dt.datetime(*_FIXED_DATE)
    wb.properties.created = wb.properties.modified = fixed
    wb.properties.creator = "cdisc-converter"
    buf = io.BytesIO()
    wb.save(buf)
    Path(path).write_bytes(_normalised_zip(buf.getvalue()))


def _normalised_zip(data: bytes) -> bytes:
    """Same entries, fixed timestamps, fixed document dates: byte-identical output for identical input."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>1980-01-01T00:00:00Z", body)
            dst.writestr(zipfile.ZipInfo(info.filename, _FIXED_DATE), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()
