"""Indeed Hiring Lab public series: job postings by sector, aggregate postings, AI shares.

Data: Indeed Hiring Lab, https://github.com/hiring-lab (CC BY 4.0). Every file is pinned to a
commit and verified by SHA-256 before it is parsed; see :func:`laborai.datasets.sources`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd

from laborai._validation import check_option
from laborai.datasets._loading import (
    check_columns,
    check_no_missing,
    check_unique,
    load,
    parse_dates,
    slugify,
)
from laborai.datasets._sources import Source
from laborai.errors import DataValidationError

__all__ = [
    "SECTOR_COUNTRIES",
    "indeed_aggregate_postings",
    "indeed_ai_share",
    "indeed_sector_postings",
    "indeed_sector_title_examples",
]

#: Countries with a pinned job-postings-by-sector file.
SECTOR_COUNTRIES: tuple[str, ...] = ("US", "GB", "DE", "FR", "CA", "AU")

Country = Literal["US", "GB", "DE", "FR", "CA", "AU"]


def _check_country(df: pd.DataFrame, column: str, country: str, path: Path) -> None:
    bad = df.loc[df[column] != country, column]
    if len(bad):
        raise DataValidationError(
            f"File {str(path)!r}, column {column!r}: rule 'every row is {country}' broken in "
            f"{len(bad)} row(s); first offending values: {bad.head(5).tolist()}."
        )


def _parse_sector(path: Path, src: Source) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype={"jobcountry": str, "variable": str, "display_name": str})
    cols = ["date", "jobcountry", "indeed_job_postings_index", "variable", "display_name"]
    check_columns(raw, cols, path)
    check_no_missing(raw, cols, path)
    country = src.key.rsplit("_", 1)[-1]
    _check_country(raw, "jobcountry", country, path)
    out = pd.DataFrame(
        {
            "date": parse_dates(raw["date"], "date", path),
            "country": raw["jobcountry"].astype(str),
            "sector": raw["display_name"].astype(str),
            "sector_id": raw["display_name"].map(slugify).astype(str),
            "series": raw["variable"].astype(str),
            "postings_index": raw["indeed_job_postings_index"].astype("float64"),
        }
    )
    check_unique(out, ["date", "sector", "series"], path)
    return out.sort_values(["sector", "series", "date"], kind="stable").reset_index(drop=True)


def indeed_sector_postings(country: Country = "US") -> pd.DataFrame:
    """Indeed Job Postings Index by occupational sector, daily, for one country.

    Parameters
    ----------
    country : {"US", "GB", "DE", "FR", "CA", "AU"}, default "US"
        ISO 3166 alpha-2 code of the country (``"GB"`` for the United Kingdom).

    Returns
    -------
    pandas.DataFrame
        One row per sector and day, sorted by ``sector``, ``series``, ``date``:

        - ``date`` (datetime64): day the 7-day trailing average ends;
        - ``country`` (str): the country code;
        - ``sector`` (str): Indeed's sector display name, e.g. ``"Software Development"``;
        - ``sector_id`` (str): snake_case identifier of the sector,
          e.g. ``"software_development"`` (derived from the display name; the source has no id);
        - ``series`` (str): the source's ``variable`` column, ``"total postings"`` in every
          pinned file;
        - ``postings_index`` (float64): seasonally adjusted index, 100 on 2020-02-01.

        ``attrs`` holds ``source`` (pinned URL), ``citation``, ``licence`` and ``sha256``.

    Raises
    ------
    OptionError
        If ``country`` is not one of the six countries.
    DataFileNotFoundError
        If the file is not available locally and cannot be downloaded.
    DataValidationError
        If the file's hash or layout differs from the pinned version.

    Notes
    -----
    The index measures the number of job postings on Indeed in a sector relative to
    1 February 2020 (= 100), seasonally adjusted, as a 7-day trailing average. Sector
    coverage differs by country (46 sectors in the US file, 48 in GB, 38 in DE, 36 in FR, 39 in
    CA, 49 in AU) and each pinned file ends on a different day. Sectors are Indeed's
    occupational groupings of job titles, not industries; see
    :func:`indeed_sector_title_examples`.

    References
    ----------
    Indeed Hiring Lab, Job Postings Tracker, https://github.com/hiring-lab/job_postings_tracker
    (CC BY 4.0).

    Examples
    --------
    >>> import laborai as la
    >>> us = la.datasets.indeed_sector_postings("US")  # doctest: +SKIP
    >>> us.loc[us.date == "2020-02-01", "postings_index"].unique()  # doctest: +SKIP
    array([100.])
    """
    check_option("country", country, SECTOR_COUNTRIES)
    return load(f"indeed_sector_{country}", _parse_sector)


def _parse_aggregate(path: Path, src: Source) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype={"jobcountry": str, "variable": str})
    cols = [
        "date",
        "jobcountry",
        "indeed_job_postings_index_SA",
        "indeed_job_postings_index_NSA",
        "variable",
    ]
    check_columns(raw, cols, path)
    check_no_missing(raw, cols, path)
    _check_country(raw, "jobcountry", "US", path)
    out = pd.DataFrame(
        {
            "date": parse_dates(raw["date"], "date", path),
            "country": raw["jobcountry"].astype(str),
            "series": raw["variable"].astype(str),
            "postings_index_sa": raw["indeed_job_postings_index_SA"].astype("float64"),
            "postings_index_nsa": raw["indeed_job_postings_index_NSA"].astype("float64"),
        }
    )
    check_unique(out, ["date", "series"], path)
    return out.sort_values(["series", "date"], kind="stable").reset_index(drop=True)


def indeed_aggregate_postings(country: Literal["US"] = "US") -> pd.DataFrame:
    """Indeed Job Postings Index for the whole country, daily, total and new postings.

    Parameters
    ----------
    country : {"US"}, default "US"
        Only the US aggregate file is pinned.

    Returns
    -------
    pandas.DataFrame
        One row per series and day, sorted by ``series``, ``date``: ``date`` (datetime64),
        ``country`` (str), ``series`` (str: ``"new postings"`` or ``"total postings"``),
        ``postings_index_sa`` (float64, seasonally adjusted) and ``postings_index_nsa``
        (float64, not seasonally adjusted); both are 100 on 2020-02-01. ``attrs`` holds the
        provenance and citation.

    Raises
    ------
    OptionError
        If ``country`` is not ``"US"``.
    DataFileNotFoundError
        If the file is not available locally and cannot be downloaded.
    DataValidationError
        If the file's hash or layout differs from the pinned version.

    Notes
    -----
    ``"total postings"`` counts every posting visible on Indeed; ``"new postings"`` only recently
    posted ones (see the Hiring Lab's methodology note). Both are 7-day trailing averages
    indexed to 1 February 2020.

    References
    ----------
    Indeed Hiring Lab, Job Postings Tracker, https://github.com/hiring-lab/job_postings_tracker
    (CC BY 4.0).

    Examples
    --------
    >>> import laborai as la
    >>> la.datasets.indeed_aggregate_postings().series.unique().tolist()  # doctest: +SKIP
    ['new postings', 'total postings']
    """
    check_option("country", country, ("US",))
    return load("indeed_aggregate_US", _parse_aggregate)


def _parse_ai_share(path: Path, src: Source) -> pd.DataFrame:
    kind = "genai" if src.key == "indeed_genai_posting" else "ai"
    value_col = "GenAI_share_postings" if kind == "genai" else "AI_share_postings"
    raw = pd.read_csv(path, dtype={"jobcountry": str})
    cols = ["date", "jobcountry", value_col]
    check_columns(raw, cols, path)
    check_no_missing(raw, cols, path)
    out = pd.DataFrame(
        {
            "date": parse_dates(raw["date"], "date", path),
            "country": raw["jobcountry"].astype(str),
            "kind": kind,
            "share_percent": raw[value_col].astype("float64"),
        }
    )
    out["kind"] = out["kind"].astype(str)
    check_unique(out, ["date", "country"], path)
    return out.sort_values(["country", "date"], kind="stable").reset_index(drop=True)


def indeed_ai_share(kind: Literal["ai", "genai"] = "ai") -> pd.DataFrame:
    """Daily share (%) of Indeed job postings that mention AI or generative-AI terms.

    Parameters
    ----------
    kind : {"ai", "genai"}, default "ai"
        ``"ai"``: postings mentioning terms on Indeed's AI keyword list (AI and machine
        learning); ``"genai"``: postings mentioning terms on its generative-AI keyword list.
        Both series start on 2019-01-01.

    Returns
    -------
    pandas.DataFrame
        One row per country and day, sorted by ``country``, ``date``: ``date`` (datetime64),
        ``country`` (str, 9 countries: AU, CA, DE, FR, GB, IE, IT, NL, US), ``kind`` (str, the
        argument) and ``share_percent`` (float64, percent of all postings, 0-100). ``attrs``
        holds the provenance and citation.

    Raises
    ------
    OptionError
        If ``kind`` is not ``"ai"`` or ``"genai"``.
    DataFileNotFoundError
        If the file is not available locally and cannot be downloaded.
    DataValidationError
        If the file's hash or layout differs from the pinned version.

    Notes
    -----
    The share is the number of postings whose title or description matches Indeed's AI
    (respectively GenAI) keyword list, divided by all postings in the country, in percent.
    The two files are pinned at different commits and end on different days.

    References
    ----------
    Indeed Hiring Lab, AI tracker, https://github.com/hiring-lab/ai-tracker (CC BY 4.0).

    Examples
    --------
    >>> import laborai as la
    >>> la.datasets.indeed_ai_share("genai").country.nunique()  # doctest: +SKIP
    9
    """
    check_option("kind", kind, ("ai", "genai"))
    key = "indeed_genai_posting" if kind == "genai" else "indeed_ai_posting"
    return load(key, _parse_ai_share)


def _parse_title_examples(path: Path, src: Source) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype=str)
    cols = ["sector", "job_titles"]
    check_columns(raw, cols, path)
    check_no_missing(raw, cols, path)
    check_unique(raw, ["sector"], path)
    rows = []
    for sector, titles in zip(raw["sector"], raw["job_titles"], strict=True):
        parts = [t.strip() for t in str(titles).split(",")]
        if any(p == "" for p in parts):
            raise DataValidationError(
                f"File {str(path)!r}, column 'job_titles': rule 'comma-separated non-empty "
                f"titles' broken for sector {sector!r}; value {titles!r}."
            )
        for rank, title in enumerate(parts, start=1):
            rows.append(
                {"sector": sector, "sector_id": slugify(sector), "rank": rank, "job_title": title}
            )
    out = pd.DataFrame(rows)
    out["rank"] = out["rank"].astype("int64")
    return out


def indeed_sector_title_examples() -> pd.DataFrame:
    """Example job titles that Indeed gives for each occupational sector.

    Returns
    -------
    pandas.DataFrame
        One row per sector and example title, in the source order: ``sector`` (str),
        ``sector_id`` (str, as in :func:`indeed_sector_postings`), ``rank`` (int64, 1 for the
        first example) and ``job_title`` (str, lower case as published, e.g. the source's
        spelling ``"dental hygenist"`` is kept). ``attrs`` holds the provenance and citation.

    Raises
    ------
    DataFileNotFoundError
        If the file is not available locally and cannot be downloaded.
    DataValidationError
        If the file's hash or layout differs from the pinned version.

    Notes
    -----
    The source lists two titles per sector for 47 sectors; ``Agriculture & Forestry``,
    ``Real Estate`` and ``Social Science`` appear in some country files but have no examples.
    laborai's sector-to-O*NET crosswalk starts from these titles.

    References
    ----------
    Indeed Hiring Lab, Job Postings Tracker, https://github.com/hiring-lab/job_postings_tracker
    (CC BY 4.0).

    Examples
    --------
    >>> import laborai as la
    >>> ex = la.datasets.indeed_sector_title_examples()  # doctest: +SKIP
    >>> ex.loc[ex.sector == "Software Development", "job_title"].tolist()  # doctest: +SKIP
    ['software engineer', 'full stack developer']
    """
    return load("indeed_sector_title_examples", _parse_title_examples)
