"""A request id on every request, its log lines, its response and the tasks it queues.

The id comes from a well-formed ``X-Request-ID`` header (a proxy or load balancer that set
one), else is made here; the response carries it back. Celery tasks sent while handling the
request carry it in their headers, and their log lines show it too, so one id follows a
booking from the API call to the calendar write in the worker.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token
from typing import Any

from celery import signals
from flask import Flask, Response, g, request

HEADER = "X-Request-ID"
TASK_HEADER = "bridge_request_id"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{8,64}")

current: ContextVar[str | None] = ContextVar("request_id", default=None)


def request_id() -> str | None:
    """The id of the request or task being handled (None outside both)."""
    return current.get()


def _from_header(raw: str | None) -> str:
    if raw and _WELL_FORMED.fullmatch(raw):
        return raw
    return uuid.uuid4().hex


def init_app(app: Flask) -> None:
    """Give every request an id (kept in a context variable for log records and tasks)."""

    @app.before_request
    def _start() -> None:
        g.request_id_token = current.set(_from_header(request.headers.get(HEADER)))

    @app.after_request
    def _answer(response: Response) -> Response:
        if (value := current.get()) is not None:
            response.headers[HEADER] = value
        return response

    @app.teardown_request
    def _end(_: BaseException | None) -> None:
        token: Token[str | None] | None = g.pop("request_id_token", None)
        if token is not None:
            current.reset(token)


@signals.before_task_publish.connect  # type: ignore[untyped-decorator]  # celery is untyped
def _carry_into_task(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """A task sent while handling a request carries that request's id."""
    if headers is not None and (value := current.get()) is not None:
        headers[TASK_HEADER] = value


@signals.task_prerun.connect  # type: ignore[untyped-decorator]  # celery is untyped
def _adopt_in_task(task: Any = None, **_: Any) -> None:
    """A worker running the task logs with the id of the request that sent it."""
    value = getattr(getattr(task, "request", None), TASK_HEADER, None)
    if isinstance(value, str) and _WELL_FORMED.fullmatch(value):
        task.request.bridge_request_id_token = current.set(value)


@signals.task_postrun.connect  # type: ignore[untyped-decorator]  # celery is untyped
def _leave_task(task: Any = None, **_: Any) -> None:
    token = getattr(getattr(task, "request", None), "bridge_request_id_token", None)
    if token is not None:
        current.reset(token)
        task.request.bridge_request_id_token = None
