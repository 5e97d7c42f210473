"""Tests of laborai.classify: query rules (every trap), labelled data, training, evaluation,
comparison with the keyword baseline, save/load without pickle, flags and skill families."""

from __future__ import annotations

import os
import zipfile

import numpy as np
import pandas as pd
import pytest

import laborai as la
from laborai import classify as C
from laborai.data import simulate as S
from laborai.errors import DataValidationError, OptionError, SmallSampleWarning

# ----------------------------------------------------------------------------- query rules

# Every keyword trap of the issue and of the simulator, with what a careless query would hit.
TRAPS = [
    "Convert logo to AI and EPS vector files",  # Adobe Illustrator "AI" file format
    "Edit .ai file in Adobe Illustrator",
    "Need print-ready AI, PDF and SVG files",
    "Redraw sketch as vector AI file",
    "Email inbox management",  # "ai" inside "email"
    "Thai to English translation",
    "Translate training manual to Spanish",
    "Detail drawings for Dubai villa",
    "Bookkeeping for Maine LLC",
    "Air conditioning (HVAC) layout design",
    "Rainwater drainage plan",
    "Mail merge and email follow-ups",
    "Maintenance contract review",
    "Write a novel chapter set in Shanghai",
    "Blog posts about Thailand travel",
    "Trainer for support team",
    "Word cloud poster design",  # "cloud"
    "SoundCloud music promotion",
    "Robotics arm CAD model",  # "robot"
]


def _posts(titles, skills=None, **cols):
    d = {"title": list(titles)}
    if skills is not None:
        d["skills"] = list(skills)
    d.update(cols)
    return pd.DataFrame(d)


@pytest.mark.parametrize("title", TRAPS)
def test_traps_are_not_flagged_by_any_query(title):
    for tech in C.TECHNOLOGIES:
        assert not C.match_text([title], tech)[0], (tech, title)


def test_traps_would_fool_a_naive_query():
    # Every trap is caught by at least one technology's naive (substring) query.
    missed = [t for t in TRAPS
              if not any(C.match_text([t], tech, mode="naive")[0] for tech in C.TECHNOLOGIES)]
    assert missed == []


def test_every_simulator_trap_is_rejected():
    titles = [t.format(project="startup") for traps in S._TRAPS.values() for t in traps]
    assert len(titles) > 30
    for tech in C.TECHNOLOGIES:
        hits = [t for t, h in zip(titles, C.match_text(titles, tech), strict=True) if h]
        assert hits == [], (tech, hits)


def test_every_simulator_query_trap_fools_the_query():
    # The traps of _tech_titles.QUERY_TRAPS are unrelated posts the keyword query flags (its
    # false positives): each is flagged by its own technology's query.
    from laborai.data import _tech_titles as TT

    for tech, by_cat in TT.QUERY_TRAPS.items():
        titles = [t for traps in by_cat.values() for t in traps]
        assert len(titles) >= 15
        missed = [t for t, h in zip(titles, C.match_text(titles, tech), strict=True) if not h]
        assert missed == [], (tech, missed)


def test_every_simulator_technology_skill_is_found():
    # Technology titles need not name a query term ("DevOps engineer needed"); the skills of
    # cloud and RPA posts always do, so the query on title + skills finds every related post.
    from laborai.data import _tech_titles as TT

    assert C.match_text(list(TT.CLOUD_SKILLS), "cloud").all()
    assert C.match_text(list(TT.RPA_SKILLS), "rpa").all()
    assert not C.match_text(list(TT.CLOUD_SKILLS), "rpa").any()
    assert not C.match_text(list(TT.RPA_SKILLS), "cloud").any()


@pytest.mark.parametrize(("text", "expected"), [
    ("Need AI help", True),  # upper-case acronym
    ("Need ai help", False),  # lower-case "ai" is not the acronym
    ("Need Ai help", False),
    ("AI-generated articles", True),  # hyphen is a word boundary
    ("Humanize ai-generated articles", True),  # the compound itself is an include term
    ("RAIL design", False),  # no acronym inside a word
    ("ML engineer", True),
    ("HTML email", False),
    ("Build a chatbot", True),
    ("Build chatbots", True),
    ("Machine Learning model", True),  # case-insensitive phrase
    ("machinelearning", False),
    ("Edit .ai file and build an AI chatbot", True),  # exclusion deletes only its phrase
    ("Convert AI files", False),
    ("RAG search", True),
    ("rag doll sewing", False),
    ("GPT-4 features", True),
])
def test_ai_case_and_word_rules(text, expected):
    assert bool(C.match_text([text], "ai")[0]) is expected


@pytest.mark.parametrize(("text", "tech", "expected"), [
    ("Migrate to AWS", "cloud", True),
    ("cloud computing", "cloud", True),
    ("Word cloud and tag cloud", "cloud", False),
    ("Word cloud for AWS dashboard", "cloud", True),
    ("RPA developer", "rpa", True),
    ("rpa", "rpa", False),  # acronym only in upper case
    ("UiPath bot", "rpa", True),
    ("Robotic arm design", "rpa", False),
])
def test_cloud_and_rpa_rules(text, tech, expected):
    assert bool(C.match_text([text], tech)[0]) is expected


def test_candidate_mode_ignores_exclusions_and_naive_is_substring():
    t = ["Convert logo to AI and EPS vector files", "Email inbox management"]
    assert C.match_text(t, "ai", mode="candidate").tolist() == [True, False]
    assert C.match_text(t, "ai", mode="keyword").tolist() == [False, False]
    assert C.match_text(t, "ai", mode="naive").tolist() == [True, True]


def test_query_uses_skills_and_description():
    posts = _posts(["Logo design", "Logo design", "Logo design"],
                   ["Midjourney; branding", "branding", None],
                   description=[None, "We need a TensorFlow model", np.nan])
    q = C.query(posts, "ai")
    assert q.tolist() == [True, True, False]
    assert q.name == "query_ai"
    assert q.index.equals(posts.index)
    # without the description the second post is not AI-related
    assert C.query(posts.drop(columns="description"), "ai").tolist() == [True, False, False]


def test_query_terms_include_skill_dictionary():
    t = C.query_terms("ai")
    assert {"Midjourney", "RLHF", "sentiment analysis", "chatbot development"} <= set(t.include)
    assert "AI" in t.include_case_sensitive and "AI" not in t.include
    assert "Adobe Illustrator" in t.exclude
    assert C.query_terms("cloud").label == "Cloud computing"


def test_query_errors():
    posts = _posts(["AI"])
    with pytest.raises(OptionError, match=r"technology must be one of 'ai', 'cloud', 'rpa'; "
                                          r"got 'blockchain'"):
        C.query(posts, "blockchain")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=r"mode must be one of 'keyword', 'candidate', 'naive'"):
        C.query(posts, "ai", mode="fuzzy")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match=r"column 'title' is required.*got columns "
                                                  r"\['name'\]"):
        C.query(pd.DataFrame({"name": ["AI"]}), "ai")
    with pytest.raises(DataValidationError, match="must be a pandas DataFrame"):
        C.query(["AI"], "ai")  # type: ignore[arg-type]


def test_query_on_simulated_posts_has_full_recall(market):
    p = market.job_posts
    for tech in C.TECHNOLOGIES:
        q = C.query(p, tech).to_numpy()
        truth = p[f"is_{tech}"].to_numpy()
        assert (q & truth).sum() == truth.sum()  # every related post is found
        naive = C.query(p, tech, mode="naive").to_numpy()
        assert naive.sum() > q.sum()  # the traps and substrings add false hits


# ----------------------------------------------------------------------------- labelled data


@pytest.fixture(scope="module")
def market():
    return la.simulate_marketplace(seed=5, n_posts=100_000)


@pytest.fixture(scope="module")
def ai_sets(market):
    lab = C.labelled_posts(market.job_posts, "ai", seed=3)
    return C.split_labelled(lab, test_size=0.25, seed=3)


@pytest.fixture(scope="module")
def ai_model(ai_sets):
    train, _ = ai_sets
    return C.train(train, "label", "ai", seed=7, n_estimators=100, cv=3)


def test_labelled_posts_strata_and_noise(market):
    p = market.job_posts
    before = p.copy()
    lab = C.labelled_posts(p, "ai", seed=3)
    pd.testing.assert_frame_equal(p, before)  # input not mutated
    assert len(lab) == 2000 and lab.index.is_unique
    counts = lab["stratum"].value_counts()
    assert counts["positive"] == 700 and counts["hard"] == 600 and counts["random"] == 700
    assert lab.loc[lab["stratum"] == "positive", "label_true"].all()
    hard = lab[lab["stratum"] == "hard"]
    assert not hard["label_true"].any() and hard["hard"].all()
    assert (lab["label_true"] == p.loc[lab.index, "is_ai"]).all()
    flip = (lab["label"] != lab["label_true"]).mean()
    assert 0.005 < flip < 0.06  # 2% ordinary, 5% hard noise
    assert len(C.labelled_posts(p, "cloud", seed=3)) == 1000
    again = C.labelled_posts(p, "ai", seed=3)
    pd.testing.assert_frame_equal(lab, again)  # deterministic
    train, test = C.split_labelled(lab, test_size=0.25, seed=3)
    assert len(test) == 500 and len(train) == 1500
    assert not set(train.index) & set(test.index)
    assert test["label"].mean() == pytest.approx(lab["label"].mean(), abs=0.01)


def test_labelled_posts_errors_and_warning(market):
    p = market.job_posts
    with pytest.raises(DataValidationError, match=r"ground-truth column 'is_ai' is missing"):
        C.labelled_posts(p.drop(columns="is_ai"), "ai")
    with pytest.raises(OptionError, match=r"noise must be in \[0, 1\); got 1.5"):
        C.labelled_posts(p, "ai", noise=1.5)
    with pytest.raises(OptionError, match=r"positive_share \+ hard_share must be at most 1"):
        C.labelled_posts(p, "ai", positive_share=0.8, hard_share=0.5)
    with pytest.raises(DataValidationError, match=r"200 rows cannot give a labelled sample"):
        C.labelled_posts(p.head(200), "ai")
    small = la.simulate_marketplace(seed=1, n_posts=20_000).job_posts
    with pytest.warns(SmallSampleWarning, match="related and .* hard posts, found"):
        lab = C.labelled_posts(small, "rpa", n=1000)
    assert len(lab) == 1000
    with pytest.raises(DataValidationError, match="column 'label' is missing"):
        C.split_labelled(p.head(50))
    with pytest.raises(OptionError, match=r"test_size must be in \(0, 1\); got 1"):
        C.split_labelled(lab, test_size=1)


# ----------------------------------------------------------------------------- model


def test_train_and_evaluate(ai_model, ai_sets):
    _, test = ai_sets
    ev = ai_model.evaluate(test, "label")
    assert ev.n == len(test)
    (tn, fp), (fn, tp) = ev.confusion.tolist()
    pred = ai_model.predict(test).to_numpy()
    y = test["label"].to_numpy()
    assert tp == int((pred & y).sum()) and fp == int((pred & ~y).sum())
    assert fn == int((~pred & y).sum()) and tn == int((~pred & ~y).sum())
    assert ev.accuracy == pytest.approx((tp + tn) / len(y))
    assert ev.precision == pytest.approx(tp / (tp + fp))
    assert ev.recall == pytest.approx(tp / (tp + fn))
    assert ev.f1 == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert ev.accuracy > 0.93  # noisy labels (2-5% flipped) cap this below 1
    truth = ai_model.evaluate(test, test["label_true"].to_numpy())
    assert truth.accuracy > 0.96
    t = ev.tidy()
    assert list(t.columns[:7]) == ["term", "estimate", "std_error", "statistic", "p_value",
                                   "conf_low", "conf_high"]
    assert t["term"].tolist() == ["accuracy", "precision", "recall", "f1"]
    acc = t.iloc[0]
    assert acc["conf_low"] < acc["estimate"] < acc["conf_high"]
    assert acc["std_error"] == pytest.approx(np.sqrt(ev.accuracy * (1 - ev.accuracy) / ev.n))
    assert t["cv_mean"].notna().all()  # cross-validation from training
    assert ai_model.cv_scores is not None and len(ai_model.cv_scores) == 3
    assert "Classifier evaluation" in ev.summary()
    assert repr(ev).startswith("Evaluation(technology='ai', method='model', n=500")
    assert repr(ai_model) == ("Classifier(technology='ai', n_train=1500, n_estimators=100, "
                              "seed=7, threshold=0.5)")


def test_wilson_interval_hand_computed():
    lo, hi = C._wilson(8, 10, 0.05)
    # Wilson (1927) score interval for 8/10 at 95%: 0.4902, 0.9433
    assert lo == pytest.approx(0.4901624, abs=1e-6)
    assert hi == pytest.approx(0.9433178, abs=1e-6)


def test_model_beats_keywords_at_equal_recall(ai_model, ai_sets, market):
    _, test = ai_sets
    # Since the simulator's plain titles are calibrated on real titles (issue 12) its AI traps
    # are rarer and the keyword query is ~98% precise on the held-out set against the truth;
    # since its technology titles are realistic (issue 12, item 4) the title words of AI posts
    # overlap those of plain posts, and the query's few remaining false positives there (3-5
    # of 500: Data Science posts whose skills are gen-AI skills) score like the hardest related
    # posts. At equal recall the model must be at least as precise; on the whole marketplace,
    # at its own threshold, it must keep 99% of the recall and be at least as precise as the
    # query against the truth.
    for labels in ("label", "label_true"):
        cmp = C.compare_with_keywords(ai_model, test, labels).set_index("method")
        kw, eq = cmp.loc["keyword"], cmp.loc["model_equal_recall"]
        assert eq["recall"] >= kw["recall"]
        assert eq["precision"] >= kw["precision"], cmp
    p = market.job_posts
    cmp = C.compare_with_keywords(ai_model, p, p["is_ai"]).set_index("method")
    assert cmp.loc["model", "recall"] >= 0.99, cmp
    assert cmp.loc["model", "precision"] >= cmp.loc["keyword", "precision"], cmp
    # cloud: the query also finds "cloud infrastructure" hosting work that is not cloud computing
    lab = C.labelled_posts(market.job_posts, "cloud", seed=3)
    train, test = C.split_labelled(lab, seed=3)
    model = C.train(train, "label", "cloud", seed=7, n_estimators=100)
    cmp = C.compare_with_keywords(model, test, "label_true").set_index("method")
    assert cmp.loc["model_equal_recall", "recall"] >= cmp.loc["keyword", "recall"]
    assert cmp.loc["model_equal_recall", "precision"] > cmp.loc["keyword", "precision"]
    assert cmp.loc["model_equal_recall", "precision"] >= 0.98


def test_training_is_deterministic_and_does_not_mutate(ai_sets):
    train, test = ai_sets
    before = train.copy()
    a = C.train(train, train["label"].to_numpy(), "ai", seed=1, n_estimators=20)
    b = C.train(train, train["label"].tolist(), "ai", seed=1, n_estimators=20)
    c = C.train(train, "label", "ai", seed=2, n_estimators=20)
    pd.testing.assert_frame_equal(train, before)
    pa, pb = a.predict_proba(test), b.predict_proba(test)
    np.testing.assert_array_equal(pa.to_numpy(), pb.to_numpy())
    assert not np.array_equal(pa.to_numpy(), c.predict_proba(test).to_numpy())
    assert a.input_hash == b.input_hash
    # row order does not change the hash-independent predictions of a fitted model
    shuffled = test.sample(frac=1.0, random_state=0)
    np.testing.assert_array_equal(a.predict(shuffled).loc[test.index].to_numpy(),
                                  a.predict(test).to_numpy())


def test_train_errors(ai_sets):
    train, _ = ai_sets
    with pytest.raises(DataValidationError, match=r"labels must contain both classes.*got 0"):
        C.train(train, np.zeros(len(train), dtype=bool), "ai")
    with pytest.raises(DataValidationError, match=r"labels must have one value per post"):
        C.train(train, [True, False], "ai")
    with pytest.raises(DataValidationError, match=r"labels must be boolean.*'yes'"):
        C.train(train, ["yes"] * len(train), "ai")
    with pytest.raises(DataValidationError, match=r"labels: column 'lbl' is not in posts"):
        C.train(train, "lbl", "ai")
    with pytest.raises(OptionError, match=r"n_jobs must be one of 1, 2; got 8"):
        C.train(train, "label", "ai", n_jobs=8)
    with pytest.raises(OptionError, match=r"n_estimators must be a positive integer; got 0"):
        C.train(train, "label", "ai", n_estimators=0)
    with pytest.raises(OptionError, match=r"cv must be 0 \(none\) or an integer of at least 2"):
        C.train(train, "label", "ai", cv=1)
    with pytest.raises(OptionError, match=r"n_folds must be an integer of at least 2; got 1"):
        C.cross_validate(train, "label", "ai", n_folds=1)


def test_cross_validate_folds(ai_sets):
    train, _ = ai_sets
    cv = C.cross_validate(train, "label", "ai", n_folds=3, seed=0, n_estimators=20)
    assert cv["fold"].tolist() == [0, 1, 2]
    assert cv["n"].sum() == len(train)
    assert (cv[["accuracy", "precision", "recall", "f1"]] > 0.8).all().all()


# ----------------------------------------------------------------------------- save / load


def test_save_load_round_trip_without_pickle(ai_model, ai_sets, tmp_path):
    _, test = ai_sets
    path = ai_model.save(tmp_path / "ai.skops")
    assert zipfile.is_zipfile(path)  # skops format: a zip of JSON schema + arrays
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert "schema.json" in names
        assert not any(n.endswith((".pkl", ".pickle")) for n in names)
    back = C.load(path)
    assert repr(back) == repr(ai_model)
    assert back.input_hash == ai_model.input_hash and back.version == ai_model.version
    np.testing.assert_array_equal(back.predict_proba(test).to_numpy(),
                                  ai_model.predict_proba(test).to_numpy())
    pd.testing.assert_frame_equal(back.cv_scores, ai_model.cv_scores)


def test_load_refuses_code(tmp_path):
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    bad = tmp_path / "bad.skops"
    sio.dump({"format": "laborai.classify.Classifier",
              "pipeline": FunctionTransformer(func=os.system)}, bad)
    with pytest.raises(DataValidationError, match=r"not trusted: \[.*'posix.system'|"
                                                  r"not trusted: \[.*system"):
        C.load(bad)
    other = tmp_path / "other.skops"
    sio.dump({"format": "something else"}, other)
    with pytest.raises(DataValidationError, match="not a laborai classifier file"):
        C.load(other)


# ----------------------------------------------------------------------------- flags


def test_flag_posts(ai_model, market):
    p = market.job_posts.head(3000)
    before = p.copy()
    out = C.flag_posts(p, "ai", model=ai_model)
    pd.testing.assert_frame_equal(p, before)
    assert "flag_ai" in out.columns and out["flag_ai"].dtype == bool
    np.testing.assert_array_equal(out["flag_ai"].to_numpy(), ai_model.predict(p).to_numpy())
    kw = C.flag_posts(p, "cloud", column="cloud")
    np.testing.assert_array_equal(kw["cloud"].to_numpy(), C.query(p, "cloud").to_numpy())
    # the model only flags candidates of the broad query
    cand = C.query(p, "ai", mode="candidate").to_numpy()
    assert not (out["flag_ai"].to_numpy() & ~cand).any()
    with pytest.raises(OptionError, match=r"model was trained for technology 'ai' but "
                                          r"technology='rpa'"):
        C.flag_posts(p, "rpa", model=ai_model)


# ----------------------------------------------------------------------------- skills


def test_skill_families_hand_example():
    posts = pd.DataFrame({
        "post_id": ["a", "b", "c", "d"],
        "skills": ["Sentiment Analysis; text summarization", "chatbot development; Python",
                   "bookkeeping", None],
    })
    out = C.skill_families(posts)
    assert out["post_id"].tolist() == ["a", "a", "b"]
    assert out["row"].tolist() == [0, 0, 1]
    assert out["skill"].tolist() == ["Sentiment Analysis", "text summarization",
                                     "chatbot development"]
    assert out["family"].tolist() == ["natural_language_processing",
                                      "natural_language_processing", "conversational_ai"]
    assert out["family_label"].tolist()[-1] == "Conversational AI"
    with pytest.raises(DataValidationError, match="skills column 'tags' is missing"):
        C.skill_families(posts, column="tags")


def test_skill_dictionary_matches_simulated_families(market):
    d = C.skill_dictionary()
    assert d["family"].nunique() >= 7 and not d["skill"].duplicated().any()
    p = market.job_posts
    ai = p[p["is_ai"]]
    fam = C.skill_families(ai)
    first = fam.drop_duplicates("row")
    # every AI post carries a skill of its true family
    got = fam.groupby("row")["family"].agg(set)
    truth = ai["skill_family"].to_numpy()
    assert len(got) == len(ai)
    assert all(truth[r] in s for r, s in got.items())
    assert len(first) == len(ai)


# ----------------------------------------------------------------------------- hostile model files
# Files made only of trusted types that crashed (segfault) or hung the interpreter before
# load() validated the parameters (issue 12). Each is built from a real small model, altered,
# saved with skops, and then loaded and used in a fresh interpreter, so that a crash or a hang
# fails the test instead of killing the test run.

_HOSTILE_SCRIPT = """
import sys
import pandas as pd
from laborai import classify as C
from laborai.errors import LaborAIError
try:
    m = C.load(sys.argv[1])
except LaborAIError as exc:
    print("REFUSED", type(exc).__name__, exc)
    sys.exit(0)
m.predict(pd.DataFrame({"title": ["AI chatbot " + "a" * 40 + "!", "AI model for pricing"]}))
print("LOADED AND PREDICTED")
sys.exit(3)
"""


@pytest.fixture(scope="module")
def small_model():
    posts = la.simulate_marketplace(seed=2, n_posts=20_000).job_posts
    lab = C.labelled_posts(posts, "ai", n=300, seed=1)
    return C.train(lab, "label", "ai", seed=0, n_estimators=3)


def _run_hostile(path, timeout=60):
    import subprocess
    import sys

    try:
        proc = subprocess.run([sys.executable, "-c", _HOSTILE_SCRIPT, str(path)],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"loading and using {path.name} hung for more than {timeout} s")
    assert proc.returncode == 0, (f"{path.name}: exit code {proc.returncode} (negative = killed "
                                  f"by a signal, e.g. -11 segfault)\n{proc.stdout}\n"
                                  f"{proc.stderr[-2000:]}")
    assert proc.stdout.startswith("REFUSED UnsafeModelError"), proc.stdout
    assert str(path) in proc.stdout
    return proc.stdout


def _tree_state_altered(model, alter):
    import copy

    pipe = copy.deepcopy(model.pipeline)
    tree = pipe.named_steps["forest"].estimators_[0].tree_
    state = tree.__getstate__()
    nodes = state["nodes"].copy()
    state["values"] = state["values"].copy()
    alter(nodes, state)
    state["nodes"] = nodes
    tree.__setstate__(state)
    return pipe


def _save_with(model, pipe, path):
    import dataclasses

    dataclasses.replace(model, pipeline=pipe).save(path)
    return path


def _first_inner(nodes):
    return int(np.flatnonzero(nodes["left_child"] != -1)[0])


@pytest.mark.parametrize("case, alter, rule", [
    ("child_out_of_bounds", lambda n, s: n.__setitem__("left_child", np.where(
        n["left_child"] != -1, 10**9, n["left_child"])), "children must be -1"),
    ("child_cycle", lambda n, s: n["right_child"].__setitem__(
        _first_inner(n), 0), "children must be -1"),
    ("feature_out_of_vocabulary", lambda n, s: n["feature"].__setitem__(
        _first_inner(n), 10**8), "feature"),
    ("nan_threshold", lambda n, s: n["threshold"].__setitem__(_first_inner(n), np.nan),
     "must be finite"),
])
def test_load_refuses_hostile_tree(small_model, tmp_path, case, alter, rule):
    pipe = _tree_state_altered(small_model, alter)
    path = _save_with(small_model, pipe, tmp_path / f"{case}.skops")
    out = _run_hostile(path)
    assert rule in out
    with pytest.raises(C.UnsafeModelError, match=rule):
        C.load(path)


def test_load_refuses_catastrophic_token_pattern(small_model, tmp_path):
    import copy

    pipe = copy.deepcopy(small_model.pipeline)
    pipe.named_steps["tfidf"].token_pattern = r"(?u)(?:\w+)+!$|\b\w+\b"
    path = _save_with(small_model, pipe, tmp_path / "regex.skops")
    out = _run_hostile(path, timeout=60)
    assert "token_pattern" in out
    with pytest.raises(C.UnsafeModelError, match=r"token_pattern.*linear-time"):
        C.load(path)


def test_load_refuses_bad_shapes_and_fields(small_model, tmp_path):
    import copy

    pipe = copy.deepcopy(small_model.pipeline)
    pipe.named_steps["tfidf"]._tfidf.idf_ = np.ones(3)
    path = _save_with(small_model, pipe, tmp_path / "idf.skops")
    with pytest.raises(C.UnsafeModelError, match=r"idf\.skops.*idf_"):
        C.load(path)
    pipe = copy.deepcopy(small_model.pipeline)
    pipe.named_steps["forest"].n_jobs = 10**6
    with pytest.raises(C.UnsafeModelError, match="n_jobs"):
        C.load(_save_with(small_model, pipe, tmp_path / "jobs.skops"))
    bad = tmp_path / "thr.skops"
    import dataclasses
    dataclasses.replace(small_model, threshold=float("nan")).save(bad)
    with pytest.raises(C.UnsafeModelError, match="threshold"):
        C.load(bad)
    junk = tmp_path / "junk.skops"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(la.LaborAIError, match="junk.skops"):
        C.load(junk)


def test_load_accepts_the_untouched_model(small_model, tmp_path):
    path = small_model.save(tmp_path / "ok.skops")
    back = C.load(path)
    posts = pd.DataFrame({"title": ["AI chatbot for support", "Logo in AI and EPS"]})
    np.testing.assert_array_equal(back.predict_proba(posts), small_model.predict_proba(posts))


# ----------------------------------------------------------------------------- vectorised engine
# The keyword engine (issue 16) answers ASCII texts with RE2 in pyarrow and sends the others,
# after a case-folded RE2 pre-filter, to Python's re. Its hits must be those of Python's re on
# every text: the references below apply the compiled Python patterns to each text directly.

_ALL_CHARS = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)


def test_fold_tables_match_every_code_point() -> None:
    import re

    lower = {}
    for ch in _ALL_CHARS:
        if not ch.isascii():
            low = ch.lower()
            for x in low:
                if x.isascii():
                    lower.setdefault(x, set()).add(ch)
    assert {k: "".join(sorted(v)) for k, v in lower.items()} == C._LOWER_FOLD
    for letter in "abcdefghijklmnopqrstuvwxyz0123456789 -./,_":
        found = {c for c in re.findall("(?i)" + re.escape(letter), _ALL_CHARS)
                 if not c.isascii()}
        assert found == set(C._CASE_FOLD.get(letter, "")), letter


def _ref_hits(technology: str, texts: list[str], mode: str) -> np.ndarray:
    pat = C._patterns(technology)

    def include(s: str) -> bool:
        return bool((pat.lower is not None and pat.lower.search(s.lower()))
                    or (pat.exact is not None and pat.exact.search(s)))

    if mode == "naive":
        return np.array([pat.naive.search(s.lower()) is not None for s in texts])
    if mode == "candidate" or pat.exclude is None:
        return np.array([include(s) for s in texts])
    return np.array([include(pat.exclude.sub(" ", s)) for s in texts])


def _ref_gate(technology: str, titles: list[str]) -> np.ndarray:
    from laborai import _title_model as TM

    texts = TM._clean(titles)
    kw = _ref_hits(technology, texts, "keyword")
    pat, exclude = TM._gate_pattern(technology), C._patterns(technology).exclude
    if pat is None:
        return kw
    kept = texts if exclude is None else [exclude.sub(" ", s) for s in texts]
    return kw | np.array([pat.search(s.lower()) is not None for s in kept])


def _unicode_texts(n: int = 6_000, seed: int = 0) -> list[str]:
    """Titles mixing every query, exclude and gate term (in odd cases, with the characters
    that Unicode case folding maps to ASCII letters) with German, French, Cyrillic, CJK and
    emoji text and punctuation next to the terms."""
    from laborai import _title_model as TM

    rng = np.random.default_rng(seed)
    terms = sorted({x for t in C.TECHNOLOGIES for q in [C.query_terms(t)]
                    for x in (*q.include, *q.include_case_sensitive, *q.exclude, *q.hard,
                              *TM._gate_terms()[t])})
    words = ["Übersetzung", "straße", "ÄRZTE", "résumé", "Café", "ÉTÉ", "Привет", "ЖУРНАЛ",
             "人工智能", "日本語", "🤖", "🚀", "naïve", "İstanbul", "ıi", "Kelvin", "ſtraße",
             "x", "_", "3", "-", ".", "/", ",", "&amp;", "\u00a0", "\u0307", "", " "]
    fold = {"i": "İı", "k": "K", "s": "ſ"}
    out = []
    for _ in range(n):
        parts = []
        for _ in range(int(rng.integers(1, 5))):
            if rng.random() < 0.55:
                t = terms[int(rng.integers(len(terms)))]
                t = "".join(
                    (fold[c.lower()][int(rng.integers(len(fold[c.lower()])))]
                     if c.lower() in fold and rng.random() < 0.15 else
                     c.upper() if rng.random() < 0.3 else c) for c in t)
                parts.append(t)
            else:
                parts.append(words[int(rng.integers(len(words)))])
        sep = [" ", "", "-", "中", "é", "_", " | "][int(rng.integers(7))]
        out.append(sep.join(parts))
    return out


@pytest.mark.parametrize("technology", C.TECHNOLOGIES)
@pytest.mark.parametrize("mode", ["keyword", "candidate", "naive"])
def test_engine_equals_python_re_on_unicode_text(technology: str, mode: str) -> None:
    texts = _unicode_texts()
    assert sum(not s.isascii() for s in texts) > 1_000  # both paths are exercised
    got = C._match(texts, technology, mode)
    want = _ref_hits(technology, texts, mode)
    assert want.sum() > 100
    np.testing.assert_array_equal(got, want)
    # The same through a DataFrame of Arrow text (pyarrow joins the columns) and match_text.
    posts = pd.DataFrame({"title": pd.array(texts, dtype="str")})
    np.testing.assert_array_equal(C.query(posts, technology, mode).to_numpy(), want)
    np.testing.assert_array_equal(C.match_text(texts, technology, mode), want)


@pytest.mark.parametrize("technology", C.TECHNOLOGIES)
def test_title_gate_equals_python_re_on_unicode_text(technology: str) -> None:
    from laborai import _title_model as TM

    texts = _unicode_texts(seed=1)
    np.testing.assert_array_equal(TM.gate(texts, technology), _ref_gate(technology, texts))


def test_engine_falls_back_to_re_for_text_arrow_cannot_hold() -> None:
    # Lone surrogates (undecodable bytes kept by surrogateescape) cannot go to pyarrow.
    texts = _unicode_texts(n=500, seed=2)
    texts[3] = "AI chatbot \udc80"
    texts[7] = "\udcff machine learning"
    for t in C.TECHNOLOGIES:
        for mode in ("keyword", "candidate", "naive"):
            np.testing.assert_array_equal(C._match(texts, t, mode), _ref_hits(t, texts, mode))
    assert C._match(texts, "ai", "keyword")[[3, 7]].all()


def test_flag_posts_with_model_equals_the_reference_on_unicode_posts() -> None:
    posts = S.simulate_marketplace(seed=4, n_posts=20_000).job_posts
    lab = C.labelled_posts(posts, "ai", seed=0)
    model = C.train(lab, "label", "ai", seed=0, n_estimators=20)
    mixed = posts.head(6_000).copy()
    mixed["title"] = pd.array(_unicode_texts(seed=3), dtype="str")
    texts = C.post_text(mixed).tolist()
    cand = _ref_hits("ai", texts, "candidate")
    kw = _ref_hits("ai", texts, "keyword")
    p = np.zeros(len(texts))
    ix = np.flatnonzero(cand)
    docs = C._documents([texts[i] for i in ix], kw[ix])
    p[ix] = model.pipeline.predict_proba(docs)[:, list(model.pipeline.classes_).index(True)]
    want = cand & (p > model.threshold)
    got = C.flag_posts(mixed, "ai", model=model)["flag_ai"].to_numpy()
    assert want.sum() > 50
    np.testing.assert_array_equal(got, want)
    # Object columns (no pyarrow join) give the same flags.
    as_obj = mixed.astype({"title": object, "skills": object})
    np.testing.assert_array_equal(C.flag_posts(as_obj, "ai", model=model)["flag_ai"], want)
