"""Speed benchmark: laborai ``sdid`` vs diff-diff's ``SyntheticDiD`` on California Prop 99.

The standard synthdid example (38 control states, California treated from 1989; the reference
file ``$LABORAI_DATA_DIR/reference/synthdid/california_prop99.csv``) with placebo standard
errors from ``--reps`` (default 50) replications and seed 0. In one run the script times

* laborai's ``la.did.sdid`` as it is now (the Frank-Wolfe loop compiled with numba),
* laborai's implementation before issue 16 (commit ``236fd19``, the pure-NumPy loop), loaded
  from ``git show 236fd19:laborai/did/sdid.py`` into a temporary module, and
* diff-diff's ``SyntheticDiD(variance_method="placebo")`` (Rust backend) in the separate
  environment ``build/peers-venv`` (override with ``PEERS_PYTHON``), by subprocess
  (``--peer-worker``),

each the minimum of ``--repeat`` (default 5) calls after one warm-up call (which also compiles
or loads the numba kernel), and prints the ratios. It checks that the new and old laborai
results are identical (estimate, placebo replicates, SE: bit for bit) and that diff-diff gives
the same estimate (to 1e-9) and a placebo SE within 1% (both draw the placebo assignments with
``numpy.random.default_rng(seed).permutation``; diff-diff warm-starts each draw's solver from
the full-sample weights and keeps the full-sample regularisation, as R synthdid does, while
laborai re-runs the whole estimator on each placebo panel, so the replicates differ slightly).

Run: ``.venv/bin/python benchmarks/sdid_speed.py [--reps 50] [--repeat 5] [--no-before]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BEFORE_COMMIT = "236fd19"
KW: dict[str, Any] = {"yname": "PacksPerCapita", "idname": "State", "tname": "Year", "dname": "treated"}


def peers_python() -> str:
    env = os.environ.get("PEERS_PYTHON")
    if env:
        return env
    return str(ROOT / "build" / "peers-venv" / "bin" / "python")


def data_path() -> Path:
    base = os.environ.get("LABORAI_DATA_DIR")
    if not base:
        raise SystemExit("set LABORAI_DATA_DIR (the shared data directory)")
    path = Path(base) / "reference" / "synthdid" / "california_prop99.csv"
    if not path.exists():
        raise SystemExit(f"reference file missing: {path}")
    return path


def timed(fn: Any, repeat: int) -> tuple[float, Any]:
    out = fn()  # warm-up
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def peer_worker(reps: int, repeat: int) -> None:
    """Runs in the peers venv: diff-diff's SyntheticDiD with placebo SEs."""
    warnings.simplefilter("ignore")
    import pandas as pd
    from diff_diff import SyntheticDiD

    df = pd.read_csv(data_path(), sep=";")
    post = sorted(df.loc[df["treated"] == 1, "Year"].unique().tolist())
    df["treated_unit"] = df.groupby("State")["treated"].transform("max")

    def run() -> Any:
        return SyntheticDiD(variance_method="placebo", n_bootstrap=reps, seed=0).fit(
            df, outcome="PacksPerCapita", treatment="treated_unit", unit="State", time="Year",
            post_periods=post)

    best, r = timed(run, repeat)
    import diff_diff

    print(json.dumps({"seconds": best, "estimate": float(r.att), "se": float(r.se),
                      "version": diff_diff.__version__}))


def load_before() -> Any:
    """laborai's sdid module as of commit 236fd19, imported from a temporary file."""
    src = subprocess.run(["git", "show", f"{BEFORE_COMMIT}:laborai/did/sdid.py"], cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    tmp = Path(tempfile.mkdtemp(prefix="sdid_before_")) / "_sdid_before.py"
    tmp.write_text(src)
    spec = importlib.util.spec_from_file_location("_sdid_before", tmp)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["_sdid_before"] = mod
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-before", action="store_true",
                    help="skip the pre-issue-16 implementation (about 6 s per call)")
    ap.add_argument("--peer-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.peer_worker:
        peer_worker(args.reps, args.repeat)
        return

    import pandas as pd

    import laborai as la

    df = pd.read_csv(data_path(), sep=";")

    def new() -> Any:
        return la.did.sdid(df, **KW, vcov="placebo", n_reps=args.reps, seed=0)

    t_new, r_new = timed(new, args.repeat)
    print(f"laborai sdid ({la.__version__}): {t_new:.3f} s  estimate {r_new.estimate:.10f}  "
          f"placebo SE {r_new.std_error:.6f}  ({args.reps} reps, min of {args.repeat})")

    t_old = float("nan")
    if not args.no_before:
        before = load_before()
        t_old, r_old = timed(lambda: before.sdid(df, **KW, se="placebo", n_reps=args.reps,
                                                 seed=0), args.repeat)
        same = (r_old.estimate == r_new.estimate and r_old.replicates == r_new.replicates
                and r_old.std_error == r_new.std_error)
        print(f"laborai before ({BEFORE_COMMIT}): {t_old:.3f} s  estimate "
              f"{r_old.estimate:.10f}  placebo SE {r_old.std_error:.6f}  "
              f"identical to now: {same}")
        if not same:
            raise SystemExit("the new and old implementations differ")

    proc = subprocess.run([peers_python(), __file__, "--peer-worker", "--reps", str(args.reps),
                           "--repeat", str(args.repeat)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if proc.returncode != 0:
        raise SystemExit(f"peer worker failed:\n{proc.stderr}")
    peer = json.loads(proc.stdout.strip().splitlines()[-1])
    d_est = abs(peer["estimate"] - r_new.estimate)
    d_se = abs(peer["se"] - r_new.std_error) / r_new.std_error
    print(f"diff-diff SyntheticDiD ({peer['version']}): {peer['seconds']:.3f} s  estimate "
          f"{peer['estimate']:.10f}  placebo SE {peer['se']:.6f}")
    print(f"estimate difference {d_est:.2e}; placebo SE relative difference {d_se:.2e}")
    if d_est > 1e-9 or d_se > 0.01:
        raise SystemExit("laborai and diff-diff disagree")
    print()
    print("| implementation | seconds | ratio to laborai now |")
    print("|---|---|---|")
    print(f"| laborai `sdid` (now) | {t_new:.3f} | 1.00 |")
    if not args.no_before:
        print(f"| laborai `sdid` before ({BEFORE_COMMIT}) | {t_old:.3f} | {t_old / t_new:.1f} |")
    print(f"| diff-diff `SyntheticDiD` {peer['version']} | {peer['seconds']:.3f} | "
          f"{peer['seconds'] / t_new:.2f} |")


if __name__ == "__main__":
    main()
