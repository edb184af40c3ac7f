from typing import Any

from django.db import migrations, models


def seal_credentials_of_existing_urls(apps: Any, schema_editor: Any) -> None:
    """Apps saved before: move user:token@ out of their repository URL, sealed."""
    from apps.branches.git import split_credentials
    from console.sealed import seal

    for app in apps.get_model("branches", "App").objects.filter(repository__startswith="https://", repository__contains="@"):
        bare, credentials = split_credentials(app.repository)
        if credentials is not None:
            app.repository = bare
            app.repository_credentials_sealed = seal("repository-credentials", f"{credentials.username}\n{credentials.password}")
            app.save(update_fields=["repository", "repository_credentials_sealed"])


class Migration(migrations.Migration):
    dependencies = [
        ("branches", "0010_job_process_started"),
    ]

    operations = [
        migrations.AddField(
            model_name="app",
            name="repository_credentials_sealed",
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(seal_credentials_of_existing_urls, migrations.RunPython.noop),
    ]
