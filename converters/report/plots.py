"""Kaplan-Meier plots per ADTTE parameter: overall (with its 95% band) and by dose group, step curves with
censoring ticks, months on x, numbers at risk under each panel. Byte-reproducible PNG and SVG."""
from __future__ import annotations

import math
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from converters.report import km  # noqa: E402

OVERALL_COLOUR = "black"
GROUP_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f"]
# No dates, versions or random ids in the files: identical inputs give identical bytes.
SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
PNG_METADATA = {"Software": None}
SPINE_OFFSET = 6  # points
RC = {"svg.hashsalt": "cdisc-converter-km", "svg.fonttype": "path", "font.family": "DejaVu Sans",
      "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}


def _tick_step(max_months: float) -> int:
    return 3 if max_months <= 24 else 6 if max_months <= 60 else 12


def step_points(t: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of the KM step curve from (0, 1): S(t) holds until the next event time and drops there,
    so events on day 1 draw a drop from 1.0 at day 1."""
    t, s = np.asarray(t, dtype=float), np.asarray(s, dtype=float)
    if not len(t) or t[0] > 0:
        t, s = np.r_[0.0, t], np.r_[1.0, s]
    return np.repeat(t, 2)[1:], np.repeat(s, 2)[:-1]


def _curve(ax, time_m: np.ndarray, event: np.ndarray, colour: str, label: str, band: bool) -> None:
    kmf = km.fit(time_m, event)
    sf = kmf.survival_function_.iloc[:, 0]
    ax.plot(*step_points(sf.index.to_numpy(float), sf.to_numpy(float)), color=colour, linewidth=1.6,
            label=label)
    if band:
        ci = kmf.confidence_interval_
        ax.fill_between(ci.index.to_numpy(float), ci.iloc[:, 0], ci.iloc[:, 1], step="post",
                        color=colour, alpha=0.12, linewidth=0, label="95% CI (log-log)")
    cens = np.unique(time_m[event == 0])  # one tick per censoring time: more would overdraw the same mark
    if len(cens):
        ax.plot(cens, kmf.survival_function_at_times(cens).to_numpy(float), linestyle="none", marker="|",
                markersize=9, markeredgewidth=1.4, color=colour)


def _risk_table(ax, curves: list[tuple[str, np.ndarray, str]], ticks: np.ndarray) -> None:
    ax.set_ylim(-0.5, len(curves) - 0.5)
    ax.set_yticks(range(len(curves)))
    ax.set_yticklabels([name for name, _, _ in reversed(curves)])
    for label, (_, _, colour) in zip(ax.get_yticklabels(), reversed(curves)):
        label.set_color(colour)
    for row, (_, time_m, colour) in enumerate(reversed(curves)):
        for t in ticks:
            ax.text(t, row, str(km.at_risk(time_m, t)), ha="center", va="center", color=colour, fontsize=8)
    ax.tick_params(axis="y", length=0, pad=12)
    ax.tick_params(axis="x", labelbottom=False, length=0)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title("Number at risk", loc="left", fontsize=8, pad=2)


def _title(paramcd: str, param: str) -> str:
    name = re.sub(r"\s*\((days|DAYS)\)$", "", param)  # the plot is in months
    return f"{paramcd}: {name} - Kaplan-Meier estimate"


def km_figure(rows: pd.DataFrame, groups: list[str], paramcd: str, param: str, per_month: float) -> Figure:
    """Two panels, overall above and by TRT01AG1 below, each with its numbers at risk."""
    with matplotlib.rc_context(RC):
        time_m = rows["AVAL"].to_numpy(float) / per_month
        event = (1 - rows["CNSR"]).to_numpy(int)
        longest = float(time_m.max()) if len(time_m) else 1.0
        step = _tick_step(longest)
        x_max = step * max(1, math.ceil(longest / step))
        ticks = np.arange(0, x_max + step / 2, step)
        by_group = [(g, time_m[(rows["TRT01AG1"] == g).to_numpy()], event[(rows["TRT01AG1"] == g).to_numpy()],
                     GROUP_COLOURS[i % len(GROUP_COLOURS)]) for i, g in enumerate(groups)]
        panels = [("Overall", [("Overall", time_m, event, OVERALL_COLOUR)]), ("By dose group", by_group)]
        risk_heights = [0.45 + 0.28 * max(1, len(curves)) for _, curves in panels]
        fig = Figure(figsize=(9, 8.6 + 0.28 * sum(risk_heights)))
        FigureCanvasAgg(fig)
        grid = fig.add_gridspec(4, 1, height_ratios=[4, risk_heights[0], 4, risk_heights[1]], hspace=0.55,
                                left=0.25, right=0.97, top=0.93, bottom=0.05)
        for i, (title, curves) in enumerate(panels):
            ax = fig.add_subplot(grid[2 * i, 0])
            for name, t, e, colour in curves:
                if len(t):
                    _curve(ax, t, e, colour, f"{name} (n={len(t)}, events={int(e.sum())})", band=i == 0)
            ax.set_xlim(0, x_max)
            ax.set_ylim(0, 1.03)
            # Axis lines set off from the plot: a drop at day 1 (x ~ 0.03 months) or a curve at 0
            # would otherwise be drawn under them, and the curve would seem to start below 1.0.
            for side in ("left", "bottom"):
                ax.spines[side].set_position(("outward", SPINE_OFFSET))
            ax.set_xticks(ticks)
            ax.set_yticks(np.linspace(0, 1, 6))
            ax.set_xlabel("Months since start (STARTDT)")
            ax.set_ylabel("Probability without event")
            ax.set_title(title, loc="left", fontsize=10, fontweight="bold")
            ax.grid(True, color="#dddddd", linewidth=0.6)
            ax.legend(loc="best", fontsize=8, frameon=True, framealpha=0.9, edgecolor="none")
            risk = fig.add_subplot(grid[2 * i + 1, 0], sharex=ax)
            _risk_table(risk, [(name, t, colour) for name, t, _, colour in curves], ticks)
        fig.suptitle(_title(paramcd, param), fontsize=12, x=0.25, ha="left")
        fig.text(0.97, 0.01, "| censored; months = days / %g" % per_month, ha="right", fontsize=7, color="#555555")
    return fig


def write_km_plots(adtte: pd.DataFrame, groups: list[str], per_month: float, folder: Path) -> dict[str, list[Path]]:
    """km_<paramcd>.png and .svg for every PARAMCD in ADTTE."""
    written: dict[str, list[Path]] = {}
    for paramcd in dict.fromkeys(adtte["PARAMCD"]):
        rows = adtte[adtte["PARAMCD"] == paramcd]
        fig = km_figure(rows, groups, paramcd, str(rows["PARAM"].iloc[0]), per_month)
        paths = [folder / f"km_{paramcd.lower()}.png", folder / f"km_{paramcd.lower()}.svg"]
        with matplotlib.rc_context(RC):
            fig.savefig(paths[0], format="png", dpi=110, metadata=PNG_METADATA)
            fig.savefig(paths[1], format="svg", metadata=SVG_METADATA)
        written[paramcd] = paths
    return written
