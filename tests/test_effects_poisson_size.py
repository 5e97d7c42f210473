"""estimate_effects' default size model for log counts (``size='counts'``): a group's Poisson
sampling variance ``1 / n`` is known, so a small treated cell gets its own, larger standard
error instead of the control categories' average (issue 11, docs/validation.md)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from laborai.did._placebo import placebo_estimates, sampling_var, size_target
from laborai.errors import OptionError
from laborai.studies.effects import _poisson_intercepts, estimate_effects

N_MONTHS = 36
EVENT = 20  # first treated month (position)


def count_panel(seed: int, *, rates: dict[str, float], treated: tuple[str, ...],
                effect: float = 0.0, shock_sd: float = 0.05, rho: float = 0.5) -> pd.DataFrame:
    """Category x tier x month panel of Poisson job posts with AR(1) category shocks.

    ``rates`` gives each category's mean monthly posts (both tiers; the high tier has a
    third of them); ``treated`` categories get ``effect`` (log points) from month ``EVENT``.
    """
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2021-01-01", periods=N_MONTHS, freq="MS")
    rows = []
    for cat, lam in rates.items():
        z = rng.standard_normal(N_MONTHS)
        shock = np.empty(N_MONTHS)
        shock[0] = shock_sd * z[0]
        for t in range(1, N_MONTHS):
            shock[t] = rho * shock[t - 1] + shock_sd * math.sqrt(1 - rho * rho) * z[t]
        ev = periods[EVENT] if cat in treated else pd.NaT
        for tier, share in (("low", 2 / 3), ("high", 1 / 3)):
            tier_sh = 0.02 * rng.standard_normal(N_MONTHS)
            eff = effect * (np.arange(N_MONTHS) >= EVENT) * (cat in treated)
            n = rng.poisson(lam * share * np.exp(0.01 * np.arange(N_MONTHS) + shock + tier_sh
                                                  + eff))
            n = np.maximum(n, 1)
            for t in range(N_MONTHS):
                rows.append({"category": cat, "value_tier": tier, "unit": f"{cat}|{tier}",
                             "period": periods[t], "n_posts": int(n[t]),
                             "log_n_posts": math.log(n[t]), "event_date": ev,
                             "log_value": math.log(n[t]) + 0.5})
    return pd.DataFrame(rows)


RATES = {"tiny": 12.0, "big1": 3000.0, "big2": 2000.0, **{f"c{i}": r for i, r in enumerate(
    (2500.0, 1500.0, 1800.0, 2200.0, 900.0, 1200.0, 3500.0, 700.0))}}
TREATED = ("tiny", "big1", "big2")


def test_default_uses_the_poisson_model_for_log_counts_only():
    p = count_panel(0, rates=RATES, treated=TREATED)
    r = estimate_effects(p, outcomes=["log_n_posts", "log_value"])
    used = r.provenance.settings["size_used"]
    assert used["log_n_posts"] == "poisson:n_posts"
    assert used["log_value"] is None  # not the log of a count column
    assert r.provenance.settings["size"] == "counts"
    with pytest.raises(OptionError, match="log of a count"):
        estimate_effects(p, outcomes=["log_value"], size="poisson")
    # a weighted outcome keeps the fitted Ferman-Pinto model on its weights
    p["w"] = p["n_posts"].astype(float)
    rw = estimate_effects(p, outcomes=[{"y": "log_n_posts", "weights": "w"}])
    assert rw.provenance.settings["size_used"]["log_n_posts"] == "w"


def test_standard_error_rebuilt_from_the_poisson_model():
    """SE^2 = (J^2 - 1) / J^3 * sum_j p_j^2 (a + v*) / (a + v_j) with the pooled ``a``."""
    p = count_panel(1, rates=RATES, treated=TREATED)
    tab = estimate_effects(p, outcomes=["log_n_posts"]).tidy().set_index(
        ["category", "value_tier"])
    ctrl = p[p["event_date"].isna()].reset_index(drop=True)
    fe = np.column_stack([pd.factorize(ctrl["unit"])[0], pd.factorize(ctrl["period"])[0]])
    y = ctrl["log_n_posts"].to_numpy()
    inv = 1.0 / ctrl["n_posts"].to_numpy(dtype=float)
    post = (ctrl["period"] >= ctrl["period"].unique()[EVENT]).to_numpy()
    cats = sorted(ctrl["category"].unique())
    cache = {}
    for tier in ("low", "high"):
        regs = [((ctrl["category"] == c) & (ctrl["value_tier"] == tier)).to_numpy()[:, None]
                * post[:, None] * 1.0 for c in cats]
        est = placebo_estimates(y, None, fe, regs)
        vs = np.array([sampling_var(X, None, fe, inv) for X in regs])
        cache[(float(EVENT), (tier,))] = (est, vs)
    a = _poisson_intercepts(cache)[(float(EVENT), 0)]
    assert a > 0
    # the pooled a solves its weighted moment equation
    p2 = np.concatenate([c[0][:, 0] ** 2 for c in cache.values()])
    v = np.concatenate([c[1][:, 0] for c in cache.values()])
    wts = 1 / (a + v) ** 2
    assert abs(np.sum(wts * (p2 - v - a))) < 1e-8 * np.sum(wts * p2)
    J = len(cats)
    for cat in TREATED:
        for tier in ("low", "high"):
            sub = p[p["event_date"].isna() | ((p["category"] == cat)
                                              & (p["value_tier"] == tier))].reset_index(drop=True)
            fe_g = np.column_stack([pd.factorize(sub["unit"])[0],
                                    pd.factorize(sub["period"])[0]])
            d = ((sub["category"] == cat) & (sub["value_tier"] == tier)
                 & (sub["period"] >= sub["period"].unique()[EVENT])).to_numpy(float)[:, None]
            v_g = float(sampling_var(d, None, fe_g, 1.0 / sub["n_posts"].to_numpy(float))[0])
            est, vs = cache[(float(EVENT), (tier,))]
            v_star = float(size_target(v_g, J, 1.0))
            se2 = (J**2 - 1) / J**3 * np.sum(est[:, 0] ** 2 * (a + v_star) / (a + vs[:, 0]))
            assert tab.loc[(cat, tier), "std_error"] == pytest.approx(math.sqrt(se2), rel=1e-9)
    # the tiny category's cells are noisier than the big ones': its SE is larger, which the
    # exchangeable placebo default cannot see (same SE for every group of a tier)
    assert tab.loc[("tiny", "high"), "std_error"] > 2 * tab.loc[("big1", "high"), "std_error"]
    old = estimate_effects(p, outcomes=["log_n_posts"], size=None).tidy().set_index(
        ["category", "value_tier"])
    assert old.loc[("tiny", "high"), "std_error"] == pytest.approx(
        old.loc[("big1", "high"), "std_error"], rel=1e-9)


@pytest.mark.slow
def test_small_treated_cell_holds_its_size():
    """Under the null a tiny treated category (12 posts a month) among large controls: the
    exchangeable placebo default over-rejects for it; the Poisson model holds 5%."""
    reps = 120
    rej = {"counts": {"tiny": 0, "big": 0}, None: {"tiny": 0, "big": 0}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in range(reps):
            p = count_panel(100 + s, rates=RATES, treated=TREATED)
            for size in ("counts", None):
                tab = estimate_effects(p, outcomes=["log_n_posts"], size=size).tidy()
                pv = tab.set_index(["category", "value_tier"])["p_value"]
                rej[size]["tiny"] += int(pv[("tiny", "high")] < 0.05)
                rej[size]["big"] += int(pv[("big1", "high")] < 0.05)
    lo, hi = stats.binom.ppf([0.0005, 0.9995], reps, 0.05) / reps
    assert rej[None]["tiny"] / reps > 0.15  # the exchangeable default fails here
    for g in ("tiny", "big"):
        assert rej["counts"][g] / reps <= hi, (g, rej)
    assert rej["counts"]["big"] / reps >= lo or rej["counts"]["tiny"] / reps >= lo


def test_poisson_model_covers_under_effects():
    """With a true effect the interval of the tiny group is centred on it (one panel, large
    effect): the estimate is within its interval and the interval excludes 0."""
    p = count_panel(7, rates=RATES, treated=TREATED, effect=-0.8)
    tab = estimate_effects(p, outcomes=["log_n_posts"]).tidy().set_index(
        ["category", "value_tier"])
    row = tab.loc[("tiny", "low")]
    assert row["conf_low"] < -0.8 < row["conf_high"]
    assert row["conf_high"] < 0
