"""What an analysis notebook records for the report: figures, text, tables, numbers, citations.

Every analysis in ``analyses/`` creates one :class:`AnalysisOutputs`, records its results in
the order they should appear in the report and calls :meth:`AnalysisOutputs.close`, which
writes ``<results_dir>/<name>.json``. The report renderer reads only those JSON records and
the figure files; nothing in the report is typed by hand.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from laborai.errors import LaborAIError, OptionError
from laborai.plot import save_figure

__all__ = ["SECTIONS", "AnalysisOutputs", "Section"]

Section = Literal["descriptive", "causal", "real_data", "methods"]
#: Report sections, in the order they appear.
SECTIONS: dict[str, str] = {
    "descriptive": "How much of the work is AI work",
    "causal": "The causal effect of generative AI on the marketplace",
    "real_data": "Real data: Upwork job posts and Indeed job postings",
    "methods": "Methods and data",
}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _check_name(kind: str, name: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise OptionError(f"{kind} name must be lower-case letters, digits and underscores "
                          f"starting with a letter; got {name!r}.")


def _check_section(section: str) -> None:
    if section not in SECTIONS:
        allowed = ", ".join(repr(s) for s in SECTIONS)
        raise OptionError(f"section must be one of {allowed}; got {section!r}.")


def _jsonable(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, (np.bool_,)):
        return bool(v)
    return v


class AnalysisOutputs:
    """Collect one analysis' figures, text, tables, numbers and citations for the report.

    Parameters
    ----------
    name : str
        The analysis (figure family) name, as the notebook file ``analyses/<name>.py``.
    title : str
        Heading of the analysis in the report.
    section : {"descriptive", "causal", "real_data", "methods"}
        Report section the analysis belongs to.
    figures_dir : str or pathlib.Path, default "figures"
        Where figures (SVG + PNG + CSV) are written.
    results_dir : str or pathlib.Path, default "build/results"
        Where the JSON record (and table CSVs) are written.

    Examples
    --------
    >>> import tempfile, matplotlib.pyplot as plt, pandas as pd
    >>> d = tempfile.mkdtemp()
    >>> out = AnalysisOutputs("demo", title="Demo", section="causal", figures_dir=d, results_dir=d)
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([1, 2], [3, 4])
    >>> out.figure(fig, "demo_line", data=pd.DataFrame({"x": [1, 2], "y": [3, 4]}),
    ...            caption="A line.", alt="A rising line.", source="Simulated marketplace, seed 1")
    >>> out.number("slope", 1.0, text="1.0")
    >>> out.close().name
    'demo.json'
    """

    def __init__(self, name: str, *, title: str, section: Section,
                 figures_dir: str | Path = "figures",
                 results_dir: str | Path = "build/results") -> None:
        _check_name("analysis", name)
        _check_section(section)
        self.name = name
        self.title = title
        self.section: str = section
        self.figures_dir = Path(figures_dir)
        self.results_dir = Path(results_dir)
        self._blocks: list[dict[str, Any]] = []
        self._numbers: dict[str, dict[str, Any]] = {}
        self._summary: list[str] = []
        self._citations: list[str] = []
        self._inputs: list[str] = []
        self._closed = False

    def __repr__(self) -> str:
        return (f"AnalysisOutputs({self.name!r}, section={self.section!r}, "
                f"blocks={len(self._blocks)}, numbers={len(self._numbers)})")

    # ------------------------------------------------------------------ recording
    def _open(self) -> None:
        if self._closed:
            raise LaborAIError(f"analysis {self.name!r} is closed; record results before close().")

    def _where(self, section: str | None) -> str:
        if section is None:
            return self.section
        _check_section(section)
        return section

    def figure(self, fig: Any, name: str, *, data: pd.DataFrame, caption: str, alt: str,
               source: str, section: Section | None = None,
               float_format: str = "%.6g") -> None:
        """Save a figure (SVG + PNG + CSV of the numbers drawn) and place it in the report.

        Parameters
        ----------
        fig : matplotlib.figure.Figure
            The figure (closed after saving).
        name : str
            File stem in ``figures_dir``; unique across the whole report.
        data : pandas.DataFrame
            The numbers drawn. A boolean ``suppressed`` column (from
            :func:`laborai.plot.suppress_small`) is counted and reported.
        caption, alt : str
            Caption shown under the figure and alt text for screen readers (both required).
        source : str
            Source line, e.g. ``"Simulated marketplace, seed 2024"``.
        section : str, optional
            Override the analysis' section for this figure.
        float_format : str, default "%.6g"
            Float format of the CSV.

        Raises
        ------
        OptionError
            For an invalid name, or an empty caption, alt text or source.
        """
        self._open()
        _check_name("figure", name)
        for what, text in (("caption", caption), ("alt", alt), ("source", source)):
            if not isinstance(text, str) or not text.strip():
                raise OptionError(f"figure {name!r}: {what} must be a non-empty string; "
                                  f"got {text!r}.")
        if not isinstance(data, pd.DataFrame):
            raise OptionError(f"figure {name!r}: data must be the DataFrame of the numbers "
                              f"drawn; got {type(data).__name__}.")
        hashes = save_figure(fig, self.figures_dir / name, data, float_format=float_format)
        n_sup = int(data["suppressed"].astype(bool).sum()) if "suppressed" in data else 0
        self._blocks.append({"kind": "figure", "name": name, "caption": caption, "alt": alt,
                             "source": source, "section": self._where(section),
                             "files": sorted(hashes), "n_suppressed": n_sup})
        if source not in self._inputs:
            self._inputs.append(source)

    def text(self, text: str, *, section: Section | None = None) -> None:
        """Add a paragraph (plain text; numbers formatted from results, never typed)."""
        self._open()
        if not isinstance(text, str) or not text.strip():
            raise OptionError(f"text must be a non-empty string; got {text!r}.")
        self._blocks.append({"kind": "text", "text": text.strip(),
                             "section": self._where(section)})

    def table(self, name: str, data: pd.DataFrame, *, caption: str,
              float_format: str = "{:.3f}", section: Section | None = None) -> None:
        """Add a small table to the report and write it as ``<results_dir>/<name>.csv``.

        Parameters
        ----------
        name : str
            Table name (file stem).
        data : pandas.DataFrame
            The table; at most 60 rows are shown in the report.
        caption : str
            Caption.
        float_format : str, default "{:.3f}"
            Python format of float cells in the report.
        section : str, optional
            Override the analysis' section for this table.
        """
        self._open()
        _check_name("table", name)
        if not isinstance(data, pd.DataFrame):
            raise OptionError(f"table {name!r}: data must be a DataFrame; got "
                              f"{type(data).__name__}.")
        if len(data) > 60:
            raise OptionError(f"table {name!r} has {len(data)} rows; the report shows at most "
                              "60. Summarise it, or save it as a figure's data instead.")
        self.results_dir.mkdir(parents=True, exist_ok=True)
        data.to_csv(self.results_dir / f"{name}.csv", index=False, float_format="%.10g",
                    lineterminator="\n")

        def cell(v: Any) -> str:
            if isinstance(v, (bool, np.bool_)):
                return "yes" if v else "no"
            if v is None or v is pd.NA or v is pd.NaT or (
                    isinstance(v, (float, np.floating)) and not math.isfinite(float(v))):
                return "–"
            if isinstance(v, (float, np.floating)):
                return float_format.format(float(v))
            return str(v)

        rows = [[cell(v) for v in r] for r in data.itertuples(index=False)]
        self._blocks.append({"kind": "table", "name": name, "caption": caption,
                             "columns": [str(c) for c in data.columns], "rows": rows,
                             "section": self._where(section)})

    def number(self, key: str, value: float, *, text: str) -> None:
        """Record a named headline number with its formatted text (used by the summary)."""
        self._open()
        _check_name("number", key)
        self._numbers[key] = {"value": _jsonable(value), "text": text}

    def summary(self, text: str) -> None:
        """Add one plain-language bullet to the report's summary (numbers from results)."""
        self._open()
        if not isinstance(text, str) or not text.strip():
            raise OptionError(f"summary must be a non-empty string; got {text!r}.")
        self._summary.append(text.strip())

    def citation(self, text: str) -> None:
        """Add a reference shown in the methods and data section (deduplicated)."""
        self._open()
        if text not in self._citations:
            self._citations.append(text)

    # ------------------------------------------------------------------ writing
    def record(self) -> dict[str, Any]:
        """The JSON-serialisable record of everything added so far."""
        return {"name": self.name, "title": self.title, "section": self.section,
                "blocks": self._blocks, "numbers": self._numbers, "summary": self._summary,
                "citations": self._citations, "inputs": self._inputs}

    def close(self) -> Path:
        """Write ``<results_dir>/<name>.json`` (sorted keys, fixed format) and return its path."""
        self._open()
        if not any(b["kind"] == "figure" for b in self._blocks) and not self._numbers:
            raise LaborAIError(f"analysis {self.name!r} recorded no figure and no number; "
                               "nothing would reach the report.")
        self.results_dir.mkdir(parents=True, exist_ok=True)
        path = self.results_dir / f"{self.name}.json"
        path.write_text(json.dumps(self.record(), indent=1, sort_keys=True, ensure_ascii=False)
                        + "\n", encoding="utf-8")
        self._closed = True
        return path
