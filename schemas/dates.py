"""ISO 8601 dates as SDTM keeps them: complete or right-truncated (partial), never imputed.

SDTMIG 3.4 section 4.4.2: a partial date is kept by omitting the unknown trailing components
("2021-04", "2021"); a missing middle component is written with a hyphen ("2021---15").
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

# YYYY[-MM[-DD[Thh:mm[:ss]]]]; also the hyphen form for an unknown month "YYYY---DD".
# ASCII digits only: \d would also accept fullwidth and other Unicode digits.
ISO_PARTIAL = re.compile(
    r"^(?P<y>[0-9]{4})"
    r"(?:-(?P<m>[0-9]{2}|-)"
    r"(?:-(?P<d>[0-9]{2})"
    r"(?:T(?P<H>[0-9]{2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?)?)?)?\Z"
)


def parse_partial(value: str) -> dict[str, int | None]:
    """Split an ISO 8601 (possibly partial) date into components; raise ValueError if impossible.

    >>> parse_partial("2021-04")
    {'year': 2021, 'month': 4, 'day': None, 'hour': None, 'minute': None, 'second': None}
    """
    m = ISO_PARTIAL.match(value)
    if not m:
        raise ValueError(f"'{value}' is not an ISO 8601 date (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss])")
    if m["m"] == "-" and not m["d"]:
        raise ValueError(f"'{value}': '-' stands for an unknown month only before a known day (YYYY---DD)")
    if m["y"] == "0000":  # ISO 8601 year 0000 (1 BC) is no calendar year a study date can have
        raise ValueError(f"'{value}': year 0000 is not a calendar year")
    month = None if m["m"] in (None, "-") else int(m["m"])
    parts = {
        "year": int(m["y"]),
        "month": month,
        "day": int(m["d"]) if m["d"] else None,
        "hour": int(m["H"]) if m["H"] else None,
        "minute": int(m["M"]) if m["M"] else None,
        "second": int(m["S"]) if m["S"] else None,
    }
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"'{value}': month {month} does not exist")
    if parts["day"] is not None:
        if month is None:
            if not 1 <= parts["day"] <= 31:
                raise ValueError(f"'{value}': day {parts['day']} does not exist")
        else:
            try:
                dt.date(parts["year"], month, parts["day"])
            except ValueError:
                raise ValueError(f"'{value}': {parts['year']}-{month:02d}-{parts['day']:02d} is not a calendar date") from None
    if parts["hour"] is not None and (parts["hour"] > 23 or parts["minute"] > 59 or (parts["second"] or 0) > 59):
        raise ValueError(f"'{value}': time of day out of range")
    return parts


def format_partial(parts: dict[str, int | None]) -> str:
    """Inverse of parse_partial: components back to the ISO 8601 text."""
    out = f"{parts['year']:04d}"
    if parts["month"] is None and parts["day"] is None:
        return out
    out += "-" + (f"{parts['month']:02d}" if parts["month"] is not None else "-")
    if parts["day"] is None:
        return out
    out += f"-{parts['day']:02d}"
    if parts["hour"] is not None:
        out += f"T{parts['hour']:02d}:{parts['minute']:02d}"
        if parts["second"] is not None:
            out += f":{parts['second']:02d}"
    return out


def complete_date(value: str | None) -> dt.date | None:
    """The calendar date of an ISO 8601 value when year, month and day are all known, else None."""
    if not value or len(value) < 10 or value[4:7] == "--" or value[5:7] == "--":
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _parse_or_raise(value: str) -> dict[str, int | None]:
    try:
        return parse_partial(value)
    except ValueError as exc:
        raise PydanticCustomError("iso8601", str(exc)) from None


def _check_partial(value: str) -> str:
    _parse_or_raise(value)
    return value


def _check_full(value: str) -> str:
    parts = _parse_or_raise(value)
    if parts["day"] is None or parts["month"] is None:
        raise PydanticCustomError("iso8601_complete", "'{value}' must be a complete date (YYYY-MM-DD)", {"value": value})
    return value


IsoPartialDate = Annotated[str, AfterValidator(_check_partial)]
"""An ISO 8601 date that may be partial: 2021, 2021-04, 2021-04-09, 2021-04-09T10:30."""

IsoFullDate = Annotated[str, AfterValidator(_check_full)]
"""An ISO 8601 date known to the day (a time part is allowed)."""


def date_bounds(value: str | None) -> tuple[dt.date, dt.date] | None:
    """Earliest and latest calendar day an ISO 8601 (possibly partial) date can denote; None if empty.

    >>> date_bounds("2021-02")
    (datetime.date(2021, 2, 1), datetime.date(2021, 2, 28))
    """
    if not value:
        return None
    p = parse_partial(value)
    y, m, d = p["year"], p["month"], p["day"]
    if m is None:
        if d is None:
            return dt.date(y, 1, 1), dt.date(y, 12, 31)
        return dt.date(y, 1, d), dt.date(y, 12, d)  # unknown month, known day: bound by the year
    if d is None:
        return dt.date(y, m, 1), dt.date(y, m, calendar.monthrange(y, m)[1])
    day = dt.date(y, m, d)
    return day, day
