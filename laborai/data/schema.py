"""The two canonical tables: job posts and contracts.

Each column is described once here; the readers, the simulator, the panel builder and the docs
(``docs/data/schema.md``, ``docs/readers.md``) all use these specifications.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

__all__ = [
    "BUDGET_TYPES",
    "CONTRACT_COLUMNS",
    "DURATIONS",
    "ENGAGEMENTS",
    "EXPERIENCE_LEVELS",
    "JOB_POST_COLUMNS",
    "VALUE_BASES",
    "ColumnSpec",
    "schema_table",
]

Kind = Literal["id", "date", "category", "subcategory", "text", "choice", "money", "country",
               "derived"]

#: How a job is paid, in Upwork's words (:data:`laborai.taxonomy.BUDGET_TYPES`); the reader
#: also accepts ``"fixed"`` (laborai's earlier spelling) for ``"fixed_budget"``.
BUDGET_TYPES: tuple[str, ...] = ("fixed_budget", "hourly", "no_budget")
#: Expected weekly hours of a post (Upwork's "engagement" labels).
ENGAGEMENTS: tuple[str, ...] = ("Less than 30 hrs/week", "30+ hrs/week", "Hours to be determined",
                                "not_sure")
#: Expected duration of a job (Upwork's labels).
DURATIONS: tuple[str, ...] = ("Less than 1 month", "1 to 3 months", "3 to 6 months",
                              "More than 6 months")
#: The experience level the client asks for (Upwork's labels).
EXPERIENCE_LEVELS: tuple[str, ...] = ("Entry level", "Intermediate", "Expert")
#: What ``contract_value_usd`` of a post is measured on.
VALUE_BASES: tuple[str, ...] = ("fixed_budget", "hourly_projection", "none")


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a canonical table.

    Attributes
    ----------
    name : str
        Column name.
    kind : str
        Validation kind (id, date, category, subcategory, text, choice, money, country, or
        derived for a column the reader computes).
    dtype : str
        pandas dtype after coercion.
    meaning : str
        Plain-language description.
    allowed : str
        Allowed values, in words.
    required : bool
        Whether the column must be present in the source.
    choices : tuple of str
        Allowed values of a ``choice`` column (matched ignoring case and runs of white space;
        stored in the spelling given here).
    aliases : tuple of (str, str)
        Other accepted spellings of a choice, with the choice they stand for.
    nullable : bool
        Whether a present column may have missing values (text columns read missing as ``""``).
    """

    name: str
    kind: Kind
    dtype: str
    meaning: str
    allowed: str
    required: bool = True
    choices: tuple[str, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()
    nullable: bool = False


JOB_POST_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("post_id", "id", "string", "Unique identifier of the job post.",
               "non-empty text, unique within the table"),
    ColumnSpec("posted_date", "date", "datetime64[ns]",
               "Date the client posted the job (UTC; zoned timestamps are converted to UTC first).",
               "a date within the plausible range (default 2000-01-01 to 2035-12-31)"),
    ColumnSpec("category", "category", "string", "Top-level work category.",
               "one of the 12 taxonomy categories, matched ignoring case and spacing"),
    ColumnSpec("subcategory", "subcategory", "string", "Work subcategory.",
               "a subcategory of the row's category in the taxonomy"),
    ColumnSpec("title", "text", "string", "Job title written by the client.",
               "valid UTF-8 text (may be empty)", required=False, nullable=True),
    ColumnSpec("skills", "text", "string", "Skills requested, separated by '; '.",
               "valid UTF-8 text (may be empty)", required=False, nullable=True),
    ColumnSpec("budget_type", "choice", "string", "How the job is paid.",
               "'fixed_budget' (or 'fixed'), 'hourly' or 'no_budget'", choices=BUDGET_TYPES,
               aliases=(("fixed", "fixed_budget"),)),
    ColumnSpec("contract_value_usd", "money", "float64",
               "Projected contract value in US dollars: the fixed budget, or hourly rate x weekly "
               "hours x weeks (see value_basis). Computed by the reader when absent.",
               "finite and >= 0; missing when the post states no budget", required=False,
               nullable=True),
    ColumnSpec("value_basis", "derived", "string",
               "What contract_value_usd is measured on (computed by the reader).",
               "'fixed_budget', 'hourly_projection' or 'none' (value missing)", required=False,
               choices=VALUE_BASES),
    ColumnSpec("client_country", "country", "string", "Client's country, ISO 3166-1 alpha-2.",
               "an assigned ISO 3166-1 alpha-2 code, e.g. 'US' (or a country name with the "
               "'country_name' transform of a column mapping)"),
    ColumnSpec("fixed_budget_usd", "money", "float64",
               "Posted fixed budget (fixed-price posts), US dollars.",
               "finite and >= 0, or missing", required=False, nullable=True),
    ColumnSpec("hourly_rate_usd", "money", "float64",
               "Posted hourly rate (hourly posts), US dollars.",
               "finite and >= 0, or missing", required=False, nullable=True),
    ColumnSpec("engagement", "choice", "string",
               "Expected weekly hours of the job (Upwork's engagement; missing for fixed price).",
               ", ".join(repr(c) for c in ENGAGEMENTS) + ", or missing", required=False,
               choices=ENGAGEMENTS, nullable=True),
    ColumnSpec("duration", "choice", "string", "Expected duration of the job.",
               ", ".join(repr(c) for c in DURATIONS) + ", or missing", required=False,
               choices=DURATIONS, nullable=True),
    ColumnSpec("experience_level", "choice", "string", "Experience level the client asks for.",
               ", ".join(repr(c) for c in EXPERIENCE_LEVELS) + ", or missing", required=False,
               choices=EXPERIENCE_LEVELS, nullable=True),
    ColumnSpec("description", "text", "string", "Job description, when available.",
               "valid UTF-8 text", required=False, nullable=True),
)

CONTRACT_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("contract_id", "id", "string", "Unique identifier of the contract.",
               "non-empty text, unique within the table"),
    ColumnSpec("post_id", "id", "string", "Job post the contract was hired from.",
               "non-empty text; must exist in the job posts when they are given"),
    ColumnSpec("freelancer_id", "id", "string", "Identifier of the hired freelancer.",
               "non-empty text (not unique: a freelancer has many contracts)"),
    ColumnSpec("start_date", "date", "datetime64[ns]", "Contract start date (UTC).",
               "a date within the plausible range"),
    ColumnSpec("end_date", "date", "datetime64[ns]", "Contract end date (UTC).",
               "a date within the plausible range and not before start_date"),
    ColumnSpec("earnings_usd", "money", "float64",
               "Total earnings paid to the freelancer over the contract, US dollars.",
               "finite and >= 0"),
)


def schema_table(which: Literal["job_posts", "contracts"]) -> pd.DataFrame:
    """Return the column documentation of a canonical table as a DataFrame.

    Parameters
    ----------
    which : {"job_posts", "contracts"}
        The table.

    Returns
    -------
    pandas.DataFrame
        Columns ``name, dtype, required, meaning, allowed``.
    """
    specs = JOB_POST_COLUMNS if which == "job_posts" else CONTRACT_COLUMNS
    return pd.DataFrame(
        [(s.name, s.dtype, s.required, s.meaning, s.allowed) for s in specs],
        columns=["name", "dtype", "required", "meaning", "allowed"],
    )
