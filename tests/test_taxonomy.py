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


def test_twelve_categories_and_over_130_subcategories() -> None:
    assert taxonomy.category_names() == EXPECTED
    subs = taxonomy.subcategories()
    assert len(subs) > 130
    assert not subs.duplicated(["category", "subcategory"]).any()
    assert set(subs["category"]) == set(EXPECTED)
    assert subs.groupby("category").size().min() >= 10
    assert all(len(s) >= 2 for s in subs["skills"])


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
