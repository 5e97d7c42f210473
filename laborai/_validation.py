"""Small helpers for validating options (one runtime check per ``Literal`` option)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from laborai.errors import OptionError


def check_option(name: str, value: Any, allowed: Iterable[Any]) -> None:
    """Raise :class:`OptionError` unless ``value`` is one of ``allowed``.

    Parameters
    ----------
    name : str
        Name of the argument, used in the message.
    value : Any
        Value passed by the user.
    allowed : iterable
        Allowed values, listed in the message in the order given.

    Raises
    ------
    OptionError
        ``"{name} must be one of 'a', 'b'; got 'c'."``
    """
    allowed = tuple(allowed)
    if value not in allowed:
        listed = ", ".join(repr(a) for a in allowed)
        raise OptionError(f"{name} must be one of {listed}; got {value!r}.")


def check_frame_columns(
    data: Any,
    roles: dict[str, str],
    *,
    caller: str,
    allow_missing: Iterable[str] = (),
    hint: str = "Drop or impute these rows explicitly",
) -> None:
    """Check that ``data`` is a DataFrame holding every role's column with no missing values.

    Parameters
    ----------
    data : Any
        The user's input.
    roles : dict of str to str
        Argument name (e.g. ``"yname"``) to column name.
    caller : str
        Public function name, used in the fix-it hint (e.g. ``"bacon"``).
    allow_missing : iterable of str
        Roles whose column may hold missing values (e.g. a never-treated cohort as NaN).
    hint : str
        First words of the fix-it hint for missing values.

    Raises
    ------
    DataValidationError
        ``"yname='y' is not a column of data; available columns: [...]"`` or
        ``"column 'y' (yname) has 3 missing values (rule: no missing values; ...)"``.
    """
    import pandas as pd

    from laborai.errors import DataValidationError

    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(
            f"data must be a pandas DataFrame; got {type(data).__name__}. "
            "Convert it with pandas.DataFrame(...) first."
        )
    skip = set(allow_missing)
    for role, col in roles.items():
        if col not in data.columns:
            raise DataValidationError(
                f"{role}={col!r} is not a column of data; available columns: "
                f"{list(map(str, data.columns))[:20]}. Pass the name of an existing column."
            )
        if role in skip:
            continue
        miss = data[col].isna()
        if miss.any():
            raise DataValidationError(
                f"column {col!r} ({role}) has {int(miss.sum())} missing values (rule: no "
                f"missing values; first offending rows: {list(data.index[miss][:5])}). "
                f"{hint} before calling {caller}()."
            )


def check_unique_unit_period(data: Any, idname: str, tname: str) -> None:
    """Raise DataValidationError unless (idname, tname) identifies the rows of ``data`` uniquely."""
    from laborai.errors import DataValidationError

    dup = data.duplicated([idname, tname], keep=False)
    if dup.any():
        ex = data.loc[dup, [idname, tname]].head(3).to_numpy().tolist()
        raise DataValidationError(
            f"({idname!r}, {tname!r}) must identify rows uniquely; {int(dup.sum())} rows are "
            f"duplicates, e.g. {ex}. Aggregate to one row per unit and period first."
        )


def binary_column(data: Any, col: str, where: str) -> Any:
    """Column ``col`` of ``data`` as a float Series after checking that every value is 0 or 1
    (DataValidationError naming the column, the count and the first offending values)."""
    import pandas as pd

    from laborai.errors import DataValidationError

    v = pd.to_numeric(data[col], errors="coerce")
    bad = ~v.isin([0, 1])
    if bad.any():
        raise DataValidationError(
            f"{where}: column {col!r} must be 0/1; {int(bad.sum())} row(s) are not "
            f"(first: {data.loc[bad, col].head(5).tolist()})."
        )
    return v.astype(float)


def unit_level_binary(data: Any, col: str, idname: str, where: str) -> Any:
    """:func:`binary_column`, also constant within each ``idname`` unit (a unit-level
    indicator); DataValidationError otherwise."""
    from laborai.errors import DataValidationError

    v = binary_column(data, col, where)
    nun = v.groupby(data[idname], sort=False).nunique()
    if (nun > 1).any():
        raise DataValidationError(
            f"{where}: column {col!r} must be constant within unit {idname!r}; "
            f"{int((nun > 1).sum())} unit(s) vary (first: {list(nun.index[nun > 1][:5])})."
        )
    return v

def resolve_seed(seed: Any, *, name: str = "seed") -> int:
    """The seed a stochastic step uses, recorded in its result.

    ``None`` draws fresh entropy from the operating system (so independent calls differ) and
    returns that entropy as an int so that the result can record it and the call can be
    repeated exactly; an int is returned unchanged. Every laborai function with a random step
    defaults to ``seed=0``, so identical calls give identical results.

    Raises
    ------
    OptionError
        If ``seed`` is not a non-negative int or None.
    """
    import numpy as np

    if seed is None:
        return int(np.random.SeedSequence().entropy) % (2**63)  # type: ignore[arg-type]
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        raise OptionError(f"{name} must be a non-negative int or None; got {seed!r}.")
    return int(seed)


def check_time_column(data: Any, tname: str, *, where: str) -> None:
    """Refuse period columns whose values laborai would misread.

    pandas ``Period`` values (and object columns holding them) compare and subtract
    differently from timestamps and integers; mixed with ``NaT``/``NaN`` event dates they turn
    never-treated units into treated ones. Convert them with ``.dt.to_timestamp()`` first.

    Raises
    ------
    DataValidationError
        For a ``Period`` column or an object column holding ``Period`` values.
    """
    import pandas as pd

    from laborai.errors import DataValidationError

    col = data[tname]
    is_period = isinstance(col.dtype, pd.PeriodDtype)
    if not is_period and col.dtype == object:
        first = col.dropna().head(20)
        is_period = any(isinstance(v, pd.Period) for v in first)
    if is_period:
        raise DataValidationError(
            f"{where}: column {tname!r} holds pandas Period values (rule: periods are "
            f"integers or timestamps; {len(col)} row(s)); convert them with "
            f"data[{tname!r}].dt.to_timestamp() (timestamps) or to integers first."
        )
