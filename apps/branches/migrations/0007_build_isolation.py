from django.db import migrations, models


def forks_flag_to_policy(apps, schema_editor):
    # Forks used to build with everything; an admin who opted in keeps previews,
    # now without secrets or credentials until they choose more.
    App = apps.get_model("branches", "App")
    App.objects.filter(pr_build_forks=True).update(fork_previews="WITHOUT_SECRETS")


def forks_policy_to_flag(apps, schema_editor):
    App = apps.get_model("branches", "App")
    App.objects.exclude(fork_previews="OFF").update(pr_build_forks=True)


class Migration(migrations.Migration):
    dependencies = [("branches", "0006_jobstep_first_log_seq")]

    operations = [
        migrations.AddField(
            model_name="app",
            name="fork_previews",
            field=models.CharField(
                choices=[
                    ("OFF", "Off: pull requests from forks get no preview"),
                    ("WITHOUT_SECRETS", "Build without secrets and without the service role"),
                    ("WITH_SECRETS", "Build with secrets and the service role"),
                ],
                default="OFF",
                max_length=16,
            ),
        ),
        migrations.AddField(model_name="app", name="service_role_arn", field=models.CharField(blank=True, max_length=2048)),
        migrations.AddField(model_name="app", name="build_network", field=models.BooleanField(default=True)),
        migrations.AddField(model_name="branch", name="pr_from_fork", field=models.BooleanField(default=False)),
        migrations.RunPython(forks_flag_to_policy, forks_policy_to_flag),
        migrations.RemoveField(model_name="app", name="pr_build_forks"),
    ]
