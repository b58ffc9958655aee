"""ProcessVersion.version_tag: the process's camunda:versionTag, read for the
versions deployed before it was kept from the XML they were uploaded with."""

from django.db import migrations, models
from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
VENDORS = ("http://camunda.org/schema/1.0/bpmn", "http://operaton.org/schema/1.0/bpmn")


def _tag(xml: bytes, key: str) -> str:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError:
        return ""
    for process in root.iterfind(f"{{{BPMN}}}process"):
        if process.get("id") == key:
            for ns in VENDORS:
                value = process.get(f"{{{ns}}}versionTag")
                if value is not None:
                    return value.strip()
    return ""


def backfill(apps, schema_editor):
    ProcessVersion = apps.get_model("processes", "ProcessVersion")
    versions = ProcessVersion.objects.select_related("definition").only(
        "pk", "original_xml", "definition__key"
    )
    for version in versions.iterator(chunk_size=100):
        tag = _tag(bytes(version.original_xml), version.definition.key)
        if tag:
            ProcessVersion.objects.filter(pk=version.pk).update(version_tag=tag)


class Migration(migrations.Migration):
    dependencies = [
        ("processes", "0005_form_files"),
    ]

    operations = [
        migrations.AddField(
            model_name="processversion",
            name="version_tag",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
