"""Speed benchmark: laborai ``att_gt`` + four aggregations vs the ``csdid`` PyPI package.

Data: R ``did``'s ``mpdta`` (500 counties x 5 years) replicated 100 times with new county ids,
i.e. 50,000 units and 250,000 rows. Both libraries run the same specification (never-treated
comparison group, doubly robust estimator, analytic standard errors, no bootstrap), then the
simple, dynamic, group and calendar aggregations. The script prints wall times, their ratio and
the largest absolute difference between the two libraries' numbers (ATT(g,t), standard errors,
aggregated estimates and standard errors).

``csdid`` is not a laborai dependency. Install it in a separate virtual environment::

    python3 -m venv /tmp/csdid-venv && /tmp/csdid-venv/bin/pip install csdid

and point ``CSDID_PYTHON`` at that interpreter (default ``/tmp/csdid-venv/bin/python``); the
script then runs the baseline there in a subprocess (``--csdid-worker``). If ``csdid`` is
importable in the current interpreter it is used directly.

Run: ``.venv/bin/python benchmarks/att_gt_speed.py [--reps 100] [--repeat 3] [--xformla '~lpop']``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

AGG_TYPES: tuple[Any, ...] = ("simple", "dynamic", "group", "calendar")


def data_dir() -> Path:
    env = os.environ.get("LABORAI_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def build_data(reps: int) -> pd.DataFrame:
    """mpdta replicated ``reps`` times with new county ids (deterministic)."""
    mp = pd.read_csv(data_dir() / "reference" / "did_r" / "mpdta.csv")
    frames = [mp.assign(countyreal=mp["countyreal"] + 100_000 * k) for k in range(reps)]
    return pd.concat(frames, ignore_index=True)


def run_laborai(df: pd.DataFrame, xformla: str | None) -> dict:
    import laborai as la

    t0, c0 = time.perf_counter(), time.process_time()
    res = la.did.att_gt(df, yname="lemp", tname="year", idname="countyreal",
                        gname="first.treat", xformla=xformla)
    aggs = {t: res.aggregate(t) for t in AGG_TYPES}
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    out = {"seconds": elapsed, "cpu": cpu, "att": res.estimate.tolist(), "se": res.std_error.tolist()}
    for t, a in aggs.items():
        out[t] = {"est": a.estimate.tolist(), "se": a.std_error.tolist(),
                  "overall": [a.overall_estimate, a.overall_std_error]}
    return out


def run_csdid(df: pd.DataFrame, xformla: str | None) -> dict:
    from csdid.att_gt import ATTgt

    warnings.simplefilter("ignore")
    sink = io.StringIO()
    t0, c0 = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(sink):
        fit = ATTgt(yname="lemp", tname="year", idname="countyreal", gname="first.treat",
                    data=df, control_group="nevertreated", xformla=xformla).fit(
            est_method="dr", bstrap=False)
        aggs = {}
        for t in AGG_TYPES:
            fit.aggte(typec=t, bstrap=False)
            aggs[t] = dict(fit.atte)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    r = fit.results
    out = {"seconds": elapsed, "cpu": cpu, "att": np.asarray(r["att"], float).tolist(),
           "se": np.asarray(r["se"], float).tolist()}
    for t, a in aggs.items():
        est = a.get("att_egt")
        se = a.get("se_egt")
        out[t] = {
            "est": [] if est is None or t == "simple" else np.ravel(np.asarray(est, float)).tolist(),
            "se": [] if se is None or t == "simple" else np.ravel(np.asarray(se, float)).tolist(),
            "overall": [float(np.ravel(a["overall_att"])[0]), float(np.ravel(a["overall_se"])[0])],
        }
    return out


def max_abs_diff(a: dict, b: dict) -> float:
    diffs = [np.max(np.abs(np.subtract(a["att"], b["att"]))),
             np.max(np.abs(np.subtract(a["se"], b["se"])))]
    for t in AGG_TYPES:
        for key in ("est", "se", "overall"):
            x, y = np.asarray(a[t][key], float), np.asarray(b[t][key], float)
            if x.size and x.shape == y.shape:
                diffs.append(float(np.nanmax(np.abs(x - y))))
            elif x.size != y.size:
                diffs.append(float("inf"))
    return float(max(diffs))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs; the best is reported")
    ap.add_argument("--xformla", default=None)
    ap.add_argument("--csdid-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    df = build_data(args.reps)

    if args.csdid_worker:
        runs = [run_csdid(df, args.xformla) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["seconds"])
        print(json.dumps(best))
        return

    print(f"data: mpdta x {args.reps} = {df['countyreal'].nunique():,} units, {len(df):,} rows; "
          f"xformla={args.xformla!r}; never-treated, dr, analytic SEs, 4 aggregations")
    run_laborai(df.head(len(df) // args.reps), args.xformla)  # warm-up (imports)
    lab = min((run_laborai(df, args.xformla) for _ in range(args.repeat)),
              key=lambda r: r["seconds"])
    print(f"laborai: {lab['seconds']:.3f} s wall, {lab['cpu']:.3f} s CPU (best of {args.repeat})")

    base = None
    try:
        import csdid  # noqa: F401

        run_csdid(df.head(len(df) // args.reps), args.xformla)
        base = min((run_csdid(df, args.xformla) for _ in range(args.repeat)),
                   key=lambda r: r["seconds"])
    except ImportError:
        py = os.environ.get("CSDID_PYTHON", "/tmp/csdid-venv/bin/python")
        if Path(py).exists():
            cmd = [py, __file__, "--csdid-worker", "--reps", str(args.reps),
                   "--repeat", str(args.repeat)]
            if args.xformla:
                cmd += ["--xformla", args.xformla]
            env = dict(os.environ, LABORAI_DATA_DIR=str(data_dir()))
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
            if proc.returncode == 0:
                base = json.loads(proc.stdout.strip().splitlines()[-1])
            else:
                print("csdid worker failed:\n" + proc.stderr[-2000:])
    if base is None:
        print("csdid baseline not available. Install it in a separate environment:\n"
              "    python3 -m venv /tmp/csdid-venv && /tmp/csdid-venv/bin/pip install csdid\n"
              "then rerun (or set CSDID_PYTHON to that environment's python).")
        sys.exit(0)
    print(f"csdid:   {base['seconds']:.3f} s wall, {base['cpu']:.3f} s CPU (best of {args.repeat})")
    print(f"speed-up (csdid / laborai): {base['seconds'] / lab['seconds']:.1f}x wall, "
          f"{base['cpu'] / lab['cpu']:.1f}x CPU")
    print(f"max abs difference of all numbers: {max_abs_diff(lab, base):.3e}")


if __name__ == "__main__":
    main()
