from django.urls import path

from . import api

urlpatterns = [
    path(
        "sessions/<str:public_id>/responses/", api.SubmitResponse.as_view(), name="api-submit"
    ),
    path(
        "sessions/<str:public_id>/participation/",
        api.SessionParticipation.as_view(),
        name="api-session-participation",
    ),
]
