"""The rule's English text on a decision goes: pages tell the reason from the cycle's policy."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0006_decision_status_change"),
    ]

    operations = [
        migrations.RemoveField(model_name="decision", name="rule"),
        migrations.RemoveField(model_name="historicaldecision", name="rule"),
    ]
