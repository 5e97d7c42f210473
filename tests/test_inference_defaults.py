"""Inference defaults of issue 11: one test per silent-wrong case (each fails on fc9ff59).

The category panel is one small simulated null marketplace (12 categories, 5 of them treated,
no effect) shared by the module; the synthetic unit panel has 40 unit clusters, so the wild
bootstrap cannot enumerate its sign vectors and the seed matters.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import laborai as la
from laborai.did import ddd, event_study, honest, twfe
from laborai.errors import (
    DataValidationError,
    EstimationError,
    LaborAIWarning,
    OptionError,
    SmallSampleWarning,
)
from laborai.studies import estimate_effects


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    """Null marketplace, category x tier x month panel with event dates (do not mutate)."""
    m = la.simulate_marketplace(seed=7, n_posts=30_000, effects="none", text=False)
    p = la.exposure.add_event_dates(la.build_panel(m.job_posts, m.contracts))
    p = p[p["value_tier"] != la.panel.UNKNOWN_TIER].reset_index(drop=True)  # value tiers only
    p["high"] = (p["value_tier"] == "high").astype(int)
    p["exposed01"] = p["exposed"].astype(int)
    p["post01"] = p["post"].astype(int)
    return p


@pytest.fixture(scope="module")
def low(panel: pd.DataFrame) -> pd.DataFrame:
    """Low-tier units only: one unit per category, 12 clusters."""
    return panel[panel["value_tier"] == "low"].reset_index(drop=True)


def staggered(seed: int = 0, n_units: int = 40, n_periods: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_periods)
    t = np.tile(np.arange(n_periods), n_units)
    ev = np.array([4.0, 6.0, 8.0, np.nan])[np.arange(n_units) % 4][unit]
    y = rng.normal(size=n_units)[unit] + 0.1 * t + rng.normal(scale=0.5, size=unit.size)
    return pd.DataFrame({"unit": unit, "t": t, "event": ev, "y": y})


# (a) per category x tier effects: placebo inference, not CRV1 by category
def test_a_estimate_effects_defaults_to_placebo(panel: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*dropped", category=LaborAIWarning)
        # 9 contrasts from 7 control clusters: the equality test is not available (NaN)
        with pytest.warns(SmallSampleWarning, match=r"9 contrast\(s\) cannot be tested"):
            res = estimate_effects(panel, outcomes=["log_n_posts"])
    assert np.isnan(res.equality_tests["p_value"].iloc[0])
    t = res.tidy()
    assert len(t) == 10  # 5 treated categories x 2 tiers
    assert (t["inference"] == "placebo").all()
    assert (t["n_control_clusters"] == 7).all() and (t["df"] == 6).all()
    # under CRV1 by category both tiers of a category got the identical standard error
    se = t.pivot(index="category", columns="value_tier", values="std_error")
    assert (se["low"] != se["high"]).all()
    q = stats.t.ppf(0.975, 6)
    np.testing.assert_allclose(t["conf_high"] - t["estimate"], q * t["std_error"], rtol=1e-10)
    with pytest.raises(OptionError, match="lies in one 'category' cluster"):
        estimate_effects(panel, outcomes=["log_n_posts"], vcov="cluster")


# (b) event study with 12 clusters: window fitted to the clusters, wild bootstrap pre-test
def test_b_event_study_window_and_pretest_fit_12_clusters(low: pd.DataFrame) -> None:
    kw = dict(yname="log_n_posts", idname="unit", tname="period", event_date="event_date",
              cluster="category")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*dropped", category=LaborAIWarning)
        warnings.simplefilter("error", SmallSampleWarning)
        es = event_study(low, **kw)  # type: ignore[arg-type]
    # 12 clusters, 7 without a treated unit: (-3, 3); staggered dates: the wild bootstrap
    assert es.window == (-3, 3)
    assert len(es.event_times) <= 6
    assert es.vcov_type == "wild"
    assert "wild bootstrap" in es.pretrend["distribution"]
    assert 0.0 <= es.pretrend["p_value"] <= 1.0
    # one adoption date: placebo inference, and its covariance has full rank in that window
    ev = low["event"].astype("object").where(low["exposed"], None)
    one = low[ev.isna() | (ev == "chatgpt")].reset_index(drop=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ep = event_study(one, **kw)  # type: ignore[arg-type]
    assert ep.vcov_type == "placebo" and ep.window == (-3, 3)
    J = ep.pretrend["n_control_clusters"]
    assert np.linalg.matrix_rank(ep.vcov) <= min(len(ep.event_times), J)
    singular = [w for w in caught if "placebo covariance has rank" in str(w.message)]
    assert bool(singular) == (J - 1 < len(ep.event_times))  # a singular one is never silent
    # 24 analytic coefficients from 12 clusters: the singular covariance is never silent
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*dropped", category=LaborAIWarning)
        with pytest.warns(SmallSampleWarning, match="CRV1 with 12 clusters"), \
                pytest.warns(SmallSampleWarning, match=r"singular|rank"):
            event_study(low, vcov="cluster", window=(-12, 12), **kw)  # type: ignore[arg-type]


# the documented Hotelling correction of the analytic pre-test at rank G - 1
def test_analytic_pretest_uses_hotelling_at_rank_g_minus_1(low: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es = event_study(low, yname="log_n_posts", idname="unit", tname="period",
                         event_date="event_date", cluster="category", vcov="cluster",
                         window=(-12, 12))
    pre, G = es.pretrend, 12
    r = pre["rank"]
    assert r == 11
    F = pre["wald"] * (G - r) / (r * (G - 1))
    assert pre["df2"] == G - r
    assert pre["p_value"] == pytest.approx(float(stats.f.sf(F, r, G - r)), rel=1e-8)


# (c) reproducible by default; seed=None records the seed it drew
def test_c_event_study_is_reproducible_by_default() -> None:
    df = staggered()
    kw = dict(yname="y", idname="unit", tname="t", event_date="event", window=(-3, 3),
              n_boot=999)
    a = event_study(df, **kw)  # type: ignore[arg-type]
    b = event_study(df, **kw)  # type: ignore[arg-type]
    assert a.crit_sup_t == b.crit_sup_t
    pd.testing.assert_frame_equal(a.tidy(), b.tidy())
    assert a.provenance.seed == 0 and a.provenance.settings["seed"] == 0
    c = event_study(df, seed=None, **kw)  # type: ignore[arg-type]
    s = c.provenance.settings["seed"]
    assert isinstance(s, int) and c.provenance.seed == s
    again = event_study(df, seed=s, **kw)  # type: ignore[arg-type]
    assert again.crit_sup_t == c.crit_sup_t
    pd.testing.assert_frame_equal(again.tidy(), c.tidy())


# (d) an unobserved reference period is refused, not silently replaced
def test_d_unobserved_reference_period_raises() -> None:
    df = staggered()
    gone = df[~(df["event"].notna() & (df["t"] - df["event"] == -1))]
    with pytest.raises(EstimationError, match="no treated observation at the reference event "
                       "time -1"):
        event_study(gone, yname="y", idname="unit", tname="t", event_date="event",
                    window=(-3, 3))


FOUR = ("twfe", "event_study", "ddd", "estimate_effects")


def _call(fn: str, data: pd.DataFrame) -> object:
    if fn == "twfe":
        return twfe(data, yname="log_n_posts", dname="treated_post", idname="unit",
                    tname="period", cluster="category")
    if fn == "event_study":
        return event_study(data, yname="log_n_posts", idname="unit", tname="period",
                           event_date="event_date", cluster="category")
    if fn == "ddd":
        return ddd(data, yname="log_n_posts", idname="unit", tname="period",
                   dname="exposed01", post="post01", pname="high", cluster="category")
    return estimate_effects(data, outcomes=["log_n_posts"])


# (e) pandas Period time columns are refused
@pytest.mark.parametrize("fn", FOUR)
def test_e_period_time_column_raises(panel: pd.DataFrame, fn: str) -> None:
    bad = panel.assign(period=panel["period"].dt.to_period("M"))
    with pytest.raises(DataValidationError, match="Period"):
        _call(fn, bad)


# (f) duplicated unit x period rows are refused
@pytest.mark.parametrize("fn", FOUR)
def test_f_duplicated_unit_period_rows_raise(panel: pd.DataFrame, fn: str) -> None:
    dup = pd.concat([panel, panel.iloc[[3, 100, 200]]], ignore_index=True)
    with pytest.raises(DataValidationError, match="must identify rows uniquely"):
        _call(fn, dup)


# (g) one cluster: an error, not SE = inf
def test_g_single_cluster_raises(panel: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="at least 2 clusters"), \
            pytest.warns(LaborAIWarning, match="dropped"):
        twfe(panel.assign(one="all"), yname="log_n_posts", dname="treated_post",
             idname="unit", tname="period", cluster="one")


# (h) honest refuses a singular sigma
def test_h_honest_singular_sigma_raises() -> None:
    rng = np.random.default_rng(0)
    A = rng.normal(size=(5, 3))
    sigma = A @ A.T * 1e-3  # rank 3 for 5 coefficients
    with pytest.raises(DataValidationError, match="sigma is singular: rank 3 for 5"):
        honest(betahat=np.array([0.01, -0.02, 0.0, 0.05, 0.04]), sigma=sigma,
               num_pre_periods=3, num_post_periods=2)


# (i) twfe on the 12-category panel (5 treated): wild cluster bootstrap, seed recorded
def test_i_twfe_default_is_wild_with_12_clusters(panel: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*dropped", category=LaborAIWarning)
        warnings.simplefilter("error", SmallSampleWarning)
        r = twfe(panel, yname="log_n_posts", dname="treated_post", idname="unit",
                 tname="period", cluster="category")
    assert r.vcov_type == "wild"
    assert r.boot is not None and r.boot["seed"] == 0
    assert r.provenance.seed == 0 and r.provenance.settings["seed"] == 0


# (j) treatment in one cluster: no cluster-based variance can work; the default is placebo
# (Conley-Taber) inference over the 11 control categories, and asking for the wild bootstrap
# explicitly warns and names the alternatives
def test_j_one_treated_cluster_default_is_placebo(panel: pd.DataFrame) -> None:
    d = panel.assign(d=panel["treated_post"] * (panel["category"] == "Writing"))
    with pytest.warns(LaborAIWarning, match="dropped"):
        r = twfe(d, yname="log_n_posts", dname="d", idname="unit", tname="period",
                 cluster="category")
    assert r.vcov_type == "placebo" and r.df_resid == 10.0
    assert np.isfinite(r.tidy()["std_error"]).all()
    with pytest.warns(SmallSampleWarning, match=r"only 1 of 12 clusters.*ri_test"):
        twfe(d, yname="log_n_posts", dname="d", idname="unit", tname="period",
             cluster="category", vcov="wild", n_boot=99)


def test_pooled_effect_uses_placebo_like_twfe_with_one_event_date(low: pd.DataFrame) -> None:
    """by=() with one adoption date: the same placebo inference as twfe (equal estimate and SE);
    with staggered dates (image generators and ChatGPT) placebo does not apply: wild bootstrap."""
    ev = low["event"].astype("object").where(low["exposed"], None)
    one = low[ev.isna() | (ev == "chatgpt")].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LaborAIWarning)
        e = la.estimate_effects(one, outcomes=["log_n_posts"], by=())
        t = twfe(one, yname="log_n_posts", dname="treated_post", idname="unit", tname="period",
                 cluster="category")
        w = la.estimate_effects(low, outcomes=["log_n_posts"], by=(), n_boot=199)
    row = e.tidy().iloc[0]
    assert row["inference"] == "placebo" and t.vcov_type == "placebo"
    assert np.isclose(row["estimate"], t.coef[0], rtol=1e-10)
    assert np.isclose(row["std_error"], t.tidy()["std_error"].iloc[0], rtol=1e-10)
    assert row["df"] == t.df_resid
    assert w.tidy()["inference"].iloc[0] == "wild"


def test_pooled_event_study_crv1_warns_when_its_covariance_is_singular(low: pd.DataFrame) -> None:
    """24 event-time coefficients from 12 clusters: CRV1 has rank <= 11; the sup-t band must
    say so instead of drawing from a singular matrix silently."""
    with pytest.warns(SmallSampleWarning, match="is singular"):
        la.estimate_effects(low, outcomes=["log_n_posts"], by=(), design="event_study",
                            window=(-12, 12), vcov="cluster")
