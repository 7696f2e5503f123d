"""The mailer: captured messages, MIME with an .ics part, SMTP URL parsing."""

from __future__ import annotations

import pytest

from webapp.mail import (
    CalendarAttachment,
    CapturingMailer,
    OutgoingMail,
    SmtpMailer,
    build_email,
    build_mailer,
)

ICS = b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


def test_capturing_mailer_keeps_messages_in_order() -> None:
    mailer = CapturingMailer("bridge@example.org")
    mailer.send(OutgoingMail("a@example.org", "First", "one"))
    mailer.send(OutgoingMail("b@example.org", "Second", "two"))
    assert [m.subject for m in mailer.outbox] == ["First", "Second"]


def test_calendar_attachment_is_a_text_calendar_part() -> None:
    message = OutgoingMail("a@example.org", "Invite", "See you", CalendarAttachment(ICS))
    email = build_email(message, "bridge@example.org")
    parts = list(email.iter_attachments())
    assert len(parts) == 1
    assert parts[0].get_content_type() == "text/calendar"
    assert parts[0].get_param("method") == "REQUEST"
    assert parts[0].get_filename() == "invite.ics"
    assert email["From"] == "bridge@example.org"


def test_build_mailer_picks_smtp_only_when_configured() -> None:
    assert isinstance(build_mailer(None, "x@example.org"), CapturingMailer)
    assert isinstance(build_mailer("smtp://u:p@mail.example.org:2525", "x@y"), SmtpMailer)


@pytest.mark.parametrize("url", ["http://mail.example.org", "smtp://", "mail.example.org"])
def test_smtp_mailer_refuses_a_bad_url(url: str) -> None:
    with pytest.raises(ValueError, match="MAIL_URL"):
        SmtpMailer(url, "x@example.org")
