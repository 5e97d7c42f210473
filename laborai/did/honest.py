"""HonestDiD: robust confidence sets under relaxed parallel trends (Rambachan & Roth 2023).

:func:`honest` takes an event study (coefficients ``betahat`` and covariance ``sigma`` with the
reference period excluded) and returns, for each value of the sensitivity parameter, a confidence
interval for ``theta = l' tau_post`` that is valid when the post-treatment violation of parallel
trends is restricted by

* ``method="smoothness"``: ``Delta^SD(M)``, the slope of the differential trend changes by at most
  ``M`` between consecutive periods (``M = 0``: linear trends); optimal fixed-length confidence
  interval (FLCI, Armstrong & Kolesar 2018, 2020);
* ``method="relative_magnitude"``: ``Delta^RM(Mbar)``, every post-period change of the differential
  trend is at most ``Mbar`` times the largest pre-period change; conditional-least-favourable hybrid
  test of Andrews, Roth & Pakes (2023) inverted over a grid of ``theta`` (``ci_method="C-LF"``), or
  the purely conditional test (``"Conditional"``).

The numerical kernels live in :mod:`laborai.did._honest_kernels`.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from laborai._results import TIDY_COLUMNS, Provenance, ResultMixin, make_provenance
from laborai._validation import check_option
from laborai.did import _honest_kernels as _k
from laborai.errors import DataValidationError, EstimationError, LaborAIWarning, OptionError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["HonestResult", "honest"]

Method = Literal["relative_magnitude", "smoothness"]
CIMethod = Literal["C-LF", "Conditional", "FLCI"]

_METHODS: tuple[str, ...] = ("relative_magnitude", "smoothness")
_CI_METHODS: dict[str, tuple[str, ...]] = {
    "relative_magnitude": ("C-LF", "Conditional"),
    "smoothness": ("FLCI",),
}
_DEFAULT_CI = {"relative_magnitude": "C-LF", "smoothness": "FLCI"}
_DEFAULT_MBAR: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0)


# --------------------------------------------------------------------------------------------
# The computation shared by honest() and HonestResult.breakdown()
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Problem:
    betahat: np.ndarray
    sigma: np.ndarray
    n_pre: int
    n_post: int
    l_vec: np.ndarray
    alpha: float
    method: str
    ci_method: str
    seed: int
    n_sim: int
    grid_points: int
    theta_bounds: tuple[float, float] | None
    refine: bool
    _draws: list[np.ndarray] = field(default_factory=list, repr=False)

    @property
    def theta_hat(self) -> float:
        return float(self.l_vec @ self.betahat[self.n_pre:])

    @property
    def theta_se(self) -> float:
        s = self.sigma[self.n_pre:, self.n_pre:]
        return float(math.sqrt(self.l_vec @ s @ self.l_vec))

    def draws(self) -> np.ndarray:
        """Simulation draws with covariance ``sigma`` (common across M values; cached)."""
        if not self._draws:
            rng = np.random.default_rng(self.seed)
            z = rng.standard_normal((self.n_sim, self.betahat.shape[0]))
            self._draws.append(z @ _sqrt_cov(self.sigma).T)
        return self._draws[0]

    def ci(self, m: float) -> tuple[float, float]:
        """Robust confidence interval at sensitivity parameter ``m``."""
        if self.method == "smoothness":
            r = _k.flci(self.betahat, self.sigma, self.n_pre, self.n_post, self.l_vec, m,
                        self.alpha)
            return r.conf_low, r.conf_high
        return self._rm_ci(m)

    def _rm_ci(self, mbar: float) -> tuple[float, float]:
        hybrid = self.ci_method == "C-LF"
        kappa = self.alpha / 10.0
        draws = self.draws() if hybrid else None
        n_pre, n_post = self.n_pre, self.n_post
        sets = []
        for s in range(-(n_pre - 1), 1):
            for positive in (True, False):
                a = _k.rm_constraints(n_pre, n_post, mbar, s, positive)
                # moments that involve post-period coefficients only when there are several
                # post-periods (Rambachan & Roth's implementation choice; see Notes of honest())
                rows = (np.arange(a.shape[0] - 2 * n_post, a.shape[0]) if n_post > 1
                        else np.arange(a.shape[0]))
                sets.append(_k.prepare_arp_set(a, np.zeros(a.shape[0]), rows, self.betahat,
                                               self.sigma, n_pre, self.l_vec, draws, kappa))

        def accept(theta: np.ndarray) -> np.ndarray:
            return _k.arp_accept(sets, theta, self.alpha, kappa, hybrid)

        if self.theta_bounds is not None:
            lo, hi = self.theta_bounds
        else:
            lo, hi = -20.0 * self.theta_se, 20.0 * self.theta_se
        low, high, closed = _k.invert_test(accept, lo, hi, self.grid_points,
                                                 refine=self.refine)
        if math.isnan(low) and self.theta_bounds is None:  # nothing accepted around 0
            centre = self.theta_hat
            low, high, closed = _k.invert_test(
                accept, centre - 20.0 * self.theta_se, centre + 20.0 * self.theta_se,
                self.grid_points, refine=self.refine)
        if not closed:
            warnings.warn(
                f"HonestDiD: the confidence set at Mbar={mbar:g} reaches the end of the theta "
                "grid even after widening it four times; the interval is reported as "
                f"[{low:.6g}, {high:.6g}] (infinite on the open side). Pass wider theta_bounds "
                "to explore further.",
                LaborAIWarning, stacklevel=3,
            )
        return low, high


def _sqrt_cov(sigma: np.ndarray) -> np.ndarray:
    """A deterministic square root of a covariance matrix (Cholesky, else symmetric root)."""
    try:
        return np.asarray(np.linalg.cholesky(sigma))
    except np.linalg.LinAlgError:
        vals, vecs = np.linalg.eigh(sigma)
        return np.asarray(vecs @ np.diag(np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T)


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class HonestResult(ResultMixin):
    """Robust confidence intervals from :func:`honest`, one per sensitivity parameter value.

    Attributes
    ----------
    method : str
        ``"relative_magnitude"`` or ``"smoothness"``.
    ci_method : str
        ``"C-LF"``, ``"Conditional"`` or ``"FLCI"``.
    m : tuple of float
        Values of ``Mbar`` (relative magnitudes) or ``M`` (smoothness).
    conf_low, conf_high : tuple of float
        Robust confidence bounds at each ``m``.
    estimate, std_error : float
        Original point estimate ``l' betahat_post`` and its standard error.
    term : str
        Label of the target parameter.
    alpha : float
        One minus the confidence level.
    l_vec : tuple of float
        Weights defining ``theta = l' tau_post``.
    num_pre_periods, num_post_periods : int
        Number of pre- and post-period coefficients.
    return_original : bool
        Whether :meth:`tidy` includes the original (non-robust) interval.
    provenance : Provenance
        Settings, seed, package version and a hash of ``(betahat, sigma)``.
    df : float or None
        Degrees of freedom of the original interval's t reference (the event study's own:
        ``J - 1`` under placebo inference over ``J`` control clusters, ``G - 1`` under CRV1);
        None: the normal reference (``betahat``/``sigma`` given directly, as R's HonestDiD).
    """

    method: str
    ci_method: str
    m: tuple[float, ...]
    conf_low: tuple[float, ...]
    conf_high: tuple[float, ...]
    estimate: float
    std_error: float
    term: str
    alpha: float
    l_vec: tuple[float, ...]
    num_pre_periods: int
    num_post_periods: int
    return_original: bool
    provenance: Provenance
    _problem: _Problem = field(compare=False)
    df: float | None = None

    _title = "HonestDiD sensitivity analysis (Rambachan & Roth 2023)"

    def __repr__(self) -> str:
        return (f"HonestResult(method={self.method!r}, ci_method={self.ci_method!r}, "
                f"n_m={len(self.m)}, alpha={self.alpha:g})")

    def _header(self) -> list[tuple[str, str]]:
        rm = self.method == "relative_magnitude"
        return [
            ("Restriction", "Delta^RM(Mbar), relative magnitudes" if rm
             else "Delta^SD(M), smoothness"),
            ("Confidence interval", self.ci_method),
            ("Target", f"{self.term} = l' tau_post, l = {list(self.l_vec)}"),
            ("Pre / post periods", f"{self.num_pre_periods} / {self.num_post_periods}"),
            ("Confidence level", f"{1 - self.alpha:g}"),
        ]

    def tidy(self) -> pd.DataFrame:
        """Return one row per sensitivity value (and the original interval first).

        Returns
        -------
        pandas.DataFrame
            Columns ``term, estimate, std_error, statistic, p_value, conf_low, conf_high, method,
            m, ci_method``. The original row (``method="original"``, ``m`` NaN) carries the
            point estimate, its standard error, the t statistic, the two-sided p-value and the
            conventional interval, on the event study's own reference distribution (``t(df)``,
            see ``df``; normal when ``betahat``/``sigma`` were given); robust rows have NaN in ``estimate`` through ``p_value``.
        """
        rows: list[dict[str, Any]] = []
        if self.return_original:
            ref = stats.norm if self.df is None else stats.t(self.df)
            z = float(ref.ppf(1 - self.alpha / 2))
            stat = self.estimate / self.std_error
            rows.append({
                "term": self.term, "estimate": self.estimate, "std_error": self.std_error,
                "statistic": stat, "p_value": float(2 * ref.sf(abs(stat))),
                "conf_low": self.estimate - z * self.std_error,
                "conf_high": self.estimate + z * self.std_error,
                "method": "original", "m": math.nan, "ci_method": "original",
            })
        nan = math.nan
        for m, lo, hi in zip(self.m, self.conf_low, self.conf_high, strict=True):
            rows.append({
                "term": self.term, "estimate": nan, "std_error": nan, "statistic": nan,
                "p_value": nan, "conf_low": lo, "conf_high": hi, "method": self.method,
                "m": m, "ci_method": self.ci_method,
            })
        cols = [*TIDY_COLUMNS, "method", "m", "ci_method"]
        return pd.DataFrame(rows, columns=cols)

    def breakdown(self, tol: float | None = None) -> float:
        """Largest ``M`` (or ``Mbar``) at which the robust confidence interval excludes zero.

        Parameters
        ----------
        tol : float, optional
            Accuracy of the breakdown value: the returned value lies within ``tol / 2`` of the
            point where the interval's bound crosses zero. Default ``1e-4`` times the
            bracket's upper end for relative magnitudes (each step inverts the test over the
            theta grid) and ``1e-7`` times it for smoothness.

        Returns
        -------
        float
            The breakdown value, or NaN when the robust interval already contains zero at
            ``M = 0``.

        Raises
        ------
        EstimationError
            If no ``M`` up to ``2**40`` times the initial guess makes the interval cover zero.

        Notes
        -----
        The breakdown value is ``sup {M >= 0 : 0 not in CI(M)}`` (Rambachan & Roth 2023,
        Section 6). An upper end is found by doubling (from the largest value in ``m``); the
        bracket ``[lo, hi]`` keeps ``0 not in CI(lo)`` and ``0 in CI(hi)``. Inside it, the bound
        that crosses zero (the lower bound when the estimate is positive, else the upper bound)
        is a function of ``M`` whose sign change is located by Brent's method (``xtol = tol /
        2``), which keeps a bracket like bisection but needs far fewer interval evaluations; a
        bisection to a bracket of width ``tol`` gives the same value within ``tol``. This
        assumes, as holds when the intervals widen with ``M`` (the restrictions are nested in
        ``M``), that the set of ``M`` excluding zero is an interval starting at zero. The same
        seed and simulation draws as the result are used at every step, and the intervals
        already computed for the result's grid are reused.

        References
        ----------
        Rambachan, A. and Roth, J. (2023). A More Credible Approach to Parallel Trends. Review of
        Economic Studies 90(5), 2555-2591.
        """
        prob = self._problem
        known: dict[float, tuple[float, float]] = {
            float(m): (float(lo), float(hi))
            for m, lo, hi in zip(self.m, self.conf_low, self.conf_high, strict=True)
        }

        def ci(m: float) -> tuple[float, float]:
            if m not in known:
                lo, hi = prob.ci(m)
                known[m] = (float(lo), float(hi))
            return known[m]

        lo0, hi0 = ci(0.0)
        if not (lo0 > 0 or hi0 < 0):
            return math.nan
        positive = bool(lo0 > 0)

        def margin(m: float) -> float:
            """Distance of the crossing bound from zero; > 0 while the interval excludes 0."""
            lo, hi = ci(m)
            v = lo if positive else -hi
            return v if math.isfinite(v) else -1.0  # nothing accepted / open: covers zero

        hi = max([*self.m, 0.0])
        if hi <= 0:
            hi = 1.0 if self.method == "relative_magnitude" else prob.theta_se
        lo = 0.0
        for _ in range(41):
            if not margin(hi) > 0:
                break
            lo, hi = hi, 2.0 * hi
        else:
            raise EstimationError(
                f"breakdown: the robust interval still excludes zero at M = {hi:g}; the "
                "breakdown value could not be bracketed."
            )
        if tol is None:
            tol = (1e-4 if self.method == "relative_magnitude" else 1e-7) * hi
        if not (tol > 0 and math.isfinite(tol)):
            raise OptionError(f"tol must be a positive finite number; got {tol!r}.")
        if hi - lo <= tol:
            return 0.5 * (lo + hi)
        f_hi = margin(hi)
        if f_hi == 0.0:
            return hi
        root = optimize.brentq(margin, lo, hi, xtol=0.5 * tol, rtol=4 * np.finfo(float).eps,
                               maxiter=200)
        return float(root)

    def plot(self, ax: Axes | None = None) -> Axes:
        """Sensitivity plot: robust intervals against ``M`` with the original interval at left.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure is created when omitted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        t = self.tidy()
        robust = t[t["method"] != "original"]
        ms = robust["m"].to_numpy(dtype=float)
        step = float(np.min(np.diff(np.unique(ms)))) if np.unique(ms).size > 1 else 1.0
        ax.vlines(ms, robust["conf_low"], robust["conf_high"], color="C0",
                  label=f"{self.ci_method} ({self.method.replace('_', ' ')})")
        ax.scatter(np.r_[ms, ms], np.r_[robust["conf_low"], robust["conf_high"]], marker="_",
                   color="C0", s=80)
        if self.return_original:
            orig = t[t["method"] == "original"].iloc[0]
            x0 = float(ms.min()) - step if ms.size else 0.0
            ax.vlines([x0], [orig["conf_low"]], [orig["conf_high"]], color="C3",
                      label="Original")
            ax.scatter([x0, x0], [orig["conf_low"], orig["conf_high"]], marker="_",
                       color="C3", s=80)
        ax.axhline(0.0, color="grey", linewidth=0.8, linestyle=":")
        ax.set_xlabel("Mbar" if self.method == "relative_magnitude" else "M")
        ax.set_ylabel(f"{1 - self.alpha:.0%} confidence interval for {self.term}")
        ax.legend(loc="best", frameon=False)
        return ax


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------
def honest(
    event_study_result: Any = None,
    *,
    betahat: Sequence[float] | np.ndarray | None = None,
    sigma: Sequence[Sequence[float]] | np.ndarray | None = None,
    num_pre_periods: int | None = None,
    num_post_periods: int | None = None,
    method: Method = "relative_magnitude",
    grid: Sequence[float] | np.ndarray | None = None,
    l_vec: Sequence[float] | np.ndarray | None = None,
    alpha: float = 0.05,
    ci_method: CIMethod | None = None,
    return_original: bool = True,
    seed: int = 0,
    n_sim: int = 10_000,
    grid_points: int = 1000,
    theta_bounds: tuple[float, float] | None = None,
    refine: bool = True,
    progress: bool = False,
) -> HonestResult:
    """Robust confidence sets for an event-study effect under relaxed parallel trends.

    Parameters
    ----------
    event_study_result : object, optional
        An event-study result with attributes ``event_times`` (sorted integers, reference period
        excluded), ``coef`` and ``vcov`` (same order) and ``ref`` (the reference period).
        Coefficients with ``event_times < ref`` are pre-periods, the others post-periods; both
        must be consecutive integers adjoining ``ref``. Give either this or ``betahat`` and
        friends.
    betahat : array-like, optional
        Event-study coefficients, pre-periods first (earliest first), then post-periods; the
        reference period (the last pre-treatment period) is excluded.
    sigma : array-like, optional
        Covariance matrix of ``betahat``.
    num_pre_periods, num_post_periods : int, optional
        Number of pre- and post-period coefficients in ``betahat``.
    method : {"relative_magnitude", "smoothness"}, default "relative_magnitude"
        Restriction on the differential trend: ``Delta^RM(Mbar)`` or ``Delta^SD(M)``.
    grid : array-like of float, optional
        Values of ``Mbar`` (relative magnitudes; default ``0.5, 1, 1.5, 2``) or of ``M``
        (smoothness; default 10 values from 0 to an upper confidence bound of the largest
        pre-period second difference, see Notes). Non-negative and finite.
    l_vec : array-like of float, optional
        Weights defining ``theta = l' tau_post``; default the first post-period, ``(1, 0, ...)``.
    alpha : float, default 0.05
        One minus the confidence level.
    ci_method : {"C-LF", "Conditional", "FLCI"}, optional
        ``"C-LF"`` (default) or ``"Conditional"`` for relative magnitudes, ``"FLCI"`` (default)
        for smoothness.
    return_original : bool, default True
        Include the original (non-robust) interval as the first row of ``tidy()``. Its
        reference distribution is the event study's (``t(J - 1)`` under the placebo inference
        of 12 category clusters, where a normal interval covered 91-93%; ``t(G - 1)`` under
        CRV1), normal for ``betahat``/``sigma``; recorded in ``settings["original_df"]``.
    seed : int, default 0
        Seed of ``numpy.random.default_rng`` for the simulated least-favourable critical value
        (C-LF only).
    n_sim : int, default 10000
        Number of simulation draws for the least-favourable critical value.
    grid_points : int, default 1000
        Number of ``theta`` values of the test-inversion grid (relative magnitudes).
    theta_bounds : (float, float), optional
        Ends of the ``theta`` grid; default ``+/- 20`` standard errors of the original estimate
        around zero, widened automatically when the confidence set reaches an end.
    refine : bool, default True
        Locate each end of the confidence set between its grid neighbours to machine precision.
        With ``False`` the ends are the extreme accepted grid points, as in the HonestDiD R
        package (which moves each end inwards by up to one grid step).
    progress : bool, default False
        Print a line to stderr after each value of the ``M`` grid. It never changes the result
        (nor its provenance).

    Returns
    -------
    HonestResult
        ``tidy()`` has one row per grid value (and the original interval), ``breakdown()``
        the breakdown value, ``plot()`` the sensitivity plot.

    Raises
    ------
    OptionError
        Bad ``method``, ``ci_method``, ``alpha``, ``grid``, ``l_vec``, ``n_sim``, ``grid_points``
        or ``theta_bounds``, or an inconsistent choice of inputs.
    DataValidationError
        ``betahat`` and ``sigma`` do not match each other or the period counts, ``sigma`` is not
        a symmetric positive semi-definite matrix, contains non-finite values, or the event
        times are not consecutive around the reference period.
    EstimationError
        The confidence set cannot be computed (e.g. a moment with zero variance).

    Notes
    -----
    Write ``beta = delta + (0, tau_post)`` with ``delta`` the differential trend (zero at the
    reference period) and ``tau_post`` the dynamic treatment effects. The estimand is
    ``theta = l' tau_post``. Parallel trends (``delta_post = 0``) is replaced by
    ``delta in Delta``:

    * ``Delta^SD(M) = {delta : |(delta_{t+1} - delta_t) - (delta_t - delta_{t-1})| <= M}`` for
      all ``t`` (including the reference period). Inference uses the optimal FLCI over affine
      estimators ``c' betahat`` (Armstrong & Kolesar 2018; Rambachan & Roth 2023, Section 4.1):
      the half-length ``sd(c) * cv_alpha(bias(c) / sd(c))`` is minimised, where ``cv_alpha(t)``
      is the ``1 - alpha`` quantile of ``|N(t, 1)|`` and ``bias(c)`` the worst-case bias over
      ``Delta^SD(M)``. The optimum lies on the variance-bias frontier of the affine estimators,
      which does not depend on ``M``: it is computed exactly once (a piecewise-linear path, see
      :func:`laborai.did._honest_kernels.flci`) and shared by every ``M`` of the grid and every
      step of :meth:`HonestResult.breakdown`; each ``M`` then solves a one-dimensional
      optimality condition to machine precision.
    * ``Delta^RM(Mbar) = {delta : max_{t >= 0} |delta_{t+1} - delta_t| <= Mbar *
      max_{s < 0} |delta_{s+1} - delta_s|}``, the union over the pre-period ``s`` attaining the
      maximum and its sign of polyhedra ``Delta^RM_{s,+/-}``. For each polyhedron the moment
      inequalities ``E[A betahat - A_post tau] <= 0`` are tested by the conditional test of
      Andrews, Roth & Pakes (2023) (``"Conditional"``) or its hybrid with the least-favourable
      test of size ``kappa = alpha / 10`` (``"C-LF"``, the paper's recommendation); the
      confidence set is the union over polyhedra of the accepted ``theta`` and is reported as
      its convex hull. As in the authors' R package, with several post-periods only the moments
      that involve post-period coefficients enter the test, and the default theta grid has 1000
      points on ``+/- 20`` standard errors around zero.

    The least-favourable critical value is the ``1 - kappa`` quantile of the LP statistic under
    ``N(0, A Sigma A')``, simulated with ``n_sim`` draws from ``default_rng(seed)`` (common to all
    grid values). The linear programme is solved exactly through the vertices of its dual.

    Default ``M`` grid for smoothness: 10 equally spaced values from 0 to
    ``max_j (|D2 betahat_pre|_j + z_{1-alpha} se_j)``, the largest upper confidence bound of the
    pre-period second differences (with the reference coefficient 0); the standard error of
    ``theta`` when there are fewer than two pre-periods.

    References
    ----------
    Rambachan, A. and Roth, J. (2023). A More Credible Approach to Parallel Trends. Review of
    Economic Studies 90(5), 2555-2591.

    Andrews, I., Roth, J. and Pakes, A. (2023). Inference for Linear Conditional Moment
    Inequalities. Review of Economic Studies 90(6), 2763-2791.

    Armstrong, T. B. and Kolesar, M. (2018). Optimal Inference in a Class of Regression Models.
    Econometrica 86(2), 655-683.

    Armstrong, T. B. and Kolesar, M. (2020). Simple and Honest Confidence Intervals in
    Nonparametric Regression. Quantitative Economics 11(1), 1-39.

    Examples
    --------
    >>> import numpy as np
    >>> import laborai as la
    >>> betahat = np.array([0.001, -0.002, 0.0, 0.05, 0.06])
    >>> sigma = np.diag([1e-4] * 5)
    >>> res = la.did.honest(betahat=betahat, sigma=sigma, num_pre_periods=3,
    ...                     num_post_periods=2, method="smoothness", grid=[0.0, 0.01])
    >>> res.tidy()[["method", "m"]].to_dict("list")
    {'method': ['original', 'smoothness', 'smoothness'], 'm': [nan, 0.0, 0.01]}
    """
    check_option("method", method, _METHODS)
    if ci_method is None:
        ci_method = _DEFAULT_CI[method]  # type: ignore[assignment]
    allowed_ci = _CI_METHODS[method]
    if ci_method not in allowed_ci:
        listed = ", ".join(repr(a) for a in allowed_ci)
        raise OptionError(
            f"ci_method must be one of {listed} for method={method!r}; got {ci_method!r}."
        )
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise OptionError(f"alpha must be a number strictly between 0 and 1; got {alpha!r}.")
    for name, val, low in (("n_sim", n_sim, 100), ("grid_points", grid_points, 3)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < low:
            raise OptionError(f"{name} must be an integer >= {low}; got {val!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise OptionError(f"seed must be an integer; got {seed!r}.")
    if not isinstance(progress, (bool, np.bool_)):
        raise OptionError(f"progress must be True or False; got {progress!r}.")

    b, s, n_pre, n_post, term_times = _inputs(event_study_result, betahat, sigma,
                                              num_pre_periods, num_post_periods)
    lv = _l_vec(l_vec, n_post)
    original_df = _original_df(event_study_result)
    bounds = _theta_bounds(theta_bounds)

    prob = _Problem(betahat=b, sigma=s, n_pre=n_pre, n_post=n_post, l_vec=lv,
                    alpha=float(alpha), method=method, ci_method=str(ci_method), seed=int(seed),
                    n_sim=int(n_sim), grid_points=int(grid_points), theta_bounds=bounds,
                    refine=bool(refine))
    m_values = _grid(grid, method, prob)

    lows, highs = [], []
    for i, m in enumerate(m_values):
        lo, hi = prob.ci(m)
        lows.append(float(lo))
        highs.append(float(hi))
        if progress:
            print(f"honest {method}: {'Mbar' if method == 'relative_magnitude' else 'M'}="
                  f"{m:g} done ({i + 1}/{len(m_values)})", file=sys.stderr, flush=True)

    term = "theta"
    nz = np.flatnonzero(lv)
    if term_times is not None and nz.size == 1 and lv[nz[0]] == 1.0:
        term = f"event_time::{term_times[nz[0]]}"

    settings = {
        "method": method, "ci_method": ci_method, "grid": tuple(m_values),
        "l_vec": tuple(float(x) for x in lv), "alpha": float(alpha),
        "num_pre_periods": n_pre, "num_post_periods": n_post, "n_sim": int(n_sim),
        "grid_points": int(grid_points), "theta_bounds": bounds, "refine": bool(refine),
        "kappa": float(alpha) / 10.0 if ci_method == "C-LF" else None,
        "original_df": original_df,
    }
    data = pd.DataFrame(np.column_stack([b, s]),
                        columns=["betahat", *[f"sigma_{j}" for j in range(b.shape[0])]])
    prov = make_provenance("honest", data, settings,
                           seed=int(seed) if ci_method == "C-LF" else None)
    return HonestResult(
        method=method, ci_method=str(ci_method), m=tuple(m_values), conf_low=tuple(lows),
        conf_high=tuple(highs), estimate=prob.theta_hat, std_error=prob.theta_se, term=term,
        alpha=float(alpha), l_vec=tuple(float(x) for x in lv), num_pre_periods=n_pre,
        num_post_periods=n_post, return_original=bool(return_original), provenance=prov,
        _problem=prob, df=original_df,
    )


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------
def _original_df(es: Any) -> float | None:
    """The t degrees of freedom of the event study's own pointwise inference (None: normal)."""
    df = getattr(es, "df_resid", None) if es is not None else None
    if df is None or isinstance(df, bool):
        return None
    try:
        df = float(df)
    except (TypeError, ValueError):
        return None
    return df if math.isfinite(df) and df > 0 else None


def _inputs(
    es: Any,
    betahat: Any,
    sigma: Any,
    num_pre: int | None,
    num_post: int | None,
) -> tuple[np.ndarray, np.ndarray, int, int, list[int] | None]:
    term_times: list[int] | None = None
    if es is not None:
        given = [n for n, v in (("betahat", betahat), ("sigma", sigma),
                                ("num_pre_periods", num_pre), ("num_post_periods", num_post))
                 if v is not None]
        if given:
            raise OptionError(
                "pass either event_study_result or betahat/sigma/num_pre_periods/"
                f"num_post_periods, not both; got event_study_result and {', '.join(given)}."
            )
        missing = [a for a in ("event_times", "coef", "vcov", "ref") if not hasattr(es, a)]
        if missing:
            raise OptionError(
                "event_study_result must have attributes event_times, coef, vcov and ref; "
                f"{type(es).__name__} lacks {', '.join(missing)}."
            )
        times = np.asarray(es.event_times)
        ref = es.ref
        try:
            times_i = times.astype(np.int64)
            ok = np.array_equal(times_i, times) and float(ref) == int(ref)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise DataValidationError(
                "event_study_result.event_times and ref must be integers; got event_times="
                f"{times.tolist()[:8]} and ref={ref!r}."
            )
        ref = int(ref)
        pre = times_i[times_i < ref]
        post = times_i[times_i > ref]
        exp_pre = np.arange(ref - pre.size, ref)
        exp_post = np.arange(ref + 1, ref + 1 + post.size)
        if (ref in times_i or not np.array_equal(np.concatenate([pre, post]), times_i)
                or not np.array_equal(pre, exp_pre) or not np.array_equal(post, exp_post)):
            raise DataValidationError(
                "event_study_result.event_times must be sorted, consecutive integers on both "
                f"sides of the reference period {ref} (which is excluded); got "
                f"{times_i.tolist()}. Re-estimate the event study without gaps or pass "
                "betahat/sigma for consecutive periods."
            )
        betahat, sigma = es.coef, es.vcov
        num_pre, num_post = int(pre.size), int(post.size)
        term_times = [int(t) for t in post]
    else:
        missing = [n for n, v in (("betahat", betahat), ("sigma", sigma),
                                  ("num_pre_periods", num_pre), ("num_post_periods", num_post))
                   if v is None]
        if missing:
            raise OptionError(
                "pass event_study_result, or all of betahat, sigma, num_pre_periods and "
                f"num_post_periods; missing {', '.join(missing)}."
            )
    num_pre = _count("num_pre_periods", num_pre)
    num_post = _count("num_post_periods", num_post)
    b = np.array(betahat, dtype=float, copy=True).reshape(-1) if np.ndim(betahat) <= 1 else None
    if b is None:
        raise DataValidationError(
            f"betahat must be one-dimensional; got an array of shape {np.shape(betahat)}."
        )
    s = np.array(sigma, dtype=float, copy=True)
    n = int(num_pre) + int(num_post)
    if b.shape[0] != n:
        raise DataValidationError(
            f"betahat has {b.shape[0]} elements but num_pre_periods + num_post_periods = "
            f"{num_pre} + {num_post} = {n}; they must match."
        )
    if s.shape != (n, n):
        raise DataValidationError(
            f"sigma must be a {n} x {n} matrix matching betahat; got shape {s.shape}."
        )
    if not (np.isfinite(b).all() and np.isfinite(s).all()):
        raise DataValidationError("betahat and sigma must be finite; found NaN or infinite "
                                  "values.")
    scale = float(np.abs(s).max()) or 1.0
    if not np.allclose(s, s.T, rtol=0, atol=1e-10 * scale):
        raise DataValidationError(
            "sigma must be symmetric; the largest asymmetry |sigma - sigma'| is "
            f"{float(np.abs(s - s.T).max()):.3g}."
        )
    s = 0.5 * (s + s.T)
    eig_min = float(np.linalg.eigvalsh(s).min())
    if eig_min < -1e-10 * scale or np.any(np.diag(s) <= 0):
        raise DataValidationError(
            "sigma must be positive semi-definite with positive variances; smallest "
            f"eigenvalue {eig_min:.3g}, smallest variance {float(np.diag(s).min()):.3g}."
        )
    ev = np.linalg.eigvalsh(s)
    rank = int(np.sum(ev > 1e-10 * max(float(ev.max()), 0.0)))
    if rank < n:
        ncl = getattr(es, "n_clusters", None) if es is not None else None
        raise DataValidationError(
            f"sigma is singular: rank {rank} for {n} coefficients"
            + (f" (estimated from {ncl} clusters)" if ncl else "")
            + "; HonestDiD's tests and intervals would invert it. Re-estimate the event study "
            "with fewer event times (e.g. its default window, fitted to the cluster count) "
            "or pass a full-rank sigma."
        )
    return b, s, int(num_pre), int(num_post), term_times


def _count(name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise DataValidationError(
            f"{name} must be an integer >= 1 (HonestDiD needs at least one pre- and one "
            f"post-period coefficient); got {v!r}."
        )
    return int(v)


def _l_vec(l_vec: Any, n_post: int) -> np.ndarray:
    if l_vec is None:
        out = np.zeros(n_post)
        out[0] = 1.0
        return out
    lv = np.array(l_vec, dtype=float, copy=True).reshape(-1)
    if lv.shape[0] != n_post or not np.isfinite(lv).all() or not np.any(lv != 0):
        raise OptionError(
            f"l_vec must hold {n_post} finite weights (one per post-period), not all zero; "
            f"got {lv.tolist()}."
        )
    return lv


def _theta_bounds(tb: Any) -> tuple[float, float] | None:
    if tb is None:
        return None
    try:
        lo, hi = (float(x) for x in tb)
    except (TypeError, ValueError):
        raise OptionError(f"theta_bounds must be a pair (low, high); got {tb!r}.") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise OptionError(f"theta_bounds must be finite with low < high; got {tb!r}.")
    return lo, hi


def _grid(grid: Any, method: str, prob: _Problem) -> list[float]:
    if grid is None:
        if method == "relative_magnitude":
            return list(_DEFAULT_MBAR)
        return [float(x) for x in np.linspace(0.0, _default_m_upper(prob), 10)]
    arr = np.array(grid, dtype=float, copy=True).reshape(-1) if np.ndim(grid) <= 1 else None
    name = "Mbar" if method == "relative_magnitude" else "M"
    if arr is None or arr.size == 0 or not np.isfinite(arr).all() or (arr < 0).any():
        shown = np.asarray(grid).tolist() if arr is None else arr.tolist()
        raise OptionError(
            f"grid must be a non-empty one-dimensional list of finite {name} values >= 0; "
            f"got {shown}."
        )
    return [float(x) for x in arr]


def _default_m_upper(prob: _Problem) -> float:
    n_pre = prob.n_pre
    if n_pre < 2:
        return prob.theta_se
    # second differences of (beta_pre, 0) at centres -n_pre+1 .. -1
    d = np.zeros((n_pre - 1, n_pre))
    for j in range(n_pre - 1):
        d[j, j] += 1.0
        d[j, j + 1] -= 2.0
        if j + 2 < n_pre:
            d[j, j + 2] += 1.0
    sp = prob.sigma[:n_pre, :n_pre]
    est = d @ prob.betahat[:n_pre]
    se = np.sqrt(np.clip(np.diag(d @ sp @ d.T), 0.0, None))
    z = float(stats.norm.ppf(1 - prob.alpha))
    return float(np.max(np.abs(est) + z * se))
