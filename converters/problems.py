"""One shape for every finding about the input: file, row, field, value, rule, severity, message."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

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


def write_problems_json(path: Path, problems: Iterable[Problem]) -> None:
    Path(path).write_text(json.dumps(problems_json(problems), indent=2, ensure_ascii=True) + "\n", encoding="ascii")


def format_table(problems: Iterable[Problem], limit: int = 50) -> str:
    """A fixed-width table for the terminal; long values are shortened for display only."""
    items = sort_problems(problems)
    if not items:
        return "no problems"
    head = ("severity", "file", "row", "field", "value", "rule", "message")
    rows = [(p.severity, p.file, "" if p.row is None else str(p.row), p.field, _short(p.value, 24), p.rule, p.message)
            for p in items[:limit]]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(6)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:6], widths)) + "  " + r[6] for r in [head, *rows]]
    lines.insert(1, "-" * min(160, len(lines[0])))
    if len(items) > limit:
        lines.append(f"... and {len(items) - limit} more (see the JSON report)")
    return "\n".join(lines)


def _short(text: str, n: int) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= n else text[: n - 3] + "..."
