"""Callaway–Sant'Anna, step 4 of 4: the frozen result objects (ATT(g,t), aggregations, pre-test),
with their tables, summaries and plots."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from laborai._results import Provenance, ResultMixin, _fmt, wald_table
from laborai._validation import check_option
from laborai.did.cs._prepare import (
    _AGG_TYPES,
    AggregationType,
    _check_inference,
    _design_column,
    _display_dates,
    _num,
    _period_column,
    _period_text,
    _period_value,
    _single_thread_blas,
)
from laborai.errors import OptionError

# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PretestResult:
    """Wald pre-test of parallel trends: all pre-treatment ATT(g,t) equal zero.

    Attributes
    ----------
    statistic : float
        ``W = n * att_pre' V_pre^{-1} att_pre``.
    df : int
        Number of restrictions (pre-treatment ATT(g,t) with a finite standard error).
    p_value : float
        Chi-square(df) upper tail probability (unrounded; R's ``did`` rounds to 5 digits), or
        ``F(df, df2)`` under placebo inference.
    distribution : {"chi2", "F"}
        Reference distribution: ``"F"`` for the placebo pre-test (Hotelling).
    df2 : float or None
        Denominator degrees of freedom of the F test.
    periods : tuple
        The pre-treatment periods tested by the placebo pre-test (empty for the Wald test, which
        uses every pre-treatment ATT(g,t)).
    """

    statistic: float
    df: int
    p_value: float
    distribution: str = "chi2"
    df2: float | None = None
    periods: tuple[Any, ...] = ()

    def __repr__(self) -> str:
        if self.distribution == "F":
            return (f"PretestResult(F={self.statistic:.6f}, df=({self.df}, {self.df2:g}), "
                    f"p_value={self.p_value:.6f}, placebo)")
        return f"PretestResult(W={self.statistic:.6f}, df={self.df}, p_value={self.p_value:.6f})"


@dataclass(frozen=True, eq=False, repr=False)
class ATTgtResult(ResultMixin):
    """Group-time average treatment effects from :func:`att_gt`.

    Attributes
    ----------
    group, time : ndarray
        Cohort (first treated period) and period of each ATT(g,t).
    estimate, std_error : ndarray
        ATT(g,t) and its standard error (``settings["vcov"]``: analytic, bootstrap or
        placebo).
    analytic_std_error : ndarray
        Influence-function standard errors (always computed).
    influence : ndarray, shape (n_units, K)
        Influence functions of the ATT(g,t) (``var ~= sum(inf**2) / n**2``).
    vcov : ndarray, shape (K, K)
        Analytic covariance matrix ``inf' inf / n**2``.
    crit_val : float
        Critical value of the confidence bands (sup-t when ``cband``, else normal quantile).
    unit_group, unit_weight : ndarray
        First treated period (0 = never) and sampling weight of each unit.
    unit_cluster : ndarray or None
        Cluster codes of each unit when ``cluster`` was given.
    periods : ndarray
        Periods used.
    settings : mapping (read-only)
        The arguments of :func:`att_gt`.
    n_units : int
        Sampling units in the estimation sample: panel units, or rows for repeated cross
        sections (``panel=False``).
    n_dropped : int
        Units (observations for ``panel=False``) dropped because they were treated in the first
        period (reported with a :class:`DroppedUnitsWarning`).
    provenance : Provenance
        Settings, seed, package version and input hash.
    data_structure : {"balanced_panel", "unbalanced_panel", "repeated_cross_section"}
        How the data were treated: the panel estimators (balanced panel), the
        repeated-cross-section estimators with unit-clustered influence functions
        (``allow_unbalanced_panel=True`` on an unbalanced panel), or the repeated-cross-section
        estimators with independent rows (``panel=False``).
    n_obs : int
        Observations (rows) in the estimation sample.
    n_incomplete_units : int
        Units of an unbalanced panel not observed in every period (all are kept).
    period_values : ndarray or None
        For datetime periods: the sorted grid of period starts (``datetime64[ns]``). ``group``,
        ``time``, ``periods`` and ``unit_group`` then hold positions 1..T on this grid
        (``period_values[p - 1]`` is the date of position ``p``; 0 = never treated), and
        ``tidy()`` reports dates. None for numeric periods.
    seed : int
        Seed of the multiplier bootstrap (the resolved ``seed`` argument; also in
        ``settings`` and ``provenance``).
    """

    group: np.ndarray
    time: np.ndarray
    estimate: np.ndarray
    std_error: np.ndarray
    analytic_std_error: np.ndarray
    influence: np.ndarray
    vcov: np.ndarray
    crit_val: float
    unit_group: np.ndarray
    unit_weight: np.ndarray
    unit_cluster: np.ndarray | None
    periods: np.ndarray
    settings: Mapping[str, Any]
    n_units: int
    n_dropped: int
    provenance: Provenance
    data_structure: str = "balanced_panel"
    n_obs: int = 0
    n_incomplete_units: int = 0
    period_values: np.ndarray | None = None
    seed: int = 0
    placebo: np.ndarray | None = None  # (J, n_gt) scaled placebo ATT(g,t): vcov = P'P

    _title = "Callaway & Sant'Anna (2021) group-time average treatment effects"

    def _display_frame(self, columns: Sequence[str] | None, digits: int) -> pd.DataFrame:
        t = _display_dates(self.tidy(), self.period_values)
        if columns is not None:
            t = t.loc[:, list(columns)]
        return t.apply(lambda col: col.map(lambda v: _fmt(v, digits)))

    def __repr__(self) -> str:
        s = self.settings
        structure = (
            "" if self.data_structure == "balanced_panel"
            else f"data_structure={self.data_structure!r}, n_obs={self.n_obs}, "
        )
        return (
            f"ATTgtResult(n_att={len(self.estimate)}, n_units={self.n_units}, {structure}"
            f"control_group={s['control_group']!r}, est_method={s['est_method']!r}, "
            f"base_period={s['base_period']!r}, vcov={s['vcov']!r}, cband={s['cband']})"
        )

    @property
    def event_time(self) -> np.ndarray:
        """Event time ``t - g`` of each ATT(g,t)."""
        return self.time - self.group

    def _header(self) -> list[tuple[str, str]]:
        s = self.settings
        lines = [
            ("Outcome", str(s["yname"])),
            ("Comparison group", str(s["control_group"])),
            ("Estimation method", str(s["est_method"])),
            ("Base period", str(s["base_period"])),
            ("Units", str(self.n_units)),
        ]
        if self.data_structure == "unbalanced_panel":
            lines.append(
                ("Data", f"unbalanced panel, {self.n_obs} observations, "
                 f"{self.n_incomplete_units} units not observed in every period "
                 "(repeated-cross-section estimators, SEs clustered on the unit)")
            )
        elif self.data_structure == "repeated_cross_section":
            lines.append(("Data", f"repeated cross sections, {self.n_obs} observations"))
        lines += [
            (
                "Standard errors",
                (f"placebo (Conley-Taber) over the control clusters, t({s['placebo_df']:g})"
                 if s.get("placebo_df") is not None else
                 "multiplier bootstrap" if s["vcov"] == "bootstrap"
                 else "analytic (influence function)"),
            ),
        ]
        if s["cband"]:
            lines.append(("Uniform band critical value", f"{self.crit_val:.4f}"))
        pt = self.pretest()
        if pt is not None and pt.distribution == "F":
            lines.append(
                ("Pre-test of parallel trends (placebo, last "
                 f"{pt.df} pre-periods)", f"F({pt.df}, {pt.df2:g}) = {pt.statistic:.4f}, "
                 f"p = {pt.p_value:.4f}")
            )
        elif pt is not None:
            lines.append(
                ("Pre-test of parallel trends", f"W = {pt.statistic:.4f}, df = {pt.df}, "
                 f"p = {pt.p_value:.4f}")
            )
        return lines

    def tidy(self) -> pd.DataFrame:
        """Return one row per ATT(g,t).

        Returns
        -------
        pandas.DataFrame
            ``term`` (``"ATT(g,t)"``, e.g. ``"ATT(2022-12,2023-01)"`` for monthly datetime
            periods), ``estimate, std_error, statistic, p_value, conf_low, conf_high``, then
            ``group``, ``time`` (values of the period column: dates for datetime periods),
            ``event_time`` (periods on the grid); with a uniform band
            (``cband=True``) ``conf_low/conf_high`` are the simultaneous band and
            ``point_conf_low/point_conf_high`` the pointwise intervals.
        """
        alpha = self.settings["alpha"]
        df = self.settings.get("placebo_df")
        tab = wald_table(self.estimate, self.std_error, alpha=alpha, crit=self.crit_val, df=df)
        tab.insert(
            0,
            "term",
            [f"ATT({_period_text(g, self.period_values)},{_period_text(t, self.period_values)})"
             for g, t in zip(self.group, self.time, strict=True)],
        )
        tab["group"] = _period_column(self.group, self.period_values)
        tab["time"] = _period_column(self.time, self.period_values)
        tab["event_time"] = _design_column(self.event_time)
        if self.settings["cband"]:
            pw = wald_table(self.estimate, self.std_error, alpha=alpha, df=df)
            tab["point_conf_low"] = pw["conf_low"].to_numpy()
            tab["point_conf_high"] = pw["conf_high"].to_numpy()
        return tab

    def pretest(self) -> PretestResult | None:
        """Wald pre-test that every pre-treatment ATT(g,t) is zero.

        Returns
        -------
        PretestResult or None
            None when there is no pre-treatment ATT(g,t), when one is missing, or when their
            covariance matrix is numerically singular (as R's ``did``).

        Notes
        -----
        ``W = n * a' (n V)^{-1} a`` with ``a`` the pre-treatment ATT(g,t) (``g > t``) that have a
        finite standard error and ``V`` their analytic covariance; ``W ~ chi2(len(a))`` under
        parallel pre-trends (Callaway & Sant'Anna 2021, section 4.3).

        Under placebo inference (one cohort, few clusters) the covariance comes from ``J``
        placebo clusters and has rank at most ``J - 1``, so it cannot test every pre-treatment
        cell. The test then covers the ``q = min(n_pre, max(1, (J - 1) // 2))`` pre-treatment
        periods closest to the cohort's adoption (the rule of the event study's default
        window) with Hotelling's correction: ``F = W (J - q) / (q (J - 1))`` on
        ``F(q, J - q)``, exact for exchangeable normal cluster errors; ``periods`` names them.
        """
        if self.placebo is not None and self.settings.get("placebo_df") is not None:
            return self._placebo_pretest()
        se = self.analytic_std_error
        pre = np.flatnonzero((self.group > self.time) & np.isfinite(se))
        if len(pre) == 0:
            return None
        a = self.estimate[pre]
        v = self.vcov[np.ix_(pre, pre)]
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(v))):
            return None
        if 1.0 / np.linalg.cond(v, p=1) <= np.finfo(float).eps:
            return None
        w_stat = float(a @ np.linalg.solve(v, a))
        return PretestResult(
            statistic=w_stat, df=len(pre), p_value=float(stats.chi2.sf(w_stat, len(pre)))
        )

    def _placebo_pretest(self) -> PretestResult | None:
        J = int(round(float(self.settings["placebo_df"]))) + 1
        pre = np.flatnonzero((self.group > self.time) & np.isfinite(self.estimate))
        if len(pre) == 0 or J < 3:
            return None
        q = min(len(pre), max(1, (J - 1) // 2))
        pre = pre[np.argsort(self.time[pre], kind="stable")][-q:]
        a = self.estimate[pre]
        v = self.vcov[np.ix_(pre, pre)]
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(v))):
            return None
        if 1.0 / np.linalg.cond(v, p=1) <= np.finfo(float).eps:
            return None
        w_stat = float(a @ np.linalg.solve(v, a))
        f_stat = w_stat * (J - q) / (q * (J - 1))
        times = self.time[pre]
        labels = tuple(_period_value(t, self.period_values) for t in times)
        return PretestResult(statistic=f_stat, df=q, p_value=float(stats.f.sf(f_stat, q, J - q)),
                             distribution="F", df2=float(J - q), periods=labels)

    def aggregate(
        self,
        type: AggregationType = "group",
        *,
        min_e: float = -math.inf,
        max_e: float = math.inf,
        balance_e: int | None = None,
        vcov: Literal["analytic", "bootstrap", "placebo"] | None = None,
        cband: bool | None = None,
        n_boot: int | None = None,
        seed: int | None = None,
        alpha: float | None = None,
    ) -> AggregateResult:
        """Aggregate the ATT(g,t) into summary parameters.

        Parameters
        ----------
        type : {"simple", "dynamic", "group", "calendar"}, default "group"
            ``"simple"``: average of all post-treatment ATT(g,t) weighted by cohort size;
            ``"dynamic"``: event-study ``theta(e)`` averaging ATT(g, g+e) across cohorts;
            ``"group"``: ``theta(g)`` averaging each cohort's post-treatment ATT(g,t), and their
            cohort-size weighted mean; ``"calendar"``: ``theta(t)`` averaging the ATT(g,t) of
            cohorts treated by ``t``, and their mean over periods.
        min_e, max_e : float
            Event times kept (``"dynamic"``); ``max_e`` also limits the post-treatment periods
            used by ``"simple"`` and ``"group"`` (counted in positions of the sorted union of
            periods and cohorts, as R's ``did``).
        balance_e : int, optional
            ``"dynamic"`` only: keep cohorts observed for at least ``balance_e`` periods after
            treatment and event times ``<= balance_e``, so that the composition of cohorts does
            not change with ``e``.
        vcov : {"analytic", "bootstrap", "placebo"}, optional
            Inference of the aggregates; default: the one :func:`att_gt` used (its resolved
            ``settings["vcov"]``). ``"placebo"`` needs an ``att_gt`` result estimated with
            placebo inference. Recorded in the aggregate's ``settings["vcov"]``.
        cband, n_boot, seed, alpha : optional
            Inference settings; default to those of :func:`att_gt`. ``cband=True`` needs
            ``vcov="bootstrap"`` or ``"placebo"``.

        Returns
        -------
        AggregateResult

        Raises
        ------
        OptionError
            Unknown ``type`` or invalid inference settings.
        EstimationError
            When an ATT(g,t) entering the aggregation is missing, or nothing is left to average.

        Notes
        -----
        With ``w_g = P(G = g)`` estimated by weighted cohort shares, the aggregates are
        ``theta_S = sum_{g<=t} w_g ATT(g,t) / sum_{g<=t} w_g``,
        ``theta_D(e) = sum_g 1{g+e in T} w_g ATT(g,g+e) / sum_g 1{g+e in T} w_g``,
        ``theta_G(g) = mean_{t>=g} ATT(g,t)`` and ``theta_C(t) = sum_{g<=t} w_g ATT(g,t) /
        sum_{g<=t} w_g`` (Callaway & Sant'Anna 2021, section 3). Influence functions include the
        estimation effect of the weights ``w_g`` and give the same standard errors as R's
        ``did::aggte``.

        References
        ----------
        Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple
        time periods. Journal of Econometrics 225(2), 200-230.
        """
        check_option("type", type, _AGG_TYPES)
        s = self.settings
        vcov = s["vcov"] if vcov is None else vcov
        cband = s["cband"] if cband is None else cband
        n_boot = s["n_boot"] if n_boot is None else n_boot
        seed = s["seed"] if seed is None else seed
        alpha = s["alpha"] if alpha is None else alpha
        _check_inference(alpha, vcov, cband, n_boot, seed,
                         allowed=("analytic", "bootstrap", "placebo"), where="aggregate")
        if vcov == "placebo" and (self.placebo is None or s.get("placebo_df") is None):
            raise OptionError(
                f"aggregate: vcov='placebo' needs ATT(g,t) estimated with placebo inference; "
                f"these used vcov={s['vcov']!r}. Use att_gt(..., vcov='placebo'), or "
                "vcov='analytic'/'bootstrap' here."
            )
        with _single_thread_blas():
            from laborai.did.cs._aggregate import _aggregate  # (aggregate -> results cycle)

            return _aggregate(
                self,
                type,
                min_e=min_e,
                max_e=max_e,
                balance_e=balance_e,
                vcov=str(vcov),
                cband=bool(cband),
                n_boot=int(n_boot),
                seed=seed,
                alpha=float(alpha),
            )

    def plot(self, ax: Any = None) -> Any:
        """Plot ATT(g,t) with confidence intervals against period, one series per cohort.

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
            _, ax = plt.subplots(figsize=(7, 4))
        t = self.tidy()
        cohorts = np.unique(self.group)
        width = 0.3 / max(len(cohorts), 1)
        for j, g in enumerate(cohorts):
            rows = self.group == g
            x = self.time[rows] + (j - (len(cohorts) - 1) / 2) * width
            est = t["estimate"].to_numpy()[rows]
            lo = t["conf_low"].to_numpy()[rows]
            hi = t["conf_high"].to_numpy()[rows]
            ax.errorbar(x, est, yerr=[est - lo, hi - est], fmt="o", capsize=2,
                        label=f"g = {_num(g)}")
        ax.axhline(0.0, color="0.5", linewidth=0.8)
        ax.set_xlabel("period")
        ax.set_ylabel("ATT(g,t)")
        ax.legend(title="cohort", fontsize="small")
        return ax


@dataclass(frozen=True, eq=False, repr=False)
class AggregateResult(ResultMixin):
    """Aggregated ATT(g,t) from :meth:`ATTgtResult.aggregate`.

    Attributes
    ----------
    type : str
        ``"simple"``, ``"dynamic"``, ``"group"`` or ``"calendar"``.
    element : ndarray
        Event times, cohorts or periods of the per-element estimates (empty for ``"simple"``).
    estimate, std_error : ndarray
        Per-element estimates and standard errors.
    overall_estimate, overall_std_error : float
        Overall summary parameter and its standard error.
    influence : ndarray, shape (n_units, n_elements)
        Influence functions of the per-element estimates.
    overall_influence : ndarray, shape (n_units,)
        Influence function of the overall estimate.
    crit_val : float
        Critical value of the per-element band (sup-t when ``cband``).
    settings : mapping (read-only)
        Aggregation and inference settings.
    provenance : Provenance
        Provenance of the underlying :class:`ATTgtResult`.
    period_values : ndarray or None
        The underlying result's grid of period starts for datetime periods (``element`` then
        holds positions 1..T for ``"group"`` and ``"calendar"``; ``tidy()`` reports dates).
    """

    type: str
    element: np.ndarray
    estimate: np.ndarray
    std_error: np.ndarray
    overall_estimate: float
    overall_std_error: float
    influence: np.ndarray
    overall_influence: np.ndarray
    crit_val: float
    settings: Mapping[str, Any]
    provenance: Provenance
    period_values: np.ndarray | None = None

    _title = "Aggregated group-time average treatment effects"

    def _display_frame(self, columns: Sequence[str] | None, digits: int) -> pd.DataFrame:
        t = _display_dates(self.tidy(), self.period_values)
        if columns is not None:
            t = t.loc[:, list(columns)]
        return t.apply(lambda col: col.map(lambda v: _fmt(v, digits)))

    def __repr__(self) -> str:
        return (
            f"AggregateResult(type={self.type!r}, n_elements={len(self.estimate)}, "
            f"overall_estimate={self.overall_estimate:.6f}, "
            f"overall_std_error={self.overall_std_error:.6f})"
        )

    @property
    def _design_name(self) -> str | None:
        return {"dynamic": "event_time", "group": "group", "calendar": "time"}.get(self.type)

    def _header(self) -> list[tuple[str, str]]:
        s = self.settings
        lines = [
            ("Aggregation", self.type),
            ("Overall", f"{self.overall_estimate:.4f} (SE {self.overall_std_error:.4f})"),
            ("Standard errors",
             (f"placebo (Conley-Taber) over the control clusters, t({s['placebo_df']:g})"
              if s.get("placebo_df") is not None else
              "multiplier bootstrap" if s["vcov"] == "bootstrap" else "analytic")),
        ]
        if s["cband"]:
            lines.append(("Uniform band critical value", f"{self.crit_val:.4f}"))
        return lines

    def tidy(self) -> pd.DataFrame:
        """Return per-element rows followed by one ``"overall"`` row.

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, std_error, statistic, p_value, conf_low, conf_high`` then the
            design column (``event_time`` for ``"dynamic"``, ``group`` for ``"group"``, ``time``
            for ``"calendar"``; missing on the overall row); with a uniform band the per-element
            ``conf_low/conf_high`` are simultaneous and ``point_conf_low/point_conf_high`` are
            pointwise (the overall row has equal pointwise and band intervals).
        """
        alpha = self.settings["alpha"]
        name = self._design_name
        label = {"dynamic": "e", "group": "g", "calendar": "t"}.get(self.type, "")
        df = self.settings.get("placebo_df")
        elem = wald_table(self.estimate, self.std_error, alpha=alpha, crit=self.crit_val, df=df)
        over = wald_table([self.overall_estimate], [self.overall_std_error], alpha=alpha, df=df)
        tab = pd.concat([elem, over], ignore_index=True)
        dated = self.period_values if self.type in ("group", "calendar") else None
        terms = [f"ATT({label}={_period_text(v, dated)})" for v in self.element] + ["overall"]
        tab.insert(0, "term", terms)
        if name is not None:
            tab[name] = _period_column(np.append(self.element.astype(float), np.nan), dated)
        if self.settings["cband"]:
            pw = wald_table(
                np.append(self.estimate, self.overall_estimate),
                np.append(self.std_error, self.overall_std_error),
                alpha=alpha, df=df,
            )
            tab["point_conf_low"] = pw["conf_low"].to_numpy()
            tab["point_conf_high"] = pw["conf_high"].to_numpy()
        return tab

    def plot(self, ax: Any = None) -> Any:
        """Plot the per-element estimates with their bands (event-study plot for "dynamic").

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
            _, ax = plt.subplots(figsize=(7, 4))
        t = self.tidy()
        if self.type == "simple":
            x = np.array([0.0])
            sel = t.iloc[[-1]]
        else:
            x = self.element.astype(float)
            sel = t.iloc[:-1]
        est = sel["estimate"].to_numpy(dtype=float)
        lo = sel["conf_low"].to_numpy(dtype=float)
        hi = sel["conf_high"].to_numpy(dtype=float)
        colors = ["C0" if (self.type != "dynamic" or xi < 0) else "C3" for xi in x]
        for xi, e, a, b, c in zip(x, est, lo, hi, colors, strict=True):
            ax.errorbar([xi], [e], yerr=[[e - a], [b - e]], fmt="o", color=c, capsize=3)
        ax.axhline(0.0, color="0.5", linewidth=0.8)
        if self.type == "dynamic":
            ax.axvline(-0.5, color="0.7", linestyle="--", linewidth=0.8)
        ax.set_xlabel(self._design_name or "overall")
        ax.set_ylabel("ATT")
        return ax
