"""Sun and Abraham (2021) interaction-weighted (IW) event-study estimator.

A two-way fixed effects regression saturated in cohort x relative-period indicators estimates
cohort-specific effects CATT(e, l) that are free of the contamination affecting the usual
event-study regression; the IW estimator averages them over cohorts with the cohorts' sample
shares at each relative period. The regression runs on pyfixest; the aggregation and its
delta-method variance are computed here.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from laborai._results import TIDY_COLUMNS, Provenance, ResultMixin, make_provenance
from laborai._timing import cohort_positions, is_datetime_like, period_label
from laborai._validation import (
    check_frame_columns,
    check_option,
    check_time_column,
    check_unique_unit_period,
)
from laborai.errors import DataValidationError, EstimationError, LaborAIError, OptionError

__all__ = ["SunAbrahamResult", "sun_abraham"]

Control = Literal["never_treated", "last_cohort"]
_CONTROLS: tuple[str, ...] = ("never_treated", "last_cohort")


@dataclass(frozen=True, eq=False, repr=False)
class SunAbrahamResult(ResultMixin):
    """Result of :func:`sun_abraham`.

    Attributes
    ----------
    event_times : numpy.ndarray of int
        Reported relative periods (reference excluded), sorted.
    coef : numpy.ndarray
        IW estimates, same order as ``event_times``.
    vcov : numpy.ndarray
        Their covariance matrix (delta method; see :func:`sun_abraham`).
    ref : int
        Reference relative period (-1); its effect is normalised to zero.
    cohort_effects : pandas.DataFrame
        Columns ``cohort, event_time, estimate, std_error, weight, n_obs``: the CATT(e, l)
        from the saturated regression and the IW weight each receives (NaN outside ``window``).
        ``cohort`` is a value of the period column (a date for datetime periods).
    control : str
        ``"never_treated"`` or ``"last_cohort"``.
    control_cohort : object
        The control cohort (``"never_treated"`` or the last cohort's adoption period).
    nobs, n_clusters : int
        Observations in the regression and number of clusters.
    dropped : Mapping[str, int]
        Rows left out of the regression by design, by reason (``always_treated``,
        ``after_last_cohort``, ``never_treated``); recorded, never silent.
    alpha : float
        One minus the confidence level (t reference distribution with ``n_clusters - 1``
        degrees of freedom).
    weight_variance : bool
        Whether the variance includes the term for the estimated cohort shares.
    not_estimable : tuple of (int, int)
        ``(cohort, event_time)`` cells whose indicator pyfixest removed as collinear (empty in
        a well-posed design); they get no weight in the IW averages.
    provenance : Provenance
        Settings, package version and input hash.
    period_values : numpy.ndarray or None
        For datetime periods, the sorted grid of period starts (event times count positions on
        it); None for integer periods.
    placebo_df : float or None
        ``J - 1`` under placebo inference (``J`` control clusters with a placebo path), else
        None.
    size_column : str or None
        The cell-size column whose inverse rescaled the placebos (Ferman-Pinto correction,
        see :func:`sun_abraham`'s ``size``); None when no correction was applied. Also in
        ``provenance.settings["size"]``.
    """

    event_times: np.ndarray
    coef: np.ndarray
    vcov: np.ndarray
    ref: int
    cohort_effects: pd.DataFrame
    control: str
    control_cohort: Any
    nobs: int
    n_clusters: int
    dropped: Mapping[str, int]
    alpha: float
    weight_variance: bool
    provenance: Provenance
    not_estimable: tuple[tuple[Any, int], ...] = ()
    _table: pd.DataFrame = field(default_factory=pd.DataFrame)
    period_values: np.ndarray | None = None
    placebo_df: float | None = None  # set under placebo inference (t(J - 1))
    size_column: str | None = None  # cell-size column of the placebo size correction

    _title = "Sun-Abraham interaction-weighted event study"

    def __repr__(self) -> str:
        et = self.event_times
        span = f"[{int(et.min())}..{int(et.max())}]" if et.size else "[]"
        return (
            f"SunAbrahamResult(event_times={span}, ref={self.ref}, control={self.control!r}, "
            f"nobs={self.nobs}, n_clusters={self.n_clusters})"
        )

    @property
    def df(self) -> float:
        """Degrees of freedom of the t reference distribution: clusters minus one (CRV1), or
        control clusters minus one (placebo inference)."""
        return float(self.placebo_df) if self.placebo_df is not None \
            else float(self.n_clusters - 1)

    def tidy(self) -> pd.DataFrame:
        """IW estimates by event time.

        Returns
        -------
        pandas.DataFrame
            Columns ``term`` (``'event_time::l'``), ``estimate, std_error, statistic, p_value,
            conf_low, conf_high`` (pointwise, t with ``n_clusters - 1`` degrees of freedom),
            then ``event_time`` and ``n_cohorts``. The reference period is not a row.
        """
        return self._table.copy()

    def _header(self) -> list[tuple[str, str]]:
        cc = self.control_cohort
        if isinstance(cc, pd.Timestamp):
            cc = period_label(cc, self.period_values)
        lines = [
            ("Control cohort", f"{self.control} ({cc})"),
            ("Reference event time", str(self.ref)),
            ("Observations", str(self.nobs)),
            ("Clusters", str(self.n_clusters)),
            ("Variance", "delta method" + (" incl. estimated cohort shares"
                                           if self.weight_variance else ", shares as known")),
        ]
        if self.not_estimable:
            lines.append(("Not estimable (cohort, event time)",
                          str([(period_label(c, self.period_values)
                                if isinstance(c, pd.Timestamp) else c, e)
                               for c, e in self.not_estimable])))
        drops = {k: v for k, v in self.dropped.items() if v}
        if drops:
            lines.append(("Rows outside the regression",
                          ", ".join(f"{k}: {v}" for k, v in drops.items())))
        return lines

    def plot(self, ax: Any = None) -> Any:
        """Event-study plot of the IW estimates with pointwise confidence intervals.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure is created when omitted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        t = self.tidy()
        if ax is None:
            _, ax = plt.subplots(figsize=(6.0, 3.5))
        x = t["event_time"].to_numpy(dtype=float)
        est = t["estimate"].to_numpy(dtype=float)
        ax.errorbar(x, est, yerr=[est - t["conf_low"].to_numpy(dtype=float),
                                  t["conf_high"].to_numpy(dtype=float) - est],
                    fmt="o", color="tab:blue", capsize=2,
                    label=f"IW estimate, {int(round((1 - self.alpha) * 100))}% CI")
        ax.plot([self.ref], [0.0], marker="o", markerfacecolor="white", color="tab:blue",
                linestyle="none", label=f"reference ({self.ref})")
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.axvline(-0.5, color="grey", linestyle="--", linewidth=0.8)
        ax.set_xlabel("event time (periods)")
        ax.set_ylabel("estimate")
        ax.legend(frameon=False, fontsize="small")
        return ax


def _never_mask(g: pd.Series) -> pd.Series:
    num = pd.to_numeric(g, errors="coerce")
    return g.isna() | (num == 0) | np.isinf(num.fillna(0.0))


def _validate(data: pd.DataFrame, cols: dict[str, str]) -> None:
    check_frame_columns(data, cols, caller="sun_abraham", allow_missing=("gname",))
    for role in ("yname", "tname"):
        col = cols[role]
        if not pd.api.types.is_numeric_dtype(data[col]):
            raise DataValidationError(
                f"column {col!r} ({role}) must be numeric; got dtype {data[col].dtype}."
                + (" Encode periods as integers (e.g. year or month index)."
                   if role == "tname" else "")
            )
    t = data[cols["tname"]].to_numpy(dtype=float)
    if not np.array_equal(t, np.round(t)):
        raise DataValidationError(
            f"column {cols['tname']!r} (tname) must hold integer periods so that relative "
            f"periods t - g are integers; got e.g. {t[t != np.round(t)][:3].tolist()}."
        )
    g = data[cols["gname"]]
    never = _never_mask(g)
    gnum = pd.to_numeric(g[~never], errors="coerce")
    bad = gnum.isna() | (gnum != np.round(gnum))
    if bad.any():
        raise DataValidationError(
            f"column {cols['gname']!r} (gname) must hold the first treated period (an integer "
            f"period) or 0 / NaN / inf for never-treated units; {int(bad.sum())} rows have "
            f"other values, e.g. {g[~never][bad].unique()[:5].tolist()}."
        )
    nun = data.groupby(cols["idname"])[cols["gname"]].nunique(dropna=False)
    varying = nun[nun > 1]
    if len(varying):
        raise DataValidationError(
            f"column {cols['gname']!r} (gname) must be constant within each unit; "
            f"{len(varying)} units have several values, e.g. "
            f"{cols['idname']}={varying.index[:5].tolist()}."
        )
    dup = data.duplicated([cols["idname"], cols["tname"]], keep=False)
    if dup.any():
        ex = data.loc[dup, [cols["idname"], cols["tname"]]].head(3).to_numpy().tolist()
        raise DataValidationError(
            f"({cols['idname']!r}, {cols['tname']!r}) must identify rows uniquely; "
            f"{int(dup.sum())} rows are duplicates, e.g. {ex}."
        )


def sun_abraham(
    data: pd.DataFrame,
    *,
    yname: str,
    idname: str,
    tname: str,
    gname: str,
    control_group: Control = "never_treated",
    window: tuple[int, int] | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
    weight_variance: bool = True,
    vcov: Literal["auto", "cluster", "placebo"] = "auto",
    size: str | None = "auto",
) -> SunAbrahamResult:
    """Sun and Abraham (2021) interaction-weighted event-study estimator.

    Parameters
    ----------
    data : pandas.DataFrame
        Panel in long format (balanced or not), one row per unit and period.
    yname : str
        Outcome column.
    idname : str
        Unit identifier column.
    tname : str
        Period column: consecutive integers (e.g. years) or datetimes (period starts, e.g.
        ``period`` of :func:`laborai.build_panel`). Datetime periods are mapped to positions
        on the sorted grid of distinct periods, so event time counts periods of the grid
        (``docs/estimators/timing.md``); pandas ``Period`` values are refused.
    gname : str
        First treated period of the unit; 0, NaN or inf for never-treated units (the R
        ``did`` convention). Constant within a unit; treatment is absorbing. With datetime
        periods: dates (NaT = never treated, e.g. from :func:`laborai.exposure.cohorts`; a
        date between period starts counts from the first period starting on or after it) or
        integer 0-based positions on the period grid like ``build_panel``'s ``t`` (0 = never).
    control_group : {"never_treated", "last_cohort"}, default "never_treated"
        Control cohort: the never-treated units, or the last-treated cohort (then periods
        from that cohort's adoption on, and never-treated units, are outside the regression).
    window : tuple of int, optional
        ``(lo, hi)``: report event times ``lo <= l <= hi`` only. The regression stays fully
        saturated (see Notes), so the window changes which estimates are reported, not their
        values.
    cluster : str, optional
        Cluster column for the CRV1 variance; default ``idname``.
    alpha : float, default 0.05
        One minus the confidence level.
    weight_variance : bool, default True
        Add the variance from estimating the cohort shares (Sun and Abraham 2021, Proposition
        6); ``False`` treats the shares as known (as R ``fixest::aggregate`` does).
    vcov : {"auto", "cluster", "placebo"}, default "auto"
        ``"cluster"``: CRV1 by ``cluster``. ``"placebo"``: placebo (Conley-Taber) inference
        over the control clusters, t(J - 1) (one treated cohort, never-treated controls, every
        unit of a treated cluster treated, at least 3 control clusters; otherwise an
        :class:`~laborai.errors.OptionError`). ``"auto"``: placebo inference where it applies
        with fewer than 50 clusters and no more treated than control clusters, else CRV1
        (``docs/estimators/inference.md``).
    size : str or None, default "auto"
        Cell-size column of the placebo inference's heteroskedasticity correction (Ferman &
        Pinto 2019), with the meaning and default of :func:`laborai.did.event_study`'s:
        ``"auto"`` uses ``n_posts`` when the data have it (``sun_abraham`` takes no weights),
        ``"weights"`` no column (there are no weights), a column name that column, ``None``
        equal error variances (the plain Conley-Taber placebos). Each event time's placebo
        estimates are rescaled to the treated cohort's sampling variance (see Notes); sizes
        below 1 count as 1. Used only under placebo inference; the column used is recorded
        in ``size_column`` and ``provenance.settings["size"]``.

    Returns
    -------
    SunAbrahamResult
        ``tidy()`` by event time; ``event_times``, ``coef``, ``vcov`` and ``ref`` for
        :func:`laborai.did.honest`; ``cohort_effects`` with the CATT(e, l) and IW weights;
        ``plot()``.

    Raises
    ------
    DataValidationError
        Missing columns or values, non-integer periods or cohorts, cohorts varying within a
        unit, duplicate rows, or a cohort without an observation at the reference period;
        under placebo inference with a size correction, missing, non-numeric or negative
        values of the ``size`` column in the estimation rows (the message names the column and
        the count).
    OptionError
        ``control_group`` or ``vcov`` outside the allowed values, ``size`` neither ``"auto"``,
        ``"weights"``, None nor a column, or ``vcov="placebo"`` where it does not apply.
    EstimationError
        No never-treated units for ``control_group="never_treated"``, no treated cohort besides the
        control cohort, no estimable event time in ``window``, or (``vcov="placebo"``) fewer
        than 3 control clusters with a placebo path.

    Notes
    -----
    Let E_i be unit i's first treated period and C the control cohort. With unit effects a_i
    and period effects g_t, the saturated regression (Sun and Abraham 2021, eq. 23) is

    ``y_it = a_i + g_t + sum_{e not in C} sum_{l != -1} delta_{e,l} 1{E_i = e} 1{t - e = l}
    + u_it``,

    estimated by pyfixest's ``feols`` with CRV1 standard errors clustered by ``cluster``
    (pyfixest's default small-sample correction). Under parallel trends and no anticipation,
    ``delta_{e,l}`` is CATT(e, l) = E[Y_{i,e+l}(e) - Y_{i,e+l}(inf) | E_i = e], the effect
    ``l`` periods after adoption for cohort e relative to period e - 1. The IW estimator of
    the event-time effect averages over the cohorts observed at relative period l,

    ``nu_l = sum_e w_{e,l} delta_{e,l}``, ``w_{e,l} = Pr(E_i = e | E_i in cohorts at l)``,

    with the share estimated by the cohort's fraction of the observations at relative period
    l (unit shares in a balanced panel). Its variance is ``W V W'`` (V the cluster-robust
    covariance of the ``delta``) plus, when ``weight_variance`` is True, the cluster-robust
    variance of the estimated shares, ``sum_c psi_c psi_c'`` with
    ``psi_{c,l} = sum_{r in c, rel. period l} (delta_{E_r,l} - nu_l) / B_l`` (B_l the number
    of treated observations at l); the covariance between the two parts is neglected, as in
    the authors' ``eventstudyinteract``.

    Relative periods are never trimmed or binned: every cohort x relative-period cell except
    the reference has its own indicator, which is what removes the contamination from other
    periods' effects; ``window`` only selects the reported event times. Always-treated units
    (E_i at or before the first period) have no reference period and are left out, as in
    ``fixest::sunab``; the count is recorded in ``dropped``.

    With never-treated controls, no covariates and a balanced panel, CATT(e, l) equals the
    Callaway-Sant'Anna ATT(e, e + l) with never-treated controls and universal base period
    e - 1, and the IW estimate equals their "dynamic" aggregation; on ``mpdta`` the
    post-period IW estimates agree with R ``did`` to 1e-10.

    **Placebo inference and the cell-size correction.** With one treated cohort and few
    clusters (``vcov="auto"``/``"placebo"``) each of the ``J`` control clusters is in turn
    given the treated cohort on the never-treated data, and the ``J`` placebo paths ``p_j``
    give ``V = (J - 1) / J^2 (sum_g w_g^2 + 1 / J) sum_j p_j p_j'`` with a t(J - 1) reference
    (``w_g`` the treated clusters' shares of the treated units; Conley & Taber 2011). When the
    cells differ in size (marketplace cells of 16 to 770 posts a month) the control clusters'
    placebos do not have the treated estimate's sampling variance. With ``size`` each
    coefficient's sampling-variance proxy ``v = sum_i A_i^2 / size_i`` is computed for the
    real estimate (``v_g``) and for every placebo (``v_j``), ``A`` being the rows' weights in
    the coefficient (for a balanced panel ``v = sum_{i in T} (1/s_{i,e+l} + 1/s_{i,e-1}) /
    N_T^2 + sum_{i in C} (...) / N_C^2``); per event time the squared placebos are modelled
    as ``a + b v_j`` (a, b >= 0, iterated weighted least squares) and each placebo is
    multiplied by ``sqrt((a + b v*) / (a + b v_j))`` with ``v* = v_g / ((J - 1) / J (sum_g
    w_g^2 + 1 / J))`` before the formula above (Ferman & Pinto 2019; the correction of
    :func:`laborai.did.event_study`). Cluster shocks common to all cells (``a``) keep the
    exact Conley-Taber formula; with ``b = 0`` nothing changes.

    References
    ----------
    Sun, L. and Abraham, S. (2021). Estimating dynamic treatment effects in event studies with
    heterogeneous treatment effects. *Journal of Econometrics*, 225(2), 175-199.

    Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
    periods. *Journal of Econometrics*, 225(2), 200-230.

    Conley, T. G. and Taber, C. R. (2011). Inference with "difference in differences" with a
    small number of policy changes. *Review of Economics and Statistics*, 93(1), 113-125.

    Ferman, B. and Pinto, C. (2019). Inference in differences-in-differences with few treated
    groups and heteroskedasticity. *Review of Economics and Statistics*, 101(3), 452-467.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from laborai.did.sun_abraham import sun_abraham
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat([0, 4, 6], 20)
    >>> rows = [(i, t, g[i], rng.normal() + (t >= g[i] > 0) * 1.0) for i in range(60)
    ...         for t in range(1, 9)]
    >>> df = pd.DataFrame(rows, columns=["id", "t", "g", "y"])
    >>> res = sun_abraham(df, yname="y", idname="id", tname="t", gname="g")
    >>> int(res.ref), res.event_times.tolist()[:3]
    (-1, [-5, -4, -3])
    """
    check_option("control_group", control_group, _CONTROLS)
    check_option("vcov", vcov, ("auto", "cluster", "placebo"))
    vcov_choice = str(vcov)
    cluster_col = idname if cluster is None else cluster
    res, design = _sa_fit(data, yname=yname, idname=idname, tname=tname, gname=gname,
                          control_group=control_group, window=window, cluster=cluster,
                          alpha=alpha, weight_variance=weight_variance, size=size)
    if vcov_choice != "cluster":
        res = _sa_placebo(res, design, data, vcov=vcov_choice, yname=yname, idname=idname,
                          tname=tname, gname=gname, cluster_col=cluster_col,
                          control_group=control_group, window=window, cluster=cluster,
                          alpha=alpha, weight_variance=weight_variance, size=size)
    return _with_settings(res, vcov=vcov_choice,
                          inference="placebo" if res.placebo_df is not None else "cluster",
                          size=res.size_column)


class _Design(NamedTuple):
    """The regression of a :func:`_sa_fit` call, for the placebo size correction."""

    keep: np.ndarray   # (n_data,) rows of the input in the regression
    X: np.ndarray      # (n_keep, K) estimable cohort x relative-period indicators
    fe: np.ndarray     # (n_keep, 2) unit and period codes
    W: np.ndarray      # (n_event_times, K) IW weights: coef = W @ delta


def _with_settings(res: SunAbrahamResult, **extra: Any) -> SunAbrahamResult:
    """``res`` with ``extra`` added to its recorded settings (input hash kept)."""
    import dataclasses as _dc

    prov = res.provenance
    settings = {**dict(prov.settings), **extra}
    return _dc.replace(res, provenance=Provenance(
        estimator=prov.estimator, settings=settings, seed=prov.seed, version=prov.version,
        input_hash=prov.input_hash))


def _sa_fit(data: pd.DataFrame, *, yname: str, idname: str, tname: str, gname: str,
            control_group: str, window: tuple[int, int] | None, cluster: str | None,
            alpha: float, weight_variance: bool, size: Any = None
            ) -> tuple[SunAbrahamResult, _Design]:
    """Validate, fit the saturated regression and aggregate (CRV1 inference)."""
    import pyfixest as pf

    from laborai.did._placebo import check_size

    check_option("control_group", control_group, _CONTROLS)
    cluster_col = idname if cluster is None else cluster
    cols = {"yname": yname, "idname": idname, "tname": tname, "gname": gname,
            "cluster": cluster_col}
    original = data
    period_values: np.ndarray | None = None
    check_frame_columns(data, cols, caller="sun_abraham", allow_missing=("gname",))
    check_size(data, size, "sun_abraham")
    check_time_column(data, tname, where="sun_abraham")
    check_unique_unit_period(data, idname, tname)
    if is_datetime_like(data[tname]):
        tpos, gpos, grid = cohort_positions(data, tname, gname, where="sun_abraham")
        data = data.copy()
        data[tname] = tpos
        data[gname] = gpos
        period_values = np.asarray(grid, dtype="datetime64[ns]")
        period_values.setflags(write=False)
    elif is_datetime_like(data[gname]):
        raise DataValidationError(
            f"column {gname!r} (gname) holds dates but the periods in {tname!r} are numbers; "
            "pass the datetime period column as tname, or integer cohorts."
        )

    def lab(v: Any) -> Any:
        """A cohort as a value of the user's period column."""
        if period_values is None:
            return int(v)
        return pd.Timestamp(period_values[min(max(int(v), 1), len(period_values)) - 1])

    _validate(data, cols)
    if not 0.0 < alpha < 1.0:
        raise DataValidationError(f"alpha must lie strictly between 0 and 1; got {alpha!r}.")
    if window is not None:
        if (len(window) != 2 or not all(isinstance(w, (int, np.integer)) for w in window)
                or window[0] > window[1]):
            raise DataValidationError(
                f"window must be a pair of integers (lo, hi) with lo <= hi; got {window!r}."
            )
    settings = {"yname": yname, "idname": idname, "tname": tname, "gname": gname,
                "control_group": control_group, "window": window, "cluster": cluster_col, "alpha": alpha,
                "weight_variance": weight_variance}

    never = _never_mask(data[gname]).to_numpy()
    t = data[tname].to_numpy(dtype=np.int64)
    g = np.where(never, np.iinfo(np.int64).max,
                 pd.to_numeric(data[gname], errors="coerce").fillna(0).to_numpy()
                 .astype(np.int64))
    tmin = int(t.min())
    keep = np.ones(len(data), dtype=bool)
    dropped = {"always_treated": 0, "after_last_cohort": 0, "never_treated": 0}
    always = (~never) & (g <= tmin)
    dropped["always_treated"] = int(always.sum())
    keep &= ~always
    treated_cohorts = np.unique(g[keep & ~never])
    if control_group == "never_treated":
        if not never.any():
            raise EstimationError(
                f"control_group='never_treated' needs never-treated units (gname {gname!r} equal to "
                "0, NaN or inf); there are none. Use control_group='last_cohort'."
            )
        control_cohort: Any = "never_treated"
        is_control = never
    else:
        if treated_cohorts.size < 2:
            raise EstimationError(
                "control_group='last_cohort' needs at least two treated cohorts; got "
                f"{treated_cohorts.tolist()}."
            )
        last = int(treated_cohorts.max())
        control_cohort = lab(last)
        after = keep & (t >= last)
        dropped["after_last_cohort"] = int(after.sum())
        keep &= ~after
        nev = keep & never
        dropped["never_treated"] = int(nev.sum())
        keep &= ~never
        is_control = g == last
    cohorts = np.unique(g[keep & ~is_control])
    if cohorts.size == 0:
        raise EstimationError(
            "no treated cohort is left besides the control cohort; the event study is not "
            "identified."
        )

    df = pd.DataFrame({
        "_y": data[yname].to_numpy(dtype=float),
        "_id": data[idname].to_numpy(),
        "_t": t,
        "_cl": data[cluster_col].to_numpy(),
    })[keep].reset_index(drop=True)
    gk = g[keep]
    ctrl = is_control[keep]
    rel = np.where(ctrl, 0, df["_t"].to_numpy() - gk)
    ref = -1
    cells: list[tuple[int, int]] = []
    for e in cohorts:
        in_e = (gk == e) & ~ctrl
        rels = np.unique(rel[in_e])
        if ref not in rels:
            where_ref = (f"{tname}={int(e) + ref}" if period_values is None
                         else f"the period before {period_label(lab(e), period_values)}")
            raise DataValidationError(
                f"cohort {gname}={period_label(lab(e), period_values)} has no observation at "
                f"the reference period (relative period {ref}, i.e. {where_ref}); periods must be "
                "consecutive integers around each adoption date. Re-index the periods or drop "
                "this cohort explicitly."
            )
        cells += [(int(e), int(r)) for r in rels if r != ref]
    names = [f"_sa{k}" for k in range(len(cells))]
    dummies = pd.DataFrame(
        {nm: ((gk == e) & ~ctrl & (rel == r)).astype(float)
         for nm, (e, r) in zip(names, cells, strict=True)},
        index=df.index,
    )
    df = pd.concat([df, dummies], axis=1)

    fml = "_y ~ " + " + ".join(names) + " | _id + _t"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.feols(fml, data=df, vcov={"CRV1": "_cl"})
    coefnames = [str(c) for c in fit._coefnames]
    beta_all = np.asarray(fit.coef().to_numpy(), dtype=float)
    V_all = np.asarray(fit._vcov, dtype=float)
    pos = {nm: i for i, nm in enumerate(coefnames)}
    est_cells = [(c, nm) for c, nm in zip(cells, names, strict=True) if nm in pos]
    idx = np.array([pos[nm] for _, nm in est_cells], dtype=int)
    delta = beta_all[idx]
    Vd = V_all[np.ix_(idx, idx)]
    n_obs_cell = np.array([int(df[nm].sum()) for _, nm in est_cells])
    cell_e = np.array([c[0] for c, _ in est_cells])
    cell_l = np.array([c[1] for c, _ in est_cells])

    ells = np.unique(cell_l)
    if window is not None:
        ells = ells[(ells >= window[0]) & (ells <= window[1])]
    if ells.size == 0:
        raise EstimationError(
            f"no estimable event time in window={window}; estimable event times are "
            f"{np.unique(cell_l).tolist()}."
        )
    W = np.zeros((ells.size, delta.size))
    for j, ell in enumerate(ells):
        m = cell_l == ell
        W[j, m] = n_obs_cell[m] / n_obs_cell[m].sum()
    coef = W @ delta
    V_iw = W @ Vd @ W.T
    if weight_variance:
        cl_codes, cl_index = np.unique(df["_cl"].to_numpy(), return_inverse=True)
        psi = np.zeros((cl_codes.size, ells.size))
        for j, ell in enumerate(ells):
            m = np.flatnonzero(cell_l == ell)
            B = n_obs_cell[m].sum()
            for c in m:
                rows = df[est_cells[c][1]].to_numpy() == 1.0
                np.add.at(psi[:, j], cl_index[rows], (delta[c] - coef[j]) / B)
        V_iw = V_iw + psi.T @ psi
    V_iw = (V_iw + V_iw.T) / 2.0

    n_clusters = int(df["_cl"].nunique())
    se = np.sqrt(np.diag(V_iw))
    dof = n_clusters - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = coef / se
    q = stats.t.ppf(1 - alpha / 2, dof)
    table = pd.DataFrame({
        "term": [f"event_time::{int(ell)}" for ell in ells],
        "estimate": coef,
        "std_error": se,
        "statistic": stat,
        "p_value": 2 * stats.t.sf(np.abs(stat), dof),
        "conf_low": coef - q * se,
        "conf_high": coef + q * se,
        "event_time": ells.astype(int),
        "n_cohorts": [int((cell_l == ell).sum()) for ell in ells],
    })
    table = table[[*TIDY_COLUMNS, "event_time", "n_cohorts"]]
    wcell = np.full(delta.size, np.nan)
    for j in range(ells.size):
        m = W[j] > 0
        wcell[m] = W[j, m]
    cohort_effects = pd.DataFrame({
        "cohort": (cell_e.astype(int) if period_values is None
                   else pd.array([lab(e) for e in cell_e], dtype="datetime64[ns]")),
        "event_time": cell_l.astype(int),
        "estimate": delta,
        "std_error": np.sqrt(np.diag(Vd)),
        "weight": wcell,
        "n_obs": n_obs_cell,
    }).sort_values(["cohort", "event_time"], kind="stable").reset_index(drop=True)
    res = SunAbrahamResult(
        event_times=ells.astype(int),
        coef=coef,
        vcov=V_iw,
        ref=ref,
        cohort_effects=cohort_effects,
        control=control_group,
        control_cohort=control_cohort,
        nobs=int(len(df)),
        n_clusters=n_clusters,
        dropped=dict(dropped),
        alpha=alpha,
        weight_variance=weight_variance,
        provenance=make_provenance("sun_abraham", original, settings),
        not_estimable=tuple((lab(c[0]), c[1]) for c, nm in zip(cells, names, strict=True)
                            if nm not in pos),
        _table=table,
        period_values=period_values,
    )
    fe_codes = np.column_stack([np.unique(df["_id"].to_numpy(), return_inverse=True)[1],
                                np.unique(df["_t"].to_numpy(), return_inverse=True)[1]])
    design = _Design(keep=keep, X=df[[nm for _, nm in est_cells]].to_numpy(dtype=float),
                     fe=fe_codes, W=W)
    return res, design


def _sa_placebo(res: SunAbrahamResult, design: _Design, data: pd.DataFrame, *, vcov: str,
                yname: str, idname: str, tname: str, gname: str, cluster_col: str,
                control_group: str, window: tuple[int, int] | None, cluster: str | None,
                alpha: float, weight_variance: bool, size: Any) -> SunAbrahamResult:
    """Placebo (Conley-Taber) inference for a single treated cohort with few clusters.

    Each control cluster in turn is given the treated cohort on the control clusters' data;
    with ``J`` placebo event-time paths ``p_j`` and ``w_g`` the treated clusters' shares of
    treated units, ``V = (J - 1)/J^2 (sum w_g^2 + 1/J) sum p_j p_j'`` and the reference is
    ``t(J - 1)`` (as in ``event_study``). ``vcov='auto'`` uses it below 50 clusters when the
    treated clusters do not outnumber the control clusters; otherwise CRV1 stays.

    With a size column (``size``), each event time's placebos are first rescaled to the real
    estimate's sampling variance (Ferman & Pinto 2019): the proxies ``v = sum_i A_i^2 / size_i``
    of every placebo path and of the real estimate (``A`` the rows' weights in the coefficient,
    :func:`laborai.did._placebo.sampling_var`), the model ``E[p_j^2] = a + b v_j`` per event
    time and the rescaling of :func:`laborai.did._placebo.rescale_columns` to
    :func:`laborai.did._placebo.size_target`.
    """
    import dataclasses as _dc
    import warnings as _w

    from laborai._results import wald_table
    from laborai.did._placebo import (
        check_size_values,
        pooled_scale,
        rescale_columns,
        sampling_var,
        size_target,
    )
    never = _never_mask(data[gname]).to_numpy()
    cl = data[cluster_col].to_numpy()
    tcl, ccl = np.unique(cl[~never]), np.unique(cl[never])
    n_coh = pd.Series(data.loc[~never, gname]).nunique()
    why = None
    if control_group != "never_treated" or n_coh != 1:
        why = "needs one treated cohort and control_group='never_treated'"
    elif np.intersect1d(tcl, ccl).size:
        why = "needs every unit of a treated cluster to be treated"
    elif ccl.size < 3:
        why = "needs at least 3 control clusters"
    elif vcov == "auto" and not (np.unique(cl).size < 50 and tcl.size <= ccl.size):
        return res
    if why is not None:
        if vcov == "placebo":
            raise OptionError(f"sun_abraham: vcov='placebo' {why}.")
        return res
    from laborai.did._core import _inv_size

    inv_keep, size_col = _inv_size(data, size, None, design.keep, "sun_abraham")
    inv_never: np.ndarray | None = None
    if inv_keep is not None and size_col is not None:
        check_size_values(pd.to_numeric(data[size_col], errors="coerce")
                          .to_numpy(dtype=float)[design.keep], size_col, "sun_abraham")
        inv_all = np.full(len(data), np.nan)
        inv_all[design.keep] = inv_keep
        inv_never = inv_all[never]
    g_star = data.loc[~never, gname].iloc[0]
    base = data.loc[never]
    cl_c = cl[never]
    rows, v_rows = [], []
    for j in ccl:
        d = base.copy()
        d[gname] = d[gname].astype(object).where(cl_c != j, g_star).astype(data[gname].dtype)
        with _w.catch_warnings():
            _w.simplefilter("ignore")
            try:
                r, dj = _sa_fit(d, yname=yname, idname=idname, tname=tname, gname=gname,
                                control_group="never_treated", window=window, cluster=cluster,
                                alpha=alpha, weight_variance=weight_variance)
            except LaborAIError:
                continue
        if np.array_equal(r.event_times, res.event_times):
            rows.append(np.asarray(r.coef, dtype=float))
            if inv_never is not None:
                v_rows.append(sampling_var(dj.X, None, dj.fe, inv_never[dj.keep], dj.W))
    J = len(rows)
    if J < 3:
        if vcov == "placebo":
            raise EstimationError(f"sun_abraham: only {J} control cluster(s) give a placebo "
                                  "path; placebo inference needs at least 3.")
        return res
    units = data.loc[~never]
    per_cl = units.groupby(cluster_col)[idname].nunique()
    w = per_cl.to_numpy(dtype=float) / float(per_cl.sum())
    w2 = float(np.sum(w**2))
    P = np.array(rows)
    used: str | None = None
    if inv_never is not None and inv_keep is not None:
        v_g = sampling_var(design.X, None, design.fe, inv_keep, design.W)
        P, _, _ = rescale_columns(P, np.array(v_rows), size_target(v_g, J, w2))
        used = size_col
    V = pooled_scale(J, w2) * (P.T @ P)
    se = np.sqrt(np.diag(V))
    old = res.tidy()
    wt = wald_table(res.coef, se, alpha=alpha, df=float(J - 1))
    for c in ("std_error", "statistic", "p_value", "conf_low", "conf_high"):
        old[c] = wt[c].to_numpy()
    return _dc.replace(res, vcov=V, _table=old, placebo_df=float(J - 1), size_column=used)
