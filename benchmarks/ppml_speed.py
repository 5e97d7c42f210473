"""Poisson (PPML) fixed-effects regressions: laborai's fast path vs pyfixest.fepois.

Two cases:

(a) the freelancer x month panel of ``analyses/freelancer_design.py``
    (``la.simulate_freelancers(seed=2024, n_freelancers=15_000)`` ->
    ``la.build_freelancer_panel``, freelancers with pre-period earnings), ``earnings`` and
    ``n_jobs`` on exposed x post with freelancer and month fixed effects, CRV1 by freelancer
    (the notebook's ``ppml``) and by category, and placebo inference over the categories
    (the notebook's ``placebo``: the estimate plus one PPML shift regression,
    ``laborai/did/_ppml_placebo.py``), and the notebook's event study (window (-3, 3),
    placebo by category): ``la.did.twfe`` / ``la.did.event_study(family="poisson",
    backend="fast")`` vs ``backend="pyfixest"`` (the same frame and options; the engine
    differs);
(b) a synthetic unbalanced panel of about 1M rows (40,000 units x 30 periods, 85% of the
    cells kept, 40% zeros, 300 units with only zeros, two regressors), CRV1 by 500 groups:
    ``laborai.did._fastpois.fit_poisson`` vs ``pf.fepois("y ~ x1 + x2 | unit + period")``.

Both tools are warmed up first (numba compilation excluded); each timing is the minimum of
``--repeats`` (default 3) interleaved repeats in one process. pyfixest runs at its defaults
(``iwls_tol=1e-8``, demeaning ``fixef_tol=1e-6``), so the differences printed are its
convergence error; ``--tight`` also reruns pyfixest at ``iwls_tol=1e-12, fixef_tol=1e-12``
(not timed) and prints the differences to that.

    python benchmarks/ppml_speed.py            # about 2 minutes
    python benchmarks/ppml_speed.py --scale 0.1 --repeats 1   # smoke run
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


def freelancer_data(n_freelancers: int) -> pd.DataFrame:
    import laborai as la

    fm = la.simulate_freelancers(seed=2024, n_freelancers=n_freelancers)
    panel = la.build_freelancer_panel(fm.contracts, freelancers=fm.freelancers)
    d = panel[panel["exposed"].notna()].copy()
    d["exposed"] = d["exposed"].astype(bool)
    d["category"] = d["freelancer_id"].map(
        fm.freelancers.set_index("freelancer_id")["category"])
    d["treated_post"] = (d["exposed"] & (d["period"] >= pd.Timestamp("2022-12-01"))).astype(int)
    return d


def synthetic(n_units: int, T: int = 30, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    u = np.repeat(np.arange(n_units), T)
    t = np.tile(np.arange(T), n_units)
    keep = rng.uniform(size=u.size) < 0.85
    u, t = u[keep], t[keep]
    x1 = rng.normal(size=u.size)
    x2 = ((t >= T // 2) & (u % 4 == 0)).astype(float)
    eta = 0.1 * x1 + 0.2 * x2 + rng.normal(size=n_units)[u] - 0.3 + 0.2 * np.sin(t)
    y = rng.poisson(np.exp(eta)).astype(float)
    y[u < max(1, n_units // 133)] = 0.0  # units with only zeros: separated
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "unit": u, "period": t,
                         "grp": u % 500})


def _time(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _diffs(b1: np.ndarray, s1: np.ndarray, b2: np.ndarray, s2: np.ndarray) -> tuple[float, float]:
    return (float(np.max(np.abs(b1 - b2) / np.maximum(np.abs(b2), 1e-300))),
            float(np.max(np.abs(s1 - s2) / s2)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--tight", action="store_true")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    import pyfixest as pf

    import laborai as la
    from laborai.did._fastpois import fit_poisson

    # warm-up (JIT) on small inputs
    small = synthetic(200, 8)
    sw = small.assign(d=(small["x2"] > 0).astype(float))
    for be in ("fast", "pyfixest"):
        la.did.twfe(sw, yname="y", dname="d", idname="unit", tname="period", family="poisson",
                    cluster="grp", vcov="cluster", backend=be)

    fr = freelancer_data(int(15_000 * args.scale))
    syn = synthetic(int(40_000 * args.scale))
    codes = {c: pd.factorize(syn[c], sort=True)[0] for c in ("unit", "period", "grp")}

    cases: dict[str, dict[str, Callable[[], tuple[np.ndarray, np.ndarray]]]] = {}

    def twfe_case(y: str, cl: str, vcov: str = "cluster"
                  ) -> dict[str, Callable[[], tuple[np.ndarray, np.ndarray]]]:
        def run(be: str) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
            def f() -> tuple[np.ndarray, np.ndarray]:
                r = la.did.twfe(fr, yname=y, dname="treated_post", idname="freelancer_id",
                                tname="period", family="poisson", cluster=cl, vcov=vcov,
                                backend=be)
                assert r.provenance.settings["backend"] == ("fastpois" if be == "fast"
                                                            else "pyfixest")
                tb = r.tidy()
                return tb["estimate"].to_numpy(), tb["std_error"].to_numpy()
            return f
        return {"laborai": run("fast"), "pyfixest": run("pyfixest")}

    cases["(a) freelancer earnings, CRV1 freelancer"] = twfe_case("earnings", "freelancer_id")
    cases["(a) freelancer n_jobs, CRV1 category"] = twfe_case("n_jobs", "category")
    cases["(a) freelancer earnings, placebo by category"] = twfe_case("earnings", "category",
                                                                      "placebo")
    fr["event_date"] = pd.to_datetime(np.where(fr["exposed"], np.datetime64("2022-11-30"),
                                               np.datetime64("NaT")))

    def es_run(be: str) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
        def f() -> tuple[np.ndarray, np.ndarray]:
            r = la.did.event_study(fr, yname="earnings", idname="freelancer_id",
                                   tname="period", event_date="event_date", family="poisson",
                                   window=(-3, 3), cluster="category", vcov="placebo",
                                   backend=be)
            tb = r.tidy()
            return tb["estimate"].to_numpy(), tb["std_error"].to_numpy()
        return f

    cases["(a) event study (-3, 3), placebo by category"] = {"laborai": es_run("fast"),
                                                             "pyfixest": es_run("pyfixest")}

    def syn_fast() -> tuple[np.ndarray, np.ndarray]:
        f = fit_poisson(syn["y"].to_numpy(), dense=syn[["x1", "x2"]].to_numpy(),
                        fe=[codes["unit"], codes["period"]], clusters=[codes["grp"]],
                        weights=None, vcov="cluster")
        return f.coef, np.sqrt(np.diag(f.vcov))

    def syn_pf(**kw: Any) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
        def f() -> tuple[np.ndarray, np.ndarray]:
            m = pf.fepois("y ~ x1 + x2 | unit + period", data=syn, vcov={"CRV1": "grp"},
                          fixef_rm="none", **kw)
            return np.asarray(m._beta_hat), np.sqrt(np.diag(m._vcov))
        return f

    cases[f"(b) synthetic {len(syn):,} rows, CRV1 500 groups"] = {"laborai": syn_fast,
                                                                   "pyfixest": syn_pf()}
    times: dict[tuple[str, str], list[float]] = {}
    outs: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    for _ in range(args.repeats):
        for name, tools in cases.items():
            for tool, fn in tools.items():
                dt, out = _time(fn)
                times.setdefault((name, tool), []).append(dt)
                outs[(name, tool)] = out
    print(f"freelancer panel: {len(fr):,} rows, {fr['freelancer_id'].nunique():,} freelancers, "
          f"{fr['period'].nunique()} months; min of {args.repeats} interleaved repeats")
    print(f"{'case':48s} {'laborai s':>10s} {'pyfixest s':>10s} {'ratio':>7s} "
          f"{'max|db|/|b|':>12s} {'max|dse|/se':>12s}")
    for name in cases:
        tl, tp = min(times[(name, "laborai")]), min(times[(name, "pyfixest")])
        db, dse = _diffs(*outs[(name, "laborai")], *outs[(name, "pyfixest")])
        print(f"{name:48s} {tl:10.3f} {tp:10.3f} {tp / tl:6.1f}x {db:12.2e} {dse:12.2e}")
    if args.tight:
        b, s = syn_pf(iwls_tol=1e-12, fixef_tol=1e-12, iwls_maxiter=100)()
        fb = fit_poisson(syn["y"].to_numpy(), dense=syn[["x1", "x2"]].to_numpy(),
                         fe=[codes["unit"], codes["period"]], clusters=[codes["grp"]],
                         weights=None, vcov="cluster", tol=1e-12, maxiter=100)
        db, dse = _diffs(fb.coef, np.sqrt(np.diag(fb.vcov)), b, s)
        print(f"(b) both at iwls_tol 1e-12 (pyfixest fixef_tol 1e-12): coef {db:.2e}, "
              f"SE {dse:.2e}")


if __name__ == "__main__":
    main()
