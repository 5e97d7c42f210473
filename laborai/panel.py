"""Microdata to panel: sufficient statistics by unit (category x value tier, ...) and period.

DuckDB is the default engine. Job posts and contracts may be pandas DataFrames, Parquet/CSV
paths or globs, or DuckDB relations; the grouping runs inside DuckDB, so Parquet inputs are
aggregated without loading the microdata into pandas, and only the small panel comes back.
With ``engine="spark"`` the same SQL, transpiled to Spark SQL with sqlglot
(:mod:`laborai._spark`), runs on a Spark session, and the panel is identical (docs/spark.md).

Examples
--------
>>> import laborai as la
>>> m = la.simulate_marketplace(seed=1, n_posts=5_000)
>>> panel = la.build_panel(m.job_posts, m.contracts)
>>> int(panel["n_posts"].sum()) == len(m.job_posts)
True
>>> panel.groupby("unit").size().nunique()  # balanced: every unit has every period
1
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from laborai import taxonomy
from laborai._validation import check_option
from laborai.errors import DataFileNotFoundError, DataValidationError, LaborAIError, OptionError

__all__ = ["MONEY_SCALE", "UNKNOWN_TIER", "build_panel"]

Freq = Literal["month", "week", "quarter", "year"]
Units = Literal["observed", "taxonomy"]
Engine = Literal["duckdb", "spark"]
_VIEW_POSTS = "__laborai_posts"
_VIEW_CONTRACTS = "__laborai_contracts"

#: Value tier of posts without a projected contract value (no budget: ``contract_value_usd``
#: missing or NaN). Such posts are counted in this tier, never dropped; it is added to the
#: tier labels derived from the cuts (:func:`laborai.taxonomy.tier_labels`) and appears in a
#: panel only when the data contain such posts.
UNKNOWN_TIER = "unknown"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _file_expr(path: str | Path) -> str:
    p = Path(path)
    s = str(p / "**" / "*.parquet") if p.is_dir() else str(path)
    if ".parquet" in s:
        return f"read_parquet({_literal(s)})"
    if ".csv" in s or ".tsv" in s:
        return f"read_csv({_literal(s)}, header=true)"
    raise OptionError(f"paths must point to .parquet or .csv files (or a directory of Parquet "
                      f"files); got {s!r}.")


#: Accepted input types of the date columns (DuckDB names); text must be ISO 8601.
_NUMERIC_TYPES = frozenset({
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", '"NULL"', "NULL",
})
_INTEGER_TYPES = frozenset(t for t in _NUMERIC_TYPES if t not in ("FLOAT", "DOUBLE"))
#: An ISO 8601 time of day followed by a UTC offset (``Z``, ``+05:00``, ``-0500``, ``+05``).
_OFFSET_RE = r"[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"
#: Dates a pandas ``datetime64[ns]`` period can hold.
_MIN_DATE, _MAX_DATE = "1677-09-22", "2262-04-10"
#: How many offending values an error message lists.
_N_SHOW = 5

IncompleteContracts = Literal["raise", "count"]
ContractTiers = Literal["post", "earnings"]


def _is_numeric(sql_type: str) -> bool:
    return sql_type.upper() in _NUMERIC_TYPES or sql_type.upper().startswith("DECIMAL")


def _describe_input(what: str, obj: Any) -> str:
    if isinstance(obj, (str, Path)):
        return f"{what} ({str(obj)!r})"
    if isinstance(obj, pd.DataFrame):
        return f"{what} (DataFrame)"
    if type(obj).__module__.startswith("pyspark"):
        return f"{what} (Spark DataFrame)"
    return f"{what} (DuckDB relation)"


def _first_line(err: BaseException) -> str:
    lines = [ln.strip() for ln in str(err).strip().splitlines() if ln.strip()]
    return lines[0] if lines else type(err).__name__


def _translate(err: duckdb.Error, where: str, rule: str, hint: str) -> LaborAIError:
    """A :class:`LaborAIError` for a DuckDB error, naming the input and the rule."""
    msg = _first_line(err)
    if isinstance(err, duckdb.IOException):
        return DataFileNotFoundError(
            f"{where}: rule 'readable_file': DuckDB could not open the input ({msg}). Check the "
            "path: a Parquet/CSV file, a glob or a directory of Parquet files."
        )
    if isinstance(err, duckdb.ConversionException):
        return DataValidationError(
            f"{where}: rule 'column_type': a value cannot be converted ({msg}). {hint}"
        )
    return DataValidationError(f"{where}: rule {rule!r}: DuckDB failed ({msg}). {hint}")


class _SQLEngine(Protocol):
    """What :func:`_build` needs of an engine: DuckDB's (:class:`_Engine`) or Spark's
    (:class:`laborai._spark.SparkEngine`, which transpiles the same DuckDB SQL)."""

    def bind(self, name: str, obj: Any, where: str) -> None: ...

    def describe(self, view: str, where: str) -> dict[str, str]: ...

    def df(self, query: str, where: str, rule: str, hint: str = "") -> pd.DataFrame: ...

    def close(self) -> None: ...


_DATABASE: dict[int, duckdb.DuckDBPyConnection] = {}  # by process id
_DATABASE_LOCK = threading.Lock()


def _private_connection() -> duckdb.DuckDBPyConnection:
    """A new connection (cursor) to laborai's own in-memory DuckDB database.

    The database is created once per process (two threads) instead of once per panel, which
    costs more than a small panel's queries; each build gets its own connection, whose
    registered frames and temporary views no other connection sees and which closing drops.
    The database is closed before the process forks (:func:`os.register_at_fork`) and made
    again when needed, so that a child never inherits it.
    """
    pid = os.getpid()
    with _DATABASE_LOCK:
        db = _DATABASE.get(pid)
        if db is None:
            db = duckdb.connect()
            db.execute("SET threads TO 2")
            _DATABASE[pid] = db
        return db.cursor()


def _close_database() -> None:
    """Close the shared database (open connections keep it until they close)."""
    with _DATABASE_LOCK:
        for db in _DATABASE.values():
            db.close()
        _DATABASE.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_close_database)


class _Engine:
    """Binds the inputs as DuckDB views and runs SQL on the right connection.

    Every DuckDB error is translated into a :class:`LaborAIError` that names the input and the
    rule; no raw ``duckdb`` exception leaves :func:`build_panel`.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection | None, inputs: Sequence[Any]) -> None:
        rels = [x for x in inputs if isinstance(x, duckdb.DuckDBPyRelation)]
        frames = [x for x in inputs if isinstance(x, pd.DataFrame)]
        self._own: duckdb.DuckDBPyConnection | None = None
        self._rel: duckdb.DuckDBPyRelation | None = None
        self._tables: dict[str, pa.Table] = {}  # DataFrame inputs, as registered
        if con is not None:
            self.con: duckdb.DuckDBPyConnection | None = con
        elif rels:
            if frames:
                raise OptionError(
                    "a DuckDB relation cannot be combined with a pandas DataFrame unless the "
                    "relation's connection is passed as con=; pass con=<connection> or give both "
                    "inputs as relations (or Parquet paths)."
                )
            self.con, self._rel = None, rels[0]
        else:
            self._own = _private_connection()
            self.con = self._own

    def bind(self, name: str, obj: Any, where: str) -> None:
        hint = "Check that the input is a readable Parquet/CSV file of the canonical table."
        if isinstance(obj, (str, Path)):
            s = str(obj)
            if not any(ch in s for ch in "*?[") and not Path(s).exists():
                raise DataFileNotFoundError(
                    f"{where}: rule 'readable_file': no such file or directory. Pass an existing "
                    "Parquet/CSV file, a glob or a directory of Parquet files."
                )
        try:
            if isinstance(obj, pd.DataFrame):
                dup = obj.columns[obj.columns.duplicated()].unique().tolist()
                if dup:
                    raise DataValidationError(
                        f"{where}: rule 'unique_columns': column name(s) {_show(dup)} appear "
                        "more than once; rename or drop the copies."
                    )
                if self.con is None:  # pragma: no cover - excluded in __init__
                    raise OptionError("a DataFrame input needs a DuckDB connection.")
                # via Arrow: DuckDB's pandas scan fails on some strided views (e.g. df.iloc[::-1])
                self.con.execute(f"DROP VIEW IF EXISTS {name}")
                table = pa.Table.from_pandas(obj, preserve_index=False)
                self.con.register(name, table)
                self._tables[name] = table
            elif isinstance(obj, duckdb.DuckDBPyRelation):
                obj.create_view(name, replace=True)
            elif isinstance(obj, (str, Path)):
                self.sql(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {_file_expr(obj)}",
                         where, "readable_file", hint)
            else:
                raise TypeError(
                    f"job posts and contracts must be a pandas DataFrame, a Parquet/CSV path or a "
                    f"DuckDB relation; got {type(obj).__name__}"
                    + (" (a Spark DataFrame needs engine='spark')."
                       if type(obj).__module__.startswith("pyspark") else ".")
                )
        except duckdb.Error as err:
            raise _translate(err, where, "readable_file", hint) from err
        except (pa.ArrowException, ValueError) as err:
            if isinstance(err, LaborAIError):
                raise
            raise DataValidationError(
                f"{where}: rule 'column_type': a column cannot be converted to Arrow "
                f"({_first_line(err)}); give each column one type."
            ) from err

    def strictly_increasing(self, name: str, col: str) -> bool:
        """True if ``col`` of the DataFrame bound as ``name`` has no missing value and rises
        strictly from row to row (so its values are distinct); False when unknown.

        A linear pass over the Arrow column, against a hash of every value for
        ``count(DISTINCT ...)``; the simulator's and most exported ids are sorted.
        """
        table = self._tables.get(name)
        if table is None or col not in table.column_names:
            return False
        arr = table.column(col)
        if pa.types.is_dictionary(arr.type) or pa.types.is_nested(arr.type):
            return False  # categorical ids: compare decoded values in SQL instead
        if arr.null_count or len(arr) < 2:
            return arr.null_count == 0
        try:
            return bool(pc.all(pc.greater(arr[1:], arr[:-1])).as_py())
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
            return False  # a type without an order: count instead

    def sql(self, query: str, where: str, rule: str,
            hint: str = "") -> duckdb.DuckDBPyRelation | None:
        """Run ``query``; statements (``CREATE VIEW``) return no relation."""
        try:
            if self.con is not None:
                return self.con.sql(query)
            if self._rel is None:  # pragma: no cover - set in __init__
                raise OptionError("no DuckDB connection or relation to run on.")
            return self._rel.query("__laborai_self", query)
        except duckdb.Error as err:
            raise _translate(err, where, rule, hint) from err

    def describe(self, view: str, where: str) -> dict[str, str]:
        """Column name -> DuckDB type name."""
        desc = self.df(f"DESCRIBE SELECT * FROM {view}", where, "readable_file")
        return dict(zip(desc["column_name"], desc["column_type"], strict=True))

    def df(self, query: str, where: str, rule: str, hint: str = "") -> pd.DataFrame:
        rel = self.sql(query, where, rule, hint)
        if rel is None:  # pragma: no cover - only SELECT/DESCRIBE go through df()
            raise DataValidationError(f"{where}: rule {rule!r}: the query returned no result.")
        try:
            return rel.df()
        except duckdb.Error as err:
            raise _translate(err, where, rule, hint) from err

    def close(self) -> None:
        if self._own is not None:
            self._own.close()
        elif self.con is not None:  # leave the user's connection as it was
            for name in (_VIEW_POSTS, _VIEW_CONTRACTS):
                try:
                    self.con.execute(f"DROP VIEW IF EXISTS {name}")
                except duckdb.Error:  # pragma: no cover - a registered frame, not a view
                    self.con.unregister(name)


#: Money sums are exact: each amount is rounded half away from zero to 1e-6 USD and summed as a
#: DECIMAL(38, 6), so the result does not depend on how many threads DuckDB uses or in which
#: order it adds the rows (a DOUBLE sum does, in its last bits).
MONEY_SCALE = 6

_FLOAT_TYPES = frozenset({"FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8"})


#: How NaN and infinities print as text: DuckDB ``nan``/``inf``, Spark ``NaN``/``Infinity``.
_NAN_TEXT = "('nan', '-nan')"
_INF_TEXT = "('inf', '-inf', 'infinity', '-infinity')"


def _no_nan(col: str, sql_type: str) -> str:
    """SQL for a money column with NaN as NULL: a NaN amount is a missing amount.

    ``isnan(x)`` cannot be used: DuckDB folds it to false from Parquet statistics (pyarrow
    leaves NaN out of a column's min/max), which would put a NaN value in the top tier and make
    its decimal cast fail. The hash of the value is not folded, and the text confirms a match.
    """
    if sql_type.upper() not in _FLOAT_TYPES:
        return col
    x = f"CAST({col} AS DOUBLE)"
    return (f"(CASE WHEN hash({x}) = hash('nan'::DOUBLE) AND lower(CAST({x} AS VARCHAR)) IN "
            f"{_NAN_TEXT} THEN NULL ELSE {col} END)")


def _is_inf(col: str, sql_type: str) -> str:
    """SQL condition: an infinite amount (tested as in :func:`_no_nan`).

    A ``CASE`` rather than ``AND``: DuckDB evaluates both sides of an ``AND`` for every row, and
    the text cast is the costly part (about 90% of a check's time on 300,000 posts); ``CASE``
    casts only the rows whose hash matches. The value is the same (``false`` otherwise).
    """
    if sql_type.upper() not in _FLOAT_TYPES:
        return "false"
    x = f"CAST({col} AS DOUBLE)"
    return (f"(CASE WHEN hash({x}) IN (hash('inf'::DOUBLE), hash('-inf'::DOUBLE)) THEN "
            f"lower(CAST({x} AS VARCHAR)) IN {_INF_TEXT} ELSE false END)")


def _exact_sum(expr: str) -> str:
    """SQL for an order-independent money sum (see :data:`MONEY_SCALE`)."""
    return f"CAST(sum(CAST({expr} AS DECIMAL(38, {MONEY_SCALE}))) AS DOUBLE)"


def _date_sql(col: str, sql_type: str, where: str, name: str) -> str:
    """SQL for the UTC calendar date of a date column, whatever DuckDB's ``TimeZone``.

    Zoned timestamps (pandas tz-aware columns, Parquet/Arrow timestamps with a zone, DuckDB
    ``TIMESTAMPTZ``) are converted to UTC explicitly; a plain ``CAST(... AS DATE)`` would use the
    session's time zone, which DuckDB takes from the machine. Naive timestamps and dates are
    taken as they are (as UTC). ISO 8601 text with an offset (``2023-01-01T17:33:29Z``) is read
    as a zoned instant, text without one as a naive timestamp.
    """
    t = sql_type.upper()
    if t == "DATE":
        return col
    if t in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return f"CAST(timezone('UTC', {col}) AS DATE)"
    if t.startswith("TIMESTAMP") or t in ('"NULL"', "NULL"):
        return f"CAST({col} AS DATE)"
    if t == "VARCHAR":
        return (f"CASE WHEN regexp_matches({col}, {_literal(_OFFSET_RE)}) THEN "
                f"CAST(timezone('UTC', CAST({col} AS TIMESTAMPTZ)) AS DATE) "
                f"ELSE CAST(CAST({col} AS TIMESTAMP) AS DATE) END")
    raise DataValidationError(
        f"{where}: column {name!r}: rule 'column_type': must be a date, a timestamp or ISO 8601 "
        f"text; got DuckDB type {sql_type}. Read the file with la.read_job_posts / "
        "la.read_contracts, which parse dates."
    )


def _bad_text_dates(col: str) -> str:
    """SQL condition: text that is not an ISO 8601 date/timestamp."""
    return (f"({col} IS NOT NULL AND (TRY_CAST({col} AS TIMESTAMP) IS NULL OR "
            f"(regexp_matches({col}, {_literal(_OFFSET_RE)}) AND "
            f"TRY_CAST({col} AS TIMESTAMPTZ) IS NULL)))")


#: Largest amount a DECIMAL(38, 6) money sum can hold (exclusive).
_MONEY_MAX = "1e32"


def _bad_money(col: str, sql_type: str) -> str:
    """SQL condition: a negative amount, or one too large for the exact sum.

    For floating-point columns a ``CASE``, so that the NaN and infinity tests (see
    :func:`_no_nan`) run only on the rows outside the range: in DuckDB and Spark NaN compares
    above every number, so NaN and ``inf`` pass the range test and are then excluded, and
    ``-inf`` is below zero and excluded too. True exactly where ``NOT inf AND (v < 0 OR v >=
    max)`` with ``v`` the amount with NaN as NULL is true (false where that is false or NULL).
    """
    if sql_type.upper() not in _FLOAT_TYPES:
        return f"(NOT false AND ({col} < 0 OR {col} >= {_MONEY_MAX}))"
    x = f"CAST({col} AS DOUBLE)"
    return (f"(CASE WHEN {x} < 0 OR {x} >= {_MONEY_MAX} THEN NOT {_is_inf(col, sql_type)} AND "
            f"{_no_nan(col, sql_type)} IS NOT NULL ELSE false END)")


def _utc_naive(x: Any, name: str = "date") -> pd.Timestamp:
    try:
        ts = pd.Timestamp(x)
    except (ValueError, TypeError) as err:
        raise OptionError(f"{name} must be a date such as '2022-01-31' or a pandas Timestamp; "
                          f"got {x!r} ({err}).") from err
    if ts is pd.NaT:
        raise OptionError(f"{name} must be a date such as '2022-01-31'; got {x!r}.")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def _period_grid(lo: pd.Timestamp, hi: pd.Timestamp, freq: str) -> pd.DatetimeIndex:
    if freq == "week":
        return pd.date_range(lo - pd.Timedelta(days=lo.day_of_week), hi, freq="W-MON")
    alias = {"month": "MS", "quarter": "QS", "year": "YS"}[freq]
    start = {"month": lo.to_period("M"), "quarter": lo.to_period("Q"),
             "year": lo.to_period("Y")}[freq].start_time
    return pd.date_range(start, hi, freq=alias)


def _taxonomy_version() -> Any:
    """The taxonomy's version, if :mod:`laborai.taxonomy` exposes one (else ``None``)."""
    v = getattr(taxonomy, "version", None)
    if callable(v):
        return v()
    if v is not None:
        return v
    raw = getattr(taxonomy, "_raw", None)
    return raw().get("version") if callable(raw) else None


def build_panel(
    job_posts: Any,
    contracts: Any | None = None,
    *,
    freq: Freq = "month",
    by: Sequence[str] = ("category", "value_tier"),
    value_cuts: Sequence[float] | None = None,
    tier_labels: Sequence[str] | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    flags: Sequence[str] | None = None,
    units: Units = "observed",
    incomplete_contracts: IncompleteContracts = "raise",
    contract_tiers: ContractTiers = "post",
    con: duckdb.DuckDBPyConnection | None = None,
    engine: Engine = "duckdb",
    spark: Any | None = None,
) -> pd.DataFrame:
    """Aggregate job posts (and contracts) to a balanced unit x period panel.

    Parameters
    ----------
    job_posts : DataFrame, str, pathlib.Path or duckdb.DuckDBPyRelation
        Canonical job posts (see :func:`laborai.read_job_posts`): a DataFrame, a Parquet/CSV
        file, glob or directory, or a DuckDB relation. ``post_id`` must be unique.
    contracts : same types, optional
        Canonical contracts. Each is attributed to its post's unit and to the period of its
        ``start_date``.
    freq : {"month", "week", "quarter", "year"}, default "month"
        Period length. Weeks start on Monday. Periods are calendar periods in UTC: zoned
        timestamps are converted to UTC first, whatever the machine's or DuckDB's time zone.
    by : sequence of str, default ("category", "value_tier")
        Unit definition: any job-post columns, plus ``"value_tier"`` (from
        ``contract_value_usd`` and ``value_cuts``). E.g. ``("category", "subcategory",
        "value_tier")`` or ``("category", "value_tier", "value_basis")``.
    value_cuts, tier_labels : optional
        Value-tier cuts in USD and labels; default one cut at $1,000 (``low``/``high``). Posts
        without a value go to the tier :data:`UNKNOWN_TIER` (``"unknown"``), which therefore
        cannot be one of ``tier_labels``.
    start, end : date-like, optional
        Posting-date range (inclusive, UTC dates). Default: the data's first and last posting
        dates.
    flags : sequence of str, optional
        Boolean post columns to count (e.g. ``("is_ai",)`` gives ``n_ai_posts`` and
        ``share_ai_posts``). Default: every boolean column named ``is_*``.
    units : {"observed", "taxonomy"}, default "observed"
        ``"observed"``: the units present in the data. ``"taxonomy"``: every taxonomy
        combination of category/subcategory/tier (needs ``by`` within those columns); the
        ``unknown`` tier is part of the grid only when the data contain posts without a value.
    incomplete_contracts : {"raise", "count"}, default "raise"
        What to do with contracts that have no ``start_date`` or no ``earnings_usd`` (missing
        or NaN). ``"raise"``: refuse them with a :class:`DataValidationError` giving their
        number and first ids. ``"count"``: contracts without a start date cannot be placed in
        a period and are left out of the panel, counted in
        ``panel.attrs["accounting"]["contracts_missing_start_date"]``; contracts without
        earnings stay in ``n_contracts`` and the panel gains the column
        ``n_contracts_with_earnings``, on which ``earnings_per_contract`` is computed (their
        number is in ``panel.attrs["accounting"]["contracts_missing_earnings"]``).
    contract_tiers : {"post", "earnings"}, default "post"
        Value tier of a contract (with ``"value_tier"`` in ``by``). ``"post"``: its post's
        tier, from the post's projected ``contract_value_usd``. ``"earnings"``: the tier of
        the contract's realised ``earnings_usd`` under the same cuts (a contract without
        earnings is ``unknown``); posts keep their projected tiers, so a unit's contracts are
        then not those of its posts.
    con : duckdb.DuckDBPyConnection, optional
        Connection to run on (needed when relations and DataFrames are mixed). Its settings
        (``TimeZone``, ``threads``) are not changed and do not change the panel.
    engine : {"duckdb", "spark"}, default "duckdb"
        Where the SQL runs. ``"spark"``: the same statements, transpiled from DuckDB's dialect
        to Spark SQL (sqlglot), on ``spark``; the inputs may then also be Spark DataFrames
        (not DuckDB relations). Every check and count above runs on Spark too, and the panel
        is identical to DuckDB's (exact integer counts, DECIMAL money sums). Needs
        ``pip install "laborai[spark]"`` and a Java 17+ runtime.
    spark : pyspark.sql.SparkSession, optional
        Session for ``engine="spark"``; default the session of a Spark DataFrame input, else a
        local one started by :func:`laborai._spark.local_session` (``local[2]``, UI off). Its
        ``spark.sql.session.timeZone`` is set to UTC while the panel is built, then restored.

    Returns
    -------
    pandas.DataFrame
        One row per unit x period (explicit zeros for empty cells), sorted by unit and period,
        with columns ``*by, unit, period, t, n_posts, n_<flag>_posts, share_<flag>_posts,
        value_total`` and, with contracts, ``n_contracts, earnings_total,
        earnings_per_contract``, plus ``log_n_posts`` and ``log_earnings_per_contract`` (NaN
        where the level is zero or undefined). ``unit`` joins the ``by`` values with ``" | "``;
        ``t`` counts periods from 0. Money sums are exact decimal sums of the amounts
        rounded to 1e-6 USD (:data:`MONEY_SCALE`), so the panel is identical bit for bit
        whatever DuckDB's thread count or the order of the rows.

        ``panel.attrs`` records the settings (``freq``, ``by``, ``value_cuts``,
        ``tier_labels``, ``unknown_tier``, ``incomplete_contracts``, ``contract_tiers``),
        ``taxonomy_version`` and
        ``accounting``: ``posts_read``, ``posts_in_panel``, ``posts_outside_range``,
        ``posts_unknown_value`` and, with contracts, ``contracts_read``,
        ``contracts_in_panel``, ``contracts_outside_periods``,
        ``contracts_missing_start_date``, ``contracts_missing_earnings``; posts and contracts
        read always equal the sum of their parts.

    Raises
    ------
    DataValidationError
        If a column named in ``by`` or ``flags`` is missing or has the wrong type; if post ids
        are duplicated (rule ``unique_post_id``: the contracts of a duplicated post would be
        counted once per copy); if posts have missing unit values or posting dates (nothing
        is dropped silently: validate with :func:`laborai.read_job_posts`); if dates are not
        ISO 8601 or lie outside 1677-09-22..2262-04-10; if money amounts are infinite; if
        contracts refer to posts that are absent, lack a start date or earnings (with
        ``incomplete_contracts="raise"``) or repeat a ``contract_id``; or if DuckDB cannot
        read or convert an input (with ``engine="spark"``: if Spark cannot, e.g. Parquet
        timestamps in nanoseconds, which Spark refuses).
    DataFileNotFoundError
        If a path does not exist or DuckDB cannot open it.
    OptionError
        For an invalid ``freq``, ``units``, ``incomplete_contracts`` or cuts.

    Notes
    -----
    Accounting identities (tested): ``panel.n_posts.sum()`` equals the number of posts whose
    posting date lies in [start, end]; ``panel.n_contracts.sum()`` equals the number of
    contracts whose start date lies in the panel's periods and whose post exists.
    """
    check_option("freq", freq, ("month", "week", "quarter", "year"))
    check_option("units", units, ("observed", "taxonomy"))
    check_option("incomplete_contracts", incomplete_contracts, ("raise", "count"))
    check_option("contract_tiers", contract_tiers, ("post", "earnings"))
    by = tuple(by)
    if not by:
        raise OptionError("by must name at least one column; got an empty sequence.")
    cuts = list(value_cuts) if value_cuts is not None else list(taxonomy.DEFAULT_VALUE_CUTS)
    labels = list(tier_labels) if tier_labels is not None else taxonomy.tier_labels(cuts)
    taxonomy.value_tier([0.0], cuts, labels)  # validates cuts and labels
    if UNKNOWN_TIER in labels:
        raise OptionError(
            f"tier_labels must not contain {UNKNOWN_TIER!r}, the tier of posts without a contract "
            f"value; got {labels!r}."
        )
    reserved = {"unit", "period", "t"}
    if reserved & set(by):
        raise OptionError(f"by must not contain the panel's own columns "
                          f"{sorted(reserved & set(by))}; rename them first. Got by={by!r}.")
    start_ts = _utc_naive(start, "start") if start is not None else None
    end_ts = _utc_naive(end, "end") if end is not None else None
    if start_ts is not None and end_ts is not None and end_ts < start_ts:
        raise OptionError(f"end must not be before start; got start={start}, end={end}.")

    inputs = [job_posts] + ([contracts] if contracts is not None else [])
    check_option("engine", engine, ("duckdb", "spark"))
    eng: _SQLEngine
    if engine == "spark":
        if con is not None:
            raise OptionError("con= is a DuckDB connection; with engine='spark' pass the "
                              "SparkSession as spark= (or leave it out to start a local one).")
        from laborai._spark import SparkEngine

        eng = SparkEngine(spark, inputs)
    else:
        if spark is not None:
            raise OptionError("spark= is used only with engine='spark'; got engine='duckdb'.")
        eng = _Engine(con, inputs)
    try:
        return _build(eng, job_posts, contracts, freq, by, cuts, labels, start, end, flags, units,
                      incomplete_contracts, contract_tiers)
    finally:
        eng.close()


def _tier_sql(cuts: list[float], labels: list[str], v: str) -> str:
    return (f"CASE WHEN {v} IS NULL THEN {_literal(UNKNOWN_TIER)} "
            + " ".join(f"WHEN {v} <= {float(c)!r} THEN {_literal(lab)}"
                       for c, lab in zip(cuts, labels[:-1], strict=True))
            + f" ELSE {_literal(labels[-1])} END")


def _unit_sql(by: tuple[str, ...], cuts: list[float], labels: list[str], value: str,
              alias: str = "") -> str:
    cols = []
    for c in by:
        expr = (_tier_sql(cuts, labels, value) if c == "value_tier"
                else f"CAST({alias}{_quote(c)} AS VARCHAR)")
        cols.append(f"{expr} AS {_quote(c)}")
    return ", ".join(cols)


def _show(values: Sequence[Any]) -> str:
    return ", ".join(repr(v) for v in values)


def _first_values(eng: _SQLEngine, view: str, col: str, cond: str, where: str) -> list[Any]:
    out = eng.df(f"SELECT DISTINCT CAST({_quote(col)} AS VARCHAR) AS v FROM {view} WHERE {cond} "
                 f"ORDER BY v NULLS FIRST LIMIT {_N_SHOW}", where, "first_values")
    return out["v"].tolist()


def _check_text_dates(eng: _SQLEngine, view: str, col: str, noun: str, reader: str,
                      where: str) -> None:
    """Refuse text dates that are not ISO 8601 (a VARCHAR ``col`` of ``view``)."""
    cond = _bad_text_dates(col)
    n_bad = int(eng.df(f"SELECT count(*) AS n FROM {view} WHERE {cond}", where,
                       "iso_date")["n"].iloc[0])
    if n_bad:
        first = _first_values(eng, view, col, cond, where)
        raise DataValidationError(
            f"{where}: column {col!r}: rule 'iso_date': {n_bad} {noun}(s) have text that is not "
            f"an ISO 8601 date or timestamp; first values: {_show(first)}. Parse the dates with "
            f"la.{reader}."
        )


def _duplicated_ids(eng: _SQLEngine, view: str, col: str, where: str,
                    rule: str) -> tuple[int, int, list[Any]]:
    """Number of ids of ``col`` that appear more than once, their rows, and the first ids."""
    dup = eng.df(
        f"SELECT count(*) AS n_ids, coalesce(sum(n), 0) AS n_rows FROM (SELECT {col}, count(*) "
        f"AS n FROM {view} WHERE {col} IS NOT NULL GROUP BY {col} HAVING count(*) > 1)",
        where, rule)
    n_ids, n_rows = int(dup["n_ids"].iloc[0]), int(dup["n_rows"].iloc[0])
    first = eng.df(
        f"SELECT CAST({col} AS VARCHAR) AS v FROM {view} WHERE {col} IS NOT NULL GROUP BY {col} "
        f"HAVING count(*) > 1 ORDER BY v LIMIT {_N_SHOW}", where, rule)["v"].tolist() \
        if n_ids else []
    return n_ids, n_rows, first


def _known_distinct(eng: _SQLEngine, view: str, col: str) -> bool:
    """True if the engine can tell cheaply that ``col`` of ``view`` has distinct values (no
    missing value, strictly increasing); then the ``count(DISTINCT ...)`` is skipped."""
    check = getattr(eng, "strictly_increasing", None)
    return bool(check(view, col)) if check is not None else False


def _check_posts(eng: _SQLEngine, types: dict[str, str], where: str, date_sql: str,
                 flags: Sequence[str]) -> int:
    """Validate the posts' types and ids in DuckDB; return the number of posts read."""
    bad_types = [f"{f!r} is {types[f]}" for f in flags
                 if types[f].upper() != "BOOLEAN" and types[f].upper() not in _INTEGER_TYPES]
    if "contract_value_usd" in types and not _is_numeric(types["contract_value_usd"]):
        bad_types.append(f"'contract_value_usd' is {types['contract_value_usd']}")
    if bad_types:
        raise DataValidationError(
            f"{where}: rule 'column_type': flags must be boolean and contract_value_usd numeric; "
            f"{'; '.join(bad_types)}. Read the file with la.read_job_posts, which parses them."
        )
    if types["posted_date"].upper() == "VARCHAR":
        _check_text_dates(eng, _VIEW_POSTS, "posted_date", "post", "read_job_posts", where)
    val = "contract_value_usd" in types
    inf_cond = _is_inf("contract_value_usd", types["contract_value_usd"]) if val else "false"
    money_cond = _bad_money("contract_value_usd", types["contract_value_usd"]) if val else "false"
    inf = (f", count(*) FILTER (WHERE {inf_cond}) AS n_inf, count(*) FILTER (WHERE "
           f"{money_cond}) AS n_money")
    out_of_range = f"({date_sql} < DATE '{_MIN_DATE}' OR {date_sql} > DATE '{_MAX_DATE}')"
    # one scan for every count; duplicated ids are listed only when there are some
    extra = (", count(post_id) - count(DISTINCT post_id) AS n_extra"
             if "post_id" in types and not _known_distinct(eng, _VIEW_POSTS, "post_id")
             else ", 0 AS n_extra")
    chk = eng.df(
        f"SELECT count(*) AS n, count(*) FILTER (WHERE {out_of_range}) AS n_range{inf}{extra} "
        f"FROM {_VIEW_POSTS}", where, "column_type",
        "Read the file with la.read_job_posts, which parses and validates each column.")
    n_read, n_range, n_inf, n_money = (int(chk[c].iloc[0])
                                       for c in ("n", "n_range", "n_inf", "n_money"))
    if n_range:
        first = _first_values(eng, _VIEW_POSTS, "posted_date", out_of_range, where)
        raise DataValidationError(
            f"{where}: column 'posted_date': rule 'date_range': {n_range} post(s) have a posting "
            f"date outside {_MIN_DATE}..{_MAX_DATE}; first values: {_show(first)}. Correct or "
            "drop these rows explicitly."
        )
    if n_inf:
        first = _first_values(eng, _VIEW_POSTS, "post_id" if "post_id" in types else
                              "contract_value_usd", inf_cond, where)
        raise DataValidationError(
            f"{where}: column 'contract_value_usd': rule 'finite_value': {n_inf} post(s) have an "
            f"infinite value; first {'post ids' if 'post_id' in types else 'values'}: "
            f"{_show(first)}."
        )
    if n_money:
        first = _first_values(eng, _VIEW_POSTS, "post_id" if "post_id" in types else
                              "contract_value_usd", money_cond, where)
        raise DataValidationError(
            f"{where}: column 'contract_value_usd': rule 'money_range': {n_money} post(s) have a "
            f"negative value or one of 1e32 USD or more; first "
            f"{'post ids' if 'post_id' in types else 'values'}: {_show(first)}. Validate with "
            "la.read_job_posts."
        )
    if int(chk["n_extra"].iloc[0]):
        n_ids, n_rows, first = _duplicated_ids(eng, _VIEW_POSTS, "post_id", where,
                                               "unique_post_id")
        if n_ids:
            raise DataValidationError(
                f"{where}: column 'post_id': rule 'unique_post_id': {n_ids} post id(s) appear "
                f"more than once ({n_rows} rows); first duplicated ids: {_show(first)}. Each post "
                "must appear once (its contracts would be counted once per copy); drop the "
                "duplicates explicitly, e.g. posts.drop_duplicates('post_id')."
            )
    return n_read


def _check_contracts(eng: _SQLEngine, ctypes: dict[str, str], where: str, date_sql: str,
                     mode: str) -> dict[str, int]:
    """Validate the contracts in DuckDB; return counts (read, missing start, missing earnings)."""
    if not _is_numeric(ctypes["earnings_usd"]):
        raise DataValidationError(
            f"{where}: column 'earnings_usd': rule 'column_type': must be numeric; got DuckDB "
            f"type {ctypes['earnings_usd']}. Read the file with la.read_contracts."
        )
    if ctypes["start_date"].upper() == "VARCHAR":
        _check_text_dates(eng, _VIEW_CONTRACTS, "start_date", "contract", "read_contracts",
                          where)
    id_col = "contract_id" if "contract_id" in ctypes else "post_id"
    conds = {
        "missing_start": "start_date IS NULL",
        "missing_earnings": f"{_no_nan('earnings_usd', ctypes['earnings_usd'])} IS NULL",
        "inf": _is_inf("earnings_usd", ctypes["earnings_usd"]),
        "money": _bad_money("earnings_usd", ctypes["earnings_usd"]),
        "range": f"({date_sql} < DATE '{_MIN_DATE}' OR {date_sql} > DATE '{_MAX_DATE}')",
    }
    extra = (", count(contract_id) - count(DISTINCT contract_id) AS n_extra"
             if "contract_id" in ctypes
             and not _known_distinct(eng, _VIEW_CONTRACTS, "contract_id")
             else ", 0 AS n_extra")
    chk = eng.df(
        "SELECT count(*) AS n, " + ", ".join(f"count(*) FILTER (WHERE {c}) AS {k}"
                                             for k, c in conds.items())
        + f"{extra} FROM {_VIEW_CONTRACTS}", where, "column_type",
        "Read the file with la.read_contracts, which parses and validates each column.")
    n = {k: int(chk[k].iloc[0]) for k in ("n", *conds)}
    rules = {
        "range": ("start_date", "date_range",
                  f"a start date outside {_MIN_DATE}..{_MAX_DATE}", "Correct or drop them."),
        "inf": ("earnings_usd", "finite_value", "infinite earnings", "Correct or drop them."),
        "money": ("earnings_usd", "money_range", "negative earnings or earnings of 1e32 USD "
                  "or more", "Validate with la.read_contracts."),
    }
    if mode == "raise":
        rules["missing_start"] = (
            "start_date", "start_date_present", "no start date",
            "They cannot be placed in a period; drop them explicitly or pass "
            "incomplete_contracts='count' to leave them out of the panel and count them.")
        rules["missing_earnings"] = (
            "earnings_usd", "earnings_present", "missing (NULL or NaN) earnings",
            "They would be counted in n_contracts but not in earnings_total, which biases "
            "earnings_per_contract; impute or drop them explicitly, or pass "
            "incomplete_contracts='count' (adds n_contracts_with_earnings).")
    for key, (col, rule, what, fix) in rules.items():
        if n[key]:
            first = _first_values(eng, _VIEW_CONTRACTS, id_col, conds[key], where)
            raise DataValidationError(
                f"{where}: column {col!r}: rule {rule!r}: {n[key]} contract(s) have {what}; "
                f"first {id_col}s: {_show(first)}. {fix}"
            )
    if int(chk["n_extra"].iloc[0]):
        n_ids, _, first = _duplicated_ids(eng, _VIEW_CONTRACTS, "contract_id", where,
                                          "unique_contract_id")
        if n_ids:
            raise DataValidationError(
                f"{where}: column 'contract_id': rule 'unique_contract_id': {n_ids} contract "
                f"id(s) appear more than once; first duplicated ids: {_show(first)}. Drop the "
                "duplicates explicitly."
            )
    return n


def _build(
    eng: _SQLEngine, job_posts: Any, contracts: Any | None, freq: str, by: tuple[str, ...],
    cuts: list[float], labels: list[str], start: Any, end: Any, flags: Sequence[str] | None,
    units: str, incomplete: str, contract_tiers: str = "post",
) -> pd.DataFrame:
    wp = _describe_input("job posts", job_posts)
    wc = _describe_input("contracts", contracts)
    eng.bind(_VIEW_POSTS, job_posts, wp)
    if contracts is not None:
        eng.bind(_VIEW_CONTRACTS, contracts, wc)
    types = eng.describe(_VIEW_POSTS, wp)
    need = [c for c in by if c != "value_tier"] + ["posted_date"]
    if "value_tier" in by:
        need.append("contract_value_usd")
    missing = [c for c in need if c not in types]
    if flags is None:
        flags = [c for c, t in types.items() if c.startswith("is_") and t == "BOOLEAN"]
    flags = list(flags)
    missing += [c for c in flags if c not in types]
    if contracts is not None and "post_id" not in types:
        missing.append("post_id")
    if missing:
        raise DataValidationError(
            f"{wp}: rule 'required_columns': missing column(s) {', '.join(map(repr, missing))}"
            f" needed for by={by!r}/flags{'/contracts' if contracts is not None else ''}; "
            f"columns present: {', '.join(map(repr, types))}."
        )
    ctypes: dict[str, str] = {}
    if contracts is not None:
        ctypes = eng.describe(_VIEW_CONTRACTS, wc)
        cmiss = [c for c in ("post_id", "start_date", "earnings_usd") if c not in ctypes]
        if cmiss:
            raise DataValidationError(
                f"{wc}: rule 'required_columns': missing column(s) "
                f"{', '.join(map(repr, cmiss))}; columns present: {', '.join(map(repr, ctypes))}."
            )

    pdate = _date_sql("posted_date", types["posted_date"], wp, "posted_date")
    n_posts_read = _check_posts(eng, types, wp, pdate, flags)
    cdate = ""
    ccounts: dict[str, int] = {}
    if contracts is not None:
        cdate = _date_sql("start_date", ctypes["start_date"], wc, "start_date")
        ccounts = _check_contracts(eng, ctypes, wc, cdate, incomplete)

    # One scan of the posts: aggregate by unit x period (missing unit values form their own
    # groups and are reported below, never dropped silently).
    conds = []
    if start is not None:
        conds.append(f"{pdate} >= DATE {_literal(str(_utc_naive(start).date()))}")
    if end is not None:
        conds.append(f"{pdate} <= DATE {_literal(str(_utc_naive(end).date()))}")
    where = (" WHERE " + " AND ".join(conds)) if conds else ""
    trunc = f"CAST(date_trunc({_literal(freq)}, {pdate}) AS DATE)"
    flag_sums = "".join(f", sum(CAST({_quote(f)} AS INTEGER)) AS {_quote(_flag_name(f))}"
                        for f in flags)
    has_value = "contract_value_usd" in types
    value_type = types.get("contract_value_usd", "DOUBLE")
    value_sum = (f", {_exact_sum(_no_nan('contract_value_usd', value_type))} AS value_total"
                 if has_value else "")
    posts_agg = eng.df(
        f"SELECT {_unit_sql(by, cuts, labels, _no_nan('contract_value_usd', value_type))}, {trunc} AS period, count(*) AS n_posts"
        f"{flag_sums}{value_sum} FROM {_VIEW_POSTS}{where} GROUP BY ALL", wp, "aggregate",
        "Read the file with la.read_job_posts, which parses and validates each column.")
    if posts_agg.empty:
        raise DataValidationError(
            f"{wp}: rule 'posts_in_range': no post to aggregate ({n_posts_read} post(s) read, "
            f"none with a posting date in [{start}, {end}])." if n_posts_read else
            f"{wp}: rule 'posts_in_range': no post to aggregate (the input has no rows).")
    null_rows = posts_agg[list(by)].isna().any(axis=1) | posts_agg["period"].isna()
    if null_rows.any():
        n_null = int(posts_agg.loc[null_rows, "n_posts"].sum())
        raise DataValidationError(
            f"{wp}: rule 'unit_present': {n_null} post(s) in range have a missing value in "
            f"{by!r} or posted_date; they cannot be placed in a unit. Validate with "
            "la.read_job_posts first."
        )
    posts_agg["period"] = pd.to_datetime(posts_agg["period"]).astype("datetime64[ns]")
    lo = _utc_naive(start) if start is not None else posts_agg["period"].min()
    hi = _utc_naive(end) if end is not None else posts_agg["period"].max()
    grid = _period_grid(lo, hi, freq)

    contracts_agg = None
    acc_c: dict[str, int] = {}
    if contracts is not None:
        # One join: contracts whose post is absent are counted (orphan = true), not dropped.
        cdate_c = _date_sql("c.start_date", ctypes["start_date"], wc, "start_date")
        ctrunc = f"CAST(date_trunc({_literal(freq)}, {cdate_c}) AS DATE)"
        earn = _no_nan("c.earnings_usd", ctypes["earnings_usd"])
        pvalue = (earn if contract_tiers == "earnings"
                  else _no_nan("p.contract_value_usd", value_type))
        cagg = eng.df(
            f"SELECT p.post_id IS NULL AS __orphan, {_unit_sql(by, cuts, labels, pvalue, 'p.')}, "
            f"{ctrunc} AS period, count(*) AS n_contracts, count({earn}) AS "
            f"n_contracts_with_earnings, {_exact_sum(earn)} AS earnings_total "
            f"FROM {_VIEW_CONTRACTS} c LEFT JOIN {_VIEW_POSTS} p ON c.post_id = p.post_id "
            f"GROUP BY ALL", wc, "post_id_type",
            "The post_id columns of job posts and contracts must have comparable types.")
        orphans = int(cagg.loc[cagg["__orphan"], "n_contracts"].sum())
        if orphans:
            raise DataValidationError(
                f"{wc}: column 'post_id': rule 'post_exists': {orphans} contract(s) refer to a "
                "post_id absent from the job posts; validate with "
                "la.read_contracts(..., job_posts=posts)."
            )
        cagg["period"] = pd.to_datetime(cagg["period"]).astype("datetime64[ns]")
        keep = cagg["period"].between(grid[0], grid[-1])
        no_start = cagg["period"].isna()
        contracts_agg = cagg.loc[keep].drop(columns="__orphan").reset_index(drop=True)
        acc_c = {
            "contracts_read": ccounts["n"],
            "contracts_in_panel": int(contracts_agg["n_contracts"].sum()),
            "contracts_outside_periods": int(cagg.loc[~keep & ~no_start, "n_contracts"].sum()),
            "contracts_missing_start_date": int(cagg.loc[no_start, "n_contracts"].sum()),
            "contracts_missing_earnings": ccounts["missing_earnings"],
        }
        if sum(v for k, v in acc_c.items() if k not in ("contracts_read",
                                                         "contracts_missing_earnings")) \
                != acc_c["contracts_read"]:  # pragma: no cover - an internal identity
            raise DataValidationError(f"{wc}: rule 'accounting': contracts read {acc_c} do not "
                                      "add up; please report this as a bug.")

    # Units and the balanced grid.
    if units == "taxonomy":
        present = set(posts_agg["value_tier"]) if "value_tier" in by else set()
        if contracts_agg is not None and "value_tier" in by:
            present |= set(contracts_agg["value_tier"])
        unit_frame = _taxonomy_units(by, labels + ([UNKNOWN_TIER] if UNKNOWN_TIER in present
                                                   else []))
    else:
        frames = [posts_agg[list(by)]] + ([contracts_agg[list(by)]] if contracts_agg is not None
                                          else [])
        unit_frame = pd.concat(frames).drop_duplicates()
    unit_frame = unit_frame.sort_values(list(by)).reset_index(drop=True)
    periods = pd.DataFrame({"period": grid.astype("datetime64[ns]"), "t": np.arange(len(grid))})
    panel = unit_frame.merge(periods, how="cross")
    for agg in (posts_agg, contracts_agg):
        if agg is None:
            continue
        panel = panel.merge(agg, on=[*by, "period"], how="left", validate="one_to_one")
    # Posts or contracts in units outside the taxonomy grid would be lost: refuse instead.
    lost = int(posts_agg["n_posts"].sum()) - int(panel["n_posts"].fillna(0).sum())
    if contracts_agg is not None:
        lost += int(contracts_agg["n_contracts"].sum()) - int(panel["n_contracts"].fillna(0).sum())
    if lost:
        raise DataValidationError(
            f"{wp}: rule 'unit_known': {lost} post(s)/contract(s) fall in units outside the "
            "taxonomy (units='taxonomy'); use units='observed' or map labels with "
            "la.read_job_posts."
        )
    count_cols = ["n_posts", *[_flag_name(f) for f in flags]]
    if contracts_agg is not None:
        count_cols += ["n_contracts", "n_contracts_with_earnings"]
    for col in count_cols:
        panel[col] = panel[col].fillna(0).astype("int64")
    for col in ("value_total", "earnings_total"):
        if col in panel:
            panel[col] = panel[col].fillna(0.0).astype("float64")
    for f in flags:
        n = _flag_name(f)
        panel[n.replace("n_", "share_", 1)] = np.where(
            panel["n_posts"] > 0, panel[n] / panel["n_posts"].where(panel["n_posts"] > 0), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        panel["log_n_posts"] = np.where(panel["n_posts"] > 0,
                                        np.log(panel["n_posts"].astype(float)), np.nan)
        if contracts_agg is not None:
            n_earn = panel["n_contracts_with_earnings"]
            epc = np.where(n_earn > 0, panel["earnings_total"] / n_earn.where(n_earn > 0), np.nan)
            panel["earnings_per_contract"] = epc
            panel["log_earnings_per_contract"] = np.where(epc > 0, np.log(epc), np.nan)
            if incomplete == "raise":  # every contract has earnings: the column is n_contracts
                panel = panel.drop(columns="n_contracts_with_earnings")
    panel.insert(len(by), "unit", _unit_ids(panel, by))
    panel = panel.sort_values(["unit", "period"]).reset_index(drop=True)
    n_in = int(posts_agg["n_posts"].sum())
    unknown = (int(posts_agg.loc[posts_agg["value_tier"] == UNKNOWN_TIER, "n_posts"].sum())
               if "value_tier" in by else None)
    panel.attrs = {
        "freq": freq,
        "by": list(by),
        "value_cuts": [float(c) for c in cuts],
        "tier_labels": list(labels),
        "unknown_tier": UNKNOWN_TIER,
        "incomplete_contracts": incomplete,
        "contract_tiers": contract_tiers,
        "taxonomy_version": _taxonomy_version(),
        "accounting": {
            "posts_read": n_posts_read,
            "posts_in_panel": n_in,
            "posts_outside_range": n_posts_read - n_in,
            "posts_unknown_value": unknown,
            **acc_c,
        },
    }
    return panel


def _flag_name(flag: str) -> str:
    base = flag[3:] if flag.startswith("is_") else flag
    return f"n_{base}_posts"


def _unit_ids(panel: pd.DataFrame, by: tuple[str, ...]) -> pd.Series:
    out = panel[by[0]].astype(str)
    for c in by[1:]:
        out = out + " | " + panel[c].astype(str)
    return out


def _taxonomy_units(by: tuple[str, ...], labels: list[str]) -> pd.DataFrame:
    allowed = {"category", "subcategory", "value_tier"}
    if not set(by) <= allowed:
        raise OptionError(f"units='taxonomy' needs by within {sorted(allowed)}; got {by!r}.")
    subs = taxonomy.subcategories()[["category", "subcategory"]]
    base_cols = [c for c in by if c != "value_tier"]
    base = subs[base_cols].drop_duplicates() if base_cols else pd.DataFrame(index=[0])
    rows: list[dict[str, Any]] = []
    tiers: list[Any] = labels if "value_tier" in by else [None]
    for rec, tier in itertools.product(base.to_dict("records"), tiers):
        r = dict(rec)
        if tier is not None:
            r["value_tier"] = tier
        rows.append(r)
    return pd.DataFrame(rows)[list(by)]


