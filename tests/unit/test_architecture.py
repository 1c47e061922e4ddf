"""The import direction of docs/ARCHITECTURE.md, held by a test."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("shadowdns", "resolver", "harness", "legacy_adapter", "deckard", "reports", "lab",
            "netpolicy")
ALLOWED = {
    "netpolicy": set(),  # the address policy: a leaf every package may use
    "resolver": {"netpolicy"},
    "lab": {"netpolicy"},
    "legacy_adapter": {"netpolicy"},
    "deckard": {"resolver", "legacy_adapter", "netpolicy"},  # --reference unbound|kresd
    "harness": {"resolver", "legacy_adapter", "lab", "netpolicy"},
    "reports": {"harness", "netpolicy"},
    "shadowdns": set(PACKAGES),
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_follow_the_architecture(package: str) -> None:
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for other in imported_packages(path) - {package} - ALLOWED[package]:
            wrong.append(f"{path.relative_to(ROOT)} imports {other}")
    assert not wrong, "\n".join(wrong)


def test_pandas_stays_in_reports() -> None:
    """pandas (heavy to import) lives only in reports/."""
    wrong = []
    for package in ("resolver", "lab", "legacy_adapter", "harness", "deckard"):
        for path in sorted((ROOT / package).rglob("*.py")):
            text = path.read_text()
            if "import pandas" in text:
                wrong.append(f"{path.relative_to(ROOT)} imports pandas")
    assert not wrong, "\n".join(wrong)
