"""One self-contained HTML page per validation: inline CSS and JS, every value from the data escaped."""
from __future__ import annotations

import html

from .model import SEVERITY_ORDER, Report
from .summary import (EXAMPLES, dataset_counts, finding_groups, outcome, rule_rows, standards, title, tool,
                      truncation)

_CSS = """body{font:14px/1.4 system-ui,sans-serif;margin:1.5em 2em;color:#222}
h1{font-size:1.6em;margin:0 0 .2em}h2{font-size:1.2em;margin:1.6em 0 .4em;border-bottom:1px solid #ccc}
.meta{color:#555;margin:0 0 1em}.outcome{font-size:1.1em;padding:.6em .9em;border-radius:4px;display:inline-block}
.outcome.clean{background:#e6f4ea;color:#135e2c;border:1px solid #9bd3ab}
.outcome.issues{background:#fdecea;color:#8a1c12;border:1px solid #f1a9a0}.note{color:#8a5a00}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eee;cursor:pointer;position:sticky;top:0}td.n{text-align:right}
.sev{font-weight:bold}.sev.error{color:#b00}.sev.warning{color:#a60}.sev.info{color:#555}
td.r{min-width:20em}td.v{min-width:8em;max-width:22em;overflow-wrap:break-word}td.m{min-width:22em}
.rt{color:#333}.cl{color:#777;font-size:12px}.zero{color:#999}.na td{color:#888;font-style:italic}
.bar{margin:.5em 0}.bar select{margin-right:1em}p.none{font-size:1.05em;font-weight:bold;color:#135e2c}"""

_JS = """function sortBy(t,c){const b=t.tBodies[0],r=[...b.rows],d=t.dataset.sc==c&&t.dataset.sd!='d';
r.sort((x,y)=>{const a=x.cells[c].textContent,z=y.cells[c].textContent,n=parseFloat(a)-parseFloat(z);
const v=isNaN(n)?a.localeCompare(z):n;return d?-v:v});t.dataset.sc=c;t.dataset.sd=d?'d':'a';r.forEach(e=>b.appendChild(e))}
document.querySelectorAll('table').forEach(t=>t.querySelectorAll('th').forEach((h,i)=>h.onclick=()=>sortBy(t,i)));
const fd=document.getElementById('fd'),fs=document.getElementById('fs');
function filt(){const d=fd.value,s=fs.value;
document.querySelectorAll('tr[data-ds]').forEach(r=>{r.style.display=(!d||r.dataset.ds==d)&&(!s||r.dataset.sev==s)?'':'none'})}
if(fd){fd.onchange=filt;fs.onchange=filt}"""


def _e(v: object) -> str:
    return html.escape(str(v), quote=True)


def _table(head: list[str], body: str) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _rule_cell(report: Report, rid: str) -> str:
    r = report.rules[rid]
    return (f'<td class="r"><b>{_e(rid)}</b><div class="rt">{_e(r.description)}</div>'
            f'<div class="cl">{_e(r.clause)}</div></td>')


def findings_section(report: Report) -> str:
    groups = finding_groups(report)
    if not groups:
        return '<p class="none">No findings.</p>'
    datasets = sorted({g.dataset for g in groups})
    opt = "".join(f'<option value="{_e(d)}">{_e(d)}</option>' for d in datasets)
    sev = "".join(f'<option value="{s}">{s}</option>' for s in SEVERITY_ORDER)
    rows = "".join(
        f'<tr data-ds="{_e(g.dataset)}" data-sev="{_e(g.severity)}">'
        f'<td class="sev {_e(g.severity)}">{_e(g.severity)}</td>'
        f'{_rule_cell(report, g.rule)}<td>{_e(g.dataset)}</td><td>{_e(g.variable)}</td><td class="v">{_e(g.value)}</td>'
        f'<td class="n">{g.count}</td><td class="m">{_e(g.message)}</td><td>{_e(", ".join(g.usubjids))}</td>'
        f'<td>{_e(", ".join(map(str, g.records)))}</td></tr>' for g in groups)
    head = ["severity", "rule", "dataset", "variable", "value", "count", "message",
            f"example USUBJIDs (first {EXAMPLES})", f"example records (first {EXAMPLES})"]
    return (f'<p>{len(report.findings)} finding(s) listed in {len(groups)} group(s) of identical findings '
            f'(same rule, dataset, variable, value and message).</p>'
            f'<div class="bar">dataset <select id="fd"><option value="">all</option>{opt}</select>'
            f'severity <select id="fs"><option value="">all</option>{sev}</select></div>' + _table(head, rows))


def rules_section(report: Report) -> str:
    rows = "".join(
        f'<tr class="{"ran" if r["status"] == "checked" else "na"}"><td><b>{_e(r["id"])}</b></td>'
        f'<td class="sev {_e(r["severity"])}">{_e(r["severity"])}</td><td>{_e(r["scope"])}</td>'
        f'<td>{_e(r["description"])}</td><td>{_e(r["clause"])}</td><td>{_e(r["core_id"])}</td>'
        f'<td class="n{" zero" if not r["findings"] else ""}">{r["findings"]}</td><td>{_e(r["status"])}</td></tr>'
        for r in rule_rows(report))
    head = ["rule", "severity", "scope", "rule text", "clause of the standard", "CORE id", "findings", "status"]
    return ("<p>Every rule that was run. <i>checked</i>: the rule ran over the package (a rule may find no data "
            "it applies to, e.g. no time-to-event dataset); <i>not applicable</i>: the package has nothing of "
            "the rule's kind (no ADaM datasets, no define.xml).</p>" + _table(head, rows))


def datasets_section(report: Report) -> str:
    counts = dataset_counts(report)
    rows = "".join(
        f'<tr><td>{_e(n)}</td><td>{_e(d["file"])}</td><td>{_e(d["standard"])}</td><td class="n">{d["records"]}</td>'
        f'<td class="n">{d["variables"]}</td>'
        + "".join(f'<td class="n">{counts.get(n, {}).get(s, 0)}</td>' for s in SEVERITY_ORDER) + "</tr>"
        for n, d in sorted(report.datasets.items()))
    return _table(["dataset", "file", "standard", "records", "variables", "errors", "warnings", "notes"], rows)


def meta_line(report: Report) -> str:
    parts = [f"checked against {' and '.join(standards(report))} by {tool()}",
             f"controlled terminology {report.ct_version}"]
    if report.created:
        parts.append(f"datasets created {report.created}")
    parts.append("define.xml: " + (", ".join(report.defines) or "none"))
    if report.package != title(report):
        parts.append(f"folder {report.package}")
    return " &middot; ".join(_e(p) for p in parts)


def report_html(report: Report) -> str:
    name = _e(title(report))
    state = "issues" if report.counts else "clean"
    cut = truncation(report)
    note = f'<p class="note">{_e(cut[0].upper() + cut[1:])}.</p>' if cut else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Conformance report: {name}</title>
<style>{_CSS}</style></head><body>
<h1>Conformance report: {name}</h1>
<p class="meta">{meta_line(report)}</p>
<p class="outcome {state}">{_e(outcome(report))}</p>{note}
<h2>Findings</h2>
{findings_section(report)}
<h2>Rules</h2>
{rules_section(report)}
<h2>Datasets</h2>
{datasets_section(report)}
<script>{_JS}</script></body></html>
"""
