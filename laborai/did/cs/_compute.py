"""Callaway–Sant'Anna, step 2 of 4 (R did's ``compute.att_gt``): every group-time ATT(g,t) as a
2x2 DiD with its influence function, and the analytic standard errors."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from laborai.did._cs_kernels import (
    did2x2_panel,
    did2x2_rc,
)
from laborai.did.cs._prepare import _TINY_SE, DroppedUnitsWarning, _Long, _num, _Panel
from laborai.errors import (
    ConvergenceWarning,
    EstimationError,
    SmallSampleWarning,
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
