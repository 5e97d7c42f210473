"""The top-level import is lazy: no pandas, scipy, DuckDB or pyfixest until they are used."""

from __future__ import annotations

import subprocess
import sys


def test_import_laborai_loads_no_heavy_dependency() -> None:
    code = ("import sys, laborai; heavy = [m for m in ('pandas', 'scipy', 'duckdb', 'pyfixest', "
            "'matplotlib', 'sklearn') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_lazy_names_resolve_and_unknown_names_fail() -> None:
    import laborai as la

    assert callable(la.build_panel) and callable(la.estimate_effects)
    assert la.did.twfe.__name__ == "twfe" and la.panel.UNKNOWN_TIER == "unknown"
    for name in la.__all__:  # every advertised name resolves
        assert getattr(la, name) is not None, name
    try:
        la.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no attribute 'no_such_name'" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("an unknown attribute must raise AttributeError")
