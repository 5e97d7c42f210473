"""The pinned sources table (``laborai/_pkgdata/sources.toml``) and citations."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pandas as pd

from laborai.errors import OptionError

__all__ = ["Source", "citation", "get_source", "load_citations", "load_sources", "sources"]

_RAW_URL = "https://raw.githubusercontent.com/{repository}/{commit}/{path}"


@dataclass(frozen=True)
class Source:
    """One pinned public file: where it lives, where it comes from and what it must hash to.

    Attributes
    ----------
    key : str
        Identifier used by the loaders (e.g. ``"indeed_sector_US"``).
    relative_path : str
        Path under ``LABORAI_DATA_DIR`` and under the cache directory.
    repository : str
        GitHub ``owner/name`` of the source repository.
    commit : str
        Pinned commit (40 hexadecimal characters).
    path_in_source : str
        Path of the file inside the source repository.
    licence : str
        SPDX-like licence identifier of the data.
    bytes : int
        Expected size in bytes.
    sha256 : str
        Expected SHA-256 hex digest.
    citation : str
        Key of the citation in the ``[citations]`` table (``"indeed"`` or ``"gpts"``).
    """

    key: str
    relative_path: str
    repository: str
    commit: str
    path_in_source: str
    licence: str
    bytes: int
    sha256: str
    citation: str

    @property
    def url(self) -> str:
        """Raw download URL pinned to :attr:`commit`."""
        return _RAW_URL.format(
            repository=self.repository, commit=self.commit, path=self.path_in_source
        )

    def __repr__(self) -> str:
        return f"Source(key={self.key!r}, relative_path={self.relative_path!r})"


@functools.lru_cache(maxsize=1)
def _read_toml() -> dict[str, Any]:
    text = resources.files("laborai").joinpath("_pkgdata", "sources.toml").read_text("utf-8")
    return tomllib.loads(text)


def load_sources() -> dict[str, Source]:
    """Return every pinned source, keyed by its identifier.

    Returns
    -------
    dict of str to Source
        In the order of ``sources.toml``.
    """
    table = _read_toml()["sources"]
    return {key: Source(key=key, **fields) for key, fields in table.items()}


def load_citations() -> dict[str, dict[str, str]]:
    """Return the ``[citations]`` table of ``sources.toml`` (``short``, ``licence``, ``text``)."""
    return {k: dict(v) for k, v in _read_toml()["citations"].items()}


def get_source(key: str) -> Source:
    """Return the :class:`Source` called ``key``.

    Raises
    ------
    OptionError
        If ``key`` is not in the sources table; the message lists the known keys.
    """
    table = load_sources()
    if key not in table:
        listed = ", ".join(repr(k) for k in table)
        raise OptionError(f"source key must be one of {listed}; got {key!r}.")
    return table[key]


def citation(name: str = "indeed") -> str:
    """Return the citation text of a public dataset family or of one pinned file.

    Parameters
    ----------
    name : str, default "indeed"
        ``"indeed"`` (Indeed Hiring Lab, CC BY 4.0), ``"gpts"`` (Eloundou, Manning, Mishkin &
        Rock 2024, "GPTs are GPTs", Science), or a source key from :func:`sources` such as
        ``"indeed_sector_US"``; for a file the citation names the pinned repository and commit.

    Returns
    -------
    str
        A citation ready to paste into a paper or a figure note.

    Raises
    ------
    OptionError
        If ``name`` is neither a citation family nor a source key.

    Notes
    -----
    Indeed Hiring Lab data are published under CC BY 4.0, which requires attribution; the
    GPTs-are-GPTs occupation file is MIT licensed. Cite the paper whenever exposure scores are
    used, including through :func:`laborai.datasets.sector_exposure`.

    References
    ----------
    Eloundou, T., Manning, S., Mishkin, P., and Rock, D. (2024). GPTs are GPTs: Labor market
    impact potential of LLMs. *Science*, 384(6702), 1306-1308.

    Examples
    --------
    >>> from laborai.datasets import citation
    >>> citation("gpts").startswith("Eloundou")
    True
    """
    cites = load_citations()
    if name in cites:
        return cites[name]["text"]
    table = load_sources()
    if name in table:
        src = table[name]
        return (
            f"{cites[src.citation]['text']} File {src.path_in_source} of {src.repository} "
            f"at commit {src.commit} (sha256 {src.sha256})."
        )
    listed = ", ".join(repr(k) for k in [*cites, *table])
    raise OptionError(f"citation name must be one of {listed}; got {name!r}.")


def sources() -> pd.DataFrame:
    """Return the pinned sources table as a DataFrame.

    Returns
    -------
    pandas.DataFrame
        One row per file with columns ``key, relative_path, repository, commit,
        path_in_source, licence, bytes, sha256, citation, url``.

    Notes
    -----
    This is the provenance record of every public file laborai reads: the loaders accept a
    file only if its size and SHA-256 equal the values in this table.

    Examples
    --------
    >>> from laborai.datasets import sources
    >>> sources().loc[lambda d: d.key == "gpts_occ_level", "licence"].item()
    'MIT'
    """
    rows = [
        {
            "key": s.key,
            "relative_path": s.relative_path,
            "repository": s.repository,
            "commit": s.commit,
            "path_in_source": s.path_in_source,
            "licence": s.licence,
            "bytes": s.bytes,
            "sha256": s.sha256,
            "citation": s.citation,
            "url": s.url,
        }
        for s in load_sources().values()
    ]
    return pd.DataFrame(rows)
