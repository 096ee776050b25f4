""".sav and .dta read the responses once (`spool.py`) and make the privacy plan on a grain
counted in pandas; it must be the grain PostgreSQL counts, or a file could leave with
classes the plan never saw. Both are compared here on the same responses, skipped
answers included, for an anonymous and a linked export."""

import uuid

import numpy as np
import pandas as pd
import pytest

from analytics.exporters import ExportScope, export, source, spool
from surveys import services
from surveys.models import Response, Series
from surveys.pseudonyms import series_pseudonym

from .test_exporters import GENDERS, pycanon_k_l, read_back


def field_with_gaps(world, per_class=40, linked=False):
    """Responses in each Hilltop class; some answers skipped, some responses nearly empty
    (below the 80% rule, so without a band)."""
    rng = np.random.default_rng(11)
    wave, leader = world["wave"], world["leader"]
    services.open_wave(wave, by=leader)
    rows = []
    for name in ("7A", "7B", "8A"):
        session = services.open_session(wave, world["classes"][name], by=leader)
        for i in range(per_class):
            answers = rng.integers(1, 5, 6).astype(object)
            answers[rng.random(6) < (0.6 if i % 9 == 0 else 0.05)] = None
            rows.append(Response(
                client_id=uuid.uuid4(), wave=wave, session=session,
                class_group=session.class_group, school=world["school"],
                year_level=session.class_group.year_level,
                pseudonym=series_pseudonym(wave.series, f"{name}-{i}") if linked else None,
                gender=str(rng.choice(GENDERS[0], p=GENDERS[1])),
                **{f"v{j + 1:02d}": a for j, a in enumerate(answers)}))
    Response.objects.bulk_create(rows)
    services.close_wave(wave, by=leader)


def canonical(grain):
    keys = [c for c in grain.columns if c != "n"]
    frame = grain.astype({"n": np.int64}).copy()
    for c in keys:
        frame[c] = frame[c].astype(object).where(frame[c].notna(), None).astype(str)
    return frame.sort_values(keys).reset_index(drop=True)[sorted(frame.columns)]


@pytest.mark.parametrize("linked", [False, True])
def test_the_spooled_grain_is_the_sql_grain(world, linked):
    if linked:
        Series.objects.filter(pk=world["series"].pk).update(mode=Series.Mode.LINKED)
    field_with_gaps(world, linked=linked)
    scope = ExportScope(agreement_id="agr", wave_ids=(world["wave"].id,),
                        school_ids=(world["school"].id,), k=10, include_pseudonyms=linked)
    layout = source.load_layout(scope)
    sql = pd.concat([source.grain(w, layout.school_ids, pseudonyms=linked)
                     for w in layout.waves], ignore_index=True)
    spooled = spool.read(layout, 17, pseudonyms=linked)  # several chunks per wave
    assert len(spooled.chunks) > 1
    ours = spooled.grain()
    assert ours["n"].sum() == sql["n"].sum() == 120
    assert sql["band_perceptions"].isna().any()  # some responses have no band
    pd.testing.assert_frame_equal(canonical(ours), canonical(sql))


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_single_pass_formats_release_what_the_csv_releases(world, tmp_path, fmt):
    field_with_gaps(world)
    scope = ExportScope(agreement_id="agr", wave_ids=(world["wave"].id,),
                        school_ids=(world["school"].id,), k=10)
    csv_result = export(scope, "csv", str(tmp_path / "csv"))
    result = export(scope, fmt, str(tmp_path / fmt))
    for key in ("generalisations", "records_removed", "records_locally_suppressed"):
        assert result.report[key] == csv_result.report[key]
    frame, rows = read_back(result), read_back(csv_result)
    assert len(frame) == len(rows) == result.rows
    assert sorted(frame["band_perceptions"].replace("", None).dropna()) == sorted(
        rows["band_perceptions"].replace("", None).dropna().map(
            {"low": "Low third of the scale range", "middle": "Middle third",
             "high": "High third"}))
    k_found, l_found = pycanon_k_l(frame)
    assert k_found >= 10 and l_found >= 2
