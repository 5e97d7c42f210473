"""Speed benchmark: laborai ``cont_did`` vs moderndid ``cont_did`` and diff-diff ``ContinuousDiD``.

Specification (the R contdid README call): dose aggregation, not-yet-treated comparisons, cubic
B-spline with one interior knot, default 90-point dose grid. Data: the reference panel behind
the contdid README (5,000 units x 4 periods) and a simulated staggered panel of 50,000 units x
5 periods (cohorts 3, 4, 5 and never treated, dose response ``1 + 2 d^2``).

laborai is timed with analytic (influence-function) standard errors and no bootstrap, and with
the 999-draw multiplier bootstrap for the uniform bands (its default). moderndid is timed with
``boot=False`` and with its bootstrap (1,000 draws), diff-diff with ``n_bootstrap=0``
(analytic) and 999 draws. The peers are not laborai dependencies: they live in
``build/peers-venv`` (override with ``PEERS_PYTHON``) and run there in a subprocess on the same
CSV file. Every timing is the minimum of ``--repeat`` runs in the same process; the script
prints the times, the ratios peer / laborai, and the largest absolute difference of ATT^o and
ACRT^o between laborai and each peer (they must agree to 1e-8).

moderndid 0.2.0 fails with polars >= 2 (``'is_in' cannot check for Float64 values``); point
``PEERS_PYTHONPATH`` at a directory holding ``polars<2`` (``pip install --target DIR
'polars<2'``) to run it. moderndid's ACRT^o differs from R's and laborai's (by 1e-3 on the
README data); its ATT^o agrees.

Run: ``.venv/bin/python benchmarks/cont_did_speed.py [--repeat 3] [--n 50000]``
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
PEERS = os.environ.get("PEERS_PYTHON", str(ROOT / "build" / "peers-venv" / "bin" / "python"))

WORKER = r"""
import json, sys, time, warnings
import pandas as pd
warnings.filterwarnings("ignore")
path, repeat = sys.argv[1], int(sys.argv[2])
df = pd.read_csv(path)
out = {}

def timed(fn):
    best, res = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = fn()
        best = min(best, time.perf_counter() - t0)
    return best, res

try:
    import moderndid
    def md(boot):
        return moderndid.cont_did(df, yname="Y", tname="time_period", idname="id", gname="G",
                                  dname="D", target_parameter="slope", aggregation="dose",
                                  control_group="notyettreated", degree=3, num_knots=1,
                                  boot=boot, biters=1000, random_state=0)
    for boot in (False, True):
        t, r = timed(lambda: md(boot))
        out[f"moderndid_boot{int(boot)}"] = {"time": t, "att": float(r.overall_att),
                                             "acrt": float(r.overall_acrt)}
except Exception as exc:  # noqa: BLE001
    out["moderndid_error"] = repr(exc)
try:
    import diff_diff
    def dd(nb):
        est = diff_diff.ContinuousDiD(degree=3, num_knots=1, control_group="not_yet_treated",
                                      n_bootstrap=nb, seed=0)
        return est.fit(df, outcome="Y", unit="id", time="time_period", first_treat="G",
                       dose="D")
    for nb in (0, 999):
        t, r = timed(lambda: dd(nb))
        out[f"diffdiff_boot{int(nb > 0)}"] = {"time": t, "att": float(r.overall_att),
                                               "acrt": float(r.overall_acrt)}
except Exception as exc:  # noqa: BLE001
    out["diffdiff_error"] = repr(exc)
print("JSON" + json.dumps(out))
"""


def data_dir() -> Path:
    env = os.environ.get("LABORAI_DATA_DIR")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def simulate(n: int, seed: int = 0, T: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.choice([0, 3, 4, 5], n)
    d = np.where(g > 0, rng.uniform(0.05, 1.0, n), 0.0)
    t = np.arange(1, T + 1)
    eff = (g[:, None] > 0) & (t[None, :] >= g[:, None])
    y = (rng.normal(size=n)[:, None] + 0.3 * t[None, :] + eff * (1 + 2 * d**2)[:, None]
         + rng.normal(0, 1, (n, T)))
    return pd.DataFrame({"id": np.repeat(np.arange(1, n + 1), T), "time_period": np.tile(t, n),
                         "G": np.repeat(g, T), "D": np.repeat(d, T), "Y": y.ravel()})


def run_laborai(df: pd.DataFrame, repeat: int) -> dict[str, Any]:
    from laborai.did.contdid import cont_did

    out: dict[str, Any] = {}
    for name, kw in (("laborai_analytic", {"cband": False}),
                     ("laborai_boot", {"cband": True, "n_boot": 999})):
        best, res = float("inf"), None
        for _ in range(repeat):
            t0 = time.perf_counter()
            res = cont_did(df, yname="Y", tname="time_period", idname="id", gname="G",
                           dname="D", degree=3, num_knots=1, **kw)
            best = min(best, time.perf_counter() - t0)
        assert res is not None
        out[name] = {"time": best, "att": res.overall_att, "acrt": res.overall_acrt}
    return out


def run_peers(df: pd.DataFrame, repeat: int) -> dict[str, Any]:
    if not Path(PEERS).exists():
        return {"error": f"peer interpreter {PEERS} not found"}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "panel.csv"
        df.to_csv(path, index=False, float_format="%.17g")
        env = dict(os.environ)
        if os.environ.get("PEERS_PYTHONPATH"):  # e.g. a polars<2 for moderndid 0.2.0
            env["PYTHONPATH"] = os.environ["PEERS_PYTHONPATH"]
        proc = subprocess.run([PEERS, "-c", WORKER, str(path), str(repeat)], capture_output=True,
                              text=True, check=False, env=env)
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("JSON")]
    if not line:
        return {"error": proc.stderr[-2000:]}
    return json.loads(line[-1][4:])  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--n", type=int, default=50_000)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    sets = {
        "contdid README (5,000 x 4)":
            pd.read_csv(data_dir() / "reference" / "contdid"
                        / "contdid_readme_sim_seed1234_n5000_T4.csv"),
        f"simulated ({args.n:,} x 5)": simulate(args.n),
    }
    for label, df in sets.items():
        ours = run_laborai(df, args.repeat)
        peers = run_peers(df, args.repeat)
        print(f"\n== {label}")
        for k, v in ours.items():
            print(f"  {k:20s} {v['time']:8.3f} s   ATT^o={v['att']:.10f} ACRT^o={v['acrt']:.10f}")
        base_a = ours["laborai_analytic"]
        base_b = ours["laborai_boot"]
        for k, v in peers.items():
            if not isinstance(v, dict):
                print(f"  {k}: {v}")
                continue
            ref = base_b if k.endswith("boot1") else base_a
            da, dc = abs(v["att"] - ref["att"]), abs(v["acrt"] - ref["acrt"])
            print(f"  {k:20s} {v['time']:8.3f} s   ratio peer/laborai = "
                  f"{v['time'] / ref['time']:7.1f}   |diff| ATT^o {da:.1e}, ACRT^o {dc:.1e}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
