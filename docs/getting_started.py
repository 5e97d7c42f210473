# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Getting started
#
# This notebook is executed every time the documentation is built (`make docs`), so every
# output below is what the code gives today. It walks through laborai's data flow on the
# embedded **simulated** marketplace — simulate (or read) job posts and contracts, aggregate
# them to a category × value-tier panel with DuckDB, estimate the effect of ChatGPT's release
# with difference-in-differences, and compare with the simulation's known truth.

# %%
import laborai as la

m = la.simulate_marketplace(seed=2024, n_posts=100_000)  # SIMULATED data, labelled as such
m

# %% [markdown]
# ## Read and validate
#
# The readers check every rule of the canonical tables (see *Reading real exports*); every row
# is kept or reported as rejected with its reason. A real export goes through the same call,
# with a column mapping.

# %%
posts = la.read_job_posts(m.job_posts)
contracts = la.read_contracts(m.contracts, job_posts=posts)
len(posts), len(contracts)

# %% [markdown]
# ## Build the panel
#
# `build_panel` aggregates the microdata in DuckDB (or Spark, `engine="spark"`) to a balanced
# unit × month panel of sufficient statistics; `add_event_dates` adds each category's event
# date; every estimator turns it into a first treated period by laborai's one timing rule (the
# first period that starts on or after the event date: December 2022 for ChatGPT).

# %%
panel = la.exposure.add_event_dates(la.build_panel(posts, contracts))
panel[["category", "value_tier", "period", "n_posts", "n_contracts", "log_n_posts",
       "event_date"]].head()

# %% [markdown]
# ## Estimate
#
# `estimate_effects` fits one difference in differences per outcome with placebo inference over
# the categories that were never exposed — the inference that holds its size with 12 category
# clusters (see *Few-cluster inference*).

# %%
effects = la.estimate_effects(panel, outcomes=["log_n_posts"])
effects.tidy()[["term", "estimate", "std_error", "conf_low", "conf_high"]]

# %% [markdown]
# ## Compare with the truth
#
# On simulated data the true effects are known: `m.truth` lists every effect parameter.

# %%
m.truth.head()

# %% [markdown]
# ## An event study
#
# The same panel, one coefficient per month around the event, with the pre-trend test and a
# simultaneous band.

# %%
low = panel[panel["value_tier"] == "low"]
es = la.did.event_study(low, yname="log_n_posts", idname="category", tname="period",
                        event_date="event_date", window=(-6, 6))
es.pretrend
# %%
es.plot();
