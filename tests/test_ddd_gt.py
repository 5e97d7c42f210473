"""Staggered triple differences (``ddd_gt``): parity with R ``triplediff`` 0.2.4 on every case
in $LABORAI_DATA_DIR/reference/triplediff, the cross-check against moderndid / diff-diff, the
not-yet-treated combination's invariance to irrelevant units, validation, recovery of a known
DDD effect where DiD is biased, and the result contract."""

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
from laborai.did.cs import AggregateResult
from laborai.did.ddd_gt import DDDgtResult, ddd_gt
from laborai.errors import DataValidationError, EstimationError, OptionError

REF = DATA_DIR / "reference" / "triplediff"
KW: dict[str, str] = {"yname": "y", "tname": "time", "idname": "id", "gname": "state",
                      "pname": "partition"}


def _ref(name: str) -> Path:
    path = REF / name
    # a reference test must fail, never skip, when its file is missing
    assert path.exists(), f"reference file missing: {path}"
    return path


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return pd.read_csv(_ref("statspai_77_ddd_staggered.csv"))


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    return pd.read_csv(_ref("expected_values.csv"))


def _options(case: str) -> dict[str, Any]:
    parts = case.split("_")
    return {
        "xformla": "~cov1+cov2" if parts[0] == "cov" else None,
        "est_method": parts[1],
        "control_group": "not_yet_treated" if parts[2].startswith("notyet") else "never_treated",
    }


def _cell(res: DDDgtResult, statistic: str) -> tuple[float, float]:
    g, t = statistic.split("_")[-2:]
    term = f"ATT({int(g[1:])},{int(t[1:])})"
    tid = res.tidy().set_index("term")
    return float(tid.loc[term, "estimate"]), float(tid.loc[term, "std_error"])


# ---------------------------------------------------------------------------------------------
# parity with R triplediff
# ---------------------------------------------------------------------------------------------


def test_reference_cases_are_all_covered(expected: pd.DataFrame) -> None:
    assert set(expected["case"]) == {
        "nocov_dr_nevertreated", "cov_dr_nevertreated", "cov_ipw_nevertreated",
        "cov_reg_nevertreated", "nocov_dr_notyettreated_GMM", "per_control_cohort"}
    assert len(expected) == 34


@pytest.mark.parametrize("case", ["nocov_dr_nevertreated", "cov_dr_nevertreated",
                                  "cov_ipw_nevertreated", "cov_reg_nevertreated",
                                  "nocov_dr_notyettreated_GMM"])
def test_parity_with_r_triplediff(panel: pd.DataFrame, expected: pd.DataFrame,
                                  case: str) -> None:
    rows = expected[expected["case"] == case]
    assert len(rows) > 0
    res = ddd_gt(panel, **KW, **_options(case))
    for _, row in rows.iterrows():
        if row["statistic"].startswith("simple"):
            agg = res.aggregate("simple")
            est, se = agg.overall_estimate, agg.overall_std_error
        else:
            est, se = _cell(res, row["statistic"])
        # R's not-yet-treated values were published with 12 significant digits
        assert est == pytest.approx(row["estimate"], abs=1e-8, rel=0), row["statistic"]
        if pd.notna(row["se"]):
            assert se == pytest.approx(row["se"], rel=1e-6), row["statistic"]


def test_parity_per_control_cohort(panel: pd.DataFrame, expected: pd.DataFrame) -> None:
    """R run on the treated cohort and one comparison cohort (recoded as never treated); the
    not-yet-treated fit reports the same per-comparison DDDs."""
    rows = expected[expected["case"] == "per_control_cohort"]
    assert len(rows) == 2
    nyt = ddd_gt(panel, **KW, control_group="not_yet_treated")
    k = int(np.flatnonzero((nyt.group == 2) & (nyt.time == 3))[0])
    for (_, row), ctrl in zip(rows.iterrows(), (0, 4), strict=True):
        assert f"{{2,{ctrl}}}" in row["data_file"]
        sub = panel[panel["state"].isin([2, ctrl])].assign(
            state=lambda d: np.where(d["state"] == 2, 2, 0))
        est, _ = _cell(ddd_gt(sub, **KW), row["statistic"])
        assert est == pytest.approx(row["estimate"], abs=1e-8, rel=0)
        j = int(np.flatnonzero(nyt.comparison_cohorts == ctrl)[0])
        assert nyt.comparison_estimate[k, j] == pytest.approx(row["estimate"], abs=1e-8, rel=0)


def test_parity_r_json(panel: pd.DataFrame) -> None:
    rows = json.loads(_ref("statspai_77_ddd_R.json").read_text())["rows"]
    assert len(rows) == 28
    fits: dict[str, DDDgtResult] = {}
    for row in rows:
        st = row["statistic"]
        method = st.split("_")[1] if st.split("_")[1] in ("dr", "ipw", "reg") else None
        if st.startswith("simple"):
            method = {"simple_ATT_cohort_weights": None}.get(st, st.split("_")[-1])
        key = method or "nocov"
        if key not in fits:
            fits[key] = ddd_gt(panel, **KW, est_method=method or "dr",
                               xformla=None if method is None else "~cov1+cov2")
        res = fits[key]
        if st.startswith("simple"):
            agg = res.aggregate("simple")
            est, se = agg.overall_estimate, agg.overall_std_error
        else:
            est, se = _cell(res, st)
        assert est == pytest.approx(row["estimate"], abs=1e-8, rel=0), st
        if row["se"] is not None:
            assert se == pytest.approx(row["se"], rel=1e-6), st


def test_not_yet_treated_cells_combine_comparisons(panel: pd.DataFrame) -> None:
    res = ddd_gt(panel, **KW, control_group="not_yet_treated", xformla="~cov1+cov2")
    w, a = res.comparison_weight, res.comparison_estimate
    used = np.isfinite(w)
    np.testing.assert_allclose(np.nansum(w, axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(used, np.isfinite(a))
    np.testing.assert_allclose(np.nansum(w * a, axis=1), res.estimate, rtol=1e-12)
    tid = res.tidy().set_index("term")
    assert tid.loc["ATT(2,2)", "n_comparisons"] == 3      # never, 3 and 4
    assert tid.loc["ATT(2,3)", "n_comparisons"] == 2      # never and 4
    assert tid.loc["ATT(2,4)", "n_comparisons"] == 1      # never only
    never = ddd_gt(panel, **KW, xformla="~cov1+cov2")
    # a cell with only the never-treated cohort as comparison is the never-treated DDD
    k = int(np.flatnonzero((res.group == 2) & (res.time == 4))[0])
    assert res.estimate[k] == pytest.approx(never.estimate[k], abs=1e-12)
    assert res.std_error[k] == pytest.approx(never.std_error[k], rel=1e-12)


# ---------------------------------------------------------------------------------------------
# the Python peers on the same file (cross-check, computed for the reference folder)
# ---------------------------------------------------------------------------------------------


def _peer_keys() -> list[str]:
    keys = ["nocov_dr_nevertreated", "nocov_dr_notyettreated"]
    for m in ("dr", "ipw", "reg"):
        keys += [f"cov_{m}_nevertreated", f"cov_{m}_notyettreated"]
    return keys


@pytest.mark.parametrize("key", _peer_keys())
def test_crosscheck_moderndid_and_diff_diff(panel: pd.DataFrame, key: str) -> None:
    """ATT(g,t) agree with both peers; never-treated SEs too. For not-yet-treated cells that
    combine comparison cohorts, the peers' SEs are laborai's times ``sqrt(n_c / n)``
    (moderndid) and about ``n_c / n`` (diff-diff), ``n_c`` the units of the cell's cohorts: both
    scale by the full sample, so they would change if units of other cohorts were added
    (see test_nyt_cell_ignores_irrelevant_units)."""
    peers = json.loads(_ref("python_crosscheck_moderndid0.2.0_diffdiff3.13.0.json").read_text())
    md, dd = peers["md_" + key], peers["dd_" + key]
    cov, method, cg = key.split("_")
    res = ddd_gt(panel, **KW, est_method=method, xformla="~cov1+cov2" if cov == "cov" else None,
                 control_group="not_yet_treated" if cg.startswith("notyet") else "never_treated")
    n = res.n_units
    counts = {c: int((res.unit_group == c).sum()) for c in res.comparison_cohorts}
    for k, (g, t) in enumerate(zip(res.group, res.time, strict=True)):
        cell = f"g{int(g)}_t{int(t)}"
        used = res.comparison_cohorts[np.isfinite(res.comparison_weight[k])]
        n_c = counts[g] + sum(counts[c] for c in used)
        est, se = res.estimate[k], res.std_error[k]
        # moderndid's logit differs from R's at ~1e-9, which moves GMM weights a little
        assert est == pytest.approx(md["cells"][cell][0], abs=1e-7), cell
        assert est == pytest.approx(dd["cells"][cell][0], abs=1e-7), cell
        if len(used) == 1:
            assert se == pytest.approx(md["cells"][cell][1], rel=1e-6), cell
            assert se == pytest.approx(dd["cells"][cell][1], rel=1e-6), cell
        elif n_c < n:
            assert se * np.sqrt(n_c / n) == pytest.approx(md["cells"][cell][1], rel=1e-5), cell
            # diff-diff also uses its own second moment (not the n - 1 sample covariance)
            assert se * (n_c / n) == pytest.approx(dd["cells"][cell][1], rel=2e-3), cell
    es = res.aggregate("dynamic")
    for e, est in zip(es.element, es.estimate, strict=True):
        assert est == pytest.approx(md["es"][str(int(e))][0], abs=1e-7)


# ---------------------------------------------------------------------------------------------
# not-yet-treated: irrelevant units do not move a cell
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("xformla", [None, "~cov1+cov2"])
def test_nyt_cell_ignores_irrelevant_units(panel: pd.DataFrame, xformla: str | None) -> None:
    """ATT(2,3) with not-yet-treated comparisons uses cohorts 2, never (0) and 4; cohort 3 is
    already treated at t = 3. Adding 300 more cohort-3 units must leave the cell's estimate,
    its comparison weights and its standard error unchanged, while it does change cells for
    which these units matter (ATT(3,3))."""
    rng = np.random.default_rng(5)
    extra = panel[panel["state"] == 3].copy()
    extra = pd.concat([extra.assign(id=extra["id"] + 10_000 * (k + 1)) for k in range(2)])
    extra["y"] = extra["y"] + rng.normal(size=len(extra))
    bigger = pd.concat([panel, extra], ignore_index=True)
    kw = dict(KW, control_group="not_yet_treated", xformla=xformla)
    a, b = ddd_gt(panel, **kw), ddd_gt(bigger, **kw)
    assert b.n_units == a.n_units + 300
    ka = int(np.flatnonzero((a.group == 2) & (a.time == 3))[0])
    kb = int(np.flatnonzero((b.group == 2) & (b.time == 3))[0])
    assert a.n_comparisons[ka] == 2
    assert b.estimate[kb] == pytest.approx(a.estimate[ka], abs=1e-12)
    assert b.std_error[kb] == pytest.approx(a.std_error[ka], rel=1e-10)
    np.testing.assert_allclose(b.comparison_weight[kb], a.comparison_weight[ka], rtol=1e-10)
    # the influence-function variance of the cell does not move either
    assert np.sqrt(b.vcov[kb, kb]) == pytest.approx(np.sqrt(a.vcov[ka, ka]), rel=1e-10)
    # ... but the added units are used where they are relevant
    k33a = int(np.flatnonzero((a.group == 3) & (a.time == 3))[0])
    k33b = int(np.flatnonzero((b.group == 3) & (b.time == 3))[0])
    assert abs(b.std_error[k33b] / a.std_error[k33a] - 1) > 0.05


# ---------------------------------------------------------------------------------------------
# recovery of a known effect where DiD is biased
# ---------------------------------------------------------------------------------------------


def _sim(seed: int, n: int = 3000, effect: float = 2.0) -> pd.DataFrame:
    """Cohort-specific trends (shared by both partitions) and an eligible-specific trend; the
    effect hits eligible units of treated cohorts from their cohort's start."""
    rng = np.random.default_rng(seed)
    g = rng.choice([0, 3, 4], n)
    q = rng.integers(0, 2, n)
    x = rng.normal(size=n)
    t = np.arange(1, 6)
    cohort_trend = {0: 0.0, 3: 0.6, 4: -0.4}
    lam = np.array([cohort_trend[v] for v in g])
    y = (rng.normal(size=n)[:, None] + lam[:, None] * t + 0.5 * q[:, None] * t
         + 0.3 * x[:, None] * t + rng.normal(scale=0.5, size=(n, len(t)))
         + effect * ((g[:, None] > 0) & (t >= g[:, None]) & (q[:, None] == 1)))
    return pd.DataFrame({"id": np.repeat(np.arange(n), len(t)), "t": np.tile(t, n),
                         "g": np.repeat(g, len(t)), "q": np.repeat(q, len(t)),
                         "x": np.repeat(x, len(t)), "y": y.ravel()})


def test_recovers_ddd_effect_where_did_is_biased() -> None:
    d = _sim(1)
    kw = dict(yname="y", tname="t", idname="id", gname="g")
    res = ddd_gt(d, **kw, pname="q", xformla="~x")
    agg = res.aggregate("simple")
    assert agg.overall_estimate == pytest.approx(2.0, abs=4 * agg.overall_std_error)
    assert abs(agg.overall_estimate - 2.0) < 0.1
    post = res.group <= res.time
    assert np.all(np.abs(res.estimate[post] - 2.0) < 4 * res.std_error[post])
    pre = res.group > res.time
    assert np.all(np.abs(res.estimate[pre]) < 4 * res.std_error[pre])
    assert res.pretest() is not None and res.pretest().p_value > 0.01  # type: ignore[union-attr]
    # plain DiD on the eligible units: the cohort trends bias it (by about 0.6 and -0.4 per
    # period after the base period)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        did = la.did.att_gt(d[d["q"] == 1], **kw, xformla="~x", vcov="analytic")
    did_simple = did.aggregate("simple")
    assert abs(did_simple.overall_estimate - 2.0) > 10 * did_simple.overall_std_error
    for method in ("ipw", "reg"):
        other = ddd_gt(d, **kw, pname="q", xformla="~x", est_method=method)
        assert abs(other.aggregate("simple").overall_estimate - 2.0) < 0.1
    nyt = ddd_gt(d, **kw, pname="q", xformla="~x", control_group="not_yet_treated")
    assert abs(nyt.aggregate("simple").overall_estimate - 2.0) < 0.1


def test_nyt_standard_errors_match_monte_carlo_spread() -> None:
    """Across 200 simulated panels the GMM cell SE is within 15% of the estimates' spread."""
    ests, ses = [], []
    for s in range(200):
        d = _sim(100 + s, n=600, effect=1.0)
        r = ddd_gt(d, yname="y", tname="t", idname="id", gname="g", pname="q",
                   control_group="not_yet_treated")
        k = int(np.flatnonzero((r.group == 3) & (r.time == 3))[0])
        assert r.n_comparisons[k] == 2
        ests.append(r.estimate[k])
        ses.append(r.std_error[k])
    sd = float(np.std(ests, ddof=1))
    assert abs(np.mean(ses) / sd - 1) < 0.15
    assert abs(np.mean(ests) - 1.0) < 3 * sd / np.sqrt(len(ests))


# ---------------------------------------------------------------------------------------------
# options, inference and invariances
# ---------------------------------------------------------------------------------------------


def test_bootstrap_and_uniform_band(panel: pd.DataFrame) -> None:
    an = ddd_gt(panel, **KW)
    bs = ddd_gt(panel, **KW, vcov="bootstrap", cband=True, n_boot=999, seed=3)
    np.testing.assert_array_equal(bs.estimate, an.estimate)
    np.testing.assert_allclose(bs.std_error, an.std_error, rtol=0.15)
    assert bs.crit_val > 1.96
    tid = bs.tidy()
    assert {"point_conf_low", "point_conf_high"} <= set(tid.columns)
    assert np.all(tid["conf_high"] - tid["conf_low"] > tid["point_conf_high"]
                  - tid["point_conf_low"])
    again = ddd_gt(panel, **KW, vcov="bootstrap", cband=True, n_boot=999, seed=3)
    pd.testing.assert_frame_equal(again.tidy(), tid)
    other = ddd_gt(panel, **KW, vcov="bootstrap", n_boot=999, seed=4)
    assert not np.allclose(other.std_error, bs.std_error)
    agg = bs.aggregate("dynamic")
    assert agg.settings["vcov"] == "bootstrap" and agg.crit_val > 1.96


@pytest.mark.parametrize("kind", ["simple", "dynamic", "group", "calendar"])
def test_aggregations(panel: pd.DataFrame, kind: str) -> None:
    res = ddd_gt(panel, **KW, xformla="~cov1+cov2")
    agg = res.aggregate(kind)
    assert isinstance(agg, AggregateResult)
    assert agg.provenance == res.provenance
    t = agg.tidy()
    assert tuple(t.columns[: len(TIDY_COLUMNS)]) == TIDY_COLUMNS
    assert t["term"].iloc[-1] == "overall"
    assert np.all(np.isfinite(t["std_error"]))
    if kind == "group":
        post = res.group <= res.time
        expect = [res.estimate[post & (res.group == g)].mean() for g in (2, 3, 4)]
        np.testing.assert_allclose(agg.estimate, expect, rtol=1e-12)
    with pytest.raises(OptionError, match="type must be one of"):
        res.aggregate("event")  # type: ignore[arg-type]


def test_universal_base_period(panel: pd.DataFrame) -> None:
    var = ddd_gt(panel, **KW)
    uni = ddd_gt(panel, **KW, base_period="universal")
    ref = uni.tidy().set_index("term")
    assert ref.loc["ATT(3,2)", "estimate"] == 0.0 and ref.loc["ATT(4,3)", "estimate"] == 0.0
    post_v = var.tidy().set_index("term").loc[lambda d: d["event_time"] >= 0]
    np.testing.assert_allclose(ref.loc[post_v.index, "estimate"], post_v["estimate"],
                               rtol=1e-12)


def test_invariances_order_labels_weights_cluster(panel: pd.DataFrame) -> None:
    base = ddd_gt(panel, **KW, xformla="~cov1+cov2")
    shuffled = panel.sample(frac=1.0, random_state=1).assign(id=lambda d: "u" + d["id"]
                                                             .astype(str))
    res = ddd_gt(shuffled, **KW, xformla="~cov1+cov2")
    np.testing.assert_allclose(res.estimate, base.estimate, rtol=1e-10)
    np.testing.assert_allclose(res.std_error, base.std_error, rtol=1e-10)
    # unit weights of 1 change nothing; clustering on the unit changes nothing
    w1 = ddd_gt(panel.assign(w=1.0), **KW, xformla="~cov1+cov2", weights="w", cluster="id")
    np.testing.assert_allclose(w1.estimate, base.estimate, rtol=1e-12)
    np.testing.assert_allclose(w1.std_error, base.std_error, rtol=1e-10)
    # a weight of 2 gives the point estimates of the duplicated unit
    dup_ids = panel["id"].unique()[::7]
    dup = pd.concat([panel, panel[panel["id"].isin(dup_ids)].assign(id=lambda d: -d["id"])])
    wt = panel.assign(w=np.where(panel["id"].isin(dup_ids), 2.0, 1.0))
    a = ddd_gt(dup, **KW, xformla="~cov1+cov2")
    b = ddd_gt(wt, **KW, xformla="~cov1+cov2", weights="w")
    np.testing.assert_allclose(b.estimate, a.estimate, rtol=1e-7)
    # coarser clusters give other standard errors, same estimates
    cl = ddd_gt(panel.assign(cl=panel["id"] % 40), **KW, xformla="~cov1+cov2", cluster="cl")
    np.testing.assert_allclose(cl.estimate, base.estimate, rtol=1e-12)
    assert not np.allclose(cl.std_error, base.std_error)
    nyt_cl = ddd_gt(panel.assign(cl=panel["id"] % 40), **KW, cluster="cl",
                    control_group="not_yet_treated")
    assert np.all(np.isfinite(nyt_cl.std_error))


def test_datetime_periods_match_numeric(panel: pd.DataFrame) -> None:
    months = pd.date_range("2022-01-01", periods=4, freq="MS")
    d = panel.assign(time=months[panel["time"] - 1],
                     state=panel["state"].map({0: pd.NaT, 2: months[1], 3: months[2],
                                               4: months[3]}))
    res = ddd_gt(d, **KW)
    base = ddd_gt(panel, **KW)
    np.testing.assert_allclose(res.estimate, base.estimate, rtol=1e-12)
    t = res.tidy()
    assert t["term"].iloc[0] == "ATT(2022-02,2022-02)"
    assert pd.api.types.is_datetime64_any_dtype(t["time"])
    assert "2022-02" in res.summary()


def test_anticipation_and_no_never_treated(panel: pd.DataFrame) -> None:
    with pytest.warns(la.did.DroppedUnitsWarning, match="dropped 150 unit"):
        ant = ddd_gt(panel, **KW, anticipation=1, control_group="not_yet_treated")
    assert ant.tidy().set_index("term").loc["ATT(3,3)", "n_comparisons"] == 1
    treated_only = panel[panel["state"] > 0]
    with pytest.raises(EstimationError, match="no never-treated cohort"):
        ddd_gt(treated_only, **KW)
    with pytest.warns(la.did.DroppedUnitsWarning, match="last-treated cohort"):
        res = ddd_gt(treated_only, **KW, control_group="not_yet_treated")
    assert set(res.group) == {2.0, 3.0} and res.periods.max() == 3


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------


def test_validation_errors(panel: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match=r"'partition' \(pname\) must be a 0/1.*2 row"):
        ddd_gt(panel.assign(partition=np.where(np.arange(len(panel)) < 2, 2, panel["partition"])),
               **KW)
    varying = panel.copy()
    varying.loc[(varying["id"] == 1) & (varying["time"] == 3), "partition"] = 0
    with pytest.raises(DataValidationError,
                       match=r"'partition' \(pname\) must be constant within each 'id'.*1 unit"):
        ddd_gt(varying, **KW)
    with pytest.raises(DataValidationError, match=r"pname.*0/1 indicator.*got dtype"):
        ddd_gt(panel.assign(partition=panel["partition"].map({0: "no", 1: "yes"})), **KW)
    no_inelig = panel[~((panel["state"] == 3) & (panel["partition"] == 0))]
    with pytest.raises(DataValidationError, match=r"eligible.*ineligible.*1 cohort.*3 \(all"):
        ddd_gt(no_inelig, **KW)
    with pytest.raises(DataValidationError, match=r"not found in data"):
        ddd_gt(panel, **{**KW, "pname": "eligible"})
    with pytest.raises(DataValidationError, match=r"missing values.*'partition': 1 row"):
        ddd_gt(panel.assign(partition=panel["partition"].where(panel.index != 5)), **KW)
    with pytest.raises(DataValidationError, match="unbalanced.*1 of 600 units"):
        ddd_gt(panel.iloc[1:], **KW)
    with pytest.raises(DataValidationError, match="appear more than once"):
        ddd_gt(pd.concat([panel, panel.iloc[:1]]), **KW)
    gvary = panel.copy()
    gvary.loc[gvary.index[0], "state"] = 3
    with pytest.raises(DataValidationError, match=r"'state' \(gname\) must be constant"):
        ddd_gt(gvary, **KW)
    with pytest.raises(OptionError, match="control_group must be one of"):
        ddd_gt(panel, **KW, control_group="nevertreated")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="est_method must be one of"):
        ddd_gt(panel, **KW, est_method="ols")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="cband=True needs a simultaneous critical value: vcov='bootstrap'"):
        ddd_gt(panel, **KW, cband=True)
    with pytest.raises(OptionError, match="anticipation"):
        ddd_gt(panel, **KW, anticipation=-1)
    with pytest.raises(OptionError, match="pname must be a column name"):
        ddd_gt(panel, **{**KW, "pname": 1})  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="must be a pandas DataFrame"):
        ddd_gt(panel.to_numpy(), **KW)  # type: ignore[arg-type]


def test_boolean_partition_and_warnings(panel: pd.DataFrame) -> None:
    res = ddd_gt(panel.assign(partition=panel["partition"].astype(bool)), **KW)
    np.testing.assert_allclose(res.estimate, ddd_gt(panel, **KW).estimate, rtol=1e-12)
    early = panel.assign(state=np.where(panel["id"] <= 3, 1, panel["state"]))
    with pytest.warns(la.did.DroppedUnitsWarning, match="dropped 3 unit"):
        r = ddd_gt(early, **KW)
    assert r.n_dropped == 3 and r.n_units == 597
    tiny = panel[(panel["state"] != 4) | (panel["partition"] == 1) | (panel["id"] % 50 == 0)]
    with pytest.warns(la.SmallSampleWarning, match="fewer than 5 units"):
        ddd_gt(tiny, **KW)


# ---------------------------------------------------------------------------------------------
# result contract (as tests/test_result_contract.py)
# ---------------------------------------------------------------------------------------------


def test_result_contract(panel: pd.DataFrame, tmp_path: Path) -> None:
    before = frame_hash(panel)
    res = ddd_gt(panel, **KW, xformla="~cov1+cov2", control_group="not_yet_treated")
    assert frame_hash(panel) == before, "ddd_gt changed its input"
    assert isinstance(res, ResultMixin) and isinstance(res, DDDgtResult)
    t = res.tidy()
    assert tuple(t.columns[: len(TIDY_COLUMNS)]) == TIDY_COLUMNS
    assert {"group", "time", "event_time", "n_comparisons"} <= set(t.columns)
    for view in (res.summary(), res.to_markdown(), res.to_latex(), repr(res)):
        assert isinstance(view, str) and view
    assert "GMM" in res.summary()
    np.testing.assert_allclose(res.params.to_numpy(dtype=float), t["estimate"].to_numpy())
    np.testing.assert_allclose(res.std_errors.to_numpy(dtype=float), t["std_error"].to_numpy())
    assert list(res.conf_int().columns) == ["conf_low", "conf_high"]
    # frozen, read-only all the way down
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.estimate = None  # type: ignore[misc]
    for f in dataclasses.fields(res):
        v = getattr(res, f.name)
        if isinstance(v, np.ndarray) and v.size:
            with pytest.raises(ValueError, match="read-only"):
                v.flat[0] = v.flat[0]
        assert not isinstance(v, dict), f.name
    t.iloc[0, 1] = 1e9
    assert res.tidy().iloc[0, 1] != 1e9
    with pytest.raises(TypeError):
        res.provenance.settings["x"] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        res.settings["alpha"] = 0.1  # type: ignore[index]
    # provenance and determinism
    p = res.provenance
    assert p.estimator == "ddd_gt" and p.version == la.__version__
    assert p.input_hash == frame_hash(panel) and p.seed == 0 and res.settings["seed"] == 0
    again = ddd_gt(panel, **KW, xformla="~cov1+cov2", control_group="not_yet_treated")
    pd.testing.assert_frame_equal(again.tidy(), res.tidy())
    assert again.provenance == p and repr(again) == repr(res)
    # pickle and the safe archive
    back = pickle.loads(pickle.dumps(res))
    pd.testing.assert_frame_equal(back.tidy(), res.tidy())
    path = res.save(tmp_path / "ddd.laborai")
    with zipfile.ZipFile(path) as zf:
        assert "result.json" in zf.namelist()
        assert not any(n.endswith((".pkl", ".pickle")) for n in zf.namelist())
    loaded = DDDgtResult.load(path)
    assert type(loaded) is DDDgtResult
    pd.testing.assert_frame_equal(loaded.tidy(), res.tidy())
    assert loaded.provenance == res.provenance
    for f in dataclasses.fields(res):
        a, b = getattr(res, f.name), getattr(loaded, f.name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype, f.name
            np.testing.assert_array_equal(a, b)
            assert not b.flags.writeable
    assert la.did.load(path).tidy().equals(res.tidy())
    agg = loaded.aggregate("dynamic")
    pd.testing.assert_frame_equal(agg.tidy(), res.aggregate("dynamic").tidy())
    apath = agg.save(tmp_path / "agg.laborai")
    pd.testing.assert_frame_equal(AggregateResult.load(apath).tidy(), agg.tidy())
    with pytest.raises(DataValidationError, match="holds a DDDgtResult"):
        AggregateResult.load(path)


def test_vcov_keyword(panel: pd.DataFrame) -> None:
    """vcov='auto' resolves to 'analytic' (recorded); 'bootstrap' is the multiplier bootstrap;
    ddd_gt has no placebo inference (issue 14)."""
    a = ddd_gt(panel, **KW)
    assert (a.settings["vcov"], a.settings["vcov_requested"]) == ("analytic", "auto")
    np.testing.assert_array_equal(a.std_error, ddd_gt(panel, **KW, vcov="analytic").std_error)
    b = ddd_gt(panel, **KW, vcov="bootstrap", n_boot=199, seed=2)
    assert b.settings["vcov"] == "bootstrap" and not np.allclose(a.std_error, b.std_error)
    with pytest.raises(OptionError, match=r"vcov must be one of 'auto', 'analytic', "
                                          r"'bootstrap'; got 'placebo'"):
        ddd_gt(panel, **KW, vcov="placebo")  # type: ignore[arg-type]
