"""The marketplace taxonomy: categories, subcategories, value tiers and event dates.

Everything here is read from package data (``laborai/_pkgdata/taxonomy.toml``), so the taxonomy
can be reviewed and changed without touching code. Functions return fresh objects; the parsed
file is cached.

The default taxonomy is Upwork's own: its 12 categories and the 203 subcategories ("services")
that Upwork's job search attached to real posts in early January 2023 (:func:`version`
``"upwork-2023.01"``). Labels from data are matched case- and whitespace-insensitively
(:func:`normalise_label`, :func:`match_category`, :func:`match_subcategory`), and other label
sets (laborai's own v1 subcategories, the Online Labour Index occupation classes) are translated
through the mapping tables of :func:`map_labels`. See ``docs/taxonomy.md``.

Examples
--------
>>> import laborai as la
>>> len(la.taxonomy.categories())
12
>>> la.taxonomy.value_tier([250.0, 1000.0, 1000.01]).tolist()
['low', 'low', 'high']
>>> str(la.taxonomy.event_dates()["chatgpt"].date())
'2022-11-30'
>>> la.taxonomy.version()
'upwork-2023.01'
>>> la.taxonomy.match_category(["  web, mobile &  software DEV", "Wrting"]).tolist()
['Web, Mobile & Software Dev', None]
"""

from __future__ import annotations

import functools
import io
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from laborai.errors import OptionError

__all__ = [
    "BUDGET_TYPES",
    "DEFAULT_VALUE_CUTS",
    "Category",
    "categories",
    "category_events",
    "category_names",
    "event_dates",
    "hourly_projection",
    "label_sets",
    "map_labels",
    "mapping_table",
    "match_category",
    "match_subcategory",
    "normalise_label",
    "projected_value",
    "subcategories",
    "tier_labels",
    "value_tier",
    "version",
]

#: How a post is paid, as Upwork's job search reports it.
BUDGET_TYPES: tuple[str, ...] = ("fixed_budget", "hourly", "no_budget")


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


# ----------------------------------------------------------------------------- version, labels


def version() -> str:
    """Return the version of the taxonomy in use, e.g. ``"upwork-2023.01"``.

    Record it beside anything built from category or subcategory labels (panels, results,
    manifests): a panel built under one version is not comparable with one built under another
    without :func:`map_labels`.

    Returns
    -------
    str
        ``"<source>-<year>.<month>"`` of the label set the taxonomy reproduces.
    """
    return str(_raw()["version"])


_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2212"), "-")
_QUOTES = dict.fromkeys(map(ord, "\u2018\u2019\u02bc"), "'")


def normalise_label(label: object) -> str | None:
    """Return the matching key of a category or subcategory label.

    Unicode NFKC, case folding, typographic dashes and apostrophes replaced by ASCII ones, no
    spaces around ``/``, one space around ``&``, one after ``,``, and runs of whitespace
    collapsed to one space; missing values give ``None``.

    Parameters
    ----------
    label : object
        A label as found in data (``str``; ``None``/NaN for missing).

    Returns
    -------
    str or None

    Examples
    --------
    >>> import laborai as la
    >>> la.taxonomy.normalise_label("  Web,Mobile  &software dev ")
    'web, mobile & software dev'
    """
    if label is None or (isinstance(label, float) and np.isnan(label)) or label is pd.NA:
        return None
    s = unicodedata.normalize("NFKC", str(label)).translate(_DASHES).translate(_QUOTES)
    s = s.casefold()
    s = re.sub(r"\s*/\s*", "/", s)
    s = re.sub(r"\s*&\s*", " & ", s)
    s = re.sub(r"\s*,\s*", ", ", s)
    s = re.sub(r"\s+", " ", s).strip()
    return s


@functools.cache
def _category_keys() -> dict[str, str]:
    return {str(normalise_label(c)): c for c in category_names()}


@functools.cache
def _subcategory_keys() -> dict[tuple[str, str], str]:
    return {(c.name, str(normalise_label(s))): s for c in _categories() for s in c.subcategories}


def _as_list(values: Any, name: str) -> tuple[list[Any], pd.Index | None]:
    if isinstance(values, str):
        raise OptionError(f"{name} must be a list or Series of labels, not one string; got "
                          f"{values!r}. Wrap it in a list.")
    index = values.index if isinstance(values, pd.Series) else None
    return list(values), index


def match_category(values: Sequence[Any] | pd.Series) -> pd.Series:
    """Match category labels to the taxonomy, ignoring case and spacing.

    Parameters
    ----------
    values : sequence or pandas.Series of str
        Category labels as found in data.

    Returns
    -------
    pandas.Series
        The canonical category name, or ``None`` where no category matches (object dtype,
        aligned with ``values``).

    Examples
    --------
    >>> import laborai as la
    >>> la.taxonomy.match_category(["WRITING ", "Legal"]).tolist()
    ['Writing', 'Legal']
    """
    vals, index = _as_list(values, "values")
    keys = _category_keys()
    out = [keys.get(k) if (k := normalise_label(v)) is not None else None for v in vals]
    return pd.Series(out, index=index, dtype=object, name="category")


def match_subcategory(categories: Sequence[Any] | pd.Series,
                      subcategories: Sequence[Any] | pd.Series) -> pd.Series:
    """Match (category, subcategory) label pairs to the taxonomy, ignoring case and spacing.

    Parameters
    ----------
    categories, subcategories : sequence or pandas.Series of str
        Labels as found in data, one pair per row.

    Returns
    -------
    pandas.Series
        The canonical subcategory name, or ``None`` where the category is unknown or the
        subcategory does not belong to it (object dtype, aligned with ``subcategories``).

    Raises
    ------
    OptionError
        If the two inputs differ in length.

    Examples
    --------
    >>> import laborai as la
    >>> la.taxonomy.match_subcategory(["writing"], ["ghost writing"]).tolist()
    [None]
    >>> la.taxonomy.match_subcategory(["writing"], [" GHOSTWRITING"]).tolist()
    ['Ghostwriting']
    """
    cats, _ = _as_list(categories, "categories")
    subs, index = _as_list(subcategories, "subcategories")
    if len(cats) != len(subs):
        raise OptionError(f"categories and subcategories must have the same length; got "
                          f"{len(cats)} and {len(subs)}.")
    canon = match_category(cats).tolist()
    keys = _subcategory_keys()
    out = [keys.get((c, k)) if c is not None and (k := normalise_label(s)) is not None else None
           for c, s in zip(canon, subs, strict=True)]
    return pd.Series(out, index=index, dtype=object, name="subcategory")


def label_sets() -> dict[str, str]:
    """Return the label sets that :func:`map_labels` translates, with their descriptions.

    Returns
    -------
    dict of str to str
        ``"laborai_v1"``: laborai's own subcategories before the real taxonomy (taxonomy
        version 1), to the current taxonomy. ``"oli"``: the current taxonomy to the six
        occupation classes of the Online Labour Index (Kässi and Lehdonvirta 2018).
    """
    return {k: str(v["description"]) for k, v in _raw()["label_sets"].items()}


@functools.cache
def _mapping(label_set: str) -> pd.DataFrame:
    spec = _raw()["label_sets"][label_set]
    text = resources.files("laborai").joinpath(f"_pkgdata/{spec['file']}").read_text("utf-8")
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def mapping_table(label_set: str) -> pd.DataFrame:
    """Return the mapping table of a label set.

    Parameters
    ----------
    label_set : str
        One of :func:`label_sets`.

    Returns
    -------
    pandas.DataFrame
        Columns ``from_category, from_subcategory, to_category, to_subcategory, note``;
        ``to_subcategory`` is empty where the target label set has no subcategories.

    Raises
    ------
    OptionError
        For an unknown label set.
    """
    sets = label_sets()
    if label_set not in sets:
        raise OptionError(f"label_set must be one of {', '.join(map(repr, sets))}; "
                          f"got {label_set!r}.")
    return _mapping(label_set).copy()


def map_labels(categories: Sequence[Any] | pd.Series, subcategories: Sequence[Any] | pd.Series,
               label_set: str = "laborai_v1") -> pd.DataFrame:
    """Translate (category, subcategory) labels through a label set's mapping table.

    Labels are matched with :func:`normalise_label`. For ``"laborai_v1"`` (old laborai labels
    to the current taxonomy), pairs that already belong to the current taxonomy pass through
    unchanged, so data mixing old and new labels can be mapped in one call.

    Parameters
    ----------
    categories, subcategories : sequence or pandas.Series of str
        Labels in the source label set, one pair per row.
    label_set : str, default "laborai_v1"
        One of :func:`label_sets`.

    Returns
    -------
    pandas.DataFrame
        Columns ``category, subcategory`` (the target labels; ``None`` where a pair has no
        mapping) and ``mapped`` (bool), aligned with the input rows. Nothing is dropped:
        unmapped rows are kept with ``mapped=False`` for the caller to report.

    Raises
    ------
    OptionError
        For an unknown label set or inputs of different lengths.

    Examples
    --------
    >>> import laborai as la
    >>> la.taxonomy.map_labels(["Writing", "writing"], ["Content Writing", "Ghostwriting"])
      category            subcategory  mapped
    0  Writing  Other Content Writing    True
    1  Writing           Ghostwriting    True
    >>> la.taxonomy.map_labels(["Writing"], ["Ghostwriting"], "oli")["category"].tolist()
    ['Writing and translation']
    """
    table = mapping_table(label_set)
    cats, _ = _as_list(categories, "categories")
    subs, index = _as_list(subcategories, "subcategories")
    if len(cats) != len(subs):
        raise OptionError(f"categories and subcategories must have the same length; got "
                          f"{len(cats)} and {len(subs)}.")
    lookup = {(normalise_label(r.from_category), normalise_label(r.from_subcategory)):
              (r.to_category, r.to_subcategory or None) for r in table.itertuples()}
    passthrough = label_set == "laborai_v1"
    canon_c = match_category(cats).tolist() if passthrough else [None] * len(cats)
    canon_s = match_subcategory(cats, subs).tolist() if passthrough else [None] * len(cats)
    out_c: list[str | None] = []
    out_s: list[str | None] = []
    for c, s, cc, cs in zip(cats, subs, canon_c, canon_s, strict=True):
        if cs is not None:
            out_c.append(cc)
            out_s.append(cs)
            continue
        hit = lookup.get((normalise_label(c), normalise_label(s)))
        out_c.append(hit[0] if hit else None)
        out_s.append(hit[1] if hit else None)
    return pd.DataFrame({"category": pd.Series(out_c, dtype=object, index=index),
                         "subcategory": pd.Series(out_s, dtype=object, index=index),
                         "mapped": pd.Series([c is not None for c in out_c], dtype=bool,
                                             index=index)}, index=index)


# ----------------------------------------------------------------------------- projection


def hourly_projection() -> dict[str, Any]:
    """Return the assumptions that project an hourly post's contract value.

    Returns
    -------
    dict
        ``weeks``: expected weeks of work by Upwork duration label; ``hours_per_week``:
        expected weekly hours by engagement label (``""`` = not stated); and
        ``default_hours_per_week`` for any other engagement label.

    Notes
    -----
    ``contract_value_usd = hourly_rate_usd * hours_per_week * weeks``: the rate the client
    posted (the top of its range when a range is posted), times the engagement's weekly hours,
    times the duration's weeks (the middle of each duration band, six months for "More than 6
    months" so as not to extrapolate an open-ended band). These are assumptions, not data: a
    projected value is what the post would be worth if the work ran as posted. See
    ``docs/taxonomy.md``.
    """
    raw = _raw()["hourly_projection"]
    return {"weeks": {str(k): float(v) for k, v in raw["weeks"].items()},
            "hours_per_week": {str(k): float(v) for k, v in raw["hours_per_week"].items()},
            "default_hours_per_week": float(raw["default_hours_per_week"])}


def projected_value(budget_type: Sequence[Any] | pd.Series,
                    fixed_budget_usd: Sequence[Any] | pd.Series,
                    hourly_rate_usd: Sequence[Any] | pd.Series,
                    engagement: Sequence[Any] | pd.Series,
                    duration: Sequence[Any] | pd.Series) -> pd.Series:
    """Projected contract value of posts: the fixed budget, or rate x weekly hours x weeks.

    Parameters
    ----------
    budget_type : sequence of str
        ``"fixed_budget"`` (or ``"fixed"``), ``"hourly"`` or ``"no_budget"``.
    fixed_budget_usd, hourly_rate_usd : sequence of float
        Posted fixed budget and hourly rate (USD).
    engagement, duration : sequence of str
        Upwork's weekly-hours and duration labels (see :func:`hourly_projection`).

    Returns
    -------
    pandas.Series
        USD, ``NaN`` for no-budget posts, for an hourly post without a rate or a known
        duration, and for unknown budget types.
    """
    proj = hourly_projection()
    bt = pd.Series(list(budget_type), dtype=object)
    fixed = pd.to_numeric(pd.Series(list(fixed_budget_usd)), errors="coerce").to_numpy(float)
    rate = pd.to_numeric(pd.Series(list(hourly_rate_usd)), errors="coerce").to_numpy(float)
    hours = np.array([proj["hours_per_week"].get("" if e is None or (isinstance(e, float)
                                                                   and np.isnan(e)) else str(e),
                                                  proj["default_hours_per_week"])
                      for e in engagement], dtype=float)
    weeks = np.array([proj["weeks"].get(str(d), np.nan) for d in duration], dtype=float)
    is_fixed = bt.isin(["fixed_budget", "fixed"]).to_numpy()
    is_hourly = (bt == "hourly").to_numpy()
    out = np.where(is_fixed, fixed, np.where(is_hourly, rate * hours * weeks, np.nan))
    index = budget_type.index if isinstance(budget_type, pd.Series) else None
    return pd.Series(np.round(out, 2), index=index, name="contract_value_usd")
