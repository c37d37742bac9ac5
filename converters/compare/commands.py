"""`cdisc compare` and `cdisc explain`. Only click is imported here: the rest loads when a command runs."""
from __future__ import annotations

import sys
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator

import click

EXIT_EQUAL, EXIT_DIFFERENT, EXIT_CANNOT_RUN, EXIT_INTERNAL = 0, 1, 2, 3
COMPARE_REPORTS = (".json", ".html", ".xlsx", ".md")


def _fail(msg: str, status: int = EXIT_CANNOT_RUN) -> None:
    click.echo(f"error: {msg}", err=True)
    sys.exit(status)


def split_keys(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [k.strip().upper() for k in text.replace(",", " ").split() if k.strip()]


@click.command("compare")
@click.argument("base", type=click.Path(exists=True, path_type=Path))
@click.argument("compare", type=click.Path(exists=True, path_type=Path))
@click.option("-d", "--dataset", "datasets", multiple=True, help="Compare only this dataset (repeatable).")
@click.option("--keys", help="Key variables that match records, e.g. 'USUBJID,AESEQ' (default: the dataset's keys from the specs).")
@click.option("--report", "reports", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Write a report: FILE.json, FILE.html or FILE.xlsx; with --cut also FILE.md (repeatable).")
@click.option("--tolerance", default=1e-9, show_default=True, type=click.FloatRange(0),
              help="Numbers are equal when they differ by at most this, relative to the larger (absolute below 1).")
@click.option("--exact-blanks", is_flag=True, help="Trailing blanks make text values differ.")
@click.option("--missing-differs", is_flag=True, help="An empty text value differs from a missing one.")
@click.option("--max-examples", default=5, show_default=True, type=click.IntRange(0), help="Examples shown per difference.")
@click.option("--cut", is_flag=True, help="BASE and COMPARE are two data cuts: add the trial view of their ADaM.")
@click.option("-q", "--quiet", is_flag=True, help="Print one line per dataset.")
def compare_cmd(base: Path, compare: Path, datasets: tuple[str, ...], keys: str | None, reports: tuple[Path, ...],
                tolerance: float, exact_blanks: bool, missing_differs: bool, max_examples: int, cut: bool,
                quiet: bool) -> None:
    """Compare two packages (or two dataset files: XPT, Dataset-JSON, CSV) record by record.

    Exit status: 0 equal; 1 different; 2 could not run; 3 internal error.
    """
    allowed = COMPARE_REPORTS if cut else COMPARE_REPORTS[:3]
    bad = [str(r) for r in reports if r.suffix.lower() not in allowed]
    if bad:
        raise click.UsageError(f"--report must end in {', '.join(allowed)}: {', '.join(bad)}")
    from converters.compare import report as rep
    from converters.compare.cut import cut_markdown, cut_view
    from converters.compare.package import compare_packages
    from converters.compare.tables import TableError
    from converters.compare.values import Options

    opts = Options(tolerance=tolerance, strip_blanks=not exact_blanks, missing_equal=not missing_differs)
    try:
        with reading_locks(base, compare):
            result = compare_packages(base, compare, datasets=list(datasets) or None, keys=split_keys(keys),
                                      opts=opts, max_examples=max_examples)
            view = cut_view(base, compare) if cut else None
        for path in reports:
            write_report(path, result, view)
    except (TableError, OSError) as exc:
        _fail(str(exc))
    except Exception as exc:  # a bug: one line, not a traceback
        _fail(f"internal error: {type(exc).__name__}: {exc} (please report)", EXIT_INTERNAL)
    click.echo(rep.format_comparison(result, quiet))
    if view is not None:
        click.echo("")
        click.echo(cut_markdown(view))
    sys.exit(EXIT_EQUAL if result.equal else EXIT_DIFFERENT)


@contextmanager
def reading_locks(*inputs: Path) -> Iterator[None]:
    """Shared locks on the packages read (a dataset file: its folder), so that a conversion replacing one
    cannot hand over a mix of old and new files; waits for such a run to finish."""
    from converters.package.atomic import reading_lock

    with ExitStack() as stack:
        for folder in dict.fromkeys(p if p.is_dir() else p.parent for p in map(Path, inputs)):
            stack.enter_context(reading_lock(folder, lambda message: click.echo(message, err=True)))
        yield


def write_report(path: Path, result, view) -> None:
    from converters.compare import report as rep
    from converters.compare.cut import cut_html, cut_json, cut_markdown

    suffix = path.suffix.lower()
    if suffix == ".md":
        path.write_text(cut_markdown(view), encoding="utf-8")
    elif suffix == ".html":
        path.write_text(rep.comparison_html(result, cut_html(view) if view else ""), encoding="utf-8")
    elif suffix == ".json":
        data = rep.comparison_json(result)
        if view is not None:
            data["cut"] = cut_json(view)
        rep.dump_json(path, data)
    else:
        rep.write_xlsx(result, path)


@click.command("explain")
@click.argument("package", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("dataset")
@click.argument("key")
@click.argument("variable", required=False)
@click.option("--study", "study", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The study folder the package was made from: show the raw rows' values.")
def explain_cmd(package: Path, dataset: str, key: str, variable: str | None, study: Path | None) -> None:
    """Walk one value back: ADaM -> SDTM -> raw file and row, with the method that made each step.

    KEY selects one record, e.g. "USUBJID=SSCART19-101-006,PARAMCD=PFS". Exit status 0, or 2 when
    the record or variable cannot be found.
    """
    from converters.compare.explain import ExplainError, Walker, format_hops, parse_keys
    from converters.compare.tables import TableError

    try:
        with reading_locks(package):
            hops = Walker(package, study).explain(dataset, parse_keys(key), variable.upper() if variable else None)
    except (ExplainError, TableError, OSError) as exc:
        _fail(str(exc))
    click.echo(format_hops(hops))
