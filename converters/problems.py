"""One shape for every finding about the input: file, row, field, value, rule, severity, message."""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Sequence

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    row: int | None  # 1-based as a spreadsheet shows it (CSV header = row 1); JSON Lines: line number
    field: str
    value: str
    rule: str
    message: str
    severity: str = ERROR


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file, p.row or 0, p.field, p.rule, p.value, p.message))


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(p.severity == ERROR for p in problems)


def problems_json(problems: Iterable[Problem]) -> dict:
    items = sort_problems(problems)
    return {
        "errors": sum(p.severity == ERROR for p in items),
        "warnings": sum(p.severity == WARNING for p in items),
        "problems": [asdict(p) for p in items],
    }


def write_studies_json(path: Path, studies: Sequence[tuple[str, list[Problem], Sequence[str]]]) -> None:
    """The problems of several studies in one file: problems_json's keys, each problem and group
    with its study, and the groups the terminal shows (``studies``: (study, problems, file order))."""
    problems, groups = [], []
    for study, items, order in studies:
        problems += [{"study": study, **asdict(p)} for p in sort_problems(items)]
        groups += [{"study": study, **g.as_json()} for g in group_problems(items, order)]
    data = {"errors": sum(p["severity"] == ERROR for p in problems),
            "warnings": sum(p["severity"] == WARNING for p in problems),
            "problems": problems, "groups": groups}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=True) + "\n", encoding="ascii")


# --- grouped by cause, for the terminal ---------------------------------------------------------

SPLIT_VALUES = 3  # a fault with at most this many distinct values gets a line per value


@dataclass(frozen=True)
class Group:
    """Problems of one cause: same severity, file, field and rule (and value, when values are few)."""

    severity: str
    file: str
    field: str
    rule: str
    rows: tuple[int, ...]  # sorted, distinct
    count: int
    values: tuple[str, ...]  # distinct values in row order
    message: str  # the first problem's

    def as_json(self) -> dict:
        return {"severity": self.severity, "file": self.file, "field": self.field, "rule": self.rule,
                "count": self.count, "first_row": self.rows[0] if self.rows else None,
                "last_row": self.rows[-1] if self.rows else None, "values": list(self.values[:SPLIT_VALUES]),
                "distinct_values": len(self.values), "message": self.message}


def _rank(p: Problem, order: Sequence[str]) -> int:
    """study.toml (CFG- rules) first, then the source files in ``order`` (the subjects form first), then the rest."""
    if p.rule.startswith("CFG-"):
        return 0
    return 1 + order.index(p.file) if p.file in order else 1 + len(order)


def group_problems(problems: Iterable[Problem], order: Sequence[str] = ()) -> list[Group]:
    """Problems grouped by cause, root causes first: errors before warnings, then study.toml, the
    files in ``order``, other files; within a file by first row."""
    buckets: dict[tuple, list[Problem]] = {}
    for p in sort_problems(problems):
        buckets.setdefault((p.severity, p.file, p.field, p.rule), []).append(p)
    groups = []
    for items in buckets.values():
        values = list(dict.fromkeys(p.value for p in items))
        parts = [[p for p in items if p.value == v] for v in values] if len(values) <= SPLIT_VALUES else [items]
        for part in parts:
            rows = tuple(sorted({p.row for p in part if p.row is not None}))
            groups.append((_rank(part[0], order), Group(part[0].severity, part[0].file, part[0].field, part[0].rule,
                                                        rows, len(part), tuple(dict.fromkeys(p.value for p in part)),
                                                        part[0].message)))
    groups.sort(key=lambda rg: (rg[1].severity != ERROR, rg[0], rg[1].rows[:1] or (0,), rg[1].field, rg[1].rule))
    return [g for _, g in groups]


def terminal_width() -> int:
    return shutil.get_terminal_size((120, 24)).columns


def _where(g: Group) -> str:
    if not g.rows:
        return f"{g.count} times" if g.count > 1 else ""
    if g.count == 1:
        return f"row {g.rows[0]}"
    span = f"rows {g.rows[0]}-{g.rows[-1]}" if len(g.rows) > 1 else f"row {g.rows[0]}"
    return f"{span} ({g.count} rows)" if len(g.rows) == g.count else f"{span} ({g.count} times)"


def _value(v: str) -> str:
    return "(empty)" if v == "" else repr(v) if "'" not in v else f'"{v}"'


def _text(g: Group) -> str:
    """The message, led by example values when the cause has several (or the message lacks the value)."""
    if len(g.values) > 1:
        shown = ", ".join(_value(_short(v, 16)) for v in g.values[:SPLIT_VALUES])
        return f"{len(g.values)} values, e.g. {shown}: {g.message}"
    value = g.values[0] if g.values else ""
    return g.message if not value or value in g.message else f"{_value(_short(value, 24))}: {g.message}"


def format_groups(problems: Iterable[Problem], order: Sequence[str] = (), width: int | None = None,
                  limit: int = 20) -> str:
    """One line per cause (see group_problems) under a heading per file and severity; every line is
    cut to ``width`` (default: the terminal's), never wrapped."""
    groups = group_problems(problems, order)
    if not groups:
        return "no problems"
    width = width or terminal_width()
    sections: dict[tuple[str, str], list[Group]] = {}
    for g in groups[:limit]:
        sections.setdefault((g.severity, g.file), []).append(g)
    lines = []
    for (severity, file), items in sections.items():
        count = sum(g.count for g in groups if (g.severity, g.file) == (severity, file))
        lines.append(_short(f"{file or '(package)'}: {count} {severity}{'s' if count != 1 else ''}", width))
        rows = [(_where(g), _short(g.field, 24), _short(g.rule, 24), _text(g)) for g in items]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines += [_short("  " + "  ".join(c.ljust(w) for c, w in zip(r[:3], widths)) + "  " + r[3], width).rstrip()
                  for r in rows]
    if len(groups) > limit:
        lines.append(_short(f"... and {len(groups) - limit} more causes ({sum(g.count for g in groups[limit:])} "
                            "problems) in the JSON file", width))
    return "\n".join(lines)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _short(text: str, n: int) -> str:
    text = text.replace("\n", "\\n").replace("\r", "\\r").replace("\t", " ")
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)  # ESC, BEL... would drive the terminal
    return text if len(text) <= n else text[: n - 3] + "..."
