"""A classifier of job-post titles trained on real, hand-labelled titles (issue 12).

The model (:class:`TitleClassifier`) is query-then-classify, like the published method, but
built for real titles:

1. **Gate.** A title is a candidate for a technology when the technology's keyword query
   (:func:`laborai.classify.match_text`) or its title-model term list (``[title_model]`` in
   ``laborai/_pkgdata/queries.toml``: literal phrases, case-insensitive, whole words) matches
   once the query's exclude phrases ("AI and EPS", "word cloud", ...) are deleted. Other
   titles are unrelated. The gate keeps false positives out of the large mass of ordinary
   titles, which dominates any population estimate.
2. **Score.** Among candidates, a logistic regression on TF-IDF features of the title (word
   uni- and bigrams, lower-cased; upper-case acronyms such as ``AI`` or ``AWS`` also as
   case-kept tokens) and six query features (keyword and candidate hits of the three
   technologies) gives P(related | title). A title is flagged when the probability exceeds the
   threshold (0.5).

Every parameter is plain data (vocabulary, IDF weights, coefficients), saved as JSON
(:meth:`TitleClassifier.save`) and checked on load (:func:`load_title_model`). Tokenisation is
code, not data: no regular expression is ever read from a file. The fitted model shipped with
laborai (:func:`real_title_model`) is package data with a recorded SHA-256, regenerated
deterministically from the labels file by ``benchmarks/classifier_real.py --write``.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from laborai._classify_safety import UnsafeModelError
from laborai.errors import DataFileNotFoundError, DataValidationError, OptionError

Technology = Literal["ai", "cloud", "rpa"]
TECHNOLOGIES: tuple[Technology, ...] = ("ai", "cloud", "rpa")
TITLE_FORMAT = "laborai.classify.TitleClassifier"
TITLE_FORMAT_VERSION = 1
#: Relative path of the labels file under ``LABORAI_DATA_DIR``.
LABELS_RELATIVE_PATH = "labels/real_titles_labelled.csv"
#: SHA-256 of the labels file the shipped model was trained on (../shared/data/MANIFEST.md).
LABELS_SHA256 = "b9f859f9660074f744b0960b65018459035a5cdacd9ead6667906a317ab12cb6"
#: Design weight of the random_non_match stratum of the Upwork snapshot (labels/README.md):
#: 1,400 of 13,628 non-matching titles were sampled.
SNAPSHOT_SOURCE = "upwork_snapshot_2023_01"
SNAPSHOT_NON_MATCH_POPULATION = 13_628
SNAPSHOT_NON_MATCH_SAMPLE = 1_400
_LABEL_COLUMNS = ("uid", "source", "stratum", "title", "ai", "cloud", "rpa")
_TOKEN = re.compile(r"[^\W_]+")  # runs of letters and digits: linear time, fixed in code
_N_QUERY_FEATURES = 6
_MAX_FILE_BYTES = 50_000_000
_MAX_VOCABULARY = 2_000_000
_MAX_TERM_CHARS = 400


# ----------------------------------------------------------------------------- text features


def _clean1(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return html.unescape(str(v))


def _clean(titles: Sequence[Any]) -> list[str]:
    # html.unescape returns a str without "&" unchanged: only the others need the call.
    return [v if type(v) is str and "&" not in v else _clean1(v) for v in titles]


def _terms(title: str) -> list[str]:
    toks = _TOKEN.findall(title)
    low = [t.lower() for t in toks]
    terms = low + [a + " " + b for a, b in zip(low, low[1:], strict=False)]
    terms += ["^" + t for t in toks if len(t) >= 2 and t.isupper()]
    return terms


@functools.cache
def _gate_terms() -> dict[str, tuple[str, ...]]:
    from laborai.classify import _queries_raw

    raw = _queries_raw().get("title_model", {})
    return {t: tuple(str(x) for x in raw.get(t, ())) for t in TECHNOLOGIES}


@functools.cache
def _gate_pattern(technology: str) -> re.Pattern[str] | None:
    terms = sorted({x.lower() for x in _gate_terms()[technology]}, key=lambda s: (-len(s), s))
    if not terms:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(x) for x in terms) + r")(?!\w)")


@functools.cache
def _gate_prefilter(technology: str) -> str | None:
    from laborai.classify import _re2_alternation

    return _re2_alternation([([x.lower() for x in _gate_terms()[technology]], "lower")])


@functools.cache
def _gate_ascii(technology: str) -> str | None:
    from laborai.classify import _re2_words

    return _re2_words([([x.lower() for x in _gate_terms()[technology]], True)])


def queries_sha256() -> str:
    """Return the SHA-256 of the query package data (queries.toml as parsed, canonical JSON)."""
    from laborai.classify import _queries_raw

    text = json.dumps(_queries_raw(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _query_features(titles: list[str]) -> np.ndarray:
    from laborai.classify import _candidate_and_keyword, _Texts

    tx = _Texts(titles)
    cols = []
    for t in TECHNOLOGIES:
        cand, kw = _candidate_and_keyword(tx, t)
        cols += [kw, cand]
    return np.column_stack(cols).astype(np.float64)


def gate(titles: Sequence[Any], technology: Technology) -> np.ndarray:
    """Return the candidate flags of the title model's gate (keyword query or title-model terms).

    Parameters
    ----------
    titles : sequence of str
        Job-post titles (HTML entities are decoded; missing values are empty).
    technology : {"ai", "cloud", "rpa"}
        Which technology.

    Returns
    -------
    numpy.ndarray of bool
    """
    from laborai.classify import _match, _may_exclude, _patterns, _Texts

    texts = _clean(list(titles))
    tx = _Texts(texts)
    out = _match(tx, technology, "keyword")
    pat = _gate_pattern(technology)
    if pat is not None:
        # The gate terms are searched in the text with the exclude phrases deleted: where no
        # exclude term can match the text is unchanged and the vectorised engine answers;
        # where one may, Python's re deletes and searches, as before.
        qp = _patterns(technology)
        exclude = qp.exclude
        search = pat.search
        rest = np.flatnonzero(~out)
        touched = _may_exclude(qp, tx, rest)  # the exclude deletion may change these
        plain = np.setdiff1d(rest, touched, assume_unique=True)
        out |= tx.search(_gate_ascii(technology), _gate_prefilter(technology),
                         lambda ts: np.fromiter((search(s.lower()) is not None for s in ts),
                                                dtype=bool, count=len(ts)), rows=plain)
        kept = [exclude.sub(" ", s) for s in tx.take(touched)] if exclude is not None else []
        out[touched] = np.fromiter((search(s.lower()) is not None for s in kept), dtype=bool,
                                   count=len(kept))
    return out


def _tfidf(docs: list[list[str]], index: Mapping[str, int], idf: np.ndarray) -> Any:
    import scipy.sparse as sp

    rows, cols, vals = [], [], []
    for i, terms in enumerate(docs):
        counts: dict[int, int] = {}
        for term in terms:
            j = index.get(term)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            continue
        js = np.fromiter(sorted(counts), dtype=np.int64, count=len(counts))
        tf = 1.0 + np.log(np.array([counts[j] for j in js.tolist()], dtype=np.float64))
        w = tf * idf[js]
        w /= math.sqrt(float(np.dot(w, w)))
        rows.append(np.full(js.size, i, dtype=np.int64))
        cols.append(js)
        vals.append(w)
    n = len(docs)
    if not rows:
        return sp.csr_matrix((n, idf.size), dtype=np.float64)
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(n, idf.size), dtype=np.float64)


def _design(titles: list[str], vocabulary: Sequence[str], idf: np.ndarray) -> Any:
    import scipy.sparse as sp

    index = {t: j for j, t in enumerate(vocabulary)}
    x = _tfidf([_terms(s) for s in titles], index, idf)
    return sp.hstack([x, sp.csr_matrix(_query_features(titles))], format="csr")


# ----------------------------------------------------------------------------- the model


@dataclass(frozen=True, eq=False)
class TechnologyModel:
    """The fitted parameters of one technology in a :class:`TitleClassifier`.

    Attributes
    ----------
    kind : {"logistic", "gate"}
        ``"logistic"``: candidates scored by the logistic regression; ``"gate"``: too few
        labelled candidates of both classes to fit one, so every candidate gets probability
        ``constant``.
    coef : numpy.ndarray
        Coefficients on the vocabulary's TF-IDF features followed by the six query features
        (read-only; empty for ``"gate"``).
    intercept : float
        Intercept of the logistic regression (0 for ``"gate"``).
    constant : float
        Probability of a candidate for ``"gate"``.
    threshold : float
        Probability above which a candidate is flagged.
    n_candidates, n_positive : int
        Labelled candidates and related candidates it was fitted on.
    """

    kind: str
    coef: np.ndarray
    intercept: float
    constant: float
    threshold: float
    n_candidates: int
    n_positive: int


def _readonly(a: Any, dtype: Any = np.float64) -> np.ndarray:
    arr = np.array(a, dtype=dtype)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class TitleClassifier:
    """A classifier of job-post titles for AI, cloud and RPA work (see :func:`fit_title_classifier`).

    Attributes
    ----------
    vocabulary : tuple of str
        TF-IDF terms (word uni- and bigrams; ``^XX`` = upper-case acronym ``XX``).
    idf : numpy.ndarray
        Inverse document frequencies, ``ln((1 + n) / (1 + df)) + 1`` (read-only).
    models : mapping
        :class:`TechnologyModel` per technology.
    settings : mapping
        ``C``, ``min_df``, ``threshold``.
    n_train : int
        Labelled titles it was trained on.
    input_hash : str
        SHA-256 of the training titles and labels.
    queries_sha256 : str
        SHA-256 of the query package data it was trained with (the gate and query features).
    version : str
        laborai version that trained it.
    """

    vocabulary: tuple[str, ...]
    idf: np.ndarray
    models: Mapping[str, TechnologyModel]
    settings: Mapping[str, Any] = field(default_factory=dict)
    n_train: int = 0
    input_hash: str = ""
    queries_sha256: str = ""
    version: str = ""

    def __repr__(self) -> str:
        kinds = ", ".join(f"{t}={m.kind}" for t, m in self.models.items())
        return (f"TitleClassifier(n_train={self.n_train}, n_terms={len(self.vocabulary)}, "
                f"{kinds})")

    @property
    def technologies(self) -> tuple[str, ...]:
        """Technologies the model classifies."""
        return tuple(self.models)

    def _titles(self, posts: Any) -> tuple[list[str], pd.Index]:
        if isinstance(posts, pd.DataFrame):
            if "title" not in posts.columns:
                raise DataValidationError(
                    f"posts: column 'title' is required; got columns {list(posts.columns)[:12]}."
                    " Rename the job-title column to 'title'.")
            return _clean(posts["title"].tolist()), posts.index
        if isinstance(posts, pd.Series):
            return _clean(posts.tolist()), posts.index
        if isinstance(posts, str):
            raise DataValidationError("posts must be a DataFrame with a 'title' column or a "
                                      "sequence of titles; got one string. Wrap it in a list.")
        seq = list(posts)
        return _clean(seq), pd.RangeIndex(len(seq))

    def _proba(self, titles: list[str], technology: str) -> np.ndarray:
        if technology not in self.models:
            raise OptionError(f"technology must be one of {list(self.models)}; got "
                              f"{technology!r}.")
        m = self.models[technology]
        g = gate(titles, technology)  # type: ignore[arg-type]
        p = np.zeros(len(titles))
        ix = np.flatnonzero(g)
        if not ix.size:
            return p
        if m.kind == "gate":
            p[ix] = m.constant
            return p
        x = _design([titles[i] for i in ix.tolist()], self.vocabulary, self.idf)
        z = x @ m.coef + m.intercept
        p[ix] = 1.0 / (1.0 + np.exp(-z))
        return p

    def predict_proba(self, posts: Any, technology: Technology = "ai") -> pd.Series:
        """Return P(related | title) of each post (0 outside the gate).

        Parameters
        ----------
        posts : pandas.DataFrame, pandas.Series or sequence of str
            Job posts with a ``title`` column, or titles.
        technology : {"ai", "cloud", "rpa"}, default "ai"
            Which technology.

        Returns
        -------
        pandas.Series of float
            Same index as ``posts``, named ``proba_{technology}``.

        Raises
        ------
        DataValidationError
            If a DataFrame has no ``title`` column.
        OptionError
            For a technology the model does not have.
        """
        titles, index = self._titles(posts)
        return pd.Series(self._proba(titles, technology), index=index,
                         name=f"proba_{technology}")

    def predict(self, posts: Any, technology: Technology = "ai",
                threshold: float | None = None) -> pd.Series:
        """Flag posts whose probability exceeds the threshold.

        Parameters
        ----------
        posts : pandas.DataFrame, pandas.Series or sequence of str
            Job posts with a ``title`` column, or titles.
        technology : {"ai", "cloud", "rpa"}, default "ai"
            Which technology.
        threshold : float, optional
            Overrides the technology's fitted threshold (0.5).

        Returns
        -------
        pandas.Series of bool
            Same index as ``posts``, named ``flag_{technology}``.

        Raises
        ------
        DataValidationError
            If a DataFrame has no ``title`` column.
        OptionError
            For a technology the model does not have.
        """
        titles, index = self._titles(posts)
        p = self._proba(titles, technology)
        thr = self.models[technology].threshold if threshold is None else float(threshold)
        return pd.Series(p > thr, index=index, name=f"flag_{technology}")

    def to_json(self) -> str:
        """Return the model as canonical JSON (sorted keys; floats as written by Python)."""
        obj = {
            "format": TITLE_FORMAT, "format_version": TITLE_FORMAT_VERSION,
            "vocabulary": list(self.vocabulary), "idf": self.idf.tolist(),
            "models": {t: {"kind": m.kind, "coef": m.coef.tolist(),
                           "intercept": float(m.intercept), "constant": float(m.constant),
                           "threshold": float(m.threshold), "n_candidates": int(m.n_candidates),
                           "n_positive": int(m.n_positive)}
                       for t, m in self.models.items()},
            "settings": dict(self.settings), "n_train": int(self.n_train),
            "input_hash": self.input_hash, "queries_sha256": self.queries_sha256,
            "version": self.version,
        }
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                          allow_nan=False) + "\n"

    def save(self, path: str | Path) -> Path:
        """Save the model as JSON (plain data only; see :func:`load_title_model`).

        Parameters
        ----------
        path : str or pathlib.Path
            File to write (conventionally ``*.json``).

        Returns
        -------
        pathlib.Path
        """
        p = Path(path)
        p.write_bytes(self.to_json().encode("ascii"))
        return p


def _round(a: np.ndarray) -> np.ndarray:
    # Fixed precision so that the file is identical across BLAS builds; 1e-9 moves no flag.
    return np.round(np.asarray(a, dtype=np.float64), 9) + 0.0


def fit_title_classifier(
    titles: Sequence[Any] | pd.Series,
    labels: pd.DataFrame | Mapping[str, Any],
    *,
    technologies: Sequence[str] = TECHNOLOGIES,
    C: float = 10.0,
    min_df: int = 2,
    threshold: float = 0.5,
) -> TitleClassifier:
    """Fit the title classifier on labelled titles.

    Parameters
    ----------
    titles : sequence of str or pandas.Series
        Job-post titles.
    labels : pandas.DataFrame or mapping
        One 0/1 (or boolean) column per technology (``ai``, ``cloud``, ``rpa``), one row per
        title.
    technologies : sequence of str, default ("ai", "cloud", "rpa")
        Technologies to fit.
    C : float, default 10.0
        Inverse L2 penalty of the logistic regressions.
    min_df : int, default 2
        Terms must occur in at least this many training titles.
    threshold : float, default 0.5
        Probability above which a candidate is flagged.

    Returns
    -------
    TitleClassifier

    Raises
    ------
    DataValidationError
        If labels are missing, not 0/1 or of the wrong length.
    OptionError
        For invalid settings.

    Notes
    -----
    Deterministic (L-BFGS from zero, no randomness): the same titles and labels give the same
    parameters. The estimand of a technology's score is P(related | title, candidate); titles
    outside the gate are unrelated. A technology with fewer than two related and two unrelated
    labelled candidates gets ``kind="gate"`` (candidates flagged when most labelled candidates
    are related).

    References
    ----------
    Salton, G. and Buckley, C. (1988). Term-weighting approaches in automatic text retrieval.
    Information Processing & Management 24(5), 513-523.
    """
    from sklearn.linear_model import LogisticRegression

    from laborai import __version__

    texts = _clean(titles.tolist() if isinstance(titles, pd.Series) else list(titles))
    techs = tuple(technologies)
    for t in techs:
        if t not in TECHNOLOGIES:
            raise OptionError(f"technologies must be among {list(TECHNOLOGIES)}; got {t!r}.")
    if not (isinstance(C, (int, float)) and math.isfinite(C) and C > 0):
        raise OptionError(f"C must be a positive number; got {C!r}.")
    if not isinstance(min_df, (int, np.integer)) or min_df < 1:
        raise OptionError(f"min_df must be a positive integer; got {min_df!r}.")
    if not 0.0 <= threshold < 1.0:
        raise OptionError(f"threshold must be in [0, 1); got {threshold!r}.")
    ys = {}
    for t in techs:
        if t not in labels:
            raise DataValidationError(f"labels: column {t!r} is missing.")
        y = np.asarray(labels[t])
        if y.shape != (len(texts),):
            raise DataValidationError(f"labels[{t!r}] must have one value per title "
                                      f"({len(texts)}); got shape {y.shape}.")
        bad = pd.unique(pd.Series(y, dtype=object)[~pd.Series(y).isin([0, 1, True, False])])
        if len(bad):
            raise DataValidationError(f"labels[{t!r}] must be 0/1; got values such as "
                                      f"{list(bad[:5])!r}.")
        ys[t] = y.astype(bool)
    docs = [_terms(s) for s in texts]
    df: dict[str, int] = {}
    for terms in docs:
        for term in set(terms):
            df[term] = df.get(term, 0) + 1
    vocab = tuple(sorted(term for term, k in df.items() if k >= min_df))
    n = len(texts)
    idf = _round(np.log((1.0 + n) / (1.0 + np.array([df[v] for v in vocab], dtype=np.float64)))
                 + 1.0)
    x_all = None
    models: dict[str, TechnologyModel] = {}
    for t in techs:
        g = gate(texts, t)  # type: ignore[arg-type]
        yg = ys[t][g]
        npos, nneg = int(yg.sum()), int((~yg).sum())
        if npos < 2 or nneg < 2:
            const = 1.0 if npos >= nneg and npos > 0 else 0.0
            models[t] = TechnologyModel("gate", _readonly([]), 0.0, const, float(threshold),
                                        int(g.sum()), npos)
            continue
        if x_all is None:
            x_all = _design(texts, vocab, idf)
        lr = LogisticRegression(C=float(C), max_iter=10_000, tol=1e-10)
        lr.fit(x_all[g], yg)
        models[t] = TechnologyModel("logistic", _readonly(_round(lr.coef_[0])),
                                    float(_round(lr.intercept_)[0]), 0.0, float(threshold),
                                    int(g.sum()), npos)
    h = hashlib.sha256()
    for s in texts:
        h.update(s.encode("utf-8") + b"\x1f")
    for t in techs:
        h.update(t.encode() + ys[t].astype(np.uint8).tobytes())
    return TitleClassifier(
        vocabulary=vocab, idf=_readonly(idf), models=MappingProxyType(models),
        settings=MappingProxyType({"C": float(C), "min_df": int(min_df),
                                   "threshold": float(threshold)}),
        n_train=n, input_hash=h.hexdigest(), queries_sha256=queries_sha256(),
        version=__version__,
    )


# ----------------------------------------------------------------------------- safe loading


def _bad(path: Path | str, rule: str, seen: Any) -> UnsafeModelError:
    text = repr(seen)
    if len(text) > 120:
        text = text[:117] + "..."
    return UnsafeModelError(f"{path}: unsafe title-model file: rule '{rule}' broken (got "
                            f"{text}). Refit with la.classify.fit_title_classifier(...) and "
                            "save it again.")


def _float_array(v: Any, n: int | None, path: Path | str, name: str, *,
                 positive: bool = False) -> np.ndarray:
    if not isinstance(v, list) or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
        raise _bad(path, f"{name} must be a list of numbers", type(v).__name__)
    a = np.array(v, dtype=np.float64)
    if n is not None and a.shape != (n,):
        raise _bad(path, f"{name} must have {n} values", a.shape)
    if not np.all(np.isfinite(a)) or (positive and not np.all(a > 0)):
        raise _bad(path, f"{name} must be finite{' and positive' if positive else ''}",
                   a[~np.isfinite(a)][:3].tolist() if not np.all(np.isfinite(a)) else "<= 0")
    a.setflags(write=False)
    return a


def _number(v: Any, path: Path | str, name: str, lo: float = -math.inf,
            hi: float = math.inf, hi_open: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
            or v < lo or v > hi or (hi_open and v >= hi):
        raise _bad(path, f"{name} must be a finite number in [{lo}, {hi}"
                         f"{')' if hi_open else ']'}", v)
    return float(v)


def title_model_from_json(text: str | bytes, path: Path | str = "<string>", *,
                          check_queries: bool = True) -> TitleClassifier:
    """Build a :class:`TitleClassifier` from its JSON after checking every parameter.

    Parameters
    ----------
    text : str or bytes
        The JSON written by :meth:`TitleClassifier.save`.
    path : str or pathlib.Path
        Name of the file (for messages).
    check_queries : bool, default True
        Refuse a model trained with other query package data (its gate and query features
        would not be the ones it learned).

    Returns
    -------
    TitleClassifier

    Raises
    ------
    UnsafeModelError
        If the text is not the JSON of a title model or any parameter breaks a rule.
    """
    if len(text) > _MAX_FILE_BYTES:
        raise _bad(path, f"file must be at most {_MAX_FILE_BYTES} bytes", len(text))

    def _no_constants(name: str) -> Any:
        raise ValueError(f"non-finite number {name}")

    try:
        obj = json.loads(text, parse_constant=_no_constants)
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise _bad(path, "must be valid JSON with finite numbers",
                   f"{type(exc).__name__}: {str(exc)[:80]}") from exc
    if not isinstance(obj, dict) or obj.get("format") != TITLE_FORMAT:
        raise _bad(path, f"format must be {TITLE_FORMAT!r}",
                   obj.get("format") if isinstance(obj, dict) else type(obj).__name__)
    if obj.get("format_version") != TITLE_FORMAT_VERSION:
        raise _bad(path, f"format_version must be {TITLE_FORMAT_VERSION}",
                   obj.get("format_version"))
    vocab = obj.get("vocabulary")
    if (not isinstance(vocab, list) or not 1 <= len(vocab) <= _MAX_VOCABULARY
            or not all(isinstance(v, str) and 0 < len(v) <= _MAX_TERM_CHARS for v in vocab)):
        raise _bad(path, f"vocabulary must be a list of 1 to {_MAX_VOCABULARY} non-empty "
                         f"strings of at most {_MAX_TERM_CHARS} characters",
                   type(vocab).__name__ if not isinstance(vocab, list) else len(vocab))
    if len(set(vocab)) != len(vocab):
        raise _bad(path, "vocabulary terms must be unique",
                   next(v for i, v in enumerate(vocab) if v in vocab[:i]))
    n = len(vocab)
    idf = _float_array(obj.get("idf"), n, path, "idf", positive=True)
    raw_models = obj.get("models")
    if not isinstance(raw_models, dict) or not raw_models \
            or not set(raw_models) <= set(TECHNOLOGIES):
        raise _bad(path, f"models must map some of {list(TECHNOLOGIES)} to parameters",
                   list(raw_models) if isinstance(raw_models, dict) else raw_models)
    models: dict[str, TechnologyModel] = {}
    for t in TECHNOLOGIES:
        if t not in raw_models:
            continue
        m = raw_models[t]
        if not isinstance(m, dict) or m.get("kind") not in ("logistic", "gate"):
            raise _bad(path, f"models.{t}.kind must be 'logistic' or 'gate'",
                       m.get("kind") if isinstance(m, dict) else m)
        counts = []
        for name in ("n_candidates", "n_positive"):
            v = m.get(name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise _bad(path, f"models.{t}.{name} must be a non-negative integer", v)
            counts.append(v)
        coef = (_float_array(m.get("coef"), n + _N_QUERY_FEATURES, path, f"models.{t}.coef")
                if m["kind"] == "logistic" else _float_array(m.get("coef"), 0, path,
                                                             f"models.{t}.coef"))
        models[t] = TechnologyModel(
            kind=m["kind"], coef=coef,
            intercept=_number(m.get("intercept"), path, f"models.{t}.intercept"),
            constant=_number(m.get("constant"), path, f"models.{t}.constant", 0.0, 1.0),
            threshold=_number(m.get("threshold"), path, f"models.{t}.threshold", 0.0, 1.0,
                              hi_open=True),
            n_candidates=counts[0], n_positive=counts[1])
    settings = obj.get("settings")
    if not isinstance(settings, dict) or not all(
            isinstance(k, str) and isinstance(v, (int, float, str)) for k, v in settings.items()):
        raise _bad(path, "settings must be a flat dict of numbers and strings", settings)
    n_train = obj.get("n_train")
    if isinstance(n_train, bool) or not isinstance(n_train, int) or n_train < 0:
        raise _bad(path, "n_train must be a non-negative integer", n_train)
    meta = {}
    for name in ("input_hash", "queries_sha256", "version"):
        v = obj.get(name)
        if not isinstance(v, str) or len(v) > 200:
            raise _bad(path, f"{name} must be a string", v)
        meta[name] = v
    if check_queries and meta["queries_sha256"] != queries_sha256():
        raise DataValidationError(
            f"{path}: the title model was trained with other query package data "
            f"(queries.toml sha256 {meta['queries_sha256'][:12]}..., installed "
            f"{queries_sha256()[:12]}...); its gate and query features would differ from the "
            "ones it learned. Refit it with la.classify.fit_title_classifier(...) or pass "
            "check_queries=False.")
    return TitleClassifier(vocabulary=tuple(vocab), idf=idf, models=MappingProxyType(models),
                           settings=MappingProxyType(dict(settings)), n_train=n_train,
                           input_hash=meta["input_hash"], queries_sha256=meta["queries_sha256"],
                           version=meta["version"])


def load_title_model(path: str | Path, *, check_queries: bool = True) -> TitleClassifier:
    """Load a title model saved by :meth:`TitleClassifier.save`, checking every parameter.

    Parameters
    ----------
    path : str or pathlib.Path
        A JSON file.
    check_queries : bool, default True
        See :func:`title_model_from_json`.

    Returns
    -------
    TitleClassifier

    Raises
    ------
    UnsafeModelError
        If the file is too large, not valid JSON, or any parameter breaks a rule (shapes,
        finiteness, unique terms, known technologies, threshold in [0, 1)).
    DataValidationError
        If the file is missing or was trained with other query package data.

    Notes
    -----
    The file is plain data: no regular expression, type or code is read from it, so it cannot
    run code, crash or hang the interpreter.
    """
    p = Path(path)
    if not p.is_file():
        raise DataValidationError(f"{p}: no such title-model file.")
    if p.stat().st_size > _MAX_FILE_BYTES:
        raise _bad(p, f"file must be at most {_MAX_FILE_BYTES} bytes", p.stat().st_size)
    return title_model_from_json(p.read_bytes(), p, check_queries=check_queries)


#: Package-data files of the shipped model.
SHIPPED_MODEL = "_pkgdata/title_model.json"
SHIPPED_MODEL_RECORD = "_pkgdata/title_model.toml"


def shipped_model_record() -> dict[str, Any]:
    """Return the record of the shipped model (SHA-256, labels file, how to regenerate)."""
    import tomllib

    text = resources.files("laborai").joinpath(SHIPPED_MODEL_RECORD).read_text("utf-8")
    return dict(tomllib.loads(text))


@functools.cache
def real_title_model() -> TitleClassifier:
    """Return the title classifier fitted on the real labelled titles (shipped with laborai).

    Returns
    -------
    TitleClassifier
        Fitted on all 2,122 labelled titles of ``labels/real_titles_labelled.csv``.

    Raises
    ------
    UnsafeModelError
        If the package data do not match the recorded SHA-256 or break a rule.

    Notes
    -----
    The parameters are package data (``laborai/_pkgdata/title_model.json``, vocabulary and
    weights only, no titles); their SHA-256 is recorded in ``title_model.toml`` and checked on
    every load. ``python benchmarks/classifier_real.py --write`` regenerates both
    deterministically from the labels file. Cross-validated precision, recall and F1 on real
    titles are in ``docs/classifier.md``.

    Examples
    --------
    >>> from laborai import classify
    >>> m = classify.real_title_model()
    >>> m.predict(["Build a GPT-4 chatbot for our shop", "Convert logo to AI and EPS"]).tolist()
    [True, False]
    """
    data = resources.files("laborai").joinpath(SHIPPED_MODEL).read_bytes()
    want = shipped_model_record().get("sha256")
    got = hashlib.sha256(data).hexdigest()
    if got != want:
        raise UnsafeModelError(f"laborai/{SHIPPED_MODEL}: SHA-256 {got} differs from the "
                               f"recorded {want}; the package data were altered. Reinstall "
                               "laborai or regenerate with benchmarks/classifier_real.py "
                               "--write.")
    return title_model_from_json(data, f"laborai/{SHIPPED_MODEL}")


# ----------------------------------------------------------------------------- labelled titles


def read_title_labels(path: str | Path | None = None, *, check_hash: bool = True) -> pd.DataFrame:
    """Read the hand-labelled real titles, with design weights and duplicate groups.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Default ``$LABORAI_DATA_DIR/labels/real_titles_labelled.csv``.
    check_hash : bool, default True
        Refuse a file whose SHA-256 differs from :data:`LABELS_SHA256` (the file the shipped
        model and the documented numbers come from).

    Returns
    -------
    pandas.DataFrame
        The file's columns (``ai``, ``cloud``, ``rpa`` as bool) plus ``weight`` (design weight,
        1 / sampling fraction: 1 for ``broad_query_match`` and 13,628 / 1,400 for
        ``random_non_match`` in the Upwork snapshot; NaN for ``upwork_softdev_undated``, whose
        sampling fractions are not documented) and ``group`` (titles equal after lower-casing
        and collapsing non-word characters share a group).

    Raises
    ------
    DataFileNotFoundError
        If the file is not found.
    DataValidationError
        If its hash differs, a column is missing or a label is not 0/1.
    """
    if path is None:
        base = os.environ.get("LABORAI_DATA_DIR")
        if not base:
            raise DataFileNotFoundError(
                f"LABORAI_DATA_DIR is not set; set it to the shared data folder holding "
                f"{LABELS_RELATIVE_PATH} or pass path=.")
        path = Path(base).expanduser() / LABELS_RELATIVE_PATH
    p = Path(path)
    if not p.is_file():
        raise DataFileNotFoundError(f"{p}: labelled titles not found; pass path= or set "
                                    "LABORAI_DATA_DIR.")
    raw = p.read_bytes()
    if check_hash and hashlib.sha256(raw).hexdigest() != LABELS_SHA256:
        raise DataValidationError(f"{p}: SHA-256 {hashlib.sha256(raw).hexdigest()} differs "
                                  f"from the expected {LABELS_SHA256}; pass check_hash=False "
                                  "to use another version.")
    d = pd.read_csv(p, dtype={"uid": str}, keep_default_na=False, na_values=[""])
    missing = [c for c in _LABEL_COLUMNS if c not in d.columns]
    if missing:
        raise DataValidationError(f"{p}: columns {missing} are missing; got {list(d.columns)}.")
    for t in TECHNOLOGIES:
        bad = ~d[t].isin([0, 1])
        if bad.any():
            raise DataValidationError(f"{p}: column {t!r}, rule 'label is 0 or 1': "
                                      f"{int(bad.sum())} rows, e.g. {d.loc[bad, t].head(3).tolist()}.")
        d[t] = d[t].astype(bool)
    d["title"] = d["title"].fillna("").astype(str)
    w = np.full(len(d), np.nan)
    snap = (d["source"] == SNAPSHOT_SOURCE).to_numpy()
    w[snap & (d["stratum"] == "broad_query_match").to_numpy()] = 1.0
    w[snap & (d["stratum"] == "random_non_match").to_numpy()] = (
        SNAPSHOT_NON_MATCH_POPULATION / SNAPSHOT_NON_MATCH_SAMPLE)
    d["weight"] = w
    key = [re.sub(r"\W+", " ", html.unescape(s).lower()).strip() for s in d["title"]]
    d["group"] = pd.factorize(pd.Series(key))[0].astype(np.int64)
    return d


# ----------------------------------------------------------------------------- evaluation


def _check_labelled(labelled: pd.DataFrame) -> None:
    if not isinstance(labelled, pd.DataFrame):
        raise DataValidationError("labelled must be the DataFrame of read_title_labels(); got "
                                  f"{type(labelled).__name__}.")
    need = ["title", "source", "stratum", *TECHNOLOGIES, "weight", "group"]
    missing = [c for c in need if c not in labelled.columns]
    if missing:
        raise DataValidationError(f"labelled: columns {missing} are missing; read the file with "
                                  "la.classify.read_title_labels().")


def cross_validate_titles(
    labelled: pd.DataFrame,
    *,
    n_folds: int = 5,
    n_repeats: int = 3,
    seed: int = 0,
    C: float = 10.0,
    min_df: int = 2,
    threshold: float = 0.5,
) -> pd.DataFrame:
    """Out-of-fold predictions of the title model and of the keyword query, repeated.

    Parameters
    ----------
    labelled : pandas.DataFrame
        Output of :func:`read_title_labels`.
    n_folds : int, default 5
        Folds per repeat.
    n_repeats : int, default 3
        Repeats with different fold assignments (seeds ``seed .. seed + n_repeats - 1``).
    seed : int, default 0
        First seed of the fold assignment (the fit itself is deterministic).
    C, min_df, threshold
        As in :func:`fit_title_classifier`.

    Returns
    -------
    pandas.DataFrame
        One row per (repeat, labelled row, technology): ``repeat, fold, row, technology,
        label, model, query`` (``row`` = position in ``labelled``; booleans: label,
        out-of-fold model flag, keyword-query flag).

    Raises
    ------
    DataValidationError
        If ``labelled`` lacks a column.
    OptionError
        For invalid settings.

    Notes
    -----
    Folds are grouped and stratified (:class:`sklearn.model_selection.StratifiedGroupKFold`):
    titles equal up to case and punctuation (column ``group``) never straddle training and test
    folds, and folds are balanced on source x stratum x (ai, cloud, rpa) labels. The keyword
    query has no parameters fitted to the labels, so its flags are the same in every fold.
    """
    import warnings

    from sklearn.model_selection import StratifiedGroupKFold

    from laborai.classify import match_text

    _check_labelled(labelled)
    for name, v, lo in (("n_folds", n_folds, 2), ("n_repeats", n_repeats, 1)):
        if not isinstance(v, (int, np.integer)) or v < lo:
            raise OptionError(f"{name} must be an integer of at least {lo}; got {v!r}.")
    titles = _clean(labelled["title"].tolist())
    ys = {t: labelled[t].to_numpy(dtype=bool) for t in TECHNOLOGIES}
    strat = (labelled["source"].astype(str) + "|" + labelled["stratum"].astype(str) + "|"
             + sum((labelled[t].astype(int).astype(str) for t in TECHNOLOGIES),
                   start=pd.Series("", index=labelled.index))).to_numpy()
    groups = labelled["group"].to_numpy()
    kw = {t: match_text(titles, t) for t in TECHNOLOGIES}
    frames = []
    positions = np.arange(len(titles))
    for r in range(n_repeats):
        cv = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed + r)
        pred = {t: np.zeros(len(titles), dtype=bool) for t in TECHNOLOGIES}
        fold = np.full(len(titles), -1, dtype=np.int64)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The least populated class",
                                    category=UserWarning)
            splits = list(cv.split(positions.reshape(-1, 1), strat, groups))
        for k, (tr, te) in enumerate(splits):
            fold[te] = k
            m = fit_title_classifier([titles[i] for i in tr.tolist()],
                                     {t: ys[t][tr] for t in TECHNOLOGIES}, C=C, min_df=min_df,
                                     threshold=threshold)
            test_titles = [titles[i] for i in te.tolist()]
            for t in TECHNOLOGIES:
                pred[t][te] = m.predict(test_titles, t).to_numpy()  # type: ignore[arg-type]
        for t in TECHNOLOGIES:
            frames.append(pd.DataFrame({"repeat": r, "fold": fold, "row": positions,
                                        "technology": t, "label": ys[t], "model": pred[t],
                                        "query": kw[t]}))
    return pd.concat(frames, ignore_index=True)


def _prf(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    tp = float(np.sum(w * (y & p)))
    fp = float(np.sum(w * (~y & p)))
    fn = float(np.sum(w * (y & ~p)))
    prec = tp / (tp + fp) if tp + fp > 0 else math.nan
    rec = tp / (tp + fn) if tp + fn > 0 else math.nan
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn > 0 else math.nan
    return prec, rec, f1


def title_scores(labelled: pd.DataFrame, predictions: pd.DataFrame) -> pd.DataFrame:
    """Precision, recall and F1 of the model and the query, by technology, source and basis.

    Parameters
    ----------
    labelled : pandas.DataFrame
        Output of :func:`read_title_labels`.
    predictions : pandas.DataFrame
        Output of :func:`cross_validate_titles` (or any frame with the same columns).

    Returns
    -------
    pandas.DataFrame
        One row per technology x source (each source and ``"all"``) x basis x method:
        ``technology, source, basis, method, precision, recall, f1, f1_sd, n_titles,
        n_related``. Metrics are means over repeats; ``f1_sd`` their standard deviation over
        repeats (fold-assignment noise, not sampling error). ``basis="enriched"``: every
        labelled title counts once (the file as it is). ``basis="weighted"``: each title counts
        its design weight (population estimates, sources with known weights only: the Upwork
        snapshot); ``n_related`` is then the estimated number of related posts.

    Raises
    ------
    DataValidationError
        If a column is missing.
    """
    _check_labelled(labelled)
    src = labelled["source"].to_numpy(dtype=object)
    weight = labelled["weight"].to_numpy(dtype=np.float64)
    rows = []
    sources = ["all", *sorted(pd.unique(src).tolist())]
    for t in TECHNOLOGIES:
        pt = predictions[predictions["technology"] == t]
        if pt.empty:
            continue
        for s in sources:
            sel = np.ones(len(src), dtype=bool) if s == "all" else (src == s)
            for basis in ("enriched", "weighted"):
                if basis == "weighted" and not np.all(np.isfinite(weight[sel])):
                    continue
                w = np.ones(len(src)) if basis == "enriched" else np.nan_to_num(weight)
                w = np.where(sel, w, 0.0)
                for method in ("model", "query"):
                    per = []
                    for _, g in pt.groupby("repeat", sort=True):
                        rowpos = g["row"].to_numpy()
                        y = np.zeros(len(src), dtype=bool)
                        p = np.zeros(len(src), dtype=bool)
                        y[rowpos] = g["label"].to_numpy(dtype=bool)
                        p[rowpos] = g[method].to_numpy(dtype=bool)
                        per.append(_prf(y, p, w))
                    a = np.array(per, dtype=np.float64)
                    y0 = labelled[t].to_numpy(dtype=bool)
                    rows.append({
                        "technology": t, "source": s, "basis": basis, "method": method,
                        "precision": float(np.nanmean(a[:, 0])) if np.isfinite(a[:, 0]).any()
                        else math.nan,
                        "recall": float(np.nanmean(a[:, 1])) if np.isfinite(a[:, 1]).any()
                        else math.nan,
                        "f1": float(np.nanmean(a[:, 2])) if np.isfinite(a[:, 2]).any()
                        else math.nan,
                        "f1_sd": float(np.std(a[:, 2], ddof=1)) if len(a) > 1 else math.nan,
                        "n_titles": int(sel.sum()),
                        "n_related": float(np.sum(w * y0)),
                    })
    return pd.DataFrame(rows)


def title_prevalence(labelled: pd.DataFrame, technology: Technology = "ai", *,
                     source: str = SNAPSHOT_SOURCE, alpha: float = 0.05) -> pd.DataFrame:
    """Design-weighted share of related posts in a source, with a confidence interval.

    Parameters
    ----------
    labelled : pandas.DataFrame
        Output of :func:`read_title_labels`.
    technology : {"ai", "cloud", "rpa"}, default "ai"
        Which label.
    source : str, default "upwork_snapshot_2023_01"
        A source whose design weights are known.
    alpha : float, default 0.05
        1 - confidence level.

    Returns
    -------
    pandas.DataFrame
        One row: ``technology, source, estimate, std_error, conf_low, conf_high,
        normal_conf_low, normal_conf_high, n_labelled, population, related_census,
        related_sampled, n_sampled``.

    Raises
    ------
    DataValidationError
        If the source has unknown weights or no rows.
    OptionError
        If ``alpha`` is not in (0, 1).

    Notes
    -----
    Estimand: the share of the source's posts whose title a labeller would mark related.
    Stratified (Horvitz-Thompson) estimator: ``broad_query_match`` titles are a census (weight
    1, no sampling error); ``random_non_match`` titles are a simple random sample with weight
    ``N_h / n_h``. ``std_error`` is the stratified standard error with the finite-population
    correction ``1 - n_h / N_h`` (13,628 / 1,400 in the snapshot). Because the sampled stratum
    holds very few related titles, ``conf_low``/``conf_high`` map a Clopper-Pearson interval for
    the sampled stratum's share through the (monotone) estimator; this interval is exact and
    conservative, while the normal interval (``normal_conf_*``) is shown for comparison.
    Labelling error is not included.

    References
    ----------
    Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., ch. 5. Wiley.
    Clopper, C. J. and Pearson, E. S. (1934). The use of confidence or fiducial limits
    illustrated in the case of the binomial. *Biometrika* 26(4), 404-413.
    """
    from scipy import stats

    _check_labelled(labelled)
    if technology not in TECHNOLOGIES:
        raise OptionError(f"technology must be one of {list(TECHNOLOGIES)}; got {technology!r}.")
    if not 0.0 < alpha < 1.0:
        raise OptionError(f"alpha must be in (0, 1); got {alpha!r}.")
    d = labelled[labelled["source"] == source]
    if d.empty or not np.all(np.isfinite(d["weight"].to_numpy(dtype=np.float64))):
        raise DataValidationError(f"labelled: source {source!r} has no rows or unknown design "
                                  f"weights; known: {SNAPSHOT_SOURCE!r}.")
    census = d[d["stratum"] == "broad_query_match"]
    sample = d[d["stratum"] != "broad_query_match"]
    wh = float(sample["weight"].iloc[0]) if len(sample) else 1.0
    n_h = len(sample)
    big_n = len(census) + wh * n_h
    y_c = int(census[technology].sum())
    y_s = int(sample[technology].sum())
    est = (y_c + wh * y_s) / big_n
    p_s = y_s / n_h if n_h else 0.0
    fpc = 1.0 - SNAPSHOT_NON_MATCH_SAMPLE / SNAPSHOT_NON_MATCH_POPULATION
    var_total = (wh * n_h) ** 2 * fpc * (p_s * (1 - p_s) * n_h / max(n_h - 1, 1)) / max(n_h, 1)
    se = math.sqrt(var_total) / big_n
    z = float(stats.norm.ppf(1 - alpha / 2))
    lo_s = 0.0 if y_s == 0 else float(stats.beta.ppf(alpha / 2, y_s, n_h - y_s + 1))
    hi_s = 1.0 if y_s == n_h else float(stats.beta.ppf(1 - alpha / 2, y_s + 1, n_h - y_s))
    return pd.DataFrame([{
        "technology": technology, "source": source, "estimate": est, "std_error": se,
        "conf_low": (y_c + wh * n_h * lo_s) / big_n, "conf_high": (y_c + wh * n_h * hi_s) / big_n,
        "normal_conf_low": est - z * se, "normal_conf_high": est + z * se,
        "n_labelled": len(d), "population": big_n, "related_census": y_c,
        "related_sampled": y_s, "n_sampled": n_h,
    }])
