"""The researcher's exports page in Chromium under the strict CSP: the progress bar and
state follow the job without a reload (static/js/exports.js polling the status API), a
failure shows its reason, a finished job offers its download; axe finds no violation."""

import pytest

from research import jobs
from research.models import ExportJob
from tests.browser.conftest import axe_violations, screenshot
from tests.research.conftest import make_agreement, publish_wave

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base, username):
    page.goto(f"{base}/login/?next=/research/")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct horse battery")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/research/")


def row(page, job):
    return page.locator(f"tr.job[data-status-url$='/{job.public_id}/status/']")


def test_progress_failure_and_download_update_without_reload(page, live_server, world):
    csp, failed = [], []
    page.on("console", lambda m: csp.append(m.text) if "Content Security" in m.text else None)
    page.on("response", lambda r: failed.append(r.url)
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    agreement = make_agreement(world, [publish_wave(world, world["wave"])])
    new = {"agreement": agreement, "requested_by": world["researcher"]}
    slow = ExportJob.objects.create(format="csv", **new)
    ready = ExportJob.objects.create(format="parquet", **new)
    log_in(page, live_server.url, "researcher")
    assert row(page, slow).locator(".job-state").inner_text() == "Waiting to start"
    assert row(page, ready).locator(".job-download").is_hidden()
    page.evaluate("() => { window.notReloaded = true; }")

    claimed = jobs.claim_job(slow.id)
    jobs._progress_for(claimed)(60, "writing rows")
    bar = row(page, slow).locator("progress")
    page.wait_for_function("(el) => el.value === 60", arg=bar.element_handle(),
                           timeout=10_000)
    assert row(page, slow).locator(".job-state").inner_text() == "Running: writing rows"

    jobs.fail_job(claimed, "k = 10 cannot be met: drop year level.")
    error = row(page, slow).locator(".job-error")
    error.wait_for(state="visible")
    assert error.inner_text() == "k = 10 cannot be met: drop year level."

    done = jobs.run_job(ready.id)  # the real exporter
    link = row(page, ready).locator(".job-download")
    link.wait_for(state="visible")
    assert link.inner_text() == f"Download {done.file_name}"
    assert page.evaluate("() => window.notReloaded") is True
    screenshot(page, "research-exports")
    assert axe_violations(page) == []
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == done.file_name
    assert csp == [] and failed == []  # no CSP violation, no failed request (polls incl.)


def test_a_leader_creates_and_revokes_an_agreement_in_the_browser(page, live_server, world):
    from datetime import timedelta

    from django.utils import timezone

    from research.models import Agreement

    wave = publish_wave(world, world["wave"])
    page.goto(f"{live_server.url}/login/?next=/research/agreements/")
    page.fill("#id_username", "leader")
    page.fill("#id_password", "correct horse battery")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/research/agreements/")
    assert axe_violations(page) == []
    page.select_option("#id_researcher", label="researcher")
    page.check(f"input[name=schools][value='{world['school'].pk}']")
    page.check(f"input[name=waves][value='{wave.pk}']")
    page.fill("#id_purpose", "Transition study")
    page.fill("#id_expires_on", str(timezone.localdate() - timedelta(days=1)))
    page.click("main form.stack button[type=submit]")
    assert "The expiry date must be in the future." in page.inner_text("main")
    assert axe_violations(page) == []  # the page with its errors too
    page.fill("#id_expires_on", str(timezone.localdate() + timedelta(days=30)))
    page.click("main form.stack button[type=submit]")
    agreement = Agreement.objects.get()
    page.get_by_role("button", name=f"Revoke agreement {agreement.public_id}").click()
    assert "Agreement revoked" in page.inner_text("main")
    agreement.refresh_from_db()
    assert agreement.revoked_at is not None
