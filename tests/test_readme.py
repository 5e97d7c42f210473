"""The README's commands and example stay true."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_starts_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    first_block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert first_block is not None
    commands = [ln.split("#")[0].strip() for ln in first_block.group(1).splitlines() if ln.strip()]
    assert commands == ["make report", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_readme_python_example_runs() -> None:
    text = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S)
    assert code is not None
    src = code.group(1).replace("n_posts=400_000", "n_posts=40_000")
    ns: dict[str, object] = {}
    exec(compile(src, "README.md", "exec"), ns)
    tidy = ns["effects"].tidy()  # type: ignore[attr-defined]
    assert {"term", "estimate", "std_error", "conf_low", "conf_high", "category",
            "value_tier", "outcome"} <= set(tidy.columns)
    assert len(tidy) == 2 * 10  # 2 outcomes x 5 exposed categories x 2 tiers
