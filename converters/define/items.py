"""Variable-level facts derived from the spec plus the data: data type, length, origin, codelist terms."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from specs import Codelist, Term

# ISO 8601 shapes (SDTMIG 3.4 section 4.4.1); Define-XML 2.1 section 5.3.11.1 types per shape
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FULL_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$")
_SAS_DATE_FORMATS = ("DATE", "YYMMDD", "E8601DA", "IS8601DA")
_SAS_DATETIME_FORMATS = ("DATETIME", "E8601DT", "IS8601DT")

# Origin Source per Define-XML 2.1 section 5.3.11.2: who made the value
_ORIGIN_SOURCE = {"Collected": "Investigator", "Derived": "Sponsor", "Assigned": "Sponsor", "Protocol": "Sponsor"}


@dataclass(frozen=True)
class DataType:
    name: str  # Define-XML DataType
    length: int | None  # Define Length, None where the spec forbids it (ISO 8601 types)
    significant_digits: int | None = None


def iso8601_type(values: pd.Series, duration: bool = False) -> str:
    """The Define DataType of an ISO 8601 text column, from the shapes that actually occur."""
    if duration:
        return "durationDatetime"
    vals = [str(v) for v in values]
    if any("T" in v for v in vals):
        return "datetime" if all(_FULL_DATETIME.match(v) for v in vals) else "partialDatetime"
    return "date" if all(_FULL_DATE.match(v) for v in vals) else "partialDate"


def is_iso8601_variable(name: str) -> bool:
    """--DTC dates and --DUR durations are ISO 8601 text in SDTM (SDTMIG 3.4 section 4.4)."""
    return name.endswith("DTC") or name.endswith("DUR")


def _positional(v: float) -> str:
    return np.format_float_positional(v, unique=True, trim="-")


def numeric_type(values: pd.Series, display_format: str = "") -> DataType:
    """integer when every value is whole, else float with the digits the data needs.

    Length is the number of digits shown (Define-XML 2.1 section 5.3.11.1), not the 8 storage bytes.
    """
    vals = [float(v) for v in values]
    if not vals:
        return DataType("integer", 8)
    texts = [_positional(abs(v)) for v in vals]
    decimals = max((len(t.split(".")[1]) if "." in t else 0) for t in texts)
    whole = max(len(t.split(".")[0]) for t in texts)
    if decimals == 0:
        return DataType("integer", whole)
    return DataType("float", whole + decimals, decimals)


def is_sas_date_format(fmt: str) -> bool:
    up = fmt.upper()
    return any(up.startswith(p) for p in _SAS_DATE_FORMATS + _SAS_DATETIME_FORMATS) or up.startswith("TIME")


def item_type(name: str, is_char: bool, values: pd.Series, width: int, display_format: str = "") -> DataType:
    if is_char:
        if is_iso8601_variable(name):
            return DataType(iso8601_type(values, duration=name.endswith("DUR")), None)
        return DataType("text", width)
    dt = numeric_type(values, display_format)
    if display_format and is_sas_date_format(display_format):
        # SAS dates/times are integer day/second counts shown through the format (ADaMIG 1.3 section 3.1.4)
        return DataType("integer", dt.length)
    return dt


def text_length(values: pd.Series) -> int:
    """Longest value in bytes (FDA TCG 4.1.5.2: lengths fit the data)."""
    return max((len(str(v).encode("utf-8")) for v in values), default=1)


def origin(kind: str) -> tuple[str, str | None]:
    """(def:Origin Type, Source); Predecessor has no Source, its description names the variable."""
    if kind == "Predecessor":
        return kind, None
    return kind, _ORIGIN_SOURCE.get(kind)


@dataclass(frozen=True)
class ListedTerm:
    term: Term
    extended: bool  # def:ExtendedValue: sponsor value added to an extensible CDISC list


def listed_terms(cl: Codelist, used: set[str]) -> list[ListedTerm]:
    """The terms a define lists for a codelist.

    CDISC lists: the terms the data uses, plus the used values that extend an extensible list.
    Sponsor-defined lists are the study's own answer sets and are listed whole. A list the data does
    not use at all is listed whole so the reference stays meaningful. Values outside a non-extensible
    list are not invented here: they are conformance errors reported on the data.
    """
    if cl.sponsor or not used:
        return [ListedTerm(t, False) for t in cl.terms]
    out = [ListedTerm(t, not t.code and bool(cl.code)) for t in cl.terms if t.value in used]
    if cl.extensible:
        known = cl.values()
        out += [ListedTerm(Term(v, "", v), True) for v in sorted(used - known)]
    return out


def needs_decode(terms: list[ListedTerm]) -> bool:
    """CodeListItem+Decode when any decode says more than the value, else EnumeratedItem."""
    return any(t.term.decode and t.term.decode != t.term.value for t in terms)
