"""Fixed-effects regressions at platform scale: la.did.twfe / event_study vs pyfixest (issue 16).

Three cases, panels generated with numpy (seeded) in each worker:

(a) balanced 200,000 units x 24 periods (4.8M rows), ``y ~ d | unit + period``, CRV1 by 130
    groups: ``la.did.twfe`` vs ``pyfixest.feols`` vs the numpy one-pass closed form
    (reshape to units x periods, subtract unit and period means, OLS, CRV1 by bincount);
(b) unbalanced 300,000 freelancers x 36 months (entry/exit spans, about 5.4M rows), same model:
    ``la.did.twfe`` vs ``pyfixest.feols``;
(c) event study with 24 event-time coefficients (window (-12, 12), reference -1, staggered
    adoption) on the balanced 4.8M-row panel, CRV1 by group: ``la.did.event_study`` vs
    ``pyfixest.feols("y ~ i(et, ref=-1) | unit + period")`` on the same binned event time.

Every (case, tool, repeat) runs in a fresh subprocess (``--worker``): the panel is built, the
tool is warmed up on a small panel (JIT compilation excluded for every tool), the peak
resident set is reset (``/proc/self/clear_refs``), the call is timed once, and the peak RSS
above the pre-call level is read from ``VmHWM``. Repeats are interleaved (round r runs every
case and tool); the table reports the minimum time of the repeats, the largest peak memory,
and the largest coefficient / standard-error differences to pyfixest (relative for SEs).

    python benchmarks/fe_speed.py              # 5 repeats (about 10 minutes)
    python benchmarks/fe_speed.py --repeats 1 --scale 0.05   # quick smoke run

pyfixest runs with laborai's settings (``fixef_rm='none'``) and its default demeaning
tolerance (1e-6), so on the unbalanced panel its coefficients carry its convergence error;
laborai's fast path is direct (no tolerance) there. peers-venv packages (diff-diff,
moderndid) do not offer an absorbed-fixed-effects regression with CRV1 on this model (diff-diff's
TwoWayFixedEffects builds the treated x post design itself), so pyfixest is the peer.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

CASES = ("a_balanced", "b_unbalanced", "c_event_study")
TOOLS = {"a_balanced": ("laborai", "pyfixest", "closed_form"),
         "b_unbalanced": ("laborai", "pyfixest"),
         "c_event_study": ("laborai", "pyfixest")}
N_GROUPS = 130


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------


def make_panel(case: str, scale: float = 1.0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    if case == "b_unbalanced":
        N, T = int(300_000 * scale), 36
        start = rng.integers(0, 19, N)
        length = rng.integers(12, 25, N)
        u = np.repeat(np.arange(N), T)
        t = np.tile(np.arange(T), N)
        keep = (t >= start[u]) & (t < start[u] + length[u])
        u, t = u[keep], t[keep]
        post = 18
    else:
        N, T = int(200_000 * scale), 24
        u = np.repeat(np.arange(N), T)
        t = np.tile(np.arange(T), N)
        post = 12
    g_of = rng.integers(0, N_GROUPS, N)
    g = g_of[u]
    treated = g < 50
    n = u.size
    ae = rng.normal(size=N)[u]
    te = rng.normal(size=T)[t]
    df = pd.DataFrame({"unit": u, "period": t, "grp": g})
    if case == "c_event_study":
        cohort_of = np.where(g_of < 50, rng.integers(8, 17, N), -1).astype(float)
        cohort_of[cohort_of < 0] = np.nan
        cohort = cohort_of[u]
        rel = t - np.nan_to_num(cohort, nan=-10**6)
        eff = np.where(np.isfinite(cohort) & (rel >= 0), 0.05 * np.minimum(rel + 1, 6), 0.0)
        df["y"] = eff + ae + te + rng.normal(size=n)
        df["cohort"] = cohort
        # binned event time for pyfixest's i(): never-treated at the reference (all zeros)
        et = np.where(np.isfinite(cohort), np.clip(rel, -12, 12), -1).astype(np.int64)
        df["et"] = et
    else:
        d = (treated & (t >= post)).astype(float)
        df["d"] = d
        df["y"] = 0.1 * d + ae + te + rng.normal(size=n)
    return df


# --------------------------------------------------------------------------------------------
# tools
# --------------------------------------------------------------------------------------------


def closed_form(df: pd.DataFrame, N: int, T: int) -> tuple[np.ndarray, np.ndarray]:
    """One-pass two-way demeaning of a balanced panel sorted by unit then period; CRV1."""
    y = df["y"].to_numpy().reshape(N, T)
    d = df["d"].to_numpy().reshape(N, T)
    g = df["grp"].to_numpy()

    def dm(z: np.ndarray) -> np.ndarray:
        return (z - z.mean(axis=1, keepdims=True) - z.mean(axis=0, keepdims=True)
                + z.mean()).ravel()

    yt, dt = dm(y), dm(d)
    dd = dt @ dt
    b = (dt @ yt) / dd
    e = yt - dt * b
    s = np.bincount(g, weights=dt * e, minlength=N_GROUPS)
    G = int(np.unique(g).size)
    n = N * T
    dfk = 1 + T  # K: d, the T - 1 + N levels less the N nested unit levels, plus one
    adj = G / (G - 1) * (n - 1) / (n - dfk)
    return np.array([b]), np.array([np.sqrt(adj * (s @ s)) / dd])


def run_tool(case: str, tool: str, df: pd.DataFrame, scale: float) -> tuple[np.ndarray, np.ndarray]:
    if tool == "laborai":
        import laborai as la

        if case == "c_event_study":
            r = la.did.event_study(df, yname="y", idname="unit", tname="period",
                                   event_date="cohort", window=(-12, 12), ref=-1,
                                   cluster="grp", vcov="cluster", n_boot=1000)
            assert r.provenance.settings["backend"] == "fastfe"
            return np.asarray(r.coef), np.sqrt(np.diag(r.vcov))
        r = la.did.twfe(df, yname="y", dname="d", idname="unit", tname="period",
                        cluster="grp", vcov="cluster")
        assert r.provenance.settings["backend"] == "fastfe"
        return np.asarray(r.coef), np.sqrt(np.diag(r.vcov))
    if tool == "pyfixest":
        import pyfixest as pf

        fml = ("y ~ i(et, ref=-1) | unit + period" if case == "c_event_study"
               else "y ~ d | unit + period")
        m = pf.feols(fml, data=df, vcov={"CRV1": "grp"}, fixef_rm="none")
        return np.asarray(m._beta_hat), np.sqrt(np.diag(m._vcov))
    if tool == "closed_form":
        N, T = int(200_000 * scale), 24
        return closed_form(df, N, T)
    raise SystemExit(f"unknown tool {tool}")


def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field):
                return int(line.split()[1])
    return -1


def worker(case: str, tool: str, scale: float) -> dict[str, Any]:
    warnings.simplefilter("ignore")
    small = make_panel(case, scale=0.002, seed=1)
    run_tool(case, tool, small, 0.002)  # warm-up: JIT compilation, imports
    df = make_panel(case, scale=scale)
    del small
    base = _rss_kb("VmRSS:")
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        reset = True
    except OSError:  # pragma: no cover - not Linux / not permitted
        reset = False
    t0 = time.perf_counter()
    coef, se = run_tool(case, tool, df, scale)
    elapsed = time.perf_counter() - t0
    peak = _rss_kb("VmHWM:")
    return {"case": case, "tool": tool, "rows": int(len(df)), "seconds": elapsed,
            "peak_mb": (peak - base) / 1024 if reset else float("nan"),
            "coef": coef.tolist(), "se": se.tolist()}


# --------------------------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--cases", nargs="*", default=list(CASES))
    ap.add_argument("--worker", nargs=2, metavar=("CASE", "TOOL"))
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(worker(a.worker[0], a.worker[1], a.scale)))
        return
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "TZ": "UTC"}
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in range(a.repeats):
        for case in a.cases:
            for tool in TOOLS[case]:
                out = subprocess.run([sys.executable, __file__, "--worker", case, tool,
                                      "--scale", str(a.scale)], capture_output=True, text=True,
                                     env=env, check=False)
                if out.returncode != 0:
                    print(out.stderr[-3000:], file=sys.stderr)
                    raise SystemExit(f"worker {case}/{tool} failed")
                res = json.loads(out.stdout.strip().splitlines()[-1])
                runs.setdefault((case, tool), []).append(res)
                print(f"round {r + 1}: {case:15s} {tool:12s} {res['seconds']:8.3f} s  "
                      f"peak +{res['peak_mb']:8.1f} MB", flush=True)
    print()
    print(f"rows and times: minimum of {a.repeats} interleaved repeats, fresh process each; "
          "peak = largest VmHWM above the pre-call RSS")
    print(f"{'case':15s} {'tool':12s} {'rows':>10s} {'min s':>8s} {'peak MB':>9s} "
          f"{'vs laborai':>10s} {'max |db|':>10s} {'max rel dse':>11s}")
    ok = True
    for case in a.cases:
        la_t = min(x["seconds"] for x in runs[(case, "laborai")])
        ref = runs[(case, "pyfixest")][0]
        for tool in TOOLS[case]:
            rs = runs[(case, tool)]
            t = min(x["seconds"] for x in rs)
            peak = max(x["peak_mb"] for x in rs)
            c, s = np.asarray(rs[0]["coef"]), np.asarray(rs[0]["se"])
            db = float(np.max(np.abs(c - np.asarray(ref["coef"]))))
            ds = float(np.max(np.abs(s / np.asarray(ref["se"]) - 1.0)))
            tol_b = 1e-6 if case == "b_unbalanced" else 1e-9
            if db > tol_b * max(1.0, float(np.max(np.abs(c)))) or ds > 1e-6:
                ok = False
            print(f"{case:15s} {tool:12s} {rs[0]['rows']:10d} {t:8.3f} {peak:9.1f} "
                  f"{t / la_t:10.2f} {db:10.2e} {ds:11.2e}")
    print()
    print("numbers agree" if ok else "NUMBERS DISAGREE (see the table)")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
