"""Shared pieces of laborai's result objects.

Every estimator returns a frozen result whose :meth:`tidy` DataFrame is the single source of
truth. The columns always start with :data:`TIDY_COLUMNS`; design columns (``event_time``,
``group``, ``time``, ``category``, ``value_tier``, ``outcome``) follow where they apply, and a
simultaneous band is stored in ``conf_low``/``conf_high`` with the pointwise band beside it in
``point_conf_low``/``point_conf_high``. :class:`ResultMixin` turns ``tidy()`` into the text,
Markdown and LaTeX views so that every estimator family formats results the same way.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from laborai._hashing import frame_hash
from laborai._store import FrozenMapping, deep_freeze

_R = TypeVar("_R", bound="ResultMixin")

__all__ = [
    "TIDY_COLUMNS",
    "Provenance",
    "ResultMixin",
    "make_provenance",
    "wald_table",
]

#: Columns every ``tidy()`` frame starts with, in this order.
TIDY_COLUMNS: tuple[str, ...] = (
    "term",
    "estimate",
    "std_error",
    "statistic",
    "p_value",
    "conf_low",
    "conf_high",
)


def _freeze(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return deep_freeze(dict(mapping))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Provenance:
    """What a result was computed from: settings, seed, package version and input hash.

    Never the clock, so that results (and their reprs) are reproducible byte for byte.
    """

    estimator: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None
    version: str = ""
    input_hash: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.settings, FrozenMapping):
            object.__setattr__(self, "settings", deep_freeze(dict(self.settings)))

    def as_dict(self) -> dict[str, Any]:
        """Return a plain dictionary (settings copied), e.g. for JSON manifests."""
        return {
            "estimator": self.estimator,
            "settings": dict(self.settings),
            "seed": self.seed,
            "version": self.version,
            "input_hash": self.input_hash,
        }


def make_provenance(
    estimator: str,
    data: pd.DataFrame | None,
    settings: Mapping[str, Any],
    seed: int | None = None,
) -> Provenance:
    """Build a :class:`Provenance` for ``estimator`` run on ``data`` with ``settings``.

    Parameters
    ----------
    estimator : str
        Public name of the estimator, e.g. ``"twfe"``.
    data : pandas.DataFrame or None
        The input data; its :func:`laborai._hashing.frame_hash` is recorded.
    settings : mapping
        Every argument that changes the numbers.
    seed : int, optional
        Seed of any random component.

    Returns
    -------
    Provenance
    """
    from laborai import __version__

    return Provenance(
        estimator=estimator,
        settings=_freeze(settings),
        seed=seed,
        version=__version__,
        input_hash=frame_hash(data) if data is not None else "",
    )


def wald_table(
    estimate: Sequence[float] | np.ndarray,
    std_error: Sequence[float] | np.ndarray,
    *,
    alpha: float = 0.05,
    df: float | None = None,
    crit: float | np.ndarray | None = None,
) -> pd.DataFrame:
    """Statistic, two-sided p-value and confidence bounds from estimates and standard errors.

    Parameters
    ----------
    estimate, std_error : array-like
        Point estimates and their standard errors.
    alpha : float, default 0.05
        One minus the confidence level.
    df : float, optional
        Degrees of freedom of a t reference distribution; normal when omitted.
    crit : float or array, optional
        Critical value(s) to use for the bounds instead of the reference quantile (e.g. a sup-t
        critical value for a simultaneous band). P-values always use the reference distribution.

    Returns
    -------
    pandas.DataFrame
        Columns ``estimate, std_error, statistic, p_value, conf_low, conf_high``.
    """
    from scipy import stats  # imported on first use: 0.5 s that ``import laborai.did`` skips

    est = np.asarray(estimate, dtype=float)
    se = np.asarray(std_error, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = est / se
    if df is None or not math.isfinite(df):
        p = 2.0 * stats.norm.sf(np.abs(stat))
        q = stats.norm.ppf(1.0 - alpha / 2.0)
    else:
        p = 2.0 * stats.t.sf(np.abs(stat), df)
        q = stats.t.ppf(1.0 - alpha / 2.0, df)
    c = q if crit is None else np.asarray(crit, dtype=float)
    return pd.DataFrame(
        {
            "estimate": est,
            "std_error": se,
            "statistic": stat,
            "p_value": p,
            "conf_low": est - c * se,
            "conf_high": est + c * se,
        }
    )


def pinv_wald(b: np.ndarray, V: np.ndarray, rtol: float = 1e-10) -> tuple[float, int]:
    """Wald statistic ``b' V^+ b`` on the estimable directions of ``V``, and the rank used.

    Eigenvalues below ``rtol`` times the largest count as zero, so a singular (e.g. few-cluster
    CRV1) covariance is never inverted; callers warn when the rank is below ``len(b)``.
    """
    ev, evec = np.linalg.eigh((V + V.T) / 2.0)
    keep = ev > rtol * max(float(ev.max()), 0.0)
    z = evec[:, keep].T @ b
    return float(np.sum(z**2 / ev[keep])), int(keep.sum())


def hotelling_f(W: float, q: int, n: int) -> dict[str, Any]:
    """Hotelling's small-sample F for a Wald statistic whose covariance comes from ``n`` draws.

    ``F = W (n - q) / (q (n - 1))`` on ``F(q, n - q)`` (``n``: clusters, or control clusters of a
    placebo covariance); needs ``n > q``.
    """
    from scipy import stats

    F = W * (n - q) / (q * (n - 1.0))
    return {"statistic": F, "wald": W, "df1": q, "df2": float(n - q),
            "p_value": float(stats.f.sf(F, q, n - q)), "distribution": "F"}


def _fmt(x: Any, digits: int) -> str:
    if x is None or x is pd.NA or x is pd.NaT:
        return ""
    if isinstance(x, (float, np.floating)):
        if not np.isfinite(x):
            return "" if np.isnan(x) else str(x)
        return f"{x:.{digits}f}"
    return str(x)


def _latex_escape(s: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"),
                 ("#", r"\#"), ("$", r"\$")):
        s = s.replace(a, b)
    return s


class ResultMixin:
    """Text, Markdown and LaTeX views derived from ``tidy()``.

    Subclasses implement :meth:`tidy` and may override :meth:`_header` (a list of
    ``(label, value)`` lines shown above the table in :meth:`summary`).
    """

    _title: str = "Estimation results"

    # ---- read-only all the way down, picklable, saveable
    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            object.__setattr__(self, f.name, deep_freeze(object.__getattribute__(self, f.name)))

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        if isinstance(value, (pd.DataFrame, pd.Series)):
            return value.copy(deep=False)  # copy-on-write: changing it never changes the result
        return value

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        for k, v in state.items():
            object.__setattr__(self, k, deep_freeze(v))

    def save(self, path: str | Path) -> Path:
        """Save the result to ``path`` in laborai's safe archive format (no pickle).

        The format (a ZIP of JSON, ``.npy`` and Parquet members) is described in
        ``laborai._store``; read it back with :meth:`load` or :func:`laborai.did.load`.
        Returns the path written.
        """
        from laborai._store import save

        return save(self, path)

    @classmethod
    def load(cls: type[_R], path: str | Path) -> _R:
        """Load a result of this class saved with :meth:`save` (refuses other classes)."""
        from laborai._store import load

        return load(path, expected=cls)  # type: ignore[no-any-return]

    # ---- accessors derived from tidy()
    def _tidy_index(self) -> pd.DataFrame:
        t = self.tidy()
        keys = [c for c in ("outcome", "term") if c in t.columns]
        if not keys:
            return t
        t = t.set_index(keys[0] if len(keys) == 1 else keys)
        return t

    @property
    def params(self) -> pd.Series:
        """Estimates by term (from ``tidy()``)."""
        t = self._tidy_index()
        return t["estimate"].rename("estimate")

    @property
    def std_errors(self) -> pd.Series:
        """Standard errors by term (from ``tidy()``)."""
        t = self._tidy_index()
        return t["std_error"].rename("std_error")

    def conf_int(self) -> pd.DataFrame:
        """Confidence bounds by term (from ``tidy()``): ``conf_low, conf_high``."""
        t = self._tidy_index()
        return t[["conf_low", "conf_high"]]

    def tidy(self) -> pd.DataFrame:  # pragma: no cover - abstract
        """Return the tidy results table (see module docstring for the columns)."""
        raise NotImplementedError

    def _header(self) -> list[tuple[str, str]]:
        return []

    def _display_frame(self, columns: Sequence[str] | None, digits: int) -> pd.DataFrame:
        t = self.tidy()
        if columns is not None:
            t = t.loc[:, list(columns)]
        return t.apply(lambda col: col.map(lambda v: _fmt(v, digits)))

    def to_markdown(self, digits: int = 4, columns: Sequence[str] | None = None) -> str:
        """Return ``tidy()`` as a GitHub-flavoured Markdown table.

        Parameters
        ----------
        digits : int, default 4
            Decimal places for floats.
        columns : sequence of str, optional
            Columns to show (default: all).
        """
        d = self._display_frame(columns, digits)
        lines = ["| " + " | ".join(map(str, d.columns)) + " |",
                 "|" + "|".join("---" for _ in d.columns) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in d.astype(str).to_numpy().tolist()]
        return "\n".join(lines) + "\n"

    def to_latex(
        self,
        digits: int = 4,
        columns: Sequence[str] | None = None,
        caption: str | None = None,
        label: str | None = None,
    ) -> str:
        """Return ``tidy()`` as a LaTeX ``tabular`` (booktabs rules), optionally in a table float.

        Parameters
        ----------
        digits : int, default 4
            Decimal places for floats.
        columns : sequence of str, optional
            Columns to show (default: all).
        caption, label : str, optional
            When either is given the tabular is wrapped in a ``table`` environment.
        """
        d = self._display_frame(columns, digits)
        spec = "l" + "r" * (d.shape[1] - 1)
        body = [r"\begin{tabular}{" + spec + "}", r"\toprule",
                " & ".join(_latex_escape(str(c)) for c in d.columns) + r" \\", r"\midrule"]
        body += [" & ".join(_latex_escape(v) for v in row) + r" \\"
                 for row in d.astype(str).to_numpy().tolist()]
        body += [r"\bottomrule", r"\end{tabular}"]
        if caption is None and label is None:
            return "\n".join(body) + "\n"
        out = [r"\begin{table}[htbp]", r"\centering"]
        if caption is not None:
            out.append(r"\caption{" + _latex_escape(caption) + "}")
        if label is not None:
            out.append(r"\label{" + label + "}")
        return "\n".join(out + body + [r"\end{table}"]) + "\n"

    def summary(self, digits: int = 4) -> str:
        """Return a plain-text summary: header lines then the tidy table."""
        d = self._display_frame(None, digits)
        widths = [max(len(str(c)), *(len(v) for v in d[c].astype(str))) if len(d) else len(str(c))
                  for c in d.columns]
        head = "  ".join(str(c).rjust(w) for c, w in zip(d.columns, widths, strict=True))
        rows = ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True))
                for r in d.astype(str).to_numpy().tolist()]
        lines = [self._title, "=" * max(len(self._title), len(head))]
        lines += [f"{k}: {v}" for k, v in self._header()]
        lines += ["-" * len(head), head, "-" * len(head), *rows, "-" * len(head)]
        return "\n".join(lines)


def warn_few_clusters(where: str, clusters: np.ndarray | None, treated: np.ndarray | None,
                      cluster: str | None) -> None:
    """Warn that analytic cluster-robust inference is not validated with fewer than 50 clusters.

    ``clusters`` (one entry per unit) and ``treated`` (a 0/1 flag per unit) count the clusters
    and the clusters that hold a treated unit. Used by the estimators whose few-cluster
    inference laborai has not proved (``cont_did``, ``ddd_gt``): on the simulated marketplace
    their category-clustered 95% intervals covered the truth 50-96% of the time
    (``analyses/frontier_designs.py``).
    """
    if cluster is None or clusters is None:
        return
    cl = np.asarray(clusters)
    G = int(pd.unique(cl).size)
    if G >= 50:
        return
    k = int(pd.unique(cl[np.asarray(treated, dtype=bool)]).size) if treated is not None else -1
    import warnings

    from laborai.errors import SmallSampleWarning
    warnings.warn(
        f"{where}: analytic standard errors clustered by {cluster!r} with {G} clusters"
        + (f" ({k} with treated units)" if k >= 0 else "")
        + " are not validated with so few clusters: on the simulated marketplace such "
        "intervals covered the truth only 50-96% of the time (docs/validation.md). Use the "
        "estimates, and for tests an estimator with placebo inference (la.did.twfe, ddd, "
        "event_study, att_gt with one adoption date).", SmallSampleWarning, stacklevel=3)
