"""Microdata to panel: sufficient statistics by unit (category x value tier, ...) and period.

DuckDB is the engine. Job posts and contracts may be pandas DataFrames, Parquet/CSV paths or
globs, or DuckDB relations; the grouping runs inside DuckDB, so Parquet inputs are aggregated
without loading the microdata into pandas, and only the small panel comes back.

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
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from laborai import taxonomy
from laborai._validation import check_option
from laborai.errors import DataValidationError, OptionError

__all__ = ["UNKNOWN_TIER", "build_panel"]

Freq = Literal["month", "week", "quarter", "year"]
Units = Literal["observed", "taxonomy"]
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


class _Engine:
    """Binds the inputs as DuckDB views and runs SQL on the right connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection | None, inputs: Sequence[Any]) -> None:
        rels = [x for x in inputs if isinstance(x, duckdb.DuckDBPyRelation)]
        frames = [x for x in inputs if isinstance(x, pd.DataFrame)]
        self._own: duckdb.DuckDBPyConnection | None = None
        self._rel: duckdb.DuckDBPyRelation | None = None
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
            self._own = duckdb.connect()
            self._own.execute("SET threads TO 2")
            self.con = self._own

    def bind(self, name: str, obj: Any) -> None:
        if isinstance(obj, pd.DataFrame):
            assert self.con is not None
            # via Arrow: DuckDB's pandas scan fails on some strided views (e.g. df.iloc[::-1])
            self.con.register(name, pa.Table.from_pandas(obj, preserve_index=False))
        elif isinstance(obj, duckdb.DuckDBPyRelation):
            obj.create_view(name, replace=True)
        elif isinstance(obj, (str, Path)):
            self.sql(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {_file_expr(obj)}")
        else:
            raise TypeError(
                f"job posts and contracts must be a pandas DataFrame, a Parquet/CSV path or a "
                f"DuckDB relation; got {type(obj).__name__}."
            )

    def sql(self, query: str) -> duckdb.DuckDBPyRelation | None:
        if self.con is not None:
            return self.con.sql(query)
        assert self._rel is not None
        return self._rel.query("__laborai_self", query)

    def df(self, query: str) -> pd.DataFrame:
        rel = self.sql(query)
        assert rel is not None
        return rel.df()

    def close(self) -> None:
        if self._own is not None:
            self._own.close()


#: Money sums are exact: each amount is rounded half away from zero to 1e-6 USD and summed as a
#: DECIMAL(38, 6), so the result does not depend on how many threads DuckDB uses or in which
#: order it adds the rows (a DOUBLE sum does, in its last bits).
MONEY_SCALE = 6


#: NaN amounts are missing amounts (SQL NULL): they are not summed.
_NO_NAN = "CASE WHEN isnan(CAST({v} AS DOUBLE)) THEN NULL ELSE {v} END"


def _exact_sum(expr: str) -> str:
    """SQL for an order-independent money sum (see :data:`MONEY_SCALE`)."""
    return f"CAST(sum(CAST({expr} AS DECIMAL(38, {MONEY_SCALE}))) AS DOUBLE)"


def _period_grid(lo: pd.Timestamp, hi: pd.Timestamp, freq: str) -> pd.DatetimeIndex:
    if freq == "week":
        return pd.date_range(lo - pd.Timedelta(days=lo.day_of_week), hi, freq="W-MON")
    alias = {"month": "MS", "quarter": "QS", "year": "YS"}[freq]
    start = {"month": lo.to_period("M"), "quarter": lo.to_period("Q"),
             "year": lo.to_period("Y")}[freq].start_time
    return pd.date_range(start, hi, freq=alias)


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
    con: duckdb.DuckDBPyConnection | None = None,
) -> pd.DataFrame:
    """Aggregate job posts (and contracts) to a balanced unit x period panel.

    Parameters
    ----------
    job_posts : DataFrame, str, pathlib.Path or duckdb.DuckDBPyRelation
        Canonical job posts (see :func:`laborai.read_job_posts`): a DataFrame, a Parquet/CSV
        file, glob or directory, or a DuckDB relation.
    contracts : same types, optional
        Canonical contracts. Each is attributed to its post's unit and to the period of its
        ``start_date``.
    freq : {"month", "week", "quarter", "year"}, default "month"
        Period length. Weeks start on Monday.
    by : sequence of str, default ("category", "value_tier")
        Unit definition: any job-post columns, plus ``"value_tier"`` (from
        ``contract_value_usd`` and ``value_cuts``). E.g. ``("category", "subcategory",
        "value_tier")``.
    value_cuts, tier_labels : optional
        Value-tier cuts in USD and labels; default one cut at $1,000 (``low``/``high``).
    start, end : date-like, optional
        Posting-date range (inclusive). Default: the data's first and last posting dates.
    flags : sequence of str, optional
        Boolean post columns to count (e.g. ``("is_ai",)`` gives ``n_ai_posts`` and
        ``share_ai_posts``). Default: every boolean column named ``is_*``.
    units : {"observed", "taxonomy"}, default "observed"
        ``"observed"``: the units present in the data. ``"taxonomy"``: every taxonomy
        combination of category/subcategory/tier (needs ``by`` within those columns).
    con : duckdb.DuckDBPyConnection, optional
        Connection to run on (needed when relations and DataFrames are mixed).

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

    Raises
    ------
    DataValidationError
        If a column named in ``by`` or ``flags`` is missing, if posts have missing unit values
        (nothing is dropped silently: validate with :func:`laborai.read_job_posts`), or if
        contracts refer to posts that are absent.
    OptionError
        For an invalid ``freq``, ``units`` or cuts.

    Notes
    -----
    Accounting identities (tested): ``panel.n_posts.sum()`` equals the number of posts whose
    posting date lies in [start, end]; ``panel.n_contracts.sum()`` equals the number of
    contracts whose start date lies in the panel's periods and whose post exists.
    """
    check_option("freq", freq, ("month", "week", "quarter", "year"))
    check_option("units", units, ("observed", "taxonomy"))
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

    eng = _Engine(con, [job_posts] + ([contracts] if contracts is not None else []))
    try:
        return _build(eng, job_posts, contracts, freq, by, cuts, labels, start, end, flags, units)
    finally:
        eng.close()


def _build(
    eng: _Engine, job_posts: Any, contracts: Any | None, freq: str, by: tuple[str, ...],
    cuts: list[float], labels: list[str], start: Any, end: Any, flags: Sequence[str] | None,
    units: str,
) -> pd.DataFrame:
    eng.bind(_VIEW_POSTS, job_posts)
    if contracts is not None:
        eng.bind(_VIEW_CONTRACTS, contracts)
    desc = eng.df(f"DESCRIBE SELECT * FROM {_VIEW_POSTS}")
    types = dict(zip(desc["column_name"], desc["column_type"], strict=True))
    need = [c for c in by if c != "value_tier"] + ["posted_date"]
    if "value_tier" in by:
        need.append("contract_value_usd")
    missing = [c for c in need if c not in types]
    if flags is None:
        flags = [c for c, t in types.items() if c.startswith("is_") and t == "BOOLEAN"]
    missing += [c for c in flags if c not in types]
    if missing:
        raise DataValidationError(
            f"job posts: rule 'required_columns': missing column(s) {', '.join(map(repr, missing))}"
            f" needed for by={by!r}/flags; columns present: {', '.join(map(repr, types))}."
        )
    if contracts is not None:
        cdesc = eng.df(f"DESCRIBE SELECT * FROM {_VIEW_CONTRACTS}")
        cmiss = [c for c in ("post_id", "start_date", "earnings_usd")
                 if c not in set(cdesc["column_name"])]
        if cmiss:
            raise DataValidationError(
                f"contracts: rule 'required_columns': missing column(s) "
                f"{', '.join(map(repr, cmiss))}."
            )

    tier_sql = (f"CASE WHEN contract_value_usd IS NULL OR isnan(CAST(contract_value_usd AS "
                f"DOUBLE)) THEN {_literal(UNKNOWN_TIER)} ") + " ".join(
        f"WHEN contract_value_usd <= {float(c)!r} THEN {_literal(lab)}"
        for c, lab in zip(cuts, labels[:-1], strict=True)
    ) + f" ELSE {_literal(labels[-1])} END"
    unit_cols = []
    for c in by:
        expr = tier_sql if c == "value_tier" else f"CAST({_quote(c)} AS VARCHAR)"
        unit_cols.append(f"{expr} AS {_quote(c)}")
    # One scan of the posts: aggregate by unit x period (missing unit values form their own
    # groups and are reported below, never dropped silently).
    conds = []
    if start is not None:
        conds.append(f"CAST(posted_date AS DATE) >= DATE {_literal(str(pd.Timestamp(start).date()))}")
    if end is not None:
        conds.append(f"CAST(posted_date AS DATE) <= DATE {_literal(str(pd.Timestamp(end).date()))}")
    if start is not None and end is not None and pd.Timestamp(end) < pd.Timestamp(start):
        raise OptionError(f"end must not be before start; got start={start}, end={end}.")
    where = (" WHERE " + " AND ".join(conds)) if conds else ""
    trunc = f"CAST(date_trunc({_literal(freq)}, CAST(posted_date AS DATE)) AS DATE)"
    flag_sums = "".join(f", sum(CAST({_quote(f)} AS INTEGER)) AS {_quote(_flag_name(f))}"
                        for f in flags)
    value_sum = (f", {_exact_sum(_NO_NAN.format(v='contract_value_usd'))} AS value_total"
                 if "contract_value_usd" in types else "")
    posts_agg = eng.df(
        f"SELECT {', '.join(unit_cols)}, {trunc} AS period, count(*) AS n_posts{flag_sums}"
        f"{value_sum} FROM {_VIEW_POSTS}{where} GROUP BY ALL"
    )
    if posts_agg.empty:
        raise DataValidationError("job posts: no post in the requested date range; nothing to "
                                  "aggregate.")
    null_rows = posts_agg[list(by)].isna().any(axis=1) | posts_agg["period"].isna()
    if null_rows.any():
        n_null = int(posts_agg.loc[null_rows, "n_posts"].sum())
        raise DataValidationError(
            f"job posts: rule 'unit_present': {n_null} post(s) in range have a missing value in "
            f"{by!r} or posted_date; they cannot be placed in a unit. Validate with "
            "la.read_job_posts first."
        )
    posts_agg["period"] = pd.to_datetime(posts_agg["period"]).astype("datetime64[ns]")
    lo = pd.Timestamp(start) if start is not None else posts_agg["period"].min()
    hi = pd.Timestamp(end) if end is not None else posts_agg["period"].max()
    grid = _period_grid(lo, hi, freq)

    contracts_agg = None
    if contracts is not None:
        if "post_id" not in types:
            raise DataValidationError("job posts: rule 'required_columns': column 'post_id' is "
                                      "needed to attribute contracts to units.")
        # One join: contracts whose post is absent are counted (orphan = true), not dropped.
        ctrunc = f"CAST(date_trunc({_literal(freq)}, CAST(c.start_date AS DATE)) AS DATE)"
        unit_cols_p = [
            u.replace("contract_value_usd", "p.contract_value_usd") if c == "value_tier"
            else f"CAST(p.{_quote(c)} AS VARCHAR) AS {_quote(c)}"
            for u, c in zip(unit_cols, by, strict=True)
        ]
        cagg = eng.df(
            f"SELECT p.post_id IS NULL AS __orphan, {', '.join(unit_cols_p)}, {ctrunc} AS period, "
            f"count(*) AS n_contracts, {_exact_sum('c.earnings_usd')} AS earnings_total "
            f"FROM {_VIEW_CONTRACTS} c LEFT JOIN {_VIEW_POSTS} p ON c.post_id = p.post_id "
            f"GROUP BY ALL"
        )
        orphans = int(cagg.loc[cagg["__orphan"], "n_contracts"].sum())
        if orphans:
            raise DataValidationError(
                f"contracts: rule 'post_exists': {orphans} contract(s) refer to a post_id absent "
                "from the job posts; validate with la.read_contracts(..., job_posts=posts)."
            )
        cagg["period"] = pd.to_datetime(cagg["period"]).astype("datetime64[ns]")
        keep = cagg["period"].between(grid[0], grid[-1])
        contracts_agg = cagg.loc[keep].drop(columns="__orphan").reset_index(drop=True)

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
    # Posts in units outside the taxonomy grid would be lost: refuse instead.
    if int(panel["n_posts"].fillna(0).sum()) != int(posts_agg["n_posts"].sum()):
        raise DataValidationError(
            "job posts: rule 'unit_known': some posts fall in units outside the taxonomy "
            "(units='taxonomy'); use units='observed' or map labels with la.read_job_posts."
        )
    count_cols = ["n_posts", *[_flag_name(f) for f in flags]]
    if contracts_agg is not None:
        count_cols.append("n_contracts")
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
            epc = np.where(panel["n_contracts"] > 0,
                           panel["earnings_total"] / panel["n_contracts"], np.nan)
            panel["earnings_per_contract"] = epc
            panel["log_earnings_per_contract"] = np.where(epc > 0, np.log(epc), np.nan)
    panel.insert(len(by), "unit", _unit_ids(panel, by))
    return panel.sort_values(["unit", "period"]).reset_index(drop=True)


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


