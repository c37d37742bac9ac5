"""Define-XML 2.1 for a package: define.xml, the official stylesheet beside it, and define.html.

`write_define(package_dir, "sdtmig-3.4", config)` describes ``package_dir/sdtm/*.xpt`` (``adam/`` for
adamig-*) and checks the result against the Define-XML 2.1 schema before anything is written.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from lxml import etree

from converters.datasets import dataset_files
from schemas.config import StudyConfig

from . import resources
from .build import StandardRef, build_define, standard_ref
from .check import reference_errors
from .package import DefineError

STYLESHEET_PI = 'type="text/xsl" href="define2-1.xsl"'

__all__ = ["DefineError", "StandardRef", "build_define", "define_bytes", "reference_errors", "render_html", "schema_errors",
           "standard_ref", "write_define"]


def define_bytes(tree: etree._ElementTree) -> bytes:
    """UTF-8 bytes with the xml-stylesheet instruction browsers use to render it."""
    root = tree.getroot()
    pi = etree.ProcessingInstruction("xml-stylesheet", STYLESHEET_PI)
    body = etree.tostring(root, encoding="UTF-8", pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(pi) + b"\n" + body


def schema_errors(tree: etree._ElementTree) -> list[str]:
    """Define-XML 2.1 XSD findings, 'line N: message' each; empty when valid."""
    schema = resources.schema()
    if schema.validate(tree):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def render_html(define_xml: Path, html: Path) -> Path:
    """define.html through the official define2-1.xsl (parsed with the hardened parser)."""
    result = resources.transform()(resources.parse(define_xml))
    _atomic_write(html, bytes(result))
    return html


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the package files are readable like the XPTs
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_define(package_dir: Path, standard: str, config: StudyConfig | None,
                 meddra_version: str | None = None) -> Path:
    """Write define.xml, define2-1.xsl and define.html into the standard's subfolder; returns define.xml.

    Raises DefineError when a dataset cannot be described or the result is not schema-valid.
    """
    package_dir = Path(package_dir)
    std = standard_ref(standard)
    folder = package_dir / std.subdir
    ts_path = dataset_files(package_dir / "sdtm").get("TS") if (package_dir / "sdtm").is_dir() else None
    tree = build_define(folder, standard, config, ts_path=ts_path,
                        meddra_version=meddra_version)
    errors = schema_errors(tree) + reference_errors(tree)
    if errors:
        raise DefineError("define.xml is not valid Define-XML 2.1: " + "; ".join(errors[:5]))
    out = folder / "define.xml"
    _atomic_write(out, define_bytes(tree))
    shutil.copyfile(resources.stylesheet_path(), folder / resources.STYLESHEET_NAME)
    render_html(out, folder / "define.html")
    return out
