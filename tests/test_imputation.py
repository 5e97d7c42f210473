"""did_imputation (Borusyak, Jaravel & Spiess 2024) and did2s (Gardner 2022), issue 13.

Parity with R didimputation 0.5, Stata did_imputation (incl. leaveout and avgeffectsby
variants), R did2s 1.2.1 and Stata did2s on every case of
$LABORAI_DATA_DIR/reference/imputation (tolerances from its expected_values.csv), a dense
brute-force check of weights, covariates and extra fixed effects, validation errors, recovery of
a heterogeneous staggered effect where TWFE is biased, HonestDiD on the result, and the result
contract (frozen, read-only, pickle, save/load, provenance, determinism).
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _shared import DATA_DIR

import laborai as la
from laborai._hashing import frame_hash
from laborai._results import ResultMixin
from laborai.did import TIDY_COLUMNS
from laborai.did.imputation import (
    ImputationResult,
    NotImputableWarning,
    TwoStageResult,
    did2s,
    did_imputation,
)
from laborai.errors import DataValidationError, LaborAIError, OptionError

REF = DATA_DIR / "reference" / "imputation"
MPDTA = DATA_DIR / "reference" / "did_r" / "mpdta.csv"


def _json(name: str) -> dict[str, Any]:
    return json.loads((REF / name).read_text())  # fails (never skips) when missing


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return pd.read_csv(REF / "diffdiff_didimputation_test_panel.csv")


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    m = pd.read_csv(MPDTA)
    m["dpost"] = ((m["first.treat"] > 0) & (m["year"] >= m["first.treat"])).astype(int)
    return m


@pytest.fixture(scope="module")
def df_het() -> pd.DataFrame:
    d = pd.read_csv(REF / "did2s_df_het.csv.gz")
    assert len(d) == 46_500
    d["X"] = np.random.default_rng(12345).normal(size=len(d))
    d["weights"] = np.random.default_rng(1243).uniform(0, 10, len(d))
    return d


def _es(res: Any) -> pd.DataFrame:
    t = res.tidy()
    return t[t["estimand"] == "event_time"].set_index("event_time")


PANEL = {"yname": "y", "idname": "unit", "tname": "time", "gname": "first_treat"}


# ------------------------------------------------------------------------------ parity: BJS
def test_parity_r_didimputation_panel(panel: pd.DataFrame) -> None:
    g = _json("diffdiff_didimputation_golden.json")
    r = did_imputation(panel, **PANEL)
    assert abs(r.att - g["overall"]["att"]) < 2e-7
    assert abs(r.att_se - g["overall"]["se"]) < 1e-8
    es = _es(r)
    h = g["event_study"]["horizons"]
    np.testing.assert_allclose(es.loc[h, "estimate"], g["event_study"]["att"], rtol=0, atol=2e-7)
    np.testing.assert_allclose(es.loc[h, "std_error"], g["event_study"]["se"], rtol=0, atol=1e-8)


def test_parity_stata_leaveout_panel(panel: pd.DataFrame) -> None:
    g = _json("diffdiff_didimputation_loo_stata_golden.json")
    hs = list(range(6))
    for leave_out, key in ((True, "se"), (False, "se_nonloo")):
        r = did_imputation(panel, **PANEL, horizons=5, leave_out=leave_out)
        assert abs(r.att - g["overall"]["att"]) < 1e-9
        assert abs(r.att_se - g["overall"][key]) < 1e-8
        es = _es(r)
        np.testing.assert_allclose(es.loc[hs, "estimate"],
                                   [g["event_study"][str(h)]["att"] for h in hs], atol=1e-9)
        np.testing.assert_allclose(es.loc[hs, "std_error"],
                                   [g["event_study"][str(h)][key] for h in hs], atol=1e-8)
    assert r.settings["leave_out"] is False


@pytest.mark.parametrize("by,key", [("cohort", "cohort"), ("horizon", "horizon")])
def test_parity_stata_avgeffectsby_balanced(panel: pd.DataFrame, by: str, key: str) -> None:
    g = _json("diffdiff_didimputation_loo_stata_golden.json")["variants"][key]["overall"]
    for leave_out, se in ((True, "se"), (False, "se_nonloo")):
        r = did_imputation(panel, **PANEL, event_study=False, leave_out=leave_out,
                           avg_effects_by=by)  # type: ignore[arg-type]
        assert abs(r.att - g["att"]) < 1e-8
        assert abs(r.att_se - g[se]) < 1e-8


@pytest.mark.parametrize("by,key", [("cohort_period", "cohort_horizon"), ("cohort", "cohort"),
                                    ("horizon", "horizon")])
def test_parity_stata_avgeffectsby_unbalanced(panel: pd.DataFrame, by: str, key: str) -> None:
    u = _json("diffdiff_didimputation_loo_stata_golden.json")["unbalanced"]
    d = panel[~((panel["unit"] % 4 == 0) & (panel["time"] >= 6))]
    assert len(d) == u["n_rows"]
    for leave_out, se in ((True, "se"), (False, "se_nonloo")):
        r = did_imputation(d, **PANEL, event_study=False, leave_out=leave_out,
                           avg_effects_by=by)  # type: ignore[arg-type]
        assert abs(r.att - u[key]["att"]) < 1e-7
        assert abs(r.att_se - u[key][se]) < 1e-8


STATA_MPDTA = {
    "default": {},
    "fe_time_only": {"fe": ["year"]},
    "fe_none": {"fe": []},
    "timecontrols_lpop": {"fe": ["countyreal", "year", "year[lpop]"]},
    "controls_lpop": {"xformla": "~ lpop"},
}


@pytest.mark.parametrize("case", sorted(STATA_MPDTA))
def test_parity_stata_mpdta_fe_and_controls(mpdta: pd.DataFrame, case: str) -> None:
    ref = _json("statspai_84_bjs_fe_covariates_mpdta_Stata.json")[case]
    r = did_imputation(mpdta, yname="lemp", idname="countyreal", tname="year",
                       gname="first.treat", event_study=False, **STATA_MPDTA[case])
    assert abs(r.att - ref["att"]) < 1e-6
    assert abs(r.att_se - ref["se"]) < 1e-6


@pytest.mark.parametrize("case,fe", [("default_identified_subset", None),
                                     ("unitcontrols_year_subset",
                                      ["countyreal", "year", "countyreal[year]"])])
def test_parity_stata_mpdta_subset(mpdta: pd.DataFrame, case: str, fe: Any) -> None:
    ref = _json("statspai_84_bjs_fe_covariates_mpdta_Stata.json")[case]
    untreated = mpdta[mpdta["dpost"] == 0].groupby("countyreal").size()
    sub = mpdta[mpdta["countyreal"].isin(untreated[untreated >= 2].index)]
    r = did_imputation(sub, yname="lemp", idname="countyreal", tname="year",
                       gname="first.treat", event_study=False, fe=fe)
    assert abs(r.att - ref["att"]) < 1e-6
    assert abs(r.att_se - ref["se"]) < 1e-6


def test_parity_replica_r_and_stata() -> None:
    d = pd.read_csv(REF / "statspai_16_bjs_mpdta_replica.csv")
    kw = {"yname": "lemp", "idname": "countyreal", "tname": "year", "gname": "first_treat"}
    rr = {x["statistic"]: x["estimate"] for x in _json("statspai_16_bjs_R.json")["rows"]}
    st = {x["statistic"]: x["estimate"] for x in _json("statspai_16_bjs_Stata.json")["rows"]}
    r = did_imputation(d, **kw, event_study=False)
    assert abs(r.att - rr["att_bjs"]) < 1e-8
    assert abs(r.att_se - rr["se_didimputation"]) < 1e-8
    assert abs(r.att - st["att_bjs"]) < 1e-7
    assert abs(r.att_se - st["se_stata_did_imputation"]) < 1e-8
    s = did2s(d, **kw)
    for name in ("statspai_73_did2s_R.json", "statspai_73_did2s_Stata.json"):
        row = _json(name)["rows"][0]
        assert abs(s.att - row["estimate"]) < 1e-8
        assert abs(s.att_se - row["se"]) < 1e-8


# ------------------------------------------------------------------------------ parity: did2s
def test_parity_r_did2s_panel(panel: pd.DataFrame) -> None:
    g = _json("diffdiff_did2s_golden.json")
    s = did2s(panel, **PANEL)
    assert abs(s.att - g["overall"]["att"]) < 2e-7
    assert abs(s.att_se - g["overall"]["se"]) < 1e-8
    e = did2s(panel, **PANEL, second_stage="event_study")
    es = _es(e)
    h = g["event_study"]["horizons"]
    np.testing.assert_allclose(es.loc[h, "estimate"], g["event_study"]["att"], atol=2e-7)
    np.testing.assert_allclose(es.loc[h, "std_error"], g["event_study"]["se"], atol=1e-8)


def test_parity_r_did2s_mpdta(mpdta: pd.DataFrame) -> None:
    for kw in ({"gname": "first.treat"}, {"dname": "dpost"}):
        s = did2s(mpdta, yname="lemp", idname="countyreal", tname="year", **kw)
        assert abs(s.att - (-0.0477099151)) < 1e-8
        assert abs(s.att_se - 0.0134784088) < 1e-8
    r = did_imputation(mpdta, yname="lemp", idname="countyreal", tname="year",
                       gname="first.treat", event_study=False)
    assert abs(r.att - (-0.047710015124267)) < 1e-6  # Stata did_imputation default
    assert abs(r.att_se - 0.013222491066798) < 1e-6


def _r_did2s(weighted: bool) -> pd.DataFrame:
    name = "pyfixest_R_did2s_df_het_results" + ("_weighted" if weighted else "") + ".csv"
    return pd.read_csv(REF / name, header=0,
                       names=["model", "i", "term", "estimate", "se", "t", "p", "lo", "hi"])


@pytest.mark.parametrize("weighted", [False, True])
def test_parity_r_did2s_df_het(df_het: pd.DataFrame, weighted: bool) -> None:
    ref = _r_did2s(weighted)
    kw: dict[str, Any] = {"yname": "dep_var", "idname": "unit", "tname": "year", "gname": "g",
                          "fe": ["state", "year"], "cluster": "state",
                          "weights": "weights" if weighted else None}
    s = did2s(df_het, **kw)
    m1 = ref[ref["model"] == "model1"].iloc[0]
    assert abs(s.att - m1["estimate"]) < 1e-6
    assert abs(s.att_se - m1["se"]) < 1e-7
    for model, x in (("model2", None), ("model3", "~ X")):
        e = did2s(df_het, **kw, second_stage="event_study", xformla=x)
        rr = ref[(ref["model"] == model) & (ref["term"] != "rel_year::-Inf")]
        k = rr["term"].str.replace("rel_year::", "").astype(int).to_numpy()
        es = _es(e)
        assert sorted(k.tolist()) == e.event_times.tolist()
        np.testing.assert_allclose(es.loc[k, "estimate"], rr["estimate"], atol=1e-6)
        np.testing.assert_allclose(es.loc[k, "std_error"], rr["se"], atol=1e-7)


# ------------------------------------------------------------------------------ brute force
def _toy(seed: int = 0, n: int = 40, T: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        g = (0, 4, 6, 7)[i % 4]
        a = rng.normal()
        for t in range(1, T + 1):
            d = int(g > 0 and t >= g)
            rows.append({"unit": i, "t": t, "g": g, "tier": i % 3, "cl": i % 10,
                         "x": rng.normal(), "w": 1.0 + (i % 5),
                         "y": a + 0.3 * t + d * (1.0 + 0.2 * (t - g) + 0.1 * (i % 3))
                         + rng.normal(scale=0.5)})
    d = pd.DataFrame(rows)
    d["y"] += 0.4 * d["x"]
    return d


def _dense(d: pd.DataFrame, fe: list[str], x: list[str], w: np.ndarray) -> tuple[float, Any]:
    """Brute force: dense WLS on the untreated rows, imputation, weighted ATT and v-weights."""
    tr = ((d["g"] > 0) & (d["t"] >= d["g"])).to_numpy()
    parts = [pd.get_dummies(d[f].astype(str), prefix=f, dtype=float) if "^" not in f else
             pd.get_dummies(d[f.split("^")[0]].astype(str) + "_" + d[f.split("^")[1]].astype(str),
                            dtype=float) for f in fe]
    X = pd.concat([*parts, d[x]], axis=1).to_numpy(dtype=float)
    y = d["y"].to_numpy()
    X0, X1 = X[~tr] * np.sqrt(w[~tr])[:, None], X[tr]
    gamma = np.linalg.lstsq(X0, y[~tr] * np.sqrt(w[~tr]), rcond=None)[0]
    w1 = w[tr] / w[tr].sum()
    att = float(w1 @ (y[tr] - X1 @ gamma))
    v0 = -(w[~tr][:, None] * X[~tr]) @ np.linalg.pinv(X[~tr].T @ (w[~tr][:, None] * X[~tr])) \
        @ X1.T @ w1
    return att, v0


def test_weights_covariates_and_extra_fe_against_dense_solver() -> None:
    d = _toy()
    fe = ["unit", "t", "tier^t"]
    res = did_imputation(d, yname="y", idname="unit", tname="t", gname="g", fe=fe,
                         xformla="~ x", weights="w", cluster="cl")
    att, v0 = _dense(d, fe, ["x"], d["w"].to_numpy(dtype=float))
    assert abs(res.att - att) < 1e-10
    iw = res.implicit_weights
    np.testing.assert_allclose(iw.loc[~iw["treated"], "att"], v0, atol=1e-10)
    # the estimator is linear in Y with these weights, for every estimand
    y = d["y"].to_numpy()
    for term, est in zip(res.tidy()["term"], res.tidy()["estimate"], strict=False):
        if term in iw.columns:
            assert abs(float(iw[term].to_numpy() @ y) - est) < 1e-10
    s = did2s(d, yname="y", idname="unit", tname="t", gname="g", fe=fe, xformla="~ x",
              weights="w", cluster="cl")
    assert abs(s.att - res.att) < 1e-10  # same point estimate, different variance
    assert abs(float(s.implicit_weights["att"].to_numpy() @ y) - s.att) < 1e-10
    assert res.n_clusters == 10 and s.settings["cluster"] == "cl"


# ------------------------------------------------------------------------------ recovery
def test_recovers_heterogeneous_staggered_effect_where_twfe_is_biased() -> None:
    rng = np.random.default_rng(7)
    rows = []
    for i in range(300):
        g = (0, 3, 6, 9)[i % 4]
        a = rng.normal()
        for t in range(1, 13):
            k = t - g
            tau = (1.0 + 0.5 * k) * (g > 0 and t >= g)  # effects grow with exposure
            rows.append((i, t, g, int(g > 0 and t >= g), tau,
                         a + 0.2 * t + tau + rng.normal(scale=0.3)))
    d = pd.DataFrame(rows, columns=["unit", "t", "g", "d", "tau", "y"])
    truth = float(d.loc[d["d"] == 1, "tau"].mean())
    r = did_imputation(d, yname="y", idname="unit", tname="t", gname="g", horizons=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tw = la.did.twfe(d, yname="y", dname="d", idname="unit", tname="t", vcov="cluster")
    twfe_est = float(tw.tidy()["estimate"].iloc[0])
    assert abs(r.att - truth) < 4 * r.att_se
    assert abs(r.att - truth) < 0.05
    assert abs(twfe_est - truth) > 0.5  # TWFE's forbidden comparisons bias it downward
    es = _es(r)
    np.testing.assert_allclose(es["estimate"], [1.0, 1.5, 2.0, 2.5], atol=0.1)
    s = did2s(d, yname="y", idname="unit", tname="t", gname="g", second_stage="event_study")
    assert abs(_es(s).loc[2, "estimate"] - 2.0) < 0.1
    assert np.all(np.abs(_es(s).loc[[-3, -2], "estimate"]) < 0.1)


# ------------------------------------------------------------------------------ honest/pretrends
def test_event_study_view_and_honest(panel: pd.DataFrame) -> None:
    r = did_imputation(panel, **PANEL, horizons=3, pretrends=2)
    assert r.event_times.tolist() == [-3, -2, 0, 1, 2, 3] and r.ref == -1
    t = r.tidy().set_index("term")
    np.testing.assert_allclose(r.coef, t.loc[["pre::-2", "pre::-1", "event_time::0",
                                              "event_time::1", "event_time::2",
                                              "event_time::3"], "estimate"])
    assert r.vcov.shape == (6, 6)
    np.testing.assert_allclose(np.sqrt(np.diag(r.vcov)),
                               t.loc[["pre::-2", "pre::-1", "event_time::0", "event_time::1",
                                      "event_time::2", "event_time::3"], "std_error"])
    assert r.pretrend["df1"] == 2 and 0 < r.pretrend["p_value"] <= 1
    h = la.did.honest(r, grid=[0.5, 1.0])
    assert len(h.tidy()) > 0
    s = did2s(panel, **PANEL, second_stage="event_study")
    assert s.ref == -1 and -1 not in s.event_times.tolist()
    assert s.event_times.tolist() == [-4, -3, -2, 0, 1, 2, 3, 4, 5]
    assert len(la.did.honest(s, grid=[0.5]).tidy()) > 0
    with pytest.raises(LaborAIError):  # no leads: honest needs pre-periods
        la.did.honest(did_imputation(panel, **PANEL, horizons=2), grid=[0.5])


# ------------------------------------------------------------------------------ validation
def test_validation_errors(panel: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match="yname='nope' is not a column"):
        did_imputation(panel, **{**PANEL, "yname": "nope"})
    bad = panel.copy()
    bad.loc[0, "first_treat"] = 5
    with pytest.raises(DataValidationError, match="constant within each unit"):
        did_imputation(bad, **PANEL)
    with pytest.raises(DataValidationError, match="duplicates"):
        did_imputation(pd.concat([panel, panel.head(2)]), **PANEL)
    miss = panel.copy()
    miss.loc[3, "y"] = np.nan
    with pytest.raises(DataValidationError, match="1 missing values"):
        did_imputation(miss, **PANEL)
    with pytest.raises(OptionError, match="avg_effects_by must be one of"):
        did_imputation(panel, **PANEL, avg_effects_by="cell")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="pretrends must be None or a positive int"):
        did_imputation(panel, **PANEL, pretrends=0)
    with pytest.raises(OptionError, match="leave_out must be True or False"):
        did_imputation(panel, **PANEL, leave_out="yes")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="alpha must be"):
        did_imputation(panel, **PANEL, alpha=1.5)
    with pytest.raises(DataValidationError, match=r"horizons \[9\] have no imputable"):
        did_imputation(panel, **PANEL, horizons=[0, 9])
    with pytest.raises(DataValidationError, match="pretrends=7: no untreated observation"):
        did_imputation(panel, **PANEL, pretrends=7)
    with pytest.raises(OptionError, match="fe term"):
        did_imputation(panel, **PANEL, fe=["unit[", "time"])
    negw = panel.assign(w=-1.0)
    with pytest.raises(DataValidationError, match="weights"):
        did_imputation(negw, **PANEL, weights="w")
    with pytest.raises(DataValidationError, match="must be numeric"):
        did_imputation(panel.assign(time=panel["time"].astype(str)), **PANEL)
    with pytest.raises(OptionError, match="exactly one of gname"):
        did2s(panel, yname="y", idname="unit", tname="time")
    with pytest.raises(OptionError, match="needs gname"):
        did2s(panel.assign(d=0), yname="y", idname="unit", tname="time", dname="d",
              second_stage="event_study")
    with pytest.raises(DataValidationError, match="must be 0/1"):
        did2s(panel.assign(d=2), yname="y", idname="unit", tname="time", dname="d")
    with pytest.raises(OptionError, match="second_stage must be one of"):
        did2s(panel, **PANEL, second_stage="dynamic")  # type: ignore[arg-type]


def test_not_imputable_treated_rows_are_dropped_and_counted(panel: pd.DataFrame) -> None:
    d = panel.copy()
    always = d["unit"].isin(d.loc[d["first_treat"] == 3, "unit"].unique()[:2])
    d.loc[always, "first_treat"] = 1  # treated from the first period: no untreated row
    with pytest.warns(NotImputableWarning, match="16 treated observations cannot be imputed"):
        r = did_imputation(d, **PANEL)
    assert r.n_not_imputable == 16 and r.nobs == len(d) - 16
    with pytest.warns(NotImputableWarning):
        s = did2s(d, **PANEL)
    assert s.n_not_imputable == 16 and abs(s.att - r.att) < 1e-12


def test_never_treated_codings_and_row_order(panel: pd.DataFrame) -> None:
    r = did_imputation(panel, **PANEL, pretrends=1)
    inf = panel.assign(first_treat=panel["first_treat"].replace(0, np.inf))
    nan = panel.assign(first_treat=panel["first_treat"].replace(0, np.nan))
    shuffled = panel.sample(frac=1.0, random_state=3)
    for other in (inf, nan, shuffled):
        o = did_imputation(other, **PANEL, pretrends=1)
        pd.testing.assert_frame_equal(o.tidy(), r.tidy(), check_exact=False, rtol=1e-10)


# ------------------------------------------------------------------------------ contract
@pytest.fixture(scope="module", params=["did_imputation", "did2s_es"])
def result(request: pytest.FixtureRequest, panel: pd.DataFrame) -> tuple[Any, pd.DataFrame]:
    d = panel.copy()
    before = frame_hash(d)
    if request.param == "did_imputation":
        res: Any = did_imputation(d, **PANEL, horizons=3, pretrends=2, leave_out=True)
    else:
        res = did2s(d, **PANEL, second_stage="event_study")
    assert frame_hash(d) == before  # input not mutated
    return res, d


def test_contract_schema_views_and_provenance(result: tuple[Any, pd.DataFrame]) -> None:
    res, d = result
    assert isinstance(res, (ImputationResult, TwoStageResult)) and isinstance(res, ResultMixin)
    t = res.tidy()
    assert tuple(t.columns[: len(TIDY_COLUMNS)]) == TIDY_COLUMNS and len(t) > 0
    for view in (res.summary(), res.to_markdown(), res.to_latex(), repr(res)):
        assert isinstance(view, str) and view
    np.testing.assert_allclose(res.params.to_numpy(float), t["estimate"].to_numpy(float))
    np.testing.assert_allclose(res.std_errors.to_numpy(float), t["std_error"].to_numpy(float))
    assert list(res.conf_int().columns) == ["conf_low", "conf_high"]
    p = res.provenance
    assert p.version == la.__version__ and p.input_hash == frame_hash(d)
    assert p.estimator in ("did_imputation", "did2s")


def test_contract_frozen_and_read_only(result: tuple[Any, pd.DataFrame]) -> None:
    res, _ = result
    ref = res.tidy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.att = 0.0
    for f in dataclasses.fields(res):
        v = getattr(res, f.name)
        if isinstance(v, np.ndarray) and v.size:
            with pytest.raises(ValueError, match="read-only"):
                v.flat[0] = v.flat[0]
        elif isinstance(v, pd.DataFrame) and v.size:
            v.iloc[0, 0] = None
        assert not isinstance(v, dict), f.name
    t = res.tidy()
    t.iloc[0, 1] = 1e9
    pd.testing.assert_frame_equal(res.tidy(), ref)
    with pytest.raises(TypeError):
        res.provenance.settings["x"] = 1


def test_contract_determinism_pickle_save_load(result: tuple[Any, pd.DataFrame],
                                               tmp_path: Path) -> None:
    res, d = result
    again = (did_imputation(d, **PANEL, horizons=3, pretrends=2, leave_out=True)
             if isinstance(res, ImputationResult) else
             did2s(d, **PANEL, second_stage="event_study"))
    pd.testing.assert_frame_equal(again.tidy(), res.tidy(), check_exact=True)
    np.testing.assert_array_equal(again.vcov, res.vcov)
    assert again.provenance == res.provenance and repr(again) == repr(res)
    back = pickle.loads(pickle.dumps(res))
    pd.testing.assert_frame_equal(back.tidy(), res.tidy())
    path = res.save(tmp_path / "r.laborai")
    with zipfile.ZipFile(path) as zf:
        assert "result.json" in zf.namelist()
    loaded = type(res).load(path)
    assert type(loaded) is type(res)
    pd.testing.assert_frame_equal(loaded.tidy(), res.tidy())
    pd.testing.assert_frame_equal(loaded.implicit_weights, res.implicit_weights)
    assert loaded.provenance == res.provenance
    for f in dataclasses.fields(res):
        a, b = getattr(res, f.name), getattr(loaded, f.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
            assert a.dtype == b.dtype and not b.flags.writeable
    other = ImputationResult if isinstance(res, TwoStageResult) else TwoStageResult
    with pytest.raises(DataValidationError, match=f"holds a {type(res).__name__}"):
        other.load(path)
