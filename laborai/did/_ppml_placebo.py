"""Placebo (Conley-Taber) inference for a Poisson (PPML) DiD whose treatment is set by cluster.

``la.did.twfe(..., family="poisson", vcov="placebo", cluster="category")`` uses this module;
``vcov="auto"`` does too with fewer than :data:`laborai.did._core.FEW_CLUSTERS` clusters when
the design admits it (one common adoption date, every unit of a treated cluster treated, at
least :data:`laborai.did._core.PLACEBO_MIN_CONTROLS` control clusters, no more treated than
control clusters), exactly as for OLS.

**Why.** When treatment is assigned by cluster (the 4 exposed of 12 categories of the
freelancer design, ``docs/freelancers.md``) and clusters have common shocks, the error of the
DiD estimate is an average of a few clusters' shock paths: CRV1 by unit ignores the shocks
(50% size at 5% on the simulated freelancer marketplace) and CRV1 with 12 clusters is too thin
(17.5%). The control clusters show how large a cluster's post-minus-pre movement is without
treatment (Conley & Taber 2011).

**The estimator.** Let ``post_it`` be the treated units' treatment path (a 0/1 function of the
period) given to every row. One PPML fit with the same fixed effects and controls as the
estimate and a post-period shift for every cluster but one reference control cluster,

    E[y_it] = exp(sum_{c != ref} delta_c 1[c(i) = c] post_t + x_it' gamma + alpha_i + lambda_t),

gives each cluster's shift ``delta_c`` (``delta_ref = 0``). With ``J`` control clusters, ``v_k``
the control clusters' and ``w_g`` the treated clusters' shares of the (weighted) post-period
outcome within their group, the placebo of control cluster ``j`` is its shift minus the
``v``-weighted mean shift of the other controls,

    p_j = delta_j - sum_{k != j} v_k delta_k / sum_{k != j} v_k,

and

    se^2 = (J - 1) / J^2 * (sum_g w_g^2 + sum_k v_k^2) * sum_j p_j^2,     t(J - 1) reference.

PPML weights each cluster's shift by its share of the outcome (the PPML estimate is close to
the ``w``-weighted mean of the treated shifts minus the ``v``-weighted mean of the control
shifts), so a cluster's error enters the estimate with its outcome share: ``sum w_g^2 + sum
v_k^2`` replaces the ``sum w_g^2 + 1/J`` of equal control weights (the weighting argument of
Ferman & Pinto 2019 for clusters of different size). With equal shares and exchangeable
normal cluster errors the formula is the one of :mod:`laborai.did._placebo`. The estimate
itself is the PPML coefficient of the pooled fit (unchanged); the estimand stays the PPML log
multiplier. The result reports ``vcov_type='placebo'``, ``df_resid = J - 1`` and the number of
placebo (control) clusters in ``provenance.settings['n_placebo_clusters']``.

Measured on the simulated freelancer marketplace (15,000 freelancers, 40 + 40 marketplaces,
``benchmarks/freelancer_validity.py``): size 5.0% (+-3.4) at 5%, coverage 95.0%.

References
----------
Conley, T. G. & Taber, C. R. (2011). Inference with "difference in differences" with a small
number of policy changes. *Review of Economics and Statistics* 93(1), 113-125.

Ferman, B. & Pinto, C. (2019). Inference in differences-in-differences with few treated
groups and heteroskedasticity. *Review of Economics and Statistics* 101(3), 452-467.

Examples
--------
>>> import numpy as np, pandas as pd
>>> import laborai as la
>>> rng = np.random.default_rng(0)
>>> unit = np.repeat(np.arange(120), 8)
>>> t = np.tile(np.arange(8), 120)
>>> g = unit % 12                                      # 12 clusters, 4 of them treated
>>> shock = rng.normal(0, 0.05, (12, 8))[g, t]         # cluster x period demand shocks
>>> d = ((g < 4) & (t >= 4)).astype(int)
>>> y = rng.poisson(np.exp(1.0 - 0.1 * d + shock))
>>> df = pd.DataFrame({"unit": unit, "t": t, "g": g, "d": d, "y": y})
>>> r = la.did.twfe(df, yname="y", dname="d", idname="unit", tname="t", family="poisson",
...                 cluster="g", vcov="placebo")
>>> r.vcov_type, r.df_resid, r.provenance.settings["n_placebo_clusters"]
('placebo', 7.0, 8)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from laborai.errors import EstimationError

__all__ = ["PPMLPlacebo", "ppml_placebo", "ppml_placebo_fit"]


@dataclass(frozen=True)
class PPMLPlacebo:
    """The placebo variance of a PPML DiD coefficient and what it was built from.

    Attributes
    ----------
    variance, std_error : float
        ``se^2`` of the module docstring and its square root.
    df : float
        Degrees of freedom of the t reference, ``J - 1``.
    n_control_clusters, n_treated_clusters : int
        ``J`` (the placebo clusters) and the number of treated clusters.
    control_clusters : tuple
        Codes of the placebo clusters, in order.
    shifts : numpy.ndarray
        The control clusters' post-period shifts ``delta_j`` (reference control: 0).
    placebos : numpy.ndarray
        The placebo estimates ``p_j``.
    sum_w2, sum_v2 : float
        ``sum_g w_g^2`` (treated clusters) and ``sum_k v_k^2`` (control clusters).
    """

    variance: float
    std_error: float
    df: float
    n_control_clusters: int
    n_treated_clusters: int
    control_clusters: tuple[int, ...]
    shifts: np.ndarray
    placebos: np.ndarray
    sum_w2: float
    sum_v2: float


def ppml_placebo(
    y: np.ndarray,
    fe: Sequence[np.ndarray],
    clusters: np.ndarray,
    post: np.ndarray,
    treated_clusters: Sequence[int] | np.ndarray,
    *,
    weights: np.ndarray | None = None,
    controls: np.ndarray | None = None,
    min_controls: int = 3,
    where: str = "twfe",
    backend: str = "auto",
) -> PPMLPlacebo:
    """Conley-Taber placebo variance of a PPML DiD coefficient (see the module docstring).

    Parameters
    ----------
    y : numpy.ndarray
        Non-negative outcome, one entry per row (n,).
    fe : sequence of numpy.ndarray
        Fixed-effect codes (``0 .. L-1``) of every row: unit, period and any further ones.
    clusters : numpy.ndarray
        Cluster code of every row (n,), ``0 .. G-1``.
    post : numpy.ndarray
        The treated units' 0/1 treatment path given to every row (n,): 1 in the treated
        periods.
    treated_clusters : array-like of int
        Codes of the clusters whose units are treated.
    weights : numpy.ndarray, optional
        Row weights of the PPML fit (also weight the outcome shares).
    controls : numpy.ndarray, optional
        (n, k) control regressors of the estimate, kept in the shift regression.
    min_controls : int, default 3
        Fewest placebo clusters accepted.
    where : str
        Name of the calling estimator, for messages.
    backend : {'auto', 'fast', 'pyfixest'}
        Engine of the shift regression (:func:`laborai.did._core._fit_core`): the estimate's
        own ``backend`` (``'auto'``: laborai's fast PPML path).

    Returns
    -------
    PPMLPlacebo

    Raises
    ------
    EstimationError
        Fewer than ``min_controls`` control clusters have a positive post-period outcome and an
        estimable shift, or the treated clusters have no post-period outcome.
    """
    from laborai.did._core import _fit_core

    y = np.asarray(y, dtype=float)
    cl = np.asarray(clusters)
    post = np.asarray(post, dtype=float)
    wr = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    G = int(cl.max()) + 1 if cl.size else 0
    mass = np.bincount(cl, weights=wr * y * post, minlength=G)
    present = np.bincount(cl, minlength=G) > 0
    tcl = np.unique(np.asarray(treated_clusters, dtype=np.int64))
    is_t = np.zeros(G, dtype=bool)
    is_t[tcl] = True
    ctrl = [int(c) for c in range(G) if present[c] and not is_t[c] and mass[c] > 0]
    if len(ctrl) < min_controls:
        raise EstimationError(
            f"{where}: placebo inference for family='poisson' needs at least {min_controls} "
            f"control clusters with a positive post-period outcome; found {len(ctrl)} of "
            f"{int((present & ~is_t).sum())} control clusters. Use vcov='cluster' or "
            "laborai.did.ri_test.")
    if not mass[tcl].sum() > 0:
        raise EstimationError(f"{where}: the treated clusters have no post-period outcome; "
                              "placebo inference has nothing to weight.")
    ref = ctrl[-1]
    shifted = [c for c in range(G) if present[c] and mass[c] > 0 and c != ref]
    cols: dict[str, np.ndarray] = {"_y": y}
    for i, c in enumerate(shifted):
        cols[f"_x{i}"] = (cl == c) * post
    n_ctl = 0 if controls is None else np.asarray(controls).reshape(len(y), -1).shape[1]
    if n_ctl:
        ctl = np.asarray(controls, dtype=float).reshape(len(y), -1)
        for j in range(n_ctl):
            cols[f"_x{len(shifted) + j}"] = ctl[:, j]
    for i, f in enumerate(fe):
        cols[f"_fe{i}"] = np.asarray(f)
    if weights is not None:
        cols["_w"] = wr
    frame = pd.DataFrame(cols, copy=False)
    fit = _fit_core(frame, n_x=len(shifted) + n_ctl, family="poisson", vcov="iid", alpha=0.05,
                    n_boot=0, boot_weights="rademacher", seed=None, backend=backend)
    coef = dict(zip(fit.names, fit.coef, strict=True))
    delta: dict[int, float] = {ref: 0.0}
    for i, c in enumerate(shifted):
        b = coef.get(f"_x{i}")
        if b is not None and math.isfinite(float(b)):
            delta[c] = float(b)
    ctrl = [c for c in ctrl if c in delta]
    J = len(ctrl)
    if J < min_controls:
        raise EstimationError(
            f"{where}: only {J} control cluster(s) have an estimable post-period shift; "
            f"placebo inference for family='poisson' needs at least {min_controls}.")
    v = mass[ctrl] / mass[ctrl].sum()
    w = mass[tcl] / mass[tcl].sum()
    dc = np.array([delta[c] for c in ctrl])
    plac = np.empty(J)
    for j in range(J):
        keep = np.arange(J) != j
        plac[j] = dc[j] - float(np.average(dc[keep], weights=v[keep]))
    sw2, sv2 = float(np.sum(w**2)), float(np.sum(v**2))
    var = (J - 1.0) / J**2 * (sw2 + sv2) * float(np.sum(plac**2))
    return PPMLPlacebo(variance=var, std_error=math.sqrt(var), df=float(J - 1),
                       n_control_clusters=J, n_treated_clusters=int(tcl.size),
                       control_clusters=tuple(ctrl), shifts=dc, placebos=plac,
                       sum_w2=sw2, sum_v2=sv2)


def ppml_placebo_fit(fit: Any, frame: pd.DataFrame, *, n_x: int, plan: Mapping[str, Any],
                     alpha: float, where: str, backend: str = "auto"
                     ) -> tuple[Any, PPMLPlacebo]:
    """Replace the treatment term's covariance of a pooled PPML ``fit`` by the placebo one.

    ``fit`` is the ``_Fit`` of :func:`laborai.did.twfe.twfe` on its internal ``frame``
    (``_y, _x0 .. _x{n_x-1}, _fe*, _cl0[, _w]``; ``_x0`` the treatment); ``plan`` the one of
    ``_regression_placebo_choice`` (``treated_units``: rows of treated units; ``templates``:
    the treatment by period key; ``key``: the period key of every row). The treatment term
    gets the placebo variance with no covariance with the other terms, and every term the
    ``t(J - 1)`` reference (as for OLS placebo inference).
    """
    from laborai._results import wald_table
    from laborai.did._core import PLACEBO_MIN_CONTROLS

    tmpl = plan["templates"]["_x0"]
    key = np.asarray(plan["key"])
    post = pd.Series(key).map(tmpl).fillna(0.0).to_numpy(dtype=float)
    cl = frame["_cl0"].to_numpy()
    tcl = np.unique(cl[np.asarray(plan["treated_units"], dtype=bool)])
    fes = sorted((c for c in frame.columns if c.startswith("_fe")), key=lambda c: int(c[3:]))
    ctl = frame[[f"_x{i}" for i in range(1, n_x)]].to_numpy(dtype=float) if n_x > 1 else None
    pp = ppml_placebo(frame["_y"].to_numpy(dtype=float), [frame[c].to_numpy() for c in fes],
                      cl, post, tcl,
                      weights=frame["_w"].to_numpy(dtype=float) if "_w" in frame.columns
                      else None, controls=ctl, min_controls=PLACEBO_MIN_CONTROLS, where=where,
                      backend=backend)
    V = np.array(fit.vcov, dtype=float, copy=True)
    i = fit.names.index("_x0")
    V[i, :] = 0.0
    V[:, i] = 0.0
    V[i, i] = pp.variance
    table = wald_table(fit.coef, np.sqrt(np.diag(V)), alpha=alpha, df=pp.df)
    return replace(fit, vcov=V, table=table, df_t=pp.df, boot=None), pp


def ppml_event_placebo_cov(
    y: np.ndarray,
    fe: Sequence[np.ndarray],
    clusters: np.ndarray,
    event_time: np.ndarray,
    event_times: Sequence[int] | np.ndarray,
    treated_clusters: Sequence[int] | np.ndarray,
    *,
    weights: np.ndarray | None = None,
    controls: np.ndarray | None = None,
    min_controls: int = 3,
    where: str = "event_study",
    backend: str = "auto",
) -> tuple[np.ndarray, int, int]:
    """Placebo covariance of PPML event-study coefficients (the event-time version).

    ``event_time`` (n,) is every row's event time relative to the treated units' common event
    date, binned like the estimate's (``np.clip`` to the window); ``event_times`` (K,) are the
    estimated event times (the reference excluded). One PPML fit with a shift
    ``delta_ck = 1[c(i) = c] 1[event_time_it = k]`` for every cluster but one reference control
    and every ``k`` gives each cluster's path relative to the reference event time. With
    ``v_jk`` and ``w_gk`` the control and treated clusters' shares of the outcome at event time
    ``k`` and the placebos ``p_jk`` of the module docstring (per ``k``),

        V_kl = (J - 1) / J^2 * (sum_g w_gk w_gl + sum_j v_jk v_jl) * sum_j p_jk p_jl,

    which for ``K = 1`` is the pooled formula. Returns ``(V, J, n_treated_clusters)``.

    Raises
    ------
    EstimationError
        Fewer than ``min_controls`` control clusters with a positive outcome and an estimable
        shift at every event time.
    """
    from laborai.did._core import _fit_core

    y = np.asarray(y, dtype=float)
    cl = np.asarray(clusters)
    et = np.asarray(event_time)
    ks = [int(k) for k in event_times]
    K = len(ks)
    wr = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    G = int(cl.max()) + 1 if cl.size else 0
    present = np.bincount(cl, minlength=G) > 0
    mass = np.column_stack([np.bincount(cl, weights=wr * y * (et == k), minlength=G)
                            for k in ks]) if K else np.zeros((G, 0))
    tcl = np.unique(np.asarray(treated_clusters, dtype=np.int64))
    is_t = np.zeros(G, dtype=bool)
    is_t[tcl] = True
    ok = present & (mass > 0).all(axis=1)
    ctrl = [int(c) for c in range(G) if ok[c] and not is_t[c]]
    if len(ctrl) < min_controls:
        raise EstimationError(
            f"{where}: placebo inference for family='poisson' needs at least {min_controls} "
            "control clusters with a positive outcome at every estimated event time; found "
            f"{len(ctrl)} of {int((present & ~is_t).sum())}. Use a shorter window.")
    ref = ctrl[-1]
    shifted = [c for c in range(G) if ok[c] and c != ref]
    cols: dict[str, np.ndarray] = {"_y": y}
    names: dict[tuple[int, int], str] = {}
    for c in shifted:
        in_c = cl == c
        for k in ks:
            names[(c, k)] = f"_x{len(names)}"
            cols[names[(c, k)]] = (in_c & (et == k)).astype(float)
    n_ctl = 0 if controls is None else np.asarray(controls).reshape(len(y), -1).shape[1]
    if n_ctl:
        ctl = np.asarray(controls, dtype=float).reshape(len(y), -1)
        for j in range(n_ctl):
            cols[f"_x{len(names) + j}"] = ctl[:, j]
    for i, f in enumerate(fe):
        cols[f"_fe{i}"] = np.asarray(f)
    if weights is not None:
        cols["_w"] = wr
    frame = pd.DataFrame(cols, copy=False)
    fit = _fit_core(frame, n_x=len(names) + n_ctl, family="poisson", vcov="iid", alpha=0.05,
                    n_boot=0, boot_weights="rademacher", seed=None, backend=backend)
    coef = dict(zip(fit.names, fit.coef, strict=True))
    D = np.zeros((len(ctrl), K))
    keep = np.ones(len(ctrl), dtype=bool)
    for a, c in enumerate(ctrl):
        if c == ref:
            continue
        for b_, k in enumerate(ks):
            val = coef.get(names[(c, k)])
            if val is None or not math.isfinite(float(val)):
                keep[a] = False
                break
            D[a, b_] = float(val)
    ctrl = [c for c, kk in zip(ctrl, keep, strict=True) if kk]
    D = D[keep]
    J = len(ctrl)
    if J < min_controls:
        raise EstimationError(
            f"{where}: only {J} control cluster(s) have an estimable shift at every event time; "
            f"placebo inference for family='poisson' needs at least {min_controls}.")
    v = mass[ctrl] / mass[ctrl].sum(axis=0)                       # (J, K)
    tm = mass[tcl]
    w = tm / np.where(tm.sum(axis=0) > 0, tm.sum(axis=0), 1.0)     # (n_treated, K)
    P = np.empty((J, K))
    for j in range(J):
        others = np.arange(J) != j
        P[j] = D[j] - (v[others] * D[others]).sum(axis=0) / v[others].sum(axis=0)
    scale = w.T @ w + v.T @ v                                      # (K, K)
    V = (J - 1.0) / J**2 * scale * (P.T @ P)
    return V, J, int(tcl.size)
