"""Contracts -> freelancer x period panel (the unit of Hui, Reshef & Zhou 2024), in SQL.

:func:`build_freelancer_panel` aggregates contracts to one row per freelancer and period with
explicit zeros inside each freelancer's active span, the exposure of each freelancer's work
measured on the pre-period, and the prior-earnings quartile used for heterogeneity. The SQL is
written once in DuckDB's dialect; ``engine="spark"`` runs the same statements on Spark through
:mod:`laborai._spark` (as :func:`laborai.build_panel` does). Counts are exact integers and money
sums exact decimals (:data:`laborai.panel.MONEY_SCALE`); every contract is kept or counted as
rejected with a reason (``panel.attrs["rejected"]``).

Examples
--------
>>> import laborai as la
>>> fm = la.simulate_freelancers(seed=1, n_freelancers=300)
>>> p = la.build_freelancer_panel(fm.contracts, freelancers=fm.freelancers)
>>> int(p["n_jobs"].sum()) == len(fm.contracts) == p.attrs["accounting"]["contracts_kept"]
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from laborai import _timing, taxonomy
from laborai._validation import check_option
from laborai.errors import DataValidationError, OptionError
from laborai.panel import (
    MONEY_SCALE,
    _check_text_dates,
    _date_sql,
    _describe_input,
    _Engine,
    _first_values,
    _is_inf,
    _is_numeric,
    _literal,
    _no_nan,
    _show,
    _SQLEngine,
    _taxonomy_version,
    _utc_naive,
)

__all__ = ["REJECT_REASONS", "build_freelancer_panel"]

_VC = "__laborai_fl_contracts"
_VF = "__laborai_fl_freelancers"
_VG = "__laborai_fl_grid"
_VK = "__laborai_fl_classified"

#: Why a contract is left out of the panel, in the order the rules are tested.
REJECT_REASONS = (
    "missing_freelancer_id",   # NULL or blank freelancer_id
    "missing_start_date",      # NULL start_date
    "missing_earnings",        # NULL or NaN earnings_usd
    "non_finite_earnings",     # +-inf earnings_usd
    "negative_earnings",       # earnings_usd < 0 (or >= 1e32, beyond the exact sum)
    "negative_hours",          # hours < 0
    "outside_range",           # start_date outside [start, end]
    "unknown_freelancer",      # freelancer_id not in the freelancers table
    "outside_active_span",     # start_date before entry or after exit of the freelancer
)
_FREQS = {"M": "month", "month": "month", "Q": "quarter", "quarter": "quarter"}


def _money(expr: str) -> str:
    return f"CAST({expr} AS DECIMAL(38, {MONEY_SCALE}))"


def _score_sql(exposure: str | Mapping[str, float] | None, has_sub: bool) -> tuple[str, Any]:
    """SQL for each contract's exposure score and the rule in words."""
    if exposure is None:
        return "0.0", None
    cats = set(taxonomy.category_names())
    if isinstance(exposure, str):
        ev = taxonomy.category_events()
        known = sorted(set(taxonomy.event_dates()))
        if exposure not in known:
            raise OptionError(f"exposure must be a taxonomy event {known} or a mapping of "
                              f"category/subcategory to a score in [0, 1]; got {exposure!r}.")
        names = sorted(ev.loc[ev["event"] == exposure, "category"])
        lst = ", ".join(_literal(n) for n in names)
        return (f"(CASE WHEN category IN ({lst}) THEN 1.0 ELSE 0.0 END)",
                {"event": exposure, "categories": names})
    if not isinstance(exposure, Mapping):
        raise OptionError(f"exposure must be an event name, a mapping or None; got "
                          f"{type(exposure).__name__}.")
    sub_terms, cat_terms = [], []
    for k, v in sorted(exposure.items()):
        try:
            s = float(v)
        except (TypeError, ValueError) as err:
            raise OptionError(f"exposure[{k!r}] must be a number in [0, 1]; got {v!r}.") from err
        if not 0 <= s <= 1:
            raise OptionError(f"exposure[{k!r}] must be a number in [0, 1]; got {v!r}.")
        if k in cats:
            cat_terms.append(f"WHEN category = {_literal(k)} THEN {s!r}")
        else:
            if not has_sub:
                raise DataValidationError(
                    f"contracts: rule 'required_columns': exposure names {k!r}, which is not a "
                    "category, but the contracts have no 'subcategory' column.")
            sub_terms.append(f"WHEN subcategory = {_literal(k)} THEN {s!r}")
    terms = " ".join(sub_terms + cat_terms)
    return (f"(CASE {terms} ELSE 0.0 END)" if terms else "0.0"), {
        str(k): float(v) for k, v in sorted(exposure.items())}


def build_freelancer_panel(
    contracts: Any,
    *,
    freelancers: Any | None = None,
    freq: Literal["M", "Q", "month", "quarter"] = "M",
    start: Any | None = None,
    end: Any | None = None,
    exposure: str | Mapping[str, float] | None = "chatgpt",
    threshold: float = 0.5,
    pre_period: tuple[Any, Any] | None = None,
    engine: Literal["duckdb", "spark"] = "duckdb",
    spark: Any | None = None,
) -> pd.DataFrame:
    """Aggregate contracts to a freelancer x period panel with explicit zeros.

    Parameters
    ----------
    contracts : pandas.DataFrame, Parquet/CSV path, or Spark DataFrame (``engine="spark"``)
        One row per contract: ``freelancer_id``, ``start_date``, ``earnings_usd`` required;
        ``contract_id`` (unique; used to name rejected rows), ``category`` and ``subcategory``
        (for ``exposure``), ``contract_type`` (``"hourly"`` marks hourly contracts) and
        ``hours`` optional. A contract counts in the period of its start date, with all its
        earnings.
    freelancers : table, optional
        One row per freelancer: ``freelancer_id`` and optional ``entry_month`` /
        ``exit_month`` (dates; missing = before the first / after the last period). When
        given, it defines the active spans (see Notes) and freelancers without contracts get
        rows of zeros.
    freq : {"M", "Q"}, default "M"
        Calendar months or quarters (period = first day).
    start, end : date, optional
        Contracts starting outside ``[start, end]`` are rejected (``outside_range``); the
        period grid runs from the period of ``start`` (default: the first kept contract) to
        that of ``end`` (default: the last).
    exposure : str, mapping or None, default "chatgpt"
        Exposed work: a taxonomy event (the categories assigned to it score 1, others 0) or a
        mapping of category or subcategory names to scores in [0, 1] (a subcategory's score
        overrides its category's; others 0). ``None``: no exposure columns.
    threshold : float, default 0.5
        ``exposed`` is ``exposure_share >= threshold``.
    pre_period : (date, date), optional
        Periods (by their start) that measure exposure and prior earnings. Default: every
        period before the first treated period of ``exposure``'s event under laborai's timing
        rule (``"first_full"``: ChatGPT, 30 Nov 2022 -> up to November 2022), or of ChatGPT when
        ``exposure`` is a mapping.
    engine : {"duckdb", "spark"}, default "duckdb"
        Where the SQL runs (the same statements; Spark through :mod:`laborai._spark`).
    spark : pyspark.sql.SparkSession, optional
        Session for ``engine="spark"`` (default: a local one).

    Returns
    -------
    pandas.DataFrame
        One row per freelancer x period of the active span, sorted by both:
        ``freelancer_id, period, t`` (1-based position on the grid), ``n_jobs`` (int64),
        ``earnings``, ``hours`` and ``hourly_earnings`` (hourly contracts), ``mean_hourly_rate``
        (``hourly_earnings / hours``; NaN without hourly hours), ``active`` (``n_jobs > 0``),
        and per freelancer: ``pre_months`` (span periods in the pre-period),
        ``prior_earnings`` (pre-period earnings per pre-period month; NaN without pre months),
        ``prior_earnings_quartile`` (1-4 by rank of ``(prior_earnings, freelancer_id)`` among
        freelancers with pre months: ``1 + floor(4 (rank - 1) / n)``), ``main_category``
        (largest pre-period earnings; ties by name), ``exposure_share`` (exposure-weighted
        share of pre-period earnings; NaN without pre-period earnings) and ``exposed``
        (nullable boolean). ``attrs``: ``accounting`` (contracts read / kept, jobs and earnings
        in the panel, freelancers), ``rejected`` (per reason: count and first contract ids),
        the rules, ``laborai_version``, ``taxonomy_version`` and ``engine``.

    Raises
    ------
    DataValidationError
        Missing columns, non-numeric earnings or hours, text dates that are not ISO 8601,
        duplicated ``contract_id`` or ``freelancer_id`` (in ``freelancers``), an exit before
        an entry, or no contract left.
    OptionError
        Bad ``freq``, ``engine``, ``threshold``, ``exposure``, ``start``/``end`` or
        ``pre_period``.

    Notes
    -----
    Entry and exit rule: with ``freelancers`` the span runs from the period of ``entry_month``
    (or the first period) to the period of ``exit_month`` (or the last), clipped to the grid;
    contracts outside it are rejected (``outside_active_span``). Without it, the span runs from
    the freelancer's first to last period with a kept contract. Every period of the span is a
    row; periods without contracts have zeros (and NaN rate). Accounting identities, checked
    before returning: ``sum(n_jobs) == contracts kept`` and the earnings sum equals the exact
    decimal sum of the kept contracts' earnings; ``kept + sum(rejected) == read``.
    """
    check_option("engine", engine, ("duckdb", "spark"))
    if freq not in _FREQS:
        raise OptionError(f"freq must be one of 'M', 'Q', 'month', 'quarter'; got {freq!r}.")
    unit = _FREQS[freq]
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not (
            0 < float(threshold) <= 1):
        raise OptionError(f"threshold must be a number in (0, 1]; got {threshold!r}.")
    start_ts = _utc_naive(start, "start") if start is not None else None
    end_ts = _utc_naive(end, "end") if end is not None else None
    if start_ts is not None and end_ts is not None and end_ts < start_ts:
        raise OptionError(f"end must not be before start; got start={start}, end={end}.")
    pre: tuple[pd.Timestamp, pd.Timestamp] | None = None
    if pre_period is not None:
        if not isinstance(pre_period, (tuple, list)) or len(pre_period) != 2:
            raise OptionError(f"pre_period must be a pair of dates; got {pre_period!r}.")
        pre = (_utc_naive(pre_period[0], "pre_period[0]"), _utc_naive(pre_period[1],
                                                                       "pre_period[1]"))
        if pre[1] < pre[0]:
            raise OptionError(f"pre_period must be ordered; got {pre_period!r}.")
    inputs = [contracts] + ([freelancers] if freelancers is not None else [])
    eng: _SQLEngine
    if engine == "spark":
        from laborai._spark import SparkEngine

        eng = SparkEngine(spark, inputs)
    else:
        if spark is not None:
            raise OptionError("spark= is used only with engine='spark'; got engine='duckdb'.")
        eng = _Engine(None, inputs)
    try:
        return _build(eng, engine, contracts, freelancers, unit, start_ts, end_ts, exposure,
                      float(threshold), pre)
    finally:
        eng.close()


def _grid(unit: str, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DatetimeIndex:
    p0 = lo.to_period("M" if unit == "month" else "Q").start_time
    return pd.date_range(p0, hi, freq="MS" if unit == "month" else "QS")


def _build(eng: _SQLEngine, engine: str, contracts: Any, freelancers: Any | None, unit: str,
           start: pd.Timestamp | None, end: pd.Timestamp | None,
           exposure: str | Mapping[str, float] | None, threshold: float,
           pre: tuple[pd.Timestamp, pd.Timestamp] | None) -> pd.DataFrame:

    wc = _describe_input("contracts", contracts)
    eng.bind(_VC, contracts, wc)
    ct = eng.describe(_VC, wc)
    need = ["freelancer_id", "start_date", "earnings_usd"]
    if exposure is not None:
        need.append("category")
    missing = [c for c in need if c not in ct]
    if missing:
        raise DataValidationError(
            f"{wc}: rule 'required_columns': missing column(s) {_show(missing)}; columns "
            f"present: {_show(list(ct))}." + (" Pass exposure=None to build without exposure."
                                             if "category" in missing else ""))
    if not _is_numeric(ct["earnings_usd"]):
        raise DataValidationError(f"{wc}: column 'earnings_usd': rule 'column_type': must be "
                                  f"numeric; got type {ct['earnings_usd']}.")
    has_hours = "hours" in ct
    if has_hours and not _is_numeric(ct["hours"]) and ct["hours"].upper() != '"NULL"':
        raise DataValidationError(f"{wc}: column 'hours': rule 'column_type': must be numeric; "
                                  f"got type {ct['hours']}.")
    if ct["start_date"].upper() == "VARCHAR":
        _check_text_dates(eng, _VC, "start_date", "contract", "read_contracts", wc)
    id_col = "contract_id" if "contract_id" in ct else None
    if id_col is not None:
        dup = eng.df(f"SELECT count(*) AS n FROM (SELECT contract_id FROM {_VC} WHERE contract_id"
                     " IS NOT NULL GROUP BY contract_id HAVING count(*) > 1) d", wc, "unique_id")
        if int(dup["n"].iloc[0]):
            first = eng.df(f"SELECT contract_id FROM {_VC} GROUP BY contract_id HAVING "
                           "count(*) > 1 ORDER BY contract_id LIMIT 5", wc, "unique_id")
            raise DataValidationError(
                f"{wc}: column 'contract_id': rule 'unique_contract_id': "
                f"{int(dup['n'].iloc[0])} contract id(s) appear more than once; first: "
                f"{_show(first['contract_id'].tolist())}. Drop the duplicates explicitly.")
    d = _date_sql("start_date", ct["start_date"], wc, "start_date")
    earn = _no_nan("earnings_usd", ct["earnings_usd"])
    fid = "CAST(freelancer_id AS VARCHAR)"
    hours = (_no_nan("hours", ct["hours"]) if has_hours and _is_numeric(ct["hours"])
             else "CAST(NULL AS DOUBLE)")
    if "contract_type" in ct:
        hourly = "(lower(CAST(contract_type AS VARCHAR)) = 'hourly')"
    else:
        hourly = f"({hours} IS NOT NULL)"
    score, exposure_rule = _score_sql(exposure, "subcategory" in ct)
    base_reason = (
        f"CASE WHEN freelancer_id IS NULL OR trim({fid}) = '' THEN 'missing_freelancer_id' "
        f"WHEN {d} IS NULL THEN 'missing_start_date' "
        f"WHEN {earn} IS NULL THEN 'missing_earnings' "
        f"WHEN {_is_inf('earnings_usd', ct['earnings_usd'])} THEN 'non_finite_earnings' "
        f"WHEN {earn} < 0 OR {earn} >= 1e32 THEN 'negative_earnings' "
        f"WHEN {hours} < 0 THEN 'negative_hours' ELSE NULL END")
    first = eng.df(f"SELECT reason, count(*) AS n, min(d) AS lo, max(d) AS hi FROM (SELECT "
                   f"{base_reason} AS reason, {d} AS d FROM {_VC}) r GROUP BY reason", wc,
                   "column_type")
    n_read = int(first["n"].sum())
    ok = first[first["reason"].isna()]
    if ok.empty or pd.isna(ok["lo"].iloc[0]):
        raise DataValidationError(f"{wc}: rule 'contracts_present': no contract with a "
                                  f"freelancer id, a start date and valid earnings "
                                  f"({n_read} read).")
    lo = start if start is not None else pd.Timestamp(ok["lo"].iloc[0])
    hi = end if end is not None else pd.Timestamp(ok["hi"].iloc[0])
    grid = _grid(unit, lo, hi)
    if len(grid) == 0:
        raise DataValidationError(f"{wc}: rule 'contracts_in_range': no period between "
                                  f"{lo.date()} and {hi.date()}.")
    eng.bind(_VG, pd.DataFrame({"period": [p.date() for p in grid],
                                "t": np.arange(1, len(grid) + 1, dtype=np.int64)}), "grid")
    g0, g1 = _literal(str(grid[0].date())), _literal(str(grid[-1].date()))
    if pre is None:
        ev = exposure if isinstance(exposure, str) else "chatgpt"
        pos = _timing.event_positions(grid, pd.Series([taxonomy.event_dates()[ev]]),
                                      "first_full")[0]
        if not 0 < pos <= len(grid):
            raise OptionError(f"pre_period: the grid {grid[0].date()}..{grid[-1].date()} has no "
                              f"period before the first treated period of {ev!r}; pass "
                              "pre_period=(start, end).")
        pre_lo, pre_hi = grid[0], grid[int(pos) - 1]
    else:
        pre_lo = pre[0].to_period("M" if unit == "month" else "Q").start_time
        pre_hi = pre[1]
    period = f"CAST(date_trunc({_literal(unit)}, {d}) AS DATE)"
    range_cond = []
    if start is not None:
        range_cond.append(f"{d} < DATE {_literal(str(start.date()))}")
    if end is not None:
        range_cond.append(f"{d} > DATE {_literal(str(end.date()))}")
    range_sql = " OR ".join(range_cond) if range_cond else "false"

    # the spans table
    if freelancers is not None:
        wf = _describe_input("freelancers", freelancers)
        eng.bind(_VF, freelancers, wf)
        ft = eng.describe(_VF, wf)
        if "freelancer_id" not in ft:
            raise DataValidationError(f"{wf}: rule 'required_columns': missing column "
                                      f"'freelancer_id'; columns present: {_show(list(ft))}.")
        dupf = eng.df(f"SELECT count(*) AS n FROM (SELECT freelancer_id FROM {_VF} GROUP BY "
                      "freelancer_id HAVING count(*) > 1) x", wf, "unique_id")
        nulls = eng.df(f"SELECT count(*) AS n FROM {_VF} WHERE freelancer_id IS NULL", wf,
                       "unique_id")
        if int(dupf["n"].iloc[0]) or int(nulls["n"].iloc[0]):
            raise DataValidationError(
                f"{wf}: column 'freelancer_id': rule 'unique_freelancer_id': "
                f"{int(dupf['n'].iloc[0])} id(s) appear more than once and "
                f"{int(nulls['n'].iloc[0])} are missing; give one row per freelancer.")
        ent = (f"CAST(date_trunc({_literal(unit)}, {_date_sql('entry_month', ft['entry_month'], wf, 'entry_month')}) AS DATE)"
               if "entry_month" in ft else "CAST(NULL AS DATE)")
        ext = (f"CAST(date_trunc({_literal(unit)}, {_date_sql('exit_month', ft['exit_month'], wf, 'exit_month')}) AS DATE)"
               if "exit_month" in ft else "CAST(NULL AS DATE)")
        bad = eng.df(f"SELECT count(*) AS n FROM {_VF} WHERE {ent} > {ext}", wf, "span")
        if int(bad["n"].iloc[0]):
            first_bad = _first_values(eng, _VF, "freelancer_id", f"{ent} > {ext}", wf)
            raise DataValidationError(
                f"{wf}: columns 'entry_month', 'exit_month': rule 'entry_before_exit': "
                f"{int(bad['n'].iloc[0])} freelancer(s) exit before they enter; first: "
                f"{_show(first_bad)}.")
        spans = (f"SELECT CAST(freelancer_id AS VARCHAR) AS fid, "
                 f"greatest(coalesce({ent}, DATE {g0}), DATE {g0}) AS p0, "
                 f"least(coalesce({ext}, DATE {g1}), DATE {g1}) AS p1 FROM {_VF}")
        span_join = f" LEFT JOIN ({spans}) s ON s.fid = {fid}"
        span_cols = ", s.fid AS sfid, s.p0 AS sp0, s.p1 AS sp1"
        span_reason = (" WHEN sfid IS NULL THEN 'unknown_freelancer' WHEN period < sp0 OR "
                       "period > sp1 THEN 'outside_active_span'")
        span_rule = ("from the period of entry_month (or the first period) to that of exit_month "
                     "(or the last), clipped to the grid")
    else:
        span_join, span_cols, span_reason = "", "", ""
        span_rule = "from the freelancer's first to last period with a kept contract"
    cat = "CAST(category AS VARCHAR)" if "category" in ct else "CAST(NULL AS VARCHAR)"
    cid = f"CAST({id_col} AS VARCHAR)" if id_col else "CAST(NULL AS VARCHAR)"
    range_sql = range_sql.replace(d, "d")
    base = (f"SELECT {cid} AS cid, {fid} AS fid, {d} AS d, {period} AS period, {earn} AS earn, "
            f"{_is_inf('earnings_usd', ct['earnings_usd'])} AS is_inf, {hours} AS hrs, "
            f"{hourly} AS hourly, {cat} AS cat, {score} AS score{span_cols} "
            f"FROM {_VC} c{span_join}")
    classified = (
        "SELECT cid, fid, period, earn, hrs, hourly, cat, score, CASE "
        "WHEN fid IS NULL OR trim(fid) = '' THEN 'missing_freelancer_id' "
        "WHEN d IS NULL THEN 'missing_start_date' WHEN earn IS NULL THEN 'missing_earnings' "
        "WHEN is_inf THEN 'non_finite_earnings' "
        "WHEN earn < 0 OR earn >= 1e32 THEN 'negative_earnings' "
        "WHEN hrs < 0 THEN 'negative_hours' "
        f"WHEN {range_sql} THEN 'outside_range'{span_reason} ELSE NULL END AS reason "
        f"FROM ({base}) b")
    kind = "TEMP TABLE" if engine == "duckdb" else "TEMP VIEW"
    cast(Any, eng).sql(f"CREATE OR REPLACE {kind} {_VK} AS {classified}", wc, "aggregate")
    try:
        return _finish(eng, engine, wc, id_col, freelancers is not None, spans if freelancers
                       is not None else "", span_rule, grid, pre_lo, pre_hi, exposure,
                       exposure_rule, threshold, n_read, unit)
    finally:
        cast(Any, eng).sql(f"DROP {'TABLE' if engine == 'duckdb' else 'VIEW'} IF EXISTS {_VK}",
                           wc, "aggregate")


def _finish(eng: _SQLEngine, engine: str, wc: str, id_col: str | None, has_f: bool, spans: str,
            span_rule: str, grid: pd.DatetimeIndex, pre_lo: pd.Timestamp, pre_hi: pd.Timestamp,
            exposure: Any, exposure_rule: Any, threshold: float, n_read: int,
            unit_name: str) -> pd.DataFrame:
    import laborai

    pl, ph = _literal(str(pre_lo.date())), _literal(str(pre_hi.date()))
    rej = eng.df(f"SELECT reason, count(*) AS n FROM {_VK} WHERE reason IS NOT NULL "
                 "GROUP BY reason ORDER BY reason", wc, "aggregate")
    rejected: dict[str, Any] = {}
    for r, k in zip(rej["reason"], rej["n"], strict=True):
        ids = []
        if id_col:
            ids = eng.df(f"SELECT cid FROM {_VK} WHERE reason = {_literal(r)} "
                         "ORDER BY cid LIMIT 5", wc, "aggregate")["cid"].tolist()
        rejected[str(r)] = {"count": int(k), "first_contract_ids": [str(i) for i in ids]}
    if has_f:
        span_src = (f"SELECT fid, p0, p1 FROM ({spans}) s0 WHERE p0 <= p1")
    else:
        span_src = "SELECT fid, min(period) AS p0, max(period) AS p1 FROM k GROUP BY fid"
    in_pre = f"period BETWEEN DATE {pl} AND DATE {ph}"
    query = f"""
WITH k AS (SELECT * FROM {_VK} WHERE reason IS NULL),
agg AS (SELECT fid, period, count(*) AS n_jobs, sum({_money('earn')}) AS earnings,
               sum(CASE WHEN hourly AND hrs IS NOT NULL THEN {_money('hrs')} END) AS hours,
               sum(CASE WHEN hourly AND hrs IS NOT NULL THEN {_money('earn')} END)
                 AS hourly_earnings
        FROM k GROUP BY fid, period),
span AS ({span_src}),
cells AS (SELECT s.fid, g.period, g.t FROM span s JOIN {_VG} g
          ON g.period >= s.p0 AND g.period <= s.p1),
prem AS (SELECT fid, count(*) AS pre_months FROM cells WHERE {in_pre} GROUP BY fid),
pree AS (SELECT fid, sum({_money('earn')}) AS pre_earn,
                sum({_money('earn * score')}) AS pre_exposed
         FROM k WHERE {in_pre} GROUP BY fid),
catsum AS (SELECT fid, cat, sum({_money('earn')}) AS e FROM k WHERE {in_pre} GROUP BY fid, cat),
maincat AS (SELECT fid, cat AS main_category FROM (SELECT fid, cat, row_number() OVER
            (PARTITION BY fid ORDER BY e DESC, cat) AS rn FROM catsum) z WHERE rn = 1),
fstat AS (SELECT m.fid, m.pre_months,
                 CAST(coalesce(e.pre_earn, 0) AS DOUBLE) / m.pre_months AS prior_earnings,
                 CASE WHEN coalesce(e.pre_earn, 0) > 0
                      THEN CAST(e.pre_exposed AS DOUBLE) / CAST(e.pre_earn AS DOUBLE) END
                   AS exposure_share
          FROM prem m LEFT JOIN pree e ON e.fid = m.fid),
ranked AS (SELECT fid, pre_months, prior_earnings, exposure_share,
                  row_number() OVER (ORDER BY prior_earnings, fid) AS rk,
                  count(*) OVER () AS nf FROM fstat)
SELECT c.fid AS freelancer_id, c.period, c.t,
       coalesce(a.n_jobs, 0) AS n_jobs,
       CAST(coalesce(a.earnings, 0) AS DOUBLE) AS earnings,
       CAST(coalesce(a.hours, 0) AS DOUBLE) AS hours,
       CAST(coalesce(a.hourly_earnings, 0) AS DOUBLE) AS hourly_earnings,
       coalesce(r.pre_months, 0) AS pre_months, r.prior_earnings,
       CASE WHEN r.rk IS NOT NULL THEN 1 + CAST(floor(4.0 * (r.rk - 1) / r.nf) AS INTEGER) END
         AS prior_earnings_quartile,
       mc.main_category, r.exposure_share
FROM cells c LEFT JOIN agg a ON a.fid = c.fid AND a.period = c.period
LEFT JOIN ranked r ON r.fid = c.fid LEFT JOIN maincat mc ON mc.fid = c.fid
ORDER BY c.fid, c.period"""
    panel = eng.df(query, wc, "aggregate")
    totals = eng.df(f"SELECT count(*) AS n, CAST(sum({_money('earn')}) AS VARCHAR) AS e FROM "
                    f"{_VK} WHERE reason IS NULL", wc, "aggregate")
    n_kept = int(totals["n"].iloc[0])
    earn_kept = float(totals["e"].iloc[0]) if totals["e"].iloc[0] is not None else 0.0

    # types and derived columns (same on both engines)
    panel["freelancer_id"] = panel["freelancer_id"].astype("str")
    panel["period"] = pd.to_datetime(panel["period"]).astype("datetime64[ns]")
    for c in ("t", "n_jobs", "pre_months"):
        panel[c] = panel[c].astype(np.int64)
    for c in ("earnings", "hours", "hourly_earnings", "prior_earnings", "exposure_share"):
        panel[c] = pd.to_numeric(panel[c], errors="coerce").astype(float)
    panel["prior_earnings"] = panel["prior_earnings"].where(panel["pre_months"] > 0)
    panel["prior_earnings_quartile"] = panel["prior_earnings_quartile"].astype("Int64")
    panel["main_category"] = panel["main_category"].astype("str").where(
        panel["main_category"].notna(), None)
    h = panel["hours"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        panel["mean_hourly_rate"] = np.where(h > 0, panel["hourly_earnings"] / h, np.nan)
    panel["active"] = panel["n_jobs"].to_numpy() > 0
    if exposure is None:
        panel = panel.drop(columns=["exposure_share"])
    else:
        share = panel["exposure_share"]
        panel["exposed"] = pd.array(np.where(share.isna(), None, share >= threshold),
                                    dtype="boolean")
    cols = ["freelancer_id", "period", "t", "n_jobs", "earnings", "hours", "hourly_earnings",
            "mean_hourly_rate", "active", "pre_months", "prior_earnings",
            "prior_earnings_quartile", "main_category"]
    cols += [] if exposure is None else ["exposure_share", "exposed"]
    panel = panel[cols].reset_index(drop=True)

    # accounting identities
    n_rej = sum(v["count"] for v in rejected.values())
    jobs = int(panel["n_jobs"].sum())
    earn_panel = math.fsum(panel["earnings"].tolist())
    if n_kept + n_rej != n_read or jobs != n_kept or abs(earn_panel - earn_kept) > 0.005:
        raise DataValidationError(  # pragma: no cover - an internal invariant
            f"{wc}: rule 'accounting': read {n_read}, kept {n_kept}, rejected {n_rej}, jobs in "
            f"panel {jobs}, earnings {earn_panel!r} vs {earn_kept!r}. Please report this.")
    panel.attrs = {
        "freq": unit_name,
        "span_rule": span_rule,
        "contract_period_rule": "a contract counts in the period of its start_date, with all "
                                "its earnings",
        "pre_period": [str(pre_lo.date()), str(pre_hi.date())],
        "exposure": exposure_rule,
        "threshold": float(threshold),
        "quartile_rule": "1 + floor(4 (rank - 1) / n), rank of (prior_earnings, freelancer_id) "
                         "among freelancers with pre-period months",
        "engine": engine,
        "laborai_version": laborai.__version__,
        "taxonomy_version": _taxonomy_version(),
        "accounting": {
            "contracts_read": n_read,
            "contracts_kept": n_kept,
            "contracts_rejected": n_rej,
            "jobs_in_panel": jobs,
            "earnings_kept": earn_kept,
            "earnings_in_panel": earn_panel,
            "freelancers": int(panel["freelancer_id"].nunique()),
            "rows": len(panel),
        },
        "rejected": rejected,
    }
    return panel
