"""Survival and trial report (converters/report): KM statistics against hand calculations, determinism
of every output file, the example's published figures, and a TTE parameter added only in the spec."""
from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from converters.report import km, write_report
from converters.report.markdown import survival_markdown
from converters.report.published import PublishedSpecError, compare_published
from converters.report.survival import follow_up_reverse_km, km_summary, survival_report
from studybuilder import EXAMPLE

ROOT = Path(__file__).resolve().parents[1]
Z = 1.959963984540054


# ---- hand calculations ----------------------------------------------------------------------------------

def loglog_band_by_hand(times, events):
    """[(t, S, lower, upper)] at each event time: Greenwood + log(-log) transform, written out."""
    rows, s, gw = [], 1.0, 0.0
    for t in sorted(set(times)):
        n = sum(1 for x in times if x >= t)
        d = sum(1 for x, e in zip(times, events) if x == t and e)
        if d == 0:
            continue
        s *= 1 - d / n
        gw = gw + d / (n * (n - d)) if n > d else math.inf
        if 0 < s < 1:
            sigma = math.sqrt(gw) / abs(math.log(s))
            rows.append((t, s, s ** math.exp(Z * sigma), s ** math.exp(-Z * sigma)))
        else:
            rows.append((t, s, None, None))
    return rows


def test_all_events_median_and_both_cis_by_hand():
    times, events = [1, 2, 3, 4, 5], [1, 1, 1, 1, 1]
    kmf = km.fit(times, events)
    # S = .8 .6 .4 .2 0: the first time with S <= .5 is 3
    assert km.median(kmf) == 3
    band = loglog_band_by_hand(times, events)
    lower = next(t for t, _, lo, _ in band if lo is not None and lo <= 0.5)
    upper = next((t for t, _, _, up in band if up is not None and up <= 0.5), None)
    assert (lower, upper) == (1, None)  # upper band: .969 .882 .753 .582, then S = 0 (undefined)
    assert km.median_ci_brookmeyer_crowley(kmf) == (lower, upper)
    # Collett / SPSS: se(S(3)) = .4 * sqrt(1/20 + 1/12 + 1/6); density (.6 - .4) / (3 - 2)
    se = 0.4 * math.sqrt(1 / 20 + 1 / 12 + 1 / 6) / 0.2
    assert km.median_se_collett(kmf) == pytest.approx(se)
    assert km.median_ci_normal(kmf) == pytest.approx((3 - Z * se, 3 + Z * se))


def test_censored_sample_median_ci_events_by_hand():
    times, events = [2, 3, 4, 6, 7, 9, 11], [1, 0, 1, 1, 0, 1, 0]
    summary = km_summary(times, events, per_month=1.0, landmarks=(5,))
    # S: 2 -> 6/7, 4 -> 6/7*4/5 = .686, 6 -> .686*3/4 = .514, 9 -> .514*1/2 = .257
    assert (summary["n"], summary["events"], summary["censored"]) == (7, 4, 3)
    assert summary["median_months"] == 9.0
    band = loglog_band_by_hand(times, events)
    lower = next(t for t, _, lo, _ in band if lo is not None and lo <= 0.5)
    upper = next((t for t, _, _, up in band if up is not None and up <= 0.5), None)
    assert summary["median_ci_bc_loglog_months"] == [float(lower), None if upper is None else float(upper)]
    s5 = 6 / 7 * 4 / 5
    assert summary["landmarks"][0]["survival"] == round(s5, 3)
    assert summary["landmarks"][0]["at_risk"] == 4  # 6, 7, 9, 11
    _, _, lo4, up4 = band[1]
    assert summary["landmarks"][0]["ci_lower"] == pytest.approx(lo4, abs=5e-4)
    assert summary["landmarks"][0]["ci_upper"] == pytest.approx(up4, abs=5e-4)


def test_brookmeyer_crowley_is_lifelines_band_where_defined():
    from lifelines.utils import median_survival_times
    rng = np.random.default_rng(7)
    times = rng.integers(1, 400, 40)
    events = rng.integers(0, 2, 40)
    kmf = km.fit(times, events)
    expected = median_survival_times(kmf.confidence_interval_).iloc[0].tolist()
    got = [math.inf if x is None else x for x in km.median_ci_brookmeyer_crowley(kmf)]
    assert got == expected


def test_not_reached_is_none_and_printed_nr():
    summary = km_summary([1, 2, 3, 4, 5], [1, 0, 0, 0, 0], per_month=1.0)
    assert summary["median_months"] is None
    assert summary["median_ci_spss_months"] == [None, None]
    report = {"days_per_month": 1.0, "landmarks_months": [6, 12, 24],
              "methods": {k: "" for k in ("median", "median_ci_bc_loglog", "median_ci_spss", "landmarks")},
              "follow_up": {"simple": {"n": 0, "median_months": None, "q1_months": None, "q3_months": None},
                            "reverse_km": None},
              "parameters": [{"paramcd": "OS", "param": "Overall Survival", "groups": [{"group": "Overall", **summary}]}]}
    row = next(line for line in survival_markdown(report, {}).splitlines() if line.startswith("| Overall"))
    assert row.split(" | ")[4] == "NR"


def test_reverse_km_follow_up_by_hand():
    adtte = pd.DataFrame({"USUBJID": list("ABCDEF"), "PARAMCD": "OS", "AVAL": [10, 20, 30, 35, 40, 50],
                          "CNSR": [0, 1, 1, 1, 0, 1]})
    # censorings are the events: 20 -> 4/5, 30 -> 3/5, 35 -> 2/5 <= .5
    assert follow_up_reverse_km(adtte, 1.0)["median_months"] == 35.0
    assert follow_up_reverse_km(adtte, 1.0, paramcd="PFS") is None


# ---- determinism ----------------------------------------------------------------------------------------

def small_adam() -> dict[str, pd.DataFrame]:
    ids = [f"S{i:02d}" for i in range(12)]
    groups = ["Low"] * 6 + ["High"] * 6
    adsl = pd.DataFrame({"USUBJID": ids, "SAFFL": "Y", "FUPDUR": np.arange(12) * 40.0 + 30,
                         "TRT01AG1": groups, "TR01AG1N": [1.0] * 6 + [2.0] * 6})
    rows = []
    for paramcd, shift in (("OS", 0), ("PFS", -20)):
        for i, u in enumerate(ids):
            rows.append({"USUBJID": u, "PARAMCD": paramcd, "PARAM": f"{paramcd} (days)", "TRT01AG1": groups[i],
                         "AVAL": float(30 + 40 * i + shift), "CNSR": float(i % 3 == 0)})
    return {"ADSL": adsl, "ADTTE": pd.DataFrame(rows)}


def test_outputs_are_byte_identical_across_processes(tmp_path: Path):
    frames = small_adam()
    first = tmp_path / "a"
    written = write_report(first, adam=frames)
    assert {p.suffix for p in written} == {".json", ".md", ".png", ".svg"}
    # a second process with another hash seed: no set/dict-order or timestamp leaks into the files
    pickled = tmp_path / "adam.pkl"
    pd.to_pickle(frames, pickled)
    code = ("import sys, pandas as pd; from pathlib import Path; from converters.report import write_report; "
            "write_report(Path(sys.argv[1]), adam=pd.read_pickle(sys.argv[2]))")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "b"), str(pickled)], check=True, env=env, cwd=ROOT)
    for path in written:
        other = tmp_path / "b" / path.relative_to(first)
        assert path.read_bytes() == other.read_bytes(), path.name
    assert b"Date" not in (first / "reports" / "km_os.svg").read_bytes()


def test_groups_follow_tr01ag1n_and_plots_per_parameter(tmp_path: Path):
    written = write_report(tmp_path, adam=small_adam())
    report = json.loads((tmp_path / "reports" / "survival.json").read_text())
    assert report["groups"] == ["Overall", "Low", "High"]
    assert [p["paramcd"] for p in report["parameters"]] == ["OS", "PFS"]
    assert {p.name for p in written} >= {"km_os.png", "km_os.svg", "km_pfs.png", "km_pfs.svg"}


# ---- published figures ----------------------------------------------------------------------------------

def test_published_mismatch_and_unknown_dataset(tmp_path: Path):
    frames = small_adam()
    report = survival_report(frames, 30.4375)
    toml = tmp_path / "published.toml"
    toml.write_text('[[figure]]\nfigure = "Treated"\npublished = 13\nunit = "patients"\n'
                    'derive = { dataset = "ADSL", filter = "SAFFL == \'Y\'" }\n'
                    '[[figure]]\nfigure = "Low"\npublished = 50\nunit = "%"\nfraction = [6, 12]\n'
                    '[figure.derive]\nstatistic = "percent"\n'
                    'numerator = { dataset = "ADSL", filter = "TRT01AG1 == \'Low\'" }\n'
                    'denominator = { dataset = "ADSL" }\n')
    lines = compare_published(toml, frames, report, None)
    assert [(x["derived"], x["match"]) for x in lines] == [(12, False), (50, True)]
    toml.write_text('[[figure]]\nfigure = "AE"\npublished = 1\nderive = { dataset = "AE" }\n')
    with pytest.raises(PublishedSpecError, match="AE"):
        compare_published(toml, frames, report, tmp_path / "sdtm")


@pytest.fixture(scope="module")
def example_pkg(tmp_path_factory) -> Path:
    from converters.pipeline import convert_study
    out = tmp_path_factory.mktemp("report") / "pkg"
    result = convert_study(EXAMPLE, out)
    assert result.ok, result.problems[:3]
    return out


def test_example_every_published_figure_matches(example_pkg: Path):
    written = write_report(example_pkg, published=EXAMPLE / "published.toml")
    report = json.loads((example_pkg / "reports" / "survival.json").read_text())
    section = report["published_vs_derived"]
    misses = [(x["figure"], x["published_text"], x["derived_text"]) for x in section["figures"]
              if x["checked"] and not x["match"]]
    assert misses == []
    assert section["checked"] == section["matched"] >= 40
    for paramcd in ("os", "pfs", "efs", "dor"):
        for ext in ("png", "svg"):
            path = example_pkg / "reports" / f"km_{paramcd}.{ext}"
            assert path in written and path.stat().st_size > 10_000
    md = (example_pkg / "reports" / "published-vs-derived.md").read_text()
    assert "**NO**" not in md and "| Median progression-free survival | 22.2 | 22.2 |" in md


def test_tte_parameter_added_in_spec_only(example_pkg: Path, tmp_path: Path):
    from converters.adam.build import derive_adam
    from converters.adam.sdtm_in import read_sdtm
    from schemas.config import load_config
    from specs import toml_spec
    spec = copy.deepcopy(toml_spec("tte", "adamig-1.3"))
    spec["parameter"].append({"paramcd": "TTR", "param": "Time to Relapse (days)", "population": "SAFFL == 'Y'",
                              "start": {"dataset": "ADRS", "filter": "PARAMCD == 'FRESP'", "date": "ADT"},
                              "events": ["relapse_or_progression"], "censors": ["last_assessment"]})
    adam = derive_adam(read_sdtm(example_pkg / "sdtm"), load_config(EXAMPLE), tte_spec=spec)
    ttr = adam["ADTTE"][adam["ADTTE"]["PARAMCD"] == "TTR"]
    dor = adam["ADTTE"][adam["ADTTE"]["PARAMCD"] == "DOR"]
    assert len(ttr) == len(dor) == 11  # the responders
    # relapse only: the DOR deaths without relapse are censored in TTR
    assert (ttr["CNSR"] == 0).sum() <= (dor["CNSR"] == 0).sum()
    written = write_report(tmp_path, adam=adam)
    report = json.loads((tmp_path / "reports" / "survival.json").read_text())
    entry = next(p for p in report["parameters"] if p["paramcd"] == "TTR")
    overall = entry["groups"][0]
    assert (overall["n"], overall["events"]) == (11, int((ttr["CNSR"] == 0).sum()))
    assert tmp_path / "reports" / "km_ttr.png" in written
    assert "## TTR: Time to Relapse (days)" in (tmp_path / "reports" / "survival.md").read_text()
