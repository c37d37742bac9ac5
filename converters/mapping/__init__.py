"""Building blocks of the declarative raw-to-SDTM mapping: each turns one raw column into SDTM values.

- ``raw_dates``: raw date/time text in a declared layout -> ISO 8601 as SDTM keeps it (partial allowed).
- ``terms``: collected values -> CDISC controlled terminology submission values.

A study's ``mapping.toml`` puts them to work: ``spec`` (the typed spec), ``forms`` (raw forms read and
checked), ``engine`` (any domain mapped as the spec says), ``verbs`` (named derivations), ``plan``
(``cdisc convert --plan``), ``starter`` (``cdisc spec init``) and ``package`` (the SDTM package).

Each returns a ``Mapped``: the SDTM values (same index as the input) and a ``Finding`` for every value
that could not be mapped, by position, so the caller can name file, row, field, value and rule.
"""
from .result import Finding, Mapped, as_problems

__all__ = ["Finding", "Mapped", "as_problems"]
