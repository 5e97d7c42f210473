"""Marketplace studies: the workflows of laborai's own analyses, built from the estimators.

This layer sits above the generic difference-in-differences estimators of :mod:`laborai.did`
and uses only their public functions and the shared regression core
(:mod:`laborai.did._core`); nothing in :mod:`laborai.did` imports it
(``tests/test_layers.py`` checks the direction of every import):

* :func:`estimate_effects` -- the headline: one regression per outcome on the category x
  value-tier panel of ``la.build_panel``, an effect (or event-time path) per treated group and
  a test that they are equal (:mod:`laborai.studies.effects`);
* :func:`compare_estimators` -- TWFE and the heterogeneity-robust estimators side by side on
  one staggered panel, with :func:`marketplace_true_effects` the simulation's truth for it
  (:mod:`laborai.studies.compare`);
* :mod:`laborai.studies.realdata` -- the real-data analysis of Indeed postings by sector x LLM
  exposure around ChatGPT.

Names are imported lazily (PEP 562), like :mod:`laborai` and :mod:`laborai.did`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the lazy names below resolve to
    from laborai.studies import realdata
    from laborai.studies.compare import (
        ComparisonResult,
        compare_estimators,
        marketplace_true_effects,
    )
    from laborai.studies.effects import EffectsResult, estimate_effects

#: public name -> the module that defines it
_NAMES: dict[str, str] = {
    "EffectsResult": "laborai.studies.effects",
    "estimate_effects": "laborai.studies.effects",
    "ComparisonResult": "laborai.studies.compare",
    "compare_estimators": "laborai.studies.compare",
    "marketplace_true_effects": "laborai.studies.compare",
}
_SUBMODULES = ("compare", "effects", "realdata")

__all__ = [
    "ComparisonResult",
    "EffectsResult",
    "compare_estimators",
    "estimate_effects",
    "marketplace_true_effects",
    "realdata",
]


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(globals()))
