"""The reproducible report: analysis notebooks -> figures -> ``build/report.html``.

- :class:`AnalysisOutputs` is what each notebook in ``analyses/`` records its results with;
- :func:`load_marketplace` gives every marketplace analysis the same validated inputs;
- :func:`build_report` executes the notebooks (nbclient, fresh kernel each), writes the
  manifest, index and environment, and renders the HTML report; :func:`check_report` rebuilds
  into a temporary folder and reports every byte that differs.
"""

from laborai.report.inputs import DEFAULT_N_POSTS, DEFAULT_SEED, MarketplaceInputs, load_marketplace
from laborai.report.outputs import SECTIONS, AnalysisOutputs

__all__ = [
    "DEFAULT_N_POSTS",
    "DEFAULT_SEED",
    "SECTIONS",
    "AnalysisOutputs",
    "MarketplaceInputs",
    "load_marketplace",
]

from laborai.report.build import (
    AnalysisError,
    ReportBuild,
    build_report,
    check_report,
    find_analyses,
)

__all__ += ["AnalysisError", "ReportBuild", "build_report", "check_report", "find_analyses"]
