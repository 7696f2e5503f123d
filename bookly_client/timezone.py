"""Conversion between aware UTC (what callers see) and Bookly's naive site-local DATETIMEs.

Rules (tested in tests/unit/bookly_client/test_timezone.py):

* Reading a naive local time (``to_utc``) follows PHP, which is what Bookly uses:
  a time in the repeated hour after a fall-back change means its *first* occurrence
  (the earlier instant, summer offset); a time skipped by a spring-forward change is
  shifted forward by the gap (02:30 in Berlin on that day reads as 03:30 CEST).
* Writing an instant (``to_local``) is always well defined, but an instant in the
  *second* occurrence of a repeated hour would read back one hour early.  Bookings refuse
  such instants (``to_local_exact`` raises ``UnrepresentableTime``); busy blocks are widened
  to the nearest representable times instead (``to_local_floor`` / ``to_local_ceil``), so a
  block always covers at least the requested interval.
* Naive datetimes from callers are rejected with ``NaiveDatetime``.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bookly_client.errors import NaiveDatetime, SiteTimeZoneError, UnrepresentableTime

_MAX_STEPS = 24 * 60  # minutes; no real zone repeats more than a few hours


def require_aware(value: datetime, name: str = "datetime") -> datetime:
    """Return ``value`` converted to UTC, or raise NaiveDatetime when it has no offset."""
    if not isinstance(value, datetime):
        raise NaiveDatetime(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime(f"{name} must be timezone-aware (got naive {value.isoformat()})")
    return value.astimezone(UTC)


def fixed_offset_name(minutes: int) -> str:
    """Label of a fixed offset zone, e.g. ``UTC+05:30``."""
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


@dataclass(frozen=True, slots=True)
class LocalZone:
    """A wall-clock zone in which Bookly stores naive times (the site's, or a staff member's)."""

    name: str
    tz: tzinfo
    has_dst: bool

    @classmethod
    def named(cls, name: str) -> LocalZone:
        """Zone for an IANA name; raises SiteTimeZoneError for unknown names."""
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SiteTimeZoneError(f"unknown time zone {name!r}") from exc
        return cls(name=name, tz=zone, has_dst=True)

    @classmethod
    def fixed(cls, minutes: int) -> LocalZone:
        """Zone with a fixed UTC offset in minutes (no DST)."""
        label = fixed_offset_name(minutes)
        return cls(name=label, tz=timezone(timedelta(minutes=minutes), label), has_dst=False)

    @classmethod
    def from_wordpress(cls, timezone_string: str | None, gmt_offset: str | None) -> LocalZone:
        """The WordPress site zone: ``timezone_string`` if set, else the ``gmt_offset`` hours."""
        if timezone_string and timezone_string.strip():
            return cls.named(timezone_string.strip())
        if gmt_offset is None or not gmt_offset.strip():
            raise SiteTimeZoneError("neither timezone_string nor gmt_offset is set")
        try:
            hours = float(gmt_offset)
        except ValueError as exc:
            raise SiteTimeZoneError(f"gmt_offset {gmt_offset!r} is not a number") from exc
        if not math.isfinite(hours) or abs(hours) > 14:
            raise SiteTimeZoneError(f"gmt_offset {gmt_offset!r} is out of range")
        return cls.fixed(round(hours * 60))

    def to_utc(self, naive: datetime) -> datetime:
        """Aware UTC instant of a naive local time (first occurrence; gaps shift forward)."""
        if naive.tzinfo is not None:
            raise ValueError("to_utc expects a naive local datetime")
        return naive.replace(tzinfo=self.tz, fold=0).astimezone(UTC)

    def to_local(self, moment: datetime) -> datetime:
        """Naive local wall time of an aware instant (may be the repeated hour's 2nd pass)."""
        aware = require_aware(moment)
        return aware.astimezone(self.tz).replace(tzinfo=None, fold=0)

    def is_representable(self, moment: datetime) -> bool:
        """True when the naive local time of ``moment`` reads back as the same instant."""
        aware = require_aware(moment)
        return self.to_utc(self.to_local(aware)) == aware

    def to_local_exact(self, moment: datetime, name: str = "time") -> datetime:
        """Naive local time that reads back exactly; raises UnrepresentableTime otherwise."""
        aware = require_aware(moment, name)
        local = self.to_local(aware)
        if self.to_utc(local) != aware:
            raise UnrepresentableTime(
                f"{name} {aware.isoformat()} is {local:%Y-%m-%d %H:%M} in {self.name} during the "
                "repeated hour after a DST change; Bookly would read it one hour early"
            )
        return local

    def to_local_floor(self, moment: datetime) -> datetime:
        """Naive local time reading back at or before ``moment``."""
        return self.to_local(moment)  # the first occurrence is never later

    def to_local_ceil(self, moment: datetime) -> datetime:
        """Smallest naive local time reading back at or after ``moment``."""
        aware = require_aware(moment)
        local = self.to_local(aware)
        if self.to_utc(local) >= aware:
            return local
        candidate = local.replace(second=0, microsecond=0)
        for _ in range(_MAX_STEPS):
            candidate += timedelta(minutes=1)
            if self.to_utc(candidate) >= aware:
                return candidate
        raise UnrepresentableTime(f"no local time in {self.name} covers {aware.isoformat()}")


_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 - naive on purpose: local wall time arithmetic


class LocalEpochs:
    """Naive local times -> UTC epoch seconds, as ``LocalZone.to_utc`` reads them, but with
    one zone lookup per local hour (thousands of appointment rows per availability view).

    An hour whose first and last second have the same offset (every hour, unless a zone
    changes its offset in the middle of one) is converted by subtraction; any other hour
    falls back to ``to_utc`` for each value.
    """

    def __init__(self, zone: LocalZone) -> None:
        self.zone = zone
        self._offsets: dict[int, int | None] = {}

    def __call__(self, naive: datetime) -> int:
        """Epoch seconds of a naive local time."""
        return self.of_wall_seconds(math.floor((naive - _EPOCH).total_seconds()))

    def of_wall_seconds(self, wall: int) -> int:
        """Epoch seconds of a local time given as wall-clock seconds since 1970-01-01 00:00."""
        hour = wall - wall % 3600
        if hour in self._offsets:
            offset = self._offsets[hour]
        else:
            first, last = self._offset(hour), self._offset(hour + 3599)
            offset = self._offsets[hour] = first if first == last else None
        if offset is None:
            naive = _EPOCH + timedelta(seconds=wall)
            return math.floor(self.zone.to_utc(naive).timestamp())
        return wall - offset

    def _offset(self, wall: int) -> int:
        naive = _EPOCH + timedelta(seconds=wall)
        return round(wall - self.zone.to_utc(naive).timestamp())


_EPOCHS_LOCK = threading.Lock()
_EPOCHS: dict[LocalZone, LocalEpochs] = {}
_MAX_MEMO_HOURS = 200_000  # about 23 years of hours per zone, a few MB at most


def local_epochs(zone: LocalZone) -> LocalEpochs:
    """A shared ``LocalEpochs`` per zone (its memo of hour offsets outlives one read)."""
    with _EPOCHS_LOCK:
        found = _EPOCHS.get(zone)
        if found is None or len(found._offsets) > _MAX_MEMO_HOURS:  # noqa: SLF001
            found = _EPOCHS[zone] = LocalEpochs(zone)
        return found
