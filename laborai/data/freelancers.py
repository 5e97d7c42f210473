"""Simulated freelancers: persistent workers who bid, win contracts and adopt AI tools.

:func:`simulate_freelancers` draws a SIMULATED marketplace at the freelancer level (the level of
Hui, Reshef & Zhou 2024): each freelancer has a home category and subcategory of laborai's
taxonomy, an active span (entry and exit month), experience, an hourly rate, a number of bids
per month and a win probability, so that the contracts of a month are the bids won. Generative
AI switches on at the taxonomy's event dates (ChatGPT, 30 Nov 2022) for freelancers whose home
category is exposed, under laborai's one timing rule (:mod:`laborai._timing`, ``"first_full"``:
December 2022 is the first treated month), with effects that differ for top earners and for
freelancers who adopt AI tools. Every effect is a parameter and the result's ``truth`` states
it in the estimand of a Poisson (PPML) regression with freelancer and month fixed effects: the
log of the ratio of expected outcomes with and without the effects (see ``docs/freelancers.md``).

Examples
--------
>>> import laborai as la
>>> fm = la.simulate_freelancers(seed=1, n_freelancers=500)
>>> fm.freelancers.shape[0], fm.seed
(500, 1)
>>> round(fm.truth["pooled"]["earnings"]["percent"], 1) < 0
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from laborai import _timing, taxonomy
from laborai.data.simulate import DEFAULT_RHO, _ar1, _check_rho, _check_sd
from laborai.errors import DataValidationError, LaborAIError, OptionError

# laborai._store (FrozenMapping, deep_freeze, the archive format) is imported where it is
# used: importing it imports all of laborai.did (about 1 s), which ``la.simulate_marketplace``
# and ``import laborai.data`` must not pay for.

__all__ = ["FREELANCER_EFFECTS", "FreelancerMarket", "simulate_freelancers"]

#: Default effect parameters (log points) calibrated so that the implied pooled effect on
#: exposed freelancers is about -2% monthly jobs and -5.2% monthly earnings (Hui, Reshef & Zhou
#: 2024) at the default settings; see ``docs/freelancers.md``.
FREELANCER_EFFECTS: Mapping[str, float] = MappingProxyType({
    "jobs": -0.0155,                 # log multiplier of the win probability, exposed, not top
    "earnings_per_job": -0.0195,     # log multiplier of earnings per contract, exposed, not top
    "top_jobs": -0.034,             # the same for the top quartile of expected earnings
    "top_earnings_per_job": -0.0545,
    "adopt_jobs": 0.020,            # AI-tool adopters, from their adoption month (any category)
    "adopt_earnings_per_job": 0.050,
})
_NO_EFFECTS = MappingProxyType(dict.fromkeys(FREELANCER_EFFECTS, 0.0))
#: Share of freelancers who adopt AI tools by the end of the window (before the experience
#: tilt), by exposure of their home category.
_ADOPTION = MappingProxyType({"exposed": 0.30, "less_exposed": 0.10})


def _ids(prefix: str, k: np.ndarray, width: int) -> Any:
    """``prefix`` + zero-padded integers as a pandas string array (vectorised in Arrow)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    digits = pc.utf8_lpad(pa.array(np.asarray(k, dtype=np.int64)).cast(pa.string()), width, "0")
    return pd.array(pc.binary_join_element_wise(prefix, digits, ""), dtype="str")


def _take(labels: Any, codes: np.ndarray) -> Any:
    """``labels[codes]`` as a pandas string array (an Arrow dictionary decoded in C++)."""
    import pyarrow as pa

    dic = pa.DictionaryArray.from_arrays(pa.array(np.asarray(codes, dtype=np.int32)),
                                         pa.array([str(v) for v in labels], pa.string()))
    return pd.array(dic.cast(pa.string()), dtype="str")


@dataclass(frozen=True)
class FreelancerMarket:
    """A SIMULATED freelancer-level marketplace: freelancers, contracts and the true effects.

    Attributes
    ----------
    freelancers : pandas.DataFrame
        One row per freelancer: ``freelancer_id, category, subcategory, event`` (the home
        category's generative-AI event, missing if none), ``exposed`` (the event switches
        effects on), ``entry_month`` (registration month; before the window for freelancers
        active at its start), ``exit_month`` (last active month; NaT while still active at the
        end), ``experience_years`` (at entry), ``hourly_rate_usd``, ``bids_per_month`` (expected
        bids in an average month), ``win_prob`` (without effects), ``hourly_share``,
        ``hours_per_contract``, ``expected_earnings`` (expected monthly earnings without
        effects, USD), ``top_earner`` (top quartile of ``expected_earnings``), and
        ``adoption_month`` (first month with AI tools, NaT if never).
    contracts : pandas.DataFrame
        One row per won bid: ``contract_id, post_id, freelancer_id, category, subcategory,
        start_date, end_date, contract_type`` (``"fixed"`` or ``"hourly"``), ``hours`` (hourly
        contracts; missing for fixed price) and ``earnings_usd`` (whole cents).
    expected : pandas.DataFrame
        One row per active freelancer x month: ``freelancer_id`` (categorical), ``period`` and the expected
        jobs and earnings without (``mu0_*``) and with (``mu1_*``) the effects, averaged over
        the demand shocks, and ``demand_shock``: the realised mean-one multiplier of the
        freelancer's bids that month (category x subcategory AR(1) shocks; 1 with both shock
        sds at 0). Expected outcomes given the realised shocks are ``mu * demand_shock``.
    truth : Mapping
        ``parameters`` (every effect, log points), ``first_treated`` (first treated month of
        each event) and the implied estimands of the default design (``pooled``, ``top`` /
        ``not_top``: each ``{"jobs", "earnings"}`` with ``log`` and ``percent``).
    seed : int
        The seed of the one generator used.
    settings : Mapping
        Every setting of the call.
    """

    freelancers: pd.DataFrame
    contracts: pd.DataFrame
    expected: pd.DataFrame
    truth: Mapping[str, Any]
    seed: int
    settings: Mapping[str, Any]

    #: Every figure and table drawn from these data says so.
    label = "SIMULATED"

    @property
    def source_line(self) -> str:
        """Attribution for figures: ``"Simulated marketplace, seed N"``."""
        return f"Simulated marketplace, seed {self.seed}"

    def __repr__(self) -> str:
        return (f"FreelancerMarket(SIMULATED, seed={self.seed}, "
                f"freelancers={len(self.freelancers)}, contracts={len(self.contracts)})")

    def implied_effect(self, outcome: str = "earnings", *, groups: pd.Series | None = None,
                       event: str = "chatgpt", by_period: bool = False) -> pd.DataFrame:
        """True effect of the design "exposed vs less exposed" in the PPML estimand.

        Parameters
        ----------
        outcome : {"jobs", "earnings"}
            Monthly jobs or monthly earnings.
        groups : pandas.Series, optional
            Label of each freelancer in the design (index ``freelancer_id``); freelancers not in
            the index are left out (e.g. those without pre-period work). Default: every
            freelancer, one group ``"all"``.
        event : str, default "chatgpt"
            Exposed freelancers are those whose home category has this event (and effects);
            the comparison freelancers those whose home category has no effective event.
        by_period : bool, default False
            Also by calendar month (``period``; the event-study truth).

        Returns
        -------
        pandas.DataFrame
            ``group`` (and ``period``), ``truth`` (log points) and ``truth_pct``: for each
            group, ``log(sum mu1 / sum mu0)`` over the exposed freelancers' active months from
            the event's first treated month on, minus the same over the comparison
            freelancers -- the population value of the PPML coefficient with freelancer and
            month fixed effects (exact for freelancers active throughout with one multiplier,
            to second order in the spread of multipliers otherwise).

        Raises
        ------
        OptionError
            For an unknown ``outcome`` or an event without a first treated month.
        """
        if outcome not in ("jobs", "earnings"):
            raise OptionError(f"outcome must be one of 'jobs', 'earnings'; got {outcome!r}.")
        first = self.truth["first_treated"].get(event)
        if first is None:
            raise OptionError(f"event must be one of {sorted(self.truth['first_treated'])}; "
                              f"got {event!r}.")
        f = self.freelancers.set_index("freelancer_id")
        ex = self.expected
        lab = (pd.Series("all", index=f.index) if groups is None
               else pd.Series(groups).astype(object))
        d = pd.DataFrame({"g": ex["freelancer_id"].map(lab).to_numpy(),
                          "ev": ex["freelancer_id"].map(f["event"]).to_numpy(),
                          "eff": ex["freelancer_id"].map(f["exposed"]).to_numpy(dtype=bool),
                          "period": ex["period"].to_numpy(),
                          "mu0": ex[f"mu0_{outcome}"].to_numpy(),
                          "mu1": ex[f"mu1_{outcome}"].to_numpy()})
        d = d[d["g"].notna() & (d["period"] >= pd.Timestamp(first))]
        side = np.where(d["eff"] & (d["ev"] == event), "exposed",
                        np.where(~d["eff"].to_numpy(), "control", "other"))
        d = d.assign(side=side)
        d = d[d["side"] != "other"]
        keys = ["g", "period"] if by_period else ["g"]
        s = d.groupby([*keys, "side"], sort=True)[["mu0", "mu1"]].sum()
        r = np.log(s["mu1"] / s["mu0"]).unstack("side")
        out = (r["exposed"] - r["control"]).rename("truth").reset_index()
        out = out.rename(columns={"g": "group"})
        out["truth_pct"] = 100 * np.expm1(out["truth"])
        return out

    # ---- safe save / load (the ZIP of JSON and Parquet of laborai's results; no pickle)
    def save(self, path: str | Path) -> Path:
        """Save the marketplace to ``path`` (a ZIP archive of JSON and Parquet; no pickle).

        The archive is the one laborai's results use (:mod:`laborai._store`): a
        ``result.json`` whose ``format`` is ``"laborai-freelancer-market"`` holding the
        truth, seed and settings as JSON (tagged objects for timestamps, tuples and mappings)
        and the three frames as Parquet members, plus the SHA-256 of every member and of the
        JSON tree, checked by :meth:`load`. Read it back with
        :meth:`FreelancerMarket.load`; the round trip is exact.

        Parameters
        ----------
        path : str or pathlib.Path
            File to write (its folder is created).

        Returns
        -------
        pathlib.Path
            The path written.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> import laborai as la
        >>> fm = la.simulate_freelancers(seed=1, n_freelancers=200)
        >>> p = fm.save(pathlib.Path(tempfile.mkdtemp()) / "market.zip")
        >>> back = la.FreelancerMarket.load(p)
        >>> back.seed, len(back.contracts) == len(fm.contracts)
        (1, True)
        """
        import hashlib
        import json
        import zipfile

        from laborai import __version__
        from laborai._store import _Writer

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        members: dict[str, str] = {}

        class _HashingWriter(_Writer):
            def member(self, folder: str, suffix: str, payload: bytes) -> str:
                name = super().member(folder, suffix, payload)
                members[name] = hashlib.sha256(payload).hexdigest()
                return name

        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            w = _HashingWriter(zf)
            tree = {name: w.encode(getattr(self, name), f"FreelancerMarket.{name}")
                    for name in _MARKET_FIELDS}
            head = {"format": _MARKET_FORMAT, "format_version": _MARKET_FORMAT_VERSION,
                    "laborai_version": __version__, "class": _MARKET_CLASS,
                    "members": members, "tree_sha256": _tree_digest(tree), "tree": tree}
            info = zipfile.ZipInfo("result.json", date_time=(1980, 1, 1, 0, 0, 0))
            zf.writestr(info, json.dumps(head, sort_keys=True, indent=1))
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> FreelancerMarket:
        """Load a marketplace written by :meth:`save`.

        Parameters
        ----------
        path : str or pathlib.Path
            The archive.

        Returns
        -------
        FreelancerMarket

        Raises
        ------
        DataFileNotFoundError
            No such file.
        DataValidationError
            Not a laborai archive, another laborai object (e.g. a saved result), an unknown
            format version, or a member or the JSON tree that does not match its recorded
            SHA-256 (a damaged or edited file).
        """
        import hashlib
        import json
        import zipfile

        from laborai._store import _Reader, deep_freeze
        from laborai.errors import DataFileNotFoundError

        p = Path(path)
        if not p.is_file():
            raise DataFileNotFoundError(f"{p}: no such FreelancerMarket file.")
        try:
            with zipfile.ZipFile(p) as zf:
                head = json.loads(zf.read("result.json"))
                if not isinstance(head, dict) or head.get("format") != _MARKET_FORMAT:
                    got = head.get("format") if isinstance(head, dict) else None
                    raise DataValidationError(
                        f"{p}: not a laborai FreelancerMarket file (format {got!r}, expected "
                        f"{_MARKET_FORMAT!r}); results load with laborai.did.load.")
                if head.get("format_version") != _MARKET_FORMAT_VERSION:
                    raise DataValidationError(
                        f"{p}: FreelancerMarket format version {head.get('format_version')!r}; "
                        f"this laborai reads version {_MARKET_FORMAT_VERSION}.")
                tree, members = head.get("tree"), head.get("members")
                if (not isinstance(tree, dict) or sorted(tree) != sorted(_MARKET_FIELDS)
                        or not isinstance(members, dict)):
                    raise DataValidationError(f"{p}: the archive does not hold the fields "
                                              f"{list(_MARKET_FIELDS)}; refusing it.")
                if head.get("tree_sha256") != _tree_digest(tree):
                    raise DataValidationError(f"{p}: the JSON tree does not match its recorded "
                                              "SHA-256: the file was edited or damaged.")
                names = {i.filename for i in zf.infolist()} - {"result.json"}
                if names != set(members):
                    raise DataValidationError(
                        f"{p}: {len(names ^ set(members))} archive member(s) differ from the "
                        f"recorded list (e.g. {sorted(names ^ set(members))[:3]}).")
                bad = sorted(n for n, h in members.items()
                             if hashlib.sha256(zf.read(n)).hexdigest() != h)
                if bad:
                    raise DataValidationError(
                        f"{p}: {len(bad)} member(s) do not match their recorded SHA-256 "
                        f"(first: {bad[:3]}): the file was edited or damaged.")
                fields = {k: _Reader(zf, str(p)).decode(v) for k, v in tree.items()}
        except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, OSError, ValueError,
                TypeError) as exc:
            if isinstance(exc, LaborAIError):
                raise
            raise DataValidationError(f"{p}: not a readable laborai FreelancerMarket file "
                                      f"({type(exc).__name__}: {exc}).") from None
        for name in ("freelancers", "contracts", "expected"):
            f = fields[name]
            if not isinstance(f, pd.DataFrame):
                raise DataValidationError(f"{p}: field {name!r} is not a table; refusing it.")
            for c in [c for c in f.columns if pd.api.types.is_object_dtype(f[c].dtype)]:
                # text columns with gaps (``event``) are written column by column in JSON;
                # their gaps are None in the simulator and come back as NaN: restore None
                f[c] = f[c].astype(object).where(f[c].notna(), None)
        if not isinstance(fields["seed"], int):
            raise DataValidationError(f"{p}: field 'seed' is not an integer; refusing it.")
        return cls(freelancers=fields["freelancers"], contracts=fields["contracts"],
                   expected=fields["expected"], truth=deep_freeze(fields["truth"]),
                   seed=int(fields["seed"]), settings=deep_freeze(fields["settings"]))


_MARKET_FORMAT = "laborai-freelancer-market"
_MARKET_FORMAT_VERSION = 1
_MARKET_CLASS = "laborai.data.freelancers:FreelancerMarket"
_MARKET_FIELDS = ("freelancers", "contracts", "expected", "truth", "seed", "settings")


def _tree_digest(tree: Any) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(tree, sort_keys=True).encode()).hexdigest()


def _effects(effects: str | Mapping[str, float]) -> dict[str, float]:
    if isinstance(effects, str):
        if effects == "published":
            return dict(FREELANCER_EFFECTS)
        if effects == "none":
            return dict(_NO_EFFECTS)
        raise OptionError(f"effects must be 'published', 'none' or a mapping; got {effects!r}.")
    if not isinstance(effects, Mapping):
        raise OptionError(f"effects must be 'published', 'none' or a mapping; got "
                          f"{type(effects).__name__}.")
    unknown = sorted(set(effects) - set(FREELANCER_EFFECTS))
    if unknown:
        raise OptionError(f"effects: unknown parameter(s) {unknown}; allowed: "
                          f"{sorted(FREELANCER_EFFECTS)} (missing ones default to 0).")
    out = dict(_NO_EFFECTS)
    for k, v in effects.items():
        try:
            fv = float(v)
        except (TypeError, ValueError) as err:
            raise OptionError(f"effects[{k!r}] must be a number (log points); got {v!r}.") from err
        if not np.isfinite(fv) or abs(fv) > 2:
            raise OptionError(f"effects[{k!r}] must be a finite log multiplier in [-2, 2]; "
                              f"got {v!r}.")
        out[k] = fv
    return out


def _month(x: Any, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(x)
    except (TypeError, ValueError) as err:
        raise OptionError(f"{name} must be a date such as '2022-01-01'; got {x!r}.") from err
    if ts is pd.NaT:
        raise OptionError(f"{name} must be a date such as '2022-01-01'; got {x!r}.")
    return ts.to_period("M").start_time


def _log_ratio(mu0: np.ndarray, mu1: np.ndarray, mask: np.ndarray) -> float:
    return float(np.log(mu1[mask].sum() / mu0[mask].sum())) if mask.any() else float("nan")


def simulate_freelancers(
    *,
    seed: int = 0,
    n_freelancers: int = 20_000,
    start: str | pd.Timestamp = "2022-01-01",
    end: str | pd.Timestamp = "2023-12-31",
    effects: str | Mapping[str, float] = "published",
    events: tuple[str, ...] = ("chatgpt",),
    adoption: Mapping[str, float] | None = None,
    share_active_at_start: float = 0.7,
    exit_rate: float = 0.015,
    mean_bids: float = 8.0,
    mean_win_prob: float = 0.15,
    home_share: float = 0.75,
    category_noise_sd: float = 0.04,
    noise_sd: float = 0.06,
    category_rho: float = DEFAULT_RHO,
    subcategory_rho: float = DEFAULT_RHO,
) -> FreelancerMarket:
    """Simulate freelancers who bid for and win contracts, with generative-AI effects.

    Parameters
    ----------
    seed : int, default 0
        Seed of the one :func:`numpy.random.default_rng` generator; same seed, same frames.
    n_freelancers : int, default 20,000
        Freelancers, spread evenly over the taxonomy's categories (each at a random
        subcategory of it).
    start, end : date, default 2022-01-01 and 2023-12-31
        First and last calendar month simulated.
    effects : "published", "none" or mapping, default "published"
        Effect parameters in log points (:data:`FREELANCER_EFFECTS`): ``jobs`` and
        ``earnings_per_job`` multiply the win probability and the earnings of each contract of
        exposed freelancers from their event's first treated month; ``top_jobs`` and
        ``top_earnings_per_job`` replace them for the top quartile of expected earnings (top
        earners hit harder); ``adopt_jobs`` and ``adopt_earnings_per_job`` apply on top to AI-tool
        adopters from their adoption month. ``"none"``: all zero. A mapping sets the keys it
        names and zeroes the rest.
    events : tuple of str, default ("chatgpt",)
        Taxonomy events (:func:`laborai.taxonomy.category_events`) that switch the effects on
        for the categories assigned to them (ChatGPT: Writing, Translation, Web/Mobile/Software
        development, Data Science). Other categories, including Design & Creative (image
        generators), are "less exposed".
    adoption : mapping, optional
        Share adopting AI tools by the end of the window, ``{"exposed": 0.30,
        "less_exposed": 0.10}`` by default; the odds rise with experience, the month is the
        ChatGPT month plus a geometric delay (mean 6 months).
    share_active_at_start : float, default 0.7
        Share of freelancers registered before ``start``; the rest enter at a uniform month.
    exit_rate : float, default 0.015
        Monthly probability of leaving (geometric spell; NaT exit if still active at ``end``).
    mean_bids, mean_win_prob : float, default 8 and 0.15
        Average bids per month and win probability (about 1.2 contracts a month).
    home_share : float, default 0.75
        Share of a freelancer's contracts in the home subcategory (the rest in other
        subcategories of the home category).
    category_noise_sd, noise_sd : float, default 0.04 and 0.06
        Standard deviations (log points) of the monthly demand shocks of each category and of
        each subcategory, as in :func:`laborai.simulate_marketplace` (calibrated on Indeed
        Hiring Lab series, ``docs/data/simulation.md``). A freelancer's bids in month ``t`` are
        multiplied by ``exp(c_kt + s_jt - (category_noise_sd**2 + noise_sd**2) / 2)`` for home
        category ``k`` and home subcategory ``j`` (mean one: expected outcomes are unchanged
        on average). ``0`` switches a level off; with both at 0 the frames are those of the
        shock-free simulator with the same seed. Because exposure is set by the category,
        these shocks are common to all freelancers of a treatment cluster: inference must
        be by category (see ``docs/freelancers.md``, "Inference").
    category_rho, subcategory_rho : float, default 0.8
        AR(1) coefficients of the category and subcategory shocks (stationary paths).

    Returns
    -------
    FreelancerMarket
        ``freelancers``, ``contracts``, ``expected``, ``truth``, ``seed``, ``settings``.

    Raises
    ------
    OptionError
        For bad sizes, dates, shares, effects or event names.

    Notes
    -----
    Freelancer ``i`` in active month ``t`` makes ``B_it ~ Poisson(b_i s_t)`` bids (``s_t`` a
    common seasonal factor, ``D_it`` the demand shock of its home category and subcategory, so
    really ``Poisson(b_i s_t D_it)``) and wins each with probability ``p_it = min(p_i M^J_it, 0.95)``;
    its jobs are ``Binomial(B_it, p_it)``, so ``E[jobs_it] = b_i s_t p_it``. A contract pays
    ``rate_i x hours x M^E_it`` with ``hours ~ Gamma(2, h_i / 2)`` (recorded for hourly
    contracts). The multipliers are ``M = exp(effect)`` as described under ``effects``. Rate,
    win probability, bids and hours per contract do not depend on the category, so exposure is
    independent of earning capacity. The truth of the design "exposed vs less exposed, PPML
    with freelancer and month fixed effects" is ``log(sum mu1 / sum mu0)`` of the exposed
    minus that of the less exposed over active months from the first treated month
    (:meth:`FreelancerMarket.implied_effect`). The truth is computed from expected outcomes
    averaged over the demand shocks (``E[D_it] = 1``): the shocks are noise, not part of the
    estimand, and the truth does not depend on their realisation. They are drawn from a
    second generator seeded by ``(seed, 1)``, so every other draw is the same as with
    the shocks switched off.

    References
    ----------
    Hui, X., Reshef, O. & Zhou, L. (2024). The short-term effects of generative artificial
    intelligence on employment: evidence from an online labor market. *Organization Science*
    35(6), 1977-1989.

    Examples
    --------
    >>> import laborai as la
    >>> fm = la.simulate_freelancers(seed=3, n_freelancers=300, effects="none")
    >>> fm.truth["pooled"]["jobs"]["log"]
    0.0
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise OptionError(f"seed must be a non-negative integer; got {seed!r}.")
    if (isinstance(n_freelancers, bool) or not isinstance(n_freelancers, (int, np.integer))
            or n_freelancers < 1):
        raise OptionError(f"n_freelancers must be a positive integer; got {n_freelancers!r}.")
    t0, t1 = _month(start, "start"), _month(end, "end")
    if t1 < t0:
        raise OptionError(f"end must not be before start; got start={start!r}, end={end!r}.")
    for name, v, lo, hi in (("share_active_at_start", share_active_at_start, 0, 1),
                            ("exit_rate", exit_rate, 0, 1), ("mean_win_prob", mean_win_prob, 0, 0.6),
                            ("home_share", home_share, 0, 1), ("mean_bids", mean_bids, 0, 1e4)):
        if not (isinstance(v, (int, float)) and lo <= float(v) <= hi) or (
                name in ("mean_win_prob", "mean_bids") and float(v) <= 0):
            raise OptionError(f"{name} must be a number in [{lo}, {hi}]; got {v!r}.")
    sds = {k: _check_sd(k, v) for k, v in (("category_noise_sd", category_noise_sd),
                                            ("noise_sd", noise_sd))}
    rhos = {k: _check_rho(k, v) for k, v in (("category_rho", category_rho),
                                             ("subcategory_rho", subcategory_rho))}
    eff = _effects(effects)
    ad = dict(_ADOPTION if adoption is None else adoption)
    if set(ad) != {"exposed", "less_exposed"} or not all(0 <= float(v) <= 1 for v in ad.values()):
        raise OptionError("adoption must map 'exposed' and 'less_exposed' to shares in [0, 1]; "
                          f"got {adoption!r}.")
    ev = taxonomy.category_events()
    known = sorted(set(taxonomy.event_dates()))
    bad = [e for e in events if e not in known]
    if bad:
        raise OptionError(f"events must be taxonomy events {known}; got {bad!r}.")

    rng = np.random.default_rng(seed)
    n = int(n_freelancers)
    grid = pd.date_range(t0, t1, freq="MS")
    T = len(grid)
    subs = taxonomy.subcategories()
    cats = taxonomy.category_names()
    ev_of = dict(zip(ev["category"], ev["event"], strict=True))
    date_of = dict(zip(ev["category"], ev["event_date"], strict=True))

    # --- who: home category (even spread) and subcategory
    cat_i = np.sort(rng.permutation(np.arange(n) % len(cats)))
    cat_names = np.asarray(cats, dtype=object)
    sub_lists = [subs.loc[subs["category"] == c, "subcategory"].to_numpy(dtype=object)
                 for c in cats]
    n_sub = np.array([len(s) for s in sub_lists])
    sub_k = np.floor(rng.random(n) * n_sub[cat_i]).astype(int)
    offsets = np.concatenate([[0], np.cumsum(n_sub)[:-1]])
    all_subs = np.concatenate(sub_lists)
    home_code = offsets[cat_i] + sub_k

    # --- when: entry, exit (active span on the grid, positions a..b inclusive)
    before = rng.random(n) < share_active_at_start
    a = np.where(before, 0, np.floor(rng.random(n) * T).astype(int))
    reg_back = np.floor(rng.exponential(24, n)).astype(int) + 1  # months registered before start
    dur = rng.geometric(exit_rate, n) if exit_rate > 0 else np.full(n, 10**6)
    b = a + dur - 1
    exits = b < T - 1
    b = np.minimum(b, T - 1)

    # --- how good: experience, rate, bids, win probability, hours, contract type
    exp_years = rng.gamma(1.5, 2.5, n)
    lexp = np.log1p(exp_years)
    lrate = np.log(22.0) + 0.30 * (lexp - lexp.mean()) + rng.normal(0, 0.45, n)
    rate = np.round(np.exp(lrate), 2)
    rel_rate = lrate - np.log(22.0) - 0.30 * (lexp - lexp.mean())
    logit0 = np.log(mean_win_prob / (1 - mean_win_prob))
    p_base = 1 / (1 + np.exp(-(logit0 + 0.35 * (lexp - lexp.mean()) - 0.5 * rel_rate
                               + rng.normal(0, 0.35, n))))
    p_base = np.minimum(p_base, 0.6)
    bids = mean_bids * rng.lognormal(-0.125, 0.5, n)
    hours_mean = 12.0 * rng.lognormal(-0.045, 0.3, n)
    hourly_share = rng.beta(3, 2, n)
    season = 1 + 0.06 * np.sin(2 * np.pi * (grid.month.to_numpy() - 3) / 12)
    cap = bids * p_base * rate * hours_mean  # expected monthly earnings in an average month
    top = cap >= np.quantile(cap, 0.75)

    # --- exposure and first treated month (the one timing rule)
    event_i = np.array([ev_of[c] for c in cat_names], dtype=object)[cat_i]
    exposed = np.isin(event_i.astype(str), np.asarray(events, dtype=str)) & pd.notna(event_i)
    cat_pos = _timing.event_positions(grid, pd.Series([date_of[c] for c in cats]), "first_full")
    g_pos = np.where(exposed, cat_pos[cat_i], np.inf)
    chat_date = taxonomy.event_dates()["chatgpt"]
    chat_pos = float(_timing.event_positions(grid, pd.Series([chat_date]), "first_full")[0])

    # --- adoption of AI tools (from the ChatGPT month on)
    share = np.where(exposed, ad["exposed"], ad["less_exposed"])
    tilt = np.exp(0.5 * (lexp - lexp.mean()))
    adopt = rng.random(n) < np.minimum(share * tilt / tilt.mean(), 1.0)
    adopt_pos = chat_pos + rng.geometric(1 / 6, n) - 1
    adopt_pos = np.where(adopt & (adopt_pos <= b) & (adopt_pos < T), np.maximum(adopt_pos, a),
                         np.inf)

    # --- multipliers per freelancer x month
    t_idx = np.arange(T)
    post = t_idx[None, :] >= g_pos[:, None]
    adopted = t_idx[None, :] >= adopt_pos[:, None]
    ej = np.where(top, eff["top_jobs"], eff["jobs"])[:, None] * post + eff["adopt_jobs"] * adopted
    ee = (np.where(top, eff["top_earnings_per_job"], eff["earnings_per_job"])[:, None] * post
          + eff["adopt_earnings_per_job"] * adopted)
    active = (t_idx[None, :] >= a[:, None]) & (t_idx[None, :] <= b[:, None])
    p0 = np.minimum(p_base[:, None] * np.ones(T), 0.95)
    p1 = np.minimum(p_base[:, None] * np.exp(ej), 0.95)
    # demand shocks: category and subcategory AR(1) paths (second generator), mean one
    r_shock = np.random.default_rng([int(seed), 1])
    c_shock = _ar1(r_shock.standard_normal((len(cats), T)), rhos["category_rho"],
                   sds["category_noise_sd"])
    s_shock = _ar1(r_shock.standard_normal((len(all_subs), T)), rhos["subcategory_rho"],
                   sds["noise_sd"])
    var = sds["category_noise_sd"] ** 2 + sds["noise_sd"] ** 2
    shock = np.exp(c_shock[cat_i] + s_shock[home_code] - var / 2)  # (freelancer, month)
    lam = bids[:, None] * season[None, :]
    lam_d = lam * shock if var > 0 else lam
    n_bids = rng.poisson(lam_d * active)
    jobs = rng.binomial(n_bids, p1)

    # --- contracts (one per won bid)
    fi, ti = np.nonzero(jobs)
    reps = jobs[fi, ti]
    cf = np.repeat(fi, reps)
    ct = np.repeat(ti, reps)
    m = len(cf)
    hours = rng.gamma(2.0, hours_mean[cf] / 2.0)
    mult = np.exp(ee[cf, ct])
    is_hourly = rng.random(m) < hourly_share[cf]
    billed = hours * mult
    earn = np.round(rate[cf] * billed, 2)
    at_home = rng.random(m) < home_share
    other = np.floor(rng.random(m) * n_sub[cat_i[cf]]).astype(int)
    sub_code = np.where(at_home, home_code[cf], offsets[cat_i[cf]] + other)
    days_in = grid.days_in_month.to_numpy()[ct]
    day = np.floor(rng.random(m) * days_in).astype("timedelta64[D]")
    start_d = grid.to_numpy().astype("datetime64[D]")[ct] + day
    end_d = start_d + (1 + np.floor(rng.exponential(20, m))).astype("timedelta64[D]")
    fid = np.arange(n)
    contracts = pd.DataFrame({
        "contract_id": _ids("C", np.arange(m), 8),
        "post_id": _ids("J", rng.permutation(m), 8),
        "freelancer_id": _ids("F", cf, 6),
        "category": _take(cat_names, cat_i[cf]),
        "subcategory": _take(all_subs, sub_code),
        "start_date": start_d.astype("datetime64[ns]"),
        "end_date": end_d.astype("datetime64[ns]"),
        "contract_type": _take(["fixed", "hourly"], is_hourly.astype(np.int32)),
        "hours": np.where(is_hourly, np.round(billed, 2), np.nan),
        "earnings_usd": earn,
    })

    # --- freelancers table
    fid_s = _ids("F", fid, 6)
    grid_ns = grid.to_numpy()
    entry_month = pd.DatetimeIndex(grid_ns[a]).to_period("M")
    entry_month = (entry_month - np.where(before, reg_back, 0)).to_timestamp()
    adopt_m = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = np.isfinite(adopt_pos)
    adopt_m[ok] = grid_ns[adopt_pos[ok].astype(int)]
    exit_m = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    exit_m[exits] = grid_ns[b[exits]]
    freelancers = pd.DataFrame({
        "freelancer_id": fid_s,
        "category": _take(cat_names, cat_i),
        "subcategory": _take(all_subs, home_code),
        "event": pd.Series(event_i, dtype=object).where(pd.notna(event_i), None),
        "exposed": exposed,
        "entry_month": entry_month.astype("datetime64[ns]"),
        "exit_month": exit_m,
        "experience_years": np.round(exp_years, 2),
        "hourly_rate_usd": rate,
        "bids_per_month": bids,
        "win_prob": p_base,
        "hourly_share": hourly_share,
        "hours_per_contract": hours_mean,
        "expected_earnings": cap,
        "top_earner": top,
        "adoption_month": adopt_m,
    })

    # --- expected outcomes of the active cells and the truth
    ai, at = np.nonzero(active)
    mu0_j = (lam * p0)[ai, at]
    mu1_j = (lam * p1)[ai, at]
    per_job = (rate * hours_mean)[ai]
    mu0_e = mu0_j * per_job
    mu1_e = mu1_j * per_job * np.exp(ee[ai, at])
    expected = pd.DataFrame({"freelancer_id": pd.Categorical.from_codes(ai, pd.Index(fid_s)), "period": grid_ns[at],
                             "mu0_jobs": mu0_j, "mu1_jobs": mu1_j,
                             "mu0_earnings": mu0_e, "mu1_earnings": mu1_e,
                             "demand_shock": shock[ai, at]})
    first_treated = {e: grid[int(p)] if (p := float(_timing.event_positions(
        grid, pd.Series([taxonomy.event_dates()[e]]), "first_full")[0])) < T else None
        for e in events}

    def implied(sel: np.ndarray) -> dict[str, dict[str, float]]:
        out = {}
        cell_post = at >= chat_pos
        ex_c = (exposed & (event_i == "chatgpt"))[ai] & cell_post & sel[ai]
        co_c = ~exposed[ai] & cell_post & sel[ai]
        for name, (m0, m1) in (("jobs", (mu0_j, mu1_j)), ("earnings", (mu0_e, mu1_e))):
            v = _log_ratio(m0, m1, ex_c) - _log_ratio(m0, m1, co_c)
            v = 0.0 if v == 0 else v
            out[name] = {"log": v, "percent": float(100 * np.expm1(v))}
        return out

    truth = {
        "parameters": dict(eff),
        "adoption": ad,
        "first_treated": first_treated,
        "estimand": ("log(sum mu1 / sum mu0) of exposed (ChatGPT) minus less-exposed "
                     "freelancers over active months from the first treated month: the PPML "
                     "coefficient with freelancer and month fixed effects"),
        "shocks": ("expected outcomes are averaged over the mean-one category and subcategory "
                   "demand shocks: the truth does not depend on their realisation"),
        "pooled": implied(np.ones(n, dtype=bool)),
        "top": implied(top),
        "not_top": implied(~top),
        "n_adopters": int(ok.sum()),
    }
    settings = {
        "seed": int(seed), "n_freelancers": n, "start": str(t0.date()), "end": str(t1.date()),
        "effects": effects if isinstance(effects, str) else dict(eff), "events": tuple(events),
        "adoption": ad, "share_active_at_start": float(share_active_at_start),
        "exit_rate": float(exit_rate), "mean_bids": float(mean_bids),
        "mean_win_prob": float(mean_win_prob), "home_share": float(home_share),
        "category_noise_sd": sds["category_noise_sd"], "noise_sd": sds["noise_sd"],
        "category_rho": rhos["category_rho"], "subcategory_rho": rhos["subcategory_rho"],
        "timing": "first_full", "simulated": True,
    }
    if m == 0:
        raise DataValidationError("simulate_freelancers: no contract was won; raise "
                                  "n_freelancers, mean_bids or mean_win_prob.")
    from laborai._store import deep_freeze

    return FreelancerMarket(freelancers=freelancers, contracts=contracts, expected=expected,
                            truth=deep_freeze(truth), seed=int(seed),
                            settings=deep_freeze(settings))
