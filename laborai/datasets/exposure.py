"""Exposure of Indeed sectors and marketplace categories to LLMs via O*NET crosswalks.

Two package-data crosswalks map groups of jobs to O*NET-SOC occupations:

- ``laborai/_pkgdata/crosswalk_indeed_onet.csv``: the 50 Indeed occupational sectors that occur
  in the pinned country files;
- ``laborai/_pkgdata/crosswalk_marketplace_onet.csv``: the 12 work categories of the freelance
  marketplace.

Each row is one (group, occupation) pair with the O*NET title, the ``basis`` of the choice and a
``notes`` column that explains it. Sector (category) exposure is the simple, unweighted mean of
the occupations' GPTs-are-GPTs scores, so simulated and real analyses share one definition.
"""

from __future__ import annotations

import functools
import io
from importlib import resources
from typing import Literal

import pandas as pd

from laborai._validation import check_option
from laborai.datasets.gpts import EXPOSURE_COLUMNS, gpts_exposure
from laborai.errors import DataValidationError
from laborai.taxonomy import category_names

__all__ = [
    "MARKETPLACE_CATEGORIES",
    "MEASURES",
    "category_exposure",
    "indeed_onet_crosswalk",
    "marketplace_onet_crosswalk",
    "sector_exposure",
]

#: The 12 work categories of the marketplace, exact strings, in taxonomy order
#: (from :func:`laborai.taxonomy.category_names`, the single source of truth).
MARKETPLACE_CATEGORIES: tuple[str, ...] = tuple(category_names())

#: Allowed ``basis`` values in the crosswalk files.
BASES: tuple[str, ...] = ("example_title", "sector_name", "subcategory", "related")

Measure = Literal[
    "gpt4_alpha",
    "gpt4_beta",
    "gpt4_gamma",
    "human_alpha",
    "human_beta",
    "human_gamma",
    "dv_alpha",
    "dv_beta",
    "dv_gamma",
]

#: Accepted ``measure`` values: the columns of :func:`gpts_exposure` plus the source's
#: ``dv_*`` spelling of the GPT-4 ratings (``"dv_beta"`` is the same as ``"gpt4_beta"``).
MEASURES: tuple[str, ...] = (*EXPOSURE_COLUMNS, "dv_alpha", "dv_beta", "dv_gamma")

_FILES = {
    "sector": "crosswalk_indeed_onet.csv",
    "category": "crosswalk_marketplace_onet.csv",
}


@functools.lru_cache(maxsize=2)
def _read_crosswalk(group: str) -> pd.DataFrame:
    name = _FILES[group]
    text = resources.files("laborai").joinpath("_pkgdata", name).read_text("utf-8")
    df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    expected = [group, "onet_soc_code", "onet_title", "basis", "notes"]
    if list(df.columns) != expected:
        raise DataValidationError(
            f"Package file {name!r}: columns must be {expected}; found {list(df.columns)}. "
            "Reinstall laborai."
        )
    empty = df.index[(df[expected] == "").any(axis=1)]
    if len(empty):
        raise DataValidationError(
            f"Package file {name!r}: rule 'no empty cells' broken in {len(empty)} row(s); first "
            f"offending rows: {df.loc[empty[:3], group].tolist()}."
        )
    bad_basis = df.loc[~df["basis"].isin(BASES), "basis"]
    if len(bad_basis):
        raise DataValidationError(
            f"Package file {name!r}, column 'basis': must be one of {list(BASES)}; found "
            f"{sorted(set(bad_basis))[:5]}."
        )
    dup = df.duplicated([group, "onet_soc_code"], keep=False)
    if dup.any():
        raise DataValidationError(
            f"Package file {name!r}: rule 'one row per {group} and onet_soc_code' broken in "
            f"{int(dup.sum())} row(s); first: {df.loc[dup, [group, 'onet_soc_code']].head(3).to_dict('records')}."
        )
    return df


def _crosswalk(group: str) -> pd.DataFrame:
    out = _read_crosswalk(group).copy()
    out.attrs = {
        "source": f"laborai/_pkgdata/{_FILES[group]}",
        "citation": "laborai crosswalk; occupation codes and titles from O*NET-SOC 2019 as used "
        "in Eloundou, Manning, Mishkin & Rock (2024).",
    }
    return out


def indeed_onet_crosswalk() -> pd.DataFrame:
    """Crosswalk from Indeed occupational sectors to O*NET-SOC occupations.

    Returns
    -------
    pandas.DataFrame
        One row per (sector, occupation), columns ``sector`` (Indeed display name),
        ``onet_soc_code``, ``onet_title`` (title as in the GPTs-are-GPTs file), ``basis``
        (``"example_title"``: matches one of Indeed's example job titles for the sector;
        ``"sector_name"``: a core occupation named by the sector; ``"related"``: a supervisory
        or adjacent occupation) and ``notes`` (why the occupation was chosen).

    Raises
    ------
    DataValidationError
        If the package file is damaged (wrong columns, empty cells, duplicates).

    Notes
    -----
    Hand-built from Indeed's two example titles per sector
    (:func:`~laborai.datasets.indeed_sector_title_examples`) and O*NET titles. It covers all 50
    sectors of the six pinned country files; ``Agriculture & Forestry``, ``Real Estate`` and
    ``Social Science`` have no Indeed examples and are mapped from the sector name only. An
    occupation may belong to more than one sector (e.g. Retail Salespersons to Retail and
    Sales); the notes say so.

    References
    ----------
    Indeed Hiring Lab, sector-job-title-examples.csv, https://github.com/hiring-lab/job_postings_tracker.

    Examples
    --------
    >>> from laborai.datasets import indeed_onet_crosswalk
    >>> indeed_onet_crosswalk().sector.nunique()
    50
    """
    return _crosswalk("sector")


def marketplace_onet_crosswalk() -> pd.DataFrame:
    """Crosswalk from the marketplace's 12 work categories to O*NET-SOC occupations.

    Returns
    -------
    pandas.DataFrame
        One row per (category, occupation), columns ``category`` (one of
        :data:`MARKETPLACE_CATEGORIES`), ``onet_soc_code``, ``onet_title``, ``basis``
        (``"subcategory"``: the core occupation of one of the category's subcategories in
        :func:`laborai.taxonomy.subcategories`; ``"related"``: adjacent work filed under the
        category) and ``notes`` (which subcategory, and why).

    Raises
    ------
    DataValidationError
        If the package file is damaged.

    Notes
    -----
    Built from the category names and their subcategories in laborai's taxonomy (e.g. Design
    & Creative: graphic design, animation, illustration, photography, video and audio
    production, product and fashion design). Every category maps to at least three
    occupations; the category names are checked against :func:`laborai.taxonomy.category_names`.

    Examples
    --------
    >>> from laborai.datasets import marketplace_onet_crosswalk
    >>> marketplace_onet_crosswalk().category.nunique()
    12
    """
    return _crosswalk("category")


def _normalise_measure(measure: str) -> str:
    check_option("measure", measure, MEASURES)
    return measure.replace("dv_", "gpt4_") if measure.startswith("dv_") else measure


def _group_exposure(xwalk: pd.DataFrame, group: str, measure: str) -> pd.DataFrame:
    column = _normalise_measure(measure)
    scores = gpts_exposure()
    missing = sorted(set(xwalk["onet_soc_code"]) - set(scores["onet_soc_code"]))
    if missing:
        raise DataValidationError(
            f"Crosswalk {xwalk.attrs.get('source', group)!r}: {len(missing)} O*NET-SOC code(s) "
            f"are not in the GPTs-are-GPTs file; first: {missing[:5]}. Fix the crosswalk."
        )
    merged = xwalk[[group, "onet_soc_code"]].merge(
        scores[["onet_soc_code", column]], on="onet_soc_code", how="left", validate="many_to_one"
    )
    order = list(dict.fromkeys(xwalk[group]))
    out = (
        merged.groupby(group, sort=False)[column]
        .agg(exposure="mean", n_occupations="count")
        .reindex(order)
        .reset_index()
    )
    out.insert(1, "measure", column)
    out["n_occupations"] = out["n_occupations"].astype("int64")
    out["exposure"] = out["exposure"].astype("float64")
    out.attrs = {
        "citation": scores.attrs.get("citation", ""),
        "source": scores.attrs.get("source", ""),
    }
    return out


def sector_exposure(measure: Measure = "gpt4_beta") -> pd.DataFrame:
    """Mean LLM exposure of each Indeed occupational sector.

    Parameters
    ----------
    measure : str, default "gpt4_beta"
        Exposure score to average: ``"gpt4_alpha"``, ``"gpt4_beta"``, ``"gpt4_gamma"`` (GPT-4
        ratings; ``"dv_alpha"``, ``"dv_beta"``, ``"dv_gamma"`` are accepted as the source's
        names for the same columns) or ``"human_alpha"``, ``"human_beta"``, ``"human_gamma"``.

    Returns
    -------
    pandas.DataFrame
        One row per sector in crosswalk order: ``sector`` (str), ``measure`` (str, the
        canonical column name, e.g. ``"gpt4_beta"``), ``exposure`` (float64, mean score in
        [0, 1]) and ``n_occupations`` (int64, number of O*NET occupations averaged).

    Raises
    ------
    OptionError
        If ``measure`` is not one of the allowed values.
    DataFileNotFoundError, DataValidationError
        From :func:`~laborai.datasets.gpts_exposure`, or if a crosswalk code is missing from
        the exposure file.

    Notes
    -----
    For sector :math:`s` with occupation set :math:`O_s` from :func:`indeed_onet_crosswalk`,
    ``exposure`` is :math:`\\frac{1}{|O_s|}\\sum_{o \\in O_s} e_o`, the simple mean of the
    occupation-level score :math:`e_o` (e.g. :math:`\\beta = E1 + 0.5\\,E2`). It is
    employment-agnostic: occupations are not weighted by employment or by their share of
    Indeed postings, which are not public at this level. Use it to rank sectors or as a
    continuous treatment dose, not as a share of workers exposed.

    References
    ----------
    Eloundou, T., Manning, S., Mishkin, P., and Rock, D. (2024). GPTs are GPTs: Labor market
    impact potential of LLMs. *Science*, 384(6702), 1306-1308.

    Examples
    --------
    >>> import laborai as la
    >>> e = la.datasets.sector_exposure("human_beta")  # doctest: +SKIP
    >>> e.sort_values("exposure").sector.iloc[-1]  # doctest: +SKIP
    'Mathematics'
    """
    return _group_exposure(indeed_onet_crosswalk(), "sector", measure)


def category_exposure(measure: Measure = "gpt4_beta") -> pd.DataFrame:
    """Mean LLM exposure of each of the marketplace's 12 work categories.

    Parameters
    ----------
    measure : str, default "gpt4_beta"
        As in :func:`sector_exposure`.

    Returns
    -------
    pandas.DataFrame
        One row per category in the order of :data:`MARKETPLACE_CATEGORIES`: ``category``
        (str), ``measure`` (str), ``exposure`` (float64) and ``n_occupations`` (int64).

    Raises
    ------
    OptionError
        If ``measure`` is not one of the allowed values.
    DataFileNotFoundError, DataValidationError
        As in :func:`sector_exposure`.

    Notes
    -----
    Same estimand as :func:`sector_exposure` (simple mean of occupation scores over the
    occupations that :func:`marketplace_onet_crosswalk` assigns to the category), so that a
    dose defined on simulated marketplace data and one defined on Indeed sectors are on the
    same scale.

    References
    ----------
    Eloundou, T., Manning, S., Mishkin, P., and Rock, D. (2024). GPTs are GPTs: Labor market
    impact potential of LLMs. *Science*, 384(6702), 1306-1308.

    Examples
    --------
    >>> import laborai as la
    >>> la.datasets.category_exposure().category.tolist()[:2]  # doctest: +SKIP
    ['Accounting & Consulting', 'Admin Support']
    """
    out = _group_exposure(marketplace_onet_crosswalk(), "category", measure)
    extra = sorted(set(out["category"]) - set(MARKETPLACE_CATEGORIES))
    absent = [c for c in MARKETPLACE_CATEGORIES if c not in set(out["category"])]
    if extra or absent:
        raise DataValidationError(
            f"Package file 'crosswalk_marketplace_onet.csv': categories must be exactly "
            f"{list(MARKETPLACE_CATEGORIES)}; unknown {extra}, missing {absent}. Reinstall laborai."
        )
    order = {c: i for i, c in enumerate(MARKETPLACE_CATEGORIES)}
    return out.sort_values("category", key=lambda s: s.map(order)).reset_index(drop=True)
