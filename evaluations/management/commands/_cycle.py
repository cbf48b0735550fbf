"""What the evaluation commands share: finding the cycle a YEAR argument names."""

from django.core.management.base import CommandError

from evaluations.models import Cycle


def cycle_of(year: int) -> Cycle:
    """The cycle of ``year``, or a CommandError that says there is none."""
    cycle = Cycle.objects.filter(year=year).first()
    if cycle is None:
        raise CommandError(f"There is no cycle of {year}.")
    return cycle
