"""The report pipeline: what notebooks record, notebook execution, manifest, --only, --check."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import laborai as la
from laborai.cli import main
from laborai.report import AnalysisError, AnalysisOutputs, build_report, check_report
from laborai.report.build import find_analyses

NOTEBOOK = '''# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # {title}

# %% tags=["parameters"]
seed = 1
figures_dir = "figures"
results_dir = "build/results"

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import laborai as la
from laborai.report import AnalysisOutputs

out = AnalysisOutputs("{name}", title="{title}", section="{section}", figures_dir=figures_dir,
                      results_dir=results_dir)
rng = np.random.default_rng(seed)
d = pd.DataFrame({{"x": np.arange(5), "y": rng.normal(size=5), "n": [3, 20, 20, 20, 20]}})
d = la.plot.suppress_small(d, "n", ["y"])
with la.plot.house_style():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot(d["x"], d["y"])
    ax.set_xlabel("x (units)")
    ax.set_ylabel("y (units)")
    la.plot.add_source(fig, f"Simulated marketplace, seed {{seed}}")
out.figure(fig, "{name}_fig", data=d, caption="A line.", alt="A line of five points.",
           source=f"Simulated marketplace, seed {{seed}}")
out.number("mean_y", float(d["y"].mean()), text=f"{{d['y'].mean():.4f}}")
out.summary(f"The mean of y is {{d['y'].mean():.4f}} (seed {{seed}}).")
out.table("{name}_table", d, caption="The data.")
out.citation("Someone (2024). A paper.")
out.close()
'''


def _write_nb(folder: Path, name: str, section: str = "causal", title: str = "Demo") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / f"{name}.py"
    p.write_text(NOTEBOOK.format(name=name, section=section, title=title))
    return p


# ----------------------------------------------------------------------------- AnalysisOutputs

def _fig() -> object:
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    return fig


def test_outputs_validate_names_sections_and_required_text(tmp_path: Path) -> None:
    with pytest.raises(la.OptionError, match="section must be one of 'descriptive'"):
        AnalysisOutputs("a", title="A", section="results", figures_dir=tmp_path,  # type: ignore[arg-type]
                        results_dir=tmp_path)
    with pytest.raises(la.OptionError, match="analysis name must be lower-case"):
        AnalysisOutputs("Bad Name", title="A", section="causal")
    out = AnalysisOutputs("a", title="A", section="causal", figures_dir=tmp_path,
                          results_dir=tmp_path)
    d = pd.DataFrame({"x": [1.0]})
    with pytest.raises(la.OptionError, match="alt must be a non-empty string"):
        out.figure(_fig(), "f", data=d, caption="c", alt=" ", source="s")
    with pytest.raises(la.OptionError, match="report shows at most 60"):
        out.table("t", pd.DataFrame({"x": range(61)}), caption="c")
    with pytest.raises(la.LaborAIError, match="recorded no figure and no number"):
        out.close()
    out.number("k", 1.5, text="1.5")
    path = out.close()
    rec = json.loads(path.read_text())
    assert rec["numbers"] == {"k": {"text": "1.5", "value": 1.5}}
    with pytest.raises(la.LaborAIError, match="is closed"):
        out.text("late")


def test_outputs_record_figure_files_and_suppressed_cells(tmp_path: Path) -> None:
    out = AnalysisOutputs("a", title="A", section="descriptive", figures_dir=tmp_path / "f",
                          results_dir=tmp_path / "r")
    d = la.plot.suppress_small(pd.DataFrame({"n": [5, 10, 50], "share": [0.1, 0.2, 0.3]}),
                               "n", ["share"])
    assert d["share"].isna().tolist() == [True, False, False]
    out.figure(_fig(), "shares", data=d, caption="c", alt="a", source="Simulated marketplace, seed 1")
    out.text("Para one.\n\nPara two.", section="methods")
    rec = json.loads(out.close().read_text())
    fig = rec["blocks"][0]
    assert fig["files"] == ["shares.csv", "shares.png", "shares.svg"]
    assert fig["n_suppressed"] == 1
    assert rec["blocks"][1]["section"] == "methods"
    assert {p.name for p in (tmp_path / "f").iterdir()} == set(fig["files"])


def test_suppress_small_names_missing_column() -> None:
    with pytest.raises(la.DataValidationError, match=r"\['count'\] not in the data"):
        la.plot.suppress_small(pd.DataFrame({"n": [1]}), "count", ["n"])


# ----------------------------------------------------------------------------- build / check

def test_build_injects_parameters_writes_manifest_index_html_and_only(tmp_path: Path) -> None:
    nbs = tmp_path / "nbs"
    _write_nb(nbs, "alpha", "descriptive", "Alpha analysis")
    _write_nb(nbs, "beta", "causal", "Beta analysis")
    fig, out = tmp_path / "figures", tmp_path / "build"
    b = build_report(fig, out, seed=5, analyses_dir=nbs)
    assert b.analyses == ("alpha", "beta")
    rec = json.loads((out / "results" / "alpha.json").read_text())
    assert "(seed 5)" in rec["summary"][0]          # the injected seed reached the kernel
    manifest = (fig / "MANIFEST.sha256").read_text().splitlines()
    assert sorted(ln.split("  ")[1] for ln in manifest) == sorted(
        f"{n}_fig.{s}" for n in ("alpha", "beta") for s in ("csv", "png", "svg"))
    index = (fig / "INDEX.md").read_text()
    assert "| alpha_fig | analyses/alpha.py | Simulated marketplace, seed 5 | A line. |" in index
    html = (out / "report.html").read_text()
    assert html.count('<img src="data:image/svg+xml;base64,') == 2
    assert 'alt="A line of five points."' in html
    assert "1 cell(s) with fewer than 10 observations suppressed" in html
    assert rec["summary"][0] in html and "Someone (2024). A paper." in html
    assert html.index("Alpha analysis") < html.index("Beta analysis")
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert (out / "summary.md").read_text().count("- The mean of y") == 2
    # --only rebuilds one family; the other's record and figures stay in the report
    before = (fig / "alpha_fig.svg").stat().st_mtime_ns
    b2 = build_report(fig, out, seed=6, analyses_dir=nbs, only=["beta"])
    assert b2.analyses == ("beta",)
    assert (fig / "alpha_fig.svg").stat().st_mtime_ns == before
    html = (out / "report.html").read_text()
    assert "(seed 5)" in html and "(seed 6)" in html
    with pytest.raises(la.OptionError, match=r"unknown analysis \['gamma'\]"):
        build_report(fig, out, analyses_dir=nbs, only=["gamma"])


def test_check_passes_on_identical_rebuild_and_shows_readable_diff(tmp_path: Path) -> None:
    nbs = tmp_path / "nbs"
    _write_nb(nbs, "alpha")
    fig, out = tmp_path / "figures", tmp_path / "build"
    build_report(fig, out, seed=3, analyses_dir=nbs)
    assert check_report(fig, out, seed=3, analyses_dir=nbs) == []
    # tamper: a CSV value and a PNG byte
    csv = fig / "alpha_fig.csv"
    csv.write_text(csv.read_text().replace("20", "21", 1))
    png = fig / "alpha_fig.png"
    png.write_bytes(png.read_bytes() + b"\0")
    diffs = check_report(fig, out, seed=3, analyses_dir=nbs)
    text = "\n".join(diffs)
    assert "DIFFERS figures/alpha_fig.csv" in text and "DIFFERS figures/alpha_fig.png" in text
    assert "-" in text and "+" in text and "+++ rebuilt/figures/alpha_fig.csv" in text
    assert main(["report", "--check", "--figures", str(fig), "--build", str(out), "--seed", "3",
                 "--analyses", str(nbs)]) == 1
    with pytest.raises(la.DataFileNotFoundError, match="run `laborai report` first"):
        check_report(tmp_path / "nothing", out, analyses_dir=nbs)


def test_failing_notebook_names_file_and_cell(tmp_path: Path) -> None:
    nbs = tmp_path / "nbs"
    p = _write_nb(nbs, "alpha")
    p.write_text(p.read_text().replace("out.close()", "raise ValueError('boom 42')"))
    with pytest.raises(AnalysisError, match=r"(?s)alpha\.py failed.*boom 42"):
        build_report(tmp_path / "f", tmp_path / "b", analyses_dir=nbs)
    p.write_text(p.read_text().replace('# %% tags=["parameters"]', "# %%"))
    with pytest.raises(AnalysisError, match="no code cell tagged 'parameters'"):
        build_report(tmp_path / "f", tmp_path / "b", analyses_dir=nbs)


def test_project_analyses_are_valid_notebooks_with_parameters() -> None:
    import jupytext

    files = find_analyses(Path(__file__).resolve().parents[1] / "analyses")
    assert "marketplace_effects" in [p.stem for p in files]
    for p in files:
        nb = jupytext.read(p, fmt="py:percent")
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, p
        src = p.read_text()
        assert "AnalysisOutputs(" in src and "out.close()" in src, p
        compile(src, str(p), "exec")   # each notebook is a valid script too


def test_table_cells_show_missing_values_as_dashes(tmp_path: Path) -> None:
    out = AnalysisOutputs("t", title="T", section="methods", figures_dir=tmp_path,
                          results_dir=tmp_path)
    d = pd.DataFrame({"a": pd.array([1, None], dtype="Int64"), "b": [0.5, float("nan")],
                      "c": [True, False], "d": ["x", None]})
    out.table("cells", d, caption="c", float_format="{:.2f}")
    rows = out.record()["blocks"][0]["rows"]
    assert rows == [["1", "0.50", "yes", "x"], ["–", "–", "no", "–"]]


def test_kernels_start_longest_first_and_unknown_first() -> None:
    from laborai.report.build import _EXPECTED_SECONDS, _start_order

    nbs = find_analyses()
    order = [p.stem for p in _start_order(nbs)]
    assert sorted(order) == sorted(p.stem for p in nbs)  # nothing lost or doubled
    known = [s for s in order if s in _EXPECTED_SECONDS]
    assert [_EXPECTED_SECONDS[s] for s in known] == sorted(
        (_EXPECTED_SECONDS[s] for s in known), reverse=True)
    new = Path("zz_new_analysis.py")
    assert _start_order([*nbs, new])[0] == new  # an unmeasured analysis may be long: start it first
    assert set(_EXPECTED_SECONDS) == {p.stem for p in nbs}, "add the new analysis' seconds"
