"""The app's availability cache: built once in ``create_app``, read by views."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from flask import current_app

from webapp.config import PRODUCTION_ENV, ConfigError, env_defaults
from webapp.services.availability.cache import AvailabilityCache, build_cache

TTL_VAR = "AVAILABILITY_CACHE_SECONDS"


def cache_seconds(config: Mapping[str, Any]) -> int:
    """Seconds a view is reused (0 turns the cache off); ConfigError when unusable."""
    raw: Any = config.get(TTL_VAR)
    if raw is None or raw == "":
        raw = env_defaults()[TTL_VAR]
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{TTL_VAR} must be a number of seconds") from None
    if not (seconds >= 0 and math.isfinite(seconds)):
        raise ConfigError(f"{TTL_VAR} must be 0 or more seconds")
    return int(seconds)


def cache_url(config: Mapping[str, Any]) -> str | None:
    """AVAILABILITY_CACHE_URL; in production it defaults to the (Redis) Celery broker, so
    every process sees the same entries and a drop in one reaches all."""
    url = config.get("AVAILABILITY_CACHE_URL") or None
    if url is None and config.get("BRIDGE_MODE") == PRODUCTION_ENV:
        broker = str(config.get("CELERY_BROKER_URL") or "")
        url = broker if broker.startswith(("redis://", "rediss://")) else None
    return url


def build_availability_cache(config: Mapping[str, Any]) -> AvailabilityCache:
    """Redis when a URL is configured (see cache_url), else in this process."""
    return build_cache(cache_url(config), cache_seconds(config))


def get_availability_cache() -> AvailabilityCache:
    """The current app's availability cache."""
    cache: AvailabilityCache = current_app.extensions["availability_cache"]
    return cache
