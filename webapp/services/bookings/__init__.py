"""Bookings (DESIGN §5 "Booking"): book, cancel, reschedule; idempotent; never double-booked."""

from webapp.services.bookings.any_instructor import book_any
from webapp.services.bookings.errors import (
    BookingClosed,
    BookingError,
    BookingNotFound,
    BookingUnavailable,
    IdempotencyConflict,
    InvalidBooking,
    SlotTaken,
)
from webapp.services.bookings.lifecycle import (
    BookResult,
    book,
    cancel,
    get_booking,
    instructor_for_booking,
    reschedule,
    upcoming,
    visible_booking,
)
from webapp.services.bookings.requests import BookingRequest, Customer
from webapp.services.bookings.suggestions import free_slots_after, next_free_slots

__all__ = [
    "BookResult", "BookingClosed", "BookingError", "BookingNotFound", "BookingRequest",
    "BookingUnavailable", "Customer", "IdempotencyConflict", "InvalidBooking", "SlotTaken",
    "book", "book_any", "cancel", "free_slots_after", "get_booking", "instructor_for_booking",
    "next_free_slots", "reschedule",
    "upcoming", "visible_booking",
]  # fmt: skip
