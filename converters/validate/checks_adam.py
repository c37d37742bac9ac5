"""ADaMIG 1.3 rules: ADSL subjects, required variables, BDS parameters, time-to-event records."""
from __future__ import annotations

import csv
from functools import lru_cache

import numpy as np
import pandas as pd

from .checks_sdtm import SPECS, _many, blank, dm_subjects
from .package import ADAM, DatasetFile, Package
from .registry import Emitter, rule


def adam(pkg: Package) -> list[DatasetFile]:
    return pkg.of(ADAM)


def structures(ds: DatasetFile) -> list[str]:
    """ADSL, or BDS (has PARAMCD) plus TTE (BDS with CNSR)."""
    if ds.name == "ADSL":
        return ["ADSL"]
    cols = set(ds.frame.columns)
    if "PARAMCD" in cols or "PARAM" in cols:
        return ["BDS", "TTE"] if "CNSR" in cols or ds.name == "ADTTE" else ["BDS"]
    return []


def tte(pkg: Package) -> list[DatasetFile]:
    return [d for d in adam(pkg) if "TTE" in structures(d)]


@lru_cache(maxsize=None)
def required() -> tuple[dict[str, str], ...]:
    with open(SPECS / "rules" / "adam-required.csv", newline="", encoding="utf-8") as fh:
        return tuple(csv.DictReader(fh))


@rule("AD0001")
def adsl_one_per_subject(pkg: Package, out: Emitter) -> None:
    adsl = pkg.get("ADSL")
    if adsl is not None and "USUBJID" in adsl.frame.columns:
        s = adsl.frame["USUBJID"]
        out.flag("ADSL", adsl.frame, s.duplicated(keep=False), "USUBJID")


@rule("AD0002")
def adsl_subjects_in_dm(pkg: Package, out: Emitter) -> None:
    adsl, subjects = pkg.get("ADSL"), dm_subjects(pkg)
    if adsl is not None and subjects is not None and "USUBJID" in adsl.frame.columns:
        s = adsl.frame["USUBJID"]
        out.flag("ADSL", adsl.frame, ~s.isin(subjects), "USUBJID")


@rule("AD0003")
def adam_required(pkg: Package, out: Emitter) -> None:
    for ds in adam(pkg):
        kinds = structures(ds)
        cols = set(ds.frame.columns)
        for r in required():
            if r["structure"] in kinds and r["variable"] not in cols and (
                    not r["alternative"] or r["alternative"] not in cols):
                alt = f" or {r['alternative']}" if r["alternative"] else ""
                out.add(ds.name, variable=r["variable"] + alt, detail=f"{r['structure']} structure")


@rule("AD0004")
def aval_or_avalc(pkg: Package, out: Emitter) -> None:
    for ds in adam(pkg):
        if "BDS" not in structures(ds):
            continue
        f = ds.frame
        none = pd.Series(True, index=f.index)
        aval = f["AVAL"].isna() if "AVAL" in f.columns else none
        avalc = blank(f["AVALC"]) if "AVALC" in f.columns else none
        if "AVAL" in f.columns or "AVALC" in f.columns:
            out.flag(ds.name, f, aval & avalc, "AVAL")


@rule("AD0005")
def cnsr_integer(pkg: Package, out: Emitter) -> None:
    for ds in tte(pkg):
        if "CNSR" in ds.frame.columns:
            c = pd.to_numeric(ds.frame["CNSR"], errors="coerce")
            bad = c.isna() | (c < 0) | (np.floor(c) != c)
            out.flag(ds.name, ds.frame, bad, "CNSR")


@rule("AD0006")
def aval_not_negative(pkg: Package, out: Emitter) -> None:
    for ds in tte(pkg):
        if "AVAL" in ds.frame.columns:
            out.flag(ds.name, ds.frame, (ds.frame["AVAL"] < 0).fillna(False), "AVAL")


@rule("AD0007")
def start_before_event(pkg: Package, out: Emitter) -> None:
    for ds in tte(pkg):
        f = ds.frame
        if {"STARTDT", "ADT"} <= set(f.columns):
            bad = (f["STARTDT"] > f["ADT"]).fillna(False)
            adt = f["ADT"].to_numpy()
            out.flag(ds.name, f, bad, "STARTDT", detail=lambda rows: [str(adt[i]) for i in rows])


def _cnsr(ds: DatasetFile) -> pd.Series:
    return pd.to_numeric(ds.frame["CNSR"], errors="coerce")


def _without_description(pkg: Package, out: Emitter, var: str, censored: bool) -> None:
    """Events (CNSR = 0) or censored records (CNSR > 0) whose description ``var`` is blank or absent."""
    for ds in tte(pkg):
        f = ds.frame
        if "CNSR" in f.columns:
            desc = blank(f[var]) if var in f.columns else pd.Series(True, index=f.index)
            kind = _cnsr(ds) > 0 if censored else _cnsr(ds) == 0
            out.flag(ds.name, f, kind & desc, var, values=f["CNSR"])


@rule("AD0008")
def event_description(pkg: Package, out: Emitter) -> None:
    _without_description(pkg, out, "EVNTDESC", censored=False)


@rule("AD0009")
def censor_description(pkg: Package, out: Emitter) -> None:
    _without_description(pkg, out, "CNSDTDSC", censored=True)


@rule("AD0010")
def srcdom_exists(pkg: Package, out: Emitter) -> None:
    for ds in adam(pkg):
        if "SRCDOM" in ds.frame.columns:
            s = ds.frame["SRCDOM"]
            out.flag(ds.name, ds.frame, ~blank(s) & ~s.isin(list(pkg.datasets)), "SRCDOM")


def _seq_col(src: DatasetFile) -> str | None:
    for col in (f"{src.name[:2]}SEQ", "ASEQ"):
        if col in src.frame.columns:
            return col
    return None


@rule("AD0011")
def srcseq_exists(pkg: Package, out: Emitter) -> None:
    for ds in adam(pkg):
        f = ds.frame
        if not {"SRCDOM", "SRCSEQ", "USUBJID"} <= set(f.columns):
            continue
        for dom in sorted(set(f["SRCDOM"]) - {""}):
            src = pkg.get(dom)
            col = _seq_col(src) if src is not None else None
            rows = (f["SRCDOM"] == dom) & f["SRCSEQ"].notna()
            if col is None or "USUBJID" not in src.frame.columns:
                continue  # a missing source dataset is AD0010's finding
            keys = pd.MultiIndex.from_frame(src.frame[["USUBJID", col]].astype({col: "float64"}))
            mine = pd.MultiIndex.from_arrays([f["USUBJID"], f["SRCSEQ"].astype("float64")])
            out.flag(ds.name, f, rows & ~mine.isin(keys), "SRCSEQ", detail=f"{dom} ({col}) for the subject")


@rule("AD0012")
def paramcd_length(pkg: Package, out: Emitter) -> None:
    for ds in adam(pkg):
        if "PARAMCD" in ds.frame.columns:
            out.flag(ds.name, ds.frame, ds.per_value("PARAMCD", lambda codes: codes.astype(str).str.len() > 8), "PARAMCD")


@rule("AD0013")
def paramcd_param(pkg: Package, out: Emitter) -> None:
    for ds in adam(pkg):
        f = ds.frame
        if {"PARAMCD", "PARAM"} <= set(f.columns):
            out.flag(ds.name, f, _many(ds, "PARAMCD", "PARAM"), "PARAMCD", detail="PARAM")
            out.flag(ds.name, f, _many(ds, "PARAM", "PARAMCD"), "PARAM", detail="PARAMCD")
