"""Pages rendered into the page cache as soon as a wave is published, so the first
leader to open them does not wait for the rendering (`tasks.warm_pages`, enqueued by
`publish_finish`).

A publication changes the wave's dashboard and its district's page. What is warmed is
what renders slowest cold and is shared by every viewer who sees every group: the
wave's dashboard as its leaders see it (a school series' document) or as the district's
staff see it (a district-wide wave's district level), and the district page; each in
every language of the site. Teachers' views (their own classes) and one school's part
of a district-wide wave are rendered on their first request, as before: there are
many of them and each is quick (docs/performance.md, "Pages warmed after publishing").

The bodies are the ones a request would render (`views.dashboard_body`,
`views.district_body`, under the same cache keys), and the keys name the snapshots
they show, so a warmed page can never outlive its publication. Access is unchanged:
every request passes its access check before the cache is read.
"""

from django.conf import settings
from django.utils import translation

from . import views
from .models import Snapshot


def warm_pages(snapshot_id):
    """Render the wave's dashboard (every group) and its district's page, in each
    language, into the page cache. Nothing when a newer version of the wave's snapshot
    exists (its own warming covers it). Returns the number of pages rendered or found."""
    snapshot = (Snapshot.objects.defer("data", "audit")
                .select_related("wave__series__school__district", "wave__series__district")
                .get(pk=snapshot_id))
    wave = snapshot.wave
    if Snapshot.objects.filter(wave=wave, version__gt=snapshot.version).exists():
        return 0
    series = wave.series  # a district-wide series has no school: its district level
    pages = 0
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            views.dashboard_body(wave, snapshot, series.school, False, None)
            views.district_body(series.owner_district)
            pages += 2
    return pages
