"""SpiffArena JSON-schema forms: upload checks and their rendering as a Camunda Form.

A SpiffArena user task names its form with the properties
`formJsonSchemaFilename` (a JSON schema, what the task's data must satisfy) and
`formUiSchemaFilename` (react-jsonschema-form's layout: `ui:order`, `ui:widget`,
`ui:help`, `ui:placeholder`). The files are uploaded with the diagram, with the
Camunda Forms (one list of companion form files on the version).

The task page renders the schema with the form-js viewer that renders Camunda
Forms: `json_schema_form` writes the schema's properties as form-js components
and keeps the schema itself under `JSON_SCHEMA_KEY`, so the server validates the
submission against the schema as SpiffArena does (`engine.form_validation`,
with the `jsonschema` library), not against the components.

What the viewer cannot show is refused at upload, located by file and property:
references ($ref), combinations (allOf/anyOf, oneOf other than a list of
const/title choices), conditionals, lists other than a multiple choice, and
properties without a single type.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

import jsonschema

from .jsregex import js_regex
from .types import FormRef

JSON_SCHEMA_KEY = "x-laneway-json-schema"
SCHEMA_PROPERTY = "formJsonSchemaFilename"
UI_PROPERTY = "formUiSchemaFilename"
_SCALARS = frozenset({"string", "number", "integer", "boolean"})
_UNSUPPORTED = (
    "$ref",
    "allOf",
    "anyOf",
    "not",
    "if",
    "dependencies",
    "dependentSchemas",
    "patternProperties",
)


def json_schema_ref(props: Mapping[str, str], user_task: bool) -> FormRef | None:
    """Return the JSON-schema form a SpiffArena user task names, None when none.

    SpiffArena shows a form on user tasks only (a manual task shows its
    instructions and a button), so elsewhere the property names nothing.
    """
    file = props.get(SCHEMA_PROPERTY, "").strip()
    if not file or not user_task:
        return None
    return FormRef(
        file=file,
        binding="deployment",
        json_schema=True,
        ui_file=props.get(UI_PROPERTY, "").strip(),
    )


def _choices(spec: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """Return the offered choices of an enum or a oneOf of const/title, if any."""
    if isinstance(spec.get("enum"), list):
        return [{"label": str(v), "value": v} for v in spec["enum"]]
    options = spec.get("oneOf")
    if isinstance(options, list) and all(
        isinstance(o, Mapping) and "const" in o for o in options
    ):
        return [
            {"label": str(o.get("title", o["const"])), "value": o["const"]}
            for o in options
        ]
    return None


def _string_rule_problems(where: str, spec: Mapping[str, Any]) -> Iterator[str]:
    """Patterns and formats the server cannot check as ajv does in the browser."""
    if "format" in spec and spec["format"] not in FORMATS.checkers:
        checked = ", ".join(sorted(FORMATS.checkers))
        yield (
            f"{where} has format {spec['format']!r}, which the server does not "
            f"check as the browser does (checked: {checked})"
        )
    if not isinstance(spec.get("pattern"), str):
        return
    try:
        js_regex(spec["pattern"])
    except re.error as exc:
        yield f"{where} has a pattern the browser and server read apart ({exc})"


def _property_problems(name: str, spec: Any) -> Iterator[str]:
    where = f"the property '{name}'"
    if not isinstance(spec, Mapping):
        yield f"{where} is not a schema object"
        return
    for word in _UNSUPPORTED:
        if word in spec:
            yield f"{where} uses {word}, which the task page cannot show"
    yield from _string_rule_problems(where, spec)
    if "oneOf" in spec and _choices(spec) is None:
        yield f"{where} uses oneOf other than a list of const/title choices"
    kind = spec.get("type")
    if kind == "object":
        yield from _object_problems(spec, f"{name}.")
    elif kind == "array":
        items = spec.get("items")
        if not isinstance(items, Mapping) or _choices(items) is None:
            yield (
                f"{where} is a list of {'items' if items else 'anything'}; the task "
                "page shows lists of choices only (items with enum or oneOf)"
            )
    elif kind not in _SCALARS and _choices(spec) is None:
        yield (
            f"{where} has type {kind!r}; the task page shows string, number, "
            "integer, boolean, object and lists of choices"
        )


def _object_problems(schema: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        where = f"the property '{prefix[:-1]}'" if prefix else "the schema"
        yield f"{where} is an object without properties"
        return
    for name, spec in properties.items():
        yield from _property_problems(f"{prefix}{name}", spec)


# react-jsonschema-form checks formats with ajv-formats (full mode); these are
# its email pattern and date rule (ajv-formats src/formats.ts). Other formats
# would go unchecked here: they are refused at upload.
_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@"
    r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?",
    re.IGNORECASE | re.ASCII,
)
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("email")
def _email(value: object) -> bool:
    return not isinstance(value, str) or _EMAIL.fullmatch(value) is not None


@FORMATS.checks("date")
def _date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _browser_pattern(
    validator: Any, pattern: str, instance: Any, schema: Any
) -> Iterator[jsonschema.ValidationError]:
    """JSON Schema's `pattern` as ajv reads it in the browser (an ECMAScript
    RegExp), not as Python's re would."""
    if validator.is_type(instance, "string") and not js_regex(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def json_schema_validator(schema: Mapping[str, Any]) -> Any:
    """Return the validator of a form's data: the JSON Schema draft the schema
    names (draft 7 when none, as react-jsonschema-form), its formats, and
    patterns read as the browser reads them."""
    draft = jsonschema.validators.validator_for(
        schema, default=jsonschema.Draft7Validator
    )
    browser_like = jsonschema.validators.extend(draft, {"pattern": _browser_pattern})
    return browser_like(schema, format_checker=FORMATS)


def json_schema_problems(schema: Any) -> list[str]:
    """Return why a JSON-schema form cannot run here ([] when it can)."""
    if not isinstance(schema, Mapping):
        return ["not a JSON object"]
    validator = jsonschema.validators.validator_for(
        schema, default=jsonschema.Draft7Validator
    )
    try:
        validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        return [f"not a valid JSON schema ({exc.message})"]
    if schema.get("type") != "object":
        return ["the schema's type is not 'object' (a form fills named fields)"]
    return list(_object_problems(schema))


def _ordered(names: list[str], ui: Mapping[str, Any]) -> list[str]:
    """Order properties as react-jsonschema-form's ui:order says ('*': the rest)."""
    order = ui.get("ui:order")
    if not isinstance(order, list):
        return names
    wanted = [str(n) for n in order]
    rest = [n for n in names if n not in wanted]
    result: list[str] = []
    for name in wanted:
        if name == "*":
            result.extend(rest)
        elif name in names:
            result.append(name)
    if "*" not in wanted:
        result.extend(rest)
    return result


def _typed(
    spec: Mapping[str, Any], widget: Any, label: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the form-js type settings and validate rules of a property's value."""
    kind = spec.get("type")
    choices = _choices(spec)
    items = spec.get("items")
    if kind == "array" and isinstance(items, Mapping):
        return {"type": "checklist", "values": _choices(items) or []}, {}
    if choices is not None:
        return {
            "type": "radio" if widget == "radio" else "select",
            "values": choices,
        }, {}
    if kind == "boolean":
        return {"type": "checkbox"}, {}
    if kind in ("number", "integer"):
        bounds = {
            rule: spec[bound]
            for bound, rule in (("minimum", "min"), ("maximum", "max"))
            if isinstance(spec.get(bound), int | float)
        }
        digits = {"decimalDigits": 0} if kind == "integer" else {}
        return {"type": "number", **digits}, bounds
    if spec.get("format") == "date":
        return {"type": "datetime", "subtype": "date", "dateLabel": label}, {}
    rules = {r: spec[r] for r in ("minLength", "maxLength", "pattern") if r in spec}
    return {"type": "textarea" if widget == "textarea" else "textfield"}, rules


def _component(
    name: str,
    spec: Mapping[str, Any],
    ui: Mapping[str, Any],
    required: bool,
    ident: str,
) -> dict[str, Any]:
    """Return the form-js component that shows one property."""
    label = str(ui.get("ui:title") or spec.get("title") or name)
    component: dict[str, Any] = {"id": ident, "key": name, "label": label}
    help_text = ui.get("ui:help") or spec.get("description")
    if help_text:
        component["description"] = str(help_text)
    if ui.get("ui:placeholder"):
        component["placeholder"] = str(ui["ui:placeholder"])
    settings, rules = _typed(spec, ui.get("ui:widget"), label)
    component.update(settings)
    validate = {"required": True, **rules} if required else rules
    if "default" in spec:
        component["defaultValue"] = spec["default"]
    if spec.get("readOnly"):
        component["readonly"] = True
    if validate:
        component["validate"] = validate
    return component


def _components(
    schema: Mapping[str, Any], ui: Mapping[str, Any], prefix: str
) -> list[dict[str, Any]]:
    properties: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    found: list[dict[str, Any]] = []
    for name in _ordered(list(properties), ui):
        spec = properties[name]
        found_ui = ui.get(name)
        own_ui: Mapping[str, Any] = found_ui if isinstance(found_ui, Mapping) else {}
        ident = f"Field_{prefix}{name}".replace(".", "_")
        if spec.get("type") == "object":
            found.append(
                {
                    "id": ident,
                    "type": "group",
                    "label": str(spec.get("title") or name),
                    "path": name,
                    "components": _components(spec, own_ui, f"{prefix}{name}."),
                }
            )
        else:
            found.append(_component(name, spec, own_ui, name in required, ident))
    return found


def json_schema_form(
    schema: Mapping[str, Any], ui: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Return a checked JSON-schema form as a Camunda Form the viewer renders.

    The schema itself rides along under JSON_SCHEMA_KEY: the server validates
    against it (the components only show the fields).
    """
    title = schema.get("title")
    components: list[dict[str, Any]] = []
    if title or schema.get("description"):
        text = f"#### {title}" if title else ""
        if schema.get("description"):
            text = f"{text}\n\n{schema['description']}".strip()
        components.append({"id": "Field__title", "type": "text", "text": text})
    components.extend(_components(schema, ui or {}, ""))
    return {
        "type": "default",
        "id": "json-schema-form",
        "components": components,
        "schemaVersion": 18,
        JSON_SCHEMA_KEY: dict(schema),
    }
