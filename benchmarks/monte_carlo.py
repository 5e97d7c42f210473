"""Monte Carlo study: few-cluster inference for the headline DiD effect (12 category clusters).

Headline effect
    The pooled difference-in-differences effect of ChatGPT exposure on **log low-value job
    posts**, estimated by two-way fixed effects on the category x month panel of the
    low-value tier (12 categories x 54 months, 2020-01 to 2024-06; units = clusters =
    categories):

        log_n_posts_ct = beta * 1[c treated] 1[t >= 2022-12] + alpha_c + lambda_t + e_ct,

    treated = Writing, Translation and Web/Mobile/Software Dev (the categories whose basic,
    low-value work ChatGPT substitutes for; 3 of 12 clusters, C(12, 3) = 220 assignments).

Design (the constants below; every setting is a public simulator or panel option)
    * ``la.simulate_marketplace(seed, n_posts=100_000, effects=..., events={"chatgpt":
      "2022-12-01"})`` with the simulator's default noise (monthly category shocks sd 0.04,
      monthly subcategory shocks sd 0.06, subcategory trends sd 0.03), then
      ``la.build_panel(job_posts)`` and ``la.exposure.add_event_dates`` (Data Science and
      Design & Creative unassigned), low tier. ChatGPT is dated 2022-12-01 so that the
      simulated step coincides with the first post month (with 30 Nov 2022 November counts as
      treated with one day of effect: an attenuation bias unrelated to inference).
    * Each replication draws three marketplaces: **homogeneous** (-0.28 on the three treated
      categories' low-value posts, about the mean of their default effects; nothing else),
      **heterogeneous** (their default effects -0.33 Translation, -0.12 Web, -0.40 Writing;
      estimand: the mean, because with a balanced panel and one adoption date TWFE is the
      simple DiD of category means) and **no_effect** (``effects="none"``). These null marketplaces
      are also analysed with 5 (all exposed categories) and 2 (Writing, Translation) treated
      categories, to show how the problem grows as treated clusters get fewer.
    * Why 3 treated: with all 5 exposed categories treated the default noise does not make
      CRV1 over-reject (see the size table); few *treated* clusters do (MacKinnon & Webb
      2017). The table in docs/validation.md was measured when the simulator's monthly
      shocks were independent over time; they are now AR(1) by default (issue 11), and the
      defaults' validity under serial correlation is measured by
      ``benchmarks/inference_validity.py``.

Methods (5% level; reject when ``p <= 0.05``; an interval covers the truth when the test of
``beta = truth`` does not reject, i.e. coverage is computed by test inversion)
    (a) CRV1 cluster-robust by category, t(G-1) reference (laborai's ``twfe`` default);
    (b) wild cluster restricted bootstrap (``vcov="wild"``), Rademacher weights, all
        2**12 = 4096 sign vectors enumerated, confidence set by test inversion;
    (c) randomization inference (``ri_test``), permuting which categories are treated, exact
        enumeration of all C(12, k) assignments, coefficient statistic; (c') the same with
        the studentized (CRV1 t) statistic. RI coverage inverts the sharp constant-effect null
        (``y - b0 * D``), which is false when effects differ across categories.

Speed
    Per replication three marketplaces are simulated and their panels built with laborai's
    public functions; inference then runs on a numpy fast path (``FastDiD``) that uses the
    closed form of the two-way within transformation on a balanced panel and the rank-one
    treatment ``D_ct = d_c p_t``, so each bootstrap draw or RI assignment costs a few inner
    products. ``check_against_public`` verifies on whole replications that the fast path equals
    ``la.did.twfe`` (CRV1 and wild), ``la.did.wild_cluster_bootstrap`` and ``la.did.ri_test``
    to 1e-10 (kept as a test in ``tests/test_recovery.py``); ``--check N`` runs it first.

Baseline
    Time per panel of laborai's public wild bootstrap (``twfe(vcov="wild")``, 4096 enumerated
    draws, p-value and confidence set) against the ``wildboottest`` package (statsmodels OLS
    with unit and month dummies, same enumeration, p-value only) on the same panels.

Usage::

    nice .venv/bin/python benchmarks/monte_carlo.py [--reps 500] [--seed 2024] [--out FILE]
        [--n-posts 100000] [--check 2] [--no-baseline]

References: MacKinnon, J. G. & Webb, M. D. (2017). Wild bootstrap inference for wildly
different cluster sizes. *Journal of Applied Econometrics* 32(2), 233-254. MacKinnon & Webb
(2020). Randomization inference for difference-in-differences with few treated clusters.
*Journal of Econometrics* 218(2), 435-450. Cameron, Gelbach & Miller (2008), *REStat* 90(3).
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # one core (wildboottest/pyfixest use numba)

import numpy as np
import pandas as pd
from scipy import stats

import laborai as la
from laborai.data.simulate import default_effects
from laborai.did.inference import _WCRKernel  # private on purpose: see FastDiD.wild_kernel
from laborai.exposure import add_event_dates

ALPHA = 0.05
EVENT_DATE = "2022-12-01"
EVENTS = {"chatgpt": EVENT_DATE}
TIER, OUTCOME = "low", "log_n_posts"
#: the headline's treated categories (ChatGPT substitution: Writing, Translation, basic software)
TREATED = ("Translation", "Web, Mobile & Software Dev", "Writing")
#: exposure assignment for add_event_dates: only the headline's three categories are exposed
ASSIGNMENT: dict[str, str | None] = {"Data Science & Analytics": None, "Design & Creative": None}
#: homogeneous true effect on log low-value posts (mean of the three default effects: -0.283)
EFFECT = -0.28
#: treated sets analysed on the null marketplaces (name -> treated categories)
NULL_DESIGNS: dict[str, tuple[str, ...]] = {
    "5 of 12": ("Data Science & Analytics", "Design & Creative", "Translation",
                "Web, Mobile & Software Dev", "Writing"),
    "3 of 12 (headline)": TREATED,
    "2 of 12": ("Translation", "Writing"),
}
HEADLINE_NULL = "3 of 12 (headline)"
SCENARIOS = ("homogeneous", "heterogeneous", "no_effect")
N_POSTS = 400_000  # calibrated category mix: the smallest low-tier cells (Legal) stay non-empty
METHODS = ("crv1", "wild", "ri_coef", "ri_t")
METHOD_LABEL = {
    "crv1": "(a) CRV1 by category, t(11)",
    "wild": "(b) wild cluster bootstrap (WCR, Rademacher, 4096 enumerated)",
    "ri_coef": "(c) randomization inference, coefficient (exact)",
    "ri_t": "(c') randomization inference, t statistic (exact)",
}


# -------------------------------------------------------------------------------- data


def scenario_effects(scenario: str) -> dict[tuple[str, str, str], float] | str:
    """Simulator effects: ``homogeneous`` -0.28 on the three treated categories' low-value
    posts; ``heterogeneous`` their default effects (-0.33, -0.12, -0.40); ``no_effect``: none
    (``effects="none"``). Every other effect (other categories, high tier, earnings) is zero."""
    if scenario == "no_effect":
        return "none"
    if scenario == "homogeneous":
        return {(c, TIER, OUTCOME): EFFECT for c in TREATED}
    if scenario == "heterogeneous":
        d = default_effects().set_index(["category", "value_tier", "outcome"])["effect"]
        return {(c, TIER, OUTCOME): float(d[(c, TIER, OUTCOME)]) for c in TREATED}
    raise ValueError(f"scenario must be one of {SCENARIOS}; got {scenario!r}")


def simulate_panel(seed: int, scenario: str, *, n_posts: int = N_POSTS
                   ) -> tuple[pd.DataFrame, float]:
    """One simulated marketplace -> low-tier category x month panel, and the true effect.

    Returns the panel (sorted by category and period; ``treated_post`` marks the headline's
    three categories from December 2022) and the estimand: the mean of the treated
    categories' true effects on log low-value posts (zero under ``no_effect``).
    """
    m = la.simulate_marketplace(seed=seed, n_posts=n_posts, effects=scenario_effects(scenario),
                                events=EVENTS)
    panel = add_event_dates(la.build_panel(m.job_posts), assignment=ASSIGNMENT, overrides=EVENTS)
    low = panel[panel["value_tier"] == TIER].sort_values(["category", "period"])
    tr = m.truth
    sel = (tr["outcome"] == OUTCOME) & (tr["value_tier"] == TIER) & tr["category"].isin(TREATED)
    return low.reset_index(drop=True), float(tr.loc[sel, "effect"].mean())


def with_treatment(panel: pd.DataFrame, treated: Sequence[str]) -> pd.DataFrame:
    """Add ``d`` = 1[category in treated] x 1[period >= EVENT_DATE]."""
    post = panel["period"] >= pd.Timestamp(EVENT_DATE)
    return panel.assign(d=(panel["category"].isin(list(treated)) & post).astype(float))


# -------------------------------------------------------------------------------- fast path


@dataclass(frozen=True)
class FastDiD:
    """Closed-form TWFE DiD inference on a balanced G x T panel with unit = cluster.

    With unit and period fixed effects the within transformation of a balanced panel is
    ``Q y = y - row mean - column mean + grand mean``; a treatment ``D_ct = d_c p_t`` becomes
    ``a_c q_t`` with ``a = d - mean(d)``, ``q = p - mean(p)``. Hence ``b = a'z / (|a|^2 |q|^2)``
    with ``z = (Q Y) q``, and the cluster scores are ``a_c (z_c - b a_c |q|^2)``. The CRV1
    small-sample factor is fixest's: ``G/(G-1) (n-1)/(n-K)`` with ``K = 1 + T`` (the unit
    effects are nested in the clusters and count as one parameter).
    """

    Y: np.ndarray  # G x T outcome matrix
    p: np.ndarray  # T post indicator
    groups: tuple[str, ...]

    @classmethod
    def from_panel(cls, panel: pd.DataFrame, yname: str = "log_n_posts") -> FastDiD:
        wide = panel.pivot(index="category", columns="period", values=yname).sort_index()
        if wide.isna().to_numpy().any():
            raise ValueError("the fast path needs a balanced panel without missing outcomes")
        p = (wide.columns >= pd.Timestamp(EVENT_DATE)).astype(float)
        return cls(Y=wide.to_numpy(dtype=float), p=np.asarray(p),
                   groups=tuple(str(g) for g in wide.index))

    @property
    def G(self) -> int:
        return self.Y.shape[0]

    @cached_property
    def q(self) -> np.ndarray:
        return self.p - self.p.mean()

    @cached_property
    def C(self) -> float:
        return float(self.q @ self.q)

    @cached_property
    def z(self) -> np.ndarray:
        Y = self.Y
        Yd = Y - Y.mean(axis=1, keepdims=True) - Y.mean(axis=0, keepdims=True) + Y.mean()
        return Yd @ self.q

    @property
    def ssc(self) -> float:
        G, T = self.Y.shape
        n = G * T
        return G / (G - 1) * (n - 1) / (n - 1 - T)

    def member(self, treated: Sequence[str]) -> np.ndarray:
        idx = {g: i for i, g in enumerate(self.groups)}
        m = np.zeros(self.G)
        m[[idx[t] for t in treated]] = 1.0
        return m

    def estimates(self, members: np.ndarray, z: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients and CRV1 standard errors for each row of ``members`` (S x G, 0/1)."""
        z = self.z if z is None else z
        a = members - members.mean(axis=1, keepdims=True)
        AC = np.sum(a * a, axis=1) * self.C
        b = (a @ z) / AC
        s = a * (z[None, :] - b[:, None] * a * self.C)
        se = np.sqrt(self.ssc * np.sum(s * s, axis=1)) / AC
        return b, se

    def crv1(self, treated: Sequence[str], beta0: float) -> dict[str, float]:
        b, se = (float(v[0]) for v in self.estimates(self.member(treated)[None, :]))
        crit = float(stats.t.ppf(1 - ALPHA / 2, self.G - 1))
        p0 = 2 * float(stats.t.sf(abs(b / se), self.G - 1))
        p_truth = 2 * float(stats.t.sf(abs((b - beta0) / se), self.G - 1))
        return {"estimate": b, "std_error": se, "p_value": p0, "p_truth": p_truth,
                "conf_low": b - crit * se, "conf_high": b + crit * se}

    def wild_kernel(self, treated: Sequence[str], V: np.ndarray) -> _WCRKernel:
        """The WCR bootstrap of laborai (``_WCRKernel``) from closed-form ingredients.

        The private kernel on purpose: no public function takes these closed-form ingredients;
        ``laborai.did.wild_cluster_bootstrap`` refits the regression from a DataFrame, too slow
        for 500 replications x 5 designs. ``check_against_public`` compares the two each run.

        Restricted residuals ``u_r = Q(y - b0 D)``; bootstrap sample ``y* = b0 D + u_r v_c``.
        Because ``u_r`` has zero row means, ``Q(u_r v) = u_r v - column means``, so numerator
        and scores of the bootstrap t are linear in ``b0``: ``num = nv0 - b0 nv1`` and scores
        ``mv0 - b0 mv1`` (kernel convention: ``t* = num / sqrt(ssc * sum scores**2)``).
        """
        a = self.member(treated)
        a = a - a.mean()
        A, C, G = float(a @ a), self.C, self.G
        z = self.z
        b, se = (float(v[0]) for v in self.estimates(self.member(treated)[None, :]))

        def parts(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            num = ((a * w) @ V) / (A * C)
            mv = a[:, None] * (w[:, None] * V - (w @ V)[None, :] / G
                               - num[None, :] * a[:, None] * C) / (A * C)
            return num, mv

        nv0, mv0 = parts(z)
        nv1, mv1 = parts(a * C)
        return _WCRKernel(beta=b, se=se, ssc=self.ssc, nv0=nv0, nv1=nv1,
                          da=np.sum(mv0 * mv0, axis=0), db=np.sum(mv0 * mv1, axis=0),
                          dd=np.sum(mv1 * mv1, axis=0), n_boot=V.shape[1], enumerated=True)

    def ri(self, treated: Sequence[str], beta0: float = 0.0) -> dict[str, float]:
        """Exact RI p-values (coefficient and t statistic) of the sharp null ``beta = beta0``.

        Under ``H0: y_ct(1) = y_ct(0) + beta0`` the adjusted outcome ``y - beta0 D`` is fixed
        across assignments; for ``beta0 = 0`` these are ``ri_test``'s p-values.
        """
        k = len(treated)
        combos = np.array(list(itertools.combinations(range(self.G), k)), dtype=np.int64)
        members = np.zeros((combos.shape[0], self.G))
        members[np.arange(combos.shape[0])[:, None], combos] = 1.0
        actual = self.member(treated)
        a_obs = actual - actual.mean()
        z = self.z - beta0 * a_obs * self.C
        b_a, se_a = self.estimates(members, z)
        b_o, se_o = self.estimates(actual[None, :], z)
        out = {}
        for name, dist, obs in (("ri_coef", b_a, b_o[0]), ("ri_t", b_a / se_a, b_o[0] / se_o[0])):
            out[name] = float(np.mean(np.abs(dist) >= abs(obs) * (1.0 - 1e-10)))
        return out


def rademacher_grid(G: int) -> np.ndarray:
    """All 2**G Rademacher sign vectors (G x 2**G), in laborai's enumeration order."""
    return np.array(list(itertools.product((-1.0, 1.0), repeat=G))).T


def fast_rep(panel: pd.DataFrame, treated: Sequence[str], truth: float, V: np.ndarray,
             *, with_ci: bool = True) -> dict[str, float]:
    """All methods for one panel and treated set: estimate, p-value of H0: 0, p at truth."""
    f = FastDiD.from_panel(panel)
    row: dict[str, float] = {}
    c = f.crv1(treated, truth)
    row.update({"estimate": c["estimate"], "std_error": c["std_error"],
                "crv1_p": c["p_value"], "crv1_p_truth": c["p_truth"],
                "crv1_len": c["conf_high"] - c["conf_low"]})
    k = f.wild_kernel(treated, V)
    row["wild_p"] = k.p_value(0.0)
    row["wild_p_truth"] = k.p_value(truth)
    if with_ci:
        lo, hi = k.conf_int(ALPHA)
        row["wild_len"] = hi - lo
    r0 = f.ri(treated, 0.0)
    rt = f.ri(treated, truth)
    for m in ("ri_coef", "ri_t"):
        row[f"{m}_p"] = r0[m]
        row[f"{m}_p_truth"] = rt[m]
    return row


# -------------------------------------------------------------------------------- public path


def public_rep(panel: pd.DataFrame, treated: Sequence[str], truth: float) -> dict[str, float]:
    """The same numbers from laborai's public functions (slow path, for checks)."""
    d = with_treatment(panel, treated)
    common = dict(yname="log_n_posts", dname="d", idname="unit", tname="period",
                  cluster="category")
    crv = la.did.twfe(d, **common, vcov="cluster").tidy().iloc[0]
    wild = la.did.twfe(d, **common, vcov="wild", n_boot=4096, seed=0).tidy().iloc[0]
    wild_truth = la.did.wild_cluster_bootstrap(
        d, yname="log_n_posts", dname="d", cluster="category", idname="unit", tname="period",
        null=truth, n_boot=4096, ci=False, seed=0)
    ri_kw = dict(idname="unit", tname="period", dname="d", cluster="category", n_perm=9999)
    adj = d.assign(y0=d["log_n_posts"] - truth * d["d"])
    out = {"estimate": float(crv["estimate"]), "std_error": float(crv["std_error"]),
           "crv1_p": float(crv["p_value"]),
           "crv1_len": float(crv["conf_high"] - crv["conf_low"]),
           "wild_p": float(wild["p_value"]), "wild_p_truth": wild_truth.p_value,
           "wild_len": float(wild["conf_high"] - wild["conf_low"])}
    for stat, name in (("coef", "ri_coef"), ("t", "ri_t")):
        r = la.did.ri_test(d, yname="log_n_posts", statistic=stat, **ri_kw)  # type: ignore[arg-type]
        out[f"{name}_p"] = r.p_value
        out[f"{name}_p_truth"] = la.did.ri_test(adj, yname="y0", statistic=stat,
                                                **ri_kw).p_value  # type: ignore[arg-type]
    return out


def check_against_public(seeds: Sequence[int], tol: float = 1e-10, *,
                         n_posts: int = N_POSTS) -> float:
    """Largest absolute difference between the fast and the public paths.

    For every seed: the homogeneous-effect marketplace with the headline's treated set and the
    null marketplace with every treated set of ``NULL_DESIGNS``. Compared: estimate, CRV1
    standard error, p-value and interval length, wild bootstrap p-values (at 0 and at the
    truth) and interval length, RI p-values of both statistics (at 0 and at the truth).
    Raises AssertionError when a difference exceeds ``tol``.
    """
    V = rademacher_grid(12)
    worst = 0.0
    for s in seeds:
        for scenario in ("homogeneous", "no_effect"):
            panel, truth = simulate_panel(s, scenario, n_posts=n_posts)
            sets = (TREATED,) if scenario != "no_effect" else tuple(NULL_DESIGNS.values())
            for treated in sets:
                fast = fast_rep(panel, treated, truth, V)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    pub = public_rep(panel, treated, truth)
                for key, val in pub.items():
                    diff = abs(fast[key] - val)
                    worst = max(worst, diff)
                    if not diff <= tol:
                        raise AssertionError(f"seed {s}, {scenario}, {len(treated)} treated: "
                                             f"{key} fast={fast[key]!r} public={val!r}")
    return worst


# -------------------------------------------------------------------------------- the study


def rep_seeds(seed: int, rep: int) -> dict[str, int]:
    """Simulator seed of each scenario's marketplace in replication ``rep``."""
    return {sc: seed * 1_000_000 + 3 * rep + i for i, sc in enumerate(SCENARIOS)}


def run(reps: int, seed: int, *, n_posts: int = N_POSTS, progress: bool = True
        ) -> pd.DataFrame:
    """Run the study: one row per replication x scenario x treated set."""
    V = rademacher_grid(12)
    rows = []
    t0 = time.perf_counter()
    for r in range(reps):
        for scenario, s in rep_seeds(seed, r).items():
            panel, truth = simulate_panel(s, scenario, n_posts=n_posts)
            designs = NULL_DESIGNS if scenario == "no_effect" else {HEADLINE_NULL: TREATED}
            dims = {"n_categories": int(panel["category"].nunique()),
                    "n_months": int(panel["period"].nunique())}
            for name, treated in designs.items():
                rows.append({"rep": r, "scenario": scenario, "design": name, "truth": truth,
                             **dims,
                             **fast_rep(panel, treated, truth, V,
                                        with_ci=scenario != "no_effect")})
        if progress and (r + 1) % max(1, reps // 20) == 0:
            el = time.perf_counter() - t0
            print(f"  {r + 1}/{reps} replications, {el:.0f} s", file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


def _rate(x: np.ndarray) -> tuple[float, float]:
    p = float(np.mean(x))
    return p, math.sqrt(p * (1 - p) / x.size)


def summarize(res: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Headline table (one row per method) and size by number of treated clusters.

    Monte Carlo standard errors: ``sqrt(p (1 - p) / R)`` for rates, ``sd / sqrt(R)`` for the
    bias, ``sd(err**2) / (2 RMSE sqrt(R))`` (delta method) for the RMSE.
    """
    alt = res[res["scenario"] == "homogeneous"]
    het = res[res["scenario"] == "heterogeneous"]
    h0 = res[(res["scenario"] == "no_effect") & (res["design"] == HEADLINE_NULL)]
    err = (alt["estimate"] - alt["truth"]).to_numpy()
    n = err.size
    bias, bias_se = float(err.mean()), float(err.std(ddof=1) / math.sqrt(n))
    rmse = float(np.sqrt(np.mean(err**2)))
    rmse_se = float(np.std(err**2, ddof=1) / (2 * rmse * math.sqrt(n)))
    rows = []
    for m in METHODS:
        cov, cov_se = _rate(alt[f"{m}_p_truth"].to_numpy() > ALPHA)
        cov_h, cov_h_se = _rate(het[f"{m}_p_truth"].to_numpy() > ALPHA)
        rej, rej_se = _rate(h0[f"{m}_p"].to_numpy() <= ALPHA)
        power, power_se = _rate(alt[f"{m}_p"].to_numpy() <= ALPHA)
        length = float(alt[f"{m}_len"].median()) if f"{m}_len" in alt else math.nan
        rows.append({"method": METHOD_LABEL[m], "bias": bias, "bias_mcse": bias_se,
                     "rmse": rmse, "rmse_mcse": rmse_se, "coverage": cov, "coverage_mcse": cov_se,
                     "median_ci_length": length, "rejection_null": rej,
                     "rejection_null_mcse": rej_se, "power": power, "power_mcse": power_se,
                     "coverage_heterogeneous": cov_h, "coverage_heterogeneous_mcse": cov_h_se})
    head = pd.DataFrame(rows)
    size = []
    for name in NULL_DESIGNS:
        sub = res[(res["scenario"] == "no_effect") & (res["design"] == name)]
        row: dict[str, Any] = {"design": name, "n_assignments": math.comb(12, len(NULL_DESIGNS[name]))}
        for m in METHODS:
            row[m], row[f"{m}_mcse"] = _rate(sub[f"{m}_p"].to_numpy() <= ALPHA)
        size.append(row)
    return head, pd.DataFrame(size)


def _pct(p: float, se: float) -> str:
    return f"{100 * p:.1f} ({100 * se:.1f})"


def _span(values: Sequence[int]) -> str:
    """One value, or the range when replications differ (e.g. "54" or "53-54")."""
    lo, hi = min(values), max(values)
    return f"{lo}" if lo == hi else f"{lo}-{hi}"


def to_markdown(head: pd.DataFrame, size: pd.DataFrame, meta: dict[str, Any]) -> str:
    """The tables as Markdown (Monte Carlo standard errors in parentheses)."""
    het = meta.get("truth_heterogeneous", math.nan)
    het_effects = scenario_effects("heterogeneous")  # the simulator's defaults, as simulated
    het_text = (", ".join(f"{het_effects[(c, TIER, OUTCOME)]:.2f}" for c in TREATED)
                if isinstance(het_effects, dict) else str(het_effects))
    lines = [
        f"Headline: pooled TWFE DiD of exposure on log low-value job posts; category x month "
        f"panel, {_span(meta['n_categories'])} categories (= clusters) x "
        f"{_span(meta['n_months'])} months; treated: {', '.join(TREATED)} from "
        f"{EVENT_DATE}; true effect {EFFECT:+.2f} in each. R = {meta['reps']} replications, "
        f"each with three marketplaces (homogeneous effect, heterogeneous effects, no effect) "
        f"of {meta['n_posts']:,} expected posts; seed {meta['seed']}. Rates in percent, 5% "
        "level; Monte Carlo standard errors in parentheses.",
        "",
        "| method | bias | RMSE | coverage of 95% CI | median CI length | rejection under H0 "
        "(effects = 0) | power vs H0: 0 | coverage, heterogeneous effects |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in head.itertuples():
        length = "—" if math.isnan(r.median_ci_length) else f"{r.median_ci_length:.3f}"
        lines.append(
            f"| {r.method} | {r.bias:+.4f} ({r.bias_mcse:.4f}) | {r.rmse:.4f} ({r.rmse_mcse:.4f})"
            f" | {_pct(r.coverage, r.coverage_mcse)} | {length} | "
            f"{_pct(r.rejection_null, r.rejection_null_mcse)} | {_pct(r.power, r.power_mcse)} | "
            f"{_pct(r.coverage_heterogeneous, r.coverage_heterogeneous_mcse)} |")
    lines += ["",
              f"Heterogeneous effects: the simulator's defaults for the three categories "
              f"({het_text}; estimand their mean {het:+.4f}). Bias and RMSE are the "
              "same point estimate's for every method; RI intervals invert the constant-effect "
              "sharp null.",
              "",
              "Rejection rate (percent) under H0 on the null marketplaces, by number of treated "
              "categories:", "",
              "| treated categories | RI assignments | " + " | ".join(
                  METHOD_LABEL[m].split(" ", 1)[0] + " " + m for m in METHODS) + " |",
              "|---|---|" + "---|" * len(METHODS)]
    for r in size.to_dict("records"):
        lines.append(f"| {r['design']} | {r['n_assignments']} | "
                     + " | ".join(_pct(r[m], r[f"{m}_mcse"]) for m in METHODS) + " |")
    lines += ["", f"Wall time {meta['wall']:.0f} s ({meta['wall'] / meta['reps']:.2f} s per "
              f"replication of three marketplaces), {meta['cpu']:.0f} s CPU, one process."]
    if meta.get("check") is not None:
        lines.append(f"Fast path == public functions on {meta['check'][0]} replication(s): "
                     f"largest absolute difference {meta['check'][1]:.1e}.")
    if meta.get("baseline"):
        b = meta["baseline"]
        ratio = b["wildboottest"] / b["laborai"]
        speed = (f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x slower")
        lines.append(
            f"Baseline (same {b['n']} panels): laborai `twfe(vcov='wild')` "
            f"{1000 * b['laborai']:.1f} ms per panel (4096 enumerated draws, p-value and "
            f"confidence set) vs `wildboottest` {b['version']} {1000 * b['wildboottest']:.1f} ms"
            f" (p-value only): **laborai {speed}**; the MC fast "
            f"path takes {1000 * b['fast']:.2f} ms for all methods; largest |p-value "
            f"difference| laborai vs wildboottest {b['max_p_diff']:.1e}.")
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------- baseline


def baseline_timing(seed: int, n: int = 5) -> dict[str, Any] | None:
    """Time laborai's public wild bootstrap against ``wildboottest`` on ``n`` panels.

    Returns None when ``wildboottest`` (or statsmodels) is not installed.
    """
    try:
        from importlib.metadata import version

        import statsmodels.api as sm
        from wildboottest.wildboottest import wildboottest
    except ImportError:
        return None
    panels = [with_treatment(simulate_panel(seed * 1_000_000 + 999_000 + i, "homogeneous")[0],
                             TREATED) for i in range(n)]
    V = rademacher_grid(12)
    t_lab = t_wbt = t_fast = 0.0
    max_diff = 0.0
    common: dict[str, Any] = dict(yname=OUTCOME, dname="d", idname="unit", tname="period",
                                  cluster="category", vcov="wild", n_boot=4096, seed=0)

    def run_wbt(d: pd.DataFrame) -> float:
        X = pd.get_dummies(d[["unit", "period"]].astype(str), drop_first=True).astype(float)
        X.insert(0, "d", d["d"].to_numpy(dtype=float))
        X.insert(0, "const", 1.0)
        model = sm.OLS(d[OUTCOME].to_numpy(dtype=float), X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = wildboottest(model, param="d", cluster=pd.factorize(d["category"])[0],
                               B=9999, seed=0, show=False)
        return float(ref["p-value"].iloc[0])

    # warm-up of both (imports, numba compilation) outside the timers
    la.did.twfe(panels[0], **common)
    run_wbt(panels[0])
    for d in panels:
        t = time.perf_counter()
        p_lab = float(la.did.twfe(d, **common).tidy()["p_value"].iloc[0])
        t_lab += time.perf_counter() - t
        t = time.perf_counter()
        p_wbt = run_wbt(d)
        t_wbt += time.perf_counter() - t
        t = time.perf_counter()
        fast_rep(d, TREATED, 0.0, V)
        t_fast += time.perf_counter() - t
        max_diff = max(max_diff, abs(p_lab - p_wbt))
    return {"laborai": t_lab / n, "wildboottest": t_wbt / n, "fast": t_fast / n, "n": n,
            "version": version("wildboottest"), "max_p_diff": max_diff}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500, help="replications (default 500)")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--n-posts", type=int, default=N_POSTS,
                    help=f"expected posts per marketplace (default {N_POSTS:,})")
    ap.add_argument("--out", type=Path, default=None, help="write the tables as Markdown here")
    ap.add_argument("--check", type=int, default=2,
                    help="replications checked: fast path == public functions (default 2)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the wildboottest timing")
    args = ap.parse_args(argv)

    print(f"design: outcome={OUTCOME} tier={TIER} treated={TREATED} effect={EFFECT} "
          f"events={EVENTS} n_posts={args.n_posts} simulator noise=defaults")
    print(f"null designs: {dict(NULL_DESIGNS)}")
    print(f"reps={args.reps} seed={args.seed}", flush=True)
    check = None
    if args.check:
        seeds = [rep_seeds(args.seed, r)["homogeneous"] for r in range(args.check)]
        check = (args.check, check_against_public(seeds, n_posts=args.n_posts))
        print(f"fast path == public functions on {check[0]} replication(s): max |diff| "
              f"{check[1]:.1e}", flush=True)
    base = None if args.no_baseline else baseline_timing(args.seed)
    t0, c0 = time.perf_counter(), time.process_time()
    res = run(args.reps, args.seed, n_posts=args.n_posts)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    head, size = summarize(res)
    het = res.loc[res["scenario"] == "heterogeneous", "truth"]
    meta = {"reps": args.reps, "seed": args.seed, "n_posts": args.n_posts, "wall": wall,
            "cpu": cpu, "baseline": base, "check": check,
            "n_categories": sorted(set(res["n_categories"])),
            "n_months": sorted(set(res["n_months"])),
            "truth_heterogeneous": float(het.iloc[0]) if len(het) else math.nan}
    md = to_markdown(head, size, meta)
    print(md)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(md)
        res.to_csv(args.out.with_suffix(".csv"), index=False, float_format="%.10g")
        print(f"wrote {args.out} and {args.out.with_suffix('.csv')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
