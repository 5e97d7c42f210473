"""The report build: simulated (or user) microdata -> panel -> effects -> figures and tables.

:func:`build_report` runs the whole pipeline end to end and writes

- ``figures/<name>.svg|.png|.csv`` for every figure (house style, source line),
- ``figures/MANIFEST.sha256`` (hash of every figure file) and ``figures/INDEX.md``,
- ``build/effects.csv``, ``build/panel.csv``, ``build/summary.md`` (numbers filled from the
  results, never typed by hand) and ``build/environment.txt``.

Everything is deterministic for a given seed: rebuilding gives byte-identical files.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from laborai import __version__
from laborai.data import Marketplace, read_contracts, read_job_posts, simulate_marketplace
from laborai.errors import DataFileNotFoundError
from laborai.exposure import add_event_dates
from laborai.panel import build_panel
from laborai.plot import add_source, house_style, save_figure

__all__ = ["ReportOutputs", "build_report"]

DEFAULT_SEED = 2024
DEFAULT_N_POSTS = 400_000
_PINNED = ("numpy", "pandas", "scipy", "duckdb", "pyfixest", "matplotlib", "pyarrow")


@dataclass(frozen=True)
class ReportOutputs:
    """Where the report build wrote its outputs and what it measured."""

    figures_dir: Path
    build_dir: Path
    files: dict[str, str]
    n_posts_read: int
    n_posts_rejected: int
    n_contracts_read: int
    n_contracts_rejected: int


def _load_inputs(data_dir: Path | None, seed: int, n_posts: int) -> tuple[Any, Any, str, Any]:
    if data_dir is None:
        m: Marketplace = simulate_marketplace(seed=seed, n_posts=n_posts)
        return m.job_posts, m.contracts, m.source_line, m.truth
    posts, cons = (_table_file(data_dir, name) for name in ("job_posts", "contracts"))
    truth = (pd.read_parquet(data_dir / "truth.parquet")
             if (data_dir / "truth.parquet").exists() else None)
    return posts, cons, f"User data ({data_dir.name})", truth


def _table_file(data_dir: Path, name: str) -> Path:
    for p in (data_dir / f"{name}.parquet", data_dir / f"{name}.csv"):
        if p.exists():
            return p
    raise DataFileNotFoundError(
        f"{data_dir}: no {name}.parquet or {name}.csv; --data needs both job_posts and contracts "
        "in the canonical format (docs/data/schema.md)."
    )


def build_report(
    figures_dir: str | Path = "figures",
    build_dir: str | Path = "build",
    *,
    seed: int = DEFAULT_SEED,
    n_posts: int = DEFAULT_N_POSTS,
    data_dir: str | Path | None = None,
) -> ReportOutputs:
    """Run the pipeline end to end and write figures, tables and a summary.

    Parameters
    ----------
    figures_dir, build_dir : str or pathlib.Path
        Output folders (created).
    seed : int, default 2024
        Seed of the simulated marketplace.
    n_posts : int, default 400,000
        Expected number of simulated posts.
    data_dir : str or pathlib.Path, optional
        A folder with the user's own ``job_posts`` and ``contracts`` (Parquet or CSV) in the
        canonical format; replaces the simulated marketplace.

    Returns
    -------
    ReportOutputs
    """
    from laborai.did.effects import estimate_effects

    fig_dir, out_dir = Path(figures_dir), Path(build_dir)
    fig_dir.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    src_posts, src_cons, source, truth = _load_inputs(
        Path(data_dir) if data_dir is not None else None, seed, n_posts)

    posts_r = read_job_posts(src_posts, on_invalid="quarantine")
    cons_r = read_contracts(src_cons, job_posts=posts_r.data, on_invalid="quarantine")
    rejected = pd.concat([posts_r.rejected.assign(table="job_posts"),
                          cons_r.rejected.assign(table="contracts")])
    rejected.to_csv(out_dir / "rejected_rows.csv", index=False, lineterminator="\n")

    panel = add_event_dates(build_panel(posts_r.data, cons_r.data))
    panel.to_csv(out_dir / "panel.csv", index=False, float_format="%.10g", lineterminator="\n")

    outcomes: list[Any] = [
        "log_n_posts",
        {"name": "log_earnings_per_contract", "y": "log_earnings_per_contract",
         "weights": "n_contracts"},
    ]
    # One treated unit per coefficient: cluster-robust SEs with a single treated cluster are far
    # too small (MacKinnon & Webb 2017), so the per-group chart uses heteroskedasticity-robust
    # SEs, which reflect the month-to-month noise of each cell.
    eff = estimate_effects(panel, outcomes=outcomes, cluster=None, vcov="hetero")
    tidy = eff.tidy()
    if truth is not None:
        tidy = tidy.merge(truth[["category", "value_tier", "outcome", "effect"]]
                          .rename(columns={"effect": "true_effect"}),
                          on=["category", "value_tier", "outcome"], how="left")
    tidy.to_csv(out_dir / "effects.csv", index=False, float_format="%.10g", lineterminator="\n")

    files: dict[str, str] = {}
    index_rows: list[tuple[str, str]] = []
    files.update(_figure_trends(panel, fig_dir / "posts_by_exposure", source, index_rows))
    files.update(_figure_effects(tidy, fig_dir / "effects_by_category_tier", source, index_rows))
    manifest = "".join(f"{h}  {name}\n" for name, h in sorted(files.items()))
    (fig_dir / "MANIFEST.sha256").write_text(manifest)
    (fig_dir / "INDEX.md").write_text(
        "# Figures\n\n| figure | made by | inputs | caption |\n|---|---|---|---|\n"
        + "".join(f"| {n} | laborai.report | {source} | {c} |\n" for n, c in index_rows))
    _write_summary(out_dir / "summary.md", source, posts_r, cons_r, panel, eff, tidy)
    (out_dir / "environment.txt").write_text(_environment())
    return ReportOutputs(fig_dir, out_dir, files, posts_r.n_read, len(posts_r.rejected),
                         cons_r.n_read, len(cons_r.rejected))


def _figure_trends(panel: pd.DataFrame, stem: Path, source: str,
                   index: list[tuple[str, str]]) -> dict[str, str]:
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    p = panel.assign(group=np.where(panel["exposed"], "Exposed categories", "Other categories"))
    g = p.groupby(["group", "value_tier", "period"], as_index=False)["n_posts"].sum()
    base = g[g["period"].dt.year == 2021].groupby(["group", "value_tier"])["n_posts"].mean()
    g["index_2021"] = 100 * g["n_posts"] / g.set_index(["group", "value_tier"]).index.map(base)
    with house_style():
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
        for ax, tier in zip(axes, ("low", "high"), strict=True):
            for grp in ("Exposed categories", "Other categories"):
                d = g[(g["group"] == grp) & (g["value_tier"] == tier)]
                ax.plot(d["period"], d["index_2021"], label=grp, lw=1.6)
            ax.axvline(pd.Timestamp("2022-11-30"), color="#555555", ls="--", lw=0.9)
            ax.text(pd.Timestamp("2022-12-15"), ax.get_ylim()[1] * 0.97, "ChatGPT", fontsize=8,
                    va="top")
            ax.set_title(f"{'Low' if tier == 'low' else 'High'}-value posts "
                         f"({'≤' if tier == 'low' else '>'} $1,000)", fontsize=10)
            ax.set_xlabel("Month posted")
            ax.xaxis.set_major_locator(mdates.YearLocator())
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        axes[0].set_ylabel("Job posts, index (2021 average = 100)")
        axes[0].legend(loc="lower left")
        fig.suptitle("Low-value job posts in AI-exposed categories fell after generative AI",
                     x=0.01, ha="left", fontweight="bold")
        add_source(fig, source)
        fig.tight_layout(rect=(0, 0.03, 1, 1))
    caption = ("Monthly job posts by exposure group and value tier, index 2021 = 100. Exposed: "
               "Writing, Translation, Web/Mobile/Software, Data Science (ChatGPT) and Design & "
               "Creative (image generators).")
    index.append((stem.name, caption))
    return save_figure(fig, stem, g)


def _figure_effects(tidy: pd.DataFrame, stem: Path, source: str,
                    index: list[tuple[str, str]]) -> dict[str, str]:
    import matplotlib.pyplot as plt

    labels = {"log_n_posts": "Job posts", "log_earnings_per_contract": "Earnings per contract"}
    with house_style():
        fig, axes = plt.subplots(1, 2, figsize=(9.5, 4.6), sharey=True)
        rows = tidy.sort_values(["category", "value_tier"])
        keys = rows[["category", "value_tier"]].drop_duplicates()
        ypos = {tuple(k): i for i, k in enumerate(keys.itertuples(index=False))}
        for ax, (outcome, lab) in zip(axes, labels.items(), strict=True):
            d = rows[rows["outcome"] == outcome]
            y = np.array([ypos[(c, t)] for c, t in zip(d["category"], d["value_tier"], strict=True)])
            pct = 100 * (np.exp(d["estimate"]) - 1)
            lo, hi = 100 * (np.exp(d["conf_low"]) - 1), 100 * (np.exp(d["conf_high"]) - 1)
            colors = np.where(d["value_tier"] == "low", "#D55E00", "#0072B2")
            ax.hlines(y, lo, hi, color=colors, lw=1.8)
            ax.scatter(pct, y, color=colors, zorder=3, s=22)
            if "true_effect" in d:
                ax.scatter(100 * (np.exp(d["true_effect"]) - 1), y, marker="x", color="black",
                           s=22, zorder=4, label="True effect (simulation)")
            ax.axvline(0, color="#555555", lw=0.8)
            ax.set_title(lab, fontsize=10)
            ax.set_xlabel("Effect, % (95% CI, heteroskedasticity-robust)")
        axes[0].set_yticks(list(ypos.values()),
                           [f"{c} — {t}" for c, t in ypos])
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], color="#D55E00", marker="o", lw=1.8, label="Low value (≤ $1,000)"),
                   Line2D([], [], color="#0072B2", marker="o", lw=1.8, label="High value (> $1,000)")]
        if "true_effect" in tidy:
            handles.append(Line2D([], [], color="black", marker="x", lw=0,
                                  label="True effect (simulation)"))
        fig.legend(handles=handles, loc="lower right", ncol=3, fontsize=8, frameon=False)
        fig.suptitle("Generative AI cut low-value posts in writing and translation; "
                     "high-value work held up", x=0.01, ha="left", fontweight="bold")
        add_source(fig, source)
        fig.tight_layout(rect=(0, 0.05, 1, 1))
    caption = ("Difference-in-differences effects by category and value tier (TWFE, unit and "
               "month fixed effects, never-exposed categories as controls, heteroskedasticity-"
               "robust SEs); crosses mark the simulation's true effects.")
    index.append((stem.name, caption))
    return save_figure(fig, stem, tidy)


def _write_summary(path: Path, source: str, posts_r: Any, cons_r: Any, panel: pd.DataFrame,
                   eff: Any, tidy: pd.DataFrame) -> None:
    def pct(x: float) -> str:
        return f"{100 * (np.exp(x) - 1):+.1f}%"

    lines = [
        "# laborai report summary",
        "",
        f"Data: {source}.",
        "",
        "## Data accounting",
        f"- Job posts read {posts_r.n_read:,}; kept {len(posts_r.data):,}; rejected "
        f"{len(posts_r.rejected):,}.",
        f"- Contracts read {cons_r.n_read:,}; kept {len(cons_r.data):,}; rejected "
        f"{len(cons_r.rejected):,}.",
        f"- Panel: {panel['unit'].nunique()} units x {panel['period'].nunique()} months; "
        f"posts in panel {int(panel['n_posts'].sum()):,}.",
        "",
        "## Effects (TWFE DiD by category x value tier)",
    ]
    for r in tidy[tidy["outcome"] == "log_n_posts"].itertuples():
        extra = (f" (true {pct(r.true_effect)})" if "true_effect" in tidy
                 and pd.notna(getattr(r, "true_effect", np.nan)) else "")
        lines.append(f"- Job posts, {r.category}, {r.value_tier}: {pct(r.estimate)} "
                     f"[{pct(r.conf_low)}, {pct(r.conf_high)}]{extra}")
    lines += ["", "## Equality of effects across groups (Wald)", ""]
    for r in eff.equality_tests.itertuples():
        lines.append(f"- {r.outcome}: statistic {r.statistic:.3f}, p = {r.p_value:.4f}")
    path.write_text("\n".join(lines) + "\n")


def _environment() -> str:
    lines = [f"laborai {__version__}", f"python {platform.python_version()}"]
    for name in _PINNED:
        try:
            lines.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:  # pragma: no cover
            lines.append(f"{name} (not installed)")
    return "\n".join(lines) + "\n"

