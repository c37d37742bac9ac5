"""What a mapping block returns: the mapped column and one finding per value it could not map."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from converters.problems import ERROR, Problem


@dataclass(frozen=True)
class Finding:
    """A raw value that did not map (or mapped with a loss worth knowing), at its position in the input."""

    position: int  # 0-based position in the input Series (not its index label)
    field: str  # the input Series' name: the raw column
    value: str  # the raw value as read
    rule: str
    message: str
    severity: str = ERROR


@dataclass(frozen=True)
class Mapped:
    """SDTM values (same index as the input; "" where nothing was collected or the value did not map)."""

    values: pd.Series
    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        """True when no finding is an error (warnings allowed)."""
        return not any(f.severity == ERROR for f in self.findings)


Fault = tuple[str, str, str, str]  # raw value, rule, message, severity


def findings_at(codes: np.ndarray, faults: Mapping[int, Sequence[Fault]], field: str) -> tuple[Finding, ...]:
    """One Finding per row whose distinct-value code has faults, in row order.

    Faults are worked out once per distinct value; this spreads them back over the rows.

    >>> findings_at(np.array([0, 1, 0]), {0: [("x", "R", "bad", "error")]}, "F")[1].position
    2
    """
    if not faults:
        return ()
    bad = np.fromiter(faults, dtype=np.int64, count=len(faults))
    positions = np.flatnonzero(np.isin(codes, bad))
    return tuple(Finding(int(p), field, *fault) for p in positions for fault in faults[int(codes[p])])


def as_problems(findings: Iterable[Finding], file: str, rows: Sequence[int | None]) -> list[Problem]:
    """Findings as the project's problems; ``rows[position]`` is the source row number of a position.

    >>> f = Finding(0, "AESTDAT", "31/02/2021", "MAP-DATE-CALENDAR", "not a calendar date")
    >>> as_problems([f], "ae.csv", [2])[0].row
    2
    """
    return [Problem(file, rows[f.position], f.field, f.value, f.rule, f.message, f.severity) for f in findings]
