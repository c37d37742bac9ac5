"""Referential checks the XSD cannot make: every OID a define points to is defined exactly once."""
from __future__ import annotations

from collections import Counter

from lxml import etree

from .xmlns import DEF, ODM

# (attribute of the reference, element kind that must define it); def: attributes are namespaced
_REFS = (
    ("ItemOID", "ItemDef"), (f"{{{DEF}}}ItemOID", "ItemDef"), ("CodeListOID", "CodeList"),
    ("MethodOID", "MethodDef"), (f"{{{DEF}}}CommentOID", "def:CommentDef"), ("ValueListOID", "def:ValueListDef"),
    ("WhereClauseOID", "def:WhereClauseDef"), (f"{{{DEF}}}StandardOID", "def:Standard"),
    (f"{{{DEF}}}ArchiveLocationID", "def:leaf"), ("leafID", "def:leaf"),
)
_DEFS = {"ItemDef": f"{{{ODM}}}ItemDef", "CodeList": f"{{{ODM}}}CodeList", "MethodDef": f"{{{ODM}}}MethodDef",
         "def:CommentDef": f"{{{DEF}}}CommentDef", "def:ValueListDef": f"{{{DEF}}}ValueListDef",
         "def:WhereClauseDef": f"{{{DEF}}}WhereClauseDef", "def:Standard": f"{{{DEF}}}Standard",
         "def:leaf": f"{{{DEF}}}leaf"}


def reference_errors(tree: etree._ElementTree) -> list[str]:
    """Dangling or duplicate OIDs, as readable messages; empty when every reference resolves."""
    root = tree.getroot()
    defined: dict[str, Counter] = {}
    for kind, tag in _DEFS.items():
        key = "ID" if kind == "def:leaf" else "OID"
        defined[kind] = Counter(e.get(key) for e in root.iter(tag))
    errors = [f"{kind} {oid} defined {n} times" for kind, c in defined.items() for oid, n in sorted(c.items()) if n > 1]
    for attr, kind in _REFS:
        for e in root.iter():
            oid = e.get(attr) if isinstance(e.tag, str) else None
            if oid is not None and oid not in defined[kind]:
                errors.append(f"line {e.sourceline}: {etree.QName(e).localname} {attr.split('}')[-1]}={oid} "
                              f"has no {kind}")
    return errors
