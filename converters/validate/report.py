"""Reports of a validation: JSON (machine), one-file HTML, XLSX (one row per finding), terminal text.

All outputs are deterministic: sorted findings, no timestamps (the XLSX zip entries and document
properties carry a fixed date).
"""
from __future__ import annotations

import html
import io
import json
import re
import zipfile
from dataclasses import asdict
from pathlib import Path

from .model import SEVERITY_ORDER, Report

COLUMNS = ("rule", "severity", "dataset", "record", "usubjid", "variable", "value", "message")


def summary_rows(report: Report) -> list[dict]:
    rows = [{"rule": rid, "dataset": ds, "severity": report.rules[rid].severity, "count": n,
             "core_id": report.rules[rid].core_id, "clause": report.rules[rid].clause}
            for (rid, ds), n in report.counts.items()]
    return sorted(rows, key=lambda r: (SEVERITY_ORDER[r["severity"]], r["rule"], r["dataset"]))


def report_json(report: Report) -> dict:
    return {
        "package": report.package,
        "ct_version": report.ct_version,
        "errors": report.errors,
        "warnings": report.warnings,
        "notes": report.total("info"),
        "findings_kept_per_rule_and_dataset": report.limit,
        "datasets": report.datasets,
        "summary": summary_rows(report),
        "rules": {rid: {k: v for k, v in asdict(r).items() if k != "id"} for rid, r in sorted(report.rules.items())},
        "findings": [{c: getattr(f, "rule" if c == "rule" else c) for c in COLUMNS} for f in report.findings],
    }


def write_json(report: Report, path: Path) -> None:
    Path(path).write_text(json.dumps(report_json(report), indent=1, ensure_ascii=True) + "\n", encoding="ascii")


_CSS = """body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse;width:100%}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}th{background:#eee;cursor:pointer}
tr.error td:nth-child(2){color:#b00;font-weight:bold}tr.warning td:nth-child(2){color:#a60}
.bar{margin:1em 0}.bar select{margin-right:1em}caption{text-align:left;font-weight:bold;margin:.5em 0}"""

_JS = """function sortBy(t,c){const b=t.tBodies[0],r=[...b.rows],d=t.dataset.sc==c&&t.dataset.sd!='d';
r.sort((x,y)=>{const a=x.cells[c].textContent,z=y.cells[c].textContent,n=parseFloat(a)-parseFloat(z);
const v=isNaN(n)?a.localeCompare(z):n;return d?-v:v});t.dataset.sc=c;t.dataset.sd=d?'d':'a';r.forEach(e=>b.appendChild(e))}
document.querySelectorAll('table').forEach(t=>t.querySelectorAll('th').forEach((h,i)=>h.onclick=()=>sortBy(t,i)));
function filt(){const d=document.getElementById('fd').value,s=document.getElementById('fs').value;
document.querySelectorAll('tr[data-ds]').forEach(r=>{r.style.display=(!d||r.dataset.ds==d)&&(!s||r.dataset.sev==s)?'':'none'})}
document.getElementById('fd').onchange=filt;document.getElementById('fs').onchange=filt;"""


def _e(v: object) -> str:
    return html.escape(str(v), quote=True)


def report_html(report: Report) -> str:
    """One self-contained page: inline CSS/JS, no external resources."""
    rows = summary_rows(report)
    datasets = sorted({r["dataset"] for r in rows} | set(report.datasets))
    opt = "".join(f'<option value="{_e(d)}">{_e(d)}</option>' for d in datasets)
    sev = "".join(f'<option value="{s}">{s}</option>' for s in SEVERITY_ORDER)
    summ = "".join(
        f'<tr class="{r["severity"]}" data-ds="{_e(r["dataset"])}" data-sev="{r["severity"]}"><td>{_e(r["rule"])}</td>'
        f'<td>{r["severity"]}</td><td>{_e(r["dataset"])}</td><td>{r["count"]}</td><td>{_e(r["core_id"])}</td>'
        f'<td>{_e(r["clause"])}</td></tr>' for r in rows)
    det = "".join(
        f'<tr class="{f.severity}" data-ds="{_e(f.dataset)}" data-sev="{f.severity}"><td>{_e(f.rule)}</td>'
        f'<td>{f.severity}</td><td>{_e(f.dataset)}</td><td>{f.record or ""}</td><td>{_e(f.usubjid)}</td>'
        f'<td>{_e(f.variable)}</td><td>{_e(f.value)}</td><td>{_e(f.message)}</td></tr>' for f in report.findings)
    ds_rows = "".join(f'<tr><td>{_e(n)}</td><td>{_e(d["file"])}</td><td>{_e(d["standard"])}</td>'
                      f'<td>{d["records"]}</td><td>{d["variables"]}</td></tr>' for n, d in sorted(report.datasets.items()))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Conformance report: {_e(report.package)}</title>
<style>{_CSS}</style></head><body>
<h1>Conformance report: {_e(report.package)}</h1>
<p>{report.errors} error(s), {report.warnings} warning(s), {report.total("info")} note(s);
controlled terminology {_e(report.ct_version)}; up to {report.limit} findings listed per rule and dataset.</p>
<table><caption>Datasets</caption><thead><tr><th>dataset</th><th>file</th><th>standard</th><th>records</th>
<th>variables</th></tr></thead><tbody>{ds_rows}</tbody></table>
<div class="bar">dataset <select id="fd"><option value="">all</option>{opt}</select>
severity <select id="fs"><option value="">all</option>{sev}</select></div>
<table><caption>Summary by rule and dataset</caption><thead><tr><th>rule</th><th>severity</th><th>dataset</th>
<th>count</th><th>CORE id</th><th>clause</th></tr></thead><tbody>{summ}</tbody></table>
<table><caption>Findings</caption><thead><tr><th>rule</th><th>severity</th><th>dataset</th><th>record</th>
<th>USUBJID</th><th>variable</th><th>value</th><th>message</th></tr></thead><tbody>{det}</tbody></table>
<script>{_JS}</script></body></html>
"""


def write_html(report: Report, path: Path) -> None:
    Path(path).write_text(report_html(report), encoding="utf-8")


_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def cell(v: object) -> object:
    """Spreadsheet cell text: a leading = + - @ would make Excel evaluate a formula (CSV/XLSX injection)."""
    if isinstance(v, str):
        v = _ILLEGAL.sub("?", v)
        return "'" + v if v.startswith(_FORMULA) else v
    return v


def write_xlsx(report: Report, path: Path) -> None:
    """Pinnacle 21's familiar shape: an issue summary sheet and one detail row per finding."""
    try:
        from openpyxl import Workbook
    except ImportError:
        raise RuntimeError("XLSX reports need openpyxl (pip install openpyxl)") from None
    import datetime as dt

    wb = Workbook()
    ws = wb.active
    ws.title = "Issue Summary"
    ws.append(["Rule", "Severity", "Dataset", "Count", "CORE ID", "Clause"])
    for r in summary_rows(report):
        ws.append([cell(r[k]) for k in ("rule", "severity", "dataset", "count", "core_id", "clause")])
    wd = wb.create_sheet("Issue Details")
    wd.append(["Rule ID", "Severity", "Dataset", "Record", "USUBJID", "Variable", "Value", "Message"])
    for f in report.findings:
        wd.append([cell(f.rule), f.severity, cell(f.dataset), f.record or None, cell(f.usubjid),
                   cell(f.variable), cell(f.value), cell(f.message)])
    for sheet in (ws, wd):
        sheet.freeze_panes = "A2"
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
    """Terminal text: a table by rule and dataset, then the first findings."""
    rows = summary_rows(report)
    lines = [f"{report.package}: {report.errors} error(s), {report.warnings} warning(s), "
             f"{report.total('info')} note(s) in {len(report.datasets)} dataset(s)"]
    if rows:
        head = ("rule", "severity", "dataset", "count", "core")
        table = [head] + [(r["rule"], r["severity"], r["dataset"], str(r["count"]), r["core_id"]) for r in rows]
        w = [max(len(t[i]) for t in table) for i in range(5)]
        lines += ["", *("  ".join(c.ljust(x) for c, x in zip(t, w)).rstrip() for t in table)]
    shown = sorted(report.findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.dataset, f.rule, f.record))[:first]
    if shown:
        lines += ["", f"first {len(shown)} finding(s):"]
        for f in shown:
            where = f.dataset + (f" record {f.record}" if f.record else "") + (f" {f.usubjid}" if f.usubjid else "")
            lines.append(f"  [{f.rule} {f.severity}] {where}: {f.message}")
    return "\n".join(lines)
