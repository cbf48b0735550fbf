"""What the evaluation commands share: acting as ``--user`` on the cycle a YEAR argument names."""

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from evaluations.models import Cycle
from zonetracker.commands import acting_user

Outcome = TypeVar("Outcome")


def cycle_of(year: int) -> Cycle:
    """The cycle of ``year``, or a CommandError that says there is none."""
    cycle = Cycle.objects.filter(year=year).first()
    if cycle is None:
        raise CommandError(f"There is no cycle of {year}.")
    return cycle


def act_on_cycle(
    options: dict[str, Any],
    permission: str,
    service: Callable[..., Outcome],
) -> tuple[Cycle, Outcome]:
    """Call ``service(cycle=..., by=...)`` as ``--user`` on the cycle of ``options["year"]``.

    The user is checked for ``permission`` before the cycle is looked up; a ValidationError the
    service raises becomes a CommandError carrying its messages, so the command exits with
    status 1 having written nothing.
    """
    user: AbstractBaseUser | None = acting_user(options["user"], permission)
    cycle = cycle_of(options["year"])
    try:
        return cycle, service(cycle=cycle, by=user)
    except ValidationError as error:
        raise CommandError(" ".join(error.messages)) from None
