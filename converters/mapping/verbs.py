"""Named derivation verbs a mapping spec may call (``algorithm = "derive"``), one function each.

A verb runs in one of three phases: ``raw`` (from the raw record, like the other algorithms),
``subject`` (DM, once every other domain is mapped: reference dates, death, presence in a domain)
and ``record`` (every domain, once DM is known: study day, flags, sequence). Each verb's arguments
are a small typed model, checked when the spec is loaded.
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from converters.expr import parse
from converters.mapping.forms import per_distinct, stripped
from converters.mapping.spec import When
from converters.sdtm.derive import date_bounds_series, derive_study_day, sort_rows, to_date

Phase = Literal["raw", "subject", "record"]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def present(col: pd.Series) -> np.ndarray:
    """Rows holding a value (not missing, not blank text)."""
    return (stripped(col) != "").to_numpy()


def holds(frame: pd.DataFrame, cond: When) -> np.ndarray:
    """Rows of ``frame`` where a condition holds: an expression, or a table compared as stripped text."""
    if isinstance(cond, str):
        return parse(cond).evaluate(frame).to_numpy(dtype=bool)
    text = stripped(frame[cond.column])
    if cond.op == "blank":
        return (text == "").to_numpy()
    if cond.op == "not_blank":
        return (text != "").to_numpy()
    if cond.op == "eq":
        return (text == cond.value).to_numpy()
    if cond.op == "ne":
        return (text != cond.value).to_numpy()
    inside = text.isin(cond.value).to_numpy()
    return inside if cond.op == "in" else ~inside


# --- raw phase: from the collected record -----------------------------------------------------------

class VisitArgs(_Args):
    column: str  # the raw column with the collected visit name


def visit_lookup(raw: pd.DataFrame, column: str, visits: dict, attribute: str) -> pd.Series:
    """VISITNUM, VISIT or VISITDY of each record's collected visit name, from the spec's visit map."""
    values = {name: getattr(v, attribute) for name, v in visits.items()}
    return per_distinct(raw[column], lambda n: values.get(str(n).strip()))


class LatestArgs(_Args):
    columns: tuple[str, ...] = Field(min_length=1)  # raw date columns; on a tie the one listed first


def latest_date(dates: pd.DataFrame, args: LatestArgs) -> pd.Series:
    """RFPENDTC and the like: per record the latest of several dates (ISO 8601 text, partial allowed),
    compared by the latest day each can denote; blanks are skipped.

    >>> d = pd.DataFrame({"A": ["2024-11-30", None], "B": ["2024-12", "2021-04-29"]})
    >>> latest_date(d, LatestArgs(columns=("A", "B"))).tolist()
    ['2024-12', '2021-04-29']
    """
    out = dates[args.columns[0]].astype(object).where(present(dates[args.columns[0]]), None)
    _, best = date_bounds_series(out)
    for col in args.columns[1:]:
        value = dates[col].astype(object).where(present(dates[col]), None)
        _, hi = date_bounds_series(value)
        later = (hi.notna() & (best.isna() | (hi > best))).to_numpy()
        out, best = out.where(~later, value), best.where(~later, hi)
    return out.astype(object)


# --- subject phase: DM from the other domains ---------------------------------------------------------

class DatesArgs(_Args):
    of: tuple[str, ...] = Field(min_length=1)  # DOMAIN.VARIABLE, e.g. EX.EXSTDTC
    where: tuple[When, ...] = ()  # on the variables of those domains


def subject_dates(dm: pd.DataFrame, domains: dict[str, pd.DataFrame], args: DatesArgs, last: bool) -> pd.Series:
    """The first (or last) ISO date/time per subject over the named variables, where the conditions hold.

    ISO 8601 text orders as time does within one precision; a date and the same date with a time
    (``2014-07-02`` < ``2014-07-02T11:45``) order as SDTM reads them.
    """
    parts = []
    for ref in args.of:
        domain, var = ref.split(".", 1)
        frame = domains[domain]
        keep = present(frame[var])
        for cond in args.where:
            keep &= holds(frame, cond)
        parts.append(pd.DataFrame({"USUBJID": frame["USUBJID"].to_numpy()[keep],
                                   "DTC": frame[var].astype(str).to_numpy()[keep]}))
    found = pd.concat(parts, ignore_index=True).groupby("USUBJID")["DTC"]
    per_subject = found.max() if last else found.min()
    return dm["USUBJID"].map(per_subject).astype(object)


def first_date(dm, domains, args: DatesArgs) -> pd.Series:
    """RFSTDTC, RFXSTDTC: the earliest of the named dates (e.g. first exposure start)."""
    return subject_dates(dm, domains, args, last=False)


def last_date(dm, domains, args: DatesArgs) -> pd.Series:
    """RFXENDTC, RFENDTC, RFPENDTC: the latest of the named dates (last exposure, disposition, contact)."""
    return subject_dates(dm, domains, args, last=True)


class CollectedDateArgs(_Args):
    form: str
    column: str


def collected_date(dm, raw_dates: pd.DataFrame) -> pd.Series:
    """DTHDTC and the like: a subject's date collected on another form (first non-blank), as ISO 8601."""
    got = raw_dates[present(raw_dates["DTC"])].groupby("USUBJID")["DTC"].min()
    return dm["USUBJID"].map(got).astype(object)


class HasRecordsArgs(_Args):
    domain: str


def has_records(dm, domains, args: HasRecordsArgs) -> pd.Series:
    """"Y" for subjects with at least one record in a domain (e.g. treated: a record in EX)."""
    ids = set(domains[args.domain]["USUBJID"])
    return pd.Series(np.where(dm["USUBJID"].isin(ids), "Y", None), index=dm.index, dtype=object)


class LookupArgs(_Args):
    domain: str
    key: str  # a template over the domain's variables: "{EXTRT} {EXDOSE} {EXDOSU}" (numbers as 1, 2.5)
    values: dict[str, str] = {}  # key -> the subject's value ("" for none)
    unmatched: str | None = None  # a template for a key not in ``values``; none when not given
    where: tuple[When, ...] = ()
    order: tuple[str, ...] = ()  # the first record in this order counts (ACTARMCD from the first dose)


def _number_or_text(value) -> str:
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value).strip()
    try:
        return f"{float(text):g}"
    except ValueError:
        return text


def _filled(template: str, frame: pd.DataFrame) -> pd.Series:
    out = pd.Series([""] * len(frame), index=frame.index, dtype=object)
    for literal, name, _, _ in string.Formatter().parse(template):
        out = out + literal
        if name:
            out = out + per_distinct(frame[name], _number_or_text, "")
    return out


def first_record_lookup(dm: pd.DataFrame, domains: dict[str, pd.DataFrame], args: LookupArgs) -> pd.Series:
    """ACTARMCD, ACTARM, ACTARMUD: a value looked up by a key of each subject's first record in a domain
    (e.g. the arm of the investigational dose actually given); none for a subject without such a record."""
    frame = domains[args.domain]
    keep = np.ones(len(frame), dtype=bool)
    for cond in args.where:
        keep &= holds(frame, cond)
    first = sort_rows(frame[keep], ["USUBJID", *args.order]).drop_duplicates("USUBJID")
    keys = _filled(args.key, first)
    values = pd.Series([args.values.get(k) for k in keys], index=keys.index, dtype=object)  # one per subject
    if args.unmatched is not None:
        values = values.where(keys.isin(list(args.values)), _filled(args.unmatched, first))
    values = values.where(values.notna() & (values != ""), None)
    return per_distinct(dm["USUBJID"], dict(zip(first["USUBJID"].astype(str), values)).get)


# --- record phase: once DM is known -------------------------------------------------------------------

class VariableArgs(_Args):
    variable: str


def flag_if_present(frame: pd.DataFrame, args: VariableArgs) -> pd.Series:
    """DTHFL: "Y" where another variable of the record is filled (DTHDTC), else null."""
    return pd.Series(np.where(present(frame[args.variable]), "Y", None), index=frame.index, dtype=object)


class StudyDayArgs(_Args):
    date: str


def study_day(frame: pd.DataFrame, args: StudyDayArgs) -> pd.Series:
    """--DY of a date against the subject's RFSTDTC (SDTMIG 3.4 4.4.4, no day 0)."""
    return derive_study_day(frame, args.date, "__DY")["__DY"]


class EmergentArgs(_Args):
    date: str
    reference: str = "RFXSTDTC"


def treatment_emergent(frame: pd.DataFrame, args: EmergentArgs) -> pd.Series:
    """"Y" when the event may start on or after the first treatment (the latest day a partial start
    date can denote, ``2014-03`` -> 2014-03-31, is not before it), else "N" (also when either date is
    unknown: emergence is not shown).

    >>> f = pd.DataFrame({"AESTDTC": ["2014-03", "2013", None], "RFXSTDTC": ["2014-01-11"] * 3})
    >>> treatment_emergent(f, EmergentArgs(date="AESTDTC")).tolist()
    ['Y', 'N', 'N']
    """
    _, latest = date_bounds_series(frame[args.date].astype(object))
    emergent = (latest >= to_date(frame[args.reference])).to_numpy()
    return pd.Series(np.where(emergent, "Y", "N"), index=frame.index, dtype=object)


class BaselineArgs(_Args):
    date: str
    result: str
    by: tuple[str, ...] = ()
    where: tuple[When, ...] = ()  # only these records are candidates (e.g. the baseline visit)


def baseline_flag(frame: pd.DataFrame, args: BaselineArgs) -> pd.Series:
    """--BLFL: "Y" on the last record with a result dated on or before RFSTDTC, per subject and ``by``,
    among the records where the ``where`` conditions hold."""
    day = to_date(frame[args.date])
    ok = (present(frame[args.result]) & (day <= to_date(frame["RFSTDTC"])).to_numpy())
    for cond in args.where:
        ok &= holds(frame, cond)
    keys = ["USUBJID", *args.by]
    work = pd.DataFrame({**{k: frame[k].to_numpy() for k in keys}, "day": day.to_numpy(), "pos": np.arange(len(frame))})
    work = work[ok]
    last = work.sort_values(["day", "pos"], kind="mergesort").groupby(keys, dropna=False, observed=True)["pos"].last()
    out = np.full(len(frame), None, dtype=object)
    out[last.to_numpy()] = "Y"
    return pd.Series(out, index=frame.index, dtype=object)


class ValueWhereArgs(_Args):
    variable: str
    where: tuple[When, ...] = Field(min_length=1)


def value_where(frame: pd.DataFrame, args: ValueWhereArgs) -> pd.Series:
    """Another variable's value where every condition holds, else null (RFENDTC only for the treated)."""
    keep = np.ones(len(frame), dtype=bool)
    for cond in args.where:
        keep &= holds(frame, cond)
    return pd.Series(np.where(keep, frame[args.variable].astype(object), None), index=frame.index, dtype=object)


class CaseArgs(_Args):
    class Case(_Args):
        when: When
        value: str

    cases: tuple[Case, ...] = Field(min_length=1)


def case_when(frame: pd.DataFrame, args: CaseArgs) -> pd.Series:
    """The value of the first case whose condition holds on the mapped record (ARMNRS from ARMCD and
    ACTARMCD), else null."""
    out = np.full(len(frame), None, dtype=object)
    decided = np.zeros(len(frame), dtype=bool)
    for case in args.cases:
        hit = holds(frame, case.when) & ~decided
        out[hit] = case.value
        decided |= hit
    return pd.Series(out, index=frame.index, dtype=object)


class EpochArgs(_Args):
    class Boundary(_Args):
        variable: str  # a reference date of the subject (RFXSTDTC, RFSTDTC)
        epoch: str
        after: bool = False  # the epoch begins the day after the reference date, not on it

    date: str
    first: str  # the epoch before the first boundary
    boundaries: tuple[Boundary, ...] = Field(min_length=1)


def epoch(frame: pd.DataFrame, args: EpochArgs) -> pd.Series:
    """EPOCH of a record from its date and the subject's reference dates, boundaries in order; an
    unknown boundary ends the progression. A partial date gets an epoch only when every day it can
    denote falls in the same one (SDTMIG 3.4 4.1.3.1: EPOCH is not imputed).

    >>> f = pd.DataFrame({"D": ["2021-05-01", "2021-05-10", "2021-05-20", "2021-05"],
    ...                   "A": ["2021-05-09"] * 4, "B": ["2021-05-14"] * 4})
    >>> epoch(f, EpochArgs(date="D", first="SCREENING", boundaries=[{"variable": "A", "epoch": "TREATMENT"},
    ...       {"variable": "B", "epoch": "FOLLOW-UP", "after": True}])).tolist()
    ['SCREENING', 'TREATMENT', 'FOLLOW-UP', None]
    """
    names = [args.first, *(b.epoch for b in args.boundaries)]
    starts = [to_date(frame[b.variable].astype(object)) + pd.Timedelta(days=int(b.after)) for b in args.boundaries]

    def index_at(day: pd.Series) -> np.ndarray:
        at = np.zeros(len(frame), dtype=np.int64)
        going = np.ones(len(frame), dtype=bool)
        for i, start in enumerate(starts, start=1):
            going &= (start.notna() & (day >= start)).to_numpy()
            at[going] = i
        return np.where(day.isna().to_numpy(), -1, at)

    lo, hi = date_bounds_series(frame[args.date].astype(object))
    first, last = index_at(lo), index_at(hi)
    codes = np.where(first == last, first, -1)
    return pd.Series(np.append(np.array(names, dtype=object), None)[codes], index=frame.index, dtype=object)


class SeqArgs(_Args):
    order: tuple[str, ...] = ()


def sequence_number(frame: pd.DataFrame, order: list[str], out: str) -> pd.DataFrame:
    """--SEQ: the records sorted by USUBJID then ``order`` (stable), numbered 1, 2, ... per subject."""
    result = sort_rows(frame, ["USUBJID", *order])
    result[out] = (result.groupby("USUBJID", sort=False, observed=True).cumcount() + 1).astype("float64")
    return result


@dataclass(frozen=True)
class Verb:
    phase: Phase
    args: type[_Args]
    fn: Callable
    what: str  # one line for the plan


VERBS: dict[str, Verb] = {
    "visitnum": Verb("raw", VisitArgs, visit_lookup, "VISITNUM from the visit map"),
    "visit": Verb("raw", VisitArgs, visit_lookup, "VISIT from the visit map"),
    "visitdy": Verb("raw", VisitArgs, visit_lookup, "VISITDY (planned study day) from the visit map"),
    "first_date": Verb("subject", DatesArgs, first_date, "earliest of the named dates per subject"),
    "last_date": Verb("subject", DatesArgs, last_date, "latest of the named dates per subject"),
    "collected_date": Verb("subject", CollectedDateArgs, collected_date, "a date collected on another form"),
    "has_records": Verb("subject", HasRecordsArgs, has_records, "Y when the subject has records in a domain"),
    "flag_if_present": Verb("record", VariableArgs, flag_if_present, "Y where another variable is filled"),
    "study_day": Verb("record", StudyDayArgs, study_day, "study day against RFSTDTC"),
    "treatment_emergent": Verb("record", EmergentArgs, treatment_emergent, "Y on or after first treatment, else N"),
    "baseline_flag": Verb("record", BaselineArgs, baseline_flag, "Y on the last result on or before RFSTDTC"),
    "seq": Verb("record", SeqArgs, sequence_number, "1, 2, ... per subject in the given order"),
    "latest_date": Verb("raw", LatestArgs, latest_date, "the latest of several collected dates"),
    "first_record_lookup": Verb("subject", LookupArgs, first_record_lookup,
                                "a value looked up by the subject's first record in a domain"),
    "value_where": Verb("record", ValueWhereArgs, value_where, "another variable's value where conditions hold"),
    "case_when": Verb("record", CaseArgs, case_when, "the value of the first condition that holds"),
    "epoch": Verb("record", EpochArgs, epoch, "EPOCH from the date and the subject's reference dates"),
}
