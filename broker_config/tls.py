"""A private certificate authority for one office and the broker's server certificate, so devices on
the office LAN connect over TLS and check they talk to our broker (paho `tls_set(ca_certs=ca.crt)`).

Keys are ECDSA P-256: quick to make and to handshake on small kiosk boards. The certificates carry what
strict verifiers (Python 3.13's VERIFY_X509_STRICT) insist on: critical basic constraints and key usage,
subject and authority key identifiers, and the host names and addresses in subjectAltName.
Running `init_tls` again keeps the CA (devices already trust it) and issues a new server certificate.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .files import ensure_private_dir, write_private

log = logging.getLogger(__name__)

CA_VALIDITY = dt.timedelta(days=3650)
SERVER_VALIDITY = dt.timedelta(days=1825)
"""Five years: an office without IT staff should not lose its devices to an expiry; rerun `tls init`
to renew (the CA stays, so devices need nothing new)."""

ALWAYS_HOSTS: tuple[str, ...] = ("localhost",)
ALWAYS_IPS: tuple[str, ...] = ("127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """Where the broker's TLS material lives inside `{broker_dir}/tls/`."""

    dir: Path

    @property
    def ca_cert(self) -> Path:
        return self.dir / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.dir / "ca.key"

    @property
    def server_cert(self) -> Path:
        return self.dir / "server.crt"

    @property
    def server_key(self) -> Path:
        return self.dir / "server.key"

    def ready(self) -> bool:
        """True when the broker can open a TLS listener (CA, server certificate and key present)."""
        return self.ca_cert.exists() and self.server_cert.exists() and self.server_key.exists()


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """What `init_tls` made: the names in the server certificate and when it expires."""

    files: TlsFiles
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    not_after: dt.datetime
    new_ca: bool


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def create_ca(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A new self-signed CA that may sign server certificates only (path length 0)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue_server_cert(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    dns_names: Sequence[str],
    ip_addresses: Sequence[str],
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A server certificate for the broker, valid for every name and address given."""
    if not dns_names and not ip_addresses:
        raise ValueError("a server certificate needs at least one host name or address")
    key = ec.generate_private_key(ec.SECP256R1())
    common_name = dns_names[0] if dns_names else ip_addresses[0]
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    alt_names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
    now = _now()
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + SERVER_VALIDITY, ca_cert.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return tuple(seen)


def init_tls(
    tls_dir: Path,
    *,
    hosts: Sequence[str] = (),
    ips: Sequence[str] = (),
    ca_name: str = "Khiu office broker CA",
    new_ca: bool = False,
) -> IssuedCertificate:
    """Make (or keep) the office CA and issue a server certificate for `hosts` and `ips`, plus
    localhost, 127.0.0.1 and ::1. Invalid addresses raise ValueError before anything is written."""
    for address in ips:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise ValueError(f"ที่อยู่ IP {address!r} ไม่ถูกต้อง / {address!r} is not an IP address") from None
    files = TlsFiles(ensure_private_dir(tls_dir))
    dns_names = _unique([*hosts, *ALWAYS_HOSTS])
    ip_addresses = _unique([*ips, *ALWAYS_IPS])

    made_ca = new_ca or not (files.ca_cert.exists() and files.ca_key.exists())
    if made_ca:
        ca_key, ca_cert = create_ca(ca_name)
        write_private(files.ca_key, _private_pem(ca_key), broker_readable=False)
        write_private(files.ca_cert, ca_cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
        log.info("new CA written to %s", files.ca_cert)
    else:
        loaded = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{files.ca_key} is not an ECDSA key made by khiu; use --new-ca")
        ca_key = loaded
        ca_cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())

    server_key, server_cert = issue_server_cert(ca_key, ca_cert, dns_names, ip_addresses)
    write_private(files.server_key, _private_pem(server_key))
    write_private(files.server_cert, server_cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
    log.info(
        "server certificate for %s written to %s", ", ".join(dns_names + ip_addresses), files.server_cert
    )
    return IssuedCertificate(files, dns_names, ip_addresses, server_cert.not_valid_after_utc, made_ca)


def certificate_names(cert_path: Path) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) of a certificate's subjectAltName."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return san.get_values_for_type(x509.DNSName), [str(a) for a in san.get_values_for_type(x509.IPAddress)]
