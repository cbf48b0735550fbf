"""Add demonstration cycles (2021 and 2022 published, 2023 open) with synthetic scores."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from evaluations.demo import demo_seed


class Command(BaseCommand):
    help = (
        "Create demonstration cycles over the loaded register: 2021 and 2022 published and "
        "2023 open, with synthetic scores from a fixed random seed. Every page showing them "
        "says they are demonstration data, not official results. Run after load_register, "
        "load_framework and create_demo_accounts; a second run changes nothing."
    )

    def handle(self, *args, **options) -> None:
        try:
            summary = demo_seed()
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        if not summary.created:
            self.stdout.write("Demonstration data is there already; nothing was changed.")
            return
        years = ", ".join(f"{year}: {count} evaluations" for year, count in summary.cycles.items())
        self.stdout.write(f"Demonstration data created (not official results) - {years}.")
