"""A form posted twice (a double click, a retry after a timeout) is applied once.

Each test replays the very same POST: the second finds the version it carries used up, or the
state it asks to leave already left, says so, and changes nothing (no second history record,
no second notification). Imports are idempotent by content: the same file again changes
nothing (``test_import_scores``, ``tests/registry/test_import.py``), and an admin upload is
confirmed once (``tests/registry/test_admin_import.py``).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from evaluations.models import (
    Cycle,
    Decision,
    Evaluation,
    EvaluationStatus,
    Notification,
    NotificationKind,
    Score,
)
from evaluations.services import cycle_publish, evaluation_save, evaluation_submit
from tests.evaluations.test_report_views import alpha as report_alpha
from tests.evaluations.test_report_views import chain as chain
from tests.evaluations.test_report_views import client_of as report_client
from tests.evaluations.test_report_views import report_data
from tests.evaluations.test_services import full_scores
from tests.evaluations.test_views import COMPLETE, action_url, detail_url, entry, login
from tests.factories import score_all

pytestmark = pytest.mark.faults


@pytest.fixture
def alpha(cycle: Cycle, carol: User) -> Evaluation:
    Evaluation.objects.filter(cycle=cycle, zone__name_en="Alpha").update(reviewer=carol)
    return cycle.evaluations.select_related("cycle").get(zone__name_en="Alpha")


@pytest.fixture
def submitted(alpha: Evaluation, carol: User) -> Evaluation:
    evaluation_save(evaluation=alpha, by=carol, scores=full_scores(alpha), version=alpha.version)
    return evaluation_submit(evaluation=alpha, by=carol)


def twice(client: Client, url: str, data: dict) -> tuple:
    return client.post(url, data), client.post(url, data)


def written(evaluation: Evaluation) -> tuple:
    """What a repeated POST must not change: the row, its history, scores, notifications."""
    current = Evaluation.objects.get(pk=evaluation.pk)
    return (
        current.status,
        current.version,
        current.submitted_at,
        current.approved_at,
        current.history.count(),
        Score.history.filter(evaluation_id=evaluation.pk).count(),
        Notification.objects.count(),
    )


def test_saving_twice_saves_once_and_the_second_is_taken_as_done(alpha, carol):
    client = login(carol)
    data = entry(alpha, COMPLETE)
    first = client.post(detail_url(alpha), data)
    after_first = written(alpha)

    second = client.post(detail_url(alpha), data, follow=True)

    assert first.status_code == 302
    assert second.status_code == 200
    assert [str(m) for m in second.context["messages"]] == [
        "The draft is saved.",
        "The draft is saved.",
    ]
    assert written(alpha) == after_first


def test_a_second_save_with_other_values_is_still_a_conflict(alpha, carol):
    client = login(carol)
    client.post(detail_url(alpha), entry(alpha, COMPLETE))
    after_first = written(alpha)

    second = client.post(detail_url(alpha), entry(alpha, {**COMPLETE, "P1": "3"}))

    assert second.status_code == 409
    assert "Someone else saved this evaluation" in second.content.decode()
    assert written(alpha) == after_first
    assert written(alpha) == after_first


def test_submitting_twice_submits_once_and_notifies_the_approvers_once(alpha, carol, bob):
    client = login(carol)
    data = entry(alpha, COMPLETE)
    first = client.post(action_url(alpha, "submit"), data)
    after_first = written(alpha)

    second = client.post(action_url(alpha, "submit"), data, follow=True)

    assert first.status_code == 302
    # The repeat is taken as done: no 403 page, the same answer as the first.
    assert second.status_code == 200
    assert [str(m) for m in second.context["messages"]] == [
        "The evaluation is submitted for approval.",
        "The evaluation is submitted for approval.",
    ]
    assert written(alpha) == after_first
    assert Evaluation.objects.get(pk=alpha.pk).status == EvaluationStatus.SUBMITTED
    assert Notification.objects.filter(kind=NotificationKind.SUBMITTED, recipient=bob).count() == 1
    submissions = [
        h for h in Evaluation.history.filter(id=alpha.pk) if h.status == EvaluationStatus.SUBMITTED
    ]
    assert len(submissions) == 1


def test_submitting_a_saved_draft_twice_submits_once(alpha, carol):
    """The values saved before: the submission alone is repeated, and done already."""
    client = login(carol)
    client.post(detail_url(alpha), entry(alpha, COMPLETE))
    saved = Evaluation.objects.get(pk=alpha.pk)
    data = entry(saved, COMPLETE)
    client.post(action_url(saved, "submit"), data)
    after_first = written(saved)

    again = client.post(action_url(saved, "submit"), data, follow=True)

    assert again.status_code == 200
    assert "The evaluation is submitted for approval." in [
        str(m) for m in again.context["messages"]
    ]
    assert written(saved) == after_first


def test_a_submit_with_other_values_after_the_submission_is_still_refused(alpha, carol):
    client = login(carol)
    client.post(action_url(alpha, "submit"), entry(alpha, COMPLETE))
    after_first = written(alpha)

    other = client.post(action_url(alpha, "submit"), entry(alpha, {**COMPLETE, "P1": "3"}))

    assert other.status_code == 403
    assert written(alpha) == after_first


def test_another_reviewers_submit_of_a_submitted_evaluation_is_refused(alpha, carol, erin):
    Evaluation.objects.filter(pk=alpha.pk).update(reviewer=erin)
    login(erin).post(action_url(alpha, "submit"), entry(alpha, COMPLETE))
    after = written(alpha)

    repeat = login(carol).post(action_url(alpha, "submit"), entry(alpha, COMPLETE))

    assert repeat.status_code == 403
    assert written(alpha) == after


def test_approving_twice_approves_once(submitted, bob):
    client = login(bob)
    data = {"version": submitted.version}
    client.post(action_url(submitted, "approve"), data)
    after_first = written(submitted)

    second = client.post(action_url(submitted, "approve"), data, follow=True)

    assert Evaluation.objects.get(pk=submitted.pk).status == EvaluationStatus.APPROVED
    assert written(submitted) == after_first
    assert "Only a submitted evaluation can be approved." in [
        str(m) for m in second.context["messages"]
    ]


def test_returning_twice_returns_once_and_tells_the_reviewer_once(submitted, bob, carol):
    client = login(bob)
    data = {"version": submitted.version, "reason": "The export figure lacks its source."}
    client.post(action_url(submitted, "return"), data)
    after_first = written(submitted)

    second = client.post(action_url(submitted, "return"), data, follow=True)

    assert written(submitted) == after_first
    assert Notification.objects.filter(kind=NotificationKind.RETURNED, recipient=carol).count() == 1
    assert "Only a submitted evaluation can be returned." in [
        str(m) for m in second.context["messages"]
    ]


def test_approving_on_the_queue_twice_approves_once(submitted, bob):
    client = login(bob)
    url = reverse("evaluations:cycle_evaluations_bulk", kwargs={"year": 2021})
    data = {"action": "approve", "evaluation": [submitted.pk]}
    client.post(url, data)
    after_first = written(submitted)

    second = client.post(url, data, follow=True)

    assert written(submitted) == after_first
    assert "Not approved: Alpha." in second.content.decode()


@pytest.fixture
def warning(cycle: Cycle) -> Decision:
    """2021 published with Charlie at grade 4: a warning to decide."""
    cycle.grade1_size = 1
    cycle.save()
    score_all(cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=cycle)
    return Decision.objects.select_related("cycle", "zone").get(cycle=cycle)


def test_deciding_twice_decides_once(warning, bob):
    client = login(bob)
    url = reverse("evaluations:decision_record", kwargs={"year": 2021, "pk": warning.pk})
    data = {"outcome": "warn", "rationale": "Imports fell two years running."}
    client.post(url, data)
    decided = Decision.objects.get(pk=warning.pk)
    zone_history = warning.zone.history.count()
    notifications = Notification.objects.filter(kind=NotificationKind.DECIDED).count()

    second = client.post(url, data)

    assert second.status_code == 400
    assert "This was decided already (warn) by bob." in second.content.decode()
    again = Decision.objects.get(pk=warning.pk)
    assert (again.decided_at, again.history.count()) == (
        decided.decided_at,
        decided.history.count(),
    )
    assert warning.zone.history.count() == zone_history
    assert Notification.objects.filter(kind=NotificationKind.DECIDED).count() == notifications


def test_deciding_many_twice_decides_each_once(warning, bob):
    client = login(bob)
    url = reverse("evaluations:decisions_record_many", kwargs={"year": 2021})
    data = {"decisions": [warning.pk], "outcome": "warn", "rationale": "Both fell."}
    client.post(url, data)
    decided = Decision.objects.get(pk=warning.pk)

    client.post(url, data)

    again = Decision.objects.get(pk=warning.pk)
    assert (again.decided_at, again.history.count()) == (
        decided.decided_at,
        decided.history.count(),
    )


# --- the reporting chain -------------------------------------------------------------------


def chain_written(evaluation: Evaluation) -> tuple:
    current = Evaluation.objects.get(pk=evaluation.pk)
    return (
        current.status,
        current.version,
        current.reported_at,
        current.forwarded_at,
        current.verified_at,
        current.history.count(),
        Score.history.filter(evaluation_id=evaluation.pk).count(),
        Notification.objects.count(),
    )


def posted_twice(client: Client, url: str, data: dict, evaluation: Evaluation):
    """The first POST and, after what it wrote is noted, the same POST again (followed)."""
    first = client.post(url, data)
    after_first = chain_written(evaluation)
    second = client.post(url, data, follow=True)
    return first, second, after_first


def test_each_step_of_the_reporting_chain_posted_twice_is_done_once(cycle, chain, carol):
    rita, paul, ministry = (
        report_client(chain["rita"]),
        report_client(chain["paul"]),
        report_client(carol),
    )
    evaluation = report_alpha(cycle)
    steps = [
        (
            rita,
            "save",
            lambda e: report_data(cycle, e, send="1"),
            "The report is sent to the province.",
        ),
        (
            paul,
            "forward",
            lambda e: {"version": e.version},
            "The report is forwarded to the Ministry.",
        ),
        (
            ministry,
            "verify",
            lambda e: {
                "version": e.version,
                **{f"accepted_{i.pk}": "5" for i in cycle.indicators.all()},
                **{f"reason_{i.pk}": "" for i in cycle.indicators.all()},
            },
            "The report is verified and submitted for approval.",
        ),
    ]
    for client, step, data, said in steps:
        evaluation = report_alpha(cycle)
        first, second, after_first = posted_twice(
            client, f"/reports/{evaluation.pk}/{step}/", data(evaluation), evaluation
        )
        assert first.status_code == 302, (step, first.content[-2000:])
        assert second.status_code == 200, step
        assert [str(m) for m in second.context["messages"]][-1] == said
        assert chain_written(evaluation) == after_first, step
    assert report_alpha(cycle).status == EvaluationStatus.SUBMITTED


def test_a_report_sent_again_with_other_figures_is_still_refused(cycle, chain):
    rita = report_client(chain["rita"])
    evaluation = report_alpha(cycle)
    rita.post(f"/reports/{evaluation.pk}/save/", report_data(cycle, evaluation, send="1"))
    after_first = chain_written(evaluation)

    other = rita.post(
        f"/reports/{evaluation.pk}/save/", report_data(cycle, evaluation, "6", send="1")
    )

    assert other.status_code == 403
    assert chain_written(evaluation) == after_first


def test_a_forward_by_another_reviewer_of_a_forwarded_report_is_refused(cycle, chain):
    from registry.models import ProvinceReviewer
    from tests.factories import make_user
    from zonetracker.permissions import PROVINCIAL_REVIEWER

    evaluation = report_alpha(cycle)
    report_client(chain["rita"]).post(
        f"/reports/{evaluation.pk}/save/", report_data(cycle, evaluation, send="1")
    )
    evaluation = report_alpha(cycle)
    data = {"version": evaluation.version}
    report_client(chain["paul"]).post(f"/reports/{evaluation.pk}/forward/", data)
    quinn = make_user("quinn", PROVINCIAL_REVIEWER)
    ProvinceReviewer.objects.create(user=quinn, province=evaluation.zone.province)
    after = chain_written(evaluation)

    repeat = report_client(quinn).post(f"/reports/{evaluation.pk}/forward/", data)

    assert repeat.status_code == 403
    assert chain_written(evaluation) == after
