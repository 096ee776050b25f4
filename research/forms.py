from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from surveys import access
from surveys.models import Membership, Wave
from surveys.permissions import MANAGE_AGREEMENTS

from .models import ExportJob
from .services import covers


class WaveChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, wave):
        return f"{wave.series.name} / {wave.label} ({wave.get_status_display().lower()})"


def published_waves_of(schools):
    """Published waves of series covering any of these schools: their own series, or
    district-wide ones (a series without a school), which `covers` checks."""
    schools = list(schools)
    published = (Wave.objects.filter(status=Wave.Status.PUBLISHED)
                 .filter(Q(series__school__in=schools) | Q(series__school__isnull=True))
                 .select_related("series"))
    ids = [w.id for w in published if any(covers(w.series, s) for s in schools)]
    return Wave.objects.filter(id__in=ids).select_related("series").order_by("starts_on", "id")


class AgreementForm(forms.Form):
    # Labels spelt out (as Django would derive them) so that they are translated.
    researcher = forms.ModelChoiceField(label=_("Researcher"),
                                        queryset=get_user_model().objects.none())
    schools = forms.ModelMultipleChoiceField(label=_("Schools"), queryset=None,
                                             widget=forms.CheckboxSelectMultiple)
    waves = WaveChoice(label=_("Waves"), queryset=None, widget=forms.CheckboxSelectMultiple,
                       help_text=_("Published waves only."))
    purpose = forms.CharField(label=_("Purpose"), widget=forms.Textarea(attrs={"rows": 3}),
                              max_length=4000)
    starts_on = forms.DateField(label=_("Starts on"),
                                widget=forms.DateInput(attrs={"type": "date"}))
    expires_on = forms.DateField(label=_("Expires on"),
                                 widget=forms.DateInput(attrs={"type": "date"}))
    k = forms.IntegerField(label=_("Minimum group size (k)"), min_value=settings.BELONGING_MIN_K,
                           max_value=settings.BELONGING_MAX_K,
                           initial=settings.BELONGING_DEFAULT_K)
    include_pseudonyms = forms.BooleanField(
        required=False, label=_("Include pseudonyms (linked series only)"),
        help_text=_("Re-keyed for this agreement: they link a student's waves within this "
                    "export and nothing else."))

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        schools = access.schools_for_user(user, MANAGE_AGREEMENTS)
        self.fields["schools"].queryset = schools
        self.fields["waves"].queryset = published_waves_of(schools)
        researchers = Membership.objects.filter(role=Membership.Role.RESEARCHER).filter(
            Q(school__in=schools) | Q(district__schools__in=schools))
        self.fields["researcher"].queryset = get_user_model().objects.filter(
            id__in=researchers.values("user_id")).order_by("username")
        self.fields["starts_on"].initial = timezone.localdate()


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=ExportJob.Format.choices)


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100,
                           help_text=_("What the token is for, e.g. 'laptop R'."))
