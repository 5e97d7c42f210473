"""Callaway–Sant'Anna: the public entry point :func:`att_gt` (prepare -> compute -> result), and
its placebo-inference plan for few treated clusters."""

from __future__ import annotations

import contextlib
import math
import re
import warnings
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from laborai._results import make_provenance
from laborai._validation import check_option, resolve_seed
from laborai.did._cs_kernels import (
    multiplier_bootstrap,
)
from laborai.did.cs._compute import (
    _analytic_se,
    _cluster_sums,
    _compute_att_gt,
    _compute_att_gt_long,
)
from laborai.did.cs._prepare import (
    _BASE_PERIODS,
    _CONTROL_GROUPS,
    _EST_METHODS,
    BasePeriod,
    ControlGroup,
    EstMethod,
    GtVcov,
    _check_inference,
    _datetime_periods,
    _formula_terms,
    _Long,
    _period_text,
    _single_thread_blas,
    _validate_and_pivot,
)
from laborai.did.cs._results import ATTgtResult
from laborai.errors import (
    EstimationError,
    OptionError,
    SmallSampleWarning,
)

# ---------------------------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------------------------




def _att_gt_placebo_plan(data: pd.DataFrame, *, vcov: str, gname: str, idname: str | None,
                         cluster: str | None, control_group: str, xformla: str | None,
                         panel: bool, n_cohorts: int) -> dict[str, Any] | None:
    """Whether placebo inference applies to this ``att_gt`` call (``None``: it does not).

    It needs one treated cohort, never-treated comparisons, no covariates, panel data, at
    least 3 control clusters (clusters: ``cluster`` or the units), no more treated than
    control clusters, every unit of a treated cluster treated, and fewer than 50 clusters
    (with ``vcov='auto'``; ``vcov='analytic'``/``'bootstrap'`` never use it).
    """
    why = None
    if vcov in ("analytic", "bootstrap"):
        return None
    cl_col = cluster or idname
    if n_cohorts != 1:
        why = "needs one treated cohort (staggered cohorts: use the analytic default)"
    elif control_group != "never_treated" or xformla is not None or not panel or cl_col is None:
        why = "needs control_group='never_treated', no covariates and panel data"
    else:
        from laborai.did.sun_abraham import _never_mask

        never = _never_mask(data[gname]).to_numpy()
        cl = data[cl_col].to_numpy()
        tcl = np.unique(cl[~never])
        ccl = np.unique(cl[never])
        mixed = np.intersect1d(tcl, ccl)
        G = np.unique(cl).size
        if mixed.size:
            why = "needs every unit of a treated cluster to be treated"
        elif ccl.size < 3:
            why = "needs at least 3 control clusters"
        elif vcov == "auto" and not (G < 50 and tcl.size <= ccl.size):
            return None
        else:
            g_star = data.loc[~never, gname].iloc[0]
            return {"cl_col": cl_col, "controls": ccl, "treated": tcl, "g_star": g_star,
                    "never": never}
    if vcov == "placebo":
        raise OptionError(f"att_gt: vcov='placebo' {why}.")
    return None


def _att_gt_placebo(data: pd.DataFrame, plan: Mapping[str, Any], kw: Mapping[str, Any],
                    group: np.ndarray, time: np.ndarray
                    ) -> tuple[np.ndarray, int, float, list[Any]]:
    """Placebo ATT(g,t): each control cluster in turn given the treated cohort, on the
    control clusters' data (Conley & Taber 2011; see ``laborai.did._placebo``). Returns the
    (J, K) placebos, J, ``sum_g w_g^2`` and the control clusters that gave them."""
    cl = data[plan["cl_col"]].to_numpy()
    ctrl_rows = np.isin(cl, plan["controls"])
    base = data.loc[ctrl_rows]
    cl_c = cl[ctrl_rows]
    rows = []
    used: list[Any] = []
    for j in plan["controls"]:
        d = base.copy()
        col = d[kw["gname"]].astype(object).where(cl_c != j, plan["g_star"])
        d[kw["gname"]] = col.astype(data[kw["gname"]].dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = att_gt(d, **kw, xformla=None, panel=True, cband=False, vcov="analytic",
                       size=None)
        if len(r.estimate) == len(group) and np.array_equal(r.group, group) \
                and np.array_equal(r.time, time) and np.all(np.isfinite(r.estimate)):
            rows.append(np.asarray(r.estimate, dtype=float))
            used.append(j)
    J = len(rows)
    if J < 3:
        raise EstimationError(f"att_gt: only {J} control cluster(s) give a placebo estimate of "
                              "every ATT(g,t); placebo inference needs at least 3.")
    w_col = kw.get("weights")
    units = data.loc[~plan["never"]]
    idn = kw["idname"]
    if w_col:
        per_unit = units.groupby(idn)[w_col].first()
        per_cl = per_unit.groupby(units.groupby(idn)[plan["cl_col"]].first()).sum()
    else:
        per_cl = units.groupby(plan["cl_col"])[idn].nunique()
    w = per_cl.to_numpy(dtype=float) / float(per_cl.sum())
    return np.array(rows), J, float(np.sum(w**2)), used


def _att_gt_size_correction(P: np.ndarray, J: int, w2: float, used: list[Any], *,
                            work: pd.DataFrame, prepared: Any, plan: Mapping[str, Any],
                            size: Any, weights: str | None, idname: str, tname: str,
                            time: np.ndarray, base_period: str, anticipation: int
                            ) -> tuple[np.ndarray, str | None]:
    """Ferman-Pinto rescaling of the placebo ATT(g,t) (``P``, rows: the clusters ``used``).

    Each ATT(g,t) of one cohort without covariates is a 2x2 DiD of weighted means, whose
    sampling-variance proxy ``v`` (:func:`laborai.did._placebo.did2x2_sampling_var`) is
    computed for the real estimate and for each placebo; per ATT(g,t) the squared placebos
    are modelled as ``a + b v`` and rescaled to the real estimate's proxy
    (:func:`laborai.did._placebo.rescale_columns`, :func:`~laborai.did._placebo.size_target`).
    Returns the placebos (unchanged without a size column) and the column used.
    """
    from laborai.did._core import _inv_size
    from laborai.did._placebo import (
        check_size_values,
        did2x2_sampling_var,
        rescale_columns,
        size_target,
    )
    from laborai.did.cs._compute import _gt_cells

    if size is None or J < 3:
        return P, None
    if isinstance(prepared, _Long):
        col = weights if size == "weights" else (None if size == "auto" else size)
        if col is not None:
            raise OptionError(
                f"att_gt: the placebo size correction (size={size!r}) needs a balanced panel; "
                "this one is unbalanced. Pass size=None (equal error variances) or balance "
                "the panel.")
        return P, None
    ids = np.asarray(prepared.ids)
    keep = work[idname].isin(ids).to_numpy()
    inv, col = _inv_size(work, size, weights, keep, "att_gt")
    if inv is None or col is None:
        return P, None
    check_size_values(pd.to_numeric(work[col], errors="coerce").to_numpy(dtype=float)[keep],
                      col, "att_gt")
    kept = work.loc[keep]
    periods = np.asarray(prepared.periods)
    S = (pd.DataFrame({"i": kept[idname].to_numpy(), "t": kept[tname].to_numpy(), "v": inv})
         .pivot(index="i", columns="t", values="v").reindex(index=ids, columns=periods)
         .to_numpy(dtype=float))
    g_unit = np.asarray(prepared.g)
    g_star = np.unique(g_unit[g_unit > 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cells = [(tc, pb) for _, tc, pb in _gt_cells(periods, g_star, base_period,
                                                     anticipation)]
    if len(cells) != P.shape[1] or not np.array_equal(periods[[c[0] for c in cells]], time):
        return P, None  # pragma: no cover - the cells of one cohort are att_gt's own
    unit_cl = (work.groupby(idname)[plan["cl_col"]].first().reindex(ids).to_numpy())
    never = g_unit == 0
    w = np.asarray(prepared.w, dtype=float)
    v_g = did2x2_sampling_var(S, w, g_unit == g_star[0], never, cells)
    v_j = np.array([did2x2_sampling_var(S, w, never & (unit_cl == j), never & (unit_cl != j),
                                        cells) for j in used])
    P, _, _ = rescale_columns(P, v_j, size_target(v_g, J, w2))
    return P, col


@contextlib.contextmanager
def _summarised_cell_warnings(placebo: bool = False,
                              period_values: np.ndarray | None = None) -> Iterator[None]:
    """Collect the per-cell small-sample warnings of one ``att_gt`` call into one warning each.

    One ``att_gt`` call on 12 categories x 54 months used to emit about 106 warnings, one per
    ATT(g,t); the user gets one line per kind, with the count and the first cells. With
    datetime periods the cells are named by their dates, as in ``tidy()``.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield

    def dated(msg: str) -> str:
        if period_values is None:
            return msg
        return re.sub(r"ATT\((\d+(?:\.\d+)?),\s*(\d+(?:\.\d+)?)\)",
                      lambda mm: (f"ATT({_period_text(float(mm.group(1)), period_values)},"
                                  f"{_period_text(float(mm.group(2)), period_values)})"), msg)

    small, nan, other = [], [], []
    for w in caught:
        msg = dated(str(w.message))
        if issubclass(w.category, SmallSampleWarning) and msg.endswith(
                "inference may be unreliable."):
            small.append(msg.replace("; inference may be unreliable.", ""))
        elif issubclass(w.category, SmallSampleWarning) and msg.endswith("not estimated (NaN)."):
            nan.append(msg.replace("; it is not estimated (NaN).", ""))
        else:
            other.append(w)
    for w in other:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if nan:
        warnings.warn(f"att_gt: {len(nan)} ATT(g,t) cannot be estimated (NaN), e.g. "
                      + "; ".join(nan[:3]) + ".", SmallSampleWarning, stacklevel=4)
    if small:
        if placebo:
            warnings.warn(f"att_gt: {len(small)} ATT(g,t) rest on fewer than 5 treated or "
                          "comparison units, e.g. " + "; ".join(small[:3]) + "; their "
                          "standard errors come from placebo inference over the control "
                          "clusters.", SmallSampleWarning, stacklevel=4)
            return
        warnings.warn(f"att_gt: {len(small)} ATT(g,t) rest on fewer than 5 treated or "
                      "comparison units, e.g. " + "; ".join(small[:3]) + ". Their analytic "
                      "standard errors are too small there (measured size on the simulated "
                      "marketplace: docs/validation.md); for one adoption date use "
                      "la.did.event_study or la.did.twfe, whose default placebo inference holds "
                      "its size.", SmallSampleWarning, stacklevel=4)


def att_gt(
    data: pd.DataFrame,
    *,
    yname: str,
    tname: str,
    idname: str | None = None,
    gname: str,
    xformla: str | None = None,
    panel: bool = True,
    allow_unbalanced_panel: bool = False,
    control_group: ControlGroup = "never_treated",
    est_method: EstMethod = "dr",
    base_period: BasePeriod = "varying",
    anticipation: int = 0,
    weights: str | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
    vcov: GtVcov = "auto",
    cband: bool = False,
    n_boot: int = 999,
    seed: int | None = 0,
    size: str | None = "auto",
) -> ATTgtResult:
    """Group-time average treatment effects of Callaway & Sant'Anna (2021).

    Parameters
    ----------
    data : pandas.DataFrame
        Panel in long format, one row per unit and period (balanced unless
        ``allow_unbalanced_panel=True``), or repeated cross sections (``panel=False``).
    yname : str
        Outcome column.
    tname : str
        Period column: numbers (need not be equally spaced) or datetimes (period starts, e.g.
        ``period`` of :func:`laborai.build_panel`). Datetime periods are mapped to their
        positions on the sorted grid of distinct periods; results report dates (``tidy()``:
        ``ATT(2022-12,2023-01)``, ``group``/``time`` as dates) and count event time in periods
        of the grid. pandas ``Period`` values are refused (convert with
        ``.dt.to_timestamp()``).
    idname : str, optional
        Unit identifier column; required when ``panel=True``. With ``panel=False`` it may be
        omitted; if given it must be unique across rows.
    gname : str
        First period in which the unit is treated; 0 (or inf) for never-treated units. Must be
        constant within unit (treatment is absorbing). With datetime periods: dates (NaT =
        never treated; :func:`laborai.exposure.cohorts` makes them from event dates; a date
        between period starts counts from the first period starting on or after it, the rule
        of ``docs/estimators/timing.md``) or integer 0-based positions on the sorted period
        grid, like ``build_panel``'s ``t`` (0, NaN or inf = never treated).
    xformla : str, optional
        Covariates as a one-sided formula, e.g. ``"~ lpop"`` or ``"~ x1 + C(region)"``
        (parsed with formulaic). An intercept is always included. With the panel estimators
        covariate values are taken from the base period of each comparison (the earlier of its
        two periods); with the repeated-cross-section estimators each observation's own values
        are used.
    panel : bool, default True
        Whether ``data`` is a panel (units followed over time, linked by ``idname``). With
        ``False`` every row is an independent draw (repeated cross sections) and the
        repeated-cross-section estimators of Sant'Anna & Zhao (2020) are used.
    allow_unbalanced_panel : bool, default False
        What to do when some units are not observed in every period. ``False``: raise
        :class:`~laborai.errors.DataValidationError` (units are never dropped silently; R's
        ``did`` instead drops them). ``True``: keep every observation and use the
        repeated-cross-section estimators, with influence functions summed within units so
        that standard errors, bootstrap draws and aggregations are clustered on the unit (as
        R's ``did`` with ``allow_unbalanced_panel=TRUE``). On a balanced panel ``True`` changes
        nothing: the panel estimators are used.
    control_group : {"never_treated", "not_yet_treated"}, default "never_treated"
        Comparison units: never treated, or never treated plus those not yet treated in both
        periods of the comparison (more precisely, not treated by the later period plus
        ``anticipation``).
    est_method : {"dr", "ipw", "reg"}, default "dr"
        2x2 estimator: doubly robust (Sant'Anna & Zhao 2020), normalised inverse probability
        weighting (Abadie 2005), or outcome regression (Heckman, Ichimura & Todd 1997).
    base_period : {"varying", "universal"}, default "varying"
        ``"varying"``: pre-treatment ATT(g,t) compare period ``t`` with ``t-1`` (post-treatment
        ones with ``g - 1 - anticipation``); ``"universal"``: every ATT(g,t) compares with
        ``g - 1 - anticipation`` and ATT(g, g-1-anticipation) is reported as 0.
    anticipation : int, default 0
        Number of periods before ``g`` in which units may already react to the treatment.
    weights : str, optional
        Column of time-invariant sampling weights.
    cluster : str, optional
        Column of a time-invariant cluster identifier coarser than the unit. Analytic standard
        errors then sum influence functions within clusters, ``se = sqrt(sum_c S_c^2) / n``, and
        bootstrap multipliers are drawn per cluster. (R's ``did`` always clusters by unit and
        uses ``clustervars`` only in the bootstrap; without ``cluster`` laborai's numbers are
        R's.)
    alpha : float, default 0.05
        One minus the confidence level.
    vcov : {"auto", "analytic", "bootstrap", "placebo"}, default "auto"
        The inference. ``"analytic"``: influence-function standard errors (R's ``did`` with
        ``bstrap=FALSE``); ``"bootstrap"``: the multiplier bootstrap (Mammen weights, drawn per
        cluster; R's ``bstrap=TRUE``); ``"placebo"``: placebo inference over the control
        clusters (Conley & Taber 2011; one treated cohort, never-treated comparisons, no
        covariates, panel data, at least 3 control clusters, every unit of a treated cluster
        treated; an ``OptionError`` says which condition fails). ``"auto"``: ``"placebo"`` when
        it applies with fewer than 50 clusters and no more treated than control clusters,
        else ``"analytic"``. The resolved value is recorded in ``settings["vcov"]`` (and
        ``settings["inference"]``), the requested one in ``settings["vcov_requested"]``.
    cband : bool, default False
        Simultaneous (sup-t) confidence band over all ATT(g,t); needs ``vcov="bootstrap"`` or
        ``vcov="placebo"``.
    n_boot : int, default 999
        Bootstrap draws.
    seed : int or None, default 0
        Seed of ``numpy.random.default_rng`` for the bootstrap; ``None`` draws fresh entropy.
        The seed used is recorded in ``result.seed``, ``settings["seed"]`` and the
        provenance, so identical calls give identical results.
    size : str or None, default "auto"
        Cell-size column of the placebo inference's heteroskedasticity correction (Ferman &
        Pinto 2019), with the meaning and default of :func:`laborai.did.event_study`'s:
        ``"auto"`` uses ``weights`` if given, else ``n_posts`` when the data have it;
        ``"weights"`` the ``weights`` column (none without weights); a column name that
        column; ``None`` equal error variances (the plain Conley-Taber placebos). Each
        ATT(g,t)'s placebo estimates are rescaled to the treated cohort's sampling variance
        (see Notes; the aggregations and the pre-test use the rescaled placebos); sizes below
        1 count as 1. Used only under placebo inference on a balanced panel (with an
        unbalanced panel ``"auto"`` applies no correction and a named column is refused); the
        column used is recorded in ``settings["size"]`` (None when no correction ran).

    Returns
    -------
    ATTgtResult
        With :meth:`~ATTgtResult.tidy`, :meth:`~ATTgtResult.aggregate`,
        :meth:`~ATTgtResult.pretest`, :meth:`~ATTgtResult.plot`, ``summary()``, ``to_latex()``,
        ``to_markdown()``.

    Raises
    ------
    OptionError
        An option outside its allowed values (the message lists them).
    DataValidationError
        Missing columns, missing values, duplicate unit-periods, an unbalanced panel (without
        ``allow_unbalanced_panel=True``), a repeated ``idname`` with ``panel=False``, or a
        ``gname``/``weights``/``cluster`` that varies within unit.
    EstimationError
        No never-treated units with ``control_group="never_treated"``, nothing to estimate, or
        singular covariates.

    Warns
    -----
    DroppedUnitsWarning
        Units treated in the first period are dropped (they have no pre-treatment period);
        units first treated after the last period are recoded as never treated.
    SmallSampleWarning
        A cohort or comparison group with fewer than 5 units.

    Notes
    -----
    The estimand is the group-time average treatment effect

    .. math:: ATT(g,t) = E[Y_t(g) - Y_t(0) \\mid G = g],

    identified under no anticipation (beyond ``anticipation`` periods), parallel trends
    conditional on the covariates for the chosen comparison group, and overlap (propensity
    scores bounded away from one). For ``t >= g`` it equals

    .. math:: E[Y_t - Y_{g-1} | G=g] - E[Y_t - Y_{g-1} | C]

    adjusted for covariates by the chosen 2x2 estimator, with ``C`` the comparison group.
    Each ATT(g,t) uses only the units of cohort ``g`` and of the comparison group; its
    influence function is scaled by ``n / n_gt`` so that all ATT(g,t) share the unit-level
    sample and their joint covariance is ``inf' inf / n^2``.

    Unbalanced panels (``allow_unbalanced_panel=True``) and repeated cross sections
    (``panel=False``) use the repeated-cross-section 2x2 estimators (Sant'Anna & Zhao 2020,
    section 3.2): each ATT(g,t) compares the changes in (covariate-adjusted) mean outcomes
    of cohort ``g`` and the comparison group between the two periods, using every
    observation of those periods. ``"dr"`` is the locally efficient doubly robust estimator,
    ``"ipw"`` normalised IPW, ``"reg"`` outcome regression. The observation-level influence
    function is summed within units (rows for repeated cross sections) and rescaled by
    ``n / m_gt`` (``m_gt`` observations in the 2x2), so standard errors are clustered on the
    unit. The identifying assumption is then parallel trends of the cohort means, with units
    missing at random with respect to the outcome trends; on a balanced panel without
    covariates the point estimates equal the panel ones.

    **Placebo inference and the cell-size correction.** Under placebo inference each of the
    ``J`` control clusters in turn is given the treated cohort on the never-treated data; the
    placebo ATT(g,t) ``p_j`` give ``V = (J - 1) / J^2 (sum_g w_g^2 + 1 / J) sum_j p_j p_j'``
    with a t(J - 1) reference (Conley & Taber 2011), and each aggregation applies itself to
    every placebo vector. With ``size``, every ATT(g,t) -- a 2x2 DiD of weighted means,
    ``sum_T w_i (y_it - y_ib) / W_T - sum_C w_i (y_it - y_ib) / W_C`` -- has the
    sampling-variance proxy ``v = sum_T (w_i / W_T)^2 (1/s_it + 1/s_ib) + sum_C (w_i /
    W_C)^2 (1/s_it + 1/s_ib)``, computed for the real estimate (``v_g``) and for every
    placebo (``v_j``); per ATT(g,t) the squared placebos are modelled as ``a + b v_j`` (a,
    b >= 0, iterated weighted least squares) and each placebo is multiplied by ``sqrt((a +
    b v*) / (a + b v_j))``, ``v* = v_g / ((J - 1) / J (sum_g w_g^2 + 1 / J))``, before the
    formula above (Ferman & Pinto 2019; the correction of :func:`laborai.did.event_study`).

    References
    ----------
    Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
    periods. Journal of Econometrics 225(2), 200-230.

    Sant'Anna, P. H. C. and Zhao, J. (2020). Doubly robust difference-in-differences
    estimators. Journal of Econometrics 219(1), 101-122.

    Conley, T. G. and Taber, C. R. (2011). Inference with "difference in differences" with a
    small number of policy changes. Review of Economics and Statistics 93(1), 113-125.

    Ferman, B. and Pinto, C. (2019). Inference in differences-in-differences with few treated
    groups and heteroskedasticity. Review of Economics and Statistics 101(3), 452-467.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import laborai as la
    >>> rng = np.random.default_rng(0)
    >>> units = pd.DataFrame({"id": range(300), "g": rng.choice([0, 3, 4], 300)})
    >>> df = units.merge(pd.DataFrame({"t": [1, 2, 3, 4]}), how="cross")
    >>> df["y"] = rng.normal(size=len(df)) + ((df.g > 0) & (df.t >= df.g))
    >>> res = la.did.att_gt(df, yname="y", tname="t", idname="id", gname="g")
    >>> res.aggregate("dynamic").tidy()[["term", "estimate"]].shape
    (5, 2)
    """
    check_option("control_group", control_group, _CONTROL_GROUPS)
    check_option("est_method", est_method, _EST_METHODS)
    check_option("base_period", base_period, _BASE_PERIODS)
    if (
        not isinstance(anticipation, (int, np.integer))
        or isinstance(anticipation, bool)
        or anticipation < 0
    ):
        raise OptionError(f"anticipation must be an integer >= 0; got {anticipation!r}.")
    seed = resolve_seed(seed)
    _check_inference(alpha, vcov, cband, n_boot, seed)
    if isinstance(data, pd.DataFrame):
        from laborai.did._placebo import check_size

        check_size(data, size, "att_gt")
    for name, val in (("panel", panel), ("allow_unbalanced_panel", allow_unbalanced_panel)):
        if not isinstance(val, (bool, np.bool_)):
            raise OptionError(f"{name} must be True or False; got {val!r}.")
    if panel and idname is None:
        raise OptionError(
            "idname is required with panel=True (it links a unit's rows across periods); got "
            "None. Pass the unit identifier column, or panel=False for repeated cross sections."
        )
    rhs = _formula_terms(xformla)
    work, period_values = _datetime_periods(data, tname=tname, gname=gname)
    prepared = _validate_and_pivot(
        work,
        yname=yname,
        tname=tname,
        idname=idname,
        gname=gname,
        rhs=rhs,
        weights=weights,
        cluster=cluster,
        anticipation=int(anticipation),
        control_group=control_group,
        panel=bool(panel),
        allow_unbalanced_panel=bool(allow_unbalanced_panel),
        period_values=period_values,
    )
    placebo_df: float | None = None
    placebo_P: np.ndarray | None = None
    size_col: str | None = None
    plan = _att_gt_placebo_plan(
        data, vcov=vcov, gname=gname, idname=idname, cluster=cluster,
        control_group=control_group, xformla=xformla, panel=bool(panel),
        n_cohorts=int(np.unique(prepared.g[prepared.g > 0]).size))
    with _single_thread_blas(), _summarised_cell_warnings(placebo=plan is not None,
                                                             period_values=period_values):
        if isinstance(prepared, _Long):
            group, time, att, inf = _compute_att_gt_long(
                prepared,
                control_group=control_group,
                est_method=est_method,
                base_period=base_period,
                anticipation=int(anticipation),
            )
            structure, n_obs = prepared.structure, len(prepared.y)
            n_incomplete = prepared.n_incomplete
        else:
            group, time, att, inf = _compute_att_gt(
                prepared,
                control_group=control_group,
                est_method=est_method,
                base_period=base_period,
                anticipation=int(anticipation),
            )
            structure, n_obs, n_incomplete = "balanced_panel", prepared.y.size, 0
    n = inf.shape[0]
    s = _cluster_sums(np.nan_to_num(inf), prepared.cluster)
    vcov_mat = s.T @ s / n**2
    se_an = _analytic_se(inf, prepared.cluster)
    se = se_an
    crit = float(stats.norm.ppf(1 - alpha / 2))
    if vcov == "bootstrap":
        ok = np.all(np.isfinite(inf), axis=0) & np.isfinite(se_an)
        se = np.full(len(att), np.nan)
        bse, bcrit = multiplier_bootstrap(
            inf[:, ok], n_boot=n_boot, rng=np.random.default_rng(seed), alpha=alpha,
            cluster=prepared.cluster,
        )
        se[ok] = bse
        if cband:
            crit = bcrit
    if plan is not None:
        kw = dict(yname=yname, tname=tname, idname=idname, gname=gname,
                  allow_unbalanced_panel=allow_unbalanced_panel, control_group=control_group,
                  est_method=est_method, base_period=base_period, anticipation=anticipation,
                  weights=weights, cluster=cluster, alpha=alpha)
        P, J, w2, used = _att_gt_placebo(data, plan, kw, group, time)
        from laborai.did._placebo import pooled_scale

        P, size_col = _att_gt_size_correction(
            P, J, w2, used, work=work, prepared=prepared, plan=plan, size=size,
            weights=weights, idname=str(idname), tname=tname, time=time,
            base_period=base_period, anticipation=int(anticipation))

        placebo_P = P * math.sqrt(pooled_scale(J, w2))
        vcov_mat = placebo_P.T @ placebo_P
        inference = "placebo"
        se = np.sqrt(np.diag(vcov_mat))
        placebo_df = float(J - 1)
        from laborai.did._core import _sup_t_crit_placebo

        crit = (_sup_t_crit_placebo(vcov_mat, alpha, J, 100_000, seed) if cband
                else float(stats.t.ppf(1 - alpha / 2, placebo_df)))
    else:
        inference = "bootstrap" if vcov == "bootstrap" else "analytic"
    settings = {
        "yname": yname,
        "tname": tname,
        "idname": idname,
        "gname": gname,
        "xformla": xformla,
        "panel": bool(panel),
        "allow_unbalanced_panel": bool(allow_unbalanced_panel),
        "control_group": control_group,
        "est_method": est_method,
        "base_period": base_period,
        "anticipation": int(anticipation),
        "weights": weights,
        "cluster": cluster,
        "alpha": float(alpha),
        "vcov": inference,
        "vcov_requested": vcov,
        "cband": bool(cband),
        "n_boot": int(n_boot),
        "seed": seed,
        "inference": inference,
        "placebo_df": placebo_df,
        "size": size_col,
    }
    prov = make_provenance("att_gt", data, settings, seed=seed)
    arrays: list[np.ndarray] = [group, time, att, se, se_an, inf, vcov_mat, prepared.g, prepared.w,
                                prepared.periods]
    if period_values is not None:
        arrays.append(period_values)
    for arr in arrays:
        arr.setflags(write=False)
    return ATTgtResult(
        group=group,
        time=time,
        estimate=att,
        std_error=se,
        analytic_std_error=se_an,
        influence=inf,
        vcov=vcov_mat,
        crit_val=crit,
        unit_group=prepared.g,
        unit_weight=prepared.w,
        unit_cluster=prepared.cluster,
        periods=prepared.periods,
        settings=MappingProxyType(settings),
        n_units=n,
        n_dropped=prepared.n_dropped_first,
        provenance=prov,
        data_structure=structure,
        n_obs=int(n_obs),
        n_incomplete_units=int(n_incomplete),
        period_values=period_values,
        seed=seed,
        placebo=placebo_P,
    )
