"""Who may open and who may change the evaluation pages, checked on the server.

Anonymous visitors are sent to log in; dave (a Viewer) reads none of these pages and writes
nothing; erin (a Reviewer) cannot touch carol's evaluation; carol cannot approve; bob (an
Approver) cannot enter scores. Every refused write leaves the database as it was.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from evaluations.models import Cycle, Evaluation, EvaluationStatus, Score
from evaluations.services import ScoreInput, evaluation_assign, evaluation_save, evaluation_submit
from tests.factories import make_user


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def snapshot(evaluation: Evaluation) -> tuple:
    """Everything a write could change: the evaluation's state and every score."""
    current = Evaluation.objects.get(pk=evaluation.pk)
    scores = sorted(
        Score.objects.filter(evaluation=evaluation).values_list("indicator__code", "value", "note")
    )
    return (
        current.status,
        current.version,
        current.reviewer_id,
        current.submitted_by_id,
        current.approved_by_id,
        current.return_reason,
        scores,
    )


@pytest.fixture
def alpha(cycle: Cycle, alice: User, carol: User) -> Evaluation:
    """Alpha's evaluation, assigned to carol, with one score entered."""
    evaluation = cycle.evaluations.get(zone__name_en="Alpha")
    evaluation_assign(
        evaluations=Evaluation.objects.filter(pk=evaluation.pk), reviewer=carol, by=alice
    )
    evaluation = Evaluation.objects.select_related("cycle").get(pk=evaluation.pk)
    p1 = cycle.indicators.get(code="P1")
    evaluation_save(
        evaluation=evaluation,
        by=carol,
        scores={p1.pk: ScoreInput(Decimal("7"))},
        version=evaluation.version,
    )
    return evaluation


@pytest.fixture
def submitted(alpha: Evaluation, carol: User) -> Evaluation:
    """Alpha's evaluation, complete and submitted by carol."""
    scores = {}
    for indicator in alpha.cycle.indicators.all():
        value = indicator.highest if indicator.highest is not None else Decimal(5)
        scores[indicator.pk] = ScoreInput(min(value, Decimal(5)))
    evaluation_save(evaluation=alpha, by=carol, scores=scores, version=alpha.version)
    return evaluation_submit(evaluation=alpha, by=carol)


def pages(evaluation: Evaluation) -> list[str]:
    return [
        reverse("evaluations:evaluation_detail", kwargs={"pk": evaluation.pk}),
        reverse("evaluations:cycle_evaluations", kwargs={"year": evaluation.cycle.year}),
        reverse("evaluations:current_cycle_evaluations"),
    ]


def writes(evaluation: Evaluation) -> list[tuple[str, dict[str, str]]]:
    """Each form a page posts, with data that would change something if it were accepted."""
    p1 = evaluation.cycle.indicators.get(code="P1")
    entry = {"version": str(evaluation.version), f"value_{p1.pk}": "2", f"note_{p1.pk}": "x"}
    decision = {"version": str(evaluation.version), "reason": "looks wrong"}
    url = "evaluations:evaluation_{}".format
    return [
        (reverse(url("detail"), kwargs={"pk": evaluation.pk}), entry),
        (reverse(url("submit"), kwargs={"pk": evaluation.pk}), entry),
        (reverse(url("approve"), kwargs={"pk": evaluation.pk}), decision),
        (reverse(url("return"), kwargs={"pk": evaluation.pk}), decision),
    ]


# --- anonymous visitors ------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in_from_every_page(
    client: Client, alpha: Evaluation
) -> None:
    for url in pages(alpha):
        response = client.get(url)

        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('login')}?next={url}"


def test_anonymous_posts_are_sent_to_log_in_and_change_nothing(
    client: Client, submitted: Evaluation
) -> None:
    before = snapshot(submitted)

    for url, data in writes(submitted):
        response = client.post(url, data)

        assert response.status_code == 302, url
        assert response["Location"].startswith(f"{reverse('login')}?next=")
    assert snapshot(submitted) == before


# --- viewers -----------------------------------------------------------------------------


def test_a_viewer_can_open_none_of_the_evaluation_pages(dave: User, alpha: Evaluation) -> None:
    client = login(dave)

    for url in pages(alpha):
        assert client.get(url).status_code == 403, url


def test_a_viewer_writes_nothing(dave: User, alpha: Evaluation, submitted: Evaluation) -> None:
    client = login(dave)
    before = snapshot(submitted)

    for url, data in writes(submitted):
        assert client.post(url, data).status_code == 403, url
    assert snapshot(submitted) == before


def test_a_viewer_is_refused_the_queue_even_of_a_year_without_a_cycle(dave: User, db) -> None:
    url = reverse("evaluations:cycle_evaluations", kwargs={"year": 1999})

    assert login(dave).get(url).status_code == 403


# --- reviewers ---------------------------------------------------------------------------


def test_another_reviewer_can_neither_read_nor_change_carols_evaluation(
    erin: User, alpha: Evaluation
) -> None:
    client = login(erin)
    before = snapshot(alpha)

    assert client.get(pages(alpha)[0]).status_code == 403
    for url, data in writes(alpha):
        assert client.post(url, data).status_code == 403, url
    assert snapshot(alpha) == before


def test_another_reviewer_still_reads_the_work_queue(erin: User, alpha: Evaluation) -> None:
    assert login(erin).get(pages(alpha)[1]).status_code == 200


def test_a_reviewer_who_is_no_longer_assigned_loses_the_evaluation(
    carol: User, erin: User, alice: User, alpha: Evaluation
) -> None:
    evaluation_assign(evaluations=Evaluation.objects.filter(pk=alpha.pk), reviewer=erin, by=alice)

    assert login(carol).get(pages(alpha)[0]).status_code == 403
    assert login(erin).get(pages(alpha)[0]).status_code == 200


def test_the_assigned_reviewer_cannot_approve_or_return_her_own_evaluation(
    carol: User, submitted: Evaluation
) -> None:
    client = login(carol)
    before = snapshot(submitted)
    approve, send_back = writes(submitted)[2:]

    assert client.post(*approve).status_code == 403
    assert client.post(*send_back).status_code == 403
    assert snapshot(submitted) == before


def test_the_assigned_reviewer_is_not_offered_approval(carol: User, submitted: Evaluation) -> None:
    page = login(carol).get(pages(submitted)[0]).content.decode()

    assert ">Approve</button>" not in page
    assert ">Return</button>" not in page


# --- approvers and administrators --------------------------------------------------------


def test_an_approver_reads_any_evaluation_but_cannot_enter_scores(
    bob: User, alpha: Evaluation
) -> None:
    client = login(bob)
    before = snapshot(alpha)

    response = client.get(pages(alpha)[0])
    assert response.status_code == 200
    assert "Save draft" not in response.content.decode()
    for url, data in writes(alpha)[:2]:
        assert client.post(url, data).status_code == 403, url
    assert snapshot(alpha) == before


def test_approving_a_draft_is_refused_and_changes_nothing(bob: User, alpha: Evaluation) -> None:
    client = login(bob)
    before = snapshot(alpha)
    approve = writes(alpha)[2]

    response = client.post(*approve, follow=True)

    assert "Only a submitted evaluation can be approved." in response.content.decode()
    assert snapshot(alpha) == before


def test_an_administrator_reads_and_may_correct_an_evaluation(
    alice: User, alpha: Evaluation
) -> None:
    client = login(alice)
    save = writes(alpha)[0]

    assert client.get(pages(alpha)[0]).status_code == 200
    assert client.post(*save).status_code == 302
    assert Score.objects.get(evaluation=alpha, indicator__code="P1").value == Decimal("2")


# --- requests that make no sense ---------------------------------------------------------


def test_an_unknown_evaluation_is_not_found(bob: User, alpha: Evaluation) -> None:
    for pk in (alpha.pk + 1000, 99999999999999999999):
        url = reverse("evaluations:evaluation_detail", kwargs={"pk": pk})
        assert login(bob).get(url).status_code == 404


def test_the_actions_answer_only_posts(bob: User, submitted: Evaluation) -> None:
    client = login(bob)
    before = snapshot(submitted)

    for url, _data in writes(submitted)[1:]:
        assert client.get(url).status_code == 405, url
    assert snapshot(submitted) == before


def test_an_approval_without_the_version_read_is_a_bad_request(
    bob: User, submitted: Evaluation
) -> None:
    client = login(bob)
    before = snapshot(submitted)
    url = writes(submitted)[2][0]

    for data in ({}, {"version": "abc"}, {"version": "0"}):
        assert client.post(url, data).status_code == 400
    assert snapshot(submitted) == before
    assert Evaluation.objects.get(pk=submitted.pk).status == EvaluationStatus.SUBMITTED


def test_a_save_without_the_version_read_changes_nothing(carol: User, alpha: Evaluation) -> None:
    before = snapshot(alpha)
    url, data = writes(alpha)[0]
    del data["version"]

    response = login(carol).post(url, data)

    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert snapshot(alpha) == before


# --- the rules per object ----------------------------------------------------------------


def test_a_reviewer_may_enter_only_the_evaluations_assigned_to_them(
    carol: User, erin: User, alpha: Evaluation
) -> None:
    assert carol.has_perm("evaluations.enter_evaluation", alpha)
    assert not erin.has_perm("evaluations.enter_evaluation", alpha)
    assert erin.has_perm("evaluations.enter_evaluation")  # some evaluation, not this one


def test_entering_granted_directly_follows_the_assignment_as_the_role_does(
    cycle: Cycle, alice: User, alpha: Evaluation
) -> None:
    frank = make_user("frank")
    frank.user_permissions.add(Permission.objects.get(codename="enter_evaluation"))
    frank = User.objects.get(pk=frank.pk)
    bravo = cycle.evaluations.get(zone__name_en="Bravo")
    evaluation_assign(evaluations=Evaluation.objects.filter(pk=bravo.pk), reviewer=frank, by=alice)
    bravo.refresh_from_db()

    assert frank.has_perm("evaluations.enter_evaluation", bravo)
    assert not frank.has_perm("evaluations.enter_evaluation", alpha)
    client = login(frank)
    assert client.get(reverse("evaluations:evaluation_detail", args=[bravo.pk])).status_code == 200
    assert client.get(reverse("evaluations:evaluation_detail", args=[alpha.pk])).status_code == 403


def test_an_approver_may_not_approve_what_they_edited(
    bob: User, carol: User, submitted: Evaluation
) -> None:
    assert bob.has_perm("evaluations.approve_evaluation", submitted)
    carol.user_permissions.add(Permission.objects.get(codename="approve_evaluation"))
    carol = User.objects.get(pk=carol.pk)
    assert carol.has_perm("evaluations.approve_evaluation")
    assert not carol.has_perm("evaluations.approve_evaluation", submitted)


def test_four_eyes_binds_a_superuser_too(cycle: Cycle, alice: User) -> None:
    root = User.objects.create_superuser("root", password="correct-horse-battery-staple")
    evaluation = cycle.evaluations.get(zone__name_en="Bravo")
    scores = {}
    for indicator in cycle.indicators.all():
        value = indicator.highest if indicator.highest is not None else Decimal(5)
        scores[indicator.pk] = ScoreInput(min(value, Decimal(5)))
    evaluation_save(evaluation=evaluation, by=root, scores=scores, version=evaluation.version)
    evaluation = evaluation_submit(evaluation=evaluation, by=root)
    before = snapshot(evaluation)

    response = login(root).post(
        reverse("evaluations:evaluation_approve", args=[evaluation.pk]),
        {"version": str(evaluation.version)},
    )

    assert response.status_code in {302, 403}
    assert snapshot(evaluation) == before
