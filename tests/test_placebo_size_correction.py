"""Placebo inference with cells of very different size: the Ferman-Pinto correction of the
pooled placebo covariance (twfe, ddd)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import laborai as la
from laborai.did._placebo import pooled_scale


def cells(seed: int = 0, *, n_clusters: int = 12, treated: tuple[int, ...] = (0, 1),
          n_periods: int = 12, sizes: np.ndarray | None = None, tiers: bool = False,
          shock_sd: float = 0.02) -> pd.DataFrame:
    """Cluster (x tier) cells whose noise has variance 1 / n_posts, plus a cluster shock."""
    rng = np.random.default_rng(seed)
    if sizes is None:
        # the treated cells small, within the range of the control cells' sizes
        sizes = np.where(np.isin(np.arange(n_clusters), treated), 10,
                         np.geomspace(5, 600, n_clusters)).astype(int)
    rows = []
    for c in range(n_clusters):
        shock = rng.normal(0, shock_sd, n_periods)
        for h in ((0, 1) if tiers else (0,)):
            n = int(sizes[c]) * (1 if h == 0 else 2)
            for t in range(n_periods):
                post = int(t >= n_periods // 2)
                rows.append({"unit": f"c{c}h{h}", "category": f"c{c:02d}", "t": t,
                             "exposed": int(c in treated), "post": post, "high": h,
                             "d": int(c in treated) * post, "n_posts": n,
                             "y": shock[t] + rng.normal(0, 1 / np.sqrt(n))})
    return pd.DataFrame(rows)


def _twfe(df: pd.DataFrame, size: str | None) -> la.did.TWFEResult:
    return la.did.twfe(df, yname="y", dname="d", idname="unit", tname="t", cluster="category",
                       size=size)


def test_equal_sizes_change_nothing() -> None:
    df = cells(sizes=np.full(12, 50))
    a, b = _twfe(df, "n_posts"), _twfe(df, None)
    assert a.vcov_type == b.vcov_type == "placebo"
    np.testing.assert_allclose(a.vcov, b.vcov, rtol=1e-10)
    assert a.provenance.settings["size"] == "n_posts" and b.provenance.settings["size"] is None


def test_auto_uses_n_posts_or_weights_and_records_it() -> None:
    df = cells()
    assert _twfe(df, "auto").provenance.settings["size"] == "n_posts"
    w = la.did.twfe(df.assign(w=df["n_posts"]), yname="y", dname="d", idname="unit",
                    tname="t", cluster="category", weights="w", size="auto")
    assert w.provenance.settings["size"] == "w"
    assert _twfe(df.drop(columns="n_posts"), "auto").provenance.settings["size"] is None
    # off by default (docs/validation.md: it over-rejects where cluster shocks dominate)
    default = la.did.twfe(df, yname="y", dname="d", idname="unit", tname="t",
                          cluster="category")
    assert default.provenance.settings["size"] is None


def test_treated_cells_smaller_than_controls_get_a_larger_standard_error() -> None:
    df = cells(seed=3)
    se_fp = float(_twfe(df, "auto").tidy()["std_error"].iloc[0])
    se_ct = float(_twfe(df, None).tidy()["std_error"].iloc[0])
    assert se_fp > 1.5 * se_ct


def test_bad_size_column_is_refused() -> None:
    df = cells()
    with pytest.raises(la.errors.OptionError, match="size='nope' is not a column"):
        _twfe(df, "nope")
    bad = df.assign(n_posts=df["n_posts"].astype(float).where(df.index != 5))
    with pytest.raises(la.errors.DataValidationError, match="1 missing or non-numeric"):
        _twfe(bad, "n_posts")


def test_homoskedastic_target_proxy_equals_the_placebos() -> None:
    """v* of the treated estimate equals each placebo's v when all cells are alike: the
    correction's target is on the scale of the Conley-Taber formula."""
    from laborai.did._placebo import _placebo_fits, sampling_var
    df = cells(sizes=np.full(12, 50))
    fe = np.column_stack([pd.factorize(df["unit"])[0], df["t"].to_numpy()])
    X = df[["d"]].to_numpy(float)
    inv = 1.0 / df["n_posts"].to_numpy(float)
    vg = sampling_var(X, None, fe, inv)[0]
    ctrl = df["exposed"].to_numpy() == 0
    designs = [((df.loc[ctrl, "category"] == c).to_numpy() * df.loc[ctrl, "post"].to_numpy()
                ).astype(float)[:, None] for c in sorted(df.loc[ctrl, "category"].unique())]
    fe_c = np.column_stack([pd.factorize(df.loc[ctrl, "unit"])[0], df.loc[ctrl, "t"]])
    _, vj = _placebo_fits(df.loc[ctrl, "y"].to_numpy(), None, fe_c, designs, inv[ctrl])
    assert vj is not None
    J = len(designs)
    v_star = vg / ((J - 1) / J * (0.5**2 + 0.5**2 + 1 / J))
    np.testing.assert_allclose(vj[:, 0], v_star, rtol=1e-9)
    assert pooled_scale(J, 0.5) > 0


@pytest.mark.slow
@pytest.mark.parametrize("fn", ["twfe", "ddd"])
def test_size_under_the_null_with_small_treated_cells(fn: str) -> None:
    """300 null panels, 2 of 12 clusters treated, the treated cells among the smallest:
    Conley-Taber without the size correction over-rejects; with it the rejection rate is
    within a binomial band around 5%."""
    rej: dict[str | None, list[bool]] = {None: [], "n_posts": []}
    for s in range(300):
        df = cells(seed=1000 + s, tiers=fn == "ddd")
        for size in rej:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if fn == "twfe":
                    r = _twfe(df, size)
                    p = float(r.tidy()["p_value"].iloc[0])
                else:
                    r = la.did.ddd(df, yname="y", idname="unit", tname="t", dname="exposed",
                                   post="post", pname="high", cluster="category", size=size)
                    tab = r.tidy()
                    p = float(tab.loc[tab["term"] == "exposed:post:high", "p_value"].iloc[0])
            rej[size].append(p < 0.05)
    plain, fp = float(np.mean(rej[None])), float(np.mean(rej["n_posts"]))
    assert plain > 0.10, plain
    assert 0.02 <= fp <= 0.085, fp


def test_cont_did_and_ddd_gt_warn_with_few_clusters() -> None:
    """Their analytic cluster-robust intervals are not validated with few clusters (the
    report measured 50-96% coverage with 12 categories): asking for them warns."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(48):
        g = 3 if i < 24 else 0
        dose = float(rng.uniform(0.2, 1.0)) if g else 0.0
        for t in range(1, 5):
            rows.append({"unit": i, "cl": f"c{i % 12}", "t": t, "g": g, "dose": dose,
                         "high": i % 2, "y": rng.normal() + (0.5 * dose if g and t >= g else 0)})
    df = pd.DataFrame(rows)
    with pytest.warns(la.errors.SmallSampleWarning, match="12 clusters"):
        la.did.cont_did(df, yname="y", tname="t", idname="unit", gname="g", dname="dose",
                        cluster="cl", degree=1)
    with pytest.warns(la.errors.SmallSampleWarning, match="are not validated"):
        la.did.ddd_gt(df, yname="y", tname="t", idname="unit", gname="g", pname="high",
                      cluster="cl")
    with warnings.catch_warnings():
        warnings.simplefilter("error", la.errors.SmallSampleWarning)
        la.did.ddd_gt(df, yname="y", tname="t", idname="unit", gname="g", pname="high")


def test_ddd_triple_difference_is_size_corrected_by_default() -> None:
    """Under size='auto' the triple difference's placebos are the differences of the two
    tiers' size-corrected DiD placebos (their shared category shock cancels), while the DiDs
    report the Conley-Taber variances: rebuilt here from laborai.did._placebo's building
    blocks. Before, 'auto' did not exist for ddd and no correction was made by default (the
    triple difference rejected 2.6% at 5% on the calibrated simulator)."""
    from laborai.did._placebo import _placebo_fits, rescale_columns, sampling_var, size_target

    df = cells(seed=8, tiers=True, treated=(0, 1, 2))
    kw = dict(yname="y", idname="unit", tname="t", dname="exposed", post="post",
              pname="high", cluster="category")
    res = la.did.ddd(df, **kw)
    assert res.provenance.settings["size"] == "n_posts"
    assert tuple(res.provenance.settings["size_effects"]) == ("ddd",)
    tab = res.tidy().set_index("effect")
    # placebos of the tiers' DiDs (b1, b1 + b3) on the control categories, each pseudo-treated
    # in turn, with the regression's other term (high x post) as in the real fit
    post, high = df["post"].to_numpy(float), df["high"].to_numpy(float)
    ctrl = df["exposed"].to_numpy() == 0
    inv = 1.0 / df["n_posts"].to_numpy(float)
    fe = np.column_stack([pd.factorize(df["unit"])[0], pd.factorize(df["t"])[0]])
    fe_c = np.column_stack([pd.factorize(df.loc[ctrl, "unit"])[0],
                            pd.factorize(df.loc[ctrl, "t"])[0]])
    cats = sorted(df.loc[ctrl, "category"].unique())
    designs = []
    for c in cats:
        e = (df.loc[ctrl, "category"] == c).to_numpy(float)
        designs.append(np.column_stack([e * post[ctrl], e * post[ctrl] * high[ctrl],
                                        high[ctrl] * post[ctrl]]))
    combos = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    P, v = _placebo_fits(df.loc[ctrl, "y"].to_numpy(), None, fe_c, designs, inv[ctrl], combos)
    assert v is not None
    e_all = df["exposed"].to_numpy(float)
    X = np.column_stack([e_all * post, e_all * post * high, high * post])
    vg = sampling_var(X, None, fe, inv, combos)
    J, w2 = len(cats), 3 * (1 / 3) ** 2
    R, _, _ = rescale_columns(P[:, :2] @ combos[:, :2].T, v, size_target(vg, J, w2))
    se_ref = float(np.sqrt(pooled_scale(J, w2) * np.sum((R[:, 1] - R[:, 0]) ** 2)))
    assert float(tab.loc["ddd", "std_error"]) == pytest.approx(se_ref, rel=1e-9)
    # the low-tier DiD keeps the Conley-Taber placebos under 'auto' (= size=None); the
    # high-tier DiD too unless the three variances are inconsistent, as here (treated cells
    # of 10 posts: the corrected triple difference exceeds what the uncorrected DiDs allow),
    # where the correlation is clipped and only its variance moves, upwards
    plain = la.did.ddd(df, **kw, size=None).tidy().set_index("effect")
    assert float(tab.loc["did_low", "std_error"]) == pytest.approx(
        float(plain.loc["did_low", "std_error"]), rel=1e-9)
    sl, sd = float(tab.loc["did_low", "std_error"]), float(tab.loc["ddd", "std_error"])
    assert float(tab.loc["did_high", "std_error"]) == pytest.approx(sd - sl, rel=1e-9)
    assert float(tab.loc["did_high", "std_error"]) > float(plain.loc["did_high", "std_error"])
    assert abs(float(tab.loc["ddd", "std_error"]) / float(plain.loc["ddd", "std_error"])
               - 1) > 0.05
    # an explicit size column corrects all three (the rule before 'auto')
    full = la.did.ddd(df, **kw, size="n_posts")
    assert tuple(full.provenance.settings["size_effects"]) == ("did_low", "did_high", "ddd")
    ftab = full.tidy().set_index("effect")
    assert float(ftab.loc["ddd", "std_error"]) == pytest.approx(se_ref, rel=1e-9)
    # and re-estimating under another vcov keeps the requested 'auto'
    again = res.with_vcov("placebo")
    assert again.provenance.settings["size_effects"] == res.provenance.settings["size_effects"]
    assert float(again.tidy().set_index("effect").loc["ddd", "std_error"]) == pytest.approx(
        se_ref, rel=1e-9)
