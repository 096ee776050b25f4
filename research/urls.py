from django.urls import path

from . import views

urlpatterns = [
    path("research/agreements/", views.agreements, name="research-agreements"),
    path("research/agreements/<str:public_id>/revoke/", views.revoke, name="research-revoke"),
    path("research/", views.exports, name="research-exports"),
    path("research/agreements/<str:public_id>/exports/", views.request_export,
         name="research-request"),
    path("research/exports/<str:public_id>/download/", views.download,
         name="research-download"),
    path("research/tokens/", views.create_token, name="research-token-create"),
    path("research/tokens/<str:public_id>/revoke/", views.revoke_token,
         name="research-token-revoke"),
]
