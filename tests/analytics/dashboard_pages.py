"""Reading the dashboards' HTML in tests (pages as a role gets them, table rows by
group, scripts and inline styles), and published waves built once for a module of
read-only tests (conftest.module_rows)."""

from html.parser import HTMLParser

import pytest
from django.core.cache import cache

from analytics.models import Snapshot
from surveys.instruments import load_file
from tests.conftest import INSTRUMENTS, build_world, fresh


def built_once(module_rows, publish):
    """The world and what `publish(world)` returns, built once for the module in
    conftest.module_rows (what a test changes is undone after it: CONTRIBUTING.md,
    "Test fixtures for speed")."""
    with module_rows():
        world = build_world(load_file(INSTRUMENTS / "belonging-pulse-1.0.yaml"))
        return world, publish(world)


def fresh_world(built):
    """A test's own copy of the built world, the page cache emptied: no page rendered
    by an earlier test from the same rows is served to this one."""
    cache.clear()
    return fresh(built[0])


def shared_publication(publish, name):
    """A module's fixtures for what `publish(world)` returns, built once (`built_once`):
    `published` (module scope), `world` (`fresh_world`) and `name` (a fresh copy of
    what was published). Use: `published, world, wave1 = shared_publication(..., "wave1")`."""

    @pytest.fixture(scope="module", name="published")
    def published_once(module_rows):
        return built_once(module_rows, publish)

    @pytest.fixture(name="world")
    def world_copy(db, published):
        return fresh_world(published)

    @pytest.fixture(name=name)
    def published_copy(db, published):
        return fresh(published[1])

    return published_once, world_copy, published_copy


def page(client, user, url):
    client.force_login(user)
    response = client.get(url)
    return response.status_code, response.content.decode()


def snapshot_of(wave):
    return Snapshot.objects.filter(wave=wave).order_by("-version").first().data


class Rows(HTMLParser):
    """Table rows by their data-group attribute: the text of their <td> cells."""

    def __init__(self):
        super().__init__()
        self.rows, self.current, self.in_td = [], None, False
        self.scripts, self.inline_styles, self.handlers = [], 0, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.inline_styles += "style" in attrs
        self.handlers += any(name.startswith("on") for name in attrs)
        if tag == "script":
            self.scripts.append(attrs)
        if tag == "tr" and "data-group" in attrs:
            self.current = {"group": attrs["data-group"], "cls": attrs.get("class", ""),
                            "cells": ""}
            self.rows.append(self.current)
        self.in_td = self.in_td or (tag == "td" and self.current is not None)

    def handle_endtag(self, tag):
        if tag == "td":
            self.in_td = False
        if tag == "tr":
            self.current = None

    def handle_data(self, data):
        if self.in_td and self.current is not None:
            self.current["cells"] += data


def parse(html):
    parser = Rows()
    parser.feed(html)
    return parser


def dashboard_url(wave):
    return f"/waves/{wave.public_id}/dashboard/"
