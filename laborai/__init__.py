"""laborai: the causal effect of generative AI on online freelance marketplaces.

Load or simulate marketplace microdata, build category x value-tier panels with DuckDB, and
estimate effects with difference-in-differences estimators whose results share one tidy format.

Examples
--------
>>> import laborai as la
>>> m = la.simulate_marketplace(seed=1, n_posts=5_000)
>>> panel = la.build_panel(m.job_posts, m.contracts)
>>> sorted(panel["value_tier"].unique())  # posts without a budget: the 'unknown' tier
['high', 'low', 'unknown']
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("laborai")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from laborai.errors import (
    ConvergenceWarning,
    DataFileNotFoundError,
    DataValidationError,
    EstimationError,
    LaborAIError,
    LaborAIWarning,
    OptionError,
    SmallSampleWarning,
    SparkUnavailableError,
)

if TYPE_CHECKING:  # what the lazy attributes below resolve to
    from laborai import classify, datasets, did, exposure, indicators, plot, studies, taxonomy
    from laborai.data import (
        FreelancerMarket,
        Marketplace,
        ReadResult,
        read_contracts,
        read_job_posts,
        read_marketplace,
        simulate_freelancers,
        simulate_marketplace,
    )
    from laborai.freelancer_panel import build_freelancer_panel
    from laborai.panel import build_panel
    from laborai.studies.compare import compare_estimators
    from laborai.studies.effects import estimate_effects

# Lazy top-level names (PEP 562): ``import laborai`` and ``laborai --version`` do not import
# pandas, scipy, DuckDB or pyfixest until a function needs them.
_SUBMODULES = ("classify", "data", "datasets", "did", "exposure", "indicators", "panel", "plot",
               "report", "studies", "taxonomy")
_NAMES = {
    "Marketplace": "laborai.data", "ReadResult": "laborai.data",
    "read_contracts": "laborai.data", "read_job_posts": "laborai.data",
    "read_marketplace": "laborai.data", "simulate_marketplace": "laborai.data",
    "estimate_effects": "laborai.studies.effects", "build_panel": "laborai.panel",
    "compare_estimators": "laborai.studies.compare",
    "FreelancerMarket": "laborai.data", "simulate_freelancers": "laborai.data",
    "build_freelancer_panel": "laborai.freelancer_panel",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"laborai.{name}")
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'laborai' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "ConvergenceWarning",
    "DataFileNotFoundError",
    "DataValidationError",
    "EstimationError",
    "FreelancerMarket",
    "LaborAIError",
    "LaborAIWarning",
    "Marketplace",
    "OptionError",
    "ReadResult",
    "SmallSampleWarning",
    "SparkUnavailableError",
    "__version__",
    "build_freelancer_panel",
    "build_panel",
    "classify",
    "compare_estimators",
    "datasets",
    "did",
    "estimate_effects",
    "exposure",
    "indicators",
    "plot",
    "read_contracts",
    "read_job_posts",
    "read_marketplace",
    "simulate_freelancers",
    "simulate_marketplace",
    "studies",
    "taxonomy",
]
