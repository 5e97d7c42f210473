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
