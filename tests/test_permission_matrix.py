"""Every page and every write, for every role: the allowed ones work, the others are refused
and change nothing.

The roles: anonymous, dave (Viewer), carol (Reviewer, to whom the open evaluations are
assigned), bob (Approver) and alice (Administrator); in the reporting chain rita (Zone
reporter of Alpha, Charlie and Echo), oscar (Zone reporter of Bravo only), paul (Provincial
reviewer of their province) and pia (Provincial reviewer of another province). The register
holds four zones; 2021 is published with a warning to decide, 2022 is open with Alpha a
draft, Bravo submitted, Charlie reported by its zone (with an evidence file) and Echo
forwarded by the province.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from evaluations.framework import framework_load
from evaluations.models import Cycle, Decision, Evaluation, Evidence, Score
from evaluations.reporting import evidence_add, report_forward, report_save, report_submit
from evaluations.services import (
    ScoreInput,
    cycle_open,
    cycle_publish,
    evaluation_assign,
    evaluation_save,
    evaluation_submit,
)
from registry.importing import DatabaseTmpStorage, pending_import_claim
from registry.models import Batch, PendingImport, ProvinceReviewer, Zone, ZoneReporter
from tests.evidence_files import PDF
from tests.factories import make_batch, make_province, make_user, make_zone, score_all
from zonetracker.permissions import (
    ADMINISTRATOR,
    APPROVER,
    PROVINCIAL_REVIEWER,
    REVIEWER,
    VIEWER,
    ZONE_REPORTER,
)

CHAIN = ["rita", "oscar", "paul", "pia"]
ROLES = ["anonymous", "dave", "carol", "bob", "alice", *CHAIN]
SIGNED_IN = ["dave", "carol", "bob", "alice", *CHAIN]
WORKERS = ["carol", "bob", "alice"]


@dataclass
class World:
    draft: Evaluation
    submitted: Evaluation
    decision: Decision
    zone: Zone
    indicators: list
    reported: Evaluation
    forwarded: Evaluation
    evidence: Evidence


def build_world() -> World:
    alice = make_user("alice", ADMINISTRATOR)
    make_user("bob", APPROVER)
    carol = make_user("carol", REVIEWER)
    make_user("dave", VIEWER)
    province = make_province()
    batch = make_batch(approved_on=datetime.date(2019, 1, 1))
    for name_en, name_zh in [("Alpha", "甲市"), ("Bravo", "乙市"), ("Charlie", "丙市")]:
        make_zone(name_en=name_en, name_zh=name_zh, province=province, batch=batch)
    # Approved in 2021: evaluated from 2022 on.
    later = make_batch(approved_on=datetime.date(2021, 6, 1))
    make_zone(name_en="Echo", name_zh="戊市", province=province, batch=later)
    rita = make_user("rita", ZONE_REPORTER)
    oscar = make_user("oscar", ZONE_REPORTER)
    paul = make_user("paul", PROVINCIAL_REVIEWER)
    pia = make_user("pia", PROVINCIAL_REVIEWER)
    for name_en in ["Alpha", "Charlie", "Echo"]:
        ZoneReporter.objects.create(user=rita, zone=Zone.objects.get(name_en=name_en))
    ZoneReporter.objects.create(user=oscar, zone=Zone.objects.get(name_en="Bravo"))
    ProvinceReviewer.objects.create(user=paul, province=province)
    ProvinceReviewer.objects.create(user=pia, province=make_province())
    framework_load()
    published = cycle_open(year=2021)
    published.grade1_size = 1
    published.save()
    score_all(published, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=published)
    current = cycle_open(year=2022)
    evaluation_assign(evaluations=current.evaluations.all(), reviewer=carol, by=alice)
    indicators = list(current.indicators.all())
    full = {i.pk: ScoreInput(Decimal(5)) for i in indicators}
    draft = current.evaluations.get(zone__name_en="Alpha")
    submitted = current.evaluations.get(zone__name_en="Bravo")
    evaluation_save(evaluation=submitted, by=carol, scores=full, version=submitted.version)
    evaluation_submit(evaluation=submitted, by=carol)
    reported = current.evaluations.get(zone__name_en="Charlie")
    forwarded = current.evaluations.get(zone__name_en="Echo")
    for report in [reported, forwarded]:
        report_save(evaluation=report, by=rita, scores=full, version=report.version)
        report_submit(evaluation=report, by=rita, version=report.version)
    report_forward(evaluation=forwarded, by=paul, version=forwarded.version)
    evidence = evidence_add(
        evaluation=draft,
        indicator=indicators[0],
        upload=SimpleUploadedFile("proof.pdf", PDF),
        by=rita,
    )
    return World(
        draft=draft,
        submitted=Evaluation.objects.get(pk=submitted.pk),
        decision=Decision.objects.get(),
        zone=Zone.objects.get(name_en="Alpha"),
        indicators=indicators,
        reported=Evaluation.objects.get(pk=reported.pk),
        forwarded=Evaluation.objects.get(pk=forwarded.pk),
        evidence=evidence,
    )


def page_path(url: str, world: World) -> str:
    return url.format(
        draft=world.draft.pk, forwarded=world.forwarded.pk, evidence=world.evidence.pk
    )


def client_for(role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.login(username=role, password="correct-horse-battery-staple")
    return client


def snapshot() -> tuple:
    """Everything a write could change, in a comparable form."""
    return (
        sorted(Zone.objects.values_list("pk", "name_en", "status")),
        Batch.objects.count(),
        sorted(Cycle.objects.values_list("pk", "status", "grade1_size")),
        sorted(Evaluation.objects.values_list("pk", "status", "version", "reviewer_id")),
        sorted(
            Score.objects.values_list(
                "pk", "value", "note", "reported_value", "verification_reason"
            )
        ),
        sorted(Decision.objects.values_list("pk", "outcome", "rationale")),
        sorted(Evidence.objects.values_list("pk", "replaced_at")),
        sorted(ZoneReporter.objects.values_list("user_id", "zone_id")),
        sorted(ProvinceReviewer.objects.values_list("user_id", "province_id")),
        PendingImport.objects.count(),
    )


# --- reading ------------------------------------------------------------------------------

# url (with placeholders filled from the world) → roles that may read it
PAGES = {
    "/": SIGNED_IN,
    "/zones/": SIGNED_IN,
    "/zones/alpha/": SIGNED_IN,
    "/batches/": SIGNED_IN,
    "/cycles/2021/rankings/": SIGNED_IN,
    "/cycles/2022/rankings/": WORKERS,
    "/cycles/2022/evaluations/": WORKERS,
    "/evaluations/{draft}/": [*WORKERS, "rita", "paul"],
    "/cycles/2022/reports/": [*WORKERS, *CHAIN],
    "/reports/{draft}/": [*WORKERS, "rita", "paul"],
    "/reports/{forwarded}/": [*WORKERS, "rita", "paul"],
    "/evidence/{evidence}/": [*WORKERS, "rita", "paul"],
    "/cycles/2021/decisions/": ["bob", "alice"],
    "/admin/": ["alice"],
    "/admin/registry/zone/import/": ["alice"],
    "/admin/registry/zonereporter/import/": ["alice"],
    "/admin/evaluations/evaluation/": ["alice"],
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", list(PAGES))
def test_each_page_is_readable_by_its_roles_only(url, role):
    world = build_world()
    path = page_path(url, world)
    response = client_for(role).get(path)
    if role in PAGES[url]:
        assert response.status_code == 200, (path, role)
    elif role == "anonymous" or (
        path.startswith("/admin/") and role in {"dave", "carol", "bob", *CHAIN}
    ):
        # Anonymous users, and non-staff at the admin, are sent to a login page.
        assert response.status_code == 302, (path, role)
        assert "login" in response["Location"]
    else:
        assert response.status_code == 403, (path, role)


# --- writing ------------------------------------------------------------------------------


def save_draft(world: World) -> tuple[str, dict]:
    data = {"version": world.draft.version}
    for indicator in world.indicators:
        data[f"value_{indicator.pk}"] = "4" if indicator.code == "P1" else ""
        data[f"note_{indicator.pk}"] = ""
    return f"/evaluations/{world.draft.pk}/", data


def submit(world: World) -> tuple[str, dict]:
    data = {"version": world.draft.version}
    for indicator in world.indicators:
        data[f"value_{indicator.pk}"] = "5"
        data[f"note_{indicator.pk}"] = ""
    return f"/evaluations/{world.draft.pk}/submit/", data


def approve(world: World) -> tuple[str, dict]:
    return f"/evaluations/{world.submitted.pk}/approve/", {"version": world.submitted.version}


def send_back(world: World) -> tuple[str, dict]:
    return f"/evaluations/{world.submitted.pk}/return/", {
        "version": world.submitted.version,
        "reason": "Check R1.",
    }


def decide(world: World) -> tuple[str, dict]:
    return f"/cycles/2021/decisions/{world.decision.pk}/", {
        "outcome": "warn",
        "rationale": "Confirmed.",
    }


def import_batch(world: World) -> tuple[str, dict]:
    upload = SimpleUploadedFile(
        "batch.csv",
        f"batch,approved_on,name_zh,name_en,province\n9,2025-04-02,丁市,Delta,{world.zone.province.code}\n".encode(),
        content_type="text/csv",
    )
    return "/admin/registry/zone/import/", {"import_file": upload, "format": "0"}


def import_scopes(world: World) -> tuple[str, dict]:
    upload = SimpleUploadedFile("scopes.csv", b"user,zone\noscar,alpha\n", content_type="text/csv")
    return "/admin/registry/zonereporter/import/", {"import_file": upload}


def confirm_scopes(world: World) -> tuple[str, dict]:
    """Confirm a scope file an Administrator uploaded and previewed."""
    storage = DatabaseTmpStorage()
    storage.save(b"user,zone\noscar,alpha\n")
    pending_import_claim(name=storage.name, user=User.objects.get(username="alice"))
    return "/admin/registry/zonereporter/import/", {"pending": storage.name, "confirm": "1"}


def open_cycle(world: World) -> tuple[str, dict]:
    return "/admin/evaluations/cycle/add/", {"year": "2023", "cutoff": ""}


def assign(world: World) -> tuple[str, dict]:
    return "/admin/evaluations/evaluation/", {
        "action": "assign_to_reviewer",
        "_selected_action": [world.draft.pk],
        "reviewer": "",
        "apply": "1",
    }


def report_draft(world: World) -> tuple[str, dict]:
    data = {"version": world.draft.version}
    for indicator in world.indicators:
        data[f"value_{indicator.pk}"] = "6"
        data[f"note_{indicator.pk}"] = ""
    return f"/reports/{world.draft.pk}/save/", data


def report_send(world: World) -> tuple[str, dict]:
    path, data = report_draft(world)
    return path, {**data, "send": "1"}


def add_evidence(world: World) -> tuple[str, dict]:
    upload = SimpleUploadedFile("proof.pdf", PDF, content_type="application/pdf")
    return f"/reports/{world.draft.pk}/evidence/", {
        "indicator": world.indicators[1].pk,
        "file": upload,
    }


def replace_evidence(world: World) -> tuple[str, dict]:
    path, data = add_evidence(world)
    return path, {**data, "indicator": world.indicators[0].pk, "replaces": world.evidence.pk}


def province_forward(world: World) -> tuple[str, dict]:
    return f"/reports/{world.reported.pk}/forward/", {"version": world.reported.version}


def province_return(world: World) -> tuple[str, dict]:
    return f"/reports/{world.reported.pk}/return/", {
        "version": world.reported.version,
        "reason": "The park count is missing its source.",
    }


def ministry_verify(world: World) -> tuple[str, dict]:
    data = {"version": world.forwarded.version}
    for indicator in world.indicators:
        data[f"accepted_{indicator.pk}"] = "4" if indicator == world.indicators[0] else "5"
        data[f"reason_{indicator.pk}"] = "Customs data." if indicator == world.indicators[0] else ""
    return f"/reports/{world.forwarded.pk}/verify/", data


def change_language(world: World) -> tuple[str, dict]:
    return "/i18n/setlang/", {"language": "zh-hans", "next": "/"}


# write → (roles allowed, whether an allowed write changes the database)
WRITES = {
    save_draft: (["carol", "alice"], True),
    submit: (["carol", "alice"], True),
    approve: (["bob"], True),
    send_back: (["bob"], True),
    decide: (["bob"], True),
    # An import's first POST only previews (PREVIEWS, below).
    import_batch: (["alice"], True),
    import_scopes: (["alice"], True),
    confirm_scopes: (["alice"], True),
    open_cycle: (["alice"], True),
    report_draft: (["rita"], True),
    report_send: (["rita"], True),
    add_evidence: (["rita"], True),
    replace_evidence: (["rita"], True),
    province_forward: (["paul"], True),
    province_return: (["paul"], True),
    ministry_verify: (["carol", "alice"], True),
    change_language: (ROLES, False),
}


# The upload waits in the database (a pending upload, last in the snapshot) for its
# confirmation; nothing else changes yet.
PREVIEWS = {import_batch, import_scopes}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("write", list(WRITES), ids=lambda w: w.__name__)
def test_each_write_is_allowed_to_its_roles_and_refused_to_others_without_a_change(write, role):
    world = build_world()
    path, data = write(world)
    allowed, changes = WRITES[write]
    before = snapshot()
    response = client_for(role).post(path, data)
    if role in allowed:
        assert response.status_code in {200, 302}, (path, role, response.status_code)
        if write in PREVIEWS:
            after = snapshot()
            assert after[:-1] == before[:-1] and after[-1] == before[-1] + 1, (path, role)
        elif changes:
            assert snapshot() != before, (path, role)
        else:
            assert snapshot() == before, (path, role)
    else:
        assert response.status_code in {302, 403}, (path, role, response.status_code)
        if response.status_code == 302:
            assert "login" in response["Location"], (path, role)
        assert snapshot() == before, (path, role)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["anonymous", "dave", "carol", "bob"])
def test_only_administrators_may_assign_evaluations(role):
    world = build_world()
    path, data = assign(world)
    data["reviewer"] = Evaluation.objects.get(pk=world.draft.pk).reviewer_id
    before = snapshot()
    response = client_for(role).post(path, data)
    assert response.status_code in {302, 403}
    assert snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize("write", [import_scopes, confirm_scopes], ids=lambda w: w.__name__)
def test_staff_who_are_no_administrators_may_not_import_scopes(write):
    world = build_world()
    # Staff, so the admin lets them in, but without the permissions to assign scopes.
    User.objects.filter(username__in=["bob", "carol"]).update(is_staff=True)
    path, data = write(world)
    before = snapshot()
    for role in ["bob", "carol"]:
        assert client_for(role).get(path).status_code == 403
        assert client_for(role).post(path, data).status_code == 403
    assert snapshot() == before


@pytest.mark.django_db
def test_the_only_one_who_may_approve_is_not_the_one_who_entered():
    world = build_world()
    from django.contrib.auth.models import Group, User

    carol = User.objects.get(username="carol")
    carol.groups.add(Group.objects.get(name=APPROVER))
    path, data = approve(world)
    before = snapshot()
    response = client_for("carol").post(path, data)
    assert response.status_code in {302, 403}
    assert snapshot() == before
