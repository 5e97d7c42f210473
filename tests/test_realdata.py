"""Tests of laborai.studies.realdata: the Indeed sector x exposure panel and its DiD estimates.

The pinned files are read from ``LABORAI_DATA_DIR`` (default ``<repo>/../shared/data``); a missing
directory makes these tests FAIL (never skip). The network is never touched. Reference values
are recomputed independently (csv module for the raw files, pyfixest for the regressions).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from _shared import DATA_DIR
from scipy import stats

import laborai.datasets as ds
from laborai._hashing import frame_hash
from laborai.errors import DataValidationError, OptionError
from laborai.studies import realdata as rd

SIX = ("US", "GB", "DE", "FR", "CA", "AU")


@pytest.fixture(scope="module", autouse=True)
def _env() -> object:
    if not (DATA_DIR / "indeed" / "job_postings_by_sector_US.csv").is_file():
        pytest.fail(f"Indeed data not found under {DATA_DIR}; set LABORAI_DATA_DIR to the shared "
                    "data folder (see docs/data/real_data.md).")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LABORAI_DATA_DIR", str(DATA_DIR))
        mp.setenv("LABORAI_OFFLINE", "1")
        yield


@pytest.fixture(scope="module")
def us() -> rd.SectorPanel:
    return rd.sector_month_panel(["US"])


@pytest.fixture(scope="module")
def six() -> rd.SectorPanel:
    return rd.sector_month_panel(SIX)


def _raw(country: str) -> list[dict[str, str]]:
    with (DATA_DIR / "indeed" / f"job_postings_by_sector_{country}.csv").open(
            newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# ------------------------------------------------------------------------------ panel


def test_us_panel_shape_coverage_and_columns(us: rd.SectorPanel) -> None:
    d = us.data
    raw = _raw("US")
    sectors = {r["display_name"] for r in raw}
    months = sorted({r["date"][:7] for r in raw})
    assert len(sectors) == 46 and months[0] == "2020-02" and months[-1] == "2024-09"
    assert len(d) == len(sectors) * len(months) == 2576
    assert set(d["sector"]) == sectors and us.excluded.empty
    assert not d.duplicated(["sector", "month"]).any()
    assert d["month"].dt.strftime("%Y-%m").drop_duplicates().tolist() == months
    cov = us.coverage().iloc[0]
    assert (cov["n_sectors"], cov["n_months"], bool(cov["balanced"])) == (46, 56, True)
    # post and event time
    assert ((d["month"] >= "2022-12-01").astype(int) == d["post"]).all()
    assert set(d.loc[d["event_month"] == 0, "month"].dt.strftime("%Y-%m")) == {"2022-12"}
    assert set(d.loc[d["event_month"] == -1, "month"].dt.strftime("%Y-%m")) == {"2022-11"}
    # doses equal the crosswalk means
    for m in ("gpt4_beta", "human_beta"):
        e = ds.sector_exposure(m).set_index("sector")["exposure"]
        np.testing.assert_allclose(d[m].to_numpy(), d["sector"].map(e).to_numpy(), rtol=0,
                                   atol=0)
    # terciles: cut at the 1/3, 2/3 quantiles of all 50 crosswalk sectors
    e = ds.sector_exposure("gpt4_beta")["exposure"].to_numpy()
    lo, hi = np.quantile(e, [1 / 3, 2 / 3])
    assert us.tercile_cuts["gpt4_beta"] == pytest.approx((lo, hi), abs=0)
    assert (e <= lo).sum() == 17 and ((e > lo) & (e <= hi)).sum() == 16 and (e > hi).sum() == 17
    exp = np.where(d["gpt4_beta"] <= lo, "low", np.where(d["gpt4_beta"] <= hi, "mid", "high"))
    assert (d["tercile"].to_numpy() == exp).all()
    assert set(d.loc[d["tech"], "sector"]) == set(rd.tech_sectors())


def test_six_country_panel_accounts_for_every_raw_sector_month(six: rd.SectorPanel) -> None:
    d, ex = six.data, six.excluded
    for c in SIX:
        raw = _raw(c)
        n_days: dict[tuple[str, str], int] = {}
        for r in raw:
            key = (r["display_name"], r["date"][:7])
            n_days[key] = n_days.get(key, 0) + 1
        kept = set(zip(d.loc[d.country == c, "sector"],
                       d.loc[d.country == c, "month"].dt.strftime("%Y-%m"), strict=True))
        exc = ex[ex.country == c]
        dropped = set(zip(exc["sector"], exc["month"].dt.strftime("%Y-%m"), strict=True))
        assert kept.isdisjoint(dropped)
        assert kept | dropped == set(n_days), c  # nothing silently lost
        assert all(n_days[k] < 20 for k in dropped) and all(n_days[k] >= 20 for k in kept)
    # the GB and AU files end early in a month: those sector-months are listed with a reason
    assert set(ex["country"]) == {"GB", "AU"}
    assert ex["reason"].str.startswith("partial month").all()
    assert six.coverage().set_index("country").loc[["GB", "AU"], "n_sector_months_excluded"
                                                   ].tolist() == [48, 49]


def test_sector_without_exposure_is_reported_not_dropped_silently() -> None:
    e = ds.sector_exposure("gpt4_beta")[["sector", "exposure"]].rename(
        columns={"exposure": "gpt4_beta"})
    e = e[e["sector"] != "Dental"]
    p = rd.sector_month_panel(["US"], measures=["gpt4_beta"], exposure=e)
    assert "Dental" not in set(p.data["sector"]) and p.data["sector"].nunique() == 45
    row = p.excluded[p.excluded["sector"] == "Dental"]
    assert len(row) == 1 and pd.isna(row["month"].iloc[0])
    assert "no exposure score" in row["reason"].iloc[0]
    assert p.coverage()["n_sectors_excluded"].iloc[0] == 1


def test_monthly_aggregation_hand_computed(us: rd.SectorPanel) -> None:
    vals = [float(r["indeed_job_postings_index"]) for r in _raw("US")
            if r["display_name"] == "Software Development" and r["date"].startswith("2023-03")]
    assert len(vals) == 31
    row = us.data[(us.data.sector == "Software Development")
                  & (us.data.month == pd.Timestamp("2023-03-01"))].iloc[0]
    assert row["n_days"] == 31
    assert row["postings_index"] == pytest.approx(sum(vals) / 31, rel=1e-13)
    assert row["log_postings"] == pytest.approx(math.log(sum(vals) / 31), rel=1e-13)
    g = rd.sector_month_panel(["US"], measures=["gpt4_beta"], aggregation="mean_of_log").data
    grow = g[(g.sector == "Software Development") & (g.month == pd.Timestamp("2023-03-01"))]
    assert grow["log_postings"].iloc[0] == pytest.approx(
        sum(math.log(v) for v in vals) / 31, rel=1e-13)
    # Jensen: the log of the mean is at least the mean of the logs
    assert row["log_postings"] >= grow["log_postings"].iloc[0]


# ------------------------------------------------------------------------------ DiD


def test_dose_did_equals_pyfixest(us: rd.SectorPanel) -> None:
    d = us.data.copy()
    before = frame_hash(us.data)
    res = rd.exposure_did(us, n_boot=999, seed=1)
    assert frame_hash(us.data) == before  # input not mutated
    d["x"] = d["gpt4_beta"] * d["post"]
    m = pf.feols("log_postings ~ x | sector + month", data=d, vcov={"CRV1": "sector"})
    t = res.tidy().iloc[0]
    assert t["estimate"] == pytest.approx(float(m.coef()["x"]), abs=1e-8)
    assert t["std_error"] == pytest.approx(float(m.se()["x"]), abs=1e-8)
    assert t["p_value"] == pytest.approx(float(m.pvalue()["x"]), abs=1e-8)
    assert (t["nobs"], t["n_clusters"], t["term"]) == (2576, 46, "gpt4_beta_x_post")
    assert 0 < t["wild_p_value"] <= 1 and t["wild_conf_low"] < t["estimate"] < t["wild_conf_high"]
    again = rd.exposure_did(us, n_boot=999, seed=1).tidy().iloc[0]
    assert again["wild_p_value"] == t["wild_p_value"]  # seeded


def test_tercile_did_equals_pyfixest_on_low_and_high(us: rd.SectorPanel) -> None:
    res = rd.exposure_did(us, design="tercile", wild=False)
    d = us.data[us.data["tercile"] != "mid"].copy()
    d["x"] = (d["tercile"] == "high").astype(float) * d["post"]
    m = pf.feols("log_postings ~ x | sector + month", data=d, vcov={"CRV1": "sector"})
    assert res.estimate == pytest.approx(float(m.coef()["x"]), abs=1e-8)
    assert res.std_error == pytest.approx(float(m.se()["x"]), abs=1e-8)
    mid = set(us.data.loc[us.data["tercile"] == "mid", "sector"])
    assert set(res.excluded_sectors["sector"]) == mid and not mid & set(res.sectors)
    assert res.wild is None and math.isnan(res.tidy()["wild_p_value"].iloc[0])


def test_stacked_equals_pyfixest_with_country_month_fe(six: rd.SectorPanel) -> None:
    res = rd.exposure_did(six, n_boot=999, seed=3)
    d = six.data.copy()
    d["x"] = d["gpt4_beta"] * d["post"]
    d["ym"] = d["month"].dt.strftime("%Y-%m")
    m = pf.feols("log_postings ~ x | unit + country^ym", data=d, vcov={"CRV1": "sector"})
    assert res.estimate == pytest.approx(float(m.coef()["x"]), abs=1e-8)
    assert res.std_error == pytest.approx(float(m.se()["x"]), abs=1e-8)
    t = res.tidy().iloc[0]
    assert t["n_clusters"] == d["sector"].nunique() == 50
    assert t["n_units"] == d["unit"].nunique() == 256
    assert res.countries == SIX and t["countries"] == ",".join(SIX)
    # a stacked estimate is not the US one: the other countries enter
    assert res.estimate != pytest.approx(
        rd.exposure_did(six.data[six.data.country == "US"], wild=False).estimate, abs=1e-6)


# ------------------------------------------------------------------------------ event study


def test_event_study_quarters_pretest_and_bands(us: rd.SectorPanel) -> None:
    es = rd.exposure_event_study(us, n_draws=20_000)
    r = es.event_study
    pt = es.pretrend
    leads = r.event_times[r.event_times < -1]
    assert pt["df1"] == len(leads) == 10 and tuple(leads) == pt["leads"]
    assert 0 <= pt["p_value"] <= 1 and math.isfinite(pt["statistic"])
    assert -1 not in r.event_times and r.ref == -1
    assert r.crit_sup_t > r.crit_pointwise
    t = es.tidy()
    assert (t["conf_high"] - t["conf_low"] > t["point_conf_high"] - t["point_conf_low"]).all()
    assert (t["n_months"] == 3).all()
    q0 = t[t["event_time"] == 0].iloc[0]
    assert (q0["first_month"], q0["last_month"]) == (pd.Timestamp("2022-12-01"),
                                                     pd.Timestamp("2023-02-01"))
    # incomplete quarters at the ends are listed, not silently dropped
    assert es.excluded_periods["event_time"].tolist() == [-12, 7]
    # same coefficients as monthly OLS with month FE and quarter-binned dose dummies
    d = us.data[us.data["event_month"].between(-33, 20)].copy()
    q = np.floor_divide(d["event_month"], 3)
    names = []
    for k in sorted(set(q) - {-1}):
        name = f"q{k + 20}"
        d[name] = d["gpt4_beta"] * (q == k)
        names.append(name)
    m = pf.feols("log_postings ~ " + " + ".join(names) + " | sector + month", data=d)
    np.testing.assert_allclose(r.coef, m.coef()[names].to_numpy(), rtol=0, atol=1e-8)


def test_event_study_monthly_and_honest(us: rd.SectorPanel) -> None:
    es = rd.exposure_event_study(us, bin="month", window=(-12, 12), n_draws=5_000)
    assert es.event_study.event_times.min() == -12 and es.event_study.event_times.max() == 12
    assert es.excluded_periods.empty
    esq = rd.exposure_event_study(us, n_draws=5_000)
    h = rd.honest_sensitivity(esq, method="smoothness", grid=[0.0, 0.05])
    n_post = int((esq.event_study.event_times >= 0).sum())
    assert h.l_vec == pytest.approx((1 / n_post,) * n_post)
    assert h.estimate == pytest.approx(float(esq.event_study.coef[-n_post:].mean()), abs=1e-12)
    lo, hi = h.conf_low, h.conf_high
    assert lo[1] <= lo[0] and hi[1] >= hi[0]  # intervals widen with M
    with pytest.raises(OptionError, match="one country at a time"):
        rd.exposure_event_study(rd.sector_month_panel(["US", "CA"], measures=["gpt4_beta"]))


def test_honest_first_target_is_the_first_post_period_coefficient(us: rd.SectorPanel) -> None:
    es = rd.exposure_event_study(us, n_draws=5_000)
    r = es.event_study
    h = rd.honest_sensitivity(es, method="smoothness", grid=[0.0], target="first")
    n_post = int((r.event_times >= 0).sum())
    assert h.l_vec == pytest.approx((1.0,) + (0.0,) * (n_post - 1))
    t = es.tidy().set_index("event_time")
    orig = h.tidy().iloc[0]
    assert orig["method"] == "original"
    assert orig["estimate"] == pytest.approx(t.loc[0, "estimate"], abs=1e-12)
    assert orig["std_error"] == pytest.approx(t.loc[0, "std_error"], abs=1e-12)
    # the original interval is on the event study's reference distribution, t with G - 1 df
    # (recorded), not the normal approximation, which is narrower; the event study's own
    # pointwise interval here is the wild bootstrap's (few sectors, a continuous dose)
    assert r.vcov_type == "wild" and r.df_resid == r.n_clusters - 1
    assert h.df == r.df_resid and h.provenance.settings["original_df"] == r.df_resid
    crit = stats.t.ppf(0.975, r.df_resid)
    assert (orig["conf_low"], orig["conf_high"]) == pytest.approx(
        (t.loc[0, "estimate"] - crit * t.loc[0, "std_error"],
         t.loc[0, "estimate"] + crit * t.loc[0, "std_error"]), abs=1e-12)
    z = 1.959963984540054
    assert orig["conf_low"] < t.loc[0, "estimate"] - z * t.loc[0, "std_error"]
    with pytest.raises(OptionError, match="target must be one of"):
        rd.honest_sensitivity(es, target="last")  # type: ignore[arg-type]


def test_specification_table_rows_labels_and_exclusions(us: rd.SectorPanel) -> None:
    two = rd.sector_month_panel(["US", "CA"], measures=["gpt4_beta"])
    tab = rd.specification_table(us, two, n_boot=99)
    assert tab["spec"].tolist() == ["dose", "dose_human", "tercile", "drop_tech",
                                    "sector_trends", "stacked"]
    assert tab["label"].tolist() == [
        "Dose x post, US", "Human-rated dose x post, US", "High vs low tercile x post, US",
        "Dose x post, US, without tech sectors", "Dose x post, US, sector pre-trends removed",
        "Dose x post, two countries stacked"]
    ex = dict(zip(tab["spec"], tab["excluded_sectors"], strict=True))
    assert set(ex.pop("drop_tech").split("; ")) == set(rd.tech_sectors())
    mid = set(us.data.loc[us.data["tercile"] == "mid", "sector"])
    assert len(mid) >= 10 and set(ex.pop("tercile").split("; ")) == mid  # high vs low only
    assert set(ex.values()) == {""}
    # each row is the corresponding exposure_did run
    direct = {
        "dose": rd.exposure_did(us, wild=False),
        "dose_human": rd.exposure_did(us, dose="human_beta", wild=False),
        "drop_tech": rd.exposure_did(us, exclude_sectors=rd.tech_sectors(), wild=False),
        "stacked": rd.exposure_did(two, wild=False),
    }
    est = tab.set_index("spec")["estimate"]
    for spec, res in direct.items():
        assert est[spec] == pytest.approx(res.estimate, abs=1e-10), spec
    assert tab["wild_p_value"].between(0, 1).all()
    # without a stacked panel the stacked row is skipped
    assert "stacked" not in set(rd.specification_table(us, n_boot=99)["spec"])


# ------------------------------------------------------------------------------ robustness


def test_tech_sectors_follow_the_crosswalk_rule() -> None:
    with (Path(rd.__file__).parents[1] / "_pkgdata" / "crosswalk_indeed_onet.csv").open(
            newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    n: dict[str, list[int]] = {}
    for r in rows:
        n.setdefault(r["sector"], []).append(int(r["onet_soc_code"].startswith("15-12")))
    expected = tuple(sorted(s for s, v in n.items() if sum(v) / len(v) > 0.5))
    assert rd.tech_sectors() == expected == ("IT Operations & Helpdesk", "Software Development")
    with pytest.raises(OptionError, match=r"threshold must be a number in \[0, 1\)"):
        rd.tech_sectors(1.5)


def test_drop_tech_drops_exactly_the_tech_sectors(us: rd.SectorPanel) -> None:
    tech = rd.tech_sectors()
    res = rd.exposure_did(us, exclude_sectors=tech, wild=False)
    assert set(res.excluded_sectors["sector"]) == set(tech)
    assert not set(tech) & set(res.sectors) and len(res.sectors) == 44
    assert res.cluster_result.nobs == 2576 - 2 * 56
    d = us.data[~us.data["sector"].isin(tech)].copy()
    d["x"] = d["gpt4_beta"] * d["post"]
    m = pf.feols("log_postings ~ x | sector + month", data=d, vcov={"CRV1": "sector"})
    assert res.estimate == pytest.approx(float(m.coef()["x"]), abs=1e-8)
    with pytest.raises(OptionError, match="not sectors of the panel"):
        rd.exposure_did(us, exclude_sectors=["Software Dev"], wild=False)


def test_sector_pre_trends_removed(us: rd.SectorPanel) -> None:
    res = rd.exposure_did(us, sector_trends="pre", wild=False)
    s = res.trend_slopes
    assert s is not None and len(s) == 46
    # balanced panel: slope differences equal the pre-period OLS slope of y_i - y_j on time
    pre = us.data[us.data["post"] == 0]
    a = pre[pre.unit == "US:Software Development"].sort_values("month")
    b = pre[pre.unit == "US:Dental"].sort_values("month")
    t = a["event_month"].to_numpy() / 12.0
    slope = np.polyfit(t, a["log_postings"].to_numpy() - b["log_postings"].to_numpy(), 1)[0]
    assert s["US:Software Development"] - s["US:Dental"] == pytest.approx(slope, abs=1e-9)
    # the DiD is then run on y - slope_u * t
    d = us.data.copy()
    d["yd"] = d["log_postings"] - d["unit"].map(s) * d["event_month"] / 12.0
    d["x"] = d["gpt4_beta"] * d["post"]
    m = pf.feols("yd ~ x | sector + month", data=d, vcov={"CRV1": "sector"})
    assert res.estimate == pytest.approx(float(m.coef()["x"]), abs=1e-8)
    full = rd.exposure_did(us, sector_trends="full", wild=False)
    assert full.estimate != pytest.approx(res.estimate, abs=1e-6)
    assert full.cluster_result.terms[0] == "x"


def test_options_and_errors(us: rd.SectorPanel) -> None:
    with pytest.raises(OptionError, match="country must be one of"):
        rd.sector_month_panel(["UK"])
    with pytest.raises(OptionError, match="design must be one of 'dose', 'tercile'"):
        rd.exposure_did(us, design="binary")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="sector_trends must be one of"):
        rd.exposure_did(us, sector_trends="linear")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match=r"column\(s\) \['gpt4_gamma'\] not found"):
        rd.exposure_did(us, dose="gpt4_gamma", wild=False)
    with pytest.raises(OptionError, match="min_days must be an integer"):
        rd.sector_month_panel(["US"], min_days=0)


# ------------------------------------------------------------------------------ descriptive


def test_genai_share_by_month_hand_computed() -> None:
    g = rd.genai_share_by_month(["US", "DE"])
    assert g["country"].drop_duplicates().tolist() == ["US", "DE"]
    with (DATA_DIR / "indeed" / "GenAI_posting.csv").open(newline="", encoding="utf-8") as fh:
        vals = [float(r["GenAI_share_postings"]) for r in csv.DictReader(fh)
                if r["jobcountry"] == "US" and r["date"].startswith("2024-01")]
    row = g[(g.country == "US") & (g.month == pd.Timestamp("2024-01-01"))].iloc[0]
    assert row["n_days"] == len(vals) == 31
    assert row["share_percent"] == pytest.approx(sum(vals) / 31, rel=1e-12)  # file is in percent
