"""Two people saving the same evaluation at once: one wins, the other is told, nothing is lost.

Runs against the real database (SQLite or PostgreSQL) with real threads and connections.
"""

import threading
import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from evaluations import importing
from evaluations.models import Evaluation, Score
from evaluations.services import EditConflict, ScoreInput, evaluation_assign, evaluation_save


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_from_the_same_version_let_exactly_one_through(cycle, alice, carol):
    assert not (connection.vendor == "sqlite" and connection.is_in_memory_db())
    evaluation = cycle.evaluations.get(zone__name_en="Alpha")
    evaluation_assign(
        evaluations=Evaluation.objects.filter(pk=evaluation.pk), reviewer=carol, by=alice
    )
    p1 = cycle.indicators.get(code="P1")
    loaded = Evaluation.objects.get(pk=evaluation.pk).version
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def save(user, value: str) -> None:
        try:
            copy = Evaluation.objects.select_related("cycle").get(pk=evaluation.pk)
            barrier.wait()
            evaluation_save(
                evaluation=copy, by=user, scores={p1.pk: ScoreInput(Decimal(value))}, version=loaded
            )
            outcomes[user.username] = "saved"
        except EditConflict:
            outcomes[user.username] = "conflict"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=(alice, "9")),
        threading.Thread(target=save, args=(carol, "3")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes.values()) == ["conflict", "saved"]
    winner = next(name for name, outcome in outcomes.items() if outcome == "saved")
    stored = Score.objects.get(evaluation=evaluation, indicator=p1)
    assert stored.value == {"alice": Decimal("9"), "carol": Decimal("3")}[winner]
    assert Evaluation.objects.get(pk=evaluation.pk).version == loaded + 1


@pytest.mark.django_db(transaction=True)
def test_an_import_racing_a_reviewers_save_is_told_and_the_reviewers_save_stands(
    cycle, alice, carol, tmp_path, monkeypatch
):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's import holds the write lock from its start: a save waits for it")
    evaluation = cycle.evaluations.get(zone__name_en="Alpha")
    evaluation_assign(
        evaluations=Evaluation.objects.filter(pk=evaluation.pk), reviewer=carol, by=alice
    )
    p1 = cycle.indicators.get(code="P1")
    check = importing.scores_check

    def carol_saves() -> None:
        try:
            copy = Evaluation.objects.select_related("cycle").get(pk=evaluation.pk)
            evaluation_save(
                evaluation=copy, by=carol, scores={p1.pk: ScoreInput(Decimal(3))}, version=1
            )
        finally:
            connection.close()

    threads = []

    def check_while_carol_saves(*args, **kwargs):
        # carol saves from her own connection after the file was checked, before it is written.
        # Her save commits at once; the provisional ranks it then recomputes wait for the
        # import, which computes them in its own transaction, so only her save is waited for.
        checked = check(*args, **kwargs)
        thread = threading.Thread(target=carol_saves)
        threads.append(thread)
        thread.start()
        for _ in range(300):
            if Evaluation.objects.filter(pk=evaluation.pk, version__gt=1).exists():
                break
            time.sleep(0.1)
        return checked

    monkeypatch.setattr(importing, "scores_check", check_while_carol_saves)
    path = tmp_path / "scores.csv"
    path.write_text("zone,indicator,value\nBravo,P1,4\nAlpha,P1,9\n", encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        call_command("import_scores", "2021", str(path))
    for thread in threads:
        thread.join(timeout=60)

    assert "The evaluation of Alpha was saved by someone else during the import" in str(
        refused.value
    )
    assert [(s.evaluation.zone.name_en, s.value) for s in Score.objects.all()] == [
        ("Alpha", Decimal(3))
    ]
