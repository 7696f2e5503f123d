"""HMAC verification of Cronofy callbacks and parsing of their bodies."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime

import pytest

from cronofy_client import (
    CronofyClient,
    EnterpriseConnectCallback,
    MalformedCallback,
    PushNotification,
    SmartInviteCallback,
    UnknownNotification,
    WebhookVerifier,
    parse_callback,
    sign_body,
)

PUBLISHED_SECRET = "CRN_NggYusqPGLxwjw5FHOJYOqSrTPNXy8WQf14OID"
PUBLISHED_BODY = b'{"example":"well-known"}'
PUBLISHED_DIGEST = "5DxentQi5YSXODEzTVv06sRwJ3pULIz1KrYv20qxEK0="

DOC_BODY = (
    b'{"notification":{"type":"verification"},"channel":{"channel_id":"chn_0000example0001",'
    b'"callback_url":"https://hooks.example.test/cronofy/push/7f3a","filters":{}}}'
)


@pytest.mark.parametrize(
    ("secret", "body", "digest"),
    [
        (PUBLISHED_SECRET, PUBLISHED_BODY, PUBLISHED_DIGEST),
        ("pDY0Oi7TJSP2hfNmZNkm5", PUBLISHED_BODY, "6r2/HjBkqymGegX0wOfifieeUXbbHwtV/LohHS+jv6c="),
        (
            "CRN_exampleSecretForDocsOnly123",
            DOC_BODY,
            "o8sC4tmbGMwpyiuGGxcTPOdgxHJA5LlA93gBEnrVWLY=",
        ),
        (
            "CRN_rotatedSecretForDocsOnly456",
            DOC_BODY,
            "8DAV5FQEW5w4UQL5hnY7gn8SC3PTgnVDQOrzLx5sGRo=",
        ),
    ],
)
@pytest.mark.requirement(2)
def test_known_vectors_sign_and_verify(secret: str, body: bytes, digest: str) -> None:
    assert sign_body(body, secret) == digest
    assert WebhookVerifier([secret]).verify(body, digest)


@pytest.mark.requirement(2)
def test_rotated_header_with_a_wrong_digest_first_is_accepted() -> None:
    verifier = WebhookVerifier([PUBLISHED_SECRET])
    assert verifier.verify(PUBLISHED_BODY, f"wrong, {PUBLISHED_DIGEST}")


def test_previous_secret_is_still_accepted_during_rotation() -> None:
    verifier = WebhookVerifier(["CRN_new_secret", PUBLISHED_SECRET])
    assert verifier.verify(PUBLISHED_BODY, PUBLISHED_DIGEST)


def test_client_verifier_uses_current_and_previous_secrets(client: CronofyClient) -> None:
    verifier = client.webhook_verifier()
    body = b'{"notification":{"type":"change"}}'
    assert verifier.verify(body, sign_body(body, "CRN_current_secret_for_tests"))
    assert verifier.verify(body, sign_body(body, "CRN_previous_secret_for_tests"))
    assert not verifier.verify(body, sign_body(body, "CRN_someone_else"))


@pytest.mark.requirement(2)
def test_reserialised_body_is_rejected() -> None:
    reserialised = json.dumps(json.loads(PUBLISHED_BODY)).encode()  # adds a space after ':'
    assert reserialised != PUBLISHED_BODY
    assert not WebhookVerifier([PUBLISHED_SECRET]).verify(reserialised, PUBLISHED_DIGEST)


@pytest.mark.parametrize(
    ("secret", "digest"),
    [
        ("pDY0Oi7TJSP2hfNmZNkm5", "6r2/HjBkqymGegX0wOfifieeUXbbHwtV/LohHS+jv6c="),
        (PUBLISHED_SECRET, PUBLISHED_DIGEST),
    ],
)
@pytest.mark.requirement(2)
def test_base64url_digest_is_rejected(secret: str, digest: str) -> None:
    verifier = WebhookVerifier([secret])
    urlsafe = base64.urlsafe_b64encode(base64.b64decode(digest)).decode()
    unpadded = urlsafe.rstrip("=")
    assert unpadded != digest
    assert not verifier.verify(PUBLISHED_BODY, unpadded)
    if urlsafe != digest:  # only digests holding '+' or '/' differ when padded
        assert not verifier.verify(PUBLISHED_BODY, urlsafe)


@pytest.mark.parametrize("header", [None, "", " ", ",", " , "])
def test_empty_header_is_rejected(header: str | None) -> None:
    assert not WebhookVerifier([PUBLISHED_SECRET]).verify(PUBLISHED_BODY, header)


@pytest.mark.requirement(2)
def test_non_ascii_header_is_rejected_without_raising() -> None:
    header = PUBLISHED_DIGEST[:-2] + "é="
    assert not WebhookVerifier([PUBLISHED_SECRET]).verify(PUBLISHED_BODY, header)
    assert not WebhookVerifier([PUBLISHED_SECRET]).verify(PUBLISHED_BODY, f"{PUBLISHED_DIGEST},ü")


def test_verifier_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        WebhookVerifier(["", ""])


def test_parse_change_notification() -> None:
    body = (
        b'{"notification":{"type":"change","changes_since":"2031-03-04T09:24:16Z"},'
        b'"channel":{"channel_id":"chn_1","callback_url":"https://svc.test/push/a",'
        b'"filters":{"calendar_ids":["cal_1"],"only_managed":true}}}'
    )
    assert parse_callback(body) == PushNotification(
        type="change",
        changes_since=datetime(2031, 3, 4, 9, 24, 16, tzinfo=UTC),
        channel_id="chn_1",
        callback_url="https://svc.test/push/a",
        calendar_ids=("cal_1",),
        only_managed=True,
    )


def test_parse_verification_notification_has_no_changes_since() -> None:
    result = parse_callback(DOC_BODY)
    assert isinstance(result, PushNotification)
    assert result.type == "verification"
    assert result.changes_since is None
    assert result.channel_id == "chn_0000example0001"


def test_parse_enterprise_connect_success_and_failure() -> None:
    ok = parse_callback(b'{"authorization":{"code":"Ab12","state":"u_481"}}')
    assert isinstance(ok, EnterpriseConnectCallback)
    assert ok.succeeded
    assert (ok.code, ok.state) == ("Ab12", "u_481")
    failed = parse_callback(
        b'{"authorization":{"error":"unable_to_grant_scope","error_key":"k",'
        b'"error_description":"nope","state":"u_9"}}'
    )
    assert failed == EnterpriseConnectCallback(
        code=None,
        error="unable_to_grant_scope",
        error_key="k",
        error_description="nope",
        state="u_9",
    )
    assert isinstance(failed, EnterpriseConnectCallback)
    assert not failed.succeeded


def test_parse_smart_invite_callback_with_proposal() -> None:
    body = json.dumps(
        {
            "notification": {"type": "smart_invite"},
            "smart_invite": {
                "smart_invite_id": "inv-5521",
                "callback_url": "https://svc.test/si",
                "recipient": {
                    "email": "guest@example.net",
                    "status": "tentative",
                    "comment": "Later?",
                    "proposal": {
                        "start": {"time": "2031-03-04T11:00:00Z", "tzid": "Europe/London"},
                        "end": "2031-03-05",
                    },
                },
            },
        }
    ).encode()
    result = parse_callback(body)
    assert isinstance(result, SmartInviteCallback)
    assert result.status == "tentative"
    assert result.recipient_email == "guest@example.net"
    assert result.proposal_start == datetime(2031, 3, 4, 11, tzinfo=UTC)
    assert result.proposal_end == date(2031, 3, 5)


@pytest.mark.parametrize(
    "body",
    [
        b'{"notification":{"type":"brand_new_type"},"channel":{"channel_id":"chn_7"}}',
        b'{"something":"else"}',
        b'{"notification":"odd"}',
    ],
)
def test_unknown_callbacks_parse_as_unknown(body: bytes) -> None:
    result = parse_callback(body)
    assert isinstance(result, UnknownNotification)


def test_unknown_type_keeps_channel_id() -> None:
    result = parse_callback(
        b'{"notification":{"type":"brand_new_type"},"channel":{"channel_id":"chn_7"}}'
    )
    assert result == UnknownNotification(type="brand_new_type", channel_id="chn_7")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b"\xff\xfe",
        b'{"notification":{"type":"change"},"channel":{}}',
        b'{"notification":{"type":"change","changes_since":"yesterday"},'
        b'"channel":{"channel_id":"c","callback_url":"u"}}',
    ],
)
def test_malformed_callbacks_raise_a_value_error_subclass(body: bytes) -> None:
    with pytest.raises(MalformedCallback):
        parse_callback(body)
    assert issubclass(MalformedCallback, ValueError)
