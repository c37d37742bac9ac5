"""Kaplan-Meier plot geometry: every curve starts at (0, 1.0); events on day 1 drop from 1.0 at day 1,
and that drop is drawn clear of the axis line rather than under it."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from converters.report.plots import km_figure, step_points

PER_MONTH = 30.4375
DAY1 = 1 / PER_MONTH


def test_step_points_hold_each_value_until_the_next_time():
    x, y = step_points(np.array([0.0, 2.0, 5.0]), np.array([1.0, 0.5, 0.25]))
    assert x.tolist() == [0.0, 2.0, 2.0, 5.0, 5.0]
    assert y.tolist() == [1.0, 1.0, 0.5, 0.5, 0.25]


def test_step_points_start_at_one_when_the_timeline_does_not():
    x, y = step_points(np.array([DAY1, 3.0]), np.array([0.5, 0.0]))
    assert x.tolist() == [0.0, DAY1, DAY1, 3.0, 3.0]
    assert y.tolist() == [1.0, 1.0, 0.5, 0.5, 0.0]


@pytest.fixture(scope="module")
def figure():
    # group A: three events on day 1 (EFS of month-3 non-responders); group B: later events
    rows = pd.DataFrame({"AVAL": [1, 1, 1, 40, 100, 200.0], "CNSR": [0, 0, 0, 1, 0, 1],
                         "TRT01AG1": ["A", "A", "A", "B", "B", "B"]})
    fig = km_figure(rows, ["A", "B"], "EFS", "Event-Free Survival", PER_MONTH)
    fig.canvas.draw()
    return fig


def curve(ax):
    """The first (step) line of a panel: the curve, not the censoring ticks."""
    return next(line for line in ax.get_lines() if line.get_linestyle() != "None")


def test_day_one_events_are_drawn_from_one(figure):
    overall, by_group = figure.axes[0], figure.axes[2]
    x, y = curve(overall).get_xdata(), curve(overall).get_ydata()
    assert (x[0], y[0]) == (0.0, 1.0)
    assert x[1] == x[2] == pytest.approx(DAY1)
    assert (y[1], y[2]) == (1.0, pytest.approx(0.5))  # 3 of 6 at day 1
    xa, ya = curve(by_group).get_xdata(), curve(by_group).get_ydata()  # group A: all three on day 1
    assert xa.tolist()[:3] == pytest.approx([0.0, DAY1, DAY1])
    assert ya.tolist()[:3] == [1.0, 1.0, 0.0]


def test_a_day_one_drop_is_not_hidden_under_the_axis_line(figure):
    renderer = figure.canvas.get_renderer()
    for ax in (figure.axes[0], figure.axes[2]):
        line = curve(ax)
        drop_px = ax.transData.transform((line.get_xdata()[1], 0.75))[0]
        spine = ax.spines["left"].get_window_extent(renderer)
        assert drop_px - line.get_linewidth() > spine.x1 + 2, (drop_px, spine)
        # and a curve that reaches 0 stays above the bottom axis line
        zero_px = ax.transData.transform((1.0, 0.0))[1]
        assert zero_px > ax.spines["bottom"].get_window_extent(renderer).y1 + 2
