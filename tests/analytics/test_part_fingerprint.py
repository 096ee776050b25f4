"""A school part's fingerprint digests its grain rows (`snapshot._rows_digest`): the
same rows in any order give the same digest, and any changed value another."""

from decimal import Decimal

from analytics.snapshot import _rows_digest


def rows():
    return [
        {"class_group_id": 2, "year_level": 7, "gender": None, "home_language": "en",
         "n": 3, "c0_sum": Decimal("7.5000000000000000"), "i0_o1": 1},
        {"class_group_id": 1, "year_level": 7, "gender": "girl", "home_language": None,
         "n": 12, "c0_sum": Decimal("30.2500000000000000"), "i0_o1": 4},
    ]


def test_the_grain_rows_digest_ignores_their_order_and_sees_every_value():
    assert _rows_digest(rows()) == _rows_digest(list(reversed(rows())))
    for name, value in (("c0_sum", Decimal("7.2500000000000000")), ("i0_o1", 2),
                        ("gender", "boy"), ("n", 4)):
        changed = rows()
        changed[0][name] = value
        assert _rows_digest(changed) != _rows_digest(rows()), name
    assert _rows_digest([]) != _rows_digest(rows())
