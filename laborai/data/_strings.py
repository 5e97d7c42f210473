"""String columns built directly as Arrow arrays (pandas' ``str`` dtype), without per-row work.

Converting a NumPy ``str`` array (or a list of Python strings) to pandas' Arrow-backed ``str``
dtype visits every value; for the simulator's identifiers that conversion, and the integer to
text formatting before it, took about half of :func:`laborai.simulate_marketplace`. Here the
UTF-8 bytes and the offsets of the Arrow array are written with NumPy and wrapped as they are.
The values are exactly those of the per-row Python formatting (tested in
``tests/test_simulate_identity.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from laborai.errors import OptionError

__all__ = ["empty_strings", "label_take", "to_str", "zero_padded"]

_POW10 = np.array([10 ** j for j in range(20)], dtype=np.uint64)  # 1 .. 1e19
_ZERO = ord("0")
#: The four ASCII digits of 0000 .. 9999, one row each.
_DIGITS4 = np.array([list(f"{i:04d}".encode()) for i in range(10_000)], dtype=np.uint8)
_DIGITS4_U32 = _DIGITS4.view(np.uint32).ravel()  # the same, one 4-byte word per number


def _wrap(offsets: np.ndarray, data: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A pandas ``str`` array over Arrow ``large_string`` buffers (int64 offsets, UTF-8)."""
    n = offsets.size - 1
    arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    return pd.array(arr, dtype="str")


def zero_padded(prefix: str, *fields: tuple[np.ndarray, int]) -> pd.api.extensions.ExtensionArray:
    """``prefix`` followed by zero-padded integers, as a pandas ``str`` array.

    Row ``i`` is ``f"{prefix}{k1[i]:0{w1}d}{k2[i]:0{w2}d}..."`` for ``fields = ((k1, w1), (k2,
    w2), ...)``: each integer takes at least its width and more digits where it needs them
    (like the f-string), a negative integer starts with ``-`` inside its width.

    Parameters
    ----------
    prefix : str
        Text before the numbers (may be empty).
    *fields : tuple of (array of int, int)
        Integer arrays of one length and their minimum widths (>= 0).

    Returns
    -------
    pandas.api.extensions.ExtensionArray
        Dtype ``str`` (Arrow ``large_string``), one value per row, no missing values.

    Examples
    --------
    >>> import numpy as np
    >>> from laborai.data._strings import zero_padded
    >>> list(zero_padded("F", (np.array([3, 12]), 2), (np.array([7, 1234567]), 6)))
    ['F03000007', 'F121234567']
    """
    if not fields:
        raise OptionError("zero_padded needs at least one (integers, width) field.")
    pre = np.frombuffer(prefix.encode("utf-8"), dtype=np.uint8)
    ks = [np.asarray(k) for k, _ in fields]
    n = ks[0].size
    for k, (_, w) in zip(ks, fields, strict=True):
        if k.ndim != 1 or k.size != n or not (k.size == 0 or np.issubdtype(k.dtype, np.integer)):
            raise OptionError("zero_padded: every field must be a 1-d integer array of one "
                              f"length ({n}); got shape {k.shape}, dtype {k.dtype}.")
        if int(w) < 0:
            raise OptionError(f"zero_padded: widths must be >= 0; got {w}.")
    widths = [int(w) for _, w in fields]
    if n and all(int(k.min()) >= 0 and int(k.max()) < 10 ** w for k, w in zip(ks, widths,
                                                                           strict=True)):
        return _fixed_width(pre, ks, widths)
    return _any_width(pre, ks, widths)


def _fixed_width(pre: np.ndarray, ks: list[np.ndarray],
                 widths: list[int]) -> pd.api.extensions.ExtensionArray:
    """Every integer non-negative and within its width: rows of one length, a byte matrix."""
    n = ks[0].size
    row = pre.size + sum(widths)
    data = np.empty(n * row, dtype=np.uint8)
    mat = data.reshape(n, row)
    mat[:, :pre.size] = pre
    col = pre.size
    for k, w in zip(ks, widths, strict=True):
        rest = k.astype(np.int64, copy=False)
        end = col + w
        while end > col:  # four digits at a time, from the right
            step = min(4, end - col)
            rest, quad = np.divmod(rest, 10_000)
            mat[:, end - step:end] = _DIGITS4_U32[quad].view(np.uint8).reshape(n, 4)[:, 4 - step:]
            end -= step
        col += w
    return _wrap(np.arange(n + 1, dtype=np.int64) * row, data)


def _any_width(pre: np.ndarray, ks: list[np.ndarray],
               widths: list[int]) -> pd.api.extensions.ExtensionArray:
    """The general case: negative integers and integers wider than their width."""
    n = ks[0].size
    mags, negs, lens = [], [], []
    for k, w in zip(ks, widths, strict=True):
        k64 = k.astype(np.int64, copy=False)
        neg = k64 < 0
        # magnitude as uint64 (also right for the most negative int64)
        mag = np.where(neg, (~k64.view(np.uint64)) + np.uint64(1), k64.view(np.uint64))
        ndig = np.maximum(1, np.searchsorted(_POW10, mag, side="right"))
        lens.append(np.maximum(w, ndig + neg))
        mags.append(mag)
        negs.append(neg)
    row_len = pre.size + np.sum(lens, axis=0, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(row_len, out=offsets[1:])
    data = np.empty(int(offsets[-1]), dtype=np.uint8)
    starts = offsets[:-1]
    for j, b in enumerate(pre.tolist()):
        data[starts + j] = b
    pos = starts + pre.size  # where the current field starts, by row
    for mag, neg, ln in zip(mags, negs, lens, strict=True):
        last = pos + ln - 1
        rest = mag.copy()
        for j in range(int(ln.max()) if n else 0):  # digit j from the right, '0' when used up
            sel = j < ln
            data[(last - j)[sel]] = _ZERO + (rest[sel] % 10).astype(np.uint8)
            rest //= np.uint64(10)
        if neg.any():
            data[pos[neg]] = ord("-")
        pos = pos + ln
    return _wrap(offsets, data)


def label_take(labels: Sequence[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``labels[codes]`` as a pandas ``str`` array; code ``-1`` gives a missing value (NaN)."""
    return pd.array(list(labels), dtype="str").take(np.asarray(codes), allow_fill=True)


def empty_strings(n: int) -> pd.api.extensions.ExtensionArray:
    """``n`` empty strings as a pandas ``str`` array."""
    return _wrap(np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.uint8))


def to_str(values: Sequence[str] | np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Python strings (a list or an object array, no missing values) as a pandas ``str`` array."""
    arr = pa.array(values, type=pa.large_string(), from_pandas=True)
    return pd.array(arr, dtype="str")
