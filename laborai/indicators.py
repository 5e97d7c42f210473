"""Descriptive indicators of AI work (and cloud and RPA work) on the marketplace.

Every function takes job posts with boolean flag columns (from
:func:`laborai.classify.flag_posts`, or the simulator's ground truth ``is_ai`` etc.) and returns
a tidy DataFrame that a figure function can draw: design columns (``technology``, ``period``,
``category``, ``family``), counts, the indicator, and a ``suppressed`` flag.

Small cells are never shown: a count below ``min_cell`` (default 10) is replaced by NaN, and so
is every share whose numerator or denominator is below ``min_cell`` (a share and its
denominator would reveal the small numerator); ``suppressed`` marks those rows. Counts are
floats so that suppressed values can be NaN.

Examples
--------
>>> import laborai as la
>>> from laborai import indicators
>>> posts = la.simulate_marketplace(seed=1, n_posts=20_000).job_posts
>>> t = indicators.share_by_category(posts, flag="is_ai", period="year")
>>> list(t.columns)
['category', 'period', 'n_posts', 'n_flagged', 'share', 'suppressed']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from laborai import taxonomy
from laborai._validation import check_option
from laborai.errors import DataValidationError, OptionError

__all__ = [
    "ALL_CATEGORIES",
    "DEFAULT_SPANS",
    "MIN_CELL",
    "PUBLISHED_TARGETS",
    "calibration",
    "category_group_share",
    "concentration",
    "distribution",
    "high_value_share",
    "share_by_category",
    "skill_family_demand",
    "suppress",
    "yoy_growth",
]

Period = Literal["year", "quarter", "month"]

#: Default minimum number of posts behind a published count or share.
MIN_CELL = 10
#: Label of the all-categories rows.
ALL_CATEGORIES = "All categories"
#: The report's comparison periods: before generative AI and after (inclusive date spans).
DEFAULT_SPANS: Mapping[str, tuple[str, str]] = {
    "2020-21": ("2020-01-01", "2021-12-31"),
    "2022-23": ("2022-01-01", "2023-12-31"),
}
_TECHNICAL = ("Data Science & Analytics", "Web, Mobile & Software Dev")
_SOFTWARE = ("Web, Mobile & Software Dev",)
_IT_SOFTWARE = ("IT & Networking", "Web, Mobile & Software Dev")
_FREQ = {"year": "Y", "quarter": "Q", "month": "M"}

#: Published figures checked by :func:`calibration`: (key, description, target, tolerance rule).
PUBLISHED_TARGETS: tuple[tuple[str, str, float, str], ...] = (
    ("technical_share_2020_21", "Technical categories' share of AI posts, 2020-21", 0.70,
     "above"),
    ("technical_share_2022_23", "Technical categories' share of AI posts, 2022-23", 0.55,
     "within 0.05"),
    ("translation_share_2020_21", "Translation's share of AI posts, 2020-21", 0.01,
     "within 0.01"),
    ("translation_share_2022_23", "Translation's share of AI posts, 2022-23", 0.07, "above"),
    ("cloud_it_software_share", "IT & Networking + software share of cloud posts", 0.80,
     "above"),
    ("rpa_software_share", "Software share of RPA posts", 0.69, "within 0.05"),
    ("nontechnical_growth_2023", "YoY growth of AI posts in non-technical categories, 2023",
     2.68, "within 0.50"),
    ("high_value_share_2022_23", "Share of AI posts that are high-value, 2022-23", 0.58,
     "within 0.05"),
    ("translation_high_value_2022_23", "Share of Translation AI posts that are high-value, "
     "2022-23", 0.86, "within 0.05"),
)


# ----------------------------------------------------------------------------- helpers


def suppress(frame: pd.DataFrame, counts: Sequence[str], hide: Sequence[str],
             min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Suppress small cells: NaN in ``hide`` where any of ``counts`` is below ``min_cell``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Indicator table (not mutated).
    counts : sequence of str
        Count columns the values of a row are built from (numerators and denominators).
    hide : sequence of str
        Columns set to NaN in suppressed rows (the small counts and the shares built on them).
    min_cell : int, default 10
        Minimum number of posts.

    Returns
    -------
    pandas.DataFrame
        A copy with ``hide`` columns as float and a boolean ``suppressed`` column (or-ed with an
        existing one).

    Raises
    ------
    OptionError
        If ``min_cell`` is not a non-negative integer.
    """
    _check_min_cell(min_cell)
    out = frame.copy()
    small = np.zeros(len(out), dtype=bool)
    for c in counts:
        small |= out[c].to_numpy(dtype=float) < min_cell
    for c in hide:
        vals = out[c].to_numpy(dtype=float).copy()
        vals[small] = np.nan
        out[c] = vals
    prev = out["suppressed"].to_numpy(dtype=bool) if "suppressed" in out.columns else False
    out["suppressed"] = small | prev
    return out


def _check_min_cell(min_cell: int) -> None:
    if not isinstance(min_cell, (int, np.integer)) or isinstance(min_cell, bool) or min_cell < 0:
        raise OptionError(f"min_cell must be a non-negative integer; got {min_cell!r}.")


def _need(posts: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    if not isinstance(posts, pd.DataFrame):
        raise DataValidationError(f"posts must be a pandas DataFrame; got "
                                  f"{type(posts).__name__}.")
    missing = [c for c in cols if c not in posts.columns]
    if missing:
        raise DataValidationError(
            f"posts: {what} needs column(s) {missing}; got columns {list(posts.columns)[:14]}. "
            "Flag columns come from la.classify.flag_posts(posts, technology=...) (or use the "
            "simulator's ground truth, e.g. flag='is_ai')."
        )


def _flag(posts: pd.DataFrame, flag: str) -> np.ndarray:
    _need(posts, [flag], "this indicator")
    s = posts[flag]
    if s.isna().any():
        bad = posts.index[s.isna()][:5].tolist()
        raise DataValidationError(f"posts: flag column {flag!r} has {int(s.isna().sum())} "
                                  f"missing values (rows {bad}); flags must be True/False.")
    if s.dtype != bool:
        vals = [v for v in pd.unique(s) if v not in (0, 1, True, False)]
        if vals:
            raise DataValidationError(f"posts: flag column {flag!r} must be boolean; got values "
                                      f"such as {vals[:5]!r}.")
    return s.to_numpy(dtype=bool)


def _dates(posts: pd.DataFrame) -> pd.Series:
    _need(posts, ["posted_date"], "this indicator")
    d = posts["posted_date"]
    if not pd.api.types.is_datetime64_any_dtype(d):
        raise DataValidationError(f"posts: column 'posted_date' must be datetime64; got dtype "
                                  f"{d.dtype}. Convert with pd.to_datetime(posts['posted_date']).")
    if d.isna().any():
        raise DataValidationError(f"posts: column 'posted_date' has {int(d.isna().sum())} "
                                  "missing dates; every post needs a date.")
    return d


def _periods(posts: pd.DataFrame, period: str) -> np.ndarray:
    check_option("period", period, tuple(_FREQ))
    return _dates(posts).dt.to_period(_FREQ[period]).astype(str).to_numpy(dtype=object)


def _spans(posts: pd.DataFrame, spans: Mapping[str, tuple[str, str]]) -> np.ndarray:
    d = _dates(posts).to_numpy()
    lab = np.full(len(posts), None, dtype=object)
    if not spans:
        raise OptionError("spans must name at least one period, e.g. "
                          "{'2020-21': ('2020-01-01', '2021-12-31')}.")
    for name, (a, b) in spans.items():
        lo, hi = np.datetime64(pd.Timestamp(a)), np.datetime64(pd.Timestamp(b) + pd.Timedelta(days=1))
        if hi <= lo:
            raise OptionError(f"spans[{name!r}] must end after it starts; got ({a!r}, {b!r}).")
        m = (d >= lo) & (d < hi)
        if (m & (lab != None)).any():  # noqa: E711 - elementwise comparison
            raise OptionError(f"spans overlap at {name!r}; give disjoint date ranges.")
        lab[m] = name
    return lab


def _categories(posts: pd.DataFrame) -> list[str]:
    _need(posts, ["category"], "this indicator")
    known = taxonomy.category_names()
    # the distinct values first: iterating a million Arrow strings in Python took 0.4 s a call
    extra = sorted(set(posts["category"].astype(str).unique()) - set(known))
    return list(known) + extra


def _counts(keys: pd.DataFrame, weights: np.ndarray | None = None) -> pd.Series:
    return keys.assign(_w=1 if weights is None else weights).groupby(
        list(keys.columns), sort=False)["_w"].sum()


# ----------------------------------------------------------------------------- indicators


def share_by_category(posts: pd.DataFrame, flag: str = "flag_ai", period: Period = "year",
                      min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Share of job posts that are flagged (e.g. AI-related), by category and period.

    Parameters
    ----------
    posts : pandas.DataFrame
        Job posts with ``category``, ``posted_date`` and the boolean ``flag`` column.
    flag : str, default "flag_ai"
        Flag column.
    period : {"year", "quarter", "month"}, default "year"
        Calendar period (labels ``"2021"``, ``"2021Q1"``, ``"2021-01"``).
    min_cell : int, default 10
        Small-cell threshold (see :func:`suppress`).

    Returns
    -------
    pandas.DataFrame
        ``category, period, n_posts, n_flagged, share, suppressed``: one row per category x
        period (all taxonomy categories, explicit zeros) plus ``"All categories"`` rows;
        sorted by category (taxonomy order, then all) and period.

    Raises
    ------
    DataValidationError
        For missing columns, missing dates or non-boolean flags.
    OptionError
        For an unknown ``period`` or invalid ``min_cell``.

    Notes
    -----
    ``share = n_flagged / n_posts`` in the cell. Suppressed when ``n_posts`` or ``n_flagged``
    is below ``min_cell``.
    """
    f = _flag(posts, flag)
    per = _periods(posts, period)
    cats = _categories(posts)
    periods = sorted(set(per.tolist()))
    keys = pd.DataFrame({"category": posts["category"].astype(str).to_numpy(dtype=object),
                         "period": per})
    n = _counts(keys)
    k = _counts(keys, f.astype(np.int64))
    grid = pd.MultiIndex.from_product([cats, periods], names=["category", "period"])
    out = pd.DataFrame({"n_posts": n.reindex(grid, fill_value=0),
                        "n_flagged": k.reindex(grid, fill_value=0)}).reset_index()
    tot = out.groupby("period", sort=True)[["n_posts", "n_flagged"]].sum().reset_index()
    tot.insert(0, "category", ALL_CATEGORIES)
    out = pd.concat([out, tot], ignore_index=True)
    out["n_posts"] = out["n_posts"].astype(float)
    out["n_flagged"] = out["n_flagged"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share"] = out["n_flagged"] / out["n_posts"]
    out = suppress(out, ["n_posts", "n_flagged"], ["n_flagged", "share"], min_cell)
    # n_posts itself is hidden only when it is the small count
    out.loc[out["n_posts"] < min_cell, "n_posts"] = np.nan
    return out[["category", "period", "n_posts", "n_flagged", "share", "suppressed"]]


def distribution(posts: pd.DataFrame, flag: str = "flag_ai",
                 spans: Mapping[str, tuple[str, str]] = DEFAULT_SPANS,
                 min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Distribution of flagged posts across categories, by period (Figures 1 and 2).

    Parameters
    ----------
    posts : pandas.DataFrame
        Job posts with ``category``, ``posted_date`` and the ``flag`` column.
    flag : str, default "flag_ai"
        Flag column (``"flag_cloud"``, ``"flag_rpa"`` for the other technologies).
    spans : mapping of str to (start, end), default :data:`DEFAULT_SPANS`
        Named inclusive date ranges (2020-21 and 2022-23); posts outside every span are not
        part of any period.
    min_cell : int, default 10
        Small-cell threshold.

    Returns
    -------
    pandas.DataFrame
        ``period, category, n_flagged, n_period, share, suppressed``; ``share`` is the category's
        share of the period's flagged posts (shares of a period sum to one before suppression).

    Raises
    ------
    DataValidationError
        For missing columns, dates or non-boolean flags.
    OptionError
        For overlapping or empty spans, invalid ``min_cell``.

    Notes
    -----
    ``share_c = n_flagged_c / sum_c' n_flagged_c'`` within a period. Suppressed when
    ``n_flagged_c`` or the period total is below ``min_cell``.
    """
    f = _flag(posts, flag)
    lab = _spans(posts, spans)
    cats = _categories(posts)
    use = f & (lab != None)  # noqa: E711
    keys = pd.DataFrame({"period": lab[use],
                         "category": posts["category"].astype(str).to_numpy(dtype=object)[use]})
    k = _counts(keys)
    grid = pd.MultiIndex.from_product([list(spans), cats], names=["period", "category"])
    out = k.reindex(grid, fill_value=0).rename("n_flagged").reset_index()
    out["n_flagged"] = out["n_flagged"].astype(float)
    out["n_period"] = out.groupby("period", sort=False)["n_flagged"].transform("sum")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share"] = out["n_flagged"] / out["n_period"]
    out = suppress(out, ["n_flagged", "n_period"], ["n_flagged", "share"], min_cell)
    out.loc[out["n_period"] < min_cell, "n_period"] = np.nan
    return out[["period", "category", "n_flagged", "n_period", "share", "suppressed"]]


def category_group_share(posts: pd.DataFrame, categories: Sequence[str], flag: str = "flag_ai",
                         spans: Mapping[str, tuple[str, str]] = DEFAULT_SPANS,
                         min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Share of a period's flagged posts that fall in a group of categories.

    Parameters
    ----------
    posts : pandas.DataFrame
        Job posts with ``category``, ``posted_date`` and the ``flag`` column.
    categories : sequence of str
        The group, e.g. ``["Data Science & Analytics", "Web, Mobile & Software Dev"]`` (the
        report's technical categories).
    flag : str, default "flag_ai"
        Flag column.
    spans : mapping, default :data:`DEFAULT_SPANS`
        Named inclusive date ranges.
    min_cell : int, default 10
        Small-cell threshold.

    Returns
    -------
    pandas.DataFrame
        ``period, group, n_flagged, n_period, share, suppressed`` (``group`` joins the
        category names with ``" + "``).

    Raises
    ------
    DataValidationError
        For missing columns or a category that is not in the data's categories.
    OptionError
        For invalid spans or ``min_cell``.

    Notes
    -----
    ``share = sum_{c in group} n_flagged_c / sum_c n_flagged_c``. Suppressed when the group
    count or the period total is below ``min_cell``.
    """
    d = distribution(posts, flag, spans, min_cell=0)
    unknown = [c for c in categories if c not in set(d["category"])]
    if unknown or not categories:
        raise DataValidationError(f"categories must be non-empty names of categories; unknown: "
                                  f"{unknown}; known: {sorted(set(d['category']))}.")
    g = d[d["category"].isin(list(categories))].groupby("period", sort=False).agg(
        n_flagged=("n_flagged", "sum"), n_period=("n_period", "first")).reset_index()
    g.insert(1, "group", " + ".join(categories))
    with np.errstate(divide="ignore", invalid="ignore"):
        g["share"] = g["n_flagged"] / g["n_period"]
    g = suppress(g, ["n_flagged", "n_period"], ["n_flagged", "share"], min_cell)
    g.loc[g["n_period"] < min_cell, "n_period"] = np.nan
    return g[["period", "group", "n_flagged", "n_period", "share", "suppressed"]]


def concentration(posts: pd.DataFrame,
                  flags: Mapping[str, str] | None = None,
                  spans: Mapping[str, tuple[str, str]] = DEFAULT_SPANS,
                  top_k: int = 2, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """How concentrated each technology's posts are across categories (top-k share, Herfindahl).

    Parameters
    ----------
    posts : pandas.DataFrame
        Job posts with ``category``, ``posted_date`` and one flag column per technology.
    flags : mapping of technology to flag column, optional
        Default ``{"ai": "flag_ai", "cloud": "flag_cloud", "rpa": "flag_rpa"}``.
    spans : mapping, default :data:`DEFAULT_SPANS`
        Named inclusive date ranges.
    top_k : int, default 2
        Number of largest categories in the top-k share.
    min_cell : int, default 10
        Small-cell threshold (applied to the period total of each technology).

    Returns
    -------
    pandas.DataFrame
        ``technology, period, n_flagged, top_k, top_categories, top_k_share, herfindahl,
        suppressed``. ``top_categories`` lists the top-k categories joined by ``" + "``
        (ties broken by taxonomy order).

    Raises
    ------
    DataValidationError
        For missing columns, dates or non-boolean flags.
    OptionError
        For ``top_k`` < 1, invalid spans or ``min_cell``.

    Notes
    -----
    With category shares ``s_c`` of a technology's posts in a period,
    ``herfindahl = sum_c s_c^2`` (1/12 if spread evenly over 12 categories, 1 if all in one)
    and ``top_k_share`` is the sum of the ``top_k`` largest ``s_c``. Computed from all cells,
    including small ones that :func:`distribution` suppresses; suppressed only when the
    technology's period total is below ``min_cell``.

    References
    ----------
    Herfindahl, O. C. (1950). Concentration in the steel industry. PhD thesis, Columbia
    University. Hirschman, A. O. (1964). The paternity of an index. American Economic
    Review 54(5), 761.
    """
    if flags is None:
        flags = {"ai": "flag_ai", "cloud": "flag_cloud", "rpa": "flag_rpa"}
    if not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise OptionError(f"top_k must be a positive integer; got {top_k!r}.")
    rows = []
    for tech, col in flags.items():
        d = distribution(posts, col, spans, min_cell=0)
        for per, g in d.groupby("period", sort=False):
            total = float(g["n_period"].iloc[0])
            s = g["share"].to_numpy(dtype=float) if total > 0 else np.zeros(len(g))
            order = np.argsort(-s, kind="stable")[:top_k]
            rows.append({
                "technology": tech, "period": per, "n_flagged": total, "top_k": int(top_k),
                "top_categories": " + ".join(g["category"].to_numpy()[order].tolist()),
                "top_k_share": float(s[order].sum()) if total > 0 else np.nan,
                "herfindahl": float(np.sum(s * s)) if total > 0 else np.nan,
            })
    out = pd.DataFrame(rows)
    out = suppress(out, ["n_flagged"], ["n_flagged", "top_k_share", "herfindahl"], min_cell)
    out.loc[out["suppressed"], "top_categories"] = ""
    return out


def yoy_growth(posts: pd.DataFrame, flag: str = "flag_ai",
               categories: Sequence[str] | None = None,
               min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Year-over-year growth of flagged posts in a set of categories (default non-technical).

    Parameters
    ----------
    posts : pandas.DataFrame
        Job posts with ``category``, ``posted_date`` and the ``flag`` column.
    flag : str, default "flag_ai"
        Flag column.
    categories : sequence of str, optional
        Categories pooled; default the taxonomy's non-technical categories (all but
        ``technical = true``).
    min_cell : int, default 10
        Small-cell threshold.

    Returns
    -------
    pandas.DataFrame
        ``year, group, n_flagged, growth, complete_year, suppressed``: ``growth`` is
        ``n_t / n_{t-1} - 1`` (NaN for the first year); ``complete_year`` says whether the data
        cover 1 January to 31 December of that year (growth against a partial year is not
        comparable).

    Raises
    ------
    DataValidationError
        For missing columns, dates or non-boolean flags.
    OptionError
        For invalid ``min_cell``.

    Notes
    -----
    Published: AI-related posts in non-technical categories grew 268% in 2023. Suppressed when
    ``n_t`` or ``n_{t-1}`` is below ``min_cell``.
    """
    f = _flag(posts, flag)
    d = _dates(posts)
    _need(posts, ["category"], "yoy_growth")
    if categories is None:
        categories = [c.name for c in taxonomy.categories() if not c.technical]
        group = "non-technical"
    else:
        group = " + ".join(categories)
    inc = posts["category"].astype(str).isin(list(categories)).to_numpy()
    year = d.dt.year.to_numpy()
    years = np.arange(year.min(), year.max() + 1) if len(year) else np.array([], dtype=int)
    n = np.array([np.sum(f & inc & (year == y)) for y in years], dtype=float)
    first, last = d.min(), d.max()
    complete = [(first <= pd.Timestamp(f"{y}-01-01")) and (last >= pd.Timestamp(f"{y}-12-31"))
                for y in years]
    prev = np.concatenate([[np.nan], n[:-1]]) if len(n) else n
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = n / prev - 1
    out = pd.DataFrame({"year": years.astype(int), "group": group, "n_flagged": n,
                        "n_previous": prev, "growth": growth, "complete_year": complete})
    small = (out["n_flagged"] < min_cell) | (out["n_previous"] < min_cell)
    _check_min_cell(min_cell)
    out.loc[small, "growth"] = np.nan
    out.loc[out["n_flagged"] < min_cell, "n_flagged"] = np.nan
    out["suppressed"] = small.to_numpy()
    return out[["year", "group", "n_flagged", "growth", "complete_year", "suppressed"]]


def high_value_share(posts: pd.DataFrame, flag: str = "flag_ai", threshold: float = 1000.0,
                     spans: Mapping[str, tuple[str, str]] = DEFAULT_SPANS,
                     min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Share of flagged posts that are high-value (projected value above ``threshold``).

    Parameters
    ----------
    posts : pandas.DataFrame
        Job posts with ``category``, ``posted_date``, ``contract_value_usd`` and ``flag``.
    flag : str, default "flag_ai"
        Flag column.
    threshold : float, default 1000
        High-value means ``contract_value_usd > threshold`` (the taxonomy's tier cut).
    spans : mapping, default :data:`DEFAULT_SPANS`
        Named inclusive date ranges.
    min_cell : int, default 10
        Small-cell threshold.

    Returns
    -------
    pandas.DataFrame
        ``period, category, n_flagged, n_high, share, suppressed, n_flagged_no_value``; one row
        per period x category plus ``"All categories"``. ``n_flagged`` counts the flagged posts
        with a contract value (the share's denominator); ``n_flagged_no_value`` the flagged
        posts without one (no budget: the ``unknown`` tier), left out and counted.

    Raises
    ------
    DataValidationError
        For missing columns, dates, values or non-boolean flags.
    OptionError
        For invalid spans or ``min_cell``.

    Notes
    -----
    ``share = n_high / n_flagged``, on the posts that have a value (fixed budgets and
    projected hourly values): the basis of the published figures, which are shares of posts
    by the post's contract value -- 58% of AI posts were high-value in 2022-23, 86% in
    Translation. Suppressed when ``n_flagged`` or ``n_high`` is below ``min_cell``.
    """
    f = _flag(posts, flag)
    _need(posts, ["contract_value_usd"], "high_value_share")
    v = posts["contract_value_usd"].to_numpy(dtype=float)
    has_value = ~np.isnan(v)
    lab = _spans(posts, spans)
    cats = _categories(posts)
    in_span = f & (lab != None)  # noqa: E711
    use = in_span & has_value
    nov = in_span & ~has_value
    keys = pd.DataFrame({"period": lab[use],
                         "category": posts["category"].astype(str).to_numpy(dtype=object)[use]})
    grid = pd.MultiIndex.from_product([list(spans), cats], names=["period", "category"])
    out = pd.DataFrame({
        "n_flagged": _counts(keys).reindex(grid, fill_value=0),
        "n_high": _counts(keys, (v[use] > threshold).astype(np.int64)).reindex(grid, fill_value=0),
        "n_flagged_no_value": _counts(pd.DataFrame({
            "period": lab[nov],
            "category": posts["category"].astype(str).to_numpy(dtype=object)[nov]}))
        .reindex(grid, fill_value=0),
    }).reset_index()
    tot = out.groupby("period", sort=False)[["n_flagged", "n_high", "n_flagged_no_value"]].sum() \
        .reset_index()
    tot.insert(1, "category", ALL_CATEGORIES)
    out = pd.concat([out, tot], ignore_index=True)
    out["n_flagged"] = out["n_flagged"].astype(float)
    out["n_high"] = out["n_high"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share"] = out["n_high"] / out["n_flagged"]
    out = suppress(out, ["n_flagged", "n_high"], ["n_high", "share"], min_cell)
    out.loc[out["n_flagged"] < min_cell, "n_flagged"] = np.nan
    order = {p: i for i, p in enumerate(spans)}
    out = out.sort_values("period", key=lambda s: s.map(order), kind="stable")
    out["n_flagged_no_value"] = out["n_flagged_no_value"].astype(np.int64)
    return out[["period", "category", "n_flagged", "n_high", "share", "suppressed",
                "n_flagged_no_value"]].reset_index(drop=True)


def skill_family_demand(posts: pd.DataFrame, flag: str | None = "flag_ai",
                        period: Period = "quarter", min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Demand for gen-AI skill families over time (Figure 3).

    Parameters
    ----------
    posts : pandas.DataFrame
        Job posts with ``posted_date``, ``skills`` and (unless ``flag`` is None) the flag.
    flag : str or None, default "flag_ai"
        Count only flagged posts; None counts every post.
    period : {"year", "quarter", "month"}, default "quarter"
        Calendar period.
    min_cell : int, default 10
        Small-cell threshold.

    Returns
    -------
    pandas.DataFrame
        ``period, family, family_label, n_posts, n_period, share, suppressed``: ``n_posts``
        counts posts (flagged, if ``flag``) with at least one skill of the family;
        ``n_period`` counts all such posts in the period; ``share = n_posts / n_period``
        (a post with skills of two families counts in both, so shares can sum above one).

    Raises
    ------
    DataValidationError
        For missing columns, dates or non-boolean flags.
    OptionError
        For an unknown ``period`` or invalid ``min_cell``.

    Notes
    -----
    Skills are mapped with :func:`laborai.classify.skill_families`. Suppressed when
    ``n_posts`` or ``n_period`` is below ``min_cell``.
    """
    from laborai.classify import skill_dictionary, skill_families

    per = _periods(posts, period)
    f = np.ones(len(posts), dtype=bool) if flag is None else _flag(posts, flag)
    sf = skill_families(posts).drop_duplicates(["row", "family"])
    rows = sf["row"].to_numpy()
    keep = f[rows]
    keys = pd.DataFrame({"period": per[rows][keep], "family": sf["family"].to_numpy()[keep]})
    fams = skill_dictionary().drop_duplicates("family")
    periods = sorted(set(per.tolist()))
    grid = pd.MultiIndex.from_product([periods, fams["family"].tolist()],
                                      names=["period", "family"])
    out = _counts(keys).reindex(grid, fill_value=0).rename("n_posts").reset_index()
    out["family_label"] = out["family"].map(dict(zip(fams["family"], fams["family_label"],
                                                     strict=True)))
    n_period = pd.Series(f, dtype=float).groupby(per).sum()
    out["n_posts"] = out["n_posts"].astype(float)
    out["n_period"] = out["period"].map(n_period).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share"] = out["n_posts"] / out["n_period"]
    out = suppress(out, ["n_posts", "n_period"], ["n_posts", "share"], min_cell)
    out.loc[out["n_period"] < min_cell, "n_period"] = np.nan
    return out[["period", "family", "family_label", "n_posts", "n_period", "share",
                "suppressed"]]


# ----------------------------------------------------------------------------- calibration


def _within(measured: float, target: float, rule: str) -> bool:
    if not np.isfinite(measured):
        return False
    if rule == "above":
        return measured > target
    tol = float(rule.split()[1])
    return abs(measured - target) <= tol


def calibration(posts: pd.DataFrame, flags: Mapping[str, str] | None = None,
                min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Compare the indicators with the published figures (:data:`PUBLISHED_TARGETS`).

    Parameters
    ----------
    posts : pandas.DataFrame
        Job posts with ``category``, ``posted_date``, ``contract_value_usd`` and flag columns.
    flags : mapping of technology to flag column, optional
        Default ``{"ai": "flag_ai", "cloud": "flag_cloud", "rpa": "flag_rpa"}``.
    min_cell : int, default 10
        Small-cell threshold.

    Returns
    -------
    pandas.DataFrame
        ``key, indicator, published, measured, tolerance, within``; ``tolerance`` is
        ``"above"`` (a published lower bound such as ">70%") or ``"within d"`` (absolute).

    Raises
    ------
    DataValidationError
        For missing columns.

    Notes
    -----
    On the simulated marketplace, run it on classifier flags (not the ground truth) to check
    the whole measurement chain end to end.
    """
    if flags is None:
        flags = {"ai": "flag_ai", "cloud": "flag_cloud", "rpa": "flag_rpa"}
    ai = flags["ai"]
    tech = category_group_share(posts, _TECHNICAL, ai, min_cell=min_cell).set_index("period")
    dist = distribution(posts, ai, min_cell=min_cell).set_index(["period", "category"])
    g = yoy_growth(posts, ai, min_cell=min_cell).set_index("year")
    hv = high_value_share(posts, ai, min_cell=min_cell).set_index(["period", "category"])
    whole = {"all": ("1900-01-01", "2100-12-31")}
    measured = {
        "technical_share_2020_21": tech.loc["2020-21", "share"],
        "technical_share_2022_23": tech.loc["2022-23", "share"],
        "translation_share_2020_21": dist.loc[("2020-21", "Translation"), "share"],
        "translation_share_2022_23": dist.loc[("2022-23", "Translation"), "share"],
        "cloud_it_software_share": category_group_share(
            posts, _IT_SOFTWARE, flags["cloud"], whole, min_cell)["share"].iloc[0],
        "rpa_software_share": category_group_share(
            posts, _SOFTWARE, flags["rpa"], whole, min_cell)["share"].iloc[0],
        "nontechnical_growth_2023": g.loc[2023, "growth"] if 2023 in g.index else np.nan,
        "high_value_share_2022_23": hv.loc[("2022-23", ALL_CATEGORIES), "share"],
        "translation_high_value_2022_23": hv.loc[("2022-23", "Translation"), "share"],
    }
    rows = []
    for key, text, target, rule in PUBLISHED_TARGETS:
        m = float(measured[key])
        rows.append({"key": key, "indicator": text, "published": target, "measured": m,
                     "tolerance": rule, "within": _within(m, target, rule)})
    return pd.DataFrame(rows)
