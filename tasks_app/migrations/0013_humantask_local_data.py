"""A task keeps its local variables (camunda:inputOutput inputs, a multi-instance
instance's) for its form, which shows and checks them over the case data."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0012_person_indexes")]

    operations = [
        migrations.AddField(
            model_name="humantask",
            name="local_data",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
