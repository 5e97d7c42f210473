"""Callaway–Sant'Anna, step 3 of 4 (R did's ``aggte``): aggregate the ATT(g,t) into simple,
event-time, cohort and calendar summaries with the influence function of the weights."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from laborai.did._cs_kernels import (
    multiplier_bootstrap,
    weights_influence_dot,
)
from laborai.did.cs._compute import _analytic_se
from laborai.did.cs._prepare import _first, _num
from laborai.did.cs._results import AggregateResult
from laborai.errors import (
    EstimationError,
)

if TYPE_CHECKING:
    from laborai.did.cs._results import ATTgtResult



# ---------------------------------------------------------------------------------------------
# aggregation
# ---------------------------------------------------------------------------------------------


def _agg_if(inf: np.ndarray, keep: np.ndarray, wts: np.ndarray, wif_att: np.ndarray | None,
            ) -> np.ndarray:
    """Aggregate influence function: weighted component IFs plus the weights' IF times ATTs."""
    full = np.zeros(inf.shape[1])
    full[keep] = wts
    out = inf @ full
    if wif_att is not None:
        out = out + wif_att
    return np.asarray(out)


def _aggregate(
    res: ATTgtResult,
    type_: str,
    *,
    min_e: float,
    max_e: float,
    balance_e: int | None,
    vcov: str,
    cband: bool,
    n_boot: int,
    seed: int | None,
    alpha: float,
) -> AggregateResult:
    att = res.estimate
    group, time = res.group, res.time
    inf = res.influence
    unit_g, unit_w = res.unit_group, res.unit_weight
    glist = np.unique(unit_g[unit_g > 0])
    if np.isnan(att).any():
        bad = np.flatnonzero(np.isnan(att))
        raise EstimationError(
            f"{len(bad)} ATT(g,t) are missing (first: "
            f"{_first(f'ATT({_num(group[i])},{_num(time[i])})' for i in bad)}); aggregation "
            "needs all of them. Check the small-group warnings of att_gt."
        )
    # positions in the sorted union of periods and cohorts (R's did recodes to these)
    gt_union = np.union1d(res.periods, glist)
    pos_t = np.searchsorted(gt_union, time) + 1.0
    pos_g = np.searchsorted(gt_union, group) + 1.0
    # cohort shares
    n = len(unit_g)
    n_coh = len(glist)
    unit_coh = np.where(unit_g > 0, np.searchsorted(glist, unit_g), n_coh)
    comp_coh = np.searchsorted(glist, group)
    pg_glist = np.bincount(unit_coh, weights=unit_w, minlength=n_coh + 1)[:n_coh] / n
    pg = pg_glist[comp_coh]

    def wif_dot(keep: np.ndarray, shares: np.ndarray, comp: np.ndarray,
                est: np.ndarray) -> np.ndarray:
        return weights_influence_dot(keep, shares, comp, unit_coh, n_coh, unit_w, est)

    def se_of(f: np.ndarray) -> np.ndarray:
        f2 = f if f.ndim == 2 else f[:, None]
        return _analytic_se(f2, res.unit_cluster)

    elements: np.ndarray
    elem_est: np.ndarray
    elem_inf: np.ndarray
    if type_ == "simple":
        keep = np.flatnonzero((group <= time) & (pos_t <= pos_g + max_e))
        if len(keep) == 0:
            raise EstimationError("no post-treatment ATT(g,t) to aggregate.")
        wts = pg[keep] / pg[keep].sum()
        overall = float(np.sum(att[keep] * wts))
        wif = wif_dot(keep, pg, comp_coh, att)
        overall_if = _agg_if(inf, keep, wts, wif)
        elements = np.array([])
        elem_est = np.array([])
        elem_inf = np.zeros((n, 0))
    elif type_ == "group":
        ests, ifs, used = [], [], []
        for gv in glist:
            keep = np.flatnonzero((group == gv) & (gv <= time) & (pos_t <= pos_g + max_e))
            used.append(gv)
            if len(keep) == 0:
                ests.append(float("nan"))
                ifs.append(np.full(n, np.nan))
                continue
            wts = pg[keep] / pg[keep].sum()
            ests.append(float(np.mean(att[keep])))
            ifs.append(_agg_if(inf, keep, wts, None))
        elements = np.asarray(used, dtype=float)
        elem_est = np.asarray(ests)
        elem_inf = np.column_stack(ifs)
        pgg = pg_glist
        idx = np.arange(len(glist))
        wif = wif_dot(idx, pgg, idx, elem_est)
        overall = float(np.sum(elem_est * pgg) / pgg.sum())
        overall_if = _agg_if(elem_inf, idx, pgg / pgg.sum(), wif)
    elif type_ == "dynamic":
        evt = time - group
        include = np.ones(len(att), dtype=bool)
        eseq = np.unique(evt)
        if balance_e is not None:
            include = (res.periods[-1] - group) >= balance_e
            eseq = np.unique(evt[include])
            t_first = gt_union[0]
            eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - res.periods[-1] + t_first)]
        eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
        if len(eseq) == 0:
            raise EstimationError(
                f"no event times left after min_e={min_e}, max_e={max_e}, balance_e={balance_e}."
            )
        ests, ifs = [], []
        for e in eseq:
            keep = np.flatnonzero((evt == e) & include)
            wts = pg[keep] / pg[keep].sum()
            ests.append(float(np.sum(att[keep] * wts)))
            wif = wif_dot(keep, pg, comp_coh, att)
            ifs.append(_agg_if(inf, keep, wts, wif))
        elements = eseq.astype(float)
        elem_est = np.asarray(ests)
        elem_inf = np.column_stack(ifs)
        epos = np.flatnonzero(eseq >= 0)
        if len(epos) == 0:
            overall = float("nan")
            overall_if = np.full(n, np.nan)
        else:
            overall = float(np.mean(elem_est[epos]))
            overall_if = _agg_if(elem_inf, epos, np.full(len(epos), 1.0 / len(epos)), None)
    else:  # calendar
        min_g = group.min()
        tlist = np.unique(time)
        ctlist = tlist[tlist >= min_g]
        ests, ifs = [], []
        for tv in ctlist:
            keep = np.flatnonzero((time == tv) & (group <= time))
            wts = pg[keep] / pg[keep].sum()
            ests.append(float(np.sum(att[keep] * wts)))
            wif = wif_dot(keep, pg, comp_coh, att)
            ifs.append(_agg_if(inf, keep, wts, wif))
        elements = ctlist.astype(float)
        elem_est = np.asarray(ests)
        elem_inf = np.column_stack(ifs) if ifs else np.zeros((n, 0))
        idx = np.arange(len(ctlist))
        overall = float(np.mean(elem_est))
        overall_if = _agg_if(elem_inf, idx, np.full(len(idx), 1.0 / len(idx)), None)

    elem_se = se_of(elem_inf) if elem_inf.shape[1] else np.array([])
    overall_se = float(se_of(overall_if)[0])
    crit = float(stats.norm.ppf(1 - alpha / 2))
    if vcov == "bootstrap":
        rng = np.random.default_rng(seed)
        all_if = np.column_stack([elem_inf, overall_if])
        ok = np.all(np.isfinite(all_if), axis=0)
        bse = np.full(all_if.shape[1], np.nan)
        bse_ok, bcrit = multiplier_bootstrap(
            all_if[:, ok], n_boot=n_boot, rng=rng, alpha=alpha, cluster=res.unit_cluster
        )
        bse[ok] = bse_ok
        elem_se, overall_se = bse[:-1], float(bse[-1])
        if cband and elem_inf.shape[1]:
            rng = np.random.default_rng(seed)
        if cband and elem_inf.shape[1]:
            eok = np.all(np.isfinite(elem_inf), axis=0)
            _, crit = multiplier_bootstrap(
                elem_inf[:, eok], n_boot=n_boot, rng=rng, alpha=alpha, cluster=res.unit_cluster
            )
    placebo_df = res.settings.get("placebo_df")
    if vcov == "placebo" and res.placebo is not None and placebo_df is not None:
        # the same aggregation applied to each (scaled) placebo ATT(g,t) vector
        rows = []
        for p in res.placebo:
            sub = dataclasses.replace(res, estimate=np.asarray(p, dtype=float), placebo=None)
            a = _aggregate(sub, type_, min_e=min_e, max_e=max_e, balance_e=balance_e,
                           vcov="analytic", cband=False, n_boot=n_boot, seed=seed,
                           alpha=alpha)
            rows.append(np.append(np.asarray(a.estimate, dtype=float), a.overall_estimate))
        Pa = np.array(rows)
        Va = Pa.T @ Pa
        sd = np.sqrt(np.diag(Va))
        elem_se, overall_se = sd[:-1], float(sd[-1])
        crit = float(stats.t.ppf(1 - alpha / 2, placebo_df))
        if cband and len(elem_se) > 1:
            from laborai.did._core import _sup_t_crit_placebo

            crit = max(_sup_t_crit_placebo(Va[:-1, :-1], alpha, int(placebo_df) + 1, 100_000,
                                           seed), crit)
    settings = {
        "type": type_,
        "min_e": min_e,
        "max_e": max_e,
        "balance_e": balance_e,
        "vcov": vcov,
        "cband": cband,
        "n_boot": n_boot,
        "seed": seed,
        "alpha": alpha,
        "placebo_df": placebo_df if vcov == "placebo" and res.placebo is not None else None,
    }
    for arr in (elements, elem_est, elem_se, elem_inf, overall_if):
        arr.setflags(write=False)
    return AggregateResult(
        type=type_,
        element=elements,
        estimate=elem_est,
        std_error=elem_se,
        overall_estimate=overall,
        overall_std_error=overall_se,
        influence=elem_inf,
        overall_influence=overall_if,
        crit_val=crit,
        settings=MappingProxyType(settings),
        provenance=res.provenance,
        period_values=res.period_values,
    )
