"""Outgoing e-mail: captured in demo/testing, SMTP (``MAIL_URL``) in production."""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class CalendarAttachment:
    """An iCalendar part (e.g. a Smart Invite) sent with a message."""

    content: bytes
    method: str = "REQUEST"
    filename: str = "invite.ics"


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """One message to one recipient."""

    to: str
    subject: str
    body: str
    calendar: CalendarAttachment | None = None


class MailError(Exception):
    """The message could not be handed to the mail server."""


class Mailer(Protocol):
    """Anything that sends our messages."""

    def send(self, message: OutgoingMail) -> None:
        """Send one message or raise MailError."""


def build_email(message: OutgoingMail, sender: str) -> EmailMessage:
    """The MIME message for an outgoing mail, with the .ics part when there is one."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email.set_content(message.body)
    if message.calendar is not None:
        email.add_attachment(
            message.calendar.content,
            maintype="text",
            subtype="calendar",
            filename=message.calendar.filename,
            params={"method": message.calendar.method},
        )
    return email


class CapturingMailer:
    """Keeps messages in memory (tests) and logs that one was sent.

    ``copy_to`` (set by the demo) also gets each message: the mounted sandbox's mailbox page.
    """

    def __init__(self, sender: str) -> None:
        self.sender = sender
        self.copy_to: Callable[[OutgoingMail], None] | None = None
        self._lock = threading.Lock()
        self._outbox: list[OutgoingMail] = []

    def send(self, message: OutgoingMail) -> None:
        """Capture the message."""
        build_email(message, self.sender)  # fails here on a malformed message, as SMTP would
        with self._lock:
            self._outbox.append(message)
        if self.copy_to is not None:
            self.copy_to(message)
        log.info("mail captured (ics attached: %s)", message.calendar is not None)
        log.debug("captured mail subject: %s", message.subject)

    @property
    def outbox(self) -> list[OutgoingMail]:
        """A copy of the captured messages, oldest first."""
        with self._lock:
            return list(self._outbox)


class SmtpMailer:
    """Sends through an SMTP server given as smtp://user:pass@host:port (smtps:// for TLS).

    Certificates are always verified (the system's trust store, or ``ca_file`` for a private
    CA). ``smtps://`` speaks TLS from the first byte; ``smtp://`` upgrades with STARTTLS when
    the server offers it and refuses to go on without it when credentials are configured, so
    the password never crosses the network in clear.
    """

    def __init__(self, url: str, sender: str, *, ca_file: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError("MAIL_URL must look like smtp://user:password@host:port")
        self.sender = sender
        self._tls = parts.scheme == "smtps"
        self._host = parts.hostname
        self._port = parts.port or (465 if self._tls else 587)
        user, password = parts.username, parts.password
        self._credentials = (unquote(user), unquote(password)) if user and password else None
        self._context = ssl.create_default_context(cafile=ca_file)

    def _connect(self) -> smtplib.SMTP:
        if self._tls:
            return smtplib.SMTP_SSL(
                self._host, self._port, timeout=SMTP_TIMEOUT_SECONDS, context=self._context
            )
        smtp = smtplib.SMTP(self._host, self._port, timeout=SMTP_TIMEOUT_SECONDS)
        try:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=self._context)
                smtp.ehlo()
            elif self._credentials:
                raise MailError(
                    f"{self._host}:{self._port} offers no STARTTLS: the password is not sent "
                    "in clear (use smtps:// or a server with STARTTLS)"
                )
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: OutgoingMail) -> None:
        """Deliver the message or raise MailError."""
        try:
            with self._connect() as smtp:
                if self._credentials:
                    smtp.login(*self._credentials)
                smtp.send_message(build_email(message, self.sender))
        except MailError:
            raise
        except ssl.SSLCertVerificationError as exc:
            raise MailError(
                f"SMTP server {self._host}:{self._port} presented a certificate we do not trust "
                f"({exc.verify_message}); for a private CA set MAIL_CA_FILE"
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"SMTP delivery to {self._host}:{self._port} failed") from exc
        log.info("mail sent via SMTP (ics attached: %s)", message.calendar is not None)


def build_mailer(mail_url: str | None, sender: str, *, ca_file: str | None = None) -> Mailer:
    """SMTP when MAIL_URL is set (trusting ``ca_file`` too when given), else a capturing mailer."""
    if mail_url:
        return SmtpMailer(mail_url, sender, ca_file=ca_file)
    return CapturingMailer(sender)
