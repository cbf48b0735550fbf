"""A writing command that loses its database ends with one line and exit status 1.

In the suite's own process, on either engine: the driver's error is raised where a query
would run (the restart itself, on a PostgreSQL cluster of its own, is
``test_database_restart``). The pure rules that take a repeated POST as done are here too.
"""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import InterfaceError, OperationalError

from tests.evaluations.conftest import cycle as cycle
from tests.evaluations.conftest import framework as framework
from tests.evaluations.conftest import zones as zones
from zonetracker.commands import DatabaseCommand, database_lost_message

pytestmark = pytest.mark.faults

WRITING_COMMANDS = [
    "import_zones",
    "import_scores",
    "import_results",
    "compute_rankings",
    "publish_cycle",
    "backup",
    "import_scopes",
]


@pytest.mark.parametrize("name", WRITING_COMMANDS)
def test_every_writing_command_turns_a_lost_database_into_one_line(name):
    from django.core.management import get_commands, load_command_class

    command = load_command_class(get_commands()[name], name)
    assert isinstance(command, DatabaseCommand)


@pytest.mark.parametrize(
    "error",
    [
        OperationalError(
            "terminating connection due to administrator command\n"
            "server closed the connection unexpectedly"
        ),
        InterfaceError("connection already closed"),
    ],
    ids=["operational", "interface"],
)
def test_a_lost_connection_is_one_line_and_nothing_is_written(cycle, monkeypatch, error):
    from evaluations.models import Evaluation

    before = list(Evaluation.objects.values_list("pk", "total", "rank", "grade"))

    def lost(**kwargs):
        raise error

    monkeypatch.setattr("evaluations.management.commands.compute_rankings.rankings_compute", lost)
    with pytest.raises(CommandError) as caught:
        call_command("compute_rankings", str(cycle.year), stdout=io.StringIO())

    message = str(caught.value)
    assert "\n" not in message
    assert message == database_lost_message(error)
    assert message.startswith("The database could not be reached or went away (")
    assert str(error).splitlines()[0] in message
    assert list(Evaluation.objects.values_list("pk", "total", "rank", "grade")) == before


def test_with_traceback_the_error_is_raised_as_it_was(cycle, monkeypatch):
    def lost(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("evaluations.management.commands.compute_rankings.rankings_compute", lost)
    with pytest.raises(OperationalError):
        call_command("compute_rankings", str(cycle.year), "--traceback", stdout=io.StringIO())


def test_from_the_shell_it_is_exit_status_1_without_a_traceback(tmp_path):
    """A database that cannot be opened at all: a SQLite file in a folder that is not there."""
    from django.conf import settings

    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "zonetracker.test_settings",
        "SQLITE_PATH": str(tmp_path / "missing" / "db.sqlite3"),
        "PYTHONPATH": str(settings.BASE_DIR),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "compute_rankings", "2023", "--skip-checks"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "CommandError: The database could not be reached or went away (unable to open "
        "database file): nothing was written. Run the command again once the database is back."
    ]


# --- a repeated POST taken as done (pure rules) ----------------------------------------------


def test_a_submission_is_done_already_only_for_its_author_its_version_and_its_values(
    cycle, carol, erin
):
    from evaluations.services import evaluation_save, evaluation_submit, submitted_already
    from tests.evaluations.test_services import full_scores

    evaluation = cycle.evaluations.select_related("cycle").first()
    evaluation.reviewer = carol
    evaluation.save(update_fields=["reviewer"])
    scores, version = full_scores(evaluation), evaluation.version
    evaluation_save(evaluation=evaluation, by=carol, scores=scores, version=version)
    evaluation_submit(evaluation=evaluation, by=carol)
    evaluation.refresh_from_db()

    assert submitted_already(evaluation, by=carol, scores=scores, version=version)
    assert not submitted_already(evaluation, by=erin, scores=scores, version=version)
    assert not submitted_already(evaluation, by=carol, scores=scores, version=version - 1)
    assert not submitted_already(evaluation, by=carol, scores=scores, version=evaluation.version)
    other = {pk: type(entry)(value=None, note=entry.note) for pk, entry in scores.items()}
    assert not submitted_already(evaluation, by=carol, scores=other, version=version)


def test_a_step_of_the_reporting_chain_is_done_already_only_as_it_was_posted(cycle, carol, erin):
    from decimal import Decimal

    from evaluations.models import EvaluationStatus, Score
    from evaluations.reporting import step_done_already

    evaluation = cycle.evaluations.first()
    indicator = cycle.indicators.first()
    Score.objects.create(evaluation=evaluation, indicator=indicator, value=Decimal(5))
    evaluation.status, evaluation.forwarded_by, evaluation.version = (
        EvaluationStatus.FORWARDED,
        carol,
        7,
    )

    assert step_done_already(evaluation, by=carol, step="forward", version=6)
    assert not step_done_already(evaluation, by=erin, step="forward", version=6)
    assert not step_done_already(evaluation, by=carol, step="forward", version=5)
    assert not step_done_already(evaluation, by=carol, step="forward", version=7)
    assert not step_done_already(evaluation, by=carol, step="verify", version=6)

    evaluation.status, evaluation.reported_by = EvaluationStatus.REPORTED, carol
    same, other = {indicator.pk: Decimal(5)}, {indicator.pk: Decimal(6)}
    # A report saves, then sends: two versions.
    assert step_done_already(evaluation, by=carol, step="report", version=5, values=same)
    assert not step_done_already(evaluation, by=carol, step="report", version=5, values=other)
    assert not step_done_already(evaluation, by=carol, step="report", version=4, values=same)
