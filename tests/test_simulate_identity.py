"""The fast paths of the simulator and of build_panel equal the plain computations they replace.

Each helper is checked against the straightforward version (f-strings, ``np.lexsort``, one
boolean mask per category, the SQL conditions spelled out row by row), on edge cases; the
simulator's and the panel's own tests check the tables themselves.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import laborai as la
from laborai import panel as lp
from laborai.data import simulate as sim
from laborai.data._strings import empty_strings, label_take, to_str, zero_padded

I64 = np.iinfo(np.int64)
EDGE = np.array([0, 1, 9, 10, 99, 100, 9_999, 10_000, 99_999_999, 100_000_000, 123_456_789_012,
                 -1, -9, -10, -12_345_678, -123_456_789, I64.max, I64.min], dtype=np.int64)


def _is_plain_str(a: object) -> None:
    s = pd.Series(a)
    assert s.dtype == pd.Series(["x"], dtype="str").dtype
    assert s.array._pa_array.type == pa.large_string()  # type: ignore[attr-defined]


@pytest.mark.parametrize("width", [0, 1, 2, 4, 5, 8, 9, 25])
@pytest.mark.parametrize("prefix", ["", "P", "C-", "é"])
def test_zero_padded_equals_the_f_string(width: int, prefix: str) -> None:
    for k in (EDGE, EDGE[EDGE >= 0], np.arange(12), np.array([7]), EDGE[EDGE < 0]):
        got = zero_padded(prefix, (k, width))
        _is_plain_str(got)
        assert list(got) == [f"{prefix}{int(x):0{width}d}" for x in k]


def test_zero_padded_with_several_fields_and_dtypes() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 12, 500)
    b = rng.integers(0, 2_000_000, 500)  # some wider than their width
    assert list(zero_padded("F", (a, 2), (b, 6))) == [f"F{x:02d}{y:06d}" for x, y in
                                                      zip(a, b, strict=True)]
    rev = EDGE[::-1].copy()
    assert list(zero_padded("", (EDGE, 3), (rev, 5))) == [
        f"{int(x):03d}{int(y):05d}" for x, y in zip(EDGE, rev, strict=True)]
    for dt in (np.int8, np.uint8, np.int32, np.uint32, np.int64):
        k = np.array([0, 5, 100], dtype=dt)
        assert list(zero_padded("X", (k, 4))) == ["X0000", "X0005", "X0100"]
    assert list(zero_padded("X", (np.array([], dtype=np.int64), 3))) == []
    _is_plain_str(zero_padded("X", (np.array([], dtype=np.int64), 3)))


def test_zero_padded_refuses_bad_fields() -> None:
    with pytest.raises(la.OptionError, match="at least one"):
        zero_padded("P")
    with pytest.raises(la.OptionError, match="1-d integer array"):
        zero_padded("P", (np.array([1.5]), 2))
    with pytest.raises(la.OptionError, match="one length"):
        zero_padded("P", (np.arange(3), 2), (np.arange(4), 2))
    with pytest.raises(la.OptionError, match="widths must be >= 0"):
        zero_padded("P", (np.arange(3), -1))


def test_string_builders_match_pandas_conversion() -> None:
    e = empty_strings(4)
    _is_plain_str(e)
    pd.testing.assert_series_equal(pd.Series(e), pd.Series([""] * 4, dtype="str"))
    assert len(empty_strings(0)) == 0
    words = np.array(["a", "", "Ünïcode; x", "b"], dtype=object)
    pd.testing.assert_series_equal(pd.Series(to_str(words)), pd.Series(words).astype("str"))
    _is_plain_str(to_str(words))
    codes = np.array([2, -1, 0, 0, 1])
    got = pd.Series(label_take(("x", "yy", ""), codes))
    want = pd.Series(["", None, "x", "x", "yy"], dtype="str")
    pd.testing.assert_series_equal(got, want)


@pytest.mark.parametrize("shape", [(3, 2, 5), (1, 2, 1), (7, 2, 40), (2, 2, 3)])
def test_day_major_order_is_the_lexsort(shape: tuple[int, int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    for lam in (0.0, 0.4, 3.0):
        counts = rng.poisson(lam * rng.random(shape))
        flat = counts.ravel()
        p_sub, p_tier, p_day = np.unravel_index(np.repeat(np.arange(flat.size), flat),
                                                counts.shape)
        np.testing.assert_array_equal(sim._day_major_order(counts),
                                      np.lexsort((p_tier, p_sub, p_day)))


def _by_category_masks(q: np.ndarray, probs: np.ndarray, cat: np.ndarray, lo: np.ndarray,
                       hi: np.ndarray, u: np.ndarray) -> np.ndarray:
    out = np.empty(cat.size)
    for c in np.unique(cat):
        m = cat == c
        f_lo = np.interp(lo[m], q[c], probs)
        f_hi = np.interp(hi[m], q[c], probs)
        out[m] = np.interp(f_lo + u[m] * (f_hi - f_lo), probs, q[c])
    return out


def test_by_category_equals_one_mask_per_category() -> None:
    cal = sim._calib()
    rng = np.random.default_rng(3)
    for n in (0, 1, 17, 5_000):
        cat = rng.integers(0, cal.fixed_q.shape[0], n)
        tier = rng.integers(0, 2, n)
        lo = np.where(tier == 0, 0.0, 1000.000001)
        hi = np.where(tier == 0, 1000.000001, np.inf)
        u = rng.random(n)
        got = sim._by_category(cal.fixed_q, cal.probs, cat, lo, hi, u)
        want = _by_category_masks(cal.fixed_q, cal.probs, cat, lo, hi, u)
        np.testing.assert_array_equal(got, want)  # bit for bit


VALUES = [1.0, 0.0, -0.0, -2.5, 1e32, 9.9e31, -1e40, np.inf, -np.inf, np.nan, None, 1e300]


def _expected(v: float | None) -> tuple[bool, bool, bool]:
    """(infinite, missing with NaN as missing, negative or >= 1e32 among finite values)."""
    if v is None or np.isnan(v):
        return False, True, False
    inf = bool(np.isinf(v))
    return inf, False, (not inf) and (v < 0 or v >= 1e32)


@pytest.mark.parametrize("source", ["frame", "parquet"])
def test_money_conditions_flag_exactly_the_intended_rows(source: str, tmp_path: Path) -> None:
    """The CASE forms of the infinity and money-range tests select the rows the plain rules
    name, also from Parquet, whose statistics leave NaN out of min/max."""
    mask = np.array([v is None for v in VALUES])
    x64 = np.array([np.nan if v is None else v for v in VALUES], dtype=np.float64)
    with np.errstate(over="ignore"):
        x32 = x64.astype(np.float32)  # beyond float32's range: +-inf
    table = pa.table({"i": np.arange(len(VALUES)), "x": pa.array(x64, mask=mask),
                      "xf": pa.array(x32, mask=mask)})
    con = duckdb.connect()
    if source == "frame":
        con.register("t", table)
    else:
        pq.write_table(table, tmp_path / "t.parquet")
        con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{tmp_path / 't.parquet'}')")
    for col, sql_type, xs in (("x", "DOUBLE", x64), ("xf", "FLOAT", x32)):
        rows = con.execute(
            f"SELECT i, coalesce({lp._is_inf(col, sql_type)}, false), "
            f"{lp._no_nan(col, sql_type)} IS NULL, coalesce({lp._bad_money(col, sql_type)}, false) "
            "FROM t ORDER BY i").fetchall()
        assert len(rows) == len(VALUES)
        for i, inf, missing, money in rows:
            v = None if mask[i] else float(xs[i])
            assert (inf, missing, money) == _expected(v), (sql_type, VALUES[i])
    con.close()


def test_money_condition_on_integer_and_decimal_columns() -> None:
    con = duckdb.connect()
    for sql_type in ("BIGINT", "DECIMAL(38, 2)"):
        got = con.execute(
            f"SELECT {lp._bad_money('v', sql_type)} FROM (SELECT CAST(v AS {sql_type}) AS v FROM "
            "(VALUES (1), (-3), (0), (NULL)) AS t(v))").fetchall()
        assert [r[0] for r in got] == [False, True, False, None]
    con.close()


def test_text_switch_leaves_every_other_column_unchanged() -> None:
    a = la.simulate_marketplace(seed=9, n_posts=3_000, text=True)
    b = la.simulate_marketplace(seed=9, n_posts=3_000, text=False)
    other = [c for c in a.job_posts.columns if c not in ("title", "skills")]
    pd.testing.assert_frame_equal(a.job_posts[other], b.job_posts[other], check_exact=True)
    pd.testing.assert_frame_equal(a.contracts, b.contracts, check_exact=True)
    assert (b.job_posts["title"] == "").all() and (b.job_posts["skills"] == "").all()
    assert a.job_posts["title"].str.len().gt(0).all()
    for frame in (a.job_posts, a.contracts, b.job_posts):
        for col in frame.columns:
            if frame[col].dtype == object:
                raise AssertionError(f"{col} is an object column")
    # the identifiers are the row numbers, and contracts point at existing posts
    assert list(a.job_posts["post_id"].iloc[[0, -1]]) == ["P00000000",
                                                        f"P{len(a.job_posts) - 1:08d}"]
    assert a.contracts["post_id"].isin(a.job_posts["post_id"]).all()
    fid = a.contracts["freelancer_id"]
    assert fid.str.fullmatch(r"F\d{8}").all()


def _engine_with(frame: pd.DataFrame) -> lp._Engine:
    eng = lp._Engine(None, [frame])
    eng.bind(lp._VIEW_POSTS, frame, "job posts (DataFrame)")
    return eng


@pytest.mark.parametrize(("values", "expected"), [
    (["P1", "P2", "P3"], True),
    (["P1", "P3", "P2"], False),  # distinct but not sorted: counted in SQL instead
    (["P1", "P2", "P2"], False),  # a tie
    (["P1", None, "P3"], False),  # a missing id
    ([3, 7, 10], True),
    ([3, 3, 10], False),
    ([0.0, -0.0, 1.0], False),
    (["b"], True),
    ([], True),
])
def test_strictly_increasing_ids(values: list[object], expected: bool) -> None:
    col = pd.Series(values, dtype="str" if values and isinstance(values[0], str) else None)
    eng = _engine_with(pd.DataFrame({"post_id": col}))
    try:
        assert eng.strictly_increasing(lp._VIEW_POSTS, "post_id") is expected
        assert eng.strictly_increasing(lp._VIEW_POSTS, "absent") is False
        assert eng.strictly_increasing(lp._VIEW_CONTRACTS, "post_id") is False  # not bound
    finally:
        eng.close()


def test_categorical_ids_fall_back_to_counting() -> None:
    frame = pd.DataFrame({"post_id": pd.Categorical(["a", "b", "c"])})
    eng = _engine_with(frame)
    try:
        assert eng.strictly_increasing(lp._VIEW_POSTS, "post_id") is False
    finally:
        eng.close()


def _tiny_posts(ids: list[str]) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({"post_id": pd.Series(ids, dtype="str"),
                         "posted_date": pd.to_datetime(["2023-01-05"] * n),
                         "category": ["Writing"] * n, "contract_value_usd": [100.0] * n})


@pytest.mark.parametrize("ids", [["a", "b", "b", "c"], ["c", "b", "c"]])
def test_duplicated_ids_are_refused_sorted_or_not(ids: list[str]) -> None:
    with pytest.raises(la.DataValidationError, match=r"rule 'unique_post_id': 1 post id"):
        la.build_panel(_tiny_posts(ids))


def test_builds_in_threads_share_the_database_without_mixing_inputs() -> None:
    from concurrent.futures import ThreadPoolExecutor

    markets = [la.simulate_marketplace(seed=s, n_posts=4_000, text=False) for s in (1, 2)]
    alone = [la.build_panel(m.job_posts, m.contracts) for m in markets]
    with ThreadPoolExecutor(4) as ex:
        futures = [ex.submit(la.build_panel, m.job_posts, m.contracts) for m in markets * 3]
        got = [f.result() for f in futures]
    for i, panel in enumerate(got):
        pd.testing.assert_frame_equal(panel, alone[i % 2], check_exact=True)


def _child_panel_posts(q: object) -> None:
    m = la.simulate_marketplace(seed=4, n_posts=3_000, text=False)
    q.put(int(la.build_panel(m.job_posts)["n_posts"].sum()))  # type: ignore[attr-defined]


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_forked_child_builds_its_own_database() -> None:
    import multiprocessing as mp

    m = la.simulate_marketplace(seed=4, n_posts=3_000, text=False)
    la.build_panel(m.job_posts)  # the parent's database exists before the fork
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    proc = ctx.Process(target=_child_panel_posts, args=(q,))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 0
    assert q.get(timeout=5) == len(m.job_posts)
    assert int(la.build_panel(m.job_posts)["n_posts"].sum()) == len(m.job_posts)  # parent too


def _titles_word_by_word(out: np.ndarray, words: list[str], fallback: list[str]) -> list[str]:
    """The plain title assembly (the simulator's loop before the Arrow pass)."""
    titles = []
    for i, row in enumerate(out.tolist()):
        toks: list[str] = []
        for w in row:
            if w >= 0 and not (words[w] in sim._SEPARATORS and toks
                               and toks[-1] in sim._SEPARATORS):
                toks.append(words[w])
        while toks and toks[-1] in sim._SEPARATORS:
            toks.pop()
        while toks and toks[0] in sim._SEPARATORS:
            toks.pop(0)
        t = " ".join(toks)
        for p in sim._NO_SPACE_BEFORE:
            t = t.replace(" " + p, p)
        titles.append((t[:1].upper() + t[1:]) if t else fallback[i])
    return titles


@pytest.mark.parametrize("gaps", [False, True])
def test_title_assembly_equals_the_word_by_word_pass(gaps: bool) -> None:
    rng = np.random.default_rng(5)
    vocab = sim._title_model().words.tolist()
    words = [*vocab[:400], "ébauche", "ß-word", "ßtart", "x,y", ",lead", ":", "1st", "İstanbul"]
    m, width = 4_000, sim._MAX_WORDS
    lengths = rng.integers(0, width + 1, m)
    out = rng.integers(2, len(words), (m, width))
    sep = [i for i, w in enumerate(words) if w in sim._SEPARATORS]
    out[rng.random((m, width)) < 0.05] = rng.choice(sep)  # some separators, some in a row
    out[:40, :3] = rng.choice(sep, (40, 3))  # leading separators
    out[np.arange(width)[None, :] >= lengths[:, None]] = -1  # chains: a prefix of words
    valid = out >= 0
    assert (valid[:, 1:] <= valid[:, :-1]).all()  # the layout of _title_pool's chains
    if gaps:
        out[rng.random((m, width)) < 0.1] = -1  # missing codes inside a row
    fallback = [f"fallback {i}" for i in range(m)]
    got = sim._assemble_titles(out, words, fallback)
    assert got.dtype == object and all(type(t) is str for t in got)
    assert got.tolist() == _titles_word_by_word(out, words, fallback)
    assert sim._assemble_titles(out[:0], words, []).size == 0
