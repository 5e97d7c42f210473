"""Tests of the Indeed-sector and marketplace-category crosswalks to O*NET and their exposure.

Hand-verified means are computed here from the raw GPTs-are-GPTs file with the csv module,
independently of laborai's loaders and of pandas.
"""

from __future__ import annotations

import csv
import math
import re
import statistics
from pathlib import Path

import pandas as pd
import pytest
from _shared import DATA_DIR, isolate_data_env

import laborai as la
import laborai.datasets as ds
from laborai.datasets.exposure import _group_exposure
from laborai.errors import DataValidationError, OptionError

COUNTRIES = ["US", "GB", "DE", "FR", "CA", "AU"]

#: The marketplace's 12 categories, exact strings (from the project brief).
CATEGORIES = [
    "Accounting & Consulting",
    "Admin Support",
    "Customer Service",
    "Data Science & Analytics",
    "Design & Creative",
    "Engineering & Architecture",
    "IT & Networking",
    "Legal",
    "Sales & Marketing",
    "Translation",
    "Web, Mobile & Software Dev",
    "Writing",
]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_data_env(monkeypatch, tmp_path)


def _raw(rel: str) -> list[dict[str, str]]:
    with (DATA_DIR / rel).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _raw_scores() -> dict[str, dict[str, str]]:
    return {r["O*NET-SOC Code"]: r for r in _raw("exposure/gpts_are_gpts_occ_level.csv")}


def _indeed_sectors() -> set[str]:
    sectors: set[str] = set()
    for cc in COUNTRIES:
        sectors |= {r["display_name"] for r in _raw(f"indeed/job_postings_by_sector_{cc}.csv")}
    return sectors


# --- coverage -------------------------------------------------------------------------------


def test_every_indeed_sector_is_mapped() -> None:
    xwalk = ds.indeed_onet_crosswalk()
    examples = {r["sector"] for r in _raw("indeed/sector-job-title-examples.csv")}
    sectors = _indeed_sectors()
    mapped = set(xwalk["sector"])
    assert sectors - mapped == set()
    assert examples - mapped == set()
    # nothing mapped that Indeed does not publish (catches typos in sector names)
    assert mapped - (sectors | examples) == set()
    assert len(mapped) == 50


def test_every_marketplace_category_is_mapped() -> None:
    xwalk = ds.marketplace_onet_crosswalk()
    assert list(dict.fromkeys(xwalk["category"])) == CATEGORIES
    assert list(ds.MARKETPLACE_CATEGORIES) == CATEGORIES
    from laborai.taxonomy import category_names

    assert category_names() == CATEGORIES
    assert xwalk.groupby("category").size().min() >= 3


@pytest.mark.parametrize("loader", [ds.indeed_onet_crosswalk, ds.marketplace_onet_crosswalk])
def test_codes_and_titles_exist_in_gpts_file(loader: object) -> None:
    xwalk = loader()  # type: ignore[operator]
    scores = _raw_scores()
    unknown = sorted(set(xwalk["onet_soc_code"]) - set(scores))
    assert unknown == []
    for row in xwalk.itertuples():
        assert re.fullmatch(r"\d{2}-\d{4}\.\d{2}", row.onet_soc_code)
        assert row.onet_title == scores[row.onet_soc_code]["Title"], row.onet_soc_code


@pytest.mark.parametrize("loader", [ds.indeed_onet_crosswalk, ds.marketplace_onet_crosswalk])
def test_every_mapping_is_documented(loader: object) -> None:
    xwalk = loader()  # type: ignore[operator]
    group = xwalk.columns[0]
    assert list(xwalk.columns) == [group, "onet_soc_code", "onet_title", "basis", "notes"]
    assert (xwalk["notes"].str.len() >= 5).all()
    assert set(xwalk["basis"]) <= {"example_title", "sector_name", "subcategory", "related"}
    assert not xwalk.duplicated([group, "onet_soc_code"]).any()


def test_example_title_rows_quote_a_real_example() -> None:
    xwalk = ds.indeed_onet_crosswalk()
    examples: dict[str, set[str]] = {}
    for r in _raw("indeed/sector-job-title-examples.csv"):
        examples[r["sector"]] = {t.strip() for t in r["job_titles"].split(",")}
    rows = xwalk[xwalk["basis"] == "example_title"]
    assert len(rows) >= 47  # at least one per sector with examples
    for row in rows.itertuples():
        quoted = set(re.findall(r"'([^']+)'", row.notes))
        assert quoted & examples[row.sector], (row.sector, row.notes)
    # every example title is covered by at least one occupation
    for sector, titles in examples.items():
        notes = " ".join(rows.loc[rows.sector == sector, "notes"])
        for title in titles:
            assert f"'{title}'" in notes, (sector, title)


def test_subcategory_rows_name_a_taxonomy_category() -> None:
    xwalk = ds.marketplace_onet_crosswalk()
    assert set(xwalk["basis"]) <= {"subcategory", "related"}
    assert (xwalk["basis"] == "subcategory").sum() > len(CATEGORIES)


# --- exposure -------------------------------------------------------------------------------


def _hand_mean(codes: list[str], column: str) -> float:
    scores = _raw_scores()
    return statistics.fmean(float(scores[c][column]) for c in codes)


HAND = {
    # Indeed sector -> the occupations chosen in the crosswalk, written out by hand here.
    "Software Development": ["15-1252.00", "15-1254.00", "15-1251.00", "15-1253.00"],
    "Pharmacy": ["29-2052.00", "29-1051.00", "31-9095.00"],
}


@pytest.mark.parametrize("sector", sorted(HAND))
@pytest.mark.parametrize(
    ("measure", "column"),
    [("gpt4_beta", "dv_rating_beta"), ("human_beta", "human_rating_beta")],
)
def test_sector_exposure_matches_hand_computation(sector: str, measure: str, column: str) -> None:
    out = ds.sector_exposure(measure).set_index("sector")  # type: ignore[arg-type]
    xwalk = ds.indeed_onet_crosswalk()
    assert sorted(xwalk.loc[xwalk.sector == sector, "onet_soc_code"]) == sorted(HAND[sector])
    expected = _hand_mean(HAND[sector], column)
    assert math.isclose(out.loc[sector, "exposure"], expected, rel_tol=0, abs_tol=1e-15)
    assert out.loc[sector, "n_occupations"] == len(HAND[sector])
    assert out.loc[sector, "measure"] == measure


def test_category_exposure_matches_hand_computation() -> None:
    codes = ["27-3091.00", "27-3092.00", "25-3011.00"]  # Translation
    out = ds.category_exposure("human_gamma").set_index("category")
    assert math.isclose(
        out.loc["Translation", "exposure"], _hand_mean(codes, "human_rating_gamma"), abs_tol=1e-15
    )
    assert out.loc["Translation", "n_occupations"] == 3


def test_exposure_frames_schema() -> None:
    sectors = ds.sector_exposure()
    assert list(sectors.columns) == ["sector", "measure", "exposure", "n_occupations"]
    assert len(sectors) == 50 and sectors["sector"].is_unique
    assert sectors["exposure"].between(0, 1).all()
    counts = ds.indeed_onet_crosswalk().groupby("sector").size()
    assert (sectors.set_index("sector")["n_occupations"] == counts.reindex(sectors.sector)).all()
    cats = ds.category_exposure()
    assert list(cats.columns) == ["category", "measure", "exposure", "n_occupations"]
    assert cats["category"].tolist() == CATEGORIES
    assert set(cats["measure"]) == {"gpt4_beta"}
    assert "Eloundou" in cats.attrs["citation"]


def test_dv_alias_equals_gpt4_measure() -> None:
    a = ds.sector_exposure("dv_beta")
    b = ds.sector_exposure("gpt4_beta")
    pd.testing.assert_frame_equal(a, b)
    assert not ds.sector_exposure("human_beta")["exposure"].equals(b["exposure"])


def test_bad_measure() -> None:
    with pytest.raises(OptionError, match=r"measure must be one of 'gpt4_alpha'.*; got 'beta'\."):
        ds.sector_exposure("beta")  # type: ignore[arg-type]


def test_unknown_code_raises() -> None:
    bad = pd.DataFrame({"sector": ["X", "X"], "onet_soc_code": ["15-1252.00", "99-9999.99"]})
    with pytest.raises(DataValidationError, match=r"1 O\*NET-SOC code\(s\).*99-9999\.99"):
        _group_exposure(bad, "sector", "gpt4_beta")


def test_exposure_ranking_is_plausible() -> None:
    """Sanity check from the paper: software/maths jobs are far more exposed than food service."""
    out = ds.sector_exposure("gpt4_beta").set_index("sector")["exposure"]
    assert out["Software Development"] > 0.6 > 0.2 > out["Food Preparation & Service"]
    assert out["Mathematics"] > out["Construction"]


def test_subcategory_notes_name_real_upwork_subcategories() -> None:
    """Where a note names the Upwork subcategories it stands for, they exist in the taxonomy."""
    xwalk = ds.marketplace_onet_crosswalk()
    subs = la.taxonomy.subcategories()
    named = 0
    for row in xwalk.itertuples():
        m = re.search(r"Upwork: ([^)]+)\)", row.notes)
        if not m:
            continue
        for name in m.group(1).split(", "):
            name = name.replace(" and CMS Development", "").strip()
            base = name.replace(" Development", "")
            have = subs["subcategory"].str.contains(base, regex=False)
            assert have.any(), (row.category, name)
            named += 1
    assert named >= 15
