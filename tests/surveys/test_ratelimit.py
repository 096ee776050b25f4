"""Typing an access code: wrong guesses are limited, whole schools still join at once."""

import logging

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from redis.exceptions import ConnectionError as RedisConnectionError

from surveys import ratelimit, services
from surveys.models import CODE_ALPHABET, CODE_LENGTH, Session

T0 = 1_800_000_000.0  # the start of an hour window (1_800_000_000 / 3600 = 500_000)
SCHOOL = "203.0.113.7"


@pytest.fixture(autouse=True)
def fresh_limits(monkeypatch):
    cache.clear()
    clock = {"now": T0}
    monkeypatch.setattr(ratelimit, "now", lambda: clock["now"])
    yield clock
    cache.clear()


@pytest.fixture
def sessions(open_wave, world):
    return {name: services.open_session(open_wave, cg, by=world["leader"])
            for name, cg in world["classes"].items()}


def join(client, code, address=SCHOOL, **extra):
    return client.get("/join/", {"code": code, **extra}, REMOTE_ADDR=address)


def cache_keys():
    store = cache._cache
    if hasattr(store, "get_client"):  # Redis, when the tests run with REDIS_URL
        return [k.decode() for k in store.get_client(write=False).keys("*")]
    return [str(k) for k in store]  # local memory


def wrong_codes(n, start=0, prefix=None):
    """Well-formed codes no session has, each with its own 4-character prefix."""
    taken = set(Session.objects.values_list("code", flat=True))
    codes = []
    i = start
    while len(codes) < n:
        a, b = CODE_ALPHABET[i % 25], CODE_ALPHABET[(i // 25) % 25]
        if prefix:
            code = prefix + "Q" * (CODE_LENGTH - len(prefix) - 2) + a + b
        else:
            code = a + b + "Q" * (CODE_LENGTH - 4) + a + b
        if code not in taken:
            codes.append(code)
        i += 1
    return codes


def test_thirty_students_behind_one_address_join_the_same_code_within_a_second(
    client, sessions
):
    code = sessions["7A"].code
    statuses = [join(client, code).status_code for _student in range(30)]
    assert statuses == [302] * 30


def test_a_whole_school_behind_one_address_joins_many_classes_despite_typos(client, sessions):
    codes = [s.code for s in sessions.values()]
    typos = iter(wrong_codes(10))
    results = []
    for student in range(30):
        for code in codes:
            results.append(join(client, code).status_code)
        if student % 4 == 3:  # now and then someone mistypes their class's code
            assert join(client, next(typos)).status_code == 200
    assert results == [302] * 90


def test_repeated_wrong_codes_from_one_address_get_429_after_the_limit(client, sessions):
    for code in wrong_codes(5):
        page = join(client, code)
        assert page.status_code == 200
        assert "That code is not open" in page.content.decode()
    refused = join(client, wrong_codes(1, start=5)[0])
    assert refused.status_code == 429
    assert "Please wait a few minutes" in refused.content.decode()
    assert refused["Retry-After"] == "3600"
    # A live code gets the same answer: otherwise 429 vs redirect would reveal it.
    assert join(client, sessions["7A"].code).status_code == 429
    assert join(client, sessions["7A"].code, address="198.51.100.20").status_code == 302


def test_the_limit_lifts_in_the_next_hour(client, sessions, fresh_limits):
    for code in wrong_codes(5):
        join(client, code)
    assert join(client, sessions["7A"].code).status_code == 429
    fresh_limits["now"] = T0 + 3600
    assert join(client, sessions["7A"].code).status_code == 302


def test_a_class_typing_the_same_wrong_code_from_the_board_counts_once(client, sessions):
    wrong = wrong_codes(1)[0]
    assert {join(client, wrong).status_code for _student in range(30)} == {200}
    assert join(client, sessions["7A"].code).status_code == 302


def test_malformed_codes_and_codes_of_closed_sessions_are_not_counted(client, world, sessions):
    closed = services.close_session(sessions["8A"], by=world["leader"])
    for code in ["ZZZZZZ", "ABC", "ACDEFGHJ", "O0O0O0", "1ILS5B", closed.code] * 5:
        assert join(client, code).status_code == 200
    assert join(client, sessions["7A"].code).status_code == 302


def test_a_network_whose_students_joined_gets_room_for_their_typos(client, sessions):
    for session in sessions.values():
        assert join(client, session.code).status_code == 302
    # 5 of its own plus 3 for each of the 3 codes joined: 14 wrong codes pass.
    assert {join(client, code).status_code for code in wrong_codes(14)} == {200}
    assert join(client, wrong_codes(1, start=14)[0]).status_code == 429


def test_one_known_code_earns_credit_for_five_networks_only(client, sessions):
    code = sessions["7A"].code
    networks = [f"198.51.100.{i}" for i in range(1, 7)]
    for address in networks:
        assert join(client, code, address=address).status_code == 302
    guesses = iter(wrong_codes(20))
    first = [join(client, next(guesses), address=networks[0]).status_code for _i in range(8)]
    sixth = [join(client, next(guesses), address=networks[5]).status_code for _i in range(6)]
    assert first == [200] * 8  # 5 + 3 credit
    assert sixth == [200] * 5 + [429]  # no credit left to earn from that code


def test_the_global_budget_stops_guessing_spread_over_many_addresses(client, sessions, caplog):
    school = "192.0.2.10"
    assert join(client, sessions["7A"].code, address=school).status_code == 302
    guesses = iter(wrong_codes(40))
    for bot in range(6):  # 6 x 5 = 30 wrong codes: the global budget
        for _guess in range(5):
            assert join(client, next(guesses), address=f"198.51.100.{bot}").status_code == 200
    with caplog.at_level(logging.INFO, logger="surveys.ratelimit"):
        assert join(client, sessions["7B"].code, address="198.51.100.99").status_code == 429
    assert "budget of wrong access codes is spent" in caplog.text
    # A school whose students joined this hour still has credit: it carries on.
    assert join(client, sessions["7B"].code, address=school).status_code == 302


def test_typos_followed_by_a_join_give_back_the_global_budget(client, sessions):
    guesses = iter(wrong_codes(60))
    for student in range(10):  # two classes, so every network earns credit (5 per code)
        address = f"192.0.2.{student}"
        assert join(client, next(guesses), address=address).status_code == 200
        code = sessions["7A" if student % 2 else "7B"].code
        assert join(client, code, address=address).status_code == 302
    for bot in range(6):
        for _guess in range(5 if bot < 5 else 4):  # 29 uncredited wrong codes
            join(client, next(guesses), address=f"198.51.100.{bot}")
    assert join(client, sessions["8A"].code, address="198.51.100.200").status_code == 302
    join(client, next(guesses), address="198.51.100.5")  # the 30th
    assert join(client, sessions["8A"].code, address="198.51.100.201").status_code == 429


def test_someone_who_saw_part_of_a_code_gets_five_tries_at_the_rest(client, sessions):
    live = sessions["7A"].code
    near = [c for c in wrong_codes(6, prefix=live[:4]) if c != live][:5]
    for i, code in enumerate(near):
        assert join(client, code, address=f"198.51.100.{i}").status_code == 200
    assert join(client, live, address="198.51.100.77").status_code == 429
    assert join(client, sessions["7B"].code, address="198.51.100.77").status_code == 302


def test_ipv6_addresses_in_one_64_share_a_budget(client, sessions):
    for i, code in enumerate(wrong_codes(5)):
        join(client, code, address=f"2001:db8:1:2::{i + 1}")
    assert join(client, sessions["7A"].code, address="2001:db8:1:2::ff").status_code == 429
    assert join(client, sessions["7A"].code, address="2001:db8:1:3::1").status_code == 302


@override_settings(BELONGING_PROXY_HOPS=1)
def test_behind_a_proxy_the_address_the_proxy_saw_is_used(client, sessions):
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for code in wrong_codes(5):
        client.get("/join/", {"code": code}, HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.9",
                   **proxy)
    # A forged leftmost entry does not buy a fresh budget...
    blocked = client.get("/join/", {"code": sessions["7A"].code},
                         HTTP_X_FORWARDED_FOR="7.7.7.7, 198.51.100.9", **proxy)
    assert blocked.status_code == 429
    # ...and other clients behind the same proxy are not blocked with it.
    other = client.get("/join/", {"code": sessions["7A"].code},
                       HTTP_X_FORWARDED_FOR="198.51.100.10", **proxy)
    assert other.status_code == 302


def test_the_429_page_is_in_the_students_language(client, sessions):
    for code in wrong_codes(5):
        join(client, code)
    page = join(client, wrong_codes(1, start=5)[0], lang="es")
    assert page.status_code == 429
    assert '<html lang="es">' in page.content.decode()
    browser = client.get("/join/", {"code": "ACDEFGH"}, REMOTE_ADDR=SCHOOL,
                         HTTP_ACCEPT_LANGUAGE="es")
    assert '<html lang="es">' in browser.content.decode()


def test_neither_addresses_nor_codes_reach_cache_keys_or_logs(client, sessions, caplog):
    codes = wrong_codes(6)
    with caplog.at_level(logging.DEBUG):
        for code in codes:
            join(client, code)
        join(client, sessions["7A"].code)
    keys = " ".join(cache_keys())
    for secret in [SCHOOL, sessions["7A"].code, *codes]:
        assert secret not in keys
        assert secret not in caplog.text
    assert "rl:" in keys


def test_a_cache_outage_lets_students_join(client, sessions, monkeypatch, caplog):
    def down(*args, **kwargs):
        raise RedisConnectionError("cache down")

    monkeypatch.setattr(cache, "get_many", down)
    with caplog.at_level(logging.WARNING, logger="surveys.ratelimit"):
        assert join(client, sessions["7A"].code).status_code == 302
    assert "rate limiting is unavailable" in caplog.text


def test_the_decorator_also_reads_a_code_from_the_url(sessions):
    view = ratelimit.limit_code_entry(lambda request, code: HttpResponse("ok"))
    factory = RequestFactory()
    for code in wrong_codes(5):
        assert view(factory.get(f"/s/{code}/"), code=code.lower()).status_code == 200
    assert view(factory.get("/s/x/"), code=sessions["7A"].code).status_code == 429


def test_limits_can_be_tuned_in_settings(client, sessions):
    with override_settings(BELONGING_CODE_LIMITS={"per_network": 2}):
        for code in wrong_codes(2):
            assert join(client, code).status_code == 200
        assert join(client, sessions["7A"].code).status_code == 429
