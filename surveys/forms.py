from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .demographics import DEMOGRAPHIC_BANDS
from .models import Instrument, Series, Wave


class SeriesForm(forms.Form):
    # Labels spelt out (as Django would derive them) so that they are translated.
    name = forms.CharField(label=_("Name"), max_length=200)
    instrument = forms.ModelChoiceField(label=_("Instrument"),
                                        queryset=Instrument.objects.filter(enabled=True))
    mode = forms.ChoiceField(label=_("Mode"), choices=Series.Mode.choices)
    consent_mode = forms.ChoiceField(label=_("Consent mode"), choices=Series.Consent.choices)
    min_cell_size = forms.IntegerField(
        label=_("Minimum group size (k)"),
        min_value=settings.BELONGING_MIN_K, max_value=settings.BELONGING_MAX_K,
        initial=settings.BELONGING_DEFAULT_K,
    )
    demographics = forms.MultipleChoiceField(
        label=_("Demographics"),
        choices=[(key, band["label"]) for key, band in DEMOGRAPHIC_BANDS.items()],
        required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Ask only what you will report on. Every question offers 'prefer not to say'."),
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages students may answer in"), choices=settings.LANGUAGES,
        initial=[code for code, _name in settings.LANGUAGES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one language.")},
    )
    retention_months = forms.IntegerField(
        label=_("Keep raw responses for (months)"), min_value=1, max_value=120, initial=12,
        help_text=_("After the last wave closes, raw responses are deleted once this many "
                    "months have passed; published results stay."),
    )

    def clean(self):
        data = super().clean()
        instrument, languages = data.get("instrument"), data.get("languages")
        if instrument is not None and languages:
            offered = instrument.definition.get("languages", ["en"])
            missing = [code for code in languages if code not in offered]
            if missing:
                self.add_error("languages", _(
                    "%(instrument)s has no text in %(languages)s; it offers %(offered)s.") % {
                    "instrument": instrument, "languages": ", ".join(missing),
                    "offered": ", ".join(offered)})
        return data

    def series_options(self):
        """The cleaned fields as keyword arguments of services.create_series."""
        data = self.cleaned_data
        return {key: data[key] for key in ("name", "instrument", "mode", "consent_mode",
                                           "min_cell_size", "demographics", "languages",
                                           "retention_months")}


class DistrictSeriesForm(SeriesForm):
    """A district-wide series: the school form's fields, k never below the district's."""

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, **kwargs)
        self.district = district
        k = self.fields["min_cell_size"]
        k.initial = max(district.min_cell_size, settings.BELONGING_DEFAULT_K)
        k.help_text = _("No number is shown for a group smaller than this; at least "
                        "%(k)s, the district's.") % {"k": district.min_cell_size}
        self.fields["mode"].help_text = _(
            "Linked: a student's answers are linked across waves by a pseudonym of their "
            "student number, so student numbers must be unique across the district.")

    def clean_min_cell_size(self):
        k = self.cleaned_data["min_cell_size"]
        if k < self.district.min_cell_size:
            raise forms.ValidationError(
                _("The minimum group size cannot be below the district's (%(k)s).")
                % {"k": self.district.min_cell_size})
        return k


class WaveForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=100)
    season = forms.ChoiceField(label=_("Season"), choices=Wave.Season.choices)
    starts_on = forms.DateField(label=_("Starts on"),
                                widget=forms.DateInput(attrs={"type": "date"}))


class JoinForm(forms.Form):
    code = forms.CharField(
        label=_("The code from your teacher"), max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters",
                                      "spellcheck": "false", "inputmode": "text"}),
    )
