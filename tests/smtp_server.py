"""Real SMTP servers for tests: aiosmtpd, through the project's mail sink (cchc.ops.mailsink), on a
free port of 127.0.0.1.

- `SmtpServer()` — plain SMTP that takes every message (the sink `make up` runs);
  `SmtpServer(refuse={address, …})` answers `550` to RCPT for those addresses (a mailbox that does
  not exist), and takes the others.
- `SmtpServer(security="starttls", certificate=…, credentials=(login, password))` — STARTTLS before
  anything else, then AUTH (LOGIN and PLAIN, or `mechanisms`) checked against the credentials: a
  wrong one is answered `535`, and no MAIL is taken without a login.
- `security="ssl"` — TLS from the first byte (implicit TLS, port 465), AUTH as above.

`with server:` — server.port, server.messages [(sender, recipients, EmailMessage)], server.logins
[(mechanism, login)] of the successful logins, server.tls (per message: the session's TLS
version, None if plain), server.raw (per message: the bytes received), server.refuse.

`make_certificate(folder)` writes a test CA and a server certificate it signed for localhost and
127.0.0.1 (with `cryptography`); clients trust the CA through SSL_CERT_FILE, which
ssl.create_default_context() reads, so nothing disables verification.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.smtp import AuthResult, LoginPassword

from cchc.ops.mailsink import MailSink, Sink


@dataclass(frozen=True)
class Certificate:
    ca: Path  # what the client trusts (SSL_CERT_FILE)
    cert: Path  # the server's chain
    key: Path


def make_certificate(folder: Path) -> Certificate:
    """A CA made for the test, and a server certificate it signed for localhost and 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("cchc test CA"))
        .issuer_name(name("cchc test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
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
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    out = Certificate(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    out.ca.write_bytes(ca.public_bytes(pem))
    out.cert.write_bytes(cert.public_bytes(pem) + ca.public_bytes(pem))
    out.key.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return out


class TestSink(Sink):
    """The sink, refusing RCPT for some addresses and checking logins."""

    __test__ = False  # not a pytest class

    def __init__(self, refuse: set[str], credentials: tuple[str, str] | None) -> None:
        super().__init__()
        self.refuse = set(refuse)
        self.credentials = credentials
        self.logins: list[tuple[str, str]] = []
        self.tls: list[str | None] = []  # per message taken: the TLS version of its session (None: plain)
        self.raw: list[bytes] = []  # per message taken: the bytes as received

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        tls = server.transport.get_extra_info("ssl_object")
        self.tls.append(tls.version() if tls else None)
        self.raw.append(envelope.original_content)
        return await super().handle_DATA(server, session, envelope)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        """aiosmtpd's authenticator: the login and password must be the server's, byte for byte."""
        given = (auth_data.login, auth_data.password) if isinstance(auth_data, LoginPassword) else None
        ok = self.credentials is not None and given == tuple(s.encode() for s in self.credentials)
        if ok:
            self.logins.append((mechanism, auth_data.login.decode()))
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


class SmtpServer(MailSink):
    def __init__(
        self,
        refuse: set[str] = frozenset(),
        *,
        security: str = "plain",
        certificate: Certificate | None = None,
        credentials: tuple[str, str] | None = None,
        mechanisms: tuple[str, ...] = ("LOGIN", "PLAIN"),
    ) -> None:
        handler = TestSink(refuse, credentials)
        options: dict = {}
        tls = None
        if security != "plain":
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(certificate.cert, certificate.key)
        if credentials is not None:
            options.update(
                authenticator=handler.authenticate,
                auth_required=True,
                auth_exclude_mechanism=[m for m in ("LOGIN", "PLAIN") if m not in mechanisms],
            )
        if security == "starttls":
            options.update(tls_context=tls, require_starttls=True)
            super().__init__(handler=handler, **options)
        elif security == "ssl":
            # aiosmtpd counts only STARTTLS as TLS for AUTH; here every byte is already encrypted.
            super().__init__(handler=handler, ssl_context=tls, auth_require_tls=False, **options)
        else:
            super().__init__(handler=handler, **options)

    @property
    def refuse(self) -> set[str]:
        return self.handler.refuse

    @property
    def logins(self) -> list[tuple[str, str]]:
        return self.handler.logins

    @property
    def tls(self) -> list[str | None]:
        return self.handler.tls

    @property
    def raw(self) -> list[bytes]:
        return self.handler.raw


__all__ = ["Certificate", "SmtpServer", "make_certificate"]
