"""The admins' API keys page: create a key (shown once), see and revoke the organisation's keys.

Admins only; anyone else gets 404, so the page's existence is not revealed.
"""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from webapp.access import admin_required, current_account
from webapp.services import api_keys

log = logging.getLogger(__name__)

bp = Blueprint("api_keys", __name__)


def _page(*, issued: api_keys.IssuedKey | None = None, status: int = 200) -> ResponseReturnValue:
    admin = current_account()
    response = make_response(
        render_template(
            "api_keys/index.html",
            organisation=admin.organisation,
            keys=api_keys.list_keys(admin.organisation_id),
            issued=issued,
            display_id=api_keys.display_id,
            max_name=api_keys.MAX_NAME_LENGTH,
        ),
        status,
    )
    # The page may show a key once: keep it out of every cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api-keys")
@admin_required
def index() -> ResponseReturnValue:
    """The organisation's keys and the form to create one."""
    return _page()


@bp.post("/api-keys")
@admin_required
def create() -> ResponseReturnValue:
    """Create a key and show it, this once."""
    try:
        issued = api_keys.create_key(admin=current_account(), name=request.form.get("name", ""))
    except api_keys.ApiKeyError as exc:
        flash(str(exc), "error")
        return _page(status=400)
    return _page(issued=issued)


@bp.post("/api-keys/<int:key_id>/revoke")
@admin_required
def revoke(key_id: int) -> ResponseReturnValue:
    """Revoke one of the organisation's keys."""
    admin = current_account()
    try:
        api_key = api_keys.organisation_key(admin.organisation_id, key_id)
    except api_keys.ApiKeyNotFound:
        abort(404)
    api_keys.revoke_key(api_key, actor=admin)
    flash(f"Revoked “{api_key.name}”: requests with it now get 401.", "success")
    return redirect(url_for("api_keys.index")), 303
