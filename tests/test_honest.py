"""Tests of laborai.did.honest (Rambachan & Roth 2023 sensitivity analysis).

Reference numbers: the Medicaid-expansion example of the HonestDiD README
($LABORAI_DATA_DIR/reference/honestdid/ehec_data.csv, see reference/README.md).
"""

from __future__ import annotations

import math
import types
import warnings
from decimal import Decimal

import matplotlib
import numpy as np
import pandas as pd
import pytest
from _shared import DATA_DIR
from scipy import optimize, stats

import laborai as la
from laborai.did import _honest_kernels as hk
from laborai.errors import DataValidationError, OptionError

matplotlib.use("Agg")

EHEC = DATA_DIR / "reference" / "honestdid" / "ehec_data.csv"

SD_M = [0.0, 0.01, 0.02, 0.03, 0.04, 0.05]
SD_REF = [("0.0259", "0.0607"), ("0.0132", "0.0787"), ("0.00286", "0.0907"),
          ("-0.00714", "0.101"), ("-0.0171", "0.111"), ("-0.0271", "0.121")]
RM_MBAR = [0.5, 1.0, 1.5, 2.0]
RM_REF = [("0.0240", "0.0672"), ("0.0170", "0.0720"), ("0.00824", "0.0797"),
          ("-0.000916", "0.0881")]
RM_REF_OLD = [("0.0241", "0.0673"), ("0.0171", "0.0720"), ("0.00859", "0.0796"),
              ("-0.00107", "0.0883")]


def half_unit(s: str) -> float:
    """Half a unit of the last printed digit of a published number."""
    exp = Decimal(s).as_tuple().exponent
    assert isinstance(exp, int)
    return 0.5 * 10.0 ** exp


@pytest.fixture(scope="module")
def medicaid() -> types.SimpleNamespace:
    """The README event study, run with pyfixest (fails, not skips, without the data)."""
    import pyfixest as pf

    df = pd.read_csv(EHEC)
    d = df[(df["year"] < 2016) & ~(df["yexp2"] == 2015)].copy()
    d["D"] = (d["yexp2"] == 2014).astype(int)
    fit = pf.feols("dins ~ i(year, D, ref=2013) | stfips + year", d, vcov={"CRV1": "stfips"})
    coef = fit.coef()
    years = [int(str(name).split("::")[1].split(":")[0]) for name in coef.index]
    return types.SimpleNamespace(event_times=np.array(years), coef=coef.to_numpy(),
                                 vcov=np.asarray(fit._vcov, dtype=float), ref=2013)


@pytest.fixture(scope="module")
def sd_result(medicaid):
    return la.did.honest(medicaid, method="smoothness", grid=SD_M)


@pytest.fixture(scope="module")
def rm_result(medicaid):
    return la.did.honest(medicaid, method="relative_magnitude", grid=RM_MBAR)


# --------------------------------------------------------------------------------------------
# Parity with the HonestDiD README
# --------------------------------------------------------------------------------------------
def test_event_study_matches_readme(medicaid):
    assert medicaid.event_times.tolist() == [2008, 2009, 2010, 2011, 2012, 2014, 2015]
    pre, post = medicaid.coef[:5], medicaid.coef[5:]
    assert np.all(np.abs(pre) < 0.012)
    assert post[0] == pytest.approx(0.046, abs=1e-3)
    assert post[1] == pytest.approx(0.069, abs=1e-3)


def test_smoothness_flci_parity(sd_result):
    t = sd_result.tidy()
    rob = t[t["method"] == "smoothness"]
    assert rob["m"].tolist() == SD_M
    devs = []
    for (lo_s, hi_s), lo, hi in zip(SD_REF, rob["conf_low"], rob["conf_high"], strict=True):
        for ref_s, got in ((lo_s, lo), (hi_s, hi)):
            dev = abs(got - float(ref_s))
            devs.append(dev)
            assert dev <= 1e-3
            # to the published digit (R simulates the folded-normal quantile with 1e6 draws,
            # hence a 1e-4 allowance on top of the rounding of the printed number)
            assert dev <= half_unit(ref_s) + 1e-4, (ref_s, got)
    assert max(devs) < 3e-4


def test_relative_magnitudes_parity(rm_result):
    t = rm_result.tidy()
    rob = t[t["method"] == "relative_magnitude"]
    assert rob["m"].tolist() == RM_MBAR
    for refs in (RM_REF, RM_REF_OLD):
        for (lo_s, hi_s), lo, hi in zip(refs, rob["conf_low"], rob["conf_high"], strict=True):
            assert abs(lo - float(lo_s)) <= 2e-3
            assert abs(hi - float(hi_s)) <= 2e-3
    # against the current README the refined ends are within one theta-grid step (the R
    # package reports the extreme accepted grid points, 40 sd / 999 apart)
    step = 40 * rm_result.std_error / 999
    for (lo_s, hi_s), lo, hi in zip(RM_REF, rob["conf_low"], rob["conf_high"], strict=True):
        assert abs(lo - float(lo_s)) <= step + half_unit(lo_s)
        assert abs(hi - float(hi_s)) <= step + half_unit(hi_s)


def test_relative_magnitudes_grid_mode_reproduces_readme_digits(medicaid):
    # R's convention (extreme accepted points of the 1000-point grid on +/- 20 sd) with an
    # accurately simulated least-favourable critical value gives the README digits.
    res = la.did.honest(medicaid, grid=RM_MBAR, refine=False, n_sim=100_000)
    rob = res.tidy().iloc[1:]
    for (lo_s, hi_s), lo, hi in zip(RM_REF, rob["conf_low"], rob["conf_high"], strict=True):
        assert abs(lo - float(lo_s)) <= half_unit(lo_s)
        assert abs(hi - float(hi_s)) <= half_unit(hi_s)


def test_breakdown_values(sd_result, rm_result, medicaid):
    # The published tables bracket the breakdown values: the SD interval excludes 0 at
    # M = 0.02 and covers it at 0.03; the RM interval excludes 0 at Mbar = 1.5 and covers it at 2.
    bd_sd = sd_result.breakdown()
    bd_rm = rm_result.breakdown()
    assert 0.02 < bd_sd < 0.03
    assert 1.5 < bd_rm < 2.0
    # and they are where the lower bound crosses zero
    below = la.did.honest(medicaid, method="smoothness", grid=[bd_sd * (1 - 1e-5)])
    above = la.did.honest(medicaid, method="smoothness", grid=[bd_sd * (1 + 1e-5)])
    assert below.conf_low[0] > 0 >= above.conf_low[0]
    below = la.did.honest(medicaid, grid=[bd_rm - 2e-3])
    above = la.did.honest(medicaid, grid=[bd_rm + 2e-3])
    assert below.conf_low[0] > 0 >= above.conf_low[0]


# --------------------------------------------------------------------------------------------
# Independent checks of the FLCI kernel
# --------------------------------------------------------------------------------------------
def test_folded_normal_cv_matches_noncentral_chi2():
    for t in (0.0, 0.3, 1.0, 2.5, 8.0):
        for alpha in (0.05, 0.1):
            expected = math.sqrt(stats.ncx2.ppf(1 - alpha, 1, t * t)) if t > 0 else \
                stats.norm.ppf(1 - alpha / 2)
            assert hk.folded_normal_cv(t, alpha) == pytest.approx(expected, rel=1e-7)


def _lp_worst_bias(c: np.ndarray, n_pre: int, n_post: int, m: float) -> float:
    """sup of c' delta over Delta^SD(m) by a direct linear programme over delta."""
    n = n_pre + n_post
    periods = list(range(-n_pre, 0)) + list(range(1, n_post + 1))
    col = {p: j for j, p in enumerate(periods)}
    rows = []
    for centre in range(-n_pre + 1, n_post):
        r = np.zeros(n)
        for p, w in ((centre - 1, 1.0), (centre, -2.0), (centre + 1, 1.0)):
            if p in col:
                r[col[p]] += w
        rows.append(r)
    a = np.vstack(rows)
    res = optimize.linprog(-c, A_ub=np.vstack([a, -a]), b_ub=np.full(2 * len(rows), m),
                           bounds=[(None, None)] * n, method="highs")
    assert res.status == 0
    return -res.fun


def test_flci_bias_and_length_are_consistent(medicaid):
    b, s = medicaid.coef, medicaid.vcov
    for m in (0.005, 0.01, 0.03):
        r = hk.flci(b, s, 5, 2, np.array([1.0, 0.0]), m, 0.05)
        assert r.weights[5:].tolist() == [1.0, 0.0]
        assert _lp_worst_bias(r.weights, 5, 2, m) == pytest.approx(r.max_bias, rel=1e-7)
        assert math.sqrt(r.weights @ s @ r.weights) == pytest.approx(r.sd, rel=1e-10)
        assert r.half_length == pytest.approx(r.sd * hk.folded_normal_cv(r.max_bias / r.sd, 0.05))
        # optimality: no random perturbation of the pre-period weights (keeping c't = 0)
        # gives a shorter interval
        rng = np.random.default_rng(1)
        t_pre = np.arange(-5, 0.0)
        for _ in range(50):
            e = rng.normal(size=5) * 0.02
            e -= t_pre * (e @ t_pre) / (t_pre @ t_pre)
            c = r.weights.copy()
            c[:5] += e
            sd = math.sqrt(c @ s @ c)
            bias = _lp_worst_bias(c, 5, 2, m)
            assert sd * hk.folded_normal_cv(bias / sd, 0.05) >= r.half_length - 1e-9


def test_flci_at_zero_is_min_variance_linear_extrapolation(medicaid, sd_result):
    # M = 0: Delta^SD(0) is the set of linear trends; the FLCI is the minimum-variance
    # estimator l'beta_post + w'beta_pre among those unbiased for every linear trend.
    b, s = medicaid.coef, medicaid.vcov
    t = np.array([-5, -4, -3, -2, -1, 1, 2], dtype=float)
    # minimise c' S c subject to c_post = (1, 0) and c't = 0 (KKT system)
    e = np.zeros((3, 7))
    e[0, 5] = e[1, 6] = 1.0
    e[2] = t
    kkt = np.block([[2 * s, e.T], [e, np.zeros((3, 3))]])
    sol = np.linalg.solve(kkt, np.r_[np.zeros(7), 1.0, 0.0, 0.0])
    c = sol[:7]
    half = stats.norm.ppf(0.975) * math.sqrt(c @ s @ c)
    assert sd_result.conf_low[0] == pytest.approx(c @ b - half, abs=1e-10)
    assert sd_result.conf_high[0] == pytest.approx(c @ b + half, abs=1e-10)


def test_rm_constraints_define_the_restriction():
    rng = np.random.default_rng(3)
    n_pre, n_post, mbar = 4, 3, 1.5
    for _ in range(300):
        delta = rng.normal(size=n_pre + n_post)
        full = np.r_[delta[:n_pre], 0.0, delta[n_pre:]]
        diffs = np.diff(full)
        in_rm = np.max(np.abs(diffs[n_pre:])) <= mbar * np.max(np.abs(diffs[:n_pre]))
        in_union = any(
            np.all(hk.rm_constraints(n_pre, n_post, mbar, s, pos) @ delta <= 1e-12)
            for s in range(-(n_pre - 1), 1) for pos in (True, False)
        )
        assert in_rm == in_union


# --------------------------------------------------------------------------------------------
# Contracts: shapes, options, invariance, determinism, views
# --------------------------------------------------------------------------------------------
def test_tidy_columns_and_original_row(rm_result, medicaid):
    t = rm_result.tidy()
    assert list(t.columns) == ["term", "estimate", "std_error", "statistic", "p_value",
                               "conf_low", "conf_high", "method", "m", "ci_method"]
    orig = t.iloc[0]
    assert orig["method"] == "original" and math.isnan(orig["m"])
    se = math.sqrt(medicaid.vcov[5, 5])
    assert orig["estimate"] == pytest.approx(medicaid.coef[5], abs=1e-15)
    assert orig["std_error"] == pytest.approx(se, rel=1e-12)
    assert orig["conf_low"] == pytest.approx(medicaid.coef[5] - stats.norm.ppf(0.975) * se)
    assert t["term"].unique().tolist() == ["event_time::2014"]
    assert t.iloc[1:]["estimate"].isna().all()
    no_orig = la.did.honest(medicaid, grid=[1.0], return_original=False)
    assert no_orig.tidy()["method"].tolist() == ["relative_magnitude"]


def test_intervals_widen_with_the_sensitivity_parameter(sd_result, rm_result):
    for res in (sd_result, rm_result):
        lo, hi = np.array(res.conf_low), np.array(res.conf_high)
        assert np.all(np.diff(lo) < 0) and np.all(np.diff(hi) > 0)


def test_direct_arrays_equal_event_study_object(medicaid, rm_result):
    res = la.did.honest(betahat=medicaid.coef, sigma=medicaid.vcov, num_pre_periods=5,
                        num_post_periods=2, grid=RM_MBAR)
    assert res.conf_low == rm_result.conf_low and res.conf_high == rm_result.conf_high
    assert res.term == "theta"


def test_inputs_not_mutated_and_deterministic(medicaid):
    b0, v0 = medicaid.coef.copy(), medicaid.vcov.copy()
    r1 = la.did.honest(medicaid, grid=[1.0])
    r2 = la.did.honest(medicaid, grid=[1.0])
    np.testing.assert_array_equal(medicaid.coef, b0)
    np.testing.assert_array_equal(medicaid.vcov, v0)
    pd.testing.assert_frame_equal(r1.tidy(), r2.tidy())
    assert repr(r1) == ("HonestResult(method='relative_magnitude', ci_method='C-LF', n_m=1, "
                        "alpha=0.05)")
    assert r1.provenance == r2.provenance
    assert r1.provenance.seed == 0 and len(r1.provenance.input_hash) == 64
    r3 = la.did.honest(medicaid, grid=[1.0], seed=7)
    assert r3.conf_low[0] == pytest.approx(r1.conf_low[0], abs=1e-3)


def test_other_options_run(medicaid):
    cond = la.did.honest(medicaid, grid=[0.5, 1.0], ci_method="Conditional")
    lf = la.did.honest(medicaid, grid=[0.5, 1.0])
    np.testing.assert_allclose(cond.conf_low, lf.conf_low, atol=2e-3)
    np.testing.assert_allclose(cond.conf_high, lf.conf_high, atol=2e-3)
    # second post-period, and the average of both
    second = la.did.honest(medicaid, method="smoothness", grid=[0.0], l_vec=[0, 1])
    assert second.term == "event_time::2015"
    assert second.conf_low[0] < medicaid.coef[6] + 0.02
    avg = la.did.honest(medicaid, grid=[1.0], l_vec=[0.5, 0.5])
    assert avg.conf_low[0] < 0.5 * (medicaid.coef[5] + medicaid.coef[6]) < avg.conf_high[0]
    # default grids
    assert la.did.honest(medicaid).m == (0.5, 1.0, 1.5, 2.0)
    sd_default = la.did.honest(medicaid, method="smoothness")
    assert len(sd_default.m) == 10 and sd_default.m[0] == 0.0 and sd_default.m[-1] > 0


def test_single_post_period_and_many_post_periods():
    rng = np.random.default_rng(0)
    n_pre, n_post = 3, 1
    a = rng.normal(size=(4, 4))
    sigma = (a @ a.T + 4 * np.eye(4)) * 1e-4
    beta = np.array([0.002, -0.001, 0.001, 0.05])
    for method in ("relative_magnitude", "smoothness"):
        res = la.did.honest(betahat=beta, sigma=sigma, num_pre_periods=n_pre,
                            num_post_periods=n_post, method=method, grid=[0.0, 1.0])
        assert np.all(np.array(res.conf_low) < 0.05) and np.all(np.array(res.conf_high) > 0.05)
    a = rng.normal(size=(7, 7))
    sigma = (a @ a.T + 7 * np.eye(7)) * 1e-4
    beta = np.r_[0.001, -0.002, 0.0, 0.04, 0.05, 0.06, 0.07]
    res = la.did.honest(betahat=beta, sigma=sigma, num_pre_periods=3, num_post_periods=4,
                        grid=[1.0], l_vec=[0.25] * 4)
    assert res.conf_low[0] < 0.055 < res.conf_high[0]


def test_views(rm_result):
    md = rm_result.to_markdown()
    assert md.splitlines()[0].startswith("| term | estimate |")
    assert r"relative\_magnitude" in rm_result.to_latex()
    assert "Delta^RM(Mbar)" in rm_result.summary()
    ax = rm_result.plot()
    assert ax.get_xlabel() == "Mbar"
    assert len(ax.collections) >= 3  # robust intervals, their caps, the original interval
    import matplotlib.pyplot as plt

    plt.close(ax.figure)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------
@pytest.fixture
def arrays(medicaid):
    return {"betahat": medicaid.coef, "sigma": medicaid.vcov, "num_pre_periods": 5,
            "num_post_periods": 2}


def test_bad_method(arrays):
    with pytest.raises(OptionError, match=r"method must be one of 'relative_magnitude', "
                                          r"'smoothness'; got 'rm'"):
        la.did.honest(**arrays, method="rm")


def test_bad_ci_method(arrays):
    with pytest.raises(OptionError, match=r"ci_method must be one of 'FLCI' for "
                                          r"method='smoothness'; got 'C-LF'"):
        la.did.honest(**arrays, method="smoothness", ci_method="C-LF")


@pytest.mark.parametrize("grid", [[-0.5, 1.0], [], [float("nan")], [[1.0, 2.0]]])
def test_bad_grid(arrays, grid):
    with pytest.raises(OptionError, match=r"grid must be a non-empty one-dimensional list of "
                                          r"finite Mbar values >= 0; got"):
        la.did.honest(**arrays, grid=grid)


def test_shape_mismatches(arrays, medicaid):
    with pytest.raises(DataValidationError, match=r"betahat has 7 elements but "
                                                  r"num_pre_periods \+ num_post_periods = 4 \+ 2"):
        la.did.honest(**{**arrays, "num_pre_periods": 4})
    with pytest.raises(DataValidationError, match=r"sigma must be a 7 x 7 matrix matching "
                                                  r"betahat; got shape \(6, 6\)"):
        la.did.honest(**{**arrays, "sigma": medicaid.vcov[:6, :6]})
    with pytest.raises(OptionError, match=r"l_vec must hold 2 finite weights"):
        la.did.honest(**arrays, l_vec=[1.0, 0.0, 0.0])
    with pytest.raises(OptionError, match=r"not all zero; got \[0.0, 0.0\]"):
        la.did.honest(**arrays, l_vec=[0.0, 0.0])


def test_bad_sigma_and_inputs(arrays, medicaid):
    bad = medicaid.vcov.copy()
    bad[0, 1] += 1.0
    with pytest.raises(DataValidationError, match="sigma must be symmetric"):
        la.did.honest(**{**arrays, "sigma": bad})
    with pytest.raises(DataValidationError, match="positive semi-definite"):
        la.did.honest(**{**arrays, "sigma": -medicaid.vcov})
    with pytest.raises(OptionError, match="not both; got event_study_result and betahat"):
        la.did.honest(medicaid, betahat=medicaid.coef)
    with pytest.raises(OptionError, match="missing sigma, num_pre_periods"):
        la.did.honest(betahat=medicaid.coef)
    with pytest.raises(OptionError, match=r"alpha must be a number strictly between 0 and 1; "
                                          r"got 1.5"):
        la.did.honest(**arrays, alpha=1.5)
    with pytest.raises(DataValidationError, match=r"num_pre_periods must be an integer >= 1"):
        la.did.honest(betahat=medicaid.coef[5:], sigma=medicaid.vcov[5:, 5:],
                      num_pre_periods=0, num_post_periods=2)
    with pytest.raises(OptionError, match=r"theta_bounds must be finite with low < high"):
        la.did.honest(**arrays, theta_bounds=(1.0, -1.0))


def test_event_times_must_be_consecutive(medicaid):
    gap = types.SimpleNamespace(event_times=np.array([2007, 2009, 2010, 2011, 2012, 2014, 2015]),
                                coef=medicaid.coef, vcov=medicaid.vcov, ref=2013)
    with pytest.raises(DataValidationError, match=r"must be sorted, consecutive integers on "
                                                  r"both sides of the reference period 2013"):
        la.did.honest(gap)
    with pytest.raises(OptionError, match="lacks vcov, ref"):
        la.did.honest(types.SimpleNamespace(event_times=[1], coef=[1.0]))


def test_end_to_end_with_laborai_event_study(medicaid, rm_result, sd_result):
    d = pd.read_csv(EHEC)
    d = d[(d["year"] < 2016) & ((d["yexp2"] != 2015) | d["yexp2"].isna())].copy()
    d["D"] = (d["yexp2"] == 2014).astype(int)
    # analytic CRV1 as in the R reference (the default with 43 clusters is the wild bootstrap)
    with pytest.warns(la.SmallSampleWarning, match="CRV1 with 43 clusters"):
        es = la.did.event_study(d, yname="dins", idname="stfips", tname="year", dname="D",
                                event_date=2014, window=(-6, 1), ref=-1, cluster="stfips",
                                n_boot=1000, seed=1, vcov="cluster")
    assert list(es.event_times) == [-6, -5, -4, -3, -2, 0, 1]
    rm = la.did.honest(es, grid=RM_MBAR)
    sd = la.did.honest(es, method="smoothness", grid=SD_M)
    assert rm.term == "event_time::0" and rm.num_pre_periods == 5
    np.testing.assert_allclose(rm.conf_low, rm_result.conf_low, atol=1e-6)
    np.testing.assert_allclose(rm.conf_high, rm_result.conf_high, atol=1e-6)
    np.testing.assert_allclose(sd.conf_low, sd_result.conf_low, atol=1e-8)
    np.testing.assert_allclose(sd.conf_high, sd_result.conf_high, atol=1e-8)


def test_open_confidence_set_warns(arrays):
    # a tiny theta grid far inside the confidence set is widened, then reported as open
    with pytest.warns(la.LaborAIWarning, match="reaches the end of the theta grid"):
        res = la.did.honest(**arrays, grid=[2.0], theta_bounds=(0.04, 0.0401), grid_points=5)
    assert res.conf_low[0] == -np.inf and res.conf_high[0] == np.inf


# --------------------------------------------------------------------------------------------
# Recovery of a known truth: coverage at the least-favourable point of the restriction
# --------------------------------------------------------------------------------------------
def test_flci_coverage_at_worst_case_bias(medicaid):
    # The FLCI weights do not depend on betahat, so one call gives the interval for every draw.
    # Put delta at the worst case for those weights: coverage is then exactly 1 - alpha.
    s, m, theta = medicaid.vcov, 0.01, 0.04
    r = hk.flci(np.zeros(7), s, 5, 2, np.array([1.0, 0.0]), m, 0.05)
    n = 7
    rows = []
    for centre in range(-4, 2):
        periods = [-5, -4, -3, -2, -1, 1, 2]
        row = np.zeros(n)
        for p, w in ((centre - 1, 1.0), (centre, -2.0), (centre + 1, 1.0)):
            if p in periods:
                row[periods.index(p)] += w
        rows.append(row)
    a = np.vstack(rows)
    lp = optimize.linprog(-r.weights, A_ub=np.vstack([a, -a]), b_ub=np.full(12, m),
                          bounds=[(None, None)] * n, method="highs")
    delta = lp.x
    beta = delta + np.r_[np.zeros(5), theta, 0.03]
    draws = np.random.default_rng(11).multivariate_normal(beta, s, size=40_000)
    centre = draws @ r.weights
    covered = np.mean((centre - r.half_length <= theta) & (theta <= centre + r.half_length))
    assert covered == pytest.approx(0.95, abs=4 * math.sqrt(0.95 * 0.05 / 40_000))


def test_relative_magnitude_coverage_at_boundary(medicaid):
    # delta: a linear pre-trend (all pre-period changes 0.002) continued into the post-periods
    # with changes Mbar * 0.002 -- on the boundary of Delta^RM(Mbar), so theta is the lower end
    # of the identified set. The C-LF interval is uniformly valid: coverage >= 95% (up to
    # simulation error: 300 draws, 2.5 standard errors).
    s, mbar, theta = medicaid.vcov, 1.0, 0.04
    t = np.array([-5, -4, -3, -2, -1, 1, 2], dtype=float)
    delta = np.where(t < 0, 0.002 * t, mbar * 0.002 * t)
    beta = delta + np.r_[np.zeros(5), theta, 0.03]
    draws = np.random.default_rng(5).multivariate_normal(beta, s, size=300)
    hits = 0
    for b in draws:
        res = la.did.honest(betahat=b, sigma=s, num_pre_periods=5, num_post_periods=2,
                            grid=[mbar], n_sim=2000)
        hits += res.conf_low[0] <= theta <= res.conf_high[0]
    assert hits / 300 >= 0.95 - 2.5 * math.sqrt(0.95 * 0.05 / 300)


# --------------------------------------------------------------------------------------------
# Dual vertices in closed form, many post-periods, breakdown by root finding (issue 16)
# --------------------------------------------------------------------------------------------
def _rm_moments(n_pre, n_post, mbar, s, positive, l_vec):
    a = hk.rm_constraints(n_pre, n_post, mbar, s, positive)
    rows = np.arange(a.shape[0] - 2 * n_post, a.shape[0]) if n_post > 1 else np.arange(a.shape[0])
    _, _, vt = np.linalg.svd(np.asarray(l_vec, dtype=float)[None, :])
    return a[rows][:, n_pre:] @ vt[1:].T


def _sorted_rows(v):
    return v[np.lexsort(np.round(v, 9).T[::-1])]


@pytest.mark.parametrize("n_post", [1, 2, 3, 5, 7])
def test_closed_form_vertices_equal_the_basis_enumeration(n_post):
    # the closed-form extreme rays of the paired post-period moments, scaled by sd, are
    # exactly the vertices found by enumerating every basis of the dual polytope
    rng = np.random.default_rng(n_post)
    for n_pre in (1, 3):
        for mbar, s, positive in ((0.0, 0, True), (0.5, -(n_pre - 1), False), (2.0, 0, False)):
            for lv in (np.eye(n_post)[0], np.full(n_post, 1 / n_post), rng.normal(size=n_post)):
                x = _rm_moments(n_pre, n_post, mbar, s, positive, lv)
                sd = rng.uniform(0.5, 2.0, size=x.shape[0])
                fast = hk._dual_vertices(x, sd)
                q = hk._column_space(x)
                rays = hk._enumerated_rays(x, q)
                slow = rays / (rays @ sd)[:, None]
                assert fast.shape == slow.shape
                np.testing.assert_allclose(_sorted_rows(fast), _sorted_rows(slow), atol=1e-12)
                if n_post > 1:
                    assert hk._paired_rays(x) is not None  # the closed form applies
    # a matrix without the paired structure goes to the enumeration
    assert hk._paired_rays(rng.normal(size=(6, 2))) is None


def test_lp_value_from_vertices_with_twelve_post_periods():
    # 12 post-periods: C(24, 12) = 2.7 million bases, refused before; the vertex maximum equals
    # the linear programme min {eta : y - X nu <= eta sd} solved directly (HiGHS)
    rng = np.random.default_rng(4)
    x = _rm_moments(4, 12, 1.0, -1, True, np.full(12, 1 / 12))
    sd = rng.uniform(0.5, 2.0, size=x.shape[0])
    verts = hk._dual_vertices(x, sd)
    assert verts.shape[0] == 12 + 2
    for _ in range(20):
        y = rng.normal(size=x.shape[0])
        k = x.shape[1]
        lp = optimize.linprog(np.r_[1.0, np.zeros(k)], A_ub=np.hstack([-sd[:, None], -x]),
                              b_ub=-y, bounds=[(None, None)] * (k + 1), method="highs")
        assert lp.status == 0
        assert (verts @ y).max() == pytest.approx(lp.fun, abs=1e-9)


def test_relative_magnitudes_with_twelve_post_periods():
    n_pre, n_post = 4, 12
    rng = np.random.default_rng(2)
    a = rng.normal(size=(16, 16))
    sigma = (a @ a.T / 16 + np.eye(16)) * 1e-4
    beta = np.r_[0.001, -0.002, 0.0, 0.001, 0.03 + 0.002 * np.arange(n_post)]
    res = la.did.honest(betahat=beta, sigma=sigma, num_pre_periods=n_pre,
                        num_post_periods=n_post, grid=[0.0, 0.5, 1.0],
                        l_vec=np.full(n_post, 1 / n_post))
    lows, highs = np.array(res.conf_low), np.array(res.conf_high)
    assert np.all(np.isfinite(lows)) and np.all(np.isfinite(highs))
    assert np.all(np.diff(lows) <= 1e-12) and np.all(np.diff(highs) >= -1e-12)  # nested in Mbar
    assert lows[0] < res.estimate < highs[0]
    bd = res.breakdown()
    assert 0.0 < bd < 1.0
    assert la.did.honest(betahat=beta, sigma=sigma, num_pre_periods=n_pre,
                         num_post_periods=n_post, grid=[bd - 1e-3],
                         l_vec=np.full(n_post, 1 / n_post)).conf_low[0] > 0


def _bisection_breakdown(res, tol):
    """The breakdown value by plain bisection (the algorithm used before issue 16)."""
    prob = res._problem

    def excludes(m):
        lo, hi = prob.ci(m)
        return bool(lo > 0 or hi < 0)

    lo, hi = 0.0, max(res.m)
    while excludes(hi):
        lo, hi = hi, 2 * hi
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if excludes(mid) else (lo, mid)
    return 0.5 * (lo + hi), hi


def test_breakdown_root_finding_agrees_with_bisection(sd_result, rm_result):
    # at the default tolerances the two agree within the tolerance
    for res, rel in ((sd_result, 1e-7), (rm_result, 1e-4)):
        ref, hi = _bisection_breakdown(res, rel * max(res.m))
        tol = rel * hi
        got = res.breakdown(tol=tol)
        assert abs(got - ref) <= tol, (got, ref, tol)
    with pytest.raises(OptionError, match="tol must be a positive finite number"):
        sd_result.breakdown(tol=-1.0)


def test_progress_prints_to_stderr_and_changes_nothing(arrays, capsys):
    quiet = la.did.honest(**arrays, grid=[0.5, 1.0])
    loud = la.did.honest(**arrays, grid=[0.5, 1.0], progress=True)
    err = capsys.readouterr().err
    assert "Mbar=0.5 done (1/2)" in err and "Mbar=1 done (2/2)" in err
    assert loud.conf_low == quiet.conf_low and loud.conf_high == quiet.conf_high
    assert loud.provenance == quiet.provenance
    with pytest.raises(OptionError, match="progress must be True or False; got 'yes'"):
        la.did.honest(**arrays, progress="yes")


# --------------------------------------------------------------------------------------------
# The exact FLCI frontier (issue 16 item 5): checked against generic SciPy solves
# --------------------------------------------------------------------------------------------
def _random_flci_problem(rng, kind):
    n_pre, n_post = int(rng.integers(2, 9)), int(rng.integers(1, 6))
    n = n_pre + n_post
    if kind == 0:
        a = rng.normal(size=(n, n))
        sigma = (a @ a.T / n + 0.1 * np.eye(n)) * 1e-4
    elif kind == 1:
        sigma = np.eye(n) * 1e-4  # ties in the bias rows are likelier here
    else:
        lags = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
        sigma = 1e-4 * 0.5 ** lags
    l_vec = (np.eye(n_post)[0], np.full(n_post, 1 / n_post), rng.normal(size=n_post))[kind]
    beta = rng.normal(size=n) * 0.01
    return beta, sigma, n_pre, n_post, l_vec


def test_folded_normal_cvs_vectorised_matches_scalar_and_ncx2():
    t = np.array([0.0, 1e-9, 0.01, 0.3, 1.0, 2.5, 8.0, 40.0])
    for alpha in (0.01, 0.05, 0.1, 0.3, 0.6):
        got = hk.folded_normal_cvs(t, alpha)
        scalar = np.array([hk.folded_normal_cv(x, alpha) for x in t])
        np.testing.assert_allclose(got, scalar, rtol=1e-13)
        for x, c in zip(t[t > 0], got[t > 0], strict=True):
            assert c == pytest.approx(math.sqrt(stats.ncx2.ppf(1 - alpha, 1, x * x)), rel=1e-7)


def test_folded_normal_cv_derivative_is_tanh():
    # the optimality condition along the frontier uses cv'(t) = tanh(t cv(t))
    for t in (0.2, 1.0, 3.0):
        h = 1e-6
        num = (hk.folded_normal_cv(t + h, 0.05) - hk.folded_normal_cv(t - h, 0.05)) / (2 * h)
        assert num == pytest.approx(math.tanh(t * hk.folded_normal_cv(t, 0.05)), rel=1e-6)


def _penalised_generic(prob, mu, z_start):
    """min_z var(z) / 2 + mu * bias(z) by SLSQP on the epigraph form (a generic solve)."""
    gc, g0, k = prob.g @ prob.cmat, prob.g @ prob.c0, prob.k
    nr = gc.shape[0]
    scale = 1.0 / prob.var(z_start)

    def obj(x):
        return scale * (0.5 * prob.var(x[:k]) + mu * x[k:].sum())

    cons = {"type": "ineq",
            "fun": lambda x: np.r_[x[k:] - gc @ x[:k] - g0, x[k:] + gc @ x[:k] + g0],
            "jac": lambda x: np.block([[-gc, np.eye(nr)], [gc, np.eye(nr)]])}
    x0 = np.r_[z_start, np.abs(gc @ z_start + g0) + 1e-3]
    res = optimize.minimize(obj, x0, method="SLSQP", constraints=[cons],
                            options={"ftol": 1e-15, "maxiter": 2000})
    return res.x[:k]


def test_flci_frontier_solves_the_penalised_problems():
    # every point of the piecewise-linear path minimises var / 2 + mu * bias, compared with a
    # generic solve from another start: inside segments, at knots and beyond the last knot
    rng = np.random.default_rng(16)
    for i in range(9):
        _, sigma, n_pre, n_post, l_vec = _random_flci_problem(rng, i % 3)
        prob, path = hk.flci_frontier(sigma, n_pre, n_post, l_vec)
        assert path is not None
        assert np.all(np.diff(path.mu) >= 0) and path.mu[0] == 0.0
        np.testing.assert_allclose(path.z[0], prob.min_variance(), atol=1e-10)
        assert prob.bias(path.z[-1]) == pytest.approx(prob.bias(prob.min_bias()), rel=1e-9)
        top = float(path.mu[-1]) if path.mu[-1] > 0 else 1e-4
        for mu in rng.uniform(0, 1.5 * top, size=4):
            z = path.at(mu)
            z_gen = _penalised_generic(prob, mu, prob.min_variance() + rng.normal(size=prob.k))
            f_path = 0.5 * prob.var(z) + mu * prob.bias(z)
            f_gen = 0.5 * prob.var(z_gen) + mu * prob.bias(z_gen)
            assert f_path <= f_gen * (1 + 1e-9), (i, mu)
            assert f_path >= f_gen * (1 - 1e-6)
            np.testing.assert_allclose(z, z_gen, atol=1e-4)


def test_flci_equals_the_generic_slsqp_solver_on_random_problems():
    # the exact frontier gives the same intervals as the generic solver (a bounded Brent search
    # over sd with one SLSQP solve per step, the method before issue 16 item 5), never longer
    rng = np.random.default_rng(5)
    for i in range(9):
        beta, sigma, n_pre, n_post, l_vec = _random_flci_problem(rng, i % 3)
        prob, _ = hk.flci_frontier(sigma, n_pre, n_post, l_vec)
        for m in (0.002, 0.01, 0.05):
            fast = hk.flci(beta, sigma, n_pre, n_post, l_vec, m, 0.05)
            slow = hk._flci_slsqp(prob, beta, m, 0.05)
            assert fast.half_length <= slow.half_length * (1 + 1e-12)
            assert fast.half_length == pytest.approx(slow.half_length, rel=1e-9)
            assert abs(fast.estimate - slow.estimate) <= 1e-4 * slow.half_length
            assert _lp_worst_bias(fast.weights, n_pre, n_post, m) == pytest.approx(
                fast.max_bias, rel=1e-7)


def test_flci_optimum_is_a_minimum_along_the_frontier(medicaid):
    # the half-length at the returned weights is below its value at nearby frontier points
    s = medicaid.vcov
    prob, path = hk.flci_frontier(s, 5, 2, np.array([1.0, 0.0]))
    for m in (0.005, 0.02):
        r = hk.flci(medicaid.coef, s, 5, 2, np.array([1.0, 0.0]), m, 0.05)
        for mu in np.linspace(0, 1.2 * path.mu[-1], 200):
            z = path.at(mu)
            sd = math.sqrt(prob.var(z))
            assert sd * hk.folded_normal_cv(m * prob.bias(z) / sd, 0.05) >= \
                r.half_length * (1 - 1e-13)


def test_flci_falls_back_to_the_generic_solver(medicaid, monkeypatch):
    b, s, lv = medicaid.coef, medicaid.vcov, np.array([1.0, 0.0])
    exact = hk.flci(b, s, 5, 2, lv, 0.02, 0.05)
    hk._FRONTIER_CACHE.clear()
    monkeypatch.setattr(hk, "_frontier_path", lambda prob: None)
    generic = hk.flci(b, s, 5, 2, lv, 0.02, 0.05)
    assert hk.flci_frontier(s, 5, 2, lv)[1] is None
    hk._FRONTIER_CACHE.clear()
    assert generic.half_length == pytest.approx(exact.half_length, rel=1e-9)
    assert generic.conf_low == pytest.approx(exact.conf_low, rel=1e-6)


def test_flci_frontier_is_cached_across_m(medicaid):
    hk._FRONTIER_CACHE.clear()
    s, lv = medicaid.vcov, np.array([1.0, 0.0])
    first = hk.flci_frontier(s, 5, 2, lv)
    again = hk.flci_frontier(s.copy(), 5, 2, lv.copy())
    assert again[0] is first[0] and again[1] is first[1]
    assert hk.flci_frontier(s, 5, 2, np.array([0.0, 1.0]))[1] is not first[1]
    assert not first[1].z.flags.writeable


def test_original_row_uses_the_event_studys_reference_distribution():
    """Under placebo inference over J control clusters the original interval is the event
    study's own pointwise one, on t(J - 1) -- not the normal (which covered 91-93%)."""
    rng = np.random.default_rng(3)
    rows = []
    for c in range(12):
        shock = rng.normal(0, 0.1, 12)
        for u in range(2):
            for t in range(12):
                rows.append({"unit": f"{c}-{u}", "cluster": f"k{c}", "t": t,
                             "event": 6.0 if c < 2 else np.nan,
                             "y": shock[t] + 0.1 * u + rng.normal(0, 0.05)})
    d = pd.DataFrame(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es = la.did.event_study(d, yname="y", idname="unit", tname="t", event_date="event",
                                cluster="cluster", window=(-3, 3), size=None)
        res = la.did.honest(es, method="smoothness", grid=[0.0])
    assert es.vcov_type == "placebo" and es.df_resid == 9.0  # 10 control clusters
    orig = res.tidy().iloc[0]
    pt = es.table.set_index("term").loc["event_time::0"]
    assert orig["conf_low"] == pytest.approx(pt["point_conf_low"], rel=1e-12)
    assert orig["conf_high"] == pytest.approx(pt["point_conf_high"], rel=1e-12)
    assert orig["p_value"] == pytest.approx(2 * stats.t.sf(abs(orig["statistic"]), 9.0))
    assert res.df == 9.0 and res.provenance.settings["original_df"] == 9.0
    direct = la.did.honest(betahat=es.coef, sigma=es.vcov, num_pre_periods=2,
                           num_post_periods=4, method="smoothness", grid=[0.0])
    assert direct.df is None and direct.tidy().iloc[0]["conf_low"] > orig["conf_low"]
