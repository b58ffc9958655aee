"""Camunda Forms (form-js JSON, drawn in Camunda Modeler): checks and validation.

A user task names its form with `camunda:formRef` (the form's `id`) or with
`camunda:formKey="camunda-forms:deployment:<file>.form"` (or `camunda-forms:app:`);
the .form files are uploaded with the diagram. The browser renders them with
form-js's own viewer; the server validates the submitted data again with the
rules form-js applies (`Validator` in @bpmn-io/form-js-viewer): required,
min/max, minLength/maxLength (on the trimmed text), pattern, email/phone,
decimalDigits and increment, and the offered options, plus the value types the
viewer produces (numbers, booleans, lists, ISO dates and times).

Conditional hiding (`conditional.hide`) is evaluated on the server too, in the
FEEL subset of DMN cells (dmn_feel.py) under the sandbox. What the server cannot
check the same way is refused at upload, located by file and component: FEEL
outside that subset, computed values, readonly/validation expressions, options
from variables, dynamic lists and components this module does not know.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .dmn_feel import FeelError, feel_expression
from .jsonforms import json_schema_problems
from .jsregex import js_regex
from .sandbox import evaluate
from .scripting import check_expression, expression_limits
from .types import FormRef, Problem

KEYED = frozenset(
    {
        "textfield",
        "textarea",
        "number",
        "checkbox",
        "checklist",
        "radio",
        "select",
        "taglist",
        "datetime",
        "filepicker",
    }
)
DISPLAY = frozenset({"text", "html", "spacer", "separator", "button", "image"})
CONTAINERS = frozenset({"group", "default"})
OPTIONS = frozenset({"checklist", "radio", "select", "taglist"})
LISTS = frozenset({"checklist", "taglist", "filepicker"})
BINDINGS = ("latest", "deployment")  # formRefBinding values that run here
FORM_KEY_PREFIXES = ("camunda-forms:deployment:", "camunda-forms:app:")


def utf16_length(text: str) -> int:
    """Return a text's JavaScript (and Java) `length`: its UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


# form-js's own patterns (Validator in @bpmn-io/form-js-viewer 1.x).
EMAIL_PATTERN = js_regex(
    r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$"
)
PHONE_PATTERN = js_regex(
    r"(\+|00)(297|93|244|1264|358|355|376|971|54|374|1684|1268|61|43|994|257"
    r"|32|229|226|880|359|973|1242|387|590|375|501|1441|591|55|1246|673|975|"
    r"267|236|1|61|41|56|86|225|237|243|242|682|57|269|238|506|53|5999|61|13"
    r"45|357|420|49|253|1767|45|1809|1829|1849|213|593|20|291|212|34|372|251"
    r"|358|679|500|33|298|691|241|44|995|44|233|350|224|590|220|245|240|30|1"
    r"473|299|502|594|1671|592|852|504|385|509|36|62|44|91|246|353|98|964|35"
    r"4|972|39|1876|44|962|81|76|77|254|996|855|686|1869|82|383|965|856|961|"
    r"231|218|1758|423|94|266|370|352|371|853|590|212|377|373|261|960|52|692"
    r"|389|223|356|95|382|976|1670|258|222|1664|596|230|265|60|262|264|687|2"
    r"27|672|234|505|683|31|47|977|674|64|968|92|507|64|51|63|680|675|48|178"
    r"7|1939|850|351|595|970|689|974|262|40|7|250|966|249|221|65|500|4779|67"
    r"7|232|503|378|252|508|381|211|239|597|421|386|46|268|1721|248|963|1649"
    r"|235|228|66|992|690|993|670|676|1868|216|90|688|886|255|256|380|598|1|"
    r"998|3906698|379|1784|58|1284|1340|84|678|681|685|967|27|260|263)(9[976"
    r"]\d|8[987530]\d|6[987]\d|5[90]\d|42\d|3[875]\d|2[98654321]\d|9[8543210"
    r"]|8[6421]|6[6543210]|5[87654321]|4[987654310]|3[9643210]|2[70]|7|1)\d{"
    r"4,20}$"
)
_DATE = r"\d{4}-\d{2}-\d{2}"
_TIME = r"\d{2}:\d{2}"
_OFFSETS = {
    "utc_offset": r"[+-]\d{2}:\d{2}",
    "utc_normalized": r"Z",
    "no_timezone": r"",
}


@dataclass(frozen=True, slots=True)
class Field:
    """One keyed component of a form, with the path its value is stored under."""

    path: tuple[str, ...]
    spec: Mapping[str, Any]
    hides: tuple[str, ...] = ()  # Python of its (and its groups') hide conditions

    @property
    def name(self) -> str:
        return ".".join(self.path)

    @property
    def type(self) -> str:
        return str(self.spec.get("type", ""))


def form_ref(attrs: Mapping[str, str], form_key: str) -> FormRef | None:
    """Return the Camunda Form a task names, None when it names none.

    `attrs` are the task's Camunda attributes without namespace (formRef,
    formRefBinding, formRefVersion).
    """
    if attrs.get("formRef", "").strip():
        return FormRef(
            form_id=attrs["formRef"].strip(),
            binding=(attrs.get("formRefBinding") or "latest").strip(),
            version=(attrs.get("formRefVersion") or "").strip(),
        )
    key = form_key.strip()
    if key.startswith("camunda-forms:"):
        for prefix in FORM_KEY_PREFIXES:
            if key.startswith(prefix):
                return FormRef(file=key[len(prefix) :].strip(), binding="deployment")
        return FormRef(file=key, binding="unknown")
    return None


def form_files_read(
    files: Sequence[tuple[str, bytes]],
) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    """Read uploaded .form files; return {file name: schema} and their problems."""
    forms: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for name, data in files:
        try:
            schema = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            problems.append(Problem(f"Form file {name}: not JSON ({exc})."))
            continue
        companion = name.lower().endswith(".json") and isinstance(schema, dict)
        if companion and not isinstance(schema.get("components"), list):
            forms[name] = schema  # a SpiffArena JSON (UI) schema: checked where named
            continue
        if not isinstance(schema, dict) or not isinstance(
            schema.get("components"), list
        ):
            problems.append(
                Problem(
                    f"Form file {name}: not a Camunda Form (a JSON object with "
                    "'components', as Camunda Modeler saves .form files) nor a "
                    "SpiffArena JSON schema (a .json file)."
                )
            )
            continue
        forms[name] = schema
        problems.extend(
            Problem(f"Form file {name}: {message}")
            for message in schema_problems(schema)
        )
    return forms, problems


def form_find(ref: FormRef, forms: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Return the name of the uploaded form file a reference names, if any."""
    if ref.file:
        base = ref.file.rsplit("/", 1)[-1]
        return next((n for n in forms if n.rsplit("/", 1)[-1] == base), None)
    return next((n for n, s in forms.items() if s.get("id") == ref.form_id), None)


def ref_problem(ref: FormRef, forms: Mapping[str, Mapping[str, Any]]) -> str:
    """Say why a task's form reference cannot run, or '' when it can."""
    if ref.binding == "unknown":
        return (
            f"formKey {ref.file!r} names no form file: use "
            "camunda-forms:deployment:<file>.form or camunda-forms:app:<file>.form"
        )
    if ref.binding == "version":
        return (
            f"formRefBinding='version' ({ref.label}): forms are deployed with their "
            "diagram here, without versions of their own; use 'deployment' or "
            "'latest' and upload the form with the diagram"
        )
    if ref.binding not in BINDINGS:
        return f"formRefBinding={ref.binding!r} is not latest, deployment or version"
    if "${" in ref.form_id or "#{" in ref.form_id or "${" in ref.file:
        return f"the form reference {ref.label} is an expression; name the form"
    if ref.json_schema:
        return _json_schema_problem(ref, forms)
    found = form_find(ref, forms)
    if found is None:
        return (
            f"its Camunda Form ({ref.label}) was not uploaded: add the .form file "
            "beside the .bpmn"
        )
    if not isinstance(forms[found].get("components"), list):
        return f"its Camunda Form ({ref.label}) is the file {found}, not a Camunda Form"
    return ""


def _json_schema_problem(ref: FormRef, forms: Mapping[str, Mapping[str, Any]]) -> str:
    """Say why a SpiffArena JSON-schema form cannot run; a file not uploaded is
    only warned of (checks.form_files), as SpiffArena deploys it too."""
    found = form_find(ref, forms)
    if found is None:
        return ""
    problems = json_schema_problems(forms[found])
    if problems:
        return f"its {ref.label} cannot be shown and checked: " + "; ".join(problems)
    ui = form_find(FormRef(file=ref.ui_file), forms) if ref.ui_file else None
    if ui is not None and "components" in forms[ui]:
        return f"its UI schema '{ref.ui_file}' is a Camunda Form, not a JSON object"
    return ""


def _expression(value: Any) -> bool:
    return isinstance(value, str) and value.strip().startswith("=")


def _where(component: Mapping[str, Any]) -> str:
    kind = component.get("type", "?")
    ident = component.get("key") or component.get("id") or "?"
    return f"the {kind} component '{ident}'"


def _component_problems(component: Mapping[str, Any]) -> Iterator[str]:
    kind = component.get("type")
    where = _where(component)
    if kind not in KEYED | DISPLAY | CONTAINERS:
        yield (
            f"{where} is not supported here (the server cannot check it); "
            f"supported: {', '.join(sorted(KEYED | DISPLAY | {'group'}))}"
        )
        return
    yield from _expression_problems(component, where)
    validate = component.get("validate") or {}
    if not isinstance(validate, Mapping):
        yield f"{where} has a 'validate' that is not an object"
        return
    yield from _value_rule_problems(component, validate, where)
    if kind in OPTIONS:
        if component.get("valuesKey") or component.get("valuesExpression"):
            yield (
                f"{where} takes its options from a variable or expression; "
                "list them in the form (static options)"
            )
        elif not isinstance(component.get("values"), list):
            yield f"{where} has no options"
    if kind == "datetime" and component.get("disallowPassedDates"):
        yield f"{where} disallows past dates, which the server does not check"
    if kind in KEYED and not str(component.get("key") or "").strip():
        yield f"{where} has no key"


def _hide_problems(hide: Any, where: str) -> Iterator[str]:
    if not isinstance(hide, str) or not _expression(hide):
        yield f"{where} hides on {hide!r}, not a FEEL expression (=...)"
        return
    try:
        python = feel_expression(hide.strip()[1:])
    except FeelError as exc:
        yield (
            f"{where} hides on a condition outside the FEEL the server evaluates "
            f"({exc}): {hide.strip()}"
        )
        return
    if why := check_expression(python):
        yield f"{where} hides on a condition the server cannot evaluate ({why})"


def _expression_problems(component: Mapping[str, Any], where: str) -> Iterator[str]:
    """FEEL the server cannot evaluate: hide conditions outside its subset, and
    readonly, disabled and validation rules given as expressions."""
    conditional = component.get("conditional")
    hide = conditional.get("hide") if isinstance(conditional, Mapping) else None
    if hide:
        yield from _hide_problems(hide, where)
    if _expression(component.get("readonly")) or _expression(component.get("disabled")):
        yield f"{where} is readonly or disabled by a FEEL expression"
    validate = component.get("validate")
    for name, value in validate.items() if isinstance(validate, Mapping) else ():
        if _expression(value):
            yield f"{where} validates {name} with a FEEL expression"


def _value_rule_problems(
    component: Mapping[str, Any], validate: Mapping[str, Any], where: str
) -> Iterator[str]:
    pattern = validate.get("pattern")
    if pattern:
        try:
            js_regex(str(pattern))
        except re.error as exc:
            yield f"{where} has a pattern the server cannot read ({exc})"
    kind = validate.get("validationType")
    if kind not in (None, "", "email", "phone", "custom"):
        yield f"{where} has validationType {kind!r}"
    for name in ("min", "max", "minLength", "maxLength"):
        if name in validate and validate[name] not in (None, ""):
            if _decimal(validate[name]) is None and not _expression(validate[name]):
                yield f"{where} has {name}={validate[name]!r}, not a number"
    for name in ("decimalDigits", "increment"):
        value = component.get(name)
        if value not in (None, "") and _decimal(value) is None:
            yield f"{where} has {name}={value!r}, not a number"


def _walk(
    components: Sequence[Any], prefix: tuple[str, ...], hides: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Mapping[str, Any], tuple[str, ...]]]:
    for component in components:
        if not isinstance(component, Mapping):
            continue
        own = (*hides, python) if (python := _hide_python(component)) else hides
        yield prefix, component, own
        children = component.get("components")
        if isinstance(children, list):
            path = str(component.get("path") or "").strip()
            inner = (*prefix, *path.split(".")) if path else prefix
            yield from _walk(children, inner, own)


def _hide_python(component: Mapping[str, Any]) -> str:
    """Return the Python of a component's `conditional.hide` ('' when none or bad)."""
    conditional = component.get("conditional")
    hide = conditional.get("hide") if isinstance(conditional, Mapping) else None
    if not isinstance(hide, str) or not _expression(hide):
        return ""
    try:
        return feel_expression(hide.strip()[1:])
    except FeelError:
        return ""  # refused at upload (_expression_problems)


def schema_problems(schema: Mapping[str, Any]) -> list[str]:
    """Return what in a form the server cannot check as form-js does (refused)."""
    problems: list[str] = []
    seen: dict[tuple[str, ...], str] = {}
    for prefix, component, _ in _walk(schema.get("components") or [], ()):
        problems.extend(_component_problems(component))
        if component.get("type") not in KEYED or not component.get("key"):
            continue
        path = (*prefix, *str(component["key"]).strip().split("."))
        if any(not part.strip() for part in path):
            problems.append(f"{_where(component)} has an empty part in its key")
            continue
        name = ".".join(path)
        for other, where in seen.items():
            if (
                other == path
                or other[: len(path)] == path
                or path[: len(other)] == other
            ):
                problems.append(
                    f"{_where(component)} and {where} write the same variable "
                    f"({name} / {'.'.join(other)})"
                )
        seen[path] = _where(component)
    return problems


def fields(schema: Mapping[str, Any]) -> list[Field]:
    """Return the keyed components of a form with their value paths."""
    return [
        Field(path=(*prefix, *str(c["key"]).strip().split(".")), spec=c, hides=hides)
        for prefix, c, hides in _walk(schema.get("components") or [], ())
        if c.get("type") in KEYED and c.get("key")
    ]


def field_labels(schema: Mapping[str, Any]) -> dict[str, str]:
    """Return each keyed field's label by its dotted key (its key when unlabelled)."""
    return {f.name: str(f.spec.get("label") or f.name) for f in fields(schema)}


def file_fields(schema: Mapping[str, Any]) -> list[Field]:
    """Return the form's file pickers (their values are attachments)."""
    return [f for f in fields(schema) if f.type == "filepicker"]


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _missing(kind: str, value: Any) -> bool:
    return (
        value is None
        or value == ""
        or (kind == "checkbox" and value is False)
        or (isinstance(value, list) and not value)
    )


def _option_values(spec: Mapping[str, Any]) -> list[Any]:
    return [v.get("value") for v in spec.get("values") or [] if isinstance(v, Mapping)]


def _datetime_ok(spec: Mapping[str, Any], value: str) -> bool:
    subtype = spec.get("subtype") or "date"
    offset = _OFFSETS.get(spec.get("timeSerializingFormat") or "utc_offset", "")
    shape = {
        "date": _DATE,
        "time": f"{_TIME}{offset}",
        "datetime": f"{_DATE}T{_TIME}{offset}",
    }.get(subtype, _DATE)
    if not re.fullmatch(shape, value):
        return False
    if subtype in ("date", "datetime"):
        try:
            date.fromisoformat(value[:10])
        except ValueError:
            return False
    if subtype in ("time", "datetime"):
        clock = value[11:16] if subtype == "datetime" else value[:5]
        hours, minutes = int(clock[:2]), int(clock[3:])
        return hours < 24 and minutes < 60
    return True


_DATETIME_HINT = {
    "date": "a date as YYYY-MM-DD",
    "time": "a time as HH:mm",
    "datetime": "a date and time as YYYY-MM-DDTHH:mm",
}


def _number(spec: Mapping[str, Any], value: Any) -> tuple[Any, str]:
    number = _decimal(value)
    if number is None:
        return None, "Value is not a number."
    if spec.get("serializeToString"):
        return str(value).strip(), ""
    whole = number == number.to_integral_value()
    return (int(number) if whole else float(number)), ""


def _listed(kind: str, spec: Mapping[str, Any], value: Any) -> tuple[Any, str]:
    if kind == "filepicker" and isinstance(value, str):
        # The viewer's reference to the files sent with the same request.
        ok = value.startswith("files::")
        return (value, "") if ok else (None, "Expected a list of attachment ids.")
    if not isinstance(value, list) or not all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
    ):
        return None, "Expected a list of values."
    if kind == "filepicker" and not spec.get("multiple") and len(value) > 1:
        return None, "Choose one file."
    return value, ""


def _typed(field: Field, value: Any) -> tuple[Any, str]:
    """Return the value as the viewer submits it for the field's type, or an error."""
    kind, spec = field.type, field.spec
    if kind == "checkbox":
        return (value, "") if isinstance(value, bool) else (None, "Choose yes or no.")
    if kind == "number":
        return _number(spec, value)
    if kind in LISTS:
        return _listed(kind, spec, value)
    if kind in ("radio", "select"):
        if isinstance(value, dict | list):
            return None, "Select one of the offered choices."
        return value, ""
    if not isinstance(value, str):
        return None, "Enter text."
    if kind == "datetime" and not _datetime_ok(spec, value):
        hint = _DATETIME_HINT.get(spec.get("subtype") or "date", "a date")
        return None, f"Enter {hint}."
    return value, ""


def _plain(number: Decimal) -> str:
    """Write a decimal as Big.js does in form-js's messages (2, not 2.0)."""
    return format(number.normalize(), "f")


def _number_rules(spec: Mapping[str, Any], value: Any) -> Iterator[str]:
    """form-js's runNumberValidation: decimalDigits and increment."""
    number = _decimal(value)
    if number is None:
        return
    digits = _decimal(spec.get("decimalDigits"))
    if digits is not None and digits >= 0:
        exponent = number.normalize().as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        if places > digits:
            plural = "s" if digits > 1 else ""
            yield "Value is expected to " + (
                "be an integer."
                if digits == 0
                else f"have at most {digits} decimal digit{plural}."
            )
    increment = _decimal(spec.get("increment"))
    if increment and (offset := number % increment):
        low = number - offset
        yield (
            "Please select a valid value, the two nearest valid values are "
            f"{_plain(low)} and {_plain(low + increment)}."
        )


def _text_rules(validate: Mapping[str, Any], text: str) -> Iterator[str]:
    """form-js's runPresetValidation on text: pattern, lengths, email, phone."""
    pattern = validate.get("pattern")
    if pattern and not js_regex(str(pattern)).search(text):
        yield validate.get("patternErrorMessage") or (
            f"Field must match pattern {pattern}."
        )
    size = utf16_length(text.strip())
    shortest, longest = (_decimal(validate.get(b)) for b in ("minLength", "maxLength"))
    if shortest is not None and size < shortest:
        yield f"Field must have minimum length of {validate['minLength']}."
    if longest is not None and size > longest:
        yield f"Field must have maximum length of {validate['maxLength']}."
    kind = validate.get("validationType")
    if kind == "phone" and not PHONE_PATTERN.search(text):
        yield "Field must be a valid  international phone number. (e.g. +4930664040900)"
    if kind == "email" and not EMAIL_PATTERN.search(text):
        yield "Field must be a valid email."


def _rules(field: Field, value: Any) -> list[str]:
    """form-js's Validator rules (runNumberValidation, runPresetValidation)."""
    spec = field.spec
    validate: Mapping[str, Any] = spec.get("validate") or {}
    errors = list(_number_rules(spec, value)) if field.type == "number" else []
    if field.type in OPTIONS:
        allowed = _option_values(spec)
        chosen = value if isinstance(value, list) else [value]
        if any(v not in allowed for v in chosen):
            errors.append("Select one of the offered choices.")
    if isinstance(value, str) and value:
        errors.extend(_text_rules(validate, value))
    number = _decimal(value)
    for bound, sign, word in (("min", -1, "minimum"), ("max", 1, "maximum")):
        limit = _decimal(validate.get(bound))
        if limit is not None and number is not None and (number - limit) * sign > 0:
            errors.append(f"Field must have {word} value of {validate[bound]}.")
    return errors


def value_at(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """Return the value at a key path of nested objects (None when absent)."""
    current: Any = data
    for part in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


def value_set(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Write a value at a key path, making the objects on the way."""
    for part in path[:-1]:
        data = data.setdefault(part, {})
    data[path[-1]] = value


def _leaves(
    data: Mapping[str, Any], prefix: tuple[str, ...]
) -> Iterator[tuple[str, ...]]:
    for key, value in data.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping):
            yield from _leaves(value, path)  # an empty object holds no field
        else:
            yield path


def _empty(kind: str) -> Any:
    """Return what form-js submits for an empty field of a kind (its emptyValue)."""
    if kind in ("checklist", "taglist"):
        return []
    return {"textfield": "", "textarea": "", "checkbox": False}.get(kind)


def _merged(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Return `base` with `top` written over it, objects merged key by key."""
    merged = dict(base)
    for key, value in top.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = _merged(below, value)
        else:
            merged[key] = value
    return merged


def _hidden(python: str, variables: Mapping[str, Any]) -> bool:
    """Evaluate a hide condition as form-js does; FEEL's null (a missing
    variable, a comparison with null) does not hide."""
    try:
        return evaluate(python, variables, expression_limits()) is True
    except Exception:  # noqa: BLE001 - FEEL: an error is null, and null is not true
        return False


def formjs_clean(
    schema: Mapping[str, Any],
    data: Mapping[str, Any],
    context: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Validate submitted data against a form; return (variables, errors by field).

    Values are read and written by each field's key, a dotted key (or a group's
    `path`) nesting objects as Camunda 8 does ({"a": {"b": ...}} for `a.b`).
    Disabled and readonly fields only display data: what is sent for them is
    not written. A field whose `conditional.hide` (or its group's) holds, on the
    case variables (`context`) with the submitted data over them, is hidden:
    neither checked nor written, as form-js leaves it out of its submission.
    An empty optional field is written as the viewer sends it (form-js's
    emptyValue: '' for text, false for a checkbox, [] for lists, else None).
    """
    known = fields(schema)
    paths = {f.path for f in known}
    errors: dict[str, list[str]] = {}
    for leaf in _leaves(data, ()):
        if not any(leaf[: len(p)] == p for p in paths):
            errors[".".join(leaf)] = ["Unknown field: this form does not have it."]
    cleaned: dict[str, Any] = {}
    variables = _merged(context or {}, data)
    for field in known:
        if field.spec.get("disabled") or field.spec.get("readonly"):
            continue
        if any(_hidden(python, variables) for python in field.hides):
            continue  # form-js neither shows nor submits it
        raw = value_at(data, field.path)
        if _missing(field.type, raw):
            if (field.spec.get("validate") or {}).get("required"):
                errors[field.name] = ["Field is required."]
            else:
                empty = _empty(field.type) if raw is None else raw
                value_set(cleaned, field.path, empty)
            continue
        value, problem = _typed(field, raw)
        found = [problem] if problem else _rules(field, value)
        if found:
            errors[field.name] = found
        else:
            value_set(cleaned, field.path, value)
    return cleaned, errors
