"""Difference-in-differences with a continuous treatment (Callaway, Goodman-Bacon & Sant'Anna).

:func:`cont_did` estimates, for units that receive a time-invariant dose ``D > 0`` from their
first treated period ``G`` on, the average effect of dose ``d`` on those who received it,
``ATT(d)``, and its derivative, the average causal response ``ACRT(d)``, together with their
averages over the dose distribution (``ATT^o`` and ``ACRT^o``) and event-study versions indexed
by the length of exposure. Staggered adoption is handled as in Callaway & Sant'Anna (2021):
every cohort ``g`` and period ``t`` gives a two-group, two-period comparison between the cohort
and units not (yet) treated; inside it the change in the outcome of the dosed units is
regressed on a B-spline in the dose and the mean change of the comparison units subtracted.
The (g, t) results are averaged with cohort-size weights (each cohort's post-treatment periods
weighted equally, the ``"group"`` aggregation of R's ``ptetools``).

The numbers reproduce R's ``contdid`` 0.1.1 (overall ATT and ACRT, event studies, dose curves
under ``convention="r"``). This module is an independent implementation from the paper; no
code of the R package (GPL) nor of the Python peers was used.
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
from scipy.interpolate import BSpline

from laborai._results import (
    Provenance,
    ResultMixin,
    make_provenance,
    wald_table,
    warn_few_clusters,
)
from laborai._validation import check_option, resolve_seed
from laborai.did.cs import DroppedUnitsWarning
from laborai.errors import DataValidationError, EstimationError, OptionError

__all__ = ["ContDIDResult", "cont_did"]

ControlGroup = Literal["never_treated", "not_yet_treated"]
Aggregation = Literal["dose", "eventstudy"]
Convention = Literal["consistent", "r"]
BasePeriod = Literal["varying", "universal"]
Vcov = Literal["auto", "analytic", "bootstrap"]
_VCOV: tuple[str, ...] = ("auto", "analytic", "bootstrap")

_CONTROL_GROUPS = ("never_treated", "not_yet_treated")
_AGGREGATIONS = ("dose", "eventstudy")
_CONVENTIONS = ("consistent", "r")
_BASE_PERIODS = ("varying", "universal")
_TINY_SE = math.sqrt(float(np.finfo(float).eps)) * 10


# ---------------------------------------------------------------------------------------------
# B-splines (the basis of splines2::bSpline with intercept=FALSE: first column dropped)
# ---------------------------------------------------------------------------------------------


def _bspline_basis(x: np.ndarray, knots: np.ndarray, lo: float, hi: float, degree: int,
                   deriv: int = 0) -> np.ndarray:
    """B-spline basis (or its derivative) at ``x`` without the first column.

    Boundary knots ``lo, hi`` are repeated ``degree + 1`` times around the interior ``knots``;
    outside ``[lo, hi]`` the end polynomials are continued.
    """
    t = np.r_[np.repeat(lo, degree + 1), np.asarray(knots, float), np.repeat(hi, degree + 1)]
    nb = len(t) - degree - 1
    spl = BSpline(t, np.eye(nb), degree, extrapolate=True)
    out = spl(np.asarray(x, float), nu=deriv) if deriv else spl(np.asarray(x, float))
    return np.asarray(out, float).reshape(len(x), nb)[:, 1:]


def _quantile7(x: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """R's ``quantile(type = 7)`` (linear interpolation), numpy's default method."""
    return np.quantile(np.asarray(x, float), probs, method="linear")


# ---------------------------------------------------------------------------------------------
# data preparation
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prep:
    periods: np.ndarray  # (T,) sorted period values
    y: np.ndarray  # (n, T)
    g: np.ndarray  # (n,) cohort as period position 1..T (0 = never treated)
    d: np.ndarray  # (n,) dose (0 for never treated)
    w: np.ndarray  # (n,) weights, mean one
    cluster: np.ndarray | None
    n_dropped: int
    n_recoded: int


def _first(values: Any, k: int = 5) -> str:
    vals = list(values)[:k]
    return ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in vals)


def _prepare(data: Any, *, yname: str, tname: str, idname: str, gname: str, dname: str,
             weights: str | None, cluster: str | None, anticipation: int) -> _Prep:
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(
            f"data must be a pandas DataFrame in long format (one row per unit and period); "
            f"got {type(data).__name__}."
        )
    named = {"yname": yname, "tname": tname, "idname": idname, "gname": gname, "dname": dname}
    if weights is not None:
        named["weights"] = weights
    if cluster is not None:
        named["cluster"] = cluster
    for arg, col in named.items():
        if not isinstance(col, str):
            raise OptionError(f"{arg} must be a column name (str); got {col!r}.")
        if col not in data.columns:
            raise DataValidationError(
                f"{arg}={col!r} is not a column of data; available columns: "
                f"{list(map(str, data.columns))[:20]}. Pass the name of an existing column."
            )
    for arg, col in named.items():
        miss = data[col].isna()
        if miss.any():
            raise DataValidationError(
                f"column {col!r} ({arg}) has {int(miss.sum())} missing values (rule: no missing "
                f"values; first offending rows: {list(data.index[miss][:5])}). Drop or impute "
                "these rows explicitly before calling cont_did() (never-treated units must have "
                f"{gname!r} = 0, not missing)."
            )
    for arg in ("yname", "tname", "gname", "dname") + (("weights",) if weights else ()):
        col = named[arg]
        if not pd.api.types.is_numeric_dtype(data[col]) or pd.api.types.is_bool_dtype(data[col]):
            raise DataValidationError(
                f"column {col!r} ({arg}) must be numeric; got dtype {data[col].dtype}. "
                "Convert it, e.g. with pd.to_numeric."
            )
    if len(data) == 0:
        raise DataValidationError("data has no rows.")
    for arg in ("yname", "tname", "gname", "dname") + (("weights",) if weights else ()):
        vals = data[named[arg]].to_numpy(dtype=float)
        bad = ~np.isfinite(vals)
        if arg == "gname":
            bad &= ~np.isposinf(vals)
        if bad.any():
            raise DataValidationError(
                f"column {named[arg]!r} ({arg}) has {int(bad.sum())} non-finite values "
                f"(first rows: {list(data.index[bad][:5])}); rule: finite numbers."
            )
    periods, t_codes = np.unique(data[tname].to_numpy(dtype=float), return_inverse=True)
    n_t = len(periods)
    if n_t < 2:
        raise DataValidationError(
            f"column {tname!r} (tname) has {n_t} distinct period(s); at least 2 are needed."
        )
    id_codes, ids = pd.factorize(data[idname], sort=True)
    n = len(ids)
    cell = id_codes.astype(np.int64) * n_t + t_codes
    counts = np.bincount(cell, minlength=n * n_t)
    if counts.max() > 1:
        dup = np.flatnonzero(counts > 1)
        raise DataValidationError(
            f"{len(dup)} ({idname}, {tname}) pair(s) appear more than once; rule: one row per "
            f"unit and period. First duplicates: "
            f"{_first((ids[c // n_t], periods[c % n_t]) for c in dup)}. "
            "Aggregate or deduplicate the data first."
        )
    per_unit = np.bincount(id_codes, minlength=n)
    if (per_unit < n_t).any():
        bad = np.flatnonzero(per_unit < n_t)
        raise DataValidationError(
            f"the panel is unbalanced: {len(bad)} of {n} units ({idname!r}) miss at least one of "
            f"the {n_t} periods (first: {_first(ids[bad])}); rule: a balanced panel (as R's "
            "contdid). Balance the panel first (keep units observed in every period)."
        )
    order = np.argsort(cell, kind="stable")

    def invariant(col: str, arg: str) -> np.ndarray:
        vals = data[col].to_numpy()[order].reshape(n, n_t)
        if pd.api.types.is_numeric_dtype(data[col]):
            same = np.all((vals == vals[:, :1]), axis=1)
        else:
            same = np.array([len(set(r)) == 1 for r in vals.tolist()])
        if not same.all():
            bad = np.flatnonzero(~same)
            raise DataValidationError(
                f"column {col!r} ({arg}) must be constant within each {idname!r}; it varies for "
                f"{len(bad)} unit(s) (first: {_first(ids[bad])}). "
                + ("Code the dose as its time-invariant value in every period, also before "
                   "treatment (the convention of R's contdid)." if arg == "dname" else
                   f"Fix the data so that each unit has a single value of {col!r}.")
            )
        return np.asarray(vals[:, 0])

    y = data[yname].to_numpy(dtype=float)[order].reshape(n, n_t)
    graw = invariant(gname, "gname").astype(float)
    dose = invariant(dname, "dname").astype(float)
    graw = np.where(np.isposinf(graw), 0.0, graw)
    late = graw > periods[-1]
    n_recoded = int(late.sum())
    if n_recoded:
        warnings.warn(
            f"{n_recoded} unit(s) have {gname!r} after the last period ({periods[-1]:g}); they "
            "are treated as never treated within the sample window.",
            DroppedUnitsWarning, stacklevel=3,
        )
        graw = np.where(late, 0.0, graw)
    treated = graw != 0
    pos = np.searchsorted(periods, graw)
    on_grid = np.zeros(n, bool)
    on_grid[treated] = (pos[treated] < n_t) & (periods[np.minimum(pos[treated], n_t - 1)]
                                                == graw[treated])
    bad = treated & ~on_grid
    if bad.any():
        raise DataValidationError(
            f"column {gname!r} (gname) must hold a period of {tname!r} (first treated period) or "
            f"0 for never-treated units; {int(bad.sum())} unit(s) hold other values (first: "
            f"{_first(graw[bad])})."
        )
    g = np.where(treated, pos + 1, 0).astype(np.int64)  # positions 1..T
    bad_d = treated & ~(dose > 0)
    if bad_d.any():
        raise DataValidationError(
            f"column {dname!r} (dname) must be positive for treated units ({gname!r} != 0); "
            f"{int(bad_d.sum())} treated unit(s) have a dose <= 0 (first ids: "
            f"{_first(ids[bad_d])}). Code untreated units with {gname!r} = 0."
        )
    dose = np.where(treated, dose, 0.0)
    w = np.ones(n)
    if weights is not None:
        w = invariant(weights, "weights").astype(float)
        if (w < 0).any() or w.sum() <= 0:
            raise DataValidationError(
                f"column {weights!r} (weights) must be non-negative with a positive sum; "
                f"{int((w < 0).sum())} unit(s) have negative weights."
            )
    cl = None
    if cluster is not None:
        cl = pd.factorize(invariant(cluster, "cluster"), sort=True)[0].astype(np.int64)
    first = treated & (g - 1 - anticipation < 1)
    n_first = int(first.sum())
    if n_first:
        warnings.warn(
            f"Dropped {n_first} unit(s) ({idname!r}) treated in the first period"
            + (f" plus {anticipation} anticipation period(s)" if anticipation else "")
            + f": their {gname!r} leaves no pre-treatment period to compare with.",
            DroppedUnitsWarning, stacklevel=3,
        )
        keep = ~first
        y, g, dose, w = y[keep], g[keep], dose[keep], w[keep]
        if cl is not None:
            cl = pd.factorize(cl[keep], sort=True)[0].astype(np.int64)
    if not (g > 0).any():
        raise EstimationError(f"no treated units ({gname!r} != 0) remain; nothing to estimate.")
    return _Prep(periods=periods, y=y, g=g, d=dose, w=w / w.mean(), cluster=cl,
                 n_dropped=n_first, n_recoded=n_recoded)


# ---------------------------------------------------------------------------------------------
# (g, t) cells
# ---------------------------------------------------------------------------------------------


@dataclass
class _Cell:
    g: int
    t: int
    post: bool
    att: float  # ATT^o(g,t) of the binarized comparison (or R's level ATT under "r")
    acrt: float  # ACRT^o(g,t)
    if_att: np.ndarray  # (n,)
    if_acrt: np.ndarray  # (n,)
    beta: np.ndarray  # (p,)
    psi: np.ndarray  # (n, p) influence function of beta (zero off the cohort)
    m0: float
    if_m0: np.ndarray  # (n,)
    n_treated: int
    n_control: int
    reference: bool = False


def _cell(p: _Prep, g: int, t: int, *, base: int, ctrl: np.ndarray, knots: np.ndarray,
          lo: float, hi: float, degree: int, level_r: bool, r_scale: bool) -> _Cell:
    n = len(p.g)
    tr = p.g == g
    dy = p.y[:, t - 1] - p.y[:, base - 1]
    w = p.w
    n1, n0 = int(tr.sum()), int(ctrl.sum())
    if n0 == 0:
        raise EstimationError(
            f"cohort {p.periods[g - 1]:g}, period {p.periods[t - 1]:g}: no comparison units. "
            "Use control_group='not_yet_treated', or restrict the periods."
        )
    wt, wc = w[tr], w[ctrl]
    W1, W0 = wt.sum(), wc.sum()
    m1 = float(wt @ dy[tr] / W1)
    m0 = float(wc @ dy[ctrl] / W0)
    if_m0 = np.zeros(n)
    if_m0[ctrl] = n * wc * (dy[ctrl] - m0) / W0
    dt = p.d[tr]
    k = 2 + degree + len(knots) - 1
    outside = bool(len(knots)) and (knots.min() <= lo or knots.max() >= hi)
    X = np.zeros((0, k)) if outside else np.column_stack(
        [np.ones(n1), _bspline_basis(dt, knots, lo, hi, degree)])
    A = (X * wt[:len(X), None]).T @ X
    if outside or n1 < k or np.linalg.matrix_rank(A) < k:
        raise EstimationError(
            f"cohort {p.periods[g - 1]:g}, period {p.periods[t - 1]:g}: the B-spline in the dose "
            f"has {k} coefficients but the {n1} dosed unit(s) identify fewer (too few units or "
            "a knot outside the cohort's dose range). Lower degree or num_knots."
        )
    Ainv = np.linalg.inv(A)
    beta = Ainv @ (X.T @ (wt * dy[tr]))
    e = dy[tr] - X @ beta
    psi = np.zeros((n, k))
    psi[tr] = n * (X * (wt * e)[:, None]) @ Ainv
    db = _bspline_basis(dt, knots, lo, hi, degree, deriv=1)
    slope_i = db @ beta[1:]
    acrt = float(wt @ slope_i / W1)
    a = np.r_[0.0, wt @ db / W1]
    if_acrt = psi @ a
    if_acrt[tr] += n * wt * (slope_i - acrt) / W1
    if r_scale:
        # R (contdid 0.1.1 / ptetools) rescales this treated-mean influence function by
        # n / (treated + comparison units) instead of n / treated: its ACRT standard errors are
        # smaller by the factor n_treated / n_subset. Reproduced only under convention="r".
        if_acrt *= n1 / (n1 + n0)
    if level_r:
        # R's event-study level ATT(g,t): the 2x2 doubly robust DiD with the dose itself as the
        # treatment indicator (dose-weighted treated mean, (1 - dose)-weighted comparison mean).
        s = tr | ctrl
        ds = np.where(tr, p.d, 0.0)
        u = dy - m0
        B = float(w[s] @ ds[s])
        E = float(w[s] @ (1.0 - ds[s]))
        th1 = float(w[s] @ (ds[s] * u[s]) / B)
        th2 = float(w[s] @ ((1.0 - ds[s]) * u[s]) / E)
        att = th1 - th2
        if_att = np.zeros(n)
        if_att[s] = n * w[s] * (ds[s] * (u[s] - th1) / B - (1.0 - ds[s]) * (u[s] - th2) / E)
    else:
        att = m1 - m0
        if_att = -if_m0
        if_att[tr] += n * wt * (dy[tr] - m1) / W1
    return _Cell(g=g, t=t, post=t >= g, att=att, acrt=acrt, if_att=if_att, if_acrt=if_acrt,
                 beta=beta, psi=psi, m0=m0, if_m0=if_m0, n_treated=n1, n_control=n0)


def _reference_cell(n: int, k: int, g: int, t: int) -> _Cell:
    z = np.zeros(n)
    return _Cell(g=g, t=t, post=False, att=0.0, acrt=0.0, if_att=z, if_acrt=z,
                 beta=np.zeros(k), psi=np.zeros((n, k)), m0=0.0, if_m0=z, n_treated=0,
                 n_control=0, reference=True)


# ---------------------------------------------------------------------------------------------
# aggregation
# ---------------------------------------------------------------------------------------------


def _share_if(p: _Prep, cohorts: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Cohort weights ``omega_g = W_g / sum_h W_h`` and their influence functions (n, H)."""
    n = len(p.g)
    Wg = np.array([p.w[p.g == g].sum() for g in cohorts])
    S = Wg.sum()
    om = Wg / S
    inh = np.isin(p.g, cohorts)
    wif = np.empty((n, len(cohorts)))
    for j, g in enumerate(cohorts):
        wif[:, j] = n * p.w * ((p.g == g) - om[j] * inh) / S
    return om, wif


def _cluster_sums(m: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    if cluster is None:
        return m
    out = np.zeros((int(cluster.max()) + 1, m.shape[1]))
    np.add.at(out, cluster, m)
    return out


def _se_from_sums(s: np.ndarray, n: int) -> np.ndarray:
    se = np.sqrt(np.sum(s**2, axis=0)) / n
    return np.where(se <= _TINY_SE, np.nan, se)


# ---------------------------------------------------------------------------------------------
# result
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class ContDIDResult(ResultMixin):
    """Continuous-treatment DiD from :func:`cont_did`.

    Attributes
    ----------
    overall_att, overall_acrt : float
        ``ATT^o`` (average effect of the received dose among the dosed) and ``ACRT^o`` (average
        causal response among the dosed), averaged over cohorts and post-treatment periods.
    overall_att_se, overall_acrt_se : float
        Their standard errors (influence function, or bootstrap with ``vcov="bootstrap"``).
    dose : ndarray
        Evaluation grid of the dose curves (empty for ``aggregation="eventstudy"``).
    att_d, att_d_se, acrt_d, acrt_d_se : ndarray
        ``ATT(d)`` and ``ACRT(d)`` on ``dose`` and their standard errors.
    att_d_crit, acrt_d_crit : float
        Critical values of the curves' bands (sup-t when ``cband=True``, else normal).
    event_time : ndarray
        Event times of the event study (empty for ``aggregation="dose"``).
    att_e, att_e_se, acrt_e, acrt_e_se : ndarray
        Event-study ``ATT(e)`` (binarized treatment) and ``ACRT(e)`` and their standard errors.
    att_e_crit, acrt_e_crit : float
        Critical values of the event-study bands.
    gt_group, gt_time : ndarray
        Cohort and period (values of the period column) of each (g, t) cell.
    gt_att, gt_acrt : ndarray
        ``ATT^o(g,t)`` and ``ACRT^o(g,t)`` of each cell.
    gt_n_treated : ndarray
        Dosed units of each cell.
    knots : ndarray
        Interior knots of the B-spline (quantiles of the dose among the dosed).
    influence : ndarray, shape (n_units, 2)
        Influence functions of ``ATT^o`` and ``ACRT^o`` (``var ~= sum(inf**2) / n**2``).
    n_units, n_treated, n_dropped : int
        Units used, dosed units among them, units dropped (treated in the first period).
    settings : mapping (read-only)
        The arguments of :func:`cont_did`.
    provenance : Provenance
        Settings, seed, package version and input hash.
    seed : int
        Seed of the multiplier bootstrap.
    """

    overall_att: float
    overall_att_se: float
    overall_acrt: float
    overall_acrt_se: float
    dose: np.ndarray
    att_d: np.ndarray
    att_d_se: np.ndarray
    acrt_d: np.ndarray
    acrt_d_se: np.ndarray
    att_d_crit: float
    acrt_d_crit: float
    event_time: np.ndarray
    att_e: np.ndarray
    att_e_se: np.ndarray
    acrt_e: np.ndarray
    acrt_e_se: np.ndarray
    att_e_crit: float
    acrt_e_crit: float
    gt_group: np.ndarray
    gt_time: np.ndarray
    gt_att: np.ndarray
    gt_acrt: np.ndarray
    gt_n_treated: np.ndarray
    knots: np.ndarray
    influence: np.ndarray
    n_units: int
    n_treated: int
    n_dropped: int
    settings: Mapping[str, Any]
    provenance: Provenance
    seed: int = 0

    _title = "Continuous-treatment DiD (Callaway, Goodman-Bacon & Sant'Anna 2024)"

    def __repr__(self) -> str:
        s = self.settings
        return (
            f"ContDIDResult(ATT^o={self.overall_att:.6g}, ACRT^o={self.overall_acrt:.6g}, "
            f"n_units={self.n_units}, aggregation={s['aggregation']!r}, "
            f"control_group={s['control_group']!r}, degree={s['degree']}, "
            f"num_knots={s['num_knots']}, convention={s['convention']!r})"
        )

    def _header(self) -> list[tuple[str, str]]:
        s = self.settings
        lines = [
            ("Outcome", str(s["yname"])),
            ("Dose", str(s["dname"])),
            ("Comparison group", str(s["control_group"])),
            ("Dose model", f"B-spline of degree {s['degree']} with {s['num_knots']} interior "
                           "knot(s)"),
            ("Curve convention", str(s["convention"])),
            ("Units", f"{self.n_units} ({self.n_treated} dosed)"),
            ("Standard errors", "multiplier bootstrap" if s["vcov"] == "bootstrap"
             else "analytic (influence function)"),
        ]
        if s["cband"]:
            if s["aggregation"] == "dose":
                lines.append(("Uniform band critical values",
                              f"ATT(d) {self.att_d_crit:.4f}, ACRT(d) {self.acrt_d_crit:.4f}"))
            else:
                lines.append(("Uniform band critical values",
                              f"ATT(e) {self.att_e_crit:.4f}, ACRT(e) {self.acrt_e_crit:.4f}"))
        return lines

    def tidy(self) -> pd.DataFrame:
        """Return the overall rows then the curve (or event-study) rows.

        Returns
        -------
        pandas.DataFrame
            ``term`` (``"ATT^o"``, ``"ACRT^o"``, then ``"ATT(d)"``/``"ACRT(d)"`` with the
            ``dose`` column, or ``"ATT(e)"``/``"ACRT(e)"`` with ``event_time``),
            ``estimate, std_error, statistic, p_value, conf_low, conf_high``, ``dose``,
            ``event_time``, and ``point_conf_low, point_conf_high`` (pointwise intervals;
            ``conf_low/conf_high`` are the uniform band when ``cband=True``).
        """
        alpha = float(self.settings["alpha"])
        z = float(stats.norm.ppf(1 - alpha / 2))
        parts: list[tuple[str, np.ndarray, np.ndarray, float, np.ndarray, np.ndarray]] = []
        nan1 = np.array([np.nan])
        parts.append(("ATT^o", np.array([self.overall_att]), np.array([self.overall_att_se]), z,
                      nan1, nan1))
        parts.append(("ACRT^o", np.array([self.overall_acrt]), np.array([self.overall_acrt_se]),
                      z, nan1, nan1))
        et = self.event_time.astype(float)
        if self.dose.size:
            nd = np.full(self.dose.size, np.nan)
            parts.append(("ATT(d)", self.att_d, self.att_d_se, self.att_d_crit, self.dose, nd))
            parts.append(("ACRT(d)", self.acrt_d, self.acrt_d_se, self.acrt_d_crit, self.dose, nd))
        if et.size:
            ne = np.full(et.size, np.nan)
            parts.append(("ATT(e)", self.att_e, self.att_e_se, self.att_e_crit, ne, et))
            parts.append(("ACRT(e)", self.acrt_e, self.acrt_e_se, self.acrt_e_crit, ne, et))
        frames = []
        for term, est, se, crit, dose, ev in parts:
            tab = wald_table(est, se, alpha=alpha, crit=crit)
            pw = wald_table(est, se, alpha=alpha)
            tab.insert(0, "term", term)
            tab["dose"] = dose
            tab["event_time"] = ev
            tab["point_conf_low"] = pw["conf_low"].to_numpy()
            tab["point_conf_high"] = pw["conf_high"].to_numpy()
            frames.append(tab)
        out = pd.concat(frames, ignore_index=True)
        out["event_time"] = pd.array(
            [None if np.isnan(v) else int(v) for v in out["event_time"]], dtype="Int64")
        return out

    def plot(self, kind: Literal["att", "acrt"] = "att", ax: Any = None) -> Any:
        """Plot ``ATT(d)``/``ACRT(d)`` against the dose (or the event study) with their bands.

        Parameters
        ----------
        kind : {"att", "acrt"}, default "att"
            Level (``ATT``) or slope (``ACRT``) curve.
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure is created when omitted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        check_option("kind", kind, ("att", "acrt"))
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        t = self.tidy()
        label = "ATT" if kind == "att" else "ACRT"
        if self.dose.size:
            r = t[t["term"] == f"{label}(d)"]
            x = r["dose"].to_numpy(float)
            ax.fill_between(x, r["conf_low"], r["conf_high"], alpha=0.2, color="C0",
                            label="uniform band" if self.settings["cband"] else "95% CI")
            ax.plot(x, r["point_conf_low"], color="C0", lw=0.6, ls="--")
            ax.plot(x, r["point_conf_high"], color="C0", lw=0.6, ls="--")
            ax.plot(x, r["estimate"], color="C0", lw=1.5, label=f"{label}(d)")
            ax.set_xlabel(str(self.settings["dname"]))
            ax.set_ylabel(f"{label}(d)")
        else:
            r = t[t["term"] == f"{label}(e)"]
            x = r["event_time"].to_numpy(float)
            est = r["estimate"].to_numpy(float)
            ax.errorbar(x, est, yerr=[est - r["conf_low"].to_numpy(float),
                                      r["conf_high"].to_numpy(float) - est],
                        fmt="o", capsize=2, label=f"{label}(e)")
            ax.set_xlabel("event time")
            ax.set_ylabel(f"{label}(e)")
        ax.axhline(0.0, color="0.5", lw=0.8)
        ax.legend(fontsize="small")
        return ax


# ---------------------------------------------------------------------------------------------
# estimator
# ---------------------------------------------------------------------------------------------


def _check_options(*, control_group: Any, aggregation: Any, convention: Any, base_period: Any,
                   degree: Any, num_knots: Any, anticipation: Any, alpha: Any, vcov: Any,
                   cband: Any, n_boot: Any, xformla: Any) -> None:
    check_option("control_group", control_group, _CONTROL_GROUPS)
    check_option("aggregation", aggregation, _AGGREGATIONS)
    check_option("convention", convention, _CONVENTIONS)
    check_option("base_period", base_period, _BASE_PERIODS)
    if xformla is not None and not (isinstance(xformla, str)
                                    and xformla.replace(" ", "") in ("~1", "1", "")):
        raise OptionError(
            f"cont_did does not support covariates (as R's contdid 0.1.1); got xformla="
            f"{xformla!r}. Use xformla=None (or '~ 1'); for covariates consider att_gt on a "
            "binarized treatment."
        )
    for name, val, lo in (("degree", degree, 1), ("num_knots", num_knots, 0),
                          ("anticipation", anticipation, 0), ("n_boot", n_boot, 2)):
        if not isinstance(val, (int, np.integer)) or isinstance(val, bool) or val < lo:
            raise OptionError(f"{name} must be an integer >= {lo}; got {val!r}.")
    if not isinstance(alpha, (float, int)) or isinstance(alpha, bool) or not 0 < alpha < 1:
        raise OptionError(f"alpha must be a number in (0, 1), e.g. 0.05; got {alpha!r}.")
    check_option("vcov", vcov, _VCOV)
    if not isinstance(cband, (bool, np.bool_)):
        raise OptionError(f"cband must be True or False; got {cband!r}.")


def _bootstrap(sums: np.ndarray, n: int, n_boot: int, seed: int) -> np.ndarray:
    """Multiplier-bootstrap draws ``V S / n`` (Mammen multipliers per row of ``sums``)."""
    rng = np.random.default_rng(seed)
    k1, k2 = 0.5 * (1.0 - math.sqrt(5.0)), 0.5 * (1.0 + math.sqrt(5.0))
    pk = k2 / math.sqrt(5.0)
    out = np.empty((n_boot, sums.shape[1]))
    chunk = 128
    for s in range(0, n_boot, chunk):
        b = min(chunk, n_boot - s)
        v = np.where(rng.random((b, sums.shape[0])) < pk, k1, k2)
        out[s:s + b] = v @ sums / n
    return out


def _boot_se(draws: np.ndarray) -> np.ndarray:
    q75, q25 = np.quantile(draws, [0.75, 0.25], axis=0, method="inverted_cdf")
    se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    return np.where(se <= _TINY_SE, np.nan, se)


def _sup_t(draws: np.ndarray, se: np.ndarray, alpha: float) -> float:
    ok = np.isfinite(se)
    if not ok.any():
        return float("nan")
    tmax = np.max(np.abs(draws[:, ok] / se[ok]), axis=1)
    crit = float(np.quantile(tmax, 1.0 - alpha, method="inverted_cdf"))
    return max(crit, float(stats.norm.ppf(1 - alpha / 2)))


def cont_did(
    data: pd.DataFrame,
    *,
    yname: str,
    tname: str,
    idname: str,
    gname: str,
    dname: str,
    xformla: str | None = None,
    control_group: ControlGroup = "not_yet_treated",
    aggregation: Aggregation = "dose",
    degree: int = 3,
    num_knots: int = 0,
    dvals: Sequence[float] | np.ndarray | None = None,
    convention: Convention = "consistent",
    base_period: BasePeriod = "varying",
    anticipation: int = 0,
    weights: str | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
    vcov: Vcov = "auto",
    cband: bool = True,
    n_boot: int = 999,
    seed: int | None = 0,
) -> ContDIDResult:
    """Difference-in-differences with a continuous treatment (Callaway, Goodman-Bacon &
    Sant'Anna 2024).

    Parameters
    ----------
    data : pandas.DataFrame
        Balanced panel in long format, one row per unit and period.
    yname, tname, idname : str
        Outcome, period (numeric) and unit columns.
    gname : str
        First treated period of the unit (a value of ``tname``); 0 (or inf) for never-treated
        units. Constant within unit.
    dname : str
        Dose: time-invariant, coded with its value in every period (also before treatment),
        positive for treated units; ignored for never-treated units.
    xformla : None
        Covariates are not supported (as in R's ``contdid`` 0.1.1); anything but ``None`` or
        ``"~ 1"`` raises :class:`~laborai.errors.OptionError`.
    control_group : {"not_yet_treated", "never_treated"}, default "not_yet_treated"
        Comparison units of each (g, t): never treated, or also those first treated after
        ``t + anticipation``. (R's default; note that R's ``contdid`` 0.1.1 ignores its
        ``control_group`` argument and always uses not-yet-treated units.)
    aggregation : {"dose", "eventstudy"}, default "dose"
        ``"dose"``: ``ATT(d)`` and ``ACRT(d)`` on the dose grid, averaged over cohorts and
        post-treatment periods. ``"eventstudy"``: ``ATT(e)`` and ``ACRT(e)`` by length of
        exposure ``e = t - g`` (pre-treatment ``e < 0`` are placebo comparisons). Both report
        ``ATT^o`` and ``ACRT^o``. (R's ``target_parameter`` is not needed: level and slope
        versions are always both returned.)
    degree : int, default 3
        Degree of the B-spline in the dose (1 = linear, 3 = cubic).
    num_knots : int, default 0
        Interior knots, at the quantiles ``k / (num_knots + 1)`` of the dose among the dosed
        (0: a global polynomial of ``degree``).
    dvals : sequence of float, optional
        Dose grid of the curves; default R's ``quantile(D[D > 0], seq(.10, .99, .01))``
        (type 7, 90 points) over the dosed units.
    convention : {"consistent", "r"}, default "consistent"
        How the curves are evaluated. ``"consistent"``: the fitted spline itself (same basis as
        in the fit), and the event-study ``ATT(e)`` of the binarized treatment (treated mean
        change minus comparison mean change), the estimands of the paper. ``"r"``: R's
        reported numbers: ``ATT(d)``/``ACRT(d)`` evaluate the fitted coefficients on a
        B-spline basis whose boundary knots are ``range(dvals)`` instead of the range of the
        doses used in the fit, and the event-study level ``ATT(g,t)`` is R's doubly robust 2x2
        estimate with the dose used as the treatment indicator (dose-weighted); the
        event-study ``ATT^o`` then averages those. ``ATT^o``, ``ACRT^o`` and ``ACRT(e)`` are the
        same under both.
    base_period : {"varying", "universal"}, default "varying"
        Base period of pre-treatment (placebo) cells of the event study (post-treatment cells
        always compare with ``g - 1 - anticipation``).
    anticipation : int, default 0
        Periods before ``g`` in which units may already react.
    weights : str, optional
        Column of time-invariant sampling weights.
    cluster : str, optional
        Column of a time-invariant cluster, coarser than the unit: influence functions are
        summed within clusters and bootstrap multipliers drawn per cluster.
    alpha : float, default 0.05
        One minus the confidence level.
    vcov : {"auto", "analytic", "bootstrap"}, default "auto"
        The standard errors: analytic influence-function ones (``"analytic"``, what
        ``"auto"`` resolves to) or the multiplier bootstrap (``"bootstrap"``, R ``contdid``'s
        default). The resolved value is recorded in ``settings["vcov"]``, the requested one
        in ``settings["vcov_requested"]``.
    cband : bool, default True
        Uniform (sup-t) bands for the curves and the event study, from the multiplier
        bootstrap of the influence functions (t-statistics formed with the standard errors in
        use, analytic or bootstrap).
    n_boot : int, default 999
        Bootstrap draws.
    seed : int or None, default 0
        Seed of ``numpy.random.default_rng``; recorded in the result.

    Returns
    -------
    ContDIDResult

    Raises
    ------
    OptionError
        An option outside its allowed values, or covariates.
    DataValidationError
        Missing or non-numeric columns, missing values, duplicates, an unbalanced panel, a
        time-varying dose or cohort, a non-positive dose of a treated unit, or a ``gname`` that
        is not a period.
    EstimationError
        A (g, t) cell without comparison units, or with too few dosed units for the spline.

    Warns
    -----
    DroppedUnitsWarning
        Units treated in the first period are dropped; units first treated after the last
        period are recoded as never treated.

    Notes
    -----
    For cohort ``g`` and period ``t`` with base period ``b = g - 1 - anticipation``, let
    ``dY = Y_t - Y_b``. Among the dosed units of the cohort ``E[dY | D = d]`` is fitted by least
    squares on ``1`` and a B-spline in ``d``; with ``m_0`` the mean of ``dY`` among comparison
    units, ``ATT_gt(d) = E[dY | D = d] - m_0`` and ``ACRT_gt(d) = dE[dY | D = d]/dd``. Under
    parallel trends ``ATT_gt(d)`` identifies ``ATT(d | d)`` and, under strong parallel trends,
    ``ACRT_gt(d)`` the causal response at ``d`` (CGBS 2024, section 3). ``ATT^o_gt`` is the
    mean of ``ATT_gt(D)`` over the dosed (the binarized DiD) and ``ACRT^o_gt`` the mean of the
    derivative. Cells are averaged with weights ``P(G = g | G > 0) / #post(g)`` (cohort sizes,
    each cohort's post-treatment periods weighted equally); event times with weights
    ``P(G = g | cohort observed at e)``. Influence functions include the estimation of the
    spline, the comparison mean and the cohort weights; the multiplier bootstrap of these gives
    the sup-t critical values.

    References
    ----------
    Callaway, B., Goodman-Bacon, A. and Sant'Anna, P. H. C. (2024). Difference-in-differences
    with a continuous treatment. NBER Working Paper 32117 / arXiv:2107.02637.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import laborai as la
    >>> rng = np.random.default_rng(1)
    >>> n = 400
    >>> g = rng.choice([0, 3], n)
    >>> d = np.where(g > 0, rng.uniform(0.1, 1.0, n), 0.0)
    >>> rows = [(i, t, g[i], d[i], 0.5 * t + (t >= 3) * g[i] / 3 * 2 * d[i] + rng.normal(0, .1))
    ...         for i in range(n) for t in range(1, 5)]
    >>> df = pd.DataFrame(rows, columns=["id", "t", "g", "d", "y"])
    >>> res = cont_did(df, yname="y", tname="t", idname="id", gname="g", dname="d",
    ...                degree=1, cband=False)
    >>> round(res.overall_acrt, 1)
    2.0
    """
    _check_options(control_group=control_group, aggregation=aggregation, convention=convention,
                   base_period=base_period, degree=degree, num_knots=num_knots,
                   anticipation=anticipation, alpha=alpha, vcov=vcov, cband=cband,
                   n_boot=n_boot, xformla=xformla)
    seed_used = resolve_seed(seed)
    degree, num_knots, anticipation = int(degree), int(num_knots), int(anticipation)
    p = _prepare(data, yname=yname, tname=tname, idname=idname, gname=gname, dname=dname,
                 weights=weights, cluster=cluster, anticipation=anticipation)
    n = len(p.g)
    n_t = len(p.periods)
    dosed = p.d[p.g > 0]
    knots = (_quantile7(dosed, np.arange(1, num_knots + 1) / (num_knots + 1))
             if num_knots else np.zeros(0))
    if dvals is None:
        grid = _quantile7(dosed, np.arange(10, 100) / 100.0)
    else:
        grid = np.asarray(dvals, dtype=float).ravel()
        if grid.size == 0 or not np.all(np.isfinite(grid)):
            raise OptionError(f"dvals must be a non-empty sequence of finite doses; got {dvals!r}.")
    cohorts = [int(c) for c in np.unique(p.g[p.g > 0])]
    k = 1 + degree + num_knots
    level_r = convention == "r" and aggregation == "eventstudy"

    cells: list[_Cell] = []
    for t in range(2, n_t + 1):  # positions; the first period is only a base period
        for g in cohorts:
            is_post = t >= g - anticipation
            if aggregation == "dose" and t < g:
                continue
            base = g - 1 - anticipation if (is_post or base_period == "universal") else t - 1
            if t == base:
                cells.append(_reference_cell(n, k, g, t))
                continue
            if control_group == "never_treated":
                ctrl = p.g == 0
            else:
                ctrl = (p.g == 0) | (p.g > max(t, base) + anticipation)
            tr = p.g == g
            dg = p.d[tr]
            lo, hi = float(dg.min()), float(dg.max())
            cells.append(_cell(p, g, t, base=base, ctrl=ctrl & ~tr, knots=knots, lo=lo, hi=hi,
                               degree=degree, level_r=level_r, r_scale=convention == "r"))

    # ---- overall ATT^o, ACRT^o: cohort-size weights, each cohort's post periods equally
    om, wif = _share_if(p, cohorts)
    post = [c for c in cells if c.post and not c.reference]
    if not post:
        raise EstimationError("no post-treatment (g, t) cell can be estimated.")
    theta_att = np.zeros(len(cohorts))
    theta_acrt = np.zeros(len(cohorts))
    if_att = np.zeros(n)
    if_acrt = np.zeros(n)
    wcell: dict[tuple[int, int], float] = {}
    for j, g in enumerate(cohorts):
        cg = [c for c in post if c.g == g]
        theta_att[j] = np.mean([c.att for c in cg])
        theta_acrt[j] = np.mean([c.acrt for c in cg])
        for c in cg:
            wcell[(c.g, c.t)] = om[j] / len(cg)
            if_att += wcell[(c.g, c.t)] * c.if_att
            if_acrt += wcell[(c.g, c.t)] * c.if_acrt
    overall_att = float(om @ theta_att)
    overall_acrt = float(om @ theta_acrt)
    if_att += wif @ theta_att
    if not (convention == "r" and aggregation == "dose"):  # R leaves out the weights' part
        if_acrt += wif @ theta_acrt
    inf_overall = np.column_stack([if_att, if_acrt])

    boot_blocks: list[np.ndarray] = [inf_overall]
    # ---- dose curves: low-rank influence functions  IF(d) = L M(d)
    dose = np.zeros(0)
    att_d = acrt_d = att_d_se_a = acrt_d_se_a = np.zeros(0)
    L = M_att = M_acrt = None
    if aggregation == "dose":
        dose = grid
        lo_all, hi_all = float(dosed.min()), float(dosed.max())
        # "r": R evaluates on a basis with boundary knots range(dvals); "consistent": the basis
        # on the range of all doses, in which every cell's fitted spline is re-expressed
        glo, ghi = ((float(grid.min()), float(grid.max())) if convention == "r"
                    else (lo_all, hi_all))
        Xg = np.column_stack([np.ones(len(grid)),
                              _bspline_basis(grid, knots, glo, ghi, degree)])
        Dg = np.column_stack([np.zeros(len(grid)),
                              _bspline_basis(grid, knots, glo, ghi, degree, deriv=1)])
        psi_agg = np.zeros((n, k))
        m0_agg = np.zeros(n)
        th_att = np.zeros((len(cohorts), len(grid)))
        th_acrt = np.zeros((len(cohorts), len(grid)))
        for j, g in enumerate(cohorts):
            cg = [c for c in post if c.g == g]
            for c in cg:
                if convention == "r":
                    beta, psi = c.beta, c.psi
                else:  # the same fitted spline written in the basis on the dosed range
                    beta, psi = _rebase(p, c, knots, lo_all, hi_all, degree)
                wc = wcell[(c.g, c.t)]
                psi_agg += wc * psi
                m0_agg += wc * c.if_m0
                th_att[j] += (Xg @ beta - c.m0) / len(cg)
                th_acrt[j] += (Dg @ beta) / len(cg)
        att_d = om @ th_att
        acrt_d = om @ th_acrt
        L = np.column_stack([psi_agg, m0_agg, wif])
        M_att = np.vstack([Xg.T, -np.ones((1, len(grid))), th_att])
        M_acrt = np.vstack([Dg.T, np.zeros((1, len(grid))), th_acrt])
        SL = _cluster_sums(L, p.cluster)
        G = SL.T @ SL
        att_d_se_a = _vec_se(M_att, G, n)
        acrt_d_se_a = _vec_se(M_acrt, G, n)

    # ---- event study
    ev = np.zeros(0, dtype=np.int64)
    att_e = acrt_e = np.zeros(0)
    if_e = np.zeros((n, 0))
    ref_e: list[bool] = []
    if aggregation == "eventstudy":
        ev = np.array(sorted({c.t - c.g for c in cells}), dtype=np.int64)
        att_e = np.zeros(len(ev))
        acrt_e = np.zeros(len(ev))
        if_e = np.zeros((n, 2 * len(ev)))
        for i, e in enumerate(ev):
            ce = [c for c in cells if c.t - c.g == e]
            ref_e.append(all(c.reference for c in ce))
            coh = [c.g for c in ce]
            ome, wife = _share_if(p, coh)
            a = np.array([c.att for c in ce])
            s = np.array([c.acrt for c in ce])
            att_e[i], acrt_e[i] = float(ome @ a), float(ome @ s)
            if_e[:, i] = sum(o * c.if_att for o, c in zip(ome, ce, strict=True)) + wife @ a
            if_e[:, len(ev) + i] = (sum(o * c.if_acrt for o, c in zip(ome, ce, strict=True))
                                    + wife @ s)
        boot_blocks.append(if_e)

    F = np.column_stack(boot_blocks)
    SF = _cluster_sums(F, p.cluster)
    se_F = _se_from_sums(SF, n)
    att_d_crit = acrt_d_crit = att_e_crit = acrt_e_crit = float(stats.norm.ppf(1 - alpha / 2))
    boot = vcov == "bootstrap"  # "auto" resolves to "analytic"
    if boot or cband:
        sums = SF if L is None else np.column_stack([SF, _cluster_sums(L, p.cluster)])
        draws = _bootstrap(sums, n, int(n_boot), seed_used)
        dF = draws[:, :F.shape[1]]
        if boot:
            se_F = _boot_se(dF)
        if L is not None and M_att is not None and M_acrt is not None:
            dL = draws[:, F.shape[1]:]
            datt, dacrt = dL @ M_att, dL @ M_acrt
            if boot:
                att_d_se_a, acrt_d_se_a = _boot_se(datt), _boot_se(dacrt)
            if cband:
                att_d_crit = _sup_t(datt, att_d_se_a, alpha)
                acrt_d_crit = _sup_t(dacrt, acrt_d_se_a, alpha)
        if cband and len(ev):
            ne = len(ev)
            att_e_crit = _sup_t(dF[:, 2:2 + ne], se_F[2:2 + ne], alpha)
            acrt_e_crit = _sup_t(dF[:, 2 + ne:], se_F[2 + ne:], alpha)
    ne = len(ev)
    att_e_se = se_F[2:2 + ne] if ne else np.zeros(0)
    acrt_e_se = se_F[2 + ne:] if ne else np.zeros(0)
    if ne:
        refs = np.array(ref_e)
        att_e_se = np.where(refs, np.nan, att_e_se)
        acrt_e_se = np.where(refs, np.nan, acrt_e_se)

    settings = {
        "yname": yname, "tname": tname, "idname": idname, "gname": gname, "dname": dname,
        "xformla": xformla, "control_group": control_group, "aggregation": aggregation,
        "degree": degree, "num_knots": num_knots,
        "dvals": None if dvals is None else tuple(float(v) for v in grid),
        "convention": convention, "base_period": base_period, "anticipation": anticipation,
        "weights": weights, "cluster": cluster, "alpha": float(alpha),
        "vcov": "bootstrap" if boot else "analytic", "vcov_requested": vcov,
        "cband": bool(cband), "n_boot": int(n_boot), "seed": seed_used,
    }
    est_cells = [c for c in cells if not c.reference]
    warn_few_clusters("cont_did", p.cluster, p.g > 0, cluster)
    return ContDIDResult(
        overall_att=overall_att,
        overall_att_se=float(se_F[0]),
        overall_acrt=overall_acrt,
        overall_acrt_se=float(se_F[1]),
        dose=np.asarray(dose, float),
        att_d=np.asarray(att_d, float),
        att_d_se=np.asarray(att_d_se_a, float),
        acrt_d=np.asarray(acrt_d, float),
        acrt_d_se=np.asarray(acrt_d_se_a, float),
        att_d_crit=float(att_d_crit),
        acrt_d_crit=float(acrt_d_crit),
        event_time=ev,
        att_e=np.asarray(att_e, float),
        att_e_se=np.asarray(att_e_se, float),
        acrt_e=np.asarray(acrt_e, float),
        acrt_e_se=np.asarray(acrt_e_se, float),
        att_e_crit=float(att_e_crit),
        acrt_e_crit=float(acrt_e_crit),
        gt_group=np.array([p.periods[c.g - 1] for c in est_cells], float),
        gt_time=np.array([p.periods[c.t - 1] for c in est_cells], float),
        gt_att=np.array([c.att for c in est_cells], float),
        gt_acrt=np.array([c.acrt for c in est_cells], float),
        gt_n_treated=np.array([c.n_treated for c in est_cells], np.int64),
        knots=np.asarray(knots, float),
        influence=inf_overall,
        n_units=n,
        n_treated=int((p.g > 0).sum()),
        n_dropped=p.n_dropped,
        settings=settings,
        provenance=make_provenance("cont_did", data, settings, seed=seed_used),
        seed=seed_used,
    )


def _vec_se(M: np.ndarray, G: np.ndarray, n: int) -> np.ndarray:
    """``sqrt(diag(M' G M)) / n`` with ``G = S'S`` the cross-product of cluster sums."""
    v = np.einsum("ik,ij,jk->k", M, G, M)
    se = np.sqrt(np.maximum(v, 0.0)) / n
    return np.where(se <= _TINY_SE, np.nan, se)


def _rebase(p: _Prep, c: _Cell, knots: np.ndarray, lo: float, hi: float,
            degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (and their influence functions) of cell ``c``'s fitted spline in the basis
    with boundary knots ``lo, hi``: the same function, so that all cells share one grid basis."""
    dt = p.d[p.g == c.g]
    lo_c, hi_c = float(dt.min()), float(dt.max())
    if lo_c == lo and hi_c == hi:
        return c.beta, c.psi
    # both bases span the same spline space on the cohort's dose range: map exactly through
    # Greville-type collocation points inside that range
    k = len(c.beta)
    x = np.linspace(lo_c, hi_c, 4 * k + 7)
    Xc = np.column_stack([np.ones(len(x)), _bspline_basis(x, knots, lo_c, hi_c, degree)])
    Xn = np.column_stack([np.ones(len(x)), _bspline_basis(x, knots, lo, hi, degree)])
    T = np.linalg.lstsq(Xn, Xc, rcond=None)[0]  # Xc = Xn T
    return T @ c.beta, c.psi @ T.T
