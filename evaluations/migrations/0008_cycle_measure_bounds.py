"""A cycle keeps the measure bounds its rankings were computed against, to explain a rank."""

from django.db import migrations, models
from django.db.models import Max, Min

from evaluations import scoring


def store_bounds_of_ranked_cycles(apps, schema_editor) -> None:
    """Each ranked cycle's bounds, over the figures of its ranked (so complete) evaluations."""
    Cycle = apps.get_model("evaluations", "Cycle")
    Indicator = apps.get_model("evaluations", "Indicator")
    Score = apps.get_model("evaluations", "Score")
    for cycle in Cycle.objects.filter(evaluations__rank__isnull=False).distinct():
        measures = {
            indicator.pk: indicator
            for indicator in Indicator.objects.filter(cycle=cycle, kind="measure")
        }
        figures = (
            Score.objects.filter(
                evaluation__cycle=cycle, evaluation__rank__isnull=False, indicator__in=measures
            )
            .values("indicator_id")
            .annotate(low=Min("value"), high=Max("value"))
        )
        bounds = {}
        for row in figures:
            indicator = measures[row["indicator_id"]]
            worst, frontier = scoring.measure_bounds(
                [row["low"], row["high"]],
                higher_is_better=indicator.higher_is_better,
                log_scale=indicator.log_scale,
            )
            bounds[str(indicator.pk)] = [str(worst), str(frontier)]
        Cycle.objects.filter(pk=cycle.pk).update(measure_bounds=bounds)


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0007_remove_decision_rule"),
    ]

    operations = [
        migrations.AddField(
            model_name="cycle",
            name="measure_bounds",
            field=models.JSONField(
                blank=True,
                default=dict,
                editable=False,
                verbose_name="measure bounds when ranked",
            ),
        ),
        migrations.AddField(
            model_name="historicalcycle",
            name="measure_bounds",
            field=models.JSONField(
                blank=True,
                default=dict,
                editable=False,
                verbose_name="measure bounds when ranked",
            ),
        ),
        migrations.RunPython(store_bounds_of_ranked_cycles, migrations.RunPython.noop),
    ]
