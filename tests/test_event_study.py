"""Tests of laborai.did.event_study: parity, binning, datetime periods, dose, bands, pre-test."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from _shared import DATA_DIR
from linearmodels.panel import PanelOLS
from scipy import stats

from laborai.did import TIDY_COLUMNS, EventStudyResult, event_study
from laborai.errors import DataValidationError, OptionError, SmallSampleWarning


@pytest.fixture(scope="module")
def ehec() -> pd.DataFrame:
    path = DATA_DIR / "reference" / "honestdid" / "ehec_data.csv"
    d = pd.read_csv(path)  # must fail (not skip) when the reference file is missing
    d = d[(d["year"] < 2016) & ((d["yexp2"] != 2015) | d["yexp2"].isna())].copy()
    d["D"] = (d["yexp2"] == 2014).astype(int)
    return d


def staggered(seed: int = 0, n_units: int = 40, n_periods: int = 14) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_periods)
    t = np.tile(np.arange(n_periods), n_units)
    cohort = np.array([4, 6, 8, 10, np.nan])[np.arange(n_units) % 5]
    ev = cohort[unit]
    rel = t - ev
    eff = np.where(np.isnan(rel) | (rel < 0), 0.0, 0.2 + 0.05 * np.nan_to_num(rel))
    dose = np.where(np.isnan(cohort), 0.0, rng.uniform(0.5, 1.5, n_units))[unit]
    y = rng.normal(size=n_units)[unit] + 0.1 * t + eff + rng.normal(scale=0.5, size=unit.size)
    return pd.DataFrame({"unit": unit, "t": t, "event": ev, "dose": dose, "y": y,
                         "treated": (~np.isnan(ev)).astype(int),
                         "cl": unit % 10, "w": rng.uniform(1, 2, n_units)[unit]})


def hand_dummies(df: pd.DataFrame, lo: int, hi: int, ref: int, dose: str | None = None
                 ) -> pd.DataFrame:
    """Independent construction of binned event-time dummies (integer periods)."""
    out = df.copy()
    names = []
    for k in range(lo, hi + 1):
        if k == ref:
            continue
        rel = out["t"] - out["event"]
        binned = rel.clip(lower=lo, upper=hi)
        col = ((binned == k) & out["event"].notna()).astype(float)
        if dose:
            col = col * out[dose]
        if col.abs().sum() > 0:
            name = f"e_m{-k}" if k < 0 else f"e_p{k}"
            out[name] = col
            names.append((k, name))
    return out, names


# ---------------------------------------------------------------- reference data parity


def test_ehec_parity_pyfixest(ehec):
    # analytic CRV1 explicitly (the default with 43 clusters is the wild bootstrap)
    with pytest.warns(SmallSampleWarning, match="CRV1 with 43 clusters"):
        r = event_study(ehec, yname="dins", idname="stfips", tname="year", dname="D",
                        event_date=2014, window=(-6, 1), ref=-1, cluster="stfips", seed=1,
                        vcov="cluster")
    assert r.vcov_type == "cluster"
    m = pf.feols("dins ~ i(year, D, ref=2013) | stfips + year", ehec, vcov={"CRV1": "stfips"})
    np.testing.assert_array_equal(r.event_times, [-6, -5, -4, -3, -2, 0, 1])
    np.testing.assert_allclose(r.coef, m.coef().to_numpy(), atol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(r.vcov)), m.se().to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(r.vcov, m._vcov, rtol=1e-6, atol=1e-14)
    # joint pre-trend test: Wald statistic as pyfixest; full rank (5 leads, 43 clusters), so
    # the Hotelling correction F = W (G - q) / (q (G - 1)) on F(q, G - q)
    R = np.eye(7)[:5]
    w = m.wald_test(R=R, distribution="chi2")
    W = float(w["statistic"])
    assert r.pretrend["wald"] == pytest.approx(W, rel=1e-8)
    assert r.pretrend["rank"] == 5
    assert r.pretrend["df1"] == 5 and r.pretrend["df2"] == 43 - 5
    F = W * (43 - 5) / (5 * (43 - 1))
    assert r.pretrend["distribution"] == "F"
    assert r.pretrend["statistic"] == pytest.approx(F, rel=1e-8)
    assert r.pretrend["p_value"] == pytest.approx(float(stats.f.sf(F, 5, 43 - 5)), rel=1e-8)
    assert r.ref == -1
    assert isinstance(r, EventStudyResult)


def test_ehec_parity_linearmodels_weighted(ehec):
    r = event_study(ehec, yname="dins", idname="stfips", tname="year", dname="D",
                    event_date=2014, window=(-6, 1), weights="W", seed=1)
    d = ehec.copy()
    cols = []
    for y in sorted(d["year"].unique()):
        if y != 2013:
            d[f"y{y}"] = ((d["year"] == y) & (d["D"] == 1)).astype(float)
            cols.append(f"y{y}")
    p = d.set_index(["stfips", "year"])
    lm = PanelOLS(p["dins"], p[cols], entity_effects=True, time_effects=True,
                  weights=p["W"]).fit(cov_type="clustered", cluster_entity=True)
    np.testing.assert_allclose(r.coef, lm.params.to_numpy(), atol=1e-8)


# ---------------------------------------------------------------- binning, dose, datetime


@pytest.mark.parametrize("dose", [None, "dose"])
def test_binned_endpoints_match_hand_built(dose):
    df = staggered()
    lo, hi = -3, 2
    with pytest.warns(SmallSampleWarning, match="CRV1 with 10 clusters"):
        r = event_study(df, yname="y", idname="unit", tname="t", dname=dose,
                        event_date="event", window=(lo, hi), ref=-1, cluster="cl", seed=0,
                        vcov="cluster")
    hand, names = hand_dummies(df, lo, hi, -1, dose)
    fml = "y ~ " + " + ".join(n for _, n in names) + " | unit + t"
    m = pf.feols(fml, hand, vcov={"CRV1": "cl"})
    np.testing.assert_array_equal(r.event_times, [k for k, _ in names])
    np.testing.assert_allclose(r.coef, m.coef().to_numpy(), atol=1e-8)
    np.testing.assert_allclose(r.tidy()["std_error"], m.se().to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(r.tidy()["p_value"], m.pvalue().to_numpy(), rtol=1e-6, atol=1e-14)


def test_datetime_periods_equal_integer_periods():
    df = staggered(seed=4)
    months = pd.date_range("2021-01-01", periods=df["t"].max() + 1, freq="MS")
    dt = df.assign(t=months[df["t"].to_numpy()],
                   event=pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]"))
    ok = df["event"].notna()
    dt.loc[ok, "event"] = months[df.loc[ok, "event"].astype(int).to_numpy()]
    a = event_study(df, yname="y", idname="unit", tname="t", event_date="event",
                    window=(-4, 4), seed=3)
    b = event_study(dt, yname="y", idname="unit", tname="t", event_date="event",
                    window=(-4, 4), seed=3)
    np.testing.assert_array_equal(a.event_times, b.event_times)
    np.testing.assert_allclose(a.coef, b.coef, atol=1e-12)
    np.testing.assert_allclose(a.vcov, b.vcov, atol=1e-14)
    assert a.crit_sup_t == b.crit_sup_t
    # a scalar common date between grid points maps to the next period
    c = event_study(dt, yname="y", idname="unit", tname="t", dname="treated",
                    event_date=pd.Timestamp("2021-06-15"), window=(-3, 3), seed=1)
    d = event_study(df, yname="y", idname="unit", tname="t", dname="treated",
                    event_date=6, window=(-3, 3), seed=1)
    np.testing.assert_allclose(c.coef, d.coef, atol=1e-12)


def test_empty_event_times_are_reported():
    df = staggered()
    r = event_study(df, yname="y", idname="unit", tname="t", event_date="event",
                    window=(-12, 12), seed=0)
    # cohorts 4..10 in periods 0..13: event times -10..9 exist, -12/-11 and 10..12 do not
    assert r.dropped_event_times == (-12, -11, 10, 11, 12)
    assert r.event_times.min() == -10 and r.event_times.max() == 9
    assert "Not estimable" in r.summary()


# ---------------------------------------------------------------- bands and contract


def _analytic(df: pd.DataFrame, **kw: object) -> EventStudyResult:
    """event_study with analytic CRV1 inference (40 unit clusters: warns, as it should)."""
    with pytest.warns(SmallSampleWarning, match="CRV1 with 40 clusters"):
        return event_study(df, yname="y", idname="unit", tname="t", event_date="event",
                           vcov="cluster", **kw)  # type: ignore[arg-type]


def test_bands_and_sup_t():
    df = staggered(seed=2)
    r = _analytic(df, window=(-3, 3), seed=5)
    t = r.tidy()
    assert tuple(t.columns[:7]) == TIDY_COLUMNS
    assert {"event_time", "point_conf_low", "point_conf_high"} <= set(t.columns)
    q = stats.t.ppf(0.975, r.df_resid)
    assert r.crit_pointwise == pytest.approx(q)
    np.testing.assert_allclose(t["point_conf_high"] - t["estimate"], q * t["std_error"])
    np.testing.assert_allclose(t["conf_high"] - t["estimate"], r.crit_sup_t * t["std_error"])
    # sup-t exceeds the pointwise value and is below the Bonferroni value
    k = len(t)
    assert q < r.crit_sup_t < stats.t.ppf(1 - 0.025 / k, r.df_resid)
    # independent Monte Carlo check of the critical value
    sd = np.sqrt(np.diag(r.vcov))
    corr = r.vcov / np.outer(sd, sd)
    rng = np.random.default_rng(123)
    z = rng.multivariate_normal(np.zeros(k), corr, size=200_000)
    z /= np.sqrt(rng.chisquare(r.df_resid, 200_000) / r.df_resid)[:, None]
    assert r.crit_sup_t == pytest.approx(np.quantile(np.abs(z).max(axis=1), 0.95), abs=0.03)
    # seeded: identical reruns, different seeds differ slightly
    r2 = _analytic(df, window=(-3, 3), seed=5)
    assert r2.crit_sup_t == r.crit_sup_t and repr(r2) == repr(r)
    r3 = _analytic(df, window=(-3, 3), seed=6)
    assert r3.crit_sup_t != r.crit_sup_t


def test_invariance_and_no_mutation():
    df = staggered(seed=8)
    copy = df.copy()
    a = event_study(df, yname="y", idname="unit", tname="t", event_date="event",
                    window=(-3, 3), seed=1, cluster="cl")
    pd.testing.assert_frame_equal(df, copy)
    sh = df.sample(frac=1.0, random_state=1)
    sh = sh.assign(unit=sh["unit"].map(lambda u: f"u{(u * 7) % 41}"))
    b = event_study(sh, yname="y", idname="unit", tname="t", event_date="event",
                    window=(-3, 3), seed=1, cluster="cl")
    np.testing.assert_allclose(a.coef, b.coef, atol=1e-10)
    np.testing.assert_allclose(a.vcov, b.vcov, atol=1e-12)


def test_with_vcov_and_plot():
    import matplotlib.pyplot as plt

    df = staggered(seed=9)
    r = event_study(df, yname="y", idname="unit", tname="t", event_date="event",
                    window=(-3, 3), seed=1)
    h = r.with_vcov("hetero")
    # the original (default 'auto': wild bootstrap with 40 clusters) is unchanged
    assert h.vcov_type == "hetero" and r.vcov_type == "wild"
    m = pf.feols("y ~ " + " + ".join(n for _, n in hand_dummies(df, -3, 3, -1)[1])
                 + " | unit + t", hand_dummies(df, -3, 3, -1)[0], vcov="hetero")
    np.testing.assert_allclose(np.sqrt(np.diag(h.vcov)), m.se().to_numpy(), rtol=1e-6)
    ax = r.plot()
    assert len(ax.get_lines()) >= 1
    plt.close("all")


def test_poisson_event_study_uses_chi2():
    df = staggered(seed=3)
    df["n"] = np.random.default_rng(0).poisson(np.exp(0.3 + 0.2 * (df["t"] >= df["event"])))
    # Poisson: 'auto' is CRV1, which warns below 50 clusters
    with pytest.warns(SmallSampleWarning, match="CRV1 with 40 clusters"):
        r = event_study(df, yname="n", idname="unit", tname="t", event_date="event",
                        window=(-2, 2), family="poisson", seed=1)
    assert r.vcov_type == "cluster"
    hand, names = hand_dummies(df, -2, 2, -1)
    m = pf.fepois("n ~ " + " + ".join(n for _, n in names) + " | unit + t", hand,
                  vcov={"CRV1": "unit"})
    np.testing.assert_allclose(r.coef, m.coef().to_numpy(), atol=1e-8)
    assert r.pretrend["distribution"] == "chi2" and r.pretrend["df2"] is None


def test_errors():
    df = staggered()
    with pytest.raises(OptionError, match=r"ref must be an integer inside window \[-3, 3\]; got 5"):
        event_study(df, yname="y", idname="unit", tname="t", event_date="event",
                    window=(-3, 3), ref=5)
    with pytest.raises(OptionError, match="window must be a pair of integers"):
        event_study(df, yname="y", idname="unit", tname="t", event_date="event", window=(3, -3))
    bad = df.copy()
    bad.loc[0, "event"] = 5.0
    with pytest.raises(DataValidationError, match="must be constant within unit"):
        event_study(bad, yname="y", idname="unit", tname="t", event_date="event")
    with pytest.raises(OptionError, match="scalar event_date pass dname"):
        event_study(df, yname="y", idname="unit", tname="t", event_date=5)
    with pytest.raises(DataValidationError, match=r"\['nope'\] not found"):
        event_study(df, yname="y", idname="unit", tname="t", event_date="event",
                    dname="nope")
    with pytest.raises(OptionError, match="family must be one of 'ols', 'poisson'; got 'logit'"):
        event_study(df, yname="y", idname="unit", tname="t", event_date="event",
                    family="logit")  # type: ignore[arg-type]
