"""Goodman-Bacon (2021) decomposition of the two-way fixed effects DiD estimate.

With a balanced panel and a binary, absorbing treatment adopted at different times, the TWFE
coefficient on the treatment dummy is a weighted average of every 2x2 difference-in-differences
that compares one timing group with another over a window in which only one of them changes
treatment status. :func:`bacon` returns those 2x2 estimates and their weights.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from laborai._results import TIDY_COLUMNS, Provenance, ResultMixin, make_provenance
from laborai._timing import TIMINGS, Timing, with_treatment_column
from laborai._validation import (
    check_frame_columns,
    check_option,
    check_time_column,
    check_unique_unit_period,
)
from laborai.errors import DataValidationError, EstimationError, OptionError

__all__ = ["BaconResult", "bacon"]

#: Comparison types, in display order.
BACON_TYPES: tuple[str, ...] = (
    "Treated vs Untreated",
    "Earlier vs Later Treated",
    "Later vs Earlier Treated",
    "Later vs Always Treated",
)

_NEVER = "never_treated"
_ALWAYS = "always_treated"


@dataclass(frozen=True, eq=False, repr=False)
class BaconResult(ResultMixin):
    """Result of :func:`bacon`: every 2x2 comparison, its weight, and the TWFE estimate.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per 2x2 comparison (see :meth:`tidy` for the columns).
    twfe : float
        The TWFE coefficient computed directly by the within transformation.
    n_units, n_periods : int
        Panel dimensions.
    provenance : Provenance
        Settings, package version and input hash.
    """

    table: pd.DataFrame
    twfe: float
    n_units: int
    n_periods: int
    provenance: Provenance

    _title = "Goodman-Bacon decomposition of the TWFE estimate"

    def __repr__(self) -> str:
        return (
            f"BaconResult(twfe={self.twfe:.6f}, comparisons={len(self.table)}, "
            f"n_units={self.n_units}, n_periods={self.n_periods})"
        )

    def tidy(self) -> pd.DataFrame:
        """Return one row per 2x2 comparison.

        Returns
        -------
        pandas.DataFrame
            Columns ``term, estimate, std_error, statistic, p_value, conf_low, conf_high``
            (inference columns are NaN: the decomposition is descriptive), then ``weight``,
            ``type``, ``treated_group`` and ``control_group``. Timing groups are labelled by
            their first treated period; ``"never_treated"`` and ``"always_treated"`` label the
            untreated and always-treated groups.
        """
        return self.table.copy()

    @property
    def weighted_sum(self) -> float:
        """Sum of weight times estimate over all comparisons (equals :attr:`twfe`)."""
        return float((self.table["weight"] * self.table["estimate"]).sum())

    def summary_by_type(self) -> pd.DataFrame:
        """Total weight and weighted average estimate per comparison type.

        Returns
        -------
        pandas.DataFrame
            Columns ``type, weight, estimate, n_comparisons``; one row per type present, in
            the order of ``BACON_TYPES``.
        """
        t = self.table
        rows = []
        for typ in BACON_TYPES:
            sub = t[t["type"] == typ]
            if len(sub) == 0:
                continue
            w = float(sub["weight"].sum())
            est = float((sub["weight"] * sub["estimate"]).sum() / w) if w > 0 else float("nan")
            rows.append({"type": typ, "weight": w, "estimate": est, "n_comparisons": len(sub)})
        return pd.DataFrame(rows, columns=["type", "weight", "estimate", "n_comparisons"])

    def _header(self) -> list[tuple[str, str]]:
        return [
            ("TWFE estimate", f"{self.twfe:.6f}"),
            ("Weighted sum of 2x2 estimates", f"{self.weighted_sum:.6f}"),
            ("Units x periods", f"{self.n_units} x {self.n_periods}"),
        ]

    def plot(self, ax: Any = None) -> Any:
        """Scatter of 2x2 estimates against their weights, coloured by comparison type.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure is created when omitted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        for typ in BACON_TYPES:
            sub = self.table[self.table["type"] == typ]
            if len(sub):
                ax.scatter(sub["weight"], sub["estimate"], label=typ, s=25)
        ax.axhline(self.twfe, color="black", linestyle="--", linewidth=1, label="TWFE")
        ax.set_xlabel("Weight")
        ax.set_ylabel("2x2 DiD estimate")
        ax.legend(frameon=False, fontsize="small")
        return ax


def _validate(data: pd.DataFrame, yname: str, dname: str, idname: str, tname: str) -> None:
    check_frame_columns(data, {"yname": yname, "dname": dname, "idname": idname, "tname": tname},
                        caller="bacon")
    if not pd.api.types.is_numeric_dtype(data[yname]):
        raise DataValidationError(
            f"column {yname!r} (yname) must be numeric; got dtype {data[yname].dtype}."
        )
    check_time_column(data, tname, where="bacon")
    check_unique_unit_period(data, idname, tname)
    d = data[dname]
    if d.dtype == bool:
        d = d.astype(int)
    bad = ~d.isin([0, 1])
    if bad.any():
        raise DataValidationError(
            f"column {dname!r} (dname) must be a binary 0/1 treatment; {int(bad.sum())} rows "
            f"have other values, e.g. {d[bad].unique()[:5].tolist()}. Recode the treatment "
            "to 0/1 (treated from the adoption period on)."
        )


def bacon(
    data: pd.DataFrame,
    *,
    yname: str,
    dname: str | None = None,
    idname: str,
    tname: str,
    event_date: str | None = None,
    timing: Timing = "first_full",
) -> BaconResult:
    """Goodman-Bacon decomposition of the TWFE difference-in-differences estimate.

    Parameters
    ----------
    data : pandas.DataFrame
        Balanced panel in long format, one row per unit and period.
    yname : str
        Outcome column.
    dname : str, optional
        Binary (0/1 or bool) treatment column; the treatment must be absorbing (once 1, always
        1 for that unit). Give this or ``event_date``.
    idname : str
        Unit identifier column.
    tname : str
        Time column (numbers or datetimes; periods are taken in sorted order; pandas
        ``Period`` values are refused).
    event_date : str, optional
        Instead of ``dname``: each unit's event date (NaT / NaN: never treated); the treatment
        is 1 from the unit's first treated period under ``timing``
        (``docs/estimators/timing.md``).
    timing : {"first_full", "containing"}, default "first_full"
        With ``event_date``: treated from the first period starting on or after the date, or
        from the period containing it.

    Returns
    -------
    BaconResult
        ``tidy()`` has one row per 2x2 comparison with its ``estimate``, ``weight``, ``type``,
        ``treated_group`` and ``control_group``; ``summary_by_type()`` aggregates by type;
        ``twfe`` is the TWFE coefficient, equal to the weighted sum of the 2x2 estimates.

    Raises
    ------
    DataValidationError
        Missing columns or values, duplicate unit-period rows, an unbalanced panel, a
        treatment that is not binary or not absorbing.
    EstimationError
        No variation in the treatment after removing unit and period effects (e.g. every unit
        has the same treatment path).

    Notes
    -----
    The TWFE regression ``y_it = a_i + g_t + beta D_it + e_it`` is estimated on a balanced panel
    of N units and T periods. Units are grouped by their first treated period k (timing
    groups), plus the never-treated group U and the always-treated group (treated in the first
    period). With n_k the share of units in group k and Dbar_k the share of periods in which
    group k is treated, Theorem 1 of Goodman-Bacon (2021) writes

    ``beta = sum_k s_kU b_kU + sum_{k<l} (s_kl^k b_kl^k + s_kl^l b_kl^l)``

    where ``b_kU`` compares group k with the never-treated over the whole panel, ``b_kl^k``
    compares the earlier group k with the later group l before l is treated ("Earlier vs Later
    Treated"), and ``b_kl^l`` compares the later group l with the earlier group k after k is
    treated ("Later vs Earlier Treated"; the already-treated group serves as control). The
    weights are

    - ``s_kU = (n_k + n_U)^2 n_kU (1 - n_kU) Dbar_k (1 - Dbar_k) / V``,
    - ``s_kl^k = ((n_k + n_l)(1 - Dbar_l))^2 n_kl (1 - n_kl) (Dbar_k - Dbar_l)/(1 - Dbar_l)
      (1 - Dbar_k)/(1 - Dbar_l) / V``,
    - ``s_kl^l = ((n_k + n_l) Dbar_k)^2 n_kl (1 - n_kl) Dbar_l/Dbar_k (Dbar_k - Dbar_l)/Dbar_k
      / V``,

    with ``n_kU = n_k / (n_k + n_U)``, ``n_kl = n_k / (n_k + n_l)`` and V the variance of the
    two-way demeaned treatment. Always-treated units are the earliest timing group with
    ``Dbar = 1``: they only enter as controls ("Later vs Always Treated"). Weights are
    non-negative and sum to one. The 2x2 estimates are differences of group means, so they
    carry no standard errors (the inference columns of ``tidy()`` are NaN).

    The TWFE coefficient is also computed directly (two-way demeaning, exact for a balanced
    panel) and stored in ``twfe``; it equals ``weighted_sum`` up to rounding.

    On the castle-doctrine data of Cheng and Hoekstra (2013) as shipped by ``causaldata``
    (treatment ``post`` as in The Mixtape, equal to 1 from the first full year under the law),
    the decomposition gives Treated vs Untreated 0.89881 / 0.07844, Earlier vs Later Treated
    0.07708 / -0.02858 and Later vs Earlier Treated 0.02411 / 0.04563 (weight / estimate),
    summing to the TWFE estimate 0.06940. Coding adoption one year earlier, as the R package
    ``bacondecomp`` does, reproduces its published table instead (TWFE 0.0818); the
    decomposition is the same, only the treatment timing differs.

    References
    ----------
    Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing.
    *Journal of Econometrics*, 225(2), 254-277.

    Cheng, C. and Hoekstra, M. (2013). Does strengthening self-defense law deter crime or
    escalate violence? *Journal of Human Resources*, 48(3), 821-854.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from laborai.did.bacon import bacon
    >>> rng = np.random.default_rng(0)
    >>> first = {0: 3, 1: 3, 2: 5, 3: 5, 4: None, 5: None}
    >>> rows = [(i, t, int(g is not None and t >= g)) for i, g in first.items() for t in range(8)]
    >>> df = pd.DataFrame(rows, columns=["id", "t", "d"])
    >>> df["y"] = df["d"] * 2.0 + rng.normal(size=len(df))
    >>> res = bacon(df, yname="y", dname="d", idname="id", tname="t")
    >>> bool(np.isclose(res.twfe, res.weighted_sum))
    True
    """
    check_option("timing", timing, TIMINGS)
    if (dname is None) == (event_date is None):
        raise OptionError(
            "pass exactly one of dname (a 0/1 column) and event_date (a date column); got "
            f"dname={dname!r}, event_date={event_date!r}."
        )
    settings = {"yname": yname, "dname": dname, "idname": idname, "tname": tname,
                "event_date": event_date, "timing": timing}
    original = data
    if event_date is not None:
        check_time_column(data, tname, where="bacon")
        data, dname = with_treatment_column(data, idname=idname, tname=tname,
                                            event_date=event_date, timing=timing, where="bacon")
    dname = str(dname)
    _validate(data, yname, dname, idname, tname)

    times = np.sort(data[tname].unique())
    units = pd.unique(data[idname])
    n_units, n_periods = len(units), len(times)
    if len(data) != n_units * n_periods:
        counts = data.groupby(idname, sort=True).size()
        short = counts[counts < n_periods]
        raise DataValidationError(
            f"the panel must be balanced ({n_units} units x {n_periods} periods = "
            f"{n_units * n_periods} rows); got {len(data)} rows. {len(short)} units miss "
            f"periods, e.g. {short.index[:5].tolist()}. Keep a balanced sub-panel before "
            "calling bacon()."
        )
    wide_y = data.pivot(index=idname, columns=tname, values=yname).reindex(columns=times)
    wide_d = (
        data.pivot(index=idname, columns=tname, values=dname).reindex(columns=times).astype(float)
    )
    Y = wide_y.to_numpy(dtype=float)
    D = wide_d.to_numpy(dtype=float)

    nonabs = np.asarray((np.diff(D, axis=1) < 0).any(axis=1), dtype=bool)
    if nonabs.any():
        ex = wide_d.index[nonabs][:5].tolist()
        raise DataValidationError(
            f"treatment {dname!r} must be absorbing (never switch from 1 back to 0 within a "
            f"unit); {int(nonabs.sum())} units switch off, e.g. {idname}={ex}. The "
            "decomposition needs staggered adoption; recode or drop these units explicitly."
        )

    # start index of treatment: 0 = always treated, n_periods = never treated
    start = (n_periods - D.sum(axis=1)).astype(int)

    # direct TWFE: two-way demeaning (exact in a balanced panel)
    def _demean(m: np.ndarray) -> np.ndarray:
        return m - m.mean(axis=1, keepdims=True) - m.mean(axis=0, keepdims=True) + m.mean()

    Dt = _demean(D)
    var_d = float((Dt**2).mean())
    if var_d <= 1e-14:
        raise EstimationError(
            "the treatment has no variation after removing unit and period effects (every "
            "unit has the same treatment path, or all units are never/always treated); the "
            "TWFE estimate and its decomposition are not defined. Use data with at least two "
            "different treatment timings."
        )
    twfe = float((_demean(Y) * Dt).mean() / var_d)

    groups = np.unique(start)
    share = {int(g): float(np.mean(start == g)) for g in groups}
    ybar = {int(g): Y[start == g].mean(axis=0) for g in groups}
    dbar = {int(g): (n_periods - int(g)) / n_periods for g in groups}

    def label(g: int) -> Hashable:
        if g == n_periods:
            return _NEVER
        if g == 0:
            return _ALWAYS
        t = times[g]
        return t.item() if isinstance(t, np.generic) else t

    def did2x2(tr: int, co: int, lo: int, hi: int, s: int) -> float:
        a, b = ybar[tr], ybar[co]
        return float(
            (a[s:hi].mean() - a[lo:s].mean()) - (b[s:hi].mean() - b[lo:s].mean())
        )

    timing_groups = [int(g) for g in groups if 0 < g < n_periods]
    rows: list[dict[str, Any]] = []

    def add(typ: str, tr: int, co: int, w: float, est: float) -> None:
        rows.append(
            {
                "term": f"{label(tr)} vs {label(co)}",
                "estimate": est,
                "weight": w,
                "type": typ,
                "treated_group": label(tr),
                "control_group": label(co),
            }
        )

    if n_periods in share:
        u = n_periods
        for k in timing_groups:
            nk, nu = share[k], share[u]
            nku = nk / (nk + nu)
            w = (nk + nu) ** 2 * nku * (1 - nku) * dbar[k] * (1 - dbar[k]) / var_d
            add("Treated vs Untreated", k, u, w, did2x2(k, u, 0, n_periods, k))
    if 0 in share:
        a = 0
        for l_ in timing_groups:
            na, nl = share[a], share[l_]
            nal = na / (na + nl)
            w = (na + nl) ** 2 * nal * (1 - nal) * dbar[l_] * (1 - dbar[l_]) / var_d
            add("Later vs Always Treated", l_, a, w, did2x2(l_, a, 0, n_periods, l_))
    for i, k in enumerate(timing_groups):
        for l_ in timing_groups[i + 1 :]:
            nk, nl = share[k], share[l_]
            nkl = nk / (nk + nl)
            dk, dl = dbar[k], dbar[l_]
            w_early = (
                ((nk + nl) * (1 - dl)) ** 2 * nkl * (1 - nkl)
                * ((dk - dl) / (1 - dl)) * ((1 - dk) / (1 - dl)) / var_d
            )
            w_late = (
                ((nk + nl) * dk) ** 2 * nkl * (1 - nkl) * (dl / dk) * ((dk - dl) / dk) / var_d
            )
            add("Earlier vs Later Treated", k, l_, w_early, did2x2(k, l_, 0, l_, k))
            add("Later vs Earlier Treated", l_, k, w_late, did2x2(l_, k, k, n_periods, l_))

    table = pd.DataFrame(rows, columns=["term", "estimate", "weight", "type",
                                        "treated_group", "control_group"])
    nan = np.full(len(table), np.nan)
    for col in TIDY_COLUMNS[2:]:
        table[col] = nan
    table = table[[*TIDY_COLUMNS, "weight", "type", "treated_group", "control_group"]]
    order = {t: i for i, t in enumerate(BACON_TYPES)}
    table = (
        table.assign(_o=table["type"].map(order))
        .sort_values(["_o"], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )
    return BaconResult(
        table=table,
        twfe=twfe,
        n_units=n_units,
        n_periods=n_periods,
        provenance=make_provenance("bacon", original, settings),
    )
