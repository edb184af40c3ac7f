"""Teardowns become progress tasks (console.progress): the fields every task has, and
`reason` is called `error` like theirs (in the same column, so no row changes)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def mark_ended(apps, schema_editor):  # noqa: ANN001, ANN201 (Django's signature)
    """Ended teardowns ended when they were last written (every teardown may be retried:
    the new column says so for the old rows too)."""
    teardown = apps.get_model("gitops", "Teardown")
    teardown.objects.filter(status__in=("FAILED", "SUCCEEDED")).update(finished_at=models.F("updated_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("gitops", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField(model_name="teardown", old_name="reason", new_name="error"),
                migrations.AlterField(
                    model_name="teardown", name="error", field=models.TextField(blank=True, db_column="reason")
                ),
            ],
            database_operations=[],
        ),
        migrations.AddField(model_name="teardown", name="payload", field=models.JSONField(blank=True, default=dict)),
        migrations.AddField(model_name="teardown", name="total", field=models.PositiveIntegerField(default=0)),
        migrations.AddField(model_name="teardown", name="done", field=models.PositiveIntegerField(default=0)),
        migrations.AddField(model_name="teardown", name="report", field=models.JSONField(blank=True, default=dict)),
        migrations.AddField(
            model_name="teardown",
            name="created_by",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(model_name="teardown", name="finished_at", field=models.DateTimeField(blank=True, null=True)),
        migrations.AddField(model_name="teardown", name="resume_at", field=models.PositiveIntegerField(default=0)),
        migrations.AddField(model_name="teardown", name="retryable", field=models.BooleanField(default=True)),
        migrations.RunPython(mark_ended, migrations.RunPython.noop),
    ]
