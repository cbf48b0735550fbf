"""A backup onto a full disk fails with a message, keeps no partial file, changes nothing.

The disk is real: a small tmpfs mounted for the test (root only) and filled up, so SQLite's
backup API and pg_dump meet ENOSPC as they would on a full server.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from registry.models import Zone

pytestmark = pytest.mark.faults


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB filesystem with about 16 KiB left: far less than any backup needs."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to mount a small tmpfs: {mounted.stderr}")
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        with (mount_point / "filler").open("wb") as filler:
            filler.write(b"\0" * (16 * 1024 - 16) * 1024)
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


@pytest.mark.django_db(transaction=True)
def test_a_backup_onto_a_full_disk_fails_with_a_message_and_leaves_nothing(
    full_disk: Path, register
):
    zones = Zone.objects.count()
    output = full_disk / "zonetracker.backup"

    with pytest.raises(CommandError) as failure:
        call_command("backup", output=output)

    assert "no space left on the disk" in str(failure.value)
    assert "Nothing was kept" in str(failure.value)
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler"]
    assert Zone.objects.count() == zones


@pytest.mark.django_db(transaction=True)
def test_a_backup_after_the_disk_is_freed_is_written_whole(full_disk: Path, register):
    output = full_disk / "zonetracker.backup"
    with pytest.raises(CommandError):
        call_command("backup", output=output)

    (full_disk / "filler").unlink()
    call_command("backup", output=output)

    assert output.stat().st_size > 0
    assert sorted(p.name for p in full_disk.iterdir()) == ["zonetracker.backup"]


@pytest.mark.django_db(transaction=True)
def test_a_backup_removes_the_partial_file_a_killed_backup_left(tmp_path: Path, register):
    left = tmp_path / ".zonetracker-20260101-000000.sqlite3.999999999.partial"
    left.write_bytes(b"half a backup")
    output = tmp_path / "zonetracker.backup"

    call_command("backup", output=output)

    assert not left.exists()
    assert output.exists()
