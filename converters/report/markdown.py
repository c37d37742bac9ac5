"""Readable Markdown of the survival summary and of the published-vs-derived comparison."""
from __future__ import annotations

import re

NR = "NR"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MARKUP = re.compile(r"([\\`*_\[\]|])")


def cell(text) -> str:
    """Text from a study's files as inert Markdown table-cell text: no HTML, no table break, no markup."""
    text = _CONTROL.sub(" ", str(text))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKUP.sub(r"\\\1", text)


def fmt(x, places: int = 1) -> str:
    return NR if x is None else f"{x:.{places}f}"


def fmt_ci(ci: list) -> str:
    return f"{fmt(ci[0])}-{fmt(ci[1])}"


def _pct(x) -> str:
    return "NE" if x is None else f"{x * 100:.1f}"


def _landmark(mark: dict) -> str:
    if mark["survival"] is None:
        return "NE"
    return f"{_pct(mark['survival'])}% ({_pct(mark['ci_lower'])}-{_pct(mark['ci_upper'])})"


def survival_markdown(report: dict, plots: dict[str, list[str]]) -> str:
    per_month = report["days_per_month"]
    lines = ["# Time-to-event summary", "",
             f"Computed from the ADaM datasets ADSL and ADTTE only. Months = days / {per_month}; "
             "NR = not reached or not estimable; NE = not estimable (beyond the last observed time, or a "
             "CI where S(t) is 1 or 0). Events are CNSR = 0; n at risk at t counts times >= t.", "",
             "- Median: " + report["methods"]["median"],
             "- 95% CI (BC): " + report["methods"]["median_ci_bc_loglog"],
             "- 95% CI (SPSS): " + report["methods"]["median_ci_spss"],
             "- S(t): " + report["methods"]["landmarks"], "", "## Follow-up", ""]
    simple, reverse = report["follow_up"]["simple"], report["follow_up"]["reverse_km"]
    lines += ["| Method | N | Median (months) | IQR (months) |", "|---|---:|---:|---|",
              f"| Simple median of ADSL FUPDUR (SAFFL = Y) | {simple['n']} | {fmt(simple['median_months'])} | "
              f"{fmt(simple['q1_months'])}-{fmt(simple['q3_months'])} |"]
    if reverse:
        lines.append(f"| Reverse Kaplan-Meier ({reverse['source']}) | {reverse['n']} | "
                     f"{fmt(reverse['median_months'])} (95% CI {fmt_ci(reverse['median_ci_bc_loglog_months'])}) | "
                     f"{fmt(reverse['q1_months'])}-{fmt(reverse['q3_months'])} |")
    marks = report["landmarks_months"]
    for param in report["parameters"]:
        lines += ["", f"## {cell(param['paramcd'])}: {cell(param['param'])}", "",
                  "| Group | N | Events | Censored | Median (months) | 95% CI BC log-log | SE (SPSS) | "
                  "95% CI SPSS | " + " | ".join(f"S({m} mo) (95% CI)" for m in marks) + " |",
                  "|---|---:|---:|---:|---:|---|---:|---|" + "---|" * len(marks)]
        for g in param["groups"]:
            by_month = {m["months"]: m for m in g["landmarks"]}
            cells = [_landmark(by_month[m]) if m in by_month else "-" for m in marks]
            lines.append(f"| {cell(g['group'])} | {g['n']} | {g['events']} | {g['censored']} | {fmt(g['median_months'])} | "
                         f"{fmt_ci(g['median_ci_bc_loglog_months'])} | {fmt(g['median_se_spss_months'])} | "
                         f"{fmt_ci(g['median_ci_spss_months'])} | " + " | ".join(cells) + " |")
        for name in plots.get(param["paramcd"], []):
            if name.endswith(".png"):
                lines += ["", f"![Kaplan-Meier {cell(param['paramcd'])}]({cell(name)})"]
    return "\n".join(lines) + "\n"


def published_markdown(lines_: list[dict]) -> str:
    checked = [x for x in lines_ if x["checked"]]
    matched = sum(x["match"] for x in checked)
    out = ["# Published figures vs figures derived from the package", "",
           f"{matched} of {len(checked)} checked figures match. Each figure is derived from the datasets named "
           "in 'From'; SDTM is used only where the ADaM package has no dataset for it (noted).", "",
           "| Figure | Published | Derived | Unit | Match | From |", "|---|---:|---:|---|---|---|"]
    for x in lines_:
        match = ("yes" if x["match"] else "**NO**") if x["checked"] else "not checked"
        out.append(f"| {cell(x['figure'])} | {cell(x['published_text'])} | {cell(x['derived_text'])} | "
                   f"{cell(x['unit'])} | {match} | {cell(x['source'])} |")
    notes = [x for x in lines_ if x.get("note")]
    if notes:
        out += ["", "Notes:", ""] + [f"- {cell(x['figure'])}: {cell(x['note'])}" for x in notes]
    return "\n".join(out) + "\n"
