"""Tests of laborai.studies.effects.estimate_effects on a small simulated category x tier panel."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from scipy import stats

from laborai.did import TIDY_COLUMNS, event_study
from laborai.errors import (
    DataValidationError,
    EstimationError,
    LaborAIWarning,
    OptionError,
    SmallSampleWarning,
)
from laborai.studies.effects import EffectsResult, estimate_effects


def sim_cells(seed: int = 0, n_cat: int = 8, n_treated: int = 4, n_months: int = 24,
              ) -> pd.DataFrame:
    """Panel in the ``la.build_panel`` format (one row per category x tier x month)."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2021-01-01", periods=n_months, freq="MS")
    events = {f"cat{c}": (periods[10 + 2 * (c % 3)] if c < n_treated else pd.NaT)
              for c in range(n_cat)}
    rows = []
    for c in range(n_cat):
        cat = f"cat{c}"
        for tier in ("low", "high"):
            base = rng.normal(3.0, 0.3)
            for ti, p in enumerate(periods):
                ev = events[cat]
                post = (not pd.isna(ev)) and p >= ev
                eff = (-0.3 if tier == "low" else -0.1) * post
                mu = np.exp(base + 0.01 * ti + eff)
                n_posts = rng.poisson(mu)
                n_con = rng.poisson(mu / 3)
                earn = rng.gamma(5.0, 40.0 * (1 + 0.2 * post * (tier == "high")), size=n_con).sum()
                rows.append({"category": cat, "value_tier": tier, "unit": f"{cat}|{tier}",
                             "period": p, "t": ti, "n_posts": n_posts,
                             "log_n_posts": np.log(n_posts) if n_posts > 0 else np.nan,
                             "n_contracts": n_con, "earnings_total": earn,
                             "earnings_per_contract": earn / n_con if n_con else np.nan,
                             "log_earnings_per_contract": np.log(earn / n_con) if n_con else np.nan,
                             "event_date": ev})
    df = pd.DataFrame(rows)
    df["event_date"] = pd.to_datetime(df["event_date"])
    return df


def _hand_design(panel: pd.DataFrame, by: list[str]) -> tuple[pd.DataFrame, list[str]]:
    out = panel.copy()
    treated = out["event_date"].notna()
    post = treated & (out["period"] >= out["event_date"])
    keys = out.loc[treated, by].drop_duplicates().sort_values(by)
    names = []
    for i, row in enumerate(keys.itertuples(index=False)):
        m = np.ones(len(out), dtype=bool)
        for b, v in zip(by, row, strict=True):
            m &= (out[b] == v).to_numpy()
        out[f"g{i}"] = (m & post).astype(float)
        names.append(f"g{i}")
    return out, names


_OLS_OUTCOMES: list[str | dict[str, str]] = [
    "log_n_posts", {"y": "log_earnings_per_contract", "weights": "n_contracts"}]


def test_default_placebo_per_group_matches_pyfixest_estimates():
    """Category x tier groups (each in one category cluster): placebo inference by default."""
    panel = sim_cells(n_cat=12)
    copy = panel.copy()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*dropped", category=LaborAIWarning)
        warnings.simplefilter("error", SmallSampleWarning)  # 7 contrasts < 8 control clusters
        res = estimate_effects(panel, outcomes=_OLS_OUTCOMES)
    pd.testing.assert_frame_equal(panel, copy)
    assert isinstance(res, EffectsResult)
    assert res.vcov_type == "placebo"
    t = res.tidy()
    assert tuple(t.columns[:7]) == TIDY_COLUMNS
    assert list(t.columns[7:10]) == ["outcome", "category", "value_tier"]
    assert (t["inference"] == "placebo").all()
    assert (t["n_control_clusters"] == 8).all() and (t["df"] == 7).all()
    hand, names = _hand_design(panel, ["category", "value_tier"])
    assert len(names) == 8
    for name, (y, w) in {"log_n_posts": ("log_n_posts", None),
                         "log_earnings_per_contract": ("log_earnings_per_contract",
                                                       "n_contracts")}.items():
        sub = t[t["outcome"] == name].reset_index(drop=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = pf.feols(f"{y} ~ " + " + ".join(names) + " | unit + period",
                         hand.dropna(subset=[y]), vcov={"CRV1": "category"}, weights=w)
        np.testing.assert_allclose(sub["estimate"], m.coef().to_numpy(), atol=1e-8)
        # placebo intervals: t(J - 1) with the placebo standard error
        q = stats.t.ppf(0.975, 7)
        np.testing.assert_allclose(sub["conf_high"] - sub["estimate"], q * sub["std_error"],
                                   rtol=1e-10)
        np.testing.assert_allclose(
            sub["p_value"], 2 * stats.t.sf(np.abs(sub["estimate"] / sub["std_error"]), 7),
            rtol=1e-8)
        assert (sub["std_error"] > 0).all() and np.isfinite(sub["std_error"]).all()
        # unlike CRV1 by category, the two tiers of a category get their own error
        se = sub.pivot(index="category", columns="value_tier", values="std_error")
        assert (se["low"] != se["high"]).all()
        # equality test: Hotelling F = W (J - q) / (q (J - 1)) on F(q, J - q), q = 7, J = 8
        row = res.equality_tests.set_index("outcome").loc[name]
        assert row["df1"] == 7 and row["df2"] == 1 and row["distribution"] == "F"
        F = row["wald"] * (8 - 7) / (7 * (8 - 1))
        assert row["statistic"] == pytest.approx(F, rel=1e-10)
        assert row["p_value"] == pytest.approx(stats.f.sf(F, 7, 1), rel=1e-8)
    assert res.n_dropped["log_n_posts"] == int(panel["log_n_posts"].isna().sum())
    assert "EffectsResult(design='did'" in repr(res)
    # CRV1 / wild cannot measure an effect whose treatment lies in one cluster
    for bad in ("cluster", "wild"):
        with pytest.raises(OptionError, match=r"lies in one 'category' cluster.*placebo"):
            estimate_effects(panel, outcomes=["log_n_posts"], vcov=bad)
    # placebo inference is for OLS outcomes; a Poisson outcome per group is refused
    with pytest.raises(OptionError, match="placebo inference is implemented for OLS"):
        estimate_effects(panel, outcomes=[{"y": "n_posts", "family": "poisson"}])
    # 'hetero' is allowed but warns that it ignores the within-category correlation
    with pytest.warns(SmallSampleWarning, match="vcov='hetero' ignores the correlation"):
        h = estimate_effects(panel, outcomes=["n_posts"], vcov="hetero")
    assert (h.tidy()["inference"] == "hetero").all()


def test_did_crv1_matches_pyfixest_per_outcome():
    """Explicit CRV1 where it is valid (each category's treatment spans its 2 unit clusters)."""
    panel = sim_cells(n_cat=12)
    outcomes: list[str | dict[str, str]] = [
        "log_n_posts", {"name": "job_posts_ppml", "y": "n_posts", "family": "poisson"},
        {"y": "log_earnings_per_contract", "weights": "n_contracts"}]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*dropped", category=LaborAIWarning)
        with pytest.warns(SmallSampleWarning, match="CRV1 with 24 clusters over-rejects"):
            res = estimate_effects(panel, outcomes=outcomes, by=["category"], cluster="unit",
                                   vcov="cluster")
    t = res.tidy()
    assert (t["inference"] == "cluster").all()
    hand, names = _hand_design(panel, ["category"])
    assert len(names) == 4
    fams = {"log_n_posts": ("log_n_posts", "ols", None),
            "job_posts_ppml": ("n_posts", "poisson", None),
            "log_earnings_per_contract": ("log_earnings_per_contract", "ols", "n_contracts")}
    for name, (y, fam, w) in fams.items():
        sub = t[t["outcome"] == name]
        fml = f"{y} ~ " + " + ".join(names) + " | unit + period"
        fn = pf.feols if fam == "ols" else pf.fepois
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = fn(fml, hand.dropna(subset=[y]), vcov={"CRV1": "unit"}, weights=w)
        np.testing.assert_allclose(sub["estimate"], m.coef().to_numpy(), atol=1e-8)
        np.testing.assert_allclose(sub["std_error"], m.se().to_numpy(), rtol=1e-6)
        # equality test: Wald statistic with the k-1 successive contrasts (pseudo-inverse on
        # the estimable directions; full rank here)
        k = len(names)
        R = np.eye(k)[1:] - np.eye(k)[:-1]
        b = m.coef().to_numpy()
        RVR = R @ m._vcov @ R.T
        u, sv, _ = np.linalg.svd(RVR)
        r = int(np.sum(sv > 1e-10 * sv[0]))
        W = (u[:, :r].T @ R @ b) @ np.diag(1 / sv[:r]) @ (u[:, :r].T @ R @ b)
        row = res.equality_tests.set_index("outcome").loc[name]
        assert r == k - 1 and row["df1"] == r
        assert row["wald"] == pytest.approx(W, rel=1e-6)
        if fam == "ols":
            assert row["distribution"] == "F" and row["df2"] == 23
            assert row["p_value"] == pytest.approx(stats.f.sf(W / r, r, 23), rel=1e-6)
        else:
            assert row["distribution"] == "chi2"
            assert row["p_value"] == pytest.approx(stats.chi2.sf(W, r), rel=1e-6)


def test_pooled_and_by_category():
    panel = sim_cells(seed=1)
    d = (panel["event_date"].notna() & (panel["period"] >= panel["event_date"])).astype(float)
    m = pf.feols("n_posts ~ d | unit + period", panel.assign(d=d), vcov={"CRV1": "category"})
    # pooled OLS did with 8 category clusters: the wild cluster bootstrap by default
    pooled = estimate_effects(panel, outcomes="n_posts", by=(), n_boot=999)
    assert pooled.vcov_type == "wild" and pooled.tidy()["inference"].iloc[0] == "wild"
    assert pooled.tidy()["estimate"].iloc[0] == pytest.approx(float(m.coef().iloc[0]), abs=1e-8)
    assert pooled.equality_tests["df1"].iloc[0] == 0
    # explicit CRV1 reproduces pyfixest (with a few-cluster warning)
    with pytest.warns(SmallSampleWarning, match="CRV1 with 8 clusters"):
        crv = estimate_effects(panel, outcomes="n_posts", by=(), vcov="cluster")
    assert crv.tidy()["std_error"].iloc[0] == pytest.approx(float(m.se().iloc[0]), rel=1e-6)
    assert crv.tidy()["p_value"].iloc[0] == pytest.approx(float(m.pvalue().iloc[0]), rel=1e-6)
    # by category: each effect lies in one category cluster, so the wild bootstrap is refused
    with pytest.raises(OptionError, match="vcov='wild' cannot measure"):
        estimate_effects(panel, outcomes=["n_posts"], by=["category"], vcov="wild",
                         n_boot=999, seed=1)
    # ... and placebo inference is the default. Under CRV1, cat0 and cat3 (same event date,
    # own clusters) had a zero-variance contrast; the placebo covariance has full rank
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmallSampleWarning)
        bycat = estimate_effects(panel, outcomes=["n_posts"], by=["category"])
    assert bycat.vcov_type == "placebo"
    eq = bycat.equality_tests.iloc[0]
    assert eq["df1"] == 3 and eq["df2"] == 4 - 3 and eq["distribution"] == "F"
    assert list(bycat.tidy()["category"]) == ["cat0", "cat1", "cat2", "cat3"]
    assert bycat.tidy()["p_value"].between(0, 1).all()


def test_event_study_design_matches_event_study():
    panel = sim_cells(seed=2)
    # pooled event-study design: CRV1 by default (with a warning); event_study with CRV1
    with pytest.warns(SmallSampleWarning, match="CRV1 with 8 clusters"):
        res = estimate_effects(panel, outcomes=["n_posts"], by=(), design="event_study",
                               window=(-4, 4), seed=3)
    assert res.vcov_type == "cluster"
    with pytest.warns(SmallSampleWarning, match="CRV1 with 8 clusters"), \
            pytest.warns(SmallSampleWarning, match="covariance of the 8 event-time "
                         "coefficients is singular"):
        es = event_study(panel, yname="n_posts", idname="unit", tname="period",
                         event_date="event_date", window=(-4, 4), cluster="category", seed=3,
                         vcov="cluster")
    t = res.tidy()
    np.testing.assert_array_equal(t["event_time"], es.event_times)
    np.testing.assert_allclose(t["estimate"], es.coef, atol=1e-10)
    np.testing.assert_allclose(t["point_conf_low"], es.tidy()["point_conf_low"], atol=1e-10)
    np.testing.assert_allclose(t["std_error"], es.tidy()["std_error"], rtol=1e-10)
    assert (t["conf_high"] - t["conf_low"] >= t["point_conf_high"] - t["point_conf_low"]).all()


def test_event_study_by_group_and_equality():
    panel = sim_cells(seed=3, n_cat=12)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = estimate_effects(panel, outcomes=["n_posts"], by=["category"],
                               design="event_study", window=(-3, 3), seed=1, cluster="unit")
    t = res.tidy()
    assert set(t["category"]) == {"cat0", "cat1", "cat2", "cat3"}
    # post event times 0..3 compared across 4 categories: 4 x 3 contrasts
    row = res.equality_tests.iloc[0]
    assert 1 <= row["df1"] <= 12 and row["distribution"] == "F" and 0 <= row["p_value"] <= 1
    # a rank below the number of contrasts is never silent
    assert res.vcov_type == "cluster"  # groups span their unit clusters; event-study design
    assert any("CRV1 with 24 clusters" in str(r.message) for r in rec)
    assert (row["df1"] < 12) == any(issubclass(r.category, SmallSampleWarning)
                                    and "has rank" in str(r.message) for r in rec)


def test_rank_deficient_equality_test_warns():
    # CRV1 requested explicitly with fewer clusters than contrasts: 5 category effects (4
    # contrasts), each category spanning both tier clusters, 2 clusters -> rank <= 1
    panel = sim_cells(seed=4, n_cat=6, n_treated=5)
    with pytest.warns(SmallSampleWarning, match="CRV1 with 2 clusters"), \
            pytest.warns(SmallSampleWarning, match=r"covariance of the 4 contrasts has rank"):
        res = estimate_effects(panel, outcomes=["n_posts"], by=["category"],
                               cluster="value_tier", vcov="cluster")
    assert res.equality_tests["df1"].iloc[0] < 4


def test_placebo_equality_test_needs_fewer_contrasts_than_control_clusters():
    # 8 category x tier effects (7 contrasts), 4 control categories: not testable -> NaN
    panel = sim_cells(seed=4)
    with pytest.warns(SmallSampleWarning, match=r"7 contrast\(s\) cannot be tested .* 4 "
                      "control clusters"):
        res = estimate_effects(panel, outcomes=["n_posts"])
    row = res.equality_tests.iloc[0]
    assert math.isnan(row["p_value"]) and math.isnan(row["statistic"]) and row["df1"] == 7
    assert res.tidy()["std_error"].notna().all()
    # fewer than 3 control clusters: placebo inference is refused
    with pytest.raises(EstimationError, match="at least 3 control clusters"):
        estimate_effects(sim_cells(seed=4, n_cat=6, n_treated=5), outcomes=["n_posts"])


def test_errors():
    panel = sim_cells()
    with pytest.raises(OptionError, match="design must be one of 'did', 'event_study'; got 'rd'"):
        estimate_effects(panel, outcomes=["n_posts"], design="rd")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="family must be one of 'ols', 'poisson'; got 'logit'"):
        estimate_effects(panel, outcomes=[{"y": "n_posts", "family": "logit"}])
    with pytest.raises(OptionError, match="outcome spec keys"):
        estimate_effects(panel, outcomes=[{"col": "n_posts"}])
    with pytest.raises(DataValidationError, match=r"\['nope'\] not found"):
        estimate_effects(panel, outcomes=["nope"])
    with pytest.raises(DataValidationError, match="needs units with NaT"):
        estimate_effects(panel.assign(event_date=pd.Timestamp("2021-06-01")), outcomes=["n_posts"])
    with pytest.raises(OptionError, match="control_group must be one of 'never_treated'"):
        estimate_effects(panel, outcomes=["n_posts"], control_group="not_yet")  # type: ignore[arg-type]


def test_extra_fixed_effects_and_backend():
    """fe= adds fixed effects (a tier x month key here) as pyfixest's | unit + period + key;
    both backends give the same numbers, for Poisson outcomes too."""
    panel = sim_cells(seed=4)
    panel["tier_month"] = panel["value_tier"] + "_" + panel["t"].astype(str)
    d = (panel["event_date"].notna() & (panel["period"] >= panel["event_date"])).astype(float)
    m = pf.feols("n_posts ~ d | unit + period + tier_month", panel.assign(d=d),
                 vcov={"CRV1": "category"})
    with pytest.warns(SmallSampleWarning):
        fast = estimate_effects(panel, outcomes="n_posts", by=(), vcov="cluster",
                                fe=["tier_month"])
        slow = estimate_effects(panel, outcomes="n_posts", by=(), vcov="cluster",
                                fe=["tier_month"], backend="pyfixest")
    for r in (fast, slow):
        assert r.tidy()["estimate"].iloc[0] == pytest.approx(float(m.coef().iloc[0]), abs=1e-6)
        assert r.tidy()["std_error"].iloc[0] == pytest.approx(float(m.se().iloc[0]), rel=1e-5)
        assert r.provenance.settings["fe"] == ("tier_month",)
    # Poisson outcomes run on the fast PPML path too (laborai.did._fastpois)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pf_fast = estimate_effects(panel, outcomes=[{"y": "n_posts", "family": "poisson"}],
                                   by=(), vcov="cluster", backend="fast")
        pf_ref = estimate_effects(panel, outcomes=[{"y": "n_posts", "family": "poisson"}],
                                  by=(), vcov="cluster", backend="pyfixest")
    for col in ("estimate", "std_error"):
        assert pf_fast.tidy()[col].iloc[0] == pytest.approx(pf_ref.tidy()[col].iloc[0],
                                                            rel=1e-5)


def test_noise_ratio_reports_a_group_noisier_than_its_placebo_controls():
    """tidy()'s noise_ratio: a group's pre-period residual noise over the median of the control
    units its placebos use (docs/validation.md: placebo intervals of noisy groups are too
    narrow). Computed on the pre-period only, so the effect itself does not move it."""
    rng = np.random.default_rng(5)
    periods = pd.date_range("2020-01-01", periods=40, freq="MS")
    rows = []
    for c in range(10):
        for tier in ("low", "high"):
            sd = 0.3 if (c == 0 and tier == "high") else 0.1  # cat0/high is 3x noisier
            ev = periods[30] if c < 2 else pd.NaT
            for p in periods:
                post = (not pd.isna(ev)) and p >= ev
                rows.append({"category": f"cat{c}", "value_tier": tier, "unit": f"{c}|{tier}",
                             "period": p, "event_date": ev,
                             "y": rng.normal(0, sd) + 0.5 * post})
    panel = pd.DataFrame(rows)
    panel["event_date"] = pd.to_datetime(panel["event_date"])
    res = estimate_effects(panel, outcomes=["y"], idname="unit", tname="period")
    t = res.tidy().set_index(["category", "value_tier"])
    assert t.loc[("cat0", "high"), "noise_ratio"] == pytest.approx(3.0, rel=0.25)
    for g in (("cat0", "low"), ("cat1", "low"), ("cat1", "high")):
        assert t.loc[g, "noise_ratio"] == pytest.approx(1.0, rel=0.3)
    # a larger effect changes the estimates, not the (pre-period) noise ratios
    big = panel.assign(y=panel["y"] + 2.0 * (panel["period"] >= periods[30])
                       * panel["event_date"].notna())
    t2 = estimate_effects(big, outcomes=["y"], idname="unit", tname="period").tidy()
    np.testing.assert_allclose(t2["noise_ratio"].to_numpy(), res.tidy()["noise_ratio"].to_numpy(),
                               rtol=1e-12)
