"""Safe XML reading and the BPMN/extension namespaces Laneway understands."""

from __future__ import annotations

import functools

from lxml import etree

from .types import Problem

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
OPERATON = "http://operaton.org/schema/1.0/bpmn"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DMN_NAMESPACES = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
)
VENDOR_NAMESPACES = (CAMUNDA, OPERATON)
NSMAP = {"bpmn": BPMN, "camunda": CAMUNDA, "operaton": OPERATON, "spiffworkflow": SPIFF}


class XmlRejected(Exception):
    """The bytes are not safe, well-formed XML of the expected kind."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(problem.message)


def _parser() -> etree.XMLParser:
    # No entity expansion, no DTD loading, no network: XXE and billion laughs
    # cannot reach the file system, the network or the memory limit.
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


_DOCTYPE = tuple(
    b"<!DOCTYPE".decode().encode(enc) for enc in ("utf-8", "utf-16-le", "utf-16-be")
)
_DOCTYPE_REJECTED = "DOCTYPE declarations (DTDs and entities) are not allowed."


def _doctype_line(data: bytes) -> int | None:
    for marker in _DOCTYPE:
        at = data.find(marker)
        if at >= 0:
            newline = "\n".encode("utf-8" if marker == _DOCTYPE[0] else "utf-16-le")
            return data.count(newline, 0, at) + 1
    return None


def parse_xml(data: bytes, *, what: str = "BPMN") -> etree._Element:
    """Parse untrusted XML safely and return its root, or raise XmlRejected."""
    if not data or not data.strip():
        raise XmlRejected(Problem(f"The {what} file is empty."))
    # Refused before parsing: a DTD is where entities (XXE, billion laughs) live.
    doctype = _doctype_line(data)
    if doctype is not None:
        raise XmlRejected(Problem(_DOCTYPE_REJECTED, doctype))
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise XmlRejected(
            Problem(f"The file is not well-formed XML: {exc.msg}", line)
        ) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise XmlRejected(Problem(_DOCTYPE_REJECTED, 1))
    return root


def local_name(element: etree._Element) -> str:
    """Return an element's tag without its namespace."""
    tag = element.tag
    if isinstance(tag, str):  # an element: "{namespace}name" or "name"
        return tag.rpartition("}")[2]
    return etree.QName(element).localname  # a comment or processing instruction


def vendor_attr(element: etree._Element, name: str) -> str:
    """Return a Camunda/Operaton attribute's value ('' when absent)."""
    for ns in VENDOR_NAMESPACES:
        value = element.get(f"{{{ns}}}{name}")
        if value is not None:
            return value.strip()
    return ""


_NSMAP_ITEMS = tuple(sorted(NSMAP.items()))


@functools.lru_cache(maxsize=512)
def compiled_xpath(
    path: str, namespaces: tuple[tuple[str, str], ...] = _NSMAP_ITEMS
) -> etree.XPath:
    """Return `path` compiled once with these prefixes (NSMAP's by default).

    `element.xpath(path, namespaces=...)` compiles the expression on every
    call (about 5 times the evaluation's cost); a compiled XPath is reused and
    lxml serializes its evaluations, so it is safe to share between threads.
    """
    return etree.XPath(path, namespaces=dict(namespaces))


def vendor_children(element: etree._Element, path: str) -> list[etree._Element]:
    """Find Camunda/Operaton extension elements below `element` (path in 'x:' form)."""
    found: list[etree._Element] = []
    for prefix in ("camunda", "operaton"):
        found.extend(compiled_xpath(path.replace("x:", f"{prefix}:"))(element))
    return found


def unique_id(base: str, taken: set[str]) -> str:
    """Return `base`, or `base_2`, `base_3`, ... the first not in `taken` (added)."""
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    taken.add(candidate)
    return candidate


# Every id in a document, as plain strings, in one walk in C.
ID_VALUES = etree.XPath("descendant-or-self::*/@id", smart_strings=False)
