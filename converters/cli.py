"""The `cdisc` command line.

Exit status: 0 success (warnings allowed); 1 the input has errors (nothing written); 2 usage error
or unreadable input that stops the command before it starts; 3 internal error (a bug: please report).
"""
from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import click

from converters import __version__
from converters.package.atomic import OutputFolderError, check_output_folder, output_path
from converters.pipeline import ConvertResult, convert_study
from converters.problems import ERROR, WARNING, format_table, write_problems_json

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def _echo_err(msg: str) -> None:
    click.echo(msg, err=True)


def _convert_one(args: tuple[Path, Path, bool, bool]) -> ConvertResult:
    study, out, transliterate, verbose = args
    try:
        return convert_study(study, out, transliterate=transliterate, progress=_echo_err if verbose else (lambda m: None))
    except OutputFolderError:
        raise
    except Exception as exc:  # a bug, reported without a traceback; the output folder is untouched
        from converters.problems import Problem
        return ConvertResult(study=study.name, ok=False, problems=[
            Problem("", None, "", "", "INTERNAL", f"internal error: {type(exc).__name__}: {exc} (please report)")])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cdisc")
def main() -> None:
    """cdisc-converter: raw EDC exports to a regulator-ready CDISC package."""


@main.command()
@click.argument("studies", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--out", "out", required=True, type=click.Path(path_type=Path),
              help="Package folder (one study) or parent folder of one package per study.")
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Studies converted in parallel.")
@click.option("--transliterate", is_flag=True, help="Turn non-ASCII text into ASCII instead of failing.")
@click.option("--problems", "problems_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the source problems as JSON here (useful when the conversion fails).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary.")
def convert(studies: tuple[Path, ...], out: Path, jobs: int, transliterate: bool,
            problems_file: Path | None, quiet: bool) -> None:
    """Convert study folder(s) to SDTM XPT v5 with validation and manifest reports."""
    many = len(studies) > 1
    names = [s.resolve().name for s in studies]
    if len(set(names)) != len(names):
        raise click.UsageError("two study folders have the same name; their packages would collide")
    targets = [(s, out / n if many else out, transliterate, not quiet) for s, n in zip(studies, names)]
    try:
        if many and output_path(out).exists() and not output_path(out).is_dir():
            raise OutputFolderError(f"{out} is a file, not a folder")
        for study, target, _, _ in targets:
            check_output_folder(target)
            if study.resolve() == output_path(target).resolve() or output_path(target).resolve() in study.resolve().parents:
                raise OutputFolderError(f"the study folder {study} is inside the output folder {target}, "
                                        "which a conversion replaces; choose another output folder")
    except OutputFolderError as exc:
        _echo_err(f"error: {exc}")
        sys.exit(EXIT_USAGE)
    results: list[ConvertResult] = []
    if jobs > 1 and many:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for i, res in enumerate(pool.map(_convert_one, targets), start=1):
                results.append(res)
                if not quiet:
                    _echo_err(f"[{i}/{len(targets)}] {res.study}: {'ok' if res.ok else 'FAILED'}")
    else:
        for i, t in enumerate(targets, start=1):
            res = _convert_one(t)
            results.append(res)
            if many and not quiet:
                _echo_err(f"[{i}/{len(targets)}] {res.study}: {'ok' if res.ok else 'FAILED'}")
    for res in results:
        if res.problems and not quiet:
            click.echo(f"\n{res.study}: source and conformance problems")
            click.echo(format_table(res.problems))
    if problems_file:
        write_problems_json(problems_file, [p for r in results for p in r.problems])
    click.echo("")
    click.echo(summary_table(results))
    if any(any(p.rule == "INTERNAL" for p in r.problems) for r in results):
        sys.exit(EXIT_INTERNAL)
    sys.exit(EXIT_OK if all(r.ok for r in results) else EXIT_INPUT)


@main.command()
@click.argument("sdtm_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--out", "out", required=True, type=click.Path(path_type=Path), help="Package folder to write.")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="study.toml with [adam] options (dose groups, landmark visit) and the package timestamp.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary.")
def adam(sdtm_dir: Path, out: Path, config_path: Path | None, quiet: bool) -> None:
    """Derive ADaM (ADSL, ADRS, ADTTE) from an existing SDTM folder, made by this tool or another."""
    from converters.adam.sdtm_in import SdtmInputError
    from converters.pipeline import adam_package
    from converters.source.load import load_config_problems

    config = None
    if config_path is not None:
        config, problems = load_config_problems(config_path.parent, config_path.name)
        if config is None:
            click.echo(format_table(problems))
            sys.exit(EXIT_INPUT)
    try:
        check_output_folder(out)
        res = adam_package(sdtm_dir, out, config, progress=(lambda m: None) if quiet else _echo_err)
    except OutputFolderError as exc:
        _echo_err(f"error: {exc}")
        sys.exit(EXIT_USAGE)
    except SdtmInputError as exc:
        _echo_err(f"error: {exc}")
        sys.exit(EXIT_INPUT)
    if res.problems:
        click.echo(format_table(res.problems))
    click.echo(summary_table([res]))
    sys.exit(EXIT_OK if res.ok else EXIT_INPUT)


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

@main.command("define")
@click.argument("package_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--study", "study_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Study folder whose study.toml names the study (else TS and STUDYID in the data).")
def define_cmd(package_dir: Path, study_dir: Path | None) -> None:
    """Regenerate define.xml, define2-1.xsl and define.html for the sdtm/ and adam/ folders of a package."""
    from converters.define import DefineError, write_define
    from converters.define.build import standard_for_folder
    from schemas.config import load_config

    config = load_config(study_dir) if study_dir else None
    done = 0
    for sub in ("sdtm", "adam"):
        if not (package_dir / sub).is_dir():
            continue
        try:
            out = write_define(package_dir, standard_for_folder(sub), config)
        except DefineError as exc:
            _echo_err(f"error: {sub}: {exc}")
            sys.exit(EXIT_INPUT)
        click.echo(f"{sub}: wrote {out}")
        done += 1
    if not done:
        _echo_err(f"error: {package_dir} has no sdtm/ or adam/ folder")
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
@click.option("-q", "--quiet", is_flag=True, help="Print only the one-line result (for CI).")
def validate_cmd(package_dir: Path, define_file: Path | None, reports: tuple[Path, ...], fail_on: str,
                 quiet: bool) -> None:
    """Check a folder of SDTM/ADaM .xpt files (and its define.xml) for submission conformance.

    Exit status: 0 no errors; 1 errors found (or warnings with --fail-on warning); 2 could not run.
    """
    from converters.validate import PackageError, validate_package, write_reports
    from converters.validate.report import WRITERS, format_summary

    bad = [str(r) for r in reports if r.suffix.lower() not in WRITERS]
    if bad:
        raise click.UsageError(f"--report must end in .json, .html or .xlsx: {', '.join(bad)}")
    try:
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


if __name__ == "__main__":
    main()
