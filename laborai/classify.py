"""Detect AI-, cloud- and RPA-related job posts, and group gen-AI skills into families.

The published method has two stages, and laborai implements both:

1. **Query.** Keyword include/exclude lists per technology (package data
   ``laborai/_pkgdata/queries.toml``), matched on whole words, with upper-case acronyms such as
   "AI" matched case-sensitively so that ``.ai`` (Adobe Illustrator) files, "email", "Thai",
   "training" or "Dubai" do not count. :func:`query` returns the keyword flags.
2. **Model.** A scikit-learn pipeline (TF-IDF on title + skills (+ description) -> random
   forest) trained on labelled posts (:func:`train`). It classifies the posts that the broad
   query selects (include terms matched, exclusions ignored) and rejects the rest, exactly as a
   query-then-classify workflow does; this keeps 1,000,000 posts well under a minute.

**Speed.** The keyword query is vectorised (issue 16): on ASCII text an RE2 pattern equal to the
Python one (word boundaries ``[0-9A-Za-z_]``) answers in pyarrow for the whole column; other text
is pre-filtered by RE2 with Python's Unicode case folding and decided by Python's ``re``, so the
hits are exactly those of ``re`` (``benchmarks/classify_speed.py`` measures and checks it).

Labelled sets are drawn from the simulated marketplace's ground truth by
:func:`labelled_posts` (hard cases oversampled, realistic label noise) and split by
:func:`split_labelled`. Models are saved with :mod:`skops.io` and loaded only with an explicit
list of trusted types (:func:`load`), never with pickle, so a model file cannot run code.
:func:`skill_families` maps raw skills to the gen-AI skill families of
``laborai/_pkgdata/genai_skills.toml``.

**Real titles.** :func:`real_title_model` returns a :class:`TitleClassifier` fitted on 2,122
real, hand-labelled job-post titles and shipped as package data (plain JSON parameters with a
recorded SHA-256); :func:`fit_title_classifier` refits it, :func:`cross_validate_titles`,
:func:`title_scores` and :func:`title_prevalence` measure it against the keyword query with the
labels' enriched sampling design (``docs/classifier.md``).

Examples
--------
>>> import laborai as la
>>> from laborai import classify
>>> posts = la.simulate_marketplace(seed=1, n_posts=5_000).job_posts
>>> classify.query(posts.head(3), technology="ai").tolist()
[False, False, False]
>>> classify.match_text(["Convert logo to AI and EPS vector files", "AI chatbot"]).tolist()
[False, True]
"""

from __future__ import annotations

import functools
import math
import re
import tomllib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from laborai._classify_safety import UnsafeModelError, check_classifier_pipeline, check_threshold
from laborai._hashing import frame_hash
from laborai._results import TIDY_COLUMNS, ResultMixin
from laborai._title_model import (
    TechnologyModel,
    TitleClassifier,
    cross_validate_titles,
    fit_title_classifier,
    load_title_model,
    read_title_labels,
    real_title_model,
    title_prevalence,
    title_scores,
)
from laborai._validation import check_option
from laborai.errors import DataValidationError, OptionError, SmallSampleWarning

__all__ = [
    "TECHNOLOGIES",
    "TRUSTED_TYPES",
    "Classifier",
    "UnsafeModelError",
    "Evaluation",
    "QueryTerms",
    "TechnologyModel",
    "TitleClassifier",
    "compare_with_keywords",
    "cross_validate",
    "cross_validate_titles",
    "fit_title_classifier",
    "flag_column",
    "flag_posts",
    "labelled_posts",
    "load",
    "load_title_model",
    "match_text",
    "post_text",
    "query",
    "query_terms",
    "read_title_labels",
    "real_title_model",
    "skill_dictionary",
    "skill_families",
    "split_labelled",
    "title_prevalence",
    "title_scores",
    "train",
]

Technology = Literal["ai", "cloud", "rpa"]
QueryMode = Literal["keyword", "candidate", "naive"]

#: The technologies with a query and a classifier.
TECHNOLOGIES: tuple[Technology, ...] = ("ai", "cloud", "rpa")
#: Default labelled-sample sizes of the published method.
_DEFAULT_N_LABELLED = {"ai": 2000, "cloud": 1000, "rpa": 1000}
_FORMAT = "laborai.classify.Classifier"
_FORMAT_VERSION = 1
_QUERY_TOKEN = "laborai_keyword_hit"

#: Every type a saved :class:`Classifier` file may contain; :func:`load` refuses anything else.
TRUSTED_TYPES: tuple[str, ...] = (
    "builtins.dict",
    "builtins.float",
    "builtins.int",
    "builtins.list",
    "builtins.str",
    "builtins.tuple",
    "builtins.bool",
    "builtins.NoneType",
    "numpy.dtype",
    "numpy.ndarray",
    "numpy.float64",
    "numpy.int64",
    "numpy.random.mtrand.RandomState",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.pipeline.Pipeline",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._tree.Tree",
)


# ----------------------------------------------------------------------------- query stage


@dataclass(frozen=True)
class QueryTerms:
    """The keyword lists of one technology (from ``laborai/_pkgdata/queries.toml``).

    Attributes
    ----------
    technology : str
        ``"ai"``, ``"cloud"`` or ``"rpa"``.
    label : str
        Display name, e.g. ``"AI-related"``.
    include : tuple of str
        Case-insensitive whole-word phrases (with the skill dictionary for AI).
    include_case_sensitive : tuple of str
        Phrases matched only as written (``"AI"``, ``"ML"``, ``"RAG"``, ``"RPA"``).
    exclude : tuple of str
        Case-insensitive whole-word phrases removed from the text before matching.
    hard : tuple of str
        Case-insensitive substrings marking hard cases for labelled samples.
    """

    technology: str
    label: str
    include: tuple[str, ...]
    include_case_sensitive: tuple[str, ...]
    exclude: tuple[str, ...]
    hard: tuple[str, ...]


@functools.cache
def _queries_raw() -> dict[str, Any]:
    text = resources.files("laborai").joinpath("_pkgdata/queries.toml").read_text("utf-8")
    return tomllib.loads(text)


@functools.cache
def _skills_raw() -> dict[str, Any]:
    text = resources.files("laborai").joinpath("_pkgdata/genai_skills.toml").read_text("utf-8")
    return dict(tomllib.loads(text)["families"])


def _check_technology(technology: str) -> None:
    check_option("technology", technology, TECHNOLOGIES)


def query_terms(technology: Technology = "ai") -> QueryTerms:
    """Return the include/exclude term lists of a technology.

    Parameters
    ----------
    technology : {"ai", "cloud", "rpa"}, default "ai"
        Which query.

    Returns
    -------
    QueryTerms

    Raises
    ------
    OptionError
        If ``technology`` is not one of ``"ai"``, ``"cloud"``, ``"rpa"``.

    Notes
    -----
    For AI, ``include`` also holds every raw skill of the gen-AI skills dictionary
    (``include_skill_dictionary = true``), so posts whose title has no AI word but whose skills
    name an AI skill are still found.

    References
    ----------
    The published method queries posts with keywords ("artificial intelligence", "machine
    learning", ...) and excludes misleading terms (e.g. "email") before classification.
    """
    _check_technology(technology)
    raw = _queries_raw()
    q = raw[technology]
    include = list(q["include"])
    if q.get("include_skill_dictionary", False):
        for fam in _skills_raw().values():
            include += [s for s in fam["skills"] if s not in include]
    return QueryTerms(
        technology=technology,
        label=str(q["label"]),
        include=tuple(include),
        include_case_sensitive=tuple(q.get("include_case_sensitive", ())),
        exclude=tuple(q.get("exclude", ())),
        hard=tuple(raw.get("hard", {}).get(technology, ())),
    )


def _alternation(terms: Sequence[str]) -> str:
    # Longest first so that "GPT-4" wins over "GPT" inside one alternation.
    return "|".join(re.escape(t) for t in sorted(set(terms), key=lambda s: (-len(s), s)))


#: Characters whose ``str.lower()`` contains the ASCII letter (beyond the letter's two cases):
#: U+0130 (dotted capital I) lowers to "i" + U+0307, U+212A (Kelvin sign) to "k". Verified
#: against every code point by tests/test_classify.py.
_LOWER_FOLD: dict[str, str] = {"i": "\u0130", "k": "\u212a"}
#: Characters that ``re.IGNORECASE`` matches to the ASCII letter (beyond its two cases).
_CASE_FOLD: dict[str, str] = {"i": "\u0130\u0131", "k": "\u212a", "s": "\u017f"}
#: Python's ``\w`` on ASCII text; RE2 stand-ins for the look-arounds ``(?<!\w)`` / ``(?!\w)``.
_RE2_BEFORE = r"(?:^|[^0-9A-Za-z_])"
_RE2_AFTER = r"(?:[^0-9A-Za-z_]|$)"

Fold = Literal["none", "lower", "ignorecase"]


def _re2_term(term: str, fold: Fold) -> str:
    """RE2 pattern of ``term`` as a substring of the original text.

    ``fold="lower"``: wherever ``text.lower()`` holds ``term`` (a lower-case ASCII term), on
    any text; ``"ignorecase"``: wherever Python's ``re.IGNORECASE`` matches it, on any text;
    ``"none"``: as written.
    """
    out = []
    for ch in term:
        if fold != "none" and ch.isascii() and ch.isalpha():
            low = ch.lower()
            extra = (_LOWER_FOLD if fold == "lower" else _CASE_FOLD).get(low, "")
            out.append("[" + "".join(rf"\x{{{ord(c):x}}}" for c in low + low.upper() + extra)
                       + "]")
        elif ch.isascii() and ch.isalnum():
            out.append(ch)
        else:
            out.append(rf"\x{{{ord(ch):x}}}")
    return "".join(out)


def _re2_alternation(parts: Sequence[tuple[Sequence[str], Fold]]) -> str | None:
    """RE2 pre-filter: every place where one of the terms can match, word boundaries ignored.

    A superset of the Python pattern's matches on any text (Unicode case folding included).
    """
    alts = sorted({_re2_term(t, fold) for terms, fold in parts for t in terms if t})
    return "|".join(alts) if alts else None


def _re2_words(parts: Sequence[tuple[Sequence[str], bool]], boundaries: bool = True
               ) -> str | None:
    r"""RE2 pattern equal to the Python pattern on ASCII text.

    ``parts`` are (terms, case_insensitive); on ASCII text, searching lower-case terms in
    ``text.lower()`` is searching them case-insensitively, and ``\w`` is ``[0-9A-Za-z_]``.
    """
    alts = []
    for terms, ci in parts:
        body = "|".join(sorted({_re2_term(t, "none") for t in terms if t}))
        if body:
            alts.append(f"(?i:{body})" if ci else f"(?:{body})")
    if not alts:
        return None
    alt = "|".join(alts)
    return _RE2_BEFORE + "(?:" + alt + ")" + _RE2_AFTER if boundaries else alt


@dataclass(frozen=True)
class _Patterns:
    lower: re.Pattern[str] | None  # case-insensitive includes, searched in lower-cased text
    exact: re.Pattern[str] | None  # case-sensitive includes, searched in the original text
    exclude: re.Pattern[str] | None  # case-insensitive excludes, deleted from the original
    naive: re.Pattern[str]  # lower-case substrings, searched in lower-cased text
    # RE2 (pyarrow) forms, applied to the original text: ``ascii_*`` equal the patterns above
    # on ASCII text; ``pre_*`` match wherever the patterns above can match on any text.
    ascii_hits: str | None = None  # lower | exact
    pre_hits: str | None = None
    pre_exclude: str | None = None
    ascii_naive: str | None = None
    pre_naive: str | None = None


@functools.cache
def _patterns(technology: str) -> _Patterns:
    t = query_terms(technology)  # type: ignore[arg-type]

    def words(terms: Sequence[str], flags: str = "") -> re.Pattern[str] | None:
        if not terms:
            return None
        return re.compile(r"(?<!\w)(?" + flags + ":" + _alternation(terms) + r")(?!\w)")

    naive_terms = [x.lower() for x in (*t.include, *t.include_case_sensitive, *t.hard)]
    lower_terms = [x.lower() for x in t.include]
    return _Patterns(
        lower=words(lower_terms),
        exact=words(t.include_case_sensitive),
        exclude=words(t.exclude, "i"),
        naive=re.compile(_alternation(naive_terms)),
        ascii_hits=_re2_words([(lower_terms, True), (t.include_case_sensitive, False)]),
        pre_hits=_re2_alternation([(lower_terms, "lower"), (t.include_case_sensitive, "none")]),
        pre_exclude=_re2_alternation([(t.exclude, "ignorecase")]),
        ascii_naive=_re2_words([(naive_terms, True)], boundaries=False),
        pre_naive=_re2_alternation([(naive_terms, "lower")]),
    )


class _Texts:
    """The texts of a column, as a list of str and/or a pyarrow array.

    The vectorised engine (:meth:`search`): on ASCII texts an RE2 pattern equal to the Python
    pattern answers in pyarrow (C++, linear time, the whole column at once); on the other texts
    an RE2 pre-filter (the terms as substrings, case folded as Python does, boundaries ignored)
    selects the few that Python's ``re`` then decides. The hits are therefore exactly those of
    ``re`` (word boundaries, Unicode case folding). Without pyarrow, or for text pyarrow cannot
    hold (lone surrogates), every text goes to ``re``.
    """

    __slots__ = ("_arrow", "_ascii", "_list", "n")

    def __init__(self, texts: Sequence[str] | None = None, arrow: Any = None) -> None:
        self._list = texts
        self._arrow = arrow
        self._ascii: np.ndarray | None = None
        self.n = len(texts) if texts is not None else len(arrow)

    @property
    def arrow(self) -> Any:
        """The texts as a pyarrow large_string array, or False when pyarrow cannot hold them."""
        if self._arrow is None:
            try:
                import pyarrow as pa

                self._arrow = pa.array(self._list, type=pa.large_string())
            except (ImportError, UnicodeError, TypeError, ValueError):
                self._arrow = False
            except Exception as exc:  # pyarrow.ArrowException and its subclasses
                if not type(exc).__module__.startswith("pyarrow"):
                    raise
                self._arrow = False
        return self._arrow

    def take(self, ix: np.ndarray) -> list[str]:
        """The texts of rows ``ix`` as Python strings."""
        if self._list is not None:
            lst = self._list
            return [lst[i] for i in ix.tolist()]
        if not ix.size:
            return []
        return self._arrow.take(ix).to_numpy(zero_copy_only=False).tolist()  # type: ignore[no-any-return]

    def tolist(self) -> list[str]:
        if self._list is None:
            self._list = self._arrow.to_numpy(zero_copy_only=False).tolist()
        return list(self._list)  # type: ignore[arg-type]

    def _re2(self, pattern: str, arr: Any = None) -> np.ndarray:
        import pyarrow.compute as pc

        hit = pc.match_substring_regex(self.arrow if arr is None else arr, pattern=pattern)
        return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)

    def search(self, ascii_pattern: str | None, prefilter: str | None,
               confirm: Any, rows: np.ndarray | None = None) -> np.ndarray:
        """Rows (among ``rows``, default all) where the Python pattern matches.

        ``ascii_pattern`` equals it on ASCII text; ``prefilter`` holds wherever it can match;
        ``confirm(list of str) -> bool array`` is the Python pattern itself.
        """
        out = np.zeros(self.n, dtype=bool)
        if ascii_pattern is None or not self.n:
            return out
        if rows is not None and 2 * len(rows) > self.n:  # cheaper on the whole column
            keep = np.zeros(self.n, dtype=bool)
            keep[rows] = True
            return self.search(ascii_pattern, prefilter, confirm) & keep
        todo = np.arange(self.n) if rows is None else np.asarray(rows, dtype=np.int64)
        if not todo.size:
            return out
        arr = self.arrow
        if arr is False or todo.size < 64:
            out[todo] = confirm(self.take(todo))
            return out
        sub = arr if rows is None else arr.take(todo)
        is_ascii = self._is_ascii(sub, rows is None)
        hit = self._re2(ascii_pattern, sub)
        hit &= is_ascii
        other = np.flatnonzero(~is_ascii)
        if other.size:
            import pyarrow as pa

            maybe = self._re2(prefilter, sub.take(pa.array(other))) if prefilter else \
                np.ones(other.size, dtype=bool)
            cand = other[maybe]
            if cand.size:
                hit[cand] = confirm(self.take(todo[cand]))
        out[todo] = hit
        return out

    def _is_ascii(self, arr: Any, whole: bool) -> np.ndarray:
        import pyarrow.compute as pc

        if whole and self._ascii is not None:
            return self._ascii
        m = np.asarray(pc.string_is_ascii(arr).to_numpy(zero_copy_only=False), dtype=bool)
        if whole:
            self._ascii = m
        return m


def _as_texts(texts: Sequence[str] | _Texts) -> _Texts:
    return texts if isinstance(texts, _Texts) else _Texts(texts)


def _hits_exact(pat: _Patterns, texts: Sequence[str]) -> np.ndarray:
    """The include patterns with Python's ``re`` on every text (the reference semantics)."""
    out = np.zeros(len(texts), dtype=bool)
    if pat.lower is not None:
        search = pat.lower.search
        out |= np.fromiter((search(s.lower()) is not None for s in texts), dtype=bool,
                           count=len(texts))
    if pat.exact is not None:
        search = pat.exact.search
        out |= np.fromiter((search(s) is not None for s in texts), dtype=bool, count=len(texts))
    return out


def _hits(pat: _Patterns, texts: Sequence[str] | _Texts) -> np.ndarray:
    return _as_texts(texts).search(pat.ascii_hits, pat.pre_hits,
                                   lambda ts: _hits_exact(pat, ts))


def _match(texts: Sequence[str] | _Texts, technology: str, mode: str) -> np.ndarray:
    pat = _patterns(technology)
    tx = _as_texts(texts)
    if mode == "naive":
        search = pat.naive.search
        return tx.search(pat.ascii_naive, pat.pre_naive, lambda ts: np.fromiter(
            (search(s.lower()) is not None for s in ts), dtype=bool, count=len(ts)))
    if mode == "candidate" or pat.exclude is None:
        return _hits(pat, tx)
    return _candidate_and_keyword(tx, technology)[1]


def _may_exclude(pat: _Patterns, tx: _Texts, rows: np.ndarray) -> np.ndarray:
    """Rows among ``rows`` where an exclude term may match (sub would change the text)."""
    if pat.exclude is None or not rows.size:
        return rows[:0]
    arr = tx.arrow
    if arr is False or pat.pre_exclude is None or rows.size < 64:
        return rows
    import pyarrow as pa

    return rows[tx._re2(pat.pre_exclude, arr.take(pa.array(rows)))]


def _candidate_and_keyword(texts: Sequence[str] | _Texts, technology: str
                           ) -> tuple[np.ndarray, np.ndarray]:
    pat = _patterns(technology)
    tx = _as_texts(texts)
    cand = _hits(pat, tx)
    kw = cand.copy()
    if pat.exclude is not None:
        # A keyword hit is a candidate hit that survives the deletion of the exclude terms;
        # candidates where no exclude term can match keep their hit.
        ix = _may_exclude(pat, tx, np.flatnonzero(cand))
        sub = pat.exclude.sub
        kw[ix] = _hits_exact(pat, [sub(" ", s) for s in tx.take(ix)])
    return cand, kw


def _text_columns(posts: pd.DataFrame) -> list[str]:
    if not isinstance(posts, pd.DataFrame):
        raise DataValidationError(
            f"posts must be a pandas DataFrame of job posts; got {type(posts).__name__}. "
            "Pass e.g. la.simulate_marketplace().job_posts."
        )
    cols = [c for c in ("title", "skills", "description") if c in posts.columns]
    if "title" not in cols:
        raise DataValidationError(
            f"posts: column 'title' is required to classify posts; got columns "
            f"{list(posts.columns)[:12]}. Rename the job-title column to 'title'."
        )
    return cols


def post_text(posts: pd.DataFrame) -> pd.Series:
    """Return the text a post is classified on: title, skills and (if present) description.

    Parameters
    ----------
    posts : pandas.DataFrame
        Job posts with a ``title`` column and optional ``skills`` (``"; "``-separated) and
        ``description`` columns. Missing values count as empty text.

    Returns
    -------
    pandas.Series
        One string per post (same index), parts joined by ``" | "``.

    Raises
    ------
    DataValidationError
        If ``posts`` is not a DataFrame or has no ``title`` column.
    """
    cols = _text_columns(posts)
    parts = [posts[c].astype(object).where(posts[c].notna(), "").astype(str).to_numpy(dtype=object)
             for c in cols]
    out = parts[0]
    for p in parts[1:]:
        out = out + " | " + p
    return pd.Series(out, index=posts.index, dtype=object, name="text")


def _post_texts(posts: pd.DataFrame) -> _Texts:
    """:func:`post_text` as :class:`_Texts`, joined in pyarrow when every column is Arrow text."""
    cols = _text_columns(posts)
    arrow_cols = [posts[c] for c in cols if isinstance(posts[c].dtype, pd.StringDtype)
                  and posts[c].dtype.storage == "pyarrow"]
    if len(arrow_cols) == len(cols) and len(posts):
        try:
            import pyarrow as pa
            import pyarrow.compute as pc

            parts = [pc.fill_null(pa.array(c.array).cast(pa.large_string()), "")
                     for c in arrow_cols]
            sep = pa.scalar(" | ", type=pa.large_string())
            joined = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, sep)
            return _Texts(arrow=joined)
        except ImportError:
            pass
    return _Texts(post_text(posts).tolist())


def match_text(texts: Sequence[str] | pd.Series, technology: Technology = "ai",
               mode: QueryMode = "keyword") -> np.ndarray:
    """Apply a technology's keyword query to raw strings.

    Parameters
    ----------
    texts : sequence of str or pandas.Series
        Texts to search.
    technology : {"ai", "cloud", "rpa"}, default "ai"
        Which query.
    mode : {"keyword", "candidate", "naive"}, default "keyword"
        ``"keyword"``: include terms matched after removing the exclude terms (the keyword-only
        classifier). ``"candidate"``: include terms without exclusions (the broad, high-recall
        query whose hits the model stage classifies). ``"naive"``: case-insensitive substrings
        of the include and hard terms (what a careless query does; it marks hard cases).

    Returns
    -------
    numpy.ndarray of bool

    Raises
    ------
    OptionError
        For an unknown ``technology`` or ``mode``.
    """
    _check_technology(technology)
    check_option("mode", mode, ("keyword", "candidate", "naive"))
    seq = [("" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
           for v in (texts.tolist() if isinstance(texts, pd.Series) else texts)]
    return _match(seq, technology, mode)


def query(posts: pd.DataFrame, technology: Technology = "ai",
          mode: QueryMode = "keyword") -> pd.Series:
    """Flag job posts with the keyword query of a technology.

    Parameters
    ----------
    posts : pandas.DataFrame
        Job posts with ``title`` and optional ``skills`` / ``description``.
    technology : {"ai", "cloud", "rpa"}, default "ai"
        Which query.
    mode : {"keyword", "candidate", "naive"}, default "keyword"
        See :func:`match_text`.

    Returns
    -------
    pandas.Series of bool
        Same index as ``posts``, named ``"query_{technology}"``.

    Raises
    ------
    DataValidationError
        If ``posts`` has no ``title`` column.
    OptionError
        For an unknown ``technology`` or ``mode``.

    Notes
    -----
    Terms match whole words only (not preceded or followed by a letter, digit or underscore);
    ``include`` and ``exclude`` terms are case-insensitive, ``include_case_sensitive`` terms
    (upper-case acronyms) match only as written. Exclude terms are deleted from the text before
    the include terms are searched, so an excluded phrase cannot trigger a match but other
    words of the same post still can.

    References
    ----------
    Query-then-classify measurement of AI work in online job posts, as in the published
    marketplace report (keywords such as "artificial intelligence" and "machine learning",
    misleading terms such as "email" excluded).
    """
    _check_technology(technology)
    check_option("mode", mode, ("keyword", "candidate", "naive"))
    return pd.Series(_match(_post_texts(posts), technology, mode), index=posts.index,
                     name=f"query_{technology}")


# ----------------------------------------------------------------------------- labelled data


def labelled_posts(
    posts: pd.DataFrame,
    technology: Technology = "ai",
    n: int | None = None,
    *,
    positive_share: float = 0.35,
    hard_share: float = 0.30,
    noise: float = 0.02,
    hard_noise: float = 0.05,
    seed: int = 0,
) -> pd.DataFrame:
    """Draw a hand-labelling sample from posts with ground truth, with hard cases and noise.

    Parameters
    ----------
    posts : pandas.DataFrame
        Job posts with a ground-truth column ``is_{technology}`` (the simulated marketplace has
        ``is_ai``, ``is_cloud``, ``is_rpa``) and the text columns of :func:`post_text`.
    technology : {"ai", "cloud", "rpa"}, default "ai"
        Which label.
    n : int, optional
        Sample size; default 2,000 for AI and 1,000 for cloud and RPA (the published method).
    positive_share : float, default 0.35
        Share of the sample drawn from related posts.
    hard_share : float, default 0.30
        Share drawn from unrelated posts that a naive query would flag (keyword traps such as
        "email", "Thai", Adobe Illustrator "AI" files, or skill words shared with related work).
    noise, hard_noise : float, default 0.02, 0.05
        Probability that a labeller gets an ordinary / a hard post wrong (the label is flipped).
    seed : int, default 0
        Seed of the sampling and the label noise.

    Returns
    -------
    pandas.DataFrame
        The sampled rows of ``posts`` (original index kept, in sampled order) plus ``label``
        (noisy, what a labeller wrote), ``label_true`` (ground truth), ``hard`` (hard case) and
        ``stratum`` (``"positive"``, ``"hard"``, ``"random"``).

    Raises
    ------
    DataValidationError
        If the ground-truth column is missing or ``posts`` has fewer than ``n`` rows.
    OptionError
        For shares or noise rates outside [0, 1) or shares summing to more than one.

    Warns
    -----
    SmallSampleWarning
        If there are fewer related or hard posts than requested; the shortfall is filled with
        random posts and the stratum counts say so.

    Notes
    -----
    Strata are drawn without replacement: related posts, then hard negatives, then random posts
    from the remainder (which contain related posts at their population rate).
    """
    _check_technology(technology)
    truth_col = f"is_{technology}"
    _text_columns(posts)
    if truth_col not in posts.columns:
        raise DataValidationError(
            f"posts: ground-truth column {truth_col!r} is missing; labelled samples need it. "
            "Use la.simulate_marketplace(...).job_posts or add a boolean column "
            f"{truth_col!r}."
        )
    n = _DEFAULT_N_LABELLED[technology] if n is None else n
    for name, v in (("positive_share", positive_share), ("hard_share", hard_share),
                    ("noise", noise), ("hard_noise", hard_noise)):
        if not 0.0 <= v < 1.0:
            raise OptionError(f"{name} must be in [0, 1); got {v!r}.")
    if positive_share + hard_share > 1.0:
        raise OptionError(f"positive_share + hard_share must be at most 1; got "
                          f"{positive_share} + {hard_share}.")
    if not isinstance(n, (int, np.integer)) or n < 10:
        raise OptionError(f"n must be an integer of at least 10; got {n!r}.")
    if n > len(posts):
        raise DataValidationError(f"posts: {len(posts)} rows cannot give a labelled sample of "
                                  f"n={n}; simulate more posts or lower n.")
    rng = np.random.default_rng(seed)
    truth = posts[truth_col].to_numpy(dtype=bool)
    naive = query(posts, technology, mode="naive").to_numpy()
    pos_ix = np.flatnonzero(truth)
    hard_ix = np.flatnonzero(~truth & naive)
    want_pos, want_hard = round(n * positive_share), round(n * hard_share)
    if pos_ix.size < want_pos or hard_ix.size < want_hard:
        warnings.warn(
            f"labelled_posts: asked for {want_pos} related and {want_hard} hard posts, found "
            f"{pos_ix.size} and {hard_ix.size}; the shortfall is drawn at random. Simulate more "
            "posts for a balanced sample.", SmallSampleWarning, stacklevel=2)
    take_pos = rng.choice(pos_ix, min(want_pos, pos_ix.size), replace=False)
    take_hard = rng.choice(hard_ix, min(want_hard, hard_ix.size), replace=False)
    rest = np.setdiff1d(np.arange(len(posts)), np.concatenate([take_pos, take_hard]))
    take_rand = rng.choice(rest, n - take_pos.size - take_hard.size, replace=False)
    rows = np.concatenate([take_pos, take_hard, take_rand])
    stratum = np.repeat(np.array(["positive", "hard", "random"], dtype=object),
                        [take_pos.size, take_hard.size, take_rand.size])
    perm = rng.permutation(rows.size)
    rows, stratum = rows[perm], stratum[perm]
    hard = ~truth[rows] & naive[rows]
    flip = rng.random(rows.size) < np.where(hard, hard_noise, noise)
    out = posts.iloc[rows].copy()
    out["label_true"] = truth[rows]
    out["label"] = truth[rows] ^ flip
    out["hard"] = hard
    out["stratum"] = stratum
    return out


def split_labelled(labelled: pd.DataFrame, test_size: float = 0.25,
                   seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a labelled sample into training and held-out test sets, stratified by label.

    Parameters
    ----------
    labelled : pandas.DataFrame
        Output of :func:`labelled_posts` (needs a boolean ``label`` column).
    test_size : float, default 0.25
        Share held out, in (0, 1).
    seed : int, default 0
        Seed of the split.

    Returns
    -------
    (train, test) : tuple of pandas.DataFrame

    Raises
    ------
    DataValidationError
        If ``label`` is missing.
    OptionError
        If ``test_size`` is not in (0, 1).
    """
    if "label" not in labelled.columns:
        raise DataValidationError("labelled: column 'label' is missing; build the sample with "
                                  "la.classify.labelled_posts(...).")
    if not 0.0 < test_size < 1.0:
        raise OptionError(f"test_size must be in (0, 1); got {test_size!r}.")
    rng = np.random.default_rng(seed)
    y = labelled["label"].to_numpy(dtype=bool)
    test = np.zeros(len(y), dtype=bool)
    for cls in (False, True):
        ix = np.flatnonzero(y == cls)
        k = int(round(ix.size * test_size))
        test[rng.choice(ix, k, replace=False)] = True
    return labelled.iloc[np.flatnonzero(~test)], labelled.iloc[np.flatnonzero(test)]


# ----------------------------------------------------------------------------- model stage


def _labels(labels: Any, posts: pd.DataFrame) -> np.ndarray:
    if isinstance(labels, str):
        if labels not in posts.columns:
            raise DataValidationError(f"labels: column {labels!r} is not in posts; got columns "
                                      f"{list(posts.columns)[:12]}.")
        labels = posts[labels]
    y = np.asarray(labels)
    if y.shape != (len(posts),):
        raise DataValidationError(f"labels must have one value per post ({len(posts)}); got "
                                  f"shape {y.shape}.")
    if y.dtype != bool:
        vals = pd.unique(pd.Series(y, dtype=object))
        bad = [v for v in vals if v not in (0, 1, True, False)]
        if bad:
            raise DataValidationError(f"labels must be boolean (or 0/1); got values such as "
                                      f"{bad[:5]!r}. Missing labels are not allowed: drop or "
                                      "label those posts first.")
        y = y.astype(bool)
    return y


def _documents(texts: list[str], keyword: np.ndarray) -> list[str]:
    # The keyword-query hit is a feature (a token), so the forest starts from the query.
    return [t + " " + _QUERY_TOKEN if k else t for t, k in zip(texts, keyword.tolist(),
                                                                strict=True)]


def _make_pipeline(seed: int, n_estimators: int, n_jobs: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline

    return Pipeline([
        ("tfidf", TfidfVectorizer(lowercase=True, ngram_range=(1, 2), min_df=2,
                                  sublinear_tf=True, token_pattern=r"(?u)\b\w+\b",
                                  dtype=np.float64)),
        ("forest", RandomForestClassifier(n_estimators=n_estimators, max_features="sqrt",
                                          min_samples_leaf=1, random_state=seed, n_jobs=n_jobs)),
    ])


def _freeze(m: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(m))


@dataclass(frozen=True, eq=False)
class Classifier:
    """A trained query-then-classify model for one technology (returned by :func:`train`).

    Attributes
    ----------
    technology : str
        ``"ai"``, ``"cloud"`` or ``"rpa"``.
    pipeline : sklearn.pipeline.Pipeline
        TF-IDF (title + skills (+ description), word uni- and bigrams) -> random forest.
    threshold : float
        Probability above which a candidate post is flagged.
    seed : int
        Seed of the forest.
    settings : mapping
        Training settings (``n_estimators``, ``n_jobs``, ``cv``).
    n_train : int
        Number of training posts.
    input_hash : str
        Hash of the training text and labels.
    cv_scores : pandas.DataFrame or None
        Cross-validation scores on the training set (one row per fold), if computed.
    version : str
        laborai version that trained the model.
    """

    technology: str
    pipeline: Any
    threshold: float
    seed: int
    settings: Mapping[str, Any] = field(default_factory=dict)
    n_train: int = 0
    input_hash: str = ""
    cv_scores: pd.DataFrame | None = None
    version: str = ""

    def __repr__(self) -> str:
        return (f"Classifier(technology={self.technology!r}, n_train={self.n_train}, "
                f"n_estimators={self.settings.get('n_estimators')}, seed={self.seed}, "
                f"threshold={self.threshold})")

    def _proba(self, posts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        texts = _post_texts(posts)
        cand, kw = _candidate_and_keyword(texts, self.technology)
        p = np.zeros(texts.n)
        ix = np.flatnonzero(cand)
        if ix.size:
            docs = _documents(texts.take(ix), kw[ix])
            pos = list(self.pipeline.classes_).index(True)
            p[ix] = self.pipeline.predict_proba(docs)[:, pos]
        return p, cand

    def predict_proba(self, posts: pd.DataFrame) -> pd.Series:
        """Return the probability that each post is related to the technology.

        Parameters
        ----------
        posts : pandas.DataFrame
            Job posts with ``title`` and optional ``skills`` / ``description``.

        Returns
        -------
        pandas.Series of float
            Same index as ``posts``; 0 for posts that the broad query does not select.

        Raises
        ------
        DataValidationError
            If ``posts`` has no ``title`` column.
        """
        p, _ = self._proba(posts)
        return pd.Series(p, index=posts.index, name=f"proba_{self.technology}")

    def predict(self, posts: pd.DataFrame, threshold: float | None = None) -> pd.Series:
        """Flag posts: broad query hit and model probability above the threshold.

        Parameters
        ----------
        posts : pandas.DataFrame
            Job posts with ``title`` and optional ``skills`` / ``description``.
        threshold : float, optional
            Overrides :attr:`threshold`.

        Returns
        -------
        pandas.Series of bool
            Same index as ``posts``, named ``flag_{technology}``.

        Raises
        ------
        DataValidationError
            If ``posts`` has no ``title`` column.
        """
        thr = self.threshold if threshold is None else float(threshold)
        p, cand = self._proba(posts)
        return pd.Series(cand & (p > thr), index=posts.index, name=f"flag_{self.technology}")

    def evaluate(self, posts: pd.DataFrame, labels: Any, alpha: float = 0.05) -> Evaluation:
        """Evaluate the model on labelled posts (ideally a held-out set).

        Parameters
        ----------
        posts : pandas.DataFrame
            Labelled job posts not used in training.
        labels : array-like of bool or str
            Labels, or the name of a column of ``posts`` holding them.
        alpha : float, default 0.05
            Level of the Wilson confidence intervals.

        Returns
        -------
        Evaluation
            Accuracy, precision, recall, F1, confusion matrix, plus the training
            cross-validation scores when the model has them.

        Raises
        ------
        DataValidationError
            If labels are missing, not boolean or of the wrong length.
        """
        y = _labels(labels, posts)
        pred = self.predict(posts).to_numpy()
        return _evaluation(self.technology, y, pred, alpha, self.cv_scores, "model")

    def save(self, path: str | Path) -> Path:
        """Save the model with :mod:`skops.io` (no pickle).

        Parameters
        ----------
        path : str or pathlib.Path
            File to write (conventionally ``*.skops``).

        Returns
        -------
        pathlib.Path
            The file.
        """
        import skops.io as sio

        cv = None if self.cv_scores is None else {
            c: self.cv_scores[c].tolist() for c in self.cv_scores.columns}
        obj = {
            "format": _FORMAT, "format_version": _FORMAT_VERSION,
            "technology": self.technology, "threshold": float(self.threshold),
            "seed": int(self.seed), "settings": dict(self.settings), "n_train": int(self.n_train),
            "input_hash": self.input_hash, "version": self.version, "cv_scores": cv,
            "pipeline": self.pipeline,
        }
        p = Path(path)
        sio.dump(obj, p)
        return p


def load(path: str | Path) -> Classifier:
    """Load a model saved by :meth:`Classifier.save`, trusting only :data:`TRUSTED_TYPES`.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.skops`` file.

    Returns
    -------
    Classifier

    Raises
    ------
    DataValidationError
        If the file holds any type outside :data:`TRUSTED_TYPES` (nothing from it is
        constructed or run), or is not a laborai classifier file.
    UnsafeModelError
        (a :class:`DataValidationError`) If the file is not a readable skops file, or a
        parameter breaks a structural rule of :mod:`laborai._classify_safety`: tree children
        out of bounds or cyclic, split features outside the vocabulary, non-finite thresholds
        or values, a ``token_pattern`` outside the linear-time whitelist, inconsistent shapes,
        ``n_jobs`` other than None/1/2, a threshold outside [0, 1).

    Notes
    -----
    :mod:`skops.io` stores objects as a schema plus arrays and rebuilds only types listed as
    trusted; it never unpickles. An untrusted type (for example a function such as
    ``os.system`` slipped into the file) makes loading fail before anything is built. The
    rebuilt parameters are then validated before anything uses them, so that a file of trusted
    types cannot crash (out-of-bounds tree indices) or hang (catastrophic regular expression)
    the interpreter.
    """
    import skops.io as sio

    p = Path(path)
    if not p.is_file():
        raise DataValidationError(f"{p}: no such model file.")
    try:
        found = sio.get_untrusted_types(file=p)
    except Exception as exc:  # not a zip, no schema, malformed JSON ...
        raise UnsafeModelError(f"{p}: not a readable skops model file "
                               f"({type(exc).__name__}: {str(exc)[:200]}).") from exc
    untrusted = sorted(set(found) - set(TRUSTED_TYPES))
    if untrusted:
        raise DataValidationError(
            f"{p}: the model file contains types that are not trusted: {untrusted[:5]}; "
            f"allowed types are listed in la.classify.TRUSTED_TYPES. Refusing to load; "
            "retrain the model with la.classify.train(...) and save it again."
        )
    try:
        obj = sio.load(p, trusted=list(TRUSTED_TYPES))
    except Exception as exc:  # skops / scikit-learn reject a malformed file in many ways
        raise UnsafeModelError(f"{p}: the model file could not be rebuilt "
                               f"({type(exc).__name__}: {str(exc)[:200]}); it is damaged or "
                               "was not written by Classifier.save.") from exc
    if not isinstance(obj, dict) or obj.get("format") != _FORMAT:
        raise DataValidationError(f"{p}: not a laborai classifier file (format "
                                  f"{obj.get('format') if isinstance(obj, dict) else None!r}); "
                                  f"expected {_FORMAT!r}.")
    # Trusted types are not enough: check every parameter compiled code or the regex engine
    # will use (tree bounds, token pattern, shapes), so that the file cannot crash or hang.
    check_classifier_pipeline(obj.get("pipeline"), p)
    technology = obj.get("technology")
    if technology not in TECHNOLOGIES:
        raise UnsafeModelError(f"{p}: technology must be one of {list(TECHNOLOGIES)}; got "
                               f"{technology!r}.")
    threshold = check_threshold(obj.get("threshold"), p)
    meta: dict[str, Any] = {}
    for name, types in (("seed", (int,)), ("n_train", (int,)), ("input_hash", (str,)),
                        ("version", (str,)), ("settings", (dict,))):
        v = obj.get(name)
        if not isinstance(v, types) or isinstance(v, bool):
            raise UnsafeModelError(f"{p}: field {name!r} must be of type "
                                   f"{types[0].__name__}; got {type(v).__name__}.")
        meta[name] = v
    cv = obj.get("cv_scores")
    if cv is not None and not (isinstance(cv, dict) and all(
            isinstance(k, str) and isinstance(v, list) for k, v in cv.items())):
        raise UnsafeModelError(f"{p}: field 'cv_scores' must be None or a dict of lists.")
    return Classifier(
        technology=technology, pipeline=obj["pipeline"], threshold=threshold,
        seed=meta["seed"], settings=_freeze(meta["settings"]), n_train=meta["n_train"],
        input_hash=meta["input_hash"], cv_scores=None if cv is None else pd.DataFrame(cv),
        version=meta["version"],
    )


def _fit(texts: list[str], y: np.ndarray, technology: str, seed: int, n_estimators: int,
         n_jobs: int) -> Any:
    kw = _match(texts, technology, "keyword")
    pipe = _make_pipeline(seed, n_estimators, n_jobs)
    pipe.fit(_documents(texts, kw), y)
    return pipe


def _check_train_args(y: np.ndarray, n_estimators: int, n_jobs: int, threshold: float) -> None:
    if y.all() or not y.any():
        raise DataValidationError(f"labels must contain both classes to train; got "
                                  f"{int(y.sum())} related of {y.size} posts.")
    if not isinstance(n_estimators, (int, np.integer)) or n_estimators < 1:
        raise OptionError(f"n_estimators must be a positive integer; got {n_estimators!r}.")
    check_option("n_jobs", n_jobs, (1, 2))
    if not 0.0 <= threshold < 1.0:
        raise OptionError(f"threshold must be in [0, 1); got {threshold!r}.")


def train(
    posts: pd.DataFrame,
    labels: Any,
    technology: Technology = "ai",
    *,
    seed: int = 0,
    n_estimators: int = 200,
    n_jobs: int = 1,
    threshold: float = 0.5,
    cv: int = 0,
) -> Classifier:
    """Train the TF-IDF + random-forest classifier of a technology on labelled posts.

    Parameters
    ----------
    posts : pandas.DataFrame
        Labelled job posts with ``title`` and optional ``skills`` / ``description``.
    labels : array-like of bool or str
        One label per post (True = related), or the name of a column of ``posts``.
    technology : {"ai", "cloud", "rpa"}, default "ai"
        Which technology (sets the query used for candidates and the keyword feature).
    seed : int, default 0
        Seed of the random forest (and of the cross-validation folds).
    n_estimators : int, default 200
        Number of trees.
    n_jobs : {1, 2}, default 1
        Threads for fitting and prediction.
    threshold : float, default 0.5
        Probability above which a candidate is flagged.
    cv : int, default 0
        If at least 2, also run ``cv``-fold stratified cross-validation on the training set
        (:func:`cross_validate`) and keep the scores in :attr:`Classifier.cv_scores`.

    Returns
    -------
    Classifier

    Raises
    ------
    DataValidationError
        For missing text columns, or labels that are missing, non-boolean, of the wrong length
        or all of one class.
    OptionError
        For an unknown technology or invalid settings.

    Notes
    -----
    Features: TF-IDF of word uni- and bigrams (lower-cased, sublinear term frequency, terms in
    at least two posts) of title + skills (+ description), plus one token marking a
    keyword-query hit. Classifier: random forest of ``n_estimators`` trees, ``sqrt`` features
    per split. At prediction, only posts selected by the broad query (include terms, no
    exclusions) are scored; others are unrelated. The estimand is P(related | text) among
    candidate posts.

    References
    ----------
    Breiman, L. (2001). Random forests. Machine Learning 45(1), 5-32.
    Salton, G. and Buckley, C. (1988). Term-weighting approaches in automatic text retrieval.
    Information Processing & Management 24(5), 513-523.
    """
    from laborai import __version__

    _check_technology(technology)
    y = _labels(labels, posts)
    _check_train_args(y, n_estimators, n_jobs, threshold)
    if cv and (not isinstance(cv, (int, np.integer)) or cv < 2):
        raise OptionError(f"cv must be 0 (none) or an integer of at least 2; got {cv!r}.")
    texts = post_text(posts).tolist()
    pipe = _fit(texts, y, technology, seed, n_estimators, n_jobs)
    scores = (cross_validate(posts, y, technology, n_folds=cv, seed=seed,
                             n_estimators=n_estimators, n_jobs=n_jobs, threshold=threshold)
              if cv else None)
    h = frame_hash(pd.DataFrame({"text": pd.Series(texts, dtype=object), "label": y}))
    return Classifier(
        technology=technology, pipeline=pipe, threshold=float(threshold), seed=int(seed),
        settings=_freeze({"n_estimators": int(n_estimators), "n_jobs": int(n_jobs),
                          "cv": int(cv)}),
        n_train=int(y.size), input_hash=h, cv_scores=scores, version=__version__,
    )


def cross_validate(
    posts: pd.DataFrame,
    labels: Any,
    technology: Technology = "ai",
    *,
    n_folds: int = 5,
    seed: int = 0,
    n_estimators: int = 200,
    n_jobs: int = 1,
    threshold: float = 0.5,
) -> pd.DataFrame:
    """Stratified k-fold cross-validation of the query-then-classify model.

    Parameters
    ----------
    posts : pandas.DataFrame
        Labelled job posts.
    labels : array-like of bool or str
        Labels or a column name.
    technology : {"ai", "cloud", "rpa"}, default "ai"
        Which technology.
    n_folds : int, default 5
        Number of folds (at least 2).
    seed : int, default 0
        Seed of the fold assignment and of the forests.
    n_estimators, n_jobs, threshold
        As in :func:`train`.

    Returns
    -------
    pandas.DataFrame
        One row per fold: ``fold, n, accuracy, precision, recall, f1``.

    Raises
    ------
    DataValidationError
        For invalid labels or a class with fewer posts than folds.
    OptionError
        For invalid settings.
    """
    _check_technology(technology)
    y = _labels(labels, posts)
    _check_train_args(y, n_estimators, n_jobs, threshold)
    if not isinstance(n_folds, (int, np.integer)) or n_folds < 2:
        raise OptionError(f"n_folds must be an integer of at least 2; got {n_folds!r}.")
    if min(int(y.sum()), int((~y).sum())) < n_folds:
        raise DataValidationError(f"labels: each class needs at least n_folds={n_folds} posts; "
                                  f"got {int(y.sum())} related and {int((~y).sum())} unrelated.")
    rng = np.random.default_rng(seed)
    fold = np.empty(y.size, dtype=int)
    for cls in (False, True):
        ix = rng.permutation(np.flatnonzero(y == cls))
        fold[ix] = np.arange(ix.size) % n_folds
    texts = post_text(posts).tolist()
    rows = []
    for k in range(n_folds):
        tr, te = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        pipe = _fit([texts[i] for i in tr.tolist()], y[tr], technology, seed, n_estimators,
                    n_jobs)
        m = Classifier(technology=technology, pipeline=pipe, threshold=threshold, seed=seed)
        pred = m.predict(posts.iloc[te]).to_numpy()
        s = _scores(y[te], pred)
        rows.append({"fold": k, "n": int(te.size), "accuracy": s["accuracy"],
                     "precision": s["precision"], "recall": s["recall"], "f1": s["f1"]})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- evaluation


def _confusion(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    return np.array([[np.sum(~y & ~pred), np.sum(~y & pred)],
                     [np.sum(y & ~pred), np.sum(y & pred)]], dtype=np.int64)


def _ratio(a: int, b: int) -> float:
    return a / b if b else math.nan


def _scores(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    (tn, fp), (fn, tp) = _confusion(y, pred).tolist()
    prec, rec = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    return {"accuracy": _ratio(tp + tn, y.size), "precision": prec, "recall": rec, "f1": f1}


def _wilson(k: int, n: int, alpha: float) -> tuple[float, float]:
    from scipy import stats

    if n == 0:
        return math.nan, math.nan
    z = float(stats.norm.ppf(1 - alpha / 2))
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return mid - half, mid + half


@dataclass(frozen=True, eq=False)
class Evaluation(ResultMixin):
    """Classification metrics on labelled posts (returned by :meth:`Classifier.evaluate`).

    Attributes
    ----------
    technology : str
        Which technology.
    method : str
        ``"model"`` or ``"keyword"``.
    confusion : numpy.ndarray
        2 x 2 counts; rows are labels (unrelated, related), columns predictions.
    alpha : float
        Level of the Wilson intervals in :meth:`tidy`.
    cv_scores : pandas.DataFrame or None
        Training cross-validation scores (one row per fold).
    """

    technology: str
    method: str
    confusion: np.ndarray
    alpha: float = 0.05
    cv_scores: pd.DataFrame | None = None
    _title = "Classifier evaluation"

    @property
    def n(self) -> int:
        """Number of evaluated posts."""
        return int(self.confusion.sum())

    def _parts(self) -> tuple[int, int, int, int]:
        (tn, fp), (fn, tp) = self.confusion.tolist()
        return int(tn), int(fp), int(fn), int(tp)

    @property
    def accuracy(self) -> float:
        """Share of posts classified correctly."""
        tn, _, _, tp = self._parts()
        return _ratio(tp + tn, self.n)

    @property
    def precision(self) -> float:
        """Share of flagged posts that are related."""
        _, fp, _, tp = self._parts()
        return _ratio(tp, tp + fp)

    @property
    def recall(self) -> float:
        """Share of related posts that are flagged."""
        _, _, fn, tp = self._parts()
        return _ratio(tp, tp + fn)

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        _, fp, fn, tp = self._parts()
        return _ratio(2 * tp, 2 * tp + fp + fn)

    def __repr__(self) -> str:
        return (f"Evaluation(technology={self.technology!r}, method={self.method!r}, n={self.n}, "
                f"accuracy={self.accuracy:.4f}, precision={self.precision:.4f}, "
                f"recall={self.recall:.4f}, f1={self.f1:.4f})")

    def _header(self) -> list[tuple[str, str]]:
        (tn, fp), (fn, tp) = self.confusion.tolist()
        return [("technology", self.technology), ("method", self.method), ("posts", str(self.n)),
                ("confusion [[tn, fp], [fn, tp]]", f"[[{tn}, {fp}], [{fn}, {tp}]]")]

    def tidy(self) -> pd.DataFrame:
        """Return one row per metric.

        Returns
        -------
        pandas.DataFrame
            ``term`` (accuracy, precision, recall, f1), ``estimate``, ``std_error`` (binomial,
            NaN for F1), ``statistic`` and ``p_value`` (NaN: no test), ``conf_low``/``conf_high``
            (Wilson score interval at level ``alpha``, NaN for F1), ``n`` (denominator),
            ``cv_mean`` and ``cv_std`` (training cross-validation, NaN if not run).
        """
        tn, fp, fn, tp = self._parts()
        rows = []
        for term, k, d, est in (("accuracy", tp + tn, self.n, self.accuracy),
                                ("precision", tp, tp + fp, self.precision),
                                ("recall", tp, tp + fn, self.recall),
                                ("f1", None, self.n, self.f1)):
            if k is None or d == 0:
                se, lo, hi = math.nan, math.nan, math.nan
            else:
                se = math.sqrt(est * (1 - est) / d)
                lo, hi = _wilson(k, d, self.alpha)
            cvm = cvs = math.nan
            if self.cv_scores is not None and term in self.cv_scores.columns:
                cvm = float(self.cv_scores[term].mean())
                cvs = float(self.cv_scores[term].std(ddof=1))
            rows.append((term, est, se, math.nan, math.nan, lo, hi, d, cvm, cvs))
        return pd.DataFrame(rows, columns=[*TIDY_COLUMNS, "n", "cv_mean", "cv_std"])


def _evaluation(technology: str, y: np.ndarray, pred: np.ndarray, alpha: float,
                cv: pd.DataFrame | None, method: str) -> Evaluation:
    if not 0.0 < alpha < 1.0:
        raise OptionError(f"alpha must be in (0, 1); got {alpha!r}.")
    return Evaluation(technology=technology, method=method, confusion=_confusion(y, pred),
                      alpha=alpha, cv_scores=cv)


def compare_with_keywords(model: Classifier, posts: pd.DataFrame, labels: Any) -> pd.DataFrame:
    """Compare the model with the keyword-only query on labelled posts, at equal recall.

    Parameters
    ----------
    model : Classifier
        A trained model.
    posts : pandas.DataFrame
        Labelled posts not used in training.
    labels : array-like of bool or str
        Labels or a column name.

    Returns
    -------
    pandas.DataFrame
        Rows ``keyword`` (the query alone), ``model`` (at its threshold) and
        ``model_equal_recall`` (the model at the highest threshold whose recall is at least the
        keyword recall); columns ``method, threshold, precision, recall, f1, accuracy,
        n_flagged``.

    Raises
    ------
    DataValidationError
        For invalid labels.

    Notes
    -----
    Precision at equal recall is the fair comparison: any classifier can buy precision by
    flagging fewer posts.
    """
    y = _labels(labels, posts)
    kw = _match(_post_texts(posts), model.technology, "keyword")
    p, cand = model._proba(posts)
    rows = [("keyword", math.nan, kw), ("model", model.threshold, cand & (p > model.threshold))]
    s_kw = _scores(y, kw)
    best = None
    for thr in sorted(set(np.round(p[cand], 12).tolist()) | {0.0}, reverse=True):
        pred = cand & (p >= thr)
        if _scores(y, pred)["recall"] >= s_kw["recall"]:
            best = (thr, pred)
            break
    if best is not None:
        rows.append(("model_equal_recall", best[0], best[1]))
    out = []
    for name, thr, pred in rows:
        s = _scores(y, pred)
        out.append({"method": name, "threshold": thr, "precision": s["precision"],
                    "recall": s["recall"], "f1": s["f1"], "accuracy": s["accuracy"],
                    "n_flagged": int(pred.sum())})
    return pd.DataFrame(out)


# ----------------------------------------------------------------------------- flags


def flag_column(technology: Technology) -> str:
    """Return the name of the flag column of a technology (``"flag_ai"`` etc.).

    Parameters
    ----------
    technology : {"ai", "cloud", "rpa"}
        Which technology.

    Returns
    -------
    str
    """
    _check_technology(technology)
    return f"flag_{technology}"


def flag_posts(posts: pd.DataFrame, technology: Technology = "ai",
               model: Classifier | TitleClassifier | None = None,
               column: str | None = None) -> pd.DataFrame:
    """Return a copy of ``posts`` with a boolean flag column for a technology.

    Parameters
    ----------
    posts : pandas.DataFrame
        Job posts with ``title`` and optional ``skills`` / ``description``.
    technology : {"ai", "cloud", "rpa"}, default "ai"
        Which technology.
    model : Classifier or TitleClassifier, optional
        A model trained for ``technology`` (or the title model, e.g.
        :func:`real_title_model`, which classifies titles only); without one, the keyword
        query alone flags posts.
    column : str, optional
        Name of the new column; default ``flag_{technology}``.

    Returns
    -------
    pandas.DataFrame
        A copy of ``posts`` (input not mutated) with the flag column added (or replaced).

    Raises
    ------
    OptionError
        If ``model`` was trained for another technology.
    DataValidationError
        If ``posts`` has no ``title`` column.

    Notes
    -----
    With a model this is the published query-then-classify method: the broad query selects
    candidates, the random forest decides which candidates are related.
    """
    _check_technology(technology)
    if isinstance(model, TitleClassifier):
        if technology not in model.technologies:
            raise OptionError(f"the title model has no technology {technology!r}; it has "
                              f"{list(model.technologies)}.")
    elif model is not None and model.technology != technology:
        raise OptionError(f"model was trained for technology {model.technology!r} but "
                          f"technology={technology!r}; pass a model trained for {technology!r} "
                          "or model=None for the keyword query.")
    col = column or flag_column(technology)
    if isinstance(model, TitleClassifier):
        flags = model.predict(posts, technology)
    else:
        flags = (query(posts, technology, mode="keyword") if model is None
                 else model.predict(posts))
    out = posts.copy()
    out[col] = flags.to_numpy()
    return out


# ----------------------------------------------------------------------------- skills


def skill_dictionary() -> pd.DataFrame:
    """Return the gen-AI skills dictionary as a table.

    Returns
    -------
    pandas.DataFrame
        ``family`` (identifier), ``family_label`` (display name) and ``skill`` (raw skill as
        written by clients); one row per raw skill.

    Notes
    -----
    Read from ``laborai/_pkgdata/genai_skills.toml`` (families: natural language processing,
    conversational AI, computer vision, AI content creation, AI model development and
    deployment, AI tools and services, data labelling and evaluation).
    """
    rows = [(f, d["label"], s) for f, d in _skills_raw().items() for s in d["skills"]]
    return pd.DataFrame(rows, columns=["family", "family_label", "skill"])


def skill_families(posts: pd.DataFrame, column: str = "skills", sep: str = ";") -> pd.DataFrame:
    """Map the raw skills of each post to gen-AI skill families.

    Parameters
    ----------
    posts : pandas.DataFrame
        Job posts with a ``column`` of ``sep``-separated skills and, ideally, ``post_id``.
    column : str, default "skills"
        Column holding the skills.
    sep : str, default ";"
        Separator between skills (surrounding spaces are stripped).

    Returns
    -------
    pandas.DataFrame
        One row per (post, matched raw skill): ``row`` (position of the post in ``posts``),
        ``post_id`` (if ``posts`` has it), ``skill`` (as written), ``family``,
        ``family_label``. Skills that are in no family are not listed (they are not gen-AI
        skills); a post with two skills of one family gives two rows.

    Raises
    ------
    DataValidationError
        If ``column`` is missing.

    Notes
    -----
    Matching is on whole skills, case-insensitive, after stripping spaces ("sentiment
    analysis" and "Sentiment Analysis" -> natural language processing).
    """
    if column not in posts.columns:
        raise DataValidationError(f"posts: skills column {column!r} is missing; got columns "
                                  f"{list(posts.columns)[:12]}.")
    d = skill_dictionary()
    lookup = {s.casefold(): (f, lab) for f, lab, s in d.itertuples(index=False)}
    rows, skills, fams, labs = [], [], [], []
    vals = posts[column].astype(object).where(posts[column].notna(), "").tolist()
    for i, v in enumerate(vals):
        for s in str(v).split(sep):
            s = s.strip()
            hit = lookup.get(s.casefold())
            if hit is not None:
                rows.append(i)
                skills.append(s)
                fams.append(hit[0])
                labs.append(hit[1])
    out = pd.DataFrame({"row": np.asarray(rows, dtype=np.int64)})
    if "post_id" in posts.columns:
        out["post_id"] = posts["post_id"].to_numpy()[out["row"].to_numpy()]
    out["skill"] = pd.Series(skills, dtype=object)
    out["family"] = pd.Series(fams, dtype=object)
    out["family_label"] = pd.Series(labs, dtype=object)
    return out
