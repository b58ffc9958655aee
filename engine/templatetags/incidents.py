"""`{{ incident|incident_sentence }}`: what stopped a case, in a plain sentence."""

from django import template

from engine.incident_text import incident_sentence as _sentence
from engine.models import Incident

register = template.Library()


@register.filter
def incident_sentence(incident: Incident) -> str:
    """Return the plain sentence for an incident (engine.incident_text)."""
    return _sentence(incident)
