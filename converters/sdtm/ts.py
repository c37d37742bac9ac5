"""TS: trial summary parameters from study.toml, as listed in specs ts_parameters.csv (SDTMIG 3.4 7.6.1).

FDA Technical Rejection Criteria 1734 requires TS with SSTDTC; the parameter list itself is spec data.
"""
from __future__ import annotations

import pandas as pd

from schemas.config import StudyConfig
from specs import CT_VERSION, codelist, table


def derived_value(name: str, config: StudyConfig, dm: pd.DataFrame) -> list[str]:
    if name == "narms":
        return [str(len(config.arms))]
    if name == "actsub":
        return [str(int(dm["ARMCD"].notna().sum()))]  # enrolled = assigned to an arm
    if name == "fcntry":
        return sorted(dm["COUNTRY"].dropna().unique())
    if name == "trt":
        return sorted(config.investigational())
    if name == "sdtigver":
        return ["3.4"]
    if name == "sdtmver":
        return ["2.0"]
    if name == "ctver":
        return [CT_VERSION]
    raise KeyError(f"ts_parameters.csv: unknown derived value '{name}'")


def ts_values(param: dict[str, str], config: StudyConfig, dm: pd.DataFrame) -> list[str]:
    source = param["config_field"]
    kind, _, name = source.partition(":")
    if kind == "derived":
        return derived_value(name, config, dm)
    if kind == "const":
        return [name]
    value = getattr(config.study, source)
    if value is None:
        return []
    if isinstance(value, (tuple, list)):
        return [str(v) for v in value]
    return [str(value)]


def map_ts(config: StudyConfig, dm: pd.DataFrame) -> pd.DataFrame:
    def code_of(param: dict[str, str]) -> str:
        return (getattr(config.study, param["code_field"]) or "") if param["code_field"] else ""
    return ts_records(config.study.studyid, lambda param: ts_values(param, config, dm), code_of)


def ts_records(studyid: str, values_of, code_of=lambda param: "") -> pd.DataFrame:
    """TS: one record per value of each parameter of ts_parameters.csv; ``values_of(param)`` gives the
    values, ``code_of(param)`` a code given with the study (e.g. INDIC's SNOMED code)."""
    rows = []
    for param in table("ts_parameters"):
        values = values_of(param)
        if not values and param["required"] == "Y":
            values = [None]  # kept with TSVALNF so a reviewer sees the parameter was considered
        for grp, value in enumerate(values, start=1):
            code, ref = "", param.get("tsvcdref", "")
            if value is not None and param["codelist"]:
                term = codelist(param["codelist"]).term(value)
                code = term.code if term else ""
            if code_of(param):
                code = code_of(param)
            rows.append({
                "TSPARMCD": param["tsparmcd"], "TSPARM": param["tsparm"], "TSVAL": value,
                "TSVALNF": "NA" if value is None else None, "TSVALCD": code or None,
                # an ISO reference describes TSVAL itself (dates, durations, countries); others name TSVALCD's source
                "TSVCDREF": ref if ref and (code or ref.startswith("ISO")) else None,
                "TSVCDVER": (CT_VERSION if ref == "CDISC CT" else None) if code else None,
                "_n": grp,
            })
    ts = pd.DataFrame(rows)
    ts.insert(0, "STUDYID", studyid)
    ts.insert(1, "DOMAIN", "TS")
    ts["TSSEQ"] = ts["_n"].astype("float64")
    ts["TSGRPID"] = None
    return ts.drop(columns="_n")
