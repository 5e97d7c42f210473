"""The two canonical tables: job posts and contracts.

Each column is described once here; the readers, the simulator, the panel builder and the docs
(``docs/data/schema.md``) all use these specifications.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

__all__ = ["CONTRACT_COLUMNS", "JOB_POST_COLUMNS", "ColumnSpec", "schema_table"]

Kind = Literal["id", "date", "category", "subcategory", "text", "choice", "money", "country"]


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a canonical table.

    Attributes
    ----------
    name : str
        Column name.
    kind : str
        Validation kind (id, date, category, subcategory, text, choice, money, country).
    dtype : str
        pandas dtype after coercion.
    meaning : str
        Plain-language description.
    allowed : str
        Allowed values, in words.
    required : bool
        Whether the column must be present.
    choices : tuple of str
        Allowed values of a ``choice`` column.
    """

    name: str
    kind: Kind
    dtype: str
    meaning: str
    allowed: str
    required: bool = True
    choices: tuple[str, ...] = ()


JOB_POST_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("post_id", "id", "string", "Unique identifier of the job post.",
               "non-empty text, unique within the table"),
    ColumnSpec("posted_date", "date", "datetime64[ns]", "Date the client posted the job (UTC).",
               "a date within the plausible range (default 2000-01-01 to 2035-12-31)"),
    ColumnSpec("category", "category", "string", "Top-level work category.",
               "one of the 12 taxonomy categories (or mapped to one by `category_map`)"),
    ColumnSpec("subcategory", "subcategory", "string", "Work subcategory.",
               "a subcategory of the row's category in the taxonomy"),
    ColumnSpec("title", "text", "string", "Job title written by the client.",
               "valid UTF-8 text (may be empty)"),
    ColumnSpec("skills", "text", "string", "Skills requested, separated by '; '.",
               "valid UTF-8 text (may be empty)"),
    ColumnSpec("budget_type", "choice", "string", "How the job is paid.", "'fixed' or 'hourly'",
               choices=("fixed", "hourly")),
    ColumnSpec("contract_value_usd", "money", "float64",
               "Projected contract value in US dollars (fixed budget, or rate x expected hours).",
               "finite and >= 0"),
    ColumnSpec("client_country", "country", "string", "Client's country, ISO 3166-1 alpha-2.",
               "two upper-case letters, e.g. 'US'"),
    ColumnSpec("description", "text", "string", "Job description, when available.",
               "valid UTF-8 text", required=False),
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
