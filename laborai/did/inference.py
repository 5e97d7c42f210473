"""Few-cluster inference: wild cluster restricted bootstrap and randomization inference.

Two tools for the case that matters on a marketplace panel: a handful of treated categories
(clusters), where conventional cluster-robust standard errors over-reject.

* :func:`wild_cluster_bootstrap` -- the wild cluster *restricted* (WCR) bootstrap-t of Cameron,
  Gelbach & Miller (2008), computed with the closed-form algebra of Roodman, MacKinnon, Nielsen
  & Webb (2019, "fast and wild") after fixed effects are partialled out, with or without
  regression weights; p-value and a confidence set by test inversion.
* :func:`ri_test` -- randomization (permutation) inference that reassigns which clusters are
  treated, by exact enumeration when the number of assignments is small and by sampling
  otherwise (Fisher 1935; MacKinnon & Webb 2020).

Both are pure NumPy kernels with a pandas front end.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from laborai._progress import check_progress
from laborai._results import Provenance, ResultMixin, make_provenance
from laborai._validation import (
    binary_column,
    check_option,
    resolve_seed,
    unit_level_binary,
)
from laborai.errors import DataValidationError, EstimationError, OptionError

__all__ = [
    "RITestResult",
    "WildBootstrapResult",
    "ri_test",
    "wild_cluster_bootstrap",
]

BootWeights = Literal["rademacher", "webb"]
RIStatistic = Literal["coef", "t"]

_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


# --------------------------------------------------------------------------------------------
# Small numerical helpers (shared with twfe.py)
# --------------------------------------------------------------------------------------------


def _fe_matrices(fe: np.ndarray | None) -> list[sparse.csr_matrix]:
    """Sparse indicator matrices, one per fixed-effect dimension (codes 0..L-1 per column)."""
    if fe is None or fe.size == 0:
        return []
    fe = np.asarray(fe)
    if fe.ndim == 1:
        fe = fe[:, None]
    n = fe.shape[0]
    mats = []
    for j in range(fe.shape[1]):
        codes = fe[:, j].astype(np.int64)
        mats.append(
            sparse.csr_matrix((np.ones(n), (np.arange(n), codes)), shape=(n, int(codes.max()) + 1))
        )
    return mats


def _demean(
    z: np.ndarray,
    fe: np.ndarray | None,
    weights: np.ndarray | None = None,
    *,
    tol: float = 1e-13,
    maxiter: int = 100_000,
) -> np.ndarray:
    """Weighted within-transformation of ``z`` on one or more sets of fixed effects.

    Returns ``z - D (D'WD)^- D'W z`` where ``D`` holds every fixed-effect indicator, computed
    by :class:`laborai.did._fastfe.Demeaner`: closed form on balanced two-way panels, a direct
    (Schur-complement) solve on other two-way designs, accelerated alternating projections
    otherwise (``tol``/``maxiter``; a ConvergenceWarning when not met).
    """
    from laborai.did._fastfe import Demeaner

    out = np.array(z, dtype=float, copy=True)
    if fe is None or np.asarray(fe).size == 0:
        return out
    fe = np.asarray(fe)
    if fe.ndim == 1:
        fe = fe[:, None]
    D = Demeaner([fe[:, j] for j in range(fe.shape[1])], weights, tol=tol, maxiter=maxiter)
    return np.ascontiguousarray(D(out))


def _draw_weights(
    G: int, n_boot: int, boot_weights: str, rng: np.random.Generator
) -> tuple[np.ndarray, bool]:
    """Bootstrap weight matrix (G x B) and whether all Rademacher sign vectors were enumerated."""
    if boot_weights == "rademacher" and G <= 30 and n_boot >= 2**G:
        grid = np.array(list(itertools.product((-1.0, 1.0), repeat=G))).T
        return grid, True
    if boot_weights == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=(G, n_boot)), False
    return rng.choice(_WEBB, size=(G, n_boot)), False


# --------------------------------------------------------------------------------------------
# Wild cluster restricted bootstrap kernel
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _WCRKernel:
    """Precomputed pieces of the WCR bootstrap for one coefficient (linear in the null value)."""

    beta: float
    se: float
    ssc: float
    # bootstrap numerators and squared denominators are linear / quadratic in beta0
    nv0: np.ndarray
    nv1: np.ndarray
    da: np.ndarray
    db: np.ndarray
    dd: np.ndarray
    n_boot: int
    enumerated: bool

    def t_star(self, beta0: float) -> np.ndarray:
        num = self.nv0 - beta0 * self.nv1
        den2 = self.ssc * (self.da - 2.0 * beta0 * self.db + beta0**2 * self.dd)
        with np.errstate(divide="ignore", invalid="ignore"):
            return num / np.sqrt(np.maximum(den2, 0.0))

    def t_obs(self, beta0: float) -> float:
        return (self.beta - beta0) / self.se

    def p_value(self, beta0: float) -> float:
        t = abs(self.t_obs(beta0))
        ts = np.abs(self.t_star(beta0))
        # ties (|t*| equal to |t| up to rounding, e.g. the draw v = 1) count as extreme
        return float(np.mean(ts >= t * (1.0 - 1e-10)))

    def conf_int(self, alpha: float, max_expand: int = 20) -> tuple[float, float]:
        """Invert the test: the set {beta0 : p(beta0) > alpha}, ends found by bisection."""
        ends = []
        for sign in (-1.0, 1.0):
            inside = self.beta
            step = max(self.se, 1e-12 * max(abs(self.beta), 1.0))
            outside = self.beta + sign * 2.0 * step
            k = 0
            while self.p_value(outside) > alpha:
                inside = outside
                step *= 2.0
                outside = self.beta + sign * 2.0 * step
                k += 1
                if k > max_expand:
                    outside = sign * math.inf
                    break
            if math.isinf(outside):
                ends.append(outside)
                continue
            for _ in range(200):
                mid = 0.5 * (inside + outside)
                if self.p_value(mid) > alpha:
                    inside = mid
                else:
                    outside = mid
                if abs(outside - inside) <= 1e-10 * max(self.se, 1e-300):
                    break
            ends.append(0.5 * (inside + outside))
        return ends[0], ends[1]


def _wcr_kernel(
    y: np.ndarray,
    X: np.ndarray,
    j: int,
    cluster: np.ndarray,
    *,
    fe: np.ndarray | None,
    weights: np.ndarray | None,
    V: np.ndarray,
    enumerated: bool,
    ssc: float | None = None,
    demeaner: Any = None,
    chunk_bytes: int | None = None,
    bar: Any = None,
) -> _WCRKernel:
    """Build the WCR bootstrap for coefficient ``j`` of ``y ~ X | fe`` clustered by ``cluster``.

    The regression is transformed once: weighted within-transformation on ``fe`` then
    multiplication by the square root of the weights, so that the problem is an unweighted OLS
    without fixed effects (Frisch-Waugh-Lovell). The bootstrap outcome ``y* = X2 b2 + b0 xj +
    u_r * v_g`` is *not* orthogonal to fixed effects that are not nested in the clusters, so the
    per-cluster residual blocks ``E_h u_r`` are projected off the fixed effects (``A = Q E u_r``),
    which reproduces the bootstrap with every fixed effect as a dummy variable exactly. The
    ``n x G`` matrix ``A`` is never held whole: it is formed a chunk of clusters at a time
    (``chunk_bytes``, default 192 MB) and reduced at once to the per-cluster cross products
    ``X_h' A_g`` (``G x k x G``), so the bootstrap runs on panels of millions of rows.
    ``bar`` (a progress bar, optional) advances by one per chunk.
    """
    from laborai.did._fastfe import CHUNK_BYTES, Demeaner, cluster_cross

    n, k = X.shape
    w = None if weights is None else np.asarray(weights, dtype=float)
    sw = np.ones(n) if w is None else np.sqrt(w)
    D = demeaner
    if fe is not None and D is None:
        fe2 = np.asarray(fe)
        fe2 = fe2[:, None] if fe2.ndim == 1 else fe2
        D = Demeaner([fe2[:, c] for c in range(fe2.shape[1])], w)

    def q(z: np.ndarray) -> np.ndarray:
        if D is None:
            return z
        if w is None:
            return D(z)
        if z.ndim == 2:
            return D(z / sw[:, None]) * sw[:, None]
        return D(z / sw) * sw

    Xs = q(X * sw[:, None])
    ys = q(y * sw)
    codes, inv = np.unique(cluster, return_inverse=True)
    inv = inv.astype(np.int64)
    G = codes.size
    if G < 2:
        raise EstimationError(f"the wild cluster bootstrap needs at least 2 clusters; got {G}.")
    if ssc is None:
        ssc = G / (G - 1) * (n - 1) / (n - k)
    XtX = Xs.T @ Xs
    XtXi = np.linalg.inv(XtX)
    beta = XtXi @ (Xs.T @ ys)
    u = ys - Xs @ beta
    Xs = np.ascontiguousarray(Xs)
    scores = cluster_cross(inv, Xs, u[:, None], G)[:, :, 0]  # G x k
    vc = ssc * XtXi @ (scores.T @ scores) @ XtXi
    se = float(np.sqrt(vc[j, j]))

    others = [c for c in range(k) if c != j]
    X2 = Xs[:, others]
    xj = Xs[:, j]
    if X2.shape[1]:
        P = np.linalg.lstsq(X2, np.column_stack([ys, xj]), rcond=None)[0]
        u0 = ys - X2 @ P[:, 0]
        u1 = xj - X2 @ P[:, 1]
    else:
        u0, u1 = ys.copy(), xj.copy()
    r = XtXi[j]
    # X_h' X_h per cluster (G x k x k)
    XhXh = np.stack([cluster_cross(inv, Xs, Xs[:, [c]], G)[:, :, 0] for c in range(k)], axis=2)
    csize = _chunk_clusters(n, chunk_bytes or CHUNK_BYTES)
    rows_of = np.split(np.argsort(inv, kind="stable"), np.cumsum(np.bincount(inv))[:-1])
    out = []
    for uu in (u0, u1):
        S = np.empty((G, k, G))  # S[h, :, g] = X_h' A_g
        for g0 in range(0, G, csize):
            gs = list(range(g0, min(g0 + csize, G)))
            E = np.zeros((n, len(gs)), order="F")
            for c, g in enumerate(gs):
                E[rows_of[g], c] = uu[rows_of[g]]
            A = q(E) if D is not None else E
            S[:, :, g0:g0 + len(gs)] = cluster_cross(inv, Xs, A, G)
            del E, A
            if bar is not None:
                bar.update(1)
        Bm = S.sum(axis=0)  # k x G (= X' A)
        nvec = r @ Bm
        XtXiB = XtXi @ Bm
        M = np.stack([r @ (S[h] - XhXh[h] @ XtXiB) for h in range(G)])
        out.append((nvec @ V, M @ V))
    (nv0, mv0), (nv1, mv1) = out
    return _WCRKernel(
        beta=float(beta[j]),
        se=se,
        ssc=float(ssc),
        nv0=nv0,
        nv1=nv1,
        da=np.sum(mv0 * mv0, axis=0),
        db=np.sum(mv0 * mv1, axis=0),
        dd=np.sum(mv1 * mv1, axis=0),
        n_boot=V.shape[1],
        enumerated=enumerated,
    )


def _chunk_clusters(n: int, chunk_bytes: int) -> int:
    """Clusters per chunk of the ``n x G`` residual-block matrix (``chunk_bytes`` a chunk)."""
    return max(1, int(chunk_bytes // (8 * n)))


def _wild_table(
    y: np.ndarray,
    X: np.ndarray,
    cols: Sequence[int],
    cluster: np.ndarray,
    *,
    fe: np.ndarray | None,
    weights: np.ndarray | None,
    n_boot: int,
    boot_weights: str,
    seed: int | None,
    alpha: float,
    null: float = 0.0,
    ssc: float | None = None,
    ci: bool = True,
    progress: bool | None = False,
) -> tuple[list[dict[str, float]], int, bool]:
    """Run the WCR bootstrap for each coefficient in ``cols``; same draws for all.

    ``progress`` as in :mod:`laborai._progress` (a bar over the chunks of every coefficient).
    """
    from laborai._progress import progress_bar
    from laborai.did._fastfe import CHUNK_BYTES

    G = np.unique(cluster).size
    rng = np.random.default_rng(seed)
    V, enumerated = _draw_weights(G, n_boot, boot_weights, rng)
    rows = []
    D = None
    if fe is not None:
        from laborai.did._fastfe import Demeaner

        fe2 = np.asarray(fe)
        fe2 = fe2[:, None] if fe2.ndim == 1 else fe2
        D = Demeaner([fe2[:, c] for c in range(fe2.shape[1])], weights)
    n_chunks = -(-G // _chunk_clusters(len(y), CHUNK_BYTES))
    with progress_bar(len(cols) * 2 * n_chunks, "wild_cluster_bootstrap", progress,
                      unit="chunk") as bar:
        for j in cols:
            kern = _wcr_kernel(y, X, j, cluster, fe=fe, weights=weights, V=V,
                               enumerated=enumerated, ssc=ssc, demeaner=D, bar=bar)
            lo, hi = kern.conf_int(alpha) if ci else (math.nan, math.nan)
            rows.append({"estimate": kern.beta, "std_error": kern.se,
                         "statistic": kern.t_obs(null), "p_value": kern.p_value(null),
                         "conf_low": lo, "conf_high": hi})
    return rows, V.shape[1], enumerated


# --------------------------------------------------------------------------------------------
# Public: wild cluster bootstrap
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class WildBootstrapResult(ResultMixin):
    """Result of :func:`wild_cluster_bootstrap` (one row per tested coefficient).

    Attributes
    ----------
    table : pandas.DataFrame
        ``term, estimate, std_error, statistic, p_value, conf_low, conf_high`` where
        ``std_error`` and ``statistic`` are the CRV1 ones, ``p_value`` is the bootstrap p-value
        of ``H0: beta = null`` and the interval is the bootstrap confidence set.
    n_boot : int
        Number of bootstrap draws actually used (``2**G`` under full enumeration).
    enumerated : bool
        Whether all ``2**G`` Rademacher sign vectors were enumerated.
    n_clusters, nobs : int
    provenance : Provenance
    """

    table: pd.DataFrame
    n_boot: int
    enumerated: bool
    n_clusters: int
    nobs: int
    boot_weights: str
    null: float
    alpha: float
    provenance: Provenance
    _title = "Wild cluster restricted bootstrap"

    def tidy(self) -> pd.DataFrame:
        """Return a copy of the result table."""
        return self.table.copy()

    @property
    def p_value(self) -> float:
        """Bootstrap p-value of the first tested coefficient."""
        return float(self.table["p_value"].iloc[0])

    def _header(self) -> list[tuple[str, str]]:
        return [("Observations", str(self.nobs)), ("Clusters", str(self.n_clusters)),
                ("Weights", self.boot_weights),
                ("Draws", f"{self.n_boot}{' (full enumeration)' if self.enumerated else ''}"),
                ("Null", f"beta = {self.null:g}")]

    def __repr__(self) -> str:
        return (f"WildBootstrapResult(terms={list(self.table['term'])}, "
                f"p_value={[round(p, 6) for p in self.table['p_value']]}, "
                f"n_boot={self.n_boot}, enumerated={self.enumerated})")


def _require_columns(data: pd.DataFrame, cols: Sequence[str], where: str) -> None:
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise DataValidationError(
            f"{where}: column(s) {missing} not found in data; available columns: "
            f"{list(data.columns)[:20]}. Pass the name of an existing column."
        )


def _prepare_numeric(
    data: pd.DataFrame, cols: Sequence[str], where: str
) -> pd.DataFrame:
    """Select ``cols``; raise (never drop silently) on missing values."""
    sub = data.loc[:, list(dict.fromkeys(cols))]
    bad = sub.isna().any(axis=1)
    if bad.any():
        first = list(sub.index[bad][:5])
        raise DataValidationError(
            f"{where}: {int(bad.sum())} row(s) have missing values in {list(sub.columns)} "
            f"(first row labels: {first}); drop or impute them before calling {where}."
        )
    return sub


def wild_cluster_bootstrap(
    data: pd.DataFrame,
    *,
    yname: str,
    dname: str | Sequence[str],
    cluster: str,
    controls: Sequence[str] | None = None,
    idname: str | None = None,
    tname: str | None = None,
    fe: Sequence[str] | None = None,
    weights: str | None = None,
    null: float = 0.0,
    n_boot: int = 9999,
    boot_weights: BootWeights = "rademacher",
    alpha: float = 0.05,
    ci: bool = True,
    seed: int | None = 0,
    progress: bool | None = None,
) -> WildBootstrapResult:
    """Wild cluster restricted (WCR) bootstrap-t test and confidence set for linear models.

    Parameters
    ----------
    data : pandas.DataFrame
        Estimation sample; rows with missing values in the used columns raise an error.
    yname : str
        Outcome column.
    dname : str or sequence of str
        The tested regressor (e.g. the 0/1 treatment indicator). A list tests several
        regressors of the same regression, one row each, each under its own restricted null
        and with the same bootstrap draws (not a joint Wald test).
    cluster : str
        Cluster column (one-way clustering; the bootstrap weights are drawn per cluster).
    controls : sequence of str, optional
        Other regressors, estimated but not tested. With no fixed effects at all (no
        ``idname``, ``tname`` or ``fe``), add a constant column here yourself.
    idname, tname : str, optional
        Unit and period columns; when given, unit and period fixed effects are absorbed.
    fe : sequence of str, optional
        Extra fixed-effect columns, as in :func:`laborai.did.twfe`. All fixed effects are
        partialled out by a (weighted) within-transformation.
    weights : str, optional
        Analytic regression weights (WLS), as in ``pyfixest.feols(weights=...)``.
    null : float, default 0.0
        Value of the coefficient under the null hypothesis.
    n_boot : int, default 9999
        Number of bootstrap draws. With Rademacher weights and ``n_boot >= 2**G`` all ``2**G``
        sign vectors are enumerated instead (as ``boottest`` does), so the p-value is exact.
    boot_weights : {'rademacher', 'webb'}, default 'rademacher'
        Distribution of the cluster-level multipliers (Webb's six-point distribution is
        preferable with fewer than about 12 clusters).
    alpha : float, default 0.05
        One minus the confidence level of the bootstrap confidence set.
    ci : bool, default True
        Compute the confidence set by test inversion.
    seed : int or None, default 0
        Seed of the bootstrap draws (:func:`numpy.random.default_rng`), recorded in the
        result; ``None`` draws fresh entropy and records it, so the call can be repeated.
    progress : bool or None, default None
        A progress bar over the bootstrap's chunks of clusters on standard error (a few
        seconds on millions of rows): ``None`` shows one in a terminal once the run takes more
        than 2 seconds (never in notebooks, report builds or pipes), ``True`` always,
        ``False`` never (``laborai._progress``). No result depends on it.

    Returns
    -------
    WildBootstrapResult

    Raises
    ------
    DataValidationError
        Missing columns, missing values, or non-positive weights.
    OptionError
        ``boot_weights`` not in ``{'rademacher', 'webb'}``, bad ``n_boot``/``alpha``, no
        ``dname`` or a column both tested and a control.
    EstimationError
        Fewer than two clusters.

    Notes
    -----
    For ``H0: beta_j = b0`` the restricted model (``beta_j`` fixed at ``b0``) gives fitted
    values and residuals ``u_r``; each draw builds ``y* = fitted_r + u_r * v_g`` with one
    multiplier ``v_g`` per cluster, re-estimates the model and forms the CRV1 t-statistic
    ``t* = (b*_j - b0) / se*``. The p-value is the share of draws with ``|t*| >= |t|``
    (symmetric; ties count as extreme). The small-sample factor ``G/(G-1) (N-1)/(N-K)``
    scales ``t`` and ``t*`` alike and cancels from the p-value. All draws are computed in closed
    form (Roodman et al. 2019): after partialling out fixed effects, the bootstrap numerator
    is linear and the squared CRV1 denominator quadratic in ``v``, and both are linear/quadratic
    in ``b0``. The confidence set is ``{b0 : p(b0) > alpha}`` with the same draws for every
    ``b0``; its ends are found by bisection to ``1e-10`` standard errors, starting from
    ``beta_hat`` and doubling the distance outwards; an end is reported as infinite when the
    test does not reject within ``2**21`` (about two million) standard errors of the estimate,
    which happens when few clusters bound the attainable p-values from below.

    References
    ----------
    Cameron, A. C., Gelbach, J. B. & Miller, D. L. (2008). Bootstrap-based improvements for
    inference with clustered errors. *Review of Economics and Statistics* 90(3), 414-427.
    Roodman, D., MacKinnon, J. G., Nielsen, M. O. & Webb, M. D. (2019). Fast and wild: bootstrap
    inference in Stata using boottest. *Stata Journal* 19(1), 4-60.
    Webb, M. D. (2023). Reworking wild bootstrap-based inference for clustered errors.
    *Canadian Journal of Economics* 56(3), 839-858.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import laborai as la
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"unit": np.repeat(np.arange(24), 6), "t": np.tile(np.arange(6), 24)})
    >>> df["cat"] = df["unit"] // 2
    >>> df["d"] = ((df["cat"] < 4) & (df["t"] >= 3)).astype(float)
    >>> df["y"] = 0.3 * df["d"] + rng.normal(size=len(df))
    >>> res = la.did.wild_cluster_bootstrap(df, yname="y", dname="d", cluster="cat",
    ...                                     idname="unit", tname="t", n_boot=999)
    >>> res.enumerated, res.n_boot
    (False, 999)
    """
    check_option("boot_weights", boot_weights, ("rademacher", "webb"))
    progress = check_progress(progress, "wild_cluster_bootstrap")
    _check_n(n_boot, "n_boot")
    _check_alpha(alpha)
    params = [dname] if isinstance(dname, str) else list(dname)
    if not params:
        raise OptionError("dname must name at least one regressor to test; got [].")
    ctrl = list(controls or [])
    both = [c for c in params if c in ctrl]
    if both:
        raise OptionError(f"wild_cluster_bootstrap: {both} are in both dname and controls; "
                          "a regressor is either tested (dname) or a control.")
    xnames = list(dict.fromkeys([*params, *ctrl]))
    fe = list(dict.fromkeys([*(c for c in (idname, tname) if c is not None), *(fe or [])]))
    cols = [yname, *xnames, cluster, *fe] + ([weights] if weights else [])
    _require_columns(data, cols, "wild_cluster_bootstrap")
    sub = _prepare_numeric(data, cols, "wild_cluster_bootstrap")
    w = None
    if weights is not None:
        w = sub[weights].to_numpy(dtype=float)
        if np.any(w <= 0):
            raise DataValidationError(
                f"wild_cluster_bootstrap: weights column {weights!r} has {int(np.sum(w <= 0))} "
                "non-positive value(s); weights must be > 0. Drop those rows first."
            )
    y = sub[yname].to_numpy(dtype=float)
    X = sub[xnames].to_numpy(dtype=float)
    fe_codes = (np.column_stack([pd.factorize(sub[f], sort=True)[0] for f in fe])
                if fe else None)
    cl = pd.factorize(sub[cluster], sort=True)[0]
    seed = resolve_seed(seed)
    rows, nb, enum = _wild_table(
        y, X, [xnames.index(p) for p in params], cl, fe=fe_codes, weights=w, n_boot=n_boot,
        boot_weights=boot_weights, seed=seed, alpha=alpha, null=null, ci=ci, progress=progress,
    )
    table = pd.DataFrame(rows)
    table.insert(0, "term", params)
    settings = {"yname": yname, "dname": params, "controls": ctrl, "cluster": cluster,
                "idname": idname, "tname": tname, "fe": fe, "weights": weights, "null": null,
                "n_boot": n_boot,
                "boot_weights": boot_weights, "alpha": alpha}
    return WildBootstrapResult(
        table=table, n_boot=nb, enumerated=enum, n_clusters=int(np.unique(cl).size),
        nobs=len(sub), boot_weights=boot_weights, null=null, alpha=alpha,
        provenance=make_provenance("wild_cluster_bootstrap", sub, settings, seed),
    )


def _check_n(n: Any, name: str) -> None:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise OptionError(f"{name} must be a positive integer; got {n!r}.")


def _check_alpha(alpha: Any) -> None:
    if not isinstance(alpha, (float, int)) or not 0.0 < float(alpha) < 1.0:
        raise OptionError(f"alpha must be a number strictly between 0 and 1; got {alpha!r}.")


# --------------------------------------------------------------------------------------------
# Public: randomization inference
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class RITestResult(ResultMixin):
    """Result of :func:`ri_test`.

    Attributes
    ----------
    estimate : float
        Treatment coefficient under the actual assignment.
    observed : float
        Test statistic under the actual assignment (``estimate`` or its CRV1 t-statistic).
    distribution : numpy.ndarray
        Statistic under every enumerated (or sampled) assignment.
    assignments : tuple of tuple of str
        Treated clusters of each assignment, in the order of ``distribution``.
    p_value : float
        Two-sided randomization p-value (see :func:`ri_test`).
    exact : bool
        Whether all ``C(G, k)`` assignments were enumerated.
    n_assignments : int
        ``C(G, k)``, the number of possible assignments.
    """

    estimate: float
    observed: float
    distribution: np.ndarray
    assignments: tuple[tuple[str, ...], ...]
    p_value: float
    exact: bool
    n_assignments: int
    statistic: str
    nobs: int
    provenance: Provenance = field(repr=False)
    _title = "Randomization inference"

    def tidy(self) -> pd.DataFrame:
        """One row: ``term='treated_x_post'``, the estimate and the RI p-value.

        ``std_error`` is the standard deviation of the permutation distribution of the
        coefficient (when ``statistic='coef'``); the interval columns are empty because the
        test is not inverted.
        """
        sd = float(np.std(self.distribution, ddof=1)) if (
            self.statistic == "coef" and self.distribution.size > 1) else math.nan
        return pd.DataFrame({
            "term": ["treated_x_post"], "estimate": [self.estimate], "std_error": [sd],
            "statistic": [self.observed], "p_value": [self.p_value],
            "conf_low": [math.nan], "conf_high": [math.nan],
            "n_perm": [int(self.distribution.size)], "exact": [self.exact],
        })

    def _header(self) -> list[tuple[str, str]]:
        return [("Statistic", self.statistic), ("Assignments", str(self.n_assignments)),
                ("Used", f"{self.distribution.size}{' (exact)' if self.exact else ' (sampled)'}"),
                ("Observations", str(self.nobs))]

    def __repr__(self) -> str:
        return (f"RITestResult(estimate={self.estimate:.6g}, p_value={self.p_value:.6g}, "
                f"n_perm={self.distribution.size}, exact={self.exact})")


def ri_test(
    data: pd.DataFrame,
    *,
    yname: str,
    idname: str,
    tname: str,
    dname: str,
    cluster: str,
    controls: Sequence[str] | None = None,
    weights: str | None = None,
    statistic: RIStatistic = "coef",
    n_perm: int = 9999,
    seed: int | None = 0,
    eligible: str | None = None,
) -> RITestResult:
    """Randomization inference for a common-adoption DiD by reassigning the treated clusters.

    Treatment is assigned at the level of ``cluster`` (e.g. ``"category"``): the treated
    clusters are those with any ``dname == 1``, and they share one treatment path ``post_t``
    over ``tname``. The function estimates ``y ~ 1[cluster in S] * post_t (+ controls) |
    idname + tname`` by OLS for the actual treated set ``S`` and for every other set of the
    same size ``k`` among the ``G`` clusters.

    Parameters
    ----------
    data : pandas.DataFrame
        Panel, one row per unit and period.
    yname, idname, tname : str
        Outcome, unit and period columns (unit and period fixed effects are absorbed).
    dname : str
        The observed 0/1 treatment indicator. Every unit of a treated cluster must follow the
        same path over ``tname`` (common adoption); untreated clusters are 0 throughout.
    cluster : str
        The level at which treatment is assigned and permuted (constant within unit), and the
        cluster of the CRV1 t-statistic (``statistic='t'``): cluster at the assignment level
        (Abadie, Athey, Imbens & Wooldridge 2023).
    controls : sequence of str, optional
        Extra regressors.
    weights : str, optional
        Analytic regression weights.
    statistic : {'coef', 't'}, default 'coef'
        Permute the coefficient or its CRV1 t-statistic (the studentized statistic is
        asymptotically valid also when treatment effects are heterogeneous).
    n_perm : int, default 9999
        Enumerate all ``C(G, k)`` assignments when ``C(G, k) <= n_perm``; otherwise draw
        ``n_perm`` assignments uniformly at random (with replacement) using ``seed``.
    seed : int or None, default 0
        Seed of the sampled assignments (:func:`numpy.random.default_rng`; used only when
        sampling), recorded in the result; ``None`` draws fresh entropy and records it.
    eligible : str, optional
        Unit-level 0/1 column: the units a cluster's treatment reaches (e.g. the low-value
        tier of a category, when only low-value work is treated). A reassigned cluster then
        treats its eligible units only, so the treated clusters may hold never-treated
        (ineligible) units, which stay controls under every assignment. In the treated
        clusters the treated units must be exactly the eligible ones; clusters without an
        eligible unit are never reassigned treatment (they could not have been treated) and
        the assignments run over the others (recorded as ``settings["assignable_clusters"]``).
        Default: every unit is eligible, and a never-treated unit in a treated cluster is an
        error.

    Returns
    -------
    RITestResult

    Raises
    ------
    DataValidationError
        Missing columns or values; ``dname`` not 0/1; ``cluster`` not constant within unit;
        no cluster or every cluster treated; units of a treated cluster never treated;
        treated clusters (or units) differing in timing; a period with no treated-cluster
        row (the common path is undefined there).
    OptionError
        Bad ``statistic`` or ``n_perm``.
    EstimationError
        The common treatment path has no pre (or no post) period.

    Notes
    -----
    Under the sharp null of no effect for any unit, every assignment of ``k`` treated clusters
    is equally likely, so the distribution of the statistic over assignments is its exact null
    distribution. Exact p-value: ``mean(|s_a| >= |s_obs|)`` over all ``C(G, k)`` assignments
    (the actual one included, so ``p >= 1/C(G, k)``). Sampled: ``(1 + #{|s_a| >= |s_obs|}) /
    (1 + n_perm)``. With few treated clusters the attainable p-values are coarse; report
    ``n_assignments``. The regressions are computed in closed form after partialling out the
    fixed effects and controls (Frisch-Waugh-Lovell), so each assignment costs one inner product.
    Only common (non-staggered) adoption is supported: the treatment path depends on time only.

    References
    ----------
    Fisher, R. A. (1935). *The Design of Experiments*. Oliver & Boyd.
    MacKinnon, J. G. & Webb, M. D. (2020). Randomization inference for
    difference-in-differences with few treated clusters. *Journal of Econometrics* 218(2),
    435-450.
    Abadie, A., Athey, S., Imbens, G. W. & Wooldridge, J. M. (2023). When should you adjust
    standard errors for clustering? *Quarterly Journal of Economics* 138(1), 1-35.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import laborai as la
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"unit": np.repeat(np.arange(12), 6), "t": np.tile(np.arange(6), 12)})
    >>> df["cat"] = df["unit"] // 2
    >>> df["d"] = ((df["cat"] < 2) & (df["t"] >= 3)).astype(int)
    >>> df["y"] = 0.5 * df["d"] + rng.normal(size=len(df))
    >>> res = la.did.ri_test(df, yname="y", idname="unit", tname="t", dname="d", cluster="cat")
    >>> res.exact, res.n_assignments
    (True, 15)
    """
    check_option("statistic", statistic, ("coef", "t"))
    _check_n(n_perm, "n_perm")
    controls = list(controls or [])
    cols = [yname, idname, tname, dname, cluster, *controls]
    if weights:
        cols.append(weights)
    if eligible is not None:
        cols.append(eligible)
    _require_columns(data, cols, "ri_test")
    sub = _prepare_numeric(data, cols, "ri_test")
    nun = sub.groupby(idname, sort=False)[cluster].nunique()
    if (nun > 1).any():
        raise DataValidationError(
            f"ri_test: column {cluster!r} must be constant within unit {idname!r}; "
            f"{int((nun > 1).sum())} unit(s) vary (first: {list(nun.index[nun > 1][:5])})."
        )
    postv, gvals, treated, elig = _ri_assignment(sub, idname, tname, dname, cluster, eligible)
    if postv.sum() == 0 or postv.sum() == len(postv):
        raise EstimationError(
            f"ri_test: the treated clusters' common {dname!r} path is constant over {tname!r}; "
            "need pre and post periods.")
    G, k = gvals.size, len(treated)
    gidx = pd.Index(gvals).get_indexer(sub[cluster])  # -1: a cluster never reassigned
    postv = postv * elig  # the treatment reaches a reassigned cluster's eligible units
    n_total = math.comb(G, k)
    exact = n_total <= n_perm
    if exact:
        combos = np.array(list(itertools.combinations(range(G), k)), dtype=np.int64)
    else:
        seed = resolve_seed(seed)
        rng = np.random.default_rng(seed)
        combos = np.sort(np.argsort(rng.random((n_perm, G)), axis=1)[:, :k], axis=1)
    actual = np.sort(pd.Index(gvals).get_indexer(treated))

    w = sub[weights].to_numpy(dtype=float) if weights else None
    if w is not None and np.any(w <= 0):
        raise DataValidationError(
            f"ri_test: weights column {weights!r} has non-positive values; weights must be > 0."
        )
    sw = np.ones(len(sub)) if w is None else np.sqrt(w)
    fe = np.column_stack([pd.factorize(sub[idname], sort=True)[0],
                          pd.factorize(sub[tname], sort=True)[0]])

    def q(z: np.ndarray) -> np.ndarray:
        return _demean(z, fe, w) * (sw[:, None] if z.ndim == 2 else sw)

    ys = q(sub[yname].to_numpy(dtype=float))
    if controls:
        C = q(sub[controls].to_numpy(dtype=float))
        coefc = np.linalg.lstsq(C, np.column_stack([ys]), rcond=None)[0]
        ys = ys - C @ coefc[:, 0]
    else:
        C = None
    cl = pd.factorize(sub[cluster], sort=True)[0]
    Gc = int(cl.max()) + 1
    n = len(sub)
    kx = 1 + len(controls)
    ssc = Gc / (Gc - 1) * (n - 1) / (n - kx - _fe_rank_nonnested(fe, cl))

    def stats_for(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        member = np.zeros((G + 1, batch.shape[0]))  # last row: clusters never reassigned
        member[batch.T, np.arange(batch.shape[0])[None, :]] = 1.0
        D = member[gidx] * postv[:, None]
        Dd = q(D)
        if C is not None:
            Dd = Dd - C @ np.linalg.lstsq(C, Dd, rcond=None)[0]
        dd = np.einsum("ij,ij->j", Dd, Dd)
        b = (Dd.T @ ys) / dd
        if statistic == "coef":
            return b, b
        res = ys[:, None] - Dd * b[None, :]
        sc = np.zeros((Gc, batch.shape[0]))
        np.add.at(sc, cl, Dd * res)
        se = np.sqrt(ssc * np.sum(sc**2, axis=0)) / dd
        return b, b / se

    est_obs, stat_obs = stats_for(actual[None, :])
    dist = np.concatenate([stats_for(combos[i:i + 256])[1]
                           for i in range(0, combos.shape[0], 256)])
    extreme = np.abs(dist) >= abs(stat_obs[0]) * (1.0 - 1e-10)
    p = float(np.mean(extreme)) if exact else float((1 + extreme.sum()) / (1 + combos.shape[0]))
    assign = tuple(tuple(str(gvals[i]) for i in row) for row in combos)
    settings = {"yname": yname, "idname": idname, "tname": tname, "dname": dname,
                "cluster": cluster, "treated_clusters": [str(t) for t in treated],
                "controls": controls, "weights": weights,
                "statistic": statistic, "n_perm": n_perm, "eligible": eligible,
                "assignable_clusters": [str(g) for g in gvals]}
    return RITestResult(
        estimate=float(est_obs[0]), observed=float(stat_obs[0]), distribution=dist,
        assignments=assign, p_value=p, exact=exact, n_assignments=n_total,
        statistic=statistic, nobs=n,
        provenance=make_provenance("ri_test", sub, settings, None if exact else seed),
    )


def _ri_assignment(sub: pd.DataFrame, idname: str, tname: str, dname: str,
                   cluster: str, eligible: str | None = None
                   ) -> tuple[np.ndarray, np.ndarray, list[Any], np.ndarray]:
    """The design :func:`ri_test` permutes, read off the observed treatment column.

    Returns the common post indicator of every row (the treated clusters' ``dname`` path at
    the row's period), the sorted clusters that can be reassigned treatment, the treated ones
    and every row's eligibility (1 without ``eligible``); refuses designs that are not a
    common-adoption assignment at the ``cluster`` level.
    """
    where = "ri_test"
    d = binary_column(sub, dname, where)
    if eligible is None:
        elig = pd.Series(1.0, index=sub.index)
    else:
        elig = unit_level_binary(sub, eligible, idname, where)
        on = (d == 1) & (elig == 0)
        if on.any():
            units = pd.unique(sub.loc[on, idname])
            raise DataValidationError(
                f"{where}: {len(units)} unit(s) are treated ({dname!r} == 1) but not eligible "
                f"({eligible!r} == 0) (first: {list(units[:5])}); the treatment can only "
                "reach eligible units.")
    all_g = np.array(sorted(pd.unique(sub[cluster]), key=str), dtype=object)
    has_elig = elig.groupby(sub[cluster], sort=False).max()
    gvals = np.array([g for g in all_g.tolist() if has_elig.loc[g] == 1], dtype=object)
    anyd = d.groupby(sub[cluster], sort=False).max()
    treated = [g for g in gvals.tolist() if anyd.loc[g] == 1]
    G, k = gvals.size, len(treated)
    if k == 0 or k >= G:
        extra = (f" ({all_g.size - G} cluster(s) without an eligible unit are never "
                 "reassigned)" if G < all_g.size else "")
        raise DataValidationError(
            f"{where}: randomization inference needs some but not all clusters treated "
            f"(column {dname!r} == 1 somewhere in the cluster, cluster column {cluster!r}); "
            f"{k} of {G} cluster(s) are treated{extra}."
        )
    tr_rows = sub[cluster].isin(treated).to_numpy() & (elig.to_numpy() == 1)
    unit_any = d[tr_rows].groupby(sub.loc[tr_rows, idname], sort=False).max()
    never = unit_any.index[unit_any.to_numpy() == 0]
    if len(never):
        if eligible is None:
            raise DataValidationError(
                f"{where}: every unit of a treated cluster must be treated ({dname!r} == 1 in "
                f"some period); {len(never)} unit(s) of treated clusters in {cluster!r} never "
                f"are (first: {list(never[:5])}). Randomization inference permutes whole "
                "clusters; if the treatment reaches only some units of a cluster (e.g. one "
                "value tier), pass eligible=<0/1 unit column> marking them.")
        raise DataValidationError(
            f"{where}: every eligible unit ({eligible!r} == 1) of a treated cluster must be "
            f"treated ({dname!r} == 1 in some period); {len(never)} unit(s) in {cluster!r} "
            f"never are (first: {list(never[:5])}).")
    per = d[tr_rows].groupby(sub.loc[tr_rows, tname], sort=False).nunique()
    if (per > 1).any():
        varying = per.index[per.to_numpy() > 1]
        raise DataValidationError(
            f"{where}: the treated clusters must share one {dname!r} path over {tname!r} "
            f"(common adoption); their timing differs in {len(varying)} period(s) "
            f"(first: {list(varying[:5])}). Staggered adoption is not supported."
        )
    path = d[tr_rows].groupby(sub.loc[tr_rows, tname], sort=False).first()
    postv = sub[tname].map(path)
    if postv.isna().any():
        miss = pd.unique(sub.loc[postv.isna(), tname])
        raise DataValidationError(
            f"{where}: the treated clusters' {dname!r} path is undefined in {len(miss)} "
            f"period(s) of {tname!r} without a treated-cluster row (first: {list(miss[:5])}); "
            "drop those periods or add the rows."
        )
    return postv.to_numpy(dtype=float), gvals, treated, elig.to_numpy(dtype=float)


def _fe_rank_nonnested(fe: np.ndarray, cl: np.ndarray) -> int:
    """Number of fixed-effect parameters counted in ``K`` under fixest's 'nonnested' rule.

    Fixed-effect dimensions nested in the clusters count one parameter each; the others count
    their levels, minus one per additional dimension (as pyfixest's ``k_fixef='nonnested'``).
    """
    n_fe = fe.shape[1]
    levels = [int(fe[:, j].max()) + 1 for j in range(n_fe)]
    k_fe = sum(levels) - (n_fe - 1 if n_fe > 1 else 0)
    nested = 0
    fully = 0
    for j in range(n_fe):
        per = pd.Series(cl).groupby(fe[:, j]).nunique()
        if (per == 1).all():
            nested += levels[j]
            fully += 1
    return k_fe - nested + fully
