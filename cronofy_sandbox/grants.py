"""Authorization codes and token sets: issue, exchange, refresh, revoke."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from cronofy_sandbox import directory
from cronofy_sandbox.config import SandboxConfig
from cronofy_sandbox.errors import oauth_error
from cronofy_sandbox.ids import new_id, token
from cronofy_sandbox.store import Store


def issue_code(
    store: Store,
    config: SandboxConfig,
    *,
    sub: str,
    scope: str,
    redirect_uri: str,
    kind: str,
    profile_id: str | None = None,
    delegated: bool = False,
) -> str:
    """A single-use authorization code, valid for `authorization_code_lifetime` seconds.

    `delegated`: granted through an Enterprise Connect service account (extended permission
    requests are then accepted at once, §2.7).
    """
    code = token()
    store.execute(
        "INSERT INTO codes (code, redirect_uri, sub, scope, profile_id, kind, expires_at,"
        " delegated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            code,
            redirect_uri,
            sub,
            scope,
            profile_id,
            kind,
            time.time() + config.authorization_code_lifetime,
            int(delegated),
        ),
    )
    return code


def exchange_code(
    store: Store, config: SandboxConfig, code: str, redirect_uri: str
) -> dict[str, Any]:
    """Redeem a code: 400 invalid_grant if unknown, used, expired or redirect_uri differs."""
    with store.transaction() as conn:
        row = conn.execute("SELECT * FROM codes WHERE code = ?", (code,)).fetchone()
        if row is None or row["used"] or row["expires_at"] <= time.time():
            raise oauth_error("invalid_grant")
        # A code is burnt by any attempt, even one with the wrong redirect_uri (single use).
        conn.execute("UPDATE codes SET used = 1 WHERE code = ?", (code,))
    if row["redirect_uri"] != redirect_uri:
        raise oauth_error("invalid_grant")
    tokens = _issue(store, config, row, grant_id=new_id("grt"))
    return _token_response(store, row, tokens)


def _issue(
    store: Store, config: SandboxConfig, row: sqlite3.Row, *, grant_id: str
) -> dict[str, Any]:
    lifetime = (
        config.service_account_token_lifetime
        if row["kind"] == "service_account"
        else config.access_token_lifetime
    )
    access, refresh = token(), token()
    store.execute(
        "INSERT INTO tokens (access_token, refresh_token, grant_id, sub, scope, kind, profile_id,"
        " expires_at, delegated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            access,
            refresh,
            grant_id,
            row["sub"],
            row["scope"],
            row["kind"],
            row["profile_id"],
            time.time() + lifetime,
            row["delegated"],
        ),
    )
    return {
        "token_type": "bearer",
        "access_token": access,
        "expires_in": lifetime,
        "refresh_token": refresh,
        "scope": row["scope"],
    }


def _token_response(store: Store, row: sqlite3.Row, tokens: dict[str, Any]) -> dict[str, Any]:
    if row["kind"] == "service_account":
        # Docs show service_account_id; `sub` is [INF] ("probably also carried").
        return {**tokens, "service_account_id": row["sub"], "sub": row["sub"]}
    body = {**tokens, "account_id": row["sub"], "sub": row["sub"]}
    profile = store.one("SELECT * FROM profiles WHERE profile_id = ?", (row["profile_id"],))
    if profile is not None:
        body["linking_profile"] = {
            "provider_name": directory.provider_name(profile),
            "provider_service": directory.provider_service(profile),
            "profile_id": profile["profile_id"],
            "profile_name": profile["profile_name"],
        }
    return body


def refresh(store: Store, config: SandboxConfig, refresh_token: str) -> dict[str, Any]:
    """New access token for a live refresh token; rotates the refresh token when configured."""
    row = store.one(
        "SELECT * FROM tokens WHERE refresh_token = ? AND refresh_valid = 1"
        " ORDER BY expires_at DESC LIMIT 1",
        (refresh_token,),
    )
    if row is None:
        raise oauth_error("invalid_grant")
    tokens = _issue(store, config, row, grant_id=row["grant_id"])
    if config.rotate_refresh_tokens:
        store.execute(
            "UPDATE tokens SET refresh_valid = 0 WHERE refresh_token = ?", (refresh_token,)
        )
    else:
        store.execute(
            "UPDATE tokens SET refresh_token = ? WHERE access_token = ?",
            (refresh_token, tokens["access_token"]),
        )
        tokens["refresh_token"] = refresh_token
    return tokens


def revoke_token(store: Store, value: str) -> None:
    """Revoke the whole grant an access or refresh token belongs to (unknown: no-op)."""
    row = store.one(
        "SELECT grant_id, sub FROM tokens WHERE access_token = ? OR refresh_token = ?",
        (value, value),
    )
    if row is not None:
        store.execute(
            "UPDATE tokens SET access_valid = 0, refresh_valid = 0 WHERE grant_id = ?",
            (row["grant_id"],),
        )
        _unlink_ungranted_profiles(store, row["sub"])


def revoke_sub(store: Store, sub: str) -> None:
    """Revoke every grant of an account (revoke by `sub`)."""
    store.execute("UPDATE tokens SET access_valid = 0, refresh_valid = 0 WHERE sub = ?", (sub,))
    _unlink_ungranted_profiles(store, sub)


def _unlink_ungranted_profiles(store: Store, sub: str) -> None:
    """A profile no live grant covers is no longer connected to the application (as Cronofy)."""
    store.execute(
        "UPDATE profiles SET linked = 0 WHERE sub = ? AND linked = 1 AND profile_id NOT IN"
        " (SELECT profile_id FROM tokens WHERE sub = ? AND refresh_valid = 1"
        " AND profile_id IS NOT NULL)",
        (sub, sub),
    )


def expire_access_tokens(store: Store, sub: str | None = None) -> int:
    """Make access tokens expired now (all, or one account's); return how many."""
    with store.transaction() as conn:
        if sub is None:
            return conn.execute("UPDATE tokens SET expires_at = 0").rowcount
        return conn.execute("UPDATE tokens SET expires_at = 0 WHERE sub = ?", (sub,)).rowcount
