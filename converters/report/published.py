"""Published figures (a study's published.toml) re-derived from the package and compared.

Each [[figure]] has: figure (what the publication reports), published (number, list of numbers or "NR"),
unit, precision (rounding unit of the printed value: 1 for counts and percentages, 0.1 for months),
tolerance (allowed difference after rounding, default 0), optional fraction = [numerator, denominator]
(checked too), optional check = false (printed, not counted) and note, and a [figure.derive] table:

- count:       {dataset, filter, count = "USUBJID"} - distinct values of `count` in the filtered rows
- percent:     {statistic = "percent", numerator = {dataset, filter}, denominator = {dataset, filter}} -
               100 x subjects in both / subjects in the denominator
- median/q1/q3: {statistic, dataset, filter, variable, months = true|false} (numpy linear quantiles)
- days:        {statistic = "days", dataset, filter, start, end} - sorted end - start in days
- KM:          {statistic = "km_median_months" | "km_median_ci_bc_months" | "km_median_ci_spss_months" |
                "followup_reverse_km_months", parameter, group (default Overall)} - from the survival summary

`dataset` is an ADaM dataset of the package, else an SDTM one (read from sdtm/; SUPP-- of DM transposed
to one row per subject). Rows of every dataset but ADSL carry their subject's ADSL variables, so a filter
may combine e.g. AEDECOD and TRT01AG1. Filters are expressions of converters.expr (parsed, never run
as Python), e.g. `SAFFL == 'Y' and AETOXGR in ['3', '4']` or `NTRTREAS icontains 'lung infection'`.
"""
from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from converters import expr
from converters.report.data import read_xpt, transpose_supp, with_subject_vars
from converters.report.survival import OVERALL, round_half_up

ADAM_NAMES = ("ADSL", "ADRS", "ADTTE")


class PublishedSpecError(ValueError):
    """published.toml names a dataset, statistic or variable that does not exist."""


class Datasets:
    """ADaM frames, plus SDTM frames of the package read on first use."""

    def __init__(self, adam: dict[str, pd.DataFrame], sdtm_dir: Path | None):
        self.adam, self.sdtm_dir, self._cache = adam, sdtm_dir, {}

    def source(self, name: str) -> str:
        return name if name.upper() in self.adam else f"SDTM {name.upper()}"

    def get(self, name: str) -> pd.DataFrame:
        name = name.upper()
        if name not in self._cache:
            self._cache[name] = self._load(name)
        return self._cache[name]

    def _load(self, name: str) -> pd.DataFrame:
        adsl = self.adam["ADSL"]
        if name == "ADSL":
            return adsl
        if name in self.adam:
            return with_subject_vars(self.adam[name], adsl)
        path = self.sdtm_dir / f"{name.lower()}.xpt" if self.sdtm_dir else None
        if path is None or not path.is_file():
            raise PublishedSpecError(f"published.toml: dataset {name} is neither in ADaM nor in {self.sdtm_dir}")
        frame = read_xpt(path)
        if name.startswith("SUPP"):
            frame = transpose_supp(frame)
        return with_subject_vars(frame, adsl)

    def rows(self, spec: dict) -> pd.DataFrame:
        frame = self.get(spec["dataset"])
        if spec.get("filter"):
            try:
                frame = frame[expr.parse(spec["filter"]).evaluate(frame)]
            except expr.ExpressionError as exc:
                raise PublishedSpecError(f"published.toml: filter on {spec['dataset']}: {exc}") from None
        return frame


def _subjects(data: Datasets, spec: dict) -> set[str]:
    return set(data.rows(spec)["USUBJID"].dropna())


def _quantile(q: float) -> Callable:
    def stat(data: Datasets, spec: dict, survival: dict) -> float | None:
        values = pd.to_numeric(data.rows(spec)[spec["variable"]], errors="coerce").dropna().to_numpy(float)
        if len(values) == 0:
            return None
        value = float(np.percentile(values, q))
        return value / survival["days_per_month"] if spec.get("months") else value
    return stat


def _count(data, spec, survival):
    return int(data.rows(spec)[spec.get("count", "USUBJID")].dropna().nunique())


def _percent(data, spec, survival):
    num, den = _subjects(data, spec["numerator"]), _subjects(data, spec["denominator"])
    hit = len(num & den)
    return (100.0 * hit / len(den) if den else None), (hit, len(den))


def _days(data, spec, survival):
    rows = data.rows(spec)
    days = (pd.to_datetime(rows[spec["end"]]) - pd.to_datetime(rows[spec["start"]])).dt.days
    return sorted(int(d) for d in days.dropna())


def _km(field: str) -> Callable:
    def stat(data, spec, survival):
        params = {p["paramcd"]: p for p in survival["parameters"]}
        if spec["parameter"] not in params:
            raise PublishedSpecError(f"published.toml: ADTTE has no PARAMCD {spec['parameter']}")
        groups = {g["group"]: g for g in params[spec["parameter"]]["groups"]}
        return groups[spec.get("group", OVERALL)][field]
    return stat


def _reverse_km(data, spec, survival):
    reverse = survival["follow_up"]["reverse_km"]
    return reverse["median_months"] if reverse else None


STATISTICS: dict[str, Callable] = {
    "count": _count, "percent": _percent, "median": _quantile(50), "q1": _quantile(25), "q3": _quantile(75),
    "days": _days, "km_median_months": _km("median_months"),
    "km_median_ci_bc_months": _km("median_ci_bc_loglog_months"),
    "km_median_ci_spss_months": _km("median_ci_spss_months"),
    "followup_reverse_km_months": _reverse_km,
}


def _places(precision: float) -> int:
    return max(0, -int(math.floor(math.log10(precision) + 1e-9)))


def _text(value, places: int) -> str:
    if value is None or value == "NR":
        return "NR"
    if isinstance(value, list):
        return ", ".join(_text(v, places) for v in value)
    return f"{value:.{places}f}"


def _equal(derived, published, places: int, tolerance: float) -> bool:
    if published == "NR" or derived is None:
        return published == "NR" and derived is None
    if isinstance(published, list):
        return (isinstance(derived, list) and len(derived) == len(published)
                and all(_equal(d, p, places, tolerance) for d, p in zip(derived, published)))
    return abs(round_half_up(derived, places) - published) <= tolerance + 1e-9


def _source(data: Datasets, derive: dict) -> str:
    if "parameter" in derive or derive.get("statistic", "").startswith(("km_", "followup_")):
        return "ADTTE"
    specs = [derive[k] for k in ("numerator", "denominator") if k in derive] or [derive]
    return " / ".join(dict.fromkeys(data.source(s["dataset"]) for s in specs))


def compare_figure(figure: dict, data: Datasets, survival: dict) -> dict:
    derive = figure["derive"]
    statistic = derive.get("statistic", "count")
    if statistic not in STATISTICS:
        raise PublishedSpecError(f"published.toml: {figure['figure']}: unknown statistic {statistic!r}")
    value = STATISTICS[statistic](data, derive, survival)
    fraction = None
    if statistic == "percent":
        value, fraction = value
    places = _places(figure.get("precision", 1))
    tolerance = figure.get("tolerance", 0)
    published = figure["published"]
    match = _equal(value, published, places, tolerance)
    if "fraction" in figure:
        match = match and fraction is not None and list(fraction) == list(figure["fraction"])
    unit = figure.get("unit", "")
    suffix = "%" if unit == "%" else ""
    derived_value = ([round_half_up(v, places) for v in value] if isinstance(value, list)
                     else round_half_up(value, places) if value is not None else None)
    derived_text = _text(derived_value, places) + suffix
    published_text = _text(published, places) + (suffix if published != "NR" else "")
    if fraction is not None:
        derived_text += f" ({fraction[0]}/{fraction[1]})"
    if "fraction" in figure:
        published_text += f" ({figure['fraction'][0]}/{figure['fraction'][1]})"
    return {"figure": figure["figure"], "published": published, "derived": derived_value,
            "fraction": list(fraction) if fraction else None, "unit": unit,
            "published_text": published_text, "derived_text": derived_text,
            "checked": figure.get("check", True), "match": bool(match), "source": _source(data, derive),
            "note": figure.get("note")}


def load_published(path: Path) -> list[dict]:
    """The figures of ``path``; every filter is parsed here, so a bad one stops before any figure."""
    try:
        with open(path, "rb") as fh:
            figures = tomllib.load(fh).get("figure", [])
    except (tomllib.TOMLDecodeError, RecursionError, UnicodeDecodeError) as exc:
        raise PublishedSpecError(f"{path.name}: not valid TOML ({exc})") from None
    for f in figures:
        missing = {"figure", "published", "derive"} - set(f)
        if missing:
            raise PublishedSpecError(f"{path}: a [[figure]] lacks {', '.join(sorted(missing))}")
        derive = f["derive"] if isinstance(f["derive"], dict) else {}
        for spec in (derive, derive.get("numerator"), derive.get("denominator")):
            if isinstance(spec, dict) and spec.get("filter") is not None:
                try:
                    expr.parse(spec["filter"])
                except expr.ExpressionError as exc:
                    raise PublishedSpecError(f"{path.name}: figure {f['figure']!r}: filter: {exc}") from None
    return figures


def compare_published(path: Path, adam: dict[str, pd.DataFrame], survival: dict,
                      sdtm_dir: Path | None) -> list[dict]:
    data = Datasets(adam, sdtm_dir)
    return [compare_figure(f, data, survival) for f in load_published(path)]
