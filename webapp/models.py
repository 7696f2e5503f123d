"""Our database (DESIGN §4): typed SQLAlchemy 2.0 models.

Secrets never sit here in plaintext: token columns hold Fernet ciphertext written by the
service layer through ``webapp.security.TokenCipher``; state and path tokens are stored as
SHA-256 hex digests. No event titles or descriptions are stored anywhere.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.database import Base, UTCDateTime, utcnow


class Role(StrEnum):
    """What a person may do."""

    INSTRUCTOR = "instructor"
    ADMIN = "admin"


class AccessMode(StrEnum):
    """Calendar access granted to us (read from Cronofy's answer, never assumed)."""

    READ_WRITE = "read_write"
    FREE_BUSY = "free_busy"
    NO_CALENDAR = "no_calendar"


class ConnectMethod(StrEnum):
    """How a calendar connection came about."""

    INDIVIDUAL = "individual"
    ENTERPRISE = "enterprise"


class ConnectionStatus(StrEnum):
    """Health of a calendar connection or service account."""

    CONNECTED = "connected"
    NEEDS_RECONNECT = "needs_reconnect"
    REVOKED = "revoked"


class AuthorizationStatus(StrEnum):
    """State of one Enterprise Connect authorization request."""

    PENDING = "pending"
    AUTHORIZED = "authorized"
    FAILED = "failed"


class OAuthPurpose(StrEnum):
    """Which flow an OAuth state belongs to."""

    INDIVIDUAL = "individual"
    ENTERPRISE = "enterprise"


class BookingStatus(StrEnum):
    """Life of a booking."""

    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class Delivery(StrEnum):
    """How the instructor learns about a booking."""

    CALENDAR_EVENT = "calendar_event"
    EMAILED_INVITE = "emailed_invite"


class DeliveryState(StrEnum):
    """Whether the calendar side of a booking's latest change has been delivered."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # retries exhausted: "calendar not updated", with a retry button


class BookingEventPolicy(StrEnum):
    """A booking's calendar event moved or deleted by the instructor in their calendar."""

    BOOKLY_WINS = "bookly_wins"  # the event is put back; the instructor is told
    CALENDAR_WINS = "calendar_wins"  # the booking is moved or cancelled; the customer is told


class OutboxStatus(StrEnum):
    """Life of an outbox job."""

    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


def enum_type(enum_cls: type[StrEnum], name: str) -> sa.Enum:
    """A portable string column checked against the enum's values."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


def _created() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), default=utcnow, nullable=False)


def _updated() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)


class Organisation(Base):
    """An enterprise tenant: a school and its instructors."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    slug: Mapped[str] = mapped_column(sa.String(100), unique=True)
    # What happens when an instructor moves or deletes a booking's event in their calendar.
    booking_event_policy: Mapped[BookingEventPolicy] = mapped_column(
        enum_type(BookingEventPolicy, "booking_event_policy"),
        default=BookingEventPolicy.BOOKLY_WINS,
    )
    created_at: Mapped[datetime] = _created()

    users: Mapped[list[User]] = relationship(back_populates="organisation")


class User(Base):
    """An instructor or an enterprise admin of one organisation."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[Role] = mapped_column(enum_type(Role, "user_role"))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    time_zone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    bookly_staff_id: Mapped[int | None] = mapped_column(sa.Integer, unique=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = _created()
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship(back_populates="users")
    connection: Mapped[CalendarConnection | None] = relationship(back_populates="user")

    # Flask-Login protocol (typed here instead of the untyped UserMixin).
    @property
    def is_active(self) -> bool:
        """Inactive people cannot log in."""
        return self.active

    @property
    def is_authenticated(self) -> bool:
        """Every loaded user is authenticated."""
        return True

    @property
    def is_anonymous(self) -> bool:
        """A loaded user is never anonymous."""
        return False

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session."""
        return str(self.id)

    @property
    def is_admin(self) -> bool:
        """True for enterprise admins."""
        return self.role is Role.ADMIN


class EncryptedTokens:
    """Mixin: an id and the two Fernet-encrypted token columns (``flask keys rotate``)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    access_token_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    refresh_token_encrypted: Mapped[str | None] = mapped_column(sa.Text)


ENCRYPTED_TOKEN_COLUMNS = ("access_token_encrypted", "refresh_token_encrypted")


class CalendarConnection(EncryptedTokens, Base):
    """One instructor's Cronofy connection (at most one per instructor)."""

    __tablename__ = "calendar_connections"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    # One Cronofy account never belongs to two people or tenants.
    cronofy_sub: Mapped[str] = mapped_column(sa.String(100), unique=True)
    cronofy_account_id: Mapped[str | None] = mapped_column(sa.String(100))
    data_center: Mapped[str] = mapped_column(sa.String(8))
    method: Mapped[ConnectMethod] = mapped_column(enum_type(ConnectMethod, "connect_method"))
    access_mode: Mapped[AccessMode] = mapped_column(enum_type(AccessMode, "access_mode"))
    provider_name: Mapped[str | None] = mapped_column(sa.String(50))
    provider_service: Mapped[str | None] = mapped_column(sa.String(50))
    profile_id: Mapped[str | None] = mapped_column(sa.String(100))
    profile_name: Mapped[str | None] = mapped_column(sa.String(254))
    access_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    scope: Mapped[str] = mapped_column(sa.String(255), default="")
    status: Mapped[ConnectionStatus] = mapped_column(
        enum_type(ConnectionStatus, "connection_status"), default=ConnectionStatus.CONNECTED
    )
    status_reason: Mapped[str | None] = mapped_column(sa.String(255))
    write_calendar_id: Mapped[str | None] = mapped_column(sa.String(100))
    conflict_calendar_ids: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    channel_id: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    # SHA-256 of the secret token in the push channel's callback path.
    channel_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # Single-flight token refresh on SQLite (PostgreSQL also locks the row).
    refresh_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sync_cursor: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # One calendar -> Bookly sync run at a time (renewed while it writes; expires if it dies).
    sync_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_notification_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last full reconciliation of this calendar and what it repaired.
    reconciled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_repairs: Mapped[int] = mapped_column(sa.Integer, default=0)
    # When the current grant was stored (created_at stays with the row across reconnects).
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when the organisation explicitly replaced the instructor's own connection.
    replaced_individual_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    user: Mapped[User] = relationship(back_populates="connection")


class ServiceAccount(EncryptedTokens, Base):
    """An organisation's Enterprise Connect service account."""

    __tablename__ = "service_accounts"

    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), unique=True
    )
    cronofy_sub: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    data_center: Mapped[str] = mapped_column(sa.String(8))
    access_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    scope: Mapped[str] = mapped_column(sa.String(255), default="")
    delegated_scope: Mapped[str] = mapped_column(sa.String(255), default="")
    access_mode: Mapped[AccessMode] = mapped_column(enum_type(AccessMode, "access_mode"))
    provider_name: Mapped[str | None] = mapped_column(sa.String(50))
    status: Mapped[ConnectionStatus] = mapped_column(
        enum_type(ConnectionStatus, "connection_status"), default=ConnectionStatus.CONNECTED
    )
    refresh_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class ServiceAccountAuthorization(Base):
    """One e-mail an admin asked the service account to authorize."""

    __tablename__ = "service_account_authorizations"
    __table_args__ = (sa.UniqueConstraint("service_account_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("service_accounts.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(sa.String(254))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    state_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[AuthorizationStatus] = mapped_column(
        enum_type(AuthorizationStatus, "authorization_status"),
        default=AuthorizationStatus.PENDING,
    )
    error: Mapped[str | None] = mapped_column(sa.String(500))
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    # The admin explicitly chose to replace the instructor's own (individual) connection;
    # without it a callback never touches an individual connection.
    replace_individual: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false()
    )
    requested_at: Mapped[datetime] = _created()
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuthorizationSubmission(Base):
    """What became of each address of one bulk authorization (kept after the page reloads)."""

    __tablename__ = "authorization_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("service_accounts.id", ondelete="CASCADE"), index=True
    )
    submitted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    # [{"email": ..., "outcome": SubmissionOutcome value}], in the order submitted.
    results: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = _created()


class OAuthState(Base):
    """A pending OAuth flow: single use, bound to a user and a data center, short-lived."""

    __tablename__ = "oauth_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[OAuthPurpose] = mapped_column(enum_type(OAuthPurpose, "oauth_purpose"))
    access_mode: Mapped[AccessMode | None] = mapped_column(enum_type(AccessMode, "access_mode"))
    provider_name: Mapped[str | None] = mapped_column(sa.String(50))
    data_center: Mapped[str] = mapped_column(sa.String(8))
    redirect_uri: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = _created()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Booking(Base):
    """A booking we made: a Bookly appointment plus the instructor's calendar side.

    No double booking by construction: confirmed bookings of one instructor never overlap
    (PostgreSQL: an exclusion constraint on ``tstzrange(starts_at, ends_at)``; SQLite: the
    triggers below).
    """

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Derived from the idempotency key; also the Bookly booking reference.
    public_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    instructor_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    bookly_appointment_id: Mapped[int | None] = mapped_column(sa.Integer)
    bookly_customer_appointment_id: Mapped[int | None] = mapped_column(sa.Integer)
    bookly_service_id: Mapped[int] = mapped_column(sa.Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    customer_name: Mapped[str] = mapped_column(sa.String(200))
    customer_email: Mapped[str] = mapped_column(sa.String(254))
    customer_phone: Mapped[str] = mapped_column(sa.String(32), default="")
    customer_time_zone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    status: Mapped[BookingStatus] = mapped_column(
        enum_type(BookingStatus, "booking_status"), default=BookingStatus.CONFIRMED
    )
    delivery: Mapped[Delivery] = mapped_column(enum_type(Delivery, "booking_delivery"))
    delivery_state: Mapped[DeliveryState] = mapped_column(
        enum_type(DeliveryState, "delivery_state"), default=DeliveryState.PENDING
    )
    # True when no usable calendar connection was consulted: booked on the schedule alone.
    schedule_only: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    cronofy_event_id: Mapped[str | None] = mapped_column(sa.String(100))
    smart_invite_id: Mapped[str | None] = mapped_column(sa.String(100))
    # The customer's answer to the Smart Invite (accepted, tentative, declined), from Cronofy.
    customer_reply: Mapped[str | None] = mapped_column(sa.String(16))
    customer_replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    idempotency_key: Mapped[str] = mapped_column(sa.String(255), unique=True)
    # SHA-256 of the request that used the key: same key + other body -> 422.
    request_fingerprint: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="booking_positive_duration"),
        sa.Index("ix_bookings_instructor_window", "instructor_id", "starts_at", "ends_at"),
        ExcludeConstraint(
            ("instructor_id", "="),
            (sa.func.tstzrange(sa.column("starts_at"), sa.column("ends_at")), "&&"),
            name="bookings_no_overlap",
            using="gist",
            where=sa.text("status = 'confirmed'"),
        ).ddl_if(dialect="postgresql"),
    )


# SQLite has no exclusion constraints: triggers refuse an overlapping confirmed booking. The
# check runs inside the INSERT/UPDATE, under SQLite's write lock, so it cannot race.
_SQLITE_OVERLAP = """
CREATE TRIGGER bookings_no_overlap_{event} BEFORE {what} ON bookings
WHEN NEW.status = 'confirmed' AND EXISTS (
    SELECT 1 FROM bookings AS other
    WHERE other.instructor_id = NEW.instructor_id AND other.status = 'confirmed'
      AND other.id IS NOT NEW.id
      AND other.starts_at < NEW.ends_at AND NEW.starts_at < other.ends_at)
BEGIN SELECT RAISE(ABORT, 'bookings_no_overlap: overlapping confirmed booking'); END
"""
SQLITE_BOOKING_TRIGGERS = (
    _SQLITE_OVERLAP.format(event="insert", what="INSERT"),
    _SQLITE_OVERLAP.format(
        event="update", what="UPDATE OF instructor_id, starts_at, ends_at, status"
    ),
)


def _ddl(statement: str, dialect: str) -> sa.ExecutableDDLElement:
    ddl = sa.DDL(statement)  # type: ignore[no-untyped-call]  # untyped in SQLAlchemy
    return ddl.execute_if(dialect=dialect)


sa.event.listen(
    Booking.__table__,
    "before_create",
    _ddl("CREATE EXTENSION IF NOT EXISTS btree_gist", "postgresql"),
)
for _trigger in SQLITE_BOOKING_TRIGGERS:
    sa.event.listen(Booking.__table__, "after_create", _ddl(_trigger, "sqlite"))


class BusyBlock(Base):
    """A calendar busy period mirrored into Bookly as a block row (times only, no titles)."""

    __tablename__ = "busy_blocks"
    __table_args__ = (
        sa.UniqueConstraint("connection_id", "starts_at", "ends_at"),
        sa.CheckConstraint("ends_at > starts_at", name="busy_block_positive_duration"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("calendar_connections.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    bookly_appointment_id: Mapped[int | None] = mapped_column(sa.Integer, unique=True)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class BooklyMirror(Base):
    """A Bookly appointment made outside this service (Bookly's own booking form, wp-admin)
    and where its copy in the instructor's calendar is: the Bookly -> calendar mapping.

    Holds ids, a fingerprint of the row and the calendar it was written to; never a title,
    customer or note (those stay in Bookly and in the instructor's calendar).
    """

    __tablename__ = "bookly_mirrors"

    id: Mapped[int] = mapped_column(primary_key=True)
    bookly_appointment_id: Mapped[int] = mapped_column(sa.Integer, unique=True)
    instructor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Set while an event exists in that calendar (deleted when the appointment goes away).
    calendar_id: Mapped[str | None] = mapped_column(sa.String(100))
    event_id: Mapped[str] = mapped_column(sa.String(100))
    fingerprint: Mapped[str | None] = mapped_column(sa.String(64))
    # A run of this appointment holds it until then (runs of one appointment never overlap).
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class SyncCursor(Base):
    """Where a feed was read up to (Bookly's log id), and when it was last reconciled."""

    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    position: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # One poll at a time: a poll holds the cursor until then.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reconciled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the last reconciliation found that the feed had missed.
    last_repairs: Mapped[int] = mapped_column(sa.Integer, default=0)
    updated_at: Mapped[datetime] = _updated()


class InboundNotification(Base):
    """The webhook inbox: every accepted Cronofy callback, deduplicated by body hash."""

    __tablename__ = "inbound_notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    notification_type: Mapped[str] = mapped_column(sa.String(64))
    channel_id: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    connection_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("calendar_connections.id", ondelete="SET NULL"), index=True
    )
    body: Mapped[str] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = _created()
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))


class OutboxJob(Base):
    """A side effect committed with the business row and delivered at least once."""

    __tablename__ = "outbox_jobs"
    __table_args__ = (sa.Index("ix_outbox_jobs_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # Optional: at most one live job per key (e.g. "sync:connection:7").
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_type(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class AuditEvent(Base):
    """Who did what to what, when; details never hold secrets or passwords."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # "system", "anonymous", or a label kept when the actor is erased (pseudonymised).
    actor_label: Mapped[str] = mapped_column(sa.String(254), default="system")
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    target: Mapped[str] = mapped_column(sa.String(254), default="")
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ApiKey(Base):
    """A bearer key of the JSON API, scoped to one organisation; only its SHA-256 is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100))
    # The non-secret public part of the key ("bcb_<key_id>_<secret>"): found by index, shown.
    key_id: Mapped[str] = mapped_column(sa.String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    created_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = _created()
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship()
    created_by: Mapped[User | None] = relationship()


# Every model holding Fernet ciphertext (in ENCRYPTED_TOKEN_COLUMNS), for `flask keys rotate`.
ENCRYPTED_MODELS: tuple[type[EncryptedTokens], ...] = (CalendarConnection, ServiceAccount)
