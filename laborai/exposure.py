"""Treatment definitions: which units are exposed to generative AI, and from when.

Examples
--------
>>> import laborai as la
>>> m = la.simulate_marketplace(seed=1, n_posts=5_000)
>>> panel = la.exposure.add_event_dates(la.build_panel(m.job_posts, m.contracts))
>>> sorted(panel.loc[panel["exposed"], "category"].unique())[:2]
['Data Science & Analytics', 'Design & Creative']
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from laborai import _timing, taxonomy
from laborai._timing import Timing
from laborai._validation import check_option, check_time_column
from laborai.errors import DataValidationError

__all__ = ["add_event_dates", "cohorts", "event_period_start"]


def add_event_dates(
    panel: pd.DataFrame,
    assignment: Mapping[str, str | None] | None = None,
    overrides: Mapping[str, str | pd.Timestamp] | None = None,
    *,
    category: str = "category",
    period: str = "period",
    timing: Timing = "first_full",
) -> pd.DataFrame:
    """Attach each unit's generative-AI event and the treatment indicators to a panel.

    Parameters
    ----------
    panel : pandas.DataFrame
        A panel from :func:`laborai.build_panel` (needs ``category`` and ``period``).
    assignment : mapping of category to event name (or None), optional
        Changes the default assignment (Design & Creative: image generators; Writing,
        Translation, Web/Mobile/Software, Data Science: ChatGPT; others unexposed).
    overrides : mapping of event name to date, optional
        Changes event dates (see :func:`laborai.taxonomy.event_dates`).
    category, period : str
        Column names in ``panel``.
    timing : {"first_full", "containing"}, default "first_full"
        The timing rule of ``docs/estimators/timing.md``: ``"first_full"`` treats a unit from
        the first period that starts on or after its event date (ChatGPT, 30 Nov 2022:
        December 2022 onwards in a monthly panel; an event on the 1st treats that month);
        ``"containing"`` from the start of the period that contains the event date (November
        2022; the default of ``add_event_dates`` before the timing rules were unified).

    Returns
    -------
    pandas.DataFrame
        A copy with ``event`` (str or missing), ``event_date`` (NaT if never exposed),
        ``exposed`` (bool), ``post`` (the period is at or after the unit's first treated
        period) and ``treated_post`` (0/1). The input is not modified.

    Raises
    ------
    DataValidationError
        If a column is missing, the periods are pandas ``Period`` values, or a category is
        unknown to the taxonomy.
    OptionError
        For a ``timing`` outside ``"first_full"``, ``"containing"``.

    Notes
    -----
    Changed: the default rule is now ``"first_full"``, the rule of every laborai estimator
    (:func:`laborai.did.event_study`, :func:`laborai.estimate_effects`,
    :func:`laborai.compare_estimators`, ...); earlier versions treated the period that
    contains the event date. Pass ``timing="containing"`` for the old rule. The first treated
    period of each unit is :func:`cohorts` on the same rule.
    """
    check_option("timing", timing, _timing.TIMINGS)
    for col in (category, period):
        if col not in panel.columns:
            raise DataValidationError(f"panel: rule 'required_columns': missing column {col!r}.")
    check_time_column(panel, period, where="add_event_dates")
    ev = taxonomy.category_events(assignment, overrides)
    unknown = sorted(set(panel[category].astype(str)) - set(ev["category"]))
    if unknown:
        raise DataValidationError(
            f"panel: column {category!r}, rule 'category_known': {len(unknown)} unknown "
            f"categories, first: {unknown[:5]!r}."
        )
    out = panel.copy()
    m = ev.set_index("category")
    out["event"] = out[category].map(m["event"])
    out["event_date"] = pd.to_datetime(out[category].map(m["event_date"])).astype("datetime64[ns]")
    out["exposed"] = out["event_date"].notna()
    periods = np.sort(out[period].unique())
    tpos = np.searchsorted(periods, out[period].to_numpy())
    epos = _timing.event_positions(periods, out["event_date"], timing)
    out["post"] = out["exposed"].to_numpy() & (tpos >= np.nan_to_num(epos, nan=np.inf))
    out["treated_post"] = out["post"].astype("int64")
    return out


def event_period_start(periods: pd.DatetimeIndex, event_date: pd.Series) -> pd.Series:
    """Start of the panel period that contains each event date.

    Parameters
    ----------
    periods : pandas.DatetimeIndex
        Sorted start dates of the panel's periods (e.g. the first day of each month).
    event_date : pandas.Series
        Event dates (datetime-like; NaT for units never exposed).

    Returns
    -------
    pandas.Series
        ``datetime64[ns]`` values with ``event_date``'s index: the start of the period whose
        span contains the event date, or NaT when the date is missing, falls before the first
        period or after the end of the last one.

    Notes
    -----
    A period spans from its start to the next period's start. When ``periods`` has a regular
    frequency (inferred with :func:`pandas.infer_freq`, at least three periods) the last period
    ends one step after its start; on an irregular grid it spans the widest gap between periods.
    :func:`add_event_dates` and :func:`cohorts` use this rule with ``timing="containing"``
    (their default, ``"first_full"``, starts at the next period start instead); see
    :mod:`laborai._timing`.

    Examples
    --------
    >>> import pandas as pd
    >>> periods = pd.date_range("2022-09-01", periods=4, freq="MS")
    >>> ev = pd.Series(pd.to_datetime(["2022-11-30", None, "2023-03-05"]))
    >>> [str(d.date()) if pd.notna(d) else "NaT" for d in event_period_start(periods, ev)]
    ['2022-11-01', 'NaT', 'NaT']
    """
    grid = pd.DatetimeIndex(periods)
    pos = _timing.event_positions(grid, event_date, "containing")
    ev = pd.DatetimeIndex(event_date)
    ok = ~np.isnan(pos) & (pos < len(grid)) & np.asarray(ev >= grid[0])
    starts = grid[np.clip(np.nan_to_num(pos), 0, len(grid) - 1).astype(int)]
    return pd.Series(np.where(ok, starts, pd.NaT), index=event_date.index,
                     dtype="datetime64[ns]")


def cohorts(
    data: pd.DataFrame,
    *,
    idname: str,
    tname: str,
    event_date: str,
    timing: Timing = "first_full",
    gname: str = "gname",
) -> pd.DataFrame:
    """Turn event dates into cohorts (``gname``: each unit's first treated period).

    Parameters
    ----------
    data : pandas.DataFrame
        Panel in long format, e.g. from :func:`laborai.build_panel` after
        :func:`add_event_dates`.
    idname : str
        Unit column (``event_date`` must be constant within unit).
    tname : str
        Period column: period starts (datetimes, as ``build_panel``'s ``period``) or numbers.
    event_date : str
        Column with each unit's event date (NaT / NaN: never treated); dates for datetime
        periods, numbers for numeric periods.
    timing : {"first_full", "containing"}, default "first_full"
        Timing rule (``docs/estimators/timing.md``): the first period starting on or after the
        event date, or the period containing it. For numeric periods both give the first
        period ``t >= event``.
    gname : str, default "gname"
        Name of the cohort column added.

    Returns
    -------
    pandas.DataFrame
        A copy of ``data`` with ``gname``: the first treated period, a value of ``tname``.
        Never-treated units (missing event date, or an event after the last period start)
        get ``NaT`` for datetime periods and ``0`` for numeric periods (the ``did``
        convention). A unit whose event precedes the first period gets the first period
        (treated throughout: estimators drop it, saying so). The column is the ``gname`` that
        :func:`laborai.did.att_gt` and :func:`laborai.did.sun_abraham` accept, and its event
        times equal those of :func:`laborai.did.event_study` with ``event_date``.

    Raises
    ------
    DataValidationError
        Missing columns, pandas ``Period`` periods, dates mixed with numbers, an event date
        varying within a unit, duplicated unit x period rows, a ``gname`` column that already
        exists, or numeric periods where a treated cohort would be 0 (ambiguous with
        never-treated; renumber the periods from 1).
    OptionError
        For a ``timing`` outside ``"first_full"``, ``"containing"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from laborai.exposure import cohorts
    >>> df = pd.DataFrame({"unit": ["a", "a", "b", "b"],
    ...                    "period": pd.to_datetime(["2022-11-01", "2022-12-01"] * 2),
    ...                    "event_date": pd.to_datetime(["2022-11-30"] * 2 + [None] * 2)})
    >>> [str(v)[:10] for v in cohorts(df, idname="unit", tname="period",
    ...                               event_date="event_date")["gname"]]
    ['2022-12-01', '2022-12-01', 'NaT', 'NaT']
    """
    from laborai._validation import check_unique_unit_period

    check_option("timing", timing, _timing.TIMINGS)
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(f"data must be a pandas DataFrame; got {type(data).__name__}.")
    for role, col in (("idname", idname), ("tname", tname), ("event_date", event_date)):
        if col not in data.columns:
            raise DataValidationError(
                f"cohorts: {role}={col!r} is not a column of data; available columns: "
                f"{list(map(str, data.columns))[:20]}."
            )
    if gname in data.columns:
        raise DataValidationError(
            f"cohorts: data already has a column {gname!r}; pass another gname= or drop it."
        )
    check_time_column(data, tname, where="cohorts")
    check_unique_unit_period(data, idname, tname)
    tpos, epos, grid = _timing.unit_event_positions(data, idname, tname, event_date, timing,
                                                    where="cohorts")
    valid = ~np.isnan(epos) & (epos < len(grid))
    idx = np.where(valid, np.nan_to_num(epos), 0).astype(int)
    out = data.copy()
    if grid.dtype.kind == "M":
        out[gname] = pd.Series(np.where(valid, grid[idx], np.datetime64("NaT", "ns")),
                               index=data.index, dtype="datetime64[ns]")
        return out
    vals = np.where(valid, grid[idx], 0.0)
    if np.any(valid & (vals == 0)):
        raise DataValidationError(
            f"cohorts: {int(np.sum(valid & (vals == 0)))} row(s) would get cohort 0, a period "
            f"of {tname!r}, which also means never treated; renumber the periods from 1."
        )
    integer = pd.api.types.is_integer_dtype(data[tname]) or bool(
        np.all(np.equal(np.mod(grid, 1), 0)))
    out[gname] = vals.astype(np.int64) if integer else vals
    return out
