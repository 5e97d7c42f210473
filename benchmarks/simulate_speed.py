"""Benchmark: ``simulate_marketplace`` and ``build_panel`` now against an earlier commit.

Times ``la.simulate_marketplace(seed=..., n_posts=300_000, text=...)`` and
``la.build_panel(m.job_posts, m.contracts)`` (the calls of ``analyses/frontier_designs.py``)
for the code in this checkout and for the code of ``--base`` (default ``cfc43d7``, the commit
before the speed-up), whose ``laborai/`` is exported with ``git archive`` into a temporary
folder. Each measurement runs in a fresh subprocess (warmed up on a small marketplace first);
old and new alternate, ``--reps`` times, and the minimum is reported. The outputs of the two
versions are checked to be identical (every column, dtype and ``attrs`` of posts, contracts,
truth and the panel, and ``params``) before the timings are printed.

Usage::

    python benchmarks/simulate_speed.py [--n-posts 300000] [--reps 3] [--base cfc43d7]
                                        [--text both|on|off] [--workdir /tmp/simulate_speed]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def worker(n_posts: int, seed: int, text: bool, out: Path, keep: bool) -> None:
    """Time one simulation and one panel build (after a warm-up) in this process."""
    import laborai as la

    warm = la.simulate_marketplace(seed=seed + 1, n_posts=5_000, text=text)
    la.build_panel(warm.job_posts, warm.contracts)
    t0 = time.perf_counter()
    m = la.simulate_marketplace(seed=seed, n_posts=n_posts, text=text)
    t1 = time.perf_counter()
    panel = la.build_panel(m.job_posts, m.contracts)
    t2 = time.perf_counter()
    res: dict[str, object] = {"simulate": t1 - t0, "build_panel": t2 - t1,
                              "n_posts": len(m.job_posts), "n_contracts": len(m.contracts),
                              "laborai": str(Path(la.__file__).parent)}
    if keep:
        with open(out.with_suffix(".pkl"), "wb") as f:
            pickle.dump({"job_posts": m.job_posts, "contracts": m.contracts, "truth": m.truth,
                         "params": dict(m.params), "panel": panel}, f, protocol=5)
    out.write_text(json.dumps(res))


def export_base(commit: str, dest: Path) -> Path:
    """``laborai/`` of ``commit`` (``git archive``) under ``dest``; returns the folder."""
    dest.mkdir(parents=True, exist_ok=True)
    tar = dest / "laborai.tar"
    with open(tar, "wb") as f:
        subprocess.run(["git", "-C", str(ROOT), "archive", commit, "laborai"], stdout=f,
                       check=True)
    with tarfile.open(tar) as t:
        t.extractall(dest, filter="data")
    tar.unlink()
    return dest


def run(code_root: Path, n_posts: int, seed: int, text: bool, out: Path, keep: bool) -> dict:
    env = dict(os.environ, PYTHONPATH=str(code_root), OMP_NUM_THREADS="1",
               PYTHONHASHSEED="0", TZ="UTC")
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker",
                    "--n-posts", str(n_posts), "--seed", str(seed), "--text",
                    "on" if text else "off", "--out", str(out)] + (["--keep"] if keep else []),
                   env=env, check=True, cwd=str(code_root))
    res = json.loads(out.read_text())
    expect = code_root / "laborai"
    if Path(str(res["laborai"])).resolve() != expect.resolve():
        raise RuntimeError(f"the worker imported {res['laborai']}, not {expect}")
    return res


def same_frame(a, b, what: str) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    pd.testing.assert_frame_equal(a, b, check_exact=True, obj=what)
    if list(map(str, a.dtypes)) != list(map(str, b.dtypes)):
        raise AssertionError(f"{what}: dtypes differ")
    if a.attrs != b.attrs:
        raise AssertionError(f"{what}: attrs differ: {a.attrs} != {b.attrs}")


def compare(old: Path, new: Path, label: str) -> None:
    with open(old, "rb") as f:
        a = pickle.load(f)
    with open(new, "rb") as f:
        b = pickle.load(f)
    for k in ("job_posts", "contracts", "truth", "panel"):
        same_frame(a[k], b[k], f"{label} {k}")
    if a["params"] != b["params"]:
        raise AssertionError(f"{label}: params differ")
    print(f"  {label}: outputs identical (job_posts {a['job_posts'].shape}, contracts "
          f"{a['contracts'].shape}, truth, panel {a['panel'].shape}, attrs, params)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-posts", type=int, default=300_000)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--base", default="cfc43d7")
    ap.add_argument("--text", choices=("both", "on", "off"), default="both")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.n_posts, args.seed, args.text == "on", args.out, args.keep)
        return
    work = args.workdir or Path(tempfile.mkdtemp(prefix="simulate_speed_"))
    work.mkdir(parents=True, exist_ok=True)
    base = export_base(args.base, work / "base")
    texts = {"both": (False, True), "on": (True,), "off": (False,)}[args.text]
    print(f"simulate_marketplace + build_panel, {args.n_posts:,} posts, seed {args.seed}: "
          f"this checkout vs {args.base}, min of {args.reps} (interleaved, fresh processes)")
    rows = []
    for text in texts:
        times: dict[str, list[dict]] = {"old": [], "new": []}
        for r in range(args.reps):
            for side, root in (("old", base), ("new", ROOT)):
                out = work / f"{side}_text{int(text)}_{r}.json"
                times[side].append(run(root, args.n_posts, args.seed, text, out, keep=r == 0))
        compare(work / f"old_text{int(text)}_0.pkl", work / f"new_text{int(text)}_0.pkl",
                f"text={text}")
        for fn in ("simulate", "build_panel"):
            old = min(float(t[fn]) for t in times["old"])
            new = min(float(t[fn]) for t in times["new"])
            rows.append((fn, text, old, new))
    print(f"\n{'function':<22}{'text':>6}{'old s':>9}{'new s':>9}{'speed-up':>10}")
    for fn, text, old, new in rows:
        name = "simulate_marketplace" if fn == "simulate" else fn
        print(f"{name:<22}{str(text):>6}{old:>9.3f}{new:>9.3f}{old / new:>9.2f}x")


if __name__ == "__main__":
    main()
