"""Fast guard of benchmarks/inference_validity.py: size of four cheap defaults on null data.

A few dozen null marketplaces (``effects="none"``, default exposure, small ``n_posts``) through
the benchmark's own design and method wrappers; the rejection rate at 5% of a true zero must lie
in the 99.9% binomial band around 5% for that many replications (a method that rejects 30% of
the time fails). Estimates that share a replication are correlated, so the band uses the number
of replications, not of estimates (wider, i.e. conservative for the per-group rates).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
REPS = 36
N_POSTS = 30_000


def _load():
    spec = importlib.util.spec_from_file_location(
        "inference_validity", ROOT / "benchmarks" / "inference_validity.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["inference_validity"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def null_records() -> pd.DataFrame:
    iv = _load()
    recs = []
    for rep in range(REPS):
        seed = iv.rep_seed(20_260, "no_effect", rep)
        base, truth = iv.marketplace_panel(seed, "no_effect", N_POSTS, cache=False)
        design = iv.Design(base, truth, "no_effect")
        for method in ("twfe", "estimate_effects", "event_study", "ddd"):
            for r in iv.run_method(method, design):
                r.update(method=method, rep=rep)
                recs.append(r)
    return pd.DataFrame(recs)


def _band(n: int, p: float = 0.05, level: float = 0.999) -> tuple[float, float]:
    lo = stats.binom.ppf((1 - level) / 2, n, p) / n
    hi = stats.binom.ppf(1 - (1 - level) / 2, n, p) / n
    return float(lo), float(hi)


@pytest.mark.parametrize(("method", "target"), [
    ("twfe", "beta"), ("estimate_effects", "per_group"), ("event_study", "pretrend"),
    ("ddd", "ddd")])
def test_default_size_within_binomial_band(null_records: pd.DataFrame, method: str,
                                           target: str) -> None:
    g = null_records.loc[null_records["method"] == method]
    errors = g.loc[g["error"].astype(str) != "", "error"]
    assert errors.empty, f"{method} failed: {errors.iloc[0]}"
    g = g.loc[g["target"] == target]
    assert g["rep"].nunique() == REPS
    assert np.allclose(g["truth"], 0.0)
    rate = float(g["reject"].astype(float).mean())
    lo, hi = _band(REPS)
    assert lo <= rate <= hi, (f"{method} {target}: size {rate:.1%} outside the 99.9% band "
                              f"[{lo:.1%}, {hi:.1%}] for {REPS} null replications")


def test_band_is_able_to_fail() -> None:
    lo, hi = _band(REPS)
    assert hi < 0.30  # a method rejecting 30% of the time is outside the band
