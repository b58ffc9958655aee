"""ProcessVersion.startable_in_tasklist: the process's camunda:isStartableInTasklist,
read for the versions deployed before it was kept from the XML they were
uploaded with, as Camunda 7 reads it (BpmnParse.isStartable: "true" in any
case, or no attribute, is startable; any other value is not)."""

from django.db import migrations, models
from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
VENDORS = ("http://camunda.org/schema/1.0/bpmn", "http://operaton.org/schema/1.0/bpmn")


def _startable(xml: bytes, key: str) -> bool:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError:
        return True
    for process in root.iterfind(f"{{{BPMN}}}process"):
        if process.get("id") == key:
            for ns in VENDORS:
                value = process.get(f"{{{ns}}}isStartableInTasklist")
                if value is not None:
                    return value.lower() == "true"
    return True


def backfill(apps, schema_editor):
    ProcessVersion = apps.get_model("processes", "ProcessVersion")
    versions = ProcessVersion.objects.select_related("definition").only(
        "pk", "original_xml", "definition__key"
    )
    for version in versions.iterator(chunk_size=100):
        if not _startable(bytes(version.original_xml), version.definition.key):
            ProcessVersion.objects.filter(pk=version.pk).update(
                startable_in_tasklist=False
            )


class Migration(migrations.Migration):
    dependencies = [
        ("processes", "0006_version_tag"),
    ]

    operations = [
        migrations.AddField(
            model_name="processversion",
            name="startable_in_tasklist",
            field=models.BooleanField(default=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
