"""The official Define-XML 2.1 schema and stylesheet, and a hardened XML parser.

Both files come from the `defineutils` distribution (MIT; schema by CDISC, define2-1.xsl by Lex
Jansen, licence in defineutils/definehtml/define2-1.xsl.LICENSE) so they are not copied here.
"""
from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from lxml import etree

STYLESHEET_NAME = "define2-1.xsl"


def safe_parser() -> etree.XMLParser:
    """No entity expansion, no network, bounded tree: defines may come from outside the tool."""
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def parse(path: Path) -> etree._ElementTree:
    return etree.parse(str(path), safe_parser())


def stylesheet_path() -> Path:
    return Path(str(files("defineutils.definehtml") / STYLESHEET_NAME))


def schema_path() -> Path:
    return Path(str(files("defineutils.validate") / "schema" / "cdisc-define-2.1" / "define2-1-0.xsd"))


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(parse(schema_path()))


@lru_cache(maxsize=1)
def transform() -> etree.XSLT:
    # the stylesheet only reads the define itself: no file writes, no network
    access = etree.XSLTAccessControl(read_network=False, write_file=False, create_dir=False, write_network=False)
    return etree.XSLT(parse(stylesheet_path()), access_control=access)
