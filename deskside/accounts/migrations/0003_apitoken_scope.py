from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_team_is_restricted"),
    ]

    operations = [
        # Tokens made before scopes existed could do everything; they keep that ("write"),
        # while new tokens default to read only.
        migrations.AddField(
            model_name="apitoken",
            name="scope",
            field=models.CharField(
                choices=[("read", "Read only"), ("write", "Read and write")],
                default="write",
                max_length=5,
                verbose_name="scope",
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="apitoken",
            name="scope",
            field=models.CharField(
                choices=[("read", "Read only"), ("write", "Read and write")],
                default="read",
                help_text="Read only tokens may only fetch; write tokens may also make changes.",
                max_length=5,
                verbose_name="scope",
            ),
        ),
    ]
