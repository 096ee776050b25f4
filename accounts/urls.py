from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.verify, name="login-verify"),
    path("account/security/", views.security, name="account-security"),
]
