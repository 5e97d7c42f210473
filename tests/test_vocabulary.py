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
#: (namespace, name): the generic estimators of ``la.did`` and the marketplace studies of
#: :mod:`laborai.studies` exported at the top level (``la.estimate_effects``, ...)
FUNCTIONS = tuple((ns, n) for ns, names in (
    ("la.did", ("twfe", "event_study", "ddd")),
    ("la", ("estimate_effects",)),
    ("la.did", ("att_gt", "sun_abraham", "sdid", "bacon")),
    ("la", ("compare_estimators",)),
    ("la.did", ("cont_did", "ddd_gt", "did_imputation", "did2s", "pretrends_power", "honest",
                "ri_test", "wild_cluster_bootstrap")),
) for n in names)
#: Spellings the vocabulary replaced; a public function taking one of them is a regression.
RETIRED = {"unit", "time", "treatment", "treated", "control", "event_col", "group_col",
           "y", "id", "t", "cohort", "clusters", "weight", "level",
           # issue 14: ddd's exposed/high, ri_test's group/treated_groups,
           # wild_cluster_bootstrap's xnames/param, sdid's se, the group-time bstrap
           "exposed", "high", "group", "treated_groups", "xnames", "param", "se", "bstrap",
           "sdid_se"}
#: Retired for one function only (``ddd`` keeps its per-unit ``post`` indicator).
RETIRED_IN = {"ri_test": {"post"}}
#: The methods that take the inference keyword too (``vcov``, never ``bstrap``).
METHODS = (("ATTgtResult", "aggregate"), ("DDDgtResult", "aggregate"))


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
        retired = RETIRED | RETIRED_IN.get(name, set())
        if ps & retired:
            bad[f"{mod}.{name}"] = sorted(ps & retired)
    for cls, meth in METHODS:
        ps = set(inspect.signature(getattr(getattr(la.did, cls), meth)).parameters)
        if ps & RETIRED:
            bad[f"la.did.{cls}.{meth}"] = sorted(ps & RETIRED)
    assert not bad, bad


def test_one_inference_keyword() -> None:
    """Every estimator with a choice of inference names it ``vcov`` (issue 14)."""
    for name in ("twfe", "event_study", "ddd", "sdid", "att_gt", "ddd_gt", "cont_did"):
        assert "vcov" in inspect.signature(getattr(la.did, name)).parameters, name
    for cls, meth in METHODS:
        assert "vcov" in inspect.signature(getattr(getattr(la.did, cls), meth)).parameters
    assert "sdid_vcov" in inspect.signature(la.compare_estimators).parameters


def test_every_seeded_function_defaults_to_seed_zero() -> None:
    for mod, name in FUNCTIONS:
        ps = inspect.signature(_fn(mod, name)).parameters
        if "seed" in ps:
            assert ps["seed"].default == 0, f"{mod}.{name}: seed defaults to {ps['seed'].default!r}"
