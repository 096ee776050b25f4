from django.urls import path

from . import views

urlpatterns = [
    path("waves/<str:public_id>/dashboard/", views.wave_dashboard, name="wave-dashboard"),
]
