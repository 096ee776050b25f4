"""The demographic bands a series may ask for. Each always offers "prefer not to say".

Minimisation (DESIGN.md, privacy rule 7): a series asks only the bands it lists.
"""

from django.utils.translation import gettext_lazy as _

PREFER_NOT = "prefer_not"

DEMOGRAPHIC_BANDS = {
    "gender": {
        "label": _("How do you describe your gender?"),
        "options": [
            ("girl", _("Girl")),
            ("boy", _("Boy")),
            ("another", _("In another way")),
            (PREFER_NOT, _("Prefer not to say")),
        ],
    },
    "home_language": {
        "label": _("Do you speak a language other than English at home?"),
        "options": [
            ("yes", _("Yes")),
            ("no", _("No")),
            (PREFER_NOT, _("Prefer not to say")),
        ],
    },
}


def band_values(band):
    return [value for value, _label in DEMOGRAPHIC_BANDS[band]["options"]]
