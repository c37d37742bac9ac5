"""Namespaces and element helpers of Define-XML 2.1 (ODM 1.3.2 + def: extensions)."""
from __future__ import annotations

from lxml import etree

ODM = "http://www.cdisc.org/ns/odm/v1.3"
DEF = "http://www.cdisc.org/ns/def/v2.1"
XLINK = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NSMAP = {None: ODM, "def": DEF, "xlink": XLINK}


def _qname(tag: str) -> str:
    prefix, _, local = tag.rpartition(":")
    return f"{{{ {'def': DEF, 'xlink': XLINK}[prefix] if prefix else ODM}}}{local}"


def el(tag: str, attrs: dict[str, str | int | None] | None = None, *children: etree._Element,
       parent: etree._Element | None = None, text: str | None = None) -> etree._Element:
    """An element; attributes keep the given order and None values are left out."""
    node = etree.Element(_qname(tag), nsmap=NSMAP) if parent is None else etree.SubElement(parent, _qname(tag))
    for k, v in (attrs or {}).items():
        if v is not None:
            node.set(_qname(k) if ":" in k else k, str(v))
    if text is not None:
        node.text = text
    for c in children:
        node.append(c)
    return node


def description(text: str, tag: str = "Description") -> etree._Element:
    node = el(tag)
    tt = etree.SubElement(node, _qname("TranslatedText"))
    tt.set(XML_LANG, "en")
    tt.text = text
    return node
