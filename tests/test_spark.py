"""build_panel on Apache Spark: the same panel as DuckDB, bit for bit, on the same Parquet files.

One local Spark session (``local[2]``, UI off) serves the whole module. These tests never skip:
PySpark is in requirements.lock and CI installs a Java runtime (.ci/run).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import laborai as la
from laborai._spark import SparkUnavailableError, local_session, to_spark_sql
from laborai.errors import DataFileNotFoundError, DataValidationError, LaborAIError, OptionError

pytestmark = [pytest.mark.spark, pytest.mark.slow,
              pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = local_session("local[2]", {"spark.driver.memory": "768m"})
    yield session
    # stop the session and its JVM: the rest of the test run gets the memory back
    from pyspark import SparkContext

    gateway = session.sparkContext._gateway
    session.stop()
    gateway.shutdown()
    proc = getattr(gateway, "proc", None)
    if proc is not None:
        proc.stdin.close()  # PySpark's launcher exits the JVM when its stdin closes
        proc.wait(timeout=60)
    SparkContext._gateway = None
    SparkContext._jvm = None


def write(df: pd.DataFrame, path: Path) -> str:
    """Parquet with microsecond timestamps (Spark refuses nanoseconds)."""
    df.to_parquet(path, coerce_timestamps="us", allow_truncated_timestamps=True)
    return str(path)


def both(spark: Any, posts: Any, contracts: Any = None, **kw: Any) -> pd.DataFrame:
    """The DuckDB and Spark panels of the same inputs; asserts they are identical."""
    a = la.build_panel(posts, contracts, **kw)
    b = la.build_panel(posts, contracts, engine="spark", spark=spark, **kw)
    pd.testing.assert_frame_equal(b, a, check_exact=True)
    assert b.attrs == a.attrs
    return a


def both_raise(spark: Any, rule: str, posts: Any, contracts: Any = None,
               err: type[LaborAIError] = DataValidationError, **kw: Any) -> None:
    """Both engines refuse the input with the same LaborAIError and rule."""
    msgs = []
    for engine in ("duckdb", "spark"):
        with pytest.raises(err, match=rule) as info:
            la.build_panel(posts, contracts, engine=engine,
                           spark=spark if engine == "spark" else None, **kw)
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


def tricky() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Empty cells, missing/NaN values, half-cent-free decimals, zoned timestamps near midnight."""
    posts = pd.DataFrame({
        "post_id": [f"p{i}" for i in range(8)],
        # +05:00 just after midnight: the UTC date is the previous day (and month)
        "posted_date": pd.to_datetime([
            "2022-01-03 10:00+00:00", "2022-02-01 00:30+05:00", "2022-03-05 23:59+00:00",
            "2022-03-06 12:00-08:00", "2022-01-31 22:00-03:00", "2022-05-01 01:00+02:00",
            "2022-05-10 00:00+00:00", "2022-01-15 08:00+00:00"], utc=True).tz_convert("Asia/Tokyo"),
        "category": ["Writing", "Writing", "Legal", "Legal", "Writing", "Legal",
                     "Design & Creative", "Design & Creative"],
        "contract_value_usd": [100.25, np.nan, 1000.0, None, 2000.5, 0.01, 1e6 + 0.07, 999.99],
        "is_ai": [True, False, False, True, True, False, False, True],
    })
    contracts = pd.DataFrame({
        "contract_id": ["c0", "c1", "c2", "c3", "c4", "c5"],
        "post_id": ["p0", "p0", "p4", "p2", "p6", "p1"],
        "start_date": pd.to_datetime(["2022-01-05 03:00+09:00", "2022-02-28 23:30-01:00",
                                      None, "2022-03-06 00:00+00:00", "2022-05-11 00:00+00:00",
                                      "2022-02-02 00:00+00:00"], utc=True),
        "earnings_usd": [80.1, 40.02, 2500.0, np.nan, 123456.78, 0.3],
    })
    return posts, contracts


def test_simulated_marketplace_parquet(spark: Any, tmp_path: Path) -> None:
    m = la.simulate_marketplace(seed=3, n_posts=4_000)
    p = write(m.job_posts, tmp_path / "posts.parquet")
    c = write(m.contracts, tmp_path / "contracts.parquet")
    panel = both(spark, p, c)
    assert int(panel["n_posts"].sum()) == len(m.job_posts)
    assert panel["n_contracts"].sum() == panel.attrs["accounting"]["contracts_in_panel"] > 0
    assert (panel["n_posts"] == 0).any()  # empty cells are explicit zeros on both engines
    # a Spark DataFrame input gives the same panel too (its session is used)
    sp = la.build_panel(spark.read.parquet(p), spark.read.parquet(c), engine="spark")
    pd.testing.assert_frame_equal(sp, panel, check_exact=True)


def test_tricky_values_and_zoned_timestamps(spark: Any, tmp_path: Path) -> None:
    posts, contracts = tricky()
    p = write(posts, tmp_path / "posts.parquet")
    c = write(contracts, tmp_path / "contracts.parquet")
    for kw in ({"freq": "month"}, {"freq": "week", "units": "taxonomy", "by": ("category",)},
               {"freq": "quarter", "contract_tiers": "earnings"}):
        panel = both(spark, p, c, incomplete_contracts="count", **kw)
        acc = panel.attrs["accounting"]
        assert acc["contracts_missing_start_date"] == 1
        assert acc["contracts_missing_earnings"] == 1
    panel = both(spark, p, c, incomplete_contracts="count")
    assert acc["posts_unknown_value"] == 2  # None and NaN values: tier "unknown"
    # periods are UTC months (p1, 2022-02-01 00:30+05:00, is a January post), not Tokyo's
    jan = panel[panel["period"] == pd.Timestamp("2022-01-01")]
    utc_month = posts["posted_date"].dt.tz_convert("UTC").dt.month
    assert int(jan["n_posts"].sum()) == int((utc_month == 1).sum()) == 3
    # DECIMAL sums: exactly the rounded amounts
    assert panel["value_total"].sum() == pytest.approx(100.25 + 1000.0 + 2000.5 + 0.01
                                                       + 1e6 + 0.07 + 999.99)
    # pandas DataFrames in, zoned columns and all: the same panel as from the Parquet files
    pd.testing.assert_frame_equal(
        la.build_panel(posts, contracts, engine="spark", spark=spark,
                       incomplete_contracts="count"), panel, check_exact=True)


def test_text_dates_and_start_end(spark: Any) -> None:
    posts, contracts = tricky()
    posts["posted_date"] = ["2022-01-03T10:00:00Z", "2022-02-01T00:30:00+05:00", "2022-03-05",
                            "2022-03-06 12:00:00", "2022-01-31T22:00:00-03:00",
                            "2022-05-01T01:00:00+02:00", "2022-05-10", "2022-01-15"]
    contracts = contracts.dropna(subset=["start_date", "earnings_usd"])
    both(spark, posts, contracts, start="2022-01-01", end="2022-04-30")
    posts.loc[3, "posted_date"] = "06/03/2022"
    both_raise(spark, "iso_date", posts)


def test_orphans_duplicates_and_bad_values_refused_on_both(spark: Any, tmp_path: Path) -> None:
    posts, contracts = tricky()
    ok = contracts.dropna(subset=["start_date", "earnings_usd"])
    both_raise(spark, "post_exists",
               posts, pd.concat([ok, ok.assign(contract_id=["o1", "o2", "o3", "o4"], post_id="gone")]))
    dup = write(pd.concat([posts, posts.iloc[[2, 5]]]), tmp_path / "dup.parquet")
    both_raise(spark, "unique_post_id", dup, write(ok, tmp_path / "ok.parquet"))
    both_raise(spark, "unique_contract_id", posts, ok.assign(contract_id="same"))
    both_raise(spark, "start_date_present", posts, contracts)  # incomplete_contracts="raise"
    both_raise(spark, "finite_value", posts.assign(contract_value_usd=np.inf))
    both_raise(spark, "money_range", posts.assign(contract_value_usd=-1.0))
    both_raise(spark, "unit_present", posts.assign(category=[None] + ["Legal"] * 7))
    both_raise(spark, "required_columns", posts.drop(columns="category"))
    both_raise(spark, "readable_file", str(tmp_path / "absent.parquet"),
               err=DataFileNotFoundError)


def test_spark_specific_errors(spark: Any, tmp_path: Path) -> None:
    posts, _ = tricky()
    nanos = tmp_path / "nanos.parquet"
    posts.astype({"posted_date": "datetime64[ns, UTC]"}).to_parquet(nanos)  # nanoseconds
    with pytest.raises(DataValidationError, match="coerce_timestamps='us'"):
        la.build_panel(str(nanos), engine="spark", spark=spark)
    with pytest.raises(OptionError, match="engine"):
        la.build_panel(posts, engine="polars")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="spark="):
        la.build_panel(posts, spark=spark)
    with pytest.raises(TypeError, match="engine='spark'"):
        la.build_panel(spark.range(1))


def test_session_time_zone_restored_and_irrelevant(spark: Any) -> None:
    posts, contracts = tricky()
    spark.conf.set("spark.sql.session.timeZone", "Asia/Kolkata")
    try:
        both(spark, posts, contracts, incomplete_contracts="count")
        assert spark.conf.get("spark.sql.session.timeZone") == "Asia/Kolkata"
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")


def test_transpiled_sql_has_no_duckdb_only_function() -> None:
    q = to_spark_sql("SELECT CAST(timezone('UTC', d) AS DATE) AS d, count(*) FILTER (WHERE x) "
                     "AS n FROM t GROUP BY ALL")
    assert "TIMEZONE" not in q.upper() and "GROUP BY ALL" in q.upper()


def test_missing_java_is_a_clear_error(tmp_path: Path) -> None:
    code = ("import laborai._spark as s\n"
            "try:\n    s.local_session()\n"
            "except s.SparkUnavailableError as e:\n    print(e)\n")
    env = {**os.environ, "JAVA_HOME": str(tmp_path / "no-java")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert "JAVA_HOME" in out and "openjdk-17-jre-headless" in out
    assert issubclass(SparkUnavailableError, LaborAIError)


def test_cli_panel_on_both_engines(spark: Any, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    from laborai.cli import main

    posts, contracts = tricky()
    p = write(posts, tmp_path / "posts.parquet")
    c = write(contracts, tmp_path / "contracts.parquet")
    out = {}
    for engine in ("duckdb", "spark"):
        out[engine] = tmp_path / f"panel_{engine}.parquet"
        rc = main(["panel", "--engine", engine, "--posts", p, "--contracts", c, "--out",
                   str(out[engine]), "--freq", "week", "--incomplete-contracts", "count"])
        assert rc == 0
        assert f"laborai panel ({engine}):" in capsys.readouterr().out
    a, b = pd.read_parquet(out["duckdb"]), pd.read_parquet(out["spark"])
    pd.testing.assert_frame_equal(b, a, check_exact=True)
    expected = la.build_panel(p, c, freq="week", incomplete_contracts="count")
    pd.testing.assert_frame_equal(a, expected, check_exact=True, check_dtype=False)
    assert spark.sparkContext._jsc is not None  # the test's session was reused, not stopped
    # a LaborAIError is a message and exit code 1, not a traceback
    rc = main(["panel", "--engine", "spark", "--posts", p, "--contracts", c, "--out",
               str(tmp_path / "x.parquet")])
    assert rc == 1 and "start_date_present" in capsys.readouterr().err


def test_classifier_flags_on_spark_equal_the_local_path(spark: Any, tmp_path: Path) -> None:
    from laborai import classify
    from laborai._spark import flag_posts

    m = la.simulate_marketplace(seed=5, n_posts=3_000)
    with pytest.warns(la.errors.SmallSampleWarning):  # few related posts: small marketplace
        lab = classify.labelled_posts(m.job_posts, "ai", n=400, seed=1)
    model = classify.train(lab, "label", "ai", seed=0, n_estimators=10)
    posts = m.job_posts.drop(columns=["is_cloud", "is_rpa"])
    local = posts.assign(is_ai=model.predict(posts).to_numpy())
    assert 0 < local["is_ai"].sum() < len(local)
    sdf = spark.read.parquet(write(posts, tmp_path / "posts.parquet"))
    flagged = flag_posts(model, sdf).persist()
    try:
        got = flagged.select("post_id", "is_ai").toPandas().set_index("post_id")["is_ai"]
        want = local.set_index("post_id")["is_ai"]
        pd.testing.assert_series_equal(got.loc[want.index], want, check_names=False)
        c = write(m.contracts, tmp_path / "contracts.parquet")
        pd.testing.assert_frame_equal(
            la.build_panel(flagged, c, engine="spark", spark=spark),
            la.build_panel(local, c), check_exact=True)
    finally:
        flagged.unpersist()
    with pytest.raises(OptionError, match="Spark DataFrame"):
        flag_posts(model, posts)
