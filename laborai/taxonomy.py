"""The marketplace taxonomy: categories, subcategories, value tiers and event dates.

Everything here is read from package data (``laborai/_pkgdata/taxonomy.toml``), so the taxonomy
can be reviewed and changed without touching code. Functions return fresh objects; the parsed
file is cached.

Examples
--------
>>> import laborai as la
>>> len(la.taxonomy.categories())
12
>>> la.taxonomy.value_tier([250.0, 1000.0, 1000.01]).tolist()
['low', 'low', 'high']
>>> str(la.taxonomy.event_dates()["chatgpt"].date())
'2022-11-30'
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from laborai.errors import OptionError

__all__ = [
    "DEFAULT_VALUE_CUTS",
    "Category",
    "categories",
    "category_events",
    "category_names",
    "event_dates",
    "subcategories",
    "tier_labels",
    "value_tier",
]


@dataclass(frozen=True)
class Category:
    """One top-level work category.

    Attributes
    ----------
    name : str
        Display name, e.g. ``"Web, Mobile & Software Dev"`` (the value stored in data).
    slug : str
        Identifier safe for file names, e.g. ``"web_mobile_software"``.
    technical : bool
        Whether the category is software/data work (the report's "technical categories").
    event : str
        Name of the generative-AI event that exposes it in the default design ("" = none).
    subcategories : tuple of str
        Its subcategories.
    """

    name: str
    slug: str
    technical: bool
    event: str
    subcategories: tuple[str, ...]


@functools.cache
def _raw() -> dict[str, Any]:
    text = resources.files("laborai").joinpath("_pkgdata/taxonomy.toml").read_text("utf-8")
    return tomllib.loads(text)


@functools.cache
def _categories() -> tuple[Category, ...]:
    return tuple(
        Category(
            name=c["name"],
            slug=c["slug"],
            technical=bool(c["technical"]),
            event=c.get("event", ""),
            subcategories=tuple(s["name"] for s in c["subcategories"]),
        )
        for c in _raw()["categories"]
    )


def categories() -> list[Category]:
    """Return the 12 top-level categories in taxonomy order.

    Returns
    -------
    list of Category
    """
    return list(_categories())


def category_names() -> list[str]:
    """Return the names of the 12 categories in taxonomy order."""
    return [c.name for c in _categories()]


def subcategories(category: str | None = None) -> pd.DataFrame:
    """Return the subcategories with their category, slugs and typical skills.

    Parameters
    ----------
    category : str, optional
        Restrict to one category (its display name).

    Returns
    -------
    pandas.DataFrame
        Columns ``category, subcategory, category_slug, technical, skills`` where ``skills``
        is a tuple of typical skills (used by the simulator).

    Raises
    ------
    OptionError
        If ``category`` is not a known category name.
    """
    rows = []
    for c in _raw()["categories"]:
        for s in c["subcategories"]:
            rows.append((c["name"], s["name"], c["slug"], bool(c["technical"]), tuple(s["skills"])))
    out = pd.DataFrame(rows, columns=["category", "subcategory", "category_slug", "technical", "skills"])
    if category is not None:
        if category not in set(out["category"]):
            names = ", ".join(repr(n) for n in category_names())
            raise OptionError(f"category must be one of {names}; got {category!r}.")
        out = out[out["category"] == category].reset_index(drop=True)
    return out


DEFAULT_VALUE_CUTS: tuple[float, ...] = tuple(float(c) for c in _raw()["value_tiers"]["cuts"])


def tier_labels(cuts: Sequence[float] | None = None) -> list[str]:
    """Return the tier labels for a list of cuts.

    With the default single cut the labels are ``["low", "high"]``; with other cuts they
    describe the interval in whole dollars, e.g. ``["<=500", "500-5000", ">5000"]``.

    Parameters
    ----------
    cuts : sequence of float, optional
        Strictly increasing positive cut points in USD. Default: the package's cut ($1,000).

    Returns
    -------
    list of str
        ``len(cuts) + 1`` labels from the lowest tier to the highest.
    """
    cuts_t = _check_cuts(cuts)
    if cuts_t == DEFAULT_VALUE_CUTS:
        return list(_raw()["value_tiers"]["labels"])
    fmt = [f"{c:g}" for c in cuts_t]
    return [f"<={fmt[0]}"] + [f"{a}-{b}" for a, b in zip(fmt[:-1], fmt[1:], strict=True)] + [
        f">{fmt[-1]}"
    ]


def _check_cuts(cuts: Sequence[float] | None) -> tuple[float, ...]:
    if cuts is None:
        return DEFAULT_VALUE_CUTS
    c = tuple(float(x) for x in cuts)
    if len(c) == 0 or any(not np.isfinite(x) or x <= 0 for x in c) or any(
        b <= a for a, b in zip(c[:-1], c[1:], strict=True)
    ):
        raise OptionError(
            f"value cuts must be a non-empty, strictly increasing list of positive finite USD "
            f"amounts; got {list(cuts)!r}."
        )
    return c


def value_tier(
    values: Sequence[float] | np.ndarray | pd.Series,
    cuts: Sequence[float] | None = None,
    labels: Sequence[str] | None = None,
) -> pd.Series:
    """Assign contract values (USD) to value tiers.

    A value ``v`` falls in tier ``i`` when ``cuts[i-1] < v <= cuts[i]`` (right-closed), so with
    the default cut of $1,000: ``low`` is ``v <= 1000`` and ``high`` is ``v > 1000``.

    Parameters
    ----------
    values : array-like of float
        Projected contract values in USD. Missing values give a missing tier.
    cuts : sequence of float, optional
        Strictly increasing cut points; default ``(1000.0,)``.
    labels : sequence of str, optional
        Tier labels, one more than ``cuts``; default from :func:`tier_labels`.

    Returns
    -------
    pandas.Series
        String tiers (object dtype), aligned with ``values``.

    Raises
    ------
    OptionError
        If the cuts are not increasing positive numbers or the labels have the wrong length.
    """
    cuts_t = _check_cuts(cuts)
    labs = list(labels) if labels is not None else tier_labels(cuts_t)
    if len(labs) != len(cuts_t) + 1:
        raise OptionError(
            f"labels must have one more entry than cuts ({len(cuts_t) + 1}); got {len(labs)}."
        )
    v = np.asarray(values, dtype=float)
    idx = np.searchsorted(np.asarray(cuts_t), v, side="left")
    out = np.asarray(labs, dtype=object)[np.minimum(idx, len(labs) - 1)]
    out[np.isnan(v)] = None
    index = values.index if isinstance(values, pd.Series) else None
    return pd.Series(out, index=index, dtype=object, name="value_tier")


def event_dates(overrides: Mapping[str, str | pd.Timestamp] | None = None) -> dict[str, pd.Timestamp]:
    """Return the named generative-AI event dates.

    Defaults: ``image_generators`` 2022-07-01 (mid-2022: DALL-E 2 beta, Midjourney, Stable
    Diffusion), ``chatgpt`` 2022-11-30, ``gpt4`` 2023-03-14.

    Parameters
    ----------
    overrides : mapping, optional
        New dates for existing names or extra named events.

    Returns
    -------
    dict of str to pandas.Timestamp
    """
    out = {k: pd.Timestamp(v["date"]) for k, v in _raw()["events"].items()}
    for k, v in (overrides or {}).items():
        out[k] = pd.Timestamp(v)
    return out


def category_events(
    assignment: Mapping[str, str | None] | None = None,
    overrides: Mapping[str, str | pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """Return each category's exposing event and its date (the default staggered design).

    Parameters
    ----------
    assignment : mapping of category name to event name (or None), optional
        Replaces the default assignment for the categories given.
    overrides : mapping, optional
        Passed to :func:`event_dates`.

    Returns
    -------
    pandas.DataFrame
        Columns ``category, event, event_date`` (``event_date`` is NaT when not exposed).

    Raises
    ------
    OptionError
        For an unknown category or event name.
    """
    dates = event_dates(overrides)
    names = category_names()
    ev = {c.name: (c.event or None) for c in _categories()}
    for cat, e in (assignment or {}).items():
        if cat not in ev:
            raise OptionError(f"category must be one of {', '.join(map(repr, names))}; got {cat!r}.")
        ev[cat] = e or None
    for cat, e in ev.items():
        if e is not None and e not in dates:
            raise OptionError(
                f"event for {cat!r} must be one of {', '.join(map(repr, dates))}; got {e!r}."
            )
    return pd.DataFrame(
        {
            "category": names,
            "event": [ev[n] for n in names],
            "event_date": pd.to_datetime([dates[e] if (e := ev[n]) else pd.NaT for n in names]),
        }
    )
