"""Small builders of test data; each returns a saved object with sensible defaults."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

from django.contrib.auth.models import Group, User

from evaluations.models import Cycle, EvaluationStatus, Score
from registry.models import Batch, Province, Region, Zone

_counter = itertools.count(1)

PASSWORD = "correct-horse-battery-staple"


def make_user(username: str, *roles: str, staff: bool | None = None) -> User:
    """A user in the given role groups; Administrators are staff so they reach the admin."""
    user = User.objects.create_user(username=username, password=PASSWORD)
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    user.is_staff = "Administrator" in roles if staff is None else staff
    user.save()
    return user


def make_province(**fields) -> Province:
    n = next(_counter)
    code = f"{(n % 89) + 10:02d}"
    # The counter runs through the whole session; skip a code a test has already given to a
    # real province (Sichuan's 51, say), so that a test does not fail for the ones before it.
    while "code" not in fields and Province.objects.filter(code=code).exists():
        n = next(_counter)
        code = f"{(n % 89) + 10:02d}"
    defaults = {
        "code": code,
        "name_zh": f"测试省{n}",
        "name_en": f"Testprovince {n}",
        "region": Region.EAST,
    }
    defaults.update(fields)
    return Province.objects.create(**defaults)


def make_batch(**fields) -> Batch:
    n = next(_counter)
    defaults = {
        "number": 100 + n,
        "approved_on": datetime.date(2020, 1, 1),
        "document_no": f"国函〔2020〕{n}号",
    }
    defaults.update(fields)
    return Batch.objects.create(**defaults)


def make_zone(**fields) -> Zone:
    n = next(_counter)
    if "province" not in fields:
        fields["province"] = make_province()
    if "batch" not in fields:
        fields["batch"] = make_batch()
    defaults = {"name_zh": f"测试市{n}", "name_en": f"Testcity {n}", "kind": "city"}
    defaults.update(fields)
    return Zone.objects.create(**defaults)


def score_all(
    cycle: Cycle, points: dict[str, int], status: str = EvaluationStatus.APPROVED
) -> None:
    """Score each named zone: points indicators get points/10 of their maximum, measures
    1 + points × 10; then every evaluation of the cycle is set to ``status``."""
    for evaluation in cycle.evaluations.select_related("zone"):
        share = Decimal(points[evaluation.zone.name_en]) / 10
        for indicator in cycle.indicators.all():
            if indicator.kind == "points":
                value = indicator.max_points * share
            else:
                value = Decimal(1) + share * 100
            Score.objects.update_or_create(
                evaluation=evaluation, indicator=indicator, defaults={"value": value}
            )
    cycle.evaluations.update(status=status)
