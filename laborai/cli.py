"""The ``laborai`` command."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from laborai import __version__


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="laborai",
        description="laborai: causal effects of generative AI on an online freelance marketplace.",
    )
    p.add_argument("--version", action="version", version=f"laborai {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser(
        "report",
        help="run the analysis notebooks and build figures/ and build/report.html",
        description="Execute every analysis notebook in analyses/ (fresh kernel each), write "
                    "figures (SVG + PNG + CSV), figures/MANIFEST.sha256, figures/INDEX.md and "
                    "build/report.html. The marketplace analyses use the embedded simulated "
                    "marketplace unless --data is given.")
    r.add_argument("--figures", default="figures", help="figure output folder (default: figures)")
    r.add_argument("--build", default="build", help="report/table output folder (default: build)")
    r.add_argument("--seed", type=int, default=None, help="seed of the simulated marketplace (2024)")
    r.add_argument("--n-posts", type=int, default=None,
                   help="expected number of simulated posts (400,000)")
    r.add_argument("--data", default=None,
                   help="folder with your own job_posts and contracts (Parquet/CSV, canonical "
                        "format) for the marketplace analyses")
    r.add_argument("--only", action="append", default=None, metavar="NAME",
                   help="rebuild only this analysis (figure family); repeatable")
    r.add_argument("--analyses", default=None, help="folder of the notebooks (default: analyses)")
    r.add_argument("--jobs", type=int, default=None,
                   help="notebooks executed at once, each in its own kernel (default: one per "
                        "CPU core, at most 4; outputs do not depend on it)")
    r.add_argument("--check", action="store_true",
                   help="rebuild into a temporary folder and fail with a diff if any figure, "
                        "table, manifest or the report differs from the existing build")
    pn = sub.add_parser(
        "panel",
        help="build the unit x period panel from job posts and contracts (DuckDB or Spark)",
        description="Aggregate job posts (and contracts) to the balanced unit x period panel "
                    "of laborai.build_panel and write it as Parquet. With --engine spark the "
                    "same SQL runs on Spark: a local session, or the cluster's session when the "
                    "command runs under spark-submit (docs/spark.md).")
    pn.add_argument("--posts", required=True,
                    help="job posts: Parquet/CSV file, glob or directory of Parquet files")
    pn.add_argument("--contracts", default=None, help="contracts (same kinds of path)")
    pn.add_argument("--out", required=True, help="output Parquet file of the panel")
    pn.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                    help="where the SQL runs (default: duckdb)")
    pn.add_argument("--master", default=None,
                    help="Spark master for --engine spark when not run by spark-submit "
                         "(default: local[2])")
    pn.add_argument("--freq", choices=("month", "week", "quarter", "year"), default="month")
    pn.add_argument("--by", default="category,value_tier",
                    help="comma-separated unit columns (default: category,value_tier)")
    pn.add_argument("--start", default=None, help="first posting date (inclusive)")
    pn.add_argument("--end", default=None, help="last posting date (inclusive)")
    pn.add_argument("--incomplete-contracts", choices=("raise", "count"), default="raise")
    s = sub.add_parser("simulate", help="write a simulated marketplace to a folder as Parquet")
    s.add_argument("out", help="output folder")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--n-posts", type=int, default=200_000)
    return p


def _report(args: argparse.Namespace) -> int:
    from laborai.report import DEFAULT_N_POSTS, DEFAULT_SEED
    from laborai.report.build import build_report, check_report

    seed = DEFAULT_SEED if args.seed is None else args.seed
    n_posts = DEFAULT_N_POSTS if args.n_posts is None else args.n_posts
    t0 = time.perf_counter()
    if args.check:
        if args.only:
            print("laborai report: --check rebuilds everything; drop --only.", file=sys.stderr)
            return 2
        diffs = check_report(args.figures, args.build, seed=seed, n_posts=n_posts,
                             data_dir=args.data, analyses_dir=args.analyses, jobs=args.jobs)
        took = time.perf_counter() - t0
        if diffs:
            print(f"laborai report --check: the rebuild DIFFERS from {args.figures}/ and "
                  f"{args.build}/ ({took:.1f} s):", file=sys.stderr)
            for line in diffs:
                print("  " + line, file=sys.stderr)
            return 1
        print(f"laborai report --check: rebuild is byte-identical to {args.figures}/ and "
              f"{args.build}/ ({took:.1f} s)")
        return 0
    out = build_report(args.figures, args.build, seed=seed, n_posts=n_posts, data_dir=args.data,
                       only=args.only, analyses_dir=args.analyses, verbose=True, jobs=args.jobs)
    print(f"laborai report: {len(out.analyses)} analyses, {len(out.files)} figure files in "
          f"{args.figures}/, report in {out.html.relative_to(out.html.parent.parent)} "
          f"({time.perf_counter() - t0:.1f} s)")
    return 0


def _panel(args: argparse.Namespace) -> int:
    from laborai.errors import LaborAIError
    from laborai.panel import build_panel

    t0 = time.perf_counter()
    spark, started = None, False
    try:
        if args.engine == "spark":
            from laborai._spark import command_session

            spark, started = command_session(args.master)
        elif args.master is not None:
            print("laborai panel: --master is used only with --engine spark.", file=sys.stderr)
            return 2
        panel = build_panel(args.posts, args.contracts, freq=args.freq,
                            by=tuple(c.strip() for c in args.by.split(",") if c.strip()),
                            start=args.start, end=args.end,
                            incomplete_contracts=args.incomplete_contracts,
                            engine=args.engine, spark=spark)
    except LaborAIError as err:
        print(f"laborai panel: {err}", file=sys.stderr)
        return 1
    finally:
        if started and spark is not None:
            spark.stop()
    panel.to_parquet(args.out, index=False)
    acc = panel.attrs["accounting"]
    extra = (f", {acc['contracts_in_panel']:,} of {acc['contracts_read']:,} contracts"
             if "contracts_read" in acc else "")
    print(f"laborai panel ({args.engine}): {panel['unit'].nunique()} units x "
          f"{panel['t'].nunique()} periods, {acc['posts_in_panel']:,} of {acc['posts_read']:,} "
          f"posts{extra} -> {args.out} ({time.perf_counter() - t0:.1f} s)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``laborai`` console command."""
    args = _parser().parse_args(argv)
    if args.command == "report":
        return _report(args)
    if args.command == "panel":
        return _panel(args)
    if args.command == "simulate":
        from laborai.data import simulate_marketplace

        m = simulate_marketplace(seed=args.seed, n_posts=args.n_posts)
        d = m.to_parquet(args.out)
        print(f"{m!r} written to {d}/")
        return 0
    return 2  # pragma: no cover - argparse enforces a command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
