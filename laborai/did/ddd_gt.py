"""Staggered triple differences: group-time DDD average treatment effects, ATT(g,t).

:func:`ddd_gt` implements the estimators of Ortiz-Villavicencio & Sant'Anna (2025) for a triple
difference with variation in treatment timing. A unit belongs to a cohort ``S`` (the first
period in which its group, e.g. a state or a work category, is treated; 0 = never) and to a
partition ``Q`` (1 = eligible for the treatment, 0 = not eligible). Only eligible units of a
treated cohort are treated. For every cohort ``g`` and period ``t`` the DDD compares the
eligible-minus-ineligible change in outcomes of cohort ``g`` with the same difference in a
comparison cohort, which removes trends that differ by cohort and trends that differ by
partition. With covariates each DDD is the sum of three two-group DiDs (doubly robust, inverse
probability weighted or regression adjusted, Sant'Anna & Zhao 2020), which stays valid under
covariate-specific DDD parallel trends where the "difference of two DiDs" does not.

With ``control_group="not_yet_treated"`` each not-yet-treated cohort (and the never-treated
units) gives its own DDD estimate of ATT(g,t); the estimates are combined with the weights
that minimise the variance (the GMM combination of the paper), not by pooling the comparison
cohorts, which the paper shows can be biased.

The numbers reproduce R's ``triplediff`` (0.2.4) on the reference cases in
``reference/triplediff`` (see ``docs/estimators/ddd_gt.md``). This module is an independent
implementation from the paper; it reuses laborai's own two-group kernels
(:mod:`laborai.did._cs_kernels`) and the aggregations of :mod:`laborai.did.cs`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from scipy import linalg, stats

from laborai._results import (
    Provenance,
    ResultMixin,
    _fmt,
    make_provenance,
    wald_table,
    warn_few_clusters,
)
from laborai._timing import cohort_positions, is_datetime_like
from laborai._validation import check_option, check_time_column, resolve_seed
from laborai.did._cs_kernels import LogitFit, did2x2_panel, logit_irls, multiplier_bootstrap
from laborai.did.cs._aggregate import _aggregate
from laborai.did.cs._compute import _gt_cells
from laborai.did.cs._prepare import (
    _VCOV_GT_NO_PLACEBO,
    DroppedUnitsWarning,
    GtVcovNoPlacebo,
    _check_inference,
    _design_column,
    _display_dates,
    _first,
    _formula_terms,
    _model_matrix,
    _num,
    _period_column,
    _period_text,
    _recode_cohorts,
    _single_thread_blas,
)
from laborai.did.cs._results import AggregateResult, PretestResult
from laborai.errors import (
    ConvergenceWarning,
    DataValidationError,
    EstimationError,
    OptionError,
    SmallSampleWarning,
)

__all__ = ["DDDgtResult", "ddd_gt"]

ControlGroup = Literal["never_treated", "not_yet_treated"]
EstMethod = Literal["dr", "ipw", "reg"]
BasePeriod = Literal["varying", "universal"]
AggregationType = Literal["simple", "dynamic", "group", "calendar"]

_CONTROL_GROUPS = ("never_treated", "not_yet_treated")
_EST_METHODS = ("dr", "ipw", "reg")
_BASE_PERIODS = ("varying", "universal")
_AGG_TYPES = ("simple", "dynamic", "group", "calendar")
_TINY_SE = math.sqrt(float(np.finfo(float).eps)) * 10
_TRIM = 0.995


# ---------------------------------------------------------------------------------------------
# data preparation
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    ids: np.ndarray  # (n,)
    periods: np.ndarray  # (T,)
    y: np.ndarray  # (n, T)
    g: np.ndarray  # (n,) cohort, 0 = never treated
    q: np.ndarray  # (n,) partition 0/1
    w: np.ndarray  # (n,)
    x: np.ndarray | None  # (n, T, k) with intercept, or None
    x_names: tuple[str, ...]
    cluster: np.ndarray | None
    n_dropped_first: int
    n_recoded_never: int


def _datetime_periods(data: Any, tname: str, gname: str) -> tuple[Any, np.ndarray | None]:
    """Datetime periods (and cohorts) as positions 1..T on the grid; numbers unchanged."""
    if not isinstance(data, pd.DataFrame) or not isinstance(tname, str) \
            or tname not in data.columns:
        return data, None
    check_time_column(data, tname, where="ddd_gt")
    if not isinstance(gname, str) or gname not in data.columns:
        return data, None
    if not is_datetime_like(data[tname]):
        if is_datetime_like(data[gname]):
            raise DataValidationError(
                f"ddd_gt: column {gname!r} (gname) holds dates but the periods in {tname!r} are "
                f"numbers (dtype {data[tname].dtype}); pass the datetime period column as "
                "tname, or cohorts as values of tname (0 = never treated)."
            )
        return data, None
    tpos, gpos, grid = cohort_positions(data, tname, gname, where="ddd_gt")
    work = data.copy()
    work[tname] = tpos
    work[gname] = gpos
    return work, np.asarray(grid, dtype="datetime64[ns]")


def _prepare(
    data: pd.DataFrame,
    *,
    yname: str,
    tname: str,
    idname: str,
    gname: str,
    pname: str,
    rhs: str | None,
    weights: str | None,
    cluster: str | None,
    anticipation: int,
    control_group: str,
    period_values: np.ndarray | None,
) -> _Prepared:
    """Validate ``data`` and return the balanced panel as arrays."""
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(
            "ddd_gt: data must be a pandas DataFrame in long format (one row per unit and "
            f"period); got {type(data).__name__}."
        )
    named: dict[str, Any] = {"yname": yname, "tname": tname, "idname": idname, "gname": gname,
                             "pname": pname}
    if weights is not None:
        named["weights"] = weights
    if cluster is not None:
        named["cluster"] = cluster
    for arg, col in named.items():
        if not isinstance(col, str):
            raise OptionError(f"ddd_gt: {arg} must be a column name (str); got {col!r}.")
    formula_vars: list[str] = []
    if rhs is not None:
        import formulaic

        try:
            formula_vars = sorted(formulaic.Formula("~" + rhs).required_variables)
        except Exception as exc:  # formulaic raises several parser error types
            raise OptionError(
                f"ddd_gt: xformla could not be parsed: '~{rhs}' ({exc}). Use a formula such as "
                "'~ x1 + x2'."
            ) from exc
    used = list(dict.fromkeys([*named.values(), *formula_vars]))
    missing = [c for c in used if c not in data.columns]
    if missing:
        raise DataValidationError(
            f"ddd_gt: column(s) {missing} not found in data; available columns: "
            f"{list(map(str, data.columns))[:20]}. Check yname/tname/idname/gname/pname/"
            "xformla/weights/cluster."
        )
    na = {c: int(data[c].isna().sum()) for c in used}
    na = {c: k for c, k in na.items() if k}
    if na:
        detail = ", ".join(f"{c!r}: {k} row(s)" for c, k in na.items())
        raise DataValidationError(
            f"ddd_gt: missing values in columns it uses ({detail}); rule: no missing values. "
            f"Drop or impute these rows explicitly first (never-treated units must have "
            f"{gname!r} = 0, not missing)."
        )
    if len(data) == 0:
        raise DataValidationError("ddd_gt: data has no rows.")
    for arg in ("yname", "tname", "gname") + (("weights",) if weights is not None else ()):
        col = named[arg]
        if not pd.api.types.is_numeric_dtype(data[col]) or pd.api.types.is_bool_dtype(data[col]):
            raise DataValidationError(
                f"ddd_gt: column {col!r} ({arg}) must be numeric; got dtype {data[col].dtype}. "
                "Convert it, e.g. with pd.to_numeric."
            )
    # the partition: 0/1 (or booleans)
    pcol = data[pname]
    if pd.api.types.is_bool_dtype(pcol):
        pvals = pcol.to_numpy(dtype=float)
    elif pd.api.types.is_numeric_dtype(pcol):
        pvals = pcol.to_numpy(dtype=float)
    else:
        raise DataValidationError(
            f"ddd_gt: column {pname!r} (pname) must be a 0/1 indicator of eligibility; got dtype "
            f"{pcol.dtype} (first values: {_first(pd.unique(pcol))}). Recode it, e.g. "
            f"(data[{pname!r}] == 'eligible').astype(int)."
        )
    bad_p = ~np.isin(pvals, (0.0, 1.0))
    if bad_p.any():
        raise DataValidationError(
            f"ddd_gt: column {pname!r} (pname) must be a 0/1 indicator of eligibility; "
            f"{int(bad_p.sum())} row(s) hold other values (first: "
            f"{_first(pd.unique(pvals[bad_p]))})."
        )
    yv = data[yname].to_numpy(dtype=float)
    if not np.all(np.isfinite(yv)):
        raise DataValidationError(
            f"ddd_gt: column {yname!r} (yname) has {int((~np.isfinite(yv)).sum())} non-finite "
            "value(s) (inf)."
        )
    tv = data[tname].to_numpy(dtype=float)
    if not np.all(np.isfinite(tv)):
        raise DataValidationError(f"ddd_gt: column {tname!r} (tname) has non-finite values.")
    periods, t_codes = np.unique(tv, return_inverse=True)
    n_t = len(periods)
    if n_t < 2:
        raise DataValidationError(
            f"ddd_gt: column {tname!r} (tname) has {n_t} distinct period(s); at least 2 are "
            "needed."
        )
    id_codes, ids = pd.factorize(data[idname], sort=True)
    ids = np.asarray(ids)
    n = len(ids)
    cell = id_codes.astype(np.int64) * n_t + t_codes
    counts = np.bincount(cell, minlength=n * n_t)
    if counts.max() > 1:
        dup = np.flatnonzero(counts > 1)
        raise DataValidationError(
            f"ddd_gt: {len(dup)} ({idname}, {tname}) pair(s) appear more than once; rule: one "
            f"row per unit and period. First duplicates: "
            f"{_first((ids[c // n_t], periods[c % n_t]) for c in dup)}. Aggregate or "
            "deduplicate the data first."
        )
    per_unit = np.bincount(id_codes, minlength=n)
    if (per_unit < n_t).any():
        bad = np.flatnonzero(per_unit < n_t)
        raise DataValidationError(
            f"ddd_gt: the panel is unbalanced: {len(bad)} of {n} units ({idname!r}) are missing "
            f"at least one of the {n_t} periods (first: {_first(ids[bad])}); rule: a balanced "
            "panel. ddd_gt never drops units silently: keep the units observed in every period "
            "(or fill the gaps) first."
        )
    order = np.argsort(cell, kind="stable")

    def invariant(values: np.ndarray, col: str, arg: str) -> np.ndarray:
        vals = values[order].reshape(n, n_t)
        same = np.all(vals == vals[:, :1], axis=1)
        if not same.all():
            bad = np.flatnonzero(~same)
            raise DataValidationError(
                f"ddd_gt: column {col!r} ({arg}) must be constant within each {idname!r}; it "
                f"varies for {len(bad)} unit(s) (first: {_first(ids[bad])}). Fix the data so "
                f"that each unit has a single value of {col!r}."
            )
        return np.asarray(vals[:, 0])

    y = yv[order].reshape(n, n_t)
    g = invariant(data[gname].to_numpy(dtype=float), gname, "gname")
    g = np.where(np.isposinf(g), 0.0, g)
    bad_g = (g < 0) | ~np.isfinite(g)
    if bad_g.any():
        raise DataValidationError(
            f"ddd_gt: column {gname!r} (gname) must hold the first treated period, or 0 (or inf) "
            f"for never-treated units; {int(bad_g.sum())} unit(s) have negative or invalid "
            f"values (first: {_first(g[bad_g])})."
        )
    q = invariant(pvals, pname, "pname")
    if weights is None:
        w = np.ones(n)
    else:
        w = invariant(data[weights].to_numpy(dtype=float), weights, "weights")
        if (w < 0).any() or not np.all(np.isfinite(w)) or w.sum() <= 0:
            raise DataValidationError(
                f"ddd_gt: column {weights!r} (weights) must be finite and non-negative with a "
                f"positive sum; {int(((w < 0) | ~np.isfinite(w)).sum())} unit(s) break the rule."
            )
    cl = None
    if cluster is not None:
        codes = pd.factorize(data[cluster], sort=True)[0].astype(np.int64)
        cl = invariant(codes, cluster, "cluster").astype(np.int64)
    x = None
    x_names: tuple[str, ...] = ("(Intercept)",)
    if rhs is not None:
        xm, x_names = _model_matrix(data, rhs)
        x = xm[order].reshape(n, n_t, xm.shape[1])

    g, first, n_recoded = _recode_cohorts(g, periods, anticipation, gname=gname,
                                          who=f"unit(s) ({idname!r})",
                                          period_values=period_values, prefix="ddd_gt: ",
                                          stacklevel=4)
    n_first = int(first.sum())
    if n_first:
        keep = ~first
        ids, y, g, q, w = ids[keep], y[keep], g[keep], q[keep], w[keep]
        x = None if x is None else x[keep]
        cl = None if cl is None else pd.factorize(cl[keep], sort=True)[0].astype(np.int64)
    if not (g == 0).any():
        if control_group == "never_treated":
            raise EstimationError(
                f"ddd_gt: there is no never-treated cohort (no unit has {gname!r} = 0 or a first "
                "treated period after the last period); control_group='never_treated' needs "
                "one. Use control_group='not_yet_treated'."
            )
        gmax = g.max()
        keep_t = periods < gmax - anticipation
        warnings.warn(
            f"ddd_gt: no never-treated units: the last-treated cohort ({gname!r} = "
            f"{_period_text(gmax, period_values)}) becomes the never-treated comparison and "
            f"periods from {_period_text(gmax - anticipation, period_values)} on are dropped "
            "(they have no untreated comparison).",
            DroppedUnitsWarning,
            stacklevel=3,
        )
        periods, y = periods[keep_t], y[:, keep_t]
        x = None if x is None else x[:, keep_t]
        g = np.where(g == gmax, 0.0, g)
        if len(periods) < 2:
            raise EstimationError(
                "ddd_gt: fewer than two periods remain before the last cohort's start."
            )
    if not (g > 0).any():
        raise EstimationError(
            f"ddd_gt: no treated cohort with a pre-treatment period remains in {gname!r}; "
            "nothing to estimate."
        )
    # a DDD needs eligible and ineligible units in every cohort (treated and comparison)
    lacking = []
    for gv in np.unique(g):
        qs = q[g == gv]
        if qs.min() == qs.max():
            lacking.append(f"{_period_text(gv, period_values)} (all {pname!r} = {int(qs[0])})")
    if lacking:
        raise DataValidationError(
            f"ddd_gt: the triple difference needs eligible ({pname!r} = 1) and ineligible "
            f"({pname!r} = 0) units in every cohort of {gname!r}; {len(lacking)} cohort(s) have "
            f"only one kind: {', '.join(lacking[:5])}. Check the partition column, or drop "
            "these cohorts explicitly."
        )
    return _Prepared(ids=ids, periods=periods, y=y, g=g, q=q, w=w, x=x, x_names=x_names,
                     cluster=cl, n_dropped_first=n_first, n_recoded_never=n_recoded)


# ---------------------------------------------------------------------------------------------
# core computation
# ---------------------------------------------------------------------------------------------


def _logit_final(d: np.ndarray, x: np.ndarray, w: np.ndarray) -> LogitFit:
    """Logit fit whose inverse information is evaluated at the final fitted probabilities.

    (:func:`logit_irls` returns the information of the last IRLS step; R's ``triplediff``
    evaluates it at the converged fit. The two agree to the convergence tolerance, about
    1e-8 in the standard errors; this one reproduces R to rounding.)
    """
    wn = w / w.mean()  # the normalisation did2x2_panel applies
    fit = logit_irls(d, x, wn)
    if x.shape[1] == 1:
        return fit
    mu = fit.fitted
    info = (x * (wn * mu * (1.0 - mu))[:, None]).T @ x
    return LogitFit(fitted=mu, xtwx_inv=np.asarray(linalg.inv(info)), coef=fit.coef,
                    converged=fit.converged)


class _PairDDD:
    """DDD of cohort ``g`` against one comparison cohort, for every period (with caches)."""

    def __init__(self, prep: _Prepared, est_method: str, x_static: bool) -> None:
        self.prep = prep
        self.est_method = est_method
        self.x_static = x_static
        self.caches: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.not_converged: list[str] = []

    def __call__(self, gv: float, cv: float, tc: int, pret: int, dy: np.ndarray,
                 label: str) -> tuple[float, np.ndarray]:
        """ATT and full-sample influence function (``var ~= sum(inf**2) / n**2``)."""
        p = self.prep
        n = len(p.g)
        in_g = p.g == gv
        in_c = p.g == cv
        elig = p.q == 1
        masks = (in_g & elig, in_g & ~elig, in_c & elig, in_c & ~elig)  # A, B, C, D
        w = p.w
        if p.x is None:
            sums = [float(w[m].sum()) for m in masks]
            if all(sums[0] / (sums[0] + s) < _TRIM for s in sums[1:]):
                att = 0.0
                inf = np.zeros(n)
                for sign, m, s in zip((1.0, -1.0, -1.0, 1.0), masks, sums, strict=True):
                    mu = float(np.dot(w[m], dy[m]) / s)
                    att += sign * mu
                    inf[m] += sign * n * w[m] * (dy[m] - mu) / s
                return att, inf
        a_mask = masks[0]
        att = 0.0
        inf = np.zeros(n)
        t_key = -1 if self.x_static else min(tc, pret)
        for j, sign in ((1, 1.0), (2, 1.0), (3, -1.0)):
            idx = np.flatnonzero(a_mask | masks[j])
            d = a_mask[idx].astype(float)
            xs = np.ones((len(idx), 1)) if p.x is None else p.x[idx, min(tc, pret)]
            key = (gv, cv, j, t_key)
            cache = self.caches.get(key)
            if cache is None:
                cache = {}
                if self.est_method != "reg":
                    fit = _logit_final(d, xs, w[idx])
                    if not fit.converged:
                        self.not_converged.append(label)
                    cache["ps"] = fit
                self.caches[key] = cache
            try:
                a, inf_sub, _ = did2x2_panel(dy[idx], d, xs, w[idx], self.est_method,
                                             cache=cache)
            except np.linalg.LinAlgError as exc:
                raise EstimationError(
                    f"ddd_gt: {label}: the covariate matrix is singular in one of the "
                    f"eligibility-by-cohort subgroups ({exc}). Drop collinear or constant "
                    "covariates from xformla."
                ) from exc
            att += sign * a
            inf[idx] += sign * inf_sub * (n / len(idx))
        if not (np.isfinite(att) and np.all(np.isfinite(inf))):
            raise EstimationError(
                f"ddd_gt: {label}: a two-group estimator returned a non-finite value; the "
                "covariates are probably collinear within a subgroup, or the propensity "
                "scores trim every comparison unit. Drop covariates from xformla."
            )
        return float(att), inf


def _gmm(atts: np.ndarray, infs: np.ndarray, cell: np.ndarray, cluster: np.ndarray | None,
         label: str) -> tuple[float, np.ndarray, np.ndarray, float]:
    """Variance-minimising combination of the comparison-cohort DDDs of one ATT(g,t).

    ``infs`` (n x k) are full-sample influence functions; ``cell`` marks the units of the
    treated cohort and of all the comparison cohorts (``n_c`` units). With ``F`` the influence
    functions rescaled to the cell (``n_c / n``), ``Omega`` is their sample covariance on the
    cell's units (the cluster-sum second moment with ``cluster``), the weights are
    ``Omega^{-1} 1 / (1' Omega^{-1} 1)`` and the standard error ``(n_c 1' Omega^{-1} 1)^{-1/2}``.
    Everything is computed on the cell, so units of other cohorts change nothing.
    """
    n = infs.shape[0]
    n_c = int(cell.sum())
    f = infs[cell] * (n_c / n)
    if cluster is None:
        omega = np.atleast_2d(np.cov(f, rowvar=False))
    else:
        codes = pd.factorize(cluster[cell])[0]
        s = np.zeros((int(codes.max()) + 1, f.shape[1]))
        np.add.at(s, codes, f)
        omega = s.T @ s / n_c
    ones = np.ones(len(atts))
    try:
        oi1 = np.linalg.solve(omega, ones)
        if not np.all(np.isfinite(oi1)) or 1.0 / np.linalg.cond(omega) < 1e-12:
            raise np.linalg.LinAlgError("ill-conditioned")
    except np.linalg.LinAlgError:
        warnings.warn(
            f"ddd_gt: {label}: the covariance of the comparison-cohort estimates is singular; "
            "the combination uses its pseudo-inverse.",
            SmallSampleWarning,
            stacklevel=5,
        )
        oi1 = np.linalg.pinv(omega) @ ones
    denom = float(ones @ oi1)
    wts = oi1 / denom
    se = math.sqrt(1.0 / (n_c * denom)) if denom > 0 else float("nan")
    return float(wts @ atts), infs @ wts, wts, se


def _compute(
    prep: _Prepared, *, control_group: str, est_method: str, base_period: str,
    anticipation: int, period_values: np.ndarray | None,
) -> dict[str, np.ndarray]:
    periods, g_unit, y = prep.periods, prep.g, prep.y
    n = len(g_unit)
    glist = np.unique(g_unit[g_unit > 0])
    cands = np.concatenate([[0.0], glist])
    x_static = prep.x is not None and bool(np.all(prep.x == prep.x[:, :1]))
    pair = _PairDDD(prep, est_method, x_static)
    y_by_t = np.ascontiguousarray(y.T)
    counts = {(gv, qv): int(((g_unit == gv) & (prep.q == qv)).sum())
              for gv in cands for qv in (0.0, 1.0)}
    groups: list[float] = []
    times: list[float] = []
    atts: list[float] = []
    infs: list[np.ndarray] = []
    ses: list[float] = []  # GMM standard errors (NaN: from the influence function)
    comp_att: list[np.ndarray] = []
    comp_w: list[np.ndarray] = []
    small: list[str] = []
    for gv, tc, pret in _gt_cells(periods, glist, base_period, anticipation):
        label = f"ATT({_period_text(gv, period_values)},{_period_text(periods[tc], period_values)})"
        groups.append(gv)
        times.append(periods[tc])
        ca = np.full(len(cands), np.nan)
        cw = np.full(len(cands), np.nan)
        if base_period == "universal" and pret == tc:
            atts.append(0.0)
            infs.append(np.zeros(n))
            ses.append(float("nan"))
            comp_att.append(ca)
            comp_w.append(cw)
            continue
        later = periods[max(tc, pret)]
        if control_group == "never_treated":
            comps = [0.0]
        else:
            comps = [c for c in cands if c == 0.0 or (c != gv and c > later + anticipation)]
        sizes = [counts[(gv, 1.0)], counts[(gv, 0.0)]]
        for c in comps:
            sizes += [counts[(c, 1.0)], counts[(c, 0.0)]]
        if min(sizes) < 5:
            small.append(label)
        dy = y_by_t[tc] - y_by_t[pret]
        ests, ifs = [], []
        for c in comps:
            a, f = pair(gv, c, tc, pret, dy, label)
            ests.append(a)
            ifs.append(f)
        pos = np.searchsorted(cands, comps)
        ca[pos] = ests
        if len(comps) == 1:
            atts.append(ests[0])
            infs.append(ifs[0])
            ses.append(float("nan"))
            cw[pos] = 1.0
        else:
            cell = np.isin(g_unit, [gv, *comps])
            a, f, wts, se = _gmm(np.asarray(ests), np.column_stack(ifs), cell, prep.cluster,
                                 label)
            atts.append(a)
            infs.append(f)
            ses.append(se)
            cw[pos] = wts
        comp_att.append(ca)
        comp_w.append(cw)
    if not atts:
        raise EstimationError("ddd_gt: no ATT(g,t) could be computed (no cohort has a "
                              "pre-treatment period).")
    if small:
        warnings.warn(
            f"ddd_gt: {len(small)} ATT(g,t) rest on an eligibility-by-cohort subgroup with "
            f"fewer than 5 units (e.g. {', '.join(small[:3])}); inference may be unreliable.",
            SmallSampleWarning,
            stacklevel=3,
        )
    if pair.not_converged:
        warnings.warn(
            f"ddd_gt: the propensity-score logit did not converge in 25 iterations for "
            f"{len(pair.not_converged)} fit(s) (first: {pair.not_converged[0]}).",
            ConvergenceWarning,
            stacklevel=3,
        )
    return {
        "group": np.asarray(groups, dtype=float),
        "time": np.asarray(times, dtype=float),
        "att": np.asarray(atts, dtype=float),
        "inf": np.column_stack(infs),
        "gmm_se": np.asarray(ses, dtype=float),
        "comparison_cohorts": cands,
        "comparison_estimate": np.vstack(comp_att),
        "comparison_weight": np.vstack(comp_w),
    }


def _cluster_sums(inf: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    if cluster is None:
        return inf
    out = np.zeros((int(cluster.max()) + 1, inf.shape[1]))
    np.add.at(out, cluster, inf)
    return out


# ---------------------------------------------------------------------------------------------
# result
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class DDDgtResult(ResultMixin):
    """Group-time triple-difference ATTs from :func:`ddd_gt`.

    Attributes
    ----------
    group, time : ndarray
        Cohort (first treated period) and period of each ATT(g,t).
    estimate, std_error : ndarray
        ATT(g,t) and its standard error (``settings["vcov"]``: analytic or bootstrap).
    analytic_std_error : ndarray
        Analytic standard errors: from the influence function, or, for cells combining several
        comparison cohorts (``control_group="not_yet_treated"``), the GMM formula
        ``(n_c 1' Omega^{-1} 1)^{-1/2}`` with ``Omega`` the sample covariance (``n_c - 1``) of
        the comparison-cohort influence functions on the cell's ``n_c`` units (R's
        convention; it exceeds the influence-function value by about ``sqrt(n_c/(n_c-1))``).
    influence : ndarray, shape (n_units, K)
        Influence functions of the ATT(g,t) (``var ~= sum(inf**2) / n**2``).
    vcov : ndarray, shape (K, K)
        Covariance matrix of the influence functions, ``S' S / n**2`` (cluster sums ``S``).
    crit_val : float
        Critical value of the confidence bands (sup-t when ``cband``, else normal quantile).
    comparison_cohorts : ndarray
        Candidate comparison cohorts: 0 (never treated) then every treated cohort.
    comparison_estimate, comparison_weight : ndarray, shape (K, len(comparison_cohorts))
        DDD estimate of each ATT(g,t) against each comparison cohort used, and its weight in
        the combination (NaN where a cohort is not a comparison for the cell; weights sum to
        one across a row).
    unit_group, unit_partition, unit_weight : ndarray
        Cohort (0 = never), partition (1 = eligible) and sampling weight of each unit.
    unit_cluster : ndarray or None
        Cluster codes of each unit when ``cluster`` was given.
    periods : ndarray
        Periods used (positions 1..T for datetime periods, see ``period_values``).
    settings : mapping (read-only)
        The arguments of :func:`ddd_gt`.
    n_units, n_obs : int
        Units and observations (rows) in the estimation sample.
    n_dropped : int
        Units dropped because they were treated in the first period (with a warning).
    provenance : Provenance
        Settings, seed, package version and input hash.
    period_values : ndarray or None
        For datetime periods the sorted grid of period starts; None for numeric periods.
    seed : int
        Seed of the multiplier bootstrap.
    """

    group: np.ndarray
    time: np.ndarray
    estimate: np.ndarray
    std_error: np.ndarray
    analytic_std_error: np.ndarray
    influence: np.ndarray
    vcov: np.ndarray
    crit_val: float
    comparison_cohorts: np.ndarray
    comparison_estimate: np.ndarray
    comparison_weight: np.ndarray
    unit_group: np.ndarray
    unit_partition: np.ndarray
    unit_weight: np.ndarray
    unit_cluster: np.ndarray | None
    periods: np.ndarray
    settings: Mapping[str, Any]
    n_units: int
    n_obs: int
    n_dropped: int
    provenance: Provenance
    period_values: np.ndarray | None = None
    seed: int = 0

    _title = "Staggered triple differences (Ortiz-Villavicencio & Sant'Anna 2025): ATT(g,t)"

    #: no placebo inference for ddd_gt (read by the shared aggregation code)
    placebo = None

    def _display_frame(self, columns: Sequence[str] | None, digits: int) -> pd.DataFrame:
        t = _display_dates(self.tidy(), self.period_values)
        if columns is not None:
            t = t.loc[:, list(columns)]
        return t.apply(lambda col: col.map(lambda v: _fmt(v, digits)))

    def __repr__(self) -> str:
        s = self.settings
        return (
            f"DDDgtResult(n_att={len(self.estimate)}, n_units={self.n_units}, "
            f"control_group={s['control_group']!r}, est_method={s['est_method']!r}, "
            f"base_period={s['base_period']!r}, vcov={s['vcov']!r}, cband={s['cband']})"
        )

    @property
    def event_time(self) -> np.ndarray:
        """Event time ``t - g`` of each ATT(g,t)."""
        return self.time - self.group

    @property
    def n_comparisons(self) -> np.ndarray:
        """Number of comparison cohorts combined in each ATT(g,t)."""
        return np.asarray(np.isfinite(self.comparison_weight).sum(axis=1))

    def _header(self) -> list[tuple[str, str]]:
        s = self.settings
        lines = [
            ("Outcome", str(s["yname"])),
            ("Partition (eligible = 1)", str(s["pname"])),
            ("Comparison group", str(s["control_group"])
             + (" (comparison cohorts combined with GMM weights)"
                if s["control_group"] == "not_yet_treated" else "")),
            ("Estimation method", str(s["est_method"])),
            ("Base period", str(s["base_period"])),
            ("Units", str(self.n_units)),
            ("Standard errors",
             "multiplier bootstrap" if s["vcov"] == "bootstrap"
             else "analytic (influence function)"),
        ]
        if s["cband"]:
            lines.append(("Uniform band critical value", f"{self.crit_val:.4f}"))
        pt = self.pretest()
        if pt is not None:
            lines.append(("Pre-test of parallel trends",
                          f"W = {pt.statistic:.4f}, df = {pt.df}, p = {pt.p_value:.4f}"))
        return lines

    def tidy(self) -> pd.DataFrame:
        """Return one row per ATT(g,t).

        Returns
        -------
        pandas.DataFrame
            ``term`` (``"ATT(g,t)"``), ``estimate, std_error, statistic, p_value, conf_low,
            conf_high``, then ``group``, ``time`` (dates for datetime periods), ``event_time``
            and ``n_comparisons`` (comparison cohorts combined); with ``cband=True``
            ``conf_low/conf_high`` are the simultaneous band and
            ``point_conf_low/point_conf_high`` the pointwise intervals.
        """
        alpha = self.settings["alpha"]
        tab = wald_table(self.estimate, self.std_error, alpha=alpha, crit=self.crit_val)
        pv = self.period_values
        tab.insert(0, "term", [f"ATT({_period_text(g, pv)},{_period_text(t, pv)})"
                               for g, t in zip(self.group, self.time, strict=True)])
        tab["group"] = _period_column(self.group, pv)
        tab["time"] = _period_column(self.time, pv)
        tab["event_time"] = _design_column(self.event_time)
        tab["n_comparisons"] = self.n_comparisons.astype(np.int64)
        if self.settings["cband"]:
            pw = wald_table(self.estimate, self.std_error, alpha=alpha)
            tab["point_conf_low"] = pw["conf_low"].to_numpy()
            tab["point_conf_high"] = pw["conf_high"].to_numpy()
        return tab

    def pretest(self) -> PretestResult | None:
        """Wald pre-test that every pre-treatment ATT(g,t) is zero.

        ``W = a' V^{-1} a`` with ``a`` the pre-treatment ATT(g,t) (``g > t``) that have a
        finite standard error and ``V`` their influence-function covariance;
        ``W ~ chi2(len(a))`` under DDD parallel trends before treatment. None when there is no
        such ATT(g,t) or ``V`` is numerically singular.
        """
        pre = np.flatnonzero((self.group > self.time) & np.isfinite(self.analytic_std_error))
        if len(pre) == 0:
            return None
        a = self.estimate[pre]
        v = self.vcov[np.ix_(pre, pre)]
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(v))):
            return None
        if 1.0 / np.linalg.cond(v, p=1) <= np.finfo(float).eps:
            return None
        stat = float(a @ np.linalg.solve(v, a))
        return PretestResult(statistic=stat, df=len(pre),
                             p_value=float(stats.chi2.sf(stat, len(pre))))

    def aggregate(
        self,
        type: AggregationType = "group",
        *,
        min_e: float = -math.inf,
        max_e: float = math.inf,
        balance_e: int | None = None,
        vcov: Literal["analytic", "bootstrap"] | None = None,
        cband: bool | None = None,
        n_boot: int | None = None,
        seed: int | None = None,
        alpha: float | None = None,
    ) -> AggregateResult:
        """Aggregate the DDD ATT(g,t) into summary parameters.

        Parameters
        ----------
        type : {"simple", "dynamic", "group", "calendar"}, default "group"
            As :meth:`laborai.did.ATTgtResult.aggregate`: the overall average of the
            post-treatment ATT(g,t) weighted by cohort size, the event study ``theta(e)``,
            cohort averages ``theta(g)``, or calendar-time averages ``theta(t)``.
        min_e, max_e, balance_e :
            Event-time limits and balancing (``"dynamic"``; ``max_e`` also limits
            ``"simple"`` and ``"group"``).
        vcov : {"analytic", "bootstrap"}, optional
            Inference of the aggregates; default: the one :func:`ddd_gt` used
            (``settings["vcov"]``). Recorded in the aggregate's ``settings["vcov"]``.
        cband, n_boot, seed, alpha : optional
            Inference settings; default to those of :func:`ddd_gt`. ``cband=True`` needs
            ``vcov="bootstrap"``.

        Returns
        -------
        AggregateResult

        Notes
        -----
        The cohort weights are the shares ``P(S = g)`` of all units (eligible or not) in each
        cohort, and the influence functions include the estimation effect of these weights,
        as R's ``triplediff::agg_ddd``.
        """
        check_option("type", type, _AGG_TYPES)
        s = self.settings
        vcov = s["vcov"] if vcov is None else vcov
        cband = s["cband"] if cband is None else cband
        n_boot = s["n_boot"] if n_boot is None else n_boot
        seed = s["seed"] if seed is None else seed
        alpha = s["alpha"] if alpha is None else alpha
        _check_inference(alpha, vcov, cband, n_boot, seed, allowed=("analytic", "bootstrap"),
                         where="ddd_gt.aggregate")
        if np.isnan(self.estimate).any():
            bad = np.flatnonzero(np.isnan(self.estimate))
            raise EstimationError(
                f"ddd_gt: {len(bad)} ATT(g,t) are missing (first: "
                f"{_first(f'ATT({_num(self.group[i])},{_num(self.time[i])})' for i in bad)}); "
                "aggregation needs all of them."
            )
        with _single_thread_blas():
            return _aggregate(cast(Any, self), type, min_e=min_e, max_e=max_e,
                              balance_e=balance_e, vcov=str(vcov), cband=bool(cband),
                              n_boot=int(n_boot), seed=seed, alpha=float(alpha))

    def plot(self, ax: Any = None) -> Any:
        """Plot ATT(g,t) with confidence intervals against period, one series per cohort."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        t = self.tidy()
        cohorts = np.unique(self.group)
        width = 0.3 / max(len(cohorts), 1)
        for j, g in enumerate(cohorts):
            rows = self.group == g
            xs = self.time[rows] + (j - (len(cohorts) - 1) / 2) * width
            est = t["estimate"].to_numpy()[rows]
            lo = t["conf_low"].to_numpy()[rows]
            hi = t["conf_high"].to_numpy()[rows]
            ax.errorbar(xs, est, yerr=[est - lo, hi - est], fmt="o", capsize=2,
                        label=f"g = {_num(g)}")
        ax.axhline(0.0, color="0.5", linewidth=0.8)
        ax.set_xlabel("period")
        ax.set_ylabel("DDD ATT(g,t)")
        ax.legend(title="cohort", fontsize="small")
        return ax


# ---------------------------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------------------------


def ddd_gt(
    data: pd.DataFrame,
    *,
    yname: str,
    tname: str,
    idname: str,
    gname: str,
    pname: str,
    xformla: str | None = None,
    control_group: ControlGroup = "never_treated",
    est_method: EstMethod = "dr",
    base_period: BasePeriod = "varying",
    anticipation: int = 0,
    weights: str | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
    vcov: GtVcovNoPlacebo = "auto",
    cband: bool = False,
    n_boot: int = 999,
    seed: int | None = 0,
) -> DDDgtResult:
    """Staggered triple differences: group-time DDD ATTs (Ortiz-Villavicencio & Sant'Anna 2025).

    Parameters
    ----------
    data : pandas.DataFrame
        Balanced panel in long format, one row per unit and period.
    yname : str
        Outcome column.
    tname : str
        Period column: numbers or datetimes (period starts; results then report dates and
        count event time in periods of the grid, as :func:`laborai.did.att_gt`).
    idname : str
        Unit identifier column.
    gname : str
        First period in which the unit's group (e.g. its state or work category) is treated;
        0 (or inf) for never-treated groups. Constant within unit.
    pname : str
        Partition column (R ``triplediff``'s ``pname``): 1 for units eligible for the
        treatment, 0 for ineligible units; constant within unit. Only eligible units of a
        treated cohort are treated. Every cohort needs both kinds of units.
    xformla : str, optional
        Covariates as a one-sided formula, e.g. ``"~ x1 + x2"``; values from the base period
        of each comparison. An intercept is always included.
    control_group : {"never_treated", "not_yet_treated"}, default "never_treated"
        ``"never_treated"``: the never-treated cohort. ``"not_yet_treated"``: every cohort
        not yet treated by the later period of the comparison (plus ``anticipation``) and
        the never-treated cohort, each giving its own DDD; they are combined with the
        variance-minimising (GMM) weights.
    est_method : {"dr", "ipw", "reg"}, default "dr"
        Two-group DiD estimator inside the DDD: doubly robust, normalised inverse probability
        weighting, or outcome regression (identical without covariates).
    base_period : {"varying", "universal"}, default "varying"
        As :func:`laborai.did.att_gt`: pre-treatment cells compare ``t`` with ``t-1``
        (``"varying"``) or every cell compares with ``g - 1 - anticipation``
        (``"universal"``, that cell reported as 0).
    anticipation : int, default 0
        Periods before ``g`` in which units may already react.
    weights : str, optional
        Column of time-invariant sampling weights.
    cluster : str, optional
        Column of a time-invariant cluster coarser than the unit: analytic standard errors
        sum influence functions within clusters and bootstrap multipliers are drawn per
        cluster.
    alpha : float, default 0.05
        One minus the confidence level.
    vcov : {"auto", "analytic", "bootstrap"}, default "auto"
        The inference: influence-function standard errors (``"analytic"``; what ``"auto"``
        resolves to) or the multiplier bootstrap (``"bootstrap"``, Mammen weights drawn per
        cluster; R ``triplediff``'s ``boot=TRUE``). The resolved value is recorded in
        ``settings["vcov"]``, the requested one in ``settings["vcov_requested"]``.
    cband : bool, default False
        Simultaneous (sup-t) band over all ATT(g,t); needs ``vcov="bootstrap"``.
    n_boot : int, default 999
        Bootstrap draws.
    seed : int or None, default 0
        Seed of the bootstrap (``numpy.random.default_rng``); recorded in the result.

    Returns
    -------
    DDDgtResult
        With ``tidy()``, :meth:`~DDDgtResult.aggregate`, :meth:`~DDDgtResult.pretest`,
        ``plot()``, ``summary()``, ``to_latex()``, ``to_markdown()``.

    Raises
    ------
    OptionError
        An option outside its allowed values.
    DataValidationError
        Missing columns or values, a partition that is not 0/1 or varies within unit,
        ``gname``/``weights``/``cluster`` varying within unit, duplicate unit-periods, an
        unbalanced panel, or a cohort without eligible or without ineligible units.
    EstimationError
        No never-treated cohort with ``control_group="never_treated"``, nothing to
        estimate, or singular covariates.

    Warns
    -----
    DroppedUnitsWarning
        Units treated in the first period are dropped; cohorts after the last period are
        recoded as never treated.
    SmallSampleWarning
        A cell resting on a subgroup with fewer than 5 units.

    Notes
    -----
    The estimand is ``ATT(g,t) = E[Y_t(g) - Y_t(0) | S = g, Q = 1]``. With ``A`` the
    eligible and ``B`` the ineligible units of cohort ``g``, and ``C``, ``D`` those of a
    comparison cohort ``c``, the DDD estimand for ``t >= g`` is

    .. math:: (\\Delta_A - \\Delta_B) - (\\Delta_C - \\Delta_D),
              \\quad \\Delta_j = E[Y_t - Y_{g-1} \\mid j],

    identified under DDD parallel trends (the eligible-minus-ineligible trend of cohort
    ``g`` without treatment equals that of the comparison cohort, conditional on the
    covariates), no anticipation and overlap. With covariates it is computed as
    ``DiD(A, B) + DiD(A, C) - DiD(A, D)``, each a two-group DiD with its own propensity score
    and outcome model fitted on the two subgroups (the paper's estimators), whose influence
    functions add up to the DDD's. With several comparison cohorts ``c_1..c_k`` the
    estimates ``ATT_c(g,t)`` are combined as ``w' ATT_c`` with
    ``w = Omega^{-1} 1 / (1' Omega^{-1} 1)``, ``Omega`` the covariance of their influence
    functions, computed on the units of cohort ``g`` and of the comparison cohorts only
    (units of other cohorts do not change the cell's estimate or standard error).

    References
    ----------
    Ortiz-Villavicencio, M. and Sant'Anna, P. H. C. (2025). Better understanding triple
    differences estimators. arXiv:2505.09942.

    Sant'Anna, P. H. C. and Zhao, J. (2020). Doubly robust difference-in-differences
    estimators. Journal of Econometrics 219(1), 101-122.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import laborai as la
    >>> from laborai.did.ddd_gt import ddd_gt
    >>> rng = np.random.default_rng(0)
    >>> units = pd.DataFrame({"id": range(600), "g": rng.choice([0, 3, 4], 600),
    ...                       "elig": rng.integers(0, 2, 600)})
    >>> df = units.merge(pd.DataFrame({"t": [1, 2, 3, 4]}), how="cross")
    >>> treated = (df.g > 0) & (df.t >= df.g) & (df.elig == 1)
    >>> trend = 0.5 * df.t * (df.g > 0) + 0.3 * df.t * df.elig  # cohort and partition trends
    >>> df["y"] = rng.normal(scale=0.3, size=len(df)) + trend + 1.0 * treated
    >>> res = ddd_gt(df, yname="y", tname="t", idname="id", gname="g", pname="elig")
    >>> agg = res.aggregate("simple")
    >>> bool(abs(agg.overall_estimate - 1.0) < 3 * agg.overall_std_error)
    True
    >>> res.tidy()[["term", "estimate"]].shape
    (6, 2)
    """
    check_option("control_group", control_group, _CONTROL_GROUPS)
    check_option("est_method", est_method, _EST_METHODS)
    check_option("base_period", base_period, _BASE_PERIODS)
    if (not isinstance(anticipation, (int, np.integer)) or isinstance(anticipation, bool)
            or anticipation < 0):
        raise OptionError(f"ddd_gt: anticipation must be an integer >= 0; got {anticipation!r}.")
    seed = resolve_seed(seed)
    _check_inference(alpha, vcov, cband, n_boot, seed, allowed=_VCOV_GT_NO_PLACEBO,
                     where="ddd_gt")
    method = "bootstrap" if vcov == "bootstrap" else "analytic"  # what "auto" resolves to
    rhs = _formula_terms(xformla)
    work, period_values = _datetime_periods(data, tname, gname)
    prep = _prepare(work, yname=yname, tname=tname, idname=idname, gname=gname, pname=pname,
                    rhs=rhs, weights=weights, cluster=cluster, anticipation=int(anticipation),
                    control_group=control_group, period_values=period_values)
    with _single_thread_blas():
        out = _compute(prep, control_group=control_group, est_method=est_method,
                       base_period=base_period, anticipation=int(anticipation),
                       period_values=period_values)
    inf = out["inf"]
    n = inf.shape[0]
    s = _cluster_sums(inf, prep.cluster)
    vcov_mat = s.T @ s / n**2
    se_an = np.sqrt(np.diag(vcov_mat)).copy()
    gmm = np.isfinite(out["gmm_se"])
    se_an[gmm] = out["gmm_se"][gmm]
    se_an = np.where(se_an <= _TINY_SE, np.nan, se_an)
    se = se_an
    crit = float(stats.norm.ppf(1 - alpha / 2))
    if method == "bootstrap":
        ok = np.isfinite(se_an)
        se = np.full(len(se_an), np.nan)
        bse, bcrit = multiplier_bootstrap(inf[:, ok], n_boot=int(n_boot),
                                          rng=np.random.default_rng(seed), alpha=float(alpha),
                                          cluster=prep.cluster)
        se[ok] = bse
        if cband:
            crit = bcrit
    settings = {
        "yname": yname, "tname": tname, "idname": idname, "gname": gname, "pname": pname,
        "xformla": xformla, "control_group": control_group, "est_method": est_method,
        "base_period": base_period, "anticipation": int(anticipation), "weights": weights,
        "cluster": cluster, "alpha": float(alpha), "vcov": method, "vcov_requested": vcov,
        "cband": bool(cband), "n_boot": int(n_boot), "seed": seed,
    }
    prov = make_provenance("ddd_gt", data, settings, seed=seed)
    warn_few_clusters("ddd_gt", prep.cluster, prep.g > 0, cluster)
    return DDDgtResult(
        group=out["group"],
        time=out["time"],
        estimate=out["att"],
        std_error=se,
        analytic_std_error=se_an,
        influence=inf,
        vcov=vcov_mat,
        crit_val=crit,
        comparison_cohorts=out["comparison_cohorts"],
        comparison_estimate=out["comparison_estimate"],
        comparison_weight=out["comparison_weight"],
        unit_group=prep.g,
        unit_partition=prep.q,
        unit_weight=prep.w,
        unit_cluster=prep.cluster,
        periods=prep.periods,
        settings=MappingProxyType(settings),
        n_units=n,
        n_obs=int(prep.y.size),
        n_dropped=prep.n_dropped_first,
        provenance=prov,
        period_values=period_values,
        seed=seed,
    )
