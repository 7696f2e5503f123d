"""Event calls of ``CronofyClient``: upsert, delete, bulk delete, read events, free/busy."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from cronofy_client.core import ClientCore
from cronofy_client.errors import CronofyError, unexpected_response
from cronofy_client.models import Event, EventUpsert, FreeBusyPeriod
from cronofy_client.sdk import sdk_errors
from cronofy_client.wire import JsonObject, format_time

log = logging.getLogger(__name__)

T = TypeVar("T")


def _date_param(value: date | None) -> str | None:
    """A ``from``/``to`` query Date; datetimes are refused (Cronofy wants dates here)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        raise TypeError("from_date/to_date take dates, not datetimes")
    return value.isoformat()


class EventCalls(ClientCore):
    """Event and free/busy calls (mixed into ``CronofyClient``)."""

    def upsert_event(self, access_token: str, calendar_id: str, event: EventUpsert) -> None:
        """Create or update a managed event (idempotent per ``event_id``)."""
        sdk, body = self._sdk(access_token), event.to_json()
        with sdk_errors("upsert_event"):
            sdk.upsert_event(calendar_id, body)

    def delete_event(self, access_token: str, calendar_id: str, event_id: str) -> None:
        """Delete a managed event by ``event_id``."""
        sdk = self._sdk(access_token)
        with sdk_errors("delete_event"):
            sdk.delete_event(calendar_id, event_id)

    def delete_external_event(self, access_token: str, calendar_id: str, event_uid: str) -> None:
        """Delete an external event by ``event_uid`` (needs elevated permissions)."""
        sdk = self._sdk(access_token)
        with sdk_errors("delete_external_event"):
            sdk.delete_external_event(calendar_id, event_uid)

    def bulk_delete_events(
        self, access_token: str, *, calendar_ids: Sequence[str] | None = None
    ) -> None:
        """Delete all managed events, or those in ``calendar_ids`` (JSON body, unlike pycronofy)."""
        if calendar_ids is not None and not calendar_ids:
            raise ValueError("calendar_ids must not be empty; pass None to delete everywhere")
        body: JsonObject = (
            {"delete_all": True} if calendar_ids is None else {"calendar_ids": list(calendar_ids)}
        )
        self.transport.request(
            "DELETE", f"{self.api_base_url}/v1/events", bearer=access_token, json=body
        )

    def read_events(
        self,
        access_token: str,
        *,
        from_date: date | None = None,
        to_date: date | None = None,
        tzid: str = "Etc/UTC",
        last_modified: datetime | None = None,
        include_deleted: bool = False,
        include_moved: bool = False,
        include_managed: bool = False,
        only_managed: bool = False,
        calendar_ids: Sequence[str] | None = None,
    ) -> Iterator[Event]:
        """Events matching the filters, following every ``next_page`` (lazy)."""
        sdk = self._sdk(access_token)
        window = _date_param(from_date), _date_param(to_date)
        since = format_time(last_modified, "last_modified") if last_modified else None
        with sdk_errors("read_events"):
            first = sdk.read_events(
                calendar_ids=tuple(calendar_ids or ()),
                from_date=window[0],
                to_date=window[1],
                last_modified=since,
                tzid=tzid,
                only_managed=only_managed,
                include_managed=include_managed,
                include_deleted=include_deleted,
                include_moved=include_moved,
                automatic_pagination=False,
            )
        return self._paged(access_token, first.json(), "events", Event.from_json)

    def free_busy(
        self,
        access_token: str,
        *,
        from_date: date | None = None,
        to_date: date | None = None,
        tzid: str = "Etc/UTC",
        include_managed: bool = False,
        calendar_ids: Sequence[str] | None = None,
    ) -> Iterator[FreeBusyPeriod]:
        """Free/busy blocks, following every ``next_page`` (lazy)."""
        sdk = self._sdk(access_token)
        window = _date_param(from_date), _date_param(to_date)
        with sdk_errors("free_busy"):
            first = sdk.read_free_busy(
                calendar_ids=tuple(calendar_ids or ()),
                from_date=window[0],
                to_date=window[1],
                tzid=tzid,
                include_managed=include_managed,
                automatic_pagination=False,
            )
        return self._paged(access_token, first.json(), "free_busy", FreeBusyPeriod.from_json)

    def _paged(
        self, access_token: str, page: JsonObject, key: str, build: Callable[[Any], T]
    ) -> Iterator[T]:
        """Yield items of ``page`` and of every following ``pages.next_page``."""
        while True:
            with unexpected_response(key):
                items = [build(item) for item in page.get(key) or ()]
                next_page = (page.get("pages") or {}).get("next_page") or None
            yield from items
            if next_page is None:
                return
            page = self._next_page(access_token, str(next_page), key)

    def _next_page(self, access_token: str, url: str, key: str) -> JsonObject:
        # next_page is absolute; only follow it on our API host so the token cannot leak.
        if not url.startswith(f"{self.api_base_url}/"):
            raise CronofyError(f"Refusing a {key} next_page outside the API host")
        response = self.transport.request("GET", url, bearer=access_token)
        with unexpected_response(key):
            data = response.json()
            if not isinstance(data, dict):
                raise TypeError(key)
            return data
