from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    """Login, its throttling and the optional second factor (docs/security.md)."""

    default = True
    name = "accounts"

    def ready(self):
        from . import signals  # noqa: F401


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin on a site that asks for the second factor (accounts.admin_site)."""

    default = False
    default_site = "accounts.admin_site.AdminSite"
