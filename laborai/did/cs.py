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
estimation effect of the weights). This module is an independent implementation from the papers;
no code of the R package was used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from laborai._timing import cohort_positions, is_datetime_like, period_label
from laborai._validation import check_option, check_time_column, resolve_seed
from laborai.did._cs_kernels import (
    did2x2_panel,
    did2x2_rc,
    multiplier_bootstrap,
    weights_influence_dot,
)
from laborai.did._results import Provenance, ResultMixin, _fmt, make_provenance, wald_table
from laborai.errors import (
    ConvergenceWarning,
    DataValidationError,
    EstimationError,
    LaborAIWarning,
    OptionError,
    SmallSampleWarning,
)

__all__ = [
    "ATTgtResult",
    "AggregateResult",
    "DroppedUnitsWarning",
    "PretestResult",
    "att_gt",
]

ControlGroup = Literal["never_treated", "not_yet_treated"]
EstMethod = Literal["dr", "ipw", "reg"]
BasePeriod = Literal["varying", "universal"]
AggregationType = Literal["simple", "dynamic", "group", "calendar"]

_CONTROL_GROUPS = ("never_treated", "not_yet_treated")
_EST_METHODS = ("dr", "ipw", "reg")
_BASE_PERIODS = ("varying", "universal")
_AGG_TYPES = ("simple", "dynamic", "group", "calendar")
_TINY_SE = math.sqrt(float(np.finfo(float).eps)) * 10


class DroppedUnitsWarning(LaborAIWarning):
    """Units or periods were excluded from estimation for a documented reason.

    The message states how many units (or which periods) were excluded and why, e.g. units
    already treated in the first period, which have no pre-treatment period to compare with.
    """


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _num(v: Any) -> Any:
    """Return ``v`` as int when it is integer valued (for labels), else as float."""
    f = float(v)
    return int(f) if f.is_integer() else f


def _period_value(v: Any, period_values: np.ndarray | None) -> Any:
    """Period (or cohort) ``v`` as a value of the user's period column: the date on the grid
    for datetime periods (internal positions 1..T), else the number itself."""
    if period_values is None:
        return _num(v)
    f = float(v)
    if np.isnan(f) or f < 1 or f > len(period_values):
        return pd.NaT
    return pd.Timestamp(period_values[int(f) - 1])


def _period_text(v: Any, period_values: np.ndarray | None) -> str:
    """Label of a period or cohort: ``2022-12`` for monthly datetime periods, else the number."""
    if period_values is None:
        return str(_num(v))
    return period_label(_period_value(v, period_values), period_values)


def _period_column(values: Sequence[Any] | np.ndarray, period_values: np.ndarray | None) -> Any:
    """Design column of periods or cohorts (datetime64 for datetime periods)."""
    if period_values is None:
        return _design_column(values)
    return pd.array([_period_value(v, period_values) for v in np.asarray(values, dtype=float)],
                    dtype="datetime64[ns]")


def _display_dates(frame: pd.DataFrame, period_values: np.ndarray | None) -> pd.DataFrame:
    """Datetime design columns as short labels (``2022-12``) for summaries and tables."""
    if period_values is None:
        return frame
    out = frame.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = [period_label(v, period_values) if pd.notna(v) else "" for v in out[c]]
    return out


def _design_column(values: Sequence[Any] | np.ndarray) -> Any:
    """Integer-valued design values as nullable Int64, otherwise float."""
    arr = np.asarray(values, dtype=float)
    fin = arr[np.isfinite(arr)]
    if np.all(np.equal(np.mod(fin, 1), 0)):
        return pd.array([None if np.isnan(v) else int(v) for v in arr], dtype="Int64")
    return arr


_BLAS_CONTROLLER: Any = None


@contextlib.contextmanager
def _single_thread_blas() -> Iterator[None]:
    """Run BLAS single-threaded: the 2x2 kernels multiply tall, skinny matrices, for which
    multi-threaded BLAS is slower (and much slower on a loaded machine)."""
    global _BLAS_CONTROLLER
    if _BLAS_CONTROLLER is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
            _BLAS_CONTROLLER = False
        else:
            _BLAS_CONTROLLER = ThreadpoolController()
    if _BLAS_CONTROLLER is False:  # pragma: no cover
        yield
        return
    with _BLAS_CONTROLLER.limit(limits=1, user_api="blas"):
        yield


def _first(values: Any, k: int = 5) -> str:
    vals = list(values)[:k]
    return ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in vals)


def _formula_terms(xformla: str | None) -> str | None:
    """Return the right-hand side of ``xformla`` or None when it has no covariates."""
    if xformla is None:
        return None
    if not isinstance(xformla, str):
        raise OptionError(
            f"xformla must be a formula string such as '~ lpop' or None; got {xformla!r}."
        )
    rhs = xformla.strip()
    if "~" in rhs:
        lhs, _, rhs = rhs.partition("~")
        if lhs.strip():
            raise OptionError(
                f"xformla must have no left-hand side (the outcome is yname); got {xformla!r}. "
                "Write it as '~ x1 + x2'."
            )
    rhs = rhs.strip()
    if rhs in ("", "1"):
        return None
    return rhs


# ---------------------------------------------------------------------------------------------
# data preparation
# ---------------------------------------------------------------------------------------------


def _codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of a column's sorted unique values, and those values."""
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        uniq, inv = np.unique(col.to_numpy(), return_inverse=True)
        return inv.astype(np.int64), uniq
    codes, index = pd.factorize(col, sort=True)
    return codes.astype(np.int64), np.asarray(index)


@dataclass(frozen=True)
class _Panel:
    ids: np.ndarray  # (n,) sorted unique ids
    periods: np.ndarray  # (T,) sorted periods
    y: np.ndarray  # (n, T)
    g: np.ndarray  # (n,) first treated period, 0 = never treated
    w: np.ndarray  # (n,)
    x: np.ndarray | None  # (n, T, k) covariates incl. intercept, or None (intercept only)
    x_names: tuple[str, ...]
    cluster: np.ndarray | None  # (n,) integer codes
    n_dropped_first: int
    n_recoded_never: int


def _model_matrix(data: pd.DataFrame, rhs: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Covariate matrix of ``~ rhs`` (one row per data row), intercept first, and its names."""
    import formulaic

    try:
        mm = formulaic.model_matrix("~" + rhs, data, na_action="raise")
    except Exception as exc:
        raise DataValidationError(
            f"xformla '~{rhs}' could not be evaluated on data ({exc})."
        ) from exc
    cols = [str(c) for c in mm.columns]
    xm = np.asarray(mm, dtype=float)
    if xm.shape[0] != len(data):
        raise DataValidationError(
            f"xformla '~{rhs}' produced {xm.shape[0]} rows for {len(data)} data rows."
        )
    if "Intercept" not in cols:
        xm = np.column_stack([np.ones(len(data)), xm])
        cols = ["Intercept", *cols]
    else:
        j = cols.index("Intercept")
        perm = [j, *[i for i in range(len(cols)) if i != j]]
        xm, cols = xm[:, perm], [cols[i] for i in perm]
    if not np.all(np.isfinite(xm)):
        raise DataValidationError(f"xformla '~{rhs}' produced non-finite covariate values.")
    return xm, ("(Intercept)", *cols[1:])


@dataclass(frozen=True)
class _Long:
    """Long-format data for the repeated-cross-section estimators.

    ``units`` are the sampling units: panel units for an unbalanced panel, rows for repeated
    cross sections. Influence functions live on units; 2x2 estimators run on observations.
    """

    periods: np.ndarray  # (T,) sorted periods
    y: np.ndarray  # (m,) outcome per observation
    tpos: np.ndarray  # (m,) index of the observation's period in ``periods``
    unit: np.ndarray  # (m,) unit code 0..n-1
    g_obs: np.ndarray  # (m,) cohort of the observation's unit, 0 = never treated
    w_obs: np.ndarray  # (m,) sampling weight
    x: np.ndarray | None  # (m, k) covariates incl. intercept, or None
    x_names: tuple[str, ...]
    g: np.ndarray  # (n,) cohort per unit
    w: np.ndarray  # (n,) weight per unit
    cluster: np.ndarray | None  # (n,) cluster codes
    structure: str  # "unbalanced_panel" | "repeated_cross_section"
    n_dropped_first: int
    n_recoded_never: int
    n_incomplete: int  # units not observed in every period (unbalanced panels)
    n_obs_dropped: int  # observations removed by the sample rules


def _checked_y_g_w(y: np.ndarray, g_raw: np.ndarray, w_raw: np.ndarray | None, yname: str,
                   gname: str, weights: str | None, n: int,
                   who: str) -> tuple[np.ndarray, np.ndarray]:
    """Check the outcome, the group (first treated period; 0/inf = never) and the weights."""
    if not np.all(np.isfinite(y)):
        raise DataValidationError(f"column {yname!r} (yname) has non-finite values (inf).")
    g = g_raw.astype(float)
    g = np.where(np.isposinf(g), 0.0, g)
    bad_g = (g < 0) | ~np.isfinite(g)
    if bad_g.any():
        raise DataValidationError(
            f"column {gname!r} (gname) must hold the first treated period, or 0 (or inf) for "
            f"never-treated units; found {int(bad_g.sum())} {who} with negative or invalid "
            f"values (first: {_first(g[bad_g])})."
        )
    if w_raw is None:
        return g, np.ones(n)
    w = w_raw.astype(float)
    if (w < 0).any() or not np.all(np.isfinite(w)) or w.sum() <= 0:
        raise DataValidationError(
            f"column {weights!r} (weights) must be finite and non-negative with a positive "
            f"sum; found {int(((w < 0) | ~np.isfinite(w)).sum())} bad {who}."
        )
    return g, w


def _recode_cohorts(g: np.ndarray, periods: np.ndarray, anticipation: int, *, gname: str,
                    who: str, period_values: np.ndarray | None, prefix: str = "",
                    stacklevel: int = 4) -> tuple[np.ndarray, np.ndarray, int]:
    """The two cohort rules of R's ``did``, each reported with a :class:`DroppedUnitsWarning`.

    Units first treated after the last period are recoded as never treated (0); units treated
    in the first period (plus ``anticipation``) have no pre-treatment period. Returns the
    recoded cohorts, the mask of the latter units (for the caller to drop) and the number
    recoded.
    """
    late = g > periods[-1]
    n_recoded = int(late.sum())
    if n_recoded:
        warnings.warn(
            f"{prefix}{n_recoded} {who} have {gname!r} after the last period "
            f"({_period_text(periods[-1], period_values)}); they are treated as never treated "
            "within the sample window (as R's did does).",
            DroppedUnitsWarning,
            stacklevel=stacklevel,
        )
        g = np.where(late, 0.0, g)
    first = (g != 0) & (g <= periods[0] + anticipation)
    n_first = int(first.sum())
    if n_first:
        warnings.warn(
            f"{prefix}{'dropped' if prefix else 'Dropped'} {n_first} {who} that were already "
            "treated in the first period "
            f"({_period_text(periods[0], period_values)}"
            + (f" plus {anticipation} anticipation period(s)" if anticipation else "")
            + f"): their {gname!r} leaves no pre-treatment period to compare with. Groups: "
            f"{[_period_text(v, period_values) for v in np.unique(g[first])]}.",
            DroppedUnitsWarning,
            stacklevel=stacklevel,
        )
    return g, first, n_recoded


def _validate_and_pivot(
    data: pd.DataFrame,
    *,
    yname: str,
    tname: str,
    idname: str | None,
    gname: str,
    rhs: str | None,
    weights: str | None,
    cluster: str | None,
    anticipation: int,
    control_group: str,
    panel: bool = True,
    allow_unbalanced_panel: bool = False,
    period_values: np.ndarray | None = None,
) -> _Panel | _Long:
    """Validate ``data`` and return a balanced panel (:class:`_Panel`) or long data
    (:class:`_Long`) for unbalanced panels (``allow_unbalanced_panel``) and repeated cross
    sections (``panel=False``)."""
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(
            f"data must be a pandas DataFrame in long format (one row per unit and period); "
            f"got {type(data).__name__}."
        )
    formula_vars: list[str] = []
    if rhs is not None:
        import formulaic

        try:
            formula_vars = sorted(formulaic.Formula("~" + rhs).required_variables)
        except Exception as exc:  # formulaic raises several parser error types
            raise OptionError(
                f"xformla could not be parsed: '~{rhs}' ({exc}). Use a formula such as '~ x1 + x2'."
            ) from exc
    named: dict[str, Any] = {"yname": yname, "tname": tname, "idname": idname, "gname": gname}
    if idname is None and not panel:
        del named["idname"]
    if weights is not None:
        named["weights"] = weights
    if cluster is not None:
        named["cluster"] = cluster
    for arg, col in named.items():
        if not isinstance(col, str):
            raise OptionError(f"{arg} must be a column name (str); got {col!r}.")
    used = list(dict.fromkeys([*named.values(), *formula_vars]))
    missing_cols = [c for c in used if c not in data.columns]
    if missing_cols:
        raise DataValidationError(
            f"column(s) {missing_cols} not found in data; available columns: "
            f"{list(map(str, data.columns))[:20]}. Check yname/tname/idname/gname/xformla/"
            "weights/cluster."
        )
    na_counts = {c: int(data[c].isna().sum()) for c in used}
    na_counts = {c: k for c, k in na_counts.items() if k > 0}
    if na_counts:
        detail = ", ".join(f"{c!r}: {k} row(s)" for c, k in na_counts.items())
        raise DataValidationError(
            f"missing values in columns used by att_gt ({detail}); rule: no missing values. "
            "Drop or impute these rows explicitly before calling att_gt (never-treated units "
            f"must have {gname!r} = 0, not missing)."
        )
    for arg in ("yname", "tname", "gname") + (("weights",) if weights is not None else ()):
        col = named[arg]
        if not pd.api.types.is_numeric_dtype(data[col]) or pd.api.types.is_bool_dtype(data[col]):
            raise DataValidationError(
                f"column {col!r} ({arg}) must be numeric; got dtype {data[col].dtype}. "
                "Convert it, e.g. with pd.to_numeric."
            )
    if len(data) == 0:
        raise DataValidationError("data has no rows.")

    tvals = data[tname].to_numpy(dtype=float)
    if not np.all(np.isfinite(tvals)):
        raise DataValidationError(f"column {tname!r} (tname) has non-finite values.")
    t_codes, t_values = _codes(data[tname])
    periods = np.asarray(t_values, dtype=float)
    n_t = len(periods)
    if n_t < 2:
        raise DataValidationError(
            f"column {tname!r} (tname) has {n_t} distinct period(s); at least 2 are needed."
        )
    long_kw: dict[str, Any] = {
        "yname": yname, "tname": tname, "idname": idname, "gname": gname, "rhs": rhs,
        "weights": weights, "cluster": cluster, "anticipation": anticipation,
        "control_group": control_group, "t_codes": t_codes, "periods": periods,
        "period_values": period_values,
    }
    if not panel:
        if idname is not None and data[idname].duplicated().any():
            dups = data.loc[data[idname].duplicated(), idname].unique()
            raise DataValidationError(
                f"panel=False treats every row as its own sampling unit, but {idname!r} "
                f"(idname) repeats for {len(dups)} value(s) (first: {_first(dups)}). For units "
                "observed in several periods use panel=True (with allow_unbalanced_panel=True "
                "if some periods are missing); for genuine repeated cross sections omit idname "
                "or give each row its own id."
            )
        return _build_long(data, id_codes=None, ids=None, **long_kw)
    if idname is None:
        raise OptionError(
            "idname is required with panel=True (it links a unit's rows across periods); got "
            "None. Pass the unit identifier column, or panel=False for repeated cross sections."
        )
    id_codes, ids = _codes(data[idname])
    n = len(ids)
    cell = id_codes.astype(np.int64) * n_t + t_codes
    counts = np.bincount(cell, minlength=n * n_t)
    if counts.max() > 1:
        dup = np.flatnonzero(counts > 1)
        raise DataValidationError(
            f"{len(dup)} ({idname}, {tname}) pair(s) appear more than once; rule: one row per "
            f"unit and period. First duplicates: "
            f"{_first((ids[c // n_t], periods[c % n_t]) for c in dup)}. "
            "Aggregate or deduplicate the data first."
        )
    per_unit = np.bincount(id_codes, minlength=n)
    if (per_unit < n_t).any():
        if allow_unbalanced_panel:
            return _build_long(data, id_codes=id_codes, ids=ids, **long_kw)
        bad = np.flatnonzero(per_unit < n_t)
        raise DataValidationError(
            f"the panel is unbalanced: {len(bad)} of {n} units ({idname!r}) are missing at "
            f"least one of the {n_t} periods (first: {_first(ids[bad])}). att_gt never drops "
            "units silently. Options: pass allow_unbalanced_panel=True (repeated-cross-section "
            "estimators on all observations, standard errors clustered on the unit), balance "
            "the panel yourself (keep units observed in every period, or fill the gaps), or "
            "estimate on a subset of periods where every unit is observed."
        )
    order = np.argsort(cell, kind="stable")

    def wide(col: str) -> np.ndarray:
        return data[col].to_numpy(dtype=float)[order].reshape(n, n_t)

    def invariant(col: str, arg: str) -> np.ndarray:
        vals = data[col].to_numpy()[order].reshape(n, n_t)
        if pd.api.types.is_numeric_dtype(data[col]):
            same = np.all(vals == vals[:, :1], axis=1)
        else:
            same = np.array([len(set(r)) == 1 for r in vals.tolist()])
        if not same.all():
            bad = np.flatnonzero(~same)
            raise DataValidationError(
                f"column {col!r} ({arg}) must be constant within each {idname!r}; it varies for "
                f"{len(bad)} unit(s) (first: {_first(ids[bad])}). Fix the data so that each unit "
                f"has a single value of {col!r}."
            )
        return np.asarray(vals[:, 0])

    y = wide(yname)
    g, w = _checked_y_g_w(y, invariant(gname, "gname"),
                          None if weights is None else invariant(weights, "weights"),
                          yname, gname, weights, n, "unit(s)")
    cl = None
    if cluster is not None:
        cl_vals = invariant(cluster, "cluster")
        cl = pd.factorize(cl_vals, sort=True)[0].astype(np.int64)

    x = None
    x_names: tuple[str, ...] = ("(Intercept)",)
    if rhs is not None:
        xm, x_names = _model_matrix(data, rhs)
        x = xm[order].reshape(n, n_t, xm.shape[1])

    g, first, n_recoded = _recode_cohorts(g, periods, anticipation, gname=gname,
                                          who=f"unit(s) ({idname!r})",
                                          period_values=period_values, stacklevel=4)
    n_first = int(first.sum())
    if n_first:
        keep = ~first
        ids, y, g, w = ids[keep], y[keep], g[keep], w[keep]
        x = None if x is None else x[keep]
        cl = None if cl is None else pd.factorize(cl[keep], sort=True)[0].astype(np.int64)

    if not (g == 0).any():
        if control_group == "never_treated":
            raise EstimationError(
                "there is no never-treated group (no unit has "
                f"{gname!r} = 0 or a first treated period after the last period); "
                "control_group='never_treated' needs one. Use control_group='not_yet_treated'."
            )
        gmax = g.max()
        keep_t = periods < gmax - anticipation
        warnings.warn(
            f"No never-treated units: the last-treated cohort ({gname!r} = {_period_text(gmax, period_values)}) becomes "
            f"the comparison group and periods from {_period_text(gmax - anticipation, period_values)}"
            " on are dropped "
            "(they have no untreated comparison), as R's did does.",
            DroppedUnitsWarning,
            stacklevel=3,
        )
        periods, y = periods[keep_t], y[:, keep_t]
        x = None if x is None else x[:, keep_t]
        g = np.where(g == gmax, 0.0, g)
        if len(periods) < 2:
            raise EstimationError("fewer than two periods remain before the last cohort's start.")
    if len(ids) == 0 or not (g > 0).any():
        raise EstimationError(
            f"no treated units with a pre-treatment period remain in {gname!r}; nothing to estimate."
        )
    return _Panel(
        ids=np.asarray(ids),
        periods=periods,
        y=y,
        g=g,
        w=w,
        x=x,
        x_names=x_names,
        cluster=cl,
        n_dropped_first=n_first,
        n_recoded_never=n_recoded,
    )


def _build_long(
    data: pd.DataFrame,
    *,
    id_codes: np.ndarray | None,
    ids: np.ndarray | None,
    yname: str,
    tname: str,
    idname: str | None,
    gname: str,
    rhs: str | None,
    weights: str | None,
    cluster: str | None,
    anticipation: int,
    control_group: str,
    t_codes: np.ndarray,
    periods: np.ndarray,
    period_values: np.ndarray | None = None,
) -> _Long:
    """Long-format data for an unbalanced panel (``id_codes`` given) or for repeated cross
    sections (``id_codes`` None: every row is its own unit)."""
    m = len(data)
    is_panel = id_codes is not None
    if id_codes is None or ids is None:
        unit = np.arange(m, dtype=np.int64)
        ids = np.arange(m)
        who = "observation(s)"
    else:
        unit = id_codes.astype(np.int64)
        who = f"unit(s) ({idname!r})"
    n = len(ids)
    # first row of each unit (rows are not reordered: results do not depend on row order
    # because every unit-level value is checked to be constant within unit)
    first_row = np.full(n, m, dtype=np.int64)
    np.minimum.at(first_row, unit, np.arange(m, dtype=np.int64))

    def per_unit(col: str, arg: str) -> np.ndarray:
        vals = data[col].to_numpy()
        if not is_panel:
            return np.asarray(vals)
        codes = pd.factorize(data[col])[0]
        same = codes == codes[first_row][unit]
        if not same.all():
            bad = np.unique(unit[~same])
            raise DataValidationError(
                f"column {col!r} ({arg}) must be constant within each {idname!r}; it varies for "
                f"{len(bad)} unit(s) (first: {_first(ids[bad])}). Fix the data so that each unit "
                f"has a single value of {col!r}."
            )
        return np.asarray(vals[first_row])

    y = data[yname].to_numpy(dtype=float)
    g, w = _checked_y_g_w(y, per_unit(gname, "gname"),
                          None if weights is None else per_unit(weights, "weights"),
                          yname, gname, weights, n, who.split(" ")[0])
    cl = None
    if cluster is not None:
        cl = pd.factorize(per_unit(cluster, "cluster"), sort=True)[0].astype(np.int64)
    x = None
    x_names: tuple[str, ...] = ("(Intercept)",)
    if rhs is not None:
        x, x_names = _model_matrix(data, rhs)
    tpos = t_codes.astype(np.int64)
    n_obs_per_unit = np.bincount(unit, minlength=n)
    n_incomplete = int((n_obs_per_unit < len(periods)).sum()) if is_panel else 0

    keep_unit = np.ones(n, dtype=bool)
    g, first, n_recoded = _recode_cohorts(g, periods, anticipation, gname=gname, who=who,
                                          period_values=period_values, stacklevel=5)
    n_first = int(first.sum())
    if n_first:
        keep_unit &= ~first
    keep_obs = keep_unit[unit]

    if not (g[keep_unit] == 0).any():
        if control_group == "never_treated":
            raise EstimationError(
                "there is no never-treated group (no unit has "
                f"{gname!r} = 0 or a first treated period after the last period); "
                "control_group='never_treated' needs one. Use control_group='not_yet_treated'."
            )
        gmax = g[keep_unit].max()
        keep_t = periods < gmax - anticipation
        late_obs = keep_obs & ~keep_t[tpos]
        warnings.warn(
            f"No never-treated units: the last-treated cohort ({gname!r} = {_period_text(gmax, period_values)}) becomes "
            f"the comparison group and periods from {_period_text(gmax - anticipation, period_values)}"
            " on are dropped "
            f"({int(late_obs.sum())} observation(s); they have no untreated comparison), as R's "
            "did does.",
            DroppedUnitsWarning,
            stacklevel=4,
        )
        if int(keep_t.sum()) < 2:
            raise EstimationError("fewer than two periods remain before the last cohort's start.")
        keep_obs &= keep_t[tpos]
        g = np.where(g == gmax, 0.0, g)
        new_pos = np.cumsum(keep_t) - 1
        tpos = np.where(keep_t[tpos], new_pos[tpos], -1)
        periods = periods[keep_t]
    if not is_panel:
        # repeated cross sections: an observation outside the window leaves the sample
        keep_unit = keep_unit & keep_obs
    if not (g[keep_unit] > 0).any():
        raise EstimationError(
            f"no treated units with a pre-treatment period remain in {gname!r}; nothing to estimate."
        )
    # re-index the units that remain
    new_code = np.cumsum(keep_unit) - 1
    idx = np.flatnonzero(keep_obs)
    unit_k = new_code[unit[idx]]
    g_k, w_k = g[keep_unit], w[keep_unit]
    cl_k = None if cl is None else pd.factorize(cl[keep_unit], sort=True)[0].astype(np.int64)
    w_obs = w[unit[idx]]
    return _Long(
        periods=periods,
        y=y[idx],
        tpos=tpos[idx],
        unit=unit_k,
        g_obs=g_k[unit_k],
        w_obs=w_obs,
        x=None if x is None else x[idx],
        x_names=x_names,
        g=g_k,
        w=w_k,
        cluster=cl_k,
        structure="unbalanced_panel" if is_panel else "repeated_cross_section",
        n_dropped_first=n_first,
        n_recoded_never=n_recoded,
        n_incomplete=n_incomplete,
        n_obs_dropped=m - len(idx),
    )


# ---------------------------------------------------------------------------------------------
# core computation
# ---------------------------------------------------------------------------------------------


def _unconditional_2x2(
    dy: np.ndarray, treated: np.ndarray, ctrl: np.ndarray, w: np.ndarray, trim_level: float = 0.995
) -> tuple[float, np.ndarray] | None:
    """ATT and full-sample influence function of the 2x2 DiD without covariates.

    Without covariates the DR, IPW and regression estimators coincide: the ATT is the weighted
    mean change of the treated minus that of the comparison group, and the influence function
    (scaled to the full sample of ``n`` units) is
    ``n * (w D (dY - mu_1) / sum(w D) - w C (dY - mu_0) / sum(w C))``. Returns None when the
    comparison group would be trimmed (treated share >= ``trim_level``), which the general
    kernel handles.
    """
    n = dy.shape[0]
    w_t = w * treated
    w_c = w * ctrl
    s_t, s_c = w_t.sum(), w_c.sum()
    if s_t / (s_t + s_c) >= trim_level:
        return None
    mu_t = np.dot(w_t, dy) / s_t
    mu_c = np.dot(w_c, dy) / s_c
    inf = n * (w_t * (dy - mu_t) / s_t - w_c * (dy - mu_c) / s_c)
    return float(mu_t - mu_c), inf


def _gt_cells(
    periods: np.ndarray, glist: np.ndarray, base_period: str, anticipation: int
) -> Iterator[tuple[float, int, int]]:
    """The (g, t) cells of att_gt in order: ``(g, index of t, index of the base period)``.

    Post-treatment cells (and all cells with ``base_period="universal"``) compare with the last
    period before ``g - anticipation``; pre-treatment cells with a varying base compare with
    ``t - 1``. A cohort without such a period is skipped with a warning.
    """
    n_t = len(periods)
    for gv in glist:
        pre_idx = np.flatnonzero(periods + anticipation < gv)
        universal_base = int(pre_idx[-1]) if len(pre_idx) else -1
        t_range = range(1, n_t) if base_period == "varying" else range(n_t)
        for tc in t_range:
            if gv <= periods[tc] or base_period == "universal":
                if universal_base < 0:
                    warnings.warn(
                        f"no pre-treatment period for the group first treated at {_num(gv)}; "
                        "its ATT(g,t) are not computed.",
                        DroppedUnitsWarning,
                        stacklevel=5,
                    )
                    break
                pret = universal_base
            else:
                pret = tc - 1
            yield gv, tc, pret


def _compute_att_gt(
    panel: _Panel,
    *,
    control_group: str,
    est_method: str,
    base_period: str,
    anticipation: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Loop over (g, t) pairs; return group, time, att, influence (n x K)."""
    periods, g_unit, y, w = panel.periods, panel.g, panel.y, panel.w
    n, n_t = y.shape
    glist = np.unique(g_unit[g_unit > 0])
    groups: list[float] = []
    times: list[float] = []
    atts: list[float] = []
    infs: list[np.ndarray] = []
    never = g_unit == 0
    y_by_t = np.ascontiguousarray(y.T)  # (T, n): one contiguous row per period
    x_by_t = None if panel.x is None else np.ascontiguousarray(panel.x.transpose(1, 0, 2))
    # with time-invariant covariates the propensity score and the comparison-group regression
    # design of a (cohort, comparison set) pair do not depend on t: factor them once and reuse
    # them across periods (identical numbers, fewer fits)
    x_static = x_by_t is not None and bool(np.all(x_by_t == x_by_t[:1]))
    caches: dict[tuple[float, float, int], dict[str, Any]] = {}
    cur_g = float("nan")
    treated = np.zeros(n, dtype=bool)
    for gv, tc, pret in _gt_cells(periods, glist, base_period, anticipation):
        if gv != cur_g:
            cur_g, treated = gv, g_unit == gv
        if base_period == "universal" and pret == tc:
            groups.append(gv)
            times.append(periods[tc])
            atts.append(0.0)
            infs.append(np.zeros(n))
            continue
        later = periods[max(tc, pret)]
        if control_group == "never_treated":
            ctrl = never
        else:
            ctrl = never | ((g_unit > later + anticipation) & ~treated)
        sub = treated | ctrl
        n_g, n_c = int(treated.sum()), int(ctrl.sum())
        groups.append(gv)
        times.append(periods[tc])
        if n_g == 0 or n_c == 0:
            warnings.warn(
                f"ATT({_num(gv)},{_num(periods[tc])}) has {n_g} treated and {n_c} comparison "
                "unit(s); it is not estimated (NaN).",
                SmallSampleWarning,
                stacklevel=4,
            )
            atts.append(float("nan"))
            infs.append(np.full(n, np.nan))
            continue
        if n_c < 5 or n_g < 5:
            warnings.warn(
                f"ATT({_num(gv)},{_num(periods[tc])}) uses only {n_g} treated and {n_c} "
                "comparison unit(s); inference may be unreliable.",
                SmallSampleWarning,
                stacklevel=4,
            )
        if x_by_t is None:
            fast = _unconditional_2x2(y_by_t[tc] - y_by_t[pret], treated, ctrl, w)
            if fast is not None:
                atts.append(fast[0])
                infs.append(fast[1])
                continue
        idx = np.flatnonzero(sub)
        dy = y_by_t[tc][idx] - y_by_t[pret][idx]
        d = treated[idx].astype(float)
        xs = np.ones((len(idx), 1)) if x_by_t is None else x_by_t[min(tc, pret)][idx]
        key = (
            float(gv),
            float(later) if control_group == "not_yet_treated" else 0.0,
            -1 if x_static else min(tc, pret),
        )
        cache = caches.setdefault(key, {})
        refit = "ps" not in cache
        try:
            att, inf_sub, fit = did2x2_panel(dy, d, xs, w[idx], est_method, cache=cache)
        except np.linalg.LinAlgError as exc:
            raise EstimationError(
                f"ATT({_num(gv)},{_num(periods[tc])}): the covariate matrix is singular in "
                f"the treated or comparison group ({exc}). Drop collinear or constant "
                "covariates from xformla."
            ) from exc
        if fit is not None and refit and not fit.converged:
            warnings.warn(
                f"ATT({_num(gv)},{_num(periods[tc])}): propensity-score logit did not "
                "converge in 25 iterations.",
                ConvergenceWarning,
                stacklevel=4,
            )
        inf = np.zeros(n)
        inf[idx] = inf_sub * (n / len(idx))
        atts.append(att)
        infs.append(inf)
    if not atts:
        raise EstimationError("no ATT(g,t) could be computed (no group has a pre-period).")
    return (
        np.asarray(groups, dtype=float),
        np.asarray(times, dtype=float),
        np.asarray(atts, dtype=float),
        np.column_stack(infs),
    )


def _unconditional_2x2_rc(
    y: np.ndarray,
    post: np.ndarray,
    d: np.ndarray,
    w: np.ndarray,
    unit: np.ndarray,
    n: int,
    trim_level: float = 0.995,
) -> tuple[float, np.ndarray] | None:
    """ATT and unit-level influence function of the repeated-cross-section 2x2 DiD without
    covariates: the difference between the treated group's and the comparison group's
    changes in weighted mean outcomes.

    With cell sums of weights ``S_c`` and cell means ``mu_c`` for the four (group, period)
    cells, the observation-level influence function (on the ``m`` observations) is
    ``m * sum_c sign_c w 1_c (y - mu_c) / S_c``; summed within units and rescaled to the ``n``
    units it becomes ``n * sum_{obs of unit} sum_c sign_c w 1_c (y - mu_c) / S_c``. Returns None
    when the comparison group would be trimmed (treated share >= ``trim_level``).
    """
    cells = ((1.0, d & post), (-1.0, d & ~post), (-1.0, ~d & post), (1.0, ~d & ~post))
    s_t = float(w[d].sum())
    if s_t / float(w.sum()) >= trim_level:
        return None
    att = 0.0
    contrib = np.zeros(len(y))
    for sign, ind in cells:
        wc = w * ind
        sc = float(wc.sum())
        mu = float(np.dot(wc, y) / sc)
        att += sign * mu
        contrib += sign * wc * (y - mu) / sc
    return att, n * np.bincount(unit, weights=contrib, minlength=n)


def _compute_att_gt_long(
    data: _Long,
    *,
    control_group: str,
    est_method: str,
    base_period: str,
    anticipation: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Repeated-cross-section ATT(g,t) for unbalanced panels and repeated cross sections.

    Each ATT(g,t) uses every observation of cohort ``g`` and of the comparison group in the
    two periods of the comparison. The observation-level influence function of the 2x2
    estimator is summed within units (each row is a unit for repeated cross sections) and
    rescaled by ``n / m_gt`` (``n`` units, ``m_gt`` observations in the 2x2), so that
    ``var ~= sum_i inf_i^2 / n^2`` is clustered on the unit.
    """
    periods, g_obs = data.periods, data.g_obs
    n = len(data.g)
    glist = np.unique(data.g[data.g > 0])
    groups: list[float] = []
    times: list[float] = []
    atts: list[float] = []
    infs: list[np.ndarray] = []
    never = g_obs == 0
    for gv, tc, pret in _gt_cells(periods, glist, base_period, anticipation):
        groups.append(gv)
        times.append(periods[tc])
        if base_period == "universal" and pret == tc:
            atts.append(0.0)
            infs.append(np.zeros(n))
            continue
        label = f"ATT({_num(gv)},{_num(periods[tc])})"
        later = periods[max(tc, pret)]
        treated = g_obs == gv
        if control_group == "never_treated":
            ctrl = never
        else:
            ctrl = never | ((g_obs > later + anticipation) & ~treated)
        in_t = (data.tpos == tc) | (data.tpos == pret)
        idx = np.flatnonzero(in_t & (treated | ctrl))
        d = treated[idx]
        post = data.tpos[idx] == tc
        sizes = [int((d & post).sum()), int((d & ~post).sum()), int((~d & post).sum()),
                 int((~d & ~post).sum())]
        detail = (
            f"{sizes[0]} / {sizes[1]} treated and {sizes[2]} / {sizes[3]} comparison "
            f"observations in periods {_num(periods[tc])} / {_num(periods[pret])}"
        )
        if min(sizes) == 0:
            warnings.warn(
                f"{label} has {detail}; it is not estimated (NaN).",
                SmallSampleWarning,
                stacklevel=4,
            )
            atts.append(float("nan"))
            infs.append(np.full(n, np.nan))
            continue
        if min(sizes) < 5:
            warnings.warn(
                f"{label} uses only {detail}; inference may be unreliable.",
                SmallSampleWarning,
                stacklevel=4,
            )
        y, w, unit = data.y[idx], data.w_obs[idx], data.unit[idx]
        if data.x is None:
            fast = _unconditional_2x2_rc(y, post, d, w, unit, n)
            if fast is not None:
                atts.append(fast[0])
                infs.append(fast[1])
                continue
        xs = np.ones((len(idx), 1)) if data.x is None else data.x[idx]
        try:
            att, inf_obs, fit = did2x2_rc(y, post, d, xs, w, est_method)
        except np.linalg.LinAlgError as exc:
            raise EstimationError(
                f"{label}: the covariate matrix is singular in one of the (group, period) cells "
                f"({exc}); {detail}. Drop collinear or constant covariates from xformla."
            ) from exc
        if not np.isfinite(att) or not np.all(np.isfinite(inf_obs)):
            raise EstimationError(
                f"{label}: the 2x2 estimator returned a non-finite value ({detail}); the "
                "covariates are probably collinear within a (group, period) cell. Drop "
                "collinear or constant covariates from xformla."
            )
        if fit is not None and not fit.converged:
            warnings.warn(
                f"{label}: propensity-score logit did not converge in 25 iterations.",
                ConvergenceWarning,
                stacklevel=4,
            )
        atts.append(att)
        infs.append(np.bincount(unit, weights=inf_obs, minlength=n) * (n / len(idx)))
    if not atts:
        raise EstimationError("no ATT(g,t) could be computed (no group has a pre-period).")
    return (
        np.asarray(groups, dtype=float),
        np.asarray(times, dtype=float),
        np.asarray(atts, dtype=float),
        np.column_stack(infs),
    )


def _cluster_sums(inf: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    if cluster is None:
        return inf
    out = np.zeros((int(cluster.max()) + 1, inf.shape[1]))
    np.add.at(out, cluster, inf)
    return out


def _analytic_se(inf: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    n = inf.shape[0]
    s = _cluster_sums(inf, cluster)
    se = np.sqrt(np.sum(s**2, axis=0)) / n
    return np.where(se <= _TINY_SE, np.nan, se)


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PretestResult:
    """Wald pre-test of parallel trends: all pre-treatment ATT(g,t) equal zero.

    Attributes
    ----------
    statistic : float
        ``W = n * att_pre' V_pre^{-1} att_pre``.
    df : int
        Number of restrictions (pre-treatment ATT(g,t) with a finite standard error).
    p_value : float
        Chi-square(df) upper tail probability (unrounded; R's ``did`` rounds to 5 digits), or
        ``F(df, df2)`` under placebo inference.
    distribution : {"chi2", "F"}
        Reference distribution: ``"F"`` for the placebo pre-test (Hotelling).
    df2 : float or None
        Denominator degrees of freedom of the F test.
    periods : tuple
        The pre-treatment periods tested by the placebo pre-test (empty for the Wald test, which
        uses every pre-treatment ATT(g,t)).
    """

    statistic: float
    df: int
    p_value: float
    distribution: str = "chi2"
    df2: float | None = None
    periods: tuple[Any, ...] = ()

    def __repr__(self) -> str:
        if self.distribution == "F":
            return (f"PretestResult(F={self.statistic:.6f}, df=({self.df}, {self.df2:g}), "
                    f"p_value={self.p_value:.6f}, placebo)")
        return f"PretestResult(W={self.statistic:.6f}, df={self.df}, p_value={self.p_value:.6f})"


@dataclass(frozen=True, eq=False, repr=False)
class ATTgtResult(ResultMixin):
    """Group-time average treatment effects from :func:`att_gt`.

    Attributes
    ----------
    group, time : ndarray
        Cohort (first treated period) and period of each ATT(g,t).
    estimate, std_error : ndarray
        ATT(g,t) and its standard error (bootstrap when ``bstrap=True``, else analytic).
    analytic_std_error : ndarray
        Influence-function standard errors (always computed).
    influence : ndarray, shape (n_units, K)
        Influence functions of the ATT(g,t) (``var ~= sum(inf**2) / n**2``).
    vcov : ndarray, shape (K, K)
        Analytic covariance matrix ``inf' inf / n**2``.
    crit_val : float
        Critical value of the confidence bands (sup-t when ``cband``, else normal quantile).
    unit_group, unit_weight : ndarray
        First treated period (0 = never) and sampling weight of each unit.
    unit_cluster : ndarray or None
        Cluster codes of each unit when ``cluster`` was given.
    periods : ndarray
        Periods used.
    settings : mapping (read-only)
        The arguments of :func:`att_gt`.
    n_units : int
        Sampling units in the estimation sample: panel units, or rows for repeated cross
        sections (``panel=False``).
    n_dropped : int
        Units (observations for ``panel=False``) dropped because they were treated in the first
        period (reported with a :class:`DroppedUnitsWarning`).
    provenance : Provenance
        Settings, seed, package version and input hash.
    data_structure : {"balanced_panel", "unbalanced_panel", "repeated_cross_section"}
        How the data were treated: the panel estimators (balanced panel), the
        repeated-cross-section estimators with unit-clustered influence functions
        (``allow_unbalanced_panel=True`` on an unbalanced panel), or the repeated-cross-section
        estimators with independent rows (``panel=False``).
    n_obs : int
        Observations (rows) in the estimation sample.
    n_incomplete_units : int
        Units of an unbalanced panel not observed in every period (all are kept).
    period_values : ndarray or None
        For datetime periods: the sorted grid of period starts (``datetime64[ns]``). ``group``,
        ``time``, ``periods`` and ``unit_group`` then hold positions 1..T on this grid
        (``period_values[p - 1]`` is the date of position ``p``; 0 = never treated), and
        ``tidy()`` reports dates. None for numeric periods.
    seed : int
        Seed of the multiplier bootstrap (the resolved ``seed`` argument; also in
        ``settings`` and ``provenance``).
    """

    group: np.ndarray
    time: np.ndarray
    estimate: np.ndarray
    std_error: np.ndarray
    analytic_std_error: np.ndarray
    influence: np.ndarray
    vcov: np.ndarray
    crit_val: float
    unit_group: np.ndarray
    unit_weight: np.ndarray
    unit_cluster: np.ndarray | None
    periods: np.ndarray
    settings: Mapping[str, Any]
    n_units: int
    n_dropped: int
    provenance: Provenance
    data_structure: str = "balanced_panel"
    n_obs: int = 0
    n_incomplete_units: int = 0
    period_values: np.ndarray | None = None
    seed: int = 0
    placebo: np.ndarray | None = None  # (J, n_gt) scaled placebo ATT(g,t): vcov = P'P

    _title = "Callaway & Sant'Anna (2021) group-time average treatment effects"

    def _display_frame(self, columns: Sequence[str] | None, digits: int) -> pd.DataFrame:
        t = _display_dates(self.tidy(), self.period_values)
        if columns is not None:
            t = t.loc[:, list(columns)]
        return t.apply(lambda col: col.map(lambda v: _fmt(v, digits)))

    def __repr__(self) -> str:
        s = self.settings
        structure = (
            "" if self.data_structure == "balanced_panel"
            else f"data_structure={self.data_structure!r}, n_obs={self.n_obs}, "
        )
        return (
            f"ATTgtResult(n_att={len(self.estimate)}, n_units={self.n_units}, {structure}"
            f"control_group={s['control_group']!r}, est_method={s['est_method']!r}, "
            f"base_period={s['base_period']!r}, bstrap={s['bstrap']}, cband={s['cband']})"
        )

    @property
    def event_time(self) -> np.ndarray:
        """Event time ``t - g`` of each ATT(g,t)."""
        return self.time - self.group

    def _header(self) -> list[tuple[str, str]]:
        s = self.settings
        lines = [
            ("Outcome", str(s["yname"])),
            ("Comparison group", str(s["control_group"])),
            ("Estimation method", str(s["est_method"])),
            ("Base period", str(s["base_period"])),
            ("Units", str(self.n_units)),
        ]
        if self.data_structure == "unbalanced_panel":
            lines.append(
                ("Data", f"unbalanced panel, {self.n_obs} observations, "
                 f"{self.n_incomplete_units} units not observed in every period "
                 "(repeated-cross-section estimators, SEs clustered on the unit)")
            )
        elif self.data_structure == "repeated_cross_section":
            lines.append(("Data", f"repeated cross sections, {self.n_obs} observations"))
        lines += [
            (
                "Standard errors",
                (f"placebo (Conley-Taber) over the control clusters, t({s['placebo_df']:g})"
                 if s.get("placebo_df") is not None else
                 "multiplier bootstrap" if s["bstrap"] else "analytic (influence function)"),
            ),
        ]
        if s["cband"]:
            lines.append(("Uniform band critical value", f"{self.crit_val:.4f}"))
        pt = self.pretest()
        if pt is not None and pt.distribution == "F":
            lines.append(
                ("Pre-test of parallel trends (placebo, last "
                 f"{pt.df} pre-periods)", f"F({pt.df}, {pt.df2:g}) = {pt.statistic:.4f}, "
                 f"p = {pt.p_value:.4f}")
            )
        elif pt is not None:
            lines.append(
                ("Pre-test of parallel trends", f"W = {pt.statistic:.4f}, df = {pt.df}, "
                 f"p = {pt.p_value:.4f}")
            )
        return lines

    def tidy(self) -> pd.DataFrame:
        """Return one row per ATT(g,t).

        Returns
        -------
        pandas.DataFrame
            ``term`` (``"ATT(g,t)"``, e.g. ``"ATT(2022-12,2023-01)"`` for monthly datetime
            periods), ``estimate, std_error, statistic, p_value, conf_low, conf_high``, then
            ``group``, ``time`` (values of the period column: dates for datetime periods),
            ``event_time`` (periods on the grid); with a uniform band
            (``cband=True``) ``conf_low/conf_high`` are the simultaneous band and
            ``point_conf_low/point_conf_high`` the pointwise intervals.
        """
        alpha = self.settings["alpha"]
        df = self.settings.get("placebo_df")
        tab = wald_table(self.estimate, self.std_error, alpha=alpha, crit=self.crit_val, df=df)
        tab.insert(
            0,
            "term",
            [f"ATT({_period_text(g, self.period_values)},{_period_text(t, self.period_values)})"
             for g, t in zip(self.group, self.time, strict=True)],
        )
        tab["group"] = _period_column(self.group, self.period_values)
        tab["time"] = _period_column(self.time, self.period_values)
        tab["event_time"] = _design_column(self.event_time)
        if self.settings["cband"]:
            pw = wald_table(self.estimate, self.std_error, alpha=alpha, df=df)
            tab["point_conf_low"] = pw["conf_low"].to_numpy()
            tab["point_conf_high"] = pw["conf_high"].to_numpy()
        return tab

    def pretest(self) -> PretestResult | None:
        """Wald pre-test that every pre-treatment ATT(g,t) is zero.

        Returns
        -------
        PretestResult or None
            None when there is no pre-treatment ATT(g,t), when one is missing, or when their
            covariance matrix is numerically singular (as R's ``did``).

        Notes
        -----
        ``W = n * a' (n V)^{-1} a`` with ``a`` the pre-treatment ATT(g,t) (``g > t``) that have a
        finite standard error and ``V`` their analytic covariance; ``W ~ chi2(len(a))`` under
        parallel pre-trends (Callaway & Sant'Anna 2021, section 4.3).

        Under placebo inference (one cohort, few clusters) the covariance comes from ``J``
        placebo clusters and has rank at most ``J - 1``, so it cannot test every pre-treatment
        cell. The test then covers the ``q = min(n_pre, max(1, (J - 1) // 2))`` pre-treatment
        periods closest to the cohort's adoption (the rule of the event study's default
        window) with Hotelling's correction: ``F = W (J - q) / (q (J - 1))`` on
        ``F(q, J - q)``, exact for exchangeable normal cluster errors; ``periods`` names them.
        """
        if self.placebo is not None and self.settings.get("placebo_df") is not None:
            return self._placebo_pretest()
        se = self.analytic_std_error
        pre = np.flatnonzero((self.group > self.time) & np.isfinite(se))
        if len(pre) == 0:
            return None
        a = self.estimate[pre]
        v = self.vcov[np.ix_(pre, pre)]
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(v))):
            return None
        if 1.0 / np.linalg.cond(v, p=1) <= np.finfo(float).eps:
            return None
        w_stat = float(a @ np.linalg.solve(v, a))
        return PretestResult(
            statistic=w_stat, df=len(pre), p_value=float(stats.chi2.sf(w_stat, len(pre)))
        )

    def _placebo_pretest(self) -> PretestResult | None:
        J = int(round(float(self.settings["placebo_df"]))) + 1
        pre = np.flatnonzero((self.group > self.time) & np.isfinite(self.estimate))
        if len(pre) == 0 or J < 3:
            return None
        q = min(len(pre), max(1, (J - 1) // 2))
        pre = pre[np.argsort(self.time[pre], kind="stable")][-q:]
        a = self.estimate[pre]
        v = self.vcov[np.ix_(pre, pre)]
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(v))):
            return None
        if 1.0 / np.linalg.cond(v, p=1) <= np.finfo(float).eps:
            return None
        w_stat = float(a @ np.linalg.solve(v, a))
        f_stat = w_stat * (J - q) / (q * (J - 1))
        times = self.time[pre]
        labels = tuple(_period_value(t, self.period_values) for t in times)
        return PretestResult(statistic=f_stat, df=q, p_value=float(stats.f.sf(f_stat, q, J - q)),
                             distribution="F", df2=float(J - q), periods=labels)

    def aggregate(
        self,
        type: AggregationType = "group",
        *,
        min_e: float = -math.inf,
        max_e: float = math.inf,
        balance_e: int | None = None,
        bstrap: bool | None = None,
        cband: bool | None = None,
        n_boot: int | None = None,
        seed: int | None = None,
        alpha: float | None = None,
    ) -> AggregateResult:
        """Aggregate the ATT(g,t) into summary parameters.

        Parameters
        ----------
        type : {"simple", "dynamic", "group", "calendar"}, default "group"
            ``"simple"``: average of all post-treatment ATT(g,t) weighted by cohort size;
            ``"dynamic"``: event-study ``theta(e)`` averaging ATT(g, g+e) across cohorts;
            ``"group"``: ``theta(g)`` averaging each cohort's post-treatment ATT(g,t), and their
            cohort-size weighted mean; ``"calendar"``: ``theta(t)`` averaging the ATT(g,t) of
            cohorts treated by ``t``, and their mean over periods.
        min_e, max_e : float
            Event times kept (``"dynamic"``); ``max_e`` also limits the post-treatment periods
            used by ``"simple"`` and ``"group"`` (counted in positions of the sorted union of
            periods and cohorts, as R's ``did``).
        balance_e : int, optional
            ``"dynamic"`` only: keep cohorts observed for at least ``balance_e`` periods after
            treatment and event times ``<= balance_e``, so that the composition of cohorts does
            not change with ``e``.
        bstrap, cband, n_boot, seed, alpha : optional
            Inference settings; default to those of :func:`att_gt`.

        Returns
        -------
        AggregateResult

        Raises
        ------
        OptionError
            Unknown ``type`` or invalid inference settings.
        EstimationError
            When an ATT(g,t) entering the aggregation is missing, or nothing is left to average.

        Notes
        -----
        With ``w_g = P(G = g)`` estimated by weighted cohort shares, the aggregates are
        ``theta_S = sum_{g<=t} w_g ATT(g,t) / sum_{g<=t} w_g``,
        ``theta_D(e) = sum_g 1{g+e in T} w_g ATT(g,g+e) / sum_g 1{g+e in T} w_g``,
        ``theta_G(g) = mean_{t>=g} ATT(g,t)`` and ``theta_C(t) = sum_{g<=t} w_g ATT(g,t) /
        sum_{g<=t} w_g`` (Callaway & Sant'Anna 2021, section 3). Influence functions include the
        estimation effect of the weights ``w_g`` and give the same standard errors as R's
        ``did::aggte``.

        References
        ----------
        Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple
        time periods. Journal of Econometrics 225(2), 200-230.
        """
        check_option("type", type, _AGG_TYPES)
        s = self.settings
        bstrap = s["bstrap"] if bstrap is None else bstrap
        cband = s["cband"] if cband is None else cband
        n_boot = s["n_boot"] if n_boot is None else n_boot
        seed = s["seed"] if seed is None else seed
        alpha = s["alpha"] if alpha is None else alpha
        _check_inference(alpha, bstrap, cband, n_boot, seed)
        with _single_thread_blas():
            return _aggregate(
                self,
                type,
                min_e=min_e,
                max_e=max_e,
                balance_e=balance_e,
                bstrap=bool(bstrap),
                cband=bool(cband),
                n_boot=int(n_boot),
                seed=seed,
                alpha=float(alpha),
            )

    def plot(self, ax: Any = None) -> Any:
        """Plot ATT(g,t) with confidence intervals against period, one series per cohort.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure is created when omitted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        t = self.tidy()
        cohorts = np.unique(self.group)
        width = 0.3 / max(len(cohorts), 1)
        for j, g in enumerate(cohorts):
            rows = self.group == g
            x = self.time[rows] + (j - (len(cohorts) - 1) / 2) * width
            est = t["estimate"].to_numpy()[rows]
            lo = t["conf_low"].to_numpy()[rows]
            hi = t["conf_high"].to_numpy()[rows]
            ax.errorbar(x, est, yerr=[est - lo, hi - est], fmt="o", capsize=2,
                        label=f"g = {_num(g)}")
        ax.axhline(0.0, color="0.5", linewidth=0.8)
        ax.set_xlabel("period")
        ax.set_ylabel("ATT(g,t)")
        ax.legend(title="cohort", fontsize="small")
        return ax


@dataclass(frozen=True, eq=False, repr=False)
class AggregateResult(ResultMixin):
    """Aggregated ATT(g,t) from :meth:`ATTgtResult.aggregate`.

    Attributes
    ----------
    type : str
        ``"simple"``, ``"dynamic"``, ``"group"`` or ``"calendar"``.
    element : ndarray
        Event times, cohorts or periods of the per-element estimates (empty for ``"simple"``).
    estimate, std_error : ndarray
        Per-element estimates and standard errors.
    overall_estimate, overall_std_error : float
        Overall summary parameter and its standard error.
    influence : ndarray, shape (n_units, n_elements)
        Influence functions of the per-element estimates.
    overall_influence : ndarray, shape (n_units,)
        Influence function of the overall estimate.
    crit_val : float
        Critical value of the per-element band (sup-t when ``cband``).
    settings : mapping (read-only)
        Aggregation and inference settings.
    provenance : Provenance
        Provenance of the underlying :class:`ATTgtResult`.
    period_values : ndarray or None
        The underlying result's grid of period starts for datetime periods (``element`` then
        holds positions 1..T for ``"group"`` and ``"calendar"``; ``tidy()`` reports dates).
    """

    type: str
    element: np.ndarray
    estimate: np.ndarray
    std_error: np.ndarray
    overall_estimate: float
    overall_std_error: float
    influence: np.ndarray
    overall_influence: np.ndarray
    crit_val: float
    settings: Mapping[str, Any]
    provenance: Provenance
    period_values: np.ndarray | None = None

    _title = "Aggregated group-time average treatment effects"

    def _display_frame(self, columns: Sequence[str] | None, digits: int) -> pd.DataFrame:
        t = _display_dates(self.tidy(), self.period_values)
        if columns is not None:
            t = t.loc[:, list(columns)]
        return t.apply(lambda col: col.map(lambda v: _fmt(v, digits)))

    def __repr__(self) -> str:
        return (
            f"AggregateResult(type={self.type!r}, n_elements={len(self.estimate)}, "
            f"overall_estimate={self.overall_estimate:.6f}, "
            f"overall_std_error={self.overall_std_error:.6f})"
        )

    @property
    def _design_name(self) -> str | None:
        return {"dynamic": "event_time", "group": "group", "calendar": "time"}.get(self.type)

    def _header(self) -> list[tuple[str, str]]:
        s = self.settings
        lines = [
            ("Aggregation", self.type),
            ("Overall", f"{self.overall_estimate:.4f} (SE {self.overall_std_error:.4f})"),
            ("Standard errors",
             (f"placebo (Conley-Taber) over the control clusters, t({s['placebo_df']:g})"
              if s.get("placebo_df") is not None else
              "multiplier bootstrap" if s["bstrap"] else "analytic")),
        ]
        if s["cband"]:
            lines.append(("Uniform band critical value", f"{self.crit_val:.4f}"))
        return lines

    def tidy(self) -> pd.DataFrame:
        """Return per-element rows followed by one ``"overall"`` row.

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, std_error, statistic, p_value, conf_low, conf_high`` then the
            design column (``event_time`` for ``"dynamic"``, ``group`` for ``"group"``, ``time``
            for ``"calendar"``; missing on the overall row); with a uniform band the per-element
            ``conf_low/conf_high`` are simultaneous and ``point_conf_low/point_conf_high`` are
            pointwise (the overall row has equal pointwise and band intervals).
        """
        alpha = self.settings["alpha"]
        name = self._design_name
        label = {"dynamic": "e", "group": "g", "calendar": "t"}.get(self.type, "")
        df = self.settings.get("placebo_df")
        elem = wald_table(self.estimate, self.std_error, alpha=alpha, crit=self.crit_val, df=df)
        over = wald_table([self.overall_estimate], [self.overall_std_error], alpha=alpha, df=df)
        tab = pd.concat([elem, over], ignore_index=True)
        dated = self.period_values if self.type in ("group", "calendar") else None
        terms = [f"ATT({label}={_period_text(v, dated)})" for v in self.element] + ["overall"]
        tab.insert(0, "term", terms)
        if name is not None:
            tab[name] = _period_column(np.append(self.element.astype(float), np.nan), dated)
        if self.settings["cband"]:
            pw = wald_table(
                np.append(self.estimate, self.overall_estimate),
                np.append(self.std_error, self.overall_std_error),
                alpha=alpha, df=df,
            )
            tab["point_conf_low"] = pw["conf_low"].to_numpy()
            tab["point_conf_high"] = pw["conf_high"].to_numpy()
        return tab

    def plot(self, ax: Any = None) -> Any:
        """Plot the per-element estimates with their bands (event-study plot for "dynamic").

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure is created when omitted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        t = self.tidy()
        if self.type == "simple":
            x = np.array([0.0])
            sel = t.iloc[[-1]]
        else:
            x = self.element.astype(float)
            sel = t.iloc[:-1]
        est = sel["estimate"].to_numpy(dtype=float)
        lo = sel["conf_low"].to_numpy(dtype=float)
        hi = sel["conf_high"].to_numpy(dtype=float)
        colors = ["C0" if (self.type != "dynamic" or xi < 0) else "C3" for xi in x]
        for xi, e, a, b, c in zip(x, est, lo, hi, colors, strict=True):
            ax.errorbar([xi], [e], yerr=[[e - a], [b - e]], fmt="o", color=c, capsize=3)
        ax.axhline(0.0, color="0.5", linewidth=0.8)
        if self.type == "dynamic":
            ax.axvline(-0.5, color="0.7", linestyle="--", linewidth=0.8)
        ax.set_xlabel(self._design_name or "overall")
        ax.set_ylabel("ATT")
        return ax


# ---------------------------------------------------------------------------------------------
# aggregation
# ---------------------------------------------------------------------------------------------


def _agg_if(inf: np.ndarray, keep: np.ndarray, wts: np.ndarray, wif_att: np.ndarray | None,
            ) -> np.ndarray:
    """Aggregate influence function: weighted component IFs plus the weights' IF times ATTs."""
    full = np.zeros(inf.shape[1])
    full[keep] = wts
    out = inf @ full
    if wif_att is not None:
        out = out + wif_att
    return np.asarray(out)


def _aggregate(
    res: ATTgtResult,
    type_: str,
    *,
    min_e: float,
    max_e: float,
    balance_e: int | None,
    bstrap: bool,
    cband: bool,
    n_boot: int,
    seed: int | None,
    alpha: float,
) -> AggregateResult:
    att = res.estimate
    group, time = res.group, res.time
    inf = res.influence
    unit_g, unit_w = res.unit_group, res.unit_weight
    glist = np.unique(unit_g[unit_g > 0])
    if np.isnan(att).any():
        bad = np.flatnonzero(np.isnan(att))
        raise EstimationError(
            f"{len(bad)} ATT(g,t) are missing (first: "
            f"{_first(f'ATT({_num(group[i])},{_num(time[i])})' for i in bad)}); aggregation "
            "needs all of them. Check the small-group warnings of att_gt."
        )
    # positions in the sorted union of periods and cohorts (R's did recodes to these)
    gt_union = np.union1d(res.periods, glist)
    pos_t = np.searchsorted(gt_union, time) + 1.0
    pos_g = np.searchsorted(gt_union, group) + 1.0
    # cohort shares
    n = len(unit_g)
    n_coh = len(glist)
    unit_coh = np.where(unit_g > 0, np.searchsorted(glist, unit_g), n_coh)
    comp_coh = np.searchsorted(glist, group)
    pg_glist = np.bincount(unit_coh, weights=unit_w, minlength=n_coh + 1)[:n_coh] / n
    pg = pg_glist[comp_coh]

    def wif_dot(keep: np.ndarray, shares: np.ndarray, comp: np.ndarray,
                est: np.ndarray) -> np.ndarray:
        return weights_influence_dot(keep, shares, comp, unit_coh, n_coh, unit_w, est)

    def se_of(f: np.ndarray) -> np.ndarray:
        f2 = f if f.ndim == 2 else f[:, None]
        return _analytic_se(f2, res.unit_cluster)

    elements: np.ndarray
    elem_est: np.ndarray
    elem_inf: np.ndarray
    if type_ == "simple":
        keep = np.flatnonzero((group <= time) & (pos_t <= pos_g + max_e))
        if len(keep) == 0:
            raise EstimationError("no post-treatment ATT(g,t) to aggregate.")
        wts = pg[keep] / pg[keep].sum()
        overall = float(np.sum(att[keep] * wts))
        wif = wif_dot(keep, pg, comp_coh, att)
        overall_if = _agg_if(inf, keep, wts, wif)
        elements = np.array([])
        elem_est = np.array([])
        elem_inf = np.zeros((n, 0))
    elif type_ == "group":
        ests, ifs, used = [], [], []
        for gv in glist:
            keep = np.flatnonzero((group == gv) & (gv <= time) & (pos_t <= pos_g + max_e))
            used.append(gv)
            if len(keep) == 0:
                ests.append(float("nan"))
                ifs.append(np.full(n, np.nan))
                continue
            wts = pg[keep] / pg[keep].sum()
            ests.append(float(np.mean(att[keep])))
            ifs.append(_agg_if(inf, keep, wts, None))
        elements = np.asarray(used, dtype=float)
        elem_est = np.asarray(ests)
        elem_inf = np.column_stack(ifs)
        pgg = pg_glist
        idx = np.arange(len(glist))
        wif = wif_dot(idx, pgg, idx, elem_est)
        overall = float(np.sum(elem_est * pgg) / pgg.sum())
        overall_if = _agg_if(elem_inf, idx, pgg / pgg.sum(), wif)
    elif type_ == "dynamic":
        evt = time - group
        include = np.ones(len(att), dtype=bool)
        eseq = np.unique(evt)
        if balance_e is not None:
            include = (res.periods[-1] - group) >= balance_e
            eseq = np.unique(evt[include])
            t_first = gt_union[0]
            eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - res.periods[-1] + t_first)]
        eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
        if len(eseq) == 0:
            raise EstimationError(
                f"no event times left after min_e={min_e}, max_e={max_e}, balance_e={balance_e}."
            )
        ests, ifs = [], []
        for e in eseq:
            keep = np.flatnonzero((evt == e) & include)
            wts = pg[keep] / pg[keep].sum()
            ests.append(float(np.sum(att[keep] * wts)))
            wif = wif_dot(keep, pg, comp_coh, att)
            ifs.append(_agg_if(inf, keep, wts, wif))
        elements = eseq.astype(float)
        elem_est = np.asarray(ests)
        elem_inf = np.column_stack(ifs)
        epos = np.flatnonzero(eseq >= 0)
        if len(epos) == 0:
            overall = float("nan")
            overall_if = np.full(n, np.nan)
        else:
            overall = float(np.mean(elem_est[epos]))
            overall_if = _agg_if(elem_inf, epos, np.full(len(epos), 1.0 / len(epos)), None)
    else:  # calendar
        min_g = group.min()
        tlist = np.unique(time)
        ctlist = tlist[tlist >= min_g]
        ests, ifs = [], []
        for tv in ctlist:
            keep = np.flatnonzero((time == tv) & (group <= time))
            wts = pg[keep] / pg[keep].sum()
            ests.append(float(np.sum(att[keep] * wts)))
            wif = wif_dot(keep, pg, comp_coh, att)
            ifs.append(_agg_if(inf, keep, wts, wif))
        elements = ctlist.astype(float)
        elem_est = np.asarray(ests)
        elem_inf = np.column_stack(ifs) if ifs else np.zeros((n, 0))
        idx = np.arange(len(ctlist))
        overall = float(np.mean(elem_est))
        overall_if = _agg_if(elem_inf, idx, np.full(len(idx), 1.0 / len(idx)), None)

    elem_se = se_of(elem_inf) if elem_inf.shape[1] else np.array([])
    overall_se = float(se_of(overall_if)[0])
    crit = float(stats.norm.ppf(1 - alpha / 2))
    if bstrap:
        rng = np.random.default_rng(seed)
        all_if = np.column_stack([elem_inf, overall_if])
        ok = np.all(np.isfinite(all_if), axis=0)
        bse = np.full(all_if.shape[1], np.nan)
        bse_ok, bcrit = multiplier_bootstrap(
            all_if[:, ok], n_boot=n_boot, rng=rng, alpha=alpha, cluster=res.unit_cluster
        )
        bse[ok] = bse_ok
        elem_se, overall_se = bse[:-1], float(bse[-1])
        if cband and elem_inf.shape[1]:
            rng = np.random.default_rng(seed)
        if cband and elem_inf.shape[1]:
            eok = np.all(np.isfinite(elem_inf), axis=0)
            _, crit = multiplier_bootstrap(
                elem_inf[:, eok], n_boot=n_boot, rng=rng, alpha=alpha, cluster=res.unit_cluster
            )
    placebo_df = res.settings.get("placebo_df")
    if res.placebo is not None and placebo_df is not None:
        # the same aggregation applied to each (scaled) placebo ATT(g,t) vector
        rows = []
        for p in res.placebo:
            sub = dataclasses.replace(res, estimate=np.asarray(p, dtype=float), placebo=None)
            a = _aggregate(sub, type_, min_e=min_e, max_e=max_e, balance_e=balance_e,
                           bstrap=False, cband=False, n_boot=n_boot, seed=seed, alpha=alpha)
            rows.append(np.append(np.asarray(a.estimate, dtype=float), a.overall_estimate))
        Pa = np.array(rows)
        Va = Pa.T @ Pa
        sd = np.sqrt(np.diag(Va))
        elem_se, overall_se = sd[:-1], float(sd[-1])
        crit = float(stats.t.ppf(1 - alpha / 2, placebo_df))
        if cband and len(elem_se) > 1:
            from laborai.did.twfe import _sup_t_crit_placebo

            crit = max(_sup_t_crit_placebo(Va[:-1, :-1], alpha, int(placebo_df) + 1, 100_000,
                                           seed), crit)
    settings = {
        "type": type_,
        "min_e": min_e,
        "max_e": max_e,
        "balance_e": balance_e,
        "bstrap": bstrap,
        "cband": cband,
        "n_boot": n_boot,
        "seed": seed,
        "alpha": alpha,
        "placebo_df": placebo_df if res.placebo is not None else None,
    }
    for arr in (elements, elem_est, elem_se, elem_inf, overall_if):
        arr.setflags(write=False)
    return AggregateResult(
        type=type_,
        element=elements,
        estimate=elem_est,
        std_error=elem_se,
        overall_estimate=overall,
        overall_std_error=overall_se,
        influence=elem_inf,
        overall_influence=overall_if,
        crit_val=crit,
        settings=MappingProxyType(settings),
        provenance=res.provenance,
        period_values=res.period_values,
    )


def _check_inference(alpha: Any, bstrap: Any, cband: Any, n_boot: Any, seed: Any) -> None:
    if not isinstance(alpha, (float, int)) or isinstance(alpha, bool) or not 0 < alpha < 1:
        raise OptionError(f"alpha must be a number in (0, 1), e.g. 0.05; got {alpha!r}.")
    for name, val in (("bstrap", bstrap), ("cband", cband)):
        if not isinstance(val, (bool, np.bool_)):
            raise OptionError(f"{name} must be True or False; got {val!r}.")
    if cband and not bstrap:
        raise OptionError(
            "cband=True needs the multiplier bootstrap for the sup-t critical value; got "
            "bstrap=False. Set bstrap=True (and a seed) or cband=False."
        )
    if not isinstance(n_boot, (int, np.integer)) or isinstance(n_boot, bool) or n_boot < 2:
        raise OptionError(f"n_boot must be an integer >= 2, e.g. 999; got {n_boot!r}.")
    if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)):
        raise OptionError(f"seed must be an int or None; got {seed!r}.")


def _datetime_periods(data: Any, *, tname: str, gname: str,
                      ) -> tuple[Any, np.ndarray | None]:
    """Refuse pandas Period periods; map datetime periods (and cohorts) to positions 1..T.

    Returns the data to estimate on (a copy with integer ``tname``/``gname`` for datetime
    periods, else ``data`` itself) and the datetime grid (None for numeric periods).
    """
    if not isinstance(data, pd.DataFrame) or not isinstance(tname, str) \
            or tname not in data.columns:
        return data, None
    check_time_column(data, tname, where="att_gt")
    if not isinstance(gname, str) or gname not in data.columns:
        return data, None
    if not is_datetime_like(data[tname]):
        if is_datetime_like(data[gname]):
            raise DataValidationError(
                f"column {gname!r} (gname) holds dates but the periods in {tname!r} are "
                f"numbers (dtype {data[tname].dtype}); pass the datetime period column as "
                "tname, or cohorts as values of tname (0 = never treated)."
            )
        return data, None
    tpos, gpos, grid = cohort_positions(data, tname, gname, where="att_gt")
    work = data.copy()
    work[tname] = tpos
    work[gname] = gpos
    return work, np.asarray(grid, dtype="datetime64[ns]")


# ---------------------------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------------------------




def _att_gt_placebo_plan(data: pd.DataFrame, *, vcov: str, gname: str, idname: str | None,
                         cluster: str | None, control_group: str, xformla: str | None,
                         panel: bool, bstrap: bool, n_cohorts: int) -> dict[str, Any] | None:
    """Whether placebo inference applies to this ``att_gt`` call (``None``: it does not).

    It needs one treated cohort, never-treated comparisons, no covariates, panel data, at
    least 3 control clusters (clusters: ``cluster`` or the units), no more treated than
    control clusters, every unit of a treated cluster treated, and fewer than 50 clusters;
    ``vcov='auto'`` also keeps the multiplier bootstrap when ``bstrap=True``.
    """
    why = None
    if vcov == "analytic" or (vcov == "auto" and bstrap):
        return None
    cl_col = cluster or idname
    if n_cohorts != 1:
        why = "needs one treated cohort (staggered cohorts: use the analytic default)"
    elif control_group != "never_treated" or xformla is not None or not panel or cl_col is None:
        why = "needs control_group='never_treated', no covariates and panel data"
    else:
        from laborai.did.sun_abraham import _never_mask

        never = _never_mask(data[gname]).to_numpy()
        cl = data[cl_col].to_numpy()
        tcl = np.unique(cl[~never])
        ccl = np.unique(cl[never])
        mixed = np.intersect1d(tcl, ccl)
        G = np.unique(cl).size
        if mixed.size:
            why = "needs every unit of a treated cluster to be treated"
        elif ccl.size < 3:
            why = "needs at least 3 control clusters"
        elif vcov == "auto" and not (G < 50 and tcl.size <= ccl.size):
            return None
        else:
            g_star = data.loc[~never, gname].iloc[0]
            return {"cl_col": cl_col, "controls": ccl, "treated": tcl, "g_star": g_star,
                    "never": never}
    if vcov == "placebo":
        raise OptionError(f"att_gt: vcov='placebo' {why}.")
    return None


def _att_gt_placebo(data: pd.DataFrame, plan: Mapping[str, Any], kw: Mapping[str, Any],
                    group: np.ndarray, time: np.ndarray) -> tuple[np.ndarray, int, float]:
    """Placebo ATT(g,t): each control cluster in turn given the treated cohort, on the
    control clusters' data (Conley & Taber 2011; see ``laborai.did._placebo``)."""
    cl = data[plan["cl_col"]].to_numpy()
    ctrl_rows = np.isin(cl, plan["controls"])
    base = data.loc[ctrl_rows]
    cl_c = cl[ctrl_rows]
    rows = []
    for j in plan["controls"]:
        d = base.copy()
        col = d[kw["gname"]].astype(object).where(cl_c != j, plan["g_star"])
        d[kw["gname"]] = col.astype(data[kw["gname"]].dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = att_gt(d, **kw, xformla=None, panel=True, bstrap=False, cband=False,
                       vcov="analytic")
        if len(r.estimate) == len(group) and np.array_equal(r.group, group) \
                and np.array_equal(r.time, time) and np.all(np.isfinite(r.estimate)):
            rows.append(np.asarray(r.estimate, dtype=float))
    J = len(rows)
    if J < 3:
        raise EstimationError(f"att_gt: only {J} control cluster(s) give a placebo estimate of "
                              "every ATT(g,t); placebo inference needs at least 3.")
    w_col = kw.get("weights")
    units = data.loc[~plan["never"]]
    idn = kw["idname"]
    if w_col:
        per_unit = units.groupby(idn)[w_col].first()
        per_cl = per_unit.groupby(units.groupby(idn)[plan["cl_col"]].first()).sum()
    else:
        per_cl = units.groupby(plan["cl_col"])[idn].nunique()
    w = per_cl.to_numpy(dtype=float) / float(per_cl.sum())
    return np.array(rows), J, float(np.sum(w**2))


@contextlib.contextmanager
def _summarised_cell_warnings(placebo: bool = False,
                              period_values: np.ndarray | None = None) -> Iterator[None]:
    """Collect the per-cell small-sample warnings of one ``att_gt`` call into one warning each.

    One ``att_gt`` call on 12 categories x 54 months used to emit about 106 warnings, one per
    ATT(g,t); the user gets one line per kind, with the count and the first cells. With
    datetime periods the cells are named by their dates, as in ``tidy()``.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield

    def dated(msg: str) -> str:
        if period_values is None:
            return msg
        return re.sub(r"ATT\((\d+(?:\.\d+)?),\s*(\d+(?:\.\d+)?)\)",
                      lambda mm: (f"ATT({_period_text(float(mm.group(1)), period_values)},"
                                  f"{_period_text(float(mm.group(2)), period_values)})"), msg)

    small, nan, other = [], [], []
    for w in caught:
        msg = dated(str(w.message))
        if issubclass(w.category, SmallSampleWarning) and msg.endswith(
                "inference may be unreliable."):
            small.append(msg.replace("; inference may be unreliable.", ""))
        elif issubclass(w.category, SmallSampleWarning) and msg.endswith("not estimated (NaN)."):
            nan.append(msg.replace("; it is not estimated (NaN).", ""))
        else:
            other.append(w)
    for w in other:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if nan:
        warnings.warn(f"att_gt: {len(nan)} ATT(g,t) cannot be estimated (NaN), e.g. "
                      + "; ".join(nan[:3]) + ".", SmallSampleWarning, stacklevel=4)
    if small:
        if placebo:
            warnings.warn(f"att_gt: {len(small)} ATT(g,t) rest on fewer than 5 treated or "
                          "comparison units, e.g. " + "; ".join(small[:3]) + "; their "
                          "standard errors come from placebo inference over the control "
                          "clusters.", SmallSampleWarning, stacklevel=4)
            return
        warnings.warn(f"att_gt: {len(small)} ATT(g,t) rest on fewer than 5 treated or "
                      "comparison units, e.g. " + "; ".join(small[:3]) + ". Their analytic "
                      "standard errors are too small there (measured size on the simulated "
                      "marketplace: docs/validation.md); for one adoption date use "
                      "la.did.event_study or la.did.twfe, whose default placebo inference holds "
                      "its size.", SmallSampleWarning, stacklevel=4)


def att_gt(
    data: pd.DataFrame,
    *,
    yname: str,
    tname: str,
    idname: str | None = None,
    gname: str,
    xformla: str | None = None,
    panel: bool = True,
    allow_unbalanced_panel: bool = False,
    control_group: ControlGroup = "never_treated",
    est_method: EstMethod = "dr",
    base_period: BasePeriod = "varying",
    anticipation: int = 0,
    weights: str | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
    bstrap: bool = False,
    cband: bool = False,
    n_boot: int = 999,
    seed: int | None = 0,
    vcov: Literal["auto", "analytic", "placebo"] = "auto",
) -> ATTgtResult:
    """Group-time average treatment effects of Callaway & Sant'Anna (2021).

    Parameters
    ----------
    data : pandas.DataFrame
        Panel in long format, one row per unit and period (balanced unless
        ``allow_unbalanced_panel=True``), or repeated cross sections (``panel=False``).
    yname : str
        Outcome column.
    tname : str
        Period column: numbers (need not be equally spaced) or datetimes (period starts, e.g.
        ``period`` of :func:`laborai.build_panel`). Datetime periods are mapped to their
        positions on the sorted grid of distinct periods; results report dates (``tidy()``:
        ``ATT(2022-12,2023-01)``, ``group``/``time`` as dates) and count event time in periods
        of the grid. pandas ``Period`` values are refused (convert with
        ``.dt.to_timestamp()``).
    idname : str, optional
        Unit identifier column; required when ``panel=True``. With ``panel=False`` it may be
        omitted; if given it must be unique across rows.
    gname : str
        First period in which the unit is treated; 0 (or inf) for never-treated units. Must be
        constant within unit (treatment is absorbing). With datetime periods: dates (NaT =
        never treated; :func:`laborai.exposure.cohorts` makes them from event dates; a date
        between period starts counts from the first period starting on or after it, the rule
        of ``docs/estimators/timing.md``) or integer 0-based positions on the sorted period
        grid, like ``build_panel``'s ``t`` (0, NaN or inf = never treated).
    xformla : str, optional
        Covariates as a one-sided formula, e.g. ``"~ lpop"`` or ``"~ x1 + C(region)"``
        (parsed with formulaic). An intercept is always included. With the panel estimators
        covariate values are taken from the base period of each comparison (the earlier of its
        two periods); with the repeated-cross-section estimators each observation's own values
        are used.
    panel : bool, default True
        Whether ``data`` is a panel (units followed over time, linked by ``idname``). With
        ``False`` every row is an independent draw (repeated cross sections) and the
        repeated-cross-section estimators of Sant'Anna & Zhao (2020) are used.
    allow_unbalanced_panel : bool, default False
        What to do when some units are not observed in every period. ``False``: raise
        :class:`~laborai.errors.DataValidationError` (units are never dropped silently; R's
        ``did`` instead drops them). ``True``: keep every observation and use the
        repeated-cross-section estimators, with influence functions summed within units so
        that standard errors, bootstrap draws and aggregations are clustered on the unit (as
        R's ``did`` with ``allow_unbalanced_panel=TRUE``). On a balanced panel ``True`` changes
        nothing: the panel estimators are used.
    control_group : {"never_treated", "not_yet_treated"}, default "never_treated"
        Comparison units: never treated, or never treated plus those not yet treated in both
        periods of the comparison (more precisely, not treated by the later period plus
        ``anticipation``).
    est_method : {"dr", "ipw", "reg"}, default "dr"
        2x2 estimator: doubly robust (Sant'Anna & Zhao 2020), normalised inverse probability
        weighting (Abadie 2005), or outcome regression (Heckman, Ichimura & Todd 1997).
    base_period : {"varying", "universal"}, default "varying"
        ``"varying"``: pre-treatment ATT(g,t) compare period ``t`` with ``t-1`` (post-treatment
        ones with ``g - 1 - anticipation``); ``"universal"``: every ATT(g,t) compares with
        ``g - 1 - anticipation`` and ATT(g, g-1-anticipation) is reported as 0.
    anticipation : int, default 0
        Number of periods before ``g`` in which units may already react to the treatment.
    weights : str, optional
        Column of time-invariant sampling weights.
    cluster : str, optional
        Column of a time-invariant cluster identifier coarser than the unit. Analytic standard
        errors then sum influence functions within clusters, ``se = sqrt(sum_c S_c^2) / n``, and
        bootstrap multipliers are drawn per cluster. (R's ``did`` always clusters by unit and
        uses ``clustervars`` only in the bootstrap; without ``cluster`` laborai's numbers are
        R's.)
    alpha : float, default 0.05
        One minus the confidence level.
    bstrap : bool, default False
        Use the multiplier bootstrap (Mammen weights) for standard errors.
    cband : bool, default False
        Simultaneous (sup-t) confidence band over all ATT(g,t); requires ``bstrap=True``.
    n_boot : int, default 999
        Bootstrap draws.
    seed : int or None, default 0
        Seed of ``numpy.random.default_rng`` for the bootstrap; ``None`` draws fresh entropy.
        The seed used is recorded in ``result.seed``, ``settings["seed"]`` and the
        provenance, so identical calls give identical results.

    Returns
    -------
    ATTgtResult
        With :meth:`~ATTgtResult.tidy`, :meth:`~ATTgtResult.aggregate`,
        :meth:`~ATTgtResult.pretest`, :meth:`~ATTgtResult.plot`, ``summary()``, ``to_latex()``,
        ``to_markdown()``.

    Raises
    ------
    OptionError
        An option outside its allowed values (the message lists them).
    DataValidationError
        Missing columns, missing values, duplicate unit-periods, an unbalanced panel (without
        ``allow_unbalanced_panel=True``), a repeated ``idname`` with ``panel=False``, or a
        ``gname``/``weights``/``cluster`` that varies within unit.
    EstimationError
        No never-treated units with ``control_group="never_treated"``, nothing to estimate, or
        singular covariates.

    Warns
    -----
    DroppedUnitsWarning
        Units treated in the first period are dropped (they have no pre-treatment period);
        units first treated after the last period are recoded as never treated.
    SmallSampleWarning
        A cohort or comparison group with fewer than 5 units.

    Notes
    -----
    The estimand is the group-time average treatment effect

    .. math:: ATT(g,t) = E[Y_t(g) - Y_t(0) \\mid G = g],

    identified under no anticipation (beyond ``anticipation`` periods), parallel trends
    conditional on the covariates for the chosen comparison group, and overlap (propensity
    scores bounded away from one). For ``t >= g`` it equals

    .. math:: E[Y_t - Y_{g-1} | G=g] - E[Y_t - Y_{g-1} | C]

    adjusted for covariates by the chosen 2x2 estimator, with ``C`` the comparison group.
    Each ATT(g,t) uses only the units of cohort ``g`` and of the comparison group; its
    influence function is scaled by ``n / n_gt`` so that all ATT(g,t) share the unit-level
    sample and their joint covariance is ``inf' inf / n^2``.

    Unbalanced panels (``allow_unbalanced_panel=True``) and repeated cross sections
    (``panel=False``) use the repeated-cross-section 2x2 estimators (Sant'Anna & Zhao 2020,
    section 3.2): each ATT(g,t) compares the changes in (covariate-adjusted) mean outcomes
    of cohort ``g`` and the comparison group between the two periods, using every
    observation of those periods. ``"dr"`` is the locally efficient doubly robust estimator,
    ``"ipw"`` normalised IPW, ``"reg"`` outcome regression. The observation-level influence
    function is summed within units (rows for repeated cross sections) and rescaled by
    ``n / m_gt`` (``m_gt`` observations in the 2x2), so standard errors are clustered on the
    unit. The identifying assumption is then parallel trends of the cohort means, with units
    missing at random with respect to the outcome trends; on a balanced panel without
    covariates the point estimates equal the panel ones.

    References
    ----------
    Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
    periods. Journal of Econometrics 225(2), 200-230.

    Sant'Anna, P. H. C. and Zhao, J. (2020). Doubly robust difference-in-differences
    estimators. Journal of Econometrics 219(1), 101-122.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import laborai as la
    >>> rng = np.random.default_rng(0)
    >>> units = pd.DataFrame({"id": range(300), "g": rng.choice([0, 3, 4], 300)})
    >>> df = units.merge(pd.DataFrame({"t": [1, 2, 3, 4]}), how="cross")
    >>> df["y"] = rng.normal(size=len(df)) + ((df.g > 0) & (df.t >= df.g))
    >>> res = la.did.att_gt(df, yname="y", tname="t", idname="id", gname="g")
    >>> res.aggregate("dynamic").tidy()[["term", "estimate"]].shape
    (5, 2)
    """
    check_option("control_group", control_group, _CONTROL_GROUPS)
    check_option("est_method", est_method, _EST_METHODS)
    check_option("base_period", base_period, _BASE_PERIODS)
    if (
        not isinstance(anticipation, (int, np.integer))
        or isinstance(anticipation, bool)
        or anticipation < 0
    ):
        raise OptionError(f"anticipation must be an integer >= 0; got {anticipation!r}.")
    seed = resolve_seed(seed)
    _check_inference(alpha, bstrap, cband, n_boot, seed)
    for name, val in (("panel", panel), ("allow_unbalanced_panel", allow_unbalanced_panel)):
        if not isinstance(val, (bool, np.bool_)):
            raise OptionError(f"{name} must be True or False; got {val!r}.")
    if panel and idname is None:
        raise OptionError(
            "idname is required with panel=True (it links a unit's rows across periods); got "
            "None. Pass the unit identifier column, or panel=False for repeated cross sections."
        )
    rhs = _formula_terms(xformla)
    work, period_values = _datetime_periods(data, tname=tname, gname=gname)
    prepared = _validate_and_pivot(
        work,
        yname=yname,
        tname=tname,
        idname=idname,
        gname=gname,
        rhs=rhs,
        weights=weights,
        cluster=cluster,
        anticipation=int(anticipation),
        control_group=control_group,
        panel=bool(panel),
        allow_unbalanced_panel=bool(allow_unbalanced_panel),
        period_values=period_values,
    )
    check_option("vcov", vcov, ("auto", "analytic", "placebo"))
    placebo_df: float | None = None
    placebo_P: np.ndarray | None = None
    plan = _att_gt_placebo_plan(
        data, vcov=vcov, gname=gname, idname=idname, cluster=cluster,
        control_group=control_group, xformla=xformla, panel=bool(panel), bstrap=bool(bstrap),
        n_cohorts=int(np.unique(prepared.g[prepared.g > 0]).size))
    with _single_thread_blas(), _summarised_cell_warnings(placebo=plan is not None,
                                                             period_values=period_values):
        if isinstance(prepared, _Long):
            group, time, att, inf = _compute_att_gt_long(
                prepared,
                control_group=control_group,
                est_method=est_method,
                base_period=base_period,
                anticipation=int(anticipation),
            )
            structure, n_obs = prepared.structure, len(prepared.y)
            n_incomplete = prepared.n_incomplete
        else:
            group, time, att, inf = _compute_att_gt(
                prepared,
                control_group=control_group,
                est_method=est_method,
                base_period=base_period,
                anticipation=int(anticipation),
            )
            structure, n_obs, n_incomplete = "balanced_panel", prepared.y.size, 0
    n = inf.shape[0]
    s = _cluster_sums(np.nan_to_num(inf), prepared.cluster)
    vcov_mat = s.T @ s / n**2
    se_an = _analytic_se(inf, prepared.cluster)
    se = se_an
    crit = float(stats.norm.ppf(1 - alpha / 2))
    if bstrap:
        ok = np.all(np.isfinite(inf), axis=0) & np.isfinite(se_an)
        se = np.full(len(att), np.nan)
        bse, bcrit = multiplier_bootstrap(
            inf[:, ok], n_boot=n_boot, rng=np.random.default_rng(seed), alpha=alpha,
            cluster=prepared.cluster,
        )
        se[ok] = bse
        if cband:
            crit = bcrit
    if plan is not None:
        kw = dict(yname=yname, tname=tname, idname=idname, gname=gname,
                  allow_unbalanced_panel=allow_unbalanced_panel, control_group=control_group,
                  est_method=est_method, base_period=base_period, anticipation=anticipation,
                  weights=weights, cluster=cluster, alpha=alpha)
        P, J, w2 = _att_gt_placebo(data, plan, kw, group, time)
        from laborai.did._placebo import pooled_scale

        placebo_P = P * math.sqrt(pooled_scale(J, w2))
        vcov_mat = placebo_P.T @ placebo_P
        inference = "placebo"
        se = np.sqrt(np.diag(vcov_mat))
        placebo_df = float(J - 1)
        from laborai.did.twfe import _sup_t_crit_placebo

        crit = (_sup_t_crit_placebo(vcov_mat, alpha, J, 100_000, seed) if cband
                else float(stats.t.ppf(1 - alpha / 2, placebo_df)))
    else:
        inference = "bootstrap" if bstrap else "analytic"
    settings = {
        "yname": yname,
        "tname": tname,
        "idname": idname,
        "gname": gname,
        "xformla": xformla,
        "panel": bool(panel),
        "allow_unbalanced_panel": bool(allow_unbalanced_panel),
        "control_group": control_group,
        "est_method": est_method,
        "base_period": base_period,
        "anticipation": int(anticipation),
        "weights": weights,
        "cluster": cluster,
        "alpha": float(alpha),
        "bstrap": bool(bstrap),
        "cband": bool(cband),
        "n_boot": int(n_boot),
        "seed": seed,
        "vcov": vcov,
        "inference": inference,
        "placebo_df": placebo_df,
    }
    prov = make_provenance("att_gt", data, settings, seed=seed)
    arrays: list[np.ndarray] = [group, time, att, se, se_an, inf, vcov_mat, prepared.g, prepared.w,
                                prepared.periods]
    if period_values is not None:
        arrays.append(period_values)
    for arr in arrays:
        arr.setflags(write=False)
    return ATTgtResult(
        group=group,
        time=time,
        estimate=att,
        std_error=se,
        analytic_std_error=se_an,
        influence=inf,
        vcov=vcov_mat,
        crit_val=crit,
        unit_group=prepared.g,
        unit_weight=prepared.w,
        unit_cluster=prepared.cluster,
        periods=prepared.periods,
        settings=MappingProxyType(settings),
        n_units=n,
        n_dropped=prepared.n_dropped_first,
        provenance=prov,
        data_structure=structure,
        n_obs=int(n_obs),
        n_incomplete_units=int(n_incomplete),
        period_values=period_values,
        seed=seed,
        placebo=placebo_P,
    )

