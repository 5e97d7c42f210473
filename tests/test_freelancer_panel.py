"""build_freelancer_panel: accounting identities, explicit zeros, spans, exposure, rejections."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import laborai as la
from laborai.errors import DataValidationError, OptionError


def contracts() -> pd.DataFrame:
    """Two freelancers by hand: a writer (exposed) and an accountant with a little writing."""
    return pd.DataFrame({
        "contract_id": ["c1", "c2", "c3", "c4", "c5", "c6", "c7"],
        "freelancer_id": ["w", "w", "w", "a", "a", "a", "a"],
        "category": ["Writing", "Writing", "Writing", "Accounting & Consulting", "Writing",
                     "Accounting & Consulting", "Accounting & Consulting"],
        "subcategory": ["Editing & Proofreading Services", "Content Writing", "Content Writing",
                        "Bookkeeping", "Content Writing", "Bookkeeping", "Bookkeeping"],
        "start_date": pd.to_datetime(["2022-10-03", "2022-10-20", "2023-01-15", "2022-09-01",
                                      "2022-11-30", "2022-12-01", "2023-02-28"]),
        "contract_type": ["hourly", "fixed", "hourly", "fixed", "hourly", "hourly", "fixed"],
        "hours": [10.0, np.nan, 4.0, np.nan, 2.0, 5.0, np.nan],
        "earnings_usd": [300.10, 99.99, 120.00, 1000.00, 250.00, 150.00, 75.55],
    })


def test_accounting_zeros_and_span_without_freelancers() -> None:
    c = contracts()
    p = la.build_freelancer_panel(c)
    acc = p.attrs["accounting"]
    assert acc["contracts_read"] == acc["contracts_kept"] == 7 == int(p["n_jobs"].sum())
    assert math.isclose(p["earnings"].sum(), c["earnings_usd"].sum(), abs_tol=1e-9)
    assert p.attrs["rejected"] == {}
    # span rule without a freelancers table: first to last contract period, zeros inside
    w = p[p["freelancer_id"] == "w"]
    assert list(w["period"].dt.strftime("%Y-%m")) == ["2022-10", "2022-11", "2022-12", "2023-01"]
    assert w["n_jobs"].tolist() == [2, 0, 0, 1]
    assert w["active"].tolist() == [True, False, False, True]
    assert np.isnan(w["mean_hourly_rate"].iloc[1])
    assert w["mean_hourly_rate"].iloc[0] == pytest.approx(30.01)   # hourly contracts only
    assert w["earnings"].iloc[0] == pytest.approx(400.09)
    a = p[p["freelancer_id"] == "a"]
    assert list(a["period"].dt.strftime("%Y-%m"))[0] == "2022-09" and len(a) == 6
    assert p["t"].min() == 1 and p["period"].is_monotonic_increasing is False  # sorted by id


def test_exposure_from_pre_period_mix_and_quartiles() -> None:
    p = la.build_freelancer_panel(contracts())
    f = p.groupby("freelancer_id").first()
    # pre-period = months before December 2022 (ChatGPT, first_full rule)
    assert p.attrs["pre_period"] == ["2022-09-01", "2022-11-01"]
    assert f.loc["w", "exposure_share"] == 1.0 and bool(f.loc["w", "exposed"])
    assert f.loc["a", "exposure_share"] == pytest.approx(250 / 1250)   # writing share of pre
    assert not bool(f.loc["a", "exposed"])
    assert f.loc["a", "main_category"] == "Accounting & Consulting"
    # prior earnings per pre-period month of the span: w 400.09 over 2 months, a 1250 over 3
    assert f.loc["w", "pre_months"] == 2 and f.loc["a", "pre_months"] == 3
    assert f.loc["w", "prior_earnings"] == pytest.approx(200.045)
    assert f.loc["a", "prior_earnings"] == pytest.approx(1250 / 3)
    assert f.loc["w", "prior_earnings_quartile"] == 1 and f.loc["a", "prior_earnings_quartile"] == 3
    # a mapping: subcategory score overrides the category's
    q = la.build_freelancer_panel(contracts(), exposure={"Writing": 1.0, "Content Writing": 0.5,
                                                         "Bookkeeping": 0.2})
    g = q.groupby("freelancer_id").first()
    assert g.loc["w", "exposure_share"] == pytest.approx((300.10 + 0.5 * 99.99) / 400.09)
    assert g.loc["a", "exposure_share"] == pytest.approx((0.2 * 1000 + 0.5 * 250) / 1250)
    r = la.build_freelancer_panel(contracts(), exposure=None)
    assert "exposed" not in r.columns


def test_freelancers_table_defines_spans_and_rejects_outside() -> None:
    c = contracts()
    f = pd.DataFrame({"freelancer_id": ["w", "a", "idle"],
                      "entry_month": pd.to_datetime(["2022-08-01", "2022-10-01", "2022-09-01"]),
                      "exit_month": pd.to_datetime(["NaT", "2023-01-01", "2022-10-01"])})
    p = la.build_freelancer_panel(c, freelancers=f, start="2022-08-01", end="2023-03-31")
    # w: Aug 2022 .. Mar 2023 (still active); a: Oct 2022 .. Jan 2023; idle: Sep..Oct, zeros
    sizes = p.groupby("freelancer_id").size()
    assert sizes.to_dict() == {"a": 4, "idle": 2, "w": 8}
    assert p.loc[p["freelancer_id"] == "idle", "n_jobs"].sum() == 0
    rej = p.attrs["rejected"]
    assert rej == {"outside_active_span": {"count": 2, "first_contract_ids": ["c4", "c7"]}}
    acc = p.attrs["accounting"]
    assert acc["contracts_kept"] + acc["contracts_rejected"] == acc["contracts_read"] == 7
    assert int(p["n_jobs"].sum()) == acc["contracts_kept"] == 5
    assert math.isclose(p["earnings"].sum(), c["earnings_usd"].sum() - 1000.00 - 75.55)


def test_rejected_rows_with_reasons() -> None:
    c = contracts()
    extra = pd.DataFrame({
        "contract_id": ["x1", "x2", "x3", "x4", "x5", "x6", "x7"],
        "freelancer_id": [None, " ", "w", "w", "w", "w", "w"],
        "category": ["Writing"] * 7, "subcategory": ["Content Writing"] * 7,
        "start_date": pd.to_datetime(["2022-10-01", "2022-10-01", None, "2022-10-01",
                                      "2022-10-01", "2022-10-01", "2025-01-01"]),
        "contract_type": ["fixed"] * 6 + ["hourly"], "hours": [np.nan] * 6 + [-1.0],
        "earnings_usd": [1.0, 1.0, 1.0, np.nan, -5.0, np.inf, 1.0],
    })
    c = pd.concat([c, extra], ignore_index=True)
    p = la.build_freelancer_panel(c, end="2023-12-31")
    rej = {k: v["count"] for k, v in p.attrs["rejected"].items()}
    assert rej == {"missing_freelancer_id": 2, "missing_start_date": 1, "missing_earnings": 1,
                   "negative_earnings": 1, "non_finite_earnings": 1, "negative_hours": 1}
    assert p.attrs["rejected"]["missing_freelancer_id"]["first_contract_ids"] == ["x1", "x2"]
    assert int(p["n_jobs"].sum()) == 7
    p2 = la.build_freelancer_panel(contracts(), start="2022-10-01", end="2022-12-31")
    assert p2.attrs["rejected"]["outside_range"]["count"] == 3
    assert set(p.attrs["rejected"]) <= set(la.freelancer_panel.REJECT_REASONS)


def test_errors_name_column_rule_and_count() -> None:
    c = contracts()
    with pytest.raises(DataValidationError, match=r"missing column\(s\) 'earnings_usd'"):
        la.build_freelancer_panel(c.drop(columns="earnings_usd"))
    with pytest.raises(DataValidationError, match="'category'"):
        la.build_freelancer_panel(c.drop(columns="category"))
    dup = pd.concat([c, c.iloc[:2]], ignore_index=True)
    with pytest.raises(DataValidationError, match=r"'contract_id': rule 'unique_contract_id': 2"):
        la.build_freelancer_panel(dup)
    f = pd.DataFrame({"freelancer_id": ["w", "w"]})
    with pytest.raises(DataValidationError, match="unique_freelancer_id': 1"):
        la.build_freelancer_panel(c, freelancers=f)
    f = pd.DataFrame({"freelancer_id": ["w"], "entry_month": pd.to_datetime(["2023-01-01"]),
                      "exit_month": pd.to_datetime(["2022-01-01"])})
    with pytest.raises(DataValidationError, match="entry_before_exit': 1 freelancer"):
        la.build_freelancer_panel(c, freelancers=f)
    bad = c.assign(earnings_usd=c["earnings_usd"].astype(str))
    with pytest.raises(DataValidationError, match="'earnings_usd': rule 'column_type'"):
        la.build_freelancer_panel(bad)
    with pytest.raises(OptionError, match="freq must be one of"):
        la.build_freelancer_panel(c, freq="D")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="threshold"):
        la.build_freelancer_panel(c, threshold=0)
    with pytest.raises(OptionError, match="exposure must be a taxonomy event"):
        la.build_freelancer_panel(c, exposure="gpt5")
    with pytest.raises(OptionError, match="pre_period"):
        la.build_freelancer_panel(c, start="2023-01-01")   # no period before ChatGPT
    with pytest.raises(OptionError, match="engine"):
        la.build_freelancer_panel(c, engine="polars")  # type: ignore[arg-type]


def test_simulated_market_identities_and_input_untouched() -> None:
    fm = la.simulate_freelancers(seed=5, n_freelancers=600)
    before = fm.contracts.copy()
    p = la.build_freelancer_panel(fm.contracts, freelancers=fm.freelancers)
    pd.testing.assert_frame_equal(fm.contracts, before)
    assert int(p["n_jobs"].sum()) == len(fm.contracts)
    assert math.isclose(p["earnings"].sum(), fm.contracts["earnings_usd"].sum(), abs_tol=1e-6)
    # one row per active month of every freelancer active in the window
    assert len(p) == len(fm.expected)
    # simulated freelancers work only in their home category: exposure share is 0 or 1 and
    # equals the home category's exposure
    f = p.groupby("freelancer_id").first()
    home = fm.freelancers.set_index("freelancer_id")
    s = f["exposure_share"].dropna()
    assert set(s.unique()) <= {0.0, 1.0}
    assert (f.loc[s.index, "exposed"].astype(bool) == home.loc[s.index, "exposed"]).all()
    # row order of the input does not matter
    q = la.build_freelancer_panel(fm.contracts.iloc[::-1], freelancers=fm.freelancers)
    pd.testing.assert_frame_equal(p, q)
    assert p.attrs["laborai_version"] == la.__version__ and p.attrs["engine"] == "duckdb"


def test_quarterly_and_parquet(tmp_path: Path) -> None:
    c = contracts()
    c.to_parquet(tmp_path / "c.parquet")
    p = la.build_freelancer_panel(str(tmp_path / "c.parquet"), freq="Q",
                                  pre_period=("2022-07-01", "2022-09-30"))
    assert p.attrs["freq"] == "quarter" and int(p["n_jobs"].sum()) == 7
    assert list(p.loc[p["freelancer_id"] == "w", "period"].dt.strftime("%Y-%m")) == [
        "2022-10", "2023-01"]


# --------------------------------------------------------------------------- Spark
@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from laborai._spark import local_session

    session = local_session("local[2]", {"spark.driver.memory": "768m"})
    yield session
    from pyspark import SparkContext

    gateway = session.sparkContext._gateway
    session.stop()
    gateway.shutdown()
    proc = getattr(gateway, "proc", None)
    if proc is not None:
        proc.stdin.close()
        proc.wait(timeout=60)
    SparkContext._gateway = None
    SparkContext._jvm = None


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_duckdb_and_spark_give_identical_panels(spark: Any, tmp_path: Path) -> None:
    fm = la.simulate_freelancers(seed=7, n_freelancers=300)
    c = pd.concat([contracts(), fm.contracts.head(2000)], ignore_index=True)
    c.loc[3, "earnings_usd"] = -1.0   # one rejected row
    path = tmp_path / "c.parquet"
    c.to_parquet(path, coerce_timestamps="us", allow_truncated_timestamps=True)
    for kw in ({}, {"freelancers": None, "start": "2022-02-01", "end": "2023-06-30"}):
        a = la.build_freelancer_panel(str(path), **kw)
        b = la.build_freelancer_panel(str(path), engine="spark", spark=spark, **kw)
        pd.testing.assert_frame_equal(b, a, check_exact=True)
        a.attrs.pop("engine"), b.attrs.pop("engine")
        assert b.attrs == a.attrs
