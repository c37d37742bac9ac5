"""Reports of a validation: JSON (machine), one-file HTML, XLSX, terminal text.

All outputs are deterministic: sorted findings, no clock time (the XLSX zip entries and document
properties carry a fixed date). Rule texts and clauses come from specs/rules/rules.csv.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from converters import __version__

from .model import Report
from .report_html import report_html
from .report_xlsx import cell, write_xlsx
from .summary import TOOL, finding_groups, outcome, rule_rows, standards, summary_rows, title

__all__ = ["WRITERS", "cell", "format_summary", "report_html", "report_json", "summary_rows", "write_reports"]

COLUMNS = ("rule", "severity", "dataset", "record", "usubjid", "variable", "value", "message")


def group_json(report: Report) -> list[dict]:
    return [{**asdict(g), "usubjids": list(g.usubjids), "records": list(g.records),
             "description": report.rules[g.rule].description, "clause": report.rules[g.rule].clause}
            for g in finding_groups(report)]


def report_json(report: Report) -> dict:
    return {
        "title": title(report),
        "package": report.package,
        "studyid": report.studyid,
        "standards": standards(report),
        "created": report.created,
        "tool": {"name": TOOL, "version": __version__},
        "ct_version": report.ct_version,
        "outcome": outcome(report),
        "errors": report.errors,
        "warnings": report.warnings,
        "notes": report.total("info"),
        "findings_kept_per_rule_and_dataset": report.limit,
        "datasets": report.datasets,
        "defines": report.defines,
        "summary": summary_rows(report),
        "rules": rule_rows(report),
        "groups": group_json(report),
        "findings": [{c: getattr(f, c) for c in COLUMNS} for f in report.findings],
    }


def write_json(report: Report, path: Path) -> None:
    Path(path).write_text(json.dumps(report_json(report), indent=1, ensure_ascii=True) + "\n", encoding="ascii")


def write_html(report: Report, path: Path) -> None:
    Path(path).write_text(report_html(report), encoding="utf-8")


WRITERS = {".json": write_json, ".html": write_html, ".htm": write_html, ".xlsx": write_xlsx}


def write_reports(report: Report, paths: list[Path]) -> None:
    for p in paths:
        p = Path(p)
        writer = WRITERS.get(p.suffix.lower())
        if writer is None:
            raise ValueError(f"{p}: report must end in .json, .html or .xlsx")
        p.parent.mkdir(parents=True, exist_ok=True)
        writer(report, p)


def format_summary(report: Report, first: int = 20) -> str:
    """Terminal text: a table by rule and dataset, then the first groups of identical findings."""
    rows = summary_rows(report)
    lines = [f"{report.package}: {report.errors} error(s), {report.warnings} warning(s), "
             f"{report.total('info')} note(s) in {len(report.datasets)} dataset(s)"]
    if rows:
        head = ("rule", "severity", "dataset", "count", "core", "rule text")
        table = [head] + [(r["rule"], r["severity"], r["dataset"], str(r["count"]), r["core_id"], r["description"])
                          for r in rows]
        w = [max(len(t[i]) for t in table) for i in range(len(head))]
        lines += ["", *("  ".join(c.ljust(x) for c, x in zip(t, w)).rstrip() for t in table)]
    groups = finding_groups(report)
    if groups:
        lines += ["", f"first {min(first, len(groups))} of {len(groups)} group(s) of identical findings:"]
        for g in groups[:first]:
            where = g.dataset + (f" {g.variable}" if g.variable else "")
            times = f" x{g.count}" if g.count > 1 else ""
            lines.append(f"  [{g.rule} {g.severity}] {where}{times}: {g.message}")
    else:
        lines += ["", outcome(report)]
    return "\n".join(lines)

