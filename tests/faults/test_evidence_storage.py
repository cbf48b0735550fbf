"""Storage for evidence files failing or full: the upload is refused with a message, and the
report is as it was (no Evidence row, no history record, no file left, whole or partial)."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import IntegrityError

from evaluations.models import Evaluation, Evidence
from evaluations.reporting import evidence_add
from tests.evaluations.conftest import cycle as cycle
from tests.evaluations.conftest import framework as framework
from tests.evaluations.conftest import zones as zones
from tests.evaluations.test_report_views import alpha, client_of, upload
from tests.evaluations.test_report_views import chain as chain
from tests.evidence_files import PDF

pytestmark = pytest.mark.faults


class FullStorage(FileSystemStorage):
    """The media folder's disk fills up part-way through the file: a part is written first."""

    def _save(self, name: str, content) -> str:
        path = Path(self.path(name))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.read()[:100])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class ReadOnlyStorage(FileSystemStorage):
    """The media folder mounted read-only (root ignores a folder's mode, so it is raised)."""

    def _save(self, name: str, content) -> str:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))


def media_files(settings) -> list[Path]:
    return [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]


def report_state(evaluation: Evaluation) -> tuple:
    current = Evaluation.objects.get(pk=evaluation.pk)
    return (
        Evidence.objects.count(),
        current.version,
        current.status,
        current.history.count(),
    )


@pytest.mark.parametrize(
    ("storage", "reason"),
    [(FullStorage, "No space left on device"), (ReadOnlyStorage, "Read-only file system")],
    ids=["full", "read-only"],
)
def test_an_upload_the_storage_cannot_keep_is_refused_and_the_report_is_unchanged(
    cycle, chain, settings, caplog, storage, reason
):
    evaluation = alpha(cycle)
    r1 = cycle.indicators.get(code="R1")
    rita = client_of(chain["rita"])
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.{storage.__name__}"},
    }
    before = report_state(evaluation)

    with caplog.at_level(logging.ERROR, logger="evaluations.reporting"):
        response = upload(rita, evaluation, r1, "proof.pdf", PDF)

    assert response.status_code == 200
    page = response.content.decode()
    assert (
        f"The file was not kept: The storage for evidence files failed ({reason}). Try again "
        "later, or tell an administrator."
    ) in page
    assert report_state(evaluation) == before
    assert media_files(settings) == []
    assert "could not be stored" in caplog.text

    # Storage back: the same upload goes through.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    response = upload(rita, evaluation, r1, "proof.pdf", PDF)
    assert "The evidence file is kept." in response.content.decode()
    assert Evidence.objects.count() == 1 and len(media_files(settings)) == 1


def test_a_file_whose_row_cannot_be_written_is_removed(cycle, chain, settings, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    evaluation = alpha(cycle)

    def refused(self, *args, **kwargs):
        raise IntegrityError("the row was refused")

    monkeypatch.setattr(Evidence, "save", refused)
    with pytest.raises(IntegrityError):
        evidence_add(
            evaluation=evaluation,
            indicator=cycle.indicators.get(code="R1"),
            upload=SimpleUploadedFile("proof.pdf", PDF),
            by=chain["rita"],
        )
    assert media_files(settings) == []
