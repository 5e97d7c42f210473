"""Monte Carlo validity of inference in the freelancer-level design (issue 16 items 1 and 3).

The Hui-Reshef-Zhou design on SIMULATED freelancers (``la.simulate_freelancers``): exposed vs
less-exposed freelancers, where exposure is set by the freelancer's HOME CATEGORY (4 ChatGPT
categories of 12), PPML with freelancer and month fixed effects. Because treatment is assigned
by category, the simulator's category and subcategory demand shocks (monthly AR(1), sd 0.04 and
0.06, rho 0.8, as in ``simulate_marketplace``) are common to all freelancers of a treatment
cluster and do not average out over freelancers: the effective number of independent units is
the number of categories.

One replication = one seed: ``la.simulate_freelancers(seed, n_freelancers, effects=...)`` ->
``la.build_freelancer_panel`` -> freelancers with pre-period earnings, ``treated_post`` =
exposed x (period >= Dec 2022). Outcome: monthly earnings. Methods (95% level):

``ppml_crv1_freelancer``  PPML, CRV1 by freelancer (the design's old default; normal reference).
``ppml_crv1_category``    PPML, CRV1 by category (12 clusters).
``ppml_placebo``          PPML estimate with Conley-Taber placebo inference over the 8
                          less-exposed categories: ``la.did.twfe(family="poisson",
                          vcov="placebo", cluster="category")`` (``laborai/did/_ppml_placebo.py``:
                          one PPML fit with a post-period shift for every category but one gives
                          the category shifts ``delta_c``; each control category's placebo is
                          ``delta_j`` minus the outcome-weighted mean of the other controls;
                          ``se^2 = (J - 1)/J^2 (sum_g w_g^2 + sum_k v_k^2) sum_j placebo_j^2``
                          (``w``, ``v`` the treated and control categories' shares of post-period
                          earnings) and the reference is ``t(J - 1)``, ``J = 8``).
``ols_levels_auto``       ``la.did.twfe`` OLS on earnings in USD with ``cluster="category"`` and
                          ``vcov="auto"`` (what twfe resolves to with 12 clusters is recorded:
                          ``vcov_type``). Truth: the levels ATT from the simulator's expected
                          outcomes (exposed minus less-exposed mean change of ``mu1 - mu0``).
``ri_levels``             ``la.did.ri_test`` (OLS, levels) over which 4 of the 12 categories
                          are exposed: all C(12, 4) = 495 assignments. A test only (no interval).

``la.did.twfe`` has placebo inference for PPML (``vcov='placebo'``, and ``'auto'`` with 12
category clusters); ``vcov='wild'`` is OLS only and ``ri_test`` is OLS only.

Usage::

    python benchmarks/freelancer_validity.py --reps 200 --jobs 2 [--n-freelancers 1500]
        [--no-shocks] [--out build/freelancer_validity.json]

Prints a markdown table: rejection rate at 5% with ``effects="none"`` (size), coverage of the
truth and rejection rate with the published effects (power), each with its Monte Carlo standard
error; seeds are ``seed0 + r`` (null) and ``seed0 + 100_000 + r`` (effects).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

FIRST = pd.Timestamp("2022-12-01")   # first month treated by ChatGPT (first_full rule)
METHODS = ("ppml_crv1_freelancer", "ppml_crv1_category", "ppml_placebo", "ols_levels_auto",
           "ri_levels")


def design_frame(fm: Any) -> pd.DataFrame:
    """The design's sample: freelancers with pre-period earnings, home category, treated_post."""
    import laborai as la

    p = la.build_freelancer_panel(fm.contracts, freelancers=fm.freelancers)
    d = p[p["exposed"].notna()].copy()
    d["exposed"] = d["exposed"].astype(bool)
    home = fm.freelancers.set_index("freelancer_id")["category"]
    d["category"] = d["freelancer_id"].map(home).astype(str)
    d["treated_post"] = (d["exposed"] & (d["period"] >= FIRST)).astype(int)
    return d


def levels_truth(fm: Any, ids: pd.Index) -> float:
    """ATT in USD of the levels OLS design: mean(mu1 - mu0) exposed minus less exposed, post."""
    f = fm.freelancers.set_index("freelancer_id")
    ex = fm.expected
    fid = ex["freelancer_id"].astype(str)
    keep = fid.isin(ids).to_numpy() & (ex["period"] >= FIRST).to_numpy()
    gap = (ex["mu1_earnings"] - ex["mu0_earnings"]).to_numpy()[keep]
    exp_ = fid[keep].map(f["exposed"]).to_numpy(dtype=bool)
    return float(gap[exp_].mean() - gap[~exp_].mean())


def one_rep(task: tuple[int, str, int, bool, bool]) -> dict[str, Any]:
    """One marketplace: every method's estimate, interval and p-value, and the truths.

    With ``ppml_only`` only the three PPML methods (large marketplaces).
    """
    import laborai as la

    seed, kind, n_free, shocks, ppml_only = task
    kw: dict[str, Any] = {} if shocks else {"category_noise_sd": 0.0, "noise_sd": 0.0}
    fm = la.simulate_freelancers(seed=seed, n_freelancers=n_free,
                                 effects="none" if kind == "no_effect" else "published", **kw)
    d = design_frame(fm)
    ids = pd.Index(pd.unique(d["freelancer_id"]))
    truth = float(fm.implied_effect("earnings", groups=pd.Series("all", index=ids))["truth"]
                  .iloc[0])
    out: dict[str, Any] = {"seed": seed, "kind": kind, "shocks": shocks, "truth": truth,
                           "truth_levels": levels_truth(fm, ids), "rows": len(d)}
    base = dict(yname="earnings", dname="treated_post", idname="freelancer_id", tname="period")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = {
            "ppml_crv1_freelancer": la.did.twfe(d, family="poisson", **base),
            "ppml_crv1_category": la.did.twfe(d, family="poisson", cluster="category",
                                              vcov="cluster", **base),
        }
        rows["ppml_placebo"] = la.did.twfe(d, family="poisson", cluster="category",
                                           vcov="placebo", **base)
        if not ppml_only:
            rows["ols_levels_auto"] = la.did.twfe(d, cluster="category", **base)
        for name, r in rows.items():
            t = r.tidy().iloc[0]
            out[name] = {k: float(t[k]) for k in ("estimate", "std_error", "conf_low",
                                                  "conf_high", "p_value")}
            out[name]["vcov_type"] = str(r.vcov_type)
        out["ppml_placebo"]["df"] = float(rows["ppml_placebo"].df_resid)
        if ppml_only:
            return out
        # ri_test refuses units of a treated cluster that are never treated: here freelancers
        # of an exposed category who exit before December 2022 (never observed treated); the
        # RI sample leaves out every freelancer without a month from December 2022 on
        seen = d.loc[d["period"] >= FIRST, "freelancer_id"].unique()
        ri = la.did.ri_test(d[d["freelancer_id"].isin(seen)], yname="earnings",
                            idname="freelancer_id", tname="period", dname="treated_post",
                            cluster="category")
        out["ri_levels"] = {"estimate": float(ri.estimate), "p_value": float(ri.p_value),
                            "n_assignments": int(ri.n_assignments)}
    return out


def summarise(res: list[dict[str, Any]]) -> pd.DataFrame:
    """Size, coverage and power per method, with binomial Monte Carlo standard errors."""
    rows = []
    for m in METHODS:
        if not any(m in r for r in res):
            continue
        null = [r[m] for r in res if r["kind"] == "no_effect"]
        alt = [(r[m], r["truth_levels"] if m == "ols_levels_auto" else r["truth"])
               for r in res if r["kind"] == "effects"]
        size = float(np.mean([x["p_value"] < 0.05 for x in null])) if null else float("nan")
        power = float(np.mean([x["p_value"] < 0.05 for x, _ in alt])) if alt else float("nan")
        if alt and "conf_low" in alt[0][0]:
            cov = float(np.mean([x["conf_low"] <= t <= x["conf_high"] for x, t in alt]))
            cov_null = float(np.mean([x["conf_low"] <= 0 <= x["conf_high"] for x in null]))
        else:
            cov, cov_null = float("nan"), float("nan")
        vt = {x.get("vcov_type", "") for x in null + [a for a, _ in alt]} - {""}
        rows.append({"method": m, "vcov": ",".join(sorted(vt)) or "-", "null_reps": len(null),
                     "size": size, "size_mcse": math.sqrt(0.05 * 0.95 / max(len(null), 1)),
                     "coverage_null": cov_null, "effect_reps": len(alt), "coverage": cov,
                     "power": power})
    return pd.DataFrame(rows)


def markdown(tab: pd.DataFrame) -> str:
    lines = ["| method | vcov | null reps | size (5%) | effect reps | coverage (95%) | power |",
             "|---|---|---|---|---|---|---|"]
    for r in tab.itertuples():
        cov = "—" if math.isnan(r.coverage) else f"{100 * r.coverage:.1f}%"
        lines.append(f"| {r.method} | {r.vcov} | {r.null_reps} | {100 * r.size:.1f}% | "
                     f"{r.effect_reps} | {cov} | {100 * r.power:.1f}% |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200, help="marketplaces per kind")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--n-freelancers", type=int, default=1_500)
    ap.add_argument("--seed0", type=int, default=70_000)
    ap.add_argument("--no-shocks", action="store_true",
                    help="category_noise_sd=0, noise_sd=0 (the mechanism)")
    ap.add_argument("--out", default="build/freelancer_validity.json")
    ap.add_argument("--ppml-only", action="store_true",
                    help="only the three PPML methods (for large marketplaces)")
    ap.add_argument("--summarise", metavar="JSONL",
                    help="only print the table of the replications already in JSONL")
    a = ap.parse_args(argv)
    shocks = not a.no_shocks
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if a.summarise:
        res = [json.loads(line) for line in Path(a.summarise).read_text().splitlines() if line]
        print(f"{len(res)} replications from {a.summarise}")
        print(markdown(summarise(res)))
        return 0
    # null and effect marketplaces interleaved, so that a partial run is balanced
    tasks = [t for r in range(a.reps) for t in (
        (a.seed0 + r, "no_effect", a.n_freelancers, shocks, a.ppml_only),
        (a.seed0 + 100_000 + r, "effects", a.n_freelancers, shocks, a.ppml_only))]
    t0 = time.perf_counter()
    res = []
    with out.with_suffix(".jsonl").open("w") as log:   # one line per replication, as it ends
        if a.jobs > 1:
            with mp.get_context("spawn").Pool(a.jobs) as pool:
                for r in pool.imap(one_rep, tasks):
                    res.append(r)
                    log.write(json.dumps(r) + "\n")
                    log.flush()
        else:
            for t in tasks:
                res.append(one_rep(t))
                log.write(json.dumps(res[-1]) + "\n")
                log.flush()
    secs = time.perf_counter() - t0
    tab = summarise(res)
    head = (f"shocks={'default (category sd 0.04, subcategory sd 0.06, rho 0.8)' if shocks else 'off (sd 0)'}"
            f", {a.n_freelancers:,} freelancers, {a.reps} null + {a.reps} effect marketplaces, "
            f"seeds {a.seed0}+r and {a.seed0 + 100_000}+r, {secs:.0f} s on {a.jobs} jobs")
    print(head)
    print(markdown(tab))
    out.write_text(json.dumps({"settings": vars(a), "seconds": secs, "table": tab.to_dict("records"),
                               "reps": res}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
