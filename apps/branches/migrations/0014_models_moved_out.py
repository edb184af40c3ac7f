"""Jobs, deployments and git records moved to the builds, hosting and gitops apps.

State only: the tables stay where they are (the new models keep their db_table), so no
row moves and no foreign key changes in the database.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("branches", "0013_remote_reads"),
        ("builds", "0001_initial"),
        ("gitops", "0001_initial"),
        ("hosting", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="branch",
                    name="live_deployment",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="hosting.deployment",
                    ),
                ),
                migrations.AlterField(
                    model_name="branch",
                    name="backend_outputs_job",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="builds.job",
                    ),
                ),
                migrations.DeleteModel(name="DeployedFile"),
                migrations.DeleteModel(name="Deployment"),
                migrations.DeleteModel(name="LogChunk"),
                migrations.DeleteModel(name="JobStep"),
                migrations.DeleteModel(name="BuildCache"),
                migrations.DeleteModel(name="Webhook"),
                migrations.DeleteModel(name="Job"),
                migrations.DeleteModel(name="GitDelivery"),
                migrations.DeleteModel(name="Teardown"),
            ],
            database_operations=[],
        ),
    ]
