"""One study folder -> one package: read, check, map to SDTM, conform to spec, write atomically."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from converters.package.atomic import staged_output
from converters.package.manifest import build_manifest, write_json
from converters.adam.build import analysis_definitions, derive_adam
from converters.adam.input_checks import check_sdtm_input
from converters.adam.sdtm_in import SdtmInputError, read_sdtm
from converters.compare.lineage import lineage_frames, write_lineage
from converters.datasets import FORMATS, DatasetError, dataset_files, xport5
from converters.datasets.package import write_formats
from converters.define import DefineError, write_define
from converters.report import write_report
from converters.report.published import PublishedSpecError
from converters.validate import validate_package, write_reports
from converters.problems import Problem, has_errors, problems_json
from converters.sdtm.ae import map_ae
from converters.sdtm.conform import conform
from converters.sdtm.dm import map_dm
from converters.sdtm.ex import map_ex
from converters.sdtm.reference import subject_reference
from converters.sdtm.rs import map_rs
from converters.sdtm.supp import map_supp
from converters.sdtm.ts import map_ts
from converters.source.ascii import check_ascii
from converters.source.control import check_control
from converters.source.load import StudySource, load_study
from converters.xpt import XptError, XptVariable, write_xpt
from schemas.config import CONFIG_NAMES, StudyConfig
from schemas.source import FORMS
import specs
from specs import Dataset, SpecError, SpecSet, dataset

SDTM, ADAM = "sdtmig-3.4", "adamig-1.3"

Progress = Callable[[str], None]
# What convert_study and adam_package report through ``progress``, in order: the length of a progress bar.
STAGES = ("reading and checking source", "mapping SDTM", "writing XPT", "deriving ADaM", "writing define.xml",
          "survival report", "conformance checks")
ADAM_STAGES = ("deriving ADaM", "writing define.xml", "survival report", "conformance checks")

# Source fields with no SDTM target in this package: listed in the manifest, never dropped silently.
UNMAPPED = {"response.marrow_blasts_pct": "bone marrow blasts belong in LB, which this package does not generate"}


@dataclass
class ConvertResult:
    study: str
    ok: bool
    problems: list[Problem] = field(default_factory=list)
    records: dict[str, int] = field(default_factory=dict)
    out_dir: Path | None = None
    sources: list[str] = field(default_factory=list)  # source files, subjects form first


def package_timestamp(config: StudyConfig) -> dt.datetime:
    """XPT header timestamp: SOURCE_DATE_EPOCH if set (reproducible builds), else the configured one."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).replace(tzinfo=None)
    return dt.datetime.fromisoformat(config.study.package_datetime)


def map_sdtm(src: StudySource) -> dict[str, tuple[pd.DataFrame, dict[str, int]]]:
    """All SDTM domains of a checked source: {dataset: (frame, {source form: records})}."""
    cfg, f = src.config, src.frames
    ref = subject_reference(f["subjects"], f["exposure"], cfg)
    dm = map_dm(f["subjects"], f["exposure"], cfg)
    ae = map_ae(f["adverse_events"], ref, cfg)
    rs = map_rs(f["response"], ref, cfg)
    ex = map_ex(f["exposure"], ref, cfg)
    return {
        "DM": (dm, {"subjects": len(dm)}),
        "SUPPDM": (map_supp(dm, "DM"), {"subjects": None}),
        "AE": (ae, {"adverse_events": len(ae)}),
        "SUPPAE": (map_supp(ae, "AE"), {"adverse_events": None}),
        "RS": (rs, {"response": len(rs)}),
        "EX": (ex, {"exposure": len(ex)}),
        "TS": (map_ts(cfg, dm), {}),
    }


def xpt_variables(spec: Dataset, frame: pd.DataFrame) -> list[XptVariable]:
    return [XptVariable(v.name, v.label, v.type, v.length, v.display_format)
            for v in spec.variables if v.name in frame.columns]


def conform_all(frames: dict[str, pd.DataFrame], standard: str) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Each frame conformed to its spec (empty SUPP-- datasets are not submitted)."""
    out, problems = {}, []
    for name, frame in frames.items():
        if frame.empty and name.startswith("SUPP"):
            continue
        out[name], found = conform(frame, dataset(name, standard), req_non_null=standard.startswith("sdtm"))
        problems += found
    return out, problems


def write_conformed(folder: Path, frames: dict[str, pd.DataFrame], standard: str, created: dt.datetime,
                    transliterate: bool = False, digests: dict[Path, str] | None = None) -> dict[str, int]:
    """Each frame as <name>.xpt; ``digests`` (when given) receives each file's SHA-256."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        spec = dataset(name, standard)
        path, written = folder / f"{name.lower()}.xpt", []
        info = write_xpt(path, frame, dataset=name, label=spec.label, variables=xpt_variables(spec, frame),
                         created=created, transliterate=transliterate, keep=written)
        if digests is not None:
            digests[path] = info["sha256"]
        xport5.remember(path, name, spec.label, written, len(frame))  # read back by ADaM, define, checks
    return {name: len(frame) for name, frame in frames.items()}


def write_adam(sdtm: dict[str, pd.DataFrame], adam_dir: Path, config: StudyConfig | None, created: dt.datetime,
               transliterate: bool = False, digests: dict[Path, str] | None = None,
               warnings: list[Problem] | None = None) -> dict[str, int]:
    """ADaM from SDTM datasets as read back from their XPT files (never from the raw source), once the
    SDTM it reads passed its input checks (``warnings`` receives the warnings of those)."""
    found = check_sdtm_input(sdtm, analysis_definitions(config)[0])
    if has_errors(found):
        raise ConformError(found)
    if warnings is not None:
        warnings += found
    frames, problems = conform_all(derive_adam(sdtm, config), ADAM)
    if has_errors(problems):
        raise ConformError(problems)
    return write_conformed(adam_dir, frames, ADAM, created, transliterate, digests)


class ConformError(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} conformance problem(s)")
        self.problems = problems


def convert_study(study_dir: Path, out_dir: Path, *, transliterate: bool = False,
                  progress: Progress = lambda msg: None, formats: tuple[str, ...] = ("xpt",)) -> ConvertResult:
    """Convert one study folder with its spec overrides (``specs/``, merged over the shipped specs);
    write ``out_dir`` only when everything succeeded."""
    study_dir = Path(study_dir)
    try:
        in_force = specs.for_study(study_dir)
    except SpecError as exc:
        return ConvertResult(study=study_dir.resolve().name, ok=False, problems=_spec_problems(exc, study_dir))
    with specs.using(in_force):
        if (study_dir / "mapping.toml").is_file():  # a mapping spec: the generic engine, SDTM only
            from converters.mapping.package import convert_mapped
            return convert_mapped(study_dir, out_dir, in_force, transliterate, progress, formats)
        return _convert_study(study_dir, out_dir, in_force, transliterate, progress, formats)


def _convert_study(study_dir: Path, out_dir: Path, in_force: SpecSet, transliterate: bool,
                   progress: Progress, formats: tuple[str, ...] = ("xpt",)) -> ConvertResult:
    result = ConvertResult(study=study_dir.resolve().name, ok=False)
    progress(f"{study_dir.name}: reading and checking source")
    src = load_study(study_dir)
    found, transliterated = check_ascii(src, transliterate)
    src.problems += found + check_control(src)
    result.problems = list(src.problems)
    result.sources = [src.config.sources[form].path for form in FORMS] if src.config else []
    if not src.ok:
        return result
    progress(f"{study_dir.name}: mapping SDTM")
    mapped = map_sdtm(src)
    conformed, problems = conform_all({name: frame for name, (frame, _) in mapped.items()}, SDTM)
    result.problems += problems
    written: dict[str, dict[str, int]] = {}
    for name, (_, sources) in mapped.items():
        for form, n in sources.items():
            if name in conformed:
                written.setdefault(form, {})[name] = len(conformed[name]) if n is None else n
    if has_errors(result.problems):
        return result
    progress(f"{study_dir.name}: writing XPT")
    created = package_timestamp(src.config)

    @xport5.shared_reads()
    def build(stage: Path) -> None:
        sdtm = stage / "sdtm"
        digests: dict[Path, str] = {}  # XPT files are hashed as they are written
        result.records.update(write_conformed(sdtm, conformed, SDTM, created, transliterate, digests))
        progress(f"{study_dir.name}: deriving ADaM")
        result.records.update(write_adam(read_sdtm(sdtm), stage / "adam", src.config, created, transliterate, digests,
                                         result.problems))
        progress(f"{study_dir.name}: writing define.xml")
        write_define(stage, SDTM, src.config)
        write_define(stage, ADAM, src.config)
        write_formats(stage / "sdtm", formats, created)  # Dataset-JSON from the XPT and define.xml just written
        write_formats(stage / "adam", formats, created)
        progress(f"{study_dir.name}: survival report")
        published = study_dir / "published.toml"
        write_report(stage, published=published if published.is_file() else None)
        write_json(stage / "reports" / "source-validation.json", problems_json(result.problems))
        write_lineage(stage, lineage_frames(mapped, conformed))  # SDTM record -> source row, for `cdisc explain`
        progress(f"{study_dir.name}: conformance checks")
        write_conformance(stage, src.config.study.studyid)
        inputs = {CONFIG_NAMES[0]: study_dir / CONFIG_NAMES[0], **src.files}
        if published.is_file():  # it shapes reports/published-vs-derived.md
            inputs[published.name] = published
        manifest = build_manifest(studyid=src.config.study.studyid, study_dir=study_dir, inputs=inputs,
                                  rows_read=src.rows_read, rows_rejected=_rejected_rows(src), written=written,
                                  unmapped=UNMAPPED, package_dir=stage, digests=digests,
                                  transliteration={"applied": transliterate, "values_changed": transliterated},
                                  spec_overrides=in_force.manifest_entries())
        write_json(stage / "reports" / "manifest.json", manifest)

    return write_package(out_dir, result, build)


def adam_package(sdtm_dir: Path, out_dir: Path, config: StudyConfig | None = None, *,
                 transliterate: bool = False, progress: Progress = lambda msg: None,
                 spec_set: SpecSet | None = None, config_file: Path | None = None) -> ConvertResult:
    """``cdisc adam``: ADaM (and its reports) from an existing SDTM folder, written atomically to out_dir,
    under ``spec_set`` (default: the shipped specs); ``config_file`` (the study.toml of ``config``) is
    hashed in the manifest with the SDTM files."""
    sdtm_dir = Path(sdtm_dir)
    in_force = spec_set or specs.shipped()
    sdtm = read_sdtm(sdtm_dir)
    studyid = sdtm_studyid(sdtm, config) or sdtm_dir.resolve().name
    result = ConvertResult(study=studyid, ok=False)
    created = package_timestamp(config) if config else sdtm_timestamp(sdtm_dir)
    progress(f"{studyid}: deriving ADaM")

    @xport5.shared_reads()
    def build(stage: Path) -> None:
        digests: dict[Path, str] = {}
        result.records.update(write_adam(sdtm, stage / "adam", config, created, transliterate, digests,
                                         result.problems))
        progress(f"{studyid}: writing define.xml")
        write_define(stage, ADAM, config)
        progress(f"{studyid}: survival report")
        write_report(stage)
        progress(f"{studyid}: conformance checks")
        write_conformance(stage, studyid)
        inputs = dataset_files(sdtm_dir)
        if config_file is not None:
            inputs[CONFIG_NAMES[0]] = Path(config_file)
        manifest = build_manifest(studyid=studyid, study_dir=sdtm_dir,
                                  inputs=inputs, rows_read={}, rows_rejected={}, written={}, unmapped={},
                                  package_dir=stage, digests=digests, spec_overrides=in_force.manifest_entries())
        write_json(stage / "reports" / "manifest.json", manifest)

    with specs.using(in_force):
        return write_package(out_dir, result, build)


def sdtm_studyid(sdtm, config: StudyConfig | None) -> str | None:
    """The study a package derived from SDTM is named by: the configuration's STUDYID, else the first
    STUDYID of DM, else of TS; None when none has one."""
    if config is not None:
        return config.study.studyid
    for name in ("DM", "TS"):
        frame = sdtm[name]
        if "STUDYID" in frame.columns:
            values = frame["STUDYID"].dropna().astype(str).str.strip()
            if (values != "").any():
                return str(values[values != ""].iloc[0])
    return None


def write_package(out_dir: Path, result: ConvertResult, build: Callable[[Path], None]) -> ConvertResult:
    """Run ``build`` in a staging folder that replaces out_dir only if it completes; problems of the
    writers (XPT rules, spec conformance, define) become the result's problems, and nothing is written."""
    try:
        with staged_output(out_dir) as stage:
            build(stage)
    except (XptError, ConformError, DefineError, PublishedSpecError) as exc:
        result.problems += _problems_of(exc)
        return result
    result.ok, result.out_dir = True, Path(out_dir)
    return result


def write_conformance(stage: Path, name: str) -> None:
    """reports/conformance.{json,html}: the package checks `cdisc validate` runs, on what was just written."""
    report = validate_package(stage)
    report.package = name  # STUDYID, not a folder name: the same bytes wherever study and OUT are
    write_reports(report, [stage / "reports" / "conformance.json", stage / "reports" / "conformance.html"])


def sdtm_timestamp(sdtm_dir: Path) -> dt.datetime:
    """Without a configuration, ADaM headers carry the SDTM DM file's own creation time (reproducible)."""
    import pyreadstat

    path = Path(sdtm_dir) / "dm.xpt"
    dm = dataset_files(sdtm_dir).get("DM")
    if dm is not None and dm.suffix.lower() != ".xpt":  # Dataset-JSON: the time its metadata gives
        try:
            return FORMATS[dm.suffix.lower().lstrip(".")].read(dm)[1].created
        except DatasetError as exc:
            raise SdtmInputError(str(exc)) from None
    try:
        _, meta = pyreadstat.read_xport(str(path), metadataonly=True)
    except Exception as exc:  # pyreadstat's own error types
        raise SdtmInputError(f"{path}: not a readable SAS transport file ({exc})") from None
    created = meta.creation_time
    return created if isinstance(created, dt.datetime) else dt.datetime(1960, 1, 1)


def _problems_of(exc: Exception) -> list[Problem]:
    if isinstance(exc, XptError):
        return [Problem(f"{p.dataset.lower()}.xpt", p.record, p.variable, str(p.value), p.rule, p.message)
                for p in exc.problems]
    if isinstance(exc, DefineError):
        return [Problem("define.xml", None, "", "", "DEFINE", str(exc))]
    if isinstance(exc, PublishedSpecError):
        return [Problem("published.toml", None, "filter", "", "PUBLISHED", str(exc))]
    return list(exc.problems)


def _spec_problems(exc: SpecError, study_dir: Path) -> list[Problem]:
    """A study's unusable spec overrides, as problems on its own files."""
    root, out = study_dir.absolute(), []
    for f in exc.findings:
        path = Path(f.file).absolute()
        name = path.relative_to(root).as_posix() if path.is_relative_to(root) else f.file
        out.append(Problem(name, f.row, f.field, f.value, "SPEC", f"{f.message} ({f.key})" if f.key else f.message))
    return out


def _rejected_rows(src: StudySource) -> dict[str, int]:
    return {form: src.rows_read[form] - len(src.frames.get(form, ())) for form in src.rows_read}
