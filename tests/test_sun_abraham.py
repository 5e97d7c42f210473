"""Tests of the Sun-Abraham interaction-weighted event study (laborai.did.sun_abraham)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from laborai.did.sun_abraham import SunAbrahamResult, sun_abraham
from laborai.errors import DataValidationError, EstimationError, OptionError


def _ref_dir() -> Path:
    env = os.environ.get("LABORAI_DATA_DIR")
    base = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return base / "reference" / "did_r"


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(_ref_dir() / "mpdta.csv")  # fails (not skips) when missing


@pytest.fixture(scope="module")
def res(mpdta: pd.DataFrame) -> SunAbrahamResult:
    return sun_abraham(mpdta, **MP)


MP: dict[str, Any] = {"yname": "lemp", "idname": "countyreal", "tname": "year",
                      "gname": "first.treat"}


def _ref(kind: str) -> pd.DataFrame:
    name = "ref_attgt.csv" if kind == "attgt" else "ref_aggte.csv"
    out = pd.read_csv(_ref_dir() / name)
    return out[out["scenario"] == "mpdta_nev_dr"]


# ------------------------------------------------------------------ parity with R `did`


def test_post_periods_equal_cs_dynamic_aggregation(res: SunAbrahamResult) -> None:
    """Never-treated controls, no covariates, balanced panel: IW = CS dynamic (l >= 0)."""
    agg = _ref("aggte")
    dyn = agg[agg["type"] == "dynamic"].set_index("egt")["att_egt"]
    t = res.tidy().set_index("event_time")
    for ell in (0, 1, 2, 3):
        assert t.loc[ell, "estimate"] == pytest.approx(dyn.loc[ell], abs=1e-8)
    # pre-periods: SA uses the universal base e-1, R did the varying (short-difference) base
    assert t.loc[-2, "estimate"] == pytest.approx(-dyn.loc[-1], abs=1e-8)
    assert t.loc[-3, "estimate"] == pytest.approx(-(dyn.loc[-1] + dyn.loc[-2]), abs=1e-8)
    # standard errors are of a different construction (regression CRV1 + share term vs
    # influence functions); on mpdta they agree within 2 percent
    ses = dyn.index.isin([0, 1, 2, 3])
    se_ref = agg[(agg["type"] == "dynamic")].set_index("egt")["se_egt"][ses]
    np.testing.assert_allclose(t.loc[se_ref.index, "std_error"], se_ref, rtol=0.02)


def test_cohort_effects_equal_cs_attgt(res: SunAbrahamResult) -> None:
    att = _ref("attgt").drop_duplicates(["group", "t"]).set_index(["group", "t"])["att"]
    ce = res.cohort_effects
    for row in ce.itertuples():
        e, ell = int(row.cohort), int(row.event_time)
        if ell >= 0:
            expected = att.loc[(e, e + ell)]
        else:  # universal base: minus the sum of varying-base short differences
            expected = -sum(att.loc[(e, s)] for s in range(e + ell + 1, e))
        assert row.estimate == pytest.approx(expected, abs=1e-8), (e, ell)


# ------------------------------------------------------------------ independent computations


def _hand_saturated(df: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Saturated regression via pyfixest's i() with one pooled reference level."""
    d = df.copy()
    g = d["first.treat"]
    rel = d["year"] - g
    cell = "c" + g.astype(str) + "_r" + rel.astype(str)
    cell[(g == 0) | (rel == -1)] = "ref"
    d["cell"] = cell
    fit = pf.feols("lemp ~ i(cell, ref='ref') | countyreal + year", data=d,
                   vcov={"CRV1": "countyreal"})
    coefs = fit.coef()
    names = [str(n) for n in fit._coefnames]
    V = pd.DataFrame(fit._vcov, index=names, columns=names)
    return coefs, V


def test_iw_equals_hand_aggregation_of_pyfixest_i(mpdta: pd.DataFrame) -> None:
    coefs, V = _hand_saturated(mpdta)
    r = sun_abraham(mpdta, **MP, weight_variance=False)
    units = mpdta.drop_duplicates("countyreal")
    size = units[units["first.treat"] > 0].groupby("first.treat").size()
    for ell, est, se in zip(r.event_times, r.coef, np.sqrt(np.diag(r.vcov)), strict=True):
        cs = [e for e in size.index if 2003 <= e + ell <= 2007]
        w = size.loc[cs] / size.loc[cs].sum()
        nm = [next(n for n in coefs.index if n.endswith(f"c{e}_r{ell}]") or
                   n.endswith(f"c{e}_r{ell}")) for e in cs]
        hand = float(np.dot(w, coefs.loc[nm]))
        hand_se = float(np.sqrt(w.to_numpy() @ V.loc[nm, nm].to_numpy() @ w.to_numpy()))
        assert est == pytest.approx(hand, abs=1e-10)
        assert se == pytest.approx(hand_se, rel=1e-8)


def test_point_estimates_equal_numpy_dummy_ols() -> None:
    df = _sim(seed=3, balanced=False)
    r = sun_abraham(df, **SIM)
    g = df["g"].to_numpy()
    rel = df["t"].to_numpy() - g
    treated = g > 0
    cells = sorted({(int(e), int(r_)) for e, r_ in zip(g[treated], rel[treated], strict=True)
                    if r_ != -1})
    X = [((g == e) & (rel == r_) & treated).astype(float) for e, r_ in cells]
    U = pd.get_dummies(df["id"]).to_numpy(dtype=float)
    T = pd.get_dummies(df["t"]).to_numpy(dtype=float)[:, 1:]
    Z = np.column_stack([*X, U, T])
    beta = np.linalg.lstsq(Z, df["y"].to_numpy(), rcond=None)[0][: len(cells)]
    ce = r.cohort_effects.set_index(["cohort", "event_time"])["estimate"]
    for (e, r_), b in zip(cells, beta, strict=True):
        assert ce.loc[(e, r_)] == pytest.approx(b, abs=1e-8)
    # IW: observation shares (unbalanced panel) among cohorts at each relative period
    for ell, est in zip(r.event_times, r.coef, strict=True):
        m = treated & (rel == ell)
        cnt = pd.Series(g[m]).value_counts()
        hand = sum(cnt[e] / cnt.sum() * ce.loc[(e, ell)] for e in cnt.index)
        assert est == pytest.approx(hand, abs=1e-10)


def test_weight_variance_term_by_hand(mpdta: pd.DataFrame, res: SunAbrahamResult) -> None:
    r0 = sun_abraham(mpdta, **MP, weight_variance=False)
    ce = res.cohort_effects.set_index(["cohort", "event_time"])["estimate"]
    units = mpdta.drop_duplicates("countyreal").set_index("countyreal")["first.treat"]
    ells = list(res.event_times)
    psi = np.zeros((len(units), len(ells)))
    for j, ell in enumerate(ells):
        ok = [(u, e) for u, e in units.items() if e > 0 and 2003 <= e + ell <= 2007]
        B = len(ok)
        nu = res.coef[j]
        pos = {u: k for k, u in enumerate(units.index)}
        for u, e in ok:
            psi[pos[u], j] = (ce.loc[(e, ell)] - nu) / B
    np.testing.assert_allclose(res.vcov - r0.vcov, psi.T @ psi, atol=1e-14)
    # single-cohort event times get no share term
    single = [i for i, ell in enumerate(ells) if ell in (-4, 2, 3)]
    np.testing.assert_allclose(np.diag(res.vcov)[single], np.diag(r0.vcov)[single], rtol=1e-12)
    np.testing.assert_allclose(res.coef, r0.coef, rtol=0, atol=0)


# ------------------------------------------------------------------ simulated truth


SIM: dict[str, Any] = {"yname": "y", "idname": "id", "tname": "t", "gname": "g"}


def _sim(seed: int = 0, balanced: bool = True, n: int = 240) -> pd.DataFrame:
    """Staggered adoption with cohort-specific dynamic effects (true effect of cohort e at
    relative period l >= 0 is (1 + 0.5 * l) * scale_e)."""
    rng = np.random.default_rng(seed)
    cohorts = np.array([0, 4, 6, 8])
    scale = {4: 1.0, 6: 2.0, 8: 3.0}
    g = cohorts[rng.integers(0, 4, size=n)]
    rows = []
    for i in range(n):
        a = rng.normal()
        for t in range(1, 11):
            if not balanced and rng.uniform() < 0.1:
                continue
            eff = (1 + 0.5 * (t - g[i])) * scale[int(g[i])] if g[i] > 0 and t >= g[i] else 0.0
            rows.append((i, t, int(g[i]), a + 0.3 * t + eff + rng.normal(scale=0.5)))
    return pd.DataFrame(rows, columns=["id", "t", "g", "y"])


def test_recovers_true_iw_effects() -> None:
    df = _sim(seed=1, n=600)
    r = sun_abraham(df, **SIM)
    units = df.drop_duplicates("id")
    size = units[units["g"] > 0].groupby("g").size()
    scale = {4: 1.0, 6: 2.0, 8: 3.0}
    t = r.tidy().set_index("event_time")
    for ell in (0, 1, 2):
        cs = [e for e in size.index if 1 <= e + ell <= 10]
        w = size.loc[cs] / size.loc[cs].sum()
        truth = sum(w[e] * (1 + 0.5 * ell) * scale[e] for e in cs)
        assert abs(t.loc[ell, "estimate"] - truth) < 4 * t.loc[ell, "std_error"]
    for ell in (-4, -3, -2):
        assert abs(t.loc[ell, "estimate"]) < 4 * t.loc[ell, "std_error"]


def test_last_cohort_control_and_drop_record() -> None:
    df = _sim(seed=2)
    r = sun_abraham(df, **SIM, control_group="last_cohort")
    assert r.control_cohort == 8
    n_after = int((df["t"] >= 8).sum())
    n_never = int(((df["g"] == 0) & (df["t"] < 8)).sum())
    assert r.dropped["after_last_cohort"] == n_after
    assert r.dropped["never_treated"] == n_never
    assert r.nobs + n_after + n_never == len(df)
    assert set(r.cohort_effects["cohort"]) == {4, 6}
    assert int(r.event_times.max()) == 3  # cohort 4 observed up to t = 7
    assert "Rows outside the regression" in r.summary()


def test_window_only_selects_reported_event_times() -> None:
    df = _sim(seed=4)
    full = sun_abraham(df, **SIM)
    win = sun_abraham(df, **SIM, window=(-2, 2))
    assert win.event_times.tolist() == [-2, 0, 1, 2]
    t = full.tidy().set_index("event_time")
    np.testing.assert_allclose(win.coef, t.loc[[-2, 0, 1, 2], "estimate"], rtol=1e-12)
    np.testing.assert_allclose(np.sqrt(np.diag(win.vcov)), t.loc[[-2, 0, 1, 2], "std_error"],
                               rtol=1e-12)


def test_always_treated_excluded_and_nan_never_code() -> None:
    df = _sim(seed=5)
    base = sun_abraham(df, **SIM)
    extra = df[df["id"] < 5].assign(id=lambda d: d["id"] + 10_000, g=1)
    r = sun_abraham(pd.concat([df, extra], ignore_index=True), **SIM)
    assert r.dropped["always_treated"] == len(extra)
    np.testing.assert_allclose(r.coef, base.coef, atol=1e-10)
    nan_code = df.assign(g=df["g"].where(df["g"] > 0, np.nan))
    np.testing.assert_allclose(sun_abraham(nan_code, **SIM).coef, base.coef, atol=1e-12)


def test_invariance_and_no_mutation() -> None:
    df = _sim(seed=6)
    before = df.copy()
    r1 = sun_abraham(df, **SIM)
    pd.testing.assert_frame_equal(df, before)
    sh = df.sample(frac=1.0, random_state=3).reset_index(drop=True)
    sh["id"] = "u" + (999 - sh["id"]).astype(str)
    r2 = sun_abraham(sh, **SIM)
    np.testing.assert_allclose(r1.coef, r2.coef, atol=1e-10)
    np.testing.assert_allclose(r1.vcov, r2.vcov, atol=1e-12)


def test_cluster_option_changes_only_inference(mpdta: pd.DataFrame,
                                               res: SunAbrahamResult) -> None:
    d = mpdta.assign(state=mpdta["countyreal"] // 1000)
    r = sun_abraham(d, **MP, cluster="state")
    np.testing.assert_allclose(r.coef, res.coef, atol=1e-12)
    assert r.n_clusters == d["state"].nunique()
    assert not np.allclose(r.vcov, res.vcov)


def test_result_contract(res: SunAbrahamResult, mpdta: pd.DataFrame) -> None:
    import matplotlib

    matplotlib.use("Agg")
    assert res.ref == -1 and -1 not in res.event_times.tolist()
    assert res.event_times.tolist() == [-4, -3, -2, 0, 1, 2, 3]
    assert res.vcov.shape == (7, 7) and np.allclose(res.vcov, res.vcov.T)
    t = res.tidy()
    assert list(t.columns[:7]) == ["term", "estimate", "std_error", "statistic", "p_value",
                                   "conf_low", "conf_high"]
    assert t["term"].tolist()[0] == "event_time::-4"
    with pytest.raises(AttributeError):
        res.ref = 0  # type: ignore[misc]
    assert repr(res) == repr(sun_abraham(mpdta, **MP))
    assert "0x" not in repr(res)
    assert res.to_latex().startswith("\\begin{tabular}")
    ax = res.plot()
    assert ax.get_xlabel() == "event time (periods)"
    w = res.cohort_effects.groupby("event_time")["weight"].sum()
    np.testing.assert_allclose(w.to_numpy(), 1.0)


def test_feeds_honestdid(res: SunAbrahamResult) -> None:
    from laborai.did.honest import honest

    h = honest(res, method="smoothness", grid=[0.0, 0.01])
    assert len(h.tidy()) >= 2


def test_errors(mpdta: pd.DataFrame) -> None:
    with pytest.raises(OptionError, match=r"control_group must be one of 'never_treated', "
                                          r"'last_cohort'; got 'not_yet_treated'"):
        sun_abraham(mpdta, **MP, control_group="not_yet_treated")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match=r"gname='G' is not a column"):
        sun_abraham(mpdta, **{**MP, "gname": "G"})
    treated_only = mpdta[mpdta["first.treat"] > 0]
    with pytest.raises(EstimationError, match=r"needs never-treated units"):
        sun_abraham(treated_only, **MP)
    bad = mpdta.copy()
    bad.loc[0, "first.treat"] = 2004
    with pytest.raises(DataValidationError, match=r"constant within each unit.*\[8001\]"):
        sun_abraham(bad, **MP)
    frac = mpdta.assign(year=mpdta["year"] + 0.5)
    with pytest.raises(DataValidationError, match=r"integer periods"):
        sun_abraham(frac, **MP)
    gap = mpdta[mpdta["year"] != 2005]
    with pytest.raises(DataValidationError, match=r"cohort first.treat=2006 has no observation "
                                                  r"at the reference period"):
        sun_abraham(gap, **MP)
    with pytest.raises(EstimationError, match=r"no estimable event time in window=\(10, 12\)"):
        sun_abraham(mpdta, **MP, window=(10, 12))
    with pytest.raises(DataValidationError, match=r"window must be a pair of integers"):
        sun_abraham(mpdta, **MP, window=(2, -2))
    miss = mpdta.copy()
    miss.loc[3, "lemp"] = np.nan
    with pytest.raises(DataValidationError, match=r"'lemp' \(yname\) has 1 missing values"):
        sun_abraham(miss, **MP)
    with pytest.raises(DataValidationError, match=r"must identify rows uniquely"):
        sun_abraham(pd.concat([mpdta, mpdta.iloc[:2]]), **MP)


# ------------------------------------------------------------------ placebo size correction
def _cells(seed: int = 0, n_clusters: int = 12, treated: tuple[int, ...] = (0, 1),
           n_periods: int = 10, g_star: int = 6, units_per_cluster: int = 1) -> pd.DataFrame:
    """Category cells of very different size: cluster shocks plus sampling noise of variance
    ``1 / n_posts`` (treated cells large, many control cells small, as on the marketplace)."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_clusters):
        big = c in treated or c % 3 == 0
        level = rng.uniform(300, 800) if big else rng.uniform(10, 40)
        shock = rng.normal(0, 0.03, n_periods)
        for u in range(units_per_cluster):
            for t in range(1, n_periods + 1):
                n = max(1.0, round(level * rng.uniform(0.8, 1.2)))
                rows.append({"unit": f"c{c}u{u}", "cluster": f"c{c:02d}", "t": t,
                             "g": g_star if c in treated else 0, "n_posts": n,
                             "y": 0.1 * u + shock[t - 1] + rng.normal(0, 1 / np.sqrt(n))})
    return pd.DataFrame(rows)


PKW: dict[str, Any] = {"yname": "y", "idname": "unit", "tname": "t", "gname": "g",
                       "cluster": "cluster"}


def _hand_v(d: pd.DataFrame, treated_units: np.ndarray, control_units: np.ndarray,
            e: int, ells: np.ndarray) -> np.ndarray:
    """Balanced panel, one cohort e: delta_l = mean_T(y_{e+l} - y_{e-1}) - mean_C(...), so its
    variance proxy is sum_T (1/s_{e+l} + 1/s_{e-1}) / N_T^2 + the same over C / N_C^2."""
    inv = (1.0 / d.set_index(["unit", "t"])["n_posts"].clip(lower=1.0))
    out = []
    for ell in ells:
        v = 0.0
        for units in (treated_units, control_units):
            s = sum(inv[(u, e + ell)] + inv[(u, e - 1)] for u in units)
            v += s / len(units) ** 2
        out.append(v)
    return np.array(out)


def test_placebo_size_correction_equals_hand_computation() -> None:
    from laborai.did._placebo import _wnnls_var_model

    df = _cells()
    r = sun_abraham(df, **PKW, size="n_posts")
    ctrl = df[df["g"] == 0]
    controls = sorted(ctrl["cluster"].unique())
    J = len(controls)
    ells = r.event_times
    # the placebo estimates: each control cluster given the cohort on the control data
    P = np.array([sun_abraham(ctrl.assign(g=np.where(ctrl["cluster"] == j, 6, 0)), **PKW,
                              vcov="cluster").coef for j in controls])
    # inverse sizes -> sampling-variance proxies of every placebo and of the real estimate
    vj = np.array([_hand_v(ctrl, ctrl.loc[ctrl["cluster"] == j, "unit"].unique(),
                           ctrl.loc[ctrl["cluster"] != j, "unit"].unique(), 6, ells)
                   for j in controls])
    vg = _hand_v(df, df.loc[df["g"] > 0, "unit"].unique(), ctrl["unit"].unique(), 6, ells)
    w2 = 0.5**2 + 0.5**2                      # two treated clusters of one unit each
    v_star = vg / ((J - 1) / J * (w2 + 1 / J))
    # the variance model E[p^2] = a + b v per event time, and the rescaled placebos
    Pr = P.copy()
    n_slope = 0
    for k in range(len(ells)):
        p2, v = P[:, k] ** 2, vj[:, k]
        a, b = _wnnls_var_model(p2, v)
        fit = a + b * v
        wt = 1 / fit**2
        if a > 0 and b > 0:   # interior: near the fixed point (20 reweighting steps) the
            # weighted normal equations hold
            assert abs(np.sum(wt * (p2 - fit))) <= 1e-3 * np.sum(wt * p2)
            assert abs(np.sum(wt * v * (p2 - fit))) <= 1e-3 * np.sum(wt * v * p2)
        elif a == 0:          # corner a = 0: b is the mean of the standardised squares
            assert np.isclose(b, np.mean(p2 / v), rtol=1e-6)
        n_slope += b > 0
        Pr[:, k] = P[:, k] * np.sqrt((a + b * v_star[k]) / fit)
    assert n_slope >= len(ells) // 2          # the sizes matter in this design
    V = (J - 1) / J**2 * (w2 + 1 / J) * Pr.T @ Pr
    np.testing.assert_allclose(r.vcov, V, rtol=1e-7)
    np.testing.assert_allclose(r.tidy()["std_error"], np.sqrt(np.diag(V)), rtol=1e-7)
    # large treated cells: the correction shrinks the placebo spread (conservative without it)
    plain = sun_abraham(df, **PKW, size=None)
    assert np.median(r.tidy()["std_error"] / plain.tidy()["std_error"]) < 0.9
    assert r.placebo_df == plain.placebo_df == J - 1


def test_size_none_reproduces_the_plain_placebo_numbers() -> None:
    df = _cells(seed=3, units_per_cluster=2)
    plain = sun_abraham(df, **PKW, size=None)
    same = sun_abraham(df.drop(columns="n_posts"), **PKW)        # 'auto' without n_posts
    for a in ("coef", "vcov"):
        assert np.array_equal(getattr(plain, a), getattr(same, a))
    pd.testing.assert_frame_equal(plain.tidy(), same.tidy(), check_exact=True)
    ctrl = df[df["g"] == 0]
    P = np.array([sun_abraham(ctrl.assign(g=np.where(ctrl["cluster"] == j, 6, 0)), **PKW,
                              vcov="cluster").coef for j in sorted(ctrl["cluster"].unique())])
    J = len(P)
    np.testing.assert_allclose(plain.vcov, (J - 1) / J**2 * (0.5 + 1 / J) * P.T @ P,
                               rtol=1e-12, atol=0)
    # the column is not read when no placebo inference runs
    c = sun_abraham(df.assign(n_posts=-1.0), **PKW, vcov="cluster")
    assert c.size_column is None and c.provenance.settings["size"] is None


def test_size_setting_recorded() -> None:
    df = _cells(seed=1)
    auto = sun_abraham(df, **PKW)
    assert auto.size_column == "n_posts"
    assert auto.provenance.settings["size"] == "n_posts"
    assert auto.provenance.settings["inference"] == "placebo"
    assert auto.provenance.settings["vcov"] == "auto"
    df2 = df.rename(columns={"n_posts": "cell_n"})
    named = sun_abraham(df2, **PKW, size="cell_n")
    assert named.provenance.settings["size"] == "cell_n"
    np.testing.assert_allclose(named.vcov, auto.vcov, rtol=1e-12)
    none = sun_abraham(df, **PKW, size=None)
    assert none.size_column is None and none.provenance.settings["size"] is None
    assert sun_abraham(df, **PKW, size="weights").provenance.settings["size"] is None
    cl = sun_abraham(df, **PKW, vcov="cluster").provenance.settings
    assert (cl["inference"], cl["size"]) == ("cluster", None)
    assert auto.provenance.input_hash == none.provenance.input_hash
    assert "'n_posts'" in repr(dict(auto.provenance.settings))


def test_bad_size_values() -> None:
    df = _cells(seed=2)
    with pytest.raises(OptionError, match=r"size must be 'auto', 'weights', None or a "
                                          r"cell-size column of the data; got 'n_post'"):
        sun_abraham(df, **PKW, size="n_post")
    with pytest.raises(OptionError, match=r"got 3"):
        sun_abraham(df, **PKW, size=3)  # type: ignore[arg-type]
    miss = df.copy()
    miss.loc[[4, 9], "n_posts"] = np.nan
    with pytest.raises(DataValidationError, match=r"size column 'n_posts' has 2 missing or "
                                                  r"non-numeric value"):
        sun_abraham(miss, **PKW)
    text = df.assign(n_posts=df["n_posts"].astype(object))
    text.loc[0, "n_posts"] = "many"
    with pytest.raises(DataValidationError, match=r"size column 'n_posts' has 1 missing"):
        sun_abraham(text, **PKW)
    neg = df.copy()
    neg.loc[[0, 1, 2], "n_posts"] = -5.0
    with pytest.raises(DataValidationError, match=r"size column 'n_posts' must hold cell sizes "
                                                  r">= 0; 3 estimation row\(s\) are negative"):
        sun_abraham(neg, **PKW)


def _ar1_cells(seed: int, n_clusters: int = 12, treated: tuple[int, ...] = (0, 1),
               n_periods: int = 10, g_star: int = 6) -> pd.DataFrame:
    """The marketplace's low tier in small: AR(1) cluster shocks (sd 0.05, rho 0.8) plus
    sampling noise of variance ``1 / n_posts``; treated cells large, most controls small."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_clusters):
        level = rng.uniform(300, 800) if (c in treated or c % 3 == 0) else rng.uniform(15, 60)
        e = 0.0
        for t in range(1, n_periods + 1):
            e = 0.8 * e + rng.normal(0, 0.05)
            n = max(1.0, round(level * rng.uniform(0.8, 1.2)))
            rows.append({"unit": c, "cluster": f"c{c:02d}", "t": t,
                         "g": g_star if c in treated else 0, "n_posts": n,
                         "y": e + rng.normal(0, 1 / np.sqrt(n))})
    return pd.DataFrame(rows)


@pytest.mark.slow
def test_size_correction_holds_its_size_monte_carlo() -> None:
    """100 null panels (2 large treated cells, small controls): the uncorrected placebo tests
    are conservative, the corrected ones near 5%."""
    rej: dict[Any, list[bool]] = {"n_posts": [], None: []}
    for s in range(100):
        df = _ar1_cells(seed=2000 + s)
        for sz in rej:
            rej[sz] += (sun_abraham(df, **PKW, size=sz).tidy()["p_value"] < 0.05).tolist()
    corrected, plain = float(np.mean(rej["n_posts"])), float(np.mean(rej[None]))
    assert 0.02 <= corrected <= 0.085, corrected
    assert plain < 0.02 and plain < corrected, (plain, corrected)
