"""The fast fixed-effects path (laborai.did._fastfe) used by twfe / event_study / ddd (issue 16).

Parity: coefficients within 1e-10 and standard errors within 1e-8 (relative) of pyfixest on the
reference specifications -- balanced, unbalanced, weighted, singleton-containing panels; iid,
HC1, one-way and two-way CRV1 (fixest small-sample conventions, nested fixed effects), controls,
the memory-lean event study and the triple difference. pyfixest is run with a tight demeaning
tolerance (1e-13) where its default (1e-6) would leave its own convergence error in the
reference (unbalanced or weighted panels); on balanced unweighted panels its default is exact.
"""

from __future__ import annotations

import pickle
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from pyfixest.demeaners import MapDemeaner

import laborai as la
from laborai._hashing import frame_hash, hashing_in_background
from laborai.did import _fastfe
from laborai.did._fastfe import Demeaner, SparseBlock, fit_ols
from laborai.errors import ConvergenceWarning, DataValidationError, EstimationError, OptionError

COEF_TOL = 1e-10
SE_RTOL = 1e-8
TIGHT = MapDemeaner(fixef_tol=1e-13)


def _panel(N: int = 240, T: int = 10, *, drop: float = 0.0, weights: bool = False,
           singletons: int = 0, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"unit": np.repeat(np.arange(N), T), "t": np.tile(np.arange(T), N)})
    if drop:
        df = df[rng.random(len(df)) > drop]
    if singletons:  # units observed in one period only
        extra = pd.DataFrame({"unit": np.arange(N, N + singletons),
                              "t": rng.integers(0, T, singletons)})
        df = pd.concat([df, extra])
    df = df.reset_index(drop=True)
    u = df["unit"].to_numpy()
    df["grp"] = u % 23
    df["region"] = (df["t"].to_numpy() % 4) + 4 * (u % 3)
    treated = u < N // 2
    df["d"] = (treated & (df["t"] >= T // 2)).astype(float)
    df["x"] = rng.normal(size=len(df))
    ue = rng.normal(size=u.max() + 1)[u]
    df["y"] = (0.4 * df["d"] + 0.3 * df["x"] + ue + 0.1 * df["t"]
               + rng.normal(size=len(df)) * (1 + 0.5 * treated))
    df["w"] = rng.uniform(0.5, 4.0, len(df)) if weights else 1.0
    return df


SPECS = {
    "balanced": {},
    "unbalanced": {"drop": 0.25},
    "weighted": {"weights": True},
    "unbalanced_weighted": {"drop": 0.25, "weights": True},
    "singletons": {"drop": 0.1, "singletons": 15},
}
VCOVS = {"iid": ("iid", None), "hc1": ("hetero", None), "crv1": ("cluster", "grp"),
         "crv1_unit": ("cluster", "unit"), "crv1_twoway": ("cluster", ("grp", "region"))}


def _pf_vcov(vcov: str, cluster: object) -> object:
    if vcov == "iid":
        return "iid"
    if vcov == "hetero":
        return "hetero"
    cl = [cluster] if isinstance(cluster, str) else list(cluster)  # type: ignore[arg-type]
    return {"CRV1": "+".join(cl)}


@pytest.mark.parametrize("spec", list(SPECS))
@pytest.mark.parametrize("vc", list(VCOVS))
def test_twfe_fast_path_equals_pyfixest(spec: str, vc: str) -> None:
    df = _panel(**SPECS[spec])  # type: ignore[arg-type]
    vcov, cluster = VCOVS[vc]
    w = "w" if SPECS[spec].get("weights") else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = la.did.twfe(df, yname="y", dname="d", idname="unit", tname="t", controls=["x"],
                        cluster=cluster, weights=w, vcov=vcov, backend="fast")
        m = pf.feols("y ~ d + x | unit + t", data=df, vcov=_pf_vcov(vcov, cluster),
                     weights=w, fixef_rm="none", demeaner=TIGHT)
    assert r.provenance.settings["backend"] == "fastfe"
    np.testing.assert_allclose(r.coef, m._beta_hat, rtol=0, atol=COEF_TOL)
    np.testing.assert_allclose(np.sqrt(np.diag(r.vcov)), m._se, rtol=SE_RTOL, atol=0)
    np.testing.assert_allclose(r.vcov, m._vcov, rtol=1e-7, atol=1e-14)
    assert r.df_resid == pytest.approx(float(m._df_t))
    assert r.nobs == m._N == len(df)
    assert r.r2 == pytest.approx(m._r2, abs=1e-10)
    assert r.r2_within == pytest.approx(m._r2_within, abs=1e-10)


@pytest.mark.parametrize("spec", ["balanced", "unbalanced_weighted", "singletons"])
def test_fast_and_pyfixest_backends_agree_through_twfe(spec: str) -> None:
    df = _panel(**SPECS[spec])  # type: ignore[arg-type]
    w = "w" if SPECS[spec].get("weights") else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = la.did.twfe(df, yname="y", dname="d", idname="unit", tname="t", cluster="grp",
                        weights=w, vcov="cluster", backend="fast")
        b = la.did.twfe(df, yname="y", dname="d", idname="unit", tname="t", cluster="grp",
                        weights=w, vcov="cluster", backend="pyfixest")
    assert b.provenance.settings["backend"] == "pyfixest"
    # pyfixest's default demeaning tolerance (1e-6) bounds the agreement off balanced panels
    tol = COEF_TOL if spec == "balanced" else 1e-6
    np.testing.assert_allclose(a.coef, b.coef, rtol=0, atol=tol)
    np.testing.assert_allclose(np.sqrt(np.diag(a.vcov)), np.sqrt(np.diag(b.vcov)),
                               rtol=SE_RTOL if spec == "balanced" else 1e-5)
    assert a.tidy().columns.tolist() == b.tidy().columns.tolist()


def _event_panel(N: int = 300, T: int = 14, *, drop: float = 0.0, weights: bool = False,
                 seed: int = 5) -> pd.DataFrame:
    df = _panel(N, T, drop=drop, weights=weights, seed=seed)
    rng = np.random.default_rng(seed + 1)
    u = df["unit"].to_numpy()
    coh = np.where(np.arange(N) < N // 2, rng.integers(4, 10, N), -1).astype(float)
    coh[coh < 0] = np.nan
    df["cohort"] = coh[u]
    rel = df["t"].to_numpy() - np.nan_to_num(df["cohort"].to_numpy(), nan=-1e6)
    df["y"] = df["y"] + np.where(np.isfinite(df["cohort"]) & (rel >= 0), 0.2, 0.0)
    df["et"] = np.where(np.isfinite(df["cohort"]), np.clip(rel, -4, 4), -1).astype(int)
    return df


@pytest.mark.parametrize("drop,weights,vcov,cluster", [
    (0.0, False, "cluster", "grp"), (0.2, True, "cluster", "grp"),
    (0.2, False, "hetero", None), (0.0, True, "cluster", ("grp", "region")),
])
def test_lean_event_study_equals_pyfixest(drop: float, weights: bool, vcov: str,
                                          cluster: object, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    df = _event_panel(drop=drop, weights=weights)
    monkeypatch.setattr(_fastfe, "CHUNK_BYTES", 8 * len(df) * 3)  # 3 columns per chunk
    w = "w" if weights else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = la.did.event_study(df, yname="y", idname="unit", tname="t", event_date="cohort",
                               window=(-4, 4), ref=-1, cluster=cluster, weights=w,
                               controls=["x"], vcov=vcov, n_boot=1000)  # type: ignore[arg-type]
        m = pf.feols("y ~ i(et, ref=-1) + x | unit + t", data=df, weights=w,
                     vcov=_pf_vcov(vcov, cluster), fixef_rm="none", demeaner=TIGHT)
    assert r.provenance.settings["backend"] == "fastfe"
    assert r.provenance.settings["backend_requested"] == "auto"
    nx = len(r.coef)
    assert nx == 8
    np.testing.assert_allclose(r.coef, m._beta_hat[:nx], rtol=0, atol=COEF_TOL)
    np.testing.assert_allclose(np.sqrt(np.diag(r.vcov)), m._se[:nx], rtol=SE_RTOL)


def test_event_study_backends_agree_and_dense_path_still_works() -> None:
    df = _event_panel()
    kw = dict(yname="y", idname="unit", tname="t", event_date="cohort", window=(-4, 4),
              cluster="grp", vcov="cluster", n_boot=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = la.did.event_study(df, **kw)  # type: ignore[arg-type]
        b = la.did.event_study(df, backend="pyfixest", **kw)  # type: ignore[arg-type]
    assert b.provenance.settings["backend"] == "pyfixest"
    np.testing.assert_allclose(a.coef, b.coef, atol=COEF_TOL)
    np.testing.assert_allclose(np.sqrt(np.diag(a.vcov)), np.sqrt(np.diag(b.vcov)), rtol=1e-8)
    pd.testing.assert_frame_equal(a.tidy(), b.tidy(), rtol=1e-7)
    assert a.pretrend["p_value"] == pytest.approx(b.pretrend["p_value"], rel=1e-6)


def test_ddd_fast_path_equals_pyfixest_backend() -> None:
    df = _panel(drop=0.1)
    df["exposed"] = (df["unit"] < 120).astype(int)
    df["high"] = (df["unit"] % 2).astype(int)
    df["post"] = (df["t"] >= 5).astype(int)
    kw = dict(yname="y", idname="unit", tname="t", dname="exposed", post="post",
              pname="high", cluster="grp", vcov="cluster")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for htf in (False, True):
            a = la.did.ddd(df, high_time_fe=htf, **kw)  # type: ignore[arg-type]
            b = la.did.ddd(df, high_time_fe=htf, backend="pyfixest", **kw)  # type: ignore[arg-type]
            assert a.provenance.settings["backend"] == "fastfe"
            np.testing.assert_allclose(a.coef, b.coef, atol=1e-6)
            np.testing.assert_allclose(np.sqrt(np.diag(a.vcov)), np.sqrt(np.diag(b.vcov)),
                                       rtol=1e-5)


# --------------------------------------------------------------------------------------------
# backend choice and options
# --------------------------------------------------------------------------------------------


def test_backend_choice_is_automatic_recorded_and_forcible() -> None:
    df = _panel()
    df["count"] = np.random.default_rng(0).poisson(3.0, len(df))
    kw = dict(dname="d", idname="unit", tname="t", cluster="grp", vcov="cluster")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ols = la.did.twfe(df, yname="y", **kw)  # type: ignore[arg-type]
        poi = la.did.twfe(df, yname="count", family="poisson", **kw)  # type: ignore[arg-type]
        forced = la.did.twfe(df, yname="y", backend="pyfixest", **kw)  # type: ignore[arg-type]
    assert ols.provenance.settings["backend"] == "fastfe"
    assert ols.provenance.settings["backend_requested"] == "auto"
    assert poi.provenance.settings["backend"] == "fastpois"
    assert forced.provenance.settings["backend"] == "pyfixest"
    assert forced.provenance.settings["backend_requested"] == "pyfixest"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        poi_fast = la.did.twfe(df, yname="count", family="poisson", backend="fast", **kw)  # type: ignore[arg-type]
        poi_pf = la.did.twfe(df, yname="count", family="poisson", backend="pyfixest", **kw)  # type: ignore[arg-type]
    assert poi_fast.provenance.settings["backend"] == "fastpois"
    assert poi_pf.provenance.settings["backend"] == "pyfixest"
    with pytest.raises(OptionError, match="backend must be one of"):
        la.did.twfe(df, yname="y", backend="numba", **kw)  # type: ignore[arg-type]
    # with_vcov keeps the requested backend
    h = forced.with_vcov("hetero")
    assert h.provenance.settings["backend"] == "pyfixest"


def test_wild_and_placebo_paths_run_on_the_fast_backend() -> None:
    df = _panel(N=120, T=8)
    df["cat"] = df["unit"] % 12
    df["d"] = ((df["cat"] < 4) & (df["t"] >= 4)).astype(float)
    kw = dict(yname="y", dname="d", idname="unit", tname="t", cluster="cat", n_boot=999)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for vcov in ("wild", "placebo"):
            a = la.did.twfe(df, vcov=vcov, **kw)  # type: ignore[arg-type]
            b = la.did.twfe(df, vcov=vcov, backend="pyfixest", **kw)  # type: ignore[arg-type]
            assert a.provenance.settings["backend"] == "fastfe"
            pd.testing.assert_frame_equal(a.tidy(), b.tidy(), rtol=1e-8)


def test_all_collinear_and_validation_errors_are_kept() -> None:
    df = _panel()
    df["const_in_unit"] = (df["unit"] < 50).astype(float)
    with pytest.raises(EstimationError, match="collinear"):
        la.did.twfe(df, yname="y", dname="const_in_unit", idname="unit", tname="t",
                    cluster="grp", vcov="cluster")
    dup = pd.concat([df, df.iloc[:3]], ignore_index=True)
    with pytest.raises(DataValidationError, match=r"must identify rows uniquely; 6 rows"):
        la.did.twfe(dup, yname="y", dname="d", idname="unit", tname="t")
    bad = _event_panel()
    bad.loc[bad.index[:2], "cohort"] = 3.0
    bad.loc[bad.index[0], "cohort"] = 2.0
    with pytest.raises(DataValidationError, match=r"must be constant within unit 'unit'; 1 unit"):
        la.did.event_study(bad, yname="y", idname="unit", tname="t", event_date="cohort")


def test_missing_rows_are_dropped_counted_and_warned() -> None:
    df = _panel(drop=0.1)
    df.loc[df.index[:7], "y"] = np.nan
    df.loc[df.index[10:12], "grp"] = np.nan
    with pytest.warns(la.LaborAIWarning, match=r"dropped 9 of"):
        r = la.did.twfe(df, yname="y", dname="d", idname="unit", tname="t", cluster="grp",
                        vcov="cluster")
    assert r.n_dropped == 9 and r.nobs == len(df) - 9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = pf.feols("y ~ d | unit + t", data=df.dropna(subset=["y", "grp"]),
                     vcov={"CRV1": "grp"}, fixef_rm="none", demeaner=TIGHT)
    np.testing.assert_allclose(r.coef, m._beta_hat, atol=COEF_TOL)
    np.testing.assert_allclose(np.sqrt(np.diag(r.vcov)), m._se, rtol=SE_RTOL)


# --------------------------------------------------------------------------------------------
# the kernels
# --------------------------------------------------------------------------------------------


def test_demeaning_methods_agree_and_are_projections() -> None:
    df = _panel(drop=0.3, weights=True)
    fe = np.column_stack([pd.factorize(df["unit"], sort=True)[0],
                          pd.factorize(df["t"], sort=True)[0]])
    w = df["w"].to_numpy()
    y = df["y"].to_numpy()
    schur = Demeaner(fe, w)
    assert schur.method == "schur"
    it = Demeaner(fe, w, method="iterative")
    a, b = schur(y), it(y)
    np.testing.assert_allclose(a, b, atol=1e-10)
    assert it.converged and it.iterations > 1
    for j in range(2):  # weighted group means of the output are zero
        sums = np.bincount(fe[:, j], weights=w * a)
        assert np.max(np.abs(sums)) < 1e-9
    np.testing.assert_allclose(schur(a), a, atol=1e-11)  # idempotent
    bal = _panel()
    feb = np.column_stack([bal["unit"], bal["t"]])
    d1 = Demeaner(feb)
    assert d1.method == "balanced"
    np.testing.assert_allclose(d1(bal["y"].to_numpy()),
                               Demeaner(feb, method="schur")(bal["y"].to_numpy()), atol=1e-12)


def test_iterative_demeaning_warns_when_it_does_not_converge() -> None:
    df = _panel(drop=0.3)
    fe = np.column_stack([pd.factorize(df["unit"], sort=True)[0],
                          pd.factorize(df["t"], sort=True)[0]])
    dm = Demeaner(fe, method="iterative", maxiter=2)
    with pytest.warns(ConvergenceWarning, match="stopped after 2 sweeps"):
        dm(df["y"].to_numpy())
    assert not dm.converged


def test_three_fixed_effects_by_alternating_projections() -> None:
    df = _panel(drop=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = pf.feols("y ~ d + x | unit + t + region", data=df, vcov={"CRV1": "grp"},
                     fixef_rm="none", demeaner=TIGHT)
    fe = [pd.factorize(df[c], sort=True)[0] for c in ("unit", "t", "region")]
    f = fit_ols(df["y"].to_numpy(), dense=df[["d", "x"]].to_numpy(), fe=fe,
                clusters=[pd.factorize(df["grp"], sort=True)[0]], weights=None,
                vcov="cluster")
    assert f.method == "iterative"
    np.testing.assert_allclose(f.coef, m._beta_hat, atol=1e-9)
    np.testing.assert_allclose(np.sqrt(np.diag(f.vcov)), m._se, rtol=1e-7)


def test_sparse_block_never_materialises_the_dummy_matrix(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    rng = np.random.default_rng(0)
    N, T, K = 2000, 24, 60
    n = N * T
    u, t = np.repeat(np.arange(N), T), np.tile(np.arange(T), N)
    code = np.where(u < N // 2, (t + 3 * u) % (K + 4) - 2, -1)
    code[code >= K] = -1
    val = np.where(code >= 0, 1.0, 0.0)
    y = rng.normal(size=n) + 0.1 * (code >= 0)
    blk = SparseBlock(code, val, K)
    dense = np.column_stack([blk.column(k) for k in range(K)])
    ref = fit_ols(y, dense=dense, fe=[u, t], clusters=[u % 50], weights=None, vcov="cluster")
    monkeypatch.setattr(_fastfe, "CHUNK_BYTES", 8 * n * 2)
    tracemalloc.start()
    f = fit_ols(y, dense=None, block=blk, fe=[u, t], clusters=[u % 50], weights=None,
                vcov="cluster")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    np.testing.assert_allclose(f.coef, ref.coef, atol=1e-12)
    np.testing.assert_allclose(f.vcov, ref.vcov, rtol=1e-9, atol=1e-16)
    assert peak < 0.35 * dense.nbytes, (peak, dense.nbytes)


# --------------------------------------------------------------------------------------------
# provenance, results
# --------------------------------------------------------------------------------------------


def test_frame_hash_is_exact_deterministic_and_index_free() -> None:
    df = _panel()
    df["label"] = np.where(df["d"] > 0, "treated", "control")
    df["when"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(df["t"], unit="D")
    h = frame_hash(df)
    assert len(h) == 64 and h == frame_hash(df.copy())
    assert frame_hash(df.set_axis(np.arange(len(df))[::-1])) == h
    for col, value in (("y", 9.0), ("label", "other"),
                       ("when", pd.Timestamp("1999-01-01")), ("unit", 10**6)):
        other = df.copy()
        other.loc[other.index[7], col] = value
        assert frame_hash(other) != h, col
    a = df.copy()
    b = df.copy()
    a.loc[a.index[0], "y"] = np.nan
    b.loc[b.index[0], "y"] = -np.float64(np.nan)  # another NaN bit pattern
    assert frame_hash(a) == frame_hash(b)
    with hashing_in_background(df):
        assert frame_hash(df) == h


def test_result_contract_on_the_fast_path(tmp_path: object) -> None:
    df = _panel(drop=0.1)
    before = frame_hash(df)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = la.did.twfe(df, yname="y", dname="d", idname="unit", tname="t", cluster="grp",
                        vcov="cluster")
        r2 = la.did.twfe(df, yname="y", dname="d", idname="unit", tname="t", cluster="grp",
                         vcov="cluster")
        e = la.did.event_study(_event_panel(), yname="y", idname="unit", tname="t",
                               event_date="cohort", window=(-3, 3), cluster="grp",
                               vcov="cluster", n_boot=1000)
    assert frame_hash(df) == before  # input not modified
    assert r.provenance.input_hash == before
    assert r.provenance.version == la.__version__
    pd.testing.assert_frame_equal(r.tidy(), r2.tidy())
    assert repr(r) == repr(r2) and r.summary() == r2.summary()
    for res in (r, e):
        assert not res.coef.flags.writeable and not res.vcov.flags.writeable
        back = pickle.loads(pickle.dumps(res))
        pd.testing.assert_frame_equal(back.tidy(), res.tidy())
        path = res.save(tmp_path / f"{type(res).__name__}.laborai")  # type: ignore[operator]
        loaded = type(res).load(path)
        pd.testing.assert_frame_equal(loaded.tidy(), res.tidy())
        assert loaded.provenance == res.provenance
    # the result holds a copy-on-write snapshot of its input (no copy): a later change of
    # the caller's frame does not reach with_vcov
    orig = df.copy()
    df.loc[df.index[0], "y"] += 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = r.with_vcov("hetero")
        ref = la.did.twfe(orig, yname="y", dname="d", idname="unit", tname="t",
                          cluster="grp", vcov="hetero")
    pd.testing.assert_frame_equal(h.tidy(), ref.tidy())
    assert h.provenance.input_hash == before


def test_wild_bootstraps_give_the_same_answer_in_chunks(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """The n x G blocks of the wild bootstraps are formed a few clusters at a time."""
    df = _event_panel(N=240, T=12, drop=0.1, weights=True)
    df["cat"] = df["unit"] % 12
    kw = dict(yname="y", idname="unit", tname="t", event_date="cohort", window=(-3, 3),
              cluster="cat", weights="w", vcov="wild", n_boot=499)
    wkw = dict(yname="y", dname="x", cluster="cat", idname="unit", tname="t", weights="w",
               n_boot=499, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = la.did.event_study(df, **kw)  # type: ignore[arg-type]
        wb = la.did.wild_cluster_bootstrap(df, **wkw)  # type: ignore[arg-type]
        monkeypatch.setattr(_fastfe, "CHUNK_BYTES", 8 * len(df) * 5)  # 5 clusters a chunk
        chunked = la.did.event_study(df, **kw)  # type: ignore[arg-type]
        wc = la.did.wild_cluster_bootstrap(df, **wkw)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(whole.tidy(), chunked.tidy(), rtol=1e-10)
    assert whole.pretrend["p_value"] == chunked.pretrend["p_value"]
    pd.testing.assert_frame_equal(wb.tidy(), wc.tidy(), rtol=1e-10)
