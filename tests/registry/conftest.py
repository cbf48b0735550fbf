"""Fixtures of the register tests."""

from __future__ import annotations

import pytest
from django.conf import settings

from registry.importing import provinces_import


@pytest.fixture
def provinces(db) -> None:
    """The 31 provinces of fixtures/provinces.csv, without any zone."""
    provinces_import(raw=(settings.BASE_DIR / "fixtures" / "provinces.csv").read_bytes())
