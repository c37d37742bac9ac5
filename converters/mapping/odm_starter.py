"""``cdisc spec init`` on an ODM file: a form per ItemGroupDef that has data, typed from the ItemDefs.

An item's DataType gives its column type (integer, float -> number, date, time); the other types
(text, string, boolean, datetime, partial dates) stay text. The record keys of ODM identify a record,
so they are the form's keys.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from converters.mapping.odm import KEYS, frame_of, item_columns, scan

_TYPES = {"integer": "integer", "float": "number", "double": "number",
          "date": {"type": "date", "formats": ["yyyy-mm-dd"]}, "time": {"type": "time", "formats": ["HH:nn:ss"]}}


def _quoted(text: str) -> str:
    return json.dumps(text)


def _value(decl) -> str:
    if isinstance(decl, str):
        return _quoted(decl)
    return "{ type = %s, formats = [%s] }" % (_quoted(decl["type"]), ", ".join(map(_quoted, decl["formats"])))


def odm_forms(path: Path, spec_dir: Path, taken: set[str]) -> list[str]:
    """The ``[forms.*]`` tables of a starter spec for one ODM file (OdmError when it is not ODM 1.3);
    a form name already ``taken`` (the same ItemGroupOID in another file) gets the file's name first."""
    file = Path(os.path.relpath(path, spec_dir)).as_posix()
    odm = scan(path, file, lambda form, group: group)
    meta = odm.metadata
    lines = []
    for group in [g for g in meta.item_groups if g in odm.records] + [g for g in odm.records if g not in meta.item_groups]:
        frame, _, _ = frame_of(odm.records[group], item_columns(meta, [group]), meta, "oid", False, file)
        name = re.sub(r"\W", "_", group)
        name = re.sub(r"\W", "_", f"{path.stem}_{group}") if name in taken else name
        taken.add(name)
        label = meta.item_groups.get(group, ("",))[0]
        lines += [f"[forms.{name}]" + (f"  # {label}" if label else ""), f"file = {_quoted(file)}", 'format = "odm"',
                  f"item_group_oid = {_quoted(group)}", f"keys = [{', '.join(map(_quoted, KEYS))}]",
                  f"[forms.{name}.columns]"]
        for col in frame.columns:
            itemdef = meta.items.get(col)
            decl = _TYPES.get(itemdef.data_type, "text") if itemdef else "text"
            if col == "SubjectKey":
                decl = {"type": "text", "required": True}
            text = "{ type = \"text\", required = true }" if isinstance(decl, dict) and "required" in decl else _value(decl)
            note = f"  # {itemdef.name}" + (f" (CodeList {itemdef.codelist})" if itemdef.codelist else "") if itemdef else ""
            lines.append(f"{_quoted(col)} = {text}{note}")
        lines += [f"# TODO: [domains.XX] form = {_quoted(name)}, and a variable for each column above, or list the "
                  f"column under [forms.{name}.not_submitted] with the reason", ""]
    return lines
