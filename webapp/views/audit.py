"""The audit log page and its CSV download (admins: their organisation; instructors: their own)."""

from __future__ import annotations

import csv
import io
import json

from flask import Blueprint, make_response, render_template, request
from flask.typing import ResponseReturnValue

from webapp.access import current_account, login_required
from webapp.models import AuditEvent
from webapp.services import audit_log

bp = Blueprint("audit", __name__)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@bp.get("/audit")
@login_required
def index() -> ResponseReturnValue:
    """Filterable list of entries, newest first."""
    viewer = current_account()
    error, wanted = None, audit_log.AuditFilter()
    try:
        wanted = audit_log.AuditFilter.parse(request.args.to_dict())
    except audit_log.InvalidFilter as exc:
        error = str(exc)
    rows = [] if error else audit_log.entries(viewer, wanted)
    html = render_template(
        "audit/index.html",
        rows=rows,
        wanted=wanted,
        actions=audit_log.actions(viewer),
        error=error,
        limit=audit_log.MAX_ROWS,
        details=_details,
    )
    return make_response(html, 400 if error else 200)


@bp.get("/audit.csv")
@login_required
def download() -> ResponseReturnValue:
    """The same entries as CSV (spreadsheet formulas neutralised)."""
    try:
        wanted = audit_log.AuditFilter.parse(request.args.to_dict())
    except audit_log.InvalidFilter as exc:
        return make_response(str(exc), 400, {"Content-Type": "text/plain; charset=utf-8"})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["time_utc", "actor", "action", "target", "details"])
    for row in audit_log.entries(current_account(), wanted, limit=10 * audit_log.MAX_ROWS):
        writer.writerow(
            _safe(cell)
            for cell in (
                row.created_at.isoformat(),
                row.actor_label,
                row.action,
                row.target,
                _details(row),
            )  # fmt: skip
        )
    response = make_response(out.getvalue(), 200)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _details(row: AuditEvent) -> str:
    return json.dumps(row.details, sort_keys=True, ensure_ascii=False) if row.details else ""


def _safe(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell
