"""Fast Poisson pseudo-maximum likelihood (PPML) with absorbed fixed effects.

The Poisson fits of :mod:`laborai.did.twfe` (``family="poisson"``) are
``E[y | X, fe] = exp(X b + fe_1 + ... + fe_m)`` with one or two cluster dimensions. This
module fits them by iteratively re-weighted least squares (IRLS) on laborai's exact weighted
within-transformation (:class:`laborai.did._fastfe.Demeaner`: one-way group means, the
two-way Schur-complement solve, or alternating projections with Irons-Tuck acceleration),
with the weights ``w_user * mu`` of each iteration. It reproduces :func:`pyfixest.fepois`'s
conventions (pyfixest 0.60, default options):

* **Separation** (pyfixest's default ``separation_check=["fe"]``): when some outcomes are zero,
  every row of a fixed-effect level whose outcomes are all zero is dropped, level by level of
  each fixed effect separately (one pass, not iterated; the union over the fixed effects). The
  rows dropped are reported (``n_separated``); ``nobs`` counts the rows fitted.
* **IRLS**: start ``mu = (y + mean(y)) / 2``; each iteration demeans the working outcome
  ``z = eta + y / mu - 1`` and the regressors with weights ``w_user * mu``, solves the
  weighted normal equations, and updates ``eta = z - resid``, ``mu = exp(eta)``. It stops when
  the change of the (unweighted) deviance, ``|D - D_prev| / (0.1 + |D_prev|)``, is below
  ``tol`` (1e-8) or after ``maxiter`` (25) iterations (a
  :class:`laborai.errors.ConvergenceWarning` then; pyfixest stops silently).
* **Collinearity**: checked once, on the regressors demeaned in the first iteration (the
  unweighted cross-product of the demeaned columns, pyfixest's order-wise Cholesky rule with
  ``collin_tol = 1e-9``, :func:`laborai.did._fastfe._collinear`).
* **Inference** at the last iteration's weights ``W``: bread ``(X~'W X~)^-1``; scores
  ``W e X~`` (``e`` the demeaned working residual); iid ``V = c bread`` with
  ``c = (N-1)/(N-K)``; HC1 ``c = N/(N-K)``; CRV1 one- and two-way ``(N-1)/(N-K) G/(G-1)``
  with ``G`` the smallest number of clusters, ``V1 + V2 - V12``. ``K`` counts the regressors
  plus the fixed-effect levels less one per extra dimension (after separation: per extra
  dimension with more than one level), and for CRV1 a fixed effect nested in a cluster
  dimension counts as one parameter (fixest's and pyfixest's ``k_fixef="nonnested"``).

Everything is written from the algebra of IRLS for generalised linear models (McCullagh &
Nelder 1989), Correia, Guimaraes & Zylkin (2020) for PPML with high-dimensional fixed effects,
and the sandwich formulas above; the separation rule and the small-sample conventions follow
pyfixest's documented behaviour.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from laborai.did._fastfe import (
    Demeaner,
    SparseBlock,
    _collinear,
    _columns,
    _njit,
    crv1_dims,
    crv1_ssc,
    fast_codes,
)
from laborai.errors import ConvergenceWarning, EstimationError

__all__ = ["PoissonFit", "fit_poisson", "separated_rows"]


@dataclass(frozen=True)
class PoissonFit:
    """What :func:`fit_poisson` returns (the regressors are indexed sparse block first)."""

    kept: tuple[int, ...]  # regressors kept (not collinear)
    dropped: tuple[int, ...]
    coef: np.ndarray
    vcov: np.ndarray
    nobs: int  # rows fitted (after the separation drop)
    n_separated: int  # rows dropped because of separation
    rows: np.ndarray  # boolean mask of the input rows fitted
    ssc: float
    n_clusters: tuple[int, ...]  # clusters among the fitted rows
    method: str  # the demeaning method of the last iteration
    iterations: int  # IRLS iterations
    converged: bool
    deviance: float  # weighted deviance at the estimate


def _recode(c: np.ndarray) -> np.ndarray:
    codes = fast_codes(c)
    if codes is None:  # pragma: no cover - codes of a compact range always qualify
        codes = np.unique(c, return_inverse=True)[1]
    return np.ascontiguousarray(codes, dtype=np.int64)


def separated_rows(y: np.ndarray, fe: Sequence[np.ndarray]) -> np.ndarray:
    """Boolean mask of rows in a fixed-effect level whose outcomes are all zero.

    pyfixest's ``separation_check=["fe"]`` rule: each fixed effect separately (codes
    ``0..L-1``), one pass, the union of the rows flagged; nothing when no outcome is zero.
    """
    y = np.asarray(y, dtype=np.float64)
    sep = np.zeros(y.size, dtype=bool)
    pos = y > 0
    if not fe or pos.all():
        return sep
    posf = pos.astype(np.float64)
    for c in fe:
        c = np.asarray(c, dtype=np.int64)
        n_pos = np.bincount(c, weights=posf)
        sep |= (n_pos == 0.0)[c]
    return sep


@_njit
def _deviance_kernel(y, mu, w):  # type: ignore[no-untyped-def]
    s = 0.0
    hasw = w.size > 0
    for i in range(y.size):
        yi = y[i]
        t = (yi * math.log(yi / mu[i]) if yi != 0.0 else 0.0) - (yi - mu[i])
        s += w[i] * t if hasw else t
    return 2.0 * s


def _deviance(y: np.ndarray, mu: np.ndarray, w: np.ndarray | None) -> float:
    """Poisson deviance ``2 sum w (y log(y / mu) - (y - mu))`` (``0 log 0 = 0``)."""
    return float(_deviance_kernel(y, mu, np.empty(0) if w is None else w))


def fit_poisson(
    y: np.ndarray,
    *,
    dense: np.ndarray | None,
    fe: np.ndarray | Sequence[np.ndarray],
    clusters: np.ndarray | Sequence[np.ndarray] | None,
    weights: np.ndarray | None,
    vcov: str,
    block: SparseBlock | None = None,
    tol: float = 1e-8,
    maxiter: int = 25,
    collin_tol: float = 1e-9,
    separation: bool = True,
    fixef_tol: float = 1e-13,
    fixef_maxiter: int = 10_000,
) -> PoissonFit:
    """PPML of ``y`` on ``[block, dense]`` absorbing ``fe``, with iid/HC1/CRV1 inference.

    ``fe`` and ``clusters`` hold codes ``0..L-1`` with every level present. ``vcov`` in
    ``{'iid', 'hetero', 'cluster'}``; ``clusters`` ``(n, 1)`` or ``(n, 2)`` for CRV1.
    ``block`` columns are materialised (the IRLS weights change every iteration).

    Raises :class:`EstimationError` when no row is left after the separation drop or every
    regressor is collinear with the fixed effects.
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    n_in = int(y.size)
    fe_cols = [np.ascontiguousarray(c, dtype=np.int64) for c in _columns(fe)]
    cl_cols = [np.ascontiguousarray(c, dtype=np.int64) for c in _columns(clusters)]
    w_user = None if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
    if vcov not in ("iid", "hetero", "cluster"):
        raise EstimationError(f"fast Poisson path: unknown vcov {vcov!r}.")
    if vcov == "cluster" and not cl_cols:
        raise EstimationError("vcov='cluster' needs cluster codes.")
    # regressors: the sparse block first, then the dense columns
    parts = []
    if block is not None and block.K:
        B = np.zeros((n_in, int(block.K)), order="F")
        bc = np.asarray(block.codes, dtype=np.int64)
        sel = np.flatnonzero(bc >= 0)
        B[sel, bc[sel]] = np.asarray(block.values, dtype=np.float64)[sel]
        parts.append(B)
    if dense is not None and np.asarray(dense).shape[1]:
        parts.append(np.asarray(dense, dtype=np.float64))
    if not parts:
        raise EstimationError("no regressor to estimate.")
    X = parts[0] if len(parts) == 1 else np.hstack(parts)
    q = X.shape[1]

    # -- separation ------------------------------------------------------------------------
    sep = separated_rows(y, fe_cols) if separation else np.zeros(n_in, dtype=bool)
    n_sep = int(sep.sum())
    rows = ~sep
    if n_sep:
        if n_sep == n_in:
            raise EstimationError(
                "every row is separated (each fixed-effect level has only zero outcomes); "
                "nothing can be estimated.")
        y = y[rows]
        X = np.asfortranarray(X[rows])
        fe_cols = [_recode(c[rows]) for c in fe_cols]
        cl_cols = [_recode(c[rows]) for c in cl_cols]
        if w_user is not None:
            w_user = w_user[rows]
    n = int(y.size)
    X = np.asfortranarray(X)

    # -- IRLS ------------------------------------------------------------------------------
    mu = (y + y.mean()) / 2.0
    eta = np.log(mu)
    last = _deviance(y, mu, None)
    kept: list[int] = list(range(q))
    stop = False
    it = 0
    D: Demeaner | None = None
    Xr = zr = delta = wc = XWX = None
    for it in range(1, maxiter + 1):
        z = eta + y / mu - 1.0
        wc = mu if w_user is None else w_user * mu
        D = Demeaner(fe_cols, wc, tol=fixef_tol, maxiter=fixef_maxiter, dense_codes=True,
                     dense_schur=True)
        zr = D(z)
        if it == 1:
            Xr = D(X)
            kept = _collinear(Xr.T @ Xr, collin_tol)
            if not kept:
                raise EstimationError(
                    "every regressor is collinear with the fixed effects (e.g. the treatment "
                    "is constant within unit or within period); nothing can be estimated.")
            if len(kept) < q:
                X = np.asfortranarray(X[:, kept])
                Xr = np.asfortranarray(Xr[:, kept])
        else:
            Xr = D(X)
        WXr = Xr * wc[:, None]
        XWX = WXr.T @ Xr
        XWX = (XWX + XWX.T) / 2.0
        delta = np.linalg.solve(XWX, WXr.T @ zr)
        resid = zr - Xr @ delta
        eta = z - resid
        mu = np.exp(eta)
        dev = _deviance(y, mu, None)
        crit = abs(dev - last) / (0.1 + abs(last))
        last = dev
        if crit < tol:
            stop = True
            break
    if not stop:
        warnings.warn(
            f"Poisson IRLS stopped after {maxiter} iterations without the deviance change "
            f"reaching {tol:g}; the estimates may be inexact.", ConvergenceWarning,
            stacklevel=3)
    assert D is not None and Xr is not None and wc is not None and XWX is not None
    k = len(kept)
    bread = np.linalg.inv(XWX)
    # working residual at the last iteration's weights (pyfixest's u_hat / sqrt(W))
    e = resid
    we = wc * e  # score weight: scores_i = W_i e_i X~_i

    # -- degrees of freedom (pyfixest's ssc(k_adj=True, k_fixef='nonnested', G_adj=True,
    # G_df='min')) -------------------------------------------------------------------------
    m = len(fe_cols)
    levels = [int(c.max()) + 1 for c in fe_cols]
    k_fe = int(sum(levels))
    n_fe = m if not n_sep else int(sum(L > 1 for L in levels))
    k_fe_adj = k_fe - (n_fe - 1) if n_fe > 1 else k_fe
    base_k = k if n_fe == 0 else k + k_fe_adj
    n_cl: tuple[int, ...] = ()
    if vcov == "cluster":
        dims, signs, Gs, n_dims = crv1_dims(cl_cols)
        # no nesting adjustment when no fixed effect has more than one level left
        adj = crv1_ssc(n, base_k, fe_cols if n_fe else [], levels, dims, Gs)
        V = np.zeros((k, k))
        sc = Xr * we[:, None]
        for s, d, Gd in zip(signs, dims, Gs, strict=True):
            S = np.empty((Gd, k))
            for j in range(k):
                S[:, j] = np.bincount(d, weights=sc[:, j], minlength=Gd)
            V += s * adj * (bread @ (S.T @ S) @ bread)
        ssc = adj
        n_cl = tuple(Gs[:n_dims])
    elif vcov == "iid":
        ssc = (n - 1) / (n - base_k)
        V = ssc * bread
    else:
        ssc = n / (n - base_k)
        sc = Xr * we[:, None]
        V = ssc * (bread @ (sc.T @ sc) @ bread)
    dropped = tuple(j for j in range(q) if j not in set(kept))
    return PoissonFit(kept=tuple(kept), dropped=dropped, coef=np.asarray(delta, dtype=float),
                      vcov=V, nobs=n, n_separated=n_sep, rows=rows, ssc=float(ssc),
                      n_clusters=n_cl, method=D.method, iterations=int(it),
                      converged=stop, deviance=_deviance(y, mu, w_user))
