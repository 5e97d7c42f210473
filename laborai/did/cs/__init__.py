"""Callaway & Sant'Anna (2021) group-time average treatment effects, ATT(g,t).

:func:`att_gt` estimates, for every adoption cohort ``g`` (units first treated in period ``g``)
and every period ``t``, the average effect of the treatment on the cohort in period ``t``. Each
ATT(g,t) is a two-group, two-period DiD between cohort ``g`` and a comparison group (never
treated or not yet treated units), computed with the doubly robust, inverse probability weighted
or outcome regression estimators of Sant'Anna & Zhao (2020). Standard errors come from the
influence functions, which are also what :meth:`ATTgtResult.aggregate` combines into event-study,
cohort, calendar-time and overall summaries.

The numbers reproduce R's ``did`` package (version 2.5) to rounding: the same sample rules,
base periods, comparison groups, influence functions and aggregation weights (including the
estimation effect of the weights). This package is an independent implementation from the
papers; no code of the R package was used.

The modules follow the data flow, one step each (R ``did``'s seams):

1. :mod:`~laborai.did.cs._prepare` — validate, recode cohorts, pivot to arrays
   (``pre_process_did``);
2. :mod:`~laborai.did.cs._compute` — every ATT(g,t) with its influence function
   (``compute.att_gt``), on the kernels of :mod:`laborai.did._cs_kernels`;
3. :mod:`~laborai.did.cs._aggregate` — simple, dynamic, group and calendar aggregation
   (``aggte``);
4. :mod:`~laborai.did.cs._results` — the frozen results, their tables and plots (``ggdid``);

and :mod:`~laborai.did.cs._estimate` holds the public entry point :func:`att_gt`.
"""

from laborai.did.cs._estimate import att_gt
from laborai.did.cs._prepare import DroppedUnitsWarning
from laborai.did.cs._results import AggregateResult, ATTgtResult, PretestResult

__all__ = [
    "ATTgtResult",
    "AggregateResult",
    "DroppedUnitsWarning",
    "PretestResult",
    "att_gt",
]
