"""`cdisc compare` and the lineage file at scale, on a generated study's AE (one JSON line).

    python -m benchmarks.compare --subjects 10000 --ae-rows 1000000 [--study DIR] [--changes 1000]
    python -m benchmarks.compare --full-lineage --subjects 10000   # lineage of a whole generated study

Writes ae.xpt with the conversion's own AE chain (keeping the mapped source rows), then times:
``lineage_s`` (reports/lineage.parquet for that AE), ``equal`` (`compare_packages` of the package with
itself, reading included) and, against a copy with ``--changes`` cells changed and as many records
deleted, ``changed_read`` (both files) and ``changed_compare`` (matching and comparing). The changed
comparison must find exactly what was changed (``correct``). ``--full-lineage`` times only the lineage
file of a full study (DM, AE, RS, EX: ~2.9M records at 10k subjects), as ``convert_study`` writes it.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.e2e import Clock, peak_rss_mb
from benchmarks.generate import generate


def build_ae(study: Path, out: Path) -> tuple[dict, float]:
    """ae.xpt in out/sdtm (as the pipeline writes it) and the seconds the lineage file took."""
    from converters.compare.lineage import lineage_frames, write_lineage
    from converters.pipeline import SDTM, conform_all, package_timestamp, write_conformed
    from converters.sdtm.ae import map_ae
    from converters.sdtm.reference import subject_reference
    from converters.source.load import load_study

    src = load_study(study)
    if not src.ok:
        raise SystemExit(f"generated study has errors: {src.problems[:3]}")
    f = src.frames
    ref = subject_reference(f["subjects"], f["exposure"], src.config)
    mapped = {"AE": (map_ae(f["adverse_events"], ref, src.config), {"adverse_events": len(f["adverse_events"])})}
    conformed, _ = conform_all({"AE": mapped["AE"][0]}, SDTM)
    write_conformed(out / "sdtm", conformed, SDTM, package_timestamp(src.config))
    start = time.perf_counter()
    path = write_lineage(out, lineage_frames(mapped, conformed))
    seconds = time.perf_counter() - start
    return {"records": len(conformed["AE"]), "lineage_bytes": path.stat().st_size}, seconds


def full_lineage(study: Path, out: Path) -> dict:
    from converters.compare.lineage import lineage_frames, write_lineage
    from converters.pipeline import SDTM, conform_all, map_sdtm
    from converters.source.load import load_study

    src = load_study(study)
    mapped = map_sdtm(src)
    conformed, _ = conform_all({name: frame for name, (frame, _) in mapped.items()}, SDTM)
    w, c = time.perf_counter(), time.process_time()
    path = write_lineage(out, lineage_frames(mapped, conformed))
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    import pyarrow.parquet as pq

    return {"lineage_records": pq.read_metadata(path).num_rows, "lineage_s": round(wall, 3),
            "lineage_cpu_s": round(cpu, 3), "lineage_bytes": path.stat().st_size}


def changed_copy(base: Path, out: Path, changes: int, seed: int = 7) -> tuple[set, set]:
    """A copy of base/sdtm/ae.xpt with ``changes`` AETERM cells changed and ``changes`` records deleted."""
    from converters.compare.tables import read_table
    from converters.xpt import XptVariable, write_xpt

    t = read_table(base / "sdtm" / "ae.xpt")
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(t.frame), size=2 * changes, replace=False)
    cells, gone = picked[:changes], picked[changes:]
    frame = t.frame.copy()
    frame.loc[cells, "AETERM"] = "CHANGED"
    frame = frame.drop(index=gone).reset_index(drop=True)
    variables = [XptVariable(c, t.labels[c], t.types[c], t.lengths.get(c) if t.types[c] == "Char" else 8,
                             t.formats.get(c, "")) for c in frame.columns]
    (out / "sdtm").mkdir(parents=True)
    write_xpt(out / "sdtm" / "ae.xpt", frame, dataset="AE", label=t.label, variables=variables,
              created=dt.datetime(2028, 1, 31))
    return set(cells.tolist()), set(gone.tolist())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=10000)
    ap.add_argument("--ae-rows", type=int, default=1_000_000)
    ap.add_argument("--changes", type=int, default=1000)
    ap.add_argument("--study", type=Path, help="use this study folder instead of generating one")
    ap.add_argument("--full-lineage", action="store_true", help="time the lineage file of a full study only")
    args = ap.parse_args(argv)
    if args.full_lineage:
        with tempfile.TemporaryDirectory() as tmp:
            study = args.study or generate(Path(tmp) / "study", subjects=args.subjects)
            print(json.dumps(full_lineage(study, Path(tmp) / "out")))
        return 0
    from converters.compare.diff import compare_tables
    from converters.compare.package import compare_packages
    from converters.compare.tables import read_table

    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        study = args.study or generate(tmp / "study", subjects=args.subjects, ae_rows=args.ae_rows, rs=1, ex=2)
        info, lineage_s = build_ae(study, tmp / "base")
        cells, gone = changed_copy(tmp / "base", tmp / "changed", args.changes)
        with clock.stage("equal"):
            same = compare_packages(tmp / "base", tmp / "base")
        with clock.stage("changed_read"):
            base, changed = read_table(tmp / "base" / "sdtm" / "ae.xpt"), read_table(tmp / "changed" / "sdtm" / "ae.xpt")
        with clock.stage("changed_compare"):
            diff = compare_tables(base, changed)
        found = {c.variable: c.count for c in diff.cells}
        lost = len(cells & gone)  # a changed cell of a deleted record is not a cell difference
        ok = same.equal and diff.only_base == len(gone) and diff.only_compare == 0 and found == {"AETERM": len(cells) - lost}
        print(json.dumps({
            "machine": f"{platform.machine()} {os.cpu_count()} cpu, python {platform.python_version()}",
            "records": info["records"], "lineage_s": round(lineage_s, 3), "lineage_bytes": info["lineage_bytes"],
            "stages_s": clock.wall, "stages_cpu_s": clock.cpu, "found": found, "only_in_base": diff.only_base,
            "correct": ok, "peak_rss_mb": peak_rss_mb()}))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
