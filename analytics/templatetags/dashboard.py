import json

from django import template
from django.utils.translation import gettext

from analytics import wording
from analytics.models import page_strings
from analytics.scoring import COMPONENTS

register = template.Library()


@register.filter
def get(mapping, key):
    if not mapping:
        return None
    return mapping.get(key)


@register.filter
def banded(display):
    """A published value's text in the reader's language: a band's words translated."""
    return wording.band(display)


@register.filter
def pct(value):
    """A published percentage: a number, or an already banded string such as '>=95%'."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return banded(value)
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
def component_name(component):
    """A component ('perceptions') as a heading names it, in the reader's language."""
    text = wording.component_name(component)
    return text[:1].upper() + text[1:]


@register.filter
def label(key):
    """A measure key such as 'perceptions:not_validated' as words."""
    component, _sep, rest = str(key).partition(":")
    if component not in COMPONENTS or rest not in ("", "not_validated"):
        return str(key).replace(":not_validated", " (not validated)").replace("_", " ")
    words = component_name(component).lower()
    return f"{words} {gettext('(not validated)')}" if rest else words


@register.simple_tag
def publishing_strings():
    """The words static/js/publishing.js shows a run in (analytics.models.page_strings),
    as JSON for a data- attribute."""
    return json.dumps(page_strings(), ensure_ascii=False)


@register.filter
def in_language(texts):
    """Of a published {language: text} (an item's text), the reader's language's, else
    the English."""
    return wording.in_language(texts) if texts else texts
