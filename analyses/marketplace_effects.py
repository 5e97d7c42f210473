# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Job posts and earnings per contract by category and value tier
#
# Difference-in-differences on the category x value tier x month panel: trends of exposed and
# other categories, effects for every category x tier (job posts, earnings per contract), the
# pooled effect with few-cluster inference, the event study and the triple difference
# (exposed x post x high-value tier).

# %% tags=["parameters"]
seed = 2024
n_posts = 400_000
data_dir = ""
figures_dir = "figures"
results_dir = "build/results"

# %%
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

import laborai as la
from laborai.report import AnalysisOutputs, load_marketplace

out = AnalysisOutputs("marketplace_effects", title="Job posts and earnings by category and value tier",
                      section="causal", figures_dir=figures_dir, results_dir=results_dir)
mk = load_marketplace(seed=seed, n_posts=n_posts, data_dir=data_dir)
panel = mk.panel
CHATGPT = pd.Timestamp(la.taxonomy.event_dates()["chatgpt"])


def pct(x: float) -> float:
    """Log points to percent."""
    return 100 * (np.exp(x) - 1)


def fmt_p(p: float) -> str:
    """p-value for text: three decimals, or '< 0.001'."""
    return "< 0.001" if p < 0.0005 else f"= {p:.3f}"


# %% [markdown]
# ## Data accounting: every row read is kept or reported

# %%
acc = pd.DataFrame({
    "table": ["job posts", "contracts"],
    "rows read": [mk.n_posts_read, mk.n_contracts_read],
    "kept": [len(mk.posts), len(mk.contracts)],
    "rejected": [int((mk.rejected["table"] == "job_posts").sum()),
                 int((mk.rejected["table"] == "contracts").sum())],
})
assert (acc["rows read"] == acc["kept"] + acc["rejected"]).all()
out.table("data_accounting", acc, caption=f"Rows read, kept and rejected by laborai's validating "
          f"readers ({mk.source}). The panel has {panel['unit'].nunique()} category x tier units "
          f"and {panel['period'].nunique()} months; {mk.n_posts_unknown_tier:,} posts without a "
          f"budget ({mk.n_posts_unknown_tier / max(len(mk.posts), 1):.0%}) form the unknown "
          "value tier and are left out of every estimate by tier.", float_format="{:,.0f}",
          section="methods")

# %% [markdown]
# ## Trends: exposed vs other categories, by tier

# %%
p = panel.assign(group=np.where(panel["exposed"], "Exposed categories", "Other categories"))
g = p.groupby(["group", "value_tier", "period"], as_index=False)["n_posts"].sum()
base = g[g["period"].dt.year == 2021].groupby(["group", "value_tier"])["n_posts"].mean()
g["index_2021"] = 100 * g["n_posts"] / g.set_index(["group", "value_tier"]).index.map(base)
g = la.plot.suppress_small(g, "n_posts", ["index_2021"])
post_mean = g[g["period"] >= CHATGPT].groupby(["group", "value_tier"])["index_2021"].mean()
drop_low = post_mean[("Exposed categories", "low")] - post_mean[("Other categories", "low")]
with la.plot.house_style():
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
    for ax, tier in zip(axes, ("low", "high"), strict=True):
        for grp in ("Exposed categories", "Other categories"):
            d = g[(g["group"] == grp) & (g["value_tier"] == tier)]
            ax.plot(d["period"], d["index_2021"], label=grp, lw=1.6)
        ax.axvline(CHATGPT, color="#555555", ls="--", lw=0.9)
        ax.text(CHATGPT + pd.Timedelta(days=15), 0.97, "ChatGPT", fontsize=8, va="top",
                transform=ax.get_xaxis_transform())
        ax.set_title(f"{'Low' if tier == 'low' else 'High'}-value posts "
                     f"({'≤' if tier == 'low' else '>'} $1,000)", fontsize=10)
        ax.set_xlabel("Month posted")
        ax.xaxis.set_major_locator(mdates.YearLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    axes[0].set_ylabel("Job posts, index (2021 average = 100)")
    axes[0].legend(loc="lower left")
    trend = "fell" if drop_low < 0 else "rose"
    fig.suptitle(f"Low-value job posts in AI-exposed categories {trend} after generative AI "
                 "arrived", x=0.01, ha="left", fontweight="bold")
    la.plot.add_source(fig, mk.source)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
out.figure(fig, "posts_by_exposure", data=g,
           caption="Monthly job posts by exposure group and value tier, index 2021 = 100. "
                   "Exposed: the categories the taxonomy links to ChatGPT (writing, translation, "
                   "software, data science) or to image generators (design & creative).",
           alt="Two line charts of monthly job posts indexed to 2021, low-value posts on the left "
               "and high-value posts on the right, comparing exposed and other categories; a "
               "dashed line marks ChatGPT's release in November 2022.",
           source=mk.source)

# %% [markdown]
# ## Effects by category x value tier

# %%
outcomes = ["log_n_posts",
            {"name": "log_earnings_per_contract", "y": "log_earnings_per_contract",
             "weights": "n_contracts"}]
# Each group's treatment lies in one category: no cluster-robust variance can measure its error
# (MacKinnon & Webb 2017), and heteroskedasticity-robust SEs ignore the serial correlation of
# category shocks. The default is placebo inference from the never-exposed categories (Conley &
# Taber 2011, with the Ferman & Pinto 2019 cell-size correction); its size and coverage on this
# simulator are in docs/validation.md.
eff = la.estimate_effects(panel, outcomes=outcomes, seed=seed)
n_ctrl = int(eff.tidy()["n_control_clusters"].min())
tidy = eff.tidy()
if mk.truth is not None:
    tidy = tidy.merge(mk.truth[["category", "value_tier", "outcome", "effect"]]
                      .rename(columns={"effect": "true_effect"}),
                      on=["category", "value_tier", "outcome"], how="left")
labels = {"log_n_posts": "Job posts", "log_earnings_per_contract": "Earnings per contract"}
with la.plot.house_style():
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 4.6), sharey=True)
    rows = tidy.sort_values(["category", "value_tier"])
    keys = rows[["category", "value_tier"]].drop_duplicates()
    ypos = {tuple(k): i for i, k in enumerate(keys.itertuples(index=False))}
    for ax, (outcome, lab) in zip(axes, labels.items(), strict=True):
        d = rows[rows["outcome"] == outcome]
        y = np.array([ypos[(c, t)] for c, t in zip(d["category"], d["value_tier"], strict=True)])
        colors = np.where(d["value_tier"] == "low", "#D55E00", "#0072B2")
        ax.hlines(y, pct(d["conf_low"]), pct(d["conf_high"]), color=colors, lw=1.8)
        ax.scatter(pct(d["estimate"]), y, color=colors, zorder=3, s=22)
        if "true_effect" in d:
            ax.scatter(pct(d["true_effect"]), y, marker="x", color="black", s=22, zorder=4)
        ax.axvline(0, color="#555555", lw=0.8)
        ax.set_title(lab, fontsize=10)
        ax.set_xlabel("Effect, % (95% CI, placebo inference)")
    axes[0].set_yticks(list(ypos.values()), [f"{c} — {t}" for c, t in ypos])
    handles = [Line2D([], [], color="#D55E00", marker="o", lw=1.8, label="Low value (≤ $1,000)"),
               Line2D([], [], color="#0072B2", marker="o", lw=1.8, label="High value (> $1,000)")]
    if "true_effect" in tidy:
        handles.append(Line2D([], [], color="black", marker="x", lw=0,
                              label="True effect (simulation)"))
    fig.legend(handles=handles, loc="lower right", ncol=3, fontsize=8, frameon=False)
    lowp = tidy[(tidy["outcome"] == "log_n_posts") & (tidy["value_tier"] == "low")]
    worst = lowp.loc[lowp["estimate"].abs().idxmax()]
    hip = tidy[(tidy["outcome"] == "log_n_posts") & (tidy["value_tier"] == "high")]
    better = hip["estimate"].mean() > lowp["estimate"].mean()
    moved = "fell" if worst["estimate"] < 0 else "rose"
    fig.suptitle(f"Low-value posts {moved} most in {worst['category']} "
                 f"({pct(worst['estimate']):+.0f}%); "
                 + ("high-value work held up better" if better else "high-value work fared no "
                    "better"), x=0.01, ha="left", fontweight="bold")
    la.plot.add_source(fig, mk.source)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
out.figure(fig, "effects_by_category_tier", data=tidy,
           caption="Difference-in-differences effects by category and value tier (two-way fixed "
                   "effects, unit and month fixed effects, never-exposed categories as controls, "
                   f"95% intervals from placebo inference over the {n_ctrl} never-exposed "
                   "categories)"
                   + ("; crosses mark the simulation's true effects." if "true_effect" in tidy
                      else "."),
           alt="Dot-and-whisker chart: for each exposed category and value tier, the estimated "
               "percentage effect of generative AI on job posts (left) and on earnings per "
               "contract (right) with 95% confidence intervals, low-value tier in orange, "
               "high-value tier in blue.",
           source=mk.source)
tidy.to_csv(f"{results_dir}/effects_by_category_tier.csv", index=False, float_format="%.10g",
            lineterminator="\n")

# %%
if "true_effect" in tidy:
    cover = ((tidy["conf_low"] <= tidy["true_effect"]) & (tidy["true_effect"] <= tidy["conf_high"]))
    out.number("coverage_truth", float(cover.mean()), text=f"{int(cover.sum())} of {len(cover)}")
    out.text(f"Because the marketplace is simulated, the true effects are known: "
             f"{int(cover.sum())} of the {len(cover)} category x tier x outcome 95% intervals "
             f"contain the true effect ({cover.mean():.0%}; about 95% is expected).")
eq = eff.equality_tests
for r in eq.itertuples():
    what = labels.get(r.outcome, r.outcome).lower()
    if not np.isfinite(r.p_value):
        out.text(f"Whether the effects on {what} are the same in every exposed category and tier "
                 f"cannot be tested with placebo inference here: the {r.n_groups - 1} contrasts "
                 f"outnumber the {n_ctrl} never-exposed categories that measure the noise.")
        continue
    out.text(f"Are the effects the same in every exposed category and tier? For "
             f"{what} a Wald test gives statistic {r.statistic:.1f} (p {fmt_p(r.p_value)}): "
             + ("the effects differ across groups." if r.p_value < 0.05 else
                "the data cannot reject equal effects."))

# %% [markdown]
# ## Pooled effect with few-cluster inference, event study and triple difference

# %%
panel2 = panel.assign(
    high=(panel["value_tier"] == "high").astype(int),
    exposed01=panel["exposed"].astype(int),
    # never-exposed categories have no event of their own: their "post" is after ChatGPT
    post_any=np.where(panel["exposed"], panel["post"], panel["period"] >= CHATGPT).astype(int),
)
pooled = {}
for tier in ("low", "high"):
    d = panel2[panel2["value_tier"] == tier]
    pooled[tier] = la.did.twfe(d, yname="log_n_posts", dname="treated_post", idname="unit",
                               tname="period", cluster="category", vcov="wild", seed=seed)
pt = pd.concat([r.tidy().assign(value_tier=t) for t, r in pooled.items()], ignore_index=True)
lo = pt[pt["value_tier"] == "low"].iloc[0]
hi = pt[pt["value_tier"] == "high"].iloc[0]
n_treated = int(panel2.loc[panel2["exposed"], "category"].nunique())
n_clusters = int(panel2["category"].nunique())
out.number("pooled_low_posts", float(lo["estimate"]), text=f"{pct(lo['estimate']):+.1f}%")
out.number("pooled_low_posts_p", float(lo["p_value"]), text=f"{lo['p_value']:.3f}")
out.summary(f"Job posts: in the {n_treated} AI-exposed categories, low-value (≤ $1,000) job posts "
            f"changed by {pct(lo['estimate']):+.1f}% after generative AI arrived relative to "
            f"other categories (95% CI {pct(lo['conf_low']):+.1f}% to {pct(lo['conf_high']):+.1f}%; "
            f"wild cluster bootstrap p {fmt_p(lo['p_value'])} with {n_clusters} category clusters), and "
            f"high-value posts by {pct(hi['estimate']):+.1f}% "
            f"({pct(hi['conf_low']):+.1f}% to {pct(hi['conf_high']):+.1f}%).")

# %%
es = {t: la.did.event_study(panel2[panel2["value_tier"] == t], yname="log_n_posts",
                            idname="unit", tname="period", event_date="event_date",
                            cluster="category", seed=seed)
      for t in ("low", "high")}
es_lo, es_hi = es["low"].window
pre_p = {t: float(r.pretrend["p_value"]) for t, r in es.items()}
es_t = pd.concat([r.tidy().assign(value_tier=t) for t, r in es.items()], ignore_index=True)
with la.plot.house_style():
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
    for ax, (tier, col) in zip(axes, (("low", "#D55E00"), ("high", "#0072B2")), strict=True):
        d = es_t[es_t["value_tier"] == tier]
        ax.fill_between(d["event_time"], pct(d["conf_low"]), pct(d["conf_high"]), color=col,
                        alpha=0.15, lw=0, label="95% simultaneous (sup-t) band")
        ax.vlines(d["event_time"], pct(d["point_conf_low"]), pct(d["point_conf_high"]),
                  color=col, lw=1.2, label="95% pointwise CI")
        ax.plot(d["event_time"], pct(d["estimate"]), "o", color=col, ms=3.5, label="Estimate")
        ax.axhline(0, color="#555555", lw=0.8)
        ax.axvline(-0.5, color="#555555", ls="--", lw=0.8)
        ax.set_title(f"{'Low' if tier == 'low' else 'High'}-value posts (pre-trend test "
                     f"p = {pre_p[tier]:.2g})", fontsize=10)
        ax.set_xlabel(f"Months since the AI event (end bins {es_lo} and +{es_hi})")
    axes[0].set_ylabel("Effect on job posts, %")
    axes[0].legend(loc="lower left", fontsize=7.5)
    if lo["estimate"] < 0 and pre_p["low"] >= 0.05:
        title = "Low-value posts fell after the event, with no sign of a gap before it"
    else:
        title = "Job posts around each category's generative-AI event, by value tier"
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    la.plot.add_source(fig, mk.source)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
out.figure(fig, "event_study_posts", data=es_t,
           caption="Event study of log job posts in exposed vs never-exposed categories, by "
                   "value tier: leads and lags around each category's event (image generators "
                   "July 2022, ChatGPT December 2022: the first full month after its release), "
                   f"month -1 as reference, end points binned at {es_lo} and +{es_hi} months "
                   f"(a window fitted to the {n_clusters} category clusters), wild cluster "
                   "bootstrap pointwise and sup-t simultaneous 95% bands.",
           alt=f"Two event-study charts of monthly effects on job posts from {-es_lo} months "
               f"before to {es_hi} months after the generative-AI event, low-value tier on the "
               "left and high-value on the right, with pointwise intervals and a shaded "
               "simultaneous band.",
           source=mk.source)
out.text("Before the event, the leads are jointly "
         + ("indistinguishable from zero" if pre_p["low"] >= 0.05 else "different from zero")
         + f" in the low-value tier (wild cluster bootstrap p = {pre_p['low']:.3g}) and "
         + ("indistinguishable from zero" if pre_p["high"] >= 0.05 else "different from zero")
         + f" in the high-value tier (p = {pre_p['high']:.3g}).")
# How large a trend could that pre-test have caught (Roth 2022)? pretrends_power uses the event
# study's cluster-robust covariance and the usual rule "no lead individually significant at 5%".
power_text = []
for tier, r in es.items():
    try:
        pw = la.did.pretrends_power(r)
    except la.errors.LaborAIError as exc:  # e.g. placebo inference without a covariance matrix
        power_text.append(f"For the {tier}-value tier the power of the pre-test cannot be "
                          f"computed: {exc}")
        continue
    out.number(f"pretrend_slope_50_{tier}", float(pw.slope_for_power),
               text=f"{pw.slope_for_power * 100:.1f} log points a month")
    power_text.append(f"{'Low' if tier == 'low' else 'High'}-value tier: {pw.sentence()}")
out.text("How large a trend could these pre-tests have caught (Roth 2022)? Using the event "
         "studies' cluster-robust covariance and the rule that no lead may be individually "
         "significant at 5% (the wild-bootstrap joint test above is a different, joint test; "
         "the binned end point counts as its own month): "
         + " ".join(power_text)
         + " A slope is in log points per month: 0.01 is a drift of about one percent a month "
         "between exposed and never-exposed categories.")

# %%
ddd_rows = []
for y, w, lab in (("log_n_posts", None, "Job posts"),
                  ("log_earnings_per_contract", "n_contracts", "Earnings per contract")):
    r = la.did.ddd(panel2, yname=y, idname="unit", tname="period", dname="exposed01",
                   post="post_any", pname="high", cluster="category", weights=w, vcov="wild",
                   seed=seed)
    t = r.tidy()
    t = t[t["term"] != "high:post"].assign(outcome=lab)
    ddd_rows.append(t)
ddd_t = pd.concat(ddd_rows, ignore_index=True)
show = ddd_t[["outcome", "term", "estimate", "std_error", "p_value", "conf_low", "conf_high"]]
out.table("triple_difference", show,
          caption="Triple difference (exposed x post x high-value tier) with unit and month fixed "
                  "effects, category-clustered standard errors; p-values from the wild cluster "
                  "bootstrap (Rademacher weights, one cluster per category) for the regression terms. Estimates "
                  "in log points.")
dd = ddd_t[(ddd_t["outcome"] == "Job posts") & (ddd_t["term"] == "exposed:post:high")].iloc[0]
out.number("ddd_posts", float(dd["estimate"]), text=f"{dd['estimate']:+.3f}")
out.summary(f"High- vs low-value work: the triple difference puts the high-value tier's job-post "
            f"effect {dd['estimate']:+.2f} log points "
            + ("above" if dd["estimate"] > 0 else "below")
            + f" the low-value tier's (95% CI {dd['conf_low']:+.2f} to {dd['conf_high']:+.2f}; "
            f"wild bootstrap p {fmt_p(dd['p_value'])}).")
out.close()
