"""Value types shared by the XPORT writer: variable metadata and the error that lists every problem."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class XptVariable:
    name: str  # <= 8 chars, upper case, starts with a letter (FDA TCG 4.1.5)
    label: str  # <= 40 ASCII chars
    type: str  # "Char" or "Num"
    length: int | None = None  # Char: bytes, None = longest value (min 1). Num: always 8.
    format: str = ""  # SAS display format, e.g. "DATE9."; "" = none


@dataclass(frozen=True)
class XptProblem:
    dataset: str
    variable: str | None
    record: int | None  # 1-based row number, None for metadata problems
    value: object
    rule: str
    message: str

    def __str__(self) -> str:
        where = self.dataset + (f".{self.variable}" if self.variable else "")
        if self.record is not None:
            where += f" record {self.record}"
        shown = "" if self.value is None else f" (value {self.value!r})"
        return f"[{self.rule}] {where}: {self.message}{shown}"


class XptError(ValueError):
    """Raised before anything is written; `.problems` holds every problem found, not just the first."""

    SHOWN = 20  # keep the exception text readable; the full list stays on .problems

    def __init__(self, problems: list[XptProblem]):
        self.problems = list(problems)
        lines = [str(p) for p in self.problems[: self.SHOWN]]
        if len(self.problems) > self.SHOWN:
            lines.append(f"... and {len(self.problems) - self.SHOWN} more")
        super().__init__(f"{len(self.problems)} XPORT problem(s):\n" + "\n".join(lines))
