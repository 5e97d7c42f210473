"""Execute the analysis notebooks and assemble figures, manifest, index and the HTML report.

The analyses are jupytext percent-format notebooks ``analyses/<name>.py``. Each is executed
in a fresh kernel by nbclient with its ``parameters`` cell overridden (as papermill does: a
cell tagged ``injected-parameters`` is inserted after it), records its results with
:class:`laborai.report.AnalysisOutputs`, and the build then writes

- ``figures/MANIFEST.sha256`` — SHA-256 of every figure file (SVG, PNG, CSV);
- ``figures/INDEX.md`` — figure -> analysis file -> inputs -> caption;
- ``build/report.html`` — the self-contained report (figures inlined, no network needed);
- ``build/summary.md`` — the summary bullets, for readers without a browser;
- ``build/environment.txt`` — Python and package versions.

Kernels run with ``PYTHONHASHSEED=0``, ``TZ=UTC``, single-threaded BLAS and the Agg backend,
so rebuilding with the same inputs gives byte-identical files; :func:`check_report` proves it.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import json
import math
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from laborai.errors import DataFileNotFoundError, LaborAIError, OptionError
from laborai.report.inputs import DEFAULT_N_POSTS, DEFAULT_SEED
from laborai.report.outputs import SECTIONS

__all__ = ["AnalysisError", "ReportBuild", "build_report", "check_report", "find_analyses"]

#: Order of analyses inside a section (others follow alphabetically).
ORDER = ("ai_work", "marketplace_effects", "event_studies", "estimator_robustness", "frontier_designs",
         "freelancer_design", "real_upwork", "real_indeed_exposure")
#: Environment every kernel runs with (determinism).
KERNEL_ENV = {"PYTHONHASHSEED": "0", "TZ": "UTC", "OMP_NUM_THREADS": "1",
              "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1",
              "MPLBACKEND": "Agg", "SOURCE_DATE_EPOCH": "0"}
_PINNED = ("numpy", "pandas", "scipy", "duckdb", "pyfixest", "statsmodels", "linearmodels",
           "scikit-learn", "matplotlib", "pyarrow", "jupytext", "nbclient", "ipykernel")


class AnalysisError(LaborAIError, RuntimeError):
    """An analysis notebook failed while the report was being built."""


@dataclass(frozen=True)
class ReportBuild:
    """What a report build wrote and how long each analysis took."""

    figures_dir: Path
    build_dir: Path
    analyses: tuple[str, ...]
    files: dict[str, str]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def html(self) -> Path:
        """Path of ``report.html``."""
        return self.build_dir / "report.html"


def _default_analyses_dir() -> Path:
    here = Path("analyses")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "analyses"


def find_analyses(analyses_dir: str | Path | None = None) -> list[Path]:
    """The analysis notebooks, in report order.

    Parameters
    ----------
    analyses_dir : str or pathlib.Path, optional
        Folder of jupytext notebooks; default ``./analyses`` (or the source tree's).

    Returns
    -------
    list of pathlib.Path
        ``<name>.py`` files (names starting with ``_`` are helpers, not analyses).

    Raises
    ------
    DataFileNotFoundError
        If the folder does not exist or holds no notebook.
    """
    d = Path(analyses_dir) if analyses_dir is not None else _default_analyses_dir()
    files = sorted(p for p in d.glob("*.py") if not p.name.startswith("_")) if d.is_dir() else []
    if not files:
        raise DataFileNotFoundError(
            f"{d}: no analysis notebooks (analyses/<name>.py, jupytext percent format); run "
            "laborai report from the project root or pass --analyses DIR.")
    rank = {n: i for i, n in enumerate(ORDER)}
    return sorted(files, key=lambda p: (rank.get(p.stem, len(ORDER)), p.stem))


def _declared_parameters(nb: Any, path: Path) -> tuple[int, set[str]]:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            names: set[str] = set()
            for node in ast.parse(cell.source).body:
                if isinstance(node, (ast.Assign, ast.AnnAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    names |= {t.id for t in targets if isinstance(t, ast.Name)}
            return i, names
    raise AnalysisError(f"{path}: no code cell tagged 'parameters' (add `# %% "
                        "tags=[\"parameters\"]` above the seed and data-source assignments).")


def _run_notebook(path: Path, params: dict[str, Any], cwd: Path, timeout: int) -> None:
    import jupytext
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = jupytext.read(path, fmt="py:percent")
    i, names = _declared_parameters(nb, path)
    use = {k: v for k, v in params.items() if k in names}
    src = "# Parameters injected by laborai report\n" + "".join(
        f"{k} = {v!r}\n" for k, v in sorted(use.items()))
    cell = nbformat.v4.new_code_cell(src, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(i + 1, cell)
    env = {**os.environ, **KERNEL_ENV}
    from jupyter_client import KernelManager

    # IPC transport: the kernel talks over local sockets in a private folder, not TCP ports
    ipc_dir = Path(tempfile.mkdtemp(prefix="laborai-kernel-"))
    km = KernelManager(kernel_name="python3", transport="ipc", ip=str(ipc_dir / "k"))
    client = NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3",
                            record_timing=False, resources={"metadata": {"path": str(cwd)}})
    try:
        # the kernel's own stderr only says "parent exited" at shutdown; cell errors and
        # tracebacks arrive through the messaging protocol and are raised below
        client.execute(env=env, cwd=str(cwd), stderr=subprocess.DEVNULL)
    except CellExecutionError as exc:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))   # strip the traceback's colours
        raise AnalysisError(f"analysis {path} failed (parameters {use}):\n{plain}") from None
    finally:
        shutil.rmtree(ipc_dir, ignore_errors=True)


def _timed_run(path: Path, params: dict[str, Any], cwd: Path, timeout: int) -> float:
    t0 = time.perf_counter()
    _run_notebook(path, params, cwd, timeout)
    return time.perf_counter() - t0


def _resolve_jobs(jobs: int | None, n: int) -> int:
    """Notebooks run at once: ``jobs``, or by default one per CPU core (at most 4)."""
    if jobs is None:
        env = os.environ.get("LABORAI_REPORT_JOBS", "")
        jobs = int(env) if env.isdigit() and int(env) > 0 else min(4, os.cpu_count() or 1)
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise OptionError(f"jobs must be a positive integer; got {jobs!r}.")
    return max(1, min(jobs, n))


#: Seconds each analysis took on the 2-core reference machine (2026-12-02), used only to start
#: the longest kernels first (longest-processing-time scheduling: with 2 workers the build ends
#: when the longest queue does, and file order left a 13 s notebook for last). A wrong or missing
#: value costs time, never a different output; unknown analyses start first.
_EXPECTED_SECONDS = {
    "frontier_designs": 39.6, "ai_work": 17.0, "freelancer_design": 14.9,
    "real_indeed_exposure": 14.6, "estimator_robustness": 12.2, "marketplace_effects": 9.3,
    "real_upwork": 3.9,
}


def _start_order(notebooks: Sequence[Path]) -> list[Path]:
    """The notebooks longest first (ties and unknown ones in report order)."""
    rank = {nb: i for i, nb in enumerate(notebooks)}
    return sorted(notebooks, key=lambda nb: (-_EXPECTED_SECONDS.get(nb.stem, math.inf), rank[nb]))


def _run_all(notebooks: Sequence[Path], params: dict[str, Any], cwd: Path, timeout: int,
             jobs: int, verbose: bool) -> dict[str, float]:
    """Execute the notebooks, ``jobs`` kernels at a time; seconds per notebook.

    Each notebook runs in its own kernel whichever way, so running several at once changes
    no output (the kernels are single-threaded and share nothing but the output folders,
    where each writes only its own files). The first failure stops the build.
    """
    seconds: dict[str, float] = {}
    if jobs == 1:
        for nb in notebooks:
            seconds[nb.stem] = _timed_run(nb.resolve(), params, cwd, timeout)
            if verbose:
                print(f"  {nb.stem}: {seconds[nb.stem]:.1f} s", flush=True)
        return seconds
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    # threads suffice: each waits on its kernel, a separate process doing the work
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="laborai-report") as pool:
        started = {nb: pool.submit(_timed_run, nb.resolve(), params, cwd, timeout)
                   for nb in _start_order(notebooks)}
        futures = {started[nb]: nb for nb in notebooks}  # collected in report order
        _, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for f in pending:
            f.cancel()
        for f in futures:  # in the analyses' order: the first failure in that order is raised
            if f.cancelled():
                continue
            seconds[futures[f].stem] = f.result()
            if verbose:
                print(f"  {futures[f].stem}: {seconds[futures[f].stem]:.1f} s", flush=True)
    return seconds


def build_report(
    figures_dir: str | Path = "figures",
    build_dir: str | Path = "build",
    *,
    seed: int = DEFAULT_SEED,
    n_posts: int = DEFAULT_N_POSTS,
    data_dir: str | Path | None = None,
    only: Sequence[str] | None = None,
    analyses_dir: str | Path | None = None,
    timeout: int = 1200,
    verbose: bool = False,
    jobs: int | None = None,
) -> ReportBuild:
    """Execute the analyses and build figures, manifest, index and ``report.html``.

    Parameters
    ----------
    figures_dir, build_dir : str or pathlib.Path
        Output folders (created). Analyses' JSON records go to ``build_dir/results``.
    seed : int, default 2024
        Seed of the simulated marketplace.
    n_posts : int, default 400,000
        Expected number of simulated posts.
    data_dir : str or pathlib.Path, optional
        The user's own marketplace microdata (``job_posts`` and ``contracts``, Parquet or CSV,
        canonical format) for the marketplace analyses instead of the simulated default.
    only : sequence of str, optional
        Rebuild only these analyses (figure families); the manifest, index and report are
        then assembled from every record present.
    analyses_dir : str or pathlib.Path, optional
        Folder of the notebooks (default ``./analyses``).
    timeout : int, default 1200
        Seconds allowed per notebook cell.
    verbose : bool, default False
        Print each analysis and its time.
    jobs : int, optional
        Notebooks executed at once, each in its own kernel (outputs do not depend on it).
        Default: the environment variable ``LABORAI_REPORT_JOBS``, else one per CPU core, at
        most 4.

    Returns
    -------
    ReportBuild

    Raises
    ------
    OptionError
        For an unknown name in ``only``.
    AnalysisError
        If a notebook fails (the message carries the failing cell and traceback).
    DataFileNotFoundError
        If ``data_dir`` lacks a table, or no notebooks are found.
    """
    from laborai.report.html import render_report

    notebooks = find_analyses(analyses_dir)
    names = [p.stem for p in notebooks]
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise OptionError(f"--only: unknown analysis {unknown}; available: {names}.")
        notebooks = [p for p in notebooks if p.stem in set(only)]
    if data_dir not in (None, ""):
        from laborai.report.inputs import _table_file

        for t in ("job_posts", "contracts"):
            _table_file(Path(str(data_dir)), t)
    fig_dir, out_dir = Path(figures_dir).resolve(), Path(build_dir).resolve()
    res_dir = out_dir / "results"
    for d in (fig_dir, out_dir, res_dir):
        d.mkdir(parents=True, exist_ok=True)
    params = {"seed": int(seed), "n_posts": int(n_posts),
              "data_dir": "" if data_dir in (None, "") else str(Path(str(data_dir)).resolve()),
              "figures_dir": str(fig_dir), "results_dir": str(res_dir)}
    cwd = notebooks[0].parent.resolve().parent
    for nb in notebooks:
        (res_dir / f"{nb.stem}.json").unlink(missing_ok=True)
    seconds = _run_all(notebooks, params, cwd, timeout, _resolve_jobs(jobs, len(notebooks)),
                       verbose)
    for nb in notebooks:
        if not (res_dir / f"{nb.stem}.json").exists():
            raise AnalysisError(f"analysis {nb} ran but wrote no record; it must end with "
                                "out.close() (laborai.report.AnalysisOutputs).")
    records = _load_records(res_dir, names)
    files = _write_manifest_and_index(fig_dir, records)
    (out_dir / "environment.txt").write_text(_environment())
    (out_dir / "summary.md").write_text(_summary_markdown(records, params), encoding="utf-8")
    render_report(records, fig_dir, out_dir / "report.html", simulated=not params["data_dir"])
    return ReportBuild(fig_dir, out_dir, tuple(p.stem for p in notebooks), files, seconds)


def _load_records(res_dir: Path, names: Sequence[str]) -> list[dict[str, Any]]:
    recs = []
    for n in names:
        p = res_dir / f"{n}.json"
        if p.exists():
            recs.append(json.loads(p.read_text(encoding="utf-8")))
    if not recs:
        raise AnalysisError(f"{res_dir}: no analysis records; run laborai report without --only "
                            "first.")
    order = {s: i for i, s in enumerate(SECTIONS)}
    return sorted(recs, key=lambda r: order[r["section"]])


def _write_manifest_and_index(fig_dir: Path, records: list[dict[str, Any]]) -> dict[str, str]:
    files: dict[str, str] = {}
    rows = []
    for r in records:
        for b in r["blocks"]:
            if b["kind"] != "figure":
                continue
            for f in b["files"]:
                files[f] = hashlib.sha256((fig_dir / f).read_bytes()).hexdigest()
            rows.append(f"| {b['name']} | analyses/{r['name']}.py | {b['source']} | "
                        f"{b['caption'].replace('|', '/')} |\n")
    (fig_dir / "MANIFEST.sha256").write_text("".join(f"{h}  {n}\n"
                                                     for n, h in sorted(files.items())))
    (fig_dir / "INDEX.md").write_text(
        "# Figures\n\nEach figure is SVG + PNG + the CSV of the numbers drawn; "
        "`MANIFEST.sha256` holds their hashes.\n\n"
        "| figure | analysis | inputs | caption |\n|---|---|---|---|\n" + "".join(rows),
        encoding="utf-8")
    return files


def _summary_markdown(records: list[dict[str, Any]], params: dict[str, Any]) -> str:
    lines = ["# laborai report summary", ""]
    data = ("User data" if params["data_dir"] else
            f"Simulated marketplace, seed {params['seed']}")
    lines += [f"Marketplace data: {data}.", ""]
    for r in records:
        lines += [f"- {s}" for s in r["summary"]]
    return "\n".join(lines) + "\n"


def _environment() -> str:
    from laborai import __version__

    lines = [f"laborai {__version__}", f"python {platform.python_version()}"]
    for name in _PINNED:
        try:
            lines.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:  # pragma: no cover
            lines.append(f"{name} (not installed)")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- check

def _tree(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


_TEXT = (".md", ".csv", ".json", ".txt", ".sha256", ".html", ".svg")


def _diff_file(name: str, a: Path, b: Path, max_lines: int) -> list[str]:
    ba, bb = a.read_bytes(), b.read_bytes()
    if ba == bb:
        return []
    head = [f"DIFFERS {name}: {len(ba):,} vs {len(bb):,} bytes, sha256 "
            f"{hashlib.sha256(ba).hexdigest()[:12]} vs {hashlib.sha256(bb).hexdigest()[:12]}"]
    if name.endswith(_TEXT) and not name.endswith(".html"):
        la_, lb = ba.decode("utf-8", "replace").splitlines(), bb.decode("utf-8", "replace").splitlines()
        d = list(difflib.unified_diff(la_, lb, f"existing/{name}", f"rebuilt/{name}",
                                      lineterm="", n=1))
        head += [ln[:200] for ln in d[:max_lines]]
        if len(d) > max_lines:
            head.append(f"... {len(d) - max_lines} more diff lines")
    return head


def check_report(
    figures_dir: str | Path = "figures",
    build_dir: str | Path = "build",
    *,
    seed: int = DEFAULT_SEED,
    n_posts: int = DEFAULT_N_POSTS,
    data_dir: str | Path | None = None,
    analyses_dir: str | Path | None = None,
    max_lines: int = 20,
    jobs: int | None = None,
) -> list[str]:
    """Rebuild the report into a temporary folder and compare it byte for byte.

    Compares every file in ``figures_dir`` that the manifest lists plus ``MANIFEST.sha256``
    and ``INDEX.md``, and ``report.html``, ``summary.md``, ``environment.txt`` and
    ``results/`` in ``build_dir``.

    Parameters
    ----------
    figures_dir, build_dir : str or pathlib.Path
        The existing build to check.
    seed, n_posts, data_dir, analyses_dir
        As for :func:`build_report` (must match the existing build).
    jobs : int, optional
        As for :func:`build_report`.
    max_lines : int, default 20
        Diff lines shown per differing text file.

    Returns
    -------
    list of str
        Human-readable differences; empty when the rebuild is byte-identical.

    Raises
    ------
    DataFileNotFoundError
        If there is no existing build to check.
    """
    fig_dir, out_dir = Path(figures_dir), Path(build_dir)
    manifest = fig_dir / "MANIFEST.sha256"
    if not manifest.exists() or not (out_dir / "report.html").exists():
        raise DataFileNotFoundError(
            f"no existing build to check ({manifest} or {out_dir / 'report.html'} missing); run "
            "`laborai report` first, then `laborai report --check`.")
    tmp = Path(tempfile.mkdtemp(prefix="laborai-check-"))
    try:
        build_report(tmp / "figures", tmp / "build", seed=seed, n_posts=n_posts,
                     data_dir=data_dir, analyses_dir=analyses_dir, jobs=jobs)
        listed = [ln.split("  ", 1)[1] for ln in manifest.read_text().splitlines() if ln]
        new_listed = [ln.split("  ", 1)[1] for ln in
                      (tmp / "figures" / "MANIFEST.sha256").read_text().splitlines() if ln]
        diffs: list[str] = []
        for n in sorted(set(listed) ^ set(new_listed)):
            where = "only in existing" if n in listed else "only in rebuild"
            diffs.append(f"MISSING figure file {n} ({where})")
        pairs = [(f"figures/{n}", fig_dir / n, tmp / "figures" / n)
                 for n in sorted(set(listed) & set(new_listed))
                 + ["MANIFEST.sha256", "INDEX.md"]]
        old_b, new_b = _tree(out_dir / "results"), _tree(tmp / "build" / "results")
        for n in sorted(set(old_b) ^ set(new_b)):
            where = "only in existing" if n in old_b else "only in rebuild"
            diffs.append(f"MISSING build/results/{n} ({where})")
        pairs += [(f"build/results/{n}", old_b[n], new_b[n]) for n in sorted(set(old_b) & set(new_b))]
        pairs += [(f"build/{n}", out_dir / n, tmp / "build" / n)
                  for n in ("report.html", "summary.md", "environment.txt")]
        for name, a, b in pairs:
            if not a.exists():
                diffs.append(f"MISSING {name} in the existing build")
                continue
            diffs += _diff_file(name, a, b, max_lines)
        return diffs
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
