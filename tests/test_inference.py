"""Tests of laborai.did.inference: wild cluster restricted bootstrap and randomization inference."""

from __future__ import annotations

import itertools

import causaldata
import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
import statsmodels.api as sm
from wildboottest.wildboottest import wildboottest

from laborai.did import ri_test, twfe, wild_cluster_bootstrap
from laborai.did.inference import _draw_weights, _wcr_kernel
from laborai.errors import DataValidationError, EstimationError, OptionError, SmallSampleWarning


@pytest.fixture(scope="module")
def castle12() -> pd.DataFrame:
    d = causaldata.castle.load_pandas().data
    states = sorted(d["sid"].unique())[:12]
    return d[d["sid"].isin(states)].reset_index(drop=True)


def small_panel(seed: int = 0, n_groups: int = 6, units_per: int = 2, n_periods: int = 6,
                treated_groups: tuple[int, ...] = (0, 1)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(n_groups):
        for u in range(units_per):
            a = rng.normal()
            for t in range(n_periods):
                post = int(t >= n_periods // 2)
                d = int(g in treated_groups) * post
                rows.append({"group": f"g{g}", "unit": f"g{g}u{u}", "t": t, "post": post,
                             "d": d, "x": rng.normal(), "w": rng.uniform(0.5, 2.0),
                             "y": a + 0.2 * t + 0.3 * d + rng.normal()})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- wild cluster bootstrap


def test_wcr_matches_wildboottest_full_enumeration(castle12):
    """Unweighted WCR with Rademacher weights, 12 clusters: all 4096 draws enumerated.

    Tolerance: exact up to ties at |t*| = |t| (the draws v = +-1 reproduce the sample), i.e.
    2 / 2**12; in practice the p-values agree to machine precision.
    """
    d = castle12
    X = pd.get_dummies(d[["sid", "year"]].astype(str), drop_first=True).astype(float)
    X.insert(0, "post", d["post"].astype(float))
    X.insert(0, "const", 1.0)
    model = sm.OLS(d["l_homicide"].to_numpy(), X)
    with pytest.warns(UserWarning, match="full_enumeration"):
        ref = wildboottest(model, param="post", cluster=d["sid"].to_numpy(), B=9999, seed=1,
                           show=False)
    res = wild_cluster_bootstrap(d, yname="l_homicide", dname="post", cluster="sid",
                                 idname="sid", tname="year", n_boot=9999, seed=1)
    assert res.enumerated and res.n_boot == 4096
    assert abs(res.p_value - float(ref["p-value"].iloc[0])) <= 2 / 4096 + 1e-12
    # through twfe(vcov="wild")
    r = twfe(d, yname="l_homicide", dname="post", idname="sid", tname="year", vcov="wild",
             n_boot=9999)
    assert r.tidy()["p_value"].iloc[0] == pytest.approx(res.p_value, abs=1e-12)
    assert r.boot is not None and r.boot["enumerated"]


def _brute_t_star(df: pd.DataFrame, V: np.ndarray, beta0: float, weighted: bool) -> np.ndarray:
    """Bootstrap t-statistics by brute force: dummies for every fixed effect, explicit WLS."""
    D = pd.get_dummies(df[["unit", "t"]].astype(str), drop_first=True).astype(float)
    Z = np.column_stack([np.ones(len(df)), D.to_numpy()])
    X = np.column_stack([df["d"].to_numpy(float), df["x"].to_numpy(float), Z])
    y = df["y"].to_numpy(float)
    w = df["w"].to_numpy(float) if weighted else np.ones(len(df))
    sw = np.sqrt(w)
    groups = pd.factorize(df["group"], sort=True)[0]
    # restricted model: beta_d = beta0
    Xr = X[:, 1:]
    br = np.linalg.lstsq(Xr * sw[:, None], (y - beta0 * X[:, 0]) * sw, rcond=None)[0]
    fit_r = beta0 * X[:, 0] + Xr @ br
    u_r = y - fit_r
    XtWXi = np.linalg.pinv(X.T @ (X * w[:, None]))
    out = []
    for v in V.T:
        ys = fit_r + u_r * v[groups]
        b = XtWXi @ (X.T @ (w * ys))
        u = ys - X @ b
        sc = np.stack([X[groups == g].T @ (w * u)[groups == g] for g in range(V.shape[0])])
        var = (XtWXi @ sc.T @ sc @ XtWXi)[0, 0]
        out.append((b[0] - beta0) / np.sqrt(var))
    return np.array(out)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("beta0", [0.0, 0.7])
def test_wcr_kernel_equals_brute_force(weighted, beta0):
    """Closed-form bootstrap t* (after partialling out unit and period effects) == explicit loop."""
    df = small_panel(seed=3)
    G = 6
    V, enum = _draw_weights(G, 10_000, "rademacher", np.random.default_rng(0))
    assert enum and V.shape == (6, 64)
    fe = np.column_stack([pd.factorize(df["unit"], sort=True)[0],
                          pd.factorize(df["t"], sort=True)[0]])
    kern = _wcr_kernel(df["y"].to_numpy(float), df[["d", "x"]].to_numpy(float), 0,
                       pd.factorize(df["group"], sort=True)[0], fe=fe,
                       weights=df["w"].to_numpy(float) if weighted else None, V=V,
                       enumerated=True, ssc=1.0)
    brute = _brute_t_star(df, V, beta0, weighted)
    np.testing.assert_allclose(kern.t_star(beta0), brute, rtol=1e-7, atol=1e-9)
    m = pf.feols("y ~ d + x | unit + t", df, weights="w" if weighted else None,
                 vcov={"CRV1": "group"})
    assert kern.beta == pytest.approx(float(m.coef().iloc[0]), abs=1e-10)


def test_wcr_confidence_set_is_test_inversion():
    df = small_panel(seed=5, n_groups=10, treated_groups=(0, 1, 2))
    res = wild_cluster_bootstrap(df, yname="y", dname="d", controls=["x"], cluster="group",
                                 fe=["unit", "t"], weights="w", n_boot=999,
                                 boot_weights="webb", seed=42, alpha=0.1)
    lo, hi = res.tidy().loc[0, ["conf_low", "conf_high"]]
    assert lo < res.tidy().loc[0, "estimate"] < hi
    eps = 1e-6 * (hi - lo)
    inside = [wild_cluster_bootstrap(df, yname="y", dname="d", controls=["x"],
                                     cluster="group", fe=["unit", "t"], weights="w",
                                     n_boot=999, boot_weights="webb", seed=42, null=b0,
                                     ci=False).p_value for b0 in (lo + eps, hi - eps)]
    outside = [wild_cluster_bootstrap(df, yname="y", dname="d", controls=["x"],
                                      cluster="group", fe=["unit", "t"], weights="w",
                                      n_boot=999, boot_weights="webb", seed=42, null=b0,
                                      ci=False).p_value for b0 in (lo - eps, hi + eps)]
    assert min(inside) > 0.1 >= max(outside)


def test_wcr_seed_and_weights():
    df = small_panel(seed=1, n_groups=14)
    a = wild_cluster_bootstrap(df, yname="y", dname="d", cluster="group", fe=["unit", "t"],
                               n_boot=199, boot_weights="webb", seed=7, ci=False)
    b = wild_cluster_bootstrap(df, yname="y", dname="d", cluster="group", fe=["unit", "t"],
                               n_boot=199, boot_weights="webb", seed=7, ci=False)
    c = wild_cluster_bootstrap(df, yname="y", dname="d", cluster="group", fe=["unit", "t"],
                               n_boot=199, boot_weights="webb", seed=8, ci=False)
    assert a.p_value == b.p_value and repr(a) == repr(b)
    assert not a.enumerated and a.n_boot == 199
    assert a.p_value != c.p_value
    V, enum = _draw_weights(14, 199, "webb", np.random.default_rng(0))
    assert not enum
    assert set(np.round(np.unique(V) ** 2, 12)) == {0.5, 1.0, 1.5}


def test_wcr_errors():
    df = small_panel()
    with pytest.raises(OptionError, match="boot_weights must be one of 'rademacher', 'webb'; got 'mammen'"):
        wild_cluster_bootstrap(df, yname="y", dname="d", cluster="group",
                               boot_weights="mammen")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=r"\['x'\] are in both dname and controls"):
        wild_cluster_bootstrap(df, yname="y", dname="x", controls=["x"], cluster="group")
    with pytest.raises(DataValidationError, match="missing values"):
        wild_cluster_bootstrap(df.assign(y=np.where(df.index == 2, np.nan, df.y)), yname="y",
                               dname="d", cluster="group", fe=["unit"])
    with pytest.raises(EstimationError, match="at least 2 clusters"):
        wild_cluster_bootstrap(df.assign(one=1), yname="y", dname="d", cluster="one",
                               fe=["unit"])
    with pytest.raises(OptionError, match="n_boot must be a positive integer"):
        wild_cluster_bootstrap(df, yname="y", dname="d", cluster="group", n_boot=0)


# ---------------------------------------------------------------- randomization inference


@pytest.mark.parametrize("weights", [None, "w"])
def test_ri_exact_enumeration_by_hand(weights):
    """4 groups, 2 treated: the 6 assignments are estimated one by one with pyfixest."""
    df = small_panel(seed=2, n_groups=4, units_per=3, treated_groups=(1, 3))
    res = ri_test(df, yname="y", idname="unit", tname="t", dname="d",
                  cluster="group", weights=weights)
    assert res.exact and res.n_assignments == 6 and res.distribution.size == 6
    groups = ["g0", "g1", "g2", "g3"]
    brute = {}
    for S in itertools.combinations(groups, 2):
        dd = df.assign(dS=(df["group"].isin(S) & (df["post"] == 1)).astype(float))
        m = pf.feols("y ~ dS | unit + t", dd, weights=weights)
        brute[S] = float(m.coef().iloc[0])
    assert [tuple(a) for a in res.assignments] == list(brute)
    np.testing.assert_allclose(res.distribution, list(brute.values()), atol=1e-10)
    obs = brute[("g1", "g3")]
    assert res.estimate == pytest.approx(obs, abs=1e-10)
    p_hand = np.mean([abs(b) >= abs(obs) - 1e-12 for b in brute.values()])
    assert res.p_value == p_hand
    assert res.p_value >= 1 / 6


def test_ri_t_statistic_and_controls():
    df = small_panel(seed=4, n_groups=5, treated_groups=(0, 2))
    res = ri_test(df, yname="y", idname="unit", tname="t", dname="d",
                  cluster="group", controls=["x"], statistic="t")
    assert res.n_assignments == 10 and res.exact
    for S, stat in zip(res.assignments, res.distribution, strict=True):
        dd = df.assign(dS=(df["group"].isin(S) & (df["post"] == 1)).astype(float))
        m = pf.feols("y ~ dS + x | unit + t", dd, vcov={"CRV1": "group"})
        assert stat == pytest.approx(float(m.tstat().iloc[0]), rel=1e-7)


def test_ri_sampling_when_too_many_assignments():
    df = small_panel(seed=6, n_groups=12, units_per=1, treated_groups=(0, 1, 2, 3))
    kw = dict(yname="y", idname="unit", tname="t", dname="d", cluster="group", n_perm=200)
    a = ri_test(df, seed=1, **kw)
    b = ri_test(df, seed=1, **kw)
    assert not a.exact and a.n_assignments == 495 and a.distribution.size == 200
    np.testing.assert_array_equal(a.distribution, b.distribution)
    extreme = np.sum(np.abs(a.distribution) >= abs(a.observed) * (1 - 1e-10))
    assert a.p_value == pytest.approx((1 + extreme) / 201)
    assert "sampled" in a.summary() and a.tidy()["exact"].iloc[0] is np.False_


def test_default_seed_gives_identical_calls_and_is_recorded():
    """seed defaults to 0 (the house rule): two identical calls agree; None draws fresh
    entropy and records it, so the call can be repeated exactly."""
    df = small_panel(seed=6, n_groups=12, units_per=1, treated_groups=(0, 1, 2, 3))
    kw = dict(yname="y", idname="unit", tname="t", dname="d", cluster="group", n_perm=100)
    a, b = ri_test(df, **kw), ri_test(df, **kw)
    np.testing.assert_array_equal(a.distribution, b.distribution)
    assert a.provenance.seed == 0
    fresh = ri_test(df, seed=None, **kw)
    assert isinstance(fresh.provenance.seed, int)
    again = ri_test(df, seed=fresh.provenance.seed, **kw)
    np.testing.assert_array_equal(fresh.distribution, again.distribution)
    wkw = dict(yname="y", dname="d", cluster="group", fe=["unit", "t"], n_boot=199,
               boot_weights="webb", ci=False)
    wa = wild_cluster_bootstrap(small_panel(seed=1, n_groups=14), **wkw)
    wb = wild_cluster_bootstrap(small_panel(seed=1, n_groups=14), **wkw)
    assert wa.p_value == wb.p_value and wa.provenance.seed == 0
    wf = wild_cluster_bootstrap(small_panel(seed=1, n_groups=14), seed=None, **wkw)
    wg = wild_cluster_bootstrap(small_panel(seed=1, n_groups=14), seed=wf.provenance.seed, **wkw)
    assert isinstance(wf.provenance.seed, int) and wf.p_value == wg.p_value


def test_ri_errors():
    df = small_panel()  # 6 groups of 2 units, g0 and g1 treated from t = 3
    kw = dict(yname="y", idname="unit", tname="t", dname="d", cluster="group")
    with pytest.raises(OptionError, match="statistic must be one of 'coef', 't'; got 'beta'"):
        ri_test(df, statistic="beta", **kw)  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match=r"column 'd' must be 0/1; 12 row\(s\)"):
        ri_test(df.assign(d=df.d * 2), **kw)  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match=r"0 of 6 cluster\(s\) are treated"):
        ri_test(df.assign(d=0), **kw)  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match=r"6 of 6 cluster\(s\) are treated"):
        ri_test(df.assign(d=df.post), **kw)  # type: ignore[arg-type]
    late = df.assign(d=np.where((df.group == "g1") & (df.t == 3), 0, df.d))
    with pytest.raises(DataValidationError, match=r"timing differs in 1 period\(s\)"):
        ri_test(late, **kw)  # type: ignore[arg-type]
    part = df.assign(d=np.where(df.unit == "g0u1", 0, df.d))
    with pytest.raises(DataValidationError,
                       match=r"1 unit\(s\) of treated clusters in 'group' never are"):
        ri_test(part, **kw)  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="'group' must be constant within unit"):
        ri_test(df.assign(group=np.where(df.t == 0, "g5", df.group)), **kw)  # type: ignore[arg-type]
    gap = df[~(df.group.isin(["g0", "g1"]) & (df.t == 0))]
    with pytest.raises(DataValidationError, match=r"undefined in 1 period\(s\) of 't'"):
        ri_test(gap, **kw)  # type: ignore[arg-type]
    always = df.assign(d=df.group.isin(["g0", "g1"]).astype(int))
    with pytest.raises(EstimationError, match="need pre and post periods"):
        ri_test(always, **kw)  # type: ignore[arg-type]


def test_ri_reads_the_design_off_dname():
    """The treated clusters and the post pattern come from dname: the same numbers as an
    explicit assignment (here the by-hand pyfixest loop of the exact test), whatever the
    row order and whatever the untreated clusters' labels."""
    df = small_panel(seed=2, n_groups=5, units_per=2, treated_groups=(1, 3))
    kw = dict(yname="y", idname="unit", tname="t", dname="d", cluster="group")
    a = ri_test(df, **kw)  # type: ignore[arg-type]
    b = ri_test(df.sample(frac=1.0, random_state=0), **kw)  # type: ignore[arg-type]
    np.testing.assert_allclose(a.distribution, b.distribution, rtol=1e-10, atol=1e-12)
    assert list(a.provenance.settings["treated_clusters"]) == ["g1", "g3"]
    assert a.n_assignments == 10 and a.exact
    dd = df.assign(dS=(df["group"].isin(["g1", "g3"]) & (df["t"] >= 3)).astype(float))
    m = pf.feols("y ~ dS | unit + t", dd)
    assert a.estimate == pytest.approx(float(m.coef().iloc[0]), abs=1e-10)


# ---------------------------------------------------------------- size under the null (slow)


@pytest.mark.slow
def test_wcr_size_with_few_treated_clusters():
    """Monte Carlo: 12 clusters, 3 treated, no effect. CRV1 over-rejects; WCR is near 5%.

    200 replications; a 5% test has a Monte Carlo SD of 1.5 points, so WCR must reject
    at most 10% (and CRV1 typically rejects far more often with 3 treated clusters).
    """
    rej_wcr, rej_crv = 0, 0
    reps = 200
    for rep in range(reps):
        rng = np.random.default_rng(1000 + rep)
        df = small_panel(seed=int(rng.integers(1 << 31)), n_groups=12, units_per=2,
                         n_periods=8, treated_groups=(0, 1, 2))
        df["y"] = (df["y"] - 0.3 * df["d"]  # remove the built-in effect: H0 true
                   + rng.normal(size=12)[pd.factorize(df["group"], sort=True)[0]]
                   * df["post"] * rng.normal())
        res = wild_cluster_bootstrap(df, yname="y", dname="d", cluster="group",
                                     fe=["unit", "t"], n_boot=4096, ci=False)
        rej_wcr += res.p_value < 0.05
        with pytest.warns(SmallSampleWarning, match="CRV1 with 12 clusters"):
            m = twfe(df, yname="y", dname="d", idname="unit", tname="t", cluster="group",
                     vcov="cluster")
        assert m.vcov_type == "cluster"
        rej_crv += m.tidy()["p_value"].iloc[0] < 0.05
    assert rej_wcr / reps <= 0.10
    assert rej_wcr <= rej_crv
