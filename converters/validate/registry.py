"""Rule registry: metadata lives in specs/rules/rules.csv, each check is one function registered by id.

Adding a rule = one row in rules.csv + one function decorated with ``@rule("ID")``.
"""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from .model import Finding, Rule

RULES_CSV = Path(__file__).resolve().parents[2] / "specs" / "rules" / "rules.csv"
CHECKS: dict[str, Callable] = {}


def rule(rule_id: str) -> Callable:
    def register(fn: Callable) -> Callable:
        if rule_id in CHECKS:
            raise ValueError(f"rule {rule_id} registered twice")
        CHECKS[rule_id] = fn
        return fn
    return register


@lru_cache(maxsize=None)
def rule_specs() -> dict[str, Rule]:
    with open(RULES_CSV, newline="", encoding="utf-8") as fh:
        rows = [{k: (v or "").strip() for k, v in r.items()} for r in csv.DictReader(fh)]
    return {r["id"]: Rule(r["id"], r["severity"], r["scope"], r["message"], r["clause"], r["core_id"],
                           r["description"]) for r in rows}


class _Defaults(dict):
    def __missing__(self, key: str) -> str:
        return ""


class Emitter:
    """Collects one rule's findings: every one is counted, at most `limit` per dataset are kept."""

    def __init__(self, spec: Rule, limit: int):
        self.spec, self.limit = spec, limit
        self.counts: dict[str, int] = {}
        self.findings: list[Finding] = []

    def add(self, dataset: str, variable: str = "", value: object = "", record: int = 0, usubjid: str = "",
            detail: str = "") -> None:
        n = self.counts.get(dataset, 0)
        self.counts[dataset] = n + 1
        if n < self.limit:
            self.findings.append(self._finding(dataset, variable, value, record, usubjid, detail))

    def flag(self, dataset: str, frame: pd.DataFrame, mask, variable: str, values=None,
             detail: str | Iterable[str] | Callable = "") -> int:
        """One finding per row where `mask` holds; values default to the frame's column `variable`.
        `detail` is text, one text per row, or a function of the kept row positions (for costly text)."""
        mask = np.asarray(mask, dtype=bool)
        rows = np.flatnonzero(mask)
        if not len(rows):
            return 0
        n = self.counts.get(dataset, 0)
        self.counts[dataset] = n + len(rows)
        keep = rows[: max(0, self.limit - n)]
        if values is None:
            values = frame[variable] if variable in frame.columns else None
        vals = None if values is None else np.asarray(values, dtype=object)
        subj = frame["USUBJID"].to_numpy(dtype=object) if "USUBJID" in frame.columns else None
        if callable(detail):
            texts = list(detail(keep))
        elif isinstance(detail, str):
            texts = [detail] * len(keep)
        else:
            texts = list(np.asarray(list(detail), dtype=object)[keep])
        for i, text in zip(keep, texts):
            self.findings.append(self._finding(
                dataset, variable, "" if vals is None else vals[i], int(i) + 1,
                "" if subj is None else subj[i], text))
        return len(rows)

    def _finding(self, dataset, variable, value, record, usubjid, detail) -> Finding:
        value = _text(value)
        msg = self.spec.message.format_map(_Defaults(dataset=dataset, variable=variable, value=value,
                                                      detail=_text(detail)))
        return Finding(dataset, self.spec.id, record, variable, value, _text(usubjid), self.spec.severity, msg)


def _text(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
