"""The regression core shared by laborai's regression estimators.

:func:`laborai.did.twfe`, :func:`laborai.did.ddd`, :func:`laborai.did.event_study` and the
marketplace study :func:`laborai.estimate_effects` are all ``y ~ X | unit + period (+ fe)``
regressions; :mod:`laborai.did.cs`, :mod:`laborai.did.sun_abraham` and
:mod:`laborai.did._ppml_placebo` reuse pieces of the same machinery. This module holds it, in
the order the data flows through a fit:

1. **checks and frame** -- :func:`normalise_vcov`, :func:`_common_checks`,
   :func:`_require_columns`, :func:`_cluster_cols`, :func:`_fe_columns` validate the options;
   :func:`_build_frame` turns the user's data into the internal frame (``_y``, regressors
   ``_x0 ... _xk``, fixed-effect codes ``_fe*``, cluster codes ``_cl*``, weights ``_w``) and
   :func:`_event_positions` places each row and each unit's event date on the period grid;
2. **fit** -- :func:`_fit_core` regresses the frame, on laborai's exact fast path
   (:mod:`laborai.did._fastfe`, :func:`_fit_core_fast`; Poisson: :mod:`laborai.did._fastpois`,
   :func:`_fit_core_fastpois`) or with pyfixest, and returns a
   :class:`_Fit` (coefficients, CRV1/HC1/iid vcov, table, degrees of freedom, drops);
3. **vcov** -- :func:`_resolve_vcov` picks the inference ``vcov='auto'`` means for the design
   (CRV1, wild bootstrap below :data:`FEW_CLUSTERS` clusters);
4. **placebo** -- with few treated clusters :func:`_regression_placebo_choice` chooses placebo
   (Conley-Taber) inference and :func:`_regression_placebo_fit` replaces the fit's vcov with
   the pooled placebo covariance of :mod:`laborai.did._placebo` (``size=`` weighting via
   :func:`_inv_size`); :func:`_sup_t_crit` and :func:`_sup_t_crit_placebo` give the
   simultaneous-band critical values on either reference distribution.

The estimators turn a :class:`_Fit` into their frozen result types; nothing here builds a
result or imports an estimator module.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from laborai._results import wald_table
from laborai._validation import check_option
from laborai.did.inference import _check_alpha, _check_n, _wild_table
from laborai.errors import (
    DataValidationError,
    EstimationError,
    LaborAIWarning,
    OptionError,
    SmallSampleWarning,
)

_BACKENDS = ("auto", "fast", "pyfixest")

_FAMILIES = ("ols", "poisson")
_VCOVS = ("auto", "cluster", "hetero", "iid", "wild", "placebo")
#: below this many clusters CRV1 is not trusted by default (MacKinnon & Webb 2017, 2018)
FEW_CLUSTERS = 50
#: ``vcov='auto'`` in ``twfe``, ``ddd`` and ``event_study`` uses placebo (Conley-Taber)
#: inference below :data:`FEW_CLUSTERS` clusters when the design admits it and the treated
#: clusters do not outnumber the control clusters. On the simulated marketplace (12 category
#: clusters) the wild bootstrap-t over-rejected with 2 treated clusters (event study: 12%
#: at 5%; ddd high tier: 23%) and its intervals covered 100% with power 1% under
#: heterogeneous effects with 4 treated; placebo inference held size and coverage in both
#: designs with power 100% (docs/validation.md).
PLACEBO_MIN_CONTROLS = 3
_BOOT = ("rademacher", "webb")


# --------------------------------------------------------------------------------------------
# Internal fitting core shared by twfe, event_study, ddd and estimate_effects
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fit:
    names: tuple[str, ...]  # internal regressor names kept by the fit
    coef: np.ndarray
    vcov: np.ndarray
    table: pd.DataFrame  # estimate ... conf_high (no term column), one row per kept name
    nobs: int
    n_clusters: int | tuple[int, ...] | None
    df_t: float | None  # t degrees of freedom (None = normal reference)
    dropped: tuple[str, ...]  # requested regressors dropped as collinear
    n_dropped_fit: int  # rows dropped inside the fit (Poisson separation)
    boot: Mapping[str, Any] | None
    r2: float = math.nan  # OLS R-squared and within R-squared (NaN for Poisson)
    r2_within: float = math.nan
    backend: str = "pyfixest"  # 'fastfe' (laborai.did._fastfe), 'fastpois' (_fastpois) or 'pyfixest'
    fe_method: str = ""  # fast path: 'balanced', 'schur', 'iterative', 'oneway'


def normalise_vcov(vcov: Any, cluster: Any) -> tuple[str, Any]:
    """Accept pyfixest's spellings of the inference: ``"HC1"``, ``"iid"``, ``"CRV1"`` and
    ``{"CRV1": "col"}`` / ``{"CRV1": "a+b"}``, besides laborai's names.

    Returns laborai's ``vcov`` name and the cluster column(s) (the dict form sets them).

    Raises
    ------
    OptionError
        For a spelling laborai does not implement (e.g. ``"HC3"``, ``"CRV3"``), naming the
        ones it does.
    """
    if isinstance(vcov, Mapping):
        if len(vcov) != 1:
            raise OptionError(f"vcov as a mapping must have one key, 'CRV1'; got {dict(vcov)!r}.")
        (k, v), = vcov.items()
        if str(k).upper() != "CRV1":
            raise OptionError(f"vcov={dict(vcov)!r}: only CRV1 cluster-robust inference is "
                              "available as a mapping ({'CRV1': 'column'}).")
        cols = tuple(c.strip() for c in str(v).split("+") if c.strip())
        if cluster is not None and tuple([cluster] if isinstance(cluster, str)
                                         else cluster) != cols:
            raise OptionError(f"vcov={dict(vcov)!r} names cluster(s) {list(cols)} but "
                              f"cluster={cluster!r}; give the cluster once.")
        return "cluster", (cols[0] if len(cols) == 1 else cols)
    if isinstance(vcov, str):
        low = vcov.strip().lower()
        alias = {"hc1": "hetero", "crv1": "cluster", "iid": "iid"}
        if low in alias:
            return alias[low], cluster
        if low in ("hc2", "hc3", "crv3"):
            raise OptionError(f"vcov={vcov!r} is not available; use 'HC1' ('hetero'), 'iid', "
                              "'CRV1' ('cluster'), 'wild', 'placebo' or 'auto'.")
    return vcov, cluster


def _cluster_cols(cluster: str | Sequence[str] | None, idname: str) -> tuple[str, ...]:
    if cluster is None:
        return (idname,)
    if isinstance(cluster, str):
        return (cluster,)
    cl = tuple(cluster)
    if len(cl) not in (1, 2) or not all(isinstance(c, str) for c in cl):
        raise OptionError(
            "cluster must be None, a column name, or a pair of column names for two-way "
            f"clustering; got {cluster!r}."
        )
    return cl


def _require_columns(data: Any, cols: Sequence[str], where: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(
            f"{where}: data must be a pandas DataFrame; got {type(data).__name__}."
        )
    missing = [c for c in dict.fromkeys(cols) if c not in data.columns]
    if missing:
        raise DataValidationError(
            f"{where}: column(s) {missing} not found in data; available columns: "
            f"{list(data.columns)[:25]}. Pass the name of an existing column."
        )


def _common_checks(family: str, vcov: str, alpha: float, n_boot: int, boot_weights: str) -> None:
    check_option("family", family, _FAMILIES)
    check_option("vcov", vcov, _VCOVS)
    check_option("boot_weights", boot_weights, _BOOT)
    _check_alpha(alpha)
    _check_n(n_boot, "n_boot")
    if vcov == "wild" and family == "poisson":
        raise OptionError(
            "vcov='wild' is available for family='ols' only; got family='poisson'. Use "
            "vcov='cluster' or laborai.did.ri_test for few-cluster inference with Poisson models."
        )


def _resolve_vcov(vcov: str, *, family: str, frame: pd.DataFrame, treat_cols: Sequence[str],
                  where: str, treated: np.ndarray | None = None) -> str:
    """The inference actually used for ``vcov`` on this estimation frame (``'auto'`` resolved).

    ``'auto'``: the wild cluster restricted bootstrap for OLS with one-way clustering and
    fewer than :data:`FEW_CLUSTERS` clusters, CRV1 otherwise. Refuses cluster-based inference
    when the treatment varies in a single cluster or there is a single cluster, and warns when
    it varies in only two clusters or when CRV1 is asked for with few clusters.
    """
    cls = sorted(c for c in frame.columns if c.startswith("_cl"))
    if vcov in ("hetero", "iid") or not cls:
        return vcov
    G = [_n_codes(frame[c].to_numpy()) for c in cls]
    if min(G) < 2:
        raise EstimationError(
            f"{where}: the cluster column has {min(G)} value; cluster-robust inference needs "
            "at least 2 clusters (with one, the variance is not defined). Pass a finer "
            "cluster column or vcov='hetero'."
        )
    method = vcov
    if vcov == "auto":
        method = "wild" if family == "ols" and len(cls) == 1 and G[0] < FEW_CLUSTERS else "cluster"
    if len(cls) == 1:
        if treated is not None:
            tr = np.asarray(treated, dtype=bool)
        else:
            tr = np.zeros(len(frame), dtype=bool)
            for c in treat_cols:
                if c in frame.columns:
                    tr |= frame[c].to_numpy() != 0
        k = int(np.count_nonzero(np.bincount(frame[cls[0]].to_numpy()[tr], minlength=1)))
        if k == 1:
            msg = (f"{where}: the treatment varies in only 1 of {G[0]} clusters; no "
                   "cluster-based variance (CRV1 or wild bootstrap) can measure its error "
                   "(the treated cluster's scores are fitted to zero). Use "
                   "laborai.did.ri_test (randomization over clusters) or "
                   "laborai.estimate_effects (placebo inference).")
            if vcov == "auto":
                raise OptionError(msg + " Pass vcov='cluster' explicitly to get CRV1 anyway "
                                  "(e.g. to reproduce a published number).")
            warnings.warn(msg, SmallSampleWarning, stacklevel=3)
        elif k == 2 or (0 < G[0] - k <= 1):
            warnings.warn(
                f"{where}: the treatment varies in {k} of {G[0]} clusters; with so few treated "
                "(or control) clusters CRV1 over-rejects and the wild bootstrap is very "
                "conservative. Prefer laborai.did.ri_test.",
                SmallSampleWarning, stacklevel=3)
        elif method == "cluster" and G[0] < FEW_CLUSTERS:
            warnings.warn(
                f"{where}: CRV1 with {G[0]} clusters can over-reject; "
                + ("vcov='auto' uses the wild cluster bootstrap here."
                   if family == "ols" else "for Poisson models use vcov='placebo' (treatment "
                   "assigned by cluster at one date) or check with laborai.did.ri_test."),
                SmallSampleWarning, stacklevel=3)
    return method


def _n_codes(codes: np.ndarray) -> int:
    """Number of distinct values of a code column (codes ``0..L-1``, all present)."""
    return int(codes.max()) + 1 if codes.size else 0


def _numeric(s: pd.Series, col: str, where: str) -> np.ndarray:
    try:
        return pd.to_numeric(s, errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        bad = [v for v in s.unique()[:5]]
        raise DataValidationError(
            f"{where}: column {col!r} must be numeric; first values: {bad}. Convert it to numbers."
        ) from exc


def _codes(values: Any) -> np.ndarray:
    """Sorted integer codes ``0..L-1`` of a column (``-1`` for missing values).

    Equal to ``pandas.factorize(values, sort=True)[0]``; O(n) for integer columns with a
    compact range (unit ids, periods), hash-based otherwise.
    """
    from laborai.did._fastfe import fast_codes

    arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if arr.dtype.kind in "iu":
        c = fast_codes(arr)
        if c is not None:
            return c
    codes, uniq = pd.factorize(values, sort=False)
    if len(uniq) > 1:
        try:
            order = np.argsort(np.asarray(uniq), kind="stable")
        except TypeError:  # unorderable mixture: let pandas decide as before
            return np.asarray(pd.factorize(values, sort=True)[0], dtype=np.int64)
        rank = np.empty(len(uniq), dtype=np.int64)
        rank[order] = np.arange(len(uniq))
        out = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1)
        return out.astype(np.int64, copy=False)
    return np.asarray(codes, dtype=np.int64)


def _check_unique_codes(uc: np.ndarray, tc: np.ndarray, data: pd.DataFrame, idname: str,
                        tname: str) -> None:
    """``check_unique_unit_period`` on integer codes (same rule and message, O(n))."""
    from laborai.did._fastfe import pairs_unique

    Lb = int(tc.max()) + 2 if tc.size else 1
    span = (int(uc.max()) + 2) * Lb if uc.size else 0
    if span <= 4 * uc.size + 1_000_000:
        if uc.size == 0 or pairs_unique(uc, tc, Lb, span):
            return
        a = uc.astype(np.int64) + 1
        b = tc.astype(np.int64) + 1
        key = a * Lb + b
        cnt = np.bincount(key, minlength=span)
        dup = cnt[key] > 1
    else:
        a = uc.astype(np.int64) + 1
        b = tc.astype(np.int64) + 1
        key = a * Lb + b
        srt = np.sort(key)
        if not np.any(srt[1:] == srt[:-1]):
            return
        dupkeys = srt[1:][srt[1:] == srt[:-1]]
        dup = np.isin(key, dupkeys)
    ex = data.loc[dup, [idname, tname]].head(3).to_numpy().tolist()
    raise DataValidationError(
        f"({idname!r}, {tname!r}) must identify rows uniquely; {int(dup.sum())} rows are "
        f"duplicates, e.g. {ex}. Aggregate to one row per unit and period first."
    )


def _fe_columns(fe: Sequence[str] | str | None, where: str) -> list[str]:
    """The extra fixed-effect columns of ``fe=`` as a list (a single name is accepted)."""
    if fe is None:
        return []
    cols = [fe] if isinstance(fe, str) else list(fe)
    if not all(isinstance(c, str) for c in cols) or len(set(cols)) != len(cols):
        raise OptionError(f"{where}: fe must be a list of distinct column names; got {fe!r}.")
    return cols


def _build_frame(
    data: pd.DataFrame,
    *,
    where: str,
    yname: str,
    regressors: Mapping[str, np.ndarray | pd.Series],
    fe: Sequence[np.ndarray | pd.Series],
    cluster: Sequence[str],
    weights: str | None,
    family: str,
    fe_names: Sequence[str] = (),
) -> tuple[pd.DataFrame, np.ndarray]:
    """Assemble the estimation frame with safe internal names; drop incomplete rows (warned).

    Fixed effects and clusters are stored as sorted integer codes. ``fe`` entries may be raw
    columns or integer code arrays from :func:`_codes` (``-1`` = missing). Returns the frame
    and the boolean mask of kept rows of ``data``.
    """
    cols: dict[str, np.ndarray] = {"_y": _numeric(data[yname], yname, where)}
    for i, (name, values) in enumerate(regressors.items()):
        if isinstance(values, pd.Series):
            cols[f"_x{i}"] = _numeric(values, name, where)
        else:
            cols[f"_x{i}"] = np.asarray(values, dtype=float)
    for i, values in enumerate(fe):
        arr = values if isinstance(values, np.ndarray) and values.dtype.kind == "i" \
            else _codes(values)
        cols[f"_fe{i}"] = arr
    for i, c in enumerate(cluster):
        cols[f"_cl{i}"] = _codes(data[c])
    if weights is not None:
        cols["_w"] = _numeric(data[weights], weights, where)
    n = len(data)
    miss = {c: (np.isnan(v) if v.dtype.kind == "f" else v < 0) for c, v in cols.items()}
    bad_any = np.zeros(n, dtype=bool)
    for m in miss.values():
        bad_any |= m
    keep = ~bad_any
    n_drop = int(bad_any.sum())
    if n_drop:
        user = {"_y": yname, "_w": weights or "",
                **{f"_x{i}": n for i, n in enumerate(regressors)},
                **{f"_cl{i}": c for i, c in enumerate(cluster)},
                **{f"_fe{i}": ("unit", "period", *fe_names)[i] if i < 2 + len(fe_names)
                   else f"fixed effect {i}" for i in range(len(fe))}}
        bad = [user.get(c, c) for c in cols if miss[c].any()]
        warnings.warn(
            f"{where}: dropped {n_drop} of {n} row(s) with missing values in "
            f"{bad}; the count is recorded in result.n_dropped.",
            LaborAIWarning,
            stacklevel=3,
        )
        cols = {c: v[keep] for c, v in cols.items()}
        from laborai.did._fastfe import fast_codes

        for c in cols:
            if c.startswith(("_fe", "_cl")) and cols[c].size:
                cols[c] = fast_codes(cols[c])  # type: ignore[assignment]
    if n - n_drop == 0:
        raise EstimationError(f"{where}: no complete rows left to estimate on.")
    frame = pd.DataFrame(cols, copy=False)  # built at once, no copy (copy-on-write)
    if weights is not None and (cols["_w"] <= 0).any():
        wv = cols["_w"]
        bad = wv[wv <= 0][:5].tolist()
        raise DataValidationError(
            f"{where}: weights column {weights!r} has {int((wv <= 0).sum())} "
            f"non-positive value(s) (first: {bad}); weights must be > 0. Drop those rows first."
        )
    if family == "poisson" and (cols["_y"] < 0).any():
        raise DataValidationError(
            f"{where}: family='poisson' needs a non-negative outcome; column {yname!r} has "
            f"{int((cols['_y'] < 0).sum())} negative value(s)."
        )
    return frame, keep


def _fit_core(
    frame: pd.DataFrame,
    *,
    n_x: int,
    family: str,
    vcov: str,
    alpha: float,
    n_boot: int,
    boot_weights: str,
    seed: int | None,
    wild_cols: Sequence[int] | None = None,
    backend: str = "auto",
    block: Any = None,
    dense_cols: Sequence[str] | None = None,
    unique_pairs: bool = False,
) -> _Fit:
    """Estimate on the internal frame and return estimates with the chosen inference.

    ``backend``: ``'fast'`` (OLS/WLS: :mod:`laborai.did._fastfe`; Poisson:
    :mod:`laborai.did._fastpois`), ``'pyfixest'``, or ``'auto'`` (the fast path whenever it
    applies: OLS/WLS, and Poisson with fixed effects and iid/HC1/CRV1 inference). ``block``
    (fast path only) is a :class:`laborai.did._fastfe.SparseBlock` of indicator regressors
    named ``_x0 .. _x{K-1}`` placed before the frame's ``dense_cols`` (named ``_x{K} ...``).
    """
    if family == "poisson" and _use_fast(backend, family) and any(
            c.startswith("_fe") for c in frame.columns):
        return _fit_core_fastpois(frame, n_x=n_x, vcov=vcov, alpha=alpha, block=block,
                                  dense_cols=dense_cols)
    if family == "ols" and _use_fast(backend, family):
        return _fit_core_fast(frame, n_x=n_x, vcov=vcov, alpha=alpha, n_boot=n_boot,
                              boot_weights=boot_weights, seed=seed, wild_cols=wild_cols,
                              block=block, dense_cols=dense_cols, unique_pairs=unique_pairs)
    if block is not None:  # pragma: no cover - callers materialise dummies for pyfixest
        raise EstimationError("internal: a sparse regressor block needs the fast backend.")
    import pyfixest as pf

    xs = [f"_x{i}" for i in range(n_x)]
    fes = sorted(c for c in frame.columns if c.startswith("_fe"))
    cls = sorted(c for c in frame.columns if c.startswith("_cl"))
    weights = "_w" if "_w" in frame.columns else None
    fml = "_y ~ " + " + ".join(xs) + (" | " + " + ".join(fes) if fes else "")
    vc: Any = (vcov if vcov in ("hetero", "iid") else {"CRV1": "+".join(cls)})
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*dropped due to multicollinearity.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", message=".*removed because of separation.*")
        try:
            if family == "ols":
                m = pf.feols(fml, data=frame, vcov=vc, weights=weights, fixef_rm="none",
                             copy_data=False, store_data=False)
            else:
                m = pf.fepois(fml, data=frame, vcov=vc, weights=weights, fixef_rm="none",
                              copy_data=False, store_data=False)
        except ValueError as exc:
            if "collinear" in str(exc):
                raise EstimationError(
                    "every regressor is collinear with the fixed effects (e.g. the treatment "
                    "is constant within unit or within period); nothing can be estimated."
                ) from exc
            raise
    names = tuple(str(n) for n in m._coefnames)
    dropped = tuple(x for x in xs if x not in names)
    coef = np.asarray(m._beta_hat, dtype=float).ravel()
    V = np.asarray(m._vcov, dtype=float)
    nobs = int(m._N)
    df_t: float | None = float(m._df_t) if family == "ols" else None
    table = wald_table(coef, np.sqrt(np.diag(V)), alpha=alpha, df=df_t)
    n_cl: int | tuple[int, ...] | None
    if vcov in ("hetero", "iid"):
        n_cl = None
    else:
        G = [int(frame[c].nunique()) for c in cls]
        n_cl = G[0] if len(G) == 1 else tuple(G)
    boot = None
    if vcov == "wild":
        if len(cls) != 1:
            raise OptionError(
                "vcov='wild' supports one-way clustering only; got cluster columns "
                f"{len(cls)}. Pass a single cluster column."
            )
        if nobs != len(frame):  # pragma: no cover - feols with fixef_rm='none' keeps all rows
            raise EstimationError("vcov='wild': rows were dropped inside the fit.")
        X = frame[list(names)].to_numpy(dtype=float)
        cols = list(range(len(names))) if wild_cols is None else [
            names.index(xs[c]) for c in wild_cols if xs[c] in names]
        ssc = float(np.asarray(m._ssc).ravel()[0])
        fe_codes = frame[fes].to_numpy() if fes else None
        rows, nb, enum = _wild_table(
            frame["_y"].to_numpy(dtype=float), X, cols, frame[cls[0]].to_numpy(),
            fe=fe_codes, weights=frame["_w"].to_numpy() if weights else None,
            n_boot=n_boot, boot_weights=boot_weights, seed=seed, alpha=alpha, ssc=ssc,
        )
        for c, row in zip(cols, rows, strict=True):
            table.loc[c, ["p_value", "conf_low", "conf_high"]] = [
                row["p_value"], row["conf_low"], row["conf_high"]]
        boot = {"n_boot": nb, "enumerated": enum, "boot_weights": boot_weights, "seed": seed,
                "terms": tuple(names[c] for c in cols)}
    r2 = float(getattr(m, "_r2", math.nan)) if family == "ols" else math.nan
    r2w = float(getattr(m, "_r2_within", math.nan)) if family == "ols" else math.nan
    return _Fit(names=names, coef=coef, vcov=V, table=table, nobs=nobs, n_clusters=n_cl,
                df_t=df_t, dropped=dropped, n_dropped_fit=len(frame) - nobs, boot=boot,
                r2=r2, r2_within=r2w, backend="pyfixest")


def _use_fast(backend: str, family: str) -> bool:
    """Whether the fast path runs: ``'auto'`` and ``'fast'`` for OLS/WLS
    (:mod:`laborai.did._fastfe`) and Poisson (:mod:`laborai.did._fastpois`, IRLS on the same
    demeaner with pyfixest's separation, stopping and small-sample rules)."""
    check_option("backend", backend, _BACKENDS)
    if backend == "pyfixest":
        return False
    if family not in ("ols", "poisson"):  # pragma: no cover - check_option on family first
        if backend == "fast":
            raise OptionError(
                f"backend='fast' supports family='ols' or 'poisson'; got family={family!r}.")
        return False
    return True


@dataclass(frozen=True)
class _FastInputs:
    """The internal frame as arrays for the fast solvers (:func:`_fast_inputs`)."""

    xs: list[str]  # regressor names, the sparse block's first
    dcols: list[str]  # the frame's dense regressor columns
    cls: list[str]  # cluster columns
    y: np.ndarray
    X: np.ndarray | None
    fe: list[np.ndarray]
    w: np.ndarray | None
    kind: str  # 'cluster', 'hetero' or 'iid'
    clusters: list[np.ndarray] | None


def _fast_inputs(frame: pd.DataFrame, *, n_x: int, vcov: str, block: Any,
                 dense_cols: Sequence[str] | None) -> _FastInputs:
    """Arrays of the internal frame for ``fit_ols`` / ``fit_poisson`` (``'wild'``: CRV1)."""
    K = 0 if block is None else int(block.K)
    dcols = list(dense_cols) if dense_cols is not None else [f"_x{i}" for i in range(n_x)]
    fes = sorted(c for c in frame.columns if c.startswith("_fe"))
    cls = sorted(c for c in frame.columns if c.startswith("_cl"))
    kind = vcov if vcov in ("hetero", "iid") else "cluster"
    return _FastInputs(
        xs=[f"_x{i}" for i in range(K + len(dcols))], dcols=dcols, cls=cls,
        y=frame["_y"].to_numpy(dtype=float),
        X=frame[dcols].to_numpy(dtype=float) if dcols else None,
        fe=[frame[c].to_numpy() for c in fes],
        w=frame["_w"].to_numpy(dtype=float) if "_w" in frame.columns else None,
        kind=kind, clusters=[frame[c].to_numpy() for c in cls] if kind == "cluster" else None)


def _fit_core_fastpois(frame: pd.DataFrame, *, n_x: int, vcov: str, alpha: float, block: Any,
                       dense_cols: Sequence[str] | None) -> _Fit:
    """The fast Poisson path of :func:`_fit_core` (same outputs as pyfixest's fepois)."""
    from laborai.did._fastpois import fit_poisson

    a = _fast_inputs(frame, n_x=n_x, vcov=vcov, block=block, dense_cols=dense_cols)
    xs, cls, kind = a.xs, a.cls, a.kind
    f = fit_poisson(a.y, dense=a.X, fe=a.fe, clusters=a.clusters, weights=a.w, vcov=kind,
                    block=block)
    names = tuple(xs[j] for j in f.kept)
    dropped = tuple(xs[j] for j in f.dropped)
    table = wald_table(f.coef, np.sqrt(np.diag(f.vcov)), alpha=alpha, df=None)
    n_cl: int | tuple[int, ...] | None
    if kind != "cluster":
        n_cl = None
    else:  # counted on the whole frame, as the pyfixest path does
        G = [int(frame[c].nunique()) for c in cls]
        n_cl = G[0] if len(G) == 1 else tuple(G)
    return _Fit(names=names, coef=np.asarray(f.coef, dtype=float), vcov=f.vcov, table=table,
                nobs=f.nobs, n_clusters=n_cl, df_t=None, dropped=dropped,
                n_dropped_fit=len(frame) - f.nobs, boot=None, backend="fastpois",
                fe_method=f.method)


def _fit_core_fast(frame: pd.DataFrame, *, n_x: int, vcov: str, alpha: float, n_boot: int,
                   boot_weights: str, seed: int | None, wild_cols: Sequence[int] | None,
                   block: Any, dense_cols: Sequence[str] | None,
                   unique_pairs: bool = False) -> _Fit:
    """The fast path of :func:`_fit_core` (OLS/WLS; same outputs as pyfixest's)."""
    from laborai.did._fastfe import fit_ols

    a = _fast_inputs(frame, n_x=n_x, vcov=vcov, block=block, dense_cols=dense_cols)
    xs, dcols, cls, kind, y, fe, w = a.xs, a.dcols, a.cls, a.kind, a.y, a.fe, a.w
    f = fit_ols(y, dense=a.X, fe=fe, clusters=a.clusters, weights=w, vcov=kind, block=block,
                unique_pairs=unique_pairs and len(fe) == 2)
    names = tuple(xs[j] for j in f.kept)
    dropped = tuple(xs[j] for j in f.dropped)
    table = wald_table(f.coef, np.sqrt(np.diag(f.vcov)), alpha=alpha, df=f.df_t)
    n_cl: int | tuple[int, ...] | None
    if kind != "cluster":
        n_cl = None
    else:
        G = list(f.n_clusters)
        n_cl = G[0] if len(G) == 1 else tuple(G)
    boot = None
    if vcov == "wild":
        if len(cls) != 1:
            raise OptionError(
                "vcov='wild' supports one-way clustering only; got cluster columns "
                f"{len(cls)}. Pass a single cluster column."
            )
        if block is not None:  # pragma: no cover - event_study materialises for 'wild'
            raise EstimationError("internal: vcov='wild' with a sparse block.")
        Xk = frame[[dcols[xs.index(nm)] for nm in names]].to_numpy(dtype=float)
        cols = list(range(len(names))) if wild_cols is None else [
            names.index(xs[c]) for c in wild_cols if xs[c] in names]
        rows, nb, enum = _wild_table(
            y, Xk, cols, frame[cls[0]].to_numpy(),
            fe=np.column_stack(fe) if fe else None, weights=w,
            n_boot=n_boot, boot_weights=boot_weights, seed=seed, alpha=alpha, ssc=f.ssc,
        )
        for c, row in zip(cols, rows, strict=True):
            table.loc[c, ["p_value", "conf_low", "conf_high"]] = [
                row["p_value"], row["conf_low"], row["conf_high"]]
        boot = {"n_boot": nb, "enumerated": enum, "boot_weights": boot_weights, "seed": seed,
                "terms": tuple(names[c] for c in cols)}
    return _Fit(names=names, coef=np.asarray(f.coef, dtype=float), vcov=f.vcov, table=table,
                nobs=f.nobs, n_clusters=n_cl, df_t=f.df_t, dropped=dropped, n_dropped_fit=0,
                boot=boot, r2=f.r2, r2_within=f.r2_within, backend="fastfe",
                fe_method=f.method)



def _regression_placebo_choice(vcov: str, *, family: str, frame: pd.DataFrame,
                               treat_cols: Sequence[str], key: np.ndarray,
                               where: str, poisson: bool = False,
                               ) -> tuple[str | None, dict[str, Any] | None]:
    """Placebo inference for ``twfe``/``ddd`` with few treated clusters.

    Returns ``('placebo', plan)`` or ``(None, None)`` (let :func:`_resolve_vcov` decide).
    Treated units are those with a nonzero first treatment column. Each treatment column must
    be, on the treated units' rows, a function of ``key`` (the period, or period x tier):
    that template is given to each control cluster in turn (one common adoption date).
    ``poisson=True`` (``twfe``) admits ``family='poisson'`` under the same rules
    (:mod:`laborai.did._ppml_placebo`).
    """
    if vcov not in ("auto", "placebo"):
        return None, None
    cls = [c for c in frame.columns if c.startswith("_cl")]
    fam_ok = family == "ols" or (poisson and family == "poisson")
    if vcov == "auto" and (not fam_ok or len(cls) != 1
                           or _n_codes(frame[cls[0]].to_numpy()) >= FEW_CLUSTERS):
        return None, None  # 'auto' uses placebo inference with few clusters only
    why = None
    plan: dict[str, Any] | None = None
    if not fam_ok or len(cls) != 1:
        why = (f"needs one cluster column (got {len(cls)})" if fam_ok else
               f"needs family='ols' and one cluster column (got family={family!r})")
    else:
        x0 = frame[treat_cols[0]].to_numpy()
        units = frame["_fe0"].to_numpy()
        tunit = pd.Series(x0 != 0).groupby(units).transform("any").to_numpy()
        cl = frame[cls[0]].to_numpy()
        tcl = np.unique(cl[tunit])
        G, k = int(np.unique(cl).size), int(tcl.size)
        templates: dict[str, dict[Any, float]] = {}
        for c in treat_cols:
            v = pd.Series(frame[c].to_numpy()[tunit]).groupby(key[tunit])
            if (v.nunique() > 1).any():
                why = ("needs one common adoption date (the treatment of the treated units "
                       "differs within a period)")
                break
            templates[c] = v.first().to_dict()
        if why is None and k == 0:
            why = "found no treated unit"
        elif why is None and not set(np.unique(x0[tunit])) <= {0.0, 1.0}:
            why = "needs a 0/1 treatment"
        elif why is None and np.isin(cl, tcl).sum() != tunit.sum() and not (
                family == "poisson" and not np.any(np.isin(cl, tcl) & ~tunit & (pd.Series(
                    key).map(templates[treat_cols[0]]).fillna(0.0).to_numpy() != 0))):
            # (PPML: a unit of a treated cluster never observed in a treated period, e.g. one
            # that exits before the event, is not a counter-example)
            why = "needs every unit of a treated cluster to be treated"
        elif why is None and G - k < PLACEBO_MIN_CONTROLS:
            why = f"needs at least {PLACEBO_MIN_CONTROLS} control clusters"
        elif why is None and vcov == "auto" and not (G < FEW_CLUSTERS and k <= G - k):
            return None, None
        if why is None:
            plan = {"treated_units": tunit, "templates": templates, "key": key}
    if why is None:
        return "placebo", plan
    if vcov == "placebo":
        raise OptionError(f"{where}: vcov='placebo' {why}.")
    return None, None


def _inv_size(data: pd.DataFrame, size: str | None, weights: str | None, keep: np.ndarray,
              where: str) -> tuple[np.ndarray | None, str | None]:
    """Inverse cell sizes of the kept rows for the placebo size correction (Ferman-Pinto).

    ``size='auto'``: the weights column if there is one, else ``n_posts`` when the data have
    it, else no correction. Sizes below 1 count as 1. Returns ``(1 / size, column)``.
    """
    if size is None:
        return None, None
    if size == "weights":
        if not weights:
            return None, None
        size = weights
    if size == "auto":
        col = weights if weights else ("n_posts" if "n_posts" in data.columns else None)
        if col is None:
            return None, None
    else:
        if not isinstance(size, str) or size not in data.columns:
            raise OptionError(f"{where}: size={size!r} is not a column of the data; pass a "
                              "cell-size column (e.g. 'n_posts'), 'auto' or None.")
        col = size
    v = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)[keep]
    bad = ~np.isfinite(v)
    if bad.any():
        raise DataValidationError(
            f"{where}: size column {col!r} has {int(bad.sum())} missing or non-numeric "
            "value(s) in the estimation rows; the placebo size correction needs every cell's "
            "size (pass size=None to assume equal error variances).")
    return 1.0 / np.maximum(v, 1.0), col


def _regression_placebo_fit(fit: _Fit, frame: pd.DataFrame, treat_cols: Sequence[str],
                            n_x: int, plan: Mapping[str, Any], alpha: float, where: str
                            ) -> tuple[_Fit, dict[str, Any]]:
    """Replace the treatment block of ``fit``'s covariance by the placebo covariance."""
    from dataclasses import replace

    from laborai.did._placebo import pooled_placebo_cov

    tunit = plan["treated_units"]
    cl = frame["_cl0"].to_numpy()
    ctrl = ~np.isin(cl, np.unique(cl[tunit]))
    key_c = plan["key"][ctrl]
    xs = [f"_x{i}" for i in range(n_x)]
    rest = [c for c in xs if c not in treat_cols]
    others = frame[rest].to_numpy()[ctrl]
    tmpl = [np.array([plan["templates"][c].get(kk, 0.0) for kk in key_c]) for c in treat_cols]
    designs = []
    for j in np.unique(cl[ctrl]):
        pseudo = (cl[ctrl] == j).astype(float)
        X = np.column_stack([pseudo * t for t in tmpl])
        designs.append(np.column_stack([X, others]) if others.shape[1] else X)
    w = frame["_w"].to_numpy() if "_w" in frame.columns else None
    inv_size = plan.get("inv_size")
    Vp, J, n_tr, w2 = pooled_placebo_cov(
        frame["_y"].to_numpy(), w, frame[["_fe0", "_fe1"]].to_numpy(), cl, tunit, designs,
        len(treat_cols), inv_size=inv_size,
        design_full=None if inv_size is None else frame[[*treat_cols, *rest]].to_numpy(),
        basis=plan.get("basis"), rescale=plan.get("rescale"))
    if J < 3 or not np.all(np.isfinite(Vp)):
        raise EstimationError(
            f"{where}: only {J} control cluster(s) give a placebo estimate; placebo inference "
            "needs at least 3.")
    V = fit.vcov.copy()
    idx = [fit.names.index(c) for c in treat_cols if c in fit.names]
    sub = [i for i, c in enumerate(treat_cols) if c in fit.names]
    other = [i for i in range(len(fit.names)) if i not in idx]
    V[np.ix_(idx, other)] = 0.0
    V[np.ix_(other, idx)] = 0.0
    V[np.ix_(idx, idx)] = Vp[np.ix_(sub, sub)]
    df = float(J - 1)
    table = wald_table(fit.coef, np.sqrt(np.diag(V)), alpha=alpha, df=df)
    info = {"n_control_clusters": J, "n_treated_clusters": n_tr, "sum_w2": w2,
            "terms": tuple(fit.names[i] for i in idx)}
    return replace(fit, vcov=V, table=table, df_t=df, boot=None), info


def _warn_fit_drops(fit: _Fit, where: str) -> None:
    if fit.n_dropped_fit:
        warnings.warn(
            f"{where}: the estimator dropped {fit.n_dropped_fit} row(s) (e.g. units whose "
            "outcome is always zero are separated in Poisson models); recorded in "
            "result.n_dropped.",
            LaborAIWarning,
            stacklevel=3,
        )


def _is_datetime(s: pd.Series) -> bool:
    return bool(pd.api.types.is_datetime64_any_dtype(s))


def _to_ns(values: Any) -> np.ndarray:
    """Datetimes to int64 nanoseconds (NaT -> NaN as float)."""
    idx = pd.DatetimeIndex(pd.to_datetime(values))
    out = idx.as_unit("ns").asi8.astype(float)
    out[idx.isna()] = np.nan
    return out


def _varying_units(codes: np.ndarray, values: np.ndarray, data: pd.DataFrame,
                   idname: str) -> tuple[int, list[Any]]:
    """Units (codes of ``idname``) whose ``values`` vary: their count and the first five ids."""
    from laborai.did._fastfe import varying_levels

    vary = varying_levels(codes, values)
    n_bad = int(vary.sum())
    if not n_bad:
        return 0, []
    rows = vary[np.maximum(codes, 0)] & (codes >= 0)
    first = list(pd.unique(data[idname].to_numpy()[rows])[:5])
    return n_bad, first


def _event_positions(
    data: pd.DataFrame, idname: str, tname: str, event_date: Any, where: str,
    timing: str = "first_full", uc: np.ndarray | None = None, tc: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row period position on the sorted grid and the unit's event position (NaN: never)."""
    is_dt = _is_datetime(data[tname])
    if is_dt:
        tvals = _to_ns(data[tname])
    else:
        tvals = _numeric(data[tname], tname, where)
    if np.isnan(tvals).any():
        raise DataValidationError(
            f"{where}: period column {tname!r} has {int(np.isnan(tvals).sum())} missing value(s)."
        )
    if tc is not None and tc.size and int(tc.min()) >= 0:
        # the sorted codes are the positions on the grid of distinct periods
        grid = np.empty(int(tc.max()) + 1)
        grid[tc] = tvals
        pos = tc.astype(float)
    else:
        grid = np.unique(tvals)
        pos = np.searchsorted(grid, tvals).astype(float)
    if isinstance(event_date, str) and event_date in data.columns:
        col = data[event_date]
        if is_dt:
            try:
                ev = _to_ns(col)
            except (TypeError, ValueError) as exc:
                raise DataValidationError(
                    f"{where}: event_date column {event_date!r} must hold dates like period "
                    f"column {tname!r}; first values: {col.head(3).tolist()}."
                ) from exc
        else:
            ev = _numeric(col, event_date, where)
        n_bad, first = _varying_units(uc if uc is not None else _codes(data[idname]),
                                      ev, data, idname)
        if n_bad:
            raise DataValidationError(
                f"{where}: event_date column {event_date!r} must be constant within unit "
                f"{idname!r}; {n_bad} unit(s) vary (first: {first})."
            )
    elif isinstance(event_date, str) and not is_dt:
        raise DataValidationError(
            f"{where}: event_date {event_date!r} is neither a column of data nor a period value."
        )
    else:
        scalar = _to_ns([event_date])[0] if is_dt else float(event_date)
        ev = np.full(len(data), scalar)
    from laborai._timing import event_positions

    # positions of the distinct event dates only (a handful of cohorts), mapped back to rows
    ev = np.asarray(ev, dtype=float)
    ecode, euniq = pd.factorize(ev, use_na_sentinel=True)
    euniq = np.asarray(euniq, dtype=float)
    epos = np.full(len(ev), np.nan)
    if euniq.size:
        if is_dt:
            gvals: Any = pd.to_datetime(grid.astype(np.int64), unit="ns")
            evals: Any = pd.to_datetime(pd.Series(euniq), unit="ns")
        else:
            gvals, evals = grid, euniq
        upos = np.asarray(event_positions(gvals, evals, timing), dtype=float)
        has = ecode >= 0
        epos[has] = upos[ecode[has]]
    return pos, epos


def _sup_t_crit_placebo(V: np.ndarray, alpha: float, n_placebo: int, n_draws: int,
                        seed: int | None) -> float:
    """Sup-t critical value for placebo standard errors estimated from ``n_placebo`` clusters.

    Each coefficient has its own placebo standard error, so ``max_k |t_k|`` is not the maximum
    of a multivariate t (one common denominator), whose quantile is too small. Under the
    placebo model (normal, exchangeable cluster errors with correlation ``R``) the statistic
    is exactly ``max_k |Z_k| / sqrt(W_kk / nu)`` with ``Z ~ N(0, R)`` and ``W`` a Wishart
    matrix of ``nu = n_placebo - 1`` degrees of freedom with scale ``R``; this draws it.
    """
    sd = np.sqrt(np.diag(V))
    R = V / np.outer(sd, sd)
    ev, evec = np.linalg.eigh((R + R.T) / 2.0)
    L = evec * np.sqrt(np.clip(ev, 0.0, None))
    nu = max(int(n_placebo) - 1, 1)
    rng = np.random.default_rng(seed)
    K = R.shape[0]
    out = np.empty(n_draws)
    step = 5000
    for a in range(0, n_draws, step):
        m = min(step, n_draws - a)
        Z = rng.standard_normal((m, K)) @ L.T
        G = rng.standard_normal((m, nu, K)) @ L.T
        s = np.sqrt(np.mean(G**2, axis=1))
        out[a:a + m] = np.max(np.abs(Z) / s, axis=1)
    return float(np.quantile(out, 1.0 - alpha))


def _sup_t_crit(V: np.ndarray, alpha: float, df: float | None, n_draws: int,
                seed: int | None) -> float:
    """Sup-t critical value from a seeded multivariate normal (or t) draw."""
    sd = np.sqrt(np.diag(V))
    R = V / np.outer(sd, sd)
    ev, evec = np.linalg.eigh((R + R.T) / 2.0)
    L = evec * np.sqrt(np.clip(ev, 0.0, None))
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n_draws, R.shape[0])) @ L.T
    if df is not None and math.isfinite(df):
        Z /= np.sqrt(rng.chisquare(df, n_draws) / df)[:, None]
    return float(np.quantile(np.max(np.abs(Z), axis=1), 1.0 - alpha))
