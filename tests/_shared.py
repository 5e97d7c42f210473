"""Paths and fixtures shared by the test modules (``from _shared import ...``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: The shared real/reference data directory: LABORAI_DATA_DIR, else ../shared/data.
DATA_DIR = Path(os.environ.get("LABORAI_DATA_DIR")
                or Path(__file__).resolve().parents[2] / "shared" / "data")


def isolate_data_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Read from the shared data, cache into ``tmp_path``, and never touch the network."""
    from laborai.datasets import _fetch

    monkeypatch.setenv("LABORAI_DATA_DIR", str(DATA_DIR))
    monkeypatch.setenv("LABORAI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("LABORAI_OFFLINE", "1")

    def _no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("tests must not touch the network")

    monkeypatch.setattr(_fetch.urllib.request, "urlopen", _no_network)
