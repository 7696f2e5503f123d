"""Generated requests to every Cronofy endpoint of the sandbox: never a 5xx, never poisoned.

Hypothesis sends bodies of every JSON type (and raw bytes, and valid bodies with one value
swapped for anything) with every kind of credential to every /v1 and /oauth route. After each
request the sandbox must still answer Read Events (in zones on both sides of UTC) for every
account and Availability for all of them: an accepted value must never break later reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cronofy_sandbox import SandboxConfig, consent, create_app, grants
from cronofy_sandbox.state import EXTENSION_KEY, Sandbox

SECRET = "CRN_sandbox_secret"
CALLBACK = "http://127.0.0.1:9/callback"
SCOPE = "read_account list_calendars read_events create_event delete_event create_calendar"
ZONES = ("Etc/UTC", "Asia/Tokyo", "Pacific/Kiritimati", "Pacific/Pago_Pago")


@dataclass(frozen=True)
class Account:
    """A connected demo person: their token and the ids a request may name."""

    sub: str
    token: str
    ids: dict[str, list[str]]  # "calendar_id" / "profile_id" -> their real values


@dataclass(frozen=True)
class World:
    """The app under test and its connected accounts."""

    app: Flask
    client: FlaskClient
    accounts: list[Account]
    service_token: str


def _connect(sandbox: Sandbox, req: consent.AuthorizeRequest, email: str) -> str:
    location = consent.allow(sandbox.store, sandbox.config, req, email, "read_write", "google")
    code = location.split("code=", 1)[1].split("&", 1)[0]
    return str(grants.exchange_code(sandbox.store, sandbox.config, code, CALLBACK)["access_token"])


class _NoNetwork(requests.adapters.BaseAdapter):
    """Generated callback URLs may name any host: callbacks fail here, never leave."""

    def send(self, *args: object, **kwargs: object) -> requests.Response:
        raise requests.ConnectionError("callbacks do not leave this test")

    def close(self) -> None:
        return


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    config = SandboxConfig(client_secrets=(SECRET,), delivery_attempts=1, delivery_backoff=0)
    offline = requests.Session()
    for prefix in ("http://", "https://"):
        offline.mount(prefix, _NoNetwork())
    app = create_app(config, delivery_session=offline)
    sandbox: Sandbox = app.extensions[EXTENSION_KEY]
    individual = consent.AuthorizeRequest(False, CALLBACK, SCOPE, "", None, None, "")
    accounts = []
    for person in sandbox.store.query("SELECT * FROM people ORDER BY email"):
        token = _connect(sandbox, individual, person["email"])
        profiles = "SELECT profile_id FROM profiles WHERE sub = ?"
        # Only profiles not linked: revoking the connected one would leave nothing to test.
        unlinked = profiles + " AND linked = 0"
        ids = {
            "profile_id": [r[0] for r in sandbox.store.query(unlinked, (person["sub"],))],
            "calendar_id": [
                r[0]
                for r in sandbox.store.query(
                    f"SELECT calendar_id FROM calendars WHERE profile_id IN ({profiles})",  # noqa: S608
                    (person["sub"],),
                )
            ],
        }
        accounts.append(Account(person["sub"], token, ids))
    enterprise = consent.AuthorizeRequest(
        True, CALLBACK, "service_account/accounts/manage", "", None, None, "read_write"
    )
    service_token = _connect(sandbox, enterprise, "admin@demo.test")
    yield World(app, app.test_client(), accounts, service_token)
    sandbox.deliverer.close()


# Control endpoints that break later reads by design (reset, expiring or revoking tokens,
# armed faults, rate limits) are left out of the generated control requests.
DISRUPTIVE = (
    "/control/reset",
    "/control/expire_access_tokens",
    "/control/revoke_refresh_token",
    "/control/faults",
    "/control/rate_limits",
)


def _routes(app: Flask, prefixes: tuple[str, ...]) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefixes) or rule.rule.startswith(DISRUPTIVE):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((method, rule.rule))
    return sorted(routes)


# Valid bodies per route; generated requests start from one of these half the time.
TEMPLATES: dict[str, dict[str, Any]] = {
    "/v1/calendars/<calendar_id>/events": {
        "event_id": "evt-1",
        "summary": "Lesson",
        "description": "",
        "start": {"time": "2031-03-04T09:00:00Z", "tzid": "Europe/Paris"},
        "end": "2031-03-04T10:00:00Z",
        "tzid": "Europe/Paris",
        "location": {"description": "Room 2"},
        "attendees": {"invite": [{"email": "kim@example.org", "display_name": "Kim"}]},
        "transparency": "opaque",
    },
    "/v1/events": {"delete_all": True, "calendar_ids": ["cal_x"]},
    "/v1/calendars": {"profile_id": "pro_x", "name": "Bookings", "color": "#49BED8"},
    "/v1/channels": {
        "callback_url": CALLBACK,
        "filters": {"calendar_ids": ["cal_x"], "only_managed": False},
    },
    "/v1/availability": {
        "participants": [{"members": [{"sub": "acc_x", "calendar_ids": []}], "required": "all"}],
        "required_duration": {"minutes": 30},
        "query_periods": [{"start": "2031-03-04T09:00:00Z", "end": "2031-03-04T17:00:00Z"}],
        "buffer": {"before": {"minutes": 5}, "after": {"minutes": 5}},
        "start_interval": {"minutes": 15},
        "response_format": "slots",
        "max_results": 20,
    },
    "/v1/smart_invites": {
        "method": "request",
        "smart_invite_id": "inv-1",
        "recipient": {"email": "guest@example.net"},
        "callback_url": CALLBACK,
        "event": {
            "summary": "Viewing",
            "start": "2031-03-04T09:30:00Z",
            "end": "2031-03-04T10:00:00Z",
            "tzid": "Europe/London",
            "location": {"description": "12 High St"},
        },
        "organizer": {"name": "Acme", "email": "bookings@acme.example"},
    },
    "/v1/service_account_authorizations": {
        "email": "ada@demo.test",
        "callback_url": CALLBACK,
        "scope": "read_events",
        "state": "s",
    },
    "/oauth/token": {
        "client_id": "sandbox-client",
        "client_secret": SECRET,
        "grant_type": "refresh_token",
        "refresh_token": "x" * 32,
    },
    "/oauth/token/revoke": {"client_id": "sandbox-client", "client_secret": SECRET, "token": "x"},
    "/v1/permissions": {
        "permissions": [{"calendar_id": "cal_x", "permission_level": "unrestricted"}],
        "redirect_uri": CALLBACK,
    },
    "/control/people": {"email": "new@demo.test", "name": "New", "tzid": "Asia/Tokyo"},
    "/control/events": {
        "calendar_id": "cal_x",
        "events": [
            {"summary": "Busy", "start": "2031-03-04T09:00:00Z", "end": "2031-03-04T10:00:00Z"}
        ],
        "notify": True,
    },
    "/control/events/<event_uid>": {"start": "2031-03-04T11:00:00Z", "end": "2031-03-04T12:00:00Z"},
    "/control/calendars/<calendar_id>/permission": {"permission_level": "unrestricted"},
}
AUTHORIZE_QUERY = {
    "response_type": "code",
    "client_id": "sandbox-client",
    "redirect_uri": CALLBACK,
    "scope": "read_events",
    "delegated_scope": "read_events",
    "state": "s",
}
QUERY_NAMES = (
    "tzid",
    "from",
    "to",
    "last_modified",
    "include_deleted",
    "include_moved",
    "include_managed",
    "only_managed",
    "localized_times",
    "calendar_ids[]",
    "smart_invite_id",
    "recipient_email",
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "delegated_scope",
    "access_mode",
    "provider_name",
    "state",
)
TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "0001-01-01",
            "9999-12-31",
            "0001-01-01T00:00:00+05:00",
            "9999-12-31T22:00:00-05:00",
            "2031-03-04",
            "2031-03-04T09:00:00Z",
            "Asia/Tokyo",
            "true",
            "",
            "sandbox-client",
            "code",
            "read_events",
            "http://[",
            CALLBACK,
        ]
    ),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**17, max_value=10**30),
    st.floats(allow_nan=False),
    TEXT,
)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    )


JSON = st.recursive(SCALARS, _containers, max_leaves=12)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, template: dict[str, Any]) -> Any:
    """`template` with the value at one path replaced by any JSON value (or removed)."""
    body = json.loads(json.dumps(template))
    path = draw(st.sampled_from(_paths(body)))
    if not path:
        return draw(JSON)
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(JSON)
    return body


def _own_ids(template: dict[str, Any], account: Account) -> dict[str, Any]:
    """The template naming the account's own sub, calendar and profile."""
    text = json.dumps(template)
    for placeholder, value in (
        ("acc_x", account.sub),
        ("cal_x", account.ids["calendar_id"][0]),
        ("pro_x", account.ids["profile_id"][0]),
    ):
        text = text.replace(placeholder, value)
    return dict(json.loads(text))


def _right_credential(rule: str, world: World, account: Account) -> str | None:
    if rule.startswith("/oauth"):
        return None
    if rule.startswith(("/v1/smart_invites", "/v1/availability")):
        return SECRET
    if rule.startswith("/v1/service_account"):
        return world.service_token
    return account.token


@st.composite
def requests_(
    draw: st.DrawFn, world: World, prefixes: tuple[str, ...] = ("/v1", "/oauth/token")
) -> dict[str, Any]:
    method, rule = draw(st.sampled_from(_routes(world.app, prefixes)))
    account = draw(st.sampled_from(world.accounts))
    path = rule
    for name in ("calendar_id", "profile_id", "page_id", "channel_id", "event_uid"):
        if f"<{name}>" in path:
            real = st.sampled_from(account.ids.get(name, ["x"]))
            value = draw(st.one_of(real, real, real, st.text(max_size=8)))
            path = path.replace(f"<{name}>", value.replace("/", "%2F") or "x")
    template = _own_ids(TEMPLATES[rule], account) if rule in TEMPLATES else None
    body_kind = draw(st.sampled_from(["valid", "mutated", "mutated", "json", "bytes", "form"]))
    kwargs: dict[str, Any] = {}
    if body_kind == "valid" and template is not None:
        kwargs["json"] = template
    elif body_kind == "mutated" and template is not None:
        kwargs["data"] = json.dumps(draw(mutated(template)))
        kwargs["content_type"] = "application/json"
    elif body_kind == "json":
        kwargs["data"] = json.dumps(draw(JSON))
        kwargs["content_type"] = "application/json"
    elif body_kind == "bytes":
        kwargs["data"] = draw(st.binary(max_size=64))
        kwargs["content_type"] = "application/json"
    elif body_kind == "form":
        kwargs["data"] = draw(st.dictionaries(st.sampled_from(list(template or {"a": 1})), TEXT))
    base = AUTHORIZE_QUERY if "oauth/authorize" in rule else {"tzid": "Europe/Paris"}
    query = dict(base) if draw(st.booleans()) else {}
    query.update(draw(st.dictionaries(st.sampled_from(QUERY_NAMES), TEXT, max_size=4)))
    if query:
        path += "?" + urlencode(query)
    right = _right_credential(rule, world, account)
    others = [*(a.token for a in world.accounts), world.service_token, SECRET, "x" * 32]
    bearer = draw(st.one_of(st.just(right), st.just(right), st.sampled_from([None, *others])))
    if bearer is not None:
        kwargs["headers"] = {"Authorization": f"Bearer {bearer}"}
    return {"method": method, "path": path, **kwargs}


def _still_serves_every_account(world: World) -> None:
    for account in world.accounts:
        for tzid in ZONES:
            resp = world.client.get(
                f"/v1/events?tzid={tzid}&include_managed=true&include_deleted=true",
                headers={"Authorization": f"Bearer {account.token}"},
            )
            assert resp.status_code == 200, (account.sub, tzid, resp.data[:300])
    members = [{"sub": account.sub} for account in world.accounts]
    resp = world.client.post(
        "/v1/availability",
        json={
            "participants": [{"members": members, "required": 1}],
            "required_duration": {"minutes": 30},
            "query_periods": [{"start": "2031-03-04T00:00:00Z", "end": "2031-03-05T00:00:00Z"}],
        },
        headers={"Authorization": f"Bearer {SECRET}"},
    )
    assert resp.status_code == 200, resp.data[:300]


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_generated_request_gets_a_5xx_or_breaks_later_reads(world: World, data: Any) -> None:
    request = data.draw(requests_(world))
    resp = world.client.open(**request)
    assert resp.status_code < 500, (request, resp.status_code, resp.data[:300])
    assert resp.mimetype == "application/json", (request, resp.status_code, resp.mimetype)
    _still_serves_every_account(world)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_the_control_api_never_answers_5xx_or_breaks_later_reads(world: World, data: Any) -> None:
    request = data.draw(requests_(world, ("/control",)))
    resp = world.client.open(**request)
    assert resp.status_code < 500, (request, resp.status_code, resp.data[:300])
    _still_serves_every_account(world)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_consent_pages_and_the_ui_never_answer_5xx(world: World, data: Any) -> None:
    pages = ("/oauth/authorize", "/enterprise_connect", "/calendars", "/mailbox", "/permissions")
    request = data.draw(requests_(world, pages))
    resp = world.client.open(**request)
    assert resp.status_code < 500, (request, resp.status_code, resp.data[:300])
