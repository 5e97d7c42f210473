"""Progress bars on long runs: tqdm, shown in an interactive terminal only, and only when slow.

Every long-running function of laborai takes ``progress``:

- ``None`` (the default): a bar on standard error when standard error is a terminal, shown
  only once the run has taken more than :data:`DELAY` seconds, so quick calls stay silent.
  In notebooks, report builds, CI logs and pipes (standard error not a terminal) nothing is
  printed. The environment variable ``LABORAI_PROGRESS`` (``1``/``0``) turns the default on
  or off everywhere.
- ``True``: a bar from the first step, on standard error, wherever it runs.
- ``False``: never.

A bar never changes a result: it writes to standard error only and draws no random number.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from laborai.errors import OptionError

#: seconds a run with ``progress=None`` must last before its bar appears
DELAY = 2.0

__all__ = ["DELAY", "check_progress", "progress_bar", "tracked"]


def check_progress(progress: Any, where: str) -> bool | None:
    """Validate a ``progress`` argument: ``None``, ``True`` or ``False``."""
    if progress is None or isinstance(progress, (bool, np.bool_)):
        return None if progress is None else bool(progress)
    raise OptionError(f"{where}: progress must be None (a bar in a terminal when the run is "
                      f"slow), True or False; got {progress!r}.")


def _enabled(progress: bool | None) -> tuple[bool, float]:
    """Whether to draw a bar, and after how many seconds."""
    if progress is not None:
        return progress, 0.0
    env = os.environ.get("LABORAI_PROGRESS", "").strip()
    if env in ("0", "1"):
        return env == "1", DELAY
    stream = sys.stderr
    try:
        tty = bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams
        tty = False
    return tty, DELAY


class _Quiet:
    """The bar's interface when no bar is drawn."""

    def update(self, n: int = 1) -> None:
        """Do nothing."""

    def set_postfix_str(self, s: str) -> None:
        """Do nothing."""


@contextmanager
def progress_bar(total: int | None, desc: str, progress: bool | None,
                 unit: str = "it") -> Iterator[Any]:
    """A tqdm bar of ``total`` steps labelled ``desc`` (or a silent stand-in).

    Use ``bar.update(k)`` after each step. ``progress`` as documented in this module.
    """
    on, delay = _enabled(progress)
    if not on:
        yield _Quiet()
        return
    from tqdm import tqdm

    # an asked-for bar stays on screen when done; an automatic one clears its line
    bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, delay=delay,
               leave=progress is True, dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()


def tracked(items: Iterable[Any], desc: str, progress: bool | None, *, total: int | None = None,
            unit: str = "it") -> Iterator[Any]:
    """Iterate over ``items`` with a progress bar (``progress`` as in this module)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with progress_bar(total, desc, progress, unit=unit) as bar:
        for item in items:
            yield item
            bar.update(1)
