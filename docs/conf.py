"""Sphinx configuration of laborai's documentation site (``make docs``).

The site is built offline, with warnings as errors (``sphinx-build -W``), from

* the Markdown pages of ``docs/`` (MyST), the same files GitHub shows;
* an API reference generated from the numpydoc docstrings: one page per public name of every
  public module, listed from each module's ``__all__`` when the build starts (so a new public
  function gets its page without anyone editing a list);
* the getting-started notebook ``docs/getting_started.py`` (jupytext percent format), executed
  during the build so that its outputs appear on the page.
"""

from __future__ import annotations

import importlib
import inspect
import os
from pathlib import Path

import laborai

project = "laborai"
author = "laborai developers"
copyright = "laborai developers, MIT licence"  # noqa: A001 - Sphinx's name
release = version = laborai.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]
root_doc = "index"
exclude_patterns = ["_build", "README.md", "conf.py", "**/.ipynb_checkpoints"]
html_theme = "alabaster"
html_title = f"laborai {release}"
html_last_updated_fmt = None  # no clock in the output: same sources -> same pages
templates_path: list[str] = []

# Markdown (MyST) and the jupytext notebook
source_suffix = {".md": "myst-nb", ".py": "myst-nb"}
nb_custom_formats = {".py": ["jupytext.reads", {"fmt": "py:percent"}]}
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_allow_errors = False
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
# Pages link to files of the repository outside docs/ (benchmarks, analyses, tests): the site
# cannot resolve those, GitHub can; every other warning fails the build.
suppress_warnings = ["myst.xref_missing"]

# API reference
autosummary_generate = True
autodoc_typehints = "none"  # numpydoc's Parameters section is the reference
autodoc_default_options = {"members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

#: public modules and the heading of their section in the API reference
API_MODULES = {
    "laborai": "Top level: data, panels, the headline estimate",
    "laborai.did": "Estimators, inference and results (laborai.did)",
    "laborai.classify": "Classifiers and keyword queries (laborai.classify)",
    "laborai.indicators": "Indicators (laborai.indicators)",
    "laborai.exposure": "Event dates and cohorts (laborai.exposure)",
    "laborai.taxonomy": "Taxonomy (laborai.taxonomy)",
    "laborai.datasets": "Public datasets (laborai.datasets)",
    "laborai.studies": "Marketplace studies built from the estimators (laborai.studies)",
    "laborai.studies.realdata": "Real-data analyses (laborai.studies.realdata)",
    "laborai.plot": "Figures (laborai.plot)",
    "laborai.report": "The report (laborai.report)",
    "laborai.errors": "Errors and warnings (laborai.errors)",
}


def public_names(module_name: str) -> list[str]:
    """The documented names of a module: its ``__all__`` minus submodules and plain constants."""
    mod = importlib.import_module(module_name)
    names = []
    for name in getattr(mod, "__all__", []):
        obj = getattr(mod, name)
        if inspect.ismodule(obj) or not (inspect.isclass(obj) or callable(obj)):
            continue  # submodules, constants and __version__
        names.append(name)
    return sorted(names, key=str.lower)


def write_api_pages(app: object) -> None:
    """docs/api/index.md: one autosummary table per module (a page per name is generated)."""
    del app
    out = Path(__file__).parent / "api" / "index.md"
    lines = ["# API reference", "",
             "Generated from the numpydoc docstrings; one page per public function and class.", ""]
    for mod, heading in API_MODULES.items():
        lines += [f"## {heading}", "", "```{eval-rst}", f".. currentmodule:: {mod}", "",
                  ".. autosummary::", "   :toctree: generated", "   :nosignatures:", ""]
        lines += [f"   {n}" for n in public_names(mod)]
        lines += ["```", ""]
    text = "\n".join(lines)
    out.parent.mkdir(parents=True, exist_ok=True)  # generated, not in git: absent in a clone
    if not out.exists() or out.read_text() != text:
        out.write_text(text)


def setup(app: object) -> None:
    os.environ.setdefault("PYTHONHASHSEED", "0")
    write_api_pages(app)
