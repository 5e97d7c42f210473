"""Monte Carlo validity of every public inference path's default (issue 11, item 6).

Size, coverage and power of the *default* inference of laborai's estimators in the package's
central design: treatment by category, category clusters, monthly category x value-tier panel
(2020-01 to 2024-06), on simulated marketplaces. Every estimator is called through its public
function with its defaults (only the design arguments -- columns, ``cluster="category"`` where the
function takes a cluster -- are given), and p-values and intervals are read from ``tidy()`` or
documented attributes, so the harness follows the defaults as they change.

Data
    ``la.simulate_marketplace(seed, n_posts=300_000, effects=..., events={"chatgpt":
    "2022-12-01"}[, text=False])`` -> ``la.build_panel(job_posts, contracts)`` ->
    ``la.exposure.add_event_dates(panel, assignment, overrides={"chatgpt": "2022-12-01"})``.
    ChatGPT (30 Nov 2022) is dated 1 Dec 2022 in both the simulator and the exposure
    assignment (image generators are already dated 1 Jul 2022), so that the simulated step
    starts with a panel month and every timing rule (``"first_full"``, ``"containing"``) treats
    the same months: the truth below is then exact, whatever timing default the estimators use
    (with 30 Nov, November carries one day of effect -- an attenuation that is a timing question,
    not an inference one). Outcome: ``log_n_posts`` (log job posts), for which the simulator's
    truth is exact in every post month. The simulator's shocks are whatever its defaults are
    (serially correlated AR(1) category and subcategory shocks once issue 11 item 5 lands; the
    output records the simulator's parameters and whether it has AR(1) options).

Scenarios (one replication = one seed per marketplace kind; kinds ``no_effect``, ``effects``,
``pretrend``; the names avoid "null", which pandas reads as missing)
    ``no_effect``      ``effects="none"``; default exposure assignment (Writing, Translation,
                       Web/Mobile/Software Dev, Data Science: ChatGPT; Design & Creative: image
                       generators; 7 never exposed).
    ``no_effect_few``  the same marketplace with 2 treated categories (Writing, Translation;
                       ``add_event_dates(assignment=...)``), 10 never-treated.
    ``alt``            default effects (``effects=None``); default assignment.
    ``pretrend``       default effects plus a linear differential trend in the exposed
                       categories, ``simulate_marketplace(pre_trend=12 * PRETREND_SLOPE)`` (log
                       points per year, ``pre_trend_shape="linear"``): ``delta(e) =
                       PRETREND_SLOPE * (e + 1)`` at event time ``e`` relative to the reference
                       period, continuing after the event. Used for ``honest``: the ratio of the
                       largest post- to pre-period consecutive change is at most 1, so the
                       violation lies in ``Delta^RM(Mbar)`` for every ``Mbar >= 1`` (and the
                       rows ``mbar=0.5`` are *not* guaranteed to cover). With a simulator
                       without the option (``SIM_PRETREND``), the same trend is added to the
                       treated units' outcome in the estimating panel (fallback code path).

Designs and true targets (computed from ``m.truth``)
    *Pooled design* (``twfe``, ``event_study``, ``estimate_effects`` with ``by=()``,
    ``att_gt``, ``sun_abraham``, ``sdid``, ``wild_cluster_bootstrap``, ``ri_test``, ``honest``):
    the low tier only (units = categories = clusters), the ChatGPT-treated categories as treated
    with one adoption date (December 2022), never-exposed categories as controls; units assigned
    another event (Design & Creative under the default assignment) are left out, so the
    estimand is well defined: 11 clusters with 4 treated (``no_effect``/``alt``/``pretrend``) or 12
    with 2 treated (``no_effect_few``). With a balanced panel and one adoption date TWFE, the event-study post
    coefficients, estimate_effects pooled, the Callaway-Sant'Anna simple and dynamic
    aggregations, Sun-Abraham's IW estimates and SDID's ATT all target the **equally weighted
    mean of the treated categories' true low-tier effects** (each treated unit has the same
    number of post periods and the effect is a step); pre-period coefficients target 0.
    *Per-group design* (``estimate_effects`` default ``by=("category", "value_tier")``): the full
    panel (24 units, both tiers, default assignment with both event dates); target per group:
    its own true effect in ``m.truth``.
    *DDD* (``ddd``): the pooled design with both tiers (post = period on or after December
    2022, a period-only indicator); targets ``did_low`` = mean true low-tier effect,
    ``did_high`` = mean true high-tier effect, ``ddd`` = their difference (equal weights by the
    same balanced, common-adoption argument).
    *HonestDiD* (``honest``, defaults: relative magnitudes, ``Mbar`` in 0.5, 1, 1.5, 2, target
    the first post period): on ``event_study`` of the pooled design with its default window
    and inference (placebo: the window is fitted to the control clusters so that ``sigma`` is
    full rank); target: the first post-period effect (the mean low-tier effect).

Methods and what is validated (5% level; reject when ``p_value <= 0.05``; an interval covers
when ``conf_low <= truth <= conf_high``)
    ``twfe``              beta (default vcov; ``cluster="category"``).
    ``event_study``       ``pretrend`` (result.pretrend["p_value"]; no pre-trend in any scenario
                          here, so its rejection rate is a size everywhere), ``pointwise``
                          (point_conf_low/high per event time), ``sup_t`` (conf_low/high: the
                          whole path covered; rejection = some event time excludes 0).
    ``estimate_effects``  ``per_group`` (by category x tier, default ``cluster="category"``).
    ``estimate_effects_pooled``  ``by=()`` on the pooled design.
    ``ddd``               ``did_low``, ``ddd``, ``did_high`` (``cluster="category"``).
    ``att_gt``            ``simple``, ``dynamic`` (overall average over e >= 0, from the
                          aggregation's documented ``overall_estimate``/``overall_std_error``,
                          normal interval), ``dynamic_pre``/``dynamic_post`` (each event time),
                          ``pretest`` (``ATTgtResult.pretest()``; None is recorded as an error).
                          No cluster argument given: its default is the unit = category here.
    ``sun_abraham``       ``pre`` / ``post`` event-time coefficients (default cluster: the unit,
                          which is the category here).
    ``sdid``              ``att`` (placebo SE, its default; no cluster option: placebo
                          reassignment of control units = categories).
    ``wild_cluster_bootstrap``  beta, ``cluster="category"``, unit and period fixed effects.
    ``ri_test``           beta: size and power only (it returns no interval).
    ``honest``            ``original`` and ``mbar=...`` rows: coverage of the first post-period
                          effect; in ``pretrend`` the violation is inside Mbar >= 1.

For each method x target x scenario the table reports the rejection rate where the truth is 0
(size), where it is not (power), and the coverage of the truth, each with its Monte Carlo
standard error (clustered by replication when a replication contributes several estimates, which
reduces to the binomial ``sqrt(p (1 - p) / R)`` for one estimate per replication). The pass band
is size in [3%, 7.5%] and coverage in [92.5%, 97%]; cells outside it are marked.

Running
    Panels are cached as Parquet under ``build/validity/panels/`` (keyed by marketplace kind,
    seed, ``n_posts`` and a hash of the simulator's source), per-method results are appended to
    ``build/validity/results/<method>.csv`` after every replication (keyed by a hash of
    laborai's estimator and simulator sources), and ``--resume`` skips what is there.
    Replications run in a ``multiprocessing`` pool of ``--jobs`` workers with BLAS
    single-threaded. Usage::

        nice .venv/bin/python benchmarks/inference_validity.py --reps-null 500 --reps-alt 500 \\
            --jobs 2 --out build/validity/table.md --resume [--reps sdid=200,honest=200] \\
            [--methods twfe,event_study] [--n-posts 100000] [--seed 11]

References: MacKinnon & Webb (2017, 2020); Cameron, Gelbach & Miller (2008); Rambachan & Roth
(2023); Callaway & Sant'Anna (2021); Sun & Abraham (2021); Arkhangelsky et al. (2021).
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
           "NUMBA_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import inspect  # noqa: E402
import math  # noqa: E402
import multiprocessing as mp  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable, Iterable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import laborai as la  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "validity"
OUTCOME = "log_n_posts"
CHATGPT_DATE = "2022-12-01"
EVENTS = {"chatgpt": CHATGPT_DATE}
FEW_TREATED = ("Translation", "Writing")
PRETREND_SLOPE = 0.005  # log points per month of differential trend (pretrend scenario)
ALPHA = 0.05
N_POSTS = 300_000  # the calibrated simulator leaves empty low/high cells at 100,000 posts
SIZE_BAND = (0.03, 0.075)
COVER_BAND = (0.925, 0.97)
#: Name of the simulator's differential pre-trend option, once it exists (see module docstring).
SIM_PRETREND = "pre_trend"

KINDS: dict[str, tuple[str, ...]] = {
    "no_effect": ("no_effect", "no_effect_few"), "effects": ("alt",), "pretrend": ("pretrend",)}
RESULT_COLUMNS = ["code_hash", "method", "kind", "rep", "seed", "scenario", "target", "term",
                  "estimate", "std_error", "p_value", "conf_low", "conf_high", "truth", "reject",
                  "covered", "seconds", "warnings", "error"]


# ----------------------------------------------------------------------------- fingerprints
def _source_hash(modules: Iterable[Any]) -> str:
    h = hashlib.sha256()
    for mod in modules:
        try:
            h.update(inspect.getsource(mod).encode())
        except (OSError, TypeError):  # pragma: no cover
            h.update(repr(mod).encode())
    return h.hexdigest()[:12]


def sim_hash() -> str:
    """Hash of the simulator's source: cached panels are invalid when it changes."""
    return _source_hash([la.data.simulate, la.panel, la.exposure])


def code_hash() -> str:
    """Hash of the estimators' and simulator's sources: results are keyed by it."""
    import laborai.did as did_pkg

    mods = [did_pkg] + [sys.modules[n] for n in sorted(sys.modules)
                        if n.startswith("laborai.did.") or n in ("laborai._timing",
                                                                "laborai._validation")]
    return _source_hash(mods) + "-" + sim_hash()


def sim_options() -> dict[str, Any]:
    """Keyword arguments of ``simulate_marketplace`` that this harness uses when present."""
    params = inspect.signature(la.simulate_marketplace).parameters
    return {"text": False} if "text" in params else {}


def simulator_features() -> dict[str, Any]:
    params = inspect.signature(la.simulate_marketplace).parameters
    return {
        "parameters": {k: (None if v.default is inspect.Parameter.empty else v.default)
                       for k, v in params.items() if k not in ("seed", "n_posts", "effects")},
        "ar1": any("ar" in k.split("_") or "rho" in k for k in params),
        "pre_trend_option": SIM_PRETREND in params,
        "text_option": "text" in params,
    }


# ----------------------------------------------------------------------------- data
def rep_seed(base: int, kind: str, rep: int) -> int:
    return int(np.random.SeedSequence([base, list(KINDS).index(kind), rep]).generate_state(1)[0])


def marketplace_panel(seed: int, kind: str, n_posts: int, *, cache: bool = True
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Base panel (``build_panel``) and truth of one simulated marketplace, cached as Parquet."""
    key = f"{kind}_n{n_posts}_s{seed}_{sim_hash()}"
    pdir = BUILD / "panels"
    fp, ft = pdir / f"{key}.parquet", pdir / f"{key}_truth.parquet"
    if cache and fp.exists() and ft.exists():
        return pd.read_parquet(fp), pd.read_parquet(ft)
    effects = "none" if kind == "no_effect" else None
    extra = sim_options()
    if kind == "pretrend" and simulator_features()["pre_trend_option"]:
        extra[SIM_PRETREND] = 12 * PRETREND_SLOPE  # log points per year, linear shape
    m = la.simulate_marketplace(seed=seed, n_posts=n_posts, effects=effects, events=EVENTS,
                                **extra)
    panel = la.build_panel(m.job_posts, m.contracts)
    if cache:
        pdir.mkdir(parents=True, exist_ok=True)
        tmp = fp.with_suffix(".tmp")
        panel.to_parquet(tmp)
        tmp.replace(fp)
        tmp = ft.with_suffix(".tmp")
        m.truth.to_parquet(tmp)
        tmp.replace(ft)
    return panel, m.truth


def assignment_for(scenario: str) -> dict[str, str | None] | None:
    if scenario == "no_effect_few":
        return {c: ("chatgpt" if c in FEW_TREATED else None) for c in la.taxonomy.category_names()}
    return None


class Design:
    """The panels and true targets of one scenario on one marketplace."""

    def __init__(self, base: pd.DataFrame, truth: pd.DataFrame, scenario: str) -> None:
        self.scenario = scenario
        full = la.exposure.add_event_dates(base, assignment_for(scenario), overrides=EVENTS)
        self.full = full
        ev = full["event"].astype("object").where(full["exposed"], None)
        keep = (ev.isna() | (ev == "chatgpt")) & full["value_tier"].isin(["low", "high"])
        both = full.loc[keep].copy()  # the posts without a contract value form no tier
        post_time = (both["period"] >= pd.Timestamp(CHATGPT_DATE)).astype("int64")
        both["post_time"] = post_time
        both["exposed_i"] = both["exposed"].astype("int64")
        both["high"] = (both["value_tier"] == "high").astype("int64")
        if scenario == "pretrend" and not simulator_features()["pre_trend_option"]:
            # Fallback for a simulator without a differential pre-trend option: the same
            # linear violation added to the treated units' outcome in the estimating panel.
            pos = both["t"] - both.loc[both["period"] == pd.Timestamp(CHATGPT_DATE), "t"].iloc[0]
            both[OUTCOME] = both[OUTCOME] + PRETREND_SLOPE * both["exposed_i"] * pos
        first = both.loc[both["treated_post"] == 1].groupby("unit")["t"].min()
        both["gname"] = both["unit"].map(first).fillna(0).astype("int64")
        self.both = both.reset_index(drop=True)
        self.low = self.both.loc[self.both["value_tier"] == "low"].reset_index(drop=True)
        self.treated = sorted(self.low.loc[self.low["exposed"], "category"].unique())
        tr = truth.loc[truth["outcome"] == OUTCOME].set_index(["category", "value_tier"])["effect"]
        if scenario.startswith("no_effect"):
            tr = tr * 0.0
        self.group_truth = tr
        self.tau_low = float(np.mean([tr[(c, "low")] for c in self.treated]))
        self.tau_high = float(np.mean([tr[(c, "high")] for c in self.treated]))


# ----------------------------------------------------------------------------- records
def _f(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def rec(target: str, truth: float, row: Any = None, *, term: str = "", **kw: Any) -> dict[str, Any]:
    """One estimate: reads estimate/std_error/p_value/conf_low/conf_high from a tidy row."""
    get = (lambda k: row.get(k, math.nan)) if row is not None else (lambda k: math.nan)
    r: dict[str, Any] = {"target": target, "term": term or str(get("term")), "truth": truth}
    for k in ("estimate", "std_error", "p_value", "conf_low", "conf_high"):
        r[k] = _f(kw.pop(k)) if k in kw else _f(get(k))
    lo, hi = r["conf_low"], r["conf_high"]
    if not math.isnan(r["p_value"]):
        r["reject"] = r["p_value"] <= ALPHA
    elif not (math.isnan(lo) or math.isnan(hi)):  # a confidence set without a p-value
        r["reject"] = not (lo <= 0.0 <= hi)
    else:
        r["reject"] = math.nan
    r["covered"] = (lo <= truth <= hi) if not (math.isnan(lo) or math.isnan(hi)) else math.nan
    r.update(kw)
    return r


def _rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    return df.to_dict("records")


# ----------------------------------------------------------------------------- methods
def m_twfe(d: Design) -> list[dict[str, Any]]:
    res = la.did.twfe(d.low, yname=OUTCOME, dname="treated_post", idname="unit", tname="period",
                      cluster="category")
    tab = res.tidy()
    return [rec("beta", d.tau_low, _rows(tab.loc[tab["term"] == "treated_post"])[0])]


def _event_study(d: Design, **kw: Any) -> Any:
    return la.did.event_study(d.low, yname=OUTCOME, idname="unit", tname="period",
                              event_date="event_date", cluster="category", **kw)


def m_event_study(d: Design) -> list[dict[str, Any]]:
    res = _event_study(d)
    out = [rec("pretrend", 0.0, p_value=res.pretrend["p_value"])]
    tab = res.tidy()
    cover_all, reject_any = True, False
    for r in _rows(tab):
        k = int(r["event_time"])
        truth = d.tau_low if k >= 0 else 0.0
        out.append(rec("pointwise", truth, r, conf_low=r["point_conf_low"],
                       conf_high=r["point_conf_high"]))
        cover_all &= bool(r["conf_low"] <= truth <= r["conf_high"])
        reject_any |= bool(r["conf_low"] > 0 or r["conf_high"] < 0)
    out.append({"target": "sup_t", "term": "path", "truth": d.tau_low, "reject": reject_any,
                "covered": cover_all})
    return out


def m_estimate_effects(d: Design) -> list[dict[str, Any]]:
    res = la.estimate_effects(d.full, outcomes=[OUTCOME])
    out = []
    for r in _rows(res.tidy()):
        truth = float(d.group_truth[(r["category"], r["value_tier"])])
        out.append(rec("per_group", truth, r, term=f"{r['category']} | {r['value_tier']}"))
    return out


def m_estimate_effects_pooled(d: Design) -> list[dict[str, Any]]:
    res = la.estimate_effects(d.low, outcomes=[OUTCOME], by=())
    return [rec("pooled", d.tau_low, r) for r in _rows(res.tidy())]


def m_ddd(d: Design) -> list[dict[str, Any]]:
    res = la.did.ddd(d.both, yname=OUTCOME, idname="unit", tname="period", dname="exposed_i",
                     post="post_time", pname="high", cluster="category")
    tab = res.tidy()
    truths = {"did_low": d.tau_low, "ddd": d.tau_high - d.tau_low, "did_high": d.tau_high}
    terms = {"exposed:post": "did_low", "exposed:post:high": "ddd",
             "exposed:post [high tier]": "did_high"}
    out = []
    for r in _rows(tab):
        name = r.get("effect") if isinstance(r.get("effect"), str) else terms.get(str(r["term"]))
        if name in truths:
            out.append(rec(name, truths[name], r))
    if len(out) != 3:
        raise RuntimeError(f"ddd: expected did_low, ddd, did_high rows; got {tab['term'].tolist()}")
    return out


def m_att_gt(d: Design) -> list[dict[str, Any]]:
    res = la.did.att_gt(d.low, yname=OUTCOME, tname="t", idname="unit", gname="gname")
    simple = res.aggregate("simple")
    out = [rec("simple", d.tau_low, _rows(simple.tidy())[0])]
    dyn = res.aggregate("dynamic")
    # the overall row of the dynamic aggregation, with the result's own p-value and interval
    # (t(J - 1) under placebo inference, normal under the analytic one)
    tab = dyn.tidy()
    out.append(rec("dynamic", d.tau_low, _rows(tab[tab["term"] == "overall"])[0]))
    for r in _rows(dyn.tidy()):
        if "event_time" in r and not pd.isna(r["event_time"]):
            post = int(r["event_time"]) >= 0
            out.append(rec("dynamic_post" if post else "dynamic_pre",
                           d.tau_low if post else 0.0, r))
    pt = res.pretest()
    if pt is None:
        out.append(rec("pretest", 0.0, term="pretest",
                       error="ATTgtResult.pretest() returned None (no test)"))
    else:
        out.append(rec("pretest", 0.0, term="pretest", p_value=pt.p_value))
    return out


def m_sun_abraham(d: Design) -> list[dict[str, Any]]:
    res = la.did.sun_abraham(d.low, yname=OUTCOME, idname="unit", tname="t", gname="gname")
    out = []
    for r in _rows(res.tidy()):
        post = int(r["event_time"]) >= 0
        out.append(rec("post" if post else "pre", d.tau_low if post else 0.0, r))
    return out


def m_sdid(d: Design) -> list[dict[str, Any]]:
    res = la.did.sdid(d.low, yname=OUTCOME, idname="unit", tname="period", dname="treated_post")
    return [rec("att", d.tau_low, _rows(res.tidy())[0])]


def m_wild(d: Design) -> list[dict[str, Any]]:
    res = la.did.wild_cluster_bootstrap(d.low, yname=OUTCOME, dname="treated_post",
                                        cluster="category", idname="unit", tname="period")
    return [rec("beta", d.tau_low, _rows(res.tidy())[0])]


def m_ri(d: Design) -> list[dict[str, Any]]:
    # the assignment ri_test permutes: the treated categories, post from the ChatGPT date
    ri_d = (d.low["category"].isin(d.treated)
            & (d.low["period"] >= pd.Timestamp(CHATGPT_DATE))).astype("int64")
    res = la.did.ri_test(d.low.assign(ri_d=ri_d), yname=OUTCOME, idname="unit", tname="period",
                         dname="ri_d", cluster="category")
    return [rec("beta", d.tau_low, _rows(res.tidy())[0])]


def m_honest(d: Design) -> list[dict[str, Any]]:
    es = _event_study(d)
    res = la.did.honest(es)
    out = []
    for r in _rows(res.tidy()):
        target = "original" if r.get("method") == "original" else f"mbar={_f(r.get('m')):g}"
        out.append(rec(target, d.tau_low, r))
    return out


METHODS: dict[str, tuple[Callable[[Design], list[dict[str, Any]]], tuple[str, ...]]] = {
    # method: (function, scenarios it runs in)
    "twfe": (m_twfe, ("no_effect", "no_effect_few", "alt")),
    "event_study": (m_event_study, ("no_effect", "no_effect_few", "alt")),
    "estimate_effects": (m_estimate_effects, ("no_effect", "no_effect_few", "alt")),
    "estimate_effects_pooled": (m_estimate_effects_pooled, ("no_effect", "no_effect_few", "alt")),
    "ddd": (m_ddd, ("no_effect", "no_effect_few", "alt")),
    "att_gt": (m_att_gt, ("no_effect", "no_effect_few", "alt")),
    "sun_abraham": (m_sun_abraham, ("no_effect", "no_effect_few", "alt")),
    "sdid": (m_sdid, ("no_effect", "no_effect_few", "alt")),
    "wild_cluster_bootstrap": (m_wild, ("no_effect", "no_effect_few", "alt")),
    "ri_test": (m_ri, ("no_effect", "no_effect_few", "alt")),
    "honest": (m_honest, ("no_effect", "alt", "pretrend")),
}


def run_method(name: str, d: Design) -> list[dict[str, Any]]:
    """Run one method on one design; a failure becomes one record with the error message."""
    fn = METHODS[name][0]
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = fn(d)
        except Exception as e:  # one failure must not stop the run
            out = [{"target": "error", "term": "", "truth": math.nan, "reject": math.nan,
                    "covered": math.nan, "error": f"{type(e).__name__}: {e}"[:500]}]
    secs = time.perf_counter() - t0
    wn = ";".join(sorted({w.category.__name__ for w in caught}))
    for r in out:
        r.setdefault("error", "")
        r["seconds"] = secs / len(out)
        r["warnings"] = wn
        r["scenario"] = d.scenario
    return out


# ----------------------------------------------------------------------------- replications
def run_unit(args: tuple[str, int, int, int, tuple[str, ...], str, bool]
             ) -> dict[str, list[dict[str, Any]]]:
    """One replication of one marketplace kind: every scenario of the kind, every method."""
    kind, rep, base_seed, n_posts, methods, chash, cache = args
    seed = rep_seed(base_seed, kind, rep)
    base, truth = marketplace_panel(seed, kind, n_posts, cache=cache)
    designs = {s: Design(base, truth, s) for s in KINDS[kind]
               if any(s in METHODS[m][1] for m in methods)}
    out: dict[str, list[dict[str, Any]]] = {}
    for m in methods:
        recs = []
        for s in METHODS[m][1]:
            if s in designs:
                recs += run_method(m, designs[s])
        for r in recs:
            r.update(code_hash=chash, method=m, kind=kind, rep=rep, seed=seed)
        out[m] = recs
    return out


def _init_worker() -> None:
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover
        pass
    warnings.simplefilter("ignore")


def results_path(method: str) -> Path:
    return BUILD / "results" / f"{method}.csv"


def load_results(methods: Sequence[str], chash: str | None = None) -> pd.DataFrame:
    frames = [pd.read_csv(results_path(m), keep_default_na=False, na_values=["", "nan"])
              for m in methods if results_path(m).exists()]
    if not frames:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    res = pd.concat(frames, ignore_index=True)
    if chash is not None:
        res = res.loc[res["code_hash"] == chash]
    # a unit run twice (a rerun without --resume, or two runs sharing the directory) counts once
    key = ["code_hash", "method", "kind", "rep", "scenario", "target", "term"]
    return res.drop_duplicates(subset=key, keep="last").reset_index(drop=True)


def append_results(method: str, recs: list[dict[str, Any]]) -> None:
    path = results_path(method)
    path.parent.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(recs).reindex(columns=RESULT_COLUMNS)
    df.to_csv(path, mode="a", header=not path.exists(), index=False, float_format="%.10g")


def parse_reps(spec: str | None, methods: Sequence[str], reps_null: int, reps_alt: int
               ) -> dict[str, dict[str, int]]:
    """``"sdid=100,honest=50:200"`` -> per-method reps (one number: both kinds; a:b: null:alt)."""
    reps = {m: {"no_effect": reps_null, "effects": reps_alt, "pretrend": reps_alt}
            for m in methods}
    for item in filter(None, (spec or "").split(",")):
        name, _, val = item.partition("=")
        if name not in reps:
            raise SystemExit(f"--reps: unknown method {name!r}; allowed: {', '.join(methods)}")
        a, _, b = val.partition(":")
        reps[name] = {"no_effect": int(a), "effects": int(b or a), "pretrend": int(b or a)}
    return reps


def run(methods: Sequence[str], reps: dict[str, dict[str, int]], *, seed: int, n_posts: int,
        jobs: int, resume: bool, cache: bool = True, progress: bool = True) -> pd.DataFrame:
    chash = code_hash()
    done: set[tuple[str, str, int]] = set()
    if resume:
        prev = load_results(methods, chash)
        done = {(m, k, int(r)) for m, k, r in prev[["method", "kind", "rep"]].itertuples(
            index=False)}
    tasks = []
    for kind in KINDS:
        for rep in range(max(reps[m][kind] for m in methods)):
            todo = tuple(m for m in methods if rep < reps[m][kind] and (m, kind, rep) not in done
                         and any(s in METHODS[m][1] for s in KINDS[kind]))
            if todo:
                tasks.append((kind, rep, seed, n_posts, todo, chash, cache))
    t0 = time.perf_counter()
    if progress:
        print(f"{len(tasks)} replication units to run ({len(done)} method-units resumed), "
              f"jobs={jobs}", file=sys.stderr)
    if jobs > 1:
        ctx = mp.get_context("spawn" if sys.platform == "win32" else "fork")
        with ctx.Pool(jobs, initializer=_init_worker) as pool:
            for i, out in enumerate(pool.imap_unordered(run_unit, tasks), 1):
                for m, recs in out.items():
                    append_results(m, recs)
                if progress and (i % 10 == 0 or i == len(tasks)):
                    print(f"  {i}/{len(tasks)} units, {time.perf_counter() - t0:.0f} s",
                          file=sys.stderr)
    else:
        _init_worker()
        for i, task in enumerate(tasks, 1):
            for m, recs in run_unit(task).items():
                append_results(m, recs)
            if progress and (i % 10 == 0 or i == len(tasks)):
                print(f"  {i}/{len(tasks)} units, {time.perf_counter() - t0:.0f} s",
                      file=sys.stderr)
    return load_results(methods, chash)


# ----------------------------------------------------------------------------- summary
def _rate(x: pd.Series, rep: pd.Series) -> tuple[float, float, int]:
    """Mean of 0/1 values and its Monte Carlo SE clustered by replication."""
    ok = x.notna()
    x, rep = x[ok].astype(float), rep[ok]
    if len(x) == 0:
        return math.nan, math.nan, 0
    p = float(x.mean())
    g = pd.DataFrame({"x": x - p, "r": rep}).groupby("r")["x"].sum()
    se = float(np.sqrt((g ** 2).sum()) / len(x))
    return p, se, int(rep.nunique())


def summarize(res: pd.DataFrame) -> pd.DataFrame:
    """One row per method x target x scenario: size, coverage, power, their MC SEs, seconds."""
    if res.empty:
        return pd.DataFrame()
    res = res.copy()
    res["rep_key"] = res["kind"].astype(str) + ":" + res["rep"].astype(str)
    for c in ("reject", "covered"):
        res[c] = res[c].map({True: 1.0, False: 0.0, "True": 1.0, "False": 0.0})
    rows = []
    for (m, tgt, sc), g in res.groupby(["method", "target", "scenario"], sort=False):
        err = g["error"].fillna("").astype(str)
        good = g.loc[err == ""]
        zero = good.loc[good["truth"].abs() < 1e-12]
        nz = good.loc[good["truth"].abs() >= 1e-12]
        size = _rate(zero["reject"], zero["rep_key"])
        power = _rate(nz["reject"], nz["rep_key"])
        cover = _rate(good["covered"], good["rep_key"])
        rows.append({
            "method": m, "target": tgt, "scenario": sc, "reps": int(g["rep_key"].nunique()),
            "estimates": len(good), "errors": int((err != "").sum()),
            "size": size[0], "size_se": size[1], "coverage": cover[0], "coverage_se": cover[1],
            "power": power[0], "power_se": power[1],
            "mean_truth": float(nz["truth"].mean()) if len(nz) else 0.0,
            "first_error": err[err != ""].iloc[0] if (err != "").any() else "",
        })
    out = pd.DataFrame(rows)
    out["flag"] = [flag(r) for r in out.itertuples()]
    return out


def flag(r: Any) -> str:
    marks = []
    if r.errors:
        marks.append("ERRORS")
    if not math.isnan(r.size) and not (SIZE_BAND[0] <= r.size <= SIZE_BAND[1]):
        marks.append("SIZE")
    if not math.isnan(r.coverage) and not (COVER_BAND[0] <= r.coverage <= COVER_BAND[1]):
        conservative = r.method == "honest" and r.coverage > COVER_BAND[1]
        marks.append("conservative" if conservative else "COVERAGE")
    return " ".join(marks)


def timing(res: pd.DataFrame) -> pd.DataFrame:
    """Seconds per replication (one marketplace kind: all its scenarios) per method."""
    if res.empty:
        return pd.DataFrame()
    per = res.groupby(["method", "kind", "rep"])["seconds"].sum().reset_index()
    # median: the first call in a worker pays for imports and compilation
    tab = per.groupby(["method", "kind"])["seconds"].median().unstack("kind")
    return tab[[k for k in KINDS if k in tab.columns]]


def _pct(p: float, se: float) -> str:
    return "—" if math.isnan(p) else f"{100 * p:.1f} ± {100 * se:.1f}"


def to_markdown(summary: pd.DataFrame, tim: pd.DataFrame, meta: dict[str, Any]) -> str:
    lines = [
        "### Inference validity of the defaults (simulated marketplaces)", "",
        f"laborai {meta['version']}, code hash `{meta['code_hash']}`; n_posts = "
        f"{meta['n_posts']:,}, base seed {meta['seed']}, jobs {meta['jobs']}; wall time "
        f"{meta['wall']:.0f} s. Simulator: AR(1) option present: {meta['sim']['ar1']}; "
        f"differential pre-trend option present: {meta['sim']['pre_trend_option']} "
        f"(otherwise the pretrend scenario adds the trend to the panel outcome); "
        f"simulator defaults {meta['sim']['parameters']}.", "",
        "Size = rejection rate of a true zero at 5%; coverage of the true value by the 95% "
        "interval; power = rejection of 0 where the truth is not 0; ± Monte Carlo SE (clustered "
        f"by replication). Pass band: size {100 * SIZE_BAND[0]:g}-{100 * SIZE_BAND[1]:g}%, "
        f"coverage {100 * COVER_BAND[0]:g}-{100 * COVER_BAND[1]:g}%; **flag** marks cells "
        "outside it (honest: coverage above the band is marked *conservative*).", "",
        "| method | target | scenario | reps | estimates | size % | coverage % | power % "
        "| mean truth | errors | flag |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in summary.itertuples():
        fl = f"**{r.flag}**" if r.flag else ""
        lines.append(f"| {r.method} | {r.target} | {r.scenario} | {r.reps} | {r.estimates} | "
                     f"{_pct(r.size, r.size_se)} | {_pct(r.coverage, r.coverage_se)} | "
                     f"{_pct(r.power, r.power_se)} | {r.mean_truth:+.3f} | {r.errors} | {fl} |")
    errs = summary.loc[summary["first_error"] != "", ["method", "target", "scenario",
                                                      "first_error"]]
    if len(errs):
        lines += ["", "First error per cell:", ""]
        lines += [f"- {e.method} / {e.target} / {e.scenario}: `{e.first_error}`"
                  for e in errs.itertuples()]
    if len(tim):
        lines += ["", "Median seconds per replication and method (one worker; a no_effect "
                  "replication runs the no_effect and no_effect_few scenarios):", "",
                  "| method | " + " | ".join(tim.columns) + " |",
                  "|---|" + "---:|" * len(tim.columns)]
        for m, r in tim.iterrows():
            lines.append(f"| {m} | " + " | ".join(f"{v:.2f}" for v in r.to_numpy()) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--reps-null", type=int, default=500)
    ap.add_argument("--reps-alt", type=int, default=500)
    ap.add_argument("--reps", default=None,
                    help="per-method reps, e.g. 'sdid=200,honest=100:200' (null:alt)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--methods", default=",".join(METHODS),
                    help=f"comma-separated subset of {', '.join(METHODS)}")
    ap.add_argument("--n-posts", type=int, default=N_POSTS)
    ap.add_argument("--out", type=Path, default=None, help="Markdown table here")
    ap.add_argument("--resume", action="store_true",
                    help="skip units already in the results (same code hash); without it every "
                         "unit is recomputed and replaces its earlier rows (files are never "
                         "deleted, so concurrent runs are safe)")
    ap.add_argument("--no-cache", action="store_true", help="do not read or write panel caches")
    a = ap.parse_args(argv)
    methods = [m.strip() for m in a.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in METHODS]
    if bad:
        ap.error(f"unknown methods {bad}; allowed: {', '.join(METHODS)}")
    reps = parse_reps(a.reps, methods, a.reps_null, a.reps_alt)
    t0 = time.perf_counter()
    res = run(methods, reps, seed=a.seed, n_posts=a.n_posts, jobs=a.jobs, resume=a.resume,
              cache=not a.no_cache)
    wall = time.perf_counter() - t0
    summ, tim = summarize(res), timing(res)
    meta = {"version": la.__version__, "code_hash": code_hash(), "n_posts": a.n_posts,
            "seed": a.seed, "jobs": a.jobs, "wall": wall, "sim": simulator_features()}
    md = to_markdown(summ, tim, meta)
    print(md)
    if a.out is not None:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(md, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
