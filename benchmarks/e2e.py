"""End-to-end timing of `cdisc convert` stages on a generated study, against a reference pipeline.

    python -m benchmarks.e2e --subjects 10000                 # full package: SDTM, ADaM, define, ...
    python -m benchmarks.e2e --ae-only --ae-rows 1000000      # CSV -> validated -> ae.xpt only

Prints one JSON line per run: rows per dataset, wall and CPU seconds per stage, peak RSS, and, in
the same process on the same AE data, the reference pipeline a careful newcomer would write
(Pydantic ``model_validate`` per row, pandas ``DataFrame.apply(axis=1)`` mapping,
``pyreadstat.write_xport``) with the ratio reference / ours. Then the XPT writer alone on the AE
frame against pyreadstat and, when ``Rscript`` with haven is installed, haven::write_xpt.
The full mode runs ``converters.pipeline.convert_study`` itself, timed through its progress messages.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks.generate import generate


class Clock:
    """Wall and CPU seconds per named stage (CPU includes helper threads: pyarrow, the XPT writer)."""

    def __init__(self):
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str):
        w, c = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall[name] = round(self.wall.get(name, 0.0) + time.perf_counter() - w, 3)
            self.cpu[name] = round(self.cpu.get(name, 0.0) + time.process_time() - c, 3)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


STAGES = {  # convert_study progress message -> stage that starts there
    "reading and checking source": "load", "mapping SDTM": "map", "writing XPT": "write_xpt",
    "deriving ADaM": "adam", "writing define.xml": "define", "survival report": "report",
    "conformance checks": "validate_package",
}


def run_full(study: Path, out: Path, clock: Clock) -> dict[str, int]:
    """``convert_study`` itself, timed stage by stage through its progress messages. Inside it, the
    read/validate split of load_study and every XPT write (SDTM and ADaM) are timed by wrapping
    those functions; their time is moved out of the enclosing stage."""
    import converters.pipeline as pipeline
    from converters.source.load import check_forms, load_config_problems, read_forms, StudySource

    inner: dict[str, float] = {"read": 0.0, "validate": 0.0, "write_xpt": 0.0}
    inner_cpu = dict(inner)

    def timed(name, func):
        def run(*args, **kw):
            w, c = time.perf_counter(), time.process_time()
            try:
                return func(*args, **kw)
            finally:
                inner[name] += time.perf_counter() - w
                inner_cpu[name] += time.process_time() - c
        return run

    def load_study(folder):  # load_study's fast path, split in its two stages
        src = StudySource(folder=Path(folder))
        src.config, src.problems = load_config_problems(Path(folder))
        return timed("validate", check_forms)(src, timed("read", read_forms)(src))

    marks: list[tuple[str, float, float]] = []
    saved = pipeline.load_study, pipeline.write_conformed
    pipeline.load_study, pipeline.write_conformed = load_study, timed("write_xpt", pipeline.write_conformed)
    try:
        result = pipeline.convert_study(study, out, progress=lambda m: marks.append(
            (next((v for k, v in STAGES.items() if k in m), m), time.perf_counter(), time.process_time())))
    finally:
        pipeline.load_study, pipeline.write_conformed = saved
    marks.append(("end", time.perf_counter(), time.process_time()))
    if not result.ok:
        raise SystemExit(f"conversion failed: {result.problems[:3]}")
    for (name, w0, c0), (_, w1, c1) in zip(marks, marks[1:]):
        clock.wall[name] = clock.wall.get(name, 0.0) + w1 - w0
        clock.cpu[name] = clock.cpu.get(name, 0.0) + c1 - c0
    # the wrapped functions ran inside "load", "write_xpt" and "adam": report them apart
    clock.wall["adam"] -= inner["write_xpt"] - (clock.wall["write_xpt"])
    clock.cpu["adam"] -= inner_cpu["write_xpt"] - (clock.cpu["write_xpt"])
    clock.wall["write_xpt"], clock.cpu["write_xpt"] = inner["write_xpt"], inner_cpu["write_xpt"]
    del clock.wall["load"], clock.cpu["load"]
    for name in ("read", "validate"):
        clock.wall[name], clock.cpu[name] = inner[name], inner_cpu[name]
    clock.wall = {k: round(v, 3) for k, v in clock.wall.items()}
    clock.cpu = {k: round(v, 3) for k, v in clock.cpu.items()}
    return dict(result.records)


def run_ae_only(study: Path, out: Path, clock: Clock) -> tuple[dict[str, int], pd.DataFrame]:
    """Source -> validated -> ae.xpt: load_study's two stages, map_ae + conform, the XPT write."""
    from converters.pipeline import SDTM, conform_all, package_timestamp, write_conformed
    from converters.sdtm.ae import map_ae
    from converters.sdtm.reference import subject_reference
    from converters.source.load import StudySource, check_forms, load_config_problems, read_forms

    src = StudySource(folder=study)
    src.config, src.problems = load_config_problems(study)
    with clock.stage("read"):
        tables = read_forms(src)
    with clock.stage("validate"):
        check_forms(src, tables)
    del tables
    if not src.ok:
        raise SystemExit(f"generated study has errors: {src.problems[:3]}")
    f = src.frames
    with clock.stage("map"):
        ref = subject_reference(f["subjects"], f["exposure"], src.config)
        conformed, _ = conform_all({"AE": map_ae(f["adverse_events"], ref, src.config)}, SDTM)
    with clock.stage("write_xpt"):
        records = write_conformed(out / "sdtm", conformed, SDTM, package_timestamp(src.config))
    return records, conformed["AE"]


def _warm_imports() -> None:
    """Import what the stages use before any clock starts (imports are not conversion time)."""
    import pyreadstat  # noqa: F401

    import converters.pipeline  # noqa: F401
    from schemas.source import FORMS  # noqa: F401
    from specs import codelists

    codelists()


# --- The reference pipeline: what a careful newcomer writes ------------------------------------

def run_reference(study: Path, out: Path, clock: Clock) -> int:
    """AE only: csv.DictReader, AdverseEvent.model_validate per row, DataFrame.apply(axis=1), pyreadstat."""
    import pyreadstat
    from pydantic import ValidationError

    from schemas.config import load_config
    from schemas.source import AdverseEvent, Exposure, Subject

    config = load_config(study)
    studyid = config.study.studyid

    def records(form: str, model):
        spec = config.sources[form]
        path = study / spec.path
        if path.suffix == ".jsonl":
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        else:
            with open(path, newline="", encoding="utf-8-sig") as fh:
                rows = [{spec.rename.get(k, k): (v if v.strip() else None) for k, v in r.items()}
                        for r in csv.DictReader(fh)]
        good, bad = [], 0
        for r in rows:
            try:
                good.append(model.model_validate(r).model_dump())
            except ValidationError:
                bad += 1
        return pd.DataFrame(good)

    with clock.stage("ref_read_validate"):
        subjects = records("subjects", Subject)
        exposure = records("exposure", Exposure)
        ae = records("adverse_events", AdverseEvent)
    with clock.stage("ref_map"):
        rfstdtc = dict(zip(subjects["subject_id"], subjects["infusion_date"]))

        def study_day(dtc, ref):
            if not dtc or not ref or len(dtc) < 10:
                return None
            days = (dt.date.fromisoformat(dtc[:10]) - dt.date.fromisoformat(ref[:10])).days
            return float(days + 1 if days >= 0 else days)

        def to_ae(r):
            ref = rfstdtc.get(r["subject_id"])
            return pd.Series({
                "STUDYID": studyid, "DOMAIN": "AE", "USUBJID": f"{studyid}-{r['subject_id']}",
                "AESPID": r["ae_id"], "AETERM": r["verbatim_term"], "AEDECOD": r["preferred_term"],
                "AEBODSYS": r["system_organ_class"], "AESEV": None, "AESER": r["serious"],
                "AEACN": r["action_taken"], "AEREL": r["relationship"], "AEOUT": r["outcome"],
                "AETOXGR": str(r["grade"]), "AESTDTC": r["start_date"], "AEENDTC": r["end_date"],
                "AESTDY": study_day(r["start_date"], ref), "AEENDY": study_day(r["end_date"], ref),
            })

        mapped = ae.apply(to_ae, axis=1)
        mapped = mapped.sort_values(["USUBJID", "AESTDTC", "AEDECOD", "AESPID"], kind="mergesort")
        mapped["AESEQ"] = mapped.groupby("USUBJID").cumcount().astype(float) + 1
    with clock.stage("ref_write_xpt"):
        out.mkdir(parents=True, exist_ok=True)
        pyreadstat.write_xport(mapped, str(out / "ae.xpt"), table_name="AE", file_format_version=5)
    del exposure
    return len(mapped)


# --- XPT writers alone ------------------------------------------------------------------------

def xpt_writers(frame: pd.DataFrame, folder: Path, *, haven: bool, pyreadstat_too: bool = True) -> dict:
    from converters.pipeline import SDTM, xpt_variables
    from converters.xpt import write_xpt
    from specs import dataset

    spec = dataset("AE", SDTM)
    variables = xpt_variables(spec, frame)
    result: dict[str, object] = {"rows": len(frame), "columns": len(frame.columns)}
    ours = folder / "ae.xpt"
    start = time.perf_counter()
    write_xpt(ours, frame, dataset="AE", label=spec.label, variables=variables, created=dt.datetime(2028, 1, 31))
    result["ours_s"] = round(time.perf_counter() - start, 3)
    if pyreadstat_too:
        import pyreadstat

        start = time.perf_counter()
        pyreadstat.write_xport(frame, str(folder / "ae_pyreadstat.xpt"), table_name="AE", file_label=spec.label,
                               column_labels=[v.label for v in variables], file_format_version=5)
        result["pyreadstat_s"] = round(time.perf_counter() - start, 3)
        result["pyreadstat_over_ours"] = round(result["pyreadstat_s"] / result["ours_s"], 2)
    if haven:
        seconds = haven_write_seconds(ours, folder / "ae_haven.xpt")
        if seconds is not None:
            result["haven_s"] = seconds
            result["haven_over_ours"] = round(seconds / result["ours_s"], 2)
    return result


def haven_available() -> bool:
    if not shutil.which("Rscript"):
        return False
    probe = subprocess.run(["Rscript", "-e", "suppressMessages(library(haven))"], capture_output=True)
    return probe.returncode == 0


def haven_write_seconds(source_xpt: Path, target: Path) -> float | None:
    """haven::write_xpt(version = 5) elapsed seconds for the data read (untimed) from ``source_xpt``."""
    script = (f'suppressMessages(library(haven)); d <- read_xpt("{source_xpt}"); '
              f't <- system.time(write_xpt(d, "{target}", version = 5, name = "AE")); cat(t[["elapsed"]])')
    run = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True)
    if run.returncode != 0:
        print(f"haven failed: {run.stderr.strip()[:200]}", file=sys.stderr)
        return None
    return round(float(run.stdout.strip().split()[-1]), 3)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--subjects", type=int, default=10_000)
    p.add_argument("--ae", type=int, default=100, help="AE records per subject")
    p.add_argument("--ae-rows", type=int, default=None, help="exact AE row count (overrides --ae)")
    p.add_argument("--rs", type=int, default=None, help="RS assessments per subject (default 100; 1 with --ae-only)")
    p.add_argument("--ex", type=int, default=None, help="EX records per subject (default 20; 2 with --ae-only)")
    p.add_argument("--ae-only", action="store_true", help="time CSV -> validated -> ae.xpt only")
    p.add_argument("--no-reference", action="store_true", help="skip the reference pipeline (ae-only mode)")
    p.add_argument("--reference", action="store_true", help="also run the AE reference pipeline in full mode")
    p.add_argument("--no-writers", action="store_true", help="skip the XPT writer comparison")
    p.add_argument("--study", type=Path, default=None, help="use this study folder instead of generating one")
    p.add_argument("--seed", type=int, default=20261125)
    a = p.parse_args(argv)
    rs = a.rs if a.rs is not None else (1 if a.ae_only else 100)
    ex = a.ex if a.ex is not None else (2 if a.ae_only else 20)
    result: dict[str, object] = {
        "mode": "ae-only" if a.ae_only else "full", "subjects": a.subjects,
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, python {platform.python_version()}",
        "slow_path": os.environ.get("CDISC_SLOW_PATH", "") == "1",
    }
    with tempfile.TemporaryDirectory(prefix="cdisc-e2e-") as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        study = a.study or generate(tmp / "study", a.subjects, ae=a.ae, rs=rs, ex=ex, ae_rows=a.ae_rows, seed=a.seed)
        result["generate_s"] = round(time.perf_counter() - start, 2)
        _warm_imports()
        clock = Clock()
        start = time.perf_counter()
        if a.ae_only:
            records, ae_frame = run_ae_only(study, tmp / "package", clock)
        else:
            records = run_full(study, tmp / "package", clock)
            ae_frame = None
        result["ours_total_s"] = round(time.perf_counter() - start, 3)
        result["records"] = records
        result["stages_s"] = clock.wall
        result["stages_cpu_s"] = clock.cpu
        result["peak_rss_mb"] = peak_rss_mb()
        if (a.ae_only and not a.no_reference) or a.reference:
            ref = Clock()
            start = time.perf_counter()
            result["reference_rows"] = run_reference(study, tmp / "reference", ref)
            result["reference_total_s"] = round(time.perf_counter() - start, 3)
            result["reference_stages_s"] = ref.wall
            if a.ae_only:  # the same work: the AE chain (the other forms are a few rows in this mode)
                result["reference_over_ours"] = round(result["reference_total_s"] / result["ours_total_s"], 2)
        if not a.no_writers:
            if ae_frame is None:  # the AE dataset as written, read back
                import pyreadstat

                ae_frame, _ = pyreadstat.read_xport(str(tmp / "package" / "sdtm" / "ae.xpt"))
            folder = tmp / "writers"
            folder.mkdir()
            result["xpt_writer"] = xpt_writers(ae_frame, folder, haven=haven_available())
        result["peak_rss_mb_all"] = peak_rss_mb()
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
