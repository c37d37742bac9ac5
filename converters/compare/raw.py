"""The raw source row behind an SDTM record: the manifest names the file of each form, the study
folder (when given) holds it, and its study.toml maps raw column names onto the source contract."""
from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path

from converters.package.manifest import sha256_file


class RawSource:
    def __init__(self, package: Path, study: Path | None):
        self.study = Path(study) if study else None
        self.inputs: dict[str, dict] = {}
        manifest = Path(package) / "reports" / "manifest.json"
        if manifest.is_file():
            self.inputs = {i["form"]: i for i in json.loads(manifest.read_text(encoding="utf-8")).get("inputs", [])}
        self.renames: dict[str, dict[str, str]] = {}
        if self.study is not None and (self.study / "study.toml").is_file():
            config = tomllib.loads((self.study / "study.toml").read_text(encoding="utf-8-sig"))
            for form, spec in config.get("sources", {}).items():
                self.renames[form] = {field: raw for raw, field in (spec.get("rename") or {}).items()}
        self._checked: dict[str, str] = {}

    def column(self, form: str, dataset: str, variable: str | None, rec) -> tuple[str | None, str]:
        """(raw column, how) of an SDTM variable: the contract field its spec names, renamed back."""
        from converters.compare.explain import spec_variable
        from specs import table

        spec = spec_variable(dataset, variable) if variable else None
        if spec is None:
            return None, ""
        source = spec.source
        if not source and variable.endswith("STRESC"):  # the standardised result of the collected one
            orres = spec_variable(dataset, variable[:-6] + "ORRES")
            source = orres.source if orres else ""
        if source.startswith("spec:rs_tests.source_field"):  # one raw field per test code
            field = next((t["source_field"] for t in table("rs_tests") if t["rstestcd"] == rec.get("RSTESTCD")), "")
            source = f"{form}.{field.split('.')[-1]}" if field else ""
        if source.startswith(f"{form}."):
            field = source.split(".", 1)[1]
            raw = self.renames.get(form, {}).get(field, field)
            return raw, f"source field {form}.{field}" + (f" (raw column {raw})" if raw != field else "")
        return None, "the row the record was made from"

    def hop(self, depth: int, form: str, line: int, dataset: str, variable: str | None, rec):
        from converters.compare.explain import Hop

        entry = self.inputs.get(form, {})
        file = entry.get("file", form)
        column, how = self.column(form, dataset, variable, rec)
        hop = Hop(depth, f"{file} line {line}", {}, column, None, how)
        if self.study is None:
            hop.how = (hop.how + "; " if hop.how else "") + "give --study STUDY_DIR to show the row's values"
            return hop
        path = self.study / file
        if not path.is_file():
            hop.how += f"; {path} not found"
            return hop
        if entry.get("sha256") and self._digest(path) != entry["sha256"]:
            hop.how += "; WARNING: the file has changed since the package was made (SHA-256 differs)"
        values = read_row(path, line)
        if values is None:
            hop.how += f"; {file} has no record at line {line}"
            return hop
        hop.values = values
        if column is not None:
            hop.value = values.get(column, "")
        return hop

    def _digest(self, path: Path) -> str:
        key = str(path)
        if key not in self._checked:
            self._checked[key] = sha256_file(path)
        return self._checked[key]


def read_row(path: Path, line: int) -> dict | None:
    """The record that starts at ``line`` (1 = the first line) of a CSV file (with its header's
    names) or a JSON Lines file."""
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        with open(path, encoding="utf-8-sig") as fh:
            for n, text in enumerate(fh, start=1):
                if n == line:
                    return {k: "" if v is None else v for k, v in json.loads(text).items()}
        return None
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header, start = None, 1
        for cells in reader:
            here, start = start, reader.line_num + 1
            if header is None:
                header = cells
            elif here == line:
                return dict(zip(header, cells))
    return None
