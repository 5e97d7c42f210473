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

from laborai._validation import check_option
from laborai.did._results import TIDY_COLUMNS, Provenance, ResultMixin, make_provenance, wald_table
from laborai.did.twfe import (
    _build_frame,
    _cluster_cols,
    _common_checks,
    _event_positions,
    _fit_core,
    _require_columns,
    _sup_t_crit,
    _warn_fit_drops,
)
from laborai.errors import DataValidationError, EstimationError, OptionError, SmallSampleWarning

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


def _equality_test(b: np.ndarray, V: np.ndarray, df: float | None) -> dict[str, Any]:
    """Wald test that all entries of b are equal (pseudo-inverse when V is rank deficient)."""
    k = b.size
    if k < 2:
        return {"statistic": math.nan, "df1": 0, "df2": None, "p_value": math.nan,
                "distribution": "none", "wald": math.nan}
    R = np.eye(k)[1:] - np.eye(k)[:-1]
    return _contrast_test(R @ b, R @ V @ R.T, df)


def estimate_effects(
    panel: pd.DataFrame,
    *,
    outcomes: Sequence[str | Mapping[str, Any]] | str | Mapping[str, Any],
    by: Sequence[str] = ("category", "value_tier"),
    design: Literal["did", "event_study"] = "did",
    event_col: str = "event_date",
    unit: str = "unit",
    time: str = "period",
    control: Literal["never_treated"] = "never_treated",
    weights: str | None = None,
    cluster: str | Sequence[str] | None = "category",
    vcov: Literal["cluster", "hetero", "wild"] = "cluster",
    alpha: float = 0.05,
    window: tuple[int, int] = (-12, 12),
    ref: int = -1,
    n_boot: int = 9999,
    boot_weights: Literal["rademacher", "webb"] = "rademacher",
    seed: int | None = None,
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
    design : {'did', 'event_study'}, default 'did'
        Static effects or event-time paths.
    event_col : str, default 'event_date'
        Each unit's event date (constant within unit; NaT/NaN for never-treated units).
    unit, time : str
        Unit and period columns (fixed effects).
    control : {'never_treated'}, default 'never_treated'
        Units without an event date are the comparison group (treated groups' pre-event
        periods also enter, as in any TWFE regression).
    weights : str, optional
        Default regression weights for every outcome.
    cluster : str or pair of str, default 'category'
        Cluster column(s); ``None`` clusters by unit.
    vcov : {'cluster', 'hetero', 'wild'}, default 'cluster'
        As in :func:`laborai.did.twfe` (``'wild'``: OLS outcomes and design ``'did'`` only).
    alpha : float, default 0.05
        One minus the confidence level.
    window, ref
        Event-study window and reference event time (``design='event_study'``).
    n_boot, boot_weights, seed
        Wild bootstrap draws / sup-t draws and their seed.

    Returns
    -------
    EffectsResult
        ``tidy()`` with one row per outcome x group (x event time) and ``equality_tests``.

    Raises
    ------
    DataValidationError
        Missing columns; ``by`` or ``event_col`` varying within unit; no never-treated unit.
    OptionError
        Bad ``design``, ``control``, outcome specification or inference options.
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

    References
    ----------
    Angrist, J. D. & Pischke, J.-S. (2009). *Mostly Harmless Econometrics*. Princeton.
    Cameron, A. C. & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference.
    *Journal of Human Resources* 50(2), 317-372.
    """
    check_option("design", design, ("did", "event_study"))
    check_option("control", control, ("never_treated",))
    by = tuple(by or ())
    specs = _normalise_outcomes(outcomes, weights)
    for s in specs:
        _common_checks(s["family"], vcov, alpha, n_boot, boot_weights)
    if design == "event_study" and vcov == "wild":
        raise OptionError("vcov='wild' is available for design='did' only; got design="
                          "'event_study'. Use vcov='cluster'.")
    cl = _cluster_cols(cluster, unit)
    cols = [unit, time, event_col, *by, *cl] + [s["y"] for s in specs] \
        + [s["weights"] for s in specs if s["weights"]]
    _require_columns(panel, cols, "estimate_effects")
    for b in by:
        nun = panel.groupby(unit, sort=False)[b].nunique(dropna=False)
        if (nun > 1).any():
            raise DataValidationError(
                f"estimate_effects: column {b!r} must be constant within unit {unit!r}; "
                f"{int((nun > 1).sum())} unit(s) vary (first: {list(nun.index[nun > 1][:5])})."
            )
    pos, epos = _event_positions(panel, unit, time, event_col, "estimate_effects")
    treated = ~np.isnan(epos)
    if treated.all():
        raise DataValidationError(
            f"estimate_effects: every unit has an event date in {event_col!r}; "
            "control='never_treated' needs units with NaT/NaN event dates."
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

    regs: dict[str, np.ndarray] = {}
    meta: list[tuple[tuple[Any, ...], int | None]] = []
    if design == "did":
        post = treated & (pos >= np.nan_to_num(epos))
        for g in groups:
            regs[f"{label[g]}:post"] = (members[g] & post).astype(float)
            meta.append((g, None))
    else:
        lo, hi = int(window[0]), int(window[1])
        if not lo <= ref <= hi or lo >= hi:
            raise OptionError(f"ref must be inside window [{lo}, {hi}] with lo < hi; got "
                              f"ref={ref!r}, window={window!r}.")
        et = np.clip(pos - np.nan_to_num(epos), lo, hi)
        for g in groups:
            for k in range(lo, hi + 1):
                if k == ref:
                    continue
                col = (members[g] & (et == k)).astype(float)
                if col.any():
                    regs[f"{label[g]}:event_time::{k}"] = col
                    meta.append((g, k))

    rows: list[pd.DataFrame] = []
    tests: list[dict[str, Any]] = []
    nobs: dict[str, int] = {}
    ndrop: dict[str, int] = {}
    for s in specs:
        frame, keep = _build_frame(panel, where="estimate_effects", yname=s["y"],
                                   regressors=regs, fe=[panel[unit], panel[time]], cluster=cl,
                                   weights=s["weights"], family=s["family"])
        fit = _fit_core(frame, n_x=len(regs), family=s["family"], vcov=vcov, alpha=alpha,
                        n_boot=n_boot, boot_weights=boot_weights, seed=seed)
        _warn_fit_drops(fit, "estimate_effects")
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
        if design == "event_study":
            ets = np.array([meta[j][1] for j in kept], dtype=int)
            tab["event_time"] = ets
            se = np.sqrt(np.diag(V_all))
            crit_pt = float(stats.t.ppf(1 - alpha / 2, fit.df_t) if fit.df_t is not None
                            else stats.norm.ppf(1 - alpha / 2))
            tab["point_conf_low"] = b_all - crit_pt * se
            tab["point_conf_high"] = b_all + crit_pt * se
            gids = [meta[j][0] for j in kept]
            for gi, g in enumerate(groups):
                sel = np.array([x == g for x in gids])
                if not sel.any():
                    continue
                crit = _sup_t_crit(V_all[np.ix_(sel, sel)], alpha, fit.df_t, 20_000,
                                   None if seed is None else seed + gi)
                band = wald_table(b_all[sel], se[sel], alpha=alpha, df=fit.df_t, crit=crit)
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
                    for a, c in zip(ix[:-1], ix[1:], strict=True):
                        r = np.zeros(len(kept))
                        r[a], r[c] = 1.0, -1.0
                        rws.append(r)
                R = np.array(rws)
                test = _contrast_test(R @ b_all, R @ V_all @ R.T, fit.df_t)
            else:
                test = _contrast_test(np.array([]), np.zeros((0, 0)), fit.df_t)
        else:
            test = _equality_test(b_all, V_all, fit.df_t)
        test.update({"outcome": s["name"], "n_groups": len(groups)})
        tests.append(test)
        rows.append(tab)
    table = pd.concat(rows, ignore_index=True)
    front = [*TIDY_COLUMNS, "outcome", *by]
    table = table[front + [c for c in table.columns if c not in front]]
    eq = pd.DataFrame(tests)[["outcome", "statistic", "df1", "df2", "p_value", "distribution",
                              "wald", "n_groups"]]
    settings = {"outcomes": specs, "by": list(by), "design": design, "event_col": event_col,
                "unit": unit, "time": time, "control": control, "weights": weights,
                "cluster": cluster if not isinstance(cluster, tuple) else list(cluster),
                "vcov": vcov, "alpha": alpha, "window": list(window), "ref": ref,
                "n_boot": n_boot, "boot_weights": boot_weights}
    return EffectsResult(
        table=table, equality_tests=eq, nobs=nobs, n_dropped=ndrop, design=design, by=by,
        vcov_type=vcov, alpha=alpha,
        provenance=make_provenance("estimate_effects", panel, settings, seed),
    )


def _contrast_test(Rb: np.ndarray, RVR: np.ndarray, df: float | None) -> dict[str, Any]:
    if Rb.size == 0:
        return {"statistic": math.nan, "df1": 0, "df2": None, "p_value": math.nan,
                "distribution": "none", "wald": math.nan}
    ev, evec = np.linalg.eigh((RVR + RVR.T) / 2.0)
    keep = ev > _RANK_RTOL * max(float(ev.max()), 0.0)
    rank = int(keep.sum())
    z = evec[:, keep].T @ Rb
    W = float(np.sum(z**2 / ev[keep]))
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
