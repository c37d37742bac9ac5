"""What every dataset format reads and writes: a frame plus its metadata, in Dataset-JSON's terms.

The frame holds numeric columns as float64 (NaN = missing) and text columns as objects (str, None =
missing, "" = empty; XPORT files read with "" for every blank value). Column metadata uses Dataset-JSON v1.1's attributes because they are a superset of
what XPORT v5 stores (XPORT keeps name, label, type, length and format).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

# Dataset-JSON v1.1 dataType values whose JSON value is a number
NUMBER_TYPES = ("integer", "float", "double")
TIMING_TYPES = ("date", "datetime", "time")
DATA_TYPES = ("string", "integer", "decimal", "float", "double", "boolean", "datetime", "date", "time", "URI")


class DatasetError(ValueError):
    """A dataset file that cannot be read or written as asked; the message names the file and the cause."""


@dataclass(frozen=True)
class Column:
    item_oid: str
    name: str
    label: str
    data_type: str  # one of DATA_TYPES
    target_data_type: str | None = None  # "integer" (SAS dates) or "decimal"
    length: int | None = None
    display_format: str | None = None
    key_sequence: int | None = None

    @property
    def numeric(self) -> bool:
        """Stored as a number in the frame (and as Num in XPORT)."""
        return (self.data_type in NUMBER_TYPES or self.target_data_type in ("integer", "decimal")
                or self.data_type == "decimal")


@dataclass(frozen=True)
class DatasetMeta:
    name: str
    label: str
    columns: tuple[Column, ...]
    created: dt.datetime  # datasetJSONCreationDateTime; XPORT header time
    item_group_oid: str = ""
    study_oid: str | None = None
    metadata_version_oid: str | None = None
    metadata_ref: str | None = None
    file_oid: str | None = None
    originator: str | None = None
    db_last_modified: dt.datetime | None = None
    source_system: tuple[str, str] | None = None  # (name, version)
    extra: dict = field(default_factory=dict, compare=False)  # format-specific facts, e.g. XPORT widths

    def __post_init__(self):
        if not self.item_group_oid:
            object.__setattr__(self, "item_group_oid", f"IG.{self.name}")

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def with_(self, **changes) -> "DatasetMeta":
        return replace(self, **changes)
