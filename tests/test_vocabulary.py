"""One vocabulary across the API (docs/vocabulary.md): the page's table is the signatures'.

The table in ``docs/vocabulary.md`` is regenerated here from the public functions'
signatures and must be found verbatim on the page, so the page cannot drift from the code;
and no public function may take one of the retired spellings of the house names.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import laborai as la

ROOT = Path(__file__).resolve().parents[1]
VOCAB = ("yname", "idname", "tname", "gname", "dname", "control_group", "cluster", "weights",
         "alpha", "seed")
FUNCTIONS = tuple(("la.did", n) for n in (
    "twfe", "event_study", "ddd", "estimate_effects", "att_gt", "sun_abraham", "sdid",
    "bacon", "compare_estimators", "cont_did", "ddd_gt", "did_imputation", "did2s",
    "pretrends_power", "honest", "ri_test", "wild_cluster_bootstrap"))
#: Spellings the vocabulary replaced; a public function taking one of them is a regression.
RETIRED = {"unit", "time", "treatment", "treated", "control", "event_col", "group_col",
           "y", "id", "t", "cohort", "clusters", "weight", "level"}


def _fn(mod: str, name: str):
    return getattr(la.did if mod == "la.did" else la, name)


def vocabulary_table() -> str:
    """The markdown table of docs/vocabulary.md, built from the signatures."""
    lines = ["| function | " + " | ".join(f"`{v}`" for v in VOCAB) + " | its other required inputs |",
             "|---|" + "|".join(":-:" for _ in VOCAB) + "|---|"]
    for mod, name in FUNCTIONS:
        ps = inspect.signature(_fn(mod, name)).parameters
        row = ["✓" if v in ps else "" for v in VOCAB]
        other = [p for p in ps if p not in VOCAB and p not in ("data", "panel", "result")
                 and ps[p].default is inspect.Parameter.empty]
        lines.append(f"| `{mod}.{name}` | " + " | ".join(row) + " | "
                     + ", ".join(f"`{o}`" for o in other) + " |")
    return "\n".join(lines)


def test_vocabulary_page_table_is_the_signatures() -> None:
    page = (ROOT / "docs" / "vocabulary.md").read_text(encoding="utf-8")
    table = vocabulary_table()
    assert table in page, "docs/vocabulary.md is out of date; its table should be:\n" + table


def test_no_public_function_takes_a_retired_spelling() -> None:
    bad = {}
    for mod, name in FUNCTIONS:
        ps = set(inspect.signature(_fn(mod, name)).parameters)
        if ps & RETIRED:
            bad[f"{mod}.{name}"] = sorted(ps & RETIRED)
    assert not bad, bad


def test_every_seeded_function_defaults_to_seed_zero() -> None:
    for mod, name in FUNCTIONS:
        ps = inspect.signature(_fn(mod, name)).parameters
        if "seed" in ps:
            assert ps["seed"].default == 0, f"{mod}.{name}: seed defaults to {ps['seed'].default!r}"
