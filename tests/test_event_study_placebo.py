"""event_study with few treated clusters: placebo (Conley-Taber) inference by default."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from laborai.did import event_study
from laborai.errors import OptionError


def clustered(n_clusters: int = 12, treated: tuple[int, ...] = (0, 1), n_periods: int = 16,
              units_per_cluster: int = 2, seed: int = 0, stagger: bool = False) -> pd.DataFrame:
    """Cluster x period shocks (the marketplace's structure): two units per cluster."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_clusters):
        shock = rng.normal(0, 0.1, n_periods)
        for u in range(units_per_cluster):
            ev = (8 + (c % 2 if stagger else 0)) if c in treated else np.nan
            for t in range(n_periods):
                rows.append({"unit": f"c{c}u{u}", "cluster": f"c{c:02d}", "t": t, "event": ev,
                             "y": shock[t] + rng.normal(0, 0.05) + 0.3 * u})
    return pd.DataFrame(rows)


def test_auto_uses_placebo_with_two_treated_clusters_and_matches_hand_formula() -> None:
    df = clustered()
    res = event_study(df, yname="y", idname="unit", tname="t", event_date="event",
                      cluster="cluster", window=(-4, 4))
    assert res.vcov_type == "placebo"
    assert res.df_resid == 9.0            # J - 1 with 10 control clusters
    # Hand computation: each control cluster pseudo-treated at t = 8 on the control data.
    ctrl = df[df["event"].isna()].copy()
    P = []
    for j in sorted(ctrl["cluster"].unique()):
        d = ctrl.assign(event=np.where(ctrl["cluster"] == j, 8.0, np.nan))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = event_study(d, yname="y", idname="unit", tname="t", event_date="event",
                            cluster="cluster", window=(-4, 4), vcov="hetero")
        P.append(r.coef)
    P = np.array(P)
    J = P.shape[0]
    V = (J - 1) / J**2 * (0.5**2 + 0.5**2 + 1 / J) * P.T @ P
    np.testing.assert_allclose(res.vcov, V, rtol=1e-9, atol=1e-14)
    tab = res.tidy()
    from scipy import stats
    t = tab["estimate"] / tab["std_error"]
    np.testing.assert_allclose(tab["p_value"], 2 * stats.t.sf(np.abs(t), J - 1), rtol=1e-10)
    assert res.pretrend["distribution"] == "F" and res.pretrend["df2"] == J - 3  # 3 leads


def test_one_treated_cluster_gets_placebo_instead_of_an_error() -> None:
    res = event_study(clustered(treated=(3,)), yname="y", idname="unit", tname="t",
                      event_date="event", cluster="cluster", window=(-3, 3))
    assert res.vcov_type == "placebo" and res.df_resid == 10.0
    assert np.isfinite(res.tidy()["std_error"]).all()


def test_wild_bootstrap_when_treated_outnumber_controls_or_timing_is_staggered() -> None:
    many = clustered(treated=tuple(range(7)))        # 7 treated, 5 control clusters
    res = event_study(many, yname="y", idname="unit", tname="t", event_date="event",
                      cluster="cluster", window=(-3, 3), n_boot=199)
    assert res.vcov_type == "wild"
    res = event_study(clustered(treated=(0, 1, 2, 3), stagger=True), yname="y", idname="unit",
                      tname="t", event_date="event", cluster="cluster", window=(-3, 3),
                      n_boot=199)
    assert res.vcov_type == "wild"
    res = event_study(clustered(treated=(0, 1, 2, 3)), yname="y", idname="unit", tname="t",
                      event_date="event", cluster="cluster", window=(-3, 3))
    assert res.vcov_type == "placebo" and res.df_resid == 7.0


def test_placebo_refuses_designs_it_does_not_cover() -> None:
    df = clustered(treated=(0, 1), stagger=True)
    with pytest.raises(OptionError, match="one common event date"):
        event_study(df, yname="y", idname="unit", tname="t", event_date="event",
                    cluster="cluster", window=(-3, 3), vcov="placebo")
    with pytest.raises(OptionError, match="at least 3 control clusters"):
        event_study(clustered(n_clusters=4, treated=(0, 1)), yname="y", idname="unit",
                    tname="t", event_date="event", cluster="cluster", window=(-2, 2),
                    vcov="placebo")


def test_placebo_size_under_the_null_in_few_treated_design() -> None:
    """60 null panels with 2 of 12 treated clusters and cluster shocks: pointwise rejections at
    5% stay within a binomial band (the wild bootstrap-t rejected 12% in this design)."""
    rej = []
    for s in range(60):
        r = event_study(clustered(seed=100 + s), yname="y", idname="unit", tname="t",
                        event_date="event", cluster="cluster", window=(-3, 3))
        rej.extend((r.tidy()["p_value"] <= 0.05).tolist())
    rate = float(np.mean(rej))
    assert 0.02 <= rate <= 0.085, rate


def test_att_gt_placebo_default_matches_hand_formula_and_aggregates() -> None:
    from scipy import stats

    from laborai.did import att_gt

    df = clustered(treated=(0, 1, 2))
    df["g"] = df["event"].fillna(0).astype(int) + 0  # cohort = first treated period (8)
    df["t1"] = df["t"] + 1
    df["g"] = np.where(df["g"] > 0, df["g"] + 1, 0)   # att_gt wants periods >= 1
    kw = dict(yname="y", tname="t1", idname="unit", gname="g", cluster="cluster")
    r = att_gt(df, **kw)
    assert r.settings["inference"] == "placebo" and r.settings["placebo_df"] == 8.0
    # by hand: every control cluster given the cohort, on the control clusters' data
    ctrl = df[df["g"] == 0]
    P = []
    for j in sorted(ctrl["cluster"].unique()):
        d = ctrl.assign(g=np.where(ctrl["cluster"] == j, 9, 0))
        P.append(att_gt(d, **kw, vcov="analytic").estimate)
    P = np.array(P)
    J = len(P)
    c = (J - 1) / J**2 * (3 * (1 / 3) ** 2 + 1 / J)
    np.testing.assert_allclose(r.std_error, np.sqrt(c * np.sum(P**2, axis=0)), rtol=1e-10)
    tab = r.tidy()
    np.testing.assert_allclose(tab["p_value"], 2 * stats.t.sf(np.abs(tab["statistic"]), J - 1))
    # the simple aggregate: the same average applied to each placebo
    a = r.aggregate("simple")
    post = r.time >= r.group
    agg_p = P[:, post].mean(axis=1)
    np.testing.assert_allclose(a.overall_std_error, np.sqrt(c * np.sum(agg_p**2)), rtol=1e-10)
    # staggered cohorts: the analytic default; placebo asked for explicitly is refused
    st = clustered(treated=(0, 1, 2, 3), stagger=True)
    st["g"] = np.where(st["event"].notna(), st["event"].fillna(0) + 1, 0).astype(int)
    st["t1"] = st["t"] + 1
    assert att_gt(st, **kw).settings["inference"] == "analytic"
    with pytest.raises(OptionError, match="one treated cohort"):
        att_gt(st, **kw, vcov="placebo")


def test_sun_abraham_placebo_default_with_one_cohort() -> None:
    from laborai.did import sun_abraham

    df = clustered(treated=(0, 1))
    df["g"] = np.where(df["event"].notna(), df["event"].fillna(0), 0).astype(int)
    kw = dict(yname="y", idname="unit", tname="t", gname="g", cluster="cluster")
    r = sun_abraham(df, **kw)
    assert r.placebo_df == 9.0 and r.df == 9.0
    ctrl = df[df["g"] == 0]
    P = np.array([sun_abraham(ctrl.assign(g=np.where(ctrl["cluster"] == j, 8, 0)), **kw,
                              vcov="cluster").coef for j in sorted(ctrl["cluster"].unique())])
    J = len(P)
    V = (J - 1) / J**2 * (0.5**2 + 0.5**2 + 1 / J) * P.T @ P
    np.testing.assert_allclose(r.vcov, V, rtol=1e-9, atol=1e-14)
    c = sun_abraham(df, **kw, vcov="cluster")
    np.testing.assert_allclose(c.coef, r.coef)
    assert c.placebo_df is None and c.df == 11.0


def test_att_gt_placebo_pretest_is_hotelling_on_the_last_pre_periods() -> None:
    """Under placebo inference the 10 control clusters give a covariance of rank <= 9: the
    pre-test covers the (J - 1) // 2 = 4 pre-periods closest to adoption, Hotelling F(4, 6)."""
    from scipy import stats

    from laborai.did import att_gt
    df = clustered()
    df["g"] = df["event"].fillna(0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = att_gt(df, yname="y", tname="t", idname="unit", gname="g", cluster="cluster")
    pt = res.pretest()
    assert pt is not None and pt.distribution == "F" and (pt.df, pt.df2) == (4, 6.0)
    assert pt.periods == (4.0, 5.0, 6.0, 7.0)
    idx = [int(np.flatnonzero((res.group == 8) & (res.time == t))[0]) for t in (4, 5, 6, 7)]
    a, V = res.estimate[idx], res.vcov[np.ix_(idx, idx)]
    f = float(a @ np.linalg.solve(V, a)) * (10 - 4) / (4 * 9)
    assert np.isclose(pt.statistic, f, rtol=1e-12)
    assert np.isclose(pt.p_value, stats.f.sf(f, 4, 6), rtol=1e-12)
    assert "placebo, last 4 pre-periods" in res.summary()


@pytest.mark.slow
def test_att_gt_placebo_pretest_size() -> None:
    """150 null panels with 2 of 12 treated clusters: the placebo pre-test rejects at 5% within
    a binomial band (the analytic Wald test is not computable here: singular covariance)."""
    from laborai.did import att_gt
    rej = []
    for s in range(150):
        d = clustered(seed=500 + s)
        d["g"] = d["event"].fillna(0).astype(int)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pt = att_gt(d, yname="y", tname="t", idname="unit", gname="g",
                        cluster="cluster").pretest()
        assert pt is not None
        rej.append(pt.p_value < 0.05)
    assert 0.01 <= float(np.mean(rej)) <= 0.10, np.mean(rej)
