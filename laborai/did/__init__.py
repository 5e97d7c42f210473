"""Difference-in-differences estimators, inference and result objects.

Public names are defined in one module per estimator family and imported lazily (PEP 562):
``import laborai.did`` or ``from laborai._results import ResultMixin`` does not import
every estimator (pyfixest, SciPy's stats, numba) until one is used.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the lazy names below resolve to
    from laborai._results import TIDY_COLUMNS, Provenance, ResultMixin, wald_table
    from laborai._store import load
    from laborai.did._formula import ResultSet
    from laborai.did.bacon import BaconResult, bacon
    from laborai.did.contdid import ContDIDResult, cont_did
    from laborai.did.cs import (
        AggregateResult,
        ATTgtResult,
        DroppedUnitsWarning,
        PretestResult,
        att_gt,
    )
    from laborai.did.ddd_gt import DDDgtResult, ddd_gt
    from laborai.did.honest import HonestResult, honest
    from laborai.did.imputation import ImputationResult, TwoStageResult, did2s, did_imputation
    from laborai.did.inference import (
        RITestResult,
        WildBootstrapResult,
        ri_test,
        wild_cluster_bootstrap,
    )
    from laborai.did.pretrends import PretrendsPowerResult, pretrends_power
    from laborai.did.sdid import SDIDResult, sdid
    from laborai.did.sun_abraham import SunAbrahamResult, sun_abraham
    from laborai.did.table import etable
    from laborai.did.twfe import EventStudyResult, TWFEResult, ddd, event_study, twfe

#: public name -> the module that defines it
_NAMES: dict[str, str] = {
    'TIDY_COLUMNS': 'laborai._results',
    'Provenance': 'laborai._results',
    'ResultMixin': 'laborai._results',
    'wald_table': 'laborai._results',
    'load': 'laborai._store',
    'ResultSet': 'laborai.did._formula',
    'RITestResult': 'laborai.did.inference',
    'WildBootstrapResult': 'laborai.did.inference',
    'ri_test': 'laborai.did.inference',
    'wild_cluster_bootstrap': 'laborai.did.inference',
    'etable': 'laborai.did.table',
    'EventStudyResult': 'laborai.did.twfe',
    'TWFEResult': 'laborai.did.twfe',
    'ddd': 'laborai.did.twfe',
    'event_study': 'laborai.did.twfe',
    'twfe': 'laborai.did.twfe',
    'AggregateResult': 'laborai.did.cs',
    'ATTgtResult': 'laborai.did.cs',
    'DroppedUnitsWarning': 'laborai.did.cs',
    'PretestResult': 'laborai.did.cs',
    'att_gt': 'laborai.did.cs',
    'BaconResult': 'laborai.did.bacon',
    'bacon': 'laborai.did.bacon',
    'SDIDResult': 'laborai.did.sdid',
    'sdid': 'laborai.did.sdid',
    'SunAbrahamResult': 'laborai.did.sun_abraham',
    'sun_abraham': 'laborai.did.sun_abraham',
    'HonestResult': 'laborai.did.honest',
    'honest': 'laborai.did.honest',
    'ContDIDResult': 'laborai.did.contdid',
    'cont_did': 'laborai.did.contdid',
    'DDDgtResult': 'laborai.did.ddd_gt',
    'ddd_gt': 'laborai.did.ddd_gt',
    'ImputationResult': 'laborai.did.imputation',
    'TwoStageResult': 'laborai.did.imputation',
    'did2s': 'laborai.did.imputation',
    'did_imputation': 'laborai.did.imputation',
    'PretrendsPowerResult': 'laborai.did.pretrends',
    'pretrends_power': 'laborai.did.pretrends',
}

__all__ = [
    "ATTgtResult",
    "AggregateResult",
    "BaconResult",
    "ContDIDResult",
    "DDDgtResult",
    "DroppedUnitsWarning",
    "EventStudyResult",
    "HonestResult",
    "ImputationResult",
    "PretestResult",
    "PretrendsPowerResult",
    "Provenance",
    "RITestResult",
    "ResultMixin",
    "ResultSet",
    "SDIDResult",
    "SunAbrahamResult",
    "TIDY_COLUMNS",
    "TWFEResult",
    "TwoStageResult",
    "WildBootstrapResult",
    "att_gt",
    "bacon",
    "cont_did",
    "ddd",
    "ddd_gt",
    "did2s",
    "did_imputation",
    "etable",
    "event_study",
    "honest",
    "load",
    "pretrends_power",
    "ri_test",
    "sdid",
    "sun_abraham",
    "twfe",
    "wald_table",
    "wild_cluster_bootstrap",
]


class _Package(types.ModuleType):
    """``laborai.did`` itself: a submodule named like its function (``twfe``, ``sdid``,
    ``bacon``, ...) must not replace the function when the import system binds the submodule
    to the package, so those bindings are skipped (the submodule stays in ``sys.modules``)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _NAMES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}.{name}":
            raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(globals()))
