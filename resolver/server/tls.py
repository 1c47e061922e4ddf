"""TLS for the stream listeners: contexts for DoT and DoH, certificates from files or made.

A deployment gives a certificate chain and its key as PEM files (``--tls-cert``,
``--tls-key``).  Without them :func:`self_signed` makes a fresh pair at start (ECDSA P-256,
valid for a day, for the listening address and ``localhost``): enough for the lab and the
tests, whose clients do not check the chain (``dig +tls`` does not unless given a CA).

The context allows TLS 1.2 and 1.3 only (RFC 7858 §3.2 and RFC 8484 §5.2 ask for at least
1.2) and offers one ALPN list: ``dot`` for DoT (RFC 7858 has no ALPN of its own; ``dot`` is
the IANA token RFC 8310 and RFC 9461 use), ``h2`` then ``http/1.1`` for DoH.  A client that
offers none of ours still gets through: TLS then names no protocol.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["ALPN_DOH", "ALPN_DOT", "TLSError", "KeyPair", "self_signed", "server_context",
           "write_pair"]

ALPN_DOT = ("dot",)
ALPN_DOH = ("h2", "http/1.1")
SELF_SIGNED_LIFETIME = datetime.timedelta(days=1)


class TLSError(ValueError):
    """A certificate or key that cannot be used; the message names the file."""


@dataclass(frozen=True)
class KeyPair:
    """A PEM certificate chain and its private key."""

    cert_pem: bytes
    key_pem: bytes


def self_signed(host: str = "127.0.0.1") -> KeyPair:
    """A fresh self-signed certificate for ``host`` (an address or a name) and localhost."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shadowdns candidate")])
    alt: list[x509.GeneralName] = [x509.DNSName("localhost")]
    try:
        alt.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        alt.append(x509.DNSName(host))
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + SELF_SIGNED_LIFETIME)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption()))


def server_context(alpn: tuple[str, ...], *, cert: Path | None = None, key: Path | None = None,
                   pair: KeyPair | None = None) -> ssl.SSLContext:
    """A server context for ``alpn`` with the chain from ``cert``/``key`` files or ``pair``.

    Raises :class:`TLSError` naming the file when the chain or key cannot be loaded.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(list(alpn))
    context.options |= ssl.OP_NO_COMPRESSION
    if cert is not None or key is not None:
        if cert is None or key is None:
            raise TLSError("--tls-cert and --tls-key go together")
        for flag, path in (("--tls-cert", cert), ("--tls-key", key)):
            if not path.is_file():
                raise TLSError(f"{flag}: {path} does not exist")
        try:
            context.load_cert_chain(cert, key)
        except (ssl.SSLError, OSError) as e:
            raise TLSError(f"--tls-cert {cert} / --tls-key {key}: cannot load the "
                           f"certificate and key: {e.strerror or e}") from None
        return context
    if pair is None:
        raise TLSError("a certificate is needed: --tls-cert and --tls-key")
    # load_cert_chain reads files only: the made pair goes through a private directory
    with tempfile.TemporaryDirectory(prefix="shadowdns-tls-") as tmp:
        context.load_cert_chain(*write_pair(pair, Path(tmp)))
    return context


def write_pair(pair: KeyPair, directory: Path) -> tuple[Path, Path]:
    """Write ``pair`` into ``directory`` (the key readable by us only); (cert, key) paths."""
    cert, key = directory / "self-signed.pem", directory / "self-signed.key"
    cert.write_bytes(pair.cert_pem)
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pair.key_pem)
    return cert, key
