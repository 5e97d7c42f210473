"""The simulated marketplace: canonical tables, determinism, text, and effects equal to truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import laborai as la


def test_tables_are_canonical_and_valid(small_market: la.Marketplace) -> None:
    m = small_market
    posts = la.read_job_posts(m.job_posts, on_invalid="quarantine")
    assert posts.rejected.empty and len(posts.data) == len(m.job_posts)
    cons = la.read_contracts(m.contracts, job_posts=posts.data, on_invalid="quarantine")
    assert cons.rejected.empty
    assert set(m.job_posts["category"]) == set(la.taxonomy.category_names())
    assert m.job_posts["posted_date"].between("2020-01-01", "2024-06-30").all()
    tiers = la.taxonomy.value_tier(m.job_posts["contract_value_usd"])
    assert 0.1 < (tiers == "high").mean() < 0.4
    assert abs(len(m.job_posts) - 40_000) < 5 * np.sqrt(40_000)


def test_same_seed_same_tables_and_different_seed_differs() -> None:
    a = la.simulate_marketplace(seed=5, n_posts=5_000)
    b = la.simulate_marketplace(seed=5, n_posts=5_000)
    c = la.simulate_marketplace(seed=6, n_posts=5_000)
    pd.testing.assert_frame_equal(a.job_posts, b.job_posts)
    pd.testing.assert_frame_equal(a.contracts, b.contracts)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert not a.job_posts["contract_value_usd"].equals(c.job_posts["contract_value_usd"])
    assert a.source_line == "Simulated marketplace, seed 5"
    assert repr(a).startswith("Marketplace(simulated, seed=5")


def test_truth_table_and_effect_options() -> None:
    t = la.data.default_effects()
    assert len(t) == 12 * 2 * 2
    w = t.set_index(["category", "value_tier", "outcome"])["effect"]
    assert w["Writing", "low", "log_n_posts"] < -0.3
    assert w["Writing", "high", "log_earnings_per_contract"] > 0
    assert w["Data Science & Analytics", "high", "log_n_posts"] > 0
    assert w["Legal", "low", "log_n_posts"] == 0.0
    design = np.log(0.8 * np.exp(w["Design & Creative", "low", "log_n_posts"])
                    + 0.2 * np.exp(w["Design & Creative", "high", "log_n_posts"]))
    assert -0.22 < design < -0.15  # about -17% overall
    m0 = la.simulate_marketplace(seed=1, n_posts=2_000, effects="none")
    assert (m0.truth["effect"] == 0).all()
    m1 = la.simulate_marketplace(seed=1, n_posts=2_000,
                                 effects={("Legal", "high", "log_n_posts"): 0.5})
    tt = m1.truth.set_index(["category", "value_tier", "outcome"])
    assert tt.loc[("Legal", "high", "log_n_posts"), "effect"] == 0.5
    assert tt["effect"].abs().sum() == 0.5
    with pytest.raises(la.OptionError, match="effects key must be"):
        la.simulate_marketplace(seed=1, n_posts=100, effects={("Lgal", "high", "log_n_posts"): 1})
    with pytest.raises(la.OptionError, match="n_posts must be a positive integer"):
        la.simulate_marketplace(n_posts=0)


def test_text_has_labels_and_traps(small_market: la.Marketplace) -> None:
    p = small_market.job_posts
    assert p["is_ai"].mean() > 0.01 and p["is_cloud"].any() and p["is_rpa"].any()
    assert not (p["is_ai"] & p["is_cloud"]).any()
    text = (p["title"] + " " + p["skills"]).str.lower()
    trap = text.str.contains(r"\bai\b|email|thai", regex=True) & ~p["is_ai"]
    assert trap.sum() > 20  # keyword traps exist among non-AI posts
    assert (p.loc[p["is_ai"], "skill_family"] != "").all()
    assert (p.loc[~p["is_ai"], "skill_family"] == "").all()
    # AI work spreads after ChatGPT, beyond technical categories
    post = p["posted_date"] >= "2022-11-30"
    nontech = ~p["category"].isin(["Data Science & Analytics", "Web, Mobile & Software Dev"])
    assert p.loc[post & nontech, "is_ai"].mean() > 2 * p.loc[~post & nontech, "is_ai"].mean()


def _realised(m: la.Marketplace) -> pd.DataFrame:
    """DiD of log mean outcomes, post vs pre event, each treated cell vs never-exposed cells.

    Returns the realised effect and its sampling standard error (delta method: Poisson counts
    for posts, contract-level variance for earnings per contract).
    """
    panel = la.exposure.add_event_dates(la.build_panel(m.job_posts, m.contracts))
    ctrl = panel[~panel["exposed"]]
    posts = m.job_posts.assign(value_tier=la.taxonomy.value_tier(m.job_posts["contract_value_usd"]))
    con = m.contracts.merge(posts[["post_id", "category", "value_tier"]], on="post_id")
    events = la.taxonomy.category_events().set_index("category")["event_date"]
    rows = []
    for (cat, tier), g in panel[panel["exposed"]].groupby(["category", "value_tier"]):
        post = g["post"].to_numpy()
        c = ctrl[ctrl["value_tier"] == tier]
        cpost = c["period"].isin(g.loc[post, "period"]).to_numpy()
        parts = [g.loc[post, "n_posts"], g.loc[~post, "n_posts"], c.loc[cpost, "n_posts"],
                 c.loc[~cpost, "n_posts"]]
        d_posts = (np.log(parts[0].mean() / parts[1].mean())
                   - np.log(parts[2].mean() / parts[3].mean()))
        se_posts = np.sqrt(sum(1.0 / x.sum() for x in parts))
        # earnings per contract, by contract start date relative to the event
        e0 = events[cat]
        first_post = g.loc[post, "period"].min()
        last = panel["period"].max() + pd.offsets.MonthEnd(0)
        cg = con[(con["category"] == cat) & (con["value_tier"] == tier)
                 & (con["start_date"] <= last)]
        cc = con[~con["category"].isin(events[events.notna()].index) & (con["value_tier"] == tier)
                 & (con["start_date"] <= last)]
        groups = [cg[cg["start_date"] >= e0], cg[cg["start_date"] < first_post],
                  cc[cc["start_date"] >= e0], cc[cc["start_date"] < first_post]]
        means = [x["earnings_usd"].mean() for x in groups]
        d_earn = np.log(means[0] / means[1]) - np.log(means[2] / means[3])
        se_earn = np.sqrt(sum(x["earnings_usd"].var() / (len(x) * x["earnings_usd"].mean() ** 2)
                              for x in groups))
        rows += [(cat, tier, "log_n_posts", d_posts, se_posts),
                 (cat, tier, "log_earnings_per_contract", d_earn, se_earn)]
    est = pd.DataFrame(rows, columns=["category", "value_tier", "outcome", "realised", "se"])
    return est.merge(m.truth, on=["category", "value_tier", "outcome"])


def test_realised_effects_equal_truth_without_noise() -> None:
    m = la.simulate_marketplace(seed=2, n_posts=600_000, noise_sd=0.0, category_noise_sd=0.0,
                                tier_noise_sd=0.0, trend_sd=0.0, text=False)
    r = _realised(m)
    assert len(r) == 5 * 2 * 2
    z = (r["realised"] - r["effect"]) / r["se"]
    # only sampling error remains: every cell within 4 standard errors, and errors small
    assert z.abs().max() < 4, r.assign(z=z)
    assert (r["realised"] - r["effect"]).abs().median() < 0.02
    assert r["se"].max() < 0.07  # the smallest exposed cell (Translation, 2.4% of posts)


def test_realised_effects_track_truth_with_default_noise() -> None:
    m = la.simulate_marketplace(seed=4, n_posts=400_000, text=False)  # AR(1) shocks, rho 0.8
    r = _realised(m)
    err = r["realised"] - r["effect"]
    assert err.abs().median() < 0.04
    # 0.93, not 0.95: since the calibration to the real snapshot, 19% of posts show no budget
    # (unknown tier, left out here) and high-value earnings are real projected values (hourly
    # work up to months of full time), so the smallest cells are noisier than before
    assert np.corrcoef(r["realised"], r["effect"])[0, 1] > 0.93


def test_parquet_round_trip(tmp_path: Path, small_market: la.Marketplace) -> None:
    d = small_market.to_parquet(tmp_path / "mk")
    back = la.read_marketplace(d)
    pd.testing.assert_frame_equal(back.job_posts, small_market.job_posts)
    pd.testing.assert_frame_equal(back.contracts, small_market.contracts)
    pd.testing.assert_frame_equal(back.truth, small_market.truth)
    assert back.seed == small_market.seed and back.params == dict(small_market.params)
    with pytest.raises(la.DataValidationError, match="not a saved marketplace"):
        la.read_marketplace(tmp_path)


# ----------------------------------------------------------------------------- shocks


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.8, 0.95])
def test_ar1_shocks_have_the_stated_persistence_and_stationary_sd(rho: float) -> None:
    from laborai.data.simulate import _ar1

    z = np.random.default_rng(0).standard_normal((40_000, 24))
    x = _ar1(z, rho, 0.05)
    se = 4 * np.sqrt((1 - rho**2) ** 2 / 40_000 + 1e-8) + 0.005
    for lag in (1, 2):
        r = np.corrcoef(x[:, 10], x[:, 10 - lag])[0, 1]
        assert abs(r - rho**lag) < se, (lag, r)
    # stationary from the first month on: the sd is 0.05 in the first and in the last month
    for t in (0, 12, 23):
        assert abs(x[:, t].std() - 0.05) < 0.05 * 0.02, (t, x[:, t].std())
    if rho == 0.0:
        np.testing.assert_array_equal(x, 0.05 * z)


def _category_month_residuals(m: la.Marketplace) -> tuple[np.ndarray, np.ndarray]:
    """Log posts by category x month minus category and month means; Poisson variance."""
    p = m.job_posts
    n = (p.groupby([p["category"], p["posted_date"].dt.to_period("M")]).size()
         .unstack("posted_date").to_numpy(float))
    y = np.log(n)
    e = y - y.mean(axis=0, keepdims=True)
    e = e - e.mean(axis=1, keepdims=True)
    return e, 1.0 / n


@pytest.mark.parametrize("rho", [0.0, 0.8])
def test_category_shock_persistence_recovered_from_a_long_simulated_series(rho: float) -> None:
    m = la.simulate_marketplace(seed=3, n_posts=500_000, start="2016-01-01", end="2024-06-30",
                                effects="none", noise_sd=0.0, tier_noise_sd=0.0, trend_sd=0.0,
                                category_noise_sd=0.2, category_rho=rho, text=False)
    e, pois = _category_month_residuals(m)
    # lag-1 autocorrelation, with the (white) Poisson counting variance removed from the variance
    acov1 = (e[:, 1:] * e[:, :-1]).mean()
    var = (e * e).mean() - pois.mean() * (11 / 12)
    assert abs(acov1 / var - rho) < 0.08, acov1 / var
    # stationary sd of the category shock: 0.2 (within sampling error of 12 categories)
    assert 0.15 < np.sqrt(var) < 0.24
    assert m.params["category_rho"] == rho and m.params["tier_noise_sd"] == 0.0


def test_tier_shocks_separate_the_tiers_of_a_category() -> None:
    kw = dict(seed=8, n_posts=300_000, effects="none", noise_sd=0.0, category_noise_sd=0.0,
              trend_sd=0.0, text=False)

    def tier_gap_sd(m: la.Marketplace) -> float:
        p = m.job_posts.assign(tier=la.taxonomy.value_tier(m.job_posts["contract_value_usd"]))
        n = p.groupby(["category", "tier", p["posted_date"].dt.to_period("M")]).size()
        gap = np.log(n.xs("high", level="tier")) - np.log(n.xs("low", level="tier"))
        gap = gap - gap.groupby(level=[0]).transform("mean")
        return float(gap.std())

    base = tier_gap_sd(la.simulate_marketplace(tier_noise_sd=0.0, **kw))
    tiered = tier_gap_sd(la.simulate_marketplace(tier_noise_sd=0.15, **kw))
    # the gap between tiers moves by sqrt(2) * 0.15 more than Poisson noise alone
    assert tiered**2 - base**2 > 0.5 * 2 * 0.15**2


# ----------------------------------------------------------------------------- pre-trends


@pytest.mark.parametrize("shape", ["linear", "quadratic", "anticipation"])
@pytest.mark.parametrize("outcome", ["log_n_posts", "log_earnings_per_contract"])
def test_pre_trend_shapes_produce_the_recorded_path(shape: str, outcome: str) -> None:
    size = {"linear": 0.3, "quadratic": 0.15, "anticipation": -0.8}[shape]
    m = la.simulate_marketplace(seed=9, n_posts=300_000, effects="none", noise_sd=0.0,
                                category_noise_sd=0.0, tier_noise_sd=0.0, trend_sd=0.0,
                                pre_trend=size, pre_trend_shape=shape, pre_trend_window=9,
                                pre_trend_categories=["Writing", "Design & Creative"],
                                pre_trend_outcomes=[outcome], text=False)
    path = m.pre_trend_path
    assert list(path.columns) == ["category", "value_tier", "outcome", "period", "event_time",
                                  "violation"]
    assert len(path) == 12 * 2 * 2 * 54
    # recorded path: the formula at event time k (months from the event month)
    w = path[(path["category"] == "Writing") & (path["value_tier"] == "low")
             & (path["outcome"] == outcome)].set_index("event_time")["violation"]
    tau = w.index.to_numpy(float) / 12
    expect = {"linear": size * tau, "quadratic": size * tau**2,
              "anticipation": size * np.clip(tau + 0.75, 0, 0.75)}[shape]
    np.testing.assert_allclose(w.to_numpy(), expect, atol=1e-12)
    assert w.loc[0] == pytest.approx(0.0 if shape != "anticipation" else size * 0.75)
    other = path[~path["category"].isin(["Writing", "Design & Creative"])
                 | (path["outcome"] != outcome)]
    assert (other["violation"] == 0).all()
    # realised path: Writing vs the unaffected categories, month by month
    ctrl = ~m.job_posts["category"].isin(["Writing", "Design & Creative"])
    if outcome == "log_n_posts":
        p = m.job_posts.assign(month=m.job_posts["posted_date"].dt.to_period("M").dt.start_time)
        n = p.groupby([p["category"] == "Writing", ctrl, "month"]).size()
        obs = np.log(n.loc[True, False]) - np.log(n.loc[False, True])
        se = np.sqrt(1 / n.loc[True, False] + 1 / n.loc[False, True])
    else:
        # low-value contracts only: the violation shifts both tiers, and pooling them would
        # let the few, large high-value contracts (real projected values) dominate the means
        low = m.job_posts["contract_value_usd"] <= 1000
        c = m.contracts.merge(m.job_posts.loc[low, ["post_id", "category"]], on="post_id")
        c = c[c["start_date"] <= "2024-06-30"]
        c = c.assign(month=c["start_date"].dt.to_period("M").dt.start_time,
                     w=c["category"] == "Writing", ctrl=~c["category"].isin(
                         ["Writing", "Design & Creative"]))
        g = c.groupby(["w", "ctrl", "month"])["earnings_usd"]
        mean, var, cnt = g.mean(), g.var(), g.size()
        obs = np.log(mean.loc[True, False]) - np.log(mean.loc[False, True])
        se = np.sqrt((var / (cnt * mean**2)).loc[True, False]
                     + (var / (cnt * mean**2)).loc[False, True])
    truth = path[(path["category"] == "Writing") & (path["value_tier"] == "low")
                 & (path["outcome"] == outcome)].set_index("period")["violation"]
    dev = (obs - truth.reindex(obs.index)).to_numpy()
    dev = dev - np.average(dev, weights=1 / se.to_numpy() ** 2)  # level (shares) differs
    z = dev / se.to_numpy()
    assert np.abs(z).max() < 4.5, z
    # and the path is far from flat relative to the sampling error
    assert truth.max() - truth.min() > 5 * se.median()


def test_pre_trend_defaults_to_exposed_categories_and_round_trips(tmp_path: Path) -> None:
    m = la.simulate_marketplace(seed=1, n_posts=3_000, pre_trend=-0.1, text=False)
    exposed = set(m.truth.loc[m.truth["event"].notna(), "category"])
    assert set(m.params["pre_trend_events"]) == exposed and len(exposed) == 5
    path = m.pre_trend_path
    hit = path.loc[path["violation"] != 0]
    assert set(hit["category"]) == exposed and set(hit["outcome"]) == {"log_n_posts"}
    back = la.read_marketplace(m.to_parquet(tmp_path / "mk"))
    pd.testing.assert_frame_equal(back.pre_trend_path, path)
    # no pre-trend by default: the path is identically zero
    assert (la.simulate_marketplace(seed=1, n_posts=500, text=False)
            .pre_trend_path["violation"] == 0).all()


# ----------------------------------------------------------------------------- designs


def test_design_effects_round_trip() -> None:
    from laborai.data.simulate import design_effects

    eff = design_effects(["Writing", "Legal"], {"Writing": -0.3, "Legal": 0.1}, tiers=("low",),
                         outcome=["log_n_posts", "log_earnings_per_contract"], event="chatgpt")
    assert list(eff.columns) == list(la.data.default_effects().columns)
    assert len(eff) == 12 * 2 * 2
    on = eff[eff["effect"] != 0].set_index(["category", "value_tier", "outcome"])["effect"]
    assert on.to_dict() == {("Writing", "low", "log_n_posts"): -0.3,
                            ("Writing", "low", "log_earnings_per_contract"): -0.3,
                            ("Legal", "low", "log_n_posts"): 0.1,
                            ("Legal", "low", "log_earnings_per_contract"): 0.1}
    m = la.simulate_marketplace(seed=2, n_posts=2_000, effects=eff, text=False)
    t = m.truth.merge(eff, on=["category", "value_tier", "outcome"], suffixes=("", "_design"))
    np.testing.assert_array_equal(t["effect"], t["effect_design"])
    treated = t["category"].isin(["Writing", "Legal"])
    assert (t.loc[treated, "start_date"] == pd.Timestamp("2022-11-30")).all()
    assert t.loc[~treated, "start_date"].isna().all() and t.loc[~treated, "event"].isna().all()
    # default events: Design & Creative gets the image generators
    d = design_effects(["Design & Creative"], -0.2)
    assert set(d.loc[d["category"] == "Design & Creative", "event"]) == {"image_generators"}
    assert d.loc[d["category"] == "Design & Creative", "effect"].eq(-0.2).sum() == 2  # both tiers


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(categories=["Lgal"], effect=0.1), "categories must be one of .* got 'Lgal'"),
    (dict(categories="Legal", effect=0.1), "categories must be a list"),
    (dict(categories=["Legal"], effect=0.1), "'Legal' has no default event"),
    (dict(categories=["Writing"], effect=0.1, tiers=("mid",)), "tiers must be one of"),
    (dict(categories=["Writing"], effect=0.1, outcome="posts"), "outcome must be one of"),
    (dict(categories=["Writing"], effect=float("nan")), "effect must be a finite number"),
    (dict(categories=["Writing", "Legal"], effect={"Writing": 0.1}, event="chatgpt"),
     r"no value for \['Legal'\]"),
])
def test_design_effects_option_errors(kwargs: dict, match: str) -> None:
    from laborai.data.simulate import design_effects

    with pytest.raises(la.OptionError, match=match):
        design_effects(**kwargs)


# ----------------------------------------------------------------------------- text, options


def test_text_false_changes_only_titles_and_skills() -> None:
    kw = dict(seed=21, n_posts=20_000, pre_trend=-0.2, pre_trend_shape="anticipation")
    a = la.simulate_marketplace(**kw)
    b = la.simulate_marketplace(**kw, text=False)
    c = la.simulate_marketplace(**kw, text=False)
    pd.testing.assert_frame_equal(a.job_posts.drop(columns=["title", "skills"]),
                                  b.job_posts.drop(columns=["title", "skills"]))
    pd.testing.assert_frame_equal(a.contracts, b.contracts)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert (b.job_posts["title"] == "").all() and (b.job_posts["skills"] == "").all()
    assert b.job_posts["title"].dtype == a.job_posts["title"].dtype
    assert (a.job_posts["title"] != "").all()
    pd.testing.assert_frame_equal(b.job_posts, c.job_posts)  # same seed, same tables
    pd.testing.assert_frame_equal(b.contracts, c.contracts)
    assert a.params["text"] is True and b.params["text"] is False


def test_zero_persistence_gives_independent_months_and_noise_off_is_exact() -> None:
    # rho = 0 reproduces independent monthly shocks drawn as sd * z; sd = 0 removes them
    a = la.simulate_marketplace(seed=4, n_posts=5_000, category_rho=0.0, subcategory_rho=0.0,
                                tier_rho=0.0, text=False)
    b = la.simulate_marketplace(seed=4, n_posts=5_000, text=False)
    assert not a.job_posts["posted_date"].equals(b.job_posts["posted_date"])
    quiet = dict(seed=4, n_posts=5_000, noise_sd=0.0, category_noise_sd=0.0, tier_noise_sd=0.0,
                 text=False)
    pd.testing.assert_frame_equal(
        la.simulate_marketplace(**quiet, category_rho=0.0).job_posts,
        la.simulate_marketplace(**quiet, category_rho=0.9).job_posts)


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(category_rho=1.0), r"category_rho must be a number strictly between -1 and 1.*got 1\.0"),
    (dict(subcategory_rho="0.5"), "subcategory_rho must be a number strictly between"),
    (dict(tier_rho=-1.2), r"tier_rho must be .* got -1\.2"),
    (dict(noise_sd=-0.1), r"noise_sd must be a finite number >= 0 .* got -0\.1"),
    (dict(tier_noise_sd=float("inf")), "tier_noise_sd must be a finite number >= 0"),
    (dict(category_noise_sd=None), "category_noise_sd must be a finite number"),
    (dict(pre_trend=float("nan")), "pre_trend must be a finite number"),
    (dict(pre_trend_shape="cubic"),
     "pre_trend_shape must be one of 'linear', 'quadratic', 'anticipation'; got 'cubic'"),
    (dict(pre_trend_window=0), "pre_trend_window must be a positive integer .* got 0"),
    (dict(pre_trend_categories="Writing"), "pre_trend_categories must be None or a list"),
    (dict(pre_trend_categories=["Wrting"]), "pre_trend_categories must be one of"),
    (dict(pre_trend_categories=["Legal"]), "'Legal' has no event in the effects table"),
    (dict(pre_trend_outcomes=["posts"]), "pre_trend_outcomes must be one of"),
    (dict(pre_trend_outcomes="log_n_posts"), "pre_trend_outcomes must be a list"),
    (dict(text="no"), "text must be True or False; got 'no'"),
])
def test_new_options_are_validated(kwargs: dict, match: str) -> None:
    with pytest.raises(la.OptionError, match=match):
        la.simulate_marketplace(seed=1, n_posts=100, **kwargs)
