"""Tests of laborai.indicators against hand-computed values on a tiny hand-made dataset, and
small-cell suppression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from laborai import indicators as I
from laborai.errors import DataValidationError, OptionError

DS = "Data Science & Analytics"

# (date, category, posts, flagged, flagged high-value, skills of flagged, skills of others)
ROWS = [
    ("2021-01-01", "Writing", 1, 0, 0, "", "bookkeeping"),
    ("2021-06-01", "Translation", 20, 4, 2, "bookkeeping", "bookkeeping"),
    ("2021-06-01", "Writing", 10, 1, 0, "bookkeeping", "bookkeeping"),
    ("2022-03-01", "Translation", 10, 6, 5, "Midjourney; AI art", "bookkeeping"),
    ("2022-03-01", "Writing", 30, 12, 3, "chatbot development; sentiment analysis", "ChatGPT"),
    ("2022-03-01", DS, 12, 12, 6, "bookkeeping", ""),
    ("2023-02-01", "Writing", 8, 8, 8, "bookkeeping", "bookkeeping"),
    ("2023-12-31", "Writing", 1, 0, 0, "", "bookkeeping"),
]


def tiny() -> pd.DataFrame:
    recs = []
    for date, cat, n, k, kh, sk_f, sk_o in ROWS:
        for i in range(n):
            flagged = i < k
            high = i < kh
            # unflagged posts are high-value: they must never enter the high-value share
            value = (2500.0 if high else 300.0) if flagged else 5000.0
            recs.append((pd.Timestamp(date), cat, flagged, value, sk_f if flagged else sk_o))
    df = pd.DataFrame(recs, columns=["posted_date", "category", "flag_ai", "contract_value_usd",
                                     "skills"])
    df["flag_x"] = df["category"].eq("Translation")
    return df


def cell(t: pd.DataFrame, **keys):
    m = np.ones(len(t), dtype=bool)
    for k, v in keys.items():
        m &= (t[k] == v).to_numpy()
    assert m.sum() == 1, keys
    return t[m].iloc[0]


def test_share_by_category_hand_computed():
    t = I.share_by_category(tiny(), period="year", min_cell=0)
    assert len(t) == (12 + 1) * 3  # every taxonomy category x year, plus all
    for cat, year, n, k in [("Translation", "2021", 20, 4), ("Writing", "2021", 11, 1),
                            ("Translation", "2022", 10, 6), ("Writing", "2022", 30, 12),
                            (DS, "2022", 12, 12), ("Writing", "2023", 9, 8),
                            (I.ALL_CATEGORIES, "2021", 31, 5), (I.ALL_CATEGORIES, "2022", 52, 30),
                            (I.ALL_CATEGORIES, "2023", 9, 8)]:
        r = cell(t, category=cat, period=year)
        assert (r["n_posts"], r["n_flagged"]) == (n, k)
        assert r["share"] == pytest.approx(k / n)
        assert not r["suppressed"]
    empty = cell(t, category="Legal", period="2022")
    assert empty["n_posts"] == 0 and np.isnan(empty["share"])
    q = I.share_by_category(tiny(), period="quarter", min_cell=0)
    assert set(q["period"]) == {"2021Q1", "2021Q2", "2022Q1", "2023Q1", "2023Q4"}
    m = I.share_by_category(tiny(), period="month", min_cell=0)
    assert "2022-03" in set(m["period"])


def test_share_by_category_suppression():
    t = I.share_by_category(tiny(), period="year")  # min_cell = 10
    w21 = cell(t, category="Writing", period="2021")  # 11 posts, 1 flagged
    assert w21["suppressed"] and w21["n_posts"] == 11
    assert np.isnan(w21["n_flagged"]) and np.isnan(w21["share"])
    w22 = cell(t, category="Writing", period="2022")  # 30 posts, 12 flagged
    assert not w22["suppressed"] and w22["share"] == pytest.approx(0.4)
    w23 = cell(t, category="Writing", period="2023")  # 9 posts
    assert w23["suppressed"] and np.isnan(w23["n_posts"]) and np.isnan(w23["share"])
    # no shown share or count is built from fewer than 10 posts
    shown = t[~t["suppressed"]]
    assert (shown["n_flagged"] >= 10).all() and (shown["n_posts"] >= 10).all()
    assert (t.loc[t["suppressed"], "share"].isna()).all()


def test_distribution_and_group_share_hand_computed():
    d = I.distribution(tiny(), min_cell=0)
    assert len(d) == 2 * 12
    assert cell(d, period="2020-21", category="Translation")["share"] == pytest.approx(0.8)
    assert cell(d, period="2020-21", category="Writing")["share"] == pytest.approx(0.2)
    assert cell(d, period="2022-23", category="Writing")["share"] == pytest.approx(20 / 38)
    assert cell(d, period="2022-23", category=DS)["share"] == pytest.approx(12 / 38)
    assert cell(d, period="2022-23", category="Legal")["share"] == 0.0
    sums = d.groupby("period")["share"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0)
    g = I.category_group_share(tiny(), [DS, "Web, Mobile & Software Dev"], min_cell=0)
    assert g["group"].iloc[0] == "Data Science & Analytics + Web, Mobile & Software Dev"
    assert g.set_index("period")["share"].to_dict() == pytest.approx(
        {"2020-21": 0.0, "2022-23": 12 / 38})
    # suppression at the default: 2020-21 has only 5 AI posts in total
    s = I.distribution(tiny())
    assert s.loc[s["period"] == "2020-21", "suppressed"].all()
    assert s.loc[s["period"] == "2020-21", "share"].isna().all()
    assert cell(s, period="2022-23", category="Writing")["share"] == pytest.approx(20 / 38)
    assert cell(s, period="2022-23", category="Translation")["suppressed"]  # 6 posts
    gs = I.category_group_share(tiny(), ["Writing"]).set_index("period")
    assert gs.loc["2020-21", "suppressed"] and np.isnan(gs.loc["2020-21", "share"])
    assert gs.loc["2022-23", "share"] == pytest.approx(20 / 38)
    with pytest.raises(DataValidationError, match=r"unknown: \['Poetry'\]"):
        I.category_group_share(tiny(), ["Poetry"])


def test_concentration_hand_computed():
    c = I.concentration(tiny(), flags={"ai": "flag_ai", "x": "flag_x"}, top_k=2, min_cell=0)
    r = cell(c, technology="ai", period="2022-23")
    assert r["herfindahl"] == pytest.approx((36 + 400 + 144) / 38 ** 2)
    assert r["top_k_share"] == pytest.approx(32 / 38)
    assert r["top_categories"] == "Writing + Data Science & Analytics"
    r = cell(c, technology="ai", period="2020-21")
    assert r["herfindahl"] == pytest.approx(0.8 ** 2 + 0.2 ** 2)
    assert r["top_k_share"] == pytest.approx(1.0)
    x = cell(c, technology="x", period="2020-21")  # every Translation post: 20
    assert x["herfindahl"] == pytest.approx(1.0) and x["n_flagged"] == 20
    s = I.concentration(tiny(), flags={"ai": "flag_ai"}, top_k=1)
    r = cell(s, technology="ai", period="2020-21")
    assert r["suppressed"] and np.isnan(r["herfindahl"]) and r["top_categories"] == ""
    assert cell(s, technology="ai", period="2022-23")["top_k_share"] == pytest.approx(20 / 38)
    with pytest.raises(OptionError, match="top_k must be a positive integer; got 0"):
        I.concentration(tiny(), flags={"ai": "flag_ai"}, top_k=0)


def test_yoy_growth_hand_computed():
    g = I.yoy_growth(tiny(), min_cell=0).set_index("year")
    assert g["group"].iloc[0] == "non-technical"
    assert g["n_flagged"].tolist() == [5, 18, 8]  # the 12 Data Science posts are excluded
    assert np.isnan(g.loc[2021, "growth"])
    assert g.loc[2022, "growth"] == pytest.approx(18 / 5 - 1)
    assert g.loc[2023, "growth"] == pytest.approx(8 / 18 - 1)
    assert g["complete_year"].all()
    part = I.yoy_growth(tiny().iloc[1:], min_cell=0).set_index("year")  # starts in June 2021
    assert not part.loc[2021, "complete_year"] and part.loc[2022, "complete_year"]
    s = I.yoy_growth(tiny()).set_index("year")
    assert s["suppressed"].tolist() == [True, True, True]
    assert np.isnan(s.loc[2022, "growth"])  # previous year has 5 posts
    assert s.loc[2022, "n_flagged"] == 18
    all_cats = I.yoy_growth(tiny(), categories=["Writing", DS], min_cell=0).set_index("year")
    assert all_cats["n_flagged"].tolist() == [1, 24, 8]


def test_high_value_share_hand_computed():
    h = I.high_value_share(tiny(), min_cell=0)
    assert cell(h, period="2020-21", category="Translation")["share"] == pytest.approx(0.5)
    assert cell(h, period="2020-21", category=I.ALL_CATEGORIES)["share"] == pytest.approx(0.4)
    assert cell(h, period="2022-23", category="Writing")["share"] == pytest.approx(11 / 20)
    assert cell(h, period="2022-23", category="Translation")["share"] == pytest.approx(5 / 6)
    assert cell(h, period="2022-23", category=I.ALL_CATEGORIES)["share"] == pytest.approx(22 / 38)
    s = I.high_value_share(tiny())
    assert cell(s, period="2022-23", category=I.ALL_CATEGORIES)["share"] == pytest.approx(22 / 38)
    assert cell(s, period="2022-23", category="Writing")["share"] == pytest.approx(11 / 20)
    ds = cell(s, period="2022-23", category=DS)  # 12 flagged but 6 high-value
    assert ds["suppressed"] and np.isnan(ds["share"]) and ds["n_flagged"] == 12
    tr = cell(s, period="2022-23", category="Translation")
    assert tr["suppressed"] and np.isnan(tr["n_flagged"])
    lower = I.high_value_share(tiny(), threshold=200.0, min_cell=0)
    assert cell(lower, period="2022-23", category=I.ALL_CATEGORIES)["share"] == 1.0
    # flagged posts without a value (no budget) leave the denominator and are counted
    t = tiny()
    wr = (t["category"] == "Writing") & (t["posted_date"].dt.year >= 2022) & t["flag_ai"]
    t.loc[t.index[wr][:4], "contract_value_usd"] = np.nan
    nv = I.high_value_share(t, min_cell=0)
    w = cell(nv, period="2022-23", category="Writing")
    assert w["n_flagged_no_value"] == 4 and w["n_flagged"] == 16
    assert cell(nv, period="2022-23", category=I.ALL_CATEGORIES)["n_flagged_no_value"] == 4


def test_skill_family_demand_hand_computed():
    t = I.skill_family_demand(tiny(), period="year", min_cell=0)
    y22 = t[t["period"] == "2022"].set_index("family")
    assert y22.loc["ai_content_creation", "n_posts"] == 6  # two skills, one family: once
    assert y22.loc["conversational_ai", "n_posts"] == 12
    assert y22.loc["natural_language_processing", "n_posts"] == 12
    assert y22.loc["ai_tools_services", "n_posts"] == 0  # "ChatGPT" only on unflagged posts
    assert (y22["n_period"] == 30).all()
    assert y22.loc["conversational_ai", "share"] == pytest.approx(0.4)
    assert y22.loc["conversational_ai", "family_label"] == "Conversational AI"
    every = I.skill_family_demand(tiny(), flag=None, period="year", min_cell=0)
    e22 = every[every["period"] == "2022"].set_index("family")
    assert e22.loc["ai_tools_services", "n_posts"] == 18
    assert e22.loc["ai_tools_services", "share"] == pytest.approx(18 / 52)
    s = I.skill_family_demand(tiny(), period="year").set_index(["period", "family"])
    assert s.loc[("2022", "ai_content_creation"), "suppressed"]  # 6 posts
    assert s.loc[("2022", "conversational_ai"), "share"] == pytest.approx(0.4)


def test_suppress_helper_and_errors():
    f = pd.DataFrame({"n": [3, 10, 50], "k": [1, 10, 9], "share": [1 / 3, 1.0, 0.18]})
    s = I.suppress(f, ["n", "k"], ["k", "share"], min_cell=10)
    assert s["suppressed"].tolist() == [True, False, True]
    assert np.isnan(s["share"].iloc[0]) and s["share"].iloc[1] == 1.0
    assert f["share"].notna().all()  # input not mutated
    with pytest.raises(OptionError, match="min_cell must be a non-negative integer; got -1"):
        I.suppress(f, ["n"], ["share"], min_cell=-1)
    df = tiny()
    with pytest.raises(DataValidationError, match=r"needs column\(s\) \['flag_cloud'\]"):
        I.share_by_category(df, flag="flag_cloud")
    with pytest.raises(OptionError, match="period must be one of 'year', 'quarter', 'month'"):
        I.share_by_category(df, period="week")  # type: ignore[arg-type]
    bad = df.assign(flag_ai=df["flag_ai"].astype(object))
    bad.loc[0, "flag_ai"] = None
    with pytest.raises(DataValidationError, match=r"flag column 'flag_ai' has 1 missing"):
        I.share_by_category(bad)
    with pytest.raises(DataValidationError, match="must be boolean; got values such as"):
        I.share_by_category(df.assign(flag_ai="yes"))
    with pytest.raises(DataValidationError, match="'posted_date' must be datetime64"):
        I.share_by_category(df.assign(posted_date=df["posted_date"].astype(str)))
    with pytest.raises(OptionError, match="spans overlap"):
        I.distribution(df, spans={"a": ("2021-01-01", "2022-06-30"),
                                  "b": ("2022-01-01", "2022-12-31")})
    with pytest.raises(OptionError, match="must end after it starts"):
        I.distribution(df, spans={"a": ("2022-01-01", "2021-01-01")})


def test_row_order_does_not_matter():
    df = tiny()
    shuffled = df.sample(frac=1.0, random_state=3)
    for fn in (I.share_by_category, I.distribution, I.high_value_share):
        pd.testing.assert_frame_equal(fn(df, min_cell=0), fn(shuffled, min_cell=0))


def test_calibration_table_on_ground_truth():
    import laborai as la

    p = la.simulate_marketplace(seed=0, n_posts=60_000).job_posts
    p = p.assign(flag_ai=p["is_ai"], flag_cloud=p["is_cloud"], flag_rpa=p["is_rpa"])
    c = I.calibration(p)
    assert c["key"].tolist() == [k for k, *_ in I.PUBLISHED_TARGETS]
    m = c.set_index("key")["measured"]
    dist = I.distribution(p).set_index(["period", "category"])["share"]
    assert m["translation_share_2022_23"] == pytest.approx(dist[("2022-23", "Translation")])
    assert m["technical_share_2020_21"] == pytest.approx(
        dist[("2020-21", DS)] + dist[("2020-21", "Web, Mobile & Software Dev")])
    assert (c["within"] == [I._within(a, b, r) for a, b, r in
                            zip(c["measured"], c["published"], c["tolerance"], strict=True)]).all()
    assert I._within(0.71, 0.70, "above") and not I._within(0.69, 0.70, "above")
    assert I._within(0.60, 0.55, "within 0.05") and not I._within(0.61, 0.55, "within 0.05")


def test_calibration_end_to_end_from_classifier_flags():
    """Default marketplace -> labelled samples -> models -> flags -> published figures."""
    import laborai as la
    from laborai import classify

    p = la.simulate_marketplace(seed=0).job_posts
    flagged = p
    for tech in classify.TECHNOLOGIES:
        train, _ = classify.split_labelled(classify.labelled_posts(p, tech, seed=0), seed=0)
        model = classify.train(train, "label", tech, seed=0)
        flagged = classify.flag_posts(flagged, tech, model=model)
    c = I.calibration(flagged).set_index("key")
    truth = I.calibration(p.assign(flag_ai=p["is_ai"], flag_cloud=p["is_cloud"],
                                   flag_rpa=p["is_rpa"])).set_index("key")
    # the measurement chain reproduces the ground-truth indicators closely ...
    diff = (c["measured"] - truth["measured"]).abs()
    assert (diff.drop("nontechnical_growth_2023") < 0.04).all(), diff
    assert diff["nontechnical_growth_2023"] < 0.15
    # ... and lands within the documented tolerance of every published figure
    assert c["within"].all(), c
