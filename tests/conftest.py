"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from _shared import DATA_DIR


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared real/reference data directory (LABORAI_DATA_DIR or ../shared/data).

    Reference tests fail, never skip, when it is absent.
    """
    path = DATA_DIR
    if not path.is_dir():
        pytest.fail(f"reference data directory {path} not found; set LABORAI_DATA_DIR to the "
                    "shared data folder (see README).")
    return path


@pytest.fixture(scope="session")
def small_market():  # type: ignore[no-untyped-def]
    """A small simulated marketplace shared by fast tests (do not mutate)."""
    import laborai as la

    return la.simulate_marketplace(seed=11, n_posts=40_000)
