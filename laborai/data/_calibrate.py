"""Build the simulator's calibration and the real taxonomy from the real Upwork snapshot (offline).

Run by a maintainer, never at import or simulation time::

    python -m laborai.data._calibrate /path/to/shared/data [--write]

It reads the real snapshot (``upwork/*.csv``, 9,761 unique posts of early January 2023) and the
labelled titles (``labels/real_titles_labelled.csv``) and writes **derived statistics only**
(the snapshot may not be redistributed):

- ``laborai/_pkgdata/simulator_calibration.json``: shares of budget types, quantiles of fixed
  budgets and hourly rates, duration / engagement / experience distributions, client-country
  shares (ISO alpha-2), category and subcategory shares and high-value shares;
- ``laborai/_pkgdata/title_vocabulary.json``: a pruned bigram model of title words by
  subcategory (a bigram is kept only when at least :data:`MIN_DOCS` distinct titles contain it,
  and titles matching the AI / cloud / RPA keyword queries are left out, so that plain posts do
  not carry technology words);
- with ``--skills``, the subcategory pairs and their most distinctive title terms, printed as
  TOML for review before they go into ``taxonomy.toml``.

No real title is stored; the validation table of ``docs/simulator.md`` compares the simulated
marketplace with the same statistics (``tests/test_calibration.py``).
"""

from __future__ import annotations

import html
import json
import math
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SNAPSHOT_FILES = ("1_1_2023_general.csv", "1_3_2023_general.csv")
#: Bigrams (and words) are kept only when at least this many distinct titles contain them.
MIN_DOCS = 2
#: Probability grid of the stored quantile functions.
PROBS = tuple(round(i / 100, 2) for i in range(101))

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9+#.'’&/-]*[A-Za-z0-9+#]|[A-Za-z0-9]|[-:|,&/]")
_COUNTRY_FIX = {
    "Turkey": "TR", "Macedonia": "MK", "Palestinian Territories": "PS", "Swaziland": "SZ",
    "Cote d'Ivoire": "CI", "Russia": "RU", "Reunion": "RE", "Netherlands Antilles": "CW",
}
_STOP = set("""a an and the for of to in on with from by at or my our your is are be as this that
new need needed needs looking seeking wanted want hire hiring required help expert experts
experienced professional project projects job jobs work long term long-term short quick simple
small easy urgent asap freelancer freelancers specialist specialists someone person team it
i we you me us - : | , & / who can will get make do set up based using one two more""".split())


def country_code(name: str) -> str:
    """ISO 3166-1 alpha-2 code of a country name as Upwork writes it (pycountry + fixes)."""
    import pycountry

    if name in _COUNTRY_FIX:
        return _COUNTRY_FIX[name]
    return str(pycountry.countries.lookup(name).alpha_2)


def load_snapshot(data_dir: Path) -> pd.DataFrame:
    """The real snapshot, one row per unique post, with projected values (package rules)."""
    from laborai import taxonomy

    frames = [pd.read_csv(data_dir / "upwork" / f) for f in SNAPSHOT_FILES]
    d = pd.concat(frames, ignore_index=True).drop_duplicates("uid").reset_index(drop=True)
    d = d.rename(columns={"occupations_category_pref_label": "category",
                          "occupations_oservice_pref_label": "subcategory",
                          "type": "budget_type", "tier": "experience_level",
                          "amount_amount": "fixed_budget_usd", "hourly_rate": "hourly_rate_usd"})
    d["client_country"] = [country_code(n) for n in d["client_location_country"]]
    d["contract_value_usd"] = taxonomy.projected_value(
        d["budget_type"], d["fixed_budget_usd"], d["hourly_rate_usd"], d["engagement"],
        d["duration"])
    return d


def _tokens(title: str) -> list[str]:
    return _TOKEN.findall(html.unescape(title).replace("’", "'"))


def _plain_titles(d: pd.DataFrame) -> pd.Series:
    """Titles that none of the AI / cloud / RPA queries (broad candidate mode) matches."""
    from laborai import classify

    t = d["title"].astype(str)
    tech = np.zeros(len(t), dtype=bool)
    for tech_name in ("ai", "cloud", "rpa"):
        tech |= classify.match_text(t, tech_name, mode="candidate")  # type: ignore[arg-type]
    return pd.Series(~tech, index=d.index)


def title_vocabulary(d: pd.DataFrame) -> dict[str, Any]:
    """Pruned bigram counts by subcategory and category, with display forms of the words."""
    plain = d[_plain_titles(d)]
    docs = [(r.category, r.subcategory, [w.lower() for w in _tokens(str(r.title))],
             _tokens(str(r.title))) for r in plain.itertuples()]
    word_docs: Counter[str] = Counter()
    big_docs: Counter[tuple[str, str]] = Counter()
    forms: dict[str, Counter[str]] = defaultdict(Counter)
    for _, _, low, raw in docs:
        seq = ["<s>", *low, "</s>"]
        word_docs.update(set(low))
        big_docs.update(set(zip(seq[:-1], seq[1:], strict=True)))
        for w, r in zip(low, raw, strict=True):
            forms[w][r] += 1
    keep_w = {w for w, n in word_docs.items() if n >= MIN_DOCS}
    vocab = ["<s>", "</s>", *sorted(keep_w)]
    ix = {w: i for i, w in enumerate(vocab)}
    sub_c: dict[tuple[str, str], Counter[tuple[int, int]]] = defaultdict(Counter)
    cat_c: dict[str, Counter[tuple[int, int]]] = defaultdict(Counter)
    lengths: dict[str, Counter[int]] = defaultdict(Counter)
    for cat, sub, low, _ in docs:
        seq = ["<s>", *low, "</s>"]
        lengths[cat][len(low)] += 1
        for a, b in zip(seq[:-1], seq[1:], strict=True):
            if a in ix and b in ix and big_docs[(a, b)] >= MIN_DOCS:
                sub_c[(cat, sub)][(ix[a], ix[b])] += 1
                cat_c[cat][(ix[a], ix[b])] += 1
    display = [w if w in ("<s>", "</s>") else forms[w].most_common(1)[0][0] for w in vocab]

    def pack(c: Counter[tuple[int, int]]) -> list[list[int]]:
        return [[a, b, n] for (a, b), n in sorted(c.items())]

    return {
        "min_docs": MIN_DOCS,
        "n_titles": len(docs),
        "words": display,
        "categories": {c: pack(v) for c, v in sorted(cat_c.items())},
        "subcategories": {f"{c}\t{s}": pack(v) for (c, s), v in sorted(sub_c.items())},
        "lengths": {c: {str(k): n for k, n in sorted(v.items())} for c, v in sorted(lengths.items())},
    }


def _shares(s: pd.Series) -> dict[str, float]:
    v = s.value_counts(normalize=True, dropna=False)
    return {str(k): round(float(x), 6) for k, x in sorted(v.items(), key=lambda kv: str(kv[0]))}


def _quantiles(x: pd.Series) -> list[float]:
    """Quantiles at :data:`PROBS`, winsorised at the 99th percentile.

    The top percent is flat at the 99th percentile: a single post's maximum is not a
    distribution (and one draw in ten thousand from it dominated simulated mean earnings).
    """
    q = np.quantile(x.to_numpy(dtype=float), PROBS)
    q[-1] = q[-2]
    return [round(float(v), 4) for v in q]


def calibration(d: pd.DataFrame) -> dict[str, Any]:
    """Every statistic the simulator draws from, computed from the real snapshot."""
    from laborai import taxonomy

    d = d.copy()
    d["engagement"] = d["engagement"].fillna("")
    d["tier"] = taxonomy.value_tier(d["contract_value_usd"])
    known = d[d["tier"].notna()]
    cats: dict[str, Any] = {}
    for c, g in d.groupby("category"):
        k = known[known["category"] == c]
        fixed = g[g["budget_type"] == "fixed_budget"]
        hourly = g[g["budget_type"] == "hourly"]
        cats[str(c)] = {
            "n_posts": int(len(g)),
            "share": round(len(g) / len(d), 6),
            "budget_type": _shares(g["budget_type"]),
            "high_share": round(float((k["tier"] == "high").mean()), 6),
            "hourly_share_by_tier": {
                t: round(float((k.loc[k["tier"] == t, "budget_type"] == "hourly").mean()), 6)
                for t in ("low", "high")},
            "experience_level": _shares(g["experience_level"].fillna("Intermediate")),
            "subcategory_share": _shares(g["subcategory"]),
            "fixed_budget_quantiles": _quantiles(fixed["fixed_budget_usd"]),
            "hourly_rate_quantiles": _quantiles(hourly["hourly_rate_usd"]),
        }
    hourly = known[known["budget_type"] == "hourly"]
    joint = {t: _shares(hourly.loc[hourly["tier"] == t, "duration"] + "\t"
                        + hourly.loc[hourly["tier"] == t, "engagement"]) for t in ("low", "high")}
    fixed = known[known["budget_type"] == "fixed_budget"]
    fixed_dur = {t: _shares(fixed.loc[fixed["tier"] == t, "duration"]) for t in ("low", "high")}
    nb = d[d["budget_type"] == "no_budget"]
    countries = d["client_country"].value_counts()
    overall = {
        "fixed_budget_quantiles": _quantiles(d.loc[d["budget_type"] == "fixed_budget",
                                                   "fixed_budget_usd"]),
        "hourly_rate_quantiles": _quantiles(d.loc[d["budget_type"] == "hourly",
                                                  "hourly_rate_usd"]),
        "duration_by_budget_type": {b: _shares(g["duration"])
                                    for b, g in d.groupby("budget_type")},
        "engagement_by_budget_type": {b: _shares(g["engagement"])
                                      for b, g in d.groupby("budget_type") if b != "fixed_budget"},
        "experience_level": _shares(d["experience_level"].fillna("Intermediate")),
        "high_share": round(float((known["tier"] == "high").mean()), 6),
    }
    return {
        "overall": overall,
        "taxonomy_version": taxonomy.version(),
        "source": "Upwork job-search snapshot, early January 2023 (Canerakcasu/data, commit "
                  "4e2519bace70817c2a2e45ff2b6ae0107303e08a, files "
                  + ", ".join(SNAPSHOT_FILES) + "); derived statistics only",
        "n_posts": int(len(d)),
        "probs": list(PROBS),
        "budget_type": _shares(d["budget_type"]),
        "categories": cats,
        "hourly_duration_engagement_by_tier": joint,
        "fixed_duration_by_tier": fixed_dur,
        "no_budget_duration_engagement": _shares(nb["duration"] + "\t" + nb["engagement"]),
        "client_country": {str(k): int(v) for k, v in countries.items()},
    }


def distinctive_terms(d: pd.DataFrame, k: int = 4) -> dict[tuple[str, str], list[str]]:
    """The ``k`` most distinctive unigrams/bigrams of each subcategory's titles."""
    grams: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    allg: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = defaultdict(Counter)
    for r in d.itertuples():
        raw = [w for w in _tokens(str(r.title)) if len(w) > 1 or w.isalnum()]
        low = [w.lower() for w in raw]
        gs = set()
        for i, w in enumerate(low):
            if w not in _STOP and not w.isdigit():
                gs.add(w)
                forms[w][raw[i]] += 1
            if i + 1 < len(low) and w not in _STOP and low[i + 1] not in _STOP:
                g = f"{w} {low[i + 1]}"
                gs.add(g)
                forms[g][f"{raw[i]} {raw[i + 1]}"] += 1
        grams[(r.category, r.subcategory)].update(gs)
        allg.update(gs)
    n_all = sum(allg.values())
    out = {}
    for key, c in grams.items():
        n_sub = sum(c.values())
        scored = sorted(((n * math.log((n / n_sub) / (allg[g] / n_all)) * (1.6 if " " in g else 1),
                          g) for g, n in c.items() if n >= 2), reverse=True)
        picked: list[str] = []
        for _, g in scored:
            if any(g in p or p in g for p in picked):
                continue
            picked.append(forms[g].most_common(1)[0][0])
            if len(picked) == k:
                break
        out[key] = picked
    return out


def main(argv: list[str]) -> None:
    data_dir = Path(argv[0])
    d = load_snapshot(data_dir)
    pkg = Path(__file__).resolve().parents[1] / "_pkgdata"
    if "--skills" in argv:
        terms = distinctive_terms(d)
        for (c, s), t in sorted(terms.items()):
            print(f"{c}\t{s}\t{json.dumps(t)}")
        return
    cal = calibration(d)
    voc = title_vocabulary(d)
    if "--write" in argv:
        (pkg / "simulator_calibration.json").write_text(
            json.dumps(cal, indent=1, sort_keys=True, ensure_ascii=False) + "\n", "utf-8")
        (pkg / "title_vocabulary.json").write_text(
            json.dumps(voc, separators=(",", ":"), sort_keys=True, ensure_ascii=False) + "\n",
            "utf-8")
    print(json.dumps({"n_posts": cal["n_posts"], "words": len(voc["words"]),
                      "bigrams": sum(len(v) for v in voc["subcategories"].values())}))


if __name__ == "__main__":
    main(sys.argv[1:])
