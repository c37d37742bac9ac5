"""Two data cuts of one trial, as a statistician reads them: subjects added or removed, and per
time-to-event parameter the subjects whose censoring flipped or whose time changed; per subject-level
response parameter (best overall response, ...) the subjects whose value changed."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from converters.compare.tables import TableError, find_datasets, read_table

TTE_SHOWN = ("AVAL", "CNSR", "ADT", "EVNTDESC", "CNSDTDSC")


@dataclass
class TteChange:
    usubjid: str
    change: str  # "censored -> event" | "event -> censored" | "time changed" | "added" | "removed"
    old: dict | None
    new: dict | None


@dataclass
class TteParameter:
    paramcd: str
    subjects: tuple[int, int]  # old, new
    events: tuple[int, int]
    changes: list[TteChange] = field(default_factory=list)

    def flipped(self) -> list[str]:
        return [c.usubjid for c in self.changes if "->" in c.change]

    def time_changed(self) -> list[str]:
        return [c.usubjid for c in self.changes if c.change == "time changed"]


@dataclass
class ResponseParameter:
    paramcd: str
    changes: list[tuple[str, str | None, str | None]]  # (USUBJID, old AVALC, new AVALC); None: no record


@dataclass
class CutView:
    old: str
    new: str
    cutoff: tuple[str | None, str | None]
    subjects: tuple[int, int]
    added: list[str]
    removed: list[str]
    tte: list[TteParameter]
    response: list[ResponseParameter]
    records: dict[str, tuple[int, int]]  # ADRS parameters of several records per subject: old, new

    def parameter(self, paramcd: str) -> TteParameter:
        return next(p for p in self.tte if p.paramcd == paramcd)


def sas_date(v) -> str | None:
    if v is None or v != v:
        return None
    return (pd.Timestamp("1960-01-01") + pd.Timedelta(days=int(v))).strftime("%Y-%m-%d")


def _adam(root: Path, name: str, required: bool = True) -> pd.DataFrame | None:
    found = find_datasets(root)
    if name not in found:
        if required:
            raise TableError(f"--cut needs {name} in both packages; {root} has none")
        return None
    return read_table(found[name]).frame


def cut_view(old: Path, new: Path) -> CutView:
    adsl = _adam(old, "ADSL"), _adam(new, "ADSL")
    adtte = _adam(old, "ADTTE"), _adam(new, "ADTTE")
    adrs = _adam(old, "ADRS", False), _adam(new, "ADRS", False)
    subjects = [set(f["USUBJID"]) for f in adsl]
    cutoff = tuple(sas_date(f["DCUTDT"].dropna().iloc[0]) if "DCUTDT" in f and f["DCUTDT"].notna().any() else None
                   for f in adsl)
    view = CutView(str(old), str(new), cutoff, (len(subjects[0]), len(subjects[1])),
                   sorted(subjects[1] - subjects[0]), sorted(subjects[0] - subjects[1]), [], [], {})
    for paramcd in _in_order(adtte[0]["PARAMCD"], adtte[1]["PARAMCD"]):
        view.tte.append(tte_changes(paramcd, *(f[f["PARAMCD"] == paramcd] for f in adtte)))
    if adrs[0] is not None and adrs[1] is not None:
        for paramcd in _in_order(adrs[0]["PARAMCD"], adrs[1]["PARAMCD"]):
            rows = [f[f["PARAMCD"] == paramcd] for f in adrs]
            if all(r["USUBJID"].is_unique for r in rows):
                view.response.append(response_changes(paramcd, *rows))
            else:
                view.records[paramcd] = (len(rows[0]), len(rows[1]))
    return view


def _in_order(a: pd.Series, b: pd.Series) -> list[str]:
    return list(dict.fromkeys([*a.tolist(), *b.tolist()]))


def tte_changes(paramcd: str, old: pd.DataFrame, new: pd.DataFrame) -> TteParameter:
    cols = ["USUBJID", *[c for c in TTE_SHOWN if c in old.columns and c in new.columns]]
    both = old[cols].merge(new[cols], on="USUBJID", how="outer", suffixes=("_old", "_new"), indicator=True)
    out = TteParameter(paramcd, (len(old), len(new)), (int((old["CNSR"] == 0).sum()), int((new["CNSR"] == 0).sum())))
    for r in both.sort_values("USUBJID").to_dict("records"):
        before = None if r["_merge"] == "right_only" else _side(r, cols, "_old")
        after = None if r["_merge"] == "left_only" else _side(r, cols, "_new")
        change = tte_change(before, after)
        if change:
            out.changes.append(TteChange(r["USUBJID"], change, before, after))
    return out


def _side(row: dict, cols: list[str], suffix: str) -> dict:
    out = {}
    for c in cols[1:]:
        v = row[c + suffix]
        out[c] = sas_date(v) if c == "ADT" else (None if isinstance(v, float) and np.isnan(v) else v)
    return out


def tte_change(old: dict | None, new: dict | None) -> str:
    if old is None:
        return "added"
    if new is None:
        return "removed"
    if old["CNSR"] != new["CNSR"]:
        return f"{_state(old)} -> {_state(new)}"
    if old["AVAL"] != new["AVAL"]:
        return "time changed"
    return ""


def _state(side: dict) -> str:
    return "event" if side["CNSR"] == 0 else "censored"


def response_changes(paramcd: str, old: pd.DataFrame, new: pd.DataFrame) -> ResponseParameter:
    a = dict(zip(old["USUBJID"], old["AVALC"]))
    b = dict(zip(new["USUBJID"], new["AVALC"]))
    changes = [(s, a.get(s), b.get(s)) for s in sorted(set(a) | set(b)) if a.get(s) != b.get(s)]
    return ResponseParameter(paramcd, changes)


CHANGE_ORDER = ("flipped", "added", "removed", "time changed")  # what a reader looks for first


def _kind(change: str) -> str:
    return "flipped" if "->" in change else change


def describe(side: dict | None) -> str:
    """One TTE record in words: 'event day 799 (RELAPSE OR DISEASE PROGRESSION, 2023-10-05)'."""
    if side is None:
        return "no record"
    text = side.get("EVNTDESC") if side["CNSR"] == 0 else side.get("CNSDTDSC")
    aval = side["AVAL"]
    day = f"{aval:g}" if isinstance(aval, float) else str(aval)
    return f"{_state(side)} day {day} ({text or '-'}, {side.get('ADT') or '-'})"


def cut_markdown(view: CutView) -> str:
    lines = ["# Data cut comparison", "",
             f"Old: `{view.old}` (data cutoff {view.cutoff[0] or '-'}); new: `{view.new}` (data cutoff {view.cutoff[1] or '-'}).",
             "", f"Subjects: {view.subjects[0]} -> {view.subjects[1]}; added: {', '.join(view.added) or 'none'}; "
             f"removed: {', '.join(view.removed) or 'none'}.", "", "## Time to event (ADTTE)", "",
             "| parameter | subjects | events | censoring flipped | time changed | added | removed |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for p in view.tte:
        kinds = [c.change for c in p.changes]
        lines.append(f"| {p.paramcd} | {p.subjects[0]} -> {p.subjects[1]} | {p.events[0]} -> {p.events[1]} | "
                     f"{len(p.flipped())} | {len(p.time_changed())} | {kinds.count('added')} | {kinds.count('removed')} |")
    for p in view.tte:
        if p.changes:
            lines += ["", f"### {p.paramcd}", "", "| USUBJID | change | old | new |", "| --- | --- | --- | --- |"]
            lines += [f"| {c.usubjid} | {c.change} | {describe(c.old)} | {describe(c.new)} |"
                      for c in sorted(p.changes, key=lambda c: CHANGE_ORDER.index(_kind(c.change)))]
    lines += ["", "## Response (ADRS, one record per subject)", ""]
    changed = [p for p in view.response if p.changes]
    if not changed:
        lines.append("No subject-level response value changed.")
    for p in changed:
        lines += [f"### {p.paramcd}", "", "| USUBJID | old | new |", "| --- | --- | --- |"]
        lines += [f"| {s} | {a if a is not None else 'no record'} | {b if b is not None else 'no record'} |"
                  for s, a, b in p.changes]
        lines.append("")
    if view.records:
        lines += ["", "Records of per-assessment parameters: " +
                  "; ".join(f"{k} {a} -> {b}" for k, a, b in ((k, *v) for k, v in view.records.items())) + "."]
    return "\n".join(lines).rstrip() + "\n"


def cut_html(view: CutView) -> str:
    """The Markdown report's content as an HTML fragment (tables and headings only)."""
    import html

    out, table = [], []

    def flush():
        if table:
            head, *body = [[c.strip() for c in row.strip("|").split("|")] for row in table if not row.startswith("| ---")]
            out.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>" +
                       "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in body) + "</table>")
            table.clear()

    for line in cut_markdown(view).splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush()
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{html.escape(line.lstrip('#').strip())}</h{level}>")
        elif line:
            out.append(f"<p>{html.escape(line.replace('`', ''))}</p>")
    flush()
    return "".join(out)


def cut_json(view: CutView) -> dict:
    return {"cutoff": {"old": view.cutoff[0], "new": view.cutoff[1]},
            "subjects": {"old": view.subjects[0], "new": view.subjects[1], "added": view.added, "removed": view.removed},
            "tte": [{"paramcd": p.paramcd, "subjects": list(p.subjects), "events": list(p.events),
                     "changes": [{"usubjid": c.usubjid, "change": c.change, "old": c.old, "new": c.new}
                                 for c in p.changes]} for p in view.tte],
            "response": [{"paramcd": p.paramcd, "changes": [{"usubjid": s, "old": a, "new": b} for s, a, b in p.changes]}
                         for p in view.response],
            "records": {k: {"old": a, "new": b} for k, (a, b) in view.records.items()}}
