"""RollupTotal: the day rollups summed (issue #16); filled from the rows there are."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cockpit', '0002_rollups'),
        ('processes', '0005_form_files'),
    ]

    operations = [
        migrations.CreateModel(
            name='RollupTotal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('metric', models.CharField(max_length=16)),
                ('element', models.CharField(blank=True, default='', max_length=255)),
                ('bucket', models.IntegerField()),
                ('n', models.BigIntegerField()),
                ('low', models.FloatField(blank=True, null=True)),
                ('high', models.FloatField(blank=True, null=True)),
                ('day', models.DateField()),
                ('version', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='processes.processversion')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('version', 'metric', 'element', 'bucket'), name='cockpit_rolluptotal_unique')],
            },
        ),
        migrations.RunSQL(
            """
            INSERT INTO cockpit_rolluptotal
                (version_id, metric, element, bucket, n, low, high, day)
            SELECT version_id, metric, element, bucket, sum(n), min(low), max(high),
                min(day)
            FROM cockpit_rollup GROUP BY version_id, metric, element, bucket
            """,
            migrations.RunSQL.noop,
        ),
    ]
