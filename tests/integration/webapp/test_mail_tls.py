"""SMTP over verified TLS, against real local aiosmtpd servers with a throwaway CA.

Each server presents a certificate for 127.0.0.1 signed by a CA made in the test: the mailer
refuses it until that CA is trusted (``MAIL_CA_FILE``), for implicit TLS (``smtps://``) and
STARTTLS alike, and never sends a password to a server that offers no STARTTLS.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.webapp_fixtures import free_port
from webapp.mail import MailError, OutgoingMail, SmtpMailer

USER, PASSWORD = "bridge", "s3cret-mail-password"
SENDER = "Calendar bridge <bridge@school.test>"


@dataclass(frozen=True)
class Pki:
    """A CA file to trust and the server's key pair (PEM files)."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    other_ca_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _ca(tmp: Path, label: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(label))
        .issuer_name(_name(label))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    path = tmp / f"{label}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A test CA, a server certificate it signed for 127.0.0.1, and an unrelated CA."""
    tmp = tmp_path_factory.mktemp("pki")
    ca_key, ca_cert, ca_file = _ca(tmp, "test-mail-ca")
    _, _, other_ca_file = _ca(tmp, "unrelated-ca")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = tmp / "server.pem", tmp / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Pki(ca_file, cert_file, key_file, other_ca_file)


def _tls(server: SMTPServer, session: Session) -> bool:
    """True when the connection is encrypted (STARTTLS sets session.ssl; smtps:// does not)."""
    transport = server.transport
    return session.ssl is not None or (
        transport is not None and transport.get_extra_info("ssl_object") is not None
    )


@dataclass
class Mailbox:
    """What a server saw: delivered messages (with whether TLS was on) and login attempts."""

    delivered: list[tuple[bytes, bool]] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.delivered.append((bytes(envelope.original_content or b""), _tls(server, session)))
        return "250 OK"

    def authenticate(
        self, server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.password.decode(), _tls(server, session)))
        ok = (data.login.decode(), data.password.decode()) == (USER, PASSWORD)
        return AuthResult(success=ok, handled=False)


Serve = Callable[..., tuple[Mailbox, int]]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start an aiosmtpd server on 127.0.0.1 with the given options; stopped after the test."""
    controllers: list[Controller] = []

    def start(**options: Any) -> tuple[Mailbox, int]:
        mailbox = Mailbox()
        port = free_port()
        controller = Controller(
            mailbox,
            hostname="127.0.0.1",
            port=port,
            authenticator=mailbox.authenticate,
            **options,
        )
        controller.start()
        controllers.append(controller)
        return mailbox, port

    yield start
    for controller in controllers:
        controller.stop()


def _send(mailer: SmtpMailer) -> None:
    mailer.send(OutgoingMail("kim@example.org", "Your booking", "See you on Monday."))


def test_implicit_tls_delivers_when_the_servers_ca_is_trusted(serve: Serve, pki: Pki) -> None:
    # aiosmtpd only counts STARTTLS as TLS for AUTH; the connection is TLS from the start.
    mailbox, port = serve(ssl_context=pki.server_context(), auth_require_tls=False)
    url = f"smtps://{USER}:{PASSWORD}@127.0.0.1:{port}"
    _send(SmtpMailer(url, SENDER, ca_file=str(pki.ca_file)))
    assert [tls for _, tls in mailbox.delivered] == [True]
    assert b"See you on Monday." in mailbox.delivered[0][0]
    assert mailbox.logins == [(PASSWORD, True)]


@pytest.mark.parametrize("trusted", ["system store", "another CA"])
def test_implicit_tls_is_refused_with_an_untrusted_certificate(
    serve: Serve, pki: Pki, trusted: str
) -> None:
    mailbox, port = serve(ssl_context=pki.server_context(), auth_require_tls=False)
    ca_file = None if trusted == "system store" else str(pki.other_ca_file)
    mailer = SmtpMailer(f"smtps://{USER}:{PASSWORD}@127.0.0.1:{port}", SENDER, ca_file=ca_file)
    with pytest.raises(MailError, match="certificate we do not trust.*MAIL_CA_FILE"):
        _send(mailer)
    assert mailbox.delivered == []
    assert mailbox.logins == []


def test_starttls_delivers_when_the_servers_ca_is_trusted(serve: Serve, pki: Pki) -> None:
    mailbox, port = serve(tls_context=pki.server_context(), require_starttls=True)
    url = f"smtp://{USER}:{PASSWORD}@127.0.0.1:{port}"
    _send(SmtpMailer(url, SENDER, ca_file=str(pki.ca_file)))
    assert [tls for _, tls in mailbox.delivered] == [True]
    assert mailbox.logins == [(PASSWORD, True)]


def test_starttls_is_refused_with_an_untrusted_certificate(serve: Serve, pki: Pki) -> None:
    mailbox, port = serve(tls_context=pki.server_context())
    mailer = SmtpMailer(f"smtp://{USER}:{PASSWORD}@127.0.0.1:{port}", SENDER)
    with pytest.raises(MailError, match="certificate we do not trust"):
        _send(mailer)
    assert mailbox.delivered == []
    assert mailbox.logins == []


def test_starttls_without_credentials_is_still_verified(serve: Serve, pki: Pki) -> None:
    mailbox, port = serve(tls_context=pki.server_context())
    with pytest.raises(MailError, match="certificate we do not trust"):
        _send(SmtpMailer(f"smtp://127.0.0.1:{port}", SENDER))  # no silent fall-back to clear
    assert mailbox.delivered == []


def test_password_is_never_sent_to_a_server_without_starttls(serve: Serve, pki: Pki) -> None:
    # The server offers AUTH on the clear connection: only the mailer's refusal protects it.
    mailbox, port = serve(auth_require_tls=False)
    mailer = SmtpMailer(f"smtp://{USER}:{PASSWORD}@127.0.0.1:{port}", SENDER)
    with pytest.raises(MailError, match="offers no STARTTLS: the password is not sent"):
        _send(mailer)
    assert mailbox.logins == []
    assert mailbox.delivered == []


def test_a_relay_without_credentials_or_starttls_still_receives_mail(serve: Serve) -> None:
    mailbox, port = serve()
    _send(SmtpMailer(f"smtp://127.0.0.1:{port}", SENDER))
    assert [tls for _, tls in mailbox.delivered] == [False]
