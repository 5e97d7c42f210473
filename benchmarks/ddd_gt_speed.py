"""Speed benchmark: laborai ``ddd_gt`` vs moderndid ``ddd`` and diff-diff
``StaggeredTripleDifference`` (the two Python packages with staggered triple differences).

Data: (1) the triplediff reference panel (600 units x 4 periods, cohorts 2/3/4 and never,
``reference/triplediff/statspai_77_ddd_staggered.csv``); (2) a simulated panel of 20,000 units x
8 periods (cohorts 3..6 and never, two covariates, cohort- and partition-specific trends).
Specifications: without covariates (never-treated comparisons), doubly robust with
``~ cov1 + cov2`` (never treated), and doubly robust with not-yet-treated comparisons (GMM
combination). Every engine runs in its own process (the peers in the separate venv
``build/peers-venv``, via ``--worker``); each timing is the minimum of ``--repeat`` calls after
one warm-up call (imports, JIT). The script prints wall times, ratios (peer / laborai) and the
largest differences of the ATT(g,t) and of the never-treated standard errors. (For
not-yet-treated cells that combine several comparison cohorts the peers' standard errors
scale with the full sample, see ``docs/estimators/ddd_gt.md``; only the ATTs are compared.)

Run: ``.venv/bin/python benchmarks/ddd_gt_speed.py [--repeat 3] [--units 20000]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PEERS_PY = Path(os.environ.get("PEERS_PYTHON", ROOT / "build" / "peers-venv" / "bin" / "python"))
SPECS: dict[str, dict[str, Any]] = {
    "nocov_never": {"xformla": None, "control_group": "never_treated"},
    "cov_dr_never": {"xformla": "~cov1+cov2", "control_group": "never_treated"},
    "cov_dr_notyet": {"xformla": "~cov1+cov2", "control_group": "not_yet_treated"},
}
COLS = {"yname": "y", "tname": "time", "idname": "id", "gname": "state", "pname": "partition"}


def data_dir() -> Path:
    env = os.environ.get("LABORAI_DATA_DIR")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def simulate(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    periods = np.arange(1, 9)
    g = rng.choice([0, 3, 4, 5, 6], n)
    q = rng.integers(0, 2, n)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    lam = np.select([g == 3, g == 4, g == 5, g == 6], [0.3, -0.2, 0.1, 0.4], 0.0)
    y = (rng.normal(size=n)[:, None] + lam[:, None] * periods + 0.5 * q[:, None] * periods
         + 0.2 * x1[:, None] * periods - 0.1 * x2[:, None] + rng.normal(size=(n, len(periods)))
         + 2.0 * ((g[:, None] > 0) & (periods >= g[:, None]) & (q[:, None] == 1)))
    k = len(periods)
    return pd.DataFrame({"id": np.repeat(np.arange(1, n + 1), k), "time": np.tile(periods, n),
                         "state": np.repeat(g, k), "partition": np.repeat(q, k),
                         "cov1": np.repeat(x1, k), "cov2": np.repeat(x2, k), "y": y.ravel()})


# ------------------------------------------------------------------------------ engines
def run_laborai(df: pd.DataFrame, spec: dict[str, Any]) -> dict[str, Any]:
    from laborai.did.ddd_gt import ddd_gt

    res = ddd_gt(df, **COLS, est_method="dr", **spec)
    return {f"{int(g)}_{int(t)}": [float(a), float(s)]
            for g, t, a, s in zip(res.group, res.time, res.estimate, res.std_error, strict=True)}


def run_moderndid(df: pd.DataFrame, spec: dict[str, Any]) -> dict[str, Any]:
    from moderndid import ddd

    cg = {"never_treated": "nevertreated", "not_yet_treated": "notyettreated"}
    r = ddd(df, yname="y", tname="time", idname="id", gname="state", pname="partition",
            xformla=spec["xformla"], control_group=cg[spec["control_group"]],
            base_period="varying", est_method="dr")
    return {f"{int(g)}_{int(t)}": [float(a), float(s)]
            for g, t, a, s in zip(r.groups, r.times, r.att, r.se, strict=True)}


def run_diff_diff(df: pd.DataFrame, spec: dict[str, Any]) -> dict[str, Any]:
    from diff_diff import StaggeredTripleDifference

    cg = {"never_treated": "nevertreated", "not_yet_treated": "notyettreated"}
    covs = None if spec["xformla"] is None else ["cov1", "cov2"]
    r = StaggeredTripleDifference(estimation_method="dr", control_group=cg[spec["control_group"]],
                                  base_period="varying").fit(
        df, outcome="y", unit="id", time="time", first_treat="state", eligibility="partition",
        covariates=covs)
    return {f"{int(g)}_{int(t)}": [float(v["effect"]), float(v["se"])]
            for (g, t), v in r.group_time_effects.items()}


ENGINES = {"laborai": run_laborai, "moderndid": run_moderndid, "diff_diff": run_diff_diff}


def worker(engine: str, data: str, spec_name: str, repeat: int) -> None:
    warnings.simplefilter("ignore")
    df = pd.read_parquet(data)
    fn = ENGINES[engine]
    fn(df, SPECS[spec_name])  # warm-up: imports, JIT, caches
    times = []
    out: dict[str, Any] = {}
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(df, SPECS[spec_name])
        times.append(time.perf_counter() - t0)
    print(json.dumps({"seconds": min(times), "cells": out}))


def run(engine: str, data: Path, spec: str, repeat: int) -> dict[str, Any] | None:
    py = sys.executable if engine == "laborai" else str(PEERS_PY)
    if engine != "laborai" and not Path(py).exists():
        print(f"  {engine}: peers venv {py} missing; skipped")
        return None
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONHASHSEED="0")
    proc = subprocess.run([py, __file__, "--worker", engine, str(data), spec, str(repeat)],
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        print(f"  {engine} failed:\n{proc.stderr[-2000:]}")
        return None
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def compare(a: dict[str, Any], b: dict[str, Any], spec: str) -> tuple[float, float]:
    keys = sorted(set(a) & set(b))
    if len(keys) != len(a):
        raise SystemExit(f"cells differ: {sorted(a)} vs {sorted(b)}")
    d_att = max(abs(a[k][0] - b[k][0]) for k in keys)
    d_se = (max(abs(a[k][1] / b[k][1] - 1) for k in keys) if spec.endswith("never")
            else float("nan"))
    return d_att, d_se


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--units", type=int, default=20_000)
    ap.add_argument("--worker", nargs=4, metavar=("ENGINE", "DATA", "SPEC", "REPEAT"))
    args = ap.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], args.worker[2], int(args.worker[3]))
        return
    ref = pd.read_csv(data_dir() / "reference" / "triplediff" / "statspai_77_ddd_staggered.csv")
    datasets = {"reference 600x4": ref, f"simulated {args.units}x8": simulate(args.units)}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for dname, df in datasets.items():
            path = Path(tmp) / "data.parquet"
            df.to_parquet(path)
            for spec in SPECS:
                print(f"{dname} / {spec}", flush=True)
                la = run("laborai", path, spec, args.repeat)
                assert la is not None
                for peer in ("moderndid", "diff_diff"):
                    pr = run(peer, path, spec, args.repeat)
                    if pr is None:
                        continue
                    d_att, d_se = compare(la["cells"], pr["cells"], spec)
                    rows.append({"data": dname, "spec": spec, "peer": peer,
                                 "laborai_s": la["seconds"], "peer_s": pr["seconds"],
                                 "ratio": pr["seconds"] / la["seconds"],
                                 "max_abs_diff_att": d_att, "max_rel_diff_se": d_se})
    out = pd.DataFrame(rows)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(out.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    bad = out[out["max_abs_diff_att"] > 1e-6]
    if len(bad):
        raise SystemExit(f"numbers disagree:\n{bad}")


if __name__ == "__main__":
    main()
