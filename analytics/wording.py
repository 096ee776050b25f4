"""English texts kept in the database or in published documents, shown in the reader's
language.

What is stored stays English, whoever's request wrote it (a published document never
changes, and the REST API gives a run's step as recorded). A page translates such a text
when it shows it, by reading it back against the English template it was made from:
the template's placeholders match the values filled in, and the template's translation
is filled with them again. A text that matches no template is shown as stored.
"""

import re
from functools import cache

from django.utils.translation import get_language, gettext, gettext_noop

from surveys.models import Item

PLACEHOLDER = re.compile(r"%\\\((\w+)\\\)s")
# A banded value as analytics.disclosure publishes it ("95% or more", "1.15 or less").
BANDS = (gettext_noop("%(bound)s or more"), gettext_noop("%(bound)s or less"))


def language():
    """The active language's code without a region ("es")."""
    return (get_language() or "en").split("-")[0]


def english():
    return language() == "en"


def in_language(texts):
    """Of a published {language: text} (an item's text, a scale's labels, a title), the
    one in the active language, else the English."""
    return texts.get(language()) or texts["en"]


@cache
def pattern(template):
    """A regular expression matching `template` (English, with %(name)s placeholders,
    %% for a percent sign) filled in: each placeholder a named group."""
    escaped = re.escape(template.replace("%%", "%"))
    return re.compile(PLACEHOLDER.sub(r"(?P<\1>.+?)", escaped) + r"\Z", re.S)


def reword(text, templates, words=None):
    """`text` in the active language when it is one of `templates` filled in (`words`:
    {placeholder: {matched text: its words}} for values that are words, such as a
    season); else `text` unchanged."""
    if not text or english():
        return text
    for template in templates:
        match = pattern(template).match(text)
        if match is None:
            continue
        values = {name: str((words or {}).get(name, {}).get(value, value))
                  for name, value in match.groupdict().items()}
        return gettext(template) % values
    return text


def band(display):
    """A published value's text in the active language: a band's words translated
    around its bound, anything else (a number, None) as it is."""
    return reword(display, BANDS) if isinstance(display, str) else display


def component_name(component):
    """A component ("perceptions") as a heading names it, in the active language: the
    label of `surveys.models.Item.Component`."""
    label = dict(Item.Component.choices).get(component)
    return str(label) if label is not None else component.capitalize()
