"""A permission granted directly, in no role group, allows exactly its action: on the pages, in
the admin and with the commands, and nothing else.

In the world of the permission matrix, sam holds only ``evaluations.approve_evaluation`` and
ian, who may open the admin, holds only ``registry.import_zone``. Neither belongs to a group.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.core.management.base import CommandError

from evaluations.models import EvaluationStatus
from registry.models import Zone
from tests.factories import make_user
from tests.test_permission_matrix import (
    PAGES,
    WRITES,
    approve,
    build_world,
    change_language,
    client_for,
    import_batch,
    page_path,
    send_back,
    snapshot,
)

pytestmark = pytest.mark.django_db


def grant(username: str, permission: str, *, staff: bool = False) -> User:
    """A user outside every role group, holding ``permission`` alone."""
    user = make_user(username, staff=staff)
    app_label, codename = permission.split(".")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )
    return user


# What each of them may do: the pages any signed-in user reads, plus the permission's own.
# Approving carries reading the evaluations one approves (their reports and evidence too), not
# the lists of the open cycle.
READS = {
    "sam": [
        *[url for url, readers in PAGES.items() if "dave" in readers],
        "/evaluations/{draft}/",
        "/reports/{draft}/",
        "/reports/{forwarded}/",
        "/evidence/{evidence}/",
    ],
    "ian": [
        *[url for url, readers in PAGES.items() if "dave" in readers],
        "/admin/",
        "/admin/registry/zone/import/",
    ],
}
MAY_WRITE = {"sam": {approve, send_back, change_language}, "ian": {import_batch, change_language}}


def world_with_sam_and_ian():
    world = build_world()
    grant("sam", "evaluations.approve_evaluation")
    grant("ian", "registry.import_zone", staff=True)
    return world


@pytest.mark.parametrize("username", ["sam", "ian"])
@pytest.mark.parametrize("url", list(PAGES))
def test_a_single_permission_opens_its_own_pages_and_no_other(url, username):
    world = world_with_sam_and_ian()
    path = page_path(url, world)
    response = client_for(username).get(path)
    if url in READS[username]:
        assert response.status_code == 200, (path, username)
    else:
        assert response.status_code in {302, 403}, (path, username)
        if response.status_code == 302:
            assert "login" in response["Location"], (path, username)


@pytest.mark.parametrize("username", ["sam", "ian"])
@pytest.mark.parametrize("write", list(WRITES), ids=lambda w: w.__name__)
def test_a_single_permission_allows_its_own_writes_and_no_other(write, username):
    world = world_with_sam_and_ian()
    path, data = write(world)
    before = snapshot()
    response = client_for(username).post(path, data)
    if write in MAY_WRITE[username]:
        assert response.status_code in {200, 302}, (path, username, response.status_code)
        assert (snapshot() != before) == WRITES[write][1], (path, username)
    else:
        assert response.status_code in {302, 403}, (path, username, response.status_code)
        assert snapshot() == before, (path, username)


def test_an_approver_by_direct_grant_approves_on_the_evaluation_page():
    world = world_with_sam_and_ian()
    path, data = approve(world)
    client_for("sam").post(path, data)
    world.submitted.refresh_from_db()
    assert world.submitted.status == EvaluationStatus.APPROVED
    assert world.submitted.approved_by.username == "sam"


def batch_file(tmp_path: Path, province_code: str) -> Path:
    path = tmp_path / "batch.csv"
    path.write_text(
        f"batch,approved_on,name_zh,name_en,province\n9,2025-04-02,丁市,Delta,{province_code}\n"
    )
    return path


def test_an_importer_by_direct_grant_imports_zones_from_the_shell_as_themselves(tmp_path):
    world = world_with_sam_and_ian()
    call_command("import_zones", batch_file(tmp_path, world.zone.province.code), user="ian")
    delta = Zone.objects.get(name_en="Delta")
    assert delta.history.get().history_user.username == "ian"


@pytest.mark.parametrize(
    ("username", "command", "args"),
    [
        ("sam", "open_cycle", ["2023"]),
        ("sam", "compute_rankings", ["2022"]),
        ("sam", "publish_cycle", ["2022"]),
        ("ian", "open_cycle", ["2023"]),
        ("ian", "publish_cycle", ["2022"]),
        ("ian", "import_scores", ["2022", "scores.csv"]),
    ],
)
def test_a_single_permission_is_refused_every_other_command(username, command, args, tmp_path):
    world_with_sam_and_ian()
    (tmp_path / "scores.csv").write_text("zone,indicator,value\nAlpha,P1,7\n")
    args = [str(tmp_path / a) if a.endswith(".csv") else a for a in args]
    before = snapshot()
    with pytest.raises(CommandError, match=f"{username} lacks the permission"):
        call_command(command, *args, user=username)
    assert snapshot() == before


def test_sam_may_not_import_zones_from_the_shell(tmp_path):
    world = world_with_sam_and_ian()
    before = snapshot()
    with pytest.raises(CommandError, match=r"sam lacks the permission registry\.import_zone"):
        call_command("import_zones", batch_file(tmp_path, world.zone.province.code), user="sam")
    assert snapshot() == before
