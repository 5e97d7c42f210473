"""pretrends_power (Roth 2022): parity with R ``pretrends``, closed forms, Monte Carlo, every
event-study result type, validation errors and the result contract (issue 13)."""

from __future__ import annotations

import dataclasses
import json
import pickle
import re
import warnings
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import laborai as la
from laborai._results import ResultMixin
from laborai.did import TIDY_COLUMNS
from laborai.did.pretrends import PretrendsPowerResult, pretrends_power
from laborai.errors import DataValidationError, LaborAIWarning, OptionError

REF = "reference/pretrends"


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def he_wang(data_dir: Path) -> dict[str, np.ndarray]:
    bt = pd.read_csv(data_dir / REF / "he_wang_2017_beta_tvec.csv")
    sigma = pd.read_csv(data_dir / REF / "he_wang_2017_sigma.csv", header=None).to_numpy()
    return {"t": bt["t"].to_numpy(), "beta": bt["beta"].to_numpy(), "sigma": sigma}


def statspai_literal() -> dict[str, np.ndarray]:
    """The literal inputs written in expected_values.csv (data_file column)."""
    t = np.array([-4, -3, -2, 0, 1, 2])
    se = np.array([0.05, 0.045, 0.04, 0.10, 0.11, 0.12])
    beta = np.array([0.012, -0.008, 0.021, 0.18, 0.24, 0.31])
    idx = np.arange(6)
    sigma = 0.5 ** np.abs(np.subtract.outer(idx, idx)) * np.outer(se, se)
    return {"t": t, "beta": beta, "sigma": sigma}


def _tol(hint: str) -> float:
    m = re.match(r"\s*([0-9.]+e-?[0-9]+)", str(hint))
    assert m, f"no tolerance in {hint!r}"
    return float(m.group(1))


_CALLS: dict[tuple[Any, ...], PretrendsPowerResult] = {}


def _call(inputs: dict[str, np.ndarray], key: str, **kw: Any) -> PretrendsPowerResult:
    """One pretrends_power call per distinct reference call (several rows share one)."""
    k = (key, *sorted(kw.items()))
    if k not in _CALLS:
        _CALLS[k] = pretrends_power(betahat=inputs["beta"], sigma=inputs["sigma"],
                                    event_times=inputs["t"], **kw)
    return _CALLS[k]


def _value(row: pd.Series, hw: dict[str, np.ndarray]) -> float:
    """laborai's value for one row of expected_values.csv (fails on an unknown row)."""
    case, stat = row["case"], row["statistic"]
    if case.startswith("hw_"):
        t = hw["t"]
        if case == "hw_slope_for_power":
            return _call(hw, "hw", target_power=0.5).slope_for_power
        if case == "hw_quadratic":
            res = pretrends_power(betahat=hw["beta"], sigma=hw["sigma"], event_times=t,
                                  delta=0.024 * (t + 1) ** 2)
        else:
            res = _call(hw, "hw", slope=0.05205871)
        if case == "hw_linear_slope50_eventplot":
            k = int(stat.split("_t")[1])
            if k == res.ref:
                return 0.0
            return float(res.mean_after_pretest[res.event_times == k][0])
        return float({"Power": res.power, "Bayes.Factor": res.bayes_factor,
                      "Likelihood.Ratio": res.likelihood_ratio}[stat])
    if case == "statspai_literal":
        lit = statspai_literal()
        m = re.fullmatch(r"slope_for_power_0p(\d)", stat)
        if m:
            return _call(lit, "sp", target_power=float("0." + m.group(1))).slope_for_power
        m = re.fullmatch(r"(power|bayes_factor|likelihood_ratio)_slope_0p(\d+)", stat)
        assert m, f"unknown statistic {stat!r}"
        res = _call(lit, "sp", slope=float("0." + m.group(2)))
        return float(getattr(res, m.group(1)))
    raise AssertionError(f"expected_values.csv has a case this test does not know: {case!r}")


# --------------------------------------------------------------------------------------------
# parity
# --------------------------------------------------------------------------------------------
def test_parity_with_every_reference_case(data_dir: Path, he_wang: dict[str, np.ndarray],
                                          ) -> None:
    ev = pd.read_csv(data_dir / REF / "expected_values.csv")
    assert len(ev) >= 20
    worst: dict[str, float] = {}
    for _, row in ev.iterrows():
        got = _value(row, he_wang)
        diff = abs(got - float(row["estimate"]))
        key = f"{row['case']}:{row['statistic']}"
        worst[key] = diff
        assert diff <= _tol(row["tolerance_hint"]), (key, got, row["estimate"])
    assert set(ev["case"]) == {"hw_slope_for_power", "hw_linear_slope50",
                               "hw_linear_slope50_eventplot", "hw_quadratic",
                               "statspai_literal"}


def test_parity_event_plot_standard_errors(data_dir: Path, he_wang: dict[str, np.ndarray],
                                           ) -> None:
    ev = pd.read_csv(data_dir / REF / "expected_values.csv")
    rows = ev[ev["case"] == "hw_linear_slope50_eventplot"]
    res = pretrends_power(betahat=he_wang["beta"], sigma=he_wang["sigma"],
                          event_times=he_wang["t"], slope=0.05205871)
    se = res.tidy().set_index("event_time")["std_error"]
    for _, row in rows.iterrows():
        k = int(row["statistic"].split("_t")[1])
        want = float(row["se"])
        assert abs((0.0 if k == -1 else se[k]) - want) < 1e-8


DD_FIXTURES = {  # diff-diff's R fixtures: sigma2 * (rho J + (1 - rho) I), reference period 0
    "dd_uniform_3_pre_periods_no_anticipation": ([-3, -2, -1], [1, 2, 3], 0.04, 0.3),
    "dd_irregular_pre_periods": ([-5, -3, -1], [1, 2, 3], 0.04, 0.3),
    "dd_anticipation_shifted": ([-5, -4, -3, -2], [1, 2, 3], 0.04, 0.3),
    "dd_single_pre_period_closed_form": ([-1], [1], 0.25, 0.0),
}


@pytest.mark.parametrize("name", sorted(DD_FIXTURES))
def test_parity_with_r_on_diff_diff_fixtures(data_dir: Path, name: str) -> None:
    """R pretrends' power at gamma in (0, .2, .5, 1) and slope_for_power at 0.5 / 0.8 (the
    power does not depend on betahat, so zeros stand in for the fixture's random draw)."""
    ref = json.loads((data_dir / REF / "own_scipy_crosscheck.json").read_text())
    pre, post, s2, rho = DD_FIXTURES[name]
    t = np.array(pre + post)
    k = len(t)
    sigma = s2 * (rho * np.ones((k, k)) + (1 - rho) * np.eye(k))
    b = np.zeros(k)
    power = [pretrends_power(betahat=b, sigma=sigma, event_times=t, ref=0, slope=g).power
             for g in (0.0, 0.2, 0.5, 1.0)]
    slopes = [pretrends_power(betahat=b, sigma=sigma, event_times=t, ref=0,
                              target_power=p).slope_for_power for p in (0.5, 0.8)]
    np.testing.assert_allclose(power, ref[f"{name}_power"]["R"], rtol=0, atol=1e-4)
    np.testing.assert_allclose(slopes, ref[f"{name}_gamma_p"]["R"], rtol=0, atol=1.5e-4)


# --------------------------------------------------------------------------------------------
# closed forms, Monte Carlo, accuracy
# --------------------------------------------------------------------------------------------
def test_single_pre_period_closed_form() -> None:
    sd, rho, c = 0.3, 0.6, 1.96
    sigma = np.array([[sd**2, rho * sd * 0.5], [rho * sd * 0.5, 0.25]])
    res = pretrends_power(betahat=[0.1, 0.2], sigma=sigma, event_times=[-2, 0], slope=0.25)
    mu = -0.25
    a, b = (-c * sd - mu) / sd, (c * sd - mu) / sd
    p_pass = stats.norm.cdf(b) - stats.norm.cdf(a)
    assert res.power == pytest.approx(1 - p_pass, abs=1e-14)
    m_pre = mu + sd * (stats.norm.pdf(a) - stats.norm.pdf(b)) / p_pass
    m_post = 0.25 + sigma[1, 0] / sigma[0, 0] * (m_pre - mu)
    np.testing.assert_allclose(res.mean_after_pretest, [m_pre, m_post], rtol=1e-12)
    lr = stats.norm.pdf(0.1, mu, sd) / stats.norm.pdf(0.1, 0, sd)
    assert res.likelihood_ratio == pytest.approx(lr, rel=1e-12)
    assert res.integration_error == 0.0
    # slope with 50% power: 1 - P(|N(g, sd)| <= c sd) = 0.5 solved independently
    g = res.slope_for_power
    assert 1 - (stats.norm.cdf(c - g / sd) - stats.norm.cdf(-c - g / sd)) == pytest.approx(
        0.5, abs=1e-10)


def test_monte_carlo_power_and_mean_after_pretest(he_wang: dict[str, np.ndarray]) -> None:
    """The reported power is the rejection frequency of the pre-test on draws from
    N(delta, sigma), and the mean after pre-testing is the mean of the passing draws."""
    t, s = he_wang["t"], he_wang["sigma"]
    res = pretrends_power(betahat=he_wang["beta"], sigma=s, event_times=t, slope=0.04)
    rng = np.random.default_rng(2024)
    n = 400_000
    draws = rng.multivariate_normal(res.delta, res.sigma, size=n)
    se = np.sqrt(np.diag(res.sigma))
    pre = res.is_pre
    passed = np.all(np.abs(draws[:, pre]) <= 1.96 * se[pre], axis=1)
    freq = 1 - passed.mean()
    assert abs(freq - res.power) < 4 * np.sqrt(res.power * (1 - res.power) / n)
    kept = draws[passed]
    mc_se = kept.std(axis=0) / np.sqrt(len(kept))
    assert np.all(np.abs(kept.mean(axis=0) - res.mean_after_pretest) < 4.5 * mc_se)
    p0 = 1 - np.all(np.abs(draws[:, pre] - res.delta[pre]) <= 1.96 * se[pre], axis=1).mean()
    assert abs(p0 - res.power_at_zero) < 4 * np.sqrt(p0 * (1 - p0) / n)


def test_integration_accuracy_across_seeds(he_wang: dict[str, np.ndarray]) -> None:
    kw = {"betahat": he_wang["beta"], "sigma": he_wang["sigma"], "event_times": he_wang["t"]}
    a = pretrends_power(**kw, slope=0.03, seed=0)
    b = pretrends_power(**kw, slope=0.03, seed=7)
    assert a.integration_error <= 2e-6 and b.integration_error <= 2e-6
    assert abs(a.power - b.power) < 1e-5
    assert abs(a.slope_for_power - b.slope_for_power) < 1e-5
    np.testing.assert_allclose(a.mean_after_pretest, b.mean_after_pretest, rtol=0, atol=1e-5)
    assert a.provenance.seed == 0 and b.provenance.seed == 7


def test_eight_pre_periods_match_scipy() -> None:
    rng = np.random.default_rng(5)
    k = 10
    x = rng.normal(size=(k, k))
    sigma = (x @ x.T / k + 0.3 * np.eye(k)) * 0.01
    t = np.r_[np.arange(-9, -1), 0, 1]
    res = pretrends_power(betahat=np.zeros(k), sigma=sigma, event_times=t, slope=0.01)
    pre = t < -1
    sp = sigma[np.ix_(pre, pre)]
    se = np.sqrt(np.diag(sp))
    mvn = stats.multivariate_normal(mean=res.delta[pre], cov=sp)
    p = mvn.cdf(1.96 * se, lower_limit=-1.96 * se, rng=np.random.default_rng(0))
    assert res.integration_error < 1e-5
    assert abs(res.power - (1 - p)) < 5e-5  # scipy's own error is about 1e-5


def test_threshold_and_alpha_conventions() -> None:
    lit = statspai_literal()
    kw = {"betahat": lit["beta"], "sigma": lit["sigma"], "event_times": lit["t"], "slope": 0.02}
    r = pretrends_power(**kw)
    assert r.threshold == 1.96 and r.alpha == 0.05
    r10 = pretrends_power(**kw, alpha=0.10)
    assert r10.threshold == pytest.approx(stats.norm.ppf(0.95), abs=1e-15)
    assert r10.power > r.power
    z = float(stats.norm.ppf(0.975))
    rz = pretrends_power(**kw, threshold=z)
    assert rz.alpha == pytest.approx(0.05, abs=1e-12)
    assert 0 < rz.power - r.power < 1e-3


def test_user_trend_equals_linear_slope_and_zero_trend() -> None:
    lit = statspai_literal()
    kw = {"betahat": lit["beta"], "sigma": lit["sigma"], "event_times": lit["t"]}
    a = pretrends_power(**kw, slope=0.03)
    b = pretrends_power(**kw, delta=0.03 * (lit["t"] + 1))
    assert a.trend == "linear" and b.trend == "user" and np.isnan(b.slope)
    assert a.power == b.power and a.bayes_factor == b.bayes_factor
    np.testing.assert_array_equal(a.mean_after_pretest, b.mean_after_pretest)
    z = pretrends_power(**kw, slope=0.0)
    assert z.power == pytest.approx(z.power_at_zero, abs=1e-12)
    assert z.bayes_factor == pytest.approx(1.0, abs=1e-10) and z.likelihood_ratio == 1.0
    # symmetric box: passing the pre-test leaves a zero trend unbiased
    np.testing.assert_allclose(z.mean_after_pretest, 0.0, atol=1e-6)
    # default trend: the slope with the target power
    d = pretrends_power(**kw, target_power=0.8)
    assert d.slope == d.slope_for_power and d.power == pytest.approx(0.8, abs=1e-5)


def test_order_of_event_times_does_not_matter_and_input_not_mutated() -> None:
    lit = statspai_literal()
    perm = np.array([3, 0, 5, 1, 4, 2])
    b, s, t = lit["beta"][perm], lit["sigma"][np.ix_(perm, perm)], lit["t"][perm]
    b0, s0 = b.copy(), s.copy()
    a = pretrends_power(betahat=lit["beta"], sigma=lit["sigma"], event_times=lit["t"],
                        slope=0.02)
    c = pretrends_power(betahat=b, sigma=s, event_times=t, slope=0.02)
    np.testing.assert_array_equal(b, b0)
    np.testing.assert_array_equal(s, s0)
    pd.testing.assert_frame_equal(a.tidy(), c.tidy())
    assert a.power == c.power
    dv = 0.02 * (t + 1)  # a user trend given in the input order is reordered with it
    u = pretrends_power(betahat=b, sigma=s, event_times=t, delta=dv)
    assert u.power == a.power


# --------------------------------------------------------------------------------------------
# every event-study result type
# --------------------------------------------------------------------------------------------
def _stag(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(30):
        g = (0, 5, 7)[i % 3]
        a = rng.normal()
        for t in range(1, 11):
            d = int(g > 0 and t >= g)
            rows.append({"unit": i, "t": t, "g": g, "cl": f"c{i % 6}",
                         "y": a + 0.1 * t + 0.5 * d + rng.normal(scale=0.3)})
    return pd.DataFrame(rows)


def _common(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(10):
        shock = rng.normal(0, 0.1, 12)
        for u in range(2):
            for t in range(12):
                tr = c < 3
                rows.append({"unit": f"{c}-{u}", "cluster": f"k{c}", "t": t,
                             "event": 6.0 if tr else np.nan, "g": 6 if tr else 0,
                             "y": shock[t] + 0.2 * u + rng.normal(0, 0.05)})
    return pd.DataFrame(rows)


def _quiet(fn: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


def _same_as_arrays(res: PretrendsPowerResult, t: Any, b: Any, v: Any, ref: int) -> None:
    raw = pretrends_power(betahat=b, sigma=v, event_times=t, ref=ref)
    assert res.power == raw.power and res.slope_for_power == raw.slope_for_power
    np.testing.assert_array_equal(res.mean_after_pretest, raw.mean_after_pretest)


def test_event_study_result() -> None:
    es = _quiet(lambda: la.did.event_study(_common(), yname="y", idname="unit", tname="t",
                                           event_date="event", cluster="cluster",
                                           window=(-3, 3)))
    res = pretrends_power(es)
    assert res.source == "EventStudyResult" and res.vcov_source == "vcov"
    assert res.ref == es.ref and res.n_pre == int(np.sum(es.event_times < es.ref))
    _same_as_arrays(res, es.event_times, es.coef, es.vcov, es.ref)


def test_sun_abraham_result() -> None:
    sa = _quiet(lambda: la.did.sun_abraham(_stag(), yname="y", idname="unit", tname="t",
                                           gname="g"))
    res = pretrends_power(sa)
    assert res.source == "SunAbrahamResult"
    _same_as_arrays(res, sa.event_times, sa.coef, sa.vcov, sa.ref)


def test_att_gt_dynamic_universal_uses_the_influence_function() -> None:
    agg = _quiet(lambda: la.did.att_gt(_stag(), yname="y", tname="t", idname="unit", gname="g",
                                       base_period="universal").aggregate("dynamic"))
    res = pretrends_power(agg)
    assert res.source == "AggregateResult" and res.vcov_source == "influence function"
    assert res.dropped_event_times == (-1,) and -1 not in res.event_times
    keep = agg.element != -1
    inf = np.asarray(agg.influence)[:, keep]
    v = inf.T @ inf / inf.shape[0] ** 2
    np.testing.assert_allclose(np.sqrt(np.diag(v)), agg.std_error[keep], rtol=1e-10)
    _same_as_arrays(res, agg.element[keep].astype(int), agg.estimate[keep], v, -1)


def test_att_gt_bootstrap_and_cluster_are_handled_and_recorded() -> None:
    for kw in ({"vcov": "bootstrap"}, {"cluster": "cl", "vcov": "analytic"}):
        agg = _quiet(lambda kw=kw: la.did.att_gt(_stag(), yname="y", tname="t", idname="unit",
                                                 gname="g", base_period="universal",
                                                 **kw).aggregate("dynamic"))
        with pytest.warns(LaborAIWarning, match="influence-function correlations"):
            res = pretrends_power(agg)
        assert res.vcov_source.startswith("influence-function correlation")
        keep = agg.element != -1
        np.testing.assert_allclose(np.sqrt(np.diag(res.sigma)), agg.std_error[keep],
                                   rtol=1e-12)
        assert res.provenance.settings["vcov_source"] == res.vcov_source


def test_att_gt_refusals() -> None:
    d = _stag()
    cs = _quiet(lambda: la.did.att_gt(d, yname="y", tname="t", idname="unit", gname="g"))
    with pytest.raises(OptionError, match=r"aggregate\('dynamic'\)"):
        pretrends_power(cs)
    with pytest.raises(OptionError, match="base_period='varying'"):
        pretrends_power(_quiet(lambda: cs.aggregate("dynamic")))
    with pytest.raises(OptionError, match="type='group'"):
        pretrends_power(_quiet(lambda: cs.aggregate("group")))
    pl = _quiet(lambda: la.did.att_gt(_common(), yname="y", tname="t", idname="unit", gname="g",
                                      cluster="cluster", vcov="placebo",
                                      base_period="universal").aggregate("dynamic"))
    with pytest.raises(OptionError, match="placebo"):
        pretrends_power(pl)


def test_duck_typed_result_such_as_imputation() -> None:
    lit = statspai_literal()
    obj = SimpleNamespace(event_times=lit["t"], coef=lit["beta"], vcov=lit["sigma"], ref=-1)
    res = pretrends_power(obj, slope=0.02)
    assert res.source == "SimpleNamespace"
    assert res.power == pretrends_power(betahat=lit["beta"], sigma=lit["sigma"],
                                        event_times=lit["t"], slope=0.02).power
    # a result that carries the reference period with coefficient 0 and variance 0
    t = np.r_[lit["t"][:3], -1, lit["t"][3:]]
    b = np.r_[lit["beta"][:3], 0.0, lit["beta"][3:]]
    v = np.zeros((7, 7))
    keep = np.r_[0:3, 4:7]
    v[np.ix_(keep, keep)] = lit["sigma"]
    with_ref = pretrends_power(SimpleNamespace(event_times=t, coef=b, vcov=v, ref=-1),
                               delta=0.02 * (t + 1))
    assert with_ref.dropped_event_times == (-1,)
    assert with_ref.power == res.power
    with pytest.raises(OptionError, match="differs from the result's reference period"):
        pretrends_power(obj, ref=0)
    with pytest.raises(OptionError, match="lacks coef, vcov"):
        pretrends_power(SimpleNamespace(event_times=t, ref=-1))


# --------------------------------------------------------------------------------------------
# validation errors
# --------------------------------------------------------------------------------------------
def _kw(**over: Any) -> dict[str, Any]:
    lit = statspai_literal()
    kw: dict[str, Any] = {"betahat": lit["beta"], "sigma": lit["sigma"],
                          "event_times": lit["t"]}
    kw.update(over)
    return kw


@pytest.mark.parametrize(("over", "err", "match"), [
    ({"slope": 0.1, "delta": np.zeros(6)}, OptionError, "not both"),
    ({"betahat": None}, OptionError, "missing betahat"),
    ({"target_power": 1.0}, OptionError, r"target_power must be a number in \(0, 1\)"),
    ({"target_power": 0.05}, OptionError, "must exceed the size of the pre-test"),
    ({"alpha": 0}, OptionError, "alpha must be"),
    ({"threshold": -1.0}, OptionError, "threshold must be"),
    ({"seed": -1}, OptionError, "seed must be"),
    ({"seed": 1.5}, OptionError, "seed must be"),
    ({"ref": "a"}, OptionError, "ref must be an integer"),
    ({"slope": float("nan")}, OptionError, "slope must be"),
    ({"betahat": np.zeros(5)}, DataValidationError, "betahat has 5 elements"),
    ({"betahat": np.zeros((6, 1))}, DataValidationError, "one-dimensional"),
    ({"sigma": np.eye(5)}, DataValidationError, "6 x 6"),
    ({"event_times": [-4, -3, -2, 0.5, 1, 2]}, DataValidationError, "integer event times"),
    ({"event_times": [-4, -3, -3, 0, 1, 2]}, DataValidationError, "unique"),
    ({"event_times": [-4, -3, -1, 0, 1, 2]}, DataValidationError, "include the reference"),
    ({"event_times": [0, 1, 2, 3, 4, 5]}, DataValidationError, "no pre-period"),
    ({"betahat": [np.nan, 0, 0, 0, 0, 0]}, DataValidationError, "finite"),
    ({"delta": np.zeros(4)}, DataValidationError, "one value per event time"),
    ({"delta": [np.inf, 0, 0, 0, 0, 0]}, DataValidationError, "delta must be finite"),
])
def test_validation_errors(over: dict[str, Any], err: type[Exception], match: str) -> None:
    with pytest.raises(err, match=match):
        pretrends_power(**_kw(**over))


def test_validation_of_sigma() -> None:
    s = statspai_literal()["sigma"]
    asym = s.copy()
    asym[0, 1] += 1e-3
    with pytest.raises(DataValidationError, match="symmetric"):
        pretrends_power(**_kw(sigma=asym))
    neg = s.copy()
    neg[0, 0] = -1.0
    with pytest.raises(DataValidationError, match="positive variances"):
        pretrends_power(**_kw(sigma=neg))
    indef = s.copy()
    indef[0, 1] = indef[1, 0] = 0.05  # |corr| > 1
    with pytest.raises(DataValidationError, match="positive semi-definite"):
        pretrends_power(**_kw(sigma=indef))
    sing = s.copy()
    sing[1, :3] = sing[:3, 1] = sing[0, :3] * np.sqrt(s[1, 1] / s[0, 0])
    sing[1, 1] = s[1, 1]
    sing[1, 3:] = sing[3:, 1] = sing[0, 3:] * np.sqrt(s[1, 1] / s[0, 0])
    with pytest.raises(DataValidationError, match="singular"):
        pretrends_power(**_kw(sigma=sing))
    obj = SimpleNamespace(event_times=[-2, 0], coef=[0.0, 0.0], vcov=np.eye(2), ref=-1)
    with pytest.raises(OptionError, match="not both"):
        pretrends_power(obj, betahat=[0.0, 0.0])


# --------------------------------------------------------------------------------------------
# the result contract (as tests/test_result_contract.py)
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def res(he_wang: dict[str, np.ndarray]) -> PretrendsPowerResult:
    return pretrends_power(betahat=he_wang["beta"], sigma=he_wang["sigma"],
                           event_times=he_wang["t"], slope=0.05)


def test_schema_and_views(res: PretrendsPowerResult) -> None:
    t = res.tidy()
    assert isinstance(res, ResultMixin)
    assert tuple(t.columns[: len(TIDY_COLUMNS)]) == TIDY_COLUMNS
    assert list(t.columns[len(TIDY_COLUMNS):]) == [
        "event_time", "period", "hypothesized_trend", "mean_after_pretest",
        "bias_after_pretest"]
    assert len(t) == 7 and t["term"].is_unique
    for view in (res.summary(), res.to_markdown(), res.to_latex(), repr(res)):
        assert isinstance(view, str) and view
    assert "Power against the trend: 0." in res.summary()
    np.testing.assert_allclose(res.params.to_numpy(), t["estimate"].to_numpy())
    np.testing.assert_allclose(res.std_errors.to_numpy(), t["std_error"].to_numpy())
    assert list(res.conf_int().columns) == ["conf_low", "conf_high"]
    np.testing.assert_allclose(t["conf_high"] - t["estimate"], 1.96 * t["std_error"])
    pt = res.power_table()
    assert len(pt) == 1 and pt.loc[0, "power"] == res.power
    b = res.bias()
    assert list(b["event_time"]) == [0, 1, 2, 3]
    np.testing.assert_allclose(b["bias_unconditional"], 0.05 * (b["event_time"] + 1))


def test_sentence_in_plain_words(res: PretrendsPowerResult) -> None:
    s = res.sentence()
    assert s.startswith("A linear trend of slope 0.05 per period (zero in period -1) would "
                        "have been detected by the pre-test")
    assert f"with probability {res.power:.2f}." in s
    assert "biased by" in s
    u = pretrends_power(**_kw(delta=np.linspace(-0.1, 0.1, 6)))
    assert u.sentence().startswith("The hypothesised trend would have been detected")


def test_plot(res: PretrendsPowerResult) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = res.plot()
    assert len(ax.lines) >= 3
    plt.close("all")


def test_read_only_all_the_way_down(res: PretrendsPowerResult) -> None:
    ref = res.tidy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.power = 0.0  # type: ignore[misc]
    for f in dataclasses.fields(res):
        v = getattr(res, f.name)
        if isinstance(v, np.ndarray) and v.size:
            with pytest.raises(ValueError, match="read-only"):
                v.flat[0] = v.flat[0]
        assert not isinstance(v, dict), f.name
    t = res.tidy()
    t.iloc[0, 1] = 1e9
    pd.testing.assert_frame_equal(res.tidy(), ref)
    with pytest.raises(TypeError):
        res.provenance.settings["x"] = 1  # type: ignore[index]


def test_provenance_and_determinism(he_wang: dict[str, np.ndarray],
                                    res: PretrendsPowerResult) -> None:
    p = res.provenance
    assert p.version == la.__version__ and p.estimator == "pretrends_power"
    assert p.seed == 0 and p.settings["threshold"] == 1.96 and p.settings["slope"] == 0.05
    again = pretrends_power(betahat=he_wang["beta"], sigma=he_wang["sigma"],
                            event_times=he_wang["t"], slope=0.05)
    pd.testing.assert_frame_equal(again.tidy(), res.tidy())
    pd.testing.assert_frame_equal(again.power_table(), res.power_table())
    assert again.provenance == p and repr(again) == repr(res)
    assert again.summary() == res.summary()
    other = pretrends_power(betahat=he_wang["beta"] + 0.01, sigma=he_wang["sigma"],
                            event_times=he_wang["t"], slope=0.05)
    assert other.provenance.input_hash != p.input_hash


def test_pickle_and_save_load_round_trip(res: PretrendsPowerResult, tmp_path: Path) -> None:
    back = pickle.loads(pickle.dumps(res))
    pd.testing.assert_frame_equal(back.tidy(), res.tidy())
    assert back.power == res.power
    path = res.save(tmp_path / "r.laborai")
    with zipfile.ZipFile(path) as zf:
        assert "result.json" in zf.namelist()
        assert not any(n.endswith((".pkl", ".pickle")) for n in zf.namelist())
    loaded = type(res).load(path)
    assert type(loaded) is PretrendsPowerResult
    pd.testing.assert_frame_equal(loaded.tidy(), res.tidy())
    assert loaded.provenance == res.provenance
    for f in dataclasses.fields(res):
        a, b = getattr(res, f.name), getattr(loaded, f.name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype, f.name
            np.testing.assert_array_equal(a, b)
            assert not b.flags.writeable
        else:
            assert a == b or (isinstance(a, float) and np.isnan(a) and np.isnan(b)), f.name
    assert la.did.load(path).tidy().equals(res.tidy())
