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
# # Real data: Indeed job postings by occupational LLM exposure around ChatGPT
#
# Did job postings fall more, after ChatGPT's release (30 November 2022), in occupational
# sectors whose tasks large language models can do? Indeed Hiring Lab's job-postings index for
# about 48 occupational sectors in six countries is joined to each sector's exposure to LLMs
# (GPTs-are-GPTs, Eloundou et al. 2024, averaged over the O*NET occupations in laborai's
# crosswalk) and analysed with difference-in-differences: exposure dose x post-ChatGPT with
# sector and month fixed effects, the binary high- vs low-exposure tercile comparison, a
# six-country stack, an event study with a joint pre-trend test and sup-t bands, robustness to
# the 2022-23 technology hiring slump and HonestDiD sensitivity. The numbers are reported as
# they come out; nothing in the text is typed by hand. The data are public indexes of
# aggregate postings, not microdata: there are no small cells to suppress (each tercile line
# averages at least 10 sectors, checked below).

# %% tags=["parameters"]
seed = 2024                     # wild bootstrap and simulation seeds
n_boot = 9999                   # wild cluster bootstrap draws
figures_dir = "figures"         # where SVG/PNG/CSV go
results_dir = "build/results"   # where the analysis' JSON record goes

# %%
import textwrap
import warnings

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import laborai as la
import laborai.datasets as ds
from laborai.report import AnalysisOutputs
from laborai.studies import realdata as rd

out = AnalysisOutputs("real_indeed_exposure",
                      title="Indeed job postings by occupational LLM exposure around ChatGPT",
                      section="real_data", figures_dir=figures_dir, results_dir=results_dir)
SOURCE = rd.SOURCE
SIX = ("US", "GB", "DE", "FR", "CA", "AU")
NAMES = {"US": "United States", "GB": "United Kingdom", "DE": "Germany", "FR": "France",
         "CA": "Canada", "AU": "Australia"}
IN = {c: ("the " if c in ("US", "GB") else "") + n for c, n in NAMES.items()}
CHATGPT = rd.CHATGPT_RELEASE


def pct(x: float | np.ndarray) -> float | np.ndarray:
    """Log points to percent."""
    return 100 * (np.exp(x) - 1)


def fmt_p(p: float) -> str:
    """p-value for text: '< 0.001' or '= 0.012'."""
    return "< 0.001" if p < 0.0005 else f"= {p:.3f}"


def words(n: int) -> str:
    """A small count in words ('six'), larger ones in digits."""
    names = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    return names[n] if 0 <= n < len(names) else str(n)


N_C = words(len(SIX))   # "six": the number of countries, in words


def fmt_share(x: float) -> str:
    """A small percentage with enough decimals to be non-zero."""
    return f"{x:.3f}%" if abs(x) < 0.1 else f"{x:.2f}%"


def headline(fig: plt.Figure, text: str, width: int = 92) -> None:
    """The figure's title, stating the finding, wrapped to the figure width."""
    width = min(width, int(fig.get_figwidth() * 10.5))   # ~10.5 bold characters per inch
    fig.suptitle(textwrap.fill(text, width), x=0.01, ha="left", fontweight="bold",
                 fontsize=10.5)


out.citation("Indeed Hiring Lab. Job Postings Tracker (job postings index by occupational sector) "
             "and AI Tracker (share of postings mentioning AI / generative AI). "
             "https://github.com/hiring-lab. Licensed CC BY 4.0.")
out.citation("Eloundou, T., Manning, S., Mishkin, P., and Rock, D. (2024). GPTs are GPTs: Labor "
             "market impact potential of LLMs. Science, 384(6702), 1306-1308. "
             "https://doi.org/10.1126/science.adj0998")
out.citation("Rambachan, A. and Roth, J. (2023). A More Credible Approach to Parallel Trends. "
             "Review of Economic Studies, 90(5), 2555-2591.")

# %% [markdown]
# ## Data: the sector x month panel

# %%
us = rd.sector_month_panel(["US"])
six = rd.sector_month_panel(SIX)
cov = six.coverage()
cov_show = cov.assign(first_month=cov["first_month"].dt.strftime("%Y-%m"),
                      last_month=cov["last_month"].dt.strftime("%Y-%m"))
out.table("real_panel_coverage", cov_show,
          caption="Monthly panels built from Indeed's daily sector index (log of the monthly "
                  "mean). Sector-months with fewer than 20 daily observations (the last, "
                  "partial month of a file) are excluded and counted here; every sector has an "
                  "exposure score, so no sector is excluded.", float_format="{:,.0f}")
n_partial = len(six.excluded)
out.text(f"The US panel has {us.data['sector'].nunique()} sectors x "
         f"{us.data['month'].nunique()} months ({us.data['month'].min():%B %Y} to "
         f"{us.data['month'].max():%B %Y}); the {N_C}-country panel has {len(six.data):,} "
         f"sector-months in {six.data['unit'].nunique()} country-sectors covering "
         f"{six.data['sector'].nunique()} distinct sectors. {n_partial} sector-months were left "
         f"out because the file ends early in the month (listed in the panel's excluded table); "
         f"nothing else was dropped. The outcome is the log of the monthly mean of Indeed's "
         f"index (100 on 1 February 2020), i.e. log postings up to a sector constant; post = "
         f"December 2022 onwards.")

# exposure scale: the gap between the average high- and low-tercile sector of the crosswalk
def tercile_gap(measure: str) -> float:
    e = ds.sector_exposure(measure)  # type: ignore[arg-type]
    # the panel's own tercile cuts (computed from the same crosswalk exposure table)
    lo, hi = (us.tercile_cuts[measure] if measure in us.tercile_cuts
              else np.quantile(e["exposure"].dropna(), [1 / 3, 2 / 3]))
    return float(e.loc[e["exposure"] > hi, "exposure"].mean()
                 - e.loc[e["exposure"] <= lo, "exposure"].mean())


GAP = {m: tercile_gap(m) for m in ("gpt4_beta", "human_beta")}
out.text(f"Exposure (GPT-4-rated beta: the share of a sector's tasks an LLM, alone or with "
         f"tools built on it, could do at least twice as fast) ranges from "
         f"{us.data['gpt4_beta'].min():.2f} ({us.data.loc[us.data['gpt4_beta'].idxmin(), 'sector']}) "
         f"to {us.data['gpt4_beta'].max():.2f} "
         f"({us.data.loc[us.data['gpt4_beta'].idxmax(), 'sector']}) across US sectors. "
         f"To make the continuous-dose coefficients comparable with the tercile comparison, "
         f"they are also shown for a dose difference of {GAP['gpt4_beta']:.2f}, the gap between "
         f"the average high-tercile and the average low-tercile sector.")

# %% [markdown]
# ## Descriptive: how often do postings mention generative AI?

# %%
g = rd.genai_share_by_month(SIX)
g = g[(g["n_days"] >= 20) & (g["month"] >= "2021-01-01")].reset_index(drop=True)
us_g = g[g["country"] == "US"].set_index("month")["share_percent"]
before = float(us_g.loc["2022-11-01"])
last_month = us_g.index.max()
after = float(us_g.loc[last_month])
top = g[g["month"] == g["month"].max()].sort_values("share_percent", ascending=False).iloc[0]
with la.plot.house_style():
    fig, ax = plt.subplots(figsize=(8, 4))
    for c in SIX:
        d = g[g["country"] == c]
        ax.plot(d["month"], d["share_percent"], label=NAMES[c], lw=1.6)
    ax.axvline(CHATGPT, color="#555555", ls="--", lw=0.9)
    ax.text(CHATGPT + pd.Timedelta(days=20), 0.97, "ChatGPT released", fontsize=8, va="top",
            transform=ax.get_xaxis_transform())
    ax.set_ylabel("Postings mentioning GenAI, %")
    ax.set_xlabel("Month (monthly mean of the daily share)")
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.legend(loc="upper left", ncol=2, fontsize=8)
    headline(fig, f"Generative-AI mentions went from {fmt_share(before)} of US job postings in "
                  f"November 2022 to {fmt_share(after)} in {last_month:%B %Y}")
    la.plot.add_source(fig, "Indeed Hiring Lab AI Tracker, CC BY 4.0")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
out.figure(fig, "real_genai_share", data=g,
           caption="Share of Indeed job postings whose text mentions generative-AI terms, "
                   f"monthly mean of the daily share, {N_C} countries, January 2021 onwards "
                   "(months with fewer than 20 daily observations left out).",
           alt="Line chart of the monthly percentage of job postings mentioning generative AI "
               "in the United States, United Kingdom, Germany, France, Canada and Australia from "
               "2021; the lines are near zero until ChatGPT's release in November 2022 and rise "
               "afterwards.",
           source="Indeed Hiring Lab AI Tracker, CC BY 4.0")
out.number("genai_share_us_last", after, text=fmt_share(after))
out.text(f"Mentions of generative AI in job ads were close to zero before ChatGPT "
         f"({fmt_share(before)} of US postings in November 2022) and reached {fmt_share(after)} in "
         f"{last_month:%B %Y}; the highest share in the last month of data is in "
         f"{IN[top['country']]} ({fmt_share(top['share_percent'])}). Even so, they remain a small "
         f"fraction of all postings.")

# %% [markdown]
# ## Raw trends: postings by exposure tercile (US)

# %%
d = us.data
tr = (d.groupby(["tercile", "month"], as_index=False)
      .agg(mean_log=("log_postings", "mean"), n_sectors=("sector", "nunique")))
base = tr[tr["month"] == "2022-11-01"].set_index("tercile")["mean_log"]
tr["index_nov2022"] = 100 * np.exp(tr["mean_log"] - tr["tercile"].map(base))
tr = la.plot.suppress_small(tr, "n_sectors", ["index_nov2022"])
assert not tr["suppressed"].any()


def growth(terc: str, a: str, b: str) -> float:
    s = tr[tr["tercile"] == terc].set_index("month")["mean_log"]
    return float(pct(s.loc[b] - s.loc[a]))


last = f"{d['month'].max():%Y-%m-%d}"
g_hi_pre, g_lo_pre = growth("high", "2021-01-01", "2022-11-01"), growth("low", "2021-01-01", "2022-11-01")
g_hi_post, g_lo_post = growth("high", "2022-11-01", last), growth("low", "2022-11-01", last)
g_mid_pre, g_mid_post = growth("mid", "2021-01-01", "2022-11-01"), growth("mid", "2022-11-01", last)
hi_grew_most = g_hi_pre > max(g_lo_pre, g_mid_pre)
hi_fell_most = g_hi_post < min(g_lo_post, g_mid_post)
labels_t = {"low": "Low exposure", "mid": "Middle", "high": "High exposure"}
with la.plot.house_style():
    fig, ax = plt.subplots(figsize=(8, 4))
    for terc, col in (("high", "#D55E00"), ("mid", "#999999"), ("low", "#0072B2")):
        s = tr[tr["tercile"] == terc]
        ax.plot(s["month"], s["index_nov2022"], color=col, lw=1.8,
                label=f"{labels_t[terc]} ({int(s['n_sectors'].iloc[0])} sectors)")
    ax.axvline(CHATGPT, color="#555555", ls="--", lw=0.9)
    ax.text(CHATGPT + pd.Timedelta(days=20), 0.97, "ChatGPT", fontsize=8, va="top",
            transform=ax.get_xaxis_transform())
    ax.set_ylabel("Job postings, geometric mean index\n(November 2022 = 100)")
    ax.set_xlabel("Month")
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.legend(loc="lower center", fontsize=8)
    headline(fig, f"US postings in high-exposure sectors grew {g_hi_pre:+.0f}% (low exposure: "
                  f"{g_lo_pre:+.0f}%) from January 2021 to November 2022, then changed "
                  f"{g_hi_post:+.0f}% (low exposure: {g_lo_post:+.0f}%) to "
                  f"{d['month'].max():%B %Y}")
    la.plot.add_source(fig, SOURCE)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
out.figure(fig, "real_postings_by_tercile", data=tr,
           caption="Indeed job postings in US occupational sectors grouped by GPT-4-rated LLM "
                   "exposure tercile: geometric mean across the sectors of each tercile of the "
                   "monthly index, November 2022 = 100.",
           alt="Line chart of job postings from February 2020 for US sectors with high, middle "
               "and low LLM exposure, indexed to November 2022; from January 2021 to November "
               "2022 the high-exposure line "
               + ("grows faster than the others" if hi_grew_most
                  else "does not grow faster than both others")
               + ", and after late 2022 it "
               + ("falls below them." if hi_fell_most else "does not fall below both others."),
           source=SOURCE)
peak = tr[(tr["tercile"] == "high") & (tr["month"] < "2022-11-01")]
peak = peak.loc[peak["index_nov2022"].idxmax()]
top_high = (d[d["tercile"] == "high"].drop_duplicates("sector")
            .sort_values("gpt4_beta", ascending=False)["sector"].head(5).tolist())
months_before = (2022 - peak["month"].year) * 12 + 11 - peak["month"].month
declined_before = bool(peak["index_nov2022"] > 100 and months_before > 0)
out.text(("The raw series already show the identification problem. " if declined_before and
          hi_grew_most else "")
         + f"Between January 2021 and November 2022, postings in the most exposed third of US sectors grew by "
         f"{g_hi_pre:+.0f}% against {g_lo_pre:+.0f}% in the least exposed third; from November "
         f"2022 to {d['month'].max():%B %Y} they changed by {g_hi_post:+.0f}% against "
         f"{g_lo_post:+.0f}%. "
         + (f"The high-exposure group peaked in {peak['month']:%B %Y} at "
            f"{peak['index_nov2022']:.0f} (November 2022 = 100), so its decline began "
            f"{months_before} months before ChatGPT. " if declined_before else
            f"Before November 2022 the high-exposure group's highest level was "
            f"{peak['index_nov2022']:.0f} (November 2022 = 100, in {peak['month']:%B %Y}), so it "
            f"was not declining when ChatGPT arrived. ")
         + f"Its most exposed sectors are {', '.join(top_high)}"
         + (": white-collar occupations that boomed in 2021-22 and cooled with the 2022-23 "
            "technology slump and rising interest rates." if hi_grew_most and declined_before
            else "."))

# %% [markdown]
# ## Difference-in-differences: every specification

# %%
spec = rd.specification_table(us, six, n_boot=n_boot, seed=seed)
es = rd.exposure_event_study(us, seed=seed)  # drawn below; its pre-trend test qualifies the DiD
pt = es.pretrend
gap_of = {"dose": GAP["gpt4_beta"], "dose_human": GAP["human_beta"], "tercile": 1.0,
          "drop_tech": GAP["gpt4_beta"], "sector_trends": GAP["gpt4_beta"],
          "stacked": GAP["gpt4_beta"]}
spec["scale"] = spec["spec"].map(gap_of)
for c in ("estimate", "conf_low", "conf_high"):
    spec[f"{c}_pct"] = pct(spec[c] * spec["scale"])
main = spec.set_index("spec").loc["dose"]
stk = spec.set_index("spec").loc["stacked"]
tech = rd.tech_sectors()

show = spec[["label", "term", "estimate", "std_error", "conf_low", "conf_high", "p_value",
             "wild_p_value", "estimate_pct", "nobs", "n_clusters"]].rename(columns={
                 "estimate_pct": "high_vs_low_pct"})
out.table("real_did_specifications", show,
          caption="Difference-in-differences of log postings on LLM exposure x post (December "
                  "2022 onwards). Estimates in log points per unit of exposure (dose rows) or "
                  "for high vs low tercile; 95% CIs and p-values from standard errors clustered "
                  "by sector (t with G-1 df); wild_p_value: wild cluster restricted bootstrap by "
                  f"sector ({n_boot:,} Rademacher draws, seed {seed}); high_vs_low_pct: the "
                  "estimate at the gap between the average high- and low-tercile sector, in %. "
                  f"Tech sectors dropped: {', '.join(tech)}.", float_format="{:.3f}")

with la.plot.house_style():
    fig, ax = plt.subplots(figsize=(8, 4.2))
    y = np.arange(len(spec))[::-1]
    ax.hlines(y, spec["conf_low_pct"], spec["conf_high_pct"], color="#0072B2", lw=2)
    ax.plot(spec["estimate_pct"], y, "o", color="#0072B2", ms=6)
    for yi, r in zip(y, spec.itertuples(), strict=True):
        ax.text(1.01, yi, f"wild p {fmt_p(r.wild_p_value)}", transform=ax.get_yaxis_transform(),
                va="center", fontsize=8)
    ax.axvline(0, color="#555555", lw=0.8)
    ax.set_yticks(y, spec["label"].tolist())
    ax.set_xlabel("Change in postings after ChatGPT, high vs low exposure sector, % (95% CI)")
    lo_, hi_ = spec["estimate_pct"].min(), spec["estimate_pct"].max()
    all_sig = bool(((spec["conf_high"] < 0) | (spec["conf_low"] > 0)).all())
    rng = (f" {-hi_:.0f}% to {-lo_:.0f}% fewer postings in high- than in low-exposure sectors "
           if hi_ < 0 else
           f" changes of {lo_:+.0f}% to {hi_:+.0f}% in postings in high- relative to "
           "low-exposure sectors ")
    headline(fig, (f"All {words(len(spec))} specifications estimate" if all_sig
                   else "The specifications estimate")
             + rng + "after ChatGPT" + ("" if all_sig else " (not all significant)")
             + ("; pre-trends (below) mean this is not a clean causal effect"
                if pt["p_value"] < 0.05 else ""))
    la.plot.add_source(fig, SOURCE)
    fig.tight_layout(rect=(0, 0.03, 0.9, 1))
out.figure(fig, "real_did_specifications", data=spec,
           caption="Difference-in-differences estimates of the change in log postings after "
                   "ChatGPT in high- vs low-exposure sectors across specifications, converted to "
                   "percent for the gap between the average high- and low-tercile sector; 95% "
                   "CIs clustered by sector, wild cluster bootstrap p-values at right. The "
                   "pre-trend tests below show that these are not clean causal effects.",
           alt=f"Dot-and-whisker chart of {words(len(spec))} estimates "
               f"({'; '.join(spec['label'])}), each with a 95% confidence interval, on a "
               "percent scale with a vertical line at zero.",
           source=SOURCE)
out.number("real_dose_us", float(main["estimate"]), text=f"{main['estimate']:.3f}")
out.number("real_dose_us_conf_low", float(main["conf_low"]), text=f"{main['conf_low']:.3f}")
out.number("real_dose_us_conf_high", float(main["conf_high"]), text=f"{main['conf_high']:.3f}")
out.number("real_dose_us_wild_p", float(main["wild_p_value"]), text=fmt_p(main["wild_p_value"]))
out.number("real_dose_stacked", float(stk["estimate"]), text=f"{stk['estimate']:.3f}")
sp = spec.set_index("spec")
out.text(f"In the US, one unit of exposure (0 to 1) goes with {main['estimate']:+.3f} log points "
         f"of postings after ChatGPT (95% CI {main['conf_low']:+.3f} to {main['conf_high']:+.3f}, "
         f"sector-clustered p {fmt_p(main['p_value'])}, wild bootstrap p "
         f"{fmt_p(main['wild_p_value'])}, {int(main['n_clusters'])} sectors); for the gap between "
         f"the average high- and low-exposure sector that is {main['estimate_pct']:+.1f}% "
         f"({main['conf_low_pct']:+.1f}% to {main['conf_high_pct']:+.1f}%). The human-rated "
         f"exposure gives {sp.loc['dose_human', 'estimate_pct']:+.1f}%, the binary high- vs "
         f"low-tercile comparison {sp.loc['tercile', 'estimate_pct']:+.1f}% "
         f"({sp.loc['tercile', 'conf_low_pct']:+.1f}% to {sp.loc['tercile', 'conf_high_pct']:+.1f}%), "
         f"and the {N_C}-country stack with country x month effects {stk['estimate']:+.3f} log points "
         f"per unit ({stk['estimate_pct']:+.1f}%, 95% CI {stk['conf_low_pct']:+.1f}% to "
         f"{stk['conf_high_pct']:+.1f}%, wild bootstrap p {fmt_p(stk['wild_p_value'])}, "
         f"{int(stk['n_clusters'])} sector clusters).")
dt = sp.loc["drop_tech"]
out.text(f"Robustness to the technology slump: without {' and '.join(tech)} the US estimate is "
         f"{dt['estimate_pct']:+.1f}% ({dt['conf_low_pct']:+.1f}% to {dt['conf_high_pct']:+.1f}%, "
         f"wild bootstrap p {fmt_p(dt['wild_p_value'])}), "
         + (f"so the association is not driven by "
            f"{'that sector' if len(tech) == 1 else f'those {words(len(tech))} sectors'} alone. "
            if dt["conf_high"] < 0 else "so the association rests largely on those sectors. ")
         + f"Removing each sector's linear pre-ChatGPT trend moves it to "
         f"{sp.loc['sector_trends', 'estimate_pct']:+.1f}% "
         f"({sp.loc['sector_trends', 'conf_low_pct']:+.1f}% to "
         f"{sp.loc['sector_trends', 'conf_high_pct']:+.1f}%); a linear trend fits the 2020-22 "
         f"hump (COVID trough, boom, cooling) poorly, so this correction is itself fragile.")

# %% [markdown]
# ## Event study: when did the exposed sectors diverge? (US, event quarters)

# %%
et = es.tidy()
ref_row = es.periods[es.periods["event_time"] == -1].iloc[0]
k = GAP["gpt4_beta"]
draw = pd.concat([et, pd.DataFrame({"event_time": [-1], "estimate": [0.0], "first_month":
                                    [ref_row["first_month"]], "last_month":
                                    [ref_row["last_month"]], "n_months": [3]})],
                 ignore_index=True).sort_values("event_time").reset_index(drop=True)
for c in ("estimate", "conf_low", "conf_high", "point_conf_low", "point_conf_high"):
    draw[f"{c}_pct"] = pct(draw[c] * k)
draw["mid_month"] = draw["first_month"] + pd.Timedelta(days=45)
leads = et[et["event_time"] < 0]
post_e = et[et["event_time"] >= 0]
n_post = len(post_e)
post_move = "fall" if post_e["estimate"].mean() < 0 else "rise"
with la.plot.house_style():
    fig, ax = plt.subplots(figsize=(8, 4.2))
    dd = draw.dropna(subset=["conf_low"])
    ax.fill_between(dd["mid_month"], dd["conf_low_pct"], dd["conf_high_pct"], color="#0072B2",
                    alpha=0.15, lw=0, label="95% simultaneous (sup-t) band")
    ax.vlines(dd["mid_month"], dd["point_conf_low_pct"], dd["point_conf_high_pct"],
              color="#0072B2", lw=1.4, label="95% pointwise CI")
    ax.plot(draw["mid_month"], draw["estimate_pct"], "o", color="#0072B2", ms=4,
            label="Estimate")
    r0 = draw[draw["event_time"] == -1]
    ax.plot(r0["mid_month"], r0["estimate_pct"], "o", mfc="white", color="#0072B2", ms=5,
            label="Reference quarter (Sep-Nov 2022)")
    ax.axhline(0, color="#555555", lw=0.8)
    ax.axvline(CHATGPT, color="#555555", ls="--", lw=0.9)
    ax.set_ylabel("High vs low exposure sector,\ndifference in postings, %")
    ax.set_xlabel("Quarter (three-month periods aligned on December 2022)")
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.legend(loc="lower left", fontsize=7.5)
    if pt["p_value"] < 0.05:
        ttl = (f"Exposed US sectors were already diverging before ChatGPT (pre-trend test p "
               f"{fmt_p(pt['p_value'])}), so the post-ChatGPT {post_move} is not cleanly identified")
    else:
        ttl = (f"No detectable divergence before ChatGPT (pre-trend p {fmt_p(pt['p_value'])}); "
               f"postings in exposed sectors moved by {pct(post_e['estimate'].mean() * k):+.0f}% "
               "after")
    headline(fig, ttl)
    la.plot.add_source(fig, SOURCE)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
out.figure(fig, "real_event_study_us", data=draw,
           caption="Event study of log postings on GPT-4-rated exposure, US sectors, event "
                   "quarters (Dec-Feb = 0, reference Sep-Nov 2022), sector and quarter fixed "
                   "effects, standard errors clustered by sector; coefficients shown for the gap "
                   "between the average high- and low-tercile sector, in %. Incomplete quarters "
                   "at the ends of the sample (February 2020, September 2024) are left out.",
           alt="Event-study chart by quarter from 2020 to 2024: estimates with pointwise "
               "intervals and a shaded simultaneous band for the difference in postings between "
               "high- and low-exposure US sectors relative to September-November 2022, with a "
               "dashed line at ChatGPT's release.",
           source=SOURCE)
out.number("real_pretrend_p", float(pt["p_value"]), text=fmt_p(pt["p_value"]))
imax = leads.loc[leads["estimate"].idxmax()]
imin = leads.loc[leads["estimate"].idxmin()]
last_lead = leads.loc[leads["event_time"].idxmax()]
trend_2022 = ("already shrinking before ChatGPT" if last_lead["estimate"] < imax["estimate"]
              and imax["event_time"] > imin["event_time"] else "not shrinking before ChatGPT")
first_post = float(post_e["estimate"].iloc[0])   # relative to the reference quarter (0)
after_first = ("kept falling" if first_post < 0 and trend_2022.startswith("already") else
               "fell" if first_post < 0 else "rose")
out.text(("The event study shows why the DiD estimates should not be read as the effect of "
          "ChatGPT. " if pt["p_value"] < 0.05 else "The event study supports the design. ")
         + f"The {int(pt['df1'])} pre-ChatGPT quarterly coefficients are jointly "
         + ("far from zero" if pt["p_value"] < 0.05 else "indistinguishable from zero")
         + (f" (F({int(pt['df1'])}, {pt['df2']:.0f}) = {pt['statistic']:.1f}, p "
            if pt.get("df2") is not None else
            f" (wild cluster bootstrap test, sum of squared t = {pt['statistic']:.1f}, p ")
         + f"{fmt_p(pt['p_value'])}): relative to September-November 2022, the high- vs "
         f"low-exposure gap was {pct(imin['estimate'] * k):+.0f}% in "
         f"{imin['first_month']:%b %Y}-{imin['last_month']:%b %Y} and "
         f"{pct(imax['estimate'] * k):+.0f}% in {imax['first_month']:%b %Y}-"
         f"{imax['last_month']:%b %Y}, and it was {trend_2022} "
         f"({pct(last_lead['estimate'] * k):+.0f}% in {last_lead['first_month']:%b}-"
         f"{last_lead['last_month']:%b %Y}). After ChatGPT "
         f"it {after_first}, to {pct(post_e['estimate'].iloc[0] * k):+.0f}% in the first "
         f"quarter "
         f"and {pct(post_e['estimate'].iloc[-1] * k):+.0f}% in "
         f"{post_e['first_month'].iloc[-1]:%b}-{post_e['last_month'].iloc[-1]:%b %Y} (sup-t "
         f"critical value {es.event_study.crit_sup_t:.2f}).")

# How large a trend could that pre-test have caught (Roth 2022)? Power of the rule "no lead
# individually significant at 5%" under the event study's own covariance.
try:
    with warnings.catch_warnings():  # an integration error of ~1e-5 (recorded on the result)
        warnings.simplefilter("ignore", la.errors.ConvergenceWarning)
        pw = la.did.pretrends_power(es.event_study)
    out.number("real_pretrend_slope_50", float(pw.slope_for_power),
               text=f"{pw.slope_for_power:.3f}")
    out.text("How large a trend could this pre-test have caught (Roth 2022)? With the event "
             "study's own covariance and the rule that no pre-ChatGPT quarter may be "
             "individually significant at 5%: " + pw.sentence() + " The slope is in the units of "
             "the dose coefficient per quarter.")
except la.errors.LaborAIError as exc:
    out.text(f"The power of this pre-test (Roth 2022) cannot be computed here: {exc}")

# %% [markdown]
# ## HonestDiD: how large a violation of parallel trends would explain the post-period gap?

# %%
rm_grid = [0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0]
h_rm = rd.honest_sensitivity(es, method="relative_magnitude", grid=rm_grid, seed=seed)
sd_grid = [0.0, 0.01, 0.02, 0.05, 0.1]
h_sd = rd.honest_sensitivity(es, method="smoothness", grid=sd_grid, seed=seed)
bd_rm = h_rm.breakdown()
bd_sd = h_sd.breakdown()
hon = pd.concat([h_rm.tidy(), h_sd.tidy()[h_sd.tidy()["method"] != "original"]],
                ignore_index=True)
for c in ("estimate", "conf_low", "conf_high"):
    hon[f"{c}_pct"] = pct(hon[c] * k)
hon["m_scaled"] = np.where(hon["method"] == "smoothness", hon["m"] * k, hon["m"])
orig = hon[hon["method"] == "original"].iloc[0]
sd0 = hon[(hon["method"] == "smoothness") & (hon["m"] == 0)].iloc[0]
sd_contains_zero = bool(sd0["conf_low"] <= 0 <= sd0["conf_high"])
# largest break between consecutive pre-period coefficients (reference quarter = 0), in %
pre_b = np.append(es.event_study.coef[es.event_study.event_times < -1], 0.0)
pre_t = np.append(es.event_study.event_times[es.event_study.event_times < -1], -1)
i_break = int(np.argmax(np.abs(np.diff(pre_b))))
max_break = float(np.abs(np.diff(pre_b))[i_break]) * k
per_ix = es.periods.set_index("event_time")


def quarter_name(t: int) -> str:
    """'Mar-May 2020': the calendar months of an event quarter."""
    return f"{per_ix.loc[t, 'first_month']:%b}-{per_ix.loc[t, 'last_month']:%b %Y}"


break_where = f"between {quarter_name(pre_t[i_break])} and {quarter_name(pre_t[i_break + 1])}"
h_move = "fall" if orig["estimate"] < 0 else "rise"
with la.plot.house_style():
    fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharey=True)
    for ax, meth, xlab in ((axes[0], "relative_magnitude",
                            "Mbar: post-period trend breaks up to Mbar x the largest pre-period one"),
                           (axes[1], "smoothness",
                            "M: change in the slope of the differential trend\n(log points per "
                            "quarter², high vs low sector)")):
        h = hon[hon["method"] == meth]
        xs = h["m_scaled"].to_numpy()
        step = float(np.min(np.diff(xs))) if len(xs) > 1 else 1.0
        ax.vlines(xs, h["conf_low_pct"], h["conf_high_pct"], color="#0072B2", lw=2.2,
                  label="Robust 95% CI")
        ax.vlines([xs.min() - step], [orig["conf_low_pct"]], [orig["conf_high_pct"]],
                  color="#D55E00", lw=2.2, label="Original 95% CI")
        ax.axhline(0, color="#555555", lw=0.8)
        ax.set_xlabel(xlab, fontsize=8.5)
        ax.set_title("Relative magnitudes" if meth == "relative_magnitude" else "Smoothness",
                     fontsize=10)
    axes[0].set_ylabel("Average post-ChatGPT effect,\nhigh vs low sector, %")
    axes[0].legend(loc="upper left", fontsize=7.5)
    if np.isnan(bd_rm):
        sup = (f"Once pre-trends are allowed for, the post-ChatGPT {h_move} is not "
               "distinguishable from zero")
    else:
        sup = (f"The post-ChatGPT {h_move} survives post-period trend breaks up to {bd_rm:.2f}x the "
               "largest pre-period one, but not a linear continuation of the pre-ChatGPT trend"
               if sd_contains_zero else
               f"The post-ChatGPT {h_move} survives post-period trend breaks up to {bd_rm:.2f}x the "
               "largest pre-period one")
    headline(fig, sup, width=100)
    la.plot.add_source(fig, SOURCE)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
out.figure(fig, "real_honestdid_us", data=hon,
           caption="HonestDiD sensitivity (Rambachan & Roth 2023) of the average of the "
                   f"{words(n_post)} post-ChatGPT quarterly coefficients, US: robust 95% confidence intervals "
                   "under relative-magnitude (conditional / least-favourable hybrid) and "
                   "smoothness (FLCI) restrictions, in % for the gap between the average high- "
                   "and low-tercile sector; the original interval at left in orange.",
           alt="Two panels of vertical confidence intervals for the average post-ChatGPT effect "
               "as the allowed violation of parallel trends grows, relative magnitudes on the "
               "left and smoothness on the right, with the original interval for comparison.",
           source=SOURCE)
out.number("real_honest_breakdown_rm", bd_rm,
           text="none" if np.isnan(bd_rm) else f"{bd_rm:.2f}")
rm_txt = ("the robust interval already contains zero at Mbar = 0" if np.isnan(bd_rm) else
          f"the robust interval excludes zero only while the post-period trend breaks stay below "
          f"{bd_rm:.2f} times the largest break between consecutive pre-period quarters (that "
          f"break was {max_break * 100:.0f} log points, {break_where})")
sd_txt = ("Under smoothness, extrapolating the pre-period differential trend linearly (M = 0) "
          f"gives {sd0['conf_low_pct']:+.1f}% to {sd0['conf_high_pct']:+.1f}%"
          + (f", which contains zero: the whole post-ChatGPT "
             f"{'decline' if h_move == 'fall' else 'increase'} is consistent with a linear "
             "continuation of the pre-ChatGPT differential trend (though the pre-period path is "
             "itself far from linear, so no single restriction is compelling here)."
             if sd_contains_zero else ", which excludes zero."))
out.text(f"The average post-ChatGPT coefficient is {orig['estimate_pct']:+.1f}% for the high- "
         f"vs low-exposure gap (95% CI {orig['conf_low_pct']:+.1f}% to "
         f"{orig['conf_high_pct']:+.1f}%). Under relative magnitudes {rm_txt}. " + sd_txt)
out.text("Caveats. (1) Indeed's series are indexes of the number of postings (100 on 1 February "
         "2020), seasonally adjusted 7-day averages: the estimates are relative changes in "
         "postings, not in jobs, hires or employment, and say nothing about wages. (2) Sectors "
         "are Indeed's groupings of job titles; sector exposure is the unweighted mean over the "
         "O*NET occupations mapped to the sector by laborai's crosswalk, so it is measured with "
         "error and all postings in a sector share one dose. (3) Exposure is rated at the "
         f"occupation level from US O*NET task lists and applied to all {N_C} countries. "
         "(4) ChatGPT arrived during the end of the 2021-22 hiring boom and the 2022-23 "
         "technology slump (rate rises, layoffs), which hit the same white-collar sectors"
         + ("; the significant pre-trends mean the DiD estimates mix these shocks with any "
            "effect of generative AI." if pt["p_value"] < 0.05 else "."))
out.summary(f"Real data (Indeed, {len(SIX)} countries): after ChatGPT, job postings "
            + ("fell more" if main["estimate"] < 0 else "did not fall more")
            + f" in occupations more exposed to LLMs: {main['estimate_pct']:+.0f}% for the average "
            f"high- vs low-exposure US sector (95% CI {main['conf_low_pct']:+.0f}% to "
            f"{main['conf_high_pct']:+.0f}%, wild bootstrap p {fmt_p(main['wild_p_value'])}; "
            f"{N_C}-country stack {stk['estimate_pct']:+.0f}%). "
            + ((f"But exposed sectors were already diverging before ChatGPT (pre-trend p "
                f"{fmt_p(pt['p_value'])})"
                + (", and extrapolating that trend leaves no effect distinguishable from zero"
                   if sd_contains_zero else "")
                + ", so this is not a clean causal effect of generative AI.")
               if pt["p_value"] < 0.05 else
               (f"Exposed sectors were not detectably diverging before ChatGPT (pre-trend p "
                f"{fmt_p(pt['p_value'])})"
                + ("; but extrapolating the pre-ChatGPT differential trend leaves no effect "
                   "distinguishable from zero." if sd_contains_zero else "."))))
out.close()
