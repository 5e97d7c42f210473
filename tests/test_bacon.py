"""Tests of the Goodman-Bacon decomposition (laborai.did.bacon)."""

from __future__ import annotations

import causaldata
import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from laborai.did.bacon import BaconResult, bacon
from laborai.errors import DataValidationError, EstimationError

# Published castle-doctrine decomposition (reference README; The Mixtape coding of `post`).
CASTLE_REF = {
    "Treated vs Untreated": (0.89881, 0.07844),
    "Earlier vs Later Treated": (0.07708, -0.02858),
    "Later vs Earlier Treated": (0.02411, 0.04563),
}
CASTLE_TWFE = 0.06940


@pytest.fixture(scope="module")
def castle() -> pd.DataFrame:
    return causaldata.castle.load_pandas().data[["sid", "year", "post", "l_homicide"]].copy()


def _sim_panel(seed: int = 1, always: bool = True, never: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    starts = [2, 2, 2, 4, 4, 5, 5, 5, 7]
    if always:
        starts += [0, 0]
    if never:
        starts += [99, 99, 99]
    rows = []
    for i, s in enumerate(starts):
        a = rng.normal()
        for t in range(8):
            d = int(t >= s)
            y = a + 0.3 * t + d * (1.0 + 0.2 * (t - s)) + rng.normal(scale=0.5)
            rows.append((f"u{i}", 2000 + t, d, y))
    return pd.DataFrame(rows, columns=["unit", "year", "d", "y"])


def _twfe(df: pd.DataFrame, y: str, d: str, i: str, t: str) -> float:
    fit = pf.feols(f"{y} ~ {d} | {i} + {t}", data=df)
    return float(fit.coef().iloc[0])


def test_castle_reference(castle: pd.DataFrame) -> None:
    res = bacon(castle, yname="l_homicide", dname="post", idname="sid", tname="year")
    by = res.summary_by_type().set_index("type")
    assert set(by.index) == set(CASTLE_REF)
    for typ, (w, est) in CASTLE_REF.items():
        assert by.loc[typ, "weight"] == pytest.approx(w, abs=1e-5)
        assert by.loc[typ, "estimate"] == pytest.approx(est, abs=1e-5)
    assert res.twfe == pytest.approx(CASTLE_TWFE, abs=1e-5)
    assert res.weighted_sum == pytest.approx(res.twfe, abs=1e-12)
    assert res.table["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    # independent TWFE from pyfixest
    assert res.twfe == pytest.approx(
        _twfe(castle, "l_homicide", "post", "sid", "year"), abs=1e-10
    )
    # 5 timing groups: 5 vs never, 10 earlier-vs-later, 10 later-vs-earlier
    assert by["n_comparisons"].to_dict() == {
        "Treated vs Untreated": 5,
        "Earlier vs Later Treated": 10,
        "Later vs Earlier Treated": 10,
    }


# R `bacondecomp` codes adoption one year earlier (reference README).
BACONDECOMP_REF = {
    "Treated vs Untreated": (0.90834, 0.08796),
    "Earlier vs Later Treated": (0.05976, -0.00554),
    "Later vs Earlier Treated": (0.03190, 0.07032),
}


def test_castle_bacondecomp_coding(castle: pd.DataFrame) -> None:
    first = castle[castle["post"] == 1].groupby("sid")["year"].min()
    g = castle["sid"].map(first)
    shifted = castle.assign(post=((castle["year"] >= g - 1) & g.notna()).astype(int))
    res = bacon(shifted, yname="l_homicide", dname="post", idname="sid", tname="year")
    by = res.summary_by_type().set_index("type")
    for typ, (w, est) in BACONDECOMP_REF.items():
        assert by.loc[typ, "weight"] == pytest.approx(w, abs=1e-5)
        assert by.loc[typ, "estimate"] == pytest.approx(est, abs=1e-5)
    assert res.twfe == pytest.approx(0.0818, abs=1e-4)


def test_single_2x2_matches_hand_computation(castle: pd.DataFrame) -> None:
    res = bacon(castle, yname="l_homicide", dname="post", idname="sid", tname="year")
    t = res.tidy()
    row = t[(t["treated_group"] == 2008) & (t["control_group"] == 2010)].iloc[0]
    assert row["type"] == "Earlier vs Later Treated"
    first = castle[castle["post"] == 1].groupby("sid")["year"].min()
    g = castle["sid"].map(first)
    win = castle[castle["year"] < 2010]
    gw = g.loc[win.index]

    def mean(mask: pd.Series) -> float:
        return float(win.loc[mask, "l_homicide"].astype(float).mean())

    post = win["year"] >= 2008
    hand = (mean((gw == 2008) & post) - mean((gw == 2008) & ~post)) - (
        mean((gw == 2010) & post) - mean((gw == 2010) & ~post)
    )
    assert row["estimate"] == pytest.approx(hand, abs=1e-12)


def test_always_treated_and_weights_sum() -> None:
    df = _sim_panel()
    res = bacon(df, yname="y", dname="d", idname="unit", tname="year")
    types = set(res.tidy()["type"])
    assert "Later vs Always Treated" in types
    assert "Treated vs Untreated" in types
    assert res.table["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    assert (res.table["weight"] >= 0).all()
    assert res.twfe == pytest.approx(_twfe(df, "y", "d", "unit", "year"), abs=1e-10)
    assert res.weighted_sum == pytest.approx(res.twfe, abs=1e-12)


@pytest.mark.parametrize("always,never", [(False, True), (True, False), (False, False)])
def test_decomposition_identity_other_designs(always: bool, never: bool) -> None:
    df = _sim_panel(seed=3, always=always, never=never)
    res = bacon(df, yname="y", dname="d", idname="unit", tname="year")
    assert res.weighted_sum == pytest.approx(_twfe(df, "y", "d", "unit", "year"), abs=1e-10)
    assert ("Treated vs Untreated" in set(res.table["type"])) == never


def test_invariance_row_order_labels_and_no_mutation() -> None:
    df = _sim_panel(seed=5)
    before = df.copy()
    res = bacon(df, yname="y", dname="d", idname="unit", tname="year")
    pd.testing.assert_frame_equal(df, before)
    shuffled = df.sample(frac=1.0, random_state=0).reset_index(drop=True)
    shuffled["unit"] = "x" + shuffled["unit"].str[::-1]
    res2 = bacon(shuffled, yname="y", dname="d", idname="unit", tname="year")
    pd.testing.assert_frame_equal(res.tidy(), res2.tidy(), check_exact=False, rtol=1e-12)
    assert res.twfe == pytest.approx(res2.twfe, abs=1e-12)


def test_bool_treatment_same_as_int() -> None:
    df = _sim_panel(seed=2)
    res = bacon(df, yname="y", dname="d", idname="unit", tname="year")
    res_b = bacon(df.assign(d=df["d"].astype(bool)), yname="y", dname="d", idname="unit",
                  tname="year")
    assert res_b.twfe == pytest.approx(res.twfe, abs=1e-14)


def test_result_is_frozen_and_views_are_deterministic() -> None:
    df = _sim_panel(seed=4)
    res = bacon(df, yname="y", dname="d", idname="unit", tname="year")
    assert isinstance(res, BaconResult)
    with pytest.raises(AttributeError):
        res.twfe = 0.0  # type: ignore[misc]
    assert repr(res) == repr(bacon(df, yname="y", dname="d", idname="unit", tname="year"))
    assert "0x" not in repr(res)
    assert res.summary() == bacon(df, yname="y", dname="d", idname="unit",
                                  tname="year").summary()
    assert list(res.tidy().columns[:7]) == [
        "term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"
    ]
    assert res.tidy()["std_error"].isna().all()
    assert res.to_markdown().startswith("| term |")
    assert res.provenance.settings["dname"] == "d"
    # tidy returns a copy
    t = res.tidy()
    t.loc[0, "estimate"] = 1e9
    assert res.tidy().loc[0, "estimate"] != 1e9


def test_plot_runs() -> None:
    import matplotlib

    matplotlib.use("Agg")
    res = bacon(_sim_panel(), yname="y", dname="d", idname="unit", tname="year")
    ax = res.plot()
    assert ax.get_xlabel() == "Weight"


def test_errors() -> None:
    df = _sim_panel()
    with pytest.raises(DataValidationError, match=r"dname='treat' is not a column"):
        bacon(df, yname="y", dname="treat", idname="unit", tname="year")
    bad = df.copy()
    bad.loc[3, "d"] = 2
    with pytest.raises(DataValidationError, match=r"binary 0/1 treatment.*\[2\]"):
        bacon(bad, yname="y", dname="d", idname="unit", tname="year")
    sw = df.copy()
    idx = sw[(sw["unit"] == "u0")].index
    sw.loc[idx[-1], "d"] = 0
    with pytest.raises(DataValidationError, match=r"must be absorbing.*unit=\['u0'\]"):
        bacon(sw, yname="y", dname="d", idname="unit", tname="year")
    with pytest.raises(DataValidationError, match=r"must be balanced.*got 111 rows"):
        bacon(df.iloc[1:], yname="y", dname="d", idname="unit", tname="year")
    with pytest.raises(DataValidationError, match=r"must identify rows uniquely"):
        bacon(pd.concat([df, df.iloc[:1]]), yname="y", dname="d", idname="unit", tname="year")
    miss = df.copy()
    miss.loc[5, "y"] = np.nan
    with pytest.raises(DataValidationError, match=r"'y' \(yname\) has 1 missing values"):
        bacon(miss, yname="y", dname="d", idname="unit", tname="year")
    same = df.assign(d=(df["year"] >= 2003).astype(int))
    with pytest.raises(EstimationError, match=r"no variation"):
        bacon(same, yname="y", dname="d", idname="unit", tname="year")
