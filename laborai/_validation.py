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
