"""The simulated text has its own random stream: changing the titles changes no other column.

``simulate_marketplace`` draws titles and skills from the text stream only (one of its twelve
``SeedSequence`` children), so the job posts' non-text columns, the contracts and the truth do
not depend on the title vocabulary. The digest below was produced on commit 67d4d22 (the
simulator before the technology titles were rewritten for issue 12, item 4) by running
``_non_text_digest(la.simulate_marketplace(seed=3, n_posts=20_000))`` with that commit's
laborai (the same digest came out of the main checkout at 67d4d22); any later change to the text generator must leave it unchanged.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

import laborai as la

TEXT_COLUMNS = ("title", "skills")
#: Digest of the non-text columns on commit 67d4d22 (see the module docstring).
DIGEST_67D4D22 = "c11290590f6ce9866090190463b9073d833c905f6e066ca7860fb183c2a92afa"


def _column_bytes(s: pd.Series) -> bytes:
    """Raw bytes of one column: little-endian buffers for numbers, bools and datetimes (NaN
    canonical), and the values joined by U+001F (missing as U+001E) for anything else."""
    dtype = s.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biufmM":
        a = s.to_numpy()
        if dtype.kind in "mM":
            a = a.view(np.int64)
        if dtype.kind == "f":
            a = np.where(np.isnan(a), np.nan, a)
        return dtype.str.encode() + np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")
                                                                    ).tobytes()
    vals = ["\x1e" if pd.isna(v) else str(v) for v in s.tolist()]
    return b"str:" + "\x1f".join(vals).encode("utf-8")


def _non_text_digest(m: la.Marketplace) -> str:
    h = hashlib.sha256()
    for name, frame in (("job_posts", m.job_posts.drop(columns=list(TEXT_COLUMNS))),
                        ("contracts", m.contracts), ("truth", m.truth)):
        h.update(f"{name}\x1d{len(frame)}\x1d{','.join(frame.columns)}\x1d".encode())
        for c in frame.columns:
            h.update(_column_bytes(frame[c]))
            h.update(b"\x1d")
    return h.hexdigest()


def test_non_text_columns_are_those_of_the_base_commit() -> None:
    m = la.simulate_marketplace(seed=3, n_posts=20_000)
    assert _non_text_digest(m) == DIGEST_67D4D22


def test_text_does_not_move_the_other_columns() -> None:
    with_text = la.simulate_marketplace(seed=4, n_posts=10_000)
    without = la.simulate_marketplace(seed=4, n_posts=10_000, text=False)
    assert (without.job_posts["title"] == "").all()
    assert with_text.job_posts["title"].str.len().min() > 0
    assert _non_text_digest(with_text) == _non_text_digest(without)
    pd.testing.assert_frame_equal(with_text.job_posts.drop(columns=list(TEXT_COLUMNS)),
                                  without.job_posts.drop(columns=list(TEXT_COLUMNS)))
    pd.testing.assert_frame_equal(with_text.contracts, without.contracts)
