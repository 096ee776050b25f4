"""The streaming SPSS writer (`analytics/exporters/savfile.py`), read back by pyreadstat
(ReadStat, the C library behind R's haven): values, system-missing, numbers the
bytecode cannot hold in one byte, text, labels cut on a character boundary, chunks that
end in the middle of a command group, and an empty file."""

import numpy as np
import pyreadstat
import pytest

from analytics.exporters.savfile import SavWriter, Variable

ITEM_LABELS = {1: "Strongly disagree", 2: "Disagree", 3: "Agree", 4: "Strongly agree"}


def variables():
    return [
        Variable(0, "PISA2018_ST034Q01TA", "I feel like I belong at school — ñ", 0,
                 ITEM_LABELS),
        Variable(1, "school", "School (code specific to this agreement)", 0,
                 {i: f"S{i:010x}" for i in range(1, 301)}),
        Variable(2, "score_perceptions", "Perceptions score", 0, None, decimals=4),
        Variable(3, "pseudonym", "Student pseudonym", 64),
        Variable(4, "long_label", "é" * 200, 0, {1: "ü" * 100}),
    ]


def columns(n, seed=3):
    rng = np.random.default_rng(seed)
    item = rng.integers(1, 5, n).astype(np.float64)
    skipped = rng.random(n) < 0.1
    school = rng.integers(1, 301, n).astype(np.float64)  # beyond one byte past 151
    score = np.round(rng.random(n) * 3 + 1, 4)
    score[rng.random(n) < 0.05] = np.nan
    score[:3] = [-1e300, 1e-9, 250.0]
    pseudonym = np.array([f"{i:064x}" if i % 5 else None for i in range(n)], dtype=object)
    return [(item, skipped), (school, None), (score, None), (pseudonym, None),
            (np.ones(n), None)]


def write(path, data, step):
    writer = SavWriter(str(path), variables(), "belonging research export")
    n = len(data[0][0])
    for at in range(0, n, step):
        writer.write([(v[at:at + step], None if m is None else m[at:at + step])
                      for v, m in data])
    writer.close()


@pytest.mark.parametrize("step", [7, 1000, 2501])
def test_every_value_reads_back(tmp_path, step):
    data = columns(2501)
    write(tmp_path / "t.sav", data, step)
    frame, meta = pyreadstat.read_sav(str(tmp_path / "t.sav"))
    assert meta.number_rows == len(frame) == 2501
    assert meta.column_names == ["PISA2018_ST034Q01TA", "school", "score_perceptions",
                                 "pseudonym", "long_label"]
    (item, skipped), (school, _), (score, _), (pseudonym, _), _ = data
    read = frame["PISA2018_ST034Q01TA"].to_numpy()
    assert np.array_equal(np.isnan(read), skipped)
    assert np.array_equal(read[~skipped], item[~skipped])
    assert np.array_equal(frame["school"].to_numpy(), school)
    assert np.array_equal(frame["score_perceptions"].to_numpy(), score, equal_nan=True)
    expected = ["" if p is None else p for p in pseudonym]
    assert frame["pseudonym"].tolist() == expected
    assert meta.file_encoding == "UTF-8" and meta.file_label == "belonging research export"


def test_labels_read_back_and_are_cut_on_a_character_boundary(tmp_path):
    write(tmp_path / "t.sav", columns(10), 10)
    frame, meta = pyreadstat.read_sav(str(tmp_path / "t.sav"), apply_value_formats=True)
    labels = meta.column_names_to_labels
    assert labels["PISA2018_ST034Q01TA"] == "I feel like I belong at school — ñ"
    assert labels["long_label"] == "é" * 127  # 255 bytes at most, whole characters
    values = meta.variable_value_labels
    assert values["PISA2018_ST034Q01TA"] == ITEM_LABELS
    assert values["school"][300] == "S000000012c"
    assert values["long_label"] == {1: "ü" * 60}  # 120 bytes at most
    assert set(frame["PISA2018_ST034Q01TA"].dropna()) <= set(ITEM_LABELS.values())
    assert meta.readstat_variable_types["pseudonym"] == "string"


def test_an_empty_file_and_text_too_long(tmp_path):
    SavWriter(str(tmp_path / "empty.sav"), variables()).close()
    frame, meta = pyreadstat.read_sav(str(tmp_path / "empty.sav"))
    assert len(frame) == 0 and meta.variable_value_labels["school"][1] == "S0000000001"
    writer = SavWriter(str(tmp_path / "long.sav"), variables())
    data = columns(10)
    data[3] = (np.array(["x" * 65] + [None] * 9, dtype=object), None)
    with pytest.raises(ValueError, match="longer than"):
        writer.write(data)
    writer.close()
