"""Deterministic fingerprints of inputs, recorded in results and manifests."""

from __future__ import annotations

import hashlib

import pandas as pd


def frame_hash(df: pd.DataFrame) -> str:
    """Return a SHA-256 hex digest of a DataFrame's columns, dtypes and values.

    The digest is independent of the index and stable across runs and machines for the same
    data (it uses pandas' value hashing, which is seedless).

    Parameters
    ----------
    df : pandas.DataFrame
        Frame to fingerprint.

    Returns
    -------
    str
        64 hexadecimal characters.
    """
    h = hashlib.sha256()
    h.update("\x1f".join(map(str, df.columns)).encode())
    h.update("\x1f".join(map(str, df.dtypes)).encode())
    values = pd.util.hash_pandas_object(df, index=False).to_numpy()
    h.update(values.tobytes())
    return h.hexdigest()
