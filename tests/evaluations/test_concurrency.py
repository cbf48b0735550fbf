"""Two people saving the same evaluation at once: one wins, the other is told, nothing is lost.

Runs against the real database (SQLite or PostgreSQL) with real threads and connections.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection

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
