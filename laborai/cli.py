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
    r = sub.add_parser("report", help="build the figures, tables and summary (simulated data by default)")
    r.add_argument("--figures", default="figures", help="figure output folder (default: figures)")
    r.add_argument("--build", default="build", help="table/summary output folder (default: build)")
    r.add_argument("--seed", type=int, default=None, help="seed of the simulated marketplace")
    r.add_argument("--n-posts", type=int, default=None, help="expected number of simulated posts")
    r.add_argument("--data", default=None,
                   help="folder with your own job_posts and contracts (Parquet/CSV, canonical format)")
    s = sub.add_parser("simulate", help="write a simulated marketplace to a folder as Parquet")
    s.add_argument("out", help="output folder")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--n-posts", type=int, default=200_000)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``laborai`` console command."""
    args = _parser().parse_args(argv)
    if args.command == "report":
        from laborai.report.legacy import DEFAULT_N_POSTS, DEFAULT_SEED, build_report

        t0 = time.perf_counter()
        out = build_report(args.figures, args.build,
                           seed=DEFAULT_SEED if args.seed is None else args.seed,
                           n_posts=DEFAULT_N_POSTS if args.n_posts is None else args.n_posts,
                           data_dir=args.data)
        print(f"laborai report: {len(out.files)} figure files in {out.figures_dir}/, tables and "
              f"summary in {out.build_dir}/ ({time.perf_counter() - t0:.1f} s)")
        print(f"  job posts read {out.n_posts_read:,} (rejected {out.n_posts_rejected:,}); "
              f"contracts read {out.n_contracts_read:,} (rejected {out.n_contracts_rejected:,})")
        return 0
    if args.command == "simulate":
        from laborai.data import simulate_marketplace

        m = simulate_marketplace(seed=args.seed, n_posts=args.n_posts)
        d = m.to_parquet(args.out)
        print(f"{m!r} written to {d}/")
        return 0
    return 2  # pragma: no cover - argparse enforces a command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
