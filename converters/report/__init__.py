"""Survival and trial report of a written package, computed from its ADaM datasets.

write_report(package_dir) -> [paths] writes under package_dir/reports/:
survival.json and survival.md (KM per ADTTE parameter and dose group, follow-up), km_<paramcd>.png/.svg,
and, given a published.toml, published-vs-derived.md (also a section of survival.json).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from converters.report.data import as_analysis, read_folder
from converters.report.markdown import published_markdown, survival_markdown
from converters.report.plots import write_km_plots
from converters.report.published import compare_published
from converters.report.survival import group_order, survival_report
from specs import toml_spec

STANDARD = "adamig-1.3"

__all__ = ["write_report"]


def _json(data) -> str:
    # sorted keys, no timestamps: identical inputs give identical bytes
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def write_report(package_dir: Path, adam: dict[str, pd.DataFrame] | None = None,
                 published: Path | None = None, sdtm_dir: Path | None = None) -> list[Path]:
    """Write the report files of ``package_dir`` and return their paths (sorted).

    ``adam``: ADaM frames already in memory; by default OUT/adam/*.xpt are read. ``published``: a
    published.toml whose figures are re-derived (SDTM, from ``sdtm_dir``, default OUT/sdtm, is read only
    for datasets ADaM lacks).
    """
    package_dir = Path(package_dir)
    frames = as_analysis(adam) if adam is not None else read_folder(package_dir / "adam")
    missing = [d for d in ("ADSL", "ADTTE") if d not in frames]
    if missing:
        raise FileNotFoundError(f"{package_dir / 'adam'}: no {', '.join(missing)} dataset for the report")
    per_month = float(toml_spec("analysis", STANDARD)["days_per_month"])
    out = package_dir / "reports"
    out.mkdir(parents=True, exist_ok=True)
    report = survival_report(frames, per_month)
    plots = write_km_plots(frames["ADTTE"], group_order(frames["ADSL"], frames["ADTTE"]), per_month, out)
    written = [p for paths in plots.values() for p in paths]
    if published is not None:
        lines = compare_published(Path(published), frames, report,
                                  Path(sdtm_dir) if sdtm_dir else package_dir / "sdtm")
        report["published_vs_derived"] = {"source": Path(published).name, "figures": lines,
                                          "checked": sum(x["checked"] for x in lines),
                                          "matched": sum(x["checked"] and x["match"] for x in lines)}
        path = out / "published-vs-derived.md"
        path.write_text(published_markdown(lines), encoding="utf-8")
        written.append(path)
    names = {k: [p.name for p in v] for k, v in plots.items()}
    for name, text in (("survival.json", _json(report)), ("survival.md", survival_markdown(report, names))):
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)
    return sorted(written)
