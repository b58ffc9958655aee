"""HTML forms of the processes app."""

from django import forms

from .columns import columns_problem, columns_split


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Zero or more files under one name (Django's documented pattern)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class VersionUploadForm(forms.Form):
    file = forms.FileField(
        label="BPMN file",
        help_text="A .bpmn file from Camunda Modeler or any BPMN 2.0 editor.",
        widget=forms.ClearableFileInput(attrs={"accept": ".bpmn,.xml"}),
    )
    dmn = MultipleFileField(
        label="DMN decision tables",
        required=False,
        help_text="Optional: the .dmn files the diagram's business rule tasks use.",
        widget=MultipleFileInput(attrs={"accept": ".dmn,.xml"}),
    )
    form_files = MultipleFileField(
        label="Form files",
        required=False,
        help_text=(
            "Optional: the forms the user tasks and the start event name: "
            "Camunda Forms (.form, "
            "Camunda Modeler) and SpiffArena JSON schemas and UI schemas (.json)."
        ),
        widget=MultipleFileInput(attrs={"accept": ".form,.json"}),
    )
    default_group = forms.CharField(
        label="Default candidate group",
        required=False,
        max_length=150,
        help_text="Offered the user tasks that name nobody, or whose candidates "
        "resolve to nobody (process-admins when empty).",
    )
    columns = forms.CharField(
        label="Inbox columns",
        required=False,
        max_length=500,
        help_text="Optional: case variables the inbox shows and searches, e.g. "
        "amount, requester (else the diagram's laneway:columns property).",
    )

    def clean_columns(self) -> list[str]:
        names = columns_split(self.cleaned_data["columns"])
        if problem := columns_problem(names):
            raise forms.ValidationError(problem)
        return names
