"""cdisc-converter: raw EDC exports -> SDTM/ADaM XPT v5, Define-XML 2.1 and conformance reports."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cdisc-converter")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.1.0"
