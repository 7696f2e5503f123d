"""Parsing Cronofy query strings: booleans in both spellings, dates, times, calendar_ids[]."""

from __future__ import annotations

from datetime import date, datetime

from flask import request

from cronofy_sandbox.errors import FieldErrors
from cronofy_sandbox.timefmt import TimeFormatError, parse_date, parse_time, zone

_TRUE = {"true", "True", "1"}
_FALSE = {"false", "False", "0", ""}


def flag(name: str, default: bool, errors: FieldErrors) -> bool:
    """A boolean parameter; official SDKs send true/false, pycronofy sends True/False."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    errors.add(name, "invalid", f"{name} must be true or false")
    return default


def required_tzid(errors: FieldErrors) -> str:
    """The mandatory tzid parameter."""
    raw = request.args.get("tzid")
    if not raw:
        errors.add("tzid", "required", "tzid must be specified")
        return "Etc/UTC"
    try:
        zone(raw)
    except TimeFormatError:
        errors.add("tzid", "invalid", "tzid must be a known IANA time zone")
        return "Etc/UTC"
    return raw


def optional_date(name: str, errors: FieldErrors) -> date | None:
    """A Date parameter (pycronofy may send a Time: its date part is used)."""
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return parse_time(raw).date() if "T" in raw else parse_date(raw)
    except TimeFormatError:
        errors.add(name, "invalid", f"{name} must be a date (YYYY-MM-DD)")
        return None


def optional_time(name: str, errors: FieldErrors) -> datetime | None:
    """A Time parameter such as last_modified."""
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return parse_time(raw)
    except TimeFormatError:
        errors.add(name, "invalid", f"{name} must be an ISO 8601 UTC time")
        return None


def calendar_ids() -> list[str]:
    """calendar_ids[] (bracket form), also accepting the bare name."""
    return request.args.getlist("calendar_ids[]") + request.args.getlist("calendar_ids")
