"""Kaplan-Meier statistics of one sample (times in days): median with two 95% confidence intervals,
landmark survival, quartiles. Pure functions over arrays; no rounding here."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import qth_survival_time

Z95 = 1.959963984540054  # standard normal 97.5% quantile
COLLETT_EPS = 0.05       # Collett (2015) section 2.4.2: density over S in [0.45, 0.55]


def fit(time, event) -> KaplanMeierFitter:
    """KM estimate; ``event`` is 1 for an event and 0 for censoring (ADTTE: 1 - CNSR)."""
    return KaplanMeierFitter(alpha=0.05).fit(np.asarray(time, dtype=float),
                                             event_observed=np.asarray(event, dtype=int))


def _finite(x: float) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def quantile_time(kmf: KaplanMeierFitter, p: float) -> float | None:
    """Smallest time t with S(t) <= 1 - p (the p-th quantile of the event time); None if not reached."""
    return _finite(qth_survival_time(1 - p, kmf.survival_function_))


def median(kmf: KaplanMeierFitter) -> float | None:
    return quantile_time(kmf, 0.5)


def loglog_band(kmf: KaplanMeierFitter) -> pd.DataFrame:
    """Pointwise 95% log-log band of S(t) (columns lower, upper), missing where S is 1 or 0.

    lifelines' ``confidence_interval_`` is this band ("exponential Greenwood": exp(-exp(log(-log S) +-
    z sigma)), sigma^2 = Greenwood sum / (log S)^2, as SAS CONFTYPE=LOGLOG); log(-log S) is undefined at
    S = 1 and S = 0, where lifelines fills 1 and 0 and SAS leaves the limits missing.
    """
    band = kmf.confidence_interval_.copy()
    band.columns = ["lower", "upper"]
    s = kmf.survival_function_.iloc[:, 0].reindex(band.index)
    return band.where((s > 0) & (s < 1))


def median_ci_brookmeyer_crowley(kmf: KaplanMeierFitter) -> tuple[float | None, float | None]:
    """Brookmeyer-Crowley 95% CI of the median with the log-log transform (SAS PROC LIFETEST default):
    the times whose pointwise band for S(t) contains 0.5, i.e. from the first time the band's lower
    limit is <= 0.5 to the first time its upper limit is (None: not reached / not estimable). This is
    lifelines' median_survival_times(confidence_interval_) except where S is 1 or 0 (see loglog_band)."""
    band = loglog_band(kmf)
    lower = band.index[band["lower"].le(0.5).to_numpy()]
    upper = band.index[band["upper"].le(0.5).to_numpy()]
    return (float(lower[0]) if len(lower) else None), (float(upper[0]) if len(upper) else None)


@dataclass(frozen=True)
class EventTable:
    time: np.ndarray      # distinct event times, increasing
    surv: np.ndarray      # S(t) just after each
    greenwood: np.ndarray  # cumulative sum of d / (n (n - d))


def event_table(kmf: KaplanMeierFitter) -> EventTable:
    et = kmf.event_table
    et = et[et["observed"] > 0]
    n, d = et["at_risk"].to_numpy(float), et["observed"].to_numpy(float)
    with np.errstate(divide="ignore"):
        gw = np.cumsum(np.where(n > d, d / (n * (n - d)), np.inf))
    return EventTable(et.index.to_numpy(float), np.cumprod(1 - d / n), gw)


def median_se_collett(kmf: KaplanMeierFitter) -> float | None:
    """SE of the KM median as SPSS KM prints it (Collett, Modelling Survival Data in Medical Research,
    section 2.4.2): se(t50) = se(S(t50)) / f(t50), se(S) from Greenwood's formula at the median and the
    density f(t50) = (S(u) - S(l)) / (l - u), u = the last event time with S >= 0.55 (0 if none),
    l = the first event time with S <= 0.45. None when the median or l does not exist."""
    t50 = median(kmf)
    if t50 is None:
        return None
    tab = event_table(kmf)
    i = int(np.searchsorted(tab.time, t50))
    s50 = tab.surv[i]
    if s50 == 0:  # Greenwood's variance is undefined once every subject at risk has had the event
        return None
    var = s50 ** 2 * tab.greenwood[i]
    hi = tab.surv >= 0.5 + COLLETT_EPS
    lo = tab.surv <= 0.5 - COLLETT_EPS
    if not lo.any():
        return None
    u, s_u = (tab.time[hi][-1], tab.surv[hi][-1]) if hi.any() else (0.0, 1.0)
    l, s_l = tab.time[lo][0], tab.surv[lo][0]
    density = (s_u - s_l) / (l - u)
    return float(np.sqrt(var) / density)


def median_ci_normal(kmf: KaplanMeierFitter) -> tuple[float | None, float | None]:
    """Symmetric interval median +- 1.96 SE (SPSS KM), lower limit clipped at 0."""
    t50, se = median(kmf), median_se_collett(kmf)
    if t50 is None or se is None:
        return None, None
    return max(0.0, t50 - Z95 * se), t50 + Z95 * se


def survival_at(kmf: KaplanMeierFitter, t: float) -> tuple[float, float | None, float | None] | None:
    """S(t) with its log-log 95% CI (None limits where S is 1 or 0); None when t is beyond the last
    observed time (not estimable)."""
    if t > kmf.timeline.max():
        return None
    s = float(kmf.survival_function_.loc[:t].iloc[-1, 0])
    band = loglog_band(kmf).loc[:t].iloc[-1]
    return s, _finite(band["lower"]), _finite(band["upper"])


def at_risk(time, t: float) -> int:
    """Number at risk at t: subjects whose time is t or later."""
    return int((np.asarray(time, dtype=float) >= t).sum())
