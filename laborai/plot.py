"""House style and figure output: colour-blind-safe, labelled, attributed, byte-reproducible.

Every figure is saved as SVG + PNG + the CSV of the numbers drawn (:func:`save_figure`); the
SVG uses a fixed hash salt and no date metadata, the PNG carries no ``Software`` tag, and the
CSV uses a fixed float format, so rebuilding with the same inputs gives identical bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["MIN_CELL", "OKABE_ITO", "add_source", "house_style", "save_figure", "suppress_small"]

#: Cells with fewer underlying observations than this are suppressed in figures and tables.
MIN_CELL = 10

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


def suppress_small(data: pd.DataFrame, n_col: str | Sequence[str], value_cols: Sequence[str],
                   min_n: int = MIN_CELL) -> pd.DataFrame:
    """Suppress cells built on fewer than ``min_n`` observations before they are drawn.

    Parameters
    ----------
    data : pandas.DataFrame
        The numbers to draw (not mutated).
    n_col : str or sequence of str
        Column(s) with the number of underlying observations of each row; a row is small when
        any of them is below ``min_n``.
    value_cols : sequence of str
        Columns set to NaN in small rows (so nothing is drawn for them).
    min_n : int, default 10
        The threshold.

    Returns
    -------
    pandas.DataFrame
        A copy with ``value_cols`` as float, NaN where suppressed, and a boolean ``suppressed``
        column (or-ed with an existing one). :meth:`laborai.report.AnalysisOutputs.figure`
        counts it and the report says how many cells were suppressed.

    Raises
    ------
    OptionError
        If ``min_n`` is not a non-negative integer.
    DataValidationError
        If a column is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"n": [5, 50], "share": [0.2, 0.3]})
    >>> suppress_small(d, "n", ["share"])["share"].isna().tolist()
    [True, False]
    """
    from laborai.errors import DataValidationError
    from laborai.indicators import suppress

    counts = [n_col] if isinstance(n_col, str) else list(n_col)
    missing = [c for c in [*counts, *value_cols] if c not in data.columns]
    if missing:
        raise DataValidationError(f"suppress_small: column(s) {missing} not in the data; "
                                  f"columns are {list(data.columns)}.")
    return suppress(data, counts, list(value_cols), min_n)
