"""The formula form of the regression estimators and several outcomes per call (issue 14).

:func:`formula_interface` decorates :func:`~laborai.did.twfe`, :func:`~laborai.did.event_study`,
:func:`~laborai.did.ddd` and :func:`~laborai.estimate_effects`: it adds the keyword
``formula=`` (pyfixest's grammar ``"y ~ d + x | unit + period + tier^period"``, mapped onto
laborai's vocabulary) and lets ``twfe``, ``event_study`` and ``ddd`` take several outcomes at
once (``yname=["y1", "y2"]`` or ``"y1 + y2 ~ ..."``), returning a :class:`ResultSet`.

The grammar is a strict subset of pyfixest's (read by a small parser of laborai's own:
pyfixest's parser is not public API and changes between releases)::

    formula  := outcomes "~" rhs "|" fixed_effects
    outcomes := name ("+" name)*
    rhs      := "1" ("+" term)* | term ("+" term)*
    term     := name (":" name)*          (":" only for ddd's dname:pname)
    fixed_effects := fe ("+" fe)*         (at least unit and period)
    fe       := name (("^" | ":") name)*  (an interacted fixed effect, e.g. tier^period)
    name     := [A-Za-z_][A-Za-z0-9_]*    (a column of the data)

Anything else -- functions (``i()``, ``C()``, ``sw()``, ``csw()``, ``log(y)``), IV parts
(``| x ~ z`` or ``[x ~ z]``), varying slopes, ``*``, ``-``, ``0``, numbers -- is refused with
an :class:`~laborai.errors.OptionError` naming the problem and the accepted grammar.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from laborai._results import TIDY_COLUMNS, Provenance, ResultMixin, make_provenance
from laborai._store import FrozenMapping
from laborai.errors import DataValidationError, OptionError

__all__ = ["GRAMMAR", "ParsedFormula", "ResultSet", "formula_interface", "parse_formula"]

Kind = Literal["twfe", "event_study", "ddd", "estimate_effects"]
_KINDS = ("twfe", "event_study", "ddd", "estimate_effects")

#: The accepted grammar, quoted by every formula error.
GRAMMAR = (
    "accepted grammar: 'y [+ y2 ...] ~ rhs | unit + period [+ fe ...]' where every name is a "
    "column; rhs is 'd [+ control ...]' (twfe, event_study), '1 [+ control ...]' for no "
    "treatment column (event_study) or for estimate_effects, 'dname:pname [+ control ...]' "
    "(ddd); a fixed effect may be interacted, 'a^b' (or 'a:b'). Not supported: functions "
    "(i(), C(), sw(), csw(), log(y), ...), IV parts ('| x ~ z', '[x ~ z]'), varying slopes, "
    "'*', '-', '0' and other numbers."
)

_TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<num>\d+(?:\.\d*)?)"
                    r"|(?P<op>[~|+:^])|(?P<other>\S))")


def _bad(formula: str, problem: str) -> OptionError:
    return OptionError(f"formula {formula!r}: {problem}. {GRAMMAR}")


@dataclass(frozen=True)
class ParsedFormula:
    """A parsed formula: outcomes, right-hand-side terms and fixed effects.

    Attributes
    ----------
    outcomes : tuple of str
        Left-hand-side columns, in order.
    intercept_only : bool
        The right-hand side starts with ``1`` (no treatment column).
    terms : tuple of tuple of str
        Right-hand-side terms after the optional ``1``; a term is one column or an
        interaction ``a:b`` (a tuple of several columns).
    fixed_effects : tuple of tuple of str
        Fixed effects in order; an interacted one (``a^b``) is a tuple of several columns.
    text : str
        The formula as given.
    """

    outcomes: tuple[str, ...]
    intercept_only: bool
    terms: tuple[tuple[str, ...], ...]
    fixed_effects: tuple[tuple[str, ...], ...]
    text: str

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the formula names, in order of first appearance."""
        cols = [*self.outcomes, *(c for t in self.terms for c in t),
                *(c for f in self.fixed_effects for c in f)]
        return tuple(dict.fromkeys(cols))


def _tokens(formula: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = formula.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:  # pragma: no cover - the pattern matches any non-blank character
            raise _bad(formula, f"cannot read from position {pos}")
        kind = m.lastgroup or "other"
        val = m.group(kind)
        if kind == "name" and text[m.end():].lstrip().startswith("("):
            raise _bad(formula, f"function calls such as {val}() are not supported (use a "
                       "column built beforehand, or the explicit keywords)")
        if kind == "other":
            what = {"(": "parentheses", ")": "parentheses", "[": "IV or varying-slope brackets",
                    "]": "IV or varying-slope brackets", "*": "the '*' operator (write the "
                    "terms out with '+')", "-": "the '-' operator (terms cannot be removed)",
                    "/": "the '/' operator", "`": "back-quoted names (rename the column)"}
            default = f"character {val!r} (names are letters, digits and '_')"
            raise _bad(formula, f"unsupported {what.get(val, default)} at position "
                       f"{m.start(kind)}")
        out.append((kind, val))
        pos = m.end()
    return out


def _sum_of_products(formula: str, toks: list[tuple[str, str]], part: str,
                     joiners: str) -> list[tuple[str, ...]]:
    """Parse ``a (+ b:c ...)`` where a product joins names with one of ``joiners``."""
    if not toks:
        raise _bad(formula, f"the {part} is empty")
    terms: list[tuple[str, ...]] = []
    cur: list[str] = []
    expect_name = True
    for kind, val in toks:
        if expect_name:
            if kind == "num":
                if val == "1" and part == "right-hand side" and not terms and not cur:
                    terms.append(("1",))
                    expect_name = False
                    continue
                raise _bad(formula, f"the number {val} in the {part} is not supported"
                           + (" ('1' may only open the right-hand side)" if val == "1" else ""))
            if kind != "name":
                raise _bad(formula, f"expected a column name in the {part}, found {val!r}")
            cur.append(val)
            expect_name = False
        else:
            if val == "+":
                if cur:
                    terms.append(tuple(cur))
                cur = []
            elif val in joiners and cur:
                pass
            else:
                raise _bad(formula, f"unexpected {val!r} in the {part}")
            expect_name = True
    if expect_name:
        raise _bad(formula, f"the {part} ends with an operator")
    if cur:
        terms.append(tuple(cur))
    for t in terms:
        if len(set(t)) != len(t):
            raise _bad(formula, f"the {part} interacts {t[0]!r} with itself")
    keys = [frozenset(t) for t in terms]
    if len(set(keys)) != len(keys):
        sep = "^" if "^" in joiners else ":"
        dup = next(sep.join(t) for t, k in zip(terms, keys, strict=True) if keys.count(k) > 1)
        raise _bad(formula, f"the {part} repeats {dup!r}")
    return terms


def parse_formula(formula: str) -> ParsedFormula:
    """Parse a formula of the accepted grammar (see :data:`GRAMMAR`).

    Parameters
    ----------
    formula : str
        E.g. ``"y1 + y2 ~ d + x | unit + period + tier^period"``.

    Returns
    -------
    ParsedFormula

    Raises
    ------
    OptionError
        Anything outside the grammar, naming the problem.

    Examples
    --------
    >>> from laborai.did._formula import parse_formula
    >>> f = parse_formula("y ~ d + x | unit + period + tier^period")
    >>> f.outcomes, f.terms, f.fixed_effects
    (('y',), (('d',), ('x',)), (('unit',), ('period',), ('tier', 'period')))
    """
    if not isinstance(formula, str):
        raise OptionError(f"formula must be a string; got {type(formula).__name__}. {GRAMMAR}")
    toks = _tokens(formula)
    n_tilde = sum(1 for k, v in toks if v == "~")
    if n_tilde != 1:
        raise _bad(formula, "it must contain exactly one '~' (a second one is an IV part, "
                   "which is not supported)" if n_tilde else "it has no '~'")
    bars = [i for i, (_, v) in enumerate(toks) if v == "|"]
    tilde = next(i for i, (_, v) in enumerate(toks) if v == "~")
    if len(bars) > 1:
        raise _bad(formula, "it has more than one '|' (a third part, e.g. an IV "
                   "'| x ~ z', is not supported)")
    if not bars:
        raise _bad(formula, "the fixed-effects part '| unit + period' is missing")
    if bars[0] < tilde:
        raise _bad(formula, "the '|' comes before the '~'")
    lhs = _sum_of_products(formula, toks[:tilde], "left-hand side", "")
    rhs = _sum_of_products(formula, toks[tilde + 1:bars[0]], "right-hand side", ":")
    fes = _sum_of_products(formula, toks[bars[0] + 1:], "fixed-effects part", "^:")
    intercept_only = bool(rhs) and rhs[0] == ("1",)
    return ParsedFormula(outcomes=tuple(t[0] for t in lhs), intercept_only=intercept_only,
                         terms=tuple(rhs[1:] if intercept_only else rhs),
                         fixed_effects=tuple(fes), text=formula)


# --------------------------------------------------------------------------------------------
# several outcomes: ResultSet
# --------------------------------------------------------------------------------------------


def _common(values: Sequence[Any]) -> Any:
    """The common value of ``values`` (``None`` when they differ)."""
    first = values[0]
    for v in values[1:]:
        try:
            same = bool(v == first)
        except (TypeError, ValueError):
            same = False
        if not same:
            return None
    return first


@dataclass(frozen=True, eq=False, repr=False)
class ResultSet(ResultMixin, Mapping[str, Any]):
    """Frozen results of one estimator for several outcomes: a read-only mapping outcome ->
    result, returned by ``twfe``, ``event_study`` and ``ddd`` when given several outcomes.

    Attributes
    ----------
    results : mapping
        Outcome -> that outcome's result (a ``TWFEResult`` or ``EventStudyResult``), in the
        order given; each is equal to the single-outcome call.
    estimator : str
        ``'twfe'``, ``'event_study'`` or ``'ddd'``.
    provenance : Provenance
        ``settings`` holds ``yname`` (the list of outcomes), ``formula`` (or None) and every
        setting the outcomes share; ``input_hash`` is the data's.

    Notes
    -----
    :meth:`tidy` stacks the outcomes' tables with an ``outcome`` column after the standard
    columns, so ``params`` and ``std_errors`` are indexed by ``(outcome, term)``;
    ``la.did.etable(result_set)`` shows one column per outcome. ``nobs`` is a mapping
    outcome -> observations (each outcome uses its own complete rows); ``vcov_type``,
    ``family``, ``n_clusters`` and ``alpha`` are the outcomes' common value (None if they
    differ).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import laborai as la
    >>> from laborai.did._formula import formula_interface
    >>> twfe = formula_interface("twfe")(la.did.twfe)
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"unit": np.repeat(np.arange(20), 8), "t": np.tile(np.arange(8), 20)})
    >>> df["d"] = ((df["unit"] < 10) & (df["t"] >= 4)).astype(int)
    >>> df["y1"], df["y2"] = rng.normal(size=(2, len(df)))
    >>> rs = twfe(df, formula="y1 + y2 ~ d | unit + t", vcov="cluster")
    >>> list(rs), rs.tidy()["outcome"].tolist()
    (['y1', 'y2'], ['y1', 'y2'])
    """

    results: Mapping[str, Any]
    estimator: str
    provenance: Provenance
    _title = "Several outcomes"

    # ---- mapping
    def __getitem__(self, key: str) -> Any:
        try:
            return self.results[key]
        except KeyError:
            raise KeyError(f"{key!r} is not an outcome of this ResultSet; outcomes: "
                           f"{list(self.results)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    # ---- views
    def tidy(self) -> pd.DataFrame:
        """The outcomes' ``tidy()`` tables stacked, with an ``outcome`` column.

        Columns ``term, estimate, std_error, statistic, p_value, conf_low, conf_high``, then
        ``outcome``, then the design columns of the estimator (e.g. ``event_time``,
        ``point_conf_low``, ``point_conf_high`` for an event study; ``effect`` for ``ddd``).
        """
        frames = []
        for name, res in self.results.items():
            t = res.tidy()
            if "outcome" in t.columns:
                t = t.drop(columns="outcome")
            rest = [c for c in t.columns if c not in TIDY_COLUMNS]
            t = t[[*TIDY_COLUMNS, *rest]]
            t.insert(len(TIDY_COLUMNS), "outcome", name)
            frames.append(t)
        return pd.concat(frames, ignore_index=True)

    def _members(self, attr: str) -> list[Any]:
        return [getattr(r, attr, None) for r in self.results.values()]

    @property
    def nobs(self) -> Mapping[str, int]:
        """Observations used, per outcome."""
        return FrozenMapping({k: getattr(r, "nobs", None) for k, r in self.results.items()})

    @property
    def n_dropped(self) -> Mapping[str, int]:
        """Rows not used, per outcome."""
        return FrozenMapping({k: getattr(r, "n_dropped", None) for k, r in self.results.items()})

    @property
    def vcov_type(self) -> str | None:
        """The outcomes' common inference (None if they differ)."""
        return _common(self._members("vcov_type"))  # type: ignore[no-any-return]

    @property
    def family(self) -> str | None:
        """The outcomes' common family (None if they differ)."""
        return _common(self._members("family"))  # type: ignore[no-any-return]

    @property
    def n_clusters(self) -> Any:
        """The outcomes' common number of clusters (None if they differ)."""
        return _common(self._members("n_clusters"))

    @property
    def alpha(self) -> float | None:
        """The outcomes' common level (None if they differ)."""
        return _common(self._members("alpha"))  # type: ignore[no-any-return]

    def with_vcov(self, vcov: Any, **kwargs: Any) -> ResultSet:
        """Return a NEW ResultSet with each outcome's ``with_vcov(vcov, **kwargs)``."""
        res = {k: r.with_vcov(vcov, **kwargs) for k, r in self.results.items()}
        settings = dict(self.provenance.settings)
        return _result_set(self.estimator, res, data_hash=self.provenance.input_hash,
                           formula=settings.get("formula"))

    def _header(self) -> list[tuple[str, str]]:
        lines = [("Estimator", self.estimator), ("Outcomes", ", ".join(self.results))]
        f = self.provenance.settings.get("formula")
        if f:
            lines.append(("Formula", str(f)))
        nobs = ", ".join(f"{k}: {v}" for k, v in self.nobs.items())
        lines.append(("Observations", nobs))
        if self.vcov_type is not None:
            lines.append(("Inference", str(self.vcov_type)))
        return lines

    def __repr__(self) -> str:
        return (f"ResultSet({self.estimator}, outcomes={list(self.results)}, "
                f"vcov={self.vcov_type!r})")


def _result_set(estimator: str, results: Mapping[str, Any], *, data_hash: str,
                formula: str | None) -> ResultSet:
    sets = [dict(r.provenance.settings) for r in results.values()]
    keys = [k for k in sets[0] if all(k in s for s in sets) and k != "yname"]
    settings: dict[str, Any] = {"yname": list(results), "formula": formula}
    for k in keys:
        v = _common([s[k] for s in sets])
        if v is not None or all(s[k] is None for s in sets):
            settings[k] = v
    seed = _common([r.provenance.seed for r in results.values()])
    prov = make_provenance(estimator, None, settings, seed)
    prov = dataclasses.replace(prov, input_hash=data_hash)
    return ResultSet(results=dict(results), estimator=estimator, provenance=prov)


# --------------------------------------------------------------------------------------------
# the decorator
# --------------------------------------------------------------------------------------------


def _roles(kind: str) -> dict[str, str]:
    """The keywords a formula sets for ``kind`` (role -> keyword)."""
    roles = {"idname": "idname", "tname": "tname", "fe": "fe"}
    if kind == "estimate_effects":
        roles["outcomes"] = "outcomes"
        return roles
    roles.update(yname="yname", dname="dname", controls="controls")
    if kind == "ddd":
        roles["pname"] = "pname"
    return roles


def _fe_key(data: pd.DataFrame, cols: tuple[str, ...]) -> pd.Series:
    """One code per combination of ``cols`` (missing if any part is missing)."""
    code = np.zeros(len(data), dtype=np.int64)
    miss = np.zeros(len(data), dtype=bool)
    for c in cols:
        k, uniq = pd.factorize(data[c], sort=True)
        miss |= k < 0
        # re-coded after each column, so the codes stay below len(data) (no overflow)
        code = pd.factorize(code * max(len(uniq), 1) + np.maximum(k, 0), sort=True)[0]
    out = pd.Series(code, index=data.index, name="^".join(cols))
    if miss.any():
        out = out.astype(float).where(~miss)
    return out


def _map_formula(kind: str, roles: Mapping[str, str], f: ParsedFormula,
                 data: Any) -> tuple[Any, dict[str, Any]]:
    """Keyword arguments of the explicit call equal to formula ``f`` (and the data to use)."""
    txt = f.text
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(f"{kind}: data must be a pandas DataFrame; got "
                                  f"{type(data).__name__}.")
    missing = [c for c in f.columns if c not in data.columns]
    if missing:
        raise _bad(txt, f"column(s) {missing} not found in data (available: "
                   f"{list(data.columns)[:25]})")
    if len(f.fixed_effects) < 2:
        raise _bad(txt, f"{kind} needs the unit and the period as the first two fixed "
                   f"effects ('| unit + period [+ ...]'); got {len(f.fixed_effects)}")
    if len(f.fixed_effects[1]) > 1:
        raise _bad(txt, "the period (second fixed effect) must be one column, not the "
                   f"interaction {'^'.join(f.fixed_effects[1])!r}: its order defines timing")
    kw: dict[str, Any] = {}
    # fixed effects: an interaction becomes a combined key column on a copy of the data
    fe_names: list[str] = []
    extra: dict[str, pd.Series] = {}
    for fe in f.fixed_effects:
        name = "^".join(fe)
        if len(fe) > 1:
            if name in data.columns:
                raise _bad(txt, f"the data already have a column {name!r}; the interacted "
                           "fixed effect would replace it (rename that column)")
            extra[name] = _fe_key(data, fe)
        fe_names.append(name)
    if len(set(fe_names)) != len(fe_names):
        raise _bad(txt, "the fixed-effects part repeats a fixed effect")
    if extra:
        data = data.assign(**extra)
    kw[roles["idname"]], kw[roles["tname"]] = fe_names[0], fe_names[1]
    if fe_names[2:]:
        kw[roles["fe"]] = fe_names[2:]
    ys = list(f.outcomes)
    both = [y for y in ys if any(y in t for t in (*f.terms, *f.fixed_effects))]
    if both:
        raise _bad(txt, f"outcome(s) {both} also appear on the right-hand side")
    if kind == "estimate_effects":
        if f.terms or not f.intercept_only:
            raise _bad(txt, "estimate_effects builds its treatment indicators from "
                       "event_date and by; its right-hand side must be '1'")
        kw[roles["outcomes"]] = ys
        return data, kw
    kw[roles["yname"]] = ys[0] if len(ys) == 1 else ys
    terms = list(f.terms)
    if kind == "event_study":
        first: tuple[str, ...] | None = None if f.intercept_only else terms.pop(0)
        if first is not None:
            kw[roles["dname"]] = first[0]
    elif f.intercept_only:
        raise _bad(txt, f"{kind} needs a treatment on the right-hand side, not '1'")
    else:
        first = terms.pop(0)
    if kind == "ddd":
        if first is None or len(first) != 2:
            raise _bad(txt, "ddd's right-hand side starts with 'dname:pname', the treated "
                       "partition (e.g. exposed categories) interacted with the eligible one "
                       "(e.g. the high-value tier); post= is given as a keyword")
        kw[roles["dname"]], kw[roles["pname"]] = first
    elif kind == "twfe":
        if first is None or len(first) != 1:
            raise _bad(txt, f"twfe's treatment must be one column, not the interaction "
                       f"{':'.join(first or ())!r} (build the product column first)")
        kw[roles["dname"]] = first[0]
    elif first is not None and len(first) != 1:
        raise _bad(txt, f"event_study's treatment must be one column, not the interaction "
                   f"{':'.join(first)!r}")
    for t in terms:
        if len(t) != 1:
            raise _bad(txt, f"controls must be columns, not the interaction {':'.join(t)!r}")
    if terms:
        kw[roles["controls"]] = [t[0] for t in terms]
    return data, kw


def _with_formula(res: Any, formula: str) -> Any:
    """``res`` with ``formula`` recorded in ``provenance.settings``."""
    prov = getattr(res, "provenance", None)
    if not isinstance(prov, Provenance) or not dataclasses.is_dataclass(res):
        return res
    settings = {**dict(prov.settings), "formula": formula}
    new_prov = dataclasses.replace(prov, settings=settings)
    return dataclasses.replace(res, provenance=new_prov)  # type: ignore[type-var]


_EXAMPLE = {
    "twfe": "y ~ d + x | unit + period + tier^period",
    "event_study": "y ~ d | unit + period + tier^period",
    "ddd": "y ~ exposed:high | unit + period",
    "estimate_effects": "log_n_posts + log_earnings_per_contract ~ 1 | unit + period + tier^period",
}
_MAPPING = {
    "twfe": "the outcome(s) before ``~`` are ``yname``, the first right-hand-side term "
            "``dname`` and further terms ``controls``;",
    "event_study": "the outcome(s) before ``~`` are ``yname``, the first right-hand-side term "
                   "``dname`` (``1`` for none) and further terms ``controls``;",
    "ddd": "the outcome(s) before ``~`` are ``yname``, the first right-hand-side term "
           "``dname:pname`` (the treated and the eligible partition; ``post`` stays a "
           "keyword) and further terms ``controls``;",
    "estimate_effects": "the outcomes before ``~`` are ``outcomes`` and the right-hand side "
                        "is ``1`` (the treatment comes from ``event_date`` and ``by``);",
}
_SEVERAL = ("Several outcomes (``y1 + y2 ~ ...``, or ``yname=[...]``) return a "
            ":class:`laborai.did.ResultSet`, one result per outcome.")


def _doc_with_formula(doc: str | None, kind: str) -> str:
    import textwrap

    text = (f"pyfixest's formula form instead of the column keywords, e.g. "
            f"``\"{_EXAMPLE[kind]}\"``: {_MAPPING[kind]} the first fixed effect is "
            "``idname``, the second ``tname``, further ones ``fe``; ``a^b`` is an interacted "
            "fixed effect (a combined key column named ``a^b`` added to a copy of the data). "
            + ("" if kind == "estimate_effects" else _SEVERAL + " ")
            + "Mutually exclusive with the keywords it sets; the grammar is in "
            "``docs/estimators/formula.md``. Recorded in ``provenance.settings['formula']``.")
    entry = "    formula : str, optional\n" + textwrap.fill(
        text, width=96, initial_indent=" " * 8, subsequent_indent=" " * 8,
        break_on_hyphens=False, break_long_words=False) + "\n"
    doc = doc or ""
    marker = "\n    Returns\n    -------"
    if marker in doc:
        i = doc.index(marker)
        return doc[:i].rstrip("\n") + "\n" + entry + doc[i:]
    return doc.rstrip() + "\n\n    Parameters\n    ----------\n" + entry


def formula_interface(kind: Kind) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator adding ``formula=`` (and several outcomes) to a regression estimator.

    Parameters
    ----------
    kind : {'twfe', 'event_study', 'ddd', 'estimate_effects'}
        Which estimator is decorated; fixes how the formula maps onto its keywords.

    Returns
    -------
    callable
        The decorator. The decorated function has the keyword-only parameter ``formula``
        (in ``__signature__`` and its docstring); ``twfe``, ``event_study`` and ``ddd`` given
        several outcomes return a :class:`ResultSet`.

    Raises
    ------
    OptionError
        For an unknown ``kind``; the decorated function raises it for a formula outside the
        grammar, a formula naming missing columns, or a formula given together with the
        keywords it sets.

    Examples
    --------
    >>> import laborai as la
    >>> from laborai.did._formula import formula_interface
    >>> twfe = formula_interface("twfe")(la.did.twfe)
    >>> "formula" in __import__("inspect").signature(twfe).parameters
    True
    """
    if kind not in _KINDS:
        raise OptionError(f"kind must be one of {', '.join(map(repr, _KINDS))}; got {kind!r}.")

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        if getattr(fn, "_formula_kind", None) == kind:
            return fn
        sig = inspect.signature(fn)
        params = sig.parameters
        first = next(iter(params))
        roles = _roles(kind)
        missing = [k for k in roles.values() if k not in params]
        if missing:
            raise OptionError(f"formula_interface({kind!r}): {fn.__name__} has no parameter(s) "
                              f"{missing}; decorate the {kind} function.")

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            formula = kwargs.pop("formula", None)
            if args:
                data, rest = args[0], args[1:]
            else:
                data, rest = kwargs.pop(first, None), ()
            if formula is not None:
                given = [k for k in roles.values() if k in kwargs]
                if given:
                    raise OptionError(
                        f"{kind}: formula= and {', '.join(f'{k}=' for k in given)} are both "
                        f"given; pass either the formula or the keywords, not both. {GRAMMAR}")
                data, mapped = _map_formula(kind, roles, parse_formula(formula), data)
                kwargs.update(mapped)
            y = kwargs.get("yname")
            if kind != "estimate_effects" and y is not None and not isinstance(y, str):
                ys = list(y) if isinstance(y, Sequence) else None
                if not ys or not all(isinstance(v, str) for v in ys) or len(set(ys)) != len(ys):
                    raise OptionError(f"{kind}: yname must be a column name or a list of "
                                      f"distinct column names; got {y!r}.")
                if len(ys) > 1:
                    out = {}
                    for v in ys:
                        res = fn(data, *rest, **{**kwargs, "yname": v})
                        out[v] = _with_formula(res, formula) if formula is not None else res
                    # every outcome hashed the same frame: no second pass over the data
                    first_res = next(iter(out.values()))
                    return _result_set(kind, out, formula=formula,
                                       data_hash=first_res.provenance.input_hash)
                kwargs["yname"] = ys[0]
            res = fn(data, *rest, **kwargs)
            return _with_formula(res, formula) if formula is not None else res

        new = [*params.values()]
        formula_param = inspect.Parameter("formula", inspect.Parameter.KEYWORD_ONLY,
                                          default=None, annotation="str | None")
        new.insert(1, formula_param)
        wrapper.__signature__ = sig.replace(parameters=new)  # type: ignore[attr-defined]
        wrapper.__doc__ = _doc_with_formula(fn.__doc__, kind)
        wrapper._formula_kind = kind  # type: ignore[attr-defined]
        return wrapper

    return decorate
