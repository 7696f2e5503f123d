"""Enumerations shared by the client: data centers, calendar access modes, providers."""

from __future__ import annotations

from enum import StrEnum

# provider_name values that reveal a non-default access mode (token response / userinfo).
_FREE_BUSY_PROVIDERS = frozenset({"google_free_busy", "ms_graph_free_busy"})
_NO_CALENDAR_PROVIDERS = frozenset({"cronofy"})


class DataCenter(StrEnum):
    """A Cronofy data center; each is a separate instance with its own hosts and credentials."""

    US = "us"
    UK = "uk"
    DE = "de"
    AU = "au"
    CA = "ca"
    SG = "sg"

    @property
    def api_base_url(self) -> str:
        """REST and token host (``api-xx``; ``us`` has no suffix)."""
        return self._host("api")

    @property
    def app_base_url(self) -> str:
        """Browser-facing host for the authorize pages (``app-xx``; ``us`` has no suffix)."""
        return self._host("app")

    def _host(self, family: str) -> str:
        suffix = "" if self is DataCenter.US else f"-{self.value}"
        return f"https://{family}{suffix}.cronofy.com"


class AccessMode(StrEnum):
    """Calendar access mode an account grants (Cronofy "Calendar Access Modes" beta)."""

    READ_WRITE = "read_write"
    FREE_BUSY = "free_busy"
    NO_CALENDAR = "no_calendar"

    @property
    def label(self) -> str:
        """Human label for the mode."""
        return _LABELS[self]

    @classmethod
    def from_provider_name(cls, provider_name: str) -> AccessMode:
        """Derive the granted mode from ``linking_profile.provider_name``."""
        if provider_name in _FREE_BUSY_PROVIDERS:
            return cls.FREE_BUSY
        if provider_name in _NO_CALENDAR_PROVIDERS:
            return cls.NO_CALENDAR
        return cls.READ_WRITE


_LABELS = {
    AccessMode.READ_WRITE: "Read-write",
    AccessMode.FREE_BUSY: "Free/busy only",
    AccessMode.NO_CALENDAR: "No calendar access",
}


# Human names of Cronofy's provider_name values (profiles, token responses, connect choices):
# the one table every page uses.
_PROVIDER_LABELS = {
    "google": "Google",
    "google_free_busy": "Google (free/busy only)",
    "ms_graph": "Microsoft 365",
    "ms_graph_free_busy": "Microsoft 365 (free/busy only)",
    "office365": "Microsoft 365",
    "exchange": "Microsoft Exchange",
    "apple": "Apple iCloud",
    "live_connect": "Outlook.com",
    "cronofy": "Cronofy (no calendar access)",
}


def provider_label(provider_name: str | None) -> str:
    """Human name of a Cronofy ``provider_name``; an unlisted one is shown as it is."""
    if not provider_name:
        return "unknown"
    return _PROVIDER_LABELS.get(provider_name, provider_name)


class Provider(StrEnum):
    """Calendar provider that may be pre-selected on the authorize page with an access mode."""

    GOOGLE = "google"
    MS_GRAPH = "ms_graph"

    @property
    def label(self) -> str:
        """Human name of the provider."""
        return _PROVIDER_LABELS[self.value]
