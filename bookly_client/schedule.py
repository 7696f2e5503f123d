"""Turning weekly hours, breaks and days off into UTC working windows (DST-correct)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bookly_client.models import StaffSchedule, TimeWindow, WorkingDay
from bookly_client.timezone import LocalZone


def day_segments(
    day: date, start: timedelta, end: timedelta, hours: WorkingDay
) -> list[tuple[datetime, datetime]]:
    """Naive local working segments of one day: the hours minus the breaks, in order."""
    midnight = datetime.combine(day, time())
    segments = [(midnight + start, midnight + end)]
    for brk in sorted(hours.breaks, key=lambda b: b.start):
        cut_from, cut_to = midnight + brk.start, midnight + brk.end
        next_segments = []
        for seg_start, seg_end in segments:
            if cut_to <= seg_start or cut_from >= seg_end:
                next_segments.append((seg_start, seg_end))
                continue
            if seg_start < cut_from:
                next_segments.append((seg_start, cut_from))
            if cut_to < seg_end:
                next_segments.append((cut_to, seg_end))
        segments = next_segments
    return segments


def _merge(windows: list[TimeWindow]) -> list[TimeWindow]:
    merged: list[TimeWindow] = []
    for window in sorted(windows, key=lambda w: w.start):
        if merged and window.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = TimeWindow(last.start, max(last.end, window.end))
        else:
            merged.append(window)
    return merged


def working_windows(
    schedule: StaffSchedule, zone: LocalZone, window: TimeWindow
) -> list[TimeWindow]:
    """Working time inside ``window`` in UTC: weekly hours minus breaks, holidays excluded."""
    first = zone.to_local(window.start).date() - timedelta(days=2)
    last = zone.to_local(window.end).date()
    found: list[TimeWindow] = []
    day = first
    while day <= last:
        hours = schedule.day(day)
        if hours and hours.start is not None and hours.end and not schedule.is_day_off(day):
            for seg_start, seg_end in day_segments(day, hours.start, hours.end, hours):
                utc = TimeWindow(zone.to_utc(seg_start), zone.to_utc(seg_end))
                clipped = TimeWindow(max(utc.start, window.start), min(utc.end, window.end))
                if clipped.start < clipped.end:
                    found.append(clipped)
        day += timedelta(days=1)
    return _merge(found)
