"""Panel builder: hand-computed values, accounting identities, balance, sources, errors."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

import laborai as la


def tiny() -> tuple[pd.DataFrame, pd.DataFrame]:
    posts = pd.DataFrame({
        "post_id": ["a", "b", "c", "d", "e"],
        "posted_date": pd.to_datetime(["2022-01-03", "2022-01-20", "2022-03-05", "2022-03-06",
                                       "2022-01-31"]),
        "category": ["Writing", "Writing", "Writing", "Legal", "Legal"],
        "subcategory": ["Content Writing", "Ghostwriting", "Content Writing", "Family Law",
                        "Family Law"],
        "contract_value_usd": [100.0, 1500.0, 1000.0, 50.0, 2000.0],
        "is_ai": [True, False, False, False, True],
    })
    contracts = pd.DataFrame({
        "contract_id": ["x", "y", "z"],
        "post_id": ["a", "a", "e"],
        "start_date": pd.to_datetime(["2022-01-05", "2022-02-01", "2022-02-10"]),
        "earnings_usd": [80.0, 40.0, 2500.0],
    })
    return posts, contracts


def test_hand_computed_panel() -> None:
    posts, contracts = tiny()
    p = la.build_panel(posts, contracts)
    # 4 observed units (Legal|high, Legal|low, Writing|high, Writing|low) x 3 months
    assert len(p) == 12 and p.groupby("unit").size().eq(3).all()
    w_low = p[p["unit"] == "Writing | low"].set_index("period")
    assert w_low["n_posts"].tolist() == [1, 0, 1]  # a (Jan), c (Mar; 1000 is low)
    assert w_low["n_ai_posts"].tolist() == [1, 0, 0]
    assert w_low["n_contracts"].tolist() == [1, 1, 0]  # x in Jan, y in Feb (by start date)
    assert w_low["earnings_total"].tolist() == [80.0, 40.0, 0.0]
    assert np.isnan(w_low["log_n_posts"].iloc[1])  # explicit zero, log undefined
    assert np.isnan(w_low["earnings_per_contract"].iloc[2])
    assert w_low["log_n_posts"].iloc[0] == 0.0
    l_high = p[p["unit"] == "Legal | high"].set_index("period")
    assert l_high["n_posts"].tolist() == [1, 0, 0]
    assert l_high["earnings_per_contract"].iloc[1] == 2500.0
    assert l_high["share_ai_posts"].iloc[0] == 1.0
    assert p["t"].tolist()[:3] == [0, 1, 2]
    assert list(p.columns[:4]) == ["category", "value_tier", "unit", "period"]


def test_inputs_not_mutated_and_row_order_irrelevant() -> None:
    posts, contracts = tiny()
    before = posts.copy()
    a = la.build_panel(posts, contracts)
    pd.testing.assert_frame_equal(posts, before)
    b = la.build_panel(posts.sample(frac=1, random_state=3), contracts.iloc[::-1])
    pd.testing.assert_frame_equal(a, b)


def test_accounting_identity_pandas_and_parquet(tmp_path: Path, small_market: la.Marketplace) -> None:
    m = small_market
    posts, cons = m.job_posts, m.contracts
    start, end = pd.Timestamp("2021-03-10"), pd.Timestamp("2023-08-20")
    in_range = posts["posted_date"].between(start, end).sum()
    m.to_parquet(tmp_path)
    for p_src, c_src in ((posts, cons), (tmp_path / "job_posts.parquet",
                                          tmp_path / "contracts.parquet")):
        full = la.build_panel(p_src, c_src)
        assert full["n_posts"].sum() == len(posts)
        assert full["n_ai_posts"].sum() == posts["is_ai"].sum()
        last = full["period"].max() + pd.offsets.MonthEnd(0)
        assert full["n_contracts"].sum() == (cons["start_date"] <= last).sum()
        assert np.isclose(full["earnings_total"].sum(),
                          cons.loc[cons["start_date"] <= last, "earnings_usd"].sum())
        sub = la.build_panel(p_src, c_src, start=start, end=end)
        assert sub["n_posts"].sum() == in_range
        assert sub["period"].min() == pd.Timestamp("2021-03-01")
        assert sub["period"].max() == pd.Timestamp("2023-08-01")
    pd.testing.assert_frame_equal(la.build_panel(posts, cons),
                                  la.build_panel(tmp_path / "job_posts.parquet",
                                                 tmp_path / "contracts.parquet"))
    con = duckdb.connect()
    rel_p = con.read_parquet(str(tmp_path / "job_posts.parquet"))
    rel_c = con.read_parquet(str(tmp_path / "contracts.parquet"))
    pd.testing.assert_frame_equal(la.build_panel(posts, cons), la.build_panel(rel_p, rel_c))


def test_week_subcategory_taxonomy_units_and_cuts(small_market: la.Marketplace) -> None:
    posts = small_market.job_posts
    w = la.build_panel(posts, freq="week")
    assert (w["period"].dt.day_of_week == 0).all()
    assert w["n_posts"].sum() == len(posts)
    s = la.build_panel(posts, by=("category", "subcategory", "value_tier"), units="taxonomy")
    assert s["unit"].nunique() == len(la.taxonomy.subcategories()) * 2
    assert s["n_posts"].sum() == len(posts)
    c3 = la.build_panel(posts, value_cuts=[500, 5000])
    assert set(c3["value_tier"]) == {"<=500", "500-5000", ">5000"}
    assert c3["n_posts"].sum() == len(posts)
    n_big = (posts["contract_value_usd"] > 5000).sum()
    assert c3.loc[c3["value_tier"] == ">5000", "n_posts"].sum() == n_big


def test_errors() -> None:
    posts, contracts = tiny()
    with pytest.raises(la.OptionError, match="freq must be one of 'month', 'week', 'quarter', 'year'; got 'day'"):
        la.build_panel(posts, freq="day")  # type: ignore[arg-type]
    with pytest.raises(la.DataValidationError, match="missing column\\(s\\) 'client_country'"):
        la.build_panel(posts, by=("client_country",))
    bad = posts.copy()
    bad.loc[0, "category"] = None
    with pytest.raises(la.DataValidationError, match="rule 'unit_present': 1 post"):
        la.build_panel(bad)
    orphan = contracts.copy()
    orphan.loc[0, "post_id"] = "zzz"
    with pytest.raises(la.DataValidationError, match="rule 'post_exists': 1 contract"):
        la.build_panel(posts, orphan)
    con = duckdb.connect()
    rel = con.from_df(posts)
    with pytest.raises(la.OptionError, match="cannot be combined with a pandas DataFrame"):
        la.build_panel(rel, contracts)


def test_event_dates_and_treatment_indicators() -> None:
    posts, contracts = tiny()
    p = la.exposure.add_event_dates(la.build_panel(posts, contracts))
    w = p[p["category"] == "Writing"]
    assert (w["event_date"] == pd.Timestamp("2022-11-30")).all()
    assert not w["post"].any()  # panel ends in March 2022
    assert not p.loc[p["category"] == "Legal", "exposed"].any()
    q = la.exposure.add_event_dates(p, overrides={"chatgpt": "2022-02-15"})
    # one timing rule: treated from the first period starting on or after the event (March)
    assert q.loc[q["category"] == "Writing", "post"].tolist() == [False, False, True] * 2
    c = la.exposure.add_event_dates(p, overrides={"chatgpt": "2022-02-15"}, timing="containing")
    assert c.loc[c["category"] == "Writing", "post"].tolist() == [False, True, True] * 2


def test_missing_value_goes_to_the_unknown_tier() -> None:
    """Posts without a budget (issue 12: 57% of real posts are hourly or have none) are counted
    in an explicit 'unknown' tier, never dropped and never refused."""
    posts, contracts = tiny()
    posts.loc[2, "contract_value_usd"] = np.nan  # c: Writing, March
    posts.loc[4, "contract_value_usd"] = None  # e: Legal, January, has a contract
    p = la.build_panel(posts, contracts)
    assert la.panel.UNKNOWN_TIER == "unknown"
    assert set(p["value_tier"]) == {"low", "high", "unknown"}
    assert p["n_posts"].sum() == len(posts)
    w = p[p["unit"] == "Writing | unknown"].set_index("period")
    assert w["n_posts"].tolist() == [0, 0, 1] and w["value_total"].tolist() == [0.0] * 3
    legal = p[p["unit"] == "Legal | unknown"].set_index("period")
    assert legal["n_contracts"].tolist() == [0, 1, 0]
    assert legal["earnings_total"].tolist() == [0.0, 2500.0, 0.0]
    # value totals of the known tiers are unchanged
    assert p["value_total"].sum() == 100.0 + 1500.0 + 50.0
    # taxonomy grids include the unknown tier only when present
    t = la.build_panel(posts, units="taxonomy")
    assert t["unit"].nunique() == len(la.taxonomy.category_names()) * 3
    t0 = la.build_panel(tiny()[0], units="taxonomy")
    assert "unknown" not in set(t0["value_tier"])
    with pytest.raises(la.OptionError, match="must not contain 'unknown'"):
        la.build_panel(posts, tier_labels=["low", "unknown"])


def test_money_sums_do_not_depend_on_threads_or_row_order() -> None:
    """A DOUBLE sum in DuckDB changes in its last bits with the thread count and the order of the
    rows (this made the report's figures differ between two builds); the decimal sum does not."""
    rng = np.random.default_rng(3)
    n = 200_000
    posts = pd.DataFrame({
        "post_id": np.arange(n).astype(str),
        "posted_date": pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 90, n), "D"),
        "category": rng.choice(["Writing", "Legal"], n),
        "contract_value_usd": rng.lognormal(6, 1.5, n),
    })
    contracts = pd.DataFrame({
        "contract_id": np.arange(n).astype(str),
        "post_id": posts["post_id"],
        "start_date": posts["posted_date"],
        "earnings_usd": rng.lognormal(6, 1.5, n) / 3.0,
    })
    cols = ["value_total", "earnings_total", "earnings_per_contract"]
    out = []
    for threads, order in ((1, np.arange(n)), (4, rng.permutation(n)), (2, rng.permutation(n))):
        con = duckdb.connect()
        con.execute(f"SET threads = {threads}")
        p = la.build_panel(posts.iloc[order], contracts.iloc[order], con=con)
        out.append(p[cols].to_numpy())
    assert out[0].tobytes() == out[1].tobytes() == out[2].tobytes()
    # and the exact sums equal the exact sums of the amounts rounded to 1e-6 USD
    total = np.round(contracts["earnings_usd"].to_numpy(), 6).sum()
    assert np.isclose(p["earnings_total"].sum(), total, rtol=1e-12)
