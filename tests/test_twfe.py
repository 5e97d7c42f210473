"""Tests of laborai.did.twfe (twfe, ddd, TWFEResult): references, parity, invariance, errors."""

from __future__ import annotations

import contextlib
import warnings

import matplotlib

matplotlib.use("Agg")

import causaldata
import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from linearmodels.panel import PanelOLS

import laborai as la
from laborai.did import TIDY_COLUMNS, TWFEResult, ddd, twfe
from laborai.errors import (
    DataValidationError,
    EstimationError,
    LaborAIWarning,
    OptionError,
    SmallSampleWarning,
)

COEF_TOL = 1e-8
SE_RTOL = 1e-6


@pytest.fixture(scope="module")
def castle() -> pd.DataFrame:
    return causaldata.castle.load_pandas().data


@pytest.fixture(scope="module")
def organ() -> pd.DataFrame:
    o = causaldata.organ_donations.load_pandas().data.copy()
    # Quarter strings like "Q32011": California treated from Q3 2011 on.
    year = o["Quarter"].str[2:].astype(int)
    qtr = o["Quarter"].str[1].astype(int)
    o["Treated"] = ((o["State"] == "California") & (year * 10 + qtr >= 20113)).astype(int)
    return o


def sim_panel(seed: int = 0, n_units: int = 30, n_periods: int = 10) -> pd.DataFrame:
    """Small panel with a binary staggered treatment, a continuous dose, weights and counts."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_periods)
    t = np.tile(np.arange(n_periods), n_units)
    state = unit % 8
    adopt = np.where(unit < n_units // 2, 3 + unit % 4, 10_000)
    d = (t >= adopt).astype(float)
    dose = np.where(unit < n_units // 2, rng.uniform(0.5, 2.0, n_units)[unit], 0.0) * (t >= 5)
    x = rng.normal(size=unit.size)
    ai = rng.normal(size=n_units)[unit]
    lt = 0.3 * t
    y = 0.4 * d + 0.2 * x + ai + lt + rng.normal(size=unit.size)
    counts = rng.poisson(np.exp(0.5 + 0.3 * d + 0.2 * ai))
    return pd.DataFrame({"unit": unit, "t": t, "state": state, "d": d, "dose": dose, "x": x,
                         "y": y, "n": counts, "w": rng.uniform(0.5, 3.0, n_units)[unit]})


# ---------------------------------------------------------------- published numbers


def test_castle_published(castle):
    r = twfe(castle, yname="l_homicide", dname="post", idname="sid", tname="year")
    assert round(float(r.coef[0]), 5) == 0.06940
    rw = twfe(castle, yname="l_homicide", dname="post", idname="sid", tname="year",
              weights="popwt")
    assert round(float(rw.coef[0]), 5) == 0.07553


def test_organ_donations_published(organ):
    # one treated state (California): the default is placebo (Conley-Taber) inference over
    # the 26 control states, the design that inference was built for ...
    d = twfe(organ, yname="Rate", dname="Treated", idname="State", tname="Quarter")
    assert d.vcov_type == "placebo" and d.df_resid == 25.0
    assert round(float(d.coef[0]), 5) == -0.02246 and np.isfinite(d.tidy()["std_error"][0])
    # ... and an explicit CRV1 request reproduces the published number with a warning
    with pytest.warns(SmallSampleWarning, match="only 1 of 27 clusters"):
        r = twfe(organ, yname="Rate", dname="Treated", idname="State", tname="Quarter",
                 vcov="cluster")
    assert round(float(r.coef[0]), 5) == -0.02246
    assert r.nobs == len(organ)


# ---------------------------------------------------------------- parity with pyfixest


@pytest.mark.parametrize(
    ("kwargs", "fml", "vcov", "pf_weights"),
    [
        ({"dname": "d"}, "y ~ d | unit + t", {"CRV1": "unit"}, None),
        ({"dname": "dose"}, "y ~ dose | unit + t", {"CRV1": "unit"}, None),
        ({"dname": "d", "weights": "w"}, "y ~ d | unit + t", {"CRV1": "unit"}, "w"),
        ({"dname": "d", "cluster": "state"}, "y ~ d | unit + t", {"CRV1": "state"}, None),
        ({"dname": "d", "cluster": ("state", "t")}, "y ~ d | unit + t",
         {"CRV1": "state+t"}, None),
        ({"dname": "d", "cluster": ("unit", "t"), "weights": "w"}, "y ~ d | unit + t",
         {"CRV1": "unit+t"}, "w"),
        ({"dname": "d", "controls": ["x"]}, "y ~ d + x | unit + t", {"CRV1": "unit"}, None),
        ({"dname": "d", "vcov": "hetero"}, "y ~ d | unit + t", "hetero", None),
    ],
)
def test_parity_pyfixest_ols(kwargs, fml, vcov, pf_weights):
    df = sim_panel()
    kw = {"vcov": "cluster", **kwargs}  # CRV1 explicitly (the default is the wild bootstrap)
    one_way = kw["vcov"] == "cluster" and not isinstance(kw.get("cluster"), tuple)
    # fewer than 50 clusters: an explicit CRV1 request is honoured with a warning
    ctx = (pytest.warns(SmallSampleWarning, match=r"CRV1 with \d+ clusters can over-reject")
           if one_way else contextlib.nullcontext())
    with ctx:
        r = twfe(df, yname="y", idname="unit", tname="t", **kw)
    assert r.vcov_type == kw["vcov"]
    m = pf.feols(fml, data=df, vcov=vcov, weights=pf_weights)
    np.testing.assert_allclose(r.coef, m.coef().to_numpy(), rtol=0, atol=COEF_TOL)
    t = r.tidy()
    np.testing.assert_allclose(t["std_error"], m.se().to_numpy(), rtol=SE_RTOL)
    np.testing.assert_allclose(t["p_value"], m.pvalue().to_numpy(), rtol=1e-6, atol=1e-12)
    ci = m.confint().to_numpy()
    np.testing.assert_allclose(t[["conf_low", "conf_high"]].to_numpy(), ci, rtol=1e-6)


def test_parity_pyfixest_poisson():
    df = sim_panel(seed=3)
    with pytest.warns(SmallSampleWarning, match="CRV1 with 30 clusters can over-reject; for "
                      "Poisson models"):
        r = twfe(df, yname="n", dname="d", idname="unit", tname="t", family="poisson",
                 vcov="cluster")
    assert r.vcov_type == "cluster"
    m = pf.fepois("n ~ d | unit + t", data=df, vcov={"CRV1": "unit"})
    np.testing.assert_allclose(r.coef, m.coef().to_numpy(), atol=COEF_TOL)
    np.testing.assert_allclose(r.tidy()["std_error"], m.se().to_numpy(), rtol=SE_RTOL)
    np.testing.assert_allclose(r.tidy()["p_value"], m.pvalue().to_numpy(), rtol=1e-6)
    assert r.df_resid is None  # normal reference distribution for Poisson


@pytest.mark.parametrize("weights", [None, "popwt"])
def test_parity_linearmodels_castle(castle, weights):
    """PanelOLS with entity+time effects, clustered by entity, like-for-like conventions.

    linearmodels 7.1 with ``debiased=True, group_debias=True, count_effects=False,
    auto_df=False`` gives ``G/(G-1) * (N-1)/(N-k)`` with k = 1 regressor, i.e. ``G/(G-1)``
    times the raw sandwich; fixest/laborai use ``G/(G-1) * (N-1)/(N-K)`` with K = 1 regressor
    + (T-1) year effects + 1 for the unit effects nested in the state clusters.
    """
    r = twfe(castle, yname="l_homicide", dname="post", idname="sid", tname="year",
             weights=weights)
    p = castle.set_index(["sid", "year"])
    mod = PanelOLS(p["l_homicide"], p[["post"]], entity_effects=True, time_effects=True,
                   weights=None if weights is None else p[weights])
    lm = mod.fit(cov_type="clustered", cluster_entity=True, debiased=True, group_debias=True,
                 auto_df=False, count_effects=False)
    n, T = len(castle), castle["year"].nunique()
    K = 1 + (T - 1) + 1
    assert abs(float(lm.params.iloc[0]) - float(r.coef[0])) < COEF_TOL
    se_lm = np.sqrt(float(lm.cov.iloc[0, 0]) * (n - 1) / (n - K))
    np.testing.assert_allclose(r.tidy()["std_error"].iloc[0], se_lm, rtol=SE_RTOL)


def test_parity_linearmodels_continuous_dose():
    df = sim_panel(seed=5)
    with pytest.warns(SmallSampleWarning, match="CRV1 with 30 clusters"):
        r = twfe(df, yname="y", dname="dose", idname="unit", tname="t", vcov="cluster")
    p = df.set_index(["unit", "t"])
    lm = PanelOLS(p["y"], p[["dose"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True, debiased=True, group_debias=True,
        auto_df=False, count_effects=False)
    n, T = len(df), df["t"].nunique()
    assert abs(float(lm.params.iloc[0]) - float(r.coef[0])) < COEF_TOL
    se_lm = np.sqrt(float(lm.cov.iloc[0, 0]) * (n - 1) / (n - (1 + (T - 1) + 1)))
    np.testing.assert_allclose(r.tidy()["std_error"].iloc[0], se_lm, rtol=SE_RTOL)


# ---------------------------------------------------------------- result object


def test_result_contract(castle):
    r = twfe(castle, yname="l_homicide", dname="post", idname="sid", tname="year")
    assert isinstance(r, TWFEResult)
    t = r.tidy()
    assert tuple(t.columns[:7]) == TIDY_COLUMNS
    assert r.nobs == 550 and r.n_clusters == 50 and r.df_resid == 49
    assert r.terms == ("post",)
    assert r.provenance.estimator == "twfe"
    assert len(r.provenance.input_hash) == 64
    with pytest.raises(AttributeError):
        r.nobs = 3  # type: ignore[misc]
    # views are deterministic and address-free
    for text in (repr(r), r.summary(), r.to_markdown(), r.to_latex()):
        assert "0x" not in text
    assert repr(r) == repr(twfe(castle, yname="l_homicide", dname="post", idname="sid",
                                tname="year"))
    assert "post" in r.to_latex() and "tabular" in r.to_latex()
    t.loc[0, "estimate"] = 99.0  # tidy returns a copy
    assert r.tidy()["estimate"].iloc[0] != 99.0


def test_with_vcov_returns_new_result(castle):
    r = twfe(castle, yname="l_homicide", dname="post", idname="sid", tname="year")
    before = r.tidy()
    h = r.with_vcov("hetero")
    assert h is not r and h.vcov_type == "hetero" and r.vcov_type == "cluster"
    pd.testing.assert_frame_equal(r.tidy(), before)
    m = pf.feols("l_homicide ~ post | sid + year", data=castle, vcov="hetero")
    np.testing.assert_allclose(h.tidy()["std_error"], m.se().to_numpy(), rtol=SE_RTOL)
    assert h.n_clusters is None
    two = r.with_vcov("cluster", cluster=("sid", "year"))
    m2 = pf.feols("l_homicide ~ post | sid + year", data=castle, vcov={"CRV1": "sid+year"})
    np.testing.assert_allclose(two.tidy()["std_error"], m2.se().to_numpy(), rtol=SE_RTOL)
    assert two.n_clusters == (50, 11)
    w = r.with_vcov("wild", seed=1, n_boot=499)
    assert w.boot is not None and w.boot["n_boot"] == 499
    assert w.tidy()["std_error"].iloc[0] == pytest.approx(before["std_error"].iloc[0])
    assert w.tidy()["p_value"].iloc[0] != before["p_value"].iloc[0]


def test_plot_returns_axes(castle):
    import matplotlib.pyplot as plt

    r = twfe(castle, yname="l_homicide", dname="post", idname="sid", tname="year")
    ax = r.plot()
    assert ax.get_yticklabels()[0].get_text() == "post"
    plt.close("all")


# ---------------------------------------------------------------- invariance


def test_row_order_and_relabelling_invariance(castle):
    base = twfe(castle, yname="l_homicide", dname="post", idname="sid", tname="year",
                weights="popwt")
    shuffled = castle.sample(frac=1.0, random_state=7)
    relabel = shuffled.assign(sid=shuffled["sid"].map(lambda s: f"state-{(s * 37) % 101}"),
                              year=shuffled["year"].astype(str))
    other = twfe(relabel, yname="l_homicide", dname="post", idname="sid", tname="year",
                 weights="popwt")
    np.testing.assert_allclose(other.coef, base.coef, atol=1e-10)
    np.testing.assert_allclose(other.tidy()["std_error"], base.tidy()["std_error"], rtol=1e-8)


def test_input_not_mutated(castle):
    df = sim_panel()
    df.loc[3, "y"] = np.nan
    copy = df.copy()
    with pytest.warns(LaborAIWarning, match="dropped 1 of"):
        r = twfe(df, yname="y", dname="d", idname="unit", tname="t", cluster="state")
    pd.testing.assert_frame_equal(df, copy)
    assert r.n_dropped == 1 and r.nobs == len(df) - 1


def test_poisson_separation_is_reported():
    df = sim_panel(seed=2)
    df.loc[df["unit"] == 20, "n"] = 0  # an untreated unit with only zeros: separated
    # Poisson: 'auto' is CRV1, which warns below 50 clusters
    with pytest.warns(SmallSampleWarning, match="CRV1 with 30 clusters"), \
            pytest.warns(LaborAIWarning, match="dropped"):
        r = twfe(df, yname="n", dname="d", idname="unit", tname="t", family="poisson")
    assert r.vcov_type == "cluster"
    assert r.n_dropped == 10


# ---------------------------------------------------------------- errors


def test_error_messages():
    df = sim_panel()
    with pytest.raises(OptionError, match=r"family must be one of 'ols', 'poisson'; got 'logit'\."):
        twfe(df, yname="y", dname="d", idname="unit", tname="t", family="logit")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=r"vcov must be one of 'auto', 'cluster', 'hetero', 'iid', 'wild', 'placebo'; got 'ri'"):
        twfe(df, yname="y", dname="d", idname="unit", tname="t", vcov="ri")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match=r"column\(s\) \['nope'\] not found"):
        twfe(df, yname="nope", dname="d", idname="unit", tname="t")
    with pytest.raises(OptionError, match="pair of column names"):
        twfe(df, yname="y", dname="d", idname="unit", tname="t", cluster=("a", "b", "c"))
    with pytest.raises(DataValidationError, match="weights must be > 0"):
        twfe(df.assign(w=df["w"] - 10), yname="y", dname="d", idname="unit", tname="t",
             weights="w")
    with pytest.raises(DataValidationError, match="non-negative outcome"):
        twfe(df, yname="y", dname="d", idname="unit", tname="t", family="poisson")
    with pytest.raises(EstimationError, match="collinear"):
        twfe(df.assign(g=(df["unit"] < 5).astype(float)), yname="y", dname="g",
             idname="unit", tname="t")
    with pytest.raises(OptionError, match="vcov='wild' is available for family='ols' only"):
        twfe(df, yname="n", dname="d", idname="unit", tname="t", family="poisson", vcov="wild")
    with pytest.raises(OptionError, match="one-way clustering only"):
        twfe(df, yname="y", dname="d", idname="unit", tname="t", cluster=("unit", "t"),
             vcov="wild")
    with pytest.raises(OptionError, match="alpha must be"):
        twfe(df, yname="y", dname="d", idname="unit", tname="t", alpha=1.5)
    with pytest.raises(DataValidationError, match="must be numeric"):
        twfe(df.assign(y="a"), yname="y", dname="d", idname="unit", tname="t")


# ---------------------------------------------------------------- ddd


def ddd_panel(seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for cat in range(8):
        for tier in (0, 1):
            a = rng.normal()
            for t in range(12):
                exposed = int(cat < 4)
                post = int(t >= 6)
                y = (a + 0.1 * t + 0.3 * tier * t / 12 + exposed * post * (-0.2 - 0.5 * tier)
                     + rng.normal(scale=0.3))
                rows.append({"cat": cat, "tier": tier, "unit": f"{cat}-{tier}", "t": t,
                             "exposed": exposed, "post": post, "high": tier, "y": y,
                             "w": 1.0 + cat})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("high_time_fe", [False, True])
def test_ddd_parity(high_time_fe):
    df = ddd_panel()
    with pytest.warns(SmallSampleWarning, match="CRV1 with 8 clusters"):
        r = ddd(df, yname="y", idname="unit", tname="t", dname="exposed", post="post",
                pname="high", cluster="cat", weights="w", high_time_fe=high_time_fe,
                vcov="cluster")
    df2 = df.assign(ep=df.exposed * df.post, hp=df.high * df.post,
                    ehp=df.exposed * df.post * df.high, ht=df.t.astype(str) + "_" + df.high.astype(str))
    fml = ("y ~ ep + ehp | unit + ht" if high_time_fe else "y ~ ep + hp + ehp | unit + t")
    m = pf.feols(fml, data=df2, vcov={"CRV1": "cat"}, weights="w")
    np.testing.assert_allclose(r.coef, m.coef().to_numpy(), atol=COEF_TOL)
    t = r.tidy()
    assert list(t["effect"]) == (["did_low", "ddd", "did_high"] if high_time_fe
                                 else ["did_low", "high_post", "ddd", "did_high"])
    se = m.se().to_numpy()
    np.testing.assert_allclose(t["std_error"].iloc[: len(se)], se, rtol=SE_RTOL)
    hi = t.set_index("effect").loc["did_high"]
    V = m._vcov
    w = np.zeros(len(se))
    w[0], w[-1] = 1.0, 1.0
    assert hi["estimate"] == pytest.approx(float(m.coef().iloc[0] + m.coef().iloc[-1]), abs=1e-10)
    assert hi["std_error"] == pytest.approx(float(np.sqrt(w @ V @ w)), rel=1e-8)


def test_ddd_validation():
    df = ddd_panel()
    bad = df.copy()
    bad.loc[bad.index[0], "high"] = 1 - bad.loc[bad.index[0], "high"]
    with pytest.raises(DataValidationError, match="must be constant within unit"):
        ddd(bad, yname="y", idname="unit", tname="t", dname="exposed", post="post", pname="high")
    with pytest.raises(DataValidationError, match="must be 0/1"):
        ddd(df.assign(post=df.post * 2), yname="y", idname="unit", tname="t",
            dname="exposed", post="post", pname="high")
    r = ddd(df, yname="y", idname="unit", tname="t", dname="exposed", post="post", pname="high",
            cluster="cat")
    assert r.with_vcov("hetero").vcov_type == "hetero"


def test_top_level_access():
    assert la.did.twfe is twfe
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        twfe(sim_panel(), yname="y", dname="d", idname="unit", tname="t")


# ---------------------------------------------------------------- etable


def test_etable_views(castle):
    from laborai.did import etable

    r = twfe(castle, yname="l_homicide", dname="post", idname="sid", tname="year")
    rw = twfe(castle, yname="l_homicide", dname="post", idname="sid", tname="year",
              weights="popwt")
    tab = etable({"OLS": r, "WLS": rw})
    assert list(tab.columns) == ["OLS", "WLS"]
    assert tab.iloc[0].tolist() == ["0.069", "0.076**"]  # p = 0.220 and 0.027
    assert tab.iloc[1].tolist() == ["(0.056)", "(0.033)"]
    assert tab.loc["Observations"].tolist() == ["550", "550"]
    md = etable([r, rw.with_vcov("hetero")], format="markdown")
    assert "| Inference | CRV1 | HC1 |" in md
    tex = etable([r, rw], format="latex", digits=4)
    assert "0.0755$^{**}$" in tex and r"\toprule" in tex
    with pytest.raises(OptionError, match="format must be one of"):
        etable([r], format="xlsx")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="at least one result"):
        etable([])


def test_etable_rows_for_a_paper(castle):
    from laborai.did import etable

    r = twfe(castle, yname="l_homicide", dname="post", idname="sid", tname="year")
    m = pf.feols("l_homicide ~ post | sid + year", data=castle, vcov={"CRV1": "sid"})
    tab = etable({"A": r}, rename={"post": "Castle doctrine x post"})
    assert "Castle doctrine x post" in tab.index
    assert tab.loc["Dependent variable", "A"] == "l_homicide"
    assert tab.loc["Fixed effects", "A"] == "sid, year"
    assert tab.loc["R2", "A"] == f"{m._r2:.3f}" and tab.loc["R2 (within)", "A"] == f"{m._r2_within:.3f}"
    with pytest.raises(OptionError, match=r"term\(s\) \['nope'\] are in none"):
        etable([r], terms=["post", "nope"])
    html = etable([r], format="html")
    assert html.startswith('<table class="laborai-etable">') and "<th>Observations</th>" in html


def test_etable_one_column_per_outcome_and_headline_row():
    import laborai as la
    from laborai.did import etable

    mk = la.simulate_marketplace(seed=5, n_posts=300_000, text=False)
    p = la.exposure.add_event_dates(la.build_panel(mk.job_posts, mk.contracts))
    p = p[p["value_tier"] != la.panel.UNKNOWN_TIER]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = la.estimate_effects(p, outcomes=["log_n_posts", "log_earnings_per_contract"])
    tab = etable({"E": e})
    assert list(tab.columns) == ["E: log_n_posts", "E: log_earnings_per_contract"]
    assert tab.loc["Observations"].tolist() == [f"{e.nobs['log_n_posts']:,}",
                                               f"{e.nobs['log_earnings_per_contract']:,}"]
    # the headline effects of different estimators share one row
    low = p[p["value_tier"] == "low"].copy()
    ev = low["event"].astype("object").where(low["exposed"], None)
    low = low[ev.isna() | (ev == "chatgpt")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = twfe(low, yname="log_n_posts", dname="treated_post", idname="unit", tname="period",
                 cluster="category")
        s = la.did.sdid(low, yname="log_n_posts", idname="unit", tname="period",
                        dname="treated_post", n_reps=20)
    h = etable({"TWFE": t, "SDID": s}, headline=True)
    assert h.index[0] == "ATT"
    assert h.loc["ATT", "TWFE"].rstrip("*") == f"{t.coef[0]:.3f}"
    assert h.loc["ATT", "SDID"].rstrip("*") == f"{s.estimate:.3f}"
    with pytest.raises(OptionError, match="no single headline effect"):
        etable([e], headline=True)


def test_pyfixest_vcov_spellings_are_accepted(castle):
    """vcov="HC1", "iid" and {"CRV1": col} mean what they mean in pyfixest."""
    kw = dict(yname="l_homicide", dname="post", idname="sid", tname="year")
    h = twfe(castle, vcov="HC1", **kw)  # type: ignore[arg-type]
    assert h.vcov_type == "hetero"
    m = pf.feols("l_homicide ~ post | sid + year", data=castle, vcov="hetero")
    np.testing.assert_allclose(h.tidy()["std_error"].iloc[0], m.se().iloc[0], rtol=1e-10)
    i = twfe(castle, vcov="iid", **kw)  # type: ignore[arg-type]
    mi = pf.feols("l_homicide ~ post | sid + year", data=castle, vcov="iid")
    np.testing.assert_allclose(i.tidy()["std_error"].iloc[0], mi.se().iloc[0], rtol=1e-10)
    with pytest.warns(SmallSampleWarning):
        c = twfe(castle.assign(region=castle["sid"] % 7), vcov={"CRV1": "region"}, **kw)  # type: ignore[arg-type]
    mc = pf.feols("l_homicide ~ post | sid + year", data=castle.assign(region=castle["sid"] % 7),
                  vcov={"CRV1": "region"})
    assert c.vcov_type == "cluster" and c.n_clusters == 7
    np.testing.assert_allclose(c.tidy()["std_error"].iloc[0], mc.se().iloc[0], rtol=1e-10)
    with pytest.raises(OptionError, match="'HC3' is not available"):
        twfe(castle, vcov="HC3", **kw)  # type: ignore[arg-type]
