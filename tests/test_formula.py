"""The formula form (``formula="y ~ d | unit + period + tier^period"``) and several outcomes
per call of twfe, event_study, ddd and estimate_effects (issue 14): coefficient for coefficient
equal to the explicit call and to pyfixest's ``feols`` on the same formula; strict grammar;
the ResultSet contract (read-only, picklable, save/load, etable).

The decorator is applied here to the real functions, so the tests run before and after the
integrator adds ``@formula_interface(...)`` to them (applying it twice is a no-op).
"""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from pyfixest.demeaners import MapDemeaner

import laborai as la
from laborai import _store
from laborai._hashing import frame_hash
from laborai.did._formula import GRAMMAR, ResultSet, formula_interface, parse_formula
from laborai.errors import DataValidationError, LaborAIWarning, OptionError

ROOT = Path(__file__).resolve().parents[1]
TIGHT = MapDemeaner(fixef_tol=1e-13)

twfe = formula_interface("twfe")(la.did.twfe)
event_study = formula_interface("event_study")(la.did.event_study)
ddd = formula_interface("ddd")(la.did.ddd)
estimate_effects = formula_interface("estimate_effects")(la.estimate_effects)


def panel(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_u, n_t = 40, 12
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_u), n_t), "t": np.tile(np.arange(n_t), n_u)})
    df["tier"] = df["unit"] % 2
    df["cat"] = df["unit"] // 2
    df["country"] = rng.integers(0, 5, len(df))
    df["x"] = rng.normal(size=len(df))
    df["treated"] = (df["cat"] < 8).astype(int)
    df["post"] = (df["t"] >= 6).astype(int)
    df["d"] = df["treated"] * df["post"]
    base = 0.2 * df["tier"] * df["t"] / n_t + 0.1 * df["country"] + 0.3 * df["x"]
    df["y"] = 0.3 * df["d"] + base + rng.normal(size=len(df))
    df["y2"] = -0.2 * df["d"] + base + rng.normal(size=len(df))
    df["event_date"] = np.where(df["treated"] == 1, 6.0, np.nan)
    return df


def quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LaborAIWarning)
        return fn(*args, **kwargs)


def same(a: Any, b: Any) -> None:
    """Exactly equal tables (no tolerance)."""
    pd.testing.assert_frame_equal(a.tidy(), b.tidy(), check_exact=True)


# ------------------------------------------------------------------------------ the grammar


def test_parse_reads_the_grammar() -> None:
    f = parse_formula("y1 + y2 ~ d + x | unit + t + tier^t + country")
    assert f.outcomes == ("y1", "y2")
    assert not f.intercept_only
    assert f.terms == (("d",), ("x",))
    assert f.fixed_effects == (("unit",), ("t",), ("tier", "t"), ("country",))
    assert f.columns == ("y1", "y2", "d", "x", "unit", "t", "tier", "country")
    g = parse_formula("  y~1|unit+t  ")
    assert g.intercept_only and g.terms == () and g.fixed_effects == (("unit",), ("t",))
    h = parse_formula("y ~ exposed:high + x | unit + t + tier:t")
    assert h.terms == (("exposed", "high"), ("x",))
    assert h.fixed_effects[2] == ("tier", "t")  # pyfixest >= 0.70 spells it tier:t


@pytest.mark.parametrize(("formula", "problem"), [
    ("y ~ i(t, treated, ref=5) | unit + t", "function calls such as i() are not supported"),
    ("y ~ C(d) | unit + t", "function calls such as C()"),
    ("y ~ d | sw(unit, t)", "function calls such as sw()"),
    ("y ~ csw(d, x) | unit + t", "function calls such as csw()"),
    ("log(y) ~ d | unit + t", "function calls such as log()"),
    ("y ~ d | unit + t | x ~ country", "exactly one '~' (a second one is an IV part"),
    ("y ~ d | unit + t | country", "more than one '|' (a third part"),
    ("y ~ x + [d ~ country] | unit + t", "unsupported IV or varying-slope brackets"),
    ("y ~ d | unit[x] + t", "unsupported IV or varying-slope brackets"),
    ("y ~ d * x | unit + t", "unsupported the '*' operator"),
    ("y ~ d - 1 | unit + t", "unsupported the '-' operator"),
    ("y ~ 0 + d | unit + t", "the number 0 in the right-hand side is not supported"),
    ("y ~ d + 1 | unit + t", "('1' may only open the right-hand side)"),
    ("y ~ d", "the fixed-effects part '| unit + period' is missing"),
    ("y + d | unit + t", "it has no '~'"),
    ("y ~ d + d | unit + t", "the right-hand side repeats 'd'"),
    ("y ~ d + | unit + t", "the right-hand side ends with an operator"),
    ("y ~ d | unit + t + tier^tier", "interacts 'tier' with itself"),
    ("y ~ d | unit + t + t^tier + tier^t", "the fixed-effects part repeats 't^tier'"),
    ("y ~ d | unit + t + `my col`", "unsupported back-quoted names"),
    ("y ~ d | unit + t + my.col", "unsupported character '.'"),
    ("y ~ d | ", "the fixed-effects part is empty"),
    ("y | unit ~ d", "the '|' comes before the '~'"),
])
def test_parse_refuses_what_the_grammar_lacks(formula: str, problem: str) -> None:
    with pytest.raises(OptionError, match=re.escape(problem)) as exc:
        parse_formula(formula)
    assert str(exc.value).startswith(f"formula {formula!r}: ")
    assert str(exc.value).endswith(GRAMMAR)


def test_formula_must_be_a_string() -> None:
    with pytest.raises(OptionError, match="formula must be a string; got list"):
        parse_formula(["y ~ d | unit + t"])  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ twfe


@pytest.mark.parametrize("backend", ["fast", "pyfixest"])
def test_twfe_formula_is_the_explicit_call_exactly(backend: str) -> None:
    df = panel()
    a = quiet(twfe, df, formula="y ~ d + x | unit + t + country", cluster="unit",
              vcov="cluster", backend=backend)
    b = quiet(la.did.twfe, df, yname="y", dname="d", controls=["x"], idname="unit", tname="t",
              fe=["country"], cluster="unit", vcov="cluster", backend=backend)
    same(a, b)
    assert a.terms == ("d", "x")
    sa, sb = dict(a.provenance.settings), dict(b.provenance.settings)
    assert sa.pop("formula") == "y ~ d + x | unit + t + country"
    assert sa == sb


@pytest.mark.parametrize("backend", ["fast", "pyfixest"])
def test_twfe_formula_equals_pyfixest_feols_on_the_same_formula(backend: str) -> None:
    df = panel(1)
    formula = "y ~ d + x | unit + t + tier^t + country"
    res = quiet(twfe, df, formula=formula, cluster="unit", vcov="cluster", backend=backend)
    ref = pf.feols(formula, df, vcov={"CRV1": "unit"}, demeaner=TIGHT)
    np.testing.assert_allclose(res.tidy()["estimate"].to_numpy(), ref.coef().to_numpy(),
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.tidy()["std_error"].to_numpy(), ref.se().to_numpy(),
                               rtol=0, atol=1e-8)
    assert dict(res.provenance.settings)["fe"] == ("tier^t", "country")
    # the interacted fixed effect is used (not ignored): without it the estimate moves
    plain = quiet(twfe, df, formula="y ~ d + x | unit + t + country", cluster="unit",
                  vcov="cluster", backend=backend)
    assert abs(plain.coef[0] - res.coef[0]) > 1e-6


def test_several_outcomes_equal_pyfixest_multiple_estimation() -> None:
    df = panel(10)
    formula = "y + y2 ~ d + x | unit + t + tier^t"
    rs = quiet(twfe, df, formula=formula, cluster="unit", vcov="cluster")
    multi = pf.feols(formula, df, vcov={"CRV1": "unit"}, demeaner=TIGHT)
    models = multi.all_fitted_models
    assert len(models) == 2
    for y, (key, m) in zip(("y", "y2"), models.items(), strict=True):
        assert key.split("~")[0].strip() == y  # keyed by each model's formula
        np.testing.assert_allclose(rs[y].coef, m.coef().to_numpy(), rtol=0, atol=1e-10)
        np.testing.assert_allclose(rs[y].tidy()["std_error"], m.se().to_numpy(), rtol=0,
                                   atol=1e-8)


def test_poisson_formula_equals_pyfixest_fepois() -> None:
    df = panel(11)
    df["n"] = np.random.default_rng(11).poisson(np.exp(0.5 + 0.3 * df["d"] + 0.2 * df["x"]))
    formula = "n ~ d + x | unit + t + country"
    res = quiet(twfe, df, formula=formula, family="poisson", cluster="unit", vcov="cluster")
    ref = pf.fepois(formula, df, vcov={"CRV1": "unit"})
    # IRLS convergence bounds the agreement (tests/test_twfe.py's Poisson tolerances)
    np.testing.assert_allclose(res.coef, ref.coef().to_numpy(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(res.tidy()["std_error"], ref.se().to_numpy(), rtol=1e-6)


def test_interacted_fixed_effect_equals_a_key_column_built_by_hand() -> None:
    df = panel(2)
    before = frame_hash(df)
    a = quiet(twfe, df, formula="y ~ d | unit + t + tier^t", cluster="unit", vcov="cluster")
    key = df.assign(tier_t=df["tier"].astype(str) + "_" + df["t"].astype(str))
    b = quiet(la.did.twfe, key, yname="y", dname="d", idname="unit", tname="t", fe=["tier_t"],
              cluster="unit", vcov="cluster")
    np.testing.assert_allclose(a.tidy()[["estimate", "std_error"]].to_numpy(),
                               b.tidy()[["estimate", "std_error"]].to_numpy(), rtol=1e-12)
    assert frame_hash(df) == before and "tier^t" not in df.columns  # input untouched


def test_three_way_interaction_has_one_level_per_observed_combination() -> None:
    from laborai.did._formula import _fe_key

    df = panel(12)
    key = _fe_key(df, ("tier", "t", "country"))
    groups = df.groupby(["tier", "t", "country"]).ngroup()
    assert key.nunique() == groups.nunique()
    # the same partition of the rows (codes may be numbered differently)
    assert (pd.crosstab(key, groups) > 0).sum(axis=1).eq(1).all()
    a = quiet(twfe, df, formula="y ~ d | unit + t + tier^t^country", vcov="cluster")
    b = quiet(la.did.twfe, df.assign(k=groups), yname="y", dname="d", idname="unit",
              tname="t", fe=["k"], vcov="cluster")
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12)


def test_interacted_fixed_effect_with_a_missing_part_drops_and_names_the_rows() -> None:
    df = panel(3)
    df["tier"] = df["tier"].astype(float)
    df.loc[df.index[:5], "tier"] = np.nan
    with pytest.warns(LaborAIWarning, match=re.escape("tier^t")):
        res = twfe(df, formula="y ~ d | unit + t + tier^t", cluster="unit", vcov="cluster",
                   backend="fast")
    assert res.n_dropped == 5 and res.nobs == len(df) - 5


def test_twfe_formula_errors_name_the_problem() -> None:
    df = panel()
    with pytest.raises(OptionError, match=r"formula= and yname=, dname= are both given"):
        twfe(df, formula="y ~ d | unit + t", yname="y", dname="d")
    with pytest.raises(OptionError, match=r"column\(s\) \['nope'\] not found") as exc:
        twfe(df, formula="nope ~ d | unit + t")
    assert GRAMMAR in str(exc.value)
    with pytest.raises(OptionError, match=re.escape("outcome(s) ['y'] also appear on the right")):
        twfe(df, formula="y ~ d + y | unit + t")
    with pytest.raises(OptionError, match="needs the unit and the period"):
        twfe(df, formula="y ~ d | unit")
    with pytest.raises(OptionError, match="needs a treatment on the right-hand side"):
        twfe(df, formula="y ~ 1 | unit + t")
    with pytest.raises(OptionError, match="treatment must be one column, not the interaction"):
        twfe(df, formula="y ~ treated:post | unit + t")
    with pytest.raises(OptionError, match="controls must be columns"):
        twfe(df, formula="y ~ d + x:tier | unit + t")
    with pytest.raises(OptionError, match="period .* must be one column"):
        twfe(df, formula="y ~ d | unit + tier^t")
    with pytest.raises(OptionError, match="already have a column 'tier\\^t'"):
        twfe(df.assign(**{"tier^t": 1}), formula="y ~ d | unit + t + tier^t")
    with pytest.raises(DataValidationError, match="data must be a pandas DataFrame"):
        twfe([1, 2], formula="y ~ d | unit + t")
    with pytest.raises(OptionError, match="list of distinct column names"):
        twfe(df, yname=["y", "y"], dname="d", idname="unit", tname="t")
    with pytest.raises(OptionError, match="list of distinct column names"):
        twfe(df, yname=[], dname="d", idname="unit", tname="t")


def test_unit_may_be_an_interaction_and_is_then_the_default_cluster() -> None:
    df = panel(4)
    res = quiet(twfe, df, formula="y ~ d | cat^tier + t", vcov="cluster")
    same(res, quiet(twfe, df, formula="y ~ d | unit + t", vcov="cluster"))  # the same cells
    assert res.cluster == ("cat^tier",)


# ------------------------------------------------------------------------------ event_study


def test_event_study_formula_is_the_explicit_call_exactly() -> None:
    df = panel(5)
    kw: dict[str, Any] = dict(event_date="event_date", window=(-3, 3), cluster="unit",
                              vcov="cluster")
    a = quiet(event_study, df, formula="y ~ 1 + x | unit + t + country", **kw)
    b = quiet(la.did.event_study, df, yname="y", idname="unit", tname="t", controls=["x"],
              fe=["country"], **kw)
    same(a, b)
    c = quiet(event_study, df, formula="y ~ treated | unit + t", **kw)
    same(c, quiet(la.did.event_study, df, yname="y", dname="treated", idname="unit",
                  tname="t", **kw))
    assert dict(c.provenance.settings)["dname"] == "treated"


def test_event_study_formula_equals_pyfixest_with_an_interacted_fixed_effect() -> None:
    df = panel(6)
    es = quiet(event_study, df, formula="y ~ 1 | unit + t + tier^t", event_date="event_date",
               window=(-3, 3), cluster="unit", vcov="cluster")
    d = df.copy()
    e = (d["t"] - d["event_date"]).clip(-3, 3)
    names = []
    for k in range(-3, 4):
        if k != -1:
            names.append(f"e{k + 3}")
            d[names[-1]] = ((e == k) & d["event_date"].notna()).astype(float)
    ref = pf.feols(f"y ~ {' + '.join(names)} | unit + t + tier^t", d, vcov={"CRV1": "unit"},
                   demeaner=TIGHT)
    np.testing.assert_allclose(es.tidy()["estimate"].to_numpy(), ref.coef().to_numpy(),
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(es.tidy()["std_error"].to_numpy(), ref.se().to_numpy(),
                               rtol=0, atol=1e-8)


# ------------------------------------------------------------------------------ ddd


def test_ddd_formula_is_the_explicit_call_exactly() -> None:
    df = panel(7)
    a = quiet(ddd, df, formula="y ~ treated:tier + x | unit + t + country", post="post",
              cluster="unit", vcov="cluster")
    b = quiet(la.did.ddd, df, yname="y", idname="unit", tname="t", post="post",
              controls=["x"], fe=["country"], cluster="unit", vcov="cluster",
              dname="treated", pname="tier")
    same(a, b)
    with pytest.raises(OptionError, match="ddd's right-hand side starts with 'dname:pname'"):
        ddd(df, formula="y ~ treated | unit + t", post="post")
    with pytest.raises(OptionError, match="formula= and dname= are both given"):
        ddd(df, formula="y ~ treated:tier | unit + t", post="post", dname="treated")


# ------------------------------------------------------------------------------ estimate_effects


@pytest.fixture(scope="module")
def market() -> pd.DataFrame:
    m = la.simulate_marketplace(seed=3, n_posts=8_000, text=False)
    p = la.exposure.add_event_dates(la.build_panel(m.job_posts, m.contracts))
    return p[p["value_tier"].isin(["low", "high"])].reset_index(drop=True)


def test_estimate_effects_formula_is_the_explicit_call_exactly(market: pd.DataFrame) -> None:
    formula = "log_n_posts + log_earnings_per_contract ~ 1 | unit + period + value_tier^period"
    a = quiet(estimate_effects, market, formula=formula)
    key = market.assign(tier_period=market["value_tier"] + "|" + market["period"].astype(str))
    b = quiet(la.estimate_effects, key, outcomes=["log_n_posts", "log_earnings_per_contract"],
              idname="unit", tname="period", fe=["tier_period"])
    ta, tb = a.tidy(), b.tidy()
    assert list(ta["outcome"].unique()) == ["log_n_posts", "log_earnings_per_contract"]
    np.testing.assert_allclose(ta[["estimate", "std_error"]].to_numpy(),
                               tb[["estimate", "std_error"]].to_numpy(), rtol=1e-10)
    assert dict(a.provenance.settings)["formula"] == formula
    c = quiet(estimate_effects, market, formula="log_n_posts ~ 1 | unit + period")
    same(c, quiet(la.estimate_effects, market, outcomes=["log_n_posts"]))
    with pytest.raises(OptionError, match="right-hand side must be '1'"):
        estimate_effects(market, formula="log_n_posts ~ treated_post | unit + period")
    with pytest.raises(OptionError, match="formula= and outcomes= are both given"):
        estimate_effects(market, formula="log_n_posts ~ 1 | unit + period",
                         outcomes=["log_n_posts"])


# ------------------------------------------------------------------------------ several outcomes


@pytest.fixture(scope="module")
def rset() -> tuple[pd.DataFrame, ResultSet]:
    df = panel(8)
    return df, quiet(twfe, df, formula="y + y2 ~ d + x | unit + t", cluster="unit",
                     vcov="cluster")


def test_several_outcomes_are_the_single_calls(rset: tuple[pd.DataFrame, ResultSet]) -> None:
    df, rs = rset
    assert isinstance(rs, ResultSet) and list(rs) == ["y", "y2"] and len(rs) == 2
    kw: dict[str, Any] = dict(dname="d", controls=["x"], idname="unit", tname="t",
                              cluster="unit", vcov="cluster")
    for y in ("y", "y2"):
        same(rs[y], quiet(la.did.twfe, df, yname=y, **kw))
    by_list = quiet(twfe, df, yname=["y", "y2"], **kw)
    for y in ("y", "y2"):
        same(by_list[y], rs[y])
    assert rs["y"].coef[0] != rs["y2"].coef[0]
    t = rs.tidy()
    assert list(t.columns[:8]) == ["term", "estimate", "std_error", "statistic", "p_value",
                                   "conf_low", "conf_high", "outcome"]
    assert t["outcome"].tolist() == ["y", "y", "y2", "y2"]
    assert rs.params[("y2", "d")] == rs["y2"].coef[0]
    assert dict(rs.nobs) == {"y": len(df), "y2": len(df)}
    assert rs.vcov_type == "cluster" and rs.family == "ols" and rs.alpha == 0.05
    s = dict(rs.provenance.settings)
    assert s["yname"] == ("y", "y2") and s["formula"] == "y + y2 ~ d + x | unit + t"
    assert s["dname"] == "d" and rs.provenance.estimator == "twfe"
    assert rs.provenance.input_hash == frame_hash(df)
    with pytest.raises(KeyError, match="not an outcome of this ResultSet"):
        rs["nope"]
    # a single-element list is the plain result
    one = quiet(twfe, df, yname=["y"], **kw)
    same(one, rs["y"])
    assert not isinstance(one, ResultSet)


def test_several_outcomes_in_event_study_and_ddd() -> None:
    df = panel(9)
    es = quiet(event_study, df, formula="y + y2 ~ 1 | unit + t", event_date="event_date",
               window=(-2, 2), cluster="unit", vcov="cluster")
    assert isinstance(es, ResultSet) and "event_time" in es.tidy().columns
    same(es["y2"], quiet(la.did.event_study, df, yname="y2", idname="unit", tname="t",
                         event_date="event_date", window=(-2, 2), cluster="unit",
                         vcov="cluster"))
    dd = quiet(ddd, df, formula="y + y2 ~ treated:tier | unit + t", post="post",
               cluster="unit", vcov="cluster")
    assert set(dd.tidy()["effect"]) >= {"ddd", "did_low"}
    assert dd.tidy()["outcome"].unique().tolist() == ["y", "y2"]


def test_result_set_is_read_only_picklable_and_saveable(
        rset: tuple[pd.DataFrame, ResultSet], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _, rs = rset
    ref = rs.tidy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        rs.results = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        rs.results["y"] = None  # type: ignore[index]
    with pytest.raises(TypeError):
        rs.provenance.settings["x"] = 1  # type: ignore[index]
    t = rs.tidy()
    t.iloc[0, 1] = 1e9
    pd.testing.assert_frame_equal(rs.tidy(), ref)
    back = pickle.loads(pickle.dumps(rs))
    pd.testing.assert_frame_equal(back.tidy(), ref)
    assert back.provenance == rs.provenance
    if "laborai.did._formula" not in _store._ALLOWED_MODULES:  # until the integrator adds it
        monkeypatch.setattr(_store, "_ALLOWED_MODULES",
                            (*_store._ALLOWED_MODULES, "laborai.did._formula"))
    path = rs.save(tmp_path / "rs.laborai")
    loaded = ResultSet.load(path)
    assert type(loaded) is ResultSet and list(loaded) == ["y", "y2"]
    pd.testing.assert_frame_equal(loaded.tidy(), ref)
    assert loaded.provenance == rs.provenance
    assert la.did.load(path).tidy().equals(ref)
    np.testing.assert_array_equal(loaded["y"].coef, rs["y"].coef)
    assert not loaded["y"].coef.flags.writeable


def test_result_set_views_are_deterministic_and_etable_makes_one_column_per_outcome(
        rset: tuple[pd.DataFrame, ResultSet]) -> None:
    df, rs = rset
    s = rs.summary()
    assert s == rs.summary() and "0x" not in s and "Formula: y + y2 ~ d + x" in s
    assert repr(rs) == "ResultSet(twfe, outcomes=['y', 'y2'], vcov='cluster')"
    assert rs.to_markdown().count("\n") == 2 + len(rs.tidy())
    tab = la.did.etable(rs)
    assert list(tab.columns) == ["y", "y2"]
    row = tab.loc["d"]
    assert row["y"].startswith(f"{rs['y'].coef[0]:.3f}")
    assert row["y2"].startswith(f"{rs['y2'].coef[0]:.3f}")
    assert tab.loc["Dependent variable"].tolist() == ["y", "y2"]
    two = la.did.etable({"A": rs, "B": rs["y"]})
    assert list(two.columns) == ["A: y", "A: y2", "B"]
    assert two.loc["Observations"].tolist() == [f"{len(df):,}"] * 3


def test_result_set_with_vcov_is_a_new_result_set(rset: tuple[pd.DataFrame, ResultSet]) -> None:
    _, rs = rset
    h = quiet(rs.with_vcov, "hetero")
    assert isinstance(h, ResultSet) and h is not rs and h.vcov_type == "hetero"
    same(h["y2"], quiet(rs["y2"].with_vcov, "hetero"))
    assert rs.vcov_type == "cluster"
    assert dict(h.provenance.settings)["formula"] == dict(rs.provenance.settings)["formula"]


# ------------------------------------------------------------------------------ the API


@pytest.mark.parametrize("kind", ["twfe", "event_study", "ddd", "estimate_effects"])
def test_signature_and_docstring_show_formula_and_keep_the_vocabulary(kind: str) -> None:
    raw = getattr(la if kind == "estimate_effects" else la.did, kind)
    fn = formula_interface(kind)(raw)  # type: ignore[arg-type]
    ps = inspect.signature(fn).parameters
    assert ps["formula"].kind is inspect.Parameter.KEYWORD_ONLY and ps["formula"].default is None
    assert list(ps)[1] == "formula"
    before = {k: v for k, v in inspect.signature(raw).parameters.items() if k != "formula"}
    assert {k: v for k, v in ps.items() if k != "formula"} == before  # the vocabulary table
    doc = fn.__doc__ or ""
    assert "    formula : str, optional\n" in doc
    assert doc.index("formula : str") < doc.index("    Returns\n    -------")
    assert formula_interface(kind)(fn) is fn  # idempotent  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="kind must be one of"):
        formula_interface("sdid")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="sdid has no parameter"):
        formula_interface(kind)(la.did.sdid)  # type: ignore[arg-type]


def test_the_docs_page_runs_on_the_decorated_api(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    """docs/estimators/formula.md's examples, with the decorator applied as the integrator
    will (tests/test_docs_examples.py runs the same page once it is)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    for name, fn in (("twfe", twfe), ("event_study", event_study), ("ddd", ddd)):
        monkeypatch.setattr(la.did, name, fn)
    monkeypatch.setattr(la, "estimate_effects", estimate_effects)
    monkeypatch.setattr(la.did, "ResultSet", ResultSet, raising=False)
    if "laborai.did._formula" not in _store._ALLOWED_MODULES:
        monkeypatch.setattr(_store, "_ALLOWED_MODULES",
                            (*_store._ALLOWED_MODULES, "laborai.did._formula"))
    monkeypatch.chdir(tmp_path)
    page = ROOT / "docs" / "estimators" / "formula.md"
    text = page.read_text(encoding="utf-8")
    blocks = re.findall(r"^```python[ \t]*\n(.*?)^```[ \t]*$", text, re.S | re.M)
    assert len(blocks) >= 3
    ns: dict[str, Any] = {"__name__": "__docs__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for src in blocks:
            exec(compile(src, str(page), "exec"), ns)
