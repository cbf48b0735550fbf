"""E-mail each reviewer and approver their work near or past a cycle's deadline: run daily."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from evaluations.notifications import notifications_mail_retry, reminders_due, reminders_send


class Command(BaseCommand):
    help = (
        "E-mail each reviewer the evaluations still to enter, and each approver the "
        "submissions awaiting approval, when a cycle's deadline is past or within --days "
        "days. One e-mail per person; whoever was reminded today is not reminded again. "
        "First, the e-mails of notifications that could not be sent before (the mail server "
        "was down) are sent again. Meant for a scheduler (cron, a systemd timer) to run once "
        "a day, or more often to retry e-mails sooner."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=settings.ZONETRACKER_REMINDER_DAYS,
            help="Remind this many days before a deadline (default: %(default)s).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Say who would be reminded; send nothing."
        )

    def handle(self, *args, **options) -> None:
        reminders = reminders_due(today=timezone.localdate(), days=max(options["days"], 0))
        for reminder in reminders:
            self.stdout.write(
                f"{reminder.recipient.get_username()} <{reminder.recipient.email or '-'}>: "
                f"{len(reminder.to_enter)} to enter, {len(reminder.to_approve)} to approve"
            )
        if options["dry_run"]:
            self.stdout.write(f"Dry run: {len(reminders)} reminders would be sent.")
            return
        sent, waiting = notifications_mail_retry()
        if sent or waiting:
            self.stdout.write(
                f"{sent} notification e-mails sent that had failed before; {waiting} still "
                "waiting (see the log)."
            )
        reminders_send(reminders)
        self.stdout.write(f"{len(reminders)} reminders sent.")
