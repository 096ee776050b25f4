"""The survey page is rendered once per session and language, then served with a
fresh response id each time (surveys/pagecache.py)."""

import re

import pytest

from surveys import pagecache, services
from surveys.models import Series

CLIENT_ID = re.compile(r'name="client_id" value="([0-9a-f-]{36})"')


@pytest.fixture
def session(world, open_wave):
    pagecache.clear()
    return services.open_session(open_wave, world["classes"]["7A"], by=world["teacher"])


def load(client, session, lang="en"):
    response = client.get(f"/s/{session.code}/?lang={lang}")
    assert response.status_code == 200
    return response.content.decode()


def test_every_load_gets_its_own_response_id_and_otherwise_the_same_page(client, session):
    first, second = load(client, session), load(client, session)
    ids = CLIENT_ID.findall(first) + CLIENT_ID.findall(second)
    assert len(ids) == 2 and ids[0] != ids[1]
    assert pagecache.PLACEHOLDER not in first + second
    assert CLIENT_ID.sub("", first) == CLIENT_ID.sub("", second)


def test_a_kept_page_is_served_with_only_the_session_lookups(client, session,
                                                           django_assert_num_queries):
    load(client, session)
    # the rate limiter's check of the code and the open session by its code: no item,
    # instrument or series query
    with django_assert_num_queries(2):
        load(client, session)


def test_each_language_has_its_own_page(client, world, session):
    Series.objects.filter(pk=world["series"].pk).update(languages=["en", "es"])
    english, spanish = load(client, session, "en"), load(client, session, "es")
    assert 'lang="es"' in spanish and "Antes de empezar" in spanish
    assert "Before you start" in english and "Antes de empezar" not in english


def test_a_change_to_the_series_bands_shows_at_once(client, world, session):
    assert 'name="band-home_language"' not in load(client, session)
    Series.objects.filter(pk=world["series"].pk).update(demographics=["gender",
                                                                      "home_language"])
    assert 'name="band-home_language"' in load(client, session)


def test_a_signed_in_visitors_page_is_never_kept(client, world, session):
    client.force_login(world["teacher"])
    load(client, session)
    assert not pagecache._pages
    client.logout()
    load(client, session)
    assert len(pagecache._pages) == 1


def test_the_table_is_bounded(client, world, open_wave, monkeypatch):
    pagecache.clear()
    monkeypatch.setattr(pagecache, "LIMIT", 2)
    sessions = [services.open_session(open_wave, world["classes"][name], by=world["leader"])
                for name in ("7A", "7B", "8A")]
    for s in sessions:
        load(client, s)
    assert len(pagecache._pages) == 2
    assert [key[0] for key in pagecache._pages] == [s.pk for s in sessions[1:]]
