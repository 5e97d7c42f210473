"""One timing rule: laborai._timing, exposure.cohorts / add_event_dates and the estimators.

Every test here fails on the code before the timing rules were unified (add_event_dates and
compare_estimators treated the period containing the event; att_gt / sun_abraham refused
datetime periods; seeds defaulted to None).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import laborai as la
from laborai._timing import TIMINGS, event_positions, first_treated_period
from laborai.did.bacon import bacon
from laborai.did.cs import att_gt
from laborai.did.sdid import sdid
from laborai.did.sun_abraham import sun_abraham
from laborai.errors import DataValidationError, OptionError
from laborai.exposure import add_event_dates, cohorts

GRID = pd.date_range("2022-09-01", periods=6, freq="MS")  # Sep 2022 .. Feb 2023


# ------------------------------------------------------------------------------------------
# the rule
# ------------------------------------------------------------------------------------------


def test_event_positions_first_full_and_containing() -> None:
    ev = pd.to_datetime(pd.Series(["2022-11-30", "2022-11-01", None, "2021-05-05",
                                   "2023-02-15", "2023-03-10"]))
    assert TIMINGS == ("first_full", "containing")
    ff = event_positions(GRID, ev)
    # 30 Nov -> December (position 3); 1 Nov -> November; NaT -> NaN; before -> 0;
    # inside the last period -> after it (len); after the end -> len
    np.testing.assert_array_equal(ff, [3.0, 2.0, np.nan, 0.0, 6.0, 6.0])
    co = event_positions(GRID, ev, timing="containing")
    np.testing.assert_array_equal(co, [2.0, 2.0, np.nan, 0.0, 5.0, 6.0])
    first = first_treated_period(GRID, ev)
    assert pd.Timestamp(first[0]) == pd.Timestamp("2022-12-01")
    assert np.isnat(first[2]) and np.isnat(first[4])
    assert pd.Timestamp(first_treated_period(GRID, ev, "containing")[4]) == GRID[-1]


def test_event_positions_numeric_periods() -> None:
    periods = np.array([1, 2, 3, 4, 5])
    ev = [np.nan, 3, 2.5, 0, 9]
    for timing in TIMINGS:
        np.testing.assert_array_equal(event_positions(periods, ev, timing),
                                      [np.nan, 2.0, 2.0, 0.0, 5.0])
    np.testing.assert_array_equal(first_treated_period(periods, ev), [np.nan, 3, 3, 1, np.nan])


def test_event_positions_errors() -> None:
    with pytest.raises(OptionError, match="timing must be one of 'first_full', 'containing'"):
        event_positions(GRID, pd.to_datetime(["2022-11-30"]), timing="next")
    with pytest.raises(DataValidationError, match="event dates are datetimes but the periods"):
        event_positions(np.arange(5), pd.to_datetime(["2022-11-30"]))
    with pytest.raises(DataValidationError, match="event dates are numbers but the periods"):
        event_positions(GRID, [3.0])
    with pytest.raises(DataValidationError, match="sorted and unique"):
        event_positions(GRID[::-1], pd.to_datetime(["2022-11-30"]))


# ------------------------------------------------------------------------------------------
# a small monthly panel shaped like build_panel's output
# ------------------------------------------------------------------------------------------


def monthly_panel(event: str | None = "2022-11-30", n_units: int = 24, seed: int = 0
                  ) -> pd.DataFrame:
    """Units 0-7 get ``event``, units 8-11 an earlier event (image generators), 12+ never."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2021-01-01", "2023-12-01", freq="MS")
    rows = []
    for i in range(n_units):
        ev = event if i < 8 else ("2022-07-14" if i < 12 else None)
        for k, p in enumerate(periods):
            rows.append({"unit": f"u{i:02d}", "period": p, "t": k,
                         "event_date": pd.Timestamp(ev) if ev else pd.NaT})
    df = pd.DataFrame(rows)
    df["event_date"] = df["event_date"].astype("datetime64[ns]")
    unit_fe = dict(zip(df["unit"].unique(), rng.normal(size=n_units), strict=True))
    df["y"] = (df["unit"].map(unit_fe) + 0.01 * df["t"] + rng.normal(scale=0.3, size=len(df)))
    df["y"] += np.where(df["period"] > df["event_date"].fillna(pd.Timestamp.max), 0.5, 0.0)
    return df


def _first_treated_t(df: pd.DataFrame, treated: pd.Series) -> dict[str, int]:
    return df.loc[treated.astype(bool)].groupby("unit")["t"].min().to_dict()


@pytest.mark.parametrize(("event", "timing", "month"), [
    ("2022-11-30", "first_full", "2022-12-01"),
    ("2022-11-01", "first_full", "2022-11-01"),
    ("2022-11-30", "containing", "2022-11-01"),
    ("2022-11-01", "containing", "2022-11-01"),
])
def test_same_event_same_event_time_everywhere(event: str, timing: str, month: str) -> None:
    """add_event_dates, cohorts, att_gt, sun_abraham, bacon, sdid and compare_estimators agree."""
    df = monthly_panel(event)
    t0 = int(df.loc[df["period"] == pd.Timestamp(month), "t"].iloc[0])
    # cohorts
    c = cohorts(df, idname="unit", tname="period", event_date="event_date", timing=timing)
    assert (c.loc[c["unit"] == "u00", "gname"] == pd.Timestamp(month)).all()
    assert c.loc[c["unit"] == "u20", "gname"].isna().all()
    # add_event_dates on a build_panel-style panel (category / period)
    m = la.simulate_marketplace(seed=1, n_posts=3_000)
    panel = la.build_panel(m.job_posts, m.contracts, start="2022-06-01", end="2023-03-31")
    p = add_event_dates(panel, overrides={"chatgpt": event}, timing=timing)
    w = p[p["category"] == "Writing"]
    assert w.loc[w["post"], "period"].min() == pd.Timestamp(month)
    assert w.loc[~w["post"], "period"].max() == pd.Timestamp(month) - pd.DateOffset(months=1)
    # att_gt / sun_abraham on the datetime cohorts: event time 0 is the month
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = att_gt(c, yname="y", tname="period", idname="unit", gname="gname")
    tab = r.tidy()
    row = tab[(tab["group"] == pd.Timestamp(month)) & (tab["event_time"] == 0)]
    assert len(row) == 1 and row["time"].iloc[0] == pd.Timestamp(month)
    assert f"ATT({pd.Timestamp(month):%Y-%m},{pd.Timestamp(month):%Y-%m})" in set(tab["term"])
    sa = sun_abraham(c, yname="y", idname="unit", tname="period", gname="gname")
    assert pd.Timestamp(month) in set(sa.cohort_effects["cohort"])
    # bacon and sdid with event_date use the same treated periods
    d = (c["period"] >= c["gname"]).astype(int)  # NaT compares False
    b1 = bacon(df, yname="y", idname="unit", tname="period", event_date="event_date",
               timing=timing)
    b2 = bacon(df.assign(d=d.to_numpy()), yname="y", dname="d", idname="unit", tname="period")
    assert b1.twfe == b2.twfe
    s1 = sdid(df, yname="y", idname="unit", tname="period", event_date="event_date",
              timing=timing, staggered=True, vcov=None)
    s2 = sdid(df.assign(d=d.to_numpy()), yname="y", idname="unit", tname="period",
              dname="d", staggered=True, vcov=None)
    assert s1.estimate == s2.estimate
    assert pd.Timestamp(month) in set(s1.cohorts["group"])
    # compare_estimators: the cohort table
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = la.compare_estimators(df, yname="y", idname="unit", tname="period",
                                        event_date="event_date", sensitivity=False,
                                        sdid_vcov=None, timing=timing)
    assert pd.Timestamp(month) in set(res.cohorts["cohort"])
    assert res.settings["timing"] == timing
    assert _first_treated_t(df, d)["u00"] == t0


def test_cohorts_numeric_and_errors() -> None:
    df = pd.DataFrame({"id": [1, 1, 1, 2, 2, 2], "t": [1, 2, 3] * 2,
                       "ev": [2.5, 2.5, 2.5, np.nan, np.nan, np.nan]})
    out = cohorts(df, idname="id", tname="t", event_date="ev")
    assert out["gname"].tolist() == [3, 3, 3, 0, 0, 0]
    assert out["gname"].dtype == np.int64
    assert "gname" not in df.columns  # input not modified
    with pytest.raises(DataValidationError, match="constant within unit"):
        cohorts(df.assign(ev=[2, 3, 3, np.nan, np.nan, np.nan]), idname="id", tname="t",
                event_date="ev")
    with pytest.raises(DataValidationError, match="cohort 0"):
        cohorts(df.assign(t=[0, 1, 2] * 2, ev=[-1.0] * 3 + [np.nan] * 3), idname="id",
                tname="t", event_date="ev")
    with pytest.raises(DataValidationError, match="must identify rows uniquely"):
        cohorts(pd.concat([df, df.iloc[[0]]]), idname="id", tname="t", event_date="ev")
    with pytest.raises(DataValidationError, match="pandas Period"):
        cohorts(df.assign(t=pd.period_range("2022-01", periods=3, freq="M").tolist() * 2),
                idname="id", tname="t", event_date="ev")
    with pytest.raises(OptionError, match="timing must be one of"):
        cohorts(df, idname="id", tname="t", event_date="ev", timing="contains")


# ------------------------------------------------------------------------------------------
# datetime periods give exactly the integer-period results
# ------------------------------------------------------------------------------------------


def _with_int_cohorts(df: pd.DataFrame) -> pd.DataFrame:
    c = cohorts(df, idname="unit", tname="period", event_date="event_date")
    grid = np.sort(c["period"].unique())
    pos = np.searchsorted(grid, c["gname"].fillna(pd.Timestamp(grid[0])).to_numpy())
    c["g_int"] = np.where(c["gname"].isna(), 0, pos)
    return c


@pytest.mark.parametrize("control_group", ["never_treated", "not_yet_treated"])
def test_att_gt_datetime_equals_integer(control_group: str) -> None:
    c = _with_int_cohorts(monthly_panel())
    kw = {"yname": "y", "idname": "unit", "control_group": control_group}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r_dt = att_gt(c, tname="period", gname="gname", **kw)
        r_int = att_gt(c, tname="t", gname="g_int", **kw)
        r_pos = att_gt(c, tname="period", gname="g_int", **kw)  # integer positions
    for r in (r_int, r_pos):
        np.testing.assert_array_equal(r_dt.estimate, r.estimate)
        np.testing.assert_array_equal(r_dt.std_error, r.std_error)
    np.testing.assert_array_equal(r_dt.event_time, r_int.event_time)
    for agg in ("simple", "dynamic", "group", "calendar"):
        a_dt, a_int = r_dt.aggregate(agg), r_int.aggregate(agg)
        np.testing.assert_array_equal(a_dt.estimate, a_int.estimate)
        assert a_dt.overall_estimate == a_int.overall_estimate
    g = r_dt.aggregate("group").tidy()
    assert g["term"].tolist()[:2] == ["ATT(g=2022-08)", "ATT(g=2022-12)"]  # 14 Jul -> Aug
    assert g["group"].iloc[1] == pd.Timestamp("2022-12-01")
    assert "ATT(g=2022-12)" in r_dt.aggregate("group").summary()
    assert "2022-12" in r_dt.summary() and "1669852800" not in r_dt.summary()
    assert r_dt.period_values is not None and r_int.period_values is None


def test_sun_abraham_datetime_equals_integer() -> None:
    c = _with_int_cohorts(monthly_panel())
    r_dt = sun_abraham(c, yname="y", idname="unit", tname="period", gname="gname")
    r_int = sun_abraham(c, yname="y", idname="unit", tname="t", gname="g_int")
    np.testing.assert_array_equal(r_dt.coef, r_int.coef)
    np.testing.assert_array_equal(r_dt.vcov, r_int.vcov)
    np.testing.assert_array_equal(r_dt.event_times, r_int.event_times)
    assert set(r_dt.cohort_effects["cohort"]) == {pd.Timestamp("2022-08-01"),
                                                  pd.Timestamp("2022-12-01")}
    last = sun_abraham(c, yname="y", idname="unit", tname="period", gname="gname",
                       control_group="last_cohort")
    assert last.control_cohort == pd.Timestamp("2022-12-01")
    assert "last_cohort (2022-12)" in last.summary()


def test_datetime_cohorts_with_numeric_periods_raise() -> None:
    c = _with_int_cohorts(monthly_panel())
    with pytest.raises(DataValidationError, match="holds dates but the periods"):
        att_gt(c, yname="y", tname="t", idname="unit", gname="gname")
    with pytest.raises(DataValidationError, match="holds dates but the periods"):
        sun_abraham(c, yname="y", idname="unit", tname="t", gname="gname")


# ------------------------------------------------------------------------------------------
# silent wrong results refused: pandas Period periods, duplicated unit x period rows
# ------------------------------------------------------------------------------------------


def _period_panel() -> pd.DataFrame:
    c = _with_int_cohorts(monthly_panel())
    return c.assign(period=c["period"].dt.to_period("M"))


@pytest.mark.parametrize("estimator", ["att_gt", "sun_abraham", "sdid", "bacon", "compare"])
def test_pandas_period_and_duplicates_raise(estimator: str) -> None:
    good = _with_int_cohorts(monthly_panel()).assign(
        d=lambda x: (x["period"] >= x["gname"]).astype(int))
    calls = {
        "att_gt": lambda df: att_gt(df, yname="y", tname="period", idname="unit", gname="g_int"),
        "sun_abraham": lambda df: sun_abraham(df, yname="y", idname="unit", tname="period",
                                              gname="g_int"),
        "sdid": lambda df: sdid(df, yname="y", idname="unit", tname="period", dname="d",
                                staggered=True, vcov=None),
        "bacon": lambda df: bacon(df, yname="y", dname="d", idname="unit", tname="period"),
        "compare": lambda df: la.compare_estimators(
            df, yname="y", idname="unit", tname="period", event_date="event_date",
            sensitivity=False, sdid_vcov=None),
    }
    with pytest.raises(DataValidationError, match="pandas Period"):
        calls[estimator](good.assign(period=good["period"].dt.to_period("M")))
    with pytest.raises(DataValidationError, match=r"more than once|identify rows uniquely"):
        calls[estimator](pd.concat([good, good.iloc[[5]]], ignore_index=True))


# ------------------------------------------------------------------------------------------
# reproducible by default; seeds recorded
# ------------------------------------------------------------------------------------------


def test_seeds_default_recorded_and_reproducible() -> None:
    c = _with_int_cohorts(monthly_panel(n_units=30))  # placebo SEs: more never than treated
    c["d"] = (c["period"] >= c["gname"]).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a1 = att_gt(c, yname="y", tname="period", idname="unit", gname="gname", vcov="bootstrap",
                    cband=True, n_boot=99)
        a2 = att_gt(c, yname="y", tname="period", idname="unit", gname="gname", vcov="bootstrap",
                    cband=True, n_boot=99)
        a3 = att_gt(c, yname="y", tname="period", idname="unit", gname="gname", vcov="bootstrap",
                    cband=True, n_boot=99, seed=None)
    assert a1.seed == 0 and a1.settings["seed"] == 0 and a1.provenance.seed == 0
    np.testing.assert_array_equal(a1.std_error, a2.std_error)
    assert a1.crit_val == a2.crit_val
    assert isinstance(a3.seed, int) and a3.settings["seed"] == a3.seed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a4 = att_gt(c, yname="y", tname="period", idname="unit", gname="gname", vcov="bootstrap",
                    cband=True, n_boot=99, seed=a3.seed)
    np.testing.assert_array_equal(a3.std_error, a4.std_error)  # recorded seed replays the call
    ag = a1.aggregate("dynamic")
    assert ag.settings["seed"] == 0
    np.testing.assert_array_equal(ag.std_error, a2.aggregate("dynamic").std_error)

    kw = {"yname": "y", "idname": "unit", "tname": "period", "dname": "d",
          "staggered": True, "vcov": "bootstrap", "n_reps": 10}
    s1, s2, s3 = sdid(c, **kw), sdid(c, **kw), sdid(c, **kw, seed=None)
    assert s1.seed == 0 and s1.provenance.seed == 0
    assert s1.std_error == s2.std_error and s1.replicates == s2.replicates
    assert isinstance(s3.seed, int) and sdid(c, **{**kw, "seed": s3.seed}).replicates == \
        s3.replicates

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ckw = {"yname": "y", "idname": "unit", "tname": "period", "event_date": "event_date",
               "sensitivity": False, "n_reps": 10}
        r1 = la.compare_estimators(c, **ckw)
        r2 = la.compare_estimators(c, **ckw)
        r3 = la.compare_estimators(c, **ckw, seed=None)
    assert r1.seed == 0 and r1.settings["seed"] == 0
    pd.testing.assert_frame_equal(r1.tidy(), r2.tidy())
    assert isinstance(r3.seed, int) and r3.provenance.seed == r3.seed
