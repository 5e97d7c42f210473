"""Real-data analysis: Indeed job postings by occupational sector x LLM exposure, around ChatGPT.

The functions here turn the pinned public series of :mod:`laborai.datasets` into the panel and
the difference-in-differences (DiD) estimates of the real-data analysis (issue #6):

* :func:`sector_month_panel` -- a country x sector x month panel of Indeed's job-postings index
  (log of the monthly mean), joined to the sector's LLM exposure dose (GPTs-are-GPTs), exposure
  terciles and a post-ChatGPT indicator; nothing is dropped without being listed in
  :attr:`SectorPanel.excluded`;
* :func:`exposure_did` -- ``dose x post`` (or high- vs low-tercile ``x post``) with sector and
  month fixed effects; with several countries, country-sector and country-month fixed effects;
  CRV1 standard errors clustered by sector and wild cluster restricted bootstrap p-values;
  robustness options that drop sectors (:func:`tech_sectors`) or remove sector-specific linear
  pre-trends;
* :func:`exposure_event_study` -- leads and lags of the dose in event months or event quarters,
  joint pre-trend test and sup-t bands, and :func:`honest_sensitivity` (HonestDiD) on it;
* :func:`specification_table` -- every specification above in one tidy table;
* :func:`genai_share_by_month` -- Indeed's generative-AI posting share by country and month.

Data: Indeed Hiring Lab (CC BY 4.0); exposure: Eloundou, Manning, Mishkin & Rock (2024).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from laborai._results import TIDY_COLUMNS, Provenance, ResultMixin, make_provenance
from laborai._validation import check_option
from laborai.datasets import (
    SECTOR_COUNTRIES,
    indeed_ai_share,
    indeed_onet_crosswalk,
    indeed_sector_postings,
    sector_exposure,
)
from laborai.datasets.exposure import MEASURES
from laborai.did.honest import HonestResult, honest
from laborai.did.inference import WildBootstrapResult, wild_cluster_bootstrap
from laborai.did.twfe import EventStudyResult, TWFEResult, event_study, twfe
from laborai.errors import DataValidationError, EstimationError, LaborAIWarning, OptionError

__all__ = [
    "CHATGPT_RELEASE",
    "POST_START",
    "SOURCE",
    "ExposureDiDResult",
    "ExposureEventStudyResult",
    "SectorPanel",
    "exposure_did",
    "exposure_event_study",
    "genai_share_by_month",
    "honest_sensitivity",
    "sector_month_panel",
    "specification_table",
    "tech_sectors",
]

#: Public release of ChatGPT (OpenAI, 30 November 2022).
CHATGPT_RELEASE: pd.Timestamp = pd.Timestamp("2022-11-30")
#: First post-treatment month: December 2022, the first full month with ChatGPT available.
POST_START: str = "2022-12"
#: Source line for figures and tables built from these data.
SOURCE: str = "Indeed Hiring Lab, CC BY 4.0; exposure: Eloundou et al. (2024)"

Aggregation = Literal["log_of_mean", "mean_of_log"]
Design = Literal["dose", "tercile"]
SectorTrends = Literal["none", "pre", "full"]
Bin = Literal["quarter", "month"]
Target = Literal["average", "first"]

_AGGREGATIONS = ("log_of_mean", "mean_of_log")
_DESIGNS = ("dose", "tercile")
_TRENDS = ("none", "pre", "full")
_BINS = ("quarter", "month")
_TARGETS = ("average", "first")
_TERCILES = ("low", "mid", "high")
_EXCLUDED_COLUMNS = ["country", "sector", "month", "n_days", "reason"]


def _freeze(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


def _month_index(month: pd.Series | pd.DatetimeIndex, post_start: pd.Timestamp) -> np.ndarray:
    """Months since ``post_start`` (0 in the first post month, -1 the month before)."""
    m = pd.DatetimeIndex(month)
    return np.asarray((m.year - post_start.year) * 12 + (m.month - post_start.month), dtype=int)


def _parse_month(value: str | pd.Timestamp, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise OptionError(
            f"{name} must be a month like '2022-12' or a date; got {value!r}."
        ) from exc
    return ts.to_period("M").to_timestamp()


# --------------------------------------------------------------------------------------------
# The panel
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SectorPanel:
    """Country x sector x month panel of Indeed postings with LLM-exposure doses.

    Attributes
    ----------
    data : pandas.DataFrame
        One row per country, sector and month (see :func:`sector_month_panel` for the columns).
    excluded : pandas.DataFrame
        What was left out and why: ``country``, ``sector``, ``month`` (NaT when a whole sector
        is excluded), ``n_days`` (daily observations behind the month; NaN for whole sectors)
        and ``reason``. Empty when nothing was excluded.
    tercile_cuts : mapping of str to (float, float)
        For each exposure measure, the 1/3 and 2/3 quantiles of the sector exposure that define
        the ``tercile_<measure>`` columns.
    settings : mapping
        The arguments the panel was built with.
    """

    data: pd.DataFrame
    excluded: pd.DataFrame
    tercile_cuts: Mapping[str, tuple[float, float]]
    settings: Mapping[str, Any]

    @property
    def countries(self) -> tuple[str, ...]:
        """Countries in the panel, in the order requested."""
        return tuple(self.settings["countries"])

    @property
    def measures(self) -> tuple[str, ...]:
        """Exposure measures joined to the panel (the first defines ``tercile``)."""
        return tuple(self.settings["measures"])

    def coverage(self) -> pd.DataFrame:
        """Coverage by country: sectors, months, first and last month, rows, exclusions.

        Returns
        -------
        pandas.DataFrame
            One row per country: ``country``, ``n_sectors``, ``n_months``, ``first_month``,
            ``last_month``, ``n_rows``, ``balanced`` (every sector observed in every month),
            ``n_sectors_excluded`` and ``n_sector_months_excluded``.
        """
        rows = []
        for c in self.countries:
            d = self.data[self.data["country"] == c]
            ex = self.excluded[self.excluded["country"] == c]
            n_s, n_m = int(d["sector"].nunique()), int(d["month"].nunique())
            rows.append({
                "country": c, "n_sectors": n_s, "n_months": n_m,
                "first_month": d["month"].min(), "last_month": d["month"].max(),
                "n_rows": len(d), "balanced": bool(len(d) == n_s * n_m),
                "n_sectors_excluded": int(ex["month"].isna().sum()),
                "n_sector_months_excluded": int(ex["month"].notna().sum()),
            })
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        return (f"SectorPanel(countries={list(self.countries)}, rows={len(self.data)}, "
                f"sectors={self.data['sector'].nunique()}, months="
                f"{self.data['month'].nunique()}, excluded={len(self.excluded)})")


def _exposure_table(measures: Sequence[str], exposure: pd.DataFrame | None) -> pd.DataFrame:
    if exposure is None:
        tab = pd.DataFrame({"sector": pd.Series(dtype=str)})
        for i, m in enumerate(measures):
            e = sector_exposure(m)  # type: ignore[arg-type]
            col = e[["sector", "exposure"]].rename(columns={"exposure": m})
            tab = col if i == 0 else tab.merge(col, on="sector", how="outer")
        return tab
    if not isinstance(exposure, pd.DataFrame):
        raise DataValidationError(
            f"exposure must be a pandas DataFrame with a 'sector' column and one column per "
            f"measure; got {type(exposure).__name__}."
        )
    need = ["sector", *measures]
    missing = [c for c in need if c not in exposure.columns]
    if missing:
        raise DataValidationError(
            f"exposure: column(s) {missing} not found; it needs {need}; found "
            f"{list(exposure.columns)}. Pass a table like la.datasets.sector_exposure() with the "
            "'exposure' column renamed to the measure."
        )
    dup = exposure["sector"].duplicated()
    if dup.any():
        raise DataValidationError(
            f"exposure: rule 'one row per sector' broken in {int(dup.sum())} row(s); first: "
            f"{exposure.loc[dup, 'sector'].head(5).tolist()}."
        )
    return exposure[need].copy()


def _tercile_labels(values: pd.Series, cuts: tuple[float, float]) -> pd.Series:
    lo, hi = cuts
    lab = np.where(values <= lo, "low", np.where(values <= hi, "mid", "high"))
    return pd.Series(lab, index=values.index, dtype=str).where(values.notna())


def sector_month_panel(
    countries: Sequence[str] = ("US",),
    *,
    measures: Sequence[str] = ("gpt4_beta", "human_beta"),
    aggregation: Aggregation = "log_of_mean",
    min_days: int = 20,
    start: str | None = None,
    end: str | None = None,
    post_start: str = POST_START,
    exposure: pd.DataFrame | None = None,
) -> SectorPanel:
    """Monthly panel of Indeed's job-postings index by sector with LLM-exposure doses.

    Parameters
    ----------
    countries : sequence of str, default ("US",)
        Any of ``"US", "GB", "DE", "FR", "CA", "AU"`` (see
        :data:`laborai.datasets.SECTOR_COUNTRIES`).
    measures : sequence of str, default ("gpt4_beta", "human_beta")
        Exposure measures joined as dose columns (any of :data:`laborai.datasets.MEASURES`);
        the first one defines the ``tercile`` column.
    aggregation : {"log_of_mean", "mean_of_log"}, default "log_of_mean"
        ``"log_of_mean"``: average the daily index within the month, then take the log;
        ``"mean_of_log"``: average the log of the daily index. See Notes.
    min_days : int, default 20
        Sector-months with fewer daily observations (the first or last month of a file) are
        excluded and listed in ``excluded``.
    start, end : str, optional
        First and last month to keep (``"2021-01"``); default: everything in the files.
    post_start : str, default "2022-12"
        First post-treatment month. ChatGPT was released on 30 November 2022, so December
        2022 is the first month in which it was available for the whole month.
    exposure : pandas.DataFrame, optional
        Sector exposure table with a ``sector`` column and one column per measure; default
        :func:`laborai.datasets.sector_exposure` for each measure (the crosswalk of all 50
        Indeed sectors). Sectors without a score are excluded and listed, never dropped
        silently.

    Returns
    -------
    SectorPanel
        ``data`` has one row per country, sector and month, sorted by country, sector, month:

        - ``country`` (str), ``sector`` (str, Indeed's display name), ``sector_id`` (str);
        - ``unit`` (str): ``"<country>:<sector>"``, the panel unit;
        - ``month`` (datetime64, first day of the month), ``country_month`` (str,
          ``"<country>:<YYYY-MM>"``, for country x month fixed effects);
        - ``event_month`` (int): months since ``post_start`` (0 = December 2022);
        - ``n_days`` (int): daily observations averaged;
        - ``postings_index`` (float): monthly mean of the daily index (100 = 1 Feb 2020);
        - ``log_postings`` (float): the outcome, per ``aggregation``;
        - one column per measure (float, the sector's exposure in [0, 1]);
        - ``tercile`` and ``tercile_<measure>`` (str: ``"low"``, ``"mid"``, ``"high"``);
        - ``post`` (int 0/1): ``month >= post_start``;
        - ``tech`` (bool): the sector is one of :func:`tech_sectors`.

    Raises
    ------
    OptionError
        Unknown country, measure or aggregation; bad ``min_days``, ``start``, ``end``.
    DataFileNotFoundError, DataValidationError
        From the loaders (file missing or not the pinned version) or a malformed ``exposure``.
    EstimationError
        Nothing is left after the exclusions.

    Notes
    -----
    The index is proportional to the number of postings on Indeed in the sector (7-day
    trailing average, seasonally adjusted, 100 on 1 February 2020). By default the daily index
    is averaged within the month and then logged: the monthly mean is proportional to the
    average stock of postings in the month, so ``log_postings`` is the log of average monthly
    postings up to a sector constant (absorbed by the sector fixed effects) and differences
    are log points of postings. The mean of logs is the log of a geometric mean, which has no
    such count interpretation; with smooth 7-day averages the two differ very little and the
    option exists to show it.

    Terciles are cut at the 1/3 and 2/3 quantiles of the exposure of the sectors in the
    exposure table (every crosswalk sector counted once), so the cut points are the same for
    every country and every panel.

    References
    ----------
    Indeed Hiring Lab, Job Postings Tracker, https://github.com/hiring-lab/job_postings_tracker.
    Eloundou, T., Manning, S., Mishkin, P., and Rock, D. (2024). GPTs are GPTs: Labor market
    impact potential of LLMs. *Science*, 384(6702), 1306-1308.

    Examples
    --------
    >>> from laborai.studies.realdata import sector_month_panel
    >>> p = sector_month_panel(["US"])  # doctest: +SKIP
    >>> p.coverage()[["country", "n_sectors", "n_months"]]  # doctest: +SKIP
      country  n_sectors  n_months
    0      US         46        56
    """
    if isinstance(countries, str):
        countries = (countries,)
    countries = tuple(countries)
    if not countries:
        raise OptionError("countries must list at least one of "
                          f"{list(SECTOR_COUNTRIES)}; got ().")
    for c in countries:
        check_option("country", c, SECTOR_COUNTRIES)
    if len(set(countries)) != len(countries):
        raise OptionError(f"countries must not repeat a country; got {list(countries)}.")
    if isinstance(measures, str):
        measures = (measures,)
    measures = tuple(measures)
    if not measures:
        raise OptionError(f"measures must list at least one of {list(MEASURES)}; got ().")
    for m in measures:
        check_option("measure", m, MEASURES)
    measures = tuple(m.replace("dv_", "gpt4_") for m in measures)
    check_option("aggregation", aggregation, _AGGREGATIONS)
    if isinstance(min_days, bool) or not isinstance(min_days, (int, np.integer)) \
            or not 1 <= min_days <= 28:
        raise OptionError(f"min_days must be an integer from 1 to 28; got {min_days!r}.")
    post = _parse_month(post_start, "post_start")
    lo = _parse_month(start, "start") if start is not None else None
    hi = _parse_month(end, "end") if end is not None else None
    if lo is not None and hi is not None and lo > hi:
        raise OptionError(f"start must not be after end; got start={start!r}, end={end!r}.")

    expo = _exposure_table(measures, exposure)
    scored = expo.dropna(subset=list(measures))
    cuts: dict[str, tuple[float, float]] = {}
    for m in measures:
        q = np.quantile(scored[m].to_numpy(dtype=float), [1 / 3, 2 / 3])
        cuts[m] = (float(q[0]), float(q[1]))
    tech = set(tech_sectors())

    frames, excluded = [], []
    for c in countries:
        raw = indeed_sector_postings(c)  # type: ignore[arg-type]
        raw = raw[raw["series"] == "total postings"]
        month = raw["date"].dt.to_period("M").dt.to_timestamp()
        if aggregation == "log_of_mean":
            g = raw.assign(month=month).groupby(["sector", "sector_id", "month"], sort=True)
            m_ = g["postings_index"].agg(postings_index="mean", n_days="size").reset_index()
            m_["log_postings"] = np.log(m_["postings_index"])
        else:
            g = raw.assign(month=month, _log=np.log(raw["postings_index"])).groupby(
                ["sector", "sector_id", "month"], sort=True)
            m_ = g.agg(postings_index=("postings_index", "mean"), n_days=("postings_index", "size"),
                       log_postings=("_log", "mean")).reset_index()
        m_.insert(0, "country", c)
        if lo is not None:
            m_ = m_[m_["month"] >= lo]
        if hi is not None:
            m_ = m_[m_["month"] <= hi]
        partial = m_["n_days"] < min_days
        if partial.any():
            ex = m_.loc[partial, ["country", "sector", "month", "n_days"]].copy()
            ex["reason"] = [f"partial month: {n} daily observation(s) < min_days={min_days}"
                            for n in ex["n_days"]]
            excluded.append(ex)
        m_ = m_.loc[~partial]
        no_score = sorted(set(m_["sector"]) - set(scored["sector"]))
        if no_score:
            excluded.append(pd.DataFrame({
                "country": c, "sector": no_score, "month": pd.NaT, "n_days": np.nan,
                "reason": "no exposure score for the sector (not in the exposure table or "
                          f"missing {list(measures)})"}))
            m_ = m_[~m_["sector"].isin(no_score)]
        frames.append(m_)

    data = pd.concat(frames, ignore_index=True)
    if data.empty:
        raise EstimationError(
            f"sector_month_panel: no sector-month left for countries {list(countries)} between "
            f"start={start!r} and end={end!r} after the exclusions; widen the window."
        )
    data = data.merge(scored, on="sector", how="left", validate="many_to_one")
    data["n_days"] = data["n_days"].astype("int64")
    data["unit"] = data["country"] + ":" + data["sector"]
    data["country_month"] = data["country"] + ":" + data["month"].dt.strftime("%Y-%m")
    data["event_month"] = _month_index(data["month"], post)
    data["post"] = (data["month"] >= post).astype("int64")
    for m in measures:
        data[f"tercile_{m}"] = _tercile_labels(data[m], cuts[m])
    data["tercile"] = data[f"tercile_{measures[0]}"]
    data["tech"] = data["sector"].isin(tech)
    cols = ["country", "sector", "sector_id", "unit", "month", "country_month", "event_month",
            "n_days", "postings_index", "log_postings", *measures, "tercile",
            *[f"tercile_{m}" for m in measures], "post", "tech"]
    order = {c: i for i, c in enumerate(countries)}
    data = (data[cols].sort_values(["country", "sector", "month"],
                                   key=lambda s: s.map(order) if s.name == "country" else s)
            .reset_index(drop=True))
    exc = (pd.concat(excluded, ignore_index=True)[_EXCLUDED_COLUMNS] if excluded
           else pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                              zip(_EXCLUDED_COLUMNS, ["str", "str", "datetime64[ns]",
                                                      "float64", "str"], strict=True)}))
    settings = {"countries": countries, "measures": measures, "aggregation": aggregation,
                "min_days": int(min_days), "start": start, "end": end,
                "post_start": post.strftime("%Y-%m"),
                "exposure": "laborai.datasets.sector_exposure" if exposure is None else "user"}
    return SectorPanel(data=data, excluded=exc.reset_index(drop=True),
                       tercile_cuts=_freeze(cuts), settings=_freeze(settings))


def tech_sectors(threshold: float = 0.5, soc_prefix: str = "15-12") -> tuple[str, ...]:
    """Indeed sectors dominated by computer occupations (the 2022-23 tech hiring slump).

    Parameters
    ----------
    threshold : float, default 0.5
        A sector is a tech sector when MORE than this share of its crosswalk occupations have
        an O*NET-SOC code starting with ``soc_prefix`` (default: a strict majority).
    soc_prefix : str, default "15-12"
        SOC minor group 15-1200, "Computer Occupations" (software developers, programmers,
        network and systems administrators, support specialists, security analysts).

    Returns
    -------
    tuple of str
        Sector names, sorted. With the defaults: ``('IT Operations & Helpdesk', 'Software
        Development')`` (5 of 6 and 4 of 4 occupations are computer occupations). Project
        Management (1 of 2: IT project managers) sits exactly at one half and is not included;
        Information Design & Documentation has 2 of 5.

    Raises
    ------
    OptionError
        ``threshold`` outside [0, 1).

    Notes
    -----
    The rule is taken from the data (the crosswalk), not from a hand-made list, so that a
    change of the crosswalk moves the robustness sample with it.

    Examples
    --------
    >>> from laborai.studies.realdata import tech_sectors
    >>> tech_sectors()
    ('IT Operations & Helpdesk', 'Software Development')
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) \
            or not 0 <= threshold < 1:
        raise OptionError(f"threshold must be a number in [0, 1); got {threshold!r}.")
    xw = indeed_onet_crosswalk()
    share = xw["onet_soc_code"].str.startswith(soc_prefix).groupby(xw["sector"]).mean()
    return tuple(sorted(str(s) for s in share.index[share > threshold]))


# --------------------------------------------------------------------------------------------
# DiD
# --------------------------------------------------------------------------------------------


def _panel_data(panel: SectorPanel | pd.DataFrame, where: str) -> pd.DataFrame:
    if isinstance(panel, SectorPanel):
        return panel.data
    if isinstance(panel, pd.DataFrame):
        return panel
    raise DataValidationError(
        f"{where}: panel must be a SectorPanel (from sector_month_panel) or its .data "
        f"DataFrame; got {type(panel).__name__}."
    )


def _require(data: pd.DataFrame, cols: Sequence[str], where: str) -> None:
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise DataValidationError(
            f"{where}: column(s) {missing} not found in the panel; found {list(data.columns)}. "
            "Build the panel with laborai.studies.realdata.sector_month_panel(measures=[...]) "
            "including the dose you ask for."
        )


def _exclude(data: pd.DataFrame, exclude_sectors: Sequence[str], where: str) -> pd.DataFrame:
    if isinstance(exclude_sectors, str):
        exclude_sectors = (exclude_sectors,)
    unknown = sorted(set(exclude_sectors) - set(data["sector"]))
    if unknown:
        raise OptionError(
            f"{where}: exclude_sectors {unknown} are not sectors of the panel; known sectors "
            f"include {sorted(data['sector'].unique())[:6]}... Use names as in the data, e.g. "
            "tech_sectors()."
        )
    return data[~data["sector"].isin(list(exclude_sectors))]


def _unit_trends(data: pd.DataFrame) -> pd.DataFrame:
    """Unit-specific linear trends (years since the first post month inside the unit, else 0).

    One column per unit except the last unit of each country: within a country the trends sum
    to a common trend, which the country x month effects absorb.
    """
    t = data["event_month"].to_numpy(dtype=float) / 12.0
    codes, uniques = pd.factorize(data["unit"], sort=True)
    mat = np.zeros((len(data), len(uniques)))
    mat[np.arange(len(data)), codes] = t
    country_of = pd.Series(data["country"].to_numpy(), index=codes).groupby(level=0).first()
    last = set(pd.Series(country_of.index, index=country_of.to_numpy()).groupby(level=0).max())
    keep = [j for j in range(len(uniques)) if j not in last]
    return pd.DataFrame(mat[:, keep], index=data.index, columns=[f"_trend{j}" for j in keep])


def _pre_trend_slopes(data: pd.DataFrame, yname: str) -> pd.Series:
    """Unit-specific linear slopes of ``yname`` fitted on the pre-period with time effects.

    Per country, OLS of ``y`` on unit dummies, month dummies and unit x (years) trends on
    the rows with ``post == 0``; returns each unit's slope (log points per year). The slopes
    are identified up to a constant per country (collinear with the month effects); the
    minimum-norm solution is used, and the constant is absorbed by the country x month
    effects of the second step.
    """
    out = {}
    for _, d in data[data["post"] == 0].groupby("country", sort=True):
        u_codes, units = pd.factorize(d["unit"], sort=True)
        t_codes, _ = pd.factorize(d["time"], sort=True)
        n, nu, nt = len(d), len(units), int(t_codes.max()) + 1
        t = d["event_month"].to_numpy(dtype=float) / 12.0
        X = np.zeros((n, nu + nt + nu))
        r = np.arange(n)
        X[r, u_codes] = 1.0
        X[r, nu + t_codes] = 1.0
        X[r, nu + nt + u_codes] = t
        beta = np.linalg.lstsq(X, d[yname].to_numpy(dtype=float), rcond=None)[0]
        rank = np.linalg.matrix_rank(X)
        if rank < X.shape[1] - 2:  # unit + month effects: 1, trends vs month effects: 1
            raise EstimationError(
                "exposure_did(sector_trends='pre'): the pre-period cannot identify a linear "
                f"trend for every unit (design rank {rank} of {X.shape[1]}); each unit needs "
                "at least two pre-period months."
            )
        out.update(dict(zip(units, beta[nu + nt:], strict=True)))
    return pd.Series(out, name="pre_trend_slope")


@dataclass(frozen=True, eq=False, repr=False)
class ExposureDiDResult(ResultMixin):
    """Result of :func:`exposure_did`: the DiD coefficient with CRV1 and wild bootstrap inference.

    Attributes
    ----------
    term : str
        Name of the coefficient (``"<dose>_x_post"`` or ``"high_x_post"``).
    design, dose, sector_trends : str
        Settings of the specification.
    countries : tuple of str
        Countries in the estimation sample.
    sectors : tuple of str
        Sectors in the estimation sample.
    excluded_sectors : pandas.DataFrame
        ``sector`` and ``reason`` for every sector of the panel left out of the estimation
        sample (``exclude_sectors`` or the middle tercile).
    cluster_result : TWFEResult
        The regression with CRV1 standard errors clustered by sector.
    wild : WildBootstrapResult or None
        Wild cluster restricted bootstrap (clusters: sectors) of the same coefficient.
    trend_slopes : pandas.Series or None
        With ``sector_trends='pre'``: each unit's pre-period slope removed (log points/year).
    provenance : Provenance
    """

    term: str
    design: str
    dose: str
    sector_trends: str
    countries: tuple[str, ...]
    sectors: tuple[str, ...]
    excluded_sectors: pd.DataFrame
    cluster_result: TWFEResult
    wild: WildBootstrapResult | None
    trend_slopes: pd.Series | None
    provenance: Provenance
    _title = "Exposure DiD (Indeed postings x LLM exposure)"

    @property
    def estimate(self) -> float:
        """The DiD coefficient."""
        return float(self.cluster_result.coef[0])

    @property
    def std_error(self) -> float:
        """Its CRV1 standard error (clusters: sectors)."""
        return float(np.sqrt(self.cluster_result.vcov[0, 0]))

    def tidy(self) -> pd.DataFrame:
        """One-row table of the DiD coefficient.

        Returns
        -------
        pandas.DataFrame
            ``term, estimate, std_error, statistic, p_value, conf_low, conf_high`` (CRV1 by
            sector, t with ``G - 1`` degrees of freedom), ``wild_p_value, wild_conf_low,
            wild_conf_high`` (wild cluster restricted bootstrap; NaN without it), ``n_boot``,
            ``nobs``, ``n_sectors``, ``n_units``, ``n_clusters``, ``countries`` (comma-joined),
            ``design``, ``dose``, ``sector_trends``.
        """
        row = self.cluster_result.tidy().iloc[[0]].reset_index(drop=True)
        row["term"] = self.term
        w = self.wild.tidy().iloc[0] if self.wild is not None else None
        row["wild_p_value"] = float(w["p_value"]) if w is not None else math.nan
        row["wild_conf_low"] = float(w["conf_low"]) if w is not None else math.nan
        row["wild_conf_high"] = float(w["conf_high"]) if w is not None else math.nan
        row["n_boot"] = self.wild.n_boot if self.wild is not None else 0
        row["nobs"] = self.cluster_result.nobs
        row["n_sectors"] = len(self.sectors)
        row["n_units"] = int(self.provenance.settings["n_units"])
        row["n_clusters"] = self.cluster_result.n_clusters
        row["countries"] = ",".join(self.countries)
        row["design"] = self.design
        row["dose"] = self.dose
        row["sector_trends"] = self.sector_trends
        return row

    def _header(self) -> list[tuple[str, str]]:
        lines = [("Countries", ", ".join(self.countries)), ("Design", self.design),
                 ("Dose", self.dose), ("Sector trends", self.sector_trends),
                 ("Observations", str(self.cluster_result.nobs)),
                 ("Sectors (clusters)", str(self.cluster_result.n_clusters)),
                 ("Inference", "CRV1 by sector; wild cluster restricted bootstrap p"
                  if self.wild is not None else "CRV1 by sector")]
        if len(self.excluded_sectors):
            lines.append(("Sectors left out", str(len(self.excluded_sectors))))
        return lines

    def __repr__(self) -> str:
        wp = f", wild_p={self.wild.p_value:.4g}" if self.wild is not None else ""
        return (f"ExposureDiDResult({self.term}={self.estimate:.6g}, se={self.std_error:.4g}"
                f"{wp}, countries={list(self.countries)}, design={self.design!r})")


def exposure_did(
    panel: SectorPanel | pd.DataFrame,
    *,
    dose: str = "gpt4_beta",
    design: Design = "dose",
    exclude_sectors: Sequence[str] = (),
    sector_trends: SectorTrends = "none",
    yname: str = "log_postings",
    wild: bool = True,
    n_boot: int = 9999,
    alpha: float = 0.05,
    seed: int = 2024,
) -> ExposureDiDResult:
    """DiD of log postings on sector LLM exposure x post-ChatGPT, with sector-clustered inference.

    Estimates ``y_ust = beta * D_s * post_ct + a_us + l_ct + e_ust`` for sector ``s`` in
    country ``c`` (unit ``u = (c, s)``) and month ``t``, where ``D_s`` is the sector's exposure
    dose (``design='dose'``) or 1 for high- and 0 for low-tercile sectors
    (``design='tercile'``; the middle tercile is left out and listed). With one country the
    fixed effects are sector and month effects; with several they are country x sector and
    country x month effects (a stacked DiD).

    Parameters
    ----------
    panel : SectorPanel or pandas.DataFrame
        From :func:`sector_month_panel` (or its ``data``). Not modified.
    dose : str, default "gpt4_beta"
        Exposure measure (a column of the panel), e.g. ``"human_beta"``.
    design : {"dose", "tercile"}, default "dose"
        Continuous dose, or the binary high- vs low-tercile comparison (terciles of ``dose``,
        column ``tercile_<dose>``).
    exclude_sectors : sequence of str, default ()
        Sectors to leave out, e.g. :func:`tech_sectors` (listed in ``excluded_sectors``).
    sector_trends : {"none", "pre", "full"}, default "none"
        ``"pre"``: remove each unit's linear trend estimated on the pre-period (with month
        effects) from the outcome before the DiD; ``"full"``: add unit-specific linear trends
        to the regression, estimated on the whole sample. See Notes.
    yname : str, default "log_postings"
        Outcome column.
    wild : bool, default True
        Also compute the wild cluster restricted bootstrap p-value and confidence set.
    n_boot : int, default 9999
        Bootstrap draws (Rademacher weights; all sign vectors when ``n_boot >= 2**G``).
    alpha : float, default 0.05
        One minus the confidence level.
    seed : int, default 2024
        Seed of the bootstrap.

    Returns
    -------
    ExposureDiDResult
        ``tidy()`` gives one row with both kinds of inference.

    Raises
    ------
    OptionError
        Bad ``design``, ``sector_trends`` or ``exclude_sectors``.
    DataValidationError
        Missing columns.
    EstimationError
        The coefficient is not identified (e.g. no post-period or one tercile empty).

    Notes
    -----
    Estimand: with a continuous dose, ``beta`` is the change in log postings after ChatGPT per
    unit of exposure (0 to 1), relative to the sector's own pre-period mean and to the common
    monthly shock; it is a weighted average of the derivatives of the dose-response under
    strong parallel trends (Callaway, Goodman-Bacon & Sant'Anna 2024): sectors with different
    exposure would have moved in parallel without ChatGPT. The tercile version compares the
    most with the least exposed third. The outcome is an index, so effects are relative
    changes in postings, not counts of jobs.

    Inference: CRV1 standard errors clustered by sector (the level at which the dose varies;
    in the stacked design one cluster holds the sector in every country), t with ``G - 1``
    degrees of freedom, and the wild cluster restricted bootstrap (Cameron, Gelbach & Miller
    2008) by sector as a check with few clusters.

    Sector trends: the 2022-23 hiring slump in technology came with the end of a pandemic
    boom that was strongest in exposed, white-collar sectors. ``"pre"`` extrapolates each
    unit's pre-ChatGPT linear trend (fitted with month effects on the pre-period only) and
    estimates the DiD on the detrended outcome; the standard errors do not account for the
    first step. ``"full"`` fits the trends on all months jointly with ``beta``, which lets a
    gradual post-period effect load on the trends.

    References
    ----------
    Callaway, B., Goodman-Bacon, A. & Sant'Anna, P. H. C. (2024). Difference-in-differences
    with a continuous treatment. NBER Working Paper 32117.
    Cameron, A. C., Gelbach, J. B. & Miller, D. L. (2008). Bootstrap-based improvements for
    inference with clustered errors. *Review of Economics and Statistics* 90(3), 414-427.

    Examples
    --------
    >>> from laborai.studies.realdata import sector_month_panel, exposure_did
    >>> res = exposure_did(sector_month_panel(["US"]), wild=False)  # doctest: +SKIP
    >>> res.tidy()[["term", "estimate", "std_error"]]  # doctest: +SKIP
    """
    where = "exposure_did"
    check_option("design", design, _DESIGNS)
    check_option("sector_trends", sector_trends, _TRENDS)
    dose = dose.replace("dv_", "gpt4_") if isinstance(dose, str) else dose
    data = _panel_data(panel, where)
    need = ["country", "sector", "unit", "country_month", "event_month", "post", yname, dose]
    if design == "tercile":
        need.append(f"tercile_{dose}")
    _require(data, need, where)
    all_sectors = list(dict.fromkeys(data["sector"]))
    d = _exclude(data, exclude_sectors, where)
    reasons = {s: "excluded by exclude_sectors" for s in exclude_sectors} \
        if not isinstance(exclude_sectors, str) else {exclude_sectors: "excluded by exclude_sectors"}
    if design == "tercile":
        tcol = f"tercile_{dose}"
        mid = sorted(set(d.loc[d[tcol] == "mid", "sector"]))
        reasons.update({s: "middle exposure tercile (design='tercile')" for s in mid})
        d = d[d[tcol].isin(["low", "high"])]
        if d[tcol].nunique() < 2:
            raise EstimationError(
                f"{where}: design='tercile' needs both low- and high-tercile sectors; found "
                f"only {sorted(d[tcol].unique())}."
            )
        x = (d[tcol] == "high").astype(float)
        term = "high_x_post"
    else:
        x = d[dose].astype(float)
        term = f"{dose}_x_post"
    if d["post"].nunique() < 2:
        raise EstimationError(f"{where}: the panel needs pre- and post-period months; found "
                              f"post values {sorted(d['post'].unique())}.")
    est = pd.DataFrame({
        "y": d[yname].to_numpy(dtype=float), "x": (x * d["post"]).to_numpy(dtype=float),
        "unit": d["unit"].to_numpy(), "time": d["country_month"].to_numpy(),
        "sector": d["sector"].to_numpy(), "country": d["country"].to_numpy(),
        "event_month": d["event_month"].to_numpy(), "post": d["post"].to_numpy(),
    })
    slopes = None
    controls: list[str] = []
    if sector_trends == "pre":
        slopes = _pre_trend_slopes(est, "y")
        est["y"] = est["y"] - est["unit"].map(slopes).to_numpy(dtype=float) \
            * est["event_month"].to_numpy(dtype=float) / 12.0
    elif sector_trends == "full":
        tr = _unit_trends(est)
        est = pd.concat([est, tr], axis=1)
        controls = list(tr.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LaborAIWarning)
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)  # many trend columns
        res = twfe(est, yname="y", dname="x", idname="unit", tname="time", cluster="sector",
                   controls=controls, vcov="cluster", alpha=alpha)
    wb = None
    if wild:
        kept = [c for c in controls if c in set(res.terms)]
        wb = wild_cluster_bootstrap(est, yname="y", dname="x", controls=kept,
                                    cluster="sector", idname="unit", tname="time",
                                    n_boot=n_boot, alpha=alpha, seed=seed)
    used = list(dict.fromkeys(d["sector"]))
    exc = pd.DataFrame({"sector": [s for s in all_sectors if s not in set(used)]})
    exc["reason"] = exc["sector"].map(reasons).astype(str)
    countries = tuple(dict.fromkeys(d["country"]))
    settings = {"dose": dose, "design": design, "exclude_sectors": sorted(reasons),
                "sector_trends": sector_trends, "yname": yname, "wild": wild, "n_boot": n_boot,
                "alpha": alpha, "countries": list(countries), "n_units": int(d["unit"].nunique())}
    return ExposureDiDResult(
        term=term, design=design, dose=dose, sector_trends=sector_trends, countries=countries,
        sectors=tuple(used), excluded_sectors=exc, cluster_result=res, wild=wb,
        trend_slopes=slopes, provenance=make_provenance(where, d, settings, seed if wild else None),
    )


# --------------------------------------------------------------------------------------------
# Event study and HonestDiD
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class ExposureEventStudyResult(ResultMixin):
    """Result of :func:`exposure_event_study`.

    Attributes
    ----------
    event_study : EventStudyResult
        The underlying event study (``event_times``, ``coef``, ``vcov``, ``ref``, ``pretrend``,
        sup-t band); pass it to :func:`laborai.did.honest` or use :func:`honest_sensitivity`.
    bin : str
        ``"quarter"`` or ``"month"``.
    dose, country : str
    periods : pandas.DataFrame
        One row per event period in the estimation sample: ``event_time``, ``first_month``,
        ``last_month``, ``n_months``.
    excluded_periods : pandas.DataFrame
        Event periods left out because they are incomplete (fewer than 3 months in a quarter),
        with ``event_time``, ``first_month``, ``last_month``, ``n_months``, ``reason``.
    excluded_sectors : tuple of str
    """

    event_study: EventStudyResult
    bin: str
    dose: str
    country: str
    periods: pd.DataFrame
    excluded_periods: pd.DataFrame
    excluded_sectors: tuple[str, ...]
    _title = "Event study of log postings on LLM exposure"

    @property
    def pretrend(self) -> Mapping[str, Any]:
        """Joint Wald test that every lead is zero (see :class:`EventStudyResult`)."""
        return self.event_study.pretrend

    def tidy(self) -> pd.DataFrame:
        """Event-time coefficients with the calendar months each event period covers.

        Returns
        -------
        pandas.DataFrame
            The columns of :meth:`EventStudyResult.tidy` (``conf_low/conf_high``: sup-t band;
            ``point_conf_low/point_conf_high``: pointwise) plus ``first_month``, ``last_month``
            and ``n_months``; the reference period is not a row.
        """
        t = self.event_study.tidy()
        return t.merge(self.periods, on="event_time", how="left")

    def _header(self) -> list[tuple[str, str]]:
        pt = self.pretrend
        return [("Country", self.country), ("Dose", self.dose), ("Bins", self.bin),
                ("Reference", f"{self.event_study.ref} (the last pre-ChatGPT {self.bin})"),
                ("Pre-trend test",
                 (f"F({pt['df1']}, {pt['df2']:g}) = {pt['statistic']:.3f}, "
                  if pt.get("df2") is not None else
                  f"{pt.get('distribution', 'test')}: {pt['statistic']:.3f}, ")
                 + f"p = {pt['p_value']:.4g}"),
                ("Sup-t critical value", f"{self.event_study.crit_sup_t:.3f}")]

    def __repr__(self) -> str:
        et = self.event_study.event_times
        return (f"ExposureEventStudyResult(country={self.country!r}, bin={self.bin!r}, "
                f"event_times=[{int(et.min())}..{int(et.max())}], "
                f"pretrend_p={self.pretrend['p_value']:.4g})")


def exposure_event_study(
    panel: SectorPanel | pd.DataFrame,
    *,
    dose: str = "gpt4_beta",
    bin: Bin = "quarter",
    window: tuple[int, int] | None = None,
    exclude_sectors: Sequence[str] = (),
    yname: str = "log_postings",
    alpha: float = 0.05,
    n_draws: int = 100_000,
    seed: int = 2024,
) -> ExposureEventStudyResult:
    """Event study of log postings on the sector exposure dose, in event quarters or months.

    Estimates ``y_st = sum_{k != -1} b_k D_s 1[t in period k] + a_s + l_t + e_st`` for one
    country, with period ``k = 0`` starting in December 2022 (the first post-ChatGPT month).

    Parameters
    ----------
    panel : SectorPanel or pandas.DataFrame
        One country's panel from :func:`sector_month_panel`. Not modified.
    dose : str, default "gpt4_beta"
        Exposure column multiplying the event-time dummies.
    bin : {"quarter", "month"}, default "quarter"
        ``"quarter"``: three-month event periods aligned on the event (Dec-Feb = 0, Sep-Nov
        2022 = -1, ...); the outcome is the mean of the monthly log index within the period
        and incomplete periods at either end of the sample are left out (listed). ``"month"``:
        one coefficient per month.
    window : (int, int), optional
        Binned end points (periods beyond them are pooled); default: the whole sample.
    exclude_sectors : sequence of str, default ()
        Sectors left out (e.g. :func:`tech_sectors`).
    yname : str, default "log_postings"
        Outcome column.
    alpha : float, default 0.05
        One minus the confidence level of the pointwise and sup-t bands.
    n_draws : int, default 100000
        Draws for the sup-t critical value.
    seed : int, default 2024
        Seed of those draws.

    Returns
    -------
    ExposureEventStudyResult

    Raises
    ------
    OptionError
        Bad ``bin``; a panel with more than one country.
    DataValidationError
        Missing columns.

    Notes
    -----
    Standard errors are clustered by sector; the joint pre-trend test is the Wald F-test that
    all leads are zero; the simultaneous band is the sup-t band of Montiel Olea &
    Plagborg-Moeller (2019) (see :func:`laborai.did.event_study`). Quarterly bins average out
    month-to-month noise and keep the number of coefficients (and HonestDiD's problem) small;
    with a balanced panel, OLS on quarterly means with quarter effects gives the same
    coefficients as OLS on months with month effects and quarter-binned dummies.

    References
    ----------
    Montiel Olea, J. L. & Plagborg-Moeller, M. (2019). Simultaneous confidence bands: theory,
    implementation, and an application to SVARs. *Journal of Applied Econometrics* 34(1), 1-17.
    """
    where = "exposure_event_study"
    check_option("bin", bin, _BINS)
    dose = dose.replace("dv_", "gpt4_")
    data = _panel_data(panel, where)
    _require(data, ["country", "sector", "month", "event_month", yname, dose], where)
    countries = list(dict.fromkeys(data["country"]))
    if len(countries) != 1:
        raise OptionError(
            f"{where}: the event study is for one country at a time; the panel has "
            f"{countries}. Filter it, e.g. panel.data[panel.data.country == 'US']."
        )
    d = _exclude(data, exclude_sectors, where)
    d = d.assign(event_time=np.floor_divide(d["event_month"], 3) if bin == "quarter"
                 else d["event_month"])
    per = (d.groupby("event_time")["month"].agg(first_month="min", last_month="max",
                                                 n_months="nunique").reset_index())
    per["n_months"] = per["n_months"].astype("int64")
    full = 3 if bin == "quarter" else 1
    bad = per["n_months"] < full
    excl = per[bad].copy()
    excl["reason"] = [f"incomplete {bin}: {n} of {full} months in the sample"
                      for n in excl["n_months"]]
    per = per[~bad].reset_index(drop=True)
    d = d[d["event_time"].isin(per["event_time"])]
    agg = (d.groupby(["sector", "event_time"], sort=True)
           .agg(y=(yname, "mean"), dose=(dose, "first")).reset_index())
    lo, hi = int(agg["event_time"].min()), int(agg["event_time"].max())
    win = (lo, hi) if window is None else window
    res = event_study(agg, yname="y", idname="sector", tname="event_time", dname="dose",
                      event_date=0, window=win, ref=-1, cluster="sector", alpha=alpha,
                      n_boot=n_draws, seed=seed)
    return ExposureEventStudyResult(
        event_study=res, bin=bin, dose=dose, country=countries[0], periods=per,
        excluded_periods=excl.reset_index(drop=True),
        excluded_sectors=tuple(sorted(set(exclude_sectors) if not isinstance(exclude_sectors, str)
                                      else {exclude_sectors})),
    )


def honest_sensitivity(
    es: ExposureEventStudyResult | EventStudyResult,
    *,
    method: Literal["relative_magnitude", "smoothness"] = "relative_magnitude",
    grid: Sequence[float] | None = None,
    target: Target = "average",
    alpha: float = 0.05,
    seed: int = 2024,
) -> HonestResult:
    """HonestDiD robust confidence intervals for the post-ChatGPT effect of the event study.

    Parameters
    ----------
    es : ExposureEventStudyResult or EventStudyResult
        From :func:`exposure_event_study`.
    method : {"relative_magnitude", "smoothness"}, default "relative_magnitude"
        ``Delta^RM(Mbar)``: post-period violations of parallel trends at most ``Mbar`` times
        the largest pre-period one; ``Delta^SD(M)``: the slope of the differential trend
        changes by at most ``M`` per period (``M = 0``: linear extrapolation of the pre-trend).
    grid : sequence of float, optional
        Values of ``Mbar`` or ``M``; default as in :func:`laborai.did.honest`.
    target : {"average", "first"}, default "average"
        ``"average"``: the mean of the post-period coefficients (the analogue of the DiD);
        ``"first"``: the first post period.
    alpha : float, default 0.05
        One minus the confidence level.
    seed : int, default 2024
        Seed of the least-favourable critical value simulation (relative magnitudes).

    Returns
    -------
    HonestResult
        ``tidy()``, ``breakdown()`` and ``plot()`` as in :func:`laborai.did.honest`.

    References
    ----------
    Rambachan, A. and Roth, J. (2023). A More Credible Approach to Parallel Trends. *Review of
    Economic Studies* 90(5), 2555-2591.
    """
    check_option("target", target, _TARGETS)
    res = es.event_study if isinstance(es, ExposureEventStudyResult) else es
    n_post = int(np.sum(res.event_times > res.ref))
    l_vec = np.full(n_post, 1.0 / n_post) if target == "average" else None
    return honest(res, method=method, grid=grid, l_vec=l_vec, alpha=alpha, seed=seed)


# --------------------------------------------------------------------------------------------
# All specifications, and the descriptive series
# --------------------------------------------------------------------------------------------

_SPEC_LABELS = {
    "dose": "Dose x post, {c}",
    "dose_human": "Human-rated dose x post, {c}",
    "tercile": "High vs low tercile x post, {c}",
    "drop_tech": "Dose x post, {c}, without tech sectors",
    "sector_trends": "Dose x post, {c}, sector pre-trends removed",
    "stacked": "Dose x post, {c} stacked",
}
_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _countries_phrase(countries: Sequence[str]) -> str:
    """``"six countries"``, ``"two countries"`` or ``"US only"``: the countries of a panel."""
    n = len(countries)
    if n == 1:
        return f"{countries[0]} only"
    word = _NUMBER_WORDS[n] if n < len(_NUMBER_WORDS) else str(n)
    return f"{word} countries"


def specification_table(
    panel: SectorPanel,
    stacked: SectorPanel | None = None,
    *,
    dose: str = "gpt4_beta",
    human_dose: str = "human_beta",
    n_boot: int = 9999,
    alpha: float = 0.05,
    seed: int = 2024,
) -> pd.DataFrame:
    """Run every DiD specification of the real-data analysis and stack the results.

    Parameters
    ----------
    panel : SectorPanel
        One country's panel (e.g. the US), with columns ``dose`` and ``human_dose``.
    stacked : SectorPanel, optional
        A multi-country panel for the stacked specification (skipped when omitted).
    dose, human_dose : str
        Exposure measures of the main and the alternative dose.
    n_boot, alpha, seed
        As in :func:`exposure_did`.

    Returns
    -------
    pandas.DataFrame
        One row per specification, in this order: ``dose`` (main), ``dose_human`` (human
        ratings), ``tercile`` (high vs low), ``drop_tech`` (without :func:`tech_sectors`),
        ``sector_trends`` (sector-specific linear pre-trends removed), ``stacked``. Columns
        ``spec``, ``label`` and those of :meth:`ExposureDiDResult.tidy`, plus
        ``excluded_sectors`` (semicolon-joined names). Labels name the country of ``panel``;
        the stacked row's label counts the countries of ``stacked`` (e.g. ``"Dose x post, six
        countries stacked"``).
    """
    country = panel.countries[0] if len(panel.countries) == 1 else "+".join(panel.countries)
    tech = [s for s in tech_sectors() if s in set(panel.data["sector"])]
    runs: list[tuple[str, SectorPanel, dict[str, Any]]] = [
        ("dose", panel, {"dose": dose}),
        ("dose_human", panel, {"dose": human_dose}),
        ("tercile", panel, {"dose": dose, "design": "tercile"}),
        ("drop_tech", panel, {"dose": dose, "exclude_sectors": tech}),
        ("sector_trends", panel, {"dose": dose, "sector_trends": "pre"}),
    ]
    if stacked is not None:
        runs.append(("stacked", stacked, {"dose": dose}))
    rows = []
    for spec, p, kw in runs:
        r = exposure_did(p, n_boot=n_boot, alpha=alpha, seed=seed, **kw)
        row = r.tidy()
        c = _countries_phrase(p.countries) if spec == "stacked" else country
        row.insert(0, "label", _SPEC_LABELS[spec].format(c=c))
        row.insert(0, "spec", spec)
        row["excluded_sectors"] = "; ".join(r.excluded_sectors["sector"])
        rows.append(row)
    out = pd.concat(rows, ignore_index=True)
    return out[["spec", "label", *TIDY_COLUMNS,
                *[c for c in out.columns if c not in {"spec", "label", *TIDY_COLUMNS}]]]


def genai_share_by_month(
    countries: Sequence[str] = SECTOR_COUNTRIES,
    *,
    kind: Literal["genai", "ai"] = "genai",
) -> pd.DataFrame:
    """Indeed's share of job postings mentioning (generative) AI, monthly means by country.

    Parameters
    ----------
    countries : sequence of str, default the six sector countries
        Countries of :func:`laborai.datasets.indeed_ai_share` (AU, CA, DE, FR, GB, IE, IT, NL,
        US).
    kind : {"genai", "ai"}, default "genai"
        Generative-AI or AI keyword list.

    Returns
    -------
    pandas.DataFrame
        ``country``, ``month`` (first day), ``share_percent`` (mean of the daily share, in
        percent of postings), ``n_days`` (daily observations averaged; the last month of the
        file may be partial), sorted by country (in the order given) and month.

    Raises
    ------
    OptionError
        Unknown ``kind`` or a country not in the file.
    """
    check_option("kind", kind, ("genai", "ai"))
    if isinstance(countries, str):
        countries = (countries,)
    raw = indeed_ai_share(kind)
    avail = list(dict.fromkeys(raw["country"]))
    for c in countries:
        check_option("country", c, avail)
    d = raw[raw["country"].isin(list(countries))]
    d = d.assign(month=d["date"].dt.to_period("M").dt.to_timestamp())
    out = (d.groupby(["country", "month"], sort=True)["share_percent"]
           .agg(share_percent="mean", n_days="size").reset_index())
    out["n_days"] = out["n_days"].astype("int64")
    order = {c: i for i, c in enumerate(countries)}
    return (out.sort_values(["country", "month"],
                            key=lambda s: s.map(order) if s.name == "country" else s)
            .reset_index(drop=True))

