"""Staggered synthetic difference-in-differences (laborai.did.sdid with staggered=True).

One SDID per adoption cohort against the never-treated units, aggregated by the number of
treated unit-periods (Arkhangelsky et al. 2021, appendix; Clarke et al. 2023).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _shared import DATA_DIR

from laborai.did.sdid import SDIDResult, sdid
from laborai.errors import DataValidationError, EstimationError, OptionError

REF_SDID = -15.604  # Arkhangelsky et al. (2021) Table 1, California Proposition 99

SIM: dict[str, Any] = {"yname": "y", "idname": "unit", "tname": "year", "dname": "d"}


@pytest.fixture(scope="module")
def prop99() -> pd.DataFrame:
    path = DATA_DIR / "reference" / "synthdid" / "california_prop99.csv"
    assert path.exists(), f"reference file missing: {path}"  # fail, never skip
    return pd.read_csv(path, sep=";")


def _staggered(seed: int = 0, cohorts: tuple[tuple[int, int, float], ...] = ((4, 3, 1.0),
               (8, 2, 3.0)), n_co: int = 15, n_t: int = 12, noise: float = 0.3,
               factor: bool = True) -> pd.DataFrame:
    """Panel with cohorts given as (adoption index, number of units, effect)."""
    rng = np.random.default_rng(seed)
    f = np.cumsum(rng.normal(size=n_t))
    beta = rng.normal(size=n_t) * 2.0
    rows = []
    units: list[tuple[str, int, float]] = [(f"c{i:02d}", -1, 0.0) for i in range(n_co)]
    k = 0
    for start, n, eff in cohorts:
        for _ in range(n):
            units.append((f"t{k:02d}", start, eff))
            k += 1
    for name, start, eff in units:
        a = rng.normal()
        load = rng.uniform(0.5, 1.5) if factor else 0.0
        for t in range(n_t):
            d = int(start >= 0 and t >= start)
            y = a + beta[t] + load * f[t] + eff * d + noise * rng.normal()
            rows.append((name, 2000 + t, d, y))
    return pd.DataFrame(rows, columns=["unit", "year", "d", "y"])


# ------------------------------------------------------------------ reduction to the block design


def test_single_cohort_reduces_to_block_design_prop99(prop99: pd.DataFrame) -> None:
    kw = {"yname": "PacksPerCapita", "idname": "State", "tname": "Year", "dname": "treated"}
    block = sdid(prop99, **kw, vcov="placebo", n_reps=4, seed=9)
    stag = sdid(prop99, **kw, vcov="placebo", n_reps=4, seed=9, staggered=True)
    assert stag.estimate == block.estimate
    assert stag.estimate == pytest.approx(REF_SDID, abs=1e-3)
    assert stag.replicates == block.replicates and stag.std_error == block.std_error
    np.testing.assert_array_equal(stag.unit_weights["weight"], block.unit_weights["weight"])
    np.testing.assert_array_equal(stag.time_weights["weight"], block.time_weights["weight"])
    assert stag.cohorts is not None
    assert stag.cohorts[["group", "n_treated", "n_pre", "n_post", "weight"]].iloc[0].tolist() \
        == [1989, 1, 19, 12, 1.0]
    t = stag.tidy()
    assert t["term"].tolist() == ["ATT(g=1989)", "ATT"]
    assert t["group"].tolist()[0] == 1989 and pd.isna(t["group"].iloc[1])


@pytest.mark.parametrize("se", ["jackknife", "bootstrap"])
def test_single_cohort_same_replicates_as_block(se: str) -> None:
    df = _staggered(seed=1, cohorts=((6, 3, 2.0),))
    block = sdid(df, **SIM, vcov=se, n_reps=6, seed=4)
    stag = sdid(df, **SIM, vcov=se, n_reps=6, seed=4, staggered=True)
    assert stag.estimate == block.estimate
    assert stag.replicates == block.replicates
    assert stag.std_error == pytest.approx(block.std_error, rel=1e-12)


# ------------------------------------------------------------------ aggregation


def test_two_cohorts_aggregate_is_the_hand_weighted_average() -> None:
    df = _staggered(seed=2)
    res = sdid(df, **SIM, vcov=None, staggered=True)
    assert res.cohorts is not None and len(res.cohorts) == 2
    years = np.sort(df["year"].unique())
    first = df[df["d"] == 1].groupby("unit")["year"].min()
    never = sorted(set(df["unit"]) - set(first.index))
    hand_num, hand_den = 0.0, 0.0
    for row in res.cohorts.itertuples():
        members = first.index[first == row.group]
        # each cohort estimate is the block-design SDID of its units against the never treated
        sub = df[df["unit"].isin([*never, *members])]
        block = sdid(sub, **SIM, vcov=None)
        assert row.estimate == pytest.approx(block.estimate, abs=1e-12)
        n_post = int((years >= row.group).sum())
        assert (row.n_treated, row.n_post) == (len(members), n_post)
        hand_num += len(members) * n_post * block.estimate
        hand_den += len(members) * n_post
    assert res.estimate == pytest.approx(hand_num / hand_den, abs=1e-12)
    # cohorts (2004: 3 units x 8 periods, 2008: 2 units x 4 periods) -> weights 0.75 / 0.25
    np.testing.assert_allclose(res.cohorts["weight"], [24 / 32, 8 / 32], atol=1e-15)
    assert res.n_treated == 5 and res.n_control == 15
    assert set(res.unit_weights["group"]) == {2004, 2008}
    for g, grp in res.unit_weights.groupby("group"):
        assert grp["weight"].sum() == pytest.approx(1.0, abs=1e-12)
        assert len(res.time_weights[res.time_weights["group"] == g]) == g - 2000


def test_recovers_cohort_effects_without_noise() -> None:
    # additive unit and period effects, no noise: every cohort's SDID is exact, and the
    # aggregate is the average effect over treated unit-periods
    df = _staggered(seed=3, noise=0.0, factor=False)
    for method in ("sdid", "did", "sc"):
        res = sdid(df, **SIM, method=method, vcov=None, staggered=True)
        assert res.cohorts is not None
        if method == "sc":
            continue  # synthetic control has no intercept: not exact under unit effects
        np.testing.assert_allclose(res.cohorts["estimate"], [1.0, 3.0], atol=1e-9)
        assert res.estimate == pytest.approx((24 * 1.0 + 8 * 3.0) / 32, abs=1e-9)
    const = _staggered(seed=4, cohorts=((4, 3, 2.5), (7, 3, 2.5), (9, 2, 2.5)), noise=0.0,
                       factor=False)
    res = sdid(const, **SIM, vcov=None, staggered=True)
    assert res.estimate == pytest.approx(2.5, abs=1e-9)


# ------------------------------------------------------------------ standard errors


def test_jackknife_did_equals_hand_leave_one_out() -> None:
    # with uniform (DiD) weights, leaving a unit out with fixed weights is re-estimating
    df = _staggered(seed=5)
    res = sdid(df, **SIM, method="did", vcov="jackknife", staggered=True)
    units = sorted(df["unit"].unique())
    loo = np.array([sdid(df[df["unit"] != u], **SIM, method="did", vcov=None,
                         staggered=True).estimate for u in units])
    n = len(units)
    assert res.std_error == pytest.approx(np.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2)),
                                          rel=1e-10)
    assert len(res.replicates) == n
    assert res.cohorts is not None and np.isfinite(res.cohorts["std_error"]).all()


def test_placebo_and_bootstrap_are_seeded_and_finite() -> None:
    df = _staggered(seed=6)
    p1 = sdid(df, **SIM, vcov="placebo", n_reps=8, seed=1, staggered=True)
    p2 = sdid(df, **SIM, vcov="placebo", n_reps=8, seed=1, staggered=True)
    p3 = sdid(df, **SIM, vcov="placebo", n_reps=8, seed=2, staggered=True)
    assert p1.replicates == p2.replicates != p3.replicates
    assert p1.std_error == pytest.approx(np.std(p1.replicates), rel=1e-12)
    assert p1.provenance.seed == 1
    b = sdid(df, **SIM, vcov="bootstrap", n_reps=8, seed=1, staggered=True)
    for r in (p1, b):
        assert np.isfinite(r.std_error) and r.std_error > 0
        assert r.cohorts is not None and np.isfinite(r.cohorts["std_error"]).all()
        t = r.tidy()
        assert (t["conf_low"] < t["estimate"]).all() and (t["estimate"] < t["conf_high"]).all()


def test_variance_procedures_that_are_not_defined() -> None:
    single = _staggered(seed=7, cohorts=((4, 3, 1.0), (8, 1, 2.0)))
    with pytest.raises(EstimationError, match=r"jackknife needs at least 2 treated units in every "
                                              r"adoption cohort; 1 cohort\(s\) have one: 2008 "
                                              r"\(unit='t03'\)"):
        sdid(single, **SIM, vcov="jackknife", staggered=True)
    few = _staggered(seed=8, cohorts=((4, 3, 1.0), (8, 2, 2.0)), n_co=5)
    with pytest.raises(EstimationError, match=r"placebo standard errors need more never-treated "
                                              r"units than treated units.*got 5 never-treated "
                                              r"and 5 treated"):
        sdid(few, **SIM, vcov="placebo", staggered=True)
    # the bootstrap is always available
    assert np.isfinite(sdid(single, **SIM, vcov="bootstrap", n_reps=4, seed=0,
                            staggered=True).std_error)


# ------------------------------------------------------------------ contracts


def test_errors_and_option() -> None:
    df = _staggered(seed=9)
    with pytest.raises(DataValidationError, match=r"2 adoption periods.*pass staggered=True"):
        sdid(df, **SIM)
    with pytest.raises(OptionError, match=r"staggered must be True or False; got 'yes'"):
        sdid(df, **SIM, staggered="yes")  # type: ignore[arg-type]
    early = _staggered(seed=10, cohorts=((1, 2, 1.0), (6, 2, 1.0)))
    with pytest.raises(EstimationError, match=r"at least 2 pre-treatment periods for every "
                                              r"adoption cohort; treatment starts at 2001 "
                                              r"\(2 units\)"):
        sdid(early, **SIM, staggered=True, vcov=None)
    off = df.copy()
    off.loc[(off["unit"] == "t00") & (off["year"] == 2010), "d"] = 0
    with pytest.raises(DataValidationError, match=r"switch the treatment off.*\['t00'\]"):
        sdid(off, **SIM, staggered=True)


def test_views_invariance_and_no_mutation() -> None:
    import matplotlib

    matplotlib.use("Agg")
    df = _staggered(seed=11)
    before = df.copy()
    res = sdid(df, **SIM, vcov=None, staggered=True)
    pd.testing.assert_frame_equal(df, before)
    assert isinstance(res, SDIDResult) and res.staggered
    assert repr(res) == repr(sdid(df, **SIM, vcov=None, staggered=True))
    assert "n_cohorts=2" in repr(res) and "0x" not in res.summary()
    assert "staggered adoption, 2 cohort(s) (2004, 2008)" in res.summary()
    t = res.tidy()
    assert list(t.columns) == ["term", "estimate", "std_error", "statistic", "p_value",
                               "conf_low", "conf_high", "group", "method", "se_method"]
    assert t["term"].tolist() == ["ATT(g=2004)", "ATT(g=2008)", "ATT"]
    assert str(t["group"].dtype) == "Int64"
    # trajectories: per cohort, the lambda-weighted pre-period gap is zero and the post gap
    # averages to the cohort estimate
    for row in res.cohorts.itertuples():  # type: ignore[union-attr]
        tr = res.trajectories[res.trajectories["group"] == row.group]
        lam = res.time_weights.loc[res.time_weights["group"] == row.group, "weight"].to_numpy()
        gap = (tr["treated"] - tr["synthetic_shifted"]).to_numpy()
        assert float(lam @ gap[: row.n_pre]) == pytest.approx(0.0, abs=1e-9)
        assert gap[row.n_pre:].mean() == pytest.approx(row.estimate, abs=1e-9)
    sh = df.sample(frac=1.0, random_state=2).reset_index(drop=True)
    sh["unit"] = "u" + sh["unit"]
    assert sdid(sh, **SIM, vcov=None, staggered=True).estimate == pytest.approx(res.estimate,
                                                                               abs=1e-9)
    ax = res.plot()
    assert ax.get_xlabel() == "Adoption cohort"


def test_docs_staggered_example_runs() -> None:
    doc = Path(__file__).resolve().parents[1] / "docs" / "estimators" / "sdid.md"
    text = doc.read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    code = [b for b in blocks if "staggered=True" in b]
    assert len(code) == 1
    namespace: dict[str, Any] = {}
    exec(compile(code[0], str(doc), "exec"), namespace)
    res = namespace["res"]
    np.testing.assert_allclose(res.cohorts["weight"], [24 / 32, 8 / 32])
    # the numbers quoted on the page come from the code on the page
    assert f"aggregate {res.estimate:.3f} has jackknife SE {res.std_error:.3f}" in text
