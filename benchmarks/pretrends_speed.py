"""Speed benchmark: laborai ``pretrends_power`` vs diff-diff's ``compute_pretrends_power``.

For event studies with 3, 5 and 8 pre-periods (and 4 post-periods) a peer worker simulates a
panel (200 units, one adoption date, half of the units treated), fits diff-diff's
``MultiPeriodDiD`` event study and times ``compute_pretrends_power(results, M=slope,
target_power=0.5)`` -- the power of the no-individually-significant pre-test against the linear
trend ``slope * t`` and the minimum detectable slope at 50% power. laborai's
``pretrends_power`` then runs on exactly the same pre-period coefficients and covariance, with
the same threshold (``norm.ppf(0.975)``, diff-diff's convention; laborai's default is R's 1.96),
and the script prints both wall times (minimum of ``--repeat`` runs in one process, after one
warm-up call), their ratio and the largest differences of power and slope. laborai's call also
computes the size, the Bayes factor, the likelihood ratio and the means after pre-testing,
which diff-diff does not.

diff-diff is not a laborai dependency: it is installed in the separate environment
``build/peers-venv`` (override with ``PEERS_PYTHON``), where the worker runs
(``--peer-worker``). moderndid (also installed there) has no pre-trend power function.

Run: ``.venv/bin/python benchmarks/pretrends_speed.py [--repeat 5] [--slope 0.05]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

N_PRE = (3, 5, 8)
N_POST = 4
N_UNITS = 200


def peers_python() -> str:
    env = os.environ.get("PEERS_PYTHON")
    if env:
        return env
    return str(Path(__file__).resolve().parents[1] / "build" / "peers-venv" / "bin" / "python")


def panel(n_pre: int, seed: int) -> Any:
    """Balanced panel: periods 0..n_pre+N_POST, treatment from period n_pre + 1 (half the units),
    unit effects, a common trend and serially correlated noise."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    periods = n_pre + 1 + N_POST
    rows = []
    for i in range(N_UNITS):
        tr = int(i < N_UNITS // 2)
        a = rng.normal()
        e = 0.0
        for t in range(periods):
            e = 0.5 * e + rng.normal(scale=0.5)
            rows.append((i, t, tr, a + 0.1 * t + 0.3 * tr * (t > n_pre) + e))
    return pd.DataFrame(rows, columns=["unit", "t", "treated", "y"])


def peer_worker(repeat: int, slope: float) -> None:
    """Runs in the peers venv: fit diff-diff's event study, time its pre-trend power."""
    warnings.simplefilter("ignore")
    from diff_diff import MultiPeriodDiD
    from diff_diff.pretrends import compute_pretrends_power

    out = []
    for k in N_PRE:
        d = panel(k, seed=100 + k)
        res = MultiPeriodDiD().fit(d, outcome="y", treatment="treated", time="t",
                                   post_periods=list(range(k + 1, k + 1 + N_POST)), unit="unit")
        p = compute_pretrends_power(res, M=slope, target_power=0.5)  # warm-up
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            p = compute_pretrends_power(res, M=slope, target_power=0.5)
            times.append(time.perf_counter() - t0)
        out.append({"n_pre": k, "seconds": min(times), "power": float(p.power),
                    "mdv": float(p.mdv), "effects": np.asarray(p.pre_period_effects).tolist(),
                    "vcov": np.asarray(p.vcov).tolist(), "pre_periods": [int(x) for x in res.pre_periods],
                    "reference_period": int(res.reference_period),
                    "covariance_source": p.covariance_source})
    print(json.dumps(out))


def run_laborai(case: dict[str, Any], repeat: int, slope: float) -> dict[str, Any]:
    from scipy import stats

    from laborai.did.pretrends import pretrends_power

    pre = [p for p in case["pre_periods"] if p != case["reference_period"]]
    kw = {"betahat": case["effects"], "sigma": case["vcov"], "event_times": pre,
          "ref": int(case["reference_period"]), "slope": slope, "target_power": 0.5,
          "threshold": float(stats.norm.ppf(0.975))}
    res = pretrends_power(**kw)  # warm-up (the Sobol' points are cached per process)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = pretrends_power(**kw)
        times.append(time.perf_counter() - t0)
    return {"seconds": min(times), "power": res.power, "slope": res.slope_for_power,
            "error": res.integration_error}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--slope", type=float, default=0.05)
    ap.add_argument("--peer-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.peer_worker:
        peer_worker(args.repeat, args.slope)
        return
    py = peers_python()
    if not Path(py).exists():
        sys.exit(f"peers environment not found: {py} (set PEERS_PYTHON)")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent))
    proc = subprocess.run([py, "-c", "import sys; sys.argv=['w','--peer-worker','--repeat',"
                           f"'{args.repeat}','--slope','{args.slope}']; "
                           "import pretrends_speed as m; m.main()"],
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode:
        sys.exit(f"diff-diff worker failed:\n{proc.stderr[-2000:]}")
    peer = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"pretrends power + slope for 50% power, linear trend slope {args.slope}; "
          f"min of {args.repeat} runs")
    print(f"{'pre-periods':>11} {'laborai s':>10} {'diff-diff s':>12} {'ratio':>7} "
          f"{'|d power|':>10} {'|d slope|':>10} {'laborai err':>12}")
    for case in peer:
        ours = run_laborai(case, args.repeat, args.slope)
        ratio = case["seconds"] / ours["seconds"]
        dp = abs(ours["power"] - case["power"])
        ds = abs(ours["slope"] - case["mdv"])
        print(f"{case['n_pre']:>11} {ours['seconds']:>10.4f} {case['seconds']:>12.4f} "
              f"{ratio:>6.1f}x {dp:>10.1e} {ds:>10.1e} {ours['error']:>12.1e}")
        if dp > 1e-4 or ds > 1.5e-4:
            print(f"    numbers disagree: laborai {ours}, diff-diff power {case['power']}, "
                  f"mdv {case['mdv']}")


if __name__ == "__main__":
    main()
