"""Speed benchmark: laborai ``honest`` (HonestDiD) before/after issue 16 and against moderndid.

Three parts, in one run:

1. **Vignette** -- the Medicaid-expansion event study of the HonestDiD README (5 pre-, 2
   post-periods; ``$LABORAI_DATA_DIR/reference/honestdid/ehec_data.csv``, fitted with pyfixest):
   smoothness (FLCI, ``M = 0, 0.01, ..., 0.05``) and relative magnitudes (C-LF,
   ``Mbar = 0.5, 1, 1.5, 2``), laborai against moderndid's
   ``create_sensitivity_results_sm`` / ``_rm`` on the same ``betahat`` and ``sigma``; the bounds
   are compared (both follow R's HonestDiD, which is a grid method for C-LF: differences up to
   a grid step are expected), and ``breakdown()`` is timed.
2. **Many post-periods** -- an event study with 4 pre- and 12 post-periods (AR(1) covariance,
   target: the average post-period effect, as ``compare_estimators`` uses it): smoothness on
   the default 10-value grid and relative magnitudes on ``compare_estimators``' grid
   ``0, 0.25, ..., 2``, each with ``breakdown()``; and relative magnitudes with 8 post-periods,
   the largest the implementation before issue 16 handled in reasonable time (it refuses 12:
   ``C(24, 12)`` = 2.7 million dual bases).
3. **Before/after** -- the same calls with laborai's implementation before issue 16 (commit
   ``236fd19``: ``honest.py`` and ``_honest_kernels.py`` from ``git show`` loaded as temporary
   modules); intervals must be identical (largest difference printed) and breakdown values
   agree within their tolerance.

laborai timings are the minimum of ``--repeat`` (default 5) calls after a warm-up call; the
"before" implementation and moderndid's relative-magnitude call (about 100 s) run
``--slow-repeat`` times (default 1) without warm-up, after the same process has run the other
calls (imports paid). moderndid's HonestDiD needs its ``didhonest`` extra (cvxpy), which is not
in ``build/peers-venv``; point ``--moderndid-python`` (or ``MODERNDID_PYTHON``) at an
environment that has it, e.g. a venv with a ``.pth`` file adding the peers venv's
site-packages plus ``pip install 'cvxpy[ecos]'``. Without it the peer part is skipped.

Run: ``.venv/bin/python benchmarks/honest_speed.py [--repeat 5] [--slow-repeat 1] [--no-peer]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BEFORE_COMMIT = "236fd19"
SD_M = [0.0, 0.01, 0.02, 0.03, 0.04, 0.05]
RM_MBAR = [0.5, 1.0, 1.5, 2.0]
COMPARE_GRID = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0]


def moderndid_python() -> str:
    env = os.environ.get("MODERNDID_PYTHON") or os.environ.get("PEERS_PYTHON")
    if env:
        return env
    return str(ROOT / "build" / "peers-venv" / "bin" / "python")


def medicaid() -> dict[str, Any]:
    """The README event study: dins on i(year, D, ref=2013), state and year FE, CRV1 state."""
    import pandas as pd
    import pyfixest as pf

    base = os.environ.get("LABORAI_DATA_DIR")
    if not base:
        raise SystemExit("set LABORAI_DATA_DIR (the shared data directory)")
    path = Path(base) / "reference" / "honestdid" / "ehec_data.csv"
    if not path.exists():
        raise SystemExit(f"reference file missing: {path}")
    df = pd.read_csv(path)
    d = df[(df["year"] < 2016) & ~(df["yexp2"] == 2015)].copy()
    d["D"] = (d["yexp2"] == 2014).astype(int)
    fit = pf.feols("dins ~ i(year, D, ref=2013) | stfips + year", d, vcov={"CRV1": "stfips"})
    return {"betahat": fit.coef().to_numpy(), "sigma": np.asarray(fit._vcov, dtype=float),
            "num_pre_periods": 5, "num_post_periods": 2}


def many_post(n_pre: int, n_post: int, seed: int = 1) -> dict[str, Any]:
    """Event study with AR(1) (rho 0.5) covariance, small pre-trends, growing effects."""
    n = n_pre + n_post
    lags = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    sigma = 1e-4 * 0.5 ** lags
    rng = np.random.default_rng(seed)
    beta = np.concatenate([rng.normal(scale=0.005, size=n_pre),
                           0.03 + 0.004 * np.arange(n_post)])
    return {"betahat": beta, "sigma": sigma, "num_pre_periods": n_pre,
            "num_post_periods": n_post}


def timed(fn: Any, repeat: int, warm: bool = True) -> tuple[float, Any]:
    out = fn() if warm else None
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def peer_worker(path: str, repeat: int, slow_repeat: int) -> None:
    """Runs in an environment with moderndid[didhonest]: the vignette's SD and RM calls."""
    warnings.simplefilter("ignore")
    import moderndid as md

    j = json.loads(Path(path).read_text())
    b, s = np.asarray(j["betahat"]), np.asarray(j["sigma"])
    t_sd, r_sd = timed(lambda: md.create_sensitivity_results_sm(b, s, 5, 2, m_vec=SD_M), repeat)
    t_rm, r_rm = timed(lambda: md.create_sensitivity_results_rm(b, s, 5, 2, m_bar_vec=RM_MBAR),
                       slow_repeat, warm=False)
    print(json.dumps({
        "version": md.__version__, "sd_seconds": t_sd, "rm_seconds": t_rm,
        "sd_lb": r_sd["lb"].to_list(), "sd_ub": r_sd["ub"].to_list(),
        "rm_lb": r_rm["lb"].to_list(), "rm_ub": r_rm["ub"].to_list(),
    }))


def load_before() -> Any:
    """laborai's honest module (and its kernels) as of commit 236fd19, from temporary files."""
    tmp = Path(tempfile.mkdtemp(prefix="honest_before_"))
    mods = {}
    for name, src_path in (("_honest_kernels_before", "laborai/did/_honest_kernels.py"),
                           ("_honest_before", "laborai/did/honest.py")):
        src = subprocess.run(["git", "show", f"{BEFORE_COMMIT}:{src_path}"], cwd=ROOT,
                             check=True, capture_output=True, text=True).stdout
        src = src.replace("from laborai.did import _honest_kernels as _k",
                          "import _honest_kernels_before as _k")
        file = tmp / f"{name}.py"
        file.write_text(src)
        spec = importlib.util.spec_from_file_location(name, file)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        mods[name] = mod
    return mods["_honest_before"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--slow-repeat", type=int, default=1)
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--no-before", action="store_true")
    ap.add_argument("--moderndid-python", default=None)
    ap.add_argument("--peer-worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.peer_worker:
        peer_worker(args.peer_worker, args.repeat, args.slow_repeat)
        return

    import laborai as la

    warnings.simplefilter("ignore")
    rows: list[tuple[str, str, float, float]] = []  # (case, call, after s, before s)
    diffs: list[tuple[str, float, float, float]] = []  # (case, CI diff, breakdown diff, tol)
    before = None if args.no_before else load_before()

    def bench(case: str, kw: dict[str, Any], can_before: bool = True) -> Any:
        t_fit, res = timed(lambda: la.did.honest(**kw), args.repeat)
        t_bd, bd = timed(res.breakdown, args.repeat)
        tb_fit = tb_bd = math.nan
        if before is not None and can_before:
            tb_fit, old = timed(lambda: before.honest(**kw), args.slow_repeat, warm=False)
            tb_bd, bd_old = timed(old.breakdown, args.slow_repeat, warm=False)
            ci = float(np.max(np.abs(np.r_[res.conf_low, res.conf_high]
                                     - np.r_[old.conf_low, old.conf_high])))
            # the default tolerance of breakdown(): a fraction of the final bracket's upper end
            rel = 1e-4 if kw.get("method", "relative_magnitude") == "relative_magnitude" else 1e-7
            top = max(res.m)
            while top < bd:
                top *= 2
            diffs.append((case, ci, abs(bd - bd_old), rel * top))
        rows.append((case, "honest()", t_fit, tb_fit))
        rows.append((case, "breakdown()", t_bd, tb_bd))
        print(f"{case}: honest {t_fit:.3f} s (before {tb_fit:.3f} s), breakdown {t_bd:.3f} s "
              f"(before {tb_bd:.3f} s) = {bd:.6g}", flush=True)
        return res

    med = medicaid()
    sd_v = bench("vignette SD (6 M)", {**med, "method": "smoothness", "grid": SD_M})
    rm_v = bench("vignette RM (4 Mbar)", {**med, "method": "relative_magnitude", "grid": RM_MBAR})

    for n_post, can_before in ((12, False), (8, True)):
        m = many_post(4, n_post)
        avg = np.full(n_post, 1.0 / n_post)
        bench(f"4 pre / {n_post} post RM (7 Mbar)",
              {**m, "method": "relative_magnitude", "grid": COMPARE_GRID, "l_vec": avg},
              can_before=can_before)
    m12 = many_post(4, 12)
    bench("4 pre / 12 post SD (10 M)", {**m12, "method": "smoothness",
                                         "l_vec": np.full(12, 1.0 / 12)})
    bench("12 pre / 12 post SD (10 M)", {**many_post(12, 12), "method": "smoothness"})
    if before is not None:
        try:
            before.honest(**m12, method="relative_magnitude", grid=[1.0],
                          l_vec=np.full(12, 1.0 / 12))
            print("before, 12 post RM: ran")
        except Exception as exc:  # report what the old code did
            print(f"before, 4 pre / 12 post RM: {type(exc).__name__}: {exc}")

    peer: dict[str, Any] | None = None
    if not args.no_peer:
        py = args.moderndid_python or moderndid_python()
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
            json.dump({"betahat": med["betahat"].tolist(), "sigma": med["sigma"].tolist()}, fh)
        proc = subprocess.run([py, __file__, "--peer-worker", fh.name, "--repeat",
                               str(min(args.repeat, 3)), "--slow-repeat",
                               str(args.slow_repeat)], capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"moderndid worker failed ({py}); peer part skipped:\n"
                  f"{proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ''}")
        else:
            peer = json.loads(proc.stdout.strip().splitlines()[-1])

    print()
    print("| case | call | laborai now (s) | laborai before (s) | before / now |")
    print("|---|---|---:|---:|---:|")
    for case, call, t_new, t_old in rows:
        ratio = f"{t_old / t_new:.1f}" if math.isfinite(t_old) else "-"
        old = f"{t_old:.3f}" if math.isfinite(t_old) else "-"
        print(f"| {case} | {call} | {t_new:.3f} | {old} | {ratio} |")
    if diffs:
        print()
        print("| case | largest CI difference now vs before | breakdown difference | "
              "breakdown tolerance |")
        print("|---|---:|---:|---:|")
        for case, ci, dbd, tol in diffs:
            print(f"| {case} | {ci:.1e} | {dbd:.1e} | {tol:.1e} |")
    if peer is not None:
        t_sd = next(t for c, call, t, _ in rows if c.startswith("vignette SD") and
                    call == "honest()")
        t_rm = next(t for c, call, t, _ in rows if c.startswith("vignette RM") and
                    call == "honest()")
        d_sd = float(np.max(np.abs(np.r_[sd_v.conf_low, sd_v.conf_high]
                                   - np.r_[peer["sd_lb"], peer["sd_ub"]])))
        d_rm = float(np.max(np.abs(np.r_[rm_v.conf_low, rm_v.conf_high]
                                   - np.r_[peer["rm_lb"], peer["rm_ub"]])))
        print()
        print(f"| vignette | laborai (s) | moderndid {peer['version']} (s) | ratio | "
              "largest bound difference |")
        print("|---|---:|---:|---:|---:|")
        print(f"| SD, FLCI, 6 M | {t_sd:.3f} | {peer['sd_seconds']:.3f} | "
              f"{peer['sd_seconds'] / t_sd:.0f}x | {d_sd:.1e} |")
        print(f"| RM, C-LF, 4 Mbar | {t_rm:.3f} | {peer['rm_seconds']:.3f} | "
              f"{peer['rm_seconds'] / t_rm:.0f}x | {d_rm:.1e} |")
        if d_sd > 1e-3 or d_rm > 2e-3:
            raise SystemExit("laborai and moderndid disagree on the vignette")
    for case, ci, dbd, tol in diffs:
        if ci > 1e-8 or dbd > tol:
            raise SystemExit(f"{case}: the new and old implementations differ")


if __name__ == "__main__":
    main()
