"""Side-by-side regression tables (``etable``) built from results' ``tidy()`` frames."""

from __future__ import annotations

import html as _html
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from laborai._results import _latex_escape
from laborai._validation import check_option
from laborai.errors import OptionError

__all__ = ["etable", "headline"]

_INFERENCE = {"cluster": "CRV1", "hetero": "HC1", "iid": "iid", "wild": "WCR bootstrap",
              "placebo": "placebo (Conley-Taber)"}


def _fmt(x: Any, digits: int) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return ""
    return "" if not np.isfinite(v) else f"{v:.{digits}f}"


def _stars(p: Any, cuts: Sequence[float]) -> str:
    try:
        v = float(p)
    except (TypeError, ValueError):
        return ""
    if not np.isfinite(v):
        return ""
    return "*" * sum(v < c for c in sorted(cuts, reverse=True))


def headline(result: Any) -> pd.Series:
    """The headline effect of a result: one row of its ``tidy()`` (``term`` renamed ``ATT``).

    ``TWFEResult``: the treatment term (``twfe``) or the triple difference (``ddd``);
    ``AggregateResult``: the overall aggregate; ``SDIDResult``: the ``ATT`` row; any result
    whose ``tidy()`` has a single row: that row.

    Raises
    ------
    OptionError
        If the result has no single headline effect (e.g. an event study).
    """
    t = result.tidy()
    cls = type(result).__name__
    row = None
    if cls == "TWFEResult":
        if "effect" in t.columns and (t["effect"] == "ddd").any():
            row = t[t["effect"] == "ddd"].iloc[0]
        else:
            row = t.iloc[0]
    elif cls == "AggregateResult":
        est, se = float(result.overall_estimate), float(result.overall_std_error)
        from laborai._results import wald_table

        w = wald_table([est], [se], alpha=float(result.settings.get("alpha", 0.05))).iloc[0]
        row = w
    elif "term" in t.columns and (t["term"] == "ATT").any():
        row = t[t["term"] == "ATT"].iloc[-1]
    elif len(t) == 1:
        row = t.iloc[0]
    if row is None:
        raise OptionError(f"etable(headline=True): a {cls} has no single headline effect "
                          f"({len(t)} rows); pass it without headline or pick terms=.")
    out = pd.Series(row).copy()
    out["term"] = "ATT"
    return out


def _columns(name: str, r: Any) -> list[tuple[str, Any, pd.DataFrame, str | None]]:
    """One table column per (result, outcome): (header, result, tidy rows, outcome)."""
    members = getattr(r, "results", None)
    if type(r).__name__ == "ResultSet" and isinstance(members, Mapping):
        # several outcomes of one estimator (la.did.ResultSet): one column per outcome, each
        # with its own result's footer (fixed effects, R2, ...)
        return [(f"{name}: {o}", m, t, str(o))
                for o, m in members.items() for _, _, t, _ in _columns(name, m)]
    t = r.tidy()
    missing = {"term", "estimate", "std_error", "p_value"} - set(t.columns)
    if missing:
        raise OptionError(f"result {name} has no tidy columns {sorted(missing)}; etable needs "
                          "term, estimate, std_error and p_value.")
    if "outcome" in t.columns and t["outcome"].nunique() > 1:
        return [(f"{name}: {o}", r, d, str(o)) for o, d in t.groupby("outcome", sort=False)]
    out = str(t["outcome"].iloc[0]) if "outcome" in t.columns and len(t) else None
    return [(name, r, t, out)]


def _setting(r: Any, key: str) -> Any:
    prov = getattr(r, "provenance", None)
    s = getattr(prov, "settings", None) or getattr(r, "settings", None) or {}
    return s.get(key) if hasattr(s, "get") else None


def _depvar(r: Any, outcome: str | None) -> str:
    if outcome is not None:
        return outcome
    y = _setting(r, "yname")
    return "" if y is None else str(y)


def _fixed_effects(r: Any) -> str:
    cls = type(r).__name__
    i, t = _setting(r, "idname"), _setting(r, "tname")
    extra = "".join(f", {f}" for f in (_setting(r, "fe") or ()))  # fe=[...] / formula a^b
    if cls in ("TWFEResult", "EventStudyResult", "SunAbrahamResult") and i and t:
        if _setting(r, "high_time_fe"):
            return f"{i}, {t} x tier{extra}"
        return f"{i}, {t}{extra}"
    if cls == "EffectsResult":
        return f"{_setting(r, 'idname')}, {_setting(r, 'tname')}{extra}"
    return ""


def _nobs(r: Any, outcome: str | None) -> str:
    n = getattr(r, "nobs", None)
    if isinstance(n, Mapping):
        n = n.get(outcome) if outcome is not None else (next(iter(n.values())) if n else None)
    return "" if n is None else f"{int(n):,}"


def _r2(r: Any, attr: str, digits: int) -> str:
    return _fmt(getattr(r, attr, math.nan), digits)


def etable(
    results: Sequence[Any] | Mapping[str, Any],
    *,
    terms: Sequence[str] | None = None,
    rename: Mapping[str, str] | None = None,
    headline: bool = False,
    digits: int = 3,
    stars: Sequence[float] = (0.1, 0.05, 0.01),
    format: Literal["dataframe", "markdown", "latex", "html"] = "dataframe",
) -> pd.DataFrame | str:
    """Regression table: one column per model and outcome, estimates with (standard errors).

    Parameters
    ----------
    results : sequence of results or mapping name -> result
        laborai results whose ``tidy()`` has ``term, estimate, std_error, p_value``. A result
        with several outcomes (``estimate_effects``, a :class:`laborai.did.ResultSet`) gives
        one column per outcome (a ResultSet passed alone is a mapping outcome -> result).
        Headers are the mapping keys, or ``(1), (2), ...``.
    terms : sequence of str, optional
        Rows to show, in this order (default: every term, in order of first appearance). A
        term that no result has raises ``OptionError``.
    rename : mapping, optional
        Display names of terms, e.g. ``{"treated_post": "AI exposure x post"}``.
    headline : bool, default False
        Show one row, ``ATT``, with each result's headline effect (:func:`headline`), so that
        the effects of different estimators share a row.
    digits : int, default 3
        Decimal places.
    stars : sequence of float, default (0.1, 0.05, 0.01)
        Significance cut-offs for ``*``, ``**``, ``***`` (each result's ``p_value``: the
        placebo or wild bootstrap p-value where that is the inference); ``()`` for none.
    format : {'dataframe', 'markdown', 'latex', 'html'}, default 'dataframe'
        Output type.

    Returns
    -------
    pandas.DataFrame or str
        Rows: for each term the estimate and, below it, the standard error in parentheses;
        then ``Dependent variable``, ``Fixed effects``, ``Observations``, ``R2``,
        ``R2 (within)``, ``Inference``, ``Clusters`` and ``Family`` where available.

    Raises
    ------
    OptionError
        Empty ``results``, bad ``format``, unknown ``terms``, a result without the required
        tidy columns, or (``headline=True``) a result without a headline effect.

    Notes
    -----
    A view only: every number comes from the results' ``tidy()`` frames, so the table
    matches the results exactly (no re-estimation).

    References
    ----------
    Berge, L. (2018). fixest: ``etable``, R package documentation.
    """
    check_option("format", format, ("dataframe", "markdown", "latex", "html"))
    if isinstance(results, Mapping):
        names, objs = [str(k) for k in results], list(results.values())
    else:
        objs = list(results)
        names = [f"({i + 1})" for i in range(len(objs))]
    if not objs:
        raise OptionError("results must contain at least one result; got none.")
    cols = [c for name, r in zip(names, objs, strict=True) for c in _columns(name, r)]
    if headline:
        tidies = [pd.DataFrame([_headline_row(r)]).set_index("term") for _, r, _, _ in cols]
    else:
        tidies = [t.drop_duplicates("term").set_index("term") for _, _, t, _ in cols]
    available = list(dict.fromkeys(term for t in tidies for term in t.index))
    if terms is not None and not headline:
        unknown = [t for t in terms if t not in available]
        if unknown:
            raise OptionError(f"etable: term(s) {unknown} are in none of the results; "
                              f"available: {available}.")
    order = list(terms) if terms is not None and not headline else available
    ren = dict(rename or {})
    rows: list[list[str]] = []
    index: list[str] = []
    for term in order:
        est, se = [], []
        for t in tidies:
            if term in t.index:
                row = t.loc[term]
                est.append(_fmt(row["estimate"], digits) + _stars(row["p_value"], stars))
                s = _fmt(row["std_error"], digits)
                se.append(f"({s})" if s else "")
            else:
                est.append("")
                se.append("")
        rows += [est, se]
        index += [ren.get(term, term), ""]
    footer = {
        "Dependent variable": [_depvar(r, o) for _, r, _, o in cols],
        "Fixed effects": [_fixed_effects(r) for _, r, _, _ in cols],
        "Observations": [_nobs(r, o) for _, r, _, o in cols],
        "R2": [_r2(r, "r2", digits) for _, r, _, _ in cols],
        "R2 (within)": [_r2(r, "r2_within", digits) for _, r, _, _ in cols],
        "Inference": [_INFERENCE.get(str(getattr(r, "vcov_type", "")), "")
                      for _, r, _, _ in cols],
        "Clusters": [("" if getattr(r, "n_clusters", None) is None else str(r.n_clusters))
                     for _, r, _, _ in cols],
        "Family": [str(getattr(r, "family", "")) for _, r, _, _ in cols],
    }
    n_coef = len(rows)
    for k, vals in footer.items():
        if any(vals):
            rows.append(vals)
            index.append(k)
    headers = [c[0] for c in cols]
    table = pd.DataFrame(rows, index=pd.Index(index, name=""), columns=headers)
    note = ", ".join(f"{'*' * (j + 1)} p < {c:g}" for j, c in enumerate(sorted(stars, reverse=True)))
    if format == "dataframe":
        return table
    if format == "markdown":
        lines = ["| | " + " | ".join(headers) + " |", "|---" * (len(headers) + 1) + "|"]
        lines += ["| " + " | ".join([str(i), *r]) + " |" for i, r in zip(index, rows, strict=True)]
        return "\n".join(lines) + ("\n\n" + note if note else "") + "\n"
    if format == "html":
        e = _html.escape
        out = ['<table class="laborai-etable">', "<thead><tr><th></th>"
               + "".join(f"<th>{e(h)}</th>" for h in headers) + "</tr></thead>", "<tbody>"]
        for i, (lab, r) in enumerate(zip(index, rows, strict=True)):
            cls = ' class="footer"' if i == n_coef else ""
            out.append(f"<tr{cls}><th>{e(lab)}</th>" + "".join(f"<td>{e(c)}</td>" for c in r)
                       + "</tr>")
        out.append("</tbody>")
        if note:
            out.append(f'<tfoot><tr><td colspan="{len(headers) + 1}">{e(note)}</td></tr></tfoot>')
        out.append("</table>")
        return "\n".join(out) + "\n"
    body = [r"\begin{tabular}{l" + "c" * len(headers) + "}", r"\toprule",
            " & " + " & ".join(_latex_escape(n) for n in headers) + r" \\", r"\midrule"]
    for i, (lab, r) in enumerate(zip(index, rows, strict=True)):
        if i == n_coef:
            body.append(r"\midrule")
        cells = [_latex_escape(c.rstrip("*")) + (f"$^{{{'*' * (len(c) - len(c.rstrip('*')))}}}$"
                                                 if c.endswith("*") else "") for c in r]
        body.append(" & ".join([_latex_escape(lab), *cells]) + r" \\")
    body += [r"\bottomrule", r"\end{tabular}"]
    if note:
        body.append(r"\par\footnotesize " + _latex_escape(note).replace("*", r"$^{*}$"))
    return "\n".join(body) + "\n"


_headline_row = headline
