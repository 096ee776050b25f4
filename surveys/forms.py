from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .demographics import DEMOGRAPHIC_BANDS
from .models import Instrument, Series, Wave


class SeriesForm(forms.Form):
    name = forms.CharField(max_length=200)
    instrument = forms.ModelChoiceField(queryset=Instrument.objects.filter(enabled=True))
    mode = forms.ChoiceField(choices=Series.Mode.choices)
    consent_mode = forms.ChoiceField(choices=Series.Consent.choices)
    min_cell_size = forms.IntegerField(
        label=_("Minimum group size (k)"),
        min_value=settings.BELONGING_MIN_K, max_value=settings.BELONGING_MAX_K,
        initial=settings.BELONGING_DEFAULT_K,
    )
    demographics = forms.MultipleChoiceField(
        choices=[(key, band["label"]) for key, band in DEMOGRAPHIC_BANDS.items()],
        required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Ask only what you will report on. Every question offers 'prefer not to say'."),
    )


class WaveForm(forms.Form):
    label = forms.CharField(max_length=100)
    season = forms.ChoiceField(choices=Wave.Season.choices)
    starts_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


class JoinForm(forms.Form):
    code = forms.CharField(
        label=_("The code from your teacher"), max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters",
                                      "spellcheck": "false", "inputmode": "text"}),
    )
