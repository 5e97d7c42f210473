"""House style and figure output: colour-blind-safe, labelled, attributed, byte-reproducible.

Every figure is saved as SVG + PNG + the CSV of the numbers drawn (:func:`save_figure`); the
SVG uses a fixed hash salt and no date metadata, the PNG carries no ``Software`` tag, and the
CSV uses a fixed float format, so rebuilding with the same inputs gives identical bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["OKABE_ITO", "add_source", "house_style", "save_figure"]

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9",
                              "#F0E442", "#000000")

_RC: dict[str, Any] = {
    "svg.hashsalt": "laborai",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "path.simplify": False,
}


@contextmanager
def house_style() -> Iterator[None]:
    """Context manager applying laborai's matplotlib style (palette, fonts, deterministic SVG)."""
    import matplotlib as mpl
    from cycler import cycler

    rc = dict(_RC)
    rc["axes.prop_cycle"] = cycler(color=list(OKABE_ITO))
    with mpl.rc_context(rc):  # type: ignore[arg-type]
        yield


def add_source(fig: Any, text: str) -> None:
    """Write a source line (e.g. ``"Simulated marketplace, seed 2024"``) under the figure."""
    fig.text(0.01, 0.005, f"Source: {text}", ha="left", va="bottom", fontsize=7.5, color="#555555")


def save_figure(fig: Any, stem: str | Path, data: pd.DataFrame, *, float_format: str = "%.6g") -> dict[str, str]:
    """Save ``fig`` as ``stem.svg`` and ``stem.png`` and ``data`` as ``stem.csv``, reproducibly.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure (closed after saving).
    stem : str or pathlib.Path
        Output path without suffix; parent folders are created.
    data : pandas.DataFrame
        The numbers drawn in the figure.
    float_format : str, default "%.6g"
        Float format of the CSV.

    Returns
    -------
    dict of str to str
        File name to SHA-256 of each file written.
    """
    import matplotlib.pyplot as plt

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    with house_style():
        fig.savefig(stem.with_suffix(".svg"), format="svg", metadata={"Date": None, "Creator": None})
        fig.savefig(stem.with_suffix(".png"), format="png", metadata={"Software": None})
    plt.close(fig)
    data.to_csv(stem.with_suffix(".csv"), index=False, float_format=float_format, lineterminator="\n")
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in (stem.with_suffix(s) for s in (".svg", ".png", ".csv"))}
