"""Fixtures of the register tests."""

from __future__ import annotations

import pytest
from django.conf import settings

from registry.management.commands.load_register import load_provinces


@pytest.fixture
def provinces(db) -> None:
    """The 31 provinces of fixtures/provinces.csv, without any zone."""
    load_provinces((settings.BASE_DIR / "fixtures" / "provinces.csv").read_bytes())
