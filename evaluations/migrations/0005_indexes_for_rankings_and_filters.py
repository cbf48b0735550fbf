"""Indexes for the rankings' grade filter and for reading a cycle's scores from an index alone."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0004_decision_failing_run"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="evaluation",
            index=models.Index(fields=["cycle", "grade"], name="evaluation_cycle_grade"),
        ),
        migrations.AddIndex(
            model_name="score",
            index=models.Index(
                fields=["evaluation", "indicator", "value"], name="score_values_by_evaluation"
            ),
        ),
    ]
