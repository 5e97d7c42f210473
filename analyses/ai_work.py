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
# # How much of the marketplace's work is AI work
#
# Query-then-classify flags for AI, cloud computing and robotic process automation (RPA), and
# the descriptive indicators built on them: AI share by category, the spread of AI work across
# categories before and after generative AI, concentration of AI vs cloud vs RPA, the share of
# AI work that is high-value, and demand for generative-AI skill families.

# %% tags=["parameters"]
seed = 2024
n_posts = 400_000
data_dir = ""
figures_dir = "figures"
results_dir = "build/results"

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import laborai as la
from laborai import classify, indicators
from laborai.report import AnalysisOutputs, load_marketplace

out = AnalysisOutputs("ai_work", title="AI work on the marketplace", section="descriptive",
                      figures_dir=figures_dir, results_dir=results_dir)
mk = load_marketplace(seed=seed, n_posts=n_posts, data_dir=data_dir)
posts = mk.posts

# %% [markdown]
# ## Flags: query, then classify
# On the simulated marketplace a labelled sample exists (the simulation's ground truth plays the
# hand-labeller), so each technology gets a trained model; on user data without labels the
# keyword query flags posts.

# %%
flagged = posts
method = {}
for tech in ("ai", "cloud", "rpa"):
    if mk.simulated:
        lab = classify.labelled_posts(posts, tech, seed=seed)
        train, test = classify.split_labelled(lab, seed=seed)
        model = classify.train(train, "label", tech, seed=seed)
        acc = model.evaluate(test, "label").tidy().set_index("term")["estimate"]
        method[tech] = f"model (held-out accuracy {acc['accuracy']:.3f})"
        flagged = classify.flag_posts(flagged, tech, model=model)
    else:
        method[tech] = "keyword query"
        flagged = classify.flag_posts(flagged, tech)
how = ("a keyword query followed by a random-forest classifier of title and skills (query, "
       "then classify)" if mk.simulated else
       "the keyword query alone (no labelled sample exists to train the classifier)")
out.text(f"Posts are flagged as AI-, cloud- or RPA-related by {how}: "
         + "; ".join(f"{t.upper()} {m}" for t, m in method.items()) + ".", section="methods")
n_cat = len(la.taxonomy.category_names())

# %% [markdown]
# ## AI share by category, before and after generative AI

# %%
share = indicators.share_by_category(flagged, "flag_ai", period="year")
years = sorted(share["period"].unique())
y0, y1 = ("2021" if "2021" in years else years[0]), ("2023" if "2023" in years else years[-1])
sh = share[share["period"].isin([y0, y1])].copy()
cats = [c for c in la.taxonomy.category_names()] + [indicators.ALL_CATEGORIES]
sh["category"] = pd.Categorical(sh["category"], cats, ordered=True)
sh = sh.sort_values(["category", "period"]).reset_index(drop=True)
wide = sh.pivot(index="category", columns="period", values="share").reindex(cats)
growth_all = wide.loc[indicators.ALL_CATEGORIES, y1] / wide.loc[indicators.ALL_CATEGORIES, y0]
growth_text = (f"grew {growth_all:.1f}-fold" if growth_all >= 1.05 else
               f"fell to {growth_all:.0%} of its level" if growth_all <= 0.95 else
               "stayed about the same")
with la.plot.house_style():
    fig, ax = plt.subplots(figsize=(8.5, 5))
    y = np.arange(len(cats))
    ax.barh(y + 0.2, 100 * wide[y0], height=0.4, label=y0, color=la.plot.OKABE_ITO[5])
    ax.barh(y - 0.2, 100 * wide[y1], height=0.4, label=y1, color=la.plot.OKABE_ITO[0])
    ax.set_yticks(y, cats)
    ax.invert_yaxis()
    ax.set_xlabel("AI-related job posts, % of the category's posts")
    ax.legend(loc="lower right")
    fig.suptitle(f"The share of AI-related posts {growth_text} from {y0} to {y1}",
                 x=0.01, ha="left", fontweight="bold")
    la.plot.add_source(fig, mk.source)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
out.figure(fig, "ai_share_by_category", data=sh,
           caption=f"Share of job posts flagged as AI-related, by category, {y0} and {y1}. Cells "
                   "with fewer than 10 posts or flagged posts are suppressed.",
           alt=f"Horizontal bar chart of the percentage of AI-related job posts in each of the "
               f"{n_cat} categories and overall, comparing {y0} with {y1}.",
           source=mk.source)
out.number("ai_share_growth", float(growth_all), text=growth_text)

# %%
dist = indicators.distribution(flagged, "flag_ai")
periods = list(dist["period"].unique())
dw = dist.pivot(index="category", columns="period", values="share").reindex(
    la.taxonomy.category_names())
conc = indicators.concentration(flagged)
hhi = conc[conc["technology"] == "ai"].set_index("period")["herfindahl"]
with la.plot.house_style():
    fig, ax = plt.subplots(figsize=(8.5, 4.6))
    y = np.arange(len(dw))
    for k, (per, col) in enumerate(zip(periods, (la.plot.OKABE_ITO[5], la.plot.OKABE_ITO[0]),
                                       strict=False)):
        ax.barh(y + (0.2 if k == 0 else -0.2), 100 * dw[per], height=0.4, label=per, color=col)
    ax.set_yticks(y, dw.index)
    ax.invert_yaxis()
    ax.set_xlabel("Category's share of all AI-related posts, %")
    ax.legend(loc="lower right")
    spread = "spread out" if hhi.iloc[-1] < hhi.iloc[0] else "concentrated"
    fig.suptitle(f"After generative AI, AI work {spread} across categories "
                 f"(Herfindahl {hhi.iloc[0]:.2f} → {hhi.iloc[-1]:.2f})",
                 x=0.01, ha="left", fontweight="bold")
    la.plot.add_source(fig, mk.source)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
out.figure(fig, "ai_distribution_across_categories", data=dist,
           caption="Distribution of AI-related job posts across categories, before "
                   f"({periods[0]}) and after ({periods[-1]}) generative AI; each period's "
                   "shares sum to 100%.",
           alt="Horizontal bar chart of each category's share of all AI-related job posts in "
               "two periods, before and after generative AI.",
           source=mk.source)

# %%
techs = {"ai": "AI", "cloud": "Cloud", "rpa": "RPA"}
top_k = int(conc["top_k"].iloc[0])
with la.plot.house_style():
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    x = np.arange(len(techs))
    for k, per in enumerate(periods):
        c = conc[conc["period"] == per].set_index("technology").reindex(list(techs))
        for ax, col, lab in ((axes[0], "top_k_share", f"Top-{top_k} categories' share, %"),
                             (axes[1], "herfindahl", "Herfindahl index (0–1)")):
            scale = 100 if col == "top_k_share" else 1
            ax.bar(x + (k - 0.5) * 0.38, scale * c[col], width=0.38, label=per,
                   color=(la.plot.OKABE_ITO[5], la.plot.OKABE_ITO[0])[k % 2])
            ax.set_xticks(x, list(techs.values()))
            ax.set_ylabel(lab)
    axes[1].legend(loc="upper left")
    last = conc[conc["period"] == periods[-1]].set_index("technology")
    least = last["herfindahl"].idxmin()
    fig.suptitle(f"{techs[least]} work is the least concentrated across categories "
                 f"in {periods[-1]}", x=0.01, ha="left", fontweight="bold")
    la.plot.add_source(fig, mk.source)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
out.figure(fig, "technology_concentration", data=conc,
           caption=f"How concentrated AI, cloud and RPA job posts are across the {n_cat} "
                   f"categories: share of the {top_k} largest categories and the Herfindahl "
                   "index, by period.",
           alt=f"Two grouped bar charts comparing AI, cloud and RPA: the share of posts in the top "
               f"{top_k} categories and the Herfindahl concentration index, before and after "
               "generative AI.",
           source=mk.source)

# %%
# The high-value share is measured on posts with a value: a fixed budget, or an hourly rate
# projected over the posted weekly hours and duration (laborai.taxonomy.hourly_projection).
# Posts without a budget (the `unknown` value tier) are left out, explicitly, and counted.
valued = flagged[flagged["contract_value_usd"].notna()]
n_ai_unvalued = int((flagged["flag_ai"] & flagged["contract_value_usd"].isna()).sum())
out.text(f"High-value shares are measured on posts with a posted budget or an hourly rate "
         f"(projected contract value); {n_ai_unvalued:,} AI-flagged posts without a budget "
         f"({n_ai_unvalued / max(int(flagged['flag_ai'].sum()), 1):.0%} of them) are in the "
         "unknown value tier and left out of these shares.", section="methods")
hv = indicators.high_value_share(valued, "flag_ai")
hv_last = hv[hv["period"] == periods[-1]].copy()
hv_all = float(hv_last.loc[hv_last["category"] == indicators.ALL_CATEGORIES, "share"].iloc[0])
with la.plot.house_style():
    fig, ax = plt.subplots(figsize=(8.5, 4.6))
    d = hv_last.set_index("category").reindex(cats)
    colors = [la.plot.OKABE_ITO[7] if c == indicators.ALL_CATEGORIES else la.plot.OKABE_ITO[0]
              for c in d.index]
    ax.barh(np.arange(len(d)), 100 * d["share"], color=colors)
    ax.set_yticks(np.arange(len(d)), d.index)
    ax.invert_yaxis()
    ax.axvline(100 * hv_all, color="#555555", ls="--", lw=0.9)
    ax.set_xlabel("High-value (> $1,000) share of AI-related posts, %")
    fig.suptitle(f"{hv_all:.0%} of AI-related posts in {periods[-1]} were high-value",
                 x=0.01, ha="left", fontweight="bold")
    la.plot.add_source(fig, mk.source)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
out.figure(fig, "ai_high_value_share", data=hv,
           caption=f"Share of AI-related job posts whose projected value exceeds $1,000, by "
                   f"category, {periods[-1]}; the dashed line marks all categories.",
           alt="Horizontal bar chart of the percentage of AI-related posts that are high-value "
               "in each category, with a dashed line for the overall share.",
           source=mk.source)

# %%
sk = indicators.skill_family_demand(flagged, "flag_ai", period="quarter")
top = (sk.groupby("family_label")["n_posts"].sum().sort_values(ascending=False).index[:5])
with la.plot.house_style():
    fig, ax = plt.subplots(figsize=(8.5, 4))
    for fam in top:
        d = sk[sk["family_label"] == fam]
        ax.plot(d["period"], 100 * d["share"], lw=1.6, marker="o", ms=2.5, label=fam)
    ticks = [p for p in sorted(sk["period"].unique()) if p.endswith("Q1")]
    ax.set_xticks(ticks, [t[:4] for t in ticks])
    ax.set_xlabel("Quarter posted")
    ax.set_ylabel("% of AI-related posts with a skill of the family")
    ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(f"Demand for generative-AI skills: {top[0]} leads", x=0.01, ha="left",
                 fontweight="bold")
    la.plot.add_source(fig, mk.source)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
out.figure(fig, "genai_skill_families", data=sk[sk["family_label"].isin(top)],
           caption="Share of AI-related job posts asking for a skill of each of the five largest "
                   "generative-AI skill families, by quarter (a post can ask for several).",
           alt="Line chart of the quarterly percentage of AI-related posts requiring each of five "
               "generative-AI skill families.",
           source=mk.source)

# %%
tech = indicators.category_group_share(flagged, ["Data Science & Analytics",
                                                 "Web, Mobile & Software Dev"], "flag_ai")
tech_s = tech.set_index("period")["share"]
out.summary(f"AI work: the share of job posts that are AI-related {growth_text} "
            f"from {y0} to {y1}; the software and data-science categories' share of AI work went from "
            f"{tech_s.iloc[0]:.0%} ({periods[0]}) to {tech_s.iloc[-1]:.0%} ({periods[-1]}), and "
            f"{hv_all:.0%} of AI posts in {periods[-1]} were high-value.")

# %%
if mk.simulated:
    cal = indicators.calibration(valued)  # posts with a value (see the high-value share)
    show = cal[["indicator", "published", "measured", "tolerance", "within"]]
    out.table("calibration", show, section="methods", float_format="{:.3f}",
              caption=f"The simulated marketplace against the published figures it is calibrated "
                      f"to, measured end to end from the classifier flags ({int(cal['within'].sum())} "
                      f"of {len(cal)} within tolerance).")
    out.number("calibration_within", int(cal["within"].sum()),
               text=f"{int(cal['within'].sum())} of {len(cal)}")
out.close()
