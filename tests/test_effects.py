"""Tests of laborai.did.effects.estimate_effects on a small simulated category x tier panel."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from scipy import stats

from laborai.did import TIDY_COLUMNS, event_study
from laborai.did.effects import EffectsResult, estimate_effects
from laborai.errors import DataValidationError, LaborAIWarning, OptionError, SmallSampleWarning


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


def test_did_matches_pyfixest_per_outcome():
    panel = sim_cells(n_cat=12)
    copy = panel.copy()
    outcomes = ["log_n_posts",
                {"name": "job_posts_ppml", "y": "n_posts", "family": "poisson"},
                {"y": "log_earnings_per_contract", "weights": "n_contracts"}]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LaborAIWarning)  # log(0) rows dropped (and reported)
        with pytest.warns(SmallSampleWarning, match="rank"):
            res = estimate_effects(panel, outcomes=outcomes)
    pd.testing.assert_frame_equal(panel, copy)
    assert isinstance(res, EffectsResult)
    t = res.tidy()
    assert tuple(t.columns[:7]) == TIDY_COLUMNS
    assert list(t.columns[7:10]) == ["outcome", "category", "value_tier"]
    hand, names = _hand_design(panel, ["category", "value_tier"])
    assert len(names) == 8
    fams = {"log_n_posts": ("log_n_posts", "ols", None),
            "job_posts_ppml": ("n_posts", "poisson", None),
            "log_earnings_per_contract": ("log_earnings_per_contract", "ols", "n_contracts")}
    for name, (y, fam, w) in fams.items():
        sub = t[t["outcome"] == name]
        fml = f"{y} ~ " + " + ".join(names) + " | unit + period"
        fn = pf.feols if fam == "ols" else pf.fepois
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = fn(fml, hand.dropna(subset=[y]), vcov={"CRV1": "category"}, weights=w)
        np.testing.assert_allclose(sub["estimate"], m.coef().to_numpy(), atol=1e-8)
        np.testing.assert_allclose(sub["std_error"], m.se().to_numpy(), rtol=1e-6)
        # equality test: Wald statistic with the k-1 successive contrasts; the within-category
        # tier contrasts have zero CRV1 variance with category clusters (identical scores), so
        # the covariance of the 7 contrasts has rank 7 - 4 = 3 and a pseudo-inverse is used
        k = len(names)
        R = np.eye(k)[1:] - np.eye(k)[:-1]
        b = m.coef().to_numpy()
        RVR = R @ m._vcov @ R.T
        u, sv, _ = np.linalg.svd(RVR)
        r = int(np.sum(sv > 1e-10 * sv[0]))
        W = (u[:, :r].T @ R @ b) @ np.diag(1 / sv[:r]) @ (u[:, :r].T @ R @ b)
        row = res.equality_tests.set_index("outcome").loc[name]
        assert row["df1"] == r
        assert row["wald"] == pytest.approx(W, rel=1e-6)
        if fam == "ols":
            assert row["distribution"] == "F" and row["df2"] == 11
            assert row["p_value"] == pytest.approx(stats.f.sf(W / r, r, 11), rel=1e-6)
        else:
            assert row["distribution"] == "chi2"
            assert row["p_value"] == pytest.approx(stats.chi2.sf(W, r), rel=1e-6)
    assert res.n_dropped["log_n_posts"] == int(panel["log_n_posts"].isna().sum())
    assert "EffectsResult(design='did'" in repr(res)


def test_pooled_and_by_category():
    panel = sim_cells(seed=1)
    pooled = estimate_effects(panel, outcomes="n_posts", by=())
    m = pf.feols("n_posts ~ d | unit + period",
                 panel.assign(d=(panel["event_date"].notna()
                                 & (panel["period"] >= panel["event_date"])).astype(float)),
                 vcov={"CRV1": "category"})
    assert pooled.tidy()["estimate"].iloc[0] == pytest.approx(float(m.coef().iloc[0]), abs=1e-8)
    assert pooled.equality_tests["df1"].iloc[0] == 0
    # cat0 and cat3 share an event date and are their own clusters: zero CRV1 variance of
    # their contrast, so the equality test loses a degree of freedom (and says so)
    with pytest.warns(SmallSampleWarning, match="rank 2"):
        bycat = estimate_effects(panel, outcomes=["n_posts"], by=["category"], vcov="wild",
                                 n_boot=999, seed=1)
    assert bycat.equality_tests["df1"].iloc[0] == 2
    assert list(bycat.tidy()["category"]) == ["cat0", "cat1", "cat2", "cat3"]
    assert bycat.tidy()["p_value"].between(0, 1).all()


def test_event_study_design_matches_event_study():
    panel = sim_cells(seed=2)
    res = estimate_effects(panel, outcomes=["n_posts"], by=(), design="event_study",
                           window=(-4, 4), seed=3)
    es = event_study(panel, yname="n_posts", idname="unit", tname="period",
                     event_date="event_date", window=(-4, 4), cluster="category", seed=3)
    t = res.tidy()
    np.testing.assert_array_equal(t["event_time"], es.event_times)
    np.testing.assert_allclose(t["estimate"], es.coef, atol=1e-10)
    np.testing.assert_allclose(t["point_conf_low"], es.tidy()["point_conf_low"], atol=1e-10)
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
    assert (row["df1"] < 12) == any(issubclass(r.category, SmallSampleWarning) for r in rec)


def test_rank_deficient_equality_test_warns():
    panel = sim_cells(seed=4, n_cat=6, n_treated=5)  # 10 effects, 6 clusters
    with pytest.warns(SmallSampleWarning, match="rank"):
        res = estimate_effects(panel, outcomes=["n_posts"])
    assert res.equality_tests["df1"].iloc[0] < 9


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
    with pytest.raises(OptionError, match="control must be one of 'never_treated'"):
        estimate_effects(panel, outcomes=["n_posts"], control="not_yet")  # type: ignore[arg-type]
