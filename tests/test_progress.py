"""Progress bars: tqdm on standard error, off outside a terminal, never changing a result."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from test_effects import sim_cells

import laborai as la
from laborai import _progress
from laborai.errors import OptionError


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_check_progress_accepts_none_and_bools_only() -> None:
    assert _progress.check_progress(None, "f") is None
    assert _progress.check_progress(True, "f") is True
    assert _progress.check_progress(np.bool_(False), "f") is False
    with pytest.raises(OptionError, match="f: progress must be"):
        _progress.check_progress("yes", "f")


def test_default_follows_the_terminal_and_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LABORAI_PROGRESS", raising=False)
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert _progress._enabled(None) == (False, _progress.DELAY)
    monkeypatch.setattr("sys.stderr", _Tty())
    assert _progress._enabled(None) == (True, _progress.DELAY)
    monkeypatch.setenv("LABORAI_PROGRESS", "0")
    assert _progress._enabled(None)[0] is False
    monkeypatch.setenv("LABORAI_PROGRESS", "1")
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert _progress._enabled(None)[0] is True
    assert _progress._enabled(False) == (False, 0.0)
    assert _progress._enabled(True) == (True, 0.0)


def test_tracked_yields_every_item_and_draws_only_when_asked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LABORAI_PROGRESS", raising=False)
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    assert list(_progress.tracked(range(5), "quiet", None)) == [0, 1, 2, 3, 4]
    assert err.getvalue() == ""
    assert list(_progress.tracked(iter("abc"), "loud", True, total=3)) == ["a", "b", "c"]
    assert "loud" in err.getvalue() and "3/3" in err.getvalue()


@pytest.mark.filterwarnings("ignore:estimate_effects. dropped")
def test_estimate_effects_results_do_not_depend_on_the_bar(
        monkeypatch: pytest.MonkeyPatch) -> None:
    panel = sim_cells(n_cat=12)
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    kw = {"outcomes": ["log_n_posts", {"y": "log_earnings_per_contract",
                                         "weights": "n_contracts"}]}
    quiet = la.estimate_effects(panel, progress=False, **kw)
    assert err.getvalue() == ""
    loud = la.estimate_effects(panel, progress=True, **kw)
    assert "estimate_effects" in err.getvalue() and "2/2" in err.getvalue()
    pd.testing.assert_frame_equal(quiet.tidy(), loud.tidy(), check_exact=True)
    with pytest.raises(OptionError, match="estimate_effects: progress"):
        la.estimate_effects(panel, progress=1, **kw)


def test_compare_estimators_bar_counts_every_estimator(monkeypatch: pytest.MonkeyPatch) -> None:
    import warnings

    from test_result_contract import stag

    d = stag()
    d = d.assign(event=d["g"].where(d["g"] > 0))
    kw = {"yname": "y", "idname": "unit", "tname": "t", "event_date": "event", "n_reps": 20,
          "sdid_vcov": "bootstrap", "honest_window": (-3, 3)}
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quiet = la.compare_estimators(d, progress=False, **kw)
        assert err.getvalue() == ""
        loud = la.compare_estimators(d, progress=True, **kw)
        assert "compare_estimators" in err.getvalue() and "11/11" in err.getvalue()
        pd.testing.assert_frame_equal(quiet.tidy(), loud.tidy(), check_exact=True)
        la.compare_estimators(d, progress=True, sensitivity=False, **kw)
        assert "10/10" in err.getvalue()
    with pytest.raises(OptionError, match="compare_estimators: progress"):
        la.compare_estimators(d, progress="yes", **kw)


def test_wild_bootstrap_bar_counts_the_chunks_and_changes_no_result(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from laborai.did import _fastfe

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"unit": np.repeat(np.arange(24), 6), "t": np.tile(np.arange(6), 24)})
    df["cat"] = df["unit"] // 2
    df["d"] = ((df["cat"] < 4) & (df["t"] >= 3)).astype(float)
    df["y"] = 0.3 * df["d"] + rng.normal(size=len(df))
    kw = {"yname": "y", "dname": "d", "cluster": "cat", "idname": "unit", "tname": "t",
          "n_boot": 999}
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    quiet = la.did.wild_cluster_bootstrap(df, progress=False, **kw)
    assert err.getvalue() == ""
    # 3 clusters a chunk: 12 clusters -> 4 chunks, twice (restricted residual and regressor)
    monkeypatch.setattr(_fastfe, "CHUNK_BYTES", 8 * len(df) * 3)
    loud = la.did.wild_cluster_bootstrap(df, progress=True, **kw)
    assert "wild_cluster_bootstrap" in err.getvalue() and "8/8" in err.getvalue()
    pd.testing.assert_frame_equal(quiet.tidy(), loud.tidy(), rtol=1e-12)
    with pytest.raises(OptionError, match="wild_cluster_bootstrap: progress"):
        la.did.wild_cluster_bootstrap(df, progress=2, **kw)
