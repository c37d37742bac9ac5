"""Controlled terminology (SDTMIG 3.4 section 4.3) against the CT subset shipped in specs/ct.

A value outside a non-extensible codelist is an error, outside an extensible one a warning; variables
whose codelist is not in specs/ct are reported once as skipped (info). EPOCH has its own rule (SD0011).
"""
from __future__ import annotations

import specs

from .checks_sdtm import domain_vars
from .package import ADAM, SDTM, DatasetFile, Package
from .registry import Emitter, rule


@specs.per_spec_set
def by_code() -> dict[str, specs.Codelist]:
    return {c.code: c for c in specs.codelists().values() if c.code and not c.sponsor}


@specs.per_spec_set
def adam_codelists() -> dict[str, str]:
    """ADaM variable -> CDISC codelist name from the ADaMIG spec (sponsor lists are study-specific)."""
    out = {}
    for ds in specs.datasets(ADAM).values():
        for v in ds.variables:
            cl = specs.codelists().get(v.codelist)
            if cl is not None and not cl.sponsor:
                out[v.name] = cl.code
    return out


@specs.per_spec_set
def sdtm_spec_codelists(dataset: str) -> dict[str, str]:
    """Variable -> CDISC codelist C-code chosen in our SDTMIG spec for a dataset we specify. It takes
    precedence over the IG export, which lists one generic list where the IG allows a choice (RSCAT:
    clinical classification vs oncology response) and has an ECG list on RSMETHOD."""
    spec = specs.datasets(SDTM).get(dataset)
    if spec is None:
        return {}
    out = {}
    for v in spec.variables:
        cl = specs.codelists().get(v.codelist)
        if cl is not None and not cl.sponsor and cl.code:
            out[v.name] = cl.code
    return out


def variable_codes(ds: DatasetFile) -> dict[str, list[str]]:
    """Variable -> NCI codelist C-codes that apply to it."""
    if ds.standard == SDTM:
        ours = sdtm_spec_codelists(ds.name)
        return {v["variable"]: [ours[v["variable"]]] if v["variable"] in ours else v["codelist"].split()
                for v in domain_vars(ds)
                if v["codelist"] and v["variable"] in ds.frame.columns and v["variable"] != "EPOCH"}
    return {n: [c] for n, c in adam_codelists().items() if n in ds.frame.columns}


def _checks(pkg: Package):
    """(dataset, variable, allowed values, extensible, codelist text) for every checkable variable."""
    for name, ds in sorted(pkg.datasets.items()):
        for var, codes in sorted(variable_codes(ds).items()):
            known = [by_code()[c] for c in codes if c in by_code()]
            if len(known) != len(codes):
                yield ds, var, None, False, " ".join(c for c in codes if c not in by_code())
                continue
            allowed = frozenset().union(*(c.values() for c in known))
            ext = any(c.extensible for c in known)
            yield ds, var, allowed, ext, " ".join(f"{c.name} ({c.code})" for c in known)


def _flag(ds: DatasetFile, var: str, allowed: frozenset, text: str, out: Emitter) -> None:
    bad = [v for v in ds.uniques(var) if v not in allowed]
    if bad:
        out.flag(ds.name, ds.frame, ds.isin(var, bad), var, detail=text)


@rule("SD0012")
def ct_non_extensible(pkg: Package, out: Emitter) -> None:
    for ds, var, allowed, ext, text in _checks(pkg):
        if allowed is not None and not ext:
            _flag(ds, var, allowed, text, out)


@rule("SD0013")
def ct_extensible(pkg: Package, out: Emitter) -> None:
    for ds, var, allowed, ext, text in _checks(pkg):
        if allowed is not None and ext:
            _flag(ds, var, allowed, text, out)


@rule("SD0014")
def ct_unknown(pkg: Package, out: Emitter) -> None:
    for ds, var, allowed, _, text in _checks(pkg):
        if allowed is None:
            out.add(ds.name, variable=var, detail=text)
