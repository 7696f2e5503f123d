"""Enterprise Connect pages (admins of one organisation) and Cronofy's signed callbacks.

Every page is for admins only; anyone else gets 404, so the pages' existence is not revealed.
"""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from cronofy_client import Provider
from webapp import metrics
from webapp.access import admin_required, current_account
from webapp.clients import get_clients
from webapp.extensions import csrf
from webapp.models import AccessMode
from webapp.security import TokenCipher
from webapp.services import connections, enterprise

log = logging.getLogger(__name__)

bp = Blueprint("enterprise", __name__)


MODE_LABELS = {mode: connections.mode_label(mode) for mode in AccessMode}


# What Cronofy's delegated scopes let us do, in words an admin can check (DESIGN §5).
SCOPE_MEANINGS = {
    "free_busy_write": "see when they are busy and create, change and delete the events we make",
    "read_free_busy": "see when they are busy",
    "read_account": "read their account details",
    "list_calendars": "list their calendars",
    "read_events": "read their events",
    "create_event": "create events",
    "delete_event": "delete the events we made",
    "change_participation_status": "accept or decline invitations",
}


@bp.app_template_filter("scope_meaning")
def scope_meaning_filter(scope: str | None) -> str:
    """A Cronofy scope string as a sentence ("see when they are busy and ...")."""
    parts = [SCOPE_MEANINGS.get(token, token) for token in (scope or "").split()]
    return "; ".join(parts) if parts else "nothing yet"


def _cipher() -> TokenCipher:
    cipher: TokenCipher = current_app.extensions["token_cipher"]
    return cipher


def _base_url() -> str:
    return str(current_app.config["PUBLIC_BASE_URL"])


@bp.get("/enterprise")
@admin_required
def index() -> ResponseReturnValue:
    """The organisation's Enterprise Connect status, forms and authorization table."""
    admin = current_account()
    status = enterprise.organisation_status(admin.organisation_id)
    return render_template(
        "enterprise/index.html",
        organisation=admin.organisation,
        status=status,
        modes=MODE_LABELS,
        providers=list(Provider),
        max_csv_kb=enterprise.MAX_CSV_BYTES // 1024,
    )


@bp.post("/enterprise/connect")
@admin_required
def connect() -> ResponseReturnValue:
    """Start Enterprise Connect with the chosen access mode and provider."""
    try:
        mode = AccessMode(request.form.get("access_mode", ""))
        provider_name = request.form.get("provider_name") or None
        provider = Provider(provider_name) if provider_name else None
    except ValueError:
        flash("Choose an access mode and a provider from the lists.", "error")
        return redirect(url_for("enterprise.index")), 303
    url = enterprise.start_connect(
        get_clients().cronofy_in_request,
        admin=current_account(),
        access_mode=mode,
        provider=provider,
        redirect_uri=f"{_base_url()}{url_for('enterprise.callback')}",
    )
    return redirect(url, 303)


@bp.get("/enterprise/callback")
@admin_required
def callback() -> ResponseReturnValue:
    """Cronofy sends the admin back here with a code (or an error)."""
    if error := request.args.get("error"):
        return _callback_error(_denied_message(error))
    try:
        account = enterprise.complete_connect(
            get_clients().cronofy_in_request,
            _cipher(),
            admin=current_account(),
            code=request.args.get("code", ""),
            state=request.args.get("state", ""),
        )
    except enterprise.EnterpriseError as exc:
        return _callback_error(str(exc))
    flash(f"Organisation connected ({MODE_LABELS[account.access_mode]}).", "success")
    return redirect(url_for("enterprise.index"))


def _denied_message(error: str) -> str:
    if error == "access_denied":
        return "Access was not granted on Cronofy's page, so nothing was connected."
    return f"Cronofy could not connect the organisation ({error[:64]}). Nothing was stored."


def _callback_error(message: str) -> ResponseReturnValue:
    response = Response(render_template("enterprise/callback_error.html", message=message), 400)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/enterprise/authorizations")
@admin_required
def authorize() -> ResponseReturnValue:
    """Authorize instructors from pasted e-mails and/or an uploaded CSV."""
    upload = request.files.get("csv_file")
    try:
        csv_bytes = upload.read(enterprise.MAX_CSV_BYTES + 1) if upload else None
        recipients = enterprise.parse_recipients(request.form.get("emails", ""), csv_bytes)
        if recipients.empty:
            raise enterprise.InvalidRecipients("Paste at least one e-mail address or pick a CSV.")
        report = enterprise.authorize_instructors(
            get_clients().cronofy_in_request,
            _cipher(),
            admin=current_account(),
            recipients=recipients,
            callback_base_url=_base_url(),
        )
    except enterprise.EnterpriseError as exc:
        flash(str(exc), "error")
        return redirect(url_for("enterprise.index")), 303
    _flash_report(report)
    return redirect(url_for("enterprise.index")), 303


def _flash_report(report: enterprise.AuthorizationReport) -> None:
    """One short summary; what became of each address stays listed on the page."""
    sent = len(report.requested)
    to_check = len(report.invalid) + len(report.unknown) + len(report.not_sent)
    message = f"{sent} sent to Cronofy."
    if to_check:
        verb = "needs" if to_check == 1 else "need"
        message += f" {to_check} {verb} your attention: see “Results of your last submission”."
    flash(message, "warning" if to_check else "success")


@bp.post("/enterprise/authorizations/<int:authorization_id>/retry")
@admin_required
def retry(authorization_id: int) -> ResponseReturnValue:
    """Send one pending or failed authorization again."""
    try:
        row = enterprise.retry_authorization(
            get_clients().cronofy_in_request,
            _cipher(),
            admin=current_account(),
            authorization_id=authorization_id,
            callback_base_url=_base_url(),
        )
    except enterprise.AuthorizationNotFound:
        abort(404)
    except enterprise.EnterpriseError as exc:
        flash(str(exc), "error")
        return redirect(url_for("enterprise.index")), 303
    flash(f"Sent {row.email} to Cronofy again.", "success")
    return redirect(url_for("enterprise.index")), 303


@bp.post("/enterprise/instructors/<int:instructor_id>/replace")
@admin_required
def replace_individual(instructor_id: int) -> ResponseReturnValue:
    """The admin's explicit choice: replace an instructor's own connection (they are told)."""
    try:
        row = enterprise.replace_individual_connection(
            get_clients().cronofy_in_request,
            _cipher(),
            admin=current_account(),
            instructor_id=instructor_id,
            callback_base_url=_base_url(),
        )
    except enterprise.AuthorizationNotFound:
        abort(404)
    except enterprise.EnterpriseError as exc:
        flash(str(exc), "error")
        return redirect(url_for("enterprise.index")), 303
    flash(
        f"Sent {row.email} to Cronofy. Their own connection is replaced when Cronofy answers; "
        "they are told by e-mail.",
        "success",
    )
    return redirect(url_for("enterprise.index")), 303


@bp.route("/enterprise/disconnect", methods=["GET", "POST"])
@admin_required
def disconnect() -> ResponseReturnValue:
    """Confirm, then revoke the organisation's access and every delegated connection."""
    admin = current_account()
    status = enterprise.organisation_status(admin.organisation_id)
    if status.account is None:
        abort(404)
    if request.method == "GET":
        return render_template("enterprise/disconnect.html", status=status)
    try:
        result = enterprise.disconnect_organisation(admin=admin)
    except enterprise.EnterpriseError as exc:
        flash(str(exc), "error")
        return redirect(url_for("enterprise.disconnect")), 303
    flash(_disconnected_message(result), "success")
    return redirect(url_for("enterprise.index")), 303


def _disconnected_message(result: enterprise.DisconnectResult) -> str:
    made = result.connections_disconnected
    kept = result.individual_kept
    return (
        "Organisation disconnected. "
        f"{_people(made)} connected through it {'is' if made == 1 else 'are'} now disconnected; "
        f"{_people(kept)} who connected their own calendar keep{'s' if kept == 1 else ''} it."
    )


def _people(count: int) -> str:
    return "1 instructor" if count == 1 else f"{count} instructors"


@bp.post("/webhooks/cronofy/enterprise/<token>")
@csrf.exempt  # type: ignore[untyped-decorator]  # Flask-WTF ships no types
def enterprise_callback(token: str) -> ResponseReturnValue:
    """Cronofy's signed result for one e-mail: 200 handled/ignored, 401 bad signature."""
    try:
        outcome = enterprise.receive_callback(
            get_clients().cronofy_in_request,
            token=token,
            raw_body=request.get_data(cache=True),
            signature=request.headers.get("Cronofy-HMAC-SHA256"),
            webhook_base_url=_base_url(),
        )
    except enterprise.InvalidSignature:
        log.warning("enterprise callback with a bad signature rejected")
        metrics.count_webhook("enterprise", "rejected")
        return {"error": "invalid signature"}, 401
    except enterprise.MalformedEnterpriseCallback as exc:
        metrics.count_webhook("enterprise", "malformed")
        return {"error": str(exc)}, 400
    metrics.count_webhook("enterprise", outcome.value)
    return {"outcome": outcome.value}, 200
