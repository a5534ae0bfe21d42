"""The layout the README draws holds: domain packages apart, no Functions import under shared/, small files."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / "shared"


def imports_of(path: Path) -> set[str]:
    """Every module a file imports (absolute names; `from a import b` yields `a` and `a.b`)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def package_imports(package: str) -> set[str]:
    return {name for path in (SHARED / package).glob("*.py") for name in imports_of(path)}


def test_shared_never_imports_the_functions_sdks() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            n for n in imports_of(path) if n.startswith(("azure.functions", "azure.durable_functions"))
        )
        for path in SHARED.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_domain_packages_depend_only_downwards() -> None:
    azure = package_imports("azure")
    assert not {n for n in azure if n.startswith(("shared.retention", "shared.moves"))}
    retention = package_imports("retention")
    assert not {n for n in retention if n.startswith("shared.moves")}
    moves_into_retention = {n for n in package_imports("moves") if n.startswith("shared.retention")}
    assert moves_into_retention <= {"shared.retention.ledger"} | {
        n for n in moves_into_retention if n.startswith("shared.retention.ledger.")
    }


def test_few_loose_modules_and_no_big_files() -> None:
    loose = [p.name for p in SHARED.glob("*.py") if p.name != "__init__.py"]
    packages = [p.name for p in SHARED.iterdir() if (p / "__init__.py").is_file()]
    assert len(loose) <= 8 and len(packages) >= 3, (loose, packages)
    big = {
        str(p.relative_to(ROOT)): n
        for folder in (SHARED, ROOT / "handlers")
        for p in folder.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 300
    }
    assert big == {}
