"""End to end: the laborai command and the report build (small, fast settings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

import laborai as la
from laborai.cli import main


def test_help_and_version() -> None:
    out = subprocess.run([sys.executable, "-m", "laborai.cli", "--help"], capture_output=True,
                         text=True, check=True)
    assert "report" in out.stdout and "simulate" in out.stdout
    out = subprocess.run([sys.executable, "-m", "laborai.cli", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == f"laborai {la.__version__}"


def test_report_is_byte_identical_on_rebuild(tmp_path: Path) -> None:
    for k in ("a", "b"):
        assert main(["report", "--figures", str(tmp_path / k / "fig"), "--build",
                     str(tmp_path / k / "build"), "--n-posts", "60000", "--seed", "7"]) == 0
    fa, fb = tmp_path / "a" / "fig", tmp_path / "b" / "fig"
    names = sorted(p.name for p in fa.iterdir())
    assert {"MANIFEST.sha256", "INDEX.md", "effects_by_category_tier.svg",
            "posts_by_exposure.png", "posts_by_exposure.csv"} <= set(names)
    for n in names:
        assert (fa / n).read_bytes() == (fb / n).read_bytes(), n
    for n in ("effects.csv", "summary.md", "panel.csv"):
        assert (tmp_path / "a" / "build" / n).read_bytes() == (tmp_path / "b" / "build" / n).read_bytes()
    svg = (fa / "posts_by_exposure.svg").read_text()
    assert "<dc:date>" not in svg
    summary = (tmp_path / "a" / "build" / "summary.md").read_text()
    assert "Simulated marketplace, seed 7" in summary
    eff = pd.read_csv(tmp_path / "a" / "build" / "effects.csv")
    assert set(eff["outcome"]) == {"log_n_posts", "log_earnings_per_contract"}
    assert eff["true_effect"].notna().all()
    # the summary's numbers come from the results, not from text typed by hand
    r = eff[(eff["outcome"] == "log_n_posts") & (eff["category"] == "Writing")
            & (eff["value_tier"] == "low")].iloc[0]
    assert f"{100 * (2.718281828459045 ** r['estimate'] - 1):+.1f}%" in summary


def test_report_on_user_data_folder(tmp_path: Path) -> None:
    m = la.simulate_marketplace(seed=3, n_posts=30_000)
    m.to_parquet(tmp_path / "mine")
    assert main(["report", "--data", str(tmp_path / "mine"), "--figures", str(tmp_path / "f"),
                 "--build", str(tmp_path / "b")]) == 0
    assert "User data (mine)" in (tmp_path / "b" / "summary.md").read_text()


def test_simulate_command(tmp_path: Path) -> None:
    assert main(["simulate", str(tmp_path / "m"), "--n-posts", "2000", "--seed", "1"]) == 0
    back = la.read_marketplace(tmp_path / "m")
    assert back.seed == 1 and len(back.job_posts) > 1000


def test_report_on_incomplete_data_folder_names_the_missing_table(tmp_path: Path) -> None:
    import pytest

    m = la.simulate_marketplace(seed=3, n_posts=2_000)
    m.to_parquet(tmp_path / "mine")
    (tmp_path / "mine" / "contracts.parquet").unlink()
    with pytest.raises(la.DataFileNotFoundError, match="no contracts.parquet or contracts.csv"):
        main(["report", "--data", str(tmp_path / "mine"), "--figures", str(tmp_path / "f"),
              "--build", str(tmp_path / "b")])
