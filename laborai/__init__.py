"""laborai: the causal effect of generative AI on online freelance marketplaces.

Load or simulate marketplace microdata, build category x value-tier panels with DuckDB, and
estimate effects with difference-in-differences estimators whose results share one tidy format.

Examples
--------
>>> import laborai as la
>>> la.__version__
'0.1.0'
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("laborai")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.1.0"

from laborai import did
from laborai.errors import (
    ConvergenceWarning,
    DataFileNotFoundError,
    DataValidationError,
    EstimationError,
    LaborAIError,
    LaborAIWarning,
    OptionError,
    SmallSampleWarning,
)

__all__ = [
    "ConvergenceWarning",
    "DataFileNotFoundError",
    "DataValidationError",
    "EstimationError",
    "LaborAIError",
    "LaborAIWarning",
    "OptionError",
    "SmallSampleWarning",
    "__version__",
    "did",
]
