"""Imputation DiD (Borusyak, Jaravel & Spiess 2024) and two-stage DiD (Gardner 2022).

Both estimators fit the untreated potential outcome on the untreated observations only
(``D_it = 0``: never-treated units and the not-yet-treated periods of eventually-treated units),
with unit and period fixed effects (or any other first-stage fixed effects and time-varying
covariates), and impute it for the treated observations:

- :func:`did_imputation` averages the imputed effects ``tau_it = Y_it - Yhat_it(0)`` over the
  treated observations with the weights of the estimand (overall ATT, or one event time ``h``),
  and estimates the conservative clustered variance of BJS Theorem 3, in which the treated
  observations' residuals are ``tau_it`` minus an auxiliary average of the effects in the same
  cohort x period cell (optionally leaving the unit's own cluster out, BJS Appendix A.9 / Stata
  ``leaveout``). Pre-trend leads are tested in a separate regression on the untreated
  observations, as in BJS Section 4.4.
- :func:`did2s` regresses the first-stage residuals ``Y_it - Yhat_it(0)`` on the second-stage
  design (a treatment dummy or event-time dummies) and corrects the clustered variance for the
  estimated first stage by stacking both stages as a GMM problem (Gardner 2022; Butts & Gardner
  2022).

Layout: validation and design building (pandas glue) -> ``_FirstStage`` (a pure NumPy/SciPy
kernel solving the untreated-sample fixed-effect normal equations by eliminating the first fixed
effect and pivoting out collinear columns) -> estimator-specific inference -> frozen results.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp
from scipy import stats

from laborai._results import Provenance, ResultMixin, make_provenance, pinv_wald, wald_table
from laborai._validation import check_frame_columns, check_option, check_unique_unit_period
from laborai.errors import (
    DataValidationError,
    EstimationError,
    LaborAIWarning,
    OptionError,
)

__all__ = [
    "ImputationResult",
    "NotImputableWarning",
    "TwoStageResult",
    "did2s",
    "did_imputation",
]

AvgEffectsBy = Literal["cohort_period", "cohort", "horizon"]
SecondStage = Literal["static", "event_study"]


class NotImputableWarning(LaborAIWarning):
    """Treated observations whose untreated outcome the first stage cannot impute were dropped.

    A treated observation is not imputable when one of its first-stage fixed-effect levels (e.g.
    its unit, for a unit treated in every period) has no untreated observation, or when its unit
    and period fall in different connected components of the untreated sample. The count is in
    the result's ``n_not_imputable``.
    """


# --------------------------------------------------------------------------------------------
# first-stage design and kernel
# --------------------------------------------------------------------------------------------

_FE_TERM = re.compile(r"^\s*([^\[\]\^]+(?:\^[^\[\]\^]+)*)\s*(?:\[\s*([^\[\]]+?)\s*\])?\s*$")


def _parse_fe(fe: Sequence[str] | None, idname: str, tname: str) -> tuple[tuple[tuple[str, ...],
                                                                                  str | None], ...]:
    """``["unit", "tier^month", "unit[t]"]`` -> ((("unit",), None), (("tier","month"), None),
    (("unit",), "t"))."""
    if fe is None:
        fe = [idname, tname]
    if isinstance(fe, str):
        fe = [fe]
    out = []
    for term in fe:
        if not isinstance(term, str):
            raise OptionError(f"fe must be a list of column names (e.g. ['unit', 'time', "
                              f"'tier^month', 'unit[time]']); got the item {term!r}.")
        m = _FE_TERM.match(term)
        if m is None:
            raise OptionError(f"fe term {term!r} is not understood; write a column 'a', an "
                              "interaction 'a^b', or level-specific slopes 'a[x]'.")
        cols = tuple(c.strip() for c in m.group(1).split("^"))
        out.append((cols, m.group(2)))
    return tuple(out)


def _factor(data: pd.DataFrame, cols: tuple[str, ...]) -> tuple[np.ndarray, int]:
    """Integer codes (sorted levels) of one column or of the combinations of several."""
    return _combine([pd.factorize(data[c], sort=True)[0] for c in cols])


def _combine(codes_list: Sequence[np.ndarray]) -> tuple[np.ndarray, int]:
    """Codes of the combinations of several integer code arrays (mixed radix, then dense)."""
    key = np.zeros(len(codes_list[0]), dtype=np.int64)
    for c in codes_list:
        c = np.asarray(c, dtype=np.int64)
        key = key * (int(c.max(initial=0)) + 1) + c
    if len(codes_list) == 1:  # factorize codes are already dense
        return key, int(key.max(initial=-1)) + 1
    uniq, inv = np.unique(key, return_inverse=True)
    return inv.astype(np.int64), int(uniq.size)


def _indicator(codes: np.ndarray, n_levels: int, values: np.ndarray | None = None) -> sp.csr_matrix:
    n = codes.size
    vals = np.ones(n) if values is None else values
    return sp.csr_matrix((vals, (np.arange(n), codes)), shape=(n, n_levels))


@dataclass
class _Design:
    """First-stage design on all rows: ``X1 = [A | B]`` (``A``: the first fixed effect's
    indicators, eliminated; ``B``: other fixed effects, slopes, covariates)."""

    a: np.ndarray  # (N,) codes of the first fixed effect (a constant when fe is empty)
    n_a: int
    B: sp.csr_matrix  # (N, q)
    b_names: tuple[str, ...]
    fe_codes: tuple[np.ndarray, ...]  # codes of every non-slope fixed-effect term (for checks)


def _build_design(data: pd.DataFrame, fe_terms: Sequence[tuple[tuple[str, ...], str | None]],
                  xmat: np.ndarray | None, xnames: Sequence[str]) -> _Design:
    n = len(data)
    first = next((i for i, (_, s) in enumerate(fe_terms) if s is None), None)
    if first is None:
        a, n_a = np.zeros(n, dtype=np.int64), 1
    else:
        a, n_a = _factor(data, fe_terms[first][0])
    blocks: list[sp.csr_matrix] = []
    names: list[str] = []
    fe_codes = [a] if first is not None else []
    for i, (cols, slope) in enumerate(fe_terms):
        if i == first:
            continue
        codes, k = _factor(data, cols)
        label = "^".join(cols)
        if slope is None:
            fe_codes.append(codes)
            blocks.append(_indicator(codes, k))
            names += [f"{label}::{j}" for j in range(k)]
        else:
            x = data[slope].to_numpy(dtype=float)
            blocks.append(_indicator(codes, k, x))
            names += [f"{label}[{slope}]::{j}" for j in range(k)]
    if xmat is not None and xmat.shape[1]:
        blocks.append(sp.csr_matrix(xmat))
        names += list(xnames)
    B = sp.hstack(blocks, format="csr") if blocks else sp.csr_matrix((n, 0))
    return _Design(a=a, n_a=n_a, B=B, b_names=tuple(names), fe_codes=tuple(fe_codes))


class _FirstStage:
    """Weighted least squares on the untreated rows with the first fixed effect eliminated.

    Solves ``(X10' W X10) theta = r`` by the Schur complement of the diagonal block of the first
    fixed effect; collinear columns of ``B`` (given the first fixed effect) are found by a
    pivoted QR of the scaled Schur complement and get a zero coefficient (a generalised
    inverse: fitted values and every estimable prediction are unique).
    """

    def __init__(self, design: _Design, untreated: np.ndarray, w: np.ndarray) -> None:
        self.d = design
        self.m0 = untreated
        self.idx0 = np.flatnonzero(untreated)
        self.w0 = w[untreated]
        self.a0 = design.a[untreated]
        self.B0 = design.B[self.idx0]
        self.D = np.bincount(self.a0, weights=self.w0, minlength=design.n_a)
        self.U = _indicator(design.a, design.n_a)  # all rows
        self.U0 = self.U[self.idx0]
        q = design.B.shape[1]
        self.q = q
        if q:
            B0w = sp.diags(self.w0) @ self.B0
            H = (self.B0.T @ B0w).toarray()
            G = (self.U0.T @ B0w).toarray()  # (n_a, q)
            Dsafe = np.where(self.D > 0, self.D, np.inf)
            S = H - G.T @ (G / Dsafe[:, None])
            S = (S + S.T) / 2.0
            self.G = G
            scale = np.sqrt(np.clip(np.diag(S), 0.0, None))
            ok = scale > 1e-12 * max(float(scale.max(initial=0.0)), 1e-300)
            keep = np.flatnonzero(ok)
            if keep.size:
                Ss = S[np.ix_(keep, keep)] / np.outer(scale[keep], scale[keep])
                _, R, piv = scipy.linalg.qr(Ss, pivoting=True, mode="economic")
                dr = np.abs(np.diag(R))
                rank = int(np.sum(dr > 1e-10 * dr[0])) if dr.size else 0
                keep = np.sort(keep[piv[:rank]])
            self.keep = keep
            Sk = S[np.ix_(keep, keep)]
            self.chol = scipy.linalg.cho_factor(Sk) if keep.size else None
        else:
            self.G = np.zeros((design.n_a, 0))
            self.keep = np.zeros(0, dtype=np.int64)
            self.chol = None
        self.rank_b = int(self.keep.size)

    def theta(self, r_a: np.ndarray, r_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Solve the normal equations for right-hand sides ``r_a`` (n_a, k) and ``r_b`` (q, k)."""
        Dsafe = np.where(self.D > 0, self.D, np.inf)
        tb = np.zeros((self.q, r_a.shape[1]))
        if self.chol is not None:
            rhs = r_b - self.G.T @ (r_a / Dsafe[:, None])
            tb[self.keep] = scipy.linalg.cho_solve(self.chol, rhs[self.keep])
        ta = (r_a - self.G @ tb) / Dsafe[:, None]
        return ta, tb

    def predict(self, ta: np.ndarray, tb: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        if rows is None:
            return ta[self.d.a] + (self.d.B @ tb if self.q else 0.0)
        return ta[self.d.a[rows]] + (self.d.B[rows] @ tb if self.q else 0.0)

    def fit_untreated(self, C0: np.ndarray) -> np.ndarray:
        """Fitted values on the untreated rows of regressing ``C0`` (N0, k) on the design."""
        wc = C0 * self.w0[:, None]
        r_a = self.U0.T @ wc
        r_b = self.B0.T @ wc if self.q else np.zeros((0, C0.shape[1]))
        ta, tb = self.theta(np.asarray(r_a), np.asarray(r_b))
        return ta[self.a0] + (self.B0 @ tb if self.q else 0.0)

    def coefficients(self, y0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        wy = (y0 * self.w0)[:, None]
        r_a = np.asarray(self.U0.T @ wy)
        r_b = np.asarray(self.B0.T @ wy) if self.q else np.zeros((0, 1))
        return self.theta(r_a, r_b)

    def project(self, C: np.ndarray) -> np.ndarray:
        """``W0 X10 (X10' W0 X10)^- X1' C`` on the untreated rows, for ``C`` (N, k) on all rows.

        With ``C`` the estimand weights of the treated rows this is minus BJS's imputation
        weights of the untreated rows; with ``C = W X2`` it is the first-stage correction of
        the two-stage GMM variance.
        """
        r_a = np.asarray(self.U.T @ C)
        r_b = np.asarray(self.d.B.T @ C) if self.q else np.zeros((0, C.shape[1]))
        ta, tb = self.theta(r_a, r_b)
        fitted = ta[self.a0] + (self.B0 @ tb if self.q else 0.0)
        return np.asarray(fitted) * self.w0[:, None]


def _components(u: np.ndarray, v: np.ndarray, nu: int, nv: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy.sparse.csgraph import connected_components

    g = sp.coo_matrix((np.ones(u.size), (u, nu + v)), shape=(nu + nv, nu + nv))
    _, lab = connected_components(g, directed=False)
    return lab[:nu], lab[nu:]


def _imputable(design: _Design, untreated: np.ndarray) -> np.ndarray:
    """Rows whose fixed-effect levels all occur among the untreated rows (and whose first two
    fixed effects are connected through them)."""
    ok = np.ones(untreated.size, dtype=bool)
    for codes in design.fe_codes:
        seen = np.zeros(int(codes.max()) + 1, dtype=bool)
        seen[codes[untreated]] = True
        ok &= seen[codes]
    if len(design.fe_codes) >= 2:
        c1, c2 = design.fe_codes[0], design.fe_codes[1]
        n1, n2 = int(c1.max()) + 1, int(c2.max()) + 1
        l1, l2 = _components(c1[untreated], c2[untreated], n1, n2)
        ok &= l1[c1] == l2[c2]
    return ok | untreated


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------


def _check_common(data: Any, *, yname: str, idname: str, tname: str, gname: str | None,
                  dname: str | None, weights: str | None, cluster: str | None,
                  fe_terms: Sequence[tuple[tuple[str, ...], str | None]], alpha: Any,
                  caller: str) -> None:
    roles = {"yname": yname, "idname": idname, "tname": tname}
    if gname is not None:
        roles["gname"] = gname
    if dname is not None:
        roles["dname"] = dname
    if weights is not None:
        roles["weights"] = weights
    if cluster is not None:
        roles["cluster"] = cluster
    for cols, slope in fe_terms:
        for c in cols:
            roles.setdefault(f"fe ({c})", c)
        if slope is not None:
            roles.setdefault(f"fe slope ({slope})", slope)
    check_frame_columns(data, roles, caller=caller, allow_missing=("gname",))
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise OptionError(f"alpha must be a number strictly between 0 and 1; got {alpha!r}.")
    for role, col in (("yname", yname), ("tname", tname)):
        if not pd.api.types.is_numeric_dtype(data[col]) or pd.api.types.is_bool_dtype(data[col]):
            raise DataValidationError(
                f"column {col!r} ({role}) must be numeric; got dtype {data[col].dtype}.")
        v = data[col].to_numpy(dtype=float)
        if not np.all(np.isfinite(v)):
            raise DataValidationError(f"column {col!r} ({role}) has "
                                      f"{int((~np.isfinite(v)).sum())} non-finite values.")
    for _cols, slope in fe_terms:
        if slope is not None:
            s = data[slope]
            if not pd.api.types.is_numeric_dtype(s) or not np.all(np.isfinite(s.to_numpy(float))):
                raise DataValidationError(f"column {slope!r} (slope in fe) must be numeric and "
                                          "finite.")
    if weights is not None:
        w = data[weights]
        wv = w.to_numpy(dtype=float) if pd.api.types.is_numeric_dtype(w) else None
        if wv is None or not np.all(np.isfinite(wv)) or (wv < 0).any() or wv.sum() <= 0:
            bad = len(w) if wv is None else int(((wv < 0) | ~np.isfinite(wv)).sum())
            raise DataValidationError(
                f"column {weights!r} (weights) must be finite and non-negative with a positive "
                f"sum; found {bad} bad rows.")
    check_unique_unit_period(data, idname, tname)


def _cohorts(data: pd.DataFrame, gname: str, idname: str, tname: str) -> np.ndarray:
    """First treated period per row (0 for never treated; 0, inf and NaN all mean never)."""
    g = data[gname]
    if not pd.api.types.is_numeric_dtype(g) or pd.api.types.is_bool_dtype(g):
        raise DataValidationError(f"column {gname!r} (gname) must be numeric (the first treated "
                                  f"period, 0 for never treated); got dtype {g.dtype}.")
    gv = g.to_numpy(dtype=float)
    gv = np.where(np.isnan(gv) | np.isposinf(gv), 0.0, gv)
    bad = (gv < 0) | ~np.isfinite(gv)
    if bad.any():
        raise DataValidationError(
            f"column {gname!r} (gname) must hold the first treated period, or 0 (inf, NaN) for "
            f"never-treated units; found {int(bad.sum())} rows with negative or invalid values.")
    per_unit = pd.Series(gv, index=data.index).groupby(data[idname].to_numpy()).nunique()
    if (per_unit > 1).any():
        raise DataValidationError(
            f"column {gname!r} (gname) must be constant within each unit ({idname!r}); "
            f"{int((per_unit > 1).sum())} units have several values, e.g. "
            f"{per_unit.index[per_unit > 1][:3].tolist()}.")
    t = data[tname].to_numpy(dtype=float)
    if np.any(gv > 0) and (not np.allclose(t, np.round(t)) or not np.allclose(gv, np.round(gv))):
        raise DataValidationError(
            f"columns {tname!r} (tname) and {gname!r} (gname) must hold integer periods so that "
            "event times t - g are integers; map dates to consecutive integers first.")
    return gv


def _covariates(data: pd.DataFrame, xformla: str | None) -> tuple[np.ndarray | None,
                                                                  tuple[str, ...]]:
    from laborai.did.cs._prepare import _formula_terms, _model_matrix

    rhs = _formula_terms(xformla)
    if rhs is None:
        return None, ()
    xm, names = _model_matrix(data, rhs)
    return xm[:, 1:], tuple(names[1:])


def _cluster_codes(data: pd.DataFrame, cluster: str | None, idname: str) -> tuple[np.ndarray, int]:
    col = idname if cluster is None else cluster
    codes, uniq = pd.factorize(data[col], sort=True)
    return codes.astype(np.int64), len(uniq)


def _csum(codes: np.ndarray, n: int, M: np.ndarray) -> np.ndarray:
    """Sums of the rows of ``M`` (N, k) by ``codes``."""
    return np.asarray(_indicator(codes, n).T @ M)


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TwoStepResult(ResultMixin):
    table: pd.DataFrame
    att: float
    att_se: float
    event_times: np.ndarray
    coef: np.ndarray
    vcov: np.ndarray
    ref: int | None
    implicit_weights: pd.DataFrame
    nobs: int
    n_units: int
    n_treated_obs: int
    n_clusters: int
    n_not_imputable: int
    first_stage_rank: int
    alpha: float
    settings: Mapping[str, Any]
    provenance: Provenance

    def tidy(self) -> pd.DataFrame:
        """Return the results table.

        Columns ``term, estimate, std_error, statistic, p_value, conf_low, conf_high``
        (normal reference distribution, pointwise), then ``estimand`` (``'overall'``,
        ``'event_time'`` or ``'pretrend'``), ``event_time`` (nullable integer, the true event
        time ``t - g``; missing for the overall ATT) and ``n_obs`` (observations entering the
        estimand's average: treated observations, or untreated observations for a lead).
        """
        return self.table.copy()

    def _header(self) -> list[tuple[str, str]]:
        return [("Observations", str(self.nobs)), ("Units", str(self.n_units)),
                ("Treated observations", str(self.n_treated_obs)),
                ("Clusters", str(self.n_clusters)),
                ("Not imputable (dropped)", str(self.n_not_imputable))]


@dataclass(frozen=True)
class ImputationResult(_TwoStepResult):
    """Frozen result of :func:`did_imputation`.

    Attributes
    ----------
    table : pandas.DataFrame
        What :meth:`tidy` returns: the overall ATT, the event-time effects and the pre-trend
        leads.
    att, att_se : float
        Overall ATT (all imputable treated observations, weighted by ``weights``) and its
        conservative standard error.
    event_times, coef, vcov, ref :
        The event-study view used by :func:`laborai.did.honest` and
        ``laborai.did.pretrends_power``: the pre-trend leads followed by the horizons, their
        joint covariance matrix (leads and horizons use the same cluster scores) and the
        notional reference period. **Convention**: the horizons keep their event times
        ``0..H``; ``ref = -1``; the BJS lead ``k`` periods before treatment (``tidy()``'s
        ``event_time = -k``) is placed at ``-(k + 1)``, so that the leads ``-(P+1)..-2``, the
        reference ``-1`` and the horizons are consecutive as HonestDiD orders them. BJS leads are
        measured against the untreated periods more than ``P`` before treatment (and the
        never-treated), and the imputed effects against all untreated periods, so no single
        period is the true reference. Without ``pretrends`` there are no leads and ``ref`` is
        ``-1`` (``honest`` then refuses the result: it needs pre-periods).
    pretrend : mapping
        Joint test of the leads (``statistic`` F, ``df1``, ``df2``, ``p_value``, ``wald``,
        ``leads``); empty without ``pretrends``.
    implicit_weights : pandas.DataFrame
        One row per observation used: ``idname``, ``tname``, ``treated`` and, per estimand
        (``att``, ``event_time::h``), the weight of ``Y_it`` in the estimator (``sum`` over
        treated rows is 1; untreated rows carry BJS's imputation weights ``v_it``).
    nobs, n_units, n_treated_obs, n_clusters : int
        Observations used, units, treated observations, clusters.
    n_not_imputable : int
        Treated observations dropped because the first stage could not impute them.
    first_stage_rank : int
        Rank of the non-eliminated first-stage columns (fixed effects beyond the first,
        covariates) after dropping collinear ones.
    """

    pretrend: Mapping[str, Any] = None  # type: ignore[assignment]
    _title = "Imputation DiD (Borusyak, Jaravel & Spiess 2024)"

    def __repr__(self) -> str:
        s = self.settings
        return (f"ImputationResult(att={self.att:.6g}, att_se={self.att_se:.6g}, "
                f"n_event_times={len(self.event_times)}, nobs={self.nobs}, "
                f"leave_out={s['leave_out']}, pretrends={s['pretrends']})")

    def _header(self) -> list[tuple[str, str]]:
        h = super()._header()
        se = "leave-out conservative (BJS A.9)" if self.settings["leave_out"] else \
            "conservative (BJS Theorem 3)"
        h.append(("Standard errors", f"{se}, clustered"))
        if self.pretrend:
            p = self.pretrend
            h.append(("Pre-trend test", f"F({p['df1']}, {p['df2']:g}) = {p['statistic']:.4f}, "
                                        f"p = {p['p_value']:.4f}"))
        return h


@dataclass(frozen=True)
class TwoStageResult(_TwoStepResult):
    """Frozen result of :func:`did2s`.

    Attributes
    ----------
    table : pandas.DataFrame
        What :meth:`tidy` returns.
    att, att_se : float
        The static second-stage coefficient and its GMM-corrected standard error (NaN for
        ``second_stage='event_study'``).
    event_times, coef, vcov, ref :
        Event-time coefficients (all observed event times except the reference ``ref = -1``;
        never-treated units are in the baseline), their GMM-corrected covariance matrix; empty
        for ``second_stage='static'``.
    implicit_weights : pandas.DataFrame
        Weight of each ``Y_it`` in each second-stage coefficient (the estimator is linear in Y).
    nobs, n_units, n_treated_obs, n_clusters, n_not_imputable, first_stage_rank :
        As in :class:`ImputationResult`.
    """

    _title = "Two-stage DiD (Gardner 2022)"

    def __repr__(self) -> str:
        s = self.settings
        return (f"TwoStageResult(second_stage={s['second_stage']!r}, att={self.att:.6g}, "
                f"n_event_times={len(self.event_times)}, nobs={self.nobs})")

    def _header(self) -> list[tuple[str, str]]:
        return [*super()._header(), ("Standard errors", "GMM-corrected for the first stage, "
                                                        "clustered")]


def _table(terms: Sequence[str], est: np.ndarray, se: np.ndarray, estimand: Sequence[str],
           event_time: Sequence[int | None], n_obs: Sequence[int], alpha: float) -> pd.DataFrame:
    t = wald_table(est, se, alpha=alpha)
    t.insert(0, "term", list(terms))
    t["estimand"] = list(estimand)
    t["event_time"] = pd.array(list(event_time), dtype="Int64")
    t["n_obs"] = np.asarray(n_obs, dtype=np.int64)
    return t


# --------------------------------------------------------------------------------------------
# shared preparation
# --------------------------------------------------------------------------------------------


@dataclass
class _Prep:
    data: pd.DataFrame  # rows used (imputable), original order
    y: np.ndarray
    w: np.ndarray
    treated: np.ndarray
    design: _Design
    fs: _FirstStage
    e: np.ndarray  # y - Yhat(0) on every row (first-stage residual on untreated rows)
    cl: np.ndarray
    n_cl: int
    n_not_imputable: int
    keep: np.ndarray  # rows of the input used (boolean)


def _prepare(data: pd.DataFrame, *, yname: str, treated: np.ndarray,
             fe_terms: Sequence[tuple[tuple[str, ...], str | None]], xformla: str | None,
             weights: str | None, cluster: str | None, idname: str, caller: str) -> _Prep:
    xmat, xnames = _covariates(data, xformla)
    design = _build_design(data, fe_terms, xmat, xnames)
    untreated = ~treated
    if not untreated.any():
        raise DataValidationError(f"{caller}: no untreated observation (D = 0) to fit the first "
                                  "stage on.")
    ok = _imputable(design, untreated)
    keep = ok.copy()
    n_bad = int((~ok).sum())
    if n_bad:
        warnings.warn(
            f"{caller}: {n_bad} treated observations cannot be imputed (a fixed-effect level "
            "with no untreated observation, e.g. units treated in every period) and were "
            "dropped; see n_not_imputable.", NotImputableWarning, stacklevel=3)
        data = data.loc[ok]
        treated = treated[ok]
        xmat = xmat[ok] if xmat is not None else None
        design = _build_design(data, fe_terms, xmat, xnames)
        untreated = ~treated
    if not treated.any():
        raise DataValidationError(f"{caller}: no imputable treated observation.")
    y = data[yname].to_numpy(dtype=float)
    w = data[weights].to_numpy(dtype=float) if weights is not None else np.ones(len(data))
    fs = _FirstStage(design, untreated, w)
    ta, tb = fs.coefficients(y[untreated])
    yhat = np.asarray(fs.predict(ta, tb)).ravel()
    e = y - yhat
    cl, n_cl = _cluster_codes(data, cluster, idname)
    return _Prep(data=data, y=y, w=w, treated=treated, design=design, fs=fs, e=e, cl=cl,
                 n_cl=n_cl, n_not_imputable=n_bad, keep=keep)


def _weights_frame(p: _Prep, idname: str, tname: str, names: Sequence[str],
                   W: np.ndarray) -> pd.DataFrame:
    out = pd.DataFrame({idname: p.data[idname].to_numpy(), tname: p.data[tname].to_numpy(),
                        "treated": p.treated})
    for j, nm in enumerate(names):
        out[nm] = W[:, j]
    return out


# --------------------------------------------------------------------------------------------
# did_imputation
# --------------------------------------------------------------------------------------------


def _horizons_arg(horizons: Any, available: np.ndarray) -> np.ndarray:
    if horizons is None:
        return available
    if isinstance(horizons, (int, np.integer)) and not isinstance(horizons, bool):
        if horizons < 0:
            raise OptionError(f"horizons must be a non-negative int or a list of them; got "
                              f"{horizons!r}.")
        hs = np.arange(int(horizons) + 1)
    else:
        try:
            hs = np.asarray(list(horizons))
        except TypeError:
            raise OptionError(f"horizons must be None, an int H (0..H) or a list of ints; got "
                              f"{horizons!r}.") from None
        if hs.size == 0 or hs.dtype.kind not in "iu" or (hs < 0).any():
            raise OptionError(f"horizons must be non-negative ints; got {horizons!r}.")
        hs = np.unique(hs.astype(np.int64))
    missing = np.setdiff1d(hs, available)
    if missing.size:
        raise DataValidationError(
            f"horizons {missing.tolist()} have no imputable treated observation; available "
            f"event times are {available.tolist()}.")
    return hs


def did_imputation(
    data: pd.DataFrame,
    *,
    yname: str,
    idname: str,
    tname: str,
    gname: str,
    xformla: str | None = None,
    fe: Sequence[str] | None = None,
    event_study: bool = True,
    horizons: int | Sequence[int] | None = None,
    pretrends: int | None = None,
    leave_out: bool = False,
    avg_effects_by: AvgEffectsBy = "cohort_period",
    weights: str | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
) -> ImputationResult:
    """Imputation difference-in-differences of Borusyak, Jaravel & Spiess (2024).

    Fits ``Y_it(0) = FE + X_it' beta`` on the untreated observations, imputes ``Y_it(0)`` for
    every treated observation, and averages ``tau_it = Y_it - Yhat_it(0)``.

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel, one row per unit and period.
    yname, idname, tname : str
        Outcome, unit and (integer) period columns.
    gname : str
        First treated period of the unit; 0, inf or NaN for never-treated units. Observation
        ``(i, t)`` is treated when ``g_i > 0`` and ``t >= g_i`` (absorbing treatment).
    xformla : str, optional
        Time-varying covariates of the first stage, ``'~ x1 + x2'`` (Stata ``controls()``).
    fe : list of str, optional
        **All** first-stage fixed effects (default ``[idname, tname]``, Stata ``fe()``). A term
        is a column ``'a'``, an interaction ``'a^b'`` (one effect per combination, e.g.
        ``'value_tier^month'``) or level-specific slopes ``'a[x]'`` (e.g. ``'unit[t]'`` for unit
        trends, Stata ``unitcontrols(t)``; ``'t[x]'`` for ``timecontrols(x)``). Extra fixed
        effects are added by listing them: ``fe=['unit', 'month', 'tier^month']``. ``fe=[]``
        fits a constant only (Stata ``fe(.)``).
    event_study : bool, default True
        Also estimate the effect at each event time ``h = t - g >= 0``.
    horizons : int or list of int, optional
        Event times to estimate (``H`` means ``0..H``); default every observed one.
    pretrends : int, optional
        Number ``P`` of pre-treatment leads to test (BJS Section 4.4): on the untreated
        observations, regress ``Y`` on the first-stage design plus indicators of being
        ``1..P`` periods before treatment; report the leads and their joint F test
        (cluster-robust, small-sample factor ``G/(G-1) (N-1)/(N-K)``).
    leave_out : bool, default False
        Leave-out variance (BJS Appendix A.9, Stata ``leaveout``): the auxiliary average of the
        effects in a unit's cell excludes the unit's own cluster.
    avg_effects_by : {'cohort_period', 'cohort', 'horizon'}, default 'cohort_period'
        Cells of the auxiliary effect averages in the variance (Stata ``avgeffectsby()``:
        ``Ei t`` = cohort x period, ``Ei``, ``K``).
    weights : str, optional
        Observation weights: first-stage WLS weights and the weights of the averages.
    cluster : str, optional
        Cluster column (default ``idname``).
    alpha : float, default 0.05
        One minus the confidence level.

    Returns
    -------
    ImputationResult

    Raises
    ------
    DataValidationError
        Missing columns or values, non-numeric periods, ``gname`` varying within a unit,
        duplicated unit-periods, no untreated or no imputable treated observation, requested
        horizons or leads without observations.
    OptionError
        Invalid options.

    Warns
    -----
    NotImputableWarning
        Treated observations that cannot be imputed were dropped (counted in the result).

    Notes
    -----
    Estimand: for weights ``w_it`` over the treated observations summing to one (equal, or
    proportional to ``weights``, over all of them for the ATT, over those with ``t - g = h``
    for event time ``h``), ``tau_w = sum w_it tau_it``. Under parallel trends and no
    anticipation the estimator is unbiased for any heterogeneity of ``tau_it``, and efficient
    under homoskedastic, serially uncorrelated errors (BJS Theorem 2). It is linear,
    ``sum v_it Y_it``, with ``v_it = w_it`` for treated and
    ``v = -X0 (X0'X0)^- X1' w`` for untreated observations (``implicit_weights``).
    The variance is ``sum_c (sum_{it in c} v_it e_it)^2`` with ``e_it`` the first-stage
    residual for untreated observations and ``tau_it - taubar`` for treated ones, ``taubar``
    the ``v``-weighted average of ``tau`` in the observation's ``avg_effects_by`` cell
    (excluding the own cluster with ``leave_out``). It is conservative when effects vary within
    cells.

    References
    ----------
    Borusyak, K., Jaravel, X. and Spiess, J. (2024). Revisiting event-study designs: robust and
    efficient estimation. *Review of Economic Studies* 91(6), 3253-3285.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame([(i, t, (0, 4, 6)[i % 3]) for i in range(30) for t in range(1, 9)],
    ...                  columns=["unit", "t", "g"])
    >>> d["y"] = d["unit"] * 0.1 + d["t"] * 0.2 + ((d["g"] > 0) & (d["t"] >= d["g"])) * 1.0
    >>> d["y"] += rng.normal(0, 0.01, len(d))
    >>> from laborai.did.imputation import did_imputation
    >>> res = did_imputation(d, yname="y", idname="unit", tname="t", gname="g", horizons=2)
    >>> round(res.att, 2), res.event_times.tolist()
    (1.0, [0, 1, 2])
    """
    fe_terms = _parse_fe(fe, idname, tname)
    _check_common(data, yname=yname, idname=idname, tname=tname, gname=gname, dname=None,
                  weights=weights, cluster=cluster, fe_terms=fe_terms, alpha=alpha,
                  caller="did_imputation")
    for nm, v in (("event_study", event_study), ("leave_out", leave_out)):
        if not isinstance(v, (bool, np.bool_)):
            raise OptionError(f"{nm} must be True or False; got {v!r}.")
    check_option("avg_effects_by", avg_effects_by, ("cohort_period", "cohort", "horizon"))
    if pretrends is not None and (isinstance(pretrends, bool)
                                  or not isinstance(pretrends, (int, np.integer))
                                  or pretrends < 1):
        raise OptionError(f"pretrends must be None or a positive int; got {pretrends!r}.")
    g_all = _cohorts(data, gname, idname, tname)
    t_all = data[tname].to_numpy(dtype=float)
    treated_all = (g_all > 0) & (t_all >= g_all)
    p = _prepare(data, yname=yname, treated=treated_all, fe_terms=fe_terms, xformla=xformla,
                 weights=weights, cluster=cluster, idname=idname, caller="did_imputation")
    d = p.data
    g = g_all[p.keep]
    t = t_all[p.keep]
    K = np.where(g > 0, t - g, np.nan)
    tr = p.treated
    w1 = p.w[tr]
    K1 = K[tr].astype(np.int64)
    available = np.unique(K1)
    hs = _horizons_arg(horizons, available) if event_study else np.zeros(0, dtype=np.int64)

    # estimand weights over the treated rows: column 0 = overall ATT, then the horizons
    cols = [w1 / w1.sum()]
    names = ["att"]
    for h in hs:
        m = (K1 == h) * w1
        cols.append(m / m.sum())
        names.append(f"event_time::{int(h)}")
    W1 = np.column_stack(cols)
    k = W1.shape[1]
    N = len(d)
    Wfull = np.zeros((N, k))
    Wfull[tr] = W1
    v0 = -p.fs.project(Wfull)  # (N0, k) imputation weights of the untreated rows
    tau = p.e[tr]
    est = W1.T @ tau

    # auxiliary effect averages and the conservative variance
    if avg_effects_by == "cohort_period":
        cell, _ = _combine([pd.factorize(g[tr], sort=True)[0], pd.factorize(t[tr], sort=True)[0]])
    elif avg_effects_by == "cohort":
        cell = pd.factorize(g[tr], sort=True)[0].astype(np.int64)
    else:
        cell = pd.factorize(K1, sort=True)[0].astype(np.int64)
    n_cell = int(cell.max()) + 1
    cl1 = p.cl[tr]
    # taubar_c minimises sum_clusters (sum_{it in cell c, cluster} v_it (tau_it - taubar_c))^2:
    # with V, T the cluster's sums of v and v*tau in the cell, taubar = sum V T / sum V^2
    # (v^2-weighted when a cluster has one observation per cell); leave_out drops the own cluster.
    cc, _ = _combine([cell, cl1])
    n_cc = int(cc.max()) + 1
    cc_cell = np.zeros(n_cc, dtype=np.int64)
    cc_cell[cc] = cell
    Vc = _csum(cc, n_cc, W1)
    Tc = _csum(cc, n_cc, W1 * tau[:, None])
    num = _csum(cc_cell, n_cell, Vc * Tc)
    den = _csum(cc_cell, n_cell, Vc * Vc)
    with np.errstate(invalid="ignore", divide="ignore"):
        taubar = num[cell] / den[cell]
        if leave_out:
            den_lo = den[cell] - (Vc * Vc)[cc]
            lo = (num[cell] - (Vc * Tc)[cc]) / den_lo
            taubar = np.where(den_lo > 1e-14 * den[cell], lo, taubar)
    taubar = np.nan_to_num(taubar)
    eps1 = tau[:, None] - taubar
    scores = np.zeros((p.n_cl, k))
    scores += _csum(p.cl[~tr], p.n_cl, v0 * p.e[~tr][:, None])
    scores += _csum(cl1, p.n_cl, W1 * eps1)
    n_obs = [int(tr.sum())] + [int((K1 == h).sum()) for h in hs]

    # pre-trend leads (BJS Section 4.4) on the untreated rows
    pretrend: dict[str, Any] = {}
    lead_est = np.zeros(0)
    lead_scores = np.zeros((p.n_cl, 0))
    lead_n: list[int] = []
    if pretrends is not None:
        K0 = K[~tr]
        L = np.column_stack([(K0 == -j).astype(float) for j in range(1, pretrends + 1)])
        empty = [j for j in range(1, pretrends + 1) if not L[:, j - 1].any()]
        if empty:
            raise DataValidationError(
                f"pretrends={pretrends}: no untreated observation {empty} period(s) before "
                "treatment; lower pretrends.")
        Lt = L - p.fs.fit_untreated(L)
        w0 = p.w[~tr]
        e0 = p.e[~tr]
        A = Lt.T @ (Lt * w0[:, None])
        try:
            Ainv = np.linalg.inv(A)
        except np.linalg.LinAlgError:
            raise EstimationError("pretrends: the leads are collinear with the first-stage "
                                  "fixed effects; lower pretrends.") from None
        lead_est = Ainv @ (Lt.T @ (w0 * e0))
        u = e0 - Lt @ lead_est
        n0 = int((~tr).sum())
        nested = _nested_first_fe(p, cluster, idname)
        n_par = pretrends + p.fs.rank_b + (0 if nested else p.design.n_a)
        adj = p.n_cl / (p.n_cl - 1.0) * (n0 - 1.0) / max(n0 - n_par, 1.0)
        lead_scores = _csum(p.cl[~tr], p.n_cl, Lt * (w0 * u)[:, None]) @ Ainv * math.sqrt(adj)
        Vl = lead_scores.T @ lead_scores
        wald, rank = pinv_wald(lead_est, Vl)
        df2 = float(p.n_cl - 1)
        F = wald / rank
        pretrend = {"statistic": F, "wald": wald, "df1": rank, "df2": df2,
                    "p_value": float(stats.f.sf(F, rank, df2)), "distribution": "F",
                    "leads": tuple(range(-1, -pretrends - 1, -1))}
        lead_n = [int(L[:, j].sum()) for j in range(pretrends)]

    all_scores = np.column_stack([scores, lead_scores])
    V = all_scores.T @ all_scores
    se_all = np.sqrt(np.diag(V))
    P = lead_est.size
    terms = [*names, *[f"pre::{-j}" for j in range(1, P + 1)]]
    est_all = np.concatenate([est, lead_est])
    kinds = ["overall", *["event_time"] * len(hs), *["pretrend"] * P]
    ets: list[int | None] = [None, *[int(h) for h in hs], *[-j for j in range(1, P + 1)]]
    table = _table(terms, est_all, se_all, kinds, ets, [*n_obs, *lead_n], float(alpha))
    # event-study view: leads (placed at -(k+1), oldest first), then horizons
    order = [k + j for j in range(P - 1, -1, -1)] + list(range(1, k))
    es_times = np.array([-(j + 1) - 1 for j in range(P - 1, -1, -1)] + [int(h) for h in hs],
                        dtype=np.int64)
    coef = est_all[order]
    vcov = V[np.ix_(order, order)]

    Wy = np.zeros((N, k))
    Wy[tr] = W1
    Wy[~tr] = v0
    settings = {"yname": yname, "idname": idname, "tname": tname, "gname": gname,
                "xformla": xformla, "fe": [("^".join(c) + (f"[{s}]" if s else ""))
                                           for c, s in fe_terms],
                "event_study": bool(event_study), "horizons": [int(h) for h in hs],
                "pretrends": pretrends, "leave_out": bool(leave_out),
                "avg_effects_by": avg_effects_by, "weights": weights,
                "cluster": cluster if cluster is not None else idname, "alpha": float(alpha)}
    return ImputationResult(
        table=table, att=float(est[0]), att_se=float(se_all[0]), event_times=es_times,
        coef=coef, vcov=vcov, ref=-1,
        implicit_weights=_weights_frame(p, idname, tname, names, Wy), nobs=N,
        n_units=int(d[idname].nunique()), n_treated_obs=int(tr.sum()), n_clusters=p.n_cl,
        n_not_imputable=p.n_not_imputable, first_stage_rank=p.fs.rank_b, alpha=float(alpha),
        settings=settings, provenance=make_provenance("did_imputation", data, settings),
        pretrend=pretrend)


def _nested_first_fe(p: _Prep, cluster: str | None, idname: str) -> bool:
    """Whether every level of the first fixed effect lies in a single cluster."""
    a, cl = p.design.a, p.cl
    first = pd.DataFrame({"a": a, "c": cl}).groupby("a")["c"].nunique()
    return bool((first <= 1).all()) and p.design.n_a > 1


# --------------------------------------------------------------------------------------------
# did2s
# --------------------------------------------------------------------------------------------


def did2s(
    data: pd.DataFrame,
    *,
    yname: str,
    idname: str,
    tname: str,
    gname: str | None = None,
    dname: str | None = None,
    xformla: str | None = None,
    fe: Sequence[str] | None = None,
    second_stage: SecondStage = "static",
    weights: str | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
) -> TwoStageResult:
    """Two-stage difference-in-differences of Gardner (2022).

    Stage 1 fits ``Y_it = FE + X_it' beta`` on the untreated observations; stage 2 regresses
    the residuals ``Y_it - Yhat_it(0)`` of every observation on the treatment dummy
    (``'static'``) or on event-time dummies (``'event_study'``), without an intercept. The
    clustered variance accounts for the estimated first stage (GMM).

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel.
    yname, idname, tname : str
        Outcome, unit and (numeric) period columns.
    gname : str, optional
        First treated period (0, inf or NaN = never treated); treated means ``t >= g > 0``.
    dname : str, optional
        A 0/1 treatment column instead of ``gname`` (static second stage only).
    xformla : str, optional
        First-stage covariates ``'~ x1 + x2'``.
    fe : list of str, optional
        All first-stage fixed effects, default ``[idname, tname]`` (R ``first_stage = ~ 0 |
        unit + time``); same spelling as in :func:`did_imputation` (``'a^b'``, ``'a[x]'``).
    second_stage : {'static', 'event_study'}, default 'static'
        ``'event_study'`` estimates one coefficient per observed event time ``t - g`` except
        ``-1`` (R ``i(rel_year, ref = c(-1, Inf))``): never-treated units are in the baseline.
    weights : str, optional
        Observation weights of both stages.
    cluster : str, optional
        Cluster column (default ``idname``).
    alpha : float, default 0.05
        One minus the confidence level.

    Returns
    -------
    TwoStageResult

    Raises
    ------
    DataValidationError
        As :func:`did_imputation`; also a ``dname`` that is not 0/1.
    OptionError
        Neither or both of ``gname`` and ``dname``; ``'event_study'`` with ``dname``.

    Notes
    -----
    With ``g = (gamma, beta)`` the stacked moments ``X10' W (Y - X1 gamma) = 0`` and
    ``X2' W (Y - X1 gamma - X2 beta) = 0``, the GMM variance of ``beta`` is
    ``A [sum_c S_c S_c'] A`` with ``A = (X2' W X2)^-1`` and cluster scores
    ``S_c = X2c' W e2c - X2' W X1 (X10' W X10)^- X10c' W e1c`` (``e1``: first-stage
    residuals, ``e2``: second-stage residuals); no small-sample factor, as in R ``did2s``. The
    static coefficient equals the imputation ATT of :func:`did_imputation`; only the variance
    differs.

    References
    ----------
    Gardner, J. (2022). Two-stage differences in differences. arXiv:2207.05943.
    Butts, K. and Gardner, J. (2022). did2s: two-stage difference-in-differences. *The R
    Journal* 14(3), 162-173.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame([(i, t, (0, 4, 6)[i % 3]) for i in range(30) for t in range(1, 9)],
    ...                  columns=["unit", "t", "g"])
    >>> d["y"] = d["unit"] * 0.1 + d["t"] * 0.2 + ((d["g"] > 0) & (d["t"] >= d["g"])) * 1.0
    >>> d["y"] += rng.normal(0, 0.01, len(d))
    >>> from laborai.did.imputation import did2s
    >>> res = did2s(d, yname="y", idname="unit", tname="t", gname="g")
    >>> round(res.att, 2)
    1.0
    """
    check_option("second_stage", second_stage, ("static", "event_study"))
    if (gname is None) == (dname is None):
        raise OptionError("did2s needs exactly one of gname (first treated period) and dname "
                          f"(a 0/1 treatment column); got gname={gname!r}, dname={dname!r}.")
    if dname is not None and second_stage == "event_study":
        raise OptionError("second_stage='event_study' needs gname (event times t - g); "
                          "with dname only 'static' is available.")
    fe_terms = _parse_fe(fe, idname, tname)
    _check_common(data, yname=yname, idname=idname, tname=tname, gname=gname, dname=dname,
                  weights=weights, cluster=cluster, fe_terms=fe_terms, alpha=alpha,
                  caller="did2s")
    if gname is not None:
        g_all = _cohorts(data, gname, idname, tname)
        t_all = data[tname].to_numpy(dtype=float)
        treated_all = (g_all > 0) & (t_all >= g_all)
    else:
        dv = data[str(dname)]
        dnum = dv.to_numpy(dtype=float) if (pd.api.types.is_numeric_dtype(dv)
                                            or pd.api.types.is_bool_dtype(dv)) else None
        if dnum is None or not np.isin(dnum, (0.0, 1.0)).all():
            bad = len(dv) if dnum is None else int((~np.isin(dnum, (0.0, 1.0))).sum())
            raise DataValidationError(f"column {dname!r} (dname) must be 0/1; {bad} rows are "
                                      "not.")
        treated_all = dnum == 1.0
    p = _prepare(data, yname=yname, treated=treated_all, fe_terms=fe_terms, xformla=xformla,
                 weights=weights, cluster=cluster, idname=idname, caller="did2s")
    d, tr, w = p.data, p.treated, p.w
    N = len(d)
    if second_stage == "static":
        X2 = tr.astype(float)[:, None]
        names = ["att"]
        ets: list[int | None] = [None]
        kinds = ["overall"]
        rel_times = np.zeros(0, dtype=np.int64)
    else:
        g = g_all[p.keep]
        t = t_all[p.keep]
        ever = g > 0
        rel = np.where(ever, t - g, 0).astype(np.int64)
        rel_times = np.unique(rel[ever])
        rel_times = rel_times[rel_times != -1]
        X2 = np.column_stack([(ever & (rel == r)).astype(float) for r in rel_times])
        names = [f"event_time::{int(r)}" for r in rel_times]
        ets = [int(r) for r in rel_times]
        kinds = ["event_time"] * len(rel_times)
    A_ = X2.T @ (X2 * w[:, None])
    try:
        A = np.linalg.inv(A_)
    except np.linalg.LinAlgError:  # pragma: no cover - dummies with observations are full rank
        raise EstimationError("did2s: the second-stage design is singular.") from None
    beta = A @ (X2.T @ (w * p.e))
    e2 = p.e - X2 @ beta
    Z = p.fs.project(X2 * w[:, None])  # (N0, k2)
    S = _csum(p.cl, p.n_cl, X2 * (w * e2)[:, None])
    S -= _csum(p.cl[~tr], p.n_cl, Z * p.e[~tr][:, None])
    V = A @ (S.T @ S) @ A
    se = np.sqrt(np.diag(V))
    n_obs = [int((X2[:, j] > 0).sum()) for j in range(X2.shape[1])]
    table = _table(names, beta, se, kinds, ets, n_obs, float(alpha))
    # implicit weights: beta = A [ (W X2)' Y - Z' Y0 ]
    Wy = X2 * w[:, None]
    Wy[~tr] -= Z
    Wy = Wy @ A
    static = second_stage == "static"
    settings = {"yname": yname, "idname": idname, "tname": tname, "gname": gname,
                "dname": dname, "xformla": xformla,
                "fe": [("^".join(c) + (f"[{s}]" if s else "")) for c, s in fe_terms],
                "second_stage": second_stage, "weights": weights,
                "cluster": cluster if cluster is not None else idname, "alpha": float(alpha)}
    return TwoStageResult(
        table=table, att=float(beta[0]) if static else math.nan,
        att_se=float(se[0]) if static else math.nan,
        event_times=rel_times, coef=np.zeros(0) if static else beta,
        vcov=np.zeros((0, 0)) if static else V, ref=None if static else -1,
        implicit_weights=_weights_frame(p, idname, tname, names, Wy), nobs=N,
        n_units=int(d[idname].nunique()), n_treated_obs=int(tr.sum()), n_clusters=p.n_cl,
        n_not_imputable=p.n_not_imputable, first_stage_rank=p.fs.rank_b, alpha=float(alpha),
        settings=settings, provenance=make_provenance("did2s", data, settings))
