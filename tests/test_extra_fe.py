"""Extra fixed effects (``fe=``) in twfe, event_study and ddd: equal to pyfixest's
``| unit + period + extra`` on both backends, with missing values dropped and named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from pyfixest.demeaners import MapDemeaner

import laborai as la
from laborai.errors import LaborAIWarning, OptionError

TIGHT = MapDemeaner(fixef_tol=1e-13)


def panel(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_u, n_t = 40, 12
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_u), n_t), "t": np.tile(np.arange(n_t), n_u)})
    df["tier"] = df["unit"] % 2
    df["cat"] = df["unit"] // 2
    df["tier_t"] = df["tier"].astype(str) + "_" + df["t"].astype(str)
    df["country"] = rng.integers(0, 5, len(df))
    df["d"] = ((df["cat"] < 8) & (df["t"] >= 6)).astype(int)
    df["y"] = (0.3 * df["d"] + 0.2 * df["tier"] * df["t"] / n_t + 0.1 * df["country"]
               + rng.normal(size=len(df)))
    df["event_date"] = np.where(df["cat"] < 8, 6.0, np.nan)
    return df


@pytest.mark.parametrize("backend", ["fast", "pyfixest"])
@pytest.mark.parametrize("vcov", ["cluster", "hetero"])
def test_twfe_extra_fe_equals_pyfixest(backend: str, vcov: str) -> None:
    df = panel()
    res = la.did.twfe(df, yname="y", dname="d", idname="unit", tname="t",
                      fe=["tier_t", "country"], cluster="unit", vcov=vcov, backend=backend)
    ref = pf.feols("y ~ d | unit + t + tier_t + country", df,
                   vcov={"CRV1": "unit"} if vcov == "cluster" else "HC1", demeaner=TIGHT)
    assert res.tidy()["estimate"].iloc[0] == pytest.approx(float(ref.coef().iloc[0]), abs=1e-9)
    assert res.tidy()["std_error"].iloc[0] == pytest.approx(float(ref.se().iloc[0]), rel=1e-7)
    assert dict(res.provenance.settings)["fe"] == ("tier_t", "country")
    # the extra fixed effect changes the estimate (it is not ignored)
    plain = la.did.twfe(df, yname="y", dname="d", idname="unit", tname="t", cluster="unit",
                        vcov=vcov, backend=backend)
    assert abs(plain.tidy()["estimate"].iloc[0] - res.tidy()["estimate"].iloc[0]) > 1e-6


def test_event_study_and_ddd_take_extra_fe() -> None:
    df = panel(1)
    # CRV1 asked on purpose: compared with pyfixest's
    es = la.did.event_study(df, yname="y", idname="unit", tname="t", event_date="event_date",
                            window=(-3, 3), cluster="unit", vcov="cluster", fe=["tier_t"])
    d = df.copy()
    e = (d["t"] - d["event_date"]).clip(-3, 3)
    for k in range(-3, 4):
        if k != -1:
            d[f"e{k + 3}"] = ((e == k) & d["event_date"].notna()).astype(float)
    names = [f"e{k + 3}" for k in range(-3, 4) if k != -1]
    ref = pf.feols(f"y ~ {' + '.join(names)} | unit + t + tier_t", d, vcov={"CRV1": "unit"},
                   demeaner=TIGHT)
    np.testing.assert_allclose(es.tidy()["estimate"].to_numpy(), ref.coef().to_numpy(),
                               atol=1e-9)
    df["exposed"] = (df["cat"] < 8).astype(int)
    df["post"] = (df["t"] >= 6).astype(int)
    a = la.did.ddd(df, yname="y", idname="unit", tname="t", dname="exposed", post="post",
                   pname="tier", cluster="unit", vcov="cluster", fe=["country"])
    b = la.did.ddd(df, yname="y", idname="unit", tname="t", dname="exposed", post="post",
                   pname="tier", cluster="unit", vcov="cluster")
    assert dict(a.provenance.settings)["fe"] == ("country",)
    assert not np.allclose(a.tidy()["estimate"], b.tidy()["estimate"])


def test_extra_fe_missing_values_are_dropped_and_named_and_bad_spec_refused() -> None:
    df = panel(2)
    df.loc[df.index[:5], "country"] = np.nan
    with pytest.warns(LaborAIWarning, match="country"):
        res = la.did.twfe(df, yname="y", dname="d", idname="unit", tname="t", fe="country",
                          cluster="unit", vcov="cluster")
    assert res.n_dropped == 5
    with pytest.raises(OptionError, match="fe must be"):
        la.did.twfe(df, yname="y", dname="d", idname="unit", tname="t", fe=["country", "country"])
    with pytest.raises(la.DataValidationError):
        la.did.twfe(df, yname="y", dname="d", idname="unit", tname="t", fe=["no_such_column"])
