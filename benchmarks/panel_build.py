"""Benchmark: build the category x value-tier x month panel from 10 million posts in Parquet.

Compares, in the same run and on the same files:

(a) ``laborai.build_panel`` on the Parquet paths (DuckDB aggregates where the data lie);
(b) the baseline: a plain pandas ``read_parquet`` of the needed columns + ``groupby`` (the
    same outputs: posts, AI posts and value by unit x month; contracts and earnings by the
    post's unit x start month; balanced grid with explicit zeros).

Each side runs in a fresh subprocess so that its wall time and peak resident memory
(``ru_maxrss``) are its own. The two panels are checked for equality before timings are printed.

Usage::

    python benchmarks/panel_build.py [--posts 10000000] [--workdir build/bench_panel]

The simulated Parquet data are written once and reused if already present.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

CHUNK = 1_000_000


def write_data(workdir: Path, n_posts: int) -> None:
    """Write ``n_posts`` simulated posts (and their contracts) as Parquet, 1M posts per file."""
    import laborai as la

    done = workdir / f"DONE_{n_posts}"
    if done.exists():
        return
    for sub in ("posts", "contracts"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
        for f in (workdir / sub).glob("*.parquet"):
            f.unlink()
    n_chunks = max(1, round(n_posts / CHUNK))
    for k in range(n_chunks):
        m = la.simulate_marketplace(seed=1000 + k, n_posts=n_posts // n_chunks)
        posts = m.job_posts.assign(post_id=f"{k:02d}-" + m.job_posts["post_id"])
        cons = m.contracts.assign(post_id=f"{k:02d}-" + m.contracts["post_id"],
                                  contract_id=f"{k:02d}-" + m.contracts["contract_id"])
        posts.to_parquet(workdir / "posts" / f"part-{k:02d}.parquet", index=False)
        cons.to_parquet(workdir / "contracts" / f"part-{k:02d}.parquet", index=False)
        print(f"  wrote chunk {k + 1}/{n_chunks}: {len(posts):,} posts, {len(cons):,} contracts",
              flush=True)
    done.write_text("ok\n")


def run_laborai(workdir: Path, out: Path) -> None:
    import laborai as la

    panel = la.build_panel(str(workdir / "posts" / "*.parquet"),
                           str(workdir / "contracts" / "*.parquet"), flags=["is_ai"])
    panel.to_parquet(out)


def run_pandas(workdir: Path, out: Path) -> None:
    import numpy as np
    import pandas as pd

    posts = pd.read_parquet(workdir / "posts",
                            columns=["post_id", "posted_date", "category", "contract_value_usd",
                                     "is_ai"])
    posts["value_tier"] = np.where(posts["contract_value_usd"] <= 1000.0, "low", "high")
    posts["period"] = posts["posted_date"].dt.to_period("M").dt.start_time
    agg = posts.groupby(["category", "value_tier", "period"], as_index=False).agg(
        n_posts=("post_id", "size"), n_ai_posts=("is_ai", "sum"),
        value_total=("contract_value_usd", "sum"))
    cons = pd.read_parquet(workdir / "contracts", columns=["post_id", "start_date", "earnings_usd"])
    cons = cons.merge(posts[["post_id", "category", "value_tier"]], on="post_id", how="inner")
    cons["period"] = cons["start_date"].dt.to_period("M").dt.start_time
    lo, hi = posts["period"].min(), posts["period"].max()
    cons = cons[(cons["period"] >= lo) & (cons["period"] <= hi)]
    cagg = cons.groupby(["category", "value_tier", "period"], as_index=False).agg(
        n_contracts=("post_id", "size"), earnings_total=("earnings_usd", "sum"))
    units = agg[["category", "value_tier"]].drop_duplicates()
    grid = units.merge(pd.DataFrame({"period": pd.date_range(lo, hi, freq="MS")}), how="cross")
    panel = grid.merge(agg, how="left").merge(cagg, how="left")
    for c in ("n_posts", "n_ai_posts", "n_contracts"):
        panel[c] = panel[c].fillna(0).astype("int64")
    for c in ("value_total", "earnings_total"):
        panel[c] = panel[c].fillna(0.0)
    panel.sort_values(["category", "value_tier", "period"]).to_parquet(out)


def child(which: str, workdir: Path, out: Path) -> None:
    # Import outside the timer: the benchmark measures building the panel, not start-up.
    import pandas  # noqa: F401

    if which == "laborai":
        import laborai  # noqa: F401
    t0 = time.perf_counter()
    (run_laborai if which == "laborai" else run_pandas)(workdir, out)
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"which": which, "wall_s": wall, "peak_mb": peak_mb}))


def measure(which: str, workdir: Path) -> dict[str, float]:
    out = workdir / f"panel_{which}.parquet"
    res = subprocess.run([sys.executable, __file__, "--child", which, "--workdir", str(workdir)],
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1]) | {"out": str(out)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=10_000_000)
    ap.add_argument("--workdir", default="build/bench_panel")
    ap.add_argument("--repeat", type=int, default=2, help="timed runs of each side (best kept)")
    ap.add_argument("--child", choices=["laborai", "pandas"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    workdir = Path(args.workdir)
    if args.child:
        child(args.child, workdir, workdir / f"panel_{args.child}.parquet")
        return 0

    import pandas as pd

    print(f"Writing {args.posts:,} simulated posts to Parquet in {workdir} (cached) ...", flush=True)
    write_data(workdir, args.posts)
    results = {}
    for which in ("pandas", "laborai"):
        runs = [measure(which, workdir) for _ in range(args.repeat)]
        results[which] = min(runs, key=lambda r: r["wall_s"])
        results[which]["peak_mb"] = max(r["peak_mb"] for r in runs)

    a = pd.read_parquet(results["laborai"]["out"])
    b = pd.read_parquet(results["pandas"]["out"])
    cols = ["n_posts", "n_ai_posts", "n_contracts", "value_total", "earnings_total"]
    a = a.sort_values(["category", "value_tier", "period"]).reset_index(drop=True)
    b = b.sort_values(["category", "value_tier", "period"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[cols], b[cols], check_dtype=False, rtol=1e-9)
    n_total = int(a["n_posts"].sum())

    pa, la_ = results["pandas"], results["laborai"]
    print(f"\nPanel from {n_total:,} posts ({len(a):,} unit-months); panels identical: yes")
    print(f"{'method':<34}{'wall (s)':>10}{'peak RSS (MB)':>15}")
    print(f"{'pandas read_parquet + groupby':<34}{pa['wall_s']:>10.2f}{pa['peak_mb']:>15.0f}")
    print(f"{'laborai.build_panel (DuckDB)':<34}{la_['wall_s']:>10.2f}{la_['peak_mb']:>15.0f}")
    print(f"speed-up vs pandas baseline: {pa['wall_s'] / la_['wall_s']:.1f}x; "
          f"memory ratio: {pa['peak_mb'] / la_['peak_mb']:.1f}x less")
    return 0


if __name__ == "__main__":
    sys.exit(main())
