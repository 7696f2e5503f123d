"""Reading JSON request bodies safely: size, nesting and type are checked before any use.

Cronofy documents neither a body size limit nor a nesting limit ([INF]); the sandbox refuses
bodies over `SandboxConfig.max_body_bytes` with 413 (Flask's MAX_CONTENT_LENGTH) and JSON
nested deeper than MAX_DEPTH with a 422, so no body can exhaust the parser's recursion.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from flask import request

from cronofy_sandbox.errors import invalid

# Real Cronofy bodies nest about five levels (availability: participants → members →
# available_periods → period); 32 leaves room for anything legitimate.
MAX_DEPTH = 32


class BodyError(ValueError):
    """The body is not JSON, is nested too deeply, or is not an object."""


def parse_object(raw: bytes) -> dict[str, Any]:
    """Parse `raw` as a JSON object (empty → {}); raise BodyError otherwise."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        # RecursionError: the C decoder gives up on very deep nesting (e.g. 200,000 "[").
        raise BodyError("the body must be valid JSON") from exc
    if _depth_exceeds(value, MAX_DEPTH):
        raise BodyError(f"the body must not nest deeper than {MAX_DEPTH} levels")
    if not isinstance(value, dict):
        raise BodyError("the body must be a JSON object")
    return value


def _depth_exceeds(value: object, limit: int) -> bool:
    """Whether any container in `value` sits deeper than `limit` (iterative: no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def json_object() -> dict[str, Any]:
    """The request's JSON object body ({} when empty); 422 when unusable, 413 when too big."""
    try:
        # get_data honours MAX_CONTENT_LENGTH: a larger body raises 413 before being read.
        return parse_object(request.get_data(cache=True))
    except BodyError as exc:
        raise invalid("body", "invalid", str(exc)) from exc


def is_http_url(value: object) -> bool:
    """Whether a body value is an absolute HTTP(S) URL (callback and redirect URLs)."""
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def json_or_form() -> dict[str, Any]:
    """The OAuth endpoints' body: JSON or form-encoded (§1.3); BodyError when unusable."""
    if request.mimetype == "application/json":
        return parse_object(request.get_data(cache=True))
    return request.form.to_dict()
