"""The consent step of /oauth/authorize and /enterprise_connect/oauth/authorize."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cronofy_sandbox import grants, scopes
from cronofy_sandbox.config import SandboxConfig
from cronofy_sandbox.ids import new_id
from cronofy_sandbox.request_body import is_http_url
from cronofy_sandbox.seed import stable_id
from cronofy_sandbox.store import Store

MODES = ("read_write", "free_busy", "no_calendar")
PROVIDERS = ("google", "ms_graph")
# Older doc pages force the mode through provider_name (§2.1); map them onto (mode, provider).
_LEGACY_PROVIDERS = {
    "google_free_busy": ("free_busy", "google"),
    "ms_graph_free_busy": ("free_busy", "ms_graph"),
    "cronofy": ("no_calendar", None),
    "office365": (None, "ms_graph"),
    "ms_graph": (None, "ms_graph"),
    "google": (None, "google"),
}


class ConsentError(ValueError):
    """The request cannot be shown: render an error page, never redirect."""


class RedirectError(ValueError):
    """The client and redirect_uri are valid: redirect back with ?error=..."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error


@dataclass(frozen=True, slots=True)
class AuthorizeRequest:
    """A validated authorize request."""

    enterprise: bool
    redirect_uri: str
    scope: str
    state: str
    access_mode: str | None
    provider: str | None
    delegated_scope: str = ""

    def params(self) -> dict[str, str]:
        """The request as form fields (to round-trip through the consent form)."""
        return {
            "enterprise": "1" if self.enterprise else "",
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "state": self.state,
            "access_mode": self.access_mode or "",
            "provider": self.provider or "",
            "delegated_scope": self.delegated_scope,
        }


def parse(args: dict[str, str], config: SandboxConfig, *, enterprise: bool) -> AuthorizeRequest:
    """Validate the query string of an authorize request."""
    if args.get("client_id") != config.client_id:
        raise ConsentError("Unknown client_id: this application is not registered.")
    redirect_uri = args.get("redirect_uri", "")
    if not is_http_url(redirect_uri):
        raise ConsentError("redirect_uri must be an absolute http(s) URL.")
    if args.get("response_type") != "code":
        raise RedirectError("unsupported_response_type", "response_type must be code")
    scope = args.get("scope", "").strip()
    mode, provider = _mode_and_provider(args)
    delegated = args.get("delegated_scope", "").strip()
    if enterprise:
        if not scope.startswith("service_account/") or not delegated:
            raise RedirectError("invalid_scope", "scope and delegated_scope are required")
    elif not scope or scopes.unknown(scope):
        raise RedirectError("invalid_scope", "unknown or missing scope")
    return AuthorizeRequest(
        enterprise, redirect_uri, scope, args.get("state", ""), mode, provider, delegated
    )


def _mode_and_provider(args: dict[str, str]) -> tuple[str | None, str | None]:
    mode = args.get("access_mode") or None
    if mode is not None and mode not in MODES:
        raise RedirectError("invalid_request", f"unknown access_mode {mode}")
    named = args.get("provider_name") or None
    if named is None:
        return mode, None
    if named not in _LEGACY_PROVIDERS:
        raise RedirectError("invalid_request", f"provider {named} is not offered by the sandbox")
    legacy_mode, provider = _LEGACY_PROVIDERS[named]
    return mode or legacy_mode, provider


def with_query(url: str, params: dict[str, str]) -> str:
    """`url` with `params` appended to its existing query string."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def deny_url(req: AuthorizeRequest, error: str = "access_denied") -> str:
    """Where the browser goes when the person says no."""
    return with_query(req.redirect_uri, {"error": error, "state": req.state})


def allow(
    store: Store, config: SandboxConfig, req: AuthorizeRequest, email: str, mode: str, provider: str
) -> str:
    """Grant the request for this person; return the redirect URL carrying the code."""
    person = store.one("SELECT * FROM people WHERE email = ?", (email,))
    if person is None or (req.enterprise and not person["admin"]):
        raise ConsentError("Pick one of the listed people.")
    if req.enterprise:
        sub = _service_account(store, req, person["email"], mode, provider)
        code = grants.issue_code(
            store,
            config,
            sub=sub,
            scope=req.scope,
            redirect_uri=req.redirect_uri,
            kind="service_account",
        )
    else:
        profile_id = link_profile(store, person["email"], person["sub"], mode, provider)
        code = grants.issue_code(
            store,
            config,
            sub=person["sub"],
            scope=req.scope,
            redirect_uri=req.redirect_uri,
            kind="account",
            profile_id=profile_id,
        )
    return with_query(req.redirect_uri, {"code": code, "state": req.state})


def link_profile(store: Store, email: str, sub: str, mode: str, provider: str) -> str:
    """Connect the person's profile for (mode, provider); return its profile_id."""
    profile_id = stable_id(
        "pro", email, "cronofy" if mode == "no_calendar" else provider, length=10
    )
    store.execute(
        "UPDATE profiles SET linked = 1, connected = 1, access_mode = ? WHERE profile_id = ?",
        (mode, profile_id),
    )
    return profile_id


def _service_account(
    store: Store, req: AuthorizeRequest, email: str, mode: str, provider: str
) -> str:
    domain = email.rsplit("@", 1)[1]
    existing = store.one("SELECT sub FROM service_accounts WHERE domain = ?", (domain,))
    sub = existing["sub"] if existing else new_id("ser")
    store.execute(
        "INSERT OR REPLACE INTO service_accounts (sub, email, domain, provider, delegated_scope,"
        " access_mode, scope) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (sub, email, domain, provider, req.delegated_scope, mode, req.scope),
    )
    return str(sub)
