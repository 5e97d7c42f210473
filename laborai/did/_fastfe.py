"""Fast exact least squares with absorbed fixed effects (the fast path of ``twfe``/``event_study``).

The OLS/WLS regressions of :mod:`laborai.did.twfe` are ``y ~ X | fe_1 + ... + fe_m`` with one
or two cluster dimensions. This module solves them without pandas and without a dense
fixed-effect design, and without a dense ``n x K`` matrix of event-time dummies:

* **Demeaning** (the weighted within-transformation ``M z = z - D (D'WD)^- D'W z``):

  - ``'oneway'`` -- one fixed effect: group means (one pass);
  - ``'balanced'`` -- two fixed effects, unweighted, every (a, b) pair observed exactly once:
    the closed form ``z - mean_a - mean_b + mean`` (one pass for the sums, one for the output);
  - ``'schur'`` -- two fixed effects otherwise (unbalanced panels, weights), when the smaller
    dimension has at most :data:`SCHUR_MAX_LEVELS` levels: the normal equations of the small
    dimension's effects after eliminating the large one, ``C g = r`` with
    ``C = diag(W_b) - B' diag(1/W_a) B`` (``B`` the a x b matrix of weight sums), solved once
    by a symmetric eigendecomposition (pseudo-inverse: ``C`` is singular by the number of
    connected components). Direct and exact up to rounding: no tolerance, no iterations;
  - ``'iterative'`` -- otherwise (three or more fixed effects, two large ones): alternating
    projections over the fixed-effect coefficients (Gauss-Seidel sweeps) with Irons-Tuck
    acceleration, stopped when the largest coefficient change is below ``tol`` times the
    scale of ``z`` (default ``1e-13``); a :class:`laborai.errors.ConvergenceWarning` is issued
    when ``maxiter`` sweeps do not reach it.

* **Regression**: ``X'WX`` is formed from the demeaned columns and the *raw* columns
  (``X'W M X = (MX)'W(MX)`` because ``M`` is W-self-adjoint), so an event-time dummy's row of the
  cross-product matrix is a bincount over its event-time codes. Columns are demeaned in
  chunks of a memory budget (default 192 MB); collinear regressors are dropped in order by a
  Cholesky pivot rule like pyfixest's (``collin_tol = 1e-9``).

* **Inference** with pyfixest's (and fixest's) default small-sample conventions: iid
  (``(N-1)/(N-K)`` on ``SSR/(N-1)``), HC1 (``N/(N-K)``), CRV1 one- and two-way
  (``G/(G-1) (N-1)/(N-K)`` with ``G = min`` over the clustering dimensions, ``V1 + V2 - V12``,
  t with ``min(G) - 1`` degrees of freedom); ``K`` counts the regressors plus the fixed-effect
  levels less one per extra dimension, and for CRV1 a fixed effect nested in a cluster
  dimension counts as one parameter.

Everything here is implemented from the textbook algebra (Frisch-Waugh-Lovell; Gaure 2013 for
alternating projections; Varadhan & Roland 2008 / Berge 2018 for the Irons-Tuck acceleration).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from laborai.errors import ConvergenceWarning, EstimationError

try:  # numba is a dependency of pyfixest, hence always installed with laborai
    import numba as _nb
except ImportError:  # pragma: no cover
    _nb = None  # type: ignore[assignment]

__all__ = ["SCHUR_MAX_LEVELS", "Demeaner", "FastFit", "SparseBlock", "fast_codes", "fit_ols",
           "cluster_cross", "pairs_unique", "varying_levels"]

#: largest number of levels of the smaller fixed-effect dimension solved directly (Schur)
SCHUR_MAX_LEVELS = 3000
#: default working-memory budget for chunks of demeaned columns (bytes)
CHUNK_BYTES = 192 * 2**20


def _njit(fn):  # type: ignore[no-untyped-def]
    if _nb is None:  # pragma: no cover
        return fn
    return _nb.njit(cache=True, nogil=True)(fn)


# --------------------------------------------------------------------------------------------
# numba kernels
# --------------------------------------------------------------------------------------------


@_njit
def _sums2(x, w, a, b, La, Lb):  # type: ignore[no-untyped-def]
    sa = np.zeros(La)
    sb = np.zeros(Lb)
    if w.size == 0:
        for i in range(x.size):
            sa[a[i]] += x[i]
            sb[b[i]] += x[i]
    else:
        for i in range(x.size):
            v = w[i] * x[i]
            sa[a[i]] += v
            sb[b[i]] += v
    return sa, sb


@_njit
def _sums1(x, w, a, La):  # type: ignore[no-untyped-def]
    sa = np.zeros(La)
    if w.size == 0:
        for i in range(x.size):
            sa[a[i]] += x[i]
    else:
        for i in range(x.size):
            sa[a[i]] += w[i] * x[i]
    return sa


@_njit
def _sub2(x, a, b, ca, cb, c0, out):  # type: ignore[no-untyped-def]
    for i in range(x.size):
        out[i] = x[i] - ca[a[i]] - cb[b[i]] + c0


@_njit
def _sub1(x, a, ca, out):  # type: ignore[no-untyped-def]
    for i in range(x.size):
        out[i] = x[i] - ca[a[i]]


@_njit
def _schur_matrix(indptr, indices, data, Wa, Lb):  # type: ignore[no-untyped-def]
    """sum over rows i of B (CSR, a x b) of B_i' B_i / Wa_i (dense Lb x Lb)."""
    C = np.zeros((Lb, Lb))
    for i in range(indptr.size - 1):
        s, e = indptr[i], indptr[i + 1]
        inv = 1.0 / Wa[i]
        for p in range(s, e):
            vp = data[p] * inv
            tp = indices[p]
            for q in range(s, e):
                C[tp, indices[q]] += vp * data[q]
    return C


@_njit
def _ap_sweeps(x, w, fe, starts, Wl, tol, maxiter):  # type: ignore[no-untyped-def]
    """Alternating projections on the fixed-effect coefficients with Irons-Tuck acceleration.

    ``fe`` (n x m) holds codes offset into one coefficient vector (``starts``). Returns the
    coefficient vector, the number of sweeps and whether the tolerance was met.
    """
    n, m = fe.shape
    L = Wl.size
    c = np.zeros(L)
    scale = 1.0
    for i in range(n):
        if abs(x[i]) > scale:
            scale = abs(x[i])
    thr = tol * scale
    acc = np.zeros(L)
    hasw = w.size > 0

    def sweep(c_in, c_out):  # type: ignore[no-untyped-def]
        for k in range(L):
            c_out[k] = c_in[k]
        for d in range(m):
            s0, s1 = starts[d], starts[d + 1]
            for k in range(s0, s1):
                acc[k] = 0.0
            for i in range(n):
                r = x[i]
                for e in range(m):
                    if e != d:
                        r -= c_out[fe[i, e]]
                acc[fe[i, d]] += (w[i] * r) if hasw else r
            for k in range(s0, s1):
                c_out[k] = acc[k] / Wl[k]

    g1 = np.zeros(L)
    g2 = np.zeros(L)
    it = 0
    converged = False
    while it < maxiter:
        sweep(c, g1)
        it += 1
        diff = 0.0
        for k in range(L):
            d = abs(g1[k] - c[k])
            if d > diff:
                diff = d
        if diff <= thr:
            for k in range(L):
                c[k] = g1[k]
            converged = True
            break
        sweep(g1, g2)
        it += 1
        num = 0.0
        den = 0.0
        for k in range(L):
            dg = g2[k] - g1[k]
            d2 = g2[k] - 2.0 * g1[k] + c[k]
            num += dg * d2
            den += d2 * d2
        if den > 0.0:
            coef = num / den
            for k in range(L):
                c[k] = g2[k] - coef * (g2[k] - g1[k])
        else:
            for k in range(L):
                c[k] = g2[k]
    return c, it, converged


@_njit
def _ap_apply(x, fe, c, out):  # type: ignore[no-untyped-def]
    n, m = fe.shape
    for i in range(n):
        r = x[i]
        for e in range(m):
            r -= c[fe[i, e]]
        out[i] = r


@_njit
def _dense_codes(v, lo, span):  # type: ignore[no-untyped-def]
    """Codes 0..L-1 of integer values in [lo, lo + span) in sorted order (and L)."""
    seen = np.zeros(span, dtype=np.int64)
    for i in range(v.size):
        seen[v[i] - lo] = 1
    k = 0
    for j in range(span):
        if seen[j]:
            seen[j] = k
            k += 1
        else:
            seen[j] = -1
    out = np.empty(v.size, dtype=np.int64)
    for i in range(v.size):
        out[i] = seen[v[i] - lo]
    return out, k


@_njit
def _pairs_unique_kernel(a, b, Lb, span):  # type: ignore[no-untyped-def]
    seen = np.zeros(span, dtype=np.uint8)
    for i in range(a.size):
        k = (a[i] + 1) * Lb + b[i] + 1
        if seen[k]:
            return False
        seen[k] = 1
    return True


def pairs_unique(a: np.ndarray, b: np.ndarray, Lb: int, span: int) -> bool:
    """Whether the pairs ``(a_i, b_i)`` are all distinct (codes ``>= -1``; ``Lb`` and ``span``
    bound ``b + 1`` and ``(a + 1) * Lb + b + 1``)."""
    return bool(_pairs_unique_kernel(np.ascontiguousarray(a, dtype=np.int64),
                                     np.ascontiguousarray(b, dtype=np.int64), int(Lb),
                                     int(span)))


@_njit
def _varying_kernel(codes, v, L):  # type: ignore[no-untyped-def]
    first = np.empty(L)
    seen = np.zeros(L, dtype=np.uint8)
    vary = np.zeros(L, dtype=np.uint8)
    for i in range(codes.size):
        c = codes[i]
        if c < 0:
            continue
        x = v[i]
        if not seen[c]:
            seen[c] = 1
            first[c] = x
        elif not (x == first[c] or (x != x and first[c] != first[c])):
            vary[c] = 1
    return vary


def varying_levels(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Boolean per level of ``codes``: the float ``values`` are not constant within it
    (NaN equals NaN, as ``groupby(...).nunique(dropna=False) > 1``)."""
    c = np.ascontiguousarray(codes, dtype=np.int64)
    L = int(c.max()) + 1 if c.size else 0
    return np.asarray(_varying_kernel(c, np.ascontiguousarray(values, dtype=np.float64), L),
                      dtype=bool)


@_njit
def _block_sums(ca, cb, ck, cvw, La, Lb, K):  # type: ignore[no-untyped-def]
    """Weighted sums of the K indicator columns by level of each fixed effect."""
    SA = np.zeros((La, K))
    SB = np.zeros((Lb, K))
    for i in range(ca.size):
        SA[ca[i], ck[i]] += cvw[i]
        SB[cb[i], ck[i]] += cvw[i]
    return SA, SB


@_njit
def _block_gram(ca, cb, ck, cv, cvw, al, ga, K):  # type: ignore[no-untyped-def]
    """X' W M X for x_k = v 1[code = k] with M x_j = x_j - al[a, j] - ga[b, j]."""
    out = np.zeros((K, K))
    for i in range(ca.size):
        k = ck[i]
        a = ca[i]
        b = cb[i]
        f = cvw[i]
        for j in range(K):
            out[k, j] -= f * (al[a, j] + ga[b, j])
        out[k, k] += f * cv[i]
    return out


@_njit
def _block_scores(a, b, code, val, we, cl, G, al, ga, K):  # type: ignore[no-untyped-def]
    """Per-cluster scores sum_{i in g} w_i e_i (M x_j)_i of the K indicator columns."""
    S = np.zeros((G, K))
    for i in range(a.size):
        g = cl[i]
        f = we[i]
        if f == 0.0:
            continue
        ai = a[i]
        bi = b[i]
        for j in range(K):
            S[g, j] -= f * (al[ai, j] + ga[bi, j])
        c = code[i]
        if c >= 0:
            S[g, c] += f * val[i]
    return S


@_njit
def _cluster_cross_kernel(cl, X, A, G):  # type: ignore[no-untyped-def]
    n, k = X.shape
    c = A.shape[1]
    out = np.zeros((G, k, c))
    for i in range(n):
        h = cl[i]
        for a in range(k):
            xa = X[i, a]
            if xa != 0.0:
                for b in range(c):
                    out[h, a, b] += xa * A[i, b]
    return out


def cluster_cross(cl: np.ndarray, X: np.ndarray, A: np.ndarray, G: int) -> np.ndarray:
    """Per-cluster cross products ``X_h' A_h`` (``G x k x c``) in one pass over the rows."""
    return np.asarray(_cluster_cross_kernel(np.ascontiguousarray(cl, dtype=np.int64),
                                            np.ascontiguousarray(X, dtype=np.float64),
                                            np.asarray(A, dtype=np.float64),
                                            int(G)))


@_njit
def _minmax(v):  # type: ignore[no-untyped-def]
    lo = v[0]
    hi = v[0]
    for i in range(1, v.size):
        x = v[i]
        if x < lo:
            lo = x
        elif x > hi:
            hi = x
    return lo, hi


@_njit
def _sums_of_squares(y, yt, e, w):  # type: ignore[no-untyped-def]
    """(sum w (y - ybar_w)^2, sum w yt^2, sum w e^2) in two passes."""
    n = y.size
    sw = 0.0
    sy = 0.0
    hasw = w.size > 0
    for i in range(n):
        wi = w[i] if hasw else 1.0
        sw += wi
        sy += wi * y[i]
    ybar = sy / sw
    ssy = 0.0
    ssw = 0.0
    ssu = 0.0
    for i in range(n):
        wi = w[i] if hasw else 1.0
        d = y[i] - ybar
        ssy += wi * d * d
        ssw += wi * yt[i] * yt[i]
        ssu += wi * e[i] * e[i]
    return ssy, ssw, ssu


@_njit
def _all_present(v, span):  # type: ignore[no-untyped-def]
    seen = np.zeros(span, dtype=np.uint8)
    k = 0
    for i in range(v.size):
        if not seen[v[i]]:
            seen[v[i]] = 1
            k += 1
    return k == span


def fast_codes(values: np.ndarray) -> np.ndarray | None:
    """Sorted codes ``0..L-1`` of an integer array with a compact range, in O(n); else None.

    Equals ``pandas.factorize(values, sort=True)[0]`` for such arrays (None: use pandas).
    """
    v = np.asarray(values)
    if v.dtype.kind not in "iu" or v.size == 0:
        return None
    if v.dtype.kind == "u" and v.dtype.itemsize == 8 and int(v.max()) > 2**62:
        return None
    lo, hi = (int(z) for z in _minmax(v.astype(np.int64, copy=False)))
    span = hi - lo + 1
    if span > 4 * v.size + 1024:
        return None
    v64 = v.astype(np.int64, copy=False)
    if lo == 0 and span <= v.size and _all_present(v64, span):
        return v64  # already codes 0..L-1 with every level present
    codes, _ = _dense_codes(v64, lo, span)
    return np.asarray(codes)


# --------------------------------------------------------------------------------------------
# Demeaning
# --------------------------------------------------------------------------------------------


def _columns(a: np.ndarray | Sequence[np.ndarray] | None) -> list[np.ndarray]:
    """1-D integer columns of an ``(n, m)`` array or a sequence of 1-D arrays (no copy)."""
    if a is None:
        return []
    if isinstance(a, np.ndarray):
        if a.ndim == 1:
            return [a]
        return [a[:, j] for j in range(a.shape[1])]
    return [np.asarray(c) for c in a]


class Demeaner:
    """Weighted within-transformation on one or more fixed-effect dimensions.

    Parameters
    ----------
    fe : numpy.ndarray of int, shape (n, m)
        Codes ``0..L_j-1`` per dimension (every level present).
    weights : numpy.ndarray, optional
        Positive regression weights.
    method : {'auto', 'oneway', 'balanced', 'schur', 'iterative'}
        ``'auto'`` picks the first that applies in that order.
    tol, maxiter : float, int
        Stopping rule of ``'iterative'`` (largest coefficient change <= ``tol`` x scale).
    dense_codes : bool
        The caller guarantees codes ``0..L-1`` with every level present (skips a check that
        otherwise recodes them).
    unique_pairs : bool
        The caller guarantees that the two fixed effects' pairs are distinct (skips that check
        of the balanced closed form).
    dense_schur : bool
        ``'schur'``: hold the a x b matrix of weight sums dense and form ``C`` by one matrix
        product when it has at most ``4 n`` (and ``2**24``) cells -- faster for a short
        panel re-weighted many times (the Poisson IRLS); same ``C`` up to rounding.
    """

    def __init__(self, fe: np.ndarray | Sequence[np.ndarray], weights: np.ndarray | None = None,
                 *, method: str = "auto", tol: float = 1e-13, maxiter: int = 10_000,
                 dense_codes: bool = False, unique_pairs: bool = False,
                 dense_schur: bool = False) -> None:
        cols = _columns(fe)
        self.m = len(cols)
        self.n = int(cols[0].size) if cols else 0
        self.fe = [np.ascontiguousarray(c, dtype=np.int64) for c in cols]
        for j, c in enumerate(self.fe):  # codes must be 0..L-1 with every level present
            if not dense_codes and c.size and (int(c.min()) < 0 or
                           np.count_nonzero(np.bincount(c)) != int(c.max()) + 1):
                if int(c.min()) < 0:
                    raise EstimationError("fixed-effect codes must be non-negative.")
                self.fe[j] = np.unique(c, return_inverse=True)[1].astype(np.int64)
        self.levels = [int(c.max()) + 1 if c.size else 0 for c in self.fe]
        self.w = (np.empty(0) if weights is None
                  else np.ascontiguousarray(weights, dtype=np.float64))
        self.tol, self.maxiter = float(tol), int(maxiter)
        self.iterations = 0
        self.converged = True
        self._unique_pairs = unique_pairs
        self._dense_schur = dense_schur
        self.method = self._choose(method)
        self._setup()

    # -- choice and set-up ----------------------------------------------------------------
    def _choose(self, method: str) -> str:
        if self.m == 0:
            return "none"
        if method != "auto":
            return method
        if self.m == 1:
            return "oneway"
        if self.m == 2:
            La, Lb = self.levels
            if self.w.size == 0 and La * Lb == self.n:
                if self._unique_pairs or pairs_unique(self.fe[0] - 1, self.fe[1] - 1, Lb,
                                                      La * Lb):
                    return "balanced"
            if min(La, Lb) <= SCHUR_MAX_LEVELS:
                return "schur"
        return "iterative"

    def _wsum(self, j: int) -> np.ndarray:
        if self.w.size == 0:
            return np.bincount(self.fe[j], minlength=self.levels[j]).astype(float)
        return np.bincount(self.fe[j], weights=self.w, minlength=self.levels[j])

    def _setup(self) -> None:
        if self.method in ("none", "balanced"):  # the closed form needs no weight sums
            if self.method == "balanced" and self.m != 2:
                raise EstimationError("method='balanced' needs two fixed-effect dimensions.")
            return
        self.W = [self._wsum(j) for j in range(self.m)]
        if self.method == "schur":
            # a = the larger dimension (eliminated), b = the smaller one (solved for)
            ia, ib = (0, 1) if self.levels[0] >= self.levels[1] else (1, 0)
            self._ia, self._ib = ia, ib
            a, b = self.fe[ia], self.fe[ib]
            La, Lb = self.levels[ia], self.levels[ib]
            wv = np.ones(self.n) if self.w.size == 0 else self.w
            if self._dense_schur and La * Lb <= min(4 * self.n, 2**24):
                Bd = np.bincount(a * Lb + b, weights=wv, minlength=La * Lb).reshape(La, Lb)
                self._B = Bd
                self._BT = Bd.T
                C = np.diag(self.W[ib]) - (Bd / self.W[ia][:, None]).T @ Bd
            else:
                B = sparse.csr_matrix((wv, (a, b)), shape=(La, Lb))
                B.sum_duplicates()
                self._B = B
                self._BT = B.T.tocsr()
                C = np.diag(self.W[ib]) - _schur_matrix(B.indptr.astype(np.int64),
                                                         B.indices.astype(np.int64),
                                                         B.data.astype(np.float64),
                                                         self.W[ia], Lb)
            C = (C + C.T) / 2.0
            ev, U = np.linalg.eigh(C)
            cut = max(float(ev.max()), 0.0) * 1e-11
            inv = np.where(ev > cut, 1.0 / np.where(ev > cut, ev, 1.0), 0.0)
            self._Cp = (U * inv) @ U.T
        elif self.method == "iterative":
            starts = np.concatenate([[0], np.cumsum(self.levels)]).astype(np.int64)
            self._starts = starts
            self._feoff = np.column_stack([self.fe[j] + starts[j] for j in range(self.m)])
            self._Wl = np.concatenate(self.W)
        elif self.method == "oneway" and self.m != 1:
            raise EstimationError("method='oneway' needs one fixed-effect dimension.")

    def block_coefficients(self, SA: np.ndarray, SB: np.ndarray
                           ) -> tuple[np.ndarray, np.ndarray]:
        """Fixed-effect coefficients ``(al, ga)`` of columns given by their weighted sums by
        level of the first (``SA``) and second (``SB``) fixed effect, so that the demeaned
        column is ``x - al[fe0] - ga[fe1]`` (two-way ``'balanced'`` or ``'schur'`` only)."""
        if self.method == "balanced":
            La, Lb = self.levels
            gbar = SA.sum(axis=0) / self.n
            return SA / Lb, SB / La - gbar[None, :]
        if self.method != "schur":  # pragma: no cover - guarded by fit_ols
            raise EstimationError("block_coefficients needs a two-way direct method.")
        Sa, Sb = (SA, SB) if self._ia == 0 else (SB, SA)
        Wa = self.W[self._ia][:, None]
        r = Sb - self._BT @ (Sa / Wa)
        g = self._Cp @ r
        al = (Sa - self._B @ g) / Wa
        return (al, g) if self._ia == 0 else (g, al)

    # -- application ------------------------------------------------------------------------
    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Return ``M x`` for a vector or (column by column) an ``n x k`` array."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 2:
            out = np.empty(x.shape, order="F")
            for j in range(x.shape[1]):
                self._one(np.ascontiguousarray(x[:, j]), out[:, j])
            return out
        return self._one(np.ascontiguousarray(x), np.empty(x.shape))

    def _one(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        if self.method == "none":
            out[:] = x
        elif self.method == "oneway":
            sa = _sums1(x, self.w, self.fe[0], self.levels[0])
            _sub1(x, self.fe[0], sa / self.W[0], out)
        elif self.method == "balanced":
            La, Lb = self.levels
            sa, sb = _sums2(x, self.w, self.fe[0], self.fe[1], La, Lb)
            _sub2(x, self.fe[0], self.fe[1], sa / Lb, sb / La, float(sa.sum()) / self.n, out)
        elif self.method == "schur":
            ia, ib = self._ia, self._ib
            a, b = self.fe[ia], self.fe[ib]
            sa, sb = _sums2(x, self.w, a, b, self.levels[ia], self.levels[ib])
            Wa = self.W[ia]
            r = sb - self._BT @ (sa / Wa)
            g = self._Cp @ r
            al = (sa - self._B @ g) / Wa
            _sub2(x, a, b, al, g, 0.0, out)
        else:
            c, it, ok = _ap_sweeps(x, self.w, self._feoff, self._starts, self._Wl, self.tol,
                                   self.maxiter)
            self.iterations = max(self.iterations, int(it))
            if not ok:
                self.converged = False
                warnings.warn(
                    f"fixed-effect demeaning stopped after {it} sweeps without reaching the "
                    f"tolerance {self.tol:g} (largest coefficient change relative to the "
                    "scale of the variable); the estimates may be inexact. Check for nearly "
                    "disconnected fixed-effect groups or use backend='pyfixest'.",
                    ConvergenceWarning, stacklevel=3)
            _ap_apply(x, self._feoff, c, out)
        return out


# --------------------------------------------------------------------------------------------
# Least squares with a sparse block of indicator columns
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SparseBlock:
    """``K`` columns ``x_k = values * 1[codes == k]`` (``codes = -1``: all zero on that row)."""

    codes: np.ndarray
    values: np.ndarray
    K: int

    def column(self, k: int) -> np.ndarray:
        return np.where(self.codes == k, self.values, 0.0)


@dataclass(frozen=True)
class FastFit:
    """What :func:`fit_ols` returns (the regressors are indexed sparse block first)."""

    kept: tuple[int, ...]
    dropped: tuple[int, ...]
    coef: np.ndarray
    vcov: np.ndarray
    nobs: int
    df_t: float
    ssc: float
    n_clusters: tuple[int, ...]
    r2: float
    r2_within: float
    method: str
    iterations: int


def _collinear(XtX: np.ndarray, tol: float) -> list[int]:
    """Columns kept by an in-order Cholesky: column ``j`` is dropped when its pivot (squared
    residual norm on the kept earlier columns) is below ``tol`` (fixest's and pyfixest's rule)
    or below ``1e-11`` times its squared norm (numerically exact collinearity, whatever the
    scale of the variable)."""
    k = XtX.shape[0]
    L = np.zeros((k, k))
    kept: list[int] = []
    for j in range(k):
        v = XtX[j, j] - (L[j, kept] @ L[j, kept] if kept else 0.0)
        if v < tol or v <= 1e-11 * XtX[j, j]:
            continue
        d = math.sqrt(v)
        L[j, j] = d
        for i in range(j + 1, k):
            L[i, j] = (XtX[i, j] - (L[i, kept] @ L[j, kept] if kept else 0.0)) / d
        kept.append(j)
    return kept


@_njit
def _nested_kernel(fe, L, cl):  # type: ignore[no-untyped-def]
    first = np.full(L, -1, dtype=np.int64)
    for i in range(fe.size):
        f = fe[i]
        if first[f] < 0:
            first[f] = cl[i]
        elif first[f] != cl[i]:
            return False
    return True


def _nested(fe: np.ndarray, levels: int, cl: np.ndarray) -> bool:
    """Whether every level of the fixed effect ``fe`` lies in one cluster (O(n))."""
    return bool(_nested_kernel(fe, int(levels), np.ascontiguousarray(cl, dtype=np.int64)))


def crv1_dims(clusters: np.ndarray | Sequence[np.ndarray]
              ) -> tuple[list[np.ndarray], list[float], list[int], int]:
    """The cluster dimensions of CRV1 and their signs: one dimension, or two plus their
    intersection (``V1 + V2 - V12``); the clusters per dimension and the number given."""
    dims = [np.ascontiguousarray(c, dtype=np.int64) for c in _columns(clusters)]
    n_dims = len(dims)
    signs = [1.0]
    if n_dims == 2:
        G2 = int(dims[1].max()) + 1
        inter = np.unique(dims[0] * G2 + dims[1], return_inverse=True)[1].astype(np.int64)
        dims.append(inter)
        signs = [1.0, 1.0, -1.0]
    elif n_dims != 1:
        raise EstimationError("CRV1 needs one or two cluster dimensions.")
    return dims, signs, [int(d.max()) + 1 for d in dims], n_dims


def crv1_ssc(n: int, df_k: int, fe: Sequence[np.ndarray], levels: Sequence[int],
             dims: Sequence[np.ndarray], Gs: Sequence[int]) -> float:
    """pyfixest's CRV1 factor ``(N-1)/(N-K) G/(G-1)`` with ``G`` the fewest clusters and a
    fixed effect nested in a cluster dimension counted as one parameter in ``K = df_k``."""
    k_nested, n_nested = 0, 0
    for j in range(len(fe)):
        if any(_nested(fe[j], levels[j], d) for d in dims):
            k_nested += levels[j]
            n_nested += 1
    if n_nested:
        df_k = df_k - k_nested + n_nested
    G = min(Gs)
    return (n - 1) / (n - df_k) * G / (G - 1)


def fit_ols(
    y: np.ndarray,
    *,
    dense: np.ndarray | None,
    fe: np.ndarray | Sequence[np.ndarray],
    clusters: np.ndarray | Sequence[np.ndarray] | None,
    weights: np.ndarray | None,
    vcov: str,
    block: SparseBlock | None = None,
    collin_tol: float = 1e-9,
    chunk_bytes: int | None = None,
    method: str = "auto",
    tol: float = 1e-13,
    maxiter: int = 10_000,
    unique_pairs: bool = False,
) -> FastFit:
    """OLS/WLS of ``y`` on ``[block, dense]`` absorbing ``fe``, with iid/HC1/CRV1 inference.

    ``fe`` and ``clusters`` hold codes ``0..L-1`` with every level present (as
    ``pandas.factorize`` gives).

    ``clusters``: ``(n, 1)`` or ``(n, 2)`` integer codes (CRV1); ``vcov`` in
    ``{'iid', 'hetero', 'cluster'}``. Raises :class:`EstimationError` when every regressor is
    collinear with the fixed effects.
    """
    n = int(y.size)
    y = np.ascontiguousarray(y, dtype=np.float64)
    w = None if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
    D = Demeaner(fe, w, method=method, tol=tol, maxiter=maxiter, dense_codes=True,
                 unique_pairs=unique_pairs)
    K = 0 if block is None else int(block.K)
    p = 0 if dense is None else int(dense.shape[1])
    q = K + p
    if q == 0:
        raise EstimationError("no regressor to estimate.")
    if block is not None:
        bc = np.ascontiguousarray(block.codes, dtype=np.int64)
        bsel = bc >= 0
        bcs = bc[bsel]
        bval = np.asarray(block.values, dtype=np.float64)[bsel]
    yt = D(y)
    Xd = D(dense) if dense is not None and p else np.empty((n, 0))
    per_col = 8 * n
    if chunk_bytes is None:
        chunk_bytes = CHUNK_BYTES
    csize = max(1, int(chunk_bytes // max(per_col, 1)))
    chunks = [list(range(s, min(s + csize, K))) for s in range(0, K, csize)]

    def sparse_chunk(cols: list[int]) -> np.ndarray:
        Z = np.empty((n, len(cols)), order="F")
        for j, k in enumerate(cols):
            Z[:, j] = D(block.column(k))  # type: ignore[union-attr]
        return Z

    def cross_raw(Z: np.ndarray) -> np.ndarray:
        """[X_sparse; X_dense~]' W Z  (q x c)."""
        out = np.empty((q, Z.shape[1]))
        for j in range(Z.shape[1]):
            wz = Z[:, j] if w is None else w * Z[:, j]
            if K:
                out[:K, j] = np.bincount(bcs, weights=bval * wz[bsel], minlength=K)
            if p:
                out[K:, j] = Xd.T @ wz
        return out

    # pass 1: X'WX and X'Wy
    XtX = np.empty((q, q))
    fused = K > 0 and D.method in ("balanced", "schur") and vcov != "hetero"
    if fused:
        # the block's demeaned columns are x - al[fe0] - ga[fe1]: its cross products and
        # scores come from group sums, never from n-row columns
        ca, cb = D.fe[0][bsel], D.fe[1][bsel]
        cvw = bval if w is None else bval * w[bsel]
        SA, SB = _block_sums(ca, cb, bcs, cvw, D.levels[0], D.levels[1], K)
        bal, bga = D.block_coefficients(SA, SB)
        del SA, SB
        bal = np.ascontiguousarray(bal)
        bga = np.ascontiguousarray(bga)
        XtX[:K, :K] = _block_gram(ca, cb, bcs, bval, cvw, bal, bga, K)
    else:
        for cols in chunks:
            XtX[:, cols] = cross_raw(sparse_chunk(cols))
    if p:
        XtX[:, K:] = cross_raw(Xd)
        if fused:
            XtX[K:, :K] = XtX[:K, K:].T
    XtX = (XtX + XtX.T) / 2.0
    Xty = cross_raw(yt[:, None])[:, 0]
    kept = _collinear(XtX, collin_tol)
    if not kept:
        raise EstimationError(
            "every regressor is collinear with the fixed effects (e.g. the treatment is "
            "constant within unit or within period); nothing can be estimated.")
    dropped = [j for j in range(q) if j not in kept]
    A = XtX[np.ix_(kept, kept)]
    bread = np.linalg.inv(A)
    beta = np.linalg.solve(A, Xty[kept])
    full = np.zeros(q)
    full[kept] = beta
    # residuals: e = M (y - X b)
    r = y.copy()
    if K:
        r[bsel] -= bval * full[:K][bcs]
    if p:
        r -= np.asarray(dense, dtype=np.float64) @ full[K:]
    e = D(r)
    ssy, ssy_w, ssu = (float(z) for z in _sums_of_squares(
        y, yt, e, np.empty(0) if w is None else w))
    # degrees of freedom (pyfixest's defaults: ssc(k_adj=True, k_fixef='nonnested',
    # G_adj=True, G_df='min'))
    k = len(kept)
    m = D.m
    k_fe = int(sum(D.levels))
    k_fe_adj = k_fe - (m - 1) if m > 1 else k_fe
    kept_pos = {j: i for i, j in enumerate(kept)}
    we = e if w is None else w * e

    def kept_cols(Z: np.ndarray, cols: list[int]) -> tuple[np.ndarray, list[int]]:
        sel = [i for i, c in enumerate(cols) if c in kept_pos]
        Zk = Z if len(sel) == Z.shape[1] else Z[:, sel]
        return Zk, [kept_pos[cols[i]] for i in sel]

    all_chunks = [(c, None) for c in chunks] + ([(list(range(K, q)), Xd)] if p else [])

    def chunk_data(cols: list[int], Zd: np.ndarray | None) -> tuple[np.ndarray, list[int]]:
        Z = sparse_chunk(cols) if Zd is None else Zd
        return kept_cols(Z, cols)

    if vcov == "cluster":
        if clusters is None:
            raise EstimationError("vcov='cluster' needs cluster codes.")
        dims, signs, Gs, n_dims = crv1_dims(clusters)
        G = min(Gs)
        adj = crv1_ssc(n, k + k_fe_adj, D.fe, D.levels, dims, Gs)
        S = [np.zeros((Gd, k)) for Gd in Gs]
        if fused:
            sel_b = [j for j in range(K) if j in kept_pos]
            pos_b = [kept_pos[j] for j in sel_b]
            for d, Sd in zip(dims, S, strict=True):
                Sb_ = _block_scores(D.fe[0], D.fe[1], bc, np.asarray(block.values,  # type: ignore[union-attr]
                                                                     dtype=np.float64),
                                    np.ascontiguousarray(we), d, Sd.shape[0], bal, bga, K)
                Sd[:, pos_b] = Sb_[:, sel_b]
        for cols, Zd in (all_chunks if not fused else all_chunks[len(chunks):]):
            Z, pos = chunk_data(cols, Zd)
            for jj, pj in enumerate(pos):
                sc = we * Z[:, jj]
                for d, Sd in zip(dims, S, strict=True):
                    Sd[:, pj] = np.bincount(d, weights=sc, minlength=Sd.shape[0])
        V: np.ndarray = np.zeros((k, k))
        for s, Sd in zip(signs, S, strict=True):
            V += s * adj * (bread @ (Sd.T @ Sd) @ bread)
        ssc = adj
        df_t = float(G - 1)
        n_cl = tuple(Gs[:n_dims])
    else:
        df_k = k + k_fe_adj
        if vcov == "iid":
            ssc = (n - 1) / (n - df_k)
            V = ssc * bread * (ssu / (n - 1))
        elif vcov == "hetero":
            ssc = n / (n - df_k)
            meat = np.zeros((k, k))
            s2 = we * we
            for ia, (cols_a, Za) in enumerate(all_chunks):
                Xa, pa = chunk_data(cols_a, Za)
                Sa = Xa * s2[:, None]
                meat[np.ix_(pa, pa)] = Sa.T @ Xa
                for cols_b, Zb in all_chunks[ia + 1:]:
                    Xb, pb = chunk_data(cols_b, Zb)
                    blk = Sa.T @ Xb
                    meat[np.ix_(pa, pb)] = blk
                    meat[np.ix_(pb, pa)] = blk.T
            V = ssc * (bread @ meat @ bread)
        else:  # pragma: no cover - guarded by the callers
            raise EstimationError(f"fast path: unknown vcov {vcov!r}.")
        df_t = float(n - df_k)
        n_cl = ()
    return FastFit(kept=tuple(kept), dropped=tuple(dropped), coef=beta, vcov=V, nobs=n,
                   df_t=df_t, ssc=float(ssc), n_clusters=n_cl,
                   r2=1.0 - ssu / ssy if ssy > 0 else math.nan,
                   r2_within=1.0 - ssu / ssy_w if ssy_w > 0 else math.nan,
                   method=D.method, iterations=D.iterations)
