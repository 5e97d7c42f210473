"""Placebo (Conley-Taber-type) inference for an effect whose treatment lies in one cluster.

When a group's treatment lives in a single cluster (one category of the marketplace, under
category clusters) no cluster-robust variance can estimate its sampling error: the CRV1 scores
of the treated cluster are fitted to zero. The information about that error is in the control
clusters instead. For each control cluster ``j`` the *same* regression is run with ``j``'s
matching units as pseudo-treated (same event date, same event-time dummies, same weights) on
the never-treated units only; the spread of these placebo estimates measures the error of the
real estimate (Conley & Taber 2011). With ``J`` control clusters and ``Delta_j`` the post-minus-pre
change of cluster ``j``'s residual, the real estimate's error is ``Delta_g - mean_j Delta_j`` and
the placebo estimate of ``j`` is ``J/(J-1) (Delta_j - mean Delta)``, so under exchangeable normal
errors

    se^2 = (J^2 - 1) / J^3 * sum_j placebo_j^2,      (beta_hat - beta) / se ~ t(J - 1)

exactly (the two-step "aggregate, then t with few degrees of freedom" logic of Donald & Lang
2007). Heteroskedasticity from cells of very different size is corrected as in Ferman & Pinto
(2019) when a size variable is given: ``E[placebo_j^2]`` is modelled as ``a + b * v_j`` with
``v_j`` the cell's sampling-variance proxy (mean of ``1 / size`` over its post and pre periods),
fitted by non-negative least squares on the placebos, and each placebo is rescaled to the
treated group's ``v_g`` before the formula above.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from laborai.did.inference import _demean


def placebo_estimates(
    y: np.ndarray,
    weights: np.ndarray | None,
    fe: np.ndarray,
    regs_by_cluster: list[np.ndarray],
) -> np.ndarray:
    """Coefficients of the placebo regressions ``y ~ X_j | fe`` for every control cluster.

    ``y`` (n,) and ``fe`` (n, 2) describe the never-treated sample; ``regs_by_cluster[j]`` is
    the (n, K) design of pseudo-treated cluster ``j``. Returns a (J, K) array (NaN where a
    column is identically zero after demeaning).
    """
    return _placebo_fits(y, weights, fe, regs_by_cluster, None)[0]


def _placebo_fits(
    y: np.ndarray,
    weights: np.ndarray | None,
    fe: np.ndarray,
    regs_by_cluster: list[np.ndarray],
    inv_size: np.ndarray | None,
    combos: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Placebo coefficients and, with ``inv_size``, their sampling-variance proxies.

    With row weights ``A = W X~ (X~' W X~)^-1`` of a regression (``X~`` the design after
    the fixed effects are partialled out), the coefficient is ``A' y`` and, for row errors of
    variance proportional to ``1 / size``, its variance is proportional to
    ``v = sum_i A_ik^2 / size_i``. Returns the (J, K) estimates and the (J, K) ``v`` (None
    without ``inv_size``); with ``combos`` (M, K) the ``v`` of the combinations
    ``combos @ coef`` instead, (J, M).
    """
    yt = _demean(y, fe, weights)
    w = np.ones(y.shape[0]) if weights is None else weights
    k = regs_by_cluster[0].shape[1] if regs_by_cluster else 0
    out = np.full((len(regs_by_cluster), k), np.nan)
    m = k if combos is None else combos.shape[0]
    var = None if inv_size is None else np.full((len(regs_by_cluster), m), np.nan)
    for j, X in enumerate(regs_by_cluster):
        b, v = _fit_one(yt, _demean(X, fe, weights), w, inv_size, combos)
        out[j] = b
        if var is not None and v is not None:
            var[j] = v
    return out, var


def _fit_one(yt: np.ndarray, Xt: np.ndarray, w: np.ndarray, inv_size: np.ndarray | None,
             combos: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    if Xt.ndim == 1:
        Xt = Xt[:, None]
    b = np.full(Xt.shape[1], np.nan)
    m = Xt.shape[1] if combos is None else combos.shape[0]
    v = None if inv_size is None else np.full(m, np.nan)
    XtW = Xt.T * w
    A = XtW @ Xt
    keep = np.diag(A) > 1e-12 * max(float(np.max(np.diag(A))), 1e-300)
    if not keep.any():
        return b, v
    Ak = A[np.ix_(keep, keep)]
    b[keep] = np.linalg.lstsq(Ak, XtW[keep] @ yt, rcond=None)[0]
    if v is not None and inv_size is not None:
        rows = np.linalg.lstsq(Ak, XtW[keep], rcond=None)[0]      # (k, n) = A'
        if combos is None:
            v[keep] = (rows**2) @ inv_size
        else:
            full = np.zeros((Xt.shape[1], rows.shape[1]))
            full[keep] = rows
            v[:] = ((combos @ full) ** 2) @ inv_size
    return b, v


def two_way_residuals(y: np.ndarray, fe: np.ndarray) -> np.ndarray:
    """Residuals of ``y`` (n,) after its two-way fixed effects ``fe`` (n, 2) are partialled out."""
    return _demean(np.asarray(y, dtype=float), fe, None)


def sampling_var(X: np.ndarray, weights: np.ndarray | None, fe: np.ndarray,
                 inv_size: np.ndarray, combos: np.ndarray | None = None) -> np.ndarray:
    """Sampling-variance proxy ``sum_i A_ik^2 / size_i`` of each coefficient of ``X | fe``
    (of each row of ``combos @ coef`` with ``combos``)."""
    w = np.ones(X.shape[0]) if weights is None else weights
    _, v = _fit_one(np.zeros(X.shape[0]), _demean(X, fe, weights), w, inv_size, combos)
    assert v is not None
    return v


def _nnls_var_model(p2: np.ndarray, v: np.ndarray) -> tuple[float, float]:
    """Fit ``E[p2] = a + b v`` with a, b >= 0 (two-parameter NNLS by enumeration)."""
    cands = []
    X = np.column_stack([np.ones_like(v), v])
    coef = np.linalg.lstsq(X, p2, rcond=None)[0]
    if coef[0] >= 0 and coef[1] >= 0:
        cands.append((float(coef[0]), float(coef[1])))
    cands.append((float(np.mean(p2)), 0.0))
    if np.sum(v * v) > 0:
        cands.append((0.0, float(np.sum(v * p2) / np.sum(v * v))))
    best = min(cands, key=lambda ab: float(np.sum((p2 - ab[0] - ab[1] * v) ** 2)))
    return best


def _wnnls_var_model(p2: np.ndarray, v: np.ndarray, n_iter: int = 20) -> tuple[float, float]:
    """Fit ``E[p2] = a + b v`` (a, b >= 0) by iterated weighted least squares.

    ``p2`` are squared normal placebos, so ``Var(p2) = 2 (a + b v)^2``: each step weights the
    squares by ``1 / fit^2`` (the efficient weights of the previous fit) and solves the
    two-parameter non-negative problem by enumeration. Unweighted least squares lets the
    noisiest (largest) placebos decide the fit. With ``a = 0`` the fixed point is
    ``b = mean(p2 / v)``, the pooled variance of the standardised placebos.
    """
    a, b = _nnls_var_model(p2, v)
    for _ in range(n_iter):
        fit = a + b * v
        if not np.all(fit > 0):
            break
        w = 1.0 / fit**2
        cands = []
        X = np.column_stack([np.ones_like(v), v]) * np.sqrt(w)[:, None]
        coef = np.linalg.lstsq(X, p2 * np.sqrt(w), rcond=None)[0]
        if coef[0] >= 0 and coef[1] >= 0:
            cands.append((float(coef[0]), float(coef[1])))
        cands.append((float(np.sum(w * p2) / np.sum(w)), 0.0))
        if np.sum(w * v * v) > 0:
            cands.append((0.0, float(np.sum(w * v * p2) / np.sum(w * v * v))))
        new = min(cands, key=lambda ab: float(np.sum(w * (p2 - ab[0] - ab[1] * v) ** 2)))
        if abs(new[0] - a) + abs(new[1] - b) * float(np.max(v)) <= 1e-12 * (a + b * np.max(v)):
            a, b = new
            break
        a, b = new
    return a, b


def rescale(p: np.ndarray, v: np.ndarray | None, v_target: float | None) -> np.ndarray:
    """Rescale placebo estimates ``p`` (J,) to the sampling variance of the target (Ferman-Pinto).

    Entries that are NaN stay NaN. Without ``v`` the placebos are returned unchanged.
    """
    p = np.asarray(p, dtype=float)
    if v is None or v_target is None or not math.isfinite(v_target):
        return p.copy()
    ok = np.isfinite(p) & np.isfinite(v)
    if ok.sum() < 3:
        return p.copy()
    a, b = _nnls_var_model(p[ok] ** 2, v[ok])
    fit = a + b * v
    tgt = a + b * v_target
    out = p.copy()
    if np.all(fit[ok] > 0) and tgt > 0:
        out[ok] = p[ok] * np.sqrt(tgt / fit[ok])
    return out


def placebo_cov(P: np.ndarray, same_cluster: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Covariance of the estimates from rescaled placebo columns ``P`` (J, K).

    ``same_cluster[i, k]`` says whether the treatments of coefficients ``i`` and ``k`` lie in
    the same cluster: their errors then share the cluster's own noise, otherwise only the mean
    of the control clusters. Returns the (K, K) covariance and the per-coefficient degrees of
    freedom ``J_k - 1`` (``J_k``: placebos available for coefficient ``k``).
    """
    ok = np.isfinite(P)
    Pz = np.where(ok, P, 0.0)
    Jk = ok.sum(axis=0).astype(float)
    Jpair = ok.T.astype(float) @ ok.astype(float)
    S = Pz.T @ Pz
    with np.errstate(divide="ignore", invalid="ignore"):
        f_same = (Jpair**2 - 1.0) / Jpair**3
        f_diff = (Jpair - 1.0) / Jpair**3
    V = np.where(same_cluster, f_same, f_diff) * S
    V[Jpair < 2] = np.nan
    return V, Jk - 1.0


def pooled_scale(J: int, sum_w2: float) -> float:
    """The factor ``(J - 1) / J^2 * (sum_g w_g^2 + 1 / J)`` of :func:`pooled_placebo_cov`.

    ``sum_j p_j p_j'`` of ``J`` placebo estimates times it is the placebo covariance of an
    estimate whose treated clusters carry weights ``w_g``.
    """
    return (J - 1.0) / J**2 * (sum_w2 + 1.0 / J)


def pooled_placebo_cov(
    y: np.ndarray,
    weights: np.ndarray | None,
    fe: np.ndarray,
    clusters: np.ndarray,
    treated: np.ndarray,
    designs: list[np.ndarray],
    n_coef: int,
    *,
    inv_size: np.ndarray | None = None,
    design_full: np.ndarray | None = None,
    basis: np.ndarray | None = None,
    rescale: Sequence[bool] | None = None,
) -> tuple[np.ndarray, int, int, float]:
    """Placebo covariance of a pooled estimate whose treatment lies in few clusters.

    ``y`` (n,), ``fe`` (n, 2) and ``clusters`` (n,) describe the estimation sample;
    ``treated`` (n,) marks the rows of treated units. The placebo sample is every row of a
    cluster without a treated unit; ``designs[j]`` is the (n_placebo, K) design with control
    cluster ``j``'s units pseudo-treated at the treated units' event date (its first
    ``n_coef`` columns are the coefficients of interest; further columns are controls).

    With ``J`` control clusters, treated-cluster weights ``w_g`` (shares of the treated rows)
    and ``p_j`` the placebo estimates, the error of the real estimate is
    ``sum_g w_g e_g - mean_j e_j`` and, under exchangeable normal cluster errors,

        V = (J - 1) / J^2 * (sum_g w_g^2 + 1 / J) * sum_j p_j p_j',   t(J - 1)

    (for one treated cluster this is the per-group formula of the module docstring).

    **Cells of different size** (Ferman & Pinto 2019). With ``inv_size`` (n,), the inverse
    cell sizes, and ``design_full`` (n, K), the real design on the whole sample, each
    coefficient's sampling-variance proxy ``v`` (:func:`sampling_var`) is computed for every
    placebo (``v_j``) and for the real estimate (``v_g``). The placebo second moments are
    modelled as ``E[p_j^2] = a + b v_j`` (non-negative least squares) and each placebo is
    rescaled by ``sqrt((a + b v*) / (a + b v_j))`` with ``v* = v_g / ((J - 1) / J *
    (sum_g w_g^2 + 1 / J))``, the proxy a placebo would need for the formula above to give
    the real estimate's sampling variance. Homoskedastic cluster shocks (the ``a`` part) keep
    the exact formula; the size-driven part (``b``) is moved to the treated cells' size. With
    ``b = 0`` nothing changes. ``basis`` (n_coef, n_coef, invertible) names the
    combinations whose placebos are rescaled, each with its own size model (``ddd``: the
    low- and high-tier DiDs, whose cells differ in size); the covariance is mapped back to the
    coefficients. ``rescale`` (n_coef,) says which combinations *report* a corrected
    variance (default: all); the others keep the uncorrected Conley-Taber variance. Only for
    the ``ddd`` basis ``[[1, 0], [1, 1]]`` (``b1``, ``b1 + b3``), as under its
    ``size='auto'``: the tiers' DiDs as estimated, the triple difference ``b3`` -- their
    difference -- from the difference of the two tiers' size-corrected placebos (whose shared
    category shock cancels); the covariance of ``b1`` and ``b3`` follows from the three
    variances, with their correlation clipped to [-1, 1] when the three are inconsistent
    (then only the variance of ``b1 + b3`` moves, upwards).

    Returns ``V`` (n_coef, n_coef), ``J``, the number of treated clusters and
    ``sum_g w_g^2``.
    """
    tcl, n_rows = np.unique(clusters[treated], return_counts=True)
    ctrl = ~np.isin(clusters, tcl)
    fe_c = np.column_stack([np.unique(f, return_inverse=True)[1] for f in fe[ctrl].T])
    correct = inv_size is not None and design_full is not None
    K = designs[0].shape[1] if designs else n_coef
    T = np.eye(n_coef) if basis is None else np.asarray(basis, dtype=float)
    if T.shape != (n_coef, n_coef):
        raise ValueError(f"basis must be ({n_coef}, {n_coef}); got shape {T.shape}")
    report = np.ones(n_coef, dtype=bool) if rescale is None else np.asarray(rescale, dtype=bool)
    combos = np.zeros((n_coef, K))
    combos[:, :n_coef] = T
    P, vj = _placebo_fits(y[ctrl], None if weights is None else weights[ctrl], fe_c, designs,
                          inv_size[ctrl] if correct and inv_size is not None else None,
                          combos if correct else None)
    P = P[:, :n_coef]
    ok = np.isfinite(P).all(axis=1)
    if vj is not None:
        ok &= np.isfinite(vj).all(axis=1)
    P = P[ok]
    J = int(ok.sum())
    w = n_rows / n_rows.sum()
    w2 = float(np.sum(w**2))
    if J < 2:
        return np.full((n_coef, n_coef), np.nan), J, int(tcl.size), w2
    PT = P @ T.T
    raw = PT.copy()
    if vj is not None and design_full is not None and inv_size is not None and J >= 3:
        fe_all = np.column_stack([np.unique(f, return_inverse=True)[1] for f in fe.T])
        vg = sampling_var(design_full, weights, fe_all, inv_size, combos)
        v_star = vg / ((J - 1.0) / J * (w2 + 1.0 / J))
        vj = vj[ok]
        for k in range(n_coef):
            if not math.isfinite(float(v_star[k])):
                continue
            a, b = _wnnls_var_model(PT[:, k] ** 2, vj[:, k])
            fit = a + b * vj[:, k]
            tgt = a + b * float(v_star[k])
            if np.all(fit > 0) and tgt > 0:
                PT[:, k] = PT[:, k] * np.sqrt(tgt / fit)
    if not report.all():
        if not np.array_equal(T, [[1.0, 0.0], [1.0, 1.0]]):
            raise ValueError("rescale with uncorrected entries needs the ddd basis "
                             "[[1, 0], [1, 1]] (b1 and b1 + b3)")
        # b1 and b1 + b3 as estimated where not reported corrected; b3 = (b1 + b3) - b1
        # from the difference of the corrected placebos; their covariance follows, clipped
        # so that the correlation of b1 and b3 stays within [-1, 1] (then only the mixed
        # combination b1 + b3 moves -- upwards)
        v0 = float(np.sum((PT if report[0] else raw)[:, 0] ** 2))
        v01 = float(np.sum((PT if report[1] else raw)[:, 1] ** 2))
        v1 = float(np.sum((PT[:, 1] - PT[:, 0]) ** 2))
        c = 0.5 * (v01 - v0 - v1)
        lim = math.sqrt(v0 * v1)
        c = min(max(c, -lim), lim)
        return (pooled_scale(J, w2) * np.array([[v0, c], [c, v1]]), J, int(tcl.size), w2)
    P = PT @ np.linalg.inv(T).T
    V = pooled_scale(J, w2) * (P.T @ P)
    return V, J, int(tcl.size), w2


def size_target(v_g: np.ndarray | float, J: int, sum_w2: float) -> np.ndarray:
    """The proxy ``v* = v_g / ((J - 1) / J * (sum_g w_g^2 + 1 / J))`` a placebo would need.

    ``sum_j p_j^2`` of ``J`` placebos with ``E[p_j^2] = a + b v*`` times
    :func:`pooled_scale` is the variance ``a' + b v_g`` of the real estimate, whose sampling
    variance proxy is ``v_g`` (the rule of :func:`pooled_placebo_cov`, for any estimator whose
    placebos are computed elsewhere).
    """
    return np.asarray(v_g, dtype=float) / ((J - 1.0) / J * (sum_w2 + 1.0 / J))


def rescale_columns(P: np.ndarray, v: np.ndarray, v_target: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rescale each column of placebo estimates to the target's sampling variance (Ferman-Pinto).

    ``P`` (J, K) are placebo estimates of K coefficients, ``v`` (J, K) their sampling-variance
    proxies (:func:`sampling_var`) and ``v_target`` (K,) the proxies they are moved to
    (:func:`size_target`). For each column ``k`` the second moments are modelled as
    ``E[P_jk^2] = a_k + b_k v_jk`` (:func:`_wnnls_var_model`, over the rows where both are
    finite) and ``P_jk`` is multiplied by ``sqrt((a_k + b_k v_target_k) / (a_k + b_k v_jk))``,
    the step :func:`pooled_placebo_cov` takes. A column stays as it is with fewer than 3
    finite rows, a non-finite target or a fit that is not positive everywhere; NaN entries stay
    NaN. Returns the rescaled (J, K) placebos and the fitted ``a`` and ``b`` (K,) (NaN where a
    column was left as it is).
    """
    P = np.array(P, dtype=float, copy=True)
    v = np.asarray(v, dtype=float)
    tgt_v = np.asarray(v_target, dtype=float).reshape(-1)
    K = P.shape[1]
    a_out = np.full(K, np.nan)
    b_out = np.full(K, np.nan)
    for k in range(K):
        ok = np.isfinite(P[:, k]) & np.isfinite(v[:, k])
        if ok.sum() < 3 or not math.isfinite(float(tgt_v[k])):
            continue
        a, b = _wnnls_var_model(P[ok, k] ** 2, v[ok, k])
        fit = a + b * v[ok, k]
        tgt = a + b * float(tgt_v[k])
        if np.all(fit > 0) and tgt > 0:
            P[ok, k] = P[ok, k] * np.sqrt(tgt / fit)
            a_out[k], b_out[k] = a, b
    return P, a_out, b_out


def check_size(data: Any, size: Any, where: str) -> None:
    """Refuse a ``size=`` that is neither ``'auto'``, ``'weights'``, None nor a column of ``data``
    (:class:`~laborai.errors.OptionError`), before any fitting.

    The values themselves are checked where they are used (``laborai.did._core._inv_size``:
    missing or non-numeric values; :func:`check_size_values`: negative ones).
    """
    from laborai.errors import OptionError

    if size is None or (isinstance(size, str) and size in ("auto", "weights")):
        return
    if not isinstance(size, str) or size not in data.columns:
        raise OptionError(
            f"{where}: size must be 'auto', 'weights', None or a cell-size column of the data; "
            f"got {size!r}. Pass e.g. size='n_posts', or size=None for equal error variances.")


def check_size_values(values: np.ndarray, column: str, where: str) -> None:
    """Refuse negative cell sizes (sizes in [0, 1) count as 1, as in ``twfe``)."""
    from laborai.errors import DataValidationError

    v = np.asarray(values, dtype=float)
    neg = np.isfinite(v) & (v < 0)
    if neg.any():
        raise DataValidationError(
            f"{where}: size column {column!r} must hold cell sizes >= 0; {int(neg.sum())} "
            f"estimation row(s) are negative, e.g. {np.unique(v[neg])[:3].tolist()}.")


def did2x2_sampling_var(inv_size: np.ndarray, w: np.ndarray, treated: np.ndarray,
                        control: np.ndarray, cells: list[tuple[int, int]]) -> np.ndarray:
    """Sampling-variance proxies of 2x2 DiDs of weighted means on a balanced panel.

    The DiD of cell ``k = (t, b)`` (period indices of the comparison and its base) is
    ``sum_T w_i (y_it - y_ib) / W_T - sum_C w_i (y_it - y_ib) / W_C`` (the ATT(g,t) of
    Callaway & Sant'Anna without covariates), so with row errors of variance proportional to
    ``1 / size`` its proxy is ``sum_{i in T} (w_i / W_T)^2 (1/s_it + 1/s_ib) + sum_{i in C}
    (w_i / W_C)^2 (1/s_it + 1/s_ib)``, the :func:`sampling_var` of that estimator.
    ``inv_size`` (n, T) holds ``1 / size`` per unit and period, ``w`` (n,) the unit weights,
    ``treated``/``control`` (n,) the two groups. A cell with ``t == b`` (the reference cell of
    a universal base period, reported as 0) gets 0. Returns (K,).
    """
    inv_size = np.asarray(inv_size, dtype=float)
    w = np.asarray(w, dtype=float)
    out = np.zeros(len(cells))
    rows = np.flatnonzero(np.asarray(treated) | np.asarray(control))
    coef = np.zeros(w.shape[0])
    for mask in (np.asarray(treated, dtype=bool), np.asarray(control, dtype=bool)):
        wm = np.where(mask, w, 0.0)
        coef += (wm / wm.sum()) ** 2
    for k, (t, b) in enumerate(cells):
        if t != b:
            out[k] = float(coef[rows] @ (inv_size[rows, t] + inv_size[rows, b]))
    return out
