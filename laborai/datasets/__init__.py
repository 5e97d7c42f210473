"""Real public data with pinned provenance, and the LLM-exposure crosswalks.

Indeed Hiring Lab series, the "GPTs are GPTs" occupation exposure, and a real snapshot of
Upwork job posts (:func:`upwork_snapshot`, January 2023; no licence stated by its source).

Loaders return plain DataFrames whose ``attrs`` carry ``source`` (the pinned URL),
``citation``, ``licence`` and ``sha256``. Files are looked up in ``$LABORAI_DATA_DIR``, then in
the cache (``$LABORAI_CACHE_DIR`` or ``~/.cache/laborai``), then downloaded from the pinned
commit (unless ``LABORAI_OFFLINE=1``); size and SHA-256 are always verified before parsing.

Examples
--------
>>> import laborai.datasets as ds
>>> ds.citation("indeed").startswith("Indeed Hiring Lab")
True
>>> len(ds.MARKETPLACE_CATEGORIES)
12
"""

from __future__ import annotations

from laborai.datasets._fetch import cache_dir, data_path
from laborai.datasets._sources import Source, citation, sources
from laborai.datasets.exposure import (
    MARKETPLACE_CATEGORIES,
    MEASURES,
    category_exposure,
    indeed_onet_crosswalk,
    marketplace_onet_crosswalk,
    sector_exposure,
)
from laborai.datasets.gpts import EXPOSURE_COLUMNS, gpts_exposure
from laborai.datasets.indeed import (
    SECTOR_COUNTRIES,
    indeed_aggregate_postings,
    indeed_ai_share,
    indeed_sector_postings,
    indeed_sector_title_examples,
)
from laborai.datasets.upwork import UPWORK_COLUMNS, UPWORK_SOURCES, upwork_snapshot

__all__ = [
    "EXPOSURE_COLUMNS",
    "MARKETPLACE_CATEGORIES",
    "MEASURES",
    "SECTOR_COUNTRIES",
    "UPWORK_COLUMNS",
    "UPWORK_SOURCES",
    "Source",
    "cache_dir",
    "category_exposure",
    "citation",
    "data_path",
    "gpts_exposure",
    "indeed_aggregate_postings",
    "indeed_ai_share",
    "indeed_onet_crosswalk",
    "indeed_sector_postings",
    "indeed_sector_title_examples",
    "marketplace_onet_crosswalk",
    "sector_exposure",
    "sources",
    "upwork_snapshot",
]
