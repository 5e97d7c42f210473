"""Readers for the canonical tables: CSV, Parquet, DuckDB tables/queries or DataFrames.

Every row read is either kept or reported: by default any invalid row raises
:class:`~laborai.errors.DataValidationError` naming the source, column, rule, number of rows and
the first offending values; with ``on_invalid="quarantine"`` the valid rows are returned together
with a table of the rejected rows, each with its reason, and ``n_read == len(data) +
len(rejected)`` always holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from laborai import taxonomy
from laborai._validation import check_option
from laborai.data.schema import CONTRACT_COLUMNS, JOB_POST_COLUMNS, ColumnSpec
from laborai.errors import DataFileNotFoundError, DataValidationError

__all__ = ["DEFAULT_DATE_RANGE", "ReadResult", "read_contracts", "read_job_posts"]

OnInvalid = Literal["raise", "quarantine"]
DEFAULT_DATE_RANGE: tuple[str, str] = ("2000-01-01", "2035-12-31")
_N_SHOW = 5
_SURROGATE = re.compile("[\udc80-\udcff]")
_COUNTRY = re.compile(r"^[A-Z]{2}$")

RULE_TEXT: dict[str, str] = {
    "id_present": "the id must be non-empty",
    "id_unique": "ids must be unique (later duplicates are rejected, the first kept)",
    "date_parses": "dates must parse as ISO dates (YYYY-MM-DD)",
    "date_in_range": "dates must lie in the plausible range",
    "category_known": "categories must be one of the 12 taxonomy categories",
    "subcategory_known": "subcategories must belong to the row's category in the taxonomy",
    "text_decodes": "text must decode as UTF-8",
    "allowed_value": "the value must be one of the allowed choices",
    "money_valid": "money must be a finite number >= 0",
    "country_code": "countries must be ISO 3166-1 alpha-2 codes (two upper-case letters)",
    "end_after_start": "end_date must not be before start_date",
    "post_exists": "the contract's post_id must exist in the job posts",
}


@dataclass(frozen=True)
class ReadResult:
    """Result of a read with ``on_invalid="quarantine"``.

    Unpacks as ``data, rejected = la.read_job_posts(path, on_invalid="quarantine")``.

    Attributes
    ----------
    data : pandas.DataFrame
        The valid rows, coerced to the canonical types.
    rejected : pandas.DataFrame
        One row per rejected input row: ``row`` (1-based record number in the source),
        ``rule`` and ``column`` of the first rule it broke, ``reason`` (every rule it broke),
        then the row's original values.
    n_read : int
        Number of rows read from the source (``len(data) + len(rejected)``).
    source : str
        Description of the source (file path, table or query).
    """

    data: pd.DataFrame
    rejected: pd.DataFrame
    n_read: int
    source: str
    rules: Mapping[str, int] = field(default_factory=dict)

    def __iter__(self) -> Iterator[pd.DataFrame]:
        yield self.data
        yield self.rejected

    def __repr__(self) -> str:
        return (f"ReadResult(source={self.source!r}, n_read={self.n_read}, "
                f"kept={len(self.data)}, rejected={len(self.rejected)})")


# ----------------------------------------------------------------------------- loading


def _load(source: Any, con: Any | None) -> tuple[pd.DataFrame, str]:
    """Return the raw table and a description of where it came from."""
    import duckdb

    if isinstance(source, pd.DataFrame):
        return source.reset_index(drop=True), "<DataFrame>"
    if isinstance(source, duckdb.DuckDBPyRelation):
        return source.df(), "<DuckDB relation>"
    if con is not None and isinstance(source, str):
        is_query = source.lstrip().lower().startswith(("select", "with", "from"))
        rel = con.sql(source) if is_query else con.table(source)
        return rel.df(), (f"query {source!r}" if is_query else f"table {source!r}")
    if not isinstance(source, (str, Path)):
        raise TypeError(
            "source must be a path to a CSV or Parquet file, a pandas DataFrame, a DuckDB "
            f"relation, or a table name/query together with con=; got {type(source).__name__}."
        )
    path = Path(source)
    name = str(path)
    suffixes = "".join(path.suffixes).lower()
    if "*" not in name and not path.exists():
        raise DataFileNotFoundError(f"{name}: file not found.")
    if ".parquet" in suffixes or path.is_dir() or ("*" in name and name.endswith(".parquet")):
        pattern = str(path / "**" / "*.parquet") if path.is_dir() else name
        with duckdb.connect() as c:
            return c.read_parquet(pattern).df(), name
    if ".csv" in suffixes or ".txt" in suffixes or ".tsv" in suffixes:
        try:
            df = pd.read_csv(
                path,
                dtype=object,
                keep_default_na=False,
                na_values=[""],
                encoding="utf-8",
                encoding_errors="surrogateescape",
                sep="\t" if ".tsv" in suffixes else ",",
            )
        except pd.errors.ParserError as exc:
            raise DataValidationError(
                f"{name}: the file is not a well-formed CSV ({exc}). Check quoting and the number "
                "of fields on the line named."
            ) from exc
        return df, name
    raise DataValidationError(
        f"{name}: unsupported file type {suffixes or '(none)'!r}; use .csv, .tsv or .parquet "
        "(or pass a DataFrame, a DuckDB relation, or a table/query with con=)."
    )


# ----------------------------------------------------------------------------- checks


@dataclass
class _Failures:
    """Accumulates (rule, column, mask) failures for a table of n rows."""

    n: int
    items: list[tuple[str, str, np.ndarray, str]] = field(default_factory=list)

    def add(self, rule: str, column: str, mask: np.ndarray | pd.Series, detail: str = "") -> None:
        m = np.asarray(mask, dtype=bool)
        if m.any():
            self.items.append((rule, column, m, detail))

    def any_mask(self) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for _, _, m, _ in self.items:
            out |= m
        return out


def _as_text(col: pd.Series) -> pd.Series:
    """Object-dtype text (None for missing); object keeps undecodable surrogates storable."""
    vals = [v if isinstance(v, str) else (None if pd.isna(v) else str(v))
            for v in col.astype(object).tolist()]
    return pd.Series(vals, index=col.index, dtype=object)


def _strip(col: pd.Series) -> pd.Series:
    return pd.Series([v.strip() if isinstance(v, str) else v for v in col.tolist()],
                     index=col.index, dtype=object)


def _check_text(df: pd.DataFrame, spec: ColumnSpec, f: _Failures) -> pd.Series:
    col = _as_text(df[spec.name]).fillna("")
    bad = np.array([bool(_SURROGATE.search(s)) for s in col.tolist()], dtype=bool)
    f.add("text_decodes", spec.name, bad)
    return col.where(~bad, "")


def _check_id(df: pd.DataFrame, spec: ColumnSpec, f: _Failures, unique: bool) -> pd.Series:
    col = _strip(_as_text(df[spec.name]))
    missing = col.isna() | (col == "")
    f.add("id_present", spec.name, missing)
    bad_text = np.array([isinstance(s, str) and bool(_SURROGATE.search(s)) for s in col.tolist()],
                        dtype=bool)
    f.add("text_decodes", spec.name, bad_text)
    if unique:
        dup = col.duplicated(keep="first") & ~missing
        f.add("id_unique", spec.name, dup)
    return col


def _check_date(
    df: pd.DataFrame, spec: ColumnSpec, f: _Failures, date_range: tuple[str, str]
) -> pd.Series:
    raw = df[spec.name]
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = pd.to_datetime(raw)
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    else:
        txt = _as_text(raw)
        parsed = pd.to_datetime(txt, errors="coerce", format="ISO8601")
        f.add("date_parses", spec.name, parsed.isna())
    parsed = parsed.astype("datetime64[ns]").dt.normalize()
    lo, hi = (pd.Timestamp(d) for d in date_range)
    out = parsed.notna() & ((parsed < lo) | (parsed > hi))
    f.add("date_in_range", spec.name, out, f"between {lo.date()} and {hi.date()}")
    if pd.api.types.is_datetime64_any_dtype(raw):
        f.add("date_parses", spec.name, parsed.isna())
    return parsed


def _check_money(df: pd.DataFrame, spec: ColumnSpec, f: _Failures) -> pd.Series:
    raw = df[spec.name]
    num = pd.to_numeric(raw if pd.api.types.is_numeric_dtype(raw) else _as_text(raw),
                        errors="coerce").astype("float64")
    bad = num.isna() | ~np.isfinite(num.fillna(0.0)) | (num < 0)
    f.add("money_valid", spec.name, bad)
    return num


def _check_choice(df: pd.DataFrame, spec: ColumnSpec, f: _Failures) -> pd.Series:
    col = _strip(_as_text(df[spec.name]))
    col = pd.Series([v.lower() if isinstance(v, str) else v for v in col.tolist()],
                    index=col.index, dtype=object)
    f.add("allowed_value", spec.name, ~col.isin(spec.choices),
          "one of " + ", ".join(repr(c) for c in spec.choices))
    return col


def _check_country(df: pd.DataFrame, spec: ColumnSpec, f: _Failures) -> pd.Series:
    col = _strip(_as_text(df[spec.name]))
    ok = np.array([isinstance(s, str) and bool(_COUNTRY.match(s)) for s in col.tolist()], dtype=bool)
    f.add("country_code", spec.name, ~ok)
    return col


def _check_required(df: pd.DataFrame, specs: tuple[ColumnSpec, ...], source: str) -> None:
    missing = [s.name for s in specs if s.required and s.name not in df.columns]
    if missing:
        raise DataValidationError(
            f"{source}: rule 'required_columns': missing required column(s) "
            f"{', '.join(map(repr, missing))} in all {len(df)} rows; columns present: "
            f"{', '.join(map(repr, map(str, df.columns)))}. Rename the columns to the canonical "
            "names (see docs/data/schema.md)."
        )


def _raise(source: str, df: pd.DataFrame, failures: _Failures) -> None:
    n_bad = int(failures.any_mask().sum())
    lines = []
    for rule, column, mask, detail in failures.items:
        idx = np.flatnonzero(mask)
        shown = ", ".join(
            f"{_show(df[column].iloc[i])} (row {i + 1})" for i in idx[:_N_SHOW]
        )
        text = RULE_TEXT[rule] + (f" ({detail})" if detail else "")
        lines.append(
            f"column {column!r}, rule {rule!r}: {len(idx)} row(s) fail — {text}; first: {shown}"
        )
    raise DataValidationError(
        f"{source}: {n_bad} of {len(df)} rows are invalid.\n  - " + "\n  - ".join(lines) +
        "\nFix the source data, map labels with category_map=/subcategory_map=, or read with "
        "on_invalid='quarantine' to keep the valid rows and inspect the rejected ones."
    )


def _show(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "<missing>"
    s = repr(v) if isinstance(v, str) else repr(str(v))
    return s if len(s) <= 60 else s[:57] + "...'"


def _finish(
    raw: pd.DataFrame,
    out: pd.DataFrame,
    failures: _Failures,
    source: str,
    on_invalid: OnInvalid,
    text_columns: list[str],
) -> pd.DataFrame | ReadResult:
    bad = failures.any_mask()
    if bad.any() and on_invalid == "raise":
        _raise(source, raw, failures)
    counts = {rule: 0 for rule, *_ in failures.items}
    first_rule = np.full(len(raw), "", dtype=object)
    first_col = np.full(len(raw), "", dtype=object)
    reasons: list[list[str]] = [[] for _ in range(len(raw))]
    for rule, column, mask, detail in failures.items:
        counts[rule] += int(mask.sum())
        for i in np.flatnonzero(mask):
            if not first_rule[i]:
                first_rule[i], first_col[i] = rule, column
            reasons[i].append(f"{column}: {RULE_TEXT[rule]}" + (f" ({detail})" if detail else ""))
    kept = out.loc[~bad].reset_index(drop=True)
    for col in text_columns:
        if col in kept.columns:
            kept[col] = kept[col].astype("str")
    if on_invalid == "raise":
        return kept
    idx = np.flatnonzero(bad)
    rejected = pd.DataFrame(
        {
            "row": idx + 1,
            "rule": first_rule[idx].astype(str),
            "column": first_col[idx].astype(str),
            "reason": ["; ".join(reasons[i]) for i in idx],
        }
    )
    original = raw.iloc[idx].reset_index(drop=True).astype(object)
    original.columns = [f"value_{c}" for c in original.columns]
    rejected = pd.concat([rejected, original], axis=1)
    return ReadResult(data=kept, rejected=rejected, n_read=len(raw), source=source, rules=counts)


def _apply_map(col: pd.Series, mapping: Mapping[str, str] | None) -> pd.Series:
    col = _strip(_as_text(col))
    if mapping:
        col = pd.Series([mapping.get(s, s) if isinstance(s, str) else s for s in col.tolist()],
                        index=col.index, dtype=object)
    return col


# ----------------------------------------------------------------------------- public


@overload
def read_job_posts(
    source: Any, *, on_invalid: Literal["raise"] = ..., category_map: Mapping[str, str] | None = ...,
    subcategory_map: Mapping[str, str] | None = ..., date_range: tuple[str, str] = ...,
    con: Any | None = ...,
) -> pd.DataFrame: ...
@overload
def read_job_posts(
    source: Any, *, on_invalid: Literal["quarantine"], category_map: Mapping[str, str] | None = ...,
    subcategory_map: Mapping[str, str] | None = ..., date_range: tuple[str, str] = ...,
    con: Any | None = ...,
) -> ReadResult: ...


def read_job_posts(
    source: Any,
    *,
    on_invalid: OnInvalid = "raise",
    category_map: Mapping[str, str] | None = None,
    subcategory_map: Mapping[str, str] | None = None,
    date_range: tuple[str, str] = DEFAULT_DATE_RANGE,
    con: Any | None = None,
) -> pd.DataFrame | ReadResult:
    """Read and validate a job-posts table.

    Parameters
    ----------
    source : str, pathlib.Path, pandas.DataFrame or duckdb.DuckDBPyRelation
        A ``.csv``/``.tsv`` file, a ``.parquet`` file, directory or glob, a DataFrame, a DuckDB
        relation, or (with ``con``) a DuckDB table name or SQL query.
    on_invalid : {"raise", "quarantine"}, default "raise"
        ``"raise"``: any invalid row raises :class:`~laborai.errors.DataValidationError`.
        ``"quarantine"``: return a :class:`ReadResult` with the valid rows and the rejected ones.
    category_map, subcategory_map : mapping of str to str, optional
        Translate the source's labels to taxonomy names before validation, e.g.
        ``{"Writing & Translation": "Writing"}``.
    date_range : (str, str), default ("2000-01-01", "2035-12-31")
        Plausible range of ``posted_date`` (inclusive).
    con : duckdb.DuckDBPyConnection, optional
        Connection holding the table or answering the query named by ``source``.

    Returns
    -------
    pandas.DataFrame or ReadResult
        The canonical job posts (see ``docs/data/schema.md``); extra columns are kept as read.

    Raises
    ------
    DataValidationError
        Missing required columns (always), or invalid rows with ``on_invalid="raise"``. The
        message names the source, each failing column and rule, the number of rows and the
        first offending values with their row numbers.
    DataFileNotFoundError
        If ``source`` is a path that does not exist.

    Notes
    -----
    Rules: required columns present; ``post_id`` non-empty and unique; ``posted_date`` parses
    and lies in ``date_range``; ``category`` known; ``subcategory`` belongs to ``category``;
    text decodes as UTF-8; ``budget_type`` is fixed/hourly; ``contract_value_usd`` finite and
    non-negative; ``client_country`` an ISO alpha-2 code.

    Examples
    --------
    >>> import laborai as la
    >>> m = la.simulate_marketplace(seed=1, n_posts=2_000)
    >>> posts = la.read_job_posts(m.job_posts)
    >>> len(posts) == len(m.job_posts)
    True
    """
    check_option("on_invalid", on_invalid, ("raise", "quarantine"))
    raw, name = _load(source, con)
    _check_required(raw, JOB_POST_COLUMNS, name)
    f = _Failures(len(raw))
    out = raw.copy()
    for spec in JOB_POST_COLUMNS:
        if spec.name not in raw.columns:
            continue
        if spec.kind == "id":
            out[spec.name] = _check_id(raw, spec, f, unique=True)
        elif spec.kind == "date":
            out[spec.name] = _check_date(raw, spec, f, date_range)
        elif spec.kind == "text":
            out[spec.name] = _check_text(raw, spec, f)
        elif spec.kind == "choice":
            out[spec.name] = _check_choice(raw, spec, f)
        elif spec.kind == "money":
            out[spec.name] = _check_money(raw, spec, f)
        elif spec.kind == "country":
            out[spec.name] = _check_country(raw, spec, f)
    cat = _apply_map(raw["category"], category_map)
    sub = _apply_map(raw["subcategory"], subcategory_map)
    known = set(taxonomy.category_names())
    bad_cat = ~cat.isin(known)
    f.add("category_known", "category", bad_cat)
    pairs = set(map(tuple, taxonomy.subcategories()[["category", "subcategory"]].to_numpy().tolist()))
    bad_sub = ~bad_cat & ~pd.Series(list(zip(cat, sub, strict=True)), dtype=object).isin(pairs)
    f.add("subcategory_known", "subcategory", bad_sub)
    out["category"], out["subcategory"] = cat, sub
    out = _canonical_order(out, JOB_POST_COLUMNS)
    return _finish(raw, out, f, name, on_invalid, _text_columns(JOB_POST_COLUMNS))


@overload
def read_contracts(
    source: Any, *, job_posts: pd.DataFrame | None = ..., on_invalid: Literal["raise"] = ...,
    date_range: tuple[str, str] = ..., con: Any | None = ...,
) -> pd.DataFrame: ...
@overload
def read_contracts(
    source: Any, *, job_posts: pd.DataFrame | None = ..., on_invalid: Literal["quarantine"],
    date_range: tuple[str, str] = ..., con: Any | None = ...,
) -> ReadResult: ...


def read_contracts(
    source: Any,
    *,
    job_posts: pd.DataFrame | None = None,
    on_invalid: OnInvalid = "raise",
    date_range: tuple[str, str] = DEFAULT_DATE_RANGE,
    con: Any | None = None,
) -> pd.DataFrame | ReadResult:
    """Read and validate a contracts table.

    Parameters
    ----------
    source : str, pathlib.Path, pandas.DataFrame or duckdb.DuckDBPyRelation
        As for :func:`read_job_posts`.
    job_posts : pandas.DataFrame, optional
        Valid job posts; when given, every contract's ``post_id`` must exist among them.
    on_invalid : {"raise", "quarantine"}, default "raise"
        See :func:`read_job_posts`.
    date_range : (str, str), default ("2000-01-01", "2035-12-31")
        Plausible range of ``start_date`` and ``end_date``.
    con : duckdb.DuckDBPyConnection, optional
        Connection holding the table or answering the query named by ``source``.

    Returns
    -------
    pandas.DataFrame or ReadResult
        The canonical contracts; extra columns are kept as read.

    Raises
    ------
    DataValidationError
        As for :func:`read_job_posts`.

    Notes
    -----
    Rules: required columns present; ``contract_id`` non-empty and unique; ``post_id`` and
    ``freelancer_id`` non-empty; dates parse and lie in ``date_range``; ``end_date >=
    start_date``; ``earnings_usd`` finite and non-negative; ``post_id`` exists in ``job_posts``
    when given.
    """
    check_option("on_invalid", on_invalid, ("raise", "quarantine"))
    raw, name = _load(source, con)
    _check_required(raw, CONTRACT_COLUMNS, name)
    f = _Failures(len(raw))
    out = raw.copy()
    for spec in CONTRACT_COLUMNS:
        if spec.kind == "id":
            out[spec.name] = _check_id(raw, spec, f, unique=spec.name == "contract_id")
        elif spec.kind == "date":
            out[spec.name] = _check_date(raw, spec, f, date_range)
        elif spec.kind == "money":
            out[spec.name] = _check_money(raw, spec, f)
    both = out["start_date"].notna() & out["end_date"].notna()
    f.add("end_after_start", "end_date", both & (out["end_date"] < out["start_date"]))
    if job_posts is not None:
        known = pd.Index(_as_text(job_posts["post_id"]))
        present = out["post_id"].notna() & (out["post_id"] != "")
        f.add("post_exists", "post_id", present & ~out["post_id"].isin(known))
    out = _canonical_order(out, CONTRACT_COLUMNS)
    return _finish(raw, out, f, name, on_invalid, _text_columns(CONTRACT_COLUMNS))


def _canonical_order(df: pd.DataFrame, specs: tuple[ColumnSpec, ...]) -> pd.DataFrame:
    first = [s.name for s in specs if s.name in df.columns]
    rest = [c for c in df.columns if c not in first]
    return df[first + rest]


def _text_columns(specs: tuple[ColumnSpec, ...]) -> list[str]:
    return [s.name for s in specs if s.dtype == "string"]
