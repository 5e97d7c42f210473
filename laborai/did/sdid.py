"""Synthetic difference-in-differences (Arkhangelsky, Athey, Hirshberg, Imbens and Wager, 2021).

Block designs only: a set of treated units all adopt the treatment in the same period and stay
treated. :func:`sdid` estimates the average effect on the treated units over the post-treatment
periods with unit weights and time weights chosen so that the weighted control units track the
treated ones before treatment (Algorithm 1 of the paper); ``method="sc"`` and ``method="did"``
give the synthetic-control and plain difference-in-differences estimators in the same framework.
Standard errors come from the placebo (Algorithm 4), jackknife (Algorithm 3) or bootstrap
(Algorithm 2) procedures.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from laborai._results import Provenance, ResultMixin, make_provenance, wald_table
from laborai._timing import TIMINGS, Timing, with_treatment_column
from laborai._validation import (
    check_frame_columns,
    check_option,
    check_time_column,
    check_unique_unit_period,
    resolve_seed,
)
from laborai.errors import (
    DataValidationError,
    EstimationError,
    OptionError,
    SmallSampleWarning,
)

__all__ = ["SDIDResult", "sdid"]

Method = Literal["sdid", "sc", "did"]
SEMethod = Literal["placebo", "jackknife", "bootstrap"]

_METHODS: tuple[str, ...] = ("sdid", "sc", "did")
_SE_METHODS: tuple[str | None, ...] = ("placebo", "jackknife", "bootstrap", None)

#: Solver settings (the defaults of the authors' reference implementation, R ``synthdid`` 0.0.9,
#: as documented in its manual): ``eta_lambda`` scales the time-weight ridge, ``eta_sc`` the
#: unit-weight ridge of the synthetic-control estimator, ``min_decrease`` (times the noise
#: level) the Frank-Wolfe stopping rule, ``max_iter`` the iteration cap after sparsification,
#: ``max_iter_pre_sparsify`` the cap before it.
SOLVER_DEFAULTS: dict[str, float] = {
    "eta_lambda": 1e-6,
    "eta_sc": 1e-6,
    "min_decrease": 1e-5,
    "max_iter": 10_000,
    "max_iter_pre_sparsify": 100,
}


# --------------------------------------------------------------------------------------------
# numerical kernels
# --------------------------------------------------------------------------------------------


def _fw_loop_numpy(
    A: np.ndarray, b: np.ndarray, zeta: float, w: np.ndarray, min_decrease: float,
    max_iter: int,
) -> np.ndarray:
    """Frank-Wolfe iterations on centred ``A``, ``b`` from ``w`` (the reference, pure NumPy).

    :func:`_fw_loop_compiled` performs the same floating-point operations in the same order
    (the dot products and the matrix-vector product through the same BLAS routines), so the
    two return bit-for-bit the same weights; ``tests/test_sdid.py`` checks that.
    """
    n = A.shape[0]
    eta = n * zeta**2
    Aw = A @ w
    err = Aw - b
    prev = np.inf
    cur = zeta**2 * float(w @ w) + float(err @ err) / n
    it = 0
    while it < max_iter and (it < 2 or prev - cur > min_decrease**2):
        grad = A.T @ err + eta * w
        i = int(np.argmin(grad))
        d = -w
        d[i] += 1.0
        d_err = A[:, i] - Aw
        denom = float(d_err @ d_err) + eta * float(d @ d)
        if denom > 0.0:
            step = min(1.0, max(0.0, -float(grad @ d) / denom))
            w = w + step * d
            Aw = Aw + step * d_err
            err = Aw - b
        prev, cur = cur, zeta**2 * float(w @ w) + float(err @ err) / n
        it += 1
    return w


def _fw_loop_compiled(
    A: np.ndarray, b: np.ndarray, zeta: float, w: np.ndarray, min_decrease: float,
    max_iter: int, row_major: bool, lda: int,
) -> np.ndarray:  # pragma: no cover - runs compiled by numba
    """:func:`_fw_loop_numpy` written for numba, ``w`` overwritten.

    Buffers are updated in place element by element (each element sees the same two roundings
    as NumPy's ``w + step * d``); the dot products and the products ``A @ w`` and ``A.T @ err``
    call BLAS ``ddot`` / ``dgemv`` with the arguments NumPy's ``matmul`` passes (transpose flag
    and leading dimension ``lda`` of ``A``'s memory: ``row_major`` when ``A``'s rows are
    contiguous), so the results are NumPy's to the last bit.
    """
    n, k = A.shape
    z2 = zeta**2
    eta = n * z2
    md2 = min_decrease**2
    ni = np.array([n], dtype=np.int32)
    ki = np.array([k], dtype=np.int32)
    ld = np.array([lda], dtype=np.int32)
    one = np.ones(1, dtype=np.int32)
    unit = np.ones(1)
    zero = np.zeros(1)
    # A @ w: dgemv('T', k, n) on row-major memory, dgemv('N', n, k) on column-major memory;
    # A.T @ err the other way round (Fortran dgemv: trans, m, n, alpha, a, lda, x, incx, beta,
    # y, incy)
    t_flag = np.array([ord("T")], dtype=np.uint8)
    n_flag = np.array([ord("N")], dtype=np.uint8)
    fw_flag, bw_flag = (t_flag, n_flag) if row_major else (n_flag, t_flag)
    m_dim, n_dim = (ki, ni) if row_major else (ni, ki)
    Aw = np.empty(n)
    grad = np.empty(k)
    _blas_dgemv(fw_flag.ctypes.data, m_dim.ctypes.data, n_dim.ctypes.data, unit.ctypes.data,
                A.ctypes.data, ld.ctypes.data, w.ctypes.data, one.ctypes.data,
                zero.ctypes.data, Aw.ctypes.data, one.ctypes.data)
    err = Aw - b
    d = np.empty(k)
    d_err = np.empty(n)
    pn, pk, p1 = ni.ctypes.data, ki.ctypes.data, one.ctypes.data
    pw, perr, pd, pde, pg = (w.ctypes.data, err.ctypes.data, d.ctypes.data,
                             d_err.ctypes.data, grad.ctypes.data)
    prev = np.inf
    cur = z2 * _blas_ddot(pk, pw, p1, pw, p1) + _blas_ddot(pn, perr, p1, perr, p1) / n
    it = 0
    while it < max_iter and (it < 2 or prev - cur > md2):
        _blas_dgemv(bw_flag.ctypes.data, m_dim.ctypes.data, n_dim.ctypes.data,
                    unit.ctypes.data, A.ctypes.data, ld.ctypes.data, perr, p1,
                    zero.ctypes.data, pg, p1)
        for j in range(k):
            grad[j] = grad[j] + eta * w[j]
        i = np.argmin(grad)
        for j in range(k):
            d[j] = -w[j]
        d[i] += 1.0
        for r in range(n):
            d_err[r] = A[r, i] - Aw[r]
        denom = _blas_ddot(pn, pde, p1, pde, p1) + eta * _blas_ddot(pk, pd, p1, pd, p1)
        if denom > 0.0:
            step = min(1.0, max(0.0, -_blas_ddot(pk, pg, p1, pd, p1) / denom))
            for j in range(k):
                w[j] = w[j] + step * d[j]
            for r in range(n):
                Aw[r] = Aw[r] + step * d_err[r]
                err[r] = Aw[r] - b[r]
        prev = cur
        cur = z2 * _blas_ddot(pk, pw, p1, pw, p1) + _blas_ddot(pn, perr, p1, perr, p1) / n
        it += 1
    return w


#: BLAS entry points for the compiled loop (numba intrinsics set by :func:`_fw_kernel`).
_blas_ddot: Any = None
_blas_dgemv: Any = None
_FW_KERNEL: list[Any] = []


def _blas_intrinsics() -> tuple[Any, Any]:
    """numba intrinsics calling SciPy's BLAS ``ddot`` and ``dgemv`` (the library numba's own
    ``np.dot`` uses) by symbol name, so the compiled loop can be cached on disk."""
    import llvmlite.binding as llb
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import get_cython_function_address, intrinsic

    ptr = ir.IntType(8).as_pointer()
    symbols = {}
    for name in ("ddot", "dgemv"):
        symbol = f"laborai_sdid_{name}"
        llb.add_symbol(symbol, get_cython_function_address("scipy.linalg.cython_blas", name))
        symbols[name] = symbol

    def call(builder: Any, ret: Any, name: str, args: Any) -> Any:
        fnty = ir.FunctionType(ret, [ptr] * len(args))
        fn = cgutils.get_or_insert_function(builder.module, fnty, symbols[name])
        return builder.call(fn, [builder.inttoptr(a, ptr) for a in args])

    @intrinsic
    def ddot(typingctx: Any, n: Any, x: Any, incx: Any, y: Any, incy: Any) -> Any:
        def codegen(context: Any, builder: Any, signature: Any, cargs: Any) -> Any:
            return call(builder, ir.DoubleType(), "ddot", cargs)
        return types.float64(n, x, incx, y, incy), codegen

    @intrinsic
    def dgemv(typingctx: Any, trans: Any, m: Any, n: Any, alpha: Any, a: Any, lda: Any,
              x: Any, incx: Any, beta: Any, y: Any, incy: Any) -> Any:
        def codegen(context: Any, builder: Any, signature: Any, cargs: Any) -> Any:
            call(builder, ir.VoidType(), "dgemv", cargs)
            return context.get_dummy_value()
        return types.none(trans, m, n, alpha, a, lda, x, incx, beta, y, incy), codegen

    return ddot, dgemv


def _fw_kernel() -> Any:
    """The compiled Frank-Wolfe loop (numba, compiled on first use and cached on disk), or None
    when numba is not importable. numba is imported here, not at ``import laborai``."""
    global _blas_ddot, _blas_dgemv
    if not _FW_KERNEL:
        try:
            import numba

            _blas_ddot, _blas_dgemv = _blas_intrinsics()
        except ImportError:  # pragma: no cover - numba comes with pyfixest
            _FW_KERNEL.append(None)
        else:
            _FW_KERNEL.append(numba.njit(cache=True, nogil=True)(_fw_loop_compiled))
    return _FW_KERNEL[0]


def _blas_args(A: np.ndarray) -> tuple[bool, int] | None:
    """``(row_major, lda)`` as NumPy's ``matmul`` hands ``A`` to BLAS, or None when NumPy would
    not call BLAS for it (then only the NumPy loop reproduces NumPy's rounding)."""
    if A.dtype != np.float64 or A.ndim != 2 or min(A.shape) < 1:
        return None
    s0, s1 = A.strides
    size = A.itemsize
    n, k = A.shape
    if s1 == size and s0 > 0 and s0 % size == 0 and s0 // size >= k:
        return True, s0 // size
    if s0 == size and s1 > 0 and s1 % size == 0 and s1 // size >= n:
        return False, s1 // size
    return None


def _frank_wolfe(
    A: np.ndarray,
    b: np.ndarray,
    zeta: float,
    intercept: bool,
    start: np.ndarray,
    min_decrease: float,
    max_iter: int,
    *,
    compiled: bool = True,
) -> np.ndarray:
    """Minimise ``||A w + c - b||^2 / n + zeta^2 ||w||^2`` over the simplex (and c if intercept).

    Frank-Wolfe with exact line search on the quadratic. The intercept is profiled out by
    centring the columns of ``A`` and ``b``. Iterations stop when an iteration lowers the
    objective by less than ``min_decrease**2`` or after ``max_iter`` iterations.
    The loop runs compiled (numba) whenever NumPy would hand ``A`` to BLAS (rows or columns
    contiguous, as in every call of the estimator); ``compiled=False`` runs the pure-NumPy loop
    (same result, bit for bit, 20-40 times slower).
    """
    if intercept:
        A = A - A.mean(axis=0)
        b = b - b.mean()
    w = start.astype(float).copy()
    A = np.asarray(A, dtype=float)
    blas = _blas_args(A) if compiled else None
    kernel = _fw_kernel() if blas is not None else None
    if kernel is None or blas is None:
        return _fw_loop_numpy(A, b, float(zeta), w, float(min_decrease), int(max_iter))
    # the leading dimension enters OpenBLAS's rounding of A @ w, so a strided view (method="sc":
    # no centring copy) is passed as it is, with NumPy's lda, never copied
    return np.asarray(kernel(A, np.ascontiguousarray(b, dtype=float), float(zeta), w,
                             float(min_decrease), int(max_iter), blas[0], blas[1]))


def _sparsify(w: np.ndarray) -> np.ndarray:
    v = np.where(w <= w.max() / 4.0, 0.0, w)
    return v / v.sum()


def _solve_weights(
    A: np.ndarray,
    b: np.ndarray,
    zeta: float,
    intercept: bool,
    min_decrease: float,
) -> np.ndarray:
    k = A.shape[1]
    start = np.full(k, 1.0 / k)
    w = _frank_wolfe(A, b, zeta, intercept, start, min_decrease,
                     int(SOLVER_DEFAULTS["max_iter_pre_sparsify"]))
    return _frank_wolfe(A, b, zeta, intercept, _sparsify(w), min_decrease,
                        int(SOLVER_DEFAULTS["max_iter"]))


def _noise_level(Y: np.ndarray, n0: int, t0: int) -> float:
    if t0 < 2:
        return 0.0
    diffs = np.diff(Y[:n0, :t0], axis=1).ravel()
    return float(np.std(diffs, ddof=1)) if diffs.size > 1 else 0.0


def _fit(Y: np.ndarray, n0: int, t0: int, method: str) -> tuple[float, np.ndarray, np.ndarray]:
    """Return ``(tau, omega, lambda)`` for the block design with controls/pre-periods first."""
    n, t = Y.shape
    n1, t1 = n - n0, t - t0
    if method == "did":
        omega = np.full(n0, 1.0 / n0)
        lam = np.full(t0, 1.0 / t0)
    else:
        sigma = _noise_level(Y, n0, t0)
        min_dec = SOLVER_DEFAULTS["min_decrease"] * sigma
        co_pre = Y[:n0, :t0]
        tr_pre = Y[n0:, :t0].mean(axis=0)
        if method == "sdid":
            zeta_omega = (n1 * t1) ** 0.25 * sigma
            zeta_lambda = SOLVER_DEFAULTS["eta_lambda"] * sigma
            co_post = Y[:n0, t0:].mean(axis=1)
            lam = _solve_weights(co_pre, co_post, zeta_lambda, True, min_dec)
            omega = _solve_weights(co_pre.T, tr_pre, zeta_omega, True, min_dec)
        else:  # "sc": no intercept, tiny ridge, no time weights
            zeta_omega = SOLVER_DEFAULTS["eta_sc"] * sigma
            lam = np.zeros(t0)
            omega = _solve_weights(co_pre.T, tr_pre, zeta_omega, False, min_dec)
    tau = _tau(Y, n0, t0, omega, lam)
    return tau, omega, lam


def _tau(Y: np.ndarray, n0: int, t0: int, omega: np.ndarray, lam: np.ndarray) -> float:
    """``(-omega, 1/N1)' Y (-lambda, 1/T1)``: weighted double difference."""
    tr = Y[n0:].mean(axis=0)
    co = omega @ Y[:n0]
    diff = tr - co
    return float(diff[t0:].mean() - lam @ diff[:t0])


# --------------------------------------------------------------------------------------------
# staggered adoption: one SDID per adoption cohort (pure NumPy)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CohortFit:
    start: int  # adoption period as a column index (= number of pre-periods)
    tau: float
    omega: np.ndarray  # weights of the never-treated units (in row order)
    lam: np.ndarray  # weights of the pre-periods
    n_treated: int
    n_post: int


def _cohort_rows(adopt: np.ndarray, start: int) -> np.ndarray:
    """Rows of the cohort's design: never-treated units, then the cohort's units (row order)."""
    return np.concatenate([np.flatnonzero(adopt < 0), np.flatnonzero(adopt == start)])


def _aggregate(taus: np.ndarray, n_treated: np.ndarray, n_post: np.ndarray) -> float:
    """Average of cohort estimates weighted by their numbers of treated unit-periods."""
    size = n_treated * n_post
    return float(np.dot(size / size.sum(), taus))  # exactly tau with a single cohort


def _fit_staggered(
    Y: np.ndarray, adopt: np.ndarray, method: str
) -> tuple[float, list[_CohortFit]]:
    """One estimator per adoption cohort (its units against all never-treated units, pre-period
    = the periods before its adoption, post-period = its adoption period to the end), and their
    average weighted by treated unit-periods."""
    n_t = Y.shape[1]
    n0 = int((adopt < 0).sum())
    fits = []
    for a in np.unique(adopt[adopt >= 0]):
        start = int(a)
        tau, omega, lam = _fit(Y[_cohort_rows(adopt, start)], n0, start, method)
        fits.append(_CohortFit(start, tau, omega, lam, int((adopt == start).sum()),
                               n_t - start))
    taus = np.array([f.tau for f in fits])
    agg = _aggregate(taus, np.array([f.n_treated for f in fits], dtype=float),
                     np.array([f.n_post for f in fits], dtype=float))
    return agg, fits


def _staggered_placebo(
    Y: np.ndarray, adopt: np.ndarray, fits: list[_CohortFit], method: str, n_reps: int,
    rng: np.random.Generator, progress: bool = False,
) -> tuple[list[float], np.ndarray]:
    """Placebo replications: never-treated units only; in each draw a random set of them gets
    the actual cohorts' adoption periods and sizes (Clarke et al. 2023, staggered Algorithm 4).
    With a single cohort this is exactly the block-design placebo (same draws)."""
    Yco = Y[adopt < 0]
    n_co = Yco.shape[0]
    n_tr = sum(f.n_treated for f in fits)
    reps: list[float] = []
    coh = np.empty((n_reps, len(fits)))
    for r in range(n_reps):
        perm = rng.permutation(n_co)
        pseudo = np.full(n_co, -1)
        pos = n_co - n_tr
        for f in fits:
            pseudo[pos : pos + f.n_treated] = f.start
            pos += f.n_treated
        agg, pf = _fit_staggered(Yco[perm], pseudo, method)
        reps.append(agg)
        coh[r] = [f.tau for f in pf]
        _report(progress, "placebo", r + 1, n_reps)
    return reps, coh


def _warn_few_donors(n0: int, n1: int) -> None:
    """Placebo standard errors are conservative when the controls are not many more than the
    treated units: each placebo leaves only ``n0 - n1`` donors for its synthetic control."""
    if n0 < 2 * n1:
        warnings.warn(
            f"sdid: placebo standard errors with {n1} treated and only {n0} control units: "
            f"each placebo builds its synthetic control from {n0 - n1} donors instead of "
            f"{n0}, so the standard error is too large and the interval conservative (the "
            "size measured on the simulated marketplace is in docs/validation.md).",
            SmallSampleWarning, stacklevel=3)


def _report(progress: bool, label: str, done: int, total: int) -> None:
    """With ``progress``, one line on stderr at every tenth of the replications (and the last)."""
    if progress and (done == total or done % max(1, total // 10) == 0):
        print(f"sdid {label}: {done}/{total} replications", file=sys.stderr, flush=True)


def _bootstrap_draw(rng: np.random.Generator, is_tr: np.ndarray) -> tuple[np.ndarray, int]:
    """One unit bootstrap draw, controls first then treated; redrawn while it has no treated
    unit, only treated units, or fewer than 2 controls. Returns (row order, n treated)."""
    n = len(is_tr)
    while True:
        draw = np.asarray(rng.integers(0, n, size=n))
        ntr = int(is_tr[draw].sum())
        if ntr > 0 and ntr < n and n - ntr >= 2:
            return np.concatenate([draw[~is_tr[draw]], draw[is_tr[draw]]]), ntr


def _staggered_bootstrap(
    Y: np.ndarray, adopt: np.ndarray, fits: list[_CohortFit], method: str, n_reps: int,
    rng: np.random.Generator, progress: bool = False,
) -> tuple[list[float], np.ndarray]:
    """Unit bootstrap of the whole staggered estimator (Algorithm 2); draws without treated
    units or with fewer than 2 never-treated units are redrawn; a cohort absent from a draw
    is absent from that draw's aggregate (NaN in its column)."""
    is_tr = adopt >= 0
    starts = [f.start for f in fits]
    reps: list[float] = []
    coh: list[list[float]] = []
    while len(reps) < n_reps:
        ordered, _ = _bootstrap_draw(rng, is_tr)
        agg, bf = _fit_staggered(Y[ordered], adopt[ordered], method)
        reps.append(agg)
        got = {f.start: f.tau for f in bf}
        coh.append([got.get(a, float("nan")) for a in starts])
        _report(progress, "bootstrap", len(reps), n_reps)
    return reps, np.asarray(coh)


def _staggered_jackknife(
    Y: np.ndarray, adopt: np.ndarray, fits: list[_CohortFit]
) -> tuple[list[float], np.ndarray]:
    """Leave-one-unit-out estimates (Algorithm 3) with every cohort's lambda and renormalised
    omega held fixed; the aggregation weights use the remaining numbers of treated units.
    Returns the aggregate pseudo-values (one per unit) and each cohort's pseudo-values
    (NaN for units outside the cohort's design)."""
    n = Y.shape[0]
    ctrl = np.flatnonzero(adopt < 0)
    n0 = len(ctrl)
    pos_in_ctrl = np.full(n, -1)
    pos_in_ctrl[ctrl] = np.arange(n0)
    reps: list[float] = []
    coh = np.full((n, len(fits)), np.nan)
    n_post = np.array([f.n_post for f in fits], dtype=float)
    for i in range(n):
        taus = np.empty(len(fits))
        n_tr = np.array([f.n_treated for f in fits], dtype=float)
        for k, f in enumerate(fits):
            rows = _cohort_rows(adopt, f.start)
            if adopt[i] < 0:
                om = np.delete(f.omega, pos_in_ctrl[i])
                om = np.full(n0 - 1, 1.0 / (n0 - 1)) if om.sum() <= 0 else om / om.sum()
                taus[k] = _tau(Y[rows[rows != i]], n0 - 1, f.start, om, f.lam)
                coh[i, k] = taus[k]
            elif adopt[i] == f.start:
                taus[k] = _tau(Y[rows[rows != i]], n0, f.start, f.omega, f.lam)
                coh[i, k] = taus[k]
                n_tr[k] -= 1
            else:
                taus[k] = f.tau
        reps.append(_aggregate(taus, n_tr, n_post))
    return reps, coh


def _jackknife_se(values: np.ndarray) -> float:
    v = values[np.isfinite(values)]
    m = len(v)
    return float(np.sqrt((m - 1) / m * np.sum((v - v.mean()) ** 2))) if m > 1 else float("nan")


def _replicate_se(values: np.ndarray) -> float:
    v = values[np.isfinite(values)]
    return float(np.sqrt(np.var(v))) if len(v) > 1 else float("nan")


# --------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class SDIDResult(ResultMixin):
    """Result of :func:`sdid`.

    Attributes
    ----------
    estimate, std_error : float
        Average treatment effect on the treated units over the post-treatment periods and its
        standard error (NaN when ``vcov=None``).
    method : {"sdid", "sc", "did"}
        Estimator.
    se_method : {"placebo", "jackknife", "bootstrap"} or None
        Variance procedure.
    unit_weights : pandas.DataFrame
        Columns ``unit, weight``: the control-unit weights omega (sum to one).
    time_weights : pandas.DataFrame
        Columns ``time, weight``: the pre-period weights lambda (sum to one; all zero for
        ``"sc"``).
    trajectories : pandas.DataFrame
        Columns ``time, treated, synthetic, synthetic_shifted``: treated average, omega-weighted
        control average, and the latter shifted by the lambda-weighted pre-period gap (the
        parallel-trends counterfactual the estimator compares with).
    replicates : tuple of float
        Placebo / bootstrap / jackknife estimates behind the standard error.
    n_treated, n_control, n_pre, n_post : int
        Design dimensions.
    noise_level : float
        Standard deviation of first differences of control outcomes in the pre-period.
    alpha : float
        One minus the confidence level of the normal interval in :meth:`tidy`.
    provenance : Provenance
        Settings, seed, package version and input hash.
    cohorts : pandas.DataFrame or None
        Staggered designs (``staggered=True``) only: one row per adoption cohort with columns
        ``group`` (adoption period), ``estimate``, ``std_error``, ``n_treated``, ``n_pre``,
        ``n_post``, ``weight`` (share of treated unit-periods, the aggregation weight) and
        ``noise_level``. Then ``unit_weights``, ``time_weights`` and ``trajectories`` carry a
        ``group`` column, ``n_treated`` counts all treated units, ``n_pre`` / ``n_post`` refer
        to the earliest cohort and ``noise_level`` is NaN (see the per-cohort values).
    seed : int or None
        Seed of the placebo / bootstrap draws (the resolved ``seed`` argument; also in the
        provenance).
    """

    estimate: float
    std_error: float
    method: str
    se_method: str | None
    unit_weights: pd.DataFrame
    time_weights: pd.DataFrame
    trajectories: pd.DataFrame
    replicates: tuple[float, ...]
    n_treated: int
    n_control: int
    n_pre: int
    n_post: int
    noise_level: float
    alpha: float
    provenance: Provenance = field(repr=False)
    cohorts: pd.DataFrame | None = None
    seed: int | None = None

    _title = "Synthetic difference-in-differences"

    @property
    def staggered(self) -> bool:
        """Whether the result comes from the staggered (per-cohort) estimator."""
        return self.cohorts is not None

    def __repr__(self) -> str:
        extra = f", n_cohorts={len(self.cohorts)}" if self.cohorts is not None else ""
        return (
            f"SDIDResult(method={self.method!r}, estimate={self.estimate:.6f}{extra}, "
            f"std_error={self.std_error:.6f}, se_method={self.se_method!r}, "
            f"n_treated={self.n_treated}, n_control={self.n_control}, "
            f"n_pre={self.n_pre}, n_post={self.n_post})"
        )

    def tidy(self) -> pd.DataFrame:
        """Return the estimate(s) as a table.

        Returns
        -------
        pandas.DataFrame
            Columns ``term, estimate, std_error, statistic, p_value, conf_low, conf_high``
            (normal reference distribution), then ``method`` and ``se_method``. A block design
            gives one row (``term="ATT"``). A staggered design gives one row per adoption
            cohort (``term="ATT(g=...)"``) followed by the aggregate (``term="ATT"``), with a
            ``group`` column holding the adoption period (missing on the aggregate row).
        """
        if self.cohorts is None:
            t = wald_table([self.estimate], [self.std_error], alpha=self.alpha)
            t.insert(0, "term", "ATT")
        else:
            c = self.cohorts
            t = wald_table(
                np.append(c["estimate"].to_numpy(dtype=float), self.estimate),
                np.append(c["std_error"].to_numpy(dtype=float), self.std_error),
                alpha=self.alpha,
            )
            t.insert(0, "term", [f"ATT(g={g})" for g in c["group"]] + ["ATT"])
            t["group"] = _group_column([*c["group"].tolist(), None])
        t["method"] = self.method
        t["se_method"] = self.se_method if self.se_method is not None else "none"
        return t

    def _header(self) -> list[tuple[str, str]]:
        lines = [
            ("Method", self.method),
            ("Standard error", f"{self.se_method} ({len(self.replicates)} replications)"
             if self.se_method else "none"),
            ("Treated / control units", f"{self.n_treated} / {self.n_control}"),
        ]
        if self.cohorts is None:
            lines.append(("Pre / post periods", f"{self.n_pre} / {self.n_post}"))
        else:
            lines.append(
                ("Design", f"staggered adoption, {len(self.cohorts)} cohort(s) "
                 f"({', '.join(str(g) for g in self.cohorts['group'])}); aggregate weighted "
                 "by treated unit-periods")
            )
        return lines

    def plot(self, ax: Any = None) -> Any:
        """Plot treated and synthetic-control trajectories.

        The dashed line is the omega-weighted control average shifted by the lambda-weighted
        pre-period gap (for ``"sc"`` the shift is zero); bars at the bottom show the time
        weights; the vertical line marks the first treated period.

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
        if self.cohorts is not None:
            return self._plot_cohorts(ax)
        tr = self.trajectories
        x = np.arange(len(tr))
        ax.plot(x, tr["treated"], color="black", label="Treated")
        ax.plot(x, tr["synthetic_shifted"], color="tab:red", linestyle="--",
                label="Synthetic control")
        ax.axvline(self.n_pre - 0.5, color="grey", linewidth=1)
        lam = self.time_weights["weight"].to_numpy()
        if lam.sum() > 0:
            lo, hi = ax.get_ylim()
            ax.bar(x[: self.n_pre], lam * 0.15 * (hi - lo) / lam.max(), bottom=lo,
                   color="tab:red", alpha=0.3, width=0.8, label="Time weights")
            ax.set_ylim(lo, hi)
        step = max(1, len(tr) // 8)
        ax.set_xticks(x[::step])
        ax.set_xticklabels([str(v) for v in tr["time"].iloc[::step]])
        ax.set_xlabel("Period")
        ax.set_ylabel("Outcome")
        ax.legend(frameon=False, fontsize="small")
        return ax

    def _plot_cohorts(self, ax: Any) -> Any:
        """Staggered designs: cohort estimates with their intervals and the aggregate."""
        t = self.tidy()
        cohort_rows = t.iloc[:-1]
        x = np.arange(len(cohort_rows))
        est = cohort_rows["estimate"].to_numpy(dtype=float)
        lo = cohort_rows["conf_low"].to_numpy(dtype=float)
        hi = cohort_rows["conf_high"].to_numpy(dtype=float)
        ok = np.isfinite(lo) & np.isfinite(hi)
        ax.errorbar(x[ok], est[ok], yerr=[est[ok] - lo[ok], hi[ok] - est[ok]], fmt="o",
                    color="black", capsize=3)
        ax.plot(x[~ok], est[~ok], "o", color="black")
        ax.axhline(self.estimate, color="tab:red", linestyle="--",
                   label=f"Aggregate ATT = {self.estimate:.3g}")
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_xticks(x)
        ax.set_xticklabels([str(g) for g in cohort_rows["group"]])
        ax.set_xlabel("Adoption cohort")
        ax.set_ylabel("ATT")
        ax.legend(frameon=False, fontsize="small")
        return ax


# --------------------------------------------------------------------------------------------
# public function
# --------------------------------------------------------------------------------------------


def _label(v: Any) -> Hashable:
    return v.item() if isinstance(v, np.generic) else v


def _group_column(values: list[Any]) -> Any:
    """Adoption periods as nullable Int64 when they are integers, else as objects."""
    present = [v for v in values if v is not None]
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in present):
        return pd.array(values, dtype="Int64")
    return pd.array(values, dtype=object)


def _prepare_panel(
    data: pd.DataFrame, yname: str, idname: str, tname: str, treated: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate a balanced panel with an absorbing 0/1 treatment.

    Returns the outcome matrix (units x periods, both sorted), each unit's adoption period as
    a column index (-1 for never-treated units), the sorted unit labels and the sorted periods.
    """
    check_frame_columns(data, {"yname": yname, "idname": idname, "tname": tname,
                               "dname": treated},
                        caller="sdid", hint="Drop or impute them explicitly (the estimator needs a "
                        "balanced panel)")
    if not pd.api.types.is_numeric_dtype(data[yname]):
        raise DataValidationError(
            f"column {yname!r} (yname) must be numeric; got dtype {data[yname].dtype}."
        )
    d = data[treated].astype(int) if data[treated].dtype == bool else data[treated]
    bad = ~d.isin([0, 1])
    if bad.any():
        raise DataValidationError(
            f"column {treated!r} (treated) must be a 0/1 indicator of treated unit-periods; "
            f"{int(bad.sum())} rows have other values, e.g. {d[bad].unique()[:5].tolist()}."
        )
    check_unique_unit_period(data, idname, tname)
    times = np.sort(data[tname].unique())
    units = np.sort(data[idname].unique())
    if len(data) != len(units) * len(times):
        counts = data.groupby(idname, sort=True).size()
        short = counts[counts < len(times)]
        raise DataValidationError(
            f"the panel must be balanced ({len(units)} units x {len(times)} periods = "
            f"{len(units) * len(times)} rows); got {len(data)} rows. {len(short)} units miss "
            f"periods, e.g. {short.index[:5].tolist()}. Keep a balanced sub-panel first."
        )
    Yw = data.pivot(index=idname, columns=tname, values=yname).reindex(index=units, columns=times)
    Dw = (
        data.assign(_d=d.astype(float))
        .pivot(index=idname, columns=tname, values="_d")
        .reindex(index=units, columns=times)
        .to_numpy()
    )
    is_tr = Dw.max(axis=1) > 0
    if not is_tr.any():
        raise EstimationError(
            f"no unit is ever treated (column {treated!r} is 0 everywhere); sdid needs at "
            "least one treated unit."
        )
    if is_tr.all():
        raise EstimationError(
            f"every unit is treated in some period (column {treated!r}); sdid needs "
            "never-treated control units."
        )
    adopt = np.where(is_tr, np.argmax(Dw > 0, axis=1), -1)
    expected = (np.arange(len(times))[None, :] >= adopt[:, None]).astype(float)
    off = is_tr & ~(Dw == expected).all(axis=1)
    if off.any():
        ex = units[off][:5].tolist()
        raise DataValidationError(
            f"sdid needs an absorbing treatment: treated units stay treated from their first "
            f"treated period on; {int(off.sum())} treated units switch the treatment off, e.g. "
            f"{idname}={ex}. Recode the treatment as absorbing or drop these units explicitly."
        )
    return Yw.to_numpy(dtype=float), adopt, units, times


def _check_design(adopt: np.ndarray, times: np.ndarray, units: np.ndarray) -> None:
    """At least 2 pre-periods for every cohort and at least 2 never-treated units."""
    starts = np.unique(adopt[adopt >= 0])
    short = starts[starts < 2]
    if len(short):
        listed = ", ".join(f"{_label(times[a])} ({int((adopt == a).sum())} units)" for a in short)
        raise EstimationError(
            f"sdid needs at least 2 pre-treatment periods for every adoption cohort; treatment "
            f"starts at {listed}, leaving {int(short.min())}. Use a panel with a longer "
            "pre-period or drop these units explicitly."
        )
    if int((adopt < 0).sum()) < 2:
        raise EstimationError(
            f"sdid needs at least 2 control units; got {int((adopt < 0).sum())}."
        )


def _prepare(
    data: pd.DataFrame, yname: str, idname: str, tname: str, treated: str
) -> tuple[np.ndarray, int, int, list[Hashable], list[Hashable]]:
    """Block design: controls first, then treated units; return (Y, n0, t0, units, times)."""
    Yw, adopt, units, times = _prepare_panel(data, yname, idname, tname, treated)
    is_tr = adopt >= 0
    starts, counts = np.unique(adopt[is_tr], return_counts=True)
    if len(starts) > 1:
        listed = ", ".join(f"{_label(times[s])}: {c} units" for s, c in zip(starts, counts,
                                                                            strict=True))
        main = starts[np.argmax(counts)]
        ex = units[is_tr][adopt[is_tr] != main][:5].tolist()
        raise DataValidationError(
            f"sdid needs a block design (all treated units adopt in the same period); column "
            f"{treated!r} has {len(starts)} adoption periods ({listed}); units outside the "
            f"most common one, e.g. {idname}={ex}. For staggered adoption pass staggered=True "
            "(one SDID per adoption cohort against the never-treated units, aggregated by the "
            "number of treated unit-periods)."
        )
    _check_design(adopt, times, units)
    t0 = int(starts[0])
    order = np.concatenate([np.flatnonzero(~is_tr), np.flatnonzero(is_tr)])
    Y = Yw[order]
    n0 = int((~is_tr).sum())
    return (Y, n0, t0, [_label(u) for u in units[order]], [_label(t) for t in times])


def sdid(
    data: pd.DataFrame,
    *,
    yname: str,
    idname: str,
    tname: str,
    dname: str | None = None,
    method: Method = "sdid",
    vcov: SEMethod | None = "placebo",
    n_reps: int = 200,
    seed: int | None = 0,
    alpha: float = 0.05,
    staggered: bool = False,
    event_date: str | None = None,
    timing: Timing = "first_full",
    progress: bool = False,
) -> SDIDResult:
    """Synthetic difference-in-differences for block and staggered adoption designs.

    Parameters
    ----------
    data : pandas.DataFrame
        Balanced panel in long format, one row per unit and period.
    yname : str
        Outcome column.
    idname : str
        Unit identifier column.
    tname : str
        Time column (sortable: numbers or datetimes; pandas ``Period`` values are refused).
    dname : str, optional
        0/1 (or bool) column equal to 1 for treated units in treated periods. All treated units
        must adopt in the same period and stay treated (unless ``staggered=True``). Give this
        or ``event_date``.
    event_date : str, optional
        Instead of ``dname``: each unit's event date (NaT / NaN: never treated); a unit is
        treated from its first treated period under ``timing`` (``docs/estimators/timing.md``).
    timing : {"first_full", "containing"}, default "first_full"
        With ``event_date``: treated from the first period starting on or after the date, or
        from the period containing it.
    progress : bool, default False
        Print a line to stderr at every tenth of the placebo or bootstrap replications. It
        never changes the result (nor its provenance).
    method : {"sdid", "sc", "did"}, default "sdid"
        Synthetic DiD, synthetic control (no intercept, no time weights), or plain DiD
        (uniform weights).
    vcov : {"placebo", "jackknife", "bootstrap"} or None, default "placebo"
        The inference (the house's one inference keyword; the values of R's ``synthdid``
        ``se`` methods): placebo (Algorithm 4; the only one available with a single
        treated unit), jackknife (Algorithm 3; needs at least two treated units), bootstrap
        (Algorithm 2), or None for no standard error.
    n_reps : int, default 200
        Replications for the placebo and bootstrap procedures.
    seed : int or None, default 0
        Seed of ``numpy.random.default_rng`` for the placebo and bootstrap draws; ``None``
        draws fresh entropy. The seed used is recorded in ``result.seed`` and the provenance,
        so identical calls give identical results.
    alpha : float, default 0.05
        One minus the confidence level of the normal interval.
    staggered : bool, default False
        Allow treated units to adopt in different periods. Each adoption cohort is estimated
        separately against the never-treated units (its pre-period: the periods before its
        adoption; its post-period: its adoption period to the last period) and the cohort
        estimates are averaged with weights proportional to their numbers of treated
        unit-periods (Arkhangelsky et al. 2021, appendix; Clarke et al. 2023). Without it a
        staggered treatment column raises :class:`~laborai.errors.DataValidationError`. With a
        single cohort the estimate, weights and replicates equal those of the block design.

    Returns
    -------
    SDIDResult
        Estimate, standard error, unit and time weights, trajectories and a ``plot()``; for
        ``staggered=True`` also ``cohorts`` (one row per adoption cohort) and per-cohort rows
        in ``tidy()``.

    Raises
    ------
    DataValidationError
        Missing columns or values, duplicates, unbalanced panel, non-binary treatment, or a
        treatment path that is not a block design.
    OptionError
        ``method`` or ``vcov`` outside the allowed values.
    EstimationError
        No treated or too few control units or pre-periods, or a variance procedure that is
        not defined for the design (jackknife with one treated unit, or with one treated unit
        in some adoption cohort; placebo with no more controls than treated units).

    Notes
    -----
    Let the N_co control units and T_pre pre-periods come first in the N x T outcome matrix
    Y, with N_tr = N - N_co treated units and T_post = T - T_pre post periods. The estimand is
    the average treatment effect on the treated units over the post periods,
    ``tau = (1 / (N_tr T_post)) sum_{i treated, t post} (Y_it(1) - Y_it(0))``.

    Algorithm 1 of Arkhangelsky et al. (2021): with sigma the standard deviation (denominator
    n - 1) of the first differences ``Y_{i,t+1} - Y_it`` of control units in the pre-period
    and ``zeta = (N_tr T_post)^(1/4) sigma``, the unit weights solve

    ``min_{omega_0, omega in simplex} sum_{t <= T_pre} (omega_0 + sum_i omega_i Y_it
    - mean_{tr} Y_t)^2 + zeta^2 T_pre ||omega||^2``

    and the time weights solve

    ``min_{lambda_0, lambda in simplex} sum_{i <= N_co} (lambda_0 + sum_t lambda_t Y_it
    - mean_{post} Y_i)^2 + zeta_lambda^2 N_co ||lambda||^2``

    with ``zeta_lambda = 1e-6 sigma``. Both are solved by Frank-Wolfe with exact line search
    (the intercept is profiled out by centring), started from uniform weights: first for at
    most 100 iterations, then weights at or below a quarter of the largest are set to zero
    ("sparsification"), then up to 10,000 more iterations, stopping once an iteration lowers
    the objective (divided by the number of rows) by less than ``(1e-5 sigma)^2``. These
    solver settings are the defaults documented for the authors' R package ``synthdid`` 0.0.9
    (facts only; no code was used). The estimate is the weighted double difference
    ``tau = (mean_tr - omega' Y_co)_post-average - lambda' (mean_tr - omega' Y_co)_pre``.

    ``method="sc"`` is synthetic control in the same framework: unit weights without
    intercept and with ridge ``1e-6 sigma``, no time weights, so ``tau`` is the post-period gap
    between the treated average and the weighted controls. ``method="did"`` uses uniform
    weights.

    Standard errors: placebo (Algorithm 4) draws, ``n_reps`` times, N_tr of the controls as
    placebo-treated units and re-runs the full estimator (including sigma and zeta) on the
    control units only; bootstrap (Algorithm 2) resamples units with replacement (redrawing
    samples without treated or without control units) and re-runs the estimator; both report
    ``sqrt(mean((tau_b - mean(tau_b))^2))``. Jackknife (Algorithm 3) drops one unit at a time,
    keeps lambda and the renormalised omega fixed, and reports
    ``sqrt((N - 1) / N sum (tau_(-i) - mean)^2)``.

    Staggered adoption (``staggered=True``): with cohorts ``a`` of ``N_a`` treated units
    adopting in period ``a`` and ``T_post,a`` post-periods, the estimate is
    ``tau = sum_a (N_a T_post,a) tau_a / sum_a (N_a T_post,a)``, the average effect over all
    treated unit-periods. The standard errors re-run the whole procedure: the placebo gives,
    in each draw, randomly chosen never-treated units the actual cohorts' adoption periods and
    sizes and estimates on the never-treated units only (needs more never-treated units than
    treated units); the bootstrap resamples units (a cohort absent from a draw does not enter
    that draw's aggregate); the jackknife leaves out one unit at a time with every cohort's
    weights fixed and the aggregation weights recomputed (needs at least 2 treated units in
    every cohort). Per-cohort standard errors come from the same replications (for the
    jackknife, from the units of the cohort's own design).

    On California's Proposition 99 (Abadie, Diamond and Hainmueller, 2010; 38 control
    states, 1970-1988 pre-period) this gives -15.6038 (SDID), -27.3491 (DiD) and -19.6197 (SC),
    matching Table 1 of Arkhangelsky et al. (2021) and ``synthdid`` 0.0.9. The placebo standard
    error of the SDID estimate is 9.28 with 1,000 draws (``seed=42``) and 10.3 / 10.9 with 200
    draws (seeds 0 / 1), in line with the published value of about 9-10 (placebo standard
    errors are Monte Carlo quantities; they differ from other implementations' by the random
    draws).

    References
    ----------
    Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. and Wager, S. (2021).
    Synthetic difference-in-differences. *American Economic Review*, 111(12), 4088-4118.

    Abadie, A., Diamond, A. and Hainmueller, J. (2010). Synthetic control methods for
    comparative case studies. *Journal of the American Statistical Association*, 105(490),
    493-505.

    Clarke, D., Pailañir, D., Athey, S. and Imbens, G. (2023). Synthetic difference in
    differences estimation. IZA Discussion Paper 15907 (the ``sdid`` Stata command).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from laborai.did.sdid import sdid
    >>> rng = np.random.default_rng(0)
    >>> rows = [(i, t, float(i < 2 and t >= 8), rng.normal() + 0.1 * t)
    ...         for i in range(12) for t in range(10)]
    >>> df = pd.DataFrame(rows, columns=["unit", "t", "d", "y"])
    >>> df["y"] += 2.0 * df["d"]
    >>> res = sdid(df, yname="y", idname="unit", tname="t", dname="d", vcov=None)
    >>> res.n_treated, res.n_pre
    (2, 8)
    """
    check_option("method", method, _METHODS)
    check_option("vcov", vcov, _SE_METHODS)
    se = vcov
    if not isinstance(n_reps, (int, np.integer)) or isinstance(n_reps, bool) or n_reps < 2:
        raise DataValidationError(
            f"n_reps must be an integer of at least 2; got {n_reps!r}. The default is 200."
        )
    if not 0.0 < alpha < 1.0:
        raise DataValidationError(f"alpha must lie strictly between 0 and 1; got {alpha!r}.")
    if not isinstance(staggered, (bool, np.bool_)):
        raise OptionError(f"staggered must be True or False; got {staggered!r}.")
    check_option("timing", timing, TIMINGS)
    if not isinstance(progress, (bool, np.bool_)):
        raise OptionError(f"progress must be True or False; got {progress!r}.")
    seed = resolve_seed(seed)
    if (dname is None) == (event_date is None):
        raise OptionError(
            "pass exactly one of dname (a 0/1 column) and event_date (a date column); got "
            f"dname={dname!r}, event_date={event_date!r}."
        )
    if isinstance(data, pd.DataFrame) and tname in data.columns:
        check_time_column(data, tname, where="sdid")
    work, treated_col = data, str(dname)
    if event_date is not None:
        work, treated_col = with_treatment_column(data, idname=idname, tname=tname,
                                                  event_date=event_date, timing=timing,
                                                  where="sdid")
    extra = {"event_date": event_date, "timing": timing, "seed": seed}
    if staggered:
        return _sdid_staggered(work, yname=yname, idname=idname, tname=tname,
                               treated=treated_col, method=method, se=se, n_reps=int(n_reps),
                               seed=seed, alpha=float(alpha), original=data, extra=extra,
                               progress=bool(progress))

    Y, n0, t0, units, times = _prepare(work, yname, idname, tname, treated_col)
    n, t = Y.shape
    n1 = n - n0
    tau, omega, lam = _fit(Y, n0, t0, method)

    reps: list[float] = []
    std_error = float("nan")
    if se == "placebo":
        if n0 <= n1:
            raise EstimationError(
                f"placebo standard errors need more control units than treated units; got "
                f"{n0} controls and {n1} treated. Use vcov='bootstrap' or vcov='jackknife'."
            )
        if n0 - n1 < 2:
            raise EstimationError(
                f"placebo standard errors leave {n0 - n1} control unit(s) per draw; at least 2 "
                "are needed. Use vcov='bootstrap' or vcov='jackknife'."
            )
        _warn_few_donors(n0, n1)
        rng = np.random.default_rng(seed)
        Yco = Y[:n0]
        for _ in range(n_reps):
            perm = rng.permutation(n0)
            reps.append(_fit(Yco[perm], n0 - n1, t0, method)[0])
            _report(progress, "placebo", len(reps), n_reps)
        std_error = float(np.sqrt(np.var(reps)))
    elif se == "bootstrap":
        rng = np.random.default_rng(seed)
        is_tr = np.arange(n) >= n0
        while len(reps) < n_reps:
            ordered, ntr = _bootstrap_draw(rng, is_tr)
            reps.append(_fit(Y[ordered], n - ntr, t0, method)[0])
            _report(progress, "bootstrap", len(reps), n_reps)
        std_error = float(np.sqrt(np.var(reps)))
    elif se == "jackknife":
        if n1 < 2:
            raise EstimationError(
                f"the jackknife needs at least 2 treated units; got {n1}. With a single "
                "treated unit use vcov='placebo' (Algorithm 4)."
            )
        for i in range(n):
            keep = np.delete(np.arange(n), i)
            if i < n0:
                om = np.delete(omega, i)
                if om.sum() <= 0:
                    om = np.full(n0 - 1, 1.0 / (n0 - 1))
                else:
                    om = om / om.sum()
                reps.append(_tau(Y[keep], n0 - 1, t0, om, lam))
            else:
                reps.append(_tau(Y[keep], n0, t0, omega, lam))
        r = np.asarray(reps)
        std_error = float(np.sqrt((n - 1) / n * np.sum((r - r.mean()) ** 2)))

    treated_path = Y[n0:].mean(axis=0)
    synth = omega @ Y[:n0]
    shift = float(lam @ (treated_path[:t0] - synth[:t0]))
    trajectories = pd.DataFrame(
        {"time": times, "treated": treated_path, "synthetic": synth,
         "synthetic_shifted": synth + shift}
    )
    settings = {"yname": yname, "idname": idname, "tname": tname, "dname": dname,
                "method": method, "vcov": se, "n_reps": n_reps, "alpha": alpha, **extra,
                **{k: v for k, v in SOLVER_DEFAULTS.items()}}
    return SDIDResult(
        estimate=tau,
        std_error=std_error,
        method=method,
        se_method=se,
        unit_weights=pd.DataFrame({"unit": units[:n0], "weight": omega}),
        time_weights=pd.DataFrame({"time": times[:t0], "weight": lam}),
        trajectories=trajectories,
        replicates=tuple(float(x) for x in reps),
        n_treated=n1,
        n_control=n0,
        n_pre=t0,
        n_post=t - t0,
        noise_level=_noise_level(Y, n0, t0),
        alpha=alpha,
        provenance=make_provenance("sdid", data, settings, seed=seed),
        seed=seed,
    )


def _sdid_staggered(
    data: pd.DataFrame,
    *,
    yname: str,
    idname: str,
    tname: str,
    treated: str,
    method: str,
    se: str | None,
    n_reps: int,
    seed: int | None,
    alpha: float,
    original: pd.DataFrame | None = None,
    extra: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> SDIDResult:
    """:func:`sdid` with ``staggered=True`` (arguments already checked)."""
    Yw, adopt_w, units_w, times_w = _prepare_panel(data, yname, idname, tname, treated)
    _check_design(adopt_w, times_w, units_w)
    tr_idx = np.flatnonzero(adopt_w >= 0)
    order = np.concatenate([np.flatnonzero(adopt_w < 0),
                            tr_idx[np.argsort(adopt_w[tr_idx], kind="stable")]])
    Y, adopt = Yw[order], adopt_w[order]
    units = [_label(u) for u in units_w[order]]
    times = [_label(t) for t in times_w]
    n0 = int((adopt < 0).sum())
    n_tr = len(tr_idx)

    tau, fits = _fit_staggered(Y, adopt, method)
    groups = [times[f.start] for f in fits]
    if se == "placebo" and (n0 <= n_tr or n0 - n_tr < 2):
        raise EstimationError(
            f"placebo standard errors need more never-treated units than treated units, with "
            f"at least 2 left as controls in every draw; got {n0} never-treated and {n_tr} "
            "treated units (all cohorts). Use vcov='bootstrap', or vcov='jackknife' when every "
            "cohort has at least 2 treated units."
        )
    if se == "placebo":
        _warn_few_donors(n0, n_tr)
    if se == "jackknife":
        single = [(g, units[int(np.flatnonzero(adopt == f.start)[0])])
                  for g, f in zip(groups, fits, strict=True) if f.n_treated < 2]
        if single:
            listed = ", ".join(f"{g} ({idname}={u!r})" for g, u in single)
            raise EstimationError(
                f"the jackknife needs at least 2 treated units in every adoption cohort; "
                f"{len(single)} cohort(s) have one: {listed}. Use vcov='placebo' or "
                "vcov='bootstrap'."
            )

    reps: list[float] = []
    std_error = float("nan")
    cohort_se = np.full(len(fits), np.nan)
    if se == "placebo":
        reps, coh = _staggered_placebo(Y, adopt, fits, method, n_reps,
                                       np.random.default_rng(seed), progress)
        std_error = _replicate_se(np.asarray(reps))
        cohort_se = np.array([_replicate_se(coh[:, k]) for k in range(len(fits))])
    elif se == "bootstrap":
        reps, coh = _staggered_bootstrap(Y, adopt, fits, method, n_reps,
                                         np.random.default_rng(seed), progress)
        std_error = _replicate_se(np.asarray(reps))
        cohort_se = np.array([_replicate_se(coh[:, k]) for k in range(len(fits))])
    elif se == "jackknife":
        reps, coh = _staggered_jackknife(Y, adopt, fits)
        std_error = _jackknife_se(np.asarray(reps))
        cohort_se = np.array([_jackknife_se(coh[:, k]) for k in range(len(fits))])

    size = np.array([f.n_treated * f.n_post for f in fits], dtype=float)
    noise = []
    unit_rows, time_rows, traj_rows = [], [], []
    for g, f in zip(groups, fits, strict=True):
        rows = _cohort_rows(adopt, f.start)
        Ya = Y[rows]
        noise.append(_noise_level(Ya, n0, f.start))
        unit_rows.append(pd.DataFrame({"group": g, "unit": units[:n0], "weight": f.omega}))
        time_rows.append(pd.DataFrame({"group": g, "time": times[: f.start],
                                       "weight": f.lam}))
        treated_path = Ya[n0:].mean(axis=0)
        synth = f.omega @ Ya[:n0]
        shift = float(f.lam @ (treated_path[: f.start] - synth[: f.start]))
        traj_rows.append(pd.DataFrame({"group": g, "time": times, "treated": treated_path,
                                       "synthetic": synth, "synthetic_shifted": synth + shift}))
    cohorts = pd.DataFrame({
        "group": groups,
        "estimate": [f.tau for f in fits],
        "std_error": cohort_se,
        "n_treated": [f.n_treated for f in fits],
        "n_pre": [f.start for f in fits],
        "n_post": [f.n_post for f in fits],
        "weight": size / size.sum(),
        "noise_level": noise,
    })
    settings = {"yname": yname, "idname": idname, "tname": tname, "dname": treated,
                "method": method, "vcov": se, "n_reps": n_reps, "alpha": alpha,
                "staggered": True, **(extra or {}),
                **{k: v for k, v in SOLVER_DEFAULTS.items()}}
    first = min(f.start for f in fits)
    return SDIDResult(
        estimate=tau,
        std_error=std_error,
        method=method,
        se_method=se,
        unit_weights=pd.concat(unit_rows, ignore_index=True),
        time_weights=pd.concat(time_rows, ignore_index=True),
        trajectories=pd.concat(traj_rows, ignore_index=True),
        replicates=tuple(float(x) for x in reps),
        n_treated=n_tr,
        n_control=n0,
        n_pre=first,
        n_post=len(times) - first,
        noise_level=float("nan"),
        alpha=alpha,
        provenance=make_provenance("sdid", data if original is None else original, settings,
                                   seed=seed),
        cohorts=cohorts,
        seed=seed,
    )
