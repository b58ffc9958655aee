"""A task keeps its form as `dataclasses.asdict` of each field gave it (written
without asdict's recursive copy, issue #16)."""

from dataclasses import asdict, fields

from engine.form_validation import form_clean_json, form_to_json
from engine.spiff.types import FormField


def test_a_form_is_kept_as_asdict_gives_it():
    form = [
        FormField(id="approved", label="Approve?", type="boolean", required=True),
        FormField(
            id="level",
            label="Level",
            type="enum",
            options=(("low", "Low"), ("high", "High")),
            default="low",
        ),
        FormField(
            id="amount",
            label="Amount",
            type="double",
            minimum=0.5,
            exclusive_maximum=10.0,
            readonly=False,
        ),
        FormField(id="note", label="Note", type="text", min_length=1, max_length=9),
    ]
    kept = form_to_json(form)
    assert kept == [asdict(f) for f in form]
    assert [list(k) for k in kept] == [[f.name for f in fields(FormField)]] * 4
    kept[1]["options"] = ()  # the kept JSON is the task's own
    assert form[1].options == (("low", "Low"), ("high", "High"))
    # Camunda 7 (FormFieldHandler.handleSubmit): a field left out takes its
    # default, else leaves its variable as it is.
    assert form_clean_json(form_to_json(form), {"approved": True, "level": "high"}) == {
        "approved": True,
        "level": "high",
    }
    assert form_clean_json(form_to_json(form), {"approved": True}) == {
        "approved": True,
        "level": "low",
    }
