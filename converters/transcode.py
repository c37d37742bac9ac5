"""`cdisc transcode`. Only click is imported here: the dataset layer loads when the command runs."""
from __future__ import annotations

import sys
from pathlib import Path

import click

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 1, 2


@click.command("transcode")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--out", "out", required=True, type=click.Path(path_type=Path),
              help="Output folder (or, for one file and one format, the output file).")
@click.option("--format", "formats", required=True,
              help="Comma-separated output formats: xpt, json, ndjson, dsjc.")
@click.option("--define", "define_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="define.xml giving XPT datasets their OIDs and Dataset-JSON types (default: define.xml "
                   "beside SOURCE).")
def transcode_cmd(source: Path, out: Path, formats: str, define_file: Path | None) -> None:
    """Rewrite a dataset file, or a folder of them, as SAS XPORT v5 and/or CDISC Dataset-JSON v1.1
    (.json, .ndjson, .dsjc), with the same values and metadata."""
    from converters.datasets import DatasetError, parse_formats
    from converters.datasets.transcode import transcode
    from converters.xpt import XptError

    try:
        names = parse_formats(formats)
    except DatasetError as exc:
        raise click.UsageError(str(exc))
    try:
        written = transcode(source, out, names, define_file)
    except (DatasetError, XptError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INPUT)
    except OSError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    for path in written:
        click.echo(f"wrote {path}")
    sys.exit(EXIT_OK)
