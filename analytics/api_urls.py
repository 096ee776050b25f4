from django.urls import path

from . import api

urlpatterns = [
    path("waves/", api.WaveList.as_view(), name="api-waves"),
    path("waves/<str:public_id>/snapshot/", api.WaveSnapshot.as_view(), name="api-wave-snapshot"),
    path("waves/<str:public_id>/publishing/", api.WavePublishing.as_view(),
         name="api-wave-publishing"),
]
