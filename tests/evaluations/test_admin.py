"""Administrators' tools for cycles and evaluations in the admin."""

import pytest
from django.urls import reverse

from evaluations.models import CycleStatus, Evaluation, EvaluationStatus, Indicator
from tests.factories import PASSWORD

# The score inline is read-only, but its management form is still posted.
INLINE = {"scores-TOTAL_FORMS": "0", "scores-INITIAL_FORMS": "0"}


@pytest.fixture
def admin_client_alice(client, alice):
    client.login(username="alice", password=PASSWORD)
    return client


def test_an_administrator_assigns_many_evaluations_at_once(admin_client_alice, cycle, carol):
    url = reverse("admin:evaluations_evaluation_changelist")
    ids = list(cycle.evaluations.values_list("pk", flat=True))
    confirm = admin_client_alice.post(
        url, {"action": "assign_to_reviewer", "_selected_action": ids}
    )
    assert confirm.status_code == 200
    assert b"carol" in confirm.content
    done = admin_client_alice.post(
        url,
        {
            "action": "assign_to_reviewer",
            "_selected_action": ids,
            "reviewer": carol.pk,
            "apply": "1",
        },
    )
    assert done.status_code == 302
    assert set(cycle.evaluations.values_list("reviewer__username", flat=True)) == {"carol"}


def test_approvers_have_no_assign_action(client, bob, cycle, carol):
    bob.is_staff = True
    bob.save()
    client.login(username="bob", password=PASSWORD)
    url = reverse("admin:evaluations_evaluation_changelist")
    response = client.post(
        url,
        {
            "action": "assign_to_reviewer",
            "_selected_action": [e.pk for e in cycle.evaluations.all()],
            "reviewer": carol.pk,
            "apply": "1",
        },
    )
    # bob may read evaluations in the admin, but the action is not offered nor carried out.
    assert response.status_code == 200
    assert b'value="assign_to_reviewer"' not in client.get(url).content
    assert not Evaluation.objects.filter(reviewer__isnull=False).exists()


def test_an_admin_reassignment_leaves_the_reviewers_open_form_valid(
    admin_client_alice, cycle, carol, erin
):
    from decimal import Decimal

    from evaluations.services import ScoreInput, evaluation_save

    evaluation = cycle.evaluations.first()
    evaluation.reviewer = carol
    evaluation.save()
    loaded_version = evaluation.version
    url = reverse("admin:evaluations_evaluation_change", args=[evaluation.pk])
    response = admin_client_alice.post(url, {"reviewer": erin.pk, "_save": "Save", **INLINE})
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert (evaluation.reviewer, evaluation.version) == (erin, loaded_version)
    # Assignment changes no score, so a form opened before it still saves.
    p1 = cycle.indicators.get(code="P1")
    evaluation_save(
        evaluation=evaluation,
        by=erin,
        scores={p1.pk: ScoreInput(Decimal("6"))},
        version=loaded_version,
    )


def test_an_admin_assignment_goes_through_the_service_and_is_not_an_edit(
    admin_client_alice, alice, cycle, carol
):
    from zonetracker.permissions import entered_or_edited

    evaluation = cycle.evaluations.first()
    url = reverse("admin:evaluations_evaluation_change", args=[evaluation.pk])
    response = admin_client_alice.post(url, {"reviewer": carol.pk, "_save": "Save", **INLINE})
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.reviewer == carol
    assert evaluation.history.first().history_user.username == "alice"
    # Four eyes: assigning a reviewer does not make the Administrator an editor.
    assert evaluation.last_edited_by is None
    assert not entered_or_edited(alice, evaluation)


def test_an_administrator_reassigns_a_submitted_evaluation_in_the_admin(
    admin_client_alice, cycle, carol, erin
):
    evaluation = cycle.evaluations.first()
    Evaluation.objects.filter(pk=evaluation.pk).update(
        reviewer=carol, status=EvaluationStatus.SUBMITTED
    )
    url = reverse("admin:evaluations_evaluation_change", args=[evaluation.pk])
    response = admin_client_alice.post(url, {"reviewer": erin.pk, "_save": "Save", **INLINE})
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert (evaluation.reviewer, evaluation.status) == (erin, EvaluationStatus.SUBMITTED)


def test_the_admin_refuses_to_reassign_an_evaluation_of_a_published_cycle(
    admin_client_alice, cycle, carol
):
    evaluation = cycle.evaluations.first()
    cycle.status = CycleStatus.PUBLISHED
    cycle.save()
    url = reverse("admin:evaluations_evaluation_change", args=[evaluation.pk])
    response = admin_client_alice.post(url, {"reviewer": carol.pk, "_save": "Save", **INLINE})
    # A published cycle's evaluations are read in the admin, never changed.
    assert response.status_code == 403
    evaluation.refresh_from_db()
    assert evaluation.reviewer is None


def test_a_published_cycles_policy_and_weights_are_frozen(admin_client_alice, cycle):
    cycle.status = CycleStatus.PUBLISHED
    cycle.save()
    response = admin_client_alice.post(
        reverse("admin:evaluations_cycle_change", args=[cycle.pk]),
        {"grade1_size": 3},
    )
    cycle.refresh_from_db()
    assert cycle.grade1_size == 10
    assert response.status_code in {302, 403, 200}
    indicator = cycle.indicators.get(code="R1")
    response = admin_client_alice.post(
        reverse("admin:evaluations_indicator_change", args=[indicator.pk]), {"weight": "99"}
    )
    assert response.status_code == 403
    assert Indicator.objects.get(pk=indicator.pk).weight == indicator.weight


def test_an_open_cycles_weights_are_editable_by_administrators(admin_client_alice, cycle):
    indicator = cycle.indicators.get(code="R1")
    response = admin_client_alice.get(
        reverse("admin:evaluations_indicator_change", args=[indicator.pk])
    )
    assert response.status_code == 200
    assert b'name="weight"' in response.content


def test_history_cannot_be_reverted_through_the_admin(admin_client_alice, cycle):
    evaluation = cycle.evaluations.first()
    record = evaluation.history.first()
    url = reverse(
        "admin:evaluations_evaluation_simple_history", args=[evaluation.pk, record.history_id]
    )
    assert admin_client_alice.post(url, {}).status_code == 403


def test_the_evaluation_changelist_has_a_bounded_number_of_queries(
    admin_client_alice, cycle, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20):
        response = admin_client_alice.get(reverse("admin:evaluations_evaluation_changelist"))
    assert response.status_code == 200


def test_an_administrator_opens_a_cycle_in_the_admin(admin_client_alice, framework, zones):
    from evaluations.models import Cycle

    response = admin_client_alice.post(
        reverse("admin:evaluations_cycle_add"), {"year": "2021", "cutoff": ""}
    )
    assert response.status_code == 302
    cycle = Cycle.objects.get(year=2021)
    assert str(cycle.cutoff) == "2020-12-31"
    assert cycle.evaluations.count() == 3
    assert cycle.indicators.count() == 16


def test_opening_an_existing_year_in_the_admin_is_refused(admin_client_alice, cycle):
    response = admin_client_alice.post(
        reverse("admin:evaluations_cycle_add"), {"year": "2021", "cutoff": ""}
    )
    assert response.status_code == 200
    assert b"already exists" in response.content
    assert Evaluation.objects.count() == 3


def test_approvers_cannot_open_cycles_in_the_admin(client, bob, framework, zones):
    from evaluations.models import Cycle

    bob.is_staff = True
    bob.save()
    client.login(username="bob", password=PASSWORD)
    response = client.post(reverse("admin:evaluations_cycle_add"), {"year": "2021"})
    assert response.status_code == 403
    assert not Cycle.objects.exists()


def test_an_administrator_publishes_a_cycle_from_the_admin(admin_client_alice, cycle):
    from tests.factories import score_all

    score_all(cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    response = admin_client_alice.post(
        reverse("admin:evaluations_cycle_changelist"),
        {"action": "publish", "_selected_action": [cycle.pk], "confirm": "Yes, publish"},
        follow=True,
    )
    assert "is published" in response.content.decode()
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.PUBLISHED
    assert cycle.published_by.username == "alice"


def test_publishing_from_the_admin_asks_for_confirmation_first(admin_client_alice, cycle):
    from tests.factories import score_all

    score_all(cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    url = reverse("admin:evaluations_cycle_changelist")
    asked = admin_client_alice.post(url, {"action": "publish", "_selected_action": [cycle.pk]})

    assert asked.status_code == 200
    page = asked.content.decode()
    assert "cannot be undone" in page
    assert "the cycle is frozen" in page
    assert "recommendations (warn, exit, lift a notice) are recorded" in page
    assert 'name="confirm"' in page
    assert f'name="_selected_action" value="{cycle.pk}"' in page
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.OPEN
    assert not cycle.history.filter(status=CycleStatus.PUBLISHED).exists()

    done = admin_client_alice.post(
        url, {"action": "publish", "_selected_action": [cycle.pk], "confirm": "Yes, publish"}
    )
    assert done.status_code == 302
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.PUBLISHED


def test_publishing_in_the_admin_names_what_is_not_approved(admin_client_alice, cycle):
    response = admin_client_alice.post(
        reverse("admin:evaluations_cycle_changelist"),
        {"action": "publish", "_selected_action": [cycle.pk], "confirm": "Yes, publish"},
        follow=True,
    )
    page = response.content.decode()
    assert "was not published" in page
    assert "Alpha (draft)" in page
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.OPEN


@pytest.mark.parametrize("model", ["evaluation", "cycle", "indicator", "score"])
@pytest.mark.parametrize(
    "tampered",
    [
        {"_selected_action": ["abc"]},
        {"_selected_action": ["1" * 30]},
        {"_selected_action": ["-1"]},
        {"_selected_action": ["1", "1.5"]},
        {"_selected_action": ["99999"], "reviewer": "abc"},
        {"_selected_action": ["99999"], "reviewer": "1" * 30},
    ],
)
@pytest.mark.parametrize("action", ["assign_to_reviewer", "publish", "delete_selected"])
def test_a_tampered_action_form_gets_a_message_not_an_error_page(
    admin_client_alice, cycle, carol, model, tampered, action
):
    from evaluations.models import Cycle

    before = (
        list(Evaluation.objects.values()),
        list(Cycle.objects.values()),
        Evaluation.history.count(),
    )
    admin_client_alice.raise_request_exception = True
    response = admin_client_alice.post(
        reverse(f"admin:evaluations_{model}_changelist"),
        {"reviewer": carol.pk, "apply": "1", "action": action, **tampered},
    )
    assert response.status_code in {200, 302}
    assert (
        list(Evaluation.objects.values()),
        list(Cycle.objects.values()),
        Evaluation.history.count(),
    ) == before
