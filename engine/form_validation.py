"""Validate submitted data against a start or task form (Camunda formField rules).

The same rules serve the HTML pages (string values) and the API (JSON values):
each field is coerced to its type, then checked; every problem is reported per field.
"""

import itertools
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields as dataclass_fields
from typing import Any

from engine.spiff import (
    CAMUNDA_DATE_PATTERN,
    JSON_SCHEMA_KEY,
    FormField,
    FormRef,
    file_fields,
    form_date,
    form_find,
    formjs_clean,
    json_schema_form,
    json_schema_validator,
    utf16_length,
)
from engine.spiff import field_labels as form_js_labels  # noqa: F401 (re-exported)
from engine.spiff import value_at as value_at  # key paths of Camunda Form data
from engine.spiff import value_set as value_set

from .errors import FormInvalid

NUMBER_TYPES = {"long", "integer", "int", "double", "number", "decimal", "float"}
# Java's long (Camunda 7's LongFormType reads text with Long.parseLong).
LONG_RANGE = range(-(2**63), 2**63)
_WHOLE = re.compile(r"[+-]?[0-9]+")


def _to_bool(value: Any) -> bool:
    """Return a boolean field's value: a Boolean, or the text true / false.

    Camunda 7's BooleanFormType reads text with Boolean.valueOf, so any text
    but "true" (any case) would be false; other text is refused here rather
    than read as false.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError("Choose yes or no.")


def _to_whole(number: int) -> int:
    """Return a whole number if a Java long holds it."""
    if number not in LONG_RANGE:
        low, high = LONG_RANGE.start, LONG_RANGE.stop - 1
        raise ValueError(f"Enter a whole number between {low} and {high}.")
    return number


def _to_number(value: Any, integral: bool) -> float | int:
    if isinstance(value, bool):
        raise ValueError("Enter a number.")
    # Whole numbers are read exactly: through a float, 2**53 + 1 would change.
    if integral and isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        digits = value.strip()
        return _to_whole(int(digits) if len(digits) <= 25 else 2**63)
    if integral and isinstance(value, int):
        return _to_whole(value)
    try:
        if isinstance(value, str) and "_" in value:
            raise ValueError  # Python's 1_000, which Java's parsers refuse
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise ValueError("Enter a number.") from None
    if not math.isfinite(number):
        raise ValueError("Enter a finite number.")
    if integral:
        if number != int(number):
            raise ValueError("Enter a whole number.")
        return _to_whole(int(number))
    return number


def _to_date(value: Any, pattern: str) -> str:
    try:
        return form_date(str(value), pattern)
    except ValueError:
        shown = pattern or CAMUNDA_DATE_PATTERN
        raise ValueError(f"Enter a date as YYYY-MM-DD or {shown}.") from None


def _to_string(value: Any) -> str:
    """Return text as typed: Camunda 7's StringFormType.convertValue keeps it
    (value.toString(), no trimming)."""
    if isinstance(value, dict | list):
        raise ValueError("Enter text.")
    return str(value)


def _coerce(field: FormField, value: Any) -> Any:
    kind = field.type.lower()
    if kind == "boolean":
        return _to_bool(value)
    if kind in NUMBER_TYPES:
        return _to_number(value, integral=kind in {"long", "integer", "int"})
    if kind == "date":
        return _to_date(value, field.date_pattern)
    if kind == "enum":
        # EnumFormType.convertValue: a String among the enum's values ("" too
        # is refused when it is none of them); any other value is refused.
        if not isinstance(value, str) or value not in dict(field.options):
            raise ValueError("Select one of the offered choices.")
        return value
    return _to_string(value)


def _bounds(field: FormField, value: Any) -> list[str]:
    checks: list[tuple[float | None, Callable[[Any, float], bool], str]] = [
        (field.minimum, lambda v, b: v >= b, "at least {}"),
        (field.maximum, lambda v, b: v <= b, "at most {}"),
        (field.exclusive_minimum, lambda v, b: v > b, "greater than {}"),
        (field.exclusive_maximum, lambda v, b: v < b, "less than {}"),
    ]
    return [
        f"Must be {text.format(_fmt(bound))}."
        for bound, ok, text in checks
        if bound is not None and not ok(value, bound)
    ]


def _lengths(field: FormField, value: str) -> list[str]:
    """Camunda 7's MinLengthValidator / MaxLengthValidator: Java's length."""
    errors = []
    size = utf16_length(value)
    if field.min_length is not None and size < field.min_length:
        errors.append(f"Enter at least {field.min_length} characters.")
    if field.max_length is not None and size > field.max_length:
        errors.append(f"Enter at most {field.max_length} characters (it has {size}).")
    return errors


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _is_text(field: FormField) -> bool:
    return field.type.lower() not in {"boolean", "date", *NUMBER_TYPES}


def _is_empty(field: FormField, value: Any) -> bool:
    """Whether a submitted value is no value: Camunda 7's RequiredValidator
    refuses null and "" (String.isEmpty: spaces are text); an input of a
    number, date or boolean holding only spaces is empty too."""
    if value is None or value == "":
        return True
    return isinstance(value, str) and not value.strip() and not _is_text(field)


def _clean_field(
    field: FormField, raw: Any, current: Any = None
) -> tuple[Any, list[str]]:
    """Coerce and check one submitted value; `current` is the variable's value.

    As Camunda 7's RequiredValidator, a required field submitted as null is
    satisfied by a value the variable already has (FormFieldHandler.handleSubmit
    then sets the variable to null, the submitted value).
    """
    if _is_empty(field, raw):
        if field.required and (raw is not None or current is None):
            return None, ["This field is required."]
        # Not required: null is no value; "" is text, but for an enum that has
        # no "" among its values (EnumFormType.validateValue refuses it).
        if not (raw == "" and field.type.lower() == "enum"):
            return ("" if raw is not None and _is_text(field) else None), []
    try:
        value = _coerce(field, raw)
    except ValueError as exc:
        return None, [str(exc)]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value, _bounds(field, value)
    if isinstance(value, str):
        return value, _lengths(field, value)
    return value, []


def _submitted(
    field: FormField, data: Mapping[str, Any], current: Mapping[str, Any]
) -> tuple[bool, Any, list[str]]:
    """Whether a field sets its variable, to what, and what is wrong (form_clean)."""
    if field.readonly and data.get(field.id) is not None:
        return False, None, ["This field is read-only: leave it out."]
    if field.id in data:
        value, problems = _clean_field(field, data[field.id], current.get(field.id))
        return True, value, problems
    if field.required and current.get(field.id) is None:
        return False, None, ["This field is required."]
    if field.default in (None, ""):
        return False, None, []
    value, problems = _clean_field(field, field.default)
    return not problems, value, []


def form_clean(
    fields: Sequence[FormField],
    data: Mapping[str, Any],
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the submitted values coerced to their types.

    With no form fields, any JSON object is accepted as variables.

    As Camunda 7's FormFieldHandler.handleSubmit: a field left out of `data`
    takes its default value when it has one, else leaves the variable as it
    is (`current`, the case's variables: a required field left out is
    satisfied by a value there, RequiredValidator); a readonly field may not
    be submitted (ReadOnlyValidator), but takes its default value as any
    field left out.

    Raises:
        FormInvalid: with details {"fields": {field_id: [messages]}}.
    """
    if not isinstance(data, Mapping):
        raise FormInvalid("The data must be a JSON object.", details={"fields": {}})
    if not fields:
        return dict(data)
    known = {f.id for f in fields}
    errors: dict[str, list[str]] = {
        key: ["Unknown field: this form does not have it."]
        for key in data
        if key not in known
    }
    cleaned: dict[str, Any] = {}
    for field in fields:
        sets, value, problems = _submitted(field, data, current or {})
        if problems:
            errors[field.id] = problems
        elif sets:
            cleaned[field.id] = value
    if errors:
        raise FormInvalid("Some fields need attention.", details={"fields": errors})
    return cleaned


def form_to_json(fields: Sequence[FormField]) -> list[dict[str, Any]]:
    """Return form fields as the JSON that a human task keeps and its page renders.

    What `dataclasses.asdict` returns, without its recursive copy (~15 us a
    field): every value of a FormField is immutable (`options` a tuple of
    tuples of text).
    """
    return [{name: getattr(f, name) for name in _FORM_FIELD_NAMES} for f in fields]


_FORM_FIELD_NAMES = tuple(f.name for f in dataclass_fields(FormField))


def form_clean_json(
    form: Sequence[Mapping[str, Any]],
    data: Mapping[str, Any],
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Clean data against a form kept as JSON (`form_to_json`); see `form_clean`.

    Raises:
        FormInvalid: with details {"fields": {field_id: [messages]}}.
    """
    fields = [
        FormField(**{**f, "options": tuple(map(tuple, f["options"]))}) for f in form
    ]
    return form_clean(fields, data, current)


def task_form_js(version: Any, ref: FormRef | None) -> dict[str, Any] | None:
    """Return the Camunda Form (form-js JSON) a task names, from its version's files.

    A task of a called process is given the version its child runs (its form
    files); a version deployed when calls were bound at deploy also looks
    among those of the versions it was bound to (its dependencies).

    A SpiffArena JSON-schema form (with its UI schema, when uploaded) is
    returned as the Camunda Form that shows it, the schema riding along
    (engine.spiff.jsonforms); None when its file was not uploaded (warned of).
    """
    if ref is None:
        return None
    owners = itertools.chain(
        [version],
        version.dependencies.iterator() if version.dependencies_checksum else (),
    )
    for owner in owners:  # the dependencies are read only when needed
        forms = {f["name"]: json.loads(f["json"]) for f in owner.form_files}
        name = form_find(ref, forms)
        if name is None:
            continue
        found: dict[str, Any] = forms[name]
        if not ref.json_schema:
            return found
        ui_name = form_find(FormRef(file=ref.ui_file), forms) if ref.ui_file else None
        return json_schema_form(found, forms[ui_name] if ui_name else None)
    return None


def start_form_js(version: Any, start: Any) -> dict[str, Any] | None:
    """Return the Camunda Form (form-js JSON) of a process's start event, if any.

    `start` is the process's start event (`HumanTaskMeta`, None when it has none):
    its form is the process's start form, as Camunda 7's Tasklist shows it
    (only a none start event keeps one: form_checks.py).
    """
    ref = start.form_ref if start is not None else None
    return task_form_js(version, ref) if ref is not None else None


def start_form_clean(
    version: Any, start: Any, data: Mapping[str, Any]
) -> dict[str, Any]:
    """Validate a case's start data against its start form; return the variables.

    A Camunda Form is checked as a user task's (`form_js_clean`), with no case
    variables yet; else the start event's formData fields (`form_clean`).

    Raises:
        FormInvalid: with details {"fields": {field: [messages]}}.
    """
    schema = start_form_js(version, start)
    if schema is not None:
        return form_js_clean(schema, data)
    return form_clean(start.form if start is not None else (), data)


def form_js_clean(
    schema: Mapping[str, Any],
    data: Mapping[str, Any],
    context: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate data against a Camunda Form as form-js does; return the variables.

    `context` (the case variables) is what hide conditions read besides the data.

    Raises:
        FormInvalid: with details {"fields": {dotted key: [messages]}}.
    """
    if not isinstance(data, Mapping):
        raise FormInvalid("The data must be a JSON object.", details={"fields": {}})
    if JSON_SCHEMA_KEY in schema:
        cleaned, errors = json_schema_clean(schema[JSON_SCHEMA_KEY], data)
    else:
        cleaned, errors = formjs_clean(schema, data, context)
    if errors:
        raise FormInvalid("Some fields need attention.", details={"fields": errors})
    return cleaned


def form_js_file_paths(schema: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """Return where a Camunda Form's file pickers put their values (key paths)."""
    return [field.path for field in file_fields(schema)]


def _filled(data: Any) -> Any:
    """Drop what an empty field sends ('' or null, inside objects too): an empty
    field of react-jsonschema-form is left out of its data, so a property that
    is not required may stay empty and a required one is reported missing."""
    if isinstance(data, Mapping):
        return {k: _filled(v) for k, v in data.items() if v is not None and v != ""}
    return data


def json_schema_clean(
    schema: Mapping[str, Any], data: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Validate data against a SpiffArena JSON-schema form, with the JSON Schema
    draft the schema names (draft 7 when none, as react-jsonschema-form) and its
    formats; return (variables, errors by dotted field path)."""
    cleaned = _filled(data)
    validator = json_schema_validator(schema)
    errors: dict[str, list[str]] = {}
    for error in validator.iter_errors(cleaned):
        path = [str(part) for part in error.absolute_path]
        if error.validator == "required" and isinstance(error.instance, Mapping):
            for name in error.validator_value:
                if name not in error.instance:
                    key = ".".join([*path, str(name)])
                    errors.setdefault(key, []).append("Field is required.")
            continue
        key = ".".join(path) or "form"
        errors.setdefault(key, []).append(error.message)
    return cleaned, errors
