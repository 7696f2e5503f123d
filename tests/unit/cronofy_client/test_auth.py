"""Authorize links, token exchange/refresh/revoke, and data-center hosts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from cronofy_client import (
    AccessMode,
    CronofyAuthExpired,
    CronofyClient,
    CronofyError,
    CronofyInvalidGrant,
    CronofyUnavailable,
    DataCenter,
    LinkingProfile,
    Provider,
    TokenGrant,
    provider_label,
)

API = "https://api.cronofy.com"
NOW = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)
TOKEN_URL = f"{API}/oauth/token"


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_individual_connect_url_with_access_mode_and_provider(client: CronofyClient) -> None:
    url = client.individual_connect_url(
        redirect_uri="https://svc.test/cb?x=1",
        state="st8",
        access_mode=AccessMode.FREE_BUSY,
        provider_name=Provider.MS_GRAPH,
    )
    assert url.startswith("https://app.cronofy.com/oauth/authorize?")
    assert query(url) == {
        "response_type": "code",
        "client_id": "cid_test",
        "redirect_uri": "https://svc.test/cb?x=1",
        "scope": "free_busy_write",
        "state": "st8",
        "avoid_linking": "true",
        "access_mode": "free_busy",
        "provider_name": "ms_graph",
    }


def test_individual_connect_url_without_mode_omits_mode_and_provider(
    client: CronofyClient,
) -> None:
    url = client.individual_connect_url(
        redirect_uri="https://svc.test/cb", state="s", scope="read_events", avoid_linking=False
    )
    params = query(url)
    assert "access_mode" not in params
    assert "provider_name" not in params
    assert params["avoid_linking"] == "false"
    assert params["scope"] == "read_events"


def test_no_calendar_mode_takes_no_provider(client: CronofyClient) -> None:
    url = client.individual_connect_url(
        redirect_uri="https://svc.test/cb", state="s", access_mode=AccessMode.NO_CALENDAR
    )
    assert query(url)["access_mode"] == "no_calendar"
    assert "provider_name" not in query(url)
    with pytest.raises(ValueError, match="no_calendar"):
        client.individual_connect_url(
            redirect_uri="https://svc.test/cb",
            state="s",
            access_mode=AccessMode.NO_CALENDAR,
            provider_name=Provider.GOOGLE,
        )


@pytest.mark.parametrize(
    ("mode", "provider"),
    [("full_access", None), (None, "apple"), ("READ_WRITE", "google"), (None, "")],
)
def test_unknown_modes_and_providers_raise(
    client: CronofyClient, mode: str | None, provider: str | None
) -> None:
    for build in (client.individual_connect_url, client.enterprise_connect_url):
        with pytest.raises(ValueError, match="valid|AccessMode|Provider"):
            build(
                redirect_uri="https://svc.test/cb",
                state="s",
                access_mode=mode,  # type: ignore[arg-type]
                provider_name=provider,  # type: ignore[arg-type]
            )


def test_connect_urls_need_state_and_redirect(client: CronofyClient) -> None:
    with pytest.raises(ValueError, match="state"):
        client.individual_connect_url(redirect_uri="https://svc.test/cb", state="")
    with pytest.raises(ValueError, match="redirect_uri"):
        client.enterprise_connect_url(redirect_uri="", state="s")


def test_enterprise_connect_url(client: CronofyClient) -> None:
    url = client.enterprise_connect_url(
        redirect_uri="https://svc.test/ec",
        state="adm",
        access_mode=AccessMode.READ_WRITE,
        provider_name=Provider.GOOGLE,
    )
    assert url.startswith("https://app.cronofy.com/enterprise_connect/oauth/authorize?")
    assert query(url) == {
        "response_type": "code",
        "client_id": "cid_test",
        "redirect_uri": "https://svc.test/ec",
        "scope": "service_account/accounts/manage",
        "delegated_scope": "free_busy_write",
        "state": "adm",
        "access_mode": "read_write",
        "provider_name": "google",
    }


@pytest.mark.parametrize(
    ("dc", "api_host", "app_host"),
    [
        ("us", "https://api.cronofy.com", "https://app.cronofy.com"),
        ("uk", "https://api-uk.cronofy.com", "https://app-uk.cronofy.com"),
        ("de", "https://api-de.cronofy.com", "https://app-de.cronofy.com"),
        ("au", "https://api-au.cronofy.com", "https://app-au.cronofy.com"),
        ("ca", "https://api-ca.cronofy.com", "https://app-ca.cronofy.com"),
        ("sg", "https://api-sg.cronofy.com", "https://app-sg.cronofy.com"),
    ],
)
@pytest.mark.requirement(7)
def test_data_center_hosts(
    api: responses.RequestsMock,
    client_factory: Callable[..., CronofyClient],
    dc: str,
    api_host: str,
    app_host: str,
) -> None:
    client = client_factory(data_center=dc)
    assert client.data_center is DataCenter(dc)
    assert (client.api_base_url, client.app_base_url) == (api_host, app_host)
    link = client.individual_connect_url(redirect_uri="https://svc.test/cb", state="s")
    assert link.startswith(f"{app_host}/oauth/authorize?")
    api.get(f"{api_host}/v1/calendars", json={"calendars": []})
    api.post(f"{api_host}/oauth/token/revoke")
    client.calendars("tok")
    client.revoke(sub="acc_1")


def test_explicit_base_urls_override_the_data_center(
    api: responses.RequestsMock, client_factory: Callable[..., CronofyClient]
) -> None:
    client = client_factory(data_center="de", api_base_url="http://127.0.0.1:5000/sandbox/cronofy/")
    assert client.api_base_url == "http://127.0.0.1:5000/sandbox/cronofy"
    assert client.app_base_url == "http://127.0.0.1:5000/sandbox/cronofy"
    split = client_factory(api_base_url="http://127.0.0.1:1/api", app_base_url="http://h/app")
    assert split.app_base_url == "http://h/app"
    api.get("http://127.0.0.1:5000/sandbox/cronofy/v1/calendars", json={"calendars": []})
    client.calendars("tok")


def test_unknown_data_center_raises(client_factory: Callable[..., CronofyClient]) -> None:
    with pytest.raises(ValueError, match="eu"):
        client_factory(data_center="eu")


def test_exchange_code_returns_the_full_grant(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.post(
        TOKEN_URL,
        json={
            "token_type": "bearer",
            "access_token": "at_1",
            "expires_in": 3600,
            "refresh_token": "rt_1",
            "scope": "free_busy_write",
            "account_id": "acc_1",
            "sub": "acc_1",
            "linking_profile": {
                "provider_name": "google_free_busy",
                "provider_service": "gsuite",
                "profile_id": "pro_1",
                "profile_name": "dana@example.org",
            },
        },
    )
    grant = client.exchange_code("code_1", redirect_uri="https://svc.test/cb")
    assert grant == TokenGrant(
        access_token="at_1",
        refresh_token="rt_1",
        expires_at=NOW + timedelta(hours=1),
        scope="free_busy_write",
        sub="acc_1",
        account_id="acc_1",
        linking_profile=LinkingProfile("google_free_busy", "gsuite", "pro_1", "dana@example.org"),
        access_mode=AccessMode.FREE_BUSY,
    )
    assert json.loads(api.calls[0].request.body or b"") == {
        "client_id": "cid_test",
        "client_secret": "CRN_current_secret_for_tests",
        "grant_type": "authorization_code",
        "code": "code_1",
        "redirect_uri": "https://svc.test/cb",
    }
    assert "at_1" not in repr(grant)
    assert "rt_1" not in repr(grant)


@pytest.mark.parametrize(
    ("provider", "mode"),
    [
        ("google_free_busy", AccessMode.FREE_BUSY),
        ("ms_graph_free_busy", AccessMode.FREE_BUSY),
        ("cronofy", AccessMode.NO_CALENDAR),
        ("google", AccessMode.READ_WRITE),
        ("exchange", AccessMode.READ_WRITE),
    ],
)
def test_access_mode_is_derived_from_the_linking_profile(
    api: responses.RequestsMock, client: CronofyClient, provider: str, mode: AccessMode
) -> None:
    api.post(
        TOKEN_URL,
        json={
            "access_token": "a",
            "refresh_token": "r",
            "expires_in": 60,
            "linking_profile": {"provider_name": provider},
        },
    )
    assert client.exchange_code("c", redirect_uri="https://svc.test/cb").access_mode is mode


def test_service_account_grant_without_linking_profile(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.post(
        TOKEN_URL,
        json={
            "access_token": "a",
            "refresh_token": "r",
            "expires_in": 1800,
            "scope": "service_account/accounts/manage",
            "service_account_id": "ser_1",
        },
    )
    grant = client.exchange_code("c", redirect_uri="https://svc.test/ec")
    assert grant.service_account_id == "ser_1"
    assert grant.access_mode is None
    assert grant.linking_profile is None
    assert grant.expires_at == NOW + timedelta(seconds=1800)


def test_exchange_code_is_never_retried(api: responses.RequestsMock, client: CronofyClient) -> None:
    api.post(TOKEN_URL, status=503)
    with pytest.raises(CronofyUnavailable):
        client.exchange_code("single_use", redirect_uri="https://svc.test/cb")
    assert len(api.calls) == 1


def test_bad_client_credentials_are_auth_expired(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.post(TOKEN_URL, status=401, json={"error": "invalid_client"})
    with pytest.raises(CronofyAuthExpired):
        client.exchange_code("c", redirect_uri="https://svc.test/cb")


def test_refresh_keeps_the_old_refresh_token_when_omitted(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.post(TOKEN_URL, json={"access_token": "at_2", "expires_in": 3600, "scope": "s"})
    grant = client.refresh("rt_1")
    assert (grant.access_token, grant.refresh_token) == ("at_2", "rt_1")
    body = json.loads(api.calls[0].request.body or b"")
    assert body["grant_type"] == "refresh_token"
    assert body["refresh_token"] == "rt_1"


@pytest.mark.parametrize(
    "body",
    [
        {"error": "invalid_grant"},
        {"errors": {"code": [{"key": "errors.unknown_or_used", "description": "gone"}]}},
    ],
)
def test_refresh_with_dead_token_raises_invalid_grant(
    api: responses.RequestsMock, client: CronofyClient, body: dict[str, object]
) -> None:
    api.post(TOKEN_URL, status=400, json=body)
    with pytest.raises(CronofyInvalidGrant) as info:
        client.refresh("rt_dead")
    assert info.value.status == 400
    assert "rt_dead" not in str(info.value)
    assert len(api.calls) == 1


def test_other_400_on_token_endpoint_is_a_plain_error(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.post(TOKEN_URL, status=400, json={"error": "invalid_request"})
    with pytest.raises(CronofyError) as info:
        client.refresh("rt_1")
    assert type(info.value) is CronofyError


def test_revoke_by_refresh_token(api: responses.RequestsMock, client: CronofyClient) -> None:
    api.post(f"{API}/oauth/token/revoke", status=200, body="")
    client.revoke(refresh_token="rt_1")
    assert json.loads(api.calls[0].request.body or b"") == {
        "client_id": "cid_test",
        "client_secret": "CRN_current_secret_for_tests",
        "token": "rt_1",
    }


def test_revoke_by_sub(api: responses.RequestsMock, client: CronofyClient) -> None:
    api.post(f"{API}/oauth/token/revoke", status=200)
    client.revoke(sub="acc_1")
    assert json.loads(api.calls[0].request.body or b"")["sub"] == "acc_1"


@pytest.mark.parametrize("kwargs", [{}, {"refresh_token": "r", "sub": "acc_1"}])
def test_revoke_needs_exactly_one_identifier(client: CronofyClient, kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        client.revoke(**kwargs)


def test_access_mode_labels_and_provider_mapping() -> None:
    assert [m.label for m in AccessMode] == ["Read-write", "Free/busy only", "No calendar access"]
    assert AccessMode.from_provider_name("cronofy") is AccessMode.NO_CALENDAR
    assert AccessMode.from_provider_name("apple") is AccessMode.READ_WRITE


@pytest.mark.parametrize(
    ("provider_name", "label"),
    [
        ("google", "Google"),
        ("ms_graph_free_busy", "Microsoft 365 (free/busy only)"),
        ("live_connect", "Outlook.com"),
        ("a_new_provider", "a_new_provider"),
        (None, "unknown"),
    ],
)
def test_provider_names_read_as_people_know_them(provider_name: str | None, label: str) -> None:
    assert provider_label(provider_name) == label


def test_each_provider_offered_on_the_connect_pages_has_its_label() -> None:
    assert {p.value: p.label for p in Provider} == {"google": "Google", "ms_graph": "Microsoft 365"}
