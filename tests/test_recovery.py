"""Recovery of the simulator's truth by the headline estimator, and the Monte Carlo fast path.

Recovery (CONVENTIONS test kind 2): on 24 small simulated marketplaces (40,000 expected posts
each, seeds 300-323, default effects and event dates) the effects by category x value tier
are estimated exactly as the report does (``analyses/marketplace_effects.py``: ``estimate_effects``
with its defaults on the category x tier x month panel, log job posts and log earnings per
contract weighted by contracts; each group's treatment lies in one category, so the default is
placebo inference from the control categories, t(J - 1) intervals). That gives 24 x 10 treated
groups x 2 outcomes = 480 95% intervals, each compared with the simulator's ``truth``.

Binomial band: if the intervals have nominal coverage, the number of misses is about
Binomial(480, 0.05). Intervals from one marketplace share its control units, so they are not
independent; over 60 marketplaces the variance of the per-marketplace miss count was 1.10 to
1.19 times the binomial variance, and the band uses a design effect of 1.25. The test accepts
coverage within 3.29 standard errors (a two-sided 99.9% band) of 0.95:
``|coverage - 0.95| <= 3.29 * sqrt(0.95 * 0.05 * 1.25 / 480)``, i.e. about 91.5% to 98.5%.
Standardized errors ``(estimate - truth) / std_error`` must have mean within
``3.29 * sqrt(1.25 / 480)`` of 0 and standard deviation within ``3.29 * sqrt(1.25 / 960)`` of 1
(the standard error of a sample standard deviation is about ``1 / sqrt(2 n)``). Seeds are
fixed, so the outcome is deterministic; the band says how far from nominal is still
consistent with sampling error. A negative control shows the test has power: intervals built
from half the reported standard errors fall far outside the band. CRV1 by category -- each
group's indicator then lives in a single cluster, the known failure with one treated cluster
(MacKinnon & Webb 2017) -- is now refused by ``estimate_effects``.

The small marketplaces keep the file fast. At 40,000 posts the one-day misdating of ChatGPT
(30 Nov 2022 treats all of November) attenuates effects by about 5%, small against the
standard errors; the same coverage (93.9% of 1,200 intervals) was measured with the event
moved to 1 Dec 2022.

Fast path: ``benchmarks/monte_carlo.py`` computes CRV1, wild cluster bootstrap and
randomization inference in closed form; it must equal ``la.did.twfe``,
``la.did.wild_cluster_bootstrap`` and ``la.did.ri_test`` to 1e-10 on the study's design.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

import laborai as la
from laborai.exposure import add_event_dates
from laborai.studies.effects import estimate_effects

SEEDS = range(300, 324)
N_POSTS = 150_000  # the calibrated category mix: Legal ~1% of posts, cells must not be empty
DEFF = 1.25  # design effect for intervals sharing a marketplace (measured 1.10-1.19)
Z999 = 3.29  # two-sided 99.9% normal quantile
OUTCOMES = [
    "log_n_posts",
    {"name": "log_earnings_per_contract", "y": "log_earnings_per_contract",
     "weights": "n_contracts"},
]


@pytest.fixture(scope="module")
def panels() -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    out = []
    for seed in SEEDS:
        m = la.simulate_marketplace(seed=seed, n_posts=N_POSTS, text=False)
        panel = add_event_dates(la.build_panel(m.job_posts, m.contracts))
        # the truth is defined for the value tiers; posts without a value are apart
        panel = panel[panel["value_tier"] != la.panel.UNKNOWN_TIER].reset_index(drop=True)
        out.append((panel, m.truth))
    return out


def _recover(panels: list[tuple[pd.DataFrame, pd.DataFrame]], **inference: object
             ) -> pd.DataFrame:
    frames = []
    for panel, truth in panels:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # rows with log(0) dropped; rank warnings
            eff = estimate_effects(panel, outcomes=OUTCOMES, **inference)  # type: ignore[arg-type]
        frames.append(eff.tidy().merge(
            truth[["category", "value_tier", "outcome", "effect"]],
            on=["category", "value_tier", "outcome"], how="left", validate="one_to_one"))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def recovered(panels: list[tuple[pd.DataFrame, pd.DataFrame]]) -> pd.DataFrame:
    # the report's specification (analyses/marketplace_effects.py): the defaults
    return _recover(panels)


def _coverage(d: pd.DataFrame) -> float:
    return float(((d["conf_low"] <= d["effect"]) & (d["effect"] <= d["conf_high"])).mean())


def test_every_treated_group_and_outcome_has_a_truth(recovered: pd.DataFrame) -> None:
    assert len(recovered) == len(SEEDS) * 10 * 2
    assert (recovered["inference"] == "placebo").all()
    assert recovered["effect"].notna().all()
    assert recovered[["estimate", "std_error", "conf_low", "conf_high"]].notna().all().all()
    # the truths are not all zero: the test is about real effects
    assert (recovered["effect"].abs() > 0.05).mean() > 0.5


def test_intervals_cover_truth_at_nominal_rate(recovered: pd.DataFrame) -> None:
    n = len(recovered)
    cov = _coverage(recovered)
    half = Z999 * math.sqrt(0.95 * 0.05 * DEFF / n)
    assert abs(cov - 0.95) <= half, (
        f"coverage {cov:.4f} of {n} intervals outside the band 0.95 +- {half:.4f}")
    # each outcome on its own, with the band for its half of the intervals
    for outcome, d in recovered.groupby("outcome"):
        half_o = Z999 * math.sqrt(0.95 * 0.05 * DEFF / len(d))
        assert abs(_coverage(d) - 0.95) <= half_o, (outcome, _coverage(d), half_o)


def test_standardized_errors_are_calibrated(recovered: pd.DataFrame) -> None:
    """(estimate - truth) / se follows the t(df) the intervals use: its normal scores
    Phi^-1(F_t(z; df)) have mean 0 and standard deviation 1."""
    from scipy import stats

    t = ((recovered["estimate"] - recovered["effect"]) / recovered["std_error"]).to_numpy()
    z = stats.norm.ppf(stats.t.cdf(t, recovered["df"].to_numpy(dtype=float)))
    n = z.size
    assert abs(z.mean()) <= Z999 * math.sqrt(DEFF / n), z.mean()
    assert abs(z.std(ddof=1) - 1.0) <= Z999 * math.sqrt(DEFF / (2 * n)), z.std(ddof=1)


def test_band_rejects_wrong_standard_errors(panels: list[tuple[pd.DataFrame, pd.DataFrame]],
                                            recovered: pd.DataFrame) -> None:
    """Negative control: intervals with half the standard error must fail the band; CRV1 by
    category (one treated cluster per effect) is refused outright."""
    half_width = (recovered["conf_high"] - recovered["estimate"]) / 2
    bad = recovered.assign(conf_low=recovered["estimate"] - half_width,
                           conf_high=recovered["estimate"] + half_width)
    half = Z999 * math.sqrt(0.95 * 0.05 * DEFF / len(bad))
    assert _coverage(bad) < 0.95 - half
    with pytest.raises(la.OptionError, match="lies in one 'category' cluster"):
        estimate_effects(panels[0][0], outcomes=OUTCOMES, cluster="category",  # type: ignore[arg-type]
                         vcov="cluster")


# ------------------------------------------------------------------ Monte Carlo fast path


def _load_monte_carlo() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "monte_carlo.py"
    if not path.exists():
        pytest.fail(f"{path} is missing; the Monte Carlo benchmark is part of the repository.")
    spec = importlib.util.spec_from_file_location("laborai_bench_monte_carlo", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_monte_carlo_fast_path_equals_public_functions() -> None:
    """CRV1, wild bootstrap (p at 0 and at the truth, interval) and RI (both statistics, at 0
    and at the truth) on one replication: the homogeneous-effect marketplace with the headline
    treated set and the null marketplace with 5, 3 and 2 treated categories."""
    mc = _load_monte_carlo()
    seed = mc.rep_seeds(2024, 0)["homogeneous"]
    worst = mc.check_against_public([seed], tol=1e-10)
    assert worst <= 1e-10


def test_monte_carlo_fast_path_detects_a_wrong_effect() -> None:
    """The fast path's p-values respond to the data: with a large true effect H0: 0 is
    rejected by every method and H0: truth is not rejected by CRV1 on the same panel."""
    mc = _load_monte_carlo()
    panel, truth = mc.simulate_panel(mc.rep_seeds(2024, 1)["homogeneous"], "homogeneous")
    assert truth == pytest.approx(mc.EFFECT)
    row = mc.fast_rep(panel, mc.TREATED, truth, mc.rademacher_grid(12))
    for m in mc.METHODS:
        assert row[f"{m}_p"] <= 0.05, (m, row[f"{m}_p"])
    assert row["crv1_p_truth"] > 0.05
    assert np.isfinite(row["wild_len"]) and row["wild_len"] > row["crv1_len"] * 0.5
