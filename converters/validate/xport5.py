"""The XPORT v5 reader now lives in the dataset layer (converters.datasets.xport5); this name is the same
module object, so `from converters.validate import xport5` keeps working for its remaining importers."""
import sys

from converters.datasets import xport5 as _xport5

sys.modules[__name__] = _xport5
