from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    """`mapping|get_item:key` for dictionaries keyed by runtime values (branch names)."""
    return mapping.get(key)
