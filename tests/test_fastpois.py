"""Parity of the fast Poisson (PPML) path (laborai.did._fastpois) with pyfixest.fepois.

With pyfixest run at tight tolerances (``iwls_tol=1e-14``, ``fixef_tol=1e-14``) the
coefficients agree within 1e-10 (relative) and the standard errors within 1e-8, on balanced
and unbalanced panels, with zeros and separated fixed-effect groups, weights, iid/HC1/CRV1
one- and two-way, several regressors, three fixed effects and the event-study dummies.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

import laborai as la
from laborai.did._fastfe import SparseBlock
from laborai.did._fastpois import fit_poisson, separated_rows
from laborai.errors import ConvergenceWarning, EstimationError

TIGHT = dict(iwls_tol=1e-14, fixef_tol=1e-14, iwls_maxiter=200)


def _panel(N: int = 240, T: int = 10, *, unbalanced: bool = False, zeros: bool = True,
           separated: bool = True, weights: bool = False, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    u = np.repeat(np.arange(N), T)
    t = np.tile(np.arange(T), N)
    x1 = rng.normal(size=u.size)
    x2 = ((t > T // 2) & (u % 3 == 0)).astype(float)
    x3 = rng.uniform(size=u.size)
    eta = 0.2 * x1 + 0.3 * x2 - 0.4 * x3 + rng.normal(size=N)[u] + 0.3 * rng.normal(size=T)[t]
    y = rng.poisson(np.exp(eta + (-1.0 if zeros else 1.5))).astype(float)
    if separated:
        y[u < 6] = 0.0  # six units with only zero outcomes
        y[(t == 0)] = 0.0  # and a period with only zeros
    df = pd.DataFrame({"_y": y, "_x0": x1, "_x1": x2, "_x2": x3, "_fe0": u, "_fe1": t,
                       "_fe2": (u * 7 + t) % 5, "_cl0": u // 8, "_cl1": t})
    if weights:
        df["_w"] = rng.uniform(0.5, 2.0, size=u.size)
    if unbalanced:
        df = df.sample(frac=0.75, random_state=seed).sort_index().reset_index(drop=True)
    return df


def _codes(s: pd.Series) -> np.ndarray:
    return pd.factorize(s, sort=True)[0]


def _both(df: pd.DataFrame, vcov: object, *, xs: tuple[str, ...] = ("_x0", "_x1", "_x2"),
          fes: tuple[str, ...] = ("_fe0", "_fe1"), pf_kw: dict | None = None,
          fast_kw: dict | None = None) -> tuple[object, object]:
    w = "_w" if "_w" in df.columns else None
    fml = "_y ~ " + " + ".join(xs) + " | " + " + ".join(fes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = pf.fepois(fml, data=df, vcov=vcov, weights=w, fixef_rm="none",  # type: ignore[arg-type]
                      **(pf_kw if pf_kw is not None else TIGHT))
    kind = vcov if isinstance(vcov, str) else "cluster"
    cl = None if kind != "cluster" else [_codes(df[c]) for c in vcov["CRV1"].split("+")]  # type: ignore[index]
    f = fit_poisson(df["_y"].to_numpy(), dense=df[list(xs)].to_numpy(),
                    fe=[_codes(df[c]) for c in fes], clusters=cl,
                    weights=None if w is None else df[w].to_numpy(), vcov=kind,
                    **(fast_kw if fast_kw is not None else dict(tol=1e-14, maxiter=200)))
    return m, f


def _gaps(m: object, f: object) -> tuple[float, float]:
    b = np.asarray(m._beta_hat)  # type: ignore[attr-defined]
    se = np.sqrt(np.diag(m._vcov))  # type: ignore[attr-defined]
    se_f = np.sqrt(np.diag(f.vcov))  # type: ignore[attr-defined]
    return (float(np.max(np.abs(f.coef - b) / np.abs(b))),  # type: ignore[attr-defined]
            float(np.max(np.abs(se_f - se) / se)))


VCOVS = ["iid", "hetero", {"CRV1": "_cl0"}, {"CRV1": "_cl0+_cl1"}, {"CRV1": "_fe0"}]


@pytest.mark.parametrize("design", [
    dict(),
    dict(unbalanced=True),
    dict(weights=True),
    dict(unbalanced=True, weights=True),
    dict(zeros=False, separated=False),
])
@pytest.mark.parametrize("vcov", VCOVS, ids=["iid", "hetero", "crv1", "crv1_2way", "crv1_unit"])
def test_parity_with_fepois_at_tight_tolerances(design: dict, vcov: object) -> None:
    df = _panel(**design)
    m, f = _both(df, vcov)
    assert f.nobs == m._N  # type: ignore[attr-defined]
    assert f.n_separated == len(df) - m._N  # type: ignore[attr-defined]
    db, dse = _gaps(m, f)
    assert db < 1e-10
    assert dse < 1e-8


def test_separation_drops_what_pyfixest_drops() -> None:
    df = _panel(unbalanced=True)
    m, f = _both(df, "iid")
    assert f.n_separated > 0
    # pyfixest keeps the rows not separated; so does fit_poisson, in the same order
    sep = separated_rows(df["_y"].to_numpy(), [_codes(df["_fe0"]), _codes(df["_fe1"])])
    assert int(sep.sum()) == f.n_separated == len(df) - m._N  # type: ignore[attr-defined]
    assert np.array_equal(f.rows, ~sep)
    # no zeros: nothing to check
    assert not separated_rows(np.ones(5), [np.arange(5)]).any()


def test_three_fixed_effects_iterative_demeaning() -> None:
    df = _panel(unbalanced=True)
    m, f = _both(df, {"CRV1": "_cl0"}, fes=("_fe0", "_fe1", "_fe2"))
    assert f.method == "iterative"
    db, dse = _gaps(m, f)
    assert db < 1e-10 and dse < 1e-8


def test_one_regressor_and_collinear_regressor() -> None:
    df = _panel()
    df["_x3"] = 2.0 * df["_x0"]  # collinear: dropped by both
    m, f = _both(df, "hetero", xs=("_x0", "_x3"))
    assert f.kept == (0,) and f.dropped == (1,)
    assert list(m._coefnames) == ["_x0"]  # type: ignore[attr-defined]
    db, dse = _gaps(m, f)
    assert db < 1e-10 and dse < 1e-8
    df["_x4"] = (df["_fe0"] % 2).astype(float)  # constant within unit: collinear with the FE
    with pytest.raises(EstimationError, match="collinear"):
        fit_poisson(df["_y"].to_numpy(), dense=df[["_x4"]].to_numpy(),
                    fe=[_codes(df["_fe0"]), _codes(df["_fe1"])], clusters=None, weights=None,
                    vcov="iid")


def test_defaults_gap_is_pyfixest_tolerance() -> None:
    """At both packages' defaults (iwls_tol 1e-8; pyfixest's fixef_tol 1e-6) the gap is the
    tolerance's, not a difference of method."""
    df = _panel(N=400, unbalanced=True)
    m, f = _both(df, {"CRV1": "_cl0"}, pf_kw={}, fast_kw={})
    db, dse = _gaps(m, f)
    assert db < 1e-4 and dse < 1e-4


def test_sparse_block_equals_dense_columns() -> None:
    df = _panel(unbalanced=True)
    code = np.where(df["_fe1"].to_numpy() >= 5, df["_fe1"].to_numpy() - 5, -1)
    code[df["_fe0"].to_numpy() % 2 == 0] = -1
    vals = np.ones(len(df))
    K = 5
    dense = np.column_stack([np.where(code == k, 1.0, 0.0) for k in range(K)])
    fe = [_codes(df["_fe0"]), _codes(df["_fe1"])]
    a = fit_poisson(df["_y"].to_numpy(), dense=df[["_x0"]].to_numpy(), fe=fe,
                    clusters=[_codes(df["_cl0"])], weights=None, vcov="cluster",
                    block=SparseBlock(code, vals, K))
    b = fit_poisson(df["_y"].to_numpy(), dense=np.column_stack([dense, df["_x0"].to_numpy()]),
                    fe=fe, clusters=[_codes(df["_cl0"])], weights=None, vcov="cluster")
    np.testing.assert_array_equal(a.coef, b.coef)
    np.testing.assert_array_equal(a.vcov, b.vcov)


def test_non_convergence_warns() -> None:
    df = _panel()
    with pytest.warns(ConvergenceWarning, match="IRLS stopped after 2 iterations"):
        fit_poisson(df["_y"].to_numpy(), dense=df[["_x0"]].to_numpy(),
                    fe=[_codes(df["_fe0"]), _codes(df["_fe1"])], clusters=None, weights=None,
                    vcov="iid", maxiter=2)


def test_all_rows_separated_is_an_error() -> None:
    with pytest.raises(EstimationError, match="every row is separated"):
        fit_poisson(np.zeros(6), dense=np.arange(6.0)[:, None],
                    fe=[np.array([0, 0, 1, 1, 2, 2])], clusters=None, weights=None, vcov="iid")


# --------------------------------------------------------------------------------------------
# through the public API
# --------------------------------------------------------------------------------------------


def _did_panel(N: int = 160, T: int = 10, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"unit": np.repeat(np.arange(N), T), "t": np.tile(np.arange(T), N)})
    df["grp"] = df["unit"] % 16
    df["d"] = ((df["grp"] < 8) & (df["t"] >= 5)).astype(float)
    df["x"] = rng.normal(size=len(df))
    df["w"] = rng.uniform(0.5, 2.0, size=N)[df["unit"]]
    eta = 0.3 * df["d"] + 0.1 * df["x"] + rng.normal(size=N)[df["unit"]] - 0.3
    df["y"] = rng.poisson(np.exp(eta)).astype(float)
    df.loc[df["unit"] < 3, "y"] = 0.0  # separated units
    df["event"] = np.where(df["grp"] < 8, 5 + (df["unit"] % 3), np.nan)
    return df


@pytest.mark.parametrize("extra", [dict(), dict(weights="w"), dict(vcov="hetero"),
                                   dict(controls=["x"], cluster=["grp", "t"])])
def test_twfe_poisson_backends_agree(extra: dict) -> None:
    df = _did_panel()
    kw = dict(yname="y", dname="d", idname="unit", tname="t", cluster="grp", vcov="cluster",
              family="poisson")
    kw.update(extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = la.did.twfe(df, **kw)  # type: ignore[arg-type]
        b = la.did.twfe(df, backend="pyfixest", **kw)  # type: ignore[arg-type]
        c = la.did.twfe(df, backend="fast", **kw)  # type: ignore[arg-type]
    assert a.provenance.settings["backend"] == "fastpois"
    assert c.provenance.settings["backend"] == "fastpois"
    assert b.provenance.settings["backend"] == "pyfixest"
    assert a.nobs == b.nobs and a.n_dropped == b.n_dropped
    # pyfixest at its defaults (iwls_tol 1e-8, fixef_tol 1e-6): the gap is its tolerance's
    pd.testing.assert_frame_equal(a.tidy(), b.tidy(), rtol=1e-5)
    pd.testing.assert_frame_equal(a.tidy(), c.tidy())


def test_event_study_poisson_dummies_match_fepois() -> None:
    df = _did_panel()
    kw = dict(yname="y", idname="unit", tname="t", event_date="event", cluster="grp",
              vcov="cluster", family="poisson", window=(-3, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = la.did.event_study(df, **kw)  # type: ignore[arg-type]
        b = la.did.event_study(df, backend="pyfixest", **kw)  # type: ignore[arg-type]
        c = la.did.event_study(df, backend="fast", **kw)  # type: ignore[arg-type]
    assert a.provenance.settings["backend"] == "fastpois"
    assert c.provenance.settings["backend"] == "fastpois"
    assert b.provenance.settings["backend"] == "pyfixest"
    ta, tb = a.tidy(), b.tidy()
    assert list(ta["term"]) == list(tb["term"])
    np.testing.assert_allclose(ta["estimate"], tb["estimate"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ta["std_error"], tb["std_error"], rtol=1e-5)
    # the binned dummies by hand, pyfixest with an exact demeaning (fixef_tol 1e-14) and the
    # default IRLS stopping rule laborai's path uses (iwls_tol 1e-8): the same iterations
    e = np.clip(df["t"] - df["event"], -3, 3)
    hand = df.copy()
    names = []
    for k in range(-3, 4):
        if k == -1:
            continue
        nm = f"e_{'m' if k < 0 else ''}{abs(k)}"
        hand[nm] = (e == k).astype(float)
        names.append(nm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = pf.fepois("y ~ " + " + ".join(names) + " | unit + t", hand, vcov={"CRV1": "grp"},
                      fixef_rm="none", fixef_tol=1e-14)  # type: ignore[arg-type]
    np.testing.assert_allclose(a.coef, np.asarray(m._beta_hat), rtol=1e-10)
    np.testing.assert_allclose(np.sqrt(np.diag(a.vcov)), np.sqrt(np.diag(m._vcov)), rtol=1e-8)
