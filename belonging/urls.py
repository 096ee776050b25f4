from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from surveys import views as survey_views

urlpatterns = [
    path("", survey_views.home, name="home"),
    path("", include("accounts.urls")),  # login, its code step, two-factor settings
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("health/", include("surveys.health_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("surveys.api_urls")),
    path("api/v1/", include("analytics.api_urls")),
    path("api/v1/", include("research.api_urls")),
    path("", include("surveys.urls")),
    path("", include("analytics.urls")),
    path("", include("research.urls")),
]
