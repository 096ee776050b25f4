"""Issue 6, "Done when": the k-anonymity and l-diversity checks pass on the demo's
exports. The demo seed (`manage.py seed_demo`, what `make demo-setup` runs) gives the
`researcher` login an active agreement; every format is requested under it through the
API with the researcher's token, run by (eager) Celery, downloaded and read back, and
pycanon measures k and l on each response-level file."""

import json

import pyreadstat
from django.contrib.auth.models import User
from django.core.management import call_command

from research.models import Agreement, ApiToken, ExportJob
from surveys.instruments import load_all
from surveys.models import School, Wave
from tests.analytics.test_exporters import pycanon_k_l

from .test_full_jobs import FORMATS, data_frame, members, run_through_api


def seed_demo():
    load_all()
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))
    researcher = User.objects.get(username="researcher")
    return researcher, Agreement.objects.get(researcher=researcher)


def check_agreement(agreement):
    assert agreement.is_active
    hilltop = School.objects.get(name="Hilltop Secondary")
    assert list(agreement.schools.all()) == [hilltop]
    waves = agreement.waves.all()
    assert waves.count() == 5  # Hilltop's three and the district-wide series' two
    assert all(w.status == Wave.Status.PUBLISHED for w in waves)
    assert agreement.k == 10 and not agreement.include_pseudonyms


def labelled_frame(fmt, files, tmp_path):
    """A .sav or .dta read back with its value labels applied, and its metadata."""
    (name, body), = [(n, b) for n, b in files.items() if n.endswith(f".{fmt}")]
    path = tmp_path / name
    path.write_bytes(body)
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    return reader(str(path), apply_value_formats=True)


def check_response_file(fmt, files, job, k, tmp_path):
    """pycanon's k and l on the file as the researcher downloaded it."""
    if fmt in ("sav", "dta"):
        frame, meta = labelled_frame(fmt, files, tmp_path)
        assert meta.variable_value_labels["band_perceptions"]
        assert meta.column_names_to_labels["score_perceptions"].startswith("Perceptions")
    else:
        frame = data_frame(fmt, files, tmp_path)[0]
        frame = frame.astype(object).where(frame.notna(), "")
    k_found, l_found = pycanon_k_l(frame)
    assert k_found >= k and l_found >= 2, fmt
    report = json.loads(next(b for n, b in files.items() if n.endswith("-report.json")))
    assert len(frame) == job.rows == report["records_out"] > 500
    assert report["measured"]["k"] == k_found
    assert frame["wave"].nunique() == 5
    return k_found, l_found


def test_every_demo_export_passes_the_k_and_l_checks(db, client, tmp_path,
                                                     django_capture_on_commit_callbacks):
    researcher, agreement = seed_demo()  # once: it takes a while
    check_agreement(agreement)
    token = ApiToken.issue(researcher, "demo")[1]
    measured = {}
    for fmt in FORMATS:
        download = run_through_api(client, agreement, token, fmt,
                                   django_capture_on_commit_callbacks)
        job = ExportJob.objects.get(format=fmt)
        assert job.status == ExportJob.Status.DONE, (fmt, job.error)
        assert download.status_code == 200, fmt
        files = members(download)
        if fmt in ("codebook", "summary"):
            assert any(n.endswith(".json") for n in files), fmt
        else:
            measured[fmt] = check_response_file(fmt, files, job, agreement.k,
                                                tmp_path)
    assert set(measured) == {"csv", "parquet", "sav", "dta"}
    assert len(set(measured.values())) == 1  # every format releases the same classes
