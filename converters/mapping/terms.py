"""Collected values -> CDISC controlled terminology submission values (sdtm.oak's assign_ct).

A collected value resolves, in this order, to the first of:

1. a submission value of the codelist, exactly as written (``F``, ``mg``);
2. the study's term map (collected value -> submission value), exactly, then ignoring case and spacing;
3. ignoring case and spacing: a submission value (``Transdermal`` -> ``TRANSDERMAL``), a CDISC
   synonym (``Daily`` -> ``QD``), the NCI preferred term or decode (``Milligram`` -> ``mg``).

Within a step, a value that matches two different terms (``pa`` in UNIT: ``PA`` or ``Pa``) is ambiguous
and reported, never guessed. A value that resolves nowhere is reported with the codelist and its
closest terms; it is kept as collected only when the spec allows sponsor terms in an extensible
codelist (SDTMIG 3.4 section 4.3: sponsors may extend extensible codelists).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

import specs
from converters.problems import ERROR

from .result import Mapped, findings_at

CT_UNRESOLVED = "MAP-CT-UNRESOLVED"
CT_AMBIGUOUS = "MAP-CT-AMBIGUOUS"
SUGGESTED = 3  # closest terms named in a message
SUGGEST_AT_MOST = 200  # distinct unresolved values that get suggestions (each search is a scan of the list)
LIST_ALL_UP_TO = 12  # a codelist this small is named in full when nothing is close


def find_codelist(name_or_code: str) -> specs.Codelist:
    """A codelist of the specs in force by its short name or its NCI C-code.

    >>> find_codelist("C66731").name, find_codelist("SEX").code
    ('SEX', 'C66731')
    """
    every = specs.codelists()
    if name_or_code in every:
        return every[name_or_code]
    found = next((cl for cl in every.values() if cl.code and cl.code == name_or_code), None)
    if found is None:
        raise KeyError(f"codelist {name_or_code} is not in specs/ct (by short name or C-code)")
    return found


def normalized(text: str) -> str:
    """The key values are compared by when case and spacing are ignored.

    >>> normalized("  Not  Hispanic or LATINO ")
    'not hispanic or latino'
    """
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class TermLookup:
    """A codelist ready for resolving values: its keys per step, and the study's term map."""

    codelist: specs.Codelist
    term_map: Mapping[str, str]  # stripped collected value -> submission value
    term_map_keys: Mapping[str, str]  # normalized collected value -> submission value
    steps: tuple[Mapping[str, frozenset[str]], ...]  # normalized submission values, synonyms, decodes
    values: frozenset[str]  # the submission values
    sponsor_terms: bool  # unresolved values are kept as sponsor terms


def _index(keys_of) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for value, keys in keys_of:
        for key in keys:
            if key.strip():
                out.setdefault(normalized(key), set()).add(value)
    return {k: frozenset(v) for k, v in out.items()}


def term_lookup(codelist: str, term_map: Mapping[str, str] | None = None, *, sponsor_terms: bool = False) -> TermLookup:
    """Check a codelist reference and its study term map once; ValueError says what is wrong.

    ``sponsor_terms`` keeps unresolved values as collected, which only an extensible codelist allows.

    >>> term_lookup("SEX", {"Woman": "F"}).term_map
    {'Woman': 'F'}
    """
    cl = find_codelist(codelist)
    if sponsor_terms and not cl.extensible:
        raise ValueError(f"{_named(cl)} is not extensible: sponsor terms are not allowed")
    values = cl.values()
    exact, keys = {}, {}
    for collected, target in (term_map or {}).items():
        where = f"term map of {cl.name}: {collected!r} -> {target!r}"
        if not str(collected).strip():
            raise ValueError(f"{where}: the collected value is empty")
        if target not in values and not (sponsor_terms and str(target).strip()):
            raise ValueError(f"{where}: {target!r} is not a submission value of {cl.name}")
        if str(collected).strip() in values and str(collected).strip() != target:
            raise ValueError(f"{where}: {str(collected).strip()!r} is already a submission value of {cl.name}")
        key = normalized(collected)
        if keys.get(key, target) != target:
            raise ValueError(f"{where}: the map already sends {key!r} (ignoring case and spacing) to {keys[key]!r}")
        exact[str(collected).strip()], keys[key] = target, target
    steps = (_index((t.value, (t.value,)) for t in cl.terms),
             _index((t.value, t.synonyms) for t in cl.terms),
             _index((t.value, (t.decode,)) for t in cl.terms))
    return TermLookup(cl, exact, keys, steps, values, sponsor_terms)


class _Unresolved(ValueError):
    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule


def resolve_term(value: str, lookup: TermLookup) -> str:
    """The submission value a collected value stands for; ValueError (with the reason) if none.

    >>> [resolve_term(v, term_lookup(cl)) for v, cl in
    ...  [("Female", "SEX"), ("Milligram", "UNIT"), ("Daily", "FREQ"), ("Transdermal", "ROUTE")]]
    ['F', 'mg', 'QD', 'TRANSDERMAL']
    """
    text = value.strip()
    if text in lookup.values:
        return text
    if text in lookup.term_map:
        return lookup.term_map[text]
    key = normalized(text)
    if key in lookup.term_map_keys:
        return lookup.term_map_keys[key]
    for step, how in zip(lookup.steps, ("a submission value", "a synonym", "a preferred term")):
        found = step.get(key, frozenset())
        if len(found) == 1:
            return next(iter(found))
        if found:
            raise _Unresolved(CT_AMBIGUOUS, f"matches {how} of several terms of {_named(lookup.codelist)} when case "
                                            f"is ignored: {', '.join(sorted(found))}; write the exact submission "
                                            "value or add it to the study's term map")
    raise _Unresolved(CT_UNRESOLVED, f"is not a submission value, synonym or preferred term of "
                                     f"{_named(lookup.codelist)}, nor in the study's term map")


def _named(cl: specs.Codelist) -> str:
    return f"codelist {cl.name} ({cl.code})" if cl.code else f"codelist {cl.name}"


def closest_terms(value: str, lookup: TermLookup, n: int = SUGGESTED) -> tuple[str, ...]:
    """Submission values whose value, synonym or preferred term is nearest the collected value.

    >>> closest_terms("Moderat", term_lookup("AESEV"))
    ('MODERATE',)
    """
    keys = {k: v for step in lookup.steps for k, v in step.items()}
    out: list[str] = []
    for k in difflib.get_close_matches(normalized(value), list(keys), n=n * 2, cutoff=0.6):
        out += [v for v in sorted(keys[k]) if v not in out]
    return tuple(out[:n])


@dataclass(frozen=True)
class MappedTerms(Mapped):
    sponsor_terms: tuple[str, ...] = ()  # values not in the codelist, kept because the spec allows them; sorted


def assign_ct(values: pd.Series, codelist: str | TermLookup, term_map: Mapping[str, str] | None = None, *,
              sponsor_terms: bool = False) -> MappedTerms:
    """Collected values -> submission values of a codelist, one per row (each distinct value resolved once).

    Blank values map to "". Unresolved values map to "" with a finding, or are kept as collected
    (and listed in ``sponsor_terms``) when sponsor terms are allowed.

    >>> r = assign_ct(pd.Series(["Female", " male", "", "Femme"], name="SEX"), "SEX")
    >>> list(r.values), [(f.position, f.value, f.rule) for f in r.findings]
    (['F', 'M', '', ''], [(3, 'Femme', 'MAP-CT-UNRESOLVED')])
    """
    lookup = codelist if isinstance(codelist, TermLookup) else term_lookup(codelist, term_map,
                                                                           sponsor_terms=sponsor_terms)
    if isinstance(codelist, TermLookup) and (term_map is not None or sponsor_terms):
        raise ValueError("give the term map and sponsor_terms to term_lookup, not with a ready lookup")
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    texts = ["" if v is None else str(v) for v in uniques]
    out, faults = [], {}
    for code, text in enumerate(texts):
        if not text.strip():
            out.append("")
            continue
        try:
            out.append(resolve_term(text, lookup))
        except _Unresolved as exc:
            if lookup.sponsor_terms and exc.rule == CT_UNRESOLVED:
                out.append(text.strip())
                continue
            out.append("")
            faults[code] = [(text, exc.rule, _with_choices(str(exc), text, lookup, exc.rule, len(faults)), ERROR)]
    mapped = np.asarray(out + [""], dtype=object)[codes]  # code -1 (missing) takes the trailing ""
    kept = tuple(sorted({v for v in out if v and v not in lookup.values}))  # as collected, or a map's new term
    return MappedTerms(pd.Series(mapped, index=values.index, dtype=object),
                       findings_at(codes, faults, str(values.name or "")), kept)


def _with_choices(message: str, text: str, lookup: TermLookup, rule: str, nth: int) -> str:
    if rule != CT_UNRESOLVED:
        return message
    terms = lookup.codelist.terms
    close = closest_terms(text, lookup) if nth < SUGGEST_AT_MOST else ()
    if close:
        return f"{message}; closest: {', '.join(close)}"
    if len(terms) <= LIST_ALL_UP_TO:
        return f"{message}; allowed: {', '.join(t.value for t in terms)}"
    return message
