"""The page icon: linked from every page, served without logging in, also as /favicon.ico."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.webapp_fixtures import People, log_in

ICON_LINK = re.compile(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)">')


def _linked_icon(page: str) -> str:
    match = ICON_LINK.search(page)
    assert match is not None, "no icon linked"
    return match.group(1)


def _is_the_icon(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    body = response.get_data(as_text=True)
    response.close()  # a static file is streamed from an open file
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert body.lstrip().startswith("<svg")


def test_pages_link_the_icon_and_it_is_served_to_anyone(
    client: FlaskClient, people: People
) -> None:
    login_page = client.get("/login").get_data(as_text=True)
    icon = _linked_icon(login_page)
    _is_the_icon(client, icon)
    log_in(client, people.instructor_email, people.password)
    assert _linked_icon(client.get("/").get_data(as_text=True)) == icon
    assert _linked_icon(client.get("/no-such-page").get_data(as_text=True)) == icon


def test_favicon_ico_answers_for_pages_that_link_none(client: FlaskClient) -> None:
    _is_the_icon(client, "/favicon.ico")
