"""Every ``python`` code block of ``docs/**/*.md`` runs as written.

Each page is one test: its ```` ```python ```` blocks are executed in order, in one fresh
namespace, with a fresh empty working directory (``tmp_path``), the Agg matplotlib backend,
``$LABORAI_DATA_DIR`` pointing at the shared data, a private download cache and no network.
A failure names the page, the block number (1-based, counting the page's ``python`` blocks),
its first line in the file and the error.

Convention for every page of ``docs/``:

- ```` ```python ```` -- a runnable example. It must run as written from an empty working
  directory: import what it uses, build the input it needs (simulate a marketplace and write
  the CSV/Parquet files it then reads), and read real files only through the loaders that know
  them (``la.datasets.upwork_snapshot()``, ``la.datasets.data_path(key)``, or
  ``os.environ["LABORAI_DATA_DIR"]`` for the reference files). A block may use what an earlier
  block of the same page defined.
- ```` ```text ```` -- a call signature or other code that is not meant to run.
- ```` ```python no-run ```` -- Python that cannot run here on purpose (it needs the reader's
  own files or a service); kept for highlighting, never executed. Use it sparingly.

Pages whose examples take more than ~10 s are listed in ``SLOW`` and marked ``slow``.
"""

from __future__ import annotations

import re
import traceback
import warnings
from pathlib import Path

import pytest
from _shared import isolate_data_env

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: ```python blocks only: the info string is exactly "python" (so "python no-run" is skipped).
_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)

#: Pages whose examples take more than ~10 s: page -> seconds measured on the shared 2-core
#: machine (the others take 0.01-9 s; all pages together about 95 s, the fast ones about 30 s).
SLOW: dict[str, float] = {
    "classifier.md": 12.2,             # 5 x 5-fold cross-validation of the title model
    "classify.md": 13.8,               # trains the random-forest classifier
    "estimators/comparison.md": 14.4,  # 400,000 posts, every estimator
    "estimators/sdid.md": 27.5,        # 200 placebo replications on California
    "estimators/timing.md": 10.5,      # two 200,000-post marketplaces, compare_estimators
}


def _blocks(page: Path) -> list[tuple[int, str]]:
    """The page's runnable blocks as (line number of the block's first code line, source)."""
    text = page.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in _BLOCK.finditer(text)]


def _pages() -> list[object]:
    pages = sorted(p for p in DOCS.rglob("*.md") if _blocks(p))
    rel = [p.relative_to(DOCS).as_posix() for p in pages]
    unknown = set(SLOW) - set(rel)
    assert not unknown, f"SLOW lists pages without python blocks: {sorted(unknown)}"
    return [pytest.param(r, id=r, marks=[pytest.mark.slow] if r in SLOW else [])
            for r in rel]


def test_docs_have_examples() -> None:
    """The collector finds the pages (a broken pattern would silently test nothing)."""
    assert len(_pages()) >= 20
    assert _BLOCK.search("```python no-run\nx\n```\n") is None
    assert _BLOCK.search("```python\nx = 1\n```\n").group(1) == "x = 1\n"  # type: ignore[union-attr]


@pytest.mark.parametrize("page", _pages())
def test_docs_page_examples_run(page: str, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    isolate_data_env(monkeypatch, tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    path = DOCS / page
    ns: dict[str, object] = {"__name__": "__docs__"}
    failure = None
    try:
        for i, (line, src) in enumerate(_blocks(path), start=1):
            # compile with the file's line numbers so tracebacks point into the page
            code = compile("\n" * (line - 1) + src, str(path), "exec")
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    exec(code, ns)
            except Exception as exc:
                failure = (f"docs/{page}, python block {i} (line {line}): "
                           f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-3)}")
                break
    finally:
        plt.close("all")
    if failure is not None:
        pytest.fail(failure, pytrace=False)
