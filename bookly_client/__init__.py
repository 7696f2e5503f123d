"""bookly_client: the one place that reads and writes Bookly's MySQL/MariaDB tables.

Callers see frozen dataclasses with aware UTC datetimes and ``BooklyError`` subclasses only.
"""

from bookly_client.errors import (
    BooklyError,
    BooklyUnavailable,
    ForeignRow,
    IncompatibleSchema,
    InvalidCustomer,
    MissingTokenKey,
    NaiveDatetime,
    NotFound,
    OffGrid,
    OutsideWorkingHours,
    ReferenceConflict,
    ServiceNotOffered,
    SiteTimeZoneError,
    SlotConflict,
    UnknownAppointment,
    UnknownService,
    UnknownStaff,
    UnrepresentableTime,
    ValidationError,
)
from bookly_client.gateway import BooklyGateway
from bookly_client.gateway.changes import fingerprint
from bookly_client.models import (
    Appointment,
    AppointmentChange,
    AvailabilityData,
    Booking,
    Break,
    BusyBlock,
    BusyInterval,
    ChangeBatch,
    ChangeKind,
    CompatibilityReport,
    CustomerAppointment,
    CustomerDetails,
    DayOff,
    LogEntry,
    Occupancy,
    Reconciliation,
    Service,
    ServiceOffer,
    SlotRules,
    StaffAvailability,
    StaffMember,
    StaffSchedule,
    TimeWindow,
    WorkingDay,
)

__all__ = [
    "Appointment", "AppointmentChange", "AvailabilityData", "BooklyError", "BooklyGateway",
    "BooklyUnavailable", "Booking", "Break", "BusyBlock", "BusyInterval", "ChangeBatch",
    "ChangeKind", "CompatibilityReport",
    "CustomerAppointment", "CustomerDetails", "DayOff", "ForeignRow", "IncompatibleSchema",
    "InvalidCustomer", "LogEntry", "MissingTokenKey", "NaiveDatetime", "NotFound", "Occupancy",
    "OffGrid",
    "OutsideWorkingHours", "Reconciliation", "ReferenceConflict", "Service", "ServiceNotOffered",
    "ServiceOffer", "SiteTimeZoneError", "SlotConflict", "SlotRules", "StaffAvailability",
    "StaffMember", "StaffSchedule",
    "TimeWindow", "UnknownAppointment", "UnknownService", "UnknownStaff", "UnrepresentableTime",
    "ValidationError", "WorkingDay", "fingerprint",
]  # fmt: skip
