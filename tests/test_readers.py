"""Readers: every validation rule with a bad-input case; quarantine accounting; sources."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

import laborai as la


def _writing_sub() -> str:
    """A real subcategory of Writing in whichever taxonomy is installed."""
    subs = la.taxonomy.subcategories("Writing")["subcategory"].tolist()
    return subs[0]


def good_posts(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame({
        "post_id": [f"p{i}" for i in range(n)],
        "posted_date": ["2022-01-0" + str(i % 9 + 1) for i in range(n)],
        "category": ["Writing"] * n,
        "subcategory": [_writing_sub()] * n,
        "title": ["Blog posts"] * n,
        "skills": ["blog writing; SEO writing"] * n,
        "budget_type": ["fixed"] * n,
        "contract_value_usd": ["150.5"] * n,
        "client_country": ["US"] * n,
    }, dtype=object)


def good_contracts(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame({
        "contract_id": [f"c{i}" for i in range(n)],
        "post_id": [f"p{i}" for i in range(n)],
        "freelancer_id": ["f1"] * n,
        "start_date": ["2022-02-01"] * n,
        "end_date": ["2022-02-10"] * n,
        "earnings_usd": [100.0] * n,
    }, dtype=object)


def test_valid_posts_are_coerced() -> None:
    out = la.read_job_posts(good_posts())
    assert len(out) == 6
    assert str(out["posted_date"].dtype) == "datetime64[ns]"
    assert out["contract_value_usd"].dtype == "float64"
    assert list(out.columns[:9]) == [c.name for c in la.data.JOB_POST_COLUMNS[:9]]


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("post_id", "", "id_present"),
        ("post_id", "p1", "id_unique"),
        ("posted_date", "2022-02-30", "date_parses"),
        ("posted_date", "1999-12-31", "date_in_range"),
        ("category", "Wrting", "category_known"),
        ("subcategory", "Family Law", "subcategory_known"),
        ("title", "caf\udce9", "text_decodes"),
        ("budget_type", "monthly", "allowed_value"),
        ("contract_value_usd", "-5", "money_valid"),
        ("contract_value_usd", "inf", "money_valid"),
        ("contract_value_usd", "abc", "money_valid"),
        ("client_country", "USA", "country_code"),
    ],
)
def test_each_post_rule_raises_and_quarantines(column: str, value: str, rule: str) -> None:
    df = good_posts()
    df.loc[3, column] = value
    with pytest.raises(la.DataValidationError,
                       match=rf"(?s)1 of 6 rows are invalid.*column '{column}', rule '{rule}': 1 row"):
        la.read_job_posts(df)
    res = la.read_job_posts(df, on_invalid="quarantine")
    assert res.n_read == 6 == len(res.data) + len(res.rejected)
    assert res.rejected["row"].tolist() == [4]
    assert res.rejected["rule"].tolist() == [rule]
    assert res.rejected["column"].tolist() == [column]
    assert res.rules == {rule: 1}


def test_missing_required_column_always_raises() -> None:
    df = good_posts().drop(columns=["budget_type"])
    with pytest.raises(la.DataValidationError, match="rule .required_columns.(?s:.)*'budget_type'"):
        la.read_job_posts(df, on_invalid="quarantine")


def test_category_map_translates_labels() -> None:
    df = good_posts()
    df["category"] = "Writing & Translation"
    out = la.read_job_posts(df, category_map={"Writing & Translation": "Writing"})
    assert set(out["category"]) == {"Writing"}


def test_error_names_file_and_first_values(tmp_path: Path) -> None:
    df = good_posts()
    df.loc[[1, 4], "category"] = ["Bogus", "Other"]
    path = tmp_path / "posts.csv"
    df.to_csv(path, index=False)
    with pytest.raises(la.DataValidationError,
                       match=r"(?s)posts\.csv: 2 of 6 rows.*'Bogus' \(row 2, line 3\), 'Other' \(row 5, line 6\)"):
        la.read_job_posts(path)


def test_csv_with_undecodable_bytes_is_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    good_posts().to_csv(path, index=False)
    raw = path.read_bytes().replace(b"Blog posts", b"Blog \xff\xfe posts", 1)
    path.write_bytes(raw)
    res = la.read_job_posts(path, on_invalid="quarantine")
    assert res.rejected["rule"].tolist() == ["text_decodes"]
    assert len(res.data) == 5


def test_parquet_and_duckdb_sources_agree(tmp_path: Path) -> None:
    df = good_posts()
    df["contract_value_usd"] = df["contract_value_usd"].astype(float)
    df["posted_date"] = pd.to_datetime(df["posted_date"])
    df.to_parquet(tmp_path / "p.parquet")
    a = la.read_job_posts(tmp_path / "p.parquet")
    con = duckdb.connect()
    con.register("posts_df", df)
    con.execute("CREATE TABLE posts AS SELECT * FROM posts_df")
    b = la.read_job_posts("posts", con=con)
    c = la.read_job_posts("SELECT * FROM posts", con=con)
    d = la.read_job_posts(con.table("posts"))
    for other in (b, c, d):
        pd.testing.assert_frame_equal(a, other)


def test_missing_file_and_bad_option(tmp_path: Path) -> None:
    with pytest.raises(la.DataFileNotFoundError, match="nope.csv: file not found"):
        la.read_job_posts(tmp_path / "nope.csv")
    with pytest.raises(la.OptionError, match="on_invalid must be one of 'raise', 'quarantine'; got 'drop'"):
        la.read_job_posts(good_posts(), on_invalid="drop")  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("contract_id", "c0", "id_unique"),
        ("freelancer_id", "", "id_present"),
        ("start_date", "yesterday", "date_parses"),
        ("end_date", "2022-01-15", "end_after_start"),
        ("earnings_usd", -1.0, "money_valid"),
        ("post_id", "p99", "post_exists"),
    ],
)
def test_each_contract_rule(column: str, value: object, rule: str) -> None:
    posts = la.read_job_posts(good_posts())
    df = good_contracts().astype(object)
    df.loc[2, column] = value
    with pytest.raises(la.DataValidationError, match=rf"(?s)column '{column}', rule '{rule}'"):
        la.read_contracts(df, job_posts=posts)
    res = la.read_contracts(df, job_posts=posts, on_invalid="quarantine")
    assert res.n_read == 4 == len(res.data) + len(res.rejected)
    assert res.rejected["rule"].tolist() == [rule]


def test_quarantine_accounting_on_simulated_data_with_damage() -> None:
    m = la.simulate_marketplace(seed=3, n_posts=3_000)
    df = m.job_posts.copy()
    df.loc[df.index[:7], "category"] = "Nonsense"
    df.loc[df.index[5:12], "contract_value_usd"] = -1.0
    res = la.read_job_posts(df, on_invalid="quarantine")
    assert res.n_read == len(df) == len(res.data) + len(res.rejected)
    assert len(res.rejected) == 12
    assert m.job_posts.loc[0, "category"] != "Nonsense"  # input copy untouched
    kept = la.read_contracts(m.contracts, job_posts=res.data, on_invalid="quarantine")
    assert kept.n_read == len(kept.data) + len(kept.rejected)
    assert set(kept.rejected["rule"]) <= {"post_exists"}


def test_unpacking_and_repr() -> None:
    data, rejected = la.read_job_posts(good_posts(), on_invalid="quarantine")
    assert len(data) == 6 and rejected.empty
    r = la.read_job_posts(good_posts(), on_invalid="quarantine")
    assert repr(r) == "ReadResult(source='<DataFrame>', n_read=6, kept=6, rejected=0)"
