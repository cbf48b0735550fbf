"""The apps' layering: the register stands alone, and the evaluations add to its zone page."""

from __future__ import annotations

import ast
from pathlib import Path

from django.urls import resolve

import registry
from evaluations.zone_page import zone_page_section
from registry.zone_page import register_zone_section, zone_sections


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_the_register_imports_nothing_from_the_evaluations() -> None:
    root = Path(registry.__file__).parent
    offenders = {
        str(path.relative_to(root)): sorted(
            m for m in imported_modules(path) if m.split(".")[0] == "evaluations"
        )
        for path in root.rglob("*.py")
    }
    assert {path: modules for path, modules in offenders.items() if modules} == {}


def test_the_evaluations_add_their_section_to_the_zone_page_once() -> None:
    register_zone_section(zone_page_section)

    assert zone_sections().count(zone_page_section) == 1


def test_the_home_page_is_composed_outside_both_apps() -> None:
    assert resolve("/").func.__module__ == "zonetracker.views"
