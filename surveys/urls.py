from django.urls import path, re_path

from . import audit_views, consent_views, district_views, erasure_views, student, views

urlpatterns = [
    path("teach/", views.teacher_home, name="teacher-home"),
    path("teach/sessions/open/", views.open_session, name="session-open"),
    path("teach/sessions/<str:public_id>/", views.session_detail, name="session-detail"),
    path(
        "teach/sessions/<str:public_id>/projector/",
        views.session_detail,
        {"projector": True},
        name="session-projector",
    ),
    path("teach/sessions/<str:public_id>/close/", views.close_session, name="session-close"),
    path("schools/<str:public_id>/", views.school_home, name="school-home"),
    path("schools/<str:public_id>/series/", views.create_series, name="series-create"),
    path("series/<str:public_id>/waves/", views.create_wave, name="wave-create"),
    re_path(
        r"^waves/(?P<public_id>[\w-]+)/(?P<action>open|close|publish)/$",
        views.wave_action,
        name="wave-action",
    ),
    path("districts/<str:public_id>/", views.district_home, name="district-home"),
    # District-wide series and their waves (district admins: surveys.district_views).
    path("districts/<str:public_id>/series/new/", district_views.create_series,
         name="district-series-create"),
    path("districts/<str:public_id>/series/<str:series_id>/", district_views.series_detail,
         name="district-series"),
    # Erasure on request and the audit log (surveys.erasure, surveys.audit_views).
    path("schools/<str:public_id>/erasure/", erasure_views.erasure_home, name="erasure-home"),
    path("schools/<str:public_id>/erasure/series/<str:series_id>/",
         erasure_views.erase_student, name="erasure-student"),
    path("schools/<str:public_id>/erasure/waves/<str:wave_id>/",
         erasure_views.erase_wave, name="erasure-wave"),
    path("schools/<str:public_id>/audit/", audit_views.school_log, name="audit-school"),
    path("districts/<str:public_id>/audit/", audit_views.district_log, name="audit-district"),
    path("join/", student.join, name="student-join"),
    path("s/<str:code>/", student.survey, name="student-survey"),
    path("s/<str:code>/thanks/", student.thanks, name="student-thanks"),
    # Opt-outs, consent and participation.
    path("teach/consent/", consent_views.consent_home, name="consent-home"),
    path(
        "teach/consent/<str:series_id>/<str:class_id>/",
        consent_views.consent_class,
        name="consent-class",
    ),
]
