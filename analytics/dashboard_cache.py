"""The wave dashboard's page body, and the district page's, kept rendered in Django's
cache (Redis in production, local memory in the demo).

A published snapshot never changes, so the body of a dashboard is a function of:
the snapshot (id, version, fingerprint), the school whose part or document is shown
(and its name), the viewer's scope (every group, or exactly the classes a teacher may
see: `views.viewer_scope`), the group whose item answers are drawn, the language, the
snapshots a trend reads (an earlier wave published again changes the trend), and the
code and templates that render it. The key is a digest of all of these, so two viewers
share a body only when they may see exactly the same groups, and a miss renders the
same page. The body is rendered without the request (no user, no CSRF token): the site
header around it is rendered for every request.
"""

import hashlib
import json
import zlib
from functools import cache
from pathlib import Path

from django.core.cache import cache as django_cache
from django.utils import translation

SECONDS = 24 * 3600
ROOT = Path(__file__).resolve().parent

# What renders the body: a deploy that changes any of it changes every key. The
# compiled translations too: a body is kept per language (`page_key`).
SOURCES = ["dashboards.py", "district_tables.py", "views.py", "dashboard_cache.py",
           "practices.py", "practices.yaml", "templatetags/dashboard.py", "presentation.py",
           "wording.py"]


@cache
def code_version():
    digest = hashlib.sha256()
    templates = sorted([*(ROOT.parent / "templates" / "analytics").glob("*.html"),
                        *(ROOT.parent / "templates" / "district").glob("_*.html")])
    catalogues = sorted((ROOT.parent / "locale").glob("*/LC_MESSAGES/django.mo"))
    for path in [ROOT / name for name in SOURCES] + templates + catalogues:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def page_key(snapshot, school, scope, group, trend_ids):
    """`scope`: None (every group) or the set of group keys the viewer may see."""
    parts = [code_version(), snapshot.pk, snapshot.version, snapshot.fingerprint,
             snapshot.created_at.isoformat(), school.pk if school else None,
             school.name if school else None,
             None if scope is None else sorted(scope), group,
             translation.get_language(), list(trend_ids)]
    return "dashboard:" + hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def district_key(district, shown, schools):
    """The district page's body (analytics.district_tables): the snapshots it shows with
    their waves' labels and series' names (`shown`), the district's schools by id and
    name (a school renamed, added, or not yet published), its k and the language."""
    parts = [code_version(), "district", district.pk, district.min_cell_size, shown,
             [list(s) for s in schools], translation.get_language()]
    return "district:" + hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def read(key):
    stored = django_cache.get(key)
    if stored is None:
        return None
    return json.loads(zlib.decompress(stored))


def store(key, page):
    """Compressed: a school's body is hundreds of KB of HTML, about a tenth zipped."""
    django_cache.set(key, zlib.compress(json.dumps(page).encode(), 3), SECONDS)
