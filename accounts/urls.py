from django.urls import path
from django.views.i18n import set_language

from . import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.verify, name="login-verify"),
    path("account/security/", views.security, name="account-security"),
    # The login page's language switch: a plain POST form, no JavaScript (strict CSP).
    path("language/", set_language, name="set-language"),
]
