"""Cronofy features the sandbox does not offer, listed on its home page.

Each entry names the feature and, where Cronofy has one, the request it starts with; the
sandbox answers those requests with a JSON 404 (a test keeps this list honest).
"""

from __future__ import annotations

NOT_OFFERED: tuple[tuple[str, str | None], ...] = (
    ("Recurring events (series_identifier, editing one occurrence)", None),
    ("Availability rules", "GET /v1/availability_rules"),
    ("Ad-hoc available periods", "GET /v1/available_periods"),
    ("Sequenced availability", "POST /v1/sequenced_availability"),
    ("Real-Time Scheduling and Sequencing links", "POST /v1/real_time_scheduling"),
    ("Batch requests", "POST /v1/batch"),
    ("Responding to invitations (participation status)", None),
    ("Resources (rooms) of a service account", "GET /v1/resources"),
    ("Application calendars", "POST /v1/application_calendars"),
    ("Conferencing services (Zoom, Teams links)", "POST /v1/conferencing_service_authorizations"),
    ("Attachments", "POST /v1/attachments"),
    ("Explicit linking tokens", "POST /v1/link_tokens"),
    ("UI Element tokens", "POST /v1/element_tokens"),
    ("Event triggers and conferencing webhooks (subscriptions on events)", None),
    ("Smart Invite replies from recipients (status stays as sent)", None),
    ("include_geo and google_event_ids on Read Events (accepted, ignored)", None),
    ("Data centers: one host answers for every data center", None),
)
