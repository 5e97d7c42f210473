"""Deterministic fingerprints of inputs, recorded in results and manifests."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import pandas as pd

__all__ = ["frame_hash", "hashing_in_background"]

_VERSION = b"laborai-frame-hash-2\x1f"
_LOCK = threading.Lock()
_PENDING: dict[int, tuple[pd.DataFrame, Future[str]]] = {}
_POOL: ThreadPoolExecutor | None = None


def _column_bytes(s: pd.Series) -> memoryview | bytes:
    """The bytes fingerprinted for one column: the raw buffer of a numpy column (NaN made
    canonical), pandas' seedless value hash for anything else (strings, categoricals, ...)."""
    dtype = s.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
        a = s.to_numpy()
        if dtype.kind in "mM":
            a = a.view(np.int64)
        elif dtype.kind in "fc":
            nan = np.isnan(a)
            if nan.any():
                a = np.where(nan, np.nan, a)
        a = np.ascontiguousarray(a)
        return memoryview(a).cast("B")  # type: ignore[arg-type]
    return pd.util.hash_pandas_object(s, index=False).to_numpy().tobytes()


def _frame_hash(df: pd.DataFrame) -> str:
    h = hashlib.sha256()
    h.update(_VERSION)
    h.update("\x1f".join(map(str, df.columns)).encode())
    h.update(b"\x1e")
    h.update("\x1f".join(map(str, df.dtypes)).encode())
    h.update(b"\x1e" + str(len(df)).encode() + b"\x1e")
    for j in range(df.shape[1]):
        h.update(_column_bytes(df.iloc[:, j]))
        h.update(b"\x1e")
    return h.hexdigest()


def frame_hash(df: pd.DataFrame) -> str:
    """Return a SHA-256 hex digest of a DataFrame's columns, dtypes and values.

    The digest is independent of the index and stable across runs and machines for the same
    data: numeric, boolean and datetime columns contribute their raw little-endian buffers
    (every NaN written as the same NaN; one pass at hashlib's speed, no per-value hashing),
    other columns pandas' seedless value hash.

    Parameters
    ----------
    df : pandas.DataFrame
        Frame to fingerprint.

    Returns
    -------
    str
        64 hexadecimal characters.

    Examples
    --------
    >>> import pandas as pd
    >>> from laborai._hashing import frame_hash
    >>> a = frame_hash(pd.DataFrame({"x": [1.0, 2.0]}))
    >>> a == frame_hash(pd.DataFrame({"x": [1.0, 2.0]}, index=[5, 6])), len(a)
    (True, 64)
    """
    with _LOCK:
        pending = _PENDING.get(id(df))
    if pending is not None and pending[0] is df:
        return pending[1].result()
    return _frame_hash(df)


@contextmanager
def hashing_in_background(df: pd.DataFrame) -> Iterator[None]:
    """Compute ``frame_hash(df)`` in a worker thread while the block runs.

    Inside the block :func:`frame_hash` of this very object waits for (and returns) the
    background digest, so an estimator can overlap the hash of its input with its numerics
    (hashlib releases the GIL). The frame must not be modified inside the block.
    """
    global _POOL
    with _LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="laborai-hash")
        fut = _POOL.submit(_frame_hash, df)
        _PENDING[id(df)] = (df, fut)
    try:
        yield
    finally:
        with _LOCK:
            _PENDING.pop(id(df), None)
