"""Test helpers: serve a sandbox app on a free loopback port, and drive its control API."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from flask import Flask
from werkzeug.serving import make_server

from cronofy_sandbox.timefmt import format_time

TIMEOUT = 10.0


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve `app` on 127.0.0.1:<free port> from a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="cronofy-sandbox-http", daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@dataclass(frozen=True, slots=True)
class SandboxControl:
    """A small typed wrapper around /control/... of a served sandbox."""

    base_url: str
    session: requests.Session

    def _call(self, method: str, path: str, json: dict[str, Any] | None = None) -> Any:
        resp = self.session.request(
            method, f"{self.base_url}/control{path}", json=json, timeout=TIMEOUT
        )
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def reset(self, *, seed_demo: bool = True) -> None:
        """Empty the sandbox (and re-seed the demo people)."""
        self._call("POST", "/reset", {"seed_demo": seed_demo})

    def people(self) -> list[dict[str, Any]]:
        """Every person with sub, profiles and calendars."""
        return list(self._call("GET", "/people")["people"])

    def person(self, email: str) -> dict[str, Any]:
        """One person by e-mail."""
        return next(p for p in self.people() if p["email"] == email)

    def calendar_id(self, email: str, provider: str = "google", *, primary: bool = True) -> str:
        """The primary (or read-only) calendar of a person's profile."""
        profile = next(p for p in self.person(email)["profiles"] if p["provider"] == provider)
        return str(next(c["calendar_id"] for c in profile["calendars"] if c["primary"] == primary))

    def add_person(self, email: str, name: str, *, tzid: str = "Etc/UTC") -> dict[str, Any]:
        """Seed one person."""
        return dict(self._call("POST", "/people", {"email": email, "name": name, "tzid": tzid}))

    def add_events(
        self, calendar_id: str, events: list[dict[str, Any]], *, notify: bool = True
    ) -> list[str]:
        """Add external events ({"summary", "start", "end"}, datetimes allowed)."""
        specs = [
            {k: format_time(v) if isinstance(v, datetime) else v for k, v in e.items()}
            for e in events
        ]
        body = {"calendar_id": calendar_id, "events": specs, "notify": notify}
        return list(self._call("POST", "/events", body)["event_uids"])

    def add_event(self, calendar_id: str, summary: str, start: datetime, end: datetime) -> str:
        """Add one external event (sends a change notification)."""
        return self.add_events(calendar_id, [{"summary": summary, "start": start, "end": end}])[0]

    def move_event(self, event_uid: str, start: datetime, end: datetime) -> None:
        """Move an external event (sends a change notification)."""
        self._call(
            "PATCH", f"/events/{event_uid}", {"start": format_time(start), "end": format_time(end)}
        )

    def delete_event(self, event_uid: str) -> None:
        """Delete an external event (sends a change notification)."""
        self._call("DELETE", f"/events/{event_uid}")

    def events(self, calendar_id: str) -> list[dict[str, Any]]:
        """Everything stored in a calendar."""
        return list(self._call("GET", f"/events?calendar_id={calendar_id}")["events"])

    def requests(self) -> list[dict[str, Any]]:
        """API calls received so far."""
        return list(self._call("GET", "/requests")["requests"])

    def clear_requests(self) -> None:
        """Forget the request log."""
        self._call("DELETE", "/requests")

    def fail_next(
        self, status: int, count: int = 1, *, latency_ms: int = 0, path_prefix: str = ""
    ) -> None:
        """Make the next `count` API calls answer `status` (0: only add latency)."""
        self._call(
            "POST",
            "/faults",
            {
                "status": status,
                "count": count,
                "latency_ms": latency_ms,
                "path_prefix": path_prefix,
            },
        )

    def clear_faults(self) -> None:
        """Remove pending faults."""
        self._call("DELETE", "/faults")

    def set_rate_limits(self, enabled: bool) -> None:
        """Enforce (or stop enforcing) 50/s and 500/min."""
        self._call("POST", "/rate_limits", {"enabled": enabled})

    def revoke_refresh_token(self, refresh_token: str) -> None:
        """Revoke a grant as the person would at Cronofy."""
        self._call("POST", "/revoke_refresh_token", {"refresh_token": refresh_token})

    def expire_access_tokens(self, sub: str | None = None) -> int:
        """Expire access tokens now."""
        return int(self._call("POST", "/expire_access_tokens", {"sub": sub})["expired"])

    def disconnect_profile(self, profile_id: str) -> int:
        """Disconnect a profile; return how many channels were notified."""
        return int(self._call("POST", f"/profiles/{profile_id}/disconnect")["notified"])

    def grant_permission(self, calendar_id: str, level: str = "unrestricted") -> None:
        """Give the app `level` permission on a calendar, as if the person accepted."""
        self._call("POST", f"/calendars/{calendar_id}/permission", {"permission_level": level})

    def mailbox(self, recipient: str | None = None) -> list[dict[str, Any]]:
        """E-mailed invites."""
        query = f"?recipient={recipient}" if recipient else ""
        return list(self._call("GET", f"/mailbox{query}")["messages"])

    def reply_to_smart_invite(
        self, smart_invite_id: str, email: str, status: str, comment: str | None = None
    ) -> dict[str, Any]:
        """The recipient accepts, tentatively accepts or declines (Cronofy calls back)."""
        body: dict[str, Any] = {"smart_invite_id": smart_invite_id, "email": email,
                                "status": status}  # fmt: skip
        if comment is not None:
            body["comment"] = comment
        return dict(self._call("POST", "/smart_invites/reply", body))

    def deliveries(self) -> list[dict[str, Any]]:
        """Outbound callbacks and their outcomes."""
        return list(self._call("GET", "/deliveries")["deliveries"])


def click_through_consent(
    session: requests.Session,
    authorize_url: str,
    *,
    person: str,
    allow: bool = True,
    access_mode: str | None = None,
    provider: str | None = None,
) -> str:
    """Open a consent page, pick `person` (and mode/provider if offered); return the redirect."""
    page = session.get(authorize_url, timeout=TIMEOUT, allow_redirects=False)
    if page.status_code != 200:
        raise AssertionError(f"consent page answered {page.status_code}")
    marker = 'name="request" value="'
    start = page.text.index(marker) + len(marker)
    form = {
        "request": page.text[start : page.text.index('"', start)],
        "person": person,
        "decision": "allow" if allow else "deny",
    }
    if access_mode:
        form["access_mode"] = access_mode
    if provider:
        form["provider"] = provider
    post_url = authorize_url.split("?", 1)[0]
    resp = session.post(post_url, data=form, timeout=TIMEOUT, allow_redirects=False)
    if resp.status_code != 302:
        raise AssertionError(f"consent form answered {resp.status_code}")
    return str(resp.headers["Location"])
