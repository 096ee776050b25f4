from django.urls import path

from . import views

urlpatterns = [
    path("results/", views.results_home, name="results-home"),
    path("waves/<str:public_id>/dashboard/", views.wave_dashboard, name="wave-dashboard"),
    path("districts/<str:public_id>/results/", views.district_dashboard,
         name="district-dashboard"),
]
