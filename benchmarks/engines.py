"""Benchmark: ``build_panel`` on DuckDB and on local Spark at 10M, 50M and 200M posts, one run.

The data are streamed to disk, never held in memory at once: one simulated marketplace of
``--chunk`` posts (seed 11) is written as Parquet (microsecond timestamps, as Spark needs),
and ``k`` copies of it, each with its ``post_id`` and ``contract_id`` prefixed by the copy's
number (so ids stay unique), make the larger inputs. A 200M-post input is 40 files of 5M
posts: the file layout a data lake would have. Because every copy is the same marketplace,
the panel of ``k`` copies has exactly ``k`` times the counts and money sums of one copy: a
check of the engines that does not depend on either of them.

Each (size, engine) is timed in a fresh child process, so its peak memory is its own:

* DuckDB: ``la.build_panel(posts_glob, contracts_glob)`` — peak resident memory of the child;
* Spark: a ``local[2]`` session (UI off, :func:`laborai._spark.local_session`), then
  ``la.build_panel(..., engine="spark")`` — wall time of the call (session start reported
  apart), peak memory of the Python child and of Spark's JVM (VmHWM).

Both panels are written to Parquet by the children; the parent checks that they are identical
(exact ``assert_frame_equal``) and that the counts are ``k`` times the one-copy counts, prints
a table of wall time, peak memory, throughput and growth with rows, and (``--cost``) the
arithmetic of a 5-billion-row cluster run from the measured Spark throughput.

Usage::

    python benchmarks/engines.py [--sizes 10,50,200] [--chunk 5000000] [--workdir build/bench_engines]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from spark_panel import jvm_peak_mb, peak_mb, write_data  # same folder: run as a script


def write_base(workdir: Path, chunk: int) -> tuple[Path, Path]:
    """One simulated marketplace of ``chunk`` posts as Parquet (cached; spark_panel's files)."""
    posts, cons = write_data(workdir / "base", chunk)
    return Path(posts), Path(cons)


def write_copies(workdir: Path, chunk: int, n_copies: int) -> None:
    """Copies 0..n_copies-1 of the base files with prefixed ids (DuckDB COPY, streamed)."""
    import duckdb

    posts, cons = write_base(workdir, chunk)
    parts = workdir / f"parts_{chunk}"
    (parts / "posts").mkdir(parents=True, exist_ok=True)
    (parts / "contracts").mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET threads = 2")
    for i in range(n_copies):
        p_out = parts / "posts" / f"part_{i:03d}.parquet"
        c_out = parts / "contracts" / f"part_{i:03d}.parquet"
        if not p_out.exists():
            con.execute(f"COPY (SELECT * REPLACE ('{i:03d}' || post_id AS post_id) "
                        f"FROM read_parquet('{posts}')) TO '{p_out}.tmp' (FORMAT parquet)")
            Path(f"{p_out}.tmp").rename(p_out)
        if not c_out.exists():
            con.execute(f"COPY (SELECT * REPLACE ('{i:03d}' || post_id AS post_id, "
                        f"'{i:03d}' || contract_id AS contract_id) FROM read_parquet('{cons}')) "
                        f"TO '{c_out}.tmp' (FORMAT parquet)")
            Path(f"{c_out}.tmp").rename(c_out)
    con.close()


def input_dirs(workdir: Path, chunk: int, n_copies: int) -> tuple[str, str]:
    """A folder per size holding links to its first ``n_copies`` part files."""
    parts = workdir / f"parts_{chunk}"
    out = workdir / f"input_{chunk}x{n_copies}"
    for kind in ("posts", "contracts"):
        d = out / kind
        d.mkdir(parents=True, exist_ok=True)
        for i in range(n_copies):
            link = d / f"part_{i:03d}.parquet"
            if not link.exists():
                link.symlink_to((parts / kind / f"part_{i:03d}.parquet").resolve())
    return str(out / "posts" / "*.parquet"), str(out / "contracts" / "*.parquet")


def child(engine: str, posts: str, cons: str, out: str, driver_memory: str) -> None:
    """Build one panel, write it to ``out`` and print its measurements as JSON."""
    import laborai as la

    res: dict[str, float] = {}
    if engine == "duckdb":
        t0 = time.perf_counter()
        panel = la.build_panel(posts, cons)
        res["wall"] = time.perf_counter() - t0
    else:
        from laborai._spark import local_session

        t0 = time.perf_counter()
        spark = local_session("local[2]", {"spark.driver.memory": driver_memory,
                                           "spark.sql.shuffle.partitions": "8"})
        res["session_start"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        panel = la.build_panel(posts, cons, engine="spark", spark=spark)
        res["wall"] = time.perf_counter() - t0
        res["jvm_peak_mb"] = jvm_peak_mb(spark)
        spark.stop()
    res["py_peak_mb"] = peak_mb()
    res["n_posts"] = float(panel["n_posts"].sum())
    res["n_contracts"] = float(panel["n_contracts"].sum())
    res["cells"] = float(len(panel))
    panel.attrs = {}
    panel.to_parquet(out, index=False)
    print("RESULT " + json.dumps(res), flush=True)


def run_child(engine: str, posts: str, cons: str, out: Path, driver_memory: str) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", engine, posts, cons, str(out), driver_memory]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{engine} child failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def cost_note(spark_rows_per_s: float, duck_rows_per_s: float, cells: int,
              file_mb: float = float("nan")) -> str:
    """The arithmetic of a 5-billion-post cluster run, from the measured local throughput."""
    rows = 5e9
    per_core = spark_rows_per_s / 2  # local[2]: two task slots
    core_hours = rows / per_core / 3600
    files = rows / 5e6
    # shuffle: the duplicate-id check moves every post_id (about 12 bytes of id plus ~20 bytes of
    # row overhead in Spark's unsafe-row format) and every contract_id; the aggregation moves one
    # partial row per partition and cell only.
    shuffle_gb = rows * (12 + 20) * 1.6 / 1e9  # 1.6 ids per post: the post's and ~0.6 contracts
    panel_kb = cells * 30 * 8 / 1e3
    return (
        f"5 billion posts: about {files:,.0f} input files of 5M posts ({file_mb:,.0f} MB of "
        f"Parquet each, posts and contracts, one task per file); at the measured {per_core:,.0f} rows per second per core (local Spark) "
        f"that is {core_hours:,.0f} core-hours, e.g. {core_hours / 64:,.1f} h on 64 cores "
        f"(DuckDB on one 2-core machine at the measured {duck_rows_per_s:,.0f} rows/s: "
        f"{rows / duck_rows_per_s / 3600:,.1f} h); the shuffle is dominated by the duplicate "
        f"post_id/contract_id checks, about {shuffle_gb:,.0f} GB; the collected panel stays "
        f"{cells:,} cells x ~30 columns, about {panel_kb:,.0f} KB whatever the rows."
    )


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:7])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10,50,200", help="millions of posts, comma separated")
    ap.add_argument("--chunk", type=int, default=5_000_000, help="posts per file")
    ap.add_argument("--workdir", default="build/bench_engines")
    ap.add_argument("--engines", default="duckdb,spark")
    ap.add_argument("--driver-memory", default="6g")
    ap.add_argument("--cost", action="store_true", help="print the 5-billion-row cost note")
    args = ap.parse_args()

    import pandas as pd

    workdir = Path(args.workdir)
    sizes = [int(s) for s in args.sizes.split(",")]
    engines = args.engines.split(",")
    copies = {s: s * 1_000_000 // args.chunk for s in sizes}
    if any(c * args.chunk != s * 1_000_000 for s, c in copies.items()):
        raise SystemExit("every size must be a multiple of --chunk")
    t0 = time.perf_counter()
    write_copies(workdir, args.chunk, max(copies.values()))
    print(f"data written/cached in {time.perf_counter() - t0:.0f} s under {workdir}", flush=True)

    # the one-copy panel: the reference the k-copy counts are checked against
    base_p, base_c = input_dirs(workdir, args.chunk, 1)
    ref = run_child("duckdb", base_p, base_c, workdir / "panel_base.parquet", args.driver_memory)
    base_panel = pd.read_parquet(workdir / "panel_base.parquet")
    rows: list[dict[str, object]] = []
    for s in sizes:
        p, c = input_dirs(workdir, args.chunk, copies[s])
        panels = {}
        for eng in engines:
            out = workdir / f"panel_{s}M_{eng}.parquet"
            r = run_child(eng, p, c, out, args.driver_memory)
            panels[eng] = pd.read_parquet(out)
            k = copies[s]
            if r["n_posts"] != k * ref["n_posts"] or r["n_contracts"] != k * ref["n_contracts"]:
                raise SystemExit(f"{eng} at {s}M: counts are not {k} x the one-copy counts")
            for col in ("n_posts", "n_contracts"):
                if not (panels[eng][col].to_numpy() == k * base_panel[col].to_numpy()).all():
                    raise SystemExit(f"{eng} at {s}M: {col} differs from {k} x one copy")
            rows.append({"posts (M)": s, "engine": eng, **r})
            print(f"{s}M {eng}: {r['wall']:.1f} s", flush=True)
        for eng in {"duckdb", "spark"} - set(panels):  # the other engine's panel of an earlier run
            saved = workdir / f"panel_{s}M_{eng}.parquet"
            if saved.exists():
                panels[eng] = pd.read_parquet(saved)
                print(f"{s}M: comparing with the {eng} panel saved by an earlier run", flush=True)
        if len(panels) == 2:
            pd.testing.assert_frame_equal(panels["duckdb"], panels["spark"], check_exact=True)
            print(f"{s}M: DuckDB and Spark panels identical (exact)", flush=True)
    t = pd.DataFrame(rows)
    t["Mposts/s"] = t["posts (M)"] / t["wall"]
    print("\n| posts | engine | wall (s) | session start (s) | peak RSS Python (MB) | "
          "peak RSS JVM (MB) | M posts/s | cells |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for _, r in t.iterrows():
        print(f"| {r['posts (M)']}M | {r['engine']} | {r['wall']:.1f} | "
              f"{r.get('session_start', float('nan')):.1f} | {r['py_peak_mb']:.0f} | "
              f"{r.get('jvm_peak_mb', float('nan')):.0f} | {r['Mposts/s']:.2f} | {r['cells']:.0f} |")
    for eng in engines:
        e = t[t["engine"] == eng].sort_values("posts (M)")
        if len(e) >= 2:
            a, b = e.iloc[0], e.iloc[-1]
            print(f"{eng}: {b['posts (M)'] / a['posts (M)']:.0f}x the rows took "
                  f"{b['wall'] / a['wall']:.1f}x the time and {b['py_peak_mb'] / a['py_peak_mb']:.1f}x "
                  "the Python peak memory")
    if args.cost and {"duckdb", "spark"} <= set(engines):
        big = t[t["posts (M)"] == max(sizes)]
        sp = float(big[big["engine"] == "spark"]["posts (M)"].iloc[0] * 1e6
                   / big[big["engine"] == "spark"]["wall"].iloc[0])
        du = float(big[big["engine"] == "duckdb"]["posts (M)"].iloc[0] * 1e6
                   / big[big["engine"] == "duckdb"]["wall"].iloc[0])
        parts = workdir / f"parts_{args.chunk}"
        mb = sum(f.stat().st_size for f in parts.glob("*/part_000.parquet")) / 1e6
        print("\n" + cost_note(sp, du, int(big["cells"].iloc[0]), mb))
    return 0


if __name__ == "__main__":
    sys.exit(main())
