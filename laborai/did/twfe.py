"""Two-way fixed-effects DiD, event studies and triple differences (wrapping pyfixest).

The estimators here are regressions with unit and period fixed effects, estimated by
laborai's exact fast paths (:mod:`laborai.did._fastfe` for OLS/WLS, :mod:`laborai.did._fastpois`
for Poisson pseudo-maximum likelihood) or by :func:`pyfixest.feols` / :func:`pyfixest.fepois`
(``backend='pyfixest'``), and packaged in laborai's frozen result types:

* :func:`twfe` -- ``y ~ d (+ controls) | unit + period`` with a binary or continuous ``d``;
* :func:`event_study` -- leads and lags of event time with binned end points, a joint
  pre-trend test and simultaneous sup-t bands;
* :func:`ddd` -- the triple difference exposed x post x high-value tier.

Inference: CRV1 cluster-robust (one- or two-way) with fixest's small-sample conventions,
heteroskedasticity-robust (HC1), or the wild cluster restricted bootstrap of
:mod:`laborai.did.inference`.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd

from laborai._results import (
    TIDY_COLUMNS,
    Provenance,
    ResultMixin,
    hotelling_f,
    make_provenance,
    pinv_wald,
    wald_table,
)
from laborai._validation import (
    check_option,
    check_time_column,
    resolve_seed,
    unit_level_binary,
)
from laborai.did._core import (
    _BACKENDS,
    FEW_CLUSTERS,
    PLACEBO_MIN_CONTROLS,
    _build_frame,
    _check_unique_codes,
    _cluster_cols,
    _codes,
    _common_checks,
    _event_positions,
    _fe_columns,
    _Fit,
    _fit_core,
    _inv_size,
    _numeric,
    _regression_placebo_choice,
    _regression_placebo_fit,
    _require_columns,
    _resolve_vcov,
    _sup_t_crit,
    _sup_t_crit_placebo,
    _use_fast,
    _varying_units,
    _warn_fit_drops,
    normalise_vcov,
)
from laborai.did._formula import formula_interface
from laborai.errors import (
    DataValidationError,
    EstimationError,
    LaborAIWarning,
    OptionError,
    SmallSampleWarning,
)

__all__ = [
    "EventStudyResult",
    "TWFEResult",
    "ddd",
    "event_study",
    "twfe",
]

Family = Literal["ols", "poisson"]
VcovType = Literal["auto", "cluster", "hetero", "iid", "wild", "placebo"]
BootWeights = Literal["rademacher", "webb"]
Backend = Literal["auto", "fast", "pyfixest"]

_F = TypeVar("_F", bound=Callable[..., Any])
#: inputs from this many rows on are hashed (for provenance) in a background thread
_HASH_OVERLAP_ROWS = 100_000


def _overlap_hash(fn: _F) -> _F:
    """Hash a large input for its provenance in a worker thread while ``fn`` estimates."""
    @functools.wraps(fn)
    def wrapper(data: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(data, pd.DataFrame) and len(data) >= _HASH_OVERLAP_ROWS:
            from laborai._hashing import hashing_in_background

            with hashing_in_background(data):
                return fn(data, *args, **kwargs)
        return fn(data, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _lincom_rows(fit: _Fit, lincoms: Mapping[str, Mapping[str, float]], alpha: float,
                 ) -> pd.DataFrame:
    est, se = [], []
    for weights in lincoms.values():
        w = np.array([weights.get(n, 0.0) for n in fit.names])
        est.append(float(w @ fit.coef))
        se.append(float(np.sqrt(w @ fit.vcov @ w)))
    return wald_table(est, se, alpha=alpha, df=fit.df_t)


# --------------------------------------------------------------------------------------------
# Result: TWFE (also used by ddd)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class TWFEResult(ResultMixin):
    """Frozen result of :func:`twfe` and :func:`ddd`.

    Attributes
    ----------
    terms : tuple of str
        Names of the estimated coefficients (user-facing names).
    coef : numpy.ndarray
        Coefficients, in the order of ``terms``.
    vcov : numpy.ndarray
        Their analytic covariance matrix (CRV1 or HC1; also under ``vcov='wild'``).
    nobs : int
        Observations used.
    n_clusters : int, tuple of int or None
        Clusters per clustering dimension (None for ``vcov='hetero'``).
    df_resid : float or None
        Degrees of freedom of the t reference distribution (None: normal, Poisson models).
    n_dropped : int
        Rows of the input not used (missing values, separation); never silent: a
        :class:`laborai.errors.LaborAIWarning` is issued when positive.
    family, vcov_type, cluster, alpha
        Settings.
    boot : mapping or None
        Wild bootstrap settings (draws, enumeration) when ``vcov_type == 'wild'``.
    provenance : Provenance
        Estimator name, settings, seed, package version and input hash.
    r2, r2_within : float
        R-squared and within R-squared of the OLS fit (pyfixest's definitions; NaN for
        Poisson).

    The result holds its input as a copy-on-write view (not a copy; ``with_vcov`` refits on
    it), and ``provenance.settings['backend']`` names the engine that fitted it.
    """

    terms: tuple[str, ...]
    coef: np.ndarray
    vcov: np.ndarray
    table: pd.DataFrame
    nobs: int
    n_clusters: int | tuple[int, ...] | None
    df_resid: float | None
    n_dropped: int
    family: str
    vcov_type: str
    cluster: tuple[str, ...]
    alpha: float
    boot: Mapping[str, Any] | None
    provenance: Provenance
    _estimator: str = field(default="twfe", repr=False)
    _data: pd.DataFrame | None = field(default=None, repr=False)
    _kwargs: Mapping[str, Any] = field(default_factory=dict, repr=False)
    r2: float = math.nan
    r2_within: float = math.nan
    _title = "Two-way fixed-effects regression"

    def tidy(self) -> pd.DataFrame:
        """Return the coefficient table.

        Columns ``term, estimate, std_error, statistic, p_value, conf_low, conf_high`` and, for
        :func:`ddd`, ``effect`` (``'did_low'``, ``'high_post'``, ``'ddd'``, ``'did_high'``).
        Under ``vcov='wild'`` ``std_error`` and ``statistic`` are the CRV1 ones while
        ``p_value`` and the interval come from the wild cluster bootstrap.
        """
        return self.table.copy()

    def with_vcov(
        self,
        vcov: VcovType,
        *,
        cluster: str | Sequence[str] | None = None,
        alpha: float | None = None,
        n_boot: int | None = None,
        boot_weights: BootWeights | None = None,
        seed: int | None = None,
    ) -> TWFEResult:
        """Return a NEW result with different inference (this one is left unchanged).

        Parameters
        ----------
        vcov : {'auto', 'cluster', 'hetero', 'wild', 'placebo'}
            New variance estimator.
        cluster : str or pair of str, optional
            New cluster column(s); default: keep the current ones.
        alpha, n_boot, boot_weights, seed : optional
            Override the corresponding settings.

        Returns
        -------
        TWFEResult
        """
        if self._data is None:  # pragma: no cover - results are always built with data
            raise EstimationError("this result does not carry its data; re-run the estimator.")
        kw = dict(self._kwargs)
        kw.pop("vcov_requested", None)
        kw.pop("n_placebo_clusters", None)
        kw.pop("size_effects", None)
        if "size_requested" in kw:
            kw["size"] = kw.pop("size_requested")
        kw["vcov"] = vcov
        if cluster is not None:
            kw["cluster"] = cluster
        for name, val in (("alpha", alpha), ("n_boot", n_boot),
                          ("boot_weights", boot_weights), ("seed", seed)):
            if val is not None:
                kw[name] = val
        fn = {"twfe": twfe, "ddd": ddd}[self._estimator]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LaborAIWarning)
            return fn(self._data, **kw)  # type: ignore[operator]

    def _header(self) -> list[tuple[str, str]]:
        lines = [("Family", self.family), ("Observations", str(self.nobs)),
                 ("Inference", self._inference_label())]
        if self.n_clusters is not None:
            lines.append(("Clusters", f"{' x '.join(self.cluster)}: {self.n_clusters}"))
        if self.n_dropped:
            lines.append(("Rows dropped", str(self.n_dropped)))
        return lines

    def _inference_label(self) -> str:
        if self.vcov_type == "hetero":
            return "HC1 (heteroskedasticity-robust)"
        if self.vcov_type == "iid":
            return "iid (classical)"
        if self.vcov_type == "placebo":
            return (f"placebo (Conley-Taber) over the control clusters for the treatment "
                    f"terms, t({self.df_resid:g})")
        if self.vcov_type == "wild" and self.boot is not None:
            enum = ", full enumeration" if self.boot["enumerated"] else ""
            return (f"wild cluster restricted bootstrap ({self.boot['boot_weights']}, "
                    f"{self.boot['n_boot']} draws{enum}); SE: CRV1")
        return "CRV1 cluster-robust"

    def plot(self, ax: Any = None, terms: Sequence[str] | None = None) -> Any:
        """Coefficient plot: point estimates with their confidence intervals.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on (a new figure is created when omitted).
        terms : sequence of str, optional
            Terms to show (default: all).

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        t = self.tidy()
        if terms is not None:
            t = t[t["term"].isin(list(terms))]
        if ax is None:
            _, ax = plt.subplots(figsize=(5.0, 0.5 + 0.45 * max(len(t), 1)))
        ypos = np.arange(len(t))[::-1]
        ax.errorbar(t["estimate"], ypos,
                    xerr=[t["estimate"] - t["conf_low"], t["conf_high"] - t["estimate"]],
                    fmt="o", color="black", capsize=3)
        ax.axvline(0.0, color="grey", linestyle="--", linewidth=0.8)
        ax.set_yticks(ypos)
        ax.set_yticklabels(t["term"].astype(str).tolist())
        ax.set_xlabel(f"estimate ({int(round((1 - self.alpha) * 100))}% CI)")
        return ax

    def __repr__(self) -> str:
        body = ", ".join(f"{n}={c:.6g}" for n, c in zip(self.terms, self.coef, strict=True))
        return (f"TWFEResult({self._estimator}, {body}, nobs={self.nobs}, "
                f"vcov={self.vcov_type!r}, family={self.family!r})")


def _make_twfe_result(
    fit: _Fit,
    *,
    internal_to_term: Mapping[str, str],
    estimator: str,
    data: pd.DataFrame,
    kwargs: Mapping[str, Any],
    n_dropped: int,
    cluster: tuple[str, ...],
    seed: int | None,
    effects: Mapping[str, str] | None = None,
    lincoms: Mapping[str, Mapping[str, float]] | None = None,
    lincom_effects: Mapping[str, str] | None = None,
) -> TWFEResult:
    terms = tuple(internal_to_term[n] for n in fit.names)
    table = fit.table.copy()
    table.insert(0, "term", list(terms))
    if lincoms:
        extra = _lincom_rows(fit, lincoms, kwargs["alpha"])
        extra.insert(0, "term", list(lincoms))
        table = pd.concat([table, extra], ignore_index=True)
    if effects is not None:
        eff = [effects.get(n, "") for n in fit.names]
        if lincoms:
            eff += [(lincom_effects or {}).get(k, "") for k in lincoms]
        table["effect"] = eff
    table = table[[*TIDY_COLUMNS, *[c for c in table.columns if c not in TIDY_COLUMNS]]]
    settings = {k: (list(v) if isinstance(v, tuple) else v) for k, v in kwargs.items()}
    settings["backend_requested"] = settings.pop("backend", "auto")
    settings["backend"] = fit.backend
    prov = make_provenance(estimator, data, settings,
                           seed if kwargs["vcov"] == "wild" else None)
    return TWFEResult(
        terms=terms,
        coef=fit.coef.copy(),
        vcov=fit.vcov.copy(),
        table=table.reset_index(drop=True),
        nobs=fit.nobs,
        n_clusters=fit.n_clusters,
        df_resid=fit.df_t,
        n_dropped=n_dropped + fit.n_dropped_fit,
        family=kwargs["family"],
        vcov_type=kwargs["vcov"],
        cluster=cluster if kwargs["vcov"] not in ("hetero", "iid") else (),
        alpha=kwargs["alpha"],
        boot=fit.boot,
        provenance=prov,
        _estimator=estimator,
        # not copied: the result freezes a copy-on-write view (a snapshot that costs memory
        # only if the caller later modifies the frame)
        _data=data,
        _kwargs=dict(kwargs),
        r2=fit.r2,
        r2_within=fit.r2_within,
    )


# --------------------------------------------------------------------------------------------
# twfe
# --------------------------------------------------------------------------------------------


@formula_interface("twfe")
@_overlap_hash
def twfe(
    data: pd.DataFrame,
    *,
    yname: str,
    dname: str,
    idname: str,
    tname: str,
    cluster: str | Sequence[str] | None = None,
    weights: str | None = None,
    family: Family = "ols",
    controls: Sequence[str] | None = None,
    fe: Sequence[str] | None = None,
    vcov: VcovType = "auto",
    alpha: float = 0.05,
    n_boot: int = 9999,
    boot_weights: BootWeights = "rademacher",
    seed: int | None = 0,
    size: str | None = "weights",
    backend: Backend = "auto",
) -> TWFEResult:
    """Two-way fixed-effects difference-in-differences regression.

    Estimates ``y_it = beta * d_it (+ controls_it' gamma) + alpha_i + lambda_t + e_it`` by OLS
    (or WLS with ``weights``), or ``E[y_it | .] = exp(beta * d_it + ... + alpha_i + lambda_t)``
    by Poisson pseudo-maximum likelihood (``family='poisson'``; counts with zeros).

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel, one row per unit and period. Not modified.
    yname : str
        Outcome column.
    dname : str
        Treatment column: binary treated x post indicator, or a continuous dose.
    idname, tname : str
        Unit and period columns (absorbed as fixed effects; any hashable type, including
        datetimes).
    cluster : str or pair of str, optional
        Cluster column (default ``idname``) or two columns for two-way clustering.
    weights : str, optional
        Analytic (regression) weights, e.g. a population or a cell count; must be > 0.
    family : {'ols', 'poisson'}, default 'ols'
        Linear model, or Poisson PPML (IRLS with pyfixest's :func:`pyfixest.fepois`
        conventions; see ``backend``).
    controls : sequence of str, optional
        Time-varying control columns.
    fe : sequence of str, optional
        Further fixed effects beyond unit and period: columns whose every value gets its own
        intercept, e.g. a value-tier x month key or the client country (``fe=["tier_month"]``
        is pyfixest's ``| unit + period + tier_month``). Rows with a missing value in one are
        dropped and counted like other incomplete rows.
    vcov : {'auto', 'placebo', 'wild', 'cluster', 'hetero'}, default 'auto'
        ``'auto'``: with fewer than 50 clusters, ``'placebo'`` when the design admits it (OLS
        or Poisson, one cluster column, a 0/1 treatment switched on at one common date for the treated
        units, every unit of a treated cluster treated, at least 3 control clusters and no more
        treated than control clusters), else ``'wild'`` (OLS, one cluster column), else
        ``'cluster'``; ``'cluster'`` from 50 clusters on. ``'placebo'``: Conley-Taber
        inference for the treatment term(s) -- each control cluster in turn is given the
        treated units' treatment path on the control clusters' data; with ``J`` placebo
        estimates ``p_j`` and ``w_g`` the treated clusters' shares of treated rows,
        ``V = (J - 1)/J^2 (sum_g w_g^2 + 1/J) sum_j p_j p_j'`` and the reference is
        ``t(J - 1)`` (exact under exchangeable normal cluster errors; other terms keep CRV1
        standard errors). For ``family='poisson'`` the placebos are the control clusters'
        post-period shifts from one PPML fit, weighted by outcome shares
        (:mod:`laborai.did._ppml_placebo`); ``settings['n_placebo_clusters']`` records ``J``.
        ``'wild'``: wild cluster restricted bootstrap (p-values and
        confidence sets). ``'cluster'``: CRV1; ``'hetero'``: HC1.
    alpha : float, default 0.05
        One minus the confidence level.
    n_boot : int, default 9999
        Wild bootstrap draws (all ``2**G`` Rademacher sign vectors are enumerated when
        ``n_boot >= 2**G``).
    boot_weights : {'rademacher', 'webb'}, default 'rademacher'
        Wild bootstrap weight distribution.
    seed : int, optional
        Seed of the wild bootstrap.
    size : str or None, default 'weights'
        Cell-size column for placebo inference with cells of very different size (Ferman &
        Pinto 2019): each coefficient's sampling variance is modelled as ``a + b v`` with ``v``
        its ``sum_i A_i^2 / size_i`` (``A`` the regression's row weights), fitted on the
        placebo estimates, and the placebos are rescaled to the treated clusters' ``v`` (see
        :func:`laborai.did._placebo.pooled_placebo_cov`). ``'weights'`` (default): the
        ``weights`` column if given (a weighted mean's noise is proportional to ``1 /
        weight``), else none; ``'auto'``: the ``weights`` column, else ``n_posts`` when the
        data have it; ``None``: equal error variances (Conley-Taber). Sizes below 1 count as
        1. Used only by ``vcov='placebo'``. ``n_posts`` is not used by default because on
        the simulated marketplace at 300,000 posts, where category shocks dominate the
        cells' sampling noise, the fitted size slope is noise and the correction over-rejects (pooled DiD with 2 treated categories 8.5% against
        4.5% without it); it helps where sampling noise dominates (100,000 posts: ``ddd``'s
        high-tier DiD 8.7% -> 6.3%). See ``docs/validation.md``.
    backend : {'auto', 'fast', 'pyfixest'}, default 'auto'
        Fitting engine. ``'auto'``: laborai's exact fast path (:mod:`laborai.did._fastfe`)
        for OLS/WLS -- closed-form two-way demeaning on balanced panels, a direct
        Schur-complement solve on unbalanced or weighted ones -- and, for Poisson, IRLS on
        the same exact demeaner (:mod:`laborai.did._fastpois`: pyfixest's separation check,
        deviance stopping rule ``iwls_tol = 1e-8``, at most 25 iterations, and its
        iid/HC1/CRV1 conventions); ``'fast'`` insists on the fast path; ``'pyfixest'``
        always uses :func:`pyfixest.feols` / :func:`pyfixest.fepois`. Both give the same
        numbers (pyfixest's small-sample conventions; tests hold coefficients to 1e-10 and
        standard errors to 1e-8, for Poisson against pyfixest at tight tolerances; at
        pyfixest's defaults the measured Poisson differences were at most 2e-13 relative in
        coefficients and 2e-8 in standard errors). The engine used is recorded in ``result.provenance.settings['backend']``
        (``'fastfe'``, ``'fastpois'`` or ``'pyfixest'``). See ``docs/estimators/fast_fe.md``.

    Returns
    -------
    TWFEResult
        ``tidy()`` has one row per regressor (``dname`` first, then controls).

    Raises
    ------
    DataValidationError
        Missing columns, non-numeric outcome/treatment, non-positive weights, negative outcome
        with ``family='poisson'``.
    OptionError
        Bad ``family``, ``vcov``, ``boot_weights``, ``cluster``, ``alpha`` or ``n_boot``.
    EstimationError
        ``dname`` is collinear with the fixed effects (e.g. constant within unit).

    Notes
    -----
    Estimand: with a binary ``d`` and a common adoption date, ``beta`` is the average treatment
    effect on the treated (ATT) under parallel trends and no anticipation. With staggered
    adoption and heterogeneous effects ``beta`` is a variance-weighted average of 2x2 DiDs that
    can put negative weight on some effects (Goodman-Bacon 2021; de Chaisemartin &
    D'Haultfoeuille 2020) -- use an event study or Callaway-Sant'Anna there. With a continuous
    dose ``beta`` is a weighted average of marginal effects under a strong parallel-trends
    assumption (Callaway, Goodman-Bacon & Sant'Anna 2024).

    Small-sample conventions (those of R ``fixest`` and ``pyfixest`` by default): CRV1 variance
    ``V = G/(G-1) * (N-1)/(N-K) * (X'X)^-1 (sum_g s_g s_g') (X'X)^-1`` where ``K`` counts the
    regressors plus the fixed-effect levels *not nested* in the clusters (a nested dimension
    counts as one parameter); t reference distribution with ``G-1`` degrees of freedom (two-way:
    ``min(G1, G2) - 1``, and ``min(G)/(min(G)-1)`` on every term of ``V1 + V2 - V12``). HC1:
    ``N/(N-K)`` with all fixed effects counted, t with ``N-K`` degrees of freedom. Poisson
    models use the normal reference distribution. Rows with missing values are dropped with a
    warning and counted in ``n_dropped``; singletons are kept (``fixef_rm='none'``).

    References
    ----------
    Angrist, J. D. & Pischke, J.-S. (2009). *Mostly Harmless Econometrics*. Princeton.
    Cameron, A. C. & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference.
    *Journal of Human Resources* 50(2), 317-372.
    Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing.
    *Journal of Econometrics* 225(2), 254-277.
    Santos Silva, J. M. C. & Tenreyro, S. (2006). The log of gravity. *Review of Economics and
    Statistics* 88(4), 641-658.
    Berge, L. (2018). Efficient estimation of maximum likelihood models with multiple
    fixed-effects: the R package FENmlm. CREA Discussion Papers 13.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import laborai as la
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"unit": np.repeat(np.arange(20), 8), "t": np.tile(np.arange(8), 20)})
    >>> df["d"] = ((df["unit"] < 10) & (df["t"] >= 4)).astype(int)
    >>> df["y"] = 0.5 * df["d"] + rng.normal(size=len(df))
    >>> res = la.did.twfe(df, yname="y", dname="d", idname="unit", tname="t")
    >>> res.terms
    ('d',)
    """
    vcov, cluster = normalise_vcov(vcov, cluster)  # type: ignore[assignment]
    _common_checks(family, vcov, alpha, n_boot, boot_weights)
    cl = _cluster_cols(cluster, idname)
    controls = list(controls or [])
    where = "twfe"
    fe_extra = _fe_columns(fe, where)
    _require_columns(data, [yname, dname, idname, tname, *cl, *controls, *fe_extra]
                     + ([weights] if weights else []), where)
    regs: dict[str, pd.Series] = {dname: data[dname]}
    for c in controls:
        regs[c] = data[c]
    check_time_column(data, tname, where=where)
    check_option("backend", backend, _BACKENDS)
    uc, tc = _codes(data[idname]), _codes(data[tname])
    _check_unique_codes(uc, tc, data, idname, tname)
    seed = resolve_seed(seed)
    frame, keep = _build_frame(data, where=where, yname=yname, regressors=regs,
                               fe=[uc, tc, *(data[c] for c in fe_extra)], cluster=cl,
                               weights=weights, family=family, fe_names=fe_extra)
    requested = vcov
    method, plan = _regression_placebo_choice(vcov, family=family, frame=frame,
                                              treat_cols=["_x0"],
                                              key=frame["_fe1"].to_numpy(), where=where,
                                              poisson=True)
    if method is None:
        method = _resolve_vcov(vcov, family=family, frame=frame, treat_cols=["_x0"],
                               where=where)
    vcov = method  # type: ignore[assignment]
    fit = _fit_core(frame, n_x=len(regs), family=family,
                    vcov="cluster" if method == "placebo" else method, alpha=alpha,
                    n_boot=n_boot, boot_weights=boot_weights, seed=seed, backend=backend,
                    unique_pairs=True)
    n_placebo = None
    if method == "placebo" and plan is not None and "_x0" not in fit.dropped:
        if family == "poisson":  # outcome-share weights, no size correction
            from laborai.did._ppml_placebo import ppml_placebo_fit

            fit, pp = ppml_placebo_fit(fit, frame, n_x=len(regs), plan=plan, alpha=alpha,
                                       where=where, backend=backend)
            size, n_placebo = None, pp.n_control_clusters
        else:
            plan["inv_size"], size = _inv_size(data, size, weights, keep, where)
            fit, _info = _regression_placebo_fit(fit, frame, ["_x0"], len(regs), plan, alpha,
                                                 where)
            n_placebo = int(_info["n_control_clusters"])
    else:
        size = None
    if "_x0" in fit.dropped:
        raise EstimationError(
            f"twfe: treatment {dname!r} is collinear with the unit and period fixed effects "
            "(e.g. constant within unit or within period); it cannot be estimated."
        )
    _warn_fit_drops(fit, where)
    kwargs = dict(yname=yname, dname=dname, idname=idname, tname=tname, cluster=cluster,
                  weights=weights, family=family, controls=tuple(controls), fe=tuple(fe_extra), vcov=vcov,
                  alpha=alpha, n_boot=n_boot, boot_weights=boot_weights, seed=seed,
                  vcov_requested=requested, size=size, backend=backend,
                  n_placebo_clusters=n_placebo)
    names = {f"_x{i}": n for i, n in enumerate(regs)}
    return _make_twfe_result(fit, internal_to_term=names, estimator="twfe", data=data,
                             kwargs=kwargs, n_dropped=int((~keep).sum()), cluster=cl, seed=seed)


# --------------------------------------------------------------------------------------------
# ddd
# --------------------------------------------------------------------------------------------


@formula_interface("ddd")
@_overlap_hash
def ddd(
    data: pd.DataFrame,
    *,
    yname: str,
    idname: str,
    tname: str,
    dname: str,
    post: str,
    pname: str,
    cluster: str | Sequence[str] | None = None,
    weights: str | None = None,
    family: Family = "ols",
    high_time_fe: bool = False,
    controls: Sequence[str] | None = None,
    fe: Sequence[str] | None = None,
    vcov: VcovType = "auto",
    alpha: float = 0.05,
    n_boot: int = 9999,
    boot_weights: BootWeights = "rademacher",
    seed: int | None = 0,
    size: str | None = "auto",
    backend: Backend = "auto",
) -> TWFEResult:
    """Triple difference: exposed x post x high-value tier, with unit and period fixed effects.

    Specification (units are category x tier cells, so ``exposed_i`` (column ``dname``) and
    ``high_i`` (column ``pname``) are unit-level and absorbed by the unit fixed effects together
    with ``exposed x high``)::

        y_it = b1 exposed_i post_it + b2 high_i post_it + b3 exposed_i post_it high_i
               + alpha_i + lambda_t (+ high_i x lambda_t) + e_it

    With ``high_time_fe=True`` the period effects are tier-specific (``high x period`` fixed
    effects) and ``high x post`` is absorbed, so it is not reported.

    Parameters
    ----------
    data : pandas.DataFrame
        Panel, one row per unit and period. Not modified.
    yname, idname, tname : str
        Outcome, unit and period columns.
    dname : str
        0/1 treatment-group column: the unit belongs to an exposed (treated) category;
        constant within unit.
    post : str
        0/1 post-period column: the period is after the unit's category event. The design
        needs it per unit (events may differ across units, and ``dname`` is a group indicator,
        not a treatment path), and the vocabulary has no name for it, so it keeps the
        design's name.
    pname : str
        0/1 partition column: the unit is in the high-value (eligible) tier; constant within
        unit. Named as in :func:`ddd_gt` and R's ``triplediff``.
    cluster, weights, family, controls, fe, vcov, alpha, n_boot, boot_weights, seed, backend
        As in :func:`twfe`.
    size : str or None, default 'auto'
        Cell-size column of the placebo size correction, as in :func:`twfe`: the two tiers'
        DiDs each get their own size model, and the triple difference's placebos are the
        differences of their corrected placebos (see
        :func:`laborai.did._placebo.pooled_placebo_cov`). ``'auto'`` (default): the DiDs
        report corrected variances only with ``weights`` (``twfe``'s default), the triple
        difference with ``weights``, else ``n_posts`` when the data have it: a category's
        demand shock is common to its two tiers and cancels in the triple difference, so the
        cells' sampling noise decides its spread, while the DiDs' is mostly shock. On the
        calibrated simulator (500 null marketplaces) the triple difference moves from
        2.6% / 3.2% (5 / 2 treated categories, no correction) to 3.8% / 4.2%, while
        correcting the DiDs too would take the low-tier DiD with 2 treated to 7.7% (300
        marketplaces; ``docs/validation.md``). A column name, or ``'weights'`` with weights, corrects all
        three; ``None`` none. The effects corrected are in ``settings["size_effects"]``.
    high_time_fe : bool, default False
        Replace period fixed effects by tier-specific period fixed effects.

    Returns
    -------
    TWFEResult
        ``tidy()`` rows (column ``effect``): ``exposed:post`` (``did_low``, the DiD in the low
        tier), ``high:post`` (``high_post``; omitted when absorbed), ``exposed:post:high``
        (``ddd``, the triple difference) and the linear combination ``exposed:post [high tier]``
        (``did_high`` = b1 + b3, the DiD in the high tier; analytic inference, also under
        ``vcov='wild'``). The term strings name the design's roles (exposed group, post
        period, high partition), as a paper's table would, whatever the columns are called;
        ``effect`` is the stable key to select rows by.

    Raises
    ------
    DataValidationError
        Missing columns; ``dname``/``pname`` not 0/1 or varying within unit; ``post`` not
        0/1.
    OptionError
        Bad options (see :func:`twfe`).
    EstimationError
        The triple interaction is collinear with the fixed effects.

    Notes
    -----
    Estimand: ``b3`` is the difference between the high- and low-tier effects of exposure,
    identified when the high-low gap in outcomes would have evolved in parallel in exposed and
    unexposed categories (a weaker assumption than parallel trends in each tier; Olden &
    Moen 2022). ``b1`` is the low-tier DiD under parallel trends in the low tier.

    References
    ----------
    Gruber, J. (1994). The incidence of mandated maternity benefits. *American Economic
    Review* 84(3), 622-641.
    Olden, A. & Moen, J. (2022). The triple difference estimator. *Econometrics Journal* 25(3),
    531-553.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import laborai as la
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"unit": np.repeat(np.arange(16), 8), "t": np.tile(np.arange(8), 16)})
    >>> df["exposed"] = (df["unit"] % 8 < 4).astype(int)
    >>> df["high"] = (df["unit"] >= 8).astype(int)
    >>> df["post"] = (df["t"] >= 4).astype(int)
    >>> df["y"] = -0.5 * df["exposed"] * df["post"] * df["high"] + rng.normal(size=len(df))
    >>> res = la.did.ddd(df, yname="y", idname="unit", tname="t", dname="exposed",
    ...                  post="post", pname="high", vcov="hetero")
    >>> list(res.tidy()["effect"])
    ['did_low', 'high_post', 'ddd', 'did_high']
    """
    vcov, cluster = normalise_vcov(vcov, cluster)  # type: ignore[assignment]
    _common_checks(family, vcov, alpha, n_boot, boot_weights)
    cl = _cluster_cols(cluster, idname)
    controls = list(controls or [])
    where = "ddd"
    fe_extra = _fe_columns(fe, where)
    _require_columns(data, [yname, idname, tname, dname, post, pname, *cl, *controls, *fe_extra]
                     + ([weights] if weights else []), where)
    e = unit_level_binary(data, dname, idname, where)
    h = unit_level_binary(data, pname, idname, where)
    p = pd.to_numeric(data[post], errors="coerce")
    if (~p.isin([0, 1])).any():
        raise DataValidationError(
            f"{where}: column {post!r} must be 0/1; {int((~p.isin([0, 1])).sum())} row(s) "
            f"are not (first: {data.loc[~p.isin([0, 1]), post].head(5).tolist()})."
        )
    regs: dict[str, Any] = {"exposed:post": (e * p).to_numpy()}
    if not high_time_fe:
        regs["high:post"] = (h * p).to_numpy()
    regs["exposed:post:high"] = (e * p * h).to_numpy()
    for c in controls:
        regs[c] = data[c]
    names = {f"_x{i}": n for i, n in enumerate(regs)}
    inv = {v: k for k, v in names.items()}
    effects = {inv["exposed:post"]: "did_low", inv["exposed:post:high"]: "ddd"}
    if not high_time_fe:
        effects[inv["high:post"]] = "high_post"
    tfe = (data[tname].astype(str) + "|" + h.astype(int).astype(str)) if high_time_fe \
        else data[tname]
    check_time_column(data, tname, where=where)
    check_option("backend", backend, _BACKENDS)
    uc = _codes(data[idname])
    _check_unique_codes(uc, _codes(data[tname]), data, idname, tname)
    seed = resolve_seed(seed)
    frame, keep = _build_frame(data, where=where, yname=yname, regressors=regs,
                               fe=[uc, tfe, *(data[c] for c in fe_extra)], cluster=cl,
                               weights=weights, family=family, fe_names=fe_extra)
    requested = vcov
    tcols = [inv["exposed:post"], inv["exposed:post:high"]]
    hkey = h.to_numpy()[keep].astype(int)
    method, plan = _regression_placebo_choice(
        vcov, family=family, frame=frame, treat_cols=tcols,
        key=np.array([f"{t}|{hh}" for t, hh in zip(frame["_fe1"].to_numpy(), hkey,
                                                    strict=True)]), where=where)
    if method is None:
        method = _resolve_vcov(vcov, family=family, frame=frame,
                               treat_cols=[inv["exposed:post"]], where=where)
    vcov = method  # type: ignore[assignment]
    fit = _fit_core(frame, n_x=len(regs), family=family,
                    vcov="cluster" if method == "placebo" else method, alpha=alpha,
                    n_boot=n_boot, boot_weights=boot_weights, seed=seed, backend=backend,
                    unique_pairs=True)
    size_effects: tuple[str, ...] = ()
    size_requested = size
    if method == "placebo" and plan is not None and not set(tcols) & set(fit.dropped):
        # the two tiers' DiDs (did_low = b1, did_high = b1 + b3) each get their own size
        # model; the triple difference b3 is the difference of their corrected placebos
        # (_placebo.pooled_placebo_cov). Under 'auto' the DiDs report corrected variances
        # only with weights (twfe's default), b3 also with n_posts
        inv_all, col_all = _inv_size(data, "weights" if size == "auto" else size, weights,
                                     keep, where)
        inv_ddd, col_ddd = (_inv_size(data, "auto", weights, keep, where) if size == "auto"
                            else (inv_all, col_all))
        plan["inv_size"] = inv_ddd
        plan["basis"] = np.array([[1.0, 0.0], [1.0, 1.0]])
        plan["rescale"] = [col_all is not None, col_all is not None]
        size = col_ddd
        size_effects = (("did_low", "did_high") if col_all is not None else ()) + (
            ("ddd",) if col_ddd is not None else ())
        fit, _info = _regression_placebo_fit(fit, frame, tcols, len(regs), plan, alpha, where)
    else:
        size = None
    if inv["exposed:post:high"] in fit.dropped or inv["exposed:post"] in fit.dropped:
        raise EstimationError(
            "ddd: exposed x post (x high) is collinear with the fixed effects; check that "
            "exposed and unexposed units and both tiers are present before and after."
        )
    _warn_fit_drops(fit, where)
    kwargs = dict(yname=yname, idname=idname, tname=tname, dname=dname, post=post,
                  pname=pname, cluster=cluster, weights=weights, family=family,
                  high_time_fe=high_time_fe, controls=tuple(controls), fe=tuple(fe_extra), vcov=vcov,
                  alpha=alpha,
                  n_boot=n_boot, boot_weights=boot_weights, seed=seed, vcov_requested=requested,
                  size=size, size_requested=size_requested, size_effects=size_effects,
                  backend=backend)
    lincoms = {"exposed:post [high tier]": {inv["exposed:post"]: 1.0,
                                            inv["exposed:post:high"]: 1.0}}
    return _make_twfe_result(fit, internal_to_term=names, estimator="ddd", data=data,
                             kwargs=kwargs, n_dropped=int((~keep).sum()), cluster=cl, seed=seed,
                             effects=effects, lincoms=lincoms,
                             lincom_effects={"exposed:post [high tier]": "did_high"})


# --------------------------------------------------------------------------------------------
# event_study
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class EventStudyResult(ResultMixin):
    """Frozen result of :func:`event_study`.

    Attributes
    ----------
    event_times : numpy.ndarray of int
        Estimated event times (reference excluded), sorted; the end points are bins.
    coef : numpy.ndarray
        Event-time coefficients, same order.
    vcov : numpy.ndarray
        Their covariance matrix (CRV1 or HC1).
    ref : int
        Reference (omitted) event time.
    window : tuple of int
        Binned end points.
    pretrend : dict
        Joint test that all leads are zero: ``statistic`` (F, or chi2 for Poisson), ``df1``,
        ``df2`` (None for chi2), ``p_value``, ``wald`` (the Wald statistic), ``leads``.
    crit_sup_t, crit_pointwise : float
        Critical values of the simultaneous and pointwise bands.
    nobs, n_clusters, df_resid, n_dropped, family, vcov_type, alpha
        As in :class:`TWFEResult`.
    dropped_event_times : tuple of int
        Event times in the window with no treated observation or collinear (not estimated).
    provenance : Provenance
    """

    event_times: np.ndarray
    coef: np.ndarray
    vcov: np.ndarray
    ref: int
    window: tuple[int, int]
    table: pd.DataFrame
    pretrend: Mapping[str, Any]
    crit_sup_t: float
    crit_pointwise: float
    nobs: int
    n_clusters: int | tuple[int, ...] | None
    df_resid: float | None
    n_dropped: int
    family: str
    vcov_type: str
    alpha: float
    dropped_event_times: tuple[int, ...]
    provenance: Provenance
    _data: pd.DataFrame | None = field(default=None, repr=False)
    _kwargs: Mapping[str, Any] = field(default_factory=dict, repr=False)
    r2: float = math.nan
    r2_within: float = math.nan
    _title = "Event study"

    def tidy(self) -> pd.DataFrame:
        """Event-time coefficients.

        Columns: ``term`` (``'event_time::k'``), ``estimate, std_error, statistic, p_value``
        (pointwise), ``conf_low, conf_high`` (simultaneous sup-t band), ``event_time``,
        ``point_conf_low, point_conf_high`` (pointwise band). The reference period is not a
        row (its coefficient is normalised to 0; see ``ref``).
        """
        return self.table.copy()

    def with_vcov(self, vcov: Literal["auto", "wild", "placebo", "cluster", "hetero"], *,
                  cluster: str | Sequence[str] | None = None) -> EventStudyResult:
        """Return a NEW result with different inference (this one is unchanged)."""
        check_option("vcov", vcov, ("auto", "wild", "placebo", "cluster", "hetero"))
        if self._data is None:  # pragma: no cover
            raise EstimationError("this result does not carry its data; re-run the estimator.")
        kw = dict(self._kwargs)
        kw["vcov"] = vcov
        if cluster is not None:
            kw["cluster"] = cluster
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LaborAIWarning)
            return event_study(self._data, **kw)

    def _header(self) -> list[tuple[str, str]]:
        pt = self.pretrend
        lines = [("Family", self.family), ("Observations", str(self.nobs)),
                 ("Inference", {"hetero": "HC1", "iid": "iid (classical)",
                                "cluster": "CRV1 cluster-robust",
                                "wild": "wild cluster bootstrap (CRV1 standard errors)",
                                "placebo": "placebo (Conley-Taber) over the control clusters, "
                                           f"t({self.df_resid:g})"}
                  .get(self.vcov_type, self.vcov_type)),
                 ("Reference event time", str(self.ref)),
                 ("Window (binned ends)", f"[{self.window[0]}, {self.window[1]}]"),
                 ("Band", f"simultaneous sup-t, critical value {self.crit_sup_t:.4f}")]
        if self.n_clusters is not None:
            lines.append(("Clusters", str(self.n_clusters)))
        if pt.get("df1"):
            df2 = f", {pt['df2']:g}" if pt.get("df2") is not None else ""
            lines.append(("Pre-trend test", f"{pt['distribution']}({pt['df1']}{df2}) = "
                          f"{pt['statistic']:.4f}, p = {pt['p_value']:.4f}"))
        if self.dropped_event_times:
            lines.append(("Not estimable event times", str(list(self.dropped_event_times))))
        return lines

    def plot(self, ax: Any = None) -> Any:
        """Event-study plot: estimates, pointwise bars, shaded simultaneous band, reference.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on (a new figure is created when omitted).

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        t = self.tidy()
        if ax is None:
            _, ax = plt.subplots(figsize=(6.0, 3.5))
        x = t["event_time"].to_numpy(dtype=float)
        order = np.argsort(np.append(x, self.ref))
        xs = np.append(x, self.ref)[order]
        lo = np.append(t["conf_low"].to_numpy(dtype=float), 0.0)[order]
        hi = np.append(t["conf_high"].to_numpy(dtype=float), 0.0)[order]
        ax.fill_between(xs, lo, hi, color="tab:blue", alpha=0.15, linewidth=0,
                        label=f"{int(round((1 - self.alpha) * 100))}% simultaneous (sup-t)")
        ax.errorbar(x, t["estimate"],
                    yerr=[t["estimate"] - t["point_conf_low"],
                          t["point_conf_high"] - t["estimate"]],
                    fmt="o", color="tab:blue", capsize=2, label="estimate, pointwise CI")
        ax.plot([self.ref], [0.0], marker="o", markerfacecolor="white", color="tab:blue",
                linestyle="none", label=f"reference ({self.ref})")
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.axvline(-0.5, color="grey", linestyle="--", linewidth=0.8)
        ax.set_xlabel("event time (periods)")
        ax.set_ylabel("estimate")
        ax.legend(frameon=False, fontsize="small")
        return ax

    def __repr__(self) -> str:
        return (f"EventStudyResult(event_times=[{int(self.event_times.min())}..."
                f"{int(self.event_times.max())}], ref={self.ref}, nobs={self.nobs}, "
                f"pretrend_p={self.pretrend['p_value']:.4g}, family={self.family!r})")



def _few_treated_choice(vcov: str, *, family: str, frame: pd.DataFrame, treated: np.ndarray,
                        dose: np.ndarray, epos: np.ndarray, where: str) -> str | None:
    """``'placebo'`` when ``vcov`` asks for it (explicitly, or ``'auto'`` with few treated
    clusters and a design it applies to); ``None`` to let :func:`_resolve_vcov` decide.

    Placebo inference applies to OLS with one cluster column, a 0/1 treatment with one common
    event date, and at least 3 control clusters (clusters without a treated unit).
    """
    if vcov not in ("auto", "placebo"):
        return None
    cls = [c for c in frame.columns if c.startswith("_cl")]
    why = None
    if family not in ("ols", "poisson") or len(cls) != 1:  # Poisson: _ppml_placebo
        why = f"needs one cluster column (got {len(cls)})"
    elif not treated.any():
        why = "found no treated observation"
    else:
        cl = frame[cls[0]].to_numpy()
        k = int(np.unique(cl[treated]).size)
        G = int(np.unique(cl).size)
        if not np.all(dose[treated] == 1.0):
            why = "needs a 0/1 treatment (a dose cannot be given to a placebo cluster)"
        elif np.unique(epos[treated]).size != 1:
            why = ("needs one common event date for the treated units (staggered dates: use "
                   "vcov='wild' or laborai.did.sun_abraham)")
        elif G - k < PLACEBO_MIN_CONTROLS:
            why = f"needs at least {PLACEBO_MIN_CONTROLS} control clusters"
        elif vcov == "auto" and not (G < FEW_CLUSTERS and k <= G - k):
            return None
    if why is None:
        return "placebo"
    if vcov == "placebo":
        raise OptionError(f"{where}: vcov='placebo' {why}.")
    return None


def _event_placebo_cov(frame: pd.DataFrame, treated: np.ndarray, etp: np.ndarray,
                       ets: np.ndarray, *, n_et: int, n_x: int, where: str,
                       inv_size: np.ndarray | None = None,
                       et_cols: Sequence[str] | None = None,
                       ) -> tuple[np.ndarray, int, int, float]:
    """Placebo covariance of the event-time coefficients ``ets`` (see ``_placebo``)."""
    from laborai.did._placebo import pooled_placebo_cov

    cl = frame["_cl0"].to_numpy()
    tcl = np.unique(cl[treated])
    ctrl = ~np.isin(cl, tcl)
    others = frame[[f"_x{i}" for i in range(n_et, n_x)]].to_numpy()[ctrl]
    cl_c, et_c = cl[ctrl], etp[ctrl]
    designs = []
    for j in np.unique(cl_c):
        pseudo = cl_c == j
        X = np.column_stack([(pseudo & (et_c == k)).astype(float) for k in ets])
        designs.append(np.column_stack([X, others]) if others.shape[1] else X)
    w = frame["_w"].to_numpy() if "_w" in frame.columns else None
    fe = frame[["_fe0", "_fe1"]].to_numpy()
    full = None
    if inv_size is not None and et_cols is not None:
        full = frame[[*et_cols, *[f"_x{i}" for i in range(n_et, n_x)]]].to_numpy()
    V, J, n_tr, w2 = pooled_placebo_cov(frame["_y"].to_numpy(), w, fe, cl, treated, designs,
                                        len(ets), inv_size=None if full is None else inv_size,
                                        design_full=full)
    if J < 3:
        raise EstimationError(
            f"{where}: only {J} control cluster(s) give a placebo estimate of every event-time "
            "coefficient; placebo inference needs at least 3. Use a shorter window.")
    return V, J, n_tr, w2


def _event_wild(frame: pd.DataFrame, names: Sequence[str], lead_cols: Sequence[int],
                est_cols: Sequence[int], V_crv: np.ndarray, *, n_boot: int, seed: int,
                alpha: float) -> dict[str, Any]:
    """Wild cluster bootstrap for an event study (one-way clusters, OLS).

    Returns the WCR bootstrap pre-trend test (statistic: sum of squared cluster-robust t
    statistics of the leads, null imposed), and from the unrestricted bootstrap (WCU) the
    pointwise percentile-t p-values and critical values and the sup-t critical value over
    ``est_cols``. All draws share one set of Rademacher weights (all ``2**G`` sign vectors
    when ``2**G <= n_boot``).
    """
    from laborai.did._fastfe import CHUNK_BYTES, Demeaner, cluster_cross
    from laborai.did.inference import _draw_weights

    fes = sorted(c for c in frame.columns if c.startswith("_fe"))
    w = frame["_w"].to_numpy(dtype=float) if "_w" in frame.columns else None
    cl = frame["_cl0"].to_numpy().astype(np.int64)
    G = int(cl.max()) + 1
    Dm = Demeaner([frame[c].to_numpy() for c in fes], w)
    yt = Dm(frame["_y"].to_numpy(dtype=float))
    Xt = Dm(frame[list(names)].to_numpy(dtype=float))
    wv = np.ones(len(yt)) if w is None else w
    XW = np.ascontiguousarray(Xt * wv[:, None])  # n x K
    B = np.linalg.inv(XW.T @ Xt)
    n = len(yt)
    order = np.argsort(cl, kind="stable")
    rows_of = np.split(order, np.cumsum(np.bincount(cl, minlength=G))[:-1])
    csize = max(1, int(CHUNK_BYTES // (8 * n)))

    def kernel(resid: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        # the n x G matrix of projected cluster residual blocks, a chunk of clusters at a time
        AU = np.empty((B.shape[0], G))
        Dt = np.empty((G, B.shape[0], G))
        for g0 in range(0, G, csize):
            gs = list(range(g0, min(g0 + csize, G)))
            E = np.zeros((n, len(gs)), order="F")
            for j, g in enumerate(gs):
                E[rows_of[g], j] = resid[rows_of[g]]
            U = Dm(E)
            AUc = B @ (XW.T @ U)
            Q = U - Xt @ AUc
            cc = cluster_cross(cl, XW, Q, G)  # G x K x c: X_h' W Q_h
            Dt[:, :, g0:g0 + len(gs)] = np.einsum("kj,hjc->hkc", B, cc)
            AU[:, g0:g0 + len(gs)] = AUc
            del E, U, Q
        return AU, [Dt[h] for h in range(G)]

    def se_of(resid: np.ndarray) -> np.ndarray:
        sc = cluster_cross(cl, XW, resid[:, None], G)[:, :, 0] @ B.T  # (G, K)
        return np.sqrt(np.sum(sc**2, axis=0))

    rng = np.random.default_rng(seed)
    Vd, enumerated = _draw_weights(G, n_boot, "rademacher", rng)
    beta = B @ (XW.T @ yt)
    e_hat = yt - Xt @ beta
    se0 = se_of(e_hat)
    est = list(est_cols)
    ssc = float(np.median(np.diag(V_crv)[est] / se0[est] ** 2))
    out: dict[str, Any] = {"n_boot": int(Vd.shape[1]), "enumerated": bool(enumerated),
                           "n_clusters": G, "seed": seed}
    # unrestricted bootstrap: pointwise and sup-t
    AU, D = kernel(e_hat)
    dB = AU @ Vd
    se2 = np.zeros_like(dB)
    for Dh in D:
        se2 += (Dh @ Vd) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        tstar = np.abs(dB[est]) / np.sqrt(ssc * se2[est])
    tstar = np.where(np.isfinite(tstar), tstar, np.inf)
    t_obs = np.abs(beta[est]) / np.sqrt(np.diag(V_crv)[est])
    out["p_pointwise"] = np.mean(tstar >= t_obs[:, None], axis=1)
    out["crit_pointwise"] = np.quantile(tstar, 1 - alpha, axis=1)
    out["crit_sup_t"] = float(np.quantile(np.max(tstar, axis=0), 1 - alpha))
    # restricted bootstrap (leads = 0 imposed): pre-trend test
    leads = list(lead_cols)
    if leads:
        keep = [j for j in range(Xt.shape[1]) if j not in leads]
        if keep:
            br = np.linalg.lstsq(Xt[:, keep] * np.sqrt(wv)[:, None], yt * np.sqrt(wv),
                                 rcond=None)[0]
            e_r = yt - Xt[:, keep] @ br
        else:
            e_r = yt.copy()
        AUr, Dr = kernel(e_r)
        dBr = AUr[leads] @ Vd
        se2r = np.zeros_like(dBr)
        for Dh in Dr:
            se2r += (Dh[leads] @ Vd) ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            S_star = np.sum(dBr**2 / se2r, axis=0)
        S_star = np.where(np.isfinite(S_star), S_star, np.inf)
        S_obs = float(np.sum(beta[leads] ** 2 / se0[leads] ** 2))
        out["pretrend"] = {"statistic": S_obs, "wald": math.nan, "df1": len(leads),
                           "df2": None, "p_value": float(np.mean(S_star >= S_obs)),
                           "distribution": "wild bootstrap (WCR, sum of squared t)",
                           "n_boot": int(Vd.shape[1])}
    return out


def _wald_joint_checked(b: np.ndarray, V: np.ndarray, df: float | None,
                        n_clusters: int | None, where: str) -> dict[str, Any]:
    """CRV1 Wald test of b = 0 that never inverts a singular covariance silently."""
    from scipy import stats

    q = b.size
    if q == 0:
        return _wald_joint(b, V, df)
    W, rank = pinv_wald(b, V)
    if rank < q:
        warnings.warn(
            f"{where}: the cluster-robust covariance of the {q} leads has rank {rank}"
            + (f" ({n_clusters} clusters)" if n_clusters else "")
            + "; the Wald pre-test uses its pseudo-inverse on the estimable directions with "
            "df1 = rank. Use vcov='auto' (wild bootstrap pre-test) or a shorter window.",
            SmallSampleWarning, stacklevel=3)
    r = max(rank, 1)
    if df is None:
        return {"statistic": W, "wald": W, "df1": rank, "df2": None,
                "p_value": float(stats.chi2.sf(W, r)), "distribution": "chi2", "rank": rank}
    if n_clusters and n_clusters > r:
        # covariance estimated from G clusters
        return {**hotelling_f(W, r, n_clusters), "df1": rank, "rank": rank}
    F = W / r
    return {"statistic": F, "wald": W, "df1": rank, "df2": float(df),
            "p_value": float(stats.f.sf(F, r, df)), "distribution": "F", "rank": rank}


def _wald_joint(b: np.ndarray, V: np.ndarray, df: float | None) -> dict[str, Any]:
    from scipy import stats

    q = b.size
    if q == 0:
        return {"statistic": math.nan, "wald": math.nan, "df1": 0, "df2": None,
                "p_value": math.nan, "distribution": "none"}
    W = float(b @ np.linalg.solve(V, b))
    if df is None:
        return {"statistic": W, "wald": W, "df1": q, "df2": None,
                "p_value": float(stats.chi2.sf(W, q)), "distribution": "chi2"}
    F = W / q
    return {"statistic": F, "wald": W, "df1": q, "df2": float(df),
            "p_value": float(stats.f.sf(F, q, df)), "distribution": "F"}


@formula_interface("event_study")
@_overlap_hash
def event_study(
    data: pd.DataFrame,
    *,
    yname: str,
    idname: str,
    tname: str,
    dname: str | None = None,
    event_date: Any,
    window: tuple[int, int] | None = None,
    ref: int = -1,
    cluster: str | Sequence[str] | None = None,
    weights: str | None = None,
    family: Family = "ols",
    controls: Sequence[str] | None = None,
    fe: Sequence[str] | None = None,
    vcov: Literal["auto", "wild", "placebo", "cluster", "hetero"] = "auto",
    alpha: float = 0.05,
    n_boot: int = 9999,
    seed: int | None = 0,
    timing: Literal["first_full", "containing"] = "first_full",
    size: str | None = "auto",
    backend: Backend = "auto",
) -> EventStudyResult:
    """Event-study regression with binned end points, pre-trend test and sup-t bands.

    Estimates ``y_it = sum_{k != ref} beta_k 1[e_it = k] D_i + alpha_i + lambda_t + e_it``
    where ``e_it`` is unit ``i``'s event time in period ``t`` (binned: ``e < lo`` counts as
    ``lo``, ``e > hi`` as ``hi``) and ``D_i`` is the unit's treatment (1 for treated units,
    or a continuous dose).

    Parameters
    ----------
    data : pandas.DataFrame
        Panel, one row per unit and period. Not modified.
    yname, idname, tname : str
        Outcome, unit and period columns. Periods may be integers or datetimes; event time is
        the difference in positions on the sorted grid of distinct periods in ``data``.
    dname : str, optional
        Unit-level column: 0/1 treated-unit indicator, or a continuous dose (the event-time
        dummies are multiplied by it). Default: 1 for every unit with an event date.
    event_date : str or scalar
        Column with each unit's event date/period (NaN/NaT for never-treated units), or one
        date/period common to all treated units. Event time 0 is the unit's first treated
        period under ``timing`` (see ``docs/estimators/timing.md``).
    window : (int, int), optional
        Lowest and highest event time; event times outside are pooled into these end bins.
        Default: ``(-L, L)`` with ``L = min(12, (n - 1) // 2)``, ``n`` the smaller of the
        number of clusters ``G`` and of control clusters ``J`` (clusters without a treated
        unit; ``G`` when ``J < 3``), so that the coefficients do not outnumber what the
        clusters can estimate: CRV1 has rank at most ``G - 1`` and the placebo covariance at
        most ``J - 1`` (12 categories with 5 exposed: ``(-3, 3)``).
    ref : int, default -1
        Omitted (reference) event time; must lie in the window.
    cluster, weights, family, controls, fe
        As in :func:`twfe`.
    vcov : {'auto', 'wild', 'placebo', 'cluster', 'hetero'}, default 'auto'
        ``'auto'``: with fewer than 50 clusters, ``'placebo'`` when the design admits it
        (OLS or Poisson, one cluster column, 0/1 treatment with one event date, at least 3 control
        clusters, no more treated than control clusters), else ``'wild'`` for OLS with one
        cluster column; ``'cluster'`` from 50 clusters on. ``'placebo'``: each
        control cluster in turn is pseudo-treated at the treated units' event date on the
        control clusters' data; the spread of these placebo event studies gives the covariance
        ``(J - 1)/J^2 (sum_g w_g^2 + 1/J) sum_j p_j p_j'`` (``J`` control clusters, ``w_g`` the
        treated clusters' shares of treated rows), pointwise t(J - 1) inference, a sup-t band
        whose critical value is drawn from the exact null distribution of the maximum placebo
        t statistic (normal numerators, Wishart(J - 1) denominators, one per coefficient), and
        a Hotelling F pre-test (Conley & Taber 2011). For ``family='poisson'`` the placebos
        are the control clusters' event-time paths from one PPML fit, weighted by outcome
        shares (:func:`laborai.did._ppml_placebo.ppml_event_placebo_cov`); the band and the
        pre-test are built the same way. ``'wild'``: CRV1 standard errors with wild cluster bootstrap
        inference -- the pre-trend test by the restricted bootstrap (WCR) of the sum of
        squared lead t statistics, pointwise p-values and bands and the sup-t band by the
        unrestricted bootstrap-t (WCU), all from one set of Rademacher draws (every ``2**G``
        sign vector when ``2**G <= n_boot``). ``'cluster'``/``'hetero'``: analytic CRV1/HC1
        with a rank-aware Wald pre-test (warns when singular).
    alpha : float, default 0.05
        One minus the confidence level of both bands.
    n_boot : int, default 9999
        Bootstrap draws (``'wild'``), or at least 100,000 multivariate draws for the analytic
        sup-t critical value.
    seed : int or None, default 0
        Seed of those draws (``None``: fresh entropy, recorded in the result).
    timing : {'first_full', 'containing'}, default 'first_full'
        Which period is a unit's first treated period: the first that starts on or after its
        event date, or the one that contains it (``docs/estimators/timing.md``).
    size : str or None, default 'auto'
        Cell-size column of the placebo size correction (Ferman & Pinto 2019), as in
        :func:`twfe`: ``'auto'`` uses ``weights`` if given, else ``n_posts`` when present.
        **On by default here** (off in :func:`twfe`): each event-time coefficient rests on
        single months, whose sampling noise matters; on the calibrated simulator (300,000
        posts, 200 null marketplaces) the corrected tests hold 4.0-5.5% with power 39%,
        the uncorrected ones are conservative (1.0-2.5%, power 21%) (``docs/validation.md``).
    backend : {'auto', 'fast', 'pyfixest'}, default 'auto'
        As in :func:`twfe`. Under CRV1/HC1/iid inference the fast path never builds the
        ``n x K`` matrix of event-time dummies: each dummy is demeaned through its unit and
        period sums (4.8M rows x 24 coefficients in well under 1 GB of working memory);
        ``'wild'`` and ``'placebo'`` inference build the dummies as before. Poisson
        (``'fastpois'``) builds the dummies (the IRLS weights change every iteration).

    Returns
    -------
    EventStudyResult
        Exposes ``event_times``, ``coef``, ``vcov`` and ``ref`` (consumed by HonestDiD).

    Raises
    ------
    DataValidationError
        Missing columns; event date or treatment varying within unit; bad types.
    OptionError
        Bad ``window``/``ref`` or other options.
    EstimationError
        No event-time coefficient can be estimated.

    Notes
    -----
    Estimand: with a common event date (or never-treated controls and homogeneous effects
    across cohorts) ``beta_k`` is the ATT ``k`` periods after the event relative to period
    ``ref``; leads (``k < 0``) estimate anticipation or pre-trends. With staggered adoption
    and heterogeneous effects the coefficients can be contaminated by other periods' effects
    (Sun & Abraham 2021); use the interaction-weighted estimator there.

    Why the bootstrap by default: with ``G`` clusters the CRV1 covariance of the event-time
    coefficients has rank at most ``G - 1`` (12 categories and 24 coefficients: rank 11), so
    a Wald test that inverts it is meaningless, and even at full rank the Wald test with
    ``F(q, G - 1)`` over-rejects badly when ``q`` is not small relative to ``G``. The wild
    bootstrap pre-test never inverts the covariance; its size and the bands' coverage on the
    simulated marketplace are in ``docs/validation.md``.

    Analytic pre-trend test (``vcov='cluster'``): Wald statistic ``W = b' V^+ b`` over every
    estimated lead (``k < 0``, ``k != ref``, lower bin included) on the estimable directions
    (``V^+``: pseudo-inverse, df1 = rank, with a warning when singular), with the Hotelling
    correction ``F = W (G - r) / (r (G - 1))`` on ``F(r, G - r)`` when clustered; Poisson
    models use ``chi2(r)``. Pointwise bands use the t (OLS) or normal
    (Poisson) quantile. The simultaneous band uses the ``1 - alpha`` quantile of
    ``max_k |Z_k|`` with ``Z ~ N(0, R)`` and ``R`` the correlation matrix of the estimates
    (Montiel Olea & Plagborg-Moeller 2019), drawn ``n_boot`` times with ``seed``; for OLS each
    draw is divided by ``sqrt(chi2_df / df)`` (a multivariate t with the same degrees of
    freedom as the pointwise band), so the simultaneous band is never narrower than the
    pointwise one. Event-time dummies that are all zero (no treated observation at that event
    time) are not estimated and listed in ``dropped_event_times``.

    References
    ----------
    Montiel Olea, J. L. & Plagborg-Moeller, M. (2019). Simultaneous confidence bands: theory,
    implementation, and an application to SVARs. *Journal of Applied Econometrics* 34(1), 1-17.
    Freyaldenhoven, S., Hansen, C., Perez Perez, J. & Shapiro, J. M. (2021). Visualization,
    identification, and estimation in the linear panel event-study design. NBER WP 29170.
    Sun, L. & Abraham, S. (2021). Estimating dynamic treatment effects in event studies with
    heterogeneous treatment effects. *Journal of Econometrics* 225(2), 175-199.
    """
    vcov, cluster = normalise_vcov(vcov, cluster)  # type: ignore[assignment]
    check_option("vcov", vcov, ("auto", "wild", "placebo", "cluster", "hetero", "iid"))
    _common_checks(family, vcov, alpha, n_boot, "rademacher")
    seed = resolve_seed(seed)
    where = "event_study"
    cl = _cluster_cols(cluster, idname)
    _require_columns(data, [idname, tname, *cl], where)
    check_time_column(data, tname, where=where)
    check_option("backend", backend, _BACKENDS)
    uc, tc = _codes(data[idname]), _codes(data[tname])
    _check_unique_codes(uc, tc, data, idname, tname)
    G_min = min(int(data[c].nunique()) for c in cl)
    if window is not None and (not isinstance(window, (tuple, list)) or len(window) != 2
                               or not all(isinstance(w, (int, np.integer)) for w in window)
                               or window[0] >= window[1]):
        raise OptionError(f"window must be a pair of integers (lo, hi) with lo < hi; got {window!r}.")
    controls = list(controls or [])
    fe_extra = _fe_columns(fe, where)
    ev_is_col = isinstance(event_date, str) and event_date in data.columns
    cols = [yname, idname, tname, *cl, *controls, *fe_extra] + ([weights] if weights else []) \
        + ([dname] if dname else []) + ([event_date] if ev_is_col else [])
    _require_columns(data, cols, where)
    if dname is None and not ev_is_col:
        raise OptionError(
            "event_study: with a scalar event_date pass dname=<column> marking treated "
            "units (or a dose); got dname=None."
        )
    pos, epos = _event_positions(data, idname, tname, event_date, where, timing, uc, tc)
    if dname is not None:
        dose = _numeric(data[dname], dname, where)
        if np.isnan(dose).any():
            raise DataValidationError(
                f"{where}: treatment column {dname!r} has {int(np.isnan(dose).sum())} "
                "missing value(s); use 0 for untreated units."
            )
        n_bad, first = _varying_units(uc, dose, data, idname)
        if n_bad:
            raise DataValidationError(
                f"{where}: treatment column {dname!r} must be constant within unit "
                f"{idname!r}; {n_bad} unit(s) vary (first: {first})."
            )
    else:
        dose = np.ones(len(data))
    has_event = ~np.isnan(epos)
    if window is None:
        # as many coefficients as the clusters can estimate: at most G - 1 (CRV1, wild) and,
        # for placebo inference, fewer than the J control clusters (rank of the placebo
        # covariance) -- 12 categories with 4-5 exposed: (-3, 3); 2 exposed: (-4, 4)
        cl0 = data[cl[0]].to_numpy()
        tr_rows = has_event & (dose != 0)
        j_ctrl = int(np.unique(cl0).size - np.unique(cl0[tr_rows]).size)
        n_eff = min(G_min, j_ctrl) if j_ctrl >= 3 else G_min
        L = max(1, min(12, (n_eff - 1) // 2)) if vcov != "hetero" else 12
        window = (-L, L)
    lo, hi = int(window[0]), int(window[1])
    if not isinstance(ref, (int, np.integer)) or not lo <= ref <= hi:
        raise OptionError(f"ref must be an integer inside window [{lo}, {hi}]; got {ref!r}.")
    et = np.clip(pos - np.nan_to_num(epos), lo, hi)
    if not np.any(has_event & (et == ref) & (dose != 0)):
        raise EstimationError(
            f"{where}: no treated observation at the reference event time {ref} (rule: the "
            "omitted period must be observed, otherwise another bin becomes the reference "
            "without notice). Choose ref inside the observed event times or a wider window."
        )
    # event-time codes: row -> index of its estimated event time (-1: none, e.g. the
    # reference period or an untreated unit); the dummies are dose * 1[code == j]
    nz = has_event & (dose != 0)
    dropped_et: list[int] = []
    et_est: list[int] = []
    off = np.rint(et).astype(np.int64) - lo  # 0 .. hi - lo (et is clipped to the window)
    present = np.bincount(off[nz], minlength=hi - lo + 1) > 0
    slot = np.full(hi - lo + 1, -1, dtype=np.int64)
    for k in range(lo, hi + 1):
        if k == ref:
            continue
        if not present[k - lo]:
            dropped_et.append(k)
            continue
        slot[k - lo] = len(et_est)
        et_est.append(k)
    code = np.where(has_event, slot[off], -1)
    if not et_est:
        raise EstimationError(
            f"{where}: no treated observation falls in the window [{lo}, {hi}]; nothing to "
            "estimate. Check event_date and dname."
        )
    n_et = len(et_est)
    cregs: dict[str, Any] = {c: data[c] for c in controls}
    frame, keep = _build_frame(data, where=where, yname=yname, regressors=cregs,
                               fe=[uc, tc, *(data[c] for c in fe_extra)], cluster=cl,
                               weights=weights, family=family, fe_names=fe_extra)
    requested = vcov
    trow = nz[keep]
    method = _few_treated_choice(vcov, family=family, frame=frame, treated=trow,
                                 dose=dose[keep], epos=epos[keep], where=where)
    if method is None:
        method = _resolve_vcov(vcov, family=family, frame=frame, treat_cols=[], where=where,
                               treated=trow & (code[keep] >= 0))
    if method == "wild" and (family != "ols" or len(cl) != 1):
        raise OptionError("event_study: vcov='wild' needs family='ols' and one cluster column; "
                          f"got family={family!r}, cluster={cluster!r}.")
    lean = method in ("cluster", "hetero", "iid") and _use_fast(backend, family)
    regs: dict[str, Any] = {f"event_time::{k}": None for k in et_est}
    for c in controls:
        regs[c] = data[c]
    if lean:
        # memory-lean fast path: the dummies are never materialised as an n x K matrix
        from laborai.did._fastfe import SparseBlock

        block = SparseBlock(code[keep], dose[keep], n_et)
        ren = {f"_x{j}": f"_x{n_et + j}" for j in range(len(controls))}
        frame = frame.rename(columns=ren) if ren else frame
        fit = _fit_core(frame, n_x=len(regs), family=family, vcov=method, alpha=alpha,
                        n_boot=1, boot_weights="rademacher", seed=None, backend=backend,
                        block=block, dense_cols=list(ren.values()), unique_pairs=True)
    else:
        for j, k in enumerate(et_est):
            regs[f"event_time::{k}"] = np.where(code == j, dose, 0.0)
        with warnings.catch_warnings():  # the drops were reported by the first build
            warnings.simplefilter("ignore", LaborAIWarning)
            frame, keep = _build_frame(data, where=where, yname=yname, regressors=regs,
                                       fe=[uc, tc, *(data[c] for c in fe_extra)],
                                       cluster=cl, weights=weights, family=family,
                                       fe_names=fe_extra)
        fit = _fit_core(frame, n_x=len(regs), family=family,
                        vcov="cluster" if method in ("wild", "placebo") else method,
                        alpha=alpha, n_boot=1, boot_weights="rademacher", seed=None,
                        backend=backend, unique_pairs=True)
    _warn_fit_drops(fit, where)
    term_of = {f"_x{i}": n for i, n in enumerate(regs)}
    et_internal = [f"_x{i}" for i in range(n_et)]
    kept = [n for n in fit.names if n in et_internal]
    if not kept:
        raise EstimationError(f"{where}: every event-time dummy is collinear with the fixed effects.")
    dropped_et += [int(term_of[n].split("::")[1]) for n in et_internal if n in fit.dropped]
    idx = [fit.names.index(n) for n in kept]
    b = fit.coef[idx]
    V = fit.vcov[np.ix_(idx, idx)]
    ets = np.array([int(term_of[n].split("::")[1]) for n in kept], dtype=int)
    order = np.argsort(ets)
    ets, b, V = ets[order], b[order], V[np.ix_(order, order)]
    se = np.sqrt(np.diag(V))
    from scipy import stats

    leads = ets < 0
    boot: dict[str, Any] | None = None
    df_out = fit.df_t
    if method == "placebo":
        e_star = float(np.unique(epos[keep][trow])[0])
        etp = np.clip(pos[keep] - e_star, lo, hi)
        if family == "poisson":  # outcome-share weights, no size correction
            from laborai.did._ppml_placebo import ppml_event_placebo_cov

            size = None
            xc = [f"_x{i}" for i in range(n_et, len(regs))]
            V, J, n_tr = ppml_event_placebo_cov(
                frame["_y"].to_numpy(), [frame[c].to_numpy() for c in frame.columns
                                         if c.startswith("_fe")],
                frame["_cl0"].to_numpy(), etp, ets, np.unique(frame["_cl0"].to_numpy()[trow]),
                weights=frame["_w"].to_numpy() if "_w" in frame.columns else None,
                controls=frame[xc].to_numpy() if xc else None,
                min_controls=PLACEBO_MIN_CONTROLS, where=where, backend=backend)
        else:
            inv_size, size = _inv_size(data, size, weights, keep, where)
            V, J, n_tr, _ = _event_placebo_cov(frame, trow, etp, ets, n_et=n_et,
                                               n_x=len(regs), where=where, inv_size=inv_size,
                                               et_cols=[kept[i] for i in order])
        df_out = float(J - 1)
        if J - 1 < len(b):
            warnings.warn(
                f"{where}: {len(b)} event-time coefficients and only {J} control clusters with a "
                f"placebo estimate of each; their placebo covariance has rank at most {J - 1} "
                "(HonestDiD refuses it). Use a shorter window.", SmallSampleWarning,
                stacklevel=2)
        se = np.sqrt(np.diag(V))
        crit_pt = float(stats.t.ppf(1 - alpha / 2, df_out))
        crit_sup = max(_sup_t_crit_placebo(V, alpha, J, max(n_boot, 100_000), seed), crit_pt)
        table = wald_table(b, se, alpha=alpha, df=df_out, crit=crit_sup)
        table.insert(0, "term", [f"event_time::{k}" for k in ets])
        table["event_time"] = ets
        table["point_conf_low"] = b - crit_pt * se
        table["point_conf_high"] = b + crit_pt * se
        W, r = pinv_wald(b[leads], V[np.ix_(leads, leads)])
        if r == 0:
            pre = _wald_joint(b[:0], V[:0, :0], df_out)
        elif r >= J:
            warnings.warn(
                f"{where}: {r} leads and only {J} control clusters; the placebo pre-trend "
                "test is not defined (p = NaN). Use a shorter window.",
                SmallSampleWarning, stacklevel=2)
            pre = {"statistic": math.nan, "wald": W, "df1": r, "df2": None,
                   "p_value": math.nan, "distribution": "F"}
        else:
            pre = hotelling_f(W, r, J)
        pre["n_control_clusters"] = J
        pre["n_treated_clusters"] = n_tr
    elif method == "wild":
        col_of = [fit.names.index(n) for n in kept]
        col_sorted = [col_of[i] for i in order]
        boot = _event_wild(frame, fit.names, [col_sorted[i] for i in np.flatnonzero(leads)],
                           col_sorted, fit.vcov, n_boot=n_boot, seed=seed, alpha=alpha)
        crit_pt_k = np.asarray(boot["crit_pointwise"], dtype=float)
        crit_sup = max(float(boot["crit_sup_t"]), float(np.max(crit_pt_k)))
        crit_pt = float(np.median(crit_pt_k))
        table = wald_table(b, se, alpha=alpha, df=fit.df_t, crit=crit_sup)
        table["p_value"] = np.asarray(boot["p_pointwise"], dtype=float)
        table.insert(0, "term", [f"event_time::{k}" for k in ets])
        table["event_time"] = ets
        table["point_conf_low"] = b - crit_pt_k * se
        table["point_conf_high"] = b + crit_pt_k * se
        pre = dict(boot.get("pretrend") or _wald_joint(b[:0], V[:0, :0], fit.df_t))
    else:
        crit_pt = float(stats.t.ppf(1 - alpha / 2, fit.df_t) if fit.df_t is not None
                        else stats.norm.ppf(1 - alpha / 2))
        ev_V = np.linalg.eigvalsh((V + V.T) / 2.0)
        if int(np.sum(ev_V > 1e-10 * max(float(ev_V.max()), 0.0))) < len(b):
            warnings.warn(
                f"{where}: the covariance of the {len(b)} event-time coefficients is singular "
                f"({fit.n_clusters} clusters); the sup-t band draws on its estimable "
                "directions only. Use vcov='auto' (wild bootstrap band) or a shorter window.",
                SmallSampleWarning, stacklevel=2)
        crit_sup = _sup_t_crit(V, alpha, fit.df_t, max(n_boot, 100_000), seed)
        table = wald_table(b, se, alpha=alpha, df=fit.df_t, crit=crit_sup)
        table.insert(0, "term", [f"event_time::{k}" for k in ets])
        table["event_time"] = ets
        table["point_conf_low"] = b - crit_pt * se
        table["point_conf_high"] = b + crit_pt * se
        n_cl = fit.n_clusters if isinstance(fit.n_clusters, int) else None
        pre = _wald_joint_checked(b[leads], V[np.ix_(leads, leads)], fit.df_t, n_cl, where)
    pre["leads"] = tuple(int(k) for k in ets[leads])
    kwargs = dict(yname=yname, idname=idname, tname=tname, dname=dname,
                  event_date=event_date, window=(lo, hi), ref=int(ref), cluster=cluster,
                  weights=weights, family=family, controls=tuple(controls), fe=tuple(fe_extra),
                  vcov=method,
                  alpha=alpha, n_boot=n_boot, seed=seed, timing=timing,
                  size=size if method == "placebo" else None, backend=backend)
    settings = {k: (list(v) if isinstance(v, tuple) else
                    (str(v) if k == "event_date" and not isinstance(v, str) else v))
                for k, v in kwargs.items()}
    settings["vcov_requested"] = requested
    settings["backend_requested"] = settings.pop("backend")
    settings["backend"] = fit.backend
    return EventStudyResult(
        event_times=ets, coef=b, vcov=V, ref=int(ref), window=(lo, hi), table=table,
        pretrend=pre, crit_sup_t=crit_sup, crit_pointwise=crit_pt, nobs=fit.nobs,
        n_clusters=fit.n_clusters, df_resid=df_out,
        n_dropped=int((~keep).sum()) + fit.n_dropped_fit, family=family, vcov_type=method,
        alpha=alpha, dropped_event_times=tuple(sorted(set(dropped_et))),
        provenance=make_provenance(where, data, settings, seed),
        _data=data, _kwargs=kwargs, r2=fit.r2, r2_within=fit.r2_within,
    )
