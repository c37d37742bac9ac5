"""Dataset-JSON writing and reading at scale, against the XPT writer on the same frame (one JSON line).

    python -m benchmarks.datasetjson --subjects 10000 --ae-rows 1000000 [--study DIR] [--repeat 3]

Builds the conformed AE frame with the conversion's own chain, then times (best of --repeat) on that
frame: the XPT writer (``write_xpt`` as the pipeline calls it), writing ae.json / ae.ndjson / ae.dsjc,
and reading each back to a frame (XPT read by the same layer). ``*_over_xpt_write`` are the ratios the
target is stated in.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from benchmarks.e2e import peak_rss_mb
from benchmarks.generate import generate


def conformed_ae(study: Path):
    from converters.pipeline import SDTM, conform_all
    from converters.sdtm.ae import map_ae
    from converters.sdtm.reference import subject_reference
    from converters.source.load import load_study

    src = load_study(study)
    if not src.ok:
        raise SystemExit(f"generated study has errors: {src.problems[:3]}")
    f = src.frames
    ref = subject_reference(f["subjects"], f["exposure"], src.config)
    conformed, _ = conform_all({"AE": map_ae(f["adverse_events"], ref, src.config)}, SDTM)
    return conformed["AE"], src.config


def best(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return round(min(times), 3)


def run(study: Path, out: Path, repeat: int) -> dict:
    from converters import datasets
    from converters.pipeline import SDTM, package_timestamp, xpt_variables
    from converters.xpt import write_xpt
    from specs import dataset

    frame, config = conformed_ae(study)
    created = package_timestamp(config)
    spec = dataset("AE", SDTM)
    xpt = out / "ae.xpt"
    result: dict = {"records": len(frame), "columns": len(frame.columns)}
    result["xpt_write_s"] = best(lambda: write_xpt(xpt, frame, dataset="AE", label=spec.label,
                                                   variables=xpt_variables(spec, frame), created=created), repeat)
    result["xpt_read_s"] = best(lambda: datasets.read(xpt), repeat)
    _, meta = datasets.read(xpt)
    for kind in ("json", "ndjson", "dsjc"):
        path = out / f"ae.{kind}"
        result[f"{kind}_write_s"] = best(lambda: datasets.FORMATS[kind].write(path, frame, meta), repeat)
        result[f"{kind}_read_s"] = best(lambda: datasets.read(path), repeat)
        result[f"{kind}_mb"] = round(path.stat().st_size / 1e6, 1)
        for op in ("write", "read"):
            result[f"{kind}_{op}_over_xpt_write"] = round(result[f"{kind}_{op}_s"] / result["xpt_write_s"], 2)
    result["xpt_mb"] = round(xpt.stat().st_size / 1e6, 1)
    result["peak_rss_mb"] = peak_rss_mb()
    result["python"] = platform.python_version()
    result["cpus"] = os.cpu_count()
    return result


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=10_000)
    ap.add_argument("--ae-rows", type=int, default=1_000_000)
    ap.add_argument("--study", type=Path, help="use (or create) the generated study here")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        study = args.study or Path(tmp) / "study"
        if not (study / "study.toml").is_file():
            generate(study, args.subjects, ae_rows=args.ae_rows)
        out = Path(tmp) / "out"
        out.mkdir()
        result = run(study, out, args.repeat)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
