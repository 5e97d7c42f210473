"""ri_test with treatment that reaches only some units of a treated cluster (``eligible=``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import laborai as la


def tier_panel(seed: int = 0, n_cat: int = 8, treated: tuple[int, ...] = (0, 1),
               n_t: int = 10, no_low: tuple[int, ...] = ()) -> pd.DataFrame:
    """Category x tier units; the treatment reaches the low tier of the treated categories."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_cat):
        shock = rng.normal(0, 0.1, n_t)
        for tier in ("low", "high"):
            if tier == "low" and c in no_low:
                continue
            for t in range(n_t):
                post = int(t >= n_t // 2)
                d = int(c in treated and tier == "low") * post
                rows.append({"unit": f"c{c}-{tier}", "cat": f"c{c}", "t": t,
                             "low": int(tier == "low"), "d": d,
                             "y": 0.3 * d + shock[t] + rng.normal(0, 0.2)})
    return pd.DataFrame(rows)


KW = dict(yname="y", idname="unit", tname="t", dname="d", cluster="cat")


def _coef(df: pd.DataFrame, dcol: str) -> float:
    res = la.did.twfe(df, yname="y", dname=dcol, idname="unit", tname="t", vcov="hetero")
    return float(res.tidy().set_index("term").loc[dcol, "estimate"])


def test_never_treated_units_in_treated_clusters_need_eligible() -> None:
    df = tier_panel()
    with pytest.raises(la.errors.DataValidationError, match="pass eligible="):
        la.did.ri_test(df, **KW)


def test_eligible_reassigns_the_treatment_to_eligible_units_only() -> None:
    df = tier_panel()
    res = la.did.ri_test(df, **KW, eligible="low")
    assert res.exact and res.n_assignments == math.comb(8, 2) == len(res.assignments)
    assert res.estimate == pytest.approx(_coef(df, "d"), rel=1e-10)
    # every assignment's coefficient is the regression with the low tier of its clusters treated
    post = (df["t"] >= 5).astype(int)
    for i in (0, 7, 27):
        cats = set(res.assignments[i])
        dd = (df["cat"].isin(cats) & (df["low"] == 1)).astype(int) * post
        assert res.distribution[i] == pytest.approx(_coef(df.assign(dd=dd), "dd"), rel=1e-9)
    assert res.provenance.settings["eligible"] == "low"


def test_a_cluster_without_eligible_units_is_never_reassigned() -> None:
    df = tier_panel(no_low=(7,))
    res = la.did.ri_test(df, **KW, eligible="low")
    assert res.n_assignments == math.comb(7, 2)
    assert all("c7" not in a for a in res.assignments)
    assert "c7" not in res.provenance.settings["assignable_clusters"]


def test_treated_units_must_be_eligible_and_eligible_units_treated() -> None:
    df = tier_panel()
    bad = df.assign(low=np.where(df["unit"] == "c0-low", 0, df["low"]))
    with pytest.raises(la.errors.DataValidationError, match="treated .* but not eligible"):
        la.did.ri_test(bad, **KW, eligible="low")
    bad = df.assign(low=np.where(df["unit"] == "c1-high", 1, df["low"]))
    with pytest.raises(la.errors.DataValidationError, match="every eligible unit"):
        la.did.ri_test(bad, **KW, eligible="low")
    bad = df.assign(low=np.where((df["unit"] == "c3-high") & (df["t"] == 2), 1, df["low"]))
    with pytest.raises(la.errors.DataValidationError, match="constant within unit"):
        la.did.ri_test(bad, **KW, eligible="low")


def test_size_under_the_sharp_null_with_eligible_units() -> None:
    """Exchangeable clusters and no effect: the exact test rejects at most alpha."""
    rej = []
    for s in range(120):
        df = tier_panel(seed=100 + s)
        df["y"] = df["y"] - 0.3 * df["d"]
        rej.append(la.did.ri_test(df, **KW, eligible="low").p_value <= 0.05)
    # 28 assignments: P(p <= 0.05) = 1/28 under exchangeability; a wide binomial band
    assert float(np.mean(rej)) <= 0.10
