"""Roles map to permission names; views and API endpoints declare the one they need."""

from rest_framework.permissions import BasePermission

from .models import Membership

Role = Membership.Role

RUN_SESSIONS = "run_sessions"
VIEW_PARTICIPATION = "view_participation"
VIEW_CLASS_RESULTS = "view_class_results"
VIEW_RESULTS = "view_results"
VIEW_DISTRICT = "view_district"
MANAGE_WAVES = "manage_waves"
RECORD_OPTOUTS = "record_optouts"
MANAGE_AGREEMENTS = "manage_agreements"
EXPORT = "export"
ERASE_DATA = "erase_data"  # erasure on request (surveys.erasure): leaders, own school
VIEW_AUDIT_LOG = "view_audit_log"  # the audit log page (surveys.audit_views)

ROLE_PERMISSIONS = {
    Role.TEACHER: {RUN_SESSIONS, VIEW_PARTICIPATION, VIEW_CLASS_RESULTS, RECORD_OPTOUTS},
    Role.LEADER: {
        RUN_SESSIONS,
        VIEW_PARTICIPATION,
        VIEW_CLASS_RESULTS,
        VIEW_RESULTS,
        MANAGE_WAVES,
        RECORD_OPTOUTS,
        MANAGE_AGREEMENTS,
        ERASE_DATA,
        VIEW_AUDIT_LOG,
    },
    Role.DISTRICT_ADMIN: {
        VIEW_PARTICIPATION,
        VIEW_CLASS_RESULTS,
        VIEW_RESULTS,
        VIEW_DISTRICT,
        MANAGE_WAVES,
        MANAGE_AGREEMENTS,
        VIEW_AUDIT_LOG,
    },
    Role.RESEARCHER: {EXPORT},
}

# Permissions a teacher holds only for the classes they teach.
CLASS_SCOPED = {RUN_SESSIONS, VIEW_PARTICIPATION, VIEW_CLASS_RESULTS, RECORD_OPTOUTS}


class HasSchoolPermission(BasePermission):
    """Checks that the user has the view's `permission` somewhere; the object-level
    check happens in surveys.access, which answers 404 for missing or forbidden."""

    def has_permission(self, request, view):
        from .access import user_permissions_anywhere

        need = getattr(view, "permission", None)
        user = request.user
        return bool(user and user.is_authenticated and need in user_permissions_anywhere(user))
