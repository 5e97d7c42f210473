"""Side-by-side regression tables (``etable``) built from results' ``tidy()`` frames."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from laborai._validation import check_option
from laborai.did._results import _latex_escape
from laborai.errors import OptionError

__all__ = ["etable"]

_INFERENCE = {"cluster": "CRV1", "hetero": "HC1", "wild": "WCR bootstrap"}


def _fmt(x: float, digits: int) -> str:
    return "" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _stars(p: float, cuts: Sequence[float]) -> str:
    if p is None or not np.isfinite(p):
        return ""
    return "*" * sum(p < c for c in sorted(cuts, reverse=True))


def etable(
    results: Sequence[Any] | Mapping[str, Any],
    *,
    terms: Sequence[str] | None = None,
    digits: int = 3,
    stars: Sequence[float] = (0.1, 0.05, 0.01),
    format: Literal["dataframe", "markdown", "latex"] = "dataframe",
) -> pd.DataFrame | str:
    """Regression table with one column per result: estimates, (standard errors), statistics.

    Parameters
    ----------
    results : sequence of results or mapping name -> result
        Any laborai results whose ``tidy()`` has ``term, estimate, std_error, p_value``
        (e.g. :class:`~laborai.did.TWFEResult`, :class:`~laborai.did.EventStudyResult`).
        Column headers are the mapping keys, or ``(1), (2), ...``.
    terms : sequence of str, optional
        Rows to show, in this order (default: every term, in order of first appearance).
    digits : int, default 3
        Decimal places.
    stars : sequence of float, default (0.1, 0.05, 0.01)
        Significance cut-offs for ``*``, ``**``, ``***`` (based on each result's ``p_value``,
        i.e. the wild bootstrap p-value under ``vcov='wild'``); ``()`` for none.
    format : {'dataframe', 'markdown', 'latex'}, default 'dataframe'
        Output type.

    Returns
    -------
    pandas.DataFrame or str
        Rows: for each term the estimate and, below it, the standard error in parentheses;
        then ``Observations``, ``Inference``, ``Clusters`` and ``Family`` where available.

    Raises
    ------
    OptionError
        Empty ``results``, bad ``format``, or a result without the required tidy columns.

    Notes
    -----
    A view only: every number comes from the results' ``tidy()`` frames, so the table
    matches the results exactly (no re-estimation).

    References
    ----------
    Berge, L. (2018). fixest: ``etable``, R package documentation.
    """
    check_option("format", format, ("dataframe", "markdown", "latex"))
    if isinstance(results, Mapping):
        names, objs = [str(k) for k in results], list(results.values())
    else:
        objs = list(results)
        names = [f"({i + 1})" for i in range(len(objs))]
    if not objs:
        raise OptionError("results must contain at least one result; got none.")
    tidies = []
    for name, r in zip(names, objs, strict=True):
        t = r.tidy()
        missing = {"term", "estimate", "std_error", "p_value"} - set(t.columns)
        if missing:
            raise OptionError(
                f"result {name} has no tidy columns {sorted(missing)}; etable needs term, "
                "estimate, std_error and p_value."
            )
        tidies.append(t.drop_duplicates("term").set_index("term"))
    order = list(terms) if terms is not None else list(
        dict.fromkeys(term for t in tidies for term in t.index))
    rows: list[list[str]] = []
    index: list[str] = []
    for term in order:
        est, se = [], []
        for t in tidies:
            if term in t.index:
                row = t.loc[term]
                est.append(_fmt(float(row["estimate"]), digits)
                           + _stars(float(row["p_value"]), stars))
                s = _fmt(float(row["std_error"]), digits)
                se.append(f"({s})" if s else "")
            else:
                est.append("")
                se.append("")
        rows += [est, se]
        index += [term, ""]
    footer = {
        "Observations": [str(getattr(r, "nobs", "")) for r in objs],
        "Inference": [_INFERENCE.get(str(getattr(r, "vcov_type", "")), "") for r in objs],
        "Clusters": [("" if getattr(r, "n_clusters", None) is None else str(r.n_clusters))
                     for r in objs],
        "Family": [str(getattr(r, "family", "")) for r in objs],
    }
    for k, vals in footer.items():
        if any(vals):
            rows.append(vals)
            index.append(k)
    table = pd.DataFrame(rows, index=pd.Index(index, name=""), columns=names)
    if format == "dataframe":
        return table
    if format == "markdown":
        lines = ["| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
        lines += ["| " + " | ".join([str(i), *r]) + " |" for i, r in zip(index, rows, strict=True)]
        note = ", ".join(f"{'*' * (j + 1)} p < {c:g}"
                         for j, c in enumerate(sorted(stars, reverse=True)))
        return "\n".join(lines) + ("\n\n" + note if note else "") + "\n"
    body = [r"\begin{tabular}{l" + "c" * len(names) + "}", r"\toprule",
            " & " + " & ".join(_latex_escape(n) for n in names) + r" \\", r"\midrule"]
    n_coef = 2 * len(order)
    for i, (lab, r) in enumerate(zip(index, rows, strict=True)):
        if i == n_coef:
            body.append(r"\midrule")
        cells = [c.replace("*", "$^{*}$") if "*" in c else c for c in r]
        cells = [c.replace("$^{*}$$^{*}$$^{*}$", "$^{***}$").replace("$^{*}$$^{*}$", "$^{**}$")
                 for c in cells]
        body.append(" & ".join([_latex_escape(lab), *cells]) + r" \\")
    body += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(body) + "\n"
