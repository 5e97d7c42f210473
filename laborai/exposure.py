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

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from laborai import taxonomy
from laborai.errors import DataValidationError

__all__ = ["add_event_dates", "event_period_start"]


def add_event_dates(
    panel: pd.DataFrame,
    assignment: Mapping[str, str | None] | None = None,
    overrides: Mapping[str, str | pd.Timestamp] | None = None,
    *,
    category: str = "category",
    period: str = "period",
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

    Returns
    -------
    pandas.DataFrame
        A copy with ``event`` (str or missing), ``event_date`` (NaT if never exposed),
        ``exposed`` (bool), ``post`` (period on or after the event's period) and
        ``treated_post`` (0/1). The input is not modified.

    Raises
    ------
    DataValidationError
        If a column is missing or a category is unknown to the taxonomy.

    Notes
    -----
    A period counts as treated when it starts on or after the first day of the period that
    contains the event date (e.g. ChatGPT, 30 Nov 2022, treats November 2022 onwards in a
    monthly panel) — a conservative choice when the event falls late in the period.
    """
    for col in (category, period):
        if col not in panel.columns:
            raise DataValidationError(f"panel: rule 'required_columns': missing column {col!r}.")
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
    periods = pd.DatetimeIndex(np.sort(out[period].unique()))
    start = event_period_start(periods, out["event_date"])
    out["post"] = out["exposed"] & start.notna().to_numpy() & (
        out[period].to_numpy() >= start.fillna(pd.Timestamp.max).to_numpy())
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
    :func:`add_event_dates` uses this rule: a unit counts as treated from the start of the period
    containing its event.

    Examples
    --------
    >>> import pandas as pd
    >>> periods = pd.date_range("2022-09-01", periods=4, freq="MS")
    >>> ev = pd.Series(pd.to_datetime(["2022-11-30", None, "2023-03-05"]))
    >>> [str(d.date()) if pd.notna(d) else "NaT" for d in event_period_start(periods, ev)]
    ['2022-11-01', 'NaT', 'NaT']
    """
    freq = None
    if len(periods) >= 3:
        with warnings.catch_warnings():  # pandas 3 warns about infer_freq's return type
            warnings.simplefilter("ignore")
            freq = pd.infer_freq(periods)
    if freq is not None:
        ends = periods + pd.tseries.frequencies.to_offset(freq)
    else:  # irregular grid: a period ends where the next begins; the last spans the widest gap
        gap = periods.to_series().diff().max() if len(periods) > 1 else pd.Timedelta(days=1)
        ends = pd.DatetimeIndex(list(periods[1:]) + [periods[-1] + gap])
    ev = pd.DatetimeIndex(event_date)
    pos = periods.searchsorted(ev, side="right") - 1
    ok = ev.notna() & (pos >= 0)
    ok &= np.asarray(ev < ends[np.clip(pos, 0, len(periods) - 1)])
    starts = periods[np.clip(pos, 0, len(periods) - 1)]
    return pd.Series(np.where(ok, starts, pd.NaT), index=event_date.index,
                     dtype="datetime64[ns]")
