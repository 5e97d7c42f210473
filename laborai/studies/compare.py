"""TWFE and the heterogeneity-robust DiD estimators side by side on one staggered panel.

With staggered adoption (on the simulated marketplace: image generators reach Design &
Creative in July 2022, ChatGPT reaches Writing, Translation, software and Data Science at the
end of November 2022) a two-way fixed-effects (TWFE) regression compares newly treated units
not only with never-treated units but also with units treated earlier. When effects change
with time since adoption those "forbidden" comparisons bias it (Goodman-Bacon 2021; de
Chaisemartin & D'Haultfoeuille 2020). :func:`compare_estimators` runs, on the same panel and
for the same overall target -- the average treatment effect on the treated unit-periods --

* TWFE (static) and the TWFE event study (:mod:`laborai.did.twfe`),
* Callaway & Sant'Anna (2021) with never-treated and with not-yet-treated comparison units,
  aggregated "simple" and "dynamic" (:mod:`laborai.did.cs`),
* Sun & Abraham (2021) interaction-weighted event study (:mod:`laborai.did.sun_abraham`),
* the imputation estimator of Borusyak, Jaravel & Spiess (2024) and Gardner's (2022) two-stage
  DiD (:mod:`laborai.did.imputation`), which fit unit and period effects on the untreated
  unit-periods only and impute the untreated outcome of the treated ones,
* synthetic DiD (Arkhangelsky et al. 2021) for staggered adoption (:mod:`laborai.did.sdid`),

and adds the Goodman-Bacon decomposition of the TWFE estimate (which 2x2 comparisons carry
how much weight) and the HonestDiD sensitivity (Rambachan & Roth 2023) of the headline event
study. Every number is the output of the public estimator it names; nothing is re-estimated
here (the tests check equality with direct calls).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from laborai._progress import check_progress, progress_bar
from laborai._results import TIDY_COLUMNS, Provenance, ResultMixin, make_provenance, wald_table
from laborai._timing import TIMINGS, Timing, event_positions, is_datetime_like
from laborai._validation import (
    check_frame_columns,
    check_option,
    check_time_column,
    check_unique_unit_period,
    resolve_seed,
)
from laborai.did.bacon import BaconResult, bacon
from laborai.did.cs import att_gt
from laborai.did.honest import HonestResult, honest
from laborai.did.imputation import did2s, did_imputation
from laborai.did.sdid import sdid
from laborai.did.sun_abraham import sun_abraham
from laborai.did.twfe import event_study, twfe
from laborai.errors import DataValidationError, EstimationError, OptionError, SmallSampleWarning

__all__ = ["ComparisonResult", "compare_estimators", "marketplace_true_effects"]

HonestOf = Literal["sun_abraham", "event_study"]
SDIDSE = Literal["placebo", "jackknife", "bootstrap"]

#: Estimator keys of :meth:`ComparisonResult.tidy`, in display order.
ESTIMATORS: tuple[str, ...] = (
    "twfe",
    "twfe_event_study",
    "cs_simple_never_treated",
    "cs_dynamic_never_treated",
    "cs_simple_not_yet_treated",
    "cs_dynamic_not_yet_treated",
    "sun_abraham",
    "did_imputation",
    "did2s",
    "sdid",
)

_LABELS: dict[str, str] = {
    "twfe": "TWFE (static)",
    "twfe_event_study": "TWFE event study",
    "cs_simple_never_treated": "Callaway-Sant'Anna, simple (never treated)",
    "cs_dynamic_never_treated": "Callaway-Sant'Anna, dynamic (never treated)",
    "cs_simple_not_yet_treated": "Callaway-Sant'Anna, simple (not yet treated)",
    "cs_dynamic_not_yet_treated": "Callaway-Sant'Anna, dynamic (not yet treated)",
    "sun_abraham": "Sun-Abraham",
    "did_imputation": "Imputation (Borusyak-Jaravel-Spiess)",
    "did2s": "Two-stage DiD (Gardner)",
    "sdid": "Synthetic DiD (staggered)",
}

#: What each row estimates (the ``target`` column of :meth:`ComparisonResult.tidy`).
TARGETS: dict[str, str] = {
    "att": "ATT over treated unit-periods",
    "dynamic": "average of event-time ATTs",
    "twfe": "variance-weighted average of 2x2 DiDs",
}

# Okabe-Ito colours by estimator family (same order as laborai.plot.OKABE_ITO).
_FAMILY_COLOUR: dict[str, str] = {
    "twfe": "#D55E00", "twfe_event_study": "#E69F00", "cs": "#0072B2",
    "sun_abraham": "#009E73", "imputation": "#56B4E9", "sdid": "#CC79A7",
}

_DEFAULT_GRID: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class ComparisonResult(ResultMixin):
    """Result of :func:`compare_estimators`: overall ATT by estimator, event studies, diagnostics.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per estimator (see :meth:`tidy`).
    event_table : pandas.DataFrame
        Event-time estimates of the TWFE event study, Callaway-Sant'Anna (dynamic, both
        comparison groups), Sun-Abraham, the imputation estimator and two-stage DiD (see
        :meth:`tidy_event_study`).
    results : mapping of str to result
        The underlying results, by key: ``"twfe"``, ``"event_study"``,
        ``"att_gt_never_treated"``, ``"att_gt_not_yet_treated"``, ``"cs_simple_never_treated"``,
        ``"cs_dynamic_never_treated"``, ``"cs_simple_not_yet_treated"``,
        ``"cs_dynamic_not_yet_treated"``, ``"sun_abraham"``, ``"did_imputation"`` (an
        :class:`~laborai.did.ImputationResult` with the overall ATT, every horizon and the
        ``pretrend_leads`` pre-trend leads, usable by ``pretrends_power``), ``"did2s"`` (static
        second stage) and ``"did2s_event_study"`` (:class:`~laborai.did.TwoStageResult`),
        ``"sdid"`` (staggered :class:`~laborai.did.SDIDResult`), ``"bacon"`` and ``"honest"``
        (absent when ``sensitivity=False``).
    bacon : BaconResult
        Goodman-Bacon decomposition of the TWFE estimate.
    honest : HonestResult or None
        HonestDiD relative-magnitude sensitivity of the headline event study.
    breakdown : float
        Breakdown value of ``honest``: the largest Mbar at which the robust interval excludes
        zero (NaN when the original interval already covers zero or ``sensitivity=False``).
    cohorts : pandas.DataFrame
        ``cohort`` (first treated period, a value of ``tname``), ``first_period`` (its position
        1..T), ``n_units``, ``n_post_periods``.
    sdid_by_cohort : pandas.DataFrame
        Per-cohort synthetic-DiD estimates and their aggregation weights (``cohort`` as a value
        of ``tname``, then the columns of ``SDIDResult.cohorts``).
    twfe_weights : pandas.DataFrame
        Implicit TWFE weight of every treated unit-period (``unit, time, event_time, weight``);
        the static TWFE coefficient estimates ``sum(weight * effect)`` under parallel trends.
    true_att, true_twfe_estimand : float
        With ``true_effect``: the true ATT over treated unit-periods and the value the static
        TWFE regression estimates (its weights applied to the true effects); NaN otherwise.
    settings : mapping (read-only)
        The arguments of :func:`compare_estimators` (``seed`` as resolved, ``timing``).
    provenance : Provenance
        Settings, seed, package version and input hash.
    """

    table: pd.DataFrame
    event_table: pd.DataFrame
    results: Mapping[str, Any]
    bacon: BaconResult
    honest: HonestResult | None
    breakdown: float
    cohorts: pd.DataFrame
    sdid_by_cohort: pd.DataFrame
    twfe_weights: pd.DataFrame
    true_att: float
    true_twfe_estimand: float
    settings: Mapping[str, Any]
    provenance: Provenance

    _title = "DiD estimators compared on one staggered-adoption panel"

    @property
    def seed(self) -> int:
        """Seed used by every random component (recorded in ``settings``)."""
        return int(self.settings["seed"])

    def __repr__(self) -> str:
        t = self.table.set_index("estimator")["estimate"]
        body = ", ".join(f"{k}={v:.4g}" for k, v in t.items())
        return f"ComparisonResult({body}, breakdown={self.breakdown:.4g})"

    def tidy(self) -> pd.DataFrame:
        """Return one row per estimator: the overall ATT with its confidence interval.

        Returns
        -------
        pandas.DataFrame
            ``term`` (``"ATT"``), ``estimate, std_error, statistic, p_value, conf_low,
            conf_high`` (each estimator's own inference, see ``reference``), then
            ``estimator`` (key, see :data:`ESTIMATORS`), ``label`` (for display),
            ``control_group`` (``never_treated``, ``not_yet_treated`` or ``all_untreated``
            for TWFE, whose implicit controls include already-treated units),
            ``aggregation`` (how event-time or cohort effects are averaged), ``target`` (see
            :data:`TARGETS`), ``reference`` (``"t(df)"`` or ``"normal"``) and ``truth`` (the
            true value of ``target``; NaN without ``true_effect``).
        """
        return self.table.copy()

    def tidy_event_study(self) -> pd.DataFrame:
        """Return the event-time estimates of the event-study estimators, stacked.

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, std_error, statistic, p_value, conf_low, conf_high`` (pointwise
            intervals for every estimator), then ``event_time``, ``estimator``
            (``twfe_event_study``, ``cs_dynamic_never_treated``, ``cs_dynamic_not_yet_treated``,
            ``sun_abraham``, ``did_imputation``, ``did2s``), ``label`` and ``truth`` (the
            cohort-size weighted true effect at that event time, 0 before adoption; for the
            TWFE event study's binned end points the average over the treated unit-periods the
            bin pools; NaN without ``true_effect``). Event time -1 is the reference of every
            regression-type estimator and is not a row. The imputation rows are its horizons
            ``0..`` and its pre-trend leads at their own event times ``-1..-pretrend_leads``
            (BJS Section 4.4: untreated periods just before adoption against the earlier
            untreated periods, so they have no single reference period); the two-stage rows are
            its event-study second stage (every observed event time except -1).
        """
        return self.event_table.copy()

    def bacon_summary(self) -> pd.DataFrame:
        """Total weight and weighted mean 2x2 estimate per comparison type (Goodman-Bacon).

        Returns
        -------
        pandas.DataFrame
            Columns ``type, weight, estimate, n_comparisons`` and ``forbidden`` (True for
            "Later vs Earlier Treated" and "Later vs Always Treated", which use already-treated
            units as controls).
        """
        s = self.bacon.summary_by_type()
        s["forbidden"] = s["type"].isin(["Later vs Earlier Treated", "Later vs Always Treated"])
        return s

    @property
    def forbidden_weight(self) -> float:
        """Total Bacon weight on comparisons that use already-treated units as controls."""
        s = self.bacon_summary()
        return float(s.loc[s["forbidden"], "weight"].sum())

    def _header(self) -> list[tuple[str, str]]:
        s = self.settings
        lines = [
            ("Outcome", str(s["yname"])),
            ("Units x periods", f"{self.bacon.n_units} x {self.bacon.n_periods}"),
            ("Cohorts", ", ".join(f"{c} ({n} units)" for c, n in
                                  zip(self.cohorts["cohort"], self.cohorts["n_units"],
                                      strict=True))),
            ("Bacon weight on forbidden comparisons", f"{self.forbidden_weight:.4f}"),
        ]
        if self.honest is not None:
            lines.append(("HonestDiD breakdown Mbar", f"{self.breakdown:.4f}"))
        if math.isfinite(self.true_att):
            lines.append(("True ATT", f"{self.true_att:.4f}"))
            lines.append(("TWFE estimand at the true effects", f"{self.true_twfe_estimand:.4f}"))
        return lines

    def plot(self, ax: Any = None, *, show_truth: bool = True) -> Any:
        """Coefficient plot: the overall ATT of every estimator with its confidence interval.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure in laborai's house style is created when omitted.
        show_truth : bool, default True
            Draw the true ATT (dashed) when it is known.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        from laborai.plot import house_style

        t = self.tidy()
        with house_style():
            if ax is None:
                _, ax = plt.subplots(figsize=(6.5, 0.6 + 0.42 * len(t)))
            y = np.arange(len(t))[::-1]
            for yi, (_, r) in zip(y, t.iterrows(), strict=True):
                colour = _FAMILY_COLOUR[_family(str(r["estimator"]))]
                ax.errorbar([r["estimate"]], [yi],
                            xerr=[[r["estimate"] - r["conf_low"]], [r["conf_high"] - r["estimate"]]],
                            fmt="o", color=colour, capsize=3)
            ax.axvline(0.0, color="grey", linewidth=0.8)
            if show_truth and math.isfinite(self.true_att):
                ax.axvline(self.true_att, color="black", linestyle="--", linewidth=1.0,
                           label=f"true ATT ({self.true_att:.3f})")
                ax.legend(loc="best")
            ax.set_yticks(y)
            ax.set_yticklabels(t["label"].astype(str).tolist())
            level = int(round((1 - float(self.settings["alpha"])) * 100))
            ax.set_xlabel(f"overall ATT of {self.settings['yname']} ({level}% CI)")
        return ax


def _family(key: str) -> str:
    if key.startswith("cs_"):
        return "cs"
    if key in ("did_imputation", "did2s"):  # one point estimate, two variance estimators
        return "imputation"
    return key


# --------------------------------------------------------------------------------------------
# Truth helper for the simulated marketplace
# --------------------------------------------------------------------------------------------


def marketplace_true_effects(
    panel: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    outcome: str,
    tname: str = "period",
    by: Sequence[str] = ("category", "value_tier"),
) -> pd.Series:
    """True effect of the simulated marketplace in every row of a panel, on the panel's grid.

    Parameters
    ----------
    panel : pandas.DataFrame
        Panel from :func:`laborai.build_panel` (periods as datetimes in ``tname``).
    truth : pandas.DataFrame
        ``Marketplace.truth``: ``category, value_tier, outcome, start_date, effect``.
    outcome : str
        ``"log_n_posts"`` or ``"log_earnings_per_contract"``.
    tname : str, default "period"
        Period column (start of each period).
    by : sequence of str, default ("category", "value_tier")
        Columns identifying a unit in both tables.

    Returns
    -------
    pandas.Series
        Aligned with ``panel``: the true effect in log points, 0 before the start date and for
        unexposed units.

    Raises
    ------
    DataValidationError
        Missing columns, or an ``outcome`` not in ``truth``.

    Notes
    -----
    The simulator switches an effect on at its start date, so a period that contains the start
    date is only partly treated (ChatGPT, 30 November 2022, treats one day of November). With
    ``f`` the share of the period's days on or after the start date, the log expected outcome
    of the period shifts by ``log(1 + f (exp(effect) - 1))`` (days weighted equally); full
    periods after the start shift by ``effect``.

    Examples
    --------
    >>> import laborai as la
    >>> from laborai.studies.compare import marketplace_true_effects
    >>> m = la.simulate_marketplace(seed=1, n_posts=5_000)
    >>> p = la.build_panel(m.job_posts, m.contracts)
    >>> tau = marketplace_true_effects(p, m.truth, outcome="log_n_posts")
    >>> round(float(tau[(p.category == "Writing") & (p.value_tier == "low")].min()), 2)
    -0.4
    """
    by = list(by)
    check_frame_columns(panel, {**{c: c for c in by}, "tname": tname},
                        caller="marketplace_true_effects")
    need = {*by, "outcome", "start_date", "effect"}
    if not need <= set(truth.columns):
        raise DataValidationError(
            f"truth must have columns {sorted(need)}; got {list(truth.columns)}. Pass "
            "Marketplace.truth."
        )
    tr = truth[truth["outcome"] == outcome]
    if tr.empty:
        raise DataValidationError(
            f"outcome {outcome!r} is not in truth; outcomes there: "
            f"{sorted(truth['outcome'].unique())}."
        )
    tr = tr[[*by, "start_date", "effect"]]
    merged = panel[[*by, tname]].merge(tr, on=by, how="left", validate="many_to_one")
    periods = pd.DatetimeIndex(np.sort(panel[tname].unique()))
    if len(periods) > 1:
        ends = pd.DatetimeIndex(list(periods[1:]) + [periods[-1] + (periods[-1] - periods[-2])])
    else:
        ends = periods + pd.Timedelta(days=1)
    end_of = pd.Series(ends, index=periods)
    p0 = pd.to_datetime(merged[tname]).to_numpy()
    p1 = pd.to_datetime(merged[tname]).map(end_of).to_numpy()
    start = pd.to_datetime(merged["start_date"]).to_numpy()
    span = (p1 - p0).astype("timedelta64[s]").astype(float)
    after = (p1 - start).astype("timedelta64[s]").astype(float)
    frac = np.clip(np.where(np.isnat(start), 0.0, after / span), 0.0, 1.0)
    eff = merged["effect"].fillna(0.0).to_numpy(dtype=float)
    out = np.log1p(frac * np.expm1(eff))
    return pd.Series(out, index=panel.index, name=f"true_{outcome}")


# --------------------------------------------------------------------------------------------
# compare_estimators
# --------------------------------------------------------------------------------------------


def _label(v: Any) -> Hashable:
    if isinstance(v, np.datetime64):
        return pd.Timestamp(v)
    return v.item() if isinstance(v, np.generic) else v


def _prepare(
    data: pd.DataFrame, yname: str, idname: str, tname: str, gname: str | None,
    event_date: str | None, cluster: str, true_effect: str | None, timing: str = "first_full",
) -> tuple[pd.DataFrame, list[Hashable]]:
    """Validate and return the working frame with integer periods and cohorts."""
    if (gname is None) == (event_date is None):
        raise OptionError(
            "pass exactly one of gname (first treated period, in the units of tname) and "
            f"event_date (a date column); got gname={gname!r}, event_date={event_date!r}."
        )
    roles = {"yname": yname, "idname": idname, "tname": tname, "cluster": cluster}
    role = "gname" if gname is not None else "event_date"
    roles[role] = gname if gname is not None else str(event_date)
    if true_effect is not None:
        roles["true_effect"] = true_effect
    check_frame_columns(data, roles, caller="compare_estimators", allow_missing=(role,),
                        hint="Drop or impute them explicitly (every estimator needs a balanced "
                        "panel without missing outcomes)")
    reserved = [c for c in ("_period", "_cohort", "_treated", "_event") if c in data.columns]
    if reserved:
        raise DataValidationError(
            f"data has column(s) {reserved}, which compare_estimators uses internally; rename "
            "them first."
        )
    if not pd.api.types.is_numeric_dtype(data[yname]):
        raise DataValidationError(
            f"column {yname!r} (yname) must be numeric; got dtype {data[yname].dtype}."
        )
    check_time_column(data, tname, where="compare_estimators")
    check_unique_unit_period(data, idname, tname)
    grid = np.sort(data[tname].unique())
    units = pd.unique(data[idname])
    if len(data) != len(units) * len(grid):
        counts = data.groupby(idname, sort=True).size()
        short = counts[counts < len(grid)]
        raise DataValidationError(
            f"the panel must be balanced ({len(units)} units x {len(grid)} periods = "
            f"{len(units) * len(grid)} rows); got {len(data)} rows. {len(short)} units miss "
            f"periods, e.g. {short.index[:5].tolist()}. Keep a balanced sub-panel first."
        )
    pos = np.searchsorted(grid, data[tname].to_numpy()) + 1  # 1..T
    T = len(grid)
    if gname is not None:
        gcol = data[gname]
        if pd.api.types.is_datetime64_any_dtype(gcol) or not pd.api.types.is_numeric_dtype(gcol):
            never = gcol.isna().to_numpy()
        else:
            num = pd.to_numeric(gcol)
            never = (gcol.isna() | (num == 0) | np.isinf(num.fillna(0.0))).to_numpy()
        gvals = gcol.to_numpy()
        gpos = np.zeros(len(data), dtype=np.int64)
        treated_vals = gvals[~never]
        idx = np.searchsorted(grid, treated_vals)
        ok = (idx < T) & (grid[np.clip(idx, 0, T - 1)] == treated_vals)
        if not ok.all():
            bad = pd.unique(treated_vals[~ok])[:5].tolist()
            raise DataValidationError(
                f"column {gname!r} (gname) must hold a period of {tname!r} (the first treated "
                "period) or 0 / NaN for never-treated units; values not on the period grid: "
                f"{bad}. Use event_date= for dates between periods."
            )
        gpos[~never] = idx + 1
    else:
        ev_col = data[str(event_date)]
        if is_datetime_like(ev_col) and not is_datetime_like(data[tname]):
            raise DataValidationError(
                f"event_date needs datetime periods in {tname!r}; got dtype "
                f"{data[tname].dtype}. Pass gname= with the first treated period instead."
            )
        try:
            epos = event_positions(grid, ev_col, timing)
        except DataValidationError as exc:
            raise DataValidationError(
                f"column {event_date!r} (event_date): {exc} First values: "
                f"{ev_col.head(3).tolist()}."
            ) from exc
        # position T (event after the last period start): never treated within the panel
        gpos = np.where(np.isnan(epos) | (epos >= T), 0, np.nan_to_num(epos) + 1).astype(np.int64)
    gser = pd.Series(gpos, index=data.index)
    nun = gser.groupby(data[idname].to_numpy(), sort=False).nunique()
    if (nun > 1).any():
        ex = nun.index[nun > 1][:5].tolist()
        raise DataValidationError(
            f"the treatment timing ({role}={roles[role]!r}) must be constant within unit "
            f"{idname!r}; {int((nun > 1).sum())} unit(s) vary, e.g. {ex}."
        )
    always = gpos == 1
    if always.any():
        ex = pd.unique(data.loc[always, idname])[:5].tolist()
        raise DataValidationError(
            f"{int(pd.unique(data.loc[always, idname]).size)} unit(s) are treated from the "
            f"first period on (always treated), e.g. {idname}={ex}; they have no pre-period. "
            "Drop them explicitly before comparing estimators."
        )
    if not (gpos == 0).any():
        raise EstimationError(
            "compare_estimators needs never-treated units (Callaway-Sant'Anna and Sun-Abraham "
            "with never-treated controls, synthetic DiD); every unit is treated by the last "
            "period. Run the estimators with not-yet-treated or last-cohort controls directly."
        )
    if not (gpos > 0).any():
        raise EstimationError("no unit is ever treated within the panel; nothing to compare.")
    w = data.copy()
    w["_period"] = pos.astype(np.int64)
    w["_cohort"] = gpos
    w["_treated"] = ((gpos > 0) & (pos >= gpos)).astype(np.int64)
    w["_event"] = np.where(gpos > 0, gpos.astype(float), np.nan)
    w = w.sort_values([idname, "_period"], kind="stable").reset_index(drop=True)
    return w, [_label(v) for v in grid]


def _reissue(caught: list[warnings.WarningMessage], control_group: str) -> None:
    """Re-issue att_gt's warnings, naming the comparison group of its small-sample ones."""
    for c in caught:
        if issubclass(c.category, SmallSampleWarning):
            # att_gt already folds its per-ATT(g,t) warnings into one line per kind
            warnings.warn(f"Callaway-Sant'Anna ({control_group} controls): "
                          + str(c.message).removeprefix("att_gt: "), SmallSampleWarning,
                          stacklevel=3)
        else:
            warnings.warn_explicit(c.message, c.category, c.filename, c.lineno)


def _lincom_row(coef: np.ndarray, vcov: np.ndarray, weights: np.ndarray, alpha: float,
                df: float | None) -> pd.DataFrame:
    est = float(weights @ coef)
    se = float(np.sqrt(weights @ vcov @ weights))
    return wald_table([est], [se], alpha=alpha, df=df)


def _treated_counts(w: pd.DataFrame, event_times: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Treated unit-periods at each (binned) event time."""
    tr = w["_cohort"].to_numpy() > 0
    e = np.clip(w["_period"].to_numpy()[tr] - w["_cohort"].to_numpy()[tr], lo, hi)
    return np.array([int((e == k).sum()) for k in event_times], dtype=float)


def _binned_truth(w: pd.DataFrame, tau_col: str | None, lo: int, hi: int) -> dict[int, float]:
    """True effect at each binned event time of an event study with end bins at lo and hi.

    The mean over the treated cohorts' unit-periods whose event time, clipped to [lo, hi], equals
    k of their effect (0 before treatment): inside the window this is theta(k); an end bin gets
    the average over every event time it pools.
    """
    if tau_col is None:
        return {}
    g = w["_cohort"].to_numpy()
    ever = g > 0
    e = (w["_period"].to_numpy() - g)[ever]
    eff = np.where(e >= 0, w[tau_col].to_numpy(dtype=float)[ever], 0.0)
    by_k = pd.Series(eff).groupby(np.clip(e, lo, hi)).mean()
    return {int(k): float(v) for k, v in by_k.items()}


def _truths(w: pd.DataFrame, idname: str, tau_col: str | None
            ) -> tuple[float, float, float, dict[int, float], pd.DataFrame]:
    """True ATT, true dynamic average, TWFE estimand, truth by event time, TWFE weights."""
    ids = pd.unique(w[idname])
    T = int(w["_period"].max())
    D = w["_treated"].to_numpy(dtype=float).reshape(len(ids), T)
    Dt = D - D.mean(axis=1, keepdims=True) - D.mean(axis=0, keepdims=True) + D.mean()
    wts = Dt / float((Dt * D).sum())
    tr = w["_treated"].to_numpy() == 1
    g = w["_cohort"].to_numpy()
    e = w["_period"].to_numpy() - g
    weights = pd.DataFrame({"unit": w[idname].to_numpy()[tr],
                            "time": w["_period"].to_numpy()[tr],
                            "event_time": e[tr].astype(int),
                            "weight": wts.ravel()[tr]})
    if tau_col is None:
        return math.nan, math.nan, math.nan, {}, weights
    tau = w[tau_col].to_numpy(dtype=float)
    true_att = float(tau[tr].mean())
    twfe_est = float((wts.ravel()[tr] * tau[tr]).sum())
    by_e = pd.Series(tau[tr]).groupby(e[tr]).mean()
    theta = {int(k): float(v) for k, v in by_e.items()}
    dyn = float(np.mean(list(theta.values())))
    return true_att, dyn, twfe_est, theta, weights


def compare_estimators(
    data: pd.DataFrame,
    *,
    yname: str,
    idname: str,
    tname: str,
    gname: str | None = None,
    event_date: str | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
    window: tuple[int, int] | None = None,
    true_effect: str | None = None,
    sdid_vcov: SDIDSE | None = "placebo",
    n_reps: int = 200,
    seed: int | None = 0,
    sensitivity: bool = True,
    honest_of: HonestOf = "sun_abraham",
    honest_window: tuple[int, int] = (-5, 5),
    honest_grid: Sequence[float] = _DEFAULT_GRID,
    timing: Timing = "first_full",
    pretrend_leads: int | None = None,
    progress: bool | None = None,
) -> ComparisonResult:
    """Estimate the same overall ATT with TWFE and the heterogeneity-robust DiD estimators.

    Parameters
    ----------
    data : pandas.DataFrame
        Balanced panel in long format, one row per unit and period, no missing outcomes
        (e.g. the low-value tier of :func:`laborai.build_panel` after
        :func:`laborai.exposure.add_event_dates`). Not modified.
    yname : str
        Outcome column (e.g. ``"log_n_posts"``).
    idname : str
        Unit column (e.g. ``"unit"``).
    tname : str
        Period column (integers or datetimes). Periods are replaced by their positions 1..T
        on the sorted grid of distinct periods before estimation.
    gname : str, optional
        First treated period of each unit (a value of ``tname``); 0 or NaN/NaT for
        never-treated units. Give this or ``event_date``.
    event_date : str, optional
        Column with each unit's event date (NaT: never treated). The first treated period
        follows ``timing`` (``docs/estimators/timing.md``), the rule of
        :func:`laborai.exposure.add_event_dates`, :func:`laborai.exposure.cohorts` and
        :func:`laborai.did.event_study`: by default the first period starting on or after the
        date (ChatGPT, 30 Nov 2022, treats December 2022 onwards in a monthly panel). A date
        after the last period start means never treated within the panel; a unit treated from
        the first period is refused (no pre-period).
    cluster : str, optional
        Cluster column (constant within unit) for TWFE, the event study, Callaway-Sant'Anna
        and Sun-Abraham; default ``idname``.
    alpha : float, default 0.05
        One minus the confidence level of every interval.
    window : (int, int), optional
        Event-time window of the TWFE event study (end points binned); default the full range
        of event times in the data, so nothing is binned.
    true_effect : str, optional
        Column with the true effect of each unit-period (simulations; see
        :func:`marketplace_true_effects`). Fills the ``truth`` columns and ``true_att``.
    sdid_vcov : {"placebo", "jackknife", "bootstrap"} or None, default "placebo"
        Inference of the staggered synthetic DiD (:func:`laborai.did.sdid`'s ``vcov``).
    n_reps : int, default 200
        Placebo / bootstrap replications of synthetic DiD.
    seed : int or None, default 0
        Seed of every random component (event-study sup-t draws, synthetic-DiD placebos,
        HonestDiD's simulated critical values); ``None`` draws fresh entropy. The seed used is
        recorded in ``settings["seed"]``, ``result.seed`` and the provenance.
    sensitivity : bool, default True
        Run the HonestDiD sensitivity analysis (a few seconds); ``False`` skips it.
    honest_of : {"sun_abraham", "event_study"}, default "sun_abraham"
        The headline event study whose robustness is assessed: Sun-Abraham (robust to
        heterogeneous effects across cohorts) or the TWFE event study.
    honest_window : (int, int), default (-5, 5)
        Event times used by HonestDiD: pre-periods ``lo..-2`` and post-periods ``0..hi``; the
        target is the average effect over event times ``0..hi``. The default keeps 10
        coefficients, fewer than 12 category clusters, so that their cluster-robust covariance
        can be of full rank (``honest`` refuses a singular one).
    honest_grid : sequence of float, default (0, 0.25, 0.5, 0.75, 1, 1.5, 2)
        Values of Mbar (relative magnitudes).
    timing : {"first_full", "containing"}, default "first_full"
        How ``event_date`` maps to the first treated period: the first period starting on or
        after the date, or the period containing it (the rule of this function before the
        timing rules were unified). Ignored with ``gname``.
    pretrend_leads : int, optional
        Number ``P`` of pre-trend leads of the imputation estimator (BJS Section 4.4, event
        times ``-1..-P``; ``did_imputation(pretrends=P)``). Default ``min(4, g_min - 2)`` with
        ``g_min`` the earliest cohort's first treated position (each treated unit keeps an
        untreated period before its leads); 0 means no leads.
    progress : bool or None, default None
        A progress bar over the estimators on standard error: ``None`` shows one in a
        terminal once the run takes more than 2 seconds (never in notebooks, report builds or
        pipes), ``True`` always, ``False`` never (``laborai._progress``). No result depends
        on it.

    Returns
    -------
    ComparisonResult
        ``tidy()`` (one row per estimator), ``tidy_event_study()``, ``bacon_summary()``,
        ``honest``, ``breakdown``, ``plot()``.

    Raises
    ------
    OptionError
        Neither or both of ``gname`` and ``event_date``; an option outside its allowed values.
    DataValidationError
        Missing columns or values, duplicate or missing unit-periods, timing varying within a
        unit, always-treated units.
    EstimationError
        No never-treated or no treated units.

    Notes
    -----
    Let ``G_i`` be unit i's first treated period, ``tau_it`` its effect in period t and ``D_it =
    1[t >= G_i]``. The common target is the ATT over treated unit-periods,
    ``ATT = mean_{i,t: D_it = 1} tau_it`` (equal weight to every treated unit-period of the
    balanced panel). The rows estimate:

    * ``twfe`` -- ``y_it = a_i + l_t + beta D_it + e``. Under parallel trends
      ``beta = sum_{D_it=1} w_it tau_it`` with ``w_it`` proportional to the two-way demeaned
      ``D`` (stored in ``twfe_weights``). The weights can be negative for long-run effects of
      early cohorts; the Goodman-Bacon decomposition shows the same thing as comparisons in
      which already-treated units serve as controls. Equal to ATT when effects are constant.
    * ``twfe_event_study`` -- ``y_it = a_i + l_t + sum_{k != -1} b_k 1[t - G_i = k] + e``
      with all event times (or ``window``), averaged over ``k >= 0`` with weights equal to the
      number of treated unit-periods at ``k`` (so that it targets ATT). With effects that differ
      across cohorts ``b_k`` mixes other periods' effects (Sun & Abraham 2021).
    * ``cs_simple_*`` -- Callaway & Sant'Anna (2021) ``ATT(g,t)`` from 2x2 DiDs against
      never-treated (or never plus not-yet-treated) units, base period ``g - 1``
      (``base_period="universal"``, so pre-period estimates share the event study's reference),
      averaged over post-treatment ``(g,t)`` with cohort-size weights: this is ATT.
    * ``cs_dynamic_*`` -- the event-study aggregation ``theta(e)`` (cohort-size weighted mean of
      ``ATT(g, g+e)``) and its overall average ``mean_{e>=0} theta(e)``: every event time counts
      equally, so it differs from ATT when effects change with ``e`` (target ``"dynamic"``).
    * ``sun_abraham`` -- interaction-weighted estimator: cohort x event-time effects from a
      saturated TWFE regression with never-treated controls, averaged within event time with
      cohort shares, then over ``e >= 0`` with treated-unit-period weights: ATT.
    * ``did_imputation`` -- Borusyak, Jaravel & Spiess (2024): unit and period effects fitted
      by least squares on the untreated unit-periods (never treated and not yet treated),
      ``tau_it = y_it - yhat_it(0)`` averaged over all treated unit-periods with equal weights:
      ATT. Leave-out conservative clustered standard errors (BJS Theorem 3 and Appendix A.9,
      ``leave_out=True``): with few clusters per cohort the plain conservative variance can
      understate the sampling variance. In 40 simulated marketplaces with a constant effect
      and 5 of 12 category clusters treated, the 95% intervals covered the truth in 87.5% /
      92.5% of runs (both value tiers, 24 units / low tier, 12 units) with the plain variance,
      92.5% / 97.5% with the leave-out one and 90% / 92.5% for two-stage DiD (TWFE with
      t(11): 100% / 100%). The event-time rows average ``tau_it`` at each horizon.
    * ``did2s`` -- Gardner (2022) two-stage DiD: the same first stage, then the residuals
      regressed on ``D_it``. The coefficient equals ``did_imputation``'s ATT; the standard error
      is the GMM-corrected one of Butts & Gardner (2022). Its event-time rows come from the
      event-study second stage (every event time but -1, never-treated units in the baseline).
    * ``sdid`` -- synthetic DiD (Arkhangelsky et al. 2021) for staggered adoption
      (:func:`laborai.did.sdid` with ``staggered=True``): one SDID per adoption cohort against
      the never-treated units, averaged with weights ``n_units x n_post_periods``: ATT. Its
      placebo standard error re-runs the whole staggered procedure on never-treated units
      (needs more never-treated than treated units; use ``sdid_vcov="bootstrap"`` otherwise).

    Inference is each estimator's own: TWFE, its event study and Sun-Abraham use
    cluster-robust (CRV1) variances with a t reference distribution (clusters - 1 degrees of
    freedom), Callaway-Sant'Anna analytic influence-function standard errors, imputation and
    two-stage DiD their clustered (conservative, GMM-corrected) standard errors and synthetic
    DiD placebo standard errors, all four with the normal reference distribution. The averages over
    event times use the estimators' covariance matrices (delta method).

    The Goodman-Bacon (2021) decomposition writes the static TWFE estimate as a weighted
    average of 2x2 DiDs: treated vs never treated, earlier vs later treated (before the later
    group adopts) and later vs earlier treated (after the earlier group adopted -- the
    "forbidden" comparisons, biased when the earlier group's effect changes over time).
    HonestDiD (Rambachan & Roth 2023) replaces exact parallel trends in the post-period by
    ``Delta^RM(Mbar)``: post-period changes in the differential trend are at most ``Mbar``
    times the largest pre-period change; the breakdown value is the largest ``Mbar`` at which
    the robust interval for the target still excludes zero.

    References
    ----------
    Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. and Wager, S. (2021).
    Synthetic difference-in-differences. *American Economic Review* 111(12), 4088-4118.

    Borusyak, K., Jaravel, X. and Spiess, J. (2024). Revisiting event-study designs: robust and
    efficient estimation. *Review of Economic Studies* 91(6), 3253-3285.

    Butts, K. and Gardner, J. (2022). did2s: two-stage difference-in-differences. *The R
    Journal* 14(3), 162-173.

    Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
    periods. *Journal of Econometrics* 225(2), 200-230.

    Gardner, J. (2022). Two-stage differences in differences. arXiv:2207.05943.

    de Chaisemartin, C. and D'Haultfoeuille, X. (2020). Two-way fixed effects estimators with
    heterogeneous treatment effects. *American Economic Review* 110(9), 2964-2996.

    Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing.
    *Journal of Econometrics* 225(2), 254-277.

    Rambachan, A. and Roth, J. (2023). A more credible approach to parallel trends. *Review of
    Economic Studies* 90(5), 2555-2591.

    Sun, L. and Abraham, S. (2021). Estimating dynamic treatment effects in event studies with
    heterogeneous treatment effects. *Journal of Econometrics* 225(2), 175-199.

    Examples
    --------
    >>> import warnings
    >>> import laborai as la
    >>> m = la.simulate_marketplace(seed=3, n_posts=100_000)
    >>> p = la.exposure.add_event_dates(la.build_panel(m.job_posts, m.contracts))
    >>> low = p[p["value_tier"] == "low"]
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     res = la.compare_estimators(low, yname="log_n_posts", idname="unit",
    ...                                     tname="period", event_date="event_date",
    ...                                     sensitivity=False, sdid_vcov=None)
    >>> res.tidy()["estimator"].tolist()[:3]
    ['twfe', 'twfe_event_study', 'cs_simple_never_treated']
    """
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not 0 < alpha < 1:
        raise OptionError(f"alpha must be a number in (0, 1), e.g. 0.05; got {alpha!r}.")
    check_option("honest_of", honest_of, ("sun_abraham", "event_study"))
    check_option("sdid_vcov", sdid_vcov, ("placebo", "jackknife", "bootstrap", None))
    if (not isinstance(honest_window, (tuple, list)) or len(honest_window) != 2
            or not all(isinstance(x, (int, np.integer)) for x in honest_window)
            or honest_window[0] > -2 or honest_window[1] < 0):
        raise OptionError(
            "honest_window must be a pair of integers (lo, hi) with lo <= -2 and hi >= 0 (at "
            f"least one pre-period besides the reference -1, and event time 0); got "
            f"{honest_window!r}."
        )
    check_option("timing", timing, TIMINGS)
    progress = check_progress(progress, "compare_estimators")
    if pretrend_leads is not None and (isinstance(pretrend_leads, bool)
                                       or not isinstance(pretrend_leads, (int, np.integer))
                                       or pretrend_leads < 0):
        raise OptionError(
            f"pretrend_leads must be None (automatic) or an integer >= 0; got {pretrend_leads!r}."
        )
    seed = resolve_seed(seed)
    cl = idname if cluster is None else cluster
    w, grid = _prepare(data, yname, idname, tname, gname, event_date, cl, true_effect, timing)
    nun = w.groupby(idname, sort=False)[cl].nunique()
    if (nun > 1).any():
        raise DataValidationError(
            f"cluster column {cl!r} must be constant within unit {idname!r}; "
            f"{int((nun > 1).sum())} unit(s) vary, e.g. {nun.index[nun > 1][:5].tolist()}."
        )
    with progress_bar(10 + bool(sensitivity), "compare_estimators", progress,
                      unit="estimator") as bar:
        a = float(alpha)
        results: dict[str, Any] = {}
        rows: list[dict[str, Any]] = []
        true_att, true_dyn, true_twfe, theta, twfe_w = _truths(w, idname, true_effect)
        ev_rel = (w["_period"] - w["_cohort"]).to_numpy()[w["_cohort"].to_numpy() > 0]
        e_lo, e_hi = int(ev_rel.min()), int(ev_rel.max())

        def add(key: str, tab: pd.DataFrame, *, control: str, aggregation: str, target: str,
                df: float | None) -> None:
            r = tab.iloc[0]
            rows.append({
                "term": "ATT", **{c: float(r[c]) for c in TIDY_COLUMNS[1:]},
                "estimator": key, "label": _LABELS[key], "control_group": control,
                "aggregation": aggregation, "target": target,
                "reference": "normal" if df is None else f"t({df:g})",
                "truth": {"att": true_att, "dynamic": true_dyn, "twfe": true_twfe}[target],
            })

        # 1. static TWFE
        r_twfe = twfe(w, yname=yname, dname="_treated", idname=idname, tname="_period",
                      cluster=cluster, alpha=a)
        results["twfe"] = r_twfe
        bar.update(1)
        add("twfe", r_twfe.tidy().iloc[[0]], control="all_untreated", aggregation="regression",
            target="twfe", df=r_twfe.df_resid)

        # 2. TWFE event study
        lo, hi = (e_lo, e_hi) if window is None else (int(window[0]), int(window[1]))
        r_es = event_study(w, yname=yname, idname=idname, tname="_period", event_date="_event",
                           window=(lo, hi), ref=-1, cluster=cluster, alpha=a, seed=int(seed))
        results["event_study"] = r_es
        bar.update(1)
        post = r_es.event_times >= 0
        n_e = _treated_counts(w, r_es.event_times, lo, hi)
        wt = np.where(post, n_e, 0.0)
        wt = wt / wt.sum()
        add("twfe_event_study", _lincom_row(r_es.coef, r_es.vcov, wt, a, r_es.df_resid),
            control="never_treated_and_not_yet_treated", aggregation="event times weighted by "
            "treated unit-periods", target="att", df=r_es.df_resid)

        # 3. Callaway-Sant'Anna
        cs_cluster = cluster if cluster is not None and cluster != idname else None
        cs_dyn: dict[str, Any] = {}
        for cg in ("never_treated", "not_yet_treated"):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", SmallSampleWarning)
                r_gt = att_gt(w, yname=yname, tname="_period", idname=idname, gname="_cohort",
                              control_group=cg, base_period="universal", cluster=cs_cluster,
                              alpha=a, seed=seed)
            _reissue(caught, cg)
            results[f"att_gt_{cg}"] = r_gt
            bar.update(1)
            for agg in ("simple", "dynamic"):
                r_agg = r_gt.aggregate(agg)
                key = f"cs_{agg}_{cg}"
                results[key] = r_agg
                add(key, wald_table([r_agg.overall_estimate], [r_agg.overall_std_error], alpha=a),
                    control=cg, aggregation="cohort-size weighted (g,t)" if agg == "simple"
                    else "mean over event times", target="att" if agg == "simple" else "dynamic",
                    df=None)
                if agg == "dynamic":
                    cs_dyn[cg] = r_agg

        # 4. Sun-Abraham
        r_sa = sun_abraham(w, yname=yname, idname=idname, tname="_period", gname="_cohort",
                           control_group="never_treated", cluster=cluster, alpha=a)
        results["sun_abraham"] = r_sa
        bar.update(1)
        sa_post = r_sa.event_times >= 0
        sa_n = _treated_counts(w, r_sa.event_times, e_lo, e_hi)
        sa_w = np.where(sa_post, sa_n, 0.0)
        sa_w = sa_w / sa_w.sum()
        add("sun_abraham", _lincom_row(r_sa.coef, r_sa.vcov, sa_w, a, r_sa.df), control="never_treated",
            aggregation="event times weighted by treated unit-periods", target="att", df=r_sa.df)

        # 4b. imputation (BJS 2024) and two-stage DiD (Gardner 2022): first stage on D = 0 rows
        g_min = int(w.loc[w["_cohort"] > 0, "_cohort"].min())
        n_leads = min(4, g_min - 2) if pretrend_leads is None else int(pretrend_leads)
        r_imp = did_imputation(w, yname=yname, idname=idname, tname="_period", gname="_cohort",
                               pretrends=n_leads if n_leads > 0 else None, leave_out=True,
                               cluster=cluster, alpha=a)
        results["did_imputation"] = r_imp
        bar.update(1)
        add("did_imputation", wald_table([r_imp.att], [r_imp.att_se], alpha=a),
            control="not_yet_treated", aggregation="treated unit-periods weighted equally",
            target="att", df=None)
        r_2s = did2s(w, yname=yname, idname=idname, tname="_period", gname="_cohort",
                     cluster=cluster, alpha=a)
        results["did2s"] = r_2s
        bar.update(1)
        add("did2s", wald_table([r_2s.att], [r_2s.att_se], alpha=a), control="not_yet_treated",
            aggregation="regression of first-stage residuals on D", target="att", df=None)
        r_2s_es = did2s(w, yname=yname, idname=idname, tname="_period", gname="_cohort",
                        second_stage="event_study", cluster=cluster, alpha=a)
        results["did2s_event_study"] = r_2s_es
        bar.update(1)

        # 5. synthetic DiD, staggered: one SDID per cohort against the never treated, aggregated
        r_sd = sdid(w, yname=yname, idname=idname, tname="_period", dname="_treated",
                    vcov=sdid_vcov, n_reps=n_reps, seed=int(seed), alpha=a, staggered=True)
        results["sdid"] = r_sd
        bar.update(1)
        T = len(grid)
        sd_tab = r_sd.tidy()
        add("sdid", sd_tab[sd_tab["term"] == "ATT"], control="never_treated",
            aggregation="cohorts weighted by treated unit-periods", target="att", df=None)
        if r_sd.cohorts is None:  # pragma: no cover - staggered=True always reports its cohorts
            raise EstimationError("sdid(staggered=True) returned no cohort table.")
        sd_coh = r_sd.cohorts.copy()
        sd_coh.insert(0, "cohort", [grid[int(g) - 1] for g in sd_coh["group"]])

        # 6. Bacon decomposition
        r_bacon = bacon(w, yname=yname, dname="_treated", idname=idname, tname="_period")
        results["bacon"] = r_bacon
        bar.update(1)

        # 7. HonestDiD of the headline event study
        r_h: HonestResult | None = None
        breakdown = math.nan
        if sensitivity:
            head = r_sa if honest_of == "sun_abraham" else r_es
            et = np.asarray(head.event_times)
            keep = (et >= honest_window[0]) & (et <= honest_window[1])
            n_pre = int((keep & (et < -1)).sum())
            n_post = int((keep & (et >= 0)).sum())
            if n_pre < 1 or n_post < 1:
                raise EstimationError(
                    f"honest_window={honest_window} keeps {n_pre} pre- and {n_post} post-period "
                    f"coefficients of the {honest_of} event study (event times "
                    f"{et.min()}..{et.max()}); HonestDiD needs at least one of each."
                )
            r_h = honest(betahat=head.coef[keep], sigma=head.vcov[np.ix_(keep, keep)],
                         num_pre_periods=n_pre, num_post_periods=n_post,
                         method="relative_magnitude", grid=list(honest_grid),
                         l_vec=np.full(n_post, 1.0 / n_post), alpha=a, seed=int(seed))
            breakdown = r_h.breakdown()
            results["honest"] = r_h
            bar.update(1)

        # event-study table
        ev_parts = []
        es_t = r_es.tidy()
        es_t["conf_low"], es_t["conf_high"] = es_t["point_conf_low"], es_t["point_conf_high"]
        ev_parts.append(es_t[list(TIDY_COLUMNS) + ["event_time"]].assign(estimator="twfe_event_study"))
        for cg, r_agg in cs_dyn.items():
            ct = r_agg.tidy().iloc[:-1]
            ct = ct[ct["event_time"] != -1]
            ev_parts.append(ct[list(TIDY_COLUMNS) + ["event_time"]]
                            .assign(estimator=f"cs_dynamic_{cg}"))
        ev_parts.append(r_sa.tidy()[list(TIDY_COLUMNS) + ["event_time"]].assign(estimator="sun_abraham"))
        it = r_imp.tidy()
        it = it[it["estimand"] != "overall"].sort_values("event_time", kind="stable")
        ev_parts.append(it[list(TIDY_COLUMNS) + ["event_time"]].assign(estimator="did_imputation"))
        dt = r_2s_es.tidy()
        ev_parts.append(dt[list(TIDY_COLUMNS) + ["event_time"]].assign(estimator="did2s"))
        ev = pd.concat(ev_parts, ignore_index=True)
        ev["event_time"] = ev["event_time"].astype("int64")
        ev["label"] = ev["estimator"].map(_LABELS)
        ev["truth"] = [theta.get(int(k), 0.0 if k < 0 else math.nan) if theta else math.nan
                       for k in ev["event_time"]]
        # the TWFE event study's end points pool every event time beyond them: their truth is the
        # average effect over the bin, not the effect at the end point's own event time
        binned = _binned_truth(w, true_effect, lo, hi)
        is_es = (ev["estimator"] == "twfe_event_study").to_numpy()
        ev.loc[is_es, "truth"] = [binned.get(int(k), math.nan) if binned else math.nan
                                  for k in ev.loc[is_es, "event_time"]]

        coh = w.loc[w["_cohort"] > 0].groupby("_cohort")[idname].nunique()
        cohorts_tab = pd.DataFrame({
            "cohort": [grid[int(g) - 1] for g in coh.index],
            "first_period": coh.index.astype("int64"),
            "n_units": coh.to_numpy().astype("int64"),
            "n_post_periods": [T - int(g) + 1 for g in coh.index],
        })
        settings = {
            "yname": yname, "idname": idname, "tname": tname, "gname": gname,
            "event_date": event_date, "cluster": cluster, "alpha": a, "window": (lo, hi),
            "true_effect": true_effect, "sdid_vcov": sdid_vcov, "n_reps": int(n_reps),
            "seed": int(seed), "sensitivity": bool(sensitivity), "honest_of": honest_of,
            "honest_window": tuple(int(x) for x in honest_window),
            "honest_grid": tuple(float(x) for x in honest_grid),
            "timing": timing, "pretrend_leads": n_leads,
        }
        table = pd.DataFrame(rows)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            prov = make_provenance("compare_estimators", data, settings, seed=int(seed))
        return ComparisonResult(
            table=table, event_table=ev, results=MappingProxyType(results), bacon=r_bacon,
            honest=r_h, breakdown=float(breakdown), cohorts=cohorts_tab, sdid_by_cohort=sd_coh,
            twfe_weights=twfe_w, true_att=true_att, true_twfe_estimand=true_twfe,
            settings=MappingProxyType(settings), provenance=prov,
        )
