"""ddd's placebo inference with and without the cell-size (Ferman-Pinto) correction, on
simulated marketplaces: size under the null, coverage and power under effects.

The marketplaces and scenarios are those of ``benchmarks/inference_validity.py`` (same panel
cache, same designs: ``no_effect`` with the headline exposed categories, ``no_effect_few``
with 2 treated categories, ``alt`` with the simulator's effects); each marketplace is analysed
twice, ``size=None`` (equal error variances, Conley-Taber) and ``size='auto'`` (``n_posts``).

    python benchmarks/ddd_size_correction.py --reps 300 --scenarios no_effect_few,no_effect,alt

Results per marketplace are appended to ``build/validity/ddd_size/<scenario>.jsonl`` (rerun to
resume); the table is printed in Markdown.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import inference_validity as iv

import laborai as la

BASE_SEED = 20261202
TERMS = {"exposed:post": "did_low", "exposed:post:high": "ddd",
         "exposed:post [high tier]": "did_high"}


def one(rep: int, scen: str) -> list[dict[str, object]]:
    kind = "no_effect" if scen.startswith("no_effect") else "effects"
    panel, truth = iv.marketplace_panel(iv.rep_seed(BASE_SEED, kind, rep), kind, 100_000)
    d = iv.Design(panel, truth, scen)
    truths = {"did_low": d.tau_low, "ddd": d.tau_high - d.tau_low, "did_high": d.tau_high}
    out: list[dict[str, object]] = []
    for size in (None, "auto"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = la.did.ddd(d.both, yname=iv.OUTCOME, idname="unit", tname="period",
                           dname="exposed_i", post="post_time", pname="high",
                           cluster="category", size=size)
        for _, row in r.tidy().iterrows():
            name = TERMS.get(str(row["term"]))
            if name is None:
                continue
            tr = truths[name]
            out.append({"rep": rep, "size": "n_posts" if size else "equal", "target": name,
                        "reject0": bool(row["p_value"] < 0.05),
                        "covered": bool(row["conf_low"] <= tr <= row["conf_high"]),
                        "truth": tr})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=300)
    ap.add_argument("--scenarios", default="no_effect_few,no_effect,alt")
    a = ap.parse_args()
    odir = iv.BUILD / "ddd_size"
    odir.mkdir(parents=True, exist_ok=True)
    tables = []
    for scen in a.scenarios.split(","):
        fp = odir / f"{scen}.jsonl"
        done = set()
        if fp.exists():
            done = {json.loads(x)["rep"] for x in fp.read_text().splitlines() if x}
        with fp.open("a") as fh:
            for rep in range(a.reps):
                if rep not in done:
                    fh.write("".join(json.dumps(r) + "\n" for r in one(rep, scen)))
                    fh.flush()
        d = pd.read_json(fp, lines=True)
        d = d[d["rep"] < a.reps]
        g = d.groupby(["target", "size"])
        t = pd.DataFrame({"reps": g["rep"].nunique(),
                          "reject_pct": 100 * g["reject0"].mean(),
                          "coverage_pct": 100 * g["covered"].mean()}).reset_index()
        t.insert(0, "scenario", scen)
        tables.append(t)
    print(pd.concat(tables).to_markdown(index=False, floatfmt=".1f"))


if __name__ == "__main__":
    main()
