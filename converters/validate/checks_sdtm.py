"""SDTMIG 3.4 rules: variables by core, subjects, sequence numbers, dates, study days, arms, death, TS."""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

import specs

from .dates import full_dates, hhmm, iso_problem, study_day
from .package import SDTM, DatasetFile, Package
from .registry import Emitter, rule

SPECS = Path(specs.__file__).parent


@specs.per_spec_set
def ig_variables() -> dict[str, list[dict[str, str]]]:
    """SDTMIG 3.4 variables of every domain (ig-variables.csv, built from the CDISC Library export);
    the domains this tool generates use their own spec (variables.csv), which may be stricter."""
    out: dict[str, list[dict[str, str]]] = {}
    with open(SPECS / "sdtmig-3.4" / "ig-variables.csv", newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            out.setdefault(r["dataset"], []).append(r)
    own = specs.datasets(SDTM)
    for name, ds in own.items():
        if name.startswith("SUPP"):
            continue
        mine = [{"dataset": name, "variable": v.name, "core": v.core, "type": v.type,
                 "codelist": _ig_codelist(out, name, v.name)} for v in ds.variables]
        names = {v.name for v in ds.variables}
        out[name] = mine + [r for r in out.get(name, []) if r["variable"] not in names]
    return out


def _ig_codelist(ig: dict, domain: str, var: str) -> str:
    return next((r["codelist"] for r in ig.get(domain, ()) if r["variable"] == var), "")


def domain_vars(ds: DatasetFile) -> list[dict[str, str]]:
    ig = ig_variables()
    return ig.get("SUPPQUAL", []) if ds.name.startswith("SUPP") else ig.get(ds.name, [])


def blank(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype(object) == "")


def sdtm(pkg: Package) -> list[DatasetFile]:
    return pkg.of(SDTM)


def _absent(pkg: Package, out: Emitter, core: str) -> None:
    """IG variables of this core (Req, Exp) that a dataset lacks."""
    for ds in sdtm(pkg):
        for v in domain_vars(ds):
            if v["core"] == core and v["variable"] not in ds.frame.columns:
                out.add(ds.name, variable=v["variable"])


@rule("SD0001")
def required_present(pkg: Package, out: Emitter) -> None:
    _absent(pkg, out, "Req")


@rule("SD0002")
def required_not_null(pkg: Package, out: Emitter) -> None:
    for ds in sdtm(pkg):
        for v in domain_vars(ds):
            if v["core"] == "Req" and v["variable"] in ds.frame.columns:
                out.flag(ds.name, ds.frame, ds.blank(v["variable"]), v["variable"])


@rule("SD0003")
def expected_present(pkg: Package, out: Emitter) -> None:
    _absent(pkg, out, "Exp")


@rule("SD0004")
def dm_one_per_subject(pkg: Package, out: Emitter) -> None:
    dm = pkg.get("DM")
    if dm is not None and "USUBJID" in dm.frame.columns:
        s = dm.frame["USUBJID"]
        out.flag("DM", dm.frame, s.duplicated(keep=False) & ~blank(s), "USUBJID")


def dm_subjects(pkg: Package) -> set[str] | None:
    dm = pkg.get("DM")
    if dm is None or "USUBJID" not in dm.frame.columns:
        return None
    return set(dm.uniques("USUBJID"))


@rule("SD0005")
def usubjid_in_dm(pkg: Package, out: Emitter) -> None:
    subjects = dm_subjects(pkg)
    if subjects is None:
        return
    for ds in sdtm(pkg):
        if ds.name == "DM" or "USUBJID" not in ds.frame.columns:
            continue
        out.flag(ds.name, ds.frame, ~ds.isin("USUBJID", subjects) & ~ds.blank("USUBJID"), "USUBJID")


def seq_name(ds: DatasetFile) -> str | None:
    col = f"{ds.name[:2]}SEQ"
    return col if col in ds.frame.columns else None


@rule("SD0006")
def seq_unique(pkg: Package, out: Emitter) -> None:
    for ds in sdtm(pkg):
        seq = seq_name(ds)
        if seq is None or "USUBJID" not in ds.frame.columns or ds.name == "TS":
            continue
        f = ds.frame
        dup = f.duplicated(["USUBJID", seq], keep=False) & f[seq].notna() & ~ds.blank("USUBJID")
        out.flag(ds.name, f, dup, seq)


def dtc_columns(ds: DatasetFile) -> list[str]:
    return [c for c in ds.char_columns() if c.endswith("DTC")]


@rule("SD0007")
def iso8601(pkg: Package, out: Emitter) -> None:
    for ds in pkg.datasets.values():
        for c in dtc_columns(ds):
            why = {v: iso_problem(v) for v in ds.uniques(c)}
            bad = {v: w for v, w in why.items() if w}
            if bad:
                s = ds.frame[c]
                mask = ds.isin(c, bad)
                vals = s.to_numpy(dtype=object)
                out.flag(ds.name, ds.frame, mask, c, detail=lambda rows: [bad[vals[i]] for i in rows])


def _reference_start(pkg: Package, ds: DatasetFile) -> pd.Series | None:
    """DM.RFSTDTC by USUBJID, or None when the lookup is impossible."""
    dm = pkg.get("DM")
    if dm is None or "RFSTDTC" not in dm.frame.columns or "USUBJID" not in ds.frame.columns:
        return None
    return dm.memo("RFSTDTC by USUBJID", lambda: dm.frame.drop_duplicates("USUBJID").set_index("USUBJID")["RFSTDTC"])


def rfstdtc(pkg: Package, ds: DatasetFile) -> pd.Series | None:
    """Each row's DM.RFSTDTC (text, "" when none), looked up by USUBJID once per subject."""
    ref = _reference_start(pkg, ds)
    if ref is None:
        return None
    return ds.memo("RFSTDTC", lambda: ds.per_value("USUBJID", lambda subjects: subjects.map(ref).fillna("")))


def reference_dates(pkg: Package, ds: DatasetFile) -> pd.Series | None:
    """full_dates of each row's DM.RFSTDTC."""
    ref = _reference_start(pkg, ds)
    if ref is None:
        return None
    return ds.memo("RFSTDTC dates", lambda: ds.per_value(
        "USUBJID", lambda subjects: full_dates(subjects.map(ref).fillna(""))))


def dates(ds: DatasetFile, col: str) -> pd.Series:
    """full_dates of a column, once per distinct value and dataset."""
    return ds.memo(("dates", col), lambda: ds.per_value(col, full_dates))


def dy_pairs(ds: DatasetFile) -> list[tuple[str, str]]:
    cols = set(ds.frame.columns)
    return [(c, c[:-2] + "DTC") for c in ds.frame.columns
            if c.endswith("DY") and len(c) > 4 and c[:-2] + "DTC" in cols and ds.types.get(c) == "Num"]


def with_reference(pkg: Package) -> list[DatasetFile]:
    """SDTM datasets other than DM whose records can look up DM.RFSTDTC."""
    return [ds for ds in sdtm(pkg) if ds.name != "DM" and _reference_start(pkg, ds) is not None]


@rule("SD0008")
def study_day_matches(pkg: Package, out: Emitter) -> None:
    for ds in with_reference(pkg):
        ref = rfstdtc(pkg, ds)
        for dy, dtc in dy_pairs(ds):
            have = ds.frame[dy]
            want = study_day(dates(ds, dtc), reference_dates(pkg, ds))
            bad = have.notna() & ((have == 0) | (want.notna() & (want != have)))
            dtcs, refs, wants = ds.frame[dtc].to_numpy(dtype=object), ref.to_numpy(dtype=object), want.to_numpy()
            out.flag(ds.name, ds.frame, bad, dy, detail=lambda rows: [
                f"{dtc} {dtcs[i]} with RFSTDTC {refs[i]} is "
                + ("not computable" if np.isnan(wants[i]) else str(int(wants[i]))) for i in rows])


@rule("SD0009")
def study_day_without_date(pkg: Package, out: Emitter) -> None:
    for ds in with_reference(pkg):
        rf = reference_dates(pkg, ds)
        for dy, dtc in dy_pairs(ds):
            d = dates(ds, dtc)
            bad = ds.frame[dy].notna() & (d.isna() | rf.isna())
            detail = np.where(d.isna(), dtc, "DM.RFSTDTC")
            out.flag(ds.name, ds.frame, bad, dy, detail=detail)


START_END = (("RFSTDTC", "RFENDTC"), ("RFXSTDTC", "RFXENDTC"))


def start_end_pairs(ds: DatasetFile) -> list[tuple[str, str]]:
    cols = set(ds.frame.columns)
    pairs = [p for p in START_END if set(p) <= cols]
    pairs += [(c, c[:-5] + "ENDTC") for c in cols if c.endswith("STDTC") and c not in ("RFSTDTC", "RFXSTDTC")
              and c[:-5] + "ENDTC" in cols]
    return sorted(pairs)


def after(ds: DatasetFile, start: str, end: str) -> pd.Series:
    """start later than end, compared at the precision both have (date, then hour:minute)."""
    sd, ed = dates(ds, start), dates(ds, end)
    later = (sd > ed).fillna(False)
    same_day = (sd == ed).fillna(False)
    st, et = ds.per_value(start, hhmm), ds.per_value(end, hhmm)
    return later | (same_day & (st != "") & (et != "") & (st > et))


@rule("SD0010")
def start_before_end(pkg: Package, out: Emitter) -> None:
    for ds in sdtm(pkg):
        for st, en in start_end_pairs(ds):
            f = ds.frame
            bad = after(ds, st, en)
            ends = f[en].to_numpy(dtype=object)
            out.flag(ds.name, f, bad, st, detail=lambda rows: [f"{en} '{ends[i]}'" for i in rows])


@rule("SD0011")
def epoch_ct(pkg: Package, out: Emitter) -> None:
    allowed = specs.codelist_values("EPOCH")
    for ds in sdtm(pkg):
        if "EPOCH" in ds.frame.columns:
            bad = [v for v in ds.uniques("EPOCH") if v not in allowed]
            out.flag(ds.name, ds.frame, ds.isin("EPOCH", bad), "EPOCH")


def _many(ds: DatasetFile, code: str, name: str) -> np.ndarray:
    """Rows whose `code` value appears with more than one `name` value (or the reverse); rows with
    both blank are left out. Works on the columns' codes: one pass over million-row datasets."""
    c, _ = ds.factor(code)
    n, _ = ds.factor(name)
    keep = ~(ds.blank(code) & ds.blank(name))
    width = int(n.max(initial=0)) + 1
    pairs = np.unique(c[keep].astype(np.int64) * width + n[keep])
    names_per_code = np.bincount(pairs // width, minlength=int(c.max(initial=0)) + 1)
    return keep & (names_per_code[c] > 1)


@rule("SD0015")
def arm_one_to_one(pkg: Package, out: Emitter) -> None:
    dm = pkg.get("DM")
    if dm is None:
        return
    for code, name in (("ARMCD", "ARM"), ("ACTARMCD", "ACTARM")):
        if {code, name} <= set(dm.frame.columns):
            out.flag("DM", dm.frame, _many(dm, code, name), code, detail=name)
            out.flag("DM", dm.frame, _many(dm, name, code), name, detail=code)


@rule("SD0016")
def armnrs_when_no_arm(pkg: Package, out: Emitter) -> None:
    dm = pkg.get("DM")
    if dm is None:
        return
    f = dm.frame
    nrs = blank(f["ARMNRS"]) if "ARMNRS" in f.columns else pd.Series(True, index=f.index)
    for var in ("ARMCD", "ARM", "ACTARMCD", "ACTARM"):
        if var in f.columns:
            out.flag("DM", f, nrs & blank(f[var]), "ARMNRS", detail=f"{var} is null")


@rule("SD0017")
def dthfl_values(pkg: Package, out: Emitter) -> None:
    dm = pkg.get("DM")
    if dm is not None and "DTHFL" in dm.frame.columns:
        s = dm.frame["DTHFL"]
        out.flag("DM", dm.frame, ~blank(s) & (s != "Y"), "DTHFL")


@rule("SD0018")
def dthdtc_needs_dthfl(pkg: Package, out: Emitter) -> None:
    dm = pkg.get("DM")
    if dm is not None and "DTHDTC" in dm.frame.columns:
        f = dm.frame
        fl = f["DTHFL"] if "DTHFL" in f.columns else pd.Series("", index=f.index)
        out.flag("DM", f, ~blank(f["DTHDTC"]) & (fl != "Y"), "DTHDTC")


@rule("SD0019")
def dthfl_needs_dthdtc(pkg: Package, out: Emitter) -> None:
    dm = pkg.get("DM")
    if dm is not None and "DTHFL" in dm.frame.columns:
        f = dm.frame
        dtc = f["DTHDTC"] if "DTHDTC" in f.columns else pd.Series("", index=f.index)
        out.flag("DM", f, (f["DTHFL"] == "Y") & blank(dtc), "DTHFL", values=f["DTHFL"])


@lru_cache(maxsize=None)
def ts_parameters() -> tuple[dict[str, str], ...]:
    with open(SPECS / "rules" / "ts-parameters.csv", newline="", encoding="utf-8") as fh:
        return tuple(csv.DictReader(fh))


def _ts_params(pkg: Package) -> set[str] | None:
    ts = pkg.get("TS")
    if ts is None or "TSPARMCD" not in ts.frame.columns:
        return None
    f = ts.frame
    val = f["TSVAL"] if "TSVAL" in f.columns else pd.Series("", index=f.index)
    return set(f.loc[~blank(val), "TSPARMCD"])


@rule("SD0020")
def ts_sstdtc(pkg: Package, out: Emitter) -> None:
    if not sdtm(pkg):
        return
    have = _ts_params(pkg)
    if have is None:
        out.add("TS", detail="TS dataset is missing (FDA rejects a submission without TS)")
        return
    for p in ts_parameters():
        if p["rule"] == "SD0020" and p["tsparmcd"] not in have:
            out.add("TS", variable="TSPARMCD", value=p["tsparmcd"],
                    detail=f"TS has no {p['tsparmcd']} parameter with a value ({p['why']})")


@rule("SD0022")
def dm_present(pkg: Package, out: Emitter) -> None:
    if sdtm(pkg) and pkg.get("DM") is None:
        out.add("DM")


@rule("SD0021")
def ts_fda_parameters(pkg: Package, out: Emitter) -> None:
    have = _ts_params(pkg)
    if have is None:
        return
    for p in ts_parameters():
        if p["rule"] == "SD0021" and p["tsparmcd"] not in have:
            out.add("TS", variable="TSPARMCD", value=p["tsparmcd"])
