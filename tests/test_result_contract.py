"""One contract for every result class: schema, views, immutability, provenance, no mutation
of the input, determinism, pickling and the safe save/load round trip (issue 14)."""

from __future__ import annotations

import dataclasses
import pickle
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import laborai as la
from laborai._hashing import frame_hash
from laborai._results import ResultMixin
from laborai.did import TIDY_COLUMNS
from laborai.errors import DataValidationError, LaborAIError


def stag(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(24):
        g = (0, 5, 7)[i % 3]
        cl = f"c{i % 8}"
        a = rng.normal()
        for t in range(1, 11):
            d = int(g > 0 and t >= g)
            rows.append({"unit": i, "t": t, "g": g, "cl": cl, "d": d,
                         "event": float(g) if g else np.nan, "high": i % 2,
                         "exposed": int(g > 0), "post": int(t >= 5),
                         "y": a + 0.1 * t + 0.5 * d + rng.normal(scale=0.3),
                         "w": 1.0 + i % 4})
    return pd.DataFrame(rows)


def common(seed: int = 0) -> pd.DataFrame:
    """One adoption date (t = 6) for clusters c0-c2, 10 clusters."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(10):
        shock = rng.normal(0, 0.1, 12)
        for u in range(2):
            for t in range(12):
                tr = c < 3
                rows.append({"unit": f"{c}-{u}", "cluster": f"k{c}", "t": t,
                             "event": 6.0 if tr else np.nan, "d": int(tr and t >= 6),
                             "exposed": int(tr), "post": int(t >= 6), "high": u,
                             "y": shock[t] + 0.2 * u + rng.normal(0, 0.05)})
    return pd.DataFrame(rows)


def _quiet(fn: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


def _es(d: pd.DataFrame) -> Any:
    return la.did.event_study(d, yname="y", idname="unit", tname="t", event_date="event",
                              cluster="cluster", window=(-3, 3))


def marketplace() -> pd.DataFrame:
    m = la.simulate_marketplace(seed=3, n_posts=20_000, text=False)
    p = la.exposure.add_event_dates(la.build_panel(m.job_posts, m.contracts))
    return p[p["value_tier"].isin(["low", "high"])].reset_index(drop=True)


def dosed(seed: int = 0) -> pd.DataFrame:
    """Two cohorts (t = 3, 4) with a continuous dose, never-treated units with dose 0."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(90):
        g = (0, 3, 4)[i % 3]
        dose = float(rng.uniform(0.1, 1.0)) if g else 0.0
        a = rng.normal()
        for t in range(1, 6):
            rows.append({"unit": i, "t": t, "g": g, "dose": dose,
                         "y": a + 0.1 * t + (0.8 * dose if g and t >= g else 0.0)
                         + rng.normal(scale=0.2)})
    return pd.DataFrame(rows)


CASES: dict[str, tuple[Callable[[], pd.DataFrame], Callable[[pd.DataFrame], Any]]] = {
    "cont_did": (dosed, lambda d: la.did.cont_did(d, yname="y", tname="t", idname="unit",
                                                  gname="g", dname="dose")),
    "ddd_gt": (stag, lambda d: la.did.ddd_gt(d, yname="y", tname="t", idname="unit", gname="g",
                                             pname="high")),
    "did_imputation": (stag, lambda d: la.did.did_imputation(d, yname="y", idname="unit",
                                                             tname="t", gname="g")),
    "did2s": (stag, lambda d: la.did.did2s(d, yname="y", idname="unit", tname="t", gname="g",
                                           second_stage="event_study")),
    "pretrends_power": (common, lambda d: la.did.pretrends_power(_es(d))),
    "estimate_effects": (marketplace, lambda d: la.estimate_effects(d, outcomes=["log_n_posts"])),
    "compare_estimators": (stag, lambda d: la.compare_estimators(
        d.assign(event=d["g"].where(d["g"] > 0)), yname="y", idname="unit", tname="t",
        event_date="event", n_reps=20, sdid_vcov="bootstrap", honest_window=(-3, 3))),
    "twfe": (common, lambda d: la.did.twfe(d, yname="y", dname="d", idname="unit", tname="t",
                                           cluster="cluster")),
    "ddd": (common, lambda d: la.did.ddd(d, yname="y", idname="unit", tname="t",
                                         dname="exposed", post="post", pname="high",
                                         cluster="cluster")),
    "event_study": (common, _es),
    # several outcomes in one call: a ResultSet of one TWFEResult per outcome
    "result_set": (lambda: common().assign(y2=lambda d: d["y"] * 2 + d["high"]),
                   lambda d: la.did.twfe(d, yname=["y", "y2"], dname="d", idname="unit",
                                         tname="t", cluster="cluster")),
    "att_gt": (stag, lambda d: la.did.att_gt(d, yname="y", tname="t", idname="unit", gname="g")),
    "aggte": (stag, lambda d: la.did.att_gt(d, yname="y", tname="t", idname="unit",
                                            gname="g").aggregate("dynamic")),
    "sun_abraham": (stag, lambda d: la.did.sun_abraham(d, yname="y", idname="unit", tname="t",
                                                       gname="g")),
    "sdid": (common, lambda d: la.did.sdid(d, yname="y", idname="unit", tname="t",
                                           dname="d", n_reps=20)),
    "bacon": (stag, lambda d: la.did.bacon(d, yname="y", dname="d", idname="unit", tname="t")),
    "honest": (common, lambda d: la.did.honest(_es(d), grid=[0.5, 1.0])),
    "wild": (common, lambda d: la.did.wild_cluster_bootstrap(
        d, yname="y",
        dname="d", cluster="cluster", idname="unit", tname="t", n_boot=199, seed=1)),
    "ri_test": (common, lambda d: la.did.ri_test(
        d, yname="y", idname="unit", tname="t", dname="d", cluster="cluster", n_perm=99,
        seed=1)),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> tuple[str, pd.DataFrame, Any, Callable[..., Any]]:
    make, fit = CASES[request.param]
    data = make()
    before = frame_hash(data)
    res = _quiet(lambda: fit(data))
    assert frame_hash(data) == before, "the estimator changed its input"
    return request.param, data, res, fit


def test_schema_and_views(case: tuple[str, pd.DataFrame, Any, Any]) -> None:
    _, _, res, _ = case
    t = res.tidy()
    assert isinstance(res, ResultMixin)
    assert tuple(t.columns[: len(TIDY_COLUMNS)]) == TIDY_COLUMNS
    assert len(t) > 0
    for view in (res.summary(), res.to_markdown(), res.to_latex(), repr(res)):
        assert isinstance(view, str) and view
    assert np.allclose(res.params.to_numpy(dtype=float), t["estimate"].to_numpy(dtype=float),
                       equal_nan=True)
    assert np.allclose(res.std_errors.to_numpy(dtype=float), t["std_error"].to_numpy(dtype=float),
                       equal_nan=True)
    assert list(res.conf_int().columns) == ["conf_low", "conf_high"]


def test_read_only_all_the_way_down(case: tuple[str, pd.DataFrame, Any, Any]) -> None:
    _, _, res, _ = case
    ref = res.tidy()
    f0 = dataclasses.fields(res)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(res, f0, None)
    for f in dataclasses.fields(res):
        v = getattr(res, f.name)
        if isinstance(v, np.ndarray) and v.size:
            with pytest.raises(ValueError, match="read-only"):
                v.flat[0] = v.flat[0]
        elif isinstance(v, pd.DataFrame) and v.size:
            v.iloc[0, 0] = None                    # changes the copy handed out ...
        elif isinstance(v, dict):
            pytest.fail(f"field {f.name} is a mutable dict")
    t = res.tidy()
    t.iloc[0, 1] = 1e9
    pd.testing.assert_frame_equal(res.tidy(), ref)  # ... never the result
    with pytest.raises(TypeError):
        res.provenance.settings["x"] = 1  # type: ignore[index]


def test_provenance_and_determinism(case: tuple[str, pd.DataFrame, Any, Any]) -> None:
    name, data, res, fit = case
    p = res.provenance
    assert p.version == la.__version__ and p.estimator
    again = _quiet(lambda: fit(data))
    pd.testing.assert_frame_equal(again.tidy(), res.tidy())
    assert again.provenance == p
    if name not in ("honest", "aggte", "wild", "ri_test", "pretrends_power"):  # these hash what they used
        assert p.input_hash == frame_hash(data)


def test_pickle_and_save_load_round_trip(case: tuple[str, pd.DataFrame, Any, Any],
                                         tmp_path: Path) -> None:
    _, _, res, _ = case
    back = pickle.loads(pickle.dumps(res))
    pd.testing.assert_frame_equal(back.tidy(), res.tidy())
    path = res.save(tmp_path / "r.laborai")
    with zipfile.ZipFile(path) as zf:
        assert "result.json" in zf.namelist()
        assert not any(n.endswith((".pkl", ".pickle")) for n in zf.namelist())
    loaded = type(res).load(path)
    assert type(loaded) is type(res)
    pd.testing.assert_frame_equal(loaded.tidy(), res.tidy())
    assert loaded.provenance == res.provenance
    for f in dataclasses.fields(res):
        a, b = getattr(res, f.name), getattr(loaded, f.name)
        if isinstance(a, np.ndarray):
            assert a.dtype.kind == "O" or a.dtype == b.dtype, f.name
            np.testing.assert_array_equal(a, b)
            assert not b.flags.writeable
    assert la.did.load(path).tidy().equals(res.tidy())


def test_load_refuses_foreign_and_damaged_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.laborai"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DataValidationError, match="not a readable laborai result file"):
        la.did.load(bad)
    evil = tmp_path / "evil.laborai"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("result.json", '{"format": "laborai-result", "format_version": 1, '
                    '"tree": {"__dataclass__": "os:system", "fields": {}}}')
    with pytest.raises(DataValidationError, match="not a laborai result class"):
        la.did.load(evil)
    res = _quiet(lambda: CASES["twfe"][1](common()))
    p = res.save(tmp_path / "twfe.laborai")
    with pytest.raises(DataValidationError, match="holds a TWFEResult"):
        la.did.EventStudyResult.load(p)
    with pytest.raises(LaborAIError):
        la.did.load(tmp_path / "missing.laborai")
