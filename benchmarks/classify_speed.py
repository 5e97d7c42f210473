"""Benchmark: classify 1,000,000 job posts for AI, cloud and RPA (target: under 60 s).

Simulates a marketplace of ``--posts`` posts, draws the labelled samples of the published method
(2,000 for AI, 1,000 each for cloud and RPA), trains the three query-then-classify models, and
times :func:`laborai.classify.flag_posts` on every post for each technology (wall and CPU time).
Also prints the keyword-query time alone and the held-out accuracy of each model.

Usage::

    python benchmarks/classify_speed.py [--posts 1000000] [--seed 0] [--n-jobs 1]
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    """Run the benchmark and print one line per step."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-jobs", type=int, default=1, choices=(1, 2))
    args = ap.parse_args()

    import laborai as la
    from laborai import classify

    t = time.perf_counter()
    posts = la.simulate_marketplace(seed=args.seed, n_posts=args.posts).job_posts
    print(f"simulate: {len(posts):,} posts in {time.perf_counter() - t:.1f} s")

    models = {}
    for tech in classify.TECHNOLOGIES:
        t = time.perf_counter()
        lab = classify.labelled_posts(posts, tech, seed=args.seed)
        train, test = classify.split_labelled(lab, seed=args.seed)
        models[tech] = classify.train(train, "label", tech, seed=args.seed, n_jobs=args.n_jobs)
        ev = models[tech].evaluate(test, "label")
        print(f"train {tech}: {len(train)} labelled posts in {time.perf_counter() - t:.1f} s; "
              f"held-out accuracy {ev.accuracy:.3f}, precision {ev.precision:.3f}, "
              f"recall {ev.recall:.3f}")

    flagged = posts
    wall_total = cpu_total = 0.0
    for tech in classify.TECHNOLOGIES:
        t = time.perf_counter()
        kw = classify.query(posts, tech)
        print(f"query {tech}: {time.perf_counter() - t:.1f} s wall ({int(kw.sum()):,} keyword hits)")
        t, c = time.perf_counter(), time.process_time()
        flagged = classify.flag_posts(flagged, tech, model=models[tech])
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        wall_total += wall
        cpu_total += cpu
        col = classify.flag_column(tech)
        print(f"flag_posts {tech}: {len(posts):,} posts in {wall:.1f} s wall, {cpu:.1f} s CPU "
              f"({int(flagged[col].sum()):,} flagged)")
    print(f"all three technologies: {wall_total:.1f} s wall, {cpu_total:.1f} s CPU "
          f"(target: each under 60 s)")


if __name__ == "__main__":
    main()
