"""Who hears of a return, a submission, a publication and a decision: on the site and by e-mail."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from evaluations.models import Evaluation, EvaluationStatus, Notification, NotificationKind, Outcome
from evaluations.notifications import approvers_of, notification_text
from evaluations.services import (
    cycle_publish,
    decision_record,
    evaluation_approve,
    evaluation_return,
    evaluation_save,
    evaluation_submit,
)
from tests.evaluations.test_services import full_scores
from tests.factories import PASSWORD, make_user, score_all
from zonetracker.permissions import APPROVER


@pytest.fixture(autouse=True)
def addresses(alice, bob, carol, erin, dave):
    for user in (alice, bob, carol, erin, dave):
        user.email = f"{user.username}@example.org"
        user.save()


@pytest.fixture
def frank(db):
    """A second Approver."""
    return make_user("frank", APPROVER)


@pytest.fixture
def assigned(cycle, alice, carol) -> Evaluation:
    """Alpha's evaluation, assigned to carol."""
    Evaluation.objects.filter(cycle=cycle, zone__name_en="Alpha").update(reviewer=carol)
    return cycle.evaluations.get(zone__name_en="Alpha")


@pytest.fixture
def submitted(assigned, carol) -> Evaluation:
    """Alpha's evaluation, scored and submitted by carol."""
    evaluation_save(
        evaluation=assigned, by=carol, scores=full_scores(assigned), version=assigned.version
    )
    return evaluation_submit(evaluation=assigned, by=carol)


def kinds_of(user: User) -> list[str]:
    return list(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_a_submission_notifies_each_approver_who_may_approve_it_and_e_mails_them(
    assigned, carol, bob, frank, django_capture_on_commit_callbacks
):
    evaluation_save(
        evaluation=assigned, by=carol, scores=full_scores(assigned), version=assigned.version
    )
    with django_capture_on_commit_callbacks(execute=True):
        evaluation_submit(evaluation=assigned, by=carol)

    assert kinds_of(bob) == [NotificationKind.SUBMITTED]
    assert kinds_of(frank) == [NotificationKind.SUBMITTED]
    assert kinds_of(carol) == []
    assert sorted(m.to[0] for m in mail.outbox) == ["bob@example.org"]  # frank has no address
    body = mail.outbox[0].body
    assert "The evaluation of Alpha (2021) awaits your approval." in body
    assert "甲市的评估（2021年度）待您审核。" in body
    assert f"/evaluations/{assigned.pk}/" in body


def test_an_approver_who_entered_a_score_is_not_asked_to_approve_it(submitted, bob, frank):
    submitted.scores.filter(pk=submitted.scores.first().pk).update(entered_by=bob)

    assert set(approvers_of(submitted)) == {frank}


def test_a_return_notifies_the_reviewer_with_the_reason(
    submitted, bob, carol, django_capture_on_commit_callbacks
):
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        evaluation_return(evaluation=submitted, by=bob, reason="Check the trade figure")

    [notification] = Notification.objects.filter(recipient=carol)
    assert notification.kind == NotificationKind.RETURNED
    assert notification.link == submitted.get_absolute_url()
    assert [m.to for m in mail.outbox] == [["carol@example.org"]]
    assert "was returned: Check the trade figure" in mail.outbox[0].body
    assert "已被退回，原因：Check the trade figure" in mail.outbox[0].body


def test_a_refused_return_notifies_nobody(submitted, bob, django_capture_on_commit_callbacks):
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        evaluation_return(evaluation=submitted, by=bob, reason="   ")
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_publication_notifies_everyone_working_on_evaluations_but_not_viewers(
    cycle, alice, bob, carol, erin, dave, django_capture_on_commit_callbacks
):
    score_all(cycle, {"Alpha": 9, "Bravo": 5, "Charlie": 2})
    with django_capture_on_commit_callbacks(execute=True):
        cycle_publish(cycle=cycle, by=alice)

    notified = set(
        Notification.objects.filter(kind=NotificationKind.PUBLISHED).values_list(
            "recipient__username", flat=True
        )
    )
    assert notified == {"bob", "carol", "erin"}  # alice published it; dave only reads
    assert len(mail.outbox) == 3
    assert "The evaluation of 2021 is published." in mail.outbox[0].body
    assert "2021年度评估结果已发布。" in mail.outbox[0].body


def test_a_decision_notifies_the_zones_reviewer_of_that_cycle(
    cycle, alice, bob, carol, erin, django_capture_on_commit_callbacks
):
    Evaluation.objects.filter(cycle=cycle, zone__name_en="Charlie").update(reviewer=carol)
    Evaluation.objects.filter(cycle=cycle, zone__name_en="Bravo").update(reviewer=erin)
    score_all(cycle, {"Alpha": 9, "Bravo": 5, "Charlie": 2})
    cycle.grade1_size = 1
    cycle.save()
    decisions = cycle_publish(cycle=cycle, by=alice)
    charlie = next(d for d in decisions if d.zone.name_en == "Charlie")
    Notification.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        decision_record(decision=charlie, outcome=Outcome.WARN, rationale="Weak", by=bob)

    assert kinds_of(carol) == [NotificationKind.DECIDED]
    assert kinds_of(erin) == []
    with translation.override("zh-hans"):
        text = notification_text(NotificationKind.DECIDED, Notification.objects.get().params)
    assert text.startswith("根据2021年度评估，对丙市作出的决定：")
    assert [m.to for m in mail.outbox] == [["carol@example.org"]]


def test_approval_notifies_nobody(submitted, bob):
    Notification.objects.all().delete()
    evaluation_approve(evaluation=submitted, by=bob)
    assert Notification.objects.count() == 0


# --- the page -----------------------------------------------------------------------------


def signed_in(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_page_lists_only_my_notifications_and_the_nav_counts_the_unread(submitted, bob, carol):
    Notification.objects.create(
        recipient=carol, kind=NotificationKind.PUBLISHED, params={"year": 1}
    )
    response = signed_in(bob).get(reverse("evaluations:notification_list"))

    page = response.content.decode()
    assert "The evaluation of Alpha (2021) awaits your approval." in page
    assert "The evaluation of 1 is published." not in page
    assert response.context["unread_notifications"] == 1
    assert 'badge--unread">1</span>' in page


def test_mark_all_read_marks_only_mine_and_needs_a_post(submitted, bob, carol):
    mine = Notification.objects.get(recipient=bob)
    theirs = Notification.objects.create(recipient=carol, kind=NotificationKind.PUBLISHED)
    client = signed_in(bob)
    url = reverse("evaluations:notification_mark_all_read")

    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None
    assert theirs.read_at is None
    assert response.context["unread_notifications"] == 0


def test_the_page_needs_a_login(client):
    response = client.get(reverse("evaluations:notification_list"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.parametrize("count", [3, 120])
def test_the_page_reads_a_fixed_number_of_queries_however_many_notifications(
    bob, count, django_assert_max_num_queries
):
    Notification.objects.bulk_create(
        Notification(recipient=bob, kind=NotificationKind.PUBLISHED, params={"year": 2021})
        for _ in range(count)
    )
    client = signed_in(bob)
    # Session, user, the user's permissions (two, for the nav), the count and the page of
    # notifications, the unread count in the nav, the nav's cycles with decisions waiting.
    with django_assert_max_num_queries(8):
        response = client.get(reverse("evaluations:notification_list"))
    assert response.content.decode().count('<li class="notification') == min(count, 50)


def test_the_page_speaks_chinese(submitted, bob):
    client = signed_in(bob)
    response = client.get(
        reverse("evaluations:notification_list"), headers={"accept-language": "zh-hans"}
    )
    page = response.content.decode()
    assert "甲市的评估（2021年度）待您审核。" in page
    assert "全部标记为已读" in page


def test_a_mail_server_that_fails_leaves_the_change_and_the_notification(
    assigned, carol, bob, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # nothing listens there
    settings.EMAIL_TIMEOUT = 1
    evaluation_save(
        evaluation=assigned, by=carol, scores=full_scores(assigned), version=assigned.version
    )
    with django_capture_on_commit_callbacks(execute=True):
        evaluation_submit(evaluation=assigned, by=carol)
    assigned.refresh_from_db()
    assert assigned.status == EvaluationStatus.SUBMITTED
    assert kinds_of(bob) == [NotificationKind.SUBMITTED]


def test_only_approvers_are_asked_to_approve(submitted, carol, erin, alice):
    assert set(approvers_of(submitted)) == {User.objects.get(username="bob")}
