"""Difference-in-differences estimators, inference and result objects.

Public names are imported from one module per estimator family.
"""

from laborai.did._results import TIDY_COLUMNS, Provenance, ResultMixin, wald_table
from laborai.did._store import load

__all__ = ["TIDY_COLUMNS", "Provenance", "ResultMixin", "load", "wald_table"]

# --- core regression DiD (twfe, event_study, ddd, etable, inference) ---
from laborai.did.effects import EffectsResult, estimate_effects
from laborai.did.inference import (
    RITestResult,
    WildBootstrapResult,
    ri_test,
    wild_cluster_bootstrap,
)
from laborai.did.table import etable
from laborai.did.twfe import EventStudyResult, TWFEResult, ddd, event_study, twfe

__all__ += [
    "EffectsResult",
    "EventStudyResult",
    "RITestResult",
    "TWFEResult",
    "WildBootstrapResult",
    "ddd",
    "estimate_effects",
    "etable",
    "event_study",
    "ri_test",
    "twfe",
    "wild_cluster_bootstrap",
]

# --- Callaway-Sant'Anna (att_gt) ---
from laborai.did.cs import (
    AggregateResult,
    ATTgtResult,
    DroppedUnitsWarning,
    PretestResult,
    att_gt,
)

__all__ += ["ATTgtResult", "AggregateResult", "DroppedUnitsWarning", "PretestResult", "att_gt"]

# --- Bacon decomposition, HonestDiD, synthetic DiD, Sun-Abraham ---
from laborai.did.bacon import BaconResult, bacon
from laborai.did.sdid import SDIDResult, sdid
from laborai.did.sun_abraham import SunAbrahamResult, sun_abraham

__all__ += ["BaconResult", "bacon"]
__all__ += ["SDIDResult", "sdid"]
__all__ += ["SunAbrahamResult", "sun_abraham"]
from laborai.did.honest import HonestResult, honest

__all__ += ["HonestResult", "honest"]

# --- estimators compared side by side (compare.py) ---
from laborai.did.compare import ComparisonResult, compare_estimators, marketplace_true_effects

__all__ += ["ComparisonResult", "compare_estimators", "marketplace_true_effects"]

# --- the 2024-25 frontier: continuous dose, staggered DDD, imputation, pre-trend power ---
from laborai.did.contdid import ContDIDResult, cont_did
from laborai.did.ddd_gt import DDDgtResult, ddd_gt
from laborai.did.imputation import ImputationResult, TwoStageResult, did2s, did_imputation
from laborai.did.pretrends import PretrendsPowerResult, pretrends_power

__all__ += ["ContDIDResult", "DDDgtResult", "ImputationResult", "PretrendsPowerResult",
            "TwoStageResult", "cont_did", "ddd_gt", "did2s", "did_imputation", "pretrends_power"]
