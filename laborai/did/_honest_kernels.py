"""Numerical kernels of the Rambachan & Roth (2023) sensitivity analysis (pure NumPy / SciPy).

Notation (Rambachan & Roth 2023, Section 2): the event-study coefficients are ordered
``beta = (beta_pre, beta_post)`` with ``T_pre`` pre-periods ``t = -T_pre, ..., -1`` and ``T_post``
post-periods ``t = 1, ..., T_post`` relative to the reference period ``t = 0`` (whose coefficient is
normalised to zero and is not part of ``beta``). ``beta = delta + (0, tau_post)`` where ``delta`` is
the difference in trends and ``theta = l' tau_post`` is the target parameter.

Two families of restrictions on ``delta`` are implemented:

* smoothness ``Delta^SD(M)``: every second difference of ``delta`` (including the reference period)
  is at most ``M`` in absolute value; inference by the optimal fixed-length confidence interval
  (FLCI) of Armstrong & Kolesar (2018, 2020);
* relative magnitudes ``Delta^RM(Mbar)``: every post-period first difference is at most ``Mbar``
  times the largest pre-period first difference; a finite union of polyhedra
  ``Delta^RM_{s,+/-}``, each handled by the conditional / conditional-least-favourable (hybrid)
  moment-inequality test of Andrews, Roth & Pakes (2023), inverted over a grid of ``theta``.

The moment-inequality test needs the value of the linear programme
``eta(y) = min_{eta, nu} eta  s.t.  y - X nu <= eta * sd`` and its optimal dual vertex. The dual
feasible set ``{gamma >= 0, X' gamma = 0, sd' gamma = 1}`` does not depend on ``y`` (nor on the
tested ``theta``), so its vertices are enumerated once; ``eta(y) = max_gamma gamma' y`` is then a
matrix product, exact and vectorised over the ``theta`` grid and over simulation draws, and the
truncation points of the conditional test (ARP 2023, Section 5) follow in closed form from the
vertex list.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy import optimize, stats
from scipy.special import ndtr

from laborai.errors import EstimationError

__all__ = [
    "ArpSet",
    "arp_accept",
    "FLCIFrontier",
    "flci",
    "flci_frontier",
    "folded_normal_cv",
    "folded_normal_cvs",
    "invert_test",
    "prepare_arp_set",
    "rm_constraints",
]

#: Largest number of candidate dual bases enumerated before giving up.
MAX_BASES = 500_000


# --------------------------------------------------------------------------------------------
# Folded normal critical value
# --------------------------------------------------------------------------------------------
def folded_normal_cv(t: float, alpha: float) -> float:
    """Return the ``1 - alpha`` quantile of ``|N(t, 1)|`` (``cv_alpha(t)`` in Armstrong & Kolesar).

    Solves ``Phi(c - t) - Phi(-c - t) = 1 - alpha`` for ``c >= 0`` by Brent's method.
    """
    t = abs(float(t))
    target = 1.0 - alpha

    def g(c: float) -> float:
        return float(ndtr(c - t) - ndtr(-c - t)) - target

    hi = t + float(stats.norm.ppf(1.0 - alpha / 2.0)) + 1.0
    return float(optimize.brentq(g, 0.0, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps,
                                 maxiter=500))


# --------------------------------------------------------------------------------------------
# Smoothness restriction and the FLCI
# --------------------------------------------------------------------------------------------
def _sd_bias_matrix(n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
    """Matrices for the worst-case bias over ``Delta^SD(1)``.

    Returns ``(G, t)`` where ``t`` holds the relative periods of ``delta`` (pre then post) and
    ``G`` (``(n - 1) x n``) is such that, for weights ``c`` with ``c' t = 0``,
    ``sup_{delta in Delta^SD(1)} c' delta = ||G c||_1``. Without ``c' t = 0`` the bias is
    unbounded because ``Delta^SD(M)`` contains every linear trend through the reference period.
    """
    n = n_pre + n_post
    periods = np.concatenate([np.arange(-n_pre, 0), np.arange(1, n_post + 1)]).astype(float)
    full = np.arange(-n_pre, n_post + 1)  # with the reference period 0
    col = {int(p): j for j, p in enumerate(periods.astype(int))}
    rows = []
    for centre in full[1:-1]:
        r = np.zeros(n)
        for p, w in ((centre - 1, 1.0), (centre, -2.0), (centre + 1, 1.0)):
            if p != 0:
                r[col[int(p)]] += w
        rows.append(r)
    # last row pins the free linear trend: delta at the first period
    pin = np.zeros(n)
    pin[0] = 1.0
    system = np.vstack([*rows, pin]) if rows else pin[None, :]
    inv = np.linalg.inv(system)  # delta = inv @ (second differences, pinned value)
    g = inv[:, : n - 1].T
    return g, periods


@dataclass(frozen=True)
class FLCIResult:
    """Optimal FLCI: centre ``c' betahat``, half-length, weights ``c``, worst-case bias and sd."""

    estimate: float
    half_length: float
    weights: np.ndarray
    max_bias: float
    sd: float

    @property
    def conf_low(self) -> float:
        return self.estimate - self.half_length

    @property
    def conf_high(self) -> float:
        return self.estimate + self.half_length


class _FLCIProblem:
    """Affine estimators ``c' betahat`` with ``c = (w, l)``, ``w`` restricted to ``c' t = 0``."""

    def __init__(self, sigma: np.ndarray, n_pre: int, n_post: int, l_vec: np.ndarray) -> None:
        self.sigma = sigma
        self.g, periods = _sd_bias_matrix(n_pre, n_post)
        t_pre = periods[:n_pre]
        t_post = periods[n_pre:]
        # particular solution of t_pre' w = -t_post' l and a basis of its null space
        rhs = -float(t_post @ l_vec)
        w0 = t_pre * rhs / float(t_pre @ t_pre)
        _, _, vt = np.linalg.svd(t_pre[None, :])
        self.null = vt[1:].T  # n_pre x (n_pre - 1)
        self.c0 = np.concatenate([w0, l_vec])
        self.cmat = np.vstack([self.null, np.zeros((n_post, self.null.shape[1]))])
        self.k = self.null.shape[1]
        # scale for numerical conditioning
        self.scale = float(np.sqrt(np.mean(np.diag(sigma))))

    def weights(self, z: np.ndarray) -> np.ndarray:
        return self.c0 + self.cmat @ z

    def var(self, z: np.ndarray) -> float:
        c = self.weights(z)
        return float(c @ self.sigma @ c)

    def bias(self, z: np.ndarray) -> float:
        return float(np.abs(self.g @ self.weights(z)).sum())

    def min_variance(self) -> np.ndarray:
        if self.k == 0:
            return np.zeros(0)
        a = self.cmat.T @ self.sigma @ self.cmat
        b = self.cmat.T @ self.sigma @ self.c0
        return np.asarray(-np.linalg.solve(a, b))

    def min_bias(self) -> np.ndarray:
        """Weights with the smallest worst-case bias (linear programme in ``(z, u)``)."""
        if self.k == 0:
            return np.zeros(0)
        gc = self.g @ self.cmat
        g0 = self.g @ self.c0
        nr = gc.shape[0]
        cost = np.concatenate([np.zeros(self.k), np.ones(nr)])
        a_ub = np.vstack([np.hstack([gc, -np.eye(nr)]), np.hstack([-gc, -np.eye(nr)])])
        b_ub = np.concatenate([-g0, g0])
        res = optimize.linprog(cost, A_ub=a_ub, b_ub=b_ub,
                               bounds=[(None, None)] * self.k + [(0, None)] * nr,
                               method="highs")
        if res.status != 0:  # pragma: no cover - the LP is always feasible and bounded
            raise EstimationError(f"FLCI: minimum-bias linear programme failed ({res.message}).")
        return np.asarray(res.x[: self.k])

    def min_bias_given_sd(self, h: float, z_start: np.ndarray) -> np.ndarray:
        """Minimise the worst-case bias subject to ``sd <= h`` (SLSQP on an epigraph form)."""
        if self.k == 0:
            return np.zeros(0)
        gc = self.g @ self.cmat
        g0 = self.g @ self.c0
        nr = gc.shape[0]
        k = self.k
        h2 = h * h
        sc = self.cmat.T @ self.sigma @ self.cmat
        sb = self.cmat.T @ self.sigma @ self.c0

        def obj(x: np.ndarray) -> float:
            return float(x[k:].sum())

        def obj_jac(x: np.ndarray) -> np.ndarray:
            return np.concatenate([np.zeros(k), np.ones(nr)])

        def lin(x: np.ndarray) -> np.ndarray:
            r = gc @ x[:k] + g0
            return np.concatenate([x[k:] - r, x[k:] + r])

        lin_jac = np.vstack([np.hstack([-gc, np.eye(nr)]), np.hstack([gc, np.eye(nr)])])

        def quad(x: np.ndarray) -> np.ndarray:
            return np.array([1.0 - self.var(x[:k]) / h2])

        def quad_jac(x: np.ndarray) -> np.ndarray:
            grad = 2.0 * (sc @ x[:k] + sb) / h2
            return np.concatenate([-grad, np.zeros(nr)])[None, :]

        x0 = np.concatenate([z_start, np.abs(gc @ z_start + g0) + 1e-12])
        res = optimize.minimize(
            obj, x0, jac=obj_jac, method="SLSQP",
            constraints=[{"type": "ineq", "fun": lin, "jac": lambda x: lin_jac},
                         {"type": "ineq", "fun": quad, "jac": quad_jac}],
            options={"ftol": 1e-14, "maxiter": 1000},
        )
        z = np.asarray(res.x[:k])
        if self.var(z) > h2 * (1 + 1e-6):  # infeasible answer: keep the feasible start
            return z_start
        return z


def _flci_slsqp(prob: _FLCIProblem, betahat: np.ndarray, m: float, alpha: float) -> FLCIResult:
    """The FLCI by a bounded Brent search over ``sd`` with one SLSQP solve per step.

    The generic method (used before the exact frontier of :func:`flci_frontier`, and kept as
    its fallback): ``h -> min {b(w): sd(w) <= h}`` solved numerically for each ``h`` between
    the minimum-variance and the minimum-bias estimators.
    """
    z_var = prob.min_variance()
    h_min = math.sqrt(prob.var(z_var))

    def result(z: np.ndarray) -> FLCIResult:
        return _flci_result(prob, betahat, z, m, alpha)

    if m == 0.0 or prob.k == 0:
        return result(z_var)
    z_bias = prob.min_bias()
    h_max = max(math.sqrt(prob.var(z_bias)), h_min)
    if h_max <= h_min * (1 + 1e-12):
        return result(z_var)

    cache: dict[float, np.ndarray] = {}

    def half_length(h: float) -> float:
        z = prob.min_bias_given_sd(h, z_var)
        cache[h] = z
        b = m * prob.bias(z)
        return h * folded_normal_cv(b / h, alpha)

    optimize.minimize_scalar(half_length, bounds=(h_min, h_max), method="bounded",
                             options={"xatol": 1e-10 * h_max, "maxiter": 500})
    # every evaluated frontier point is a valid affine estimator: keep the shortest interval
    candidates = [result(z) for z in cache.values()]
    candidates += [result(z_var), result(z_bias)]
    return min(candidates, key=lambda r: r.half_length)


def _flci_result(prob: _FLCIProblem, betahat: np.ndarray, z: np.ndarray, m: float,
                 alpha: float) -> FLCIResult:
    c = prob.weights(z)
    sd = math.sqrt(prob.var(z))
    b = m * prob.bias(z)
    half = sd * folded_normal_cv(b / sd, alpha) if sd > 0 else b
    return FLCIResult(float(c @ betahat), float(half), c, float(b), float(sd))


@dataclass(frozen=True)
class FLCIFrontier:
    """The variance-bias frontier of the affine estimators, exactly, as a piecewise-linear path.

    For ``mu >= 0`` let ``z(mu)`` minimise ``var(z) / 2 + mu * b(z)`` (``b``: worst-case bias
    over ``Delta^SD(1)``, an l1 norm of an affine function of ``z``). ``z(mu)`` is continuous
    and piecewise linear in ``mu`` (a generalised-lasso path): on segment ``j``,
    ``z(mu) = z[j] + (mu - mu[j]) * slope[j]`` for ``mu[j] <= mu <= mu[j + 1]``, the last
    segment running to infinity (there ``z`` is the minimum-bias estimator with the smallest
    variance, so ``slope[-1]`` is zero up to rounding). ``z[0]`` is the minimum-variance
    estimator. Every Pareto-optimal ``(sd, bias)`` pair is on the path, and it does not depend
    on ``M``, ``alpha`` or ``betahat``.
    """

    mu: np.ndarray
    z: np.ndarray
    slope: np.ndarray

    def at(self, mu: float) -> np.ndarray:
        """``z(mu)``."""
        j = int(np.searchsorted(self.mu, mu, side="right")) - 1
        j = min(max(j, 0), self.mu.shape[0] - 1)
        return np.asarray(self.z[j] + (mu - self.mu[j]) * self.slope[j])


def _frontier_path(prob: _FLCIProblem) -> FLCIFrontier | None:
    """Homotopy in ``mu`` for ``min_z z'Az / 2 + bb'z + mu * ||Gc z + g0||_1``.

    Optimality: ``A z + bb + Gc' lam = 0`` with ``lam_i = mu * sign(r_i)`` where
    ``r_i = (Gc z + g0)_i != 0`` and ``|lam_i| <= mu`` where ``r_i = 0`` (the set ``E``). With
    ``E`` and the signs fixed, ``(z, lam_E)`` solve a linear system whose right-hand side is
    affine in ``mu``; a segment ends when a non-zero ``r_i`` reaches zero (``i`` joins ``E``)
    or a multiplier reaches ``|lam_i| = mu`` (``i`` leaves ``E``). Returns None when the path
    meets a degenerate step (singular system, too many steps, an unbounded last segment); the
    caller then falls back to the generic solver.
    """
    k = prob.k
    a = prob.cmat.T @ prob.sigma @ prob.cmat
    bb = prob.cmat.T @ prob.sigma @ prob.c0
    gc_all = prob.g @ prob.cmat
    g0_all = prob.g @ prob.c0
    norms = np.abs(gc_all).max(axis=1)
    live = norms > 1e-12 * max(float(norms.max()), 1e-300)
    gc, g0 = gc_all[live], g0_all[live]  # rows that do not depend on z add a constant bias
    nr = gc.shape[0]
    scale_r = float(np.abs(g0).max() + np.abs(gc).max()) or 1.0

    z = np.linalg.solve(a, -bb)
    r = gc @ z + g0
    in_e = np.abs(r) <= 1e-13 * scale_r
    sgn = np.where(r > 0, 1.0, -1.0)
    lam = np.zeros(nr)  # multipliers of the rows in E (lam = 0 at mu = 0)
    mu = 0.0
    mus, zs, slopes = [0.0], [z], []
    changed = -1
    flipped = False
    for _ in range(8 * nr + 16):
        ei = np.flatnonzero(in_e)
        ni = np.flatnonzero(~in_e)
        ne = ei.size
        if ne > k:
            return None
        kkt = np.zeros((k + ne, k + ne))
        kkt[:k, :k] = a
        kkt[:k, k:] = gc[ei].T
        kkt[k:, :k] = gc[ei]
        slope_rhs = np.concatenate([-gc[ni].T @ sgn[ni], np.zeros(ne)])
        level_rhs = np.concatenate([-bb - mu * (gc[ni].T @ sgn[ni]), -g0[ei]])
        try:
            sol = np.linalg.solve(kkt, np.column_stack([slope_rhs, level_rhs]))
        except np.linalg.LinAlgError:
            return None
        if not np.isfinite(sol).all():
            return None
        zq, lq = sol[:k, 0], sol[k:, 0]
        if changed >= 0 and in_e[changed] and not flipped:
            # a row that just reached zero stays there only if its multiplier moves inside
            # [-mu, mu]; otherwise it crosses zero and changes sign
            if sgn[changed] * lq[int(np.searchsorted(ei, changed))] > 1.0 + 1e-9:
                in_e[changed] = False
                sgn[changed] = -sgn[changed]
                flipped = True
                continue
        flipped = False
        z, lam_e = sol[:k, 1], sol[k:, 1]
        zs[-1] = z  # the same point, re-solved on the new active set (removes drift)
        lam[:] = 0.0
        lam[ei] = lam_e
        # events: a non-zero row reaching zero, a multiplier reaching +-mu
        steps = np.full(nr, np.inf)
        r_n = gc[ni] @ z + g0[ni]
        d_n = gc[ni] @ zq
        toward = sgn[ni] * d_n < 0
        steps[ni[toward]] = np.maximum(-r_n[toward] / d_n[toward], 0.0)
        up = lq > 1.0
        steps[ei[up]] = np.maximum((mu - lam_e[up]) / (lq[up] - 1.0), 0.0)
        dn = lq < -1.0
        steps[ei[dn]] = np.minimum(steps[ei[dn]],
                                   np.maximum((mu + lam_e[dn]) / (-lq[dn] - 1.0), 0.0))
        if changed >= 0 and steps[changed] <= 1e-9 * mu:
            steps[changed] = np.inf  # the event just handled, seen again through rounding
        i = int(np.argmin(steps))
        step = float(steps[i])
        if not math.isfinite(step):
            slopes.append(zq)
            if np.abs(zq).max() > 1e-8 * max(float(np.abs(z).max()), 1.0) / max(mu, 1e-300):
                return None  # the bias would decrease for ever: not a valid end
            return FLCIFrontier(mu=np.asarray(mus), z=np.vstack(zs),
                                slope=np.vstack([*slopes[:-1], np.zeros(k)]))
        slopes.append(zq)
        mu += step
        z = z + step * zq
        if in_e[i]:
            in_e[i] = False
            sgn[i] = 1.0 if lam[i] + step * lq[np.searchsorted(ei, i)] > 0 else -1.0
        else:
            in_e[i] = True
        changed = i
        mus.append(mu)
        zs.append(z)
    return None


_FRONTIER_CACHE: dict[bytes, tuple[_FLCIProblem, FLCIFrontier | None]] = {}


def flci_frontier(sigma: np.ndarray, n_pre: int, n_post: int,
                  l_vec: np.ndarray) -> tuple[_FLCIProblem, FLCIFrontier | None]:
    """The affine-estimator problem and its exact variance-bias frontier; cached.

    The frontier depends on ``sigma``, the period counts and ``l_vec`` only, so one path
    serves every ``M`` of a grid and every step of ``breakdown()``. The path's end is checked
    against the minimum-bias linear programme; None (use the generic solver) when they differ.
    """
    key = b"".join([np.ascontiguousarray(sigma, dtype=float).tobytes(),
                    np.ascontiguousarray(l_vec, dtype=float).tobytes(),
                    np.asarray([n_pre, n_post], dtype=np.int64).tobytes()])
    hit = _FRONTIER_CACHE.get(key)
    if hit is not None:
        return hit
    prob = _FLCIProblem(np.array(sigma, dtype=float), n_pre, n_post,
                        np.array(l_vec, dtype=float))
    path = _frontier_path(prob) if prob.k > 0 else None
    if path is not None:
        lp = prob.bias(prob.min_bias())
        end = prob.bias(path.z[-1])
        if not end <= lp + 1e-9 * max(lp, prob.bias(path.z[0]), 1e-300):
            path = None
    for arr in (() if path is None else (path.mu, path.z, path.slope)):
        arr.setflags(write=False)
    if len(_FRONTIER_CACHE) > 64:
        _FRONTIER_CACHE.clear()
    _FRONTIER_CACHE[key] = (prob, path)
    return prob, path


_SQRT2 = math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)


def folded_normal_cvs(t: np.ndarray, alpha: float) -> np.ndarray:
    """:func:`folded_normal_cv` for an array of ``t`` at once (vectorised Newton iteration).

    Solves ``Q(c - t) + Q(c + t) = alpha`` (``Q`` the normal upper tail) from
    ``c = |t| + z_{1-alpha}``, where the left side is convex and decreasing in ``c``, so
    Newton's steps increase monotonically to the root; stopped at machine precision.
    """
    t = np.abs(np.asarray(t, dtype=float))
    if not 0.0 < alpha < 0.5:
        return np.array([folded_normal_cv(float(x), alpha) for x in t.reshape(-1)],
                        dtype=float).reshape(t.shape)
    c = t + float(stats.norm.isf(alpha))
    for _ in range(100):
        f = ndtr(t - c) + ndtr(-c - t) - alpha
        fp = -(np.exp(-0.5 * (c - t) ** 2) + np.exp(-0.5 * (c + t) ** 2)) * _INV_SQRT2PI
        step = -f / fp
        c = c + np.maximum(step, 0.0)
        if np.all(np.abs(step) <= 4e-16 * np.maximum(c, 1.0)):
            break
    return np.asarray(c)


def _cv_scalar(t: float, alpha: float, c: float) -> float:
    """Scalar version of :func:`folded_normal_cvs` (``c``: a start at or below the root)."""
    for _ in range(100):
        f = 0.5 * (math.erfc((c - t) / _SQRT2) + math.erfc((c + t) / _SQRT2)) - alpha
        fp = -(math.exp(-0.5 * (c - t) ** 2) + math.exp(-0.5 * (c + t) ** 2)) * _INV_SQRT2PI
        step = -f / fp
        if step > 0:
            c += step
        if abs(step) <= 4e-16 * max(c, 1.0):
            break
    return c


def flci(
    betahat: np.ndarray,
    sigma: np.ndarray,
    n_pre: int,
    n_post: int,
    l_vec: np.ndarray,
    m: float,
    alpha: float,
) -> FLCIResult:
    """Optimal fixed-length confidence interval for ``theta = l' tau_post`` under ``Delta^SD(m)``.

    Among affine estimators ``c' betahat`` with ``c = (w, l)`` (unbiased for linear trends, the
    only ones with finite worst-case bias), choose ``w`` to minimise the FLCI half-length
    ``sd(w) * cv_alpha(m * b(w) / sd(w))``, where ``b(w)`` is the worst-case bias over
    ``Delta^SD(1)``. As in Armstrong & Kolesar (2018) the optimum lies on the variance-bias
    frontier. The frontier is computed exactly, once per ``(sigma, l_vec)``, as the
    piecewise-linear path ``mu -> z(mu)`` of :class:`FLCIFrontier`; along it the half-length
    is quasi-convex in ``mu`` and its derivative has the sign of
    ``F(mu) = mu * (cv(t) - t * cv'(t)) - m * sd * cv'(t)`` (``t = m * b / sd``,
    ``cv'(t) = tanh(t * cv(t))``, using ``d var = -2 mu d b`` on the path). ``F`` is evaluated
    at the path's knots at once, and its root in the bracketing segment is found by Brent's
    method to machine precision. When the path cannot be built (a degenerate problem) the
    generic solver is used: a bounded Brent search over ``sd`` with an SLSQP solve of
    ``min {b(w): sd(w) <= h}`` per step.
    """
    prob, path = flci_frontier(sigma, n_pre, n_post, l_vec)
    betahat = np.asarray(betahat, dtype=float)
    if m == 0.0 or prob.k == 0:
        return _flci_result(prob, betahat, prob.min_variance(), m, alpha)
    if path is None:
        return _flci_slsqp(prob, betahat, m, alpha)
    cs = prob.c0[:, None] + prob.cmat @ path.z.T  # weights at the knots (columns)
    sd = np.sqrt(np.einsum("ij,ij->j", cs, prob.sigma @ cs))
    bias = m * np.abs(prob.g @ cs).sum(axis=0)
    t = bias / sd
    cv = folded_normal_cvs(t, alpha)
    slope = np.tanh(cv * t)
    f = path.mu * (cv - t * slope) - sd * slope * m
    pos = np.flatnonzero(f >= 0.0)
    if pos.size == 0:  # still decreasing at the last knot: the minimum-bias end is optimal
        return _flci_result(prob, betahat, path.z[-1], m, alpha)
    j = int(pos[0])
    if j == 0 or f[j] == 0.0:
        return _flci_result(prob, betahat, path.z[j], m, alpha)
    z0, dz, mu0 = path.z[j - 1], path.slope[j - 1], float(path.mu[j - 1])
    c0, dc = prob.c0 + prob.cmat @ z0, prob.cmat @ dz
    sc0, sdc = prob.sigma @ c0, prob.sigma @ dc
    v0, v1, v2 = float(c0 @ sc0), float(2.0 * (dc @ sc0)), float(dc @ sdc)
    g_c0, g_dc = prob.g @ c0, prob.g @ dc
    z_a = float(stats.norm.isf(alpha))

    def fmu(mu: float) -> float:
        u = mu - mu0
        s = math.sqrt(max(v0 + u * (v1 + u * v2), 0.0))
        tt = m * float(np.abs(g_c0 + u * g_dc).sum()) / s
        c = _cv_scalar(tt, alpha, tt + z_a) if 0.0 < alpha < 0.5 else folded_normal_cv(tt, alpha)
        th = math.tanh(c * tt)
        return mu * (c - tt * th) - s * th * m

    lo, hi = mu0, float(path.mu[j])
    if fmu(lo) >= 0.0:  # the knot values and the scalar cv differ by rounding only
        return _flci_result(prob, betahat, z0, m, alpha)
    if fmu(hi) <= 0.0:
        return _flci_result(prob, betahat, path.z[j], m, alpha)
    root = optimize.brentq(fmu, lo, hi, xtol=1e-15 * hi, rtol=4 * np.finfo(float).eps,
                           maxiter=200)
    return _flci_result(prob, betahat, z0 + (root - mu0) * dz, m, alpha)


# --------------------------------------------------------------------------------------------
# Relative magnitudes restriction
# --------------------------------------------------------------------------------------------
def rm_constraints(n_pre: int, n_post: int, mbar: float, s: int, positive: bool) -> np.ndarray:
    """Rows ``A`` with ``Delta^RM_{s,sign}(Mbar) = {delta : A delta <= 0}``.

    ``s`` in ``{-(n_pre - 1), ..., 0}`` picks the pre-period first difference
    ``delta_s - delta_{s-1}`` that is the largest in absolute value, with sign ``+`` when
    ``positive``. Rows: ``|delta_r - delta_{r-1}| <= sign * (delta_s - delta_{s-1})`` for every other
    pre-period ``r``, ``sign * (delta_s - delta_{s-1}) >= 0``, and
    ``|delta_t - delta_{t-1}| <= Mbar * sign * (delta_s - delta_{s-1})`` for ``t = 1..n_post``.
    Columns follow ``delta = (delta_pre, delta_post)``; the reference period is dropped.
    The post-period rows come last (``2 * n_post`` of them).
    """
    n = n_pre + n_post
    periods = list(range(-n_pre, 0)) + list(range(1, n_post + 1))
    col = {p: j for j, p in enumerate(periods)}

    def diff(r: int) -> np.ndarray:
        v = np.zeros(n)
        if r in col:
            v[col[r]] += 1.0
        if r - 1 in col:
            v[col[r - 1]] -= 1.0
        return v

    sign = 1.0 if positive else -1.0
    vmax = sign * diff(s)
    pre_rows = []
    for r in range(-n_pre + 1, 1):
        if r == s:
            pre_rows.append(-2.0 * vmax)  # vmax' delta >= 0
            continue
        pre_rows.append(diff(r) - vmax)
        pre_rows.append(-diff(r) - vmax)
    post_rows = []
    for t in range(1, n_post + 1):
        post_rows.append(diff(t) - mbar * vmax)
        post_rows.append(-diff(t) - mbar * vmax)
    return np.vstack(pre_rows + post_rows)


# --------------------------------------------------------------------------------------------
# ARP conditional / hybrid test via the vertices of the dual polytope
# --------------------------------------------------------------------------------------------
def _column_space(x: np.ndarray) -> np.ndarray:
    """Orthonormal basis (rows) of the column space of ``x`` (empty when ``x`` is zero)."""
    m = x.shape[0]
    if x.shape[1] > 0 and np.any(x != 0):
        u, sv, _ = np.linalg.svd(x, full_matrices=False)
        r = int((sv > 1e-10 * sv[0]).sum())
        return np.asarray(u[:, :r].T)
    return np.zeros((0, m))


def _paired_rays(x: np.ndarray) -> np.ndarray | None:
    """Extreme rays of ``{gamma >= 0, X' gamma = 0}`` in closed form when the rows of ``X``
    come in pairs ``(x_i, -x_i)`` and the ``k`` distinct rows span a space of dimension
    ``k - 1``; None otherwise.

    With ``gamma = (g+, g-)`` on the two halves of the pairs, ``X' gamma = 0`` says that
    ``v = g+ - g-`` lies in the null space of ``X_half'``, here the line spanned by ``q``. Every
    feasible ``gamma`` is ``c (q+, q-)`` (``c >= 0``) or ``c (q-, q+)``, plus a non-negative
    combination of the pair rays ``(e_j, e_j)``, so the ``k + 2`` rays ``(e_j, e_j)``,
    ``(q+, q-)`` and ``(q-, q+)`` generate the cone (``q+``, ``q-``: positive and negative
    parts). This is the structure of the post-period moments of ``Delta^RM``: both signs of each
    post-period first difference; it replaces an enumeration of ``C(2k, k)`` bases.
    """
    m = x.shape[0]
    if m < 2 or m % 2:
        return None
    first, second = [], []
    used = np.zeros(m, dtype=bool)
    for i in range(m):
        if used[i]:
            continue
        match = [j for j in range(i + 1, m) if not used[j] and np.array_equal(x[j], -x[i])]
        if not match:
            return None
        used[i] = used[match[0]] = True
        first.append(i)
        second.append(match[0])
    k = len(first)
    half = x[first]
    if _column_space(half).shape[0] != k - 1:
        return None
    # q spans the null space of half' (the last left singular vector of half)
    q = np.linalg.svd(half, full_matrices=True)[0][:, -1] if half.shape[1] else np.ones(k)
    q = np.where(np.abs(q) <= 1e-12 * np.abs(q).max(), 0.0, q)
    fi, se = np.asarray(first), np.asarray(second)
    # (e_j, e_j) is (q+, q-) + (q-, q+) when q is supported on j alone: not extreme then
    pairs = [j for j in range(k) if np.count_nonzero(q) > 1 or q[j] == 0]
    rays = np.zeros((len(pairs) + 2, m))
    rays[np.arange(len(pairs)), fi[pairs]] = 1.0
    rays[np.arange(len(pairs)), se[pairs]] = 1.0
    qp, qm = np.clip(q, 0.0, None), np.clip(-q, 0.0, None)
    rays[-2, fi], rays[-2, se] = qp, qm
    rays[-1, fi], rays[-1, se] = qm, qp
    return rays


def _enumerated_rays(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Extreme rays of ``{gamma >= 0, X' gamma = 0}`` by enumerating the bases of
    ``{gamma >= 0, X' gamma = 0, 1' gamma = 1}`` (rows, scaled to sum to one)."""
    m = x.shape[0]
    r = q.shape[0]
    e = np.vstack([q, np.ones((1, m))])
    size = r + 1
    n_bases = math.comb(m, size)
    if n_bases > MAX_BASES:
        raise EstimationError(
            f"HonestDiD: the moment-inequality test would enumerate {n_bases} dual bases "
            f"({m} moments, {r} nuisance directions), more than the limit {MAX_BASES}; "
            "use fewer post-periods or a coarser target (l_vec)."
        )
    idx = np.array(list(combinations(range(m), size)), dtype=np.intp)
    mats = np.transpose(e[:, idx], (1, 0, 2))  # (n_bases, size, size)
    svals = np.linalg.svd(mats, compute_uv=False)
    ok = svals[:, -1] > 1e-10 * np.maximum(svals[:, 0], 1e-300)
    idx, mats = idx[ok], mats[ok]
    rhs = np.zeros(size)
    rhs[-1] = 1.0
    sol = np.linalg.solve(mats, np.broadcast_to(rhs, (mats.shape[0], size))[..., None])[..., 0]
    scale = np.abs(sol).max(axis=1, keepdims=True)
    feasible = (sol >= -1e-9 * scale).all(axis=1)
    sol, idx = np.clip(sol[feasible], 0.0, None), idx[feasible]
    gam = np.zeros((sol.shape[0], m))
    np.put_along_axis(gam, idx, sol, axis=1)
    if gam.shape[0] == 0:
        return gam
    # de-duplicate (a degenerate vertex is reached from several bases)
    key = np.round(gam / np.abs(gam).max(axis=1, keepdims=True), 10)
    _, first = np.unique(key, axis=0, return_index=True)
    return gam[np.sort(first)]


_RAYS_CACHE: dict[bytes, np.ndarray] = {}


def _dual_rays(x: np.ndarray) -> np.ndarray:
    """Extreme rays (rows) of the cone ``{gamma >= 0, X' gamma = 0}``; cached by ``X``.

    They do not depend on the moments' standard deviations, so one computation serves every
    polyhedron ``Delta^RM_{s,+/-}``, every ``Mbar`` and every step of ``breakdown()`` (the
    post-period moment rows are the same for all of them).
    """
    key = np.ascontiguousarray(x).tobytes() + np.asarray(x.shape, dtype=np.int64).tobytes()
    hit = _RAYS_CACHE.get(key)
    if hit is None:
        rays = _paired_rays(x)
        if rays is None:
            rays = _enumerated_rays(x, _column_space(x))
        if len(_RAYS_CACHE) > 64:
            _RAYS_CACHE.clear()
        hit = _RAYS_CACHE[key] = rays
        hit.setflags(write=False)
    return hit


def _dual_vertices(x: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Vertices of ``{gamma >= 0, X' gamma = 0, sd' gamma = 1}`` (rows of the returned array).

    With ``sd > 0`` they are the extreme rays of the cone ``{gamma >= 0, X' gamma = 0}`` (see
    :func:`_dual_rays`) scaled to ``sd' gamma = 1``; the polytope is empty when ``sd`` lies in
    the column space of ``X`` (the primal is then unbounded below for every ``y``).
    """
    m = x.shape[0]
    q = _column_space(x)
    resid = sd - q.T @ (q @ sd)
    if np.linalg.norm(resid) <= 1e-10 * np.linalg.norm(sd):
        return np.zeros((0, m))
    rays = _dual_rays(x)
    return np.asarray(rays / (rays @ sd)[:, None])


@dataclass(frozen=True)
class ArpSet:
    """One polyhedral restriction prepared for the test: ``E[y - a theta - X nu] <= 0``.

    ``y0`` is ``A betahat - d`` (moments used by the test), ``a`` the loading on ``theta``,
    ``cov`` the covariance of ``y0``, ``vertices`` the dual vertices, ``gram`` their Gram matrix
    under ``cov`` and ``lf_cv`` the least-favourable critical value (NaN when not used).
    """

    y0: np.ndarray
    a: np.ndarray
    cov: np.ndarray
    vertices: np.ndarray
    gram: np.ndarray
    lf_cv: float


def prepare_arp_set(
    a_mat: np.ndarray,
    d_vec: np.ndarray,
    rows: np.ndarray,
    betahat: np.ndarray,
    sigma: np.ndarray,
    n_pre: int,
    l_vec: np.ndarray,
    draws: np.ndarray | None,
    kappa: float,
) -> ArpSet:
    """Set up the moment inequalities of ``{delta : A delta <= d}`` for ``theta = l' tau_post``.

    Writing ``tau_post = theta * l / (l'l) + N nu`` with ``N`` a basis of the null space of ``l'``,
    ``A (beta - (0, tau_post)) <= d`` becomes ``E[y - a theta - X nu] <= 0`` with
    ``y = A betahat - d``, ``a = A_post l / (l'l)`` and ``X = A_post N``; ``nu`` is the nuisance
    parameter. The test does not depend on the choice of ``N`` (only on the column space of X).

    ``draws`` are standard-normal draws (``n_sim x len(betahat)``) pushed through the Cholesky
    factor of ``sigma`` to simulate the least-favourable critical value (ARP 2023, Section 6.2):
    the ``1 - kappa`` quantile of ``eta(xi)``, ``xi ~ N(0, cov)``.
    """
    a_sel = a_mat[rows]
    a_post = a_sel[:, n_pre:]
    ll = float(l_vec @ l_vec)
    _, _, vt = np.linalg.svd(l_vec[None, :])
    null = vt[1:].T
    x = a_post @ null
    y0 = a_sel @ betahat - d_vec[rows]
    a = a_post @ l_vec / ll
    cov = a_sel @ sigma @ a_sel.T
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    if np.any(sd <= 1e-12 * max(float(sd.max()), 1e-300)):
        raise EstimationError(
            "HonestDiD: a moment used by the test has zero variance; check that sigma is "
            "positive definite."
        )
    vertices = _dual_vertices(x, sd)
    gram = vertices @ cov @ vertices.T
    lf_cv = float("nan")
    if draws is not None and vertices.shape[0] > 0:
        xi = draws @ a_sel.T  # draws already carry the covariance of betahat
        eta = (xi @ vertices.T).max(axis=1)
        lf_cv = float(np.quantile(eta, 1.0 - kappa))
    return ArpSet(y0=y0, a=a, cov=cov, vertices=vertices, gram=gram, lf_cv=lf_cv)


def arp_accept(sets: list[ArpSet], theta: np.ndarray, alpha: float, kappa: float,
               hybrid: bool) -> np.ndarray:
    """Whether each ``theta`` is accepted by the test of at least one of ``sets``.

    For each set: ``eta = max_gamma gamma' y(theta)`` over the dual vertices, with optimal vertex
    ``gamma*`` and ``sigma* = sqrt(gamma*' cov gamma*)``. Conditional on ``gamma*`` being optimal
    and on ``S = y - cov gamma* eta / sigma*^2``, ``eta`` is normal truncated to ``[v_lo, v_up]``
    (ARP 2023, Section 5); the conditional test rejects when ``eta / sigma*`` exceeds
    ``max(0, q_{1 - alpha})`` of that truncated normal. The least-favourable hybrid first rejects
    when ``eta > lf_cv`` and otherwise runs the conditional test at size
    ``(alpha - kappa) / (1 - kappa)`` with ``v_up`` replaced by ``min(v_up, lf_cv)``.
    """
    theta = np.asarray(theta, dtype=float)
    accept = np.zeros(theta.shape[0], dtype=bool)
    size = (alpha - kappa) / (1.0 - kappa) if hybrid else alpha
    cols = np.arange(theta.shape[0])
    for st in sets:
        if st.vertices.shape[0] == 0:  # the moments can always be satisfied
            accept[:] = True
            continue
        y = st.y0[:, None] - st.a[:, None] * theta[None, :]
        vals = st.vertices @ y
        jstar = np.argmax(vals, axis=0)
        eta = vals[jstar, cols]
        s2 = st.gram[jstar, jstar]
        ratio = st.gram[:, jstar] / np.where(s2 > 0, s2, 1.0)
        rho = 1.0 - ratio
        num = vals - ratio * eta
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = num / rho
        tol = 1e-10
        vlo = np.where(rho > tol, bound, -np.inf).max(axis=0)
        vup = np.where(rho < -tol, bound, np.inf).min(axis=0)
        sig = np.sqrt(np.clip(s2, 0.0, None))
        reject = np.zeros(theta.shape[0], dtype=bool)
        degenerate = sig < 1e-10
        reject[degenerate] = eta[degenerate] > 0
        live = ~degenerate
        if hybrid:
            first = live & (eta > st.lf_cv)
            reject |= first
            live &= ~first
            vup = np.minimum(vup, st.lf_cv)
        with np.errstate(divide="ignore", invalid="ignore"):
            stat = eta / sig
            zlo = vlo / sig
            zup = vup / sig
        inside = live & (zlo <= stat) & (stat <= zup)
        if inside.any():
            q = _truncnorm_quantile(1.0 - size, zlo[inside], zup[inside])
            cval = np.maximum(0.0, q)
            rej = stat[inside] > cval
            rej[np.isnan(cval)] = False
            reject[np.flatnonzero(inside)] = rej
        accept |= ~reject
    return accept


def _truncnorm_quantile(p: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``p`` quantile of a standard normal truncated to ``[lo, hi]`` (accurate in both tails)."""
    return np.asarray(stats.truncnorm.ppf(p, lo, hi), dtype=float)


def invert_test(
    accept_fn: Callable[[np.ndarray], np.ndarray],
    lower: float,
    upper: float,
    grid_points: int,
    refine: bool = True,
    max_extend: int = 4,
) -> tuple[float, float, bool]:
    """Convex hull of the accepted ``theta`` (grid search, then refinement of both ends).

    The grid ``linspace(lower, upper, grid_points)`` is extended by its own width on a side
    whose end point is accepted (at most ``max_extend`` times). Each end of the accepted set is
    then located to machine precision by repeated sub-gridding of the bracketing grid cell
    (``refine``); otherwise the extreme accepted grid points are returned.
    Returns ``(low, high, closed)``; ``(nan, nan, True)`` when nothing is accepted and an
    infinite end (with ``closed=False``) when the set still reaches the widened grid's end.
    """
    lo, hi = float(lower), float(upper)
    for _ in range(max_extend + 1):
        grid = np.linspace(lo, hi, grid_points)
        acc = accept_fn(grid)
        if not acc.any():
            return float("nan"), float("nan"), True
        width = hi - lo
        open_lo, open_hi = bool(acc[0]), bool(acc[-1])
        if not (open_lo or open_hi):
            break
        if open_lo:
            lo -= width
        if open_hi:
            hi += width
    else:
        first, last = np.flatnonzero(acc)[[0, -1]]
        low = -np.inf if acc[0] else float(grid[first])
        high = np.inf if acc[-1] else float(grid[last])
        return low, high, False
    idx = np.flatnonzero(acc)
    i_lo, i_hi = int(idx[0]), int(idx[-1])
    if not refine:
        return float(grid[i_lo]), float(grid[i_hi]), True
    low = _refine(accept_fn, float(grid[i_lo - 1]), float(grid[i_lo]))
    high = _refine(accept_fn, float(grid[i_hi + 1]), float(grid[i_hi]))
    return low, high, True


def _refine(accept_fn: Callable[[np.ndarray], np.ndarray], rejected: float, accepted: float,
            n: int = 65) -> float:
    """Boundary between a rejected and an accepted point, to about machine precision."""
    for _ in range(12):
        if abs(accepted - rejected) <= 1e-13 * max(1.0, abs(accepted)):
            break
        pts = np.linspace(rejected, accepted, n)
        acc = accept_fn(pts)
        acc[0], acc[-1] = False, True
        j = int(np.flatnonzero(acc)[0])
        rejected, accepted = float(pts[j - 1]), float(pts[j])
    return accepted
