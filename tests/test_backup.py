"""A backup restored as the README says holds the same zones and evaluations."""

import io
import shutil
import sqlite3
import stat
import subprocess

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from evaluations.models import Evaluation
from registry.models import Zone


def restored_counts_sqlite(backup) -> tuple[int, int]:
    # Restoring is copying the file into place; here it is opened where it lies.
    with sqlite3.connect(backup) as restored:
        zones = restored.execute("select count(*) from registry_zone").fetchone()[0]
        evaluations = restored.execute("select count(*) from evaluations_evaluation").fetchone()[0]
    return zones, evaluations


def restored_counts_postgresql(backup) -> tuple[int, int]:
    database = connection.settings_dict
    params = {
        "host": database["HOST"] or None,
        "port": database["PORT"] or None,
        "user": database["USER"] or None,
        "password": database["PASSWORD"] or None,
    }
    scratch = f"{database['NAME']}_restore"
    with psycopg.connect(dbname=database["NAME"], autocommit=True, **params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        admin.execute(f'CREATE DATABASE "{scratch}"')
    try:
        command = [shutil.which("pg_restore"), "--no-owner", "--dbname", scratch, str(backup)]
        for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
            if database.get(key):
                command += [flag, str(database[key])]
        subprocess.run(command, check=True, capture_output=True)
        with psycopg.connect(dbname=scratch, **params) as restored:
            zones = restored.execute("select count(*) from registry_zone").fetchone()[0]
            evaluations = restored.execute(
                "select count(*) from evaluations_evaluation"
            ).fetchone()[0]
    finally:
        with psycopg.connect(dbname=database["NAME"], autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
    return zones, evaluations


@pytest.mark.django_db(transaction=True)
def test_a_restored_backup_holds_the_same_zones_and_evaluations(tmp_path):
    call_command("load_register", verbosity=0)
    call_command("load_framework", stdout=io.StringIO())
    call_command("open_cycle", "2021", stdout=io.StringIO())
    expected = (Zone.objects.count(), Evaluation.objects.count())
    assert expected == (165, 105)

    backup = tmp_path / "copy.backup"
    out = io.StringIO()
    call_command("backup", "--output", str(backup), stdout=out)
    assert "Backup written" in out.getvalue()

    if connection.vendor == "sqlite":
        assert restored_counts_sqlite(backup) == expected
    else:
        assert restored_counts_postgresql(backup) == expected


@pytest.mark.django_db
def test_a_backup_never_overwrites_a_file(tmp_path):
    from django.core.management.base import CommandError

    existing = tmp_path / "copy.backup"
    existing.write_text("keep me")
    with pytest.raises(CommandError, match="exists already"):
        call_command("backup", "--output", str(existing))
    assert existing.read_text() == "keep me"


@pytest.mark.django_db(transaction=True)
def test_a_backup_is_readable_by_its_owner_alone_in_a_private_folder(tmp_path, settings):
    settings.BASE_DIR = tmp_path
    # A folder left world-readable by an earlier version is made private again.
    (tmp_path / "backups").mkdir(mode=0o755)
    (tmp_path / "backups").chmod(0o755)
    call_command("backup", stdout=io.StringIO())

    [backup] = (tmp_path / "backups").iterdir()
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "backups").stat().st_mode) == 0o700


@pytest.mark.django_db(transaction=True)
def test_a_backup_to_a_named_file_is_readable_by_its_owner_alone(tmp_path):
    backup = tmp_path / "new-folder" / "copy.backup"
    call_command("backup", "--output", str(backup), stdout=io.StringIO())

    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup.parent.stat().st_mode) == 0o700
