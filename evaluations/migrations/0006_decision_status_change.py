"""A decision names the zone's history record of the status change it made."""

import re

import django.db.models.deletion
from django.db import migrations, models

# How decisions named themselves in the change reason of the zone's history until now.
OLD_REASON = re.compile(r"^decision (\d+):")


def link_decisions_to_status_changes(apps, schema_editor) -> None:
    """Link each decision to the history record whose change reason named it, read once."""
    Decision = apps.get_model("evaluations", "Decision")
    HistoricalZone = apps.get_model("registry", "HistoricalZone")
    named = HistoricalZone.objects.filter(history_change_reason__startswith="decision ")
    # Keyed by the decision and the zone: a reason naming a decision on another zone is no link.
    changes: dict[tuple[int, int], int] = {}
    for history_id, zone_id, reason in named.values_list(
        "history_id", "id", "history_change_reason"
    ):
        match = OLD_REASON.match(reason)
        if match:
            changes[int(match.group(1)), zone_id] = history_id
    linked = []
    for decision in Decision.objects.filter(pk__in={pk for pk, _zone_id in changes}):
        history_id = changes.get((decision.pk, decision.zone_id))
        if history_id is not None:
            decision.status_change_id = history_id
            linked.append(decision)
    Decision.objects.bulk_update(linked, ["status_change"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0005_indexes_for_rankings_and_filters"),
        ("registry", "0002_roles"),
    ]

    operations = [
        migrations.AddField(
            model_name="decision",
            name="status_change",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="registry.historicalzone",
                verbose_name="status change",
            ),
        ),
        migrations.AddField(
            model_name="historicaldecision",
            name="status_change",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="registry.historicalzone",
                verbose_name="status change",
            ),
        ),
        migrations.RunPython(link_decisions_to_status_changes, migrations.RunPython.noop),
    ]
