"""The direction of dependencies, checked from the import graph: core <- adapters <- bot.

``core/`` (the domain) imports neither the adapters nor the app; ``adapters/`` never import
``bot/`` (the wiring). Every import counts: at module level, inside functions, and under
``TYPE_CHECKING``, since each one is a dependency that can grow into a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FORBIDDEN = {"core": ("adapters", "bot"), "adapters": ("bot",)}


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_above_it(package: str) -> None:
    files = sorted((REPO / package).rglob("*.py"))
    assert files, f"no modules found under {package}/"
    breaches = [
        f"{path.relative_to(REPO)} imports {module}"
        for path in files
        for module in sorted(imported_modules(path))
        if module.split(".")[0] in FORBIDDEN[package]
    ]
    assert breaches == []


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from bot.config import Settings\n", encoding="utf-8")
    assert "bot.config" in imported_modules(sample)
