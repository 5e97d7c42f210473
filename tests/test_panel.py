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
    n_tiers = 2 + int(posts["contract_value_usd"].isna().any())  # + 'unknown' when present
    assert s["unit"].nunique() == len(la.taxonomy.subcategories()) * n_tiers
    assert s["n_posts"].sum() == len(posts)
    c3 = la.build_panel(posts, value_cuts=[500, 5000])
    assert set(c3["value_tier"]) - {"unknown"} == {"<=500", "500-5000", ">5000"}
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


# --- issue 12: a panel builder that loses nothing ----------------------------------------------


def test_duplicated_post_ids_are_refused() -> None:
    """A duplicated post id made the join count its contracts once per copy (x, y twice)."""
    posts, contracts = tiny()
    dup = pd.concat([posts, posts.iloc[[0]]], ignore_index=True)
    with pytest.raises(la.DataValidationError,
                       match=r"job posts \(DataFrame\): column 'post_id': rule 'unique_post_id': "
                             r"1 post id\(s\) appear more than once \(2 rows\); first duplicated "
                             r"ids: 'a'"):
        la.build_panel(dup, contracts)
    with pytest.raises(la.DataValidationError, match="unique_post_id"):
        la.build_panel(dup)  # the post itself would be counted twice too


def test_contracts_without_start_date_are_reported() -> None:
    posts, contracts = tiny()
    contracts.loc[1, "start_date"] = pd.NaT  # y
    with pytest.raises(la.DataValidationError,
                       match=r"column 'start_date': rule 'start_date_present': 1 contract\(s\) "
                             r"have no start date; first contract_ids: 'y'"):
        la.build_panel(posts, contracts)
    p = la.build_panel(posts, contracts, incomplete_contracts="count")
    acc = p.attrs["accounting"]
    assert p["n_contracts"].sum() == 2 and acc["contracts_missing_start_date"] == 1
    assert acc["contracts_read"] == 3 == (acc["contracts_in_panel"] + acc["contracts_outside_periods"]
                                          + acc["contracts_missing_start_date"])
    with pytest.raises(la.OptionError, match="incomplete_contracts must be one of 'raise', 'count'"):
        la.build_panel(posts, contracts, incomplete_contracts="drop")  # type: ignore[arg-type]


def test_contracts_without_earnings_do_not_bias_earnings_per_contract() -> None:
    posts, contracts = tiny()
    contracts = pd.concat([contracts, pd.DataFrame({
        "contract_id": ["w"], "post_id": ["a"], "start_date": pd.to_datetime(["2022-01-20"]),
        "earnings_usd": [np.nan]})], ignore_index=True)
    with pytest.raises(la.DataValidationError,
                       match=r"column 'earnings_usd': rule 'earnings_present': 1 contract\(s\) "
                             r"have missing \(NULL or NaN\) earnings; first contract_ids: 'w'"):
        la.build_panel(posts, contracts)
    p = la.build_panel(posts, contracts, incomplete_contracts="count")
    jan = p[(p["unit"] == "Writing | low") & (p["period"] == "2022-01-01")].iloc[0]
    assert jan["n_contracts"] == 2 and jan["n_contracts_with_earnings"] == 1
    assert jan["earnings_total"] == 80.0 and jan["earnings_per_contract"] == 80.0  # not 40
    assert p.attrs["accounting"]["contracts_missing_earnings"] == 1
    # default columns are unchanged when nothing is missing
    assert "n_contracts_with_earnings" not in la.build_panel(*tiny()).columns


def test_nan_earnings_in_parquet_are_missing_not_an_error(tmp_path: Path) -> None:
    """Parquet keeps NaN (not NULL); a NaN must neither crash the decimal sum nor count."""
    posts, contracts = tiny()
    contracts.loc[0, "earnings_usd"] = np.nan
    pa_path = tmp_path / "c.parquet"
    import pyarrow as pa
    import pyarrow.parquet as pq
    table = pa.Table.from_pandas(contracts.drop(columns="earnings_usd"), preserve_index=False)
    table = table.append_column("earnings_usd", pa.array(contracts["earnings_usd"].to_numpy()))
    pq.write_table(table, pa_path)
    nan_count = duckdb.connect().execute(
        f"SELECT count(*) FILTER (WHERE CAST(earnings_usd AS VARCHAR) = 'nan') FROM "
        f"read_parquet('{pa_path}')").fetchall()
    assert nan_count == [(1,)]  # a real NaN, not a NULL
    with pytest.raises(la.DataValidationError, match="earnings_present': 1 contract"):
        la.build_panel(posts, pa_path)
    p = la.build_panel(posts, pa_path, incomplete_contracts="count")
    assert p["n_contracts_with_earnings"].sum() == 2 and p["earnings_total"].sum() == 2540.0


def _zoned_posts() -> pd.DataFrame:
    return pd.DataFrame({
        "post_id": ["a", "b", "c"],
        # UTC: 31 Jan 23:30, 1 Feb 00:30, 31 Mar 20:00 (the last given in New York time)
        "posted_date": pd.to_datetime(["2022-01-31T23:30:00Z", "2022-02-01T00:30:00Z",
                                       "2022-03-31T20:00:00Z"]).tz_convert("America/New_York"),
        "category": ["Writing"] * 3,
        "contract_value_usd": [100.0, 100.0, 100.0],
    })


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Tokyo"])
def test_periods_do_not_depend_on_duckdbs_time_zone(zone: str, tmp_path: Path) -> None:
    posts = _zoned_posts()
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{zone}'")
    posts.to_parquet(tmp_path / "p.parquet")  # a Parquet timestamp with a zone (TIMESTAMPTZ)
    for src in (posts, tmp_path / "p.parquet"):
        p = la.build_panel(src, con=con)
        assert p.set_index("period")["n_posts"].to_dict() == {
            pd.Timestamp("2022-01-01"): 1, pd.Timestamp("2022-02-01"): 1,
            pd.Timestamp("2022-03-01"): 1}
    w = la.build_panel(posts, freq="week", con=con)
    assert w.loc[w["n_posts"] > 0, "period"].dt.strftime("%Y-%m-%d").tolist() == [
        "2022-01-31", "2022-03-28"]
    assert con.sql("SELECT current_setting('TimeZone')").fetchall() == [(zone,)]  # not changed


def test_periods_do_not_depend_on_the_machines_time_zone(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    _zoned_posts().to_parquet(tmp_path / "p.parquet")
    code = ("import laborai as la, sys; p = la.build_panel(sys.argv[1], freq='week'); "
            "print(p.loc[p.n_posts > 0, 'period'].dt.strftime('%Y-%m-%d').tolist(), "
            "la.build_panel(sys.argv[1])['n_posts'].tolist())")
    outs = set()
    for zone in ("America/Los_Angeles", "Asia/Tokyo", "UTC"):
        env = {**os.environ, "TZ": zone}
        r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "p.parquet")], env=env,
                           capture_output=True, text=True, check=True)
        outs.add(r.stdout.strip())
    assert outs == {"['2022-01-31', '2022-03-28'] [1, 1, 1]"}


def test_iso_text_dates_with_offsets_are_utc() -> None:
    posts = _zoned_posts()
    posts["posted_date"] = ["2022-01-31T23:30:00Z", "2022-01-31T19:30:00-05:00",
                            "2022-03-31"]
    p = la.build_panel(posts)
    assert p["n_posts"].tolist() == [1, 1, 1]
    posts.loc[1, "posted_date"] = "31/01/2022"
    with pytest.raises(la.DataValidationError,
                       match=r"column 'posted_date': rule 'iso_date': 1 post\(s\) .* first "
                             r"values: '31/01/2022'"):
        la.build_panel(posts)


def test_far_future_dates_and_infinite_values_are_refused() -> None:
    posts, contracts = tiny()
    far = posts.astype({"posted_date": "object"})
    far["posted_date"] = far["posted_date"].astype(str)
    far.loc[1, "posted_date"] = "9999-12-31"
    with pytest.raises(la.DataValidationError,
                       match=r"rule 'date_range': 1 post\(s\) .* first values: '9999-12-31'"):
        la.build_panel(far)
    inf = posts.copy()
    inf.loc[0, "contract_value_usd"] = np.inf
    with pytest.raises(la.DataValidationError,
                       match=r"column 'contract_value_usd': rule 'finite_value': 1 post.*'a'"):
        la.build_panel(inf)
    c = contracts.copy()
    c.loc[0, "earnings_usd"] = -np.inf
    with pytest.raises(la.DataValidationError, match=r"rule 'finite_value': 1 contract.*'x'"):
        la.build_panel(posts, c)
    c = pd.concat([contracts, contracts.iloc[[0]]], ignore_index=True)
    with pytest.raises(la.DataValidationError, match=r"rule 'unique_contract_id'.*'x'"):
        la.build_panel(posts, c)


def test_duckdb_errors_become_laborai_errors(tmp_path: Path) -> None:
    posts, contracts = tiny()
    missing = tmp_path / "nope.parquet"
    with pytest.raises(la.DataFileNotFoundError,
                       match=r"job posts \('.*nope.parquet'\): rule 'readable_file'"):
        la.build_panel(missing)
    with pytest.raises(la.DataFileNotFoundError, match=r"contracts \('.*/none/\*.parquet'\)"):
        la.build_panel(posts, str(tmp_path / "none" / "*.parquet"))
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not a parquet file at all")
    with pytest.raises(la.DataValidationError, match=r"job posts \('.*junk.parquet'\): rule "
                                                       r"'readable_file'"):
        la.build_panel(junk)
    text_value = posts.astype({"contract_value_usd": str})
    with pytest.raises(la.DataValidationError,
                       match="rule 'column_type'.*'contract_value_usd' is VARCHAR"):
        la.build_panel(text_value)
    int_ids = contracts.assign(post_id=[1, 1, 5])
    with pytest.raises(la.LaborAIError, match=r"contracts \(DataFrame\)"):
        la.build_panel(posts, int_ids)
    flags = posts.assign(is_ai=posts["is_ai"].map({True: "yes", False: "no"}))
    with pytest.raises(la.DataValidationError, match="'is_ai' is VARCHAR"):
        la.build_panel(flags, flags=("is_ai",))


def test_accounting_and_provenance_attrs(small_market: la.Marketplace) -> None:
    m = small_market
    p = la.build_panel(m.job_posts, m.contracts, start="2021-01-01", end="2023-06-30")
    acc = p.attrs["accounting"]
    assert acc["posts_read"] == len(m.job_posts)
    assert acc["posts_in_panel"] == p["n_posts"].sum()
    assert acc["posts_in_panel"] + acc["posts_outside_range"] == acc["posts_read"]
    in_range = m.job_posts["posted_date"].between("2021-01-01", "2023-06-30")
    assert acc["posts_unknown_value"] == m.job_posts.loc[in_range, "contract_value_usd"].isna().sum()
    assert acc["posts_unknown_value"] == p.loc[p["value_tier"] == "unknown", "n_posts"].sum()
    assert acc["contracts_read"] == len(m.contracts)
    assert acc["contracts_in_panel"] == p["n_contracts"].sum()
    assert acc["contracts_in_panel"] + acc["contracts_outside_periods"] == len(m.contracts)
    assert p.attrs["taxonomy_version"] == la.taxonomy.version()
    assert p.attrs["value_cuts"] == [1000.0] and p.attrs["tier_labels"] == ["low", "high"]


def test_nan_value_in_parquet_goes_to_the_unknown_tier(tmp_path: Path) -> None:
    """DuckDB folds isnan() to false from Parquet statistics (pyarrow leaves NaN out of min/max);
    a NaN budget must still be 'unknown', not 'high'."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    posts, _ = tiny()
    posts.loc[0, "contract_value_usd"] = np.nan
    table = pa.Table.from_pandas(posts.drop(columns="contract_value_usd"), preserve_index=False)
    table = table.append_column("contract_value_usd",
                                pa.array(posts["contract_value_usd"].to_numpy()))
    pq.write_table(table, tmp_path / "p.parquet")
    p = la.build_panel(tmp_path / "p.parquet")
    assert p.loc[p["value_tier"] == "unknown", "n_posts"].sum() == 1
    assert p["value_total"].sum() == 1500.0 + 1000.0 + 50.0 + 2000.0
    assert p.attrs["accounting"]["posts_unknown_value"] == 1


def test_hostile_inputs_end_in_laborai_errors() -> None:
    posts, contracts = tiny()
    with pytest.raises(la.DataValidationError,
                       match=r"column 'contract_value_usd': rule 'money_range': 1 post.*'d'"):
        la.build_panel(posts.assign(contract_value_usd=[100.0, 1500.0, 1000.0, -50.0, 2000.0]))
    with pytest.raises(la.DataValidationError, match=r"rule 'money_range': 1 post.*'a'"):
        la.build_panel(posts.assign(contract_value_usd=[1e40, 1.0, 1.0, 1.0, 1.0]))
    with pytest.raises(la.DataValidationError, match=r"earnings_usd': rule 'money_range'.*'y'"):
        la.build_panel(posts, contracts.assign(earnings_usd=[80.0, -40.0, 2500.0]))
    with pytest.raises(la.OptionError, match="start must be a date"):
        la.build_panel(posts, start="yesterday-ish")
    with pytest.raises(la.OptionError, match=r"by must not contain the panel's own columns \['unit'\]"):
        la.build_panel(posts.assign(unit="u"), by=("unit", "value_tier"))
    twice = posts.copy()
    twice.columns = ["post_id", "posted_date", "category", "category", "contract_value_usd",
                     "is_ai"]
    with pytest.raises(la.DataValidationError, match="rule 'unique_columns'.*'category'"):
        la.build_panel(twice)
    with pytest.raises(la.DataValidationError, match=r"rule 'column_type'.*Arrow"):
        la.build_panel(posts.assign(category=["a", 1, 2.0, None, b"x"]))
    with pytest.raises(la.DataValidationError, match=r"'posted_date': rule 'column_type'.*BIGINT"):
        la.build_panel(posts.assign(posted_date=20220101))
    with pytest.raises(la.DataValidationError, match=r"rule 'posts_in_range'.*5 post\(s\) read"):
        la.build_panel(posts, start="2030-01-01")
    with pytest.raises(la.DataValidationError, match=r"rule 'posts_in_range'.*no rows"):
        la.build_panel(posts.iloc[:0])


def test_contract_tiers_from_realised_earnings() -> None:
    """Tiers of contracts from their realised earnings (issue 12, item 3)."""
    posts, contracts = tiny()
    contracts.loc[0, "earnings_usd"] = 1200.0  # x: post a is low (value 100), paid 1,200
    by_post = la.build_panel(posts, contracts)
    by_earn = la.build_panel(posts, contracts, contract_tiers="earnings")
    jan = pd.Timestamp("2022-01-01")

    def cell(p: pd.DataFrame, unit: str, col: str) -> float:
        return float(p.loc[(p["unit"] == unit) & (p["period"] == jan), col].iloc[0])

    assert cell(by_post, "Writing | low", "n_contracts") == 1
    assert cell(by_earn, "Writing | low", "n_contracts") == 0
    assert cell(by_earn, "Writing | high", "n_contracts") == 1
    assert cell(by_earn, "Writing | high", "earnings_total") == 1200.0
    # posts keep their projected tiers
    assert by_earn["unit"].tolist() == by_post["unit"].tolist()
    assert by_earn["n_posts"].tolist() == by_post["n_posts"].tolist()
    pd.testing.assert_series_equal(by_post.groupby("category")["n_contracts"].sum(),
                                   by_earn.groupby("category")["n_contracts"].sum())
    assert by_earn.attrs["contract_tiers"] == "earnings"
    missing = contracts.copy()
    missing.loc[2, "earnings_usd"] = np.nan
    p = la.build_panel(posts, missing, contract_tiers="earnings", incomplete_contracts="count")
    assert p.loc[p["value_tier"] == "unknown", "n_contracts"].sum() == 1
    with pytest.raises(la.OptionError, match="contract_tiers must be one of 'post', 'earnings'"):
        la.build_panel(posts, contracts, contract_tiers="paid")  # type: ignore[arg-type]
