"""What the writing commands share: the optional ``--user`` on whose behalf they act."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext as _


def add_user_option(parser: CommandParser) -> None:
    """``--user USERNAME``: record the change as theirs, once their permission is checked."""
    parser.add_argument(
        "--user",
        metavar="USERNAME",
        help=(
            "act as this user: the change is recorded as theirs, and refused (exit status 1, "
            "nothing written) unless they hold the permission the pages would ask of them"
        ),
    )


def acting_user(username: str | None, permission: str) -> AbstractBaseUser | None:
    """The user ``--user`` names, checked for ``permission`` through ``has_perm``.

    None without ``--user``: the shell is trusted, as it always was. A user who does not exist,
    is inactive, or lacks the permission stops the command before anything is read or written.
    """
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(_("There is no user called %(user)s.") % {"user": username})
    if not user.has_perm(permission):
        raise CommandError(
            _("%(user)s lacks the permission %(permission)s: nothing was written.")
            % {"user": username, "permission": permission}
        )
    return user


class DatabaseCommand(BaseCommand):
    """A command that writes: a database lost under it (restarted, stopped, unreachable) ends
    it with one line and exit status 1, not a traceback. Its work is one transaction, which
    the database rolls back, so nothing of it is written; ``--traceback`` still shows where
    it stopped."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except (OperationalError, InterfaceError) as error:
            if options.get("traceback"):
                raise
            raise CommandError(database_lost_message(error)) from None


def database_lost_message(error: BaseException) -> str:
    """One line for a lost database: what the driver said (its first line) and what to do."""
    said = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
    return _(
        "The database could not be reached or went away (%(error)s): nothing was written. "
        "Run the command again once the database is back."
    ) % {"error": said or error.__class__.__name__}
