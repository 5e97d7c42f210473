"""Callaway–Sant'Anna, step 1 of 4 (R did's ``pre_process_did``): validate the data, recode cohorts
and build the wide (panel) or long (repeated cross-section) arrays the computation uses."""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from laborai._timing import cohort_positions, is_datetime_like, period_label
from laborai._validation import check_option, check_time_column
from laborai.errors import (
    DataValidationError,
    EstimationError,
    LaborAIWarning,
    OptionError,
)

#: Option sets of att_gt and its aggregations, defined once for the whole package.
ControlGroup = Literal["never_treated", "not_yet_treated"]
EstMethod = Literal["dr", "ipw", "reg"]
BasePeriod = Literal["varying", "universal"]
AggregationType = Literal["simple", "dynamic", "group", "calendar"]
_CONTROL_GROUPS = ("never_treated", "not_yet_treated")
_EST_METHODS = ("dr", "ipw", "reg")
_BASE_PERIODS = ("varying", "universal")
_AGG_TYPES = ("simple", "dynamic", "group", "calendar")
#: att_gt's inference: "auto" (placebo for one cohort and few clusters, else analytic),
#: the influence-function standard errors, the multiplier bootstrap, placebo inference
GtVcov = Literal["auto", "analytic", "bootstrap", "placebo"]
_VCOV_GT: tuple[str, ...] = ("auto", "analytic", "bootstrap", "placebo")
#: ddd_gt's and cont_did's inference ("auto" = "analytic")
GtVcovNoPlacebo = Literal["auto", "analytic", "bootstrap"]
_VCOV_GT_NO_PLACEBO: tuple[str, ...] = ("auto", "analytic", "bootstrap")
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


def _check_inference(alpha: Any, vcov: Any, cband: Any, n_boot: Any, seed: Any, *,
                     allowed: Sequence[str] = _VCOV_GT, where: str = "att_gt") -> None:
    """Check the inference options of the group-time estimators and their ``aggregate()``.

    ``vcov`` is the requested inference (one of ``allowed``); a simultaneous band
    (``cband=True``) needs a simultaneous critical value, which the multiplier bootstrap
    (``vcov='bootstrap'``) and the placebo distribution (``vcov='placebo'``) provide.
    """
    if not isinstance(alpha, (float, int)) or isinstance(alpha, bool) or not 0 < alpha < 1:
        raise OptionError(f"alpha must be a number in (0, 1), e.g. 0.05; got {alpha!r}.")
    check_option("vcov", vcov, allowed)
    if not isinstance(cband, (bool, np.bool_)):
        raise OptionError(f"cband must be True or False; got {cband!r}.")
    if cband and vcov not in ("bootstrap", "placebo"):
        also = " or vcov='placebo'" if "placebo" in allowed else ""
        raise OptionError(
            f"{where}: cband=True needs a simultaneous critical value: vcov='bootstrap' (the "
            f"multiplier bootstrap's sup-t){also}; got vcov={vcov!r}. Set vcov='bootstrap' "
            "(and a seed) or cband=False."
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
