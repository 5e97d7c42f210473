"""Difference-in-differences estimators, inference and result objects.

Public names are imported from one module per estimator family.
"""

from laborai.did._results import TIDY_COLUMNS, Provenance, ResultMixin, wald_table

__all__ = ["TIDY_COLUMNS", "Provenance", "ResultMixin", "wald_table"]

# --- core regression DiD (twfe, event_study, ddd, etable, inference) ---

# --- Callaway-Sant'Anna (att_gt) ---

# --- Bacon decomposition, HonestDiD, synthetic DiD, Sun-Abraham ---
from laborai.did.bacon import BaconResult, bacon

__all__ += ["BaconResult", "bacon"]
