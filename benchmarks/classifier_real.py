"""Classifiers on real job-post titles: cross-validated scores, prevalence, transfer (issue 12).

Run from the project root with ``LABORAI_DATA_DIR`` pointing at the shared data folder::

    python benchmarks/classifier_real.py                  # tables of docs/classifier.md
    python benchmarks/classifier_real.py --write          # regenerate the shipped model
    python benchmarks/classifier_real.py --transfer-only  # simulator -> real titles only

``--write`` fits :func:`laborai.classify.fit_title_classifier` on all labelled titles and
writes ``laborai/_pkgdata/title_model.json`` and its record ``title_model.toml`` (SHA-256 of the
model file, of the labels file and of the query package data). The fit is deterministic, so a
second run writes the same bytes (``tests/test_classify_real.py`` checks it).

``--transfer-only`` uses only the long-standing API (``simulate_marketplace``,
``labelled_posts``, ``train``, ``predict``), so it also runs against an older laborai checkout
(``PYTHONPATH=<checkout>``) to measure the transfer before and after the simulator changes.

Everything is single-threaded (``n_jobs=1``). Timings on the 2-core machine: about 1.5
minutes with ``--guide-gate`` (each 5 x 5-fold CV ~40 s; simulator transfer ~10 s).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
LABELS = "labels/real_titles_labelled.csv"
SNAPSHOT = "upwork_snapshot_2023_01"
W_NON_MATCH = 13_628 / 1_400


def _labels_path() -> Path:
    base = os.environ.get("LABORAI_DATA_DIR") or str(ROOT.parent / "shared" / "data")
    return Path(base) / LABELS


def _fmt(x: float) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


# ----------------------------------------------------------------------------- transfer


def _prf(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    tp, fp, fn = (float(np.sum(w * (y & p))), float(np.sum(w * (~y & p))),
                  float(np.sum(w * (y & ~p))))
    prec = tp / (tp + fp) if tp + fp else math.nan
    rec = tp / (tp + fn) if tp + fn else math.nan
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else math.nan
    return prec, rec, f1


def transfer(seed: int = 0) -> pd.DataFrame:
    """Train on the simulated marketplace (published method), score on the real titles."""
    import laborai as la
    from laborai import classify

    d = pd.read_csv(_labels_path(), dtype={"uid": str}, keep_default_na=False, na_values=[""])
    d["title"] = d["title"].fillna("").astype(str)
    real = pd.DataFrame({"title": d["title"]})
    posts = la.simulate_marketplace(seed=seed).job_posts
    snap = (d["source"] == SNAPSHOT).to_numpy()
    weight = np.where(d["stratum"].to_numpy() == "random_non_match", W_NON_MATCH, 1.0)
    rows = []
    for tech in ("ai", "cloud", "rpa"):
        lab = classify.labelled_posts(posts, tech, seed=seed)
        model = classify.train(lab, "label", technology=tech, seed=seed, n_jobs=1)
        flags = {"simulator_model": model.predict(real).to_numpy(dtype=bool),
                 "query": classify.match_text(d["title"], tech)}
        y = d[tech].to_numpy().astype(bool)
        for source, sel, basis, w in (
                ("all", np.ones(len(d), bool), "enriched", np.ones(len(d))),
                (SNAPSHOT, snap, "enriched", np.ones(len(d))),
                (SNAPSHOT, snap, "weighted", weight),
                ("upwork_softdev_undated", ~snap, "enriched", np.ones(len(d)))):
            for method, p in flags.items():
                prec, rec, f1 = _prf(y, p, np.where(sel, w, 0.0))
                rows.append({"technology": tech, "source": source, "basis": basis,
                             "method": method, "precision": prec, "recall": rec, "f1": f1})
    return pd.DataFrame(rows)


def print_transfer(tab: pd.DataFrame) -> None:
    print("\n## Transfer: model trained on the simulated marketplace, scored on real titles\n")
    print("| technology | source | basis | simulator model P / R / F1 | query P / R / F1 |")
    print("|---|---|---|---|---|")
    for (tech, source, basis), g in tab.groupby(["technology", "source", "basis"], sort=False):
        cells = []
        for method in ("simulator_model", "query"):
            r = g[g["method"] == method].iloc[0]
            cells.append(f"{_fmt(r.precision)} / {_fmt(r.recall)} / {_fmt(r.f1)}")
        print(f"| {tech} | {source} | {basis} | {cells[0]} | {cells[1]} |")


# ----------------------------------------------------------------------------- shipped model


def write_model() -> tuple[Path, str]:
    """Fit on all labelled titles and write the package data (model + record)."""
    from laborai import classify
    from laborai._title_model import LABELS_SHA256, SHIPPED_MODEL, SHIPPED_MODEL_RECORD

    d = classify.read_title_labels(_labels_path())
    model = classify.fit_title_classifier(d["title"], d)
    data = model.to_json().encode("ascii")
    out = ROOT / "laborai" / SHIPPED_MODEL
    out.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    record = (
        "# Record of the shipped title model (laborai/_pkgdata/title_model.json).\n"
        "# Written by `python benchmarks/classifier_real.py --write`; checked by\n"
        "# la.classify.real_title_model() on every load and by tests/test_classify_real.py.\n"
        "# The model file holds learned parameters only (vocabulary of word uni-/bigrams with\n"
        "# min_df=2, IDF weights, logistic coefficients), no titles. Labels: CC0.\n"
        f'sha256 = "{sha}"\n'
        f'labels_file = "{LABELS}"\n'
        f'labels_sha256 = "{LABELS_SHA256}"\n'
        f'queries_sha256 = "{model.queries_sha256}"\n'
        f"n_train = {model.n_train}\n"
        f"n_terms = {len(model.vocabulary)}\n"
        f'input_hash = "{model.input_hash}"\n'
        'command = "python benchmarks/classifier_real.py --write"\n'
    )
    (ROOT / "laborai" / SHIPPED_MODEL_RECORD).write_text(record, encoding="utf-8")
    return out, sha


# ----------------------------------------------------------------------------- main tables


def print_scores(scores: pd.DataFrame, title: str) -> None:
    print(f"\n## {title}\n")
    print("| technology | source | basis | related | model P / R / F1 | query P / R / F1 | "
          "F1 model − query |")
    print("|---|---|---|---|---|---|---|")
    for (tech, source, basis), g in scores.groupby(["technology", "source", "basis"],
                                                   sort=False):
        m = g[g["method"] == "model"].iloc[0]
        q = g[g["method"] == "query"].iloc[0]
        rel = f"{m.n_related:.0f}" if basis == "enriched" else f"{m.n_related:.1f} (est.)"
        print(f"| {tech} | {source} | {basis} | {rel} | {_fmt(m.precision)} / "
              f"{_fmt(m.recall)} / {_fmt(m.f1)} (s.d. {_fmt(m.f1_sd)}) | {_fmt(q.precision)} / "
              f"{_fmt(q.recall)} / {_fmt(q.f1)} | {m.f1 - q.f1:+.3f} |")


def snapshot_flag_share() -> pd.DataFrame | None:
    """Share of all snapshot posts flagged by the shipped model and by the query."""
    from laborai import classify

    base = _labels_path().parents[1] / "upwork"
    files = sorted(base.glob("*_general.csv"))
    if not files:
        return None
    posts = pd.concat([pd.read_csv(f, dtype={"uid": str}, usecols=["uid", "title"])
                       for f in files]).drop_duplicates("uid")
    model = classify.real_title_model()
    rows = []
    for tech in ("ai", "cloud", "rpa"):
        rows.append({"technology": tech, "n_posts": len(posts),
                     "model_share": float(model.predict(posts, tech).mean()),
                     "query_share": float(classify.match_text(posts["title"], tech).mean())})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="regenerate the shipped model")
    ap.add_argument("--transfer-only", action="store_true")
    ap.add_argument("--repeats", type=int, default=5, help="CV repeats (5 folds each)")
    ap.add_argument("--guide-gate", action="store_true",
                    help="also score a model whose gate uses only the labelling guide's terms")
    args = ap.parse_args(argv)
    if args.transfer_only:
        print_transfer(transfer())
        return 0
    from laborai import classify

    if args.write:
        out, sha = write_model()
        print(f"wrote {out.relative_to(ROOT)} sha256 {sha}")
        return 0
    d = classify.read_title_labels(_labels_path())
    cv = classify.cross_validate_titles(d, n_folds=5, n_repeats=args.repeats, seed=0)
    print_scores(classify.title_scores(d, cv),
                 f"Title model vs keyword query, {args.repeats} x 5-fold grouped stratified CV")
    print("\n## Prevalence in the Upwork snapshot (design-weighted labels)\n")
    print("| technology | estimate | s.e. | 95% CI (exact, stratified) | 95% CI (normal) | "
          "related: census + sampled |")
    print("|---|---|---|---|---|---|")
    for tech in ("ai", "cloud", "rpa"):
        r = classify.title_prevalence(d, tech).iloc[0]
        print(f"| {tech} | {r.estimate:.4f} | {r.std_error:.4f} | [{r.conf_low:.4f}, "
              f"{r.conf_high:.4f}] | [{r.normal_conf_low:.4f}, {r.normal_conf_high:.4f}] | "
              f"{r.related_census} + {r.related_sampled} of {r.n_sampled} "
              f"(N = {r.population:.0f}) |")
    share = snapshot_flag_share()
    if share is not None:
        print("\n## Share of all snapshot posts flagged (shipped model fitted on all labels)\n")
        print("| technology | posts | model | query |")
        print("|---|---|---|---|")
        for r in share.itertuples():
            print(f"| {r.technology} | {r.n_posts} | {r.model_share:.4f} | {r.query_share:.4f} |")
    if args.guide_gate:
        from laborai import _title_model as T

        guide = {
            "ai": ("ai", "artificial intelligence", "machine learning", "ml", "deep learning",
                   "neural network", "neural networks", "computer vision", "nlp",
                   "natural language processing", "speech recognition", "recommendation",
                   "prediction", "predictive", "data scientist", "chatgpt", "gpt", "openai",
                   "llm", "llms", "claude", "gemini", "llama", "chatbot", "chatbots",
                   "conversational", "prompt engineering", "prompt", "rag", "langchain",
                   "vector database", "midjourney", "stable diffusion", "dall-e",
                   "generative", "annotation", "labelling", "labeling", "rater", "tutor",
                   "jasper", "copilot"),
            "cloud": ("cloud", "aws", "azure", "google cloud", "gcp", "devops", "sre",
                      "kubernetes", "docker", "serverless", "dynamodb", "firebase", "bigquery",
                      "cloud security"),
            "rpa": ("rpa", "uipath", "automation anywhere", "blue prism", "power automate"),
        }
        T._gate_pattern.cache_clear()
        saved = T._gate_terms
        T._gate_terms = lambda: guide  # type: ignore[assignment]
        try:
            cv_g = classify.cross_validate_titles(d, n_folds=5, n_repeats=args.repeats, seed=0)
        finally:
            T._gate_terms = saved
            T._gate_pattern.cache_clear()
        print_scores(classify.title_scores(d, cv_g),
                     "Sensitivity: gate terms from the labelling guide only")
    print_transfer(transfer())
    return 0


if __name__ == "__main__":
    sys.exit(main())
