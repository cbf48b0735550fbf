"""Fixtures for evaluations: the default framework, a small register and an open cycle."""

import datetime

import pytest

from evaluations.framework import framework_load
from evaluations.services import cycle_open
from tests.factories import make_batch, make_province, make_zone


@pytest.fixture
def framework(db):
    framework_load()


@pytest.fixture
def zones(db):
    """Three zones approved in 2019 and one approved in 2021."""
    province = make_province()
    old = make_batch(approved_on=datetime.date(2019, 12, 15))
    new = make_batch(approved_on=datetime.date(2021, 6, 1))
    return [
        make_zone(name_en="Alpha", name_zh="甲市", province=province, batch=old),
        make_zone(name_en="Bravo", name_zh="乙市", province=province, batch=old),
        make_zone(name_en="Charlie", name_zh="丙市", province=province, batch=old),
        make_zone(name_en="Delta", name_zh="丁市", province=province, batch=new),
    ]


@pytest.fixture
def cycle(framework, zones):
    return cycle_open(year=2021)
