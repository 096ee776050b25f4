"""The admin site: staff log in through the platform's own login page (throttled, with
its second step), and a user who has a two-factor device must have used it."""

from urllib.parse import urlencode

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import reverse

from . import twofactor


class AdminSite(admin.AdminSite):
    def has_permission(self, request):
        return super().has_permission(request) and twofactor.is_satisfied(request)

    def login(self, request, extra_context=None):
        target = request.GET.get("next") or reverse("admin:index")
        return redirect(f"{reverse('login')}?{urlencode({'next': target})}")
