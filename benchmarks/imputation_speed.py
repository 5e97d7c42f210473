"""Speed benchmark: laborai ``did_imputation`` / ``did2s`` vs diff-diff and pyfixest.

Peers on the same data and specification (unit + period fixed effects, clustered by unit):

- diff-diff ``ImputationDiD`` (overall ATT, and ``aggregate='event_study'``) and
  ``TwoStageDiD`` (static), run in the peers environment ``build/peers-venv`` by subprocess
  (``--peer-worker``); ``PEERS_PYTHON`` overrides the interpreter;
- pyfixest ``did2s`` (static, a laborai dependency, run in this interpreter).

moderndid (0.2) offers neither estimator, so it is not timed.

Data: the reference panel of ``reference/imputation`` (180 units x 8 periods), R did2s's
``df_het`` (1,500 units x 31 years) and a simulated staggered panel (``--units`` x 20 periods,
default 5,000 units = 100,000 rows; cohorts 6/10/14 and never treated, heterogeneous effects).
Each fit is timed as the minimum wall time of ``--repeat`` runs in one process (imports and
data loading excluded). The script prints the times, the ratio peer / laborai (above 1 means
laborai is faster) and the largest absolute differences of the numbers (overall ATT and SE,
event-time estimates and SEs), and exits non-zero when the numbers disagree by more than 1e-6 (1e-4 for pyfixest, whose
fixed-effect demeaning is iterative).

Run: ``.venv/bin/python benchmarks/imputation_speed.py [--units 5000] [--repeat 3]``
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PEERS_PYTHON = os.environ.get("PEERS_PYTHON", str(ROOT / "build" / "peers-venv" / "bin" / "python"))


def data_dir() -> Path:
    env = os.environ.get("LABORAI_DATA_DIR")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def simulate(n_units: int, n_periods: int = 20, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.choice([0, 6, 10, 14], size=n_units)
    unit = np.repeat(np.arange(n_units), n_periods)
    t = np.tile(np.arange(1, n_periods + 1), n_units)
    gu = g[unit]
    d = (gu > 0) & (t >= gu)
    tau = np.where(d, 1.0 + 0.1 * (t - gu) + 0.02 * gu, 0.0)
    y = rng.normal(size=n_units)[unit] + 0.05 * t + tau + rng.normal(scale=1.0, size=unit.size)
    return pd.DataFrame({"unit": unit, "time": t, "g": gu, "y": y})


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


# ------------------------------------------------------------------------------ peers worker
def peer_worker(path: str, repeat: int) -> None:
    warnings.simplefilter("ignore")
    import diff_diff as dd

    df = pd.read_parquet(path)
    kw = {"outcome": "y", "unit": "unit", "time": "time", "first_treat": "g"}
    out: dict[str, Any] = {"version": dd.__version__}
    t, r = best(lambda: dd.ImputationDiD(cluster="unit").fit(df, **kw), repeat)
    out["imp_overall"] = {"time": t, "att": r.overall_att, "se": float(r.overall_se)}
    t, r = best(lambda: dd.ImputationDiD(cluster="unit").fit(df, **kw, aggregate="event_study"),
                repeat)
    es = {int(k): [float(v["effect"]), float(v["se"])] for k, v in r.event_study_effects.items()
          if int(k) >= 0}
    out["imp_es"] = {"time": t, "att": r.overall_att, "se": float(r.overall_se), "es": es}
    t, r = best(lambda: dd.TwoStageDiD(cluster="unit").fit(df, **kw), repeat)
    out["did2s"] = {"time": t, "att": r.overall_att, "se": float(r.overall_se)}
    print(json.dumps(out))


def run_peers(df: pd.DataFrame, repeat: int) -> dict[str, Any] | None:
    if not Path(PEERS_PYTHON).exists():
        print(f"  (peers interpreter {PEERS_PYTHON} not found: diff-diff not timed)")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "data.parquet")
        df.to_parquet(path)
        proc = subprocess.run([PEERS_PYTHON, __file__, "--peer-worker", path, "--repeat",
                               str(repeat)], capture_output=True, text=True, check=False,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
    if proc.returncode != 0:
        print("  diff-diff worker failed:", proc.stderr[-2000:])
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------ laborai side
def run_laborai(df: pd.DataFrame, repeat: int) -> dict[str, Any]:
    from laborai.did.imputation import did2s, did_imputation

    kw = {"yname": "y", "idname": "unit", "tname": "time", "gname": "g"}
    out: dict[str, Any] = {}
    t, r = best(lambda: did_imputation(df, **kw, event_study=False), repeat)
    out["imp_overall"] = {"time": t, "att": r.att, "se": r.att_se}
    t, r = best(lambda: did_imputation(df, **kw), repeat)
    tab = r.tidy()
    tab = tab[tab["estimand"] == "event_time"]
    es = {int(k): [float(a), float(b)] for k, a, b in
          zip(tab["event_time"], tab["estimate"], tab["std_error"], strict=True)}
    out["imp_es"] = {"time": t, "att": r.att, "se": r.att_se, "es": es}
    t, r = best(lambda: did2s(df, **kw), repeat)
    out["did2s"] = {"time": t, "att": r.att, "se": r.att_se}
    return out


def run_pyfixest(df: pd.DataFrame, repeat: int) -> dict[str, Any]:
    warnings.simplefilter("ignore")
    import pyfixest as pf

    d = df.assign(treat=((df["g"] > 0) & (df["time"] >= df["g"])).astype(int),
                  g=df["g"].astype(float))
    t, r = best(lambda: pf.did2s(d, yname="y", first_stage="~ 0 | unit + time",
                                 second_stage="~ i(treat, ref=0)", treatment="treat",
                                 cluster="unit"), repeat)
    return {"time": t, "att": float(r.coef().iloc[0]), "se": float(r.se().iloc[0]),
            "version": pf.__version__}


def diffs(a: dict[str, Any], b: dict[str, Any]) -> tuple[float, float]:
    """Largest absolute differences of the estimates and of the standard errors."""
    de = abs(a["att"] - b["att"])
    ds = abs(a["se"] - b["se"])
    ea = {int(k): v for k, v in a.get("es", {}).items()}
    eb = {int(k): v for k, v in b.get("es", {}).items()}
    if ea:
        if set(ea) != set(eb):
            return float("inf"), float("inf")
        de = max(de, *(abs(ea[k][0] - eb[k][0]) for k in ea))
        ds = max(ds, *(abs(ea[k][1] - eb[k][1]) for k in ea))
    return de, ds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=5_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--peer-worker", default=None)
    args = ap.parse_args()
    if args.peer_worker:
        peer_worker(args.peer_worker, args.repeat)
        return 0
    ref = data_dir() / "reference" / "imputation"
    het = pd.read_csv(ref / "did2s_df_het.csv.gz")
    datasets = {
        "reference panel (1,440 rows)": pd.read_csv(
            ref / "diffdiff_didimputation_test_panel.csv").rename(columns={"first_treat": "g"}),
        "did2s df_het (46,500 rows)": het.rename(columns={"dep_var": "y", "year": "time"})[
            ["unit", "time", "g", "y"]],
        f"simulated ({args.units:,} units x 20 = {args.units * 20:,} rows)": simulate(args.units),
    }
    ok = True
    rows = []
    for name, df in datasets.items():
        print(f"\n== {name}")
        lab = run_laborai(df, args.repeat)
        peers = run_peers(df, args.repeat)
        pfx = run_pyfixest(df, args.repeat)
        for key, label in (("imp_overall", "did_imputation, overall ATT"),
                           ("imp_es", "did_imputation, overall + event study"),
                           ("did2s", "did2s, static")):
            cands = []
            if peers is not None:
                cands.append((f"diff-diff {peers['version']}", peers[key]))
            if key == "did2s":
                cands.append((f"pyfixest {pfx['version']}", pfx))
            for peer, res in cands:
                de, ds = diffs(lab[key], res)
                # pyfixest demeans iteratively (tolerance ~1e-6 per step); the others are exact
                tol = 1e-4 if peer.startswith("pyfixest") else 1e-6
                agree = de < tol and ds < tol
                ok &= agree
                ratio = res["time"] / lab[key]["time"]
                rows.append((name, label, peer, lab[key]["time"], res["time"], ratio, de, ds))
                print(f"  {label:40s} laborai {lab[key]['time']:8.4f}s  {peer:16s} "
                      f"{res['time']:8.4f}s  ratio {ratio:6.2f}x  max|d est| {de:.1e}  "
                      f"max|d se| {ds:.1e}{'' if agree else '  DISAGREE'}")
    print("\n| data | estimator | peer | laborai (s) | peer (s) | peer / laborai | "
          "max abs diff est | max abs diff SE |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.4f} | {r[4]:.4f} | {r[5]:.2f} | "
              f"{r[6]:.1e} | {r[7]:.1e} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
