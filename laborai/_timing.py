"""One timing rule: from which period of the panel's grid a unit with an event date is treated.

Every estimator that turns event dates into treated periods (``add_event_dates``, ``cohorts``,
``event_study``, ``estimate_effects``, ``compare_estimators``, ``att_gt``, ``sun_abraham``,
``sdid``, ``bacon``) calls :func:`event_positions`, so one event gives the same event time
everywhere. See ``docs/estimators/timing.md``.

Rules
-----
``"first_full"`` (default)
    A unit is treated from the first period that *starts on or after* its event date: the first
    period fully exposed. With monthly periods ChatGPT (30 Nov 2022) treats December 2022
    onwards; an event on the 1st of a month treats that month.
``"containing"``
    A unit is treated from the start of the period that *contains* its event date (ChatGPT:
    November 2022). A period spans from its start to the next period's start; the last period
    ends one step of the grid's frequency after its start (or spans the widest gap on an
    irregular grid).

For numeric (integer) periods both rules mean: the first period ``t >= event``.
"""

from __future__ import annotations

import datetime
import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd

from laborai._validation import check_frame_columns, check_option, check_unique_unit_period
from laborai.errors import DataValidationError

__all__ = ["TIMINGS", "Timing", "event_positions", "first_treated_period"]

TIMINGS = ("first_full", "containing")
Timing = Literal["first_full", "containing"]


def is_datetime_like(values: Any) -> bool:
    """True when ``values`` (array-like) hold datetimes (datetime64 dtype or Timestamp objects)."""
    dtype = values.dtype if isinstance(values, (pd.Series, pd.Index)) else np.asarray(values).dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return True
    if dtype.kind == "O":
        first = pd.Series(np.asarray(values, dtype=object)).dropna().head(50)
        return len(first) > 0 and all(
            isinstance(v, (pd.Timestamp, np.datetime64, datetime.date)) for v in first
        )
    return False


def _all_missing(values: Any) -> bool:
    return bool(pd.isna(pd.Series(np.asarray(values, dtype=object))).all())


def _as_ns(values: Any, what: str) -> np.ndarray:
    """datetime64[ns] array (tz-naive) of ``values``; DataValidationError when not dates."""
    vals = values if isinstance(values, (pd.Series, pd.Index)) else pd.Index(np.asarray(values))
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(vals))
    except (TypeError, ValueError) as exc:
        raise DataValidationError(
            f"{what} must hold dates; got {list(np.asarray(vals, dtype=object))[:3]!r}."
        ) from exc
    if idx.tz is not None:
        idx = idx.tz_convert(None)
    return np.asarray(idx.astype("datetime64[ns]"))


def _as_float(values: Any, what: str) -> np.ndarray:
    try:
        return np.asarray(pd.to_numeric(pd.Series(np.asarray(values, dtype=object)),
                                        errors="raise"), dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(
            f"{what} must hold numbers like the periods; got {list(values)[:3]!r}."
        ) from exc


def _grid(periods: Any) -> tuple[np.ndarray, bool]:
    """Sorted period grid as datetime64[ns] or float, and whether it holds dates."""
    if isinstance(periods, pd.PeriodIndex) or (
        isinstance(periods, (pd.Series, pd.Index)) and isinstance(periods.dtype, pd.PeriodDtype)
    ):
        raise DataValidationError(
            "periods hold pandas Period values (rule: periods are integers or timestamps); "
            "convert them with .to_timestamp() or to integers first."
        )
    if is_datetime_like(periods):
        grid = _as_ns(periods, "periods")
        if np.isnat(grid).any():
            raise DataValidationError("periods must not contain NaT.")
    else:
        grid = _as_float(periods, "periods")
        if np.isnan(grid).any():
            raise DataValidationError("periods must not contain missing values.")
    if len(grid) == 0:
        raise DataValidationError("periods must not be empty.")
    if len(grid) > 1 and not np.all(grid[1:] > grid[:-1]):
        raise DataValidationError(
            "periods must be sorted and unique (pass numpy.unique(data[tname]))."
        )
    return grid, grid.dtype.kind == "M"


def _events(event_dates: Any, is_dt: bool) -> tuple[np.ndarray, np.ndarray]:
    """Event values on the grid's scale and a mask of missing (never-treated) events."""
    if isinstance(event_dates, (pd.Series, pd.Index)):
        raw: Any = event_dates
    else:
        raw = np.asarray(event_dates)
        if raw.ndim == 0:
            raw = raw.reshape(1)
    if _all_missing(raw):
        n = len(raw)
        return (np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]") if is_dt
                else np.full(n, np.nan)), np.ones(n, dtype=bool)
    ev_dt = is_datetime_like(raw)
    if is_dt and not ev_dt:
        if isinstance(raw, (pd.Series, pd.Index)) and raw.dtype.kind == "O" or (
            not isinstance(raw, (pd.Series, pd.Index)) and raw.dtype.kind in "OUS"
        ):
            # strings such as "2022-11-30"
            non_missing = pd.Series(np.asarray(raw, dtype=object)).dropna()
            if len(non_missing) and all(isinstance(v, str) for v in non_missing):
                ev = _as_ns(raw, "event dates")
                return ev, np.isnat(ev)
        raise DataValidationError(
            "event dates are numbers but the periods are dates (rule: event dates and periods "
            f"share one type; first event values: {list(np.asarray(raw, dtype=object))[:3]!r}). "
            "Pass event dates as datetimes, or use integer periods."
        )
    if not is_dt and ev_dt:
        raise DataValidationError(
            "event dates are datetimes but the periods are numbers (rule: event dates and "
            "periods share one type; first event values: "
            f"{list(np.asarray(raw, dtype=object))[:3]!r}). Pass a datetime period column "
            "(e.g. 'period' from build_panel) or numeric event periods."
        )
    if is_dt:
        ev = _as_ns(raw, "event dates")
        return ev, np.isnat(ev)
    evf = _as_float(raw, "event dates")
    return evf, np.isnan(evf)


def period_ends(grid: np.ndarray) -> np.ndarray:
    """End (exclusive) of each period of a sorted datetime64[ns] grid.

    A period ends where the next begins. When the grid has a regular frequency (inferred with
    :func:`pandas.infer_freq`, at least three periods) the last period ends one step after its
    start; otherwise it spans the widest gap between periods (one day for a single period).
    """
    periods = pd.DatetimeIndex(grid)
    freq = None
    if len(periods) >= 3:
        with warnings.catch_warnings():  # pandas 3 warns about infer_freq's return type
            warnings.simplefilter("ignore")
            freq = pd.infer_freq(periods)
    if freq is not None:
        ends = periods + pd.tseries.frequencies.to_offset(freq)
    else:
        gap = periods.to_series().diff().max() if len(periods) > 1 else pd.Timedelta(days=1)
        ends = pd.DatetimeIndex(list(periods[1:]) + [periods[-1] + gap])
    return np.asarray(ends.astype("datetime64[ns]"))


def event_positions(periods: Any, event_dates: Any, timing: str = "first_full") -> np.ndarray:
    """Position on the period grid of each unit's first treated period.

    Parameters
    ----------
    periods : array-like
        Sorted unique period values: a DatetimeIndex / datetime64 array (period starts) or a
        numeric array.
    event_dates : array-like
        One event per unit (or row): datetimes with NaT, or numbers with NaN, for never-treated.
    timing : {"first_full", "containing"}, default "first_full"
        ``"first_full"``: treated from the first period starting on or after the event date.
        ``"containing"``: treated from the start of the period containing the event date. For
        numeric periods both mean the first period ``t >= event``.

    Returns
    -------
    numpy.ndarray
        Float array, one entry per event: the integer position (0-based) of the first treated
        period; NaN when the event date is missing (never treated); ``len(periods)`` when the
        event falls after the last period (no period treated, event time still defined); 0 when
        the event falls before the first period (treated throughout; callers decide).

    Raises
    ------
    OptionError
        For a ``timing`` outside ``TIMINGS``.
    DataValidationError
        When datetimes are mixed with numbers, or the periods are not sorted and unique.

    Examples
    --------
    >>> import pandas as pd
    >>> grid = pd.date_range("2022-10-01", periods=4, freq="MS")
    >>> ev = pd.to_datetime(["2022-11-30", "2022-11-01", None])
    >>> event_positions(grid, ev).tolist()
    [2.0, 1.0, nan]
    >>> event_positions(grid, ev, timing="containing").tolist()
    [1.0, 1.0, nan]
    """
    check_option("timing", timing, TIMINGS)
    grid, is_dt = _grid(periods)
    ev, missing = _events(event_dates, is_dt)
    out = np.full(len(ev), np.nan)
    ok = ~missing
    if not ok.any():
        return out
    evo = ev[ok]
    if timing == "first_full" or not is_dt:
        pos = np.searchsorted(grid, evo, side="left").astype(float)
    else:
        ends = period_ends(grid)
        p = np.searchsorted(grid, evo, side="right") - 1
        before = p < 0
        pc = np.clip(p, 0, len(grid) - 1)
        after = evo >= ends[pc]  # only possible for the last period
        pos = np.where(before, 0, np.where(after, pc + 1, pc)).astype(float)
    out[ok] = pos
    return out


def first_treated_period(periods: Any, event_dates: Any, timing: str = "first_full") -> np.ndarray:
    """Value of each unit's first treated period on the grid (the cohort), by the same rule.

    Parameters
    ----------
    periods, event_dates, timing
        As in :func:`event_positions`.

    Returns
    -------
    numpy.ndarray
        ``datetime64[ns]`` (NaT) for datetime periods, float (NaN) for numeric periods: the first
        treated period; missing when never treated or when the event falls after the last
        period. An event before the first period gives the first period.

    Examples
    --------
    >>> import pandas as pd
    >>> grid = pd.date_range("2022-10-01", periods=4, freq="MS")
    >>> [str(v)[:10] for v in first_treated_period(grid, pd.to_datetime(["2022-11-30", None]))]
    ['2022-12-01', 'NaT']
    """
    pos = event_positions(periods, event_dates, timing)
    grid, is_dt = _grid(periods)
    valid = ~np.isnan(pos) & (pos < len(grid))
    idx = np.where(valid, np.nan_to_num(pos), 0).astype(int)
    if is_dt:
        return np.where(valid, grid[idx], np.datetime64("NaT", "ns")).astype("datetime64[ns]")
    return np.where(valid, grid[idx], np.nan)


def period_label(value: Any, grid: np.ndarray | None = None) -> str:
    """Short label of a period value: ``2022-12`` for month starts, ISO date otherwise, int-like
    numbers without decimals."""
    if isinstance(value, (np.datetime64, pd.Timestamp)):
        ts = pd.Timestamp(value)
        if pd.isna(ts):
            return "never"
        monthly = grid is None or all(pd.Timestamp(g).day == 1 for g in np.asarray(grid)[:50])
        if ts.day == 1 and ts.hour == 0 and ts.minute == 0 and monthly:
            return ts.strftime("%Y-%m")
        if ts.hour == 0 and ts.minute == 0 and ts.second == 0:
            return ts.strftime("%Y-%m-%d")
        return ts.isoformat()
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    if np.isnan(f):
        return "never"
    return str(int(f)) if f.is_integer() else repr(f)


# ---------------------------------------------------------------------------------------------
# helpers for the estimators (private)
# ---------------------------------------------------------------------------------------------


def unit_event_positions(data: pd.DataFrame, idname: str, tname: str, event_date: str,
                         timing: str, *, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-row period position, per-row first treated position (NaN never) and the grid.

    ``event_date`` must be constant within unit (DataValidationError otherwise).
    """
    check_option("timing", timing, TIMINGS)
    for role, col in (("tname", tname), ("event_date", event_date), ("idname", idname)):
        if col not in data.columns:
            raise DataValidationError(
                f"{where}: {role}={col!r} is not a column of data; available columns: "
                f"{list(map(str, data.columns))[:20]}."
            )
    grid, is_dt = _grid(np.unique(_as_ns(data[tname], f"{where}: column {tname!r}")
                                  if is_datetime_like(data[tname])
                                  else _as_float(data[tname], f"{where}: column {tname!r}")))
    tvals = _as_ns(data[tname], tname) if is_dt else _as_float(data[tname], tname)
    tpos = np.searchsorted(grid, tvals).astype(float)
    try:
        epos = event_positions(grid, data[event_date], timing)
    except DataValidationError as exc:
        raise DataValidationError(f"{where}: column {event_date!r} (event_date): {exc}") from exc
    nun = pd.Series(epos, index=data.index).groupby(data[idname].to_numpy(),
                                                     sort=False).nunique(dropna=False)
    if (nun > 1).any():
        raise DataValidationError(
            f"{where}: column {event_date!r} (event_date) must be constant within unit "
            f"{idname!r}; {int((nun > 1).sum())} unit(s) vary, e.g. "
            f"{nun.index[nun > 1][:5].tolist()}."
        )
    return tpos, epos, grid


def treated_from_events(data: pd.DataFrame, idname: str, tname: str, event_date: str,
                        timing: str, *, where: str) -> np.ndarray:
    """0/1 per row: the row's period is at or after its unit's first treated period."""
    tpos, epos, _ = unit_event_positions(data, idname, tname, event_date, timing, where=where)
    return (~np.isnan(epos) & (tpos >= np.nan_to_num(epos, nan=np.inf))).astype(np.int64)


def with_treatment_column(data: pd.DataFrame, *, idname: str, tname: str, event_date: str,
                          timing: str, where: str) -> tuple[pd.DataFrame, str]:
    """A copy of ``data`` with a 0/1 treated-period column built from ``event_date``.

    Checks the columns (missing event dates allowed: never treated) and that unit x period
    identifies rows, then adds the column under a name not already in ``data``. Returns the copy
    and the column's name.
    """
    check_frame_columns(data, {"idname": idname, "tname": tname, "event_date": event_date},
                        caller=where, allow_missing=("event_date",))
    check_unique_unit_period(data, idname, tname)
    col = f"_{where}_treated"
    while col in data.columns:
        col = "_" + col
    out = data.copy()
    out[col] = treated_from_events(data, idname, tname, event_date, timing, where=where)
    return out, col


def cohort_positions(data: pd.DataFrame, tname: str, gname: str, *, where: str
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Map a datetime period column and its cohort column to positions 1..T on the grid.

    Returns per-row period positions (int, 1..T), per-row cohort positions (float: 0 never
    treated, ``T + 1`` for a cohort after the last period) and the datetime64[ns] grid.

    ``gname`` may hold dates (NaT: never treated; a date between period starts is read with
    the default rule: the first period starting on or after it) or integer 0-based positions on
    the grid (``t`` of :func:`laborai.build_panel`; 0, NaN or inf: never treated).
    """
    tv = _as_ns(data[tname], f"{where}: column {tname!r}")
    if np.isnat(tv).any():
        raise DataValidationError(
            f"{where}: column {tname!r} (tname) has {int(np.isnat(tv).sum())} missing value(s)."
        )
    grid = np.unique(tv)
    T = len(grid)
    tpos = np.searchsorted(grid, tv).astype(np.int64) + 1
    gcol = data[gname]
    if is_datetime_like(gcol) or _all_missing(gcol):
        gv = _as_ns(gcol, f"{where}: column {gname!r}") if not _all_missing(gcol) else (
            np.full(len(gcol), np.datetime64("NaT"), dtype="datetime64[ns]"))
        never = np.isnat(gv)
        gpos = np.zeros(len(gcol))
        gpos[~never] = np.searchsorted(grid, gv[~never], side="left") + 1.0
        return tpos, gpos, grid
    if not pd.api.types.is_numeric_dtype(gcol) or pd.api.types.is_bool_dtype(gcol):
        raise DataValidationError(
            f"{where}: column {gname!r} (gname) must hold dates (NaT = never treated) or integer "
            f"positions on the period grid when {tname!r} holds dates; got dtype {gcol.dtype}."
        )
    num = gcol.to_numpy(dtype=float)
    never = np.isnan(num) | np.isinf(num) | (num == 0)
    bad = ~never & ((num < 0) | (num != np.round(num)))
    if bad.any():
        raise DataValidationError(
            f"{where}: column {gname!r} (gname) with date periods in {tname!r} must hold dates or "
            "integer 0-based positions on the sorted period grid (like build_panel's 't'; 0 = "
            f"never treated); {int(bad.sum())} row(s) have other values, e.g. "
            f"{pd.unique(num[bad])[:5].tolist()}."
        )
    gpos = np.where(never, 0.0, np.minimum(num, T) + 1.0)
    return tpos, gpos, grid
