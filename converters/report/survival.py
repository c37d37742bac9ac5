"""Time-to-event summary from ADaM: per ADTTE parameter (whatever PARAMCDs are present) and per dose
group (TRT01AG1) plus overall; median follow-up from ADSL FUPDUR and by reverse Kaplan-Meier.

Months = days / days_per_month (specs/adamig-1.3/analysis.toml); every duration is reported in months
rounded half-up to 0.1, survival probabilities to 0.001.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from converters.report import km

OVERALL = "Overall"
LANDMARKS_MONTHS = (6, 12, 24)
FOLLOW_UP_PARAM = "OS"  # reverse KM follow-up: OS with the censoring indicator flipped


def round_half_up(x: float | None, places: int) -> float | None:
    """Round as printed in tables (0.05 -> 0.1), free of binary floating-point surprises."""
    if x is None or not np.isfinite(x):
        return None
    return float(Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def months(days: float | None, per_month: float) -> float | None:
    return None if days is None else round_half_up(days / per_month, 1)


def group_order(adsl: pd.DataFrame, adtte: pd.DataFrame) -> list[str]:
    """Dose groups present in ADTTE, ordered by ADSL TR01AG1N (then by name)."""
    present = set(adtte["TRT01AG1"].dropna())
    if "TR01AG1N" in adsl.columns:
        key = adsl.dropna(subset=["TRT01AG1"]).groupby("TRT01AG1")["TR01AG1N"].min().to_dict()
    else:
        key = {}
    return sorted(present, key=lambda g: (key.get(g, np.inf), g))


def km_summary(time_days, event, per_month: float, landmarks=LANDMARKS_MONTHS) -> dict:
    """N, events, censored, KM median with both 95% CIs and landmark survival, for one sample."""
    time_days = np.asarray(time_days, dtype=float)
    event = np.asarray(event, dtype=int)
    out = {"n": int(len(time_days)), "events": int(event.sum()), "censored": int((event == 0).sum())}
    if len(time_days) == 0:
        return {**out, "median_months": None, "median_ci_bc_loglog_months": [None, None],
                "median_se_spss_months": None, "median_ci_spss_months": [None, None], "landmarks": []}
    kmf = km.fit(time_days, event)
    se = km.median_se_collett(kmf)
    out["median_months"] = months(km.median(kmf), per_month)
    out["median_ci_bc_loglog_months"] = [months(x, per_month) for x in km.median_ci_brookmeyer_crowley(kmf)]
    out["median_se_spss_months"] = months(se, per_month)
    out["median_ci_spss_months"] = [months(x, per_month) for x in km.median_ci_normal(kmf)]
    marks = []
    for m in landmarks:
        est = km.survival_at(kmf, m * per_month)
        s, lo, hi = est if est else (None, None, None)
        marks.append({"months": m, "survival": round_half_up(s, 3), "ci_lower": round_half_up(lo, 3),
                      "ci_upper": round_half_up(hi, 3), "at_risk": km.at_risk(time_days, m * per_month)})
    out["landmarks"] = marks
    return out


def parameter_summaries(adtte: pd.DataFrame, groups: list[str], per_month: float) -> list[dict]:
    """One entry per PARAMCD in ADTTE order, each with an overall and a per-group KM summary."""
    result = []
    for paramcd in dict.fromkeys(adtte["PARAMCD"]):
        rows = adtte[adtte["PARAMCD"] == paramcd]
        entries = [{"group": OVERALL, **km_summary(rows["AVAL"], 1 - rows["CNSR"], per_month)}]
        for g in groups:
            sub = rows[rows["TRT01AG1"] == g]
            entries.append({"group": g, **km_summary(sub["AVAL"], 1 - sub["CNSR"], per_month)})
        result.append({"paramcd": paramcd, "param": str(rows["PARAM"].iloc[0]), "groups": entries})
    return result


def follow_up_simple(adsl: pd.DataFrame, per_month: float) -> dict:
    """Median (IQR, numpy linear quantiles) of ADSL FUPDUR over the safety population."""
    fup = adsl.loc[adsl["SAFFL"] == "Y", "FUPDUR"].dropna().to_numpy(float)
    if len(fup) == 0:
        return {"n": 0, "median_months": None, "q1_months": None, "q3_months": None}
    q1, med, q3 = np.percentile(fup, [25, 50, 75])
    return {"n": int(len(fup)), "median_months": months(med, per_month),
            "q1_months": months(q1, per_month), "q3_months": months(q3, per_month),
            "source": "ADSL.FUPDUR where SAFFL = 'Y'"}


def follow_up_reverse_km(adtte: pd.DataFrame, per_month: float, paramcd: str = FOLLOW_UP_PARAM) -> dict | None:
    """Reverse Kaplan-Meier (Schemper & Smith 1996): the OS times with censoring as the event."""
    rows = adtte[adtte["PARAMCD"] == paramcd]
    if rows.empty:
        return None
    kmf = km.fit(rows["AVAL"], rows["CNSR"])
    return {"n": int(len(rows)), "median_months": months(km.median(kmf), per_month),
            "median_ci_bc_loglog_months": [months(x, per_month) for x in km.median_ci_brookmeyer_crowley(kmf)],
            "q1_months": months(km.quantile_time(kmf, 0.25), per_month),
            "q3_months": months(km.quantile_time(kmf, 0.75), per_month),
            "source": f"ADTTE PARAMCD = '{paramcd}', event = CNSR 1"}


def survival_report(adam: dict[str, pd.DataFrame], per_month: float) -> dict:
    adsl, adtte = adam["ADSL"], adam["ADTTE"]
    groups = group_order(adsl, adtte)
    return {
        "days_per_month": per_month,
        "group_variable": "TRT01AG1",
        "groups": [OVERALL, *groups],
        "landmarks_months": list(LANDMARKS_MONTHS),
        "methods": {
            "median": "Kaplan-Meier (lifelines KaplanMeierFitter): smallest time with S(t) <= 0.5",
            "median_ci_bc_loglog": "Brookmeyer-Crowley 95% CI, log-log transform (SAS PROC LIFETEST default)",
            "median_ci_spss": "median +- 1.96 x SE(median), SE = Greenwood SE of S at the median / KM density "
                              "between the last event time with S >= 0.55 and the first with S <= 0.45 "
                              "(Collett 2.4.2, as SPSS KM); lower limit clipped at 0",
            "landmarks": "S(t) with log-log 95% CI; null beyond the last observed time, CI null where S is 1 or 0",
            "months": f"days / {per_month}",
        },
        "follow_up": {"simple": follow_up_simple(adsl, per_month),
                      "reverse_km": follow_up_reverse_km(adtte, per_month)},
        "parameters": parameter_summaries(adtte, groups, per_month),
    }
