"""NumPy kernels of the Callaway & Sant'Anna (2021) estimator.

Pure array code, no pandas: the two-period (2x2) DiD estimators of Sant'Anna & Zhao (2020) with
their influence functions, a logit fit that follows the iteratively reweighted least squares
(IRLS) algorithm of R's ``glm`` step by step (so that fitted values and the inverse information
agree with R to rounding), the influence function of estimated aggregation weights, and the
multiplier bootstrap.

Every 2x2 function takes the units (panel) or observations (repeated cross sections) of the
treated group (``D == 1``) and of the comparison group (``D == 0``) only and returns the estimate
and its influence function on those units or observations, scaled so that
``var(estimate) ~= mean(inf**2) / n_sub`` when the observations are independent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import linalg

__all__ = [
    "LogitFit",
    "did2x2_panel",
    "did2x2_rc",
    "logit_irls",
    "multiplier_bootstrap",
    "weights_influence_dot",
]

_DBL_EPS = float(np.finfo(float).eps)
# R's binomial()$linkinv clamps eta at -log(DBL_EPSILON)
_ETA_THRESH = -np.log(_DBL_EPS)


@dataclass(frozen=True)
class LogitFit:
    """Result of :func:`logit_irls`.

    Attributes
    ----------
    fitted : ndarray
        Fitted probabilities at the final coefficients.
    xtwx_inv : ndarray
        Inverse of ``X' diag(w * mu * (1 - mu)) X`` with the working weights of the last IRLS
        iteration (what R's ``vcov(glm)`` returns for a binomial family).
    coef : ndarray
        Coefficients.
    converged : bool
        Whether the relative deviance change fell below the tolerance.
    """

    fitted: np.ndarray
    xtwx_inv: np.ndarray
    coef: np.ndarray
    converged: bool


def _linkinv(eta: np.ndarray) -> np.ndarray:
    e = np.exp(np.clip(eta, -_ETA_THRESH, _ETA_THRESH))
    return e / (1.0 + e)


def _binom_deviance(y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> float:
    """Binomial deviance for a 0/1 outcome: ``-2 sum w log(mu if y == 1 else 1 - mu)``."""
    return float(-2.0 * np.dot(w, np.log(np.where(y > 0, mu, 1.0 - mu))))


def logit_irls(
    y: np.ndarray, x: np.ndarray, w: np.ndarray, *, tol: float = 1e-8, max_iter: int = 25
) -> LogitFit:
    """Weighted logit by IRLS, following the iteration scheme of R's ``glm.fit``.

    Parameters
    ----------
    y : ndarray, shape (n,)
        Binary outcome (0/1).
    x : ndarray, shape (n, k)
        Regressors including the intercept column.
    w : ndarray, shape (n,)
        Positive prior weights.
    tol : float, default 1e-8
        Convergence tolerance on ``|dev - dev_old| / (|dev| + 0.1)`` (R's ``epsilon``).
    max_iter : int, default 25
        Maximum number of iterations (R's ``maxit``).

    Returns
    -------
    LogitFit

    Notes
    -----
    The start values are R's binomial ``mustart = (w * y + 0.5) / (w + 1)``; each iteration solves
    the weighted least-squares problem of the working response ``z = eta + (y - mu) / mu'`` with
    working weights ``w * mu * (1 - mu)``. The inverse information matrix is the one of the last
    weighted least-squares step, as in ``summary.glm``.

    With an intercept only (``k == 1``) the maximum likelihood estimate has the closed form
    ``p = sum(w * y) / sum(w)``, which is used directly (R's iterations converge to it; the
    ATT estimators do not depend on a constant propensity score, and the score term of their
    influence functions vanishes).
    """
    if x.shape[1] == 1 and np.all(x[:, 0] == 1.0):
        p = float(np.dot(w, y) / w.sum())
        info = w.sum() * p * (1.0 - p)
        return LogitFit(
            fitted=np.full(y.shape[0], p),
            xtwx_inv=np.array([[1.0 / info]]),
            coef=np.array([np.log(p / (1.0 - p))]),
            converged=True,
        )
    mu = (w * y + 0.5) / (w + 1.0)
    eta = np.log(mu / (1.0 - mu))
    dev_old = _binom_deviance(y, mu, w)
    coef = np.zeros(x.shape[1])
    converged = False
    xtwx = np.eye(x.shape[1])
    for _ in range(max_iter):
        var = mu * (1.0 - mu)
        mu_eta = np.maximum(var, _DBL_EPS)  # logit: d mu / d eta = mu (1 - mu)
        z = eta + (y - mu) / mu_eta
        ww = w * mu_eta**2 / var
        xw = x * ww[:, None]
        xtwx = xw.T @ x
        coef = linalg.solve(xtwx, xw.T @ z, assume_a="pos")
        eta = x @ coef
        mu = _linkinv(eta)
        dev = _binom_deviance(y, mu, w)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            converged = True
            break
        dev_old = dev
    xtwx_inv = linalg.inv(xtwx)
    return LogitFit(fitted=mu, xtwx_inv=xtwx_inv, coef=coef, converged=converged)


def _wls(
    y: np.ndarray, x: np.ndarray, w: np.ndarray, cache: dict[str, Any] | None = None
) -> np.ndarray:
    """Weighted least squares coefficients by a QR decomposition of the sqrt-weighted design
    (as R's ``lm``). The factorisation is stored in / taken from ``cache["qr"]``."""
    sw = np.sqrt(w)
    qr = None if cache is None else cache.get("qr")
    if qr is None:
        qr = np.linalg.qr(x * sw[:, None])
        if cache is not None:
            cache["qr"] = qr
    q, r = qr
    return np.asarray(linalg.solve_triangular(r, q.T @ (y * sw)))


def _xpx_inv(x: np.ndarray, w_ols: np.ndarray, cache: dict[str, Any] | None) -> np.ndarray:
    """Inverse of ``X' diag(w_ols) X / n`` (cached in ``cache["xpx_inv"]``)."""
    out = None if cache is None else cache.get("xpx_inv")
    if out is None:
        out = linalg.inv((x * w_ols[:, None]).T @ x / x.shape[0])
        if cache is not None:
            cache["xpx_inv"] = out
    return np.asarray(out)


def did2x2_panel(
    dy: np.ndarray,
    d: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    method: str,
    *,
    trim_level: float = 0.995,
    cache: dict[str, Any] | None = None,
) -> tuple[float, np.ndarray, LogitFit | None]:
    """Two-group two-period ATT on panel data with its influence function.

    Parameters
    ----------
    dy : ndarray, shape (n,)
        Outcome change ``Y_post - Y_pre`` per unit.
    d : ndarray, shape (n,)
        1 for treated-group units, 0 for comparison units.
    x : ndarray, shape (n, k)
        Covariates with the intercept in the first column.
    w : ndarray, shape (n,)
        Sampling weights (normalised to mean one inside).
    method : {"dr", "ipw", "reg"}
        ``"dr"``: doubly robust DiD of Sant'Anna & Zhao (2020, eq. 3.1) with a logit propensity
        score and a linear outcome model for the comparison group's change; ``"ipw"``: normalised
        (Hajek) inverse probability weighting (Abadie 2005); ``"reg"``: outcome regression
        (Heckman, Ichimura & Todd 1997).
    trim_level : float, default 0.995
        Comparison units with propensity score at or above this level get weight zero.
    cache : dict, optional
        Storage for the propensity-score fit (``"ps"``), the QR factorisation of the
        comparison-group regression (``"qr"``) and the inverse regression Gram matrix
        (``"xpx_inv"``). Pass the same dict for calls on the same units with the same ``d``,
        ``x`` and ``w`` (only ``dy`` differing) to reuse them; the results are identical.

    Returns
    -------
    att : float
    inf : ndarray, shape (n,)
        Influence function of ``att`` on the ``n`` units.
    ps_fit : LogitFit or None
        The propensity-score fit used (None for ``"reg"``); check ``converged``.

    Notes
    -----
    The formulas are those of Sant'Anna & Zhao (2020), section 3 and appendix, with the
    estimation effects of the propensity-score and regression coefficients included through
    their asymptotically linear representations.
    """
    n = dy.shape[0]
    w = w / w.mean()
    ctrl = d == 0

    def lin(v: np.ndarray, a_inv: np.ndarray, m: np.ndarray) -> np.ndarray:
        # (x * v[:, None]) @ a_inv @ m, i.e. an asymptotically linear representation times a
        # derivative vector, without forming the n x k matrix
        return np.asarray(v * (x @ (a_inv @ m)))

    def colmeans(v: np.ndarray) -> np.ndarray:
        return np.asarray(x.T @ v / n)

    if method == "reg":
        beta = _wls(dy[ctrl], x[ctrl], w[ctrl], cache)
        out = x @ beta
        w_t = w * d
        w_c = w * d
        att_t = w_t * dy
        att_c = w_c * out
        mw_t, mw_c = w_t.mean(), w_c.mean()
        eta_t = att_t.mean() / mw_t
        eta_c = att_c.mean() / mw_c
        w_ols = w * (1.0 - d)
        xpx_inv = _xpx_inv(x, w_ols, cache)
        inf_t = (att_t - w_t * eta_t) / mw_t
        m1 = colmeans(w_c)
        inf_c = (att_c - w_c * eta_c + lin(w_ols * (dy - out), xpx_inv, m1)) / mw_c
        return float(eta_t - eta_c), inf_t - inf_c, None

    fit = None if cache is None else cache.get("ps")
    if fit is None:
        fit = logit_irls(d, x, w)
        if cache is not None:
            cache["ps"] = fit
    ps = np.minimum(fit.fitted, 1.0 - 1e-6)
    trim = np.where(ctrl, ps < trim_level, ps < 1.01).astype(float)
    hess = fit.xtwx_inv * n
    score = w * (d - ps)
    w_t = trim * w * d
    w_c = trim * w * ps * (1.0 - d) / (1.0 - ps)
    mw_t, mw_c = w_t.mean(), w_c.mean()

    if method == "ipw":
        att_t = w_t * dy
        att_c = w_c * dy
        eta_t = att_t.mean() / mw_t
        eta_c = att_c.mean() / mw_c
        inf_t = (att_t - w_t * eta_t) / mw_t
        m2 = colmeans(w_c * (dy - eta_c))
        inf_c = (att_c - w_c * eta_c + lin(score, hess, m2)) / mw_c
        return float(eta_t - eta_c), inf_t - inf_c, fit

    # doubly robust (traditional locally efficient DR of Sant'Anna & Zhao 2020)
    beta = _wls(dy[ctrl], x[ctrl], w[ctrl], cache)
    resid = dy - x @ beta
    att_t = w_t * resid
    att_c = w_c * resid
    eta_t = att_t.mean() / mw_t
    eta_c = att_c.mean() / mw_c
    w_ols = w * (1.0 - d)
    xpx_inv = _xpx_inv(x, w_ols, cache)
    v_ols = w_ols * resid
    m1 = colmeans(w_t)
    inf_t = (att_t - w_t * eta_t - lin(v_ols, xpx_inv, m1)) / mw_t
    m2 = colmeans(w_c * (resid - eta_c))
    m3 = colmeans(w_c)
    inf_c = (att_c - w_c * eta_c + lin(score, hess, m2) - lin(v_ols, xpx_inv, m3)) / mw_c
    return float(eta_t - eta_c), inf_t - inf_c, fit


def _hajek(b: np.ndarray, r: np.ndarray) -> tuple[float, float]:
    """Weighted mean ``sum(b r) / sum(b)`` and ``mean(b)``."""
    mb = float(b.mean())
    return float(np.dot(b, r) / b.sum()), mb


def did2x2_rc(
    y: np.ndarray,
    post: np.ndarray,
    d: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    method: str,
    *,
    trim_level: float = 0.995,
) -> tuple[float, np.ndarray, LogitFit | None]:
    """Two-group two-period ATT on repeated cross sections with its influence function.

    Parameters
    ----------
    y : ndarray, shape (m,)
        Outcome of each observation.
    post : ndarray, shape (m,)
        1 for observations from the later (post) period, 0 for the base period.
    d : ndarray, shape (m,)
        1 for observations of the treated group, 0 for the comparison group.
    x : ndarray, shape (m, k)
        Covariates of each observation (measured in its own period) with the intercept in
        the first column.
    w : ndarray, shape (m,)
        Sampling weights (normalised to mean one inside).
    method : {"dr", "ipw", "reg"}
        ``"dr"``: the locally efficient doubly robust DiD for repeated cross sections of
        Sant'Anna & Zhao (2020, eq. 3.4), with a logit propensity score fitted on both periods
        and linear outcome models fitted separately in each of the four (group, period) cells;
        ``"ipw"``: normalised (Hajek) inverse probability weighting, each (group, period) mean
        normalised separately; ``"reg"``: outcome regression (Sant'Anna & Zhao 2020, eq. 2.2),
        with the comparison group's outcome models in the two periods evaluated at the
        covariates of all treated observations.
    trim_level : float, default 0.995
        Comparison observations with propensity score at or above this level get weight zero.

    Returns
    -------
    att : float
    inf : ndarray, shape (m,)
        Influence function of ``att`` on the ``m`` observations
        (``att - ATT ~= mean(inf)``).
    ps_fit : LogitFit or None
        The propensity-score fit used (None for ``"reg"``).

    Notes
    -----
    Every estimator is a signed sum of Hajek means ``eta_j = sum(b_j r_j) / sum(b_j)``:
    weights ``b_j`` (cell indicators times ``w``, times the odds ``p(X) / (1 - p(X))`` for the
    comparison cells of ``"ipw"`` and ``"dr"``) and summands ``r_j`` (the outcome, or the outcome
    minus fitted values of the cell-wise least-squares fits). The influence function is the
    exact linearisation of that sum: ``b_j (r_j - eta_j) / mean(b_j)`` plus the estimation
    effects of every least-squares coefficient vector (``beta_c``, through
    ``A_c^{-1} x w 1_c (y - x' beta_c)`` with ``A_c = mean(w 1_c x x')``) and of the logit
    coefficients (through ``H^{-1} x w (D - p)``). It is the derivative of the estimate with
    respect to each observation's weight, times ``m``, which the tests check numerically.
    """
    m = y.shape[0]
    w = w / w.mean()
    post = post.astype(float)
    d = d.astype(float)
    cell = {
        "t1": d * post,
        "t0": d * (1.0 - post),
        "c1": (1.0 - d) * post,
        "c0": (1.0 - d) * (1.0 - post),
    }

    # least-squares fits per cell: coefficients, inverse Gram matrix (scaled by m), and the
    # weighted residuals that carry their influence functions
    ols: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def fit_cell(c: str) -> np.ndarray:
        if c not in ols:
            ind = cell[c]
            sel = ind > 0
            beta = _wls(y[sel], x[sel], w[sel])
            ww = w * ind
            a_inv = linalg.inv((x * ww[:, None]).T @ x / m)
            ols[c] = (beta, np.asarray(a_inv), ww * (y - x @ beta))
        return ols[c][0]

    fit: LogitFit | None = None
    odds = np.zeros(m)
    trim = np.ones(m)
    ps = np.zeros(m)
    if method in ("ipw", "dr"):
        fit = logit_irls(d, x, w)
        ps = np.minimum(fit.fitted, 1.0 - 1e-6)
        trim = np.where(d == 0, ps < trim_level, ps < 1.01).astype(float)
        odds = ps / (1.0 - ps)

    # terms: (sign, weights b, summand r, {cell: s} with dr/dbeta_cell = s * x, odds-weighted)
    terms: list[tuple[float, np.ndarray, np.ndarray, dict[str, np.ndarray], bool]] = []
    ones = np.ones(m)
    if method == "reg":
        b01, b00 = fit_cell("c1"), fit_cell("c0")
        terms.append((1.0, w * cell["t1"], y, {}, False))
        terms.append((-1.0, w * cell["t0"], y, {}, False))
        terms.append((-1.0, w * d, x @ (b01 - b00), {"c1": ones, "c0": -ones}, False))
    elif method == "ipw":
        terms.append((1.0, trim * w * cell["t1"], y, {}, False))
        terms.append((-1.0, trim * w * cell["t0"], y, {}, False))
        terms.append((-1.0, trim * w * odds * cell["c1"], y, {}, True))
        terms.append((1.0, trim * w * odds * cell["c0"], y, {}, True))
    else:  # locally efficient doubly robust
        b01, b00 = fit_cell("c1"), fit_cell("c0")
        b11, b10 = fit_cell("t1"), fit_cell("t0")
        mu0 = post * (x @ b01) + (1.0 - post) * (x @ b00)
        r0 = y - mu0
        s_mu0 = {"c1": -post, "c0": -(1.0 - post)}
        terms.append((1.0, trim * w * cell["t1"], r0, s_mu0, False))
        terms.append((-1.0, trim * w * cell["t0"], r0, s_mu0, False))
        terms.append((-1.0, trim * w * odds * cell["c1"], r0, s_mu0, True))
        terms.append((1.0, trim * w * odds * cell["c0"], r0, s_mu0, True))
        gap1 = x @ (b11 - b01)
        gap0 = x @ (b10 - b00)
        s1 = {"t1": ones, "c1": -ones}
        s0 = {"t0": ones, "c0": -ones}
        terms.append((1.0, trim * w * d, gap1, s1, False))
        terms.append((-1.0, trim * w * cell["t1"], gap1, s1, False))
        terms.append((-1.0, trim * w * d, gap0, s0, False))
        terms.append((1.0, trim * w * cell["t0"], gap0, s0, False))

    att = 0.0
    inf = np.zeros(m)
    grad_beta: dict[str, np.ndarray] = {}
    grad_ps = np.zeros(x.shape[1])
    for sign, b, r, s_map, odds_w in terms:
        eta, mb = _hajek(b, r)
        att += sign * eta
        inf += sign * b * (r - eta) / mb
        for c, s in s_map.items():
            g = x.T @ (b * s) / (m * mb)
            grad_beta[c] = grad_beta.get(c, 0.0) + sign * g
        if odds_w:
            # d b / d gamma = b x for odds-weighted terms (logit link)
            grad_ps += sign * (x.T @ (b * (r - eta))) / (m * mb)
    for c, g in grad_beta.items():
        _, a_inv, resid_w = ols[c]
        inf += resid_w * (x @ (a_inv @ g))
    if fit is not None:
        hess = fit.xtwx_inv * m
        inf += w * (d - ps) * (x @ (hess @ grad_ps))
    return float(att), inf, fit


def weights_influence_dot(
    keepers: np.ndarray,
    pg: np.ndarray,
    comp_cohort: np.ndarray,
    unit_cohort: np.ndarray,
    n_cohorts: int,
    unit_w: np.ndarray,
    att: np.ndarray,
) -> np.ndarray:
    """Influence function of estimated aggregation weights, multiplied by the estimates.

    For an aggregate ``sum_k pi_k ATT_k`` with weights ``pi_k = pg_k / sum_j pg_j`` over the
    components ``k`` in ``keepers`` and estimated cohort shares ``pg_k = mean(w * 1{G = g_k})``,
    return ``sum_k ATT_k * IF(pi_k)``, the part of the aggregate's influence function due to
    estimating the weights (Callaway & Sant'Anna 2021, appendix on aggregations).

    Parameters
    ----------
    keepers : ndarray of int
        Indices ``k`` of the components being aggregated.
    pg : ndarray
        Estimated cohort shares indexed by ``k``.
    comp_cohort : ndarray of int
        Cohort index (``0..n_cohorts-1``) of component ``k``.
    unit_cohort : ndarray of int, shape (n,)
        Cohort index of each unit; ``n_cohorts`` for never-treated units.
    n_cohorts : int
        Number of cohorts.
    unit_w : ndarray, shape (n,)
        Unit weights.
    att : ndarray
        Component estimates indexed by ``k``.

    Returns
    -------
    ndarray, shape (n,)

    Notes
    -----
    With ``s = sum_k pg_k`` and ``xi_k = w 1{G = g_k} - pg_k``,
    ``IF(pi_k) = xi_k / s - (sum_j xi_j) pg_k / s**2``. The sum over ``k`` is evaluated per
    cohort so that the cost is ``O(n)`` rather than ``O(n K)``.
    """
    pk = pg[keepers]
    a = att[keepers]
    ck = comp_cohort[keepers]
    s = pk.sum()
    # per-cohort sums of ATT_k and counts of components; slot n_cohorts (never treated) is 0
    coef = np.bincount(ck, weights=a, minlength=n_cohorts + 1)
    count = np.bincount(ck, minlength=n_cohorts + 1).astype(float)
    coef[n_cohorts] = 0.0
    count[n_cohorts] = 0.0
    pa = float(np.dot(pk, a))
    sum_a_xi = unit_w * coef[unit_cohort] - pa
    sum_xi = unit_w * count[unit_cohort] - s
    return np.asarray(sum_a_xi / s - sum_xi * (pa / s**2))


def multiplier_bootstrap(
    inf: np.ndarray,
    *,
    n_boot: int,
    rng: np.random.Generator,
    alpha: float,
    cluster: np.ndarray | None = None,
    weights_type: str = "mammen",
    chunk: int = 64,
) -> tuple[np.ndarray, float]:
    """Multiplier bootstrap standard errors and a sup-t critical value.

    Parameters
    ----------
    inf : ndarray, shape (n, K)
        Influence functions of ``K`` estimates on ``n`` units.
    n_boot : int
        Number of bootstrap draws.
    rng : numpy.random.Generator
        Random generator (the only source of randomness).
    alpha : float
        One minus the coverage of the uniform band.
    cluster : ndarray of int codes, optional
        Cluster of each unit (``0..C-1``); multipliers are drawn per cluster and the influence
        functions summed within clusters.
    weights_type : {"mammen", "rademacher"}
        Distribution of the multipliers (mean zero, variance one).
    chunk : int
        Draws computed per block (memory bound ``chunk * n``).

    Returns
    -------
    se : ndarray, shape (K,)
        Bootstrap standard errors: interquartile range of the bootstrap draws of the estimate
        divided by that of a standard normal (NaN for degenerate components).
    crit : float
        ``1 - alpha`` quantile of ``max_k |draw_k| / se_k``; the critical value of the uniform
        (sup-t) band.

    Notes
    -----
    Draw ``b`` is ``sum_c V_bc S_c / n`` with ``S_c`` the sum of the influence function over the
    units of cluster ``c`` (each unit its own cluster by default), as in Callaway & Sant'Anna
    (2021, algorithm 1). Quantiles use the inverse empirical distribution (R's type 1).
    """
    n, k = inf.shape
    if cluster is None:
        s = inf
    else:
        s = np.zeros((int(cluster.max()) + 1, k))
        np.add.at(s, cluster, inf)
    n_cl = s.shape[0]
    draws = np.empty((n_boot, k))
    if weights_type == "mammen":
        k1 = 0.5 * (1.0 - np.sqrt(5.0))
        k2 = 0.5 * (1.0 + np.sqrt(5.0))
        pk = 0.5 * (1.0 + np.sqrt(5.0)) / np.sqrt(5.0)
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        u = rng.random((b, n_cl))
        v = np.where(u < pk, k1, k2) if weights_type == "mammen" else np.where(u < 0.5, -1.0, 1.0)
        draws[start : start + b] = v @ s / n
    q75, q25 = np.quantile(draws, [0.75, 0.25], axis=0, method="inverted_cdf")
    from scipy.stats import norm

    se = (q75 - q25) / (norm.ppf(0.75) - norm.ppf(0.25))
    se = np.where(se <= np.sqrt(_DBL_EPS) * 10, np.nan, se)
    ok = np.isfinite(se)
    if not ok.any():
        return se, float("nan")
    tmax = np.max(np.abs(draws[:, ok] / se[ok]), axis=1)
    crit = float(np.quantile(tmax, 1.0 - alpha, method="inverted_cdf"))
    return se, crit
