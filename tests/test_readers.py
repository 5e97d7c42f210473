"""Readers: every validation rule with a bad-input case; quarantine accounting; sources."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

import laborai as la

# Most tests here reject one row of six on purpose; the warning itself is tested below.
pytestmark = pytest.mark.filterwarnings("ignore::laborai.data.readers.QuarantineWarning")


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


# ----------------------------------------------------------------------------- issue 12: real exports

from laborai.data.readers import (  # noqa: E402
    ColumnMapping,
    QuarantineWarning,
    ValueAssumptions,
    country_code,
    load_mapping,
    parse_money,
)


def _csv(tmp_path: Path, df: pd.DataFrame, name: str = "posts.csv", **kw: object) -> Path:
    path = tmp_path / name
    df.to_csv(path, index=False, **kw)  # type: ignore[call-overload]
    return path


def test_iso8601_with_z_and_offsets_is_converted_to_utc() -> None:
    df = good_posts()
    df["posted_date"] = ["2023-01-01T17:33:29Z", "2022-12-31T23:30:00-05:00",
                         "2023-01-01T01:00:00+02:00", "2023-01-01 12:00", "2023-01-01",
                         "2023-01-01T00:00:00.123456Z"]
    for mode in ("raise", "quarantine"):
        res = la.read_job_posts(df, on_invalid=mode)  # type: ignore[call-overload]
        out = res if mode == "raise" else res.data
        assert [str(d.date()) for d in out["posted_date"]] == [
            "2023-01-01", "2023-01-01", "2022-12-31", "2023-01-01", "2023-01-01", "2023-01-01"]


def test_dates_do_not_depend_on_the_machine_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    df = good_posts()
    df["posted_date"] = "2022-12-31T23:30:00-05:00"
    df.loc[1, "posted_date"] = "2022-12-31T23:30:00"
    seen = []
    try:
        for tz in ("UTC", "America/Los_Angeles", "Asia/Tokyo", "Pacific/Kiritimati"):
            monkeypatch.setenv("TZ", tz)
            time.tzset()
            seen.append(la.read_job_posts(df)["posted_date"].tolist())
    finally:
        monkeypatch.undo()
        time.tzset()
    assert seen[0] == seen[1] == seen[2] == seen[3]
    assert str(seen[0][0].date()) == "2023-01-01" and str(seen[0][1].date()) == "2022-12-31"


@pytest.mark.parametrize("mode", ["raise", "quarantine"])
def test_far_future_dates_are_rejected_with_a_reason(mode: str) -> None:
    df = good_posts()
    df.loc[2, "posted_date"] = "9999-12-31"
    df.loc[4, "posted_date"] = "2300-01-01T00:00:00Z"
    if mode == "raise":
        with pytest.raises(la.DataValidationError,
                           match=r"(?s)column 'posted_date', rule 'date_in_range': 2 row.*'9999-12-31'"):
            la.read_job_posts(df)
    else:
        res = la.read_job_posts(df, on_invalid="quarantine")
        assert res.rejected["row"].tolist() == [3, 5]
        assert set(res.rejected["rule"]) == {"date_in_range"}
        assert len(res.data) == 4


def test_stated_date_format() -> None:
    df = good_posts()
    df["posted_date"] = ["31/12/2022", "01/01/2023", "13/01/2023", "2023-01-01", "29/02/2023",
                         "05/01/2023"]
    res = la.read_job_posts(df, date_format="%d/%m/%Y", on_invalid="quarantine")
    assert res.rejected["row"].tolist() == [4, 5]
    assert set(res.rejected["rule"]) == {"date_parses"}
    assert "format '%d/%m/%Y'" in res.rejected["reason"].iloc[0]
    assert [str(d.date()) for d in res.data["posted_date"]] == [
        "2022-12-31", "2023-01-01", "2023-01-13", "2023-01-05"]
    zoned = good_posts(2).assign(posted_date=["2022-12-31 23:30 -0500", "2023-01-01 00:30 +0100"])
    out = la.read_job_posts(zoned, date_format="%Y-%m-%d %H:%M %z")
    assert [str(d.date()) for d in out["posted_date"]] == ["2023-01-01", "2022-12-31"]


@pytest.mark.parametrize(
    ("text", "decimal", "expected"),
    [("$1,500.00", ".", (1500.0, None)), ("US$ 1 500", ".", (1500.0, None)),
     ("1500 USD", ".", (1500.0, None)), ("1,50", ".", (None, "money_valid")),
     ("1.500,00", ".", (None, "money_valid")), ("1.500,00", ",", (1500.0, None)),
     ("1.500,00 €", ",", (None, "currency_usd")), ("€5", ".", (None, "currency_usd")),
     ("EUR 5", ".", (None, "currency_usd")), ("-$5", ".", (None, "money_valid")),
     ("inf", ".", (None, "money_valid")), ("", ".", (None, None)), ("12.5%", ".", (None, "money_valid")),
     ("1e3", ".", (1000.0, None)), ("1.5", ",", (None, "money_valid"))],
)
def test_money_strings(text: str, decimal: str, expected: tuple[float | None, str | None]) -> None:
    assert parse_money(text, decimal) == expected  # type: ignore[arg-type]


def test_money_strings_in_a_csv(tmp_path: Path) -> None:
    df = good_posts()
    df["contract_value_usd"] = ["$1,500.00", "1500", "US$ 20", "€ 20", "20 EUR", "$ 0.50"]
    res = la.read_job_posts(_csv(tmp_path, df), on_invalid="quarantine")
    assert res.data["contract_value_usd"].tolist() == [1500.0, 1500.0, 20.0, 0.5]
    assert res.rejected["rule"].tolist() == ["currency_usd", "currency_usd"]
    eu = good_posts(2).assign(contract_value_usd=["1.500,50", "2 000"])
    assert la.read_job_posts(eu, decimal=",")["contract_value_usd"].tolist() == [1500.5, 2000.0]


def test_country_names_through_pycountry_with_overrides() -> None:
    assert country_code("United States") == "US"
    assert country_code("  united   kingdom ") == "GB"
    assert country_code("Cote d'Ivoire") == "CI" and country_code("Reunion") == "RE"
    assert country_code("Turkey") == "TR" and country_code("Russia") == "RU"
    assert country_code("Macedonia") == "MK" and country_code("Palestinian Territories") == "PS"
    assert country_code("Atlantis") is None and country_code("Untied States") is None
    df = good_posts()
    df["client_country"] = ["United States", "Canada", "US", "Atlantis", "Netherlands Antilles",
                            "Swaziland"]
    mapping = ColumnMapping(transforms={"client_country": "country_name"})
    res = la.read_job_posts(df, mapping=mapping, on_invalid="quarantine")
    assert res.data["client_country"].tolist() == ["US", "CA", "US", "SZ"]
    assert res.rejected["rule"].tolist() == ["country_known", "country_known"]
    assert "former country" in res.rejected["reason"].iloc[1]
    # without the transform, names are not codes
    with pytest.raises(la.DataValidationError, match="rule 'country_code': 5 row"):
        la.read_job_posts(df)


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_delimiter_is_detected(tmp_path: Path, sep: str) -> None:
    df = good_posts()
    df.loc[0, "title"] = "Blog posts, SEO; and more | fast"
    out = la.read_job_posts(_csv(tmp_path, df, sep=sep))
    assert len(out) == 6 and out.loc[0, "title"] == "Blog posts, SEO; and more | fast"
    assert len(la.read_job_posts(_csv(tmp_path, df, "x.csv", sep=sep), delimiter=sep)) == 6


def test_a_stray_quote_that_merges_records_is_caught(tmp_path: Path) -> None:
    lines = good_posts(10).to_csv(index=False).splitlines(keepends=True)
    lines[3] = lines[3].replace("Blog posts", '"Blog posts')   # opens a field on line 4
    lines[6] = lines[6].replace("Blog posts", 'Monitor 27"')  # ... that closes on line 7
    path = tmp_path / "posts.csv"
    path.write_text("".join(lines))
    for mode in ("raise", "quarantine"):
        with pytest.raises(la.DataValidationError,
                           match=r"posts\.csv: rule 'csv_structure'.*line 4"):
            la.read_job_posts(path, on_invalid=mode)  # type: ignore[call-overload]
    lines = good_posts(10).to_csv(index=False).splitlines(keepends=True)
    lines[3] = lines[3].replace("Blog posts", '"Blog posts')  # never closed
    path.write_text("".join(lines))
    with pytest.raises(la.DataValidationError, match=r"rule 'csv_structure': malformed CSV"):
        la.read_job_posts(path, on_invalid="quarantine")


def test_records_counted_physically_with_quoted_newlines(tmp_path: Path) -> None:
    df = good_posts()
    df.loc[1, "title"] = "Blog posts\nover two lines"
    df.loc[3, "category"] = "Bogus"
    res = la.read_job_posts(_csv(tmp_path, df), on_invalid="quarantine")
    assert res.n_read == 6 and res.n_lines == 8
    assert res.data.loc[1, "title"] == "Blog posts\nover two lines"
    assert res.rejected[["row", "line"]].values.tolist() == [[4, 6]]


def _hostile(tmp_path: Path) -> dict[str, Path]:
    import gzip

    text = good_posts().to_csv(index=False)
    files = {
        "empty.csv": b"",
        "header_only.csv": text.splitlines()[0].encode() + b"\n",
        "binary.csv": bytes(range(256)) * 4,
        "dup_header.csv": "\n".join(line + (",description,description" if i == 0 else ",a,b")
                                     for i, line in enumerate(text.splitlines())).encode(),
        "nameless.csv": text.replace("client_country\n", "client_country,\n", 1).encode(),
        "fields.csv": text.replace(",US\n", "\n", 1).encode(),
        "notzip.csv.zip": b"this is not a zip",
        "notgz.csv.gz": b"this is not gzip",
        "zip_named_csv.csv": b"PK\x03\x04" + b"x" * 40,
        "truncated.parquet": b"PAR1\x00\x00\x00",
        "unsupported.xlsx": b"PK\x03\x04",
        "utf16_garbled.csv": b"\xff\xfe\x00",
        "gz_garbage.csv.gz": gzip.compress(bytes(range(256))),
    }
    out = {}
    for name, content in files.items():
        p = tmp_path / name
        p.write_bytes(content)
        out[name] = p
    return out


@pytest.mark.parametrize(("name", "rule", "words"), [
    ("empty.csv", "not_empty", "the file is empty"),
    ("header_only.csv", "not_empty", "no data records"),
    ("binary.csv", "csv_text", "NUL bytes"),
    ("dup_header.csv", "column_names", "duplicate column name(s) 'description'"),
    ("nameless.csv", "column_names", "number 10 have no name"),
    ("fields.csv", "csv_structure", "line 2 (8 fields)"),
    ("notzip.csv.zip", "file_readable", "not a valid zip archive"),
    ("notgz.csv.gz", "file_readable", "not a valid gz archive"),
    ("zip_named_csv.csv", "csv_text", "ZIP archive"),
    ("truncated.parquet", "file_readable", "not a readable Parquet file"),
    ("unsupported.xlsx", "file_type", "unsupported file type '.xlsx'"),
    ("utf16_garbled.csv", "text_decodes", "UTF-16 byte-order mark but does not decode"),
    ("gz_garbage.csv.gz", "csv_text", "NUL bytes"),
])
def test_hostile_files_raise_laborai_errors_naming_the_file(tmp_path: Path, name: str, rule: str,
                                                            words: str) -> None:
    path = _hostile(tmp_path)[name]
    for mode in ("raise", "quarantine"):
        with pytest.raises(la.DataValidationError,
                           match=re.escape(name) + f": rule '{rule}': .*" + re.escape(words)):
            la.read_job_posts(path, on_invalid=mode)  # type: ignore[call-overload]


def test_hostile_frames_and_queries() -> None:
    df = good_posts()
    df.columns = [*df.columns[:-1], "title"]
    with pytest.raises(la.DataValidationError, match="duplicate column name"):
        la.read_job_posts(df)
    with pytest.raises(la.DataValidationError, match="rule 'not_empty'"):
        la.read_job_posts(good_posts().iloc[:0])
    con = duckdb.connect()
    with pytest.raises(la.DataValidationError, match=r"query 'SELECT \* FROM nowhere'.*DuckDB"):
        la.read_job_posts("SELECT * FROM nowhere", con=con)
    rel = con.sql("SELECT 'p1' AS post_id, DATE '9999-12-31' AS posted_date, 'Writing' AS category, "
                  f"'{_writing_sub()}' AS subcategory, 'fixed' AS budget_type, "
                  "5.0 AS contract_value_usd, 'US' AS client_country")
    res = la.read_job_posts(rel, on_invalid="quarantine")
    assert res.rejected["rule"].tolist() == ["date_in_range"]
    with pytest.raises(la.DataValidationError, match="rule 'date_in_range'"):
        la.read_job_posts(rel)


def test_compressed_csv(tmp_path: Path) -> None:
    import gzip
    import zipfile

    text = good_posts().to_csv(index=False).encode()
    (tmp_path / "p.csv.gz").write_bytes(gzip.compress(text))
    with zipfile.ZipFile(tmp_path / "p.csv.zip", "w") as z:
        z.writestr("posts.csv", text)
    assert len(la.read_job_posts(tmp_path / "p.csv.gz")) == 6
    assert len(la.read_job_posts(tmp_path / "p.csv.zip")) == 6


def test_text_columns_are_optional() -> None:
    out = la.read_job_posts(good_posts().drop(columns=["title", "skills"]))
    assert len(out) == 6 and "title" not in out.columns


def _upwork_like() -> pd.DataFrame:
    sub = _writing_sub()
    return pd.DataFrame({
        "uid": ["u1", "u2", "u3", "u4", "u5", "u6"],
        "published_on": ["2023-01-01T17:33:29Z"] * 6,
        "occupations_category_pref_label": ["Writing"] * 6,
        "occupations_oservice_pref_label": [sub] * 6,
        "title": ["t"] * 6,
        "type": ["fixed_budget", "hourly", "hourly", "no_budget", "hourly", "fixed_budget"],
        "amount_amount": ["500", None, None, None, None, "1500"],
        "hourly_rate": [None, "20", "40", None, None, None],
        "engagement": [None, "Less than 30 hrs/week", "30+ hrs/week", "not_sure",
                       "Hours to be determined", None],
        "duration": ["Less than 1 month", "1 to 3 months", "More than 6 months", "3 to 6 months",
                     "Less than 1 month", "3 to 6 months"],
        "tier": ["Expert", "Entry level", "Intermediate", "Expert", None, "Expert"],
        "client_location_country": ["United States", "Canada", "Turkey", "India", "Germany",
                                    "France"],
        "connect_price": ["6"] * 6,
    }, dtype=object)


def test_upwork_mapping_value_basis_and_projection() -> None:
    out = la.read_job_posts(_upwork_like(), mapping="upwork_2023")
    assert out["post_id"].tolist() == ["u1", "u2", "u3", "u4", "u5", "u6"]
    assert out["budget_type"].tolist() == ["fixed_budget", "hourly", "hourly", "no_budget",
                                           "hourly", "fixed_budget"]
    assert out["value_basis"].tolist() == ["fixed_budget", "hourly_projection",
                                           "hourly_projection", "none", "none", "fixed_budget"]
    a = ValueAssumptions()
    v = out["contract_value_usd"].tolist()
    assert v[0] == 500.0 and v[5] == 1500.0
    assert v[1] == pytest.approx(20 * a.hours_per_week["Less than 30 hrs/week"]
                                 * a.weeks["1 to 3 months"], abs=0.01)
    assert v[2] == pytest.approx(40 * a.hours_per_week["30+ hrs/week"]
                                 * a.weeks["More than 6 months"], abs=0.01)
    assert np.isnan(v[3]) and np.isnan(v[4])  # no budget; hourly without a rate
    assert out["client_country"].tolist() == ["US", "CA", "TR", "IN", "DE", "FR"]
    assert out["experience_level"].tolist()[:2] == ["Expert", "Entry level"]
    assert out["engagement"].tolist()[1:5] == ["Less than 30 hrs/week", "30+ hrs/week",
                                               "not_sure", "Hours to be determined"]
    assert out["connect_price"].tolist() == ["6"] * 6  # extra columns kept
    more = la.read_job_posts(_upwork_like(), mapping="upwork_2023",
                             value_assumptions={"hours_per_week": {"30+ hrs/week": 40},
                                                "weeks": {"More than 6 months": 52}})
    assert more["contract_value_usd"].iloc[2] == pytest.approx(40 * 40 * 52)
    same = la.read_job_posts(_upwork_like(), mapping="upwork_2023",
                             value_assumptions=a.with_hours(**{"30+ hrs/week": 40}))
    assert same["contract_value_usd"].iloc[2] == pytest.approx(40 * 40 * 26)


def test_no_budget_posts_are_kept_not_rejected() -> None:
    df = good_posts()
    df.loc[[1, 2], "budget_type"] = "no_budget"
    df.loc[[1, 2], "contract_value_usd"] = ""
    df.loc[3, "contract_value_usd"] = ""
    out = la.read_job_posts(df)
    assert len(out) == 6
    assert out["value_basis"].tolist() == ["fixed_budget", "none", "none", "none",
                                           "fixed_budget", "fixed_budget"]
    df.loc[2, "contract_value_usd"] = "100"  # a no-budget post with a value contradicts itself
    with pytest.raises(la.DataValidationError, match="rule 'value_consistent': 1 row"):
        la.read_job_posts(df)


def test_mapping_forms_and_errors() -> None:
    df = good_posts().rename(columns={"post_id": "id", "posted_date": "date"})
    out = la.read_job_posts(df, mapping={"id": "post_id", "date": "posted_date"})
    assert out["post_id"].tolist()[0] == "p0"
    res = la.read_job_posts(df.assign(category="Bogus"), mapping={"id": "post_id",
                                                                  "date": "posted_date"},
                            on_invalid="quarantine")
    assert "value_id" in res.rejected.columns  # original values under the export names
    with pytest.raises(la.OptionError, match="mapping must be one of 'upwork_2023'"):
        la.read_job_posts(df, mapping="upwork_1999")
    with pytest.raises(la.OptionError, match="unknown canonical column"):
        la.read_job_posts(df, mapping={"id": "identifier"})
    with pytest.raises(la.DataValidationError, match=r"export column\(s\) 'uid' \(mapped to 'post_id'\)"):
        la.read_job_posts(_upwork_like().drop(columns=["uid"]), mapping="upwork_2023")
    m = load_mapping("upwork_2023")
    assert m.label == "upwork_2023 v1" and m.columns["uid"] == "post_id"
    assert la.read_job_posts(_upwork_like(), mapping=m, on_invalid="quarantine").mapping == m.label


def test_exact_duplicate_records_and_conflicting_ids() -> None:
    df = pd.concat([good_posts(), good_posts().iloc[[2]]], ignore_index=True)
    df.loc[7] = df.loc[3]
    df.loc[7, "title"] = "a different post with the same id"
    res = la.read_job_posts(df, on_invalid="quarantine")
    assert res.rejected[["row", "rule"]].values.tolist() == [[7, "duplicate_record"],
                                                            [8, "id_unique"]]


def test_quarantine_warns_on_a_large_share_or_an_emptied_tier() -> None:
    df = good_posts(200)
    df.loc[:1, "category"] = "Bogus"  # 1% exactly: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", QuarantineWarning)
        la.read_job_posts(df, on_invalid="quarantine")
    df.loc[2, "category"] = "Bogus"
    with pytest.warns(QuarantineWarning, match=r"rejected 3 of 200 rows \(1.5%.*category_known 3"):
        la.read_job_posts(df, on_invalid="quarantine")
    with warnings.catch_warnings():
        warnings.simplefilter("error", QuarantineWarning)
        la.read_job_posts(df, on_invalid="quarantine", warn_share=0.05)
    df = good_posts(200)
    df.loc[5, "contract_value_usd"] = "5000"
    df.loc[5, "category"] = "Bogus"
    high = la.taxonomy.value_tier([5000.0]).iloc[0]
    with pytest.warns(QuarantineWarning, match=rf"every post of value tier\(s\) '{high}' \(1 rows\)"):
        la.read_job_posts(df, on_invalid="quarantine", warn_share=0.5)
    assert issubclass(QuarantineWarning, la.LaborAIWarning)


def test_labels_match_ignoring_case_and_spacing() -> None:
    df = good_posts()
    df["category"] = "  writing "
    df["subcategory"] = "  " + _writing_sub().upper() + " "
    out = la.read_job_posts(df)
    assert set(out["category"]) == {"Writing"} and set(out["subcategory"]) == {_writing_sub()}


def test_country_overrides_are_needed_and_valid() -> None:
    import pycountry

    from laborai.data.readers import COUNTRY_OVERRIDES

    codes = {c.alpha_2 for c in pycountry.countries} | {"XK"}
    for name, code in COUNTRY_OVERRIDES.items():
        assert code in codes, name
        with pytest.raises(LookupError):
            pycountry.countries.lookup(name)  # pycountry misses it: the entry is needed


def test_a_source_of_the_wrong_kind_is_a_laborai_error() -> None:
    for source in (123, None, ["posts.csv"]):
        with pytest.raises(la.LaborAIError, match="source must be a path"):
            la.read_job_posts(source)
    with pytest.raises(TypeError):  # still a TypeError for code that catches that
        la.read_contracts(123)
    df = good_posts()
    df.columns = pd.MultiIndex.from_tuples([(c, "x") for c in df.columns])
    with pytest.raises(la.DataValidationError, match="MultiIndex"):
        la.read_job_posts(df)


def test_contracts_read_real_style_values(tmp_path: Path) -> None:
    df = pd.DataFrame({
        "id": ["c0", "c1", "c2", "c3"],
        "job": ["p0", "p1", "p2", "p3"],
        "freelancer": ["f1"] * 4,
        "started": ["2022-02-01T23:30:00-05:00", "2022-02-01", "2022-02-01", "2022-02-01"],
        "ended": ["2022-02-10T00:00:00Z", "9999-12-31", "2022-02-10", "2022-02-10"],
        "paid": ["$1,200.50", "100", "€ 100", ""],
    })
    path = _csv(tmp_path, df, "contracts.csv", sep=";")
    res = la.read_contracts(path, mapping={"id": "contract_id", "job": "post_id",
                                           "freelancer": "freelancer_id", "started": "start_date",
                                           "ended": "end_date", "paid": "earnings_usd"},
                            job_posts=la.read_job_posts(good_posts()), on_invalid="quarantine")
    assert res.data["earnings_usd"].tolist() == [1200.5]
    assert str(res.data["start_date"].iloc[0].date()) == "2022-02-02"
    assert res.rejected[["row", "rule"]].values.tolist() == [[2, "date_in_range"],
                                                            [3, "currency_usd"],
                                                            [4, "money_valid"]]


def test_read_result_records_its_settings(tmp_path: Path) -> None:
    res = la.read_job_posts(_csv(tmp_path, good_posts(), sep=";"), on_invalid="quarantine",
                            value_assumptions={"weeks": {"More than 6 months": 52}})
    s = res.settings
    assert s["delimiter"] == ";" and s["encoding"] == "utf-8" and s["mapping"] == ""
    assert s["value_assumptions"]["weeks"]["More than 6 months"] == 52
    assert s["taxonomy_version"] == la.taxonomy.version()


# ----------------------------------------------------------------------------- fast paths (issue 16)
# The readers check each distinct value once, Arrow text in pyarrow, and count the records of
# a well-quoted CSV in numpy; these tests hold the fast paths to the record-by-record ones.


def test_fast_csv_structure_equals_the_csv_module_on_fuzzed_files() -> None:
    from laborai.data import readers as R
    from laborai.errors import DataValidationError

    rng = np.random.default_rng(0)
    atoms = ["a", "xy", "", " ", '"', '""', ",", "\n", "é", "中", "\udc80", '"q"', '"a,b"',
             '"l1\nl2"', '"x""y"', '"a,b,c,d\ne,f,g,h"']
    taken = compared = 0
    for _ in range(4_000):
        ncol = int(rng.integers(1, 5))
        lines = []
        for _ in range(int(rng.integers(1, 7))):
            if rng.random() < 0.1:
                lines.append("")
                continue
            lines.append(",".join("".join(atoms[int(rng.integers(len(atoms)))]
                                          for _ in range(int(rng.choice([1, 1, 1, 2]))))
                                  for _ in range(ncol)))
        text = "\n".join(lines) + ("\n" if rng.random() < 0.5 else "")
        fast = R._structure_fast(text.encode("utf-8", "surrogateescape"), ",")
        if fast is None:
            continue
        taken += 1
        try:
            R._check_header(fast[0], "x", f" (header on line {fast[1]})")
            fast_error = None
        except DataValidationError as exc:
            fast_error = str(exc)
        try:
            slow = R._structure_checked(text, ",", "x")
        except DataValidationError as exc:
            assert fast_error == str(exc), repr(text)
            continue
        assert fast_error is None, repr(text)
        assert (fast[0], fast[1], fast[3]) == (slow[0], slow[1], slow[3]), repr(text)
        np.testing.assert_array_equal(fast[2], slow[2])
        compared += 1
    assert taken > 200 and compared > 100


@pytest.mark.parametrize("text", [
    'id,t\n1,"a\nb"\n2,x\n',  # quoted line break: record 2 starts on line 4
    'id,t\n\n1,"say ""hi"""\n\n\n2,"a,b"',  # blank lines, doubled quotes, no final newline
    'id,t\n""\n1,x\n',  # a line of just "" is blank
])
def test_fast_csv_structure_lines(text: str) -> None:
    from laborai.data import readers as R

    fast = R._structure_fast(text.encode(), ",")
    assert fast is not None
    slow = R._structure_checked(text, ",", "x")
    assert (fast[0], fast[1], fast[3]) == (slow[0], slow[1], slow[3])
    np.testing.assert_array_equal(fast[2], slow[2])


@pytest.mark.parametrize("text", [
    'id,t\n1,a"b\n',  # stray quote inside a field
    'id,t\n1,"a"b\n',  # text after a closing quote
    'id,t\n1, "a"\n',  # space before an opening quote
    'id,t\n1,"open\n',  # unclosed quote
    'id,t\r\n1,x\r\n',  # carriage returns
    'id,t\n1,x,y\n',  # wrong width
    'id,t\n1,"a,b,c,d\ne,f,g,h"\n',  # a merged record (3+ delimiters on each line)
])
def test_irregular_csv_takes_the_record_by_record_pass(text: str) -> None:
    from laborai.data import readers as R

    assert R._structure_fast(text.encode(), ",") is None


def _big_posts(n: int = 6_000) -> pd.DataFrame:
    sub = _writing_sub()
    rng = np.random.default_rng(1)
    df = pd.DataFrame({
        "post_id": [f"p{i}" for i in range(n)],
        "posted_date": rng.choice(["2022-01-03", "2022-02-01T23:30:00-05:00", "9999-12-31",
                                   "03/01/2022", ""], n).tolist(),
        "category": rng.choice(["Writing", " writing ", "WRITING", "Nonsense"], n).tolist(),
        "subcategory": [sub] * n,
        "title": rng.choice(["Blog posts", "Straße & café", "Привет 🤖", ""], n).tolist(),
        "budget_type": rng.choice(["fixed", "FIXED_BUDGET", "hourly", "barter"], n).tolist(),
        "contract_value_usd": [str(x) for x in rng.integers(0, 50_000, n)],
        "hourly_rate_usd": rng.choice(["", "40", "$1,200.50", "€5", "-3", "1,50", "1e400"],
                                      n).tolist(),
        "engagement": rng.choice(["", "30+  HRS/week", "forever"], n).tolist(),
        "duration": rng.choice(["", "1 to 3 months"], n).tolist(),
        "client_country": rng.choice(["US", " us ", "USA", "", "DE"], n).tolist(),
    }, dtype=object)
    df.loc[::97, "post_id"] = " p1 "  # padded duplicates of p1
    df.loc[::89, "post_id"] = ""
    df.loc[::31, "contract_value_usd"] = np.nan
    return pd.concat([df, df.iloc[:50]], ignore_index=True)  # exact duplicate records


def _same_read(a: la.ReadResult, b: la.ReadResult) -> None:
    pd.testing.assert_frame_equal(a.data, b.data, check_exact=True)
    pd.testing.assert_frame_equal(a.rejected, b.rejected, check_exact=True)
    assert dict(a.rules) == dict(b.rules) and a.n_read == b.n_read


def test_text_fast_paths_equal_the_per_value_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Object and Arrow text, factorized or not, give the frames of the per-value path."""
    from laborai.data import readers as R

    df = _big_posts()
    fast = la.read_job_posts(df, on_invalid="quarantine")
    arrow = la.read_job_posts(df.astype("str").where(df.notna(), None).astype("str"),
                              on_invalid="quarantine")
    assert len(fast.rejected) > 1_000 and len(fast.data) > 100
    assert {"duplicate_record", "id_unique", "id_present", "money_valid", "currency_usd",
            "date_parses", "date_in_range", "allowed_value", "country_code",
            "category_known"} <= set(fast.rules)
    monkeypatch.setattr(R, "_text_factor", lambda col: None)
    monkeypatch.setattr(R, "_arrow_text", lambda col: None)
    monkeypatch.setattr(R, "_plain_numbers", lambda col: None)
    monkeypatch.setattr(R, "_to_str", lambda col: col.astype("str"))
    slow = la.read_job_posts(df, on_invalid="quarantine")
    _same_read(fast, slow)
    _same_read(arrow, la.read_job_posts(df.astype("str").where(df.notna(), None).astype("str"),
                                        on_invalid="quarantine"))


def test_text_factor_keeps_non_text_values_per_value() -> None:
    from laborai.data import readers as R

    mixed = pd.Series(["a", 1, 1.0, True, None, np.nan], dtype=object)
    assert R._text_factor(mixed) is None
    assert R._as_text(mixed).tolist() == ["a", "1", "1.0", "True", None, None]
    nat = pd.Series(["a", np.datetime64("NaT")], dtype=object)
    assert R._text_factor(nat) is None  # pandas calls it null, the readers do not
    assert R._as_text(nat).tolist() == ["a", "NaT"]
    big = pd.Series([f" v{i} " for i in range(5_000)] + [None], dtype=object)
    assert R._strip(big).tolist() == [f"v{i}" for i in range(5_000)] + [None]


def test_plain_money_numbers_are_the_same_doubles() -> None:
    from laborai.data import readers as R

    vals = ["0", "1500", "1500.5", "0.1", "123456789.987654321", "00012.50",
            "9" * 300 + ".5"] * 1_000
    got = R._plain_numbers(pd.Series(vals, dtype=object))
    assert got is not None and got[0].all()
    assert got[1].tolist() == [float(v) for v in vals]
    assert R._plain_numbers(pd.Series(["1" * 400] * 5_000, dtype=object)) is None  # inf
