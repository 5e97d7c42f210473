"""End to end: the laborai command, the report build on the project's analyses, the browser."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from markupsafe import escape  # the escaping of the report template (Jinja2 autoescape)

import laborai as la
import laborai.report
from laborai.cli import main
from laborai.report.browser import check_in_browser, find_chromium

ROOT = Path(__file__).resolve().parents[1]


def test_help_and_version() -> None:
    out = subprocess.run([sys.executable, "-m", "laborai.cli", "report", "--help"],
                         capture_output=True, text=True, check=True)
    for flag in ("--check", "--only", "--data", "--seed"):
        assert flag in out.stdout
    out = subprocess.run([sys.executable, "-m", "laborai.cli", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == f"laborai {la.__version__}"


@pytest.fixture(scope="module")
def small_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The full report on the project's analyses, on a small simulated marketplace."""
    d = tmp_path_factory.mktemp("report")
    assert main(["report", "--figures", str(d / "figures"), "--build", str(d / "build"),
                 "--n-posts", "80000", "--seed", "7", "--analyses", str(ROOT / "analyses")]) == 0
    return d / "figures", d / "build"


def test_report_has_every_analysis_figure_alt_text_and_source(small_report: tuple[Path, Path]) -> None:
    fig, build = small_report
    html = (build / "report.html").read_text()
    records = [json.loads(p.read_text()) for p in sorted((build / "results").glob("*.json"))]
    names = {r["name"] for r in records}
    assert {p.stem for p in (ROOT / "analyses").glob("*.py") if not p.stem.startswith("_")} == names
    figures = [b for r in records for b in r["blocks"] if b["kind"] == "figure"]
    assert len(figures) >= 4
    for b in figures:
        for suffix in (".svg", ".png", ".csv"):
            assert (fig / f"{b['name']}{suffix}").stat().st_size > 0
        assert f'alt="{escape(b["alt"])}"' in html
        assert b["source"] in (fig / "INDEX.md").read_text()
        if b["source"].startswith("Simulated"):  # labelled simulated, with its seed
            assert b["source"] == "Simulated marketplace, seed 7" or b["source"].startswith(
                ("Simulated marketplace, seed 7 and the next ",    # several draws
                 "Simulated marketplace, seed 7 (")), b["source"]  # which simulator, e.g. freelancers
    # the summary bullets come from the records, which format computed numbers
    for r in records:
        for s in r["summary"]:
            assert escape(s) in html
    for section in ("summary", "descriptive", "causal", "real_data", "methods"):
        assert f'<section id="{section}"' in html
    manifest = (fig / "MANIFEST.sha256").read_text().splitlines()
    assert len(manifest) == 3 * len(figures)


def test_report_numbers_match_the_results(small_report: tuple[Path, Path]) -> None:
    import numpy as np
    import pandas as pd

    _, build = small_report
    rec = json.loads((build / "results" / "marketplace_effects.json").read_text())
    eff = pd.read_csv(build / "results" / "effects_by_category_tier.csv")
    assert set(eff["outcome"]) == {"log_n_posts", "log_earnings_per_contract"}
    assert eff["true_effect"].notna().all()
    # recompute the headline outside the notebook: pooled TWFE on the low-value tier
    mk = la.report.load_marketplace(seed=7, n_posts=80_000)
    low = mk.panel[mk.panel["value_tier"] == "low"]
    est = la.did.twfe(low, yname="log_n_posts", dname="treated_post", idname="unit",
                      tname="period", cluster="category").tidy()["estimate"].iloc[0]
    v = rec["numbers"]["pooled_low_posts"]
    assert abs(v["value"] - est) < 1e-10
    assert f"{100 * (np.exp(est) - 1):+.1f}%" in " ".join(rec["summary"])
    acc = pd.read_csv(build / "results" / "data_accounting.csv")
    assert (acc["rows read"] == acc["kept"] + acc["rejected"]).all()


def test_report_opens_in_headless_chromium(small_report: tuple[Path, Path]) -> None:
    exe = find_chromium()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser test: .ci/run installs Debian's chromium "
                        "package, but no chromium was found on PATH.")
        pytest.skip("no Chromium found: install Debian's `chromium` package (apt-get install "
                    "chromium) or set LABORAI_CHROMIUM to run the browser check.")
    _, build = small_report
    res = check_in_browser(build / "report.html", screenshot=build / "report.png")
    n_img = (build / "report.html").read_text().count("<img ")
    assert len(res.images) == n_img > 0
    assert res.broken_images == []
    assert res.console_errors == ()
    assert res.title.startswith("Generative AI and online freelance work")
    assert res.screenshot is not None and res.screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_browser_check_sees_a_broken_image_and_a_console_error(tmp_path: Path) -> None:
    if find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser test, but no chromium was found on PATH.")
        pytest.skip("no Chromium found: install Debian's `chromium` package to run this check.")
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><title>t</title></head><body>'
                    '<img src="missing.png" alt="gone"><script>console.error("oops 7")</script>'
                    "</body></html>")
    res = check_in_browser(page)
    assert res.broken_images == ["gone"]
    assert any("oops 7" in e for e in res.console_errors)
    assert not res.ok


def test_report_on_user_data_folder(tmp_path: Path) -> None:
    m = la.simulate_marketplace(seed=3, n_posts=30_000)
    m.to_parquet(tmp_path / "mine")
    assert main(["report", "--data", str(tmp_path / "mine"), "--figures", str(tmp_path / "f"),
                 "--build", str(tmp_path / "b"), "--only", "marketplace_effects",
                 "--analyses", str(ROOT / "analyses")]) == 0
    html = (tmp_path / "b" / "report.html").read_text()
    assert "User data (mine)" in html
    assert "the user's own microdata" in html.replace("&#x27;", "'")


def test_simulate_command(tmp_path: Path) -> None:
    assert main(["simulate", str(tmp_path / "m"), "--n-posts", "2000", "--seed", "1"]) == 0
    back = la.read_marketplace(tmp_path / "m")
    assert back.seed == 1 and len(back.job_posts) > 1000


def test_report_on_incomplete_data_folder_names_the_missing_table(tmp_path: Path) -> None:
    m = la.simulate_marketplace(seed=3, n_posts=2_000)
    m.to_parquet(tmp_path / "mine")
    (tmp_path / "mine" / "contracts.parquet").unlink()
    with pytest.raises(la.DataFileNotFoundError, match="no contracts.parquet or contracts.csv"):
        main(["report", "--data", str(tmp_path / "mine"), "--figures", str(tmp_path / "f"),
              "--build", str(tmp_path / "b"), "--analyses", str(ROOT / "analyses")])
