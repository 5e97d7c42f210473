"""Validation of the parameters of a loaded model, so that no file can crash or hang Python.

:func:`laborai.classify.load` rebuilds a model from a :mod:`skops.io` file and only from trusted
types, so a file cannot run code. Trusted types are not enough, though: a
:class:`sklearn.tree._tree.Tree` whose child index points outside its node array makes the
compiled tree walker read arbitrary memory (a segmentation fault), and a
:class:`~sklearn.feature_extraction.text.TfidfVectorizer` whose ``token_pattern`` is a
catastrophic regular expression (``(\\w+)+$`` style nested quantifiers) makes every prediction
take exponential time. This module checks every parameter that compiled code or the regular
expression engine will use, before the model is handed to the caller.

Rules (each failure raises :class:`UnsafeModelError` naming the file and the rule):

- pipeline: exactly ``[("tfidf", TfidfVectorizer), ("forest", RandomForestClassifier)]``;
- vectorizer: ``analyzer="word"``, ``input="content"``, no custom tokenizer or preprocessor,
  ``token_pattern`` one of :data:`SAFE_TOKEN_PATTERNS` (a whitelist: no pattern outside it is
  ever compiled), ``ngram_range`` within (1, 3), ``vocabulary_`` a map of strings onto
  ``0 .. n - 1``, ``idf_`` finite, positive, of shape ``(n,)``;
- forest: 1 to :data:`MAX_TREES` trees, ``n_jobs`` in ``{None, 1, 2}``, classes
  ``[False, True]``, one output, ``n_features_in_ == n``;
- every tree: 1 to :data:`MAX_NODES` nodes; a node is a leaf (both children ``-1``) or has both
  children inside the node array and after itself (so there are no cycles) and each non-root
  node has exactly one parent; split features in ``[0, n)``; finite thresholds; finite,
  non-negative values of shape ``(node_count, 1, 2)``; ``max_depth`` equal to the depth
  of the structure.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from laborai.errors import DataValidationError

__all__ = ["MAX_NODES", "MAX_TREES", "SAFE_TOKEN_PATTERNS", "UnsafeModelError",
           "check_classifier_pipeline"]

#: The only token patterns a loaded vectorizer may use: laborai's own and scikit-learn's
#: default. Both are linear-time (no nested quantifiers).
SAFE_TOKEN_PATTERNS: frozenset[str] = frozenset({r"(?u)\b\w+\b", r"(?u)\b\w\w+\b"})
#: Upper bound on the number of trees of a loaded forest.
MAX_TREES = 5_000
#: Upper bound on the number of nodes of one loaded tree.
MAX_NODES = 5_000_000


class UnsafeModelError(DataValidationError):
    """A model file's parameters break a structural rule (it could crash or hang Python).

    The message names the file, the object, the rule and the offending value. Subclass of
    :class:`~laborai.errors.DataValidationError` (and so of :class:`ValueError`).
    """


def _fail(path: Path | str, where: str, rule: str, seen: Any) -> UnsafeModelError:
    text = repr(seen)
    if len(text) > 120:
        text = text[:117] + "..."
    return UnsafeModelError(
        f"{path}: unsafe model file: {where} breaks the rule '{rule}' (got {text}). Nothing "
        "from the file was used; retrain the model with la.classify.train(...) and save it "
        "again."
    )


def _exact_type(obj: Any, qualname: str) -> bool:
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}" == qualname


def _check_vectorizer(vec: Any, path: Path | str) -> int:
    where = "pipeline step 'tfidf'"
    if not _exact_type(vec, "sklearn.feature_extraction.text.TfidfVectorizer"):
        raise _fail(path, where, "must be a TfidfVectorizer", type(vec).__name__)
    params = vec.__dict__
    for name, allowed in (("analyzer", ("word",)), ("input", ("content",)),
                          ("tokenizer", (None,)), ("preprocessor", (None,)),
                          ("strip_accents", (None, "ascii", "unicode")),
                          ("norm", ("l1", "l2", None)),
                          ("decode_error", ("strict", "ignore", "replace"))):
        v = params.get(name, None)
        if not any(v is a or (isinstance(v, str) and v == a) for a in allowed):
            raise _fail(path, f"{where}.{name}", f"must be one of {allowed}", v)
    pattern = params.get("token_pattern")
    if not isinstance(pattern, str) or pattern not in SAFE_TOKEN_PATTERNS:
        raise _fail(path, f"{where}.token_pattern",
                    f"must be one of the linear-time patterns {sorted(SAFE_TOKEN_PATTERNS)}",
                    pattern)
    for name in ("lowercase", "binary", "use_idf", "smooth_idf", "sublinear_tf"):
        if not isinstance(params.get(name), (bool, np.bool_)):
            raise _fail(path, f"{where}.{name}", "must be a bool", params.get(name))
    ngr = params.get("ngram_range")
    if (not isinstance(ngr, (tuple, list)) or len(ngr) != 2
            or not all(isinstance(x, (int, np.integer)) and not isinstance(x, bool)
                       for x in ngr)
            or not 1 <= ngr[0] <= ngr[1] <= 3):
        raise _fail(path, f"{where}.ngram_range", "must be (a, b) with 1 <= a <= b <= 3", ngr)
    stop = params.get("stop_words")
    if not (stop is None or stop == "english"
            or (isinstance(stop, (list, tuple, set, frozenset))
                and all(isinstance(s, str) for s in stop))):
        raise _fail(path, f"{where}.stop_words", "must be None, 'english' or strings", stop)
    if params.get("dtype") not in (np.float64, np.float32):
        raise _fail(path, f"{where}.dtype", "must be numpy.float64 or numpy.float32",
                    params.get("dtype"))
    vocab = params.get("vocabulary_")
    if not isinstance(vocab, dict) or not vocab:
        raise _fail(path, f"{where}.vocabulary_", "must be a non-empty dict", type(vocab))
    if not all(isinstance(k, str) for k in vocab):
        raise _fail(path, f"{where}.vocabulary_", "keys must be strings",
                    next(k for k in vocab if not isinstance(k, str)))
    vals = list(vocab.values())
    if (not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals)
            or sorted(int(v) for v in vals) != list(range(len(vals)))):
        raise _fail(path, f"{where}.vocabulary_",
                    "values must be the integers 0 .. n - 1, each once", vals[:5])
    n = len(vals)
    tfidf = params.get("_tfidf")
    if not _exact_type(tfidf, "sklearn.feature_extraction.text.TfidfTransformer"):
        raise _fail(path, f"{where}._tfidf", "must be a TfidfTransformer", type(tfidf).__name__)
    idf = tfidf.__dict__.get("idf_")
    if (not isinstance(idf, np.ndarray) or idf.dtype.kind != "f" or idf.shape != (n,)
            or not np.all(np.isfinite(idf)) or not np.all(idf > 0)):
        raise _fail(path, f"{where}.idf_",
                    f"must be a finite, positive float array of shape ({n},)",
                    getattr(idf, "shape", type(idf).__name__))
    return n


def _check_tree(est: Any, k: int, n_features: int, path: Path | str) -> int:
    where = f"forest tree {k}"
    if not _exact_type(est, "sklearn.tree._classes.DecisionTreeClassifier"):
        raise _fail(path, where, "must be a DecisionTreeClassifier", type(est).__name__)
    ep = est.__dict__
    if ep.get("n_outputs_") != 1 or ep.get("n_classes_") != 2:
        raise _fail(path, f"{where}.n_outputs_/n_classes_", "must be 1 and 2",
                    (ep.get("n_outputs_"), ep.get("n_classes_")))
    tree = ep.get("tree_")
    if not _exact_type(tree, "sklearn.tree._tree.Tree"):
        raise _fail(path, f"{where}.tree_", "must be a sklearn Tree", type(tree).__name__)
    if int(tree.n_features) != n_features or int(est.__dict__.get("n_features_in_", -1)) \
            != n_features:
        raise _fail(path, f"{where}.n_features", f"must equal the vocabulary size {n_features}",
                    int(tree.n_features))
    if int(tree.n_outputs) != 1 or list(np.asarray(tree.n_classes).tolist()) != [2]:
        raise _fail(path, f"{where}.n_classes", "must be one output with 2 classes",
                    np.asarray(tree.n_classes).tolist())
    m = int(tree.node_count)
    if not 1 <= m <= MAX_NODES:
        raise _fail(path, f"{where}.node_count", f"must be in [1, {MAX_NODES}]", m)
    left = np.asarray(tree.children_left)
    right = np.asarray(tree.children_right)
    feat = np.asarray(tree.feature)
    thr = np.asarray(tree.threshold)
    value = np.asarray(tree.value)
    for name, a in (("children_left", left), ("children_right", right), ("feature", feat),
                    ("threshold", thr)):
        if a.shape != (m,):
            raise _fail(path, f"{where}.{name}", f"must have shape ({m},)", a.shape)
    if value.shape != (m, 1, 2) or not np.all(np.isfinite(value)) or np.any(value < 0):
        raise _fail(path, f"{where}.value",
                    f"must be finite and non-negative with shape ({m}, 1, 2)", value.shape)
    ids = np.arange(m)
    leaf = (left == -1) & (right == -1)
    inner = ~leaf
    ok_children = (left[inner] > ids[inner]) & (left[inner] < m) \
        & (right[inner] > ids[inner]) & (right[inner] < m)
    if not np.all(ok_children):
        bad = int(ids[inner][~ok_children][0])
        raise _fail(path, f"{where} node {bad}",
                    f"children must be -1 (leaf) or node ids after the node and below "
                    f"node_count={m}", (int(left[bad]), int(right[bad])))
    parents = np.bincount(np.concatenate([left[inner], right[inner]]), minlength=m)
    expected = np.ones(m, dtype=np.int64)
    expected[0] = 0
    if not np.array_equal(parents, expected):
        bad = int(np.flatnonzero(parents != expected)[0])
        raise _fail(path, f"{where} node {bad}",
                    "every node but the root must have exactly one parent",
                    int(parents[bad]))
    if np.any((feat[inner] < 0) | (feat[inner] >= n_features)):
        bad = int(ids[inner][(feat[inner] < 0) | (feat[inner] >= n_features)][0])
        raise _fail(path, f"{where} node {bad}.feature",
                    f"must be in [0, {n_features})", int(feat[bad]))
    if not np.all(np.isfinite(thr[inner])):
        bad = int(ids[inner][~np.isfinite(thr[inner])][0])
        raise _fail(path, f"{where} node {bad}.threshold", "must be finite", float(thr[bad]))
    depth = np.zeros(m, dtype=np.int64)
    for i in ids[inner].tolist():  # children come after parents: one forward pass
        depth[left[i]] = depth[right[i]] = depth[i] + 1
    if int(tree.max_depth) != int(depth.max()):
        raise _fail(path, f"{where}.max_depth", f"must equal the depth {int(depth.max())}",
                    int(tree.max_depth))
    return m


def check_classifier_pipeline(pipeline: Any, path: Path | str) -> None:
    """Check a loaded TF-IDF + random-forest pipeline against the rules of this module.

    Parameters
    ----------
    pipeline : object
        What the file holds under ``"pipeline"``.
    path : pathlib.Path or str
        The file (named in the error).

    Raises
    ------
    UnsafeModelError
        On the first broken rule.
    """
    if not _exact_type(pipeline, "sklearn.pipeline.Pipeline"):
        raise _fail(path, "pipeline", "must be a sklearn Pipeline", type(pipeline).__name__)
    steps = pipeline.__dict__.get("steps")
    if (not isinstance(steps, list) or len(steps) != 2
            or not all(isinstance(s, tuple) and len(s) == 2 for s in steps)
            or [s[0] for s in steps] != ["tfidf", "forest"]):
        raise _fail(path, "pipeline.steps", "must be [('tfidf', ...), ('forest', ...)]",
                    [s[0] if isinstance(s, tuple) and s else s for s in steps]
                    if isinstance(steps, list) else steps)
    if pipeline.__dict__.get("memory") is not None:
        raise _fail(path, "pipeline.memory", "must be None", pipeline.__dict__.get("memory"))
    n = _check_vectorizer(steps[0][1], path)
    forest = steps[1][1]
    where = "pipeline step 'forest'"
    if not _exact_type(forest, "sklearn.ensemble._forest.RandomForestClassifier"):
        raise _fail(path, where, "must be a RandomForestClassifier", type(forest).__name__)
    fp = forest.__dict__
    if fp.get("n_jobs") not in (None, 1, 2) or isinstance(fp.get("n_jobs"), bool):
        raise _fail(path, f"{where}.n_jobs", "must be None, 1 or 2", fp.get("n_jobs"))
    verbose = fp.get("verbose", 0)
    if not isinstance(verbose, (int, np.integer)) or not 0 <= int(verbose) <= 2:
        raise _fail(path, f"{where}.verbose", "must be an integer in [0, 2]", verbose)
    classes = fp.get("classes_")
    if (not isinstance(classes, np.ndarray) or classes.dtype != bool
            or classes.tolist() != [False, True]):
        raise _fail(path, f"{where}.classes_", "must be the boolean array [False, True]",
                    classes)
    if fp.get("n_outputs_") != 1 or fp.get("n_classes_") != 2:
        raise _fail(path, f"{where}.n_outputs_/n_classes_", "must be 1 and 2",
                    (fp.get("n_outputs_"), fp.get("n_classes_")))
    if fp.get("n_features_in_") != n:
        raise _fail(path, f"{where}.n_features_in_", f"must equal the vocabulary size {n}",
                    fp.get("n_features_in_"))
    trees = fp.get("estimators_")
    if not isinstance(trees, list) or not 1 <= len(trees) <= MAX_TREES:
        raise _fail(path, f"{where}.estimators_", f"must be a list of 1 to {MAX_TREES} trees",
                    len(trees) if isinstance(trees, list) else type(trees).__name__)
    for k, est in enumerate(trees):
        _check_tree(est, k, n, path)


def check_threshold(value: Any, path: Path | str) -> float:
    """Return a threshold after checking that it is a finite number in [0, 1).

    Raises
    ------
    UnsafeModelError
        If it is not.
    """
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer))
            or not math.isfinite(float(value)) or not 0.0 <= float(value) < 1.0):
        raise _fail(path, "threshold", "must be a finite number in [0, 1)", value)
    return float(value)
