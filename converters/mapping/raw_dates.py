"""Raw EDC date/time text in a declared layout -> ISO 8601 as SDTM keeps it (sdtm.oak's assign_datetime).

SDTMIG 3.4 section 4.4.2: a date keeps the precision it was collected with; unknown trailing parts
are right-truncated (``2014-03``, ``2014``), an unknown month before a known day is written with a
hyphen (``2014---15``), and nothing is imputed. The ISO side (building and checking the result) is
``schemas.dates``, the one ISO 8601 parser of the project.

Unknown parts may be written ``UN``, ``UNK``, ``UK``, ``--``, ``-`` or left blank (any case).
A column may declare several layouts. A value must then read the same under every layout it fits:
``03/04/2014`` under both ``mm/dd/yyyy`` and ``dd/mm/yyyy`` is reported as ambiguous instead of
taking the first layout, because a wrong day-month swap gives a valid but false date; ``13/04/2014``
fits only ``dd/mm/yyyy`` (month 13 does not exist) and is read that way.

A separate time column is joined only to a complete date. With a partial date the time is not kept
(a warning says so): a time of day places an instant inside a known day, right truncation keeps the
largest known components (SDTMIG 3.4 section 4.4.2), and ``schemas.dates.format_partial`` writes a
time only after a complete date. A time with unknown minutes is not kept either, for the same reason
(the project's ISO form of a time has hours and minutes).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from converters.problems import ERROR, WARNING
from schemas.dates import ISO_PARTIAL, format_partial, parse_partial

from .result import Fault, Mapped, findings_at

DATE_FORMAT = "MAP-DATE-FORMAT"  # the value fits none of the declared layouts
DATE_CALENDAR = "MAP-DATE-CALENDAR"  # it fits, but is no calendar date (31/02/2021, month 13)
DATE_AMBIGUOUS = "MAP-DATE-AMBIGUOUS"  # it fits several layouts that read it differently
DATE_YEAR_UNKNOWN = "MAP-DATE-YEAR-UNKNOWN"  # month or day known without the year: not representable
TIME_FORMAT = "MAP-TIME-FORMAT"
TIME_INVALID = "MAP-TIME-INVALID"  # 25:00, 10:61
TIME_NO_DATE = "MAP-TIME-NO-DATE"
TIME_NOT_KEPT = "MAP-TIME-NOT-KEPT"  # warning: a partial date or a time without minutes

_UNKNOWN = r"UNK|UN|UK|----|--|-|"  # a blank component is unknown too (last alternative)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_PARTS = {
    "yyyy": r"(?P<y>[0-9]{4}|%s)" % _UNKNOWN,
    "mm": r"(?P<m>[0-9]{1,2}|%s)" % _UNKNOWN,
    "dd": r"(?P<d>[0-9]{1,2}|%s)" % _UNKNOWN,
    "MMM": r"(?P<m>%s|%s)" % ("|".join(_MONTHS), _UNKNOWN),
    "HH": r"(?P<H>[0-9]{1,2}|%s)" % _UNKNOWN,
    "nn": r"(?P<M>[0-9]{2}|%s)" % _UNKNOWN,
    "ss": r"(?P<S>[0-9]{2}|%s)" % _UNKNOWN,
}
# Declared layout -> its components and separators. yyyy-mm-dd also takes ISO partial dates as they
# are (2014, 2014-03, 2014---15) and two-digit month and day only, as ISO 8601 writes them.
DATE_LAYOUTS: dict[str, tuple[str, ...]] = {
    "yyyy-mm-dd": ("yyyy", "-", "mm", "-", "dd"),
    "mm/dd/yyyy": ("mm", "/", "dd", "/", "yyyy"),
    "dd/mm/yyyy": ("dd", "/", "mm", "/", "yyyy"),
    "mm-dd-yyyy": ("mm", "-", "dd", "-", "yyyy"),
    "mm/yyyy": ("mm", "/", "yyyy"),
    "yyyy": ("yyyy",),
    "dd-MMM-yyyy": ("dd", "-", "MMM", "-", "yyyy"),
    "ddMMMyyyy": ("dd", "MMM", "yyyy"),
    "dd MMM yyyy": ("dd", " ", "MMM", " ", "yyyy"),
}
TIME_LAYOUTS: dict[str, tuple[str, ...]] = {
    "HH:nn": ("HH", ":", "nn"),
    "HH:nn:ss": ("HH", ":", "nn", ":", "ss"),
}


def _compile(layout: tuple[str, ...], iso: bool) -> re.Pattern:
    parts = []
    for token in layout:
        if token in _PARTS:
            parts.append(_PARTS[token].replace("[0-9]{1,2}", "[0-9]{2}") if iso else _PARTS[token])
        else:
            parts.append(" +" if token == " " else re.escape(token))
    return re.compile("".join(parts) + r"\Z", re.IGNORECASE)


_PATTERNS = {name: _compile(layout, name == "yyyy-mm-dd") for name, layout in {**DATE_LAYOUTS, **TIME_LAYOUTS}.items()}


def _declared(names: str | Iterable[str], allowed: dict[str, tuple[str, ...]], what: str) -> tuple[str, ...]:
    names = (names,) if isinstance(names, str) else tuple(names)
    if not names:
        raise ValueError(f"no {what} format declared (allowed: {', '.join(allowed)})")
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ValueError(f"unknown {what} format {', '.join(map(repr, unknown))} (allowed: {', '.join(allowed)})")
    if len(set(names)) < len(names):
        raise ValueError(f"{what} format declared twice: {', '.join(names)}")
    return names


def date_formats(names: str | Iterable[str]) -> tuple[str, ...]:
    """Declared raw date layouts, checked: ValueError names the allowed ones.

    >>> date_formats(["dd-MMM-yyyy", "yyyy"])
    ('dd-MMM-yyyy', 'yyyy')
    """
    return _declared(names, DATE_LAYOUTS, "date")


def time_formats(names: str | Iterable[str]) -> tuple[str, ...]:
    """Declared raw time layouts (``HH:nn``, ``HH:nn:ss``), checked like date_formats."""
    return _declared(names, TIME_LAYOUTS, "time")


class _Unmappable(ValueError):
    def __init__(self, rule: str, message: str, severity: str = ERROR):
        super().__init__(message)
        self.rule, self.severity = rule, severity


def _known(text: str | None) -> int | None:
    """A component as a number, or None when unknown; month names become numbers."""
    if text is None or not text.strip("-") or text.upper() in ("UN", "UNK", "UK"):
        return None
    return _MONTHS.index(text.upper()) + 1 if text.isalpha() else int(text)


def _iso_of(y: int | None, m: int | None, d: int | None) -> str:
    """Components -> ISO 8601 text, checked by the project's parser; "" when nothing is known."""
    if y is None:
        if m is not None or d is not None:
            raise _Unmappable(DATE_YEAR_UNKNOWN, "the year is unknown but the month or day is known, and an "
                                                 "SDTM date keeps its components from the year down")
        return ""
    iso = format_partial({"year": y, "month": m, "day": d, "hour": None, "minute": None, "second": None})
    _check(iso)
    return iso


def _check(iso: str) -> None:
    try:
        parse_partial(iso)
    except ValueError as exc:  # its message starts with the value: "'2021-02-31': ..."
        raise _Unmappable(DATE_CALENDAR, str(exc).split(": ", 1)[-1]) from None


def _read(text: str, layout: str) -> str | None:
    """The ISO date a value reads as under one layout; None if it does not fit; _Unmappable if impossible."""
    if layout == "yyyy-mm-dd":
        iso = ISO_PARTIAL.match(text)
        if iso and iso["H"] is None:
            _check(text)
            return text
    m = _PATTERNS[layout].match(text)
    if m is None and layout == "dd MMM yyyy":  # a blank day's separator went with the stripped spaces
        m = _PATTERNS[layout].match(" " + text)
    if m is None:
        return None
    return _iso_of(_known(m.groupdict().get("y")), _known(m.groupdict().get("m")), _known(m.groupdict().get("d")))


def _date(text: str, layouts: tuple[str, ...]) -> str:
    """One raw date -> ISO 8601 under the declared layouts; _Unmappable says why not."""
    readings: dict[str, list[str]] = {}
    impossible: list[_Unmappable] = []
    for layout in layouts:
        try:
            iso = _read(text, layout)
        except _Unmappable as exc:
            impossible.append(_Unmappable(exc.rule, f"read as {layout}, {exc}"))
            continue
        if iso is not None:
            readings.setdefault(iso, []).append(layout)
    if len(readings) == 1:
        return next(iter(readings))
    if readings:
        ways = "; ".join(f"{iso or 'unknown'} as {' or '.join(ls)}" for iso, ls in readings.items())
        raise _Unmappable(DATE_AMBIGUOUS, f"reads differently under the declared formats ({ways})")
    if impossible:
        raise impossible[0]
    raise _Unmappable(DATE_FORMAT, f"does not match the declared date format {' or '.join(layouts)}")


def _time(text: str, layouts: tuple[str, ...]) -> str:
    """One raw time -> "hh:mm[:ss]"; "" when unknown; _Unmappable (error, or warning if not kept)."""
    m = next((m for m in (_PATTERNS[name].match(text) for name in layouts) if m), None)
    if m is None:
        raise _Unmappable(TIME_FORMAT, f"does not match the declared time format {' or '.join(layouts)}")
    h, mi, s = (_known(m.groupdict().get(k)) for k in ("H", "M", "S"))
    if h is None and mi is None and s is None:
        return ""
    if (h is not None and h > 23) or (mi is not None and mi > 59) or (s is not None and s > 59):
        raise _Unmappable(TIME_INVALID, "not a time of day (hours 00-23, minutes and seconds 00-59)")
    if h is None or mi is None:
        raise _Unmappable(TIME_NOT_KEPT, "time not kept: hour and minute must both be known", WARNING)
    return f"{h:02d}:{mi:02d}" + (f":{s:02d}" if s is not None else "")


def _codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Distinct values (stripped text, "" for missing) and each row's index into them."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    return codes + 1, [""] + ["" if v is None else str(v).strip() for v in uniques]


def _each(texts: list[str], read) -> tuple[list[str], dict[int, list[Fault]]]:
    """``read`` applied to each distinct text ("" stays ""), and the faults of those it refused."""
    out, faults = [], {}
    for code, text in enumerate(texts):
        try:
            out.append(read(text) if text else "")
        except _Unmappable as exc:
            out.append("")
            faults[code] = [(text, exc.rule, str(exc), exc.severity)]
    return out, faults


def _flags(items: list, test) -> np.ndarray:
    return np.fromiter((bool(test(x)) for x in items), dtype=bool, count=len(items))


def assign_datetime(dates: pd.Series, date_format: str | Iterable[str], times: pd.Series | None = None,
                    time_format: str | Iterable[str] | None = None) -> Mapped:
    """Raw dates (and optionally a time column of the same rows) -> ISO 8601 text, one per row.

    Each distinct value is read once. Rows whose value does not map get "" and a finding (rule,
    message, severity); blank and all-unknown values are "not collected" and map to "" silently.

    >>> r = assign_datetime(pd.Series(["14MAY2021", "UNMAR2014", "UNKUNK2014", "31FEB2021"]), "ddMMMyyyy")
    >>> list(r.values), [(f.position, f.rule) for f in r.findings]
    (['2021-05-14', '2014-03', '2014', ''], [(3, 'MAP-DATE-CALENDAR')])
    >>> r = assign_datetime(pd.Series(["04/09/2021", "03/2021"]), ["mm/dd/yyyy", "mm/yyyy"],
    ...                     pd.Series(["14:30", "09:00"]), "HH:nn")
    >>> list(r.values), [f.rule for f in r.findings]
    (['2021-04-09T14:30', '2021-03'], ['MAP-TIME-NOT-KEPT'])
    """
    layouts = date_formats(date_format)
    if times is None and time_format is not None:
        raise ValueError("a time format is declared but no time column is given")
    if times is not None and time_format is None:
        raise ValueError(f"a time column needs its declared time format (allowed: {', '.join(TIME_LAYOUTS)})")
    tlayouts = time_formats(time_format) if times is not None else ()
    if times is not None and len(times) != len(dates):
        raise ValueError(f"date and time columns differ in length ({len(dates)} and {len(times)})")
    dfield = str(dates.name or "")
    dcodes, dtexts = _codes(dates)
    iso, dfaults = _each(dtexts, lru_cache(maxsize=None)(lambda text: _date(text, layouts)))
    values = np.asarray(iso, dtype=object)[dcodes]
    findings = list(findings_at(dcodes, dfaults, dfield))
    if times is not None:
        findings += _with_times(values, dcodes, iso, dfaults, times, tlayouts)
    findings.sort(key=lambda f: f.position)  # stable: a row's date finding before its time findings
    return Mapped(pd.Series(values, index=dates.index, dtype=object), tuple(findings))


def _with_times(values: np.ndarray, dcodes: np.ndarray, iso: list[str], dfaults: dict, times: pd.Series,
                tlayouts: tuple[str, ...]) -> list:
    """Join the times to the dates in ``values`` (in place); the findings about the times."""
    tfield = str(times.name or "")
    tcodes, ttexts = _codes(times)
    clock, tfaults = _each(ttexts, lambda text: _time(text, tlayouts))
    found = list(findings_at(tcodes, tfaults, tfield))
    d_bad = np.isin(dcodes, np.fromiter(dfaults, dtype=np.int64, count=len(dfaults)))
    t_bad = _flags(range(len(ttexts)), lambda c: any(f[3] == ERROR for f in tfaults.get(c, ())))[tcodes]
    timed = _flags(clock, bool)[tcodes]
    undated = timed & ~d_bad & _flags(iso, lambda v: not v)[dcodes]
    partial = timed & ~d_bad & ~t_bad & ~undated & ~_flags(iso, _complete)[dcodes]
    found += _row_faults(tcodes, undated, ttexts, tfield, TIME_NO_DATE, "a time without a date", ERROR)
    found += _row_faults(tcodes, partial, ttexts, tfield, TIME_NOT_KEPT,
                         "time not kept: the date is partial (SDTMIG 3.4 4.4.2: right-truncated)", WARNING)
    values[t_bad | undated] = ""
    join = timed & ~d_bad & ~t_bad & ~undated & ~partial
    if join.any():  # vectorised text join: a million rows can have as many distinct date-time pairs
        joined = pc.binary_join_element_wise(pa.array(iso).take(dcodes[join]), pa.array(clock).take(tcodes[join]), "T")
        values[join] = joined.to_numpy(zero_copy_only=False)
    return found


def _row_faults(codes: np.ndarray, rows: np.ndarray, texts: list[str], field: str, rule: str, message: str,
                severity: str) -> tuple:
    hit = np.unique(codes[rows])
    return findings_at(np.where(rows, codes, -1), {int(c): [(texts[c], rule, message, severity)] for c in hit}, field)


def _complete(iso: str) -> bool:
    return len(iso) == 10 and "--" not in iso
