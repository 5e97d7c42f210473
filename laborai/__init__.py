"""laborai: the causal effect of generative AI on online freelance marketplaces.

Load or simulate marketplace microdata, build category x value-tier panels with DuckDB, and
estimate effects with difference-in-differences estimators whose results share one tidy format.

Examples
--------
>>> import laborai as la
>>> m = la.simulate_marketplace(seed=1, n_posts=5_000)
>>> panel = la.build_panel(m.job_posts, m.contracts)
>>> sorted(panel["value_tier"].unique())
['high', 'low']
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("laborai")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.1.0"

from laborai import classify, datasets, did, exposure, indicators, plot, realdata, taxonomy
from laborai.data import (
    Marketplace,
    ReadResult,
    read_contracts,
    read_job_posts,
    read_marketplace,
    simulate_marketplace,
)
from laborai.did.effects import estimate_effects
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
from laborai.panel import build_panel

__all__ = [
    "ConvergenceWarning",
    "DataFileNotFoundError",
    "DataValidationError",
    "EstimationError",
    "LaborAIError",
    "LaborAIWarning",
    "Marketplace",
    "OptionError",
    "ReadResult",
    "SmallSampleWarning",
    "__version__",
    "build_panel",
    "classify",
    "datasets",
    "did",
    "estimate_effects",
    "exposure",
    "indicators",
    "plot",
    "realdata",
    "read_contracts",
    "read_job_posts",
    "read_marketplace",
    "simulate_marketplace",
    "taxonomy",
]
