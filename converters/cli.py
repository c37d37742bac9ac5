"""The `cdisc` command line.

Exit status: 0 success (warnings allowed); 1 the input has errors (nothing written); 2 usage error
or unreadable input that stops the command before it starts; 3 internal error (a bug: please report).
"""
from __future__ import annotations

import errno
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from converters import __version__
from converters.package.atomic import OutputFolderError, check_not_inside, check_output_folder, output_path
from converters.problems import ERROR, WARNING, format_groups, write_studies_json

if TYPE_CHECKING:  # the pipeline (pandas, lifelines, matplotlib) loads only when a command runs
    from converters.pipeline import ConvertResult

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def _echo_err(msg: str) -> None:
    click.echo(msg, err=True)


_WRITE_ERRORS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT}


def _convert_one(args: tuple[Path, Path, bool, bool], progress=_echo_err) -> ConvertResult:
    from converters.pipeline import ConvertResult, convert_study

    study, out, transliterate, verbose, formats = args
    try:
        return convert_study(study, out, transliterate=transliterate, progress=progress if verbose else (lambda m: None),
                             formats=formats)
    except OutputFolderError:
        raise
    except Exception as exc:  # a bug, reported without a traceback; the output folder is untouched
        from converters.problems import Problem
        if isinstance(exc, OSError) and exc.errno in _WRITE_ERRORS:  # the disk, not the input or the tool
            where = exc.filename or out
            return ConvertResult(study=study.name, ok=False, problems=[
                Problem("", None, "", str(where), "OUTPUT-WRITE",
                        f"cannot write the package: {exc.strerror} ({where}); the previous package is kept")])
        return ConvertResult(study=study.name, ok=False, problems=[
            Problem("", None, "", "", "INTERNAL", f"internal error: {type(exc).__name__}: {exc} (please report)")])


def _print_plans(studies: tuple[Path, ...]) -> None:
    """``convert --plan``: each study's mapping spec, checked and described; exit 1 when one is unusable."""
    import specs
    from converters.mapping.engine import check_spec
    from converters.mapping.plan import plan_text
    from converters.mapping.spec import SPEC_NAME, MappingSpecError, load_spec

    bad = False
    for study in studies:
        if not (study / SPEC_NAME).is_file():
            _echo_err(f"error: {study}: no {SPEC_NAME} (the plan describes a mapping spec)")
            sys.exit(EXIT_USAGE)
        try:
            with specs.using(specs.for_study(study)):
                spec = load_spec(study / SPEC_NAME)
                problems = check_spec(spec)
                if problems:
                    raise MappingSpecError(str(study / SPEC_NAME), problems)
                click.echo(plan_text(spec))
        except (MappingSpecError, specs.SpecError) as exc:
            _echo_err(f"error: {exc}")
            bad = True
    sys.exit(EXIT_INPUT if bad else EXIT_OK)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cdisc")
def main() -> None:
    """cdisc-converter: raw EDC exports to a regulator-ready CDISC package."""
    _check_source_date_epoch()


_MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z


def _check_source_date_epoch() -> None:
    """Checked before anything else loads: plotting libraries read it on import and fail with a traceback."""
    import os

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None and not (epoch.isascii() and epoch.isdigit() and int(epoch) <= _MAX_EPOCH):
        _echo_err(f"error: SOURCE_DATE_EPOCH={epoch[:40]!r} is not a whole number of seconds since 1970-01-01 "
                  f"(0 to {_MAX_EPOCH}); set it to one or unset it")
        sys.exit(EXIT_USAGE)


@main.command()
@click.argument("studies", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--out", "out", required=True, type=click.Path(path_type=Path),
              help="Package folder (one study) or parent folder of one package per study.")
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Studies converted in parallel.")
@click.option("--transliterate", is_flag=True,
              help="Write non-ASCII text as the nearest ASCII text instead of failing (each change is a warning).")
@click.option("--problems", "problems_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the full problem list as JSON here (default: OUT.problems.json beside OUT).")
@click.option("--format", "formats", default="xpt", show_default=True,
              help="Dataset formats written, comma-separated: xpt plus any of json, ndjson, dsjc (Dataset-JSON v1.1).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary.")
@click.option("--plan", is_flag=True, help="Print what a study's mapping.toml will map (form -> domain, column -> "
                                            "variable, algorithm, recodings, columns left out); write nothing.")
def convert(studies: tuple[Path, ...], out: Path, jobs: int, transliterate: bool,
            problems_file: Path | None, formats: str, quiet: bool, plan: bool) -> None:
    """Convert study folder(s) to SDTM XPT v5 with validation and manifest reports."""
    if plan:
        _print_plans(studies)
        return
    many = len(studies) > 1
    names = [s.resolve().name for s in studies]
    if len(set(names)) != len(names):
        raise click.UsageError("two study folders have the same name; their packages would collide")
    chosen = package_formats(formats)
    targets = [(s, out / n if many else out, transliterate, not quiet, chosen) for s, n in zip(studies, names)]
    try:
        if many and output_path(out).exists() and not output_path(out).is_dir():
            raise OutputFolderError(f"{out} is a file, not a folder")
        for study, target, *_ in targets:
            check_output_folder(target)
            if study.resolve() == output_path(target).resolve() or output_path(target).resolve() in study.resolve().parents:
                raise OutputFolderError(f"the study folder {study} is inside the output folder {target}, "
                                        "which a conversion replaces; choose another output folder")
    except OutputFolderError as exc:
        _echo_err(f"error: {exc}")
        sys.exit(EXIT_USAGE)
    from converters.batch import exit_on_sigterm, run_studies
    from converters.pipeline import STAGES
    from converters.progress import progress_display

    exit_on_sigterm()
    display = progress_display(len(targets), len(STAGES), quiet=quiet)
    try:
        results = run_studies(_convert_one, targets, jobs, display)
    except OutputFolderError as exc:  # another run took OUT after the checks above
        display.close()
        _echo_err(f"error: {exc}")
        sys.exit(EXIT_USAGE)
    finally:
        display.close()
    for res in results:
        if res.problems and not quiet:
            click.echo(f"\n{res.study}: {_counts(res)}, by cause (root causes first)")
            click.echo(format_groups(res.problems, res.sources))
        elif quiet:  # a failure of the tool itself is said even with -q
            for p in res.problems:
                if p.rule == "INTERNAL":
                    _echo_err(f"{res.study}: {format_groups([p]).splitlines()[-1].strip()}")
    click.echo("")
    write_problem_list(problems_file or default_problems_file(out), results)
    click.echo(summary_table(results))
    if any(any(p.rule == "INTERNAL" for p in r.problems) for r in results):
        sys.exit(EXIT_INTERNAL)
    sys.exit(EXIT_OK if all(r.ok for r in results) else EXIT_INPUT)


@main.command()
@click.argument("sdtm_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--out", "out", required=True, type=click.Path(path_type=Path), help="Package folder to write.")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="study.toml with [adam] options (dose groups, landmark visit) and the package timestamp.")
@click.option("--specs", "specs_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of spec overrides merged over the shipped specs (default: the specs/ folder beside --config).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary.")
def adam(sdtm_dir: Path, out: Path, config_path: Path | None, specs_dir: Path | None, quiet: bool) -> None:
    """Derive ADaM (ADSL, ADRS, ADTTE) from an existing SDTM folder, made by this tool or another."""
    from converters.adam.sdtm_in import SdtmInputError
    from converters.pipeline import ADAM_STAGES, adam_package
    from converters.progress import progress_display
    from converters.source.load import load_config_problems

    in_force = spec_set_or_exit(specs_dir, config_path.parent if config_path else None, EXIT_INPUT)
    config = None
    if config_path is not None:
        config, problems = load_config_problems(config_path.parent, config_path.name)
        if config is None:
            click.echo(format_groups(problems))
            sys.exit(EXIT_INPUT)
    display = progress_display(1, len(ADAM_STAGES), quiet=quiet)
    try:
        check_not_inside([p for p in (sdtm_dir, config_path, specs_dir) if p is not None], out)
        check_output_folder(out)
        try:
            res = adam_package(sdtm_dir, out, config, progress=lambda m: display.stage(0, m), spec_set=in_force,
                               config_file=config_path)
            display.done(0, res.study, res.ok)
        finally:
            display.close()
    except OutputFolderError as exc:
        _echo_err(f"error: {exc}")
        sys.exit(EXIT_USAGE)
    except SdtmInputError as exc:
        _echo_err(f"error: {exc}")
        sys.exit(EXIT_INPUT)
    except OSError as exc:
        if exc.errno not in _WRITE_ERRORS:
            raise
        _echo_err(f"error: cannot write the package: {exc.strerror} ({exc.filename or out}); "
                  "the previous package is kept")  # disk full, read-only medium
        sys.exit(EXIT_USAGE)
    if res.problems:
        click.echo(format_groups(res.problems))
    click.echo(summary_table([res]))
    sys.exit(EXIT_OK if res.ok else EXIT_INPUT)


def package_formats(text: str) -> tuple[str, ...]:
    """--format of `cdisc convert`: XPT is always among them (define.xml and the checks describe the XPT
    files; the other formats are written from them)."""
    names = list(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in ("xpt", "json", "ndjson", "dsjc")]
    if unknown or not names:
        raise click.UsageError(f"--format: unknown format {', '.join(unknown) or repr(text)} "
                               "(choose from xpt, json, ndjson, dsjc)")
    if "xpt" not in names:
        raise click.UsageError("--format must include xpt: define.xml and the conformance checks describe "
                               "the XPT files, which the other formats are written from")
    return tuple(names)


def default_problems_file(out: Path) -> Path:
    """Beside OUT, not in it: OUT is replaced only by a conversion that succeeds."""
    out = output_path(out)
    return out.parent / f"{out.name}.problems.json"


def write_problem_list(path: Path, results: list[ConvertResult]) -> None:
    """Every problem of every study, always (a stale list from an earlier run must not remain)."""
    try:
        write_studies_json(path, [(r.study, r.problems, r.sources) for r in results])
    except OSError as exc:
        _echo_err(f"warning: could not write the problem list to {path}: {exc.strerror or exc}")
        return
    total = sum(len(r.problems) for r in results)
    click.echo(f"all {total} problem(s): {path}" if total else f"no problems (list: {path})")


def _counts(res: ConvertResult) -> str:
    errors = sum(p.severity == ERROR for p in res.problems)
    return f"{errors} error(s), {len(res.problems) - errors} warning(s)"


def summary_table(results: list[ConvertResult]) -> str:
    rows = [("study", "status", "errors", "warnings", "records")]
    for r in results:
        rows.append((r.study, "ok" if r.ok else "FAILED",
                     str(sum(p.severity == ERROR for p in r.problems)),
                     str(sum(p.severity == WARNING for p in r.problems)),
                     " ".join(f"{k} {v}" for k, v in r.records.items()) or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)


# --- define: Define-XML 2.1 for an existing package (converters/define) ---------------------------

SPECS_HELP = "Folder of spec overrides merged over the shipped specs (same layout as specs/)."


def spec_set_or_exit(specs_dir: Path | None, study_dir: Path | None, status: int):
    """The specs in force: --specs DIR, else the study folder's specs/, else the shipped ones."""
    import specs

    try:
        if specs_dir is not None:
            return specs.load(specs_dir)
        return specs.for_study(study_dir) if study_dir is not None else specs.shipped()
    except specs.SpecError as exc:
        _echo_err(f"error: spec override: {exc}")
        sys.exit(status)


@main.group("spec")
def spec_group() -> None:
    """Mapping specs: start one from raw files."""


@spec_group.command("init")
@click.argument("raw_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The starter mapping.toml to write (an existing file is not replaced).")
def spec_init(raw_dir: Path, out: Path) -> None:
    """A starter mapping spec from the raw CSV / JSON Lines / ODM XML files of RAW_DIR, with TODO where no guess is safe."""
    from converters.mapping.starter import starter_spec

    if out.exists():
        _echo_err(f"error: {out} exists; choose another file or remove it")
        sys.exit(EXIT_USAGE)
    try:
        text = starter_spec(raw_dir, out.absolute().parent)
    except (ValueError, OSError) as exc:
        _echo_err(f"error: {exc}")
        sys.exit(EXIT_USAGE if getattr(exc, "unsupported", False) else EXIT_INPUT)
    out.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out}: {text.count('TODO')} TODO(s) to fill in")


@main.command("define")
@click.argument("package_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--study", "study_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Study folder: its study.toml names the study (else TS and STUDYID in the data) and its "
                   "specs/ overrides apply.")
@click.option("--specs", "specs_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help=SPECS_HELP + " Default: the study folder's specs/.")
def define_cmd(package_dir: Path, study_dir: Path | None, specs_dir: Path | None) -> None:
    """Regenerate define.xml, define2-1.xsl and define.html for the sdtm/ and adam/ folders of a package,
    then its conformance report and manifest."""
    import specs
    from converters.define import DefineError, write_define
    from converters.define.build import standard_for_folder
    from converters.package.refresh import refresh_reports

    in_force = spec_set_or_exit(specs_dir, study_dir, EXIT_INPUT)
    config = None
    if study_dir is not None:
        from converters.source.load import load_config_problems

        config, problems = load_config_problems(study_dir)
        if config is None:
            click.echo(format_groups(problems))
            sys.exit(EXIT_INPUT)
    subs = [sub for sub in ("sdtm", "adam") if (package_dir / sub).is_dir()]
    if not subs:
        _echo_err(f"error: {package_dir} has no sdtm/ or adam/ folder")
        sys.exit(EXIT_USAGE)
    from converters.package.atomic import output_lock

    try:
        with specs.using(in_force), output_lock(package_dir):
            for sub in subs:
                try:
                    out = write_define(package_dir, standard_for_folder(sub), config)
                except DefineError as exc:
                    _echo_err(f"error: {sub}: {exc}")
                    sys.exit(EXIT_INPUT)
                click.echo(f"{sub}: wrote {out}")
            for path in refresh_reports(package_dir, in_force, config.study.studyid if config else None):
                click.echo(f"reports: wrote {path}")
    except OutputFolderError as exc:
        _echo_err(f"error: {exc}")
        sys.exit(EXIT_USAGE)
    except OSError as exc:
        if exc.errno not in _WRITE_ERRORS:
            raise
        _echo_err(f"error: cannot write {exc.filename or package_dir}: {exc.strerror}")  # read-only, full
        sys.exit(EXIT_USAGE)


# --- validate: conformance checks of any SDTM/ADaM package (converters/validate) -------------------

@main.command("validate")
@click.argument("package_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--define", "define_file", type=click.Path(dir_okay=False, path_type=Path),
              help="define.xml to check against (default: sdtm/define.xml, adam/define.xml or ./define.xml).")
@click.option("--report", "reports", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Write a report: FILE.json, FILE.html or FILE.xlsx (repeatable).")
@click.option("--fail-on", "fail_on", type=click.Choice(["error", "warning"]), default="error", show_default=True,
              help="Lowest severity that makes the exit status 1.")
@click.option("--specs", "specs_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help=SPECS_HELP)
@click.option("-q", "--quiet", is_flag=True, help="Print only the one-line result (for CI).")
def validate_cmd(package_dir: Path, define_file: Path | None, reports: tuple[Path, ...], fail_on: str,
                 specs_dir: Path | None, quiet: bool) -> None:
    """Check a folder of SDTM/ADaM .xpt files (and its define.xml) for submission conformance.

    Exit status: 0 no errors; 1 errors found (or warnings with --fail-on warning); 2 could not run.
    """
    from converters.validate import PackageError, validate_package, write_reports
    from converters.validate.report import WRITERS, format_summary

    bad = [str(r) for r in reports if r.suffix.lower() not in WRITERS]
    if bad:
        raise click.UsageError(f"--report must end in .json, .html or .xlsx: {', '.join(bad)}")
    import specs

    from converters.package.atomic import reading_lock

    in_force = spec_set_or_exit(specs_dir, None, EXIT_USAGE)
    try:
        with specs.using(in_force), reading_lock(package_dir, _echo_err):
            report = validate_package(package_dir, define_file)
        write_reports(report, list(reports))
    except (PackageError, RuntimeError, OSError) as exc:
        _echo_err(f"error: {exc}")
        sys.exit(EXIT_USAGE)
    status = report.exit_status(fail_on)
    if quiet:
        click.echo(f"{report.package}: {report.errors} error(s), {report.warnings} warning(s)")
    else:
        click.echo(format_summary(report))
    sys.exit(status)


# --- compare / explain: package diff, data-cut view, value tracing (converters/compare) -------------

from converters.compare.commands import compare_cmd, explain_cmd  # noqa: E402  (click only: the rest loads on use)

main.add_command(compare_cmd)
main.add_command(explain_cmd)

# --- transcode: XPT <-> Dataset-JSON (converters/datasets) -------------------------------------------

from converters.transcode import transcode_cmd  # noqa: E402  (click only: the rest loads on use)

main.add_command(transcode_cmd)


if __name__ == "__main__":
    main()
