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
# # Real data: one week of Upwork job posts, a month after ChatGPT
#
# The real Upwork snapshot (job posts returned by Upwork's search, published 23 Dec 2022 -
# 6 Jan 2023, 99% from 31 Dec on) is read with laborai's validating reader and its ready
# mapping for this export, every post is put in a value tier (fixed budgets as posted, hourly
# posts by a documented projection, posts without a budget in an explicit `unknown` tier), and
# every title is classified by the model trained on real, hand-labelled titles. The snapshot
# is one cross-section: it measures how much AI work there was and what it was worth, not the
# effect of generative AI (there is no before and after). Numbers are reported as they come out.

# %% tags=["parameters"]
seed = 2024                     # unused by the computations (none is random); recorded
figures_dir = "figures"         # where SVG/PNG/CSV go
results_dir = "build/results"   # where the analysis' JSON record goes

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import laborai as la
from laborai.report import AnalysisOutputs

out = AnalysisOutputs("real_upwork", title="Upwork job posts, first week of January 2023",
                      section="real_data", figures_dir=figures_dir, results_dir=results_dir)
out.citation("Upwork job posts, public search export of 1 and 3 January 2023, GitHub repository "
             "Canerakcasu/data, commit 4e2519bace70817c2a2e45ff2b6ae0107303e08a (no licence "
             "stated; collected for educational and research purposes).")
SOURCE = "Upwork job posts, 23 Dec 2022 - 6 Jan 2023 (public search export, Canerakcasu/data)"
CUT = 1000.0                    # the default tier cut: low <= $1,000 < high
assert la.taxonomy.value_tier([CUT, CUT + 0.01]).tolist() == ["low", "high"]
_TARGETS = {k: v for k, _, v, _ in la.indicators.PUBLISHED_TARGETS}
PUBLISHED = {"all": _TARGETS["high_value_share_2022_23"],
             "Translation": _TARGETS["translation_high_value_2022_23"]}
PUB_ALL, PUB_TR = f"{100 * PUBLISHED['all']:.0f}%", f"{100 * PUBLISHED['Translation']:.0f}%"

# %%
raw = la.datasets.upwork_snapshot(deduplicate=False)
rr = la.datasets.upwork_snapshot(canonical=True)
posts = rr.data
dup = raw.attrs["duplicates"]
rej = rr.rejected
reasons = rej.groupby("rule").size() if len(rej) else pd.Series(dtype=int)
acc = pd.DataFrame({
    "step": ["rows published (two files)", "repeats of a post (kept: latest observation)",
             "unique posts read", "kept by the reader",
             *[f"rejected: {r}" for r in reasons.index]],
    "posts": [int(dup["rows_read"]), int(dup["rows_read"]) - int(dup["rows"]), int(rr.n_read),
              len(posts), *[int(v) for v in reasons.to_numpy()]],
})
assert int(rr.n_read) == len(posts) + len(rej)
out.table("upwork_accounting", acc, float_format="{:,.0f}",
          caption="From the published files to the analysed posts: every row is kept or "
                  "rejected with a reason by la.read_job_posts(mapping='upwork_2023'). "
                  f"Taxonomy {la.taxonomy.version()}.")
bad = rej.loc[rej["rule"] == "country_known"] if len(rej) else rej
if len(bad):
    out.text(f"{len(bad)} post(s) are rejected because their client country is "
             f"{', '.join(sorted(set(map(str, bad['value_client_location_country']))))}, a name "
             "with no current ISO "
             "3166-1 code; no post is lost for any other reason.")

# %%
model = la.classify.real_title_model()
posts = posts.assign(is_ai=model.predict(posts, "ai").to_numpy(),
                     is_ai_query=la.classify.query(posts, "ai").to_numpy())
labels = la.classify.read_title_labels()
prev = la.classify.title_prevalence(labels, "ai").iloc[0]
by_cat = (posts.groupby("category")
          .agg(n_posts=("post_id", "size"), n_ai=("is_ai", "sum"), n_ai_query=("is_ai_query", "sum"))
          .reset_index())
by_cat["share_ai"] = by_cat["n_ai"] / by_cat["n_posts"]
by_cat["share_ai_query"] = by_cat["n_ai_query"] / by_cat["n_posts"]
by_cat = la.plot.suppress_small(by_cat, "n_posts", ["share_ai", "share_ai_query"])
by_cat = by_cat.sort_values("share_ai", ascending=True, na_position="first").reset_index(drop=True)
overall = float(posts["is_ai"].mean())
with la.plot.house_style():
    fig, ax = plt.subplots(figsize=(8.5, 4.8))
    y = np.arange(len(by_cat))
    ax.barh(y, 100 * by_cat["share_ai"], color=la.plot.OKABE_ITO[0], height=0.6,
            label="AI posts (title model trained on real labelled titles)")
    ax.scatter(100 * by_cat["share_ai_query"], y, marker="|", s=120, color="black", zorder=3,
               label="keyword query")
    ax.set_yticks(y, [f"{c} (n = {n:,})" for c, n in zip(by_cat["category"], by_cat["n_posts"],
                                                         strict=True)])
    ax.set_xlabel("Share of the category's posts, %")
    top = by_cat.dropna(subset=["share_ai"]).iloc[-1]
    fig.suptitle(f"AI work is concentrated in {top['category']} ({100 * top['share_ai']:.0f}% "
                 f"of its posts); {100 * overall:.1f}% of all posts", x=0.01, ha="left",
                 fontweight="bold")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    la.plot.add_source(fig, SOURCE)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
out.figure(fig, "upwork_ai_share_by_category", data=by_cat,
           caption="Share of real Upwork job posts that are AI work, by category, first week of "
                   "January 2023: flags of laborai's title model (cross-validated on 2,122 real "
                   "hand-labelled titles, docs/classifier.md) and of the keyword query.",
           alt="Horizontal bar chart: for each of Upwork's 12 categories the percentage of job "
               "posts classified as AI work, with a tick for the keyword query's percentage.",
           source=SOURCE)
out.number("upwork_ai_share", overall, text=f"{100 * overall:.1f}%")
out.text(f"The title model flags {int(posts['is_ai'].sum())} of {len(posts):,} posts "
         f"({100 * overall:.2f}%) as AI work; the keyword query flags "
         f"{int(posts['is_ai_query'].sum())} ({100 * posts['is_ai_query'].mean():.2f}%). The "
         f"hand labels give an independent check: weighting each labelled title by the inverse "
         f"of its stratum's sampling fraction (the labelled sample is enriched with query "
         f"matches), {100 * prev['estimate']:.2f}% of the snapshot's titles are AI work (95% CI "
         f"{100 * prev['conf_low']:.2f}% to {100 * prev['conf_high']:.2f}%, Clopper-Pearson "
         f"through the stratified estimator).")

# %%
valued = posts[posts["value_basis"] != "none"]
dist = (valued.assign(log10_value=np.log10(valued["contract_value_usd"].clip(lower=1.0)))
        [["value_basis", "log10_value", "contract_value_usd"]])
q = (dist.groupby("value_basis")["contract_value_usd"]
     .describe(percentiles=[0.1, 0.25, 0.5, 0.75, 0.9]).reset_index())
with la.plot.house_style():
    fig, ax = plt.subplots(figsize=(8, 3.8))
    bins = np.linspace(0, 6, 49)
    for basis, col, lab in (("fixed_budget", la.plot.OKABE_ITO[0], "fixed budget (as posted)"),
                            ("hourly_projection", la.plot.OKABE_ITO[1],
                             "hourly: rate x weekly hours x weeks (projection)")):
        v = dist.loc[dist["value_basis"] == basis, "log10_value"]
        ax.hist(v, bins=bins, histtype="step", lw=1.6, color=col,
                label=f"{lab}, n = {len(v):,}", density=True)
    ax.axvline(np.log10(CUT), color="#555555", lw=0.9, ls="--")
    ax.set_xticks(range(7), ["$1", "$10", "$100", "$1k", "$10k", "$100k", "$1M"])
    ax.set_xlabel("Contract value (log scale); dashed: the $1,000 tier cut")
    ax.set_ylabel("density")
    share_hi = {b: float((valued.loc[valued["value_basis"] == b, "contract_value_usd"] > CUT).mean())
                for b in ("fixed_budget", "hourly_projection")}
    fig.suptitle(f"Fixed budgets are small ({100 * share_hi['fixed_budget']:.0f}% above "
                 f"$1,000); projected hourly contracts are not "
                 f"({100 * share_hi['hourly_projection']:.0f}%)", x=0.01, ha="left",
                 fontweight="bold")
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    la.plot.add_source(fig, SOURCE)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
hist = pd.concat([
    pd.DataFrame({"value_basis": b, "bin_low": bins[:-1], "bin_high": bins[1:],
                  "n_posts": np.histogram(dist.loc[dist["value_basis"] == b, "log10_value"],
                                          bins=bins)[0]})
    for b in ("fixed_budget", "hourly_projection")], ignore_index=True)
out.figure(fig, "upwork_value_distribution", data=hist,
           caption="Distribution of contract values of real Upwork posts by how the value is "
                   f"known. {int((posts['value_basis'] == 'none').sum()):,} posts without a "
                   "budget are in the unknown tier and not drawn.",
           alt="Two step histograms on a log dollar scale: fixed budgets peak below $100, projected "
               "hourly contract values peak between $1,000 and $10,000; a dashed line marks $1,000.",
           source=SOURCE)

# %%
def high_share(d: pd.DataFrame) -> tuple[float, int]:
    n = len(d)
    high = la.taxonomy.value_tier(d["contract_value_usd"]) == "high"
    return (float(high.mean()) if n else float("nan")), n


rows = []
for scope, sel in (("all categories", posts["category"].notna()),
                   ("Translation", posts["category"] == "Translation")):
    for basis_lab, bsel in (("fixed budgets and hourly projections",
                             posts["value_basis"] != "none"),
                            ("fixed budgets only", posts["value_basis"] == "fixed_budget")):
        ai = posts[sel & bsel & posts["is_ai"]]
        every = posts[sel & bsel]
        s_ai, n_ai = high_share(ai)
        s_all, n_all = high_share(every)
        rows.append({"scope": scope, "value basis": basis_lab, "AI posts": n_ai,
                     "AI posts over $1,000": s_ai, "all posts": n_all,
                     "all posts over $1,000": s_all,
                     "published (AI posts, 2022-23)": PUBLISHED["all" if scope ==
                                                                "all categories" else
                                                                "Translation"],
                     "AI posts without a budget": int((sel & posts["is_ai"]
                                                       & (posts["value_basis"] == "none")).sum())})
hv = pd.DataFrame(rows)
hv = hv.astype({"AI posts over $1,000": float, "all posts over $1,000": float})
hv.loc[hv["AI posts"] < la.plot.MIN_CELL, "AI posts over $1,000"] = np.nan
out.table("upwork_high_value_share", hv, float_format="{:.2f}",
          caption="Share of AI posts whose contract value exceeds $1,000 in the real snapshot, "
                  f"beside the published figures ({PUB_ALL} of AI posts high-value in 2022-23, "
                  f"{PUB_TR} in "
                  "Translation). Same basis as the published figures and laborai's indicator "
                  "(indicators.high_value_share): job posts, tiered by the post's contract "
                  "value; posts without a budget are left out of the denominator and counted. "
                  f"Shares of fewer than {la.plot.MIN_CELL} AI posts are suppressed.")
a = hv.iloc[0]
out.number("upwork_ai_high_value_share", float(a["AI posts over $1,000"]),
           text=f"{100 * a['AI posts over $1,000']:.0f}%")
tr = hv[(hv["scope"] == "Translation")].iloc[0]
tr_txt = (f"{100 * tr['AI posts over $1,000']:.0f}% of {int(tr['AI posts'])}"
          if np.isfinite(tr["AI posts over $1,000"]) else
          f"too few to show ({int(tr['AI posts'])} AI posts)")
out.text(f"Of the {int(a['AI posts'])} AI posts with a value, "
         f"{100 * a['AI posts over $1,000']:.0f}% exceed $1,000 (all posts: "
         f"{100 * a['all posts over $1,000']:.0f}%), against the published {PUB_ALL} for "
         f"2022-23; in Translation, {tr_txt}, against {PUB_TR}. Caveats: one week at the turn of the year, not a "
         "year; posted budgets and projected hourly values, not paid contracts; the projection "
         "assumes the hours and weeks in la.taxonomy.hourly_projection() for Upwork's engagement "
         "and duration labels; and the classifier's errors (docs/classifier.md) carry into "
         "the counts.")
out.summary(f"Real Upwork posts (first week of 2023): {100 * overall:.1f}% are AI work by the "
            f"title model; {100 * a['AI posts over $1,000']:.0f}% of AI posts with a value "
            f"exceed $1,000 (published for 2022-23: {PUB_ALL}).")
out.close()
