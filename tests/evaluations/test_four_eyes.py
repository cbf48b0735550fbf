"""Four eyes reads the history: whoever ever changed an evaluation's values does not approve it.

carol reviews Alpha; bob is an Approver who may also edit scores (``change_score`` granted to
him directly); alice is an Administrator.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from evaluations.models import Cycle, Evaluation, EvaluationStatus, Score
from evaluations.services import (
    ScoreInput,
    can_approve,
    evaluation_approve,
    evaluation_assign,
    evaluation_save,
    evaluation_submit,
)
from tests.factories import make_user
from zonetracker.permissions import APPROVER, IMPORT_ACCOUNT, entered_or_edited

COMPLETE = {
    **dict.fromkeys(["P1", "P2", "P3", "S1", "S2", "S3", "S4", "S5", "S6", "T1", "T2"], "8"),
    "R1": "120.5",
    "R2": "15",
    "R3": "40",
    "R4": "12",
    "R5": "3",
}


def scores_of(evaluation: Evaluation, values: dict[str, str]) -> dict[int, ScoreInput]:
    indicators = {i.code: i.pk for i in evaluation.cycle.indicators.all()}
    return {indicators[code]: ScoreInput(Decimal(value)) for code, value in values.items()}


def fresh(evaluation: Evaluation) -> Evaluation:
    return Evaluation.objects.select_related("cycle").get(pk=evaluation.pk)


def save(evaluation: Evaluation, by: User, values: dict[str, str], note: str = "") -> Evaluation:
    evaluation = fresh(evaluation)
    scores = scores_of(evaluation, values)
    if note:
        scores = {pk: ScoreInput(entry.value, note) for pk, entry in scores.items()}
    evaluation_save(evaluation=evaluation, by=by, scores=scores, version=evaluation.version)
    return fresh(evaluation)


@pytest.fixture
def bob(db) -> User:
    """An Approver who may also edit any evaluation's scores."""
    bob = make_user("bob", APPROVER)
    bob.user_permissions.add(
        Permission.objects.get(codename="change_score", content_type__app_label="evaluations")
    )
    return User.objects.get(pk=bob.pk)


@pytest.fixture
def alpha(cycle: Cycle, alice: User, carol: User) -> Evaluation:
    evaluation = cycle.evaluations.get(zone__name_en="Alpha")
    evaluation_assign(
        evaluations=Evaluation.objects.filter(pk=evaluation.pk), reviewer=carol, by=alice
    )
    return save(evaluation, carol, COMPLETE)


@pytest.fixture
def undone(alpha: Evaluation, bob: User, carol: User) -> Evaluation:
    """bob changed P1 of carol's evaluation; carol put her value back and submitted it."""
    save(alpha, bob, {"P1": "2"})
    evaluation = save(alpha, carol, {"P1": "8"})
    evaluation_submit(evaluation=evaluation, by=carol)
    evaluation = fresh(alpha)
    # Nothing in the evaluation as it stands names bob any more.
    assert bob.pk not in {evaluation.last_edited_by_id, evaluation.submitted_by_id}
    assert not Score.objects.filter(evaluation=evaluation, entered_by=bob).exists()
    return evaluation


def test_an_approver_whose_edit_was_undone_may_not_approve_through_the_service(
    undone: Evaluation, bob: User
) -> None:
    assert entered_or_edited(bob, undone)
    assert not can_approve(bob, undone)
    with pytest.raises(PermissionDenied, match="entered or edited"):
        evaluation_approve(evaluation=undone, by=bob)
    assert fresh(undone).status == EvaluationStatus.SUBMITTED


def test_an_approver_whose_edit_was_undone_is_refused_on_the_page(
    undone: Evaluation, bob: User
) -> None:
    client = Client()
    client.force_login(bob)
    page = client.get(reverse("evaluations:evaluation_detail", args=[undone.pk]))
    assert ">Approve</button>" not in page.content.decode()
    response = client.post(
        reverse("evaluations:evaluation_approve", args=[undone.pk]), {"version": undone.version}
    )
    assert response.status_code in {302, 403}
    assert fresh(undone).status == EvaluationStatus.SUBMITTED


def test_an_evaluation_an_approver_once_edited_is_not_in_their_queue(
    undone: Evaluation, bob: User, cycle: Cycle
) -> None:
    assert undone not in Evaluation.objects.for_cycle(cycle).awaiting_approval_by(bob)


def test_another_approver_approves_it(undone: Evaluation) -> None:
    frank = make_user("frank", APPROVER)
    evaluation_approve(evaluation=undone, by=frank)
    assert fresh(undone).status == EvaluationStatus.APPROVED


def test_an_edit_of_a_note_alone_that_was_undone_counts_too(
    alpha: Evaluation, bob: User, carol: User
) -> None:
    save(alpha, bob, {"P1": "8"}, note="bob was here")
    evaluation = save(alpha, carol, {"P1": "8"}, note="")
    evaluation_submit(evaluation=evaluation, by=carol)
    assert not can_approve(bob, fresh(alpha))


def test_a_score_bob_imported_and_carol_overwrote_still_bars_him(
    alpha: Evaluation, bob: User, carol: User, alice: User, tmp_path: Path
) -> None:
    from evaluations.importing import SCORE_FORMAT, scores_import
    from zonetracker.tables import read_table

    bob.user_permissions.add(
        Permission.objects.get(codename="import_scores", content_type__app_label="evaluations")
    )
    bob = User.objects.get(pk=bob.pk)
    table = read_table(b"zone,indicator,value\nAlpha,P2,3\n", table=SCORE_FORMAT)
    assert scores_import(cycle=alpha.cycle, table=table, by=bob).ok
    evaluation = save(alpha, carol, {"P2": "8"})
    evaluation_submit(evaluation=evaluation, by=carol)
    assert not can_approve(bob, fresh(alpha))


def test_assigning_approving_or_returning_does_not_make_an_editor(
    alpha: Evaluation, alice: User, carol: User
) -> None:
    erin = make_user("frank", APPROVER)
    evaluation_submit(evaluation=fresh(alpha), by=carol)
    evaluation_approve(evaluation=fresh(alpha), by=erin)
    assert not entered_or_edited(alice, fresh(alpha))
    assert not entered_or_edited(erin, fresh(alpha))


# --- an import names the account it acts for ---------------------------------------------


def import_file(tmp_path: Path, text: str, *args: str) -> str:
    path = tmp_path / "scores.csv"
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    call_command("import_scores", "2021", str(path), *args, stdout=out)
    return out.getvalue()


def test_an_import_without_user_is_recorded_as_the_import_account(
    cycle: Cycle, tmp_path: Path
) -> None:
    import_file(tmp_path, "zone,indicator,value\nAlpha,P1,7\n")

    score = Score.objects.get(evaluation__zone__name_en="Alpha", indicator__code="P1")
    account = User.objects.get(username=IMPORT_ACCOUNT)
    assert score.entered_by == account
    assert score.history.first().history_user == account
    assert fresh(score.evaluation).last_edited_by == account
    # The account never signs in and holds nothing: it can never approve.
    assert not account.is_active
    assert not account.has_usable_password()
    assert not account.get_all_permissions()
    assert not account.has_perm("evaluations.approve_evaluation", score.evaluation)


def test_every_score_written_by_an_import_names_an_account(cycle: Cycle, tmp_path: Path) -> None:
    import_file(tmp_path, "zone,indicator,value\nAlpha,P1,7\nBravo,P1,3\n")
    import_file(tmp_path, "zone,indicator,value\nAlpha,P1,6\n")
    assert Score.history.count() == 3
    assert not Score.history.filter(history_user__isnull=True).exists()
    assert not Evaluation.history.filter(
        history_user__isnull=True, last_edited_by__isnull=False
    ).exists()
    assert User.objects.filter(username=IMPORT_ACCOUNT).count() == 1


def test_an_import_account_that_could_sign_in_is_refused(cycle: Cycle, tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    make_user(IMPORT_ACCOUNT, APPROVER)
    with pytest.raises(CommandError, match="reserved for imports"):
        import_file(tmp_path, "zone,indicator,value\nAlpha,P1,7\n")
    assert not Score.objects.exists()


def test_an_approver_may_approve_what_the_import_account_entered(
    cycle: Cycle, alice: User, carol: User, tmp_path: Path
) -> None:
    lines = "".join(f"Alpha,{code},{value}\n" for code, value in COMPLETE.items())
    import_file(tmp_path, "zone,indicator,value\n" + lines)
    evaluation = cycle.evaluations.get(zone__name_en="Alpha")
    evaluation_assign(
        evaluations=Evaluation.objects.filter(pk=evaluation.pk), reviewer=carol, by=alice
    )
    evaluation_submit(evaluation=fresh(evaluation), by=carol)
    frank = make_user("frank", APPROVER)
    evaluation_approve(evaluation=fresh(evaluation), by=frank)
    assert fresh(evaluation).status == EvaluationStatus.APPROVED
