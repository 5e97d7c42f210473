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
                                trend_sd=0.0)
    r = _realised(m)
    assert len(r) == 5 * 2 * 2
    z = (r["realised"] - r["effect"]) / r["se"]
    # only sampling error remains: every cell within 4 standard errors, and errors small
    assert z.abs().max() < 4, r.assign(z=z)
    assert (r["realised"] - r["effect"]).abs().median() < 0.02
    assert r["se"].max() < 0.06


def test_realised_effects_track_truth_with_default_noise() -> None:
    m = la.simulate_marketplace(seed=4, n_posts=400_000)
    r = _realised(m)
    err = r["realised"] - r["effect"]
    assert err.abs().median() < 0.04
    assert np.corrcoef(r["realised"], r["effect"])[0, 1] > 0.95


def test_parquet_round_trip(tmp_path: Path, small_market: la.Marketplace) -> None:
    d = small_market.to_parquet(tmp_path / "mk")
    back = la.read_marketplace(d)
    pd.testing.assert_frame_equal(back.job_posts, small_market.job_posts)
    pd.testing.assert_frame_equal(back.contracts, small_market.contracts)
    pd.testing.assert_frame_equal(back.truth, small_market.truth)
    assert back.seed == small_market.seed and back.params == dict(small_market.params)
    with pytest.raises(la.DataValidationError, match="not a saved marketplace"):
        la.read_marketplace(tmp_path)
