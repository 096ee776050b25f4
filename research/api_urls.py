from django.urls import path

from . import api

urlpatterns = [
    path("agreements/", api.AgreementList.as_view(), name="api-agreements"),
    path("agreements/<str:public_id>/exports/", api.AgreementExports.as_view(),
         name="api-agreement-exports"),
    path("exports/<str:public_id>/", api.ExportDownload.as_view(), name="api-export"),
    path("exports/<str:public_id>/status/", api.ExportStatus.as_view(),
         name="api-export-status"),
]
