"""What every report format shows: the package's identity, findings grouped, and every rule that was run."""
from __future__ import annotations

from dataclasses import dataclass

from converters import __version__

from .model import SEVERITY_ORDER, Finding, Report
from .registry import rule_specs

TOOL = "cdisc-converter"
EXAMPLES = 5  # example subjects and records shown per group


@dataclass(frozen=True)
class Group:
    """Identical findings: same rule, dataset, variable, value and message."""
    rule: str
    severity: str
    dataset: str
    variable: str
    value: str
    message: str
    count: int
    usubjids: tuple[str, ...]  # the first few distinct subjects
    records: tuple[int, ...]  # the first few record numbers (none for findings about a whole dataset)


def _key(f: Finding) -> tuple:
    return f.rule, f.dataset, f.variable, f.value, f.message


def finding_groups(report: Report) -> list[Group]:
    """Listed findings grouped; errors first, then the largest groups of a rule and dataset."""
    members: dict[tuple, list[Finding]] = {}
    for f in report.findings:
        members.setdefault(_key(f), []).append(f)
    groups = []
    for (rule, dataset, variable, value, message), fs in members.items():
        subjects = tuple(dict.fromkeys(f.usubjid for f in fs if f.usubjid))[:EXAMPLES]
        records = tuple(sorted(f.record for f in fs if f.record))[:EXAMPLES]
        groups.append(Group(rule, fs[0].severity, dataset, variable, value, message, len(fs), subjects, records))
    return sorted(groups, key=lambda g: (SEVERITY_ORDER[g.severity], g.rule, g.dataset, -g.count,
                                         g.variable, g.value, g.message))


def title(report: Report) -> str:
    """STUDYID from the data; the package folder's name when no dataset has one."""
    return report.studyid or report.package


def standards(report: Report) -> list[str]:
    """The implementation guides of the package's datasets, e.g. ['SDTMIG 3.4', 'ADaMIG 1.3']."""
    from converters.define.build import standard_ref  # here: converters.define reads XPT through this package
    folders = sorted({d["standard"] for d in report.datasets.values()}, key=lambda s: (not s.startswith("sdtm"), s))
    return [f"{ref.name} {ref.version}" for ref in map(standard_ref, folders)]


def tool() -> str:
    return f"{TOOL} {__version__}"


def _standards_present(report: Report) -> set[str]:
    return {d["standard"].split("-")[0] for d in report.datasets.values()}


def applicability(report: Report, scope: str) -> str:
    """'' when a rule of this scope had something to check; else why not. Scope-level only: a rule that
    ran may still have found nothing it applies to (e.g. no time-to-event dataset)."""
    present = _standards_present(report)
    if scope == "sdtm" and "sdtmig" not in present:
        return "no SDTM datasets"
    if scope == "adam" and "adamig" not in present:
        return "no ADaM datasets"
    if scope == "define" and not report.defines:
        return "no define.xml"
    return ""


def rule_rows(report: Report) -> list[dict]:
    """Every rule that was run, in the order of specs/rules/rules.csv, with its total finding count."""
    order = {rid: i for i, rid in enumerate(rule_specs())}
    totals: dict[str, int] = {}
    for (rid, _), n in report.counts.items():
        totals[rid] = totals.get(rid, 0) + n
    rows = []
    for rid in sorted(report.rules, key=lambda r: (order.get(r, len(order)), r)):
        r = report.rules[rid]
        why = "" if totals.get(rid) else applicability(report, r.scope)
        rows.append({"id": rid, "severity": r.severity, "scope": r.scope, "description": r.description,
                     "message": r.message, "clause": r.clause, "core_id": r.core_id, "findings": totals.get(rid, 0),
                     "status": f"not applicable ({why})" if why else "checked"})
    return rows


def summary_rows(report: Report) -> list[dict]:
    """Finding counts by rule and dataset; `listed` < `count` when only the first `limit` are kept."""
    listed: dict[tuple[str, str], int] = {}
    for f in report.findings:
        listed[(f.rule, f.dataset)] = listed.get((f.rule, f.dataset), 0) + 1
    rows = [{"rule": rid, "dataset": ds, "severity": report.rules[rid].severity, "count": n,
             "listed": listed.get((rid, ds), 0), "description": report.rules[rid].description,
             "core_id": report.rules[rid].core_id, "clause": report.rules[rid].clause}
            for (rid, ds), n in report.counts.items()]
    return sorted(rows, key=lambda r: (SEVERITY_ORDER[r["severity"]], r["rule"], r["dataset"]))


def outcome(report: Report) -> str:
    """One sentence: the counts, or plainly that there are no findings."""
    rows = rule_rows(report)
    checked = sum(r["status"] == "checked" for r in rows)
    na = len(rows) - checked
    rules = f"{checked} rule(s) checked" + (f", {na} not applicable" if na else "")
    if not report.counts:
        return f"No findings: {rules}."
    return (f"{report.errors} error(s), {report.warnings} warning(s), {report.total('info')} note(s); "
            f"{rules}.")


def dataset_counts(report: Report) -> dict[str, dict[str, int]]:
    """Dataset -> {severity: findings}."""
    out: dict[str, dict[str, int]] = {}
    for (rid, ds), n in report.counts.items():
        sev = out.setdefault(ds, {s: 0 for s in SEVERITY_ORDER})
        sev[report.rules[rid].severity] += n
    return out


def truncation(report: Report) -> str:
    """Which rule and dataset pairs have more findings than are listed; "" when all are."""
    cut = [f"{r['rule']} {r['dataset']} ({r['listed']} of {r['count']} listed)"
           for r in summary_rows(report) if r["listed"] < r["count"]]
    if not cut:
        return ""
    return f"only the first {report.limit} findings per rule and dataset are listed: " + "; ".join(cut)
