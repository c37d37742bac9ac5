"""ADRS: response per assessment and the derived response parameters (ADaMIG 1.3 BDS).

Every row keeps SRCDOM/SRCVAR/SRCSEQ pointing at the RS record (or ADSL variable) it comes from.
Nothing after the data cutoff (ADSL.DCUTDT) is used.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from converters.sdtm.derive import to_date


def subject_rows(adsl: pd.DataFrame, usubjid: pd.Series) -> np.ndarray:
    """Position in ADSL of each ``usubjid`` (-1: not in ADSL): a lookup where a merge would copy
    every column."""
    index = pd.Index(adsl["USUBJID"])
    if not index.is_unique:
        raise ValueError("ADSL has more than one record for a USUBJID")
    return index.get_indexer(usubjid)


def lookup(values: pd.Series, rows: np.ndarray):
    """``values`` (an ADSL column) at positions ``rows``, missing where a row is -1, as a left merge."""
    taken = values.array.take(rows, allow_fill=True)
    return taken.to_numpy() if isinstance(values.dtype, np.dtype) else taken  # numpy stays numpy


def _mask(values: pd.Series) -> np.ndarray:
    """A boolean Series as numpy, missing (string dtype comparisons) as False like a frame filter."""
    return values.fillna(False).to_numpy(dtype=bool)


def _nat_first(dates) -> np.ndarray:
    """Dates as int64 sort keys; NaT is the smallest int64, so it sorts first."""
    return np.asarray(dates, dtype="datetime64[ns]").view("int64")


def _first_per_subject(subjects: pd.Series, picked: np.ndarray | None = None) -> np.ndarray:
    """Of the rows ``picked`` (all when None), in order, the first one of each USUBJID."""
    picked = np.arange(len(subjects)) if picked is None else picked
    return picked[~subjects.iloc[picked].duplicated().to_numpy()]


def assessments(rs: pd.DataFrame, adsl: pd.DataFrame, testcd: str) -> pd.DataFrame:
    """One ADRS row per RS record of ``testcd`` on or before the cutoff, in date order."""
    # positions and one take per column: filtering, merging and sorting whole RS frames copied every
    # RS column several times
    picked = np.flatnonzero(_mask(rs["RSTESTCD"] == testcd))
    subject = subject_rows(adsl, rs["USUBJID"].iloc[picked])
    adt = to_date(rs["RSDTC"].iloc[picked]).to_numpy(dtype="datetime64[ns]")
    cutoff = np.append(adsl["DCUTDT"].to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT"))[subject]
    keep = (subject >= 0) & ~np.isnat(adt) & (adt <= cutoff)
    picked, subject, adt = picked[keep], subject[keep], adt[keep]
    seq = rs["RSSEQ"].to_numpy(dtype="float64")[picked]
    # USUBJID order is the order of ADSL's sorted USUBJID values; SRCSEQ NaN last as in sort_values
    seq_codes = pd.factorize(seq, sort=True)[0]
    order = _stable_order([pd.factorize(adsl["USUBJID"], sort=True)[0][subject], pd.factorize(adt, sort=True)[0],
                           np.where(seq_codes < 0, seq_codes.max(initial=0) + 1, seq_codes)])
    picked = picked[order]

    def col(name: str):
        values = rs[name]
        return values.to_numpy()[picked] if isinstance(values.dtype, np.dtype) else values.array.take(picked)

    return pd.DataFrame({
        "USUBJID": col("USUBJID"), "PARAMCD": testcd, "AVALC": col("RSSTRESC"), "ADT": adt[order],
        "AVISIT": col("VISIT"), "AVISITN": col("VISITNUM"),
        "SRCDOM": "RS", "SRCVAR": "RSSTRESC", "SRCSEQ": seq[order],
    })


def _pick(frame: pd.DataFrame, paramcd: str, avalc=None) -> pd.DataFrame:
    out = frame.copy()
    out["PARAMCD"] = paramcd
    if avalc is not None:
        out["AVALC"] = avalc
    return out


def derive_best_response(ovr: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """BOR: the best response (response_order) before the first relapse/progression, first date of it."""
    order = {v: i for i, v in enumerate(analysis["response_order"])}
    subject = pd.factorize(ovr["USUBJID"])[0]
    adt = _nat_first(ovr["ADT"])
    rel = _mask(ovr["AVALC"].isin(analysis["relapse_or_progression"])) & (subject >= 0) & ~np.isnat(ovr["ADT"].to_numpy())
    first_rel = np.full(subject.max(initial=-1) + 1, np.iinfo(np.int64).max)  # Timestamp.max: no relapse
    np.minimum.at(first_rel, subject[rel], adt[rel])
    upto = np.flatnonzero((subject >= 0) & ~np.isnat(ovr["ADT"].to_numpy()) & (adt <= first_rel[subject]))
    # best rank (unranked responses last), then the earliest date, per subject
    rank = ovr["AVALC"].map(order).to_numpy(dtype="float64")[upto]
    upto = upto[np.lexsort((adt[upto], np.nan_to_num(rank, nan=np.inf), subject[upto]))]
    return _pick(ovr.iloc[np.sort(_first_per_subject(ovr["USUBJID"], upto))], "BOR")


def derive_landmark_response(ovr: pd.DataFrame, analysis: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """RSPM3 (the response at the landmark visit) and RSPM3FL (Y for a responder, else N)."""
    at = ovr[ovr["AVISIT"] == analysis["landmark_visit"]].drop_duplicates("USUBJID")
    flag = _pick(at, "RSPM3FL", np.where(at["AVALC"].isin(analysis["responder"]), "Y", "N"))
    return _pick(at, "RSPM3"), flag


def derive_first(ovr: pd.DataFrame, values: list[str], paramcd: str) -> pd.DataFrame:
    """The first assessment whose response is in ``values`` (FRESP, RELPROG)."""
    return _pick(ovr.iloc[_first_per_subject(ovr["USUBJID"], np.flatnonzero(_mask(ovr["AVALC"].isin(values))))], paramcd)


def derive_mrd_negative_response(ovr: pd.DataFrame, mrd: pd.DataFrame, analysis: dict, subjects: pd.Series) -> pd.DataFrame:
    """MRDNCR: Y at the first CR/CRi assessment with MRD negative the same day; N for other subjects."""
    resp = np.flatnonzero(_mask(ovr["AVALC"].isin(analysis["responder"])))
    neg = np.flatnonzero(_mask(mrd["AVALC"] == analysis["mrd_negative"]))
    # (USUBJID, ADT) as one integer key; the first negative MRD record of each key
    codes, _ = pd.factorize(np.concatenate([ovr["USUBJID"].to_numpy(dtype=object)[resp],
                                            mrd["USUBJID"].to_numpy(dtype=object)[neg]]))
    days = np.concatenate([_nat_first(ovr["ADT"])[resp], _nat_first(mrd["ADT"])[neg]])
    days, distinct = pd.factorize(days)
    key = codes.astype("int64") * len(distinct) + days
    neg_keys, first_neg = np.unique(key[len(resp):], return_index=True)
    at = np.searchsorted(neg_keys, key[:len(resp)]).clip(max=max(len(neg_keys) - 1, 0))
    matched = (codes[:len(resp)] >= 0) & (neg_keys[at] == key[:len(resp)]) if len(neg_keys) else np.zeros(len(resp), bool)
    rows, neg_rows = resp[matched], neg[first_neg[at[matched]]]
    first = ~ovr["USUBJID"].iloc[rows].duplicated().to_numpy()  # the subject's first responder visit
    hit = ovr.iloc[rows[first]].assign(SRCSEQ=mrd["SRCSEQ"].to_numpy()[neg_rows[first]])
    hit = _pick(hit, "MRDNCR", "Y")
    rest = pd.DataFrame({"USUBJID": subjects[~subjects.isin(hit["USUBJID"])], "PARAMCD": "MRDNCR", "AVALC": "N"})
    return pd.concat([hit, rest], ignore_index=True)


def derive_death(adsl: pd.DataFrame) -> pd.DataFrame:
    dead = adsl[adsl["DTHFL"].eq("Y") & adsl["SAFFL"].eq("Y") & (adsl["DTHDT"] <= adsl["DCUTDT"])]
    return pd.DataFrame({"USUBJID": dead["USUBJID"], "PARAMCD": "DEATH", "AVALC": "Y", "ADT": dead["DTHDT"],
                         "SRCDOM": "ADSL", "SRCVAR": "DTHDT"})


def derive_adrs(rs: pd.DataFrame, adsl: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    treated = adsl[adsl["SAFFL"] == "Y"]
    ovr = assessments(rs, treated, analysis["response_test"])
    mrd = assessments(rs, treated, analysis["mrd_test"])
    # derived parameters look only at assessments after the infusion (on or after TRTSDT)
    post = ovr[ovr["ADT"] >= ovr["USUBJID"].map(treated.set_index("USUBJID")["TRTSDT"])]
    m3, m3fl = derive_landmark_response(post, analysis)
    parts = [ovr, mrd, derive_best_response(post, analysis), m3, m3fl,
             derive_mrd_negative_response(post, mrd, analysis, treated["USUBJID"]),
             derive_first(post, analysis["responder"], "FRESP"),
             derive_first(post, analysis["relapse_or_progression"], "RELPROG"), derive_death(treated)]
    parts = [p for p in parts if not p.empty]
    if not parts:  # nobody infused by the cutoff: an empty ADRS with its variables
        return pd.DataFrame(columns=["STUDYID", "USUBJID", "ASEQ", "TRT01A", "TRT01AG1", "PARAMCD", "PARAM", "AVALC",
                                     "AVAL", "ADT", "ADY", "AVISIT", "AVISITN", "SRCDOM", "SRCVAR", "SRCSEQ", "TRTSDT"])
    adrs = pd.concat(parts, ignore_index=True)
    order = {p["paramcd"]: i for i, p in enumerate(analysis["adrs_params"])}
    names = {p["paramcd"]: p["param"] for p in analysis["adrs_params"]}
    resp_order = {v: float(i) for i, v in enumerate(analysis["response_order"], start=1)}
    # PARAMCD and AVALC take few values: map the distinct ones, not 1M+ rows
    param_codes, params = pd.factorize(adrs["PARAMCD"])
    adrs["PARAM"] = _spread(param_codes, pd.Series(params, dtype=object).map(names))
    aval_codes, avals = pd.factorize(adrs["AVALC"])
    avals = pd.Series(avals, dtype=object)
    aval = _spread(aval_codes, np.where(avals.isin(["Y", "N"]), avals.map({"Y": 1.0, "N": 0.0}),
                                        avals.map(resp_order)).astype("float64"))
    is_mrd = np.append(_mask(pd.Series(params, dtype=object) == analysis["mrd_test"]), False)[param_codes]
    adrs["AVAL"] = np.where(is_mrd, np.nan, aval)  # MRD status has no ordinal value
    # the subject's ADSL variables by lookup (a merge copies every ADRS column)
    subject = subject_rows(adsl, adrs["USUBJID"])
    for col in ["STUDYID", "TRT01A", "TRT01AG1", "TRTSDT"]:
        adrs[col] = lookup(adsl[col], subject)
    days = (adrs["ADT"] - adrs["TRTSDT"]).dt.days.astype("float64")
    adrs["ADY"] = np.where(days >= 0, days + 1, days)
    # sort by USUBJID, parameter, ADT, SRCSEQ (missing first), stably, on integer keys
    rank = _spread(param_codes, pd.Series(params, dtype=object).map(order).to_numpy(dtype="float64"))
    if (subject >= 0).all():  # USUBJID order: ADSL's sorted USUBJID values (10k values, not 1M+)
        usubjid = pd.factorize(adsl["USUBJID"], sort=True)[0][subject]
    else:
        usubjid = pd.factorize(adrs["USUBJID"], sort=True)[0]
    rows = _stable_order([usubjid, pd.factorize(rank, sort=True)[0], pd.factorize(_nat_first(adrs["ADT"]), sort=True)[0],
                          pd.factorize(adrs["SRCSEQ"], sort=True)[0]])
    adrs = adrs.take(rows)
    adrs.index = pd.RangeIndex(len(rows))  # reset_index() would deep-copy 1M+ rows again
    # ASEQ counts each subject's rows from 1
    usubjid, n = usubjid[rows], np.arange(len(rows))
    start = np.maximum.accumulate(np.where(np.append(True, usubjid[1:] != usubjid[:-1]), n, 0))
    adrs["ASEQ"] = (n - start + 1).astype("float64")
    return adrs


def _stable_order(codes: list[np.ndarray]) -> np.ndarray:
    """Stable sort order by several keys given as dense codes (-1, a missing value, first): one
    combined int64 key when it fits (np.lexsort over 1M+ rows and several keys is slow)."""
    sizes = [int(c.max(initial=-1)) + 2 for c in codes]
    if np.prod([float(n) for n in sizes]) >= 2.0 ** 62:
        return np.lexsort(tuple(reversed(codes)))
    key = np.zeros(len(codes[0]), dtype="int64")
    for c, n in zip(codes, sizes):
        key = key * n + (c + 1)
    return np.argsort(key, kind="stable")


def _spread(codes: np.ndarray, values) -> np.ndarray:
    """Per-distinct-value results back onto the rows (code -1, a missing value, -> NaN)."""
    values = np.asarray(values)
    filled = np.append(values, np.array([np.nan], dtype=values.dtype if values.dtype == object else "float64"))
    return filled[codes]
