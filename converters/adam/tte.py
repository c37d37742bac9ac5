"""ADTTE from declarative event/censoring sources (specs/adamig-1.3/tte.toml), as admiral's
derive_param_tte() with event_source()/censor_source().

Per subject of the parameter's population: the earliest event dated on or after STARTDT and on or
before DCUTDT (ties: the source listed first among the parameter's events, then the lower SRCSEQ);
when there is none, the latest censoring date (ties: first listed source), a censoring date after
DCUTDT being set to DCUTDT. AVAL = ADT - STARTDT + 1 days.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from converters import expr
from converters.adam.adrs import lookup, subject_rows


def source_dataset(name: str, adsl: pd.DataFrame, adrs: pd.DataFrame, columns=None, rows=None) -> pd.DataFrame:
    """The dataset a source reads; ADRS rows carry their subject's ADSL variables too. ``columns``
    narrows it to the variables a source uses (copying every ADSL variable onto 1M+ ADRS rows
    dominated the ADTTE time), then with row labels 0, 1, ...; ``rows``: the ADSL position of each
    ADRS row's subject, when known."""
    if name == "ADSL":
        return adsl if columns is None else adsl[[c for c in adsl.columns if c in columns]].reset_index(drop=True)
    if name == "ADRS":
        data = {c: adrs[c].to_numpy() if isinstance(adrs[c].dtype, np.dtype) else adrs[c].array
                for c in adrs.columns if columns is None or c in columns}
        for c in adsl.columns:
            if c not in adrs.columns and (columns is None or c in columns):
                rows = subject_rows(adsl, adrs["USUBJID"]) if rows is None else rows
                data[c] = lookup(adsl[c], rows)  # as a left merge: a subject missing from ADSL -> missing
        return pd.DataFrame(data)
    raise ValueError(f"tte.toml: unknown source dataset '{name}' (ADSL or ADRS)")


def _dated(source: dict, adsl: pd.DataFrame, adrs: pd.DataFrame, cache: dict) -> tuple[pd.DataFrame, np.ndarray]:
    """The dated rows of one source, and the ADSL position of each row's subject. ``cache`` (one per
    ADTTE build) keeps each source's rows, which several parameters share."""
    name = source["dataset"]
    key = (name, source.get("filter"), source["date"], source.get("srcdom"), source.get("srcvar"))
    if key not in cache:
        if ("rows", name) not in cache:
            cache[("rows", name)] = subject_rows(adsl, adrs["USUBJID"]) if name == "ADRS" else np.arange(len(adsl))
        rows = cache[("rows", name)]
        condition = _condition(source.get("filter"), "filter")
        used = {"USUBJID", "ASEQ", source["date"], *(condition.columns if condition else ())}
        data = source_dataset(name, adsl, adrs, used, rows)  # row labels are positions
        if condition:
            data = data[_holds(condition, data, "filter")]
            rows = rows[data.index.to_numpy()]
        seq = data["ASEQ"] if "ASEQ" in data.columns and name != "ADSL" else pd.Series(np.nan, index=data.index)
        date = data[source["date"]]
        date = date if date.dtype.kind == "M" else pd.to_datetime(date)  # to_datetime scans even dates
        out = pd.DataFrame({"USUBJID": data["USUBJID"], "ADT": date,
                            "SRCDOM": source.get("srcdom"), "SRCVAR": source.get("srcvar"),
                            "SRCSEQ": seq.astype("float64")})
        dated = out["ADT"].notna().to_numpy()
        cache[key] = (out[dated], rows[dated])
    return cache[key]


def _condition(text: str | None, field: str) -> expr.Expr | None:
    try:
        return expr.parse(text) if text else None
    except expr.ExpressionError as exc:
        raise ValueError(f"tte.toml: {field}: {exc}") from None


def _holds(condition: expr.Expr, data: pd.DataFrame, field: str) -> pd.Series:
    try:
        return condition.evaluate(data)
    except expr.ExpressionError as exc:
        raise ValueError(f"tte.toml: {field}: {exc}") from None


def _first_per_subject(subj: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    """Positions (ascending) of the first row per subject in ascending ``keys`` order (ties: the
    earlier row). Per-subject minima, key by key, instead of sorting 1M+ rows."""
    rows, size = np.arange(len(subj)), int(subj.max(initial=-1)) + 1
    for key in keys:
        best = np.full(size, np.inf if key.dtype.kind == "f" else np.iinfo(key.dtype).max, dtype=key.dtype)
        np.minimum.at(best, subj[rows], key[rows])
        rows = rows[key[rows] == best[subj[rows]]]
    first = np.full(size, len(subj))
    np.minimum.at(first, subj[rows], rows)
    return first[first < len(subj)]


def derive_param_tte(adsl: pd.DataFrame, adrs: pd.DataFrame, parameter: dict, sources: dict[str, dict],
                     cache: dict | None = None) -> pd.DataFrame:
    """One ADTTE parameter (frame of USUBJID, PARAMCD, PARAM, STARTDT, ADT, AVAL, CNSR, ...)."""
    cache = {} if cache is None else cache
    population = _condition(parameter.get("population"), "population")
    pop = adsl[_holds(population, adsl, "population")] if population else adsl
    start, _ = _dated({**parameter["start"], "srcdom": None, "srcvar": None}, adsl, adrs, cache)
    start = start[start["USUBJID"].isin(pop["USUBJID"])].sort_values("ADT", kind="mergesort")
    start = start.drop_duplicates("USUBJID")[["USUBJID", "ADT"]].rename(columns={"ADT": "STARTDT"})
    start = start.merge(adsl[["USUBJID", "DCUTDT"]], on="USUBJID", how="left")
    # per ADSL row (one spare slot for position -1): the subject's start date and cutoff
    at = subject_rows(adsl, start["USUBJID"])
    start_at = start["STARTDT"].to_numpy(dtype="datetime64[ns]")[at >= 0]
    at = at[at >= 0]
    startdt = np.full(len(adsl) + 1, np.datetime64("NaT"), dtype="datetime64[ns]")
    startdt[at] = start_at
    cutoff = np.append(adsl["DCUTDT"].to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT"))
    started = np.zeros(len(adsl) + 1, dtype=bool)
    started[at] = True

    def candidates(names: list[str], kind: str) -> pd.DataFrame:
        """Each source's rows reduced to its own best row per subject before they are combined (1M+
        ADRS rows otherwise go through concat, merge and sort per parameter); the choice among the
        sources below is unchanged, as the per-source order is the combined order within a source."""
        parts, fillers, offset = [], [], 0
        for i, name in enumerate(names):
            src = sources[name]
            if src["kind"] != kind:
                raise ValueError(f"tte.toml: {parameter['paramcd']} lists {kind} source '{name}' of kind {src['kind']}")
            d, rows = _dated(src, adsl, adrs, cache)
            adt = d["ADT"].to_numpy(dtype="datetime64[ns]")
            keep = started[rows] & (adt >= startdt[rows])
            if kind == "event":  # the earliest (then lowest SRCSEQ) event up to the cutoff
                keep &= adt <= cutoff[rows]
                pick = np.flatnonzero(keep)
                seq = d["SRCSEQ"].to_numpy(dtype="float64")[pick]  # a missing SRCSEQ sorts last
                pick = pick[_first_per_subject(rows[pick], adt[pick].view("int64"), np.isnan(seq).astype("int8"),
                                               np.nan_to_num(seq, nan=0.0))]
            else:  # the latest censoring date, a date after the cutoff counting as the cutoff
                pick = np.flatnonzero(keep)
                cut = cutoff[rows[pick]]
                latest = np.where(adt[pick] > cut, cut, adt[pick]).view("int64")
                pick = pick[_first_per_subject(rows[pick], -latest)]
            if len(pick) == 0 and len(d):
                # one row stands in for an emptied source so that the combined dtypes are those of
                # the full rows (pandas sets empty frames aside when it chooses them); dropped below
                pick = np.array([0])
                fillers.append(offset)
            offset += len(pick)
            d = d.iloc[pick].assign(_order=i)
            d["EVNTDESC"] = src.get("evntdesc")
            d["CNSDTDSC"] = src.get("cnsdtdsc")
            d["CNSR"] = 0.0 if kind == "event" else float(src.get("censor", 1))
            parts.append(d)
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["USUBJID", "ADT"])
        frame = frame.drop(index=fillers)
        return frame.merge(start, on="USUBJID", how="inner")

    ev = candidates(parameter["events"], "event")
    ev = ev[(ev["ADT"] >= ev["STARTDT"]) & (ev["ADT"] <= ev["DCUTDT"])]
    ev = ev.sort_values(["USUBJID", "ADT", "_order", "SRCSEQ"], kind="mergesort").drop_duplicates("USUBJID")
    cn = candidates(parameter["censors"], "censor")
    cn = cn[~cn["USUBJID"].isin(ev["USUBJID"]) & (cn["ADT"] >= cn["STARTDT"])]
    late = cn["ADT"] > cn["DCUTDT"]
    cn.loc[late, "ADT"] = cn.loc[late, "DCUTDT"]
    cn.loc[late, "CNSDTDSC"] = "DATA CUTOFF"
    cn = cn.sort_values(["USUBJID", "ADT", "_order"], ascending=[True, False, True], kind="mergesort")
    cn = cn.drop_duplicates("USUBJID")
    tte = pd.concat([ev, cn], ignore_index=True)
    tte["PARAMCD"], tte["PARAM"] = parameter["paramcd"], parameter["param"]
    tte["AVAL"] = (tte["ADT"] - tte["STARTDT"]).dt.days.astype("float64") + 1
    tte["AVALU"] = "DAYS"
    return tte.drop(columns=["_order", "DCUTDT"]).sort_values("USUBJID", kind="mergesort").reset_index(drop=True)


def derive_adtte(adsl: pd.DataFrame, adrs: pd.DataFrame, spec: dict) -> pd.DataFrame:
    cache: dict = {}
    params = [derive_param_tte(adsl, adrs, p, spec["sources"], cache) for p in spec["parameter"]]
    adtte = pd.concat(params, ignore_index=True)
    adtte = adtte.merge(adsl[["USUBJID", "STUDYID", "TRT01A", "TRT01AG1"]], on="USUBJID", how="left")
    order = {p["paramcd"]: i for i, p in enumerate(spec["parameter"])}
    adtte["_o"] = adtte["PARAMCD"].map(order)
    return adtte.sort_values(["_o", "USUBJID"], kind="mergesort").drop(columns="_o").reset_index(drop=True)
