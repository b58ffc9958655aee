"""The business-data columns a process declares: case variables the inbox shows.

A process names them in the diagram, as a property of the process element that
Camunda Modeler (and SpiffArena's editor) lets you add under "Extension
properties":

    <bpmn:process id="purchase_request">
      <bpmn:extensionElements>
        <camunda:properties>
          <camunda:property name="laneway:columns" value="amount,requester" />
        </camunda:properties>
      </bpmn:extensionElements>

(`spiffworkflow:properties` alike), or the uploader sets them for the version
("Inbox columns" on the upload page, `columns` in the API), which wins over the
diagram. Each name is a case variable; at most MAX_COLUMNS of them.
"""

import re
from collections.abc import Iterable

from lxml import etree

PROPERTY = "laneway:columns"
MAX_COLUMNS = 6
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True
)


def columns_problem(names: Iterable[str]) -> str | None:
    """Return what is wrong with a list of column names, or None."""
    names = list(names)
    if len(names) > MAX_COLUMNS:
        return f"At most {MAX_COLUMNS} columns."
    wrong = [n for n in names if not _NAME.match(n)]
    if wrong:
        return f"Not a variable name: {', '.join(wrong[:3])}."
    return None


def columns_split(text: str) -> list[str]:
    """Return the names in a comma-separated text, in order, without repeats."""
    return list(dict.fromkeys(p.strip() for p in (text or "").split(",") if p.strip()))


def diagram_columns(bpmn: bytes, *, key: str) -> list[str]:
    """Return the `laneway:columns` the process `key` declares in the diagram."""
    try:
        root = etree.fromstring(bpmn, _PARSER)
    except etree.XMLSyntaxError:
        return []
    values = root.xpath(
        "//*[local-name()='process'][@id=$key]/*[local-name()='extensionElements']"
        "/*[local-name()='properties']/*[local-name()='property'][@name=$name]/@value",
        key=key,
        name=PROPERTY,
    )
    return columns_split(str(values[0])) if values else []
