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


def source_dataset(name: str, adsl: pd.DataFrame, adrs: pd.DataFrame) -> pd.DataFrame:
    """The dataset a source reads; ADRS rows carry their subject's ADSL variables too."""
    if name == "ADSL":
        return adsl
    if name == "ADRS":
        extra = [c for c in adsl.columns if c not in adrs.columns or c == "USUBJID"]
        return adrs.merge(adsl[extra], on="USUBJID", how="left")
    raise ValueError(f"tte.toml: unknown source dataset '{name}' (ADSL or ADRS)")


def _dates(source: dict, adsl: pd.DataFrame, adrs: pd.DataFrame, order: int, cache: dict | None = None) -> pd.DataFrame:
    """The dated rows of one source. ``cache`` (one per ADTTE build) keeps the ADSL-enriched ADRS and
    each source's rows, which several parameters share: merging and filtering 1M+ ADRS rows per use
    dominated the ADTTE time."""
    cache = {} if cache is None else cache
    key = (source["dataset"], source.get("filter"), source["date"], source.get("srcdom"), source.get("srcvar"))
    if key not in cache:
        if source["dataset"] not in cache:
            cache[source["dataset"]] = source_dataset(source["dataset"], adsl, adrs)
        data = cache[source["dataset"]]
        if source.get("filter"):
            data = data.query(source["filter"], engine="python")
        seq = data["ASEQ"] if "ASEQ" in data.columns and source["dataset"] != "ADSL" else pd.Series(np.nan, index=data.index)
        out = pd.DataFrame({"USUBJID": data["USUBJID"], "ADT": pd.to_datetime(data[source["date"]]),
                            "SRCDOM": source.get("srcdom"), "SRCVAR": source.get("srcvar"),
                            "SRCSEQ": seq.astype("float64")})
        cache[key] = out[out["ADT"].notna()]
    return cache[key].assign(_order=order)


def derive_param_tte(adsl: pd.DataFrame, adrs: pd.DataFrame, parameter: dict, sources: dict[str, dict],
                     cache: dict | None = None) -> pd.DataFrame:
    """One ADTTE parameter (frame of USUBJID, PARAMCD, PARAM, STARTDT, ADT, AVAL, CNSR, ...)."""
    cache = {} if cache is None else cache
    pop = adsl.query(parameter["population"], engine="python") if parameter.get("population") else adsl
    start = _dates({**parameter["start"], "srcdom": None, "srcvar": None}, adsl, adrs, 0, cache)
    start = start[start["USUBJID"].isin(pop["USUBJID"])].sort_values("ADT", kind="mergesort")
    start = start.drop_duplicates("USUBJID")[["USUBJID", "ADT"]].rename(columns={"ADT": "STARTDT"})
    start = start.merge(adsl[["USUBJID", "DCUTDT"]], on="USUBJID", how="left")

    def candidates(names: list[str], kind: str) -> pd.DataFrame:
        parts = []
        for i, name in enumerate(names):
            src = sources[name]
            if src["kind"] != kind:
                raise ValueError(f"tte.toml: {parameter['paramcd']} lists {kind} source '{name}' of kind {src['kind']}")
            d = _dates(src, adsl, adrs, i, cache)
            d["EVNTDESC"] = src.get("evntdesc")
            d["CNSDTDSC"] = src.get("cnsdtdsc")
            d["CNSR"] = 0.0 if kind == "event" else float(src.get("censor", 1))
            parts.append(d)
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["USUBJID", "ADT"])
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
