"""HTML forms built from BPMN form fields (start forms and task forms).

The engine validates submitted data (`engine.form_validation.form_clean`, via the
services), so these forms only render inputs, keep what was typed and carry the
service's per-field errors. Every field is a plain `CharField`: the values reach the
service as the strings the browser sent.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, is_dataclass
from typing import Any

from django import forms

from engine.form_validation import NUMBER_TYPES, form_js_labels
from engine.human_tasks import PRIORITY_RANGE
from engine.models import BUSINESS_KEY_MAX_LENGTH

INTEGRAL_TYPES = {"long", "integer", "int"}
BOOLEAN_CHOICES = [("true", "Yes"), ("false", "No")]


def _as_dict(field: Any) -> dict[str, Any]:
    if is_dataclass(field) and not isinstance(field, type):
        return asdict(field)
    return dict(field)


def _number_attrs(spec: Mapping[str, Any]) -> dict[str, Any]:
    integral = spec["type"].lower() in INTEGRAL_TYPES
    attrs: dict[str, Any] = {
        "step": "1" if integral else "any",
        "inputmode": "numeric" if integral else "decimal",
    }
    for attr, inclusive, exclusive in (
        ("min", "minimum", "exclusive_minimum"),
        ("max", "maximum", "exclusive_maximum"),
    ):
        bound = (
            spec.get(inclusive)
            if spec.get(inclusive) is not None
            else spec.get(exclusive)
        )
        if bound is not None:
            attrs[attr] = _number_text(bound)
    return attrs


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _widget(spec: Mapping[str, Any]) -> forms.Widget:
    kind = spec["type"].lower()
    if kind == "boolean":
        return forms.RadioSelect(choices=BOOLEAN_CHOICES)
    if kind == "enum":
        options = [(str(value), str(name)) for value, name in spec.get("options") or ()]
        return forms.Select(choices=[("", "Choose…"), *options])
    if kind in NUMBER_TYPES:
        return forms.NumberInput(attrs=_number_attrs(spec))
    if kind == "date":
        return forms.DateInput(attrs={"type": "date"})
    if spec.get("widget") == "textarea" or kind == "text":
        attrs = {"rows": 5}
        if spec.get("max_length"):
            attrs["data-max-length"] = spec["max_length"]
        return forms.Textarea(attrs=attrs)
    return forms.TextInput()


def _help_text(spec: Mapping[str, Any]) -> str:
    hints = [
        f"{text} {_number_text(spec[name])}"
        for name, text in (
            ("exclusive_minimum", "more than"),
            ("minimum", "at least"),
            ("exclusive_maximum", "less than"),
            ("maximum", "at most"),
        )
        if spec.get(name) is not None
    ]
    if spec.get("min_length"):
        hints.append(f"at least {spec['min_length']} characters")
    if spec.get("max_length"):
        hints.append(f"up to {spec['max_length']} characters")
    return "; ".join(hints).capitalize() + "." if hints else ""


def initial_text(spec: Mapping[str, Any], value: Any) -> str:
    """Return a stored value as the string an input shows (booleans as true/false)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if (
        isinstance(value, float)
        and value.is_integer()
        and spec["type"].lower() in NUMBER_TYPES
    ):
        return str(int(value))
    return str(value)


class ProcessForm(forms.Form):
    """A start or task form; `fields_spec` are FormField dataclasses or their dicts."""

    prefix = "f"
    required_css_class = "required"

    def __init__(
        self,
        fields_spec: Iterable[Any],
        *args: Any,
        values: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.specs = [_as_dict(f) for f in fields_spec]
        values = values or {}
        initial = {
            spec["id"]: initial_text(spec, values.get(spec["id"], spec.get("default")))
            for spec in self.specs
        }
        super().__init__(*args, **{**kwargs, "initial": initial})
        for spec in self.specs:
            self.fields[spec["id"]] = forms.CharField(
                label=spec.get("label") or spec["id"],
                required=bool(spec.get("required")),
                disabled=bool(spec.get("readonly")),
                widget=_widget(spec),
                help_text=_help_text(spec),
                strip=False,
            )
        self.use_required_attribute = True

    def submitted(self) -> dict[str, str | None]:
        """Return the raw strings typed for each editable field (missing ones as "").

        An enum's "Choose…" (nothing chosen) is null, no value, as Camunda 7's
        EnumFormType takes it; "" is none of the enum's values.
        """
        typed: dict[str, str | None] = {}
        for spec in self.specs:
            if spec.get("readonly"):
                continue
            text = self.data.get(self.add_prefix(spec["id"]), "")
            chosen = text or spec["type"].lower() != "enum"
            typed[spec["id"]] = text if chosen else None
        return typed

    def show_errors(
        self, errors: Mapping[str, Iterable[str]], message: str = ""
    ) -> None:
        """Attach the service's per-field messages (unknown keys become form errors)."""
        self.is_valid()  # binds cleaned_data so add_error() may run
        for name in list(self.errors):
            del self.errors[name]  # the service, not Django, decides what is wrong
        for name, messages in errors.items():
            target = name if name in self.fields else None
            for message in messages:
                self.add_error(target, message if target else f"{name}: {message}")


class BusinessKeyForm(forms.Form):
    business_key = forms.CharField(
        label="Business key",
        required=False,
        max_length=BUSINESS_KEY_MAX_LENGTH,
        help_text="Optional: your own reference, e.g. an order number.",
    )


class CaseCancelForm(forms.Form):
    reason = forms.CharField(label="Reason", required=False, max_length=500)
    # Camunda 7's skipCustomListeners: unticked, the end listeners run.
    skip_custom_listeners = forms.BooleanField(
        label="Skip custom listeners", required=False
    )


class TaskUserForm(forms.Form):
    """Whom to assign or delegate a task to."""

    user = forms.CharField(max_length=150)


class TaskPlanForm(forms.Form):
    """A task's due date (empty clears it) and priority."""

    due_at = forms.DateTimeField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        label="Due",
    )
    priority = forms.IntegerField(
        min_value=PRIORITY_RANGE.start,
        max_value=PRIORITY_RANGE.stop - 1,
        widget=forms.NumberInput(attrs={"step": "1", "inputmode": "numeric"}),
        help_text="A whole number; normal is 50, higher is more urgent.",
    )


class FormJsSubmission:
    """A Camunda Form (form-js) on the task or start page: what it shows and what
    was sent.

    The browser's form-js viewer posts its data as JSON (`form_js_data`) and the
    files of its file pickers under the viewer's `files::<key>` names; the
    service validates them. On errors the page shows the data as typed, the
    messages per field (by dotted key) and a summary.
    """

    def __init__(
        self, schema: Any, initial: Mapping[str, Any], request: Any = None
    ) -> None:
        self.schema = schema
        self.initial: dict[str, Any] = dict(initial)
        self.data: Any = self.initial
        self.files: dict[str, list[Any]] = {}
        self.unreadable = ""
        self.field_errors: dict[str, list[str]] = {}
        self.message = ""
        if request is not None:
            self.files = {
                name: request.FILES.getlist(name)
                for name in request.FILES
                if name.startswith("files::")
            }
            try:
                self.data = json.loads(request.POST.get("form_js_data") or "{}")
            except ValueError:
                self.unreadable = "The form's data did not arrive as JSON."
                self.data = {}

    @classmethod
    def of_task(cls, task: Any, request: Any = None) -> "FormJsSubmission":
        """The form of a task: the variables it sees (the case data, its local
        ones over them), then a delegate's draft, shown."""
        return cls(task.form_js, {**task.variables, **(task.draft or {})}, request)

    @property
    def shown(self) -> Any:
        """Return what the viewer shows: the case data, then what was typed."""
        if not isinstance(self.data, dict):
            return self.initial
        return {**self.initial, **self.data}

    def show_errors(
        self, errors: Mapping[str, Iterable[str]], message: str = ""
    ) -> None:
        self.field_errors = {key: list(found) for key, found in errors.items()}
        self.message = message

    @property
    def error_rows(self) -> list[tuple[str, list[str]]]:
        labels = form_js_labels(self.schema or {})
        return [(labels.get(k, k), v) for k, v in self.field_errors.items()]

    @property
    def errors(self) -> bool:
        return bool(self.field_errors or self.message)
