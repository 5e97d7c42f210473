"""The package's layers: every import of a laborai module points down, never up (issue 14).

An AST scan of every module under ``laborai/`` -- module-level and function-level imports,
``if TYPE_CHECKING:`` blocks, and ``importlib.import_module("laborai....")`` calls with a
literal name -- against the layer ranks below:

0. **base** -- errors, validation, timing, hashing, progress, Spark session, the result base
   (``laborai._results``) and its save/load format (``laborai._store``), package data;
1. **data** -- taxonomy, simulated and real microdata (``laborai.data``), public datasets,
   panels, indicators, event dates, the classifiers;
2. **estimators and figures** -- the generic DiD estimators of ``laborai.did`` and the figures
   of ``laborai.plot`` (which draws indicators and lends its house style to the layers above);
3. **studies** -- the marketplace workflows of ``laborai.studies`` built from the estimators;
4. **applications** -- the report and the command line.

Rule 1: a module imports nothing from a higher layer. Rule 2: a module takes an underscore
name from another package's public module never: private names cross a package boundary only
from a private module (one with a leading-underscore component, like ``laborai.did._core``);
within one package (``laborai.did.twfe`` from ``laborai.did.inference``, or from the
package's ``__init__``) they may be shared. The pairs in :data:`PRIVATE_NAME_EXCEPTIONS` are
the allowed exceptions, each with its reason. A private *submodule* (``from laborai.did import
_honest_kernels``) is a module import, not a private name. ``laborai/__init__.py`` is exempt
from rule 1: its lazy table re-exports names from every layer; ``import laborai`` or ``from
laborai import __version__`` elsewhere means the version, which is base.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "laborai"

BASE, DATA, ESTIMATORS, STUDIES, APPS = range(5)
#: module (or package: it covers its submodules) -> layer rank; longest prefix wins
LAYERS: dict[str, int] = {
    "laborai.errors": BASE,
    "laborai._validation": BASE,
    "laborai._timing": BASE,
    "laborai._hashing": BASE,
    "laborai._progress": BASE,
    "laborai._spark": BASE,
    "laborai._pkgdata": BASE,
    "laborai._results": BASE,
    "laborai._store": BASE,
    "laborai.taxonomy": DATA,
    "laborai.data": DATA,
    "laborai.datasets": DATA,
    "laborai.panel": DATA,
    "laborai.freelancer_panel": DATA,
    "laborai.indicators": DATA,
    "laborai.exposure": DATA,
    "laborai.classify": DATA,
    "laborai._classify_safety": DATA,
    "laborai._title_model": DATA,
    "laborai.did": ESTIMATORS,
    "laborai.plot": ESTIMATORS,
    "laborai.studies": STUDIES,
    "laborai.report": APPS,
    "laborai.cli": APPS,
}
LAYER_NAMES = ("base", "data", "estimators and figures", "studies", "applications")
#: the importer exempt from rule 1: the root's lazy table (PEP 562) names every layer
EXEMPT = {"laborai"}

#: (importing module, imported module) -> why an underscore name may cross into another
#: package's public module
PRIVATE_NAME_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("laborai.did.cs._estimate", "laborai.did.sun_abraham"):
        "att_gt reads the never-treated cohort (gname NaN, 0 or inf) with sun_abraham's "
        "_never_mask so that the two estimators agree on who is never treated",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def rank(module: str) -> int | None:
    """The layer of ``module`` (longest matching prefix of :data:`LAYERS`), None if unknown.

    The root as an import target (``import laborai``, ``from laborai import __version__``)
    is the version string: base.
    """
    if module in ("laborai", "laborai.__version__"):
        return BASE
    parts = module.split(".")
    for n in range(len(parts), 1, -1):
        key = ".".join(parts[:n])
        if key in LAYERS:
            return LAYERS[key]
    return None


def _is_private(module: str) -> bool:
    return any(p.startswith("_") for p in module.split(".")[1:])


def _path(module: str) -> Path:
    return ROOT.joinpath(*module.split("."))


def _is_package(module: str) -> bool:
    return (_path(module) / "__init__.py").is_file()


def _is_module(module: str) -> bool:
    return _is_package(module) or _path(module).with_suffix(".py").is_file()


def package_of(module: str, is_package: bool) -> str:
    """The package a module belongs to (a package's ``__init__`` belongs to itself)."""
    return module if is_package else module.rpartition(".")[0]


def _resolve(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[:len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def imports(source: str, importer: str, is_package: bool = False,
            ) -> list[tuple[int, str, str, tuple[str, ...]]]:
    """``(line, imported module, import statement, names)`` of every laborai import."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "laborai":
                    out.append((node.lineno, a.name, f"import {a.name}", ()))
        elif isinstance(node, ast.ImportFrom):
            mod = _resolve(node, importer, is_package)
            if mod.split(".")[0] != "laborai":
                continue
            names = tuple(a.name for a in node.names)
            stmt = f"from {mod} import {', '.join(names)}"
            if mod == "laborai":  # from laborai import taxonomy, __version__: per name
                for n in names:
                    out.append((node.lineno, f"laborai.{n}", stmt,
                                () if n.startswith("__") else (n,)))
            else:
                out.append((node.lineno, mod, stmt, names))
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and node.args[0].value.split(".")[0] == "laborai"
              and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                   or (isinstance(node.func, ast.Name) and node.func.id == "import_module"))):
            name = node.args[0].value
            out.append((node.lineno, name, f"importlib.import_module({name!r})", ()))
    return out


def violations(source: str, importer: str, where: str, is_package: bool = False) -> list[str]:
    """The layer and private-name violations of one module's source."""
    own = rank(importer)
    if own is None:
        return [f"{where}: module {importer} has no layer; add it to LAYERS in "
                "tests/test_layers.py"]
    bad = []
    for line, mod, stmt, names in sorted(imports(source, importer, is_package)):
        r = rank(mod)
        if r is None:
            bad.append(f"{where}:{line}: `{stmt}`: {mod} has no layer")
            continue
        if importer not in EXEMPT and r > own:
            bad.append(f"{where}:{line}: `{stmt}`: layer {LAYER_NAMES[own]!r} ({importer}) "
                       f"imports layer {LAYER_NAMES[r]!r} ({mod})")
        private = [n for n in names if n.startswith("_") and not n.startswith("__")
                   and not _is_module(f"{mod}.{n}")]  # a private submodule is a module
        if (private and not _is_private(mod)
                and package_of(importer, is_package) != package_of(mod, _is_package(mod))
                and (importer, mod) not in PRIVATE_NAME_EXCEPTIONS):
            bad.append(f"{where}:{line}: `{stmt}`: private name(s) {private} from "
                       f"{mod}, a public module of another package; move them to a private "
                       "module (e.g. laborai.did._core)")
    return bad


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_import_runs_up_the_layers() -> None:
    bad = []
    for path in _modules():
        bad += violations(path.read_text(encoding="utf-8"), module_name(path),
                          str(path.relative_to(ROOT)), path.name == "__init__.py")
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def test_every_exception_is_still_needed() -> None:
    """An exception nobody uses any more is removed, so the list stays short and true."""
    used = set()
    for path in _modules():
        importer = module_name(path)
        for _, mod, _, names in imports(path.read_text(encoding="utf-8"), importer,
                                        path.name == "__init__.py"):
            if any(n.startswith("_") and not n.startswith("__")
                   and not _is_module(f"{mod}.{n}") for n in names):
                used.add((importer, mod))
    assert set(PRIVATE_NAME_EXCEPTIONS) <= used, set(PRIVATE_NAME_EXCEPTIONS) - used


@pytest.mark.parametrize(("importer", "source", "expected"), [
    ("laborai.did.fake", "from laborai.studies.effects import estimate_effects\n",
     "layer 'estimators and figures' (laborai.did.fake) imports layer 'studies'"),
    ("laborai.did.fake", "def f():\n    import laborai.report.build\n",
     "imports layer 'applications'"),
    ("laborai.taxonomy", "import importlib\nm = importlib.import_module('laborai.did.twfe')\n",
     "importlib.import_module('laborai.did.twfe')"),
    ("laborai._results", "from laborai.did._core import _Fit\n", "imports layer"),
    ("laborai.studies.fake", "from laborai.did.twfe import _fit_core\n",
     "private name(s) ['_fit_core'] from laborai.did.twfe, a public module of another"),
    ("laborai.did.cs._fake", "from laborai.did.twfe import _inv_size\n",
     "private name(s) ['_inv_size'] from laborai.did.twfe"),
    ("laborai.unknown_module", "import math\n", "has no layer"),
])
def test_the_scanner_flags_a_synthetic_violation(importer: str, source: str,
                                                  expected: str) -> None:
    bad = violations(source, importer, "fake.py")
    assert len(bad) == 1 and expected in bad[0], bad


@pytest.mark.parametrize(("importer", "source"), [
    ("laborai.studies.fake", "from laborai.did._core import _fit_core\nimport laborai.did\n"),
    ("laborai.did.fake", "from laborai._results import ResultMixin\nfrom laborai import __version__\n"),
    ("laborai.report.fake", "from laborai.studies import estimate_effects\n"),
    ("laborai.did.fake", "from laborai.did.inference import _draw_weights\n"),  # one package
    ("laborai.did.fake", "from laborai.did import _honest_kernels\n"),  # a private submodule
])
def test_the_scanner_passes_imports_down_the_layers(importer: str, source: str) -> None:
    assert violations(source, importer, "fake.py") == []
