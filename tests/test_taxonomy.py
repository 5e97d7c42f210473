"""Taxonomy package data: categories, subcategories, tiers, events."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import laborai as la
from laborai import taxonomy

EXPECTED = [
    "Accounting & Consulting", "Admin Support", "Customer Service", "Data Science & Analytics",
    "Design & Creative", "Engineering & Architecture", "IT & Networking", "Legal",
    "Sales & Marketing", "Translation", "Web, Mobile & Software Dev", "Writing",
]


def test_twelve_categories_and_the_real_upwork_subcategories() -> None:
    assert taxonomy.category_names() == EXPECTED
    subs = taxonomy.subcategories()
    assert len(subs) == 203
    assert not subs.duplicated(["category", "subcategory"]).any()
    assert set(subs["category"]) == set(EXPECTED)
    assert subs.groupby("category").size().min() >= 8
    assert all(len(s) >= 2 for s in subs["skills"])
    assert taxonomy.version() == "upwork-2023.01"


def _real_pairs() -> set[tuple[str, str]]:
    import os
    from pathlib import Path

    root = Path(os.environ.get("LABORAI_DATA_DIR", "../shared/data"))
    pairs: set[tuple[str, str]] = set()
    for f in sorted((root / "upwork").glob("*.csv")):
        d = pd.read_csv(f, usecols=["occupations_category_pref_label",
                                    "occupations_oservice_pref_label"])
        pairs |= set(map(tuple, d.dropna().to_numpy().tolist()))
    lab = pd.read_csv(root / "labels" / "real_titles_labelled.csv",
                      usecols=["category", "subcategory"]).dropna()
    pairs |= set(map(tuple, lab.to_numpy().tolist()))
    assert pairs, f"no real snapshot found under {root}"  # fails (never skips) without data
    return pairs


def test_every_real_pair_is_in_the_taxonomy() -> None:
    pairs = _real_pairs()
    subs = taxonomy.subcategories()
    mine = set(zip(subs["category"], subs["subcategory"], strict=True))
    assert pairs - mine == set()
    assert len(mine - pairs) == 0  # the taxonomy is exactly the labels seen in real data


def test_matching_ignores_case_and_spacing() -> None:
    got = taxonomy.match_category(pd.Series([" writing", "WEB,MOBILE & SOFTWARE DEV",
                                             "Data  Science&Analytics", "Wrting", None],
                                            index=[5, 6, 7, 8, 9]))
    assert got.tolist() == ["Writing", "Web, Mobile & Software Dev", "Data Science & Analytics",
                            None, None]
    assert got.index.tolist() == [5, 6, 7, 8, 9]
    sub = taxonomy.match_subcategory(["customer service", "Customer Service", "Legal"],
                                     ["email,phone & chat support", "EMAIL, PHONE & CHAT SUPPORT",
                                      "Ghostwriting"])
    assert sub.tolist() == ["Email, Phone & Chat Support"] * 2 + [None]
    assert taxonomy.normalise_label("Financial Management / CFO") == "financial management/cfo"
    assert taxonomy.normalise_label("Full\u2013Stack\tDev") == "full-stack dev"
    with pytest.raises(la.OptionError, match="not one string"):
        taxonomy.match_category("Writing")
    with pytest.raises(la.OptionError, match="same length"):
        taxonomy.match_subcategory(["Writing"], ["a", "b"])


def test_v1_mapping_covers_every_old_subcategory_and_lands_in_the_taxonomy() -> None:
    table = taxonomy.mapping_table("laborai_v1")
    assert len(table) == 138 and not table.duplicated(["from_category", "from_subcategory"]).any()
    subs = taxonomy.subcategories()
    mine = set(zip(subs["category"], subs["subcategory"], strict=True))
    assert set(zip(table["to_category"], table["to_subcategory"], strict=True)) <= mine
    out = taxonomy.map_labels(["Writing", " writing ", "Legal", "Legal", "Nope"],
                              ["Content Writing", "GHOSTWRITING", "Family Law", "Tax Law", "x"])
    assert out["category"].tolist() == ["Writing", "Writing", "Legal", "Legal", None]
    assert out["subcategory"].tolist() == ["Other Content Writing", "Ghostwriting",
                                           "General Counsel", "Tax Law", None]
    assert out["mapped"].tolist() == [True, True, True, True, False]


def test_oli_mapping_gives_one_of_six_classes_for_every_pair() -> None:
    table = taxonomy.mapping_table("oli")
    subs = taxonomy.subcategories()
    assert len(table) == len(subs)
    assert table["to_category"].nunique() == 6
    out = taxonomy.map_labels(subs["category"], subs["subcategory"], "oli")
    assert out["mapped"].all() and out["subcategory"].isna().all()
    with pytest.raises(la.OptionError, match="label_set must be one of 'laborai_v1', 'oli'"):
        taxonomy.mapping_table("fiverr")
    assert set(taxonomy.label_sets()) == {"laborai_v1", "oli"}


def test_projected_value_of_hourly_posts() -> None:
    proj = taxonomy.hourly_projection()
    v = taxonomy.projected_value(
        pd.Series(["hourly", "fixed_budget", "no_budget", "fixed", "hourly", "hourly"]),
        [None, 500, None, 20, 30, None], [20, None, None, None, 10, 25],
        ["30+ hrs/week", None, "", None, None, "Less than 30 hrs/week"],
        ["1 to 3 months", "Less than 1 month", "3 to 6 months", "", "More than 6 months", "?"])
    want0 = round(20 * proj["hours_per_week"]["30+ hrs/week"] * proj["weeks"]["1 to 3 months"], 2)
    assert v.iloc[0] == want0 and v.iloc[1] == 500.0 and np.isnan(v.iloc[2])
    assert v.iloc[3] == 20.0
    assert v.iloc[4] == round(10 * proj["default_hours_per_week"] * 26.0, 2)
    assert np.isnan(v.iloc[5])  # unknown duration: no projection
    assert taxonomy.BUDGET_TYPES == ("fixed_budget", "hourly", "no_budget")


def test_subcategories_filter_and_unknown_category() -> None:
    w = taxonomy.subcategories("Writing")
    assert set(w["category"]) == {"Writing"} and len(w) >= 10
    with pytest.raises(la.OptionError, match="category must be one of .*got 'Wrting'"):
        taxonomy.subcategories("Wrting")


def test_value_tier_default_cut_is_right_closed() -> None:
    v = [0.0, 999.99, 1000.0, 1000.01, np.nan]
    assert taxonomy.value_tier(v).tolist() == ["low", "low", "low", "high", None]


def test_value_tier_any_cuts() -> None:
    s = taxonomy.value_tier(pd.Series([100.0, 500.0, 501.0, 5000.0, 6000.0]), cuts=[500, 5000])
    assert s.tolist() == ["<=500", "<=500", "500-5000", "500-5000", ">5000"]
    with pytest.raises(la.OptionError, match="strictly increasing"):
        taxonomy.value_tier([1.0], cuts=[5000, 500])
    with pytest.raises(la.OptionError, match="one more entry than cuts"):
        taxonomy.value_tier([1.0], cuts=[500], labels=["a"])


def test_event_dates_defaults_and_overrides() -> None:
    d = taxonomy.event_dates()
    assert d["chatgpt"] == pd.Timestamp("2022-11-30")
    assert d["gpt4"] == pd.Timestamp("2023-03-14")
    assert pd.Timestamp("2022-05-01") <= d["image_generators"] <= pd.Timestamp("2022-09-30")
    d2 = taxonomy.event_dates({"chatgpt": "2022-12-01"})
    assert d2["chatgpt"] == pd.Timestamp("2022-12-01")
    assert taxonomy.event_dates()["chatgpt"] == pd.Timestamp("2022-11-30")  # not mutated


def test_category_events_assignment() -> None:
    ev = taxonomy.category_events().set_index("category")
    assert ev.loc["Design & Creative", "event"] == "image_generators"
    assert ev.loc["Writing", "event_date"] == pd.Timestamp("2022-11-30")
    assert pd.isna(ev.loc["Legal", "event_date"])
    ev2 = taxonomy.category_events({"Legal": "gpt4"}).set_index("category")
    assert ev2.loc["Legal", "event_date"] == pd.Timestamp("2023-03-14")
    with pytest.raises(la.OptionError, match="event for 'Legal' must be one of"):
        taxonomy.category_events({"Legal": "gpt5"})
