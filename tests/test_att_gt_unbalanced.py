"""Callaway & Sant'Anna on unbalanced panels and repeated cross sections (laborai.did.cs).

``allow_unbalanced_panel=True`` and ``panel=False`` use the repeated-cross-section 2x2 estimators
of Sant'Anna & Zhao (2020). The reference folder has no R rows for these modes (see the README
in $LABORAI_DATA_DIR/reference/did_r), so the checks are: the algebra of the estimators computed
by hand, influence functions equal to numerical derivatives of the estimate, standard errors
equal to pyfixest's cluster-robust (CR0) standard errors of the equivalent regression, and the
behaviour when rows of mpdta are removed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
import statsmodels.api as sm
from _shared import DATA_DIR

import laborai as la
from laborai.did._cs_kernels import did2x2_rc
from laborai.did.cs import ATTgtResult, DroppedUnitsWarning, att_gt
from laborai.errors import DataValidationError, OptionError

MPDTA_KW: dict[str, Any] = {"yname": "lemp", "tname": "year", "idname": "countyreal",
                            "gname": "first.treat"}
RCS_KW: dict[str, Any] = {"yname": "lemp", "tname": "year", "gname": "first.treat",
                          "panel": False}


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    path = DATA_DIR / "reference" / "did_r" / "mpdta.csv"
    assert path.exists(), f"reference file missing: {path}"  # fail, never skip
    return pd.read_csv(path)


@pytest.fixture(scope="module")
def unbalanced(mpdta: pd.DataFrame) -> pd.DataFrame:
    """mpdta with 5% of its rows removed at random."""
    rng = np.random.default_rng(20240601)
    drop = rng.choice(len(mpdta), size=125, replace=False)
    return mpdta.drop(index=mpdta.index[drop]).reset_index(drop=True)


def _base_period(g: float, t: float) -> float:
    """Varying base period of mpdta's annual periods (no anticipation)."""
    return g - 1 if t >= g else t - 1


def _two_by_two(df: pd.DataFrame, g: float, t: float, *, not_yet: bool) -> pd.DataFrame:
    """Rows of cohort g and its comparison group in periods t and base(g, t)."""
    b = _base_period(g, t)
    coh = df["first.treat"]
    later = max(t, b)
    ctrl = (coh == 0) | ((coh > later) & (coh != g)) if not_yet else coh == 0
    sub = df[df["year"].isin([t, b]) & ((coh == g) | ctrl)].copy()
    sub["D"] = (sub["first.treat"] == g).astype(float)
    sub["P"] = (sub["year"] == t).astype(float)
    return sub


# ------------------------------------------------------------------ the 2x2 kernel


def _rc_sample(seed: int, m: int = 400) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=m)
    x2 = rng.uniform(size=m)
    d = (rng.uniform(size=m) < 1 / (1 + np.exp(-0.5 * x1))).astype(float)
    post = (rng.uniform(size=m) < 0.5).astype(float)
    y = (1 + x1 + 0.5 * x2 + post * (0.3 + 0.2 * x1) + d * (0.5 + x2) + d * post
         + rng.normal(size=m))
    x = np.column_stack([np.ones(m), x1, x2])
    w = rng.uniform(0.5, 1.5, size=m)
    return y, post, d, x, w


@pytest.mark.parametrize("method", ["reg", "ipw", "dr"])
def test_rc_influence_function_is_the_derivative_of_the_estimate(method: str) -> None:
    # For an estimator defined by weighted moment conditions, d att(w (1 + eps v)) / d eps at
    # eps = 0 equals mean(v * inf): the influence function must include every estimation
    # effect (logit and all cell regressions) for this to hold.
    y, post, d, x, w = _rc_sample(1)
    att, inf, fit = did2x2_rc(y, post, d, x, w, method)
    assert abs(inf.mean()) < 1e-10
    rng = np.random.default_rng(2)
    for _ in range(3):
        v = rng.uniform(-0.5, 0.5, size=len(y))
        eps = 1e-5
        up = did2x2_rc(y, post, d, x, w * (1 + eps * v), method)[0]
        down = did2x2_rc(y, post, d, x, w * (1 - eps * v), method)[0]
        numeric = (up - down) / (2 * eps)
        assert np.mean(v * inf) == pytest.approx(numeric, rel=2e-5, abs=1e-9)
    if method != "reg":
        assert fit is not None and fit.converged


def test_rc_estimators_without_covariates_are_the_double_difference() -> None:
    y, post, d, _, w = _rc_sample(3)
    m = len(y)
    ones = np.ones((m, 1))
    wn = w / w.mean()

    def cell_mean(dd: float, pp: float) -> float:
        sel = (d == dd) & (post == pp)
        return float(np.sum(wn[sel] * y[sel]) / np.sum(wn[sel]))

    hand = (cell_mean(1, 1) - cell_mean(1, 0)) - (cell_mean(0, 1) - cell_mean(0, 0))
    # influence function of a difference of four weighted means, by hand
    hand_inf = np.zeros(m)
    for dd, pp, sign in ((1, 1, 1), (1, 0, -1), (0, 1, -1), (0, 0, 1)):
        sel = ((d == dd) & (post == pp)).astype(float)
        hand_inf += sign * wn * sel * (y - cell_mean(dd, pp)) / np.mean(wn * sel)
    for method in ("reg", "ipw", "dr"):
        att, inf, _ = did2x2_rc(y, post, d, ones, w, method)
        assert att == pytest.approx(hand, abs=1e-12)
        np.testing.assert_allclose(inf, hand_inf, atol=1e-10)


# ------------------------------------------------------------------ balanced panel as RCS


def test_balanced_panel_as_rcs_equals_group_mean_changes(mpdta: pd.DataFrame) -> None:
    res = att_gt(mpdta.drop(columns="countyreal"), **RCS_KW)
    assert res.data_structure == "repeated_cross_section"
    assert (res.n_units, res.n_obs, res.n_dropped) == (2500, 2500, 0)
    means = mpdta.groupby(["first.treat", "year"])["lemp"].mean()
    panel = att_gt(mpdta, **MPDTA_KW).tidy().set_index(["group", "time"])
    for row in res.tidy().itertuples():
        g, t = float(row.group), float(row.time)
        b = _base_period(g, t)
        hand = (means[(g, t)] - means[(g, b)]) - (means[(0, t)] - means[(0, b)])
        assert row.estimate == pytest.approx(hand, abs=1e-12)
        # the difference of mean changes equals the panel estimate on a balanced panel
        assert row.estimate == pytest.approx(panel.loc[(g, t), "estimate"], abs=1e-12)
        # standard errors treat rows as independent: heteroskedasticity-robust HC0 of the
        # saturated 2x2 regression
        sub = _two_by_two(mpdta, g, t, not_yet=False)
        fit = pf.feols("lemp ~ D * P", data=sub, vcov="hetero", ssc=pf.ssc(k_adj=False))
        assert float(fit.coef()["D:P"]) == pytest.approx(row.estimate, abs=1e-10)
        assert row.std_error == pytest.approx(float(fit.se()["D:P"]), rel=1e-8)


def test_rcs_regression_with_covariates_by_hand(mpdta: pd.DataFrame) -> None:
    res = att_gt(mpdta.drop(columns="countyreal"), **RCS_KW, xformla="~ lpop", est_method="reg")
    est = res.tidy().set_index(["group", "time"])["estimate"]
    for g, t in ((2004.0, 2006.0), (2007.0, 2005.0)):
        sub = _two_by_two(mpdta, g, t, not_yet=False)
        X = np.column_stack([np.ones(len(sub)), sub["lpop"]])
        y = sub["lemp"].to_numpy()
        d, p = sub["D"].to_numpy() == 1, sub["P"].to_numpy() == 1
        b1 = np.linalg.lstsq(X[~d & p], y[~d & p], rcond=None)[0]
        b0 = np.linalg.lstsq(X[~d & ~p], y[~d & ~p], rcond=None)[0]
        # Sant'Anna & Zhao (2020, eq. 2.2): treated change minus the comparison group's
        # predicted change averaged over all treated observations
        hand = y[d & p].mean() - y[d & ~p].mean() - float(np.mean(X[d] @ (b1 - b0)))
        assert est[(g, t)] == pytest.approx(hand, abs=1e-10)


def test_rcs_doubly_robust_with_covariates_by_hand(mpdta: pd.DataFrame) -> None:
    res = att_gt(mpdta.drop(columns="countyreal"), **RCS_KW, xformla="~ lpop", est_method="dr")
    ipw = att_gt(mpdta.drop(columns="countyreal"), **RCS_KW, xformla="~ lpop",
                 est_method="ipw")
    g, t = 2006.0, 2007.0
    sub = _two_by_two(mpdta, g, t, not_yet=False)
    X = np.column_stack([np.ones(len(sub)), sub["lpop"]])
    y = sub["lemp"].to_numpy()
    D, P = sub["D"].to_numpy(), sub["P"].to_numpy()
    ps = sm.Logit(D, X).fit(disp=0, tol=1e-12).predict(X)
    odds = ps / (1 - ps)

    def ols(sel: np.ndarray) -> np.ndarray:
        return X @ np.linalg.lstsq(X[sel], y[sel], rcond=None)[0]

    d, p = D == 1, P == 1
    mu01, mu00, mu11, mu10 = ols(~d & p), ols(~d & ~p), ols(d & p), ols(d & ~p)
    mu0 = np.where(p, mu01, mu00)

    def hajek(b: np.ndarray, r: np.ndarray) -> float:
        return float(np.sum(b * r) / np.sum(b))

    one = np.ones(len(y))
    tau_dr1 = (hajek(D * P, y - mu0) - hajek(D * (1 - P), y - mu0)
               - hajek(odds * (1 - D) * P, y - mu0) + hajek(odds * (1 - D) * (1 - P), y - mu0))
    # locally efficient DR (Sant'Anna & Zhao 2020, eq. 3.4)
    hand = (tau_dr1 + hajek(D * one, mu11 - mu01) - hajek(D * P, mu11 - mu01)
            - hajek(D * one, mu10 - mu00) + hajek(D * (1 - P), mu10 - mu00))
    hand_ipw = (hajek(D * P, y) - hajek(D * (1 - P), y) - hajek(odds * (1 - D) * P, y)
                + hajek(odds * (1 - D) * (1 - P), y))
    got = res.tidy().set_index(["group", "time"]).loc[(g, t), "estimate"]
    got_ipw = ipw.tidy().set_index(["group", "time"]).loc[(g, t), "estimate"]
    assert got == pytest.approx(hand, abs=1e-8)
    assert got_ipw == pytest.approx(hand_ipw, abs=1e-8)


# ------------------------------------------------------------------ unbalanced panels


def test_unbalanced_default_raises_and_names_the_option(unbalanced: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError,
                       match=r"unbalanced: \d+ of 500 units.*allow_unbalanced_panel=True"):
        att_gt(unbalanced, **MPDTA_KW)


@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
def test_unbalanced_matches_pyfixest_clustered_2x2(unbalanced: pd.DataFrame,
                                                   control: str) -> None:
    # Without covariates each ATT(g,t) is the interaction coefficient of y ~ D * P on the rows
    # of the 2x2, and its standard error is the CR0 cluster-robust one clustered on the unit.
    res = att_gt(unbalanced, **MPDTA_KW, allow_unbalanced_panel=True, control_group=control)
    assert res.data_structure == "unbalanced_panel"
    for row in res.tidy().itertuples():
        g, t = float(row.group), float(row.time)
        sub = _two_by_two(unbalanced, g, t, not_yet=control == "not_yet_treated")
        fit = pf.feols("lemp ~ D * P", data=sub, vcov={"CRV1": "countyreal"},
                       ssc=pf.ssc(k_adj=False, G_adj=False))
        assert row.estimate == pytest.approx(float(fit.coef()["D:P"]), abs=1e-10)
        assert row.std_error == pytest.approx(float(fit.se()["D:P"]), rel=1e-8)


def test_dropping_rows_keeps_every_unit_and_stays_close(mpdta: pd.DataFrame,
                                                        unbalanced: pd.DataFrame) -> None:
    kw = {**MPDTA_KW, "xformla": "~ lpop"}
    bal = att_gt(mpdta, **kw)
    unb = att_gt(unbalanced, **kw, allow_unbalanced_panel=True)
    per_unit = unbalanced.groupby("countyreal").size()
    # every unit is kept and counted; nothing is dropped silently
    assert unb.n_units == unbalanced["countyreal"].nunique() == 500
    assert unb.n_obs == len(unbalanced) == 2375
    assert unb.n_incomplete_units == int((per_unit < 5).sum()) > 0
    assert unb.n_dropped == 0
    assert "unbalanced panel, 2375 observations" in unb.summary()
    # the aggregate effects move by less than their standard errors
    for typ in ("simple", "dynamic", "group"):
        a, b = bal.aggregate(typ), unb.aggregate(typ)
        assert abs(a.overall_estimate - b.overall_estimate) < b.overall_std_error
        assert np.isfinite(b.overall_std_error)
    cal = unb.aggregate("calendar")
    assert np.all(np.isfinite(cal.estimate)) and np.all(np.isfinite(cal.std_error))


def test_allow_unbalanced_on_a_balanced_panel_changes_nothing(mpdta: pd.DataFrame) -> None:
    a = att_gt(mpdta, **MPDTA_KW, xformla="~ lpop")
    b = att_gt(mpdta, **MPDTA_KW, xformla="~ lpop", allow_unbalanced_panel=True)
    assert b.data_structure == "balanced_panel"
    np.testing.assert_array_equal(a.estimate, b.estimate)
    np.testing.assert_array_equal(a.std_error, b.std_error)


def test_unbalanced_bootstrap_cluster_and_invariance(unbalanced: pd.DataFrame) -> None:
    kw = {**MPDTA_KW, "allow_unbalanced_panel": True}
    an = att_gt(unbalanced, **kw)
    b1 = att_gt(unbalanced, **kw, vcov="bootstrap", cband=True, n_boot=499, seed=7)
    b2 = att_gt(unbalanced, **kw, vcov="bootstrap", cband=True, n_boot=499, seed=7)
    np.testing.assert_array_equal(b1.std_error, b2.std_error)
    np.testing.assert_allclose(b1.std_error, an.std_error, rtol=0.2)
    assert b1.crit_val > 1.96
    # a cluster coarser than the unit (the unit's first-treatment year is invariant)
    cl = att_gt(unbalanced.assign(state=unbalanced["countyreal"] // 10), **kw, cluster="state")
    np.testing.assert_array_equal(cl.estimate, an.estimate)
    assert not np.allclose(cl.std_error, an.std_error)
    # row order and id labels do not matter
    shuffled = unbalanced.sample(frac=1.0, random_state=3).reset_index(drop=True)
    shuffled["countyreal"] = "c" + shuffled["countyreal"].astype(str)
    sh = att_gt(shuffled, **kw)
    np.testing.assert_allclose(sh.estimate, an.estimate, atol=1e-12)
    np.testing.assert_allclose(sh.std_error, an.std_error, rtol=1e-10)


def test_unbalanced_first_period_treated_units_are_counted(unbalanced: pd.DataFrame) -> None:
    df = unbalanced.copy()
    # units 1 and 2 (if present) become treated in the first period
    ids = df["countyreal"].drop_duplicates().iloc[:2].tolist()
    df.loc[df["countyreal"].isin(ids), "first.treat"] = 2003
    with pytest.warns(DroppedUnitsWarning, match=r"Dropped 2 unit\(s\) \('countyreal'\)"):
        res = att_gt(df, **MPDTA_KW, allow_unbalanced_panel=True)
    assert res.n_dropped == 2 and res.n_units == 498
    assert res.n_obs == int((~df["countyreal"].isin(ids)).sum())


def test_unbalanced_with_covariates_recovers_a_known_effect() -> None:
    # simulated panel with attrition, unit effects correlated with a covariate, effect 1.0
    rng = np.random.default_rng(11)
    n, periods = 1500, np.arange(1, 6)
    x = rng.normal(size=n)
    g = rng.choice([0, 3, 4], size=n, p=[0.5, 0.25, 0.25])
    alpha = x + rng.normal(scale=0.5, size=n)
    df = pd.DataFrame({"id": np.repeat(np.arange(n), 5), "t": np.tile(periods, n),
                       "g": np.repeat(g, 5), "x": np.repeat(x, 5)})
    a = np.repeat(alpha, 5)
    treated = (df["g"] > 0) & (df["t"] >= df["g"])
    df["y"] = a + 0.3 * df["t"] * df["x"] + 1.0 * treated + rng.normal(scale=0.3, size=len(df))
    df = df[rng.uniform(size=len(df)) > 0.2].reset_index(drop=True)
    res = att_gt(df, yname="y", tname="t", idname="id", gname="g", xformla="~ x",
                 allow_unbalanced_panel=True)
    simple = res.aggregate("simple")
    assert simple.overall_estimate == pytest.approx(1.0, abs=3 * simple.overall_std_error)
    assert simple.overall_std_error < 0.1
    pre = res.tidy().query("event_time < 0")
    assert (pre["estimate"].abs() < 4 * pre["std_error"]).all()


# ------------------------------------------------------------------ contracts


def test_option_and_data_errors(mpdta: pd.DataFrame) -> None:
    with pytest.raises(OptionError, match=r"idname is required with panel=True"):
        att_gt(mpdta, yname="lemp", tname="year", gname="first.treat")
    with pytest.raises(OptionError, match=r"allow_unbalanced_panel must be True or False"):
        att_gt(mpdta, **MPDTA_KW, allow_unbalanced_panel="yes")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=r"panel must be True or False"):
        att_gt(mpdta, **MPDTA_KW, panel=0)  # type: ignore[arg-type]
    with pytest.raises(DataValidationError,
                       match=r"panel=False treats every row.*'countyreal' \(idname\) repeats for "
                             r"500 value"):
        att_gt(mpdta, **{**MPDTA_KW, "panel": False})
    vary = mpdta.drop(index=[3]).reset_index(drop=True)
    vary.loc[0, "first.treat"] = 2006
    with pytest.raises(DataValidationError,
                       match=r"'first.treat' \(gname\) must be constant within each "
                             r"'countyreal'.*1 unit"):
        att_gt(vary, **MPDTA_KW, allow_unbalanced_panel=True)


def test_result_records_structure(mpdta: pd.DataFrame, unbalanced: pd.DataFrame) -> None:
    res = att_gt(unbalanced, **MPDTA_KW, allow_unbalanced_panel=True)
    assert isinstance(res, ATTgtResult)
    assert res.settings["allow_unbalanced_panel"] is True and res.settings["panel"] is True
    assert "data_structure='unbalanced_panel', n_obs=2375" in repr(res)
    bal = att_gt(mpdta, **MPDTA_KW)
    assert bal.data_structure == "balanced_panel" and bal.n_obs == 2500
    assert "data_structure" not in repr(bal)
    # exported through the package namespace
    assert la.did.att_gt is att_gt


def test_docs_unbalanced_example_runs() -> None:
    doc = Path(__file__).resolve().parents[1] / "docs" / "estimators" / "callaway_santanna.md"
    text = doc.read_text()
    block = [b for b in text.split("```python\n")[1:] if "allow_unbalanced_panel=True" in b]
    assert len(block) == 1
    namespace: dict[str, Any] = {}
    exec(compile(block[0].split("```", 1)[0], str(doc), "exec"), namespace)
    res = namespace["res"]
    # the output quoted on the page is the output of the code on the page
    assert repr((res.n_units, res.n_obs, res.data_structure)) in text
    assert namespace["rcs"].data_structure == "repeated_cross_section"


def test_small_cell_warning_names_cells_by_their_dates() -> None:
    """With datetime periods the summarised warning names ATT(g,t) as tidy() does (issue 14:
    no position codes such as ATT(31,2))."""
    import warnings as _w

    import laborai as la
    rng = np.random.default_rng(0)
    months = pd.date_range("2021-01-01", periods=8, freq="MS")
    rows = []
    for i in range(12):
        g = months[5] if i == 0 else pd.NaT        # one treated unit: every cell is small
        for t in months:
            rows.append({"unit": i, "t": t, "g": g, "y": rng.normal()})
    df = pd.DataFrame(rows)
    with _w.catch_warnings(record=True) as caught:
        _w.simplefilter("always")
        la.did.att_gt(df, yname="y", tname="t", idname="unit", gname="g", vcov="analytic")
    text = " ".join(str(w.message) for w in caught)
    assert "ATT(2021-06,2021-02)" in text, text
    assert "ATT(6," not in text
