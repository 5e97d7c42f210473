"""Power of the pre-test for parallel trends, and event-study estimates after it (Roth 2022).

:func:`pretrends_power` takes an event study (coefficients and covariance, the reference period
excluded) and a hypothesised differential trend ``delta`` -- a linear trend of a given slope, the
linear trend that the pre-test detects with a given probability, or any trend vector -- and
reports

* the **power** of the usual pre-test (reject when any pre-period coefficient is individually
  significant, ``|betahat_t| > c se_t``) against ``delta``, and its size (the power at
  ``delta = 0``);
* the **slope for power**: the slope of the linear trend detected with probability
  ``target_power``;
* the **Bayes factor** ``P(pass | delta) / P(pass | 0)`` and the **likelihood ratio** of the
  observed pre-period coefficients under ``delta`` against parallel trends;
* the **mean of every event-study coefficient conditional on passing the pre-test**, which is
  the bias of the post-period estimates after pre-testing when the trend is ``delta``.

The numbers follow the conventions of Roth's R package ``pretrends`` (threshold 1.96, linear
trends ``slope * (t - ref)``); this module is an independent implementation from the paper,
without code from that package. Multivariate normal box probabilities and truncated moments are
computed by Genz's separation of variables with randomly scrambled Sobol' points from a seeded
generator, so every result is reproducible to the last bit and its integration error is
reported (see :func:`pretrends_power`, Notes).
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats
from scipy.stats import qmc

from laborai._results import Provenance, ResultMixin, make_provenance, wald_table
from laborai.errors import (
    ConvergenceWarning,
    DataValidationError,
    EstimationError,
    LaborAIWarning,
    OptionError,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["PretrendsPowerResult", "pretrends_power"]

#: Threshold of R ``pretrends`` (``thresholdTstat.Pretest = 1.96``), used when ``alpha = 0.05``.
R_THRESHOLD = 1.96

# Integration settings: 16 independent scramblings of a Sobol' sequence of 2^m points,
# m = 10, ... (doubling as the error requires) until the standard error across scramblings is
# at most _TOL, or m = _MAX_EXP.
_N_SCRAMBLE = 16
_MIN_EXP = 10
_MAX_EXP = 16
_TOL = 2e-6
_MEAN_TOL = 5e-5  # standard error of the mean after pre-testing, relative to the largest s.e.
_SQRT_2PI = math.sqrt(2.0 * math.pi)


# --------------------------------------------------------------------------------------------
# Kernel: multivariate normal box probability and truncated first moment
# --------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=64)
def _sobol_points(dim: int, exp: int, seed: int) -> np.ndarray:
    """``_N_SCRAMBLE`` scrambled Sobol' point sets of ``2**exp`` points in ``[0, 1)^dim``.

    Shape ``(_N_SCRAMBLE, 2**exp, dim)``; read-only; a pure function of its arguments.
    """
    rng = np.random.default_rng([seed, dim, exp])
    pts = np.stack([qmc.Sobol(dim, scramble=True, seed=rng).random_base2(exp)
                    for _ in range(_N_SCRAMBLE)])
    pts.setflags(write=False)
    return pts


def _phi(x: np.ndarray | float) -> Any:
    """Standard normal density, 0 at +/- infinity."""
    return np.exp(-0.5 * np.square(x)) / _SQRT_2PI


def _ordered_cholesky(lo: np.ndarray, hi: np.ndarray, cov: np.ndarray,
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cholesky factor with Genz & Bretz's variable ordering (tightest expected interval first).

    Returns the permuted bounds, the lower-triangular factor of the permuted covariance and the
    permutation. Raises :class:`numpy.linalg.LinAlgError` if ``cov`` is not positive definite.
    """
    d = lo.shape[0]
    a, b, s = lo.copy(), hi.copy(), cov.copy()
    chol = np.zeros((d, d))
    y = np.zeros(d)
    perm = np.arange(d)
    for i in range(d):
        best, best_p = i, math.inf
        for j in range(i, d):
            var = s[j, j] - chol[j, :i] @ chol[j, :i]
            sd = math.sqrt(max(var, 1e-300))
            shift = chol[j, :i] @ y[:i]
            p = float(special.ndtr((b[j] - shift) / sd) - special.ndtr((a[j] - shift) / sd))
            if p < best_p:
                best, best_p = j, p
        for arr in (a, b, perm):
            arr[[i, best]] = arr[[best, i]]
        s[[i, best]] = s[[best, i]]
        s[:, [i, best]] = s[:, [best, i]]
        chol[[i, best]] = chol[[best, i]]
        piv = s[i, i] - chol[i, :i] @ chol[i, :i]
        if not piv > 1e-14 * max(float(np.max(np.diag(cov))), 1e-300):
            raise np.linalg.LinAlgError("covariance is not positive definite")
        chol[i, i] = math.sqrt(piv)
        chol[i + 1:, i] = (s[i + 1:, i] - chol[i + 1:, :i] @ chol[i, :i]) / chol[i, i]
        shift = chol[i, :i] @ y[:i]
        al, be = (a[i] - shift) / chol[i, i], (b[i] - shift) / chol[i, i]
        den = float(_interval(al, be)[0])
        y[i] = (float(_phi(al) - _phi(be)) / den) if den > 1e-300 else (
            al if abs(al) < abs(be) else be)
    return a, b, chol, perm


@dataclass(frozen=True)
class _Box:
    """``P(lo <= X <= hi)`` and ``E[X | lo <= X <= hi]`` for ``X ~ N(0, cov)``."""

    prob: float
    prob_se: float
    mean: np.ndarray  # conditional mean (original order)
    mean_se: float  # largest standard error of the conditional mean's coordinates
    exp: int  # log2 of the points per scrambling used (0 when exact)


def _interval(al: Any, be: Any) -> tuple[Any, Any, Any]:
    """``Phi(be) - Phi(al)`` computed in the tail where it is accurate, and the two ends of the
    uniform range that maps to ``[al, be]`` (reflected, ``z = -Phi^{-1}(u)``, where
    ``al > 0``)."""
    flip = np.asarray(al > 0)
    lower = special.ndtr(np.where(flip, -be, al))
    upper = special.ndtr(np.where(flip, -al, be))
    return upper - lower, lower, flip


def _box_at(a: np.ndarray, b: np.ndarray, chol: np.ndarray, perm: np.ndarray, exp: int,
            seed: int, want_mean: bool) -> _Box:
    d = a.shape[0]
    l0 = chol[0, 0]
    if d == 1:  # closed form
        p = float(_interval(a[0] / l0, b[0] / l0)[0])
        m = np.array([l0 * float(_phi(a[0] / l0) - _phi(b[0] / l0)) / p]) if p > 0 \
            else np.array([math.nan])
        return _Box(p, 0.0, m, 0.0, 0)
    w = _sobol_points(d - 1, exp, seed).reshape(-1, d - 1)
    n = w.shape[0]
    width, lower, flip = _interval(np.full(n, a[0] / l0), np.full(n, b[0] / l0))
    f = width
    z = np.empty((n, d))
    for i in range(1, d):
        u = np.clip(lower + w[:, i - 1] * width, 1e-300, 1.0 - 1e-16)
        zi = special.ndtri(u)
        z[:, i - 1] = np.where(flip, -zi, zi)
        shift = z[:, :i] @ chol[i, :i]
        al, be = (a[i] - shift) / chol[i, i], (b[i] - shift) / chol[i, i]
        width, lower, flip = _interval(al, be)
        if i == d - 1 and want_mean:
            # E[z_d 1{box_d}] = phi(al) - phi(be) given z_1..z_{d-1}: integrated analytically
            z[:, d - 1] = f * (_phi(al) - _phi(be))
        f = f * width
    per = f.reshape(_N_SCRAMBLE, -1).mean(axis=1)
    p = float(per.mean())
    p_se = float(per.std(ddof=1) / math.sqrt(_N_SCRAMBLE))
    if not want_mean or not np.all(per > 0):
        return _Box(p, p_se, np.full(d, math.nan), math.nan, exp)
    g = np.empty((n, d))
    g[:, : d - 1] = z[:, : d - 1] * f[:, None]
    g[:, d - 1] = z[:, d - 1]
    per_g = g.reshape(_N_SCRAMBLE, -1, d).mean(axis=1) @ chol.T  # E[X 1{box}] per scrambling
    per_m = per_g / per[:, None]
    m_perm = per_g.mean(axis=0) / p
    m_se = float(np.max(per_m.std(axis=0, ddof=1)) / math.sqrt(_N_SCRAMBLE))
    mean = np.empty(d)
    mean[perm] = m_perm
    return _Box(p, p_se, mean, m_se, exp)


def _box(lo: np.ndarray, hi: np.ndarray, cov: np.ndarray, *, seed: int, want_mean: bool = False,
         exp: int | None = None, mean_tol: float | None = None) -> _Box:
    """Box probability (and conditional mean) with adaptive or fixed QMC size."""
    a, b, chol, perm = _ordered_cholesky(lo, hi, cov)
    if exp is not None:
        return _box_at(a, b, chol, perm, exp, seed, want_mean)
    out = _box_at(a, b, chol, perm, _MIN_EXP, seed, want_mean)
    while out.exp and out.exp < _MAX_EXP:
        ratio = out.prob_se / _TOL
        if want_mean and mean_tol is not None:
            ratio = max(ratio, out.mean_se / mean_tol)
        if not ratio > 1.0:
            break
        # the error falls about like 1/N: jump to the size that should be enough
        step = max(1, math.ceil(math.log2(ratio)))
        out = _box_at(a, b, chol, perm, min(out.exp + step, _MAX_EXP), seed, want_mean)
    return out


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class PretrendsPowerResult(ResultMixin):
    """Result of :func:`pretrends_power`.

    Attributes
    ----------
    event_times : numpy.ndarray of int
        Event times of the coefficients (reference excluded), sorted.
    betahat : numpy.ndarray
        Event-study coefficients, same order.
    sigma : numpy.ndarray
        Their covariance matrix.
    ref : int
        Reference (omitted) event time; event times below it are pre-periods.
    delta : numpy.ndarray
        Hypothesised differential trend at ``event_times``.
    trend : str
        ``"linear"`` (``delta = slope * (t - ref)``) or ``"user"`` (a given vector).
    slope : float
        Slope of the hypothesised linear trend (NaN for a user trend).
    power : float
        Probability that the pre-test rejects (some pre-period ``|betahat_t| > threshold *
        se_t``) when the pre-period coefficients are ``N(delta_pre, sigma_pre)``.
    power_at_zero : float
        The same probability under parallel trends (``delta = 0``): the size of the pre-test.
    bayes_factor : float
        ``(1 - power) / (1 - power_at_zero)``: how much more likely passing the pre-test is
        under ``delta`` than under parallel trends.
    likelihood_ratio : float
        ``phi(betahat_pre; delta_pre, sigma_pre) / phi(betahat_pre; 0, sigma_pre)``.
    slope_for_power : float
        Slope of the linear trend ``slope * (t - ref)`` that the pre-test detects with
        probability ``target_power``.
    target_power : float
        The power that defines ``slope_for_power``.
    mean_after_pretest : numpy.ndarray
        ``E[betahat | pre-test passes]`` under ``betahat ~ N(delta, sigma)`` at every event
        time; for post-periods it is the bias of the estimate of the treatment effect after
        pre-testing (the bias without pre-testing is ``delta``).
    threshold : float
        Critical value of the individual pre-period t-tests.
    alpha : float
        Nominal level of each individual test (``2 * (1 - Phi(threshold))`` when ``threshold``
        was given).
    integration_error : float
        Largest standard error of the quasi-Monte Carlo integrals (0 with one pre-period:
        closed form).
    source : str
        Where the event study came from (a result class name or ``"betahat/sigma"``).
    vcov_source : str
        How the covariance was obtained (``"vcov"``, ``"influence function"``, ...).
    dropped_event_times : tuple of int
        Event times of the input left out (the reference period carried with a zero coefficient
        and zero variance by some estimators).
    provenance : Provenance
        Settings, seed, package version and a hash of ``(event_times, betahat, sigma)``.
    """

    event_times: np.ndarray
    betahat: np.ndarray
    sigma: np.ndarray
    ref: int
    delta: np.ndarray
    trend: str
    slope: float
    power: float
    power_at_zero: float
    bayes_factor: float
    likelihood_ratio: float
    slope_for_power: float
    target_power: float
    mean_after_pretest: np.ndarray
    threshold: float
    alpha: float
    integration_error: float
    source: str
    vcov_source: str
    dropped_event_times: tuple[int, ...]
    provenance: Provenance

    _title = "Pre-trend power (Roth 2022)"

    def __repr__(self) -> str:
        return (f"PretrendsPowerResult(trend={self.trend!r}, power={self.power:.4f}, "
                f"slope_for_power={self.slope_for_power:.6g}, "
                f"target_power={self.target_power:g}, n_pre={self.n_pre}, "
                f"n_post={self.n_post})")

    @property
    def is_pre(self) -> np.ndarray:
        """Boolean mask of the pre-periods (``event_times < ref``)."""
        return np.asarray(self.event_times < self.ref)

    @property
    def n_pre(self) -> int:
        """Number of pre-period coefficients (the pre-test's individual tests)."""
        return int(np.sum(self.event_times < self.ref))

    @property
    def n_post(self) -> int:
        """Number of post-period coefficients."""
        return int(np.sum(self.event_times > self.ref))

    def tidy(self) -> pd.DataFrame:
        """Event-study coefficients with the hypothesised trend and the means after pre-testing.

        Returns
        -------
        pandas.DataFrame
            One row per event time (the reference period is not a row): ``term``
            (``'event_time::k'``), ``estimate, std_error, statistic, p_value`` (normal) and
            ``conf_low, conf_high`` (``estimate -/+ threshold * std_error``: the band of the
            pre-test), then ``event_time``, ``period`` (``"pre"``/``"post"``),
            ``hypothesized_trend`` (``delta``), ``mean_after_pretest`` and
            ``bias_after_pretest`` (equal to ``mean_after_pretest`` on post-periods, where it
            is the bias of the effect estimate after passing the pre-test; NaN on pre-periods).
        """
        se = np.sqrt(np.diag(self.sigma))
        tab = wald_table(self.betahat, se, alpha=self.alpha, crit=self.threshold)
        tab.insert(0, "term", [f"event_time::{int(t)}" for t in self.event_times])
        tab["event_time"] = self.event_times.astype(np.int64)
        tab["period"] = np.where(self.is_pre, "pre", "post")
        tab["hypothesized_trend"] = self.delta
        tab["mean_after_pretest"] = self.mean_after_pretest
        tab["bias_after_pretest"] = np.where(self.is_pre, np.nan, self.mean_after_pretest)
        return tab

    def power_table(self) -> pd.DataFrame:
        """The scalar results in one row (R ``pretrends``' ``df_power`` and more).

        Returns
        -------
        pandas.DataFrame
            Columns ``power, power_at_zero, bayes_factor, likelihood_ratio, slope_for_power,
            target_power, trend, slope, threshold, n_pre, integration_error``.
        """
        return pd.DataFrame([{
            "power": self.power, "power_at_zero": self.power_at_zero,
            "bayes_factor": self.bayes_factor, "likelihood_ratio": self.likelihood_ratio,
            "slope_for_power": self.slope_for_power, "target_power": self.target_power,
            "trend": self.trend, "slope": self.slope, "threshold": self.threshold,
            "n_pre": self.n_pre, "integration_error": self.integration_error,
        }])

    def bias(self) -> pd.DataFrame:
        """Bias of the post-period estimates under the hypothesised trend, with and without
        pre-testing.

        Returns
        -------
        pandas.DataFrame
            One row per post-period: ``event_time``, ``bias_unconditional`` (``delta``),
            ``bias_after_pretest`` (``E[betahat | pass]``) and ``ratio`` (after / before;
            NaN where ``delta`` is 0).
        """
        post = ~self.is_pre
        d = self.delta[post]
        m = self.mean_after_pretest[post]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(d != 0, m / np.where(d != 0, d, 1.0), np.nan)
        return pd.DataFrame({"event_time": self.event_times[post].astype(np.int64),
                             "bias_unconditional": d, "bias_after_pretest": m, "ratio": ratio})

    def sentence(self, digits: int = 2) -> str:
        """The result in plain words, for readers who do not read tables.

        Parameters
        ----------
        digits : int, default 2
            Significant digits of the slope and the bias; the probability is shown with
            ``digits`` decimals.

        Returns
        -------
        str
            E.g. ``"A linear trend of slope 0.052 per period (relative to period -1) would have
            been detected by the pre-test with probability 0.50."``, followed, when there are
            post-periods, by the bias of their average after passing the pre-test.
        """
        p = f"{self.power:.{digits}f}"
        rule = (f"(it rejects when any of the {self.n_pre} pre-period coefficients has "
                f"|t| > {self.threshold:g})")
        if self.trend == "linear":
            what = (f"A linear trend of slope {self.slope:.{digits}g} per period (zero in "
                    f"period {self.ref})")
        else:
            what = "The hypothesised trend"
        text = f"{what} would have been detected by the pre-test {rule} with probability {p}."
        if self.n_post:
            b = self.bias()
            before = float(np.mean(b["bias_unconditional"]))
            after = float(np.mean(b["bias_after_pretest"]))
            text += (f" Had such a trend been present and the pre-test passed, the post-period "
                     f"estimates would be biased by {after:.{digits}g} on average "
                     f"({before:.{digits}g} without pre-testing).")
        return text

    def _header(self) -> list[tuple[str, str]]:
        trend = (f"linear, slope {self.slope:.6g} per period (zero at {self.ref})"
                 if self.trend == "linear" else "user-given vector")
        lines = [
            ("Pre-test", f"reject if any of {self.n_pre} pre-period |t| > {self.threshold:g}"),
            ("Hypothesised trend", trend),
            ("Power against the trend", f"{self.power:.4f}"),
            ("Size (power under parallel trends)", f"{self.power_at_zero:.4f}"),
            ("Bayes factor P(pass|trend)/P(pass|0)", f"{self.bayes_factor:.4f}"),
            ("Likelihood ratio", f"{self.likelihood_ratio:.6g}"),
            (f"Slope with power {self.target_power:g}", f"{self.slope_for_power:.6g}"),
            ("Covariance", f"{self.vcov_source} ({self.source})"),
            ("Integration error (s.e.)", f"{self.integration_error:.1e}"),
        ]
        return lines

    def plot(self, ax: Axes | None = None) -> Axes:
        """Event-study plot with the hypothesised trend and the means after pre-testing.

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
            _, ax = plt.subplots(figsize=(6.0, 3.5))
        t = self.tidy()
        x = t["event_time"].to_numpy(dtype=float)
        order = np.argsort(np.append(x, self.ref))
        xs = np.append(x, self.ref)[order]
        est = t["estimate"].to_numpy(dtype=float)
        ax.errorbar(x, est, yerr=[est - t["conf_low"], t["conf_high"] - est], fmt="o",
                    color="tab:blue", capsize=2,
                    label=f"estimate, +/- {self.threshold:g} s.e.")
        ax.plot([self.ref], [0.0], "o", color="tab:blue", mfc="white")
        ax.plot(xs, np.append(self.delta, 0.0)[order], "-", color="tab:red",
                label="hypothesised trend")
        ax.plot(xs, np.append(self.mean_after_pretest, 0.0)[order], "--", color="tab:orange",
                label="expected after passing the pre-test")
        ax.axhline(0.0, color="0.5", linewidth=0.8)
        ax.axvline(self.ref + 0.5, color="0.7", linestyle=":", linewidth=0.8)
        ax.set_xlabel("event time")
        ax.set_ylabel("coefficient")
        ax.set_title(f"power {self.power:.2f} against the trend", fontsize="medium")
        ax.legend(loc="best", frameon=False, fontsize="small")
        return ax


# --------------------------------------------------------------------------------------------
# Reading event-study results
# --------------------------------------------------------------------------------------------
def _from_aggregate(res: Any) -> tuple[Any, Any, Any, int, str]:
    """event_times, coef, vcov, ref and vcov source of a Callaway-Sant'Anna dynamic aggregate."""
    if res.type != "dynamic":
        raise OptionError(
            "pretrends_power needs an event study; this AggregateResult has "
            f"type={res.type!r}. Use att_gt(...).aggregate('dynamic')."
        )
    ps = res.provenance.settings
    if ps.get("base_period", "universal") != "universal":
        raise OptionError(
            "pretrends_power needs pre-period estimates measured against one reference period; "
            f"att_gt was run with base_period={ps.get('base_period')!r}, whose pre-period "
            "estimates are one-period changes. Re-run att_gt(..., base_period='universal') "
            "and aggregate('dynamic') again."
        )
    if res.settings.get("placebo_df") is not None:
        raise OptionError(
            "this dynamic aggregate uses placebo (Conley-Taber) inference, whose covariance "
            "matrix across event times is not stored; pretrends_power cannot use it. Use "
            "att_gt(..., vcov='analytic'), or event_study / sun_abraham (which carry their full "
            "covariance)."
        )
    ref = -1 - int(ps.get("anticipation", 0) or 0)
    inf = np.asarray(res.influence, dtype=float)
    n = inf.shape[0]
    times = np.asarray(res.element, dtype=float)
    est = np.asarray(res.estimate, dtype=float)
    se = np.asarray(res.std_error, dtype=float)
    keep = times != ref
    if not np.all(np.isfinite(inf[:, keep])):
        raise EstimationError("the dynamic aggregate has missing influence functions; "
                              "pretrends_power needs all of them.")
    v_if = inf.T @ inf / float(n) ** 2
    se_if = np.sqrt(np.diag(v_if))
    vcov = v_if
    source = "influence function"
    if not np.allclose(se_if[keep], se[keep], rtol=1e-6, atol=0.0):
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = v_if / np.outer(se_if, se_if)
        s = np.where(keep, se, 0.0)
        vcov = np.where(np.outer(keep, keep), corr * np.outer(s, s), 0.0)
        why = ("multiplier bootstrap" if res.settings.get("vcov") == "bootstrap"
               else f"clustered by {ps.get('cluster')!r}")
        source = (f"influence-function correlation with the reported ({why}) standard "
                  "errors")
        warnings.warn(
            f"pretrends_power: the dynamic aggregate's standard errors are {why}, which its "
            "stored influence functions do not reproduce; the covariance used combines the "
            "influence-function correlations with the reported standard errors (recorded in "
            "vcov_source).",
            LaborAIWarning, stacklevel=5,
        )
    return times, est, vcov, ref, source


def _read_result(res: Any) -> tuple[Any, Any, Any, Any, str, str]:
    name = type(res).__name__
    if name == "ATTgtResult":
        raise OptionError(
            "pretrends_power needs an event study; aggregate the ATT(g,t) first: "
            "att_gt(...).aggregate('dynamic') (with base_period='universal')."
        )
    if name == "AggregateResult" and hasattr(res, "influence"):
        t, b, v, ref, src = _from_aggregate(res)
        return t, b, v, ref, src, name
    missing = [a for a in ("event_times", "coef", "vcov", "ref") if not hasattr(res, a)]
    if missing:
        raise OptionError(
            "result must be an event-study result with attributes event_times, coef, vcov "
            f"and ref (event_study, sun_abraham, did_imputation, att_gt(...).aggregate("
            f"'dynamic')); {name} lacks {', '.join(missing)}."
        )
    return res.event_times, res.coef, res.vcov, res.ref, "vcov", name


def _integer_times(times: Any, what: str) -> np.ndarray:
    arr = np.asarray(times)
    try:
        f = arr.astype(float).reshape(-1)
        ok = arr.ndim == 1 and bool(np.all(np.isfinite(f))) and bool(np.all(f == np.round(f)))
    except (TypeError, ValueError):
        ok = False
    if not ok or arr.size == 0:
        raise DataValidationError(
            f"{what} must be a non-empty one-dimensional list of integer event times; got "
            f"{np.asarray(times).tolist()!r:.200}."
        )
    return np.round(f).astype(np.int64)


def _prepare(result: Any, betahat: Any, sigma: Any, event_times: Any, ref: Any,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, str, str, tuple[int, ...],
                        np.ndarray]:
    if result is not None:
        given = [n for n, v in (("betahat", betahat), ("sigma", sigma),
                                ("event_times", event_times)) if v is not None]
        if given:
            raise OptionError(
                "pass either result or betahat/sigma/event_times, not both; got result and "
                f"{', '.join(given)}."
            )
        event_times, betahat, sigma, res_ref, vsrc, src = _read_result(result)
        if ref != -1 and ref != res_ref:
            raise OptionError(
                f"ref={ref!r} differs from the result's reference period {res_ref!r}; the "
                "reference period of a result is taken from the result (leave ref out).")
        ref = res_ref
    else:
        missing = [n for n, v in (("betahat", betahat), ("sigma", sigma),
                                  ("event_times", event_times)) if v is None]
        if missing:
            raise OptionError(
                "pass an event-study result, or all of betahat, sigma and event_times; "
                f"missing {', '.join(missing)}."
            )
        vsrc, src = "given", "betahat/sigma"
    if isinstance(ref, bool) or not isinstance(ref, (int, np.integer, float, np.floating)) \
            or not math.isfinite(float(ref)) or float(ref) != round(float(ref)):
        raise OptionError(f"ref must be an integer event time; got {ref!r}.")
    r = int(round(float(ref)))
    times = _integer_times(event_times, "event_times")
    if np.ndim(betahat) != 1:
        raise DataValidationError(
            f"betahat must be one-dimensional; got an array of shape {np.shape(betahat)}.")
    b = np.array(betahat, dtype=float, copy=True)
    s = np.array(sigma, dtype=float, copy=True)
    k = times.shape[0]
    if b.shape[0] != k:
        raise DataValidationError(
            f"betahat has {b.shape[0]} elements but event_times has {k}; they must match.")
    if s.shape != (k, k):
        raise DataValidationError(
            f"sigma must be a {k} x {k} matrix matching betahat; got shape {s.shape}.")
    if len(np.unique(times)) != k:
        u, c = np.unique(times, return_counts=True)
        raise DataValidationError(
            f"event_times must be unique; repeated: {u[c > 1].tolist()[:5]}.")
    if not (np.isfinite(b).all() and np.isfinite(s).all()):
        raise DataValidationError(
            "betahat and sigma must be finite; found "
            f"{int((~np.isfinite(b)).sum())} non-finite coefficient(s) and "
            f"{int((~np.isfinite(s)).sum())} non-finite covariance entr(ies).")
    dropped: tuple[int, ...] = ()
    index = np.arange(k)  # position in the input of each coefficient kept
    if r in times:
        j = int(np.flatnonzero(times == r)[0])
        if result is not None and b[j] == 0 and not np.any(s[j] != 0) and not np.any(s[:, j]):
            keep = times != r
            times, b, s, index = times[keep], b[keep], s[np.ix_(keep, keep)], index[keep]
            dropped = (r,)
        else:
            raise DataValidationError(
                f"event_times include the reference period ref={r}; leave it out (its "
                "coefficient is normalised to zero), or pass the right ref.")
    order = np.argsort(times, kind="stable")
    times, b, s, index = times[order], b[order], s[np.ix_(order, order)], index[order]
    scale = float(np.abs(s).max()) or 1.0
    if not np.allclose(s, s.T, rtol=0, atol=1e-10 * scale):
        raise DataValidationError(
            "sigma must be symmetric; the largest asymmetry |sigma - sigma'| is "
            f"{float(np.abs(s - s.T).max()):.3g}.")
    s = 0.5 * (s + s.T)
    if np.any(np.diag(s) <= 0):
        bad = times[np.diag(s) <= 0]
        raise DataValidationError(
            f"sigma must have positive variances; {len(bad)} event time(s) have variance <= 0: "
            f"{bad.tolist()[:5]}.")
    ev_min = float(np.linalg.eigvalsh(s).min())
    if ev_min < -1e-10 * scale:
        raise DataValidationError(
            f"sigma must be positive semi-definite; smallest eigenvalue {ev_min:.3g}.")
    pre = times < r
    if not pre.any():
        raise DataValidationError(
            f"no pre-period coefficient: every event time is >= ref={r} (event_times "
            f"{times.tolist()[:10]}); the pre-test needs at least one event time before ref.")
    sp = s[np.ix_(pre, pre)]
    evp = np.linalg.eigvalsh(sp)
    if evp.min() <= 1e-12 * evp.max():
        raise DataValidationError(
            f"the covariance of the {int(pre.sum())} pre-period coefficients is singular "
            f"(smallest / largest eigenvalue {evp.min() / evp.max():.2g}); the pre-test's "
            "power is not defined. Re-estimate with fewer pre-periods or pass a full-rank "
            "sigma.")
    return times, b, s, r, vsrc, src, dropped, index


def _check_number(name: str, v: Any, low: float, high: float, *, open_low: bool = True) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not (
            math.isfinite(float(v)) and (low < v if open_low else low <= v) and v < high):
        lo = "(" if open_low else "["
        raise OptionError(f"{name} must be a number in {lo}{low:g}, {high:g}); got {v!r}.")
    return float(v)


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------
def pretrends_power(
    result: Any = None,
    *,
    betahat: Sequence[float] | np.ndarray | None = None,
    sigma: Sequence[Sequence[float]] | np.ndarray | None = None,
    event_times: Sequence[int] | np.ndarray | None = None,
    ref: int = -1,
    target_power: float = 0.5,
    delta: Sequence[float] | np.ndarray | None = None,
    slope: float | None = None,
    alpha: float = 0.05,
    threshold: float | None = None,
    seed: int = 0,
) -> PretrendsPowerResult:
    """Power of the pre-test against a hypothesised trend, and estimates after pre-testing.

    Parameters
    ----------
    result : object, optional
        An event-study result: :func:`laborai.did.event_study`, :func:`laborai.did.sun_abraham`,
        ``att_gt(..., base_period="universal").aggregate("dynamic")``, or any object with
        attributes ``event_times``, ``coef``, ``vcov`` and ``ref`` (e.g. the imputation
        estimator's result). Give either this or ``betahat``, ``sigma`` and ``event_times``.
    betahat : array-like, optional
        Event-study coefficients (the reference period excluded).
    sigma : array-like, optional
        Their covariance matrix.
    event_times : array-like of int, optional
        Event time of each coefficient (R's ``tVec``); any order, gaps allowed.
    ref : int, default -1
        Reference period (R's ``referencePeriod``); coefficients with ``event_times < ref`` are
        the pre-periods. Taken from ``result`` when one is given (another value is an
        error).
    target_power : float, default 0.5
        Power that defines ``slope_for_power``; also the trend examined when neither ``delta``
        nor ``slope`` is given. Must exceed the size of the pre-test.
    delta : array-like, optional
        A hypothesised trend, one value per coefficient in the order of ``event_times`` (of
        ``result.event_times``), e.g. a quadratic ``0.024 * (t + 1) ** 2``; zero at ``ref`` by
        construction.
    slope : float, optional
        Slope of a hypothesised linear trend ``delta_t = slope * (t - ref)``.
    alpha : float, default 0.05
        Level of each individual pre-period test. For ``alpha = 0.05`` the threshold is 1.96,
        as in R's ``pretrends``; for other values ``Phi^{-1}(1 - alpha / 2)``.
    threshold : float, optional
        Critical value of the individual tests; overrides ``alpha`` (e.g.
        ``scipy.stats.norm.ppf(0.975)`` for the exact normal quantile).
    seed : int, default 0
        Seed of the scrambled Sobol' points of the numerical integration.

    Returns
    -------
    PretrendsPowerResult
        ``power``, ``power_at_zero``, ``bayes_factor``, ``likelihood_ratio``,
        ``slope_for_power``, ``mean_after_pretest``; ``tidy()`` by event time,
        ``power_table()``, ``bias()``, ``sentence()`` and ``plot()``.

    Raises
    ------
    OptionError
        Inconsistent inputs (both a result and arrays, both ``delta`` and ``slope``), bad
        ``target_power``, ``alpha``, ``threshold``, ``slope``, ``seed`` or ``ref``, or a result
        that is not a usable event study (ATT(g,t) not aggregated, a varying base period, a
        placebo covariance that is not stored).
    DataValidationError
        ``betahat``, ``sigma``, ``event_times`` or ``delta`` do not match, are not finite,
        ``sigma`` is not a symmetric positive semi-definite matrix, there is no pre-period, or
        the pre-period covariance is singular.

    Notes
    -----
    Write ``betahat = tau + delta + eps`` with ``eps ~ N(0, sigma)``, ``tau`` the treatment
    effects (zero before ``ref``) and ``delta`` a differential trend (zero at ``ref``). The
    pre-test passes when no pre-period coefficient is individually significant,
    ``B = {|betahat_t| <= c se_t for all t < ref}``, with ``c = threshold`` (Roth 2022). Then

    * ``power = 1 - P(betahat_pre in B)`` under ``N(delta_pre, sigma_pre)``;
    * ``slope_for_power`` solves ``power(slope * (t - ref)) = target_power`` (Brent's method to
      ``1e-10``; R's ``uniroot`` stops at about ``1.2e-4``, which bounds the difference);
    * ``bayes_factor = P(B | delta) / P(B | 0)``; ``likelihood_ratio =
      exp(delta' S^{-1} b - delta' S^{-1} delta / 2)`` with ``b, S`` the pre-period
      coefficients and covariance;
    * ``mean_after_pretest = E[betahat | betahat_pre in B]`` under ``N(delta, sigma)``: for
      pre-periods the mean of a truncated normal, for post-periods
      ``delta_post + sigma_post,pre sigma_pre^{-1} (E[betahat_pre | B] - delta_pre)``. With
      ``tau = 0`` in this computation, the post-period values are the bias of the effect
      estimates among studies that pass the pre-test.

    Numerics: ``P(B)`` and ``E[betahat_pre 1{B}]`` are one integral over ``[0, 1]^{k-1}``
    (``k`` pre-periods) after Genz's (1992) separation of variables with the variable ordering
    of Genz & Bretz (2009); the last coordinate's truncated mean is integrated analytically.
    The integral is evaluated on 16 independently scrambled Sobol' sequences from
    ``numpy.random.default_rng(seed)``, with ``2^10, 2^11, ...`` points each until the
    standard error across scramblings is at most ``2e-6`` (at most ``2^16`` points, with a
    :class:`~laborai.errors.ConvergenceWarning` if that is not enough); the largest standard
    error is ``integration_error`` (typically ``1e-7`` with three pre-periods and ``5e-6``
    with eight). With one pre-period everything is in closed form. The same seed gives the
    same numbers bit for bit. R's ``pretrends`` uses ``mvtnorm``'s randomised Genz-Bretz
    algorithm with ``abseps = 1e-3``, so R itself varies by about ``1e-4`` from run to run.

    For a Callaway-Sant'Anna dynamic aggregate the covariance is ``IF' IF / n^2`` from the
    stored influence functions; when the reported standard errors are bootstrapped or
    clustered, the influence-function correlations are combined with the reported standard
    errors (warned and recorded in ``vcov_source``). An event study's binned end points are
    treated as the event times they are labelled with.

    References
    ----------
    Roth, J. (2022). Pretest with Caution: Event-Study Estimates after Testing for Parallel
    Trends. American Economic Review: Insights 4(3), 305-322.

    Genz, A. (1992). Numerical Computation of Multivariate Normal Probabilities. Journal of
    Computational and Graphical Statistics 1(2), 141-149.

    Genz, A. and Bretz, F. (2009). Computation of Multivariate Normal and t Probabilities.
    Lecture Notes in Statistics 195, Springer.

    Examples
    --------
    >>> import numpy as np
    >>> from laborai.did.pretrends import pretrends_power
    >>> t = np.array([-4, -3, -2, 0, 1, 2])
    >>> se = np.array([0.05, 0.045, 0.04, 0.10, 0.11, 0.12])
    >>> sigma = 0.5 ** np.abs(np.subtract.outer(range(6), range(6))) * np.outer(se, se)
    >>> b = np.array([0.012, -0.008, 0.021, 0.18, 0.24, 0.31])
    >>> res = pretrends_power(betahat=b, sigma=sigma, event_times=t, slope=0.02)
    >>> round(res.power, 3), round(res.slope_for_power, 4)
    (0.332, 0.0279)
    >>> res.sentence()[:60]
    'A linear trend of slope 0.02 per period (zero in period -1) '
    """
    if delta is not None and slope is not None:
        raise OptionError("give delta (a trend vector) or slope (a linear trend), not both.")
    tp = _check_number("target_power", target_power, 0.0, 1.0)
    a = _check_number("alpha", alpha, 0.0, 1.0)
    if threshold is None:
        c = R_THRESHOLD if a == 0.05 else float(stats.norm.ppf(1.0 - a / 2.0))
    else:
        c = _check_number("threshold", threshold, 0.0, math.inf)
        a = float(2.0 * stats.norm.sf(c))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise OptionError(f"seed must be a non-negative integer; got {seed!r}.")
    seed = int(seed)
    times, b, s, r, vsrc, src, dropped, index = _prepare(result, betahat, sigma, event_times,
                                                         ref)
    pre = times < r
    h = (times - r).astype(float)  # a linear trend of slope 1
    if slope is not None:
        slope = _check_number("slope", slope, -math.inf, math.inf)
    if delta is not None:
        if np.ndim(delta) != 1 or len(delta) != len(times) + len(dropped):
            raise DataValidationError(
                f"delta must hold one value per event time ({len(times)}: "
                f"{times.tolist()[:10]}); got shape {np.shape(delta)}.")
        dv = np.array(delta, dtype=float, copy=True)[index]  # same order as the coefficients
        if not np.isfinite(dv).all():
            raise DataValidationError("delta must be finite; found NaN or infinite values.")
    sp = s[np.ix_(pre, pre)]
    se_pre = np.sqrt(np.diag(sp))
    hp = h[pre]
    box_hi = c * se_pre
    errors: list[float] = []

    def pass_box(mu_pre: np.ndarray, exp: int | None = None) -> _Box:
        out = _box(-box_hi - mu_pre, box_hi - mu_pre, sp, seed=seed, exp=exp)
        if exp is None:
            errors.append(out.prob_se)
        return out

    # size of the pre-test and the slope with the target power
    p0 = pass_box(np.zeros(int(pre.sum()))).prob
    size = 1.0 - p0
    if tp <= size:
        raise OptionError(
            f"target_power must exceed the size of the pre-test (its power under parallel "
            f"trends), {size:.4f}; got {tp:g}.")
    s_max = _solve_slope(pass_box, hp, tp, 8.0 * float(se_pre.max()))

    if delta is None:
        trend = "linear"
        slope_v = s_max if slope is None else float(slope)
        dv = slope_v * h
    else:
        trend = "user"
        slope_v = math.nan
    dp = dv[pre]
    box = _box(-box_hi - dp, box_hi - dp, sp, seed=seed, want_mean=True,
               mean_tol=_MEAN_TOL * float(se_pre.max()))
    errors.append(box.prob_se)
    if box.prob_se > _TOL:
        warnings.warn(
            f"pretrends_power: the integration error {box.prob_se:.1e} exceeds {_TOL:g} after "
            f"2^{_MAX_EXP} points per scrambling ({int(pre.sum())} pre-periods).",
            ConvergenceWarning, stacklevel=2)
    if not np.all(np.isfinite(box.mean)):
        warnings.warn(
            f"pretrends_power: passing the pre-test has probability {box.prob:.2g} under the "
            "hypothesised trend, too small for the mean after pre-testing to be computed; "
            "mean_after_pretest is NaN.", LaborAIWarning, stacklevel=2)
    power = 1.0 - box.prob
    m_pre = dp + box.mean
    mean_after = np.array(dv, dtype=float)
    mean_after[pre] = m_pre
    if (~pre).any():
        s_po_pr = s[np.ix_(~pre, pre)]
        mean_after[~pre] = dv[~pre] + s_po_pr @ np.linalg.solve(sp, box.mean)
    bp = b[pre]
    sol_b, sol_d = np.linalg.solve(sp, bp), np.linalg.solve(sp, dp)
    lr = math.exp(float(dp @ sol_b - 0.5 * dp @ sol_d))

    settings = {
        "ref": r, "target_power": tp, "trend": trend,
        "slope": None if trend == "user" else slope_v,
        "delta": tuple(float(x) for x in dv), "alpha": a, "threshold": c,
        "source": src, "vcov_source": vsrc, "n_scrambles": _N_SCRAMBLE,
        "max_points": 2 ** _MAX_EXP, "tolerance": _TOL,
    }
    frame = pd.DataFrame(np.column_stack([times, b, s]),
                         columns=["event_time", "betahat", *[f"sigma_{j}" for j in range(len(b))]])
    prov = make_provenance("pretrends_power", frame, settings, seed=seed)
    return PretrendsPowerResult(
        event_times=times, betahat=b, sigma=s, ref=r, delta=dv, trend=trend, slope=slope_v,
        power=power, power_at_zero=size, bayes_factor=box.prob / p0, likelihood_ratio=lr,
        slope_for_power=s_max, target_power=tp, mean_after_pretest=mean_after, threshold=c,
        alpha=a, integration_error=float(max(errors)), source=src, vcov_source=vsrc,
        dropped_event_times=dropped, provenance=prov,
    )


def _solve_slope(pass_box: Any, hp: np.ndarray, target: float, upper: float) -> float:
    """Slope gamma with ``1 - P(pass | gamma * hp) = target`` (the power increases in gamma).

    A coarse root with ``2^8`` points per scrambling is refined by secant steps with the point
    count that the adaptive rule needs at the coarse root, the same points at every slope (so
    the integral is a smooth function of the slope); Brent's method is the fallback.
    """
    memo: dict[tuple[float, int], float] = {}

    def g(x: float, exp: int) -> float:
        if (x, exp) not in memo:
            memo[(x, exp)] = 1.0 - float(pass_box(x * hp, exp).prob) - target
        return memo[(x, exp)]

    hi = upper
    for _ in range(60):
        if g(hi, _MIN_EXP - 2) > 0:
            break
        hi *= 2.0
    else:  # pragma: no cover - the power tends to 1 as the slope grows
        raise EstimationError("slope_for_power: no slope reaches the target power.")
    x0 = float(optimize.brentq(g, 0.0, hi, args=(_MIN_EXP - 2,), xtol=1e-12, rtol=1e-6))
    fine = pass_box(x0 * hp, None)
    exp = fine.exp or _MIN_EXP
    memo[(x0, exp)] = 1.0 - float(fine.prob) - target
    # secant steps from the coarse root on the fine (smooth, monotone) integral
    xa, xb = x0, x0 * (1.0 + 1e-3)
    ga, gb = g(xa, exp), g(xb, exp)
    for _ in range(12):
        if gb == ga:
            break
        xa, xb, ga = xb, xb - gb * (xb - xa) / (gb - ga), gb
        if not 0.0 < xb < hi:
            break
        gb = g(xb, exp)
        if abs(gb) <= 1e-3 * _TOL or abs(xb - xa) <= 1e-9 * abs(xb):
            return float(xb)
    lo_b, hi_b = 0.98 * x0, 1.02 * x0  # fallback: Brent's method on a bracket
    if g(lo_b, exp) * g(hi_b, exp) > 0:
        lo_b, hi_b = 0.0, hi
    return float(optimize.brentq(g, lo_b, hi_b, args=(exp,), xtol=1e-14, rtol=1e-12))
