"""Benchmark: ``build_panel`` on DuckDB and on a local Spark session, same Parquet files, one run.

Writes ``--posts`` simulated posts and their contracts as Parquet (microsecond timestamps, as
Spark needs), then in the same process times

(a) ``build_panel(posts, contracts)`` on DuckDB (the default engine);
(b) the start of a local Spark session (``local[2]``, UI off: :func:`laborai._spark.local_session`);
(c) ``build_panel(..., engine="spark")``: the first call (cold JVM) and the best of the next ones,

checks that the two panels are identical (``assert_frame_equal``, exact) and prints the times,
the Spark/DuckDB ratio and the peak resident memory of this process and of Spark's JVM.

With ``--classify`` it also flags every post with a fitted AI classifier, locally
(``model.predict`` on the pandas posts) and on Spark (:func:`laborai._spark.flag_posts`,
``mapInPandas``), checks the flags are identical post for post and prints both times.

Usage::

    python benchmarks/spark_panel.py [--posts 1000000] [--workdir build/bench_spark]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path


def write_data(workdir: Path, n_posts: int) -> tuple[str, str]:
    import laborai as la

    posts, cons = workdir / f"posts_{n_posts}.parquet", workdir / f"contracts_{n_posts}.parquet"
    if not (posts.exists() and cons.exists()):
        workdir.mkdir(parents=True, exist_ok=True)
        m = la.simulate_marketplace(seed=11, n_posts=n_posts)
        kw = {"index": False, "coerce_timestamps": "us", "allow_truncated_timestamps": True}
        m.job_posts.to_parquet(posts, **kw)
        m.contracts.to_parquet(cons, **kw)
    return str(posts), str(cons)


def peak_mb(pid: int | str = "self") -> float:
    """Peak resident memory (VmHWM) of a process in MB (Linux; NaN elsewhere).

    Not ``getrusage``: its ``ru_maxrss`` survives ``fork``/``exec`` and would report the
    parent's peak in a child process.
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return float("nan")


def jvm_peak_mb(spark: object) -> float:
    """Peak resident memory (VmHWM) of the JVM PySpark started, in MB (Linux only)."""
    try:
        return peak_mb(spark.sparkContext._gateway.proc.pid)  # type: ignore[attr-defined]
    except AttributeError:
        return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--workdir", default="build/bench_spark")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each engine (best kept)")
    ap.add_argument("--classify", action="store_true",
                    help="also time the classifier on the posts, locally and on Spark")
    args = ap.parse_args()

    import pandas as pd

    import laborai as la
    from laborai._spark import local_session

    print(f"Writing {args.posts:,} simulated posts to {args.workdir} (cached) ...", flush=True)
    p, c = write_data(Path(args.workdir), args.posts)

    duck = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        a = la.build_panel(p, c)
        duck.append(time.perf_counter() - t0)
    duck_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    t0 = time.perf_counter()
    spark = local_session("local[2]", {"spark.driver.memory": "2g"})
    start = time.perf_counter() - t0
    runs = []
    for _ in range(args.repeat + 1):
        t0 = time.perf_counter()
        b = la.build_panel(p, c, engine="spark", spark=spark)
        runs.append(time.perf_counter() - t0)
    flag_times = None
    if args.classify:
        flag_times = time_flags(spark, p)
    jvm = jvm_peak_mb(spark)
    spark.stop()

    pd.testing.assert_frame_equal(b, a, check_exact=True)
    assert a.attrs == b.attrs
    n = int(a["n_posts"].sum())
    n_c = int(a["n_contracts"].sum())
    best = min(runs[1:])
    print(f"\nPanel from {n:,} posts and {n_c:,} contracts ({len(a):,} unit-months); "
          "DuckDB and Spark panels identical (exact): yes")
    print(f"{'step':<44}{'wall (s)':>10}")
    print(f"{'DuckDB build_panel (best of ' + str(args.repeat) + ')':<44}{min(duck):>10.2f}")
    print(f"{'Spark local[2] session start':<44}{start:>10.2f}")
    print(f"{'Spark build_panel, first call (cold JVM)':<44}{runs[0]:>10.2f}")
    print(f"{'Spark build_panel (best of next ' + str(args.repeat) + ')':<44}{best:>10.2f}")
    print(f"Spark / DuckDB wall-time ratio: {best / min(duck):.1f}x (warm), "
          f"{(start + runs[0]) / min(duck):.1f}x (including session start and first call)")
    print(f"peak RSS: Python process {duck_peak:.0f} MB after DuckDB, "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB at the end; "
          f"Spark JVM {jvm:.0f} MB")
    if flag_times is not None:
        t_local, t_spark, n_flag = flag_times
        print(f"classifier on {n:,} posts ({n_flag:,} flagged, identical post for post): "
              f"pandas {t_local:.1f} s, Spark mapInPandas {t_spark:.1f} s "
              f"({t_spark / t_local:.1f}x)")
    return 0


def time_flags(spark: object, posts_path: str) -> tuple[float, float, int]:
    """Local and Spark flagging times of the posts file, and the number flagged."""
    import pandas as pd

    import laborai as la
    from laborai import classify
    from laborai._spark import flag_posts

    train_posts = la.simulate_marketplace(seed=99, n_posts=50_000).job_posts
    lab = classify.labelled_posts(train_posts, "ai", seed=1)
    model = classify.train(lab, "label", "ai", seed=0, n_estimators=50)
    posts = pd.read_parquet(posts_path, columns=["post_id", "title", "skills"])
    t0 = time.perf_counter()
    local = model.predict(posts).to_numpy()
    t_local = time.perf_counter() - t0
    sdf = spark.read.parquet(posts_path).select("post_id", "title", "skills")  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    got = flag_posts(model, sdf).toPandas()
    t_spark = time.perf_counter() - t0
    want = pd.Series(local, index=posts["post_id"])
    if not (got.set_index("post_id")["is_ai"].loc[want.index].to_numpy() == local).all():
        raise AssertionError("Spark flags differ from the local flags")
    return t_local, t_spark, int(local.sum())


if __name__ == "__main__":
    sys.exit(main())
