"""The headline in one call: effects of generative AI by category x value tier, per outcome.

:func:`estimate_effects` runs one fixed-effects regression per outcome on the category x tier x
period panel built by ``la.build_panel`` and returns one tidy table with an effect (or an
event-time path) for every treated group, plus a Wald test that the effects are equal across
groups.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from laborai._progress import check_progress, tracked
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
    check_unique_unit_period,
    resolve_seed,
)
from laborai.did._core import (
    _BACKENDS,
    _build_frame,
    _cluster_cols,
    _common_checks,
    _event_positions,
    _fe_columns,
    _fit_core,
    _inv_size,
    _regression_placebo_choice,
    _regression_placebo_fit,
    _require_columns,
    _sup_t_crit,
    _sup_t_crit_placebo,
    _warn_fit_drops,
    normalise_vcov,
)
from laborai.did._formula import formula_interface
from laborai.did._placebo import placebo_cov, placebo_estimates, rescale, two_way_residuals
from laborai.errors import (
    DataValidationError,
    EstimationError,
    LaborAIWarning,
    OptionError,
    SmallSampleWarning,
)

__all__ = ["EffectsResult", "estimate_effects"]

_SPEC_KEYS = ("name", "y", "family", "weights")
#: eigenvalues of the contrast covariance below this share of the largest count as zero
_RANK_RTOL = 1e-10


@dataclass(frozen=True, eq=False, repr=False)
class EffectsResult(ResultMixin):
    """Frozen result of :func:`estimate_effects`.

    Attributes
    ----------
    table : pandas.DataFrame
        See :meth:`tidy`.
    equality_tests : pandas.DataFrame
        One row per outcome: ``outcome, statistic, df1, df2, p_value, distribution, wald,
        n_groups`` for ``H0``: all group effects are equal (design ``'did'``) or all
        post-event paths are equal (design ``'event_study'``).
    nobs : Mapping[str, int]
        Observations used per outcome.
    n_dropped : Mapping[str, int]
        Panel rows not used per outcome (missing outcome, e.g. log of zero; separation).
    design, by, vcov_type, alpha
        Settings.
    provenance : Provenance
    """

    table: pd.DataFrame
    equality_tests: pd.DataFrame
    nobs: Mapping[str, int]
    n_dropped: Mapping[str, int]
    design: str
    by: tuple[str, ...]
    vcov_type: str
    alpha: float
    provenance: Provenance
    _title = "Effects by group"

    def tidy(self) -> pd.DataFrame:
        """Effects table.

        Columns ``term, estimate, std_error, statistic, p_value, conf_low, conf_high`` then
        ``outcome``, the ``by`` columns (e.g. ``category, value_tier``), ``family``, ``nobs``
        and, for ``design='event_study'``, ``event_time, point_conf_low, point_conf_high``
        (``conf_low/conf_high`` is then a sup-t band simultaneous over each group's path).
        """
        return self.table.copy()

    def _header(self) -> list[tuple[str, str]]:
        lines = [("Design", self.design), ("Groups", " x ".join(self.by) or "pooled"),
                 ("Inference", self.vcov_type)]
        for row in self.equality_tests.itertuples():
            if row.df1:
                df2 = f", {row.df2:g}" if row.df2 is not None and not pd.isna(row.df2) else ""
                lines.append((f"Equal effects [{row.outcome}]",
                              f"{row.distribution}({row.df1}{df2}) = {row.statistic:.4f}, "
                              f"p = {row.p_value:.4f}"))
        return lines

    def __repr__(self) -> str:
        outs = list(dict.fromkeys(self.table["outcome"]))
        return (f"EffectsResult(design={self.design!r}, outcomes={outs}, "
                f"rows={len(self.table)}, vcov={self.vcov_type!r})")


def _normalise_outcomes(outcomes: Any, weights: str | None) -> list[dict[str, Any]]:
    if isinstance(outcomes, (str, Mapping)):
        outcomes = [outcomes]
    specs = []
    for o in outcomes:
        if isinstance(o, str):
            specs.append({"name": o, "y": o, "family": "ols", "weights": weights})
            continue
        if not isinstance(o, Mapping):
            raise OptionError(
                "each outcome must be a column name or a mapping like {'y': 'n_posts', "
                f"'family': 'poisson'}}; got {o!r}."
            )
        unknown = [k for k in o if k not in _SPEC_KEYS]
        if unknown or "y" not in o:
            raise OptionError(
                f"outcome spec keys must be among {list(_SPEC_KEYS)} and include 'y'; got "
                f"{dict(o)!r}."
            )
        fam = o.get("family", "ols")
        check_option("family", fam, ("ols", "poisson"))
        specs.append({"name": o.get("name", o["y"]), "y": o["y"], "family": fam,
                      "weights": o.get("weights", weights)})
    names = [s["name"] for s in specs]
    if len(set(names)) != len(names):
        raise OptionError(f"outcome names must be unique; got {names}. Give each a 'name'.")
    if not specs:
        raise OptionError("outcomes must list at least one outcome; got [].")
    return specs


def _equality_test(b: np.ndarray, V: np.ndarray, df: float | None, *,
                   hotelling: bool = False) -> dict[str, Any]:
    """Wald test that all entries of b are equal (pseudo-inverse when V is rank deficient)."""
    k = b.size
    if k < 2:
        return {"statistic": math.nan, "df1": 0, "df2": None, "p_value": math.nan,
                "distribution": "none", "wald": math.nan}
    R = np.eye(k)[1:] - np.eye(k)[:-1]
    return _contrast_test(R @ b, R @ V @ R.T, df, hotelling=hotelling)


@formula_interface("estimate_effects")
def estimate_effects(
    panel: pd.DataFrame,
    *,
    outcomes: Sequence[str | Mapping[str, Any]] | str | Mapping[str, Any],
    by: Sequence[str] = ("category", "value_tier"),
    design: Literal["did", "event_study"] = "did",
    event_date: str = "event_date",
    idname: str = "unit",
    tname: str = "period",
    control_group: Literal["never_treated"] = "never_treated",
    weights: str | None = None,
    cluster: str | Sequence[str] | None = "category",
    vcov: Literal["auto", "placebo", "cluster", "hetero", "wild"] = "auto",
    alpha: float = 0.05,
    window: tuple[int, int] | None = None,
    ref: int = -1,
    n_boot: int = 9999,
    boot_weights: Literal["rademacher", "webb"] = "rademacher",
    size: str | None = "weights",
    seed: int | None = 0,
    timing: Literal["first_full", "containing"] = "first_full",
    unknown_tier: Literal["exclude", "include"] = "exclude",
    fe: Sequence[str] | None = None,
    backend: Literal["auto", "fast", "pyfixest"] = "auto",
    progress: bool | None = None,
) -> EffectsResult:
    """Effects of the generative-AI event on each outcome for every treated group.

    For ``design='did'`` one regression per outcome::

        y_it = sum_g beta_g 1[i in g] 1[t >= E_g] + alpha_i + lambda_t + e_it

    with one treated x post indicator per treated group ``g`` (a combination of the ``by``
    columns, e.g. category x value tier) and ``E_g`` the group's event date. For
    ``design='event_study'`` the indicator is replaced by event-time dummies per group
    (``window`` with binned ends, ``ref`` omitted).

    Parameters
    ----------
    panel : pandas.DataFrame
        One row per unit x period (``la.build_panel`` format): ``category``, ``value_tier``,
        ``unit``, ``period``, outcome columns and ``event_date`` (NaT for never-treated).
        Not modified.
    outcomes : list of str or mapping
        Each a column name (OLS) or a mapping with keys ``y`` (column), optional ``name``,
        ``family`` (``'ols'`` or ``'poisson'``) and ``weights`` (column; overrides
        ``weights``), e.g. ``{"name": "job_posts_ppml", "y": "n_posts", "family": "poisson"}``.
    by : sequence of str, default ('category', 'value_tier')
        Unit-level columns defining the groups; ``()`` pools all treated units.
    fe : sequence of str, optional
        Extra fixed effects beyond unit and period, as in :func:`laborai.did.twfe` (e.g. a
        value-tier x month key); recorded in ``provenance.settings['fe']``.
    backend : {'auto', 'fast', 'pyfixest'}, default 'auto'
        Fixed-effects solver, as in :func:`laborai.did.twfe` (``'auto'`` and ``'fast'``:
        laborai's exact fast path, for OLS and Poisson outcomes; ``'pyfixest'``: pyfixest).
        The numbers are equal either way (Poisson: up to pyfixest's stopping tolerances).
    unknown_tier : {'exclude', 'include'}, default 'exclude'
        What to do with units of the ``'unknown'`` value tier (posts without a contract value,
        ``la.panel.UNKNOWN_TIER``) when the panel has a ``value_tier`` column: they are not a
        value tier, so by default they are left out of the estimation, with a warning giving
        the number of rows and posts, and recorded in ``provenance.settings['excluded']``;
        ``'include'`` estimates them as any other group.
    design : {'did', 'event_study'}, default 'did'
        Static effects or event-time paths.
    event_date : str, default 'event_date'
        Column with each unit's event date (constant within unit; NaT/NaN for never-treated units).
    idname, tname : str, default 'unit', 'period'
        Unit and period columns (fixed effects).
    control_group : {'never_treated'}, default 'never_treated'
        Units without an event date are the comparison group (treated groups' pre-event
        periods also enter, as in any TWFE regression).
    weights : str, optional
        Default regression weights for every outcome.
    cluster : str or pair of str, default 'category'
        Cluster column(s); ``None`` clusters by unit.
    vcov : {'auto', 'placebo', 'cluster', 'hetero', 'wild'}, default 'auto'
        Inference. ``'placebo'``: Conley-Taber-type placebo inference from the control
        clusters (see Notes), valid when each group's treatment lies in one cluster.
        ``'auto'`` (default) chooses ``'placebo'`` when every group's treated units lie in a
        single cluster (the category x tier groups under category clusters), otherwise the
        wild cluster restricted bootstrap (``'wild'``) for OLS outcomes of design ``'did'``
        and CRV1 (``'cluster'``, with a :class:`~laborai.errors.SmallSampleWarning` below 50
        clusters) elsewhere; the method used is in ``tidy()['inference']``. CRV1, HC1 and the
        wild bootstrap as in :func:`laborai.did.twfe`; asking for ``'cluster'`` or ``'wild'``
        when a group's treatment lies in one cluster raises :class:`OptionError` (those
        variances cannot measure that group's error), and ``'hetero'`` warns (it ignores the
        within-category correlation).
    alpha : float, default 0.05
        One minus the confidence level.
    window, ref
        Event-study window and reference event time (``design='event_study'``). Default
        window ``(-L, L)`` with ``L = min(12, (J - 1) // 2)`` for ``J`` control clusters (no
        treated unit): each group's path then has fewer coefficients than there are placebo
        (or cluster) draws, so its covariance is not singular (12 categories with 5 exposed:
        ``(-3, 3)``).
    n_boot, boot_weights
        Wild bootstrap draws / sup-t draws.
    size : str or None, default 'weights'
        Cell-size column for the heteroskedasticity correction of placebo inference
        (Ferman & Pinto 2019). ``'weights'`` (default): the outcome's weights column if it has
        one (e.g. earnings per contract weighted by ``n_contracts``, whose sampling noise is
        proportional to ``1 / n_contracts``), else no correction; ``'auto'``: the weights
        column, else ``n_posts``; a column name; ``None``: equal error variances. Unweighted
        outcomes are not corrected by default: on the simulated marketplace at 300,000 posts
        the per-group tests of log job posts rejected a true null 9.2% of the time with an
        ``n_posts`` correction and 3.4% without it (category shocks, not cell sampling noise,
        dominate there; ``docs/validation.md``).
    seed : int or None, default 0
        Seed of the bootstrap and sup-t draws (``None``: fresh entropy); recorded in the
        result's provenance.
    timing : {'first_full', 'containing'}, default 'first_full'
        First treated period: the first period starting on or after the event date, or the
        period containing it (``docs/estimators/timing.md``).
    progress : bool or None, default None
        A progress bar over the outcomes on standard error: ``None`` shows one in a terminal
        when the run takes more than a few seconds, ``True`` always, ``False`` never
        (``laborai._progress``).

    Returns
    -------
    EffectsResult
        ``tidy()`` with one row per outcome x group (x event time) and ``equality_tests``.

    Raises
    ------
    DataValidationError
        Missing columns; ``by`` or ``event_date`` varying within unit; no never-treated unit.
    OptionError
        Bad ``design``, ``control_group``, outcome specification or inference options.
    EstimationError
        No treated group, or an effect not identified.

    Notes
    -----
    Estimand: ``beta_g`` is the average effect on group ``g`` after its event relative to
    before, compared with never-treated groups, under parallel trends and no anticipation;
    with a single event date per group and one indicator per group the estimate is a
    (regression-weighted) ATT of group ``g``. For Poisson outcomes ``exp(beta_g) - 1`` is
    the proportional effect. The equality test is a Wald test of ``beta_1 = ... = beta_k``
    (``k - 1`` successive contrasts; ``F = W / df1`` against ``F(df1, df)`` with the t degrees
    of freedom for OLS, ``chi2(df1)`` for Poisson). When the cluster-robust covariance of the
    contrasts is rank deficient the test uses its pseudo-inverse (eigenvalues below ``1e-10``
    times the largest count as zero) with ``df1`` equal to its rank, and a
    :class:`laborai.errors.SmallSampleWarning` is issued. This happens with fewer clusters
    than contrasts and, importantly, when each group's indicator lives in a single cluster:
    with unit fixed effects nested in the clusters, the CRV1 scores of two such groups that
    share an event date coincide (the two tiers of one category under category clusters, or
    two categories with the same event date), so the estimated variance of their difference
    is zero and that contrast cannot be tested with these clusters (use finer clusters, or
    :func:`laborai.did.ddd` with wild bootstrap inference to compare tiers). For the event-study design the test compares
    the post-event coefficients (``k >= 0``) across groups at every common event time.

    Placebo inference (the default for category x tier groups). Each group's treatment lies
    in one category, so with category clusters no cluster-robust variance can estimate its
    error (the treated cluster's scores are fitted to zero: CRV1 gives both tiers of a
    category the same tiny standard error and rejects a true null most of the time). The
    error is measured from the ``J`` control clusters instead (Conley & Taber 2011): for each
    control cluster ``j`` the same regression is run on the never-treated units with ``j``'s
    units matching the group (same values of the ``by`` columns that vary within clusters,
    e.g. the same value tier) as pseudo-treated, with the group's event date, event-time
    dummies and weights. With placebo estimates ``p_j`` the standard error is
    ``sqrt((J^2 - 1) / J^3 * sum_j p_j^2)`` and the reference distribution ``t(J - 1)``, exact
    for exchangeable normal cluster errors (Donald & Lang 2007). Cells of different size have
    different sampling variance; with ``size`` the placebo second moments are modelled as
    ``a + b v`` (``v``: mean of ``1/size`` over post periods divided by their number, plus the
    same over pre periods), fitted by non-negative least squares, and rescaled to each group's
    ``v`` (Ferman & Pinto 2019). Simultaneous event-study bands draw from ``N(0, R)`` scaled
    by ``sqrt(chi2(J-1)/(J-1))`` with ``R`` the correlation of the placebo paths; equality
    tests use the placebo covariance (groups in one cluster share their placebo
    correlation, groups in different clusters share only the control mean) with the
    Hotelling correction ``F = W (J - q) / (q (J - 1))`` on ``F(q, J - q)`` and are not
    available (NaN, with a warning) when ``q >= J``. The size and coverage of these defaults
    on the simulated marketplace are in ``docs/validation.md``: pooled over the groups the
    per-group tests hold 3.5-5.8%, but by group they range from 1% (large, quiet categories)
    to 8.6-9.8% (Translation's small high tier), because placebo inference treats every
    category's noise as exchangeable with the controls' (section "estimate_effects per
    group").

    References
    ----------
    Angrist, J. D. & Pischke, J.-S. (2009). *Mostly Harmless Econometrics*. Princeton.
    Cameron, A. C. & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference.
    *Journal of Human Resources* 50(2), 317-372.
    Conley, T. G. & Taber, C. R. (2011). Inference with "difference in differences" with a
    small number of policy changes. *Review of Economics and Statistics* 93(1), 113-125.
    Donald, S. G. & Lang, K. (2007). Inference with difference-in-differences and other panel
    data. *Review of Economics and Statistics* 89(2), 221-233.
    Ferman, B. & Pinto, C. (2019). Inference in differences-in-differences with few treated
    groups and heteroskedasticity. *Review of Economics and Statistics* 101(3), 452-467.
    """
    check_option("design", design, ("did", "event_study"))
    check_option("control_group", control_group, ("never_treated",))
    unit, time, event_col, control = idname, tname, event_date, control_group
    vcov, cluster = normalise_vcov(vcov, cluster)  # type: ignore[assignment]
    check_option("vcov", vcov, ("auto", "placebo", "cluster", "hetero", "wild"))
    check_option("unknown_tier", unknown_tier, ("exclude", "include"))
    seed = resolve_seed(seed)
    by = tuple(by or ())
    excluded: dict[str, int] = {}
    panel_in = panel
    if unknown_tier == "exclude" and "value_tier" in panel.columns:
        from laborai.panel import UNKNOWN_TIER

        unk = (panel["value_tier"] == UNKNOWN_TIER).to_numpy()
        if unk.any():
            n_posts = (int(panel.loc[unk, "n_posts"].sum()) if "n_posts" in panel.columns
                       else -1)
            excluded = {"rows": int(unk.sum()), "posts": n_posts}
            warnings.warn(
                f"estimate_effects: {int(unk.sum())} row(s) of the {UNKNOWN_TIER!r} value tier "
                + (f"({n_posts:,} posts without a contract value) " if n_posts >= 0 else "")
                + "are not a value tier and are left out; pass unknown_tier='include' to "
                "estimate them as a group.", LaborAIWarning, stacklevel=2)
            panel = panel.loc[~unk]
    specs = _normalise_outcomes(outcomes, weights)
    for s in specs:
        _common_checks(s["family"], "cluster" if vcov == "placebo" else vcov, alpha, n_boot,
                       boot_weights)
    if design == "event_study" and vcov == "wild":
        raise OptionError("vcov='wild' is available for design='did' only; got design="
                          "'event_study'. Use vcov='auto' (placebo inference) or 'cluster'.")
    cl = _cluster_cols(cluster, unit)
    check_option("backend", backend, _BACKENDS)
    progress = check_progress(progress, "estimate_effects")
    fe_extra = _fe_columns(fe, "estimate_effects")
    cols = [unit, time, event_col, *by, *cl, *fe_extra] + [s["y"] for s in specs] \
        + [s["weights"] for s in specs if s["weights"]]
    _require_columns(panel, cols, "estimate_effects")
    check_time_column(panel, time, where="estimate_effects")
    check_unique_unit_period(panel, unit, time)
    for b in by:
        nun = panel.groupby(unit, sort=False)[b].nunique(dropna=False)
        if (nun > 1).any():
            raise DataValidationError(
                f"estimate_effects: column {b!r} must be constant within unit {unit!r}; "
                f"{int((nun > 1).sum())} unit(s) vary (first: {list(nun.index[nun > 1][:5])})."
            )
    pos, epos = _event_positions(panel, unit, time, event_col, "estimate_effects", timing)
    treated = ~np.isnan(epos)
    if treated.all():
        raise DataValidationError(
            f"estimate_effects: every unit has an event date in {event_col!r}; "
            "control_group='never_treated' needs units with NaT/NaN event dates."
        )
    if not treated.any():
        raise EstimationError(f"estimate_effects: no unit has an event date in {event_col!r}.")
    keys = (panel.loc[treated, list(by)].drop_duplicates().sort_values(list(by))
            .itertuples(index=False, name=None) if by else [()])
    groups = [tuple(k) for k in keys]
    gkey = (pd.MultiIndex.from_frame(panel[list(by)]) if by else None)

    def in_group(g: tuple[Any, ...]) -> np.ndarray:
        if gkey is None:
            return treated.copy()
        return treated & np.asarray(gkey.isin([g]))

    members = {g: in_group(g) for g in groups}
    label = {g: ("treated" if not by else "/".join(str(v) for v in g)) for g in groups}
    n_clusters = int(panel[cl[0]].nunique())
    if len(cl) == 1 and n_clusters < 2:
        raise EstimationError(
            f"estimate_effects: cluster column {cl[0]!r} has {n_clusters} value; cluster-based "
            "inference needs at least 2 clusters (and placebo inference needs control "
            "clusters). Pass a finer cluster column."
        )
    n_tr_cl = {g: int(panel.loc[members[g], cl[0]].nunique()) for g in groups}
    single = [g for g in groups if n_tr_cl[g] == 1] if len(cl) == 1 else []
    regs: dict[str, np.ndarray] = {}
    meta: list[tuple[tuple[Any, ...], int | None]] = []
    if window is None:
        cl_all = panel[cl[0]].to_numpy()
        j_ctrl = int(np.unique(cl_all).size - np.unique(cl_all[treated]).size)
        L = max(1, min(12, (j_ctrl - 1) // 2))
        window = (-L, L)
    lo, hi = int(window[0]), int(window[1])
    if design == "did":
        post = treated & (pos >= np.nan_to_num(epos))
        for g in groups:
            regs[f"{label[g]}:post"] = (members[g] & post).astype(float)
            meta.append((g, None))
    else:
        if not lo <= ref <= hi or lo >= hi:
            raise OptionError(f"ref must be inside window [{lo}, {hi}] with lo < hi; got "
                              f"ref={ref!r}, window={window!r}.")
        et = np.clip(pos - np.nan_to_num(epos), lo, hi)
        for g in groups:
            gref = members[g] & (et == ref)
            if not gref.any():
                raise EstimationError(
                    f"estimate_effects: group {label[g]!r} has no observation at the "
                    f"reference event time {ref}; choose another ref or window."
                )
            for k in range(lo, hi + 1):
                if k == ref:
                    continue
                col = (members[g] & (et == k)).astype(float)
                if col.any():
                    regs[f"{label[g]}:event_time::{k}"] = col
                    meta.append((g, k))
    method = vcov
    # pooled effect (by=()) with its treatment in several clusters: placebo inference on the
    # whole regression (as twfe/event_study do), decided on the estimation frame below
    pooled_placebo = (not single and not by and len(cl) == 1 and n_clusters < 50
                      and all(s["family"] == "ols" for s in specs)
                      and vcov in ("auto", "placebo"))
    plan_frame: pd.DataFrame | None = None
    if pooled_placebo:
        s0 = specs[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LaborAIWarning)
            plan_frame, _ = _build_frame(panel, where="estimate_effects", yname=s0["y"],
                                         regressors=regs,
                                         fe=[panel[unit], panel[time],
                                             *(panel[c] for c in fe_extra)],
                                         cluster=cl, weights=s0["weights"], family="ols",
                                         fe_names=fe_extra)
        choice, _plan = _regression_placebo_choice(
            vcov, family="ols", frame=plan_frame,
            treat_cols=[f"_x{j}" for j in range(len(regs))],
            key=plan_frame["_fe1"].to_numpy(), where="estimate_effects")
        pooled_placebo = choice == "placebo"
        if pooled_placebo:
            method = "placebo"
    if vcov == "auto" and not pooled_placebo:
        if single and len(single) == len(groups):
            method = "placebo"
        elif single:
            raise EstimationError(
                f"estimate_effects: {len(single)} group(s) have their treatment in one "
                f"{cl[0]!r} cluster and {len(groups) - len(single)} in several; no one "
                "inference method fits both. Estimate them in separate calls (e.g. by=() for "
                "the pooled effect)."
            )
        elif design == "did" and all(s["family"] == "ols" for s in specs) and len(cl) == 1:
            method = "wild"
        else:
            method = "cluster"
    if method in ("cluster", "wild") and single:
        raise OptionError(
            f"estimate_effects: vcov={vcov!r} cannot measure the error of an effect whose "
            f"treatment lies in one cluster; {len(single)} group(s) do here (e.g. "
            f"{label[single[0]]!r} lies in one {cl[0]!r} cluster; its CRV1 scores are fitted "
            "to zero). Use vcov='auto' or 'placebo' (placebo inference from the control "
            "clusters), or pool the groups with by=()."
        )
    if method == "placebo" and len(cl) != 1:
        raise OptionError("vcov='placebo' needs one cluster column; got "
                          f"cluster={cluster!r}.")
    if method == "placebo" and not single and not pooled_placebo:
        raise OptionError(
            "vcov='placebo' is for groups whose treatment lies in one cluster; these groups "
            f"span several {cl[0]!r} clusters. Use vcov='auto' (wild cluster bootstrap)."
        )
    if method == "hetero":
        warnings.warn(
            "estimate_effects: vcov='hetero' ignores the correlation of outcomes within "
            f"{cl[0]!r} and over time; its tests over-reject on this kind of panel. Use "
            "vcov='auto'.", SmallSampleWarning, stacklevel=2)
    if method == "cluster" and len(cl) == 1 and n_clusters < 50:
        warnings.warn(
            f"estimate_effects: CRV1 with {n_clusters} clusters over-rejects; "
            + ("for OLS outcomes of design 'did' use vcov='auto' (wild cluster bootstrap)."
               if design == "did" else "prefer placebo inference with by=('category', "
               "'value_tier') or laborai.did.ri_test for pooled effects."),
            SmallSampleWarning, stacklevel=2)

    fit_vcov = "cluster" if method == "placebo" else method

    rows: list[pd.DataFrame] = []
    tests: list[dict[str, Any]] = []
    nobs: dict[str, int] = {}
    ndrop: dict[str, int] = {}
    for s in tracked(specs, "estimate_effects", progress, unit="outcome"):
        frame, keep = _build_frame(panel, where="estimate_effects", yname=s["y"],
                                   regressors=regs,
                                   fe=[panel[unit], panel[time], *(panel[c] for c in fe_extra)],
                                   cluster=cl, weights=s["weights"], family=s["family"],
                                   fe_names=fe_extra)
        fit = _fit_core(frame, n_x=len(regs), family=s["family"], vcov=fit_vcov, alpha=alpha,
                        n_boot=n_boot, boot_weights=boot_weights, seed=seed, backend=backend)
        _warn_fit_drops(fit, "estimate_effects")
        n_ctrl_pooled = None
        if pooled_placebo:
            tcols = [f"_x{j}" for j in range(len(regs))]
            _c, plan = _regression_placebo_choice(
                "placebo", family="ols", frame=frame, treat_cols=tcols,
                key=frame["_fe1"].to_numpy(), where="estimate_effects")
            if plan is not None:
                plan["inv_size"], _col = _inv_size(panel, _size_column(size, s, panel), None,
                                                   keep, "estimate_effects")
                fit, info = _regression_placebo_fit(fit, frame, tcols, len(regs), plan, alpha,
                                                    "estimate_effects")
                n_ctrl_pooled = info["n_control_clusters"]
        nobs[s["name"]] = fit.nobs
        ndrop[s["name"]] = int((~keep).sum()) + fit.n_dropped_fit
        idx = {n: i for i, n in enumerate(fit.names)}
        terms = list(regs)
        kept = [j for j in range(len(terms)) if f"_x{j}" in idx]
        if design == "did" and len(kept) < len(terms):
            lost = [terms[j] for j in range(len(terms)) if j not in kept]
            raise EstimationError(
                f"estimate_effects: effect(s) {lost} for outcome {s['name']!r} are collinear "
                "with the fixed effects (no pre- or post-event observations?)."
            )
        pos_k = [idx[f"_x{j}"] for j in kept]
        tab = fit.table.iloc[pos_k].reset_index(drop=True)
        tab.insert(0, "term", [terms[j] for j in kept])
        tab["outcome"] = s["name"]
        for bi, b in enumerate(by):
            tab[b] = [meta[j][0][bi] for j in kept]
        tab["family"] = s["family"]
        tab["nobs"] = fit.nobs
        b_all = fit.coef[pos_k]
        V_all = fit.vcov[np.ix_(pos_k, pos_k)]
        gids = [meta[j][0] for j in kept]
        # event time of each term (design 'did': 0, unused)
        ets_all = np.array([meta[j][1] or 0 for j in kept], dtype=int)
        df_t = fit.df_t
        df_rows: np.ndarray | None = None
        if method == "placebo" and not pooled_placebo:
            sizecol = _size_column(size, s, panel)
            V_all, df_rows, n_ctrl, noise = _placebo_cov(
                panel, s, by=by, cl=cl[0], unit=unit, groups=groups, members=members,
                gids=gids, ets=ets_all, treated=treated, pos=pos, epos=epos, design=design,
                window=(lo, hi), ref=ref, sizecol=sizecol)
            se = np.sqrt(np.diag(V_all))
            tab = tab.drop(columns=["std_error", "statistic", "p_value", "conf_low", "conf_high"])
            wt = pd.concat([wald_table([b_all[i]], [se[i]], alpha=alpha, df=float(df_rows[i]))
                            for i in range(len(b_all))], ignore_index=True)
            for c in ("std_error", "statistic", "p_value", "conf_low", "conf_high"):
                tab[c] = wt[c].to_numpy()
            tab["df"] = df_rows
            tab["n_control_clusters"] = n_ctrl
            tab["noise_ratio"] = noise
            df_t = float(np.min(df_rows)) if len(df_rows) else None
        else:
            tab["df"] = np.nan if df_t is None else df_t
            if n_ctrl_pooled is not None:
                tab["n_control_clusters"] = n_ctrl_pooled
        tab["inference"] = method
        if design == "event_study":
            ets = ets_all
            tab["event_time"] = ets
            se = np.sqrt(np.diag(V_all))
            dfk = df_rows if df_rows is not None else np.full(len(kept), np.nan if fit.df_t
                                                              is None else fit.df_t)
            crit_pt = np.array([stats.t.ppf(1 - alpha / 2, d) if np.isfinite(d)
                                else stats.norm.ppf(1 - alpha / 2) for d in dfk])
            tab["point_conf_low"] = b_all - crit_pt * se
            tab["point_conf_high"] = b_all + crit_pt * se
            for gi, g in enumerate(groups):
                sel = np.array([x == g for x in gids])
                if not sel.any():
                    continue
                dfg = float(np.min(dfk[sel])) if np.isfinite(dfk[sel]).all() else None
                Vg = V_all[np.ix_(sel, sel)]
                ev_g = np.linalg.eigvalsh((Vg + Vg.T) / 2.0)
                if int(np.sum(ev_g > _RANK_RTOL * max(float(ev_g.max()), 0.0))) < int(sel.sum()):
                    warnings.warn(
                        f"estimate_effects: the covariance of group {label[g]!r}'s "
                        f"{int(sel.sum())} event-time coefficients ({method}) is singular; the "
                        "sup-t band draws on its estimable directions only. Use vcov='auto' or "
                        "a shorter window.", SmallSampleWarning, stacklevel=2)
                crit = (_sup_t_crit_placebo(Vg, alpha, int(dfg) + 1, 20_000, seed + gi)
                        if method == "placebo" and dfg is not None
                        else _sup_t_crit(Vg, alpha, dfg, 20_000, seed + gi))
                band = wald_table(b_all[sel], se[sel], alpha=alpha, df=dfg, crit=crit)
                tab.loc[sel, ["conf_low", "conf_high"]] = band[["conf_low", "conf_high"]].to_numpy()
            # equality of the post-event paths across groups
            post_sel = ets >= 0
            common = sorted(set.intersection(*[
                {int(ets[i]) for i in range(len(kept)) if post_sel[i] and gids[i] == g}
                for g in groups]))
            if len(groups) > 1 and common:
                rws = []
                for e in common:
                    ix = [i for i in range(len(kept)) if ets[i] == e]
                    for i_a, i_c in zip(ix[:-1], ix[1:], strict=True):
                        r = np.zeros(len(kept))
                        r[i_a], r[i_c] = 1.0, -1.0
                        rws.append(r)
                R = np.array(rws)
                test = _contrast_test(R @ b_all, R @ V_all @ R.T, df_t,
                                      hotelling=method == "placebo")
            else:
                test = _contrast_test(np.array([]), np.zeros((0, 0)), df_t)
        else:
            test = _equality_test(b_all, V_all, df_t, hotelling=method == "placebo")
        test.update({"outcome": s["name"], "n_groups": len(groups)})
        tests.append(test)
        rows.append(tab)
    table = pd.concat(rows, ignore_index=True)
    front = [*TIDY_COLUMNS, "outcome", *by]
    table = table[front + [c for c in table.columns if c not in front]]
    eq = pd.DataFrame(tests)[["outcome", "statistic", "df1", "df2", "p_value", "distribution",
                              "wald", "n_groups"]]
    settings = {"outcomes": specs, "by": list(by), "design": design, "event_date": event_col,
                "idname": unit, "tname": time, "control_group": control, "weights": weights,
                "cluster": cluster if not isinstance(cluster, tuple) else list(cluster),
                "vcov": vcov, "vcov_used": method, "alpha": alpha, "window": list(window),
                "ref": ref, "n_boot": n_boot, "boot_weights": boot_weights, "size": size,
                "seed": seed, "timing": timing, "unknown_tier": unknown_tier,
                "fe": list(fe_extra),
                "excluded": excluded}
    return EffectsResult(
        table=table, equality_tests=eq, nobs=nobs, n_dropped=ndrop, design=design, by=by,
        vcov_type=method, alpha=alpha,
        provenance=make_provenance("estimate_effects", panel_in, settings, seed),
    )


def _contrast_test(Rb: np.ndarray, RVR: np.ndarray, df: float | None, *,
                   hotelling: bool = False) -> dict[str, Any]:
    if Rb.size == 0:
        return {"statistic": math.nan, "df1": 0, "df2": None, "p_value": math.nan,
                "distribution": "none", "wald": math.nan}
    if hotelling:
        # placebo covariance estimated from J = df + 1 control clusters (Hotelling T^2)
        q = Rb.size
        J = (df or 0.0) + 1.0
        W, rank = pinv_wald(Rb, RVR) if np.isfinite(RVR).all() else (math.nan, 0)
        if rank < q or q >= J:
            warnings.warn(
                f"equality test: {q} contrast(s) cannot be tested with placebo inference from "
                f"{int(J)} control clusters (needs fewer contrasts than control clusters); "
                "reported as NaN. Compare fewer groups at a time.",
                SmallSampleWarning, stacklevel=3)
            return {"statistic": math.nan, "df1": q, "df2": J - q, "p_value": math.nan,
                    "distribution": "F", "wald": math.nan}
        return hotelling_f(W, q, int(J))
    W, rank = pinv_wald(Rb, RVR, _RANK_RTOL)
    if rank < Rb.size:
        warnings.warn(
            f"equality test: the covariance of the {Rb.size} contrasts has rank {rank} "
            "(fewer clusters than contrasts?); the Wald test uses a pseudo-inverse with "
            "df1 = rank.",
            SmallSampleWarning,
            stacklevel=3,
        )
    if df is None:
        return {"statistic": W, "df1": rank, "df2": None,
                "p_value": float(stats.chi2.sf(W, rank)), "distribution": "chi2", "wald": W}
    return {"statistic": W / rank, "df1": rank, "df2": float(df),
            "p_value": float(stats.f.sf(W / rank, rank, df)), "distribution": "F", "wald": W}


def _size_column(size: str | None, spec: Mapping[str, Any], panel: pd.DataFrame) -> str | None:
    if size is None:
        return None
    if size == "weights":
        return str(spec["weights"]) if spec["weights"] else None
    if size != "auto":
        if size not in panel.columns:
            raise OptionError(f"size={size!r} is not a column of the panel; pass a cell-size "
                              "column (e.g. 'n_posts'), 'auto' or None.")
        return size
    if spec["weights"]:
        return str(spec["weights"])
    return "n_posts" if "n_posts" in panel.columns else None


def _placebo_cov(
    panel: pd.DataFrame,
    spec: Mapping[str, Any],
    *,
    by: tuple[str, ...],
    cl: str,
    unit: str,
    groups: list[tuple[Any, ...]],
    members: Mapping[tuple[Any, ...], np.ndarray],
    gids: list[tuple[Any, ...]],
    ets: np.ndarray,
    treated: np.ndarray,
    pos: np.ndarray,
    epos: np.ndarray,
    design: str,
    window: tuple[int, int],
    ref: int,
    sizecol: str | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Placebo covariance of the estimated terms, their degrees of freedom, control counts and
    each term's group noise ratio (:func:`_noise_ratios`)."""
    where = "estimate_effects"
    if spec["family"] != "ols":
        raise OptionError(
            f"{where}: placebo inference is implemented for OLS outcomes; outcome "
            f"{spec['name']!r} has family={spec['family']!r}. Use its log with OLS, or pool "
            "the groups (by=()) for the wild cluster bootstrap / ri_test."
        )
    y = pd.to_numeric(panel[spec["y"]], errors="coerce").to_numpy(dtype=float)
    w = (pd.to_numeric(panel[spec["weights"]], errors="coerce").to_numpy(dtype=float)
         if spec["weights"] else None)
    ok = np.isfinite(y) & (np.isfinite(w) & (w > 0) if w is not None else True)
    size = None
    if sizecol is not None:
        size = pd.to_numeric(panel[sizecol], errors="coerce").to_numpy(dtype=float)
        ok &= np.isfinite(size) & (size > 0)
    clv = panel[cl].to_numpy()
    tr_clusters = set(pd.unique(clv[treated]))
    ctrl_rows = ~treated & ok
    controls = [c for c in sorted(pd.unique(clv[~treated]), key=str) if c not in tr_clusters]
    if len(controls) < 3:
        raise EstimationError(
            f"{where}: placebo inference needs at least 3 control clusters (never-treated "
            f"{cl!r} values); found {len(controls)}. Add control categories or pool the groups."
        )
    mcols = [b for b in by if b != cl
             and int(panel.groupby(cl, sort=False)[b].nunique(dropna=False).max()) > 1]
    lo, hi = window
    rows_c = np.flatnonzero(ctrl_rows)
    fe = np.column_stack([pd.factorize(panel[unit].to_numpy()[rows_c])[0],
                          pd.factorize(pos[rows_c])[0]])
    y_c = y[rows_c]
    w_c = None if w is None else w[rows_c]
    ks = [k for k in range(lo, hi + 1) if k != ref] if design == "event_study" else [0]

    uv = panel[unit].to_numpy()
    inv_size = None if size is None else 1.0 / np.where(ok, size, np.nan)

    def v_of(mask: np.ndarray, e: float) -> float:
        """Sampling-variance proxy of the units in ``mask`` for event position ``e``."""
        if inv_size is None:
            return math.nan
        vals = []
        for u in pd.unique(uv[mask]):
            r = mask & (uv == u) & ok
            post, pre = r & (pos >= e), r & (pos < e)
            if post.any() and pre.any():
                vals.append(float(np.mean(inv_size[post])) / post.sum()
                            + float(np.mean(inv_size[pre])) / pre.sum())
        return float(np.mean(vals)) / len(vals) if vals else math.nan

    cache: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = {}
    P = np.full((len(controls), len(gids)), np.nan)
    for g in groups:
        ev = np.unique(epos[members[g]])
        if ev.size != 1:
            raise OptionError(
                f"{where}: placebo inference needs one event date per group; group "
                f"{'/'.join(map(str, g))!r} has {ev.size}. Use finer groups."
            )
        e = float(ev[0])
        mvals = tuple(g[by.index(b)] for b in mcols)
        key = (e, mvals)
        if key not in cache:
            match = np.ones(len(panel), dtype=bool)
            for b, val in zip(mcols, mvals, strict=True):
                match &= (panel[b].to_numpy() == val)
            regs = []
            vs = []
            for c in controls:
                sel = (clv == c) & match
                d = sel[rows_c].astype(float)
                if design == "did":
                    X = (d * (pos[rows_c] >= e))[:, None]
                else:
                    etc = np.clip(pos[rows_c] - e, lo, hi)
                    X = np.column_stack([d * (etc == k) for k in ks])
                regs.append(X)
                vs.append(v_of(sel & ~treated, e))
            est = placebo_estimates(y_c, w_c, fe, regs)
            if not np.isfinite(est).any():
                raise EstimationError(f"{where}: no placebo estimate could be computed for "
                                      f"group {'/'.join(map(str, g))!r}.")
            cache[key] = (est, np.array(vs))
        est, vs_arr = cache[key]
        v_g = v_of(members[g], e)
        for i, (gi, k) in enumerate(zip(gids, ets, strict=True)):
            if gi != g:
                continue
            col = 0 if design == "did" else ks.index(int(k))
            P[:, i] = rescale(est[:, col], vs_arr if size is not None else None, v_g)
    tcl = {g: pd.unique(clv[members[g]])[0] for g in groups}
    same = np.array([[tcl[a] == tcl[b] for b in gids] for a in gids], dtype=bool)
    V, dfs = placebo_cov(P, same)
    n_ctrl = np.isfinite(P).sum(axis=0)
    if np.any(dfs < 2):
        raise EstimationError(
            f"{where}: fewer than 3 placebo estimates for some effect(s); placebo inference "
            "needs at least 3 control clusters with observations in every period used."
        )
    ratio_g = _noise_ratios(y, ok, pos, epos, treated, uv, clv, controls, members, groups,
                            mcols, by, panel)
    return V, dfs, n_ctrl, np.array([ratio_g[g] for g in gids], dtype=float)


def _noise_ratios(y: np.ndarray, ok: np.ndarray, pos: np.ndarray, epos: np.ndarray,
                  treated: np.ndarray, uv: np.ndarray, clv: np.ndarray, controls: list[Any],
                  members: Mapping[tuple[Any, ...], np.ndarray], groups: list[tuple[Any, ...]],
                  mcols: list[str], by: tuple[str, ...], panel: pd.DataFrame
                  ) -> dict[tuple[Any, ...], float]:
    """Each group's pre-period noise relative to its placebos' (a diagnostic, not a correction).

    On the periods before the earliest event, a two-way fixed-effects fit of every unit
    (treated and control) gives each unit's residual root mean square; a group's ratio is its
    units' over the median of the control units that its placebos use (the same values of the
    within-cluster ``by`` columns, e.g. the same tier). Placebo inference treats the group's
    error as exchangeable with the controls': a ratio well above 1 says its interval is likely
    too narrow (``docs/validation.md``). Reported as the ``noise_ratio`` column of ``tidy()``;
    with few pre-periods it is itself noisy, so it informs rather than corrects.
    """
    out: dict[tuple[Any, ...], float] = {g: math.nan for g in groups}
    e_min = float(np.nanmin(epos[treated])) if treated.any() else math.inf
    rows = np.flatnonzero(ok & (pos < e_min) & np.isfinite(y))
    if rows.size < 4:
        return out
    fe = np.column_stack([pd.factorize(uv[rows])[0], pd.factorize(pos[rows])[0]])
    res = two_way_residuals(y[rows], fe)
    ms = pd.Series(res**2).groupby(uv[rows]).mean()
    is_ctrl = np.isin(clv, controls) & ~treated
    for g in groups:
        match = is_ctrl.copy()
        for b in mcols:
            match &= panel[b].to_numpy() == g[by.index(b)]
        cu = [u for u in pd.unique(uv[match]) if u in ms.index]
        gu = [u for u in pd.unique(uv[members[g]]) if u in ms.index]
        if len(cu) >= 3 and gu:
            med = float(np.median(ms[cu].to_numpy()))
            if med > 0:
                out[g] = math.sqrt(float(np.mean(ms[gu].to_numpy())) / med)
    return out
