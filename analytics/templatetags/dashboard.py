from django import template

register = template.Library()


@register.filter
def get(mapping, key):
    if not mapping:
        return None
    return mapping.get(key)


@register.filter
def pct(value):
    """A published percentage: a number, or an already banded string such as '>=95%'."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    return f"{value}%"
