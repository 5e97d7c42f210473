"""cont_did: parity with R contdid 0.1.1 (reference folder), the Python cross-checks, input
validation, the result contract, and recovery of known dose responses."""

from __future__ import annotations

import dataclasses
import json
import pickle
import re
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
from laborai.did import TIDY_COLUMNS
from laborai.did.contdid import ContDIDResult, cont_did
from laborai.errors import DataValidationError, EstimationError, OptionError

REF = DATA_DIR / "reference" / "contdid"
KW: dict[str, Any] = {"yname": "Y", "tname": "time_period", "idname": "id", "gname": "G", "dname": "D"}


def _read(name: str) -> pd.DataFrame:
    path = REF / name
    if not path.exists():  # fail, never skip
        pytest.fail(f"reference file {path} is missing")
    return pd.read_csv(path)


EXPECTED = _read("expected_values.csv") if (REF / "expected_values.csv").exists() else None


def _expected() -> pd.DataFrame:
    if EXPECTED is None:
        pytest.fail(f"reference file {REF / 'expected_values.csv'} is missing")
    return EXPECTED


def _call_for(case: str) -> dict[str, Any]:
    """The laborai call of each reference case (R options translated)."""
    if case.startswith("readme"):
        agg = "dose" if case == "readme_dose" else "eventstudy"
        return {"degree": 3, "num_knots": 1, "aggregation": agg, "convention": "r",
                "control_group": "not_yet_treated"}
    m = re.fullmatch(r"statspai_two_period_d(\d)k(\d)", case)
    assert m, case
    return {"degree": int(m.group(1)), "num_knots": int(m.group(2)), "aggregation": "dose",
            "convention": "r", "control_group": "never_treated"}


_FITS: dict[tuple[str, str], ContDIDResult] = {}


def _fit(case: str, **extra: Any) -> ContDIDResult:
    key = (case, repr(sorted(extra.items())))
    if key not in _FITS:
        row = _expected().loc[lambda d: d["case"] == case].iloc[0]
        data = _read(str(row["data_file"]))
        _FITS[key] = cont_did(data, **KW, **{**_call_for(case), **extra})
    return _FITS[key]


def _value(res: ContDIDResult, case: str, stat: str) -> float:
    if stat == "overall_att" or stat.startswith("overall_att "):
        return res.overall_att
    if stat == "overall_acrt":
        return res.overall_acrt
    m = re.fullmatch(r"es_e(-?\d+)", stat)
    if m:
        e = int(m.group(1))
        i = int(np.flatnonzero(res.event_time == e)[0])
        return float(res.acrt_e[i] if case.endswith("slope") else res.att_e[i])
    m = re.fullmatch(r"(att|acrt)_d_(\d+)", stat)
    assert m, stat
    return float(getattr(res, f"{m.group(1)}_d")[int(m.group(2))])


def _se(res: ContDIDResult, case: str, stat: str) -> float:
    if stat == "overall_att" or stat.startswith("overall_att "):
        return res.overall_att_se
    if stat == "overall_acrt":
        return res.overall_acrt_se
    e = int(re.fullmatch(r"es_e(-?\d+)", stat).group(1))  # type: ignore[union-attr]
    i = int(np.flatnonzero(res.event_time == e)[0])
    return float(res.acrt_e_se[i] if case.endswith("slope") else res.att_e_se[i])


def _rows() -> list[tuple[str, str, float, float, str]]:
    if not (REF / "expected_values.csv").exists():
        return [("missing", "missing", np.nan, np.nan, "")]
    e = pd.read_csv(REF / "expected_values.csv")
    return [(r.case, r.statistic, float(r.estimate), float(r.se), str(r.tolerance_hint))
            for r in e.itertuples()]


@pytest.mark.parametrize(("case", "stat", "value", "se", "hint"), _rows(),
                         ids=[f"{r[0]}-{r[1]}" for r in _rows()])
def test_estimate_matches_r(case: str, stat: str, value: float, se: float, hint: str) -> None:
    res = _fit(case)
    got = _value(res, case, stat)
    # README numbers are printed to 4 decimals; R's own (StatsPAI) numbers to 15 digits
    tol = 5e-5 + 1e-12 if case.startswith("readme") else 1e-9
    assert abs(got - value) <= tol, (case, stat, got, value)


@pytest.mark.parametrize(("case", "stat", "value", "se", "hint"),
                         [r for r in _rows() if np.isfinite(r[3])],
                         ids=[f"{r[0]}-{r[1]}" for r in _rows() if np.isfinite(r[3])])
def test_standard_error_matches_r_bootstrap(case: str, stat: str, value: float, se: float,
                                            hint: str) -> None:
    """R's SEs are multiplier-bootstrap SEs from 100 draws (interquartile range), whose own
    sampling error is about 12%: 30% is two and a half of those. convention='r' reproduces
    R's influence-function scaling of ACRT (see the docs page)."""
    got = _se(_fit(case), case, stat)
    assert got == pytest.approx(se, rel=0.30), (case, stat, got, se)


def test_overall_parity_to_1e8_under_both_conventions() -> None:
    e = _expected()
    for case in ("statspai_two_period_d1k0", "statspai_two_period_d3k0",
                 "statspai_two_period_d3k2", "readme_dose"):
        res = _fit(case, convention="consistent")
        for stat in ("overall_att", "overall_acrt"):
            ref = float(e.loc[(e["case"] == case) & (e["statistic"] == stat), "estimate"].iloc[0])
            tol = 1e-8 if case.startswith("statspai") else 5e-5
            assert abs(_value(res, case, stat) - ref) <= tol


def _crosscheck() -> dict[str, Any]:
    path = REF / "python_crosscheck_moderndid0.2.0_diffdiff3.13.0.json"
    if not path.exists():
        pytest.fail(f"reference file {path} is missing")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize("spec", ["d1k0", "d3k0", "d3k2"])
def test_consistent_curves_match_diff_diff(spec: str) -> None:
    """diff-diff evaluates the curves on the basis of the fit: laborai's default convention."""
    cc = _crosscheck()[f"B_{spec}_diffdiff"]
    res = _fit(f"statspai_two_period_{spec}", convention="consistent")
    for j, v in cc["att_d"].items():
        assert res.dose[int(j)] == pytest.approx(cc["dose"][j], abs=1e-12)
        assert res.att_d[int(j)] == pytest.approx(v, abs=1e-9)
        assert res.acrt_d[int(j)] == pytest.approx(cc["acrt_d"][j], abs=1e-9)
    # the ATT^o standard error is the same influence function (two periods: no weights part)
    assert res.overall_att_se == pytest.approx(cc["overall_att_se"], rel=1e-9)
    if spec == "d1k0":  # linear dose model: the ACRT^o influence function is the slope's
        assert res.overall_acrt_se == pytest.approx(cc["overall_acrt_se"], rel=1e-9)


def test_r_event_study_level_matches_moderndid() -> None:
    cc = _crosscheck()["A_es_level_moderndid"]["es"]
    res = _fit("readme_es_level")
    for e, v in cc.items():
        i = int(np.flatnonzero(res.event_time == int(e))[0])
        assert res.att_e[i] == pytest.approx(v, abs=1e-9)


def test_consistent_event_study_is_the_binarized_did() -> None:
    """Under the default convention ATT(e) is the binarized DiD (diff-diff's numbers for e >= 0,
    and the cohort means of dY) and its cohort average is ATT^o of the dose aggregation."""
    cc = _crosscheck()["A_es_diffdiff"]
    res = _fit("readme_es_level", convention="consistent")
    for e in ("0", "1", "2"):
        i = int(np.flatnonzero(res.event_time == int(e))[0])
        assert res.att_e[i] == pytest.approx(cc[e]["effect"], abs=1e-9)
    assert res.overall_att == pytest.approx(_fit("readme_dose").overall_att, abs=1e-12)


# --------------------------------------------------------------------------- simulations
def _sim(n: int = 3000, seed: int = 0, tau: Any = None, cohorts: tuple[int, ...] = (0, 3, 4),
         T: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.choice(cohorts, n)
    d = np.where(g > 0, rng.uniform(0.1, 1.0, n), 0.0)
    a = rng.normal(size=n)
    tau = tau or (lambda x: 2.0 * x)
    t = np.arange(1, T + 1)
    eff = (g[:, None] > 0) & (t[None, :] >= g[:, None])
    y = a[:, None] + 0.3 * t[None, :]  # parallel trends in untreated outcomes
    y = y + eff * tau(d)[:, None] + rng.normal(0, 0.5, (n, T))
    return pd.DataFrame({"id": np.repeat(np.arange(n), T), "time_period": np.tile(t, n),
                         "G": np.repeat(g, T), "D": np.repeat(d, T), "Y": y.ravel()})


@pytest.mark.parametrize(("tau", "dtau", "degree"), [
    (lambda x: 2.0 * x, lambda x: 2.0 + 0 * x, 1),
    (lambda x: 1.0 + 3.0 * x**2, lambda x: 6.0 * x, 2),
])
def test_recovers_known_dose_response(tau: Any, dtau: Any, degree: int) -> None:
    df = _sim(n=4000, seed=5, tau=tau)
    res = cont_did(df, **KW, degree=degree, n_boot=499)
    d = res.dose
    assert np.max(np.abs(res.att_d - tau(d))) < 0.12
    assert np.max(np.abs(res.acrt_d - dtau(d))) < 0.6
    # the uniform bands cover the truth over the whole grid
    t = res.tidy()
    for term, truth in (("ATT(d)", tau(d)), ("ACRT(d)", dtau(d))):
        r = t[t["term"] == term]
        assert np.all((r["conf_low"] <= truth) & (truth <= r["conf_high"])), term
    dosed = df.groupby("id").first().query("G > 0")["D"].to_numpy()
    assert res.overall_att == pytest.approx(tau(dosed).mean(), abs=0.05)
    assert res.overall_acrt == pytest.approx(dtau(dosed).mean(), abs=0.15)
    # a wrong (too rigid) dose model is detected: linear fit of the quadratic truth
    if degree == 2:
        lin = cont_did(df, **KW, degree=1, cband=False)
        assert np.max(np.abs(lin.att_d - tau(d))) > 0.2


def test_event_study_placebos_near_zero_and_effects_recovered() -> None:
    df = _sim(n=3000, seed=2)
    res = cont_did(df, **KW, degree=1, aggregation="eventstudy", n_boot=299)
    pre = res.event_time < 0
    assert np.all(np.abs(res.att_e[pre]) < 4 * res.att_e_se[pre])
    dosed = df.groupby("id").first().query("G > 0")["D"].to_numpy()
    assert np.allclose(res.att_e[~pre], 2 * dosed.mean(), atol=0.1)
    assert np.allclose(res.acrt_e[~pre], 2.0, atol=0.35)


def test_analytic_and_bootstrap_standard_errors_agree() -> None:
    df = _sim(n=2000, seed=3)
    a = cont_did(df, **KW, degree=2, cband=False)
    b = cont_did(df, **KW, degree=2, vcov="bootstrap", n_boot=1999, seed=4)
    assert b.overall_att_se == pytest.approx(a.overall_att_se, rel=0.12)
    assert b.overall_acrt_se == pytest.approx(a.overall_acrt_se, rel=0.12)
    assert np.allclose(b.att_d_se, a.att_d_se, rtol=0.15)


def test_never_treated_and_not_yet_treated_differ_and_weights_duplicate() -> None:
    df = _sim(n=1500, seed=7)
    nyt = cont_did(df, **KW, cband=False)
    nev = cont_did(df, **KW, control_group="never_treated", cband=False)
    assert nyt.overall_att != nev.overall_att
    # integer weights give the point estimates of duplicated units
    ids = df["id"].unique()[:200]
    w = df.assign(w=np.where(df["id"].isin(ids), 2.0, 1.0))
    dup = pd.concat([df, df[df["id"].isin(ids)].assign(id=lambda x: x["id"] + 10**6)])
    rd = cont_did(dup, **KW, cband=False)
    # (the default grid and knots are unweighted quantiles, so the grid is passed)
    rw = cont_did(w, **KW, weights="w", cband=False, dvals=rd.dose)
    assert rw.overall_att == pytest.approx(rd.overall_att, abs=1e-10)
    assert rw.overall_acrt == pytest.approx(rd.overall_acrt, abs=1e-10)
    assert np.allclose(rw.att_d, rd.att_d, atol=1e-10)


def test_cluster_changes_standard_errors_only() -> None:
    df = _sim(n=1200, seed=8).assign(cl=lambda x: x["id"] % 30)
    a = cont_did(df, **KW, cband=False)
    c = cont_did(df, **KW, cluster="cl", n_boot=199)
    assert c.overall_att == a.overall_att
    assert np.isfinite(c.overall_att_se) and c.overall_att_se != a.overall_att_se


# --------------------------------------------------------------------------- validation
def _small() -> pd.DataFrame:
    return _sim(n=300, seed=1)


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    ({"xformla": "~ x"}, OptionError, "does not support covariates"),
    ({"control_group": "never"}, OptionError, "control_group must be one of"),
    ({"aggregation": "group"}, OptionError, "aggregation must be one of"),
    ({"convention": "R"}, OptionError, "convention must be one of"),
    ({"degree": 0}, OptionError, "degree must be an integer >= 1"),
    ({"num_knots": -1}, OptionError, "num_knots must be an integer >= 0"),
    ({"alpha": 1.5}, OptionError, "alpha must be"),
    ({"dvals": []}, OptionError, "dvals must be"),
    ({"dname": "nope"}, DataValidationError, "dname='nope' is not a column"),
])
def test_bad_options(kwargs: dict[str, Any], exc: type[Exception], match: str) -> None:
    args = {**KW, **kwargs}
    with pytest.raises(exc, match=match):
        cont_did(_small(), **args)


def test_bad_data() -> None:
    df = _small()
    with pytest.raises(DataValidationError, match=r"'D' \(dname\) must be constant within"):
        cont_did(df.assign(D=df["D"] + 0.01 * df["time_period"]), **KW)
    bad = df.copy()
    bad.loc[(bad["G"] > 0) & (bad["id"] == bad.loc[bad["G"] > 0, "id"].iloc[0]), "D"] = 0.0
    with pytest.raises(DataValidationError, match=r"must be positive for treated units .*; 1 treated unit"):
        cont_did(bad, **KW)
    with pytest.raises(DataValidationError, match="unbalanced: 1 of 300 units"):
        cont_did(df.iloc[1:], **KW)
    with pytest.raises(DataValidationError, match="appear more than once"):
        cont_did(pd.concat([df, df.iloc[:1]]), **KW)
    with pytest.raises(DataValidationError, match=r"'Y' \(yname\) has 1 missing values"):
        cont_did(df.assign(Y=df["Y"].where(df.index != 3)), **KW)
    with pytest.raises(DataValidationError, match="must hold a period"):
        cont_did(df.assign(G=df["G"].replace(3, 2.5)), **KW)
    with pytest.raises(DataValidationError, match="must be a pandas DataFrame"):
        cont_did(df.to_numpy(), **KW)  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match="no comparison units"):
        cont_did(df[df["G"] > 0], **KW, control_group="never_treated")
    with pytest.raises(EstimationError, match="B-spline in the dose"):
        cont_did(df, **KW, num_knots=150)


def test_first_period_cohort_dropped_with_warning() -> None:
    df = _small()
    df.loc[df["id"] < 5, "G"] = 1
    df.loc[df["id"] < 5, "D"] = 0.5
    with pytest.warns(la.did.DroppedUnitsWarning, match="Dropped 5 unit"):
        res = cont_did(df, **KW, cband=False)
    assert res.n_dropped == 5 and res.n_units == 295


# --------------------------------------------------------------------------- contract
@pytest.fixture(scope="module")
def res() -> ContDIDResult:
    return cont_did(_small(), **KW, n_boot=99)


def test_tidy_schema_and_views(res: ContDIDResult) -> None:
    t = res.tidy()
    assert tuple(t.columns[:len(TIDY_COLUMNS)]) == TIDY_COLUMNS
    assert list(t.columns[len(TIDY_COLUMNS):]) == ["dose", "event_time", "point_conf_low",
                                                   "point_conf_high"]
    assert list(t["term"].iloc[:2]) == ["ATT^o", "ACRT^o"]
    assert (t["term"] == "ATT(d)").sum() == 90 and (t["term"] == "ACRT(d)").sum() == 90
    assert res.params["ATT^o"] == res.overall_att
    assert np.allclose(res.std_errors.to_numpy(float), t["std_error"].to_numpy(float))
    band = t[t["term"] == "ATT(d)"]
    assert np.all(band["conf_low"] <= band["point_conf_low"] + 1e-15)
    for view in (res.summary(), res.to_markdown(), res.to_latex(), repr(res)):
        assert isinstance(view, str) and view and "0x" not in view
    es = cont_did(_small(), **KW, aggregation="eventstudy", cband=False).tidy()
    assert set(es["term"]) == {"ATT^o", "ACRT^o", "ATT(e)", "ACRT(e)"}
    assert es["event_time"].dtype == "Int64"


def test_frozen_read_only_provenance(res: ContDIDResult) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.overall_att = 0.0  # type: ignore[misc]
    for f in dataclasses.fields(res):
        v = getattr(res, f.name)
        assert not isinstance(v, dict), f.name
        if isinstance(v, np.ndarray) and v.size:
            with pytest.raises(ValueError, match="read-only"):
                v.flat[0] = v.flat[0]
    with pytest.raises(TypeError):
        res.provenance.settings["x"] = 1  # type: ignore[index]
    assert res.provenance.input_hash == frame_hash(_small())
    assert res.provenance.version == la.__version__
    assert res.settings["seed"] == 0 and res.seed == 0


def test_deterministic_and_input_untouched() -> None:
    df = _small()
    before = frame_hash(df)
    a = cont_did(df, **KW, n_boot=99)
    assert frame_hash(df) == before
    b = cont_did(df.sample(frac=1.0, random_state=3), **KW, n_boot=99)
    pd.testing.assert_frame_equal(a.tidy(), b.tidy(), check_exact=False, rtol=1e-10)
    c = cont_did(df, **KW, n_boot=99, seed=1)
    assert c.att_d_crit != a.att_d_crit  # the seed is what changes the bands


def test_pickle_and_save_load(res: ContDIDResult, tmp_path: Path) -> None:
    back = pickle.loads(pickle.dumps(res))
    pd.testing.assert_frame_equal(back.tidy(), res.tidy())
    path = res.save(tmp_path / "r.laborai")
    with zipfile.ZipFile(path) as zf:
        assert "result.json" in zf.namelist()
    loaded = ContDIDResult.load(path)
    assert type(loaded) is ContDIDResult
    pd.testing.assert_frame_equal(loaded.tidy(), res.tidy())
    assert loaded.provenance == res.provenance
    for f in dataclasses.fields(res):
        a, b = getattr(res, f.name), getattr(loaded, f.name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype, f.name
            np.testing.assert_array_equal(a, b)
            assert not b.flags.writeable


def test_plot(res: ContDIDResult) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ax = res.plot("acrt")
        assert ax.get_ylabel() == "ACRT(d)"
        es = cont_did(_small(), **KW, aggregation="eventstudy", cband=False)
        assert es.plot().get_xlabel() == "event time"
    plt.close("all")


def test_vcov_keyword() -> None:
    """vcov='auto' resolves to 'analytic' and is recorded; 'bootstrap' changes only the
    standard errors (issue 14)."""
    df = _sim(n=600, seed=3)
    a = cont_did(df, **KW, degree=1, cband=False)
    assert (a.settings["vcov"], a.settings["vcov_requested"]) == ("analytic", "auto")
    b = cont_did(df, **KW, degree=1, cband=False, vcov="bootstrap", n_boot=199, seed=1)
    assert b.settings["vcov"] == "bootstrap"
    assert b.overall_att == a.overall_att and b.overall_att_se != a.overall_att_se
    with pytest.raises(OptionError, match=r"vcov must be one of 'auto', 'analytic', "
                                          r"'bootstrap'; got 'wild'"):
        cont_did(df, **KW, vcov="wild")  # type: ignore[arg-type]
