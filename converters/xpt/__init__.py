"""SAS XPORT v5 (transport) writer with FDA Technical Conformance Guide checks.

`write_xpt`/`encode_xpt` produce byte-identical output for identical inputs; `read_xpt` reads files
back with pyreadstat.
"""
from .model import XptError, XptProblem, XptVariable
from .writer import encode_xpt, read_xpt, write_xpt

__all__ = ["XptError", "XptProblem", "XptVariable", "encode_xpt", "read_xpt", "write_xpt"]
