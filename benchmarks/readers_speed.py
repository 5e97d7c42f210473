"""Benchmark: la.read_job_posts / la.read_contracts on 1,000,000 simulated posts (issue 16).

Writes the simulated marketplace's job posts and contracts as CSV and Parquet, then times, in
the same run and interleaved, the minimum of ``--repeats`` calls of

* laborai's reader (``la.read_job_posts``, ``la.read_contracts``; ``la.read_marketplace`` for
  the Parquet directory),
* a plain vectorised pandas/pyarrow check of the same rules written below (pandas' C parser
  or pyarrow's Parquet reader, ``.str`` methods, ``pd.to_datetime``, ``isin``, ``duplicated``;
  no record-level CSV checks, no reasons), checked to keep the same rows with the same
  canonical values,
* with ``--old REV`` (default ``236fd19``, the implementation before issue 16), the previous
  reader, loaded from ``git show REV:laborai/data/readers.py`` into a temporary module and
  checked to return identical frames (``assert_frame_equal(check_exact=True)``).

It prints one line per timing and the ratios laborai / baseline and old / new.

Measured 2026-12-02 (2 cores shared with other engineers' jobs, load average about 6; min of 3,
1,000,092 posts / 601,762 contracts): read_job_posts CSV 6.58 s vs baseline 5.11 s (1.29x; before
12.10 s), Parquet 1.98 s vs 1.68 s (1.18x; before 6.38 s); read_contracts CSV 2.65 s vs 6.29 s
(0.42x; before 7.46 s), Parquet 1.04 s vs 5.65 s (0.18x; before 3.63 s); read_marketplace 0.49 s vs
pyarrow 0.48 s (1.01x). Outputs identical to the previous reader in every case.

Usage::

    python benchmarks/readers_speed.py [--posts 1000000] [--repeats 3] [--old 236fd19|none]
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def _old_module(rev: str, tmp: Path) -> Any:
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:laborai/data/readers.py"],
                         check=True, capture_output=True, text=True).stdout
    path = tmp / "laborai_readers_before.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("laborai_readers_before", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


# ----------------------------------------------------------------------------- the baseline


def _key(s: pd.Series) -> pd.Series:
    return s.str.strip().str.lower()  # Arrow kernels on Arrow text


def baseline_posts(df: pd.DataFrame) -> pd.DataFrame:
    """The job-post rules, vectorised, on a frame as read (text or typed columns)."""
    import laborai as la
    from laborai.data.readers import _country_tables
    from laborai.data.schema import DURATIONS, ENGAGEMENTS, EXPERIENCE_LEVELS

    out = pd.DataFrame(index=df.index)
    bad = np.zeros(len(df), dtype=bool)
    pid = df["post_id"].astype("str").str.strip()
    bad |= (pid.isna() | (pid == "") | pid.duplicated()).to_numpy()
    out["post_id"] = pid
    d = df["posted_date"]
    if not pd.api.types.is_datetime64_any_dtype(d):
        d = pd.to_datetime(d, utc=True, errors="coerce", format="ISO8601").dt.tz_localize(None)
    d = d.dt.floor("D").astype("datetime64[ns]")
    bad |= (d.isna() | (d < pd.Timestamp("2000-01-01")) | (d > pd.Timestamp("2035-12-31"))
            ).to_numpy()
    out["posted_date"] = d
    subs = la.taxonomy.subcategories()
    cats = {c.lower(): c for c in la.taxonomy.category_names()}
    cat = _key(df["category"].astype("str")).map(cats)
    sub_key = cat.fillna("") + "\x1f" + _key(df["subcategory"].astype("str"))
    sub_map = {f"{c}\x1f{s.lower()}": s
               for c, s in zip(subs["category"], subs["subcategory"], strict=True)}
    sub = sub_key.map(sub_map)
    bad |= (cat.isna() | sub.isna()).to_numpy()
    out["category"], out["subcategory"] = cat, sub
    for c in ("title", "skills"):
        if c in df:
            out[c] = df[c].astype("str").fillna("")
    bt = _key(df["budget_type"].astype("str")).map(
        {"fixed_budget": "fixed_budget", "fixed": "fixed_budget", "hourly": "hourly",
         "no_budget": "no_budget"})
    bad |= bt.isna().to_numpy()
    out["budget_type"] = bt
    money = {}
    for c in ("contract_value_usd", "hourly_rate_usd", "fixed_budget_usd"):
        if c in df:
            v = pd.to_numeric(df[c], errors="coerce").astype("float64")
            bad |= ((df[c].notna() & v.isna()) | (v < 0) | np.isinf(v)).to_numpy()
            money[c] = v
    out["contract_value_usd"] = money["contract_value_usd"]
    fixed, hourly = (bt == "fixed_budget").to_numpy(), (bt == "hourly").to_numpy()
    value = money["contract_value_usd"].to_numpy()
    out["value_basis"] = np.where(np.isnan(value), "none", np.where(
        fixed, "fixed_budget", np.where(hourly, "hourly_projection", "none")))
    bad |= ((bt == "no_budget").to_numpy()
            & (~np.isnan(value) | money.get("hourly_rate_usd", pd.Series(np.nan, df.index))
               .notna().to_numpy()))
    codes = _country_tables()[0]
    cc = df["client_country"].astype("str").str.strip()
    bad |= (~cc.isin(codes)).to_numpy()
    out["client_country"] = cc
    if "hourly_rate_usd" in money:
        out["hourly_rate_usd"] = money["hourly_rate_usd"]
    for c, labels in (("engagement", ENGAGEMENTS), ("duration", DURATIONS),
                      ("experience_level", EXPERIENCE_LEVELS)):
        if c in df:
            raw = df[c].astype("str").str.strip()
            v = _key(raw).map({x.lower(): x for x in labels})
            bad |= (raw.notna() & (raw != "") & v.isna()).to_numpy()
            out[c] = v
    return out.loc[~bad].reset_index(drop=True)


def baseline_contracts(df: pd.DataFrame, posts: pd.DataFrame) -> pd.DataFrame:
    """The contract rules, vectorised."""
    out = pd.DataFrame(index=df.index)
    bad = np.zeros(len(df), dtype=bool)
    for c in ("contract_id", "post_id", "freelancer_id"):
        v = df[c].astype("str").str.strip()
        bad |= (v.isna() | (v == "")).to_numpy()
        out[c] = v
    bad |= out["contract_id"].duplicated().to_numpy()
    bad |= (~out["post_id"].isin(posts["post_id"])).to_numpy()
    for c in ("start_date", "end_date"):
        d = df[c]
        if not pd.api.types.is_datetime64_any_dtype(d):
            d = pd.to_datetime(d, utc=True, errors="coerce", format="ISO8601").dt.tz_localize(None)
        d = d.dt.floor("D").astype("datetime64[ns]")
        bad |= (d.isna() | (d < pd.Timestamp("2000-01-01")) | (d > pd.Timestamp("2035-12-31"))
                ).to_numpy()
        out[c] = d
    bad |= (out["end_date"] < out["start_date"]).to_numpy()
    e = pd.to_numeric(df["earnings_usd"], errors="coerce").astype("float64")
    bad |= (e.isna() | (e < 0) | np.isinf(e)).to_numpy()
    out["earnings_usd"] = e
    return out.loc[~bad].reset_index(drop=True)


def _read_csv(path: Path) -> pd.DataFrame:
    # pandas' C parser, as laborai uses, with Arrow text columns for the .str kernels.
    return pd.read_csv(path, dtype="str", keep_default_na=False, na_values=[""], engine="c")


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pandas()


def _same_values(base: pd.DataFrame, ours: pd.DataFrame, what: str) -> None:
    assert len(base) == len(ours), (what, len(base), len(ours))
    for c in base.columns:
        a = base[c].astype(object).where(base[c].notna(), None).tolist()
        b = ours[c].astype(object).where(ours[c].notna(), None).tolist()
        assert a == b, (what, c)


def _timed(fn: Callable[[], Any], times: list[float]) -> Any:
    t = time.perf_counter()
    out = fn()
    times.append(time.perf_counter() - t)
    return out


def main() -> None:
    """Run the benchmark and print one line per step."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--old", default="236fd19", help="git revision of the previous reader, "
                    "or 'none'")
    args = ap.parse_args()

    import laborai as la

    with tempfile.TemporaryDirectory(prefix="laborai_readers_") as tmpdir:
        tmp = Path(tmpdir)
        t = time.perf_counter()
        m = la.simulate_marketplace(seed=args.seed, n_posts=args.posts)
        m.to_parquet(tmp / "mkt")
        m.job_posts.to_csv(tmp / "posts.csv", index=False)
        m.contracts.to_csv(tmp / "contracts.csv", index=False)
        print(f"simulate and write: {len(m.job_posts):,} posts, {len(m.contracts):,} contracts "
              f"in {time.perf_counter() - t:.1f} s")
        old = None if args.old == "none" else _old_module(args.old, tmp)
        posts_ref = m.job_posts
        cases: list[tuple[str, Callable[[Any], Any], Callable[[], pd.DataFrame]]] = [
            ("read_job_posts CSV", lambda mod: mod.read_job_posts(tmp / "posts.csv"),
             lambda: baseline_posts(_read_csv(tmp / "posts.csv"))),
            ("read_job_posts Parquet",
             lambda mod: mod.read_job_posts(tmp / "mkt" / "job_posts.parquet"),
             lambda: baseline_posts(_read_parquet(tmp / "mkt" / "job_posts.parquet"))),
            ("read_contracts CSV",
             lambda mod: mod.read_contracts(tmp / "contracts.csv", job_posts=posts_ref),
             lambda: baseline_contracts(_read_csv(tmp / "contracts.csv"), posts_ref)),
            ("read_contracts Parquet",
             lambda mod: mod.read_contracts(tmp / "mkt" / "contracts.parquet",
                                            job_posts=posts_ref),
             lambda: baseline_contracts(_read_parquet(tmp / "mkt" / "contracts.parquet"),
                                        posts_ref)),
        ]
        from laborai.data import readers as new

        for name, run, base in cases:
            t_new: list[float] = []
            t_base: list[float] = []
            t_old: list[float] = []
            for _ in range(args.repeats):
                ours = _timed(lambda run=run: run(new), t_new)
                ref = _timed(base, t_base)
                if old is not None:
                    before = _timed(lambda run=run: run(old), t_old)
            _same_values(ref, ours, name)
            line = (f"{name}: laborai {min(t_new):.2f} s, vectorised baseline "
                    f"{min(t_base):.2f} s (ratio {min(t_new) / min(t_base):.2f}x, same rows "
                    "and values)")
            if old is not None:
                pd.testing.assert_frame_equal(before, ours, check_exact=True)
                line += (f"; before ({args.old}) {min(t_old):.2f} s "
                         f"({min(t_old) / min(t_new):.1f}x faster now, identical frames)")
            print(line, flush=True)
        t_pa: list[float] = []
        for _ in range(args.repeats):
            _timed(lambda: pd.read_csv(tmp / "posts.csv", dtype="str", keep_default_na=False,
                                       na_values=[""], engine="pyarrow"), t_pa)
        print(f"for reference: parsing posts.csv alone with pyarrow's multi-threaded CSV reader "
              f"{min(t_pa):.2f} s (laborai parses with pandas' C parser, as the baseline does)")
        t_rm: list[float] = []
        t_pq: list[float] = []
        for _ in range(args.repeats):
            _timed(lambda: la.read_marketplace(tmp / "mkt"), t_rm)
            _timed(lambda: [_read_parquet(tmp / "mkt" / f) for f in
                            ("job_posts.parquet", "contracts.parquet", "truth.parquet")], t_pq)
        print(f"read_marketplace Parquet: {min(t_rm):.2f} s; pyarrow read of the same three "
              f"files {min(t_pq):.2f} s (ratio {min(t_rm) / min(t_pq):.2f}x)")
    print(f"min of {args.repeats} repeats, interleaved; machine: "
          f"{__import__('os').cpu_count()} cores, shared with other work while measured")


if __name__ == "__main__":
    main()
