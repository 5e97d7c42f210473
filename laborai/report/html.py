"""Render the analyses' records into one self-contained HTML page for policy readers.

The page has no code cells and needs no network: figures are inlined as SVG data URIs with
alt text, styles are inline, and there is no script. Every number in it comes from an
analysis record (:class:`laborai.report.AnalysisOutputs`); the static text here describes
methods and caveats only.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from laborai.plot import MIN_CELL
from laborai.report.outputs import SECTIONS

__all__ = ["render_report"]

_CSS = """
body{font-family:"DejaVu Sans",Verdana,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;
color:#1a1a1a;line-height:1.5}
h1{font-size:1.7em;margin-bottom:.2em}h2{border-bottom:2px solid #0072B2;padding-bottom:.2em;
margin-top:2.2em}h3{margin-top:1.6em}
.lede{color:#444;font-size:1.05em}.badge{display:inline-block;font-size:.75em;padding:.1em .5em;
border-radius:.6em;background:#E69F00;color:#000;margin-left:.4em;vertical-align:middle}
.badge.real{background:#009E73;color:#fff}
figure{margin:1.4em 0}figure img{width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9em;color:#333}
table{border-collapse:collapse;font-size:.85em;margin:1em 0}caption{text-align:left;
font-weight:bold;padding:.3em 0}th,td{border-bottom:1px solid #ddd;padding:.25em .6em;
text-align:right}th:first-child,td:first-child{text-align:left}
.summary li{margin:.35em 0}nav ol{columns:2}.note{font-size:.85em;color:#555}
"""

def _methods() -> list[str]:
    """The static methods text, with counts taken from the taxonomy and the house rules."""
    from laborai import taxonomy

    n_cat = len(taxonomy.category_names())
    n_sub = len(taxonomy.subcategories())
    return [p.format(n_cat=n_cat, n_sub=n_sub, min_cell=MIN_CELL) for p in _METHODS]


_METHODS = [
    "<p><strong>What is simulated.</strong> The platform microdata behind the published studies "
    "of online freelance marketplaces are private. The marketplace sections therefore use "
    "laborai's embedded <em>simulated marketplace</em>: job posts and contracts for {n_cat} "
    "work categories and {n_sub} subcategories, whose AI-related shares, high-value shares and growth "
    "are calibrated to published descriptive figures (the calibration table above compares "
    "them), and whose causal effects of generative AI are set by the simulation. Every "
    "simulated figure says so in its source line and carries a <span class=\"badge\">simulated"
    "</span> label here. Because the truth is known, the causal estimates can be checked "
    "against it; they are a test of the methods, not evidence about the real platform.</p>",
    "<p><strong>What is real.</strong> The real-data section uses Indeed Hiring Lab's public "
    "job-postings indices by occupational sector (CC BY 4.0) and the occupation-level exposure "
    "scores of Eloundou et al. (2024), mapped to sectors with laborai's documented crosswalk. "
    "Those figures carry a <span class=\"badge real\">real data</span> label. Their answer was "
    "not known in advance; they are reported as they came out, with their uncertainty.</p>",
    "<p><strong>Estimators.</strong> Difference-in-differences with unit and month fixed "
    "effects (two-way fixed effects), event studies with leads and lags, triple differences by "
    "value tier, Poisson pseudo-maximum likelihood for counts, Callaway and Sant'Anna (2021) "
    "group-time effects, Sun and Abraham (2021) interaction-weighted event studies, synthetic "
    "difference-in-differences (Arkhangelsky et al. 2021), the Goodman-Bacon (2021) "
    "decomposition and Rambachan and Roth (2023) sensitivity to violations of parallel trends. "
    "With only {n_cat} categories, inference uses the wild cluster bootstrap and randomization inference "
    "where conventional cluster-robust standard errors are unreliable.</p>",
    "<p><strong>Caveats.</strong> Cells with fewer than {min_cell} underlying observations are "
    "suppressed in every figure and table. Simulated results depend on the simulation's design. "
    "Indeed's indices measure postings, not hires or earnings, and sector exposure averages "
    "occupation-level scores without employment weights. The 2022&ndash;23 slowdown in "
    "technology hiring coincides with the release of ChatGPT; the real-data section reports "
    "robustness checks for it.</p>",
    "<p><strong>Reproduction.</strong> <code>make report</code> rebuilds every figure and this "
    "page from the analysis notebooks in <code>analyses/</code>; <code>laborai report --check"
    "</code> rebuilds into a temporary folder and fails on any byte that differs. See "
    "<code>docs/reproduce.md</code>.</p>",
]


def _img(path: Path) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _badge(source: str) -> str:
    if source.lower().startswith("simulated"):
        return '<span class="badge">simulated</span>'
    if source.lower().startswith("user data"):
        return '<span class="badge">user data</span>'
    return '<span class="badge real">real data</span>'


def _block(b: dict[str, Any], fig_dir: Path, counter: dict[str, int]) -> dict[str, Any]:
    """One record block as the template's context (numbers, inlined figure, badge)."""
    if b["kind"] == "text":
        return {"kind": "text",
                "paragraphs": [p.strip() for p in b["text"].split("\n\n") if p.strip()]}
    if b["kind"] == "figure":
        counter["figure"] += 1
        sup = (f" {b['n_suppressed']} cell(s) with fewer than {MIN_CELL} observations suppressed."
               if b.get("n_suppressed") else "")
        return {"kind": "figure", "number": counter["figure"], "name": b["name"],
                "src": _img(fig_dir / (b["name"] + ".svg")), "alt": b["alt"],
                "caption": b["caption"], "source": b["source"], "suppressed": sup,
                "badge": _badge(b["source"])}
    if b["kind"] == "table":
        counter["table"] += 1
        return {"kind": "table", "number": counter["table"], "name": b["name"],
                "caption": b["caption"], "columns": b["columns"], "rows": b["rows"]}
    raise ValueError(f"unknown block kind {b['kind']!r}")  # pragma: no cover


def _template() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("laborai", "_pkgdata"),
        autoescape=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
    )
    return env.get_template("report.html.j2")


def render_report(records: list[dict[str, Any]], fig_dir: Path, path: Path, *,
                  simulated: bool = True) -> Path:
    """Write the HTML report from the analyses' records.

    The page is rendered from the Jinja2 template ``laborai/_pkgdata/report.html.j2`` with
    autoescaping: every text that comes from a record is escaped.

    Parameters
    ----------
    records : list of dict
        JSON records written by :meth:`laborai.report.AnalysisOutputs.close`.
    fig_dir : pathlib.Path
        Folder of the figure files (inlined into the page).
    path : pathlib.Path
        Output file.
    simulated : bool, default True
        Whether the marketplace analyses ran on the simulated marketplace.

    Returns
    -------
    pathlib.Path
    """
    counter = {"figure": 0, "table": 0}
    data_line = ("The marketplace results below come from laborai's <strong>simulated "
                 "marketplace</strong>, calibrated to published figures; the real-data section "
                 "uses Indeed Hiring Lab postings." if simulated else
                 "The marketplace results below come from the user's own microdata; the "
                 "real-data section uses Indeed Hiring Lab postings.")
    body = []
    for key, heading in SECTIONS.items():
        recs = []
        for r in records:
            blocks = [b for b in r["blocks"] if b["section"] == key]
            if blocks:
                recs.append({"title": r["title"],
                             "blocks": [_block(b, fig_dir, counter) for b in blocks]})
        citations = (sorted(dict.fromkeys(c for r in records for c in r["citations"]))
                     if key == "methods" else None)
        body.append({"key": key, "heading": heading, "records": recs, "citations": citations,
                     "methods": _methods() if key == "methods" else []})
    text = _template().render(
        css=_CSS, data_line=data_line, sections=list(SECTIONS.items()), body=body,
        bullets=[s for r in records for s in r["summary"]])
    path.write_text(text, encoding="utf-8")
    return path
