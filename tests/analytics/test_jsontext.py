"""The snapshot documents' JSON text (analytics.jsontext, written with orjson) reads
back as the standard library's would."""

import json
from decimal import Decimal

import numpy as np

from analytics import jsontext

VALUE = {"groups": {"school": {"n": 12, "mean": np.float64(2.75), "sum": Decimal("33.10"),
                               "keys": ("a", "b")}},
         3: [1e-7, 0.1 + 0.2, None, True], "z": "é"}


def test_plain_reads_back_as_the_standard_library_would():
    assert jsontext.plain(VALUE) == json.loads(json.dumps(VALUE, default=str))


def test_a_numpy_float_is_written_as_a_number_and_keys_as_strings():
    text = jsontext.dumps(VALUE, default=str)
    read = json.loads(text)
    assert read["groups"]["school"]["mean"] == 2.75
    assert read["groups"]["school"]["sum"] == "33.10"
    assert read["3"][0] == 1e-7


def test_sorted_keys_give_one_text_for_one_value():
    shuffled = {"z": "é", 3: VALUE[3], "groups": VALUE["groups"]}
    assert jsontext.dumps(VALUE, sort_keys=True, default=str) == jsontext.dumps(
        shuffled, sort_keys=True, default=str)
    assert jsontext.dumps(VALUE, sort_keys=True, default=str).startswith(b'{"3":')
