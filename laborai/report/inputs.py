"""The marketplace inputs of the report's analyses: simulated by default, or the user's own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from laborai.data import read_contracts, read_job_posts, simulate_marketplace
from laborai.errors import DataFileNotFoundError
from laborai.exposure import add_event_dates
from laborai.panel import UNKNOWN_TIER, build_panel

__all__ = ["DEFAULT_N_POSTS", "DEFAULT_SEED", "MarketplaceInputs", "load_marketplace"]

DEFAULT_SEED = 2024
DEFAULT_N_POSTS = 400_000


@dataclass(frozen=True)
class MarketplaceInputs:
    """Validated marketplace microdata and the panel built from it.

    Attributes
    ----------
    posts, contracts : pandas.DataFrame
        Rows kept by :func:`laborai.read_job_posts` / :func:`laborai.read_contracts`.
    rejected : pandas.DataFrame
        Rows rejected by the readers, with ``table`` and the reason (nothing is lost).
    n_posts_read, n_contracts_read : int
        Rows read (kept + rejected).
    panel : pandas.DataFrame
        Category x value tier x month panel with event dates (:func:`laborai.build_panel`,
        :func:`laborai.exposure.add_event_dates`) of the **valued tiers** (``low``/``high``):
        the causal analyses estimate effects by value tier, so the ``unknown`` tier (posts
        without a budget) is left out here, explicitly, and counted in ``n_posts_unknown_tier``.
    panel_unknown : pandas.DataFrame
        The rows of the ``unknown`` value tier (same columns; empty when every post has a value).
    n_posts_unknown_tier : int
        Posts in the ``unknown`` tier (no budget, or an hourly post without a projected value).
    source : str
        Source line for figures ("Simulated marketplace, seed N" or "User data (folder)").
    truth : pandas.DataFrame or None
        The simulation's true effects (None for user data).
    simulated : bool
        Whether the data are the embedded simulated marketplace.
    inputs : str
        Short description of the inputs, for ``figures/INDEX.md``.
    """

    posts: pd.DataFrame
    contracts: pd.DataFrame
    rejected: pd.DataFrame
    n_posts_read: int
    n_contracts_read: int
    panel: pd.DataFrame
    source: str
    truth: pd.DataFrame | None
    simulated: bool
    inputs: str
    panel_unknown: pd.DataFrame | None = None
    n_posts_unknown_tier: int = 0

    def __repr__(self) -> str:
        return (f"MarketplaceInputs({self.source!r}, posts={len(self.posts):,}, "
                f"contracts={len(self.contracts):,}, rejected={len(self.rejected):,})")


def _table_file(data_dir: Path, name: str) -> Path:
    for p in (data_dir / f"{name}.parquet", data_dir / f"{name}.csv"):
        if p.exists():
            return p
    raise DataFileNotFoundError(
        f"{data_dir}: no {name}.parquet or {name}.csv; --data needs both job_posts and contracts "
        "in the canonical format (docs/data/schema.md)."
    )


def load_marketplace(*, seed: int = DEFAULT_SEED, n_posts: int = DEFAULT_N_POSTS,
                     data_dir: str | Path | None = None) -> MarketplaceInputs:
    """Load the report's marketplace: simulate it, or read the user's folder, then validate.

    Parameters
    ----------
    seed : int, default 2024
        Seed of the simulated marketplace (ignored with ``data_dir``).
    n_posts : int, default 400,000
        Expected number of simulated posts (ignored with ``data_dir``).
    data_dir : str or pathlib.Path, optional
        Folder with ``job_posts`` and ``contracts`` as Parquet or CSV in the canonical format
        (docs/data/schema.md) and optionally ``truth.parquet``; ``None`` or ``""`` uses the
        embedded simulated marketplace.

    Returns
    -------
    MarketplaceInputs

    Raises
    ------
    DataFileNotFoundError
        If ``data_dir`` lacks one of the two tables.

    Notes
    -----
    Both readers quarantine invalid rows rather than raising, so the report states how many
    rows were read, kept and rejected, and why.
    """
    truth: Any
    if data_dir is None or str(data_dir) == "":
        m = simulate_marketplace(seed=seed, n_posts=n_posts)
        src_posts, src_cons, truth = m.job_posts, m.contracts, m.truth
        source, simulated = m.source_line, True
        inputs = f"simulated marketplace (seed {seed}, {n_posts:,} posts expected)"
    else:
        d = Path(data_dir)
        src_posts, src_cons = (_table_file(d, name) for name in ("job_posts", "contracts"))
        truth = pd.read_parquet(d / "truth.parquet") if (d / "truth.parquet").exists() else None
        source, simulated = f"User data ({d.name})", False
        inputs = f"user data {d.name}/ (job_posts, contracts)"
    posts_r = read_job_posts(src_posts, on_invalid="quarantine")
    cons_r = read_contracts(src_cons, job_posts=posts_r.data, on_invalid="quarantine")
    rejected = pd.concat([posts_r.rejected.assign(table="job_posts"),
                          cons_r.rejected.assign(table="contracts")], ignore_index=True)
    full = add_event_dates(build_panel(posts_r.data, cons_r.data))
    unknown = (full["value_tier"] == UNKNOWN_TIER).to_numpy()
    panel = full[~unknown].reset_index(drop=True)
    panel_unknown = full[unknown].reset_index(drop=True)
    n_unknown = int(panel_unknown["n_posts"].sum())
    return MarketplaceInputs(posts_r.data, cons_r.data, rejected, posts_r.n_read, cons_r.n_read,
                             panel, source, truth, simulated, inputs, panel_unknown, n_unknown)
