"""Shared plumbing of the loaders: verified read, in-process parse cache, validation helpers."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from laborai.datasets._fetch import data_path
from laborai.datasets._sources import Source, citation, get_source
from laborai.errors import DataValidationError

__all__ = [
    "check_columns",
    "check_no_missing",
    "check_unique",
    "load",
    "parse_dates",
    "slugify",
]

Parser = Callable[[Path, Source], pd.DataFrame]


@functools.lru_cache(maxsize=32)
def _parse_cached(path: str, sha256: str, key: str, parser: Parser) -> pd.DataFrame:
    # ``sha256`` is part of the cache key on purpose: a file replaced by another verified
    # version (new pin) is parsed again.
    return parser(Path(path), get_source(key))


def load(key: str, parser: Parser) -> pd.DataFrame:
    """Resolve and verify the file of ``key``, parse it once per process, return a fresh copy.

    The returned frame carries ``attrs`` with ``source`` (pinned URL), ``source_key``,
    ``repository``, ``commit``, ``licence``, ``sha256`` and ``citation``.
    """
    src = get_source(key)
    path = data_path(key)  # verifies size and SHA-256 on every call
    out = _parse_cached(str(path), src.sha256, key, parser).copy(deep=True)
    out.attrs = {
        "source": src.url,
        "source_key": src.key,
        "repository": src.repository,
        "commit": src.commit,
        "licence": src.licence,
        "sha256": src.sha256,
        "citation": citation(src.citation),
    }
    return out


def clear_cache() -> None:
    """Forget every parsed file (the next call parses again)."""
    _parse_cached.cache_clear()


def _show(values: Sequence[object], k: int = 5) -> str:
    return ", ".join(repr(v) for v in list(values)[:k])


def check_columns(df: pd.DataFrame, expected: Sequence[str], path: Path) -> None:
    """Raise DataValidationError if a column of ``expected`` is missing from ``df``."""
    missing = [c for c in expected if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"File {str(path)!r}: missing column(s) {_show(missing)}; expected columns "
            f"{_show(expected, len(expected))}, found {_show(list(df.columns), len(df.columns))}. "
            "The file does not have the pinned layout; replace it with the pinned version."
        )


def check_no_missing(df: pd.DataFrame, columns: Sequence[str], path: Path) -> None:
    """Raise DataValidationError if any of ``columns`` has a missing value."""
    for col in columns:
        bad = df.index[df[col].isna()]
        if len(bad):
            raise DataValidationError(
                f"File {str(path)!r}, column {col!r}: rule 'no missing values' broken in "
                f"{len(bad)} row(s); first offending row numbers: {_show(bad.tolist())}."
            )


def check_unique(df: pd.DataFrame, keys: Sequence[str], path: Path) -> None:
    """Raise DataValidationError if rows are not unique on ``keys``."""
    dup = df.duplicated(list(keys), keep=False)
    if dup.any():
        first = df.loc[dup, list(keys)].head(3).to_dict("records")
        raise DataValidationError(
            f"File {str(path)!r}: rule 'one row per {', '.join(keys)}' broken in "
            f"{int(dup.sum())} row(s); first duplicates: {first}."
        )


def parse_dates(values: pd.Series, column: str, path: Path) -> pd.Series:
    """Parse ISO ``YYYY-MM-DD`` strings; raise DataValidationError naming bad values."""
    parsed = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")
    bad = values[parsed.isna() & values.notna()]
    if len(bad):
        raise DataValidationError(
            f"File {str(path)!r}, column {column!r}: rule 'date as YYYY-MM-DD' broken in "
            f"{len(bad)} row(s); first offending values: {_show(bad.tolist())}."
        )
    return parsed


_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def slugify(name: str) -> str:
    """Return a snake_case identifier for a sector name ("Arts & Entertainment" -> "arts_and_entertainment")."""
    return _NON_ALNUM.sub("_", name.lower().replace("&", " and ")).strip("_")
