"""OAuth endpoints: consent pages, /oauth/token and /oauth/token/revoke."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeSerializer

from cronofy_sandbox import consent, grants
from cronofy_sandbox.errors import empty, oauth_error
from cronofy_sandbox.request_body import BodyError, json_or_form
from cronofy_sandbox.state import get_sandbox

bp = Blueprint("oauth", __name__)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_sandbox().config.signing_secret, salt="sandbox-consent")


@bp.get("/oauth/authorize")
def authorize() -> ResponseReturnValue:
    """Individual Connect consent page."""
    return _show(enterprise=False)


@bp.get("/enterprise_connect/oauth/authorize")
def enterprise_authorize() -> ResponseReturnValue:
    """Enterprise Connect consent page (the domain admin authorizes a service account)."""
    return _show(enterprise=True)


def _show(*, enterprise: bool) -> ResponseReturnValue:
    try:
        req = consent.parse(request.args.to_dict(), get_sandbox().config, enterprise=enterprise)
    except consent.ConsentError as exc:
        return render_template("sandbox/consent_error.html", message=str(exc)), 400
    except consent.RedirectError as exc:
        req_uri = request.args.get("redirect_uri", "")
        return redirect(
            consent.with_query(
                req_uri,
                {
                    "error": exc.error,
                    "error_description": str(exc),
                    "state": request.args.get("state", ""),
                },
            )
        )
    people = get_sandbox().store.query(
        "SELECT * FROM people WHERE admin = 1 ORDER BY name"
        if enterprise
        else "SELECT * FROM people ORDER BY name"
    )
    return render_template(
        "sandbox/consent.html",
        req=req,
        people=people,
        modes=consent.MODES,
        providers=consent.PROVIDERS,
        signed=_serializer().dumps(req.params()),
    )


@bp.post("/oauth/authorize")
@bp.post("/enterprise_connect/oauth/authorize")
def decide() -> ResponseReturnValue:
    """The person pressed Allow or Deny on the consent page."""
    try:
        params: dict[str, str] = _serializer().loads(request.form.get("request", ""))
    except BadSignature:
        return render_template("sandbox/consent_error.html", message="Tampered request."), 400
    req = consent.AuthorizeRequest(
        bool(params["enterprise"]),
        params["redirect_uri"],
        params["scope"],
        params["state"],
        params["access_mode"] or None,
        params["provider"] or None,
        params["delegated_scope"],
    )
    if request.form.get("decision") != "allow":
        return redirect(consent.deny_url(req))
    # As on Cronofy's own screens, the person may grant another mode or provider than asked.
    mode = request.form.get("access_mode") or req.access_mode or "read_write"
    provider = request.form.get("provider") or req.provider or "google"
    if mode not in consent.MODES or provider not in consent.PROVIDERS:
        return render_template("sandbox/consent_error.html", message="Pick a mode."), 400
    try:
        url = consent.allow(
            get_sandbox().store,
            get_sandbox().config,
            req,
            request.form.get("person", ""),
            mode,
            provider,
        )
    except consent.ConsentError as exc:
        return render_template("sandbox/consent_error.html", message=str(exc)), 400
    return redirect(url)


def _body() -> dict[str, Any]:
    """JSON or form-encoded body (both are accepted on the OAuth endpoints)."""
    try:
        return json_or_form()
    except BodyError as exc:
        raise oauth_error("invalid_request") from exc


def _check_client(body: dict[str, Any]) -> None:
    config = get_sandbox().config
    if body.get("client_id") != config.client_id or body.get("client_secret") not in (
        config.client_secrets
    ):
        raise oauth_error("invalid_client", 401)


@bp.post("/oauth/token")
def token() -> ResponseReturnValue:
    """Code exchange and refresh."""
    body = _body()
    _check_client(body)
    sandbox = get_sandbox()
    grant_type = body.get("grant_type")
    if grant_type == "authorization_code":
        if not body.get("code") or not body.get("redirect_uri"):
            raise oauth_error("invalid_request")
        result = grants.exchange_code(
            sandbox.store, sandbox.config, str(body["code"]), str(body["redirect_uri"])
        )
    elif grant_type == "refresh_token":
        if not body.get("refresh_token"):
            raise oauth_error("invalid_request")
        result = grants.refresh(sandbox.store, sandbox.config, str(body["refresh_token"]))
    else:
        raise oauth_error("unsupported_grant_type")
    response = jsonify(result)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.post("/oauth/token/revoke")
def revoke() -> ResponseReturnValue:
    """RFC 7009 revocation: 200 with no body, even for unknown tokens; `token` wins over `sub`.

    Without `token` (or Cronofy's `sub` extension) there is nothing to revoke: RFC 7009 §2.1
    makes `token` required, so the request is a 400 invalid_request, not a silent 200. That
    is what a client sending `refresh_token=` instead (the Node SDK's default) must see.
    """
    body = _body()
    _check_client(body)
    store = get_sandbox().store
    token, sub = body.get("token"), body.get("sub")
    if isinstance(token, str) and token:
        grants.revoke_token(store, token)
    elif token is None and isinstance(sub, str) and sub:
        grants.revoke_sub(store, sub)
    else:
        raise oauth_error("invalid_request")
    return empty(200)
