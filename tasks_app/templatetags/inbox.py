"""Template filters of the inbox pages."""

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    """Return mapping[key], or None (a business-data column a task lacks)."""
    return mapping.get(key) if isinstance(mapping, dict) else None
