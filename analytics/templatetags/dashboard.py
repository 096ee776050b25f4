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


@register.filter
def signed(value):
    """A published or derived difference with its sign: +0.24, −0.08, 0.00."""
    if value is None:
        return "–"
    if value > 0:
        return f"+{value:.2f}"
    if value < 0:
        return f"−{abs(value):.2f}"
    return "0.00"


@register.filter
def at(sequence, index):
    try:
        return sequence[index]
    except (IndexError, KeyError, TypeError):
        return None


@register.filter
def label(key):
    """A measure key such as 'perceptions:not_validated' as words."""
    return str(key).replace(":not_validated", " (not validated)").replace("_", " ")
